#!/usr/bin/env bash
# Starts the native flexproof network: one Raft orderer (or ORDERERS=3), the
# aggregator's peer and the DSO's peer, each on its host of network/config/topology.env
# (all 127.0.0.1 by default), channel `flexchannel`, and the flexproof chaincode running as
# a service (one chaincode server per organisation), deployed with an endorsement
# policy that needs a peer of each organisation. No Docker.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

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
# True when a component is already running (a restart of part of the network).
is_running() { local c; for c in "${running[@]}"; do [ "$c" = "$1" ] && return 0; done; return 1; }

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

# --- prerequisites ---------------------------------------------------------------------
bash "$NETWORK_DIR/scripts/fabric-binaries.sh"
export PATH="$FABRIC_BIN:$PATH"
if [ ! -x "$ROOT_DIR/node_modules/.bin/fabric-chaincode-node" ]; then
  log "installing npm packages (npm ci)"
  (cd "$ROOT_DIR" && npm ci --no-audit --no-fund >/dev/null)
fi
log "building the chaincode and the gateway tools (tsc)"
"$ROOT_DIR/node_modules/.bin/tsc" -b "$ROOT_DIR/chaincode" "$ROOT_DIR/gateway-api" || die "chaincode or gateway-api does not compile"

fresh=true
if [ -f "$COMPLETE_MARKER" ]; then
  fresh=false
  log "restarting on the existing ledgers in $STATE_DIR"
elif [ -d "$STATE_DIR" ]; then
  warn "half-written network state from an interrupted run in $STATE_DIR; removing it and starting from scratch"
  rm -rf "$STATE_DIR"
fi
mkdir -p "$RUN_DIR" "$LOG_DIR" "$DATA_DIR" "$CONFIG_DIR"

# --- crypto material and configuration (first start only) -------------------------------
render_configs() {
  local org src="$FABRIC_HOME/sampleconfig"
  # Orderer: the sample orderer.yaml; every setting we change is an environment override.
  mkdir -p "$CONFIG_DIR/orderer"
  cp "$src/orderer.yaml" "$CONFIG_DIR/orderer/orderer.yaml"
  for org in aggregator dso; do
    mkdir -p "$CONFIG_DIR/peer-$org"
    # The sample core.yaml points vm.endpoint at the Docker socket, which makes the
    # peer's health check fail without Docker, and an empty environment override does
    # not clear it: edit the copy. External builders: ours, for chaincode as a service.
    sed -e 's#^\(\s*endpoint:\) unix:///var/run/docker.sock#\1 ""#' \
        -e 's#^\(\s*- name:\) ccaas_builder#\1 flexproof-ccaas#' \
        -e "s#^\(\s*path:\) /opt/hyperledger/ccaas_builder#\1 $NETWORK_DIR/builders/ccaas#" \
        "$src/core.yaml" >"$CONFIG_DIR/peer-$org/core.yaml"
    grep -q "path: $NETWORK_DIR/builders/ccaas" "$CONFIG_DIR/peer-$org/core.yaml" \
      || die "could not set the external builder in core.yaml (sample configuration changed?)"
    grep -q 'endpoint: unix:///var/run/docker.sock' "$CONFIG_DIR/peer-$org/core.yaml" \
      && die "could not clear vm.endpoint in core.yaml (sample configuration changed?)"
  done
  # One orderer endpoint and one Raft consenter per orderer, as YAML list items.
  local i cert
  ORDERER_ENDPOINTS="" ORDERER_CONSENTERS=""
  for i in "${ORDERER_INDEXES[@]}"; do
    cert="$(orderer_node_dir "$i")/tls/server.crt"
    ORDERER_ENDPOINTS+="      - $(orderer_host "$i"):$(orderer_port "$i")"$'\n'
    ORDERER_CONSENTERS+="      - Host: $(orderer_host "$i")"$'\n'"        Port: $(orderer_port "$i")"$'\n'
    ORDERER_CONSENTERS+="        ClientTLSCert: $cert"$'\n'"        ServerTLSCert: $cert"$'\n'
  done
  ORDERER_ENDPOINTS="${ORDERER_ENDPOINTS%$'\n'}" ORDERER_CONSENTERS="${ORDERER_CONSENTERS%$'\n'}"
  export CRYPTO_DIR AGGREGATOR_PEER_PORT DSO_PEER_PORT BATCH_TIMEOUT BATCH_MAX_MESSAGES ORDERER_ENDPOINTS ORDERER_CONSENTERS AGGREGATOR_HOST DSO_HOST
  mkdir -p "$CONFIG_DIR/configtx"
  # shellcheck disable=SC2016  # the list names the variables envsubst may replace
  envsubst '${CRYPTO_DIR} ${AGGREGATOR_PEER_PORT} ${DSO_PEER_PORT} ${BATCH_TIMEOUT} ${BATCH_MAX_MESSAGES} ${ORDERER_ENDPOINTS} ${ORDERER_CONSENTERS} ${AGGREGATOR_HOST} ${DSO_HOST}' \
    <"$NETWORK_DIR/config/configtx.template.yaml" >"$CONFIG_DIR/configtx/configtx.yaml"
}

