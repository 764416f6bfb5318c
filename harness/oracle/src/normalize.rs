//! Normalized end states for golden snapshots: sorted, with everything that differs between two
//! correct runs redacted (topic, run and worker ids, pipeline version, batch boundaries) or dropped
//! (timestamps), and everything the workload's seed fixes kept (transaction ids, accounts, amounts,
//! positions). `normalize(&EndState::expected_from(..))` is directly comparable with a real run's.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::state::{EndState, Lineage, OffsetRange};

/// The placeholder for the run's input topic.
const TOPIC: &str = "[topic]";

/// The whole end state, normalized. Lineage positions are kept: with cross-partition duplicates,
/// which copy a row points at can vary between correct runs, so compare those with the oracle, not
/// with a snapshot. The offset log is shown as the stretches it covers per partition (adjacent
/// ranges merged, overlapping ones kept apart), since batch boundaries vary.
pub fn normalize(state: &EndState) -> Value {
    let mut s = state.clone();
    s.sort_rows();
    // Each row: its normalized lineage plus its own fields.
    let row = |l: &Lineage, own: Value| {
        let mut v = lineage(&s.topic, l);
        if let (Value::Object(fields), Value::Object(own)) = (&mut v, own) {
            fields.extend(own);
        }
        v
    };
    let transactions: Vec<Value> = s
        .transactions
        .iter()
        .map(|r| {
            let own = json!({"transaction_id": r.transaction_id, "account_id": r.account_id, "delta_cents": r.delta_cents});
            row(&r.lineage, own)
        })
        .collect();
    let raw_events: Vec<Value> = s
        .raw_events
        .iter()
        .map(|r| row(&r.lineage, json!({"transaction_id": r.transaction_id})))
        .collect();
    let quarantine: Vec<Value> = s
        .quarantine
        .iter()
        .map(|r| row(&r.lineage, json!({"reason": r.reason})))
        .collect();
    json!({
        "topic": TOPIC,
        "transactions": transactions,
        "raw_events": raw_events,
        "account_balances": s.account_balances,
        "quarantine": quarantine,
        "partition_offsets": s.partition_offsets,
        "offset_log": covered(&s.offset_log),
    })
}

/// A compact summary for snapshots: rows per table (offsets covered, for the offset log), the sums
/// of balances and of deltas, quarantine rows by reason, and each partition's stored next offset.
pub fn normalize_summary(state: &EndState) -> Value {
    let mut by_reason: BTreeMap<&str, u64> = BTreeMap::new();
    for row in &state.quarantine {
        *by_reason.entry(row.reason.as_str()).or_insert(0) += 1;
    }
    let offsets_covered: i64 = state
        .offset_log
        .iter()
        .map(|r| (r.to_offset - r.from_offset).max(0))
        .sum();
    json!({
        "rows": {
            "transactions": state.transactions.len(),
            "raw_events": state.raw_events.len(),
            "account_balances": state.account_balances.len(),
            "quarantine": state.quarantine.len(),
            "partition_offsets": state.partition_offsets.len(),
        },
        "offset_log_offsets_covered": offsets_covered,
        "balance_sum_cents": wide(state.account_balances.values().map(|&v| i128::from(v)).sum()),
        "delta_sum_cents": wide(state.transactions.iter().map(|r| i128::from(r.delta_cents)).sum()),
        "quarantine_by_reason": by_reason,
        "next_offsets": state.partition_offsets,
    })
}

/// A sum as a JSON number, or as a string when it does not fit one (only a broken table gets there).
fn wide(n: i128) -> Value {
    i64::try_from(n).map_or_else(|_| json!(n.to_string()), |n| json!(n))
}

/// A row's lineage with the writer redacted (empty values stay empty, so they still show) and the
/// timestamp dropped (whether a table has one is not the data's business).
fn lineage(topic: &str, l: &Lineage) -> Value {
    let redact = |value: &str, placeholder: &str| {
        if value.is_empty() {
            String::new()
        } else {
            placeholder.to_string()
        }
    };
    json!({
        "source_topic": if l.source_topic == topic { TOPIC.to_string() } else { l.source_topic.clone() },
        "source_partition": l.source_partition,
        "source_offset": l.source_offset,
        "run_id": redact(&l.run_id, "[run_id]"),
        "pipeline_version": redact(&l.pipeline_version, "[pipeline_version]"),
        "worker_id": redact(&l.worker_id, "[worker_id]"),
    })
}

