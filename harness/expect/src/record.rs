//! Input records as the harness sent them, and their folding into logical
//! events by identity.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::expr::FieldPath;
use crate::key::RowKey;

/// Most record positions kept per expected row or anomaly.
pub(crate) const MAX_SOURCES: usize = 5;

/// One Kafka record the harness produced, in send order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputRecord {
    /// Kafka partition.
    pub partition: i32,
    /// Offset within the partition.
    pub offset: i64,
    /// Record key bytes (UTF-8 text for tombstone matching).
    pub key: Option<Vec<u8>>,
    /// Record value; `None` is a tombstone.
    pub value: Option<Value>,
    /// When the harness sent it, in Unix milliseconds.
    pub sent_at_ms: u64,
}

impl InputRecord {
    /// `(partition, offset)`, the record's position in Kafka.
    pub fn position(&self) -> (i32, i64) {
        (self.partition, self.offset)
    }
}

/// One logical event: the first record of an identity, plus the positions
/// of it and of the duplicates folded into it.
#[derive(Debug, Clone)]
pub(crate) struct Event<'r> {
    pub(crate) record: &'r InputRecord,
    /// Index in send order among events.
    pub(crate) seq: usize,
    pub(crate) sources: Vec<(i32, i64)>,
}

/// Folds records with equal identity into one event, keeping the first by
/// send order. Tombstones and an empty identity never fold.
pub(crate) fn fold_events<'r>(
    identity: &[FieldPath],
    records: &'r [InputRecord],
) -> Vec<Event<'r>> {
    let mut events: Vec<Event<'r>> = Vec::new();
    let mut seen: BTreeMap<RowKey, usize> = BTreeMap::new();
    for record in records {
        if let (Some(value), false) = (&record.value, identity.is_empty()) {
            let tuple: Vec<Value> = identity
                .iter()
                .map(|path| path.lookup(value).cloned().unwrap_or(Value::Null))
                .collect();
            let key = RowKey::from_values(&tuple);
            if let Some(&index) = seen.get(&key) {
                let sources = &mut events[index].sources;
                if sources.len() < MAX_SOURCES {
                    sources.push(record.position());
                }
                continue;
            }
            seen.insert(key, events.len());
        }
        events.push(Event {
            record,
            seq: events.len(),
            sources: vec![record.position()],
        });
    }
    events
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{rec, tombstone};
    use serde_json::json;

    #[test]
    fn duplicates_fold_into_the_first_sent() {
        let identity = vec![
            FieldPath::parse("order_id").expect("path"),
            FieldPath::parse("version").expect("path"),
        ];
        let records = vec![
            rec(
                0,
                0,
                json!({"order_id": "o-1", "version": 1, "status": "new"}),
            ),
            rec(
                0,
                1,
                json!({"order_id": "o-1", "version": 2, "status": "paid"}),
            ),
            rec(
                1,
                0,
                json!({"order_id": "o-1", "version": 1.0, "status": "resent"}),
            ),
            tombstone(0, 2, "o-1"),
            tombstone(0, 3, "o-1"),
        ];
        let events = fold_events(&identity, &records);
        let summary: Vec<_> = events
            .iter()
            .map(|e| (e.seq, e.record.position(), e.sources.clone()))
            .collect();
        assert_eq!(
            summary,
            vec![
                (0, (0, 0), vec![(0, 0), (1, 0)]),
                (1, (0, 1), vec![(0, 1)]),
                (2, (0, 2), vec![(0, 2)]),
                (3, (0, 3), vec![(0, 3)]),
            ]
        );
        assert_eq!(
            events[0].record.value,
            Some(json!({"order_id": "o-1", "version": 1, "status": "new"}))
        );
    }

    #[test]
    fn empty_identity_keeps_every_record() {
        let records = vec![rec(0, 0, json!({"a": 1})), rec(0, 1, json!({"a": 1}))];
        assert_eq!(fold_events(&[], &records).len(), 2);
    }
}
