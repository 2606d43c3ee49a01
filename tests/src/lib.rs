//! Integration test support: a suite builder wiring the three real contracts (`node-registry`,
//! `receipt-verifier`, `reward-pool`) together on cw-multi-test, in the style of DAO DAO's
//! `dao-testing` (`SuiteBuilder::new().with_...().build()`).
//!
//! Wiring done by [`SuiteBuilder::build`]:
//! 1. registry (governance, bond denom `uopg`, no pool yet);
//! 2. pool (registry address, no verifier yet, the epoch clock, the params);
//! 3. verifier (registry, pool; it reads the epoch clock from the pool);
//! 4. `UpdateConfig`: the pool's `verifier`, the registry's `reward_pool`;
//! 5. governance adds the models and the hardware attester.
//!
//! Keys (payers, nodes, the attester, the facilitator) are derived deterministically with
//! `opg_core::sign`, so every run signs the same bytes. Amounts: bonds and rewards in uopg, payment
//! values in USDC units (6 decimals, so 1 unit = 1 micro-USD), times in unix seconds.
use std::collections::BTreeMap;
use std::str::FromStr;

use cosmwasm_std::testing::MockApi;
use cosmwasm_std::{
    coin, coins, from_json, Addr, Binary, Decimal, Empty, Response, StdResult, Timestamp, Uint128,
};
use cw_multi_test::{App, AppBuilder, AppResponse, Contract, ContractWrapper, Executor};
use opg_core::eip712::{registry_domain_separator, verifier_domain_separator};
use opg_core::epoch::EpochClock;
use opg_core::msg::pool::{
    self, EpochReport, HardwareWeight, MultipliersResponse, NodeRewardsResponse, ParamsResponse,
    PendingRewardsResponse, RewardParams,
};
use opg_core::msg::registry::{self, NodeInfo, NodeKind};
use opg_core::msg::verifier::{
    self, ReceiptStatusResponse, ReceiptVerdict, SubmitReceiptsResponse,
};
use opg_core::msg::MigrateMsg;
use opg_core::receipt::{Heartbeat, InferenceReceipt, SignedReceipt};
use opg_core::sign::{
    make_signed_receipt, sign_attestation, sign_heartbeat, EvmSigner, NodeSigner, PaymentParams,
};
use opg_core::types::{AssetConfig, NetworkConfig, NodeKindTag, Provenance};
use opg_core::x402::PaymentRequirements;
use sha2::{Digest, Sha256};

/// Native denom of bonds and rewards.
pub const DENOM: &str = "uopg";
/// Base mainnet chain id.
pub const BASE_CHAIN_ID: u64 = 8453;
/// USDC on Base (6 decimals).
pub const USDC_BASE: &str = "0x833589fcd6edb6e08f4c7c32d4f71b54bda02913";
/// A commercial model (proxy nodes).
pub const GPT: &str = "openai/gpt-4.1";
/// A second commercial model, on the list but served by no node unless a test says so.
pub const GPT_MINI: &str = "openai/gpt-4.1-mini";
/// A community model (local nodes).
pub const LLAMA: &str = "meta-llama/llama-3.1-8b-instruct";
/// Hardware class with stipend weight 2.
pub const H100: &str = "h100";
/// Hardware class with stipend weight 1.
pub const RTX4090: &str = "rtx4090";
/// Seed of every derived key.
pub const SEED: &[u8] = b"opg-integration-tests";
/// Initial uopg balance of every account the suite creates (operators, funders).
pub const INITIAL_BALANCE: u128 = 1_000_000_000_000;

/// Parses a decimal literal (tests only).
pub fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).expect("decimal literal")
}

/// The reward params most tests use: emission 1,000,000 uopg per epoch, `m_commercial` 0.5,
/// `M` 3, `S*` 0.5, `alpha` 0.2, `v_cap` 1,000,000,000 micro-USD (never binding), no per-call
/// cap `c_call`, weights `h100` 2 and `rtx4090` 1 with stipend caps of 10^9 uopg (never binding).
pub fn default_params() -> RewardParams {
    RewardParams {
        emission_per_epoch: Uint128::new(1_000_000),
        m_commercial: dec("0.5"),
        m_community_max: dec("3"),
        target_share: dec("0.5"),
        alpha: dec("0.2"),
        v_cap: Uint128::new(1_000_000_000),
        c_call: None,
        claim_epochs: 100,
        hardware_weights: vec![
            HardwareWeight {
                class: H100.to_string(),
                weight: dec("2"),
                stipend_cap: Uint128::new(1_000_000_000),
            },
            HardwareWeight {
                class: RTX4090.to_string(),
                weight: dec("1"),
                stipend_cap: Uint128::new(1_000_000_000),
            },
        ],
    }
}

