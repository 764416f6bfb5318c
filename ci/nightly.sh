#!/usr/bin/env bash
# The nightly chaos run, the same on a laptop and in CI: every scenario with several seeds on each
# available backend under each consumer group protocol, then the detection-power matrix
# (tests/chaos/defects.toml: each planted defect must be caught within 3 seeds, from tonight's base
# seed) under each protocol.
#   SEEDS=3 SHARD=1/1 BACKENDS="processes containers" GROUP_PROTOCOLS="classic consumer" DEFECTS=1 bash ci/nightly.sh
# GROUP_PROTOCOLS (default both) is passed as `--group-protocol`: `classic`, and `consumer` (KIP-848).
# Reports (report.html, junit.xml, report.json) and failure bundles land in $FAULTLINE_OUT
# (default faultline-out/nightly), in <backend>/<protocol>/ and defects/<protocol>/. Exits non-zero
# when anything failed.
source "$(dirname "$0")/lib.sh"
"$CI_DIR/provision.sh"
source "$FAULTLINE_CACHE/env.sh"
cd "$REPO_DIR"
cargo build --release -p faultline -p faultline-pipeline --features faultline-pipeline/planted-defects
bin="$CARGO_TARGET_DIR/release/faultline"
out="${FAULTLINE_OUT:-faultline-out/nightly}"
seeds="${SEEDS:-3}" shard="${SHARD:-1/1}"
backends="${BACKENDS:-processes}"
protocols="${GROUP_PROTOCOLS:-classic consumer}"
[ -z "${BACKENDS:-}" ] && [ "$FAULTLINE_DOCKER" = 1 ] && backends="processes containers"
# A different base seed every night, printed so a failure can be rerun; override with SEED.
seed="${SEED:-$(date -u +%Y%m%d)}"
say "nightly: seeds $seed..+$seeds, shard $shard, backends: $backends, group protocols: $protocols"
status=0
for b in $backends; do
  for p in $protocols; do
    "$bin" run scenarios --seed "$seed" --seeds "$seeds" --shard "$shard" --backend "$b" \
      --group-protocol "$p" --out "$out/$b/$p" || status=1
  done
done
if [ "${DEFECTS:-1}" = 1 ]; then
  # Detection power: every row of tests/chaos/defects.toml (CI-gated and nightly-only alike), with
  # 3 seeds from tonight's base; with its planted defect, each listed scenario must FAIL (exit 1).
  # The rows come in on fd 3 so that nothing the run starts can read them from stdin.
  rows=$("$CI_DIR/defects.sh")
  [ -n "$rows" ] || die "ci/defects.sh listed no planted defect"
  for p in $protocols; do
    while read -r d scenario gate <&3; do
      set +e
      "$bin" run "scenarios/smoke/$scenario.toml" --seed "$seed" --seeds 3 --defect "$d" \
        --backend processes --group-protocol "$p" --out "$out/defects/$p/$d/$scenario" --quiet
      rc=$?
      set -e
      if [ $rc = 1 ]; then say "defect $d ($gate, $p): caught by $scenario"
      else say "defect $d ($gate, $p): NOT caught by $scenario (exit $rc)"; status=1; fi
    done 3<<< "$rows"
  done
fi
exit $status
