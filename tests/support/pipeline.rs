//! Driving the reference pipeline the way the harness does: through its process contract. Produces a
//! seeded workload, runs `ledger-worker` processes, and reads back what landed in Postgres.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{bail, ensure, Context, Result};
use faultline_infra::ready::kafka_client_config;
use faultline_infra::PgConfig;
use faultline_workload::{Expectation, Workload};
use rdkafka::producer::{FutureProducer, FutureRecord};
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// The `ledger-worker` binary next to this test binary (override with `FAULTLINE_WORKER_BIN`).
pub fn worker_bin() -> Result<PathBuf> {
    if let Ok(p) = std::env::var("FAULTLINE_WORKER_BIN") {
        return Ok(PathBuf::from(p));
    }
    let exe = std::env::current_exe()?;
    let bin = exe.parent().and_then(|d| d.parent()).context("target dir")?.join("ledger-worker");
    ensure!(bin.is_file(), "{} is missing: run `cargo build --workspace --bins` first (ci/test.sh does)", bin.display());
    Ok(bin)
}

/// Names and addresses one pipeline run uses; every test gets its own topic, group and schema.
#[derive(Clone)]
pub struct Run {
    pub bootstrap: String,
    pub pg: PgConfig,
    pub topic: String,
    pub schema: String,
    pub group: String,
    pub enrich_url: Option<String>,
}

impl Run {
    pub fn new(bootstrap: String, pg: PgConfig, name: &str, enrich_url: Option<String>) -> Self {
        let id = faultline_infra::spec::new_run_id();
        Self {
            bootstrap,
            pg,
            topic: format!("{name}-{id}"),
            schema: format!("{}_{id}", name.replace('-', "_")),
            group: format!("{name}-g-{id}"),
            enrich_url,
        }
    }

    /// A worker process with the contract's environment plus `extra`.
    pub fn spawn_worker(&self, worker_id: &str, extra: &[(&str, &str)]) -> Result<Child> {
        let mut cmd = Command::new(worker_bin()?);
        cmd.env("FAULTLINE_KAFKA_BOOTSTRAP", &self.bootstrap)
            .env("FAULTLINE_INPUT_TOPIC", &self.topic)
            .env("FAULTLINE_GROUP_ID", &self.group)
            .env("FAULTLINE_POSTGRES_URL", self.pg.url_with_password())
            .env("FAULTLINE_PG_SCHEMA", &self.schema)
            .env("FAULTLINE_RUN_ID", "test-run")
            .env("FAULTLINE_WORKER_ID", worker_id)
            .env("FAULTLINE_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        if let Some(u) = &self.enrich_url {
            cmd.env("FAULTLINE_ENRICH_URL", u);
        }
        for (k, v) in extra {
            cmd.env(k, v);
        }
        cmd.spawn().context("spawn ledger-worker")
    }

