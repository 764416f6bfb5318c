//! Builds the rows each table must hold from the folded input events.

mod aggregate;
mod insert;
mod upsert;

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::expr::Expr;
use crate::key::RowKey;
use crate::plan::{TablePlan, TableRules};
use crate::record::Event;

/// One row the table must hold.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ExpectedRow {
    pub(crate) key: RowKey,
    /// Key values as computed, for reporting.
    pub(crate) key_values: Vec<Value>,
    /// Compared columns and their values.
    pub(crate) row: Map<String, Value>,
    /// Positions of the records behind the row, most relevant first, at most 5.
    pub(crate) sources: Vec<(i32, i64)>,
    /// Upsert only: how the latest record is labelled in notes.
    pub(crate) latest: Option<String>,
    /// Upsert only: rows older records of the key would have produced, newest first.
    pub(crate) older: Vec<OlderRow>,
}

impl ExpectedRow {
    /// A row of an insert or aggregate table: keyed by `key` columns of `row`, no version history.
    pub(crate) fn plain(key: &[String], row: Map<String, Value>, sources: Vec<(i32, i64)>) -> Self {
        let key_values = crate::key::key_values(&row, key);
        ExpectedRow {
            key: RowKey::from_values(&key_values),
            key_values,
            row,
            sources,
            latest: None,
            older: Vec::new(),
        }
    }
}

/// A row built from a superseded record of an upsert key.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct OlderRow {
    pub(crate) row: Map<String, Value>,
    /// E.g. `version = 1 (record 0:4)`.
    pub(crate) label: String,
}

/// An upsert key that had records but must have no row.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DeletedKey {
    /// Why, e.g. `tombstone at 0:9`.
    pub(crate) reason: String,
    pub(crate) sources: Vec<(i32, i64)>,
}

/// Everything one table must (and must not) hold.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct ExpectedTable {
    pub(crate) rows: Vec<ExpectedRow>,
    pub(crate) deleted: BTreeMap<RowKey, DeletedKey>,
}

/// Builds the expected content of `table`.
pub(crate) fn build(table: &TablePlan, events: &[Event<'_>]) -> ExpectedTable {
    match &table.rules {
        TableRules::Insert => insert::build(table, events),
        TableRules::Upsert(rules) => upsert::build(table, rules, events),
        TableRules::Aggregate(rules) => aggregate::build(table, rules, events),
        // Built by `check_with` from the program's rows.
        TableRules::Command => ExpectedTable::default(),
    }
}

/// Evaluates named expressions into a row.
fn eval_row(columns: &[(String, Expr)], record: &Value) -> Map<String, Value> {
    columns
        .iter()
        .map(|(name, expr)| (name.clone(), expr.eval(record)))
        .collect()
}

/// The events with a value that pass the table's `where`.
fn selected<'e, 'r>(
    table: &'e TablePlan,
    events: &'e [Event<'r>],
) -> impl Iterator<Item = (&'e Event<'r>, &'r Value)> + 'e {
    events.iter().filter_map(move |event| {
        let value = event.record.value.as_ref()?;
        let keep = table
            .filter
            .as_ref()
            .is_none_or(|filter| filter.matches(value));
        keep.then_some((event, value))
    })
}
