// Generates tests/fixtures/x402/*.json: real x402 `exact` EVM payments made by the reference
// clients, tampered variants with the verdict opg-core's `verify_payment` must give, and viem
// `hashTypedData` digests of opg's own EIP-712 types (an independent EIP-712 implementation).
//
//   cd scripts/x402-fixtures && npm ci && npm run generate
//
// Reference clients (versions pinned in package.json / package-lock.json):
//   * protocol v1: `x402` -> `createPaymentHeader` / `preparePaymentHeader` + `signPaymentHeader`
//     from `x402/client`;
//   * protocol v2: `@x402/core` `x402Client` with `@x402/evm`'s `ExactEvmScheme` client
//     (`createPaymentPayload`) and `encodePaymentSignatureHeader` from `@x402/core/http`;
//   * `viem` for the account, `hashTypedData`, `hashDomain`, `recoverTypedDataAddress`.
//
// Output is deterministic: the clock (`Date.now`) and the clients' nonce source
// (`crypto.getRandomValues`) are fixed below, and ECDSA signing is RFC 6979 deterministic, so a
// re-run reproduces the committed files byte for byte.
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { createPaymentHeader, preparePaymentHeader, signPaymentHeader } from "x402/client";
import { x402Client } from "@x402/core/client";
import { encodePaymentSignatureHeader } from "@x402/core/http";
import { ExactEvmScheme } from "@x402/evm/exact/client";
import { privateKeyToAccount } from "viem/accounts";
import { getAddress, hashDomain, hashTypedData, keccak256, recoverTypedDataAddress, toHex } from "viem";

const here = dirname(fileURLToPath(import.meta.url));
const outDir = join(here, "..", "..", "tests", "fixtures", "x402");
const version = (p) => JSON.parse(readFileSync(join(here, "node_modules", p, "package.json"), "utf8")).version;
const PKG = {
  x402: `x402@${version("x402")}`,
  core: `@x402/core@${version("@x402/core")}`,
  evm: `@x402/evm@${version("@x402/evm")}`,
  viem: `viem@${version("viem")}`,
};

// ---- determinism ----
// Unix seconds the payments are created at (2025-06-15T14:13:20Z) and verified at by default.
const T0 = 1_750_000_000;
Date.now = () => T0 * 1000;
let nonceCounter = 0;
Object.defineProperty(globalThis.crypto, "getRandomValues", {
  configurable: true,
  writable: true,
  // Nonce i is sha256("opg-x402-fixtures" || i): distinct per payment, reproducible.
  value: (arr) => {
    const h = createHash("sha256").update(`opg-x402-fixtures${nonceCounter++}`).digest();
    for (let i = 0; i < arr.length; i++) arr[i] = h[i % 32];
    return arr;
  },
});

// ---- keys ----
// The first well-known anvil/hardhat/viem test account (PUBLIC test key; never fund it):
// 0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80 -> 0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266
const PAYER_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
const payer = privateKeyToAccount(PAYER_KEY);
// The second well-known test account's address is the recipient; the third's is "someone else".
const PAY_TO = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const OTHER = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";

// ---- networks ----
const NETWORKS = [
  { v1: "base", chainId: 8453, asset: "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913", name: "USD Coin", version: "2" },
  { v1: "base-sepolia", chainId: 84532, asset: "0x036CbD53842c5426634e7929541eC2318f3dCF7e", name: "USDC", version: "2" },
  { v1: "avalanche-fuji", chainId: 43113, asset: "0x5425890298aed601595a70AB815c96711a31Bc65", name: "USD Coin", version: "2" },
];

const AMOUNT = "10000"; // 0.01 USDC (6 decimals)
const TIMEOUT = 60;

function requirementsV1(net, over = {}) {
  return {
    scheme: "exact",
    network: net.v1,
    maxAmountRequired: AMOUNT,
    resource: "https://node.example/v1/chat/completions",
    description: "one chat completion",
    mimeType: "application/json",
    payTo: PAY_TO,
    maxTimeoutSeconds: TIMEOUT,
    asset: net.asset,
    extra: { name: net.name, version: net.version },
    ...over,
  };
}

function requirementsV2(net, over = {}) {
  return {
    scheme: "exact",
    network: `eip155:${net.chainId}`,
    amount: AMOUNT,
    payTo: PAY_TO,
    maxTimeoutSeconds: TIMEOUT,
    asset: net.asset,
    extra: { name: net.name, version: net.version },
    ...over,
  };
}