    /// Runs a worker to completion (batch, dry-run or recover mode) and returns its stdout.
    pub fn run_to_end(&self, worker_id: &str, extra: &[(&str, &str)]) -> Result<String> {
        let child = self.spawn_worker(worker_id, extra)?;
        let out = child.wait_with_output()?;
        ensure!(out.status.success(), "worker {worker_id} exited with {:?}", out.status);
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

/// Where each workload record landed: seq → (partition, offset).
pub type Placement = BTreeMap<u64, (i32, i64)>;

/// Produces every record in order (explicit partitions where the workload says so).
pub async fn produce_workload(bootstrap: &str, topic: &str, w: &Workload) -> Result<Placement> {
    let producer: FutureProducer = kafka_client_config(bootstrap)
        .set("enable.idempotence", "true")
        .set("linger.ms", "20")
        .set("message.timeout.ms", "120000")
        .create()?;
    let mut placement = Placement::new();
    for chunk in w.records.chunks(5000) {
        let mut futs = Vec::with_capacity(chunk.len());
        for r in chunk {
            let mut rec = FutureRecord::<[u8], [u8]>::to(topic).payload(&r.value[..]);
            if let Some(k) = &r.key {
                rec = rec.key(&k[..]);
            }
            if let Some(p) = r.partition {
                rec = rec.partition(p);
            }
            // send_result enqueues now; awaiting `send` one by one would wait a linger per record.
            futs.push((r.seq, enqueue(&producer, rec).await?));
        }
        for (seq, f) in futs {
            let d = tokio::time::timeout(Duration::from_secs(150), f)
                .await
                .with_context(|| format!("record {seq} was never acknowledged"))?
                .context("producer dropped")?
                .map_err(|(e, _)| e)
                .with_context(|| format!("deliver record {seq}"))?;
            placement.insert(seq, (d.partition, d.offset));
        }
    }
    Ok(placement)
}

/// Enqueues a record, waiting while the producer queue is full.
pub async fn enqueue<'a>(producer: &FutureProducer, mut rec: FutureRecord<'a, [u8], [u8]>) -> Result<rdkafka::producer::DeliveryFuture> {
    loop {
        match producer.send_result(rec) {
            Ok(f) => return Ok(f),
            Err((e, back)) if e.rdkafka_error_code() == Some(rdkafka::types::RDKafkaErrorCode::QueueFull) => {
                rec = back;
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            Err((e, _)) => return Err(e.into()),
        }
    }
}

/// A profile service double: a deterministic profile per account.
pub struct Profiles;

impl Respond for Profiles {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let account = req.url.path().rsplit('/').next().unwrap_or_default();
        let h = account.bytes().fold(7u64, |a, b| a.wrapping_mul(31).wrapping_add(u64::from(b)));
        let tier = ["low", "low", "medium", "high"][(h % 4) as usize];
        ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "account_age_days": (h % 3000) as i32, "risk_tier": tier, "country": "NL"
        }))
    }
}

/// Starts the profile service double.
pub async fn profile_service() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET")).and(path_regex("^/accounts/[^/]+$")).respond_with(Profiles).mount(&server).await;
    server
}

