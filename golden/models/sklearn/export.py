#!/usr/bin/env python3
"""Trains scikit-learn classifiers on a seeded synthetic dataset and exports them with skl2onnx.

Run it through ci/sklearn-models.sh, which builds the pinned venv of requirements.txt and then runs
this script from the repository root. It writes, beside itself:

    logreg.onnx, forest.onnx, boosting.onnx   skl2onnx exports with default options (ZipMap on)
    logreg_nozipmap.onnx                      the logistic regression with zipmap=False
    <model>.onnx.json                         faultline sidecars, with test vectors
    named_inputs.onnx(.json)                  a hand-built graph with one input per feature
    regressor.onnx(.json)                     a RandomForestRegressor (TreeEnsembleRegressor)
    svm.onnx                                  an SVC (SVMClassifier), which tract cannot run: the
                                              unsupported-operator test
    fixture.json                              held-out rows and each model's predict_proba[:, 1]
                                              (predict for the regressor), under "predict_proba"

faultline's tests load every model and compare its scores with the fixture (within 1e-5), so CI
needs no Python. The dataset imitates harness/models/src/generate.rs: the same twelve features and
the same "true" logistic label process, drawn with numpy from a fixed seed. Features are rounded to
float32 before training, so the estimators see exactly what the float32 ONNX input carries.
"""

import itertools
import json
import os
import sys
import warnings

