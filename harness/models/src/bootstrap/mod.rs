//! Paired bootstrap confidence intervals for the challenger − champion delta of each metric.
//!
//! Both models are measured on the *same* resample, so the intervals reflect the paired design.
//! Two ways to draw a resample, chosen by [`Resampling`] (the policy's `bootstrap` key, or
//! `faultline compare --bootstrap`):
//! - [`counts`] (the default) draws how many rows fall in each cell of a joint table, one
//!   multinomial per resample, so its cost follows the number of cells rather than the rows;
//! - [`rows`] draws `n` row indices with replacement, the textbook scheme kept as the reference.
//!
//! Intervals are percentile intervals: the `(1 − c)/2` and `(1 + c)/2` quantiles of the resampled
//! deltas, with linear interpolation between order statistics (Hyndman–Fan type 7). A metric that
//! is undefined on a resample counts as 0 there, exactly as in the point estimate.
//!
//! Module map:
//! - [`rows`]   row-index resampling, held as a multiplicity per row; any number of models per
//!   resample, which [`paired_change_contrast`] uses for four.
//! - [`counts`] multinomial resampling of the agreement cells and of the binned score cells.
//! - [`grid`]   the score bins and joint (label, champion bin, challenger bin) cells of PR-AUC.

pub mod counts;
pub mod grid;
pub mod rows;

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::metrics::{MetricName, Ranking};
use crate::rng::SeededRng8;

/// How a paired bootstrap draws its resamples.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resampling {
    /// A multinomial over the cells of label × champion × challenger (decisions for the threshold
    /// metrics, fine score bins for PR-AUC): seconds on millions of rows.
    #[default]
    Counts,
    /// `n` row indices with replacement per resample: O(rows × resamples), the reference.
    Rows,
}

impl Resampling {
    /// Every method, as named in policies and on the command line.
    pub const ALL: [Resampling; 2] = [Resampling::Counts, Resampling::Rows];

    /// The name used in policies, outputs and `--bootstrap`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Resampling::Counts => "counts",
            Resampling::Rows => "rows",
        }
    }
}

impl fmt::Display for Resampling {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Resampling {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Resampling::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| format!("unknown bootstrap method `{s}`; expected counts or rows"))
    }
}

/// One model's scores prepared for resampling.
#[derive(Debug, Clone)]
pub struct Scored<'a> {
    scores: &'a [f64],
    predicted: Vec<bool>,
    ranking: Ranking,
}

impl<'a> Scored<'a> {
    /// Predictions at `threshold` and the score ranking of `scores`.
    pub fn new(scores: &'a [f64], threshold: f64) -> Self {
        Scored {
            scores,
            predicted: crate::metrics::predict(scores, threshold),
            ranking: Ranking::new(scores),
        }
    }

    /// Predictions at the model's threshold.
    pub fn predicted(&self) -> &[bool] {
        &self.predicted
    }

    /// The scores.
    pub fn scores(&self) -> &'a [f64] {
        self.scores
    }

    /// Rows by descending score.
    pub fn ranking(&self) -> &Ranking {
        &self.ranking
    }
}

/// A two-sided interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    /// Lower bound.
    pub low: f64,
    /// Upper bound.
    pub high: f64,
}

/// The `q`-quantile of sorted `xs` with linear interpolation (type 7).
///
/// # Panics
/// If `xs` is empty; callers always have at least one resample.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    assert!(!sorted.is_empty(), "quantile of nothing");
    let pos = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// Percentile intervals of every metric's delta (challenger − champion) over `resamples` paired
/// resamples drawn by `method`, at `confidence` (e.g. 0.95). Deterministic for a given `rng`
/// state.
pub fn paired_bootstrap(
    labels: &[bool],
    champion: &Scored<'_>,
    challenger: &Scored<'_>,
    method: Resampling,
    resamples: usize,
    confidence: f64,
    rng: &mut SeededRng8,
) -> BTreeMap<MetricName, Interval> {
    let deltas = match method {
        Resampling::Counts => {
            counts::resampled_deltas(labels, champion, challenger, resamples, rng)
        }
        Resampling::Rows => rows::resampled_deltas(labels, champion, challenger, resamples, rng),
    };
    percentile_intervals(deltas, confidence)
}

/// Each metric's percentile interval at `confidence` over its resampled values.
fn percentile_intervals(
    resampled: BTreeMap<MetricName, Vec<f64>>,
    confidence: f64,
) -> BTreeMap<MetricName, Interval> {
    let alpha = 1.0 - confidence;
    resampled
        .into_iter()
        .map(|(m, mut v)| {
            v.sort_by(f64::total_cmp);
            (
                m,
                Interval {
                    low: quantile(&v, alpha / 2.0),
                    high: quantile(&v, 1.0 - alpha / 2.0),
                },
            )
        })
        .collect()
}

/// One model's scores on the same rows before and after something changed (a fault-free run and
/// a faulted run of the same seed).
#[derive(Debug, Clone, Copy)]
pub struct Paired<'s, 'a> {
    /// Scores before.
    pub before: &'s Scored<'a>,
    /// Scores after.
    pub after: &'s Scored<'a>,
}

/// Percentile intervals of every metric's contrast of two paired changes,
/// `(challenger.after − challenger.before) − (champion.after − champion.before)`, all four score
/// vectors measured on the same row resamples ([`rows::each_resample`]): the count tables of
/// [`counts`] hold two models, a contrast needs four. Deterministic for a given `rng` state.
pub fn paired_change_contrast(
    labels: &[bool],
    champion: Paired<'_, '_>,
    challenger: Paired<'_, '_>,
    resamples: usize,
    confidence: f64,
    rng: &mut SeededRng8,
) -> BTreeMap<MetricName, Interval> {
    let mut contrasts: BTreeMap<MetricName, Vec<f64>> = MetricName::ALL
        .iter()
        .map(|&m| (m, Vec::with_capacity(resamples)))
        .collect();
    let models = [
        champion.before,
        champion.after,
        challenger.before,
        challenger.after,
    ];
    rows::each_resample(labels, &models, resamples, rng, |m| {
        for (name, v) in contrasts.iter_mut() {
            let change = |before: usize| m[before + 1].get(*name) - m[before].get(*name);
            v.push(change(2) - change(0));
        }
    });
    percentile_intervals(contrasts, confidence)
}

#[cfg(test)]
mod tests;