const b64 = (obj) => Buffer.from(JSON.stringify(obj), "utf8").toString("base64");
const unb64 = (h) => JSON.parse(Buffer.from(h, "base64").toString("utf8"));

// v1: the package's own one-call client.
async function payV1(req) {
  return createPaymentHeader(payer, 1, req);
}

// v1 with the authorization changed before signing (still the package's signer).
async function payV1Mutated(req, mutate) {
  const unsigned = preparePaymentHeader(payer.address, 1, req);
  mutate(unsigned.payload.authorization);
  const signed = await signPaymentHeader(payer, req, unsigned);
  // signPaymentHeader returns the payload object in x402@1.x; encode as createPaymentHeader does.
  return typeof signed === "string" ? signed : b64(signed);
}

// v2: x402Client + ExactEvmScheme, encoded by @x402/core/http.
async function payV2(req, resource) {
  const client = new x402Client();
  client.register("eip155:*", new ExactEvmScheme(payer));
  client.setSpendControls?.(false);
  const payload = await client.createPaymentPayload({
    x402Version: 2,
    resource: resource ?? { url: "https://node.example/v1/chat/completions", description: "one chat completion", mimeType: "application/json" },
    accepts: [req],
  });
  return encodePaymentSignatureHeader(payload);
}

const TRANSFER_TYPES = {
  TransferWithAuthorization: [
    { name: "from", type: "address" },
    { name: "to", type: "address" },
    { name: "value", type: "uint256" },
    { name: "validAfter", type: "uint256" },
    { name: "validBefore", type: "uint256" },
    { name: "nonce", type: "bytes32" },
  ],
};

function tokenDomain(req, chainId) {
  return { name: req.extra.name, version: req.extra.version, chainId, verifyingContract: getAddress(req.asset) };
}

// v2 payloads whose authorization is not what ExactEvmScheme would produce (future validAfter):
// signed with viem's signTypedData exactly as ExactEvmScheme signs (same domain/types/message).
async function payV2Custom(req, auth) {
  const chainId = Number(req.network.split(":")[1]);
  const signature = await payer.signTypedData({
    domain: tokenDomain(req, chainId),
    types: TRANSFER_TYPES,
    primaryType: "TransferWithAuthorization",
    message: { ...auth, value: BigInt(auth.value), validAfter: BigInt(auth.validAfter), validBefore: BigInt(auth.validBefore) },
  });
  return encodePaymentSignatureHeader({
    x402Version: 2,
    payload: { authorization: auth, signature },
    resource: { url: "https://node.example/v1/chat/completions" },
    accepted: req,
  });
}

// viem's view of the signature (informational): does it recover `from` over the requirements'
// domain? (viem accepts high-s; opg rejects it.)
async function viemRecoversFrom(header, req) {
  try {
    const p = unb64(header);
    const chainId = p.x402Version === 1 ? NETWORKS.find((n) => n.v1 === p.network)?.chainId : Number(p.accepted?.network.split(":")[1]);
    const a = p.payload.authorization;
    const rec = await recoverTypedDataAddress({
      domain: tokenDomain(req, chainId),
      types: TRANSFER_TYPES,
      primaryType: "TransferWithAuthorization",
      message: { ...a, value: BigInt(a.value), validAfter: BigInt(a.validAfter), validBefore: BigInt(a.validBefore) },
      signature: p.payload.signature,
    });
    return rec.toLowerCase() === a.from.toLowerCase();
  } catch {
    return false;
  }
}

const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
function highS(sig) {
  const r = sig.slice(2, 66);
  const s = BigInt("0x" + sig.slice(66, 130));
  const v = parseInt(sig.slice(130, 132), 16);
  const s2 = (N - s).toString(16).padStart(64, "0");
  const v2 = (v === 27 ? 28 : 27).toString(16);
  return `0x${r}${s2}${v2}`;
}

function mutateHeader(header, f) {
  const p = unb64(header);
  f(p);
  return b64(p);
}

const cases = [];
async function add(c) {
  const viem = await viemRecoversFrom(c.header, c.requirements).catch(() => false);
  cases.push({
    name: c.name,
    source: c.source,
    x402_version: c.version,
    requirements: c.requirements,
    header: c.header,
    verify_time: c.verifyTime ?? T0,
    expected: c.reason ? { valid: false, reason: c.reason } : { valid: true, payer: payer.address.toLowerCase() },
    viem_recovers_from: viem,
  });
}

