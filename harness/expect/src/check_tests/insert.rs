//! `mode = "insert"` tables.

use serde_json::json;

use crate::test_support::{classes, rec, run, single, spec_from_toml, table};
use crate::{AnomalyClass, ExpectSpec};

fn events_spec() -> ExpectSpec {
    spec_from_toml(
        r#"
        [expect]
        identity = ["order_id", "version"]
        [[expect.table]]
        table = "order_events"
        mode = "insert"
        key = ["order_id", "version"]
        columns = { order_id = "order_id", version = "version", status = "status" }
        "#,
    )
}

#[test]
fn lost_phantom_duplicated_and_wrong_rows_are_found() {
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
            0,
            2,
            json!({"order_id": "o-1", "version": 1, "status": "new"}),
        ), // redelivered
        rec(
            1,
            0,
            json!({"order_id": "o-2", "version": 1, "status": "new"}),
        ),
        rec(
            1,
            1,
            json!({"order_id": "o-3", "version": 1, "status": "new"}),
        ),
    ];
    let actual = table(
        "order_events",
        vec![
            json!({"id": 1, "order_id": "o-1", "version": 1, "status": "new"}),
            json!({"id": 2, "order_id": "o-1", "version": 2, "status": "paid"}),
            json!({"id": 3, "order_id": "o-1", "version": 2, "status": "paid"}),
            json!({"id": 4, "order_id": "o-2", "version": 1, "status": "NEW"}),
            json!({"id": 5, "order_id": "o-9", "version": 1, "status": "new"}),
        ],
    );
    let outcome = run(&events_spec(), &records, &actual);
    assert_eq!(
        classes(&outcome),
        vec![
            (AnomalyClass::Lost, r#"["o-3",1]"#.to_string()),
            (AnomalyClass::Duplicated, r#"["o-1",2]"#.to_string()),
            (AnomalyClass::Phantom, r#"["o-9",1]"#.to_string()),
            (AnomalyClass::WrongValue, r#"["o-2",1]"#.to_string()),
        ]
    );
    let [lost, duplicated, _, wrong] = &outcome.anomalies[..] else {
        panic!("four anomalies expected");
    };
    assert_eq!(lost.sources, vec![(1, 1)]);
    assert_eq!(lost.actual, None);
    assert_eq!(duplicated.note, "key present 2 times");
    assert_eq!(wrong.note, "values differ in: status");
    assert_eq!(
        wrong.actual.as_ref().map(|r| r.contains_key("id")),
        Some(false),
        "only compared columns"
    );
    assert_eq!(
        outcome.tables[0].expected_rows, 4,
        "the redelivered record is one event"
    );
}

#[test]
fn redelivered_duplicates_are_one_expected_row_with_both_sources() {
    let records = vec![
        rec(
            0,
            0,
            json!({"order_id": "o-1", "version": 1, "status": "new"}),
        ),
        rec(
            0,
            7,
            json!({"order_id": "o-1", "version": 1, "status": "new"}),
        ),
    ];
    let outcome = run(&events_spec(), &records, &table("order_events", vec![]));
    let lost = single(&outcome);
    assert_eq!(
        (lost.class, lost.sources.clone()),
        (AnomalyClass::Lost, vec![(0, 0), (0, 7)])
    );
}

#[test]
fn keys_and_cells_line_up_in_normal_form() {
    let records = vec![rec(
        0,
        0,
        json!({"order_id": "o-1", "version": 3, "status": "new"}),
    )];
    for version in [json!(3), json!(3.0), json!("3")] {
        let actual = table(
            "order_events",
            vec![json!({"order_id": "o-1", "version": version, "status": "new"})],
        );
        assert!(
            run(&events_spec(), &records, &actual).is_clean(),
            "version {version}"
        );
    }
}

#[test]
fn a_non_unique_key_expects_each_event_once() {
    let spec = spec_from_toml(
        r#"
        [expect]
        [[expect.table]]
        table = "clicks"
        mode = "insert"
        key = ["user"]
        columns = { user = "user", page = "page" }
        "#,
    );
    let records = vec![
        rec(0, 0, json!({"user": "u", "page": "a"})),
        rec(0, 1, json!({"user": "u", "page": "b"})),
    ];
    let both = table(
        "clicks",
        vec![
            json!({"user": "u", "page": "b"}),
            json!({"user": "u", "page": "a"}),
        ],
    );
    assert!(run(&spec, &records, &both).is_clean());
    let one = table("clicks", vec![json!({"user": "u", "page": "b"})]);
    let lost = single(&run(&spec, &records, &one)).clone();
    assert_eq!(
        (lost.class, lost.note.as_str()),
        (AnomalyClass::Lost, "key present 1 times, expected 2")
    );
    let three = table(
        "clicks",
        vec![
            json!({"user": "u", "page": "b"}),
            json!({"user": "u", "page": "a"}),
            json!({"user": "u", "page": "a"}),
        ],
    );
    let dup = single(&run(&spec, &records, &three)).clone();
    assert_eq!(
        (dup.class, dup.note.as_str()),
        (AnomalyClass::Duplicated, "key present 3 times, expected 2")
    );
}

#[test]
fn where_filters_records() {
    let mut spec = events_spec();
    spec.tables[0].filter = Some("status != 'draft'".into());
    let records = vec![
        rec(
            0,
            0,
            json!({"order_id": "o-1", "version": 1, "status": "draft"}),
        ),
        rec(
            0,
            1,
            json!({"order_id": "o-1", "version": 2, "status": "new"}),
        ),
    ];
    let actual = table(
        "order_events",
        vec![json!({"order_id": "o-1", "version": 2, "status": "new"})],
    );
    assert!(run(&spec, &records, &actual).is_clean());
}

#[test]
fn records_the_valid_predicate_rejects_build_no_row() {
    let mut spec = events_spec();
    spec.valid = Some("version >= 1 and (status == 'new' or status == 'paid')".into());
    let records = vec![
        rec(
            0,
            0,
            json!({"order_id": "o-1", "version": 1, "status": "new"}),
        ),
        // An unknown status, a version of the wrong type: the pipeline's to dead-letter.
        rec(
            0,
            1,
            json!({"order_id": "o-2", "version": 1, "status": "lost-in-space"}),
        ),
        rec(
            0,
            2,
            json!({"order_id": "o-3", "version": "1", "status": "new"}),
        ),
    ];
    let actual = table(
        "order_events",
        vec![json!({"order_id": "o-1", "version": 1, "status": "new"})],
    );
    let outcome = run(&spec, &records, &actual);
    assert!(outcome.is_clean(), "{:?}", outcome.anomalies);
    assert_eq!(outcome.tables[0].expected_rows, 1);
    // A row built from a rejected record is a phantom.
    let actual = table(
        "order_events",
        vec![
            json!({"order_id": "o-1", "version": 1, "status": "new"}),
            json!({"order_id": "o-2", "version": 1, "status": "lost-in-space"}),
        ],
    );
    let outcome = run(&spec, &records, &actual);
    assert_eq!(
        classes(&outcome),
        vec![(AnomalyClass::Phantom, r#"["o-2",1]"#.to_string())]
    );
}
