//! A three-broker KRaft cluster: RF=3, min ISR 2, and it keeps accepting acks=all writes with one
//! broker down, then heals.

use std::time::Duration;

use anyhow::{ensure, Result};
use faultline_infra::doctor::create_topic;
use faultline_infra::ready::kafka_client_config;
use faultline_infra::{backend::start, BackendKind, StackSpec};
use faultline_tests::backend_available;
use faultline_tests::kafka::{consume, high_watermarks, produce};
use rdkafka::consumer::{BaseConsumer, Consumer};

fn replica_counts(bootstrap: &str, topic: &str) -> Result<(usize, Vec<(usize, usize)>)> {
    let c: BaseConsumer = kafka_client_config(bootstrap).create()?;
    let md = c.fetch_metadata(Some(topic), Duration::from_secs(10))?;
    let t = &md.topics()[0];
    Ok((
        md.brokers().len(),
        t.partitions()
            .iter()
            .map(|p| (p.replicas().len(), p.isr().len()))
            .collect(),
    ))
}

async fn cluster_survives_losing_a_broker(kind: BackendKind) -> Result<()> {
    if !backend_available(kind).await {
        return Ok(());
    }
    let spec = StackSpec::cluster();
    let stack = start(kind, &spec).await?;
    let bootstrap = stack.bootstrap_servers();
    ensure!(stack.broker_ids() == vec![1, 2, 3]);
    let topic = format!("cluster-{}", spec.run_id);
    create_topic(&bootstrap, &topic, 3, 3).await?;
    let (brokers, parts) = replica_counts(&bootstrap, &topic)?;
    ensure!(
        brokers == 3 && parts.iter().all(|&(r, _)| r == 3),
        "replication: {brokers} brokers, {parts:?}"
    );

    produce(&bootstrap, &topic, "before", 100, "all").await?;
    stack.kill_broker(2).await?;
    // Two of three replicas remain: min.insync.replicas=2 still admits acks=all writes.
    produce(&bootstrap, &topic, "during", 100, "all").await?;
    stack.start_broker(2).await?;
    let hw = high_watermarks(&bootstrap, &topic, 3)?;
    ensure!(
        hw.values().sum::<i64>() == 200,
        "high watermarks after healing: {hw:?}"
    );
    let got = consume(
        &bootstrap,
        &topic,
        &format!("cluster-g-{}", spec.run_id),
        200,
        Duration::from_secs(90),
    )
    .await?;
    ensure!(got.iter().filter(|p| p.starts_with("during-")).count() == 100);
    stack.teardown().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn processes_cluster_survives_losing_a_broker() -> Result<()> {
    cluster_survives_losing_a_broker(BackendKind::Processes).await
}

#[tokio::test(flavor = "multi_thread")]
async fn containers_cluster_survives_losing_a_broker() -> Result<()> {
    cluster_survives_losing_a_broker(BackendKind::Containers).await
}
