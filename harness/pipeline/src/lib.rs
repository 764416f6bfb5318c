//! The reference pipeline under test: an exactly-once Kafka → Postgres ledger.
//!
//! Workers run as separate OS processes in one consumer group and are driven only through the
//! process contract (environment variables, see docs/PIPELINE-CONTRACT.md), like any user pipeline.
//!
//! Module map:
//! - [`config`]   the process contract: every setting, and the mode, from an environment variable.
//! - [`validate`] the event schema and the closed set of rejection reason codes.
//! - [`enrich`]   the account-profile HTTP client: cache, timeouts, retries, backoff.
//! - [`score`]    features (faultline-models'), model files or the built-in champion and challenger.
//! - [`process`]  validate → enrich → score for a batch.
//! - [`record`]   a consumed record and its outcome.
//! - [`sink`]     the one-transaction-per-batch Postgres load with the offset fence and lineage.
//! - [`dlq`]      the dead-letter topic producer.
//! - [`worker`]   the consume loop and its partition ownership rules.
//! - [`dryrun`]   process a range or a file and report the would-be changes, committing nothing.
//! - [`recovery`] rebuild derived tables from the immutable raw table; idempotent backfill.
//! - [`metrics`]  Prometheus job metrics, `/metrics` and `/healthz`.
//! - [`alerts`]   Alertmanager-style webhook pushes on the dead-letter ratio.
//! - [`defects`]  deliberately planted defects (cargo feature `planted-defects`), for the harness.

pub mod alerts;
pub mod config;
pub mod defects;
pub mod dlq;
pub mod dryrun;
pub mod enrich;
pub mod metrics;
pub mod process;
pub mod record;
pub mod recovery;
pub mod score;
pub mod sink;
pub mod validate;
pub mod worker;
