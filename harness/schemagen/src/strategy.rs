//! [`Shape`] → proptest strategy producing `serde_json::Value`s that satisfy the shape.

use proptest::prelude::*;
use proptest::strategy::{BoxedStrategy, Just, Union};
use serde_json::{Map, Number, Value};

use crate::clock::format_rfc3339;
use crate::schema::{Format, Shape, StrShape};

/// Probability that an optional (not required) property is present.
pub(crate) const OPTIONAL_PRESENT: f64 = 0.7;
/// Arrays get at most this many items (or `minItems`, if larger).
pub(crate) const MAX_ITEMS: usize = 5;
/// 2020-01-01T00:00:00Z and 2030-01-01T00:00:00Z: the window for generated points in time.
const TIME_WINDOW_MS: (i64, i64) = (1_577_836_800_000, 1_893_456_000_000);

/// The strategy for values of `shape`.
pub(crate) fn value_strategy(shape: &Shape) -> BoxedStrategy<Value> {
    match shape {
        Shape::Object {
            fields, emit_all, ..
        } => {
            let members: Vec<BoxedStrategy<Option<(String, Value)>>> = fields
                .iter()
                .map(|f| {
                    let name = f.name.clone();
                    let value = value_strategy(&f.shape).prop_map(move |v| (name.clone(), v));
                    if f.required || *emit_all {
                        value.prop_map(Some).boxed()
                    } else {
                        proptest::option::weighted(OPTIONAL_PRESENT, value).boxed()
                    }
                })
                .collect();
            members
                .prop_map(|pairs| Value::Object(pairs.into_iter().flatten().collect::<Map<_, _>>()))
                .boxed()
        }
        Shape::Map(values) => {
            let keys = proptest::string::string_regex("[a-z]{1,8}").expect("static regex");
            proptest::collection::btree_map(keys, value_strategy(values), 0..=3)
                .prop_map(|m| Value::Object(m.into_iter().collect()))
                .boxed()
        }
        Shape::Array { items, min, max } => {
            let hi = max
                .unwrap_or(usize::MAX)
                .min((*min).max(MAX_ITEMS))
                .max(*min);
            proptest::collection::vec(value_strategy(items), *min..=hi)
                .prop_map(Value::Array)
                .boxed()
        }
        Shape::String(s) => string_strategy(s).prop_map(Value::String).boxed(),
        Shape::Integer { min, max, epoch_ms } => {
            let (lo, hi) = int_window(*min, *max, *epoch_ms);
            (lo..=hi).prop_map(|i| Value::Number(i.into())).boxed()
        }
        Shape::Number {
            min,
            max,
            excl_min,
            excl_max,
        } => {
            let (lo, hi) = micro_window(*min, *max, *excl_min, *excl_max);
            (lo..=hi)
                .prop_map(|u| Value::Number(micros_to_number(u)))
                .boxed()
        }
        Shape::Bool => any::<bool>().prop_map(Value::Bool).boxed(),
        Shape::Null => Just(Value::Null).boxed(),
        Shape::OneOf(variants) => Union::new_weighted(
            variants
                .iter()
                .map(|v| (if *v == Shape::Null { 1 } else { 3 }, value_strategy(v)))
                .collect::<Vec<_>>(),
        )
        .boxed(),
        Shape::Enum(values) => proptest::sample::select(values.clone()).boxed(),
    }
}

/// The generation window of an integer shape: the schema's bounds, or a plausible range.
pub(crate) fn int_window(min: Option<i64>, max: Option<i64>, epoch_ms: bool) -> (i64, i64) {
    const SPAN: i64 = 1_000_000;
    match (min, max) {
        // Full machine-width bounds (Avro int) give plausible small values instead.
        (Some(lo), Some(hi))
            if lo <= 0 && hi >= SPAN && (hi as i128 - lo as i128) >= (1_i128 << 31) =>
        {
            (0, SPAN)
        }
        (Some(lo), Some(hi)) => (lo, hi.max(lo)),
        (Some(lo), None) => (lo, lo.saturating_add(SPAN)),
        (None, Some(hi)) => (hi.saturating_sub(SPAN), hi),
        (None, None) if epoch_ms => TIME_WINDOW_MS,
        (None, None) => (0, SPAN),
    }
}

