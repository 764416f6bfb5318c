//! Per-field overrides ([`FieldRule`]), their checking against the schema, and their stateful
//! application to drawn records (key pools, identity, per-key versions, clocks, ranges, weights).

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::{Number, Value};

use crate::clock::{format_rfc3339, parse_rfc3339};
use crate::schema::{Format, Shape};
use faultline_rng::SeededRng8;

/// Per-field override, read from the manifest's `[input.fields.NAME]` tables, e.g.
/// `cardinality = 200, hot_keys = 0.1, hot_share = 0.5` or `min = 0, max = 100000` or
/// `weights = { created = 5, paid = 3 }` or `time = "monotonic", step_ms = 1000` or
/// `version = "per_key"`. Only one kind of rule per field.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldRule {
    /// Draw the field's value from this many distinct values (string or integer fields).
    pub cardinality: Option<u64>,
    /// Fraction (0..=1] of the `cardinality` values that are "hot"; needs `hot_share`.
    pub hot_keys: Option<f64>,
    /// Fraction [0..=1] of the events that carry one of the hot values.
    pub hot_share: Option<f64>,
    /// Lowest value (inclusive) of an integer or number field; inside the schema's range.
    pub min: Option<f64>,
    /// Highest value (inclusive) of an integer or number field; inside the schema's range.
    pub max: Option<f64>,
    /// Relative weights of an enum field's values; values not listed are never drawn.
    pub weights: Option<BTreeMap<String, u32>>,
    /// A clock: `monotonic` (start + n × step_ms) or `skewed` (that minus a draw in
    /// [0, skew_ms]). Date-time strings get RFC 3339 with milliseconds; integers epoch ms.
    pub time: Option<TimeMode>,
    /// First instant of a `time` rule, RFC 3339 (default `2026-01-01T00:00:00Z`).
    pub start: Option<String>,
    /// Milliseconds between consecutive events of a `time` rule (default 1000).
    pub step_ms: Option<u64>,
    /// Largest backwards skew of a `skewed` clock, in milliseconds.
    pub skew_ms: Option<u64>,
    /// `per_key`: 1, 2, 3… per Kafka key, in generation order (integer fields).
    pub version: Option<VersionMode>,
}

/// The clocks of [`FieldRule::time`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeMode {
    /// Strictly increasing: start + n × step_ms.
    Monotonic,
    /// Monotonic minus a draw in [0, skew_ms]: out-of-order arrivals.
    Skewed,
}

/// The counters of [`FieldRule::version`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VersionMode {
    /// 1, 2, 3… per Kafka key.
    PerKey,
}

/// A rule checked against its field and ready to apply.
#[derive(Debug, Clone)]
pub(crate) enum Plan {
    /// Unique per event: `prefix-00000001`, a UUID, or n + 1.
    Identity {
        prefix: String,
        uuid: bool,
        integer: bool,
    },
    Pool {
        values: Vec<Value>,
        hot: usize,
        hot_share: f64,
    },
    Version,
    Clock {
        start: i64,
        step: i64,
        skew: i64,
        integer: bool,
    },
    Range {
        lo: f64,
        hi: f64,
        integer: bool,
    },
    Weights {
        values: Vec<Value>,
        weights: Vec<u64>,
    },
}

/// The mutable state of the rules across one generation run.
#[derive(Debug)]
pub(crate) struct State {
    draw: SeededRng8,
    versions: HashMap<Vec<u8>, u64>,
}

impl State {
    pub(crate) fn new(seed: u64) -> Self {
        State {
            draw: SeededRng8::chacha8(seed, 1),
            versions: HashMap::new(),
        }
    }
}

