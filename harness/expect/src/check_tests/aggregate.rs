//! `mode = "aggregate"` tables.

use serde_json::{json, Value};

use crate::test_support::{classes, example_spec, rec, run, single, spec_from_toml, table};
use crate::{AnomalyClass, ExpectSpec, InputRecord};

/// The example's `order_status_counts` table alone.
fn counts_spec() -> ExpectSpec {
    let mut spec = example_spec();
    spec.tables.drain(..2);
    spec
}

fn records() -> Vec<InputRecord> {
    vec![
        rec(
            0,
            0,
            json!({"order_id": "o-1", "version": 1, "status": "new", "amount_cents": 1000}),
        ),
        rec(
            0,
            1,
            json!({"order_id": "o-1", "version": 2, "status": "paid", "amount_cents": 1000}),
        ),
        rec(
            1,
            0,
            json!({"order_id": "o-2", "version": 3, "status": "new", "amount_cents": 500}),
        ),
        rec(
            1,
            1,
            json!({"order_id": "o-3", "version": 1, "status": "draft", "amount_cents": 700}),
        ),
        rec(
            1,
            2,
            json!({"order_id": "o-2", "version": 3, "status": "new", "amount_cents": 500}),
        ), // redelivered
    ]
}

fn counts(status: &str, events: i64, total: Value, top: i64, low: i64) -> Value {
    json!({"status": status, "events": events, "total": total, "top": top, "low": low})
}

#[test]
fn groups_count_sum_min_max_over_distinct_selected_events() {
    let actual = table(
        "order_status_counts",
        vec![
            counts("new", 2, json!(1500), 3, 1),
            counts("paid", 1, json!("1000.00"), 2, 2),
        ],
    );
    let outcome = run(&counts_spec(), &records(), &actual);
    assert!(outcome.is_clean(), "{:#?}", outcome.anomalies);
    assert_eq!(
        outcome.tables[0].expected_rows, 2,
        "draft is filtered out by where"
    );
}

#[test]
fn a_wrong_aggregate_names_the_columns_and_sources() {
    let actual = table(
        "order_status_counts",
        vec![
            counts("new", 3, json!(2000), 3, 1),
            counts("paid", 1, json!(1000), 2, 2),
        ],
    );
    let outcome = run(&counts_spec(), &records(), &actual);
    let wrong = single(&outcome);
    assert_eq!(
        (wrong.class, wrong.key.as_str()),
        (AnomalyClass::WrongAggregate, r#"["new"]"#)
    );
    assert_eq!(wrong.note, "values differ in: events, total");
    assert_eq!(wrong.sources, vec![(0, 0), (1, 0), (1, 2)]);
    assert_eq!(
        wrong.expected.as_ref().map(|r| r["total"].clone()),
        Some(json!(1500))
    );
}

#[test]
fn tolerance_absorbs_small_numeric_differences() {
    let spec = spec_from_toml(
        r#"
        [expect]
        [[expect.table]]
        table = "region_stats"
        mode = "aggregate"
        key = ["region"]
        group_by = { region = "lower(region)" }
        aggregates = { mean = "avg(amount)", total = "sum(amount)" }
        tolerance = 0.01
        "#,
    );
    let records = vec![
        rec(0, 0, json!({"region": "EU", "amount": 10.005})),
        rec(0, 1, json!({"region": "eu", "amount": 20})),
        rec(0, 2, json!({"region": "us", "amount": 1})),
        rec(0, 3, json!({"region": "us", "amount": null})),
    ];
    let rows = |eu_total: f64| {
        table(
            "region_stats",
            vec![
                json!({"region": "eu", "mean": 15.0, "total": eu_total}),
                json!({"region": "us", "mean": "1.000", "total": 1}),
            ],
        )
    };
    assert!(run(&spec, &records, &rows(30.0)).is_clean());
    let outcome = run(&spec, &records, &rows(30.5));
    assert_eq!(
        classes(&outcome),
        vec![(AnomalyClass::WrongAggregate, r#"["eu"]"#.to_string())]
    );
}

#[test]
fn missing_and_extra_groups_are_lost_and_phantom() {
    let actual = table(
        "order_status_counts",
        vec![
            counts("paid", 1, json!(1000), 2, 2),
            counts("draft", 1, json!(700), 1, 1),
        ],
    );
    let outcome = run(&counts_spec(), &records(), &actual);
    assert_eq!(
        classes(&outcome),
        vec![
            (AnomalyClass::Lost, r#"["new"]"#.to_string()),
            (AnomalyClass::Phantom, r#"["draft"]"#.to_string()),
        ]
    );
}
