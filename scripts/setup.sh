#!/usr/bin/env bash
# Installs whatever is missing for the demo and the tests, and reuses what is there:
# npm packages, Fabric's binaries (built with Go), compiled TypeScript, circuit
# artifacts (trusted setup, cached) and the Debian tools the tests use.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT_DIR"

if [ "${1:-}" = "--help" ]; then
  echo "usage: npm run setup"
  echo "Installs npm packages, builds Fabric binaries and circuit artifacts when missing, compiles TypeScript."
  exit 0
fi

node_major="$(node -p 'process.versions.node.split(".").map(Number).join(" ")')"
read -r major minor _ <<<"$node_major"
if [ "$major" -lt 20 ] || { [ "$major" -eq 20 ] && [ "$minor" -lt 19 ]; }; then
  die "Node.js $(node --version) is too old: flexproof needs Node 20.19 or newer"
fi

step "npm packages"
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
else
  echo "up to date"
fi

step "Fabric binaries"
bash network/scripts/fabric-binaries.sh

step "TypeScript build"
node_modules/.bin/tsc -b
echo "compiled"

if node -e 'process.exit(require("./circuits/package.json").scripts?.setup ? 0 : 1)'; then
  step "circuit artifacts"
  npm run --silent setup -w @flexproof/circuits
fi

step "system tools"
ensure_debian_package shellcheck shellcheck
# Headless Chromium checks the demo report; Mosquitto is the real MQTT broker of the edge tests.
ensure_debian_package chromium chromium
ensure_debian_package mosquitto mosquitto
echo "shellcheck $(shellcheck --version | sed -n 's/^version: //p'), $(chromium --version 2>/dev/null), mosquitto $(dpkg-query -W -f='${Version}' mosquitto)"
