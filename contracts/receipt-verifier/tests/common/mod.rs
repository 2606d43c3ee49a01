//! Test harness: the verifier wired to a MOCK registry (answers `NodesByIds` / `Node` from a fixed,
//! updatable list) and a MOCK reward pool (answers `Config` with a clock and records every
//! `RecordUsage` it receives). The real contracts are wired together in the workspace's
//! integration tests.
#![allow(dead_code)]

use cosmwasm_schema::cw_serde;
use cosmwasm_std::{
    from_json, to_json_binary, Addr, Binary, Deps, DepsMut, Empty, Env, Event, MessageInfo,
    Response, StdError, StdResult, Uint128,
};
use cw_multi_test::{App, AppResponse, ContractWrapper, Executor};
use cw_storage_plus::{Item, Map};
use opg_core::eip712::{registry_domain_separator, verifier_domain_separator};
use opg_core::epoch::EpochClock;
use opg_core::msg::pool::{
    ConfigResponse as PoolConfigResponse, ExecuteMsg as PoolExecuteMsg, HardwareWeight, LiveNode,
    RewardParams, UsageEntry,
};
use opg_core::msg::registry::{
    ModelInfo, NodeInfo, NodesByIdsResponse, QueryMsg as RegistryQueryMsg,
};
use opg_core::msg::verifier::{
    ExecuteMsg, InstantiateMsg, QueryMsg, ReceiptStatusResponse, ReceiptVerdict,
    SubmitReceiptsResponse,
};
use opg_core::msg::verifier::{PruneNoncesMsg, SubmitReceiptsMsg};
use opg_core::receipt::{Heartbeat, InferenceReceipt, SignedReceipt};
use opg_core::sign::{
    make_signed_receipt, sign_attestation, sign_heartbeat, EvmSigner, NodeSigner, PaymentParams,
};
use opg_core::types::{AssetConfig, NetworkConfig, NodeKindTag, NodeStatus, Provenance};
use opg_core::x402::{ExactEvmExtra, PaymentRequirements};
use receipt_verifier::ContractError;

// ---------------------------------------------------------------- mock registry

/// Instantiate message of the mock registry.
#[cw_serde]
pub struct MockRegistryInit {
    pub nodes: Vec<NodeInfo>,
    pub models: Vec<ModelInfo>,
}

/// Execute message of the mock registry: replace or add a node.
#[cw_serde]
pub enum MockRegistryExec {
    SetNode { node: NodeInfo },
}

const REG_NODES: Map<&str, NodeInfo> = Map::new("nodes");
const REG_MODELS: Map<&str, ModelInfo> = Map::new("models");

fn registry_instantiate(
    deps: DepsMut,
    _env: Env,
    _info: MessageInfo,
    msg: MockRegistryInit,
) -> StdResult<Response> {
    for n in msg.nodes {
        REG_NODES.save(deps.storage, &n.node_id.clone(), &n)?;
    }
    for m in msg.models {
        REG_MODELS.save(deps.storage, &m.id.clone(), &m)?;
    }
    Ok(Response::new())
}

fn registry_execute(
    deps: DepsMut,
    _env: Env,
    _info: MessageInfo,
    msg: MockRegistryExec,
) -> StdResult<Response> {
    match msg {
        MockRegistryExec::SetNode { node } => {
            REG_NODES.save(deps.storage, &node.node_id.clone(), &node)?
        }
    }
    Ok(Response::new())
}

fn registry_query(deps: Deps, _env: Env, msg: RegistryQueryMsg) -> StdResult<Binary> {
    match msg {
        RegistryQueryMsg::NodesByIds { ids, models } => {
            if ids.len() > 256 || models.len() > 256 {
                return Err(StdError::generic_err("at most 256 ids"));
            }
            let nodes = ids
                .iter()
                .filter_map(|id| REG_NODES.may_load(deps.storage, id).transpose())
                .collect::<StdResult<Vec<_>>>()?;
            let models = models
                .iter()
                .filter_map(|id| REG_MODELS.may_load(deps.storage, id).transpose())
                .collect::<StdResult<Vec<_>>>()?;
            to_json_binary(&NodesByIdsResponse { nodes, models })
        }
        RegistryQueryMsg::Node { node_id } => {
            to_json_binary(&REG_NODES.load(deps.storage, &node_id)?)
        }
        _ => Err(StdError::generic_err("not supported by the mock registry")),
    }
}

