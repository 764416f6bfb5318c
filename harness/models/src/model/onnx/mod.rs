//! ONNX models run by tract (pure Rust), described by a JSON sidecar and checked against the graph.
//!
//! The sidecar supplies what ONNX does not carry, and ties the graph's columns to feature names:
//!
//! ```json
//! {"format": "onnx", "version": "2024-06-challenger-onnx", "model": "challenger.onnx",
//!  "features": ["account_age_days_log", "amount_log"], "threshold": 0.35,
//!  "test_vectors": [{"features": {"account_age_days_log": 5.9, "amount_log": 3.4}, "score": 0.07}]}
//! ```
//!
//! - `model` is relative to the sidecar and defaults to the sidecar's name without `.json`, so
//!   `challenger.onnx.json` describes `challenger.onnx`.
//! - `features` must equal the graph's own names where it has them (one input per feature, or a
//!   matrix input with `feature_names` metadata) and its width where it fixes one.
//! - `test_vectors` are rows with the score the model owner expects (as MLflow's signature and
//!   input example); each is scored at load and must match within `score_tolerance` (default
//!   1e-5). A graph with one unnamed matrix input cannot tell one column order from another, so
//!   its sidecar must carry them.
//! - `output` names the probability output. By default it is the only float output, or else the
//!   one whose name contains "prob"; a label output is ignored and a ZipMap removed (`graph.rs`).
//!
//! Any disagreement is a [`ModelError::SidecarMismatch`] that says what each side says.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use tract_onnx::prelude::*;
use tract_onnx::tract_core::dims;

use crate::error::{ModelError, Result};
use crate::matrix::FeatureMatrix;
use crate::model::fields::Fields;
use crate::model::{feature, Model};

mod graph;
mod sidecar;

use graph::{GraphProblem, Inputs};
use sidecar::{name_mismatch, Sidecar};

/// Rows per tract run when scoring a matrix; bounds the input tensor at a few MiB.
const CHUNK_ROWS: usize = 65_536;

/// A loaded, optimised ONNX graph plus its sidecar metadata.
pub struct OnnxModel {
    path: PathBuf,
    version: String,
    features: Vec<String>,
    threshold: f64,
    /// The graph's inputs, which the sidecar's `features` have been checked against.
    inputs: Inputs,
    /// The graph output scored, and the column of P(class 1) when it has one per class.
    output: String,
    positive_column: usize,
    plan: Arc<TypedRunnableModel>,
}

impl std::fmt::Debug for OnnxModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OnnxModel")
            .field("path", &self.path)
            .field("version", &self.version)
            .field("features", &self.features)
            .field("threshold", &self.threshold)
            .finish_non_exhaustive()
    }
}

