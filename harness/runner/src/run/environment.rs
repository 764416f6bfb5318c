//! What every worker is started with: the manifest's command and environment with the run's
//! placeholder values, then the scenario's knobs (through the manifest's `[knobs]`), the defect
//! (through `[defects]`), and the scenario's extra variables.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use faultline_scenario::Scenario;

use super::enrichment::ProfileService;
use super::stack::{Infra, Names};
use super::workers::WorkerSpec;
use crate::error::Result;
use crate::pipeline::env::{RunContext, RunValues};
use crate::pipeline::Pipeline;

/// The spec every worker of the run starts from.
pub fn worker_spec(
    pipeline: &Arc<Pipeline>,
    infra: &Infra,
    s: &Scenario,
    defect: Option<&str>,
    names: &Names,
    profiles: Option<&ProfileService>,
    log_dir: &Path,
) -> Result<WorkerSpec> {
    let bootstrap = infra.bootstrap();
    let pg = infra.pipeline_pg();
    let enrich = profiles.map(ProfileService::uri);
    let values = RunValues::new(
        &RunContext {
            bootstrap: &bootstrap,
            pipeline_pg: &pg,
            schema: &names.schema,
            topic: &names.topic,
            dlq_topic: &names.dlq_topic,
            group: &names.group,
            run_id: &names.run_id,
            enrich_url: enrich.as_deref(),
        },
        s,
    );
    // A scenario's own `pipeline.command` replaces the manifest's (arguments taken literally).
    let pipeline = match s.pipeline.command.split_first() {
        None => pipeline.clone(),
        Some(_) => Arc::new(pipeline.with_command(&s.pipeline.command)?),
    };
    let m = &pipeline.manifest;
    let mut extra_env = BTreeMap::new();
    for (knob, value) in &s.pipeline.knobs {
        if let Some(var) = m.knobs.get(knob) {
            extra_env.insert(var.clone(), value.to_string());
        }
    }
    if let Some(d) = defect {
        pipeline.check_defect(d)?;
        if let Some(defects) = &m.defects {
            extra_env.insert(defects.variable.clone(), d.to_string());
        }
    }
    for (k, v) in &s.pipeline.env {
        extra_env.insert(k.clone(), v.clone());
    }
    Ok(WorkerSpec {
        pipeline: pipeline.clone(),
        values,
        extra_env,
        log_dir: log_dir.to_path_buf(),
    })
}
