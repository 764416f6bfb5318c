//! Fault injection: one small trait, one type per family. The schedule (faultline-scenario) decides
//! when a fault starts and how long it lasts; a fault only knows how to start and how to heal.
//!
//! - `fault`      the `Fault` trait and `FaultEnv`, what a fault can act on.
//! - `process`    worker processes: SIGKILL, SIGSTOP/SIGCONT, graceful restart, scaling.
//! - `in_transaction` which worker a worker fault hits; freezing it inside its own transaction.
//! - `infra`      brokers and Postgres through the stack: kill, stop, pause, restart, terminate backends.
//! - `network`    fault-proxy toxics and partitions in front of brokers and Postgres.
//! - `enrichment` the profile service double: error status or latency.

mod enrichment;
mod fault;
mod in_transaction;
mod infra;
mod network;
mod process;

use faultline_scenario::{FaultAction, PlannedFault};

pub(crate) use fault::{Fault, FaultEnv};
pub(crate) use in_transaction::NO_TRANSACTION_SEEN;

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
