use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use tract_onnx::prelude::Framework;

use super::graph::{self, GraphProblem, Inputs};
use crate::error::ModelError;
use crate::matrix::FeatureMatrix;
use crate::model::load_model;

fn golden(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../golden/models")
        .join(name)
}

/// Every shipped and test sidecar: the challenger and the scikit-learn exports.
const SIDECARS: [&str; 7] = [
    "challenger.onnx.json",
    "sklearn/logreg.onnx.json",
    "sklearn/logreg_nozipmap.onnx.json",
    "sklearn/forest.onnx.json",
    "sklearn/boosting.onnx.json",
    "sklearn/named_inputs.onnx.json",
    "sklearn/regressor.onnx.json",
];

fn sidecar(name: &str) -> Value {
    serde_json::from_slice(&std::fs::read(golden(name)).unwrap()).unwrap()
}

/// Writes `value` as a sidecar in a temporary directory, its `model` pointing at the golden graph
/// of `name`, and loads it.
fn load_edited(name: &str, value: &Value) -> Result<Box<dyn crate::Model>, ModelError> {
    let dir = tempfile::tempdir().unwrap();
    let mut value = value.clone();
    let graph = golden(name)
        .parent()
        .unwrap()
        .join(value["model"].as_str().unwrap());
    value["model"] = json!(graph.canonicalize().unwrap());
    let p = dir.path().join("edited.onnx.json");
    std::fs::write(&p, serde_json::to_vec_pretty(&value).unwrap()).unwrap();
    load_model(&p)
}

fn features_of(v: &Value) -> Vec<String> {
    serde_json::from_value(v["features"].clone()).unwrap()
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
    std::fs::write(
        &p,
        r#"{"format":"onnx","version":"v","model":"gone.onnx","features":["a"],"threshold":0.5}"#,
    )
    .unwrap();
    let e = load_model(&p).unwrap_err().to_string();
    assert!(
        e.contains("x.json") && e.contains("field `model`") && e.contains("gone.onnx"),
        "{e}"
    );
}

#[test]
fn sklearn_default_exports_match_predict_proba_within_1e_5() {
    let fixture: Value =
        serde_json::from_slice(&std::fs::read(golden("sklearn/fixture.json")).unwrap()).unwrap();
    let mut m = FeatureMatrix::new(features_of(&fixture));
    for row in fixture["rows"].as_array().unwrap() {
        let row: Vec<f64> = serde_json::from_value(row.clone()).unwrap();
        m.push_row(&row);
    }
    for name in [
        "logreg",
        "forest",
        "boosting",
        "named_inputs",
        "logreg_nozipmap",
        "regressor",
    ] {
        let model = load_model(golden(&format!("sklearn/{name}.onnx"))).unwrap();
        let expected: Vec<f64> =
            serde_json::from_value(fixture["predict_proba"][name].clone()).unwrap();
        let got = model.score_matrix(&m).unwrap();
        assert_eq!(got.len(), expected.len());
        let worst = got
            .iter()
            .zip(&expected)
            .map(|(g, e)| (g - e).abs())
            .fold(0.0, f64::max);
        assert!(worst < 1e-5, "{name}: largest difference {worst:e}");
        // One row at a time takes the same path through the graph.
        let one = model.score(&m.row_map(7)).unwrap();
        assert!(
            (one - expected[7]).abs() < 1e-5,
            "{name}: {one} vs {}",
            expected[7]
        );
    }
}

#[test]
fn swapping_any_two_features_is_rejected_for_every_shipped_and_test_model() {
    for name in SIDECARS {
        let original = sidecar(name);
        assert!(
            load_edited(name, &original).is_ok(),
            "{name} loads as shipped"
        );
        let features = features_of(&original);
        for i in 0..features.len() {
            for j in i + 1..features.len() {
                let mut swapped = features.clone();
                swapped.swap(i, j);
                let mut v = original.clone();
                v["features"] = json!(swapped);
                let e = load_edited(name, &v).expect_err(&format!(
                    "{name}: swapping {} and {} must be refused",
                    features[i], features[j]
                ));
                let text = e.to_string();
                assert!(
                    matches!(e, ModelError::SidecarMismatch { .. })
                        && text.contains("the sidecar says")
                        && text.contains("the graph"),
                    "{name}: {text}"
                );
            }
        }
    }
}

#[test]
fn a_sidecar_of_the_wrong_width_is_rejected_for_every_shipped_and_test_model() {
    for name in SIDECARS {
        let mut v = sidecar(name);
        let mut features = features_of(&v);
        let dropped = features.split_off(6);
        v["features"] = json!(features);
        if let Some(vectors) = v.get_mut("test_vectors").and_then(Value::as_array_mut) {
            for t in vectors {
                let map = t["features"].as_object_mut().unwrap();
                for d in &dropped {
                    map.remove(d);
                }
            }
        }
        let e = load_edited(name, &v).unwrap_err();
        let text = e.to_string();
        assert!(
            matches!(e, ModelError::SidecarMismatch { .. })
                && text.contains("field `features`")
                && text.contains("6 features")
                && text.contains("12"),
            "{name}: {text}"
        );
    }
}

