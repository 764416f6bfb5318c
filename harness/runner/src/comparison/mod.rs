//! Champion/challenger through the pipeline (`[compare]`): the workers score every transaction with
//! both model files; afterwards the harness reads the scores back from `transactions`, joins each
//! transaction's label, and compares the models with faultline-models' own statistics.
//!
//! Labels are the oracle's, never the pipeline's: each valid workload event goes through the
//! workload's reference validator, gets the profile the enrichment double serves for its account
//! (`profile_of`), and is labelled by `faultline_models::generate::true_label` (the documented
//! process in golden/data/README.md).
//!
//! With `baseline = true` the suite first runs the same scenario and seed without faults
//! (`run_baseline` in the suite); `agreement` then requires the faulted run to have landed the same rows
//! with the same scores and versions. Any difference is a pipeline defect: the models are the same
//! files and the inputs the same bytes, so only the pipeline can have changed what landed.

//! - `setup`      the `[compare]` block made ready: model versions and thresholds, policy, seed.
//! - `labels`     the oracle's label of every valid transaction of the workload.
//! - `statistics` what landed, joined with the labels, compared; the `model_comparison` check.
//! - `agreement`  `model_comparison_agrees`: the faulted run against the fault-free one.

mod agreement;
mod labels;
mod setup;
mod statistics;
#[cfg(test)]
mod tests;

use std::path::Path;

pub(crate) use agreement::{agreement, Baseline};
pub(crate) use setup::CompareSetup;
pub(crate) use statistics::{live_comparison, LiveComparison};

use crate::error::Result;

/// Where a run's comparison outputs go, under its run directory; the baseline's in `baseline/`.
pub(crate) const DIR: &str = "compare";

/// Writes faultline-models' `comparison.json`, `summary.md` and `report.html` for the run into
/// `dir`, and the baseline's into `dir/baseline`.
pub fn write_outputs(live: &LiveComparison, baseline: Option<&Baseline>, dir: &Path) -> Result<()> {
    if let Some(c) = &live.comparison {
        faultline_models::write_outputs(c, dir)?;
    }
    if let Some(c) = baseline.and_then(|b| b.live.comparison.as_ref()) {
        faultline_models::write_outputs(c, dir.join("baseline"))?;
    }
    Ok(())
}