/// Code ids of the three stored contracts.
#[derive(Clone, Copy, Debug)]
pub struct CodeIds {
    /// `node-registry`.
    pub registry: u64,
    /// `receipt-verifier`.
    pub verifier: u64,
    /// `reward-pool`.
    pub pool: u64,
}

/// The `node-registry` contract, with sudo and migrate.
pub fn registry_contract() -> Box<dyn Contract<Empty>> {
    Box::new(
        ContractWrapper::new(
            node_registry::contract::execute,
            node_registry::contract::instantiate,
            node_registry::contract::query,
        )
        .with_sudo(node_registry::contract::sudo)
        .with_migrate(node_registry::contract::migrate),
    )
}

/// The `receipt-verifier` contract, with sudo and migrate.
pub fn verifier_contract() -> Box<dyn Contract<Empty>> {
    Box::new(
        ContractWrapper::new(
            receipt_verifier::contract::execute,
            receipt_verifier::contract::instantiate,
            receipt_verifier::contract::query,
        )
        .with_sudo(receipt_verifier::contract::sudo)
        .with_migrate(receipt_verifier::contract::migrate),
    )
}

/// The `reward-pool` contract, with sudo and migrate.
pub fn pool_contract() -> Box<dyn Contract<Empty>> {
    Box::new(
        ContractWrapper::new(
            reward_pool::contract::execute,
            reward_pool::contract::instantiate,
            reward_pool::contract::query,
        )
        .with_sudo(reward_pool::contract::sudo)
        .with_migrate(reward_pool::contract::migrate),
    )
}

/// Instantiate message of [`future_version_contract`]: the cw2 name and version it records.
#[cosmwasm_schema::cw_serde]
pub struct FutureVersionMsg {
    /// cw2 contract name to record.
    pub contract: String,
    /// cw2 version to record.
    pub version: String,
}

fn future_instantiate(
    deps: cosmwasm_std::DepsMut,
    _env: cosmwasm_std::Env,
    _info: cosmwasm_std::MessageInfo,
    msg: FutureVersionMsg,
) -> StdResult<Response> {
    cw2::set_contract_version(deps.storage, msg.contract, msg.version)?;
    Ok(Response::new())
}

fn future_execute(
    _deps: cosmwasm_std::DepsMut,
    _env: cosmwasm_std::Env,
    _info: cosmwasm_std::MessageInfo,
    _msg: Empty,
) -> StdResult<Response> {
    Ok(Response::new())
}

fn future_query(
    _deps: cosmwasm_std::Deps,
    _env: cosmwasm_std::Env,
    _msg: Empty,
) -> StdResult<Binary> {
    Ok(Binary::default())
}

/// A stand-in contract that only records a cw2 name and version at instantiation: migrating it to
/// a real opg contract exercises that contract's downgrade and wrong-name guards.
pub fn future_version_contract() -> Box<dyn Contract<Empty>> {
    Box::new(ContractWrapper::new(
        future_execute,
        future_instantiate,
        future_query,
    ))
}

/// A node the suite registered, with its keys.
#[derive(Clone)]
pub struct TestNode {
    /// Registry node id.
    pub node_id: String,
    /// Operator (registered it, receives rewards).
    pub operator: Addr,
    /// Receipt-signing key.
    pub signer: NodeSigner,
    /// The EVM account x402 payments go to (`pay_to`).
    pub payee: EvmSigner,
    /// Proxy or local.
    pub kind: NodeKindTag,
    /// Models it serves.
    pub models: Vec<String>,
}

/// Builder of a [`Suite`].
pub struct SuiteBuilder {
    epoch_length: u64,
    grace: u64,
    params: RewardParams,
    min_bond: u128,
    unbonding_period: u64,
    require_settlement: bool,
    max_batch: u32,
    pool_funds: u128,
    models: Vec<(String, Provenance)>,
}