import numpy as np
import onnx
from onnx import TensorProto, helper
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import FloatTensorType
from sklearn.ensemble import (
    GradientBoostingClassifier,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.linear_model import LogisticRegression
from sklearn.svm import SVC

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 20_240_601
TRAIN_ROWS = 6_000
FIXTURE_ROWS = 300
# Test vectors must tell every ordered pair of features apart by at least this much.
SWAP_MARGIN = 1e-3
MAX_TEST_VECTORS = 8

# harness/models/src/features.rs FEATURE_NAMES, and generate.rs TRUE_WEIGHTS / TRUE_BIAS / noise.
FEATURES = [
    "account_age_days_log",
    "amount_log",
    "amount_x_risk_high",
    "channel_atm",
    "channel_pos",
    "channel_web",
    "hour_cos",
    "hour_sin",
    "is_debit",
    "is_weekend",
    "risk_high",
    "risk_medium",
]
TRUE_WEIGHTS = [-0.40, 0.55, 0.35, 0.90, -0.30, 0.45, 0.70, -0.25, 0.80, 0.30, 0.60, 0.55]
# A higher intercept than generate.rs's -4.6 keeps enough positives for the trees in 6,000 rows.
TRUE_BIAS = -2.6
TRUE_NOISE_SD = 0.6


def dataset(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Feature rows (float32-exact float64) and labels, by generate.rs's recipe."""
    age_days = np.floor(3651.0 ** rng.uniform(size=n) - 1.0)
    amount = np.minimum(np.exp(np.log(3000.0) + 1.2 * rng.normal(size=n)), 10_000_000.0) / 100.0
    tier = rng.choice(3, size=n, p=[0.7, 0.2, 0.1])  # low, medium, high
    channel = rng.choice(4, size=n, p=[0.2, 0.3, 0.3, 0.2])  # none (schema v1), atm, pos, web
    hour = rng.integers(0, 24, size=n)
    angle = 2.0 * np.pi * hour / 24.0
    risk_high = (tier == 2).astype(float)
    amount_log = np.log1p(amount)
    x = np.column_stack(
        [
            np.log1p(age_days),
            amount_log,
            amount_log * risk_high,
            (channel == 1).astype(float),
            (channel == 2).astype(float),
            (channel == 3).astype(float),
            np.cos(angle),
            np.sin(angle),
            (rng.uniform(size=n) < 0.6).astype(float),
            (rng.integers(0, 7, size=n) >= 5).astype(float),
            risk_high,
            (tier == 1).astype(float),
        ]
    )
    x = x.astype(np.float32).astype(np.float64)
    logit = TRUE_BIAS + x @ np.array(TRUE_WEIGHTS) + TRUE_NOISE_SD * rng.normal(size=n)
    y = (rng.uniform(size=n) < 1.0 / (1.0 + np.exp(-logit))).astype(int)
    return x, y


def positive(model, x: np.ndarray) -> np.ndarray:
    """The score faultline reads: P(class 1) of a classifier, the value of a regressor."""
    if hasattr(model, "predict_proba"):
        return model.predict_proba(x)[:, 1]
    return model.predict(x)


def test_vectors(model, pool: np.ndarray) -> np.ndarray:
    """A few rows of `pool` on which swapping any two features changes the score visibly.

    Greedy: take the row that separates the most still-unseparated pairs, until all are separated.
    """
    pairs = list(itertools.combinations(range(len(FEATURES)), 2))
    base = positive(model, pool)
    separated = {}
    for i, j in pairs:
        swapped = pool.copy()
        swapped[:, [i, j]] = swapped[:, [j, i]]
        separated[(i, j)] = np.abs(positive(model, swapped) - base) > SWAP_MARGIN
    chosen, left = [], set(pairs)
    while left:
        counts = np.sum([separated[p] for p in left], axis=0)
        best = int(np.argmax(counts))
        if counts[best] == 0 or len(chosen) == MAX_TEST_VECTORS:
            names = [(FEATURES[i], FEATURES[j]) for i, j in sorted(left)]
            sys.exit(f"no {MAX_TEST_VECTORS} test rows tell these feature pairs apart: {names}")
        chosen.append(best)
        left = {p for p in left if not separated[p][best]}
    return pool[chosen]


def number(v: float) -> float:
    """A float32-exact value as the shortest decimal that round-trips to the same float32."""
    return float(np.format_float_positional(np.float32(v), unique=True, trim="-"))


def sidecar(name: str, version: str, description: str, model=None, vectors=None) -> dict:
    """A faultline sidecar; with test vectors when `model` and `vectors` are given."""
    out = {
        "format": "onnx",
        "version": version,
        "model": f"{name}.onnx",
        "features": FEATURES,
        "threshold": 0.2,
    }
    if vectors is not None:
        expected = positive(model, vectors)
        out["test_vectors"] = [
            {"features": dict(zip(FEATURES, map(number, row))), "score": float(p)}
            for row, p in zip(vectors, expected)
        ]
    out["description"] = description
    return out


def write_json(path: str, value) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(value, f, indent=2)
        f.write("\n")


def named_inputs_graph(model: LogisticRegression) -> onnx.ModelProto:
    """The logistic regression as plain ops over one [N, 1] input per feature, named after it."""
    w = helper.make_tensor("W", TensorProto.FLOAT, [len(FEATURES), 1], model.coef_[0].tolist())
    b = helper.make_tensor("b", TensorProto.FLOAT, [1], [float(model.intercept_[0])])
    nodes = [
        helper.make_node("Concat", FEATURES, ["x"], axis=1),
        helper.make_node("MatMul", ["x", "W"], ["logit_no_bias"]),
        helper.make_node("Add", ["logit_no_bias", "b"], ["logit"]),
        helper.make_node("Sigmoid", ["logit"], ["probability"]),
    ]
    graph = helper.make_graph(
        nodes,
        "faultline_named_inputs",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, ["N", 1]) for n in FEATURES],
        [helper.make_tensor_value_info("probability", TensorProto.FLOAT, ["N", 1])],
        initializer=[w, b],
    )
    proto = helper.make_model(
        graph,
        producer_name="faultline golden/models/sklearn/export.py",
        opset_imports=[helper.make_opsetid("", 13)],
    )
    proto.ir_version = 8
    onnx.checker.check_model(proto)
    return proto