if $fresh; then
  log "generating crypto material (cryptogen, $ORDERERS orderer(s))"
  echo "$ORDERERS" >"$ORDERER_COUNT_FILE"
  export ORDERERS
  # One orderer node spec per orderer, its certificates issued for its own host.
  ORDERER_SPECS=""
  for i in "${ORDERER_INDEXES[@]}"; do
    ORDERER_SPECS+="      - Hostname: orderer$i"$'\n'"        SANS: [$(orderer_host "$i"), localhost]"$'\n'
  done
  ORDERER_SPECS="${ORDERER_SPECS%$'\n'}"
  export ORDERER_SPECS AGGREGATOR_HOST DSO_HOST
  # shellcheck disable=SC2016  # the list names the variables envsubst may replace
  envsubst '${ORDERER_SPECS} ${AGGREGATOR_HOST} ${DSO_HOST}' <"$NETWORK_DIR/config/crypto-config.yaml" >"$CONFIG_DIR/crypto-config.yaml"
  run_step "cryptogen" setup cryptogen generate --config="$CONFIG_DIR/crypto-config.yaml" --output="$CRYPTO_DIR"
  render_configs
  log "creating the genesis block of $CHANNEL_NAME (configtxgen)"
  run_step "configtxgen" setup configtxgen -configPath "$CONFIG_DIR/configtx" -profile FlexChannel \
    -channelID "$CHANNEL_NAME" -outputBlock "$STATE_DIR/$CHANNEL_NAME.block"
fi

# --- processes -----------------------------------------------------------------------------
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

start_chaincode_server() {
  local org="$1" id srv
  id="$(cat "$STATE_DIR/chaincode/$org.package-id")"
  srv="$(org_home "$org")/peers/ccserver.$(org_domain "$org")/tls"
  start_component "chaincode-$org" env \
    CORE_CHAINCODE_LOGGING_LEVEL=info \
    FLEXPROOF_CHAINCODE_NAME="$CHAINCODE_NAME" \
    FLEXPROOF_MAX_CLOCK_SKEW_SECONDS="$MAX_CLOCK_SKEW_SECONDS" \
    "$ROOT_DIR/node_modules/.bin/fabric-chaincode-node" server \
    --chaincode-address "$(org_host "$org"):$(org_cc_server_port "$org")" \
    --chaincode-id "$id" \
    --chaincode-tls-cert-file "$srv/server.crt" \
    --chaincode-tls-key-file "$srv/server.key" \
    --chaincode-tls-client-cacert-file "$(org_tls_ca "$org")" \
    --module-path "$ROOT_DIR/chaincode"
  wait_until "chaincode server of $org" "chaincode-$org" 60 tcp_open "$(org_host "$org")" "$(org_cc_server_port "$org")"
  log "chaincode server of $org listening on $(org_host "$org"):$(org_cc_server_port "$org") ($id)"
}

for i in "${ORDERER_INDEXES[@]}"; do
  c="$(orderer_component "$i")"
  if is_running "$c"; then continue; fi
  log "starting $c"
  start_orderer "$i"
done
for i in "${ORDERER_INDEXES[@]}"; do
  wait_until "$(orderer_component "$i") health" "$(orderer_component "$i")" 60 http_ok "http://$(orderer_host "$i"):$(orderer_ops_port "$i")/healthz"
