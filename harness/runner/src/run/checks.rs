//! Turning what the pipeline left into checks: the oracle's exactly-once checks (with each anomaly
//! attributed to the faults around the time its record was sent), declarative data checks, and the
//! run's own health (faults injected, workers up). The replay check is in `replay`.

use std::collections::BTreeMap;

use faultline_infra::PgConfig;
use faultline_oracle::{Anomaly, DataCheck};
use faultline_report::{CheckResult, CheckStatus, FaultEvent, Row};
use faultline_scenario::Guarantee;
use faultline_workload::Workload;
use serde_json::{Map, Value};

use super::produce::Produced;
use super::stack::Names;
use super::timeline::active_at;
use crate::error::Result;

/// What the checks read.
pub struct CheckInput<'a> {
    pub pg: &'a PgConfig,
    pub names: &'a Names,
    pub workload: &'a Workload,
    pub produced: &'a Produced,
    pub high_watermarks: &'a BTreeMap<i32, i64>,
    pub events: &'a [FaultEvent],
}

/// What the oracle found.
pub struct OracleFindings {
    /// One result per oracle check.
    pub checks: Vec<CheckResult>,
    /// The normalized summary of the end state (missing tables read as empty).
    pub end_state: Value,
    /// When contract tables are missing: which and why (e.g. "tables `transactions`, ... do not
    /// exist in schema `s`: the pipeline wrote nothing ..."). Checks that need the whole end state
    /// (replay, the model comparison) fail with it instead of running.
    pub missing: Option<String>,
}

/// The oracle's checks, one result each; a check reading a table the pipeline never created fails
/// and names it (see `faultline_oracle::check_found`).
pub async fn oracle(ci: &CheckInput<'_>) -> Result<OracleFindings> {
    let client = ci.pg.connect().await?;
    let found = faultline_oracle::read_found(&client, &ci.names.schema, &ci.names.topic).await?;
    let report = faultline_oracle::check_found(
        ci.workload,
        &ci.produced.placement,
        ci.high_watermarks,
        &found,
    );
    let by_position: BTreeMap<(i32, i64), u64> = ci
        .produced
        .placement
        .iter()
        .map(|(seq, pos)| (*pos, *seq))
        .collect();
    let checks = report
        .checks
        .into_iter()
        .map(|c| c.map_rows(|a| anomaly_row(&a, ci, &by_position)))
        .collect();
    Ok(OracleFindings {
        checks,
        end_state: faultline_oracle::normalize_summary(&found.state),
        missing: found.why_missing(&found.missing),
    })
}

/// A check that cannot run because the end state is incomplete: it fails, saying why.
pub fn cannot_run(name: &str, why: &str) -> CheckResult {
    CheckResult::from_rows(
        name,
        CheckStatus::Fail,
        format!("not run: {why}"),
        Vec::new(),
    )
}

/// One anomaly as a report row, with the faults active when its record was sent.
fn anomaly_row(
    a: &Anomaly,
    ci: &CheckInput<'_>,
    by_position: &BTreeMap<(i32, i64), u64>,
) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("class".into(), a.class.as_str().into());
    m.insert("key".into(), a.key.clone().into());
    m.insert("topic".into(), a.topic.clone().into());
    m.insert(
        "partition".into(),
        a.partition.map_or(Value::Null, Value::from),
    );
    m.insert("offset".into(), a.offset.map_or(Value::Null, Value::from));
    m.insert(
        "expected".into(),
        a.expected.clone().map_or(Value::Null, Value::from),
    );
    m.insert(
        "actual".into(),
        a.actual.clone().map_or(Value::Null, Value::from),
    );
    let sent = a
        .partition
        .zip(a.offset)
        .and_then(|pos| by_position.get(&pos))
        .and_then(|seq| ci.produced.sent_at_ms.get(*seq as usize));
    let faults = sent
        .map(|t| active_at(ci.events, *t).join(", "))
        .unwrap_or_default();
    m.insert(
        "sent_at_ms".into(),
        sent.map_or(Value::Null, |t| Value::from(*t)),
    );
    m.insert("fault".into(), faults.into());
    m
}

/// The `dead_letters` check on the dead-letter topic read read_committed, judged by the declared
/// guarantee, and the topic's (total, distinct) dead letters for the run's stats.
pub async fn dead_letters(
    ci: &CheckInput<'_>,
    bootstrap: &str,
    guarantee: Guarantee,
) -> Result<(CheckResult, u64, u64)> {
    let letters: Vec<faultline_oracle::DeadLetter> = super::dead_letters::read(
        bootstrap,
        &ci.names.dlq_topic,
        super::dead_letters::READ_BUDGET,
    )
    .await?
    .iter()
    .map(super::dead_letters::RawLetter::oracle)
    .collect();
    let by_position: BTreeMap<(i32, i64), u64> = ci
        .produced
        .placement
        .iter()
        .map(|(seq, pos)| (*pos, *seq))
        .collect();
    let r = faultline_oracle::check_dead_letters(
        ci.workload,
        &ci.produced.placement,
        &ci.names.topic,
        &letters,
        guarantee,
    );
    let check = r.check.map_rows(|a| anomaly_row(&a, ci, &by_position));
    Ok((check, r.total, r.distinct))
}

/// The scenario's declarative data checks, run as the per-run role that can read only the run's
/// schema (`check_role`).
pub async fn data_checks(ci: &CheckInput<'_>, checks: &[DataCheck]) -> Result<Vec<CheckResult>> {
    super::check_role::run_data_checks(ci.pg, &ci.names.schema, &ci.names.run_id, checks).await
}

