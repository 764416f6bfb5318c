//! The `replay` check: the pipeline's idempotency, proven by running it over its own input again.
//! - [`replay_outputs`], for any pipeline: rewind it as its manifest's `[replay]` says, start its
//!   workers again, wait until they caught up (the manifest's `[progress]`), and require the same
//!   output tables.
//! - [`replay`], for the reference ledger (`expectations = "ledger"`): its batch mode from offset 0
//!   and its oracle's normalized end state.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use faultline_manifest::Replay;
use faultline_report::{CheckResult, CheckStatus, Row};
use faultline_scenario::Scenario;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::{Offset, TopicPartitionList};
use serde_json::{Map, Value};
use tokio::time::Instant;

use super::checks::CheckInput;
use super::output::{replay_difference, OutputState};
use super::progress::{
    high_watermarks, wait_caught_up, watch, Observed, ProgressReader, ProgressSource, StallRule,
    Watch,
};
use super::stack::{Infra, Names};
use super::workers::{stop_gracefully, WorkerPool, WorkerSpec};
use crate::error::{Result, RunnerError};
use crate::pipeline::setup::{pg_message, run_command};

/// How long the replay's workers may take to catch up.
const REPLAY_BUDGET: Duration = Duration::from_secs(180);

/// Everything the generic replay needs from its run.
pub struct ReplayInput<'a> {
    pub infra: &'a Infra,
    pub names: &'a Names,
    pub scenario: &'a Scenario,
    pub spec: &'a WorkerSpec,
    /// The number of the replay's first worker (numbered on from the run's).
    pub first_worker: u32,
    /// The run's progress source, as rendered for it.
    pub source: &'a ProgressSource,
    /// The output tables as the run left them.
    pub before: &'a OutputState,
}

/// Rewinds the pipeline (`[replay]`), runs it again until it caught up, and compares the output
/// tables with `before`. A rewind that leaves the progress at the end fails the check (it would
/// prove nothing); a rewind that cannot run (SQL refused, command failed) stops the run.
pub async fn replay_outputs(r: &ReplayInput<'_>) -> Result<CheckResult> {
    let m = &r.spec.pipeline.manifest;
    let partitions = r.scenario.infra.partitions;
    let how = rewind(r).await?;
    let fail = |detail: String| CheckResult::from_rows("replay", CheckStatus::Fail, detail, vec![]);
    // The rewind must show: a source with positions must now read short of the high watermarks.
    let hw = high_watermarks(&r.infra.bootstrap(), &r.names.topic, partitions).await?;
    let mut reader = ProgressReader::new(
        r.source,
        &r.infra.bootstrap(),
        r.infra.harness_pg(),
        &r.names.topic,
        partitions,
    )?;
    if let Observed::Positions(p) = reader.read().await? {
        let at_end = hw.iter().all(|(k, h)| p.get(k).copied().unwrap_or(0) >= *h);
        if at_end && hw.values().any(|h| *h > 0) {
            return Ok(fail(format!(
                "the rewind ({how}) left the pipeline's progress at the end ({}): it would \
                 re-read nothing; make `[replay]` rewind where the pipeline keeps its offsets \
                 (`sql` for a table of its own, `command` for anything else)",
                positions_text(&p)
            )));
        }
    }

    let pool = Arc::new(Mutex::new(WorkerPool::numbered_from(
        r.spec.clone(),
        r.first_worker,
    )));
    super::start_workers(&pool, r.spec, r.scenario.pipeline.workers).await?;
    let start = Instant::now();
    let seen = Mutex::new(Watch::default());
    let samples = Mutex::new(Vec::new());
    let stop = AtomicBool::new(false);
    let total: u64 = hw.values().map(|h| *h as u64).sum();
    let produced = AtomicU64::new(total);
    let stall = StallRule {
        limit: Duration::from_secs(r.scenario.stall_limit_s()),
        healed_ms: 0,
        quiet: match r.source {
            ProgressSource::Quiet { quiet, .. } => Some(*quiet),
            _ => None,
        },
    };
    let (caught_up, ()) = tokio::join!(
        async {
            let c = wait_caught_up(
                r.infra,
                r.names,
                partitions,
                &pool,
                REPLAY_BUDGET,
                start,
                &seen,
                stall,
            )
            .await;
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
            c
        },
        watch(reader, start, &produced, total, &stop, &seen, &samples, "replay", false)
    );
    let children = pool.lock().expect("pool").take_all();
    stop_gracefully(children, Duration::from_secs(20)).await;
    let caught_up = caught_up?;
    if caught_up.check.status != CheckStatus::Pass {
        return Ok(fail(format!(
            "after the rewind ({how}) the pipeline did not catch up again: {}",
            caught_up.check.detail
        )));
    }
    let client = r.infra.harness_pg().connect().await?;
    let after = OutputState::read(&client, &r.names.schema, &m.outputs).await?;
    Ok(replay_difference(r.before, &after, m.guarantee, &how))
}

