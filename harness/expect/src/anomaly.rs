//! What a comparison reports: one anomaly per problem row key.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// What kind of wrong an anomaly is: one set of classes for every checker, the declarative
/// expectations here and the reference ledger's oracle (`faultline-oracle` re-exports it).
/// Variants are declared in report order, which `Ord` follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnomalyClass {
    /// An expected row (a valid event sent) is not stored, or has too few rows.
    Lost,
    /// A row (a valid event) is stored more times than expected.
    Duplicated,
    /// A stored row nothing produced (or that should have been deleted).
    Phantom,
    /// An upsert table holds an older version of the row.
    StaleValue,
    /// A row's values differ from what was sent.
    WrongValue,
    /// An aggregate table's values differ from the expected ones.
    WrongAggregate,
    /// Ledger: an account's balance is not the sum of its unique valid deltas.
    WrongBalance,
    /// Ledger: a malformed record is not in quarantine at its source position.
    MissingFromQuarantine,
    /// Ledger: a malformed record is quarantined with another reason than the one it must get.
    WrongReason,
    /// Ledger: a quarantine row at a position that holds no malformed record (or a second row).
    UnexpectedQuarantine,
    /// Ledger: a row's source position does not carry its transaction, or a lineage column is
    /// empty.
    LineageMismatch,
    /// Offsets below the high watermark that no offset-log range covers.
    OffsetGap,
    /// Offsets covered by more than one offset-log range, or by a range past the high watermark.
    OffsetOverlap,
    /// A partition's stored next offset differs from its high watermark.
    OffsetNotCommitted,
    /// A malformed record is not in the dead-letter output.
    MissingDeadLetter,
    /// A malformed record is in the dead-letter output more than once.
    DuplicateDeadLetter,
    /// A dead letter for a record that is not malformed (or not of this run's input).
    UnexpectedDeadLetter,
}

impl AnomalyClass {
    /// Every class, in report order.
    pub const ALL: [AnomalyClass; 17] = [
        AnomalyClass::Lost,
        AnomalyClass::Duplicated,
        AnomalyClass::Phantom,
        AnomalyClass::StaleValue,
        AnomalyClass::WrongValue,
        AnomalyClass::WrongAggregate,
        AnomalyClass::WrongBalance,
        AnomalyClass::MissingFromQuarantine,
        AnomalyClass::WrongReason,
        AnomalyClass::UnexpectedQuarantine,
        AnomalyClass::LineageMismatch,
        AnomalyClass::OffsetGap,
        AnomalyClass::OffsetOverlap,
        AnomalyClass::OffsetNotCommitted,
        AnomalyClass::MissingDeadLetter,
        AnomalyClass::DuplicateDeadLetter,
        AnomalyClass::UnexpectedDeadLetter,
    ];

    /// The snake_case name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            AnomalyClass::Lost => "lost",
            AnomalyClass::Duplicated => "duplicated",
            AnomalyClass::Phantom => "phantom",
            AnomalyClass::StaleValue => "stale_value",
            AnomalyClass::WrongValue => "wrong_value",
            AnomalyClass::WrongAggregate => "wrong_aggregate",
            AnomalyClass::WrongBalance => "wrong_balance",
            AnomalyClass::MissingFromQuarantine => "missing_from_quarantine",
            AnomalyClass::WrongReason => "wrong_reason",
            AnomalyClass::UnexpectedQuarantine => "unexpected_quarantine",
            AnomalyClass::LineageMismatch => "lineage_mismatch",
            AnomalyClass::OffsetGap => "offset_gap",
            AnomalyClass::OffsetOverlap => "offset_overlap",
            AnomalyClass::OffsetNotCommitted => "offset_not_committed",
            AnomalyClass::MissingDeadLetter => "missing_dead_letter",
            AnomalyClass::DuplicateDeadLetter => "duplicate_dead_letter",
            AnomalyClass::UnexpectedDeadLetter => "unexpected_dead_letter",
        }
    }
}

impl fmt::Display for AnomalyClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One difference found in one table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Anomaly {
    /// What kind of difference.
    pub class: AnomalyClass,
    /// The table it was found in.
    pub table: String,
    /// JSON array text of the key values, e.g. `["o-1",3]`.
    pub key: String,
    /// The expected row (compared columns only), if one was expected.
    pub expected: Option<Map<String, Value>>,
    /// The actual row (compared columns only), if the table has one.
    pub actual: Option<Map<String, Value>>,
    /// `(partition, offset)` of input records behind the expected row; at most 5.
    pub sources: Vec<(i32, i64)>,
    /// A human explanation: counts, differing columns, versions.
    pub note: String,
}
