//! Why the pipeline must quarantine a record: the reason codes of the event contract.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Largest record value, in bytes, the pipeline accepts. Larger values are `oversized`.
pub const MAX_RECORD_BYTES: usize = 65_536;

/// Largest `amount_cents` the contract allows (one billion currency units).
pub const MAX_AMOUNT_CENTS: i64 = 100_000_000_000;

/// The reason code the pipeline must attach to a quarantined record.
///
/// Variants are declared in precedence order: when a record has several problems the first variant
/// that applies wins, so `Ord` on this type is the precedence. `as_str` gives the exact wire string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReasonCode {
    /// The value is larger than [`MAX_RECORD_BYTES`]; checked before anything is parsed.
    Oversized,
    /// The value has zero length (tombstone-like).
    EmptyRecord,
    /// The value bytes are not valid UTF-8.
    NotUtf8,
    /// The value is not parseable JSON: truncated, syntax errors, or poison pills such as
    /// unterminated 10,000-deep nesting.
    InvalidJson,
    /// The value is valid JSON but not an object (array, string, number, boolean, null).
    NotAnObject,
    /// `schema_version` is present and an integer, but neither 1 nor 2.
    UnknownSchemaVersion,
    /// A required field is absent (`channel` is required from version 2 on).
    MissingField,
    /// A field that the schema does not define (including `channel` in a version 1 event).
    UnknownField,
    /// A field has the wrong JSON type, e.g. `amount_cents` as a string or as the float 12.5.
    WrongType,
    /// The type is right but the value is not: unknown `kind` or `channel`, `created_at` that is not
    /// RFC 3339, empty `transaction_id`/`account_id`, or `amount_cents` above [`MAX_AMOUNT_CENTS`].
    InvalidValue,
    /// `amount_cents` is below zero.
    NegativeAmount,
}

impl ReasonCode {
    /// Every reason, in precedence order.
    pub const ALL: [ReasonCode; 11] = [
        ReasonCode::Oversized,
        ReasonCode::EmptyRecord,
        ReasonCode::NotUtf8,
        ReasonCode::InvalidJson,
        ReasonCode::NotAnObject,
        ReasonCode::UnknownSchemaVersion,
        ReasonCode::MissingField,
        ReasonCode::UnknownField,
        ReasonCode::WrongType,
        ReasonCode::InvalidValue,
        ReasonCode::NegativeAmount,
    ];

    /// The snake_case code the pipeline writes next to a quarantined record.
    pub fn as_str(self) -> &'static str {
        match self {
            ReasonCode::Oversized => "oversized",
            ReasonCode::EmptyRecord => "empty_record",
            ReasonCode::NotUtf8 => "not_utf8",
            ReasonCode::InvalidJson => "invalid_json",
            ReasonCode::NotAnObject => "not_an_object",
            ReasonCode::UnknownSchemaVersion => "unknown_schema_version",
            ReasonCode::MissingField => "missing_field",
            ReasonCode::UnknownField => "unknown_field",
            ReasonCode::WrongType => "wrong_type",
            ReasonCode::InvalidValue => "invalid_value",
            ReasonCode::NegativeAmount => "negative_amount",
        }
    }

    /// Whether the problem is in the bytes alone (size, emptiness, encoding, JSON syntax, not an
    /// object), so it can be given to any record without knowing its schema.
    pub fn is_byte_level(self) -> bool {
        self <= ReasonCode::NotAnObject
    }

    /// Parses a wire string back into a reason; `None` for anything not in the catalogue.
    pub fn from_code(code: &str) -> Option<ReasonCode> {
        ReasonCode::ALL.into_iter().find(|r| r.as_str() == code)
    }
}

impl fmt::Display for ReasonCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_name_matches_as_str_for_every_reason() {
        for reason in ReasonCode::ALL {
            let json = serde_json::to_string(&reason).unwrap();
            assert_eq!(json, format!("\"{}\"", reason.as_str()));
            assert_eq!(serde_json::from_str::<ReasonCode>(&json).unwrap(), reason);
            assert_eq!(ReasonCode::from_code(reason.as_str()), Some(reason));
        }
    }

    #[test]
    fn all_is_sorted_by_precedence() {
        let mut sorted = ReasonCode::ALL;
        sorted.sort();
        assert_eq!(sorted, ReasonCode::ALL);
        assert_eq!(ReasonCode::ALL.first(), Some(&ReasonCode::Oversized));
        assert_eq!(ReasonCode::ALL.last(), Some(&ReasonCode::NegativeAmount));
    }

    #[test]
    fn byte_level_reasons_are_the_first_five() {
        let byte_level: Vec<&str> = ReasonCode::ALL
            .into_iter()
            .filter(|r| r.is_byte_level())
            .map(ReasonCode::as_str)
            .collect();
        assert_eq!(
            byte_level,
            [
                "oversized",
                "empty_record",
                "not_utf8",
                "invalid_json",
                "not_an_object"
            ]
        );
    }

    #[test]
    fn unknown_code_does_not_parse() {
        assert_eq!(ReasonCode::from_code("Oversized"), None);
        assert_eq!(ReasonCode::from_code(""), None);
    }
}