/// A warning for each `in_transaction` fault that found no open transaction of its worker and
/// struck anyway: it may not have bitten (a zombie or a crash mid-commit needs the worker inside
/// a transaction). `None` when every such fault found one, or there were none.
pub fn in_transaction_missed(events: &[FaultEvent]) -> Option<CheckResult> {
    let missed: Vec<String> = events
        .iter()
        .filter(|e| e.target.contains(super::faults::NO_TRANSACTION_SEEN))
        .map(|e| {
            let worker = e.target.split(' ').next().unwrap_or(&e.target);
            format!(
                "fault {} ({}, {worker}) found no open transaction of its worker within 10 s and \
                 struck anyway, so it may not have bitten: a zombie or a crash mid-commit needs the \
                 worker inside a transaction (does the pipeline keep the application_name the \
                 harness gives it? see docs/PIPELINE-CONTRACT.md)",
                e.id, e.kind
            )
        })
        .collect();
    (!missed.is_empty()).then(|| {
        CheckResult::from_rows(
            "in_transaction",
            CheckStatus::Warn,
            missed.join("; "),
            Vec::new(),
        )
    })
}

/// Every planned fault was injected (a skipped one means the scenario did not do what it says).
pub fn faults_injected(events: &[FaultEvent]) -> CheckResult {
    let skipped: Vec<Row> = events
        .iter()
        .filter(|e| !e.outcome.was_injected())
        .map(|e| {
            let mut m = Map::new();
            m.insert("fault".into(), e.id.clone().into());
            m.insert("why".into(), e.outcome.to_string().into());
            m
        })
        .collect();
    if skipped.is_empty() {
        CheckResult::from_rows(
            "faults_injected",
            CheckStatus::Pass,
            format!(
                "all {} planned faults were injected and healed",
                events.len()
            ),
            skipped,
        )
    } else {
        // A chaos run whose faults did not happen proves nothing about them: it fails.
        let detail = format!(
            "{} of {} planned faults could not be injected",
            skipped.len(),
            events.len()
        );
        CheckResult::from_rows("faults_injected", CheckStatus::Fail, detail, skipped)
    }
}

/// No worker exited unless the harness stopped it.
pub fn workers_stayed_up(unexpected: &[(String, String)]) -> CheckResult {
    let rows: Vec<Row> = unexpected
        .iter()
        .map(|(id, how)| {
            let mut m = Map::new();
            m.insert("worker".into(), id.clone().into());
            m.insert("exit".into(), how.clone().into());
            m
        })
        .collect();
    if rows.is_empty() {
        CheckResult::from_rows(
            "workers_stayed_up",
            CheckStatus::Pass,
            "no worker exited on its own".into(),
            rows,
        )
    } else {
        let detail = format!(
            "{} worker(s) exited on their own (see failing rows for their last log lines)",
            rows.len()
        );
        CheckResult::from_rows("workers_stayed_up", CheckStatus::Fail, detail, rows)
    }
}

#[cfg(test)]
mod tests {
    use faultline_report::{CheckStatus, FaultEvent, FaultOutcome};

    fn event(id: &str, outcome: FaultOutcome) -> FaultEvent {
        FaultEvent {
            id: id.into(),
            kind: "kill_worker".into(),
            target: "-".into(),
            start_ms: 1500,
            end_ms: None,
            outcome,
            time_to_recover: None,
        }
    }

    #[test]
    fn a_planned_fault_that_did_not_happen_fails_the_run() {
        let injected = event(
            "kill_worker#1",
            FaultOutcome::Injected {
                detail: "SIGKILL".into(),
            },
        );
        let skipped = event(
            "kill_worker#2",
            FaultOutcome::Skipped {
                reason: "no worker w9".into(),
            },
        );
        assert_eq!(
            super::faults_injected(std::slice::from_ref(&injected)).status,
            CheckStatus::Pass
        );
        let c = super::faults_injected(&[injected, skipped]);
        assert_eq!(c.status, CheckStatus::Fail);
        assert_eq!(c.detail, "1 of 2 planned faults could not be injected");
        assert_eq!(c.failing_rows.len(), 1);
        assert_eq!(c.failing_rows[0]["fault"], "kill_worker#2");
    }

    #[test]
    fn an_in_transaction_fault_that_found_no_transaction_warns() {
        let injected = FaultOutcome::Injected {
            detail: "SIGKILL inside a Postgres transaction".into(),
        };
        let mut struck = event("kill_worker#1", injected.clone());
        struck.target = "worker:w1 (in a transaction, 40 ms after the trigger; backend 7, after \
                         `INSERT`)"
            .into();
        assert_eq!(
            super::in_transaction_missed(std::slice::from_ref(&struck)),
            None
        );
        let mut missed = event("pause_worker#2", injected);
        missed.kind = "pause_worker".into();
        missed.target = format!(
            "worker:w2 ({}: does the pipeline keep application_name?)",
            crate::run::faults::NO_TRANSACTION_SEEN
        );
        let c = super::in_transaction_missed(&[struck, missed]).expect("a warning");
        assert_eq!(c.name, "in_transaction");
        assert_eq!(c.status, CheckStatus::Warn);
        assert!(
            c.detail.starts_with(
                "fault pause_worker#2 (pause_worker, worker:w2) found no open transaction of its \
                 worker within 10 s and struck anyway, so it may not have bitten"
            ),
            "{}",
            c.detail
        );
    }
}
