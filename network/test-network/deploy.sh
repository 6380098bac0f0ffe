#!/usr/bin/env bash
# Operators' path with Docker: starts the Fabric test-network of a fabric-samples
# checkout with Org1 as the aggregator and Org2 as the DSO, creates `flexchannel`, and
# deploys the flexproof chaincode as a service with the same endorsement policy as the
# native network (a peer of each organisation). Not exercised by CI (no Docker there).
#
# usage: FABRIC_SAMPLES=/path/to/fabric-samples network/test-network/deploy.sh [--dry-run] [--down]
set -euo pipefail

ROOT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=../config/network.env
source "$ROOT_DIR/network/config/network.env"
IMAGE="${CHAINCODE_NAME}_ccaas_image:latest"
CC_PORT=9999
POLICY="AND('Org1MSP.peer','Org2MSP.peer')"
# The chaincode derives roles from MSP IDs; on the test-network they are Org1MSP/Org2MSP.
ORG_ROLES="Org1MSP=aggregator,Org2MSP=dso"

dry_run=false down=false
for arg in "$@"; do
  case "$arg" in
    --dry-run) dry_run=true ;;
    --down) down=true ;;
    -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $arg (see --help)" >&2; exit 1 ;;
  esac
done

if [ -z "${FABRIC_SAMPLES:-}" ]; then
  if $dry_run; then FABRIC_SAMPLES="/path/to/fabric-samples"
  else echo "set FABRIC_SAMPLES to a fabric-samples checkout (with its bin/ from install-fabric.sh)" >&2; exit 1
  fi
fi
TN="$FABRIC_SAMPLES/test-network"

# Prints a command, and runs it unless this is a dry run.
run() {
  printf '+ %s\n' "$*"
  $dry_run || "$@"
}

if $down; then
  run docker rm -f "peer0org1_${CHAINCODE_NAME}_ccaas" "peer0org2_${CHAINCODE_NAME}_ccaas"
  run bash -c "cd '$TN' && ./network.sh down"
  exit 0
fi

if ! $dry_run; then
  [ -x "$TN/network.sh" ] || { echo "no test-network in $FABRIC_SAMPLES" >&2; exit 1; }
  command -v docker >/dev/null || { echo "docker is required for this path" >&2; exit 1; }
fi

echo "== compile the chaincode"
run "$ROOT_DIR/node_modules/.bin/tsc" -b "$ROOT_DIR/chaincode"

echo "== test-network with channel $CHANNEL_NAME (Org1 = aggregator, Org2 = DSO)"
run bash -c "cd '$TN' && ./network.sh up createChannel -c '$CHANNEL_NAME'"

echo "== chaincode service image"
run docker build -f "$ROOT_DIR/network/test-network/Dockerfile" -t "$IMAGE" "$ROOT_DIR"

echo "== package, install, approve and commit (the test-network's deployCCAAS, without its own image build)"
run bash -c "cd '$TN' && ./network.sh deployCCAAS -c '$CHANNEL_NAME' -ccn '$CHAINCODE_NAME' -ccp '$ROOT_DIR/chaincode' -ccep \"$POLICY\" -ccaasdocker false"

echo "== start one chaincode server per organisation"
if $dry_run; then
  package_id="<package id printed by: peer lifecycle chaincode calculatepackageid $TN/$CHAINCODE_NAME.tar.gz>"
else
  package_id="$(cd "$TN" && PATH="$FABRIC_SAMPLES/bin:$PATH" FABRIC_CFG_PATH="$FABRIC_SAMPLES/config" \
    peer lifecycle chaincode calculatepackageid "$CHAINCODE_NAME.tar.gz")"
fi
for org in org1 org2; do
  run docker run --rm -d --name "peer0${org}_${CHAINCODE_NAME}_ccaas" --network fabric_test \
    -e CHAINCODE_SERVER_ADDRESS="0.0.0.0:$CC_PORT" -e CHAINCODE_ID="$package_id" \
    -e FLEXPROOF_ORG_ROLES="$ORG_ROLES" "$IMAGE"
done

cat <<MSG

== point a gateway at it
Aggregator (Org1): peer localhost:7051, TLS name peer0.org1.example.com,
  TLS CA   $TN/organizations/peerOrganizations/org1.example.com/peers/peer0.org1.example.com/tls/ca.crt
  identity $TN/organizations/peerOrganizations/org1.example.com/users/User1@org1.example.com/msp
DSO (Org2): peer localhost:9051, TLS name peer0.org2.example.com,
  TLS CA   $TN/organizations/peerOrganizations/org2.example.com/peers/peer0.org2.example.com/tls/ca.crt
  identity $TN/organizations/peerOrganizations/org2.example.com/users/User1@org2.example.com/msp
Channel $CHANNEL_NAME, chaincode $CHAINCODE_NAME, endorsement policy $POLICY.
Stop: FABRIC_SAMPLES=$FABRIC_SAMPLES $0 --down
MSG
