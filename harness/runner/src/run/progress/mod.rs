//! Watching the pipeline. One task ([`watch`]) reads the pipeline's committed positions from its
//! [`ProgressSource`] every 500 ms for the whole run: it keeps the progress samples (plot and
//! terminal) and a [`Watch`] of the latest positions and when they last moved, which the catch-up
//! wait (`catch_up`) judges against the high watermarks.
//!
//! - `source`   `ProgressSource`, `ProgressReader`: where positions come from and how they are read.
//! - `catch_up` `wait_caught_up`: the wait for the high watermarks, the stall verdict, `caught_up`.

mod catch_up;
mod source;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use faultline_infra::ready::kafka_client_config;
use faultline_report::Sample;
use faultline_scenario::Scenario;
use rdkafka::consumer::BaseConsumer;
use tokio::time::Instant;

pub use catch_up::{wait_caught_up, StallRule};
pub use source::{Observed, Placeholders, ProgressReader, ProgressSource};

use crate::error::{Result, RunnerError};
use faultline_infra::errln;

/// What the watch task last saw, shared with the catch-up wait.
#[derive(Debug, Default)]
pub struct Watch {
    /// The latest positions read (partitions that committed nothing are absent).
    pub positions: BTreeMap<i32, i64>,
    /// With a `quiet` source: the output tables' row count and fingerprint at the latest read.
    pub fingerprint: Option<(u64, String)>,
    /// ms since the run's start when the positions last changed (0: never, since the start).
    pub moved_ms: u64,
    /// The progress query's table did not exist at the last read (Postgres' words).
    pub not_created: Option<String>,
    /// The last read could not see the positions (Postgres or the brokers out of reach).
    pub unavailable: Option<String>,
    /// The source failed for good: the run stops with this error at the catch-up.
    pub failed: Option<RunnerError>,
}

impl Watch {
    /// Records one read at `t_ms`.
    pub fn observe(&mut self, t_ms: u64, observed: Observed) {
        let positions = match observed {
            Observed::Fingerprint { rows, digest } => {
                self.not_created = None;
                self.unavailable = None;
                let now = Some((rows, digest));
                if now != self.fingerprint {
                    self.fingerprint = now;
                    self.moved_ms = t_ms;
                }
                return;
            }
            Observed::Positions(p) => {
                self.not_created = None;
                self.unavailable = None;
                p
            }
            Observed::NotCreated { message } => {
                self.not_created = Some(message);
                self.unavailable = None;
                BTreeMap::new()
            }
            Observed::Unavailable { message } => {
                self.unavailable = Some(message);
                return;
            }
        };
        if positions != self.positions {
            self.positions = positions;
            self.moved_ms = t_ms;
        }
    }

    /// Records committed so far: the positions added up (with a `quiet` source, which knows no
    /// positions: the rows in the output tables).
    pub fn committed(&self) -> u64 {
        match &self.fingerprint {
            Some((rows, _)) => *rows,
            None => self.positions.values().map(|&n| n.max(0) as u64).sum(),
        }
    }
}

/// Reads positions every 500 ms until `stop`: updates `watch`, keeps a sample per successful read,
/// prints a line every 5 s when `print`. A source that fails for good ends the task, its error
/// left in `watch.failed`.
#[allow(clippy::too_many_arguments)]
pub async fn watch(
    mut reader: ProgressReader,
    start: Instant,
    produced: &AtomicU64,
    total: u64,
    stop: &AtomicBool,
    watch: &Mutex<Watch>,
    samples: &Mutex<Vec<Sample>>,
    label: &str,
    print: bool,
) {
    let mut last_print = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        let observed = reader.read().await;
        let t_ms = start.elapsed().as_millis() as u64;
        let seen = {
            let mut w = watch.lock().expect("watch");
            match observed {
                Ok(o) => {
                    let seen = !matches!(o, Observed::Unavailable { .. });
                    w.observe(t_ms, o);
                    seen.then(|| w.committed())
                }
                Err(e) => {
                    w.failed = Some(e);
                    return;
                }
            }
        };
        if let Some(done) = seen {
            let p = produced.load(Ordering::Relaxed);
            samples.lock().expect("samples").push(Sample {
                t_ms,
                produced: p,
                committed: done,
            });
            if print && last_print.elapsed() >= Duration::from_secs(5) {
                last_print = Instant::now();
                errln!(
                    "  [{label}] {:>6.1} s  sent {p}/{total}  committed {done}",
                    t_ms as f64 / 1000.0
                );
            }
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Next offset per partition of `topic` (read directly from the brokers' metadata).
pub async fn high_watermarks(
    bootstrap: &str,
    topic: &str,
    partitions: i32,
) -> Result<BTreeMap<i32, i64>> {
    let consumer: BaseConsumer = kafka_client_config(bootstrap).create()?;
    let topic = topic.to_string();
    let r = tokio::task::spawn_blocking(move || {
        (0..partitions)
            .map(|p| {
                Ok((
                    p,
                    faultline_infra::kafka_query::watermarks(
                        &consumer,
                        &topic,
                        p,
                        Duration::from_secs(60),
                    )?
                    .1,
                ))
            })
            .collect::<Result<BTreeMap<i32, i64>>>()
    })
    .await
    .expect("watermark task panicked");
    r
}

/// How long the pipeline may take to catch up: what is left of the time limit, at least 10 s.
pub fn catch_up_budget(s: &Scenario, start: Instant) -> Duration {
    Duration::from_secs(s.time_limit_s)
        .saturating_sub(start.elapsed())
        .max(Duration::from_secs(10))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_watch_moves_only_when_a_position_changes() {
        let mut w = Watch::default();
        w.observe(
            500,
            Observed::NotCreated {
                message: "relation \"s.partition_offsets\" does not exist".into(),
            },
        );
        assert_eq!((w.moved_ms, w.committed()), (0, 0));
        assert!(w.not_created.is_some());
        w.observe(1_000, Observed::Positions(BTreeMap::from([(0, 5)])));
        assert_eq!(
            (w.moved_ms, w.committed(), w.not_created.clone()),
            (1_000, 5, None)
        );
        // Out of reach: nothing is known, nothing moved.
        w.observe(
            1_500,
            Observed::Unavailable {
                message: "cannot connect".into(),
            },
        );
        assert_eq!((w.moved_ms, w.committed()), (1_000, 5));
        assert_eq!(w.unavailable.as_deref(), Some("cannot connect"));
        w.observe(2_000, Observed::Positions(BTreeMap::from([(0, 5)])));
        assert_eq!((w.moved_ms, w.unavailable.clone()), (1_000, None));
        w.observe(2_500, Observed::Positions(BTreeMap::from([(0, 5), (1, 2)])));
        assert_eq!((w.moved_ms, w.committed()), (2_500, 7));
    }
}
