//! Dry run leaves every table unchanged; a defect's damage is repaired by the fixed pipeline plus
//! recovery (backfill, rebuild).

use anyhow::{ensure, Result};
use faultline_infra::doctor::create_topic;
use faultline_tests::kafka::high_watermarks;
use faultline_tests::pipeline::{
    check_end_state, produce_workload, profile_service, table_digests, Run,
};
use faultline_workload::Workload;

const PARTITIONS: i32 = 3;

#[tokio::test(flavor = "multi_thread")]
async fn dry_run_leaves_every_table_byte_for_byte_unchanged() -> Result<()> {
    let stack = crate::stack().await?;
    let profiles = profile_service().await;
    let run = Run::new(
        stack.bootstrap_servers(),
        stack.postgres().clone(),
        "dry",
        Some(profiles.uri()),
    );
    create_topic(&run.bootstrap, &run.topic, PARTITIONS, 1).await?;
    let t0 = std::time::Instant::now();
    let w = crate::workload(21, 6_000, PARTITIONS)?;
    let (first, second) = w.records.split_at(w.records.len() / 2);
    produce_workload(
        &run.bootstrap,
        &run.topic,
        &Workload {
            records: first.to_vec(),
        },
    )
    .await?;
    run.run_to_end("batch-1", &[("FAULTLINE_MODE", "batch")])?;
    let before = table_digests(&run.pg, &run.schema).await?;
    ensure!(
        before["transactions"].split(':').next() != Some("0"),
        "first half committed nothing: {before:?}"
    );

    eprintln!("[{:?}] first half committed", t0.elapsed());
    produce_workload(
        &run.bootstrap,
        &run.topic,
        &Workload {
            records: second.to_vec(),
        },
    )
    .await?;
    eprintln!("[{:?}] second half produced", t0.elapsed());
    let out = run.run_to_end("dry", &[("FAULTLINE_MODE", "dry-run")])?;
    let report: serde_json::Value = serde_json::from_str(&out)?;
    eprintln!("[{:?}] dry run done", t0.elapsed());
    let after = table_digests(&run.pg, &run.schema).await?;
    ensure!(
        before == after,
        "dry run changed tables:\nbefore {before:?}\nafter  {after:?}"
    );
    ensure!(
        report["records"].as_u64() == Some(second.len() as u64),
        "dry run read {:?} of {}",
        report["records"],
        second.len()
    );
    let would = report["would_insert_transactions"].as_u64().unwrap_or(0);
    ensure!(
        would > 0
            && !report["balance_changes"]
                .as_array()
                .is_none_or(Vec::is_empty),
        "report: {report}"
    );

    // The real run then inserts exactly what the dry run predicted.
    let c = run.pg.connect().await?;
    let n0: i64 = c
        .query_one(
            &format!("SELECT count(*) FROM {}.transactions", run.schema),
            &[],
        )
        .await?
        .get(0);
    run.run_to_end("batch-2", &[("FAULTLINE_MODE", "batch")])?;
    let n1: i64 = c
        .query_one(
            &format!("SELECT count(*) FROM {}.transactions", run.schema),
            &[],
        )
        .await?
        .get(0);
    ensure!(
        (n1 - n0) as u64 == would,
        "dry run predicted {would} new transactions, the real run inserted {}",
        n1 - n0
    );
    stack.teardown().await?;
    Ok(())
}

async fn defect_then_recovery(defect: &str, recover: &[&str]) -> Result<()> {
    let stack = crate::stack().await?;
    let profiles = profile_service().await;
    let run = Run::new(
        stack.bootstrap_servers(),
        stack.postgres().clone(),
        "recover",
        Some(profiles.uri()),
    );
    create_topic(&run.bootstrap, &run.topic, PARTITIONS, 1).await?;
    let w = crate::workload(31, 8_000, PARTITIONS)?;
    let placement = produce_workload(&run.bootstrap, &run.topic, &w).await?;
    let hw = high_watermarks(&run.bootstrap, &run.topic, PARTITIONS)?;

    run.run_to_end(
        "defective",
        &[("FAULTLINE_MODE", "batch"), ("FAULTLINE_DEFECT", defect)],
    )?;
    let bad = check_end_state(&run, &w, &placement, &hw).await?;
    ensure!(!bad.is_empty(), "defect {defect} did no visible damage");

    for step in recover {
        run.run_to_end(
            &format!("recover-{step}"),
            &[("FAULTLINE_MODE", "recover"), ("FAULTLINE_RECOVER", step)],
        )?;
    }
    let bad = check_end_state(&run, &w, &placement, &hw).await?;
    ensure!(
        bad.is_empty(),
        "after recovery from {defect}: {} violations, first: {:?}",
        bad.len(),
        &bad[..bad.len().min(10)]
    );
    stack.teardown().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn rebuild_repairs_balances_after_non_idempotent_inserts() -> Result<()> {
    defect_then_recovery("non-idempotent-insert", &["rebuild"]).await
}

#[tokio::test(flavor = "multi_thread")]
async fn backfill_restores_quarantine_after_dropped_malformed_records() -> Result<()> {
    defect_then_recovery("drop-malformed", &["backfill", "rebuild"]).await
}
