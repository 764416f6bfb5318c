//! Running scenarios against real Kafka and Postgres: the engine behind `faultline run`.
//!
//! Module map (each depends only on the ones below it):
//! - [`suite`](run_suite) scenarios × seeds, sharding, stack reuse, reports and bundles, `repro`,
//!   `check` (validation and fault plans without a stack), the `interrupted` reports on a signal.
//! - `run`        one run: stack, workers, workload, faults, catch-up, checks.
//! - `comparison` `[compare]`: labels, the models' statistics over what landed, the agreement check.
//! - `profile`    the account profile the enrichment double serves, shared by run and comparison.
//! - `error`      `RunnerError`.
//!
//! Public: what `faultline` (harness/cli) and the integration tests use: [`run_suite`], [`repro`],
//! [`check`] ([`CheckReport`], [`CheckedRun`]), [`SuiteOptions`], [`produce`] (sending a workload)
//! and [`enrichment`] (the profile service).

mod comparison;
mod error;
mod profile;
mod run;
mod suite;

pub use error::{Result, RunnerError};
pub use run::{enrichment, produce};
pub use suite::{check, repro, run_suite, CheckReport, CheckedRun, SuiteOptions};