def main() -> int:
    rng = np.random.default_rng(SEED)
    x, y = dataset(rng, TRAIN_ROWS)
    x_fixture, _ = dataset(rng, FIXTURE_ROWS)
    print(f"{TRAIN_ROWS} training rows, {y.mean():.3f} positive")

    estimators = {
        "logreg": LogisticRegression(max_iter=2_000),
        "forest": RandomForestClassifier(n_estimators=40, max_depth=8, random_state=SEED),
        "boosting": GradientBoostingClassifier(n_estimators=60, max_depth=3, random_state=SEED),
    }
    fixture = {"features": FEATURES, "rows": [[number(v) for v in row] for row in x_fixture]}
    fixture["predict_proba"] = {}
    for name, est in estimators.items():
        est.fit(x, y)
        # Default options: ZipMap on, label output first, [None, 12] float input.
        proto = convert_sklearn(
            est, initial_types=[("float_input", FloatTensorType([None, len(FEATURES)]))]
        )
        proto.graph.name = name  # skl2onnx draws a random one; fix it for stable bytes
        with open(os.path.join(HERE, f"{name}.onnx"), "wb") as f:
            f.write(proto.SerializeToString(deterministic=True))
        vectors = test_vectors(est, x_fixture)
        write_json(
            os.path.join(HERE, f"{name}.onnx.json"),
            sidecar(
                name,
                f"sklearn-{name}",
                f"scikit-learn {type(est).__name__} exported by skl2onnx with default options;"
                " generated by golden/models/sklearn/export.py.",
                est,
                vectors,
            ),
        )
        fixture["predict_proba"][name] = est.predict_proba(x_fixture)[:, 1].tolist()
        print(f"wrote {name}.onnx ({type(est).__name__}, {len(vectors)} test vectors)")

    # zipmap=False: outputs [label int64 [N], probabilities float [N, 2]], label first.
    est = estimators["logreg"]
    proto = convert_sklearn(
        est,
        initial_types=[("float_input", FloatTensorType([None, len(FEATURES)]))],
        options={id(est): {"zipmap": False}},
    )
    proto.graph.name = "logreg_nozipmap"
    with open(os.path.join(HERE, "logreg_nozipmap.onnx"), "wb") as f:
        f.write(proto.SerializeToString(deterministic=True))
    write_json(
        os.path.join(HERE, "logreg_nozipmap.onnx.json"),
        sidecar(
            "logreg_nozipmap",
            "sklearn-logreg-nozipmap",
            "The logistic regression exported by skl2onnx with zipmap=False; generated by export.py.",
            est,
            test_vectors(est, x_fixture),
        ),
    )
    fixture["predict_proba"]["logreg_nozipmap"] = fixture["predict_proba"]["logreg"]

    named = named_inputs_graph(estimators["logreg"])
    with open(os.path.join(HERE, "named_inputs.onnx"), "wb") as f:
        f.write(named.SerializeToString(deterministic=True))
    # The graph names its inputs, so its sidecar needs no test vectors.
    named_sidecar = sidecar(
        "named_inputs",
        "sklearn-logreg-named-inputs",
        "The logistic regression over one named input per feature; generated by export.py.",
    )
    write_json(os.path.join(HERE, "named_inputs.onnx.json"), named_sidecar)
    fixture["predict_proba"]["named_inputs"] = fixture["predict_proba"]["logreg"]

    # A regressor's value is the score: a forest's mean of 0/1 leaves stays within [0, 1].
    regressor = RandomForestRegressor(n_estimators=20, max_depth=6, random_state=SEED).fit(x, y)
    proto = convert_sklearn(
        regressor, initial_types=[("float_input", FloatTensorType([None, len(FEATURES)]))]
    )
    proto.graph.name = "regressor"
    with open(os.path.join(HERE, "regressor.onnx"), "wb") as f:
        f.write(proto.SerializeToString(deterministic=True))
    write_json(
        os.path.join(HERE, "regressor.onnx.json"),
        sidecar(
            "regressor",
            "sklearn-boosting-regressor",
            "scikit-learn RandomForestRegressor exported by skl2onnx with default options;"
            " generated by golden/models/sklearn/export.py.",
            regressor,
            test_vectors(regressor, x_fixture),
        ),
    )
    fixture["predict_proba"]["regressor"] = regressor.predict(x_fixture).tolist()

    svm = SVC(random_state=SEED).fit(x[:500], y[:500])
    with warnings.catch_warnings():  # skl2onnx reads SVC attributes scikit-learn deprecates
        warnings.simplefilter("ignore", FutureWarning)
        proto = convert_sklearn(
            svm, initial_types=[("float_input", FloatTensorType([None, len(FEATURES)]))]
        )
    proto.graph.name = "svm"
    with open(os.path.join(HERE, "svm.onnx"), "wb") as f:
        f.write(proto.SerializeToString(deterministic=True))
    write_json(os.path.join(HERE, "fixture.json"), fixture)
    print("wrote named_inputs.onnx, regressor.onnx, svm.onnx and fixture.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
