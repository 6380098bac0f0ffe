#!/usr/bin/env bash
# `npm run soak`: several accelerated demand-response days on one set of long-lived
# processes, sampling each component's memory and open fds (demo/src/soak.ts; issue 13).
# On a network of its own: state in .flexproof/network-soak, every port of network.env
# + 20000, the demo's processes' ports + 20000, one orderer; created fresh and removed
# after, so the default network and the fault suites' (+ 10000) can run beside it.
#
# usage: npm run soak [-- --no-setup] [-- SOAK OPTIONS]   (--help lists them)
# --no-setup skips the set-up (npm packages, build, artifacts): for a tree already built.
# FLEXPROOF_KEEP_NETWORK=1 leaves the soak's network up after the run (to look at it).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT_DIR"

OFFSET=20000
setup=1
args=()
for arg in "$@"; do
  case "$arg" in
    --help | -h)
      if [ -f demo/dist/soak.js ]; then exec node demo/dist/soak.js --help; fi
      echo "demo/dist/soak.js is not built yet: run 'npm run setup' first, or the command without --help"
      exit 0
      ;;
    --no-setup) setup=0 ;;
    *) args+=("$arg") ;;
  esac
done

export FLEXPROOF_NETWORK_DIR="$ROOT_DIR/.flexproof/network-soak"
export ORDERERS=1
export FLEXPROOF_DEMO_PORT_OFFSET=$OFFSET
export FLEXPROOF_DEMO_GATEWAY_DIR="$ROOT_DIR/.flexproof/network-soak-gateway"
unset FLEXPROOF_DEMO_MQTT_PORT
# Every port variable of network.env (the one place for them), + OFFSET: read in a
# shell of its own so that none of network.env's other settings leak into this one.
# shellcheck disable=SC2016  # the inner shell expands them, on purpose
while IFS='=' read -r name port; do
  export "$name=$(( port + OFFSET ))"
done < <(env -i PATH="$PATH" bash -c 'source network/config/network.env; for v in $(compgen -v | grep "_PORT$"); do echo "$v=${!v}"; done')

if [ "$setup" = 1 ]; then bash scripts/setup.sh; fi

# shellcheck disable=SC2317  # called by the EXIT trap
down() {
  if [ "${FLEXPROOF_KEEP_NETWORK:-}" = 1 ]; then
    echo "soak: network left up in $FLEXPROOF_NETWORK_DIR (FLEXPROOF_KEEP_NETWORK=1); the next npm run soak removes it first"
    return
  fi
  step "soak: stopping and removing its network"
  bash network/scripts/down.sh --clean || true
  rm -rf "$FLEXPROOF_DEMO_GATEWAY_DIR"
}

step "soak: a fresh network of one orderer in $FLEXPROOF_NETWORK_DIR (ports + $OFFSET)"
bash network/scripts/down.sh --clean
rm -rf "$FLEXPROOF_DEMO_GATEWAY_DIR"
trap down EXIT
bash network/scripts/up.sh

step "soak: node demo/dist/soak.js ${args[*]}"
status=0
node demo/dist/soak.js "${args[@]}" || status=$?
step "soak: exit $status after $(( $(date +%s) - _t0 ))s"
exit "$status"
