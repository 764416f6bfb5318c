//! `mode = "command"` tables: the rows a user program printed, compared like an insert table's.

use serde_json::json;

use crate::test_support::{classes, row, spec_from_toml, table};
use crate::{check_with, AnomalyClass, ExpectError, ExpectSpec, Rows};

fn totals_spec() -> ExpectSpec {
    spec_from_toml(
        r#"
        [expect]
        [[expect.table]]
        table = "running_totals"
        mode = "command"
        key = ["account"]
        command = ["python3", "expected_totals.py"]
        tolerance = 0.5
        "#,
    )
}

#[test]
fn printed_rows_are_compared_on_every_column_they_have() {
    let spec = totals_spec();
    spec.validate().expect("valid");
    let printed: Rows = [(
        "running_totals".to_string(),
        vec![
            row(json!({"account": "a-1", "total": 10, "events": 2})),
            row(json!({"account": "a-2", "total": 5, "events": 1})),
            row(json!({"account": "a-3", "total": 7, "events": 1})),
        ],
    )]
    .into();
    let actual = table(
        "running_totals",
        vec![
            json!({"account": "a-1", "total": 10.4, "events": 2, "updated_at": "ignored"}),
            json!({"account": "a-2", "total": 5, "events": 2}),
            json!({"account": "a-9", "total": 1, "events": 1}),
        ],
    );
    let outcome = check_with(&spec, &[], &actual, &printed).expect("checks");
    assert_eq!(
        classes(&outcome),
        vec![
            (AnomalyClass::Lost, r#"["a-3"]"#.to_string()),
            (AnomalyClass::Phantom, r#"["a-9"]"#.to_string()),
            (AnomalyClass::WrongValue, r#"["a-2"]"#.to_string()),
        ]
    );
    let wrong = &outcome.anomalies[2];
    assert_eq!(wrong.note, "values differ in: events");
    assert_eq!(outcome.tables[0].expected_rows, 3);
}

#[test]
fn a_printed_row_without_its_key_and_a_missing_command_are_refused() {
    let spec = totals_spec();
    let printed: Rows = [("running_totals".to_string(), vec![row(json!({"total": 1}))])].into();
    let err = check_with(&spec, &[], &table("running_totals", vec![]), &printed).unwrap_err();
    assert!(
        err.to_string()
            .contains("printed row 1 has no key column \"account\""),
        "{err}"
    );
    let mut no_command = totals_spec();
    no_command.tables[0].command = None;
    let err = no_command.validate().unwrap_err();
    assert!(
        matches!(&err, ExpectError::Invalid { location, .. } if location.ends_with(".command")),
        "{err}"
    );
    let mut foreign = totals_spec();
    foreign.tables[0]
        .columns
        .insert("total".into(), "amount".into());
    assert!(foreign
        .validate()
        .unwrap_err()
        .to_string()
        .contains("not used with mode = \"command\""));
}