for (const net of NETWORKS) {
  // ---------------- v1 ----------------
  {
    const req = requirementsV1(net);
    const src = `${PKG.x402} createPaymentHeader`;
    const h = await payV1(req);
    const p = unb64(h);
    const va = Number(p.payload.authorization.validAfter);
    const vb = Number(p.payload.authorization.validBefore);
    const tag = `v1 ${net.v1}`;
    await add({ name: `${tag}: valid`, source: src, version: 1, requirements: req, header: h });
    await add({ name: `${tag}: valid, header without base64 padding`, source: src, version: 1, requirements: req, header: h.replace(/=+$/, "") });
    await add({ name: `${tag}: valid at validBefore - 6 (last second)`, source: src, version: 1, requirements: req, header: h, verifyTime: vb - 6 });
    await add({ name: `${tag}: validBefore - 5 is too late`, source: src, version: 1, requirements: req, header: h, verifyTime: vb - 5, reason: "invalid_exact_evm_payload_authorization_valid_before" });
    await add({ name: `${tag}: valid at validAfter`, source: src, version: 1, requirements: req, header: h, verifyTime: va });
    await add({ name: `${tag}: before validAfter`, source: src, version: 1, requirements: req, header: h, verifyTime: va - 1, reason: "invalid_exact_evm_payload_authorization_valid_after" });
    await add({ name: `${tag}: maxAmountRequired above the value`, source: src, version: 1, requirements: { ...req, maxAmountRequired: "10001" }, header: h, reason: "invalid_exact_evm_payload_authorization_value" });
    await add({ name: `${tag}: maxAmountRequired below the value is fine`, source: src, version: 1, requirements: { ...req, maxAmountRequired: "9999" }, header: h });
    await add({ name: `${tag}: value changed after signing`, source: `${src}, then mutated`, version: 1, requirements: req,
      header: mutateHeader(h, (q) => { q.payload.authorization.value = "1000000"; }), reason: "invalid_exact_evm_payload_signature" });
    await add({ name: `${tag}: to changed after signing`, source: `${src}, then mutated`, version: 1, requirements: { ...req, payTo: OTHER },
      header: mutateHeader(h, (q) => { q.payload.authorization.to = OTHER; }), reason: "invalid_exact_evm_payload_signature" });
    await add({ name: `${tag}: signed to someone else`, source: `${PKG.x402} createPaymentHeader (payTo OTHER)`, version: 1, requirements: req,
      header: await payV1(requirementsV1(net, { payTo: OTHER })), reason: "invalid_exact_evm_payload_recipient_mismatch" });
    await add({ name: `${tag}: wrong domain name`, source: src, version: 1, requirements: { ...req, extra: { ...req.extra, name: net.name === "USDC" ? "USD Coin" : "USDC" } }, header: h, reason: "invalid_exact_evm_payload_signature" });
    await add({ name: `${tag}: wrong domain version`, source: src, version: 1, requirements: { ...req, extra: { ...req.extra, version: "1" } }, header: h, reason: "invalid_exact_evm_payload_signature" });
    await add({ name: `${tag}: wrong verifying contract`, source: src, version: 1, requirements: { ...req, asset: OTHER }, header: h, reason: "invalid_exact_evm_payload_signature" });
    await add({ name: `${tag}: missing extra`, source: src, version: 1, requirements: { ...req, extra: undefined }, header: h, reason: "invalid_payment_requirements" });
    await add({ name: `${tag}: requirements on another network`, source: src, version: 1, requirements: { ...req, network: net.v1 === "base" ? "base-sepolia" : "base" }, header: h, reason: "invalid_network" });
    const other = NETWORKS.find((n) => n !== net);
    await add({ name: `${tag}: cross-chain replay (same token domain, network ${other.v1})`, source: `${src}, then mutated`, version: 1,
      requirements: { ...req, network: other.v1 }, header: mutateHeader(h, (q) => { q.network = other.v1; }), reason: "invalid_exact_evm_payload_signature" });
    await add({ name: `${tag}: unknown network`, source: `${src}, then mutated`, version: 1, requirements: { ...req, network: "solana" },
      header: mutateHeader(h, (q) => { q.network = "solana"; }), reason: "invalid_network" });
    await add({ name: `${tag}: v2 network id in a v1 payload`, source: `${src}, then mutated`, version: 1, requirements: { ...req, network: `eip155:${net.chainId}` },
      header: mutateHeader(h, (q) => { q.network = `eip155:${net.chainId}`; }), reason: "invalid_network" });
    await add({ name: `${tag}: high-s twin (s' = n - s, v flipped)`, source: `${src}, then mutated`, version: 1, requirements: req,
      header: mutateHeader(h, (q) => { q.payload.signature = highS(q.payload.signature); }), reason: "invalid_exact_evm_payload_signature" });
    await add({ name: `${tag}: truncated signature`, source: `${src}, then mutated`, version: 1, requirements: req,
      header: mutateHeader(h, (q) => { q.payload.signature = q.payload.signature.slice(0, -2); }), reason: "invalid_exact_evm_payload_signature" });
    await add({ name: `${tag}: non-hex signature`, source: `${src}, then mutated`, version: 1, requirements: req,
      header: mutateHeader(h, (q) => { q.payload.signature = "0x" + "zz" + q.payload.signature.slice(4); }), reason: "invalid_exact_evm_payload_signature" });
    await add({ name: `${tag}: x402Version 3`, source: `${src}, then mutated`, version: 3, requirements: req,
      header: mutateHeader(h, (q) => { q.x402Version = 3; }), reason: "invalid_x402_version" });
    await add({ name: `${tag}: scheme upto in payload`, source: `${src}, then mutated`, version: 1, requirements: req,
      header: mutateHeader(h, (q) => { q.scheme = "upto"; }), reason: "invalid_scheme" });
    await add({ name: `${tag}: scheme upto in requirements`, source: src, version: 1, requirements: { ...req, scheme: "upto" }, header: h, reason: "invalid_scheme" });
    await add({ name: `${tag}: value above 128 bits`, source: `${src}, then mutated`, version: 1, requirements: req,
      header: mutateHeader(h, (q) => { q.payload.authorization.value = (2n ** 128n).toString(); }), reason: "invalid_payload" });
    await add({ name: `${tag}: short nonce`, source: `${src}, then mutated`, version: 1, requirements: req,
      header: mutateHeader(h, (q) => { q.payload.authorization.nonce = q.payload.authorization.nonce.slice(0, -2); }), reason: "invalid_payload" });
    await add({ name: `${tag}: not base64`, source: "hand-written", version: 1, requirements: req, header: "!!not-base64!!", reason: "invalid_payload" });
    const future = await payV1Mutated(req, (a) => { a.validAfter = String(T0 + 30); });
    await add({ name: `${tag}: validAfter in the future`, source: `${PKG.x402} preparePaymentHeader (validAfter = T0 + 30) + signPaymentHeader`, version: 1, requirements: req,
      header: future, reason: "invalid_exact_evm_payload_authorization_valid_after" });
    await add({ name: `${tag}: validAfter reached`, source: `${PKG.x402} preparePaymentHeader (validAfter = T0 + 30) + signPaymentHeader`, version: 1, requirements: req,
      header: future, verifyTime: T0 + 30 });
  }

  // ---------------- v2 ----------------
  {
    const req = requirementsV2(net);
    const src = `${PKG.core} x402Client + ${PKG.evm} ExactEvmScheme.createPaymentPayload, ${PKG.core} encodePaymentSignatureHeader`;
    const h = await payV2(req);
    const p = unb64(h);
    const vb = Number(p.payload.authorization.validBefore);
    const tag = `v2 eip155:${net.chainId}`;
    await add({ name: `${tag}: valid`, source: src, version: 2, requirements: req, header: h });
    await add({ name: `${tag}: valid at validBefore - 6`, source: src, version: 2, requirements: req, header: h, verifyTime: vb - 6 });
    await add({ name: `${tag}: validBefore - 5 is too late`, source: src, version: 2, requirements: req, header: h, verifyTime: vb - 5, reason: "invalid_exact_evm_payload_authorization_valid_before" });
    await add({ name: `${tag}: amount differs (higher)`, source: src, version: 2, requirements: { ...req, amount: "10001" }, header: h, reason: "invalid_exact_evm_payload_authorization_value_mismatch" });
    await add({ name: `${tag}: amount differs (lower)`, source: src, version: 2, requirements: { ...req, amount: "9999" }, header: h, reason: "invalid_exact_evm_payload_authorization_value_mismatch" });
    await add({ name: `${tag}: value changed after signing`, source: `${src}, then mutated`, version: 2, requirements: { ...req, amount: "1" },
      header: mutateHeader(h, (q) => { q.payload.authorization.value = "1"; q.accepted.amount = "1"; }), reason: "invalid_exact_evm_payload_signature" });
    await add({ name: `${tag}: signed to someone else`, source: `${src} (payTo OTHER)`, version: 2, requirements: req,
      header: await payV2(requirementsV2(net, { payTo: OTHER })), reason: "invalid_exact_evm_payload_recipient_mismatch" });
    await add({ name: `${tag}: wrong domain name`, source: src, version: 2, requirements: { ...req, extra: { ...req.extra, name: net.name === "USDC" ? "USD Coin" : "USDC" } }, header: h, reason: "invalid_exact_evm_payload_signature" });
    await add({ name: `${tag}: wrong verifying contract`, source: src, version: 2, requirements: { ...req, asset: OTHER }, header: h, reason: "invalid_exact_evm_payload_signature" });
    await add({ name: `${tag}: missing extra.version`, source: src, version: 2, requirements: { ...req, extra: { name: net.name } }, header: h, reason: "invalid_payment_requirements" });
    const other = NETWORKS.find((n) => n !== net);
    await add({ name: `${tag}: accepted network differs from requirements`, source: src, version: 2, requirements: { ...req, network: `eip155:${other.chainId}` }, header: h, reason: "invalid_network" });
    await add({ name: `${tag}: cross-chain replay (eip155:${other.chainId}, same token domain)`, source: `${src}, then mutated`, version: 2,
      requirements: { ...req, network: `eip155:${other.chainId}` }, header: mutateHeader(h, (q) => { q.accepted.network = `eip155:${other.chainId}`; }), reason: "invalid_exact_evm_payload_signature" });
    await add({ name: `${tag}: v1 network name in a v2 payload`, source: `${src}, then mutated`, version: 2, requirements: { ...req, network: net.v1 },
      header: mutateHeader(h, (q) => { q.accepted.network = net.v1; }), reason: "invalid_network" });
    await add({ name: `${tag}: accepted missing`, source: `${src}, then mutated`, version: 2, requirements: req,
      header: mutateHeader(h, (q) => { delete q.accepted; }), reason: "invalid_payload" });
    await add({ name: `${tag}: accepted scheme upto`, source: `${src}, then mutated`, version: 2, requirements: req,
      header: mutateHeader(h, (q) => { q.accepted.scheme = "upto"; }), reason: "invalid_scheme" });
    await add({ name: `${tag}: x402Version 0`, source: `${src}, then mutated`, version: 0, requirements: req,
      header: mutateHeader(h, (q) => { q.x402Version = 0; }), reason: "invalid_x402_version" });
    await add({ name: `${tag}: high-s twin`, source: `${src}, then mutated`, version: 2, requirements: req,
      header: mutateHeader(h, (q) => { q.payload.signature = highS(q.payload.signature); }), reason: "invalid_exact_evm_payload_signature" });
    // viem recovers with v = 0/1; USDC's EIP-3009 recovery (FiatToken `ECRecover.recover`) requires v = 27/28.
    await add({ name: `${tag}: signature with v = 0/1`, source: `${src}, then mutated (v - 27)`, version: 2, requirements: req,
      header: mutateHeader(h, (q) => { const s = q.payload.signature; q.payload.signature = s.slice(0, 130) + (parseInt(s.slice(130), 16) - 27).toString(16).padStart(2, "0"); }), reason: "invalid_exact_evm_payload_signature" });
    await add({ name: `${tag}: truncated signature`, source: `${src}, then mutated`, version: 2, requirements: req,
      header: mutateHeader(h, (q) => { q.payload.signature = q.payload.signature.slice(0, 66); }), reason: "invalid_exact_evm_payload_signature" });
    const auth = { ...p.payload.authorization, validAfter: String(T0 + 30), nonce: keccak256(toHex(`future-${net.chainId}`)) };
    const future = await payV2Custom(req, auth);
    await add({ name: `${tag}: validAfter in the future`, source: `${PKG.viem} signTypedData as ExactEvmScheme signs, ${PKG.core} encodePaymentSignatureHeader`, version: 2, requirements: req,
      header: future, reason: "invalid_exact_evm_payload_authorization_valid_after" });
    await add({ name: `${tag}: validAfter reached`, source: `${PKG.viem} signTypedData as ExactEvmScheme signs, ${PKG.core} encodePaymentSignatureHeader`, version: 2, requirements: req,
      header: future, verifyTime: T0 + 30 });
  }
}

