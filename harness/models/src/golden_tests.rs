//! Tests on the shipped assets under `golden/`: the dataset regenerates byte-identically, the ONNX
//! challenger scores like its scorecard, and the shipped comparison's verdict is snapshotted.
//!
//! Regenerate the dataset after changing the generator (then review the diff and the snapshot):
//! `cargo test -p faultline-models -- --ignored regenerate_golden_dataset`

use std::path::{Path, PathBuf};

use crate::dataset::{write_csv, write_jsonl, Dataset};
use crate::generate::{generate_rows, GOLDEN_ROWS, GOLDEN_SEED};
use crate::model::load_model;
use crate::policy::{Policy, Verdict};
use crate::{compare, MetricName};

/// Seed of the snapshotted comparison.
const COMPARE_SEED: u64 = 42;

fn golden(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../golden")
        .join(rel)
}

fn golden_jsonl() -> Vec<u8> {
    let mut bytes = Vec::new();
    write_jsonl(&generate_rows(GOLDEN_ROWS, GOLDEN_SEED), &mut bytes).expect("writing to memory");
    bytes
}

#[test]
#[ignore = "writes golden/data/labelled.jsonl; run by hand after changing the generator"]
fn regenerate_golden_dataset() {
    std::fs::write(golden("data/labelled.jsonl"), golden_jsonl()).unwrap();
}

#[test]
fn shipped_dataset_matches_its_generator_byte_for_byte() {
    let shipped = std::fs::read(golden("data/labelled.jsonl")).unwrap();
    assert!(shipped == golden_jsonl(), "golden/data/labelled.jsonl differs from generate_rows({GOLDEN_ROWS}, {GOLDEN_SEED}); rerun regenerate_golden_dataset");
}

#[test]
fn csv_copy_of_the_dataset_loads_to_the_same_rows() {
    let jsonl = Dataset::load(golden("data/labelled.jsonl")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let csv_path = dir.path().join("labelled.csv");
    write_csv(
        &jsonl.rows()[..2_000],
        std::fs::File::create(&csv_path).unwrap(),
    )
    .unwrap();
    let csv = Dataset::load(&csv_path).unwrap();
    assert_eq!(csv.rows(), &jsonl.rows()[..2_000]);
}

#[cfg(feature = "onnx")]
#[test]
fn onnx_challenger_scores_like_its_scorecard_within_1e_5() {
    let card = load_model(golden("models/challenger.json")).unwrap();
    let graph = load_model(golden("models/challenger.onnx")).unwrap();
    assert_eq!(card.feature_names(), graph.feature_names());
    assert_eq!(card.threshold(), graph.threshold());
    let data = Dataset::load(golden("data/labelled.jsonl")).unwrap();
    // Row by row through the map interface for a sample...
    for i in (0..data.len()).step_by(97) {
        let row = data.features().row_map(i);
        let (a, b) = (card.score(&row).unwrap(), graph.score(&row).unwrap());
        assert!((a - b).abs() < 1e-5, "row {i}: scorecard {a} vs onnx {b}");
    }
    // ...and in bulk for every row.
    let (a, b) = (
        card.score_matrix(data.features()).unwrap(),
        graph.score_matrix(data.features()).unwrap(),
    );
    let worst = a
        .iter()
        .zip(&b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max);
    assert!(worst < 1e-5, "largest difference {worst}");
}

fn shipped_comparison() -> crate::Comparison {
    let champion = load_model(golden("models/champion.json")).unwrap();
    let challenger = load_model(golden("models/challenger.json")).unwrap();
    let data = Dataset::load(golden("data/labelled.jsonl")).unwrap();
    let policy = Policy::load(golden("models/policy.toml")).unwrap();
    compare(
        champion.as_ref(),
        challenger.as_ref(),
        &data,
        &policy,
        COMPARE_SEED,
    )
    .unwrap()
}

#[test]
fn shipped_challenger_is_promoted_on_precision_and_the_rest() {
    let c = shipped_comparison();
    let p = c.deltas[&MetricName::Precision];
    insta::assert_snapshot!(
        "shipped_challenger_precision",
        format!(
            "verdict: {}\nn: {}\npositives: {}\nprecision champion: {:.6}\nprecision challenger: {:.6}\nprecision delta: {:+.6}\nprecision 95% interval: [{:+.6}, {:+.6}]\nmcnemar p: {:.3e}\n",
            c.verdict.as_str(), c.n, c.positives, p.champion, p.challenger, p.delta, p.ci.low, p.ci.high, c.mcnemar.p_value
        )
    );
    assert_eq!(c.verdict, Verdict::Promote, "{:#?}", c.reasons);
    for (m, d) in &c.deltas {
        assert!(d.ci.low > 0.0, "challenger should be better on {m}: {d:?}");
    }
}
