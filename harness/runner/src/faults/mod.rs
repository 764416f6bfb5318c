//! Fault injection: one small trait, one type per family. The schedule (faultline-scenario) decides
//! when a fault starts and how long it lasts; a fault only knows how to start and how to heal.
//!
//! - [`process`]    worker processes: SIGKILL, SIGSTOP/SIGCONT, graceful restart, scaling.
//! - [`infra`]      brokers and Postgres through the stack: kill, stop, pause, restart, terminate backends.
//! - [`network`]    fault-proxy toxics and partitions in front of brokers and Postgres.
//! - [`enrichment`] the profile service double: error status or latency.

pub mod enrichment;
pub mod infra;
pub mod network;
pub mod process;

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use faultline_infra::Stack;
use faultline_proxy::Proxy;
use faultline_scenario::{FaultAction, PlannedFault};

use crate::enrichment::ProfileService;
use crate::error::Result;
use crate::workers::WorkerPool;

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

/// The fault implementing a planned fault.
pub fn fault_for(planned: &PlannedFault) -> Box<dyn Fault> {
    let pick = planned.pick;
    let id = planned.id.clone();
    match &planned.action {
        FaultAction::KillWorker {
            worker,
            in_transaction,
        } => Box::new(process::KillWorker::new(
            worker.clone(),
            pick,
            id,
            *in_transaction,
        )),
        FaultAction::PauseWorker {
            worker,
            in_transaction,
        } => Box::new(process::PauseWorker::new(
            worker.clone(),
            pick,
            id,
            *in_transaction,
        )),
        FaultAction::RestartWorker { worker } => {
            Box::new(process::RestartWorker::new(worker.clone(), pick, id))
        }
        FaultAction::ScaleWorkers { workers } => Box::new(process::ScaleWorkers::new(*workers)),
        FaultAction::KillBroker { broker } => Box::new(infra::BrokerDown::kill(*broker, pick)),
        FaultAction::StopBroker { broker } => Box::new(infra::BrokerDown::stop(*broker, pick)),
        FaultAction::PauseBroker { broker } => Box::new(infra::BrokerDown::pause(*broker, pick)),
        FaultAction::KillPostgres => Box::new(infra::PostgresDown::kill()),
        FaultAction::RestartPostgres => Box::new(infra::PostgresDown::restart()),
        FaultAction::TerminatePgBackends => Box::new(infra::TerminateBackends),
        FaultAction::Network { target, toxic } => {
            Box::new(network::Toxics::new(*target, Some(toxic.clone())))
        }
        FaultAction::Partition { target } => Box::new(network::Toxics::new(*target, None)),
        FaultAction::EnrichmentOutage { status } => Box::new(enrichment::Outage::status(*status)),
        FaultAction::EnrichmentLatency { latency_ms } => {
            Box::new(enrichment::Outage::latency(*latency_ms))
        }
    }
}
