//! Shared fixtures of the opg fuzz targets (see `fuzz/README.md`).
//!
//! * [`world`]: one fixed deployment (epoch clock, accepted network, facilitator, a proxy node and a
//!   local node) whose verifier domain is the one `mock_env()` gives the verifier contract, so the
//!   same signed receipt is valid for the verification core and for the contract.
//! * [`steps`]: the input format of the `contract_execute_*` targets.
//! * [`run_steps`]: executes steps against a contract in `mock_dependencies`, rolling state back on
//!   error as the chain does, and checks an invariant after every step.
use std::collections::BTreeMap;
use std::sync::OnceLock;

use cosmwasm_std::testing::{message_info, mock_env, MockApi, MockQuerier, MockStorage};
use cosmwasm_std::{
    Addr, Binary, Coin, ContractResult, DepsMut, Env, MessageInfo, Order, OwnedDeps, Response,
    Storage, SystemError, SystemResult, Timestamp, Uint128,
};
use opg_core::eip712::{registry_domain_separator, verifier_domain_separator};
use opg_core::epoch::EpochClock;
use opg_core::msg::registry::NodeInfo;
use opg_core::receipt::{InferenceReceipt, SignedReceipt};
use opg_core::sign::{make_signed_receipt, sign_attestation, EvmSigner, NodeSigner, PaymentParams};
use opg_core::types::{AssetConfig, NetworkConfig, NodeKindTag, NodeStatus, Provenance};
use opg_core::verify::{RegistryView, VerifierPolicy};
use opg_core::x402::PaymentRequirements;
use serde::de::DeserializeOwned;

pub use serde;

/// Key-derivation seed of every signer of the fuzz world.
pub const SEED: &[u8] = b"opg fuzz world";
/// Epoch 0 starts here (unix seconds).
pub const GENESIS: u64 = 1_700_000_000;
/// Epoch length (seconds).
pub const EPOCH: u64 = 3_600;
/// Grace after an epoch's end (seconds).
pub const GRACE: u64 = 600;
/// `served_at` of the valid receipts: the middle of epoch 0.
pub const SERVED_AT: u64 = GENESIS + 1_800;
/// Verification time of the valid receipts (and block time of the contract targets before any
/// time step).
pub const NOW: u64 = SERVED_AT + 60;
/// Base USDC, the accepted asset (6 decimals).
pub const USDC_BASE: &str = "0x833589fcd6edb6e08f4c7c32d4f71b54bda02913";
/// Bond and reward denom.
pub const DENOM: &str = "uopg";
/// Registry `min_bond` (uopg).
pub const MIN_BOND: u128 = 1_000;
/// The proxy node (secp256k1 key, serves [`GPT`]).
pub const PROXY: &str = "proxy-1";
/// The local node (ed25519 key, serves [`LLAMA`], attested `rtx4090`).
pub const LOCAL: &str = "local-1";
/// A commercial model.
pub const GPT: &str = "openai/gpt-4.1";
/// A community model.
pub const LLAMA: &str = "meta/llama-3.1-8b";
/// Value of the valid receipts (token units: 0.025 USDC).
pub const VALUE: u128 = 25_000;

/// Named bech32 addresses of the world (`MockApi::addr_make`).
pub fn addr(name: &str) -> Addr {
    MockApi::default().addr_make(name)
}

/// The fixed deployment every target uses.
pub struct World {
    /// Chain id of `mock_env()`.
    pub chain_id: String,
    /// The verifier's address (`mock_env()`'s contract address).
    pub verifier: Addr,
    /// Verifier EIP-712 domain separator.
    pub domain: [u8; 32],
    /// Registry EIP-712 domain separator (attestations).
    pub registry_domain: [u8; 32],
    /// Accepted networks: Base (8453) with USDC.
    pub networks: Vec<NetworkConfig>,
    /// Allow-listed facilitators (one).
    pub facilitators: Vec<String>,
    /// The epoch clock.
    pub clock: EpochClock,
    /// The registry as the verifier sees it.
    pub registry: RegistryView,
    /// Payer.
    pub payer: EvmSigner,
    /// Proxy node key.
    pub proxy: NodeSigner,
    /// Local node key.
    pub local: NodeSigner,
    /// Facilitator.
    pub facilitator: EvmSigner,
    /// Hardware attester.
    pub attester: EvmSigner,
    /// The proxy's `payTo`.
    pub proxy_pay_to: EvmSigner,
    /// The local node's `payTo`.
    pub local_pay_to: EvmSigner,
}

