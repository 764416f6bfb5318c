//! One scenario run with one seed on a running stack: start the workers, send the workload while
//! the planned faults happen, wait for the pipeline to catch up, stop it, and check the end state.

pub mod check_role;
mod checks;
pub mod dead_letters;
pub mod enrichment;
mod environment;
pub mod expectations;
mod expected_dead_letters;
mod faults;
pub mod golden;
pub mod output;
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
use self::output::OutputState;
use self::produce::produce;
use self::progress::{
    catch_up_budget, wait_caught_up, watch, ProgressReader, ProgressSource, StallRule, Watch,
};
use self::stack::{create_topics, Names};
use self::timeline::Progress;
use self::workers::{stop_gracefully, WorkerPool, WorkerSpec};
use crate::comparison::{self, Baseline, CompareSetup, LiveComparison};
use crate::error::{Result, RunnerError};
use crate::pipeline::{ready, setup, Pipeline};
use faultline_manifest::{Builtin, Placeholder, Progress as ManifestProgress};

/// Everything one run is given.
pub struct RunInput<'a> {
    /// The pipeline under test.
    pub pipeline: &'a Arc<Pipeline>,
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
    /// The fault-free run's output tables (same workload and seed) this run's must equal: the
    /// `differential` check. `None` skips it.
    pub expected_output: Option<&'a OutputState>,
}

/// What a run found, before it becomes a report.
pub struct RunOutcome {
    pub checks: Vec<CheckResult>,
    pub faults: Vec<FaultEvent>,
    pub stats: RunStats,
    pub samples: Vec<Sample>,
    /// `[compare]`: the models compared from what landed.
    pub comparison: Option<LiveComparison>,
    /// The normalized summary of the end state (for golden snapshots): the ledger oracle's, or
    /// the manifest's output tables.
    pub end_state: serde_json::Value,
    /// The manifest's output tables as the run left them (empty without `[[output]]`).
    pub output: OutputState,
}

/// Starts the run's first `count` workers and waits until each is ready (the manifest's `[ready]`).
/// A worker that is not ready in time stops them all and fails the run with its last log lines.
async fn start_workers(pool: &Arc<Mutex<WorkerPool>>, spec: &WorkerSpec, count: u32) -> Result<()> {
    let mut started = Vec::new();
    for _ in 0..count {
        started.push(pool.lock().expect("pool").start()?);
    }
    for n in started {
        let (values, log) = {
            let p = pool.lock().expect("pool");
            (
                p.values_of(n).cloned().expect("a started worker"),
                p.log_path(n),
            )
        };
        let alive = || {
            let mut p = pool.lock().expect("pool");
            p.reap_exits();
            p.is_live(n)
        };
        let waited = ready::wait(
            &spec.pipeline.manifest.ready,
            &spec.values,
            &values,
            &log,
            alive,
        )
        .await;
        if let Err(e) = waited {
            let all = pool.lock().expect("pool").take_all();
            stop_gracefully(all, Duration::from_secs(5)).await;
            return Err(e);
        }
    }
    Ok(())
}

