//! ONNX models run by tract (pure Rust), described by a JSON sidecar.
//!
//! The graph takes one `float32[N, F]` input whose columns follow the sidecar's `features` order and
//! returns scores in `[0, 1]` as its first output (`[N]` or `[N, 1]`). The sidecar supplies what ONNX
//! does not carry:
//!
//! ```json
//! {"format": "onnx", "version": "2024-06-challenger-onnx", "model": "challenger.onnx",
//!  "features": ["account_age_days_log", "amount_log"], "threshold": 0.35}
//! ```
//!
//! `model` is relative to the sidecar and defaults to the sidecar's name without `.json`, so
//! `challenger.onnx.json` describes `challenger.onnx`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use tract_onnx::prelude::*;
use tract_onnx::tract_core::dims;

use crate::error::{ModelError, Result};
use crate::matrix::FeatureMatrix;
use crate::model::fields::Fields;
use crate::model::{feature, Model};

/// Rows per tract run when scoring a matrix; bounds the input tensor at a few MiB.
const CHUNK_ROWS: usize = 65_536;

/// A loaded, optimised ONNX graph plus its sidecar metadata.
pub struct OnnxModel {
    path: PathBuf,
    version: String,
    features: Vec<String>,
    threshold: f64,
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
    /// Loads the graph a sidecar describes.
    pub(crate) fn from_sidecar(f: &Fields<'_>) -> Result<Self> {
        f.deny_unknown(&[
            "format",
            "version",
            "model",
            "features",
            "threshold",
            "description",
        ])?;
        let version = f.string("version")?;
        let features = f.feature_list()?;
        let threshold = f.threshold()?;
        let sidecar = f.path();
        let graph = match f.opt_string("model")? {
            Some(rel) => sidecar.parent().unwrap_or(Path::new(".")).join(rel),
            None => {
                let name = sidecar.to_string_lossy();
                match name.strip_suffix(".json") {
                    Some(stem) if stem.ends_with(".onnx") => PathBuf::from(stem),
                    _ => {
                        return Err(f.err(
                            "model",
                            "missing; name the .onnx file (relative to this sidecar)",
                        ))
                    }
                }
            }
        };
        if !graph.is_file() {
            return Err(f.err("model", format!("{} does not exist", graph.display())));
        }
        let plan = Self::plan(&graph, features.len()).map_err(|e| ModelError::Onnx {
            path: graph.clone(),
            message: format!(
                "{e:#}; the graph must take one float32 [N, {}] input",
                features.len()
            ),
        })?;
        Ok(OnnxModel {
            path: graph,
            version,
            features,
            threshold,
            plan,
        })
    }

    fn plan(graph: &Path, width: usize) -> TractResult<Arc<TypedRunnableModel>> {
        let model = tract_onnx::onnx().model_for_path(graph)?;
        let n = model.sym("N");
        model
            .with_input_fact(0, f32::fact(dims!(n, width)).into())?
            .into_optimized()?
            .into_runnable()
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
        let input = Tensor::from_shape(&[rows, self.features.len()], data).map_err(onnx_err)?;
        let outputs = self
            .plan
            .run(tvec!(input.into_tvalue()))
            .map_err(onnx_err)?;
        let first = outputs.first().ok_or_else(|| ModelError::Onnx {
            path: self.path.clone(),
            message: "the graph has no output".into(),
        })?;
        let view = first.to_plain_array_view::<f32>().map_err(onnx_err)?;
        if view.len() != rows {
            return Err(ModelError::Onnx {
                path: self.path.clone(),
                message: format!("first output has shape {:?}; expected one score per row ([{rows}] or [{rows}, 1])", view.shape()),
            });
        }
        Ok(view.iter().map(|&s| f64::from(s)).collect())
    }
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
mod tests {
    use crate::model::load_model;

    fn golden(name: &str) -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../golden/models")
            .join(name)
    }

    #[test]
    fn loads_by_onnx_extension_or_by_sidecar() {
        let by_graph = load_model(golden("challenger.onnx")).unwrap();
        let by_sidecar = load_model(golden("challenger.onnx.json")).unwrap();
        assert_eq!(by_graph.format(), "onnx");
        assert_eq!(by_graph.version(), by_sidecar.version());
        assert_eq!(by_graph.feature_names(), by_sidecar.feature_names());
    }

    #[test]
    fn sidecar_pointing_at_a_missing_graph_names_the_field() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.json");
        std::fs::write(&p, r#"{"format":"onnx","version":"v","model":"gone.onnx","features":["a"],"threshold":0.5}"#).unwrap();
        let e = load_model(&p).unwrap_err().to_string();
        assert!(
            e.contains("x.json") && e.contains("field `model`") && e.contains("gone.onnx"),
            "{e}"
        );
    }

    #[test]
    fn graph_with_the_wrong_width_is_rejected_at_load() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::copy(golden("challenger.onnx"), dir.path().join("c.onnx")).unwrap();
        let p = dir.path().join("c.onnx.json");
        std::fs::write(
            &p,
            r#"{"format":"onnx","version":"v","features":["a","b"],"threshold":0.5}"#,
        )
        .unwrap();
        let e = load_model(&p).unwrap_err().to_string();
        assert!(e.contains("c.onnx") && e.contains("float32 [N, 2]"), "{e}");
    }
}
