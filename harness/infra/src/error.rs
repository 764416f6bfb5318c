//! The infra crate's error type. Every variant names the thing that failed and, where there is one,
//! the fix.

use std::path::PathBuf;

/// Errors from starting, operating or tearing down a stack.
#[derive(Debug, thiserror::Error)]
pub enum InfraError {
    /// A prerequisite is missing; `fix` says what to run.
    #[error("{what} is missing: {fix}")]
    Prerequisite { what: String, fix: String },
    /// A value given by flag, env or config is not valid.
    #[error("invalid {field} `{value}`: {expected}")]
    InvalidValue {
        field: String,
        value: String,
        expected: String,
    },
    /// A service did not become ready in time; `log_tail` is the end of its log.
    #[error("{service} was not ready after {waited_ms} ms{}", log_suffix(.log_tail))]
    NotReady {
        service: String,
        waited_ms: u128,
        log_tail: String,
    },
    /// A child process could not be started or exited unexpectedly.
    #[error("{service}: {message}{}", log_suffix(.log_tail))]
    Process {
        service: String,
        message: String,
        log_tail: String,
    },
    /// An operation the backend cannot do (e.g. pausing an external broker).
    #[error("the {backend} backend cannot {operation}")]
    Unsupported {
        backend: &'static str,
        operation: String,
    },
    /// There is no broker with this id in the stack.
    #[error("no broker {0} in this stack")]
    NoSuchBroker(u32),
    #[error("I/O on {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("docker: {0}")]
    Docker(#[from] testcontainers::TestcontainersError),
    #[error("kafka: {0}")]
    Kafka(#[from] rdkafka::error::KafkaError),
    #[error("postgres: {0}")]
    Postgres(#[from] tokio_postgres::Error),
    /// A doctor step's check did not hold.
    #[error("check failed: {0}")]
    Check(String),
}

fn log_suffix(tail: &str) -> String {
    if tail.is_empty() {
        String::new()
    } else {
        format!("\n--- last lines of its log ---\n{tail}")
    }
}

/// Result alias for this crate.
pub type Result<T, E = InfraError> = std::result::Result<T, E>;

/// Attaches a path to an `io::Error`.
pub(crate) trait IoContext<T> {
    fn at(self, path: impl Into<PathBuf>) -> Result<T>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn at(self, path: impl Into<PathBuf>) -> Result<T> {
        self.map_err(|source| InfraError::Io {
            path: path.into(),
            source,
        })
    }
}
