//! What an ONNX graph says about itself, read from its protobuf before tract parses it, and the
//! edits that make a default skl2onnx export runnable.
//!
//! - **Inputs.** One float `[N, F]` matrix (skl2onnx's `float_input`, width from the graph when it
//!   is fixed), or one float `[N]`/`[N, 1]` input per feature, named after it. A matrix input's
//!   column names come from the model's `feature_names` metadata when the exporter wrote it.
//! - **Output.** Classifiers export `[label, probabilities]`; the label (int64 or string) is
//!   dropped, and a ZipMap (`seq(map(int64, float))`, which tract cannot run) is removed so that its
//!   input, the `[N, classes]` probability tensor, becomes the output. The positive class's column
//!   is found from the classifier's class labels.
//! - **Binary boosting.** skl2onnx writes one `base_values` entry for a binary
//!   `TreeEnsembleClassifier` whose leaves all score class 0; tract wants one per class, so the
//!   missing (unused) second one is added as 0.
//! - **Tree regressors.** tract has no `TreeEnsembleRegressor`. A single-target one whose output is
//!   a graph output is rewritten as the binary `TreeEnsembleClassifier` with the same trees (its
//!   positive column is the regression value); `AVERAGE` becomes `SUM` of weights divided by the
//!   tree count.
//! - **Operators.** Every node must be one tract registers; otherwise the error names the operator,
//!   its domain and what to export instead.

use std::collections::HashSet;

use tract_onnx::pb::{
    attribute_proto, tensor_shape_proto::dimension, type_proto, AttributeProto, GraphProto,
    ModelProto, NodeProto, ValueInfoProto,
};

/// The ONNX-ML domain, where scikit-learn's classifiers and ZipMap live.
pub(crate) const ML_DOMAIN: &str = "ai.onnx.ml";

/// The ai.onnx.ml operators tract 0.23 runs; ZipMap is removed at load (see the module docs).
pub(crate) const SUPPORTED_ML_OPS: [&str; 5] = [
    "CategoryMapper",
    "LinearClassifier",
    "LinearRegressor",
    "Normalizer",
    "TreeEnsembleClassifier",
];

/// The metadata key whose value lists a matrix input's column names (a JSON list or a
/// comma-separated string).
pub(crate) const FEATURE_NAMES_KEY: &str = "feature_names";

/// The skl2onnx option that exports probabilities as a plain tensor instead of a ZipMap.
const NO_ZIPMAP: &str = "options={id(model): {'zipmap': False}}";

// TensorProto.DataType values used here.
const FLOAT: i32 = 1;
const DOUBLE: i32 = 11;

/// How the graph takes its features.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Inputs {
    /// One float `[N, width]` input whose columns follow an order the graph may not name.
    Matrix {
        /// The input's name in the graph.
        name: String,
        /// The width, when the graph fixes it.
        width: Option<usize>,
        /// Column names from the model's `feature_names` metadata, when present.
        names: Option<Vec<String>>,
    },
    /// One float input per feature, in graph order.
    Columns(Vec<Column>),
}

/// One per-feature input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Column {
    /// The input's name, which is the feature's name.
    pub(crate) name: String,
    /// 1 for `[N]`, 2 for `[N, 1]`.
    pub(crate) rank: usize,
}

/// The output that carries the score, after [`prepare`] has made it the graph's only output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ScoreOutput {
    /// Its name in the edited graph.
    pub(crate) name: String,
    /// The column holding P(class 1) when the output has one column per class.
    pub(crate) positive_column: usize,
}

/// A graph made ready for tract, with what it says about its inputs and score.
#[derive(Debug)]
pub(crate) struct Prepared {
    /// The edited protobuf.
    pub(crate) proto: ModelProto,
    /// Its feature inputs.
    pub(crate) inputs: Inputs,
    /// The score output.
    pub(crate) output: ScoreOutput,
}

