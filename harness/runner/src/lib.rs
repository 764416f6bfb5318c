//! Running scenarios against real Kafka and Postgres: the engine behind `faultline run`.
//!
//! Module map (each depends only on the ones below it):
//! - [`suite`](run_suite) scenarios × seeds, sharding, stack reuse, reports and bundles, `repro`.
//! - `run`        one run: stack, workers, workload, faults, catch-up, checks.
//! - `comparison` `[compare]`: labels, the models' statistics over what landed, the agreement check.
//! - `profile`    the account profile the enrichment double serves, shared by run and comparison.
//! - `error`      `RunnerError`.
//!
//! Public: what `faultline` (harness/cli) and the integration tests use: [`run_suite`], [`repro`],
//! [`SuiteOptions`], [`produce`] (sending a workload), [`enrichment`] (the profile service) and
//! [`dead_letters`] (reading a dead-letter topic read_committed) and [`check_role`] (the role data
//! checks run as).

mod comparison;
mod error;
mod profile;
mod run;
mod suite;

pub use error::{Result, RunnerError};
pub use run::{check_role, dead_letters, enrichment, produce};
pub use suite::{repro, run_suite, SuiteOptions};
