//! Dataset parsing: both formats, and errors that name file, line and field.

use super::*;

const ROW: &str = r#"{"transaction_id":"t1","account_id":"a1","kind":"debit","amount_cents":1250,"created_at":"2024-05-01T13:45:00Z","schema_version":2,"channel":"pos","account_age_days":400,"risk_tier":"medium","country":"DE","label":1}"#;

fn write(name: &str, text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join(name);
    std::fs::write(&p, text).unwrap();
    (dir, p)
}

fn load_err(name: &str, text: &str) -> String {
    let (_dir, p) = write(name, text);
    Dataset::load(&p).unwrap_err().to_string()
}

#[test]
fn jsonl_row_parses_into_inputs_and_label() {
    let (_dir, p) = write(
        "d.jsonl",
        &format!(
            "{ROW}\n\n{}\n",
            ROW.replace(r#""channel":"pos","#, "")
                .replace(r#""label":1"#, r#""label":0"#)
        ),
    );
    let d = Dataset::load(&p).unwrap();
    assert_eq!(d.len(), 2, "blank lines are skipped");
    let r = &d.rows()[0];
    assert_eq!(
        (
            r.transaction_id.as_str(),
            r.schema_version,
            r.country.as_str()
        ),
        ("t1", 2, "DE")
    );
    assert_eq!(r.input.kind, Kind::Debit);
    assert_eq!(r.input.amount_cents, 1250);
    assert_eq!(r.input.channel, Some(Channel::Pos));
    assert_eq!(r.input.risk_tier, RiskTier::Medium);
    assert_eq!(d.labels(), &[true, false]);
    assert_eq!(d.rows()[1].input.channel, None);
    assert_eq!(d.features().rows(), 2);
}

#[test]
fn jsonl_and_csv_writers_round_trip_through_the_loaders() {
    let (_dir, p) = write(
        "d.jsonl",
        &format!("{ROW}\n{}\n", ROW.replace(r#""channel":"pos","#, "")),
    );
    let rows = Dataset::load(&p).unwrap().rows().to_vec();

    let mut jsonl = Vec::new();
    write_jsonl(&rows, &mut jsonl).unwrap();
    assert_eq!(
        String::from_utf8(jsonl.clone())
            .unwrap()
            .lines()
            .next()
            .unwrap(),
        ROW
    );

    let mut csv_bytes = Vec::new();
    write_csv(&rows, &mut csv_bytes).unwrap();
    let (_dir2, csv_path) = write("d.csv", std::str::from_utf8(&csv_bytes).unwrap());
    let from_csv = Dataset::load(&csv_path).unwrap();
    assert_eq!(from_csv.rows(), rows.as_slice());
}

#[test]
fn row_errors_name_file_line_and_field() {
    let cases = [
        (
            ROW.replace(r#","label":1"#, ""),
            "line 1: field `label`: missing",
        ),
        (
            ROW.replace(r#""label":1"#, r#""label":2"#),
            "field `label`: must be 0 or 1",
        ),
        (
            ROW.replace(r#""label":1"#, r#""label":"yes""#),
            "field `label`: must be 0 or 1",
        ),
        (
            ROW.replace("1250", r#""12.50""#),
            "field `amount_cents`: expected an integer",
        ),
        (
            ROW.replace("1250", "-3"),
            "field `amount_cents`: expected an integer in 0..=",
        ),
        (
            ROW.replace("debit", "refund"),
            "field `kind`: `refund` is not one of credit, debit",
        ),
        (
            ROW.replace("2024-05-01T13:45:00Z", "yesterday"),
            "field `created_at`",
        ),
        (
            ROW.replace(r#""schema_version":2"#, r#""schema_version":3"#),
            "field `schema_version`",
        ),
        (
            ROW.replace("\"country\"", "\"contry\""),
            "field `country`: missing",
        ),
    ];
    for (row, expected) in cases {
        let e = load_err("bad.jsonl", &format!("{ROW}\n{row}\n"));
        assert!(e.contains("bad.jsonl"), "{e}");
        let expected = expected.replace("line 1", "line 2");
        let expected = if expected.starts_with("line") {
            expected
        } else {
            format!("line 2: {expected}")
        };
        assert!(e.contains(&expected), "expected `{expected}` in {e}");
    }
}

#[test]
fn csv_errors_count_the_header_as_line_one() {
    let header = COLUMNS.join(",");
    let good = "t1,a1,debit,100,2024-05-01T13:45:00Z,1,,10,low,FR,0";
    let bad = "t2,a1,debit,abc,2024-05-01T13:45:00Z,1,,10,low,FR,0";
    let e = load_err("d.csv", &format!("{header}\n{good}\n{bad}\n"));
    assert!(e.contains("d.csv line 3: field `amount_cents`"), "{e}");
    let no_label = COLUMNS[..10].join(",");
    let e = load_err(
        "d.csv",
        &format!("{no_label}\nt1,a1,debit,100,2024-05-01T13:45:00Z,1,,10,low,FR\n"),
    );
    assert!(e.contains("line 2: field `label`: missing"), "{e}");
}

#[test]
fn file_level_problems_are_reported() {
    assert!(load_err("d.txt", ROW).contains("unknown extension"));
    assert!(load_err("d.jsonl", "").contains("has no rows"));
    assert!(load_err("d.jsonl", "{not json").contains("line 1: not a JSON object"));
}

#[test]
fn extra_columns_are_ignored_and_numeric_ones_become_features() {
    let header = COLUMNS.join(",");
    let good = "t1,a1,debit,100,2024-05-01T13:45:00Z,1,,10,low,FR,0";
    let (_dir, p) = write(
        "d.csv",
        &format!("{header},note,velocity_1h\n{good},hello,3.5\n{good},bye,4\n"),
    );
    let d = Dataset::load(&p).unwrap();
    assert_eq!(d.len(), 2);
    assert_eq!(d.rows().len(), 2, "the ledger columns still yield rows");
    let names = d.features().names();
    assert!(names.iter().any(|n| n == "amount_log") && names.iter().any(|n| n == "velocity_1h"));
    assert!(!names.iter().any(|n| n == "note"), "{names:?}");
    assert_eq!(d.features().row_map(1)["velocity_1h"], 4.0);
}

#[test]
fn any_columns_with_a_named_label_and_positive_value() {
    let (_dir, p) = write(
        "own.csv",
        "customer,is_fraud,tenure,spend\nc1,yes,3,10.5\nc2,no,1,2\nc3,maybe,2,7\n",
    );
    let columns = DataColumns {
        label: "is_fraud".into(),
        positive: "yes".into(),
    };
    let d = Dataset::load_with(&p, &columns).unwrap();
    assert_eq!(d.labels(), &[true, false, false]);
    assert!(d.rows().is_empty(), "no ledger columns, no ledger rows");
    assert_eq!(
        d.features().names(),
        &["tenure".to_string(), "spend".to_string()]
    );
    assert_eq!(d.features().row(0), &[3.0, 10.5]);
    assert_eq!(d.ids(), &["line-2", "line-3", "line-4"]);
    let e = Dataset::load(&p).unwrap_err().to_string();
    assert!(
        e.contains("own.csv line 2: field `label`: missing") && e.contains("--label-column"),
        "{e}"
    );
    let default_positive = DataColumns {
        label: "is_fraud".into(),
        ..DataColumns::default()
    };
    let e = Dataset::load_with(&p, &default_positive)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("must be 0 or 1") && e.contains("--positive"),
        "{e}"
    );
}
