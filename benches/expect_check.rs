//! The `expectations` check (crate `faultline-expect`) on 1,000,000 expected rows, against a plain
//! SQL `EXCEPT` of the same two tables in the same Postgres, in the same run.
//!
//! The table holds 1M rows, 100 of them wrong. faultline's side is what a run does: read the table
//! (`row_to_json`, as the runner's `read_tables`), compute the expected rows from 1M input records
//! (`mode = "insert"`) and compare them, classifying each difference. The baseline is the
//! symmetric difference in SQL of the table and a copy of the expected rows already in Postgres
//! (two `EXCEPT` queries), which only counts rows and knows nothing of keys or classes.

use std::path::Path;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use faultline_benches::{median, report_ratio};
use faultline_expect::{check, ExpectSpec, InputRecord};
use faultline_infra::{backend::start, BackendKind, StackSpec};
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::Type;

const ROWS: usize = 1_000_000;
const WRONG: usize = 100;
const SCHEMA: &str = "bench_expect_check";

async fn copy_table(c: &tokio_postgres::Client, table: &str, rows: &[(String, String, i64)]) {
    c.batch_execute(&format!(
        "CREATE TABLE {SCHEMA}.{table} (id text PRIMARY KEY, account text NOT NULL, amount bigint NOT NULL)"
    ))
    .await
    .unwrap();
    let sink = c
        .copy_in(&format!("COPY {SCHEMA}.{table} FROM STDIN (FORMAT binary)"))
        .await
        .unwrap();
    let w = BinaryCopyInWriter::new(sink, &[Type::TEXT, Type::TEXT, Type::INT8]);
    futures::pin_mut!(w);
    for (id, account, amount) in rows {
        w.as_mut().write(&[id, account, amount]).await.unwrap();
    }
    w.as_mut().finish().await.unwrap();
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let stack = rt
        .block_on(start(BackendKind::Processes, &StackSpec::single()))
        .expect("stack");
    let pg = stack.postgres().clone();
    let client = rt.block_on(pg.connect()).unwrap();
    let expected: Vec<(String, String, i64)> = (0..ROWS)
        .map(|i| {
            (
                format!("e-{i:08}"),
                format!("acct-{:04}", i % 5000),
                (i as i64 * 7919) % 100_000,
            )
        })
        .collect();
    let mut actual = expected.clone();
    for row in actual.iter_mut().step_by(ROWS / WRONG) {
        row.2 += 1;
    }
    rt.block_on(async {
        client
            .batch_execute(&format!(
                "DROP SCHEMA IF EXISTS {SCHEMA} CASCADE; CREATE SCHEMA {SCHEMA}"
            ))
            .await
            .unwrap();
        copy_table(&client, "spend", &actual).await;
        copy_table(&client, "expected_spend", &expected).await;
        client
            .batch_execute(&format!(
                "ANALYZE {SCHEMA}.spend; ANALYZE {SCHEMA}.expected_spend"
            ))
            .await
            .unwrap();
    });
    let records: Vec<InputRecord> = expected
        .iter()
        .enumerate()
        .map(|(i, (id, account, amount))| InputRecord {
            partition: (i % 4) as i32,
            offset: (i / 4) as i64,
            key: Some(account.as_bytes().to_vec()),
            value: Some(serde_json::json!({"id": id, "account": account, "amount": amount})),
            sent_at_ms: i as u64,
        })
        .collect();
    let spec: ExpectSpec = serde_json::from_value(serde_json::json!({
        "identity": ["id"],
        "table": [{"table": "spend", "mode": "insert", "key": ["id"],
                   "columns": {"id": "id", "account": "account", "amount": "amount"}}]
    }))
    .unwrap();

    let (mut ours, mut sql) = (Vec::new(), Vec::new());
    let mut group = c.benchmark_group("expect_check_1m_rows");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(1))
        .measurement_time(Duration::from_secs(60));
    group.bench_function("sql_except_both_ways", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| {
                    let t = Instant::now();
                    let n: i64 = rt.block_on(async {
                        let q = |a: &str, b: &str| {
                            format!(
                                "SELECT count(*) FROM (SELECT id, account, amount FROM {SCHEMA}.{a} \
                                 EXCEPT SELECT id, account, amount FROM {SCHEMA}.{b}) d"
                            )
                        };
                        let one: i64 = client.query_one(&q("expected_spend", "spend"), &[]).await.unwrap().get(0);
                        let two: i64 = client.query_one(&q("spend", "expected_spend"), &[]).await.unwrap().get(0);
                        one + two
                    });
                    assert_eq!(n as usize, 2 * WRONG);
                    let d = t.elapsed();
                    sql.push(d);
                    d
                })
                .sum()
        })
    });
    group.bench_function("faultline_expectations", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| {
                    let t = Instant::now();
                    let (tables, missing) = rt
                        .block_on(faultline_runner::expectations::read_tables(
                            &client,
                            SCHEMA,
                            spec.columns(),
                            Path::new("bench.toml"),
                        ))
                        .unwrap();
                    assert!(missing.is_empty());
                    let outcome = check(&spec, &records, &tables).unwrap();
                    assert_eq!(outcome.anomalies.len(), WRONG);
                    let d = t.elapsed();
                    ours.push(d);
                    d
                })
                .sum()
        })
    });
    group.finish();
    let (o, s) = (median(ours), median(sql));
    println!(
        "EXPECT 1M rows: faultline read + check {:.2} s, SQL EXCEPT both ways {:.2} s",
        o.as_secs_f64(),
        s.as_secs_f64()
    );
    report_ratio("expectations check vs SQL EXCEPT", o, s);
    rt.block_on(client.batch_execute(&format!("DROP SCHEMA {SCHEMA} CASCADE")))
        .unwrap();
    drop(stack);
}

criterion_group!(benches, bench);
criterion_main!(benches);
