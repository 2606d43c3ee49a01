#!/usr/bin/env bash
# x402 verification throughput: opg versus the reference facilitator, in one run (issue 7).
#
#   scripts/bench-reference.sh [SECONDS]        (default 5 s per measurement)
#
# 1. Reference: `@x402/evm`'s EVM facilitators' `verify` (v2 `ExactEvmScheme` for EIP-3009 and
#    Permit2, `UptoEvmScheme`, v1 `ExactEvmSchemeV1`; versions pinned in
#    scripts/bench-reference/package-lock.json) in Node.js on the valid payments of
#    tests/fixtures/x402/payments-{v1,v2}.json and permit2.json (all, then per kind), one after another on
#    one core. Its chain reads (getCode, the transferWithAuthorization simulation, ...) are
#    answered by a local stub, no network (see bench.mjs). It writes the payloads it verified.
# 2. opg: `opg bench --x402` on the same payloads, `opg_keeper::facilitator::verify` looped on
#    one core (what `opg x402 verify` and `POST /verify` run).
# 3. Prints both rates and opg / reference.
#
# Needs node >= 18 and npm (`npm ci` from the committed lock file on first use) and builds the
# release `opg`. Set OPG=path/to/opg to use another binary.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
secs="${1:-5}"
ref="$root/scripts/bench-reference"
fixtures=("$root/tests/fixtures/x402/payments-v1.json" "$root/tests/fixtures/x402/payments-v2.json" "$root/tests/fixtures/x402/permit2.json")

if [ ! -d "$ref/node_modules/@x402/evm" ]; then
  (cd "$ref" && npm ci --no-audit --no-fund >&2)
fi
opg="${OPG:-}"
if [ -z "$opg" ]; then
  (cd "$root" && cargo build --release --bin opg >&2)
  opg="$root/target/release/opg"
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
node "$ref/bench.mjs" --secs "$secs" --out "$work/payloads.json" "${fixtures[@]}" > "$work/reference.json"
"$opg" bench --x402 "$work/payloads.json" --raw-secs "$secs" --json > "$work/opg.json"

node --input-type=module - "$work/reference.json" "$work/opg.json" <<'JS'
import { readFileSync } from "node:fs";
const ref = JSON.parse(readFileSync(process.argv[2], "utf8"));
const opg = JSON.parse(readFileSync(process.argv[3], "utf8"));
const p = ref.packages;
const line = (k, v) => console.log(`${k.padEnd(58)} ${v}`);
line(`payloads (valid for both; ${ref.excluded} excluded)`, ref.payloads);
line(`reference @x402/evm ${p["@x402/evm"]} verify, node ${p.node}, one core`, `${ref.reference_verifications_per_s.toFixed(0)} /s`);
line("opg facilitator::verify (decoded request), one core", `${opg.x402_verify_per_s.toFixed(0)} /s`);
line("opg facilitator::verify_json (JSON value), one core", `${opg.x402_verify_json_per_s.toFixed(0)} /s`);
line("ratio opg / reference (decoded)", (opg.x402_verify_per_s / ref.reference_verifications_per_s).toFixed(2));
line("ratio opg / reference (JSON value)", (opg.x402_verify_json_per_s / ref.reference_verifications_per_s).toFixed(2));
for (const k of opg.by_kind ?? []) {
  const r = ref.by_kind?.[k.kind];
  if (!r) continue;
  line(`  ${k.kind} (${k.payloads} payloads): reference / opg decoded / opg JSON / ratio`,
    `${r.verifications_per_s.toFixed(0)} /s, ${k.verify_per_s.toFixed(0)} /s, ${k.verify_json_per_s.toFixed(0)} /s, ${(k.verify_per_s / r.verifications_per_s).toFixed(2)}`);
}
console.log(JSON.stringify({
  reference_verifications_per_s: ref.reference_verifications_per_s,
  opg_verifications_per_s: opg.x402_verify_per_s,
  opg_json_verifications_per_s: opg.x402_verify_json_per_s,
  ratio: opg.x402_verify_per_s / ref.reference_verifications_per_s,
  payloads: ref.payloads,
  by_kind: (opg.by_kind ?? []).map((k) => ({ ...k, reference_verifications_per_s: ref.by_kind?.[k.kind]?.verifications_per_s })),
  packages: p,
}));
JS
