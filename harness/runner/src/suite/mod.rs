//! `faultline run` and `faultline repro`: scenarios × seeds, sharded, on stacks shared between runs
//! with the same broker count; a report per run, a bundle per failure, the suite's reports at the end.
//!
//! - `plan`     the options, the jobs (scenarios × seeds, sharded), each made ready before any stack.
//! - `execute`  the runs in order on shared stacks; the suite's reports at the end.
//! - `baseline` the fault-free twin run of `[compare] baseline = true`.
//! - `outputs`  a run's report, its terminal lines, its failure bundle and comparison files.
//! - `bundle`   failure bundles: written on failure, read back by `repro`.

mod baseline;
mod bundle;
mod execute;
mod outputs;
mod plan;

use std::path::Path;

use faultline_report::{SuiteReport, Verdict};

pub use plan::SuiteOptions;

use crate::error::Result;
use plan::Job;

/// Runs the suite. Errors are problems before anything ran (bad scenario, bad flags); a run that
/// could not finish is reported with verdict `error` instead.
pub async fn run_suite(opts: &SuiteOptions) -> Result<SuiteReport> {
    execute::execute(plan::jobs(opts)?, opts).await
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
    Ok((execute::execute(vec![job], &opts).await?, b.meta.verdict))
}
