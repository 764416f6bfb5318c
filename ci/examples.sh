#!/usr/bin/env bash
# Provisions the example pipelines under examples/, idempotently, and prints the `export` lines
# provision.sh puts in env.sh. Fast when already done: a venv is rebuilt only when its
# requirements.txt (or the Python it was made from) changes.
#   - examples/orders-python: a venv at $FAULTLINE_CACHE/venv-orders -> FAULTLINE_ORDERS_PYTHON, and
#     examples/orders-python/.venv linking to it, which the example's manifest runs (as a user
#     would keep a venv beside their pipeline).
#   - examples/spend-python: the same, at $FAULTLINE_CACHE/venv-spend -> FAULTLINE_SPEND_PYTHON.
#   - examples/payments-java: target/payments-sink.jar, built by Maven (its repository at
#     $FAULTLINE_CACHE/m2) unless the jar is newer than pom.xml and every source ->
#     FAULTLINE_PAYMENTS_JAR. After the first build, Maven runs offline while pom.xml is unchanged.
source "$(dirname "$0")/lib.sh"

python_ensure

venv_ensure "$FAULTLINE_CACHE/venv-orders" "$REPO_DIR/examples/orders-python/requirements.txt"
ln -sfn "$FAULTLINE_CACHE/venv-orders" "$REPO_DIR/examples/orders-python/.venv"
echo "export FAULTLINE_ORDERS_PYTHON='$FAULTLINE_CACHE/venv-orders/bin/python'"

venv_ensure "$FAULTLINE_CACHE/venv-spend" "$REPO_DIR/examples/spend-python/requirements.txt"
ln -sfn "$FAULTLINE_CACHE/venv-spend" "$REPO_DIR/examples/spend-python/.venv"
echo "export FAULTLINE_SPEND_PYTHON='$FAULTLINE_CACHE/venv-spend/bin/python'"

command -v java >/dev/null || die "java not found; examples/payments-java needs Java 17+: apt-get install -y openjdk-17-jdk-headless"
command -v mvn >/dev/null || apt_ensure maven

# Builds examples/payments-java's shaded jar unless it is newer than pom.xml and src/.
jar_ensure() {
  local dir=$1 jar=$1/target/payments-sink.jar repo=$FAULTLINE_CACHE/m2 stamp
  if [ -f "$jar" ] && [ -z "$(find "$dir/pom.xml" "$dir/src" -newer "$jar" -print -quit)" ]; then
    return 0
  fi
  # Online only until this pom.xml's plugins and dependencies are in the repository once.
  stamp="$repo/.resolved-$(sha256sum <"$dir/pom.xml" | cut -c1-16)"
  local mode=()
  [ -f "$stamp" ] && mode=(-o)
  local t0; t0=$(date +%s.%N)
  say "building $jar with Maven${mode:+ (offline)}"
  mvn -q -B -Dstyle.color=never "${mode[@]}" -Dmaven.repo.local="$repo" -f "$dir/pom.xml" package >&2 \
    || die "mvn could not build $dir; check that Maven Central is reachable (the first build downloads kafka-clients and the JDBC driver)"
  touch "$stamp"
  say "payments-sink.jar ready ($(since "$t0") s)"
}

jar_ensure "$REPO_DIR/examples/payments-java"
echo "export FAULTLINE_PAYMENTS_JAR='$REPO_DIR/examples/payments-java/target/payments-sink.jar'"
