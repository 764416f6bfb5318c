//! The runner's progress sources against real services: `KafkaGroup` reads a consumer group's
//! committed offsets from the brokers without joining the group, and `Sql` reads positions from a
//! pipeline's own table (here one without a `topic` column), telling "not created yet" from a
//! query that can never work.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{ensure, Result};
use faultline_infra::doctor::create_topic;
use faultline_infra::{backend::start, BackendKind, StackSpec};
use faultline_runner::{Observed, Placeholders, ProgressReader, ProgressSource, RunnerError};
use faultline_tests::kafka::{consume, high_watermarks, produce};

#[tokio::test(flavor = "multi_thread")]
async fn progress_sources_read_group_offsets_and_sql_positions() -> Result<()> {
    let spec = StackSpec::single();
    let stack = start(BackendKind::Processes, &spec).await?;
    let result = exercise(stack.as_ref(), &spec.run_id).await;
    stack.teardown().await?;
    result
}

async fn exercise(stack: &dyn faultline_infra::Stack, run_id: &str) -> Result<()> {
    let bootstrap = stack.bootstrap_servers();
    let pg = stack.postgres().clone();
    let topic = format!("progress-{run_id}");
    let group = format!("progress-g-{run_id}");
    let schema = format!("progress_{run_id}");
    let names = Placeholders {
        schema: &schema,
        input_topic: &topic,
        group_id: &group,
    };
    create_topic(&bootstrap, &topic, 3, 1).await?;
    produce(&bootstrap, &topic, "p", 120, "all").await?;
    let hw = high_watermarks(&bootstrap, &topic, 3)?;

    // KafkaGroup: nothing committed before the group consumed, then exactly the high watermarks.
    let source = ProgressSource::KafkaGroup {
        group_id: "{group_id}".into(),
    }
    .substitute(&names);
    let mut reader = ProgressReader::new(&source, &bootstrap, &pg, &topic, 3)?;
    let before = settled(&mut reader).await?;
    ensure!(
        before == Observed::Positions(BTreeMap::new()),
        "a group that never committed read as {before:?}"
    );
    consume(&bootstrap, &topic, &group, 120, Duration::from_secs(60)).await?;
    let after = settled(&mut reader).await?;
    // A partition that received no record has no committed offset: it is absent, not 0.
    let nonempty: BTreeMap<i32, i64> = hw
        .iter()
        .filter(|(_, h)| **h > 0)
        .map(|(p, h)| (*p, *h))
        .collect();
    ensure!(
        !nonempty.is_empty() && after == Observed::Positions(nonempty),
        "group offsets {after:?}, high watermarks {hw:?}"
    );

    // Sql over a table without a `topic` column: not created yet, then its rows as positions.
    let source = ProgressSource::Sql {
        query: "SELECT part, next_off FROM {schema}.consumer_state".into(),
    }
    .substitute(&names);
    let mut reader = ProgressReader::new(&source, &bootstrap, &pg, &topic, 3)?;
    let missing = reader.read().await?;
    ensure!(
        matches!(&missing, Observed::NotCreated { message } if message.contains("does not exist")),
        "before the table exists: {missing:?}"
    );
    let client = pg.connect().await?;
    client
        .batch_execute(&format!(
            "CREATE SCHEMA {schema};
             CREATE TABLE {schema}.consumer_state (part smallint, next_off bigint, note numeric);
             INSERT INTO {schema}.consumer_state VALUES (0, 40, 1), (2, 7, 1), (2, 9, 1), (5, 99, 1);"
        ))
        .await?;
    let got = reader.read().await?;
    // Partition 2 listed twice counts with its lower offset; partition 5 is not the topic's.
    ensure!(
        got == Observed::Positions(BTreeMap::from([(0, 40), (2, 7)])),
        "positions {got:?}"
    );

    // A query Postgres refuses is a runner error naming the query and Postgres' message.
    let bad = ProgressSource::Sql {
        query: "SELECT part, next_offset FROM {schema}.consumer_state".into(),
    }
    .substitute(&names);
    let err = ProgressReader::new(&bad, &bootstrap, &pg, &topic, 3)?
        .read()
        .await
        .unwrap_err();
    let text = err.to_string();
    ensure!(
        matches!(err, RunnerError::ProgressQuery { .. })
            && text.contains(&format!(
                "SELECT part, next_offset FROM {schema}.consumer_state"
            ))
            && text.contains("column \"next_offset\" does not exist"),
        "{text}"
    );
    // So is one whose rows are not (partition, next_offset).
    let shape = ProgressSource::Sql {
        query: format!("SELECT part, note FROM {schema}.consumer_state"),
    };
    let text = ProgressReader::new(&shape, &bootstrap, &pg, &topic, 3)?
        .read()
        .await
        .unwrap_err()
        .to_string();
    ensure!(
        text.contains("column 2 `note` is of type numeric"),
        "{text}"
    );

    // The reference ledger's own query reads its `partition_offsets` rows of this topic only.
    client
        .batch_execute(&format!(
            "CREATE TABLE {schema}.partition_offsets (topic text, partition int, next_offset bigint);
             INSERT INTO {schema}.partition_offsets VALUES ('{topic}', 1, 12), ('other', 1, 500);"
        ))
        .await?;
    let mut ledger = ProgressReader::new(
        &ProgressSource::ledger().substitute(&names),
        &bootstrap,
        &pg,
        &topic,
        3,
    )?;
    let got = ledger.read().await?;
    ensure!(
        got == Observed::Positions(BTreeMap::from([(1, 12)])),
        "ledger positions {got:?}"
    );
    Ok(())
}

/// A read once the brokers can answer it: a fresh cluster has no group coordinator for a while
/// (`Unavailable`, which the runner also just reads again).
async fn settled(reader: &mut ProgressReader) -> Result<Observed> {
    for _ in 0..60 {
        match reader.read().await? {
            Observed::Unavailable { .. } => tokio::time::sleep(Duration::from_millis(500)).await,
            seen => return Ok(seen),
        }
    }
    reader.read().await.map_err(Into::into)
}
