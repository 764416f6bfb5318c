//! A single-broker stack does real work, and every fault operation leaves it working with its data.

use std::time::Duration;

use anyhow::{ensure, Result};
use faultline_infra::doctor::create_topic;
use faultline_infra::{backend::start, BackendKind, StackSpec};
use faultline_tests::backend_available;
use faultline_tests::kafka::{committed, consume, high_watermarks, produce};

async fn broker_faults_keep_records_and_committed_offsets(kind: BackendKind) -> Result<()> {
    if !backend_available(kind).await {
        return Ok(());
    }
    let spec = StackSpec::single();
    let stack = start(kind, &spec).await?;
    let bootstrap = stack.bootstrap_servers();
    let (topic, group) = (
        format!("lifecycle-{}", spec.run_id),
        format!("lifecycle-g-{}", spec.run_id),
    );
    create_topic(&bootstrap, &topic, 3, 1).await?;

    let delivered = produce(&bootstrap, &topic, "a", 300, "all").await?;
    let got = consume(&bootstrap, &topic, &group, 300, Duration::from_secs(60)).await?;
    let mut sorted = got.clone();
    sorted.sort();
    let mut want: Vec<String> = (0..300).map(|i| format!("a-{i}")).collect();
    want.sort();
    ensure!(sorted == want, "consumed set differs from produced set");
    let hw = high_watermarks(&bootstrap, &topic, 3)?;
    ensure!(
        hw.values().sum::<i64>() == 300,
        "high watermarks {hw:?} do not add to 300"
    );
    ensure!(
        delivered.iter().all(|(p, o)| *o < hw[p]),
        "a delivered offset is past its partition's end"
    );

    // SIGKILL and restart: same address, records and committed offsets intact.
    let before = stack.broker_listener(1)?;
    stack.restart_broker(1).await?;
    ensure!(
        stack.broker_listener(1)? == before,
        "broker moved from {before}"
    );
    ensure!(
        high_watermarks(&bootstrap, &topic, 3)? == hw,
        "records lost across the restart"
    );
    // The group coordinator reloads its offsets after the restart; give it a moment. A partition
    // that never held a record has no committed offset (-1): count it as 0.
    let committed_or_zero = || -> Result<std::collections::BTreeMap<i32, i64>> {
        Ok(committed(&bootstrap, &topic, &group, 3)?
            .into_iter()
            .map(|(p, o)| (p, o.max(0)))
            .collect())
    };
    let mut got = committed_or_zero()?;
    for _ in 0..30 {
        if got == hw {
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
        got = committed_or_zero()?;
    }
    ensure!(
        got == hw,
        "committed offsets {got:?} after the restart, expected {hw:?}"
    );
    produce(&bootstrap, &topic, "b", 20, "all").await?;
    let after = consume(&bootstrap, &topic, &group, 20, Duration::from_secs(60)).await?;
    ensure!(
        after.iter().all(|p| p.starts_with("b-")),
        "group re-read old records after restart: {after:?}"
    );

    // Pause: a produce with a short timeout cannot complete; after unpause it does.
    stack.pause_broker(1).await?;
    let paused = tokio::time::timeout(
        Duration::from_secs(4),
        produce(&bootstrap, &topic, "c", 1, "all"),
    )
    .await;
    stack.unpause_broker(1).await?;
    ensure!(
        !matches!(paused, Ok(Ok(_))),
        "a produce to a paused broker succeeded"
    );
    let resumed = produce(&bootstrap, &topic, "d", 5, "all").await?;
    ensure!(resumed.len() == 5);

    // Clean stop and start.
    stack.stop_broker(1).await?;
    stack.start_broker(1).await?;
    ensure!(
        high_watermarks(&bootstrap, &topic, 3)?
            .values()
            .sum::<i64>()
            >= 325,
        "records lost across a clean stop"
    );

    stack.teardown().await?;
    Ok(())
}

async fn postgres_faults_keep_committed_rows(kind: BackendKind) -> Result<()> {
    if !backend_available(kind).await {
        return Ok(());
    }
    let spec = StackSpec::single();
    let stack = start(kind, &spec).await?;
    let pg = stack.postgres().clone();
    let schema = format!("lifecycle_{}", spec.run_id);
    let client = pg.connect().await?;
    client
        .batch_execute(&format!(
            "CREATE SCHEMA {schema}; CREATE TABLE {schema}.ledger (id int PRIMARY KEY, cents bigint);
             INSERT INTO {schema}.ledger SELECT g, g FROM generate_series(1, 500) g;"
        ))
        .await?;

    // An uncommitted transaction is lost on restart, committed rows are kept.
    client
        .batch_execute(&format!(
            "BEGIN; INSERT INTO {schema}.ledger VALUES (9999, 1);"
        ))
        .await?;
    stack.restart_postgres().await?;
    ensure!(
        client.simple_query("SELECT 1").await.is_err(),
        "old connection survived a restart"
    );
    let c2 = pg.connect().await?;
    let row = c2
        .query_one(
            &format!("SELECT count(*), sum(cents)::bigint FROM {schema}.ledger"),
            &[],
        )
        .await?;
    ensure!(
        (row.get::<_, i64>(0), row.get::<_, i64>(1)) == (500, 125_250),
        "rows after restart: {row:?}"
    );

    // Terminating backends drops other sessions, not the data.
    let victim = pg.connect().await?;
    let n = stack.terminate_postgres_backends().await?;
    ensure!(
        n >= 2,
        "expected to terminate at least 2 backends, terminated {n}"
    );
    ensure!(
        victim.simple_query("SELECT 1").await.is_err(),
        "terminated session still answers"
    );

    // SIGKILL: crash recovery keeps committed rows.
    let c3 = pg.connect().await?;
    c3.batch_execute(&format!("INSERT INTO {schema}.ledger VALUES (501, 501)"))
        .await?;
    stack.kill_postgres().await?;
    stack.start_postgres().await?;
    let c4 = pg.connect().await?;
    let row = c4
        .query_one(
            &format!("SELECT count(*), sum(cents)::bigint FROM {schema}.ledger"),
            &[],
        )
        .await?;
    ensure!(
        (row.get::<_, i64>(0), row.get::<_, i64>(1)) == (501, 125_751),
        "rows after SIGKILL: {row:?}"
    );
    stack.teardown().await?;
    Ok(())
}

async fn credentials_stay_out_of_displayed_addresses(kind: BackendKind) -> Result<()> {
    if !backend_available(kind).await {
        return Ok(());
    }
    let stack = start(kind, &StackSpec::single()).await?;
    let pg = stack.postgres().clone();
    let secret = pg
        .url_with_password()
        .split(':')
        .nth(2)
        .unwrap_or_default()
        .split('@')
        .next()
        .unwrap_or_default()
        .to_string();
    ensure!(
        secret.len() >= 16,
        "the generated password is too short: {} chars",
        secret.len()
    );
    ensure!(
        !format!("{pg} {pg:?}").contains(&secret),
        "password visible in Display/Debug"
    );
    for (name, log) in stack.logs().await {
        ensure!(!log.contains(&secret), "password appears in the {name} log");
    }
    // Every listener is on loopback.
    for id in stack.broker_ids() {
        ensure!(
            stack.broker_listener(id)?.starts_with("127.0.0.1:"),
            "broker {id} not on loopback"
        );
    }
    ensure!(pg.host == "127.0.0.1");
    stack.teardown().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn processes_broker_faults_keep_records_and_committed_offsets() -> Result<()> {
    broker_faults_keep_records_and_committed_offsets(BackendKind::Processes).await
}

#[tokio::test(flavor = "multi_thread")]
async fn containers_broker_faults_keep_records_and_committed_offsets() -> Result<()> {
    broker_faults_keep_records_and_committed_offsets(BackendKind::Containers).await
}

#[tokio::test(flavor = "multi_thread")]
async fn processes_postgres_faults_keep_committed_rows() -> Result<()> {
    postgres_faults_keep_committed_rows(BackendKind::Processes).await
}

#[tokio::test(flavor = "multi_thread")]
async fn containers_postgres_faults_keep_committed_rows() -> Result<()> {
    postgres_faults_keep_committed_rows(BackendKind::Containers).await
}

#[tokio::test(flavor = "multi_thread")]
async fn processes_credentials_stay_out_of_addresses_and_logs() -> Result<()> {
    credentials_stay_out_of_displayed_addresses(BackendKind::Processes).await
}

#[tokio::test(flavor = "multi_thread")]
async fn containers_credentials_stay_out_of_addresses_and_logs() -> Result<()> {
    credentials_stay_out_of_displayed_addresses(BackendKind::Containers).await
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_check_passes_and_reports_every_step() -> Result<()> {
    let report =
        faultline_infra::doctor::run_check(BackendKind::Processes, StackSpec::single(), |_| {})
            .await;
    let names: Vec<&str> = report.steps.iter().map(|s| s.name.as_str()).collect();
    ensure!(report.passed(), "doctor failed: {:?}", report.steps);
    ensure!(names.len() == 7, "steps: {names:?}");
    let after = report
        .steps
        .iter()
        .find(|s| s.name.contains("after restart"))
        .expect("restart step");
    ensure!(
        after
            .outcome
            .as_ref()
            .is_ok_and(|d| d.contains("@1") && d.contains("committed 2")),
        "{after:?}"
    );
    Ok(())
}