/// Why a graph cannot be used; the caller adds the file (and, for `Output`, the sidecar field).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum GraphProblem {
    /// About the graph itself: its inputs or an operator tract cannot run.
    Graph(String),
    /// No output, or not the one the sidecar's `output` names, can be the score.
    Output(String),
}

/// Reads and edits `proto`. `wanted` is the sidecar's `output`; `known_op` says whether tract
/// registers an operator type (ZipMap, which it does not, is handled here).
pub(crate) fn prepare(
    mut proto: ModelProto,
    wanted: Option<&str>,
    known_op: impl Fn(&str) -> bool,
) -> Result<Prepared, GraphProblem> {
    let names = metadata_names(&proto).map_err(GraphProblem::Graph)?;
    let graph = proto
        .graph
        .as_mut()
        .ok_or_else(|| GraphProblem::Graph("the file holds no graph".into()))?;
    let inputs = inputs(graph, names).map_err(GraphProblem::Graph)?;
    regressors_as_classifiers(graph).map_err(GraphProblem::Graph)?;
    let output = score_output(graph, wanted)?;
    pad_binary_base_values(graph);
    check_ops(graph, known_op).map_err(GraphProblem::Graph)?;
    Ok(Prepared {
        proto,
        inputs,
        output,
    })
}

fn metadata_names(proto: &ModelProto) -> Result<Option<Vec<String>>, String> {
    let Some(entry) = proto
        .metadata_props
        .iter()
        .find(|e| e.key == FEATURE_NAMES_KEY)
    else {
        return Ok(None);
    };
    let text = entry.value.trim();
    let names: Vec<String> = if text.starts_with('[') {
        serde_json::from_str(text).map_err(|e| {
            format!("metadata `{FEATURE_NAMES_KEY}` is not a JSON list of names ({e})")
        })?
    } else {
        text.split(',').map(|s| s.trim().to_string()).collect()
    };
    if names.iter().any(String::is_empty) {
        return Err(format!(
            "metadata `{FEATURE_NAMES_KEY}` has an empty name: {text:?}"
        ));
    }
    Ok(Some(names))
}

/// Element type and dimensions (`None` where symbolic or absent) of a tensor-typed value, or
/// `None` when the graph does not say.
fn tensor_type(v: &ValueInfoProto) -> Option<(i32, Option<Vec<Option<usize>>>)> {
    let type_proto::Value::TensorType(t) = v.r#type.as_ref()?.value.as_ref()?;
    let dims = t.shape.as_ref().map(|s| {
        s.dim
            .iter()
            .map(|d| match d.value {
                Some(dimension::Value::DimValue(n)) => usize::try_from(n).ok(),
                _ => None,
            })
            .collect()
    });
    Some((t.elem_type, dims))
}

fn elem_name(elem: i32) -> String {
    match elem {
        FLOAT => "float32".into(),
        DOUBLE => "float64".into(),
        7 => "int64".into(),
        8 => "string".into(),
        6 => "int32".into(),
        9 => "bool".into(),
        other => format!("ONNX element type {other}"),
    }
}

fn shape_text(dims: &[Option<usize>]) -> String {
    let parts: Vec<String> = dims
        .iter()
        .map(|d| d.map_or("?".to_string(), |n| n.to_string()))
        .collect();
    format!("[{}]", parts.join(", "))
}

