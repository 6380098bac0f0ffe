#!/usr/bin/env bash
# Role: an organisation's peer. On the machine that hosts ORG's peer (aggregator | dso;
# the host is AGGREGATOR_HOST or DSO_HOST of the topology file):
#   bash network/scripts/peer.sh start ORG...   start it unless it runs, wait until healthy
#   bash network/scripts/peer.sh join ORG...    join it to the channel (new network only)
# Sourced by up.sh, which runs the same functions.
# shellcheck source=lib.sh
[ -n "${FLEXPROOF_NETWORK_LIB:-}" ] || source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Starts ORG's peer as its own session; its settings are environment overrides of the
# edited sample core.yaml (LevelDB state, TLS everywhere, metrics for Prometheus).
start_peer() {
  local org="$1" port cc ops dir host
  port="$(org_peer_port "$org")"; cc="$(org_peer_cc_port "$org")"; ops="$(org_peer_ops_port "$org")"
  host="$(org_host "$org")"
  dir="$(org_peer_dir "$org")"
  start_component "peer-$org" env \
    FABRIC_CFG_PATH="$CONFIG_DIR/peer-$org" \
    FABRIC_LOGGING_SPEC=INFO \
    CORE_PEER_ID="peer0.$(org_domain "$org")" \
    CORE_PEER_ADDRESS="$host:$port" \
    CORE_PEER_LISTENADDRESS="$host:$port" \
    CORE_PEER_CHAINCODEADDRESS="$host:$cc" \
    CORE_PEER_CHAINCODELISTENADDRESS="$host:$cc" \
    CORE_PEER_GOSSIP_BOOTSTRAP="$host:$port" \
    CORE_PEER_GOSSIP_EXTERNALENDPOINT="$host:$port" \
    CORE_PEER_LOCALMSPID="$(org_msp "$org")" \
    CORE_PEER_MSPCONFIGPATH="$dir/msp" \
    CORE_PEER_TLS_ENABLED=true \
    CORE_PEER_TLS_CERT_FILE="$dir/tls/server.crt" \
    CORE_PEER_TLS_KEY_FILE="$dir/tls/server.key" \
    CORE_PEER_TLS_ROOTCERT_FILE="$dir/tls/ca.crt" \
    CORE_PEER_FILESYSTEMPATH="$DATA_DIR/peer-$org" \
    CORE_LEDGER_STATE_STATEDATABASE=goleveldb \
    CORE_LEDGER_SNAPSHOTS_ROOTDIR="$DATA_DIR/peer-$org/snapshots" \
    CORE_OPERATIONS_LISTENADDRESS="$host:$ops" \
    CORE_METRICS_PROVIDER=prometheus \
    "$FABRIC_BIN/peer" node start
}

# ORG's peer running and healthy: started unless it already runs.
peer_up() {
  if ! live_pid "peer-$1" >/dev/null; then
    log "starting the $1 peer"
    start_peer "$1"
  fi
  wait_until "$1 peer health" "peer-$1" 60 http_ok "http://$(org_host "$1"):$(org_peer_ops_port "$1")/healthz"
}

peer_join() {
  log "joining the $1 peer to $CHANNEL_NAME"
  (peer_cli_env "$1"; run_step "peer channel join ($1)" setup \
    peer channel join -b "$STATE_DIR/$CHANNEL_NAME.block")
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  export PATH="$FABRIC_BIN:$PATH"
  cmd="${1:-}"; shift || true
  [ "$#" -gt 0 ] || { echo "usage: peer.sh start ORG... | join ORG...   (ORG: aggregator | dso)" >&2; exit 2; }
  for org in "$@"; do org_msp "$org" >/dev/null; done
  case "$cmd" in
    start) for org in "$@"; do peer_up "$org"; done ;;
    join) for org in "$@"; do peer_join "$org"; done ;;
    *) echo "usage: peer.sh start ORG... | join ORG...   (ORG: aggregator | dso)" >&2; exit 2 ;;
  esac
fi
