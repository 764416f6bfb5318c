//! Evaluation. Errors never abort: anything that cannot be computed is null,
//! the way SQL treats it, and predicates only match on a boolean `true`.

use std::cmp::Ordering;

use serde_json::Value;

use super::{BinOp, Func, Node};
use crate::normal::{cells_equal, parse_instant};
use crate::num::Num;

/// Evaluates `node` against a record value.
pub(crate) fn eval(node: &Node, record: &Value) -> Value {
    match node {
        Node::Literal(value) => value.clone(),
        Node::Field(path) => path.lookup(record).cloned().unwrap_or(Value::Null),
        Node::Neg(inner) => {
            Num::from_json(&eval(inner, record)).map_or(Value::Null, |n| n.neg().into_value())
        }
        Node::Not(inner) => Value::Bool(!truthy(&eval(inner, record))),
        Node::Binary(BinOp::And, left, right) => {
            Value::Bool(truthy(&eval(left, record)) && truthy(&eval(right, record)))
        }
        Node::Binary(BinOp::Or, left, right) => {
            Value::Bool(truthy(&eval(left, record)) || truthy(&eval(right, record)))
        }
        Node::Binary(op, left, right) => binary(*op, eval(left, record), eval(right, record)),
        Node::Call(func, args) => call(*func, args, record),
    }
}

fn truthy(value: &Value) -> bool {
    *value == Value::Bool(true)
}

fn binary(op: BinOp, left: Value, right: Value) -> Value {
    let ordering = || compare(&left, &right);
    let test =
        |accept: fn(Ordering) -> bool| ordering().map_or(Value::Null, |o| Value::Bool(accept(o)));
    match op {
        // Equality uses the same normal form as cell comparison, so
        // `price == '9.50'` holds for the number 9.5.
        BinOp::Eq => Value::Bool(cells_equal(&left, &right, 0.0)),
        BinOp::Ne => Value::Bool(!cells_equal(&left, &right, 0.0)),
        BinOp::Lt => test(Ordering::is_lt),
        BinOp::Le => test(Ordering::is_le),
        BinOp::Gt => test(Ordering::is_gt),
        BinOp::Ge => test(Ordering::is_ge),
        BinOp::Add => match (&left, &right) {
            (Value::String(a), Value::String(b)) => Value::String(format!("{a}{b}")),
            _ => arithmetic(&left, &right, |a, b| Some(a.add(b))),
        },
        BinOp::Sub => arithmetic(&left, &right, |a, b| Some(a.sub(b))),
        BinOp::Mul => arithmetic(&left, &right, |a, b| Some(a.mul(b))),
        BinOp::Div => arithmetic(&left, &right, Num::div),
        BinOp::And | BinOp::Or => Value::Null, // handled in `eval`, short-circuiting
    }
}

fn arithmetic(left: &Value, right: &Value, op: impl Fn(Num, Num) -> Option<Num>) -> Value {
    match (Num::from_json(left), Num::from_json(right)) {
        (Some(a), Some(b)) => op(a, b).map_or(Value::Null, Num::into_value),
        _ => Value::Null,
    }
}

/// Orders numbers numerically and strings as text (as instants when both
/// are timestamps); other pairs are not comparable.
fn compare(left: &Value, right: &Value) -> Option<Ordering> {
    match (left, right) {
        (Value::Number(_), Value::Number(_)) => {
            let (a, b) = (Num::from_json(left)?, Num::from_json(right)?);
            match (a, b) {
                (Num::Int(x), Num::Int(y)) => Some(x.cmp(&y)),
                _ => a.as_f64().partial_cmp(&b.as_f64()),
            }
        }
        (Value::String(a), Value::String(b)) => match (parse_instant(a), parse_instant(b)) {
            (Some(x), Some(y)) => Some(x.cmp(&y)),
            _ => Some(a.cmp(b)),
        },
        (Value::Bool(a), Value::Bool(b)) => Some(a.cmp(b)),
        _ => None,
    }
}

