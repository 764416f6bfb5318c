//! Field-by-field reading of a model's JSON, so every error names the file and the exact field.
//!
//! serde's derive would report "missing field" or "invalid type" with a line and column but not the
//! dotted path of a nested weight, and it cannot reject `"NaN"` written as a string. Model files are
//! tiny, so reading them by hand costs nothing.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::error::{ModelError, Result};

/// One JSON object of a model file, with the file's path for error messages.
pub(crate) struct Fields<'a> {
    path: PathBuf,
    obj: &'a Map<String, Value>,
}

impl<'a> Fields<'a> {
    /// Wraps the top-level value of `path`, which must be an object.
    pub(crate) fn top(path: &Path, value: &'a Value) -> Result<Self> {
        match value {
            Value::Object(obj) => Ok(Fields {
                path: path.to_path_buf(),
                obj,
            }),
            other => Err(ModelError::UnknownFormat {
                path: path.to_path_buf(),
                problem: format!("top level is {} rather than a JSON object", kind_of(other)),
            }),
        }
    }

    /// The model file.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// An error about `field` in this file.
    pub(crate) fn err(&self, field: impl Into<String>, problem: impl Into<String>) -> ModelError {
        ModelError::model_field(&self.path, field, problem)
    }

    fn required(&self, name: &str) -> Result<&'a Value> {
        self.obj.get(name).ok_or_else(|| self.err(name, "missing"))
    }

    /// Rejects keys outside `allowed`, which are usually typos.
    pub(crate) fn deny_unknown(&self, allowed: &[&str]) -> Result<()> {
        match self.obj.keys().find(|k| !allowed.contains(&k.as_str())) {
            Some(k) => Err(self.err(
                k.clone(),
                format!("unknown field; expected one of {}", allowed.join(", ")),
            )),
            None => Ok(()),
        }
    }

    /// A required non-empty string.
    pub(crate) fn string(&self, name: &str) -> Result<String> {
        match self.required(name)? {
            Value::String(s) if !s.trim().is_empty() => Ok(s.clone()),
            Value::String(_) => Err(self.err(name, "must not be empty")),
            other => Err(self.err(name, format!("expected a string, got {}", kind_of(other)))),
        }
    }

    /// An optional string.
    #[cfg_attr(not(feature = "onnx"), allow(dead_code))]
    pub(crate) fn opt_string(&self, name: &str) -> Result<Option<String>> {
        match self.obj.get(name) {
            None => Ok(None),
            Some(_) => self.string(name).map(Some),
        }
    }

    /// A required finite number.
    pub(crate) fn number(&self, name: &str) -> Result<f64> {
        finite(self.required(name)?).map_err(|p| self.err(name, p))
    }

    /// An optional non-negative integer.
    #[cfg_attr(not(feature = "http"), allow(dead_code))]
    pub(crate) fn opt_u64(&self, name: &str) -> Result<Option<u64>> {
        match self.obj.get(name) {
            None => Ok(None),
            Some(v) => v.as_u64().map(Some).ok_or_else(|| {
                self.err(
                    name,
                    format!("expected a non-negative integer, got {}", kind_of(v)),
                )
            }),
        }
    }

    /// The decision threshold: a number in `[0, 1]`.
    pub(crate) fn threshold(&self) -> Result<f64> {
        let t = self.number("threshold")?;
        if !(0.0..=1.0).contains(&t) {
            return Err(self.err(
                "threshold",
                format!("{t} is outside [0, 1]; scores are probabilities"),
            ));
        }
        Ok(t)
    }

    /// The declared feature names: a non-empty list of distinct strings.
    pub(crate) fn feature_list(&self) -> Result<Vec<String>> {
        let items = match self.required("features")? {
            Value::Array(items) if !items.is_empty() => items,
            Value::Array(_) => return Err(self.err("features", "must list at least one feature")),
            other => {
                return Err(self.err(
                    "features",
                    format!("expected a list of names, got {}", kind_of(other)),
                ))
            }
        };
        let mut seen = BTreeSet::new();
        let mut names = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let field = format!("features[{i}]");
            let name = item.as_str().filter(|s| !s.is_empty()).ok_or_else(|| {
                self.err(
                    &field,
                    format!("expected a feature name, got {}", kind_of(item)),
                )
            })?;
            if !seen.insert(name) {
                return Err(self.err(field, format!("`{name}` is listed twice")));
            }
            names.push(name.to_string());
        }
        Ok(names)
    }

    /// An optional list.
    #[cfg_attr(not(feature = "onnx"), allow(dead_code))]
    pub(crate) fn opt_list(&self, name: &str) -> Result<Option<&'a Vec<Value>>> {
        match self.obj.get(name) {
            None => Ok(None),
            Some(Value::Array(items)) => Ok(Some(items)),
            Some(other) => Err(self.err(name, format!("expected a list, got {}", kind_of(other)))),
        }
    }

    /// An optional finite number.
    #[cfg_attr(not(feature = "onnx"), allow(dead_code))]
    pub(crate) fn opt_number(&self, name: &str) -> Result<Option<f64>> {
        match self.obj.get(name) {
            None => Ok(None),
            Some(v) => finite(v).map(Some).map_err(|p| self.err(name, p)),
        }
    }

    /// A required object, as its own `Fields` for nested access (e.g. `weights`).
    pub(crate) fn object(&self, name: &str) -> Result<&'a Map<String, Value>> {
        match self.required(name)? {
            Value::Object(m) => Ok(m),
            other => Err(self.err(name, format!("expected an object, got {}", kind_of(other)))),
        }
    }
}

/// A finite JSON number, or a message saying what was found instead.
pub(crate) fn finite(v: &Value) -> std::result::Result<f64, String> {
    match v {
        Value::Number(n) => match n.as_f64() {
            Some(x) if x.is_finite() => Ok(x),
            _ => Err(format!("{n} is not a finite number")),
        },
        other => Err(format!("expected a finite number, got {}", kind_of(other))),
    }
}

/// A short description of a JSON value for error messages.
pub(crate) fn kind_of(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("boolean {b}"),
        Value::Number(n) => format!("number {n}"),
        Value::String(s) => format!("string {s:?}"),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "an object".into(),
    }
}
