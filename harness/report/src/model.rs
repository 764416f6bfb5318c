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
    /// `--repeat N` (N > 1): each scenario and seed's reproduction rate and classes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reproduction: Vec<crate::investigate::Reproduction>,
    /// `faultline hunt`: the seeds tried and the first that failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hunt: Option<crate::investigate::Hunt>,
    /// `faultline shrink`: the search and the smallest failing case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shrink: Option<crate::investigate::ShrinkLog>,
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
    /// The consumer group protocol the workers joined with: `classic` or `consumer` (KIP-848).
    #[serde(default = "classic")]
    pub group_protocol: String,
    /// The planted defect switched on, if any.
    pub defect: Option<String>,
    /// The pipeline manifest given with `--pipeline`; absent for the reference ledger's built-in one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pipeline: Option<String>,
    /// `pass` when every error-severity check passed, `fail` when one failed, `error` when the run
    /// itself could not finish (infra or harness problem; see `error`), `interrupted` when a signal
    /// (SIGINT, SIGTERM) ended the harness while the run was under way.
    pub verdict: Verdict,
    /// Why the run could not finish (with `verdict = error`), or the signal that ended it
    /// (`interrupted by SIGTERM`, with `verdict = interrupted`).
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
    /// A signal ended the harness during the run: nothing was checked, nothing is proven.
    Interrupted,
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

/// A failing row of a check in reports: a flat JSON object, e.g. `{"class": "lost", "key": "…",
/// "topic": "…", "partition": 1, "offset": 42, "fault": "kill_worker#2"}`.
pub type Row = serde_json::Map<String, serde_json::Value>;

/// Most failing rows a check keeps in reports; `failing_total` still counts all of them.
pub const MAX_FAILING_ROWS: usize = 50;

/// One check's result: the oracle's (its rows are anomalies, `R = Anomaly`, until the runner
/// turns them into [`Row`]s), a declarative data check's, or one of the runner's own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
// Only the rows need (de)serializing; serde would also ask `R: Default` for `#[serde(default)]`.
#[serde(bound(serialize = "R: Serialize", deserialize = "R: Deserialize<'de>"))]
pub struct CheckResult<R = Row> {
    /// e.g. `no_loss`, `no_duplicates`, `balances`, `quarantine`, `lineage`, `offsets`, or a
    /// declarative data check's name.
    pub name: String,
    pub status: CheckStatus,
    /// One human sentence: what was checked and what was found.
    pub detail: String,
    /// The offending rows (capped at [`MAX_FAILING_ROWS`] in reports; `failing_total` says how
    /// many there were).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failing_rows: Vec<R>,
    /// How many offending rows there were in all.
    #[serde(default)]
    pub failing_total: u64,
}

impl<R> CheckResult<R> {
    /// The one place a check result is made. `rows` are the failing rows found, maybe only the
    /// first of `failing_total` (a query that counts more than it returns).
    pub fn new(
        name: &str,
        status: CheckStatus,
        detail: String,
        rows: Vec<R>,
        failing_total: u64,
    ) -> Self {
        CheckResult {
            name: name.to_string(),
            status,
            detail,
            failing_rows: rows,
            failing_total,
        }
    }

    /// A result whose `rows` are every failing row there is.
    pub fn from_rows(name: &str, status: CheckStatus, detail: String, rows: Vec<R>) -> Self {
        let total = rows.len() as u64;
        Self::new(name, status, detail, rows, total)
    }

    /// The same result with each failing row turned into another (an anomaly into a report
    /// row); `failing_total` is kept.
    pub fn map_rows<S>(self, f: impl FnMut(R) -> S) -> CheckResult<S> {
        CheckResult::new(
            &self.name,
            self.status,
            self.detail,
            self.failing_rows.into_iter().map(f).collect(),
            self.failing_total,
        )
    }

    /// The result as reports keep it: at most [`MAX_FAILING_ROWS`] rows.
    pub fn capped(mut self) -> Self {
        self.failing_rows.truncate(MAX_FAILING_ROWS);
        self
    }
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
    /// What happened to it. In `report.json` this is the `detail` string it always was: the
    /// parameters in words (`latency 200 ms ± 50 ms downstream`), `skipped: <why>`, or
    /// `<parameters>; HEAL FAILED: <error>`.
    #[serde(rename = "detail")]
    pub outcome: FaultOutcome,
    /// How long after it healed committed progress caught up again, or that it never did before
    /// the run's samples ended ([`crate::recovery`]); `None` (`null`) for a skipped fault.
    #[serde(default)]
    pub time_to_recover: Option<crate::recovery::Recovery>,
}