done
for org in aggregator dso; do
  if is_running "peer-$org"; then continue; fi
  log "starting the $org peer"
  start_peer "$org"
done
for org in aggregator dso; do
  wait_until "$org peer health" "peer-$org" 60 http_ok "http://$(org_host "$org"):$(org_peer_ops_port "$org")/healthz"
done
log "orderer and peers healthy"

# --- channel ----------------------------------------------------------------------------------
if $fresh; then
  for i in "${ORDERER_INDEXES[@]}"; do
    log "joining $(orderer_component "$i") to $CHANNEL_NAME (channel participation API)"
    run_step "osnadmin channel join ($(orderer_component "$i"))" setup osnadmin channel join --channelID "$CHANNEL_NAME" \
      --config-block "$STATE_DIR/$CHANNEL_NAME.block" -o "$(orderer_host "$i"):$(orderer_admin_port "$i")" \
      --ca-file "$ORDERER_TLS_CA" --client-cert "$ORDERER_ADMIN_DIR/tls/client.crt" \
      --client-key "$ORDERER_ADMIN_DIR/tls/client.key"
  done
  for org in aggregator dso; do
    log "joining the $org peer to $CHANNEL_NAME"
    (peer_cli_env "$org"; run_step "peer channel join ($org)" setup \
      peer channel join -b "$STATE_DIR/$CHANNEL_NAME.block")
  done
fi

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
wait_until "a Raft leader of $CHANNEL_NAME (election)" orderer 60 raft_leader
log "$(raft_leader) leads $CHANNEL_NAME"

# --- chaincode as a service ----------------------------------------------------------------------
# Each organisation packages its own connection.json (address of its own chaincode
# server, its TLS CA, the client certificate its peer presents), so the package ids
# differ while the chaincode definition both approve is the same.
package_chaincode() {
  local org="$1" work pkg
  work="$STATE_DIR/chaincode/$org"
  pkg="$STATE_DIR/chaincode/$org.tgz"
  mkdir -p "$work"
  local client
  client="$(org_home "$org")/peers/ccclient.$(org_domain "$org")/tls"
  node -e '
    const fs = require("node:fs");
    const [address, rootCert, clientCert, clientKey, out] = process.argv.slice(1);
    fs.writeFileSync(out, JSON.stringify({
      address, dial_timeout: "10s", tls_required: true, client_auth_required: true,
      root_cert: fs.readFileSync(rootCert, "utf8"),
      client_cert: fs.readFileSync(clientCert, "utf8"),
      client_key: fs.readFileSync(clientKey, "utf8"),
    }, null, 2));
  ' "$(org_host "$org"):$(org_cc_server_port "$org")" "$(org_tls_ca "$org")" "$client/server.crt" "$client/server.key" "$work/connection.json"
  printf '{"type":"ccaas","label":"%s"}\n' "$CHAINCODE_LABEL" >"$work/metadata.json"
  tar -C "$work" -czf "$work/code.tar.gz" connection.json
  tar -C "$work" -czf "$pkg" metadata.json code.tar.gz
  echo "$pkg"
}

orderer_args=(-o "$(orderer_host 0):$ORDERER_PORT" --tls --cafile "$ORDERER_TLS_CA")
definition_args=(--channelID "$CHANNEL_NAME" --name "$CHAINCODE_NAME" --version "$CHAINCODE_VERSION"
  --sequence "$CHAINCODE_SEQUENCE" --signature-policy "$ENDORSEMENT_POLICY")

if $fresh; then
  for org in aggregator dso; do
    pkg="$(package_chaincode "$org")"
    log "installing chaincode package on the $org peer"
    (peer_cli_env "$org"; run_step "chaincode install ($org)" setup peer lifecycle chaincode install "$pkg")
    (peer_cli_env "$org"; peer lifecycle chaincode calculatepackageid "$pkg") >"$STATE_DIR/chaincode/$org.package-id"
  done
fi
for org in aggregator dso; do
  if is_running "chaincode-$org"; then continue; fi
  start_chaincode_server "$org"
done

