//! The dead-letter topic, written exactly once per rejected record under crashes, pauses and
//! zombies at any point.
//!
//! Rejected records are produced with their original key and bytes plus headers naming the reason
//! and the source position (`faultline.source.topic`, `.partition`, `.offset`: how the harness
//! matches a dead letter to its record). Two systems are involved, so one of them must say how far
//! the other got. Here Kafka records its own progress:
//!
//! 1. The dead letters of a batch go out in one Kafka transaction (a transactional producer whose
//!    `transactional.id` is `<group>.dlq.<worker id>`), which also commits, through
//!    `send_offsets_to_transaction`, each of the batch's input partitions' end offset to the
//!    consumer group. The group's committed offset of a partition therefore means "every dead
//!    letter below this input offset is in the topic", and it becomes visible atomically with
//!    those dead letters. Nothing else commits offsets to the group (except the planted
//!    `ignore-revocation`, whose auto-commit breaks this on purpose).
//! 2. That transaction commits before the batch's Postgres transaction, and a failed one stops
//!    the batch (re-read from the stored offsets). So a quarantine row in Postgres implies its dead
//!    letter is in the topic.
//! 3. A record is dead-lettered only if it is at or past the partition's committed group offset
//!    (read, stable, each time the partition is re-synced with Postgres) and has no quarantine row.
//!
//! Crash after the Kafka commit and before the Postgres one: the batch is processed again, but its
//! records are below the committed offset and are not re-sent. Crash before the Kafka commit: the
//! open transaction is aborted (by the broker's transaction timeout) and read_committed readers
//! never see it; the stable-offset read of the next owner waits for that. A zombie (paused past its
//! session, partitions moved) cannot commit: the group coordinator refuses its offsets for a stale
//! generation (under the KIP-848 `consumer` protocol, a stale member epoch: librdkafka's group
//! metadata carries the epoch as the generation, and a fenced member's is gone), which aborts its
//! transaction, and librdkafka cannot join a newer generation (rejoin with a new epoch) before the
//! worker has handled the revocation in `poll`, which it does only between batches. A replay
//! from offset 0 (another group, no committed offsets) finds the quarantine rows and sends nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use anyhow::{anyhow, Context, Result};
use rdkafka::config::{ClientConfig, RDKafkaLogLevel};
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::error::KafkaError;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{BaseRecord, Producer, ThreadedProducer};
use rdkafka::{Offset, TopicPartitionList};

use crate::record::{Outcome, ProcessedRecord};
use crate::sink::Range;

/// How long the transactional calls and the stable offset read may take.
const TXN_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the worker keeps retrying to initialize its transactions while Kafka is unreachable.
const INIT_DEADLINE: Duration = Duration::from_secs(300);
/// The broker aborts a transaction its producer left open (killed mid-batch) after this long.
const TRANSACTION_TIMEOUT_MS: &str = "10000";

/// Transactional producer for the dead-letter topic, with the input offsets below which every
/// dead letter is already there.
pub struct DeadLetters {
    producer: ThreadedProducer<rdkafka::producer::DefaultProducerContext>,
    config: ClientConfig,
    topic: String,
    /// Input partition → offset below which its dead letters are all in the topic (the group's
    /// committed offset, read on re-sync and advanced by this worker's own transactions).
    sent_below: BTreeMap<i32, i64>,
}

impl DeadLetters {
    /// Creates the producer and initializes its transactions (which also aborts a transaction a
    /// previous instance with the same id left open).
    pub fn new(bootstrap: &str, topic: &str, transactional_id: &str) -> Result<Self> {
        let mut config = ClientConfig::new();
        config
            .set("bootstrap.servers", bootstrap)
            .set("transactional.id", transactional_id)
            .set("transaction.timeout.ms", TRANSACTION_TIMEOUT_MS)
            .set("enable.idempotence", "true")
            .set("acks", "all")
            .set("linger.ms", "5")
            .set_log_level(RDKafkaLogLevel::Warning);
        let producer = start(&config)?;
        Ok(Self {
            producer,
            config,
            topic: topic.to_string(),
            sent_below: BTreeMap::new(),
        })
    }

