//! `faultline infra check`: start a stack, prove Kafka and Postgres do real work, kill and restart a
//! broker and prove the same address works again (with the group's committed offset intact), tear
//! down. Each step is timed.

use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Message, Offset, TopicPartitionList};

use crate::error::{InfraError, Result};
use crate::ready::kafka_client_config;
use crate::spec::{BackendKind, StackSpec};
use crate::stack::Stack;

/// One timed step.
#[derive(Debug, Clone)]
pub struct Step {
    pub name: String,
    pub elapsed: Duration,
    /// `Ok(detail)` or `Err(cause)`.
    pub outcome: std::result::Result<String, String>,
}

/// All steps of a check, in order.
#[derive(Debug, Clone, Default)]
pub struct CheckReport {
    pub backend: String,
    pub steps: Vec<Step>,
}

impl CheckReport {
    pub fn passed(&self) -> bool {
        !self.steps.is_empty() && self.steps.iter().all(|s| s.outcome.is_ok())
    }
}

/// Runs the whole check; `on_step` sees each step as it finishes (for progress output).
pub async fn run_check(
    kind: BackendKind,
    spec: StackSpec,
    mut on_step: impl FnMut(&Step),
) -> CheckReport {
    let mut report = CheckReport {
        backend: kind.to_string(),
        steps: Vec::new(),
    };
    let mut record = |report: &mut CheckReport, name: &str, t: Instant, r: Result<String>| {
        let step = Step {
            name: name.into(),
            elapsed: t.elapsed(),
            outcome: r.map_err(|e| e.to_string()),
        };
        on_step(&step);
        let ok = step.outcome.is_ok();
        report.steps.push(step);
        ok
    };

    let t = Instant::now();
    let stack = match crate::backend::backend_for(kind).await {
        Ok(b) => {
            report.backend = b.name().to_string();
            b.start(&spec).await
        }
        Err(e) => Err(e),
    };
    let stack = match stack {
        Ok(s) => {
            let detail = format!("kafka {} / {}", s.bootstrap_servers(), s.postgres());
            record(&mut report, "start stack", t, Ok(detail));
            s
        }
        Err(e) => {
            record(&mut report, "start stack", t, Err(e));
            return report;
        }
    };

    let topic = format!("faultline-check-{}", spec.run_id);
    let group = format!("faultline-check-{}", spec.run_id);
    let rf = stack.broker_ids().len() as i32;
    let bootstrap = stack.bootstrap_servers();

    let steps_ok = async {
        let t = Instant::now();
        let r = async {
            create_topic(&bootstrap, &topic, 1, rf).await?;
            kafka_round_trip(&bootstrap, &topic, &group, "before-restart", 0).await
        }
        .await;
        if !record(
            &mut report,
            "kafka produce, consume in a group, commit",
            t,
            r,
        ) {
            return false;
        }
        let t = Instant::now();
        let r = postgres_round_trip(stack.as_ref(), &spec.run_id).await;
        if !record(&mut report, "postgres write and read", t, r) {
            return false;
        }
        let t = Instant::now();
        let r = stack.kill_broker(1).await.map(|_| "SIGKILL".to_string());
        if !record(&mut report, "kill broker 1", t, r) {
            return false;
        }
        let t = Instant::now();
        let r = stack
            .start_broker(1)
            .await
            .map(|_| format!("back on {}", stack.broker_listener(1).unwrap_or_default()));
        if !record(&mut report, "restart broker 1", t, r) {
            return false;
        }
        let t = Instant::now();
        // Same bootstrap address, same group: the committed offset survived, so only the new record arrives.
        let r = kafka_round_trip(&bootstrap, &topic, &group, "after-restart", 1).await;
        record(
            &mut report,
            "kafka round trip on the same address after restart",
            t,
            r,
        )
    }
    .await;
    let _ = steps_ok;

    let t = Instant::now();
    let r = stack
        .teardown()
        .await
        .map(|_| "nothing left running".to_string());
    record(&mut report, "tear down", t, r);
    report
}

