//! The one error type of scenario files: it always names the file, and the line and field where known.

use std::fmt;

/// A problem with a scenario file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ScenarioError {
    /// The file as given.
    pub file: String,
    /// 1-based line of the offending key or table, when it could be found.
    pub line: Option<usize>,
    /// Dotted path of the field, e.g. `infra.brokers` or `faults[2].latency_ms`; empty for a whole-file problem.
    pub field: String,
    /// What is wrong and what is allowed.
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "scenario {}", self.file)?;
        if let Some(line) = self.line {
            write!(f, " line {line}")?;
        }
        if !self.field.is_empty() {
            write!(f, ": field `{}`", self.field)?;
        }
        write!(f, ": {}", self.message)
    }
}
