//! The `[expect]` section of a manifest, as written by the user.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::aggregate::AggregateFn;
use crate::error::ExpectError;
use crate::expr::{Expr, FieldPath};
use crate::mode::Mode;
use crate::plan::{Plan, OFFSET_ORDER};
use crate::record::InputRecord;

/// The `[expect]` section: how to identify events and what each table must hold.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectSpec {
    /// Value field paths identifying one logical event; records with equal
    /// identity are one event (the first sent is kept). Empty: every record
    /// is its own event.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub identity: Vec<String>,
    /// Predicate a record value must satisfy to be valid. Records it rejects
    /// (and tombstones it cannot judge are kept) are the pipeline's to
    /// dead-letter: no table is built from them. Default: every record valid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid: Option<String>,
    /// One entry per `[[expect.table]]`.
    #[serde(default, rename = "table")]
    pub tables: Vec<TableSpec>,
    /// `[expect.dead_letter]`: where refused records go, judged by the `dead_letters` check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dead_letter: Option<crate::DeadLetterSpec>,
}

/// One `[[expect.table]]`: a pipeline output table and how to predict it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableSpec {
    /// The Postgres table name.
    pub table: String,
    /// `insert`, `upsert` or `aggregate`.
    pub mode: Mode,
    /// Columns identifying a row; among `columns` (or `group_by` keys).
    #[serde(default)]
    pub key: Vec<String>,
    /// Upsert only: field path deciding which record is newest, or
    /// `"offset"` for partition order. Default `"offset"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_by: Option<String>,
    /// Upsert only: predicate; a key whose newest record matches it has no row.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete_when: Option<String>,
    /// Upsert only: the key column the Kafka record key stands for, so that
    /// tombstones can delete rows (one column).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kafka_key: Option<Vec<String>>,
    /// Absolute numeric tolerance for compared cells. Default 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerance: Option<f64>,
    /// Predicate selecting the records this table is built from.
    #[serde(default, rename = "where", skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    /// Insert and upsert: table column → expression over the record value.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub columns: BTreeMap<String, String>,
    /// Aggregate only: grouping column → expression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_by: Option<BTreeMap<String, String>>,
    /// Aggregate only: column → `count`, `sum(e)`, `min(e)`, `max(e)` or `avg(e)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aggregates: Option<BTreeMap<String, String>>,
    /// Command only: the program (and its arguments) that reads the run's input records and
    /// prints the rows the table must hold, one JSON object per line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<Vec<String>>,
}

impl TableSpec {
    /// The columns compared in this table: `columns`, then `group_by`, then
    /// `aggregates` names; for a `command` table its key (the rest is what the program prints).
    pub fn compared_columns(&self) -> Vec<String> {
        if self.mode == Mode::Command {
            return self.key.clone();
        }
        let groups = self.group_by.iter().flat_map(BTreeMap::keys);
        let aggregates = self.aggregates.iter().flat_map(BTreeMap::keys);
        self.columns
            .keys()
            .chain(groups)
            .chain(aggregates)
            .cloned()
            .collect()
    }

    /// Every expression text with what it is: (kind, text).
    fn expressions(&self) -> impl Iterator<Item = (ExprKind, &String)> {
        let plain = self
            .columns
            .values()
            .chain(self.group_by.iter().flat_map(BTreeMap::values))
            .chain(&self.filter)
            .chain(&self.delete_when)
            .map(|text| (ExprKind::Plain, text));
        let order = self.order_by.iter().map(|text| (ExprKind::Order, text));
        let aggregates = self
            .aggregates
            .iter()
            .flat_map(BTreeMap::values)
            .map(|text| (ExprKind::Aggregate, text));
        plain.chain(order).chain(aggregates)
    }
}

#[derive(Clone, Copy)]
enum ExprKind {
    Plain,
    Order,
    Aggregate,
}

impl ExpectSpec {
    /// Checks the declarations; errors name the table index, the field and the fix.
    pub fn validate(&self) -> Result<(), ExpectError> {
        Plan::compile(self).map(|_| ())
    }

    /// Table → columns to compare, so the harness can check they exist.
    pub fn columns(&self) -> BTreeMap<String, Vec<String>> {
        self.tables
            .iter()
            .map(|table| (table.table.clone(), table.compared_columns()))
            .collect()
    }

    /// Field paths read by the declarations that no record value contains,
    /// sorted. Unparsable expressions are skipped (`validate` reports them);
    /// with no non-tombstone records there is no evidence, so nothing is listed.
    pub fn fields_never_seen(&self, records: &[InputRecord]) -> Vec<String> {
        let values: Vec<&Value> = records.iter().filter_map(|r| r.value.as_ref()).collect();
        if values.is_empty() {
            return Vec::new();
        }
        let unseen: BTreeSet<String> = self
            .field_paths()
            .into_iter()
            .filter(|path| !values.iter().any(|value| path.present_in(value)))
            .map(|path| path.to_string())
            .collect();
        unseen.into_iter().collect()
    }

