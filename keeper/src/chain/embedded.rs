//! The embedded chain: the three contracts' real code in-process on cw-multi-test (DESIGN §6).
//!
//! * State lives in a [`ChainStorage`]: in memory ([`EmbeddedChain::in_memory`]) or persisted in
//!   `<home>/chain.db` ([`EmbeddedChain::open`]), flushed in one SQLite transaction after every
//!   committed tx, so a restart (or a kill -9) resumes the same chain.
//! * The contract codes are registered at every start in the same order (code ids 1 registry,
//!   2 pool, 3 verifier); genesis is applied once and recorded in the database.
//! * cw-multi-test's `App` is not `Send`, so it lives on a dedicated thread and the handle sends
//!   it closures (Hermes' chain runtime + handle split); the handle is `Send + Sync`.
//! * Time: [`ClockMode::Wall`] (the `keeper run` default) moves block time to the wall clock
//!   before every call; [`ClockMode::Manual`] (tests, `opg simulate`) changes it only through
//!   [`EmbeddedChain::set_time`]. Every tx is its own block (height + 1).
use std::path::Path;
use std::sync::mpsc;
use std::thread::JoinHandle;

use cosmwasm_std::{Addr, BlockInfo, Coin, Timestamp, Uint128};
use cw_multi_test::{App, AppBuilder, ContractWrapper, Executor};
use opg_core::msg::pool::{
    ConfigResponse as PoolConfig, EpochReport, ExecuteMsg as PoolExecuteMsg,
    InstantiateMsg as PoolInstantiateMsg, QueryMsg as PoolQueryMsg,
};
use opg_core::msg::registry::{
    AddAttesterMsg, AddModelMsg, RegisterMsg, UpdateConfigMsg as RegistryUpdateConfigMsg,
};
use opg_core::msg::registry::{
    ExecuteMsg as RegistryExecuteMsg, InstantiateMsg as RegistryInstantiateMsg, NodeKind,
    NodesByIdsResponse, QueryMsg as RegistryQueryMsg,
};
use opg_core::msg::verifier::{
    ConfigResponse as VerifierConfig, InstantiateMsg as VerifierInstantiateMsg,
    QueryMsg as VerifierQueryMsg, ReceiptStatusResponse, SubmitReceiptsResponse,
};
use opg_core::receipt::{Heartbeat, SignedReceipt};
use opg_core::types::NodeKindTag;
use serde::de::DeserializeOwned;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::storage::ChainStorage;
use super::{
    tx_hash, ChainBackend, ChainError, ChainStatus, ContractRole, Deployment, SubmitOutcome,
    TxOutcome,
};
use crate::genesis::{DevKeys, GenesisConfig};

/// The cw-multi-test app over the keeper's storage.
pub type OpgApp = App<cw_multi_test::BankKeeper, cosmwasm_std::testing::MockApi, ChainStorage>;

/// How the embedded chain's block time moves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClockMode {
    /// Block time follows the wall clock (never goes back).
    Wall,
    /// Block time moves only with [`EmbeddedChain::set_time`] / [`EmbeddedChain::advance`].
    Manual,
}

/// State owned by the chain thread.
pub struct ChainRuntime {
    /// The app.
    pub app: OpgApp,
    /// Contract addresses.
    pub deployment: Deployment,
    clock: ClockMode,
}

type Job = Box<dyn FnOnce(&mut ChainRuntime) + Send>;

/// Handle to an embedded chain. Cheap to share (`Arc`), safe from any thread.
pub struct EmbeddedChain {
    jobs: Option<mpsc::Sender<Job>>,
    thread: Option<JoinHandle<()>>,
    chain_id: String,
    denom: String,
    deployment: Deployment,
    prefix: &'static str,
}

/// Bech32 prefix of addresses on the embedded chain unless opened with
/// [`EmbeddedChain::open_with_prefix`] (`MockApi`'s default).
pub const DEFAULT_PREFIX: &str = "cosmwasm";

const META_GENESIS: &str = "genesis_hash";
const META_DEPLOYMENT: &str = "deployment";
const META_HEIGHT: &str = "height";
const META_TIME: &str = "time";