/// What happened to one planned fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultOutcome {
    /// Injected, and healed when its window ended (instant faults have nothing to heal).
    /// `detail` is its parameters in words.
    Injected { detail: String },
    /// Injected, but healing it failed: whatever ran after it ran on a broken stack.
    HealFailed { detail: String, error: String },
    /// Never injected: its trigger never came, or injecting it failed.
    Skipped { reason: String },
}

const SKIPPED: &str = "skipped: ";
const HEAL_FAILED: &str = "; HEAL FAILED: ";

impl FaultOutcome {
    /// True unless the fault was skipped: it acted on the run, so anomalies and stalls around it
    /// may be its doing.
    pub fn was_injected(&self) -> bool {
        !matches!(self, FaultOutcome::Skipped { .. })
    }

    /// Why the fault was skipped, if it was.
    pub fn skip_reason(&self) -> Option<&str> {
        match self {
            FaultOutcome::Skipped { reason } => Some(reason),
            _ => None,
        }
    }

    /// Reads back the words [`Display`](std::fmt::Display) writes: the inverse, for reports
    /// read from disk.
    fn from_words(words: &str) -> Self {
        if let Some(reason) = words.strip_prefix(SKIPPED) {
            return FaultOutcome::Skipped {
                reason: reason.to_string(),
            };
        }
        match words.split_once(HEAL_FAILED) {
            Some((detail, error)) => FaultOutcome::HealFailed {
                detail: detail.to_string(),
                error: error.to_string(),
            },
            None => FaultOutcome::Injected {
                detail: words.to_string(),
            },
        }
    }
}

/// The words of `report.json`'s `detail` field, and of every view of a fault.
impl std::fmt::Display for FaultOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FaultOutcome::Injected { detail } => f.write_str(detail),
            FaultOutcome::HealFailed { detail, error } => write!(f, "{detail}{HEAL_FAILED}{error}"),
            FaultOutcome::Skipped { reason } => write!(f, "{SKIPPED}{reason}"),
        }
    }
}

impl Serialize for FaultOutcome {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for FaultOutcome {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(|words| FaultOutcome::from_words(&words))
    }
}

/// Counters of one run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunStats {
    /// Records produced to the input topic.
    pub produced: u64,
    /// Records whose offsets the pipeline committed (its committed positions per partition added
    /// up, as its progress source reports them).
    pub committed: u64,
    /// Records in the dead-letter topic (read_committed), copies included.
    pub dlq: u64,
    /// Distinct source records among them: `dlq - dlq_distinct` dead letters are copies.
    #[serde(default)]
    pub dlq_distinct: u64,
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
    /// Records committed so far (the committed positions per partition added up).
    pub committed: u64,
}

