#!/usr/bin/env bash
# The main job: provisions, builds faultline and the reference pipeline, and runs the smoke chaos
# suite (scenarios/smoke) end to end on the default backend. Extra arguments go to `faultline run`,
# e.g. `bash ci/smoke.sh --backend processes --seed 7`.
source "$(dirname "$0")/lib.sh"
"$CI_DIR/provision.sh"
source "$FAULTLINE_CACHE/env.sh"
cd "$REPO_DIR"
# planted-defects only compiles the defects in; none is active unless --defect names one. The smoke
# scenarios use no ONNX model, so the `onnx` feature (tract: a third of a cold build) is left out;
# `cargo build --release --bins` builds everything (BENCHMARKS.md, "Build: cold").
cargo build --release -p faultline -p faultline-pipeline --no-default-features \
  --features faultline-pipeline/planted-defects
exec "$CARGO_TARGET_DIR/release/faultline" run scenarios/smoke --out "${FAULTLINE_OUT:-faultline-out/smoke}" "$@"
