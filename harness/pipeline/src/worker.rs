//! The consume → validate → enrich → score → load loop, with the partition ownership rules that make
//! the sink exactly-once: on assignment, seek to the offsets stored in Postgres; on revocation, drop
//! buffered records; on a fenced commit, roll back and re-read the stored offsets.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use rdkafka::config::{ClientConfig, RDKafkaLogLevel};
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext, RebalanceProtocol};
use rdkafka::error::KafkaResult;
use rdkafka::types::RDKafkaRespErr;
use rdkafka::{ClientContext, Message, Offset, TopicPartitionList};

use crate::alerts::DlqAlert;
use crate::config::{Config, GroupProtocol, Mode};
use crate::defects::{active, Defect};
use crate::dlq::DeadLetters;
use crate::metrics::{Health, Metrics};
use crate::process::{ProcessError, Processor};
use crate::record::{Outcome, ProcessedRecord};
use crate::sink::{
    commit_batch, ensure_schema, quarantined, stored_offsets, Applied, Lineage, Range, SinkError,
};

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
                // KIP-848's `consumer` protocol (and any cooperative assignor) hands out only the
                // partitions added; librdkafka refuses an eager `assign` of them.
                let assigned = if incremental(consumer) {
                    consumer.incremental_assign(tpl)
                } else {
                    consumer.assign(tpl)
                };
                if let Err(e) = assigned {
                    tracing::error!("assign failed: {e}");
                }
                tracing::info!(partitions = ?parts, "assigned");
                self.changes
                    .lock()
                    .expect("changes lock")
                    .push(Change::Assigned(parts));
            }
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS => {
                tracing::info!(partitions = ?parts, lost = consumer.assignment_lost(), "revoked");
                self.changes
                    .lock()
                    .expect("changes lock")
                    .push(Change::Revoked(parts));
                // Incremental: only these partitions go; the others stay assigned, positions kept.
                let unassigned = if incremental(consumer) {
                    consumer.incremental_unassign(tpl)
                } else {
                    consumer.unassign()
                };
                if let Err(e) = unassigned {
                    tracing::error!("unassign failed: {e}");
                }
            }
            other => tracing::error!("rebalance error: {other:?}"),
        }
    }

    fn commit_callback(&self, result: KafkaResult<()>, _offsets: &TopicPartitionList) {
        if let Err(e) = result {
            tracing::debug!("Kafka offset commit failed: {e}");
        }
    }
}

