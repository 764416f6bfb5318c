//! The `dead_letters` check against a dead-letter topic written by a small test producer on real
//! Kafka: a pipeline that dead-letters a record twice fails under exactly_once and passes, with
//! the copy counted, under at_least_once; a missing dead letter fails under both; a dead letter of
//! an aborted transaction is never read; letters without source headers match by their bytes.

use std::time::Duration;

use anyhow::{ensure, Result};
use faultline_infra::doctor::create_topic;
use faultline_infra::ready::kafka_client_config;
use faultline_oracle::{AnomalyClass, Placement};
use faultline_report::CheckStatus;
use faultline_scenario::Guarantee;
use faultline_tests::pipeline::{dead_letters, Run};
use faultline_workload::{Workload, WorkloadRecord};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{BaseRecord, Producer, ThreadedProducer};

/// Writes dead letters the way a pipeline would: the record's key and bytes, with or without the
/// source-position headers.
struct TestDlq {
    producer: ThreadedProducer<rdkafka::producer::DefaultProducerContext>,
    topic: String,
    source_topic: String,
}

impl TestDlq {
    fn new(run: &Run, transactional_id: Option<&str>) -> Result<Self> {
        let mut c = kafka_client_config(&run.bootstrap);
        c.set("acks", "all").set("enable.idempotence", "true");
        if let Some(id) = transactional_id {
            c.set("transactional.id", id);
        }
        let producer: ThreadedProducer<_> = c.create()?;
        if transactional_id.is_some() {
            producer.init_transactions(Duration::from_secs(30))?;
        }
        Ok(Self {
            producer,
            topic: format!("{}.dlq", run.topic),
            source_topic: run.topic.clone(),
        })
    }

    fn send(&self, r: &WorkloadRecord, at: (i32, i64), headers: bool) -> Result<()> {
        let (p, o) = (at.0.to_string(), at.1.to_string());
        let mut rec: BaseRecord<'_, [u8], [u8]> = BaseRecord::to(&self.topic).payload(&r.value);
        if let Some(k) = &r.key {
            rec = rec.key(k);
        }
        if headers {
            rec = rec.headers(
                OwnedHeaders::new()
                    .insert(Header {
                        key: "faultline.source.topic",
                        value: Some(self.source_topic.as_str()),
                    })
                    .insert(Header {
                        key: "faultline.source.partition",
                        value: Some(p.as_str()),
                    })
                    .insert(Header {
                        key: "faultline.source.offset",
                        value: Some(o.as_str()),
                    }),
            );
        }
        self.producer.send(rec).map_err(|(e, _)| e)?;
        Ok(())
    }

    fn flush(&self) -> Result<()> {
        self.producer.flush(Duration::from_secs(30))?;
        Ok(())
    }
}

/// The malformed records of `w` with where they landed, in send order.
fn malformed<'a>(w: &'a Workload, placement: &Placement) -> Vec<(&'a WorkloadRecord, (i32, i64))> {
    w.expected_quarantine()
        .into_iter()
        .map(|(seq, _)| (&w.records[seq as usize], placement[&seq]))
        .collect()
}

