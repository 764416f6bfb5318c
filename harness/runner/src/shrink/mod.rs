//! `faultline shrink`: from a failing bundle to the smallest scenario that still fails with the same
//! anomaly class.
//!
//! The search is greedy delta debugging over the cuts of [`cuts`]: it tries the cuts of the
//! smallest failing case in order (biggest first) and keeps the first that still fails, then starts
//! over from it, skipping any candidate scenario that was already tried and failed to reproduce (the
//! same cut of a smaller case is a new candidate, and is tried); it ends when no cut fails
//! ([`ShrinkStop::Minimal`]) or when the next candidate, running `runs` times as long as the last
//! step's runs took, could end past the time budget ([`ShrinkStop::Budget`]), with the
//! smallest case so far. A run of a concurrent pipeline passes or fails by chance as well as by
//! cause, so every candidate runs up to `runs` times and counts as failing when at least
//! `min_failures` runs fail with one of the bundle's classes; it stops early once that is settled
//! either way. The bundle's own failing run counts as the first of its case's runs.
//!
//! Every candidate's suite goes to `<out>/steps/NN/` (its reports, and bundles of its failing
//! runs); `<out>/shrunk.toml` is the smallest failing scenario, `<out>/shrink.json` the log (kept
//! current after every step), and the suite reports in `<out>` show the smallest case's failing
//! run with the log.
//!
//! Why not proptest's shrinker: it assumes a cheap, deterministic property, removes one element
//! at a time, and has no notion of running a candidate several times. Here a candidate costs a
//! minute of real Kafka and Postgres, so cuts are ordered by how much they remove and judged by a
//! reproduction threshold under a time budget.

pub mod cuts;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use faultline_infra::errln;
use faultline_report::{RunReport, ShrinkLog, ShrinkStep, ShrinkStop, SuiteReport, Verdict};
use faultline_scenario::Scenario;

use crate::error::{Result, RunnerError};
use crate::suite::{bundle, execute_in, Job, Session, SuiteOptions};

/// How hard `shrink` tries.
#[derive(Debug, Clone)]
pub struct ShrinkOptions {
    /// Runs per candidate (k). Default 3.
    pub runs: u32,
    /// Failing runs (with one of the bundle's classes) that make a candidate count as failing.
    /// Default 2.
    pub min_failures: u32,
    /// Once spent, no further candidate starts. Default 10 minutes.
    pub budget: Duration,
}

impl Default for ShrinkOptions {
    fn default() -> Self {
        ShrinkOptions {
            runs: 3,
            min_failures: 2,
            budget: Duration::from_secs(600),
        }
    }
}

impl ShrinkOptions {
    /// Refuses a budget of zero, no runs, or a threshold above the runs.
    pub fn validate(&self) -> Result<()> {
        let usage = |m: String| Err(RunnerError::Usage(m));
        if self.budget.is_zero() {
            return usage("--budget 0: the search needs time to run a candidate; give seconds, e.g. --budget 600".into());
        }
        if self.runs == 0 {
            return usage("--runs 0: each candidate must run at least once; e.g. --runs 3".into());
        }
        if self.min_failures == 0 || self.min_failures > self.runs {
            return usage(format!(
                "--min-failures {}: expected 1..={} (at most --runs)",
                self.min_failures, self.runs
            ));
        }
        Ok(())
    }
}

