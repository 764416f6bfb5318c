//! A pipeline's end state as its manifest's `[[output]]` tables say: every row as JSON, the ignored
//! columns left out, keyed by its key columns; and the differential check that compares two end
//! states row by row (a run under faults against the same workload's fault-free run).

use std::collections::BTreeMap;

use faultline_manifest::{Guarantee, OutputTable};
use faultline_report::{CheckResult, CheckStatus, FaultEvent};
use serde_json::{Map, Value};

use super::timeline::active_at;
use crate::error::{Result, RunnerError};
use crate::pipeline::setup::pg_message;

/// One output row: column → value, ignored columns left out.
pub type OutputRow = Map<String, Value>;

/// Rows by table, then by key (the key columns' values as a JSON array, rendered).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OutputState {
    pub tables: BTreeMap<String, BTreeMap<String, Map<String, Value>>>,
    /// Tables that do not exist (the pipeline never created them).
    pub missing: Vec<String>,
    /// (table, key) → the row's source (partition, offset), from its `source_partition` and
    /// `source_offset` columns when it has them (kept even when they are ignored).
    pub lineage: BTreeMap<(String, String), (i32, i64)>,
    /// (table, key) → how many rows share that key, for keys held by more than one row (a table
    /// without a primary key that received an effect twice). `tables` keeps one of them.
    pub duplicates: BTreeMap<(String, String), usize>,
}

