//! Time to recover of the reference pipeline, per fault kind: `kill_worker`, `pause_worker`,
//! `scale_workers`, `kill_broker` and `restart_postgres`, one scenario each
//! (`benches/recovery/*.toml`: 1,000 records/s for 24 s, the fault 6 s in), on the processes
//! backend, a few seeds each. Prints p50 and p95 (nearest rank) of each kind's `time_to_recover`
//! (see `faultline_report::recovery`), counting a fault that never recovered as slower than any
//! that did, with the longest commit stall and the runs' verdicts beside it.
//!
//! No criterion and no same-run baseline: one sample is a whole scenario run (about 40 s), and the
//! figure is compared across pipeline settings (before/after in BENCHMARKS.md), not against a
//! cheaper operation. Repetitions: 3 seeds per kind by default (about 10 minutes); more with
//! `--reps N` after `--` or `FAULTLINE_RECOVERY_REPS=N`. `FAULTLINE_RECOVERY_OUT=<dir>` keeps the
//! reports (report.json, report.html) instead of a temporary directory.
//! `--group-protocol consumer` after `--` (or `FAULTLINE_RECOVERY_GROUP_PROTOCOL=consumer`) runs the
//! workers with KIP-848's consumer group protocol instead of the classic one.
//!
//! Needs the release worker: `cargo build --release --bins` first.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use faultline_infra::BackendKind;
use faultline_report::{Recovery, SuiteReport};
use faultline_runner::{run_suite, GroupProtocol, SuiteOptions};

const DEFAULT_REPS: u32 = 3;

/// One fault's figure: a time to recover, or never; never sorts after every time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Figure {
    Ms(u64),
    Never,
}

impl std::fmt::Display for Figure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Figure::Ms(ms) => write!(f, "{:.1} s", *ms as f64 / 1000.0),
            Figure::Never => f.write_str("not recovered"),
        }
    }
}

/// What one fault kind showed over every run.
#[derive(Debug, Default)]
struct Kind {
    figures: Vec<Figure>,
    /// The longest stall of each run with this kind, ms.
    stalls: Vec<u64>,
    verdicts: BTreeMap<&'static str, u32>,
}

fn reps() -> u32 {
    option("--reps", "FAULTLINE_RECOVERY_REPS")
        .map(|v| {
            v.parse::<u32>()
                .expect("--reps / FAULTLINE_RECOVERY_REPS takes a number")
        })
        .unwrap_or(DEFAULT_REPS)
        .max(1)
}

/// The value after `flag` on the command line, else the variable `env`, if either is given.
fn option(flag: &str, env: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == flag)
        .and_then(|i| args.get(i + 1).cloned())
        .or_else(|| std::env::var(env).ok())
}

fn group_protocol() -> GroupProtocol {
    option("--group-protocol", "FAULTLINE_RECOVERY_GROUP_PROTOCOL").map_or(
        GroupProtocol::Classic,
        |v| {
            v.parse().unwrap_or_else(|e| {
                panic!("--group-protocol / FAULTLINE_RECOVERY_GROUP_PROTOCOL: {e}")
            })
        },
    )
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("benches/ has a parent")
        .to_path_buf()
}

/// The runner starts `ledger-worker` from next to this binary (`target/release`).
fn require_release_worker() {
    let exe = std::env::current_exe().expect("current exe");
    let found = exe
        .ancestors()
        .skip(1)
        .take(2)
        .any(|d| d.join("ledger-worker").is_file());
    assert!(
        found,
        "ledger-worker is missing next to {}: run `cargo build --release --bins` first",
        exe.display()
    );
}

/// Nearest-rank percentile `p` (0..=100) of sorted `xs`.
fn percentile<T: Copy>(sorted: &[T], p: u32) -> T {
    let rank = (p as usize * sorted.len()).div_ceil(100).max(1);
    sorted[rank - 1]
}

fn tally(suite: &SuiteReport) -> BTreeMap<String, Kind> {
    let mut kinds: BTreeMap<String, Kind> = BTreeMap::new();
    for run in &suite.runs {
        let stall = faultline_report::stall::longest(&run.stalls).map_or(0, |s| s.duration_ms());
        for f in &run.faults {
            let k = kinds.entry(f.kind.clone()).or_default();
            *k.verdicts.entry(run.verdict.as_str()).or_default() += 1;
            k.stalls.push(stall);
            match f.time_to_recover {
                Some(Recovery::Recovered { ms }) => k.figures.push(Figure::Ms(ms)),
                Some(Recovery::NotRecovered { .. }) => k.figures.push(Figure::Never),
                // Skipped: it acted on nothing, so there is nothing to time.
                None => eprintln!("  {} in {}: {}", f.id, run.label(), f.outcome),
            }
        }
    }
    kinds
}

fn main() {
    require_release_worker();
    let reps = reps();
    let protocol = group_protocol();
    let kept = std::env::var("FAULTLINE_RECOVERY_OUT")
        .ok()
        .map(PathBuf::from);
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = kept.clone().unwrap_or_else(|| tmp.path().to_path_buf());
    let opts = SuiteOptions {
        target: repo().join("benches/recovery"),
        prefix: None,
        seed: None,
        seeds: reps,
        repeat: 1,
        golden: false,
        outcome_lines: true,
        backend: Some(BackendKind::Processes),
        defect: None,
        group_protocol: Some(protocol),
        out: out.clone(),
        shard: None,
        progress: false,
        pipeline: None,
    };
    let t = Instant::now();
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    let suite = rt.block_on(run_suite(&opts)).expect("the recovery suite");
    let took = t.elapsed();
    println!(
        "RECOVERY {} runs, {reps} seed(s) per kind, processes backend, group protocol {protocol}, {:.0} s in all{}",
        suite.runs.len(),
        took.as_secs_f64(),
        kept.map(|d| format!("; reports in {}", d.display()))
            .unwrap_or_default()
    );
    println!("| fault kind | runs | p50 time to recover | p95 | every run | longest stall (median) | verdicts |");
    println!("|---|---:|---:|---:|---|---:|---|");
    for (kind, mut k) in tally(&suite) {
        let every: Vec<String> = k.figures.iter().map(Figure::to_string).collect();
        k.figures.sort();
        k.stalls.sort();
        let (p50, p95) = if k.figures.is_empty() {
            ("–".to_string(), "–".to_string())
        } else {
            (
                percentile(&k.figures, 50).to_string(),
                percentile(&k.figures, 95).to_string(),
            )
        };
        let verdicts: Vec<String> = k.verdicts.iter().map(|(v, n)| format!("{v} {n}")).collect();
        println!(
            "| {kind} | {} | {p50} | {p95} | {} | {:.1} s | {} |",
            k.figures.len(),
            every.join(", "),
            percentile(&k.stalls, 50) as f64 / 1000.0,
            verdicts.join(", ")
        );
    }
}