fn inputs(graph: &GraphProto, names: Option<Vec<String>>) -> Result<Inputs, String> {
    let initialised: HashSet<&str> = graph.initializer.iter().map(|t| t.name.as_str()).collect();
    let sources: Vec<&ValueInfoProto> = graph
        .input
        .iter()
        .filter(|i| !initialised.contains(i.name.as_str()))
        .collect();
    for s in &sources {
        if let Some((elem, _)) = tensor_type(s) {
            if elem != FLOAT {
                let fix = if elem == DOUBLE {
                    "; export with initial_types=[(name, FloatTensorType([None, n]))]"
                } else {
                    ""
                };
                return Err(format!(
                    "input `{}` is {}; faultline feeds float32 features{fix}",
                    s.name,
                    elem_name(elem)
                ));
            }
        }
    }
    let dims_of = |s: &ValueInfoProto| tensor_type(s).and_then(|(_, d)| d);
    match sources.as_slice() {
        [] => Err("the graph has no input".into()),
        [one] => match dims_of(one).as_deref() {
            Some([_]) => Ok(Inputs::Columns(vec![Column {
                name: one.name.clone(),
                rank: 1,
            }])),
            Some([_, width]) => Ok(Inputs::Matrix {
                name: one.name.clone(),
                width: *width,
                names,
            }),
            None => Ok(Inputs::Matrix {
                name: one.name.clone(),
                width: None,
                names,
            }),
            Some(dims) => Err(format!(
                "input `{}` is {}; faultline feeds one [N, features] matrix or one [N, 1] input \
                 per feature",
                one.name,
                shape_text(dims)
            )),
        },
        many => many
            .iter()
            .map(|s| match dims_of(s).as_deref() {
                Some([_]) => Ok(Column {
                    name: s.name.clone(),
                    rank: 1,
                }),
                None | Some([_, None | Some(1)]) => Ok(Column {
                    name: s.name.clone(),
                    rank: 2,
                }),
                Some(dims) => Err(format!(
                    "the graph has {} inputs and `{}` is {}; with several inputs, each must be \
                     one feature, [N] or [N, 1], named after it",
                    many.len(),
                    s.name,
                    shape_text(dims)
                )),
            })
            .collect::<Result<_, _>>()
            .map(Inputs::Columns),
    }
}

/// A node's class labels (`classlabels_ints`, `classlabels_int64s` or `classlabels_strings`).
fn class_labels(node: &NodeProto) -> Option<Vec<String>> {
    node.attribute.iter().find_map(|a| match a.name.as_str() {
        "classlabels_ints" | "classlabels_int64s" => {
            Some(a.ints.iter().map(i64::to_string).collect())
        }
        "classlabels_strings" => Some(
            a.strings
                .iter()
                .map(|s| String::from_utf8_lossy(s).into_owned())
                .collect(),
        ),
        _ => None,
    })
}

fn producer<'g>(graph: &'g GraphProto, output: &str) -> Option<&'g NodeProto> {
    graph
        .node
        .iter()
        .find(|n| n.output.iter().any(|o| o == output))
}

