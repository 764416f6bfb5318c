//! `check`: the end state against the workload, check by check. Pure: the workload, where its
//! records landed and the high watermarks are the whole truth; nothing of the pipeline's code is used.
//!
//! - `records`    no_loss, no_duplicates, no_phantoms, values, raw_events (rows keyed by transaction id)
//! - `balances`   each account's balance against the sum of its unique valid deltas
//! - `quarantine` exactly the malformed records, at their positions, with their reasons
//! - `lineage`    every row points at a record that carries it, and says who wrote it
//! - `offsets`    the offset log tiles `[0, high watermark)` once; stored next offsets are at the end

mod balances;
mod lineage;
mod offsets;
mod quarantine;
mod records;

use std::collections::BTreeMap;

use faultline_workload::{Expectation, ExpectedEvent, Workload, WorkloadRecord};

use faultline_report::CheckStatus;

use crate::anomaly::position;
use crate::read::Found;
use crate::report::OracleReport;
use crate::state::{EndState, Placement};

/// The checks `check` runs, in report order.
pub const CHECK_NAMES: [&str; 9] = [
    "no_loss",
    "no_duplicates",
    "no_phantoms",
    "values",
    "balances",
    "raw_events",
    "quarantine",
    "lineage",
    "offsets",
];

/// The contract tables each check in [`CHECK_NAMES`] reads.
pub const CHECK_TABLES: [(&str, &[&str]); 9] = [
    ("no_loss", &["transactions"]),
    ("no_duplicates", &["transactions"]),
    ("no_phantoms", &["transactions"]),
    ("values", &["transactions"]),
    ("balances", &["account_balances"]),
    ("raw_events", &["raw_events"]),
    ("quarantine", &["quarantine"]),
    ("lineage", &["transactions", "raw_events", "quarantine"]),
    ("offsets", &["offset_log", "partition_offsets"]),
];

/// [`check`] on what [`crate::read_found`] found: a check that reads a table the schema lacks
/// fails whatever the empty table gave, its detail saying which table is missing (and, when none
/// exists, that the pipeline wrote nothing); its anomalies are kept (a missing `transactions`
/// still lists every lost transaction).
pub fn check_found(
    w: &Workload,
    placement: &Placement,
    high_watermarks: &BTreeMap<i32, i64>,
    found: &Found,
) -> OracleReport {
    let mut report = check(w, placement, high_watermarks, &found.state);
    for c in &mut report.checks {
        let tables = CHECK_TABLES
            .iter()
            .find(|(name, _)| *name == c.name)
            .map_or(&[][..], |(_, t)| *t);
        if let Some(why) = found.why_missing(tables) {
            c.status = CheckStatus::Fail;
            c.detail = format!("{why}; {}", c.detail);
        }
    }
    report
}

/// Compares `state` with what the workload says must have happened. `high_watermarks` gives each
/// partition's end (missing partitions count as empty). Every check in [`CHECK_NAMES`] runs, in
/// that order, whatever the others found.
pub fn check(
    w: &Workload,
    placement: &Placement,
    high_watermarks: &BTreeMap<i32, i64>,
    state: &EndState,
) -> OracleReport {
    let sent = Sent::new(w, placement, &state.topic);
    let transactions = records::group(
        state
            .transactions
            .iter()
            .map(|r| (r.transaction_id.as_str(), &r.lineage)),
    );
    OracleReport {
        checks: vec![
            records::no_loss(&sent, &transactions),
            records::no_duplicates(&sent, &transactions),
            records::no_phantoms(&sent, &transactions),
            records::values(&sent, state),
            balances::check(w, state),
            records::raw_events(&sent, state),
            quarantine::check(w, &sent, state),
            lineage::check(&sent, state),
            offsets::check(high_watermarks, state),
        ],
    }
}

/// What was sent, indexed the ways the checks look it up.
pub(crate) struct Sent<'a> {
    /// The input topic.
    pub topic: &'a str,
    /// Transactions that must be stored exactly once.
    pub valid: BTreeMap<String, ExpectedEvent>,
    /// Every position a transaction was sent to, first copy first.
    pub copies: BTreeMap<&'a str, Vec<(i32, i64)>>,
    /// The record at each position.
    pub at: BTreeMap<(i32, i64), &'a WorkloadRecord>,
    /// Where each record landed.
    pub placement: &'a Placement,
}

impl<'a> Sent<'a> {
    fn new(w: &'a Workload, placement: &'a Placement, topic: &'a str) -> Self {
        let mut copies: BTreeMap<&str, Vec<(i32, i64)>> = BTreeMap::new();
        let mut at = BTreeMap::new();
        for r in &w.records {
            let Some(&pos) = placement.get(&r.seq) else {
                continue;
            };
            at.insert(pos, r);
            if let Some(id) = carried(r) {
                copies.entry(id).or_default().push(pos);
            }
        }
        Sent {
            topic,
            valid: w.expected_valid(),
            copies,
            at,
            placement,
        }
    }

    /// The transaction id the record at `(topic, partition, offset)` carries, if any.
    pub fn carried_at(&self, topic: &str, pos: (i32, i64)) -> Option<&'a str> {
        if topic != self.topic {
            return None;
        }
        self.at.get(&pos).and_then(|r| carried(r))
    }

    /// What was sent at a position, in words, for anomaly messages.
    pub fn describe(&self, topic: &str, pos: (i32, i64)) -> String {
        if topic != self.topic {
            return format!(
                "{} of topic `{topic}`, which this run never sent to",
                position(pos.0, pos.1)
            );
        }
        let what = match self.at.get(&pos).map(|r| &r.expect) {
            None => "no record was sent there".to_string(),
            Some(Expectation::Valid { transaction_id, .. }) => {
                format!("which carries {transaction_id}")
            }
            Some(Expectation::Duplicate { transaction_id, .. }) => {
                format!("which carries a copy of {transaction_id}")
            }
            Some(Expectation::Malformed { reason }) => {
                format!("which holds a malformed record ({reason})")
            }
            Some(Expectation::Recorded { line }) => {
                format!("which holds the recorded event of line {line}")
            }
            Some(Expectation::RecordedDuplicate { of_seq }) => {
                format!("which holds a copy of the recorded event sent as record {of_seq}")
            }
        };
        format!("{}, {what}", position(pos.0, pos.1))
    }
}

/// The transaction id a record carries: valid events and their copies.
fn carried(r: &WorkloadRecord) -> Option<&str> {
    match &r.expect {
        Expectation::Valid { transaction_id, .. }
        | Expectation::Duplicate { transaction_id, .. } => Some(transaction_id),
        Expectation::Malformed { .. }
        | Expectation::Recorded { .. }
        | Expectation::RecordedDuplicate { .. } => None,
    }
}

/// `n row` / `n rows`.
pub(crate) fn rows(n: usize) -> String {
    if n == 1 {
        "1 row".into()
    } else {
        format!("{n} rows")
    }
}
