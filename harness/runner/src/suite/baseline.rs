//! `[compare] baseline = true`: the scenario's fault-free twin, run first on the same stack, whose
//! comparison the faulted run must agree with.

use std::path::Path;

use faultline_report::CheckStatus;

use super::execute::within_time_limit;
use super::plan::PlannedRun;
use crate::comparison::Baseline;
use crate::error::{Result, RunnerError};
use crate::run::{run, Infra, RunInput};

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
    eprintln!(
        "  fault-free baseline of {} seed {seed} for [compare]",
        scenario.name
    );
    let log_dir = run_dir.join("baseline").join("logs");
    let input = RunInput {
        scenario: &clean,
        seed,
        defect,
        workload,
        plan: &[],
        log_dir: log_dir.clone(),
        progress,
        baseline: None,
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
