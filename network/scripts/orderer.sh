#!/usr/bin/env bash
# Role: an ordering node (Raft). On the machine that hosts orderer I (0 for the first;
# the host is ORDERER<I>_HOST of the topology file):
#   bash network/scripts/orderer.sh start [I...]   start it unless it runs, wait until healthy
#   bash network/scripts/orderer.sh join [I...]    join it to the channel (new network only)
#   bash network/scripts/orderer.sh leader         wait for a Raft leader, print its name
# Without I: every orderer of the network. Sourced by up.sh, which runs the same functions.
# shellcheck source=lib.sh
[ -n "${FLEXPROOF_NETWORK_LIB:-}" ] || source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Starts orderer I as its own session (see start_component); its settings are environment
# overrides of the sample orderer.yaml.
start_orderer() {
  local i="$1" n data
  n="$(orderer_node_dir "$i")"; data="$(orderer_data_dir "$i")"
  start_component "$(orderer_component "$i")" env \
    FABRIC_CFG_PATH="$CONFIG_DIR/orderer" \
    FABRIC_LOGGING_SPEC=INFO \
    ORDERER_GENERAL_LISTENADDRESS="$(orderer_host "$i")" \
    ORDERER_GENERAL_LISTENPORT="$(orderer_port "$i")" \
    ORDERER_GENERAL_LOCALMSPID=OrdererMSP \
    ORDERER_GENERAL_LOCALMSPDIR="$n/msp" \
    ORDERER_GENERAL_TLS_ENABLED=true \
    ORDERER_GENERAL_TLS_PRIVATEKEY="$n/tls/server.key" \
    ORDERER_GENERAL_TLS_CERTIFICATE="$n/tls/server.crt" \
    ORDERER_GENERAL_TLS_ROOTCAS="[$n/tls/ca.crt]" \
    ORDERER_GENERAL_CLUSTER_CLIENTCERTIFICATE="$n/tls/server.crt" \
    ORDERER_GENERAL_CLUSTER_CLIENTPRIVATEKEY="$n/tls/server.key" \
    ORDERER_GENERAL_CLUSTER_ROOTCAS="[$n/tls/ca.crt]" \
    ORDERER_GENERAL_BOOTSTRAPMETHOD=none \
    ORDERER_CHANNELPARTICIPATION_ENABLED=true \
    ORDERER_ADMIN_LISTENADDRESS="$(orderer_host "$i"):$(orderer_admin_port "$i")" \
    ORDERER_ADMIN_TLS_ENABLED=true \
    ORDERER_ADMIN_TLS_CERTIFICATE="$n/tls/server.crt" \
    ORDERER_ADMIN_TLS_PRIVATEKEY="$n/tls/server.key" \
    ORDERER_ADMIN_TLS_ROOTCAS="[$n/tls/ca.crt]" \
    ORDERER_ADMIN_TLS_CLIENTAUTHREQUIRED=true \
    ORDERER_ADMIN_TLS_CLIENTROOTCAS="[$n/tls/ca.crt]" \
    ORDERER_FILELEDGER_LOCATION="$data/ledger" \
    ORDERER_CONSENSUS_WALDIR="$data/etcdraft/wal" \
    ORDERER_CONSENSUS_SNAPDIR="$data/etcdraft/snapshot" \
    ORDERER_OPERATIONS_LISTENADDRESS="$(orderer_host "$i"):$(orderer_ops_port "$i")" \
    ORDERER_METRICS_PROVIDER=prometheus \
    "$FABRIC_BIN/orderer"
}

# Orderer I running and healthy: started unless it already runs.
orderer_up() {
  local c
  c="$(orderer_component "$1")"
  if ! live_pid "$c" >/dev/null; then
    log "starting $c"
    start_orderer "$1"
  fi
  wait_until "$c health" "$c" 60 http_ok "http://$(orderer_host "$1"):$(orderer_ops_port "$1")/healthz"
}

# Joins orderer I to the channel through the channel participation API (no system channel).
orderer_join() {
  log "joining $(orderer_component "$1") to $CHANNEL_NAME (channel participation API)"
  run_step "osnadmin channel join ($(orderer_component "$1"))" setup osnadmin channel join --channelID "$CHANNEL_NAME" \
    --config-block "$STATE_DIR/$CHANNEL_NAME.block" -o "$(orderer_host "$1"):$(orderer_admin_port "$1")" \
    --ca-file "$ORDERER_TLS_CA" --client-cert "$ORDERER_ADMIN_DIR/tls/client.crt" \
    --client-key "$ORDERER_ADMIN_DIR/tls/client.key"
}

# Raft elects a leader of the channel a few seconds after a (re)start; until then the
# orderers refuse transactions with "no Raft leader".
raft_leader() {
  local i metrics
  for i in "${ORDERER_INDEXES[@]}"; do
    # Read whole before matching: grep -q stopping early would fail curl under pipefail.
    metrics="$(curl -fsS --max-time 2 "http://$(orderer_host "$i"):$(orderer_ops_port "$i")/metrics" 2>/dev/null)" || continue
    if grep -Eq "^consensus_etcdraft_is_leader\{channel=\"$CHANNEL_NAME\"\} 1" <<<"$metrics"; then
      orderer_component "$i"
      return 0
    fi
  done
  return 1
}
wait_raft_leader() {
  wait_until "a Raft leader of $CHANNEL_NAME (election)" orderer 60 raft_leader
  log "$(raft_leader) leads $CHANNEL_NAME"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  export PATH="$FABRIC_BIN:$PATH"
  cmd="${1:-}"; shift || true
  indexes=("$@"); [ "${#indexes[@]}" -gt 0 ] || indexes=("${ORDERER_INDEXES[@]}")
  case "$cmd" in
    start) for i in "${indexes[@]}"; do orderer_up "$i"; done ;;
    join) for i in "${indexes[@]}"; do orderer_join "$i"; done ;;
    leader) wait_raft_leader ;;
    *) echo "usage: orderer.sh start [I...] | join [I...] | leader" >&2; exit 2 ;;
  esac
fi
