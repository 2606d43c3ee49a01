//! Test suite: the pool, a tiny mock registry and helpers to move the clock.
use std::str::FromStr;

use cosmwasm_schema::cw_serde;
use cosmwasm_std::{
    coins, to_json_binary, Addr, Binary, Decimal, Deps, DepsMut, Empty, Env, MessageInfo, Response,
    StdError, StdResult, Timestamp, Uint128,
};
use cw_multi_test::{App, AppBuilder, AppResponse, ContractWrapper, Executor};
use cw_storage_plus::Map;
use opg_core::epoch::EpochClock;
use opg_core::msg::pool::{
    ConfigResponse, EpochReport, ExecuteMsg, HardwareWeight, InstantiateMsg, LiveNode,
    MultipliersResponse, NodeRewardsResponse, ParamsResponse, PendingRewardsResponse, QueryMsg,
    RewardParams, UsageEntry,
};
use opg_core::msg::registry::{NodeInfo, QueryMsg as RegistryQueryMsg};
use opg_core::types::{NodeKey, NodeKindTag, NodeStatus, Provenance};

use crate::ContractError;

pub const DENOM: &str = "uopg";
pub const GENESIS: u64 = 1_000_000;
pub const EPOCH: u64 = 1_000;
pub const GRACE: u64 = 100;

pub fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

/// Default params: emission 1_000_000 uopg, m_c = 1, M = 3, S* = 0.5, alpha = 0.2,
/// v_cap = 10^9 micro-USD (no test call reaches it), no per-call cap `c_call`, h100 = 1.5 and
/// rtx4090 = 1 with stipend caps of 10^9 uopg (never binding at this emission), claim window
/// 10,000 epochs (nothing expires unless a test says so).
pub fn default_params() -> RewardParams {
    RewardParams {
        emission_per_epoch: Uint128::new(1_000_000),
        m_commercial: Decimal::one(),
        m_community_max: dec("3"),
        target_share: dec("0.5"),
        alpha: dec("0.2"),
        v_cap: Uint128::new(DEFAULT_TEST_V_CAP),
        c_call: None,
        claim_epochs: 10_000,
        hardware_weights: vec![
            HardwareWeight {
                class: "h100".into(),
                weight: dec("1.5"),
                stipend_cap: Uint128::new(1_000_000_000),
            },
            HardwareWeight {
                class: "rtx4090".into(),
                weight: dec("1"),
                stipend_cap: Uint128::new(1_000_000_000),
            },
        ],
    }
}

/// `v_cap` of [`default_params`] (micro-USD).
pub const DEFAULT_TEST_V_CAP: u128 = 1_000_000_000;

// ---- mock registry: node id -> operator, set at instantiation -------------------------------

#[cw_serde]
pub struct MockRegistryInit {
    pub nodes: Vec<(String, String)>,
}

const OPERATORS: Map<&str, Addr> = Map::new("operators");

fn mock_instantiate(
    deps: DepsMut,
    _env: Env,
    _info: MessageInfo,
    msg: MockRegistryInit,
) -> StdResult<Response> {
    for (id, op) in msg.nodes {
        OPERATORS.save(deps.storage, &id, &deps.api.addr_validate(&op)?)?;
    }
    Ok(Response::new())
}

fn mock_execute(_: DepsMut, _: Env, _: MessageInfo, _: Empty) -> StdResult<Response> {
    Err(StdError::generic_err("mock registry: no execute"))
}

fn mock_query(deps: Deps, _env: Env, msg: RegistryQueryMsg) -> StdResult<Binary> {
    match msg {
        RegistryQueryMsg::Node { node_id } => {
            let operator = OPERATORS
                .may_load(deps.storage, &node_id)?
                .ok_or_else(|| StdError::generic_err(format!("unknown node {node_id}")))?;
            to_json_binary(&NodeInfo {
                node_id,
                operator,
                kind: NodeKindTag::Proxy,
                upstream: None,
                attestation: None,
                key: NodeKey::Secp256k1 {
                    address: "0x0000000000000000000000000000000000000001".into(),
                },
                pay_to: "0x0000000000000000000000000000000000000002".into(),
                endpoint: "https://node.example".into(),
                models: vec![],
                bond: Uint128::zero(),
                status: NodeStatus::Active,
                jail_reason: None,
                registered_at: GENESIS,
                unbonding_ends: None,
            })
        }
        _ => Err(StdError::generic_err("mock registry: unsupported query")),
    }
}

// ---- suite -----------------------------------------------------------------------------------

pub struct Suite {
    pub app: App,
    pub pool: Addr,
    pub registry: Addr,
    pub governance: Addr,
    pub verifier: Addr,
    pub funder: Addr,
    pub clock: EpochClock,
}

