//! Aggregate functions of `mode = "aggregate"` tables and their running state.

use serde_json::Value;

use crate::error::ParseError;
use crate::expr::Expr;
use crate::key::KeyAtom;
use crate::num::Num;

/// One declared aggregate: `count`, `sum(e)`, `min(e)`, `max(e)` or `avg(e)`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum AggregateFn {
    Count,
    Sum(Expr),
    Min(Expr),
    Max(Expr),
    Avg(Expr),
}

/// Why an aggregate declaration was rejected.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum AggregateError {
    /// Not one of the supported forms.
    Unknown,
    /// The argument does not parse; positions are in the whole text.
    Syntax(ParseError),
}

impl AggregateFn {
    /// Parses `count` or `name(expression)`.
    pub(crate) fn parse(text: &str) -> Result<AggregateFn, AggregateError> {
        if text.trim() == "count" {
            return Ok(AggregateFn::Count);
        }
        let (Some(open), Some(close)) = (text.find('('), text.rfind(')')) else {
            return Err(AggregateError::Unknown);
        };
        if close < open || !text[close + 1..].trim().is_empty() {
            return Err(AggregateError::Unknown);
        }
        let wrap: fn(Expr) -> AggregateFn = match text[..open].trim() {
            "sum" => AggregateFn::Sum,
            "min" => AggregateFn::Min,
            "max" => AggregateFn::Max,
            "avg" => AggregateFn::Avg,
            _ => return Err(AggregateError::Unknown),
        };
        let inner = &text[open + 1..close];
        Expr::parse(inner).map(wrap).map_err(|err| {
            AggregateError::Syntax(ParseError {
                expr: text.to_string(),
                pos: text[..=open].chars().count() + err.pos,
                expected: err.expected,
            })
        })
    }

    /// The argument expression (none for `count`).
    pub(crate) fn argument(&self) -> Option<&Expr> {
        match self {
            AggregateFn::Count => None,
            AggregateFn::Sum(e)
            | AggregateFn::Min(e)
            | AggregateFn::Max(e)
            | AggregateFn::Avg(e) => Some(e),
        }
    }

    /// Empty running state for one group.
    pub(crate) fn start(&self) -> Accumulator {
        match self {
            AggregateFn::Count => Accumulator::Count(0),
            AggregateFn::Sum(_) => Accumulator::Sum(None),
            AggregateFn::Min(_) => Accumulator::Min(None),
            AggregateFn::Max(_) => Accumulator::Max(None),
            AggregateFn::Avg(_) => Accumulator::Avg {
                total: 0.0,
                count: 0,
            },
        }
    }
}

/// Running state of one aggregate over one group. Like SQL, nulls (and for
/// sum/avg, non-numbers) are skipped, and an empty sum, min, max or avg is null.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Accumulator {
    Count(i64),
    Sum(Option<Num>),
    Min(Option<Value>),
    Max(Option<Value>),
    Avg { total: f64, count: u64 },
}

impl Accumulator {
    /// Adds one record; `func` is the aggregate this state belongs to.
    pub(crate) fn add(&mut self, func: &AggregateFn, record: &Value) {
        let input = func
            .argument()
            .map_or(Value::Null, |expr| expr.eval(record));
        match self {
            Accumulator::Count(n) => *n += 1,
            Accumulator::Sum(total) => {
                if let Some(num) = Num::from_json(&input) {
                    *total = Some(total.map_or(num, |t| t.add(num)));
                }
            }
            Accumulator::Min(best) => keep_if(best, input, |new, old| new < old),
            Accumulator::Max(best) => keep_if(best, input, |new, old| new > old),
            Accumulator::Avg { total, count } => {
                if let Some(num) = Num::from_json(&input) {
                    *total += num.as_f64();
                    *count += 1;
                }
            }
        }
    }

    /// The aggregate's value.
    pub(crate) fn finish(self) -> Value {
        match self {
            Accumulator::Count(n) => Value::from(n),
            Accumulator::Sum(total) => total.map_or(Value::Null, Num::into_value),
            Accumulator::Min(best) | Accumulator::Max(best) => best.unwrap_or(Value::Null),
            Accumulator::Avg { count: 0, .. } => Value::Null,
            Accumulator::Avg { total, count } => Num::Float(total / count as f64).into_value(),
        }
    }
}

/// Replaces `best` by `input` when `better` says so, comparing in key normal
/// form (numbers numerically, timestamps as instants, then text).
fn keep_if(best: &mut Option<Value>, input: Value, better: fn(&KeyAtom, &KeyAtom) -> bool) {
    if input.is_null() {
        return;
    }
    let replace = match best {
        None => true,
        Some(old) => better(&KeyAtom::from_value(&input), &KeyAtom::from_value(old)),
    };
    if replace {
        *best = Some(input);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(text: &str, records: &[Value]) -> Value {
        let func = AggregateFn::parse(text).expect("valid aggregate");
        let mut acc = func.start();
        records.iter().for_each(|r| acc.add(&func, r));
        acc.finish()
    }

    #[test]
    fn aggregates_skip_nulls_like_sql() {
        let records = [
            json!({"v": 4}),
            json!({"v": null}),
            json!({"v": 1}),
            json!({"w": 9}),
            json!({"v": 7}),
        ];
        assert_eq!(run("count", &records), json!(5));
        assert_eq!(run("sum(v)", &records), json!(12));
        assert_eq!(run("min(v)", &records), json!(1));
        assert_eq!(run("max(v)", &records), json!(7));
        assert_eq!(run("avg(v)", &records), json!(4.0));
        assert_eq!(run("sum(v * 0.5)", &records), json!(6.0));
        assert_eq!(run("sum(missing)", &records), json!(null));
        assert_eq!(run("avg(missing)", &records), json!(null));
        assert_eq!(
            run("max(lower(s))", &[json!({"s": "B"}), json!({"s": "a"})]),
            json!("b")
        );
    }

    #[test]
    fn unknown_forms_and_syntax_errors_are_told_apart() {
        for text in ["median(v)", "sum", "count(v)", "sum(v) + 1", ""] {
            assert_eq!(
                AggregateFn::parse(text),
                Err(AggregateError::Unknown),
                "{text:?}"
            );
        }
        let Err(AggregateError::Syntax(err)) = AggregateFn::parse("sum(amount +)") else {
            panic!("expected a syntax error");
        };
        assert_eq!(
            err.to_string(),
            r#""sum(amount +)" at 12: expected a value"#
        );
    }
}
