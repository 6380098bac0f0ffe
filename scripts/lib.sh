#!/usr/bin/env bash
# Shared by the root scripts (setup, test, demo): logging and system packages.
# shellcheck disable=SC2034  # ROOT_DIR is used by the scripts that source this file
ROOT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_t0=$(date +%s)
export _t0
step() { printf '\n==> [%4ss] %s\n' "$(( $(date +%s) - _t0 ))" "$*"; }
die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

# Installs Debian packages that a test or the demo needs, when their command is missing.
# Usage: ensure_debian_package COMMAND PACKAGE
ensure_debian_package() {
  command -v "$1" >/dev/null 2>&1 && return 0
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    die "'$1' is missing: install the Debian package '$2' (apt-get install $2)"
  fi
  echo "installing Debian package $2 (for $1)"
  if [ ! -f /tmp/.flexproof-apt-updated ]; then
    apt-get update -qq >/dev/null && touch /tmp/.flexproof-apt-updated
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null \
    || die "apt-get install $2 failed"
}
