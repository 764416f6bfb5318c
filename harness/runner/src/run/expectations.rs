//! The `expectations` check: the manifest's `[expect]` declarations (crate `faultline-expect`)
//! computed from the records this run sent and compared with the output tables as the run left
//! them. Byte-level damage the harness added (malformed copies, poison pills, oversized records)
//! is left out: only the recorded or generated records and their re-sends are handed over, with
//! the position each landed at and when it was sent.

use std::collections::BTreeMap;

use faultline_expect::{Anomaly, AnomalyClass, ExpectSpec, InputRecord, Mode, Rows};
use faultline_manifest::Guarantee;
use faultline_report::{CheckResult, CheckStatus, FaultEvent, Row};
use faultline_workload::{Expectation, Workload};
use serde_json::{Map, Value};
use tokio_postgres::error::SqlState;

use super::produce::Produced;
use super::timeline::active_at;
use crate::error::{IoAt, Result, RunnerError};
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

/// How long an `[[expect.table]]` command may take.
const COMMAND_BUDGET: std::time::Duration = std::time::Duration::from_secs(300);

/// The rows each `mode = "command"` table's program prints. The records the declarations are
/// computed from are written to `dir/expect-input.jsonl` (one JSON object per line: `partition`,
/// `offset`, `key` as text or null, `value`, `sent_at_ms`), whose path the program gets in
/// `FAULTLINE_EXPECT_INPUT` (and the table's name in `FAULTLINE_EXPECT_TABLE`); it runs in `cwd`
/// and prints one JSON object per line. A program that cannot start, fails, runs over 300 s or
/// prints a line that is not an object stops the run naming the table, the line and the fix.
pub async fn commanded_rows(
    spec: &ExpectSpec,
    records: &[InputRecord],
    dir: &std::path::Path,
    cwd: &std::path::Path,
    manifest: &std::path::Path,
) -> Result<Rows> {
    let mut out = Rows::new();
    let commands: Vec<(&str, &[String])> = spec
        .tables
        .iter()
        .filter(|t| t.mode == Mode::Command)
        .filter_map(|t| Some((t.table.as_str(), t.command.as_deref()?)))
        .collect();
    if commands.is_empty() {
        return Ok(out);
    }
    let input = dir.join("expect-input.jsonl");
    let mut text = String::new();
    for r in records {
        let line = serde_json::json!({
            "partition": r.partition,
            "offset": r.offset,
            "key": r.key.as_deref().map(String::from_utf8_lossy),
            "value": r.value,
            "sent_at_ms": r.sent_at_ms,
        });
        text.push_str(&line.to_string());
        text.push('\n');
    }
    std::fs::create_dir_all(dir).at(dir)?;
    std::fs::write(&input, text).at(&input)?;
    for (table, argv) in commands {
        let what = format!(
            "manifest {}: [[expect.table]] `{table}` command `{}`",
            manifest.display(),
            argv.join(" ")
        );
        let mut cmd = tokio::process::Command::new(&argv[0]);
        cmd.args(&argv[1..])
            .env("FAULTLINE_EXPECT_INPUT", &input)
            .env("FAULTLINE_EXPECT_TABLE", table)
            .current_dir(cwd)
            .stdin(std::process::Stdio::null())
            .kill_on_drop(true);
        let run = tokio::time::timeout(COMMAND_BUDGET, cmd.output());
        let output = match run.await {
            Err(_) => {
                return Err(RunnerError::Usage(format!(
                    "{what} ran for more than {} s and was killed",
                    COMMAND_BUDGET.as_secs()
                )))
            }
            Ok(Err(e)) => {
                return Err(RunnerError::Usage(format!(
                    "{what} cannot start: {e} (it runs in {})",
                    cwd.display()
                )))
            }
            Ok(Ok(o)) => o,
        };
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            let tail: Vec<&str> = stderr.lines().rev().take(15).collect();
            return Err(RunnerError::Usage(format!(
                "{what} exited with {}; its last lines:\n{}",
                output.status,
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            )));
        }
        let mut rows = Vec::new();
        for (i, line) in String::from_utf8_lossy(&output.stdout).lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            match serde_json::from_str::<Value>(line) {
                Ok(Value::Object(m)) => rows.push(m),
                Ok(_) | Err(_) => {
                    return Err(RunnerError::Usage(format!(
                        "{what}: output line {} is not a JSON object: {line:.200}; print one \
                         object per row, its keys the table's columns",
                        i + 1
                    )))
                }
            }
        }
        out.insert(table.to_string(), rows);
    }
    Ok(out)
}

