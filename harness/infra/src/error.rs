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
    #[error("docker: {0}{fix}", fix = docker_fix(.0))]
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

/// The fix for a Docker error a user can fix, on its own line; empty for the others.
fn docker_fix(e: &testcontainers::TestcontainersError) -> &'static str {
    use testcontainers::bollard::errors::Error as Daemon;
    use testcontainers::core::error::ClientError;
    match e {
        // The daemon answered but could not get the image: not local, and no registry reachable.
        testcontainers::TestcontainersError::Client(ClientError::PullImage {
            err: Daemon::DockerResponseServerError { .. } | Daemon::DockerStreamError { .. },
            ..
        }) => {
            "\nfix: the image is not on this machine and cannot be pulled; build local images and use \
             them with `eval \"$(ci/images.sh \"$FAULTLINE_KAFKA_HOME\")\"` (`ci/provision.sh` does \
             this and writes them to $FAULTLINE_CACHE/env.sh), or use --backend processes"
        }
        _ => "",
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

#[cfg(test)]
mod tests {
    use super::*;
    use testcontainers::bollard::errors::Error as Daemon;
    use testcontainers::core::error::ClientError;

    fn pull_error(err: Daemon) -> InfraError {
        InfraError::Docker(
            ClientError::PullImage {
                descriptor: "apache/kafka:4.1.1".into(),
                err,
            }
            .into(),
        )
    }

    #[test]
    fn an_image_that_cannot_be_pulled_names_the_script_that_builds_it() {
        let e = pull_error(Daemon::DockerResponseServerError {
            status_code: 500,
            message: "Get \"https://registry-1.docker.io/v2/\": dial tcp: lookup registry-1.docker.io: no such host".into(),
        });
        let text = e.to_string();
        assert!(
            text.starts_with("docker: failed to pull the image 'apache/kafka:4.1.1'"),
            "{text}"
        );
        assert!(
            text.contains("\nfix: the image is not on this machine"),
            "{text}"
        );
        assert!(
            text.contains("ci/images.sh") && text.contains("ci/provision.sh"),
            "{text}"
        );
    }

    #[test]
    fn other_docker_errors_get_no_image_fix() {
        let e = pull_error(Daemon::RequestTimeoutError);
        assert!(!e.to_string().contains("fix:"), "{e}");
    }
}
