//! Property tests: the correct end state passes; injected faults are found exactly.
//!
//! Each injection claims what it touches (a table's rows of one transaction id, an account, a
//! quarantine position, a partition's offsets); a later injection on something already claimed is
//! skipped, so every injection maps to exactly one expected `(check, class, key)`.

use std::collections::BTreeSet;

use faultline_report::CheckStatus;
use faultline_workload::{Expectation, ReasonCode};
use proptest::prelude::*;

use super::{produce, small_spec, Produced};
use crate::anomaly::{partition_key, position_key, AnomalyClass};
use crate::check::{check, CHECK_NAMES};
use crate::state::{EndState, Lineage, OffsetRange, QuarantineRow, TransactionRow};

const TOPIC: &str = "payments";

#[derive(Debug, Clone)]
enum Injection {
    DropTransaction(usize),
    DuplicateTransaction(usize),
    AlterDelta(usize, i64),
    AlterAccount(usize),
    EmptyWorkerId(usize),
    ShiftLineage(usize, usize),
    AddPhantom(u8, usize),
    DropRaw(usize),
    DuplicateRaw(usize),
    AlterBalance(usize, i64),
    DropBalance(usize),
    ExtraBalance(u8, i64),
    DropQuarantine(usize),
    AlterReason(usize, usize),
    ExtraQuarantine(usize),
    DropRange(usize),
    DuplicateRange(usize),
    AlterNextOffset(usize, i64),
}

fn injection() -> impl Strategy<Value = Injection> {
    let i = any::<usize>();
    let k = prop_oneof![-1000i64..0, 1i64..1000];
    prop_oneof![
        i.prop_map(Injection::DropTransaction),
        i.prop_map(Injection::DuplicateTransaction),
        (i, k.clone()).prop_map(|(i, k)| Injection::AlterDelta(i, k)),
        i.prop_map(Injection::AlterAccount),
        i.prop_map(Injection::EmptyWorkerId),
        (i, i).prop_map(|(i, j)| Injection::ShiftLineage(i, j)),
        (any::<u8>(), i).prop_map(|(n, j)| Injection::AddPhantom(n, j)),
        i.prop_map(Injection::DropRaw),
        i.prop_map(Injection::DuplicateRaw),
        (i, k.clone()).prop_map(|(i, k)| Injection::AlterBalance(i, k)),
        i.prop_map(Injection::DropBalance),
        (any::<u8>(), k.clone()).prop_map(|(n, k)| Injection::ExtraBalance(n, k)),
        i.prop_map(Injection::DropQuarantine),
        (i, i).prop_map(|(i, r)| Injection::AlterReason(i, r)),
        i.prop_map(Injection::ExtraQuarantine),
        i.prop_map(Injection::DropRange),
        i.prop_map(Injection::DuplicateRange),
        (i, k).prop_map(|(i, k)| Injection::AlterNextOffset(i, k)),
    ]
}

/// `(check, class, key)` of an anomaly, the identity the tests compare.
type Finding = (&'static str, AnomalyClass, String);

/// Applies injections to a correct state and records what the oracle must find.
struct Injector<'a> {
    produced: &'a Produced,
    state: EndState,
    claimed: BTreeSet<String>,
    expected: Vec<Finding>,
}

