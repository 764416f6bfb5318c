//! `mode = "upsert"` tables: ordering, staleness and deletes.

use serde_json::{json, Value};

use crate::test_support::{example_spec, rec, run, single, table, tombstone};
use crate::{AnomalyClass, ExpectSpec, Outcome};

/// The example's `orders` table alone (upsert by `version`).
fn orders_spec() -> ExpectSpec {
    let mut spec = example_spec();
    spec.tables.truncate(1);
    spec
}

fn order(id: &str, version: i64, status: &str, cents: i64) -> Value {
    json!({"order_id": id, "version": version, "status": status, "amount_cents": cents})
}

/// The row the pipeline should write for `order(id, _, status, cents)`.
fn orders_row(id: &str, status: &str, cents: i64) -> Value {
    json!({"order_id": id, "status": status, "amount_cents": cents, "total_eur": cents as f64 / 100.0,
           "updated_at": "2024-05-01T10:00:00+00:00"})
}

fn check_orders(spec: &ExpectSpec, records: &[crate::InputRecord], rows: Vec<Value>) -> Outcome {
    run(spec, records, &table("orders", rows))
}

#[test]
fn newest_version_wins_even_when_it_arrives_first() {
    let records = vec![
        rec(0, 0, order("o-1", 2, "paid", 1999)),
        rec(0, 1, order("o-1", 1, "new", 1999)),
    ];
    let outcome = check_orders(
        &orders_spec(),
        &records,
        vec![orders_row("o-1", "paid", 1999)],
    );
    assert!(outcome.is_clean(), "{:#?}", outcome.anomalies);
    assert_eq!(outcome.tables[0].expected_rows, 1);
}

#[test]
fn an_older_version_in_the_table_is_stale() {
    let records = vec![
        rec(0, 0, order("o-1", 2, "paid", 1999)),
        rec(0, 1, order("o-1", 1, "new", 1999)),
    ];
    let outcome = check_orders(
        &orders_spec(),
        &records,
        vec![orders_row("o-1", "new", 1999)],
    );
    let stale = single(&outcome);
    assert_eq!(stale.class, AnomalyClass::StaleValue);
    assert_eq!(
        stale.note,
        "table holds version = 1 (record 0:1) but the latest is version = 2 (record 0:0)"
    );
    assert_eq!(stale.sources, vec![(0, 0), (0, 1)]);
    assert_eq!(
        stale.expected.as_ref().map(|r| r["status"].clone()),
        Some(json!("paid"))
    );
}

#[test]
fn a_value_no_record_produced_is_wrong_not_stale() {
    let records = vec![
        rec(0, 0, order("o-1", 1, "new", 1999)),
        rec(0, 1, order("o-1", 2, "paid", 1999)),
    ];
    let outcome = check_orders(
        &orders_spec(),
        &records,
        vec![orders_row("o-1", "paid", 1990)],
    );
    let wrong = single(&outcome);
    assert_eq!(
        (wrong.class, wrong.note.as_str()),
        (
            AnomalyClass::WrongValue,
            "values differ in: amount_cents, total_eur"
        )
    );
}

#[test]
fn offset_order_keeps_the_last_record_of_the_partition() {
    let mut spec = orders_spec();
    spec.tables[0].order_by = None;
    spec.tables[0].kafka_key = None;
    let records = vec![
        rec(0, 0, order("o-1", 2, "paid", 500)),
        rec(0, 1, order("o-1", 1, "new", 500)),
    ];
    assert!(check_orders(&spec, &records, vec![orders_row("o-1", "new", 500)]).is_clean());
    let outcome = check_orders(&spec, &records, vec![orders_row("o-1", "paid", 500)]);
    let stale = single(&outcome);
    assert_eq!(
        (stale.class, stale.note.as_str()),
        (
            AnomalyClass::StaleValue,
            "table holds record 0:0 but the latest is record 0:1"
        )
    );
}

