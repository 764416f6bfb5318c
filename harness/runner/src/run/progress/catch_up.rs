//! The wait for the pipeline to catch up, and its verdict, `caught_up`: pass when every
//! partition's committed position reached its high watermark; fail when every worker exited, the
//! time limit ran out, or (the stall verdict) the position did not move for `stall_limit_s` once
//! the last planned fault had healed. Never an error for a slow or stuck pipeline: that is a failed
//! check, and the other checks still run.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use faultline_report::{CheckResult, CheckStatus};
use tokio::time::Instant;

use super::{high_watermarks, Watch};
use crate::error::Result;
use crate::run::stack::{Infra, Names};
use crate::run::workers::WorkerPool;

/// When the wait gives up on a pipeline that stopped moving.
#[derive(Debug, Clone, Copy)]
pub struct StallRule {
    /// `stall_limit_s`: how long the position may stand still.
    pub limit: Duration,
    /// ms since the run's start when the last planned fault had healed. Before that a fault may
    /// hold the pipeline, so the stall clock starts no earlier.
    pub healed_ms: u64,
    /// `progress.source = "quiet"`: the source has no positions, and standing still this long is
    /// the end of the wait rather than a stall.
    pub quiet: Option<Duration>,
}

/// The result of waiting for the pipeline.
pub struct CaughtUp {
    /// `caught_up`.
    pub check: CheckResult,
    pub high_watermarks: BTreeMap<i32, i64>,
    /// Records committed at the end (the positions added up).
    pub committed: u64,
}

/// Why the wait ended short of the high watermarks.
#[derive(Debug, Clone, PartialEq)]
enum Short {
    /// Nothing moved from `since_ms` (the later of the last move and the last heal) for `for_ms`.
    Stalled {
        since_ms: u64,
        for_ms: u64,
        moved_ms: u64,
        healed_ms: u64,
    },
    EveryWorkerExited,
    OutOfTime {
        waited: Duration,
    },
}

/// How a wait on a `quiet` source ended without running short: the output tables stood still
/// for the quiet time from `since_ms`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Quieted {
    since_ms: u64,
    quiet: Duration,
}

