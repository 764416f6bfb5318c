//! Two workers, then a SIGKILLed worker: every valid event lands exactly once.

use std::time::Duration;

use anyhow::{ensure, Result};
use faultline_infra::doctor::create_topic;
use faultline_report::CheckStatus;
use faultline_scenario::Guarantee;
use faultline_tests::pipeline::{
    check_end_state, dead_letters, produce_workload, profile_service, stop, wait_caught_up, Run,
};

const PARTITIONS: i32 = 4;

#[tokio::test(flavor = "multi_thread")]
async fn two_workers_land_every_valid_event_exactly_once() -> Result<()> {
    let stack = crate::stack().await?;
    let profiles = profile_service().await;
    let run = Run::new(
        stack.bootstrap_servers(),
        stack.postgres().clone(),
        "eo",
        Some(profiles.uri()),
    );
    create_topic(&run.bootstrap, &run.topic, PARTITIONS, 1).await?;
    create_topic(&run.bootstrap, &format!("{}.dlq", run.topic), 1, 1).await?;
    let w = crate::workload(11, 50_000, PARTITIONS)?;
    let counts = w.counts();
    ensure!(
        counts.duplicates > 1000 && counts.malformed_total() > 500,
        "workload too tame: {counts:?}"
    );
    let placement = produce_workload(&run.bootstrap, &run.topic, &w).await?;

    let a = run.spawn_worker("w1", &[])?;
    let b = run.spawn_worker("w2", &[])?;
    let hw = wait_caught_up(&run, PARTITIONS, Duration::from_secs(300)).await?;
    stop(a)?;
    stop(b)?;
    let bad = check_end_state(&run, &w, &placement, &hw).await?;
    ensure!(
        bad.is_empty(),
        "{} violations, first: {:?}",
        bad.len(),
        &bad[..bad.len().min(10)]
    );

    // Both workers did work, and every dead letter reached the DLQ topic.
    let c = run.pg.connect().await?;
    let workers: i64 = c
        .query_one(
            &format!(
                "SELECT count(DISTINCT worker_id) FROM {}.transactions",
                run.schema
            ),
            &[],
        )
        .await?
        .get(0);
    ensure!(workers == 2, "only {workers} worker(s) committed anything");
    let dlq = dead_letters(&run, &w, &placement, Guarantee::ExactlyOnce).await?;
    ensure!(
        dlq.check.status == CheckStatus::Pass,
        "{}: {:?}",
        dlq.check.detail,
        &dlq.check.failing_rows[..dlq.check.failing_rows.len().min(5)]
    );
    ensure!(
        (dlq.total, dlq.distinct) == (counts.malformed_total(), counts.malformed_total()),
        "DLQ topic holds {} ({} distinct), expected {}",
        dlq.total,
        dlq.distinct,
        counts.malformed_total()
    );
    stack.teardown().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn sigkilled_worker_loses_and_duplicates_nothing() -> Result<()> {
    let stack = crate::stack().await?;
    let profiles = profile_service().await;
    let run = Run::new(
        stack.bootstrap_servers(),
        stack.postgres().clone(),
        "kill",
        Some(profiles.uri()),
    );
    create_topic(&run.bootstrap, &run.topic, PARTITIONS, 1).await?;
    create_topic(&run.bootstrap, &format!("{}.dlq", run.topic), 1, 1).await?;
    let w = crate::workload(12, 50_000, PARTITIONS)?;
    let placement = produce_workload(&run.bootstrap, &run.topic, &w).await?;

    // Small batches so the kill lands mid-stream.
    let small = [("FAULTLINE_BATCH_MAX_RECORDS", "500")];
    let a = run.spawn_worker("w1", &small)?;
    let mut b = run.spawn_worker("w2", &small)?;
    let c = run.pg.connect().await?;
    let total: i64 = w.records.len() as i64;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(300);
    loop {
        ensure!(
            tokio::time::Instant::now() < deadline,
            "workers made no progress in 300 s"
        );
        let done: i64 = c
            .query_one(
                &format!(
                    "SELECT coalesce(sum(next_offset), 0)::bigint FROM {}.partition_offsets",
                    run.schema
                ),
                &[],
            )
            .await
            .map(|r| r.get(0))
            .unwrap_or(0);
        if done > total / 4 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    b.kill()?; // SIGKILL: no chance to finish the batch in flight
    b.wait()?;
    let c2 = run.spawn_worker("w3", &small)?;
    let hw = wait_caught_up(&run, PARTITIONS, Duration::from_secs(300)).await?;
    stop(a)?;
    stop(c2)?;
    let bad = check_end_state(&run, &w, &placement, &hw).await?;
    ensure!(
        bad.is_empty(),
        "{} violations, first: {:?}",
        bad.len(),
        &bad[..bad.len().min(10)]
    );
    // The killed worker's batch in flight is dead-lettered once: its transaction either committed
    // (and its records are skipped by the next owner) or is aborted and never read.
    let dlq = dead_letters(&run, &w, &placement, Guarantee::ExactlyOnce).await?;
    let malformed = w.counts().malformed_total();
    ensure!(
        dlq.check.status == CheckStatus::Pass
            && dlq.total == dlq.distinct
            && dlq.total == malformed,
        "dead letters: {} total, {} distinct, {malformed} malformed: {}",
        dlq.total,
        dlq.distinct,
        dlq.check.detail
    );
    stack.teardown().await?;
    Ok(())
}
