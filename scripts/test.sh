#!/usr/bin/env bash
# `npm test`: set-up (what is missing), lint, unit suites, then the integration suites
# against a real Fabric network started for them and stopped afterwards.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT_DIR"

network_was_running=false
if bash network/scripts/status.sh >/dev/null 2>&1; then network_was_running=true; fi
cleanup() {
  # The integration fixtures stop the network they started; this covers an abort.
  if ! $network_was_running && compgen -G ".flexproof/network/run/*.pid" >/dev/null; then
    bash network/scripts/down.sh || true
  fi
}
trap cleanup EXIT

bash scripts/setup.sh

step "lint"
node_modules/.bin/eslint .
bash scripts/shellcheck.sh
# The network's own tools run from source (ts-node), outside `tsc -b`: type-check them here.
node_modules/.bin/tsc -p network/tools

step "unit suites"
node_modules/.bin/mocha --config test/unit/.mocharc.json

step "integration suites (real Fabric network)"
node_modules/.bin/mocha --config test/integration/.mocharc.json

step "fault suites: one day, seven faults in sequence; a 24-hour edge outage (a network of their own, three Raft orderers, ports + 10000)"
node_modules/.bin/mocha --config test/faults/.mocharc.ci.json

step "all suites passed in $(( $(date +%s) - _t0 ))s"
