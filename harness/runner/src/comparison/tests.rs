use std::collections::BTreeMap;
use std::path::Path;

use faultline_models::{Policy, TxnInput};
use faultline_report::{CheckResult, CheckStatus};
use faultline_workload::{Expectation, Workload};

use super::exactly_once::{scores_stored_exactly_once, Baseline, Fallback};
use super::labels::{expected_labels, txn_input};
use super::robustness::attach_robustness;
use super::setup::{CompareSetup, ModelInfo};
use super::statistics::{build, comparison_check, Landed, LiveComparison};

fn setup() -> CompareSetup {
    let info = |v: &str| {
        let card = faultline_models::model::Scorecard::new(
            v,
            faultline_models::model::ScorecardKind::Logistic,
            vec![("amount_log".into(), 1.0)],
            0.0,
            0.5,
        )
        .unwrap();
        ModelInfo::of(std::sync::Arc::new(card))
    };
    CompareSetup {
        champion: info("champ-1"),
        challenger: info("chall-2"),
        policy: Policy {
            min_samples: 1,
            min_positives: 1,
            min_negatives: 1,
            resamples: 50,
            ..Policy::all_metrics()
        },
        seed: 7,
    }
}

fn workload(seed: u64) -> Workload {
    let spec: faultline_workload::WorkloadSpec =
        serde_json::from_value(serde_json::json!({"seed": seed, "events": 400, "duplicate_ratio": 0.05, "malformed_ratio": 0.05})).unwrap();
    faultline_workload::generate(&spec).unwrap()
}

/// What a correct pipeline would store: a deterministic stand-in score per transaction.
fn rows_for(labels: &BTreeMap<String, bool>) -> Vec<(String, Landed)> {
    labels
        .keys()
        .enumerate()
        .map(|(i, id)| {
            let s = (i * 37 % 100) as f64 / 100.0;
            let row = Landed {
                champion_score: s,
                champion_version: "champ-1".into(),
                challenger_score: Some(1.0 - s),
                challenger_version: Some("chall-2".into()),
                copies: 1,
                fallback: false,
            };
            (id.clone(), row)
        })
        .collect()
}

fn baseline(live: LiveComparison) -> Baseline {
    Baseline {
        live,
        failed_checks: Vec::new(),
    }
}

