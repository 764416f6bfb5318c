//! Executes the fault plan on the run's clock and records each fault's window. Every planned fault
//! waits for its trigger and its turn (a broker or Postgres is taken down by one fault at a time),
//! is injected, lasts its duration and is healed; other overlapping faults run side by side.
//! Everything is healed before this returns.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use faultline_report::{FaultEvent, FaultOutcome};
use faultline_scenario::{PlannedFault, Trigger};
use tokio::time::Instant;

use super::faults::{fault_for, FaultEnv};

/// Shared counters the triggers watch.
pub struct Progress<'a> {
    pub start: Instant,
    pub produced: &'a AtomicU64,
    pub producing_done: &'a AtomicBool,
}

/// What the plan did.
pub struct Timeline {
    /// Each planned fault's window and outcome, in start order.
    pub events: Vec<FaultEvent>,
    /// ms since the run's start when the last fault had healed (or was skipped): from then on
    /// nothing the plan does holds the pipeline back (the catch-up's stall clock starts no earlier).
    pub healed_ms: u64,
}

/// Runs every planned fault; returns the recorded timeline in start order.
pub async fn execute(
    plan: &[PlannedFault],
    env: &FaultEnv<'_>,
    progress: &Progress<'_>,
) -> Timeline {
    let events = Mutex::new(Vec::new());
    let runs = plan.iter().map(|p| run_one(p, env, progress, &events));
    futures::future::join_all(runs).await;
    let healed_ms = ms(progress.start);
    let mut out = events.into_inner().expect("timeline lock");
    out.sort_by_key(|e: &FaultEvent| (e.start_ms, e.id.clone()));
    Timeline {
        events: out,
        healed_ms,
    }
}

fn ms(start: Instant) -> u64 {
    start.elapsed().as_millis() as u64
}

async fn run_one(
    p: &PlannedFault,
    env: &FaultEnv<'_>,
    progress: &Progress<'_>,
    events: &Mutex<Vec<FaultEvent>>,
) {
    let mut fault = fault_for(p);
    let record = |target: String, start_ms: u64, end_ms: Option<u64>, outcome: FaultOutcome| {
        events.lock().expect("timeline lock").push(FaultEvent {
            id: p.id.clone(),
            kind: p.kind.clone(),
            target,
            start_ms,
            end_ms,
            outcome,
            time_to_recover: None,
        });
    };
    match p.trigger {
        Trigger::AtMs(at) => {
            tokio::time::sleep_until(progress.start + Duration::from_millis(at)).await
        }
        Trigger::AfterRecords(n) => loop {
            if progress.produced.load(Ordering::Relaxed) >= n {
                break;
            }
            if progress.producing_done.load(Ordering::Relaxed) {
                let sent = progress.produced.load(Ordering::Relaxed);
                record(
                    "-".into(),
                    ms(progress.start),
                    None,
                    FaultOutcome::Skipped {
                        reason: format!("only {sent} records were sent, trigger was {n}"),
                    },
                );
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        },
    }
    fault.claim(env).await;
    let start_ms = ms(progress.start);
    let target = match fault.inject(env).await {
        Ok(t) => t,
        Err(e) => {
            tracing::warn!(fault = %p.id, error = %e, "fault not injected");
            let reason = e.to_string();
            record("-".into(), start_ms, None, FaultOutcome::Skipped { reason });
            return;
        }
    };
    tracing::info!(fault = %p.id, %target, "fault injected");
    let windowed = p.duration_ms > 0 || p.action.needs_duration();
    if p.duration_ms > 0 {
        tokio::time::sleep(Duration::from_millis(p.duration_ms)).await;
    }
    let detail = fault.describe();
    let outcome = match fault.heal(env).await {
        Ok(()) => FaultOutcome::Injected { detail },
        Err(e) => {
            tracing::warn!(fault = %p.id, error = %e, "fault not healed");
            FaultOutcome::HealFailed {
                detail,
                error: e.to_string(),
            }
        }
    };
    let end_ms = windowed.then(|| ms(progress.start));
    record(target, start_ms, end_ms, outcome);
}

/// The ids of faults active at `t_ms` (windowed faults containing it, or instant faults up to 5 s
/// before it), for attributing an anomaly to the faults around it.
pub fn active_at(events: &[FaultEvent], t_ms: u64) -> Vec<String> {
    events
        .iter()
        .filter(|e| e.outcome.was_injected())
        .filter(|e| match e.end_ms {
            Some(end) => e.start_ms <= t_ms && t_ms <= end,
            None => e.start_ms <= t_ms + 5_000 && t_ms <= e.start_ms + 5_000,
        })
        .map(|e| e.id.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(id: &str, start: u64, end: Option<u64>) -> FaultEvent {
        FaultEvent {
            id: id.into(),
            kind: "k".into(),
            target: "t".into(),
            start_ms: start,
            end_ms: end,
            outcome: FaultOutcome::Injected {
                detail: String::new(),
            },
            time_to_recover: None,
        }
    }

    #[test]
    fn attribution_covers_windows_and_the_time_around_instant_faults() {
        let events = vec![
            ev("latency#1", 1_000, Some(3_000)),
            ev("kill_worker#1", 10_000, None),
        ];
        assert_eq!(active_at(&events, 2_000), vec!["latency#1"]);
        assert!(active_at(&events, 4_000).is_empty());
        assert_eq!(active_at(&events, 12_000), vec!["kill_worker#1"]);
        assert_eq!(active_at(&events, 6_000), vec!["kill_worker#1"]);
        assert!(active_at(&events, 16_000).is_empty());
    }
}
