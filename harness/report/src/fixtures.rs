//! A fixed two-run suite for tests, snapshots and demos: one run that passes (with a warning and a
//! network partition it survives) and one that fails under a planted defect, with a worker kill,
//! a latency window, a broker restart, 60 progress samples and failing checks with rows.

use serde_json::{json, Map, Value};

use crate::model::{
    CheckResult, CheckStatus, FaultEvent, FaultOutcome, RunReport, RunStats, Sample, SuiteReport,
    Verdict,
};

/// Records every fixture run produced.
const PRODUCED: u64 = 25_000;

/// The fixture suite: `steady-state` (seed 7, pass) then `broker-restart` (seed 42, fail).
pub fn sample_suite() -> SuiteReport {
    SuiteReport::new(
        "scenarios/smoke".into(),
        "2025-01-15T03:00:00Z".into(),
        131_400,
        vec![passing_run(), failing_run()],
    )
}

fn passing_run() -> RunReport {
    let faults = vec![fault(
        "partition#1",
        "partition",
        "proxy:kafka-1",
        15_000,
        Some(25_000),
        "client ↔ broker 1 cut both ways",
    )];
    with_stalls(RunReport {
        scenario: "steady-state".into(),
        scenario_file: "scenarios/smoke/steady-state.toml".into(),
        seed: 7,
        backend: "processes".into(),
        group_protocol: "classic".into(),
        defect: None,
        pipeline: None,
        verdict: Verdict::Pass,
        error: None,
        checks: vec![
            check(
                "no_loss",
                CheckStatus::Pass,
                "all 25,000 valid records reached raw_events",
            ),
            check(
                "no_duplicates",
                CheckStatus::Pass,
                "no transaction_id stored twice",
            ),
            check(
                "balances",
                CheckStatus::Pass,
                "200 account balances equal the sum of their unique deltas",
            ),
            check(
                "quarantine",
                CheckStatus::Warn,
                "DLQ ratio 0.40% is above the warn threshold 0.25%",
            ),
            check(
                "offsets",
                CheckStatus::Skip,
                "one worker: no rebalance whose offsets could overlap",
            ),
        ],
        samples: samples(&faults),
        faults,
        stats: RunStats {
            produced: PRODUCED,
            committed: PRODUCED,
            dlq: 120,
            dlq_distinct: 120,
            duration_ms: 62_400,
            workload_digest: digest('7'),
        },
        repro: "faultline run scenarios/smoke/steady-state.toml --seed 7 --backend processes"
            .into(),
        bundle: None,
        end_state: None,
        stalls: Vec::new(),
    })
}

fn failing_run() -> RunReport {
    let faults = vec![
        fault(
            "kill_worker#1",
            "kill_worker",
            "worker:w2",
            12_000,
            None,
            "SIGKILL worker w2",
        ),
        fault(
            "latency#2",
            "latency",
            "proxy:kafka-1",
            20_000,
            Some(32_000),
            "latency 200 ms ± 50 ms downstream",
        ),
        fault(
            "restart_broker#3",
            "restart_broker",
            "broker:1",
            40_000,
            Some(47_000),
            "stop broker 1, restart after 7 s",
        ),
    ];
    let lost_rows = (0..8)
        .map(|i| {
            row(json!({
                "class": "lost", "key": format!("acct-{:06}", 40 + i * 13), "topic": "ledger.events",
                "partition": i % 3, "offset": 4_100 + i * 7, "fault": "kill_worker#1",
            }))
        })
        .collect();
    let balance_rows = vec![
        row(
            json!({"account_id": "acct-000040", "expected_cents": 125_000, "actual_cents": 123_750, "diff_cents": -1_250}),
        ),
        row(
            json!({"account_id": "acct-000053", "expected_cents": 8_800, "actual_cents": 8_400, "diff_cents": -400}),
        ),
    ];
    with_stalls(RunReport {
        scenario: "broker-restart".into(),
        scenario_file: "scenarios/smoke/broker-restart.toml".into(),
        seed: 42,
        backend: "processes".into(),
        group_protocol: "classic".into(),
        defect: Some("commit-before-write".into()),
        pipeline: None,
        verdict: Verdict::Fail,
        error: None,
        checks: vec![
            CheckResult::new("no_loss", CheckStatus::Fail, "17 of 25,000 valid records never reached raw_events".into(), lost_rows, 17),
            check("no_duplicates", CheckStatus::Pass, "no transaction_id stored twice"),
            CheckResult::new("balances", CheckStatus::Fail, "2 of 200 account balances differ from the sum of their unique deltas".into(), balance_rows, 2),
            check("lineage", CheckStatus::Pass, "every row points at a source record that carries it"),
            check("offsets", CheckStatus::Pass, "offset_log tiles every partition from 0 to its end once"),
        ],
        samples: samples(&faults),
        faults,
        stats: RunStats { produced: PRODUCED, committed: PRODUCED, dlq: 96, dlq_distinct: 96, duration_ms: 69_000, workload_digest: digest('4') },
        repro: "faultline run scenarios/smoke/broker-restart.toml --seed 42 --backend processes --defect commit-before-write".into(),
        bundle: Some("out/bundles/broker-restart-42".into()),
        end_state: None,
        stalls: Vec::new(),
    })
}

/// Fills `stalls` and each fault's `time_to_recover` from the samples, as the runner does.
fn with_stalls(mut run: RunReport) -> RunReport {
    run.stalls = crate::stall::find_stalls(&run.samples, &run.faults);
    crate::recovery::measure(&run.samples, &mut run.faults);
    run
}

fn fault(
    id: &str,
    kind: &str,
    target: &str,
    start_ms: u64,
    end_ms: Option<u64>,
    detail: &str,
) -> FaultEvent {
    FaultEvent {
        id: id.into(),
        kind: kind.into(),
        target: target.into(),
        start_ms,
        end_ms,
        outcome: FaultOutcome::Injected {
            detail: detail.into(),
        },
        time_to_recover: None,
    }
}

fn check(name: &str, status: CheckStatus, detail: &str) -> CheckResult {
    CheckResult::from_rows(name, status, detail.into(), Vec::new())
}

fn row(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => unreachable!("fixture rows are objects"),
    }
}

fn digest(fill: char) -> String {
    std::iter::repeat_n(fill, 64).collect()
}

/// 60 samples, one a second: 500 records/s produced for 50 s, committed at up to 900/s; nothing
/// is committed while a worker is replaced (3 s after a kill), a broker is down or the network is
/// cut, and a quarter as much under added latency.
fn samples(faults: &[FaultEvent]) -> Vec<Sample> {
    let (mut produced, mut committed) = (0u64, 0u64);
    (1..=60u64)
        .map(|s| {
            let t_ms = s * 1000;
            produced = (produced + 500).min(PRODUCED);
            let active = |f: &&FaultEvent| {
                f.start_ms < t_ms && t_ms <= f.end_ms.unwrap_or(f.start_ms + 3_000)
            };
            let capacity = faults
                .iter()
                .filter(active)
                .fold(900, |cap, f| match f.kind.as_str() {
                    "latency" => cap / 4,
                    _ => 0,
                });
            committed = (committed + capacity).min(produced);
            Sample {
                t_ms,
                produced,
                committed,
            }
        })
        .collect()
}
