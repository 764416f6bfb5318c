//! The checks on a small hand-written workload, asserting the exact words and positions reported.

use std::collections::BTreeMap;

use faultline_report::CheckStatus;
use faultline_workload::{Expectation, ReasonCode, Workload, WorkloadRecord};

use crate::anomaly::{Anomaly, AnomalyClass};
use crate::check::check;
use crate::report::OracleReport;
use crate::state::{EndState, OffsetRange, Placement};

const TOPIC: &str = "payments";

fn record(seq: u64, expect: Expectation) -> WorkloadRecord {
    WorkloadRecord {
        seq,
        key: Some(b"k".to_vec()),
        value: format!("record {seq}").into_bytes(),
        partition: None,
        headers: Vec::new(),
        expect,
    }
}

fn valid(seq: u64, id: &str, account: &str, delta: i64) -> WorkloadRecord {
    record(
        seq,
        Expectation::Valid {
            transaction_id: id.into(),
            account_id: account.into(),
            delta_cents: delta,
        },
    )
}

/// t1 (+500, acct-a) at 0@0 and again at 1@1; t2 (-200, acct-b) at 1@0; a negative amount at
/// 0@1; t3 (+100, acct-a) at 0@2.
fn fixture() -> (Workload, Placement, BTreeMap<i32, i64>) {
    let w = Workload {
        records: vec![
            valid(0, "t1", "acct-a", 500),
            valid(1, "t2", "acct-b", -200),
            record(
                2,
                Expectation::Duplicate {
                    of_seq: 0,
                    transaction_id: "t1".into(),
                },
            ),
            record(
                3,
                Expectation::Malformed {
                    reason: ReasonCode::NegativeAmount,
                },
            ),
            valid(4, "t3", "acct-a", 100),
        ],
    };
    let placement = Placement::from([
        (0, (0, 0)),
        (1, (1, 0)),
        (2, (1, 1)),
        (3, (0, 1)),
        (4, (0, 2)),
    ]);
    (w, placement, BTreeMap::from([(0, 3), (1, 2)]))
}

/// Runs the oracle on the fixture's correct state after `damage`.
fn run(damage: impl FnOnce(&mut EndState)) -> OracleReport {
    let (w, placement, hw) = fixture();
    let mut state = EndState::expected_from(&w, &placement, TOPIC);
    damage(&mut state);
    check(&w, &placement, &hw, &state)
}

fn only_anomaly(report: &OracleReport) -> Anomaly {
    let all = report.anomalies();
    assert_eq!(all.len(), 1, "{all:#?}");
    all[0].clone()
}

fn texts(a: &Anomaly) -> (Option<i32>, Option<i64>, &str, &str) {
    (
        a.partition,
        a.offset,
        a.expected.as_deref().unwrap_or(""),
        a.actual.as_deref().unwrap_or(""),
    )
}

#[test]
fn a_correct_state_passes_with_counts_in_each_detail() {
    let report = run(|_| {});
    assert!(report.passed(), "{:#?}", report.anomalies());
    assert_eq!(
        report.check("no_loss").unwrap().detail,
        "0 of 3 sent transactions missing from transactions."
    );
    assert_eq!(
        report.check("quarantine").unwrap().detail,
        "1 rows for 1 malformed records: 0 missing, 0 with a wrong reason, 0 unexpected."
    );
}

#[test]
fn a_lost_transaction_is_placed_at_its_first_copy_and_lists_every_copy() {
    let report = run(|s| s.transactions.retain(|r| r.transaction_id != "t1"));
    let a = only_anomaly(&report);
    assert_eq!((a.class, a.key.as_str()), (AnomalyClass::Lost, "t1"));
    assert_eq!(
        texts(&a),
        (Some(0), Some(0), "1 row; sent at 0@0, 1@1", "no row")
    );
    assert_eq!(report.check("no_loss").unwrap().status, CheckStatus::Fail);
}

