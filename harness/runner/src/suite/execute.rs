//! The suite's runs in order, each on a stack shared with the runs before it when their backend
//! and broker count match; the suite's reports at the end.

use std::time::Duration;

use faultline_infra::BackendKind;
use faultline_report::{RunReport, SuiteReport, Verdict};
use faultline_scenario::GroupProtocol;

use super::baseline::{run_baseline, OutputBaselines};
use super::interrupt::Ledger;
use super::outputs::RunRecord;
use super::plan::{prepare, Job, PlannedRun, SuiteOptions};
use crate::error::{Result, RunnerError};
use crate::run::{run, start_stack, Infra, RunInput, RunOutcome};
use faultline_infra::errln;

/// The stack the last run used, kept for the next one.
struct SharedStack(Option<(BackendKind, Infra)>);

impl SharedStack {
    /// The stack for a run on `kind` with `brokers` brokers: the current one when they match, else
    /// a fresh one. The error says why no stack could start.
    async fn get(&mut self, kind: BackendKind, brokers: u32, seed: u64) -> Result<&Infra> {
        let reuse = matches!(&self.0, Some((k, inf)) if *k == kind && inf.brokers == brokers);
        if !reuse {
            self.discard().await;
            errln!("  starting a {kind} stack with {brokers} broker(s)");
            self.0 = Some((kind, start_stack(kind, brokers, seed).await?));
        }
        Ok(&self.0.as_ref().expect("a stack was just started").1)
    }

    /// Tears the stack down (after an error it may be in any state), reporting nothing.
    async fn discard(&mut self) {
        if let Some((_, old)) = self.0.take() {
            let _ = old.teardown().await;
        }
    }
}

/// Stacks and fault-free runs kept between the suites of one command: `shrink` and `hunt` run
/// many small suites, and each would otherwise start its own stack and repeat its baselines.
pub(crate) struct Session {
    stack: SharedStack,
    fault_free: OutputBaselines,
}

impl Session {
    pub(crate) fn new() -> Self {
        Session {
            stack: SharedStack(None),
            fault_free: OutputBaselines::default(),
        }
    }

    /// Tears the stack down and says what the fault-free cache saved.
    pub(crate) async fn close(mut self) {
        if let Some((_, inf)) = self.stack.0.take() {
            if let Err(e) = inf.teardown().await {
                errln!("faultline: tearing down the stack: {e}");
            }
        }
        let f = &self.fault_free;
        if f.made + f.reused > 0 {
            errln!(
                "fault-free runs for the differential check: {} made ({:.1} s), {} reused from \
                 the cache (saving {:.1} s)",
                f.made,
                f.spent.as_secs_f64(),
                f.reused,
                f.saved.as_secs_f64()
            );
        }
    }
}

/// Runs `jobs` on a stack of their own and writes the suite's reports.
pub(crate) async fn execute(jobs: Vec<Job>, opts: &SuiteOptions) -> Result<SuiteReport> {
    let mut session = Session::new();
    let suite = execute_in(&mut session, jobs, opts, &mut |_: &[RunReport]| false).await;
    session.close().await;
    suite
}

/// Runs `jobs` in order on the session's stack, asking `enough` after each run whether the rest
/// can be skipped (a candidate of `shrink` settled early), and writes the suite's reports into
/// `opts.out`.
pub(crate) async fn execute_in(
    session: &mut Session,
    jobs: Vec<Job>,
    opts: &SuiteOptions,
    enough: &mut dyn FnMut(&[RunReport]) -> bool,
) -> Result<SuiteReport> {
    let started_at = super::now_rfc3339();
    let t0 = std::time::Instant::now();
    std::fs::create_dir_all(&opts.out).map_err(|e| RunnerError::Io {
        path: opts.out.clone(),
        source: e,
    })?;
    let _lock = super::lock::OutLock::acquire(&opts.out)?;
    let prepared = prepare(jobs, opts)?;
    // From here on a signal leaves reports behind: finished runs and the one under way.
    let ledger = Ledger::watch(&opts.target, started_at.clone(), t0, &opts.out);
    let total = prepared.len();
    let Session { stack, fault_free } = session;
    let mut runs = Vec::new();
    for (i, planned) in prepared.into_iter().enumerate() {
        let kind = resolve(planned.backend).await;
        let defect = opts
            .defect
            .clone()
            .or(planned.scenario.pipeline.defect.clone());
        if opts.outcome_lines {
            errln!(
                "[{}/{total}] {} seed {} on {kind}: {} records, {} faults",
                i + 1,
                planned.scenario.name,
                planned.seed,
                planned.workload.records.len(),
                planned.plan.len()
            );
        }
        if kind == BackendKind::External
            && planned.scenario.pipeline.group_protocol == GroupProtocol::Consumer
        {
            errln!(
                "faultline: note: {}",
                faultline_infra::kafka_config::external_consumer_group_note()
            );
        }
        let mut record = RunRecord::new(&planned, kind, defect, &opts.out)?;
        ledger.started(&record);
        match stack
            .get(kind, planned.scenario.infra.brokers, planned.seed)
            .await
        {
            Err(e) => record.report.error = Some(format!("could not start the stack: {e}")),
            Ok(infra) => {
                infra.reset_proxies();
                let result = run_with_baseline(
                    infra,
                    &planned,
                    &record,
                    opts.progress,
                    opts.golden,
                    fault_free,
                )
                .await;
                record.finish(result);
                if record.report.verdict != Verdict::Pass {
                    record.service_logs = infra.stack.logs().await;
                }
            }
        }
        if record.report.verdict == Verdict::Error {
            // The stack may be in any state after an error: start the next run on a fresh one.
            stack.discard().await;
        }
        runs.push(ledger.save(record, &planned, opts.outcome_lines));
        if enough(&runs) {
            break;
        }
    }
    let mut suite = SuiteReport::new(
        opts.target.display().to_string(),
        started_at,
        t0.elapsed().as_millis() as u64,
        runs,
    );
    if opts.repeat > 1 {
        suite.reproduction = faultline_report::Reproduction::of(&suite.runs);
    }
    ledger.write_final(|| faultline_report::write_all(&suite, &opts.out))?;
    Ok(suite)
}

