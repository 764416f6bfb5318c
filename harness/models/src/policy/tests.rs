//! Policy parsing and the verdict rule.

use std::collections::{BTreeMap, BTreeSet};

use super::*;

const POLICY: &str = r#"
min_samples = 100
confidence = 0.9

[[gates]]
metric = "f1"
min_absolute_change = 0.01

[[gates]]
metric = "precision"
threshold = 0.5
"#;

fn metrics(precision: f64, f1: f64) -> Metrics {
    Metrics {
        precision,
        recall: 0.5,
        f1,
        accuracy: 0.9,
        pr_auc: 0.6,
        undefined: BTreeSet::new(),
    }
}

fn deltas(f1: (f64, f64), precision: (f64, f64)) -> BTreeMap<MetricName, Interval> {
    MetricName::ALL
        .iter()
        .map(|&m| {
            let (low, high) = match m {
                MetricName::F1 => f1,
                MetricName::Precision => precision,
                _ => (-1.0, 1.0),
            };
            (m, Interval { low, high })
        })
        .collect()
}

fn policy() -> Policy {
    Policy::from_toml_str(POLICY, "p.toml").unwrap()
}

#[test]
fn parses_gates_with_defaults() {
    let p = policy();
    assert_eq!((p.min_samples, p.confidence, p.resamples), (100, 0.9, 1000));
    assert_eq!(p.gates.len(), 2);
    assert_eq!(p.gates[0].metric, MetricName::F1);
    assert_eq!(p.gates[0].min_absolute_change, Some(0.01));
    assert!(p.gates[1].greater_is_better);
}

#[test]
fn errors_name_the_file_and_field() {
    let cases = [
        (POLICY.replace("\"f1\"", "\"auc\""), "unknown variant `auc`"),
        (
            POLICY.replace("threshold", "treshold"),
            "unknown field `treshold`",
        ),
        (POLICY.replace("0.9", "1.5"), "field `confidence`"),
        ("min_samples = 5\n".to_string(), "missing field `gates`"),
        ("gates = []\n".to_string(), "no [[gates]]"),
        (
            POLICY.replace("min_samples = 100", "min_samples = \"many\""),
            "min_samples",
        ),
    ];
    for (text, expected) in cases {
        let e = Policy::from_toml_str(&text, "policy.toml")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("policy policy.toml: "), "{e}");
        assert!(e.contains(expected), "expected `{expected}` in {e}");
    }
    let e = Policy::from_toml_str(&POLICY.replace("threshold", "treshold"), "policy.toml")
        .unwrap_err()
        .to_string();
    assert!(e.contains("line 11"), "toml errors carry the line: {e}");
}

#[test]
fn promotes_when_every_gate_passes_with_positive_intervals() {
    let j = policy().judge(
        500,
        250,
        &metrics(0.6, 0.50),
        &metrics(0.7, 0.55),
        &deltas((0.01, 0.09), (0.02, 0.2)),
    );
    assert_eq!(j.verdict, Verdict::Promote, "{:?}", j.reasons);
    assert_eq!(j.reasons.len(), 2);
    assert!(j.gates.iter().all(|g| g.passed));
}

#[test]
fn keeps_when_an_interval_is_entirely_worse() {
    let j = policy().judge(
        500,
        250,
        &metrics(0.6, 0.50),
        &metrics(0.7, 0.45),
        &deltas((-0.09, -0.01), (0.02, 0.2)),
    );
    assert_eq!(j.verdict, Verdict::Keep);
    assert!(
        j.reasons
            .iter()
            .any(|r| r.starts_with("f1: challenger is worse")),
        "{:?}",
        j.reasons
    );
}

#[test]
fn keeps_when_a_threshold_is_missed_even_if_improved() {
    let j = policy().judge(
        500,
        250,
        &metrics(0.3, 0.50),
        &metrics(0.4, 0.55),
        &deltas((0.01, 0.09), (0.02, 0.2)),
    );
    assert_eq!(j.verdict, Verdict::Keep);
    assert!(
        j.reasons[0].contains("precision: challenger's 0.4000 is below the threshold 0.5"),
        "{:?}",
        j.reasons
    );
}

#[test]
fn inconclusive_when_an_interval_straddles_zero_or_change_is_too_small() {
    let straddle = policy().judge(
        500,
        250,
        &metrics(0.6, 0.50),
        &metrics(0.7, 0.55),
        &deltas((-0.01, 0.09), (0.02, 0.2)),
    );
    assert_eq!(straddle.verdict, Verdict::Inconclusive);
    assert!(straddle.reasons[0].contains("includes 0"));
    let small = policy().judge(
        500,
        250,
        &metrics(0.6, 0.50),
        &metrics(0.7, 0.505),
        &deltas((0.001, 0.009), (0.02, 0.2)),
    );
    assert_eq!(small.verdict, Verdict::Inconclusive);
    assert!(
        small.reasons[0].contains("min_absolute_change"),
        "{:?}",
        small.reasons
    );
}

