//! Lines expected rows up with actual rows by normalised key and classifies
//! every difference.
//!
//! Per key, with `e` expected and `a` actual rows: `a = 0` is lost,
//! `e = 0` phantom, `a > e` duplicated, `0 < a < e` lost. Rows are then
//! matched by value; each leftover expected/actual pair is a value anomaly
//! (stale_value, wrong_value or wrong_aggregate).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::anomaly::{Anomaly, AnomalyClass};
use crate::expected::{ExpectedRow, ExpectedTable};
use crate::key::{key_text, key_values, RowKey};
use crate::normal::cells_equal;
use crate::outcome::TableSummary;
use crate::plan::{TablePlan, TableRules};
use crate::record::MAX_SOURCES;

type Row = Map<String, Value>;

/// Anomalies (sorted by class, then key) and the summary of one table.
pub(crate) struct TableReport {
    pub(crate) anomalies: Vec<Anomaly>,
    pub(crate) summary: TableSummary,
}

/// Everything that shares one normalised key.
struct Slot<'a> {
    key_values: Vec<Value>,
    expected: Vec<&'a ExpectedRow>,
    actual: Vec<&'a Row>,
}

/// Compares one table.
pub(crate) fn compare(table: &TablePlan, expected: &ExpectedTable, actual: &[Row]) -> TableReport {
    let mut slots: BTreeMap<RowKey, Slot<'_>> = BTreeMap::new();
    for row in &expected.rows {
        slot(&mut slots, row.key.clone(), &row.key_values)
            .expected
            .push(row);
    }
    for row in actual {
        let values = key_values(row, &table.key);
        slot(&mut slots, RowKey::from_values(&values), &values)
            .actual
            .push(row);
    }
    let judge = Judge {
        table,
        expected,
        columns: table.compared_columns(),
    };
    let mut found: Vec<(AnomalyClass, &RowKey, Anomaly)> = Vec::new();
    for (key, slot) in &slots {
        for anomaly in judge.slot(key, slot) {
            found.push((anomaly.class, key, anomaly));
        }
    }
    found.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
    let mut summary = TableSummary {
        table: table.name.clone(),
        expected_rows: expected.rows.len(),
        actual_rows: actual.len(),
        anomalies: BTreeMap::new(),
    };
    for (class, _, _) in &found {
        *summary.anomalies.entry(*class).or_insert(0) += 1;
    }
    TableReport {
        anomalies: found.into_iter().map(|(_, _, anomaly)| anomaly).collect(),
        summary,
    }
}

fn slot<'s, 'a>(
    slots: &'s mut BTreeMap<RowKey, Slot<'a>>,
    key: RowKey,
    values: &[Value],
) -> &'s mut Slot<'a> {
    slots.entry(key).or_insert_with(|| Slot {
        key_values: values.to_vec(),
        expected: Vec::new(),
        actual: Vec::new(),
    })
}

struct Judge<'t> {
    table: &'t TablePlan,
    expected: &'t ExpectedTable,
    columns: Vec<String>,
}

