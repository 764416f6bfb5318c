//! Scenarios are data: one TOML file says what to start, what to send, which faults to inject and
//! when, and what to check. No scenario needs Rust code.
//!
//! Module map:
//! - [`scenario`] the file's schema: `Scenario` and its sections, every field documented with its default.
//! - [`fault`]    one `[[faults]]` entry as written (`FaultEntry`) and as validated (`FaultAction`).
//! - [`schedule`] the plan: fixed faults plus faults drawn from the seed, in start order.
//! - [`load`]     reading files and directories; errors name the file, line, field and allowed values.
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

pub mod error;
pub mod fault;
pub mod load;
pub mod scenario;
pub mod schedule;

pub use error::ScenarioError;
pub use fault::{BrokerSel, Family, FaultAction, FaultEntry, NetTarget, WorkerSel};
pub use scenario::Scenario;
pub use schedule::{plan, PlannedFault, Trigger};
