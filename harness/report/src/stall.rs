//! Commit stalls: stretches of a run in which records were waiting (produced > committed) and no
//! commit landed for at least [`MIN_STALL_MS`]. The exactly-once checks say whether a fault lost or
//! doubled anything; stalls say what it cost in availability, and for how long after it healed.
//!
//! Found from the progress samples, from the first commit on (before it is start-up: the group
//! join and the first batch), and attributed to the faults whose window, or the 10 s after it
//! ended (an instant fault's window is its moment), overlaps the stretch: a fault's cost often
//! comes after it heals (session timeouts, rebalances, reconnection backoff).

use serde::{Deserialize, Serialize};

use crate::model::{FaultEvent, Sample};

/// The shortest stretch without a commit that counts as a stall.
pub const MIN_STALL_MS: u64 = 2_000;

/// How long after a fault ended a stall is still put down to it (and its recovery still watched).
pub(crate) const REACH_MS: u64 = 10_000;

/// One stretch without a commit while records waited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stall {
    /// The first sample that saw records waiting after the last commit, ms since the workload started.
    pub from_ms: u64,
    /// The last sample before a commit showed up again (the run's last sample when `ended` is false).
    pub to_ms: u64,
    /// Records waiting when it began.
    pub waiting: u64,
    /// False when the run's samples ended with the pipeline still stalled.
    pub ended: bool,
    /// Ids of the faults around it.
    pub faults: Vec<String>,
}

impl Stall {
    pub fn duration_ms(&self) -> u64 {
        self.to_ms.saturating_sub(self.from_ms)
    }
}

/// The stalls in `samples` (in time order), each with the faults around it.
pub fn find_stalls(samples: &[Sample], faults: &[FaultEvent]) -> Vec<Stall> {
    let mut out = Vec::new();
    let mut close = |start: &Sample, to_ms: u64, ended: bool| {
        if to_ms.saturating_sub(start.t_ms) >= MIN_STALL_MS {
            out.push(Stall {
                from_ms: start.t_ms,
                to_ms,
                waiting: start.produced.saturating_sub(start.committed),
                ended,
                faults: around(faults, start.t_ms, to_ms),
            });
        }
    };
    // `start`: the first sample that saw records waiting since the last commit. A stall runs from
    // it to the last sample before a commit shows up: what the samples prove, never more.
    let mut start: Option<&Sample> = None;
    let mut prev: Option<&Sample> = None;
    for s in samples {
        if let Some(p) = prev {
            if s.committed > p.committed {
                if let Some(st) = start.take() {
                    close(st, p.t_ms, true);
                }
            }
        }
        if s.committed > 0 && start.is_none() && s.produced > s.committed {
            start = Some(s);
        }
        prev = Some(s);
    }
    if let (Some(st), Some(last)) = (start, prev) {
        close(st, last.t_ms, false);
    }
    out
}

/// The longest stall, if any.
pub fn longest(stalls: &[Stall]) -> Option<&Stall> {
    stalls
        .iter()
        .max_by_key(|s| (s.duration_ms(), std::cmp::Reverse(s.from_ms)))
}

fn around(faults: &[FaultEvent], from_ms: u64, to_ms: u64) -> Vec<String> {
    faults
        .iter()
        .filter(|f| f.outcome.was_injected())
        .filter(|f| {
            let end = f.end_ms.unwrap_or(f.start_ms) + REACH_MS;
            f.start_ms <= to_ms && from_ms <= end
        })
        .map(|f| f.id.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(t_s: u64, produced: u64, committed: u64) -> Sample {
        Sample {
            t_ms: t_s * 1000,
            produced,
            committed,
        }
    }

    fn fault(id: &str, start_s: u64, end_s: Option<u64>) -> FaultEvent {
        FaultEvent {
            id: id.into(),
            kind: "k".into(),
            target: "t".into(),
            start_ms: start_s * 1000,
            end_ms: end_s.map(|e| e * 1000),
            outcome: crate::model::FaultOutcome::Injected {
                detail: String::new(),
            },
            time_to_recover: None,
        }
    }

    #[test]
    fn start_up_and_short_pauses_are_not_stalls_but_a_long_wait_is() {
        let samples = [
            sample(1, 100, 0),
            sample(2, 200, 0),
            sample(3, 300, 0), // start-up: nothing committed yet
            sample(4, 400, 300),
            sample(5, 500, 300), // the same count for 1 s: too short
            sample(6, 600, 500),
            sample(7, 700, 500),
            sample(8, 800, 500),
            sample(9, 900, 500),
            sample(10, 900, 900), // nothing committed from 6 s to 9 s
        ];
        // In it, just before it (a kill 4 s earlier, a window healed 4 s earlier), and after it.
        let faults = [
            fault("partition#1", 6, Some(8)),
            fault("kill_worker#1", 2, None),
            fault("latency#1", 20, Some(25)),
            fault("limit_data#1", 1, Some(2)),
        ];
        let stalls = find_stalls(&samples, &faults);
        assert_eq!(
            stalls,
            vec![Stall {
                from_ms: 6000,
                to_ms: 9000,
                waiting: 100,
                ended: true,
                faults: vec![
                    "partition#1".into(),
                    "kill_worker#1".into(),
                    "limit_data#1".into()
                ]
            }]
        );
        assert_eq!(longest(&stalls).map(Stall::duration_ms), Some(3000));
    }

    #[test]
    fn a_caught_up_pipeline_is_idle_not_stalled_and_an_unfinished_stall_is_kept() {
        let samples = [
            sample(1, 100, 100),
            sample(2, 100, 100),
            sample(3, 100, 100),
            sample(4, 100, 100), // caught up: nothing waits
            sample(5, 200, 100),
            sample(6, 300, 100),
            sample(7, 300, 100),
        ];
        let stalls = find_stalls(&samples, &[]);
        assert_eq!(
            stalls,
            vec![Stall {
                from_ms: 5000,
                to_ms: 7000,
                waiting: 100,
                ended: false,
                faults: vec![]
            }]
        );
        assert!(find_stalls(&[], &[]).is_empty());
    }
}
