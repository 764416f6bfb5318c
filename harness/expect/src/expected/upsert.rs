//! `mode = "upsert"`: one row per key, from its newest write.
//!
//! Every selected record is a write to its key, ranked by `order_by`.
//! A tombstone is a delete ranked just after the newest write of the key sent
//! before it, so a record that is sent later and is newer recreates the row.
//! The highest-ranked write decides: a delete (tombstone, or a record
//! matching `delete_when`) means no row, otherwise its row is expected.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::{eval_row, DeletedKey, ExpectedRow, ExpectedTable, OlderRow};
use crate::key::{key_values, KeyAtom, RowKey};
use crate::plan::{OrderBy, TablePlan, UpsertRules};
use crate::record::{Event, MAX_SOURCES};

/// Position of a write in "newer" order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Rank {
    /// The `order_by` field value (null in offset order).
    order: KeyAtom,
    /// Offset order: partition; field order: send sequence (tie-break).
    major: i64,
    /// Offset order: offset; field order: 0.
    minor: i64,
}

enum WriteKind {
    Row {
        row: Map<String, Value>,
        deletes: bool,
        label: String,
    },
    Tombstone,
}

struct Write<'e> {
    rank: Rank,
    event: &'e Event<'e>,
    kind: WriteKind,
}

struct History<'e> {
    key_values: Vec<Value>,
    writes: Vec<Write<'e>>,
}

pub(super) fn build<'e>(
    table: &TablePlan,
    rules: &UpsertRules,
    events: &'e [Event<'e>],
) -> ExpectedTable {
    let kafka_index = rules
        .kafka_key
        .as_ref()
        .and_then(|column| table.key.iter().position(|k| k == column));
    let mut keys: BTreeMap<RowKey, History<'e>> = BTreeMap::new();
    for event in events {
        let Some(value) = &event.record.value else {
            if let (Some(index), Some(column), Some(raw)) =
                (kafka_index, &rules.kafka_key, &event.record.key)
            {
                delete_by_kafka_key(
                    &mut keys,
                    rules,
                    event,
                    index,
                    &kafka_key_value(raw, column),
                );
            }
            continue;
        };
        if table
            .filter
            .as_ref()
            .is_some_and(|filter| !filter.matches(value))
        {
            continue;
        }
        let row = eval_row(&table.columns, value);
        let key_values = key_values(&row, &table.key);
        let (rank, label) = record_rank(rules, event, value);
        let deletes = rules.delete_when.as_ref().is_some_and(|p| p.matches(value));
        keys.entry(RowKey::from_values(&key_values))
            .or_insert_with(|| History {
                key_values,
                writes: Vec::new(),
            })
            .writes
            .push(Write {
                rank,
                event,
                kind: WriteKind::Row {
                    row,
                    deletes,
                    label,
                },
            });
    }
    let mut expected = ExpectedTable::default();
    for (key, history) in keys {
        settle(key, history, &mut expected);
    }
    expected
}

fn record_rank(rules: &UpsertRules, event: &Event<'_>, value: &Value) -> (Rank, String) {
    let (partition, offset) = event.record.position();
    match &rules.order_by {
        OrderBy::Offset => (
            offset_rank(partition, offset),
            format!("record {partition}:{offset}"),
        ),
        OrderBy::Field(path) => {
            let order = path.lookup(value).cloned().unwrap_or(Value::Null);
            let rank = Rank {
                order: KeyAtom::from_value(&order),
                major: seq(event),
                minor: 0,
            };
            (
                rank,
                format!("{path} = {order} (record {partition}:{offset})"),
            )
        }
    }
}

fn offset_rank(partition: i32, offset: i64) -> Rank {
    Rank {
        order: KeyAtom::Null,
        major: i64::from(partition),
        minor: offset,
    }
}

fn seq(event: &Event<'_>) -> i64 {
    i64::try_from(event.seq).unwrap_or(i64::MAX)
}

/// Adds a delete to every key whose `kafka_key` column equals the record key.
fn delete_by_kafka_key<'e>(
    keys: &mut BTreeMap<RowKey, History<'e>>,
    rules: &UpsertRules,
    event: &'e Event<'e>,
    index: usize,
    target: &Value,
) {
    let target = KeyAtom::from_value(target);
    for (key, history) in keys.iter_mut() {
        if key.atom(index) != Some(&target) {
            continue;
        }
        let rank = match rules.order_by {
            OrderBy::Offset => {
                let (partition, offset) = event.record.position();
                offset_rank(partition, offset)
            }
            OrderBy::Field(_) => Rank {
                order: history
                    .writes
                    .iter()
                    .map(|w| w.rank.order.clone())
                    .max()
                    .unwrap_or(KeyAtom::Null),
                major: seq(event),
                minor: 0,
            },
        };
        history.writes.push(Write {
            rank,
            event,
            kind: WriteKind::Tombstone,
        });
    }
}

/// The Kafka key as a value: JSON scalars (`42`, `"o-1"`) and members of a
/// JSON object key are decoded, anything else is taken as UTF-8 text.
fn kafka_key_value(raw: &[u8], column: &str) -> Value {
    let text = String::from_utf8_lossy(raw);
    match serde_json::from_str::<Value>(&text) {
        Ok(value @ (Value::String(_) | Value::Number(_))) => value,
        Ok(Value::Object(mut fields)) if fields.contains_key(column) => {
            fields.remove(column).unwrap_or(Value::Null)
        }
        _ => Value::String(text.into_owned()),
    }
}

/// Decides one key from its writes.
fn settle(key: RowKey, history: History<'_>, expected: &mut ExpectedTable) {
    let mut writes = history.writes;
    writes.sort_by(|a, b| b.rank.cmp(&a.rank)); // newest first
    let sources: Vec<(i32, i64)> = writes
        .iter()
        .flat_map(|w| w.event.sources.iter().copied())
        .take(MAX_SOURCES)
        .collect();
    let mut writes = writes.into_iter();
    let Some(latest) = writes.next() else {
        return;
    };
    let (partition, offset) = latest.event.record.position();
    let (row, label) = match latest.kind {
        WriteKind::Tombstone => {
            let reason = format!("tombstone at {partition}:{offset}");
            expected.deleted.insert(key, DeletedKey { reason, sources });
            return;
        }
        WriteKind::Row { deletes: true, .. } => {
            let reason = format!("the latest record, {partition}:{offset}, matches delete_when");
            expected.deleted.insert(key, DeletedKey { reason, sources });
            return;
        }
        WriteKind::Row { row, label, .. } => (row, label),
    };
    let older = writes
        .filter_map(|w| match w.kind {
            WriteKind::Row {
                row,
                deletes: false,
                label,
            } => Some(OlderRow { row, label }),
            _ => None,
        })
        .collect();
    expected.rows.push(ExpectedRow {
        key,
        key_values: history.key_values,
        row,
        sources,
        latest: Some(label),
        older,
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn kafka_keys_decode_json_scalars_and_object_members() {
        assert_eq!(kafka_key_value(b"o-1", "order_id"), json!("o-1"));
        assert_eq!(kafka_key_value(b"\"o-1\"", "order_id"), json!("o-1"));
        assert_eq!(kafka_key_value(b"42", "order_id"), json!(42));
        assert_eq!(
            kafka_key_value(br#"{"order_id":"o-7"}"#, "order_id"),
            json!("o-7")
        );
        assert_eq!(
            kafka_key_value(br#"{"id":1}"#, "order_id"),
            json!(r#"{"id":1}"#)
        );
    }
}
