#!/usr/bin/env bash
# Fails when the committed schemas under schema/ differ from what the message types generate.
# Fix: scripts/schema.sh, then commit schema/.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
"$ROOT/scripts/schema.sh" "$TMP" >/dev/null
# Compare only the generated files (schema/ may also hold a README).
status=0
for f in "$TMP"/*.json; do
  name="$(basename "$f")"
  if [[ ! -f "$ROOT/schema/$name" ]]; then
    echo "check-schema: schema/$name is missing" >&2
    status=1
  elif ! diff -u "$ROOT/schema/$name" "$f"; then
    echo "check-schema: schema/$name is stale" >&2
    status=1
  fi
done
for f in "$ROOT"/schema/*.json; do
  [[ -e "$f" ]] || continue
  name="$(basename "$f")"
  if [[ ! -f "$TMP/$name" ]]; then
    echo "check-schema: schema/$name is no longer generated" >&2
    status=1
  fi
done
if [[ "$status" != 0 ]]; then
  echo "check-schema: run scripts/schema.sh and commit schema/" >&2
  exit 1
fi
echo "check-schema: schema/ is current"
