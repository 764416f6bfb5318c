//! Paired bootstrap confidence intervals for the challenger − champion delta of each metric.
//!
//! Each resample draws `n` row indices with replacement from the one seeded [`SeededRng8`]; both
//! models are evaluated on the *same* resample, so the intervals reflect the paired design. A
//! resample is held as a multiplicity per row rather than a copy, which keeps the cost per resample
//! at O(n) even for PR-AUC (each model's ranking is computed once).
//!
//! Intervals are percentile intervals: the `(1 − c)/2` and `(1 + c)/2` quantiles of the resampled
//! deltas, with linear interpolation between order statistics (Hyndman–Fan type 7). A metric that
//! is undefined on a resample counts as 0 there, exactly as in the point estimate.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::metrics::{evaluate_weighted, MetricName, Ranking};
use crate::rng::SeededRng8;

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
/// resamples at `confidence` (e.g. 0.95). Deterministic for a given `rng` state.
pub fn paired_bootstrap(
    labels: &[bool],
    champion: &Scored<'_>,
    challenger: &Scored<'_>,
    resamples: usize,
    confidence: f64,
    rng: &mut SeededRng8,
) -> BTreeMap<MetricName, Interval> {
    let n = labels.len();
    let mut deltas: BTreeMap<MetricName, Vec<f64>> = MetricName::ALL
        .iter()
        .map(|&m| (m, Vec::with_capacity(resamples)))
        .collect();
    let mut counts = vec![0u64; n];
    for _ in 0..resamples {
        counts.iter_mut().for_each(|c| *c = 0);
        for _ in 0..n {
            counts[rng.below(n as u64) as usize] += 1;
        }
        let w = |i: usize| counts[i];
        let a = evaluate_weighted(
            labels,
            champion.scores,
            &champion.predicted,
            &champion.ranking,
            w,
        )
        .metrics;
        let b = evaluate_weighted(
            labels,
            challenger.scores,
            &challenger.predicted,
            &challenger.ranking,
            w,
        )
        .metrics;
        for (m, v) in deltas.iter_mut() {
            v.push(b.get(*m) - a.get(*m));
        }
    }
    let alpha = 1.0 - confidence;
    deltas
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{seeded, stream};
    use proptest::prelude::*;

    #[test]
    fn quantile_interpolates_between_order_statistics() {
        let xs = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(quantile(&xs, 0.0), 1.0);
        assert_eq!(quantile(&xs, 0.5), 3.0);
        assert_eq!(quantile(&xs, 0.125), 1.5);
        assert_eq!(quantile(&xs, 1.0), 5.0);
        assert_eq!(quantile(&[7.0], 0.975), 7.0);
    }

    #[test]
    fn identical_models_have_zero_width_intervals_at_zero() {
        let labels = [true, false, true, false, false, true];
        let scores = [0.9, 0.2, 0.6, 0.7, 0.1, 0.3];
        let a = Scored::new(&scores, 0.5);
        let b = Scored::new(&scores, 0.5);
        let ci = paired_bootstrap(
            &labels,
            &a,
            &b,
            200,
            0.95,
            &mut seeded(1, stream::BOOTSTRAP),
        );
        for (m, i) in ci {
            assert_eq!((i.low, i.high), (0.0, 0.0), "{m}");
        }
    }

    #[test]
    fn a_clearly_better_challenger_has_a_positive_interval() {
        // The challenger ranks every positive above every negative; the champion is random-ish.
        let n = 400;
        let labels: Vec<bool> = (0..n).map(|i| i % 4 == 0).collect();
        let good: Vec<f64> = labels.iter().map(|&l| if l { 0.9 } else { 0.1 }).collect();
        let poor: Vec<f64> = (0..n).map(|i| ((i * 37) % 100) as f64 / 100.0).collect();
        let ci = paired_bootstrap(
            &labels,
            &Scored::new(&poor, 0.5),
            &Scored::new(&good, 0.5),
            300,
            0.95,
            &mut seeded(5, stream::BOOTSTRAP),
        );
        for m in [
            MetricName::Precision,
            MetricName::F1,
            MetricName::PrAuc,
            MetricName::Accuracy,
        ] {
            assert!(ci[&m].low > 0.0, "{m}: {:?}", ci[&m]);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        #[test]
        fn same_seed_gives_same_intervals_and_low_le_high(
            rows in prop::collection::vec((any::<bool>(), 0u8..=20, 0u8..=20), 1..80),
            seed in any::<u64>(),
        ) {
            let labels: Vec<bool> = rows.iter().map(|r| r.0).collect();
            let a_scores: Vec<f64> = rows.iter().map(|r| f64::from(r.1) / 20.0).collect();
            let b_scores: Vec<f64> = rows.iter().map(|r| f64::from(r.2) / 20.0).collect();
            let (a, b) = (Scored::new(&a_scores, 0.5), Scored::new(&b_scores, 0.5));
            let run = || paired_bootstrap(&labels, &a, &b, 50, 0.9, &mut seeded(seed, stream::BOOTSTRAP));
            let first = run();
            prop_assert_eq!(&first, &run());
            for (m, i) in &first {
                prop_assert!(i.low <= i.high, "{}: {:?}", m, i);
                prop_assert!(i.low >= -1.0 && i.high <= 1.0);
            }
        }
    }
}
