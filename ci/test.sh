#!/usr/bin/env bash
# The test suite: provisions, then runs every test against real Kafka and Postgres (both backends
# where Docker runs), then checks that nothing the suite started is left behind.
source "$(dirname "$0")/lib.sh"
"$CI_DIR/provision.sh"
source "$FAULTLINE_CACHE/env.sh"
cd "$REPO_DIR"

# Tests that need Kafka/Postgres share one machine: run test binaries one at a time.
export FAULTLINE_REQUIRE_DOCKER="${FAULTLINE_REQUIRE_DOCKER:-$FAULTLINE_DOCKER}"
# provision.sh installs chromium, so the report screenshot test must not skip.
export FAULTLINE_REQUIRE_CHROMIUM="${FAULTLINE_REQUIRE_CHROMIUM:-1}"
# Snapshots are never written by CI; review locally with `cargo insta review`.
export INSTA_UPDATE=no
before=$(docker ps -aq --filter label=dev.faultline.run 2>/dev/null | sort || true)
status=0
cargo build --workspace --bins
cargo test --workspace --no-fail-fast -- --test-threads=1 || status=$?

leftover=$(comm -13 <(echo "$before") <(docker ps -aq --filter label=dev.faultline.run 2>/dev/null | sort || true) | grep . || true)
if [ -n "$leftover" ]; then
  say "LEAK: containers left behind by the suite: $leftover"; status=1
fi
if pgrep -f 'faultline-[a-z0-9]{8}-' >/dev/null; then
  say "LEAK: processes left behind by the suite:"; pgrep -af 'faultline-[a-z0-9]{8}-' >&2; status=1
fi
if pgrep -x ledger-worker >/dev/null; then
  say "LEAK: pipeline workers left behind by the suite:"; pgrep -ax ledger-worker >&2; status=1
fi
if pgrep -f 'orders_pipeline\.py|spend_pipeline\.py|payments-sink\.jar' >/dev/null; then
  say "LEAK: example pipelines left behind by the suite:"; pgrep -af 'orders_pipeline\.py|spend_pipeline\.py|payments-sink\.jar' >&2; status=1
fi
exit $status
