#!/usr/bin/env bash
# Makes sure a Docker daemon answers. Exit 0: it does. Exit 3: it does not (the caller carries on with
# the processes backend). Installs docker.io and starts dockerd only in CI (CI=true) or with
# FAULTLINE_INSTALL_DOCKER=1, as root on Debian; otherwise prints the command to run.
source "$(dirname "$0")/lib.sh"

docker_answers() { command -v docker >/dev/null && timeout 10 docker info >/dev/null 2>&1; }
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
  setsid nohup dockerd >"$FAULTLINE_CACHE/dockerd.log" 2>&1 < /dev/null &
fi
for _ in $(seq 1 60); do docker_answers && { say "Docker daemon answers ($(since "$t0") s)"; exit 0; }; sleep 0.5; done
say "dockerd did not answer within 30 s (see $FAULTLINE_CACHE/dockerd.log); carrying on with the processes backend"
exit 3
