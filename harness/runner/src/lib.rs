//! Running scenarios against real Kafka and Postgres: the engine behind `faultline run`.
//!
//! Module map:
//! - [`suite`]      scenarios × seeds, sharding, stack reuse, reports, `repro` from a bundle.
//! - [`run`]        one run: workers, workload, faults, catch-up, checks.
//! - [`setup`]      fault proxies, the stack behind them, per-run topic/schema/group names.
//! - [`workers`]    the pipeline under test through its process contract: start, signal, replace.
//! - [`produce`]    sending the workload at the scenario's rate; where and when each record went.
//! - [`timeline`]   executing the fault plan on the run's clock; fault windows; attribution.
//! - [`faults`]     the `Fault` trait and one type per family (process, infra, network, enrichment).
//! - [`enrichment`] the account-profile service double the enrichment faults switch.
//! - [`progress`]   progress samples, high watermarks, waiting for the pipeline to catch up.
//! - [`checks`]     oracle checks with fault attribution, data checks, replay, run health.
//! - [`compare`]    `[compare]`: champion vs challenger from what landed, against a fault-free baseline.
//! - [`bundle`]     failure bundles: written on failure, read back by `repro`.
//! - [`error`]      `RunnerError`.

pub mod bundle;
pub mod checks;
pub mod compare;
pub mod enrichment;
pub mod error;
pub mod faults;
pub mod produce;
pub mod progress;
pub mod run;
pub mod setup;
pub mod suite;
pub mod timeline;
pub mod workers;

pub use error::{Result, RunnerError};
pub use suite::{repro, run_suite, SuiteOptions};