#[test]
fn delete_when_removes_the_row_until_a_newer_record() {
    let spec = orders_spec();
    let deleted = vec![
        rec(0, 0, order("o-1", 1, "new", 100)),
        rec(0, 1, order("o-1", 2, "deleted", 100)),
    ];
    assert!(check_orders(&spec, &deleted, vec![]).is_clean());
    let outcome = check_orders(&spec, &deleted, vec![orders_row("o-1", "new", 100)]);
    let phantom = single(&outcome);
    assert_eq!(phantom.class, AnomalyClass::Phantom);
    assert_eq!(
        phantom.note,
        "the row should be deleted (the latest record, 0:1, matches delete_when), but the table still has it"
    );
    assert_eq!(phantom.sources, vec![(0, 1), (0, 0)]);

    let mut recreated = deleted.clone();
    recreated.push(rec(0, 2, order("o-1", 3, "new", 300)));
    assert!(check_orders(&spec, &recreated, vec![orders_row("o-1", "new", 300)]).is_clean());
}

#[test]
fn tombstones_delete_by_kafka_key() {
    let spec = orders_spec();
    let records = vec![
        rec(0, 0, order("o-1", 1, "new", 100)),
        tombstone(0, 1, "o-1"),
        rec(0, 2, order("o-2", 1, "new", 200)),
        tombstone(0, 3, "o-2"),
        rec(0, 4, order("o-2", 2, "paid", 200)),
    ];
    assert!(check_orders(&spec, &records, vec![orders_row("o-2", "paid", 200)]).is_clean());
    let outcome = check_orders(
        &spec,
        &records,
        vec![
            orders_row("o-1", "new", 100),
            orders_row("o-2", "paid", 200),
        ],
    );
    let phantom = single(&outcome);
    assert_eq!(
        (phantom.class, phantom.key.as_str()),
        (AnomalyClass::Phantom, r#"["o-1"]"#)
    );
    assert_eq!(
        phantom.note,
        "the row should be deleted (tombstone at 0:1), but the table still has it"
    );
}

#[test]
fn tombstones_in_offset_order_and_without_kafka_key() {
    let mut spec = orders_spec();
    spec.tables[0].order_by = Some("offset".into());
    let records = vec![
        rec(0, 0, order("o-1", 1, "new", 100)),
        tombstone(0, 1, "o-1"),
    ];
    assert!(check_orders(&spec, &records, vec![]).is_clean());
    spec.tables[0].kafka_key = None;
    let outcome = check_orders(&spec, &records, vec![]);
    assert_eq!(
        single(&outcome).class,
        AnomalyClass::Lost,
        "without kafka_key a tombstone deletes nothing"
    );
}

#[test]
fn numeric_text_and_timestamps_compare_in_normal_form() {
    let mut spec = orders_spec();
    spec.tables[0]
        .columns
        .insert("updated_at".into(), "updated_at".into());
    let mut value = order("o-1", 1, "new", 1999);
    value["updated_at"] = json!("2024-05-01T12:00:00.250+02:00");
    let records = vec![rec(0, 0, value)];
    let row = json!({"order_id": "o-1", "status": "new", "amount_cents": 1999, "total_eur": "19.99",
                     "updated_at": "2024-05-01T10:00:00.25+00:00"});
    assert!(check_orders(&spec, &records, vec![row.clone()]).is_clean());
    let mut later = row;
    later["updated_at"] = json!("2024-05-01T10:00:01.25+00:00");
    assert_eq!(
        single(&check_orders(&spec, &records, vec![later])).note,
        "values differ in: updated_at"
    );
}

#[test]
fn duplicated_rows_of_one_key_are_reported_once() {
    let records = vec![rec(0, 0, order("o-1", 1, "new", 100))];
    let rows = vec![
        orders_row("o-1", "new", 100),
        orders_row("o-1", "new", 100),
        orders_row("o-1", "new", 100),
    ];
    let outcome = check_orders(&orders_spec(), &records, rows);
    let dup = single(&outcome);
    assert_eq!(
        (dup.class, dup.note.as_str()),
        (AnomalyClass::Duplicated, "key present 3 times")
    );
}
