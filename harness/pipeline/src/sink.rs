//! The exactly-once sink. One Postgres transaction per batch holds: the compare-and-set of each
//! partition's next offset (the fence), the append-only offset log, the immutable raw rows
//! (insert-once by `transaction_id`), the scored rows, the balance changes of newly inserted
//! transactions only, and the quarantine rows. Either all of it commits or none of it does.

use postgres::binary_copy::BinaryCopyInWriter;
use postgres::types::Type;
use postgres::{Client, Transaction};

use crate::defects::{active, Defect};
use crate::record::{Outcome, ProcessedRecord};

/// Lineage stamped on every row written.
#[derive(Debug, Clone)]
pub struct Lineage {
    pub topic: String,
    pub run_id: String,
    pub pipeline_version: String,
    pub worker_id: String,
}

/// The offsets one batch covers in one partition: `from` is the stored next offset the worker
/// started from, `to` the next offset after the batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    pub partition: i32,
    pub from: i64,
    pub to: i64,
}

/// What a committed batch changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    pub new_transactions: u64,
    pub duplicates: u64,
    pub quarantined: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// Another worker advanced this partition's offset: this worker lost it and must not commit.
    #[error("fenced on partition {partition}: stored next offset is no longer {expected}")]
    Fenced { partition: i32, expected: i64 },
    #[error("postgres: {0}")]
    Postgres(#[from] postgres::Error),
}

/// Creates the schema and tables if missing. Raw rows are immutable: a trigger refuses UPDATE,
/// DELETE and TRUNCATE on `raw_events`. Workers starting together serialize on an advisory lock
/// (`CREATE ... IF NOT EXISTS` alone races on the catalog).
pub fn ensure_schema(
    client: &mut impl postgres::GenericClient,
    schema: &str,
) -> Result<(), postgres::Error> {
    let mut tx = client.transaction()?;
    tx.execute(
        "SELECT pg_advisory_xact_lock(hashtext($1))",
        &[&format!("faultline-ledger-schema-{schema}")],
    )?;
    let exists: bool = tx
        .query_one(
            "SELECT count(*) = 1 FROM pg_tables WHERE schemaname = $1 AND tablename = 'offset_log'",
            &[&schema],
        )?
        .get(0);
    if !exists {
        create_tables(&mut tx, schema)?;
    }
    tx.commit()
}

fn create_tables(
    client: &mut impl postgres::GenericClient,
    schema: &str,
) -> Result<(), postgres::Error> {
    client.batch_execute(&format!(
        r#"
        CREATE SCHEMA IF NOT EXISTS {s};
        CREATE TABLE IF NOT EXISTS {s}.raw_events (
            transaction_id text PRIMARY KEY,
            payload bytea NOT NULL,
            source_topic text NOT NULL, source_partition int NOT NULL, source_offset bigint NOT NULL,
            run_id text NOT NULL, pipeline_version text NOT NULL, worker_id text NOT NULL,
            ingested_at timestamptz NOT NULL DEFAULT now());
        CREATE TABLE IF NOT EXISTS {s}.transactions (
            transaction_id text PRIMARY KEY,
            account_id text NOT NULL, kind text NOT NULL, amount_cents bigint NOT NULL, delta_cents bigint NOT NULL,
            created_at timestamptz NOT NULL, schema_version int NOT NULL, channel text,
            account_age_days int, risk_tier text, country text, enrichment_status text NOT NULL,
            champion_score float8 NOT NULL, champion_version text NOT NULL,
            challenger_score float8, challenger_version text,
            source_topic text NOT NULL, source_partition int NOT NULL, source_offset bigint NOT NULL,
            run_id text NOT NULL, pipeline_version text NOT NULL, worker_id text NOT NULL,
            ingested_at timestamptz NOT NULL DEFAULT now());
        CREATE TABLE IF NOT EXISTS {s}.account_balances (
            account_id text PRIMARY KEY, balance_cents bigint NOT NULL, txn_count bigint NOT NULL,
            last_run_id text NOT NULL, pipeline_version text NOT NULL, updated_at timestamptz NOT NULL DEFAULT now());
        CREATE TABLE IF NOT EXISTS {s}.quarantine (
            source_topic text NOT NULL, source_partition int NOT NULL, source_offset bigint NOT NULL,
            reason text NOT NULL, detail text NOT NULL, record_key bytea, payload bytea NOT NULL,
            run_id text NOT NULL, pipeline_version text NOT NULL, worker_id text NOT NULL,
            quarantined_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (source_topic, source_partition, source_offset));
        CREATE TABLE IF NOT EXISTS {s}.partition_offsets (
            topic text NOT NULL, partition int NOT NULL, next_offset bigint NOT NULL,
            owner text NOT NULL, updated_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (topic, partition));
        CREATE TABLE IF NOT EXISTS {s}.offset_log (
            topic text NOT NULL, partition int NOT NULL, from_offset bigint NOT NULL, to_offset bigint NOT NULL,
            worker_id text NOT NULL, run_id text NOT NULL, committed_at timestamptz NOT NULL DEFAULT now());
        CREATE OR REPLACE FUNCTION {s}.refuse_raw_change() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'raw_events is immutable: % refused', TG_OP; END $$;
        DROP TRIGGER IF EXISTS raw_events_immutable ON {s}.raw_events;
        CREATE TRIGGER raw_events_immutable BEFORE UPDATE OR DELETE ON {s}.raw_events
            FOR EACH ROW EXECUTE FUNCTION {s}.refuse_raw_change();
        DROP TRIGGER IF EXISTS raw_events_no_truncate ON {s}.raw_events;
        CREATE TRIGGER raw_events_no_truncate BEFORE TRUNCATE ON {s}.raw_events
            FOR EACH STATEMENT EXECUTE FUNCTION {s}.refuse_raw_change();
        "#,
        s = schema
    ))
}

