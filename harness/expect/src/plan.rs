//! The validated, parsed form of an [`ExpectSpec`](crate::ExpectSpec) that
//! the builders work from. Built by `validate.rs`.

use crate::aggregate::AggregateFn;
use crate::expr::{Expr, FieldPath};

/// The `order_by` value meaning partition order.
pub(crate) const OFFSET_ORDER: &str = "offset";

/// All declarations, parsed.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub(crate) identity: Vec<FieldPath>,
    /// `valid`: records whose value it does not accept are left out.
    pub(crate) valid: Option<Expr>,
    pub(crate) tables: Vec<TablePlan>,
}

/// One table, parsed.
#[derive(Debug, Clone)]
pub(crate) struct TablePlan {
    pub(crate) name: String,
    /// Key columns, in declared order.
    pub(crate) key: Vec<String>,
    /// Insert and upsert columns (empty for aggregate tables).
    pub(crate) columns: Vec<(String, Expr)>,
    pub(crate) filter: Option<Expr>,
    pub(crate) tolerance: f64,
    pub(crate) rules: TableRules,
}

/// The mode-specific part of a table.
#[derive(Debug, Clone)]
pub(crate) enum TableRules {
    Insert,
    Upsert(UpsertRules),
    Aggregate(AggregateRules),
    /// The rows come from the table's `command` output, handed to
    /// [`check_with`](crate::check_with) by the harness.
    Command,
}

/// How the latest record per key is chosen and when a key is deleted.
#[derive(Debug, Clone)]
pub(crate) struct UpsertRules {
    pub(crate) order_by: OrderBy,
    pub(crate) delete_when: Option<Expr>,
    /// The key column a tombstone's Kafka key stands for.
    pub(crate) kafka_key: Option<String>,
}

/// What "newer" means for an upsert table.
#[derive(Debug, Clone)]
pub(crate) enum OrderBy {
    /// Later `(partition, offset)` wins.
    Offset,
    /// The greater field value wins; ties go to the later sent.
    Field(FieldPath),
}

/// Grouping and aggregates of an aggregate table.
#[derive(Debug, Clone)]
pub(crate) struct AggregateRules {
    pub(crate) group_by: Vec<(String, Expr)>,
    pub(crate) aggregates: Vec<(String, AggregateFn)>,
}

impl TablePlan {
    /// Columns compared between expected and actual rows.
    pub(crate) fn compared_columns(&self) -> Vec<String> {
        match &self.rules {
            TableRules::Aggregate(rules) => rules
                .group_by
                .iter()
                .map(|(name, _)| name)
                .chain(rules.aggregates.iter().map(|(name, _)| name))
                .cloned()
                .collect(),
            _ => self.columns.iter().map(|(name, _)| name.clone()).collect(),
        }
    }
}