impl OnnxModel {
    /// Loads the graph a sidecar describes, checks the sidecar against it and scores the test
    /// vectors.
    pub(crate) fn from_sidecar(f: &Fields<'_>) -> Result<Self> {
        let side = Sidecar::parse(f)?;
        let graph_path = side.graph.clone();
        let mismatch = |field: &str, problem: String| ModelError::SidecarMismatch {
            sidecar: f.path().to_path_buf(),
            graph: graph_path.clone(),
            field: field.to_string(),
            problem,
        };
        let onnx_err = |message: String| ModelError::Onnx {
            path: graph_path.clone(),
            message,
        };
        let onnx = tract_onnx::onnx();
        let proto = onnx
            .proto_model_for_path(&graph_path)
            .map_err(|e| onnx_err(format!("not an ONNX model: {e:#}")))?;
        let prepared = graph::prepare(proto, side.output.as_deref(), |op| {
            onnx.op_register.0.contains_key(op)
        })
        .map_err(|p| match p {
            GraphProblem::Graph(m) => onnx_err(m),
            GraphProblem::Output(m) => mismatch("output", m),
        })?;
        match &prepared.inputs {
            Inputs::Matrix { name, width, names } => {
                if let Some(w) = width.filter(|&w| w != side.features.len()) {
                    return Err(mismatch(
                        "features",
                        format!(
                            "the sidecar lists {} features, the graph's input `{name}` is \
                             [N, {w}]; list the graph's {w} features in its column order",
                            side.features.len()
                        ),
                    ));
                }
                match names {
                    Some(names) => {
                        if let Some(m) = name_mismatch(&side.features, names) {
                            return Err(mismatch(
                                "features",
                                format!("{m} (from the graph's `feature_names` metadata)"),
                            ));
                        }
                    }
                    None if side.test_vectors.is_empty() => {
                        return Err(f.err(
                            "test_vectors",
                            format!(
                                "missing; the graph's input `{name}` is one matrix without \
                                 column names, so only test vectors can show that `features` \
                                 is in its column order: add a few rows with the scores the \
                                 model gives them, e.g. {{\"features\": {{\"{}\": 1.0, ..}}, \
                                 \"score\": 0.12}}",
                                side.features[0]
                            ),
                        ))
                    }
                    None => {}
                }
            }
            Inputs::Columns(columns) => {
                let names: Vec<String> = columns.iter().map(|c| c.name.clone()).collect();
                if let Some(m) = name_mismatch(&side.features, &names) {
                    return Err(mismatch(
                        "features",
                        format!("{m} (the graph's input names)"),
                    ));
                }
            }
        }
        let plan = plan(
            &onnx,
            &graph_path,
            prepared.proto,
            &prepared.inputs,
            side.features.len(),
        )
        .map_err(|e| onnx_err(format!("{e:#}")))?;
        let model = OnnxModel {
            path: graph_path.clone(),
            version: side.version,
            features: side.features,
            threshold: side.threshold,
            inputs: prepared.inputs,
            output: prepared.output.name,
            positive_column: prepared.output.positive_column,
            plan,
        };
        model.check_test_vectors(&side.test_vectors, side.tolerance, &mismatch)?;
        Ok(model)
    }