impl Default for SuiteBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl SuiteBuilder {
    /// Defaults: epochs of 3,600 s with a 600 s grace, [`default_params`], min bond 1,000,000
    /// uopg, unbonding 86,400 s, settlement required, batches of up to 100, an unfunded pool, the
    /// models [`GPT`], [`GPT_MINI`] (commercial) and [`LLAMA`] (community).
    pub fn new() -> Self {
        SuiteBuilder {
            epoch_length: 3_600,
            grace: 600,
            params: default_params(),
            min_bond: 1_000_000,
            unbonding_period: 86_400,
            require_settlement: true,
            max_batch: 100,
            pool_funds: 0,
            models: vec![
                (GPT.to_string(), Provenance::Commercial),
                (GPT_MINI.to_string(), Provenance::Commercial),
                (LLAMA.to_string(), Provenance::Community),
            ],
        }
    }

    /// Epoch length and grace (seconds).
    pub fn with_epochs(mut self, epoch_length: u64, grace: u64) -> Self {
        self.epoch_length = epoch_length;
        self.grace = grace;
        self
    }

    /// Initial reward params.
    pub fn with_params(mut self, params: RewardParams) -> Self {
        self.params = params;
        self
    }

    /// Minimum bond (uopg).
    pub fn with_min_bond(mut self, min_bond: u128) -> Self {
        self.min_bond = min_bond;
        self
    }

    /// Whether receipts need a facilitator settlement attestation.
    pub fn with_require_settlement(mut self, require: bool) -> Self {
        self.require_settlement = require;
        self
    }

    /// Maximum receipts + heartbeats per batch.
    pub fn with_max_batch(mut self, max_batch: u32) -> Self {
        self.max_batch = max_batch;
        self
    }

    /// uopg the pool is funded with (by a funder account) right after wiring.
    pub fn with_pool_funds(mut self, amount: u128) -> Self {
        self.pool_funds = amount;
        self
    }

    /// An extra model on the governance list.
    pub fn with_model(mut self, id: &str, provenance: Provenance) -> Self {
        self.models.push((id.to_string(), provenance));
        self
    }

