#!/usr/bin/env bash
# End-to-end test of `opg deploy` + node/gov/query CLIs against `opg devnet` (issue 8).
# Needs the wasm artifacts: run scripts/build-wasm.sh first.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f artifacts/checksums.txt ]; then
  echo "artifacts/checksums.txt missing: run scripts/build-wasm.sh first" >&2
  exit 1
fi
exec cargo test -p opg-keeper --features e2e-artifacts --test cosmos_e2e "$@"