/// Nodes known to the mock registry and their operators' names.
pub const NODES: [(&str, &str); 4] = [
    ("proxy-1", "op-proxy-1"),
    ("proxy-2", "op-proxy-2"),
    ("local-1", "op-local-1"),
    ("local-2", "op-local-2"),
];

pub fn instantiate_msg(
    suite_addrs: (&Addr, &Addr, Option<&Addr>),
    params: RewardParams,
) -> InstantiateMsg {
    let (governance, registry, verifier) = suite_addrs;
    InstantiateMsg {
        governance: governance.to_string(),
        registry: registry.to_string(),
        verifier: verifier.map(|v| v.to_string()),
        denom: DENOM.into(),
        clock: EpochClock {
            genesis: GENESIS,
            epoch_length: EPOCH,
            grace: GRACE,
        },
        params,
    }
}

impl Suite {
    pub fn new() -> Self {
        Self::with_params(default_params())
    }

    pub fn with_params(params: RewardParams) -> Self {
        let mut app = AppBuilder::new().build(|router, api, storage| {
            router
                .bank
                .init_balance(
                    storage,
                    &api.addr_make("funder"),
                    coins(1_000_000_000, DENOM),
                )
                .unwrap();
        });
        let governance = app.api().addr_make("governance");
        let verifier = app.api().addr_make("verifier");
        let funder = app.api().addr_make("funder");
        let owner = app.api().addr_make("owner");
        let registry_code = app.store_code(Box::new(ContractWrapper::new(
            mock_execute,
            mock_instantiate,
            mock_query,
        )));
        let nodes = NODES
            .iter()
            .map(|(id, op)| (id.to_string(), app.api().addr_make(op).to_string()))
            .collect();
        let registry = app
            .instantiate_contract(
                registry_code,
                owner.clone(),
                &MockRegistryInit { nodes },
                &[],
                "registry",
                None,
            )
            .unwrap();
        let pool_code = app.store_code(Box::new(
            ContractWrapper::new(
                crate::contract::execute,
                crate::contract::instantiate,
                crate::contract::query,
            )
            .with_sudo(crate::contract::sudo),
        ));
        app.update_block(|b| b.time = Timestamp::from_seconds(GENESIS - 10));
        let pool = app
            .instantiate_contract(
                pool_code,
                owner,
                &instantiate_msg((&governance, &registry, Some(&verifier)), params),
                &[],
                "pool",
                None,
            )
            .unwrap();
        let clock = EpochClock {
            genesis: GENESIS,
            epoch_length: EPOCH,
            grace: GRACE,
        };
        Suite {
            app,
            pool,
            registry,
            governance,
            verifier,
            funder,
            clock,
        }
    }

    pub fn addr(&self, name: &str) -> Addr {
        self.app.api().addr_make(name)
    }

    pub fn set_time(&mut self, t: u64) {
        self.app
            .update_block(|b| b.time = Timestamp::from_seconds(t));
    }

    /// Moves the clock into epoch `e` (its first second + 1).
    pub fn in_epoch(&mut self, e: u64) {
        let t = self.clock.start(e) + 1;
        self.set_time(t);
    }

    /// Moves the clock to the first second epoch `e` may be finalized.
    pub fn after_grace(&mut self, e: u64) {
        let t = self.clock.end(e) + GRACE;
        self.set_time(t);
    }

    pub fn fund(&mut self, amount: u128) -> Result<AppResponse, ContractError> {
        let funder = self.funder.clone();
        self.app
            .execute_contract(
                funder,
                self.pool.clone(),
                &ExecuteMsg::Fund {},
                &coins(amount, DENOM),
            )
            .map_err(|e| e.downcast().unwrap())
    }

    pub fn record_as(
        &mut self,
        sender: &Addr,
        entries: Vec<UsageEntry>,
        live: Vec<LiveNode>,
    ) -> Result<AppResponse, ContractError> {
        self.app
            .execute_contract(
                sender.clone(),
                self.pool.clone(),
                &ExecuteMsg::RecordUsage { entries, live },
                &[],
            )
            .map_err(|e| e.downcast().unwrap())
    }

    pub fn record(
        &mut self,
        entries: Vec<UsageEntry>,
        live: Vec<LiveNode>,
    ) -> Result<AppResponse, ContractError> {
        let v = self.verifier.clone();
        self.record_as(&v, entries, live)
    }