impl Injector<'_> {
    fn apply(&mut self, injection: &Injection) {
        use AnomalyClass::*;
        use Injection::*;
        // Disjoint borrows: the state is changed while claims and expectations are recorded.
        let Injector {
            produced,
            state: s,
            claimed,
            expected,
        } = self;
        let mut claim = |what: String| claimed.insert(what);
        let mut expect = |check: &'static str, class: AnomalyClass, key: String| {
            expected.push((check, class, key))
        };
        let (n_txn, n_raw, n_q, n_log) = (
            s.transactions.len(),
            s.raw_events.len(),
            s.quarantine.len(),
            s.offset_log.len(),
        );
        match *injection {
            DropTransaction(i)
            | DuplicateTransaction(i)
            | AlterDelta(i, _)
            | AlterAccount(i)
            | EmptyWorkerId(i)
            | ShiftLineage(i, _)
                if n_txn > 0 =>
            {
                let i = i % n_txn;
                let id = s.transactions[i].transaction_id.clone();
                if !claim(format!("txn:{id}")) {
                    return;
                }
                let row = &mut s.transactions[i];
                let (check, class) = match *injection {
                    DropTransaction(_) => {
                        s.transactions.remove(i);
                        ("no_loss", Lost)
                    }
                    DuplicateTransaction(_) => {
                        let copy = row.clone();
                        s.transactions.push(copy);
                        ("no_duplicates", Duplicated)
                    }
                    AlterDelta(_, k) => {
                        row.delta_cents += k;
                        ("values", WrongValue)
                    }
                    AlterAccount(_) => {
                        row.account_id.push_str("-x");
                        ("values", WrongValue)
                    }
                    EmptyWorkerId(_) => {
                        row.lineage.worker_id.clear();
                        ("lineage", LineageMismatch)
                    }
                    ShiftLineage(_, j) => {
                        let targets = positions_not_carrying(produced, &id);
                        (row.lineage.source_partition, row.lineage.source_offset) =
                            targets[j % targets.len()];
                        ("lineage", LineageMismatch)
                    }
                    _ => unreachable!("outer match"),
                };
                expect(check, class, id);
            }
            AddPhantom(n, j) => {
                let id = format!("phantom-{n}");
                if claim(format!("txn:{id}")) {
                    let mut row = s
                        .transactions
                        .get(j % n_txn.max(1))
                        .cloned()
                        .unwrap_or_else(stray_row);
                    row.transaction_id = id.clone();
                    s.transactions.push(row);
                    expect("no_phantoms", AnomalyClass::Phantom, id);
                }
            }
            DropRaw(i) | DuplicateRaw(i) if n_raw > 0 => {
                let i = i % n_raw;
                let id = s.raw_events[i].transaction_id.clone();
                if claim(format!("raw:{id}")) {
                    let class = if let DropRaw(_) = injection {
                        s.raw_events.remove(i);
                        Lost
                    } else {
                        s.raw_events.push(s.raw_events[i].clone());
                        Duplicated
                    };
                    expect("raw_events", class, id);
                }
            }
            AlterBalance(i, _) | DropBalance(i) if !s.account_balances.is_empty() => {
                let account = s
                    .account_balances
                    .keys()
                    .nth(i % s.account_balances.len())
                    .cloned()
                    .expect("non-empty");
                if claim(format!("acct:{account}")) {
                    match *injection {
                        AlterBalance(_, k) => {
                            *s.account_balances.get_mut(&account).expect("present") += k
                        }
                        _ => {
                            s.account_balances.remove(&account);
                        }
                    }
                    expect("balances", WrongBalance, account);
                }
            }
            ExtraBalance(n, k) => {
                let account = format!("acct-extra-{n}");
                if claim(format!("acct:{account}")) {
                    s.account_balances.insert(account.clone(), k);
                    expect("balances", WrongBalance, account);
                }
            }
            DropQuarantine(i) | AlterReason(i, _) if n_q > 0 => {
                let i = i % n_q;
                let (p, o) = s.quarantine[i].lineage.position();
                if claim(format!("q:{p}@{o}")) {
                    let class = if let AlterReason(_, r) = *injection {
                        let row = &mut s.quarantine[i];
                        let current = ReasonCode::ALL
                            .iter()
                            .position(|c| c.as_str() == row.reason)
                            .expect("a known reason");
                        row.reason = ReasonCode::ALL
                            [(current + 1 + r % 10) % ReasonCode::ALL.len()]
                        .as_str()
                        .into();
                        WrongReason
                    } else {
                        s.quarantine.remove(i);
                        MissingFromQuarantine
                    };
                    expect("quarantine", class, position_key(TOPIC, p, o));
                }
            }
            ExtraQuarantine(i) => {
                let clean: Vec<(i32, i64)> = produced
                    .workload
                    .records
                    .iter()
                    .filter(|r| !matches!(r.expect, Expectation::Malformed { .. }))
                    .map(|r| produced.placement[&r.seq])
                    .collect();
                let Some(&(p, o)) = clean.get(i % clean.len().max(1)) else {
                    return;
                };
                if claim(format!("q:{p}@{o}")) {
                    let mut lineage = stray_row().lineage;
                    (lineage.source_partition, lineage.source_offset) = (p, o);
                    s.quarantine.push(QuarantineRow {
                        lineage,
                        reason: "invalid_json".into(),
                    });
                    expect(
                        "quarantine",
                        UnexpectedQuarantine,
                        position_key(TOPIC, p, o),
                    );
                }
            }
            DropRange(i) | DuplicateRange(i) if n_log > 0 => {
                let i = i % n_log;
                let p = s.offset_log[i].partition;
                if claim(format!("part:{p}")) {
                    let class = if let DropRange(_) = injection {
                        s.offset_log.remove(i);
                        OffsetGap
                    } else {
                        s.offset_log.push(s.offset_log[i].clone());
                        OffsetOverlap
                    };
                    expect("offsets", class, partition_key(TOPIC, p));
                }
            }
            AlterNextOffset(i, k) if !s.partition_offsets.is_empty() => {
                let p = *s
                    .partition_offsets
                    .keys()
                    .nth(i % s.partition_offsets.len())
                    .expect("non-empty");
                if claim(format!("part:{p}")) {
                    *s.partition_offsets.get_mut(&p).expect("present") += k;
                    expect("offsets", OffsetNotCommitted, partition_key(TOPIC, p));
                }
            }
            _ => {}
        }
    }
}

