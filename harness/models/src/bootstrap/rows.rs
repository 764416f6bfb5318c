//! Row resampling, the reference: each resample draws `n` row indices with replacement. A resample
//! is held as a multiplicity per row rather than a copy, which keeps its cost at O(n) even for
//! PR-AUC (each model's ranking is computed once), so the whole bootstrap is O(n × resamples).

use std::collections::BTreeMap;

use super::Scored;
use crate::metrics::{evaluate_weighted, MetricName};
use crate::rng::SeededRng8;

/// Every metric's challenger − champion delta on each of `resamples` row resamples.
pub fn resampled_deltas(
    labels: &[bool],
    champion: &Scored<'_>,
    challenger: &Scored<'_>,
    resamples: usize,
    rng: &mut SeededRng8,
) -> BTreeMap<MetricName, Vec<f64>> {
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
        let measure = |s: &Scored<'_>| {
            evaluate_weighted(labels, s.scores(), s.predicted(), s.ranking(), w).metrics
        };
        let (a, b) = (measure(champion), measure(challenger));
        for (m, v) in deltas.iter_mut() {
            v.push(b.get(*m) - a.get(*m));
        }
    }
    deltas
}
