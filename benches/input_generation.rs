//! Records generated from a user's schema (`[input] schema`, crate `faultline-schemagen`) against
//! the reference ledger generator, in the same run: records per second for the same count, and the
//! ratio. The schema input is examples/spend-python's (its JSON Schema and `[input.fields]`
//! rules: hot keys, monotonic event times), with the smoke scenario's record faults on top
//! (`faultline_workload::from_made`, schema-level malformed copies included), as a run makes it.

use std::path::Path;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use faultline_benches::{median, report_ratio};
use faultline_manifest::Input;
use faultline_workload::{generate, WorkloadSpec};

const EVENTS: u64 = 20_000;

fn bench(c: &mut Criterion) {
    let manifest =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/spend-python/faultline.toml");
    let m = faultline_manifest::load::load(&manifest).expect("the spend manifest loads");
    let Some(Input::Schema(input)) = m.input else {
        panic!("examples/spend-python has an [input] schema")
    };
    let spec: WorkloadSpec = serde_json::from_value(serde_json::json!({
        "seed": 101, "events": EVENTS, "duplicate_ratio": 0.1, "malformed_ratio": 0.04,
        "out_of_order_window": 50, "poison_pills": 5
    }))
    .expect("spec");

    let (mut ledger, mut schema) = (Vec::new(), Vec::new());
    let mut group = c.benchmark_group("input_generation");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(1))
        .measurement_time(Duration::from_secs(20));
    group.bench_function("ledger_generator", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| {
                    let t = Instant::now();
                    let w = generate(&spec).expect("ledger workload");
                    assert!(w.records.len() as u64 >= EVENTS);
                    let d = t.elapsed();
                    ledger.push(d);
                    d
                })
                .sum()
        })
    });
    group.bench_function("schema_generator", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| {
                    let t = Instant::now();
                    let w =
                        faultline_runner::schema_workload(&input, &spec).expect("schema workload");
                    assert!(w.records.len() as u64 >= EVENTS);
                    let d = t.elapsed();
                    schema.push(d);
                    d
                })
                .sum()
        })
    });
    group.finish();
    let (l, s) = (median(ledger), median(schema));
    println!(
        "INPUT {EVENTS} events: ledger generator {:.0} events/s ({:.3} s), schema generator {:.0} events/s ({:.3} s)",
        EVENTS as f64 / l.as_secs_f64(),
        l.as_secs_f64(),
        EVENTS as f64 / s.as_secs_f64(),
        s.as_secs_f64()
    );
    report_ratio("schema generator vs ledger generator", s, l);
}

criterion_group!(benches, bench);
criterion_main!(benches);