    /// Instantiates and wires the three contracts. Epoch 0 starts at the block time of the
    /// builder (genesis); the block is then at genesis.
    pub fn build(self) -> Suite {
        let api = MockApi::default();
        let governance = api.addr_make("governance");
        let funder = api.addr_make("funder");
        let mut app = AppBuilder::new().build(|router, _api, storage| {
            for who in [&governance, &funder] {
                router
                    .bank
                    .init_balance(storage, who, coins(INITIAL_BALANCE, DENOM))
                    .expect("init balance");
            }
        });
        let code_ids = CodeIds {
            registry: app.store_code(registry_contract()),
            verifier: app.store_code(verifier_contract()),
            pool: app.store_code(pool_contract()),
        };
        let genesis = app.block_info().time.seconds();
        let clock = EpochClock {
            genesis,
            epoch_length: self.epoch_length,
            grace: self.grace,
        };

        let registry = app
            .instantiate_contract(
                code_ids.registry,
                governance.clone(),
                &registry::InstantiateMsg {
                    governance: governance.to_string(),
                    bond_denom: DENOM.to_string(),
                    min_bond: Uint128::new(self.min_bond),
                    unbonding_period: self.unbonding_period,
                    reward_pool: None,
                    max_attestation_validity: None,
                },
                &[],
                "node-registry",
                Some(governance.to_string()),
            )
            .expect("instantiate registry");
        let pool = app
            .instantiate_contract(
                code_ids.pool,
                governance.clone(),
                &pool::InstantiateMsg {
                    governance: governance.to_string(),
                    registry: registry.to_string(),
                    verifier: None,
                    denom: DENOM.to_string(),
                    clock,
                    params: self.params.clone(),
                },
                &[],
                "reward-pool",
                Some(governance.to_string()),
            )
            .expect("instantiate pool");
        let facilitator = EvmSigner::derive(SEED, "facilitator");
        let verifier = app
            .instantiate_contract(
                code_ids.verifier,
                governance.clone(),
                &verifier::InstantiateMsg {
                    governance: governance.to_string(),
                    registry: registry.to_string(),
                    reward_pool: pool.to_string(),
                    networks: vec![NetworkConfig {
                        chain_id: BASE_CHAIN_ID,
                        name: "base".to_string(),
                        assets: vec![AssetConfig {
                            address: USDC_BASE.to_string(),
                            decimals: 6,
                            eip712_name: Some("USD Coin".into()),
                            eip712_version: Some("2".into()),
                        }],
                    }],
                    facilitators: vec![facilitator.address()],
                    require_settlement: self.require_settlement,
                    max_batch: self.max_batch,
                },
                &[],
                "receipt-verifier",
                Some(governance.to_string()),
            )
            .expect("instantiate verifier");
        app.execute_contract(
            governance.clone(),
            pool.clone(),
            &pool::ExecuteMsg::UpdateConfig {
                governance: None,
                verifier: Some(verifier.to_string()),
                registry: None,
            },
            &[],
        )
        .expect("pool: set verifier");
        app.execute_contract(
            governance.clone(),
            registry.clone(),
            &registry::ExecuteMsg::UpdateConfig(registry::UpdateConfigMsg {
                reward_pool: Some(pool.to_string()),
                ..Default::default()
            }),
            &[],
        )
        .expect("registry: set reward pool");

        let chain_id = app.block_info().chain_id;
        let attester = EvmSigner::derive(SEED, "attester");
        let mut suite = Suite {
            verifier_domain: verifier_domain_separator(&chain_id, verifier.as_str()),
            registry_domain: registry_domain_separator(&chain_id, registry.as_str()),
            app,
            governance,
            funder,
            registry,
            verifier,
            pool,
            code_ids,
            clock,
            attester,
            facilitator,
            nodes: BTreeMap::new(),
            next_nonce: 0,
        };
        for (id, provenance) in &self.models {
            suite.add_model(id, *provenance).expect("add model");
        }
        let attester_address = suite.attester.address();
        suite
            .gov_registry(&registry::ExecuteMsg::AddAttester(
                registry::AddAttesterMsg {
                    address: attester_address,
                },
            ))
            .expect("add attester");
        if self.pool_funds > 0 {
            suite.fund_pool(self.pool_funds).expect("fund pool");
        }
        suite
    }
}

/// The three contracts wired together on a cw-multi-test app, with keys and helpers.
pub struct Suite {
    /// The app.
    pub app: App,
    /// Governance of all three contracts (and their wasm admin).
    pub governance: Addr,
    /// An account holding [`INITIAL_BALANCE`] uopg that funds the pool.
    pub funder: Addr,
    /// `node-registry` address.
    pub registry: Addr,
    /// `receipt-verifier` address.
    pub verifier: Addr,
    /// `reward-pool` address.
    pub pool: Addr,
    /// Stored code ids.
    pub code_ids: CodeIds,
    /// The epoch clock.
    pub clock: EpochClock,
    /// The allow-listed hardware attester.
    pub attester: EvmSigner,
    /// The allow-listed settlement facilitator.
    pub facilitator: EvmSigner,
    /// EIP-712 domain separator of receipts (chain id + verifier address).
    pub verifier_domain: [u8; 32],
    /// EIP-712 domain separator of attestations (chain id + registry address).
    pub registry_domain: [u8; 32],
    nodes: BTreeMap<String, TestNode>,
    next_nonce: u64,
}

/// Options of one receipt made by [`Suite::receipt_with`].
#[derive(Clone, Debug)]
pub struct ReceiptOpts {
    /// x402 protocol version (1 or 2).
    pub x402_version: u32,
    /// Model id (default: the node's first model).
    pub model_id: Option<String>,
    /// EIP-3009 nonce (default: a fresh one).
    pub nonce: Option<[u8; 32]>,
    /// Attach a facilitator settlement (default true).
    pub settled: bool,
}

impl Default for ReceiptOpts {
    fn default() -> Self {
        ReceiptOpts {
            x402_version: 1,
            model_id: None,
            nonce: None,
            settled: true,
        }
    }
}

impl Suite {
    // ---------------------------------------------------------------- time

    /// Current block time (unix seconds).
    pub fn now(&self) -> u64 {
        self.app.block_info().time.seconds()
    }