fn node_info(
    id: &str,
    operator: Addr,
    kind: NodeKindTag,
    signer: &NodeSigner,
    pay_to: &EvmSigner,
    model: &str,
) -> NodeInfo {
    NodeInfo {
        node_id: id.to_string(),
        operator,
        kind,
        upstream: None,
        attestation: None,
        key: signer.key(),
        pay_to: pay_to.address(),
        endpoint: format!("https://{id}.example"),
        models: vec![model.to_string()],
        bond: Uint128::new(MIN_BOND),
        status: NodeStatus::Active,
        jail_reason: None,
        registered_at: GENESIS,
        unbonding_ends: None,
    }
}

impl World {
    fn new() -> Self {
        let env = mock_env();
        let chain_id = env.block.chain_id.clone();
        let verifier = env.contract.address.clone();
        let domain = verifier_domain_separator(&chain_id, verifier.as_str());
        let registry_domain = registry_domain_separator(&chain_id, addr("registry").as_str());
        let payer = EvmSigner::derive(SEED, "payer");
        let proxy = NodeSigner::derive(SEED, "proxy", false);
        let local = NodeSigner::derive(SEED, "local", true);
        let facilitator = EvmSigner::derive(SEED, "facilitator");
        let attester = EvmSigner::derive(SEED, "attester");
        let proxy_pay_to = EvmSigner::derive(SEED, "proxy-pay-to");
        let local_pay_to = EvmSigner::derive(SEED, "local-pay-to");
        let mut local_node = node_info(
            LOCAL,
            addr("operator-2"),
            NodeKindTag::Local,
            &local,
            &local_pay_to,
            LLAMA,
        );
        local_node.attestation = Some(sign_attestation(
            &attester,
            &registry_domain,
            local_node.operator.as_str(),
            &local.key(),
            "rtx4090",
            [7u8; 32],
            GENESIS + 100 * EPOCH,
        ));
        let proxy_node = node_info(
            PROXY,
            addr("operator-1"),
            NodeKindTag::Proxy,
            &proxy,
            &proxy_pay_to,
            GPT,
        );
        let nodes = BTreeMap::from([
            (PROXY.to_string(), proxy_node),
            (LOCAL.to_string(), local_node),
        ]);
        let models = BTreeMap::from([
            (GPT.to_string(), Provenance::Commercial),
            (LLAMA.to_string(), Provenance::Community),
        ]);
        World {
            chain_id,
            verifier,
            domain,
            registry_domain,
            networks: vec![NetworkConfig {
                chain_id: 8453,
                name: "base".to_string(),
                assets: vec![AssetConfig {
                    address: USDC_BASE.to_string(),
                    decimals: 6,
                    eip712_name: Some("USD Coin".into()),
                    eip712_version: Some("2".into()),
                }],
            }],
            facilitators: vec![facilitator.address()],
            clock: EpochClock {
                genesis: GENESIS,
                epoch_length: EPOCH,
                grace: GRACE,
            },
            registry: RegistryView { nodes, models },
            payer,
            proxy,
            local,
            facilitator,
            attester,
            proxy_pay_to,
            local_pay_to,
        }
    }

