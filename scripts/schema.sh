#!/usr/bin/env bash
# Regenerates the committed JSON schemas under schema/ from the message types in opg_core::msg.
# Usage: scripts/schema.sh [DIR]   (default: schema/)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
OUT="${1:-$ROOT/schema}"
cargo run --locked -q -p opg-integration-tests --bin schema -- "$OUT"