    /// Moves the block to unix time `t` (never backwards), one block later.
    pub fn set_time(&mut self, t: u64) {
        assert!(t >= self.now(), "time only moves forward");
        self.app.update_block(|b| {
            b.time = Timestamp::from_seconds(t);
            b.height += 1;
        });
    }

    /// Advances the block by `seconds`.
    pub fn advance(&mut self, seconds: u64) {
        let t = self.now() + seconds;
        self.set_time(t);
    }

    /// Moves the block to `start(epoch) + offset`.
    pub fn goto_epoch(&mut self, epoch: u64, offset: u64) {
        let t = self.clock.start(epoch) + offset;
        self.set_time(t);
    }

    /// Moves the block to the first second `epoch` may be finalized: `end(epoch) + grace`.
    pub fn goto_finalizable(&mut self, epoch: u64) {
        let t = self.clock.end(epoch) + self.clock.grace;
        self.set_time(t);
    }

    // ---------------------------------------------------------------- accounts

    /// An address from a label (`MockApi::addr_make`).
    pub fn addr(&self, label: &str) -> Addr {
        self.app.api().addr_make(label)
    }

    /// A new account funded with [`INITIAL_BALANCE`] uopg.
    pub fn funded_account(&mut self, label: &str) -> Addr {
        let addr = self.addr(label);
        self.app
            .send_tokens(
                self.funder.clone(),
                addr.clone(),
                &coins(INITIAL_BALANCE / 1_000, DENOM),
            )
            .expect("fund account");
        addr
    }

    /// uopg balance of an address.
    pub fn balance(&self, addr: &Addr) -> u128 {
        self.app
            .wrap()
            .query_balance(addr, DENOM)
            .expect("balance")
            .amount
            .u128()
    }

    /// An x402 payer (EVM key) derived from a label.
    pub fn payer(&self, label: &str) -> EvmSigner {
        EvmSigner::derive(SEED, &format!("payer/{label}"))
    }

    /// A registered node by id.
    pub fn node(&self, node_id: &str) -> &TestNode {
        self.nodes
            .get(node_id)
            .expect("node registered by the suite")
    }

    // ---------------------------------------------------------------- governance

    /// Executes a registry governance message.
    pub fn gov_registry(&mut self, msg: &registry::ExecuteMsg) -> anyhow::Result<AppResponse> {
        self.app
            .execute_contract(self.governance.clone(), self.registry.clone(), msg, &[])
    }

    /// Executes a pool governance message.
    pub fn gov_pool(&mut self, msg: &pool::ExecuteMsg) -> anyhow::Result<AppResponse> {
        self.app
            .execute_contract(self.governance.clone(), self.pool.clone(), msg, &[])
    }

    /// Executes a verifier governance message.
    pub fn gov_verifier(&mut self, msg: &verifier::ExecuteMsg) -> anyhow::Result<AppResponse> {
        self.app
            .execute_contract(self.governance.clone(), self.verifier.clone(), msg, &[])
    }

    /// Governance adds (or replaces) a model.
    pub fn add_model(&mut self, id: &str, provenance: Provenance) -> anyhow::Result<AppResponse> {
        let weights_digest = match provenance {
            Provenance::Community => Some(Binary::from(sha256(id.as_bytes()).to_vec())),
            Provenance::Commercial => None,
        };
        self.gov_registry(&registry::ExecuteMsg::AddModel(registry::AddModelMsg {
            id: id.to_string(),
            provenance,
            weights_digest,
        }))
    }

    /// Governance jails a node.
    pub fn jail(&mut self, node_id: &str, reason: &str) -> anyhow::Result<AppResponse> {
        self.gov_registry(&registry::ExecuteMsg::Jail(registry::JailMsg {
            node_id: node_id.to_string(),
            reason: reason.to_string(),
        }))
    }

    /// Governance unjails a node.
    pub fn unjail(&mut self, node_id: &str) -> anyhow::Result<AppResponse> {
        self.gov_registry(&registry::ExecuteMsg::Unjail(registry::UnjailMsg {
            node_id: node_id.to_string(),
        }))
    }

    /// Governance slashes `fraction` of a node's bond into the pool.
    pub fn slash(&mut self, node_id: &str, fraction: Decimal) -> anyhow::Result<AppResponse> {
        self.gov_registry(&registry::ExecuteMsg::Slash(registry::SlashMsg {
            node_id: node_id.to_string(),
            fraction,
        }))
    }

