use std::collections::BTreeMap;
use std::path::Path;

use super::{orders, ORDERS};
use crate::{generate, FieldRule, GenSpec, InputSchema, SchemaError};

fn json_err(text: &str) -> SchemaError {
    InputSchema::from_json_schema(text, Path::new("dir/orders.schema.json")).unwrap_err()
}

#[test]
fn one_of_is_unsupported_with_file_keyword_pointer_and_fix() {
    let err = json_err(
        r#"{"type": "object", "properties": {"payment": {"oneOf": [{"type": "string"}, {"type": "integer"}]}}}"#,
    );
    let SchemaError::Unsupported {
        keyword, pointer, ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(
        (keyword.as_str(), pointer.as_str()),
        ("oneOf", "/properties/payment/oneOf")
    );
    let text = err.to_string();
    assert!(
        text.starts_with(
            "orders.schema.json: keyword \"oneOf\" at /properties/payment/oneOf is not supported"
        ),
        "{text}"
    );
    assert!(
        text.contains("supported: type, properties, required"),
        "{text}"
    );
}

#[test]
fn nested_unsupported_keywords_and_formats_are_named() {
    let err = json_err(
        r#"{"type": "object", "properties": {"items": {"type": "array", "items": {"type": "string", "format": "hostname"}}}}"#,
    );
    assert!(
        matches!(&err, SchemaError::Unsupported { keyword, pointer, .. } if keyword == "format" && pointer == "/properties/items/items/format"),
        "{err}"
    );
    let err = json_err(
        r#"{"type": "object", "properties": {"a": {"type": "string", "pattern": "^(?=x)y$"}}}"#,
    );
    assert!(
        matches!(&err, SchemaError::Unsupported { keyword, .. } if keyword == "pattern"),
        "{err}"
    );
    let err = json_err(
        r#"{"type": "object", "properties": {"a": {"type": "array", "items": {"type": "string"}, "uniqueItems": true}}}"#,
    );
    assert!(
        matches!(&err, SchemaError::Unsupported { keyword, pointer, .. } if keyword == "uniqueItems" && pointer == "/properties/a/uniqueItems"),
        "{err}"
    );
}

#[test]
fn recursive_ref_is_recursive() {
    let err = json_err(
        r##"{"$ref": "#/$defs/node", "$defs": {"node": {"type": "object", "properties": {"next": {"$ref": "#/$defs/node"}}}}}"##,
    );
    let SchemaError::Recursive {
        pointer_or_name, ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert!(
        pointer_or_name.contains("#/$defs/node")
            && pointer_or_name.contains("/$defs/node/properties/next/$ref"),
        "{err}"
    );
    assert!(err.to_string().starts_with("orders.schema.json: "), "{err}");
}

#[test]
fn recursive_avro_record_is_recursive() {
    let text = r#"{"type": "record", "name": "Node", "fields": [{"name": "v", "type": "int"}, {"name": "next", "type": ["null", "Node"]}]}"#;
    let err = InputSchema::from_avro(text, Path::new("list.avsc")).unwrap_err();
    assert!(
        matches!(&err, SchemaError::Recursive { pointer_or_name, .. } if pointer_or_name.contains("\"Node\"")),
        "{err:?}"
    );
    assert!(err.to_string().starts_with("list.avsc: "), "{err}");
}

#[test]
fn invalid_documents_are_parse_errors() {
    assert!(matches!(json_err("{not json"), SchemaError::Parse { .. }));
    let err = json_err(r#"{"type": "object", "properties": {"a": {"type": "strng"}}}"#);
    assert!(
        matches!(err, SchemaError::Parse { .. }),
        "meta-schema violation: {err}"
    );
    let err = InputSchema::from_avro(r#"{"type": "record", "name": "X"}"#, Path::new("x.avsc"))
        .unwrap_err();
    assert!(matches!(err, SchemaError::Parse { .. }), "{err}");
}

fn rule_err(fields: &[(&str, &str)], key: &str, identity: &str) -> (String, String) {
    let fields: BTreeMap<String, FieldRule> = fields
        .iter()
        .map(|(f, t)| (f.to_string(), toml::from_str(t).unwrap()))
        .collect();
    let spec = GenSpec {
        seed: 1,
        events: 10,
        key: key.into(),
        identity: identity.into(),
        fields,
    };
    match generate(&orders(), &spec).unwrap_err() {
        SchemaError::BadRule { field, message, .. } => (field, message),
        other => panic!("{other:?}"),
    }
}

#[test]
fn bad_rules_name_the_field_and_the_fix() {
    let (field, message) = rule_err(&[("ordr_id", "cardinality = 3")], "order_id", "event_id");
    assert_eq!(field, "ordr_id");
    assert!(
        message.contains("order_id, event_id, status"),
        "lists the fields: {message}"
    );
    let (field, _) = rule_err(&[], "nope", "event_id");
    assert_eq!(field, "nope");
    let (_, message) = rule_err(
        &[("amount_cents", "min = 10\nmax = 5")],
        "order_id",
        "event_id",
    );
    assert!(message.contains("greater than max"), "{message}");
    let (_, message) = rule_err(&[("amount_cents", "min = -5")], "order_id", "event_id");
    assert!(message.contains("schema's range"), "{message}");
    let (_, message) = rule_err(
        &[("amount_cents", "weights = { a = 1 }")],
        "order_id",
        "event_id",
    );
    assert!(message.contains("enum"), "{message}");
    let (_, message) = rule_err(
        &[("status", "weights = { refunded = 1 }")],
        "order_id",
        "event_id",
    );
    assert!(message.contains("refunded"), "{message}");
    let (_, message) = rule_err(
        &[("status", "time = \"monotonic\"")],
        "order_id",
        "event_id",
    );
    assert!(message.contains("time applies"), "{message}");
    let (field, message) = rule_err(&[], "order_id", "customer");
    assert_eq!(field, "customer");
    assert!(
        message.contains("string") && message.contains("integer"),
        "{message}"
    );
    let (_, message) = rule_err(&[("items.qty", "min = 1")], "order_id", "event_id");
    assert!(message.contains("inside an array"), "{message}");
    let (_, message) = rule_err(
        &[("amount_cents", "min = 1\ncardinality = 2")],
        "order_id",
        "event_id",
    );
    assert!(message.contains("one kind of rule"), "{message}");
    let err = generate(
        &orders(),
        &GenSpec {
            key: "order_id".into(),
            identity: "ordr".into(),
            ..GenSpec::default()
        },
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("orders.schema.json: rule for field \"ordr\""),
        "{err}"
    );
    assert!(ORDERS.contains("order_id"));
}
