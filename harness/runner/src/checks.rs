//! Turning what the pipeline left into checks: the oracle's exactly-once checks (with each anomaly
//! attributed to the faults around the time its record was sent), declarative data checks, the
//! replay check, and the run's own health (faults injected, workers up).

use std::collections::BTreeMap;
use std::time::Duration;

use faultline_infra::PgConfig;
use faultline_oracle::{Anomaly, DataCheck};
use faultline_report::{CheckResult, CheckStatus, FaultEvent};
use faultline_workload::Workload;
use serde_json::{Map, Value};

use crate::error::{Result, RunnerError};
use crate::produce::Produced;
use crate::setup::Names;
use crate::timeline::active_at;
use crate::workers::{stop_gracefully, WorkerPool, WorkerSpec};

/// Rows kept per failed check in reports (the total is reported too).
pub const MAX_ROWS: usize = 50;

/// What the checks read.
pub struct CheckInput<'a> {
    pub pg: &'a PgConfig,
    pub names: &'a Names,
    pub workload: &'a Workload,
    pub produced: &'a Produced,
    pub high_watermarks: &'a BTreeMap<i32, i64>,
    pub events: &'a [FaultEvent],
}

fn result(
    name: &str,
    status: CheckStatus,
    detail: String,
    rows: Vec<Map<String, Value>>,
) -> CheckResult {
    let failing_total = rows.len() as u64;
    CheckResult {
        name: name.into(),
        status,
        detail,
        failing_rows: rows.into_iter().take(MAX_ROWS).collect(),
        failing_total,
    }
}

