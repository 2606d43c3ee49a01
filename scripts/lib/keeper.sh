# Sourced by the scripts that test a running keeper (scripts/api-test.sh, scripts/browser-test.sh).
#
#   start_keeper LABEL [SED_EXPR...]
#
# Builds `opg` (debug), writes $WORK/keeper.toml from keeper/keeper.example.toml on a free loopback
# port (plus each SED_EXPR, and `durability = "normal"`), starts `opg keeper run` on the embedded
# chain with its home in $WORK, and returns once GET /healthz answers. Sets OPG, WORK, PORT, BASE,
# KEEPER_PID; `fail MSG` prints "LABEL FAILED: MSG" with the keeper's log tail and exits 1. The
# keeper is stopped and $WORK deleted when the script exits. Needs TARGET_DIR and the repo root as
# the working directory.

start_keeper() {
  FAIL_LABEL="$1"
  shift
  cargo build -q -p opg-keeper --bin opg
  OPG="$TARGET_DIR/debug/opg"
  WORK="$(mktemp -d)"
  KEEPER_PID=""
  trap cleanup_keeper EXIT
  PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
  BASE="http://127.0.0.1:$PORT"
  local exprs=(-e "s/^listen = .*/listen = \"127.0.0.1:$PORT\"/" -e 's/^durability = .*/durability = "normal"/')
  for e in "$@"; do exprs+=(-e "$e"); done
  sed "${exprs[@]}" keeper/keeper.example.toml > "$WORK/keeper.toml"
  RUST_LOG=warn "$OPG" keeper run --config "$WORK/keeper.toml" --home "$WORK/home" \
    > "$WORK/keeper.log" 2>&1 &
  KEEPER_PID=$!
  for _ in $(seq 1 100); do
    if curl -sf "$BASE/healthz" > /dev/null; then break; fi
    kill -0 "$KEEPER_PID" 2>/dev/null || fail "the keeper exited"
    sleep 0.2
  done
  curl -sf "$BASE/healthz" > /dev/null || fail "the keeper did not come up"
}

cleanup_keeper() {
  if [ -n "${KEEPER_PID:-}" ]; then
    kill "$KEEPER_PID" 2>/dev/null || true
    wait "$KEEPER_PID" 2>/dev/null || true
  fi
  [ -n "${WORK:-}" ] && rm -rf "$WORK"
  return 0
}

fail() {
  echo "$FAIL_LABEL FAILED: $*" >&2
  echo "---- keeper log ----" >&2
  tail -n 50 "$WORK/keeper.log" >&2 || true
  exit 1
}
