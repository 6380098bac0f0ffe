#!/usr/bin/env bash
# Shows each component of the native network: running or not, pid, health.
# Exits 0 when every component runs and is healthy, 1 otherwise.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [ "${1:-}" = "--help" ]; then
  echo "usage: npm run network:status"
  echo "Shows each component (pid, health); exit code 0 only when all run and are healthy."
  exit 0
fi

health() {
  case "$1" in
    orderer*) http_ok "http://$(orderer_host "$(orderer_index "$1")"):$(orderer_ops_port "$(orderer_index "$1")")/healthz" ;;
    peer-aggregator) http_ok "http://$AGGREGATOR_HOST:$AGGREGATOR_PEER_OPS_PORT/healthz" ;;
    peer-dso) http_ok "http://$DSO_HOST:$DSO_PEER_OPS_PORT/healthz" ;;
    chaincode-aggregator) tcp_open "$AGGREGATOR_HOST" "$AGGREGATOR_CC_SERVER_PORT" ;;
    chaincode-dso) tcp_open "$DSO_HOST" "$DSO_CC_SERVER_PORT" ;;
  esac
}

all_ok=true
printf '%-22s %-9s %-8s %s\n' COMPONENT STATE PID HEALTH
for c in "${COMPONENTS[@]}"; do
  if pid="$(live_pid "$c")"; then
    if health "$c"; then h=ok; else h=failing; all_ok=false; fi
    printf '%-22s %-9s %-8s %s\n' "$c" running "$pid" "$h"
  else
    printf '%-22s %-9s %-8s %s\n' "$c" stopped - -
    all_ok=false
  fi
done
if [ -f "$COMPLETE_MARKER" ]; then
  echo "state: $STATE_DIR (channel $CHANNEL_NAME, chaincode $CHAINCODE_NAME deployed)"
elif [ -d "$STATE_DIR" ]; then
  echo "state: $STATE_DIR is incomplete (an interrupted up); the next up rebuilds it"
else
  echo "state: none (the next up creates the network)"
fi
$all_ok
