//! [`generate`]: draw records from the schema's strategy with a seeded proptest runner, then apply
//! the stateful rules, then check every record.

use std::collections::{BTreeMap, BTreeSet};

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::SchemaError;
use crate::rules::{self, FieldRule, Plan, State};
use crate::schema::{accepts, InputSchema, Shape};
use crate::strategy::value_strategy;

/// What to generate.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GenSpec {
    /// Same seed ⇒ same bytes.
    pub seed: u64,
    /// How many records.
    pub events: u64,
    /// Dotted path of the field whose value is the Kafka key ("" = records without key).
    pub key: String,
    /// Dotted path of the field the harness fills with a unique value per event ("" = none;
    /// then [`Generated::identity`] is the record's index).
    pub identity: String,
    /// Per-field overrides by dotted path.
    pub fields: BTreeMap<String, FieldRule>,
}

/// One generated record.
#[derive(Debug, Clone, PartialEq)]
pub struct Generated {
    /// The key field's value: its UTF-8 bytes if a string, its compact JSON text otherwise.
    pub key: Option<Vec<u8>>,
    /// The record as compact JSON text (object keys sorted alphabetically).
    pub value: Vec<u8>,
    /// The record as a JSON value.
    pub json: Value,
    /// The identity field's value as text (the record's index when no identity field is set).
    pub identity: String,
}

/// Generate `spec.events` records that all pass [`InputSchema::check`].
pub fn generate(schema: &InputSchema, spec: &GenSpec) -> Result<Vec<Generated>, SchemaError> {
    let digest = Sha256::new()
        .chain_update(b"faultline-schemagen")
        .chain_update(spec.seed.to_le_bytes())
        .finalize();
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &digest[..]);
    let config = Config {
        max_local_rejects: 100_000,
        max_global_rejects: 100_000,
        ..Config::default()
    };
    let mut runner = TestRunner::new_with_rng(config, rng);
    let prefix: String = digest[28..]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>()[..6]
        .to_owned();

    let plans = compile_plans(schema, spec, &prefix, &mut runner)?;
    let mut root = schema.root().clone();
    for (path, _) in &plans {
        force_present(&mut root, path);
    }
    let strategy = value_strategy(&root);
    let mut state = State::new(u64::from_le_bytes(
        digest[..8].try_into().unwrap_or_default(),
    ));
    // Versions count per key, so they go last, once the key field has its final value.
    let (versions, others): (Vec<_>, Vec<_>) =
        plans.iter().partition(|(_, p)| matches!(p, Plan::Version));
    let mut out = Vec::with_capacity(usize::try_from(spec.events).unwrap_or(0));
    for n in 0..spec.events {
        let invalid = |message: String| SchemaError::Invalid {
            path: schema.path().to_path_buf(),
            index: n,
            message,
        };
        let mut json = strategy
            .new_tree(&mut runner)
            .map_err(|e| invalid(e.to_string()))?
            .current();
        let mut identity = n.to_string();
        for (path, plan) in others.iter().chain(&versions) {
            let key = get_at(&json, &spec.key)
                .filter(|_| !spec.key.is_empty())
                .map(key_bytes);
            let value = plan.value(n, key.as_deref(), &mut state);
            if let Err(e) = accepts(schema.shape_at(path).unwrap_or(&Shape::Null), &value, path) {
                return Err(bad_rule(
                    schema,
                    path,
                    format!("produced {value}, which the schema forbids: {e}"),
                ));
            }
            if *path == spec.identity {
                identity = value
                    .as_str()
                    .map_or_else(|| value.to_string(), str::to_owned);
            }
            set_at(&mut json, path, value);
        }
        let key = get_at(&json, &spec.key)
            .filter(|_| !spec.key.is_empty())
            .map(key_bytes);
        schema.check(&json).map_err(invalid)?;
        let value = serde_json::to_vec(&json).map_err(|e| invalid(e.to_string()))?;
        out.push(Generated {
            key,
            value,
            json,
            identity,
        });
    }
    Ok(out)
}

fn key_bytes(v: &Value) -> Vec<u8> {
    match v {
        Value::String(s) => s.as_bytes().to_vec(),
        other => other.to_string().into_bytes(),
    }
}

fn bad_rule(schema: &InputSchema, field: &str, message: String) -> SchemaError {
    SchemaError::BadRule {
        path: schema.path().to_path_buf(),
        field: field.to_owned(),
        message,
    }
}

