//! Scoring models behind one trait, and the loader that picks a format from a file.
//!
//! - [`scorecard`] JSON logistic or linear scorecards.
//! - [`onnx`]      ONNX graphs run by tract, described by a `.onnx.json` sidecar that is checked
//!   against the graph (names, width, test vectors) at load.
//! - [`http`]      a remote scoring endpoint: POST the features, read back `{"score": ..}`.
//!
//! Every model maps a feature map to a score in `[0, 1]` and predicts positive (fraud) when
//! `score >= threshold()`.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde_json::Value;

use crate::error::{ModelError, Result};
use crate::matrix::FeatureMatrix;

mod fields;
pub(crate) use fields::kind_of as describe_json;
#[cfg(feature = "http")]
pub mod http;
#[cfg(feature = "onnx")]
pub mod onnx;
pub mod scorecard;

#[cfg(feature = "http")]
pub use http::HttpModel;
#[cfg(feature = "onnx")]
pub use onnx::OnnxModel;
pub use scorecard::{Scorecard, ScorecardKind};

/// A binary classifier that scores feature maps.
pub trait Model: Send + Sync + fmt::Debug {
    /// Which format this is: `scorecard`, `onnx` or `http`.
    fn format(&self) -> &'static str;

    /// The model's version label, shown in reports.
    fn version(&self) -> &str;

    /// The features the model reads, in its own order.
    fn feature_names(&self) -> &[String];

    /// The score of one row, in `[0, 1]`; extra features in the map are ignored.
    fn score(&self, features: &BTreeMap<String, f64>) -> Result<f64>;

    /// Scores at or above this are predicted positive.
    fn threshold(&self) -> f64;

    /// Scores every row of `m`. The caller has checked that `m` holds every
    /// [`Model::feature_names`]; formats override this with a bulk path.
    fn score_matrix(&self, m: &FeatureMatrix) -> Result<Vec<f64>> {
        (0..m.rows()).map(|i| self.score(&m.row_map(i))).collect()
    }
}

/// The value of `name` in `features`, or the error naming the model and the feature.
pub(crate) fn feature(version: &str, features: &BTreeMap<String, f64>, name: &str) -> Result<f64> {
    features
        .get(name)
        .copied()
        .ok_or_else(|| ModelError::MissingFeature {
            version: version.to_string(),
            feature: name.to_string(),
        })
}

/// Loads a model, choosing the format from the file:
/// a `.onnx` file is loaded with its sidecar `<file>.onnx.json`; any other file must be JSON whose
/// `"format"` is `scorecard`, `onnx` (a sidecar naming its graph) or `http`.
pub fn load_model(path: impl AsRef<Path>) -> Result<Box<dyn Model>> {
    let path = path.as_ref();
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("onnx"))
    {
        let mut sidecar = path.as_os_str().to_owned();
        sidecar.push(".json");
        return load_model(Path::new(&sidecar));
    }
    let bytes = std::fs::read(path).map_err(|e| ModelError::io(path, e))?;
    let value: Value = serde_json::from_slice(&bytes).map_err(|e| ModelError::UnknownFormat {
        path: path.to_path_buf(),
        problem: format!("not JSON ({e})"),
    })?;
    let top = fields::Fields::top(path, &value)?;
    let format = top.string("format")?;
    match format.as_str() {
        "scorecard" => Ok(Box::new(Scorecard::from_fields(&top)?)),
        "onnx" => load_onnx(&top),
        "http" => load_http(&top),
        other => Err(ModelError::UnknownFormat {
            path: path.to_path_buf(),
            problem: format!("format `{other}` is not known"),
        }),
    }
}

#[cfg(feature = "onnx")]
fn load_onnx(top: &fields::Fields<'_>) -> Result<Box<dyn Model>> {
    Ok(Box::new(OnnxModel::from_sidecar(top)?))
}

#[cfg(not(feature = "onnx"))]
fn load_onnx(top: &fields::Fields<'_>) -> Result<Box<dyn Model>> {
    Err(ModelError::FormatDisabled {
        path: top.path().to_path_buf(),
        format: "onnx",
    })
}

#[cfg(feature = "http")]
fn load_http(top: &fields::Fields<'_>) -> Result<Box<dyn Model>> {
    Ok(Box::new(HttpModel::from_fields(top)?))
}

#[cfg(not(feature = "http"))]
fn load_http(top: &fields::Fields<'_>) -> Result<Box<dyn Model>> {
    Err(ModelError::FormatDisabled {
        path: top.path().to_path_buf(),
        format: "http",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> std::path::PathBuf {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    fn load_err(text: &str) -> String {
        let dir = tempfile::tempdir().unwrap();
        let p = write(&dir, "m.json", text);
        load_model(&p).unwrap_err().to_string()
    }

    const GOOD: &str = r#"{"format":"scorecard","kind":"logistic","version":"v1","features":["amount_log","is_debit"],
        "weights":{"amount_log":0.5,"is_debit":-1.0},"bias":-2.0,"threshold":0.3}"#;

    #[test]
    fn loads_a_scorecard_by_its_format_field() {
        let dir = tempfile::tempdir().unwrap();
        let m = load_model(write(&dir, "m.json", GOOD)).unwrap();
        assert_eq!(
            (m.format(), m.version(), m.threshold()),
            ("scorecard", "v1", 0.3)
        );
        assert_eq!(m.feature_names(), ["amount_log", "is_debit"]);
    }

    #[test]
    fn bad_files_name_the_file_and_the_field() {
        let cases = [
            (
                GOOD.replace(r#""is_debit":-1.0"#, r#""other":-1.0"#),
                "weights.is_debit",
            ),
            (
                GOOD.replace("scorecard", "xgboost"),
                "format `xgboost` is not known",
            ),
            (
                GOOD.replace("0.3}", "1.5}"),
                "field `threshold`: 1.5 is outside [0, 1]",
            ),
            (
                GOOD.replace("0.5,", r#""NaN","#),
                "field `weights.amount_log`: expected a finite number, got string \"NaN\"",
            ),
            (GOOD.replace(r#""bias":-2.0,"#, ""), "field `bias`: missing"),
            (GOOD.replace("logistic", "tree"), "field `kind`"),
            (
                GOOD.replace(r#""v1""#, r#""v1","colour":"red""#),
                "field `colour`: unknown field",
            ),
            ("not json".to_string(), "not JSON"),
            (
                r#"{"kind":"logistic"}"#.to_string(),
                "field `format`: missing",
            ),
        ];
        for (text, expected) in cases {
            let e = load_err(&text);
            assert!(e.contains("m.json"), "error does not name the file: {e}");
            assert!(e.contains(expected), "expected `{expected}` in: {e}");
        }
    }

    #[test]
    fn missing_file_is_an_io_error_naming_it() {
        let e = load_model("/nonexistent/champion.json").unwrap_err();
        assert!(matches!(e, ModelError::Io { .. }));
        assert!(e.to_string().contains("/nonexistent/champion.json"));
    }
}
