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

/// The count bootstrap (the default) against the row bootstrap (the reference) on the shipped
/// data and models: over several seeds, every metric's interval has the same centre and a width
/// within a few percent. Seeds differ between the methods' runs, so what is compared is the two
/// distributions, not one draw.
#[test]
fn count_bootstrap_intervals_agree_with_row_bootstrap_on_the_shipped_data() {
    use crate::bootstrap::{paired_bootstrap, Resampling, Scored};
    use crate::rng::{seeded, stream};

    let champion = load_model(golden("models/champion.json")).unwrap();
    let challenger = load_model(golden("models/challenger.json")).unwrap();
    let data = Dataset::load(golden("data/labelled.jsonl")).unwrap();
    let (a, b) = (
        champion.score_matrix(data.features()).unwrap(),
        challenger.score_matrix(data.features()).unwrap(),
    );
    let (a, b) = (
        Scored::new(&a, champion.threshold()),
        Scored::new(&b, challenger.threshold()),
    );
    const SEEDS: u64 = 5;
    let mean_intervals = |method: Resampling| {
        let mut sums = std::collections::BTreeMap::<MetricName, (f64, f64)>::new();
        for seed in 1..=SEEDS {
            let mut rng = seeded(seed, stream::BOOTSTRAP);
            for (m, i) in paired_bootstrap(data.labels(), &a, &b, method, 1000, 0.95, &mut rng) {
                let s = sums.entry(m).or_default();
                s.0 += (i.low + i.high) / 2.0 / SEEDS as f64;
                s.1 += (i.high - i.low) / SEEDS as f64;
            }
        }
        sums
    };
    let (rows, counts) = (
        mean_intervals(Resampling::Rows),
        mean_intervals(Resampling::Counts),
    );
    for m in MetricName::ALL {
        let ((rc, rw), (cc, cw)) = (rows[&m], counts[&m]);
        eprintln!("{m}: rows centre {rc:+.5} width {rw:.5}; counts centre {cc:+.5} width {cw:.5} ({:+.1}%)", (cw / rw - 1.0) * 100.0);
        assert!(
            (cc - rc).abs() <= 0.05 * rw,
            "{m}: centres {cc} (counts) and {rc} (rows) differ by more than 5% of the width {rw}"
        );
        assert!(
            (cw / rw - 1.0).abs() <= 0.05,
            "{m}: widths {cw} (counts) and {rw} (rows) differ by more than 5%"
        );
    }
}

/// `faultline compare --scores`: the shipped models' scores of the shipped data, written to a CSV
/// with other column names, other label values and extra columns, give the model path's comparison
/// (same counts, metrics, intervals and verdict).
#[test]
fn scores_file_with_arbitrary_column_names_gives_the_model_paths_comparison() {
    use crate::compare::{compare_scored, compare_scores, score_dataset, ModelScores};
    use crate::scores::{RowScores, ScoreColumns};

    let champion = load_model(golden("models/champion.json")).unwrap();
    let challenger = load_model(golden("models/challenger.json")).unwrap();
    let data = Dataset::load(golden("data/labelled.jsonl")).unwrap();
    let policy = Policy::load(golden("models/policy.toml")).unwrap();
    let rows = score_dataset(champion.as_ref(), challenger.as_ref(), &data).unwrap();
    let by_models = compare_scored(
        champion.as_ref(),
        challenger.as_ref(),
        &rows,
        &policy,
        COMPARE_SEED,
    );

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("owner.csv");
    let mut text = String::from("p_new,note,y,p_old,txn\n");
    for i in 0..rows.len() {
        let y = if rows.labels[i] { "fraud" } else { "ok" };
        text.push_str(&format!(
            "{},n{i},{y},{},{}\n",
            rows.challenger[i], rows.champion[i], rows.ids[i]
        ));
    }
    std::fs::write(&path, text).unwrap();
    let columns = ScoreColumns {
        id: "txn".into(),
        label: "y".into(),
        positive: "fraud".into(),
        champion: "p_old".into(),
        challenger: "p_new".into(),
    };
    let read = RowScores::load(&path, &columns).unwrap();
    assert_eq!(read.ids, rows.ids);
    let side = |m: &dyn crate::Model, scores| ModelScores {
        version: "from scores",
        format: "scores",
        threshold: m.threshold(),
        scores,
    };
    let by_scores = compare_scores(
        side(champion.as_ref(), &read.champion),
        side(challenger.as_ref(), &read.challenger),
        &read.labels,
        "owner.csv",
        &policy,
        COMPARE_SEED,
    );
    assert_eq!(by_scores.deltas, by_models.deltas);
    assert_eq!(by_scores.mcnemar, by_models.mcnemar);
    assert_eq!(
        (by_scores.n, by_scores.positives, by_scores.verdict),
        (by_models.n, by_models.positives, by_models.verdict)
    );
    assert_eq!(by_scores.champion.confusion, by_models.champion.confusion);
    assert_eq!(by_scores.challenger.metrics, by_models.challenger.metrics);
}

/// `scores.csv` read back: one row per dataset row, and its labels and decisions rebuild both
/// confusion matrices and McNemar's discordant counts of the comparison it was written with.
#[test]
fn scores_csv_reads_back_to_the_comparisons_counts() {
    use crate::compare::{compare_scored, score_dataset};
    use crate::metrics::Confusion;
    use crate::scores::SCORES_FILE;

    let champion = load_model(golden("models/champion.json")).unwrap();
    let challenger = load_model(golden("models/challenger.json")).unwrap();
    let data = Dataset::load(golden("data/labelled.jsonl")).unwrap();
    let policy = Policy::load(golden("models/policy.toml")).unwrap();
    let rows = score_dataset(champion.as_ref(), challenger.as_ref(), &data).unwrap();
    let c = compare_scored(
        champion.as_ref(),
        challenger.as_ref(),
        &rows,
        &policy,
        COMPARE_SEED,
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(SCORES_FILE);
    rows.write_csv(c.champion.threshold, c.challenger.threshold, &path)
        .unwrap();

    let mut reader = csv::Reader::from_path(&path).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(header, crate::scores::SCORE_CSV_COLUMNS);
    let (mut labels, mut a, mut b, mut ids) = (vec![], vec![], vec![], vec![]);
    for record in reader.records() {
        let r = record.unwrap();
        let bit = |k: usize| match &r[k] {
            "1" => true,
            "0" => false,
            other => panic!("column {k}: {other:?}"),
        };
        ids.push(r[0].to_string());
        labels.push(bit(1));
        a.push(bit(4));
        b.push(bit(5));
        let score: f64 = r[2].parse().unwrap();
        assert_eq!(bit(4), score >= c.champion.threshold);
    }
    assert_eq!(ids.len(), c.n);
    assert_eq!(ids, data.ids());
    assert_eq!(labels.iter().filter(|&&l| l).count(), c.positives);
    assert_eq!(Confusion::new(&labels, &a), c.champion.confusion);
    assert_eq!(Confusion::new(&labels, &b), c.challenger.confusion);
    let only = |x: &[bool], y: &[bool]| x.iter().zip(y).filter(|(p, q)| **p && !**q).count();
    assert_eq!((only(&a, &b) + only(&b, &a)) as u64, c.mcnemar.discordant);
}
