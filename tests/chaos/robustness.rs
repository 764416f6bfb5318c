//! Robustness under faults, end to end: during an enrichment outage the ledger scores on the
//! default profile (`FAULTLINE_ENRICH_FALLBACK=default`); the challenger that leans on the profile
//! loses more precision than the champion on the records sent during the outage, the paired
//! interval says so, and the policy's robustness gate keeps the champion.

use faultline_infra::BackendKind;
use faultline_report::CheckStatus;
use faultline_runner::run_suite;

#[tokio::test(flavor = "multi_thread")]
async fn a_profile_leaning_challenger_degrades_more_under_an_enrichment_outage_and_is_kept() {
    let out = tempfile::tempdir().unwrap();
    let suite = run_suite(&crate::options(
        "scenarios/enrichment-fallback.toml",
        BackendKind::Processes,
        out.path(),
    ))
    .await
    .unwrap();
    let r = &suite.runs[0];
    let check = |name: &str| {
        r.checks
            .iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("no check {name}: {:?}", r.checks))
    };
    // The pipeline did its job: every row once, fallback rows holding the default-profile scores.
    for name in [
        "no_loss",
        "no_duplicates",
        "model_comparison",
        "scores_stored_exactly_once",
        "model_robustness",
    ] {
        assert_eq!(
            check(name).status,
            CheckStatus::Pass,
            "{name}: {}",
            check(name).detail
        );
    }
    println!(
        "scores_stored_exactly_once: {}",
        check("scores_stored_exactly_once").detail
    );
    println!("model_robustness: {}", check("model_robustness").detail);
    assert!(check("model_robustness")
        .detail
        .contains("keep the champion"));
    assert!(check("model_comparison").detail.contains("verdict keep"));

    let compare = std::fs::read_dir(out.path().join("runs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("enrichment-fallback-")
        })
        .expect("the run directory")
        .join("compare");
    let c = crate::json_at(&compare.join("comparison.json"));
    let clean = crate::json_at(&compare.join("baseline/comparison.json"));
    assert_eq!(c["verdict"], "keep", "{}", c["reasons"]);
    assert_ne!(
        clean["verdict"], "keep",
        "fault-free, only the robustness gate can keep: {}",
        clean["reasons"]
    );
    assert!(clean.get("robustness").is_none());
    assert!(
        c["reasons"][0]
            .as_str()
            .unwrap()
            .starts_with("robustness precision on rows sent inside a fault window"),
        "{}",
        c["reasons"]
    );
    let robustness = &c["robustness"];
    let gate = &robustness["gates"][0];
    assert_eq!(gate["blocks"], true);
    assert_eq!(gate["gate"]["metric"], "precision");
    let split = |rows: &str| {
        robustness["splits"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["rows"] == rows)
            .unwrap_or_else(|| panic!("no split {rows}"))
            .clone()
    };
    let (inside, outside) = (split("in_fault_window"), split("outside_fault_windows"));
    let f = |v: &serde_json::Value| v.as_f64().unwrap();
    // Rows on fallback features were sent during the outage (or were still waiting then).
    assert!(f(&inside["fallback"]) > 0.0, "{inside}");
    let precision = &inside["difference"]["precision"];
    println!("in the fault window: {inside}");
    // Each model lost precision where enrichment was down; the challenger lost more, and the
    // paired interval of the difference lies below 0.
    for model in ["champion", "challenger"] {
        let p = &inside[model]["precision"];
        assert!(
            f(&p["change"]) < 0.0 && f(&p["ci"]["high"]) < 0.0,
            "{model}: {p}"
        );
    }
    assert!(
        f(&precision["challenger"]) < f(&precision["champion"]),
        "{precision}"
    );
    assert!(
        f(&precision["delta"]) < 0.0 && f(&precision["ci"]["high"]) < 0.0,
        "{precision}"
    );
    assert_eq!(gate["difference"], *precision);
    // Outside the window each model scores as fault-free, except rows that waited into the outage.
    println!(
        "outside the fault window: n {} fallback {}",
        outside["n"], outside["fallback"]
    );
    // Per-row scores beside comparison.json: one line per compared row plus the header.
    let csv = std::fs::read_to_string(compare.join("scores.csv")).unwrap();
    assert_eq!(csv.lines().count() as u64, c["n"].as_u64().unwrap() + 1);
    assert!(compare.join("baseline/scores.csv").is_file());
    crate::suites::assert_golden(&suite);
}
