//! The `expectations` check: the manifest's `[expect]` declarations (crate `faultline-expect`)
//! computed from the records this run sent and compared with the output tables as the run left
//! them. Byte-level damage the harness added (malformed copies, poison pills, oversized records)
//! is left out: only the recorded or generated records and their re-sends are handed over, with
//! the position each landed at and when it was sent.

use std::collections::BTreeMap;

use faultline_expect::{AnomalyClass, ExpectSpec, InputRecord};
use faultline_manifest::Guarantee;
use faultline_report::{CheckResult, CheckStatus, FaultEvent, Row};
use faultline_workload::{Expectation, Workload};
use serde_json::{Map, Value};
use tokio_postgres::error::SqlState;

use super::produce::Produced;
use super::timeline::active_at;
use crate::error::{Result, RunnerError};
use crate::pipeline::setup::pg_message;

/// The records the declarations are computed from, in send order: every record the workload
/// sends as the pipeline's own data (recorded records, generated valid events, and re-sends of
/// either) whose value is JSON. Records never placed (not produced) are left out.
pub fn input_records(workload: &Workload, produced: &Produced) -> Vec<InputRecord> {
    workload
        .records
        .iter()
        .filter(|r| {
            matches!(
                r.expect,
                Expectation::Recorded { .. }
                    | Expectation::RecordedDuplicate { .. }
                    | Expectation::Valid { .. }
                    | Expectation::Duplicate { .. }
            )
        })
        .filter_map(|r| {
            let (partition, offset) = *produced.placement.get(&r.seq)?;
            let value = serde_json::from_slice::<Value>(&r.value).ok()?;
            Some(InputRecord {
                partition,
                offset,
                key: r.key.clone(),
                value: Some(value),
                sent_at_ms: produced
                    .sent_at_ms
                    .get(r.seq as usize)
                    .copied()
                    .unwrap_or(0),
            })
        })
        .collect()
}