    fn field_paths(&self) -> Vec<FieldPath> {
        let mut paths: Vec<FieldPath> = self
            .identity
            .iter()
            .filter_map(|p| FieldPath::parse(p).ok())
            .collect();
        if let Some(expr) = self.valid.as_deref().and_then(|t| Expr::parse(t).ok()) {
            paths.extend(expr.field_paths().into_iter().cloned());
        }
        for (kind, text) in self.tables.iter().flat_map(TableSpec::expressions) {
            match kind {
                ExprKind::Plain => {
                    if let Ok(expr) = Expr::parse(text) {
                        paths.extend(expr.field_paths().into_iter().cloned());
                    }
                }
                ExprKind::Order if text != OFFSET_ORDER => {
                    paths.extend(FieldPath::parse(text).ok())
                }
                ExprKind::Order => {}
                ExprKind::Aggregate => {
                    if let Some(expr) = AggregateFn::parse(text)
                        .ok()
                        .as_ref()
                        .and_then(AggregateFn::argument)
                    {
                        paths.extend(expr.field_paths().into_iter().cloned());
                    }
                }
            }
        }
        paths
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{example_spec, rec, tombstone, EXAMPLE_TOML};
    use serde_json::json;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Manifest {
        expect: ExpectSpec,
    }

    #[test]
    fn example_manifest_parses_and_round_trips() {
        let manifest: Manifest = toml::from_str(EXAMPLE_TOML).expect("example parses");
        let spec = &manifest.expect;
        assert_eq!(spec.identity, vec!["order_id", "version"]);
        assert_eq!(spec.tables.len(), 3);
        let orders = &spec.tables[0];
        assert_eq!(
            (orders.table.as_str(), &orders.mode),
            ("orders", &Mode::Upsert)
        );
        assert_eq!(orders.order_by.as_deref(), Some("version"));
        assert_eq!(orders.delete_when.as_deref(), Some("status == 'deleted'"));
        assert_eq!(orders.kafka_key, Some(vec!["order_id".to_string()]));
        assert_eq!(orders.columns["total_eur"], "amount_cents / 100");
        let counts = &spec.tables[2];
        assert_eq!(counts.mode, Mode::Aggregate);
        assert_eq!(counts.filter.as_deref(), Some("status != 'draft'"));
        assert_eq!(counts.tolerance, Some(0.0));
        assert_eq!(
            counts.aggregates.as_ref().map(|a| a["total"].as_str()),
            Some("sum(amount_cents)")
        );
        spec.validate().expect("example is valid");

        let text = toml::to_string(&manifest).expect("serializes");
        let again: Manifest = toml::from_str(&text).expect("reparses");
        assert_eq!(again, manifest);
    }

    #[test]
    fn unknown_fields_are_rejected() {
        let err = toml::from_str::<Manifest>(
            "[expect]\n[[expect.table]]\ntable = 't'\nmode = 'insert'\nkeys = ['a']\n",
        )
        .expect_err("typo in key");
        assert!(err.to_string().contains("unknown field `keys`"), "{err}");
    }

    #[test]
    fn columns_lists_compared_columns_per_table() {
        let columns = example_spec().columns();
        assert_eq!(
            columns["orders"],
            vec!["amount_cents", "order_id", "status", "total_eur"]
        );
        assert_eq!(
            columns["order_events"],
            vec!["order_id", "status", "version"]
        );
        assert_eq!(
            columns["order_status_counts"],
            vec!["status", "events", "low", "top", "total"]
        );
    }

    #[test]
    fn fields_never_seen_lists_paths_absent_from_every_record() {
        let mut spec = example_spec();
        spec.tables[1]
            .columns
            .insert("sku".into(), "coalesce(items[0].sku, legacy_sku)".into());
        let records = vec![
            rec(
                0,
                0,
                json!({"order_id": "o-1", "version": 1, "status": "new", "amount_cents": 5}),
            ),
            rec(
                0,
                1,
                json!({"order_id": "o-2", "version": 1, "status": "new", "items": [{"sku": "s"}]}),
            ),
            tombstone(0, 2, "o-1"),
        ];
        assert_eq!(spec.fields_never_seen(&records), vec!["legacy_sku"]);
        assert!(spec.fields_never_seen(&[tombstone(0, 0, "o-1")]).is_empty());
        spec.tables[0].order_by = Some("revision".into());
        assert_eq!(
            spec.fields_never_seen(&records),
            vec!["legacy_sku", "revision"]
        );
    }
}
