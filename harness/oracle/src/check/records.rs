//! Rows keyed by transaction id: each valid transaction exactly once in `transactions` and in
//! `raw_events`, nothing else, and with the values that were sent.

use std::collections::BTreeMap;

use super::{rows, Sent};
use crate::anomaly::{positions, Anomaly, AnomalyClass};
use faultline_report::CheckResult;

use crate::report::finding;
use crate::state::{EndState, Lineage};

/// A table's rows grouped by transaction id, each with its lineage.
pub(crate) type ById<'a> = BTreeMap<&'a str, Vec<&'a Lineage>>;

/// Groups rows by transaction id.
pub(crate) fn group<'a>(rows: impl Iterator<Item = (&'a str, &'a Lineage)>) -> ById<'a> {
    let mut by_id: ById<'a> = BTreeMap::new();
    for (id, lineage) in rows {
        by_id.entry(id).or_default().push(lineage);
    }
    by_id
}

/// `no_loss`: every valid transaction has a `transactions` row.
pub(crate) fn no_loss(sent: &Sent<'_>, by_id: &ById<'_>) -> CheckResult<Anomaly> {
    let found = lost(sent, by_id);
    let detail = format!(
        "{} of {} sent transactions missing from transactions.",
        found.len(),
        sent.valid.len()
    );
    finding("no_loss", detail, found)
}

/// `no_duplicates`: no valid transaction has more than one `transactions` row.
pub(crate) fn no_duplicates(sent: &Sent<'_>, by_id: &ById<'_>) -> CheckResult<Anomaly> {
    let found = duplicated(sent, by_id);
    let detail = format!(
        "{} of {} sent transactions stored more than once.",
        found.len(),
        sent.valid.len()
    );
    finding("no_duplicates", detail, found)
}

/// `no_phantoms`: every `transactions` row is a transaction that was sent as a valid event.
pub(crate) fn no_phantoms(sent: &Sent<'_>, by_id: &ById<'_>) -> CheckResult<Anomaly> {
    let found = phantoms(sent, by_id);
    let detail = format!(
        "{} stored transaction ids of {} were never sent as valid events.",
        found.len(),
        by_id.len()
    );
    finding("no_phantoms", detail, found)
}

/// `raw_events`: the immutable raw table holds each valid transaction exactly once, and nothing else.
pub(crate) fn raw_events(sent: &Sent<'_>, state: &EndState) -> CheckResult<Anomaly> {
    let by_id = group(
        state
            .raw_events
            .iter()
            .map(|r| (r.transaction_id.as_str(), &r.lineage)),
    );
    let (lost, dup, phantom) = (
        lost(sent, &by_id),
        duplicated(sent, &by_id),
        phantoms(sent, &by_id),
    );
    let detail = format!(
        "{} raw rows for {} sent transactions: {} lost, {} duplicated, {} phantom.",
        state.raw_events.len(),
        sent.valid.len(),
        lost.len(),
        dup.len(),
        phantom.len()
    );
    finding("raw_events", detail, [lost, dup, phantom].concat())
}

/// `values`: each stored row of a sent transaction has the account and delta that were sent.
pub(crate) fn values(sent: &Sent<'_>, state: &EndState) -> CheckResult<Anomaly> {
    let mut found = Vec::new();
    let mut compared = 0usize;
    for row in &state.transactions {
        let Some(want) = sent.valid.get(&row.transaction_id) else {
            continue;
        };
        compared += 1;
        if row.account_id != want.account_id || row.delta_cents != want.delta_cents {
            found.push(
                Anomaly::new(AnomalyClass::WrongValue, &row.transaction_id, sent.topic)
                    .at(row.lineage.position())
                    .expected(format!(
                        "account {}, delta {}",
                        want.account_id, want.delta_cents
                    ))
                    .actual(format!(
                        "account {}, delta {}",
                        row.account_id, row.delta_cents
                    )),
            );
        }
    }
    let detail = format!(
        "{} of {compared} rows of sent transactions differ from the sent account or delta.",
        found.len()
    );
    finding("values", detail, found)
}

/// Sent transactions with no row; placed at their first copy, with every copy's position.
fn lost(sent: &Sent<'_>, by_id: &ById<'_>) -> Vec<Anomaly> {
    let mut found = Vec::new();
    for (id, event) in &sent.valid {
        if by_id.contains_key(id.as_str()) {
            continue;
        }
        let copies = sent
            .copies
            .get(id.as_str())
            .map(Vec::as_slice)
            .unwrap_or_default();
        let mut anomaly = Anomaly::new(AnomalyClass::Lost, id, sent.topic).actual("no row");
        anomaly = match sent.placement.get(&event.seq) {
            Some(&first) => anomaly
                .at(first)
                .expected(format!("1 row; sent at {}", positions(copies))),
            None => anomaly.expected(format!(
                "1 row; record {} was never acknowledged",
                event.seq
            )),
        };
        found.push(anomaly);
    }
    found
}

/// Sent transactions with several rows; placed at the first row, with every row's position.
fn duplicated(sent: &Sent<'_>, by_id: &ById<'_>) -> Vec<Anomaly> {
    by_id
        .iter()
        .filter(|(id, lineages)| lineages.len() > 1 && sent.valid.contains_key(**id))
        .map(|(id, lineages)| {
            let landed: Vec<(i32, i64)> = lineages.iter().map(|l| l.position()).collect();
            Anomaly::new(AnomalyClass::Duplicated, *id, sent.topic)
                .at(landed[0])
                .expected("1 row")
                .actual(format!(
                    "{} from {}",
                    rows(landed.len()),
                    positions(&landed)
                ))
        })
        .collect()
}

/// Stored ids that were never sent as valid events; placed where their first row says it came from.
fn phantoms(sent: &Sent<'_>, by_id: &ById<'_>) -> Vec<Anomaly> {
    by_id
        .iter()
        .filter(|(id, _)| !sent.valid.contains_key(**id))
        .map(|(id, lineages)| {
            let first = lineages[0];
            Anomaly::new(AnomalyClass::Phantom, *id, sent.topic)
                .at(first.position())
                .expected("no row: never sent as a valid event")
                .actual(format!(
                    "{}, the first from {}",
                    rows(lineages.len()),
                    sent.describe(&first.source_topic, first.position())
                ))
        })
        .collect()
}