fn call(func: Func, args: &[Node], record: &Value) -> Value {
    let arg = |i: usize| args.get(i).map_or(Value::Null, |node| eval(node, record));
    match func {
        Func::Lower => map_text(arg(0), |s| s.to_lowercase()),
        Func::Upper => map_text(arg(0), |s| s.to_uppercase()),
        Func::Coalesce => args
            .iter()
            .map(|node| eval(node, record))
            .find(|value| !value.is_null())
            .unwrap_or(Value::Null),
        Func::Round => {
            let digits = if args.len() > 1 {
                Num::from_json(&arg(1))
            } else {
                Some(Num::Int(0))
            };
            match (Num::from_json(&arg(0)), digits) {
                (Some(x), Some(Num::Int(n))) => round(x, n),
                _ => Value::Null,
            }
        }
        // Only a boolean `true` takes the first branch, as in predicates.
        Func::If => {
            if arg(0) == Value::Bool(true) {
                arg(1)
            } else {
                arg(2)
            }
        }
        Func::Floor => {
            let step = if args.len() > 1 {
                Num::from_json(&arg(1))
            } else {
                Some(Num::Int(1))
            };
            match (Num::from_json(&arg(0)), step) {
                (Some(x), Some(step)) => floor(x, step),
                _ => Value::Null,
            }
        }
    }
}

/// The greatest multiple of `step` not above `x` (a tumbling window's start for `step` its
/// width); null for a step that is not positive.
fn floor(x: Num, step: Num) -> Value {
    match (x, step) {
        (Num::Int(x), Num::Int(step)) if step > 0 => Value::from(x.div_euclid(step) * step),
        (_, step) if step.as_f64() > 0.0 => {
            let step = step.as_f64();
            Num::Float((x.as_f64() / step).floor() * step)
                .normalized()
                .into_value()
        }
        _ => Value::Null,
    }
}

fn map_text(value: Value, f: impl Fn(&str) -> String) -> Value {
    match value {
        Value::String(text) => Value::String(f(&text)),
        _ => Value::Null,
    }
}

/// Rounds half away from zero to `digits` decimals (negative: tens, ...).
fn round(x: Num, digits: i64) -> Value {
    let Ok(exponent) = i32::try_from(digits.clamp(-30, 30)) else {
        return Value::Null;
    };
    if let (Num::Int(_), true) = (x, exponent >= 0) {
        return x.into_value();
    }
    // Multiplying by a negative power of ten would add binary noise
    // (1234 * 0.01), so scale the other way for tens, hundreds, ...
    let scale = 10f64.powi(exponent.abs());
    let rounded = if exponent >= 0 {
        (x.as_f64() * scale).round() / scale
    } else {
        (x.as_f64() / scale).round() * scale
    };
    let num = Num::Float(rounded);
    if exponent <= 0 {
        num.normalized().into_value()
    } else {
        num.into_value()
    }
}

#[cfg(test)]
mod tests {
    use crate::expr::Expr;
    use serde_json::{json, Value};

    fn eval(text: &str, record: &Value) -> Value {
        Expr::parse(text).expect("parses").eval(record)
    }

    #[test]
    fn arithmetic_respects_precedence_and_parentheses() {
        let r = json!({"amount_cents": 1999, "qty": 3});
        assert_eq!(eval("1 + 2 * 3", &r), json!(7));
        assert_eq!(eval("(1 + 2) * 3", &r), json!(9));
        assert_eq!(eval("10 - 4 - 3", &r), json!(3));
        assert_eq!(eval("-2 * 3", &r), json!(-6));
        assert_eq!(eval("amount_cents / 100", &r), json!(19.99));
        assert_eq!(eval("600 / qty", &r), json!(200));
        assert_eq!(eval("qty * 1.5", &r), json!(4.5));
        assert_eq!(eval("qty / 0", &r), json!(null));
        assert_eq!(eval("qty + missing", &r), json!(null));
        assert_eq!(eval("qty + 'x'", &r), json!(null));
        assert_eq!(eval("'a' + 'b'", &r), json!("ab"));
    }

