//! [`malformed`]: a copy of a valid record with exactly one schema-level defect.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::generate::GenSpec;
use crate::schema::{accepts, join, json_types, InputSchema, Shape};
use faultline_rng::SeededRng8;

/// The kinds of schema-level problem [`malformed`] can introduce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Defect {
    /// A required property is removed.
    MissingField,
    /// A value is replaced by one of a JSON type the schema does not allow there.
    WrongType,
    /// A number below its minimum / above its maximum, or a string outside its length bounds.
    OutOfRange,
    /// An enum field gets a string that is not one of its values.
    NotInEnum,
    /// A closed object (`additionalProperties: false`, any Avro record) gets an extra property.
    UnknownField,
}

impl Defect {
    /// Every defect, in declaration order.
    pub const ALL: [Defect; 5] = [
        Defect::MissingField,
        Defect::WrongType,
        Defect::OutOfRange,
        Defect::NotInEnum,
        Defect::UnknownField,
    ];

    /// The snake_case name (as in serde).
    pub fn as_str(self) -> &'static str {
        match self {
            Defect::MissingField => "missing_field",
            Defect::WrongType => "wrong_type",
            Defect::OutOfRange => "out_of_range",
            Defect::NotInEnum => "not_in_enum",
            Defect::UnknownField => "unknown_field",
        }
    }
}

/// The name of the property [`Defect::UnknownField`] adds (suffixed if the object has one).
pub const UNKNOWN_FIELD: &str = "unexpected_field";

/// A copy of `valid` with exactly one schema-level problem of kind `defect` at a field drawn with
/// `draw`, and the dotted path of the field it broke; `None` when the schema has no place for
/// that defect. The result fails [`InputSchema::check`]. This variant protects no field; use
/// [`malformed_for`] to keep the key and identity fields intact.
pub fn malformed(
    schema: &InputSchema,
    valid: &Value,
    defect: Defect,
    draw: u64,
) -> Option<(Value, String)> {
    malformed_protecting(schema, valid, defect, draw, &[])
}

/// Like [`malformed`], but never breaks `spec.key` or `spec.identity` (nor anything inside them):
/// the harness needs them to track the record. `None` if only those fields could carry it.
pub fn malformed_for(
    schema: &InputSchema,
    spec: &GenSpec,
    valid: &Value,
    defect: Defect,
    draw: u64,
) -> Option<(Value, String)> {
    let protect: Vec<&str> = [spec.key.as_str(), spec.identity.as_str()]
        .into_iter()
        .filter(|p| !p.is_empty())
        .collect();
    malformed_protecting(schema, valid, defect, draw, &protect)
}

fn malformed_protecting(
    schema: &InputSchema,
    valid: &Value,
    defect: Defect,
    draw: u64,
    protect: &[&str],
) -> Option<(Value, String)> {
    let mut sites = Vec::new();
    collect(schema.root(), valid, "", defect, &mut sites);
    sites.retain(|s| {
        !protect
            .iter()
            .any(|p| s.path == *p || s.path.starts_with(&format!("{p}.")))
    });
    let mut rng = SeededRng8::chacha8(draw, 2);
    // Try sites in a drawn order; keep the first mutation the real checker rejects.
    while !sites.is_empty() {
        let site = sites.swap_remove(rng.below(sites.len() as u64) as usize);
        let mut replacements = site.replacements;
        let start = rng.below(replacements.len() as u64) as usize;
        replacements.rotate_left(start);
        for replacement in replacements {
            let mut copy = valid.clone();
            if apply(&mut copy, &site.path, replacement) && schema.check(&copy).is_err() {
                return Some((copy, site.path));
            }
        }
    }
    None
}

/// A place a defect can go: the field's path and the candidate new values (`None` = remove).
struct Site {
    path: String,
    replacements: Vec<Option<Value>>,
}

