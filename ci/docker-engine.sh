#!/usr/bin/env bash
# Makes sure a Docker daemon answers. Exit 0: it does. Exit 3: it does not (the caller carries on with
# the processes backend). Installs docker.io and starts dockerd only in CI (CI=true) or with
# FAULTLINE_INSTALL_DOCKER=1, as root on Debian; otherwise prints the command to run.
# Sourcing it (tests do) defines the functions without running anything.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

docker_answers() { command -v docker >/dev/null && timeout 10 docker info >/dev/null 2>&1; }

# Starts "$@" detached, appending its output to the log file $1, and prints its pid: a new session
# (no controlling terminal, no job-control signals), stdin from /dev/null, and every other inherited
# file descriptor closed first. A caller holding a flock or the write end of a pipe (`$(...)`, `| tee`)
# would otherwise have it held by the daemon for the daemon's whole life.
start_detached() {
  local log=$1 fd
  shift
  (
    for fd in /proc/self/fd/*; do
      fd=${fd##*/}
      # The glob's own directory handle is already closed by now: closing it fails, harmlessly.
      if [ "$fd" -gt 2 ]; then exec {fd}>&- 2>/dev/null || true; fi
    done
    # Not a process-group leader here (a background subshell), so setsid execs without forking and
    # the pid printed below is the daemon's.
    exec setsid "$@" </dev/null >>"$log" 2>&1
  ) &
  echo $!
}

main() {
  if docker_answers; then exit 0; fi

  if [ "${CI:-}" != "true" ] && [ "${FAULTLINE_INSTALL_DOCKER:-0}" != "1" ]; then
    say "no Docker daemon answers; to install and start one (Debian, as root) run:"
    say "  FAULTLINE_INSTALL_DOCKER=1 $0"
    say "carrying on without Docker: the containers backend is unavailable, processes will be used"
    exit 3
  fi
  if ! is_root || [ ! -f /etc/debian_version ]; then
    say "cannot install Docker here (needs root on Debian); carrying on with the processes backend"
    exit 3
  fi
  t0=$(date +%s.%N)
  command -v dockerd >/dev/null || apt_ensure docker.io
  if ! pgrep -x dockerd >/dev/null; then
    say "starting dockerd in the background (log: $FAULTLINE_CACHE/dockerd.log)"
    : >"$FAULTLINE_CACHE/dockerd.log"
    start_detached "$FAULTLINE_CACHE/dockerd.log" dockerd >/dev/null
  fi
  for _ in $(seq 1 60); do docker_answers && { say "Docker daemon answers ($(since "$t0") s)"; exit 0; }; sleep 0.5; done
  say "dockerd did not answer within 30 s (see $FAULTLINE_CACHE/dockerd.log); carrying on with the processes backend"
  exit 3
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then main "$@"; fi
