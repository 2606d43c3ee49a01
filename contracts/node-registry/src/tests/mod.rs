//! Tests of the node registry on cw-multi-test: one file per topic, a shared [`Suite`].
mod attestations;
mod governance;
mod instantiate;
mod lifecycle;
mod migrate;
mod queries;
mod register;
mod strict;
mod sudo;
mod update;

use cosmwasm_std::{
    coins, to_json_binary, Addr, Binary, Coin, Deps, DepsMut, Empty, Env, MessageInfo, Response,
    StdError, StdResult,
};
use cw_multi_test::{App, AppBuilder, AppResponse, ContractWrapper, Executor};
use opg_core::eip712::registry_domain_separator;
use opg_core::msg::registry::{AddAttesterMsg, AddModelMsg, RegisterMsg, UpdateNodeMsg};
use opg_core::msg::registry::{ExecuteMsg, InstantiateMsg, NodeInfo, NodeKind, QueryMsg, SudoMsg};
use opg_core::sign::{sign_attestation, EvmSigner, NodeSigner};
use opg_core::types::{HardwareAttestation, NodeKey, Provenance};
use serde::de::DeserializeOwned;

use crate::contract::{execute, instantiate, migrate, query, sudo};
use crate::ContractError;

/// Bond denom of the suite.
pub const DENOM: &str = "uopg";
/// `min_bond` of the suite (uopg).
pub const MIN_BOND: u128 = 1_000;
/// `unbonding_period` of the suite (seconds).
pub const UNBONDING: u64 = 7 * 86_400;
/// Starting balance of every operator (uopg).
pub const START_BALANCE: u128 = 1_000_000;
/// Commercial models on the suite's list.
pub const GPT: &str = "openai/gpt-4.1";
/// Second commercial model.
pub const CLAUDE: &str = "anthropic/claude-sonnet-4";
/// Community model.
pub const LLAMA: &str = "meta-llama/llama-3.1-8b-instruct";
/// Second community model.
pub const QWEN: &str = "qwen/qwen3-32b";
/// Operators funded at genesis.
pub const OPERATORS: [&str; 4] = ["op1", "op2", "op3", "op4"];

fn pool_instantiate(_: DepsMut, _: Env, _: MessageInfo, _: Empty) -> StdResult<Response> {
    Ok(Response::new())
}

/// A stand-in reward pool that accepts `Fund {}` only.
fn pool_execute(
    _: DepsMut,
    _: Env,
    info: MessageInfo,
    msg: opg_core::msg::pool::ExecuteMsg,
) -> StdResult<Response> {
    match msg {
        opg_core::msg::pool::ExecuteMsg::Fund {} => Ok(Response::new()
            .add_attribute("action", "fund")
            .add_attribute("funds", format!("{:?}", info.funds))),
        _ => Err(StdError::generic_err("mock pool accepts Fund only")),
    }
}

fn pool_query(_: Deps, _: Env, _: Empty) -> StdResult<Binary> {
    to_json_binary(&Empty {})
}

/// The registry and a mock pool on a multi-test app, with models and one allow-listed attester.
pub struct Suite {
    pub app: App,
    pub registry: Addr,
    pub pool: Addr,
    pub gov: Addr,
    pub attester: EvmSigner,
    pub code_id: u64,
}

impl Suite {
    /// Registry with a reward pool, four models, one attester.
    pub fn new() -> Self {
        Self::build(true)
    }

    /// Registry without a reward pool configured.
    pub fn without_pool() -> Self {
        Self::build(false)
    }

