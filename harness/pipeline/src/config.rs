//! The worker's configuration, read from environment variables: the process contract every pipeline
//! under faultline follows (see docs/PIPELINE-CONTRACT.md). A bad value names the variable and the fix.

use std::time::Duration;

use crate::defects::Defect;
use crate::enrich::OnOutage;
use crate::score::{Models, CHALLENGER_VAR, CHAMPION_VAR};

/// How the worker runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Consume forever (until SIGTERM).
    Stream,
    /// Consume until caught up with the high watermarks seen at start, then exit 0 (an hourly job).
    Batch,
    /// Read a topic range or a file, print what would be committed and the diff; commit nothing.
    DryRun,
    /// Repair the ledger after a defect reached production (see `recovery`), then exit 0.
    Recover(Recovery),
}

/// Which repair `Mode::Recover` runs (`FAULTLINE_RECOVER`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recovery {
    /// Recompute the derived tables from the immutable raw table.
    Rebuild,
    /// Re-read a window of the input topic and write it idempotently.
    Backfill,
}

impl Mode {
    /// The mode from the values of `FAULTLINE_MODE` and `FAULTLINE_RECOVER` (unset or blank:
    /// `None`). `FAULTLINE_RECOVER` is read only in recover mode, where it is required. Taking the
    /// values rather than reading the environment keeps this testable without touching it.
    pub fn parse(mode: Option<&str>, recover: Option<&str>) -> Result<Self, ConfigError> {
        match mode {
            None | Some("stream") => Ok(Mode::Stream),
            Some("batch") => Ok(Mode::Batch),
            Some("dry-run") => Ok(Mode::DryRun),
            Some("recover") => match recover {
                Some("rebuild") => Ok(Mode::Recover(Recovery::Rebuild)),
                Some("backfill") => Ok(Mode::Recover(Recovery::Backfill)),
                Some(other) => Err(ConfigError {
                    var: "FAULTLINE_RECOVER",
                    problem: format!("`{other}`; expected rebuild or backfill"),
                }),
                None => Err(ConfigError {
                    var: "FAULTLINE_RECOVER",
                    problem: "not set; recover mode needs rebuild or backfill".into(),
                }),
            },
            Some(other) => Err(ConfigError {
                var: "FAULTLINE_MODE",
                problem: format!("`{other}`; expected stream, batch, dry-run or recover"),
            }),
        }
    }
}

/// The Kafka consumer group protocol the worker joins with (`FAULTLINE_GROUP_PROTOCOL`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GroupProtocol {
    /// JoinGroup/SyncGroup with the client's `range` assignor and session timeout.
    #[default]
    Classic,
    /// KIP-848: the coordinator assigns partitions incrementally and the broker's
    /// `group.consumer.session.timeout.ms` and heartbeat interval apply.
    Consumer,
}

impl GroupProtocol {
    /// The protocol from the value of `FAULTLINE_GROUP_PROTOCOL` (unset or blank: classic).
    pub fn parse(value: Option<&str>) -> Result<Self, ConfigError> {
        match value {
            None | Some("classic") => Ok(Self::Classic),
            Some("consumer") => Ok(Self::Consumer),
            Some(other) => Err(ConfigError {
                var: "FAULTLINE_GROUP_PROTOCOL",
                problem: format!("`{other}`; expected classic or consumer"),
            }),
        }
    }
}

