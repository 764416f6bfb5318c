//! The internal schema tree both schema languages lower into, and a structural check of a JSON
//! value against it (everything except `pattern` and `format`, which the real checkers judge).

use serde_json::Value;

/// One node of the lowered schema.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Shape {
    /// A JSON object with known properties. `closed`: no other property allowed.
    /// `emit_all`: the generator always emits every field (Avro records).
    Object {
        fields: Vec<Field>,
        closed: bool,
        emit_all: bool,
    },
    /// A JSON object with arbitrary string keys (Avro map).
    Map(Box<Shape>),
    /// A JSON array; `min`/`max` are the schema's item-count bounds.
    Array {
        items: Box<Shape>,
        min: usize,
        max: Option<usize>,
    },
    String(StrShape),
    /// Inclusive bounds (exclusive JSON Schema bounds are folded in). `epoch_ms`: the value is a
    /// point in time in milliseconds (Avro timestamp-millis), used to pick plausible values.
    Integer {
        min: Option<i64>,
        max: Option<i64>,
        epoch_ms: bool,
    },
    Number {
        min: Option<f64>,
        max: Option<f64>,
        excl_min: bool,
        excl_max: bool,
    },
    Bool,
    Null,
    /// Any one of these (a `type` array, or an Avro union).
    OneOf(Vec<Shape>),
    /// Exactly one of these values (`enum`, `const`, Avro enum).
    Enum(Vec<Value>),
}

/// A property of an object shape.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Field {
    pub name: String,
    pub shape: Shape,
    pub required: bool,
}

/// String constraints.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct StrShape {
    pub min_len: usize,
    pub max_len: Option<usize>,
    pub pattern: Option<String>,
    pub format: Option<Format>,
}

/// The string formats the generator produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    DateTime,
    Uuid,
    Email,
}

/// The JSON type names a shape admits ("integer" values also count as "number").
pub(crate) fn json_types(shape: &Shape) -> Vec<&'static str> {
    match shape {
        Shape::Object { .. } | Shape::Map(_) => vec!["object"],
        Shape::Array { .. } => vec!["array"],
        Shape::String(_) => vec!["string"],
        Shape::Integer { .. } => vec!["integer"],
        Shape::Number { .. } => vec!["number", "integer"],
        Shape::Bool => vec!["boolean"],
        Shape::Null => vec!["null"],
        Shape::OneOf(variants) => variants.iter().flat_map(json_types).collect(),
        Shape::Enum(values) => values.iter().map(type_of).collect(),
    }
}

/// The JSON type name of a value.
pub(crate) fn type_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Structural check of `value` against `shape`; `at` is the dotted path for messages.
pub(crate) fn accepts(shape: &Shape, value: &Value, at: &str) -> Result<(), String> {
    let fail = |what: String| Err(format!("at \"{at}\": {what}"));
    match (shape, value) {
        (Shape::Object { fields, closed, .. }, Value::Object(map)) => {
            for field in fields {
                match map.get(&field.name) {
                    Some(v) => accepts(&field.shape, v, &join(at, &field.name))?,
                    None if field.required => return fail(format!("missing \"{}\"", field.name)),
                    None => {}
                }
            }
            if *closed {
                if let Some(extra) = map.keys().find(|k| !fields.iter().any(|f| &f.name == *k)) {
                    return fail(format!("unknown field \"{extra}\""));
                }
            }
            Ok(())
        }
        (Shape::Map(values), Value::Object(map)) => map
            .iter()
            .try_for_each(|(k, v)| accepts(values, v, &join(at, k))),
        (Shape::Array { items, min, max }, Value::Array(list)) => {
            if list.len() < *min || max.is_some_and(|m| list.len() > m) {
                return fail(format!("{} items outside the allowed count", list.len()));
            }
            list.iter()
                .enumerate()
                .try_for_each(|(i, v)| accepts(items, v, &join(at, &i.to_string())))
        }
        (Shape::String(s), Value::String(text)) => {
            let len = text.chars().count();
            if len < s.min_len || s.max_len.is_some_and(|m| len > m) {
                return fail(format!("length {len} outside the allowed length"));
            }
            Ok(())
        }
        (Shape::Integer { min, max, .. }, Value::Number(n)) => match n.as_i64() {
            Some(i) if min.is_none_or(|m| i >= m) && max.is_none_or(|m| i <= m) => Ok(()),
            Some(i) => fail(format!("{i} out of range")),
            None => fail(format!("{n} is not an integer")),
        },
        (
            Shape::Number {
                min,
                max,
                excl_min,
                excl_max,
            },
            Value::Number(n),
        ) => {
            let x = n.as_f64().unwrap_or(f64::NAN);
            let lo_ok = min.is_none_or(|m| if *excl_min { x > m } else { x >= m });
            let hi_ok = max.is_none_or(|m| if *excl_max { x < m } else { x <= m });
            if lo_ok && hi_ok {
                Ok(())
            } else {
                fail(format!("{n} out of range"))
            }
        }
        (Shape::Bool, Value::Bool(_)) | (Shape::Null, Value::Null) => Ok(()),
        (Shape::OneOf(variants), v) => {
            let mut errors = Vec::new();
            for variant in variants {
                match accepts(variant, v, at) {
                    Ok(()) => return Ok(()),
                    Err(e) => errors.push(e),
                }
            }
            Err(errors.join(" / "))
        }
        (Shape::Enum(values), v) if values.contains(v) => Ok(()),
        (Shape::Enum(_), v) => fail(format!("{v} is not one of the allowed values")),
        (shape, v) => fail(format!(
            "a {} where {} is expected",
            type_of(v),
            json_types(shape).join("|")
        )),
    }
}

/// `parent.child`, or `child` at the top.
pub(crate) fn join(parent: &str, child: &str) -> String {
    if parent.is_empty() {
        child.to_owned()
    } else {
        format!("{parent}.{child}")
    }
}

/// A short description of a shape's type, for messages ("string", "integer|null", "enum").
pub(crate) fn describe(shape: &Shape) -> String {
    match shape {
        Shape::Enum(_) => "enum".to_owned(),
        Shape::OneOf(variants) => variants.iter().map(describe).collect::<Vec<_>>().join("|"),
        other => json_types(other)[0].to_owned(),
    }
}