// ---------------------------------------------------------------- mock pool

/// Instantiate message of the mock pool.
#[cw_serde]
pub struct MockPoolInit {
    pub clock: EpochClock,
    pub governance: String,
    pub registry: String,
}

/// Queries of the mock pool: the real pool's `Config {}` and `EpochParams { epoch }` plus what it
/// recorded.
#[cw_serde]
pub enum MockPoolQuery {
    Config {},
    EpochParams { epoch: u64 },
    Recorded {},
}

/// `v_cap` of the mock pool's params (micro-USD) unless a test sets one: $1,000, above every test
/// receipt's value.
pub const MOCK_V_CAP: u128 = 1_000_000_000;

/// One `RecordUsage` the mock pool received.
#[cw_serde]
pub struct Recorded {
    pub sender: Addr,
    pub entries: Vec<UsageEntry>,
    pub live: Vec<LiveNode>,
}

const POOL_CONFIG: Item<PoolConfigResponse> = Item::new("config");
const POOL_RECORDED: Item<Vec<Recorded>> = Item::new("recorded");
/// `from_epoch -> v_cap` (micro-USD), set by tests; [`MOCK_V_CAP`] before the first entry.
const POOL_V_CAPS: Map<u64, Uint128> = Map::new("v_caps");

fn pool_instantiate(
    deps: DepsMut,
    _env: Env,
    _info: MessageInfo,
    msg: MockPoolInit,
) -> StdResult<Response> {
    POOL_CONFIG.save(
        deps.storage,
        &PoolConfigResponse {
            governance: deps.api.addr_validate(&msg.governance)?,
            registry: deps.api.addr_validate(&msg.registry)?,
            verifier: None,
            denom: "uopg".to_string(),
            clock: msg.clock,
            next_to_finalize: 0,
            reserved: Uint128::zero(),
        },
    )?;
    POOL_RECORDED.save(deps.storage, &vec![])?;
    Ok(Response::new())
}

fn pool_execute(
    deps: DepsMut,
    _env: Env,
    info: MessageInfo,
    msg: PoolExecuteMsg,
) -> StdResult<Response> {
    match msg {
        PoolExecuteMsg::RecordUsage { entries, live } => {
            let mut recorded = POOL_RECORDED.load(deps.storage)?;
            recorded.push(Recorded {
                sender: info.sender,
                entries,
                live,
            });
            POOL_RECORDED.save(deps.storage, &recorded)?;
            Ok(Response::new())
        }
        _ => Err(StdError::generic_err("not supported by the mock pool")),
    }
}

fn pool_query(deps: Deps, _env: Env, msg: MockPoolQuery) -> StdResult<Binary> {
    match msg {
        MockPoolQuery::Config {} => to_json_binary(&POOL_CONFIG.load(deps.storage)?),
        MockPoolQuery::Recorded {} => to_json_binary(&POOL_RECORDED.load(deps.storage)?),
        MockPoolQuery::EpochParams { epoch } => {
            let v_cap = POOL_V_CAPS
                .range(
                    deps.storage,
                    None,
                    Some(cw_storage_plus::Bound::inclusive(epoch)),
                    cosmwasm_std::Order::Descending,
                )
                .next()
                .transpose()?
                .map_or(Uint128::new(MOCK_V_CAP), |(_, v)| v);
            to_json_binary(&RewardParams {
                emission_per_epoch: Uint128::new(1_000_000),
                m_commercial: cosmwasm_std::Decimal::one(),
                m_community_max: cosmwasm_std::Decimal::one(),
                target_share: cosmwasm_std::Decimal::one(),
                alpha: cosmwasm_std::Decimal::zero(),
                v_cap,
                c_call: None,
                claim_epochs: 100,
                hardware_weights: vec![HardwareWeight {
                    class: "h100".into(),
                    weight: cosmwasm_std::Decimal::one(),
                    stipend_cap: Uint128::zero(),
                }],
            })
        }
    }
}

