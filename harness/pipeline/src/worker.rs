//! The consume → validate → enrich → score → load loop, with the partition ownership rules that make
//! the sink exactly-once: on assignment, seek to the offsets stored in Postgres; on revocation, drop
//! buffered records; on a fenced commit, roll back and re-read the stored offsets.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use rdkafka::config::{ClientConfig, RDKafkaLogLevel};
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext};
use rdkafka::error::KafkaResult;
use rdkafka::types::RDKafkaRespErr;
use rdkafka::{ClientContext, Message, Offset, TopicPartitionList};

use crate::alerts::DlqAlert;
use crate::config::{Config, Mode};
use crate::defects::{active, Defect};
use crate::dlq::DeadLetters;
use crate::metrics::{Health, Metrics};
use crate::process::Processor;
use crate::record::{Outcome, ProcessedRecord};
use crate::sink::{commit_batch, ensure_schema, stored_offsets, Lineage, Range, SinkError};

/// Partition assignment changes seen by the rebalance callback, handled by the loop.
#[derive(Debug)]
enum Change {
    Assigned(Vec<i32>),
    Revoked(Vec<i32>),
}

/// Consumer context: seeks assigned partitions to the stored offsets before fetching starts.
pub struct LedgerContext {
    postgres_url: String,
    schema: String,
    topic: String,
    trust_kafka_position: bool,
    changes: Mutex<Vec<Change>>,
}

impl ClientContext for LedgerContext {}

impl ConsumerContext for LedgerContext {
    fn rebalance(
        &self,
        consumer: &BaseConsumer<Self>,
        err: RDKafkaRespErr,
        tpl: &mut TopicPartitionList,
    ) {
        let parts: Vec<i32> = tpl.elements().iter().map(|e| e.partition()).collect();
        match err {
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS => {
                if !self.trust_kafka_position {
                    // Best effort here; the loop re-reads and seeks if this fails.
                    if let Ok(stored) = read_stored(&self.postgres_url, &self.schema, &self.topic) {
                        for p in &parts {
                            let off = stored
                                .get(p)
                                .map_or(Offset::Beginning, |o| Offset::Offset(*o));
                            let _ = tpl.set_partition_offset(&self.topic, *p, off);
                        }
                    }
                }
                if let Err(e) = consumer.assign(tpl) {
                    tracing::error!("assign failed: {e}");
                }
                tracing::info!(partitions = ?parts, "assigned");
                self.changes
                    .lock()
                    .expect("changes lock")
                    .push(Change::Assigned(parts));
            }
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS => {
                tracing::info!(partitions = ?parts, "revoked");
                self.changes
                    .lock()
                    .expect("changes lock")
                    .push(Change::Revoked(parts));
                let _ = consumer.unassign();
            }
            other => tracing::error!("rebalance error: {other:?}"),
        }
    }

    fn commit_callback(&self, result: KafkaResult<()>, _offsets: &TopicPartitionList) {
        if let Err(e) = result {
            tracing::debug!("informational Kafka offset commit failed: {e}");
        }
    }
}

fn read_stored(url: &str, schema: &str, topic: &str) -> Result<BTreeMap<i32, i64>> {
    let mut c = postgres::Client::connect(url, postgres::NoTls)?;
    ensure_schema(&mut c, schema)?;
    Ok(stored_offsets(&mut c, schema, topic)?.into_iter().collect())
}

/// Where each owned partition stands.
#[derive(Debug, Clone, Copy)]
struct Position {
    /// The stored next offset the next batch commits from (the partition's first offset when no row
    /// is stored yet; `None` until the stored offsets are read).
    committed: Option<i64>,
    /// The next offset expected from the stream; older records are stale and skipped, and a newer
    /// one means the stream skipped records (a seek that did not take), so the partition re-seeks.
    cursor: Option<i64>,
    /// The offset a skip landed on last time: seen again right after a re-seek, the log itself has
    /// no records in between (compaction, transaction markers), and it is accepted.
    skipped_to: Option<i64>,
}

