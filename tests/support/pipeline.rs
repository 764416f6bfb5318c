//! Driving the reference pipeline the way the harness does: through its process contract. Produces a
//! seeded workload, runs `ledger-worker` processes, and reads back what landed in Postgres.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{bail, ensure, Context, Result};
use faultline_infra::PgConfig;
use faultline_workload::Workload;

/// The `ledger-worker` binary next to this test binary (override with `FAULTLINE_WORKER_BIN`).
pub fn worker_bin() -> Result<PathBuf> {
    if let Ok(p) = std::env::var("FAULTLINE_WORKER_BIN") {
        return Ok(PathBuf::from(p));
    }
    let exe = std::env::current_exe()?;
    let bin = exe
        .parent()
        .and_then(|d| d.parent())
        .context("target dir")?
        .join("ledger-worker");
    ensure!(
        bin.is_file(),
        "{} is missing: run `cargo build --workspace --bins` first (ci/test.sh does)",
        bin.display()
    );
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
        ensure!(
            out.status.success(),
            "worker {worker_id} exited with {:?}",
            out.status
        );
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

/// Where each workload record landed: seq → (partition, offset).
pub use faultline_oracle::Placement;

/// Produces every record in order (explicit partitions where the workload says so), unthrottled,
/// with the runner's producer.
pub async fn produce_workload(bootstrap: &str, topic: &str, w: &Workload) -> Result<Placement> {
    let start = tokio::time::Instant::now();
    let counter = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    Ok(
        faultline_runner::produce::produce(bootstrap, topic, w, 0, start, counter)
            .await?
            .placement,
    )
}

/// The `dead_letters` check on `<topic>.dlq`, read read_committed as the runner reads it.
pub async fn dead_letters(
    run: &Run,
    w: &Workload,
    placement: &Placement,
    guarantee: faultline_scenario::Guarantee,
) -> Result<faultline_oracle::DeadLetterReport> {
    let letters = faultline_runner::dead_letters::read(
        &run.bootstrap,
        &format!("{}.dlq", run.topic),
        faultline_runner::dead_letters::READ_BUDGET,
    )
    .await?
    .iter()
    .map(faultline_runner::dead_letters::RawLetter::oracle)
    .collect::<Vec<_>>();
    Ok(faultline_oracle::check_dead_letters(
        w, placement, &run.topic, &letters, guarantee,
    ))
}

/// The account-profile service double the runner uses (a deterministic profile per account).
pub async fn profile_service() -> faultline_runner::enrichment::ProfileService {
    faultline_runner::enrichment::ProfileService::start().await
}

/// Waits until the stored next offsets reach the topic's high watermarks.
pub async fn wait_caught_up(
    run: &Run,
    partitions: i32,
    timeout: Duration,
) -> Result<BTreeMap<i32, i64>> {
    let hw = crate::kafka::high_watermarks(&run.bootstrap, &run.topic, partitions)?;
    let client = run.pg.connect().await?;
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let stored: BTreeMap<i32, i64> = match client
            .query(
                &format!(
                    "SELECT partition, next_offset FROM {}.partition_offsets WHERE topic = $1",
                    run.schema
                ),
                &[&run.topic],
            )
            .await
        {
            Ok(rows) => rows.iter().map(|r| (r.get(0), r.get(1))).collect(),
            Err(_) => BTreeMap::new(),
        };
        if hw
            .iter()
            .all(|(p, h)| stored.get(p).copied().unwrap_or(0) >= *h)
        {
            return Ok(hw);
        }
        if tokio::time::Instant::now() > deadline {
            bail!("not caught up after {timeout:?}: stored {stored:?}, high watermarks {hw:?}");
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Checks the end state against the workload with the oracle (every valid event exactly once,
/// balances, quarantine with reasons, lineage, offsets). Returns the anomalies, empty when correct.
pub async fn check_end_state(
    run: &Run,
    w: &Workload,
    placement: &Placement,
    hw: &BTreeMap<i32, i64>,
) -> Result<Vec<String>> {
    let c = run.pg.connect().await?;
    let state = faultline_oracle::read_end_state(&c, &run.schema, &run.topic).await?;
    let report = faultline_oracle::check(w, placement, hw, &state);
    Ok(report.anomalies().iter().map(|a| a.to_string()).collect())
}

/// A digest of every table in the schema, row by row, for byte-for-byte comparisons.
pub async fn table_digests(pg: &PgConfig, schema: &str) -> Result<BTreeMap<String, String>> {
    let c = pg.connect().await?;
    let mut out = BTreeMap::new();
    for t in [
        "raw_events",
        "transactions",
        "account_balances",
        "quarantine",
        "partition_offsets",
        "offset_log",
    ] {
        let row = c
            .query_one(&format!("SELECT count(*), coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), '') FROM {schema}.{t} x"), &[])
            .await?;
        out.insert(
            t.to_string(),
            format!("{}:{}", row.get::<_, i64>(0), row.get::<_, String>(1)),
        );
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
