//! Seeded workloads for faultline: the exact Kafka records to send, and what the pipeline must do with
//! each one.
//!
//! Module map:
//! - [`spec`]      `WorkloadSpec`: the knobs, their defaults and ranges, and `SpecError`.
//! - [`generate`](mod@generate) `generate`: valid events, duplicates and malformed records merged into a send order.
//! - [`recorded`]  `from_recorded`: the user's own recorded events (JSON lines) with the scenario's
//!   record faults on top: re-sends, reordering, byte-level malformed copies, poison pills.
//! - `place`       the send order shared by both: bounded shuffle, duplicate gaps, merging extras.
//! - `valid`       the valid events: ids, accounts, long-tailed amounts, event times, late and reordered.
//! - [`malformed`] malformed records with exactly one problem each, poison pills, oversized records.
//! - [`validate`](mod@validate) the oracle's reference validator of the event contract.
//! - [`reason`]    `ReasonCode`, `MAX_RECORD_BYTES`, `MAX_AMOUNT_CENTS`.
//! - [`event`]     the event type, `Kind`, `Channel`, and the byte-exact rendering of records.
//! - [`partition`] key partitioners (librdkafka and Java defaults) for cross-partition duplicates.
//! - [`workload`]  `Workload`, `WorkloadRecord`, `Expectation`, digest and expected outcomes.
//! - [`file`](mod@file)  JSON-lines workload files for failure bundles, with file-and-line errors
//!   (also the error type of recorded-event files).
//! - [`rng`]       the seeded ChaCha20 key per seed and stream per concern (also for fault schedules);
//!   the draws are faultline-rng's.
//!
//! # Determinism
//!
//! The same spec gives the same records, byte for byte and in the same order, on every machine
//! (for recorded workloads: the same file and spec): all draws come from ChaCha20 keyed by a hash
//! of `seed`, with one stream per concern (valid events, timestamps, lateness, reordering, schema
//! version, duplicates, malformed records, poison pills, oversized records; recorded workloads have
//! their own five). Changing one family's knob leaves the others' draws alone; in particular the
//! valid events' ids, accounts and amounts depend only on `seed`, `events` and `accounts`. Event
//! times start at a base time derived from the seed, never the wall clock.
//!
//! # The event contract
//!
//! A transaction event is a JSON object; the Kafka key is the `account_id` bytes:
//!
//! ```json
//! {"transaction_id": "<uuid v4>", "account_id": "acct-000123", "kind": "credit" | "debit",
//!  "amount_cents": 0..=100000000000, "created_at": "2026-11-23T10:00:00.123Z", "schema_version": 1}
//! ```
//!
//! - `amount_cents` is a JSON integer, `0 <= amount_cents <= 100_000_000_000`.
//! - `created_at` is an RFC 3339 timestamp in UTC.
//! - Schema version 2 adds one required field, `"channel": "web" | "pos" | "atm"`. Other versions
//!   are rejected, and so are fields the schema does not define.
//! - Balance effect: credit adds `amount_cents`, debit subtracts it; balances may go negative.
//! - `transaction_id` is the idempotency key: a re-sent transaction has no further effect.
//!
//! Records that break the contract are quarantined with a [`ReasonCode`]. When several problems
//! apply, the first in this list wins (the enum's declaration order):
//!
//! | code | meaning |
//! | --- | --- |
//! | `oversized` | value longer than [`MAX_RECORD_BYTES`] (65,536); checked before anything else |
//! | `empty_record` | zero-length value (tombstone-like) |
//! | `not_utf8` | value is not valid UTF-8 |
//! | `invalid_json` | not parseable JSON: truncated, syntax errors, poison pills such as unterminated 10,000-deep nesting |
//! | `not_an_object` | valid JSON, but not an object |
//! | `unknown_schema_version` | `schema_version` present and an integer, but not 1 or 2 |
//! | `missing_field` | a required field is absent |
//! | `unknown_field` | a field not in the schema (`channel` in version 1 included) |
//! | `wrong_type` | a field has the wrong JSON type (amount as a string, amount as the float 12.5) |
//! | `invalid_value` | right type, bad value: unknown kind or channel, `created_at` not RFC 3339, empty `transaction_id`/`account_id`, amount above the maximum |
//! | `negative_amount` | `amount_cents < 0` |
//!
//! Every malformed record this crate generates has exactly one of these problems. [`validate()`] is
//! the reference implementation the generator's tests hold it to; see its module for the choices
//! made where the contract is silent.
//!
//! # Example
//!
//! ```
//! use faultline_workload::{generate, Expectation, ReasonCode, WorkloadSpec};
//!
//! let spec: WorkloadSpec = serde_json::from_str(r#"{"seed": 7, "events": 100, "malformed_ratio": 0.1}"#).unwrap();
//! let workload = generate(&spec).unwrap();
//! assert_eq!(workload.counts().valid, 100);
//! assert_eq!(workload.counts().malformed_total(), 10);
//! assert_eq!(workload.digest(), generate(&spec).unwrap().digest());
//! for record in &workload.records {
//!     if let Expectation::Malformed { reason } = record.expect {
//!         assert_eq!(faultline_workload::validate(&record.value).unwrap_err(), reason);
//!     }
//! }
//! # let _ = ReasonCode::ALL;
//! ```

pub mod event;
pub mod file;
pub mod generate;
pub mod malformed;
pub mod partition;
mod place;
pub mod reason;
pub mod recorded;
pub mod rng;
pub mod spec;
mod valid;
pub mod validate;
pub mod workload;

pub use event::{Channel, Kind};
pub use file::FileError;
pub use generate::generate;
pub use partition::Partitioner;
pub use reason::{ReasonCode, MAX_AMOUNT_CENTS, MAX_RECORD_BYTES};
pub use recorded::{from_made, from_recorded, from_recorded_lines, MadeRecord, SchemaDamage};
pub use spec::{SpecError, WorkloadSpec};
pub use validate::{validate, ValidEvent};
pub use workload::{Counts, Expectation, ExpectedEvent, Workload, WorkloadRecord};
