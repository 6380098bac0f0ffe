#!/usr/bin/env bash
# Shared by the native network scripts: paths, names and ports, logging, process and
# port bookkeeping. Sourced, never run.
# shellcheck disable=SC2034  # variables are used by the scripts that source this file
FLEXPROOF_NETWORK_LIB=1

NETWORK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROOT_DIR="$(cd "$NETWORK_DIR/.." && pwd)"
_orderers_from_env="${ORDERERS:-}"
# shellcheck source=../config/network.env
source "$NETWORK_DIR/config/network.env"
# The hosts: FLEXPROOF_TOPOLOGY names the file (defaults fill what it leaves out).
TOPOLOGY_FILE="${FLEXPROOF_TOPOLOGY:-$NETWORK_DIR/config/topology.env}"
if [ ! -f "$TOPOLOGY_FILE" ]; then
  printf 'ERROR: %s\n' "FLEXPROOF_TOPOLOGY: no such file: $TOPOLOGY_FILE" >&2
  exit 1
fi
# shellcheck source=../config/topology.env
source "$TOPOLOGY_FILE"
# shellcheck source=../config/topology.env
source "$NETWORK_DIR/config/topology.env"

FLEXPROOF_CACHE="${FLEXPROOF_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/flexproof}"
FABRIC_HOME="$FLEXPROOF_CACHE/fabric/$FABRIC_VERSION-${FABRIC_MODULE_VERSION##*-}"
FABRIC_BIN="$FABRIC_HOME/bin"
FABRIC_BINARIES=(peer orderer osnadmin configtxgen cryptogen)

STATE_DIR="${FLEXPROOF_NETWORK_DIR:-$ROOT_DIR/.flexproof/network}"
CRYPTO_DIR="$STATE_DIR/crypto"
CONFIG_DIR="$STATE_DIR/config"
RUN_DIR="$STATE_DIR/run"
LOG_DIR="$STATE_DIR/logs"
DATA_DIR="$STATE_DIR/data"
# Written last by a successful `up`: without it the state is half-written.
COMPLETE_MARKER="$STATE_DIR/.complete"
NETWORK_JSON="$STATE_DIR/network.json"

ORDERER_HOME="$CRYPTO_DIR/ordererOrganizations/orderer.$DOMAIN"
ORDERER_TLS_CA="$ORDERER_HOME/tlsca/tlsca.orderer.$DOMAIN-cert.pem"
ORDERER_ADMIN_DIR="$ORDERER_HOME/users/Admin@orderer.$DOMAIN"

# How many Raft orderers: fixed when the network is created (the consenters are in the
# genesis block), so an existing network keeps the count it was created with.
ORDERER_COUNT_FILE="$STATE_DIR/orderers"
if [ -f "$ORDERER_COUNT_FILE" ]; then
  _recorded="$(cat "$ORDERER_COUNT_FILE")"
  if [ -n "$_orderers_from_env" ] && [ "$_orderers_from_env" != "$_recorded" ]; then
    printf 'ERROR: %s\n' "ORDERERS=$_orderers_from_env, but the network in $STATE_DIR was created with $_recorded orderers (drop it with 'npm run network:down -- --clean' to change the count)" >&2
    exit 1
  fi
  ORDERERS="$_recorded"
fi
case "$ORDERERS" in
  1|3|5) ;;
  *) printf 'ERROR: %s\n' "ORDERERS must be 1, 3 or 5 (a Raft cluster of an odd size), not '$ORDERERS'" >&2; exit 1 ;;
esac

# Orderer i (0-based): component `orderer` for the first (the single-orderer network's
# name, unchanged), `orderer1`, `orderer2`, ... for the others; its ports are the first
# orderer's plus i * ORDERER_PORT_STEP.
orderer_component() { if [ "$1" -eq 0 ]; then echo orderer; else echo "orderer$1"; fi; }
orderer_index() { if [ "$1" = orderer ]; then echo 0; else echo "${1#orderer}"; fi; }
orderer_port() { echo $(( ORDERER_PORT + $1 * ORDERER_PORT_STEP )); }
orderer_admin_port() { echo $(( ORDERER_ADMIN_PORT + $1 * ORDERER_PORT_STEP )); }
orderer_ops_port() { echo $(( ORDERER_OPS_PORT + $1 * ORDERER_PORT_STEP )); }
orderer_host() { local v="ORDERER$1_HOST"; echo "${!v}"; }
orderer_node_dir() { echo "$ORDERER_HOME/orderers/orderer$1.orderer.$DOMAIN"; }
orderer_data_dir() { echo "$DATA_DIR/$(orderer_component "$1")"; }
ORDERER_INDEXES=()
for ((_i = 0; _i < ORDERERS; _i++)); do ORDERER_INDEXES+=("$_i"); done
ORDERER_NODE_DIR="$(orderer_node_dir 0)"

