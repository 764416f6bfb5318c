//! `EndState`: what a pipeline left in its schema, as plain data, plus the end state a correct
//! pipeline would leave (`EndState::expected_from`).

use std::collections::BTreeMap;

use faultline_workload::{Expectation, Workload};
use serde::{Deserialize, Serialize};

/// Where each workload record landed: `seq → (partition, offset)`.
pub type Placement = BTreeMap<u64, (i32, i64)>;

/// The lineage value `expected_from` writes into run id, worker id and pipeline version.
pub const EXPECTED_LINEAGE: &str = "expected";

/// Where a row came from and who wrote it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Lineage {
    /// Topic of the source record.
    pub source_topic: String,
    /// Partition of the source record.
    pub source_partition: i32,
    /// Offset of the source record.
    pub source_offset: i64,
    /// The run that wrote the row (empty when the column held NULL).
    pub run_id: String,
    /// The pipeline version that wrote the row (empty when NULL).
    pub pipeline_version: String,
    /// The worker that wrote the row (empty when NULL).
    pub worker_id: String,
    /// When the row was written, as Postgres prints it; `None` when there is no timestamp column.
    pub written_at: Option<String>,
}

impl Lineage {
    /// The source position `(partition, offset)`.
    pub fn position(&self) -> (i32, i64) {
        (self.source_partition, self.source_offset)
    }
}

/// One row of `transactions`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TransactionRow {
    /// The idempotency key.
    pub transaction_id: String,
    /// The account the transaction changes.
    pub account_id: String,
    /// Signed balance change (credit positive, debit negative).
    pub delta_cents: i64,
    /// Source position and writer.
    pub lineage: Lineage,
}

/// One row of the immutable `raw_events` table (the payload itself is not read).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RawEventRow {
    /// The idempotency key.
    pub transaction_id: String,
    /// Source position and writer.
    pub lineage: Lineage,
}

/// One row of `quarantine`: a rejected record at its source position.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct QuarantineRow {
    /// Source position (the table's key) and writer.
    pub lineage: Lineage,
    /// The reason code, as stored.
    pub reason: String,
}

/// One row of `offset_log`: a committed batch covered `[from_offset, to_offset)` of a partition.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct OffsetRange {
    /// Input partition.
    pub partition: i32,
    /// First offset of the batch.
    pub from_offset: i64,
    /// One past the batch's last offset.
    pub to_offset: i64,
    /// The worker that committed it, when the table records one.
    pub worker_id: Option<String>,
    /// The run that committed it, when the table records one.
    pub run_id: Option<String>,
    /// Commit time as Postgres prints it, when the table records one.
    pub committed_at: Option<String>,
}

/// Everything the oracle reads from a run's schema. Rows are kept as rows (not keyed), so a
/// pipeline without primary keys can still show its duplicates.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndState {
    /// The input topic the state was read for.
    pub topic: String,
    /// `transactions`, sorted.
    pub transactions: Vec<TransactionRow>,
    /// `raw_events`, sorted.
    pub raw_events: Vec<RawEventRow>,
    /// `account_balances`: account → balance in cents (several rows for one account are added up).
    pub account_balances: BTreeMap<String, i64>,
    /// `quarantine`, sorted.
    pub quarantine: Vec<QuarantineRow>,
    /// `partition_offsets` of the topic: partition → stored next offset.
    pub partition_offsets: BTreeMap<i32, i64>,
    /// `offset_log` of the topic, sorted.
    pub offset_log: Vec<OffsetRange>,
}

impl EndState {
    /// The end state a correct pipeline leaves after consuming `w` as placed by `placement`: each
    /// valid transaction once with the lineage of its first copy, balances summed from unique deltas,
    /// each malformed record quarantined at its position, and per partition one offset-log range and
    /// a next offset of one past the highest placed offset. Lineage strings are
    /// [`EXPECTED_LINEAGE`], timestamps absent. Records missing from `placement` are left out.
    pub fn expected_from(w: &Workload, placement: &Placement, topic: &str) -> EndState {
        let lineage = |(partition, offset): (i32, i64)| Lineage {
            source_topic: topic.to_string(),
            source_partition: partition,
            source_offset: offset,
            run_id: EXPECTED_LINEAGE.into(),
            pipeline_version: EXPECTED_LINEAGE.into(),
            worker_id: EXPECTED_LINEAGE.into(),
            written_at: None,
        };
        let mut state = EndState {
            topic: topic.to_string(),
            account_balances: w.expected_balances(),
            ..EndState::default()
        };
        for r in &w.records {
            let Some(&at) = placement.get(&r.seq) else {
                continue;
            };
            match &r.expect {
                Expectation::Valid {
                    transaction_id,
                    account_id,
                    delta_cents,
                } => {
                    state.transactions.push(TransactionRow {
                        transaction_id: transaction_id.clone(),
                        account_id: account_id.clone(),
                        delta_cents: *delta_cents,
                        lineage: lineage(at),
                    });
                    state.raw_events.push(RawEventRow {
                        transaction_id: transaction_id.clone(),
                        lineage: lineage(at),
                    });
                }
                // Recorded events are the user's: the oracle does not judge what they do.
                Expectation::Duplicate { .. }
                | Expectation::Recorded { .. }
                | Expectation::RecordedDuplicate { .. } => {}
                Expectation::Malformed { reason } => {
                    state.quarantine.push(QuarantineRow {
                        lineage: lineage(at),
                        reason: reason.as_str().into(),
                    });
                }
            }
        }
        for &(partition, offset) in placement.values() {
            let next = state.partition_offsets.entry(partition).or_insert(0);
            *next = (*next).max(offset + 1);
        }
        state.offset_log = state
            .partition_offsets
            .iter()
            .map(|(&partition, &next)| OffsetRange {
                partition,
                from_offset: 0,
                to_offset: next,
                worker_id: Some(EXPECTED_LINEAGE.into()),
                run_id: Some(EXPECTED_LINEAGE.into()),
                committed_at: None,
            })
            .collect();
        state.sort_rows();
        state
    }

    /// Sorts every row list (Rust byte order, never the database's collation), so equal states
    /// compare and print equal.
    pub fn sort_rows(&mut self) {
        self.transactions.sort();
        self.raw_events.sort();
        self.quarantine.sort();
        self.offset_log.sort();
    }
}