/// A placement as a key-partitioned producer would give: records are not produced to the input
/// topic here, only their dead letters, so positions are assigned in send order per partition.
fn placement(w: &Workload, partitions: i32) -> Placement {
    let mut next = vec![0i64; partitions as usize];
    w.records
        .iter()
        .map(|r| {
            let p = r.partition.unwrap_or((r.seq % partitions as u64) as i32);
            let o = next[p as usize];
            next[p as usize] += 1;
            (r.seq, (p, o))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_twice_sent_dead_letter_fails_exactly_once_and_is_counted_under_at_least_once(
) -> Result<()> {
    let stack = crate::stack().await?;
    let run = Run::new(
        stack.bootstrap_servers(),
        stack.postgres().clone(),
        "dlq-dup",
        None,
    );
    create_topic(&run.bootstrap, &format!("{}.dlq", run.topic), 2, 1).await?;
    let w = crate::workload(31, 2_000, 3)?;
    let placement = placement(&w, 3);
    let bad = malformed(&w, &placement);
    ensure!(bad.len() > 20, "only {} malformed records", bad.len());

    let dlq = TestDlq::new(&run, None)?;
    for (r, at) in &bad {
        dlq.send(r, *at, true)?;
    }
    // The pipeline's retry sends the fourth one again.
    let (twice, twice_at) = bad[3];
    dlq.send(twice, twice_at, true)?;
    dlq.flush()?;

    let n = bad.len() as u64;
    let strict = dead_letters(&run, &w, &placement, Guarantee::ExactlyOnce).await?;
    ensure!(
        (strict.total, strict.distinct) == (n + 1, n),
        "read {} ({} distinct), sent {} of {n}",
        strict.total,
        strict.distinct,
        n + 1
    );
    ensure!(
        strict.check.status == CheckStatus::Fail,
        "{}",
        strict.check.detail
    );
    ensure!(
        strict.check.failing_rows.len() == 1,
        "{:?}",
        strict.check.failing_rows
    );
    let row = &strict.check.failing_rows[0];
    ensure!(
        row.class == AnomalyClass::DuplicateDeadLetter
            && (row.partition, row.offset) == (Some(twice_at.0), Some(twice_at.1))
            && row
                .actual
                .as_deref()
                .is_some_and(|a| a.starts_with("2 copies")),
        "{row}"
    );

    let lenient = dead_letters(&run, &w, &placement, Guarantee::AtLeastOnce).await?;
    ensure!(
        lenient.check.status == CheckStatus::Pass,
        "{}",
        lenient.check.detail
    );
    ensure!(
        lenient
            .check
            .detail
            .contains("1 duplicate copies of 1 records")
            && lenient
                .check
                .detail
                .contains(&format!("{}-{}@{}", run.topic, twice_at.0, twice_at.1)),
        "{}",
        lenient.check.detail
    );
    stack.teardown().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_dead_letter_fails_and_an_aborted_one_is_never_read() -> Result<()> {
    let stack = crate::stack().await?;
    let run = Run::new(
        stack.bootstrap_servers(),
        stack.postgres().clone(),
        "dlq-miss",
        None,
    );
    create_topic(&run.bootstrap, &format!("{}.dlq", run.topic), 1, 1).await?;
    let w = crate::workload(32, 2_000, 3)?;
    let placement = placement(&w, 3);
    let bad = malformed(&w, &placement);
    let (gone, gone_at) = bad[5];

    // Committed: every malformed record but one, half of them without headers (matched by bytes).
    let dlq = TestDlq::new(&run, Some(&format!("{}-tx", run.topic)))?;
    dlq.producer.begin_transaction()?;
    for (i, (r, at)) in bad.iter().enumerate() {
        if i != 5 {
            dlq.send(r, *at, i % 2 == 0)?;
        }
    }
    dlq.producer.commit_transaction(Duration::from_secs(30))?;
    // Aborted: the missing one and a copy of another (a zombie's batch that never committed).
    dlq.producer.begin_transaction()?;
    dlq.send(gone, gone_at, true)?;
    dlq.send(bad[0].0, bad[0].1, true)?;
    dlq.producer.abort_transaction(Duration::from_secs(30))?;

    for g in [Guarantee::ExactlyOnce, Guarantee::AtLeastOnce] {
        let r = dead_letters(&run, &w, &placement, g).await?;
        let n = bad.len() as u64 - 1;
        ensure!(
            (r.total, r.distinct) == (n, n),
            "{} / {}",
            r.total,
            r.distinct
        );
        ensure!(r.check.status == CheckStatus::Fail, "{}", r.check.detail);
        ensure!(
            r.check.failing_rows.len() == 1,
            "{:?}",
            r.check.failing_rows
        );
        let row = &r.check.failing_rows[0];
        let key = String::from_utf8_lossy(gone.key.as_deref().unwrap_or_default()).into_owned();
        ensure!(
            row.class == AnomalyClass::MissingDeadLetter
                && (row.partition, row.offset) == (Some(gone_at.0), Some(gone_at.1))
                && row.expected.as_deref().is_some_and(|e| e.contains(&key)),
            "{row}"
        );
        ensure!(r.check.detail.contains("1 missing"), "{}", r.check.detail);
    }
    stack.teardown().await?;
    Ok(())
}

/// A worker frozen (SIGSTOP) past its session while its partitions hold malformed records wakes
/// up a zombie with a batch in hand, and a second worker is SIGKILLed mid-stream: the ledger still
/// writes each dead letter once (the zombie's transaction is refused, the killed one's aborted).
#[tokio::test(flavor = "multi_thread")]
async fn a_zombie_and_a_killed_worker_repeat_no_dead_letter() -> Result<()> {
    use faultline_tests::pipeline::{
        check_end_state, produce_workload, profile_service, stop, wait_caught_up,
    };
    const PARTITIONS: i32 = 4;
    let stack = crate::stack().await?;
    let profiles = profile_service().await;
    let run = Run::new(
        stack.bootstrap_servers(),
        stack.postgres().clone(),
        "dlq-zombie",
        Some(profiles.uri()),
    );
    create_topic(&run.bootstrap, &run.topic, PARTITIONS, 1).await?;
    create_topic(&run.bootstrap, &format!("{}.dlq", run.topic), 1, 1).await?;
    let w = crate::workload(33, 30_000, PARTITIONS)?;
    let placement = produce_workload(&run.bootstrap, &run.topic, &w).await?;
    let malformed = w.counts().malformed_total();
    ensure!(malformed > 500, "only {malformed} malformed records");

    let small = [("FAULTLINE_BATCH_MAX_RECORDS", "200")];
    let a = run.spawn_worker("w1", &small)?;
    let mut b = run.spawn_worker("w2", &small)?;
    let c = run.pg.connect().await?;
    let committed = || async {
        c.query_one(
            &format!(
                "SELECT coalesce(sum(next_offset), 0)::bigint FROM {}.partition_offsets",
                run.schema
            ),
            &[],
        )
        .await
        .map_or(0, |r| r.get::<_, i64>(0))
    };
    let total = w.records.len() as i64;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(300);
    while committed().await < total / 5 {
        ensure!(
            tokio::time::Instant::now() < deadline,
            "no progress in 300 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Freeze w1 past its 6 s session: its partitions move to w2, and it wakes with a batch in hand.
    let pid = a.id() as i32;
    // SAFETY: signalling a child process this test started and still owns.
    unsafe { libc::kill(pid, libc::SIGSTOP) };
    tokio::time::sleep(Duration::from_secs(9)).await;
    unsafe { libc::kill(pid, libc::SIGCONT) };
    while committed().await < total / 2 {
        ensure!(
            tokio::time::Instant::now() < deadline,
            "no progress in 300 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    b.kill()?;
    b.wait()?;
    let c2 = run.spawn_worker("w3", &small)?;
    let hw = wait_caught_up(&run, PARTITIONS, Duration::from_secs(300)).await?;
    stop(a)?;
    stop(c2)?;
    let bad = check_end_state(&run, &w, &placement, &hw).await?;
    ensure!(
        bad.is_empty(),
        "{} violations, first: {:?}",
        bad.len(),
        &bad[..bad.len().min(5)]
    );
    let dlq = dead_letters(&run, &w, &placement, Guarantee::ExactlyOnce).await?;
    ensure!(
        dlq.check.status == CheckStatus::Pass
            && (dlq.total, dlq.distinct) == (malformed, malformed),
        "dead letters: {} total, {} distinct, {malformed} malformed: {}",
        dlq.total,
        dlq.distinct,
        dlq.check.detail
    );
    stack.teardown().await?;
    Ok(())
}