# The components `up` starts, in start order; `down` stops them in reverse.
COMPONENTS=()
for _i in "${ORDERER_INDEXES[@]}"; do COMPONENTS+=("$(orderer_component "$_i")"); done
COMPONENTS+=(peer-aggregator peer-dso chaincode-aggregator chaincode-dso)

_t0=$(date +%s)
log() { printf '[%4ss] %s\n' "$(( $(date +%s) - _t0 ))" "$*"; }
warn() { printf '[%4ss] WARNING: %s\n' "$(( $(date +%s) - _t0 ))" "$*" >&2; }
die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

# Organisation facts by short name (aggregator | dso).
org_msp() { case "$1" in aggregator) echo AggregatorMSP ;; dso) echo DsoMSP ;; *) die "unknown org $1" ;; esac; }
org_domain() { echo "$1.$DOMAIN"; }
org_home() { echo "$CRYPTO_DIR/peerOrganizations/$(org_domain "$1")"; }
org_peer_port() { case "$1" in aggregator) echo "$AGGREGATOR_PEER_PORT" ;; dso) echo "$DSO_PEER_PORT" ;; esac; }
org_peer_cc_port() { case "$1" in aggregator) echo "$AGGREGATOR_PEER_CC_PORT" ;; dso) echo "$DSO_PEER_CC_PORT" ;; esac; }
org_peer_ops_port() { case "$1" in aggregator) echo "$AGGREGATOR_PEER_OPS_PORT" ;; dso) echo "$DSO_PEER_OPS_PORT" ;; esac; }
org_cc_server_port() { case "$1" in aggregator) echo "$AGGREGATOR_CC_SERVER_PORT" ;; dso) echo "$DSO_CC_SERVER_PORT" ;; esac; }
org_host() { case "$1" in aggregator) echo "$AGGREGATOR_HOST" ;; dso) echo "$DSO_HOST" ;; esac; }
# The name clients check the peer's TLS certificate against: localhost on one machine
# (the default), the peer's own DNS name, which cryptogen always puts in its certificate,
# when it has a host of its own (an IP address is not a valid TLS server name).
org_peer_tls_name() { if [ "$(org_host "$1")" = 127.0.0.1 ]; then echo localhost; else echo "peer0.$(org_domain "$1")"; fi; }
org_tls_ca() { echo "$(org_home "$1")/tlsca/tlsca.$(org_domain "$1")-cert.pem"; }
org_peer_dir() { echo "$(org_home "$1")/peers/peer0.$(org_domain "$1")"; }
org_admin_msp() { echo "$(org_home "$1")/users/Admin@$(org_domain "$1")/msp"; }

ALL_PORTS() {
  local i c
  for i in "${ORDERER_INDEXES[@]}"; do
    c="$(orderer_component "$i")"
    echo "$(orderer_port "$i") $c"
    echo "$(orderer_admin_port "$i") $c-admin"
    echo "$(orderer_ops_port "$i") $c-operations"
  done
  local org
  for org in aggregator dso; do
    echo "$(org_peer_port "$org") peer-$org"
    echo "$(org_peer_cc_port "$org") peer-$org-chaincode-listener"
    echo "$(org_peer_ops_port "$org") peer-$org-operations"
    echo "$(org_cc_server_port "$org") chaincode-$org"
  done
}

# --- processes -------------------------------------------------------------------

pid_file() { echo "$RUN_DIR/$1.pid"; }

# The pid recorded for a component, if that process is still alive and still the
# program we started (a recycled pid after a crash must not be mistaken for ours).
live_pid() {
  local f pid
  f="$(pid_file "$1")"
  [ -f "$f" ] || return 1
  pid="$(cat "$f")"
  [ -n "$pid" ] && running_pid "$pid" || return 1
  runs_program "$1" "$pid" || return 1
  echo "$pid"
}

# True if process PID runs the program of component NAME (its command line names it).
runs_program() {
  local expect
  case "$1" in
    orderer*) expect=orderer ;;
    peer-*) expect=peer ;;
    chaincode-*) expect=fabric-chaincode-node ;;
  esac
  tr '\0' ' ' <"/proc/$2/cmdline" 2>/dev/null | grep -q -- "$expect"
}