    /// Scores the sidecar's test vectors (or, without any, one row of zeros, so that a graph that
    /// cannot run fails at load rather than mid-comparison).
    fn check_test_vectors(
        &self,
        vectors: &[sidecar::TestVector],
        tolerance: f64,
        mismatch: &dyn Fn(&str, String) -> ModelError,
    ) -> Result<()> {
        let width = self.features.len();
        if vectors.is_empty() {
            return self.run(1, &vec![0.0; width]).map(drop);
        }
        let data: Vec<f32> = vectors.iter().flat_map(|v| v.row.iter().copied()).collect();
        let scores = self.run(vectors.len(), &data).map_err(|e| match e {
            ModelError::Onnx { message, .. } => mismatch(
                "test_vectors",
                format!(
                    "the graph cannot score {width}-feature rows ({message}); check `features` \
                     against the graph's width"
                ),
            ),
            other => other,
        })?;
        for (i, (v, got)) in vectors.iter().zip(scores).enumerate() {
            if (got - v.score).abs() > tolerance || got.is_nan() {
                return Err(mismatch(
                    &format!("test_vectors[{i}].score"),
                    format!(
                        "the sidecar says {}, the graph scores {got} (off by {:.3e}, more than the \
                         tolerance {tolerance:e}); `features` is likely out of the graph's column \
                         order or names another feature, or the sidecar belongs to another model",
                        v.score,
                        (got - v.score).abs()
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The `.onnx` file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs the graph on `rows` rows of `data` (row-major, `features.len()` wide).
    fn run(&self, rows: usize, data: &[f32]) -> Result<Vec<f64>> {
        let onnx_err = |e: TractError| ModelError::Onnx {
            path: self.path.clone(),
            message: format!("{e:#}"),
        };
        let width = self.features.len();
        let inputs: TVec<TValue> = match &self.inputs {
            Inputs::Matrix { .. } => tvec!(Tensor::from_shape(&[rows, width], data)
                .map_err(onnx_err)?
                .into_tvalue()),
            Inputs::Columns(columns) => columns
                .iter()
                .enumerate()
                .map(|(j, column)| {
                    let values: Vec<f32> = data.iter().skip(j).step_by(width).copied().collect();
                    let shape: &[usize] = if column.rank == 1 {
                        &[rows]
                    } else {
                        &[rows, 1]
                    };
                    Tensor::from_shape(shape, &values).map(|t| t.into_tvalue())
                })
                .collect::<TractResult<_>>()
                .map_err(onnx_err)?,
        };
        let outputs = self.plan.run(inputs).map_err(onnx_err)?;
        let first = outputs.first().ok_or_else(|| ModelError::Onnx {
            path: self.path.clone(),
            message: "the graph has no output".into(),
        })?;
        let first = first.cast_to::<f32>().map_err(onnx_err)?;
        let view = first.to_plain_array_view::<f32>().map_err(onnx_err)?;
        let column = match view.shape() {
            [n] | [n, 1] if *n == rows => 0,
            [n, 2] if *n == rows => self.positive_column,
            shape => {
                return Err(ModelError::Onnx {
                    path: self.path.clone(),
                    message: format!(
                        "the score output `{}` has shape {shape:?}; expected one score per \
                         row ([{rows}] or [{rows}, 1]) or two class probabilities ([{rows}, 2])",
                        self.output
                    ),
                })
            }
        };
        let per_row = view.len() / rows.max(1);
        Ok(view
            .iter()
            .skip(column)
            .step_by(per_row.max(1))
            .map(|&s| f64::from(s))
            .collect())
    }
}

/// Parses the edited graph, fixes its input facts and optimises it.
fn plan(
    onnx: &tract_onnx::Onnx,
    graph: &Path,
    proto: tract_onnx::pb::ModelProto,
    inputs: &Inputs,
    width: usize,
) -> TractResult<Arc<TypedRunnableModel>> {
    let dir = graph.parent().and_then(Path::to_str);
    let parsed = onnx.parse(&proto, dir)?;
    if !parsed.unresolved_inputs.is_empty() {
        return Err(TractError::msg(format!(
            "the graph reads values nothing defines: {:?}",
            parsed.unresolved_inputs
        )));
    }
    let mut model = parsed.model;
    let n = model.sym("N");
    match inputs {
        Inputs::Matrix { .. } => {
            model.set_input_fact(0, f32::fact(dims!(n, width)).into())?;
        }
        Inputs::Columns(columns) => {
            for (i, column) in columns.iter().enumerate() {
                let fact = if column.rank == 1 {
                    f32::fact(dims!(n))
                } else {
                    f32::fact(dims!(n, 1))
                };
                model.set_input_fact(i, fact.into())?;
            }
        }
    }
    model.into_optimized()?.into_runnable()
}

impl Model for OnnxModel {
    fn format(&self) -> &'static str {
        "onnx"
    }

    fn version(&self) -> &str {
        &self.version
    }

    fn feature_names(&self) -> &[String] {
        &self.features
    }

    fn score(&self, features: &BTreeMap<String, f64>) -> Result<f64> {
        let row = self
            .features
            .iter()
            .map(|n| feature(&self.version, features, n).map(|v| v as f32))
            .collect::<Result<Vec<f32>>>()?;
        Ok(self.run(1, &row)?[0])
    }

    fn threshold(&self) -> f64 {
        self.threshold
    }

    fn score_matrix(&self, m: &FeatureMatrix) -> Result<Vec<f64>> {
        let cols = m
            .columns_of(&self.features)
            .map_err(|missing| ModelError::MissingFeature {
                version: self.version.clone(),
                feature: missing.join(", "),
            })?;
        let mut scores = Vec::with_capacity(m.rows());
        let mut buf = Vec::with_capacity(CHUNK_ROWS.min(m.rows()) * cols.len());
        let mut start = 0;
        while start < m.rows() {
            let end = (start + CHUNK_ROWS).min(m.rows());
            buf.clear();
            for i in start..end {
                let row = m.row(i);
                buf.extend(cols.iter().map(|&c| row[c] as f32));
            }
            scores.extend(self.run(end - start, &buf)?);
            start = end;
        }
        Ok(scores)
    }
}

#[cfg(test)]
mod tests;