/// Every declared table's rows as `row_to_json` gives them, in `schema`. A table that does not
/// exist is read as empty and named in the second value; a table without a declared column, or
/// any other error, stops the run naming the table and the fix.
pub async fn read_tables(
    client: &tokio_postgres::Client,
    schema: &str,
    spec: &ExpectSpec,
    manifest: &std::path::Path,
) -> Result<(BTreeMap<String, Vec<Map<String, Value>>>, Vec<String>)> {
    let mut tables = BTreeMap::new();
    let mut missing = Vec::new();
    for (table, columns) in spec.columns() {
        let sql = format!("SELECT row_to_json(t)::text FROM {schema}.{table} t");
        let rows = match client.query(&sql, &[]).await {
            Ok(rows) => rows,
            Err(e) if e.code() == Some(&SqlState::UNDEFINED_TABLE) => {
                missing.push(table.clone());
                tables.insert(table, Vec::new());
                continue;
            }
            Err(e) => {
                return Err(RunnerError::Usage(format!(
                    "reading table {schema}.{table} for [expect] of manifest {}: {}",
                    manifest.display(),
                    pg_message(&e)
                )))
            }
        };
        let present: Vec<String> = client
            .query(
                "SELECT column_name::text FROM information_schema.columns \
                 WHERE table_schema = $1 AND table_name = $2",
                &[&schema, &table],
            )
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect();
        let unknown: Vec<&String> = columns.iter().filter(|c| !present.contains(c)).collect();
        if !unknown.is_empty() {
            return Err(RunnerError::Usage(format!(
                "manifest {}: [[expect.table]] `{table}` names column(s) {} that table \
                 {schema}.{table} does not have (it has {}); fix the declaration's key, columns, \
                 group_by or aggregates",
                manifest.display(),
                unknown
                    .iter()
                    .map(|c| format!("`{c}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                present.join(", ")
            )));
        }
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let text: String = r.get(0);
            match serde_json::from_str::<Value>(&text) {
                Ok(Value::Object(m)) => out.push(m),
                _ => {
                    return Err(RunnerError::Usage(format!(
                        "table {schema}.{table}: row_to_json gave something that is not an \
                         object: {text:.200}"
                    )))
                }
            }
        }
        tables.insert(table, out);
    }
    Ok((tables, missing))
}

/// The `expectations` check from the declarations, the records sent and the tables read. Each
/// anomaly is a row: its class, table and key, the expected and actual rows, the input records
/// behind it and the faults active when the first of them was sent. Under `at_least_once` a
/// duplicated row is listed but allowed.
pub fn check(
    spec: &ExpectSpec,
    records: &[InputRecord],
    tables: &BTreeMap<String, Vec<Map<String, Value>>>,
    missing: &[String],
    guarantee: Guarantee,
    events: &[FaultEvent],
) -> Result<CheckResult> {
    let outcome = faultline_expect::check(spec, records, tables)
        .map_err(|e| RunnerError::Usage(format!("[expect]: {e}")))?;
    let sent_at: BTreeMap<(i32, i64), u64> = records
        .iter()
        .map(|r| (r.position(), r.sent_at_ms))
        .collect();
    let rows: Vec<Row> = outcome
        .anomalies
        .iter()
        .map(|a| {
            let mut m = Map::new();
            m.insert("class".into(), a.class.as_str().into());
            m.insert("table".into(), a.table.clone().into());
            m.insert("key".into(), a.key.clone().into());
            m.insert(
                "expected".into(),
                a.expected.clone().map_or(Value::Null, Value::Object),
            );
            m.insert(
                "actual".into(),
                a.actual.clone().map_or(Value::Null, Value::Object),
            );
            if !a.note.is_empty() {
                m.insert("note".into(), a.note.clone().into());
            }
            let sources: Vec<String> = a.sources.iter().map(|(p, o)| format!("p{p}@{o}")).collect();
            m.insert("source".into(), sources.join(", ").into());
            if let Some(t_ms) = a.sources.first().and_then(|s| sent_at.get(s)) {
                m.insert("sent_at_ms".into(), (*t_ms).into());
                m.insert("fault".into(), active_at(events, *t_ms).join(", ").into());
            }
            m
        })
        .collect();
    let expected: usize = outcome.tables.iter().map(|t| t.expected_rows).sum();
    let mut by_class: BTreeMap<AnomalyClass, usize> = BTreeMap::new();
    for a in &outcome.anomalies {
        *by_class.entry(a.class).or_default() += 1;
    }
    let mut detail = if rows.is_empty() {
        format!(
            "the output tables hold what [expect] declares: {expected} rows in {} tables, computed \
             from {} records",
            outcome.tables.len(),
            records.len()
        )
    } else {
        let counts: Vec<String> = by_class.iter().map(|(c, n)| format!("{n} {c}")).collect();
        let tables: Vec<String> = outcome
            .tables
            .iter()
            .filter(|t| !t.anomalies.is_empty())
            .map(|t| t.table.clone())
            .collect();
        format!(
            "the output tables differ from what [expect] declares: {} (tables {}; of {expected} \
             expected rows)",
            counts.join(", "),
            tables.join(", ")
        )
    };
    if !missing.is_empty() {
        detail.push_str(&format!(
            "; table(s) {} do not exist: the pipeline wrote nothing there",
            missing.join(", ")
        ));
    }
    let only_duplicates = by_class.keys().all(|c| *c == AnomalyClass::Duplicated);
    let status = if rows.is_empty() {
        CheckStatus::Pass
    } else if guarantee == Guarantee::AtLeastOnce && only_duplicates {
        detail.push_str("; allowed by the pipeline's at_least_once guarantee");
        CheckStatus::Pass
    } else {
        CheckStatus::Fail
    };
    Ok(CheckResult::from_rows("expectations", status, detail, rows))
}