if $fresh; then
  for org in aggregator dso; do
    log "approving the chaincode definition for $(org_msp "$org")"
    (peer_cli_env "$org"; run_step "approveformyorg ($org)" setup peer lifecycle chaincode approveformyorg \
      "${orderer_args[@]}" "${definition_args[@]}" --package-id "$(cat "$STATE_DIR/chaincode/$org.package-id")" \
      --waitForEvent)
  done
  log "committing the chaincode definition (endorsement policy: $ENDORSEMENT_POLICY)"
  (peer_cli_env aggregator; run_step "chaincode commit" setup peer lifecycle chaincode commit \
    "${orderer_args[@]}" "${definition_args[@]}" \
    --peerAddresses "$AGGREGATOR_HOST:$AGGREGATOR_PEER_PORT" --tlsRootCertFiles "$(org_tls_ca aggregator)" \
    --peerAddresses "$DSO_HOST:$DSO_PEER_PORT" --tlsRootCertFiles "$(org_tls_ca dso)" --waitForEvent)
fi

ping_chaincode() {
  (peer_cli_env "$1"; peer chaincode query -C "$CHANNEL_NAME" -n "$CHAINCODE_NAME" \
    -c '{"function":"org.flexproof.system:Ping","Args":[]}')
}
for org in aggregator dso; do
  wait_until "chaincode ready on the $org peer" "chaincode-$org" 90 ping_chaincode "$org"
done

# --- what clients need to connect -------------------------------------------------------------------
orderers_json="["
for i in "${ORDERER_INDEXES[@]}"; do
  [ "$i" -gt 0 ] && orderers_json+=","
  orderers_json+="{\"name\":\"$(orderer_component "$i")\",\"endpoint\":\"$(orderer_host "$i"):$(orderer_port "$i")\",\"operationsUrl\":\"http://$(orderer_host "$i"):$(orderer_ops_port "$i")\"}"
done
orderers_json+="]"
node -e '
  const [out, channel, chaincode, skew, orderers, ...rest] = process.argv.slice(1);
  const orgs = {};
  for (let i = 0; i < rest.length; i += 7) {
    const [name, mspId, endpoint, tlsServerName, tlsRootCert, userDir, adminDir] = rest.slice(i, i + 7);
    const user = (dir) => ({ certPath: require("node:fs").readdirSync(dir + "/msp/signcerts").map((f) => dir + "/msp/signcerts/" + f)[0], keyPath: dir + "/msp/keystore/priv_sk" });
    orgs[name] = { mspId, peerEndpoint: endpoint, tlsServerName, tlsRootCertPath: tlsRootCert, client: user(userDir), admin: user(adminDir) };
  }
  require("node:fs").writeFileSync(out, JSON.stringify({ channel, chaincode, maxClockSkewSeconds: Number(skew), orderers: JSON.parse(orderers), orgs }, null, 2) + "\n");
' "$NETWORK_JSON" "$CHANNEL_NAME" "$CHAINCODE_NAME" "$MAX_CLOCK_SKEW_SECONDS" "$orderers_json" \
  aggregator AggregatorMSP "$AGGREGATOR_HOST:$AGGREGATOR_PEER_PORT" "$(org_peer_tls_name aggregator)" "$(org_tls_ca aggregator)" \
    "$(org_home aggregator)/users/User1@$(org_domain aggregator)" "$(org_home aggregator)/users/Admin@$(org_domain aggregator)" \
  dso DsoMSP "$DSO_HOST:$DSO_PEER_PORT" "$(org_peer_tls_name dso)" "$(org_tls_ca dso)" \
    "$(org_home dso)/users/User1@$(org_domain dso)" "$(org_home dso)/users/Admin@$(org_domain dso)"
# The Gateway endorses on the other organisation's peer through service discovery,
# which learns that peer and its chaincode through gossip a moment after the health
# checks pass (notably on a restart): wait until both organisations can endorse.
log "waiting until each organisation's gateway can gather both endorsements"
run_step "endorsement through the Gateway" setup node "$ROOT_DIR/gateway-api/dist/tools/wait-endorsement-ready.js" "$NETWORK_JSON" 90
touch "$COMPLETE_MARKER"

log "network up in $(( $(date +%s) - started ))s: channel $CHANNEL_NAME, chaincode $CHAINCODE_NAME ready on both peers"
log "connection details: $NETWORK_JSON; logs: $LOG_DIR; stop with: npm run network:down"
