//! One scenario run with one seed on a running stack: start the workers, send the workload while
//! the planned faults happen, wait for the pipeline to catch up, stop it, and check the end state.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use faultline_report::{CheckResult, FaultEvent, RunStats, Sample};
use faultline_scenario::{PlannedFault, Scenario};
use faultline_workload::Workload;
use tokio::time::Instant;

use crate::checks::{self, CheckInput};
use crate::enrichment::ProfileService;
use crate::error::{Result, RunnerError};
use crate::faults::FaultEnv;
use crate::produce::{produce, Produced};
use crate::progress::{catch_up_budget, sample_progress, wait_caught_up};
use crate::setup::{create_topics, Infra, Names};
use crate::timeline::{self, Progress};
use crate::workers::{reference_worker, stop_gracefully, WorkerPool, WorkerSpec};

/// Everything one run is given.
pub struct RunInput<'a> {
    pub scenario: &'a Scenario,
    pub seed: u64,
    pub defect: Option<String>,
    pub workload: &'a Workload,
    pub plan: &'a [PlannedFault],
    /// Where worker logs go (kept in the bundle on failure).
    pub log_dir: PathBuf,
    /// Print progress lines to stderr.
    pub progress: bool,
    /// `[compare] baseline = true`: the fault-free run's comparison this run must agree with.
    pub baseline: Option<&'a crate::compare::Baseline>,
}

/// What a run found, before it becomes a report.
pub struct RunOutcome {
    pub checks: Vec<CheckResult>,
    pub faults: Vec<FaultEvent>,
    pub stats: RunStats,
    pub samples: Vec<Sample>,
    pub names: Names,
    pub produced: Produced,
    pub worker_logs: Vec<PathBuf>,
    /// `[compare]`: the models compared from what landed.
    pub comparison: Option<crate::compare::LiveComparison>,
    /// The oracle's normalized summary of the end state (for golden snapshots).
    pub end_state: serde_json::Value,
}

