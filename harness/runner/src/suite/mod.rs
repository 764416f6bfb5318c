//! `faultline run` and `faultline repro`: scenarios × seeds, sharded, on stacks shared between runs
//! with the same broker count; a report per run, a bundle per failure, the suite's reports at the end.
//!
//! - `plan`     the options, the jobs (scenarios × seeds, sharded), each made ready before any stack.
//! - `check`    `faultline check` / `run --dry-run`: `plan` for every job, starting and writing nothing.
//! - `execute`  the runs in order on shared stacks; the suite's reports at the end.
//! - `baseline` the fault-free twin run of `[compare] baseline = true`.
//! - `interrupt` on SIGINT/SIGTERM/SIGHUP, the reports so far with the run under way `interrupted`.
//! - `lock`     one live suite per `--out` directory.
//! - `outputs`  a run's report, its terminal lines, its failure bundle and comparison files.
//! - `bundle`   failure bundles: written on failure, read back by `repro`.
//! - `schema_input` events generated from the manifest's `[input] schema`, with the record faults.

mod baseline;
pub(crate) mod bundle;
mod check;
mod execute;
mod interrupt;
mod lock;
mod outputs;
mod plan;
mod schema_input;
pub use schema_input::workload as schema_workload;

use std::path::Path;

use faultline_report::{SuiteReport, Verdict};

pub use check::{check, CheckReport, CheckedRun};
pub(crate) use execute::{execute_in, Session};
pub(crate) use lock::OutLock;
pub(crate) use plan::Job;
pub use plan::SuiteOptions;

/// Now, as RFC 3339 UTC to the second: when a suite started, in its reports.
pub(crate) fn now_rfc3339() -> String {
    let now = time::OffsetDateTime::now_utc();
    now.replace_nanosecond(0)
        .unwrap_or(now)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

use crate::error::Result;

/// Runs the suite. Errors are problems before anything ran (bad scenario, bad flags); a run that
/// could not finish is reported with verdict `error` instead.
pub async fn run_suite(opts: &SuiteOptions) -> Result<SuiteReport> {
    execute::execute(plan::jobs(opts)?, opts).await
}

/// Reruns a bundle: same scenario file, seed, workload bytes and fault plan.
pub async fn repro(bundle_dir: &Path, opts: &SuiteOptions) -> Result<(SuiteReport, Verdict)> {
    refuse_out_in_bundle(bundle_dir, &opts.out)?;
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
    if opts.group_protocol.is_none() {
        opts.group_protocol = b
            .meta
            .group_protocol
            .as_deref()
            .and_then(|p| p.parse().ok());
    }
    if opts.pipeline.is_none() {
        opts.pipeline = b.meta.pipeline.as_ref().map(std::path::PathBuf::from);
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

/// `repro` never writes into the bundle it reads: an `--out` that is the bundle or lies inside it is
/// refused (exit 2), since the suite report and a run directory could replace the bundle's files.
pub(crate) fn refuse_out_in_bundle(bundle_dir: &Path, out: &Path) -> Result<()> {
    let bundle = std::fs::canonicalize(bundle_dir).unwrap_or_else(|_| bundle_dir.to_path_buf());
    // `out` may not exist yet: resolve its nearest existing ancestor.
    let mut probe = out.to_path_buf();
    let mut rest = Vec::new();
    let resolved = loop {
        match std::fs::canonicalize(&probe) {
            Ok(p) => {
                break rest
                    .iter()
                    .rev()
                    .fold(p, |acc: std::path::PathBuf, c| acc.join(c))
            }
            Err(_) => match (probe.parent(), probe.file_name()) {
                (Some(parent), Some(name)) => {
                    rest.push(name.to_owned());
                    probe = if parent.as_os_str().is_empty() {
                        ".".into()
                    } else {
                        parent.to_path_buf()
                    };
                }
                _ => break out.to_path_buf(),
            },
        }
    };
    if resolved.starts_with(&bundle) {
        return Err(crate::error::RunnerError::Usage(format!(
            "--out {} is inside the bundle {} that repro reads; pass another --out (repro never \
             writes into its bundle)",
            out.display(),
            bundle_dir.display()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn repro_refuses_an_out_inside_its_bundle() {
        let dir = tempfile::tempdir().unwrap();
        let bundle = dir.path().join("runs/kill-workers-7");
        std::fs::create_dir_all(&bundle).unwrap();
        for out in [bundle.clone(), bundle.join("again"), bundle.join("a/b")] {
            let err = super::refuse_out_in_bundle(&bundle, &out).unwrap_err();
            assert!(err.to_string().contains("inside the bundle"), "{err}");
        }
        super::refuse_out_in_bundle(&bundle, &dir.path().join("repro-out")).unwrap();
        super::refuse_out_in_bundle(&bundle, dir.path()).unwrap();
        assert!(
            !bundle.join("again").exists(),
            "a refused --out is not created"
        );
    }
}
