#!/usr/bin/env bash
# `npm run demo [-- options]`: sets up what is missing, then runs a full demand-response
# day on the real network (demo/src/day.ts; `npm run demo -- --help` lists the options).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT_DIR"

for arg in "$@"; do
  if [ "$arg" = "--help" ] || [ "$arg" = "-h" ]; then
    node demo/dist/day.js --help 2>/dev/null || echo "usage: npm run demo [-- --prosumers N --seconds-per-hour S --keep-running]"
    exit 0
  fi
done

bash scripts/setup.sh
step "demand-response day"
node demo/dist/day.js "$@"