    /// Governance schedules new reward params (effective from the next epoch).
    pub fn update_params(&mut self, params: RewardParams) -> anyhow::Result<AppResponse> {
        self.gov_pool(&pool::ExecuteMsg::UpdateParams { params })
    }

    // ---------------------------------------------------------------- nodes

    /// Registers a proxy node with a fresh secp256k1 key and the minimum bond `bond` (uopg).
    pub fn register_proxy(
        &mut self,
        node_id: &str,
        models: &[&str],
        bond: u128,
    ) -> anyhow::Result<TestNode> {
        let signer = NodeSigner::derive(SEED, &format!("node/{node_id}"), false);
        self.register(
            node_id,
            signer,
            NodeKindTag::Proxy,
            models,
            bond,
            |_, _, _| NodeKind::Proxy {
                upstream: "https://api.openai.com".to_string(),
            },
        )
    }

    /// Registers a local node with a fresh ed25519 key, a `hardware_class` attestation by the
    /// suite's attester valid for 30 days, and bond `bond` (uopg).
    pub fn register_local(
        &mut self,
        node_id: &str,
        models: &[&str],
        hardware_class: &str,
        bond: u128,
    ) -> anyhow::Result<TestNode> {
        let signer = NodeSigner::derive(SEED, &format!("node/{node_id}"), true);
        let expires_at = self.now() + 30 * 86_400;
        let attester = self.attester.clone();
        let domain = self.registry_domain;
        let class = hardware_class.to_string();
        self.register(
            node_id,
            signer,
            NodeKindTag::Local,
            models,
            bond,
            move |operator, key, node_id| NodeKind::Local {
                attestation: sign_attestation(
                    &attester,
                    &domain,
                    operator.as_str(),
                    key,
                    &class,
                    sha256(format!("evidence/{node_id}").as_bytes()),
                    expires_at,
                ),
            },
        )
    }

    fn register(
        &mut self,
        node_id: &str,
        signer: NodeSigner,
        kind: NodeKindTag,
        models: &[&str],
        bond: u128,
        make_kind: impl FnOnce(&Addr, &opg_core::types::NodeKey, &str) -> NodeKind,
    ) -> anyhow::Result<TestNode> {
        let operator = self.funded_account(&format!("operator/{node_id}"));
        let payee = EvmSigner::derive(SEED, &format!("payee/{node_id}"));
        let key = signer.key();
        let node_kind = make_kind(&operator, &key, node_id);
        let models: Vec<String> = models.iter().map(|m| m.to_string()).collect();
        let funds = if bond == 0 {
            vec![]
        } else {
            vec![coin(bond, DENOM)]
        };
        self.app.execute_contract(
            operator.clone(),
            self.registry.clone(),
            &registry::ExecuteMsg::Register(registry::RegisterMsg {
                node_id: node_id.to_string(),
                kind: node_kind,
                key,
                pay_to: payee.address(),
                endpoint: format!("https://{node_id}.example.org/v1"),
                models: models.clone(),
            }),
            &funds,
        )?;
        let node = TestNode {
            node_id: node_id.to_string(),
            operator,
            signer,
            payee,
            kind,
            models,
        };
        self.nodes.insert(node_id.to_string(), node.clone());
        Ok(node)
    }

    // ---------------------------------------------------------------- receipts

    /// A fresh, never used EIP-3009 nonce.
    pub fn fresh_nonce(&mut self) -> [u8; 32] {
        self.next_nonce += 1;
        sha256(format!("nonce/{}", self.next_nonce).as_bytes())
    }

    /// A valid x402 v1 receipt: `payer` pays `value` USDC units (= micro-USD) to `node_id`, which
    /// served its first model at `served_at`, with a settlement by the suite's facilitator.
    pub fn receipt(
        &mut self,
        node_id: &str,
        payer: &EvmSigner,
        value: u128,
        served_at: u64,
    ) -> SignedReceipt {
        self.receipt_with(node_id, payer, value, served_at, ReceiptOpts::default())
    }

