//! Field paths into a record value: `a`, `a.b.c`, `items[0].sku`.

use std::fmt;

use serde_json::Value;

use crate::error::ParseError;

/// One step of a field path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Segment {
    /// An object member.
    Field(String),
    /// An array element.
    Index(usize),
}

/// A path to one field of a JSON record value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldPath {
    segments: Vec<Segment>,
}

impl FieldPath {
    pub(crate) fn new(segments: Vec<Segment>) -> FieldPath {
        FieldPath { segments }
    }

    /// Parses text that must be a bare path, such as `order.items[0].sku`.
    pub fn parse(text: &str) -> Result<FieldPath, ParseError> {
        super::parser::parse_path(text)
    }

    /// The value at this path, or `None` where any step is missing.
    pub fn lookup<'v>(&self, value: &'v Value) -> Option<&'v Value> {
        self.segments
            .iter()
            .try_fold(value, |current, segment| match segment {
                Segment::Field(name) => current.get(name.as_str()),
                Segment::Index(index) => current.get(*index),
            })
    }

    /// Whether `value` has this field (even if null). An index matches any
    /// element, so `items[3].sku` counts as present when any item has `sku`.
    pub fn present_in(&self, value: &Value) -> bool {
        present(&self.segments, value)
    }
}

fn present(segments: &[Segment], value: &Value) -> bool {
    let Some((first, rest)) = segments.split_first() else {
        return true;
    };
    match (first, value) {
        (Segment::Field(name), Value::Object(fields)) => {
            fields.get(name).is_some_and(|inner| present(rest, inner))
        }
        (Segment::Index(_), Value::Array(items)) => items.iter().any(|item| present(rest, item)),
        _ => false,
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, segment) in self.segments.iter().enumerate() {
            match segment {
                Segment::Field(name) if i == 0 => write!(f, "{name}")?,
                Segment::Field(name) => write!(f, ".{name}")?,
                Segment::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lookup_walks_fields_and_indexes() {
        let value = json!({"a": {"b": {"c": 7}}, "items": [{"sku": "x"}, {"sku": "y"}]});
        let path = |text| FieldPath::parse(text).expect("valid path");
        assert_eq!(path("a.b.c").lookup(&value), Some(&json!(7)));
        assert_eq!(path("items[1].sku").lookup(&value), Some(&json!("y")));
        assert_eq!(path("items[2].sku").lookup(&value), None);
        assert_eq!(path("a.x").lookup(&value), None);
        assert_eq!(path("items[1].sku").to_string(), "items[1].sku");
    }

    #[test]
    fn presence_treats_indexes_as_any_element() {
        let value = json!({"items": [{"sku": "x"}], "gone": null});
        let path = |text| FieldPath::parse(text).expect("valid path");
        assert!(path("items[5].sku").present_in(&value));
        assert!(path("gone").present_in(&value));
        assert!(!path("items[0].qty").present_in(&value));
    }

    #[test]
    fn non_path_text_is_rejected_with_position() {
        let err = FieldPath::parse("version + 1").expect_err("not a path");
        assert_eq!(
            err.to_string(),
            r#""version + 1" at 8: expected the end of the field path"#
        );
        let err = FieldPath::parse("'x'").expect_err("not a path");
        assert_eq!(err.pos, 0);
    }
}
