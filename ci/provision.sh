#!/usr/bin/env bash
# Provisions everything faultline needs on this machine, idempotently, and writes
# $FAULTLINE_CACHE/env.sh for the other scripts to source. Fast when already done.
#   - build dependencies for rdkafka (cmake, libcurl) and the Postgres server binaries
#   - Apache Kafka $KAFKA_VERSION assembled from Maven Central (ci/kafka-dist.sh)
#   - the example pipelines' runtimes, e.g. a Python venv for examples/orders-python (ci/examples.sh)
#   - a Docker engine (ci/docker-engine.sh) and, if the official images cannot be pulled,
#     local images built without a registry (ci/images.sh)
# Options (env): FAULTLINE_SKIP_DOCKER=1 skips everything Docker; FAULTLINE_LOCAL_IMAGES=1 builds
# local images without trying the registry first.
source "$(dirname "$0")/lib.sh"
t0=$(date +%s.%N)

# rdkafka's cmake build needs cmake and curl headers; the processes backend needs the postgres
# binaries; promtool (from prometheus) validates the alert rules; headless chromium (with a font)
# screenshots report.html in harness/report/tests/render.rs.
pkgs=(cmake libcurl4-openssl-dev pkg-config "postgresql-$PG_MAJOR" prometheus chromium fonts-dejavu-core)
command -v java >/dev/null || pkgs+=(openjdk-17-jdk-headless)
command -v mvn >/dev/null || pkgs+=(maven)
apt_ensure "${pkgs[@]}"

kafka_home=$("$CI_DIR/kafka-dist.sh")
examples_env=$("$CI_DIR/examples.sh")

kafka_image="" postgres_image="" docker=0
if [ "${FAULTLINE_SKIP_DOCKER:-0}" != 1 ]; then
  set +e; "$CI_DIR/docker-engine.sh"; rc=$?; set -e
  if [ $rc = 0 ]; then
    docker=1
    official_pg="postgres:17" official_kafka="apache/kafka:$KAFKA_VERSION"
    pulled() { docker image inspect "$1" >/dev/null 2>&1 || timeout 120 docker pull -q "$1" >/dev/null 2>&1; }
    if [ "${FAULTLINE_LOCAL_IMAGES:-0}" != 1 ] && pulled "$official_pg" && pulled "$official_kafka"; then
      say "using the official images $official_pg and $official_kafka"
    else
      say "official images cannot be pulled here; using local images"
      eval "$("$CI_DIR/images.sh" "$kafka_home")"
      kafka_image=$FAULTLINE_KAFKA_IMAGE postgres_image=$FAULTLINE_POSTGRES_IMAGE
    fi
  fi
fi

env_file="$FAULTLINE_CACHE/env.sh"
{
  echo "# written by ci/provision.sh on $(date -u +%FT%TZ)"
  echo "export FAULTLINE_CACHE='$FAULTLINE_CACHE'"
  echo "export FAULTLINE_KAFKA_HOME='$kafka_home'"
  echo "export FAULTLINE_DOCKER=$docker"
  echo "$examples_env"
  [ -n "$kafka_image" ] && echo "export FAULTLINE_KAFKA_IMAGE='$kafka_image'"
  [ -n "$postgres_image" ] && echo "export FAULTLINE_POSTGRES_IMAGE='$postgres_image'"
  echo "export CARGO_TARGET_DIR=\"\${CARGO_TARGET_DIR:-$FAULTLINE_CACHE/target}\""
} > "$env_file.tmp" && mv "$env_file.tmp" "$env_file"
say "provisioned in $(since "$t0") s (docker: $([ $docker = 1 ] && echo yes || echo no)); env in $env_file"
