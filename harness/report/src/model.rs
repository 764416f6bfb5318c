//! The report data model: what one scenario run found. `report.json` is this, serialized; JUnit and
//! HTML are views of it. Field names are a public contract (CI jobs read `report.json`).

use serde::{Deserialize, Serialize};

/// Every scenario run of one `faultline run` invocation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SuiteReport {
    /// The argument given to `faultline run` (a file or a directory).
    pub target: String,
    /// RFC 3339 UTC time the suite started.
    pub started_at: String,
    /// Total wall time, milliseconds.
    pub duration_ms: u64,
    /// One entry per scenario × seed, in run order.
    pub runs: Vec<RunReport>,
}

/// One scenario run with one seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    /// Scenario name (the file stem unless the file sets `name`).
    pub scenario: String,
    /// Path of the scenario file as given.
    pub scenario_file: String,
    /// The seed every draw (workload and fault schedule) came from.
    pub seed: u64,
    /// `containers`, `processes` or `external`.
    pub backend: String,
    /// The planted defect switched on, if any.
    pub defect: Option<String>,
    /// `pass` when every error-severity check passed, `fail` when one failed, `error` when the run
    /// itself could not finish (infra or harness problem; see `error`).
    pub verdict: Verdict,
    /// Why the run could not finish (only with `verdict = error`).
    pub error: Option<String>,
    /// Every check, in the order run.
    pub checks: Vec<CheckResult>,
    /// Every fault injected, with its window.
    pub faults: Vec<FaultEvent>,
    /// Counters of the run.
    pub stats: RunStats,
    /// Progress samples over the run, for the throughput/lag plot.
    pub samples: Vec<Sample>,
    /// One shell command that reruns this scenario with the same seed, workload and schedule.
    pub repro: String,
    /// Where the failure bundle was written (failed or errored runs only).
    pub bundle: Option<String>,
    /// The normalized summary of what the pipeline left in Postgres (row counts, balance sums,
    /// quarantine by reason, next offsets): what golden snapshots pin. Absent when the run errored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_state: Option<serde_json::Value>,
    /// Stretches with records waiting and no commit for at least 2 s, from `samples`, with the
    /// faults around each ([`crate::stall`]).
    #[serde(default)]
    pub stalls: Vec<crate::stall::Stall>,
}

/// The outcome of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    Fail,
    Error,
}

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    Pass,
    /// Failed, but the check's severity is `warn`: reported, does not fail the run.
    Warn,
    Fail,
    /// Not applicable to this run (the detail says why).
    Skip,
}

/// One check's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckResult {
    /// e.g. `no_loss`, `no_duplicates`, `balances`, `quarantine`, `lineage`, `offsets`, or a
    /// declarative data check's name.
    pub name: String,
    pub status: CheckStatus,
    /// One human sentence: what was checked and what was found.
    pub detail: String,
    /// The offending rows (capped; `failing_total` says how many there were). Each is a flat JSON
    /// object, e.g. `{"class": "lost", "key": "…", "topic": "…", "partition": 1, "offset": 42,
    /// "fault": "kill_worker#2"}`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failing_rows: Vec<serde_json::Map<String, serde_json::Value>>,
    /// How many offending rows there were in all.
    #[serde(default)]
    pub failing_total: u64,
}

/// One injected fault and its window on the run's clock (ms since the workload started).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultEvent {
    /// Position in the schedule, e.g. `kill_worker#2`.
    pub id: String,
    /// Fault kind as written in the scenario, e.g. `kill_worker`, `latency`, `restart_broker`.
    pub kind: String,
    /// What it hit: `worker:w2`, `broker:1`, `postgres`, `proxy:kafka-1`, `enrichment`.
    pub target: String,
    pub start_ms: u64,
    /// When it was healed; `None` for an instantaneous fault (a kill).
    pub end_ms: Option<u64>,
    /// Parameters in words, e.g. `latency 200 ms ± 50 ms downstream`.
    pub detail: String,
}

/// Counters of one run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunStats {
    /// Records produced to the input topic.
    pub produced: u64,
    /// Records whose offsets the pipeline committed (sum of stored next offsets).
    pub committed: u64,
    /// Records in the dead-letter topic.
    pub dlq: u64,
    /// Wall time of the run (workload start to checks done), milliseconds.
    pub duration_ms: u64,
    /// SHA-256 of the workload bytes in send order.
    pub workload_digest: String,
}

/// A progress sample.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// ms since the workload started.
    pub t_ms: u64,
    /// Records produced so far.
    pub produced: u64,
    /// Records committed so far (sum of stored next offsets).
    pub committed: u64,
}

impl RunReport {
    /// `scenario[seed=N,backend=B]`: names the run in JUnit and headings.
    pub fn label(&self) -> String {
        format!(
            "{}[seed={},backend={}]",
            self.scenario, self.seed, self.backend
        )
    }

    /// The checks that failed (severity error).
    pub fn failed_checks(&self) -> impl Iterator<Item = &CheckResult> {
        self.checks.iter().filter(|c| c.status == CheckStatus::Fail)
    }
}

impl Verdict {
    /// The lowercase word used in every output: `pass`, `fail`, `error`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Error => "error",
        }
    }
}

impl CheckStatus {
    /// The lowercase word used in every output: `pass`, `warn`, `fail`, `skip`.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckStatus::Pass => "pass",
            CheckStatus::Warn => "warn",
            CheckStatus::Fail => "fail",
            CheckStatus::Skip => "skip",
        }
    }
}

impl SuiteReport {
    /// The suite's verdict: `fail` if any run failed (a proven violation is the headline), else
    /// `error` if any run could not finish, else `pass` (also for an empty suite).
    pub fn verdict(&self) -> Verdict {
        if self.runs.iter().any(|r| r.verdict == Verdict::Fail) {
            Verdict::Fail
        } else if self.runs.iter().any(|r| r.verdict == Verdict::Error) {
            Verdict::Error
        } else {
            Verdict::Pass
        }
    }

    /// How many runs ended with `verdict`.
    pub fn count(&self, verdict: Verdict) -> usize {
        self.runs.iter().filter(|r| r.verdict == verdict).count()
    }
}