#[test]
fn the_mismatch_message_names_the_sidecar_the_graph_and_both_values() {
    let mut v = sidecar("sklearn/logreg.onnx.json");
    let mut features = features_of(&v);
    features.swap(0, 1);
    v["features"] = json!(features);
    let text = load_edited("sklearn/logreg.onnx.json", &v)
        .unwrap_err()
        .to_string();
    assert!(
        text.contains("edited.onnx.json")
            && text.contains("logreg.onnx")
            && text.contains("field `test_vectors[")
            && text.contains("the sidecar says 0.")
            && text.contains("the graph scores 0."),
        "{text}"
    );

    let mut v = sidecar("sklearn/named_inputs.onnx.json");
    let mut features = features_of(&v);
    features.swap(2, 5);
    v["features"] = json!(features);
    let text = load_edited("sklearn/named_inputs.onnx.json", &v)
        .unwrap_err()
        .to_string();
    assert!(
        text.contains(
            "the order differs: at position 2 the sidecar says `channel_web`, the graph \
                       says `amount_x_risk_high`"
        ),
        "{text}"
    );
}

#[test]
fn a_wrong_expected_score_in_a_test_vector_is_rejected() {
    let mut v = sidecar("sklearn/boosting.onnx.json");
    let expected = v["test_vectors"][1]["score"].as_f64().unwrap();
    v["test_vectors"][1]["score"] = json!(expected + 0.01);
    let e = load_edited("sklearn/boosting.onnx.json", &v).unwrap_err();
    assert!(
        e.to_string().contains("field `test_vectors[1].score`"),
        "{e}"
    );
    // Within the tolerance it loads.
    v["test_vectors"][1]["score"] = json!(expected + 1e-7);
    load_edited("sklearn/boosting.onnx.json", &v).unwrap();
}

#[test]
fn test_vectors_must_give_exactly_the_sidecar_features() {
    let v = sidecar("sklearn/logreg.onnx.json");
    let mut missing = v.clone();
    missing["test_vectors"][0]["features"]
        .as_object_mut()
        .unwrap()
        .remove("is_debit");
    let e = load_edited("sklearn/logreg.onnx.json", &missing).unwrap_err();
    assert!(
        e.to_string()
            .contains("field `test_vectors[0].features.is_debit`: missing"),
        "{e}"
    );
    let mut extra = v.clone();
    extra["test_vectors"][2]["features"]["colour"] = json!(1.0);
    let e = load_edited("sklearn/logreg.onnx.json", &extra).unwrap_err();
    assert!(
        e.to_string()
            .contains("field `test_vectors[2].features.colour`: not one of"),
        "{e}"
    );
}

#[test]
fn an_unnamed_matrix_graph_needs_test_vectors() {
    let mut v = sidecar("sklearn/forest.onnx.json");
    v.as_object_mut().unwrap().remove("test_vectors");
    let e = load_edited("sklearn/forest.onnx.json", &v).unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains("field `test_vectors`: missing") && text.contains("`float_input`"),
        "{text}"
    );
}

#[test]
fn an_unsupported_operator_is_named_with_its_domain_and_the_alternatives() {
    let v = json!({"format": "onnx", "version": "r", "model": "svm.onnx",
        "features": features_of(&sidecar("sklearn/logreg.onnx.json")), "threshold": 0.5});
    let e = load_edited("sklearn/logreg.onnx.json", &v).unwrap_err();
    let text = e.to_string();
    assert!(
        matches!(e, ModelError::Onnx { .. })
            && text.contains("svm.onnx")
            && text.contains("operator `SVMClassifier` (domain ai.onnx.ml")
            && text.contains("supported ai.onnx.ml operators: CategoryMapper, LinearClassifier"),
        "{text}"
    );
    assert!(!text.contains("Unimplemented"), "{text}");
}

#[test]
fn the_supported_ml_operators_are_the_ones_tract_registers() {
    let onnx = tract_onnx::onnx();
    for op in graph::SUPPORTED_ML_OPS {
        assert!(onnx.op_register.0.contains_key(op), "{op}");
    }
    for op in [
        "ZipMap",
        "TreeEnsembleRegressor",
        "TreeEnsemble",
        "SVMClassifier",
    ] {
        assert!(
            !onnx.op_register.0.contains_key(op),
            "{op} is now supported"
        );
    }
}

fn proto(name: &str) -> tract_onnx::pb::ModelProto {
    tract_onnx::onnx()
        .proto_model_for_path(golden(name))
        .unwrap()
}

fn known(op: &str) -> bool {
    tract_onnx::onnx().op_register.0.contains_key(op)
}

