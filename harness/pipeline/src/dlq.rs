//! The dead-letter topic. Rejected records are produced with their original key and bytes plus
//! headers naming the reason and the source position, and the worker waits until every one is
//! acknowledged before it commits the batch. A crash between the two may repeat a dead letter
//! (at-least-once); the quarantine table, written in the batch transaction, holds each exactly once.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use rdkafka::config::{ClientConfig, RDKafkaLogLevel};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};
use rdkafka::ClientContext;

use crate::record::{Outcome, ProcessedRecord};

/// Counts failed deliveries.
#[derive(Default, Clone)]
pub struct DeliveryCounter(Arc<AtomicU64>);

impl ClientContext for DeliveryCounter {}
impl ProducerContext for DeliveryCounter {
    type DeliveryOpaque = ();
    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        if result.is_err() {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// Producer for the dead-letter topic.
pub struct DeadLetters {
    producer: ThreadedProducer<DeliveryCounter>,
    topic: String,
}

impl DeadLetters {
    pub fn new(bootstrap: &str, topic: &str) -> Result<Self> {
        let producer = ClientConfig::new()
            .set("bootstrap.servers", bootstrap)
            .set("enable.idempotence", "true")
            .set("acks", "all")
            .set("message.timeout.ms", "30000")
            .set("linger.ms", "5")
            .set_log_level(RDKafkaLogLevel::Warning)
            .create_with_context(DeliveryCounter::default())
            .context("create the dead-letter producer")?;
        Ok(Self {
            producer,
            topic: topic.to_string(),
        })
    }

    /// Produces every rejected record and waits for all acknowledgements.
    pub fn send_all(&mut self, source_topic: &str, records: &[&ProcessedRecord]) -> Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        let failed_before = self.producer.context().0.load(Ordering::SeqCst);
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
                    Err((e, _)) => bail!("dead-letter produce: {e}"),
                }
            }
        }
        self.producer
            .flush(Duration::from_secs(30))
            .context("dead-letter flush")?;
        let failed = self.producer.context().0.load(Ordering::SeqCst) - failed_before;
        if failed > 0 {
            bail!("{failed} dead letters were not acknowledged");
        }
        Ok(())
    }
}
