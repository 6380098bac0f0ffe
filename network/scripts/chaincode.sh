#!/usr/bin/env bash
# Role: the flexproof chaincode as a service (CCaaS) of an organisation, and its lifecycle.
# Each organisation packages its own connection.json (the address of its own chaincode
# server, its TLS CA, the client certificate its peer presents), so the package ids differ
# while the chaincode definition both approve is the same.
#   bash network/scripts/chaincode.sh install ORG...   package and install on ORG's peer
#   bash network/scripts/chaincode.sh serve ORG...     start ORG's chaincode server unless it runs
#   bash network/scripts/chaincode.sh approve ORG...   approve the definition for ORG
#   bash network/scripts/chaincode.sh commit           commit the definition (both peers endorse)
#   bash network/scripts/chaincode.sh ready ORG...     wait until ORG's peer answers through it
#   bash network/scripts/chaincode.sh endorsable       wait until each organisation's Gateway
#                                                      gathers both endorsements (the last step:
#                                                      marks the network's state complete)
# Sourced by up.sh, which runs the same functions.
# shellcheck source=lib.sh
[ -n "${FLEXPROOF_NETWORK_LIB:-}" ] || source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Writes ORG's ccaas package (metadata.json, code.tar.gz with connection.json); prints its path.
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

chaincode_install() {
  local pkg
  pkg="$(package_chaincode "$1")"
  log "installing chaincode package on the $1 peer"
  (peer_cli_env "$1"; run_step "chaincode install ($1)" setup peer lifecycle chaincode install "$pkg")
  (peer_cli_env "$1"; peer lifecycle chaincode calculatepackageid "$pkg") >"$STATE_DIR/chaincode/$1.package-id"
}

# ORG's chaincode server (fabric-chaincode-node on this checkout's chaincode build) as its own
# session, listening with mutual TLS on ORG's host.
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

chaincode_serve() {
  if live_pid "chaincode-$1" >/dev/null; then return 0; fi
  start_chaincode_server "$1"
}

definition_args=(--channelID "$CHANNEL_NAME" --name "$CHAINCODE_NAME" --version "$CHAINCODE_VERSION"
  --sequence "$CHAINCODE_SEQUENCE" --signature-policy "$ENDORSEMENT_POLICY")

chaincode_approve() {
  local -a orderer=(-o "$(orderer_host 0):$ORDERER_PORT" --tls --cafile "$ORDERER_TLS_CA")
  log "approving the chaincode definition for $(org_msp "$1")"
  (peer_cli_env "$1"; run_step "approveformyorg ($1)" setup peer lifecycle chaincode approveformyorg \
    "${orderer[@]}" "${definition_args[@]}" --package-id "$(cat "$STATE_DIR/chaincode/$1.package-id")" \
    --waitForEvent)
}

chaincode_commit() {
  local -a orderer=(-o "$(orderer_host 0):$ORDERER_PORT" --tls --cafile "$ORDERER_TLS_CA")
  log "committing the chaincode definition (endorsement policy: $ENDORSEMENT_POLICY)"
  (peer_cli_env aggregator; run_step "chaincode commit" setup peer lifecycle chaincode commit \
    "${orderer[@]}" "${definition_args[@]}" \
    --peerAddresses "$AGGREGATOR_HOST:$AGGREGATOR_PEER_PORT" --tlsRootCertFiles "$(org_tls_ca aggregator)" \
    --peerAddresses "$DSO_HOST:$DSO_PEER_PORT" --tlsRootCertFiles "$(org_tls_ca dso)" --waitForEvent)
}

ping_chaincode() {
  (peer_cli_env "$1"; peer chaincode query -C "$CHANNEL_NAME" -n "$CHAINCODE_NAME" \
    -c '{"function":"org.flexproof.system:Ping","Args":[]}')
}
chaincode_ready() {
  wait_until "chaincode ready on the $1 peer" "chaincode-$1" 90 ping_chaincode "$1"
}

# The Gateway endorses on the other organisation's peer through service discovery, which
# learns that peer and its chaincode through gossip a moment after the health checks pass
# (notably on a restart): wait until both organisations can endorse. network/tools runs from
# source (ts-node), so the network needs no package's build output for it.
chaincode_endorsable() {
  log "waiting until each organisation's gateway can gather both endorsements"
  run_step "endorsement through the Gateway" setup env TS_NODE_PROJECT="$NETWORK_DIR/tools/tsconfig.json" TS_NODE_TRANSPILE_ONLY=true \
    node -r ts-node/register "$NETWORK_DIR/tools/wait-endorsement-ready.ts" "$NETWORK_JSON" 90
  # The last step of a network's start: from now on its state is complete (a later `up`
  # restarts it rather than rebuilding a half-written one).
  touch "$COMPLETE_MARKER"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  export PATH="$FABRIC_BIN:$PATH"
  usage="usage: chaincode.sh install|serve|approve|ready ORG... | commit | endorsable   (ORG: aggregator | dso)"
  cmd="${1:-}"; shift || true
  for org in "$@"; do org_msp "$org" >/dev/null; done
  case "$cmd" in
    install) for org in "$@"; do chaincode_install "$org"; done ;;
    serve) for org in "$@"; do chaincode_serve "$org"; done ;;
    approve) for org in "$@"; do chaincode_approve "$org"; done ;;
    ready) for org in "$@"; do chaincode_ready "$org"; done ;;
    commit) chaincode_commit ;;
    endorsable) chaincode_endorsable ;;
    *) echo "$usage" >&2; exit 2 ;;
  esac
fi
