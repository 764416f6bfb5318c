//! JSON Schema (draft 2020-12) → [`Shape`]: meta-schema check, then a lowering that accepts only
//! the keywords the generator can honour and refuses the rest by name and JSON pointer.

use std::path::Path;

use super::ordered::Node;
use super::shape::{Field, Format, Shape, StrShape};
use crate::error::SchemaError;

/// Keywords that carry no constraint and are ignored.
const ANNOTATIONS: &[&str] = &[
    "description",
    "title",
    "$schema",
    "$id",
    "examples",
    "default",
    "$comment",
    "$defs",
];

/// Keywords that constrain and are understood.
const CONSTRAINTS: &[&str] = &[
    "type",
    "properties",
    "required",
    "items",
    "enum",
    "const",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "pattern",
    "format",
    "minItems",
    "maxItems",
    "additionalProperties",
    "$ref",
];

/// Parse, meta-check and lower a JSON Schema text; also build its validator.
pub(super) fn load(text: &str, path: &Path) -> Result<(Shape, jsonschema::Validator), SchemaError> {
    let parse = |message: String| SchemaError::Parse {
        path: path.to_path_buf(),
        message,
    };
    let root: Node =
        serde_json::from_str(text).map_err(|e| parse(format!("not valid JSON: {e}")))?;
    let value = root.to_value();
    if let Some(dialect) = value.get("$schema").and_then(|s| s.as_str()) {
        if !dialect.contains("2020-12") {
            return Err(parse(format!(
                "\"$schema\" is {dialect:?}; faultline reads JSON Schema draft 2020-12 \
                 (\"https://json-schema.org/draft/2020-12/schema\")"
            )));
        }
    }
    jsonschema::draft202012::meta::validate(&value).map_err(|e| {
        parse(format!(
            "not a valid JSON Schema draft 2020-12 at {}: {e}",
            pointer_or_root(&e.instance_path().to_string())
        ))
    })?;
    let shape = Lowering {
        root: &root,
        path,
        stack: Vec::new(),
    }
    .lower(&root, "")?;
    let validator = jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(&value)
        .map_err(|e| parse(format!("cannot compile the schema: {e}")))?;
    Ok((shape, validator))
}

fn pointer_or_root(p: &str) -> String {
    if p.is_empty() {
        "/".to_owned()
    } else {
        p.to_owned()
    }
}

struct Lowering<'a> {
    root: &'a Node,
    path: &'a Path,
    /// `$ref` targets being expanded, to detect recursion.
    stack: Vec<String>,
}

