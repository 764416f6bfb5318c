//! Numbers as expressions, aggregates and comparisons see them: exact
//! integers where JSON has them, floats otherwise.

use serde_json::{Number, Value};

/// 2^63, the first float above the `i64` range.
const I64_LIMIT: f64 = 9_223_372_036_854_775_808.0;

/// A JSON number kept exact when it is an integer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Num {
    /// An integer that fits in `i64`.
    Int(i64),
    /// Anything else (decimals, huge integers).
    Float(f64),
}

impl Num {
    /// The number held by a JSON number value; `None` for anything else.
    pub(crate) fn from_json(value: &Value) -> Option<Num> {
        match value {
            Value::Number(n) => n
                .as_i64()
                .map(Num::Int)
                .or_else(|| n.as_f64().map(Num::Float)),
            _ => None,
        }
    }

    /// Parses text that is exactly a decimal number (`-12`, `19.99`, `1e3`).
    pub(crate) fn from_text(text: &str) -> Option<Num> {
        if !looks_numeric(text) {
            return None;
        }
        if let Ok(int) = text.parse::<i64>() {
            return Some(Num::Int(int));
        }
        text.parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .map(Num::Float)
    }

    /// A table cell's number: a JSON number, or a string holding one
    /// (Postgres `numeric` may arrive either way).
    pub(crate) fn from_cell(value: &Value) -> Option<Num> {
        match value {
            Value::String(text) => Num::from_text(text),
            other => Num::from_json(other),
        }
    }

    /// The value as a float (lossy above 2^53).
    pub(crate) fn as_f64(self) -> f64 {
        match self {
            Num::Int(i) => i as f64,
            Num::Float(f) => f,
        }
    }

    /// Turns integral floats inside the `i64` range into integers, so that
    /// `3` and `3.0` become the same value.
    pub(crate) fn normalized(self) -> Num {
        match self {
            Num::Float(f) if f.fract() == 0.0 && (-I64_LIMIT..I64_LIMIT).contains(&f) => {
                Num::Int(f as i64)
            }
            other => other,
        }
    }

    /// The JSON form; non-finite floats become null.
    pub(crate) fn into_value(self) -> Value {
        match self {
            Num::Int(i) => Value::from(i),
            Num::Float(f) => Number::from_f64(f).map_or(Value::Null, Value::Number),
        }
    }

    /// Sum, exact while both are integers and it does not overflow.
    pub(crate) fn add(self, other: Num) -> Num {
        match (self, other) {
            (Num::Int(a), Num::Int(b)) => a
                .checked_add(b)
                .map_or(Num::Float(a as f64 + b as f64), Num::Int),
            _ => Num::Float(self.as_f64() + other.as_f64()),
        }
    }

    /// Difference, exact while both are integers and it does not overflow.
    pub(crate) fn sub(self, other: Num) -> Num {
        match (self, other) {
            (Num::Int(a), Num::Int(b)) => a
                .checked_sub(b)
                .map_or(Num::Float(a as f64 - b as f64), Num::Int),
            _ => Num::Float(self.as_f64() - other.as_f64()),
        }
    }

    /// Product, exact while both are integers and it does not overflow.
    pub(crate) fn mul(self, other: Num) -> Num {
        match (self, other) {
            (Num::Int(a), Num::Int(b)) => a
                .checked_mul(b)
                .map_or(Num::Float(a as f64 * b as f64), Num::Int),
            _ => Num::Float(self.as_f64() * other.as_f64()),
        }
    }

    /// Real division (`7 / 2` is 3.5, `6 / 3` stays the integer 2);
    /// `None` when dividing by zero.
    pub(crate) fn div(self, other: Num) -> Option<Num> {
        if other.as_f64() == 0.0 {
            return None;
        }
        if let (Num::Int(a), Num::Int(b)) = (self, other) {
            if a.checked_rem(b) == Some(0) {
                if let Some(quotient) = a.checked_div(b) {
                    return Some(Num::Int(quotient));
                }
            }
        }
        Some(Num::Float(self.as_f64() / other.as_f64()))
    }

    /// Negation, exact for integers except `i64::MIN`.
    pub(crate) fn neg(self) -> Num {
        match self {
            Num::Int(i) => i.checked_neg().map_or(Num::Float(-(i as f64)), Num::Int),
            Num::Float(f) => Num::Float(-f),
        }
    }
}

/// True for `[+-]digits[.digits][e[+-]digits]` and nothing else, so that
/// words like `inf` or `NaN` stay text.
fn looks_numeric(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut i = usize::from(matches!(bytes.first(), Some(b'-' | b'+')));
    let digits = |i: &mut usize| {
        let start = *i;
        while bytes.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i > start
    };
    if !digits(&mut i) {
        return false;
    }
    if bytes.get(i) == Some(&b'.') {
        i += 1;
        if !digits(&mut i) {
            return false;
        }
    }
    if matches!(bytes.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(bytes.get(i), Some(b'-' | b'+')) {
            i += 1;
        }
        if !digits(&mut i) {
            return false;
        }
    }
    i == bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_text_is_recognised_strictly() {
        assert_eq!(Num::from_text("42"), Some(Num::Int(42)));
        assert_eq!(Num::from_text("-19.99"), Some(Num::Float(-19.99)));
        assert_eq!(Num::from_text("1e3"), Some(Num::Float(1000.0)));
        for text in ["", "-", "1.", ".5", "NaN", "inf", "12a", " 1"] {
            assert_eq!(Num::from_text(text), None, "{text:?}");
        }
    }

    #[test]
    fn integer_arithmetic_stays_exact_and_falls_back_on_overflow() {
        assert_eq!(Num::Int(2).add(Num::Int(3)), Num::Int(5));
        assert_eq!(
            Num::Int(i64::MAX).add(Num::Int(1)),
            Num::Float(i64::MAX as f64 + 1.0)
        );
        assert_eq!(Num::Int(6).div(Num::Int(3)), Some(Num::Int(2)));
        assert_eq!(Num::Int(7).div(Num::Int(2)), Some(Num::Float(3.5)));
        assert_eq!(
            Num::Int(i64::MIN).div(Num::Int(-1)),
            Some(Num::Float(-(i64::MIN as f64)))
        );
        assert_eq!(Num::Int(1).div(Num::Float(0.0)), None);
        assert_eq!(Num::Float(3.0).normalized(), Num::Int(3));
        assert_eq!(Num::Float(3.5).normalized(), Num::Float(3.5));
    }
}
