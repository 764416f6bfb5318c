//! Row resampling, the reference: each resample draws `n` row indices with replacement. A resample
//! is held as a multiplicity per row rather than a copy, which keeps its cost at O(n) even for
//! PR-AUC (each model's ranking is computed once), so the whole bootstrap is O(n × resamples).
//! Any number of score vectors can be measured on one resample, which is what a contrast of two
//! paired changes needs ([`super::paired_change_contrast`]).

use std::collections::BTreeMap;

use super::Scored;
use crate::metrics::{evaluate_weighted, MetricName, Metrics};
use crate::rng::SeededRng8;

/// Draws `resamples` row resamples and measures every one of `models` on each; `each` gets one
/// resample's metrics, in `models` order. The draws depend on the rows' count and `rng` only.
pub fn each_resample(
    labels: &[bool],
    models: &[&Scored<'_>],
    resamples: usize,
    rng: &mut SeededRng8,
    mut each: impl FnMut(&[Metrics]),
) {
    let n = labels.len();
    let mut counts = vec![0u64; n];
    let mut measured = Vec::with_capacity(models.len());
    for _ in 0..resamples {
        counts.iter_mut().for_each(|c| *c = 0);
        for _ in 0..n {
            counts[rng.below(n as u64) as usize] += 1;
        }
        let w = |i: usize| counts[i];
        measured.clear();
        measured.extend(
            models.iter().map(|s| {
                evaluate_weighted(labels, s.scores(), s.predicted(), s.ranking(), w).metrics
            }),
        );
        each(&measured);
    }
}

/// Every metric's challenger − champion delta on each of `resamples` row resamples.
pub fn resampled_deltas(
    labels: &[bool],
    champion: &Scored<'_>,
    challenger: &Scored<'_>,
    resamples: usize,
    rng: &mut SeededRng8,
) -> BTreeMap<MetricName, Vec<f64>> {
    let mut deltas: BTreeMap<MetricName, Vec<f64>> = MetricName::ALL
        .iter()
        .map(|&m| (m, Vec::with_capacity(resamples)))
        .collect();
    each_resample(labels, &[champion, challenger], resamples, rng, |m| {
        for (name, v) in deltas.iter_mut() {
            v.push(m[1].get(*name) - m[0].get(*name));
        }
    });
    deltas
}