/// What a run may take beyond its scenario's `time_limit_s` before it is an error: starting the
/// workers, creating topics, the checks and the replay are not in the scenario's budget.
pub(crate) const TIME_LIMIT_ALLOWANCE_S: u64 = 120;

/// Runs `fut` (a run, or its baseline) within `time_limit_s` plus [`TIME_LIMIT_ALLOWANCE_S`];
/// `None` when it did not end in time, with the error that says what was waited.
pub(crate) async fn within_time_limit<T>(
    s: &faultline_scenario::Scenario,
    during: &str,
    fut: impl std::future::Future<Output = T>,
) -> Result<T> {
    within(s.time_limit_s, TIME_LIMIT_ALLOWANCE_S, during, fut).await
}

async fn within<T>(
    limit_s: u64,
    allowance_s: u64,
    during: &str,
    fut: impl std::future::Future<Output = T>,
) -> Result<T> {
    let limit = Duration::from_secs(limit_s + allowance_s);
    tokio::time::timeout(limit, fut)
        .await
        .map_err(|_| RunnerError::TimeLimit {
            limit_s,
            allowance_s,
            during: during.into(),
        })
}

/// The fault-free baseline first when `[compare] baseline = true` asks for one, then the run,
/// each within the scenario's time limit plus [`TIME_LIMIT_ALLOWANCE_S`].
async fn run_with_baseline(
    infra: &Infra,
    planned: &PlannedRun,
    record: &RunRecord,
    progress: bool,
    golden: bool,
    fault_free: &mut OutputBaselines,
) -> Result<(RunOutcome, Option<crate::comparison::Baseline>)> {
    let s = &planned.scenario;
    let defect = record.report.defect.clone();
    let baseline = run_baseline(infra, planned, defect.clone(), &record.run_dir, progress).await?;
    let expected_output = fault_free
        .get(infra, planned, defect.clone(), &record.run_dir, progress)
        .await?;
    let input = RunInput {
        pipeline: &planned.pipeline,
        scenario: s,
        seed: planned.seed,
        defect,
        workload: &planned.workload,
        plan: &planned.plan,
        log_dir: record.run_dir.join("logs"),
        progress,
        baseline: baseline.as_ref(),
        expected_output,
    };
    let mut outcome = within_time_limit(s, "running", run(infra, &input)).await??;
    let golden_dir = planned
        .pipeline
        .manifest
        .golden_dir
        .as_ref()
        .filter(|_| golden);
    if let Some(dir) = golden_dir {
        // The fault-free end state: the cached fault-free run's, or this run's own when it is
        // its own fault-free twin (no faults, no record faults).
        let fault_free_state = expected_output.unwrap_or(&outcome.output);
        let m = &planned.pipeline.manifest;
        let source = m.file.file_name().map_or_else(
            || m.file.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let golden = crate::run::golden::GoldenInput {
            dir,
            source: &source,
            id: crate::run::golden::SnapshotId {
                pipeline: &m.name,
                scenario: &s.name,
                seed: planned.seed,
            },
            run_dir: &record.run_dir,
        };
        let check = crate::run::golden::check(&golden, fault_free_state)?;
        outcome.checks.push(check.capped());
    }
    if !planned.knob_warnings.is_empty() {
        outcome
            .checks
            .push(faultline_report::CheckResult::from_rows(
                "pipeline_knobs",
                faultline_report::CheckStatus::Warn,
                planned.knob_warnings.join("; "),
                Vec::new(),
            ));
    }
    Ok((outcome, baseline))
}

/// `auto` becomes the backend it stands for, so reports and repro lines name a real one.
async fn resolve(kind: BackendKind) -> BackendKind {
    match kind {
        BackendKind::Auto if faultline_infra::docker_available().await => BackendKind::Containers,
        BackendKind::Auto => BackendKind::Processes,
        k => k,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_run_past_its_limit_says_what_was_waited() {
        let err = within(0, 0, "running", std::future::pending::<()>())
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "time limit exceeded while running: waited 0 s (the scenario's time_limit_s = 0 plus \
             0 s allowed for start-up and checks); raise time_limit_s if the run needs longer"
        );
        let err = RunnerError::TimeLimit {
            limit_s: 240,
            allowance_s: TIME_LIMIT_ALLOWANCE_S,
            during: "running".into(),
        };
        assert!(
            err.to_string().contains(
                "waited 360 s (the scenario's time_limit_s = 240 plus 120 s allowed for start-up \
                 and checks)"
            ),
            "{err}"
        );
        assert_eq!(within(0, 1, "running", async { 7 }).await.unwrap(), 7);
    }
}
