//! Declarative data checks from scenario files (`[[checks.data]]`), run against the run's tables.
//! The check types are scenario data (`faultline_scenario::data_check`). Here each check becomes one
//! query that returns the failing rows (`query`); `run` executes it in a read-only transaction and
//! keeps the first [`MAX_FAILING_ROWS`](faultline_report::MAX_FAILING_ROWS)
//! rows plus the total.

mod query;
mod run;

pub use faultline_scenario::data_check::{DataCheck, DataCheckKind, Severity};
pub use query::{failing_rows_query, FailingRowsQuery};
pub use run::run_data_check;