#[test]
fn a_duplicate_lists_where_its_copies_landed_and_either_copy_is_valid_lineage() {
    let report = run(|s| {
        let mut copy = s.transactions[0].clone();
        copy.lineage.source_partition = 1;
        copy.lineage.source_offset = 1;
        s.transactions.push(copy);
    });
    let a = only_anomaly(&report);
    assert_eq!((a.class, a.key.as_str()), (AnomalyClass::Duplicated, "t1"));
    assert_eq!(texts(&a).3, "2 rows from 0@0, 1@1");
}

#[test]
fn a_phantom_says_what_its_claimed_source_really_holds() {
    let report = run(|s| {
        let mut row = s.transactions[0].clone();
        row.transaction_id = "t9".into();
        row.lineage.source_offset = 1;
        s.transactions.push(row);
    });
    let a = only_anomaly(&report);
    assert_eq!((a.class, a.key.as_str()), (AnomalyClass::Phantom, "t9"));
    assert_eq!(
        texts(&a).3,
        "1 row, the first from 0@1, which holds a malformed record (negative_amount)"
    );
}

#[test]
fn lineage_pointing_at_another_transaction_is_a_mismatch() {
    let report = run(|s| s.transactions[0].lineage.source_offset = 2);
    let a = only_anomaly(&report);
    assert_eq!(
        (a.class, a.key.as_str()),
        (AnomalyClass::LineageMismatch, "t1")
    );
    assert_eq!(
        texts(&a),
        (
            Some(0),
            Some(2),
            "a position that carries it: 0@0, 1@1",
            "transactions row from 0@2, which carries t3"
        )
    );
}

#[test]
fn wrong_balances_show_expected_actual_and_difference() {
    let report = run(|s| {
        s.account_balances.insert("acct-a".into(), 700);
        s.account_balances.insert("acct-c".into(), 0);
    });
    let wrong = &report.check("balances").unwrap().failing_rows;
    assert_eq!(wrong.len(), 2);
    assert_eq!(
        (
            wrong[0].key.as_str(),
            texts(&wrong[0]).2,
            texts(&wrong[0]).3
        ),
        ("acct-a", "600", "700 (difference +100)")
    );
    assert_eq!(
        (
            wrong[1].key.as_str(),
            texts(&wrong[1]).2,
            texts(&wrong[1]).3
        ),
        ("acct-c", "no row", "0 (difference +0)")
    );
}

#[test]
fn a_wrong_reason_names_both_reasons_at_the_source_position() {
    let report = run(|s| s.quarantine[0].reason = "invalid_json".into());
    let a = only_anomaly(&report);
    assert_eq!(
        (a.class, a.key.as_str()),
        (AnomalyClass::WrongReason, "payments-0@1")
    );
    assert_eq!(
        texts(&a),
        (Some(0), Some(1), "negative_amount", "invalid_json")
    );
}

#[test]
fn a_quarantine_row_from_another_topic_is_unexpected_and_the_real_one_missing() {
    let report = run(|s| s.quarantine[0].lineage.source_topic = "other".into());
    let found: Vec<(AnomalyClass, &str)> = report
        .anomalies()
        .iter()
        .map(|a| (a.class, a.key.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            (AnomalyClass::MissingFromQuarantine, "payments-0@1"),
            (AnomalyClass::UnexpectedQuarantine, "other-0@1")
        ]
    );
}

