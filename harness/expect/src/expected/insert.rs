//! `mode = "insert"`: one row per logical event.

use super::{eval_row, selected, ExpectedRow, ExpectedTable};
use crate::plan::TablePlan;
use crate::record::Event;

pub(super) fn build(table: &TablePlan, events: &[Event<'_>]) -> ExpectedTable {
    let rows = selected(table, events)
        .map(|(event, value)| {
            let row = eval_row(&table.columns, value);
            ExpectedRow::plain(&table.key, row, event.sources.clone())
        })
        .collect();
    ExpectedTable {
        rows,
        ..ExpectedTable::default()
    }
}