/// Creates a topic (idempotent when it exists).
pub async fn create_topic(bootstrap: &str, topic: &str, partitions: i32, rf: i32) -> Result<()> {
    let admin: AdminClient<DefaultClientContext> = kafka_client_config(bootstrap).create()?;
    let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
    let results = admin
        .create_topics(
            &[NewTopic::new(
                topic,
                partitions,
                TopicReplication::Fixed(rf),
            )],
            &opts,
        )
        .await?;
    for r in results {
        match r {
            Ok(_) | Err((_, rdkafka::types::RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((t, code)) => return Err(InfraError::Check(format!("create topic {t}: {code}"))),
        }
    }
    Ok(())
}

/// Produces one record with `payload`, consumes it in `group`, checks it is the record at
/// `expected_offset` with that payload, commits, and checks the committed offset is the next one.
pub async fn kafka_round_trip(
    bootstrap: &str,
    topic: &str,
    group: &str,
    payload: &str,
    expected_offset: i64,
) -> Result<String> {
    let producer: FutureProducer = kafka_client_config(bootstrap)
        .set("message.timeout.ms", "60000")
        .set("enable.idempotence", "true")
        .create()?;
    let delivery = producer
        .send(
            FutureRecord::to(topic).key("doctor").payload(payload),
            Duration::from_secs(60),
        )
        .await
        .map_err(|(e, _)| e)?;
    let (partition, offset) = (delivery.partition, delivery.offset);
    let produced = (partition, offset);

    let consumer: StreamConsumer = kafka_client_config(bootstrap)
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .set("session.timeout.ms", "10000")
        .create()?;
    consumer.subscribe(&[topic])?;
    let msg = tokio::time::timeout(Duration::from_secs(60), consumer.recv())
        .await
        .map_err(|_| InfraError::Check(format!("no record arrived on {topic} within 60 s")))??;
    let got = msg
        .payload()
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .unwrap_or_default();
    if got != payload
        || msg.offset() != expected_offset
        || (msg.partition(), msg.offset()) != produced
    {
        return Err(InfraError::Check(format!(
            "consumed {got:?} at {}:{} but produced {payload:?} at {}:{} (expected offset {expected_offset})",
            msg.partition(),
            msg.offset(),
            produced.0,
            produced.1
        )));
    }
    consumer.commit_message(&msg, CommitMode::Sync)?;
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition(topic, partition);
    let committed = consumer.committed_offsets(tpl, Duration::from_secs(10))?;
    let next = committed
        .find_partition(topic, partition)
        .map(|e| e.offset());
    if next != Some(Offset::Offset(offset + 1)) {
        return Err(InfraError::Check(format!(
            "committed offset is {next:?}, expected {}",
            offset + 1
        )));
    }
    Ok(format!(
        "{topic}[{partition}]@{offset} round-tripped, group {group} committed {}",
        offset + 1
    ))
}

/// Creates a table, writes rows in a transaction, reads them back, drops it.
pub async fn postgres_round_trip(stack: &dyn Stack, run_id: &str) -> Result<String> {
    let client = stack.postgres().connect().await?;
    let table = format!("faultline_check_{run_id}");
    client
        .batch_execute(&format!(
            "CREATE TABLE {table} (id int PRIMARY KEY, amount_cents bigint NOT NULL)"
        ))
        .await?;
    client
        .batch_execute(&format!(
            "BEGIN; INSERT INTO {table} SELECT g, g * 100 FROM generate_series(1, 1000) g; COMMIT;"
        ))
        .await?;
    let row = client
        .query_one(
            &format!("SELECT count(*), sum(amount_cents)::bigint FROM {table}"),
            &[],
        )
        .await?;
    let (count, sum): (i64, i64) = (row.get(0), row.get(1));
    client.batch_execute(&format!("DROP TABLE {table}")).await?;
    if count != 1000 || sum != 50_050_000 {
        return Err(InfraError::Check(format!(
            "read back {count} rows summing to {sum}, expected 1000 and 50050000"
        )));
    }
    Ok(format!("1000 rows, sum {sum}"))
}
