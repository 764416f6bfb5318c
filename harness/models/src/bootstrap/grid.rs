//! The cells PR-AUC is resampled over: each model's scores cut into ordered bins, and the joint
//! table of (label, champion bin, challenger bin) over the rows.
//!
//! Resampling rows is the same as resampling these cells with a multinomial, as long as a model's
//! average precision can be read off its bins. It can exactly when every bin holds one distinct
//! score; with more distinct scores than [`MAX_BINS`], ties are made within a bin, which changes the
//! resampled statistic by a little and its spread by less. The bins are cut so that positives and
//! negatives weigh the same in total, which keeps them fine where the positives are: that is where
//! average precision changes. The joint table keeps the pairing, since a row moves both models'
//! bins at once; only occupied cells are kept, merging neighbouring bins in pairs until they fit
//! [`CELL_BUDGET`].

use super::Scored;

/// Bins per model at most (a model with fewer distinct scores gets one bin per score).
pub const MAX_BINS: usize = 256;
/// Occupied joint cells at most: one binomial each per resample.
pub const CELL_BUDGET: usize = 6_000;
/// Bins per model at least, whatever the cell count.
const MIN_BINS: usize = 16;

/// The bin of each row, bin 0 holding the highest scores; equal scores share a bin.
#[derive(Debug, Clone)]
struct Bins {
    of_row: Vec<u32>,
    count: usize,
}

impl Bins {
    /// Cuts `model`'s ranking into about `max_bins` bins of equal weight, a positive weighing
    /// negatives / positives so that each class weighs the same.
    fn new(labels: &[bool], model: &Scored<'_>, max_bins: usize) -> Self {
        let scores = model.scores();
        let positives = labels.iter().filter(|&&l| l).count();
        let negatives = labels.len() - positives;
        let positive_weight = if positives == 0 || negatives == 0 {
            1.0
        } else {
            negatives as f64 / positives as f64
        };
        let weight = |i: usize| if labels[i] { positive_weight } else { 1.0 };
        let total = negatives as f64 + positives as f64 * positive_weight;
        let per_bin = total / max_bins as f64;
        let mut of_row = vec![0u32; labels.len()];
        let (mut bin, mut filled) = (0u32, 0.0);
        let order = model.ranking().order();
        let mut k = 0;
        while k < order.len() {
            // A whole tie group goes into the current bin.
            let s = scores[order[k]];
            while k < order.len() && scores[order[k]] == s {
                of_row[order[k]] = bin;
                filled += weight(order[k]);
                k += 1;
            }
            if filled >= per_bin && k < order.len() {
                bin += 1;
                filled = 0.0;
            }
        }
        Bins {
            of_row,
            count: bin as usize + 1,
        }
    }
}

/// The occupied (label, champion bin, challenger bin) cells and their row counts.
#[derive(Debug, Clone)]
pub struct JointCells {
    /// Rows in each cell, as the multinomial's weights.
    rows: Vec<f64>,
    label: Vec<bool>,
    champion_bin: Vec<u32>,
    challenger_bin: Vec<u32>,
    champion_bins: usize,
    challenger_bins: usize,
}

impl JointCells {
    /// The cells of both models' bins over `labels`, at the finest bins that fit the budget.
    pub fn new(labels: &[bool], champion: &Scored<'_>, challenger: &Scored<'_>) -> Self {
        let (a, b) = (
            Bins::new(labels, champion, MAX_BINS),
            Bins::new(labels, challenger, MAX_BINS),
        );
        // One pass over the rows at the finest bins; coarser tables merge neighbouring bins
        // (bin >> shift), so trying them costs the table's size, not the rows'.
        let mut fine = vec![0u64; 2 * a.count * b.count];
        for (r, &l) in labels.iter().enumerate() {
            fine[(usize::from(l) * a.count + a.of_row[r] as usize) * b.count
                + b.of_row[r] as usize] += 1;
        }
        let mut shift = 0;
        loop {
            let cells = JointCells::merged(&fine, a.count, b.count, shift);
            if cells.len() <= CELL_BUDGET || (MAX_BINS >> shift) <= MIN_BINS {
                return cells;
            }
            shift += 1;
        }
    }

    /// The occupied cells of the `fine` table (2 × `fine_a` × `fine_b`) with bins merged
    /// `2^shift` at a time.
    fn merged(fine: &[u64], fine_a: usize, fine_b: usize, shift: u32) -> Self {
        let (na, nb) = (((fine_a - 1) >> shift) + 1, ((fine_b - 1) >> shift) + 1);
        let mut dense = vec![0u64; 2 * na * nb];
        for l in 0..2 {
            for i in 0..fine_a {
                for j in 0..fine_b {
                    let c = fine[(l * fine_a + i) * fine_b + j];
                    dense[(l * na + (i >> shift)) * nb + (j >> shift)] += c;
                }
            }
        }
        let mut cells = JointCells {
            rows: Vec::new(),
            label: Vec::new(),
            champion_bin: Vec::new(),
            challenger_bin: Vec::new(),
            champion_bins: na,
            challenger_bins: nb,
        };
        for (k, &c) in dense.iter().enumerate() {
            if c > 0 {
                cells.rows.push(c as f64);
                cells.label.push(k >= na * nb);
                cells.champion_bin.push(((k / nb) % na) as u32);
                cells.challenger_bin.push((k % nb) as u32);
            }
        }
        cells
    }