    fn build(with_pool: bool) -> Self {
        let mut app = AppBuilder::new().build(|router, api, storage| {
            for name in OPERATORS {
                let mut funds = coins(START_BALANCE, DENOM);
                funds.push(Coin::new(START_BALANCE, "uatom"));
                router
                    .bank
                    .init_balance(storage, &api.addr_make(name), funds)
                    .unwrap();
            }
        });
        let gov = app.api().addr_make("gov");
        let code_id = app.store_code(Box::new(
            ContractWrapper::new(execute, instantiate, query)
                .with_sudo(sudo)
                .with_migrate(migrate),
        ));
        let pool_code = app.store_code(Box::new(ContractWrapper::new(
            pool_execute,
            pool_instantiate,
            pool_query,
        )));
        let pool = app
            .instantiate_contract(pool_code, gov.clone(), &Empty {}, &[], "pool", None)
            .unwrap();
        let registry = app
            .instantiate_contract(
                code_id,
                gov.clone(),
                &InstantiateMsg {
                    governance: gov.to_string(),
                    bond_denom: DENOM.to_string(),
                    min_bond: MIN_BOND.into(),
                    unbonding_period: UNBONDING,
                    reward_pool: with_pool.then(|| pool.to_string()),
                    max_attestation_validity: None,
                },
                &[],
                "registry",
                Some(gov.to_string()),
            )
            .unwrap();
        let mut suite = Suite {
            app,
            registry,
            pool,
            gov,
            attester: EvmSigner::derive(b"registry-tests", "attester"),
            code_id,
        };
        for (id, provenance) in [
            (GPT, Provenance::Commercial),
            (CLAUDE, Provenance::Commercial),
            (LLAMA, Provenance::Community),
            (QWEN, Provenance::Community),
        ] {
            suite
                .gov_exec(&ExecuteMsg::AddModel(AddModelMsg {
                    id: id.to_string(),
                    provenance,
                    weights_digest: None,
                }))
                .unwrap();
        }
        let attester = suite.attester.address();
        suite
            .gov_exec(&ExecuteMsg::AddAttester(AddAttesterMsg {
                address: attester,
            }))
            .unwrap();
        suite
    }

    /// An address from a name.
    pub fn addr(&self, name: &str) -> Addr {
        self.app.api().addr_make(name)
    }

    /// Block time (unix seconds).
    pub fn now(&self) -> u64 {
        self.app.block_info().time.seconds()
    }

    /// Moves the block time forward.
    pub fn advance(&mut self, seconds: u64) {
        self.app.update_block(|b| {
            b.time = b.time.plus_seconds(seconds);
            b.height += 1;
        });
    }

    /// Bank balance of `addr` in the bond denom.
    pub fn balance(&self, addr: &Addr) -> u128 {
        self.app
            .wrap()
            .query_balance(addr, DENOM)
            .unwrap()
            .amount
            .u128()
    }

    /// Executes on the registry, returning the contract error on failure.
    pub fn exec(
        &mut self,
        sender: &Addr,
        msg: &ExecuteMsg,
        funds: &[Coin],
    ) -> Result<AppResponse, ContractError> {
        self.app
            .execute_contract(sender.clone(), self.registry.clone(), msg, funds)
            .map_err(|e| e.downcast::<ContractError>().unwrap())
    }

    /// Executes as governance.
    pub fn gov_exec(&mut self, msg: &ExecuteMsg) -> Result<AppResponse, ContractError> {
        let gov = self.gov.clone();
        self.exec(&gov, msg, &[])
    }

    /// Sudo on the registry.
    pub fn sudo(&mut self, msg: &SudoMsg) -> Result<AppResponse, ContractError> {
        self.app
            .wasm_sudo(self.registry.clone(), msg)
            .map_err(|e| e.downcast::<ContractError>().unwrap())
    }

    /// Smart query of the registry.
    pub fn query<T: DeserializeOwned>(&self, msg: &QueryMsg) -> StdResult<T> {
        self.app.wrap().query_wasm_smart(&self.registry, msg)
    }

    /// A registered node (panics if unknown).
    pub fn node(&self, node_id: &str) -> NodeInfo {
        self.query(&QueryMsg::Node {
            node_id: node_id.to_string(),
        })
        .unwrap()
    }

    /// The registry's attestation domain separator.
    pub fn domain(&self) -> [u8; 32] {
        registry_domain_separator(&self.app.block_info().chain_id, self.registry.as_str())
    }

    /// An attestation by `signer` of `operator`'s `key`, class `h100`, expiring `valid_for` seconds
    /// from now.
    pub fn attest_by(
        &self,
        signer: &EvmSigner,
        operator: &Addr,
        key: &NodeKey,
        valid_for: u64,
    ) -> HardwareAttestation {
        sign_attestation(
            signer,
            &self.domain(),
            operator.as_str(),
            key,
            "h100",
            [7u8; 32],
            self.now() + valid_for,
        )
    }

