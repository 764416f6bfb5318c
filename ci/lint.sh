#!/usr/bin/env bash
# The lint gate, run by .ci/run before any test: formatting, then clippy on every crate and target
# with warnings as errors. Provisions first because clippy compiles rdkafka, whose cmake build needs
# the packages ci/provision.sh installs.
source "$(dirname "$0")/lib.sh"
"$CI_DIR/provision.sh"
source "$FAULTLINE_CACHE/env.sh"
cd "$REPO_DIR"
say "lint: cargo fmt --all --check"
cargo fmt --all --check
say "lint: cargo clippy --workspace --all-targets -- -D warnings"
cargo clippy --workspace --all-targets -- -D warnings