/// Runs the scenario on `infra`. Errors mean the run could not finish; failed checks are in the outcome.
pub async fn run(infra: &Infra, input: &RunInput<'_>) -> Result<RunOutcome> {
    let s = input.scenario;
    let names = Names::new(&s.name, input.seed);
    create_topics(infra, &names, s.infra.partitions).await?;
    let profiles = if s.pipeline.enrichment {
        Some(Arc::new(ProfileService::start().await))
    } else {
        None
    };
    std::fs::create_dir_all(&input.log_dir).map_err(|e| RunnerError::Io {
        path: input.log_dir.clone(),
        source: e,
    })?;
    let pool = Arc::new(Mutex::new(WorkerPool::new(worker_spec(
        infra,
        input,
        &names,
        profiles.as_deref(),
    )?)));
    {
        let mut p = pool.lock().expect("pool");
        for _ in 0..s.pipeline.workers {
            p.start()?;
        }
    }

    let start = Instant::now();
    let produced_count = AtomicU64::new(0);
    let producing_done = AtomicBool::new(false);
    let stop_sampling = AtomicBool::new(false);
    let samples = Mutex::new(Vec::new());
    let env = FaultEnv {
        stack: infra.stack.as_ref(),
        workers: pool.clone(),
        kafka_proxies: &infra.kafka_proxies,
        postgres_proxy: infra.postgres_proxy.as_ref(),
        profiles: profiles.clone(),
    };
    let counter = Arc::new(AtomicU64::new(0));
    let progress = Progress {
        start,
        produced: &produced_count,
        producing_done: &producing_done,
    };
    let total = input.workload.records.len() as u64;

    let producer = async {
        // The triggers watch `produced_count`; the producer bumps `counter` as it hands records over.
        let mirror = async {
            while !producing_done.load(Ordering::Relaxed) {
                produced_count.store(counter.load(Ordering::Relaxed), Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        };
        let send = async {
            let r = produce(
                &infra.bootstrap(),
                &names.topic,
                input.workload,
                s.producer.rate,
                start,
                counter.clone(),
            )
            .await;
            produced_count.store(counter.load(Ordering::Relaxed), Ordering::Relaxed);
            producing_done.store(true, Ordering::Relaxed);
            r
        };
        tokio::join!(mirror, send).1
    };
    let main = async {
        let (produced, events) =
            tokio::join!(producer, timeline::execute(input.plan, &env, &progress));
        let produced = produced?;
        let caught_up = wait_caught_up(
            infra,
            &names,
            s.infra.partitions,
            &pool,
            catch_up_budget(s, start),
        )
        .await;
        Ok::<_, RunnerError>((produced, events, caught_up?))
    };
    let sampler = sample_progress(
        infra,
        &names,
        start,
        &counter,
        total,
        &stop_sampling,
        &samples,
        &s.name,
        input.progress,
    );
    let (result, ()) = tokio::join!(
        async {
            let r = main.await;
            stop_sampling.store(true, Ordering::Relaxed);
            r
        },
        sampler
    );
    let stop_workers = || pool.lock().expect("pool").take_all();
    let (produced, events, caught_up) = match result {
        Ok(r) => r,
        Err(e) => {
            stop_gracefully(stop_workers(), Duration::from_secs(5)).await;
            return Err(e);
        }
    };
    let children = pool.lock().expect("pool").take_all();
    stop_gracefully(children, Duration::from_secs(20)).await;
    let (unexpected, worker_logs) = {
        let p = pool.lock().expect("pool");
        (p.unexpected_exits.clone(), p.logs())
    };

    let mut checks = Vec::new();
    checks.push(caught_up.check);
    checks.push(checks::faults_injected(&events));
    checks.push(checks::workers_stayed_up(&unexpected));
    let ci = CheckInput {
        pg: infra.harness_pg(),
        names: &names,
        workload: input.workload,
        produced: &produced,
        high_watermarks: &caught_up.high_watermarks,
        events: &events,
    };
    let (oracle_checks, end_state) = checks::oracle(&ci).await?;
    checks.extend(oracle_checks);
    checks.extend(checks::data_checks(&ci, &s.checks.data).await?);
    if s.checks.replay {
        checks.push(
            checks::replay(
                &ci,
                &worker_spec(infra, input, &names, profiles.as_deref())?,
            )
            .await?,
        );
    }
    // [compare] (compare.rs): the models compared from what landed; agreement with the fault-free baseline.
    let comparison = match crate::compare::CompareSetup::load(s, input.seed)? {
        Some(setup) => {
            let (live, check) = crate::compare::live_comparison(
                infra.harness_pg(),
                &names.schema,
                input.workload,
                &setup,
            )
            .await?;
            checks.push(check);
            checks.extend(input.baseline.map(|b| crate::compare::agreement(&live, b)));
            Some(live)
        }
        None => None,
    };
    // end [compare]
    let stats = RunStats {
        produced: total,
        committed: caught_up.committed,
        dlq: crate::progress::high_watermarks(&infra.bootstrap(), &names.dlq_topic, 1)
            .await
            .map(|h| h.values().sum::<i64>() as u64)
            .unwrap_or(0),
        duration_ms: start.elapsed().as_millis() as u64,
        workload_digest: input.workload.digest(),
    };
    let samples = samples.into_inner().expect("samples");
    Ok(RunOutcome {
        checks,
        faults: events,
        stats,
        samples,
        names,
        produced,
        worker_logs,
        comparison,
        end_state,
    })
}

/// The environment of every worker: the process contract's variables plus the scenario's extras.
fn worker_spec(
    infra: &Infra,
    input: &RunInput<'_>,
    names: &Names,
    profiles: Option<&ProfileService>,
) -> Result<WorkerSpec> {
    let s = input.scenario;
    let command = if s.pipeline.command.is_empty() {
        vec![reference_worker()?.display().to_string()]
    } else {
        s.pipeline.command.clone()
    };
    let mut env: BTreeMap<String, String> = BTreeMap::new();
    let mut set = |k: &str, v: String| {
        env.insert(k.to_string(), v);
    };
    set("FAULTLINE_KAFKA_BOOTSTRAP", infra.bootstrap());
    set("FAULTLINE_INPUT_TOPIC", names.topic.clone());
    set("FAULTLINE_DLQ_TOPIC", names.dlq_topic.clone());
    set("FAULTLINE_GROUP_ID", names.group.clone());
    set(
        "FAULTLINE_POSTGRES_URL",
        infra.pipeline_pg().url_with_password(),
    );
    set("FAULTLINE_PG_SCHEMA", names.schema.clone());
    set("FAULTLINE_RUN_ID", names.run_id.clone());
    // Info: a failure bundle then tells each worker's assignments, seeks and retries.
    set("FAULTLINE_LOG", "info".into());
    if let Some(p) = profiles {
        set("FAULTLINE_ENRICH_URL", p.uri());
    }
    if let Some(d) = &input.defect {
        set("FAULTLINE_DEFECT", d.clone());
    }
    if let Some(m) = &s.pipeline.champion {
        set("FAULTLINE_CHAMPION_MODEL", m.clone());
    }
    if let Some(m) = &s.pipeline.challenger {
        set("FAULTLINE_CHALLENGER_MODEL", m.clone());
    }
    for (k, v) in &s.pipeline.env {
        set(k, v.clone());
    }
    Ok(WorkerSpec {
        command,
        env,
        log_dir: input.log_dir.clone(),
    })
}
