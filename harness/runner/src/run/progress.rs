//! Watching the pipeline: progress samples for the plot and the terminal, the high watermarks it
//! must reach, and the wait until its stored offsets reach them.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use faultline_infra::ready::kafka_client_config;
use faultline_report::{CheckResult, CheckStatus, Sample};
use faultline_scenario::Scenario;
use rdkafka::consumer::{BaseConsumer, Consumer};
use tokio::time::Instant;

use super::stack::{Infra, Names};
use super::workers::WorkerPool;
use crate::error::Result;

/// Sum of the pipeline's stored next offsets for the run's topic (0 before its tables exist).
async fn committed(client: &tokio_postgres::Client, names: &Names) -> Option<u64> {
    let sql = format!(
        "SELECT coalesce(sum(next_offset), 0)::bigint FROM {}.partition_offsets WHERE topic = $1",
        names.schema
    );
    match client.query_one(&sql, &[&names.topic]).await {
        Ok(row) => Some(row.get::<_, i64>(0) as u64),
        Err(e) if e.code() == Some(&tokio_postgres::error::SqlState::UNDEFINED_TABLE) => Some(0),
        Err(_) => None,
    }
}

/// Samples produced/committed every 500 ms until `stop`; prints a line every 5 s when `print`.
#[allow(clippy::too_many_arguments)]
pub async fn sample_progress(
    infra: &Infra,
    names: &Names,
    start: Instant,
    produced: &AtomicU64,
    total: u64,
    stop: &AtomicBool,
    samples: &Mutex<Vec<Sample>>,
    label: &str,
    print: bool,
) {
    let mut client: Option<tokio_postgres::Client> = None;
    let mut last_print = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        if client.as_ref().is_none_or(|c| c.is_closed()) {
            client = infra.harness_pg().connect().await.ok();
        }
        if let Some(c) = &client {
            if let Some(done) = committed(c, names).await {
                let t_ms = start.elapsed().as_millis() as u64;
                let p = produced.load(Ordering::Relaxed);
                samples.lock().expect("samples").push(Sample {
                    t_ms,
                    produced: p,
                    committed: done,
                });
                if print && last_print.elapsed() >= Duration::from_secs(5) {
                    last_print = Instant::now();
                    eprintln!(
                        "  [{label}] {:>6.1} s  sent {p}/{total}  committed {done}",
                        t_ms as f64 / 1000.0
                    );
                }
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
                    consumer
                        .fetch_watermarks(&topic, p, Duration::from_secs(30))?
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

/// The result of waiting for the pipeline.
pub struct CaughtUp {
    /// `caught_up`: pass when every partition's stored offset reached its high watermark.
    pub check: CheckResult,
    pub high_watermarks: BTreeMap<i32, i64>,
    /// Sum of stored next offsets at the end.
    pub committed: u64,
}

/// Waits until the stored next offsets reach the high watermarks, the budget runs out, or no
/// worker is left running. Never an error for a slow pipeline: that is a failed check.
pub async fn wait_caught_up(
    infra: &Infra,
    names: &Names,
    partitions: i32,
    pool: &Mutex<WorkerPool>,
    budget: Duration,
) -> Result<CaughtUp> {
    let hw = high_watermarks(&infra.bootstrap(), &names.topic, partitions).await?;
    let want: i64 = hw.values().sum();
    let client = infra.harness_pg().connect().await?;
    let deadline = Instant::now() + budget;
    let sql = format!(
        "SELECT partition, next_offset FROM {}.partition_offsets WHERE topic = $1",
        names.schema
    );
    let mut stored: BTreeMap<i32, i64> = BTreeMap::new();
    let why_not = loop {
        if let Ok(rows) = client.query(&sql, &[&names.topic]).await {
            stored = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
        }
        if hw
            .iter()
            .all(|(p, h)| stored.get(p).copied().unwrap_or(0) >= *h)
        {
            break None;
        }
        let alive = {
            let mut p = pool.lock().expect("pool");
            p.reap_exits();
            p.len()
        };
        if alive == 0 {
            break Some("every worker exited".to_string());
        }
        if Instant::now() > deadline {
            break Some(format!(
                "the time limit ran out after {:.0} s of waiting",
                budget.as_secs_f64()
            ));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let committed: i64 = stored.values().sum();
    let check = match why_not {
        None => CheckResult::from_rows(
            "caught_up",
            CheckStatus::Pass,
            format!("stored offsets reached the high watermarks of all {partitions} partitions ({want} records)"),
            Vec::new(),
        ),
        Some(why) => {
            let rows: Vec<_> = hw
                .iter()
                .filter(|(p, h)| stored.get(p).copied().unwrap_or(0) < **h)
                .map(|(p, h)| {
                    let mut m = serde_json::Map::new();
                    m.insert("partition".into(), (*p).into());
                    m.insert("stored_next_offset".into(), stored.get(p).copied().unwrap_or(0).into());
                    m.insert("high_watermark".into(), (*h).into());
                    m
                })
                .collect();
            CheckResult::from_rows(
                "caught_up",
                CheckStatus::Fail,
                format!("the pipeline committed {committed} of {want} records: {why}"),
                rows,
            )
        }
    };
    Ok(CaughtUp {
        check,
        high_watermarks: hw,
        committed: committed as u64,
    })
}