/// Check key/identity/rules against the schema; the plans in application order: key first (so
/// versions can count per key), identity, then the rest by path.
fn compile_plans(
    schema: &InputSchema,
    spec: &GenSpec,
    prefix: &str,
    runner: &mut TestRunner,
) -> Result<Vec<(String, Plan)>, SchemaError> {
    let mut named: Vec<&str> = vec![&spec.key, &spec.identity];
    named.extend(spec.fields.keys().map(String::as_str));
    for path in named.into_iter().filter(|p| !p.is_empty()) {
        if !settable(schema.root(), path) {
            let why = if schema.has_field(path) {
                "is inside an array or a nullable object; rules need a path through objects only"
            } else {
                "is not a field of the schema"
            };
            return Err(bad_rule(
                schema,
                path,
                format!(
                    "\"{path}\" {why}; the schema's fields are: {}",
                    schema.fields().join(", ")
                ),
            ));
        }
    }
    if !spec.identity.is_empty() && spec.fields.contains_key(&spec.identity) {
        return Err(bad_rule(
            schema,
            &spec.identity,
            "the identity field is filled by the harness; remove its rule".into(),
        ));
    }
    let mut ordered: Vec<&String> = spec.fields.keys().collect();
    ordered.sort_by_key(|p| (**p != spec.key, (*p).clone()));
    let mut plans = Vec::new();
    if !spec.identity.is_empty() {
        let shape = rules::core(schema.shape_at(&spec.identity).unwrap_or(&Shape::Null));
        let plan = match shape {
            Shape::Integer { max, .. } if max.is_none_or(|m| m >= spec.events as i64) => Plan::Identity { prefix: prefix.into(), uuid: false, integer: true },
            Shape::String(s) if s.pattern.is_none() && s.format == Some(crate::schema::Format::Uuid) => Plan::Identity { prefix: prefix.into(), uuid: true, integer: false },
            Shape::String(s) if s.pattern.is_none() && s.format.is_none() && s.min_len <= 15 && s.max_len.is_none_or(|m| m >= 15) => Plan::Identity { prefix: prefix.into(), uuid: false, integer: false },
            other => return Err(bad_rule(schema, &spec.identity, format!("the identity field must be a string (without pattern, format uuid allowed, maxLength ≥ 15) or an integer type (maximum ≥ events), not {}", crate::schema::describe(other)))),
        };
        plans.push((spec.identity.clone(), plan));
    }
    for path in ordered {
        let shape = schema.shape_at(path).unwrap_or(&Shape::Null);
        let leaf = path.rsplit('.').next().unwrap_or(path).to_owned();
        let mut pool = |s: &Shape, n: usize| key_pool(s, n, &leaf, runner);
        if let Some(plan) = rules::compile(&spec.fields[path], shape, spec.events, &mut pool)
            .map_err(|m| bad_rule(schema, path, m))?
        {
            if matches!(plan, Plan::Version) && spec.key.is_empty() {
                return Err(bad_rule(
                    schema,
                    path,
                    "version = \"per_key\" needs a key field".into(),
                ));
            }
            plans.push((path.clone(), plan));
        }
    }
    Ok(plans)
}

/// `n` distinct values that look like the field's type.
fn key_pool(
    shape: &Shape,
    n: usize,
    leaf: &str,
    runner: &mut TestRunner,
) -> Result<Vec<Value>, String> {
    match shape {
        Shape::Integer { min, max, epoch_ms } => {
            let (lo, hi) = crate::strategy::int_window(*min, *max, *epoch_ms);
            if (hi as i128 - lo as i128 + 1) < n as i128 {
                return Err(format!(
                    "the schema's range {lo}..={hi} has fewer than {n} values"
                ));
            }
            Ok((0..n as i64)
                .map(|i| Value::Number((lo.max(0).min(hi - n as i64 + 1) + i).into()))
                .collect())
        }
        Shape::Enum(values) if values.len() >= n => Ok(values[..n].to_vec()),
        Shape::String(s) if s.pattern.is_none() && s.format.is_none() => {
            let len = leaf.chars().count() + 7;
            if len >= s.min_len && s.max_len.is_none_or(|m| m >= len) {
                return Ok((0..n)
                    .map(|i| Value::String(format!("{leaf}-{i:06}")))
                    .collect());
            }
            distinct(shape, n, runner)
        }
        Shape::String(_) => distinct(shape, n, runner),
        other => Err(format!(
            "cardinality applies to string, integer or enum fields, not {}",
            crate::schema::describe(other)
        )),
    }
}

/// Draw `n` distinct values from the shape's own strategy (patterns, formats).
fn distinct(shape: &Shape, n: usize, runner: &mut TestRunner) -> Result<Vec<Value>, String> {
    let strategy = value_strategy(shape);
    let (mut seen, mut values) = (BTreeSet::new(), Vec::new());
    for _ in 0..n.saturating_mul(50).max(100) {
        let v = strategy
            .new_tree(runner)
            .map_err(|e| e.to_string())?
            .current();
        if seen.insert(v.to_string()) {
            values.push(v);
            if values.len() == n {
                return Ok(values);
            }
        }
    }
    Err(format!(
        "could not find {n} distinct values the schema allows"
    ))
}

/// Whether a rule can set the field at `path`: every step goes through an object's property.
fn settable(shape: &Shape, path: &str) -> bool {
    let mut shape = shape;
    for segment in path.split('.') {
        let Shape::Object { fields, .. } = shape else {
            return false;
        };
        let Some(f) = fields.iter().find(|f| f.name == segment) else {
            return false;
        };
        shape = &f.shape;
    }
    true
}

/// Make every property along `path` required, so the rule's field is always present.
fn force_present(shape: &mut Shape, path: &str) {
    let mut shape = shape;
    for segment in path.split('.') {
        let Shape::Object { fields, .. } = shape else {
            return;
        };
        let Some(f) = fields.iter_mut().find(|f| f.name == segment) else {
            return;
        };
        f.required = true;
        shape = &mut f.shape;
    }
}

pub(crate) fn get_at<'v>(value: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.').try_fold(value, |v, seg| match v {
        Value::Array(items) => items.get(seg.parse::<usize>().ok()?),
        other => other.get(seg),
    })
}

fn set_at(value: &mut Value, path: &str, new: Value) {
    let mut cur = value;
    let mut segments = path.split('.').peekable();
    while let Some(seg) = segments.next() {
        let Value::Object(map) = cur else { return };
        if segments.peek().is_none() {
            map.insert(seg.to_owned(), new);
            return;
        }
        let Some(next) = map.get_mut(seg) else { return };
        cur = next;
    }
}