/// Everything the worker needs.
#[derive(Debug, Clone)]
pub struct Config {
    pub bootstrap: String,
    pub input_topic: String,
    pub dlq_topic: String,
    pub group_id: String,
    /// `FAULTLINE_GROUP_PROTOCOL`: `classic` (default) or `consumer` (KIP-848).
    pub group_protocol: GroupProtocol,
    /// Postgres URL (contains the password; never logged).
    pub postgres_url: String,
    pub schema: String,
    pub run_id: String,
    pub worker_id: String,
    pub enrich_url: Option<String>,
    /// `FAULTLINE_ENRICH_FALLBACK`: `retry` (default) or `default`; see [`OnOutage`].
    pub on_outage: OnOutage,
    pub metrics_addr: Option<String>,
    pub alert_webhook: Option<String>,
    /// DLQ ratio over the alert window above which an alert fires.
    pub alert_dlq_ratio: f64,
    pub mode: Mode,
    pub batch_max_records: usize,
    pub batch_linger: Duration,
    pub defect: Option<Defect>,
    pub pipeline_version: String,
    /// Dry-run only: read events from this file (JSON lines) instead of the topic.
    pub dry_run_file: Option<String>,
    /// The champion and shadow challenger: the files named by `FAULTLINE_CHAMPION_MODEL` /
    /// `FAULTLINE_CHALLENGER_MODEL`, loaded and checked here so a bad one is a configuration error
    /// (exit 2), else the built-in scorecards.
    pub models: Models,
}

/// A configuration error naming the variable.
#[derive(Debug, thiserror::Error)]
#[error("{var}: {problem}")]
pub struct ConfigError {
    pub var: &'static str,
    pub problem: String,
}

fn var(name: &'static str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn required(name: &'static str, what: &str) -> Result<String, ConfigError> {
    var(name).ok_or_else(|| ConfigError {
        var: name,
        problem: format!("not set; it must give {what}"),
    })
}

fn parsed<T: std::str::FromStr>(
    name: &'static str,
    default: T,
    expected: &str,
) -> Result<T, ConfigError> {
    match var(name) {
        None => Ok(default),
        Some(v) => v.parse().map_err(|_| ConfigError {
            var: name,
            problem: format!("`{v}` is not {expected}"),
        }),
    }
}