// ---------------------------------------------------------------- fixtures

pub const SEED: &[u8] = b"receipt-verifier tests";
pub const CHAIN_ID: u64 = 84532;
pub const NETWORK_V1: &str = "base-sepolia";
pub const NETWORK_V2: &str = "eip155:84532";
/// USDC on Base Sepolia (checksummed), 6 decimals.
pub const USDC: &str = "0x036CbD53842c5426634e7929541eC2318f3dCF7e";
pub const EPOCH_LENGTH: u64 = 3_600;
pub const GRACE: u64 = 600;
pub const GPT: &str = "openai/gpt-4.1";
pub const GPT_4O: &str = "openai/gpt-4o";
pub const LLAMA: &str = "meta-llama/llama-3.1-8b-instruct";
pub const PROXY: &str = "proxy-1";
pub const PROXY_2: &str = "proxy-2";
pub const LOCAL: &str = "local-1";
pub const JAILED: &str = "proxy-jailed";

/// A node of the fixture: its key and its payee.
pub struct TestNode {
    pub id: &'static str,
    pub signer: NodeSigner,
    pub payee: EvmSigner,
}

/// What to build a receipt from; `Suite::spec` gives a valid default.
#[derive(Clone)]
pub struct Spec {
    pub version: u32,
    pub node: &'static str,
    pub model: &'static str,
    pub payer: EvmSigner,
    pub nonce: [u8; 32],
    /// Token units (USDC, 6 decimals: micro-USD).
    pub value: u128,
    pub served_at: u64,
    pub valid_after: u64,
    pub valid_before: u64,
    pub facilitator: Option<EvmSigner>,
    /// Overrides the requirements' `payTo` (default: the node's payee).
    pub pay_to: Option<String>,
}

pub struct Suite {
    pub app: App,
    pub governance: Addr,
    pub registry: Addr,
    pub pool: Addr,
    pub verifier: Addr,
    pub verifier_code: u64,
    pub clock: EpochClock,
    pub domain: [u8; 32],
    pub nodes: Vec<TestNode>,
    pub payers: Vec<EvmSigner>,
    pub facilitator: EvmSigner,
    pub attester: EvmSigner,
    next_nonce: u64,
}

