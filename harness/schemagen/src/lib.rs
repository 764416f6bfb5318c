//! Seeded Kafka records from a user's input-event schema, for faultline's chaos runs.
//!
//! A team's manifest names the schema of its pipeline's input events: a JSON Schema (draft
//! 2020-12) file or an Avro `.avsc`. This crate loads and checks that schema
//! ([`InputSchema::load`]), generates records from it with per-field overrides ([`generate`],
//! [`GenSpec`], [`FieldRule`]), and derives malformed records that each carry exactly one
//! schema-level problem ([`malformed`], [`malformed_for`], [`Defect`]).
//!
//! Modules:
//! - `error`: [`SchemaError`], whose messages name the file, the keyword, its place and the fix.
//! - `schema`: [`InputSchema`]; lowers JSON Schema (`schema/json.rs`) and Avro (`schema/avro.rs`)
//!   into one internal shape tree (`schema/shape.rs`) and checks records with jsonschema or
//!   apache-avro.
//! - `strategy`: shape → proptest strategy of `serde_json::Value`s.
//! - `rules`: [`FieldRule`] overrides and their stateful application (keys, identity, clocks…).
//! - `generate`: [`generate`] — the seeded runner that draws, applies rules and checks records.
//! - `malformed`: [`malformed`] — one defect per record, verified to fail the schema.
//! - `clock`: RFC 3339 formatting and parsing (with `time`). The rules' and `malformed`'s own
//!   draws come from the workspace's `faultline-rng` (ChaCha8), apart from proptest's stream.
//!
//! Determinism: the same schema text, [`GenSpec`] and crate version give byte-identical records
//! (values and keys); different seeds give different records. Records are drawn with a proptest
//! `TestRunner` whose ChaCha RNG is seeded from SHA-256(`"faultline-schemagen"` ‖ seed as
//! little-endian bytes), so the output depends only on this crate and the pinned proptest. Value
//! bytes are compact JSON with object keys in alphabetical order (serde_json without
//! `preserve_order`), not schema order.
//!
//! ```
//! use std::path::Path;
//! use faultline_schemagen::{generate, malformed_for, Defect, GenSpec, InputSchema};
//!
//! let schema = InputSchema::from_json_schema(r#"{
//!     "$schema": "https://json-schema.org/draft/2020-12/schema",
//!     "type": "object",
//!     "properties": {
//!         "order_id": {"type": "string"},
//!         "event_id": {"type": "string"},
//!         "status": {"enum": ["created", "paid"]}
//!     },
//!     "required": ["order_id", "event_id", "status"],
//!     "additionalProperties": false
//! }"#, Path::new("orders.schema.json"))?;
//! assert_eq!(schema.fields(), ["order_id", "event_id", "status"]);
//! let spec = GenSpec { seed: 7, events: 3, key: "order_id".into(), identity: "event_id".into(),
//!                      ..GenSpec::default() };
//! let records = generate(&schema, &spec)?;
//! assert_eq!(records, generate(&schema, &spec)?);
//! let (bad, field) = malformed_for(&schema, &spec, &records[0].json, Defect::NotInEnum, 1).unwrap();
//! assert_eq!(field, "status");
//! assert!(schema.check(&bad).is_err());
//! # Ok::<(), faultline_schemagen::SchemaError>(())
//! ```

mod clock;
mod error;
mod generate;
mod malformed;
mod rules;
mod schema;
mod strategy;

pub use error::{SchemaError, SUPPORTED_KEYWORDS};
pub use generate::{generate, GenSpec, Generated};
pub use malformed::{malformed, malformed_for, Defect, UNKNOWN_FIELD};
pub use rules::{FieldRule, TimeMode, VersionMode};
pub use schema::InputSchema;

#[cfg(test)]
mod tests;