/// Rewinds the pipeline as `[replay]` says; returns how, in words for the check's detail.
async fn rewind(r: &ReplayInput<'_>) -> Result<String> {
    let p = &r.spec.pipeline;
    let m = &p.manifest;
    match &m.replay {
        Replay::Earliest => {
            reset_group(r).await?;
            Ok(format!(
                "consumer group `{}` reset to the earliest offsets",
                r.names.group
            ))
        }
        Replay::Sql(t) => {
            let sql = r.spec.values.render(t, None, "replay.sql")?;
            let client = r.infra.harness_pg().connect().await?;
            let changed = client.execute(sql.as_str(), &[]).await.map_err(|e| {
                RunnerError::Usage(format!(
                    "manifest {}: field `replay.sql`: `{sql}` failed: {}; fix the statement",
                    m.file.display(),
                    pg_message(&e)
                ))
            })?;
            Ok(format!("`replay.sql` changed {changed} row(s)"))
        }
        Replay::Command(c) => {
            run_command(p, c, "replay.command", &r.spec.values).await?;
            Ok("`replay.command`".into())
        }
    }
}

/// Commits each partition's low watermark for the run's group. The run's workers are gone, but
/// one that was killed may still count as a member until its session times out, which the
/// brokers refuse a commit for: asked again for up to 60 s.
async fn reset_group(r: &ReplayInput<'_>) -> Result<()> {
    let consumer: BaseConsumer = faultline_infra::ready::kafka_client_config(&r.infra.bootstrap())
        .set("group.id", &r.names.group)
        .set("enable.auto.commit", "false")
        .create()?;
    let topic = r.names.topic.clone();
    let partitions = r.scenario.infra.partitions;
    let group = r.names.group.clone();
    tokio::task::spawn_blocking(move || {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            let mut tpl = TopicPartitionList::new();
            for p in 0..partitions {
                let (low, _) = faultline_infra::kafka_query::watermarks(
                    &consumer,
                    &topic,
                    p,
                    Duration::from_secs(60),
                )?;
                tpl.add_partition_offset(&topic, p, Offset::Offset(low))?;
            }
            match consumer.commit(&tpl, CommitMode::Sync) {
                Ok(()) => return Ok(()),
                Err(_) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(500));
                }
                Err(e) => {
                    return Err(RunnerError::Pipeline {
                        message: format!(
                            "replay: cannot reset consumer group `{group}` to the earliest \
                             offsets within 60 s: {e}"
                        ),
                        log_tail: String::new(),
                    })
                }
            }
        }
    })
    .await
    .expect("group reset task panicked")
}

fn positions_text(p: &BTreeMap<i32, i64>) -> String {
    p.iter()
        .map(|(k, v)| format!("p{k} at {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Idempotency: reset the stored offsets to 0, reprocess the whole topic with a fresh worker in
/// batch mode, and require the same normalized end state (offset bookkeeping aside).
pub async fn replay(
    ci: &CheckInput<'_>,
    spec: &WorkerSpec,
    first_worker: u32,
) -> Result<CheckResult> {
    let client = ci.pg.connect().await?;
    let (schema, topic) = (&ci.names.schema, &ci.names.topic);
    let before = comparable(&faultline_oracle::read_end_state(&client, schema, topic).await?);
    client
        .execute(
            &format!("UPDATE {schema}.partition_offsets SET next_offset = 0 WHERE topic = $1"),
            &[topic],
        )
        .await?;
    let mut spec = spec.clone();
    spec.extra_env
        .insert("FAULTLINE_MODE".into(), "batch".into());
    spec.extra_env.insert(
        "FAULTLINE_GROUP_ID".into(),
        format!("{}.replay", ci.names.group),
    );
    let mut pool = WorkerPool::numbered_from(spec, first_worker);
    pool.start()?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(180);
    while pool.reap_exits().is_empty() {
        if tokio::time::Instant::now() > deadline {
            stop_gracefully(pool.take_all(), Duration::from_secs(5)).await;
            return Ok(CheckResult::from_rows(
                "replay",
                CheckStatus::Fail,
                "the replay worker did not finish within 180 s".into(),
                Vec::new(),
            ));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let exit = pool
        .unexpected_exits
        .first()
        .map(|(_, how)| how.clone())
        .unwrap_or_default();
    if !exit.starts_with("exit status: 0") {
        return Err(RunnerError::Pipeline {
            message: format!("the replay worker (batch mode) failed: {exit}"),
            log_tail: String::new(),
        });
    }
    let after = comparable(&faultline_oracle::read_end_state(&client, schema, topic).await?);
    let rows: Vec<Row> = before
        .iter()
        .filter(|(k, v)| after.get(*k) != Some(v))
        .map(|(k, v)| {
            let mut m = Map::new();
            m.insert("table".into(), k.clone().into());
            m.insert("before".into(), summary(v).into());
            m.insert(
                "after".into(),
                after.get(k).map(summary).unwrap_or_default().into(),
            );
            m
        })
        .collect();
    Ok(if rows.is_empty() {
        CheckResult::from_rows(
            "replay",
            CheckStatus::Pass,
            "reprocessing the whole topic from offset 0 left the normalized end state unchanged"
                .into(),
            rows,
        )
    } else {
        CheckResult::from_rows(
            "replay",
            CheckStatus::Fail,
            format!("reprocessing from offset 0 changed {} table(s)", rows.len()),
            rows,
        )
    })
}

/// The normalized end state by table, without the offset bookkeeping a replay legitimately adds to.
fn comparable(state: &faultline_oracle::EndState) -> Map<String, Value> {
    let mut v = match faultline_oracle::normalize(state) {
        Value::Object(m) => m,
        other => Map::from_iter([("state".to_string(), other)]),
    };
    v.retain(|k, _| !k.contains("offset"));
    v
}

fn summary(v: &Value) -> String {
    match v {
        Value::Array(a) => format!("{} rows", a.len()),
        Value::Object(o) => format!("{} entries", o.len()),
        other => other.to_string(),
    }
}