    /// The verifier policy (settlement required).
    pub fn policy(&self) -> VerifierPolicy<'_> {
        VerifierPolicy {
            domain_separator: self.domain,
            networks: &self.networks,
            facilitators: self
                .facilitators
                .iter()
                .filter_map(|f| opg_core::verify::parse_evm_address(f))
                .collect(),
            require_settlement: true,
            clock: self.clock,
        }
    }

    /// `exact` requirements on Base USDC paying `pay_to`: v1 (`base`, `maxAmountRequired`) or v2
    /// (`eip155:8453`, `amount`).
    pub fn requirements(&self, version: u32, pay_to: &str, amount: u128) -> PaymentRequirements {
        let network = if version == 1 { "base" } else { "eip155:8453" };
        PaymentRequirements {
            resource: Some("https://node.example/v1/chat/completions".to_string()),
            max_timeout_seconds: Some(60),
            ..PaymentRequirements::exact(
                version, network, pay_to, USDC_BASE, amount, "USD Coin", "2",
            )
        }
    }

    /// A valid receipt served at [`SERVED_AT`], verifiable at [`NOW`]: the local node (ed25519,
    /// community model) or the proxy (secp256k1, commercial model), x402 v1 or v2, nonce `[nonce; 32]`.
    pub fn receipt(&self, local: bool, version: u32, nonce: u8) -> SignedReceipt {
        let (node_id, model, signer, pay_to) = if local {
            (LOCAL, LLAMA, &self.local, &self.local_pay_to)
        } else {
            (PROXY, GPT, &self.proxy, &self.proxy_pay_to)
        };
        let payment = PaymentParams {
            x402_version: version,
            requirements: self.requirements(version, &pay_to.address(), VALUE),
            value: VALUE,
            valid_after: SERVED_AT - 60,
            valid_before: SERVED_AT + 60,
            nonce: [nonce; 32],
        };
        let inference = InferenceReceipt {
            node_id: node_id.to_string(),
            model_id: model.to_string(),
            request_digest: Binary::from([1u8; 32].to_vec()),
            response_digest: Binary::from([2u8; 32].to_vec()),
            prompt_tokens: 120,
            completion_tokens: 480,
            served_at: SERVED_AT,
        };
        make_signed_receipt(
            &self.payer,
            signer,
            Some(&self.facilitator),
            &self.domain,
            &payment,
            inference,
            [9u8; 32],
        )
    }
}

/// The world, built once per process.
pub fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(World::new)
}

/// Three valid receipts, built once: proxy v1 (nonce 1), proxy v2 (nonce 2), local v2 (nonce 3).
pub fn valid_receipts() -> &'static [SignedReceipt; 3] {
    static RECEIPTS: OnceLock<[SignedReceipt; 3]> = OnceLock::new();
    RECEIPTS.get_or_init(|| {
        let w = world();
        [
            w.receipt(false, 1, 1),
            w.receipt(false, 2, 2),
            w.receipt(true, 2, 3),
        ]
    })
}

// ---- contract targets --------------------------------------------------------------------------

/// Most messages one input may carry.
pub const MAX_STEPS: usize = 8;

/// Time steps selectable per message (seconds): none, one epoch, 8 days, 1000 days.
pub const TIME_STEPS: [u64; 4] = [0, EPOCH, 8 * 86_400, 1_000 * 86_400];

/// One message of a contract-target input.
///
/// Input format: up to [`MAX_STEPS`] lines separated by `\n`; each line is one control byte and
/// then the `ExecuteMsg` JSON. With `c = control - b'a'` (wrapping): sender = `senders[c % 4]`,
/// funds attached when `(c / 4) % 2 == 1`, block time advanced by `TIME_STEPS[(c / 8) % 4]` before
/// the message. So `a` = sender 0, `b` = sender 1, `e` = sender 0 with funds, `i` = sender 0 one
/// epoch later.
#[derive(Clone, Copy, Debug)]
pub struct Step<'a> {
    /// Index into the target's four senders.
    pub sender: usize,
    /// Whether the target's funds are attached.
    pub funds: bool,
    /// Seconds to advance the block time by before executing.
    pub advance: u64,
    /// The message bytes (JSON, parsed as the chain does with `cosmwasm_std::from_json`).
    pub msg: &'a [u8],
}

/// Splits an input into steps (empty lines are skipped).
pub fn steps(data: &[u8]) -> Vec<Step<'_>> {
    data.split(|b| *b == b'\n')
        .filter(|line| !line.is_empty())
        .take(MAX_STEPS)
        .map(|line| {
            let c = line[0].wrapping_sub(b'a') as usize;
            Step {
                sender: c % 4,
                funds: (c / 4) % 2 == 1,
                advance: TIME_STEPS[(c / 8) % 4],
                msg: &line[1..],
            }
        })
        .collect()
}

/// The control byte for `sender` (0..4), `funds` and time step index `advance` (0..4): the inverse
/// of [`steps`], for writing seeds.
pub fn control(sender: usize, funds: bool, advance: usize) -> u8 {
    b'a' + (sender % 4) as u8 + if funds { 4 } else { 0 } + 8 * (advance % 4) as u8
}

/// Mock dependencies of the contract targets.
pub type Deps = OwnedDeps<MockStorage, MockApi, MockQuerier>;

/// `mock_env()` at [`NOW`].
pub fn env_at_now() -> Env {
    let mut env = mock_env();
    env.block.time = Timestamp::from_seconds(NOW);
    env
}

