//! `[compare] baseline = true`: the scenario's fault-free twin, run first on the same stack, whose
//! comparison the faulted run must agree with.

use std::collections::HashMap;
use std::path::Path;

use faultline_report::CheckStatus;

use super::execute::within_time_limit;
use super::plan::{workload, PlannedRun};
use crate::comparison::Baseline;
use crate::error::{Result, RunnerError};
use crate::run::output::OutputState;
use crate::run::{run, Infra, RunInput};
use faultline_infra::errln;

/// The checks whose failure means the fault-free run did not finish, so it is no reference.
const COMPLETION_CHECKS: [&str; 3] = ["caught_up", "workers_stayed_up", "faults_injected"];

/// For `[compare] baseline = true`: runs the scenario's fault-free twin
/// ([`faultline_scenario::Scenario::fault_free_baseline`]) with the same seed and workload on the same stack, and
/// keeps its comparison. Its logs go to `<run_dir>/baseline/logs`, removed when it passed.
/// `Ok(None)` when the scenario asks for no baseline.
pub(crate) async fn run_baseline(
    infra: &Infra,
    planned: &PlannedRun,
    defect: Option<String>,
    run_dir: &Path,
    progress: bool,
) -> Result<Option<Baseline>> {
    let (scenario, seed, workload) = (&planned.scenario, planned.seed, &planned.workload);
    let Some(clean) = scenario.fault_free_baseline() else {
        return Ok(None);
    };
    errln!(
        "  fault-free baseline of {} seed {seed} for [compare]",
        scenario.name
    );
    let log_dir = run_dir.join("baseline").join("logs");
    let input = RunInput {
        pipeline: &planned.pipeline,
        scenario: &clean,
        seed,
        defect,
        workload,
        plan: &[],
        log_dir: log_dir.clone(),
        progress,
        baseline: None,
        expected_output: None,
    };
    let during = "running the fault-free baseline";
    let outcome = within_time_limit(&clean, during, run(infra, &input))
        .await
        .and_then(|r| r)
        .map_err(|e| RunnerError::Baseline(Box::new(e)))?;
    let failed_checks: Vec<String> = outcome
        .checks
        .iter()
        .filter(|c| c.status == CheckStatus::Fail)
        .map(|c| c.name.clone())
        .collect();
    if failed_checks.is_empty() {
        let _ = std::fs::remove_dir_all(&log_dir);
    }
    let live = outcome.comparison.ok_or_else(|| {
        RunnerError::Usage(
            "the fault-free baseline made no comparison; it needs a [compare] block".into(),
        )
    })?;
    Ok(Some(Baseline {
        live,
        failed_checks,
    }))
}

/// Fault-free end states of the output tables, by (manifest digest, workload digest): a suite
/// runs each pipeline's fault-free twin of a workload once, whatever the number of scenarios
/// that send it.
#[derive(Default)]
pub(crate) struct OutputBaselines {
    /// The end state, or why the fault-free run failed (not retried for the next scenario).
    cached: HashMap<(String, String), std::result::Result<OutputState, String>>,
    /// Fault-free runs made, and those answered from the cache (for the suite's summary).
    pub made: u32,
    pub reused: u32,
    /// Time spent in the fault-free runs made, and what the reused ones took when they were made.
    pub spent: std::time::Duration,
    pub saved: std::time::Duration,
    took: HashMap<(String, String), std::time::Duration>,
}

impl OutputBaselines {
    /// The fault-free end state the differential check compares `planned` with: the same
    /// scenario and seed without its faults and without its record faults (the clean workload,
    /// [`workload`]). `None` when the pipeline has builtin expectations (the ledger's oracle), no
    /// `[[output]]` tables, or the run is its own fault-free twin.
    pub(crate) async fn get(
        &mut self,
        infra: &Infra,
        planned: &PlannedRun,
        defect: Option<String>,
        run_dir: &Path,
        progress: bool,
    ) -> Result<Option<&OutputState>> {
        let m = &planned.pipeline.manifest;
        if m.expectations.is_some() || m.outputs.is_empty() {
            return Ok(None);
        }
        let clean_workload = workload(&planned.scenario, planned.seed, &planned.pipeline, true)?;
        if planned.plan.is_empty() && clean_workload.digest() == planned.workload.digest() {
            return Ok(None);
        }
        let key = (m.digest.clone(), clean_workload.digest());
        if self.cached.contains_key(&key) {
            self.reused += 1;
            self.saved += self.took.get(&key).copied().unwrap_or_default();
            return match self.cached.get(&key) {
                Some(Ok(state)) => Ok(Some(state)),
                Some(Err(why)) => Err(RunnerError::Baseline(Box::new(RunnerError::Usage(
                    why.clone(),
                )))),
                None => Ok(None),
            };
        }
        let mut clean = planned.scenario.clone();
        clean.faults.clear();
        clean.random = None;
        // The faulted run judges idempotency itself; the reference needs only its end state.
        clean.checks.replay = false;
        errln!(
            "  fault-free run of {} seed {} for the differential check (cached for the suite)",
            clean.name,
            planned.seed
        );
        let log_dir = run_dir.join("fault-free").join("logs");
        let input = RunInput {
            pipeline: &planned.pipeline,
            scenario: &clean,
            seed: planned.seed,
            defect,
            workload: &clean_workload,
            plan: &[],
            log_dir: log_dir.clone(),
            progress,
            baseline: None,
            expected_output: None,
        };
        self.made += 1;
        let t0 = std::time::Instant::now();
        let result = within_time_limit(&clean, "the fault-free run", run(infra, &input)).await;
        self.spent += t0.elapsed();
        self.took.insert(key.clone(), t0.elapsed());
        let outcome = match result {
            Ok(Ok(o)) => o,
            Ok(Err(e)) | Err(e) => {
                self.cached.insert(key, Err(e.to_string()));
                return Err(RunnerError::Baseline(Box::new(e)));
            }
        };
        // Only a run that did not finish is no reference. A pipeline that is wrong without faults
        // (its `expectations`, `dead_letters` or data checks fail) is judged by the faulted run's
        // own checks, and its differential compares like with like.
        let failed: Vec<String> = outcome
            .checks
            .iter()
            .filter(|c| {
                c.status == CheckStatus::Fail && COMPLETION_CHECKS.contains(&c.name.as_str())
            })
            .map(|c| format!("{}: {}", c.name, c.detail))
            .collect();
        if !failed.is_empty() {
            let why = format!(
                "the fault-free run failed, so there is nothing to compare with (logs in {}): {}",
                log_dir.display(),
                failed.join("; ")
            );
            self.cached.insert(key, Err(why.clone()));
            return Err(RunnerError::Baseline(Box::new(RunnerError::Usage(why))));
        }
        // It finished: its logs are no evidence of anything, so nothing is left behind for it.
        let _ = std::fs::remove_dir_all(run_dir.join("fault-free"));
        let entry = self.cached.entry(key).or_insert(Ok(outcome.output));
        Ok(entry.as_ref().ok())
    }
}