fn backend(e: impl std::fmt::Display) -> ChainError {
    ChainError::Backend(e.to_string())
}

fn wall_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn contract_err(contract: &Addr, e: anyhow::Error) -> ChainError {
    ChainError::Contract {
        contract: contract.to_string(),
        message: e.root_cause().to_string(),
    }
}

impl ChainRuntime {
    fn tick_clock(&mut self) {
        if self.clock == ClockMode::Wall {
            let now = wall_now();
            self.app.update_block(|b| {
                if b.time.seconds() < now {
                    b.time = Timestamp::from_seconds(now);
                }
            });
        }
    }

    fn persist(&mut self) -> Result<(), ChainError> {
        let b = self.app.block_info();
        let meta = [
            (META_HEIGHT, b.height.to_string()),
            (META_TIME, b.time.seconds().to_string()),
        ];
        if let Err(e) = self.app.storage_mut().flush(&meta) {
            let _ = self.app.storage_mut().discard_dirty();
            return Err(backend(format!("cannot persist chain state: {e}")));
        }
        Ok(())
    }

    /// Address of a contract role.
    pub fn contract(&self, role: ContractRole) -> Addr {
        Addr::unchecked(self.deployment.address(role))
    }

    /// Executes `msg` on `contract` as `sender` in a new block; persists on success.
    pub fn execute<T: Serialize + std::fmt::Debug>(
        &mut self,
        sender: &Addr,
        contract: &Addr,
        msg: &T,
        funds: &[Coin],
    ) -> Result<TxOutcome, ChainError> {
        self.tick_clock();
        let bytes = serde_json::to_vec(msg).map_err(backend)?;
        let hash = tx_hash(&bytes);
        self.app.update_block(|b| b.height += 1);
        let height = self.app.block_info().height;
        let res = self
            .app
            .execute_contract(sender.clone(), contract.clone(), msg, funds);
        // failed txs change nothing but the height; persist that too
        self.persist()?;
        let res = res.map_err(|e| contract_err(contract, e))?;
        Ok(TxOutcome {
            tx_hash: hash,
            height,
            gas_used: 0,
            data: res.data,
        })
    }

    /// A smart query.
    pub fn query<T: DeserializeOwned>(
        &mut self,
        contract: &Addr,
        msg: &impl Serialize,
    ) -> Result<T, ChainError> {
        self.tick_clock();
        self.app
            .wrap()
            .query_wasm_smart(contract.clone(), msg)
            .map_err(|e| ChainError::Contract {
                contract: contract.to_string(),
                message: e.to_string(),
            })
    }

    /// Adds `amount` of `denom` to `addr` (genesis minting, simulations).
    pub fn mint(&mut self, addr: &Addr, denom: &str, amount: Uint128) -> Result<(), ChainError> {
        mint_into(&mut self.app, addr, denom, amount)?;
        self.persist()
    }
}

/// Adds `amount` of `denom` to `addr`'s balance. cw-multi-test's bank only *sets* balances, so
/// all of the address's coins are read and written back.
fn mint_into(
    app: &mut OpgApp,
    addr: &Addr,
    denom: &str,
    amount: Uint128,
) -> Result<(), ChainError> {
    #[allow(deprecated)] // the only way to read every denom of an address through the querier
    let mut coins = app.wrap().query_all_balances(addr).map_err(backend)?;
    match coins.iter_mut().find(|c| c.denom == denom) {
        Some(c) => c.amount = c.amount.checked_add(amount).map_err(backend)?,
        None => coins.push(Coin::new(amount, denom)),
    }
    app.init_modules(|router, _, storage| router.bank.init_balance(storage, addr, coins))
        .map_err(backend)
}

