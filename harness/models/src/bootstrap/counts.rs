//! Count resampling: a resample of `n` rows is a multinomial draw of how many rows land in each
//! cell of a table, so its cost follows the number of cells, not `n`.
//!
//! - Precision, recall, F1 and accuracy depend on a row only through (label, champion decision,
//!   challenger decision): 8 cells, and the draw gives exactly the distribution that row resampling
//!   gives.
//! - PR-AUC depends on the scores' order. Its cells are [`JointCells`]: (label, champion bin,
//!   challenger bin), drawn jointly so the pairing holds. Each resampled delta is measured on the
//!   bins and moved by the full data's exact delta minus its binned delta, so the interval is
//!   centred on the exact PR-AUC of the full data, the point estimate.
//!
//! Resamples run in chunks of [`CHUNK`], each drawing from its own stream seeded from the
//! comparison's, on as many threads as there are cores; each resample takes two multinomials, the
//! agreement cells' first. The result depends on the seed alone.

use std::collections::BTreeMap;

use super::grid::{JointCells, Scratch};
use super::Scored;
use crate::metrics::{Confusion, MetricName, Metrics};
use crate::rng::{seeded, stream, SeededRng8};

/// Resamples per chunk: each chunk draws from its own stream, so chunks can run on any core.
const CHUNK: usize = 50;

/// The agreement cell of one row: label × champion decision × challenger decision.
fn agreement_cell(label: bool, champion: bool, challenger: bool) -> usize {
    usize::from(label) << 2 | usize::from(champion) << 1 | usize::from(challenger)
}

/// The champion's and the challenger's confusion matrices from rows per agreement cell.
fn confusions(cells: &[u64; 8]) -> (Confusion, Confusion) {
    let (mut a, mut b) = (Confusion::default(), Confusion::default());
    for (k, &c) in cells.iter().enumerate() {
        let label = k & 4 != 0;
        for (m, predicted) in [(&mut a, k & 2 != 0), (&mut b, k & 1 != 0)] {
            match (label, predicted) {
                (true, true) => m.tp += c,
                (false, true) => m.fp += c,
                (false, false) => m.tn += c,
                (true, false) => m.fn_ += c,
            }
        }
    }
    (a, b)
}

/// Every metric's challenger − champion delta on each of `resamples` count resamples.
pub fn resampled_deltas(
    labels: &[bool],
    champion: &Scored<'_>,
    challenger: &Scored<'_>,
    resamples: usize,
    rng: &mut SeededRng8,
) -> BTreeMap<MetricName, Vec<f64>> {
    let n = labels.len() as u64;
    let mut agreement = [0.0f64; 8];
    for (i, &l) in labels.iter().enumerate() {
        agreement[agreement_cell(l, champion.predicted()[i], challenger.predicted()[i])] += 1.0;
    }
    let cells = JointCells::new(labels, champion, challenger);
    let exact = |s: &Scored<'_>| {
        s.ranking()
            .average_precision(s.scores(), labels, |_| 1)
            .unwrap_or(0.0)
    };
    let shift = exact(challenger) - exact(champion) - cells.binned_pr_auc_delta();

    // Fixed chunks of resamples, each on its own stream seeded from `rng`, spread over the cores:
    // the draws depend on the seed only, never on how many threads ran them.
    let chunks = resamples.div_ceil(CHUNK);
    let seeds: Vec<u64> = (0..chunks).map(|_| rng.next_u64()).collect();
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, chunks.max(1));
    let draw_chunk = |k: usize| {
        let mut rng = seeded(seeds[k], stream::BOOTSTRAP);
        let mut drawn_agreement = [0u64; 8];
        let mut drawn_cells = vec![0u64; cells.len()];
        let mut scratch = Scratch::default();
        let count = CHUNK.min(resamples - k * CHUNK);
        (0..count)
            .map(|_| {
                rng.multinomial(n, &agreement, &mut drawn_agreement);
                let (ca, cb) = confusions(&drawn_agreement);
                let (a, b) = (Metrics::new(&ca, None), Metrics::new(&cb, None));
                rng.multinomial(n, cells.rows(), &mut drawn_cells);
                let pr_auc = cells.pr_auc_delta(&drawn_cells, &mut scratch) + shift;
                MetricName::ALL.map(|m| match m {
                    MetricName::PrAuc => pr_auc,
                    _ => b.get(m) - a.get(m),
                })
            })
            .collect::<Vec<_>>()
    };
    let mut by_chunk: Vec<Vec<[f64; 5]>> = vec![Vec::new(); chunks];
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                let draw_chunk = &draw_chunk;
                scope.spawn(move || {
                    (t..chunks)
                        .step_by(threads)
                        .map(|k| (k, draw_chunk(k)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for w in workers {
            for (k, d) in w.join().expect("a bootstrap worker panicked") {
                by_chunk[k] = d;
            }
        }
    });
    let mut deltas: BTreeMap<MetricName, Vec<f64>> = MetricName::ALL
        .iter()
        .map(|&m| (m, Vec::with_capacity(resamples)))
        .collect();
    for row in by_chunk.iter().flatten() {
        for (m, v) in MetricName::ALL.iter().zip(row) {
            deltas.get_mut(m).expect("every metric").push(*v);
        }
    }
    deltas
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agreement_cells_rebuild_both_confusion_matrices() {
        let labels = [true, true, false, false, true, false];
        let a = [true, false, true, false, true, false];
        let b = [true, true, false, true, false, false];
        let mut cells = [0u64; 8];
        for i in 0..labels.len() {
            cells[agreement_cell(labels[i], a[i], b[i])] += 1;
        }
        let (ca, cb) = confusions(&cells);
        assert_eq!(ca, Confusion::new(&labels, &a));
        assert_eq!(cb, Confusion::new(&labels, &b));
    }
}