    #[test]
    fn fields_literals_and_missing_values() {
        let r = json!({"a": {"b": {"c": "deep"}}, "items": [{"sku": "s-1"}], "n": null});
        assert_eq!(eval("a.b.c", &r), json!("deep"));
        assert_eq!(eval("items[0].sku", &r), json!("s-1"));
        assert_eq!(eval("items[1].sku", &r), json!(null));
        assert_eq!(eval("nope.deeper", &r), json!(null));
        assert_eq!(eval("'it''s'", &r), json!("it's"));
        assert_eq!(eval("2.50", &r), json!(2.5));
        assert_eq!(eval("true", &r), json!(true));
        assert_eq!(eval("null", &r), json!(null));
    }

    #[test]
    fn comparisons_and_logic() {
        let r = json!({"status": "paid", "version": 3, "at": "2024-05-01T10:00:00Z"});
        assert_eq!(eval("status == 'paid'", &r), json!(true));
        assert_eq!(eval("status != 'draft' and version >= 3", &r), json!(true));
        assert_eq!(eval("version < 3 or status == 'x'", &r), json!(false));
        assert_eq!(eval("not version > 5", &r), json!(true));
        assert_eq!(eval("version == 3.0", &r), json!(true));
        assert_eq!(eval("'b' > 'a'", &r), json!(true));
        assert_eq!(eval("at < '2024-05-01T11:00:00+02:00'", &r), json!(false));
        assert_eq!(eval("missing == null", &r), json!(true));
        assert_eq!(eval("missing > 1", &r), json!(null));
        assert!(!Expr::parse("missing > 1").expect("parses").matches(&r));
        assert!(Expr::parse("not missing > 1").expect("parses").matches(&r));
    }

    #[test]
    fn functions() {
        let r = json!({"s": "MiXed", "price": 19.987, "n": 1234});
        assert_eq!(eval("lower(s)", &r), json!("mixed"));
        assert_eq!(eval("upper(s)", &r), json!("MIXED"));
        assert_eq!(eval("lower(n)", &r), json!(null));
        assert_eq!(eval("coalesce(missing, null, s, 'z')", &r), json!("MiXed"));
        assert_eq!(eval("coalesce(missing)", &r), json!(null));
        assert_eq!(eval("round(price, 2)", &r), json!(19.99));
        assert_eq!(eval("round(price)", &r), json!(20));
        assert_eq!(eval("round(2.5)", &r), json!(3));
        assert_eq!(eval("round(n, -2)", &r), json!(1200));
        assert_eq!(eval("round(n, 2)", &r), json!(1234));
        assert_eq!(eval("round(s, 2)", &r), json!(null));
        // Tumbling windows: a boundary belongs to the window it starts.
        assert_eq!(eval("floor(n, 1000)", &r), json!(1000));
        assert_eq!(eval("floor(2000, 1000)", &r), json!(2000));
        assert_eq!(eval("floor(1999, 1000)", &r), json!(1000));
        assert_eq!(eval("floor(-1, 1000)", &r), json!(-1000));
        assert_eq!(eval("floor(price)", &r), json!(19));
        assert_eq!(eval("floor(price, 0.5)", &r), json!(19.5));
        assert_eq!(eval("floor(n, 0)", &r), json!(null));
        assert_eq!(eval("floor(s)", &r), json!(null));
        assert_eq!(eval("if(n > 1000, n, -n)", &r), json!(1234));
        assert_eq!(eval("if(n < 1000, n, -n)", &r), json!(-1234));
        assert_eq!(eval("if(missing, 1, 2)", &r), json!(2));
    }

    #[test]
    fn field_paths_are_listed() {
        let expr = Expr::parse("coalesce(a.b, items[0].sku) + lower(c)").expect("parses");
        let paths: Vec<String> = expr.field_paths().iter().map(|p| p.to_string()).collect();
        assert_eq!(paths, vec!["a.b", "items[0].sku", "c"]);
    }
}
