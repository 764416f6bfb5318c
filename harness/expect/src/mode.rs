//! How a pipeline writes a table: one row per event, latest per key, or
//! aggregates per group.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The `mode` of an `[[expect.table]]`. Unknown names are kept (rather than
/// failing deserialization) so that validation can say what to write instead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum Mode {
    /// One row per logical event.
    Insert,
    /// One row per key, holding the latest record by `order_by`.
    Upsert,
    /// One row per group, holding aggregates over its records.
    Aggregate,
    /// The rows a user program prints (`command`): logic no declaration captures.
    Command,
    /// A name that is none of the above; rejected by validation.
    Unknown(String),
}

impl From<String> for Mode {
    fn from(name: String) -> Mode {
        match name.as_str() {
            "insert" => Mode::Insert,
            "upsert" => Mode::Upsert,
            "aggregate" => Mode::Aggregate,
            "command" => Mode::Command,
            _ => Mode::Unknown(name),
        }
    }
}

impl From<Mode> for String {
    fn from(mode: Mode) -> String {
        mode.to_string()
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Mode::Insert => "insert",
            Mode::Upsert => "upsert",
            Mode::Aggregate => "aggregate",
            Mode::Command => "command",
            Mode::Unknown(name) => name,
        })
    }
}
