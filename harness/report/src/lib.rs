//! Reports of faultline runs: the data model and the files written from it.
//!
//! Module map:
//! - [`model`] `SuiteReport`, `RunReport`, checks, faults, stats, samples: the `report.json` contract.
//! - [`json`] `report.json` (suite) and `runs/<scenario>-<seed>/report.json` (one run).
//! - [`junit`] `junit.xml`: a testsuite per run, a testcase per check.
//! - [`html`] `report.html`: one self-contained page (inline CSS and SVG, no scripts).
//! - [`svg`] the HTML's charts: fault timeline and throughput/lag plot.
//! - [`markdown`] `summary.md` for terminals and CI comments.
//! - [`investigate`] across runs: reproduction rates (`--repeat`), `hunt`, the `shrink` log.
//! - [`stall`] commit stalls: records waiting and no commit for 2 s or more, put down to faults.
//! - [`recovery`] each fault's `time_to_recover`: from its heal until the backlog is back to normal.
//! - [`write`] [`write_all`]: every file into one directory; [`ReportError`].
//! - [`escape`] XML/HTML escaping shared by the writers; [`units`] number and time formatting.
//! - [`fixtures`] a two-run sample suite for tests and demos.

pub mod escape;
pub mod fixtures;
pub mod html;
pub mod investigate;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod model;
pub mod recovery;
pub mod stall;
pub mod svg;
pub mod units;
pub mod write;

pub use investigate::{
    Hunt, HuntedSeed, Reproducibility, Reproduction, ScenarioSize, ShrinkLog, ShrinkStep,
    ShrinkStop,
};
pub use model::{
    CheckResult, CheckStatus, FaultEvent, FaultOutcome, Row, RunReport, RunStats, Sample,
    SuiteReport, Verdict, MAX_FAILING_ROWS,
};
pub use recovery::Recovery;
pub use stall::{find_stalls, Stall};
pub use write::{write_all, ReportError, WrittenFiles};
