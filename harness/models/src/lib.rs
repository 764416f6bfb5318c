//! Offline champion/challenger comparison for the fraud-scoring step of the reference pipeline.
//!
//! Load two models ([`load_model`]), a labelled dataset ([`Dataset::load`]) and a promotion policy
//! ([`Policy::load`]); [`compare`] scores both models on every row, measures each, bootstraps the
//! deltas, runs McNemar's test and returns a [`Comparison`] with a [`Verdict`];
//! [`write_outputs`] writes `comparison.json`, `summary.md` and `report.html`, and
//! [`exit_code`] maps the outcome to the CLI's exit status (promote 0, keep/inconclusive 1,
//! invalid input 2).
//!
//! Module map:
//! - [`features`]  the named feature vector a model sees, built from one enriched transaction.
//! - [`time`]      RFC 3339 timestamps (parsed by the `time` crate) reduced to the UTC instant.
//! - [`matrix`]    a dense table of feature rows, what models score in bulk.
//! - [`model`]     the `Model` trait; scorecard, ONNX and HTTP formats; `load_model`.
//!   `model::onnx` checks a sidecar against its graph and runs skl2onnx exports (ZipMap,
//!   tree ensembles); its `graph` submodule reads and edits the ONNX protobuf, `sidecar` parses
//!   the sidecar and its test vectors.
//! - [`dataset`]   labelled datasets in JSON Lines or CSV, with file/line/field errors.
//! - [`generate`]  the seeded synthetic dataset and its documented "true" label process.
//! - [`metrics`]   confusion matrix, precision, recall, F1, accuracy, PR-AUC, PR curve.
//! - [`bootstrap`] paired bootstrap percentile intervals of metric deltas, by cell counts or rows.
//! - [`mcnemar`]   McNemar's exact test on discordant predictions.
//! - [`scores`]    per-row scores of both models: `--scores` input and the `scores.csv` output.
//! - [`policy`]    MLflow-style metric gates from TOML and the verdict rule.
//! - [`robustness`] each model's change from a fault-free run to a faulted one, by fault window,
//!   and the `[[robustness]]` gates on it.
//! - [`compare`]   the comparison itself and the exit-code mapping.
//! - [`report`]    `comparison.json`, `summary.md`, `report.html` (inline SVG).
//! - [`rng`]       the seeded streams (faultline-rng's ChaCha8 variant), with fixed sub-stream ids.
//! - [`error`]     the crate's error type.

pub mod bootstrap;
pub mod compare;
pub mod dataset;
pub mod error;
pub mod features;
pub mod generate;
pub mod matrix;
pub mod mcnemar;
pub mod metrics;
pub mod model;
pub mod policy;
pub mod report;
pub mod rng;
pub mod robustness;
pub mod scores;
pub mod time;

#[cfg(test)]
mod golden_tests;

pub use bootstrap::Resampling;
pub use compare::{
    compare, compare_scored, compare_scores, exit_code, score_dataset, Comparison, Delta,
    ModelResult, ModelScores,
};
pub use compare::{EXIT_INVALID_INPUT, EXIT_NOT_PROMOTED, EXIT_PROMOTE};
pub use dataset::{DataColumns, Dataset, LabelledRow};
pub use error::{ModelError, Result};
pub use features::{Features, TxnInput};
pub use matrix::FeatureMatrix;
pub use metrics::MetricName;
pub use model::{load_model, Model};
pub use policy::{Gate, Policy, RobustnessGate, Verdict};
pub use report::write_outputs;
pub use robustness::{PairedRow, Robustness, RowSet};
pub use scores::{RowScores, ScoreColumns};
