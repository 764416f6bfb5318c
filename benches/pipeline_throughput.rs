//! End-to-end throughput of the reference pipeline with 2 worker processes on one machine, against a
//! plain binary `COPY` of the same rows into the same Postgres, measured in the same run; then the
//! same with enrichment from the account-profile service (the runner's wiremock double, one HTTP
//! round trip per account and worker, cached), against the run without it.
//! Goal: >= 20,000 events/s end to end.
//!
//! Needs the release worker: `cargo build --release --bins` first (or set FAULTLINE_WORKER_BIN).

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use faultline_benches::{median, report_ratio};
use faultline_infra::doctor::create_topic;
use faultline_infra::ready::kafka_client_config;
use faultline_infra::{backend::start, BackendKind, PgConfig, StackSpec};
use faultline_workload::{generate, Workload, WorkloadSpec};
use rdkafka::producer::{FutureProducer, FutureRecord};

const EVENTS: u64 = 100_000;
const PARTITIONS: i32 = 4;

fn worker_bin() -> PathBuf {
    if let Ok(p) = std::env::var("FAULTLINE_WORKER_BIN") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().expect("current exe");
    let bin = exe
        .parent()
        .and_then(|d| d.parent())
        .expect("target dir")
        .join("ledger-worker");
    assert!(
        bin.is_file(),
        "{} missing: run `cargo build --release --bins` first",
        bin.display()
    );
    bin
}

async fn produce(bootstrap: &str, topic: &str, w: &Workload) {
    let p: FutureProducer = kafka_client_config(bootstrap)
        .set("linger.ms", "20")
        .set("batch.num.messages", "10000")
        .create()
        .unwrap();
    for chunk in w.records.chunks(10_000) {
        let futs: Vec<_> = chunk
            .iter()
            .map(|r| {
                p.send_result(
                    FutureRecord::<[u8], [u8]>::to(topic)
                        .key(r.key.as_deref().unwrap_or_default())
                        .payload(&r.value[..]),
                )
                .map_err(|(e, _)| e)
                .unwrap()
            })
            .collect();
        for f in futs {
            f.await.unwrap().map_err(|(e, _)| e).unwrap();
        }
    }
}

/// Two batch-mode workers from the start of the topic to caught up, enriching from `enrich` if given.
fn run_pipeline(
    bootstrap: &str,
    pg: &PgConfig,
    topic: &str,
    schema: &str,
    enrich: Option<&str>,
) -> Duration {
    let t = Instant::now();
    let children: Vec<_> = (0..2)
        .map(|i| {
            let mut cmd = Command::new(worker_bin());
            if let Some(url) = enrich {
                cmd.env("FAULTLINE_ENRICH_URL", url);
            }
            cmd.env("FAULTLINE_KAFKA_BOOTSTRAP", bootstrap)
                .env("FAULTLINE_INPUT_TOPIC", topic)
                .env("FAULTLINE_GROUP_ID", format!("{topic}-g"))
                .env("FAULTLINE_POSTGRES_URL", pg.url_with_password())
                .env("FAULTLINE_PG_SCHEMA", schema)
                .env("FAULTLINE_MODE", "batch")
                .env("FAULTLINE_BATCH_MAX_RECORDS", "5000")
                .env("FAULTLINE_WORKER_ID", format!("bench-{i}"))
                .env("FAULTLINE_LOG", "warn")
                .stdout(Stdio::null())
                .spawn()
                .expect("spawn worker")
        })
        .collect();
    for mut c in children {
        assert!(c.wait().expect("wait").success(), "worker failed");
    }
    t.elapsed()
}

