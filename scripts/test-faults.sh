#!/usr/bin/env bash
# `npm run test:faults`: the fault suites (issue 13) on a network of their own (three Raft
# orderers, ports + 10000, state in .flexproof/network-faults), set-up first (what is
# missing). Each case runs a demo day with components killed by SIGKILL mid-day and checks
# the day on the ledger. All of them take about 32 min.
#
# `--ci` runs only what `npm test` runs: the supervisor's test, the one-day case
# (test/faults/day-faults.test.ts: peer, chaincode server, gateway, store, broker and
# edge client killed in turn in one day, and the edge's failover to the other gateway),
# about 11 min at 20 s per simulated hour, and the 24-hour edge outage
# (test/faults/edge-outage.test.ts, about 7 min); the per-component cases, the Raft
# leader's included, stay in the full run.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT_DIR"

config=test/faults/.mocharc.json
case "${1:-}" in
  --help)
    echo "usage: npm run test:faults [-- --ci] [-- --grep PATTERN]"
    echo "Kills network components, gateways, stores, the broker and edge clients mid-day on a three-orderer network and checks the day on the ledger."
    echo "--ci: only what npm test runs (the supervisor, the one-day case and the 24-hour edge outage)."
    exit 0
    ;;
  --ci)
    config=test/faults/.mocharc.ci.json
    shift
    ;;
esac

bash scripts/setup.sh
step "fault suites (real Fabric network, three Raft orderers)"
node_modules/.bin/mocha --config "$config" "$@"
step "fault suites passed in $(( $(date +%s) - _t0 ))s"