// ---------------- opg's own EIP-712 types, hashed by viem ----------------
const sha256hex = (s) => "0x" + createHash("sha256").update(s, "utf8").digest("hex");
const CHAIN = "opg-testnet-1";
const VERIFIER = "wasm14hj2tavq8fpesdwxxcu44rty3hh90vhujrvcmstl4zr3txmfvw9s4hmalr";
const REGISTRY = "wasm1nc5tatafv6eyq7llkr2gv50ff9e22mnf70qgjlv737ktmt4eswrqr5j2ht";
const verifierDomain = { name: "opg-receipt-verifier", version: "1", salt: sha256hex(CHAIN + VERIFIER) };
const registryDomain = { name: "opg-node-registry", version: "1", salt: sha256hex(CHAIN + REGISTRY) };
const TYPES = {
  InferenceReceipt: [
    { name: "payer", type: "address" }, { name: "paymentNonce", type: "bytes32" }, { name: "value", type: "uint256" },
    { name: "asset", type: "address" }, { name: "chainId", type: "uint256" }, { name: "nodeId", type: "string" },
    { name: "modelId", type: "string" }, { name: "requestDigest", type: "bytes32" }, { name: "responseDigest", type: "bytes32" },
    { name: "promptTokens", type: "uint64" }, { name: "completionTokens", type: "uint64" }, { name: "servedAt", type: "uint64" },
  ],
  Settlement: [
    { name: "paymentDigest", type: "bytes32" }, { name: "chainId", type: "uint256" }, { name: "txHash", type: "bytes32" },
    { name: "payer", type: "address" }, { name: "value", type: "uint256" },
  ],
  HardwareAttestation: [
    { name: "operator", type: "string" }, { name: "nodeKeyHash", type: "bytes32" }, { name: "hardwareClass", type: "string" },
    { name: "evidenceDigest", type: "bytes32" }, { name: "expiresAt", type: "uint64" },
  ],
  Heartbeat: [{ name: "nodeId", type: "string" }, { name: "epoch", type: "uint64" }, { name: "timestamp", type: "uint64" }],
};
const only = (t) => ({ [t]: TYPES[t] });
const receiptMsg = {
  payer: payer.address, paymentNonce: sha256hex("nonce"), value: 123456789n, asset: NETWORKS[0].asset, chainId: 8453n,
  nodeId: "local-node-1", modelId: "meta-llama/Llama-3.1-8B-Instruct", requestDigest: sha256hex("request"),
  responseDigest: sha256hex("response"), promptTokens: 1200n, completionTokens: 345n, servedAt: BigInt(T0),
};
const ed25519Key = sha256hex("an ed25519 public key");
const digests = {
  comment: `EIP-712 digests of opg's types computed by ${PKG.viem} hashTypedData/hashDomain (salt = sha256(chain_id || contract) by node:crypto). Independent check of opg-core's eip712.rs.`,
  chain_id: CHAIN,
  verifier: VERIFIER,
  registry: REGISTRY,
  verifier_domain_separator: hashDomain({ domain: verifierDomain, types: { EIP712Domain: [{ name: "name", type: "string" }, { name: "version", type: "string" }, { name: "salt", type: "bytes32" }] } }),
  registry_domain_separator: hashDomain({ domain: registryDomain, types: { EIP712Domain: [{ name: "name", type: "string" }, { name: "version", type: "string" }, { name: "salt", type: "bytes32" }] } }),
  token_domains: NETWORKS.map((n) => ({
    name: n.name, version: n.version, chain_id: n.chainId, verifying_contract: n.asset,
    separator: hashDomain({ domain: { name: n.name, version: n.version, chainId: n.chainId, verifyingContract: n.asset },
      types: { EIP712Domain: [{ name: "name", type: "string" }, { name: "version", type: "string" }, { name: "chainId", type: "uint256" }, { name: "verifyingContract", type: "address" }] } }),
  })),
  transfer_with_authorization: {
    network_index: 0,
    message: { from: payer.address, to: PAY_TO, value: "10000", validAfter: "1749999400", validBefore: "1750000060", nonce: sha256hex("eip3009 nonce") },
    digest: hashTypedData({ domain: { name: NETWORKS[0].name, version: "2", chainId: 8453, verifyingContract: NETWORKS[0].asset }, types: TRANSFER_TYPES, primaryType: "TransferWithAuthorization",
      message: { from: payer.address, to: PAY_TO, value: 10000n, validAfter: 1749999400n, validBefore: 1750000060n, nonce: sha256hex("eip3009 nonce") } }),
  },
  inference_receipt: {
    message: { ...receiptMsg, value: "123456789", chainId: 8453, promptTokens: 1200, completionTokens: 345, servedAt: T0 },
    digest: hashTypedData({ domain: verifierDomain, types: only("InferenceReceipt"), primaryType: "InferenceReceipt", message: receiptMsg }),
  },
  settlement: {
    message: { paymentDigest: sha256hex("payment digest"), chainId: 84532, txHash: sha256hex("tx"), payer: payer.address, value: "10000" },
    digest: hashTypedData({ domain: verifierDomain, types: only("Settlement"), primaryType: "Settlement",
      message: { paymentDigest: sha256hex("payment digest"), chainId: 84532n, txHash: sha256hex("tx"), payer: payer.address, value: 10000n } }),
  },
  hardware_attestation_secp256k1: {
    operator: "wasm1operatoraddress", node_key_address: PAY_TO, hardware_class: "rtx4090", evidence_digest: sha256hex("evidence"), expires_at: T0 + 86400,
    digest: hashTypedData({ domain: registryDomain, types: only("HardwareAttestation"), primaryType: "HardwareAttestation",
      message: { operator: "wasm1operatoraddress", nodeKeyHash: keccak256(PAY_TO.toLowerCase()), hardwareClass: "rtx4090", evidenceDigest: sha256hex("evidence"), expiresAt: BigInt(T0 + 86400) } }),
  },
  hardware_attestation_ed25519: {
    operator: "wasm1operatoraddress", node_key_ed25519: ed25519Key, hardware_class: "h100", evidence_digest: sha256hex("evidence 2"), expires_at: T0 + 86400,
    digest: hashTypedData({ domain: registryDomain, types: only("HardwareAttestation"), primaryType: "HardwareAttestation",
      message: { operator: "wasm1operatoraddress", nodeKeyHash: keccak256(ed25519Key), hardwareClass: "h100", evidenceDigest: sha256hex("evidence 2"), expiresAt: BigInt(T0 + 86400) } }),
  },
  heartbeat: {
    message: { nodeId: "local-node-1", epoch: 42, timestamp: T0 },
    digest: hashTypedData({ domain: verifierDomain, types: only("Heartbeat"), primaryType: "Heartbeat", message: { nodeId: "local-node-1", epoch: 42n, timestamp: BigInt(T0) } }),
  },
};

