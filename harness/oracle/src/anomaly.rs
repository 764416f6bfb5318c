//! `Anomaly`: one thing the end state got wrong, classified, keyed and placed.

use std::fmt;

use serde::{Deserialize, Serialize};

/// What kind of wrong an anomaly is. Declaration order is the report order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnomalyClass {
    /// A valid transaction that was sent is not stored.
    Lost,
    /// A valid transaction is stored more than once.
    Duplicated,
    /// A stored transaction id was never sent as a valid event.
    Phantom,
    /// A stored transaction's account or delta differs from what was sent.
    WrongValue,
    /// An account's balance is not the sum of its unique valid deltas.
    WrongBalance,
    /// A malformed record is not in quarantine at its source position.
    MissingFromQuarantine,
    /// A malformed record is quarantined with another reason than the one it must get.
    WrongReason,
    /// A quarantine row at a position that holds no malformed record (or a second row for one).
    UnexpectedQuarantine,
    /// A row's source position does not carry its transaction, or a lineage column is empty.
    LineageMismatch,
    /// Offsets below the high watermark that no offset-log range covers.
    OffsetGap,
    /// Offsets covered by more than one offset-log range, or by a range past the high watermark.
    OffsetOverlap,
    /// A partition's stored next offset differs from its high watermark.
    OffsetNotCommitted,
    /// A malformed record is not in the dead-letter topic.
    MissingDeadLetter,
    /// A malformed record is in the dead-letter topic more than once.
    DuplicateDeadLetter,
    /// A dead letter for a record that is not malformed (or not of this run's topic).
    UnexpectedDeadLetter,
}

impl AnomalyClass {
    /// Every class, in report order.
    pub const ALL: [AnomalyClass; 15] = [
        AnomalyClass::Lost,
        AnomalyClass::Duplicated,
        AnomalyClass::Phantom,
        AnomalyClass::WrongValue,
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
            AnomalyClass::WrongValue => "wrong_value",
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

/// One finding. `key` is a transaction id, an account id, a source position
/// ([`position_key`]) or a topic-partition ([`partition_key`]), depending on the class.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Anomaly {
    /// What kind of wrong.
    pub class: AnomalyClass,
    /// What it is about.
    pub key: String,
    /// The input topic.
    pub topic: String,
    /// The partition involved, when there is one.
    pub partition: Option<i32>,
    /// The offset involved, when there is one.
    pub offset: Option<i64>,
    /// What a correct pipeline would have left, in words.
    pub expected: Option<String>,
    /// What this one left, in words.
    pub actual: Option<String>,
}

impl Anomaly {
    /// An anomaly with no position and no expected/actual text yet.
    pub fn new(class: AnomalyClass, key: impl Into<String>, topic: &str) -> Self {
        Anomaly {
            class,
            key: key.into(),
            topic: topic.to_string(),
            partition: None,
            offset: None,
            expected: None,
            actual: None,
        }
    }

    /// Places it at a source position.
    pub fn at(mut self, (partition, offset): (i32, i64)) -> Self {
        self.partition = Some(partition);
        self.offset = Some(offset);
        self
    }

    /// Places it in a partition, at an offset when one is known.
    pub fn in_partition(mut self, partition: i32, offset: Option<i64>) -> Self {
        self.partition = Some(partition);
        self.offset = offset;
        self
    }

    /// Says what a correct pipeline would have left.
    pub fn expected(mut self, text: impl Into<String>) -> Self {
        self.expected = Some(text.into());
        self
    }

    /// Says what this one left.
    pub fn actual(mut self, text: impl Into<String>) -> Self {
        self.actual = Some(text.into());
        self
    }
}

impl fmt::Display for Anomaly {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.class, self.key)?;
        if let (Some(p), Some(o)) = (self.partition, self.offset) {
            write!(f, " at {}", position(p, o))?;
        }
        if let Some(e) = &self.expected {
            write!(f, ": expected {e}")?;
        }
        if let Some(a) = &self.actual {
            write!(f, ", got {a}")?;
        }
        Ok(())
    }
}

/// The key of a source position: `topic-partition@offset`.
pub fn position_key(topic: &str, partition: i32, offset: i64) -> String {
    format!("{topic}-{partition}@{offset}")
}

/// The key of a topic-partition: `topic-partition`.
pub fn partition_key(topic: &str, partition: i32) -> String {
    format!("{topic}-{partition}")
}

/// A position inside the topic, short form for messages: `partition@offset`.
pub(crate) fn position(partition: i32, offset: i64) -> String {
    format!("{partition}@{offset}")
}

/// Positions joined for messages: `0@12, 3@40`.
pub(crate) fn positions<'a>(at: impl IntoIterator<Item = &'a (i32, i64)>) -> String {
    at.into_iter()
        .map(|&(p, o)| position(p, o))
        .collect::<Vec<_>>()
        .join(", ")
}
