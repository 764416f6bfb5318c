//! Pipeline manifests are data: one TOML file beside a pipeline says how faultline starts it (its
//! command and its own environment variable names, filled from placeholders), prepares it (setup SQL
//! or a migration command), waits for it (`ready`), knows it has caught up (`progress`), and what
//! its end state is (`output` tables). `faultline run <scenarios> --pipeline faultline.toml` runs
//! any suite against it. The reference ledger pipeline is driven through its own manifest too.
//!
//! Module map:
//! - [`placeholder`] the one table of `{placeholders}` (`Placeholder`) and `Template`.
//! - [`manifest`]    `Manifest` as the runner uses it: paths resolved, templates parsed, enums.
//! - [`load`]        the TOML schema, validation, `find_program`; errors name file, line, field.
//! - [`error`]       `ManifestError`.
//!
//! # Example
//!
//! ```
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("faultline.toml");
//! std::fs::write(&path, r#"
//! command = ["python3", "pipeline.py"]
//! [env]
//! KAFKA_BOOTSTRAP_SERVERS = "{kafka_bootstrap}"
//! DATABASE_URL = "{postgres_url}"
//! "#).unwrap();
//! let m = faultline_manifest::load::load(&path).unwrap();
//! assert_eq!(m.env["DATABASE_URL"].to_string(), "{postgres_url}");
//! ```

pub mod error;
pub mod load;
pub mod manifest;
pub mod placeholder;

pub use error::ManifestError;
pub use manifest::{
    Builtin, Defects, Guarantee, Input, Manifest, OutputTable, Probe, Progress, Ready, Replay,
    SchemaInput, Setup,
};
pub use placeholder::{Placeholder, Scope, Template};