/// Runs the worker until SIGTERM (stream mode) or until caught up (batch mode).
pub fn run(cfg: Config, stop: Arc<AtomicBool>) -> Result<()> {
    let metrics = Metrics::new();
    let health: Health = Arc::new(Mutex::new(None));
    if let Some(addr) = &cfg.metrics_addr {
        crate::metrics::serve(addr, metrics.clone(), health.clone())
            .with_context(|| format!("serve metrics on {addr}"))?;
    }
    let ignore_revocation = active(cfg.defect, Defect::IgnoreRevocation);
    let context = LedgerContext {
        postgres_url: cfg.postgres_url.clone(),
        schema: cfg.schema.clone(),
        topic: cfg.input_topic.clone(),
        trust_kafka_position: ignore_revocation,
        changes: Mutex::new(Vec::new()),
    };
    let consumer: BaseConsumer<LedgerContext> = ClientConfig::new()
        .set("bootstrap.servers", &cfg.bootstrap)
        .set("group.id", &cfg.group_id)
        .set("client.id", &cfg.worker_id)
        .set(
            "enable.auto.commit",
            if ignore_revocation { "true" } else { "false" },
        )
        .set("auto.commit.interval.ms", "200")
        .set("auto.offset.reset", "earliest")
        .set(
            "session.timeout.ms",
            std::env::var("FAULTLINE_SESSION_TIMEOUT_MS").unwrap_or_else(|_| "6000".into()),
        )
        .set("heartbeat.interval.ms", "1000")
        .set("max.poll.interval.ms", "60000")
        .set("partition.assignment.strategy", "range")
        .set_log_level(RDKafkaLogLevel::Warning)
        .create_with_context(context)
        .context("create the Kafka consumer")?;
    consumer
        .subscribe(&[&cfg.input_topic])
        .context("subscribe")?;

    let mut pg = connect_with_schema(&cfg, &stop)?;
    let mut dlq = DeadLetters::new(&cfg.bootstrap, &cfg.dlq_topic)?;
    let mut processor = Processor::from_config(&cfg)?;
    let mut alert = DlqAlert::new(
        cfg.alert_webhook.clone(),
        cfg.alert_dlq_ratio,
        &cfg.input_topic,
        &cfg.worker_id,
    );
    let lineage = Lineage {
        topic: cfg.input_topic.clone(),
        run_id: cfg.run_id.clone(),
        pipeline_version: cfg.pipeline_version.clone(),
        worker_id: cfg.worker_id.clone(),
    };
    let batch_target = if cfg.mode == Mode::Batch {
        Some(high_watermarks(&consumer, &cfg.input_topic)?)
    } else {
        None
    };

    let mut owned: BTreeMap<i32, Position> = BTreeMap::new();
    let mut resync: BTreeSet<i32> = BTreeSet::new();
    let mut last_lag_check = Instant::now() - Duration::from_secs(10);
    let mut backoff = Duration::from_millis(100);
    tracing::info!(worker = %cfg.worker_id, topic = %cfg.input_topic, "worker started");

    while !stop.load(Ordering::SeqCst) {
        let mut buffer: Vec<ProcessedRecord> = Vec::new();
        let mut first_at: Option<Instant> = None;
        let mut oldest_ts: Option<i64> = None;
        // Collect a batch.
        loop {
            let remaining = match first_at {
                Some(t) => cfg.batch_linger.saturating_sub(t.elapsed()),
                None => Duration::from_millis(200),
            };
            let msg = consumer.poll(remaining.max(Duration::from_millis(1)));
            apply_changes(
                &consumer.context().changes,
                &mut owned,
                &mut resync,
                &mut buffer,
                ignore_revocation,
            );
            match msg {
                // Linger over, or nothing arrived: process what there is.
                None => break,
                Some(Err(e)) => {
                    tracing::warn!("consume error: {e}");
                    break;
                }
                Some(Ok(m)) => {
                    let p = m.partition();
                    let Some(pos) = owned.get_mut(&p) else {
                        continue;
                    };
                    if resync.contains(&p) {
                        continue;
                    }
                    if pos.cursor.is_some_and(|c| m.offset() < c) {
                        continue; // fetched before a seek: already handled or about to be re-read
                    }
                    if let Some(c) = pos.cursor.filter(|c| m.offset() > *c && !ignore_revocation) {
                        if pos.skipped_to != Some(m.offset()) {
                            // Committing from here would leave offsets c..m.offset() unprocessed.
                            tracing::warn!(
                                partition = p,
                                expected = c,
                                got = m.offset(),
                                "the stream skipped offsets; re-seeking to the stored offset"
                            );
                            pos.skipped_to = Some(m.offset());
                            resync.insert(p);
                            continue;
                        }
                        tracing::info!(
                            partition = p,
                            from = c,
                            to = m.offset(),
                            "offsets absent from the log itself; continuing"
                        );
                    }
                    pos.skipped_to = None;
                    pos.cursor = Some(m.offset() + 1);
                    metrics.records_in.inc();
                    if let Some(ts) = m.timestamp().to_millis() {
                        oldest_ts = Some(oldest_ts.map_or(ts, |o: i64| o.min(ts)));
                    }
                    buffer.push(ProcessedRecord {
                        partition: p,
                        offset: m.offset(),
                        key: m.key().map(<[u8]>::to_vec),
                        payload: m.payload().unwrap_or_default().to_vec(),
                        outcome: Outcome::Pending,
                    });
                    first_at.get_or_insert_with(Instant::now);
                    if buffer.len() >= cfg.batch_max_records {
                        break;
                    }
                }
            }
        }
        if !resync.is_empty() {
            match seek_to_stored(&consumer, &mut pg, &cfg, &mut owned, &resync) {
                Ok(()) => {
                    buffer.retain(|r| !resync.contains(&r.partition));
                    resync.clear();
                }
                Err(e) => {
                    tracing::warn!("cannot read stored offsets yet: {e:#}");
                    pg = connect_pg(&cfg, &stop)?;
                    continue;
                }
            }
        }
        if buffer.is_empty() {
            if let Some(target) = &batch_target {
                if caught_up(&mut pg, &cfg, target)? {
                    tracing::info!("batch mode: caught up with {target:?}; exiting");
                    break;
                }
            }
            continue;
        }

        let started = Instant::now();
        // Process: validate, enrich, score.
        if let Err(e) = processor.process(&mut buffer) {
            if matches!(e, crate::process::ProcessError::Enrichment(_)) {
                metrics.enrichment_failures.inc();
            }
            *health.lock().expect("health lock") = Some(e.to_string());
            tracing::warn!("{e}; batch not committed, retrying in {backoff:?}");
            std::thread::sleep(backoff);
            backoff = (backoff * 2).min(Duration::from_secs(5));
            resync.extend(buffer.iter().map(|r| r.partition));
            continue;
        }
        // Dead letters first: they must be durable before the offsets that skip them are.
        let rejected: Vec<&ProcessedRecord> = buffer
            .iter()
            .filter(|r| matches!(r.outcome, Outcome::Rejected(_)))
            .collect();
        if !active(cfg.defect, Defect::DropMalformed) {
            if let Err(e) = dlq.send_all(&cfg.input_topic, &rejected) {
                tracing::warn!("dead-letter produce failed: {e:#}; retrying the batch");
                resync.extend(buffer.iter().map(|r| r.partition));
                std::thread::sleep(backoff);
                continue;
            }
        }
        let ranges = ranges_of(&buffer, &owned);
        match commit_batch(&mut pg, &cfg.schema, &lineage, &ranges, &buffer, cfg.defect) {
            Ok(applied) => {
                tracing::debug!(?ranges, "batch committed");
                backoff = Duration::from_millis(100);
                *health.lock().expect("health lock") = None;
                for r in &ranges {
                    if let Some(pos) = owned.get_mut(&r.partition) {
                        pos.committed = Some(r.to);
                    }
                }
                let mut tpl = TopicPartitionList::new();
                for r in &ranges {
                    let _ = tpl.add_partition_offset(
                        &cfg.input_topic,
                        r.partition,
                        Offset::Offset(r.to),
                    );
                }
                let _ = consumer.commit(&tpl, CommitMode::Async);
                metrics
                    .records_out
                    .get_or_create(&Metrics::label("outcome", "new"))
                    .inc_by(applied.new_transactions);
                metrics
                    .records_out
                    .get_or_create(&Metrics::label("outcome", "duplicate"))
                    .inc_by(applied.duplicates);
                metrics
                    .records_out
                    .get_or_create(&Metrics::label("outcome", "quarantined"))
                    .inc_by(rejected.len() as u64);
                for r in &rejected {
                    if let Outcome::Rejected(rej) = &r.outcome {
                        metrics
                            .dlq
                            .get_or_create(&Metrics::label("reason", rej.reason.as_str()))
                            .inc();
                    }
                }
                metrics
                    .batch_duration
                    .observe(started.elapsed().as_secs_f64());
                let now = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .unwrap_or_default();
                metrics.last_success.set(now.as_secs_f64());
                if let Some(ts) = oldest_ts {
                    metrics
                        .oldest_unprocessed_age
                        .set(((now.as_millis() as i64 - ts).max(0)) as f64 / 1000.0);
                }
                alert.observe(buffer.len() as u64, rejected.len() as u64);
                if last_lag_check.elapsed() > Duration::from_secs(5) {
                    last_lag_check = Instant::now();
                    update_lag(&consumer, &cfg.input_topic, &owned, &metrics);
                }
            }
            Err(SinkError::Fenced {
                partition,
                expected,
            }) => {
                metrics.fenced.inc();
                tracing::warn!("fenced on partition {partition} (expected {expected}); re-reading stored offsets");
                resync.extend(ranges.iter().map(|r| r.partition));
            }
            Err(SinkError::Postgres(e)) => {
                tracing::warn!("postgres error, batch not confirmed (rolled back, or committed in doubt: the stored offsets tell): {e}");
                *health.lock().expect("health lock") = Some(format!("postgres: {e}"));
                resync.extend(ranges.iter().map(|r| r.partition));
                std::thread::sleep(backoff);
                backoff = (backoff * 2).min(Duration::from_secs(5));
                if pg.is_closed() || pg.simple_query("SELECT 1").is_err() {
                    pg = connect_pg(&cfg, &stop)?;
                }
            }
        }
    }
    consumer.unsubscribe();
    Ok(())
}

