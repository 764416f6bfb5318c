//! The `Fault` trait and what a fault can act on.

use std::collections::HashMap;
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
    /// One at a time per broker and for Postgres (see [`Gates`]).
    pub gates: Gates,
}

/// Faults that take a broker or Postgres down hold its gate from injection until it is back, so a
/// later fault on the same target starts only once the earlier one has healed (a broker that is
/// still recovering from a kill is not stopped mid-start, whatever the machine's load).
#[derive(Default)]
pub struct Gates(Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>);

/// A held gate; dropping it lets the next fault on that target go.
pub type GateGuard = tokio::sync::OwnedMutexGuard<()>;

impl Gates {
    /// Waits until no other fault holds `target`'s gate, then holds it.
    pub async fn hold(&self, target: &str) -> GateGuard {
        let gate = self
            .0
            .lock()
            .expect("gates lock")
            .entry(target.to_string())
            .or_default()
            .clone();
        gate.lock_owned().await
    }
}

/// One fault. `inject` returns what it hit (`worker:w2`, `broker:1`, `proxy:kafka-1`, ...);
/// `heal` undoes it (restart, resume, remove the toxic). Instantaneous faults heal with a no-op.
#[async_trait]
pub trait Fault: Send {
    /// Waits for the fault's turn (see [`Gates`]) before it is injected; the fault's recorded
    /// window starts after this.
    async fn claim(&mut self, _env: &FaultEnv<'_>) {}
    async fn inject(&mut self, env: &FaultEnv<'_>) -> Result<String>;
    async fn heal(&mut self, env: &FaultEnv<'_>) -> Result<()>;
    /// Parameters in words, for the timeline.
    fn describe(&self) -> String;
}
