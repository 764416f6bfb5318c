#!/usr/bin/env bash
# The README's "Shrinking" table: for each planted defect of the detection-power matrix
# (tests/chaos/defects.toml, through ci/defects.sh), a failing smoke run on the processes backend
# (its scenario's seed, then up to two more), then `faultline shrink` of its bundle. Prints one
# Markdown row per defect: faults and events before -> after, candidates tried, time to shrink.
#
#   bash ci/shrink-table.sh [out-dir]      (default: a fresh temp dir; kept for the reports)
#
# Needs a build with the planted defects: cargo build -p faultline -p faultline-pipeline
# --features faultline-pipeline/planted-defects (ci/test.sh's debug build has them).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck disable=SC1091
source /root/.cache/faultline/env.sh 2>/dev/null || true
bin="${FAULTLINE_BIN:-${CARGO_TARGET_DIR:-$root/target}/debug/faultline}"
out="${1:-$(mktemp -d /tmp/faultline-shrink-table.XXXX)}"
budget="${FAULTLINE_SHRINK_BUDGET:-600}"
echo "reports under $out" >&2
echo "| defect | scenario | faults before → after | events before → after | candidates | kept | reproduced (last kept) | time to shrink |"
echo "|---|---|---:|---:|---:|---:|---:|---:|"
bash "$root/ci/defects.sh" | while read -r defect scenario gate; do
  [ "$gate" = "ci" ] || continue
  dir="$out/$defect"
  bundle=""
  base_seed=$(awk -F'= *' '/^seed *=/ {print $2; exit}' "$root/scenarios/smoke/$scenario.toml")
  for k in 0 1 2; do
    seed=$((base_seed + k))
    rc=0
    "$bin" run "$root/scenarios/smoke/$scenario.toml" --backend processes --defect "$defect" \
      --seed "$seed" --out "$dir/run-$seed" --quiet >/dev/null 2>&1 || rc=$?
    if [ "$rc" = 1 ]; then
      bundle=$(dirname "$(ls "$dir/run-$seed"/runs/*/meta.json | head -1)")
      break
    fi
  done
  if [ -z "$bundle" ]; then
    echo "| $defect | $scenario | not caught in 3 seeds | | | | | |"
    continue
  fi
  start=$(date +%s)
  "$bin" shrink "$bundle" --out "$dir/shrink" --budget "$budget" >"$dir/shrink.out" 2>"$dir/shrink.err" || true
  secs=$(( $(date +%s) - start ))
  python3 - "$dir/shrink/shrink.json" "$defect" "$scenario" "$secs" <<'PY'
import json, sys
log = json.load(open(sys.argv[1]))
b, a = log["before"], log["after"]
kept = [s for s in log["steps"] if s["accepted"]]
last = kept[-1] if kept else None
rep = f'{last["reproduced"]}/{last["runs"]}' if last else "–"
print(f'| `{sys.argv[2]}` | {sys.argv[3]} | {b["faults"]} → {a["faults"]} | {b["events"]} → {a["events"]} '
      f'| {len(log["steps"])} | {len(kept)} | {rep} | {int(sys.argv[4]) // 60} min {int(sys.argv[4]) % 60} s ({log["stopped"]}) |')
PY
done
