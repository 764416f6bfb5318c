//! Recovery after a defect reached production (the blast-radius lesson): the raw table is immutable
//! and complete, so everything derived from it can be rebuilt; and a window of the input topic can be
//! re-read idempotently to restore raw and quarantine rows a defect skipped.
//!
//! - `rebuild`: recompute `transactions` and `account_balances` from `raw_events`, in one transaction.
//! - `backfill`: re-read partitions from an offset (`FAULTLINE_BACKFILL_FROM`, default 0) to the
//!   current end and write them with the normal insert-once logic, without touching stored offsets.
//!
//! Running a backfill and then a rebuild after the fixed pipeline caught up yields the state a
//! correct run would have produced.

use anyhow::{Context, Result};
use postgres::Client;

use crate::config::Config;
use crate::process::Processor;
use crate::record::{Outcome, ProcessedRecord};
use crate::sink::{ensure_schema, stage, write_batch, Lineage};

/// Rebuilds derived tables from the raw table. Returns the number of transactions rebuilt.
pub fn rebuild(cfg: &Config) -> Result<u64> {
    let mut pg =
        Client::connect(&cfg.postgres_url, postgres::NoTls).context("connect to postgres")?;
    ensure_schema(&mut pg, &cfg.schema)?;
    let s = &cfg.schema;
    let raw = pg.query(
        &format!("SELECT payload, source_partition, source_offset FROM {s}.raw_events ORDER BY source_partition, source_offset"),
        &[],
    )?;
    let mut records: Vec<ProcessedRecord> = raw
        .iter()
        .map(|r| ProcessedRecord {
            partition: r.get(1),
            offset: r.get(2),
            key: None,
            payload: r.get(0),
            outcome: Outcome::Pending,
        })
        .collect();
    Processor::from_config(cfg)?
        .process(&mut records)
        .map_err(anyhow::Error::new)?;
    let lineage = lineage(cfg, "rebuild");
    let mut tx = pg.transaction()?;
    tx.batch_execute(&format!("TRUNCATE {s}.transactions, {s}.account_balances"))?;
    stage(&mut tx, &records)?;
    // Scored rows keep the raw row's source position; the run id says they were rebuilt.
    let rebuilt = tx.execute(
        &format!(
            "INSERT INTO {s}.transactions (transaction_id, account_id, kind, amount_cents, delta_cents, created_at, schema_version, channel,
                account_age_days, risk_tier, country, enrichment_status, champion_score, champion_version, challenger_score, challenger_version,
                source_topic, source_partition, source_offset, run_id, pipeline_version, worker_id)
             SELECT st.transaction_id, account_id, kind, amount_cents, delta_cents, created_at, schema_version, channel,
                account_age_days, risk_tier, country, enrichment_status, champion_score, champion_version, challenger_score, challenger_version,
                r.source_topic, r.source_partition, r.source_offset, $1, $2, $3
             FROM (SELECT DISTINCT ON (transaction_id) * FROM staging ORDER BY transaction_id) st
             JOIN {s}.raw_events r USING (transaction_id)"
        ),
        &[&lineage.run_id, &lineage.pipeline_version, &lineage.worker_id],
    )?;
    tx.execute(
        &format!(
            "INSERT INTO {s}.account_balances (account_id, balance_cents, txn_count, last_run_id, pipeline_version)
             SELECT account_id, sum(delta_cents)::bigint, count(*), $1, $2 FROM {s}.transactions GROUP BY account_id"
        ),
        &[&lineage.run_id, &lineage.pipeline_version],
    )?;
    tx.commit()?;
    Ok(rebuilt)
}

/// Re-reads the input topic from `FAULTLINE_BACKFILL_FROM` (default 0) to the current end of each
/// partition and writes it idempotently. Returns (records read, new transactions, quarantined).
pub fn backfill(cfg: &Config) -> Result<(u64, u64, u64)> {
    use rdkafka::config::ClientConfig;
    use rdkafka::consumer::{BaseConsumer, Consumer};
    use rdkafka::{Message, Offset, TopicPartitionList};
    use std::time::Duration;

    let from: i64 = std::env::var("FAULTLINE_BACKFILL_FROM")
        .ok()
        .map(|v| v.parse())
        .transpose()
        .context("FAULTLINE_BACKFILL_FROM must be an offset")?
        .unwrap_or(0);
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", &cfg.bootstrap)
        .set("group.id", format!("{}-backfill", cfg.group_id))
        .set("enable.auto.commit", "false")
        .create()?;
    let md = consumer.fetch_metadata(Some(&cfg.input_topic), Duration::from_secs(20))?;
    let topic = md.topics().first().context("topic metadata")?;
    let mut tpl = TopicPartitionList::new();
    let mut ends = std::collections::BTreeMap::new();
    for p in topic.partitions() {
        let (low, high) =
            consumer.fetch_watermarks(&cfg.input_topic, p.id(), Duration::from_secs(20))?;
        let start = from.max(low);
        if start < high {
            tpl.add_partition_offset(&cfg.input_topic, p.id(), Offset::Offset(start))?;
            ends.insert(p.id(), high);
        }
    }
    let mut pg = Client::connect(&cfg.postgres_url, postgres::NoTls)?;
    ensure_schema(&mut pg, &cfg.schema)?;
    if ends.is_empty() {
        return Ok((0, 0, 0));
    }
    consumer.assign(&tpl)?;
    let mut processor = Processor::from_config(cfg)?;
    let lineage = lineage(cfg, "backfill");
    let (mut read, mut new, mut quarantined) = (0u64, 0u64, 0u64);
    let mut remaining: std::collections::BTreeSet<i32> = ends.keys().copied().collect();
    let deadline = std::time::Instant::now() + Duration::from_secs(600);
    while !remaining.is_empty() && std::time::Instant::now() < deadline {
        let mut batch = Vec::new();
        while batch.len() < cfg.batch_max_records {
            let Some(m) = consumer.poll(Duration::from_millis(200)) else {
                break;
            };
            let m = m?;
            if m.offset() >= ends[&m.partition()] {
                continue;
            }
            if m.offset() + 1 >= ends[&m.partition()] {
                remaining.remove(&m.partition());
            }
            batch.push(ProcessedRecord {
                partition: m.partition(),
                offset: m.offset(),
                key: m.key().map(<[u8]>::to_vec),
                payload: m.payload().unwrap_or_default().to_vec(),
                outcome: Outcome::Pending,
            });
        }
        if batch.is_empty() {
            continue;
        }
        processor.process(&mut batch).map_err(anyhow::Error::new)?;
        let mut tx = pg.transaction()?;
        let (applied, _) = write_batch(&mut tx, &cfg.schema, &lineage, &[], &batch, None)?;
        tx.commit()?;
        read += batch.len() as u64;
        new += applied.new_transactions;
        quarantined += applied.quarantined;
    }
    anyhow::ensure!(
        remaining.is_empty(),
        "backfill did not reach the end of partitions {remaining:?} within 600 s"
    );
    Ok((read, new, quarantined))
}

fn lineage(cfg: &Config, what: &str) -> Lineage {
    Lineage {
        topic: cfg.input_topic.clone(),
        run_id: format!("{}-{what}", cfg.run_id),
        pipeline_version: cfg.pipeline_version.clone(),
        worker_id: cfg.worker_id.clone(),
    }
}
