//! The `Fault` trait and what a fault can act on.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use faultline_infra::Stack;
use faultline_proxy::Proxy;

use crate::error::Result;
use crate::run::enrichment::ProfileService;
use crate::run::workers::WorkerPool;

/// Everything a fault can act on during a run.
pub struct FaultEnv<'a> {
    pub stack: &'a dyn Stack,
    pub workers: Arc<Mutex<WorkerPool>>,
    /// One proxy per broker (index = broker id - 1); empty when the run has no proxies.
    pub kafka_proxies: &'a [Proxy],
    pub postgres_proxy: Option<&'a Proxy>,
    pub profiles: Option<Arc<ProfileService>>,
}

/// One fault. `inject` returns what it hit (`worker:w2`, `broker:1`, `proxy:kafka-1`, ...);
/// `heal` undoes it (restart, resume, remove the toxic). Instantaneous faults heal with a no-op.
#[async_trait]
pub trait Fault: Send {
    async fn inject(&mut self, env: &FaultEnv<'_>) -> Result<String>;
    async fn heal(&mut self, env: &FaultEnv<'_>) -> Result<()>;
    /// Parameters in words, for the timeline.
    fn describe(&self) -> String;
}
