//! Time to recover: how long after a fault healed the pipeline's committed progress caught up with
//! the records being produced again. Stalls say how long commits stopped; this says how long the
//! fault cost until the backlog was worked off, which is what a change to a pipeline's recovery
//! (assignment strategy, session timeout, restart settings) moves.
//!
//! Measured on the progress samples (one every 500 ms), so it is resolved to the sampling interval.
//! At each sample the backlog is measured in time, not in records: the *wait* is the age of the
//! oldest record not yet committed, from the first sample whose `produced` count passed the
//! sample's `committed` count (0 when nothing waits). In time it does not depend on the producer's
//! rate, and it shrinks only when commits catch up.
//!
//! A fault's *bar* is the longest wait in the fault-free samples of the 5 s before it started
//! (from the first commit on, outside every injected fault's window and the 10 s after it), and
//! at least [`MIN_STALL_MS`] (a wait shorter than the shortest stall is not a backlog).
//!
//! The fault *recovered* at the first sample at or after its heal (its end; an instant fault's
//! moment) from which the wait stays within the bar up to 10 s after the heal: a fault's cost
//! often shows only after it heals (a session timeout, then a rebalance), as with stalls. Its
//! `time_to_recover` is that sample's time minus the heal. A fault for which no such sample came
//! before the run's samples ended did not recover. Overlapping faults share one backlog: each is
//! measured from its own heal to the moment the backlog they built together was worked off.
//! Skipped faults acted on nothing and have none.

use serde::{Deserialize, Serialize};

use crate::model::{FaultEvent, Sample};
use crate::stall::{MIN_STALL_MS, REACH_MS};

/// How far before a fault its bar is taken.
const BASELINE_MS: u64 = 5_000;

/// The time to recover from one injected fault (`time_to_recover` in `report.json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Recovery {
    /// Committed progress was back within the fault's bar `ms` after the fault healed.
    Recovered { ms: u64 },
    /// Still behind when the run's samples ended, `watched_ms` after the fault healed.
    NotRecovered { watched_ms: u64 },
}

impl Recovery {
    /// `4.5 s`, or `not recovered (watched 23.0 s)`: the words of every view.
    pub fn words(&self) -> String {
        match self {
            Recovery::Recovered { ms } => crate::units::duration(*ms),
            Recovery::NotRecovered { watched_ms } => format!(
                "not recovered (watched {} after heal)",
                crate::units::duration(*watched_ms)
            ),
        }
    }

    /// How long the fault cost after it healed, at least: the time to recover, or how long it was
    /// watched without recovering.
    pub fn at_least_ms(&self) -> u64 {
        match self {
            Recovery::Recovered { ms } => *ms,
            Recovery::NotRecovered { watched_ms } => *watched_ms,
        }
    }
}

/// Sets every fault's `time_to_recover` from `samples` (in time order): `None` for skipped faults.
pub fn measure(samples: &[Sample], faults: &mut [FaultEvent]) {
    let waits = waits(samples);
    let found: Vec<Option<Recovery>> = faults
        .iter()
        .map(|f| {
            f.outcome
                .was_injected()
                .then(|| recover(samples, &waits, faults, f))
        })
        .collect();
    for (f, r) in faults.iter_mut().zip(found) {
        f.time_to_recover = r;
    }
}

/// The slowest recovery of a run: a fault that did not recover before any that did, then the
/// longest.
pub fn slowest(faults: &[FaultEvent]) -> Option<(&FaultEvent, Recovery)> {
    faults
        .iter()
        .filter_map(|f| f.time_to_recover.map(|r| (f, r)))
        .max_by_key(|(f, r)| {
            (
                matches!(r, Recovery::NotRecovered { .. }),
                r.at_least_ms(),
                std::cmp::Reverse(f.start_ms),
            )
        })
}

/// The wait at each sample: ms since the first sample whose `produced` passed this sample's
/// `committed`, 0 when nothing waits.
fn waits(samples: &[Sample]) -> Vec<u64> {
    samples
        .iter()
        .enumerate()
        .map(|(i, s)| {
            if s.committed >= s.produced {
                return 0;
            }
            // `produced` never falls, so the samples up to this one are sorted by it.
            let first = samples[..=i].partition_point(|p| p.produced <= s.committed);
            s.t_ms.saturating_sub(samples[first].t_ms)
        })
        .collect()
}

/// When the fault healed: its end, or an instant fault's moment.
fn healed_ms(f: &FaultEvent) -> u64 {
    f.end_ms.unwrap_or(f.start_ms)
}