/// Picks the score output, removes a ZipMap in front of it, and leaves it the only graph output.
fn score_output(graph: &mut GraphProto, wanted: Option<&str>) -> Result<ScoreOutput, GraphProblem> {
    let mut labels = None;
    let mut renamed = Vec::new();
    // A ZipMap turns [N, classes] probabilities into one map per row; score its input instead.
    for out in &mut graph.output {
        let Some(at) = graph
            .node
            .iter()
            .position(|n| n.op_type == "ZipMap" && n.output.first() == Some(&out.name))
        else {
            continue;
        };
        let zipmap = graph.node.remove(at);
        let Some(probabilities) = zipmap.input.first().cloned() else {
            return Err(GraphProblem::Graph(format!(
                "ZipMap node `{}` has no input; re-export with {NO_ZIPMAP}",
                zipmap.name
            )));
        };
        labels = class_labels(&zipmap);
        renamed.push((out.name.clone(), probabilities.clone()));
        out.name = probabilities;
        out.r#type = None;
    }
    let described: Vec<(String, Option<i32>)> = graph
        .output
        .iter()
        .map(|o| (o.name.clone(), tensor_type(o).map(|(e, _)| e)))
        .collect();
    let listing = || {
        let parts: Vec<String> = described
            .iter()
            .map(|(n, e)| match e {
                Some(e) => format!("`{n}` ({})", elem_name(*e)),
                None => format!("`{n}`"),
            })
            .collect();
        parts.join(", ")
    };
    let is_float = |e: &Option<i32>| matches!(e, None | Some(FLOAT) | Some(DOUBLE));
    let chosen = match wanted {
        Some(w) => {
            let w = renamed
                .iter()
                .find(|(old, _)| old == w)
                .map_or(w, |(_, new)| new.as_str());
            match described.iter().find(|(n, _)| n == w) {
                Some((n, e)) if is_float(e) => n.clone(),
                Some((n, e)) => {
                    return Err(GraphProblem::Output(format!(
                        "the sidecar names `{n}`, which the graph says is {} (a class label, not \
                         a probability); the graph's outputs are {}",
                        elem_name(e.unwrap_or_default()),
                        listing()
                    )))
                }
                None => {
                    return Err(GraphProblem::Output(format!(
                        "the sidecar names `{w}`, but the graph's outputs are {}",
                        listing()
                    )))
                }
            }
        }
        None => {
            let floats: Vec<&String> = described
                .iter()
                .filter(|(_, e)| is_float(e))
                .map(|(n, _)| n)
                .collect();
            let probabilities: Vec<&String> = floats
                .iter()
                .copied()
                .filter(|n| n.to_ascii_lowercase().contains("prob"))
                .collect();
            match (floats.as_slice(), probabilities.as_slice()) {
                ([one], _) | (_, [one]) => (*one).clone(),
                ([], _) => {
                    return Err(GraphProblem::Output(format!(
                        "no output can be a probability: the graph's outputs are {}",
                        listing()
                    )))
                }
                _ => {
                    return Err(GraphProblem::Output(format!(
                        "the graph has several float outputs ({}); name the probability output \
                         in the sidecar's `output`",
                        listing()
                    )))
                }
            }
        }
    };
    graph.output.retain(|o| o.name == chosen);
    graph.output.truncate(1);
    let labels = labels.or_else(|| producer(graph, &chosen).and_then(class_labels));
    let positive_column = match labels {
        None => 1,
        Some(labels) => match labels.iter().position(|l| l == "1") {
            Some(i) if labels.len() == 2 => i,
            _ => {
                return Err(GraphProblem::Output(format!(
                    "the classifier's class labels are {labels:?}; faultline scores P(class 1) \
                     of a binary classifier, so train it on labels 0 and 1 (1 = fraud)"
                )))
            }
        },
    };
    Ok(ScoreOutput {
        name: chosen,
        positive_column,
    })
}

/// Rewrites each `TreeEnsembleRegressor` as a binary `TreeEnsembleClassifier` whose leaves all
/// score class 0: tract then outputs `[1 - v, v]` with `v` the regression value, in column 1.
fn regressors_as_classifiers(graph: &mut GraphProto) -> Result<(), String> {
    let outputs: Vec<String> = graph.output.iter().map(|o| o.name.clone()).collect();
    let consumed: HashSet<String> = graph.node.iter().flat_map(|n| n.input.clone()).collect();
    for node in graph
        .node
        .iter_mut()
        .filter(|n| n.op_type == "TreeEnsembleRegressor")
    {
        let refuse = |why: &str| {
            format!(
                "TreeEnsembleRegressor node `{}` {why}; faultline runs a regressor only as a \
                 single-target graph output with aggregate_function SUM or AVERAGE and \
                 post_transform NONE",
                node.name
            )
        };
        let int = |name: &str| node.attribute.iter().find(|a| a.name == name).map(|a| a.i);
        let text = |name: &str| {
            node.attribute
                .iter()
                .find(|a| a.name == name)
                .map(|a| String::from_utf8_lossy(&a.s).into_owned())
        };
        if int("n_targets").unwrap_or(1) != 1 {
            return Err(refuse("has several targets"));
        }
        if text("post_transform").is_some_and(|p| p != "NONE") {
            return Err(refuse("has a post_transform"));
        }
        let average = match text("aggregate_function").as_deref() {
            None | Some("SUM") => false,
            Some("AVERAGE") => true,
            Some(other) => return Err(refuse(&format!("aggregates with {other}"))),
        };
        let Some(value) = node.output.first().cloned() else {
            return Err(refuse("has no output"));
        };
        if !outputs.contains(&value) || consumed.contains(&value) {
            return Err(refuse(&format!("feeds other nodes with `{value}`")));
        }
        let trees = node
            .attribute
            .iter()
            .find(|a| a.name == "nodes_treeids")
            .map_or(0, |a| a.ints.iter().collect::<HashSet<_>>().len());
        node.attribute
            .retain(|a| !matches!(a.name.as_str(), "n_targets" | "aggregate_function"));
        for a in &mut node.attribute {
            if let Some(rest) = a.name.strip_prefix("target_").map(str::to_string) {
                a.name = format!("class_{rest}");
                if rest == "weights" && average && trees > 0 {
                    a.floats.iter_mut().for_each(|w| *w /= trees as f32);
                }
            }
        }
        node.attribute.push(AttributeProto {
            name: "classlabels_int64s".into(),
            r#type: attribute_proto::AttributeType::Ints as i32,
            ints: vec![0, 1],
            ..AttributeProto::default()
        });
        node.op_type = "TreeEnsembleClassifier".into();
        node.output = vec![format!("{value}.faultline_label"), value];
    }
    Ok(())
}

