//! A pipeline that never writes is judged, not waited for: the stall verdict ends the catch-up
//! `stall_limit_s` after the last fault healed, and every other check still reports, failing with
//! what is missing, instead of the run ending in an error with no checks.

use serde_json::Value;

use crate::faultline;

const TIME_LIMIT_S: u64 = 120;

/// Two 3 s worker pauses, then nothing: the workers only sleep.
fn never_writing_scenario() -> String {
    format!(
        r#"description = "Workers that never write: the wait ends on the stall verdict and every check reports."
time_limit_s = {TIME_LIMIT_S}
stall_limit_s = 5

[infra]
partitions = 2

[workload]
events = 400

[producer]
rate = 1000

[pipeline]
command = ["sleep", "3600"]
workers = 2
enrichment = false

[[faults]]
kind = "pause_worker"
at_ms = 200
duration_ms = 3000

[[checks.data]]
name = "transactions_have_scores"
check = "not_null"
table = "transactions"
column = "champion_score"
"#
    )
}

fn check<'a>(run: &'a Value, name: &str) -> &'a Value {
    run["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no check {name} in {:#}", run["checks"]))
}

#[test]
fn a_pipeline_that_never_writes_fails_on_the_stall_verdict_with_every_check_listed() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("stall-never-writes.toml");
    std::fs::write(&file, never_writing_scenario()).unwrap();
    let out_dir = dir.path().join("out");
    let out = faultline()
        .args(["run"])
        .arg(&file)
        .args(["--backend", "processes", "--quiet", "--out"])
        .arg(&out_dir)
        .output()
        .unwrap();
    crate::exited(&out, 1);
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("report.json")).unwrap())
            .unwrap();
    let run = &report["runs"][0];
    assert_eq!(run["verdict"], "fail", "{:#}", run);
    assert_eq!(run["error"], Value::Null);

    let caught_up = check(run, "caught_up");
    let detail = caught_up["detail"].as_str().unwrap();
    assert_eq!(caught_up["status"], "fail");
    let produced = run["stats"]["produced"].as_u64().unwrap();
    assert!(
        detail.starts_with("no progress for ")
            && detail.contains(&format!("committed 0 of {produced} records; pending p0 0/"))
            && detail.contains("the progress query's table does not exist"),
        "{detail}"
    );
    // One pending row per partition, nothing committed in either.
    let rows = caught_up["failing_rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(rows.iter().all(|r| r["position"] == 0), "{rows:?}");

    // The oracle's checks and the data check are all there, failing with what is missing.
    for name in faultline_oracle::CHECK_NAMES {
        let c = check(run, name);
        assert_eq!(c["status"], "fail", "{name}: {c}");
        let detail = c["detail"].as_str().unwrap();
        assert!(
            detail.contains(" not exist in schema `fl_stall_never_writes_")
                && detail.contains(": the pipeline wrote nothing"),
            "{name}: {c}"
        );
    }
    let lost = check(run, "no_loss");
    assert!(
        lost["detail"]
            .as_str()
            .unwrap()
            .starts_with("table `transactions` does not exist in schema `fl_stall_never_writes_"),
        "{lost}"
    );
    // Every sent transaction is still listed as lost.
    assert_eq!(lost["failing_total"], produced, "{lost}");
    let data = check(run, "transactions_have_scores");
    assert_eq!(data["status"], "fail", "{data}");
    assert!(
        data["detail"].as_str().unwrap().contains("does not exist"),
        "{data}"
    );
    assert_eq!(check(run, "faults_injected")["status"], "pass");
    // Nothing was ever committed: the pause never recovered, watched until the samples ended.
    let pause = &run["faults"][0];
    assert_eq!(pause["id"], "pause_worker#1", "{pause}");
    assert_eq!(
        pause["time_to_recover"]["status"], "not_recovered",
        "{pause}"
    );
    assert!(
        pause["time_to_recover"]["watched_ms"].as_u64().unwrap() > 0,
        "{pause}"
    );
    assert_eq!(check(run, "workers_stayed_up")["status"], "pass");

    // The stall verdict ended the wait, not the time limit.
    let duration_ms = run["stats"]["duration_ms"].as_u64().unwrap();
    assert!(
        duration_ms < TIME_LIMIT_S * 1000,
        "the run took {duration_ms} ms of its {TIME_LIMIT_S} s"
    );
    assert_eq!(run["stats"]["committed"], 0);
}