/// Whether each valid transaction of the workload was sent while a fault was active (any of its
/// records, for a duplicated one), by transaction id: the robustness split.
fn sent_in_fault_window(
    workload: &Workload,
    produced: &produce::Produced,
    events: &[FaultEvent],
) -> std::collections::BTreeMap<String, bool> {
    let mut out = std::collections::BTreeMap::new();
    for r in &workload.records {
        if !matches!(r.expect, faultline_workload::Expectation::Valid { .. }) {
            continue;
        }
        let Ok(e) = faultline_workload::validate(&r.value) else {
            continue;
        };
        let inside = produced
            .sent_at_ms
            .get(r.seq as usize)
            .is_some_and(|&t| !timeline::active_at(events, t).is_empty());
        *out.entry(e.transaction_id).or_insert(false) |= inside;
    }
    out
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
        input.pipeline,
        infra,
        s,
        input.defect.as_deref(),
        &names,
        profiles.as_deref(),
        &input.log_dir,
    )?;
    setup::run(
        &spec.pipeline,
        infra.harness_pg(),
        &names.schema,
        &spec.values,
    )
    .await?;
    let pool = Arc::new(Mutex::new(WorkerPool::new(spec.clone())));
    start_workers(&pool, &spec, s.pipeline.workers).await?;

    let start = Instant::now();
    let produced_count = AtomicU64::new(0);
    let producing_done = AtomicBool::new(false);
    let stop_sampling = AtomicBool::new(false);
    let samples = Mutex::new(Vec::new());
    let seen = Mutex::new(Watch::default());
    // How the manifest says progress is observed.
    let source = match &spec.pipeline.manifest.progress {
        ManifestProgress::KafkaGroup => ProgressSource::KafkaGroup {
            group_id: names.group.clone(),
        },
        ManifestProgress::Sql(q) => ProgressSource::Sql {
            query: spec.values.render(q, None, "progress.query")?,
        },
        ManifestProgress::Quiet(quiet) => ProgressSource::Quiet {
            tables: spec
                .pipeline
                .manifest
                .outputs
                .iter()
                .map(|o| format!("{}.{}", names.schema, o.table))
                .collect(),
            quiet: *quiet,
        },
    };
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
        gates: Default::default(),
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
            quiet: match &source {
                ProgressSource::Quiet { quiet, .. } => Some(*quiet),
                _ => None,
            },
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
    let next_worker = pool.lock().expect("pool").next_number();

    let mut checks = Vec::new();
    checks.push(caught_up.check);
    checks.push(checks::faults_injected(&events));
    checks.extend(checks::in_transaction_missed(&events));
    checks.push(checks::workers_stayed_up(&unexpected));
    let ci = CheckInput {
        pg: infra.harness_pg(),
        names: &names,
        workload: input.workload,
        produced: &produced,
        high_watermarks: &caught_up.high_watermarks,
        events: &events,
    };
    let m = &input.pipeline.manifest;
    let output = {
        let client = infra.harness_pg().connect().await?;
        OutputState::read(&client, &names.schema, &m.outputs).await?
    };
    // `missing`: why checks that need the whole end state cannot run (no tables were written).
    let (end_state, missing) = match m.expectations {
        Some(Builtin::Ledger) => {
            let oracle = checks::oracle(&ci).await?;
            checks.extend(oracle.checks);
            (oracle.end_state, oracle.missing)
        }
        None => {
            let missing = (!output.missing.is_empty()).then(|| {
                format!(
                    "output tables {} do not exist in schema `{}`: the pipeline wrote nothing there",
                    output.missing.join(", "),
                    names.schema
                )
            });
            (output.summary(), missing)
        }
    };
    // Dead letters before the replay check, which runs the pipeline over its input again.
    // Judged for the ledger and for any pipeline whose manifest hands it the dead-letter topic.
    let declared_dead_letters = m.expect.as_ref().and_then(|e| e.dead_letter.as_ref());
    let (dlq_total, dlq_distinct) = if let Some(dl) = declared_dead_letters {
        let spec = m.expect.as_ref().expect("dead_letter is inside [expect]");
        let letters = match dl.target() {
            Ok(faultline_expect::DeadLetterTarget::Table(table)) => {
                let client = infra.harness_pg().connect().await?;
                expected_dead_letters::read_table(&client, &names.schema, table, dl, &m.file)
                    .await?
            }
            _ => {
                let raw = dead_letters::read(
                    &infra.bootstrap(),
                    &names.dlq_topic,
                    dead_letters::READ_BUDGET,
                )
                .await?;
                expected_dead_letters::from_topic(&raw, dl)
            }
        };
        let sent = expected_dead_letters::refusals(spec, input.workload, &produced)?;
        checks.push(expected_dead_letters::check(
            dl,
            &sent,
            &letters,
            m.guarantee,
            &produced,
            &events,
        ));
        let distinct: std::collections::BTreeSet<(i32, i64)> =
            letters.iter().filter_map(|l| l.source).collect();
        (letters.len() as u64, distinct.len() as u64)
    } else if m.expectations.is_some() || m.uses(Placeholder::DlqTopic) {
        let (dead_letters, total, distinct) =
            checks::dead_letters(&ci, &infra.bootstrap(), m.guarantee).await?;
        checks.push(dead_letters);
        (total, distinct)
    } else {
        (0, 0)
    };
    if let Some(expected) = input.expected_output {
        let by_position: std::collections::BTreeMap<(i32, i64), u64> = produced
            .placement
            .iter()
            .map(|(seq, pos)| (*pos, *seq))
            .collect();
        let sent_at = |p: i32, o: i64| {
            by_position
                .get(&(p, o))
                .and_then(|seq| produced.sent_at_ms.get(*seq as usize).copied())
        };
        checks.push(output::differential(
            expected,
            &output,
            m.guarantee,
            &sent_at,
            &events,
        ));
    }
    if let Some(spec) = &m.expect {
        let client = infra.harness_pg().connect().await?;
        let records = expectations::input_records(input.workload, &produced);
        let commanded =
            expectations::commanded_rows(spec, &records, &input.log_dir, &m.cwd, &m.file).await?;
        let columns = expectations::columns_to_check(spec, &commanded);
        let (tables, missing) =
            expectations::read_tables(&client, &names.schema, columns, &m.file).await?;
        checks.push(expectations::check(
            spec,
            &records,
            &tables,
            &commanded,
            &missing,
            m.guarantee,
            &events,
        )?);
    }
    checks.extend(checks::data_checks(&ci, &s.checks.data).await?);
    if s.checks.replay {
        checks.push(match (&missing, m.expectations) {
            (Some(why), _) => checks::cannot_run("replay", why),
            (None, Some(Builtin::Ledger)) => replay::replay(&ci, &spec, next_worker).await?,
            (None, None) => {
                replay::replay_outputs(&replay::ReplayInput {
                    infra,
                    names: &names,
                    scenario: s,
                    spec: &spec,
                    first_worker: next_worker,
                    source: &source,
                    before: &output,
                })
                .await?
            }
        });
    }
    // The models compared from what landed; against the fault-free baseline, the scores stored
    // exactly once and each model's robustness under the faults.
    let comparison = match (CompareSetup::load(s, input.seed)?, &missing) {
        (Some(_), Some(why)) => {
            checks.push(checks::cannot_run("model_comparison", why));
            None
        }
        (Some(setup), None) => {
            let mut live = comparison::live_comparison(
                infra.harness_pg(),
                &names.schema,
                input.workload,
                &setup,
            )
            .await?;
            if let Some(b) = input.baseline {
                let on_fallback = live
                    .landed
                    .iter()
                    .filter(|(_, l)| l.fallback)
                    .map(|(id, _)| id.clone())
                    .collect();
                let fallback = comparison::Fallback {
                    scores: comparison::default_profile_scores(
                        input.workload,
                        &on_fallback,
                        &setup,
                    )
                    .await?,
                    enrichment_faults: events
                        .iter()
                        .any(|e| e.kind.starts_with("enrichment") && e.outcome.was_injected()),
                };
                checks.push(comparison::scores_stored_exactly_once(&live, b, &fallback));
                let windows = sent_in_fault_window(input.workload, &produced, &events);
                checks.push(comparison::attach_robustness(
                    &mut live, b, &windows, &setup,
                ));
            }
            checks.push(comparison::comparison_check(&live));
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
        end_state,
        output,
    })
}