fn apply_changes(
    changes: &Mutex<Vec<Change>>,
    owned: &mut BTreeMap<i32, Position>,
    resync: &mut BTreeSet<i32>,
    buffer: &mut Vec<ProcessedRecord>,
    ignore_revocation: bool,
) {
    let drained: Vec<Change> = std::mem::take(&mut *changes.lock().expect("changes lock"));
    for c in drained {
        match c {
            Change::Assigned(ps) => {
                for p in ps {
                    owned.insert(
                        p,
                        Position {
                            committed: None,
                            cursor: None,
                            skipped_to: None,
                        },
                    );
                    if !ignore_revocation {
                        resync.insert(p);
                    }
                }
            }
            Change::Revoked(ps) => {
                if ignore_revocation {
                    continue; // planted: keeps writing what it buffered for partitions it lost
                }
                for p in &ps {
                    owned.remove(p);
                    resync.remove(p);
                }
                buffer.retain(|r| !ps.contains(&r.partition));
            }
        }
    }
}

/// Reads the stored offsets and seeks each partition in `parts` to them.
fn seek_to_stored(
    consumer: &BaseConsumer<LedgerContext>,
    pg: &mut postgres::Client,
    cfg: &Config,
    owned: &mut BTreeMap<i32, Position>,
    parts: &BTreeSet<i32>,
) -> Result<()> {
    let stored: BTreeMap<i32, i64> = stored_offsets(pg, &cfg.schema, &cfg.input_topic)?
        .into_iter()
        .collect();
    for p in parts {
        let Some(pos) = owned.get_mut(p) else {
            continue;
        };
        // No stored offset: the partition starts at its first record, by number, so the first batch
        // must start there too (a logical "beginning" would let any offset through).
        let target = match stored.get(p) {
            Some(o) => *o,
            None => {
                consumer
                    .fetch_watermarks(&cfg.input_topic, *p, Duration::from_secs(10))
                    .with_context(|| format!("watermarks of partition {p}"))?
                    .0
            }
        };
        consumer
            .seek(
                &cfg.input_topic,
                *p,
                Offset::Offset(target),
                Duration::from_secs(10),
            )
            .with_context(|| format!("seek partition {p}"))?;
        tracing::info!(
            partition = p,
            offset = target,
            stored = stored.contains_key(p),
            "seeked to the stored offset"
        );
        *pos = Position {
            committed: Some(target),
            cursor: Some(target),
            skipped_to: pos.skipped_to,
        };
    }
    Ok(())
}

