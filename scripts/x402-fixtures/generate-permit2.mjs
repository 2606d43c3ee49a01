// Generates tests/fixtures/x402/permit2.json: x402 Permit2 payments (`exact` with
// `extra.assetTransferMethod: "permit2"`, and `upto`) made by the reference clients, valid and
// tampered, each with the verdict of the REFERENCE facilitator (`@x402/evm` `ExactEvmScheme` /
// `UptoEvmScheme` `verify`, run offline against a stub chain client) and, where opg differs on
// purpose (it follows what settles on chain), opg's verdict and why.
//
//   cd scripts/x402-fixtures && npm ci && node generate-permit2.mjs
//
// Reference packages (pinned in package.json / package-lock.json): `@x402/core` 2.27.0
// (`x402Client`, `encodePaymentSignatureHeader`), `@x402/evm` 2.27.0 (clients
// `ExactEvmScheme` / `UptoEvmScheme`, facilitators `ExactEvmScheme` / `UptoEvmScheme`), viem.
//
// The stub chain client (the facilitator's `FacilitatorEvmSigner`): `getAddresses` = the
// facilitator's address; `getCode` = contract code for every address but the payer's (so the
// asset is a deployed contract and the payer an EOA: ECDSA signatures); `readContract` succeeds
// (the settle simulation passes: funded, Permit2 approved). So a verdict is the reference's
// offline checks alone, the ones opg makes.
//
// Deterministic: the clock and the nonce source are fixed, ECDSA signing is RFC 6979.
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { x402Client } from "@x402/core/client";
import { encodePaymentSignatureHeader } from "@x402/core/http";
import { ExactEvmScheme as ExactClient } from "@x402/evm/exact/client";
import { UptoEvmScheme as UptoClient } from "@x402/evm/upto/client";
import { ExactEvmScheme as ExactFacilitator } from "@x402/evm/exact/facilitator";
import { UptoEvmScheme as UptoFacilitator } from "@x402/evm/upto/facilitator";
import { privateKeyToAccount } from "viem/accounts";
import { getAddress, hashTypedData } from "viem";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "..", "tests", "fixtures", "x402", "permit2.json");
const version = (p) => JSON.parse(readFileSync(join(here, "node_modules", p, "package.json"), "utf8")).version;
const PKG = { core: `@x402/core@${version("@x402/core")}`, evm: `@x402/evm@${version("@x402/evm")}`, viem: `viem@${version("viem")}` };

const T0 = 1_750_000_000;
let clock = T0;
Date.now = () => clock * 1000;
let nonceCounter = 0;
Object.defineProperty(globalThis.crypto, "getRandomValues", {
  configurable: true,
  writable: true,
  value: (arr) => {
    const h = createHash("sha256").update(`opg-x402-permit2-fixtures${nonceCounter++}`).digest();
    for (let i = 0; i < arr.length; i++) arr[i] = h[i % 32];
    return arr;
  },
});

// Well-known PUBLIC anvil/hardhat test keys #0 (payer) and #3 (another signer); #1 is payTo,
// #2 "someone else", #4 the facilitator, #5 another facilitator.
const payer = privateKeyToAccount("0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80");
const stranger = privateKeyToAccount("0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6");
const PAY_TO = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const OTHER = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";
const FACILITATOR = "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65";
const OTHER_FACILITATOR = "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc";
const PERMIT2 = "0x000000000022D473030F116dDEE9F6B43aC78BA3";
const EXACT_PROXY = "0x402085c248EeA27D92E8b30b2C58ed07f9E20001";
const UPTO_PROXY = "0x4020A4f3b7b90ccA423B9fabCc0CE57C6C240002";

const NETWORKS = [
  { chainId: 8453, asset: "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913" },
  { chainId: 84532, asset: "0x036CbD53842c5426634e7929541eC2318f3dCF7e" },
];
const AMOUNT = "10000";
const TIMEOUT = 60;

