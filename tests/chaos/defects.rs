//! Detection power: every planted defect of the reference pipeline is caught by the smoke
//! scenario(s) its row of `tests/chaos/defects.toml` names, within 3 seeds, and the failure names
//! one of the row's anomaly classes. CI gates on the rows with `gate = "ci"`; `ci/nightly.sh` runs
//! them all. A failed run's bundle reproduces the same verdict with `repro`.

mod matrix;

use faultline_infra::BackendKind;
use faultline_report::{CheckStatus, RunReport, Verdict};
use faultline_runner::{repro, run_suite, GroupProtocol};

use matrix::{Gate, Row};

/// Narrows the CI matrix test to one defect, for a developer checking the row they just added
/// (`FAULTLINE_ONLY_DEFECT=no-fencing cargo test --test chaos every_planted_defect`). CI never sets it.
const ONLY: &str = "FAULTLINE_ONLY_DEFECT";

/// Runs `scenario` with `defect` for up to 3 seeds; returns the first failing run and how many seeds it took.
async fn catch(defect: &str, scenario: &str, out: &std::path::Path) -> Option<(RunReport, u32)> {
    catch_within(defect, scenario, out, None, 3).await
}

/// [`catch`] under the group protocol `protocol` (the scenario's own when `None`), for up to
/// `seeds` seeds.
async fn catch_within(
    defect: &str,
    scenario: &str,
    out: &std::path::Path,
    protocol: Option<GroupProtocol>,
    seeds: u32,
) -> Option<(RunReport, u32)> {
    for k in 0..seeds {
        let mut opts = crate::options(
            &matrix::scenario_path(scenario),
            BackendKind::Processes,
            &out.join(format!("seed{k}")),
        );
        opts.defect = Some(defect.into());
        opts.group_protocol = protocol;
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
    let mut rows: Vec<Row> = matrix::load()
        .into_iter()
        .filter(|r| r.gate == Gate::Ci)
        .collect();
    if let Ok(only) = std::env::var(ONLY) {
        rows.retain(|r| r.name == only);
        assert!(
            !rows.is_empty(),
            "{ONLY}={only}: no CI-gated row of that name"
        );
    }
    assert_caught(&rows).await;
}

/// The defects that break partition ownership (the offset fence, revocation) are caught under the
/// KIP-848 `consumer` group protocol too, where assignment is incremental and members have epochs
/// instead of generations: each by its matrix row's first scenario, on that scenario's own seed.
/// (The other defects do not depend on the group protocol; the suites on containers run every
/// shipped scenario under `consumer`.)
#[tokio::test(flavor = "multi_thread")]
async fn ownership_defects_are_caught_under_the_consumer_group_protocol() {
    let out = faultline_tests::OutputDir::new();
    for defect in ["no-fencing", "ignore-revocation"] {
        let row = matrix::row(defect);
        let scenario = &row.scenarios[0];
        let dir = out.path().join(defect);
        let (r, _) = catch_within(defect, scenario, &dir, Some(GroupProtocol::Consumer), 1)
            .await
            .unwrap_or_else(|| panic!("{defect} was not caught by {scenario} under consumer"));
        assert_eq!(r.group_protocol, "consumer");
        assert!(r.repro.contains("--group-protocol consumer"), "{}", r.repro);
        let line = assert_right_failure(defect, scenario, &row.classes, &r, 1);
        eprintln!("under consumer: {line}");
    }
}

async fn assert_caught(rows: &[Row]) {
    let out = faultline_tests::OutputDir::new();
    let mut table = Vec::new();
    for row in rows {
        for scenario in &row.scenarios {
            let defect = row.name.as_str();
            let dir = out.path().join(defect).join(scenario);
            let (r, seeds) = catch(defect, scenario, &dir)
                .await
                .unwrap_or_else(|| panic!("{defect} was not caught by {scenario} within 3 seeds"));
            table.push(assert_right_failure(
                defect,
                scenario,
                &row.classes,
                &r,
                seeds,
            ));
            assert_declarations_agree(defect, &row.declared, &r);
        }
    }
    eprintln!("detection matrix:\n  {}", table.join("\n  "));
}

/// Checks a caught run: a failing check reports one of `expected`, rows name keys, a bundle is kept
/// and the repro line names the defect and seed. Returns the run's line of the printed matrix.
fn assert_right_failure(
    defect: &str,
    scenario: &str,
    expected: &[String],
    r: &RunReport,
    seeds: u32,
) -> String {
    let found = r.anomaly_classes();
    assert!(
        found.iter().any(|c| expected.contains(c)),
        "{defect}: failing classes {found:?}, expected one of {expected:?}"
    );
    // The rows of the expected anomaly name keys and, for positional anomalies, where the record
    // was. (Rows of other failing checks, such as `caught_up` when the defect also stalls the
    // pipeline, are per partition and carry no key.)
    let row = r
        .failed_checks()
        .flat_map(|c| &c.failing_rows)
        .find(|row| {
            row.get("class")
                .and_then(|c| c.as_str())
                .is_some_and(|c| expected.iter().any(|e| e == c))
        })
        .expect("a row of the expected class");
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
    format!(
        "{defect} → {scenario} (seed {}, {seeds} seed(s)): {}",
        r.seed,
        found.first().unwrap()
    )
}

/// The ledger manifest's declarations (`[expect]`) judge the same run as its oracle: they must
/// report one of the row's `declared` classes, or, for a row without any, say nothing the oracle
/// does not (the offsets stay code).
fn assert_declarations_agree(defect: &str, declared: &[String], r: &RunReport) {
    let from_declarations: Vec<String> = r
        .checks
        .iter()
        .filter(|c| c.status == CheckStatus::Fail)
        .filter(|c| c.name == "expectations" || c.name == "dead_letters")
        .flat_map(|c| {
            c.failing_rows
                .iter()
                .filter_map(|row| row.get("class").and_then(|v| v.as_str()))
                .map(str::to_string)
        })
        .collect();
    let expectations = r.checks.iter().find(|c| c.name == "expectations");
    assert!(
        expectations.is_some(),
        "{defect}: the ledger manifest's [expect] made no expectations check"
    );
    if declared.is_empty() {
        return;
    }
    assert!(
        from_declarations.iter().any(|c| declared.contains(c)),
        "{defect}: the declarations reported {from_declarations:?}, expected one of {declared:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_runs_bundle_reproduces_the_same_verdict() {
    let out = faultline_tests::OutputDir::new();
    let scenario = &matrix::row("drop-malformed").scenarios[0];
    let (first, _) = catch("drop-malformed", scenario, out.path())
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
