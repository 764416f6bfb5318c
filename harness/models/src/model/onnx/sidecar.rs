//! The `.onnx.json` sidecar: what ONNX does not carry (version, threshold, feature names) and the
//! test vectors that tie the feature order to the graph when the graph cannot name its columns.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::error::Result;
use crate::model::fields::{finite, kind_of, Fields};

/// Default largest allowed difference between a test vector's expected score and the graph's.
pub(crate) const DEFAULT_TOLERANCE: f64 = 1e-5;

/// The fields a sidecar may have.
const FIELDS: [&str; 9] = [
    "format",
    "version",
    "model",
    "features",
    "threshold",
    "output",
    "test_vectors",
    "score_tolerance",
    "description",
];

/// A parsed sidecar.
#[derive(Debug)]
pub(crate) struct Sidecar {
    pub(crate) version: String,
    pub(crate) features: Vec<String>,
    pub(crate) threshold: f64,
    /// The `.onnx` file.
    pub(crate) graph: PathBuf,
    /// The output named in `output`, if any.
    pub(crate) output: Option<String>,
    pub(crate) test_vectors: Vec<TestVector>,
    pub(crate) tolerance: f64,
}

/// One input row, in the sidecar's `features` order, and the score the model owner expects.
#[derive(Debug, Clone)]
pub(crate) struct TestVector {
    pub(crate) row: Vec<f32>,
    pub(crate) score: f64,
}

impl Sidecar {
    /// Reads and validates every field; the graph file must exist.
    pub(crate) fn parse(f: &Fields<'_>) -> Result<Self> {
        f.deny_unknown(&FIELDS)?;
        let version = f.string("version")?;
        let features = f.feature_list()?;
        let threshold = f.threshold()?;
        let output = f.opt_string("output")?;
        let tolerance = match f.opt_number("score_tolerance")? {
            None => DEFAULT_TOLERANCE,
            Some(t) if t > 0.0 && t < 0.5 => t,
            Some(t) => {
                return Err(f.err(
                    "score_tolerance",
                    format!("{t} is outside (0, 0.5); the default is {DEFAULT_TOLERANCE}"),
                ))
            }
        };
        let test_vectors = match f.opt_list("test_vectors")? {
            None => Vec::new(),
            Some(items) => items
                .iter()
                .enumerate()
                .map(|(i, item)| test_vector(f, &features, i, item))
                .collect::<Result<_>>()?,
        };
        let graph = graph_path(f)?;
        Ok(Sidecar {
            version,
            features,
            threshold,
            graph,
            output,
            test_vectors,
            tolerance,
        })
    }
}

/// `model` relative to the sidecar, or the sidecar's own name without `.json`.
fn graph_path(f: &Fields<'_>) -> Result<PathBuf> {
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
    Ok(graph)
}

/// `test_vectors[i]`: `{"features": {name: number, ..}, "score": p}` with exactly the sidecar's
/// features, keyed by name so that reordering `features` changes what the graph is fed.
fn test_vector(f: &Fields<'_>, features: &[String], i: usize, item: &Value) -> Result<TestVector> {
    let at = format!("test_vectors[{i}]");
    let Value::Object(obj) = item else {
        return Err(f.err(
            &at,
            format!(
                "expected {{\"features\": {{name: value, ..}}, \"score\": p}}, got {}",
                kind_of(item)
            ),
        ));
    };
    if let Some(k) = obj
        .keys()
        .find(|k| !["features", "score"].contains(&k.as_str()))
    {
        return Err(f.err(
            format!("{at}.{k}"),
            "unknown field; expected features, score",
        ));
    }
    let values = match obj.get("features") {
        Some(Value::Object(m)) => m,
        Some(other) => {
            return Err(f.err(
                format!("{at}.features"),
                format!(
                    "expected an object of feature values, got {}",
                    kind_of(other)
                ),
            ))
        }
        None => return Err(f.err(format!("{at}.features"), "missing")),
    };
    if let Some(k) = values.keys().find(|k| !features.contains(k)) {
        return Err(f.err(
            format!("{at}.features.{k}"),
            format!(
                "not one of the sidecar's `features` ({}); a test vector gives exactly those",
                features.join(", ")
            ),
        ));
    }
    let row = features
        .iter()
        .map(|name| {
            let field = format!("{at}.features.{name}");
            let v = values.get(name).ok_or_else(|| {
                f.err(
                    &field,
                    "missing; a test vector gives every feature of `features`",
                )
            })?;
            finite(v).map(|x| x as f32).map_err(|p| f.err(&field, p))
        })
        .collect::<Result<Vec<f32>>>()?;
    let score = obj
        .get("score")
        .ok_or_else(|| f.err(format!("{at}.score"), "missing"))
        .and_then(|v| finite(v).map_err(|p| f.err(format!("{at}.score"), p)))?;
    if !(0.0..=1.0).contains(&score) {
        return Err(f.err(
            format!("{at}.score"),
            format!("{score} is outside [0, 1]; scores are probabilities"),
        ));
    }
    Ok(TestVector { row, score })
}

/// How the sidecar's feature list differs from the names the graph gives its columns, saying
/// both sides; `None` when they are the same list.
pub(crate) fn name_mismatch(sidecar: &[String], graph: &[String]) -> Option<String> {
    if sidecar == graph {
        return None;
    }
    let list = |names: &[String]| format!("[{}]", names.join(", "));
    if sidecar.len() != graph.len() {
        return Some(format!(
            "the sidecar lists {} features, the graph {}: sidecar says {}, graph says {}",
            sidecar.len(),
            graph.len(),
            list(sidecar),
            list(graph)
        ));
    }
    let (i, (s, g)) = sidecar
        .iter()
        .zip(graph)
        .enumerate()
        .find(|(_, (s, g))| s != g)?;
    let what = if graph.contains(s) {
        "the order differs"
    } else {
        "the names differ"
    };
    Some(format!(
        "{what}: at position {i} the sidecar says `{s}`, the graph says `{g}`; list the graph's \
         features in its order: {}",
        list(graph)
    ))
}