/// Shrinks the failing run in `bundle_dir`; the suite returned holds the smallest case's failing
/// run (or the bundle's reruns when it did not reproduce) and the log in `shrink`.
pub async fn shrink(
    bundle_dir: &Path,
    opts: &SuiteOptions,
    so: &ShrinkOptions,
) -> Result<SuiteReport> {
    so.validate()?;
    crate::suite::refuse_out_in_bundle(bundle_dir, &opts.out)?;
    let b = bundle::read(bundle_dir)?;
    if b.meta.verdict != Verdict::Fail {
        return Err(RunnerError::Usage(format!(
            "{}: its run's verdict was {}, not fail; shrink needs the bundle of a failing run",
            bundle_dir.display(),
            b.meta.verdict.as_str()
        )));
    }
    let report: RunReport = bundle::read_json(&b.dir.join(bundle::REPORT))?;
    let classes = report.anomaly_classes();
    let mut scenario = faultline_scenario::load::load(&b.dir.join(bundle::SCENARIO))?;
    // The bundle's file is `scenario.toml`: the name is the run's, not the file's.
    scenario.name = report.scenario.clone();
    scenario.resolve_paths(
        Path::new(&b.meta.scenario_file)
            .parent()
            .unwrap_or(Path::new(".")),
    );
    let mut opts = opts.clone();
    opts.defect = opts.defect.clone().or(b.meta.defect.clone());
    opts.backend = opts.backend.or(b.meta.backend.parse().ok());
    opts.group_protocol = opts.group_protocol.or(b
        .meta
        .group_protocol
        .as_deref()
        .and_then(|p| p.parse().ok()));
    opts.pipeline = opts
        .pipeline
        .clone()
        .or(b.meta.pipeline.as_ref().map(PathBuf::from));
    opts.golden = false;
    opts.repeat = 1;
    std::fs::create_dir_all(&opts.out).map_err(|e| io(&opts.out, e))?;
    let _lock = crate::suite::OutLock::acquire(&opts.out)?;

    let started = Instant::now();
    let mut log = ShrinkLog {
        bundle: bundle_dir.display().to_string(),
        classes: classes.clone(),
        runs_per_candidate: so.runs,
        min_failures: so.min_failures,
        budget_s: so.budget.as_secs(),
        before: cuts::size(&scenario),
        after: cuts::size(&scenario),
        steps: Vec::new(),
        stopped: ShrinkStop::Minimal,
        scenario_file: None,
        shrunk_bundle: None,
    };
    let mut search = Search {
        session: Session::new(),
        opts: &opts,
        so,
        classes: &classes,
    };
    errln!(
        "shrink: {} seed {}: {} faults, {} events; must fail with one of {:?} in {} of {} runs",
        scenario.name,
        b.meta.seed,
        log.before.faults,
        log.before.events,
        classes,
        so.min_failures,
        so.runs
    );
    // The bundle's own case first, with its workload bytes and fault plan.
    let first = Job {
        file: b.dir.join(bundle::SCENARIO),
        scenario: scenario.clone(),
        seed: b.meta.seed,
        workload: Some(b.workload.clone()),
        plan: Some(b.plan.clone()),
    };
    let outcome = search
        .try_job(first, "the bundle as it is", 0, Some(&report), &mut log)
        .await;
    let mut best = match outcome {
        Ok(Some(run)) => run,
        Ok(None) => {
            log.stopped = ShrinkStop::NotReproduced;
            return search.finish(log, None, &scenario).await;
        }
        Err(e) => {
            search.session.close().await;
            return Err(e);
        }
    };
    // A candidate that did not reproduce is not run again: each try costs real runs. The key is the
    // candidate itself, so a cut rejected on a bigger case is tried again on a smaller one (halving
    // the events may fail with nine faults and reproduce with the one that matters).
    let mut rejected: std::collections::BTreeSet<String> = Default::default();
    'search: loop {
        for cut in cuts::cuts(&scenario) {
            let key = match scenario_toml(&cut.scenario) {
                Ok(text) => text,
                Err(e) => {
                    search.session.close().await;
                    return Err(e);
                }
            };
            if rejected.contains(&key) {
                continue;
            }
            // A candidate may need all `runs` runs, each about as long as the last step's runs
            // (cuts only make cases smaller): one that could end past the budget is not started,
            // so the search ends within it.
            let next = log.steps.last().map_or(Duration::ZERO, |s| {
                Duration::from_millis(s.duration_ms / u64::from(s.runs.max(1)) * u64::from(so.runs))
            });
            if started.elapsed() + next >= so.budget {
                log.stopped = ShrinkStop::Budget;
                break 'search;
            }
            let step = log.steps.len();
            let file = opts
                .out
                .join(format!("steps/{step:02}/{}.toml", scenario.name));
            if let Err(e) = write_scenario_text(&file, &cut.scenario.name, &key) {
                search.session.close().await;
                return Err(e);
            }
            let job = Job {
                file,
                scenario: cut.scenario.clone(),
                seed: b.meta.seed,
                workload: None,
                plan: None,
            };
            match search.try_job(job, &cut.change, step, None, &mut log).await {
                Ok(Some(run)) => {
                    scenario = cut.scenario;
                    best = run;
                    continue 'search;
                }
                Ok(None) => {
                    rejected.insert(key);
                }
                Err(e) => {
                    search.session.close().await;
                    return Err(e);
                }
            }
        }
        log.stopped = ShrinkStop::Minimal;
        break;
    }
    search.finish(log, Some(best), &scenario).await
}

/// The search's fixed parts.
struct Search<'a> {
    session: Session,
    opts: &'a SuiteOptions,
    so: &'a ShrinkOptions,
    classes: &'a [String],
}

