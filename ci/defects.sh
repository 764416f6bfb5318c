#!/usr/bin/env bash
# Prints the detection-power matrix (tests/chaos/defects.toml) for shell scripts, one line per
# defect and scenario that must catch it: `<defect> <scenario> <gate>`. The file's format notes say
# what this reader relies on; tests/chaos/defects.rs checks that its output matches the TOML parse.
set -euo pipefail
file="${1:-$(cd "$(dirname "$0")/.." && pwd)/tests/chaos/defects.toml}"
awk -F'"' '
  function flush() { for (i = 1; i <= ns; i++) print name, sc[i], gate; ns = 0; name = ""; gate = "" }
  /^\[\[defect\]\]/ { if (name != "") flush(); next }
  /^name *=/        { name = $2 }
  /^scenarios *=/   { ns = 0; for (i = 2; i < NF; i += 2) sc[++ns] = $i }
  /^gate *=/        { gate = $2 }
  END               { if (name != "") flush() }
' "$file"
