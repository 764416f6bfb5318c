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
//! (`run_baseline` in the suite); `exactly_once` then requires the faulted run to have stored the
//! same rows with the same scores and versions (rows stored on fallback features during an
//! enrichment outage: each model's score on the default profile). Any difference is a pipeline
//! defect: the models are the same files and the inputs the same bytes, so only the pipeline can
//! have changed what landed. `robustness` measures what the faults did to each model's metrics.

//! - `setup`        the `[compare]` block made ready: the models, policy, seed.
//! - `labels`       the oracle's label of every valid transaction of the workload.
//! - `statistics`   what landed, joined with the labels, compared; the `model_comparison` check.
//! - `fallback`     each model's score on the default profile, what a fallback row must hold.
//! - `exactly_once` `scores_stored_exactly_once`: the faulted run against the fault-free one.
//! - `robustness`   `model_robustness`: each model's change under faults, by fault window, gated.

mod exactly_once;
mod fallback;
mod labels;
mod robustness;
mod setup;
mod statistics;
#[cfg(test)]
mod tests;

use std::path::Path;

pub(crate) use exactly_once::{scores_stored_exactly_once, Baseline, Fallback};
pub(crate) use fallback::default_profile_scores;
pub(crate) use robustness::attach_robustness;
pub(crate) use setup::CompareSetup;
pub(crate) use statistics::{comparison_check, live_comparison, LiveComparison};

use crate::error::Result;

/// Where a run's comparison outputs go, under its run directory; the baseline's in `baseline/`.
pub(crate) const DIR: &str = "compare";

/// Writes faultline-models' `comparison.json`, `summary.md`, `report.html` and the compared rows'
/// `scores.csv` for the run into `dir`, and the baseline's into `dir/baseline`.
pub fn write_outputs(live: &LiveComparison, baseline: Option<&Baseline>, dir: &Path) -> Result<()> {
    let write = |l: &LiveComparison, dir: &Path| -> Result<()> {
        if let Some(c) = &l.comparison {
            faultline_models::write_outputs(c, dir)?;
            l.scored.write_csv(
                c.champion.threshold,
                c.challenger.threshold,
                dir.join(faultline_models::scores::SCORES_FILE),
            )?;
        }
        Ok(())
    };
    write(live, dir)?;
    if let Some(b) = baseline {
        write(&b.live, &dir.join("baseline"))?;
    }
    Ok(())
}
