//! One scenario run with one seed on a running stack: start the workers, send the workload while
//! the planned faults happen, wait for the pipeline to catch up, stop it, and check the end state.

pub mod check_role;
mod checks;
pub mod dead_letters;
pub mod enrichment;
mod environment;
mod faults;
pub mod produce;
pub mod progress;
mod replay;
mod stack;
mod timeline;
mod workers;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use faultline_report::{CheckResult, FaultEvent, RunStats, Sample};
use faultline_scenario::{PlannedFault, Scenario};
use faultline_workload::Workload;
use tokio::time::Instant;

pub(crate) use stack::{check_backend_supports, start as start_stack, Infra};

use self::checks::CheckInput;
use self::enrichment::ProfileService;
use self::environment::worker_spec;
use self::faults::FaultEnv;
use self::produce::produce;
use self::progress::{
    catch_up_budget, wait_caught_up, watch, Placeholders, ProgressReader, ProgressSource,
    StallRule, Watch,
};
use self::stack::{create_topics, Names};
use self::timeline::Progress;
use self::workers::{stop_gracefully, WorkerPool};
use crate::comparison::{self, Baseline, CompareSetup, LiveComparison};
use crate::error::{Result, RunnerError};

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
    pub baseline: Option<&'a Baseline>,
}

/// What a run found, before it becomes a report.
pub struct RunOutcome {
    pub checks: Vec<CheckResult>,
    pub faults: Vec<FaultEvent>,
    pub stats: RunStats,
    pub samples: Vec<Sample>,
    /// `[compare]`: the models compared from what landed.
    pub comparison: Option<LiveComparison>,
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
    let spec = worker_spec(
        infra,
        s,
        input.defect.as_deref(),
        &names,
        profiles.as_deref(),
        &input.log_dir,
    )?;
    let pool = Arc::new(Mutex::new(WorkerPool::new(spec.clone())));
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
    let seen = Mutex::new(Watch::default());
    // The reference pipeline's source; the pipeline manifest (issue 14) will supply the others.
    let source = ProgressSource::ledger().substitute(&Placeholders {
        schema: &names.schema,
        input_topic: &names.topic,
        group_id: &names.group,
    });
    let reader = ProgressReader::new(
        &source,
        &infra.bootstrap(),
        infra.harness_pg(),
        &names.topic,
        s.infra.partitions,
    )?;
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
        let (produced, timeline) =
            tokio::join!(producer, timeline::execute(input.plan, &env, &progress));
        let produced = produced?;
        let stall = StallRule {
            limit: Duration::from_secs(s.stall_limit_s()),
            healed_ms: timeline.healed_ms,
        };
        let caught_up = wait_caught_up(
            infra,
            &names,
            s.infra.partitions,
            &pool,
            catch_up_budget(s, start),
            start,
            &seen,
            stall,
        )
        .await;
        Ok::<_, RunnerError>((produced, timeline.events, caught_up?))
    };
    let sampler = watch(
        reader,
        start,
        &counter,
        total,
        &stop_sampling,
        &seen,
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
    let unexpected = pool.lock().expect("pool").unexpected_exits.clone();

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
    let oracle = checks::oracle(&ci).await?;
    checks.extend(oracle.checks);
    // Before the replay check, which runs the pipeline over its input again.
    let (dead_letters, dlq_total, dlq_distinct) =
        checks::dead_letters(&ci, &infra.bootstrap(), s.pipeline.guarantee).await?;
    checks.push(dead_letters);
    checks.extend(checks::data_checks(&ci, &s.checks.data).await?);
    if s.checks.replay {
        checks.push(match &oracle.missing {
            Some(why) => checks::cannot_run("replay", why),
            None => replay::replay(&ci, &spec).await?,
        });
    }
    // The models compared from what landed; agreement with the fault-free baseline.
    let comparison = match (CompareSetup::load(s, input.seed)?, &oracle.missing) {
        (Some(_), Some(why)) => {
            checks.push(checks::cannot_run("model_comparison", why));
            None
        }
        (Some(setup), None) => {
            let (live, check) = comparison::live_comparison(
                infra.harness_pg(),
                &names.schema,
                input.workload,
                &setup,
            )
            .await?;
            checks.push(check);
            checks.extend(input.baseline.map(|b| comparison::agreement(&live, b)));
            Some(live)
        }
        (None, _) => None,
    };
    let stats = RunStats {
        produced: total,
        committed: caught_up.committed,
        dlq: dlq_total,
        dlq_distinct,
        duration_ms: start.elapsed().as_millis() as u64,
        workload_digest: input.workload.digest(),
    };
    let samples = samples.into_inner().expect("samples");
    Ok(RunOutcome {
        checks: checks.into_iter().map(CheckResult::capped).collect(),
        faults: events,
        stats,
        samples,
        comparison,
        end_state: oracle.end_state,
    })
}