const stubSigner = {
  getAddresses: () => [FACILITATOR],
  getCode: async ({ address }) => (getAddress(address) === getAddress(payer.address) ? "0x" : "0x6080604052"),
  readContract: async () => undefined,
  verifyTypedData: async () => { throw new Error("not used"); },
  writeContract: async () => { throw new Error("offline"); },
  sendTransaction: async () => { throw new Error("offline"); },
  waitForTransactionReceipt: async () => { throw new Error("offline"); },
};
const facilitators = { exact: new ExactFacilitator(stubSigner), upto: new UptoFacilitator(stubSigner) };

function requirements(kind, net, over = {}) {
  return {
    scheme: kind,
    network: `eip155:${net.chainId}`,
    amount: AMOUNT,
    payTo: PAY_TO,
    maxTimeoutSeconds: TIMEOUT,
    asset: net.asset,
    extra: kind === "exact" ? { assetTransferMethod: "permit2" } : { facilitatorAddress: FACILITATOR },
    ...over,
  };
}

const b64 = (obj) => Buffer.from(JSON.stringify(obj), "utf8").toString("base64");
const unb64 = (h) => JSON.parse(Buffer.from(h, "base64").toString("utf8"));

async function pay(kind, req, account = payer) {
  const client = new x402Client();
  client.register("eip155:*", kind === "exact" ? new ExactClient(account) : new UptoClient(account));
  client.setSpendControls?.(false);
  const payload = await client.createPaymentPayload({
    x402Version: 2,
    resource: { url: "https://node.example/v1/chat/completions" },
    accepts: [req],
  });
  return encodePaymentSignatureHeader(payload);
}

function witnessTypes(kind) {
  const witness = kind === "exact"
    ? [{ name: "to", type: "address" }, { name: "validAfter", type: "uint256" }]
    : [{ name: "to", type: "address" }, { name: "facilitator", type: "address" }, { name: "validAfter", type: "uint256" }];
  return {
    PermitWitnessTransferFrom: [
      { name: "permitted", type: "TokenPermissions" },
      { name: "spender", type: "address" },
      { name: "nonce", type: "uint256" },
      { name: "deadline", type: "uint256" },
      { name: "witness", type: "Witness" },
    ],
    TokenPermissions: [{ name: "token", type: "address" }, { name: "amount", type: "uint256" }],
    Witness: witness,
  };
}

function typedData(kind, chainId, a) {
  const witness = { to: getAddress(a.witness.to), validAfter: BigInt(a.witness.validAfter) };
  if (kind === "upto") witness.facilitator = getAddress(a.witness.facilitator);
  return {
    domain: { name: "Permit2", chainId, verifyingContract: PERMIT2 },
    types: witnessTypes(kind),
    primaryType: "PermitWitnessTransferFrom",
    message: {
      permitted: { token: getAddress(a.permitted.token), amount: BigInt(a.permitted.amount) },
      spender: getAddress(a.spender),
      nonce: BigInt(a.nonce),
      deadline: BigInt(a.deadline),
      witness,
    },
  };
}

// Re-signs a (mutated) authorization as the reference client signs (signTypedData with the
// reference's witness types); used for payments the client would not make on its own.
async function resign(kind, header, mutate, account = payer) {
  const p = unb64(header);
  mutate(p.payload.permit2Authorization);
  const chainId = Number(p.accepted.network.split(":")[1]);
  p.payload.signature = await account.signTypedData(typedData(kind, chainId, p.payload.permit2Authorization));
  return b64(p);
}

function mutate(header, f) {
  const p = unb64(header);
  f(p);
  return b64(p);
}

const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
function highS(sig) {
  const s = BigInt("0x" + sig.slice(66, 130));
  const v = parseInt(sig.slice(130, 132), 16);
  return `0x${sig.slice(2, 66)}${(N - s).toString(16).padStart(64, "0")}${(v === 27 ? 28 : 27).toString(16)}`;
}
function compact(sig) {
  const s = BigInt("0x" + sig.slice(66, 130));
  const v = parseInt(sig.slice(130, 132), 16);
  const vs = s | (BigInt(v - 27) << 255n);
  return `0x${sig.slice(2, 66)}${vs.toString(16).padStart(64, "0")}`;
}

