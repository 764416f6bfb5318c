//! A consumed record and what processing made of it.

use crate::enrich::Profile;
use crate::validate::{Event, Rejection};

/// A record as consumed, with its outcome.
#[derive(Debug, Clone)]
pub struct ProcessedRecord {
    pub partition: i32,
    pub offset: i64,
    pub key: Option<Vec<u8>>,
    pub payload: Vec<u8>,
    pub outcome: Outcome,
}

/// Valid and scored, rejected with a reason, or not processed yet.
#[derive(Debug, Clone)]
pub enum Outcome {
    Pending,
    Valid(Box<Scored>),
    Rejected(Rejection),
}

/// A valid event with its profile and both models' scores.
#[derive(Debug, Clone)]
pub struct Scored {
    pub event: Event,
    pub profile: Profile,
    pub champion_score: f64,
    pub champion_version: String,
    pub challenger_score: Option<f64>,
    pub challenger_version: Option<String>,
}
