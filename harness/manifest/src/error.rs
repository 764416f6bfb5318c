//! The one error type of manifest files: it names the file, and the line and field where known.

use std::fmt;

/// A problem with a pipeline manifest.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ManifestError {
    /// The file as given.
    pub file: String,
    /// 1-based line of the offending key or table, when it could be found.
    pub line: Option<usize>,
    /// Dotted path of the field, e.g. `progress.query` or `output[1].key`; empty for the whole file.
    pub field: String,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "manifest {}", self.file)?;
        if let Some(line) = self.line {
            write!(f, " line {line}")?;
        }
        if !self.field.is_empty() {
            write!(f, ": field `{}`", self.field)?;
        }
        write!(f, ": {}", self.message)
    }
}