/// The oracle's checks, one result each, and the normalized summary of the end state.
pub async fn oracle(ci: &CheckInput<'_>) -> Result<(Vec<CheckResult>, Value)> {
    let client = ci.pg.connect().await?;
    let state =
        faultline_oracle::read_end_state(&client, &ci.names.schema, &ci.names.topic).await?;
    let report = faultline_oracle::check(
        ci.workload,
        &ci.produced.placement,
        ci.high_watermarks,
        &state,
    );
    let by_position: BTreeMap<(i32, i64), u64> = ci
        .produced
        .placement
        .iter()
        .map(|(seq, pos)| (*pos, *seq))
        .collect();
    let checks = report
        .checks
        .iter()
        .map(|c| {
            let rows: Vec<Map<String, Value>> = c
                .anomalies
                .iter()
                .map(|a| anomaly_row(a, ci, &by_position))
                .collect();
            let mut r = result(
                &c.name,
                if c.passed {
                    CheckStatus::Pass
                } else {
                    CheckStatus::Fail
                },
                c.detail.clone(),
                rows,
            );
            r.failing_total = c.anomalies.len() as u64;
            r
        })
        .collect();
    Ok((checks, faultline_oracle::normalize_summary(&state)))
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

/// The scenario's declarative data checks.
pub async fn data_checks(ci: &CheckInput<'_>, checks: &[DataCheck]) -> Result<Vec<CheckResult>> {
    if checks.is_empty() {
        return Ok(Vec::new());
    }
    let client = ci.pg.connect().await?;
    let mut out = Vec::new();
    for c in checks {
        let r = faultline_oracle::run_data_check(&client, &ci.names.schema, c).await?;
        let status = match (r.passed, c.severity) {
            (true, _) => CheckStatus::Pass,
            (false, faultline_oracle::Severity::Warn) => CheckStatus::Warn,
            (false, faultline_oracle::Severity::Error) => CheckStatus::Fail,
        };
        let mut res = result(&c.name, status, r.detail.clone(), r.failing_rows.clone());
        res.failing_total = r.total_failing;
        out.push(res);
    }
    Ok(out)
}

/// Every planned fault was injected (a skipped one means the scenario did not do what it says).
pub fn faults_injected(events: &[FaultEvent]) -> CheckResult {
    let skipped: Vec<Map<String, Value>> = events
        .iter()
        .filter(|e| e.detail.starts_with("skipped"))
        .map(|e| {
            let mut m = Map::new();
            m.insert("fault".into(), e.id.clone().into());
            m.insert("why".into(), e.detail.clone().into());
            m
        })
        .collect();
    if skipped.is_empty() {
        result(
            "faults_injected",
            CheckStatus::Pass,
            format!(
                "all {} planned faults were injected and healed",
                events.len()
            ),
            skipped,
        )
    } else {
        let detail = format!(
            "{} of {} planned faults could not be injected",
            skipped.len(),
            events.len()
        );
        result("faults_injected", CheckStatus::Warn, detail, skipped)
    }
}

/// No worker exited unless the harness stopped it.
pub fn workers_stayed_up(unexpected: &[(String, String)]) -> CheckResult {
    let rows: Vec<Map<String, Value>> = unexpected
        .iter()
        .map(|(id, how)| {
            let mut m = Map::new();
            m.insert("worker".into(), id.clone().into());
            m.insert("exit".into(), how.clone().into());
            m
        })
        .collect();
    if rows.is_empty() {
        result(
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
        result("workers_stayed_up", CheckStatus::Fail, detail, rows)
    }
}

/// Idempotency: reset the stored offsets to 0, reprocess the whole topic with a fresh worker in
/// batch mode, and require the same normalized end state (offset bookkeeping aside).
pub async fn replay(ci: &CheckInput<'_>, spec: &WorkerSpec) -> Result<CheckResult> {
    let client = ci.pg.connect().await?;
    let (schema, topic) = (&ci.names.schema, &ci.names.topic);
    let before = comparable(&faultline_oracle::read_end_state(&client, schema, topic).await?);
    client
        .execute(
            &format!("UPDATE {schema}.partition_offsets SET next_offset = 0 WHERE topic = $1"),
            &[topic],
        )
        .await?;
    let mut spec = spec.clone();
    spec.env.insert("FAULTLINE_MODE".into(), "batch".into());
    spec.env.insert(
        "FAULTLINE_GROUP_ID".into(),
        format!("{}.replay", ci.names.group),
    );
    let mut pool = WorkerPool::new(spec);
    pool.start()?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(180);
    while pool.reap_exits().is_empty() {
        if tokio::time::Instant::now() > deadline {
            stop_gracefully(pool.take_all(), Duration::from_secs(5)).await;
            return Ok(result(
                "replay",
                CheckStatus::Fail,
                "the replay worker did not finish within 180 s".into(),
                Vec::new(),
            ));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let exit = pool
        .unexpected_exits
        .first()
        .map(|(_, how)| how.clone())
        .unwrap_or_default();
    if !exit.starts_with("exit status: 0") {
        return Err(RunnerError::Pipeline {
            message: format!("the replay worker (batch mode) failed: {exit}"),
            log_tail: String::new(),
        });
    }
    let after = comparable(&faultline_oracle::read_end_state(&client, schema, topic).await?);
    let rows: Vec<Map<String, Value>> = before
        .iter()
        .filter(|(k, v)| after.get(*k) != Some(v))
        .map(|(k, v)| {
            let mut m = Map::new();
            m.insert("table".into(), k.clone().into());
            m.insert("before".into(), summary(v).into());
            m.insert(
                "after".into(),
                after.get(k).map(summary).unwrap_or_default().into(),
            );
            m
        })
        .collect();
    Ok(if rows.is_empty() {
        result(
            "replay",
            CheckStatus::Pass,
            "reprocessing the whole topic from offset 0 left the normalized end state unchanged"
                .into(),
            rows,
        )
    } else {
        result(
            "replay",
            CheckStatus::Fail,
            format!("reprocessing from offset 0 changed {} table(s)", rows.len()),
            rows,
        )
    })
}

/// The normalized end state by table, without the offset bookkeeping a replay legitimately adds to.
fn comparable(state: &faultline_oracle::EndState) -> Map<String, Value> {
    let mut v = match faultline_oracle::normalize(state) {
        Value::Object(m) => m,
        other => Map::from_iter([("state".to_string(), other)]),
    };
    v.retain(|k, _| !k.contains("offset"));
    v
}

fn summary(v: &Value) -> String {
    match v {
        Value::Array(a) => format!("{} rows", a.len()),
        Value::Object(o) => format!("{} entries", o.len()),
        other => other.to_string(),
    }
}
