//! The `dead_letters` check as `[expect.dead_letter]` declares it: the refused records are read from
//! the pipeline's own table (or the run's dead-letter topic, by the headers it names), and every
//! record the pipeline must refuse (a malformed record the harness made, or one of the user's own
//! records that is not JSON or that `[expect] valid` rejects) is there exactly once, with the reason
//! mapped for its kind; no other record is.

use std::collections::BTreeMap;

use faultline_expect::{
    check_dead_letters, AnomalyClass, DeadLetterSpec, DeadLetterTarget, ExpectSpec, Expr, Letter,
    Refusal, Sent,
};
use faultline_manifest::Guarantee;
use faultline_report::{CheckResult, CheckStatus, FaultEvent};
use faultline_workload::{Expectation, ReasonCode, Workload};
use serde_json::{Map, Value};

use super::produce::Produced;
use crate::error::{Result, RunnerError};
use crate::pipeline::setup::pg_message;

/// What the pipeline must do with each record the run placed, by position.
pub fn refusals(spec: &ExpectSpec, workload: &Workload, produced: &Produced) -> Result<Vec<Sent>> {
    let valid = spec
        .valid
        .as_deref()
        .map(Expr::parse)
        .transpose()
        .map_err(|e| RunnerError::Usage(format!("[expect] valid: {e}")))?;
    // The ledger's generated events carry its contract, size limit included; an oversized copy of
    // the user's own record is still that record.
    let ledger_contract = workload
        .records
        .iter()
        .any(|r| matches!(r.expect, Expectation::Valid { .. }));
    let mut sent = Vec::with_capacity(workload.records.len());
    for r in &workload.records {
        let Some(&position) = produced.placement.get(&r.seq) else {
            continue;
        };
        let refusal = match &r.expect {
            // A padded copy of a record is still that record: the size limit is the ledger
            // contract's, not every pipeline's.
            Expectation::Malformed {
                reason: ReasonCode::Oversized,
            } if !ledger_contract => Refusal::Unjudged,
            Expectation::Malformed { reason } => Refusal::Required {
                kind: Some(reason.as_str().to_string()),
            },
            Expectation::Valid { .. } | Expectation::Duplicate { .. } => Refusal::Forbidden,
            Expectation::Recorded { .. } | Expectation::RecordedDuplicate { .. } => {
                match serde_json::from_slice::<Value>(&r.value) {
                    Err(_) => Refusal::Required { kind: None },
                    Ok(v) if valid.as_ref().is_some_and(|e| !e.matches(&v)) => {
                        Refusal::Required { kind: None }
                    }
                    Ok(_) => Refusal::Forbidden,
                }
            }
        };
        sent.push(Sent { position, refusal });
    }
    Ok(sent)
}

/// The dead letters in the declared table of `schema`: one per row. A missing table is read as
/// empty; a missing column stops the run naming it.
pub async fn read_table(
    client: &tokio_postgres::Client,
    schema: &str,
    table: &str,
    spec: &DeadLetterSpec,
    manifest: &std::path::Path,
) -> Result<Vec<Letter>> {
    let present: Vec<String> = client
        .query(
            "SELECT column_name::text FROM information_schema.columns \
             WHERE table_schema = $1 AND table_name = $2",
            &[&schema, &table],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    if present.is_empty() {
        return Ok(Vec::new());
    }
    let wanted = [
        Some(&spec.partition),
        Some(&spec.offset),
        spec.reason.as_ref(),
    ];
    let unknown: Vec<&String> = wanted
        .into_iter()
        .flatten()
        .filter(|c| !present.contains(c))
        .collect();
    if !unknown.is_empty() {
        return Err(RunnerError::Usage(format!(
            "manifest {}: [expect.dead_letter] names column(s) {} that table {schema}.{table} does \
             not have (it has {}); fix its partition, offset or reason",
            manifest.display(),
            unknown
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", "),
            present.join(", ")
        )));
    }
    let sql = format!("SELECT row_to_json(t)::text FROM {schema}.{table} t");
    let rows = client.query(&sql, &[]).await.map_err(|e| {
        RunnerError::Usage(format!(
            "reading dead-letter table {schema}.{table}: {}",
            pg_message(&e)
        ))
    })?;
    let mut letters = Vec::with_capacity(rows.len());
    for (i, r) in rows.iter().enumerate() {
        let text: String = r.get(0);
        let row: Map<String, Value> = serde_json::from_str(&text).map_err(|e| {
            RunnerError::Usage(format!(
                "{schema}.{table}: row_to_json gave {text:.200}: {e}"
            ))
        })?;
        let cell = |name: &str| row.get(name).map(cell_text);
        letters.push(letter(
            format!("row {}", i + 1),
            cell(&spec.partition),
            cell(&spec.offset),
            spec.reason.as_deref().and_then(cell),
        ));
    }
    Ok(letters)
}

