//! Detection power: every planted defect of the reference pipeline is caught by a smoke scenario
//! within 3 seeds, and the failure names the right anomaly class. A failed run's bundle reproduces
//! the same verdict with `repro`.

use faultline_infra::BackendKind;
use faultline_report::{CheckStatus, RunReport, Verdict};
use faultline_runner::{repro, run_suite};

/// Defect → the smoke scenario that catches it → anomaly classes that count as "the right problem".
/// Every one was caught on every seed tried, locally and in CI, so CI gates on all of them. The
/// zombie of `no-fencing` is made by freezing a worker inside an open transaction (the fault's
/// `in_transaction`), not at a fixed time, so where the pause lands no longer decides the verdict.
pub const MATRIX: [(&str, &str, &[&str]); 6] = [
    ("commit-before-write", "smoke-2-kill-workers", &["lost"]),
    (
        "non-idempotent-insert",
        "smoke-1-records",
        &["wrong_balance"],
    ),
    ("no-fencing", "smoke-3-zombie", &["offset_overlap"]),
    (
        "drop-malformed",
        "smoke-1-records",
        &["missing_from_quarantine"],
    ),
    (
        "balance-outside-tx",
        "smoke-6-commit-in-doubt",
        &["wrong_balance"],
    ),
    (
        "ignore-revocation",
        "smoke-7-early-kill",
        &["lost", "offset_gap"],
    ),
];

fn classes(r: &RunReport) -> Vec<String> {
    r.checks
        .iter()
        .filter(|c| c.status == CheckStatus::Fail)
        .flat_map(|c| {
            c.failing_rows.iter().filter_map(|row| {
                row.get("class")
                    .and_then(|v| v.as_str())
                    .map(str::to_string)
            })
        })
        .collect()
}

/// Runs `scenario` with `defect` for up to 3 seeds; returns the first failing run and how many seeds it took.
async fn catch(defect: &str, scenario: &str, out: &std::path::Path) -> Option<(RunReport, u32)> {
    for k in 0..3u32 {
        let mut opts = crate::options(
            &format!("scenarios/smoke/{scenario}.toml"),
            BackendKind::Processes,
            &out.join(format!("seed{k}")),
        );
        opts.defect = Some(defect.into());
        let base = faultline_scenario::load::load(&opts.target)
            .unwrap()
            .workload
            .seed;
        opts.seed = Some(base + u64::from(k));
        let suite = run_suite(&opts).await.unwrap();
        let r = suite.runs.into_iter().next().unwrap();
        assert_ne!(
            r.verdict,
            Verdict::Error,
            "{defect} on {scenario}: the run errored: {:?}",
            r.error
        );
        if r.verdict == Verdict::Fail {
            return Some((r, k + 1));
        }
    }
    None
}

#[tokio::test(flavor = "multi_thread")]
async fn every_planted_defect_is_caught_within_three_seeds_with_the_right_anomaly() {
    assert_caught(&MATRIX).await;
}

#[test]
fn every_planted_defect_has_a_scenario_that_catches_it() {
    let mut listed: Vec<&str> = MATRIX.iter().map(|(d, _, _)| *d).collect();
    let mut planted = faultline_pipeline::defects::Defect::NAMES.to_vec();
    listed.sort_unstable();
    planted.sort_unstable();
    assert_eq!(listed, planted);
}

async fn assert_caught(matrix: &[(&str, &str, &[&str])]) {
    let out = tempfile::tempdir().unwrap();
    let mut table = Vec::new();
    for &(defect, scenario, expected) in matrix {
        let (r, seeds) = catch(defect, scenario, &out.path().join(defect))
            .await
            .unwrap_or_else(|| panic!("{defect} was not caught by {scenario} within 3 seeds"));
        let found = classes(&r);
        assert!(
            found.iter().any(|c| expected.contains(&c.as_str())),
            "{defect}: failing classes {found:?}, expected one of {expected:?}"
        );
        // The failing rows name keys and, for positional anomalies, where the record was.
        let row = r
            .failed_checks()
            .flat_map(|c| &c.failing_rows)
            .next()
            .unwrap();
        assert!(
            row.get("key")
                .and_then(|k| k.as_str())
                .is_some_and(|k| !k.is_empty()),
            "{defect}: a failing row without a key: {row:?}"
        );
        assert!(r.bundle.is_some(), "{defect}: no bundle kept");
        assert!(
            r.repro.contains(&format!("--defect {defect}"))
                && r.repro.contains(&format!("--seed {}", r.seed)),
            "{}",
            r.repro
        );
        table.push(format!(
            "{defect} → {scenario} (seed {}, {seeds} seed(s)): {}",
            r.seed,
            found.first().unwrap()
        ));
    }
    eprintln!("detection matrix:\n  {}", table.join("\n  "));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_runs_bundle_reproduces_the_same_verdict() {
    let out = tempfile::tempdir().unwrap();
    let (first, _) = catch("drop-malformed", "smoke-1-records", out.path())
        .await
        .expect("drop-malformed is caught");
    let bundle = std::path::PathBuf::from(first.bundle.clone().unwrap());
    for f in [
        "scenario.toml",
        "meta.json",
        "plan.json",
        "workload.jsonl",
        "timeline.json",
        "anomalies.json",
        "report.json",
        "logs",
    ] {
        assert!(bundle.join(f).exists(), "bundle lacks {f}");
    }
    let mut opts = crate::options(
        "scenarios/smoke",
        BackendKind::Processes,
        &out.path().join("repro"),
    );
    opts.backend = None; // taken from the bundle
    let (suite, was) = repro(&bundle, &opts).await.unwrap();
    let again = &suite.runs[0];
    assert_eq!(was, Verdict::Fail);
    assert_eq!(again.verdict, Verdict::Fail);
    assert_eq!(
        again.stats.workload_digest, first.stats.workload_digest,
        "the rerun sent other bytes"
    );
    let quarantine = |r: &RunReport| {
        r.checks
            .iter()
            .find(|c| c.name == "quarantine")
            .map(|c| c.failing_total)
    };
    assert_eq!(
        quarantine(again),
        quarantine(&first),
        "the rerun found a different number of anomalies"
    );
    assert!(quarantine(again).unwrap() > 0);
}
