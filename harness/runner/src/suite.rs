//! `faultline run` and `faultline repro`: scenarios × seeds, sharded, on stacks shared between runs
//! with the same broker count; a report per run, a bundle per failure, the suite's reports at the end.

use std::path::{Path, PathBuf};
use std::time::Duration;

use faultline_infra::BackendKind;
use faultline_report::{RunReport, RunStats, SuiteReport, Verdict};
use faultline_scenario::{PlannedFault, Scenario};
use faultline_workload::Workload;

use crate::bundle;
use crate::error::{Result, RunnerError};
use crate::run::{run, RunInput};
use crate::setup::{self, check_backend_supports, Infra};

/// What `faultline run` was asked.
#[derive(Debug, Clone)]
pub struct SuiteOptions {
    /// A scenario file or a directory of them.
    pub target: PathBuf,
    /// In a directory, only files whose names start with this (e.g. `smoke`).
    pub prefix: Option<String>,
    /// Overrides every scenario's `workload.seed`.
    pub seed: Option<u64>,
    /// Runs each scenario with this many consecutive seeds from its seed. Default 1.
    pub seeds: u32,
    /// Overrides every scenario's `infra.backend`.
    pub backend: Option<BackendKind>,
    /// Overrides every scenario's `pipeline.defect`.
    pub defect: Option<String>,
    /// Where reports and bundles go.
    pub out: PathBuf,
    /// `(i, n)`: run only scenarios whose index (in name order) is `i - 1` modulo `n`.
    pub shard: Option<(u32, u32)>,
    /// Print progress lines.
    pub progress: bool,
}

/// One planned run.
struct Job {
    file: PathBuf,
    scenario: Scenario,
    seed: u64,
    workload: Option<Workload>,
    plan: Option<Vec<PlannedFault>>,
}

/// Runs the suite. Errors are problems before anything ran (bad scenario, bad flags); a run that
/// could not finish is reported with verdict `error` instead.
pub async fn run_suite(opts: &SuiteOptions) -> Result<SuiteReport> {
    let mut all = faultline_scenario::load::load_target(&opts.target, opts.prefix.as_deref())?;
    if let Some((i, n)) = opts.shard {
        if n == 0 || i == 0 || i > n {
            return Err(RunnerError::Usage(format!(
                "--shard {i}/{n}: expected I/N with 1 <= I <= N"
            )));
        }
        all = all
            .into_iter()
            .enumerate()
            .filter(|(k, _)| *k as u32 % n == i - 1)
            .map(|(_, x)| x)
            .collect();
    }
    let mut jobs = Vec::new();
    for (file, mut scenario) in all {
        scenario.resolve_paths(file.parent().unwrap_or(Path::new(".")));
        let base = opts.seed.unwrap_or(scenario.workload.seed);
        for k in 0..opts.seeds.max(1) {
            jobs.push(Job {
                file: file.clone(),
                scenario: scenario.clone(),
                seed: base.wrapping_add(u64::from(k)),
                workload: None,
                plan: None,
            });
        }
    }
    execute(jobs, opts).await
}

/// Reruns a bundle: same scenario file, seed, workload bytes and fault plan.
pub async fn repro(bundle_dir: &Path, opts: &SuiteOptions) -> Result<(SuiteReport, Verdict)> {
    let b = bundle::read(bundle_dir)?;
    let mut scenario = faultline_scenario::load::load(&bundle_dir.join(bundle::SCENARIO))?;
    // Relative model/policy paths are relative to where the scenario file was, not to the bundle.
    scenario.resolve_paths(
        Path::new(&b.meta.scenario_file)
            .parent()
            .unwrap_or(Path::new(".")),
    );
    let mut opts = opts.clone();
    if opts.defect.is_none() {
        opts.defect = b.meta.defect.clone();
    }
    if opts.backend.is_none() {
        opts.backend = b.meta.backend.parse().ok();
    }
    opts.target = b.dir.clone();
    let job = Job {
        file: bundle_dir.join(bundle::SCENARIO),
        scenario,
        seed: b.meta.seed,
        workload: Some(b.workload),
        plan: Some(b.plan),
    };
    Ok((execute(vec![job], &opts).await?, b.meta.verdict))
}

