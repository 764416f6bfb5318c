//! The crate's error type. Every variant a user can trigger names the file (or URL) and the field or
//! row at fault, so the message alone says what to fix.

use std::path::PathBuf;

/// Result alias used across the crate.
pub type Result<T, E = ModelError> = std::result::Result<T, E>;

/// Everything that can go wrong loading models, datasets and policies, scoring, and writing outputs.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },

    /// A model file parsed but one of its fields is wrong.
    #[error("model {}: field `{field}`: {problem}", path.display())]
    ModelField {
        /// The model file.
        path: PathBuf,
        /// Dotted path of the offending field, e.g. `weights.amount_log`.
        field: String,
        /// What is wrong and, where possible, what is expected.
        problem: String,
    },

    /// A model file whose format could not be recognised.
    #[error("model {}: {problem}; expected a JSON file with \"format\" one of scorecard, onnx, http, or a .onnx file with a .onnx.json sidecar", path.display())]
    UnknownFormat {
        /// The model file.
        path: PathBuf,
        /// What was found instead.
        problem: String,
    },

    /// The ONNX runtime rejected a model or failed while running it.
    #[error("onnx model {}: {message}", path.display())]
    Onnx {
        /// The `.onnx` file.
        path: PathBuf,
        /// The runtime's message, with its cause chain.
        message: String,
    },

    /// An ONNX sidecar disagrees with its graph: feature names, order or width, the output, or a
    /// test vector's score. The problem says what the sidecar says and what the graph says.
    #[error("onnx sidecar {} field `{field}` disagrees with graph {}: {problem}", sidecar.display(), graph.display())]
    SidecarMismatch {
        /// The `.onnx.json` file.
        sidecar: PathBuf,
        /// The `.onnx` file.
        graph: PathBuf,
        /// The sidecar field at fault, e.g. `features` or `test_vectors[2].score`.
        field: String,
        /// Both sides, and what to change.
        problem: String,
    },

    /// A feature was built without support for a model format.
    #[error("model {}: format `{format}` is not in this build (built without the `{format}` cargo feature, as `ci/smoke.sh` does to build faster); rebuild with default features: `cargo build --release --bins`", path.display())]
    FormatDisabled {
        /// The model file.
        path: PathBuf,
        /// `onnx` or `http`.
        format: &'static str,
    },

    /// An HTTP scoring endpoint failed or answered with something other than `{"score": <0..1>}`.
    #[error("http model {url}: {problem}")]
    Http {
        /// The endpoint.
        url: String,
        /// What went wrong.
        problem: String,
    },

    /// A dataset row has a missing or malformed field.
    #[error("dataset {} line {line}: field `{field}`: {problem}", path.display())]
    DatasetField {
        /// The dataset file.
        path: PathBuf,
        /// 1-based line number in the file (CSV counts the header as line 1).
        line: usize,
        /// The column or JSON key.
        field: String,
        /// What is wrong and what is expected.
        problem: String,
    },

    /// A dataset problem that is not about one field (bad JSON, unknown extension, empty file).
    #[error("dataset {}: {problem}", path.display())]
    Dataset {
        /// The dataset file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },

    /// A model asks for features the dataset does not provide.
    #[error("{role} model `{version}` needs feature(s) {missing:?} that dataset {} does not provide; available: {available:?}. Add a column of numbers under each missing name (the built-in features come from the ledger columns)", dataset.display())]
    FeatureMismatch {
        /// `champion` or `challenger`.
        role: String,
        /// The model's version string.
        version: String,
        /// The dataset file.
        dataset: PathBuf,
        /// Declared by the model, absent from the dataset.
        missing: Vec<String>,
        /// What the dataset does provide.
        available: Vec<String>,
    },

    /// A feature map handed to [`crate::Model::score`] lacks a feature the model declares.
    #[error("model `{version}`: feature `{feature}` is missing from the input")]
    MissingFeature {
        /// The model's version string.
        version: String,
        /// The absent feature.
        feature: String,
    },

    /// A model produced an unusable score for a row.
    #[error("{role} model `{version}` row {row}: {problem}")]
    Score {
        /// `champion` or `challenger`.
        role: String,
        /// The model's version string.
        version: String,
        /// 0-based row index in the dataset.
        row: usize,
        /// What was wrong with the score.
        problem: String,
    },

    /// A policy file failed to parse or validate.
    #[error("policy {}: {problem}", path.display())]
    Policy {
        /// The policy file (or `<inline>`).
        path: PathBuf,
        /// What is wrong, with line and field where the parser knows them.
        problem: String,
    },
}

impl ModelError {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        ModelError::Io {
            path: path.into(),
            source,
        }
    }

    /// Shorthand for a [`ModelError::ModelField`].
    pub fn model_field(
        path: impl Into<PathBuf>,
        field: impl Into<String>,
        problem: impl Into<String>,
    ) -> Self {
        ModelError::ModelField {
            path: path.into(),
            field: field.into(),
            problem: problem.into(),
        }
    }
}