#[test]
fn inconclusive_below_min_samples_whatever_the_metrics() {
    let j = policy().judge(
        99,
        49,
        &metrics(0.6, 0.50),
        &metrics(0.7, 0.55),
        &deltas((0.01, 0.09), (0.02, 0.2)),
    );
    assert_eq!(j.verdict, Verdict::Inconclusive);
    assert!(j.reasons[0].contains("only 99 rows"));
}

#[test]
fn lower_is_better_gates_flip_the_direction() {
    let p = Policy::from_toml_str(
        "[[gates]]\nmetric = \"accuracy\"\ngreater_is_better = false\nthreshold = 0.95\n",
        "p",
    )
    .unwrap();
    let mut ci = deltas((0.0, 0.0), (0.0, 0.0));
    ci.insert(
        MetricName::Accuracy,
        Interval {
            low: -0.05,
            high: -0.01,
        },
    );
    let (a, mut b) = (metrics(0.5, 0.5), metrics(0.5, 0.5));
    b.accuracy = 0.87;
    let j = p.judge(5000, 2500, &a, &b, &ci);
    assert_eq!(j.verdict, Verdict::Promote, "{:?}", j.reasons);
    assert_eq!(j.gates[0].direction, Direction::Better);
}

#[test]
fn relative_change_uses_the_champion_magnitude() {
    let p = Policy::from_toml_str(
        "min_samples = 1\nmin_positives = 1\nmin_negatives = 1\n[[gates]]\nmetric = \"f1\"\nmin_relative_change = 0.2\n",
        "p",
    )
    .unwrap();
    let ci = deltas((0.01, 0.2), (0.0, 0.0));
    let j = p.judge(10, 5, &metrics(0.5, 0.5), &metrics(0.5, 0.55), &ci);
    assert!((j.gates[0].relative_change.unwrap() - 0.1).abs() < 1e-12);
    assert_eq!(j.verdict, Verdict::Inconclusive);
    let j = p.judge(10, 5, &metrics(0.5, 0.0), &metrics(0.5, 0.1), &ci);
    assert_eq!(j.gates[0].relative_change, None);
    assert_eq!(
        j.verdict,
        Verdict::Promote,
        "undefined relative change passes on a positive improvement"
    );
}

#[test]
fn too_few_of_one_class_is_inconclusive_whatever_the_gates() {
    // An accuracy-only gate would promote a model that never flags anything on data with no
    // positives; the class minimums stop it before any gate is read.
    let p =
        Policy::from_toml_str("min_samples = 10\n[[gates]]\nmetric = \"accuracy\"\n", "p").unwrap();
    let (a, mut b) = (metrics(0.5, 0.5), metrics(0.5, 0.5));
    b.accuracy = 0.99;
    let mut ci = deltas((0.0, 0.0), (0.0, 0.0));
    ci.insert(
        MetricName::Accuracy,
        Interval {
            low: 0.01,
            high: 0.05,
        },
    );
    assert_eq!(p.judge(5000, 2500, &a, &b, &ci).verdict, Verdict::Promote);
    for (n, positives) in [(5000, 0), (5000, 5000), (5000, 9), (5000, 4991)] {
        let j = p.judge(n, positives, &a, &b, &ci);
        assert_eq!(j.verdict, Verdict::Inconclusive, "{positives} of {n}");
        assert!(
            j.reasons[0].contains("min_positives = 10"),
            "{:?}",
            j.reasons
        );
    }
    let e = Policy::from_toml_str("min_positives = 0\n[[gates]]\nmetric = \"f1\"\n", "p.toml")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("min_positives") && e.contains("at least 1"),
        "{e}"
    );
}

#[test]
fn robustness_gates_parse_with_defaults_and_refuse_a_negative_tolerance() {
    let p = Policy::from_toml_str(
        &format!("{POLICY}\n[[robustness]]\nmetric = \"precision\"\n"),
        "p.toml",
    )
    .unwrap();
    assert_eq!(
        p.robustness,
        vec![RobustnessGate {
            metric: MetricName::Precision,
            rows: RowSet::InFaultWindow,
            max_extra_loss: 0.0,
        }]
    );
    let shipped = Policy::load(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../golden/models/policy-robustness.toml"
    ))
    .unwrap();
    assert_eq!(shipped.robustness, p.robustness);
    let e = Policy::from_toml_str(
        &format!("{POLICY}\n[[robustness]]\nmetric = \"recall\"\nmax_extra_loss = -0.1\n"),
        "p.toml",
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("robustness[0] (recall)") && e.contains("max_extra_loss"),
        "{e}"
    );
    let e = Policy::from_toml_str(
        &format!("{POLICY}\n[[robustness]]\nmetric = \"recall\"\nrows = \"inside\"\n"),
        "p.toml",
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("in_fault_window"), "{e}");
}
