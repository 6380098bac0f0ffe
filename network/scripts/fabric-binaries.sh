#!/usr/bin/env bash
# Builds Fabric's own binaries (peer, orderer, osnadmin, configtxgen, cryptogen) from
# the pinned Fabric 2.5 commit with `go install`, into a cache outside the repository,
# and reuses them when present. Usage: fabric-binaries.sh [--force]
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [ "${1:-}" = "--help" ]; then
  echo "usage: $(basename "$0") [--force]"
  echo "Builds Fabric $FABRIC_VERSION binaries into $FABRIC_BIN (reused unless --force)."
  exit 0
fi

have_all() {
  local b
  for b in "${FABRIC_BINARIES[@]}"; do [ -x "$FABRIC_BIN/$b" ] || return 1; done
}

if [ "${1:-}" != "--force" ] && have_all; then
  log "Fabric $FABRIC_VERSION binaries: cached in $FABRIC_BIN"
  exit 0
fi

command -v go >/dev/null 2>&1 || die "Go is not installed. Install Go $GO_MIN_VERSION or newer (https://go.dev/doc/install) to build Fabric's binaries."
go_version="$(go env GOVERSION)"; go_version="${go_version#go}"
if [ "$(printf '%s\n%s\n' "$GO_MIN_VERSION" "$go_version" | sort -V | head -1)" != "$GO_MIN_VERSION" ]; then
  die "Go $go_version is too old: Fabric $FABRIC_VERSION needs Go $GO_MIN_VERSION or newer."
fi

module="github.com/hyperledger/fabric@$FABRIC_MODULE_VERSION"
log "building Fabric $FABRIC_VERSION ($module) with Go $go_version; the first build takes a few minutes"
# `go install pkg@version` also asks the proxy for the module's version list (for
# deprecation notices), which the module proxy refuses for Fabric; downloading the
# pinned module and installing from inside it builds the same commit with its own
# go.mod and go.sum.
if ! dir="$(go mod download -json "$module" 2>&1 | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')" || [ -z "$dir" ]; then
  go mod download -json "$module" >&2 || true
  die "could not download $module from the Go module proxy (Go's error above)"
fi
mkdir -p "$FABRIC_BIN"
packages=()
for b in "${FABRIC_BINARIES[@]}"; do packages+=("./cmd/$b"); done
started=$(date +%s)
# A failed build shows Go's own error output.
(cd "$dir" && GOBIN="$FABRIC_BIN" GOFLAGS=-mod=mod go install "${packages[@]}") \
  || die "go install of Fabric $FABRIC_VERSION failed (Go's error above)"
# Sample configuration (core.yaml, orderer.yaml) to copy from, read-only in the module cache.
rm -rf "$FABRIC_HOME/sampleconfig"
cp -r "$dir/sampleconfig" "$FABRIC_HOME/sampleconfig"
chmod -R u+w "$FABRIC_HOME/sampleconfig"
have_all || die "go install finished but binaries are missing from $FABRIC_BIN"
log "Fabric binaries built in $(( $(date +%s) - started ))s: $FABRIC_BIN"
