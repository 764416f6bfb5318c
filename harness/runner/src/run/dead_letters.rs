//! Reading the dead-letter topic for the `dead_letters` check: every record of every partition,
//! read_committed, so a dead letter of an aborted (or zombie's) transaction never counts.

use std::time::{Duration, Instant};

use faultline_infra::ready::kafka_client_config;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::Headers;
use rdkafka::{Message, Offset, TopicPartitionList};

use crate::error::{Result, RunnerError};

/// How long the read may wait for open transactions on the topic to end (a worker killed inside
/// one leaves it to the broker's transaction timeout).
pub const READ_BUDGET: Duration = Duration::from_secs(90);

/// One record of the dead-letter topic as read: position, key, value and headers in order.
#[derive(Debug, Clone)]
pub struct RawLetter {
    /// (partition, offset) in the dead-letter topic.
    pub at: (i32, i64),
    pub key: Option<Vec<u8>>,
    pub value: Vec<u8>,
    pub headers: Vec<(String, Option<Vec<u8>>)>,
}

impl RawLetter {
    /// As the ledger oracle reads it: the source position from faultline's own headers.
    pub fn oracle(&self) -> faultline_oracle::DeadLetter {
        faultline_oracle::DeadLetter::from_parts(
            self.at,
            self.key.as_deref(),
            &self.value,
            self.headers.iter().map(|(n, v)| (n.as_str(), v.as_deref())),
        )
    }

    /// The first header named `name`, as UTF-8 text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| v.as_deref())
            .and_then(|b| std::str::from_utf8(b).ok())
    }
}

/// Every committed record of `topic`, in partition and offset order. The read ends once each
/// partition's read_committed position reaches its high watermark (open transactions ended); a
/// partition still short of it after `budget` stops the run, naming it.
pub async fn read(bootstrap: &str, topic: &str, budget: Duration) -> Result<Vec<RawLetter>> {
    let (bootstrap, topic) = (bootstrap.to_string(), topic.to_string());
    tokio::task::spawn_blocking(move || read_blocking(&bootstrap, &topic, budget))
        .await
        .expect("dead-letter read task panicked")
}

fn read_blocking(bootstrap: &str, topic: &str, budget: Duration) -> Result<Vec<RawLetter>> {
    let deadline = Instant::now() + budget;
    let consumer: BaseConsumer = kafka_client_config(bootstrap)
        .set("group.id", format!("faultline-dlq-reader-{topic}"))
        .set("enable.auto.commit", "false")
        .set("isolation.level", "read_committed")
        .create()?;
    let md =
        faultline_infra::kafka_query::metadata(&consumer, Some(topic), Duration::from_secs(60))?;
    let partitions: Vec<i32> = md
        .topics()
        .first()
        .map(|t| t.partitions().iter().map(|p| p.id()).collect())
        .unwrap_or_default();
    if partitions.is_empty() {
        return Err(RunnerError::Pipeline {
            message: format!("dead-letter topic {topic} has no partitions (does it exist?)"),
            log_tail: String::new(),
        });
    }
    let mut tpl = TopicPartitionList::new();
    for p in &partitions {
        tpl.add_partition_offset(topic, *p, Offset::Beginning)?;
    }
    consumer.assign(&tpl)?;
    let mut out = Vec::new();
    let mut pending: std::collections::BTreeSet<i32> = partitions.iter().copied().collect();
    let mut highs: std::collections::BTreeMap<i32, i64> = std::collections::BTreeMap::new();
    let mut highs_at = Instant::now() - Duration::from_secs(10);
    while !pending.is_empty() {
        if Instant::now() > deadline {
            let short: Vec<String> = pending.iter().map(|p| format!("{topic}-{p}")).collect();
            return Err(RunnerError::Pipeline {
                message: format!(
                    "reading the dead-letter topic read_committed: {} did not reach the high watermark within {} s (a transaction is still open)",
                    short.join(", "),
                    budget.as_secs()
                ),
                log_tail: String::new(),
            });
        }
        match consumer.poll(Duration::from_millis(200)) {
            None | Some(Err(KafkaError::PartitionEOF(_))) => {}
            Some(Err(e)) => return Err(e.into()),
            Some(Ok(m)) => {
                let headers = m
                    .headers()
                    .map(|h| {
                        h.iter()
                            .map(|h| (h.key.to_string(), h.value.map(<[u8]>::to_vec)))
                            .collect()
                    })
                    .unwrap_or_default();
                out.push(RawLetter {
                    at: (m.partition(), m.offset()),
                    key: m.key().map(<[u8]>::to_vec),
                    value: m.payload().unwrap_or_default().to_vec(),
                    headers,
                });
                continue;
            }
        }
        // Nothing new: a partition is done once its position (which moves past transaction
        // markers and aborted records) reaches the high watermark. An abort by the broker's
        // transaction timeout adds a marker, so the high watermarks are refreshed every second.
        if highs_at.elapsed() > Duration::from_secs(1) {
            for p in &pending {
                highs.insert(
                    *p,
                    faultline_infra::kafka_query::watermarks(
                        &consumer,
                        topic,
                        *p,
                        Duration::from_secs(30),
                    )?
                    .1,
                );
            }
            highs_at = Instant::now();
        }
        let positions = consumer.position()?;
        pending.retain(|p| {
            let at = positions
                .find_partition(topic, *p)
                .and_then(|e| e.offset().to_raw())
                .filter(|o| *o >= 0)
                .unwrap_or(0);
            at < highs.get(p).copied().unwrap_or(0)
        });
    }
    out.sort_by_key(|l| l.at);
    Ok(out)
}
