//! `faultline hunt`: the first failing seed of a range.
//!
//! `parallel` searchers each keep a stack of their own (a [`Session`]) and take the next untried
//! seed in turn; once a seed fails, no searcher starts a seed above it, so the lowest failing seed
//! is found whatever order the runs end in. Each seed's suite goes to `<out>/seeds/<seed>/`, with a
//! bundle when it fails; the suite reports in `<out>` hold every run and the hunt's summary.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use faultline_infra::errln;
use faultline_report::{Hunt, HuntedSeed, RunReport, SuiteReport, Verdict};

use crate::error::{Result, RunnerError};
use crate::suite::{execute_in, Job, Session, SuiteOptions};

/// Runs at the same time by default: one per two cores (a run is a Kafka broker, Postgres and the
/// pipeline's workers), at least one and at most four.
pub fn default_parallel() -> u32 {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get() as u32);
    (cores / 2).clamp(1, 4)
}

/// Which seeds, and how many at once.
#[derive(Debug, Clone)]
pub struct HuntOptions {
    /// First and last seed, inclusive.
    pub first: u64,
    pub last: u64,
    pub parallel: u32,
}

/// `A..B` (inclusive, as the CLI writes it) into the first and last seed.
pub fn parse_seed_range(s: &str) -> std::result::Result<(u64, u64), String> {
    let bad = || format!("`{s}` is not a seed range; expected A..B with A <= B, e.g. 1..50");
    let (a, b) = s.split_once("..").ok_or_else(bad)?;
    let (a, b) = (
        a.trim().parse::<u64>().map_err(|_| bad())?,
        b.trim().parse::<u64>().map_err(|_| bad())?,
    );
    if a > b {
        return Err(bad());
    }
    Ok((a, b))
}

/// Runs the scenario file `opts.target` with seeds `h.first..=h.last` until the lowest failing
/// seed is known.
pub async fn hunt(opts: &SuiteOptions, h: &HuntOptions) -> Result<SuiteReport> {
    if h.parallel == 0 {
        return Err(RunnerError::Usage(
            "--parallel 0: at least one run must go at a time; e.g. --parallel 1".into(),
        ));
    }
    if !opts.target.is_file() {
        return Err(RunnerError::Usage(format!(
            "{}: hunt takes one scenario file (.toml), not a directory",
            opts.target.display()
        )));
    }
    let file = opts.target.clone();
    let mut scenario = faultline_scenario::load::load(&file)?;
    scenario.resolve_paths(file.parent().unwrap_or(Path::new(".")));
    std::fs::create_dir_all(&opts.out).map_err(|e| RunnerError::Io {
        path: opts.out.clone(),
        source: e,
    })?;
    let _lock = crate::suite::OutLock::acquire(&opts.out)?;
    let started_at = crate::suite::now_rfc3339();
    let t0 = std::time::Instant::now();
    let next = AtomicU64::new(h.first);
    let lowest_failing = AtomicU64::new(u64::MAX);
    let searchers = (0..h.parallel.min((h.last - h.first + 1) as u32)).map(|_| async {
        let mut session = Session::new();
        let mut found: Vec<(u64, RunReport)> = Vec::new();
        let mut error = None;
        loop {
            let seed = next.fetch_add(1, Ordering::SeqCst);
            if seed > h.last || seed > lowest_failing.load(Ordering::SeqCst) {
                break;
            }
            let mut o = opts.clone();
            o.out = opts.out.join(format!("seeds/{seed}"));
            o.progress = opts.progress && h.parallel == 1;
            o.golden = false;
            o.outcome_lines = h.parallel == 1 && opts.outcome_lines;
            o.repeat = 1;
            let job = Job {
                file: file.clone(),
                scenario: scenario.clone(),
                seed,
                workload: None,
                plan: None,
            };
            match execute_in(&mut session, vec![job], &o, &mut |_: &[RunReport]| false).await {
                Ok(mut suite) => {
                    let run = suite.runs.remove(0);
                    errln!(
                        "hunt: seed {seed}: {}{}",
                        run.verdict.as_str(),
                        run.bundle
                            .as_ref()
                            .map(|b| format!(" (bundle {b})"))
                            .unwrap_or_default()
                    );
                    if run.verdict == Verdict::Fail {
                        lowest_failing.fetch_min(seed, Ordering::SeqCst);
                    }
                    found.push((seed, run));
                }
                Err(e) => {
                    error = Some(e);
                    // Stop the others too: the scenario or the flags are wrong for every seed.
                    next.store(u64::MAX, Ordering::SeqCst);
                    break;
                }
            }
        }
        session.close().await;
        (found, error)
    });
    let results = futures::future::join_all(searchers).await;
    let mut runs: Vec<(u64, RunReport)> = Vec::new();
    for (found, error) in results {
        if let Some(e) = error {
            return Err(e);
        }
        runs.extend(found);
    }
    runs.sort_by_key(|(seed, _)| *seed);
    let first_failing = runs
        .iter()
        .find(|(_, r)| r.verdict == Verdict::Fail)
        .map(|(s, _)| *s);
    let summary = Hunt {
        scenario: scenario.name.clone(),
        seeds: [h.first, h.last],
        parallel: h.parallel,
        tried: runs
            .iter()
            .map(|(seed, r)| HuntedSeed {
                seed: *seed,
                verdict: r.verdict,
                classes: r.anomaly_classes(),
                bundle: r.bundle.clone(),
            })
            .collect(),
        first_failing,
    };
    let mut suite = SuiteReport::new(
        file.display().to_string(),
        started_at,
        t0.elapsed().as_millis() as u64,
        runs.into_iter().map(|(_, r)| r).collect(),
    );
    suite.hunt = Some(summary);
    faultline_report::write_all(&suite, &opts.out)?;
    Ok(suite)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_ranges_are_inclusive_and_refuse_nonsense() {
        assert_eq!(parse_seed_range("1..50"), Ok((1, 50)));
        assert_eq!(parse_seed_range("7..7"), Ok((7, 7)));
        for bad in ["9..1", "1-5", "a..b", "..3", "1.."] {
            let e = parse_seed_range(bad).unwrap_err();
            assert!(e.contains("expected A..B"), "{bad}: {e}");
        }
        let p = default_parallel();
        assert!((1..=4).contains(&p));
    }
}
