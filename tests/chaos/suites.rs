//! The shipped scenarios pass against the correct pipeline, on both backends, and the reports say so.
//! The containers runs use the KIP-848 `consumer` group protocol and the processes runs the classic
//! one, so both protocols are covered without running every scenario twice.

use faultline_infra::BackendKind;
use faultline_report::{CheckStatus, SuiteReport, Verdict};
use faultline_runner::{run_suite, GroupProtocol, SuiteOptions};

/// The options for `target` on `backend`, with the group protocol the backend's suites use:
/// `consumer` on containers, `classic` (the scenarios' default) on processes.
fn suite_options(target: &str, backend: BackendKind, out: &std::path::Path) -> SuiteOptions {
    SuiteOptions {
        group_protocol: (backend == BackendKind::Containers).then_some(GroupProtocol::Consumer),
        ..crate::options(target, backend, out)
    }
}

/// Every run joined its group with the protocol the options asked for, and says so.
fn assert_protocol(suite: &SuiteReport, opts: &SuiteOptions) {
    let want = opts.group_protocol.unwrap_or_default().to_string();
    for r in &suite.runs {
        assert_eq!(r.group_protocol, want, "{}", r.scenario);
        let flag = format!("--group-protocol {want}");
        assert_eq!(r.repro.contains(&flag), want != "classic", "{}", r.repro);
    }
}

/// Every run passed, committed everything it produced, and ran every check; prints failures.
fn assert_all_passed(suite: &SuiteReport, min_runs: usize) {
    assert!(
        suite.runs.len() >= min_runs,
        "only {} runs",
        suite.runs.len()
    );
    for r in &suite.runs {
        let failed: Vec<String> = r
            .checks
            .iter()
            .filter(|c| c.status == CheckStatus::Fail)
            .map(|c| format!("{}: {}", c.name, c.detail))
            .collect();
        assert_eq!(
            r.verdict,
            Verdict::Pass,
            "{} seed {}: {:?} {:?}",
            r.scenario,
            r.seed,
            r.error,
            failed
        );
        assert_eq!(
            r.stats.committed, r.stats.produced,
            "{}: committed {} of {}",
            r.scenario, r.stats.committed, r.stats.produced
        );
        for name in [
            "no_loss",
            "no_duplicates",
            "balances",
            "quarantine",
            "lineage",
            "offsets",
            "caught_up",
            "dead_letters",
        ] {
            let c = r
                .checks
                .iter()
                .find(|c| c.name == name)
                .unwrap_or_else(|| panic!("{}: no check {name}", r.scenario));
            assert_eq!(
                c.status,
                CheckStatus::Pass,
                "{}: {name}: {}",
                r.scenario,
                c.detail
            );
        }
        // Kills, pauses and zombies never repeat a dead letter of the reference pipeline.
        assert_eq!(
            r.stats.dlq, r.stats.dlq_distinct,
            "{} seed {}: {} dead letters, {} distinct",
            r.scenario, r.seed, r.stats.dlq, r.stats.dlq_distinct
        );
        let planned_faults = r.faults.len();
        let injected = r.faults.iter().filter(|f| f.outcome.was_injected()).count();
        assert_eq!(
            injected, planned_faults,
            "{}: some faults were not injected: {:?}",
            r.scenario, r.faults
        );
        assert!(!r.samples.is_empty(), "{}: no progress samples", r.scenario);
        // `in_transaction` worker faults (smoke-3's zombie, crash-mid-commit's kill) struck inside
        // an open transaction of the worker, not wherever it happened to be.
        for f in r.faults.iter().filter(|f| {
            f.outcome
                .to_string()
                .contains("inside a Postgres transaction")
        }) {
            assert!(
                f.target.contains("(in a transaction"),
                "{}: {} did not land in a transaction: {}",
                r.scenario,
                f.id,
                f.target
            );
        }
        if ["smoke-3-zombie", "crash-mid-commit"].contains(&r.scenario.as_str()) {
            assert!(
                r.faults.iter().any(|f| f
                    .outcome
                    .to_string()
                    .contains("inside a Postgres transaction")),
                "{}: no in_transaction fault",
                r.scenario
            );
        }
        if r.scenario == "mixed" {
            // The live champion/challenger comparison under faults equals the fault-free run's.
            for name in [
                "model_comparison",
                "scores_stored_exactly_once",
                "model_robustness",
            ] {
                let c = r
                    .checks
                    .iter()
                    .find(|c| c.name == name)
                    .unwrap_or_else(|| panic!("mixed: no check {name}"));
                assert_eq!(c.status, CheckStatus::Pass, "mixed: {name}: {}", c.detail);
            }
        }
    }
}