fn snapshot(storage: &dyn Storage) -> Vec<(Vec<u8>, Vec<u8>)> {
    storage.range(None, None, Order::Ascending).collect()
}

fn restore(snapshot: Vec<(Vec<u8>, Vec<u8>)>) -> MockStorage {
    let mut storage = MockStorage::default();
    for (k, v) in snapshot {
        storage.set(&k, &v);
    }
    storage
}

/// A contract under fuzzing: its execute entry point, its message type, its senders and funds,
/// and an invariant checked after every step.
pub struct Harness<'a, M, E> {
    /// The contract's `execute`.
    pub execute: fn(DepsMut, Env, MessageInfo, M) -> Result<Response, E>,
    /// Senders selectable by a step.
    pub senders: [Addr; 4],
    /// Funds attached when a step asks for funds.
    pub funds: Vec<Coin>,
    /// Must hold after every step (e.g. the config query still answers); panics otherwise.
    pub invariant: &'a dyn Fn(&Deps, &Env),
    /// Sees every successful response (e.g. to check that nothing is accepted twice).
    pub on_ok: &'a dyn Fn(&Response),
}

impl<M: DeserializeOwned, E: std::fmt::Debug> Harness<'_, M, E> {
    /// Runs the steps of `data` on `deps`. A message that does not parse is skipped (the chain
    /// rejects it before the contract runs). A failing execute rolls the storage back, as a failed
    /// transaction does. Sub-messages of a response are not executed.
    pub fn run(&self, deps: &mut Deps, env: &mut Env, data: &[u8]) {
        for step in steps(data) {
            env.block.time = env.block.time.plus_seconds(step.advance);
            env.block.height += 1 + step.advance / 5;
            let Ok(msg) = cosmwasm_std::from_json::<M>(step.msg) else {
                continue;
            };
            let funds: &[Coin] = if step.funds { &self.funds } else { &[] };
            let info = message_info(&self.senders[step.sender], funds);
            let before = snapshot(&deps.storage);
            match (self.execute)(deps.as_mut(), env.clone(), info, msg) {
                Ok(response) => (self.on_ok)(&response),
                Err(_) => deps.storage = restore(before),
            }
            (self.invariant)(deps, env);
        }
    }
}

/// A wasm querier answer.
pub fn answer<T: serde::Serialize>(value: &T) -> cosmwasm_std::QuerierResult {
    match cosmwasm_std::to_json_binary(value) {
        Ok(bin) => SystemResult::Ok(ContractResult::Ok(bin)),
        Err(e) => SystemResult::Err(SystemError::InvalidResponse {
            error: e.to_string(),
            response: Binary::default(),
        }),
    }
}

/// A wasm querier error answer (the queried contract returned an error).
pub fn contract_error(msg: &str) -> cosmwasm_std::QuerierResult {
    SystemResult::Ok(ContractResult::Err(msg.to_string()))
}

/// The x402 fixtures' requirements (`tests/fixtures/x402/payments-v{1,2}.json`, case "valid"):
/// 10000 units of Base USDC to anvil test account #1.
pub mod x402 {
    use std::sync::OnceLock;

    use opg_core::x402::PaymentRequirements;

    /// The fixtures' verification time (unix seconds).
    pub const VERIFY_TIME: u64 = 1_750_000_000;

    fn requirements(version: u32) -> PaymentRequirements {
        let v1 = version == 1;
        PaymentRequirements {
            resource: v1.then(|| "https://node.example/v1/chat/completions".to_string()),
            description: v1.then(|| "one chat completion".to_string()),
            mime_type: v1.then(|| "application/json".to_string()),
            max_timeout_seconds: Some(60),
            ..PaymentRequirements::exact(
                version,
                if v1 { "base" } else { "eip155:8453" },
                "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
                "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913",
                10_000,
                "USD Coin",
                "2",
            )
        }
    }

    /// v1 requirements (`base`, `maxAmountRequired` 10000).
    pub fn requirements_v1() -> &'static PaymentRequirements {
        static R: OnceLock<PaymentRequirements> = OnceLock::new();
        R.get_or_init(|| requirements(1))
    }

    /// v2 requirements (`eip155:8453`, `amount` 10000).
    pub fn requirements_v2() -> &'static PaymentRequirements {
        static R: OnceLock<PaymentRequirements> = OnceLock::new();
        R.get_or_init(|| requirements(2))
    }
}