impl Plan {
    /// The value of the field for event `n` whose Kafka key bytes are `key`.
    pub(crate) fn value(&self, n: u64, key: Option<&[u8]>, state: &mut State) -> Value {
        let d = &mut state.draw;
        match self {
            Plan::Identity { integer: true, .. } => Value::Number((n + 1).into()),
            Plan::Identity {
                prefix, uuid: true, ..
            } => {
                let bits = (u128::from(u64::from_str_radix(prefix, 16).unwrap_or(0)) << 64)
                    | u128::from(n);
                Value::String(crate::strategy::uuid_text(bits))
            }
            Plan::Identity { prefix, .. } => Value::String(format!("{prefix}-{n:08}")),
            Plan::Pool {
                values,
                hot,
                hot_share,
            } => {
                let i = if *hot > 0 && (*hot == values.len() || d.uniform() < *hot_share) {
                    d.below(*hot as u64)
                } else {
                    *hot as u64 + d.below((values.len() - hot) as u64)
                };
                values[i as usize].clone()
            }
            Plan::Version => {
                let counter = state
                    .versions
                    .entry(key.unwrap_or_default().to_vec())
                    .or_insert(0);
                *counter += 1;
                Value::Number((*counter).into())
            }
            Plan::Clock {
                start,
                step,
                skew,
                integer,
            } => {
                let at = start + step * n as i64 - if *skew > 0 { between(d, 0, *skew) } else { 0 };
                if *integer {
                    Value::Number(at.into())
                } else {
                    Value::String(format_rfc3339(at))
                }
            }
            Plan::Range {
                lo,
                hi,
                integer: true,
            } => Value::Number(between(d, *lo as i64, *hi as i64).into()),
            Plan::Range { lo, hi, .. } => {
                let (a, b) = ((lo * 1e6).ceil() as i64, (hi * 1e6).floor() as i64);
                let x = between(d, a, b.max(a)) as f64 / 1e6;
                Value::Number(Number::from_f64(x).unwrap_or_else(|| 0.into()))
            }
            Plan::Weights { values, weights } => {
                let mut pick = d.below(weights.iter().sum());
                let i = weights
                    .iter()
                    .position(|w| {
                        if pick < *w {
                            true
                        } else {
                            pick -= w;
                            false
                        }
                    })
                    .unwrap_or(0);
                values[i].clone()
            }
        }
    }
}

/// The non-null variant of a nullable union (the type a rule produces).
pub(crate) fn core(shape: &Shape) -> &Shape {
    match shape {
        Shape::OneOf(variants) => variants
            .iter()
            .find(|v| **v != Shape::Null)
            .unwrap_or(shape),
        other => other,
    }
}

/// Draws `n` distinct values for a field of the given shape (cardinality pools).
pub(crate) type PoolDraw<'a> = dyn FnMut(&Shape, usize) -> Result<Vec<Value>, String> + 'a;