    /// Reads the group's committed offsets of `partitions` (stable: waits out transactions that
    /// hold pending offsets). Called whenever the partitions are re-synced with Postgres.
    pub fn recover<C: ConsumerContext>(
        &mut self,
        consumer: &BaseConsumer<C>,
        input_topic: &str,
        partitions: &BTreeSet<i32>,
    ) -> Result<()> {
        if partitions.is_empty() {
            return Ok(());
        }
        let mut tpl = TopicPartitionList::new();
        for p in partitions {
            tpl.add_partition(input_topic, *p);
        }
        let committed = consumer
            .committed_offsets(tpl, TXN_TIMEOUT)
            .context("read the dead-letter progress (committed offsets)")?;
        for e in committed.elements_for_topic(input_topic) {
            let below = match e.offset() {
                Offset::Offset(o) => o,
                _ => 0,
            };
            self.sent_below.insert(e.partition(), below);
        }
        Ok(())
    }

    /// Produces the dead letters of a batch that are not in the topic yet, in one transaction that
    /// also commits the batch's end offsets to the group (see the module docs). `quarantined` are
    /// the positions Postgres already holds (committed earlier, so already dead-lettered).
    pub fn send_all<C: ConsumerContext>(
        &mut self,
        consumer: &BaseConsumer<C>,
        source_topic: &str,
        ranges: &[Range],
        rejected: &[&ProcessedRecord],
        quarantined: &BTreeSet<(i32, i64)>,
    ) -> Result<()> {
        let due = due(rejected, &self.sent_below, quarantined);
        if due.is_empty() {
            return Ok(());
        }
        let group = consumer
            .group_metadata()
            .ok_or_else(|| anyhow!("no consumer group metadata for the dead-letter transaction"))?;
        let mut offsets = TopicPartitionList::new();
        for r in ranges {
            offsets.add_partition_offset(source_topic, r.partition, Offset::Offset(r.to))?;
        }
        let result = self
            .producer
            .begin_transaction()
            .map_err(anyhow::Error::from)
            .and_then(|()| self.produce(source_topic, &due))
            .and_then(|()| {
                self.producer
                    .send_offsets_to_transaction(&offsets, &group, TXN_TIMEOUT)
                    .context("commit the dead-letter progress in the transaction")
            })
            .and_then(|()| {
                self.producer
                    .commit_transaction(TXN_TIMEOUT)
                    .context("commit the dead-letter transaction")
            });
        match result {
            Ok(()) => {
                for r in ranges {
                    let e = self.sent_below.entry(r.partition).or_insert(0);
                    *e = (*e).max(r.to);
                }
                Ok(())
            }
            Err(e) => {
                self.recover_producer(&e);
                Err(e)
            }
        }
    }

    fn produce(&self, source_topic: &str, records: &[&ProcessedRecord]) -> Result<()> {
        for r in records {
            let Outcome::Rejected(rej) = &r.outcome else {
                continue;
            };
            let (p, o) = (r.partition.to_string(), r.offset.to_string());
            let headers = OwnedHeaders::new()
                .insert(Header {
                    key: "faultline.reason",
                    value: Some(rej.reason.as_str()),
                })
                .insert(Header {
                    key: "faultline.detail",
                    value: Some(rej.detail.as_str()),
                })
                .insert(Header {
                    key: "faultline.source.topic",
                    value: Some(source_topic),
                })
                .insert(Header {
                    key: "faultline.source.partition",
                    value: Some(p.as_str()),
                })
                .insert(Header {
                    key: "faultline.source.offset",
                    value: Some(o.as_str()),
                });
            let mut rec: BaseRecord<'_, [u8], [u8]> = BaseRecord::to(&self.topic)
                .payload(&r.payload[..])
                .headers(headers);
            if let Some(k) = &r.key {
                rec = rec.key(&k[..]);
            }
            let mut pending = rec;
            loop {
                match self.producer.send(pending) {
                    Ok(()) => break,
                    Err((e, back))
                        if e.rdkafka_error_code()
                            == Some(rdkafka::types::RDKafkaErrorCode::QueueFull) =>
                    {
                        std::thread::sleep(Duration::from_millis(5));
                        pending = back;
                    }
                    Err((e, _)) => return Err(anyhow!("dead-letter produce: {e}")),
                }
            }
        }
        Ok(())
    }