/// Whether the group hands out assignment changes incrementally (the KIP-848 `consumer`
/// protocol) rather than the whole assignment each time (classic with the `range` assignor).
fn incremental<C: ConsumerContext>(consumer: &BaseConsumer<C>) -> bool {
    matches!(
        consumer.rebalance_protocol(),
        RebalanceProtocol::Cooperative
    )
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

/// The wait before retrying a failed batch, restored after every commit.
const INITIAL_BACKOFF: Duration = Duration::from_millis(100);
/// The longest wait between retries of a failed batch.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// The partitions this worker owns and where each stands: the ownership rules the exactly-once
/// protocol rests on, kept apart from Kafka and Postgres so they read (and test) on their own.
struct Partitions {
    owned: BTreeMap<i32, Position>,
    /// Partitions whose records do not count until their stored offset is read and seeked to: newly
    /// assigned ones, ones whose stream skipped, and ones whose batch was not committed.
    resync: BTreeSet<i32>,
    /// The planted `ignore-revocation`: revoked partitions stay owned and Kafka's position is trusted.
    ignore_revocation: bool,
}

impl Partitions {
    fn new(ignore_revocation: bool) -> Self {
        Self {
            owned: BTreeMap::new(),
            resync: BTreeSet::new(),
            ignore_revocation,
        }
    }

    /// Applies the assignment changes the rebalance callback queued. A revoked partition's buffered
    /// records are dropped: another worker now owns them and commits them from the stored offset.
    fn apply(&mut self, changes: &Mutex<Vec<Change>>, buffer: &mut Vec<ProcessedRecord>) {
        let drained: Vec<Change> = std::mem::take(&mut *changes.lock().expect("changes lock"));
        for c in drained {
            match c {
                Change::Assigned(ps) => {
                    for p in ps {
                        self.owned.insert(
                            p,
                            Position {
                                committed: None,
                                cursor: None,
                                skipped_to: None,
                            },
                        );
                        if !self.ignore_revocation {
                            self.resync.insert(p);
                        }
                    }
                }
                Change::Revoked(ps) => {
                    if self.ignore_revocation {
                        continue; // planted: keeps writing what it buffered for partitions it lost
                    }
                    for p in &ps {
                        self.owned.remove(p);
                        self.resync.remove(p);
                    }
                    buffer.retain(|r| !ps.contains(&r.partition));
                }
            }
        }
    }

    /// Whether the record at `offset` of `partition` goes into the batch, which must hold each owned
    /// partition's records contiguously from its stored offset: a batch with a gap would commit
    /// offsets it never processed. Advances the partition's cursor past an admitted record.
    fn admit(&mut self, partition: i32, offset: i64) -> bool {
        let Some(pos) = self.owned.get_mut(&partition) else {
            return false;
        };
        if self.resync.contains(&partition) {
            return false;
        }
        if pos.cursor.is_some_and(|c| offset < c) {
            return false; // fetched before a seek: already handled or about to be re-read
        }
        if let Some(c) = pos
            .cursor
            .filter(|c| offset > *c && !self.ignore_revocation)
        {
            if pos.skipped_to != Some(offset) {
                // Committing from here would leave offsets c..offset unprocessed.
                tracing::warn!(
                    partition,
                    expected = c,
                    got = offset,
                    "the stream skipped offsets; re-seeking to the stored offset"
                );
                pos.skipped_to = Some(offset);
                self.resync.insert(partition);
                return false;
            }
            tracing::info!(
                partition,
                from = c,
                to = offset,
                "offsets absent from the log itself; continuing"
            );
        }
        pos.skipped_to = None;
        pos.cursor = Some(offset + 1);
        true
    }

    /// Gives up a batch that will not be committed, whatever the reason: each of its partitions is
    /// read again from its stored offset, which also settles whether a commit in doubt went through.
    /// Every path that drops admitted records must come through here; otherwise the partition's
    /// cursor is already past them and the next batch commits a range that skips them.
    fn abandon(&mut self, records: &[ProcessedRecord]) {
        self.resync.extend(records.iter().map(|r| r.partition));
    }

    /// One range per partition in the batch: from the stored offset (or the first record when none is
    /// stored) to one past the last record.
    fn ranges(&self, buffer: &[ProcessedRecord]) -> Vec<Range> {
        let mut by_part: BTreeMap<i32, (i64, i64)> = BTreeMap::new();
        for r in buffer {
            let e = by_part.entry(r.partition).or_insert((r.offset, r.offset));
            e.0 = e.0.min(r.offset);
            e.1 = e.1.max(r.offset);
        }
        by_part
            .into_iter()
            .map(|(p, (lo, hi))| {
                let from = self
                    .owned
                    .get(&p)
                    .and_then(|pos| pos.committed)
                    .unwrap_or(lo);
                Range {
                    partition: p,
                    from,
                    to: hi + 1,
                }
            })
            .collect()
    }

    /// After a commit, each partition's next batch starts where this one ended: the value the next
    /// compare-and-set expects.
    fn committed(&mut self, ranges: &[Range]) {
        for r in ranges {
            if let Some(pos) = self.owned.get_mut(&r.partition) {
                pos.committed = Some(r.to);
            }
        }
    }
}

/// One batch as collected from the stream.
struct Batch {
    records: Vec<ProcessedRecord>,
    /// The oldest Kafka timestamp in the batch (ms since the epoch), for the oldest-unprocessed gauge.
    oldest_ts: Option<i64>,
}

/// A running worker: its clients, the partitions it owns, and the retry state carried between batches.
struct Worker {
    cfg: Config,
    stop: Arc<AtomicBool>,
    metrics: Metrics,
    /// The unresolved problem `/healthz` reports; `None` once a batch commits.
    health: Health,
    consumer: BaseConsumer<LedgerContext>,
    pg: postgres::Client,
    dlq: DeadLetters,
    processor: Processor,
    alert: DlqAlert,
    lineage: Lineage,
    /// Batch mode: the high watermarks seen at start; the job is done when the stored offsets reach them.
    batch_target: Option<BTreeMap<i32, i64>>,
    partitions: Partitions,
    /// The wait before retrying a failed batch: doubles on each failure up to `MAX_BACKOFF`.
    backoff: Duration,
    last_lag_check: Instant,
}

/// Runs the worker until SIGTERM (stream mode) or until caught up (batch mode).
pub fn run(cfg: Config, stop: Arc<AtomicBool>) -> Result<()> {
    let mut worker = Worker::start(cfg, stop)?;
    worker.consume()?;
    worker.shutdown();
    Ok(())
}

impl Worker {
    /// Sets up, in order: the metrics endpoint (first, so `/healthz` answers during a slow start), the
    /// consumer in its group, Postgres with the schema, the dead-letter producer, the processor, the
    /// DLQ alert, and in batch mode the high watermarks that define "done".
    fn start(cfg: Config, stop: Arc<AtomicBool>) -> Result<Self> {
        let metrics = Metrics::new();
        let health: Health = Arc::new(Mutex::new(None));
        if let Some(addr) = &cfg.metrics_addr {
            crate::metrics::serve(addr, metrics.clone(), health.clone())
                .with_context(|| format!("serve metrics on {addr}"))?;
        }
        let ignore_revocation = active(cfg.defect, Defect::IgnoreRevocation);
        let consumer = subscribe(&cfg, ignore_revocation)?;
        let pg = connect_with_schema(&cfg, &stop)?;
        let dlq = DeadLetters::new(
            &cfg.bootstrap,
            &cfg.dlq_topic,
            &format!("{}.dlq.{}", cfg.group_id, cfg.worker_id),
        )?;
        let processor = Processor::from_config(&cfg)?;
        let alert = DlqAlert::new(
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
        tracing::info!(worker = %cfg.worker_id, topic = %cfg.input_topic, "worker started");
        Ok(Self {
            cfg,
            stop,
            metrics,
            health,
            consumer,
            pg,
            dlq,
            processor,
            alert,
            lineage,
            batch_target,
            partitions: Partitions::new(ignore_revocation),
            backoff: INITIAL_BACKOFF,
            // Due at once: the first committed batch updates the lag gauges.
            last_lag_check: Instant::now() - Duration::from_secs(10),
        })
    }

    /// The poll / batch / commit loop: collect a batch, bring partitions marked for re-reading back to
    /// their stored offsets, then process and commit what is left. The stop flag (SIGTERM) is checked
    /// between batches, so a batch is never abandoned half-way.
    fn consume(&mut self) -> Result<()> {
        while !self.stop.load(Ordering::SeqCst) {
            let mut batch = self.collect_batch();
            if !self.resync(&mut batch.records)? {
                // Dropped before it was processed (Postgres went away while re-seeking): the other
                // partitions in it were admitted too, so they are read again as well.
                self.partitions.abandon(&batch.records);
                continue;
            }
            if batch.records.is_empty() {
                if self.finished()? {
                    break;
                }
                continue;
            }
            self.load(batch)?;
        }
        Ok(())
    }

    /// Polls until the batch is full, the linger after its first record is over, or nothing arrived
    /// for 200 ms. Rebalance changes are applied after every poll, so the batch never keeps records
    /// of a partition this worker lost meanwhile.
    fn collect_batch(&mut self) -> Batch {
        let mut batch = Batch {
            records: Vec::new(),
            oldest_ts: None,
        };
        let mut first_at: Option<Instant> = None;
        loop {
            let remaining = match first_at {
                Some(t) => self.cfg.batch_linger.saturating_sub(t.elapsed()),
                None => Duration::from_millis(200),
            };
            let msg = self.consumer.poll(remaining.max(Duration::from_millis(1)));
            self.partitions
                .apply(&self.consumer.context().changes, &mut batch.records);
            let m = match msg {
                // Linger over, or nothing arrived: process what there is.
                None => break,
                Some(Err(e)) => {
                    tracing::warn!("consume error: {e}");
                    break;
                }
                Some(Ok(m)) => m,
            };
            if !self.partitions.admit(m.partition(), m.offset()) {
                continue;
            }
            self.metrics.records_in.inc();
            if let Some(ts) = m.timestamp().to_millis() {
                batch.oldest_ts = Some(batch.oldest_ts.map_or(ts, |o: i64| o.min(ts)));
            }
            batch.records.push(ProcessedRecord {
                partition: m.partition(),
                offset: m.offset(),
                key: m.key().map(<[u8]>::to_vec),
                payload: m.payload().unwrap_or_default().to_vec(),
                outcome: Outcome::Pending,
            });
            first_at.get_or_insert_with(Instant::now);
            if batch.records.len() >= self.cfg.batch_max_records {
                break;
            }
        }
        batch
    }

    /// Seeks every partition marked for re-reading to its stored offset and drops its records from
    /// the batch (they are read again from there). False when the stored offsets cannot be read yet:
    /// the Postgres connection is renewed and the batch is dropped, to be collected again.
    fn resync(&mut self, records: &mut Vec<ProcessedRecord>) -> Result<bool> {
        if self.partitions.resync.is_empty() {
            return Ok(true);
        }
        match seek_to_stored(
            &self.consumer,
            &mut self.pg,
            &self.cfg,
            &mut self.partitions,
        ) {
            Ok(()) => {
                records.retain(|r| !self.partitions.resync.contains(&r.partition));
                // The dead-letter progress of the same partitions (see `dlq`): what is below it
                // is not dead-lettered again.
                if let Err(e) = self.dlq.recover(
                    &self.consumer,
                    &self.cfg.input_topic,
                    &self.partitions.resync,
                ) {
                    tracing::warn!("cannot read the dead-letter progress yet: {e:#}");
                    return Ok(false);
                }
                self.partitions.resync.clear();
                Ok(true)
            }
            Err(e) => {
                tracing::warn!("cannot read stored offsets yet: {e:#}");
                self.pg = connect_pg(&self.cfg, &self.stop)?;
                Ok(false)
            }
        }
    }

    /// Batch mode only: true once the stored offsets reach the high watermarks seen at start.
    fn finished(&mut self) -> Result<bool> {
        let Some(target) = &self.batch_target else {
            return Ok(false);
        };
        let done = caught_up(&mut self.pg, &self.cfg, target)?;
        if done {
            tracing::info!("batch mode: caught up with {target:?}; exiting");
        }
        Ok(done)
    }

    /// Processes, dead-letters and commits one batch. A step that fails has marked the batch's
    /// partitions for re-reading, so the batch is retried from the stored offsets.
    fn load(&mut self, mut batch: Batch) -> Result<()> {
        let started = Instant::now();
        if !self.process(&mut batch.records) {
            return Ok(());
        }
        let rejected: Vec<&ProcessedRecord> = batch
            .records
            .iter()
            .filter(|r| matches!(r.outcome, Outcome::Rejected(_)))
            .collect();
        let ranges = self.partitions.ranges(&batch.records);
        if !self.send_dead_letters(&batch.records, &rejected, &ranges) {
            return Ok(());
        }
        self.commit(&batch, &ranges, &rejected, started)
    }

    /// Validates, enriches and scores. On failure (the profile service or a model endpoint is down)
    /// nothing may commit without its enrichment and scores: report unhealthy, back off, re-read.
    fn process(&mut self, records: &mut [ProcessedRecord]) -> bool {
        let Err(e) = self.processor.process(records) else {
            return true;
        };
        if matches!(e, ProcessError::Enrichment(_)) {
            self.metrics.enrichment_failures.inc();
        }
        self.set_health(Some(e.to_string()));
        tracing::warn!("{e}; batch not committed, retrying in {:?}", self.backoff);
        self.back_off();
        self.partitions.abandon(records);
        false
    }

    /// Dead letters first, in a Kafka transaction committed before the Postgres one: they must be
    /// durable before the offsets that skip them are, and sent once (see `dlq`). Records already
    /// quarantined are committed, so already dead-lettered. (The planted `drop-malformed` sends none.)
    fn send_dead_letters(
        &mut self,
        records: &[ProcessedRecord],
        rejected: &[&ProcessedRecord],
        ranges: &[Range],
    ) -> bool {
        if active(self.cfg.defect, Defect::DropMalformed) || rejected.is_empty() {
            return true;
        }
        let positions: Vec<(i32, i64)> = rejected.iter().map(|r| (r.partition, r.offset)).collect();
        let sent = quarantined(
            &mut self.pg,
            &self.cfg.schema,
            &self.cfg.input_topic,
            &positions,
        )
        .context("read the quarantined positions")
        .and_then(|done| {
            self.dlq.send_all(
                &self.consumer,
                &self.cfg.input_topic,
                ranges,
                rejected,
                &done,
            )
        });
        let Err(e) = sent else {
            return true;
        };
        tracing::warn!("dead-letter produce failed: {e:#}; retrying the batch");
        self.partitions.abandon(records);
        std::thread::sleep(self.backoff);
        false
    }

    /// The exactly-once step: one Postgres transaction writes the batch and moves each partition's
    /// stored offset by compare-and-set from where this worker started (`sink::commit_batch`).
    /// Fenced means another worker owns the partition now; a Postgres error leaves the outcome in
    /// doubt. Either way the stored offsets, re-read, tell where to go on.
    fn commit(
        &mut self,
        batch: &Batch,
        ranges: &[Range],
        rejected: &[&ProcessedRecord],
        started: Instant,
    ) -> Result<()> {
        match commit_batch(
            &mut self.pg,
            &self.cfg.schema,
            &self.lineage,
            ranges,
            &batch.records,
            self.cfg.defect,
        ) {
            Ok(applied) => {
                tracing::debug!(?ranges, "batch committed");
                self.backoff = INITIAL_BACKOFF;
                self.set_health(None);
                self.partitions.committed(ranges);
                self.record_committed(batch, rejected, &applied, started);
            }
            Err(SinkError::Fenced {
                partition,
                expected,
            }) => {
                self.metrics.fenced.inc();
                tracing::warn!("fenced on partition {partition} (expected {expected}); re-reading stored offsets");
                self.partitions.abandon(&batch.records);
            }
            Err(SinkError::Postgres(e)) => {
                tracing::warn!("postgres error, batch not confirmed (rolled back, or committed in doubt: the stored offsets tell): {e}");
                self.set_health(Some(format!("postgres: {e}")));
                self.partitions.abandon(&batch.records);
                self.back_off();
                if self.pg.is_closed() || self.pg.simple_query("SELECT 1").is_err() {
                    self.pg = connect_pg(&self.cfg, &self.stop)?;
                }
            }
        }
        Ok(())
    }

    /// The job metrics and the DLQ alert for a committed batch. Per-partition lag is refreshed at most
    /// every 5 s: it costs a watermark request per partition.
    fn record_committed(
        &mut self,
        batch: &Batch,
        rejected: &[&ProcessedRecord],
        applied: &Applied,
        started: Instant,
    ) {
        let m = &self.metrics;
        m.records_out
            .get_or_create(&Metrics::label("outcome", "new"))
            .inc_by(applied.new_transactions);
        m.records_out
            .get_or_create(&Metrics::label("outcome", "duplicate"))
            .inc_by(applied.duplicates);
        m.records_out
            .get_or_create(&Metrics::label("outcome", "quarantined"))
            .inc_by(rejected.len() as u64);
        for r in rejected {
            if let Outcome::Rejected(rej) = &r.outcome {
                m.dlq
                    .get_or_create(&Metrics::label("reason", rej.reason.as_str()))
                    .inc();
            }
        }
        m.batch_duration.observe(started.elapsed().as_secs_f64());
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        m.last_success.set(now.as_secs_f64());
        if let Some(ts) = batch.oldest_ts {
            m.oldest_unprocessed_age
                .set(((now.as_millis() as i64 - ts).max(0)) as f64 / 1000.0);
        }
        self.alert
            .observe(batch.records.len() as u64, rejected.len() as u64);
        if self.last_lag_check.elapsed() > Duration::from_secs(5) {
            self.last_lag_check = Instant::now();
            update_lag(
                &self.consumer,
                &self.cfg.input_topic,
                &self.partitions.owned,
                &self.metrics,
            );
        }
    }

    fn set_health(&self, problem: Option<String>) {
        *self.health.lock().expect("health lock") = problem;
    }

    /// Waits out the backoff and doubles it for the next failure.
    fn back_off(&mut self) {
        std::thread::sleep(self.backoff);
        self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
    }

    /// Leaves the group cleanly: unsubscribing revokes this worker's partitions now, before the
    /// consumer is dropped.
    fn shutdown(&self) {
        self.consumer.unsubscribe();
    }
}

/// Creates the consumer and joins the group. Positions come from Postgres, never from Kafka's
/// committed offsets, so auto-commit is off, except under the planted `ignore-revocation`, which
/// trusts Kafka's position.
fn subscribe(cfg: &Config, ignore_revocation: bool) -> Result<BaseConsumer<LedgerContext>> {
    let context = LedgerContext {
        postgres_url: cfg.postgres_url.clone(),
        schema: cfg.schema.clone(),
        topic: cfg.input_topic.clone(),
        trust_kafka_position: ignore_revocation,
        changes: Mutex::new(Vec::new()),
    };
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", &cfg.bootstrap)
        .set("group.id", &cfg.group_id)
        .set("client.id", &cfg.worker_id)
        .set(
            "enable.auto.commit",
            if ignore_revocation { "true" } else { "false" },
        )
        .set("auto.commit.interval.ms", "200")
        .set("auto.offset.reset", "earliest")
        // Also makes `committed_offsets` wait for stable offsets (the dead-letter progress).
        .set("isolation.level", "read_committed")
        .set("max.poll.interval.ms", "60000")
        .set_log_level(RDKafkaLogLevel::Warning);
    match cfg.group_protocol {
        GroupProtocol::Classic => {
            config
                .set(
                    "session.timeout.ms",
                    std::env::var("FAULTLINE_SESSION_TIMEOUT_MS").unwrap_or_else(|_| "6000".into()),
                )
                .set("heartbeat.interval.ms", "1000")
                .set("partition.assignment.strategy", "range");
        }
        // The coordinator assigns, and the session timeout and heartbeat interval are the
        // broker's (`group.consumer.*`): librdkafka refuses the three classic settings.
        GroupProtocol::Consumer => {
            if let Ok(ms) = std::env::var("FAULTLINE_SESSION_TIMEOUT_MS") {
                tracing::info!(
                    ms,
                    "FAULTLINE_SESSION_TIMEOUT_MS is not the client's to set under the consumer \
                     group protocol; the broker's group.consumer.session.timeout.ms applies"
                );
            }
            config.set("group.protocol", "consumer");
        }
    }
    let consumer: BaseConsumer<LedgerContext> = config
        .create_with_context(context)
        .context("create the Kafka consumer")?;
    consumer
        .subscribe(&[&cfg.input_topic])
        .context("subscribe")?;
    Ok(consumer)
}

/// Reads the stored offsets and seeks each partition marked for re-reading to them.
fn seek_to_stored(
    consumer: &BaseConsumer<LedgerContext>,
    pg: &mut postgres::Client,
    cfg: &Config,
    partitions: &mut Partitions,
) -> Result<()> {
    let stored: BTreeMap<i32, i64> = stored_offsets(pg, &cfg.schema, &cfg.input_topic)?
        .into_iter()
        .collect();
    for p in &partitions.resync {
        let Some(pos) = partitions.owned.get_mut(p) else {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn record(partition: i32, offset: i64) -> ProcessedRecord {
        ProcessedRecord {
            partition,
            offset,
            key: None,
            payload: Vec::new(),
            outcome: Outcome::Pending,
        }
    }

    /// Partitions owning `p`, seeked to `next` (what `seek_to_stored` leaves behind).
    fn seeked(p: i32, next: i64, ignore_revocation: bool) -> Partitions {
        let mut parts = Partitions::new(ignore_revocation);
        parts.owned.insert(
            p,
            Position {
                committed: Some(next),
                cursor: Some(next),
                skipped_to: None,
            },
        );
        parts
    }

    #[test]
    fn an_assigned_partition_waits_for_its_stored_offset() {
        let mut parts = Partitions::new(false);
        let changes = Mutex::new(vec![Change::Assigned(vec![0, 1])]);
        parts.apply(&changes, &mut Vec::new());
        assert_eq!(parts.resync, BTreeSet::from([0, 1]));
        assert!(!parts.admit(0, 0));
        assert!(
            !parts.admit(7, 0),
            "a partition not owned is never admitted"
        );
    }

    #[test]
    fn records_are_admitted_in_order_and_a_gap_re_seeks_once() {
        let mut parts = seeked(0, 5, false);
        assert!(parts.admit(0, 5));
        assert!(!parts.admit(0, 5), "stale: fetched before a seek");
        assert!(!parts.admit(0, 8), "a gap 6..8 must re-seek");
        assert_eq!(parts.resync, BTreeSet::from([0]));
        // After the re-seek the same gap again: the log itself has no records there.
        parts.resync.clear();
        assert!(parts.admit(0, 8));
        assert_eq!(parts.owned[&0].cursor, Some(9));
        assert_eq!(parts.owned[&0].skipped_to, None);
    }

    #[test]
    fn an_abandoned_batch_is_read_again_from_the_stored_offset_on_every_partition_in_it() {
        // CI once lost 400 records of partition 0: a batch holding partitions 0 and 1 was dropped
        // because re-seeking partition 1 failed, while partition 0's cursor was already past it.
        let mut parts = seeked(0, 3, false);
        parts.owned.insert(1, parts.owned[&0]);
        let batch: Vec<ProcessedRecord> =
            (3..7).map(|o| record(0, o)).chain([record(1, 3)]).collect();
        for r in &batch {
            assert!(parts.admit(r.partition, r.offset));
        }
        parts.abandon(&batch);
        assert_eq!(parts.resync, BTreeSet::from([0, 1]));
        assert!(
            !parts.admit(0, 7),
            "nothing past the dropped records counts before the re-seek"
        );
        // Re-seeked to the stored offset: the dropped records come again and the range starts there.
        let mut parts = seeked(0, 3, false);
        let again: Vec<ProcessedRecord> = (3..8).map(|o| record(0, o)).collect();
        assert!(again.iter().all(|r| parts.admit(r.partition, r.offset)));
        assert_eq!(parts.ranges(&again)[0].from, 3);
    }

    #[test]
    fn revocation_drops_buffered_records_unless_the_defect_ignores_it() {
        for ignore in [false, true] {
            let mut parts = seeked(0, 0, ignore);
            parts.owned.insert(1, parts.owned[&0]);
            let mut buffer = vec![record(0, 0), record(1, 0)];
            parts.apply(&Mutex::new(vec![Change::Revoked(vec![1])]), &mut buffer);
            let kept: Vec<i32> = buffer.iter().map(|r| r.partition).collect();
            assert_eq!(kept, if ignore { vec![0, 1] } else { vec![0] });
            assert_eq!(parts.owned.contains_key(&1), ignore);
        }
    }

    #[test]
    fn ranges_start_at_the_stored_offset_and_advance_on_commit() {
        let mut parts = seeked(0, 3, false);
        let buffer = vec![record(0, 4), record(0, 3), record(2, 10)];
        let ranges = parts.ranges(&buffer);
        assert_eq!(
            ranges,
            vec![
                Range {
                    partition: 0,
                    from: 3,
                    to: 5
                },
                Range {
                    partition: 2,
                    from: 10,
                    to: 11
                },
            ]
        );
        parts.committed(&ranges);
        assert_eq!(parts.owned[&0].committed, Some(5));
        assert!(!parts.owned.contains_key(&2));
    }
}
