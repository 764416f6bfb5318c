//! Helpers shared by the unit tests.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::{check, Anomaly, AnomalyClass, ExpectSpec, InputRecord, Outcome};

/// The manifest example from the crate's brief.
pub(crate) const EXAMPLE_TOML: &str = r#"
[expect]
identity = ["order_id", "version"]

[[expect.table]]
table = "orders"
mode = "upsert"
key = ["order_id"]
order_by = "version"
delete_when = "status == 'deleted'"
kafka_key = ["order_id"]
[expect.table.columns]
order_id = "order_id"
status = "status"
amount_cents = "amount_cents"
total_eur = "amount_cents / 100"

[[expect.table]]
table = "order_events"
mode = "insert"
key = ["order_id", "version"]
columns = { order_id = "order_id", version = "version", status = "status" }

[[expect.table]]
table = "order_status_counts"
mode = "aggregate"
key = ["status"]
group_by = { status = "status" }
aggregates = { events = "count", total = "sum(amount_cents)", top = "max(version)", low = "min(version)" }
tolerance = 0.0
where = "status != 'draft'"
"#;

/// Parses an `[expect]` section out of manifest text.
pub(crate) fn spec_from_toml(text: &str) -> ExpectSpec {
    #[derive(Deserialize)]
    struct Manifest {
        expect: ExpectSpec,
    }
    toml::from_str::<Manifest>(text)
        .expect("test manifest parses")
        .expect
}

/// The parsed example manifest.
pub(crate) fn example_spec() -> ExpectSpec {
    spec_from_toml(EXAMPLE_TOML)
}

/// A record with a value; its Kafka key is the value's `order_id`, if any.
pub(crate) fn rec(partition: i32, offset: i64, value: Value) -> InputRecord {
    let key = value
        .get("order_id")
        .and_then(Value::as_str)
        .map(|k| k.as_bytes().to_vec());
    InputRecord {
        partition,
        offset,
        key,
        value: Some(value),
        sent_at_ms: 0,
    }
}

/// A tombstone for a Kafka key.
pub(crate) fn tombstone(partition: i32, offset: i64, key: &str) -> InputRecord {
    InputRecord {
        partition,
        offset,
        key: Some(key.as_bytes().to_vec()),
        value: None,
        sent_at_ms: 0,
    }
}

/// A table row from a JSON object literal.
pub(crate) fn row(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => panic!("row must be an object: {other}"),
    }
}

/// Actual rows for one table.
pub(crate) fn table(name: &str, rows: Vec<Value>) -> BTreeMap<String, Vec<Map<String, Value>>> {
    BTreeMap::from([(name.to_string(), rows.into_iter().map(row).collect())])
}

/// Runs `check` and fails the test on error.
pub(crate) fn run(
    spec: &ExpectSpec,
    records: &[InputRecord],
    actual: &BTreeMap<String, Vec<Map<String, Value>>>,
) -> Outcome {
    check(spec, records, actual).expect("check runs")
}

/// `(class, key)` of every anomaly, in report order.
pub(crate) fn classes(outcome: &Outcome) -> Vec<(AnomalyClass, String)> {
    outcome
        .anomalies
        .iter()
        .map(|a| (a.class, a.key.clone()))
        .collect()
}

/// The only anomaly of an outcome.
pub(crate) fn single(outcome: &Outcome) -> &Anomaly {
    assert_eq!(outcome.anomalies.len(), 1, "{:#?}", outcome.anomalies);
    &outcome.anomalies[0]
}