/// The generation window of a number shape in millionths (numbers keep ≤ 6 decimals).
fn micro_window(min: Option<f64>, max: Option<f64>, excl_min: bool, excl_max: bool) -> (i64, i64) {
    const SPAN: f64 = 100_000.0;
    const LIMIT: f64 = 9.0e12; // keeps millionths inside i64
    let lo_f = min
        .unwrap_or_else(|| max.map_or(0.0, |m| m - SPAN))
        .clamp(-LIMIT, LIMIT);
    let hi_f = max.unwrap_or(lo_f + SPAN).clamp(-LIMIT, LIMIT);
    let mut lo = (lo_f * 1e6).ceil() as i64;
    let mut hi = (hi_f * 1e6).floor() as i64;
    if excl_min && min.is_some_and(|m| micros_to_f64(lo) <= m) {
        lo += 1;
    }
    if excl_max && max.is_some_and(|m| micros_to_f64(hi) >= m) {
        hi -= 1;
    }
    (lo, hi.max(lo))
}

fn micros_to_f64(u: i64) -> f64 {
    u as f64 / 1e6
}

fn micros_to_number(u: i64) -> Number {
    Number::from_f64(micros_to_f64(u)).unwrap_or_else(|| Number::from(0))
}

/// Strings honouring length, `format` and (simple) `pattern`.
fn string_strategy(s: &StrShape) -> BoxedStrategy<String> {
    match s.format {
        Some(Format::DateTime) => {
            return (TIME_WINDOW_MS.0..TIME_WINDOW_MS.1)
                .prop_map(format_rfc3339)
                .boxed()
        }
        Some(Format::Uuid) => return any::<u128>().prop_map(uuid_text).boxed(),
        Some(Format::Email) => return regex("[a-z]{1,10}@[a-z]{1,10}\\.(com|org|net)"),
        None => {}
    }
    let max = s
        .max_len
        .unwrap_or(usize::MAX)
        .min(s.min_len + 24)
        .max(s.min_len);
    match &s.pattern {
        None => regex(&format!("[a-zA-Z0-9_-]{{{},{max}}}", s.min_len)),
        Some(p) => {
            let (min_len, max_len) = (s.min_len, s.max_len);
            let base = pattern_strategy(p).expect("pattern checked when the schema was loaded");
            if min_len == 0 && max_len.is_none() {
                base
            } else {
                base.prop_filter("pattern string outside minLength/maxLength", move |t| {
                    let n = t.chars().count();
                    n >= min_len && max_len.is_none_or(|m| n <= m)
                })
                .boxed()
            }
        }
    }
}

fn regex(r: &str) -> BoxedStrategy<String> {
    proptest::string::string_regex(r)
        .expect("generated regex is valid")
        .boxed()
}

/// A version-4-looking UUID from 128 random bits.
pub(crate) fn uuid_text(bits: u128) -> String {
    let bits = (bits & !(0xF << 76) | (0x4 << 76)) & !(0x3 << 62) | (0x2 << 62);
    let hex = format!("{bits:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// A strategy for a JSON Schema `pattern` in the simple subset (literals, classes, `\d`, `\w`,
/// quantifiers, groups, alternation; `^`/`$` only at the ends).
pub(crate) fn pattern_strategy(pattern: &str) -> Result<BoxedStrategy<String>, String> {
    let mut p = pattern;
    if let Some(rest) = p.strip_prefix('^') {
        p = rest;
    }
    if p.ends_with('$') && !p.ends_with("\\$") {
        p = &p[..p.len() - 1];
    }
    if p.contains("(?") {
        return Err("groups with (? flags or look-around are not supported".into());
    }
    // ECMA-262 `\d`/`\w` are ASCII; the regex crate's default is Unicode. Pin them to ASCII.
    let mut ascii = String::with_capacity(p.len());
    let mut chars = p.chars();
    while let Some(c) = chars.next() {
        match (c, c == '\\') {
            (_, true) => match chars.next() {
                Some('d') => ascii.push_str("[0-9]"),
                Some('w') => ascii.push_str("[A-Za-z0-9_]"),
                Some(other) => {
                    ascii.push('\\');
                    ascii.push(other);
                }
                None => return Err("trailing backslash".into()),
            },
            _ => ascii.push(c),
        }
    }
    proptest::string::string_regex(&ascii)
        .map(|s| s.boxed())
        .map_err(|e| e.to_string())
}
