#!/usr/bin/env bash
# Real-browser test of the keeper's transparency page (issue 18).
#
#   scripts/browser-test.sh [SCREENSHOT_DIR]
#
# 1. installs Debian's chromium if /usr/bin/chromium is missing (apt-get; needs root) and
#    playwright-core from scripts/browser/package-lock.json (npm ci);
# 2. builds `opg` (debug, shared target dir) and starts `opg keeper run` on a fresh embedded-chain
#    home with 20 s epochs and 6 s of grace (keeper/keeper.example.toml otherwise);
# 3. sends a small `opg loadgen` load (40 signed receipts) and waits until an epoch with calls is
#    finalized on chain (GET /v1/epochs/{e});
# 4. runs scripts/browser/test.mjs in headless Chromium: no console errors, the split shown equals
#    the pool's EpochReport, the epoch links work, the page fits a phone; saves a screenshot and
#    prints its path.
# Takes about 1 minute after the build. The keeper's log is printed on failure.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
OUT_DIR="${1:-$ROOT/target/browser-test}"
mkdir -p "$OUT_DIR"
OUT_DIR="$(cd "$OUT_DIR" && pwd)"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"

if [ ! -x /usr/bin/chromium ]; then
  echo "installing Debian's chromium"
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q chromium
fi
/usr/bin/chromium --version 2>/dev/null || true
npm ci --prefix scripts/browser --no-audit --no-fund

# shellcheck source=lib/keeper.sh
source "$ROOT/scripts/lib/keeper.sh"
start_keeper "browser test" \
  's/^epoch_length = .*/epoch_length = 20/' \
  's/^grace = .*/grace = 6/' \
  's/^batch_interval_secs = .*/batch_interval_secs = 2/'

"$OPG" loadgen --url "$BASE" --config "$WORK/keeper.toml" --count 40 --concurrency 4 \
  --payers 8 > "$WORK/loadgen.txt" || fail "loadgen"
cat "$WORK/loadgen.txt"

# the first epoch with calls, once finalized
EPOCH=""
for _ in $(seq 1 120); do
  for e in 0 1 2 3 4; do
    if curl -sf "$BASE/v1/epochs/$e" | python3 -c '
import json, sys
p = json.load(sys.stdin)["pool"]
sys.exit(0 if p["finalized"] and p["commercial"]["calls"] + p["community"]["calls"] > 0 else 1)
' 2>/dev/null; then EPOCH="$e"; break; fi
  done
  [ -n "$EPOCH" ] && break
  sleep 1
done
[ -n "$EPOCH" ] || fail "no epoch with calls was finalized within 2 minutes"
echo "epoch $EPOCH is finalized with calls"
for pass in first second; do
  curl -sf -o /dev/null -w "GET / ($pass request): %{http_code}, %{size_download} bytes in %{time_total} s\n" "$BASE/"
done

SHOT="$OUT_DIR/transparency-page.png"
node scripts/browser/test.mjs "$BASE" "$EPOCH" "$SHOT" || fail "scripts/browser/test.mjs"
echo "screenshot artifact: $SHOT"