fn register_codes(app: &mut OpgApp) -> (u64, u64, u64) {
    let registry = ContractWrapper::new(
        node_registry::contract::execute,
        node_registry::contract::instantiate,
        node_registry::contract::query,
    )
    .with_sudo(node_registry::contract::sudo)
    .with_migrate(node_registry::contract::migrate);
    let pool = ContractWrapper::new(
        reward_pool::contract::execute,
        reward_pool::contract::instantiate,
        reward_pool::contract::query,
    )
    .with_sudo(reward_pool::contract::sudo)
    .with_migrate(reward_pool::contract::migrate);
    let verifier = ContractWrapper::new(
        receipt_verifier::contract::execute,
        receipt_verifier::contract::instantiate,
        receipt_verifier::contract::query,
    )
    .with_sudo(receipt_verifier::contract::sudo)
    .with_migrate(receipt_verifier::contract::migrate);
    (
        app.store_code(Box::new(registry)),
        app.store_code(Box::new(pool)),
        app.store_code(Box::new(verifier)),
    )
}

fn genesis_hash(g: &GenesisConfig) -> Result<String, ChainError> {
    let bytes = serde_json::to_vec(g).map_err(backend)?;
    Ok(hex::encode(Sha256::digest(bytes)))
}

/// Applies genesis to a fresh app (block time = genesis time). See the module docs for the order.
fn apply_genesis(
    app: &mut OpgApp,
    g: &GenesisConfig,
    codes: (u64, u64, u64),
    genesis_time: u64,
) -> Result<Deployment, ChainError> {
    let api = *app.api();
    let gov = api.addr_make(&g.governance);
    let keys = DevKeys::from_genesis(g);
    let ierr = |what: &str, e: anyhow::Error| {
        ChainError::Backend(format!("genesis: {what} failed: {}", e.root_cause()))
    };
    let registry = app
        .instantiate_contract(
            codes.0,
            gov.clone(),
            &RegistryInstantiateMsg {
                governance: gov.to_string(),
                bond_denom: g.denom.clone(),
                min_bond: g.min_bond,
                unbonding_period: g.unbonding_period,
                reward_pool: None,
                // The genesis attestations are valid for `attestation_validity` (a long
                // simulation may need more than the registry's default of 365 days; the
                // registry refuses more than 730).
                max_attestation_validity: Some(g.attestation_validity.max(365 * 86_400)),
            },
            &[],
            "opg-node-registry",
            Some(gov.to_string()),
        )
        .map_err(|e| ierr("instantiate node-registry", e))?;
    let pool = app
        .instantiate_contract(
            codes.1,
            gov.clone(),
            &PoolInstantiateMsg {
                governance: gov.to_string(),
                registry: registry.to_string(),
                verifier: None,
                denom: g.denom.clone(),
                clock: opg_core::epoch::EpochClock {
                    genesis: genesis_time,
                    epoch_length: g.epoch_length,
                    grace: g.grace,
                },
                params: g.params.clone(),
            },
            &[],
            "opg-reward-pool",
            Some(gov.to_string()),
        )
        .map_err(|e| ierr("instantiate reward-pool", e))?;
    let mut facilitators = vec![keys.facilitator.address()];
    facilitators.extend(
        g.verifier
            .extra_facilitators
            .iter()
            .map(|f| f.to_ascii_lowercase()),
    );
    let verifier = app
        .instantiate_contract(
            codes.2,
            gov.clone(),
            &VerifierInstantiateMsg {
                governance: gov.to_string(),
                registry: registry.to_string(),
                reward_pool: pool.to_string(),
                networks: g.verifier.networks.clone(),
                facilitators,
                require_settlement: g.verifier.require_settlement,
                max_batch: g.verifier.max_batch,
            },
            &[],
            "opg-receipt-verifier",
            Some(gov.to_string()),
        )
        .map_err(|e| ierr("instantiate receipt-verifier", e))?;
    let exec = |app: &mut OpgApp,
                sender: &Addr,
                contract: &Addr,
                msg: &dyn erased::Msg,
                funds: &[Coin],
                what: &str| {
        app.execute_contract(sender.clone(), contract.clone(), &msg.json(), funds)
            .map(|_| ())
            .map_err(|e| ierr(what, e))
    };
    exec(
        app,
        &gov,
        &pool,
        &PoolExecuteMsg::UpdateConfig {
            governance: None,
            verifier: Some(verifier.to_string()),
            registry: None,
        },
        &[],
        "pool UpdateConfig",
    )?;
    exec(
        app,
        &gov,
        &registry,
        &RegistryExecuteMsg::UpdateConfig(RegistryUpdateConfigMsg {
            reward_pool: Some(pool.to_string()),
            ..Default::default()
        }),
        &[],
        "registry UpdateConfig",
    )?;
    for m in &g.models {
        let weights_digest = match &m.weights_digest {
            Some(h) => Some(cosmwasm_std::Binary::from(hex::decode(h).map_err(backend)?)),
            None => None,
        };
        exec(
            app,
            &gov,
            &registry,
            &RegistryExecuteMsg::AddModel(AddModelMsg {
                id: m.id.clone(),
                provenance: m.provenance,
                weights_digest,
            }),
            &[],
            &format!("AddModel {}", m.id),
        )?;
    }
    exec(
        app,
        &gov,
        &registry,
        &RegistryExecuteMsg::AddAttester(AddAttesterMsg {
            address: keys.attester.address(),
        }),
        &[],
        "AddAttester",
    )?;
    let registry_domain =
        opg_core::eip712::registry_domain_separator(&g.chain_id, registry.as_str());
    let mint =
        |app: &mut OpgApp, addr: &Addr, amount: Uint128| mint_into(app, addr, &g.denom, amount);
    for (n, k) in g.nodes.iter().zip(&keys.nodes) {
        let operator = api.addr_make(&k.operator_label);
        let bond = g.bond_of(n);
        mint(app, &operator, bond)?;
        let key = k.signer.key();
        let kind = match n.kind {
            NodeKindTag::Proxy => NodeKind::Proxy {
                upstream: n
                    .upstream
                    .clone()
                    .unwrap_or_else(|| "https://api.openai.com".into()),
            },
            NodeKindTag::Local => {
                let class = n.hardware_class.clone().unwrap_or_default();
                let evidence: [u8; 32] = Sha256::digest(format!("dev-evidence/{}", n.id)).into();
                NodeKind::Local {
                    attestation: opg_core::sign::sign_attestation(
                        &keys.attester,
                        &registry_domain,
                        operator.as_str(),
                        &key,
                        &class,
                        evidence,
                        genesis_time.saturating_add(g.attestation_validity),
                    ),
                }
            }
        };
        exec(
            app,
            &operator,
            &registry,
            &RegistryExecuteMsg::Register(RegisterMsg {
                node_id: n.id.clone(),
                kind,
                key,
                pay_to: k.pay_to.clone(),
                endpoint: n
                    .endpoint
                    .clone()
                    .unwrap_or_else(|| format!("http://{}.invalid", n.id)),
                models: n.models.clone(),
            }),
            &[Coin::new(bond, g.denom.clone())],
            &format!("Register {}", n.id),
        )?;
    }
    if !g.pool_funding.is_zero() {
        mint(app, &gov, g.pool_funding)?;
        exec(
            app,
            &gov,
            &pool,
            &PoolExecuteMsg::Fund {},
            &[Coin::new(g.pool_funding, g.denom.clone())],
            "Fund pool",
        )?;
    }
    for b in &g.balances {
        mint(app, &api.addr_make(&b.label), b.amount)?;
    }
    Ok(Deployment {
        registry: registry.to_string(),
        verifier: verifier.to_string(),
        pool: pool.to_string(),
    })
}

