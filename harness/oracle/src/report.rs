//! `OracleReport`: the named checks, each passed or not, with its anomalies.

use serde::{Deserialize, Serialize};

use crate::anomaly::{Anomaly, AnomalyClass};

/// The result of one named check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckOutcome {
    /// The check's name, e.g. `no_loss`.
    pub name: String,
    /// True when it found no anomaly.
    pub passed: bool,
    /// One sentence with the counts behind the verdict.
    pub detail: String,
    /// What it found, sorted.
    pub anomalies: Vec<Anomaly>,
}

impl CheckOutcome {
    /// An outcome that passes exactly when `anomalies` is empty; sorts them.
    pub fn new(name: &str, detail: String, mut anomalies: Vec<Anomaly>) -> Self {
        anomalies.sort();
        CheckOutcome {
            name: name.to_string(),
            passed: anomalies.is_empty(),
            detail,
            anomalies,
        }
    }
}

/// Every check's outcome, in a fixed order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OracleReport {
    /// One outcome per check.
    pub checks: Vec<CheckOutcome>,
}

impl OracleReport {
    /// True when every check passed.
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.passed)
    }

    /// Every anomaly, check by check.
    pub fn anomalies(&self) -> Vec<&Anomaly> {
        self.checks.iter().flat_map(|c| &c.anomalies).collect()
    }

    /// The outcome of the check called `name`, if it ran.
    pub fn check(&self, name: &str) -> Option<&CheckOutcome> {
        self.checks.iter().find(|c| c.name == name)
    }

    /// How many anomalies of `class` the report holds.
    pub fn count(&self, class: AnomalyClass) -> usize {
        self.anomalies().iter().filter(|a| a.class == class).count()
    }
}
