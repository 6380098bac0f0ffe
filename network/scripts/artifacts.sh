#!/usr/bin/env bash
# Role: the network's artifacts, made once by whoever creates the network: crypto
# material (cryptogen), every node's configuration, the genesis block of the channel,
# and network.json (what clients need to connect). In production each organisation
# makes its own keys with its own CA and only certificates are exchanged: see
# network/README.md.
#
# usage: bash network/scripts/artifacts.sh create   (first start only; refuses an existing state)
#        bash network/scripts/artifacts.sh connection   (writes network.json again)
# Sourced by up.sh, which runs the same functions.
# shellcheck source=lib.sh
[ -n "${FLEXPROOF_NETWORK_LIB:-}" ] || source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Node configuration files and configtx.yaml, from the samples and templates.
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

# Crypto material, configuration and the genesis block of a new network.
create_artifacts() {
  local i
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
}

# network.json: endpoints, TLS CAs, user certificates and keys of each organisation.
write_network_json() {
  local i orderers_json
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
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  export PATH="$FABRIC_BIN:$PATH"
  case "${1:-}" in
    create)
      [ -d "$CRYPTO_DIR" ] && die "$STATE_DIR already holds a network (drop it with 'npm run network:down -- --clean')"
      mkdir -p "$RUN_DIR" "$LOG_DIR" "$DATA_DIR" "$CONFIG_DIR"
      create_artifacts ;;
    connection) write_network_json; log "wrote $NETWORK_JSON" ;;
    *) echo "usage: artifacts.sh create | connection" >&2; exit 2 ;;
  esac
fi