/// Tiny helper so genesis can pass differently typed messages through one closure.
mod erased {
    pub trait Msg {
        fn json(&self) -> serde_json::Value;
    }
    impl<T: serde::Serialize> Msg for T {
        fn json(&self) -> serde_json::Value {
            serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
        }
    }
}

fn build_runtime(
    storage: ChainStorage,
    genesis: &GenesisConfig,
    clock: ClockMode,
    prefix: &'static str,
) -> Result<ChainRuntime, ChainError> {
    let g_hash = genesis_hash(genesis)?;
    let stored_hash = storage.meta(META_GENESIS).map_err(backend)?;
    let stored_dep = storage.meta(META_DEPLOYMENT).map_err(backend)?;
    let height: Option<u64> = storage
        .meta(META_HEIGHT)
        .map_err(backend)?
        .and_then(|h| h.parse().ok());
    let time: Option<u64> = storage
        .meta(META_TIME)
        .map_err(backend)?
        .and_then(|t| t.parse().ok());
    let genesis_time = genesis.genesis_time.unwrap_or_else(wall_now);
    let block = BlockInfo {
        height: height.unwrap_or(1),
        time: Timestamp::from_seconds(time.unwrap_or(genesis_time)),
        chain_id: genesis.chain_id.clone(),
    };
    let mut app = AppBuilder::new()
        .with_api(cosmwasm_std::testing::MockApi::default().with_prefix(prefix))
        .with_storage(storage)
        .with_block(block)
        .build(cw_multi_test::no_init);
    let codes = register_codes(&mut app);
    let deployment = match (stored_hash, stored_dep) {
        (Some(h), Some(dep)) => {
            if h != g_hash {
                return Err(ChainError::Backend(
                    "this home was created with a different [genesis]; use another --home or the original genesis".into(),
                ));
            }
            serde_json::from_str(&dep).map_err(backend)?
        }
        _ => {
            let dep = apply_genesis(&mut app, genesis, codes, genesis_time)?;
            let b = app.block_info();
            let meta = [
                (META_GENESIS, g_hash),
                (
                    META_DEPLOYMENT,
                    serde_json::to_string(&dep).map_err(backend)?,
                ),
                (META_HEIGHT, b.height.to_string()),
                (META_TIME, b.time.seconds().to_string()),
            ];
            app.storage_mut().flush(&meta).map_err(backend)?;
            dep
        }
    };
    Ok(ChainRuntime {
        app,
        deployment,
        clock,
    })
}

