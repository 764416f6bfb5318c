//! `mode = "aggregate"`: one row per group of selected events.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::{eval_row, selected, ExpectedRow, ExpectedTable};
use crate::aggregate::Accumulator;
use crate::key::{key_values, RowKey};
use crate::plan::{AggregateRules, TablePlan};
use crate::record::{Event, MAX_SOURCES};

struct Group {
    values: Map<String, Value>,
    accumulators: Vec<Accumulator>,
    sources: Vec<(i32, i64)>,
}

pub(super) fn build(
    table: &TablePlan,
    rules: &AggregateRules,
    events: &[Event<'_>],
) -> ExpectedTable {
    let group_columns: Vec<String> = rules
        .group_by
        .iter()
        .map(|(name, _)| name.clone())
        .collect();
    let mut groups: BTreeMap<RowKey, Group> = BTreeMap::new();
    for (event, value) in selected(table, events) {
        let values = eval_row(&rules.group_by, value);
        let group = groups
            .entry(RowKey::from_values(&key_values(&values, &group_columns)))
            .or_insert_with(|| Group {
                values,
                accumulators: rules
                    .aggregates
                    .iter()
                    .map(|(_, func)| func.start())
                    .collect(),
                sources: Vec::new(),
            });
        for ((_, func), accumulator) in rules.aggregates.iter().zip(&mut group.accumulators) {
            accumulator.add(func, value);
        }
        let room = MAX_SOURCES.saturating_sub(group.sources.len());
        group.sources.extend(event.sources.iter().take(room));
    }
    let rows = groups
        .into_values()
        .map(|group| {
            let mut row = group.values;
            for ((name, _), accumulator) in rules.aggregates.iter().zip(group.accumulators) {
                row.insert(name.clone(), accumulator.finish());
            }
            ExpectedRow::plain(&table.key, row, group.sources)
        })
        .collect();
    ExpectedTable {
        rows,
        ..ExpectedTable::default()
    }
}
