// Reference x402 verification throughput: the `exact` EVM facilitator's `verify` from
// `@x402/evm` (v2: `ExactEvmScheme` from `@x402/evm/exact/facilitator`; v1: `ExactEvmSchemeV1`
// from `@x402/evm/exact/v1/facilitator`) on the valid payments of tests/fixtures/x402/*.json,
// one after another on Node's single JS thread (one core). Run by scripts/bench-reference.sh,
// which then runs `opg bench --x402` on the payloads this script writes.
//
//   node bench.mjs --secs 5 --out payloads.json ../../tests/fixtures/x402/payments-v1.json ...
//
// No network: the facilitator's `FacilitatorEvmSigner` is a local stub that answers the chain
// reads `verify` makes: `getCode` (the payer is an EOA: "0x"; the token is a contract), and
// `readContract` for the `transferWithAuthorization` simulation (succeeds), `balanceOf` (ample),
// `authorizationState` (nonce unused), `name` / `version` (the requirements' EIP-712 domain).
// The signature check itself is the reference's own: viem `hashTypedData` + `recoverAddress`
// (noble-curves secp256k1). The stub answers synchronously-resolved promises, so the figure is
// the facilitator's verification work, without any RPC latency a real deployment would add.
//
// Output (stdout, one JSON object): {"reference_verifications_per_s", "payloads", "seconds",
// "packages"}. `--out` gets the payloads (x402 /verify bodies plus `verifyTime`) that both
// sides verify: the fixture cases opg expects valid and the reference also finds valid.
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { ExactEvmScheme } from "@x402/evm/exact/facilitator";
import { ExactEvmSchemeV1 } from "@x402/evm/exact/v1/facilitator";
import { UptoEvmScheme } from "@x402/evm/upto/facilitator";

const here = dirname(fileURLToPath(import.meta.url));
const version = (p) =>
  JSON.parse(readFileSync(join(here, "node_modules", p, "package.json"), "utf8")).version;

// ---- arguments ----
let secs = 5;
let out = null;
const files = [];
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  if (a === "--secs") secs = Number(process.argv[++i]);
  else if (a === "--out") out = process.argv[++i];
  else files.push(a);
}
if (!(secs > 0) || files.length === 0) {
  console.error("usage: node bench.mjs [--secs S] [--out payloads.json] FIXTURES.json...");
  process.exit(2);
}

// ---- the chain stub ----
let domain = { name: "", version: "" };
const FACILITATOR = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";
// The facilitator the Permit2 fixtures' `upto` payments name (test account #4).
const UPTO_FACILITATOR = "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65";
const reads = { getCode: 0, readContract: 0 };
const signer = {
  getAddresses: () => [FACILITATOR, UPTO_FACILITATOR],
  getCode: async ({ address }) => {
    reads.getCode++;
    return assets.has(address.toLowerCase()) ? "0x6080604052" : "0x";
  },
  readContract: async ({ functionName }) => {
    reads.readContract++;
    switch (functionName) {
      case "transferWithAuthorization":
      case "settle": // the Permit2 proxies' settle simulation
        return undefined;
      case "balanceOf":
        return 10n ** 30n;
      case "authorizationState":
        return false;
      case "name":
        return domain.name;
      case "version":
        return domain.version;
      default:
        throw new Error(`stub: unexpected read ${functionName}`);
    }
  },
  verifyTypedData: async () => {
    throw new Error("stub: verifyTypedData is not used by exact verify");
  },
  writeContract: async () => {
    throw new Error("stub: no writes in a verification benchmark");
  },
  sendTransaction: async () => {
    throw new Error("stub: no writes in a verification benchmark");
  },
  waitForTransactionReceipt: async () => {
    throw new Error("stub: no writes in a verification benchmark");
  },
};
const v2 = new ExactEvmScheme(signer);
const v1 = new ExactEvmSchemeV1(signer);
const upto = new UptoEvmScheme(signer);

// ---- the payloads ----
const assets = new Set();
const candidates = [];
for (const f of files) {
  const doc = JSON.parse(readFileSync(f, "utf8"));
  for (const c of doc.cases) {
    // payments-v*.json: `expected`; permit2.json: `reference` (and `opg` where opg differs)
    const valid = c.expected ? c.expected.valid === true : c.reference?.valid === true && !c.opg;
    if (!valid) continue;
    let payload;
    try {
      payload = JSON.parse(Buffer.from(c.header, "base64").toString("utf8"));
    } catch {
      continue;
    }
    assets.add(c.requirements.asset.toLowerCase());
    const kind = payload.payload?.permit2Authorization
      ? (c.requirements.scheme === "upto" ? "upto" : "permit2")
      : "eip3009";
    candidates.push({
      name: c.name,
      kind,
      facilitators: c.facilitators,
      body: {
        x402Version: c.x402_version ?? payload.x402Version,
        paymentPayload: payload,
        paymentRequirements: c.requirements,
      },
      verifyTime: c.verify_time,
    });
  }
}

const realNow = Date.now;
async function verifyOne(item) {
  // the reference reads the clock for validAfter / validBefore: pin it to the case's time
  Date.now = () => item.verifyTime * 1000;
  domain = item.body.paymentRequirements.extra ?? domain;
  const scheme = item.kind === "upto" ? upto : item.body.x402Version === 1 ? v1 : v2;
  return scheme.verify(item.body.paymentPayload, item.body.paymentRequirements);
}

const payloads = [];
const excluded = [];
for (const item of candidates) {
  const r = await verifyOne(item);
  if (r.isValid) payloads.push(item);
  else excluded.push(`${item.name}: ${r.invalidReason}`);
}
Date.now = realNow;
if (payloads.length === 0) {
  console.error("no payload is valid for the reference facilitator");
  process.exit(1);
}
for (const e of excluded) console.error(`excluded (the reference rejects it): ${e}`);
if (out) {
  writeFileSync(
    out,
    JSON.stringify(
      payloads.map((p) => ({
        name: p.name,
        verifyTime: p.verifyTime,
        ...(p.facilitators ? { facilitators: p.facilitators } : {}),
        ...p.body,
      })),
      null,
      1,
    ) + "\n",
  );
}

// ---- the measurement ----
// warm-up (JIT), then verify round-robin until `secs` have passed; every answer must be valid
async function measure(items) {
  for (let i = 0; i < 200; i++) await verifyOne(items[i % items.length]);
  const started = process.hrtime.bigint();
  const limit = started + BigInt(Math.round(secs * 1e9));
  let done = 0;
  let now = started;
  while (now < limit) {
    for (const item of items) {
      const r = await verifyOne(item);
      if (!r.isValid) throw new Error(`${item.name} became invalid: ${r.invalidReason}`);
      done++;
    }
    now = process.hrtime.bigint();
  }
  return { done, elapsed: Number(now - started) / 1e9 };
}
const { done, elapsed } = await measure(payloads);
const byKind = {};
for (const kind of ["eip3009", "permit2", "upto"]) {
  const items = payloads.filter((p) => p.kind === kind);
  if (items.length === 0) continue;
  const m = await measure(items);
  byKind[kind] = { payloads: items.length, verifications_per_s: m.done / m.elapsed };
}
Date.now = realNow;
console.log(
  JSON.stringify({
    reference_verifications_per_s: done / elapsed,
    by_kind: byKind,
    payloads: payloads.length,
    verifications: done,
    seconds: elapsed,
    excluded: excluded.length,
    chain_reads_stubbed: reads,
    packages: {
      "@x402/evm": version("@x402/evm"),
      "@x402/core": version("@x402/core"),
      viem: version("viem"),
      node: process.version,
    },
  }),
);
