//! The exactly-once oracle: what a pipeline left in Postgres, compared with what was sent, using
//! only the workload (never the pipeline's code).
//!
//! Module map:
//! - [`state`]       `EndState` and its rows, `Placement`, and the end state a correct pipeline leaves.
//! - [`read`]        `read_end_state`: the contract tables of one schema into an `EndState`;
//!   `read_found` reads around missing tables and lists them (`Found`).
//! - [`check`](mod@check) `check`: the named checks (loss, duplicates, phantoms, values, balances, raw
//!   events, quarantine, lineage, offsets); one file per concern below it. `check_found` fails the
//!   checks whose tables are missing.
//! - [`anomaly`]     `Anomaly`, `AnomalyClass` and the key formats.
//! - [`report`]      `OracleReport`: each check a `faultline_report::CheckResult` of anomalies.
//! - [`normalize`](mod@normalize) redacted, sorted end states and summaries for golden snapshots.
//! - [`dead_letters`] `check_dead_letters`: the dead-letter topic against the malformed records,
//!   copies judged by the declared `Guarantee`.
//! - [`data_checks`] declarative checks from scenario files (`not_null`, `unique`, …) and their SQL.
//! - [`error`]       `OracleError`.
//! - `sql`           identifier quoting and validation (crate-private).
//!
//! # Example
//!
//! ```
//! use std::collections::BTreeMap;
//! use faultline_oracle::{check, EndState, Placement};
//! use faultline_workload::{generate, WorkloadSpec};
//!
//! let w = generate(&WorkloadSpec { events: 20, ..WorkloadSpec::default() }).unwrap();
//! // Pretend everything went to partition 0, in order.
//! let placement: Placement = w.records.iter().map(|r| (r.seq, (0, r.seq as i64))).collect();
//! let hw = BTreeMap::from([(0, w.records.len() as i64)]);
//! let mut state = EndState::expected_from(&w, &placement, "payments");
//! assert!(check(&w, &placement, &hw, &state).passed());
//!
//! state.transactions.pop();
//! let report = check(&w, &placement, &hw, &state);
//! assert_eq!(report.anomalies().len(), 1);
//! assert_eq!(report.check("no_loss").unwrap().failing_rows[0].class.as_str(), "lost");
//! ```

pub mod anomaly;
pub mod check;
pub mod data_checks;
pub mod dead_letters;
pub mod error;
pub mod normalize;
pub mod read;
pub mod report;
mod sql;
pub mod state;

#[cfg(test)]
mod tests;

pub use anomaly::{partition_key, position_key, Anomaly, AnomalyClass};
pub use check::{check, check_found, CHECK_NAMES, CHECK_TABLES};
pub use data_checks::{
    failing_rows_query, run_data_check, DataCheck, DataCheckKind, FailingRowsQuery, Severity,
};
pub use dead_letters::{check_dead_letters, DeadLetter, DeadLetterReport};
pub use error::{OracleError, CONTRACT_DOC};
pub use normalize::{normalize, normalize_summary};
pub use read::{read_end_state, read_found, Found, CONTRACT_TABLES};
pub use report::OracleReport;
pub use state::{
    EndState, Lineage, OffsetRange, Placement, QuarantineRow, RawEventRow, TransactionRow,
    EXPECTED_LINEAGE,
};