/// True for names safe to splice into SQL as an identifier.
fn is_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !s.starts_with(|c: char| c.is_ascii_digit())
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        let mode = Mode::parse(
            var("FAULTLINE_MODE").as_deref(),
            var("FAULTLINE_RECOVER").as_deref(),
        )?;
        let schema = var("FAULTLINE_PG_SCHEMA").unwrap_or_else(|| "ledger".into());
        if !is_identifier(&schema) {
            return Err(ConfigError {
                var: "FAULTLINE_PG_SCHEMA",
                problem: format!("`{schema}`; use lowercase letters, digits and _ (max 63), not starting with a digit"),
            });
        }
        let defect = match var("FAULTLINE_DEFECT") {
            None => None,
            Some(name) => Some(Defect::parse(&name).map_err(|problem| ConfigError {
                var: "FAULTLINE_DEFECT",
                problem,
            })?),
        };
        let input_topic = required("FAULTLINE_INPUT_TOPIC", "the topic of transaction events")?;
        let alert_dlq_ratio: f64 = parsed(
            "FAULTLINE_ALERT_DLQ_RATIO",
            0.05,
            "a number between 0 and 1",
        )?;
        if !(0.0..=1.0).contains(&alert_dlq_ratio) {
            return Err(ConfigError {
                var: "FAULTLINE_ALERT_DLQ_RATIO",
                problem: format!("{alert_dlq_ratio} is outside 0..=1"),
            });
        }
        let batch_max_records: usize =
            parsed("FAULTLINE_BATCH_MAX_RECORDS", 2000, "a positive integer")?;
        if batch_max_records == 0 {
            return Err(ConfigError {
                var: "FAULTLINE_BATCH_MAX_RECORDS",
                problem: "must be at least 1".into(),
            });
        }
        Ok(Self {
            bootstrap: required(
                "FAULTLINE_KAFKA_BOOTSTRAP",
                "Kafka bootstrap servers host:port[,host:port]",
            )?,
            dlq_topic: var("FAULTLINE_DLQ_TOPIC").unwrap_or_else(|| format!("{input_topic}.dlq")),
            group_id: var("FAULTLINE_GROUP_ID").unwrap_or_else(|| format!("{input_topic}.ledger")),
            group_protocol: GroupProtocol::parse(var("FAULTLINE_GROUP_PROTOCOL").as_deref())?,
            input_topic,
            postgres_url: required(
                "FAULTLINE_POSTGRES_URL",
                "postgres://USER:PASSWORD@HOST:PORT/DB",
            )?,
            schema,
            run_id: var("FAULTLINE_RUN_ID").unwrap_or_else(|| "manual".into()),
            worker_id: var("FAULTLINE_WORKER_ID")
                .unwrap_or_else(|| format!("worker-{}", std::process::id())),
            enrich_url: var("FAULTLINE_ENRICH_URL"),
            on_outage: match var("FAULTLINE_ENRICH_FALLBACK") {
                None => OnOutage::default(),
                Some(v) => OnOutage::parse(&v).map_err(|problem| ConfigError {
                    var: "FAULTLINE_ENRICH_FALLBACK",
                    problem,
                })?,
            },
            metrics_addr: var("FAULTLINE_METRICS_ADDR"),
            alert_webhook: var("FAULTLINE_ALERT_WEBHOOK"),
            alert_dlq_ratio,
            mode,
            batch_max_records,
            batch_linger: Duration::from_millis(parsed(
                "FAULTLINE_BATCH_LINGER_MS",
                50u64,
                "milliseconds",
            )?),
            defect,
            pipeline_version: var("FAULTLINE_PIPELINE_VERSION")
                .unwrap_or_else(|| env!("CARGO_PKG_VERSION").to_string()),
            dry_run_file: var("FAULTLINE_DRY_RUN_FILE"),
            models: Models::from_paths(
                var(CHAMPION_VAR).as_deref(),
                var(CHALLENGER_VAR).as_deref(),
            )?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_checked() {
        assert!(is_identifier("ledger_ab12"));
        assert!(!is_identifier("Ledger"));
        assert!(!is_identifier("a;drop"));
        assert!(!is_identifier("1abc"));
    }

    #[test]
    fn modes_parse_and_recover_needs_its_step() {
        assert_eq!(Mode::parse(None, None).unwrap(), Mode::Stream);
        assert_eq!(
            Mode::parse(Some("batch"), Some("rebuild")).unwrap(),
            Mode::Batch
        );
        assert_eq!(Mode::parse(Some("dry-run"), None).unwrap(), Mode::DryRun);
        assert_eq!(
            Mode::parse(Some("recover"), Some("backfill")).unwrap(),
            Mode::Recover(Recovery::Backfill)
        );
        assert_eq!(
            Mode::parse(Some("recover"), Some("rebuild")).unwrap(),
            Mode::Recover(Recovery::Rebuild)
        );
        assert_eq!(
            Mode::parse(Some("recover"), None).unwrap_err().var,
            "FAULTLINE_RECOVER"
        );
        let e = Mode::parse(Some("recover"), Some("rebiuld")).unwrap_err();
        assert_eq!(e.var, "FAULTLINE_RECOVER");
        assert!(e.problem.contains("`rebiuld`"), "{}", e.problem);
        let e = Mode::parse(Some("Batch"), None).unwrap_err();
        assert_eq!(e.var, "FAULTLINE_MODE");
        assert!(e.problem.contains("recover"), "{}", e.problem);
    }

    #[test]
    fn group_protocols_parse_and_a_bad_one_names_the_variable() {
        assert_eq!(GroupProtocol::parse(None).unwrap(), GroupProtocol::Classic);
        assert_eq!(
            GroupProtocol::parse(Some("consumer")).unwrap(),
            GroupProtocol::Consumer
        );
        let e = GroupProtocol::parse(Some("cooperative")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "FAULTLINE_GROUP_PROTOCOL: `cooperative`; expected classic or consumer"
        );
    }
}
