#!/usr/bin/env bash
# Installs toxiproxy-server (only for the side-by-side figures in benches/proxy_overhead.rs; the test
# path never needs it) from the Go module proxy into $FAULTLINE_CACHE/bin. Idempotent: does nothing
# when the pinned version is already there. Prints the binary's path.
# Options (env): TOXIPROXY_VERSION (default below).
source "$(dirname "$0")/lib.sh"
version="${TOXIPROXY_VERSION:-v2.5.0}"
bin_dir="$FAULTLINE_CACHE/bin"
bin="$bin_dir/toxiproxy-server"
stamp="$bin_dir/.toxiproxy-$version"

if [ -x "$bin" ] && [ -f "$stamp" ]; then echo "$bin"; exit 0; fi
command -v go >/dev/null || die "toxiproxy needs Go to build; install it (Debian: apt-get install golang) and rerun $0"
t0=$(date +%s.%N)
mkdir -p "$bin_dir"
say "building toxiproxy-server $version from the Go module proxy"
# Since v2.2 the server's package is cmd/server, so `go install` names the binary `server`.
gobin=$(mktemp -d)
trap 'rm -rf "$gobin"' EXIT
GOBIN="$gobin" go install "github.com/Shopify/toxiproxy/v2/cmd/server@$version" \
  || die "go install of toxiproxy $version (cmd/server) failed"
mv "$gobin/server" "$bin"
rm -f "$bin_dir"/.toxiproxy-*
touch "$stamp"
say "installed $bin ($(since "$t0") s)"
echo "$bin"
