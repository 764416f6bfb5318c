//! `lineage`: every row of a sent transaction points at a record that carries it (the first copy or
//! any re-sent copy), and every row says which run, pipeline version and worker wrote it.
//! Phantom rows are left to `no_phantoms`: no record carries them, by definition.

use super::Sent;
use crate::anomaly::{position_key, positions, Anomaly, AnomalyClass};
use faultline_report::CheckResult;

use crate::report::finding;
use crate::state::{EndState, Lineage};

pub(crate) fn check(sent: &Sent<'_>, state: &EndState) -> CheckResult<Anomaly> {
    let mut found = Vec::new();
    let keyed = state
        .transactions
        .iter()
        .map(|r| ("transactions", &r.transaction_id, &r.lineage))
        .chain(
            state
                .raw_events
                .iter()
                .map(|r| ("raw_events", &r.transaction_id, &r.lineage)),
        );
    for (table, id, lineage) in keyed {
        if !sent.valid.contains_key(id) {
            continue;
        }
        if sent.carried_at(&lineage.source_topic, lineage.position()) != Some(id.as_str()) {
            let copies = sent
                .copies
                .get(id.as_str())
                .map(Vec::as_slice)
                .unwrap_or_default();
            found.push(
                Anomaly::new(AnomalyClass::LineageMismatch, id, sent.topic)
                    .at(lineage.position())
                    .expected(format!("a position that carries it: {}", positions(copies)))
                    .actual(format!(
                        "{table} row from {}",
                        sent.describe(&lineage.source_topic, lineage.position())
                    )),
            );
        }
        found.extend(empty_fields(table, id, lineage, sent.topic));
    }
    for row in &state.quarantine {
        let l = &row.lineage;
        found.extend(empty_fields(
            "quarantine",
            &position_key(&l.source_topic, l.source_partition, l.source_offset),
            l,
            sent.topic,
        ));
    }
    let rows = state.transactions.len() + state.raw_events.len() + state.quarantine.len();
    let detail = format!(
        "{} lineage faults in {rows} transactions, raw_events and quarantine rows.",
        found.len()
    );
    finding("lineage", detail, found)
}

/// One anomaly naming every empty writer column of a row, if any.
fn empty_fields(table: &str, key: &str, l: &Lineage, topic: &str) -> Option<Anomaly> {
    let empty: Vec<&str> = [
        ("run_id", &l.run_id),
        ("pipeline_version", &l.pipeline_version),
        ("worker_id", &l.worker_id),
    ]
    .into_iter()
    .filter(|(_, v)| v.trim().is_empty())
    .map(|(name, _)| name)
    .collect();
    (!empty.is_empty()).then(|| {
        Anomaly::new(AnomalyClass::LineageMismatch, key, topic)
            .at(l.position())
            .expected("run_id, pipeline_version and worker_id filled in")
            .actual(format!("{table} row with empty {}", empty.join(", ")))
    })
}
