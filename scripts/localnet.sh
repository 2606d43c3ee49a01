#!/usr/bin/env bash
# A real wasmd chain on this machine (wasmd v0.61.14 built from chain/wasmd/go.mod by
# scripts/build-wasmd.sh; no Docker).
#
#   scripts/localnet.sh start [--validators N] [--home DIR] [--rpc-port P] [--exit-with PID]
#   scripts/localnet.sh stop  [--home DIR] [--node I]    # all nodes, or only validator I
#   scripts/localnet.sh reset [--home DIR]               # stop and delete the chain's data
#   scripts/localnet.sh env   [--home DIR]               # print the chain's environment
#
# `start` returns once the chain produces blocks, and prints (and writes to DIR/env) what clients
# need: OPG_NODE (node 0's CometBFT RPC), OPG_RPC_URLS (every node's, comma-separated),
# OPG_CHAIN_ID, OPG_GAS_PRICES, OPG_DEPLOYER_MNEMONIC (dev account 0). A stopped chain in DIR is
# restarted with its state; `reset` starts over.
#
# The chain: chain id `opg-local-1`, bond/fee denom `uopg`, minimum gas price 0.025uopg,
# timeout_commit 200 ms, x/gov voting period 6 s (expedited 3 s), minimum deposit 10^7 uopg
# (GOV_* below), and the dev accounts of chain/wasmd/dev-accounts.txt funded with 10^13 uopg each.
# Every port is on 127.0.0.1: node I has RPC P+10*I (P = --rpc-port, default 26657), P2P one below,
# gRPC one above, the ABCI proxy two above; the REST API and pprof are off.
# `--validators N` creates N validators (each bonds 10^11 uopg from its own key) that peer with
# each other on loopback: one machine, N processes, a real multi-validator CometBFT network.
# `--exit-with PID` stops the chain when process PID exits (test harnesses use it).
#
# Environment: OPG_WASMD_BIN (a wasmd binary to use instead of building one), OPG_LOCALNET_HOME
# (default home), OPG_LOCALNET_RPC_PORT (default --rpc-port), CHAIN_ID.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

CMD="${1:-start}"
[[ $# -gt 0 ]] && shift
HOME_DIR="${OPG_LOCALNET_HOME:-${TMPDIR:-/tmp}/opg-localnet}"
VALIDATORS=1
RPC_PORT="${OPG_LOCALNET_RPC_PORT:-26657}"
EXIT_WITH=""
ONLY_NODE=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --validators) VALIDATORS="$2"; shift 2 ;;
    --home) HOME_DIR="$2"; shift 2 ;;
    --rpc-port) RPC_PORT="$2"; shift 2 ;;
    --exit-with) EXIT_WITH="$2"; shift 2 ;;
    --node) ONLY_NODE="$2"; shift 2 ;;
    -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
    *) echo "error: unknown argument $1 (see scripts/localnet.sh --help)" >&2; exit 2 ;;
  esac
done
mkdir -p "$HOME_DIR"
HOME_DIR="$(cd "$HOME_DIR" && pwd)"
# the ports of an existing chain are those it was created with
[[ -f "$HOME_DIR/rpc-port" && "$CMD" != reset ]] && RPC_PORT="$(cat "$HOME_DIR/rpc-port")"

CHAIN_ID="${CHAIN_ID:-opg-local-1}"
DENOM=uopg
GAS_PRICES="0.025$DENOM"
DEV_BALANCE=10000000000000     # 10^13 uopg per dev account
VALIDATOR_BALANCE=1000000000000 # 10^12 uopg per validator key
VALIDATOR_BOND=100000000000     # 10^11 uopg bonded per validator
GOV_VOTING_PERIOD=6s
GOV_EXPEDITED_VOTING_PERIOD=3s
GOV_MIN_DEPOSIT=10000000        # 10 OPG
MNEMONICS="$ROOT/chain/wasmd/dev-accounts.txt"

node_home() { echo "$HOME_DIR/node$1"; }
pid_file() { echo "$HOME_DIR/node$1.pid"; }
rpc_port() { echo $((RPC_PORT + 10 * $1)); }
node_count() { ls -d "$HOME_DIR"/node[0-9]* 2>/dev/null | grep -c '/node[0-9]*$' || true; }
alive() { [[ -f "$(pid_file "$1")" ]] && kill -0 "$(cat "$(pid_file "$1")")" 2>/dev/null; }
dev_mnemonic() { grep -v '^#' "$MNEMONICS" | sed -n "$(($1 + 1))p"; }

