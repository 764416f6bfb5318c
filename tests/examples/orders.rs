//! Driving examples/orders-python the way a manifest would: its own variables, schema.sql with the
//! `{schema}` placeholder, events.jsonl. The expected end state is computed here from the events
//! alone, with the validation rules of its README written independently of the Python code.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{bail, ensure, Context, Result};
use base64::Engine as _;
use faultline_infra::doctor::create_topic;
use faultline_infra::ready::kafka_client_config;
use faultline_infra::{backend::start, BackendKind, PgConfig, Stack, StackSpec};
use faultline_tests::kafka::{committed, delivered, high_watermarks};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Header, Headers, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Message, Offset, TopicPartitionList};
use serde::Deserialize;
use serde_json::Value;

const STATUSES: [&str; 5] = ["created", "paid", "shipped", "delivered", "cancelled"];
const READY_LINE: &str = "orders-pipeline ready";

pub fn example_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/orders-python")
}

/// The venv's Python that ci/examples.sh provisions.
pub fn python() -> Result<PathBuf> {
    let p = std::env::var("FAULTLINE_ORDERS_PYTHON").context(
        "FAULTLINE_ORDERS_PYTHON is not set: run ci/provision.sh and source $FAULTLINE_CACHE/env.sh",
    )?;
    ensure!(
        Path::new(&p).is_file(),
        "FAULTLINE_ORDERS_PYTHON={p} is missing: run ci/examples.sh"
    );
    Ok(PathBuf::from(p))
}

/// One line of events.jsonl, as bytes to produce.
#[derive(Clone)]
pub struct Record {
    pub key: String,
    pub value: Vec<u8>,
    pub partition: Option<i32>,
    pub headers: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    key: String,
    value: Option<Value>,
    value_b64: Option<String>,
    partition: Option<i32>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
}

/// The committed sample events.jsonl.
pub fn load_events() -> Result<Vec<Record>> {
    let path = example_dir().join("events.jsonl");
    let text = std::fs::read_to_string(&path).with_context(|| path.display().to_string())?;
    text.lines()
        .enumerate()
        .map(|(i, l)| {
            let line: Line =
                serde_json::from_str(l).with_context(|| format!("events.jsonl:{}", i + 1))?;
            let value = match (line.value, line.value_b64) {
                (Some(v), None) => serde_json::to_vec(&v)?,
                (None, Some(b)) => base64::engine::general_purpose::STANDARD.decode(b)?,
                _ => bail!(
                    "events.jsonl:{}: needs exactly one of value, value_b64",
                    i + 1
                ),
            };
            Ok(Record {
                key: line.key,
                value,
                partition: line.partition,
                headers: line.headers,
            })
        })
        .collect()
}

/// A record carrying `value` as JSON.
pub fn json_record(value: &Value) -> Record {
    Record {
        key: value["order_id"].as_str().unwrap_or_default().to_string(),
        value: serde_json::to_vec(value).expect("a Value serializes"),
        partition: None,
        headers: BTreeMap::new(),
    }
}

/// The fields of one valid order event, `updated_at` as written (whole seconds, `Z`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    pub order_id: String,
    pub status: String,
    pub version: i64,
    pub amount_cents: i64,
    pub updated_at: String,
}

/// The README's validation rules that events.jsonl exercises: the order event, or the dead-letter
/// reason. (Rules the sample never breaks are left out; a disagreement fails the DLQ check.)
pub fn classify(value: &[u8]) -> std::result::Result<Order, String> {
    let Ok(v) = serde_json::from_slice::<Value>(value) else {
        return Err("not-json".into());
    };
    let Some(o) = v.as_object() else {
        return Err("not-object".into());
    };
    for (name, text) in [
        ("order_id", true),
        ("status", true),
        ("version", false),
        ("amount_cents", false),
        ("updated_at", true),
    ] {
        match o.get(name) {
            None | Some(Value::Null) => return Err(format!("missing-field:{name}")),
            Some(x) if (text && !x.is_string()) || (!text && !x.is_i64()) => {
                return Err(format!("wrong-type:{name}"))
            }
            _ => {}
        }
    }
    let status = o["status"].as_str().unwrap_or_default();
    if !STATUSES.contains(&status) {
        return Err("unknown-status".into());
    }
    Ok(Order {
        order_id: o["order_id"].as_str().unwrap_or_default().to_string(),
        status: status.to_string(),
        version: o["version"].as_i64().unwrap_or_default(),
        amount_cents: o["amount_cents"].as_i64().unwrap_or_default(),
        updated_at: o["updated_at"].as_str().unwrap_or_default().to_string(),
    })
}

/// Where a record landed: (partition, offset).
pub type Pos = (i32, i64);

