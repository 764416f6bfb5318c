//! Scenarios are data: one TOML file says what to start, what to send, which faults to inject and
//! when, and what to check. No scenario needs Rust code.
//!
//! Module map:
//! - [`scenario`] the file's schema: `Scenario` and its sections, every field documented with its
//!   default; `BackendKind`.
//! - [`fault`]    one `[[faults]]` entry as written (`FaultEntry`), the table of kinds (`FaultKind`),
//!   and the entry as validated (`FaultAction`).
//! - [`toxic`]    network faults as the fault proxy applies them: `Toxic`, `ToxicKind`, `Direction`.
//! - [`group_protocol`] `GroupProtocol`: classic or KIP-848 `consumer` group protocol for the workers.
//! - [`guarantee`] `Guarantee`: a pipeline's declared delivery guarantee (its manifest's `guarantee`).
//! - [`data_check`] `[[checks.data]]`: `DataCheck`, `DataCheckKind`, `Severity` (the oracle runs them).
//! - [`knob`]     `Knob`: tuning values scenarios set by name and manifests map to variables.
//! - [`schedule`] the plan: fixed faults plus faults drawn from the seed, in start order.
//! - [`load`]     reading files and directories, and validation (ranges, faults that can happen);
//!   errors name the file, line, field and allowed values.
//! - [`name`]     `safe_name`: a scenario name is one plain path component (the runner reuses it).
//! - [`error`]    `ScenarioError`.
//!
//! # Example
//!
//! ```
//! let text = r#"
//! [workload]
//! events = 5000
//!
//! [[faults]]
//! kind = "kill_worker"
//! at_ms = 2000
//! "#;
//! let scenario = faultline_scenario::load::parse(text, "example.toml").unwrap();
//! let plan = faultline_scenario::schedule::plan(&scenario, 7).unwrap();
//! assert_eq!(plan.len(), 1);
//! assert_eq!(plan[0].id, "kill_worker#1");
//! ```

pub mod data_check;
pub mod error;
pub mod fault;
pub mod group_protocol;
pub mod guarantee;
pub mod knob;
pub mod load;
pub mod name;
pub mod scenario;
pub mod schedule;
pub mod toxic;

pub use data_check::{DataCheck, DataCheckKind, Severity};
pub use error::ScenarioError;
pub use fault::{BrokerSel, Family, FaultAction, FaultEntry, FaultKind, NetTarget, WorkerSel};
pub use group_protocol::{GroupProtocol, UnknownGroupProtocol};
pub use guarantee::Guarantee;
pub use knob::Knob;
pub use name::{safe_name, SAFE_NAME_RULE};
pub use scenario::{BackendKind, Scenario, UnknownBackend};
pub use schedule::{plan, PlannedFault, Trigger};
pub use toxic::{Direction, InvalidToxic, Toxic, ToxicKind};