#[test]
fn offset_log_gaps_overlaps_and_ranges_past_the_end_are_told_apart() {
    let range = |from_offset, to_offset| OffsetRange {
        partition: 0,
        from_offset,
        to_offset,
        worker_id: None,
        run_id: None,
        committed_at: None,
    };
    let report = run(|s| {
        s.offset_log.retain(|r| r.partition != 0);
        s.offset_log.extend([
            range(0, 1),
            range(0, 2),
            range(3, 5),
            range(4, 4),
            range(2, 1),
        ]);
        s.partition_offsets.insert(0, 2);
    });
    let found: Vec<(AnomalyClass, Option<i64>, &str)> = report
        .anomalies()
        .iter()
        .map(|a| (a.class, a.offset, a.actual.as_deref().unwrap()))
        .collect();
    assert_eq!(
        found,
        [
            (AnomalyClass::OffsetGap, Some(2), "2..3 covered by no range"),
            (AnomalyClass::OffsetOverlap, Some(0), "0..1 covered 2 times"),
            (
                AnomalyClass::OffsetOverlap,
                Some(2),
                "range 2..1 runs backwards"
            ),
            (
                AnomalyClass::OffsetOverlap,
                Some(3),
                "3..5 covered, outside 0..3"
            ),
            (AnomalyClass::OffsetNotCommitted, Some(2), "next offset 2"),
        ]
    );
    assert!(report
        .anomalies()
        .iter()
        .all(|a| a.key == "payments-0" && a.partition == Some(0)));
}

#[test]
fn empty_writer_columns_are_lineage_faults_on_every_table() {
    let report = run(|s| {
        s.raw_events[0].lineage.run_id.clear();
        s.quarantine[0].lineage.pipeline_version = " ".into();
    });
    let found: Vec<(&str, &str)> = report
        .anomalies()
        .iter()
        .map(|a| (a.key.as_str(), a.actual.as_deref().unwrap()))
        .collect();
    assert_eq!(
        found,
        [
            ("payments-0@1", "quarantine row with empty pipeline_version"),
            ("t1", "raw_events row with empty run_id")
        ]
    );
}

#[test]
fn unplaced_records_are_still_expected() {
    let (w, mut placement, hw) = fixture();
    let state = EndState::expected_from(&w, &placement, TOPIC);
    placement.remove(&4);
    placement.remove(&3);
    let report = check(&w, &placement, &hw, &state);
    assert!(!report.passed());
    let missing = &report.check("quarantine").unwrap().failing_rows;
    assert!(
        missing
            .iter()
            .any(|a| a.key == "record 3" && a.class == AnomalyClass::MissingFromQuarantine),
        "{missing:#?}"
    );
}

#[test]
fn anomaly_display_reads_as_one_line() {
    let report = run(|s| s.transactions.retain(|r| r.transaction_id != "t2"));
    assert_eq!(
        only_anomaly(&report).to_string(),
        "lost t2 at 1@0: expected 1 row; sent at 1@0, got no row"
    );
}

#[test]
fn checks_reading_a_missing_table_fail_and_name_it() {
    let (w, placement, hw) = fixture();
    let nothing = crate::Found {
        state: EndState {
            topic: TOPIC.into(),
            ..EndState::default()
        },
        schema: "run_1".into(),
        missing: crate::CONTRACT_TABLES.to_vec(),
    };
    let report = crate::check_found(&w, &placement, &hw, &nothing);
    let names: Vec<&str> = report.checks.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, crate::CHECK_NAMES);
    for c in &report.checks {
        assert_eq!(c.status, CheckStatus::Fail, "{}: {}", c.name, c.detail);
        assert!(
            c.detail.contains("the pipeline wrote nothing"),
            "{}",
            c.detail
        );
    }
    // An empty table that does exist would pass `no_duplicates`; a missing one fails it by name.
    assert!(report.check("no_duplicates").unwrap().detail.starts_with(
        "table `transactions` does not exist in schema `run_1`: the pipeline wrote nothing"
    ));
    assert_eq!(report.check("no_loss").unwrap().failing_rows.len(), 3);

    // Only `quarantine` missing: the checks reading it fail, the others judge the data.
    let mut partial = nothing.clone();
    partial.state = EndState::expected_from(&w, &placement, TOPIC);
    partial.state.quarantine.clear();
    partial.missing = vec!["quarantine"];
    let report = crate::check_found(&w, &placement, &hw, &partial);
    let failed: Vec<&str> = report
        .checks
        .iter()
        .filter(|c| c.status == CheckStatus::Fail)
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(failed, ["quarantine", "lineage"]);
    assert!(report.check("lineage").unwrap().detail.contains(
        "table `quarantine` does not exist in schema `run_1`: the pipeline must create it"
    ));
}