#[test]
fn a_zipmap_is_removed_and_its_probabilities_become_the_only_output() {
    let p = graph::prepare(proto("sklearn/logreg.onnx"), None, known).unwrap();
    let g = p.proto.graph.as_ref().unwrap();
    assert!(g.node.iter().all(|n| n.op_type != "ZipMap"));
    assert_eq!(g.output.len(), 1);
    assert_eq!(p.output.name, g.output[0].name);
    assert_eq!(p.output.positive_column, 1);
    assert_eq!(
        p.inputs,
        Inputs::Matrix {
            name: "float_input".into(),
            width: Some(12),
            names: None
        }
    );
    // Naming the ZipMap's output, or the label, in the sidecar.
    let named = graph::prepare(
        proto("sklearn/logreg.onnx"),
        Some("output_probability"),
        known,
    );
    assert_eq!(named.unwrap().output, p.output);
    let label = graph::prepare(proto("sklearn/logreg.onnx"), Some("output_label"), known);
    assert!(
        matches!(&label, Err(GraphProblem::Output(m)) if m.contains("int64 (a class label")),
        "{label:?}"
    );
}

#[test]
fn without_zipmap_the_float_probabilities_are_chosen_over_the_int64_label_that_comes_first() {
    let p = graph::prepare(proto("sklearn/logreg_nozipmap.onnx"), None, known).unwrap();
    let g = p.proto.graph.as_ref().unwrap();
    assert_eq!(g.output.len(), 1);
    assert_eq!(p.output.name, "probabilities");
    assert_eq!(p.output.positive_column, 1);
}

#[test]
fn a_tree_regressor_runs_as_a_binary_classifier_whose_column_1_is_its_value() {
    let p = graph::prepare(proto("sklearn/regressor.onnx"), None, known).unwrap();
    let g = p.proto.graph.as_ref().unwrap();
    assert_eq!(g.node[0].op_type, "TreeEnsembleClassifier");
    assert_eq!(g.node[0].output[1], "variable");
    assert_eq!(p.output.name, "variable");
    assert_eq!(p.output.positive_column, 1);
    let weights = |p: &tract_onnx::pb::ModelProto, name: &str| -> Vec<f32> {
        let node = &p.graph.as_ref().unwrap().node[0];
        let a = node.attribute.iter().find(|a| a.name == name).unwrap();
        a.floats.clone()
    };
    let with_aggregate = |how: &[u8]| {
        let mut p = proto("sklearn/regressor.onnx");
        p.graph.as_mut().unwrap().node[0]
            .attribute
            .push(tract_onnx::pb::AttributeProto {
                name: "aggregate_function".into(),
                s: how.to_vec(),
                ..Default::default()
            });
        p
    };
    // AVERAGE over the 20 trees becomes SUM of weights divided by 20.
    let summed = weights(&proto("sklearn/regressor.onnx"), "target_weights");
    let averaged = graph::prepare(with_aggregate(b"AVERAGE"), None, known).unwrap();
    let divided = weights(&averaged.proto, "class_weights");
    assert!(summed.iter().zip(&divided).all(|(s, d)| *d == s / 20.0));
    let e = graph::prepare(with_aggregate(b"MAX"), None, known).unwrap_err();
    assert!(
        matches!(&e, GraphProblem::Graph(m) if m.contains("aggregates with MAX")),
        "{e:?}"
    );
}

#[test]
fn feature_names_in_the_metadata_name_a_matrix_input() {
    let mut p = proto("sklearn/logreg.onnx");
    p.metadata_props
        .push(tract_onnx::pb::StringStringEntryProto {
            key: graph::FEATURE_NAMES_KEY.into(),
            value: r#"["a", "b"]"#.into(),
        });
    let prepared = graph::prepare(p.clone(), None, known).unwrap();
    assert!(matches!(prepared.inputs, Inputs::Matrix { names: Some(n), .. } if n == ["a", "b"]));
    p.metadata_props[0].value = "a, b ,c".into();
    let prepared = graph::prepare(p, None, known).unwrap();
    assert!(
        matches!(prepared.inputs, Inputs::Matrix { names: Some(n), .. } if n == ["a", "b", "c"])
    );
}

#[test]
fn a_zipmap_that_is_not_an_output_is_refused_with_the_export_option() {
    let mut p = proto("sklearn/logreg.onnx");
    let g = p.graph.as_mut().unwrap();
    // A second ZipMap whose output is no graph output: nothing faultline can strip.
    let mut dangling = g
        .node
        .iter()
        .find(|n| n.op_type == "ZipMap")
        .unwrap()
        .clone();
    dangling.output = vec!["unused".into()];
    g.node.push(dangling);
    let e = graph::prepare(p, None, known).unwrap_err();
    assert!(
        matches!(&e, GraphProblem::Graph(m) if m.contains("operator `ZipMap`") && m.contains("'zipmap': False")),
        "{e:?}"
    );
}

#[test]
fn a_custom_domain_operator_is_refused_by_domain() {
    let mut p = proto("sklearn/logreg.onnx");
    p.graph.as_mut().unwrap().node[0].domain = "com.example".into();
    let e = graph::prepare(p, None, known).unwrap_err();
    assert!(
        matches!(&e, GraphProblem::Graph(m) if m.contains("domain com.example") && m.contains("custom operators")),
        "{e:?}"
    );
}
