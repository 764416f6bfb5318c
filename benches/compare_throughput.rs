//! `faultline compare` on a 1M-row labelled dataset: both shipped models scored and compared with
//! 1,000 paired bootstrap resamples, McNemar's test and the policy. Baseline in the same run: scoring
//! the same rows with both models and nothing else, so the ratio is what the statistics cost on top.

use std::path::Path;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use faultline_benches::{median, report_ratio};
use faultline_models::{compare, load_model, Dataset, Policy};

const ROWS: usize = 1_000_000;

fn bench(c: &mut Criterion) {
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("../golden/models");
    let champion = load_model(golden.join("champion.json")).expect("champion model");
    let challenger = load_model(golden.join("challenger.onnx")).expect("challenger model");
    let mut policy = Policy::load(golden.join("policy.toml")).expect("policy");
    policy.resamples = 1000;
    let t = Instant::now();
    let dataset = Dataset::from_rows(
        "generated-1M",
        faultline_models::generate::generate_rows(ROWS, 7),
    );
    println!(
        "generated {ROWS} rows in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    let (mut full, mut scoring) = (Vec::new(), Vec::new());
    let mut group = c.benchmark_group("compare_1m_rows");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(1))
        .measurement_time(Duration::from_secs(60));
    group.bench_function("score_both_models", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| {
                    let t = Instant::now();
                    let a = champion.score_matrix(dataset.features()).unwrap();
                    let b = challenger.score_matrix(dataset.features()).unwrap();
                    assert_eq!(a.len() + b.len(), 2 * ROWS);
                    let d = t.elapsed();
                    scoring.push(d);
                    d
                })
                .sum()
        })
    });
    group.bench_function("compare_with_1000_resamples", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| {
                    let t = Instant::now();
                    let r = compare(
                        champion.as_ref(),
                        challenger.as_ref(),
                        &dataset,
                        &policy,
                        42,
                    )
                    .unwrap();
                    assert_eq!(r.n, ROWS);
                    let d = t.elapsed();
                    full.push(d);
                    d
                })
                .sum()
        })
    });
    group.finish();
    let (f, s) = (median(full), median(scoring));
    println!(
        "COMPARE 1M rows: full comparison {:.0} rows/s ({:.2} s), scoring alone {:.0} rows/s ({:.2} s)",
        ROWS as f64 / f.as_secs_f64(),
        f.as_secs_f64(),
        ROWS as f64 / s.as_secs_f64(),
        s.as_secs_f64()
    );
    report_ratio("compare_1m_rows/full vs scoring alone (time)", f, s);
}

criterion_group!(benches, bench);
criterion_main!(benches);
