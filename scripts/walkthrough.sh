#!/usr/bin/env bash
# The operator walkthrough of README.md ("From ceremony to a settled day"), as one script:
# two organisations run a trusted-setup ceremony, deploy its key and artifacts, enroll a
# prosumer through a sealed package and settle one day, using only the project's command
# lines. README.md shows this file; test/integration/walkthrough.test.ts runs it on the
# real network, so the documentation and the software cannot drift apart.
#
#   bash scripts/walkthrough.sh [WORK_DIR]
#
# Environment: PERIOD_SECONDS (length of one "hour" of the day, default 10: a day in four
# minutes), AGG_PORT / DSO_PORT (the gateways, default 7180 / 9180), MQTT_PORT (the site's
# broker, default 1884). Needs the network: `npm run network:up` (run first if it is down).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export PATH="$ROOT/node_modules/.bin:$PATH"
umask 077

WORK=$(realpath -m "${1:-.flexproof/walkthrough}")
PERIOD_SECONDS=${PERIOD_SECONDS:-10}
AGG_PORT=${AGG_PORT:-7180}
DSO_PORT=${DSO_PORT:-9180}
MQTT_PORT=${MQTT_PORT:-1884}
RUN=w$(date +%s)
CIRCUIT=flexdev-v1-r4.$RUN
mkdir -p "$WORK"/{ceremony,dso,aggregator,auditor,site,logs}
step() { printf '\n== %s\n' "$*"; }
# A field of a command's --json answer, e.g. `flexproof ... --json | field enrollment.status`.
field() { node -e 'let s="";process.stdin.on("data",(d)=>s+=d).on("end",()=>{let v=JSON.parse(s);for(const k of process.argv[1].split("."))v=v?.[k];console.log(typeof v==="object"?JSON.stringify(v):v)})' "$1"; }
random_hex() { node -p 'require("node:crypto").randomBytes(32).toString("hex")'; }
PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null || true; wait 2>/dev/null || true' EXIT

step "1. the network (starts only what is missing)"
npm run -s network:up

step "2. each organisation's gateway, with hashed bearer tokens for its operator and the auditor"
for who in dso aggregator auditor; do
  flexproof-gateway hash-token --json > "$WORK/$who/token.json"
  field token < "$WORK/$who/token.json" > "$WORK/$who/token"
done
sha() { field sha256 < "$WORK/$1/token.json"; }
for org in dso aggregator; do
  port=$([ "$org" = dso ] && echo "$DSO_PORT" || echo "$AGG_PORT")
  FLEXPROOF_GATEWAY_ORG=$org FLEXPROOF_GATEWAY_PORT=$port FLEXPROOF_STORE_PORT=$((port + 1)) \
    FLEXPROOF_STORE_DIR="$WORK/$org/store" FLEXPROOF_EDGE_NONCE_DIR="$WORK/$org/edge-nonces" FLEXPROOF_LOG_LEVEL=warn \
    FLEXPROOF_GATEWAY_TOKENS="[{\"name\":\"$org-ops\",\"role\":\"$org\",\"sha256\":\"$(sha "$org")\"},{\"name\":\"auditor\",\"role\":\"auditor\",\"sha256\":\"$(sha auditor)\"}]" \
    flexproof-gateway > "$WORK/logs/gateway-$org.log" 2>&1 &
  PIDS+=($!)
  printf '{ "gatewayUrl": "http://127.0.0.1:%s", "tokenFile": "%s" }\n' "$port" "$WORK/$org/token" > "$WORK/$org/profile.json"
done
DSO=(flexproof --profile "$WORK/dso/profile.json")
AGG=(flexproof --profile "$WORK/aggregator/profile.json")
"${DSO[@]}" tokens supply   # waits for the gateway to answer (--deadline, 60 s by default)
"${AGG[@]}" tokens supply

step "3. the trusted-setup ceremony: each organisation contributes, a public beacon ends it"
C=(npm --prefix "$ROOT" run -s ceremony -w @flexproof/circuits --)
cd "$WORK/ceremony"
"${C[@]}" ptau-new --power 12 --out pot_0000.ptau
"${C[@]}" ptau-contribute --in pot_0000.ptau --out pot_0001.ptau --name AggregatorMSP
"${C[@]}" ptau-contribute --in pot_0001.ptau --out pot_0002.ptau --name DsoMSP
"${C[@]}" ptau-finalize --in pot_0002.ptau --out pot_final.ptau --beacon "$(random_hex)" --iterations 10
"${C[@]}" init --circuit flexdev-v1-r4 --ptau pot_final.ptau --dir r4
"${C[@]}" contribute --circuit flexdev-v1-r4 --ptau pot_final.ptau --in r4/circuit_0000.zkey --out r4/circuit_0001.zkey --name AggregatorMSP
"${C[@]}" contribute --circuit flexdev-v1-r4 --ptau pot_final.ptau --in r4/circuit_0001.zkey --out r4/circuit_0002.zkey --name DsoMSP
"${C[@]}" finalize --dir r4 --zkey r4/circuit_0002.zkey --ptau pot_final.ptau --beacon "$(random_hex)" --iterations 10
"${C[@]}" publish --dir r4 --ptau pot_final.ptau --out bundle
cd "$ROOT"
BUNDLE=$WORK/ceremony/bundle

step "4. its verification key on the ledger: the DSO proposes, the aggregator reviews against its own copy and approves"
"${DSO[@]}" keys propose --circuit "$CIRCUIT" --bundle "$BUNDLE"
"${AGG[@]}" keys review --circuit "$CIRCUIT" --bundle "$BUNDLE"
"${AGG[@]}" keys approve --circuit "$CIRCUIT" --bundle "$BUNDLE"