/// One injected fault's recovery (see the module docs).
fn recover(samples: &[Sample], waits: &[u64], faults: &[FaultEvent], f: &FaultEvent) -> Recovery {
    let bar = bar(samples, waits, faults, f);
    let healed = healed_ms(f);
    let after = samples.partition_point(|s| s.t_ms < healed);
    let reach = healed + REACH_MS;
    // The last sample within reach of the heal that was still behind: recovery comes after it.
    let from = (after..samples.len())
        .take_while(|&i| samples[i].t_ms <= reach)
        .filter(|&i| waits[i] > bar)
        .last()
        .map_or(after, |i| i + 1);
    match (from..samples.len()).find(|&i| waits[i] <= bar) {
        Some(i) => Recovery::Recovered {
            ms: samples[i].t_ms - healed,
        },
        None => Recovery::NotRecovered {
            watched_ms: samples.last().map_or(0, |s| s.t_ms.saturating_sub(healed)),
        },
    }
}

/// The longest wait in the fault-free samples of the [`BASELINE_MS`] before `f` started (from the
/// first commit on), and at least [`MIN_STALL_MS`].
fn bar(samples: &[Sample], waits: &[u64], faults: &[FaultEvent], f: &FaultEvent) -> u64 {
    let disturbed = |t: u64| {
        faults
            .iter()
            .filter(|g| g.outcome.was_injected())
            .any(|g| g.start_ms <= t && t <= healed_ms(g) + REACH_MS)
    };
    let first_commit = samples
        .iter()
        .position(|s| s.committed > 0)
        .unwrap_or(samples.len());
    (first_commit..samples.len())
        .filter(|&i| {
            let t = samples[i].t_ms;
            t < f.start_ms && t + BASELINE_MS >= f.start_ms && !disturbed(t)
        })
        .map(|i| waits[i])
        .fold(MIN_STALL_MS, u64::max)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::FaultOutcome;

    /// Samples every 500 ms from `steps`: (samples, produced, committed) with the records produced
    /// and committed per sample (committed never passes produced).
    fn timeline(steps: &[(u64, u64, u64)]) -> Vec<Sample> {
        let (mut t_ms, mut produced, mut committed) = (0, 0, 0);
        let mut out = Vec::new();
        for &(n, p, c) in steps {
            for _ in 0..n {
                t_ms += 500;
                produced += p;
                committed = (committed + c).min(produced);
                out.push(Sample {
                    t_ms,
                    produced,
                    committed,
                });
            }
        }
        out
    }

    fn fault(id: &str, start_ms: u64, end_ms: Option<u64>) -> FaultEvent {
        FaultEvent {
            id: id.into(),
            kind: id.split('#').next().unwrap_or(id).into(),
            target: "worker:w1".into(),
            start_ms,
            end_ms,
            outcome: FaultOutcome::Injected {
                detail: String::new(),
            },
            time_to_recover: None,
        }
    }

    fn measured(samples: &[Sample], mut faults: Vec<FaultEvent>) -> Vec<Option<Recovery>> {
        measure(samples, &mut faults);
        faults.into_iter().map(|f| f.time_to_recover).collect()
    }

    #[test]
    fn the_wait_is_the_age_of_the_oldest_record_not_yet_committed() {
        let samples = timeline(&[(4, 100, 100), (4, 100, 0), (2, 100, 300)]);
        // Caught up for 2 s; then nothing committed: the 401st record was first seen produced at
        // t=2.5 s; then 300 committed per sample against 100 produced: 200 records waiting, the
        // oldest first seen at t=4.0 s; then none.
        assert_eq!(
            waits(&samples),
            vec![0, 0, 0, 0, 0, 500, 1000, 1500, 500, 0]
        );
    }

    #[test]
    fn a_kill_recovers_when_the_backlog_it_built_after_it_struck_is_worked_off() {
        // 200 records produced per 500 ms throughout; committed in step until a kill at 5 s.
        // Nothing is committed for 6 s (a session timeout), then 400 per sample catch up.
        let samples = timeline(&[(10, 200, 200), (12, 200, 0), (20, 200, 400)]);
        let kill = fault("kill_worker#1", 5_000, None);
        // Right after the kill nothing waits long; the wait passes the 2 s bar at t=8.0 s, peaks
        // at 5.5 s (t=11.0 s) and is back within it at t=14.5 s (1,000 records, first seen
        // produced 2 s earlier), though records still wait until t=17.0 s.
        let waits = waits(&samples);
        assert_eq!(waits[9..12], [0, 0, 500]);
        assert_eq!(
            waits[21..=29],
            [5500, 5000, 4500, 4000, 3500, 3000, 2500, 2000, 1500]
        );
        assert_eq!(samples[28].t_ms, 14_500);
        assert_eq!(waits[33], 0);
        assert_eq!(
            measured(&samples, vec![kill]),
            vec![Some(Recovery::Recovered { ms: 9_500 })]
        );
    }

    #[test]
    fn a_window_that_stopped_nothing_recovers_at_its_heal_and_one_after_the_last_sample_does_not() {
        let samples = timeline(&[(20, 100, 100)]);
        let quiet = fault("latency#1", 2_000, Some(4_000));
        let late = fault("latency#2", 9_000, Some(12_000));
        assert_eq!(
            measured(&samples, vec![quiet, late]),
            vec![
                Some(Recovery::Recovered { ms: 0 }),
                Some(Recovery::NotRecovered { watched_ms: 0 })
            ]
        );
    }

    #[test]
    fn a_pipeline_still_behind_at_the_end_never_recovered_and_a_skipped_fault_has_none() {
        // Committed stops at 3 s and never moves again.
        let samples = timeline(&[(6, 100, 100), (30, 100, 0)]);
        let pause = fault("pause_worker#1", 3_000, Some(8_000));
        let mut skipped = fault("kill_worker#2", 4_000, None);
        skipped.outcome = FaultOutcome::Skipped {
            reason: "only 120 records were sent, trigger was 500".into(),
        };
        assert_eq!(
            measured(&samples, vec![pause, skipped]),
            vec![Some(Recovery::NotRecovered { watched_ms: 10_000 }), None]
        );
        let words = Recovery::NotRecovered { watched_ms: 10_000 }.words();
        assert_eq!(words, "not recovered (watched 10.0 s after heal)");
    }

    #[test]
    fn overlapping_faults_share_the_backlog_each_from_its_own_heal() {
        // Nothing committed from 5 s to 15 s (two overlapping windows), then 300 per sample
        // against 100 produced: the 2,000-record backlog is worked off by t=20.0 s.
        let samples = timeline(&[(10, 100, 100), (20, 100, 0), (20, 100, 300)]);
        let a = fault("partition#1", 5_000, Some(10_000));
        let b = fault("pause_worker#2", 8_000, Some(15_000));
        // The wait is within the 2 s bar from t=19.0 s (1.5 s), though it was 2.5 s at 18.5 s.
        assert_eq!(waits(&samples)[35..=37], [3500, 2500, 1500]);
        assert_eq!(
            measured(&samples, vec![a, b]),
            vec![
                Some(Recovery::Recovered { ms: 9_000 }),
                Some(Recovery::Recovered { ms: 4_000 })
            ]
        );
    }

    #[test]
    fn the_bar_is_the_worst_fault_free_wait_before_the_fault_and_never_under_two_seconds() {
        // A pipeline that commits every 3 s (a 2 s linger): waits of up to 2.5 s are its normal.
        let mut steps = Vec::new();
        for _ in 0..6 {
            steps.extend([(5, 100, 0), (1, 100, 600)]);
        }
        let samples = timeline(&steps);
        let f = fault("latency#1", 15_000, Some(16_000));
        let w = waits(&samples);
        assert_eq!(w[..6], [0, 500, 1000, 1500, 2000, 0]);
        assert_eq!(bar(&samples, &w, std::slice::from_ref(&f), &f), 2_000);
        // With a commit every 3.5 s, the waits reach 2.5 s before the fault: that is its bar.
        let mut steps = Vec::new();
        for _ in 0..6 {
            steps.extend([(6, 100, 0), (1, 100, 700)]);
        }
        let samples = timeline(&steps);
        let w = waits(&samples);
        assert_eq!(bar(&samples, &w, std::slice::from_ref(&f), &f), 2_500);
        // An earlier fault's window and reach are not fault-free: its samples set no bar.
        let earlier = fault("pause_worker#1", 9_000, Some(11_000));
        assert_eq!(bar(&samples, &w, &[earlier, f.clone()], &f), MIN_STALL_MS);
    }

    #[test]
    fn the_slowest_recovery_is_one_that_never_came_then_the_longest() {
        let mut faults = vec![
            fault("kill_worker#1", 1_000, None),
            fault("kill_worker#2", 2_000, None),
            fault("kill_worker#3", 3_000, None),
        ];
        faults[0].time_to_recover = Some(Recovery::Recovered { ms: 9_000 });
        faults[1].time_to_recover = Some(Recovery::Recovered { ms: 4_000 });
        assert_eq!(
            slowest(&faults).map(|(f, _)| f.id.as_str()),
            Some("kill_worker#1")
        );
        faults[2].time_to_recover = Some(Recovery::NotRecovered { watched_ms: 1_000 });
        assert_eq!(
            slowest(&faults).map(|(f, _)| f.id.as_str()),
            Some("kill_worker#3")
        );
        assert_eq!(slowest(&[]), None);
    }

    #[test]
    fn report_json_names_the_status_and_the_figure() {
        assert_eq!(
            serde_json::to_value(Recovery::Recovered { ms: 4_500 }).unwrap(),
            serde_json::json!({"status": "recovered", "ms": 4500})
        );
        let never = Recovery::NotRecovered { watched_ms: 23_000 };
        let v = serde_json::to_value(never).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"status": "not_recovered", "watched_ms": 23000})
        );
        assert_eq!(serde_json::from_value::<Recovery>(v).unwrap(), never);
    }
}