/// Each run's normalized end state and report summary match `golden/snapshots/<scenario>.snap`:
/// the same on every backend, since both depend only on the scenario and its seed. CI runs with
/// `INSTA_UPDATE=no`; review changes locally with `cargo insta review` (see golden/README.md).
pub(crate) fn assert_golden(suite: &SuiteReport) {
    for r in &suite.runs {
        let summary = serde_json::json!({
            "scenario": r.scenario,
            "seed": r.seed,
            "verdict": r.verdict,
            "produced": r.stats.produced,
            "workload_digest": r.stats.workload_digest,
            "checks": r.checks.iter().map(|c| (c.name.clone(), c.status)).collect::<std::collections::BTreeMap<_, _>>(),
            "faults": r.faults.iter().map(|f| f.id.clone()).collect::<Vec<_>>(),
            "end_state": r.end_state,
        });
        insta::with_settings!({ snapshot_path => crate::repo().join("golden/snapshots"), prepend_module_to_snapshot => false, omit_expression => true }, {
            insta::assert_snapshot!(r.scenario.clone(), serde_json::to_string_pretty(&summary).unwrap());
        });
    }
}

/// report.json, junit.xml and report.html exist and agree with the suite.
fn assert_reports_written(suite: &SuiteReport, out: &std::path::Path) {
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    let runs = json["runs"].as_array().unwrap();
    assert_eq!(runs.len(), suite.runs.len());
    for (r, j) in suite.runs.iter().zip(runs) {
        assert_eq!(j["scenario"], r.scenario.as_str());
        assert_eq!(j["seed"], r.seed);
        assert_eq!(j["verdict"], "pass");
        assert_eq!(j["stats"]["produced"], r.stats.produced);
        for key in ["backend", "checks", "faults", "stats", "repro"] {
            assert!(j.get(key).is_some(), "report.json run lacks `{key}`");
        }
        assert_recoveries(r, j);
    }
    let junit = std::fs::read_to_string(out.join("junit.xml")).unwrap();
    let checks: usize = suite.runs.iter().map(|r| r.checks.len()).sum();
    assert_eq!(junit.matches("<testcase ").count(), checks);
    assert_eq!(junit.matches("<failure").count(), 0);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    for r in &suite.runs {
        assert!(
            html.contains(&r.scenario),
            "report.html lacks {}",
            r.scenario
        );
    }
}

/// Every injected fault of the run has a `time_to_recover` in report.json, as the suite has it:
/// `recovered` with `ms`, or `not_recovered` with `watched_ms`; a skipped fault has `null`.
fn assert_recoveries(r: &faultline_report::RunReport, j: &serde_json::Value) {
    let faults = j["faults"].as_array().unwrap();
    assert_eq!(faults.len(), r.faults.len());
    for (f, jf) in r.faults.iter().zip(faults) {
        let ttr = &jf["time_to_recover"];
        if !f.outcome.was_injected() {
            assert!(ttr.is_null(), "{}: skipped, yet {ttr}", f.id);
            continue;
        }
        let figure = match ttr["status"].as_str() {
            Some("recovered") => &ttr["ms"],
            Some("not_recovered") => &ttr["watched_ms"],
            _ => panic!("{} {}: time_to_recover is {ttr}", r.scenario, f.id),
        };
        assert!(figure.is_u64(), "{} {}: {ttr}", r.scenario, f.id);
        assert_eq!(
            serde_json::to_value(f.time_to_recover).unwrap(),
            *ttr,
            "{} {}",
            r.scenario,
            f.id
        );
    }
}

async fn smoke_on(backend: BackendKind) {
    let out = faultline_tests::OutputDir::new();
    let opts = suite_options("scenarios/smoke", backend, out.path());
    let suite = run_suite(&opts).await.unwrap();
    assert_all_passed(&suite, 7);
    assert_protocol(&suite, &opts);
    assert_reports_written(&suite, out.path());
    assert_golden(&suite);
    // Passing runs leave no bundle behind.
    assert!(suite.runs.iter().all(|r| r.bundle.is_none()));
}

#[tokio::test(flavor = "multi_thread")]
async fn smoke_suite_passes_on_processes() {
    smoke_on(BackendKind::Processes).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn smoke_suite_passes_on_containers() {
    if faultline_tests::backend_available(BackendKind::Containers).await {
        smoke_on(BackendKind::Containers).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_shipped_scenario_passes_on_processes() {
    let out = faultline_tests::OutputDir::new();
    let opts = suite_options("scenarios", BackendKind::Processes, out.path());
    let suite = run_suite(&opts).await.unwrap();
    assert_all_passed(&suite, 14);
    assert_protocol(&suite, &opts);
    assert_golden(&suite);
}

#[tokio::test(flavor = "multi_thread")]
async fn every_shipped_scenario_passes_on_containers() {
    if !faultline_tests::backend_available(BackendKind::Containers).await {
        return;
    }
    let out = faultline_tests::OutputDir::new();
    let opts = suite_options("scenarios", BackendKind::Containers, out.path());
    let suite = run_suite(&opts).await.unwrap();
    assert_all_passed(&suite, 14);
    assert_protocol(&suite, &opts);
    assert_golden(&suite);
}
