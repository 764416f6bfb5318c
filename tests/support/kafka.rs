//! Produce and consume helpers that return what they saw, for assertions on data.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use faultline_infra::ready::kafka_client_config;
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord};
use rdkafka::{Message, Offset, TopicPartitionList};

/// Produces `n` records `prefix-i` keyed by `i % 7`; returns the delivered (partition, offset) of each.
pub async fn produce(
    bootstrap: &str,
    topic: &str,
    prefix: &str,
    n: usize,
    acks: &str,
) -> Result<Vec<(i32, i64)>> {
    let producer: FutureProducer = kafka_client_config(bootstrap)
        .set("acks", acks)
        .set(
            "enable.idempotence",
            if acks == "all" { "true" } else { "false" },
        )
        .set("message.timeout.ms", "60000")
        .set("linger.ms", "5")
        .create()?;
    let keys: Vec<String> = (0..n).map(|i| (i % 7).to_string()).collect();
    let payloads: Vec<String> = (0..n).map(|i| format!("{prefix}-{i}")).collect();
    let mut futs = Vec::with_capacity(n);
    for (key, payload) in keys.iter().zip(&payloads) {
        futs.push(
            producer
                .send_result(FutureRecord::to(topic).key(key).payload(payload))
                .map_err(|(e, _)| e)?,
        );
    }
    delivered(futs).await
}

/// Awaits each send in order; returns the delivered (partition, offset) of each.
pub async fn delivered(futs: Vec<DeliveryFuture>) -> Result<Vec<(i32, i64)>> {
    let mut out = Vec::with_capacity(futs.len());
    for f in futs {
        let d = f
            .await
            .context("producer dropped")?
            .map_err(|(e, _)| e)
            .context("delivery")?;
        out.push((d.partition, d.offset));
    }
    Ok(out)
}

/// Consumes in `group` until `n` records arrived (fails after `timeout`), commits synchronously, and
/// returns the payloads in arrival order.
pub async fn consume(
    bootstrap: &str,
    topic: &str,
    group: &str,
    n: usize,
    timeout: Duration,
) -> Result<Vec<String>> {
    let consumer: StreamConsumer = kafka_client_config(bootstrap)
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .create()?;
    consumer.subscribe(&[topic])?;
    let mut out = Vec::new();
    let deadline = tokio::time::Instant::now() + timeout;
    while out.len() < n {
        let msg = match tokio::time::timeout_at(deadline, consumer.recv()).await {
            Ok(m) => m?,
            Err(_) => bail!(
                "only {} of {n} records arrived on {topic} within {timeout:?}",
                out.len()
            ),
        };
        out.push(String::from_utf8_lossy(msg.payload().unwrap_or_default()).into_owned());
        consumer.commit_message(&msg, CommitMode::Sync)?;
    }
    // Nothing more than n must be waiting.
    if let Ok(Ok(extra)) = tokio::time::timeout(Duration::from_millis(1500), consumer.recv()).await
    {
        bail!(
            "an unexpected extra record arrived: {:?}",
            extra.payload().map(String::from_utf8_lossy)
        );
    }
    Ok(out)
}

/// The group's committed offsets per partition.
pub fn committed(
    bootstrap: &str,
    topic: &str,
    group: &str,
    partitions: i32,
) -> Result<BTreeMap<i32, i64>> {
    let consumer: StreamConsumer = kafka_client_config(bootstrap)
        .set("group.id", group)
        .create()?;
    let mut tpl = TopicPartitionList::new();
    for p in 0..partitions {
        tpl.add_partition(topic, p);
    }
    let got = consumer.committed_offsets(tpl, Duration::from_secs(20))?;
    Ok(got
        .elements()
        .iter()
        .map(|e| {
            (
                e.partition(),
                if let Offset::Offset(o) = e.offset() {
                    o
                } else {
                    -1
                },
            )
        })
        .collect())
}

/// The high watermark (next offset) per partition.
pub fn high_watermarks(
    bootstrap: &str,
    topic: &str,
    partitions: i32,
) -> Result<BTreeMap<i32, i64>> {
    let consumer: StreamConsumer = kafka_client_config(bootstrap).create()?;
    (0..partitions)
        .map(|p| {
            Ok((
                p,
                faultline_infra::kafka_query::watermarks(
                    &consumer,
                    topic,
                    p,
                    Duration::from_secs(60),
                )?
                .1,
            ))
        })
        .collect()
}
