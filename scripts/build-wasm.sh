#!/usr/bin/env bash
# Builds the three contracts to wasm, lowers them for the CosmWasm VM, writes
# artifacts/<contract>.wasm + artifacts/checksums.txt, and checks them.
#
# - Each contract is built in its OWN cargo invocation: building them together unifies the
#   `library` feature (the integration tests depend on every contract with it) and yields wasm
#   without entry points.
# - Profile `contract` (root Cargo.toml): opt-level 3, lto, codegen-units 1, panic abort,
#   overflow checks. opt-level "z" would cost 1.2-2x gas.
# - Rust 1.95 emits bulk-memory and sign-ext instructions, which the CosmWasm VM rejects, and no
#   RUSTFLAGS turns them off for the prebuilt std; binaryen's wasm-opt 132 (pinned in
#   scripts/wasm-tools/package-lock.json) lowers them.
# - The check (`wasm-check`, tests/src/bin/wasm_check.rs) does what cosmwasm-check 2.3.5 does,
#   through the cosmwasm-vm library (incl. the VM's limits, e.g. at most 100 locals per function),
#   and requires instantiate/execute/query exports.
#
# Usage: scripts/build-wasm.sh [--no-check]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

CHECK=1
for arg in "$@"; do
  case "$arg" in
    --no-check) CHECK=0 ;;
    -h|--help) sed -n "2,17p" "$0"; exit 0 ;;
    *) echo "build-wasm.sh: unknown argument: $arg" >&2; exit 2 ;;
  esac
done

CONTRACTS=(node-registry receipt-verifier reward-pool)
TARGET=wasm32-unknown-unknown
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
OUT="$ROOT/artifacts"
WASM_TOOLS="$ROOT/scripts/wasm-tools"
WASM_OPT="$WASM_TOOLS/node_modules/.bin/wasm-opt"
WASM_OPT_VERSION=132

if ! rustup target list --installed | grep -qx "$TARGET"; then
  echo "==> rustup target add $TARGET"
  rustup target add "$TARGET"
fi

if [[ ! -x "$WASM_OPT" ]] || ! "$WASM_OPT" --version | grep -q "version $WASM_OPT_VERSION\b"; then
  echo "==> npm ci (binaryen $WASM_OPT_VERSION)"
  npm ci --prefix "$WASM_TOOLS" --no-audit --no-fund
fi
"$WASM_OPT" --version

mkdir -p "$OUT"
for c in "${CONTRACTS[@]}"; do
  name="${c//-/_}"
  echo "==> cargo build -p $c --lib --target $TARGET --profile contract"
  RUSTFLAGS='-C link-arg=-s' cargo build --locked -p "$c" --lib --target "$TARGET" --profile contract
  raw="$TARGET_DIR/$TARGET/contract/$name.wasm"
  if [[ ! -f "$raw" ]]; then
    echo "build-wasm.sh: $raw not produced (is crate-type cdylib set for $c?)" >&2
    exit 1
  fi
  echo "==> wasm-opt $name.wasm"
  # `-s` strips the target_features section, so the features the input uses are named here
  # (bulk-memory-opt = memory.copy/fill only, so -Os cannot introduce memory.init); -Os runs
  # first, then the lowerings remove those instructions, so nothing re-introduces them.
  # --one-caller-inline-max-function-size 0: by default -Os inlines every function with a single
  # caller whatever its size, which merged receipt-verifier functions into one with 119 locals,
  # over the VM's limit of 100 per function (wasmd rejects such code); costs ~0.3% in size.
  "$WASM_OPT" --enable-sign-ext --enable-bulk-memory-opt \
    -Os --one-caller-inline-max-function-size 0 --signext-lowering --llvm-memory-copy-fill-lowering \
    --strip-debug --strip-producers --strip-target-features \
    "$raw" -o "$OUT/$name.wasm"
  printf '    %s: %s bytes (unoptimized %s bytes)\n' "$name.wasm" \
    "$(wc -c <"$OUT/$name.wasm" | tr -d ' ')" "$(wc -c <"$raw" | tr -d ' ')"
done

(cd "$OUT" && sha256sum node_registry.wasm receipt_verifier.wasm reward_pool.wasm >checksums.txt)
echo "==> artifacts/checksums.txt"
cat "$OUT/checksums.txt"

if [[ "$CHECK" == 1 ]]; then
  echo "==> wasm-check"
  cargo run --locked -q -p opg-integration-tests --bin wasm-check -- \
    "$OUT/node_registry.wasm" "$OUT/receipt_verifier.wasm" "$OUT/reward_pool.wasm"
fi