step "5. the auditor's key: made where the auditor works, its public half approved by both organisations"
flexproof-audit keygen --out "$WORK/auditor/key.pem"
"${DSO[@]}" auditor-keys propose --auditor "regulator-$RUN" --public-key "$WORK/auditor/key.pem.pub"
"${AGG[@]}" auditor-keys approve --auditor "regulator-$RUN" --public-key "$WORK/auditor/key.pem.pub"

step "6. the prosumer's site: its keys, its meter registered by the DSO, the ceremony's artifacts installed"
export FLEXPROOF_EDGE_CONFIG=$WORK/site/flexproof-edge.json
# Seal to this walkthrough's auditor only (a reused network holds earlier runs' auditor keys too).
export FLEXPROOF_EDGE_AUDITORS=regulator-$RUN
# The site's own artifact cache (default ~/.cache/flexproof, where this machine's dev set-ups live).
export FLEXPROOF_CACHE=$WORK/site/cache
# A day of PERIOD_SECONDS-second hours runs 3600/PERIOD_SECONDS times faster than a real
# meter: close each period a second after its end, and let the register move that much faster.
export FLEXPROOF_EDGE_CLOSE_DELAY_SECONDS=1 FLEXPROOF_EDGE_RATED_POWER_W=$((50000 * 3600 / PERIOD_SECONDS))
flexproof-edge init --meter-id "meter-$RUN" --prosumer-id "prosumer-$RUN" --gateway-url "http://127.0.0.1:$AGG_PORT" \
  --broker-port "$MQTT_PORT" > "$WORK/site/site-key.pub.pem"
"${DSO[@]}" meters register --meter "meter-$RUN" --prosumer "prosumer-$RUN" --public-key "$WORK/site/site-key.pub.pem" --congestion-point "cp-$RUN"
flexproof-edge artifacts install "$BUNDLE" --circuit "$CIRCUIT"

step "7. the market: the DSO asks for flexibility, the aggregator offers, the DSO orders"
FLEX=300,300,300,300,300,300,300,300,300,300,300,300,300,300,300,300,300,800,800,800,300,300,300,300
"${DSO[@]}" tokens mint --account org:DsoMSP --amount 200
"${DSO[@]}" tokens mint --account org:AggregatorMSP --amount 1000
"${DSO[@]}" market request --request "req-$RUN" --congestion-point "cp-$RUN" --day "$(date -u +%F)" --wh "$FLEX"
"${AGG[@]}" market offer --request "req-$RUN" --offer "offer-$RUN" --wh "$FLEX" --price 200
"${DSO[@]}" market order --offer "offer-$RUN" --order "order-$RUN"

step "8. the enrollment: offered with a package sealed to the site, opened and accepted there, funded"
flexproof-edge sealing-key --out "$WORK/site/sealing-key.pub.pem"
echo '[900,900,900,900,900,900,900,900,900,900,900,900,900,900,900,900,900,400,400,400,900,900,900,900]' > "$WORK/aggregator/profile-$RUN.json"
START=$(date -u -d "+60 seconds" +%Y-%m-%dT%H:%M:%SZ)
"${AGG[@]}" enrollments offer --enrollment "enr-$RUN" --meter "meter-$RUN" --order "order-$RUN" --circuit "$CIRCUIT" \
  --reward 1000 --rate 1 --tolerance 50 --flex-wh "$FLEX" --start "$START" --period-seconds "$PERIOD_SECONDS" --grace-seconds 60 \
  --profile-file "$WORK/aggregator/profile-$RUN.json" --recipient-key "$WORK/site/sealing-key.pub.pem" --out "$WORK/site/enrollment-$RUN.pkg"
flexproof-edge enroll "$WORK/site/enrollment-$RUN.pkg"
flexproof-edge accept --enrollment "enr-$RUN" --yes
"${AGG[@]}" enrollments fund "enr-$RUN"

step "9. the day: the site proves every hour from its meter's readings (a simulated meter here)"
flexproof-edge run > "$WORK/logs/edge.log" 2>&1 &
PIDS+=($!)
flexproof-edge simulate --enrollment "enr-$RUN" --compliance 0.9 --seed 7 --interval-ms 250 > "$WORK/logs/meter.log" 2>&1 &
PIDS+=($!)
END=$(( $(date -d "$START" +%s) + 24 * PERIOD_SECONDS + 60 + 30 ))
while :; do
  pending=$("${AGG[@]}" enrollments show "enr-$RUN" --json | field enrollment.results | node -p 'JSON.parse(require("fs").readFileSync(0,"utf8")).filter((r)=>r===null).length')
  echo "$(date -u +%T) periods without a result: $pending"
  [ "$pending" = 0 ] || [ "$(date +%s)" -ge "$END" ] && break
  sleep "$PERIOD_SECONDS"
done

step "10. close: any missed hour claimed after its deadline, the enrollment closed, the order settled, the audit"
"${AGG[@]}" enrollments show "enr-$RUN"
for p in $("${AGG[@]}" enrollments show "enr-$RUN" --json | field enrollment.results | node -p 'JSON.parse(require("fs").readFileSync(0,"utf8")).flatMap((r,i)=>r===null?[i]:[]).join(" ")'); do
  "${AGG[@]}" enrollments claim "enr-$RUN" --period "$p"
done
"${AGG[@]}" enrollments close "enr-$RUN"
"${AGG[@]}" market settle "order-$RUN"   # the aggregator once its enrollments are closed; the DSO only after the day
flexproof-audit --gateway "http://127.0.0.1:$AGG_PORT" --token-file "$WORK/auditor/token" --key-file "$WORK/auditor/key.pem" --enrollment "enr-$RUN"
"${DSO[@]}" tokens audit
echo "walkthrough done: enrollment enr-$RUN, circuit $CIRCUIT (work files in $WORK)"
