#!/usr/bin/env bash
# Stops the processes of the native network that `up` started (by their pid files),
# and with --clean drops all network state (ledgers, crypto material, logs).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

clean=false
case "${1:-}" in
  -h|--help)
    echo "usage: npm run network:down [-- --clean]"
    echo "Stops the network; --clean also deletes $STATE_DIR."
    exit 0 ;;
  --clean) clean=true ;;
  "") ;;
  *) die "unknown argument: $1 (see --help)" ;;
esac

stop_components "${COMPONENTS[@]}"

if $clean; then
  rm -rf "$STATE_DIR"
  log "network state removed ($STATE_DIR)"
fi

left="$(busy_ports)"
if [ -n "$left" ]; then
  echo "$left" >&2
  warn "the ports above are still in use, by processes this script did not start"
fi
log "network stopped"
