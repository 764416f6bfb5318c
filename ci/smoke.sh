#!/usr/bin/env bash
# The main job: provisions, builds the faultline binary and runs the smoke check end to end.
# Until the smoke chaos suite exists this is `faultline infra check` on every available backend.
source "$(dirname "$0")/lib.sh"
"$CI_DIR/provision.sh"
source "$FAULTLINE_CACHE/env.sh"
cd "$REPO_DIR"
cargo build --release -p faultline
bin="$CARGO_TARGET_DIR/release/faultline"
backends=(processes)
[ "$FAULTLINE_DOCKER" = 1 ] && backends=(containers processes)
status=0
for b in "${backends[@]}"; do "$bin" infra check --backend "$b" "$@" || status=$?; done
exit $status
