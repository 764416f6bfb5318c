//! Row keys in normal form, so that expected and actual rows line up even
//! when one side says `3` and the other `3.0` or `"3"`.

use std::cmp::Ordering;

use serde_json::{Map, Value};

use crate::normal::parse_instant;
use crate::num::Num;

/// One key value in normal form, totally ordered.
#[derive(Debug, Clone)]
pub(crate) enum KeyAtom {
    /// JSON null or a missing field.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer, including integral floats and integer text.
    Int(i64),
    /// A non-integral number.
    Float(f64),
    /// An RFC 3339 timestamp, as nanoseconds since the epoch.
    Instant(i128),
    /// Any other string.
    Text(String),
    /// Arrays and objects, by their JSON text.
    Json(String),
}

impl KeyAtom {
    /// The normal form of one value.
    pub(crate) fn from_value(value: &Value) -> KeyAtom {
        match value {
            Value::Null => KeyAtom::Null,
            Value::Bool(b) => KeyAtom::Bool(*b),
            Value::Number(_) => Num::from_json(value).map_or(KeyAtom::Null, KeyAtom::from_num),
            Value::String(text) => {
                if let Some(num) = Num::from_text(text) {
                    KeyAtom::from_num(num)
                } else if let Some(instant) = parse_instant(text) {
                    KeyAtom::Instant(instant)
                } else {
                    KeyAtom::Text(text.clone())
                }
            }
            other => KeyAtom::Json(other.to_string()),
        }
    }

    fn from_num(num: Num) -> KeyAtom {
        match num.normalized() {
            Num::Int(i) => KeyAtom::Int(i),
            Num::Float(f) => KeyAtom::Float(f),
        }
    }

    /// Order between kinds: null, booleans, numbers, instants, text, JSON.
    fn rank(&self) -> u8 {
        match self {
            KeyAtom::Null => 0,
            KeyAtom::Bool(_) => 1,
            KeyAtom::Int(_) | KeyAtom::Float(_) => 2,
            KeyAtom::Instant(_) => 3,
            KeyAtom::Text(_) => 4,
            KeyAtom::Json(_) => 5,
        }
    }
}

impl Ord for KeyAtom {
    fn cmp(&self, other: &Self) -> Ordering {
        use KeyAtom::*;
        match (self, other) {
            (Int(a), Int(b)) => a.cmp(b),
            (Float(a), Float(b)) => a.total_cmp(b),
            // Normalisation keeps integral floats out of `Float`, so a tie
            // here is float rounding; break it the same way both ways round.
            (Int(a), Float(b)) => (*a as f64).total_cmp(b).then(Ordering::Less),
            (Float(a), Int(b)) => a.total_cmp(&(*b as f64)).then(Ordering::Greater),
            (Bool(a), Bool(b)) => a.cmp(b),
            (Instant(a), Instant(b)) => a.cmp(b),
            (Text(a), Text(b)) | (Json(a), Json(b)) => a.cmp(b),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

impl PartialOrd for KeyAtom {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for KeyAtom {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for KeyAtom {}

/// The normal form of a whole key (or identity) tuple.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct RowKey(Vec<KeyAtom>);

impl RowKey {
    /// Normalises a tuple of values.
    pub(crate) fn from_values(values: &[Value]) -> RowKey {
        RowKey(values.iter().map(KeyAtom::from_value).collect())
    }

    /// The atom at one position of the tuple.
    pub(crate) fn atom(&self, index: usize) -> Option<&KeyAtom> {
        self.0.get(index)
    }
}

/// The values of `columns` in `row`, null where a column is missing.
pub(crate) fn key_values(row: &Map<String, Value>, columns: &[String]) -> Vec<Value> {
    columns
        .iter()
        .map(|column| row.get(column).cloned().unwrap_or(Value::Null))
        .collect()
}

/// The key as reported in anomalies: JSON array text, e.g. `["o-1",3]`.
pub(crate) fn key_text(values: &[Value]) -> String {
    Value::Array(values.to_vec()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn equal_numbers_in_any_spelling_are_one_key() {
        let int = RowKey::from_values(&[json!("o-1"), json!(3)]);
        assert_eq!(int, RowKey::from_values(&[json!("o-1"), json!(3.0)]));
        assert_eq!(int, RowKey::from_values(&[json!("o-1"), json!("3")]));
        assert_ne!(int, RowKey::from_values(&[json!("o-1"), json!(3.5)]));
    }

    #[test]
    fn timestamps_are_one_key_per_instant() {
        let utc = RowKey::from_values(&[json!("2024-05-01T10:00:00Z")]);
        assert_eq!(
            utc,
            RowKey::from_values(&[json!("2024-05-01T12:00:00+02:00")])
        );
    }

    #[test]
    fn keys_order_numbers_numerically_and_kinds_stably() {
        let mut keys = vec![
            json!("b"),
            json!(10),
            json!(2.5),
            json!(null),
            json!(2),
            json!("a"),
        ];
        keys.sort_by_key(KeyAtom::from_value);
        assert_eq!(
            keys,
            vec![
                json!(null),
                json!(2),
                json!(2.5),
                json!(10),
                json!("a"),
                json!("b")
            ]
        );
    }

    #[test]
    fn key_text_is_a_json_array() {
        assert_eq!(key_text(&[json!("o-1"), json!(3)]), r#"["o-1",3]"#);
    }
}
