//! faultline's TCP fault proxy: it sits in front of each Kafka broker and Postgres (Kafka's
//! advertised listeners point at it) and injects network faults ("toxics", with Toxiproxy's names
//! and units) into live connections on a seeded, replayable basis.
//!
//! Module map:
//! - [`proxy`](mod@proxy) `Proxy` and `ProxyStats`: the listener, the registry of open connections, the controls.
//! - `conn`       one connection: dial the upstream, run both pumps, close or reset as asked.
//! - `pump`       one direction: the plain copy loop, or the toxic path with its timed queue.
//! - `chain`      the toxics of one direction as a chain of stages turning chunks into timed pieces.
//! - `board`      the proxy's toxic list, shared with every pump, with a wake-up on change.
//! - [`toxic`]    `ToxicId`, and `Toxic`, `ToxicKind`, `Direction` re-exported from faultline-scenario.
//! - `rng`        the ChaCha20 key per (seed, connection, toxic) and the draws made on it.
//! - `pg_wire`    just enough of Postgres' server messages to find a COMMIT's acknowledgement.
//! - [`error`]    `ProxyError`.
//!
//! # Streams and the chain
//!
//! Each connection has two pumps: client to upstream (the `upstream` direction) and upstream to
//! client (`downstream`). A toxic's `direction` picks the pumps it affects. Within a pump, toxics
//! apply in the order they were added, each taking the previous one's output, like turmoil's rules.
//! Toxics are added to and removed from open connections too, since Kafka keeps its connections for
//! hours; removing one releases whatever it was holding back.
//!
//! # Determinism
//!
//! Nothing here draws from `thread_rng` or the clock. Every random choice (whether a toxic applies
//! to a connection, each chunk's jitter, each slice's size) comes from a ChaCha20 stream keyed by
//! the proxy's seed, the connection's index (0, 1, 2, … in the order the proxy forwarded them) and
//! the toxic's id (1, 2, 3, … in the order added), with one stream per concern and direction. A run
//! with the same seed, the same toxic additions and the same connection order makes the same draws.
//! Wall-clock timing (when a chunk happens to arrive) is the one input that is not replayed.
//!
//! # Differences from Toxiproxy
//!
//! - `timeout` holds data instead of discarding it (nothing is read or written while it applies),
//!   so a healed connection carries an intact byte stream, as after a real partition.
//! - `reset_peer` resets both sockets whatever its direction; its direction only picks whose timer
//!   and probability count.
//! - A disabled proxy closes its listening socket, so new clients see "connection refused".
//! - `commit_in_doubt` is protocol-aware (Postgres, downstream): it closes the connection in place
//!   of a COMMIT's acknowledgement, the one moment an exactly-once sink must get right.

pub mod error;
pub mod proxy;
pub mod toxic;

mod board;
mod chain;
mod conn;
mod pg_wire;
mod pump;
mod rng;

pub use error::ProxyError;
pub use proxy::{Proxy, ProxyStats};
pub use toxic::{Direction, InvalidToxic, Toxic, ToxicId, ToxicKind};
