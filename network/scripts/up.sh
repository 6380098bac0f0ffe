#!/usr/bin/env bash
# Starts the native flexproof network: one Raft orderer (or ORDERERS=3), the
# aggregator's peer and the DSO's peer, each on its host of network/config/topology.env
# (all 127.0.0.1 by default), channel `flexchannel`, and the flexproof chaincode running as
# a service (one chaincode server per organisation), deployed with an endorsement
# policy that needs a peer of each organisation. No Docker.
#
# It runs the role scripts in order, on this machine: artifacts.sh (crypto, configuration,
# genesis block: first start only), orderer.sh, peer.sh, chaincode.sh. On machines of their
# own, run each role's script on its host instead (network/README.md). The set-up (npm
# run setup: npm ci, Fabric's binaries, tsc) is not its job.
set -euo pipefail
here="$(dirname "${BASH_SOURCE[0]}")"
# shellcheck source=lib.sh
source "$here/lib.sh"
# shellcheck source=artifacts.sh
source "$here/artifacts.sh"
# shellcheck source=orderer.sh
source "$here/orderer.sh"
# shellcheck source=peer.sh
source "$here/peer.sh"
# shellcheck source=chaincode.sh
source "$here/chaincode.sh"

usage() {
  cat <<USAGE
usage: npm run network:up [-- --help]

Starts the network, or says so and exits 0 if it is already running; when part of
an existing network runs (a component crashed or was killed), starts only what is
missing. State lives in
$STATE_DIR
(keep it with 'npm run network:down', drop it with 'npm run network:down -- --clean').
Ports and names: network/config/network.env (each can be overridden from the environment).
USAGE
}
case "${1:-}" in
  -h|--help) usage; exit 0 ;;
  "") ;;
  *) usage >&2; die "unknown argument: $1" ;;
esac

started=$(date +%s)

# --- what is already there -----------------------------------------------------------
running=() stale=()
for c in "${COMPONENTS[@]}"; do
  if live_pid "$c" >/dev/null; then running+=("$c")
  elif [ -f "$(pid_file "$c")" ]; then stale+=("$c")
  fi
done
if [ -f "$COMPLETE_MARKER" ] && [ "${#running[@]}" -eq "${#COMPONENTS[@]}" ]; then
  log "network is already running (${COMPONENTS[*]}); nothing to do"
  exit 0
fi
if [ "${#stale[@]}" -gt 0 ]; then
  warn "stale pid files from a run that did not stop cleanly: ${stale[*]}; removing them"
  for c in "${stale[@]}"; do rm -f "$(pid_file "$c")"; done
fi
if [ "${#running[@]}" -gt 0 ] && [ ! -f "$COMPLETE_MARKER" ]; then
  warn "network is partly running (${running[*]}) on a half-written state; stopping those before starting again"
  stop_components "${COMPONENTS[@]}"
  running=()
elif [ "${#running[@]}" -gt 0 ]; then
  log "network is partly running (${running[*]}); starting only what is missing"
fi
busy="$(busy_ports | while read -r line; do
  port="${line%% *}"
  # Ports held by our own running components are expected.
  owner="$(ALL_PORTS | awk -v p="$port" '$1 == p { print $2 }')"
  for c in "${running[@]}"; do case "$owner" in "$c"|"$c"-*) continue 2 ;; esac; done
  echo "$line"
done)"
if [ -n "$busy" ]; then
  echo "$busy" >&2
  die "cannot start: ports needed by the network are taken (move them in network/config/network.env or stop what holds them)"
fi

# --- prerequisites: made by the set-up, checked here ----------------------------------------
bash "$NETWORK_DIR/scripts/fabric-binaries.sh"
export PATH="$FABRIC_BIN:$PATH"
[ -x "$ROOT_DIR/node_modules/.bin/fabric-chaincode-node" ] \
  || die "npm packages are not installed: run 'npm run setup' (or npm ci) first"
[ -f "$ROOT_DIR/chaincode/dist/index.js" ] \
  || die "the chaincode is not built: run 'npm run setup' (or npm run build) first"
changed="$(find "$ROOT_DIR/chaincode/src" "$ROOT_DIR/protocol/src" "$ROOT_DIR/circuits/src" -name '*.ts' \
  -newer "$ROOT_DIR/chaincode/tsconfig.tsbuildinfo" -print -quit 2>/dev/null || true)"
if [ -n "$changed" ]; then
  warn "chaincode sources changed since the last build (${changed#"$ROOT_DIR"/}): the chaincode servers run the last build; 'npm run build' to use the new sources"
fi

fresh=true
if [ -f "$COMPLETE_MARKER" ]; then
  fresh=false
  log "restarting on the existing ledgers in $STATE_DIR"
elif [ -d "$STATE_DIR" ]; then
  warn "half-written network state from an interrupted run in $STATE_DIR; removing it and starting from scratch"
  rm -rf "$STATE_DIR"
fi
mkdir -p "$RUN_DIR" "$LOG_DIR" "$DATA_DIR" "$CONFIG_DIR"

if $fresh; then create_artifacts; fi

# --- nodes: each started only if it does not run ---------------------------------------------
for i in "${ORDERER_INDEXES[@]}"; do orderer_up "$i"; done
for org in aggregator dso; do peer_up "$org"; done
log "orderer and peers healthy"
if $fresh; then
  for i in "${ORDERER_INDEXES[@]}"; do orderer_join "$i"; done
  for org in aggregator dso; do peer_join "$org"; done
fi
wait_raft_leader

# --- chaincode as a service ---------------------------------------------------------------------
if $fresh; then
  for org in aggregator dso; do chaincode_install "$org"; done
fi
for org in aggregator dso; do chaincode_serve "$org"; done
if $fresh; then
  for org in aggregator dso; do chaincode_approve "$org"; done
  chaincode_commit
fi
for org in aggregator dso; do chaincode_ready "$org"; done

write_network_json
chaincode_endorsable

log "network up in $(( $(date +%s) - started ))s: channel $CHANNEL_NAME, chaincode $CHAINCODE_NAME ready on both peers"
log "connection details: $NETWORK_JSON; logs: $LOG_DIR; stop with: npm run network:down"
