// Drives a real wasmd chain (scripts/localnet.sh) with CosmJS, unchanged: connect, getAccount,
// getBalance, queryContractSmart, simulate, execute with fee "auto", getTx.
// Usage: node test.mjs <rpc-url> <mnemonic> <reward-pool-contract>
// Exits 0 and prints "cosmjs: ok" on success; any failure throws (exit 1).
import { SigningCosmWasmClient } from "@cosmjs/cosmwasm-stargate";
import { DirectSecp256k1HdWallet } from "@cosmjs/proto-signing";
// GasPrice must come from the @cosmjs/stargate that cosmwasm-stargate itself uses (0.38.1 here).
import { GasPrice } from "@cosmjs/stargate";

function check(cond, what) {
  if (!cond) throw new Error(`check failed: ${what}`);
}

const [rpc, mnemonic, pool] = process.argv.slice(2);
if (!rpc || !mnemonic || !pool) {
  console.error("usage: node test.mjs <rpc-url> <mnemonic> <reward-pool-contract>");
  process.exit(2);
}

const wallet = await DirectSecp256k1HdWallet.fromMnemonic(mnemonic, { prefix: "wasm" });
const [{ address }] = await wallet.getAccounts();
const client = await SigningCosmWasmClient.connectWithSigner(rpc, wallet, {
  gasPrice: GasPrice.fromString("0.025uopg"),
});

const chainId = await client.getChainId();
check(chainId.length > 0, "chain id");
const height = await client.getHeight();
check(height > 0, "height");

const account = await client.getAccount(address);
check(account !== null && account.address === address, `account ${address}`);
const seq0 = account.sequence;

const before = await client.getBalance(address, "uopg");
check(BigInt(before.amount) > 0n, "funded balance");
const poolBefore = await client.getBalance(pool, "uopg");

const config = await client.queryContractSmart(pool, { config: {} });
check(config.denom === "uopg", `pool config denom ${JSON.stringify(config)}`);

const fundMsg = {
  typeUrl: "/cosmwasm.wasm.v1.MsgExecuteContract",
  value: {
    sender: address,
    contract: pool,
    msg: new TextEncoder().encode(JSON.stringify({ fund: {} })),
    funds: [{ denom: "uopg", amount: "4321" }],
  },
};
const simulated = await client.simulate(address, [fundMsg], "");
check(simulated > 0, `simulated gas ${simulated}`);

const res = await client.execute(address, pool, { fund: {} }, "auto", "cosmjs test", [
  { denom: "uopg", amount: "4321" },
]);
check(res.transactionHash.length === 64, "tx hash");
check(res.height > height, "included in a later block");
check(res.gasUsed > 0n && res.gasWanted >= res.gasUsed, `gas ${res.gasUsed}/${res.gasWanted}`);

const tx = await client.getTx(res.transactionHash);
check(tx !== null && tx.code === 0, `getTx ${JSON.stringify(tx && tx.code)}`);
check(tx.height === res.height, "getTx height");
check(
  tx.msgResponses.length === 1 && tx.msgResponses[0].typeUrl === "/cosmwasm.wasm.v1.MsgExecuteContractResponse",
  "msg responses",
);

const poolAfter = await client.getBalance(pool, "uopg");
check(BigInt(poolAfter.amount) === BigInt(poolBefore.amount) + 4321n, "pool funded");
const after = await client.getAccount(address);
check(after.sequence === seq0 + 1, `sequence ${after.sequence}`);
check(after.pubkey !== null, "pubkey recorded");

// a contract refusal surfaces as an error with the contract's message
let refused = false;
try {
  await client.execute(address, pool, { fund: {} }, "auto");
} catch (e) {
  refused = true;
}
check(refused, "Fund without funds is refused");

client.disconnect();
console.log("cosmjs: ok");
