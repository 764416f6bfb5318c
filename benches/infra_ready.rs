//! Time-to-ready of a single-broker stack (Kafka + Postgres) per backend, against a baseline measured
//! in the same run: the bare cost of starting the same runtimes without any readiness work
//! (`java -version` for processes, `docker run --rm <postgres image> true` for containers).
//! Targets: ready in <= 15 s with containers and <= 8 s with processes on a 2-core machine.

use std::process::Command;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use faultline_benches::{median, report_ratio};
use faultline_infra::{backend::start, BackendKind, StackSpec};

fn time_to_ready(rt: &tokio::runtime::Runtime, kind: BackendKind) -> Duration {
    rt.block_on(async {
        let t = Instant::now();
        let stack = start(kind, &StackSpec::single())
            .await
            .expect("stack starts");
        let ready = t.elapsed();
        stack.teardown().await.expect("teardown");
        ready
    })
}

fn baseline(kind: BackendKind) -> Duration {
    let t = Instant::now();
    let status = match kind {
        BackendKind::Containers => {
            let image =
                std::env::var("FAULTLINE_POSTGRES_IMAGE").unwrap_or_else(|_| "postgres:17".into());
            Command::new("docker")
                .args(["run", "--rm", "--entrypoint", "true", &image])
                .status()
        }
        _ => Command::new("java")
            .arg("-version")
            .output()
            .map(|o| o.status),
    };
    assert!(status.expect("baseline command runs").success());
    t.elapsed()
}

fn bench_ready(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let mut kinds = vec![BackendKind::Processes];
    if rt.block_on(faultline_infra::docker_available()) {
        kinds.push(BackendKind::Containers);
    }
    let mut group = c.benchmark_group("infra_ready");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(60))
        .warm_up_time(Duration::from_millis(1));
    for kind in kinds {
        let mut readies = Vec::new();
        let mut bases = Vec::new();
        group.bench_function(format!("{kind}_single_broker"), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let r = time_to_ready(&rt, kind);
                    readies.push(r);
                    total += r;
                }
                total
            })
        });
        for _ in 0..5 {
            bases.push(baseline(kind));
        }
        report_ratio(
            &format!("infra_ready/{kind} (median of {})", readies.len()),
            median(readies),
            median(bases),
        );
    }
    group.finish();
}

criterion_group!(benches, bench_ready);
criterion_main!(benches);
