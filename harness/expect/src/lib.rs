//! Declarative expected output for faultline's Kafka → Postgres chaos tests.
//!
//! The user declares, in the manifest's `[expect]` section, how each output
//! table follows from the input records: one row per event (`insert`), the
//! latest record per key (`upsert`) or aggregates per group (`aggregate`).
//! [`check`] computes what the tables must hold from the records the harness
//! sent and compares it with the rows they hold, reporting each difference as
//! an [`Anomaly`]. The crate does no I/O: the harness reads Kafka and Postgres.
//!
//! # Module map
//! - `spec` — [`ExpectSpec`], [`TableSpec`]: the serde model of `[expect]`,
//!   plus `validate`, `columns` and `fields_never_seen`.
//! - `mode` — [`Mode`]: insert, upsert or aggregate.
//! - `validate` — turns a spec into a plan, with located, actionable errors.
//! - `plan` — the parsed, validated declarations the builders use.
//! - `expr` — [`Expr`], [`FieldPath`]: the expression language (lexer,
//!   parser, evaluator, field paths).
//! - `aggregate` — count, sum, min, max, avg and their running state.
//! - `record` — [`InputRecord`] and folding duplicates into logical events.
//! - `expected` — builds the expected rows per mode (`insert`, `upsert`, `aggregate`).
//! - `dead_letter` — [`DeadLetterSpec`] (`[expect.dead_letter]`) and
//!   [`check_dead_letters`]: every refused record there once, with its reason.
//! - `compare` — lines expected and actual rows up by key and classifies differences.
//! - `normal` — [`cells_equal`]: the normal form cells are compared in.
//! - `key` — row keys in normal form (so `3`, `3.0` and `"3"` line up).
//! - `num` — exact-integer-or-float numbers for arithmetic and comparison.
//! - `anomaly` — [`Anomaly`], [`AnomalyClass`].
//! - `outcome` — [`Outcome`], [`TableSummary`].
//! - `error` — [`ExpectError`], [`ParseError`].

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod aggregate;
mod anomaly;
mod compare;
mod dead_letter;
mod error;
mod expected;
mod expr;
mod key;
mod mode;
mod normal;
mod num;
mod outcome;
mod plan;
mod record;
mod spec;
mod validate;

#[cfg(test)]
mod check_tests;
#[cfg(test)]
mod test_support;

use std::collections::BTreeMap;

use serde_json::{Map, Value};

pub use anomaly::{Anomaly, AnomalyClass};
pub use dead_letter::{
    check_dead_letters, DeadLetterSpec, DeadLetterTarget, Letter, Patterns, Refusal, Sent,
};
pub use error::{ExpectError, ParseError};
pub use expr::{Expr, FieldPath};
pub use mode::Mode;
pub use normal::cells_equal;
pub use outcome::{Outcome, TableSummary};
pub use record::InputRecord;
pub use spec::{ExpectSpec, TableSpec};

use plan::Plan;

/// Rows by table name, as `row_to_json` gives them.
pub type Rows = BTreeMap<String, Vec<Map<String, Value>>>;

/// Computes what every declared table must hold from `records` (valid
/// records only, in send order) and compares it with `actual` (table name →
/// rows as `row_to_json` gives them). Fails if the spec is invalid or a
/// declared table is missing from `actual`; tables not declared are ignored.
/// A spec with `command` tables needs [`check_with`].
pub fn check(
    spec: &ExpectSpec,
    records: &[InputRecord],
    actual: &Rows,
) -> Result<Outcome, ExpectError> {
    check_with(spec, records, actual, &Rows::new())
}

/// [`check`], with the rows each `mode = "command"` table's program printed in `commanded`.
pub fn check_with(
    spec: &ExpectSpec,
    records: &[InputRecord],
    actual: &Rows,
    commanded: &Rows,
) -> Result<Outcome, ExpectError> {
    let plan = Plan::compile(spec)?;
    let valid: Vec<InputRecord>;
    let records = match &plan.valid {
        Some(rule) => {
            valid = records
                .iter()
                .filter(|r| r.value.as_ref().is_none_or(|v| rule.matches(v)))
                .cloned()
                .collect();
            &valid[..]
        }
        None => records,
    };
    let events = record::fold_events(&plan.identity, records);
    let mut tables: Vec<&plan::TablePlan> = plan.tables.iter().collect();
    tables.sort_by(|a, b| a.name.cmp(&b.name));
    let mut outcome = Outcome::default();
    for table in tables {
        let rows = actual
            .get(&table.name)
            .ok_or_else(|| ExpectError::MissingActual {
                table: table.name.clone(),
            })?;
        let (table, expected) = match &table.rules {
            plan::TableRules::Command => {
                let printed = commanded.get(&table.name).map(Vec::as_slice).unwrap_or(&[]);
                command_table(table, printed)?
            }
            _ => (table.clone(), expected::build(table, &events)),
        };
        let report = compare::compare(&table, &expected, rows);
        outcome.anomalies.extend(report.anomalies);
        outcome.tables.push(report.summary);
    }
    Ok(outcome)
}

/// A command table's plan (its compared columns: every column the program printed) and its
/// expected rows. A printed row without a key column is an error naming it.
fn command_table(
    table: &plan::TablePlan,
    printed: &[Map<String, Value>],
) -> Result<(plan::TablePlan, expected::ExpectedTable), ExpectError> {
    let mut names: Vec<String> = table.key.clone();
    for row in printed {
        for column in row.keys() {
            if !names.contains(column) {
                names.push(column.clone());
            }
        }
    }
    let mut rows = Vec::with_capacity(printed.len());
    for (i, row) in printed.iter().enumerate() {
        if let Some(missing) = table.key.iter().find(|k| !row.contains_key(*k)) {
            return Err(ExpectError::Invalid {
                location: format!("expect.table ({}).command", table.name),
                problem: format!(
                    "printed row {} has no key column \"{missing}\"; print every key column in \
                     every row",
                    i + 1
                ),
            });
        }
        rows.push(expected::ExpectedRow::plain(
            &table.key,
            row.clone(),
            Vec::new(),
        ));
    }
    let null = Expr::parse("null").expect("the null literal parses");
    let mut plan = table.clone();
    plan.columns = names.into_iter().map(|n| (n, null.clone())).collect();
    Ok((
        plan,
        expected::ExpectedTable {
            rows,
            deleted: BTreeMap::new(),
        },
    ))
}
