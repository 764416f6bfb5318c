//! [`InputSchema`]: a user's schema file lowered into one internal [`Shape`] tree, plus the
//! checker (jsonschema or apache-avro) that every record is validated with.

mod avro;
mod json;
mod ordered;
mod shape;

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::error::SchemaError;
pub(crate) use shape::{accepts, describe, join, json_types, Format, Shape, StrShape};

/// A parsed, checked input-event schema (JSON Schema draft 2020-12 or Avro).
pub struct InputSchema {
    path: PathBuf,
    root: Shape,
    checker: Checker,
}

enum Checker {
    Json(Box<jsonschema::Validator>),
    Avro(Box<apache_avro::Schema>),
}

impl std::fmt::Debug for InputSchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.checker {
            Checker::Json(_) => "json-schema",
            Checker::Avro(_) => "avro",
        };
        f.debug_struct("InputSchema")
            .field("path", &self.path)
            .field("kind", &kind)
            .field("fields", &self.fields())
            .finish()
    }
}

impl InputSchema {
    /// `.avsc` → Avro, anything else (`.json`) → JSON Schema. Reads and checks the file.
    pub fn load(path: &Path) -> Result<InputSchema, SchemaError> {
        let text = std::fs::read_to_string(path).map_err(|source| SchemaError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("avsc"))
        {
            Self::from_avro(&text, path)
        } else {
            Self::from_json_schema(&text, path)
        }
    }

    /// Parse a JSON Schema (draft 2020-12) text; `path` is only used in messages.
    pub fn from_json_schema(text: &str, path: &Path) -> Result<InputSchema, SchemaError> {
        let (root, validator) = json::load(text, path)?;
        Ok(InputSchema {
            path: path.to_path_buf(),
            root,
            checker: Checker::Json(Box::new(validator)),
        })
    }

    /// Parse an Avro schema (`.avsc`) text; `path` is only used in messages.
    pub fn from_avro(text: &str, path: &Path) -> Result<InputSchema, SchemaError> {
        let (root, schema) = avro::load(text, path)?;
        Ok(InputSchema {
            path: path.to_path_buf(),
            root,
            checker: Checker::Avro(Box::new(schema)),
        })
    }

    /// The top-level field names, in schema order (for the manifest's checks of
    /// key/identity/fields names).
    pub fn fields(&self) -> Vec<String> {
        match &self.root {
            Shape::Object { fields, .. } => fields.iter().map(|f| f.name.clone()).collect(),
            _ => Vec::new(),
        }
    }

    /// Whether a dotted field path (`customer.id`) exists. Arrays are stepped through
    /// transparently (`items.sku` names the `sku` of every element of `items`).
    pub fn has_field(&self, path: &str) -> bool {
        self.shape_at(path).is_some()
    }

    /// Validate one record against the schema (jsonschema for JSON Schema; for Avro, a strict
    /// structural pass plus apache-avro's resolve/validate of a value built from the JSON).
    /// `Err` is a human-readable message.
    pub fn check(&self, value: &Value) -> Result<(), String> {
        match &self.checker {
            Checker::Json(validator) => {
                let errors: Vec<String> = validator
                    .iter_errors(value)
                    .map(|e| format!("at \"{}\": {e}", e.instance_path()))
                    .collect();
                if errors.is_empty() {
                    Ok(())
                } else {
                    Err(errors.join("; "))
                }
            }
            Checker::Avro(schema) => {
                shape::accepts(&self.root, value, "")?;
                avro::check(schema, value)
            }
        }
    }

    /// The schema file this was loaded from (for messages).
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn root(&self) -> &Shape {
        &self.root
    }

    /// The shape of the field at a dotted path, stepping through arrays.
    pub(crate) fn shape_at(&self, path: &str) -> Option<&Shape> {
        let mut shape = &self.root;
        for segment in path.split('.') {
            shape = field_shape(shape, segment)?;
        }
        Some(shape)
    }
}

/// The shape of property `name` of an object shape (looking through arrays and nullable unions).
fn field_shape<'s>(shape: &'s Shape, name: &str) -> Option<&'s Shape> {
    match shape {
        Shape::Object { fields, .. } => fields.iter().find(|f| f.name == name).map(|f| &f.shape),
        Shape::Array { items, .. } => field_shape(items, name),
        Shape::OneOf(variants) => variants.iter().find_map(|v| field_shape(v, name)),
        _ => None,
    }
}
