//! Sends the workload to the input topic in order, at the scenario's rate, and records where each
//! record landed and when it was sent: the oracle needs the first, fault attribution the second.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use faultline_infra::ready::kafka_client_config;
use faultline_oracle::Placement;
use faultline_workload::Workload;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord};
use tokio::time::Instant;

use crate::error::{Result, RunnerError};

/// What the producer did.
#[derive(Debug, Clone, Default)]
pub struct Produced {
    /// seq → (partition, offset).
    pub placement: Placement,
    /// seq → ms after the workload started when the record was handed to the producer.
    pub sent_at_ms: Vec<u64>,
}

/// Produces every record of `w` (explicit partitions where the workload says so) at `rate` records
/// per second (0 = unthrottled), bumping `counter` as records are handed over. Idempotent producer,
/// acks=all: broker faults delay delivery but never lose or duplicate a record.
pub async fn produce(
    bootstrap: &str,
    topic: &str,
    w: &Workload,
    rate: u64,
    start: Instant,
    counter: Arc<AtomicU64>,
) -> Result<Produced> {
    let producer: FutureProducer = kafka_client_config(bootstrap)
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("linger.ms", "10")
        .set("message.timeout.ms", "300000")
        .set("queue.buffering.max.messages", "200000")
        .create()?;
    let mut sent_at_ms = Vec::with_capacity(w.records.len());
    let mut pending: Vec<(u64, DeliveryFuture)> = Vec::with_capacity(w.records.len());
    for (i, r) in w.records.iter().enumerate() {
        if let Some(us) = (i as u64 * 1_000_000).checked_div(rate) {
            let due = start + Duration::from_micros(us);
            tokio::time::sleep_until(due).await;
        }
        let mut rec = FutureRecord::<[u8], [u8]>::to(topic).payload(&r.value[..]);
        if let Some(k) = &r.key {
            rec = rec.key(&k[..]);
        }
        if !r.headers.is_empty() {
            let headers = r.headers.iter().fold(OwnedHeaders::new(), |h, (k, v)| {
                h.insert(Header {
                    key: k,
                    value: Some(&v[..]),
                })
            });
            rec = rec.headers(headers);
        }
        if let Some(p) = r.partition {
            rec = rec.partition(p);
        }
        sent_at_ms.push(start.elapsed().as_millis() as u64);
        pending.push((r.seq, enqueue(&producer, rec).await?));
        counter.fetch_add(1, Ordering::Relaxed);
    }
    let mut placement = Placement::new();
    for (seq, f) in pending {
        let d = tokio::time::timeout(Duration::from_secs(330), f)
            .await
            .map_err(|_| {
                RunnerError::Usage(format!(
                    "record {seq} was never acknowledged by Kafka within 330 s"
                ))
            })?
            .map_err(|_| RunnerError::Usage("the Kafka producer was dropped".into()))?
            .map_err(|(e, _)| e)?;
        placement.insert(seq, (d.partition, d.offset));
    }
    Ok(Produced {
        placement,
        sent_at_ms,
    })
}

/// Enqueues a record, waiting while the producer's queue is full.
async fn enqueue<'a>(
    producer: &FutureProducer,
    mut rec: FutureRecord<'a, [u8], [u8]>,
) -> Result<DeliveryFuture> {
    loop {
        match producer.send_result(rec) {
            Ok(f) => return Ok(f),
            Err((e, back))
                if e.rdkafka_error_code() == Some(rdkafka::types::RDKafkaErrorCode::QueueFull) =>
            {
                rec = back;
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            Err((e, _)) => return Err(e.into()),
        }
    }
}