fn ids_in(c: &CheckResult) -> Vec<(String, String)> {
    c.failing_rows
        .iter()
        .map(|r| {
            (
                r["transaction_id"].as_str().unwrap().to_string(),
                r["problem"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn labels_are_deterministic_per_transaction_and_cover_every_valid_event() {
    let w = workload(3);
    let labels = expected_labels(&w);
    assert_eq!(labels, expected_labels(&workload(3)));
    assert_eq!(labels.len() as u64, w.counts().valid);
    let positives = labels.values().filter(|&&l| l).count();
    assert!(
        positives > 0 && positives < labels.len(),
        "{positives} of {}",
        labels.len()
    );
    // A label is a function of its transaction alone: the same events in another workload
    // (here: with more malformed records mixed in) keep their labels.
    let spec: faultline_workload::WorkloadSpec =
        serde_json::from_value(serde_json::json!({"seed": 3, "events": 400, "duplicate_ratio": 0.05, "malformed_ratio": 0.2})).unwrap();
    assert_eq!(
        expected_labels(&faultline_workload::generate(&spec).unwrap()),
        labels
    );
}

#[test]
fn identical_runs_agree() {
    let labels = expected_labels(&workload(5));
    let a = build(&labels, rows_for(&labels), &setup(), "a.transactions");
    let b = build(&labels, rows_for(&labels), &setup(), "b.transactions");
    assert!(a.missing.is_empty() && a.excluded.is_empty());
    assert_eq!(comparison_check(&a).status, CheckStatus::Pass);
    let c = scores_stored_exactly_once(&a, &baseline(b), &Fallback::default());
    assert_eq!(c.status, CheckStatus::Pass, "{}", c.detail);
    assert!(
        c.detail.contains(&format!("{} transactions", labels.len())),
        "{}",
        c.detail
    );
}

#[test]
fn a_row_missing_under_faults_fails_naming_it() {
    let labels = expected_labels(&workload(5));
    let clean = build(&labels, rows_for(&labels), &setup(), "b");
    let mut rows = rows_for(&labels);
    let (lost, _) = rows.remove(10);
    let faulted = build(&labels, rows, &setup(), "a");
    assert_eq!(faulted.missing, vec![lost.clone()]);
    assert_eq!(comparison_check(&faulted).status, CheckStatus::Fail);
    let c = scores_stored_exactly_once(&faulted, &baseline(clean), &Fallback::default());
    assert_eq!(c.status, CheckStatus::Fail);
    assert_eq!(ids_in(&c), vec![(lost, "missing_under_faults".to_string())]);
    assert!(
        c.detail
            .starts_with("pipeline defect, not a model difference: 1 transaction(s)")
            && c.detail.contains("1 missing under faults"),
        "{}",
        c.detail
    );
}

#[test]
fn a_differently_scored_row_fails_naming_it_and_what_differs() {
    let labels = expected_labels(&workload(5));
    let clean = build(&labels, rows_for(&labels), &setup(), "b");
    let mut rows = rows_for(&labels);
    rows[3].1.challenger_score = Some(0.999);
    let changed = rows[3].0.clone();
    let faulted = build(&labels, rows, &setup(), "a");
    assert!(
        faulted.missing.is_empty() && faulted.excluded.is_empty(),
        "same model versions, so the row still counts"
    );
    let c = scores_stored_exactly_once(&faulted, &baseline(clean), &Fallback::default());
    assert_eq!(c.status, CheckStatus::Fail);
    assert_eq!(
        ids_in(&c),
        vec![(changed, "challenger_score_differs".to_string())]
    );
    assert!(
        c.failing_rows[0]["under_faults"]
            .as_str()
            .unwrap()
            .contains("0.999"),
        "{:?}",
        c.failing_rows[0]
    );
    assert!(c.detail.contains("1 stored differently"), "{}", c.detail);
}

#[test]
fn duplicated_wrong_version_and_unknown_rows_are_excluded_with_why() {
    let labels = expected_labels(&workload(5));
    let mut rows = rows_for(&labels);
    rows.push(rows[0].clone());
    rows[1].1.champion_version = "builtin-champion-1".into();
    rows[2].1.challenger_score = None;
    rows.push(("not-in-the-workload".into(), rows[4].1.clone()));
    let live = build(&labels, rows, &setup(), "a");
    let why: Vec<&str> = live.excluded.values().map(String::as_str).collect();
    assert_eq!(live.excluded.len(), 4, "{why:?}");
    assert!(
        why.contains(&"stored 2 times")
            && why.contains(&"no challenger score")
            && why.contains(&"not a valid transaction of the workload"),
        "{why:?}"
    );
    assert!(
        why.iter()
            .any(|w| w.contains("champion version `builtin-champion-1`, configured `champ-1`")),
        "{why:?}"
    );
    assert_eq!(live.comparison.as_ref().unwrap().n, labels.len() - 3);
    let c = comparison_check(&live);
    assert_eq!((c.status, c.failing_total), (CheckStatus::Fail, 4));
}

#[test]
fn the_mixed_scenario_compares_the_golden_models_on_enough_rows_for_its_policy() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/mixed.toml");
    let mut s = faultline_scenario::load::load(&path).unwrap();
    s.resolve_paths(path.parent().unwrap());
    let setup = CompareSetup::load(&s, s.workload.seed).unwrap().unwrap();
    assert_eq!(
        (
            setup.champion.version.as_str(),
            setup.challenger.version.as_str()
        ),
        ("2023-11-champion", "2024-06-challenger-onnx")
    );
    // What a correct pipeline stores, computed here from the model files directly: the live
    // comparison of `mixed` has enough rows for the policy, so its verdict is about the models.
    let mut spec = s.workload.clone();
    spec.partitions = s.infra.partitions;
    let w = faultline_workload::generate(&spec).unwrap();
    let labels = expected_labels(&w);
    let models = [
        s.pipeline.champion.as_deref().unwrap(),
        s.pipeline.challenger.as_deref().unwrap(),
    ]
    .map(|p| faultline_models::load_model(p).unwrap());
    let inputs: BTreeMap<String, TxnInput> = w
        .records
        .iter()
        .filter(|r| matches!(r.expect, Expectation::Valid { .. }))
        .map(|r| faultline_workload::validate(&r.value).unwrap())
        .map(|e| (e.transaction_id.clone(), txn_input(&e)))
        .collect();
    let rows = inputs
        .iter()
        .map(|(id, input)| {
            let f = faultline_models::Features::from_event(input);
            let [a, b] = [0, 1].map(|i| models[i].score(&f).unwrap());
            let row = Landed {
                champion_score: a,
                champion_version: models[0].version().into(),
                challenger_score: Some(b),
                challenger_version: Some(models[1].version().into()),
                copies: 1,
                fallback: false,
            };
            (id.clone(), row)
        })
        .collect();
    let live = build(&labels, rows, &setup, "offline");
    let c = live.comparison.as_ref().unwrap();
    assert!(
        c.n >= setup.policy.min_samples && c.positives > 100,
        "n {} positives {}",
        c.n,
        c.positives
    );
    assert_eq!(comparison_check(&live).status, CheckStatus::Pass);
}

#[test]
fn a_failed_baseline_is_no_reference() {
    let labels = expected_labels(&workload(5));
    let live = build(&labels, rows_for(&labels), &setup(), "a");
    let b = Baseline {
        live: live.clone(),
        failed_checks: vec!["no_loss".into()],
    };
    let c = scores_stored_exactly_once(&live, &b, &Fallback::default());
    assert_eq!(c.status, CheckStatus::Fail);
    assert!(
        c.detail.contains("baseline run itself failed no_loss"),
        "{}",
        c.detail
    );
}

/// The faulted run's rows: those at `fallback` indices scored on fallback features, holding the
/// given default-profile scores (0.9 for the challenger: it flags every such row).
fn with_fallback(
    labels: &BTreeMap<String, bool>,
    fallback: &[usize],
) -> (Vec<(String, Landed)>, Fallback) {
    let mut rows = rows_for(labels);
    let mut expected = Fallback {
        scores: BTreeMap::new(),
        enrichment_faults: true,
    };
    for &i in fallback {
        let (id, row) = &mut rows[i];
        row.fallback = true;
        row.challenger_score = Some(0.9);
        expected
            .scores
            .insert(id.clone(), [row.champion_score, 0.9]);
    }
    (rows, expected)
}

#[test]
fn rows_on_fallback_features_must_hold_the_default_profile_scores() {
    let labels = expected_labels(&workload(5));
    let clean = baseline(build(&labels, rows_for(&labels), &setup(), "b"));
    let (rows, expected) = with_fallback(&labels, &[2, 4, 6]);
    let faulted = build(&labels, rows.clone(), &setup(), "a");
    let c = scores_stored_exactly_once(&faulted, &clean, &expected);
    assert_eq!(c.status, CheckStatus::Pass, "{}", c.detail);
    assert!(
        c.detail.contains("3 scored on fallback features"),
        "{}",
        c.detail
    );

    // A fallback row whose score is not the model's default-profile score.
    let mut wrong = expected.clone();
    wrong.scores.get_mut(&rows[4].0).unwrap()[1] = 0.5;
    let c = scores_stored_exactly_once(&faulted, &clean, &wrong);
    assert_eq!(c.status, CheckStatus::Fail);
    assert_eq!(
        ids_in(&c),
        vec![(
            rows[4].0.clone(),
            "fallback_challenger_score_differs".to_string()
        )]
    );

    // Fallback rows without an enrichment fault, or in the fault-free run, are defects.
    let no_fault = Fallback {
        enrichment_faults: false,
        ..expected.clone()
    };
    let c = scores_stored_exactly_once(&faulted, &clean, &no_fault);
    assert_eq!(c.failing_total, 3);
    assert!(ids_in(&c)
        .iter()
        .all(|(_, p)| p == "fallback_without_enrichment_fault"));
    let c = scores_stored_exactly_once(&faulted, &baseline(faulted.clone()), &expected);
    assert_eq!(c.failing_total, 3);
    assert!(ids_in(&c)
        .iter()
        .all(|(_, p)| p == "fallback_in_fault_free_run"));
}

#[test]
fn a_challenger_collapsing_on_fallback_rows_is_kept_by_the_robustness_gate() {
    let labels = expected_labels(&workload(5));
    // Both models rank perfectly fault-free; on fallback rows the challenger flags everything.
    let perfect = |rows: &mut Vec<(String, Landed)>| {
        for (id, row) in rows.iter_mut() {
            let s = if labels[id] { 0.8 } else { 0.2 };
            row.champion_score = s;
            if !row.fallback {
                row.challenger_score = Some(s);
            }
        }
    };
    let mut policy = setup();
    policy.policy.robustness = vec![faultline_models::RobustnessGate {
        metric: faultline_models::MetricName::Precision,
        rows: faultline_models::RowSet::InFaultWindow,
        max_extra_loss: 0.0,
    }];
    let mut clean_rows = rows_for(&labels);
    perfect(&mut clean_rows);
    let clean = baseline(build(&labels, clean_rows, &policy, "b"));
    let half: Vec<usize> = (0..labels.len()).step_by(2).collect();
    let (mut rows, _) = with_fallback(&labels, &half);
    perfect(&mut rows);
    let windows: BTreeMap<String, bool> = rows
        .iter()
        .map(|(id, l)| (id.clone(), l.fallback))
        .collect();
    let mut faulted = build(&labels, rows, &policy, "a");
    let check = attach_robustness(&mut faulted, &clean, &windows, &policy);
    assert_eq!(
        (check.name.as_str(), check.status),
        ("model_robustness", CheckStatus::Pass)
    );
    let c = faulted.comparison.as_ref().unwrap();
    assert_eq!(
        c.verdict,
        faultline_models::Verdict::Keep,
        "{:?}",
        c.reasons
    );
    assert!(
        c.reasons[0].starts_with("robustness precision on rows sent inside a fault window"),
        "{:?}",
        c.reasons
    );
    let r = c.robustness.as_ref().unwrap();
    let inside = r.split(faultline_models::RowSet::InFaultWindow).unwrap();
    assert_eq!(inside.n, half.len());
    assert_eq!(inside.fallback, half.len());
    let p = inside.difference[&faultline_models::MetricName::Precision];
    assert!(p.delta < -0.5 && p.ci.high < 0.0, "{p:?}");
    assert!(
        check.detail.contains("keep the champion") && check.detail.ends_with("verdict keep"),
        "{}",
        check.detail
    );
    let shown = comparison_check(&faulted);
    assert!(shown.detail.contains("verdict keep"), "{}", shown.detail);
}

/// Offline, what `scenarios/enrichment-fallback.toml` should show: the records sent during the
/// outage (here: the 2,001st to the 8,000th) whose account the worker had not cached scored on
/// the default profile. The shipped profile-leaning challenger loses more precision there than
/// the champion, and the robustness gate of the scenario's policy keeps the champion.
#[test]
fn the_enrichment_fallback_scenario_ships_a_challenger_its_robustness_gate_keeps() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/enrichment-fallback.toml");
    let mut s = faultline_scenario::load::load(&path).unwrap();
    s.resolve_paths(path.parent().unwrap());
    let setup = CompareSetup::load(&s, s.workload.seed).unwrap().unwrap();
    let mut spec = s.workload.clone();
    spec.partitions = s.infra.partitions;
    let w = faultline_workload::generate(&spec).unwrap();
    let labels = expected_labels(&w);
    let mut cached = std::collections::BTreeSet::new();
    let (mut clean, mut faulted, mut windows) = (Vec::new(), Vec::new(), BTreeMap::new());
    for (i, r) in w.records.iter().enumerate() {
        let Ok(e) = faultline_workload::validate(&r.value) else {
            continue;
        };
        let inside = (2_000..8_000).contains(&i);
        let fallback = inside && !cached.contains(&e.account_id);
        if !fallback {
            cached.insert(e.account_id.clone());
        }
        let input = txn_input(&e);
        let score = |input: TxnInput| {
            let f = faultline_models::Features::from_event(&input);
            [&setup.champion, &setup.challenger].map(|m| m.model.score(&f).unwrap())
        };
        let row = |[a, b]: [f64; 2], fallback| Landed {
            champion_score: a,
            champion_version: setup.champion.version.clone(),
            challenger_score: Some(b),
            challenger_version: Some(setup.challenger.version.clone()),
            copies: 1,
            fallback,
        };
        clean.push((e.transaction_id.clone(), row(score(input.clone()), false)));
        let stored = if fallback {
            score(input.with_default_profile())
        } else {
            score(input)
        };
        faulted.push((e.transaction_id.clone(), row(stored, fallback)));
        windows.insert(e.transaction_id, inside);
    }
    let clean = baseline(build(&labels, clean, &setup, "fault-free"));
    let mut live = build(&labels, faulted, &setup, "faulted");
    let check = attach_robustness(&mut live, &clean, &windows, &setup);
    println!("{}", check.detail);
    let c = live.comparison.as_ref().unwrap();
    assert_eq!(
        c.verdict,
        faultline_models::Verdict::Keep,
        "{:?}",
        c.reasons
    );
    let gate = &c.robustness.as_ref().unwrap().gates[0];
    assert!(gate.blocks, "{}", gate.detail);
    assert!(
        c.reasons[0].starts_with("robustness precision"),
        "{:?}",
        c.reasons
    );
    println!(
        "fault-free verdict {}: {:?}",
        clean.live.comparison.as_ref().unwrap().verdict.as_str(),
        clean.live.comparison.as_ref().unwrap().reasons
    );
}