    /// A receipt with [`ReceiptOpts`]. The payment is valid from `served_at - 60` to
    /// `served_at + 600`.
    pub fn receipt_with(
        &mut self,
        node_id: &str,
        payer: &EvmSigner,
        value: u128,
        served_at: u64,
        opts: ReceiptOpts,
    ) -> SignedReceipt {
        let node = self.node(node_id).clone();
        let nonce = opts.nonce.unwrap_or_else(|| self.fresh_nonce());
        let model_id = opts.model_id.unwrap_or_else(|| node.models[0].clone());
        let requirements = requirements(opts.x402_version, &node.payee.address(), value);
        let payment = PaymentParams {
            x402_version: opts.x402_version,
            requirements,
            value,
            valid_after: served_at.saturating_sub(60),
            valid_before: served_at + 600,
            nonce,
        };
        let receipt = InferenceReceipt {
            node_id: node_id.to_string(),
            model_id,
            request_digest: Binary::from(sha256(&nonce).to_vec()),
            response_digest: Binary::from(sha256(&sha256(&nonce)).to_vec()),
            prompt_tokens: 120,
            completion_tokens: 480,
            served_at,
        };
        let facilitator = if opts.settled {
            Some(&self.facilitator)
        } else {
            None
        };
        make_signed_receipt(
            payer,
            &node.signer,
            facilitator,
            &self.verifier_domain,
            &payment,
            receipt,
            sha256(&[b"tx".as_slice(), &nonce].concat()),
        )
    }

    /// A signed heartbeat of a local node for `epoch` at `timestamp`.
    pub fn heartbeat(&self, node_id: &str, epoch: u64, timestamp: u64) -> Heartbeat {
        sign_heartbeat(
            &self.node(node_id).signer,
            &self.verifier_domain,
            node_id,
            epoch,
            timestamp,
        )
    }

    /// Submits a batch from a keeper account; returns the per-item verdicts from the response data.
    pub fn submit(
        &mut self,
        receipts: Vec<SignedReceipt>,
        heartbeats: Vec<Heartbeat>,
    ) -> anyhow::Result<SubmitReceiptsResponse> {
        let keeper = self.addr("keeper");
        let res = self.app.execute_contract(
            keeper,
            self.verifier.clone(),
            &verifier::ExecuteMsg::SubmitReceipts(verifier::SubmitReceiptsMsg {
                receipts,
                heartbeats,
                compact: vec![],
            }),
            &[],
        )?;
        let data = res
            .data
            .ok_or_else(|| anyhow::anyhow!("SubmitReceipts returned no data"))?;
        Ok(from_json(data)?)
    }

    // ---------------------------------------------------------------- pool

    /// The funder sends `amount` uopg to the pool with `Fund {}`.
    pub fn fund_pool(&mut self, amount: u128) -> anyhow::Result<AppResponse> {
        self.app.execute_contract(
            self.funder.clone(),
            self.pool.clone(),
            &pool::ExecuteMsg::Fund {},
            &coins(amount, DENOM),
        )
    }

    /// Anyone finalizes `epoch`.
    pub fn finalize(&mut self, epoch: u64) -> anyhow::Result<AppResponse> {
        let anyone = self.addr("anyone");
        self.app.execute_contract(
            anyone,
            self.pool.clone(),
            &pool::ExecuteMsg::FinalizeEpoch { epoch },
            &[],
        )
    }

    /// The node's operator claims; returns the uopg the operator received.
    pub fn claim(&mut self, node_id: &str) -> anyhow::Result<u128> {
        let operator = self.node(node_id).operator.clone();
        let before = self.balance(&operator);
        self.app.execute_contract(
            operator.clone(),
            self.pool.clone(),
            &pool::ExecuteMsg::Claim {
                node_id: node_id.to_string(),
                limit: None,
            },
            &[],
        )?;
        Ok(self.balance(&operator) - before)
    }

    // ---------------------------------------------------------------- queries

    /// Pool `EpochReport`.
    pub fn epoch_report(&self, epoch: u64) -> EpochReport {
        self.app
            .wrap()
            .query_wasm_smart(&self.pool, &pool::QueryMsg::EpochReport { epoch })
            .expect("epoch report")
    }

    /// Pool `Multipliers`.
    pub fn multipliers(&self, epoch: u64) -> MultipliersResponse {
        self.app
            .wrap()
            .query_wasm_smart(&self.pool, &pool::QueryMsg::Multipliers { epoch })
            .expect("multipliers")
    }

