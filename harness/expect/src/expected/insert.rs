//! `mode = "insert"`: one row per logical event.

use super::{eval_row, selected, ExpectedRow, ExpectedTable};
use crate::key::{key_values, RowKey};
use crate::plan::TablePlan;
use crate::record::Event;

pub(super) fn build(table: &TablePlan, events: &[Event<'_>]) -> ExpectedTable {
    let rows = selected(table, events)
        .map(|(event, value)| {
            let row = eval_row(&table.columns, value);
            let key_values = key_values(&row, &table.key);
            ExpectedRow {
                key: RowKey::from_values(&key_values),
                key_values,
                row,
                sources: event.sources.clone(),
                latest: None,
                older: Vec::new(),
            }
        })
        .collect();
    ExpectedTable {
        rows,
        ..ExpectedTable::default()
    }
}