/// The columns to read and check per declared table: the declarations' own, and every column a
/// command table's program printed.
pub fn columns_to_check(spec: &ExpectSpec, commanded: &Rows) -> BTreeMap<String, Vec<String>> {
    let mut columns = spec.columns();
    for (table, rows) in commanded {
        let list = columns.entry(table.clone()).or_default();
        for row in rows {
            for c in row.keys() {
                if !list.contains(c) {
                    list.push(c.clone());
                }
            }
        }
    }
    columns
}

/// Every declared table's rows as `row_to_json` gives them, in `schema`. A table that does not
/// exist is read as empty and named in the second value; a table without a declared column, or
/// any other error, stops the run naming the table and the fix.
pub async fn read_tables(
    client: &tokio_postgres::Client,
    schema: &str,
    columns: BTreeMap<String, Vec<String>>,
    manifest: &std::path::Path,
) -> Result<(BTreeMap<String, Vec<Map<String, Value>>>, Vec<String>)> {
    let mut tables = BTreeMap::new();
    let mut missing = Vec::new();
    for (table, columns) in columns {
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
                 group_by or aggregates (or what its command prints)",
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
    commanded: &Rows,
    missing: &[String],
    guarantee: Guarantee,
    events: &[FaultEvent],
) -> Result<CheckResult> {
    let outcome = faultline_expect::check_with(spec, records, tables, commanded)
        .map_err(|e| RunnerError::Usage(format!("[expect]: {e}")))?;
    let sent_at: BTreeMap<(i32, i64), u64> = records
        .iter()
        .map(|r| (r.position(), r.sent_at_ms))
        .collect();
    let rows = anomaly_rows(&outcome.anomalies, &sent_at, events);
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

/// The report rows of declared-expectation anomalies (the `expectations` and declared
/// `dead_letters` checks): class, table, key, expected and actual rows, note, the input records
/// behind it (`p<partition>@<offset>`) and the faults active when the first was sent (`sent_at`:
/// position → Unix ms), taken one class at a time in turn.
pub(crate) fn anomaly_rows(
    anomalies: &[Anomaly],
    sent_at: &BTreeMap<(i32, i64), u64>,
    events: &[FaultEvent],
) -> Vec<Row> {
    let rows = anomalies
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
            (a.class, m)
        })
        .collect();
    by_class_in_turn(rows)
}

/// Rows taken one class at a time in turn (report order within a class), so that a report capped
/// to its first rows still shows every class found.
fn by_class_in_turn(rows: Vec<(AnomalyClass, Row)>) -> Vec<Row> {
    let mut queues: BTreeMap<AnomalyClass, std::collections::VecDeque<Row>> = BTreeMap::new();
    for (class, row) in rows {
        queues.entry(class).or_default().push_back(row);
    }
    let mut out = Vec::new();
    while !queues.is_empty() {
        queues.retain(|_, q| match q.pop_front() {
            Some(row) => {
                out.push(row);
                true
            }
            None => false,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_take_turns_by_class() {
        let row = |n: u64| {
            let mut m = Map::new();
            m.insert("n".into(), n.into());
            m
        };
        let rows = vec![
            (AnomalyClass::Lost, row(1)),
            (AnomalyClass::Lost, row(2)),
            (AnomalyClass::Lost, row(3)),
            (AnomalyClass::WrongAggregate, row(4)),
            (AnomalyClass::Phantom, row(5)),
        ];
        let order: Vec<u64> = by_class_in_turn(rows)
            .iter()
            .map(|m| m["n"].as_u64().unwrap())
            .collect();
        assert_eq!(order, vec![1, 5, 4, 2, 3]);
    }
}
