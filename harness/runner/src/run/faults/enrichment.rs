//! Enrichment faults: the profile service answers an error status, or answers late.

use async_trait::async_trait;

use super::fault::{Fault, FaultEnv};
use crate::error::{Result, RunnerError};

/// An outage (`status`) or a slowdown (`latency_ms`) of the profile service for the window.
pub struct Outage {
    status: Option<u16>,
    latency_ms: u64,
}

impl Outage {
    pub fn status(status: u16) -> Self {
        Self {
            status: Some(status),
            latency_ms: 0,
        }
    }
    pub fn latency(latency_ms: u64) -> Self {
        Self {
            status: None,
            latency_ms,
        }
    }
}

#[async_trait]
impl Fault for Outage {
    async fn inject(&mut self, env: &FaultEnv<'_>) -> Result<String> {
        let p = env.profiles.as_ref().ok_or_else(|| {
            RunnerError::Usage("enrichment faults need pipeline.enrichment = true".into())
        })?;
        match self.status {
            Some(s) => p.fail_with(s),
            None => p.delay(self.latency_ms),
        }
        Ok("enrichment".into())
    }
    async fn heal(&mut self, env: &FaultEnv<'_>) -> Result<()> {
        if let Some(p) = &env.profiles {
            p.heal();
        }
        Ok(())
    }
    fn describe(&self) -> String {
        match self.status {
            Some(s) => format!("profile service answers HTTP {s}"),
            None => format!("profile service answers {} ms late", self.latency_ms),
        }
    }
}
