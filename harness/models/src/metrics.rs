//! Classification metrics of one model: confusion matrix, precision, recall, F1, accuracy and
//! PR-AUC (average precision), plus the precision–recall curve.
//!
//! Degenerate cases are defined, never NaN, and flagged:
//! - precision with no predicted positives (TP + FP = 0) is 0 and `precision` is listed in
//!   [`Metrics::undefined`];
//! - recall and PR-AUC with no actual positives are 0 and flagged the same way;
//! - F1 is 0 when precision + recall is 0 (flagged only if precision or recall was);
//! - accuracy of zero rows is 0 and flagged.
//!
//! Weights let the bootstrap evaluate a resample without materialising it: row `i` counts
//! `weight(i)` times (its multiplicity in the resample).

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The metrics a policy can gate on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricName {
    /// TP / (TP + FP).
    Precision,
    /// TP / (TP + FN).
    Recall,
    /// Harmonic mean of precision and recall.
    F1,
    /// (TP + TN) / n.
    Accuracy,
    /// Average precision: Σ (Rₖ − Rₖ₋₁)·Pₖ over distinct score thresholds.
    PrAuc,
}

impl MetricName {
    /// Every metric, in report order.
    pub const ALL: [MetricName; 5] = [
        MetricName::Precision,
        MetricName::Recall,
        MetricName::F1,
        MetricName::Accuracy,
        MetricName::PrAuc,
    ];

    /// The snake_case name used in policies and outputs.
    pub fn as_str(&self) -> &'static str {
        match self {
            MetricName::Precision => "precision",
            MetricName::Recall => "recall",
            MetricName::F1 => "f1",
            MetricName::Accuracy => "accuracy",
            MetricName::PrAuc => "pr_auc",
        }
    }
}

impl fmt::Display for MetricName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for MetricName {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        MetricName::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<_> = MetricName::ALL.iter().map(MetricName::as_str).collect();
                format!("unknown metric `{s}`; expected one of {}", names.join(", "))
            })
    }
}

/// Counts of the four outcomes at the model's threshold.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confusion {
    /// Fraud predicted as fraud.
    pub tp: u64,
    /// Legitimate predicted as fraud.
    pub fp: u64,
    /// Legitimate predicted as legitimate.
    pub tn: u64,
    /// Fraud predicted as legitimate.
    #[serde(rename = "fn")]
    pub fn_: u64,
}

impl Confusion {
    /// Counts predictions against labels, row `i` weighted by `weight(i)`.
    pub fn weighted(labels: &[bool], predicted: &[bool], weight: impl Fn(usize) -> u64) -> Self {
        let mut c = Confusion::default();
        for (i, (&l, &p)) in labels.iter().zip(predicted).enumerate() {
            let w = weight(i);
            match (l, p) {
                (true, true) => c.tp += w,
                (false, true) => c.fp += w,
                (false, false) => c.tn += w,
                (true, false) => c.fn_ += w,
            }
        }
        c
    }

    /// Unweighted counts.
    pub fn new(labels: &[bool], predicted: &[bool]) -> Self {
        Confusion::weighted(labels, predicted, |_| 1)
    }

    /// Total rows counted.
    pub fn total(&self) -> u64 {
        self.tp + self.fp + self.tn + self.fn_
    }
}

/// The point metrics of one model; see the module docs for degenerate cases.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// TP / (TP + FP), or 0 when nothing is predicted positive.
    pub precision: f64,
    /// TP / (TP + FN), or 0 without positives.
    pub recall: f64,
    /// 2PR / (P + R), or 0.
    pub f1: f64,
    /// (TP + TN) / n.
    pub accuracy: f64,
    /// Average precision over the score ranking.
    pub pr_auc: f64,
    /// Metrics whose ratio had a zero denominator and were set to 0.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub undefined: BTreeSet<MetricName>,
}

impl Metrics {
    /// Metrics from a confusion matrix and an average precision (`None` when undefined).
    pub fn new(c: &Confusion, pr_auc: Option<f64>) -> Self {
        let mut undefined = BTreeSet::new();
        let mut ratio = |num: u64, den: u64, name: MetricName| {
            if den == 0 {
                undefined.insert(name);
                0.0
            } else {
                num as f64 / den as f64
            }
        };
        let precision = ratio(c.tp, c.tp + c.fp, MetricName::Precision);
        let recall = ratio(c.tp, c.tp + c.fn_, MetricName::Recall);
        let accuracy = ratio(c.tp + c.tn, c.total(), MetricName::Accuracy);
        let f1 = if precision + recall > 0.0 {
            2.0 * precision * recall / (precision + recall)
        } else {
            0.0
        };
        if undefined.contains(&MetricName::Precision) || undefined.contains(&MetricName::Recall) {
            undefined.insert(MetricName::F1);
        }
        if pr_auc.is_none() {
            undefined.insert(MetricName::PrAuc);
        }
        Metrics {
            precision,
            recall,
            f1,
            accuracy,
            pr_auc: pr_auc.unwrap_or(0.0),
            undefined,
        }
    }

    /// The value of one metric.
    pub fn get(&self, m: MetricName) -> f64 {
        match m {
            MetricName::Precision => self.precision,
            MetricName::Recall => self.recall,
            MetricName::F1 => self.f1,
            MetricName::Accuracy => self.accuracy,
            MetricName::PrAuc => self.pr_auc,
        }
    }
}

