#!/usr/bin/env bash
# Fails when the committed docs/openapi.json differs from what the keeper's handler types generate.
# Fix: scripts/openapi.sh, then commit docs/openapi.json.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
"$ROOT/scripts/openapi.sh" "$TMP/openapi.json"
if ! diff -u "$ROOT/docs/openapi.json" "$TMP/openapi.json"; then
  echo "check-openapi: docs/openapi.json is stale; run scripts/openapi.sh and commit it" >&2
  exit 1
fi
echo "check-openapi: docs/openapi.json is current"
