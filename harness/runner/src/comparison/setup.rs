//! A `[compare]` block made ready to use: the two model files read, the policy, the seed.

use std::sync::Arc;

use faultline_models::{Model, Policy};
use faultline_scenario::Scenario;

use crate::error::{Result, RunnerError};

/// What the comparison needs to know about one model file, and the model itself (to score the
/// rows a pipeline stored on fallback features).
#[derive(Debug, Clone)]
pub struct ModelInfo {
    pub version: String,
    pub format: String,
    pub threshold: f64,
    pub model: Arc<dyn Model>,
}

impl ModelInfo {
    /// The information of `model`.
    pub fn of(model: Arc<dyn Model>) -> Self {
        Self {
            version: model.version().to_string(),
            format: model.format().to_string(),
            threshold: model.threshold(),
            model,
        }
    }
}

/// A `[compare]` block made ready to use: both models' versions and thresholds, the policy, the
/// bootstrap seed.
#[derive(Debug, Clone)]
pub struct CompareSetup {
    pub champion: ModelInfo,
    pub challenger: ModelInfo,
    pub policy: Policy,
    pub seed: u64,
}

impl CompareSetup {
    /// Loads the model files and policy of a scenario whose paths are resolved
    /// ([`Scenario::resolve_paths`]); `None` without a `[compare]` block. Errors name the file.
    pub fn load(s: &Scenario, run_seed: u64) -> Result<Option<Self>> {
        let Some(section) = &s.compare else {
            return Ok(None);
        };
        let info = |role: &str, path: &Option<String>| -> Result<ModelInfo> {
            let path = path.as_deref().ok_or_else(|| {
                RunnerError::Usage(format!("[compare] needs pipeline.{role}, a model file"))
            })?;
            Ok(ModelInfo::of(Arc::from(faultline_models::load_model(
                path,
            )?)))
        };
        Ok(Some(Self {
            champion: info("champion", &s.pipeline.champion)?,
            challenger: info("challenger", &s.pipeline.challenger)?,
            policy: match &section.policy {
                Some(p) => Policy::load(p)?,
                None => Policy::all_metrics(),
            },
            seed: section.seed.unwrap_or(run_seed),
        }))
    }
}