pub fn verifier_contract() -> Box<dyn cw_multi_test::Contract<Empty>> {
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

pub fn default_networks() -> Vec<NetworkConfig> {
    vec![NetworkConfig {
        chain_id: CHAIN_ID,
        name: NETWORK_V1.to_string(),
        assets: vec![AssetConfig {
            address: USDC.to_string(),
            decimals: 6,
            eip712_name: Some("USDC".into()),
            eip712_version: Some("2".into()),
        }],
    }]
}

impl Suite {
    pub fn new() -> Self {
        Self::with_clock(None)
    }

    /// A suite whose pool reports `epoch_length` (default 3600) - used to test a broken clock.
    pub fn with_clock(epoch_length: Option<u64>) -> Self {
        let mut app = App::default();
        let governance = app.api().addr_make("governance");
        let deployer = app.api().addr_make("deployer");
        let now = app.block_info().time.seconds();
        // Epoch 0 starts at the last full hour before the first block.
        let clock = EpochClock {
            genesis: now - now % EPOCH_LENGTH,
            epoch_length: epoch_length.unwrap_or(EPOCH_LENGTH),
            grace: GRACE,
        };

        let nodes = vec![
            TestNode {
                id: PROXY,
                signer: NodeSigner::derive(SEED, "node proxy-1", false),
                payee: EvmSigner::derive(SEED, "payee proxy-1"),
            },
            TestNode {
                id: PROXY_2,
                signer: NodeSigner::derive(SEED, "node proxy-2", false),
                payee: EvmSigner::derive(SEED, "payee proxy-2"),
            },
            TestNode {
                id: LOCAL,
                signer: NodeSigner::derive(SEED, "node local-1", true),
                payee: EvmSigner::derive(SEED, "payee local-1"),
            },
            TestNode {
                id: JAILED,
                signer: NodeSigner::derive(SEED, "node proxy-jailed", false),
                payee: EvmSigner::derive(SEED, "payee proxy-jailed"),
            },
        ];
        let attester = EvmSigner::derive(SEED, "attester");
        let facilitator = EvmSigner::derive(SEED, "facilitator");
        let payers = (0..3)
            .map(|i| EvmSigner::derive(SEED, &format!("payer {i}")))
            .collect();

        let registry_code = app.store_code(Box::new(ContractWrapper::new(
            registry_execute,
            registry_instantiate,
            registry_query,
        )));
        let pool_code = app.store_code(Box::new(ContractWrapper::new(
            pool_execute,
            pool_instantiate,
            pool_query,
        )));
        let verifier_code = app.store_code(verifier_contract());

        // The registry address is needed to sign attestations: instantiate empty, then add nodes.
        let registry = app
            .instantiate_contract(
                registry_code,
                deployer.clone(),
                &MockRegistryInit {
                    nodes: vec![],
                    models: vec![
                        model(GPT, Provenance::Commercial),
                        model(GPT_4O, Provenance::Commercial),
                        model(LLAMA, Provenance::Community),
                    ],
                },
                &[],
                "registry",
                None,
            )
            .unwrap();
        let chain_id = app.block_info().chain_id;
        let registry_domain = registry_domain_separator(&chain_id, registry.as_str());
        let operator = app.api().addr_make("operator");
        for n in &nodes {
            let (kind, models, attestation, upstream) = if n.id == LOCAL {
                let key = n.signer.key();
                let att = sign_attestation(
                    &attester,
                    &registry_domain,
                    operator.as_str(),
                    &key,
                    "h100",
                    [7u8; 32],
                    clock.genesis + 1_000 * EPOCH_LENGTH,
                );
                (NodeKindTag::Local, vec![LLAMA.to_string()], Some(att), None)
            } else {
                (
                    NodeKindTag::Proxy,
                    vec![GPT.to_string()],
                    None,
                    Some("https://api.openai.com".to_string()),
                )
            };
            let node = NodeInfo {
                node_id: n.id.to_string(),
                operator: operator.clone(),
                kind,
                upstream,
                attestation,
                key: n.signer.key(),
                pay_to: n.payee.address(),
                endpoint: format!("https://{}.example", n.id),
                models,
                bond: Uint128::new(1_000_000),
                status: if n.id == JAILED {
                    NodeStatus::Jailed
                } else {
                    NodeStatus::Active
                },
                jail_reason: None,
                registered_at: clock.genesis,
                unbonding_ends: None,
            };
            app.execute_contract(
                deployer.clone(),
                registry.clone(),
                &MockRegistryExec::SetNode { node },
                &[],
            )
            .unwrap();
        }

        let pool = app
            .instantiate_contract(
                pool_code,
                deployer.clone(),
                &MockPoolInit {
                    clock,
                    governance: governance.to_string(),
                    registry: registry.to_string(),
                },
                &[],
                "pool",
                None,
            )
            .unwrap();
        let facilitator_address = facilitator.address();
        let msg = InstantiateMsg {
            governance: governance.to_string(),
            registry: registry.to_string(),
            reward_pool: pool.to_string(),
            networks: default_networks(),
            // Checksummed on input: stored lowercase.
            facilitators: vec![facilitator_address.to_uppercase().replacen("0X", "0x", 1)],
            require_settlement: true,
            max_batch: 100,
        };
        let verifier = app
            .instantiate_contract(
                verifier_code,
                deployer.clone(),
                &msg,
                &[],
                "verifier",
                Some(deployer.to_string()),
            )
            .unwrap_or_else(|e| panic!("instantiate verifier: {e:?}"));
        let domain = verifier_domain_separator(&chain_id, verifier.as_str());
        // Start in the middle of epoch 1, so epoch 0 is in the past and epoch 1 open.
        let mut suite = Suite {
            app,
            governance,
            registry,
            pool,
            verifier,
            verifier_code,
            clock,
            domain,
            nodes,
            payers,
            facilitator,
            attester,
            next_nonce: 1,
        };
        let target = clock.start(1) + EPOCH_LENGTH / 2;
        suite.set_time(target);
        suite
    }

    pub fn now(&self) -> u64 {
        self.app.block_info().time.seconds()
    }

    /// Moves the block time (forward only) and bumps the height.
    pub fn set_time(&mut self, t: u64) {
        let now = self.now();
        assert!(t >= now, "time only moves forward");
        self.app.update_block(|b| {
            b.time = b.time.plus_seconds(t - now);
            b.height += 1;
        });
    }

    pub fn node(&self, id: &str) -> &TestNode {
        self.nodes.iter().find(|n| n.id == id).unwrap()
    }

    pub fn fresh_nonce(&mut self) -> [u8; 32] {
        let mut n = [0u8; 32];
        n[24..].copy_from_slice(&self.next_nonce.to_be_bytes());
        n[0] = 0xab;
        self.next_nonce += 1;
        n
    }

    /// A valid v1 receipt spec: proxy-1 serving GPT-4.1 to payer 0, 0.01 USDC, served 60 s ago,
    /// a five-minute payment window, settled by the allow-listed facilitator.
    pub fn spec(&mut self) -> Spec {
        let served_at = self.now() - 60;
        Spec {
            version: 1,
            node: PROXY,
            model: GPT,
            payer: self.payers[0].clone(),
            nonce: self.fresh_nonce(),
            value: 10_000,
            served_at,
            valid_after: served_at - 30,
            valid_before: served_at + 270,
            facilitator: Some(self.facilitator.clone()),
            pay_to: None,
        }
    }

    /// A valid spec for the local (ed25519) node serving Llama.
    pub fn local_spec(&mut self) -> Spec {
        let mut s = self.spec();
        s.node = LOCAL;
        s.model = LLAMA;
        s
    }

    pub fn requirements(&self, spec: &Spec) -> PaymentRequirements {
        let pay_to = spec
            .pay_to
            .clone()
            .unwrap_or_else(|| self.node(spec.node).payee.address());
        let extra = Some(ExactEvmExtra {
            name: Some("USDC".to_string()),
            version: Some("2".to_string()),
            ..ExactEvmExtra::default()
        });
        if spec.version == 1 {
            PaymentRequirements {
                scheme: "exact".to_string(),
                network: NETWORK_V1.to_string(),
                max_amount_required: Some(spec.value.to_string()),
                amount: None,
                resource: Some(format!("https://{}.example/v1/chat/completions", spec.node)),
                description: Some("inference".to_string()),
                mime_type: Some("application/json".to_string()),
                pay_to,
                max_timeout_seconds: Some(300),
                asset: USDC.to_string(),
                extra,
            }
        } else {
            PaymentRequirements {
                scheme: "exact".to_string(),
                network: NETWORK_V2.to_string(),
                max_amount_required: None,
                amount: Some(spec.value.to_string()),
                resource: None,
                description: None,
                mime_type: None,
                pay_to,
                max_timeout_seconds: Some(300),
                asset: USDC.to_string(),
                extra,
            }
        }
    }

    pub fn receipt(&self, spec: &Spec) -> SignedReceipt {
        let params = PaymentParams {
            x402_version: spec.version,
            requirements: self.requirements(spec),
            value: spec.value,
            valid_after: spec.valid_after,
            valid_before: spec.valid_before,
            nonce: spec.nonce,
        };
        let receipt = InferenceReceipt {
            node_id: spec.node.to_string(),
            model_id: spec.model.to_string(),
            request_digest: Binary::from([1u8; 32].as_slice()),
            response_digest: Binary::from([2u8; 32].as_slice()),
            prompt_tokens: 120,
            completion_tokens: 480,
            served_at: spec.served_at,
        };
        make_signed_receipt(
            &spec.payer,
            &self.node(spec.node).signer,
            spec.facilitator.as_ref(),
            &self.domain,
            &params,
            receipt,
            [9u8; 32],
        )
    }

    pub fn heartbeat(&self, node: &str, timestamp: u64) -> Heartbeat {
        let epoch = self.clock.epoch_of(timestamp).unwrap();
        sign_heartbeat(
            &self.node(node).signer,
            &self.domain,
            node,
            epoch,
            timestamp,
        )
    }

    pub fn submit(
        &mut self,
        receipts: Vec<SignedReceipt>,
        heartbeats: Vec<Heartbeat>,
    ) -> Result<(SubmitReceiptsResponse, AppResponse), ContractError> {
        let sender = self.app.api().addr_make("keeper");
        let res = self
            .app
            .execute_contract(
                sender,
                self.verifier.clone(),
                &ExecuteMsg::SubmitReceipts(SubmitReceiptsMsg {
                    receipts,
                    heartbeats,
                    compact: vec![],
                }),
                &[],
            )
            .map_err(contract_error)?;
        let data: SubmitReceiptsResponse = from_json(res.data.clone().unwrap()).unwrap();
        Ok((data, res))
    }

    /// The compact form of `receipt` under this suite's config (`opg_core::codec`), as the
    /// keeper encodes it.
    pub fn compact(&self, receipt: &SignedReceipt) -> Binary {
        let networks = default_networks();
        let facilitators =
            [opg_core::verify::parse_evm_address(&self.facilitator.address()).unwrap()];
        let ctx = opg_core::codec::EncodeContext {
            networks: &networks,
            facilitators: &facilitators,
        };
        let c = opg_core::codec::compact_receipt(receipt, &ctx).expect("encodable");
        Binary::new(opg_core::codec::encode(&c).unwrap())
    }

    /// `SubmitReceipts` with JSON receipts and compact ones.
    pub fn submit_mixed(
        &mut self,
        receipts: Vec<SignedReceipt>,
        compact: Vec<Binary>,
    ) -> Result<(SubmitReceiptsResponse, AppResponse), ContractError> {
        let sender = self.app.api().addr_make("keeper");
        let res = self
            .app
            .execute_contract(
                sender,
                self.verifier.clone(),
                &ExecuteMsg::SubmitReceipts(SubmitReceiptsMsg {
                    receipts,
                    heartbeats: vec![],
                    compact,
                }),
                &[],
            )
            .map_err(contract_error)?;
        let data: SubmitReceiptsResponse = from_json(res.data.clone().unwrap()).unwrap();
        Ok((data, res))
    }

    pub fn execute(
        &mut self,
        sender: &Addr,
        msg: &ExecuteMsg,
    ) -> Result<AppResponse, ContractError> {
        self.app
            .execute_contract(sender.clone(), self.verifier.clone(), msg, &[])
            .map_err(contract_error)
    }

    /// Chain governance moves `max_batch` to `target` one allowed step (x2 or /2) at a time.
    pub fn set_max_batch(&mut self, target: u32) {
        loop {
            let cfg: opg_core::msg::verifier::ConfigResponse = self
                .app
                .wrap()
                .query_wasm_smart(&self.verifier, &QueryMsg::Config {})
                .unwrap();
            if cfg.max_batch == target {
                return;
            }
            let next = target.clamp(cfg.max_batch / 2, cfg.max_batch * 2);
            self.app
                .wasm_sudo(
                    self.verifier.clone(),
                    &opg_core::msg::verifier::SudoMsg::UpdateConfig(
                        opg_core::msg::verifier::UpdateConfigMsg {
                            max_batch: Some(next),
                            ..Default::default()
                        },
                    ),
                )
                .unwrap();
        }
    }

    pub fn prune(&mut self, limit: u32) -> Result<AppResponse, ContractError> {
        let sender = self.app.api().addr_make("anyone");
        self.execute(&sender, &ExecuteMsg::PruneNonces(PruneNoncesMsg { limit }))
    }

    /// Sets the mock pool's `v_cap` (micro-USD) from `from_epoch` on.
    pub fn set_pool_v_cap(&mut self, from_epoch: u64, v_cap: u128) {
        let pool = self.pool.clone();
        let mut store = self.app.contract_storage_mut(&pool);
        POOL_V_CAPS
            .save(store.as_mut(), from_epoch, &Uint128::new(v_cap))
            .unwrap();
    }

    pub fn recorded(&self) -> Vec<Recorded> {
        self.app
            .wrap()
            .query_wasm_smart(&self.pool, &MockPoolQuery::Recorded {})
            .unwrap()
    }

    pub fn status(&self, payer: &str, nonce: &[u8; 32]) -> ReceiptStatusResponse {
        self.app
            .wrap()
            .query_wasm_smart(
                &self.verifier,
                &QueryMsg::ReceiptStatus {
                    payer: payer.to_string(),
                    nonce: format!("0x{}", hex::encode(nonce)),
                },
            )
            .unwrap()
    }

    pub fn verify(&self, receipt: &SignedReceipt) -> ReceiptVerdict {
        self.app
            .wrap()
            .query_wasm_smart(
                &self.verifier,
                &QueryMsg::VerifyReceipt {
                    receipt: receipt.clone(),
                },
            )
            .unwrap()
    }

    pub fn set_node_status(&mut self, node_id: &str, status: NodeStatus) {
        let mut node: NodeInfo = self
            .app
            .wrap()
            .query_wasm_smart(
                &self.registry,
                &RegistryQueryMsg::Node {
                    node_id: node_id.to_string(),
                },
            )
            .unwrap();
        node.status = status;
        let sender = self.app.api().addr_make("deployer");
        self.app
            .execute_contract(
                sender,
                self.registry.clone(),
                &MockRegistryExec::SetNode { node },
                &[],
            )
            .unwrap();
    }
}

impl Default for Suite {
    fn default() -> Self {
        Self::new()
    }
}

pub fn model(id: &str, provenance: Provenance) -> ModelInfo {
    ModelInfo {
        id: id.to_string(),
        provenance,
        weights_digest: None,
    }
}

/// The verifier's error inside a multi-test error.
pub fn contract_error(e: anyhow::Error) -> ContractError {
    match e.downcast::<ContractError>() {
        Ok(c) => c,
        Err(e) => panic!("not a ContractError: {e:?}"),
    }
}

/// The reasons of a batch's receipts, in order (`"accepted"` when accepted).
pub fn reasons(data: &SubmitReceiptsResponse) -> Vec<String> {
    data.receipts
        .iter()
        .map(|r| r.rejected.clone().unwrap_or_else(|| "accepted".to_string()))
        .collect()
}

/// The verifier's `wasm` event.
pub fn wasm_event(res: &AppResponse) -> &Event {
    res.events
        .iter()
        .find(|e| e.ty == "wasm" && e.attributes.iter().any(|a| a.key == "action"))
        .unwrap()
}

/// An attribute of the verifier's `wasm` event.
pub fn attr(res: &AppResponse, key: &str) -> Option<String> {
    wasm_event(res)
        .attributes
        .iter()
        .find(|a| a.key == key)
        .map(|a| a.value.clone())
}
