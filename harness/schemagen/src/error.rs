//! The one error type of the crate, with messages that name the schema file, the place in the
//! schema and the fix.

use std::path::PathBuf;

/// The keywords faultline's JSON Schema lowering understands; quoted in `Unsupported` messages.
pub const SUPPORTED_KEYWORDS: &str = "type, properties, required, items, enum, const, minimum, \
maximum, exclusiveMinimum, exclusiveMaximum, minLength, maxLength, pattern (simple), format \
(date-time, uuid, email), minItems, maxItems, additionalProperties (false/true), $defs/$ref \
(non-recursive), description/title/$schema/$id/examples/default";

/// Why a schema, a generation spec or a generation run was refused.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    /// The schema file could not be read.
    #[error("{}: cannot read the schema file: {source}", name(path))]
    Io {
        /// The schema file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file is not valid JSON, not a valid draft 2020-12 JSON Schema, or not a valid Avro
    /// schema.
    #[error("{}: {message}", name(path))]
    Parse {
        /// The schema file.
        path: PathBuf,
        /// What is wrong, with the place in the file where known.
        message: String,
    },
    /// The schema uses a keyword (or a value of one) the generator cannot honour.
    #[error(
        "{}: keyword \"{keyword}\" at {pointer} is not supported by faultline's generator{}; \
         supported: {SUPPORTED_KEYWORDS}. Rewrite that part of the schema with these (a `oneOf` \
         of types as a `type` list, for instance), or send recorded events with `[input] records`",
        name(path),
        detail_suffix(detail)
    )]
    Unsupported {
        /// The schema file.
        path: PathBuf,
        /// The offending keyword (or Avro type name).
        keyword: String,
        /// JSON pointer into the schema (JSON Schema) or the Avro field path.
        pointer: String,
        /// Extra explanation (may be empty).
        detail: String,
    },
    /// A `$ref` (or an Avro named type) that refers back to one of its ancestors.
    #[error(
        "{}: {pointer_or_name} refers back to a type that contains it (a recursive type); \
         faultline's generator needs finite records: unroll the recursion to a fixed depth",
        name(path)
    )]
    Recursive {
        /// The schema file.
        path: PathBuf,
        /// JSON pointer of the `$ref` (JSON Schema) or the Avro type name.
        pointer_or_name: String,
    },
    /// A key/identity/field rule that names an unknown field or cannot apply to its field.
    #[error("{}: rule for field \"{field}\": {message}", name(path))]
    BadRule {
        /// The schema file.
        path: PathBuf,
        /// The field (dotted path) the rule is about.
        field: String,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// A generated record failed the schema check (a bug, or rules the schema forbids).
    #[error("{}: generated record {index} fails the schema: {message}", name(path))]
    Invalid {
        /// The schema file.
        path: PathBuf,
        /// Index of the record in generation order.
        index: u64,
        /// The validator's message.
        message: String,
    },
}

fn name(path: &std::path::Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

fn detail_suffix(detail: &str) -> String {
    if detail.is_empty() {
        String::new()
    } else {
        format!(" ({detail})")
    }
}
