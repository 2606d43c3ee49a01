#!/usr/bin/env bash
# Regenerates the committed OpenAPI document of the keeper's HTTP API (docs/openapi.json) from the
# handlers' types (opg_keeper::openapi). Usage: scripts/openapi.sh [FILE]   (default: docs/openapi.json)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
OUT="${1:-$ROOT/docs/openapi.json}"
cargo run --locked -q -p opg-keeper --example openapi > "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
