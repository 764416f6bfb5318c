//! The normal form two cells are compared in: numbers by value (also when
//! one side is numeric text), timestamps by instant, the rest by equality.

use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::num::Num;

/// Relative slack for float comparisons, absorbing decimal rounding noise.
const RELATIVE_SLACK: f64 = 1e-9;

/// Whether an expected cell and an actual cell hold the same value.
///
/// - numbers compare numerically, also against a string holding a number;
///   two integers must be equal exactly when `tolerance` is 0, otherwise
///   `|a - b| <= tolerance` (plus 1e-9 relative slack for decimals);
/// - two strings are equal if identical, or if both are RFC 3339 timestamps
///   naming the same instant;
/// - booleans and null by equality; arrays and objects cell by cell.
pub fn cells_equal(a: &Value, b: &Value, tolerance: f64) -> bool {
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::String(x), Value::String(y)) => x == y || instants_equal(x, y),
        (Value::Number(_), _) | (_, Value::Number(_)) => {
            match (Num::from_cell(a), Num::from_cell(b)) {
                (Some(x), Some(y)) => numbers_equal(x, y, tolerance),
                _ => false,
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| cells_equal(p, q, tolerance))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(name, p)| y.get(name).is_some_and(|q| cells_equal(p, q, tolerance)))
        }
        _ => false,
    }
}

/// Numeric equality under an absolute tolerance.
fn numbers_equal(x: Num, y: Num, tolerance: f64) -> bool {
    if let (Num::Int(p), Num::Int(q)) = (x, y) {
        let distance = (i128::from(p) - i128::from(q)).unsigned_abs();
        return distance == 0 || (distance as f64) <= tolerance;
    }
    let (p, q) = (x.as_f64(), y.as_f64());
    (p - q).abs() <= tolerance + RELATIVE_SLACK * p.abs().max(q.abs())
}

fn instants_equal(x: &str, y: &str) -> bool {
    matches!((parse_instant(x), parse_instant(y)), (Some(p), Some(q)) if p == q)
}

/// Nanoseconds since the Unix epoch of an RFC 3339 timestamp
/// (`2024-05-01T10:00:00Z`, `2024-05-01T12:00:00.5+02:00`).
pub(crate) fn parse_instant(text: &str) -> Option<i128> {
    let bytes = text.as_bytes();
    // Cheap guard: most strings are not timestamps.
    if bytes.len() < 20 || bytes[4] != b'-' || !bytes[0].is_ascii_digit() {
        return None;
    }
    OffsetDateTime::parse(text, &Rfc3339)
        .ok()
        .map(OffsetDateTime::unix_timestamp_nanos)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn integers_compare_exactly_without_tolerance() {
        assert!(cells_equal(&json!(3), &json!(3), 0.0));
        assert!(!cells_equal(&json!(3), &json!(4), 0.0));
        assert!(cells_equal(&json!(3), &json!(4), 1.0));
        assert!(!cells_equal(
            &json!(9_007_199_254_740_993_i64),
            &json!(9_007_199_254_740_992_i64),
            0.0
        ));
    }

    #[test]
    fn decimals_compare_with_relative_slack_and_tolerance() {
        assert!(cells_equal(&json!(0.1 + 0.2), &json!(0.3), 0.0));
        assert!(cells_equal(&json!(3), &json!(3.0), 0.0));
        assert!(!cells_equal(&json!(19.99), &json!(19.98), 0.0));
        assert!(cells_equal(&json!(19.99), &json!(19.98), 0.011));
    }

    #[test]
    fn number_and_numeric_text_compare_numerically() {
        assert!(cells_equal(&json!(19.99), &json!("19.99"), 0.0));
        assert!(cells_equal(&json!("20.00"), &json!(20), 0.0));
        assert!(!cells_equal(&json!("20.01"), &json!(20), 0.0));
        assert!(!cells_equal(&json!("abc"), &json!(20), 0.0));
        // Two strings are text, even when numeric.
        assert!(!cells_equal(&json!("1.0"), &json!("1.00"), 0.0));
    }

    #[test]
    fn timestamps_compare_as_instants() {
        assert!(cells_equal(
            &json!("2024-05-01T10:00:00Z"),
            &json!("2024-05-01T12:00:00+02:00"),
            0.0
        ));
        assert!(cells_equal(
            &json!("2024-05-01T10:00:00.120Z"),
            &json!("2024-05-01T10:00:00.12+00:00"),
            0.0
        ));
        assert!(!cells_equal(
            &json!("2024-05-01T10:00:00Z"),
            &json!("2024-05-01T10:00:01Z"),
            0.0
        ));
        assert!(!cells_equal(
            &json!("2024-05-01 10:00:00"),
            &json!("2024-05-01T10:00:00Z"),
            0.0
        ));
    }

    #[test]
    fn other_types_compare_by_equality() {
        assert!(cells_equal(&json!(null), &json!(null), 0.0));
        assert!(!cells_equal(&json!(null), &json!(0), 0.0));
        assert!(cells_equal(&json!(true), &json!(true), 0.0));
        assert!(!cells_equal(&json!(true), &json!("true"), 0.0));
        assert!(cells_equal(
            &json!({"a": [1, "x"]}),
            &json!({"a": [1.0, "x"]}),
            0.0
        ));
        assert!(!cells_equal(&json!([1]), &json!([1, 2]), 0.0));
    }
}