impl Search<'_> {
    /// Runs `job` up to `runs` times into `steps/NN`; the first run that reproduced when the
    /// candidate counts as failing, else `None`. `seen` is a run of this very case already done
    /// (the bundle's own failing run): it counts as the first of the `runs`. Logs the step.
    async fn try_job(
        &mut self,
        job: Job,
        change: &str,
        step: usize,
        seen: Option<&RunReport>,
        log: &mut ShrinkLog,
    ) -> Result<Option<RunReport>> {
        let t0 = Instant::now();
        let size = cuts::size(&job.scenario);
        let mut opts = self.opts.clone();
        opts.out = self.opts.out.join(format!("steps/{step:02}"));
        opts.target = job.file.clone();
        opts.progress = false;
        opts.outcome_lines = false;
        let (k, m) = (self.so.runs, self.so.min_failures);
        let classes = self.classes;
        let reproduces = |r: &RunReport| {
            r.verdict == Verdict::Fail && r.anomaly_classes().iter().any(|c| classes.contains(c))
        };
        let prior: Vec<RunReport> = seen.into_iter().cloned().collect();
        let jobs: Vec<Job> = (prior.len() as u32..k)
            .map(|_| Job {
                file: job.file.clone(),
                scenario: job.scenario.clone(),
                seed: job.seed,
                workload: job.workload.clone(),
                plan: job.plan.clone(),
            })
            .collect();
        let settled = |runs: &[RunReport]| {
            let hit = runs.iter().filter(|r| reproduces(r)).count() as u32;
            let left = k - runs.len() as u32;
            hit >= m || hit + left < m
        };
        let runs: Vec<RunReport> = if settled(&prior) {
            prior
        } else {
            let mut more = |r: &[RunReport]| settled(&[prior.as_slice(), r].concat());
            let suite = execute_in(&mut self.session, jobs, &opts, &mut more).await?;
            prior.into_iter().chain(suite.runs).collect()
        };
        let hit: Vec<&RunReport> = runs.iter().filter(|r| reproduces(r)).collect();
        let accepted = hit.len() as u32 >= m;
        if let Some(err) = runs.iter().find_map(|r| r.error.as_ref()) {
            if step == 0 && hit.is_empty() {
                return Err(RunnerError::Usage(format!(
                    "the bundle's own case could not run: {err}"
                )));
            }
        }
        errln!(
            "shrink step {step}: {change}: {}/{} runs failed with the class ({:.0} s){}",
            hit.len(),
            runs.len(),
            t0.elapsed().as_secs_f64(),
            if accepted { " -> kept" } else { "" }
        );
        log.steps.push(ShrinkStep {
            change: change.to_string(),
            runs: runs.len() as u32,
            reproduced: hit.len() as u32,
            accepted,
            size,
            duration_ms: t0.elapsed().as_millis() as u64,
        });
        if accepted {
            log.after = size;
        }
        write_log(&self.opts.out, log)?;
        Ok(accepted.then(|| hit[0].clone()))
    }

    /// Writes `shrunk.toml`, the log and the suite reports; closes the session.
    async fn finish(
        self,
        mut log: ShrinkLog,
        best: Option<RunReport>,
        scenario: &Scenario,
    ) -> Result<SuiteReport> {
        self.session.close().await;
        let out = &self.opts.out;
        if let Some(run) = &best {
            let file = out.join("shrunk.toml");
            write_scenario(&file, scenario)?;
            log.scenario_file = Some(file.display().to_string());
            log.shrunk_bundle = run.bundle.clone();
        }
        write_log(out, &log)?;
        let mut suite = SuiteReport::new(
            log.bundle.clone(),
            crate::suite::now_rfc3339(),
            log.steps.iter().map(|s| s.duration_ms).sum(),
            best.into_iter().collect(),
        );
        suite.shrink = Some(log);
        faultline_report::write_all(&suite, out)?;
        Ok(suite)
    }
}

fn io(path: &Path, e: std::io::Error) -> RunnerError {
    RunnerError::Io {
        path: path.to_path_buf(),
        source: e,
    }
}

/// The scenario as a file a user can run (`faultline run <file> --seed N`).
fn write_scenario(file: &Path, s: &Scenario) -> Result<()> {
    write_scenario_text(file, &s.name, &scenario_toml(s)?)
}

/// The scenario's TOML: what is written for it, and what a rejected candidate is known by.
fn scenario_toml(s: &Scenario) -> Result<String> {
    toml::to_string(s).map_err(|e| {
        RunnerError::Usage(format!(
            "the shrunk scenario cannot be written as TOML: {e}"
        ))
    })
}

/// [`write_scenario`] with the TOML already made.
fn write_scenario_text(file: &Path, name: &str, text: &str) -> Result<()> {
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    }
    let header = format!(
        "# Written by `faultline shrink`: a smaller case of scenario `{name}` that still fails.\n"
    );
    std::fs::write(file, header + text).map_err(|e| io(file, e))
}

fn write_log(out: &Path, log: &ShrinkLog) -> Result<()> {
    let file = out.join("shrink.json");
    let text = serde_json::to_string_pretty(log).expect("the log serializes");
    std::fs::write(&file, text).map_err(|e| io(&file, e))
}