impl OutputState {
    /// Reads every output table of `schema`. A table that does not exist is recorded as missing;
    /// any other error stops the run naming the table and Postgres' message.
    pub async fn read(
        client: &tokio_postgres::Client,
        schema: &str,
        outputs: &[OutputTable],
    ) -> Result<Self> {
        let mut state = OutputState::default();
        // Timestamps as text in UTC, whatever the server's TimeZone: golden snapshots of the same
        // end state must be equal on every backend.
        client
            .batch_execute("SET TIME ZONE 'UTC'")
            .await
            .map_err(|e| {
                RunnerError::Usage(format!(
                    "setting the time zone to read the output tables: {}",
                    pg_message(&e)
                ))
            })?;
        for o in outputs {
            let sql = format!("SELECT row_to_json(t)::text FROM {schema}.{} t", o.table);
            let rows = match client.query(&sql, &[]).await {
                Ok(rows) => rows,
                Err(e) if e.code() == Some(&tokio_postgres::error::SqlState::UNDEFINED_TABLE) => {
                    state.missing.push(o.table.clone());
                    continue;
                }
                Err(e) => {
                    return Err(RunnerError::Usage(format!(
                        "reading output table {schema}.{} ([[output]] of the manifest): {}",
                        o.table,
                        pg_message(&e)
                    )))
                }
            };
            let mut by_key = BTreeMap::new();
            for r in rows {
                let text: String = r.get(0);
                let Ok(Value::Object(mut m)) = serde_json::from_str::<Value>(&text) else {
                    continue;
                };
                let missing_key: Vec<&String> =
                    o.key.iter().filter(|k| !m.contains_key(*k)).collect();
                if !missing_key.is_empty() {
                    return Err(RunnerError::Usage(format!(
                        "output table {schema}.{} has no column {} named in its `key`; fix \
                         [[output]] in the manifest",
                        o.table,
                        missing_key
                            .iter()
                            .map(|k| format!("`{k}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )));
                }
                let key = Value::Array(o.key.iter().map(|k| m[k].clone()).collect()).to_string();
                let source = m
                    .get("source_partition")
                    .and_then(Value::as_i64)
                    .zip(m.get("source_offset").and_then(Value::as_i64));
                if let Some((p, off)) = source {
                    state
                        .lineage
                        .insert((o.table.clone(), key.clone()), (p as i32, off));
                }
                for c in &o.ignore {
                    m.remove(c);
                }
                if by_key.insert(key.clone(), m).is_some() {
                    *state.duplicates.entry((o.table.clone(), key)).or_insert(1) += 1;
                }
            }
            state.tables.insert(o.table.clone(), by_key);
        }
        Ok(state)
    }

    /// Row counts by table, and the rows themselves, as the run's end state (golden snapshots).
    pub fn summary(&self) -> Value {
        let mut out = Map::new();
        for (t, rows) in &self.tables {
            out.insert(
                t.clone(),
                Value::Array(rows.values().cloned().map(Value::Object).collect()),
            );
        }
        for t in &self.missing {
            out.insert(t.clone(), Value::Null);
        }
        Value::Object(out)
    }
}

/// The `differential` check: `actual` (under faults) must equal `expected` (fault-free, same
/// workload and seed), row by row. Each difference is a row naming the table, key and kind; where
/// the row has lineage columns (`source_partition`, `source_offset`) the faults active when that
/// record was sent are named.
/// A key held by more than one row (a table without a primary key) is a `duplicated` row.
/// Under `at_least_once` only missing rows are violations: duplicated, extra and changed rows
/// (effects that landed twice) are listed, and the check passes with a note.
pub fn differential(
    expected: &OutputState,
    actual: &OutputState,
    guarantee: Guarantee,
    sent_at: &dyn Fn(i32, i64) -> Option<u64>,
    events: &[FaultEvent],
) -> CheckResult {
    let rows = differences(expected, actual, sent_at, events);
    let compared: usize = expected.tables.values().map(BTreeMap::len).sum();
    verdict(
        "differential",
        rows,
        guarantee,
        format!(
            "the output tables equal the fault-free run's ({compared} rows in {} tables)",
            expected.tables.len()
        ),
        (
            "the output tables differ from the fault-free run's",
            compared,
        ),
    )
}

/// The `replay` check of a pipeline the harness knows only by its output tables: after the
/// pipeline re-read its whole input (`after`), the tables must be as the run left them (`before`).
/// Under `at_least_once` extra and changed rows are tolerated, as in [`differential`].
pub fn replay_difference(
    before: &OutputState,
    after: &OutputState,
    guarantee: Guarantee,
    how: &str,
) -> CheckResult {
    let rows = differences(before, after, &|_, _| None, &[]);
    let compared: usize = before.tables.values().map(BTreeMap::len).sum();
    verdict(
        "replay",
        rows,
        guarantee,
        format!(
            "reprocessing the whole input ({how}) left the output tables unchanged ({compared} rows \
             in {} tables)",
            before.tables.len()
        ),
        (
            &format!(
                "reprocessing the whole input ({how}) changed the output tables (`expected`: the \
                 row before the replay, `actual`: after it)"
            ),
            compared,
        ),
    )
}

/// The rows that differ, listed missing first, then duplicated, extra and changed: reports keep the first
/// rows only, a missing row matters most, and a few hundred missing rows must not hide behind the
/// changed rows of another table.
fn differences(
    expected: &OutputState,
    actual: &OutputState,
    sent_at: &dyn Fn(i32, i64) -> Option<u64>,
    events: &[FaultEvent],
) -> Vec<Map<String, Value>> {
    let mut rows = Vec::new();
    for t in &actual.missing {
        if !expected.missing.contains(t) {
            let mut m = Map::new();
            m.insert("table".into(), t.clone().into());
            m.insert("difference".into(), "table missing".into());
            rows.push(m);
        }
    }
    for ((table, key), n) in &actual.duplicates {
        let before = expected.duplicates.get(&(table.clone(), key.clone()));
        if before.is_some_and(|b| b >= n) {
            continue;
        }
        let mut m = diff_row(
            (table, key),
            "duplicated",
            (None, actual.tables.get(table).and_then(|t| t.get(key))),
            actual.lineage.get(&(table.clone(), key.clone())),
            sent_at,
            events,
        );
        m.insert(
            "expected".into(),
            format!("{} row(s)", before.copied().unwrap_or(1)).into(),
        );
        m.insert("rows".into(), (*n).into());
        rows.push(m);
    }
    let empty = BTreeMap::new();
    for (table, want) in &expected.tables {
        let got = actual.tables.get(table).unwrap_or(&empty);
        for (key, w) in want {
            match got.get(key) {
                None => rows.push(diff_row(
                    (table, key),
                    "missing",
                    (Some(w), None),
                    expected.lineage.get(&(table.clone(), key.clone())),
                    sent_at,
                    events,
                )),
                Some(g) if g != w => rows.push(diff_row(
                    (table, key),
                    "changed",
                    (Some(w), Some(g)),
                    actual.lineage.get(&(table.clone(), key.clone())),
                    sent_at,
                    events,
                )),
                Some(_) => {}
            }
        }
        for (key, g) in got {
            if !want.contains_key(key) {
                rows.push(diff_row(
                    (table, key),
                    "extra",
                    (None, Some(g)),
                    actual.lineage.get(&(table.clone(), key.clone())),
                    sent_at,
                    events,
                ));
            }
        }
    }
    rows.sort_by_key(|r| match r["difference"].as_str() {
        Some("table missing") => 0,
        Some("missing") => 1,
        Some("duplicated") => 2,
        Some("extra") => 3,
        _ => 4,
    });
    rows
}

/// Pass with `same` when nothing differs; otherwise `differ` with the counts, a failure unless
/// the guarantee is `at_least_once` and no row is missing.
fn verdict(
    name: &str,
    rows: Vec<Map<String, Value>>,
    guarantee: Guarantee,
    same: String,
    (differ, compared): (&str, usize),
) -> CheckResult {
    if rows.is_empty() {
        return CheckResult::from_rows(name, CheckStatus::Pass, same, rows);
    }
    let count = |kind: &str| rows.iter().filter(|r| r["difference"] == kind).count();
    let missing = count("missing") + count("table missing");
    let duplicated = match count("duplicated") {
        0 => String::new(),
        n => format!("{n} duplicated, "),
    };
    let detail = format!(
        "{differ}: {missing} missing, {duplicated}{} extra, {} changed rows (of {compared}; listed \
         missing first, then duplicated, extra and changed)",
        count("extra"),
        count("changed")
    );
    if guarantee == Guarantee::AtLeastOnce && missing == 0 {
        let detail = format!("{detail}; allowed by the pipeline's at_least_once guarantee");
        CheckResult::from_rows(name, CheckStatus::Pass, detail, rows)
    } else {
        CheckResult::from_rows(name, CheckStatus::Fail, detail, rows)
    }
}

fn diff_row(
    (table, key): (&str, &str),
    kind: &str,
    (expected, actual): (Option<&OutputRow>, Option<&OutputRow>),
    lineage: Option<&(i32, i64)>,
    sent_at: &dyn Fn(i32, i64) -> Option<u64>,
    events: &[FaultEvent],
) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("table".into(), table.into());
    m.insert("key".into(), key.into());
    m.insert("difference".into(), kind.into());
    m.insert(
        "expected".into(),
        expected.map_or(Value::Null, |r| Value::Object(r.clone())),
    );
    m.insert(
        "actual".into(),
        actual.map_or(Value::Null, |r| Value::Object(r.clone())),
    );
    // Only the actual run's lineage points into this run's topic.
    if let Some((p, o)) = lineage.filter(|_| actual.is_some()) {
        m.insert("source".into(), format!("p{p}@{o}").into());
        if let Some(t_ms) = sent_at(*p, *o) {
            m.insert("sent_at_ms".into(), t_ms.into());
            m.insert("fault".into(), active_at(events, t_ms).join(", ").into());
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(rows: &[(&str, i64)]) -> OutputState {
        let mut t = BTreeMap::new();
        for (k, v) in rows {
            let mut m = Map::new();
            m.insert("id".into(), (*k).into());
            m.insert("n".into(), (*v).into());
            t.insert(Value::Array(vec![(*k).into()]).to_string(), m);
        }
        OutputState {
            tables: [("orders".to_string(), t)].into_iter().collect(),
            ..OutputState::default()
        }
    }

    #[test]
    fn differences_are_listed_by_key_and_kind() {
        let want = state(&[("a", 1), ("b", 2), ("c", 3)]);
        let got = state(&[("a", 1), ("b", 5), ("d", 4)]);
        let c = differential(&want, &got, Guarantee::ExactlyOnce, &|_, _| None, &[]);
        assert_eq!(c.status, CheckStatus::Fail);
        assert!(
            c.detail.contains("1 missing, 1 extra, 1 changed"),
            "{}",
            c.detail
        );
        let kinds: Vec<(String, String)> = c
            .failing_rows
            .iter()
            .map(|r| {
                (
                    r["key"].as_str().unwrap().to_string(),
                    r["difference"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        assert!(kinds.contains(&("[\"c\"]".into(), "missing".into())));
        assert!(kinds.contains(&("[\"b\"]".into(), "changed".into())));
        assert!(kinds.contains(&("[\"d\"]".into(), "extra".into())));
        let same = differential(&want, &want, Guarantee::ExactlyOnce, &|_, _| None, &[]);
        assert_eq!(same.status, CheckStatus::Pass);
        // At least once: extra and changed rows are allowed, missing ones are not.
        let lenient = differential(&want, &got, Guarantee::AtLeastOnce, &|_, _| None, &[]);
        assert_eq!(lenient.status, CheckStatus::Fail);
        let only_extra = state(&[("a", 1), ("b", 2), ("c", 3), ("z", 9)]);
        let lenient = differential(
            &want,
            &only_extra,
            Guarantee::AtLeastOnce,
            &|_, _| None,
            &[],
        );
        assert_eq!(lenient.status, CheckStatus::Pass);
    }

    #[test]
    fn a_key_held_by_two_rows_is_a_duplicated_row_unless_the_fault_free_run_had_it_too() {
        let want = state(&[("a", 1), ("b", 2)]);
        let mut got = state(&[("a", 1), ("b", 2)]);
        got.duplicates
            .insert(("orders".into(), "[\"b\"]".into()), 2);
        let c = differential(&want, &got, Guarantee::ExactlyOnce, &|_, _| None, &[]);
        assert_eq!(c.status, CheckStatus::Fail);
        assert!(
            c.detail
                .contains("0 missing, 1 duplicated, 0 extra, 0 changed rows (of 2;"),
            "{}",
            c.detail
        );
        let r = &c.failing_rows[0];
        assert_eq!(
            (&r["key"], &r["difference"], &r["rows"], &r["expected"]),
            (
                &Value::from("[\"b\"]"),
                &Value::from("duplicated"),
                &Value::from(2),
                &Value::from("1 row(s)")
            )
        );
        // Under at_least_once a second copy is allowed.
        let c = differential(&want, &got, Guarantee::AtLeastOnce, &|_, _| None, &[]);
        assert_eq!(c.status, CheckStatus::Pass);
        // The fault-free run had the same two rows: not this run's doing.
        let mut want = want;
        want.duplicates
            .insert(("orders".into(), "[\"b\"]".into()), 2);
        let c = differential(&want, &got, Guarantee::ExactlyOnce, &|_, _| None, &[]);
        assert_eq!(c.status, CheckStatus::Pass);
    }

    #[test]
    fn missing_rows_are_listed_before_extra_and_changed_rows_of_any_table() {
        // Table `a` sorts first and has only changed rows; table `orders` has the missing ones.
        let mut want = state(&[("m1", 1), ("m2", 2), ("x", 3)]);
        let mut got = state(&[("x", 3), ("e1", 9)]);
        let changed = |n: i64| {
            (0..60)
                .map(|i| {
                    let mut m = Map::new();
                    m.insert("n".into(), n.into());
                    (format!("[{i}]"), m)
                })
                .collect::<BTreeMap<_, _>>()
        };
        want.tables.insert("a".into(), changed(1));
        got.tables.insert("a".into(), changed(2));
        let c = differential(&want, &got, Guarantee::ExactlyOnce, &|_, _| None, &[]);
        assert!(
            c.detail
                .contains("2 missing, 1 extra, 60 changed rows (of 63; listed missing first"),
            "{}",
            c.detail
        );
        let c = c.capped();
        let kinds: Vec<(&str, &str)> = c
            .failing_rows
            .iter()
            .take(4)
            .map(|r| {
                (
                    r["table"].as_str().unwrap(),
                    r["difference"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            kinds,
            vec![
                ("orders", "missing"),
                ("orders", "missing"),
                ("orders", "extra"),
                ("a", "changed")
            ]
        );
        assert_eq!(c.failing_total, 63);
    }
}