/// Per partition, the stretches `[from, to]` the log covers: sorted ranges, a range that starts
/// exactly where the previous one ended merged into it.
fn covered(log: &[OffsetRange]) -> BTreeMap<i32, Vec<[i64; 2]>> {
    let mut out: BTreeMap<i32, Vec<[i64; 2]>> = BTreeMap::new();
    for r in log {
        let stretches = out.entry(r.partition).or_default();
        match stretches.last_mut() {
            Some(last) if last[1] == r.from_offset => last[1] = r.to_offset,
            _ => stretches.push([r.from_offset, r.to_offset]),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use faultline_workload::WorkloadSpec;

    fn seeded() -> EndState {
        let spec = WorkloadSpec {
            seed: 42,
            events: 300,
            accounts: 25,
            partitions: 3,
            duplicate_ratio: 0.1,
            cross_partition_duplicates: true,
            malformed_ratio: 0.1,
            poison_pills: 2,
            oversized: 1,
            ..WorkloadSpec::default()
        };
        let produced = crate::tests::produce(&spec);
        EndState::expected_from(&produced.workload, &produced.placement, "payments-run-1")
    }

    #[test]
    fn expected_end_state_summary_for_seed_42() {
        insta::assert_snapshot!(
            serde_json::to_string_pretty(&normalize_summary(&seeded())).unwrap()
        );
    }

    #[test]
    fn states_differing_only_in_writers_times_topic_and_batches_normalize_equal() {
        let a = seeded();
        let mut b = a.clone();
        b.topic = "payments-run-2".into();
        for row in &mut b.transactions {
            row.lineage.source_topic = b.topic.clone();
            row.lineage.worker_id = "worker-7".into();
            row.lineage.written_at = Some("2026-05-01 10:00:00+00".into());
        }
        for row in &mut b.raw_events {
            row.lineage.source_topic = b.topic.clone();
            row.lineage.run_id = "run-2".into();
        }
        for row in &mut b.quarantine {
            row.lineage.source_topic = b.topic.clone();
            row.lineage.pipeline_version = "0.2.0".into();
        }
        let split: Vec<OffsetRange> = b
            .offset_log
            .iter()
            .flat_map(|r| {
                let mid = (r.from_offset + r.to_offset) / 2;
                [
                    OffsetRange {
                        to_offset: mid,
                        ..r.clone()
                    },
                    OffsetRange {
                        from_offset: mid,
                        ..r.clone()
                    },
                ]
            })
            .collect();
        b.offset_log = split;
        assert!(
            normalize(&a) == normalize(&b),
            "writers, times, topic or batch boundaries leaked into the normal form"
        );
        b.transactions[0].delta_cents += 1;
        assert!(normalize(&a) != normalize(&b), "a changed delta must show");
    }

    fn range(partition: i32, from_offset: i64, to_offset: i64) -> OffsetRange {
        OffsetRange {
            partition,
            from_offset,
            to_offset,
            worker_id: Some("w1".into()),
            run_id: None,
            committed_at: Some("now".into()),
        }
    }

    #[test]
    fn batch_boundaries_vanish_but_overlaps_stay() {
        let log = [
            range(0, 0, 5),
            range(0, 5, 9),
            range(0, 5, 9),
            range(1, 0, 3),
        ];
        assert_eq!(
            covered(&log),
            BTreeMap::from([(0, vec![[0, 9], [5, 9]]), (1, vec![[0, 3]])])
        );
    }

    #[test]
    fn writers_and_times_are_redacted_but_empty_values_show() {
        let l = Lineage {
            source_topic: "t-1".into(),
            source_partition: 2,
            source_offset: 7,
            run_id: "run-abc".into(),
            pipeline_version: String::new(),
            worker_id: "w3".into(),
            written_at: Some("2026-01-01 00:00:00+00".into()),
        };
        let v = lineage("t-1", &l);
        assert_eq!(
            v,
            json!({"source_topic": "[topic]", "source_partition": 2, "source_offset": 7, "run_id": "[run_id]",
                   "pipeline_version": "", "worker_id": "[worker_id]"})
        );
        assert_eq!(lineage("other", &l)["source_topic"], "t-1");
    }
}
