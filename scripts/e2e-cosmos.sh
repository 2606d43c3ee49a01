#!/usr/bin/env bash
# End-to-end tests on a real wasmd (issue 12): `opg deploy` / node / gov (x/gov proposals) / query,
# the keeper on the cosmos backend, CosmJS, and the README's walkthrough on its own fresh chain
# (keeper/tests/cosmos_e2e.rs, keeper/tests/cosmjs.rs, keeper/tests/readme.rs; `#[ignore]`d in a
# plain `cargo test`, which has no chain); faults (keeper/tests/cosmos_faults.rs):
# `opg keeper run` SIGKILLed between broadcast and recording after a sequence-mismatch retry, a
# param change in force from the next epoch, `opg report` on the chain (~2.5 min: it waits for an
# epoch of 120 s to end), and failover past a stopped validator of a 4-validator net that the test
# starts itself (start ~40-60 s on 2 busy cores; the test ~75 s).
#
#   scripts/e2e-cosmos.sh [cargo test args...]
#
# Uses the chain of a running `scripts/localnet.sh start` when OPG_LOCALNET_HOME names its home
# (.ci/run does so); otherwise each test binary starts its own chain in a temp home on free ports
# and stops it when it exits. Needs the wasm artifacts (scripts/build-wasm.sh), Go + gcc (wasmd),
# Node.js + npm (CosmJS: `npm ci --prefix scripts/cosmjs` if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f artifacts/checksums.txt ]; then
  echo "artifacts/checksums.txt missing: run scripts/build-wasm.sh first" >&2
  exit 1
fi
exec cargo test -p opg-keeper --test cosmos_e2e --test cosmos_faults --test cosmjs --test readme "$@" -- --ignored --test-threads 2