/// Check `rule` against the field's shape and compile it. `Err` is the message for `BadRule`.
pub(crate) fn compile(
    rule: &FieldRule,
    shape: &Shape,
    events: u64,
    pool_draw: &mut PoolDraw<'_>,
) -> Result<Option<Plan>, String> {
    let groups = [
        (
            "cardinality/hot_keys/hot_share",
            rule.cardinality.is_some() || rule.hot_keys.is_some() || rule.hot_share.is_some(),
        ),
        ("min/max", rule.min.is_some() || rule.max.is_some()),
        ("weights", rule.weights.is_some()),
        (
            "time/start/step_ms/skew_ms",
            rule.time.is_some()
                || rule.start.is_some()
                || rule.step_ms.is_some()
                || rule.skew_ms.is_some(),
        ),
        ("version", rule.version.is_some()),
    ];
    let used: Vec<&str> = groups.iter().filter(|g| g.1).map(|g| g.0).collect();
    if used.len() > 1 {
        return Err(format!(
            "combines {}; give one kind of rule per field",
            used.join(" and ")
        ));
    }
    let shape = core(shape);
    let kind = crate::schema::describe(shape);
    match used.first().copied() {
        None => Ok(None),
        Some("cardinality/hot_keys/hot_share") => {
            let Some(card) = rule.cardinality.filter(|c| *c > 0) else {
                return Err("hot_keys/hot_share need cardinality = N (N ≥ 1)".into());
            };
            let (hot, hot_share) = match (rule.hot_keys, rule.hot_share) {
                (None, None) => (0, 0.0),
                (Some(k), Some(s)) if k > 0.0 && k <= 1.0 && (0.0..=1.0).contains(&s) => (((k * card as f64).round() as usize).max(1), s),
                _ => return Err("give both hot_keys in (0, 1] and hot_share in [0, 1]".into()),
            };
            let values = pool_draw(shape, card as usize).map_err(|e| format!("cardinality = {card} on a {kind} field: {e}"))?;
            Ok(Some(Plan::Pool { values, hot, hot_share }))
        }
        Some("min/max") => {
            let (lo_s, hi_s, integer) = match shape {
                Shape::Integer { min, max, .. } => (min.map(|m| m as f64), max.map(|m| m as f64), true),
                Shape::Number { min, max, .. } => (*min, *max, false),
                _ => return Err(format!("min/max apply to integer or number fields, not a {kind} field")),
            };
            let lo = rule.min.or(lo_s).unwrap_or(0.0);
            let hi = rule.max.or(hi_s).unwrap_or(lo + 1_000_000.0);
            if lo > hi {
                return Err(format!("min = {lo} is greater than max = {hi}"));
            }
            if integer && (lo.fract() != 0.0 || hi.fract() != 0.0) {
                return Err("min/max of an integer field must be whole numbers".into());
            }
            if lo_s.is_some_and(|s| lo < s) || hi_s.is_some_and(|s| hi > s) {
                return Err(format!("range {lo}..={hi} leaves the schema's range {}..={}", fmt_bound(lo_s), fmt_bound(hi_s)));
            }
            Ok(Some(Plan::Range { lo, hi, integer }))
        }
        Some("weights") => {
            let (Shape::Enum(allowed), Some(weights)) = (shape, &rule.weights) else {
                return Err(format!("weights apply to enum fields, not a {kind} field"));
            };
            if let Some(bad) = weights.keys().find(|k| !allowed.contains(&Value::String((*k).clone()))) {
                return Err(format!("weights name {bad:?}, which is not in the enum {}", Value::Array(allowed.clone())));
            }
            let w: Vec<u64> = allowed.iter().map(|v| v.as_str().and_then(|s| weights.get(s)).map_or(0, |w| u64::from(*w))).collect();
            if w.iter().sum::<u64>() == 0 {
                return Err("weights must not all be 0".into());
            }
            Ok(Some(Plan::Weights { values: allowed.clone(), weights: w }))
        }
        Some("time/start/step_ms/skew_ms") => {
            let integer = match shape {
                Shape::Integer { .. } => true,
                Shape::String(s) if s.pattern.is_none() && matches!(s.format, None | Some(Format::DateTime)) => false,
                _ => return Err(format!("time applies to date-time strings or integer (epoch ms) fields, not a {kind} field")),
            };
            let Some(mode) = rule.time else { return Err("start/step_ms/skew_ms need time = \"monotonic\" or \"skewed\"".into()) };
            let text = rule.start.as_deref().unwrap_or("2026-01-01T00:00:00Z");
            let start = parse_rfc3339(text).ok_or_else(|| format!("start = {text:?} is not an RFC 3339 UTC instant like 2026-01-01T00:00:00Z"))?;
            let step = rule.step_ms.unwrap_or(1000);
            if step == 0 {
                return Err("step_ms must be ≥ 1 (times must increase)".into());
            }
            let skew = match (mode, rule.skew_ms) {
                (TimeMode::Skewed, Some(s)) => s,
                (TimeMode::Skewed, None) => return Err("time = \"skewed\" needs skew_ms".into()),
                (TimeMode::Monotonic, Some(_)) => return Err("skew_ms needs time = \"skewed\"".into()),
                (TimeMode::Monotonic, None) => 0,
            };
            Ok(Some(Plan::Clock { start, step: step as i64, skew: skew as i64, integer }))
        }
        _ => match shape {
            Shape::Integer { max, .. } if max.is_none_or(|m| m >= events as i64) => Ok(Some(Plan::Version)),
            _ => Err(format!("version = \"per_key\" applies to integer fields (max ≥ events), not a {kind} field")),
        },
    }
}

fn fmt_bound(b: Option<f64>) -> String {
    b.map_or_else(|| "unbounded".into(), |b| b.to_string())
}

/// Uniform in `lo..=hi` (`lo <= hi`) over the whole `i64` range.
fn between(d: &mut SeededRng8, lo: i64, hi: i64) -> i64 {
    let span = hi.wrapping_sub(lo) as u64;
    lo.wrapping_add(d.range_inclusive(0, span) as i64)
}