async fn execute(jobs: Vec<Job>, opts: &SuiteOptions) -> Result<SuiteReport> {
    let now = time::OffsetDateTime::now_utc();
    let started_at = now
        .replace_nanosecond(0)
        .unwrap_or(now)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let t0 = std::time::Instant::now();
    std::fs::create_dir_all(&opts.out).map_err(|e| RunnerError::Io {
        path: opts.out.clone(),
        source: e,
    })?;
    // Everything is validated before the first stack starts: a bad scenario costs no time.
    let mut prepared = Vec::new();
    for job in jobs {
        let workload = match job.workload {
            Some(w) => w,
            None => {
                let mut spec = job.scenario.workload.clone();
                spec.seed = job.seed;
                spec.partitions = job.scenario.infra.partitions;
                faultline_workload::generate(&spec)?
            }
        };
        let plan = match job.plan {
            Some(p) => p,
            None => faultline_scenario::plan(&job.scenario, job.seed).map_err(|mut e| {
                e.file = job.file.display().to_string();
                e
            })?,
        };
        let kind = opts.backend.unwrap_or(job.scenario.infra.backend);
        check_backend_supports(kind, &plan)?;
        crate::compare::CompareSetup::load(&job.scenario, job.seed)?; // [compare] files readable before any stack starts
        prepared.push((job.file, job.scenario, job.seed, workload, plan, kind));
    }
    // Runs needing the same broker count go together, so each stack starts once.
    prepared.sort_by_key(|p| p.1.infra.brokers);
    let total = prepared.len();
    let mut infra: Option<(BackendKind, Infra)> = None;
    let mut runs = Vec::new();
    for (i, (file, scenario, seed, workload, plan, kind)) in prepared.into_iter().enumerate() {
        let kind = resolve(kind).await;
        let defect = opts.defect.clone().or(scenario.pipeline.defect.clone());
        eprintln!(
            "[{}/{total}] {} seed {seed} on {kind}: {} records, {} faults",
            i + 1,
            scenario.name,
            workload.records.len(),
            plan.len()
        );
        let run_dir = opts
            .out
            .join("runs")
            .join(format!("{}-{seed}", scenario.name));
        let _ = std::fs::remove_dir_all(&run_dir);
        let repro = repro_command(&file, seed, kind, defect.as_deref());
        let mut report = RunReport {
            scenario: scenario.name.clone(),
            scenario_file: file.display().to_string(),
            seed,
            backend: kind.to_string(),
            defect: defect.clone(),
            verdict: Verdict::Error,
            error: None,
            checks: Vec::new(),
            faults: Vec::new(),
            stats: RunStats {
                produced: workload.records.len() as u64,
                workload_digest: workload.digest(),
                ..RunStats::default()
            },
            samples: Vec::new(),
            repro,
            bundle: None,
            end_state: None,
            stalls: Vec::new(),
        };
        // Reuse the stack when the broker count matches; start a fresh one otherwise.
        let reuse =
            matches!(&infra, Some((k, inf)) if *k == kind && inf.brokers == scenario.infra.brokers);
        if !reuse {
            if let Some((_, old)) = infra.take() {
                let _ = old.teardown().await;
            }
            eprintln!(
                "  starting a {kind} stack with {} broker(s)",
                scenario.infra.brokers
            );
            match setup::start(kind, scenario.infra.brokers, seed).await {
                Ok(inf) => infra = Some((kind, inf)),
                Err(e) => {
                    report.error = Some(format!("could not start the stack: {e}"));
                }
            }
        }
        let mut service_logs = Vec::new();
        if let Some((_, inf)) = &infra {
            inf.reset_proxies();
            // [compare] baseline = true (compare.rs): the same seed without faults first, on this stack.
            let (baseline, baseline_error) = match crate::compare::run_baseline(
                inf,
                &scenario,
                seed,
                defect.clone(),
                &workload,
                &run_dir,
                opts.progress,
            )
            .await
            {
                Ok(b) => (b, None),
                Err(e) => (None, Some(e)),
            };
            let input = RunInput {
                scenario: &scenario,
                seed,
                defect: defect.clone(),
                workload: &workload,
                plan: &plan,
                log_dir: run_dir.join("logs"),
                progress: opts.progress,
                baseline: baseline.as_ref(),
            };
            let limit = Duration::from_secs(scenario.time_limit_s + 120);
            let result = match baseline_error {
                Some(e) => Ok(Err(e)),
                None => tokio::time::timeout(limit, run(inf, &input)).await,
            };
            match result {
                Ok(Ok(outcome)) => {
                    if let Some(live) = &outcome.comparison {
                        if let Err(e) = crate::compare::write_outputs(
                            live,
                            baseline.as_ref(),
                            &run_dir.join(crate::compare::DIR),
                        ) {
                            eprintln!("  could not write the model comparison: {e}");
                        }
                    }
                    report.verdict = if outcome
                        .checks
                        .iter()
                        .any(|c| c.status == faultline_report::CheckStatus::Fail)
                    {
                        Verdict::Fail
                    } else {
                        Verdict::Pass
                    };
                    report.checks = outcome.checks;
                    report.faults = outcome.faults;
                    report.stats = outcome.stats;
                    report.samples = outcome.samples;
                    report.stalls = faultline_report::find_stalls(&report.samples, &report.faults);
                    report.end_state = Some(outcome.end_state);
                }
                Ok(Err(e)) => report.error = Some(e.to_string()),
                Err(_) => {
                    report.error = Some(
                        RunnerError::TimeLimit {
                            limit_s: scenario.time_limit_s,
                            during: "running".into(),
                        }
                        .to_string(),
                    )
                }
            }
            if report.verdict != Verdict::Pass {
                service_logs = inf.stack.logs().await;
            }
        }
        if report.verdict == Verdict::Error {
            // The stack may be in any state after an error: start the next run on a fresh one.
            if let Some((_, old)) = infra.take() {
                let _ = old.teardown().await;
            }
        }
        if report.verdict == Verdict::Pass {
            let _ = std::fs::remove_dir_all(run_dir.join("logs"));
        } else {
            report.bundle = Some(run_dir.display().to_string());
            if let Err(e) = bundle::write(&run_dir, &file, &report, &workload, &plan, &service_logs)
            {
                eprintln!("  could not write the failure bundle: {e}");
            }
        }
        print_outcome(&report);
        runs.push(report);
    }
    if let Some((_, inf)) = infra.take() {
        if let Err(e) = inf.teardown().await {
            eprintln!("faultline: tearing down the stack: {e}");
        }
    }
    let suite = SuiteReport {
        target: opts.target.display().to_string(),
        started_at,
        duration_ms: t0.elapsed().as_millis() as u64,
        runs,
    };
    faultline_report::write_all(&suite, &opts.out)?;
    Ok(suite)
}

