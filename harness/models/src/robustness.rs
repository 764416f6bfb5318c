//! Robustness under faults: how each model's metrics change from a fault-free run to a faulted run
//! of the same seed. The same seed sends the same transactions, so every transaction scored in
//! both runs is a pair; the pairs are split by whether the record was sent inside a fault window.
//! For each split, each model's change (faulted − fault-free) gets a paired bootstrap interval
//! ([`paired_bootstrap`], the policy's resampling), and the challenger's change minus the
//! champion's gets one from the same row resamples of all four score vectors
//! ([`paired_change_contrast`]). The policy's `[[robustness]]` gates judge that last interval
//! (see [`crate::policy`]).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::bootstrap::{paired_bootstrap, paired_change_contrast, Interval, Paired, Scored};
use crate::compare::Delta;
use crate::metrics::{evaluate, MetricName};
use crate::policy::{Policy, RobustnessGate};
use crate::rng::{seeded, stream};

/// Which paired rows a split (and a gate) covers, by when each record was sent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RowSet {
    /// Records sent while a fault was active (an instant fault counts 5 s either side).
    #[default]
    InFaultWindow,
    /// Records sent while no fault was active.
    OutsideFaultWindows,
    /// Every paired record.
    All,
}

impl RowSet {
    /// Every split, in report order.
    pub const ALL: [RowSet; 3] = [
        RowSet::All,
        RowSet::InFaultWindow,
        RowSet::OutsideFaultWindows,
    ];

    /// The name used in policies and outputs.
    pub fn as_str(&self) -> &'static str {
        match self {
            RowSet::InFaultWindow => "in_fault_window",
            RowSet::OutsideFaultWindows => "outside_fault_windows",
            RowSet::All => "all",
        }
    }

    /// The rows in words, for reasons and reports.
    pub fn describe(&self) -> &'static str {
        match self {
            RowSet::InFaultWindow => "rows sent inside a fault window",
            RowSet::OutsideFaultWindows => "rows sent outside every fault window",
            RowSet::All => "all paired rows",
        }
    }

    fn contains(&self, row: &PairedRow) -> bool {
        match self {
            RowSet::InFaultWindow => row.in_fault_window,
            RowSet::OutsideFaultWindows => !row.in_fault_window,
            RowSet::All => true,
        }
    }
}

impl fmt::Display for RowSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One transaction scored in both runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PairedRow {
    /// Its label.
    pub label: bool,
    /// Whether its record was sent while a fault was active.
    pub in_fault_window: bool,
    /// Whether the faulted run scored it on fallback features.
    pub fallback: bool,
    /// The champion's score: fault-free run, faulted run.
    pub champion: [f64; 2],
    /// The challenger's score: fault-free run, faulted run.
    pub challenger: [f64; 2],
}

/// One model's metric in both runs and the paired interval of its change.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Change {
    /// In the fault-free run.
    pub fault_free: f64,
    /// In the faulted run.
    pub faulted: f64,
    /// faulted − fault-free (negative: the model lost that much).
    pub change: f64,
    /// Paired bootstrap percentile interval of `change`.
    pub ci: Interval,
}

/// Both models' changes over one set of rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Split {
    /// Which rows.
    pub rows: RowSet,
    /// Paired rows in it.
    pub n: usize,
    /// Of them labelled fraud.
    pub positives: usize,
    /// Of them scored on fallback features in the faulted run.
    pub fallback: usize,
    /// The champion's change of every metric.
    pub champion: BTreeMap<MetricName, Change>,
    /// The challenger's change of every metric.
    pub challenger: BTreeMap<MetricName, Change>,
    /// Each metric's changes side by side: `champion` and `challenger` are the two changes,
    /// `delta` the challenger's minus the champion's, with its paired interval.
    pub difference: BTreeMap<MetricName, Delta>,
}

/// How one `[[robustness]]` gate fared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RobustnessOutcome {
    /// The gate as configured.
    pub gate: RobustnessGate,
    /// The changes and their difference on the gate's rows; absent when no row was there.
    pub difference: Option<Delta>,
    /// Whether the gate keeps the champion.
    pub blocks: bool,
    /// What was found, as a sentence.
    pub detail: String,
}

/// The models under faults: every non-empty split and every gate's outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Robustness {
    /// Where the fault-free scores came from.
    pub fault_free: String,
    /// Splits with at least one row, in [`RowSet::ALL`] order.
    pub splits: Vec<Split>,
    /// Each `[[robustness]]` gate of the policy, in order.
    pub gates: Vec<RobustnessOutcome>,
}

