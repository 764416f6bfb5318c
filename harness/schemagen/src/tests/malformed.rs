use std::collections::BTreeMap;

use serde_json::Value;

use super::{loose, orders, orders_avro};
use crate::{generate, malformed, malformed_for, Defect, GenSpec, InputSchema};

/// `value` with the property at dotted `path` removed (if present).
fn without(value: &Value, path: &str) -> Value {
    let mut copy = value.clone();
    let (parent, last) = path.rsplit_once('.').unwrap_or(("", path));
    let mut cur = &mut copy;
    for seg in parent.split('.').filter(|s| !s.is_empty()) {
        cur = match cur {
            Value::Array(items) => &mut items[seg.parse::<usize>().unwrap()],
            other => other.get_mut(seg).unwrap(),
        };
    }
    cur.as_object_mut().unwrap().remove(last);
    copy
}

fn exercise(schema: &InputSchema, spec: &GenSpec, expect_some: &[Defect]) {
    let records = generate(schema, spec).unwrap();
    for (i, r) in records.iter().enumerate() {
        for defect in Defect::ALL {
            let got = malformed_for(schema, spec, &r.json, defect, i as u64 * 31 + 7);
            let Some((bad, path)) = got else {
                assert!(
                    !expect_some.contains(&defect),
                    "{defect:?} found no place in {}",
                    r.json
                );
                continue;
            };
            assert!(
                schema.check(&bad).is_err(),
                "{defect:?} at {path} still valid: {bad}"
            );
            assert_ne!(bad, r.json);
            assert_eq!(
                without(&bad, &path),
                without(&r.json, &path),
                "{defect:?} changed more than {path}"
            );
            assert!(
                path != spec.key && path != spec.identity,
                "{defect:?} broke {path}"
            );
        }
    }
}

#[test]
fn every_defect_fails_check_and_touches_one_field_json() {
    for seed in 0..8 {
        let spec = GenSpec {
            seed,
            events: 15,
            key: "order_id".into(),
            identity: "event_id".into(),
            fields: BTreeMap::new(),
        };
        exercise(&orders(), &spec, &Defect::ALL);
    }
}

#[test]
fn every_defect_fails_check_and_touches_one_field_avro() {
    for seed in 0..8 {
        let spec = GenSpec {
            seed,
            events: 15,
            key: "order_id".into(),
            identity: "event_id".into(),
            fields: BTreeMap::new(),
        };
        // Avro has no declared ranges except int's width (version, attrs, customer.code's size).
        exercise(
            &orders_avro(),
            &spec,
            &[
                Defect::MissingField,
                Defect::WrongType,
                Defect::NotInEnum,
                Defect::UnknownField,
            ],
        );
    }
}

#[test]
fn none_where_the_schema_has_no_place() {
    let schema = loose();
    let valid = serde_json::json!({"a": "x", "b": 3});
    for defect in [
        Defect::MissingField,
        Defect::OutOfRange,
        Defect::NotInEnum,
        Defect::UnknownField,
    ] {
        assert_eq!(malformed(&schema, &valid, defect, 1), None, "{defect:?}");
    }
    let (bad, path) = malformed(&schema, &valid, Defect::WrongType, 1).unwrap();
    assert!(schema.check(&bad).is_err() && (path == "a" || path == "b"));
    let spec = GenSpec {
        key: "a".into(),
        identity: "b".into(),
        ..GenSpec::default()
    };
    assert_eq!(
        malformed_for(&schema, &spec, &valid, Defect::WrongType, 1),
        None,
        "only protected fields left"
    );
}

#[test]
fn defects_are_deterministic_and_draw_spreads_them() {
    let schema = orders();
    let r = &generate(
        &schema,
        &GenSpec {
            seed: 2,
            events: 1,
            key: "order_id".into(),
            identity: "event_id".into(),
            ..GenSpec::default()
        },
    )
    .unwrap()[0];
    let a = malformed(&schema, &r.json, Defect::WrongType, 42);
    assert_eq!(a, malformed(&schema, &r.json, Defect::WrongType, 42));
    let paths: std::collections::HashSet<String> = (0..50)
        .filter_map(|d| malformed(&schema, &r.json, Defect::WrongType, d))
        .map(|(_, p)| p)
        .collect();
    assert!(paths.len() > 3, "{paths:?}");
    assert_eq!(
        serde_json::to_value(Defect::NotInEnum).unwrap(),
        "not_in_enum"
    );
    assert!(Defect::ALL
        .iter()
        .all(|d| serde_json::to_value(d).unwrap() == d.as_str()));
}
