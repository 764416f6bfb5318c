//! Avro (`.avsc`) → [`Shape`], using apache-avro's parser and typed `Schema`, and the Avro half
//! of [`InputSchema::check`](super::InputSchema::check).

use std::collections::HashMap;
use std::path::Path;

use apache_avro::schema::{Name, RecordSchema};
use apache_avro::Schema;
use serde_json::Value;

use super::shape::{Field, Format, Shape, StrShape};
use crate::error::SchemaError;

/// Parse and lower an Avro schema text.
pub(super) fn load(text: &str, path: &Path) -> Result<(Shape, Schema), SchemaError> {
    let schema = Schema::parse_str(text).map_err(|e| SchemaError::Parse {
        path: path.to_path_buf(),
        message: format!("not a valid Avro schema: {e}"),
    })?;
    let mut names = HashMap::new();
    collect_names(&schema, &mut names);
    let shape = Lowering {
        path,
        names: &names,
        stack: Vec::new(),
    }
    .lower(&schema, "")?;
    if !matches!(shape, Shape::Object { .. }) {
        return Err(SchemaError::Unsupported {
            path: path.to_path_buf(),
            keyword: "type".into(),
            pointer: "/".into(),
            detail: "the top-level Avro type must be a record".into(),
        });
    }
    Ok((shape, schema))
}

/// apache-avro's verdict on a JSON record: resolve a `Value` built from the JSON, then validate.
pub(super) fn check(schema: &Schema, value: &Value) -> Result<(), String> {
    let avro = apache_avro::types::Value::try_from(value.clone()).map_err(|e| e.to_string())?;
    let resolved = avro
        .resolve(schema)
        .map_err(|e| format!("Avro resolve: {e}"))?;
    if resolved.validate(schema) {
        Ok(())
    } else {
        Err("Avro validate rejected the record".into())
    }
}

fn full(name: &Name) -> String {
    name.fullname(None)
}

/// Every named type (record, enum, fixed) by full name, so references can be followed.
fn collect_names<'s>(schema: &'s Schema, names: &mut HashMap<String, &'s Schema>) {
    match schema {
        Schema::Record(RecordSchema { name, fields, .. }) => {
            names.insert(full(name), schema);
            fields.iter().for_each(|f| collect_names(&f.schema, names));
        }
        Schema::Enum(e) => {
            names.insert(full(&e.name), schema);
        }
        Schema::Fixed(f) => {
            names.insert(full(&f.name), schema);
        }
        Schema::Array(a) => collect_names(&a.items, names),
        Schema::Map(m) => collect_names(&m.types, names),
        Schema::Union(u) => u.variants().iter().for_each(|v| collect_names(v, names)),
        _ => {}
    }
}

struct Lowering<'a> {
    path: &'a Path,
    names: &'a HashMap<String, &'a Schema>,
    /// Records being expanded, to detect a record that contains itself.
    stack: Vec<String>,
}

impl Lowering<'_> {
    fn lower(&mut self, schema: &Schema, at: &str) -> Result<Shape, SchemaError> {
        let unsupported = |keyword: &str| SchemaError::Unsupported {
            path: self.path.to_path_buf(),
            keyword: keyword.to_owned(),
            pointer: if at.is_empty() {
                "/".to_owned()
            } else {
                at.to_owned()
            },
            detail: "Avro types supported: record, enum, array, map, union, string, int, long, \
                     float, double, boolean, bytes, fixed, null, timestamp-millis/micros, date, \
                     time-millis, uuid"
                .into(),
        };
        Ok(match schema {
            Schema::Null => Shape::Null,
            Schema::Boolean => Shape::Bool,
            Schema::Int => Shape::Integer {
                min: Some(i32::MIN.into()),
                max: Some(i32::MAX.into()),
                epoch_ms: false,
            },
            Schema::Long => Shape::Integer {
                min: None,
                max: None,
                epoch_ms: false,
            },
            Schema::Date => Shape::Integer {
                min: Some(0),
                max: Some(36_500),
                epoch_ms: false,
            },
            Schema::TimeMillis => Shape::Integer {
                min: Some(0),
                max: Some(86_399_999),
                epoch_ms: false,
            },
            Schema::TimestampMillis | Schema::LocalTimestampMillis => Shape::Integer {
                min: None,
                max: None,
                epoch_ms: true,
            },
            Schema::TimestampMicros | Schema::LocalTimestampMicros => Shape::Integer {
                min: Some(0),
                max: Some(4_102_444_800_000_000),
                epoch_ms: false,
            },
            Schema::Float | Schema::Double => Shape::Number {
                min: None,
                max: None,
                excl_min: false,
                excl_max: false,
            },
            Schema::String | Schema::Bytes => Shape::String(StrShape::default()),
            Schema::Fixed(f) => Shape::String(StrShape {
                min_len: f.size,
                max_len: Some(f.size),
                pattern: Some(format!("[a-z0-9]{{{}}}", f.size)),
                format: None,
            }),
            Schema::Uuid(_) => Shape::String(StrShape {
                format: Some(Format::Uuid),
                ..StrShape::default()
            }),
            Schema::Enum(e) => {
                Shape::Enum(e.symbols.iter().map(|s| Value::String(s.clone())).collect())
            }
            Schema::Array(a) => Shape::Array {
                items: Box::new(self.lower(&a.items, &format!("{at}[]"))?),
                min: 0,
                max: None,
            },
            Schema::Map(m) => Shape::Map(Box::new(self.lower(&m.types, &format!("{at}{{}}"))?)),
            Schema::Union(u) => Shape::OneOf(
                u.variants()
                    .iter()
                    .map(|v| self.lower(v, at))
                    .collect::<Result<_, _>>()?,
            ),
            Schema::Record(r) => self.lower_record(r, at)?,
            Schema::Ref { name } => {
                let key = full(name);
                if self.stack.contains(&key) {
                    return Err(SchemaError::Recursive {
                        path: self.path.to_path_buf(),
                        pointer_or_name: format!(
                            "Avro type \"{key}\" (at {})",
                            if at.is_empty() { "/" } else { at }
                        ),
                    });
                }
                let Some(target) = self.names.get(&key).copied() else {
                    return Err(unsupported("reference"));
                };
                self.lower(target, at)?
            }
            Schema::Decimal(_) => return Err(unsupported("decimal")),
            Schema::BigDecimal => return Err(unsupported("big-decimal")),
            Schema::Duration(_) => return Err(unsupported("duration")),
            Schema::TimestampNanos | Schema::LocalTimestampNanos => {
                return Err(unsupported("timestamp-nanos"))
            }
            Schema::TimeMicros => return Err(unsupported("time-micros")),
        })
    }

    fn lower_record(&mut self, record: &RecordSchema, at: &str) -> Result<Shape, SchemaError> {
        let key = full(&record.name);
        if self.stack.contains(&key) {
            return Err(SchemaError::Recursive {
                path: self.path.to_path_buf(),
                pointer_or_name: format!("Avro record \"{key}\""),
            });
        }
        self.stack.push(key);
        let mut fields = Vec::new();
        for f in &record.fields {
            let shape = self.lower(&f.schema, &format!("{at}/{}", f.name));
            let shape = match shape {
                Ok(s) => s,
                Err(e) => {
                    self.stack.pop();
                    return Err(e);
                }
            };
            fields.push(Field {
                name: f.name.clone(),
                shape,
                required: f.default.is_none(),
            });
        }
        self.stack.pop();
        Ok(Shape::Object {
            fields,
            closed: true,
            emit_all: true,
        })
    }
}