/// A key whose ascending order is `f64::total_cmp`'s descending order (the same bit trick).
fn descending_key(x: f64) -> u64 {
    let bits = x.to_bits() as i64;
    let total = bits ^ (((bits >> 63) as u64) >> 1) as i64;
    !((total as u64) ^ (1 << 63))
}

/// Row indices ordered by descending score (ties by index), computed once per model.
#[derive(Debug, Clone)]
pub struct Ranking {
    order: Vec<usize>,
}

impl Ranking {
    /// Ranks `scores`, which must be finite.
    pub fn new(scores: &[f64]) -> Self {
        // Sorting (key, index) pairs rather than indices compared through `scores` keeps the
        // comparisons in cache: several times faster on a million rows, same order.
        let mut keyed: Vec<(u64, usize)> = scores
            .iter()
            .enumerate()
            .map(|(i, &s)| (descending_key(s), i))
            .collect();
        keyed.sort_unstable();
        Ranking {
            order: keyed.into_iter().map(|(_, i)| i).collect(),
        }
    }

    /// Row indices, highest score first.
    pub fn order(&self) -> &[usize] {
        &self.order
    }

    /// Walks the distinct score thresholds from high to low, calling `visit(threshold, tp, fp)`
    /// with the weighted counts of rows scoring at or above it.
    fn sweep(
        &self,
        scores: &[f64],
        labels: &[bool],
        weight: &impl Fn(usize) -> u64,
        mut visit: impl FnMut(f64, u64, u64),
    ) {
        let (mut tp, mut fp) = (0u64, 0u64);
        let mut k = 0;
        while k < self.order.len() {
            let s = scores[self.order[k]];
            while k < self.order.len() && scores[self.order[k]] == s {
                let i = self.order[k];
                let w = weight(i);
                if labels[i] {
                    tp += w
                } else {
                    fp += w
                }
                k += 1;
            }
            if tp + fp > 0 {
                visit(s, tp, fp);
            }
        }
    }

    /// Weighted average precision, or `None` when there is no (weighted) positive.
    pub fn average_precision(
        &self,
        scores: &[f64],
        labels: &[bool],
        weight: impl Fn(usize) -> u64,
    ) -> Option<f64> {
        let positives: u64 = labels
            .iter()
            .enumerate()
            .filter(|(_, &l)| l)
            .map(|(i, _)| weight(i))
            .sum();
        if positives == 0 {
            return None;
        }
        let (mut ap, mut prev_recall) = (0.0, 0.0);
        self.sweep(scores, labels, &weight, |_, tp, fp| {
            let recall = tp as f64 / positives as f64;
            ap += (recall - prev_recall) * (tp as f64 / (tp + fp) as f64);
            prev_recall = recall;
        });
        Some(ap)
    }

    /// The precision–recall curve, one point per distinct threshold, thinned to at most
    /// `max_points` (the first and last points are always kept).
    pub fn pr_curve(&self, scores: &[f64], labels: &[bool], max_points: usize) -> Vec<PrPoint> {
        let positives = labels.iter().filter(|&&l| l).count() as u64;
        let mut points = Vec::new();
        self.sweep(scores, labels, &|_| 1, |threshold, tp, fp| {
            let recall = if positives == 0 {
                0.0
            } else {
                tp as f64 / positives as f64
            };
            points.push(PrPoint {
                threshold,
                recall,
                precision: tp as f64 / (tp + fp) as f64,
            });
        });
        thin(points, max_points.max(2))
    }
}

/// One point of a precision–recall curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PrPoint {
    /// Score threshold (predict positive at or above).
    pub threshold: f64,
    /// Recall at that threshold.
    pub recall: f64,
    /// Precision at that threshold.
    pub precision: f64,
}

fn thin(points: Vec<PrPoint>, max: usize) -> Vec<PrPoint> {
    if points.len() <= max {
        return points;
    }
    let last = points.len() - 1;
    (0..max).map(|k| points[k * last / (max - 1)]).collect()
}

/// Everything measured for one model on one dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Confusion matrix at the model's threshold.
    pub confusion: Confusion,
    /// Point metrics.
    pub metrics: Metrics,
}

/// Predictions of `scores` at `threshold` (positive when `score >= threshold`).
pub fn predict(scores: &[f64], threshold: f64) -> Vec<bool> {
    scores.iter().map(|&s| s >= threshold).collect()
}

/// Evaluates predictions and a ranking against labels with row weights.
pub fn evaluate_weighted(
    labels: &[bool],
    scores: &[f64],
    predicted: &[bool],
    ranking: &Ranking,
    weight: impl Fn(usize) -> u64 + Copy,
) -> Evaluation {
    let confusion = Confusion::weighted(labels, predicted, weight);
    let ap = ranking.average_precision(scores, labels, weight);
    Evaluation {
        confusion,
        metrics: Metrics::new(&confusion, ap),
    }
}

/// Evaluates one model's `scores` at `threshold` against `labels`.
pub fn evaluate(labels: &[bool], scores: &[f64], threshold: f64) -> Evaluation {
    evaluate_weighted(
        labels,
        scores,
        &predict(scores, threshold),
        &Ranking::new(scores),
        |_| 1,
    )
}

#[cfg(test)]
mod tests;
