//! Hand-computed cases, degenerate cases, and properties of the metrics.

use super::*;
use proptest::prelude::*;

const LABELS: [bool; 6] = [true, true, false, false, true, false];
const SCORES: [f64; 6] = [0.9, 0.8, 0.7, 0.6, 0.4, 0.1];

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-12
}

#[test]
fn hand_computed_six_row_case() {
    let e = evaluate(&LABELS, &SCORES, 0.5);
    assert_eq!(
        e.confusion,
        Confusion {
            tp: 2,
            fp: 2,
            tn: 1,
            fn_: 1
        }
    );
    let m = &e.metrics;
    assert!(close(m.precision, 0.5));
    assert!(close(m.recall, 2.0 / 3.0));
    assert!(close(m.f1, 4.0 / 7.0));
    assert!(close(m.accuracy, 0.5));
    // Positives enter the ranking at recall 1/3 and 2/3 with precision 1, and at 1 with 3/5.
    assert!(close(m.pr_auc, 1.0 / 3.0 + 1.0 / 3.0 + 0.2), "{}", m.pr_auc);
    assert!(m.undefined.is_empty());
}

#[test]
fn threshold_is_inclusive() {
    let e = evaluate(&LABELS, &SCORES, 0.4);
    assert_eq!(
        e.confusion.tp, 3,
        "a score equal to the threshold is predicted positive"
    );
}

#[test]
fn no_predicted_positives_gives_flagged_zero_precision() {
    let e = evaluate(&LABELS, &SCORES, 0.95);
    assert_eq!(
        e.confusion,
        Confusion {
            tp: 0,
            fp: 0,
            tn: 3,
            fn_: 3
        }
    );
    assert_eq!(e.metrics.precision, 0.0);
    assert_eq!(e.metrics.recall, 0.0);
    assert_eq!(e.metrics.f1, 0.0);
    assert_eq!(
        e.metrics.undefined,
        BTreeSet::from([MetricName::Precision, MetricName::F1])
    );
    assert!(e.metrics.pr_auc > 0.0, "the ranking is still informative");
}

#[test]
fn all_equal_scores_form_one_threshold() {
    let labels = [true, false, false, true];
    let e = evaluate(&labels, &[0.5; 4], 0.5);
    assert_eq!(
        e.confusion,
        Confusion {
            tp: 2,
            fp: 2,
            tn: 0,
            fn_: 0
        }
    );
    assert!(close(e.metrics.precision, 0.5));
    assert!(close(e.metrics.recall, 1.0));
    assert!(
        close(e.metrics.pr_auc, 0.5),
        "one tied group: recall 1 at precision 1/2"
    );
    assert_eq!(
        Ranking::new(&[0.5; 4])
            .pr_curve(&[0.5; 4], &labels, 10)
            .len(),
        1
    );
}

#[test]
fn no_actual_positives_flags_recall_and_pr_auc() {
    let e = evaluate(&[false; 3], &[0.9, 0.2, 0.1], 0.5);
    assert_eq!(
        e.metrics.undefined,
        BTreeSet::from([MetricName::Recall, MetricName::F1, MetricName::PrAuc])
    );
    assert_eq!((e.metrics.recall, e.metrics.pr_auc), (0.0, 0.0));
    assert!(close(e.metrics.accuracy, 2.0 / 3.0));
}

#[test]
fn empty_input_is_all_flagged_zeroes() {
    let e = evaluate(&[], &[], 0.5);
    assert_eq!(e.metrics.accuracy, 0.0);
    assert!(e.metrics.undefined.contains(&MetricName::Accuracy));
}

#[test]
fn pr_curve_is_thinned_keeping_ends() {
    let n = 1000;
    let scores: Vec<f64> = (0..n).map(|i| i as f64 / n as f64).collect();
    let labels: Vec<bool> = (0..n).map(|i| i % 3 == 0).collect();
    let curve = Ranking::new(&scores).pr_curve(&scores, &labels, 50);
    assert_eq!(curve.len(), 50);
    assert_eq!(curve[0].threshold, scores[n - 1]);
    assert_eq!(curve[49].threshold, 0.0);
    assert!(close(curve[49].recall, 1.0));
}

#[test]
fn metric_names_parse_and_explain() {
    assert_eq!("pr_auc".parse::<MetricName>().unwrap(), MetricName::PrAuc);
    let e = "auc".parse::<MetricName>().unwrap_err();
    assert!(e.contains("precision, recall, f1, accuracy, pr_auc"), "{e}");
}

fn case() -> impl Strategy<Value = (Vec<bool>, Vec<f64>, f64)> {
    (1usize..60).prop_flat_map(|n| {
        (
            prop::collection::vec(any::<bool>(), n),
            // Few distinct values so ties are common.
            prop::collection::vec((0u8..=10).prop_map(|k| f64::from(k) / 10.0), n),
            0.0f64..=1.0,
        )
    })
}

proptest! {
    #[test]
    fn every_metric_lies_in_the_unit_interval((labels, scores, threshold) in case()) {
        let m = evaluate(&labels, &scores, threshold).metrics;
        for name in MetricName::ALL {
            let v = m.get(name);
            prop_assert!((0.0..=1.0).contains(&v), "{name} = {v}");
        }
    }

    #[test]
    fn weights_equal_materialised_duplicates(
        (labels, scores, threshold) in case(),
        seed in any::<u64>(),
    ) {
        let n = labels.len();
        let weights: Vec<u64> = (0..n).map(|i| seed.rotate_left(i as u32 * 3) & 3).collect();
        let (mut dl, mut ds) = (Vec::new(), Vec::new());
        for i in 0..n {
            for _ in 0..weights[i] {
                dl.push(labels[i]);
                ds.push(scores[i]);
            }
        }
        let direct = evaluate(&dl, &ds, threshold);
        let weighted = evaluate_weighted(&labels, &scores, &predict(&scores, threshold), &Ranking::new(&scores), |i| weights[i]);
        prop_assert_eq!(direct.confusion, weighted.confusion);
        prop_assert!((direct.metrics.pr_auc - weighted.metrics.pr_auc).abs() < 1e-12);
        prop_assert_eq!(direct.metrics.undefined, weighted.metrics.undefined);
    }
}

proptest! {
    #[test]
    fn ranking_orders_by_descending_score_then_index(
        scores in prop::collection::vec(prop_oneof![-2.0f64..2.0, Just(0.0), Just(-0.0), Just(0.5)], 0..200),
    ) {
        let mut want: Vec<usize> = (0..scores.len()).collect();
        want.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
        let ranking = Ranking::new(&scores);
        prop_assert_eq!(ranking.order(), &want[..]);
    }
}