/// What the tables and the DLQ topic must hold after every record was consumed.
pub struct Expected {
    /// Per order: its highest-version event and where that event first landed (lineage).
    pub orders: BTreeMap<String, (Order, Pos)>,
    /// Every distinct (order_id, version) and its status.
    pub events: BTreeMap<(String, i64), String>,
    /// Every invalid record by position: (reason, key, value).
    pub dead: BTreeMap<Pos, (String, String, Vec<u8>)>,
    /// Valid records produced, duplicates included.
    pub valid_deliveries: i64,
}

impl Expected {
    pub fn new(records: &[Record], placement: &[Pos]) -> Self {
        let mut e = Expected {
            orders: BTreeMap::new(),
            events: BTreeMap::new(),
            dead: BTreeMap::new(),
            valid_deliveries: 0,
        };
        // Production order is offset order within a partition, and an order's events share one.
        for (r, pos) in records.iter().zip(placement) {
            match classify(&r.value) {
                Ok(o) => {
                    e.valid_deliveries += 1;
                    e.events
                        .insert((o.order_id.clone(), o.version), o.status.clone());
                    let newer = e
                        .orders
                        .get(&o.order_id)
                        .is_none_or(|(cur, _)| o.version > cur.version);
                    if newer {
                        e.orders.insert(o.order_id.clone(), (o, *pos));
                    }
                }
                Err(reason) => {
                    e.dead
                        .insert(*pos, (reason, r.key.clone(), r.value.clone()));
                }
            }
        }
        e
    }

    /// Distinct events per status: what `order_status_counts` must hold.
    pub fn status_counts(&self) -> BTreeMap<String, i64> {
        let mut out = BTreeMap::new();
        for status in self.events.values() {
            *out.entry(status.clone()).or_insert(0) += 1;
        }
        out
    }
}

/// Produces `records` in order (idempotent producer, so order within a partition holds) and returns
/// where each landed.
pub async fn produce(bootstrap: &str, topic: &str, records: &[Record]) -> Result<Vec<Pos>> {
    let producer: FutureProducer = kafka_client_config(bootstrap)
        .set("acks", "all")
        .set("enable.idempotence", "true")
        .set("message.timeout.ms", "60000")
        .set("linger.ms", "5")
        .create()?;
    let mut futs = Vec::with_capacity(records.len());
    for r in records {
        let mut headers = OwnedHeaders::new();
        for (k, v) in &r.headers {
            headers = headers.insert(Header {
                key: k,
                value: Some(v),
            });
        }
        let mut rec = FutureRecord::to(topic)
            .key(&r.key)
            .payload(&r.value)
            .headers(headers);
        if let Some(p) = r.partition {
            rec = rec.partition(p);
        }
        futs.push(producer.send_result(rec).map_err(|(e, _)| e)?);
    }
    delivered(futs).await
}

/// One record of the dead-letter topic.
#[derive(Debug)]
pub struct DeadLetter {
    pub reason: String,
    pub source: Pos,
    pub key: String,
    pub value: Vec<u8>,
}

/// One stack, topic, DLQ topic, group and schema for one test.
pub struct OrdersRun {
    pub stack: Box<dyn Stack>,
    pub bootstrap: String,
    pub pg: PgConfig,
    pub topic: String,
    pub dlq: String,
    pub group: String,
    pub schema: String,
    pub partitions: i32,
}

impl OrdersRun {
    /// Starts a processes-backend stack, creates both topics and applies schema.sql.
    pub async fn start(name: &str, partitions: i32) -> Result<Self> {
        let stack = start(BackendKind::Processes, &StackSpec::single()).await?;
        let id = faultline_infra::spec::new_run_id();
        let run = Self {
            bootstrap: stack.bootstrap_servers(),
            pg: stack.postgres().clone(),
            stack,
            topic: format!("{name}-{id}"),
            dlq: format!("{name}-{id}.dlq"),
            group: format!("{name}-g-{id}"),
            schema: format!("{}_{id}", name.replace('-', "_")),
            partitions,
        };
        create_topic(&run.bootstrap, &run.topic, partitions, 1).await?;
        create_topic(&run.bootstrap, &run.dlq, 1, 1).await?;
        let sql = std::fs::read_to_string(example_dir().join("schema.sql"))?;
        run.pg
            .connect()
            .await?
            .batch_execute(&sql.replace("{schema}", &run.schema))
            .await
            .context("apply schema.sql")?;
        Ok(run)
    }

    pub async fn teardown(self) -> Result<()> {
        Ok(self.stack.teardown().await?)
    }