/// Every sent position whose record does not carry `id`, plus each partition's end.
fn positions_not_carrying(produced: &Produced, id: &str) -> Vec<(i32, i64)> {
    let carries = |e: &Expectation| match e {
        Expectation::Valid { transaction_id, .. }
        | Expectation::Duplicate { transaction_id, .. } => transaction_id == id,
        Expectation::Malformed { .. }
        | Expectation::Recorded { .. }
        | Expectation::RecordedDuplicate { .. } => false,
    };
    let sent = produced
        .workload
        .records
        .iter()
        .filter(|r| !carries(&r.expect))
        .map(|r| produced.placement[&r.seq]);
    sent.chain(produced.high_watermarks.iter().map(|(&p, &end)| (p, end)))
        .collect()
}

/// A plausible row at 0@0 for a transaction nobody sent.
fn stray_row() -> TransactionRow {
    TransactionRow {
        transaction_id: String::new(),
        account_id: "acct-000000".into(),
        delta_cents: 1,
        lineage: Lineage {
            source_topic: TOPIC.into(),
            source_partition: 0,
            source_offset: 0,
            run_id: "r".into(),
            pipeline_version: "v".into(),
            worker_id: "w".into(),
            written_at: None,
        },
    }
}

/// Splits each partition's single expected range into batches at the given cut points.
fn rebatch(log: &[OffsetRange], cuts: &[usize]) -> Vec<OffsetRange> {
    let mut out = Vec::new();
    for r in log {
        let len = (r.to_offset - r.from_offset) as usize;
        let mut points: BTreeSet<i64> = cuts
            .iter()
            .filter(|_| len > 1)
            .map(|c| r.from_offset + 1 + (c % (len - 1)) as i64)
            .collect();
        points.insert(r.to_offset);
        let mut from = r.from_offset;
        for to in points {
            out.push(OffsetRange {
                from_offset: from,
                to_offset: to,
                ..r.clone()
            });
            from = to;
        }
    }
    out
}

fn findings(report: &crate::report::OracleReport) -> Vec<Finding> {
    let mut found: Vec<Finding> = report
        .checks
        .iter()
        .flat_map(|c| {
            let name = CHECK_NAMES
                .iter()
                .find(|n| **n == c.name)
                .expect("a known check");
            c.failing_rows
                .iter()
                .map(move |a| (*name, a.class, a.key.clone()))
        })
        .collect();
    found.sort();
    found
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn the_correct_end_state_passes_every_check(spec in small_spec(), cuts in prop::collection::vec(any::<usize>(), 0..4)) {
        let produced = produce(&spec);
        let mut state = EndState::expected_from(&produced.workload, &produced.placement, TOPIC);
        state.offset_log = rebatch(&state.offset_log, &cuts);
        let report = check(&produced.workload, &produced.placement, &produced.high_watermarks, &state);
        let names: Vec<&str> = report.checks.iter().map(|c| c.name.as_str()).collect();
        prop_assert_eq!(names, CHECK_NAMES.to_vec());
        prop_assert!(report.passed(), "{:#?}", report.anomalies());
    }

    #[test]
    fn injected_faults_are_found_exactly(
        spec in small_spec(),
        cuts in prop::collection::vec(any::<usize>(), 0..4),
        injections in prop::collection::vec(injection(), 1..6),
    ) {
        let produced = produce(&spec);
        let mut state = EndState::expected_from(&produced.workload, &produced.placement, TOPIC);
        state.offset_log = rebatch(&state.offset_log, &cuts);
        let mut injector = Injector { produced: &produced, state, claimed: BTreeSet::new(), expected: Vec::new() };
        for injection in &injections {
            injector.apply(injection);
        }
        let report = check(&produced.workload, &produced.placement, &produced.high_watermarks, &injector.state);
        let mut expected = injector.expected;
        expected.sort();
        prop_assert_eq!(findings(&report), expected, "{:#?}", report.anomalies());
        for outcome in &report.checks {
            prop_assert_eq!(outcome.status == CheckStatus::Pass, outcome.failing_rows.is_empty());
            prop_assert_eq!(outcome.failing_total, outcome.failing_rows.len() as u64);
        }
    }
}