fn collect(shape: &Shape, value: &Value, at: &str, defect: Defect, out: &mut Vec<Site>) {
    match (shape, value) {
        (Shape::OneOf(variants), v) => {
            if let Some(variant) = variants.iter().find(|s| accepts(s, v, at).is_ok()) {
                collect(variant, v, at, defect, out);
            }
        }
        (Shape::Object { fields, closed, .. }, Value::Object(map)) => {
            if defect == Defect::UnknownField && *closed {
                let mut name = UNKNOWN_FIELD.to_owned();
                while map.contains_key(&name) {
                    name.push('_');
                }
                out.push(Site {
                    path: join(at, &name),
                    replacements: vec![Some(Value::String("surprise".into()))],
                });
            }
            for field in fields {
                let Some(v) = map.get(&field.name) else {
                    continue;
                };
                let path = join(at, &field.name);
                if let Some(replacements) =
                    leaf_replacements(&field.shape, field.required, v, defect)
                {
                    out.push(Site {
                        path: path.clone(),
                        replacements,
                    });
                }
                collect(&field.shape, v, &path, defect, out);
            }
        }
        (Shape::Array { items, .. }, Value::Array(list)) => {
            for (i, v) in list.iter().enumerate() {
                collect(items, v, &join(at, &i.to_string()), defect, out);
            }
        }
        _ => {}
    }
}

/// The new values for a present field of `shape` under `defect`, or `None` if it cannot apply.
fn leaf_replacements(
    shape: &Shape,
    required: bool,
    value: &Value,
    defect: Defect,
) -> Option<Vec<Option<Value>>> {
    let shape = match shape {
        Shape::OneOf(variants) => variants
            .iter()
            .find(|s| accepts(s, value, "").is_ok())
            .unwrap_or(shape),
        other => other,
    };
    match defect {
        Defect::MissingField => required.then(|| vec![None]),
        Defect::WrongType => {
            let allowed = json_types(shape);
            let all = [
                ("string", Value::String("wrong-type".into())),
                ("integer", Value::from(7)),
                ("boolean", Value::Bool(true)),
                ("null", Value::Null),
                ("array", Value::Array(Vec::new())),
                ("object", Value::Object(Map::new())),
            ];
            let wrong: Vec<Option<Value>> = all
                .into_iter()
                .filter(|(t, _)| !allowed.contains(t))
                .map(|(_, v)| Some(v))
                .collect();
            (!wrong.is_empty()).then_some(wrong)
        }
        Defect::OutOfRange => {
            let v = match shape {
                Shape::Integer { min, max, .. } => match (
                    max.and_then(|m| m.checked_add(1)),
                    min.and_then(|m| m.checked_sub(1)),
                ) {
                    (Some(above), _) => Value::from(above),
                    (None, Some(below)) => Value::from(below),
                    _ => return None,
                },
                Shape::Number { min, max, .. } => match (max, min) {
                    (Some(m), _) => Value::from(m.floor() + 1.0),
                    (None, Some(m)) => Value::from(m.ceil() - 1.0),
                    _ => return None,
                },
                Shape::String(s) => match (s.max_len, s.min_len) {
                    (Some(m), _) => Value::String("x".repeat(m + 1)),
                    (None, m) if m > 0 => Value::String("x".repeat(m - 1)),
                    _ => return None,
                },
                _ => return None,
            };
            Some(vec![Some(v)])
        }
        Defect::NotInEnum => {
            let Shape::Enum(values) = shape else {
                return None;
            };
            let mut bogus = "not_in_enum".to_owned();
            while values.contains(&Value::String(bogus.clone())) {
                bogus.push('_');
            }
            Some(vec![Some(Value::String(bogus))])
        }
        Defect::UnknownField => None,
    }
}

/// Set (or with `None` remove) the value at a dotted path; `false` if the parent is missing.
fn apply(root: &mut Value, path: &str, new: Option<Value>) -> bool {
    let (parent, last) = path.rsplit_once('.').unwrap_or(("", path));
    let mut cur = root;
    for seg in parent.split('.').filter(|s| !s.is_empty()) {
        let next = match cur {
            Value::Object(map) => map.get_mut(seg),
            Value::Array(items) => seg.parse::<usize>().ok().and_then(|i| items.get_mut(i)),
            _ => None,
        };
        let Some(next) = next else { return false };
        cur = next;
    }
    let Value::Object(map) = cur else {
        return false;
    };
    match new {
        Some(v) => {
            map.insert(last.to_owned(), v);
        }
        None => {
            map.remove(last);
        }
    }
    true
}
