#!/usr/bin/env bash
# Regenerates the ONNX test models under golden/models/ from their scripts, in a pinned venv at
# $FAULTLINE_CACHE/venv-sklearn (rebuilt only when golden/models/sklearn/requirements.txt changes):
#   - golden/models/sklearn/export.py: scikit-learn estimators exported by skl2onnx, their
#     sidecars with test vectors, and fixture.json (rows and predict_proba) that the Rust tests read;
#   - golden/models/make_onnx.py: the challenger scorecard as an ONNX graph, and its sidecar.
# Not part of CI: the outputs are committed, so tests need no Python. Run it after changing either
# script or the pins, then commit what changed.
source "$(dirname "$0")/lib.sh"

python_ensure
venv="$FAULTLINE_CACHE/venv-sklearn"
venv_ensure "$venv" "$REPO_DIR/golden/models/sklearn/requirements.txt"
# skl2onnx orders some attributes by set iteration; a fixed hash seed keeps the bytes stable.
PYTHONHASHSEED=0 "$venv/bin/python" "$REPO_DIR/golden/models/sklearn/export.py"
"$venv/bin/python" "$REPO_DIR/golden/models/make_onnx.py"
