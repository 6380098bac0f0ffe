#!/usr/bin/env bash
# `npm run test:faults`: the fault suites (issue 13), apart from `npm test` because each
# case runs a demo day: set-up (what is missing), then a network of three Raft orderers
# of its own (ports + 10000, state in .flexproof/network-faults), a component killed
# with SIGKILL mid-day in each case, and the day checked on the ledger. About 15 min.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT_DIR"

if [ "${1:-}" = "--help" ]; then
  echo "usage: npm run test:faults [-- --grep PATTERN]"
  echo "Kills each network component mid-day on a three-orderer network and checks the day on the ledger."
  exit 0
fi

bash scripts/setup.sh
step "fault suites (real Fabric network, three Raft orderers)"
node_modules/.bin/mocha --config test/faults/.mocharc.json "$@"
step "fault suites passed in $(( $(date +%s) - _t0 ))s"
