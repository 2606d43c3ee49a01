#!/usr/bin/env bash
# Measures the optimized artifacts in cosmwasm-vm and writes docs/gas.md: VM gas, storage
# reads/writes with bytes, and the estimated SDK gas (VM gas / 140,000 + KV gas + instance cost per
# contract entry) of Register, SubmitReceipts (1/10/100 receipts, secp256k1 and ed25519 node keys),
# FinalizeEpoch and Claim (1 and 30 epochs). Prints `per_receipt_sdk_gas_batch100=<N> (pinned)` last.
#
# Needs the artifacts: run scripts/build-wasm.sh first (the report refuses missing or stale ones).
# Usage: scripts/gas-report.sh [--out <file>]   (default docs/gas.md)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# Gas figures do not depend on the host build profile; the dev profile reuses the test build.
exec cargo run --locked -q -p opg-vm-tests --features vm --bin gas-report -- "$@"