/// Waits until the stored next offsets reach the topic's high watermarks.
pub async fn wait_caught_up(run: &Run, partitions: i32, timeout: Duration) -> Result<BTreeMap<i32, i64>> {
    let hw = crate::kafka::high_watermarks(&run.bootstrap, &run.topic, partitions)?;
    let client = run.pg.connect().await?;
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let stored: BTreeMap<i32, i64> = match client
            .query(&format!("SELECT partition, next_offset FROM {}.partition_offsets WHERE topic = $1", run.schema), &[&run.topic])
            .await
        {
            Ok(rows) => rows.iter().map(|r| (r.get(0), r.get(1))).collect(),
            Err(_) => BTreeMap::new(),
        };
        if hw.iter().all(|(p, h)| stored.get(p).copied().unwrap_or(0) >= *h) {
            return Ok(hw);
        }
        if tokio::time::Instant::now() > deadline {
            bail!("not caught up after {timeout:?}: stored {stored:?}, high watermarks {hw:?}");
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Checks the end state against the workload: every valid event exactly once, balances, quarantine
/// with reasons, lineage pointing at a record that carries the transaction, contiguous offset log.
/// Returns a list of violations (empty when correct).
pub async fn check_end_state(run: &Run, w: &Workload, placement: &Placement, hw: &BTreeMap<i32, i64>) -> Result<Vec<String>> {
    let c = run.pg.connect().await?;
    let s = &run.schema;
    let mut bad = Vec::new();

    let expected = w.expected_valid();
    let rows = c.query(&format!("SELECT transaction_id, source_partition, source_offset FROM {s}.transactions"), &[]).await?;
    let mut carriers: BTreeMap<(i32, i64), String> = BTreeMap::new();
    for r in &w.records {
        let txid = match &r.expect {
            Expectation::Valid { transaction_id, .. } | Expectation::Duplicate { transaction_id, .. } => transaction_id.clone(),
            Expectation::Malformed { .. } => continue,
        };
        carriers.insert(placement[&r.seq], txid);
    }
    let mut seen = BTreeMap::new();
    for r in &rows {
        let (id, p, o): (String, i32, i64) = (r.get(0), r.get(1), r.get(2));
        if carriers.get(&(p, o)) != Some(&id) {
            bad.push(format!("lineage of {id} points at {p}:{o}, which does not carry it"));
        }
        *seen.entry(id).or_insert(0) += 1;
    }
    for id in expected.keys() {
        if !seen.contains_key(id) {
            bad.push(format!("lost: {id}"));
        }
    }
    for (id, n) in &seen {
        if !expected.contains_key(id) {
            bad.push(format!("phantom: {id}"));
        } else if *n > 1 {
            bad.push(format!("duplicated x{n}: {id}"));
        }
    }

    let balances: BTreeMap<String, i64> = c
        .query(&format!("SELECT account_id, balance_cents FROM {s}.account_balances"), &[])
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let want = w.expected_balances();
    for (a, v) in &want {
        if balances.get(a) != Some(v) {
            bad.push(format!("balance of {a}: {:?}, expected {v}", balances.get(a)));
        }
    }
    let raw: i64 = c.query_one(&format!("SELECT count(*) FROM {s}.raw_events"), &[]).await?.get(0);
    if raw as usize != expected.len() {
        bad.push(format!("raw_events holds {raw} rows, expected {}", expected.len()));
    }

    let q: BTreeMap<(i32, i64), String> = c
        .query(&format!("SELECT source_partition, source_offset, reason FROM {s}.quarantine"), &[])
        .await?
        .iter()
        .map(|r| ((r.get(0), r.get(1)), r.get(2)))
        .collect();
    let want_q = w.expected_quarantine();
    for (seq, reason) in &want_q {
        let at = placement[seq];
        match q.get(&at) {
            Some(got) if got == reason.as_str() => {}
            Some(got) => bad.push(format!("record {seq} at {}:{} quarantined as {got}, expected {}", at.0, at.1, reason.as_str())),
            None => bad.push(format!("record {seq} at {}:{} ({}) missing from quarantine", at.0, at.1, reason.as_str())),
        }
    }
    if q.len() != want_q.len() {
        bad.push(format!("quarantine holds {} rows, expected {}", q.len(), want_q.len()));
    }

    // The offset log must tile [0, hw) exactly once per partition.
    let log = c
        .query(&format!("SELECT partition, from_offset, to_offset FROM {s}.offset_log WHERE topic = $1 ORDER BY partition, from_offset"), &[&run.topic])
        .await?;
    let mut next: BTreeMap<i32, i64> = BTreeMap::new();
    for r in &log {
        let (p, from, to): (i32, i64, i64) = (r.get(0), r.get(1), r.get(2));
        let n = next.entry(p).or_insert(0);
        if from != *n {
            bad.push(format!("offset log of partition {p}: range {from}..{to} does not start at {n}"));
        }
        *n = to;
    }
    for (p, h) in hw {
        if *h > 0 && next.get(p) != Some(h) {
            bad.push(format!("offset log of partition {p} ends at {:?}, high watermark {h}", next.get(p)));
        }
    }
    Ok(bad)
}

/// A digest of every table in the schema, row by row, for byte-for-byte comparisons.
pub async fn table_digests(pg: &PgConfig, schema: &str) -> Result<BTreeMap<String, String>> {
    let c = pg.connect().await?;
    let mut out = BTreeMap::new();
    for t in ["raw_events", "transactions", "account_balances", "quarantine", "partition_offsets", "offset_log"] {
        let row = c
            .query_one(&format!("SELECT count(*), coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), '') FROM {schema}.{t} x"), &[])
            .await?;
        out.insert(t.to_string(), format!("{}:{}", row.get::<_, i64>(0), row.get::<_, String>(1)));
    }
    Ok(out)
}

/// SIGTERM then wait; SIGKILL if it does not stop in 20 s.
pub fn stop(mut child: Child) -> Result<std::process::ExitStatus> {
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    for _ in 0..200 {
        if let Some(st) = child.try_wait()? {
            return Ok(st);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    child.kill()?;
    Ok(child.wait()?)
}
