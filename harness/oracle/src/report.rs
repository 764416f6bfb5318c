//! `OracleReport`: the named checks, each a [`CheckResult`] whose failing rows are the anomalies it
//! found. The runner turns those anomalies into report rows ([`CheckResult::map_rows`]).

use faultline_report::{CheckResult, CheckStatus};
use serde::{Deserialize, Serialize};

use crate::anomaly::{Anomaly, AnomalyClass};

/// The result of one named check: passes exactly when it found no anomaly; the anomalies sorted.
pub(crate) fn finding(
    name: &str,
    detail: String,
    mut anomalies: Vec<Anomaly>,
) -> CheckResult<Anomaly> {
    anomalies.sort();
    let status = if anomalies.is_empty() {
        CheckStatus::Pass
    } else {
        CheckStatus::Fail
    };
    let total = anomalies.len() as u64;
    CheckResult::new(name, status, detail, anomalies, total)
}

/// Every check's result, in a fixed order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OracleReport {
    /// One result per check.
    pub checks: Vec<CheckResult<Anomaly>>,
}

impl OracleReport {
    /// True when every check passed.
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.status == CheckStatus::Pass)
    }

    /// Every anomaly, check by check.
    pub fn anomalies(&self) -> Vec<&Anomaly> {
        self.checks.iter().flat_map(|c| &c.failing_rows).collect()
    }

    /// The result of the check called `name`, if it ran.
    pub fn check(&self, name: &str) -> Option<&CheckResult<Anomaly>> {
        self.checks.iter().find(|c| c.name == name)
    }

    /// How many anomalies of `class` the report holds.
    pub fn count(&self, class: AnomalyClass) -> usize {
        self.anomalies().iter().filter(|a| a.class == class).count()
    }
}
