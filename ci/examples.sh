#!/usr/bin/env bash
# Provisions the example pipelines under examples/, idempotently, and prints the `export` lines
# provision.sh puts in env.sh. Fast when already done: a venv is rebuilt only when its
# requirements.txt (or the Python it was made from) changes.
#   - examples/orders-python: a venv at $FAULTLINE_CACHE/venv-orders -> FAULTLINE_ORDERS_PYTHON, and
#     examples/orders-python/.venv linking to it, which the example's manifest runs (as a user
#     would keep a venv beside their pipeline).
source "$(dirname "$0")/lib.sh"

# Debian bookworm's Python 3.11 (not a pyenv shim: resolving one costs ~0.4 s per call).
apt_ensure python3.11 python3.11-venv
python=/usr/bin/python3.11

# Makes venv $1 from requirements file $2 unless its stamp already holds the same hash.
venv_ensure() {
  local venv=$1 req=$2 want
  want="$( (sha256sum <"$req"; readlink -f "$python") | sha256sum | cut -c1-16)"
  if [ -x "$venv/bin/python" ] && [ "$(cat "$venv/.requirements-hash" 2>/dev/null)" = "$want" ]; then
    return 0
  fi
  say "building $venv from $req"
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check --no-cache-dir -r "$req" >&2
  echo "$want" > "$venv/.requirements-hash"
}

venv_ensure "$FAULTLINE_CACHE/venv-orders" "$REPO_DIR/examples/orders-python/requirements.txt"
ln -sfn "$FAULTLINE_CACHE/venv-orders" "$REPO_DIR/examples/orders-python/.venv"
echo "export FAULTLINE_ORDERS_PYTHON='$FAULTLINE_CACHE/venv-orders/bin/python'"