    /// A pipeline process with only its own variables (and PATH) in its environment.
    pub fn spawn(&self, worker: &str, group: &str, extra: &[(&str, &str)]) -> Result<Worker> {
        let mut cmd = Command::new(python()?);
        cmd.arg("orders_pipeline.py")
            .current_dir(example_dir())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("KAFKA_BOOTSTRAP_SERVERS", &self.bootstrap)
            .env(
                "DATABASE_URL",
                format!(
                    "{}?application_name={}",
                    self.pg.url_with_password(),
                    app_name(worker)
                ),
            )
            .env("ORDERS_SCHEMA", &self.schema)
            .env("ORDERS_TOPIC", &self.topic)
            .env("ORDERS_DLQ_TOPIC", &self.dlq)
            .env("ORDERS_GROUP_ID", group)
            .env("ORDERS_WORKER_ID", worker)
            .env("ORDERS_SESSION_TIMEOUT_MS", "6000")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in extra {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().context("spawn orders_pipeline.py")?;
        let stderr = child.stderr.take().context("stderr")?;
        let (tx, ready) = mpsc::channel();
        let name = worker.to_string();
        // Echoes the log into the test output and reports the readiness line.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(|l| l.ok()) {
                eprintln!("[{name}] {line}");
                if line.contains(READY_LINE) {
                    let _ = tx.send(());
                }
            }
        });
        Ok(Worker {
            child: Some(child),
            ready,
            name: worker.to_string(),
        })
    }

    /// Waits until `group`'s committed offsets reach the topic's high watermarks.
    pub async fn wait_committed(&self, group: &str, timeout: Duration) -> Result<()> {
        let hw = high_watermarks(&self.bootstrap, &self.topic, self.partitions)?;
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let got = self.committed(group).await?;
            if hw
                .iter()
                .all(|(p, h)| got.get(p).copied().unwrap_or(-1) >= *h)
            {
                return Ok(());
            }
            if tokio::time::Instant::now() > deadline {
                bail!("{group} not caught up after {timeout:?}: committed {got:?}, high watermarks {hw:?}");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// `group`'s committed offsets. The group coordinator answers NotCoordinator while it loads
    /// right after the group's first join: retried for up to 30 s, then that error is returned.
    pub async fn committed(&self, group: &str) -> Result<BTreeMap<i32, i64>> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            match committed(&self.bootstrap, &self.topic, group, self.partitions) {
                Ok(got) => return Ok(got),
                Err(e) if tokio::time::Instant::now() > deadline => return Err(e),
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
    }

    /// Offsets `group` has committed, summed over partitions.
    pub async fn committed_total(&self, group: &str) -> Result<i64> {
        Ok(self
            .committed(group)
            .await?
            .values()
            .map(|o| (*o).max(0))
            .sum())
    }

    pub async fn orders(&self) -> Result<BTreeMap<String, (Order, Pos)>> {
        let c = self.pg.connect().await?;
        let rows = c
            .query(
                &format!(
                    "SELECT order_id, status, version, amount_cents,
                        to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),
                        source_partition, source_offset
                     FROM {}.orders",
                    self.schema
                ),
                &[],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| {
                let o = Order {
                    order_id: r.get(0),
                    status: r.get(1),
                    version: r.get(2),
                    amount_cents: r.get(3),
                    updated_at: r.get(4),
                };
                (o.order_id.clone(), (o, (r.get(5), r.get(6))))
            })
            .collect())
    }

    pub async fn events(&self) -> Result<BTreeMap<(String, i64), String>> {
        let c = self.pg.connect().await?;
        let rows = c
            .query(
                &format!(
                    "SELECT order_id, version, status FROM {}.order_events",
                    self.schema
                ),
                &[],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| ((r.get(0), r.get(1)), r.get(2)))
            .collect())
    }

    pub async fn status_counts(&self) -> Result<BTreeMap<String, i64>> {
        let c = self.pg.connect().await?;
        let rows = c
            .query(
                &format!(
                    "SELECT status, events FROM {}.order_status_counts",
                    self.schema
                ),
                &[],
            )
            .await?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    /// Every record of the DLQ topic, read from the beginning up to its high watermark.
    pub fn dead_letters(&self) -> Result<Vec<DeadLetter>> {
        let hw = high_watermarks(&self.bootstrap, &self.dlq, 1)?[&0];
        let consumer: BaseConsumer = kafka_client_config(&self.bootstrap)
            .set("group.id", format!("{}-dlq-reader", self.group))
            .set("enable.auto.commit", "false")
            .create()?;
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition_offset(&self.dlq, 0, Offset::Beginning)?;
        consumer.assign(&tpl)?;
        let mut out = Vec::new();
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while (out.len() as i64) < hw {
            ensure!(
                std::time::Instant::now() < deadline,
                "read {} of {hw} dead letters in 60 s",
                out.len()
            );
            let Some(m) = consumer.poll(Duration::from_millis(500)) else {
                continue;
            };
            let m = m?;
            let header = |name: &str| -> Result<String> {
                let h = m.headers().context("dead letter without headers")?;
                let v = h
                    .iter()
                    .find(|h| h.key == name)
                    .and_then(|h| h.value)
                    .with_context(|| format!("dead letter without header {name}"))?;
                Ok(String::from_utf8_lossy(v).into_owned())
            };
            ensure!(header("orders.source.topic")? == self.topic, "source topic");
            out.push(DeadLetter {
                reason: header("orders.dlq.reason")?,
                source: (
                    header("orders.source.partition")?.parse()?,
                    header("orders.source.offset")?.parse()?,
                ),
                key: String::from_utf8_lossy(m.key().unwrap_or_default()).into_owned(),
                value: m.payload().unwrap_or_default().to_vec(),
            });
        }
        Ok(out)
    }

    /// Everything that differs from `exp`: orders (fields and lineage), order_events,
    /// order_status_counts, and the DLQ topic (every invalid record, its reason, nothing else;
    /// a redelivered dead letter may appear twice). Empty when the end state is right.
    pub async fn anomalies(&self, exp: &Expected) -> Result<Vec<String>> {
        let mut bad = Vec::new();
        let got = self.orders().await?;
        for (id, want) in &exp.orders {
            match got.get(id) {
                None => bad.push(format!("order {id}: missing, want {want:?}")),
                Some(row) if row != want => {
                    bad.push(format!("order {id}: got {row:?}, want {want:?}"))
                }
                _ => {}
            }
        }
        for id in got.keys().filter(|id| !exp.orders.contains_key(*id)) {
            bad.push(format!("order {id}: unexpected row"));
        }
        let events = self.events().await?;
        if events != exp.events {
            bad.push(format!(
                "order_events: {} rows, want {}",
                events.len(),
                exp.events.len()
            ));
        }
        let counts = self.status_counts().await?;
        if counts != exp.status_counts() {
            bad.push(format!(
                "order_status_counts: {counts:?}, want {:?}",
                exp.status_counts()
            ));
        }
        let dead = self.dead_letters()?;
        let sources: BTreeSet<Pos> = dead.iter().map(|d| d.source).collect();
        let want: BTreeSet<Pos> = exp.dead.keys().copied().collect();
        if sources != want {
            bad.push(format!(
                "DLQ holds {} distinct records, want {}; missing {:?}, extra {:?}",
                sources.len(),
                want.len(),
                want.difference(&sources).take(5).collect::<Vec<_>>(),
                sources.difference(&want).take(5).collect::<Vec<_>>()
            ));
        }
        for d in &dead {
            if let Some((reason, key, value)) = exp.dead.get(&d.source) {
                if (&d.reason, &d.key, &d.value) != (reason, key, value) {
                    bad.push(format!(
                        "dead letter from {:?}: reason {:?} (want {reason:?}) or bytes differ",
                        d.source, d.reason
                    ));
                }
            }
        }
        Ok(bad)
    }
}