impl Robustness {
    /// The split over `rows`, if it has any.
    pub fn split(&self, rows: RowSet) -> Option<&Split> {
        self.splits.iter().find(|s| s.rows == rows)
    }

    /// The gates that keep the champion.
    pub fn blocking(&self) -> impl Iterator<Item = &RobustnessOutcome> {
        self.gates.iter().filter(|g| g.blocks)
    }
}

/// Measures both models' change on `rows` (`thresholds`: champion's, challenger's) and judges the
/// policy's robustness gates. `fault_free` names the fault-free source. Resamples with `seed` on
/// its own stream, so the comparison's own intervals do not move.
pub fn measure(
    rows: &[PairedRow],
    thresholds: [f64; 2],
    policy: &Policy,
    seed: u64,
    fault_free: &str,
) -> Robustness {
    let mut rng = seeded(seed, stream::ROBUSTNESS);
    let splits: Vec<Split> = RowSet::ALL
        .iter()
        .filter_map(|set| {
            let picked: Vec<&PairedRow> = rows.iter().filter(|r| set.contains(r)).collect();
            (!picked.is_empty()).then(|| split(*set, &picked, thresholds, policy, &mut rng))
        })
        .collect();
    let gates = policy
        .robustness
        .iter()
        .map(|g| judge(g, splits.iter().find(|s| s.rows == g.rows), policy))
        .collect();
    Robustness {
        fault_free: fault_free.to_string(),
        splits,
        gates,
    }
}

fn split(
    set: RowSet,
    rows: &[&PairedRow],
    thresholds: [f64; 2],
    policy: &Policy,
    rng: &mut crate::rng::SeededRng8,
) -> Split {
    let labels: Vec<bool> = rows.iter().map(|r| r.label).collect();
    let column = |f: fn(&PairedRow) -> [f64; 2], run: usize| -> Vec<f64> {
        rows.iter().map(|r| f(r)[run]).collect()
    };
    let champion = [column(|r| r.champion, 0), column(|r| r.champion, 1)];
    let challenger = [column(|r| r.challenger, 0), column(|r| r.challenger, 1)];
    fn scored(scores: &[Vec<f64>; 2], threshold: f64) -> [Scored<'_>; 2] {
        [
            Scored::new(&scores[0], threshold),
            Scored::new(&scores[1], threshold),
        ]
    }
    let a = scored(&champion, thresholds[0]);
    let b = scored(&challenger, thresholds[1]);
    let mut changes = |model: &[Scored<'_>; 2], threshold: f64| {
        let ci = paired_bootstrap(
            &labels,
            &model[0],
            &model[1],
            policy.bootstrap,
            policy.resamples,
            policy.confidence,
            rng,
        );
        let before = evaluate(&labels, model[0].scores(), threshold).metrics;
        let after = evaluate(&labels, model[1].scores(), threshold).metrics;
        MetricName::ALL
            .iter()
            .map(|&m| {
                let (x, y) = (before.get(m), after.get(m));
                (
                    m,
                    Change {
                        fault_free: x,
                        faulted: y,
                        change: y - x,
                        ci: ci[&m],
                    },
                )
            })
            .collect::<BTreeMap<_, _>>()
    };
    let champion_changes = changes(&a, thresholds[0]);
    let challenger_changes = changes(&b, thresholds[1]);
    let contrast = paired_change_contrast(
        &labels,
        Paired {
            before: &a[0],
            after: &a[1],
        },
        Paired {
            before: &b[0],
            after: &b[1],
        },
        policy.resamples,
        policy.confidence,
        rng,
    );
    let difference = MetricName::ALL
        .iter()
        .map(|&m| {
            let (x, y) = (champion_changes[&m].change, challenger_changes[&m].change);
            (
                m,
                Delta {
                    champion: x,
                    challenger: y,
                    delta: y - x,
                    ci: contrast[&m],
                },
            )
        })
        .collect();
    Split {
        rows: set,
        n: rows.len(),
        positives: labels.iter().filter(|&&l| l).count(),
        fallback: rows.iter().filter(|r| r.fallback).count(),
        champion: champion_changes,
        challenger: challenger_changes,
        difference,
    }
}

