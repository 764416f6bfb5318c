#!/usr/bin/env bash
# Assembles Apache Kafka $KAFKA_VERSION from Maven Central into $FAULTLINE_CACHE/kafka/<version>-<hash>/,
# laid out like the official distribution: libs/*.jar and config/. Prints the directory.
# Idempotent: a complete directory (stamp file present) is reused as it is.
source "$(dirname "$0")/lib.sh"

command -v java >/dev/null || die "java not found; Kafka $KAFKA_VERSION needs Java 17+: apt-get install -y openjdk-17-jre-headless"
command -v mvn >/dev/null || apt_ensure maven

key=$(dir_hash "$CI_DIR/kafka")
home="$FAULTLINE_CACHE/kafka/$KAFKA_VERSION-$key"
if [ -f "$home/.complete" ]; then echo "$home"; exit 0; fi

t0=$(date +%s.%N)
say "assembling Kafka $KAFKA_VERSION jars from Maven Central into $home"
rm -rf "$home.tmp" && mkdir -p "$home.tmp/config"
mvn -q -B -f "$CI_DIR/kafka/pom.xml" -Dkafka.version="$KAFKA_VERSION" \
  dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$home.tmp/libs" >&2 \
  || die "mvn could not resolve org.apache.kafka:kafka_2.13:$KAFKA_VERSION; check that Maven Central is reachable"
cp "$CI_DIR/kafka/log4j2.properties" "$CI_DIR/kafka/server.properties" "$home.tmp/config/"
echo "$KAFKA_VERSION" > "$home.tmp/VERSION"
touch "$home.tmp/.complete"
rm -rf "$home" && mv "$home.tmp" "$home"
say "Kafka jars ready ($(ls "$home/libs" | wc -l) jars, $(since "$t0") s)"
echo "$home"
