//! examples/orders-python: the right end state through a SIGKILL, a replacement and a forced
//! redelivery; each planted bug (ORDERS_BUG) shown on data where it is deterministic.

use std::time::Duration;

use anyhow::{ensure, Context, Result};
use serde_json::json;

use crate::orders::{
    app_name, example_dir, json_record, load_events, produce, python, Expected, OrdersRun, Record,
};

const PARTITIONS: i32 = 4;
const READY: Duration = Duration::from_secs(60);
const CAUGHT_UP: Duration = Duration::from_secs(300);

/// The version-1 event of the first order that ends at version 3 or more: re-sent after its newer
/// versions, it must change nothing.
fn older_event(records: &[Record], exp: &Expected) -> Result<(String, Record)> {
    let (id, _) = exp
        .orders
        .iter()
        .find(|(_, (o, _))| o.version >= 3)
        .context("no order reaches version 3")?;
    let v1 = records
        .iter()
        .find(|r| {
            crate::orders::classify(&r.value).is_ok_and(|o| o.order_id == *id && o.version == 1)
        })
        .context("no version 1")?;
    Ok((id.clone(), v1.clone()))
}

#[tokio::test(flavor = "multi_thread")]
async fn sigkilled_worker_and_a_replay_leave_every_order_at_its_highest_version() -> Result<()> {
    let run = OrdersRun::start("orders", PARTITIONS).await?;
    let all = load_events()?;
    let (first, second) = all.split_at(all.len() / 2);
    let mut placement = produce(&run.bootstrap, &run.topic, first).await?;

    // Small batches so the kill lands with batches in flight.
    let small = [("ORDERS_BATCH_SIZE", "50")];
    let w1 = run.spawn("w1", &run.group, &small)?;
    let w2 = run.spawn("w2", &run.group, &small)?;
    w1.wait_ready(READY)?;
    w2.wait_ready(READY)?;
    // DATABASE_URL's application_name reaches Postgres unchanged.
    let c = run.pg.connect().await?;
    let sessions: i64 = c
        .query_one(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1",
            &[&app_name("w1")],
        )
        .await?
        .get(0);
    ensure!(
        sessions == 1,
        "{sessions} sessions named {}",
        app_name("w1")
    );

    let deadline = tokio::time::Instant::now() + CAUGHT_UP;
    while run.committed_total(&run.group).await? < first.len() as i64 / 4 {
        ensure!(tokio::time::Instant::now() < deadline, "no progress");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    w2.kill()?;
    let at_kill = run.committed_total(&run.group).await?;
    ensure!(
        at_kill < first.len() as i64,
        "the kill came too late to matter: {at_kill} of {} records already committed",
        first.len()
    );

    // The rest, plus a re-sent older event; then a replacement worker.
    let exp_first = Expected::new(first, &placement);
    let (target, older) = older_event(first, &exp_first)?;
    let mut rest = second.to_vec();
    rest.push(older);
    placement.extend(produce(&run.bootstrap, &run.topic, &rest).await?);
    let mut records = first.to_vec();
    records.extend(rest);
    let w3 = run.spawn("w3", &run.group, &small)?;
    w3.wait_ready(READY)?;
    run.wait_committed(&run.group, CAUGHT_UP).await?;
    let (s1, s3) = (w1.stop()?, w3.stop()?);
    ensure!(
        s1.success() && s3.success(),
        "SIGTERM exits: w1 {s1}, w3 {s3}"
    );

    let exp = Expected::new(&records, &placement);
    ensure!(
        exp.orders[&target].0.version >= 3 && !exp.dead.is_empty(),
        "the data lost its point: {:?}, {} dead",
        exp.orders[&target],
        exp.dead.len()
    );
    ensure!(
        exp.valid_deliveries > exp.events.len() as i64,
        "events.jsonl has no duplicates"
    );
    let bad = run.anomalies(&exp).await?;
    ensure!(
        bad.is_empty(),
        "{} anomalies, first: {:?}",
        bad.len(),
        &bad[..bad.len().min(10)]
    );

    // Forced redelivery: a new group replays the whole topic into the same schema; nothing changes.
    let replay = format!("{}-replay", run.group);
    let w4 = run.spawn("w4", &replay, &[])?;
    run.wait_committed(&replay, CAUGHT_UP).await?;
    ensure!(w4.stop()?.success(), "w4 SIGTERM exit");
    let bad = run.anomalies(&exp).await?;
    ensure!(
        bad.is_empty(),
        "after a replay: {} anomalies, first: {:?}",
        bad.len(),
        &bad[..bad.len().min(10)]
    );
    run.teardown().await
}

#[tokio::test(flavor = "multi_thread")]
async fn stale_overwrite_bug_lets_a_resent_older_event_win() -> Result<()> {
    let run = OrdersRun::start("stale", PARTITIONS).await?;
    let records = load_events()?;
    let placement = produce(&run.bootstrap, &run.topic, &records).await?;
    let exp = Expected::new(&records, &placement);
    let (target, older) = older_event(&records, &exp)?;

    let w = run.spawn("w1", &run.group, &[("ORDERS_BUG", "stale-overwrite")])?;
    run.wait_committed(&run.group, CAUGHT_UP).await?;
    produce(&run.bootstrap, &run.topic, &[older]).await?;
    run.wait_committed(&run.group, CAUGHT_UP).await?;
    ensure!(w.stop()?.success(), "SIGTERM exit");

    let got = run.orders().await?;
    let row = &got.get(&target).context("target order missing")?.0;
    ensure!(
        row.version == 1 && exp.orders[&target].0.version >= 3,
        "the re-sent version 1 did not overwrite version {}: {row:?}",
        exp.orders[&target].0.version
    );
    // The late events inside events.jsonl already did the same damage before the re-send.
    let stale = exp
        .orders
        .iter()
        .filter(|(id, (want, _))| *id != &target && got[*id].0.version < want.version)
        .count();
    ensure!(
        stale > 0,
        "no late event in events.jsonl overwrote a newer one"
    );
    run.teardown().await
}

#[tokio::test(flavor = "multi_thread")]
async fn non_idempotent_bug_counts_every_delivery_twice_after_a_replay() -> Result<()> {
    let run = OrdersRun::start("nonidem", PARTITIONS).await?;
    let records = load_events()?;
    let placement = produce(&run.bootstrap, &run.topic, &records).await?;
    let exp = Expected::new(&records, &placement);
    let bug = [("ORDERS_BUG", "non-idempotent")];
    let sum = |m: std::collections::BTreeMap<String, i64>| m.values().sum::<i64>();

    let w = run.spawn("w1", &run.group, &bug)?;
    run.wait_committed(&run.group, CAUGHT_UP).await?;
    ensure!(w.stop()?.success(), "SIGTERM exit");
    let once = sum(run.status_counts().await?);
    ensure!(
        once == exp.valid_deliveries && once > exp.events.len() as i64,
        "one pass counted {once}: want every delivery ({}), more than the distinct events ({})",
        exp.valid_deliveries,
        exp.events.len()
    );

    // Forced redelivery: a new group replays the topic. Orders and history stay right (the
    // upsert's guard and the history's key hold), the counts double.
    let replay = format!("{}-replay", run.group);
    let w = run.spawn("w2", &replay, &bug)?;
    run.wait_committed(&replay, CAUGHT_UP).await?;
    ensure!(w.stop()?.success(), "SIGTERM exit");
    ensure!(run.orders().await? == exp.orders, "orders table damaged");
    ensure!(run.events().await? == exp.events, "order_events damaged");
    let twice = sum(run.status_counts().await?);
    ensure!(
        twice == 2 * exp.valid_deliveries,
        "after a replay the counts sum to {twice}, want {}",
        2 * exp.valid_deliveries
    );
    run.teardown().await
}

/// A batch whose Postgres transaction fails (a CHECK constraint refuses its one order): the worker
/// exits 1, the constraint is dropped, a replacement catches up. Returns whether the order landed.
async fn failed_transaction_then_restart(bug: &[(&str, &str)]) -> Result<bool> {
    let run = OrdersRun::start("blocked", 1).await?;
    let records = load_events()?;
    produce(&run.bootstrap, &run.topic, &records[..200]).await?;
    let w = run.spawn("w1", &run.group, bug)?;
    run.wait_committed(&run.group, CAUGHT_UP).await?;

    let c = run.pg.connect().await?;
    c.batch_execute(&format!(
        "ALTER TABLE {}.orders ADD CONSTRAINT blocked CHECK (order_id <> 'o-blocked') NOT VALID",
        run.schema
    ))
    .await?;
    let blocked = json!({"order_id": "o-blocked", "status": "created", "version": 1,
        "amount_cents": 500, "updated_at": "2026-12-09T00:00:00Z"});
    produce(&run.bootstrap, &run.topic, &[json_record(&blocked)]).await?;
    let st = w.wait_exit(Duration::from_secs(60))?;
    ensure!(st.code() == Some(1), "the failed transaction exited {st}");

    c.batch_execute(&format!(
        "ALTER TABLE {}.orders DROP CONSTRAINT blocked",
        run.schema
    ))
    .await?;
    let w = run.spawn("w2", &run.group, bug)?;
    w.wait_ready(READY)?;
    run.wait_committed(&run.group, CAUGHT_UP).await?;
    ensure!(w.stop()?.success(), "SIGTERM exit");
    let landed = run.orders().await?.contains_key("o-blocked");
    run.teardown().await?;
    Ok(landed)
}

#[tokio::test(flavor = "multi_thread")]
async fn failed_transaction_is_redelivered_after_restart() -> Result<()> {
    ensure!(
        failed_transaction_then_restart(&[]).await?,
        "the batch whose transaction failed was not redelivered"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn commit_before_db_bug_loses_the_batch_whose_transaction_failed() -> Result<()> {
    ensure!(
        !failed_transaction_then_restart(&[("ORDERS_BUG", "commit-before-db")]).await?,
        "the batch landed although its offsets were committed before its transaction failed"
    );
    Ok(())
}

/// Runs the pipeline with a valid configuration changed by `change`; returns (exit code, stderr).
fn run_with(change: &[(&str, Option<&str>)]) -> Result<(Option<i32>, String)> {
    let mut env = vec![
        ("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:1"),
        ("DATABASE_URL", "postgres://u:p@127.0.0.1:1/db"),
        ("ORDERS_SCHEMA", "orders"),
        ("ORDERS_TOPIC", "orders"),
        ("ORDERS_DLQ_TOPIC", "orders.dlq"),
        ("ORDERS_GROUP_ID", "g"),
    ];
    for (k, v) in change {
        env.retain(|(name, _)| name != k);
        if let Some(v) = v {
            env.push((k, v));
        }
    }
    let out = std::process::Command::new(python()?)
        .arg("orders_pipeline.py")
        .current_dir(example_dir())
        .env_clear()
        .envs(env)
        .output()?;
    Ok((
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    ))
}

#[test]
fn bad_configuration_exits_2_naming_the_variable() -> Result<()> {
    for (change, must_name) in [
        (vec![("ORDERS_SCHEMA", None)], vec!["ORDERS_SCHEMA"]),
        (
            vec![("ORDERS_SCHEMA", Some("Bad-Name"))],
            vec!["ORDERS_SCHEMA"],
        ),
        (
            vec![("DATABASE_URL", Some("mysql://x"))],
            vec!["DATABASE_URL"],
        ),
        (
            vec![("ORDERS_BATCH_SIZE", Some("many"))],
            vec!["ORDERS_BATCH_SIZE"],
        ),
        (
            vec![("ORDERS_LINGER_MS", Some("-1"))],
            vec!["ORDERS_LINGER_MS"],
        ),
        (
            vec![("ORDERS_BUG", Some("typo"))],
            vec![
                "ORDERS_BUG",
                "commit-before-db",
                "non-idempotent",
                "stale-overwrite",
            ],
        ),
    ] {
        let (code, err) = run_with(&change)?;
        ensure!(code == Some(2), "{change:?}: exit {code:?}, stderr {err}");
        for name in must_name {
            ensure!(
                err.contains(name),
                "{change:?}: stderr does not name {name}: {err}"
            );
        }
    }
    Ok(())
}