    /// An attestation by the suite's attester, valid for 30 days.
    pub fn attest(&self, operator: &Addr, key: &NodeKey) -> HardwareAttestation {
        self.attest_by(&self.attester, operator, key, 30 * 86_400)
    }

    /// Registers a proxy node serving GPT with `MIN_BOND`; returns its signer.
    pub fn register_proxy(&mut self, operator: &Addr, node_id: &str) -> NodeSigner {
        let signer = NodeSigner::derive(b"registry-tests", node_id, false);
        let msg = proxy_msg(node_id, signer.key(), vec![GPT]);
        self.exec(operator, &msg, &coins(MIN_BOND, DENOM)).unwrap();
        signer
    }

    /// Registers a local node serving LLAMA with `MIN_BOND`; returns its signer.
    pub fn register_local(&mut self, operator: &Addr, node_id: &str) -> NodeSigner {
        let signer = NodeSigner::derive(b"registry-tests", node_id, false);
        let attestation = self.attest(operator, &signer.key());
        let msg = local_msg(node_id, signer.key(), attestation, vec![LLAMA]);
        self.exec(operator, &msg, &coins(MIN_BOND, DENOM)).unwrap();
        signer
    }
}

/// A `Register` of a proxy node.
pub fn proxy_msg(node_id: &str, key: NodeKey, models: Vec<&str>) -> ExecuteMsg {
    ExecuteMsg::Register(RegisterMsg {
        node_id: node_id.to_string(),
        kind: NodeKind::Proxy {
            upstream: "https://api.openai.com".to_string(),
        },
        key,
        pay_to: "0xAbCdEf0123456789aBcDeF0123456789AbCdEf01".to_string(),
        endpoint: format!("https://{node_id}.example.org/v1"),
        models: models.into_iter().map(str::to_string).collect(),
    })
}

/// A `Register` of a local node.
pub fn local_msg(
    node_id: &str,
    key: NodeKey,
    attestation: HardwareAttestation,
    models: Vec<&str>,
) -> ExecuteMsg {
    ExecuteMsg::Register(RegisterMsg {
        node_id: node_id.to_string(),
        kind: NodeKind::Local { attestation },
        key,
        pay_to: "0x1111111111111111111111111111111111111111".to_string(),
        endpoint: format!("https://{node_id}.example.org/v1"),
        models: models.into_iter().map(str::to_string).collect(),
    })
}

/// The value of a `wasm` event attribute of the registry's response.
pub fn wasm_attr(res: &AppResponse, key: &str) -> Option<String> {
    res.events
        .iter()
        .filter(|e| e.ty == "wasm")
        .flat_map(|e| e.attributes.iter())
        .find(|a| a.key == key)
        .map(|a| a.value.clone())
}

/// An `UpdateNode` that changes nothing, to be filled in with struct update syntax.
pub fn update_msg(node_id: &str) -> UpdateNode {
    UpdateNode {
        node_id: node_id.to_string(),
        key: None,
        pay_to: None,
        endpoint: None,
        models: None,
        upstream: None,
        attestation: None,
    }
}

/// The fields of `ExecuteMsg::UpdateNode`, as a struct so tests can use struct update syntax.
pub struct UpdateNode {
    pub node_id: String,
    pub key: Option<NodeKey>,
    pub pay_to: Option<String>,
    pub endpoint: Option<String>,
    pub models: Option<Vec<String>>,
    pub upstream: Option<String>,
    pub attestation: Option<HardwareAttestation>,
}

impl From<UpdateNode> for ExecuteMsg {
    fn from(u: UpdateNode) -> Self {
        ExecuteMsg::UpdateNode(UpdateNodeMsg {
            node_id: u.node_id,
            key: u.key,
            pay_to: u.pay_to,
            endpoint: u.endpoint,
            models: u.models,
            upstream: u.upstream,
            attestation: u.attestation,
        })
    }
}