fn judge(g: &RobustnessGate, split: Option<&Split>, policy: &Policy) -> RobustnessOutcome {
    let level = policy.confidence * 100.0;
    let Some(s) = split else {
        return RobustnessOutcome {
            gate: g.clone(),
            difference: None,
            blocks: false,
            detail: format!(
                "robustness {} on {}: no such row in both runs, not judged",
                g.metric,
                g.rows.describe()
            ),
        };
    };
    let d = s.difference[&g.metric];
    let blocks = d.ci.high < -g.max_extra_loss;
    let found = format!(
        "robustness {} on {} ({} rows, {} on fallback features): the challenger's change under faults is {:+.4} against the champion's {:+.4}, a difference of {:+.4} with {level:.0}% interval [{:+.4}, {:+.4}]",
        g.metric, g.rows.describe(), s.n, s.fallback, d.challenger, d.champion, d.delta, d.ci.low, d.ci.high
    );
    let detail = if blocks {
        format!(
            "{found}, entirely below -{} (max_extra_loss): the challenger loses more under faults than the champion; keep the champion",
            g.max_extra_loss
        )
    } else {
        format!(
            "{found}, not entirely below -{} (max_extra_loss): passes",
            g.max_extra_loss
        )
    };
    RobustnessOutcome {
        gate: g.clone(),
        difference: Some(d),
        blocks,
        detail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(gates: Vec<RobustnessGate>) -> Policy {
        Policy {
            min_samples: 1,
            min_positives: 1,
            min_negatives: 1,
            resamples: 300,
            robustness: gates,
            ..Policy::all_metrics()
        }
    }

    /// 400 rows, a fifth positive; both models separate the classes fault-free. In the fault
    /// window (every other row) the challenger flags every row, the champion is unchanged.
    fn rows() -> Vec<PairedRow> {
        (0..400)
            .map(|i| {
                let label = i % 5 == 0;
                let clean = if label { 0.8 } else { 0.2 };
                let in_fault_window = i % 2 == 0;
                PairedRow {
                    label,
                    in_fault_window,
                    fallback: in_fault_window,
                    champion: [clean, clean],
                    challenger: [clean, if in_fault_window { 0.9 } else { clean }],
                }
            })
            .collect()
    }

    fn gate(rows: RowSet, max_extra_loss: f64) -> RobustnessGate {
        RobustnessGate {
            metric: MetricName::Precision,
            rows,
            max_extra_loss,
        }
    }

    #[test]
    fn a_challenger_that_collapses_in_the_fault_window_is_kept_by_the_gate() {
        let p = policy(vec![
            gate(RowSet::InFaultWindow, 0.0),
            gate(RowSet::OutsideFaultWindows, 0.0),
        ]);
        let r = measure(&rows(), [0.5, 0.5], &p, 3, "mem");
        let inside = r.split(RowSet::InFaultWindow).unwrap();
        assert_eq!(
            (inside.n, inside.positives, inside.fallback),
            (200, 40, 200)
        );
        let champion = inside.champion[&MetricName::Precision];
        assert_eq!(
            (champion.change, champion.ci.low, champion.ci.high),
            (0.0, 0.0, 0.0)
        );
        let challenger = inside.challenger[&MetricName::Precision];
        assert_eq!((challenger.fault_free, challenger.faulted), (1.0, 0.2));
        assert!(challenger.ci.high < 0.0, "{challenger:?}");
        let d = inside.difference[&MetricName::Precision];
        assert!((d.delta + 0.8).abs() < 1e-12 && d.ci.high < -0.5, "{d:?}");
        assert!(r.gates[0].blocks, "{}", r.gates[0].detail);
        assert!(r.gates[0].detail.contains("keep the champion"));
        assert!(!r.gates[1].blocks, "{}", r.gates[1].detail);
        assert_eq!(r.split(RowSet::All).unwrap().n, 400);
        assert_eq!(
            measure(&rows(), [0.5, 0.5], &p, 3, "mem"),
            r,
            "same seed, same intervals"
        );
    }

    #[test]
    fn a_tolerance_wider_than_the_loss_passes_and_missing_rows_are_not_judged() {
        let p = policy(vec![gate(RowSet::InFaultWindow, 0.9)]);
        let r = measure(&rows(), [0.5, 0.5], &p, 3, "mem");
        assert!(!r.gates[0].blocks, "{}", r.gates[0].detail);
        let outside: Vec<PairedRow> = rows().into_iter().filter(|r| !r.in_fault_window).collect();
        let r = measure(
            &outside,
            [0.5, 0.5],
            &policy(vec![gate(RowSet::InFaultWindow, 0.0)]),
            3,
            "mem",
        );
        assert!(r.split(RowSet::InFaultWindow).is_none());
        assert!(!r.gates[0].blocks && r.gates[0].detail.contains("not judged"));
    }
}
