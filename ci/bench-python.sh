#!/usr/bin/env bash
# The Python the compare bench runs its numpy baseline with: a venv at
# $FAULTLINE_CACHE/venv-bench from benches/requirements.txt, rebuilt only when that file changes.
# Prints the interpreter's path on stdout (everything else goes to stderr).
source "$(dirname "$0")/lib.sh"

python_ensure
venv_ensure "$FAULTLINE_CACHE/venv-bench" "$REPO_DIR/benches/requirements.txt"
echo "$FAULTLINE_CACHE/venv-bench/bin/python"
