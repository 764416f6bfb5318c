//! Failure bundles: everything needed to look at a failed run and to rerun it exactly —
//! the scenario file, the seed, the workload bytes, the fault plan and timeline, the anomalies,
//! and the worker and service logs. `faultline repro <bundle>` reads it back.

use std::path::{Path, PathBuf};

use faultline_report::RunReport;
use faultline_scenario::PlannedFault;
use faultline_workload::Workload;
use serde::{Deserialize, Serialize};

use crate::error::{IoAt, Result, RunnerError};

/// `meta.json`: how the run was started.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BundleMeta {
    /// The scenario file as given to `faultline run`.
    pub scenario_file: String,
    pub seed: u64,
    pub backend: String,
    /// `classic` or `consumer`; absent in bundles written before the field existed (classic).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_protocol: Option<String>,
    pub defect: Option<String>,
    /// The `--pipeline` manifest the run used (absent: the reference ledger's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pipeline: Option<String>,
    /// SHA-256 of the workload bytes; `workload.jsonl` must match it.
    pub workload_digest: String,
    pub verdict: faultline_report::Verdict,
    pub faultline_version: String,
}

/// File names inside a bundle.
pub const SCENARIO: &str = "scenario.toml";
pub const META: &str = "meta.json";
pub const PLAN: &str = "plan.json";
pub const WORKLOAD: &str = "workload.jsonl";
pub const TIMELINE: &str = "timeline.json";
pub const ANOMALIES: &str = "anomalies.json";
pub const REPORT: &str = "report.json";

fn write_json(path: &Path, what: &str, value: &impl Serialize) -> Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(|source| RunnerError::Json {
        what: what.into(),
        source,
    })?;
    std::fs::write(path, text).at(path)
}

pub(crate) fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T> {
    let text = std::fs::read_to_string(path).at(path)?;
    serde_json::from_str(&text).map_err(|source| RunnerError::Json {
        what: format!("{} (is this a faultline bundle?)", path.display()),
        source,
    })
}

/// Writes the bundle into `dir` (the run's directory, which already holds `logs/`).
pub fn write(
    dir: &Path,
    scenario_file: &Path,
    report: &RunReport,
    workload: &Workload,
    plan: &[PlannedFault],
    service_logs: &[(String, String)],
) -> Result<()> {
    std::fs::create_dir_all(dir).at(dir)?;
    std::fs::copy(scenario_file, dir.join(SCENARIO)).at(scenario_file)?;
    let meta = BundleMeta {
        scenario_file: scenario_file.display().to_string(),
        seed: report.seed,
        backend: report.backend.clone(),
        group_protocol: Some(report.group_protocol.clone()),
        defect: report.defect.clone(),
        pipeline: report.pipeline.clone(),
        workload_digest: report.stats.workload_digest.clone(),
        verdict: report.verdict,
        faultline_version: env!("CARGO_PKG_VERSION").into(),
    };
    write_json(&dir.join(META), "bundle meta", &meta)?;
    write_json(&dir.join(PLAN), "fault plan", &plan)?;
    write_json(&dir.join(TIMELINE), "fault timeline", &report.faults)?;
    let anomalies: Vec<_> = report
        .checks
        .iter()
        .filter(|c| !c.failing_rows.is_empty())
        .collect();
    write_json(&dir.join(ANOMALIES), "anomalies", &anomalies)?;
    write_json(&dir.join(REPORT), "run report", report)?;
    workload.write_to(&dir.join(WORKLOAD))?;
    let logs = dir.join("logs");
    std::fs::create_dir_all(&logs).at(&logs)?;
    for (name, text) in service_logs {
        let file = logs.join(format!("{}.log", name.replace(['/', ' '], "_")));
        std::fs::write(&file, text).at(&file)?;
    }
    let repro = "#!/bin/sh\n# Reruns this failure: same scenario, seed, workload bytes and fault schedule.\n\
                 # For the smallest scenario that still fails: faultline shrink \"$(dirname \"$0\")\"\n\
                 # (and faultline run <scenario> --seed N --repeat 5 for how often it fails).\n\
                 exec faultline repro \"$(dirname \"$0\")\" \"$@\"\n"
        .to_string();
    std::fs::write(dir.join("repro.sh"), repro).at(dir)?;
    Ok(())
}

/// A bundle read back for `faultline repro`.
pub struct Bundle {
    pub dir: PathBuf,
    pub meta: BundleMeta,
    pub workload: Workload,
    pub plan: Vec<PlannedFault>,
}

/// Reads a bundle; checks the workload bytes against the recorded digest.
pub fn read(dir: &Path) -> Result<Bundle> {
    if !dir.join(META).is_file() {
        return Err(RunnerError::Usage(format!("{} is not a faultline bundle: it has no {META}; give the directory a failed run printed", dir.display())));
    }
    let meta: BundleMeta = read_json(&dir.join(META))?;
    let plan: Vec<PlannedFault> = read_json(&dir.join(PLAN))?;
    let workload = Workload::read_from(&dir.join(WORKLOAD))?;
    if workload.digest() != meta.workload_digest {
        return Err(RunnerError::Usage(format!(
            "{}: the workload's digest {} differs from the recorded {}; the bundle was altered",
            dir.join(WORKLOAD).display(),
            workload.digest(),
            meta.workload_digest
        )));
    }
    Ok(Bundle {
        dir: dir.to_path_buf(),
        meta,
        workload,
        plan,
    })
}