    /// Pool `Params`.
    pub fn params(&self) -> ParamsResponse {
        self.app
            .wrap()
            .query_wasm_smart(&self.pool, &pool::QueryMsg::Params {})
            .expect("params")
    }

    /// Pool `Config`.
    pub fn pool_config(&self) -> pool::ConfigResponse {
        self.app
            .wrap()
            .query_wasm_smart(&self.pool, &pool::QueryMsg::Config {})
            .expect("pool config")
    }

    /// Pool `NodeRewards` (first page, up to 100 epochs).
    pub fn node_rewards(&self, node_id: &str) -> NodeRewardsResponse {
        self.app
            .wrap()
            .query_wasm_smart(
                &self.pool,
                &pool::QueryMsg::NodeRewards {
                    node_id: node_id.to_string(),
                    start_after: None,
                    limit: Some(100),
                },
            )
            .expect("node rewards")
    }

    /// Pool `PendingRewards`.
    pub fn pending(&self, node_id: &str) -> PendingRewardsResponse {
        self.app
            .wrap()
            .query_wasm_smart(
                &self.pool,
                &pool::QueryMsg::PendingRewards {
                    node_id: node_id.to_string(),
                },
            )
            .expect("pending rewards")
    }

    /// Registry `Node`.
    pub fn node_info(&self, node_id: &str) -> NodeInfo {
        self.app
            .wrap()
            .query_wasm_smart(
                &self.registry,
                &registry::QueryMsg::Node {
                    node_id: node_id.to_string(),
                },
            )
            .expect("node info")
    }

    /// Verifier `VerifyReceipt` (no state change).
    pub fn verify(&self, receipt: &SignedReceipt) -> ReceiptVerdict {
        self.app
            .wrap()
            .query_wasm_smart(
                &self.verifier,
                &verifier::QueryMsg::VerifyReceipt {
                    receipt: receipt.clone(),
                },
            )
            .expect("verify receipt")
    }

    /// Verifier `ReceiptStatus`.
    pub fn receipt_status(&self, payer: &str, nonce: &str) -> ReceiptStatusResponse {
        self.app
            .wrap()
            .query_wasm_smart(
                &self.verifier,
                &verifier::QueryMsg::ReceiptStatus {
                    payer: payer.to_string(),
                    nonce: nonce.to_string(),
                },
            )
            .expect("receipt status")
    }

    // ---------------------------------------------------------------- migration

    /// Governance (the wasm admin) migrates `contract` to `code_id`.
    pub fn migrate(&mut self, contract: &Addr, code_id: u64) -> anyhow::Result<AppResponse> {
        self.app.migrate_contract(
            self.governance.clone(),
            contract.clone(),
            &MigrateMsg {},
            code_id,
        )
    }
}

/// x402 `exact` requirements for a payment of `value` USDC units to `pay_to` on Base, in the v1
/// (`maxAmountRequired`, network `base`) or v2 (`amount`, CAIP-2 `eip155:8453`) shape.
pub fn requirements(x402_version: u32, pay_to: &str, value: u128) -> PaymentRequirements {
    let v1 = x402_version == 1;
    let network = if v1 {
        "base".to_string()
    } else {
        format!("eip155:{BASE_CHAIN_ID}")
    };
    PaymentRequirements {
        resource: v1.then(|| "https://node.example.org/v1/chat/completions".to_string()),
        description: v1.then(|| "chat completion".to_string()),
        mime_type: v1.then(|| "application/json".to_string()),
        max_timeout_seconds: Some(60),
        ..PaymentRequirements::exact(
            x402_version,
            &network,
            pay_to,
            USDC_BASE,
            value,
            "USD Coin",
            "2",
        )
    }
}

/// sha256 of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// The reason strings of a batch's receipts, in order (`None` = accepted).
pub fn reasons(res: &SubmitReceiptsResponse) -> Vec<Option<String>> {
    res.receipts.iter().map(|r| r.rejected.clone()).collect()
}

/// The contract error's message at the root of a cw-multi-test error chain.
pub fn root_error(err: &anyhow::Error) -> String {
    err.root_cause().to_string()
}