/// The dead letters of the run's dead-letter topic, by the headers the spec names.
pub fn from_topic(
    letters: &[super::dead_letters::RawLetter],
    spec: &DeadLetterSpec,
) -> Vec<Letter> {
    letters
        .iter()
        .map(|l| {
            letter(
                format!("p{}@{}", l.at.0, l.at.1),
                l.header(&spec.partition).map(str::to_string),
                l.header(&spec.offset).map(str::to_string),
                spec.reason
                    .as_deref()
                    .and_then(|h| l.header(h))
                    .map(str::to_string),
            )
        })
        .collect()
}

fn cell_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn letter(
    at: String,
    partition: Option<String>,
    offset: Option<String>,
    reason: Option<String>,
) -> Letter {
    let source = match (
        partition.and_then(|p| p.trim().parse::<i32>().ok()),
        offset.and_then(|o| o.trim().parse::<i64>().ok()),
    ) {
        (Some(p), Some(o)) => Some((p, o)),
        _ => None,
    };
    Letter { at, source, reason }
}

/// The check's result: one row per anomaly with the faults active when its record was sent.
pub fn check(
    spec: &DeadLetterSpec,
    sent: &[Sent],
    letters: &[Letter],
    guarantee: Guarantee,
    produced: &Produced,
    events: &[FaultEvent],
) -> CheckResult {
    // Copies are judged as the built-in dead-letter check judges them: by the guarantee.
    let anomalies = check_dead_letters(spec, sent, letters, !guarantee.forbids_duplicates());
    let sent_at: BTreeMap<(i32, i64), u64> = produced
        .placement
        .iter()
        .filter_map(|(seq, pos)| Some((*pos, *produced.sent_at_ms.get(*seq as usize)?)))
        .collect();
    let rows = super::expectations::anomaly_rows(&anomalies, &sent_at, events);
    let required = sent
        .iter()
        .filter(|s| matches!(s.refusal, Refusal::Required { .. }))
        .count();
    let target = match spec.target() {
        Ok(DeadLetterTarget::Table(t)) => format!("table {t}"),
        Ok(DeadLetterTarget::Topic(_)) => "the dead-letter topic".into(),
        Err(_) => "the dead letters".into(),
    };
    let (status, detail) = if rows.is_empty() {
        (
            CheckStatus::Pass,
            format!(
                "{target} holds each of the {required} records the pipeline must refuse once{}, \
                 and no other ({} dead letters)",
                if spec.reasons.is_empty() {
                    ""
                } else {
                    ", with the mapped reason"
                },
                letters.len()
            ),
        )
    } else {
        let mut by_class: BTreeMap<AnomalyClass, usize> = BTreeMap::new();
        for a in &anomalies {
            *by_class.entry(a.class).or_default() += 1;
        }
        let counts: Vec<String> = by_class.iter().map(|(c, n)| format!("{n} {c}")).collect();
        (
            CheckStatus::Fail,
            format!(
                "{target} differs from what [expect.dead_letter] declares: {} (of {required} \
                 records to refuse, {} dead letters)",
                counts.join(", "),
                letters.len()
            ),
        )
    };
    CheckResult::from_rows("dead_letters", status, detail, rows)
}