/// Waits until the positions `watch` sees reach the high watermarks, every worker exited, the
/// budget ran out, or the position stood still for `stall.limit` after the last fault healed.
/// The error is the progress source's, when it failed for good (see `source`).
#[allow(clippy::too_many_arguments)]
pub async fn wait_caught_up(
    infra: &Infra,
    names: &Names,
    partitions: i32,
    pool: &Mutex<WorkerPool>,
    budget: Duration,
    start: Instant,
    watch: &Mutex<Watch>,
    stall: StallRule,
) -> Result<CaughtUp> {
    let hw = high_watermarks(&infra.bootstrap(), &names.topic, partitions).await?;
    let began = Instant::now();
    let began_ms = start.elapsed().as_millis() as u64;
    let deadline = began + budget;
    let mut quieted = None;
    let short = loop {
        let (positions, moved_ms) = {
            let mut w = watch.lock().expect("watch");
            if let Some(e) = w.failed.take() {
                return Err(e);
            }
            (w.positions.clone(), w.moved_ms)
        };
        if let Some(quiet) = stall.quiet {
            // Every record was sent before the wait began; the clock starts at the latest of
            // that, the last heal and the last change.
            let since_ms = moved_ms.max(stall.healed_ms).max(began_ms);
            let now_ms = start.elapsed().as_millis() as u64;
            if now_ms.saturating_sub(since_ms) >= quiet.as_millis() as u64 {
                quieted = Some(Quieted { since_ms, quiet });
                break None;
            }
        } else if pending(&hw, &positions).is_empty() {
            break None;
        }
        let alive = {
            let mut p = pool.lock().expect("pool");
            p.reap_exits();
            p.len()
        };
        if alive == 0 {
            break Some(Short::EveryWorkerExited);
        }
        if Instant::now() > deadline {
            break Some(Short::OutOfTime {
                waited: began.elapsed(),
            });
        }
        let now_ms = start.elapsed().as_millis() as u64;
        let since_ms = moved_ms.max(stall.healed_ms);
        let for_ms = now_ms.saturating_sub(since_ms);
        if stall.quiet.is_none() && for_ms >= stall.limit.as_millis() as u64 {
            break Some(Short::Stalled {
                since_ms,
                for_ms,
                moved_ms,
                healed_ms: stall.healed_ms,
            });
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let w = watch.lock().expect("watch");
    let committed = w.committed();
    let check = match (quieted, &short) {
        (Some(q), None) => quiet_verdict(&w, q),
        _ => verdict(&hw, &w, short.as_ref()),
    };
    Ok(CaughtUp {
        check,
        high_watermarks: hw,
        committed,
    })
}

/// `(partition, position, high watermark)` of every partition short of its high watermark.
fn pending(hw: &BTreeMap<i32, i64>, positions: &BTreeMap<i32, i64>) -> Vec<(i32, i64, i64)> {
    hw.iter()
        .map(|(p, h)| (*p, positions.get(p).copied().unwrap_or(0), *h))
        .filter(|(_, pos, h)| pos < h)
        .collect()
}

/// `caught_up` for a `quiet` source: the tables stood still, which proves the pipeline stopped,
/// not that it read everything (the data checks judge that). Empty or missing output tables mean
/// it made no progress at all.
fn quiet_verdict(w: &Watch, q: Quieted) -> CheckResult {
    let quiet_s = q.quiet.as_secs_f64();
    match &w.fingerprint {
        Some((rows, _)) if *rows > 0 => CheckResult::from_rows(
            "caught_up",
            CheckStatus::Pass,
            format!(
                "the output tables ({rows} rows) stood still for {quiet_s:.0} s from t={:.1} s, \
                 after the last record was sent and the last fault healed (progress.source = \
                 \"quiet\" proves the pipeline stopped; the data checks judge what it wrote)",
                secs(q.since_ms)
            ),
            Vec::new(),
        ),
        _ => {
            let mut detail = format!(
                "no progress: the output tables were still empty {quiet_s:.0} s after the last \
                 record was sent and the last fault healed (t={:.1} s)",
                secs(q.since_ms)
            );
            if let Some(m) = &w.not_created {
                detail.push_str(&format!("; an output table does not exist: {m}"));
            }
            if let Some(m) = &w.unavailable {
                detail.push_str(&format!("; the last read failed: {m}"));
            }
            CheckResult::from_rows("caught_up", CheckStatus::Fail, detail, Vec::new())
        }
    }
}

fn secs(ms: u64) -> f64 {
    ms as f64 / 1000.0
}

/// The `caught_up` check from the high watermarks, what the watch last saw, and why the wait ended
/// short (`None`: it did not).
fn verdict(hw: &BTreeMap<i32, i64>, w: &Watch, short: Option<&Short>) -> CheckResult {
    let want: i64 = hw.values().sum();
    let Some(short) = short else {
        return CheckResult::from_rows(
            "caught_up",
            CheckStatus::Pass,
            format!(
                "committed positions reached the high watermarks of all {} partitions ({want} records)",
                hw.len()
            ),
            Vec::new(),
        );
    };
    let pending = pending(hw, &w.positions);
    let committed = w.committed();
    let mut detail = match short {
        Short::Stalled {
            since_ms,
            for_ms,
            moved_ms,
            healed_ms,
        } => {
            let when = if since_ms == healed_ms && healed_ms > moved_ms {
                let before = if *moved_ms == 0 {
                    "nothing had moved before".to_string()
                } else {
                    format!("the position last moved at t={:.1} s", secs(*moved_ms))
                };
                format!(" (when the last fault healed; {before})")
            } else if *since_ms == 0 {
                " (the start)".to_string()
            } else {
                String::new()
            };
            format!(
                "no progress for {:.0} s since t={:.1} s{when}: committed {committed} of {want} records",
                secs(*for_ms),
                secs(*since_ms)
            )
        }
        Short::EveryWorkerExited => {
            format!("every worker exited: committed {committed} of {want} records")
        }
        Short::OutOfTime { waited } => format!(
            "the time limit ran out after {:.0} s of waiting: committed {committed} of {want} records",
            waited.as_secs_f64()
        ),
    };
    let list: Vec<String> = pending
        .iter()
        .map(|(p, pos, h)| format!("p{p} {pos}/{h}"))
        .collect();
    detail.push_str(&format!("; pending {}", list.join(", ")));
    if let Some(m) = &w.not_created {
        detail.push_str(&format!("; the progress query's table does not exist: {m}"));
    }
    if let Some(m) = &w.unavailable {
        detail.push_str(&format!("; the last progress read failed: {m}"));
    }
    let rows = pending
        .iter()
        .map(|(p, pos, h)| {
            let mut m = serde_json::Map::new();
            m.insert("partition".into(), (*p).into());
            m.insert("position".into(), (*pos).into());
            m.insert("high_watermark".into(), (*h).into());
            m
        })
        .collect();
    CheckResult::from_rows("caught_up", CheckStatus::Fail, detail, rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hw() -> BTreeMap<i32, i64> {
        BTreeMap::from([(0, 1012), (1, 988)])
    }

    fn stalled(since_ms: u64, moved_ms: u64, healed_ms: u64) -> Short {
        Short::Stalled {
            since_ms,
            for_ms: 30_000,
            moved_ms,
            healed_ms,
        }
    }

    #[test]
    fn a_stall_says_since_when_how_much_and_what_is_pending() {
        let w = Watch {
            positions: BTreeMap::from([(0, 400)]),
            moved_ms: 42_100,
            ..Watch::default()
        };
        let c = verdict(&hw(), &w, Some(&stalled(42_100, 42_100, 20_000)));
        assert_eq!(c.status, CheckStatus::Fail);
        assert_eq!(
            c.detail,
            "no progress for 30 s since t=42.1 s: committed 400 of 2000 records; pending p0 400/1012, p1 0/988"
        );
        assert_eq!(c.failing_rows.len(), 2);
        assert_eq!(c.failing_rows[1]["position"], 0);
        assert_eq!(c.failing_rows[1]["high_watermark"], 988);
    }

    #[test]
    fn a_stall_counted_from_the_last_heal_says_so_and_a_missing_table_is_named() {
        let w = Watch {
            not_created: Some("relation \"s.partition_offsets\" does not exist".into()),
            ..Watch::default()
        };
        let c = verdict(&hw(), &w, Some(&stalled(20_000, 0, 20_000)));
        assert_eq!(
            c.detail,
            "no progress for 30 s since t=20.0 s (when the last fault healed; nothing had moved before): committed 0 of 2000 records; pending p0 0/1012, p1 0/988; the progress query's table does not exist: relation \"s.partition_offsets\" does not exist"
        );
        let c = verdict(&hw(), &Watch::default(), Some(&stalled(0, 0, 0)));
        assert!(
            c.detail
                .starts_with("no progress for 30 s since t=0.0 s (the start): committed 0 of 2000"),
            "{}",
            c.detail
        );
    }

    #[test]
    fn a_quiet_source_passes_on_rows_that_stood_still_and_fails_on_empty_tables() {
        let q = Quieted {
            since_ms: 31_500,
            quiet: Duration::from_secs(10),
        };
        let w = Watch {
            fingerprint: Some((1200, "-48213".into())),
            ..Watch::default()
        };
        let c = quiet_verdict(&w, q);
        assert_eq!(c.status, CheckStatus::Pass);
        assert!(
            c.detail
                .starts_with("the output tables (1200 rows) stood still for 10 s from t=31.5 s"),
            "{}",
            c.detail
        );
        let w = Watch {
            fingerprint: Some((0, "0".into())),
            ..Watch::default()
        };
        assert_eq!(quiet_verdict(&w, q).status, CheckStatus::Fail);
        let w = Watch {
            not_created: Some("relation \"s.orders\" does not exist".into()),
            ..Watch::default()
        };
        let c = quiet_verdict(&w, q);
        assert_eq!(
            c.detail,
            "no progress: the output tables were still empty 10 s after the last record was sent \
             and the last fault healed (t=31.5 s); an output table does not exist: relation \
             \"s.orders\" does not exist"
        );
    }

    #[test]
    fn reaching_every_high_watermark_passes_and_other_endings_fail_with_the_pending_list() {
        let w = Watch {
            positions: BTreeMap::from([(0, 1012), (1, 988)]),
            ..Watch::default()
        };
        assert!(pending(&hw(), &w.positions).is_empty());
        let c = verdict(&hw(), &w, None);
        assert_eq!(
            (c.status, c.detail.as_str()),
            (
                CheckStatus::Pass,
                "committed positions reached the high watermarks of all 2 partitions (2000 records)"
            )
        );
        let w = Watch {
            positions: BTreeMap::from([(0, 1012), (1, 900)]),
            unavailable: Some("cannot connect to Postgres: refused".into()),
            ..Watch::default()
        };
        let c = verdict(&hw(), &w, Some(&Short::EveryWorkerExited));
        assert_eq!(
            c.detail,
            "every worker exited: committed 1912 of 2000 records; pending p1 900/988; the last progress read failed: cannot connect to Postgres: refused"
        );
    }
}
