//! The fault proxy at the rates a pipeline sees: the same Postgres reached directly and through a
//! proxy with no toxic, in the same run. A binary `COPY` of 100k workload rows (throughput) and
//! single-row queries (median round trip), rounds interleaved so load drift hits both alike.
//! Targets: <= 5% throughput loss, <= 100 µs added median round trip.

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use faultline_benches::{median, report_ratio};
use faultline_infra::{backend::start, BackendKind, PgConfig, StackSpec};
use faultline_proxy::Proxy;
use faultline_workload::{generate, Expectation, WorkloadSpec};
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::Type;

const ROWS: u64 = 100_000;
const QUERIES: usize = 2_000;
const ROUNDS: usize = 5;

type Row = (String, String, i64, Vec<u8>);

async fn copy_rows(pg: &PgConfig, rows: &[Row], table: &str) -> Duration {
    let c = pg.connect().await.unwrap();
    c.batch_execute(&format!("CREATE TABLE {table} (transaction_id text PRIMARY KEY, account_id text, delta bigint, payload bytea)")).await.unwrap();
    let t = Instant::now();
    let sink = c
        .copy_in(&format!("COPY {table} FROM STDIN (FORMAT binary)"))
        .await
        .unwrap();
    let w = BinaryCopyInWriter::new(sink, &[Type::TEXT, Type::TEXT, Type::INT8, Type::BYTEA]);
    futures::pin_mut!(w);
    for (a, b, d, v) in rows {
        w.as_mut().write(&[a, b, d, v]).await.unwrap();
    }
    w.as_mut().finish().await.unwrap();
    t.elapsed()
}

/// Median round trip of a one-row query on one connection.
async fn round_trips(pg: &PgConfig) -> Duration {
    let c = pg.connect().await.unwrap();
    let stmt = c.prepare("SELECT $1::bigint + 1").await.unwrap();
    let mut times = Vec::with_capacity(QUERIES);
    for i in 0..QUERIES as i64 {
        let t = Instant::now();
        let row = c.query_one(&stmt, &[&i]).await.unwrap();
        times.push(t.elapsed());
        assert_eq!(row.get::<_, i64>(0), i + 1);
    }
    median(times)
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let stack = rt
        .block_on(start(BackendKind::Processes, &StackSpec::single()))
        .expect("stack");
    let direct = stack.postgres().clone();
    let proxy = rt
        .block_on(Proxy::bind("postgres", "127.0.0.1:0", 1))
        .unwrap();
    proxy.set_upstream(&format!("{}:{}", direct.host, direct.port));
    let mut proxied = direct.clone();
    proxied.port = proxy.listen_addr().port();
    let w = generate(&WorkloadSpec {
        seed: 1,
        events: ROWS,
        accounts: 1000,
        ..WorkloadSpec::default()
    })
    .unwrap();
    let rows: Vec<Row> = w
        .records
        .iter()
        .filter_map(|r| match &r.expect {
            Expectation::Valid {
                transaction_id,
                account_id,
                delta_cents,
            } => Some((
                transaction_id.clone(),
                account_id.clone(),
                *delta_cents,
                r.value.clone(),
            )),
            _ => None,
        })
        .collect();

    let mut group = c.benchmark_group("proxy_postgres");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(10));
    let mut n = 0;
    for (name, pg) in [
        ("copy_100k_direct", &direct),
        ("copy_100k_proxied", &proxied),
    ] {
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                (0..iters)
                    .map(|_| {
                        n += 1;
                        rt.block_on(copy_rows(pg, &rows, &format!("crit_{n}")))
                    })
                    .sum()
            })
        });
    }
    group.finish();

    let (mut copy_d, mut copy_p, mut rtt_d, mut rtt_p) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for i in 0..ROUNDS {
        copy_d.push(rt.block_on(copy_rows(&direct, &rows, &format!("round_d_{i}"))));
        copy_p.push(rt.block_on(copy_rows(&proxied, &rows, &format!("round_p_{i}"))));
        rtt_d.push(rt.block_on(round_trips(&direct)));
        rtt_p.push(rt.block_on(round_trips(&proxied)));
    }
    let (cd, cp, rd, rp) = (median(copy_d), median(copy_p), median(rtt_d), median(rtt_p));
    let rate = |d: Duration| rows.len() as f64 / d.as_secs_f64();
    println!(
        "PROXY postgres COPY: direct {:.0} rows/s, proxied {:.0} rows/s, throughput loss {:.1}%",
        rate(cd),
        rate(cp),
        (1.0 - rate(cp) / rate(cd)) * 100.0
    );
    println!(
        "PROXY postgres round trip: direct median {:.1} µs, proxied {:.1} µs, added {:+.1} µs",
        rd.as_secs_f64() * 1e6,
        rp.as_secs_f64() * 1e6,
        (rp.as_secs_f64() - rd.as_secs_f64()) * 1e6
    );
    report_ratio("proxy_postgres/copy proxied vs direct (time)", cp, cd);
    rt.block_on(proxy.shutdown());
    rt.block_on(stack.teardown()).unwrap();
}

criterion_group!(benches, bench);
criterion_main!(benches);
