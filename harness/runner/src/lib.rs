//! Running scenarios against real Kafka and Postgres: the engine behind `faultline run`.
//!
//! Module map (each depends only on the ones below it):
//! - [`suite`](run_suite) scenarios × seeds, sharding, stack reuse, reports and bundles, `repro`,
//!   `check` (validation and fault plans without a stack), the `interrupted` reports on a signal.
//! - `run`        one run: stack, workers, workload, faults, catch-up, checks. `run::progress`
//!   watches the pipeline's committed positions from its `ProgressSource` (Kafka group or SQL) and
//!   judges the catch-up (`caught_up`, with the stall verdict); `run::output` reads the manifest's
//!   output tables and makes the `differential` check; `run::golden` keeps their fault-free end
//!   state as insta snapshots (the `golden` check, `faultline golden accept`).
//!   `run::expectations` makes the `expectations` check from `[expect]` (with `mode = "command"`
//!   programs), `run::expected_dead_letters` the `dead_letters` check of `[expect.dead_letter]`.
//! - [`hunt`]     `faultline hunt`: the first failing seed of a range, searchers in parallel.
//! - [`shrink`]   `faultline shrink`: from a failing bundle to the smallest scenario that still
//!   fails with its anomaly class (delta debugging over cuts, k runs per candidate, a budget).
//! - `pipeline`   the pipeline under test from its manifest: placeholder values, setup, readiness.
//! - `comparison` `[compare]`: labels, the models' statistics over what landed, the scores stored
//!   exactly once against the fault-free baseline, each model's robustness under the faults.
//! - `profile`    the account profile the enrichment double serves, shared by run and comparison.
//! - `error`      `RunnerError`.
//!
//! Public: what `faultline` (harness/cli) and the integration tests use: [`run_suite`], [`repro`],
//! [`check`] ([`CheckReport`], [`CheckedRun`]), [`SuiteOptions`], [`produce`] (sending a workload),
//! [`enrichment`] (the profile service), [`ProgressSource`] with its [`ProgressReader`] (where a
//! pipeline's committed positions are read), [`dead_letters`] (reading a dead-letter topic
//! read_committed), [`check_role`] (the role data checks run as), [`golden`] (the snapshot
//! format, and accepting pending snapshots), and for the benches [`expectations`] (reading the
//! declared tables) and [`schema_workload`] (events from an `[input] schema`).

mod comparison;
mod error;
pub mod hunt;
mod pipeline;
mod profile;
mod run;
pub mod shrink;
mod suite;

pub use error::{Result, RunnerError};
/// `SuiteOptions::group_protocol`'s type, for callers that do not depend on the scenario crate.
pub use faultline_scenario::GroupProtocol;
pub use run::progress::{Observed, Placeholders, ProgressReader, ProgressSource};
pub use run::{check_role, dead_letters, enrichment, expectations, golden, produce};
pub use suite::schema_workload;
pub use suite::{check, repro, run_suite, CheckReport, CheckedRun, SuiteOptions};
