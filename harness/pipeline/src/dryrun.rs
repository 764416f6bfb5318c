//! Dry run: process a topic range (each partition from its stored offset to the current end) or a
//! file of events (one JSON event per line), run the exact writes a real batch would make inside one
//! transaction, report what would change, then roll it all back. Nothing is committed, no dead letter
//! is produced, and every table is left byte-for-byte as it was.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{Context, Result};
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{Message, Offset, TopicPartitionList};
use serde_json::json;

use crate::config::Config;
use crate::process::Processor;
use crate::record::{Outcome, ProcessedRecord};
use crate::sink::{ensure_schema, stored_offsets, write_batch, Lineage, Range};

/// Runs the dry run and returns the report (also printed as JSON by the binary).
pub fn run(cfg: &Config) -> Result<serde_json::Value> {
    let (mut records, ranges) = match &cfg.dry_run_file {
        Some(path) => (read_file(path)?, Vec::new()),
        None => read_topic(cfg)?,
    };
    Processor::from_config(cfg)?
        .process(&mut records)
        .map_err(anyhow::Error::new)?;

    let mut pg = postgres::Client::connect(&cfg.postgres_url, postgres::NoTls)
        .context("connect to postgres")?;
    let mut tx = pg.transaction()?;
    ensure_schema(&mut tx, &cfg.schema)?;
    let before = balances(&mut tx, &cfg.schema)?;
    let lineage = Lineage {
        topic: cfg.input_topic.clone(),
        run_id: format!("{}-dry-run", cfg.run_id),
        pipeline_version: cfg.pipeline_version.clone(),
        worker_id: cfg.worker_id.clone(),
    };
    let (applied, _) = write_batch(&mut tx, &cfg.schema, &lineage, &ranges, &records, None)?;
    let after = balances(&mut tx, &cfg.schema)?;
    tx.rollback()?;

    let mut by_reason: BTreeMap<&str, u64> = BTreeMap::new();
    for r in &records {
        if let Outcome::Rejected(rej) = &r.outcome {
            *by_reason.entry(rej.reason.as_str()).or_default() += 1;
        }
    }
    let diff: Vec<_> = after
        .iter()
        .filter(|(a, v)| before.get(*a) != Some(*v))
        .map(|(a, v)| json!({"account_id": a, "before_cents": before.get(a), "after_cents": v}))
        .collect();
    Ok(json!({
        "dry_run": true,
        "records": records.len(),
        "would_insert_transactions": applied.new_transactions,
        "duplicates": applied.duplicates,
        "would_quarantine": by_reason,
        "offsets": ranges.iter().map(|r| json!({"partition": r.partition, "from": r.from, "to": r.to})).collect::<Vec<_>>(),
        "balance_changes": diff,
    }))
}

fn balances(tx: &mut postgres::Transaction<'_>, schema: &str) -> Result<BTreeMap<String, i64>> {
    Ok(tx
        .query(
            &format!("SELECT account_id, balance_cents FROM {schema}.account_balances"),
            &[],
        )?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect())
}

fn read_file(path: &str) -> Result<Vec<ProcessedRecord>> {
    let text = std::fs::read(path).with_context(|| format!("read dry-run file {path}"))?;
    Ok(text
        .split(|b| *b == b'\n')
        .enumerate()
        .filter(|(_, l)| !l.is_empty())
        .map(|(i, line)| ProcessedRecord {
            partition: -1,
            offset: i as i64 + 1,
            key: None,
            payload: line.to_vec(),
            outcome: Outcome::Pending,
        })
        .collect())
}

fn read_topic(cfg: &Config) -> Result<(Vec<ProcessedRecord>, Vec<Range>)> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", &cfg.bootstrap)
        .set("group.id", format!("{}-dry-run", cfg.group_id))
        .set("enable.auto.commit", "false")
        .create()?;
    let mut pg = postgres::Client::connect(&cfg.postgres_url, postgres::NoTls)?;
    let stored: BTreeMap<i32, i64> = match stored_offsets(&mut pg, &cfg.schema, &cfg.input_topic) {
        Ok(v) => v.into_iter().collect(),
        Err(_) => BTreeMap::new(), // no schema yet: everything is new
    };
    let md = consumer.fetch_metadata(Some(&cfg.input_topic), Duration::from_secs(20))?;
    let topic = md.topics().first().context("topic metadata")?;
    let mut tpl = TopicPartitionList::new();
    let mut ends = BTreeMap::new();
    let mut ranges = Vec::new();
    for p in topic.partitions() {
        let (low, high) =
            consumer.fetch_watermarks(&cfg.input_topic, p.id(), Duration::from_secs(20))?;
        let from = stored.get(&p.id()).copied().unwrap_or(low);
        if from < high {
            tpl.add_partition_offset(&cfg.input_topic, p.id(), Offset::Offset(from))?;
            ends.insert(p.id(), high);
            ranges.push(Range {
                partition: p.id(),
                from,
                to: high,
            });
        }
    }
    let mut records = Vec::new();
    if ends.is_empty() {
        return Ok((records, ranges));
    }
    consumer.assign(&tpl)?;
    let mut done: BTreeMap<i32, bool> = ends.keys().map(|p| (*p, false)).collect();
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while done.values().any(|d| !d) && std::time::Instant::now() < deadline {
        if let Some(m) = consumer.poll(Duration::from_millis(200)) {
            let m = m?;
            if m.offset() >= ends[&m.partition()] {
                continue;
            }
            records.push(ProcessedRecord {
                partition: m.partition(),
                offset: m.offset(),
                key: m.key().map(<[u8]>::to_vec),
                payload: m.payload().unwrap_or_default().to_vec(),
                outcome: Outcome::Pending,
            });
            if m.offset() + 1 >= ends[&m.partition()] {
                done.insert(m.partition(), true);
            }
        }
    }
    anyhow::ensure!(
        done.values().all(|d| *d),
        "dry run could not read the whole range within 120 s"
    );
    Ok((records, ranges))
}