    pub fn finalize(&mut self, epoch: u64) -> Result<AppResponse, ContractError> {
        let anyone = self.addr("anyone");
        self.app
            .execute_contract(
                anyone,
                self.pool.clone(),
                &ExecuteMsg::FinalizeEpoch { epoch },
                &[],
            )
            .map_err(|e| e.downcast().unwrap())
    }

    /// Moves past the grace of `e` and finalizes it.
    pub fn close(&mut self, epoch: u64) {
        self.after_grace(epoch);
        self.finalize(epoch).unwrap();
    }

    pub fn claim_as(
        &mut self,
        sender: &Addr,
        node_id: &str,
        limit: Option<u32>,
    ) -> Result<AppResponse, ContractError> {
        self.app
            .execute_contract(
                sender.clone(),
                self.pool.clone(),
                &ExecuteMsg::Claim {
                    node_id: node_id.into(),
                    limit,
                },
                &[],
            )
            .map_err(|e| e.downcast().unwrap())
    }

    /// Claims as the node's operator.
    pub fn claim(
        &mut self,
        node_id: &str,
        limit: Option<u32>,
    ) -> Result<AppResponse, ContractError> {
        let op = self.operator(node_id);
        self.claim_as(&op, node_id, limit)
    }

    pub fn operator(&self, node_id: &str) -> Addr {
        let (_, op) = NODES.iter().find(|(id, _)| *id == node_id).unwrap();
        self.addr(op)
    }

    pub fn execute_as(
        &mut self,
        sender: &Addr,
        msg: &ExecuteMsg,
    ) -> Result<AppResponse, ContractError> {
        self.app
            .execute_contract(sender.clone(), self.pool.clone(), msg, &[])
            .map_err(|e| e.downcast().unwrap())
    }

    pub fn sudo(
        &mut self,
        msg: &opg_core::msg::pool::SudoMsg,
    ) -> Result<AppResponse, ContractError> {
        self.app
            .wasm_sudo(self.pool.clone(), msg)
            .map_err(|e| e.downcast().unwrap())
    }

    pub fn balance(&self, addr: &Addr) -> u128 {
        self.app
            .wrap()
            .query_balance(addr, DENOM)
            .unwrap()
            .amount
            .u128()
    }

    pub fn config(&self) -> ConfigResponse {
        self.app
            .wrap()
            .query_wasm_smart(&self.pool, &QueryMsg::Config {})
            .unwrap()
    }

    pub fn params(&self) -> ParamsResponse {
        self.app
            .wrap()
            .query_wasm_smart(&self.pool, &QueryMsg::Params {})
            .unwrap()
    }

    pub fn multipliers(&self, epoch: u64) -> MultipliersResponse {
        self.app
            .wrap()
            .query_wasm_smart(&self.pool, &QueryMsg::Multipliers { epoch })
            .unwrap()
    }

    pub fn report(&self, epoch: u64) -> EpochReport {
        self.app
            .wrap()
            .query_wasm_smart(&self.pool, &QueryMsg::EpochReport { epoch })
            .unwrap()
    }

    pub fn node_rewards(
        &self,
        node_id: &str,
        start_after: Option<u64>,
        limit: Option<u32>,
    ) -> NodeRewardsResponse {
        self.app
            .wrap()
            .query_wasm_smart(
                &self.pool,
                &QueryMsg::NodeRewards {
                    node_id: node_id.into(),
                    start_after,
                    limit,
                },
            )
            .unwrap()
    }

    pub fn pending(&self, node_id: &str) -> PendingRewardsResponse {
        self.app
            .wrap()
            .query_wasm_smart(
                &self.pool,
                &QueryMsg::PendingRewards {
                    node_id: node_id.into(),
                },
            )
            .unwrap()
    }
}

/// A usage entry whose calls all count whole (`counted_value = value`; valid while no call is
/// above `v_cap`).
pub fn usage(epoch: u64, node_id: &str, calls: u64, value: u128) -> UsageEntry {
    usage_counted(epoch, node_id, calls, value, value)
}

/// A usage entry with an explicit counted value (micro-USD).
pub fn usage_counted(
    epoch: u64,
    node_id: &str,
    calls: u64,
    value: u128,
    counted: u128,
) -> UsageEntry {
    let provenance = if node_id.starts_with("proxy") {
        Provenance::Commercial
    } else {
        Provenance::Community
    };
    UsageEntry {
        epoch,
        node_id: node_id.into(),
        provenance,
        calls,
        value: Uint128::new(value),
        counted_value: Uint128::new(counted),
    }
}

/// A live local node.
pub fn live(epoch: u64, node_id: &str, class: &str) -> LiveNode {
    LiveNode {
        epoch,
        node_id: node_id.into(),
        hardware_class: class.into(),
    }
}
