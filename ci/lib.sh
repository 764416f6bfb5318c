# Shared helpers for the ci/ scripts. Sourced, never run.
set -euo pipefail
CI_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$CI_DIR/.." && pwd)"
# shellcheck source=versions.env
source "$CI_DIR/versions.env"
FAULTLINE_CACHE="${FAULTLINE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/faultline}"
mkdir -p "$FAULTLINE_CACHE"

say() { printf '\033[1m[provision]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[31m[provision] error:\033[0m %s\n' "$*" >&2; exit 1; }
is_root() { [ "$(id -u)" = 0 ]; }
# Elapsed seconds since the given `date +%s.%N` value, one decimal.
since() { awk -v s="$1" -v n="$(date +%s.%N)" 'BEGIN{printf "%.1f", n-s}'; }

# Runs apt-get install for the missing packages only; needs root, says what to run otherwise.
apt_ensure() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if ! is_root; then
    die "missing Debian packages: ${missing[*]}; run: sudo apt-get install -y ${missing[*]}"
  fi
  say "installing ${missing[*]}"
  if [ ! -f "$FAULTLINE_CACHE/.apt-updated" ] || [ -n "$(find "$FAULTLINE_CACHE/.apt-updated" -mmin +720)" ]; then
    apt-get update -qq && touch "$FAULTLINE_CACHE/.apt-updated"
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Hash of a directory's files (names and contents), used as a cache key / image tag.
dir_hash() { (cd "$1" && find . -type f -print0 | sort -z | xargs -0 sha256sum) | sha256sum | cut -c1-12; }

# Debian bookworm's Python 3.11 (not a pyenv shim: resolving one costs ~0.4 s per call), for the
# venvs below.
python_ensure() {
  apt_ensure python3.11 python3.11-venv
  python=/usr/bin/python3.11
}

# Makes venv $1 from requirements file $2 unless its stamp already holds the same hash (call
# python_ensure first).
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
