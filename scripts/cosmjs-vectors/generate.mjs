// Writes SIGN_MODE_DIRECT signing vectors produced by CosmJS, for keeper/tests/cosmos_sign.rs.
//
//   cd scripts/cosmjs-vectors && npm ci && npm run generate
//
// Each vector: key material (mnemonic, HD path, bech32 prefix), signer data (chain id, account
// number, sequence), messages, fee, memo, timeout height, and the TxRaw CosmJS's
// SigningCosmWasmClient.sign() produced with a DirectSecp256k1HdWallet (RFC 6979, low-s).
// The Rust test rebuilds each tx from the same inputs and must produce the same bytes.
import { writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { DirectSecp256k1HdWallet } from "@cosmjs/proto-signing";
import { SigningCosmWasmClient } from "@cosmjs/cosmwasm-stargate";
import { GasPrice, calculateFee } from "@cosmjs/stargate";
import { stringToPath, sha256 } from "@cosmjs/crypto";
import { toBech32, toBase64, toUtf8 } from "@cosmjs/encoding";
import { TxRaw } from "cosmjs-types/cosmos/tx/v1beta1/tx.js";

const outDir = process.argv[2] ?? "../../keeper/tests/fixtures/cosmjs";

const MNEMONIC_12 =
  "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
const MNEMONIC_24 =
  "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon " +
  "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon art";
const MNEMONIC_DEV =
  "notice oak worry limit wrap speak medal online prefer cluster roof addict wrist behave treat actual wasp year salad speed social layer crew genius";

const contract = (prefix, seed) => toBech32(prefix, sha256(toUtf8(seed)));

// A message as the vector file describes it -> a CosmJS EncodeObject.
function encodeObject(sender, m) {
  switch (m.type) {
    case "execute":
      return {
        typeUrl: "/cosmwasm.wasm.v1.MsgExecuteContract",
        value: { sender, contract: m.contract, msg: toUtf8(m.msg), funds: m.funds },
      };
    case "store_code":
      return {
        typeUrl: "/cosmwasm.wasm.v1.MsgStoreCode",
        value: { sender, wasmByteCode: Buffer.from(m.wasm_base64, "base64") },
      };
    case "instantiate":
      return {
        typeUrl: "/cosmwasm.wasm.v1.MsgInstantiateContract",
        value: {
          sender,
          admin: m.admin ?? "",
          codeId: BigInt(m.code_id),
          label: m.label,
          msg: toUtf8(m.msg),
          funds: m.funds,
        },
      };
    case "migrate":
      return {
        typeUrl: "/cosmwasm.wasm.v1.MsgMigrateContract",
        value: { sender, contract: m.contract, codeId: BigInt(m.code_id), msg: toUtf8(m.msg) },
      };
    default:
      throw new Error(`unknown message type ${m.type}`);
  }
}

const cases = [
  {
    name: "execute_minimal_12_words",
    mnemonic: MNEMONIC_12,
    hd_path: "m/44'/118'/0'/0/0",
    prefix: "wasm",
    chain_id: "opg-devnet-1",
    account_number: 0,
    sequence: 0,
    fee: { amount: [{ denom: "ustake", amount: "5000" }], gas: "200000" },
    memo: "",
    timeout_height: "0",
    msgs: (p) => [
      { type: "execute", contract: contract(p, "verifier"), msg: '{"finalize_epoch":{"epoch":3}}', funds: [] },
    ],
  },
  {
    name: "execute_exact_json_text_funds_memo_timeout",
    mnemonic: MNEMONIC_24,
    hd_path: "m/44'/118'/0'/0/0",
    prefix: "wasm",
    chain_id: "testing",
    account_number: 12,
    sequence: 7,
    // fee from gas x gas price, as CosmJS computes it (ceil)
    fee: (() => {
      const f = calculateFee(345678, GasPrice.fromString("0.025ustake"));
      return { amount: f.amount, gas: f.gas };
    })(),
    memo: "opg keeper batch 42 — ünïcode",
    timeout_height: "123456",
    msgs: (p) => [
      {
        type: "execute",
        contract: contract(p, "registry"),
        // whitespace, key order and escapes must survive byte for byte
        msg: '{ "register_node" : {"node_id":"n-1", "kind":"proxy","note":"a\\"b\\u00e9"} }',
        funds: [{ denom: "uopg", amount: "1000000" }],
      },
      {
        type: "execute",
        contract: contract(p, "pool"),
        msg: '{"claim":{}}',
        funds: [
          { denom: "uatom", amount: "1" },
          { denom: "uopg", amount: "340282366920938463463374607431768211455" },
        ],
      },
    ],
  },
  {
    name: "deploy_store_instantiate_migrate_other_path_and_prefix",
    mnemonic: MNEMONIC_DEV,
    hd_path: "m/44'/118'/0'/0/3",
    prefix: "cosmos",
    chain_id: "cosmoshub-4",
    account_number: 987654321,
    sequence: 4294967296,
    fee: { amount: [], gas: "5000000" },
    memo: "deploy",
    timeout_height: "0",
    msgs: (p) => [
      { type: "store_code", wasm_base64: Buffer.from("\0asm\x01\0\0\0 opg test module").toString("base64") },
      {
        type: "instantiate",
        admin: contract(p, "admin"),
        code_id: "17",
        label: "opg node-registry",
        msg: '{"governance":"gov","min_bond":"1000000"}',
        funds: [],
      },
      { type: "instantiate", code_id: "18", label: "no admin", msg: "{}", funds: [{ denom: "ustake", amount: "10" }] },
      { type: "migrate", contract: contract(p, "registry"), code_id: "19", msg: '{"version":"0.2.0"}' },
    ],
  },
  {
    name: "execute_high_account_gas_price_fee",
    mnemonic: MNEMONIC_12,
    hd_path: "m/44'/118'/0'/0/1",
    prefix: "osmo",
    chain_id: "osmo-test-5",
    account_number: 4242,
    sequence: 1,
    fee: (() => {
      const f = calculateFee(1234567, GasPrice.fromString("0.0025uosmo"));
      return { amount: f.amount, gas: f.gas };
    })(),
    memo: "",
    timeout_height: "18446744073709551615",
    msgs: (p) => [
      {
        type: "execute",
        contract: contract(p, "verifier"),
        msg: '{"submit_receipts":{"receipts":[],"heartbeats":[]}}',
        funds: [],
      },
    ],
  },
];

const vectors = [];
for (const c of cases) {
  const wallet = await DirectSecp256k1HdWallet.fromMnemonic(c.mnemonic, {
    hdPaths: [stringToPath(c.hd_path)],
    prefix: c.prefix,
  });
  const [account] = await wallet.getAccounts();
  const client = await SigningCosmWasmClient.offline(wallet);
  const msgs = c.msgs(c.prefix);
  const txRaw = await client.sign(
    account.address,
    msgs.map((m) => encodeObject(account.address, m)),
    c.fee,
    c.memo,
    { accountNumber: c.account_number, sequence: c.sequence, chainId: c.chain_id },
    BigInt(c.timeout_height),
  );
  vectors.push({
    name: c.name,
    mnemonic: c.mnemonic,
    hd_path: c.hd_path,
    prefix: c.prefix,
    address: account.address,
    pubkey_base64: toBase64(account.pubkey),
    chain_id: c.chain_id,
    account_number: c.account_number,
    sequence: c.sequence,
    msgs,
    fee: c.fee,
    memo: c.memo,
    timeout_height: String(c.timeout_height),
    body_bytes_base64: toBase64(txRaw.bodyBytes),
    auth_info_bytes_base64: toBase64(txRaw.authInfoBytes),
    signature_base64: toBase64(txRaw.signatures[0]),
    tx_raw_base64: toBase64(TxRaw.encode(txRaw).finish()),
  });
}

mkdirSync(outDir, { recursive: true });
const out = join(outDir, "sign_vectors.json");
writeFileSync(
  out,
  JSON.stringify(
    {
      generator: "scripts/cosmjs-vectors/generate.mjs",
      cosmjs: "@cosmjs/cosmwasm-stargate 0.39.0 (SigningCosmWasmClient.offline + sign), @cosmjs/proto-signing 0.38.1 DirectSecp256k1HdWallet",
      vectors,
    },
    null,
    2,
  ) + "\n",
);
console.log(`wrote ${vectors.length} vectors to ${out}`);
