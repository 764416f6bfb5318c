//! `faultline compare` on 1M rows with 1,000 paired bootstrap resamples, three ways:
//!
//! 1. the model path: both shipped models scored and compared (McNemar, policy), against scoring
//!    alone in the same run, so the ratio is what the statistics cost on top;
//! 2. the `--scores` path: a 1M-row scores CSV read and compared, against a vectorised numpy paired
//!    bootstrap of the same metrics reading the same file (`compare_numpy.py`, numpy from
//!    `benches/requirements.txt` in a venv that `ci/bench-python.sh` keeps), run side by side;
//! 3. the row bootstrap (`--bootstrap rows`, the reference), once with 100 resamples, scaled by 10
//!    (its cost is linear in them), for the ratio the count bootstrap buys.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use faultline_benches::{median, report_ratio};
use faultline_models::{
    compare, compare_scores, load_model, score_dataset, Dataset, ModelScores, Policy, Resampling,
    RowScores, ScoreColumns,
};

const ROWS: usize = 1_000_000;
const RESAMPLES: usize = 1000;
/// numpy runs; its figure is the median.
const NUMPY_RUNS: usize = 3;

fn bench(c: &mut Criterion) {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let golden = repo.join("golden/models");
    let champion = load_model(golden.join("champion.json")).expect("champion model");
    let challenger = load_model(golden.join("challenger.onnx")).expect("challenger model");
    let mut policy = Policy::load(golden.join("policy.toml")).expect("policy");
    policy.resamples = RESAMPLES;
    policy.bootstrap = Resampling::Counts;
    let t = Instant::now();
    let dataset = Dataset::from_rows(
        "generated-1M",
        faultline_models::generate::generate_rows(ROWS, 7),
    );
    println!(
        "generated {ROWS} rows in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let thresholds = (champion.threshold(), challenger.threshold());
    let dir = std::env::temp_dir().join(format!("faultline-bench-compare-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let csv = dir.join("scores.csv");
    let scored = score_dataset(champion.as_ref(), challenger.as_ref(), &dataset).unwrap();
    scored
        .write_csv(champion.threshold(), challenger.threshold(), &csv)
        .unwrap();

    let (mut full, mut scoring, mut from_csv) = (Vec::new(), Vec::new(), Vec::new());
    let mut group = c.benchmark_group("compare_1m_rows");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(1))
        .measurement_time(Duration::from_secs(20));
    let timed = |samples: &mut Vec<Duration>, f: &dyn Fn()| {
        let t = Instant::now();
        f();
        let d = t.elapsed();
        samples.push(d);
        d
    };
    group.bench_function("score_both_models", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| {
                    timed(&mut scoring, &|| {
                        let a = champion.score_matrix(dataset.features()).unwrap();
                        let b = challenger.score_matrix(dataset.features()).unwrap();
                        assert_eq!(a.len() + b.len(), 2 * ROWS);
                    })
                })
                .sum()
        })
    });
    group.bench_function("compare_with_1000_resamples", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| {
                    timed(&mut full, &|| {
                        let r = compare(
                            champion.as_ref(),
                            challenger.as_ref(),
                            &dataset,
                            &policy,
                            42,
                        )
                        .unwrap();
                        assert_eq!(r.n, ROWS);
                    })
                })
                .sum()
        })
    });
    group.bench_function("scores_csv_read_and_compare", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| timed(&mut from_csv, &|| compare_csv(&csv, thresholds, &policy)))
                .sum()
        })
    });
    group.finish();

    let (f, s, x) = (median(full), median(scoring), median(from_csv));
    println!(
        "COMPARE 1M rows: full comparison {:.0} rows/s ({:.2} s), scoring alone {:.0} rows/s ({:.2} s)",
        ROWS as f64 / f.as_secs_f64(),
        f.as_secs_f64(),
        ROWS as f64 / s.as_secs_f64(),
        s.as_secs_f64()
    );
    report_ratio("compare_1m_rows/full vs scoring alone (time)", f, s);
    println!(
        "COMPARE --scores 1M rows x {RESAMPLES} resamples, reading the CSV: {:.3} s",
        x.as_secs_f64()
    );
    match numpy_seconds(&repo, &csv, champion.threshold(), challenger.threshold()) {
        Ok(numpy) => report_ratio(
            "compare_1m_rows/faultline --scores vs numpy (time, both reading the CSV)",
            x,
            numpy,
        ),
        Err(e) => println!("NUMPY skipped: {e}"),
    }

    // The row bootstrap's cost is linear in resamples; a tenth of them keeps the bench short.
    let mut reference = policy.clone();
    reference.bootstrap = Resampling::Rows;
    reference.resamples = RESAMPLES / 10;
    let t = Instant::now();
    compare_csv(&csv, thresholds, &reference);
    let rows = t.elapsed() * 10;
    println!(
        "COMPARE --scores --bootstrap rows (reference), {} resamples x 10: {:.1} s",
        reference.resamples,
        rows.as_secs_f64()
    );
    report_ratio("compare_1m_rows/counts vs rows bootstrap (time)", x, rows);
    let _ = std::fs::remove_dir_all(&dir);
}

/// `faultline compare --scores` minus the outputs: read the CSV, compare at the shipped models'
/// thresholds.
fn compare_csv(csv: &Path, thresholds: (f64, f64), policy: &Policy) {
    let rows = RowScores::load(csv, &ScoreColumns::default()).unwrap();
    let side = |threshold, scores| ModelScores {
        version: "bench",
        format: "scores",
        threshold,
        scores,
    };
    let r = compare_scores(
        side(thresholds.0, &rows.champion),
        side(thresholds.1, &rows.challenger),
        &rows.labels,
        "bench",
        policy,
        42,
    );
    assert_eq!(r.n, ROWS);
}

/// The median over [`NUMPY_RUNS`] of the numpy baseline's own timer (reading the CSV and the
/// bootstrap, not the interpreter's start-up), after printing its first run's intervals.
fn numpy_seconds(repo: &Path, csv: &Path, t_a: f64, t_b: f64) -> Result<Duration, String> {
    let out = Command::new("bash")
        .arg(repo.join("ci/bench-python.sh"))
        .output()
        .map_err(|e| format!("ci/bench-python.sh: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "ci/bench-python.sh failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let python = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let mut times = Vec::new();
    for run in 0..NUMPY_RUNS {
        let out = Command::new(&python)
            .arg(repo.join("benches/compare_numpy.py"))
            .arg(csv)
            .args([t_a.to_string(), t_b.to_string(), RESAMPLES.to_string()])
            .output()
            .map_err(|e| format!("{python}: {e}"))?;
        let text = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() {
            return Err(format!(
                "compare_numpy.py: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        if run == 0 {
            print!("{text}");
        }
        let seconds: f64 = text
            .split_whitespace()
            .find_map(|w| w.strip_prefix("seconds="))
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("no seconds= in {text}"))?;
        times.push(Duration::from_secs_f64(seconds));
    }
    Ok(median(times))
}

criterion_group!(benches, bench);
criterion_main!(benches);
