//! `Anomaly`: one thing the end state got wrong, classified, keyed and placed.

use std::fmt;

use serde::{Deserialize, Serialize};

pub use faultline_expect::AnomalyClass;

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