const cases = [];
async function add(c) {
  const verifyTime = c.verifyTime ?? T0;
  clock = verifyTime;
  const payload = unb64(c.header);
  let reference;
  try {
    const r = await facilitators[c.requirements.scheme === "upto" ? "upto" : "exact"].verify(payload, c.requirements);
    reference = r.isValid ? { valid: true, payer: r.payer.toLowerCase() } : { valid: false, reason: r.invalidReason };
  } catch (e) {
    reference = { valid: false, threw: String(e.message ?? e).slice(0, 200) };
  }
  clock = T0;
  const digest = (() => {
    try {
      const a = payload.payload.permit2Authorization;
      return hashTypedData(typedData(payload.accepted.scheme, Number(payload.accepted.network.split(":")[1]), a));
    } catch {
      return null;
    }
  })();
  cases.push({
    name: c.name,
    source: c.source,
    requirements: c.requirements,
    header: c.header,
    verify_time: verifyTime,
    facilitators: [FACILITATOR.toLowerCase()],
    reference,
    ...(c.opg ? { opg: c.opg } : {}),
    permit2_digest: digest,
  });
}

for (const net of NETWORKS) {
  for (const kind of ["exact", "upto"]) {
    const req = requirements(kind, net);
    const src = `${PKG.core} x402Client + ${PKG.evm} ${kind === "exact" ? "ExactEvmScheme (assetTransferMethod permit2)" : "UptoEvmScheme"}.createPaymentPayload, ${PKG.core} encodePaymentSignatureHeader`;
    const tampered = `${src}, then mutated`;
    const resigned = `${src}, then changed and re-signed with ${PKG.viem} signTypedData (the reference's witness types)`;
    const h = await pay(kind, req);
    const p = unb64(h);
    const deadline = Number(p.payload.permit2Authorization.deadline);
    const tag = `${kind} permit2 eip155:${net.chainId}`;
    const add2 = (c) => add({ source: tampered, requirements: req, ...c, name: `${tag}: ${c.name}` });
    await add2({ name: "valid", source: src, header: h });
    await add2({ name: "valid at deadline - 6 (last second)", source: src, header: h, verifyTime: deadline - 6 });
    await add2({ name: "deadline - 5 is too late", source: src, header: h, verifyTime: deadline - 5 });
    await add2({ name: "header without base64 padding", source: src, header: h.replace(/=+$/, "") });
    const future = await resign(kind, h, (a) => { a.witness.validAfter = String(T0 + 30); a.nonce = String(BigInt(a.nonce) + 1n); });
    await add2({ name: "validAfter in the future", source: resigned, header: future });
    await add2({ name: "validAfter reached", source: resigned, header: future, verifyTime: T0 + 30 });
    await add2({ name: "payTo differs from witness.to", requirements: { ...req, payTo: OTHER }, header: h });
    await add2({ name: "requirements amount above the signed amount", requirements: { ...req, amount: "10001" }, header: h });
    await add2({ name: "requirements amount below the signed amount", requirements: { ...req, amount: "9999" }, header: h });
    await add2({ name: "requirements asset differs from permitted.token", requirements: { ...req, asset: OTHER }, header: h });
    await add2({ name: "spender is another contract (re-signed)", source: resigned, header: await resign(kind, h, (a) => { a.spender = OTHER; }) });
    await add2({ name: "spender is the other scheme's proxy (re-signed)", source: resigned,
      header: await resign(kind, h, (a) => { a.spender = kind === "exact" ? UPTO_PROXY : EXACT_PROXY; }) });
    await add2({ name: "spender changed after signing", header: mutate(h, (q) => { q.payload.permit2Authorization.spender = OTHER; }) });
    await add2({ name: "amount changed after signing (requirements follow)", requirements: { ...req, amount: "1000000" },
      header: mutate(h, (q) => { q.payload.permit2Authorization.permitted.amount = "1000000"; q.accepted.amount = "1000000"; }) });
    await add2({ name: "nonce changed after signing", header: mutate(h, (q) => { q.payload.permit2Authorization.nonce = "1"; }) });
    await add2({ name: "deadline changed after signing", header: mutate(h, (q) => { q.payload.permit2Authorization.deadline = String(deadline + 3600); }) });
    await add2({ name: "validAfter changed after signing", header: mutate(h, (q) => { q.payload.permit2Authorization.witness.validAfter = "1"; }) });
    await add2({ name: "from is someone else", header: mutate(h, (q) => { q.payload.permit2Authorization.from = OTHER; }) });
    await add2({ name: "signed by another key", source: resigned, header: await resign(kind, h, () => {}, stranger) });
    await add2({ name: "high-s twin", header: mutate(h, (q) => { q.payload.signature = highS(q.payload.signature); }) });
    await add2({ name: "signature with v = 0/1", header: mutate(h, (q) => { const s = q.payload.signature; q.payload.signature = s.slice(0, 130) + (parseInt(s.slice(130), 16) - 27).toString(16).padStart(2, "0"); }),
      opg: { valid: false, reason: "invalid_permit2_signature", why: "Permit2 passes v to ecrecover unchanged; v = 0/1 recovers address(0) and settle reverts (viem accepts it)" } });
    await add2({ name: "64-byte EIP-2098 signature", header: mutate(h, (q) => { q.payload.signature = compact(q.payload.signature); }),
      opg: { valid: true, payer: payer.address.toLowerCase(), why: "Permit2's SignatureVerification accepts 64-byte EIP-2098 signatures (the reference requires 65 bytes)" } });
    await add2({ name: "truncated signature", header: mutate(h, (q) => { q.payload.signature = q.payload.signature.slice(0, 66); }) });
    await add2({ name: "network mismatch", requirements: { ...req, network: "eip155:1" }, header: h });
    await add2({ name: "accepted scheme differs", header: mutate(h, (q) => { q.accepted.scheme = kind === "exact" ? "upto" : "exact"; }) });
    if (kind === "upto") {
      await add2({ name: "witness.facilitator is not the facilitator (re-signed)", source: resigned, header: await resign(kind, h, (a) => { a.witness.facilitator = OTHER_FACILITATOR; }) });
      await add2({ name: "witness.facilitator changed after signing", header: mutate(h, (q) => { q.payload.permit2Authorization.witness.facilitator = OTHER_FACILITATOR; }) });
      await add2({ name: "witness.facilitator missing", header: mutate(h, (q) => { delete q.payload.permit2Authorization.witness.facilitator; }) });
      await add2({ name: "witness.to changed after signing (requirements follow)", requirements: { ...req, payTo: OTHER },
        header: mutate(h, (q) => { q.payload.permit2Authorization.witness.to = OTHER; }) });
    } else {
      await add2({ name: "witness.to changed after signing (requirements follow)", requirements: { ...req, payTo: OTHER },
        header: mutate(h, (q) => { q.payload.permit2Authorization.witness.to = OTHER; }) });
      await add2({ name: "an upto-style witness.facilitator is not signed for exact", header: mutate(h, (q) => { q.payload.permit2Authorization.witness.facilitator = FACILITATOR; }) });
    }
  }
}

const file = {
  generator: "scripts/x402-fixtures/generate-permit2.mjs",
  packages: [PKG.core, PKG.evm, PKG.viem],
  payer_key_note: "payer = the well-known public anvil/hardhat test key #0 (0xf39F...2266); payTo = test account #1; facilitator = test account #4",
  created_at: T0,
  semantics: "reference = the @x402/evm facilitator's verify(payload, requirements) at verify_time with a stub chain client (asset deployed, payer an EOA, settle simulation passes). opg = opg's verdict where it differs on purpose (it follows the chain). permit2_digest = viem hashTypedData of the payload's authorization.",
  cases,
};
writeFileSync(out, JSON.stringify(file, null, 1).replace(/\n  +/g, " ").replace(/\n  \}/g, "}") + "\n");
console.log(`wrote ${cases.length} Permit2 cases to ${out}`);