    /// After a failed transaction: abort it when it can be aborted; when the producer cannot go
    /// on (fenced, fatal), replace it. The caller re-reads the batch either way.
    fn recover_producer(&mut self, e: &anyhow::Error) {
        let fatal = e.chain().any(|c| {
            matches!(c.downcast_ref::<KafkaError>(), Some(KafkaError::Transaction(t)) if t.is_fatal())
        });
        if !fatal {
            match self.producer.abort_transaction(TXN_TIMEOUT) {
                Ok(()) => return,
                Err(abort) => tracing::warn!("abort the dead-letter transaction: {abort}"),
            }
        }
        match start(&self.config) {
            Ok(p) => self.producer = p,
            Err(e) => tracing::warn!("restart the dead-letter producer: {e:#}"),
        }
    }
}

/// The rejected records whose dead letters are not in the topic yet: at or past their partition's
/// dead-letter progress, and not quarantined by a committed batch.
fn due<'a>(
    rejected: &[&'a ProcessedRecord],
    sent_below: &BTreeMap<i32, i64>,
    quarantined: &BTreeSet<(i32, i64)>,
) -> Vec<&'a ProcessedRecord> {
    rejected
        .iter()
        .copied()
        .filter(|r| r.offset >= sent_below.get(&r.partition).copied().unwrap_or(0))
        .filter(|r| !quarantined.contains(&(r.partition, r.offset)))
        .collect()
}

fn start(
    config: &ClientConfig,
) -> Result<ThreadedProducer<rdkafka::producer::DefaultProducerContext>> {
    let producer: ThreadedProducer<_> =
        config.create().context("create the dead-letter producer")?;
    // A broker that is down (restarting after a crash) makes the call time out with an error that
    // says to retry; a worker that gave up then would turn a broker restart into a dead pipeline.
    let deadline = std::time::Instant::now() + INIT_DEADLINE;
    loop {
        match producer.init_transactions(TXN_TIMEOUT) {
            Ok(()) => return Ok(producer),
            Err(KafkaError::Transaction(e))
                if e.is_retriable() && std::time::Instant::now() < deadline =>
            {
                tracing::warn!("initialize the dead-letter producer's transactions: {e}; retrying");
            }
            Err(e) => {
                return Err(e).context("initialize the dead-letter producer's transactions");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rejected(partition: i32, offset: i64) -> ProcessedRecord {
        ProcessedRecord {
            partition,
            offset,
            key: None,
            payload: Vec::new(),
            outcome: Outcome::Pending,
        }
    }

    #[test]
    fn records_below_the_progress_or_quarantined_are_not_sent_again() {
        let records = [
            rejected(0, 4),
            rejected(0, 9),
            rejected(0, 10),
            rejected(1, 3),
            rejected(2, 0),
        ];
        let refs: Vec<&ProcessedRecord> = records.iter().collect();
        // Partition 0's transaction up to 10 committed (Postgres did not); 1@3 is quarantined.
        let sent_below = BTreeMap::from([(0, 10), (1, 0)]);
        let quarantined = BTreeSet::from([(1, 3)]);
        let left: Vec<(i32, i64)> = due(&refs, &sent_below, &quarantined)
            .iter()
            .map(|r| (r.partition, r.offset))
            .collect();
        assert_eq!(left, vec![(0, 10), (2, 0)]);
    }
}