    /// Occupied cells.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether no row was counted.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Rows per cell, in cell order: the weights of the multinomial.
    pub fn rows(&self) -> &[f64] {
        &self.rows
    }

    /// Challenger − champion average precision with `counts[k]` rows in cell `k` (0 for a model
    /// on a draw without positives, as in the point estimate). `scratch` is reused across calls.
    pub fn pr_auc_delta(&self, counts: &[u64], scratch: &mut Scratch) -> f64 {
        scratch.reset(self.champion_bins, self.challenger_bins);
        for (k, &c) in counts.iter().enumerate() {
            let class = usize::from(self.label[k]);
            scratch.champion[class][self.champion_bin[k] as usize] += c;
            scratch.challenger[class][self.challenger_bin[k] as usize] += c;
        }
        average_precision(&scratch.challenger) - average_precision(&scratch.champion)
    }

    /// [`pr_auc_delta`](Self::pr_auc_delta) on the data itself (every cell at its row count).
    pub fn binned_pr_auc_delta(&self) -> f64 {
        let counts: Vec<u64> = self.rows.iter().map(|&r| r as u64).collect();
        self.pr_auc_delta(&counts, &mut Scratch::default())
    }
}

/// Per-bin counts of negatives `[0]` and positives `[1]` for each model, reused per resample.
#[derive(Debug, Default)]
pub struct Scratch {
    champion: [Vec<u64>; 2],
    challenger: [Vec<u64>; 2],
}

impl Scratch {
    fn reset(&mut self, champion_bins: usize, challenger_bins: usize) {
        for (v, len) in self
            .champion
            .iter_mut()
            .map(|v| (v, champion_bins))
            .chain(self.challenger.iter_mut().map(|v| (v, challenger_bins)))
        {
            v.clear();
            v.resize(len, 0);
        }
    }
}

/// Average precision from per-bin counts, bins from the highest scores down; 0 without positives.
fn average_precision(by_class: &[Vec<u64>; 2]) -> f64 {
    let positives: u64 = by_class[1].iter().sum();
    if positives == 0 {
        return 0.0;
    }
    let (mut tp, mut fp, mut ap, mut prev_recall) = (0u64, 0u64, 0.0, 0.0);
    for (neg, pos) in by_class[0].iter().zip(&by_class[1]) {
        tp += pos;
        fp += neg;
        if tp + fp > 0 {
            let recall = tp as f64 / positives as f64;
            ap += (recall - prev_recall) * (tp as f64 / (tp + fp) as f64);
            prev_recall = recall;
        }
    }
    ap
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn few_distinct_scores_give_the_exact_average_precision() {
        let labels = [true, false, true, false, false, true, false, true];
        let a = [0.9, 0.2, 0.6, 0.7, 0.1, 0.3, 0.3, 0.6];
        let b = [0.1, 0.2, 0.8, 0.7, 0.4, 0.9, 0.2, 0.5];
        let (sa, sb) = (Scored::new(&a, 0.5), Scored::new(&b, 0.5));
        let exact = |s: &Scored<'_>| s.ranking().average_precision(s.scores(), &labels, |_| 1);
        let cells = JointCells::new(&labels, &sa, &sb);
        let want = exact(&sb).unwrap() - exact(&sa).unwrap();
        assert!((cells.binned_pr_auc_delta() - want).abs() < 1e-12);
        assert_eq!(cells.rows().iter().sum::<f64>(), labels.len() as f64);
    }

    #[test]
    fn many_distinct_scores_stay_within_the_cell_budget_and_close_to_exact() {
        let n = 200_000;
        let labels: Vec<bool> = (0..n).map(|i| (i * 7919) % 13 == 0).collect();
        let a: Vec<f64> = (0..n)
            .map(|i| {
                ((i * 104_729) % 100_003) as f64 / 100_003.0 * 0.7
                    + if labels[i] { 0.3 } else { 0.0 }
            })
            .collect();
        let b: Vec<f64> = (0..n)
            .map(|i| (a[i] + ((i * 31) % 1000) as f64 / 5000.0).min(1.0))
            .collect();
        let (sa, sb) = (Scored::new(&a, 0.5), Scored::new(&b, 0.5));
        let cells = JointCells::new(&labels, &sa, &sb);
        assert!(cells.len() <= CELL_BUDGET, "{} cells", cells.len());
        let exact = |s: &Scored<'_>| s.ranking().average_precision(s.scores(), &labels, |_| 1);
        let want = exact(&sb).unwrap() - exact(&sa).unwrap();
        assert!(
            (cells.binned_pr_auc_delta() - want).abs() < 0.005,
            "{} vs {want}",
            cells.binned_pr_auc_delta()
        );
    }
}