# set_toml FILE SECTION KEY VALUE: set `KEY = VALUE` inside [SECTION] ("" = top level).
set_toml() {
  local file="$1" section="$2" key="$3" value="$4"
  awk -v s="$section" -v k="$key" -v v="$value" '
    /^\[/ { cur = $0; gsub(/^\[|\]$/, "", cur) }
    !/^\[/ && cur == s && $1 == k && $2 == "=" { print k " = " v; done = 1; next }
    { print }
    END { if (!done) { print "set_toml: " k " not found in [" s "]" > "/dev/stderr"; exit 1 } }
  ' "$file" >"$file.tmp" && mv "$file.tmp" "$file"
}

stop_node() {
  local i="$1" pid
  alive "$i" || { rm -f "$(pid_file "$i")"; return 0; }
  pid="$(cat "$(pid_file "$i")")"
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$(pid_file "$i")"
}

stop_all() {
  local n i
  n="$(node_count)"
  for ((i = 0; i < n; i++)); do stop_node "$i"; done
  if [[ -f "$HOME_DIR/watchdog.pid" ]]; then
    kill "$(cat "$HOME_DIR/watchdog.pid")" 2>/dev/null || true
    rm -f "$HOME_DIR/watchdog.pid"
  fi
}

write_env() {
  local n i urls=""
  n="$(node_count)"
  for ((i = 0; i < n; i++)); do urls="${urls:+$urls,}http://127.0.0.1:$(rpc_port "$i")"; done
  cat >"$HOME_DIR/env" <<EOF
export OPG_NODE=http://127.0.0.1:$(rpc_port 0)
export OPG_RPC_URLS=$urls
export OPG_CHAIN_ID=$CHAIN_ID
export OPG_GAS_PRICES=$GAS_PRICES
export OPG_LOCALNET_HOME=$HOME_DIR
export OPG_WASMD_BIN=$WASMD
export OPG_DEPLOYER_MNEMONIC="$(dev_mnemonic 0)"
EOF
}

init_chain() {
  local n="$1" i h addr peers id
  echo "creating a $n-validator chain $CHAIN_ID in $HOME_DIR" >&2
  echo "$RPC_PORT" >"$HOME_DIR/rpc-port"
  for ((i = 0; i < n; i++)); do
    h="$(node_home "$i")"
    "$WASMD" init "node$i" --chain-id "$CHAIN_ID" --default-denom "$DENOM" --home "$h" >/dev/null 2>&1
    "$WASMD" keys add validator --keyring-backend test --home "$h" >/dev/null 2>&1
  done
  local g0
  g0="$(node_home 0)"
  # dev accounts, then every validator's key, funded in node 0's genesis
  local k=0 m
  while IFS= read -r m; do
    [[ -z "$m" || "$m" == \#* ]] && continue
    addr="$(echo "$m" | "$WASMD" keys add "dev$k" --recover --keyring-backend test --home "$g0" --output json 2>/dev/null | jq -r .address)"
    "$WASMD" genesis add-genesis-account "$addr" "$DEV_BALANCE$DENOM" --home "$g0" >/dev/null
    k=$((k + 1))
  done <"$MNEMONICS"
  for ((i = 0; i < n; i++)); do
    addr="$("$WASMD" keys show validator -a --keyring-backend test --home "$(node_home "$i")")"
    "$WASMD" genesis add-genesis-account "$addr" "$VALIDATOR_BALANCE$DENOM" --home "$g0" >/dev/null
  done
  # fast governance, fees in uopg
  jq --arg vp "$GOV_VOTING_PERIOD" --arg evp "$GOV_EXPEDITED_VOTING_PERIOD" \
    --arg d "$DENOM" --arg md "$GOV_MIN_DEPOSIT" '
      .app_state.gov.params.voting_period = $vp
      | .app_state.gov.params.expedited_voting_period = $evp
      | .app_state.gov.params.max_deposit_period = "60s"
      | .app_state.gov.params.min_deposit = [{denom: $d, amount: $md}]
      | .app_state.gov.params.expedited_min_deposit = [{denom: $d, amount: (($md | tonumber) * 5 | tostring)}]
    ' "$g0/config/genesis.json" >"$g0/config/genesis.tmp"
  mv "$g0/config/genesis.tmp" "$g0/config/genesis.json"
  # each validator's gentx against that genesis, collected on node 0
  mkdir -p "$g0/config/gentx"
  for ((i = 0; i < n; i++)); do
    h="$(node_home "$i")"
    [[ $i -gt 0 ]] && cp "$g0/config/genesis.json" "$h/config/genesis.json"
    "$WASMD" genesis gentx validator "$VALIDATOR_BOND$DENOM" --chain-id "$CHAIN_ID" \
      --keyring-backend test --home "$h" --output-document "$g0/config/gentx/gentx-$i.json" >/dev/null 2>&1
  done
  "$WASMD" genesis collect-gentxs --home "$g0" >/dev/null 2>&1
  "$WASMD" genesis validate-genesis --home "$g0" >/dev/null
  # loopback ports, fast blocks, peers
  for ((i = 0; i < n; i++)); do
    h="$(node_home "$i")"
    [[ $i -gt 0 ]] && cp "$g0/config/genesis.json" "$h/config/genesis.json"
    local rpc p2p c="$h/config/config.toml" a="$h/config/app.toml"
    rpc="$(rpc_port "$i")"
    p2p=$((rpc - 1))
    peers=""
    for ((j = 0; j < n; j++)); do
      [[ $j -eq $i ]] && continue
      id="$("$WASMD" comet show-node-id --home "$(node_home "$j")")"
      peers="${peers:+$peers,}$id@127.0.0.1:$(($(rpc_port "$j") - 1))"
    done
    set_toml "$c" "" proxy_app "\"tcp://127.0.0.1:$((rpc + 2))\""
    set_toml "$c" rpc laddr "\"tcp://127.0.0.1:$rpc\""
    set_toml "$c" rpc pprof_laddr '""'
    set_toml "$c" p2p laddr "\"tcp://127.0.0.1:$p2p\""
    set_toml "$c" p2p persistent_peers "\"$peers\""
    set_toml "$c" p2p addr_book_strict false
    set_toml "$c" p2p allow_duplicate_ip true
    set_toml "$c" p2p pex false
    set_toml "$c" consensus timeout_commit '"200ms"'
    set_toml "$c" consensus timeout_propose '"1s"'
    set_toml "$a" "" minimum-gas-prices "\"$GAS_PRICES\""
    set_toml "$a" api enable false
    set_toml "$a" grpc address "\"127.0.0.1:$((rpc + 1))\""
    set_toml "$a" grpc-web enable false
  done
}

start_chain() {
  local n i
  if [[ ! -f "$(node_home 0)/config/genesis.json" ]] || ! grep -q "\"$CHAIN_ID\"" "$(node_home 0)/config/genesis.json"; then
    rm -rf "$HOME_DIR"/node*
    init_chain "$VALIDATORS"
  fi
  n="$(node_count)"
  for ((i = 0; i < n; i++)); do
    alive "$i" && continue
    # setsid: the nodes outlive this script (and a test's process group) until `stop`
    setsid "$WASMD" start --home "$(node_home "$i")" >>"$HOME_DIR/node$i.log" 2>&1 </dev/null &
    echo $! >"$(pid_file "$i")"
  done
  if [[ -n "$EXIT_WITH" ]]; then
    [[ -f "$HOME_DIR/watchdog.pid" ]] && kill "$(cat "$HOME_DIR/watchdog.pid")" 2>/dev/null || true
    setsid bash -c "while kill -0 $EXIT_WITH 2>/dev/null; do sleep 0.5; done; '$0' stop --home '$HOME_DIR' --rpc-port $RPC_PORT" \
      >/dev/null 2>&1 </dev/null &
    echo $! >"$HOME_DIR/watchdog.pid"
  fi
  write_env
  local url="http://127.0.0.1:$(rpc_port 0)"
  for _ in $(seq 1 600); do
    for ((i = 0; i < n; i++)); do
      alive "$i" || { echo "error: wasmd node $i exited; see $HOME_DIR/node$i.log:" >&2; tail -n 20 "$HOME_DIR/node$i.log" >&2; stop_all; exit 1; }
    done
    h="$(curl -fs "$url/status" 2>/dev/null | jq -r '.result.sync_info.latest_block_height' 2>/dev/null || echo 0)"
    if [[ "$h" =~ ^[0-9]+$ && "$h" -ge 2 ]]; then
      echo "wasmd $("$WASMD" version 2>&1) is producing blocks: $n validator(s), chain id $CHAIN_ID, rpc $url, home $HOME_DIR" >&2
      cat "$HOME_DIR/env"
      return 0
    fi
    sleep 0.2
  done
  echo "error: no block after 120 s; see $HOME_DIR/node0.log" >&2
  stop_all
  exit 1
}

case "$CMD" in
  start)
    WASMD="$("$ROOT/scripts/build-wasmd.sh")"
    start_chain
    ;;
  stop)
    if [[ -n "$ONLY_NODE" ]]; then stop_node "$ONLY_NODE"; else stop_all; fi
    ;;
  reset)
    stop_all
    rm -rf "$HOME_DIR"/node* "$HOME_DIR"/env "$HOME_DIR"/rpc-port
    ;;
  env)
    cat "$HOME_DIR/env"
    ;;
  *)
    echo "error: unknown command $CMD (start|stop|reset|env)" >&2
    exit 2
    ;;
esac
