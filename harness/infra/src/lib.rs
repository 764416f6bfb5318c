//! Real Apache Kafka and PostgreSQL for the faultline harness, behind one trait.
//!
//! A [`Backend`] starts a [`Stack`]: one Kafka cluster (one broker, or three in KRaft with RF=3) and one
//! Postgres server. The stack exposes the addresses the pipeline under test is given and the operations
//! the fault injector calls (kill, pause, restart a broker; restart Postgres; terminate its backends).
//!
//! Module map:
//! - [`spec`]       what to start: broker count, advertised-address overrides; `BackendKind` (from faultline-scenario).
//! - [`stack`]      the `Stack` trait every backend's running stack implements.
//! - [`backend`]    the `Backend` trait, `auto` selection, and the Docker probe.
//! - [`containers`] testcontainers backend (official images by default, local ones by env).
//! - [`processes`]  local processes: Kafka jars via `java`, Postgres via `initdb`/`postgres`.
//! - [`external`]   services someone else runs, given by bootstrap servers and a Postgres URL.
//! - [`kafka_config`] broker settings shared by both self-hosted backends (ports, KRaft voters, RF).
//! - [`kafka_query`]  watermark and metadata queries asked again through a leader election.
//! - [`pg`]         Postgres connection settings with the password kept out of logs.
//! - [`ready`]      readiness probes: Kafka metadata with every broker present, a Postgres query.
//! - [`reaper`]     the registry of everything started, cleaned up on drop, panic, Ctrl-C or SIGTERM.
//! - [`signals`]    SIGINT/SIGTERM/SIGHUP: hooks, reap, exit 128 + signal.
//! - [`console`]    the harness's own output lines; a closed stdout/stderr drops them, the run goes on.
//! - [`stale`]      owner records in temp dirs; removing the dirs of harnesses that were SIGKILLed.
//! - [`ports`]      free loopback ports.
//! - [`doctor`]     `faultline infra check`: round trips, a broker restart, each step timed.
//! - [`error`]      the crate's error type.

pub mod backend;
pub mod console;
pub mod containers;
pub mod doctor;
pub mod error;
pub mod external;
pub mod kafka_config;
pub mod kafka_query;
pub mod pg;
pub mod ports;
pub mod processes;
pub mod ready;
pub mod reaper;
pub mod signals;
pub mod spec;
pub mod stack;
pub mod stale;

pub use backend::{backend_for, docker_available, Backend};
pub use error::{InfraError, Result};
pub use pg::PgConfig;
pub use spec::{BackendKind, StackSpec};
pub use stack::{BrokerId, Stack};