/// One range per partition in the batch: from the stored offset (or the first record when none is
/// stored) to one past the last record.
fn ranges_of(buffer: &[ProcessedRecord], owned: &BTreeMap<i32, Position>) -> Vec<Range> {
    let mut by_part: BTreeMap<i32, (i64, i64)> = BTreeMap::new();
    for r in buffer {
        let e = by_part.entry(r.partition).or_insert((r.offset, r.offset));
        e.0 = e.0.min(r.offset);
        e.1 = e.1.max(r.offset);
    }
    by_part
        .into_iter()
        .map(|(p, (lo, hi))| {
            let from = owned.get(&p).and_then(|pos| pos.committed).unwrap_or(lo);
            Range {
                partition: p,
                from,
                to: hi + 1,
            }
        })
        .collect()
}

/// Connects and creates the ledger schema, starting over when the connection is lost meanwhile (a
/// restarted or terminated backend at start-up is no reason to exit). SQL errors still fail.
fn connect_with_schema(cfg: &Config, stop: &AtomicBool) -> Result<postgres::Client> {
    let mut wait = Duration::from_millis(100);
    loop {
        let mut pg = connect_pg(cfg, stop)?;
        match ensure_schema(&mut pg, &cfg.schema) {
            Ok(()) => return Ok(pg),
            Err(e) if connection_lost(&pg, &e) && !stop.load(Ordering::SeqCst) => {
                tracing::warn!("lost the postgres connection while creating the schema ({e}); retrying in {wait:?}");
                std::thread::sleep(wait);
                wait = (wait * 2).min(Duration::from_secs(2));
            }
            Err(e) => return Err(e).context("create the ledger schema"),
        }
    }
}