impl Judge<'_> {
    fn slot(&self, key: &RowKey, slot: &Slot<'_>) -> Vec<Anomaly> {
        let (exp, act) = (&slot.expected, &slot.actual);
        let anomaly =
            |class, expected: Option<&ExpectedRow>, actual: Option<&Row>, note: String| Anomaly {
                class,
                table: self.table.name.clone(),
                key: key_text(&slot.key_values),
                expected: expected.map(|row| row.row.clone()),
                actual: actual.map(|row| self.project(row)),
                sources: expected.map(|row| row.sources.clone()).unwrap_or_default(),
                note,
            };
        let (first_exp, first_act) = match (exp.first(), act.first()) {
            (Some(first_exp), Some(first_act)) => (*first_exp, *first_act),
            (Some(first_exp), None) => {
                let mut lost = anomaly(
                    AnomalyClass::Lost,
                    Some(first_exp),
                    None,
                    lost_note(exp.len()),
                );
                lost.sources = exp
                    .iter()
                    .flat_map(|row| row.sources.iter().copied())
                    .take(MAX_SOURCES)
                    .collect();
                return vec![lost];
            }
            (None, Some(first_act)) => {
                let phantom = anomaly(AnomalyClass::Phantom, None, Some(*first_act), String::new());
                return vec![self.explain_phantom(key, act.len(), phantom)];
            }
            (None, None) => return Vec::new(), // slots are only created with a row
        };
        let mut found = Vec::new();
        let counts = format!("key present {} times, expected {}", act.len(), exp.len());
        if act.len() > exp.len() {
            let note = if exp.len() == 1 {
                format!("key present {} times", act.len())
            } else {
                counts
            };
            found.push(anomaly(
                AnomalyClass::Duplicated,
                Some(first_exp),
                Some(first_act),
                note,
            ));
        } else if act.len() < exp.len() {
            found.push(anomaly(
                AnomalyClass::Lost,
                Some(first_exp),
                Some(first_act),
                counts,
            ));
        }
        let mut used = vec![false; act.len()];
        let mut unmatched = Vec::new();
        for row in exp {
            match (0..act.len()).find(|&j| !used[j] && self.rows_equal(&row.row, act[j])) {
                Some(j) => used[j] = true,
                None => unmatched.push(*row),
            }
        }
        let leftovers = act
            .iter()
            .zip(&used)
            .filter(|(_, used)| !**used)
            .map(|(row, _)| *row);
        for (row, actual) in unmatched.into_iter().zip(leftovers) {
            let (class, note) = self.classify(row, actual);
            found.push(anomaly(class, Some(row), Some(actual), note));
        }
        found
    }

    /// Fills in the note (and sources) of a phantom, explaining deletions.
    fn explain_phantom(&self, key: &RowKey, count: usize, mut phantom: Anomaly) -> Anomaly {
        phantom.note = match self.expected.deleted.get(key) {
            Some(deleted) => {
                phantom.sources.clone_from(&deleted.sources);
                format!(
                    "the row should be deleted ({}), but the table still has it",
                    deleted.reason
                )
            }
            None if count == 1 => "no input record produces this key".to_string(),
            None => format!("no input record produces this key; the table has it {count} times"),
        };
        phantom
    }

    /// Names the kind of value difference and the columns that differ.
    fn classify(&self, expected: &ExpectedRow, actual: &Row) -> (AnomalyClass, String) {
        let differing: Vec<&str> = expected
            .row
            .iter()
            .filter(|(column, value)| {
                !cells_equal(value, cell(actual, column), self.table.tolerance)
            })
            .map(|(column, _)| column.as_str())
            .collect();
        let differing = differing.join(", ");
        match &self.table.rules {
            TableRules::Aggregate(_) => (
                AnomalyClass::WrongAggregate,
                format!("values differ in: {differing}"),
            ),
            TableRules::Upsert(_) => match expected
                .older
                .iter()
                .find(|old| self.rows_equal(&old.row, actual))
            {
                Some(old) => {
                    let latest = expected.latest.as_deref().unwrap_or("the latest record");
                    (
                        AnomalyClass::StaleValue,
                        format!("table holds {} but the latest is {latest}", old.label),
                    )
                }
                None => (
                    AnomalyClass::WrongValue,
                    format!("values differ in: {differing}"),
                ),
            },
            TableRules::Insert | TableRules::Command => (
                AnomalyClass::WrongValue,
                format!("values differ in: {differing}"),
            ),
        }
    }

    fn rows_equal(&self, expected: &Row, actual: &Row) -> bool {
        expected
            .iter()
            .all(|(column, value)| cells_equal(value, cell(actual, column), self.table.tolerance))
    }

    /// The compared columns of an actual row (others are not reported).
    fn project(&self, row: &Row) -> Row {
        self.columns
            .iter()
            .filter_map(|column| row.get(column).map(|value| (column.clone(), value.clone())))
            .collect()
    }
}

fn cell<'r>(row: &'r Row, column: &str) -> &'r Value {
    row.get(column).unwrap_or(&Value::Null)
}

fn lost_note(expected: usize) -> String {
    if expected == 1 {
        "the expected row is not in the table".to_string()
    } else {
        format!("{expected} rows expected with this key; the table has none")
    }
}