# Starts a component in its own session so that `down` can stop it and everything it
# spawned; stdout and stderr go to its own log file.
start_component() {
  local name="$1"; shift
  mkdir -p "$RUN_DIR" "$LOG_DIR"
  setsid "$@" >>"$LOG_DIR/$name.log" 2>&1 < /dev/null &
  local pid=$! i
  echo "$pid" >"$(pid_file "$name")"
  # Until the forked shell has exec'd the program, its command line is this script's, and
  # live_pid would call the component exited (seen on a loaded machine: "peer-dso exited"
  # with an empty log). Wait for the exec, at most 10 s; a program that dies is left to the
  # caller's readiness check.
  for i in $(seq 100); do
    running_pid "$pid" || break
    runs_program "$name" "$pid" && break
    sleep 0.1
  done
}

# True while a process exists and has not exited (an exited child of ours may linger
# as a zombie until PID 1 reaps it: that counts as stopped).
running_pid() {
  local state
  state="$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" || return 1
  [ -n "$state" ] && [ "$state" != Z ]
}

# Stops components (SIGTERM to each one's process group, all at once, then SIGKILL to
# whatever is still running after 10 s) and removes their pid files.
stop_components() {
  local name pid i
  local -a names=() pids=()
  for name in "$@"; do
    if pid="$(live_pid "$name")"; then
      kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
      names+=("$name"); pids+=("$pid")
    fi
    rm -f "$(pid_file "$name")"
  done
  for i in "${!pids[@]}"; do
    local deadline=$(( $(date +%s) + 10 ))
    while running_pid "${pids[$i]}" && [ "$(date +%s)" -lt "$deadline" ]; do sleep 0.1; done
    if running_pid "${pids[$i]}"; then
      warn "${names[$i]} (pid ${pids[$i]}) did not stop on SIGTERM; sending SIGKILL"
      kill -KILL -- "-${pids[$i]}" 2>/dev/null || kill -KILL "${pids[$i]}" 2>/dev/null || true
    fi
    log "stopped ${names[$i]} (pid ${pids[$i]})"
  done
}

# --- ports -------------------------------------------------------------------------

# Prints "PORT description (held by PROCESS)" for each network port already in use.
busy_ports() {
  local port what holder
  while read -r port what; do
    holder="$(ss -Hltnp "sport = :$port" 2>/dev/null | head -1)"
    if [ -n "$holder" ]; then
      holder="$(sed -n 's/.*users:((\("[^"]*"\),pid=\([0-9]*\).*/\1 pid \2/p' <<<"$holder")"
      echo "$port ($what) is already in use by ${holder:-another process}"
    fi
  done < <(ALL_PORTS)
}

# --- waiting -------------------------------------------------------------------------

# Polls until a command succeeds; on timeout prints the tail of the component's log.
wait_until() {
  local what="$1" component="$2" timeout="$3"; shift 3
  local deadline=$(( $(date +%s) + timeout ))
  until "$@" >/dev/null 2>&1; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      show_log_tail "$component"
      die "$what: not ready after ${timeout}s"
    fi
    if [ -n "$component" ] && ! live_pid "$component" >/dev/null; then
      show_log_tail "$component"
      die "$what: $component exited"
    fi
    sleep 0.2
  done
}

http_ok() { curl -fsS -o /dev/null --max-time 2 "$1"; }
tcp_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

show_log_tail() {
  local f="$LOG_DIR/$1.log"
  [ -n "$1" ] && [ -f "$f" ] || return 0
  echo "---- last lines of $f ----" >&2
  tail -n 30 "$f" >&2
  echo "----" >&2
}

# Runs a step with a label, its output into a log file; on failure shows that output.
run_step() {
  local label="$1" logname="$2"; shift 2
  local f="$LOG_DIR/$logname.log"
  mkdir -p "$LOG_DIR"
  if ! "$@" >>"$f" 2>&1; then
    echo "---- last lines of $f ----" >&2
    tail -n 30 "$f" >&2
    echo "----" >&2
    die "$label failed"
  fi
}

# Environment for the peer CLI acting as an organisation's admin against its own peer.
peer_cli_env() {
  local org="$1"
  export FABRIC_CFG_PATH="$CONFIG_DIR/peer-$org"
  export CORE_PEER_LOCALMSPID; CORE_PEER_LOCALMSPID="$(org_msp "$org")"
  export CORE_PEER_MSPCONFIGPATH; CORE_PEER_MSPCONFIGPATH="$(org_admin_msp "$org")"
  export CORE_PEER_ADDRESS; CORE_PEER_ADDRESS="$(org_host "$org"):$(org_peer_port "$org")"
  export CORE_PEER_TLS_ENABLED=true
  export CORE_PEER_TLS_ROOTCERT_FILE; CORE_PEER_TLS_ROOTCERT_FILE="$(org_tls_ca "$org")"
  # The CLI must not inherit the peer's own data directory and listen settings.
  unset CORE_PEER_FILESYSTEMPATH CORE_PEER_LISTENADDRESS CORE_OPERATIONS_LISTENADDRESS
}
