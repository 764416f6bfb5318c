//! `quarantine`: exactly the malformed records, each once, at its source position, with its reason.

use std::collections::BTreeMap;

use faultline_workload::{ReasonCode, Workload};

use super::Sent;
use crate::anomaly::{position_key, Anomaly, AnomalyClass};
use faultline_report::CheckResult;

use crate::report::finding;
use crate::state::{EndState, QuarantineRow};

pub(crate) fn check(w: &Workload, sent: &Sent<'_>, state: &EndState) -> CheckResult<Anomaly> {
    let topic = sent.topic;
    let mut stored: BTreeMap<(&str, i32, i64), Vec<&QuarantineRow>> = BTreeMap::new();
    for row in &state.quarantine {
        let l = &row.lineage;
        stored
            .entry((l.source_topic.as_str(), l.source_partition, l.source_offset))
            .or_default()
            .push(row);
    }
    let mut want: BTreeMap<(i32, i64), ReasonCode> = BTreeMap::new();
    let mut found = Vec::new();
    for (seq, reason) in w.expected_quarantine() {
        match sent.placement.get(&seq) {
            Some(&pos) => {
                want.insert(pos, reason);
            }
            None => found.push(
                Anomaly::new(
                    AnomalyClass::MissingFromQuarantine,
                    format!("record {seq}"),
                    topic,
                )
                .expected(format!("quarantined as {reason}"))
                .actual("record was never acknowledged, so its position is unknown"),
            ),
        }
    }
    for (&pos, reason) in &want {
        let key = position_key(topic, pos.0, pos.1);
        let rows = stored
            .get(&(topic, pos.0, pos.1))
            .map(Vec::as_slice)
            .unwrap_or_default();
        let Some((first, extra)) = rows.split_first() else {
            found.push(
                Anomaly::new(AnomalyClass::MissingFromQuarantine, key, topic)
                    .at(pos)
                    .expected(format!("quarantined as {reason}"))
                    .actual("no row"),
            );
            continue;
        };
        if first.reason != reason.as_str() {
            found.push(
                Anomaly::new(AnomalyClass::WrongReason, &key, topic)
                    .at(pos)
                    .expected(reason.as_str())
                    .actual(&first.reason),
            );
        }
        for row in extra {
            found.push(
                Anomaly::new(AnomalyClass::UnexpectedQuarantine, &key, topic)
                    .at(pos)
                    .expected("1 row")
                    .actual(format!("another row, reason {}", row.reason)),
            );
        }
    }
    for ((row_topic, p, o), rows) in &stored {
        if *row_topic == topic && want.contains_key(&(*p, *o)) {
            continue;
        }
        for row in rows {
            found.push(
                Anomaly::new(
                    AnomalyClass::UnexpectedQuarantine,
                    position_key(row_topic, *p, *o),
                    topic,
                )
                .at((*p, *o))
                .expected("no row")
                .actual(format!(
                    "reason {} for {}",
                    row.reason,
                    sent.describe(row_topic, (*p, *o))
                )),
            );
        }
    }
    let count = |class| found.iter().filter(|a| a.class == class).count();
    let detail = format!(
        "{} rows for {} malformed records: {} missing, {} with a wrong reason, {} unexpected.",
        state.quarantine.len(),
        want.len(),
        count(AnomalyClass::MissingFromQuarantine),
        count(AnomalyClass::WrongReason),
        count(AnomalyClass::UnexpectedQuarantine)
    );
    finding("quarantine", detail, found)
}