/// Adds the second, unused `base_values` entry tract expects of a binary tree ensemble whose
/// leaves all score class 0 (skl2onnx's gradient boosting export).
fn pad_binary_base_values(graph: &mut GraphProto) {
    for node in graph
        .node
        .iter_mut()
        .filter(|n| n.op_type == "TreeEnsembleClassifier")
    {
        let binary = class_labels(node).is_some_and(|l| l.len() == 2);
        let class_zero_only = node
            .attribute
            .iter()
            .find(|a| a.name == "class_ids")
            .is_some_and(|a| a.ints.iter().all(|&c| c == 0));
        if let Some(base) = node.attribute.iter_mut().find(|a| a.name == "base_values") {
            if binary && class_zero_only && base.floats.len() == 1 {
                base.floats.push(0.0);
            }
        }
    }
}

fn check_ops(graph: &GraphProto, known_op: impl Fn(&str) -> bool) -> Result<(), String> {
    let Some(node) = graph.node.iter().find(|n| {
        let domain_ok = matches!(n.domain.as_str(), "" | "ai.onnx" | ML_DOMAIN);
        // A ZipMap still here is not a graph output, so score_output could not remove it.
        !domain_ok || n.op_type == "ZipMap" || !known_op(&n.op_type)
    }) else {
        return Ok(());
    };
    let domain = if node.domain.is_empty() {
        "ai.onnx"
    } else {
        node.domain.as_str()
    };
    let op = node.op_type.as_str();
    let hint = match (domain, op) {
        (ML_DOMAIN, "ZipMap") => format!(
            "a ZipMap is removed only when it makes a graph output; re-export with {NO_ZIPMAP}"
        ),
        (ML_DOMAIN, "TreeEnsemble") => format!(
            "this is ai.onnx.ml opset 5's operator; export with target_opset={{'': 15, '{ML_DOMAIN}': 3}} \
             so that skl2onnx writes TreeEnsembleClassifier"
        ),
        (ML_DOMAIN, _) => format!(
            "supported {ML_DOMAIN} operators: {}, TreeEnsembleRegressor as a graph output, and \
             ZipMap as a graph output",
            SUPPORTED_ML_OPS.join(", ")
        ),
        ("ai.onnx", _) => "tract runs the ai.onnx operators of opsets 9 to 18; re-export with \
                           those (for skl2onnx, target_opset=15)"
            .to_string(),
        _ => format!(
            "only the ai.onnx and {ML_DOMAIN} domains are supported; custom operators cannot run"
        ),
    };
    Err(format!(
        "operator `{op}` (domain {domain}, node `{}`) is not supported by tract, faultline's ONNX \
         runtime; {hint}",
        node.name
    ))
}