mkdirSync(outDir, { recursive: true });
const meta = {
  generator: "scripts/x402-fixtures/generate.mjs",
  packages: Object.values(PKG),
  payer_key_note: "payer = the well-known public anvil/hardhat test key #0 (0xf39F...2266); payTo = test account #1",
  created_at: T0,
  semantics: "expected = opg-core verify_payment(payload, requirements, verify_time, margin 6). viem_recovers_from: viem's recoverTypedDataAddress gives `from` over the requirements' domain (informational; viem accepts high-s, opg does not).",
};
// Metadata pretty-printed, one case per line: small files and readable diffs.
const writeCases = (file, list) => {
  const head = JSON.stringify(meta, null, 1).slice(0, -2);
  const body = list.map((c) => "  " + JSON.stringify(c)).join(",\n");
  writeFileSync(join(outDir, file), `${head},\n "cases": [\n${body}\n ]\n}\n`);
};
writeCases("payments-v1.json", cases.filter((c) => c.name.startsWith("v1")));
writeCases("payments-v2.json", cases.filter((c) => c.name.startsWith("v2")));
writeFileSync(join(outDir, "eip712-digests.json"), JSON.stringify(digests, null, 1) + "\n");
console.log(`wrote ${cases.length} payment cases and the EIP-712 digests to ${outDir}`);