impl EmbeddedChain {
    /// A chain in memory (tests, `opg simulate`), manual clock starting at the genesis time
    /// (the wall clock if `genesis_time` is unset).
    pub fn in_memory(genesis: &GenesisConfig) -> Result<Self, ChainError> {
        Self::start(
            ChainStorage::in_memory(),
            genesis,
            ClockMode::Manual,
            DEFAULT_PREFIX,
        )
    }

    /// Opens (creating on first use) the chain persisted in `<home>/chain.db`, wall clock.
    /// Genesis is applied only the first time; a different genesis later is an error.
    pub fn open(home: &Path, genesis: &GenesisConfig) -> Result<Self, ChainError> {
        Self::open_with_clock(home, genesis, ClockMode::Wall)
    }

    /// [`EmbeddedChain::open`] with an explicit clock mode.
    pub fn open_with_clock(
        home: &Path,
        genesis: &GenesisConfig,
        clock: ClockMode,
    ) -> Result<Self, ChainError> {
        Self::open_with_prefix(home, genesis, clock, DEFAULT_PREFIX)
    }

    /// [`EmbeddedChain::open_with_clock`] with addresses under another bech32 `prefix`
    /// (`wasm`, as wasmd uses). The prefix is not stored: reopen a home with the
    /// prefix it was created with.
    pub fn open_with_prefix(
        home: &Path,
        genesis: &GenesisConfig,
        clock: ClockMode,
        prefix: &'static str,
    ) -> Result<Self, ChainError> {
        std::fs::create_dir_all(home).map_err(backend)?;
        let storage = ChainStorage::open(&home.join("chain.db")).map_err(backend)?;
        Self::start(storage, genesis, clock, prefix)
    }

    fn start(
        storage: ChainStorage,
        genesis: &GenesisConfig,
        clock: ClockMode,
        prefix: &'static str,
    ) -> Result<Self, ChainError> {
        genesis
            .validate()
            .map_err(|e| ChainError::Backend(e.to_string()))?;
        let (jobs_tx, jobs_rx) = mpsc::channel::<Job>();
        let (ready_tx, ready_rx) = mpsc::channel::<Result<Deployment, ChainError>>();
        let g = genesis.clone();
        let thread = std::thread::Builder::new()
            .name("opg-embedded-chain".into())
            .spawn(move || {
                let mut rt = match build_runtime(storage, &g, clock, prefix) {
                    Ok(rt) => {
                        let _ = ready_tx.send(Ok(rt.deployment.clone()));
                        rt
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                while let Ok(job) = jobs_rx.recv() {
                    job(&mut rt);
                }
            })
            .map_err(backend)?;
        let deployment = ready_rx
            .recv()
            .map_err(|_| ChainError::Backend("embedded chain thread died at start".into()))??;
        Ok(EmbeddedChain {
            jobs: Some(jobs_tx),
            thread: Some(thread),
            chain_id: genesis.chain_id.clone(),
            denom: genesis.denom.clone(),
            deployment,
            prefix,
        })
    }

    /// Runs `f` on the chain thread with the runtime and returns its result.
    pub fn with_runtime<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut ChainRuntime) -> R + Send + 'static,
    ) -> Result<R, ChainError> {
        let (tx, rx) = mpsc::channel();
        let job: Job = Box::new(move |rt| {
            let _ = tx.send(f(rt));
        });
        let dead = || ChainError::Backend("embedded chain thread has stopped".into());
        self.jobs
            .as_ref()
            .ok_or_else(dead)?
            .send(job)
            .map_err(|_| dead())?;
        rx.recv().map_err(|_| dead())
    }

