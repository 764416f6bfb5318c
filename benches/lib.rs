//! Shared helpers for the criterion benches: every bench measures a baseline in the same run and
//! prints the ratio, because absolute times on a shared 2-core machine move from run to run.

use std::time::Duration;

/// Prints `label: subject / baseline = ratio` in a form BENCHMARKS.md quotes.
pub fn report_ratio(label: &str, subject: Duration, baseline: Duration) {
    let ratio = subject.as_secs_f64() / baseline.as_secs_f64().max(1e-9);
    println!(
        "RATIO {label}: {:.3} s / baseline {:.3} s = {ratio:.2}x",
        subject.as_secs_f64(),
        baseline.as_secs_f64()
    );
}

/// Median of a set of durations.
pub fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs.get(xs.len() / 2).copied().unwrap_or_default()
}
