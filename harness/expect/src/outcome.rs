//! The result of one check: anomalies plus a per-table summary.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::anomaly::{Anomaly, AnomalyClass};

/// Everything [`check`](crate::check) found.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Outcome {
    /// Sorted by table, then class (report order), then key.
    pub anomalies: Vec<Anomaly>,
    /// One summary per declared table, sorted by table name.
    pub tables: Vec<TableSummary>,
}

impl Outcome {
    /// True when no table has any anomaly.
    pub fn is_clean(&self) -> bool {
        self.anomalies.is_empty()
    }
}

/// Row and anomaly counts for one table.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TableSummary {
    /// The table name.
    pub table: String,
    /// Rows the input records imply.
    pub expected_rows: usize,
    /// Rows the table holds.
    pub actual_rows: usize,
    /// Anomaly count per class; classes with none are left out.
    pub anomalies: BTreeMap<AnomalyClass, usize>,
}