/// The application_name a worker's DATABASE_URL carries.
pub fn app_name(worker: &str) -> String {
    format!("orders-test-{worker}")
}

/// A running pipeline process; killed on drop so a failed assertion leaves nothing behind.
pub struct Worker {
    child: Option<Child>,
    ready: mpsc::Receiver<()>,
    pub name: String,
}

impl Worker {
    /// Waits for the "orders-pipeline ready" log line.
    pub fn wait_ready(&self, timeout: Duration) -> Result<()> {
        self.ready
            .recv_timeout(timeout)
            .with_context(|| format!("{}: no readiness line within {timeout:?}", self.name))
    }

    /// SIGKILL: no chance to finish the batch in flight.
    pub fn kill(mut self) -> Result<()> {
        let mut c = self.child.take().context("already stopped")?;
        c.kill()?;
        c.wait()?;
        Ok(())
    }

    /// SIGTERM and wait (SIGKILL after 20 s).
    pub fn stop(mut self) -> Result<ExitStatus> {
        faultline_tests::pipeline::stop(self.child.take().context("already stopped")?)
    }

    /// Waits for the process to exit on its own.
    pub fn wait_exit(mut self, timeout: Duration) -> Result<ExitStatus> {
        let deadline = std::time::Instant::now() + timeout;
        let child = self.child.as_mut().context("already stopped")?;
        loop {
            if let Some(st) = child.try_wait()? {
                self.child = None;
                return Ok(st);
            }
            ensure!(
                std::time::Instant::now() < deadline,
                "{} still running after {timeout:?}",
                self.name
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        if let Some(c) = self.child.as_mut() {
            // Only reached after a failed assertion; the failure is what gets reported.
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}
