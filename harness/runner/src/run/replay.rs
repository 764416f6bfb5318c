//! The replay check of the reference ledger (its manifest's `expectations = "ledger"`): the
//! pipeline's idempotency, proven by running it over its own input again.

use std::time::Duration;

use faultline_report::{CheckResult, CheckStatus, Row};
use serde_json::{Map, Value};

use super::checks::CheckInput;
use super::workers::{stop_gracefully, WorkerPool, WorkerSpec};
use crate::error::{Result, RunnerError};

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
    spec.extra_env
        .insert("FAULTLINE_MODE".into(), "batch".into());
    spec.extra_env.insert(
        "FAULTLINE_GROUP_ID".into(),
        format!("{}.replay", ci.names.group),
    );
    let mut pool = WorkerPool::new(spec);
    pool.start()?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(180);
    while pool.reap_exits().is_empty() {
        if tokio::time::Instant::now() > deadline {
            stop_gracefully(pool.take_all(), Duration::from_secs(5)).await;
            return Ok(CheckResult::from_rows(
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
    let rows: Vec<Row> = before
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
        CheckResult::from_rows(
            "replay",
            CheckStatus::Pass,
            "reprocessing the whole topic from offset 0 left the normalized end state unchanged"
                .into(),
            rows,
        )
    } else {
        CheckResult::from_rows(
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
