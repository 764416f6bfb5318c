//! The small expression language used by columns, predicates and aggregates.

mod eval;
mod lexer;
mod parser;
mod path;

use serde_json::Value;

pub use path::FieldPath;

use crate::error::ParseError;

/// A parsed expression over a record value, e.g. `amount_cents / 100` or
/// `status != 'draft' and coalesce(region, 'eu') == 'eu'`.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    text: String,
    node: Node,
}

impl Expr {
    /// Parses `text`; errors carry the character position and what was expected.
    pub fn parse(text: &str) -> Result<Expr, ParseError> {
        Ok(Expr {
            text: text.to_string(),
            node: parser::parse_node(text)?,
        })
    }

    /// The text the expression was parsed from.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Evaluates against one record value. Missing fields, type mismatches
    /// and division by zero give null rather than an error.
    pub fn eval(&self, record: &Value) -> Value {
        eval::eval(&self.node, record)
    }

    /// Evaluates as a predicate: only a boolean `true` matches.
    pub fn matches(&self, record: &Value) -> bool {
        self.eval(record) == Value::Bool(true)
    }

    /// Every field path the expression reads, in order of appearance.
    pub fn field_paths(&self) -> Vec<&FieldPath> {
        let mut paths = Vec::new();
        self.node.collect_paths(&mut paths);
        paths
    }
}

/// Syntax tree node.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    Literal(Value),
    Field(FieldPath),
    Neg(Box<Node>),
    Not(Box<Node>),
    Binary(BinOp, Box<Node>, Box<Node>),
    Call(Func, Vec<Node>),
}

impl Node {
    fn binary(op: BinOp, left: Node, right: Node) -> Node {
        Node::Binary(op, Box::new(left), Box::new(right))
    }

    fn collect_paths<'n>(&'n self, paths: &mut Vec<&'n FieldPath>) {
        match self {
            Node::Literal(_) => {}
            Node::Field(path) => paths.push(path),
            Node::Neg(inner) | Node::Not(inner) => inner.collect_paths(paths),
            Node::Binary(_, left, right) => {
                left.collect_paths(paths);
                right.collect_paths(paths);
            }
            Node::Call(_, args) => args.iter().for_each(|arg| arg.collect_paths(paths)),
        }
    }
}

/// Binary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BinOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
}

/// Built-in functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Func {
    Lower,
    Upper,
    Coalesce,
    Round,
    Floor,
    If,
}

impl Func {
    fn from_name(name: &str) -> Option<Func> {
        Some(match name {
            "lower" => Func::Lower,
            "upper" => Func::Upper,
            "coalesce" => Func::Coalesce,
            "round" => Func::Round,
            "floor" => Func::Floor,
            "if" => Func::If,
            _ => return None,
        })
    }

    /// Minimum and maximum number of arguments.
    fn arity(self) -> (usize, usize) {
        match self {
            Func::Lower | Func::Upper => (1, 1),
            Func::Coalesce => (1, usize::MAX),
            Func::Round | Func::Floor => (1, 2),
            Func::If => (3, 3),
        }
    }

    fn arity_text(self) -> &'static str {
        match self {
            Func::Lower => "1 argument to lower",
            Func::Upper => "1 argument to upper",
            Func::Coalesce => "at least 1 argument to coalesce",
            Func::Round => "1 or 2 arguments to round",
            Func::Floor => "1 or 2 arguments to floor",
            Func::If => "3 arguments to if (condition, then, else)",
        }
    }
}