/// `auto` becomes the backend it stands for, so reports and repro lines name a real one.
async fn resolve(kind: BackendKind) -> BackendKind {
    match kind {
        BackendKind::Auto if faultline_infra::docker_available().await => BackendKind::Containers,
        BackendKind::Auto => BackendKind::Processes,
        k => k,
    }
}

/// The one command that reruns a run: scenario file, seed, backend and defect.
pub fn repro_command(file: &Path, seed: u64, kind: BackendKind, defect: Option<&str>) -> String {
    let mut cmd = format!(
        "faultline run {} --seed {seed} --backend {kind}",
        file.display()
    );
    if let Some(d) = defect {
        cmd.push_str(&format!(" --defect {d}"));
    }
    cmd
}

fn print_outcome(r: &RunReport) {
    let secs = r.stats.duration_ms as f64 / 1000.0;
    match r.verdict {
        Verdict::Pass => {
            let stall = faultline_report::stall::longest(&r.stalls)
                .map(|st| {
                    format!(
                        ", longest commit stall {:.1} s at {:.1} s",
                        st.duration_ms() as f64 / 1000.0,
                        st.from_ms as f64 / 1000.0
                    )
                })
                .unwrap_or_default();
            eprintln!(
                "  PASS  {} seed {} ({secs:.1} s, {} committed{stall})",
                r.scenario, r.seed, r.stats.committed
            );
        }
        Verdict::Fail | Verdict::Error => {
            let word = if r.verdict == Verdict::Fail {
                "FAIL"
            } else {
                "ERROR"
            };
            eprintln!("  {word}  {} seed {} ({secs:.1} s)", r.scenario, r.seed);
            if let Some(e) = &r.error {
                eprintln!("        {}", e.replace('\n', "\n        "));
            }
            for c in r.failed_checks() {
                eprintln!("        check {}: {}", c.name, c.detail);
                for row in c.failing_rows.iter().take(5) {
                    eprintln!("          {}", serde_json::Value::Object(row.clone()));
                }
            }
            eprintln!("        reproduce: {}", r.repro);
            if let Some(b) = &r.bundle {
                eprintln!("        bundle:    {b}  (faultline repro {b})");
            }
        }
    }
}
