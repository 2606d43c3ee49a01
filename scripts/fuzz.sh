#!/usr/bin/env bash
# Runs every cargo-fuzz (libFuzzer) target of fuzz/ for a bounded time.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET]      (default 30)
#
# Installs cargo-fuzz if missing, builds all targets (AddressSanitizer, release), then runs each
# target for SECONDS_PER_TARGET seconds, single process, starting from the committed seed corpus
# fuzz/corpus/<target>/ (read-only: new inputs go to fuzz/target/work-corpus/<target>/).
# Exits non-zero if any target crashes, leaks, times out or fails to build; the failing input is in
# fuzz/artifacts/<target>/ (copy real findings to fuzz/artifacts-found/<target>/).
#
# cargo-fuzz needs nightly-only rustc flags; on a stable toolchain RUSTC_BOOTSTRAP=1 enables them.
# Env: FUZZ_TARGETS="a b" to run a subset; FUZZ_SANITIZER=none to build without ASan.
set -euo pipefail

SECONDS_PER_TARGET="${1:-30}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export RUSTC_BOOTSTRAP=1
SANITIZER="${FUZZ_SANITIZER:-address}"

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "== installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi

TARGETS="${FUZZ_TARGETS:-$(cargo fuzz list)}"
echo "== building: $(echo $TARGETS)"
cargo fuzz build --sanitizer "$SANITIZER"

failed=()
for t in $TARGETS; do
  work="fuzz/target/work-corpus/$t"
  mkdir -p "$work" "fuzz/artifacts/$t"
  echo "== $t: ${SECONDS_PER_TARGET}s"
  set +e
  cargo fuzz run --sanitizer "$SANITIZER" "$t" "$work" "fuzz/corpus/$t" -- \
    -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 >"fuzz/target/$t.log" 2>&1
  rc=$?
  set -e
  # The last status line (executions, coverage, corpus) and the final stats.
  grep -E '^#[0-9]+' "fuzz/target/$t.log" | tail -n 1 || true
  grep -E '^stat::(number_of_executed_units|peak_rss_mb)' "fuzz/target/$t.log" || true
  if [ "$rc" -ne 0 ]; then
    grep -E 'ERROR|panicked|SUMMARY|Test unit written' "fuzz/target/$t.log" || true
    failed+=("$t")
  fi
done

if [ "${#failed[@]}" -ne 0 ]; then
  echo "== FAILED: ${failed[*]} (inputs in fuzz/artifacts/, logs in fuzz/target/<target>.log)"
  exit 1
fi
echo "== all targets ran ${SECONDS_PER_TARGET}s without a crash"
