//! What every worker is started with: the process contract's variables (docs/PIPELINE-CONTRACT.md)
//! plus the scenario's extras, and which program runs when the scenario names none.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use faultline_scenario::Scenario;

use super::enrichment::ProfileService;
use super::stack::{Infra, Names};
use super::workers::WorkerSpec;
use crate::error::{Result, RunnerError};

/// The environment of every worker: the process contract's variables plus the scenario's extras.
pub fn worker_spec(
    infra: &Infra,
    s: &Scenario,
    defect: Option<&str>,
    names: &Names,
    profiles: Option<&ProfileService>,
    log_dir: &Path,
) -> Result<WorkerSpec> {
    let command = if s.pipeline.command.is_empty() {
        vec![reference_worker()?.display().to_string()]
    } else {
        s.pipeline.command.clone()
    };
    let mut env: BTreeMap<String, String> = BTreeMap::new();
    let mut set = |k: &str, v: String| {
        env.insert(k.to_string(), v);
    };
    set("FAULTLINE_KAFKA_BOOTSTRAP", infra.bootstrap());
    set("FAULTLINE_INPUT_TOPIC", names.topic.clone());
    set("FAULTLINE_DLQ_TOPIC", names.dlq_topic.clone());
    set("FAULTLINE_GROUP_ID", names.group.clone());
    set(
        "FAULTLINE_POSTGRES_URL",
        infra.pipeline_pg().url_with_password(),
    );
    set("FAULTLINE_PG_SCHEMA", names.schema.clone());
    set("FAULTLINE_RUN_ID", names.run_id.clone());
    // Info: a failure bundle then tells each worker's assignments, seeks and retries.
    set("FAULTLINE_LOG", "info".into());
    if let Some(p) = profiles {
        set("FAULTLINE_ENRICH_URL", p.uri());
    }
    if let Some(d) = defect {
        set("FAULTLINE_DEFECT", d.to_string());
    }
    if let Some(m) = &s.pipeline.champion {
        set("FAULTLINE_CHAMPION_MODEL", m.clone());
    }
    if let Some(m) = &s.pipeline.challenger {
        set("FAULTLINE_CHALLENGER_MODEL", m.clone());
    }
    for (k, v) in &s.pipeline.env {
        set(k, v.clone());
    }
    Ok(WorkerSpec {
        command,
        env,
        log_dir: log_dir.to_path_buf(),
    })
}

/// The reference pipeline's worker binary: `FAULTLINE_WORKER_BIN`, else `ledger-worker` next to the
/// running executable (or one directory up, for test binaries in `target/*/deps`).
pub fn reference_worker() -> Result<PathBuf> {
    if let Ok(p) = std::env::var("FAULTLINE_WORKER_BIN") {
        return Ok(PathBuf::from(p));
    }
    let exe = std::env::current_exe()
        .map_err(|e| RunnerError::Usage(format!("cannot find the running executable: {e}")))?;
    let dir = exe.parent().map(Path::to_path_buf).unwrap_or_default();
    for d in [
        dir.clone(),
        dir.parent().map(Path::to_path_buf).unwrap_or_default(),
    ] {
        let bin = d.join("ledger-worker");
        if bin.is_file() {
            return Ok(bin);
        }
    }
    Err(RunnerError::Usage(format!(
        "the reference pipeline `ledger-worker` is not next to {}; run `cargo build --workspace --bins`, \
         set FAULTLINE_WORKER_BIN, or set pipeline.command in the scenario",
        exe.display()
    )))
}