/// The group protocol of a report written before the field existed.
fn classic() -> String {
    "classic".into()
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
    /// The lowercase word used in every output: `pass`, `fail`, `error`, `interrupted`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Error => "error",
            Verdict::Interrupted => "interrupted",
        }
    }

    /// Every verdict, in the order tallies list them.
    pub const ALL: [Verdict; 4] = [
        Verdict::Pass,
        Verdict::Fail,
        Verdict::Error,
        Verdict::Interrupted,
    ];
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
    /// A suite of `runs`, with nothing found across runs yet.
    pub fn new(target: String, started_at: String, duration_ms: u64, runs: Vec<RunReport>) -> Self {
        SuiteReport {
            target,
            started_at,
            duration_ms,
            runs,
            reproduction: Vec::new(),
            hunt: None,
            shrink: None,
        }
    }

    /// The suite's verdict: `fail` if any run failed (a proven violation is the headline), else
    /// `error` if any run could not finish, else `interrupted` if a signal cut a run short, else
    /// `pass` (also for an empty suite).
    pub fn verdict(&self) -> Verdict {
        [Verdict::Fail, Verdict::Error, Verdict::Interrupted]
            .into_iter()
            .find(|v| self.count(*v) > 0)
            .unwrap_or(Verdict::Pass)
    }

    /// How many runs ended with `verdict`.
    pub fn count(&self, verdict: Verdict) -> usize {
        self.runs.iter().filter(|r| r.verdict == verdict).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_outcomes_round_trip_the_detail_strings_reports_have_always_had() {
        let cases = [
            (
                "latency 200 ms ± 50 ms downstream",
                FaultOutcome::Injected {
                    detail: "latency 200 ms ± 50 ms downstream".into(),
                },
            ),
            (
                "skipped: only 120 records were sent, trigger was 500",
                FaultOutcome::Skipped {
                    reason: "only 120 records were sent, trigger was 500".into(),
                },
            ),
            (
                "skipped: infrastructure: no broker 4",
                FaultOutcome::Skipped {
                    reason: "infrastructure: no broker 4".into(),
                },
            ),
            (
                "SIGSTOP, then SIGCONT; HEAL FAILED: fault pause_worker#1: w2 is gone",
                FaultOutcome::HealFailed {
                    detail: "SIGSTOP, then SIGCONT".into(),
                    error: "fault pause_worker#1: w2 is gone".into(),
                },
            ),
            ("", FaultOutcome::Injected { detail: "".into() }),
        ];
        for (words, outcome) in cases {
            let json = serde_json::to_string(&outcome).unwrap();
            assert_eq!(json, serde_json::to_string(words).unwrap());
            assert_eq!(
                serde_json::from_str::<FaultOutcome>(&json).unwrap(),
                outcome
            );
        }
        assert!(!FaultOutcome::Skipped { reason: "x".into() }.was_injected());
        assert_eq!(
            FaultOutcome::Skipped { reason: "x".into() }.skip_reason(),
            Some("x")
        );
        assert!(FaultOutcome::HealFailed {
            detail: "d".into(),
            error: "e".into()
        }
        .was_injected());
    }

    #[test]
    fn an_interrupted_run_is_its_own_verdict_and_never_a_pass() {
        assert_eq!(
            serde_json::to_value(Verdict::Interrupted).unwrap(),
            serde_json::json!("interrupted")
        );
        assert_eq!(
            serde_json::from_str::<Verdict>("\"interrupted\"").unwrap(),
            Verdict::Interrupted
        );
        let mut suite = crate::fixtures::sample_suite();
        suite.runs[1].verdict = Verdict::Pass;
        assert_eq!(suite.verdict(), Verdict::Pass);
        suite.runs[1].verdict = Verdict::Interrupted;
        assert_eq!(suite.verdict(), Verdict::Interrupted);
        assert_eq!(suite.count(Verdict::Interrupted), 1);
        // A proven violation or an error still heads the suite.
        suite.runs[0].verdict = Verdict::Error;
        assert_eq!(suite.verdict(), Verdict::Error);
        suite.runs[0].verdict = Verdict::Fail;
        assert_eq!(suite.verdict(), Verdict::Fail);
    }

    #[test]
    fn the_readme_lists_exactly_the_fields_of_a_fault_in_report_json() {
        let readme = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md"),
        )
        .unwrap();
        let lead = "Each fault in `report.json` (`runs[].faults[]`) has the fields ";
        let at = readme.find(lead).expect("README lists a fault's fields") + lead.len();
        let list = &readme[at..at + readme[at..].find(':').unwrap()];
        let mut documented: Vec<&str> = list.split('`').skip(1).step_by(2).collect();
        documented.sort_unstable();
        let fault = crate::fixtures::sample_suite().runs[0].faults[0].clone();
        let value = serde_json::to_value(fault).unwrap();
        let fields: Vec<&str> = value
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(documented, fields);
    }

    #[test]
    fn a_fault_event_keeps_its_json_field_name() {
        let e = FaultEvent {
            id: "kill_worker#1".into(),
            kind: "kill_worker".into(),
            target: "worker:w1".into(),
            start_ms: 5,
            end_ms: None,
            outcome: FaultOutcome::Skipped {
                reason: "no worker".into(),
            },
            time_to_recover: None,
        };
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"id": "kill_worker#1", "kind": "kill_worker", "target": "worker:w1",
                "start_ms": 5, "end_ms": null, "detail": "skipped: no worker",
                "time_to_recover": null})
        );
        assert_eq!(serde_json::from_value::<FaultEvent>(v.clone()).unwrap(), e);
        // Reports written before `time_to_recover` existed still read.
        let mut old = v;
        old.as_object_mut().unwrap().remove("time_to_recover");
        assert_eq!(serde_json::from_value::<FaultEvent>(old).unwrap(), e);
    }
}
