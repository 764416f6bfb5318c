//! End-to-end tests of [`check`](crate::check), one file per table mode.

mod aggregate;
mod command;
mod insert;
mod upsert;

use serde_json::json;

use crate::test_support::{example_spec, rec, run, table};
use crate::{check, AnomalyClass, ExpectError};

#[test]
fn anomalies_sort_by_table_then_class_then_key() {
    let spec = example_spec();
    let records = vec![
        rec(
            0,
            0,
            json!({"order_id": "o-1", "version": 1, "status": "new", "amount_cents": 100}),
        ),
        rec(
            0,
            1,
            json!({"order_id": "o-2", "version": 1, "status": "new", "amount_cents": 200}),
        ),
    ];
    let mut actual = table(
        "orders",
        vec![json!({"order_id": "o-2", "status": "old", "amount_cents": 200, "total_eur": 2})],
    );
    actual.extend(table(
        "order_events",
        vec![json!({"order_id": "o-1", "version": 1, "status": "new"})],
    ));
    actual.extend(table("order_status_counts", vec![]));
    let outcome = run(&spec, &records, &actual);
    let order: Vec<(&str, AnomalyClass, &str)> = outcome
        .anomalies
        .iter()
        .map(|a| (a.table.as_str(), a.class, a.key.as_str()))
        .collect();
    assert_eq!(
        order,
        vec![
            ("order_events", AnomalyClass::Lost, r#"["o-2",1]"#),
            ("order_status_counts", AnomalyClass::Lost, r#"["new"]"#),
            ("orders", AnomalyClass::Lost, r#"["o-1"]"#),
            ("orders", AnomalyClass::WrongValue, r#"["o-2"]"#),
        ]
    );
    let summaries: Vec<(&str, usize, usize)> = outcome
        .tables
        .iter()
        .map(|s| (s.table.as_str(), s.expected_rows, s.actual_rows))
        .collect();
    assert_eq!(
        summaries,
        vec![
            ("order_events", 2, 1),
            ("order_status_counts", 1, 0),
            ("orders", 2, 1)
        ]
    );
    assert_eq!(
        outcome.tables[2].anomalies.get(&AnomalyClass::WrongValue),
        Some(&1)
    );
    assert!(!outcome.is_clean());
    assert_eq!(
        run(&spec, &records, &actual),
        outcome,
        "same input, same report"
    );
}

#[test]
fn a_declared_table_without_rows_is_a_caller_error() {
    let err = check(&example_spec(), &[], &table("orders", vec![])).expect_err("tables missing");
    assert_eq!(
        err,
        ExpectError::MissingActual {
            table: "order_events".into()
        }
    );
}

#[test]
fn an_invalid_spec_is_refused() {
    let mut spec = example_spec();
    spec.tables[0].key = vec!["id".into()];
    assert!(matches!(
        check(&spec, &[], &Default::default()),
        Err(ExpectError::Invalid { .. })
    ));
}

#[test]
fn anomalies_serialize_with_snake_case_classes() {
    let spec = example_spec();
    let mut actual = table(
        "orders",
        vec![
            json!({"order_id": "o-9", "status": "x", "amount_cents": 1, "total_eur": 0.01, "created_at": "2024-01-01T00:00:00+00:00"}),
        ],
    );
    actual.extend(table("order_events", vec![]));
    actual.extend(table("order_status_counts", vec![]));
    let outcome = run(&spec, &[], &actual);
    let json = serde_json::to_value(&outcome.anomalies[0]).expect("serializes");
    assert_eq!(
        json,
        json!({
            "class": "phantom", "table": "orders", "key": "[\"o-9\"]", "expected": null,
            "actual": {"amount_cents": 1, "order_id": "o-9", "status": "x", "total_eur": 0.01},
            "sources": [], "note": "no input record produces this key"
        })
    );
    let summary = serde_json::to_value(&outcome.tables[2]).expect("serializes");
    assert_eq!(summary["anomalies"], json!({"phantom": 1}));
}

#[test]
fn a_phantom_key_present_twice_says_so() {
    let mut spec = example_spec();
    spec.tables.truncate(1);
    let row = json!({"order_id": "o-5", "status": "x", "amount_cents": 1, "total_eur": 0.01});
    let outcome = run(&spec, &[], &table("orders", vec![row.clone(), row]));
    let notes: Vec<(AnomalyClass, &str)> = outcome
        .anomalies
        .iter()
        .map(|a| (a.class, a.note.as_str()))
        .collect();
    assert_eq!(
        notes,
        vec![(
            AnomalyClass::Phantom,
            "no input record produces this key; the table has it 2 times"
        )]
    );
}
