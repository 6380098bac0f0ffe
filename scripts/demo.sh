#!/usr/bin/env bash
# `npm run demo`: sets up what is missing, starts the native Fabric network, and runs
# one real transaction per organisation. The network stays up; the last lines say how
# to stop it. (The full demand-response day replaces this in the demo issue.)
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT_DIR"

if [ "${1:-}" = "--help" ]; then
  echo "usage: npm run demo"
  echo "Sets up, starts the network, submits one transaction per organisation, leaves the network running."
  exit 0
fi

bash scripts/setup.sh
step "network"
bash network/scripts/up.sh
step "one transaction per organisation"
node demo/dist/first-transactions.js
step "done in $(( $(date +%s) - _t0 ))s"
cat <<MSG
The network is still running:  npm run network:status
Logs:                           .flexproof/network/logs/
Stop it:                        npm run network:down   (add -- --clean to drop the ledgers)
MSG
