//! Errors returned by parsing, validation and checking.

use thiserror::Error;

/// A syntax error in one expression, located by character position.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("\"{expr}\" at {pos}: expected {expected}")]
pub struct ParseError {
    /// The whole expression text as written in the manifest.
    pub expr: String,
    /// Zero-based character position where parsing stopped.
    pub pos: usize,
    /// What the parser wanted to find at `pos`.
    pub expected: String,
}

/// Everything that can go wrong before a comparison produces anomalies.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ExpectError {
    /// The `[expect]` section declares no `[[expect.table]]`.
    #[error(
        "expect.table: no tables are declared; add at least one [[expect.table]] section (or an \
         [expect.dead_letter])"
    )]
    NoTables,
    /// A declaration is inconsistent; `location` names the table index and field.
    #[error("{location}: {problem}")]
    Invalid {
        /// Where the problem is, e.g. `expect.table[1] (orders).key`.
        location: String,
        /// What is wrong and how to fix it.
        problem: String,
    },
    /// An expression does not parse; `context` names table, field and column.
    #[error("{context}: {source}")]
    Expression {
        /// Where the expression sits, e.g. `orders.columns.total_eur`.
        context: String,
        /// The syntax error itself.
        source: ParseError,
    },
    /// The harness passed no rows for a declared table (a bug in the caller).
    #[error(
        "no actual rows were given for table \"{table}\"; pass an empty list for an empty table"
    )]
    MissingActual {
        /// The declared table that has no entry.
        table: String,
    },
}