    /// The native denom.
    pub fn denom(&self) -> &str {
        &self.denom
    }

    /// The address of `label` on this chain (`MockApi::addr_make` under the chain's prefix).
    pub fn addr(&self, label: &str) -> Addr {
        cosmwasm_std::testing::MockApi::default()
            .with_prefix(self.prefix)
            .addr_make(label)
    }

    /// The chain's bech32 address prefix.
    pub fn prefix(&self) -> &'static str {
        self.prefix
    }

    /// Executes a JSON message on a contract as `sender` (claims by operators, governance
    /// updates, direct submissions).
    pub fn execute_as(
        &self,
        sender: &Addr,
        contract: ContractRole,
        msg: &serde_json::Value,
        funds: &[Coin],
    ) -> Result<TxOutcome, ChainError> {
        let (sender, msg, funds) = (sender.clone(), msg.clone(), funds.to_vec());
        self.with_runtime(move |rt| {
            let c = rt.contract(contract);
            rt.execute(&sender, &c, &msg, &funds)
        })?
    }

    /// Chain governance: the contract's `sudo` entry point with a JSON message.
    pub fn sudo(
        &self,
        contract: ContractRole,
        msg: &serde_json::Value,
    ) -> Result<TxOutcome, ChainError> {
        let msg = msg.clone();
        self.with_runtime(move |rt| {
            rt.tick_clock();
            let c = rt.contract(contract);
            let bytes = serde_json::to_vec(&msg).map_err(backend)?;
            rt.app.update_block(|b| b.height += 1);
            let height = rt.app.block_info().height;
            let res = rt.app.wasm_sudo(c.clone(), &msg);
            rt.persist()?;
            let res = res.map_err(|e| contract_err(&c, e))?;
            Ok(TxOutcome {
                tx_hash: tx_hash(&bytes),
                height,
                gas_used: 0,
                data: res.data,
            })
        })?
    }

    /// Balance of `addr` in `denom`.
    pub fn balance(&self, addr: &Addr, denom: &str) -> Result<Uint128, ChainError> {
        let (addr, denom) = (addr.clone(), denom.to_string());
        self.with_runtime(move |rt| {
            rt.app
                .wrap()
                .query_balance(addr, denom)
                .map(|c| c.amount)
                .map_err(backend)
        })?
    }

    /// Mints `amount` of `denom` to `addr` (simulations, dev balances).
    pub fn mint(&self, addr: &Addr, denom: &str, amount: Uint128) -> Result<(), ChainError> {
        let (addr, denom) = (addr.clone(), denom.to_string());
        self.with_runtime(move |rt| rt.mint(&addr, &denom, amount))?
    }

    /// Sets the block time (unix seconds). Time never goes back: an earlier `t` is an error.
    pub fn set_time(&self, t: u64) -> Result<(), ChainError> {
        self.with_runtime(move |rt| {
            let cur = rt.app.block_info().time.seconds();
            if t < cur {
                return Err(ChainError::Backend(format!(
                    "block time cannot go back from {cur} to {t}"
                )));
            }
            rt.app.update_block(|b| b.time = Timestamp::from_seconds(t));
            rt.persist()
        })?
    }

    /// Moves block time forward by `secs`.
    pub fn advance(&self, secs: u64) -> Result<(), ChainError> {
        self.with_runtime(move |rt| {
            rt.app.update_block(|b| b.time = b.time.plus_seconds(secs));
            rt.persist()
        })?
    }

    /// Switches between wall-clock and manual time.
    pub fn set_clock_mode(&self, mode: ClockMode) -> Result<(), ChainError> {
        self.with_runtime(move |rt| rt.clock = mode)
    }

    fn query<T: DeserializeOwned + Send + 'static, M: Serialize + Send + 'static>(
        &self,
        role: ContractRole,
        msg: M,
    ) -> Result<T, ChainError> {
        self.with_runtime(move |rt| {
            let c = rt.contract(role);
            rt.query(&c, &msg)
        })?
    }
}

