//! The runner's error type: why a run could not finish (as opposed to a check that failed).

use std::path::PathBuf;

/// A run that could not finish. Maps to exit code 2.
#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    #[error(transparent)]
    Scenario(#[from] faultline_scenario::ScenarioError),
    #[error(transparent)]
    Manifest(#[from] faultline_manifest::ManifestError),
    #[error("infrastructure: {0}")]
    Infra(#[from] faultline_infra::InfraError),
    #[error("workload: {0}")]
    Workload(#[from] faultline_workload::SpecError),
    #[error("workload file: {0}")]
    WorkloadFile(#[from] faultline_workload::FileError),
    #[error("kafka: {0}")]
    Kafka(#[from] rdkafka::error::KafkaError),
    #[error("postgres: {0}")]
    Postgres(#[from] tokio_postgres::Error),
    #[error("oracle: {0}")]
    Oracle(#[from] faultline_oracle::OracleError),
    #[error("fault proxy: {0}")]
    Proxy(#[from] faultline_proxy::ProxyError),
    #[error("report: {0}")]
    Report(#[from] faultline_report::ReportError),
    /// A `[compare]` model or policy file, or writing the comparison outputs.
    #[error("compare: {0}")]
    Models(#[from] faultline_models::ModelError),
    /// A fault-free baseline run (`[compare] baseline = true`, or the differential check's)
    /// could not finish or failed.
    #[error("the fault-free baseline run could not finish: {0}")]
    Baseline(Box<RunnerError>),
    /// The pipeline under test could not run (bad command, configuration refused, all workers died).
    #[error("pipeline: {message}{}", tail(.log_tail))]
    Pipeline { message: String, log_tail: String },
    /// The progress source's query can never work: Postgres refused it (its message is quoted),
    /// or its rows are not `(partition, next_offset)`.
    #[error("progress query `{query}`: {message}")]
    ProgressQuery { query: String, message: String },
    /// A fault could not be injected or healed.
    #[error("fault {id}: {message}")]
    Fault { id: String, message: String },
    /// A flag or combination the run cannot honour; the message says what to do instead.
    #[error("{0}")]
    Usage(String),
    /// The run did not end within the scenario's `time_limit_s` plus `allowance_s` (the
    /// allowance for start-up and checks, `suite::TIME_LIMIT_ALLOWANCE_S`).
    #[error(
        "time limit exceeded while {during}: waited {} s (the scenario's time_limit_s = {limit_s} \
         plus {allowance_s} s allowed for start-up and checks); raise time_limit_s if the run \
         needs longer",
        limit_s + allowance_s
    )]
    TimeLimit {
        limit_s: u64,
        allowance_s: u64,
        during: String,
    },
    #[error("I/O on {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{what}: {source}")]
    Json {
        what: String,
        source: serde_json::Error,
    },
}

fn tail(t: &str) -> String {
    if t.is_empty() {
        String::new()
    } else {
        format!("\n--- last lines of its log ---\n{t}")
    }
}

/// Result alias for this crate.
pub type Result<T, E = RunnerError> = std::result::Result<T, E>;

/// Attaches a path to an `io::Error`.
pub(crate) trait IoAt<T> {
    fn at(self, path: impl Into<PathBuf>) -> Result<T>;
}

impl<T> IoAt<T> for std::io::Result<T> {
    fn at(self, path: impl Into<PathBuf>) -> Result<T> {
        self.map_err(|source| RunnerError::Io {
            path: path.into(),
            source,
        })
    }
}