/// True when an error means the connection went away (closed, or its backend terminated or shut
/// down), as opposed to a problem with the SQL.
fn connection_lost(pg: &postgres::Client, e: &postgres::Error) -> bool {
    use postgres::error::SqlState;
    pg.is_closed()
        || e.is_closed()
        || e.code().is_some_and(|c| {
            [
                SqlState::ADMIN_SHUTDOWN,
                SqlState::CRASH_SHUTDOWN,
                SqlState::CANNOT_CONNECT_NOW,
            ]
            .contains(c)
        })
}

fn connect_pg(cfg: &Config, stop: &AtomicBool) -> Result<postgres::Client> {
    let mut wait = Duration::from_millis(100);
    loop {
        match postgres::Client::connect(&cfg.postgres_url, postgres::NoTls) {
            Ok(c) => return Ok(c),
            Err(e) if !stop.load(Ordering::SeqCst) => {
                tracing::warn!("postgres not reachable ({e}); retrying in {wait:?}");
                std::thread::sleep(wait);
                wait = (wait * 2).min(Duration::from_secs(2));
            }
            Err(e) => return Err(e).context("connect to postgres"),
        }
    }
}

fn high_watermarks(
    consumer: &BaseConsumer<LedgerContext>,
    topic: &str,
) -> Result<BTreeMap<i32, i64>> {
    let md = consumer.fetch_metadata(Some(topic), Duration::from_secs(20))?;
    let t = md.topics().first().context("topic metadata")?;
    t.partitions()
        .iter()
        .map(|p| {
            Ok((
                p.id(),
                consumer
                    .fetch_watermarks(topic, p.id(), Duration::from_secs(20))?
                    .1,
            ))
        })
        .collect()
}

fn caught_up(pg: &mut postgres::Client, cfg: &Config, target: &BTreeMap<i32, i64>) -> Result<bool> {
    let stored: BTreeMap<i32, i64> = stored_offsets(pg, &cfg.schema, &cfg.input_topic)?
        .into_iter()
        .collect();
    Ok(target
        .iter()
        .all(|(p, hw)| stored.get(p).copied().unwrap_or(0) >= *hw))
}

fn update_lag(
    consumer: &BaseConsumer<LedgerContext>,
    topic: &str,
    owned: &BTreeMap<i32, Position>,
    metrics: &Metrics,
) {
    for (p, pos) in owned {
        if let Ok((_, hw)) = consumer.fetch_watermarks(topic, *p, Duration::from_secs(5)) {
            let lag = hw - pos.committed.unwrap_or(0);
            metrics
                .partition_lag
                .get_or_create(&Metrics::label("partition", p.to_string()))
                .set(lag.max(0));
        }
    }
}