impl Lowering<'_> {
    fn unsupported(&self, keyword: &str, pointer: &str, detail: impl Into<String>) -> SchemaError {
        SchemaError::Unsupported {
            path: self.path.to_path_buf(),
            keyword: keyword.to_owned(),
            pointer: pointer_or_root(pointer),
            detail: detail.into(),
        }
    }

    fn lower(&mut self, node: &Node, ptr: &str) -> Result<Shape, SchemaError> {
        let Node::Obj(members) = node else {
            return Err(self.unsupported("true/false schema", ptr, "use an object schema"));
        };
        for (key, _) in members {
            if !ANNOTATIONS.contains(&key.as_str()) && !CONSTRAINTS.contains(&key.as_str()) {
                return Err(self.unsupported(key, &format!("{ptr}/{key}"), ""));
            }
        }
        if let Some(target) = node.get("$ref") {
            return self.lower_ref(node, target, ptr);
        }
        if let Some(value) = node.get("const") {
            return Ok(Shape::Enum(vec![value.to_value()]));
        }
        if let Some(values) = node.get("enum") {
            let Node::Arr(values) = values else {
                unreachable_meta()
            };
            return Ok(Shape::Enum(values.iter().map(Node::to_value).collect()));
        }
        match node.get("type") {
            Some(Node::Str(t)) => self.lower_typed(node, t, ptr),
            Some(Node::Arr(types)) => {
                let variants = types
                    .iter()
                    .map(|t| self.lower_typed(node, t.as_str().unwrap_or_default(), ptr))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(if variants.len() == 1 {
                    variants.into_iter().next().unwrap_or(Shape::Null)
                } else {
                    Shape::OneOf(variants)
                })
            }
            _ if node.get("properties").is_some() => self.lower_typed(node, "object", ptr),
            _ if node.get("items").is_some() => self.lower_typed(node, "array", ptr),
            _ => Err(self.unsupported(
                "type",
                &format!("{ptr}/type"),
                "every schema needs a \"type\" (or enum/const/$ref)",
            )),
        }
    }

    fn lower_ref(&mut self, node: &Node, target: &Node, ptr: &str) -> Result<Shape, SchemaError> {
        let here = format!("{ptr}/$ref");
        if let Some((key, _)) = node_members(node)
            .iter()
            .find(|(k, _)| k != "$ref" && !ANNOTATIONS.contains(&k.as_str()))
        {
            return Err(self.unsupported(
                "$ref",
                &here,
                format!("\"{key}\" beside \"$ref\"; move it into the referenced schema"),
            ));
        }
        let reference = target.as_str().unwrap_or_default();
        let Some(pointer) = reference.strip_prefix('#') else {
            return Err(self.unsupported(
                "$ref",
                &here,
                format!("{reference:?} is not a local \"#/...\" reference"),
            ));
        };
        if self.stack.iter().any(|p| p == pointer) {
            return Err(SchemaError::Recursive {
                path: self.path.to_path_buf(),
                pointer_or_name: format!("\"$ref\": \"{reference}\" at {here}"),
            });
        }
        let Some(resolved) = self.root.pointer(pointer) else {
            return Err(SchemaError::Parse {
                path: self.path.to_path_buf(),
                message: format!("\"$ref\" at {here}: {reference:?} points nowhere"),
            });
        };
        self.stack.push(pointer.to_owned());
        let shape = self.lower(resolved, pointer);
        self.stack.pop();
        shape
    }

    fn lower_typed(&mut self, node: &Node, ty: &str, ptr: &str) -> Result<Shape, SchemaError> {
        match ty {
            "object" => self.lower_object(node, ptr),
            "array" => {
                let Some(items) = node.get("items") else {
                    return Err(self.unsupported(
                        "items",
                        &format!("{ptr}/items"),
                        "arrays need an \"items\" schema",
                    ));
                };
                let items = self.lower(items, &format!("{ptr}/items"))?;
                let min = count(node, "minItems").unwrap_or(0);
                Ok(Shape::Array {
                    items: Box::new(items),
                    min,
                    max: count(node, "maxItems"),
                })
            }
            "string" => self.lower_string(node, ptr),
            "integer" => {
                let lo = bound(node, "minimum")
                    .map(|m| m.ceil())
                    .into_iter()
                    .chain(bound(node, "exclusiveMinimum").map(|m| m.floor() + 1.0))
                    .reduce(f64::max);
                let hi = bound(node, "maximum")
                    .map(|m| m.floor())
                    .into_iter()
                    .chain(bound(node, "exclusiveMaximum").map(|m| m.ceil() - 1.0))
                    .reduce(f64::min);
                Ok(Shape::Integer {
                    min: lo.map(|x| x as i64),
                    max: hi.map(|x| x as i64),
                    epoch_ms: false,
                })
            }
            "number" => {
                let (min, excl_min) = tighter(
                    bound(node, "minimum"),
                    bound(node, "exclusiveMinimum"),
                    true,
                );
                let (max, excl_max) = tighter(
                    bound(node, "maximum"),
                    bound(node, "exclusiveMaximum"),
                    false,
                );
                Ok(Shape::Number {
                    min,
                    max,
                    excl_min,
                    excl_max,
                })
            }
            "boolean" => Ok(Shape::Bool),
            "null" => Ok(Shape::Null),
            other => {
                Err(self.unsupported("type", &format!("{ptr}/type"), format!("type {other:?}")))
            }
        }
    }

    fn lower_object(&mut self, node: &Node, ptr: &str) -> Result<Shape, SchemaError> {
        let required: Vec<&str> = match node.get("required") {
            Some(Node::Arr(names)) => names.iter().filter_map(Node::as_str).collect(),
            _ => Vec::new(),
        };
        let mut fields = Vec::new();
        if let Some(props) = node.get("properties") {
            for (name, sub) in node_members(props) {
                let shape = self.lower(sub, &format!("{ptr}/properties/{}", escape(name)))?;
                fields.push(Field {
                    name: name.clone(),
                    shape,
                    required: required.contains(&name.as_str()),
                });
            }
        }
        if let Some(missing) = required
            .iter()
            .find(|r| !fields.iter().any(|f| f.name == **r))
        {
            return Err(self.unsupported(
                "required",
                &format!("{ptr}/required"),
                format!("\"{missing}\" is required but not in \"properties\"; declare it there"),
            ));
        }
        let closed = match node.get("additionalProperties") {
            None | Some(Node::Bool(true)) => false,
            Some(Node::Bool(false)) => true,
            Some(_) => {
                return Err(self.unsupported(
                    "additionalProperties",
                    &format!("{ptr}/additionalProperties"),
                    "only true or false",
                ))
            }
        };
        Ok(Shape::Object {
            fields,
            closed,
            emit_all: false,
        })
    }

    fn lower_string(&mut self, node: &Node, ptr: &str) -> Result<Shape, SchemaError> {
        let format = match node.get("format").and_then(Node::as_str) {
            None => None,
            Some("date-time") => Some(Format::DateTime),
            Some("uuid") => Some(Format::Uuid),
            Some("email") => Some(Format::Email),
            Some(other) => {
                return Err(self.unsupported(
                    "format",
                    &format!("{ptr}/format"),
                    format!("format {other:?}"),
                ))
            }
        };
        let pattern = node
            .get("pattern")
            .and_then(Node::as_str)
            .map(str::to_owned);
        if let Some(p) = &pattern {
            if format.is_some() {
                return Err(self.unsupported(
                    "pattern",
                    &format!("{ptr}/pattern"),
                    "pattern together with format; keep one",
                ));
            }
            if let Err(e) = crate::strategy::pattern_strategy(p) {
                return Err(self.unsupported(
                    "pattern",
                    &format!("{ptr}/pattern"),
                    format!("{p:?} is not in the simple subset: {e}"),
                ));
            }
        }
        Ok(Shape::String(StrShape {
            min_len: count(node, "minLength").unwrap_or(0),
            max_len: count(node, "maxLength"),
            pattern,
            format,
        }))
    }
}

fn node_members(node: &Node) -> &[(String, Node)] {
    match node {
        Node::Obj(members) => members,
        _ => &[],
    }
}

fn unreachable_meta() -> ! {
    unreachable!("the meta-schema check guarantees the keyword's shape")
}

fn count(node: &Node, key: &str) -> Option<usize> {
    node.get(key).and_then(Node::as_f64).map(|x| x as usize)
}

fn bound(node: &Node, key: &str) -> Option<f64> {
    node.get(key).and_then(Node::as_f64)
}

/// The tighter of an inclusive and an exclusive bound: (value, is_exclusive).
fn tighter(inclusive: Option<f64>, exclusive: Option<f64>, lower: bool) -> (Option<f64>, bool) {
    match (inclusive, exclusive) {
        (Some(i), Some(e)) if (lower && e >= i) || (!lower && e <= i) => (Some(e), true),
        (Some(i), _) => (Some(i), false),
        (None, Some(e)) => (Some(e), true),
        (None, None) => (None, false),
    }
}

fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}
