#!/usr/bin/env bash
# Builds the local images the containers backend uses where no registry can be reached:
#   faultline/debian:<suite>            debootstrap --variant=minbase + docker import
#   faultline/postgres:<major>-<hash>   Postgres from Debian's packages (ci/images/postgres)
#   faultline/kafka:<version>-<hash>    the Maven-assembled Kafka jars plus a JRE (ci/images/kafka)
# Cached by tag: the tag carries a hash of the build inputs, so a second run rebuilds nothing.
# Prints shell assignments of the image names for the env file.
# Usage: images.sh <kafka-home>
source "$(dirname "$0")/lib.sh"
kafka_home="$1"

base="faultline/debian:$DEBIAN_SUITE"
have() { docker image inspect "$1" >/dev/null 2>&1; }

if ! have "$base"; then
  is_root || die "building $base needs root (debootstrap); or set FAULTLINE_POSTGRES_IMAGE/FAULTLINE_KAFKA_IMAGE to images you have"
  command -v debootstrap >/dev/null || apt_ensure debootstrap
  mirror=$(grep -rhoE '^(URIs:|deb) *https?://[^ ]+/debian/?( |$)' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null \
             | grep -oE 'https?://[^ ]+' | head -n1 || true)
  mirror="${mirror:-http://deb.debian.org/debian}"
  t0=$(date +%s.%N)
  root="$FAULTLINE_CACHE/rootfs-$DEBIAN_SUITE"
  rm -rf "$root"
  say "debootstrap $DEBIAN_SUITE from $mirror (about 35 s)"
  debootstrap --variant=minbase "$DEBIAN_SUITE" "$root" "$mirror" >"$FAULTLINE_CACHE/debootstrap.log" 2>&1 \
    || die "debootstrap failed; see $FAULTLINE_CACHE/debootstrap.log"
  tar -C "$root" -c . | docker import - "$base" >/dev/null
  rm -rf "$root"
  say "built $base ($(since "$t0") s)"
fi

pg_tag="faultline/postgres:$PG_MAJOR-$(dir_hash "$CI_DIR/images/postgres")"
if ! have "$pg_tag"; then
  t0=$(date +%s.%N)
  say "building $pg_tag"
  docker build -q --build-arg BASE="$base" --build-arg PG_MAJOR="$PG_MAJOR" -t "$pg_tag" "$CI_DIR/images/postgres" >&2
  say "built $pg_tag ($(since "$t0") s)"
fi

kafka_tag="faultline/kafka:$KAFKA_VERSION-$(dir_hash "$CI_DIR/images/kafka")-$(basename "$kafka_home" | sed 's/.*-//')"
if ! have "$kafka_tag"; then
  t0=$(date +%s.%N)
  say "building $kafka_tag"
  ctx=$(mktemp -d)
  trap 'rm -rf "$ctx"' EXIT
  cp -r "$CI_DIR/images/kafka/." "$ctx/"
  cp -r "$kafka_home/libs" "$kafka_home/config" "$ctx/"
  docker build -q --build-arg BASE="$base" -t "$kafka_tag" "$ctx" >&2
  say "built $kafka_tag ($(since "$t0") s)"
fi
echo "FAULTLINE_POSTGRES_IMAGE=$pg_tag"
echo "FAULTLINE_KAFKA_IMAGE=$kafka_tag"
