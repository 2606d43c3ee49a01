#!/usr/bin/env bash
# Runs the cosmwasm-vm integration tests on the optimized artifacts (tests/vm, feature `vm`).
# Run after scripts/build-wasm.sh: the tests fail, naming that script, when an artifact is missing
# or older than its contract's sources.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
exec cargo test --locked -p opg-vm-tests --features vm "$@"