impl Drop for EmbeddedChain {
    fn drop(&mut self) {
        // closing the job channel ends the thread's loop
        self.jobs.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl ChainBackend for EmbeddedChain {
    fn chain_id(&self) -> String {
        self.chain_id.clone()
    }

    fn deployment(&self) -> Deployment {
        self.deployment.clone()
    }

    fn status(&self) -> Result<ChainStatus, ChainError> {
        self.with_runtime(|rt| {
            rt.tick_clock();
            let b = rt.app.block_info();
            ChainStatus {
                height: b.height,
                time: b.time.seconds(),
            }
        })
    }

    fn submit_receipts(
        &self,
        receipts: &[SignedReceipt],
        heartbeats: &[Heartbeat],
    ) -> Result<SubmitOutcome, ChainError> {
        let msg = super::submit_msg(receipts, heartbeats, &self.verifier_config()?);
        let sender = self.addr("keeper");
        let out = self.with_runtime(move |rt| {
            let c = rt.contract(ContractRole::Verifier);
            rt.execute(&sender, &c, &msg, &[])
        })??;
        let data = out.data.ok_or_else(|| ChainError::Decode {
            what: "SubmitReceipts response data".into(),
            message: "the verifier returned no data".into(),
        })?;
        let response: SubmitReceiptsResponse =
            cosmwasm_std::from_json(&data).map_err(|e| ChainError::Decode {
                what: "SubmitReceipts response data".into(),
                message: e.to_string(),
            })?;
        Ok(SubmitOutcome {
            tx_hash: out.tx_hash,
            height: out.height,
            gas_used: out.gas_used,
            response,
        })
    }

    fn finalize_epoch(&self, epoch: u64) -> Result<TxOutcome, ChainError> {
        let sender = self.addr("keeper");
        self.with_runtime(move |rt| {
            let c = rt.contract(ContractRole::Pool);
            rt.execute(&sender, &c, &PoolExecuteMsg::FinalizeEpoch { epoch }, &[])
        })?
    }

    fn registry_view(
        &self,
        node_ids: &[String],
        model_ids: &[String],
    ) -> Result<NodesByIdsResponse, ChainError> {
        self.query(
            ContractRole::Registry,
            RegistryQueryMsg::NodesByIds {
                ids: node_ids.to_vec(),
                models: model_ids.to_vec(),
            },
        )
    }

    fn verifier_config(&self) -> Result<VerifierConfig, ChainError> {
        self.query(ContractRole::Verifier, VerifierQueryMsg::Config {})
    }

    fn receipt_status(
        &self,
        payer: &str,
        nonce: &str,
    ) -> Result<ReceiptStatusResponse, ChainError> {
        self.query(
            ContractRole::Verifier,
            VerifierQueryMsg::ReceiptStatus {
                payer: payer.into(),
                nonce: nonce.into(),
            },
        )
    }

    fn epoch_report(&self, epoch: u64) -> Result<EpochReport, ChainError> {
        self.query(ContractRole::Pool, PoolQueryMsg::EpochReport { epoch })
    }

    fn pool_config(&self) -> Result<PoolConfig, ChainError> {
        self.query(ContractRole::Pool, PoolQueryMsg::Config {})
    }

    fn query_json(
        &self,
        contract: ContractRole,
        msg: &serde_json::Value,
    ) -> Result<serde_json::Value, ChainError> {
        self.query(contract, msg.clone())
    }
}