/// Baseline: binary COPY of the same valid rows into a table shaped like `transactions`.
async fn plain_copy(pg: &PgConfig, w: &Workload, table: &str) -> Duration {
    use tokio_postgres::binary_copy::BinaryCopyInWriter;
    use tokio_postgres::types::Type;
    let c = pg.connect().await.unwrap();
    c.batch_execute(&format!(
        "CREATE TABLE {table} (transaction_id text PRIMARY KEY, account_id text, amount_cents bigint, payload bytea, source_offset bigint)"
    ))
    .await
    .unwrap();
    let rows: Vec<_> = w
        .records
        .iter()
        .filter_map(|r| match &r.expect {
            faultline_workload::Expectation::Valid {
                transaction_id,
                account_id,
                delta_cents,
            } => Some((
                transaction_id.clone(),
                account_id.clone(),
                *delta_cents,
                r.value.clone(),
                r.seq as i64,
            )),
            _ => None,
        })
        .collect();
    let t = Instant::now();
    let sink = c
        .copy_in(&format!("COPY {table} FROM STDIN (FORMAT binary)"))
        .await
        .unwrap();
    let w = BinaryCopyInWriter::new(
        sink,
        &[Type::TEXT, Type::TEXT, Type::INT8, Type::BYTEA, Type::INT8],
    );
    futures::pin_mut!(w);
    for (a, b, d, v, s) in &rows {
        w.as_mut().write(&[a, b, d, v, s]).await.unwrap();
    }
    w.as_mut().finish().await.unwrap();
    t.elapsed()
}

fn bench_throughput(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let stack = rt
        .block_on(start(BackendKind::Processes, &StackSpec::single()))
        .expect("stack");
    let bootstrap = stack.bootstrap_servers();
    let pg = stack.postgres().clone();
    let w = generate(&WorkloadSpec {
        seed: 1,
        events: EVENTS,
        accounts: 1000,
        partitions: PARTITIONS,
        ..WorkloadSpec::default()
    })
    .unwrap();
    let n = w.records.len() as f64;
    let (mut pipeline, mut copy, mut enriched) = (Vec::new(), Vec::new(), Vec::new());
    let profiles = rt.block_on(faultline_runner::enrichment::ProfileService::start());
    let mut group = c.benchmark_group("pipeline_throughput");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(120))
        .warm_up_time(Duration::from_millis(1));
    let mut i = 0;
    // One fresh topic and schema per iteration, filled before the clock starts.
    let mut fresh = |rt: &tokio::runtime::Runtime| {
        i += 1;
        let topic = format!("bench-{i}-{}", faultline_infra::spec::new_run_id());
        rt.block_on(create_topic(&bootstrap, &topic, PARTITIONS, 1))
            .unwrap();
        rt.block_on(produce(&bootstrap, &topic, &w));
        (i, topic)
    };
    group.bench_function("two_workers_100k_events", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let (i, topic) = fresh(&rt);
                let d = run_pipeline(&bootstrap, &pg, &topic, &format!("bench_{i}"), None);
                pipeline.push(d);
                copy.push(rt.block_on(plain_copy(&pg, &w, &format!("copy_baseline_{i}"))));
                total += d;
            }
            total
        })
    });
    group.bench_function("two_workers_100k_events_enriched", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let (i, topic) = fresh(&rt);
                let d = run_pipeline(
                    &bootstrap,
                    &pg,
                    &topic,
                    &format!("bench_{i}"),
                    Some(&profiles.uri()),
                );
                enriched.push(d);
                total += d;
            }
            total
        })
    });
    group.finish();
    let (p, b, e) = (median(pipeline), median(copy), median(enriched));
    println!(
        "THROUGHPUT pipeline {:.0} events/s, enriched {:.0} events/s, plain COPY {:.0} rows/s; {} profile requests served",
        n / p.as_secs_f64(),
        n / e.as_secs_f64(),
        n / b.as_secs_f64(),
        rt.block_on(profiles.requests()),
    );
    report_ratio(
        "pipeline_throughput/two_workers vs plain COPY (time, higher = slower)",
        p,
        b,
    );
    report_ratio(
        "pipeline_throughput/two_workers_enriched vs two_workers (time, higher = slower)",
        e,
        p,
    );
    drop(profiles);
    rt.block_on(stack.teardown()).unwrap();
}

criterion_group!(benches, bench_throughput);
criterion_main!(benches);