/// Stored next offsets for `topic`, by partition.
pub fn stored_offsets(
    client: &mut impl postgres::GenericClient,
    schema: &str,
    topic: &str,
) -> Result<Vec<(i32, i64)>, postgres::Error> {
    let rows = client.query(
        &format!("SELECT partition, next_offset FROM {schema}.partition_offsets WHERE topic = $1"),
        &[&topic],
    )?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// Which of `positions` (partition, offset) of `topic` already have a quarantine row: committed
/// batches, whose dead letters are in the topic (see `dlq`).
pub fn quarantined(
    client: &mut impl postgres::GenericClient,
    schema: &str,
    topic: &str,
    positions: &[(i32, i64)],
) -> Result<std::collections::BTreeSet<(i32, i64)>, postgres::Error> {
    if positions.is_empty() {
        return Ok(Default::default());
    }
    let parts: Vec<i32> = positions.iter().map(|p| p.0).collect();
    let offsets: Vec<i64> = positions.iter().map(|p| p.1).collect();
    let rows = client.query(
        &format!(
            "SELECT q.source_partition, q.source_offset FROM unnest($2::int[], $3::bigint[]) AS t(p, o) \
             JOIN {schema}.quarantine q ON q.source_topic = $1 AND q.source_partition = t.p AND q.source_offset = t.o"
        ),
        &[&topic, &parts, &offsets],
    )?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

const STAGING_COLUMNS: &str = "transaction_id, account_id, kind, amount_cents, delta_cents, created_at, schema_version, channel, \
     account_age_days, risk_tier, country, enrichment_status, champion_score, champion_version, challenger_score, \
     challenger_version, payload, source_partition, source_offset";

fn staging_types() -> Vec<Type> {
    vec![
        Type::TEXT,
        Type::TEXT,
        Type::TEXT,
        Type::INT8,
        Type::INT8,
        Type::TIMESTAMPTZ,
        Type::INT4,
        Type::TEXT,
        Type::INT4,
        Type::TEXT,
        Type::TEXT,
        Type::TEXT,
        Type::FLOAT8,
        Type::TEXT,
        Type::FLOAT8,
        Type::TEXT,
        Type::BYTEA,
        Type::INT4,
        Type::INT8,
    ]
}

/// Per-account balance changes of a batch: (account id, delta in cents, transactions).
pub type BalanceDeltas = Vec<(String, i64, i64)>;

/// Writes one batch in its own transaction (see the module docs) and commits it.
pub fn commit_batch(
    client: &mut Client,
    schema: &str,
    lineage: &Lineage,
    ranges: &[Range],
    records: &[ProcessedRecord],
    defect: Option<Defect>,
) -> Result<Applied, SinkError> {
    if active(defect, Defect::CommitBeforeWrite) {
        // Planted: the offsets are made durable first, on their own.
        let mut tx = client.transaction()?;
        advance_offsets(&mut tx, schema, lineage, ranges, defect)?;
        tx.commit()?;
    }
    let mut tx = client.transaction()?;
    let offsets = if active(defect, Defect::CommitBeforeWrite) {
        &[][..]
    } else {
        ranges
    };
    let (applied, deltas) = write_batch(&mut tx, schema, lineage, offsets, records, defect)?;
    tx.commit()?;
    if active(defect, Defect::BalanceOutsideTx) {
        // Planted: the balance update runs after the data is committed, in a second transaction.
        std::thread::sleep(std::time::Duration::from_millis(20));
        let mut tx = client.transaction()?;
        apply_balances(&mut tx, schema, lineage, &deltas)?;
        tx.commit()?;
    }
    Ok(applied)
}

/// Everything a batch writes, inside the caller's transaction (which the dry run rolls back).
/// Returns the counts and the per-account deltas (already applied unless `balance-outside-tx`).
pub fn write_batch(
    tx: &mut Transaction<'_>,
    schema: &str,
    lineage: &Lineage,
    ranges: &[Range],
    records: &[ProcessedRecord],
    defect: Option<Defect>,
) -> Result<(Applied, BalanceDeltas), SinkError> {
    advance_offsets(tx, schema, lineage, ranges, defect)?;
    let (applied, deltas) = write_records(tx, schema, lineage, records, defect)?;
    if !active(defect, Defect::BalanceOutsideTx) {
        apply_balances(tx, schema, lineage, &deltas)?;
    }
    Ok((applied, deltas))
}

/// Compare-and-set of each partition's next offset, plus the offset log entry.
pub fn advance_offsets(
    tx: &mut Transaction<'_>,
    schema: &str,
    lineage: &Lineage,
    ranges: &[Range],
    defect: Option<Defect>,
) -> Result<(), SinkError> {
    let fenced = !active(defect, Defect::NoFencing);
    let sql = if fenced {
        format!(
            "INSERT INTO {schema}.partition_offsets AS po (topic, partition, next_offset, owner) VALUES ($1, $2, $4, $5) \
             ON CONFLICT (topic, partition) DO UPDATE SET next_offset = EXCLUDED.next_offset, owner = EXCLUDED.owner, updated_at = now() \
             WHERE po.next_offset = $3"
        )
    } else {
        format!(
            "INSERT INTO {schema}.partition_offsets AS po (topic, partition, next_offset, owner) VALUES ($1, $2, $4, $5) \
             ON CONFLICT (topic, partition) DO UPDATE SET next_offset = EXCLUDED.next_offset, owner = EXCLUDED.owner, updated_at = now() \
             WHERE $3::bigint IS NOT NULL"
        )
    };
    let stmt = tx.prepare(&sql)?;
    let log = tx.prepare(&format!(
        "INSERT INTO {schema}.offset_log (topic, partition, from_offset, to_offset, worker_id, run_id) VALUES ($1, $2, $3, $4, $5, $6)"
    ))?;
    for r in ranges {
        let n = tx.execute(
            &stmt,
            &[
                &lineage.topic,
                &r.partition,
                &r.from,
                &r.to,
                &lineage.worker_id,
            ],
        )?;
        if n != 1 {
            return Err(SinkError::Fenced {
                partition: r.partition,
                expected: r.from,
            });
        }
        tx.execute(
            &log,
            &[
                &lineage.topic,
                &r.partition,
                &r.from,
                &r.to,
                &lineage.worker_id,
                &lineage.run_id,
            ],
        )?;
    }
    Ok(())
}

/// Copies the valid records into the session's `staging` temp table (binary COPY). Returns how many.
pub fn stage(
    tx: &mut Transaction<'_>,
    records: &[ProcessedRecord],
) -> Result<u64, postgres::Error> {
    tx.batch_execute(&format!("CREATE TEMP TABLE IF NOT EXISTS staging ({STAGING_COLUMNS_DDL}) ON COMMIT DELETE ROWS; TRUNCATE staging;"))?;
    let types = staging_types();
    let sink = tx.copy_in(&format!(
        "COPY staging ({STAGING_COLUMNS}) FROM STDIN (FORMAT binary)"
    ))?;
    let mut w = BinaryCopyInWriter::new(sink, &types);
    let mut valid = 0u64;
    for r in records {
        if let Outcome::Valid(v) = &r.outcome {
            valid += 1;
            let e = &v.event;
            w.write(&[
                &e.transaction_id,
                &e.account_id,
                &e.kind.as_str(),
                &e.amount_cents,
                &e.delta_cents(),
                &e.created_at,
                &e.schema_version,
                &e.channel,
                &v.profile.account_age_days,
                &v.profile.risk_tier,
                &v.profile.country,
                &v.profile.status,
                &v.champion_score,
                &v.champion_version,
                &v.challenger_score,
                &v.challenger_version,
                &r.payload,
                &r.partition,
                &r.offset,
            ])?;
        }
    }
    w.finish()?;
    Ok(valid)
}

/// Stages valid records, inserts raw and scored rows once, quarantines the rest.
/// Returns the counts and the per-account balance deltas to apply.
fn write_records(
    tx: &mut Transaction<'_>,
    schema: &str,
    lineage: &Lineage,
    records: &[ProcessedRecord],
    defect: Option<Defect>,
) -> Result<(Applied, BalanceDeltas), SinkError> {
    let valid = stage(tx, records)?;

    // First occurrence by (partition, offset) wins inside the batch; ON CONFLICT drops earlier batches' ids.
    let rows = tx.query(
        &format!(
            "WITH dedup AS (SELECT DISTINCT ON (transaction_id) * FROM staging ORDER BY transaction_id, source_partition, source_offset),
             raw AS (INSERT INTO {s}.raw_events (transaction_id, payload, source_topic, source_partition, source_offset, run_id, pipeline_version, worker_id)
                     SELECT transaction_id, payload, $1, source_partition, source_offset, $2, $3, $4 FROM dedup
                     ON CONFLICT (transaction_id) DO NOTHING RETURNING transaction_id),
             txn AS (INSERT INTO {s}.transactions (transaction_id, account_id, kind, amount_cents, delta_cents, created_at, schema_version, channel,
                        account_age_days, risk_tier, country, enrichment_status, champion_score, champion_version, challenger_score, challenger_version,
                        source_topic, source_partition, source_offset, run_id, pipeline_version, worker_id)
                     SELECT d.transaction_id, account_id, kind, amount_cents, delta_cents, created_at, schema_version, channel,
                        account_age_days, risk_tier, country, enrichment_status, champion_score, champion_version, challenger_score, challenger_version,
                        $1, source_partition, source_offset, $2, $3, $4
                     FROM dedup d JOIN raw USING (transaction_id)
                     RETURNING account_id, delta_cents)
             SELECT account_id, sum(delta_cents)::bigint, count(*)::bigint FROM txn GROUP BY account_id ORDER BY account_id",
            s = schema
        ),
        &[&lineage.topic, &lineage.run_id, &lineage.pipeline_version, &lineage.worker_id],
    )?;
    let mut deltas: Vec<(String, i64, i64)> = rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    let new_transactions: u64 = deltas.iter().map(|d| d.2 as u64).sum();
    if active(defect, Defect::NonIdempotentInsert) {
        // Planted: every valid record received changes the balance, re-sent ones included.
        let rows = tx.query(
            "SELECT account_id, sum(delta_cents)::bigint, count(*)::bigint FROM staging GROUP BY account_id ORDER BY account_id",
            &[],
        )?;
        deltas = rows
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect();
    }

    let mut quarantined = 0u64;
    if !active(defect, Defect::DropMalformed) {
        let q = tx.prepare(&format!(
            "INSERT INTO {schema}.quarantine (source_topic, source_partition, source_offset, reason, detail, record_key, payload, run_id, pipeline_version, worker_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING"
        ))?;
        for r in records {
            if let Outcome::Rejected(rej) = &r.outcome {
                quarantined += tx.execute(
                    &q,
                    &[
                        &lineage.topic,
                        &r.partition,
                        &r.offset,
                        &rej.reason.as_str(),
                        &rej.detail,
                        &r.key,
                        &r.payload,
                        &lineage.run_id,
                        &lineage.pipeline_version,
                        &lineage.worker_id,
                    ],
                )?;
            }
        }
    }
    Ok((
        Applied {
            new_transactions,
            duplicates: valid - new_transactions.min(valid),
            quarantined,
        },
        deltas,
    ))
}

const STAGING_COLUMNS_DDL: &str = "transaction_id text, account_id text, kind text, amount_cents bigint, delta_cents bigint, \
     created_at timestamptz, schema_version int, channel text, account_age_days int, risk_tier text, country text, \
     enrichment_status text, champion_score float8, champion_version text, challenger_score float8, challenger_version text, \
     payload bytea, source_partition int, source_offset bigint";

/// Adds per-account deltas to the balances.
pub fn apply_balances(
    tx: &mut Transaction<'_>,
    schema: &str,
    lineage: &Lineage,
    deltas: &[(String, i64, i64)],
) -> Result<(), SinkError> {
    if deltas.is_empty() {
        return Ok(());
    }
    let accounts: Vec<&str> = deltas.iter().map(|d| d.0.as_str()).collect();
    let sums: Vec<i64> = deltas.iter().map(|d| d.1).collect();
    let counts: Vec<i64> = deltas.iter().map(|d| d.2).collect();
    tx.execute(
        &format!(
            "INSERT INTO {s}.account_balances AS b (account_id, balance_cents, txn_count, last_run_id, pipeline_version)
             SELECT a, d, c, $4, $5 FROM unnest($1::text[], $2::bigint[], $3::bigint[]) AS t(a, d, c)
             ON CONFLICT (account_id) DO UPDATE SET balance_cents = b.balance_cents + EXCLUDED.balance_cents,
                 txn_count = b.txn_count + EXCLUDED.txn_count, last_run_id = EXCLUDED.last_run_id,
                 pipeline_version = EXCLUDED.pipeline_version, updated_at = now()",
            s = schema
        ),
        &[&accounts, &sums, &counts, &lineage.run_id, &lineage.pipeline_version],
    )?;
    Ok(())
}
