//! A three-contract chain in `cosmwasm-vm` over the optimized artifacts.
//!
//! Each contract runs in its own VM [`Instance`] (the real `.wasm`, `MockApi`, a
//! [`CountingStorage`], a `MockQuerier`). Cross-contract queries are answered by the mock querier
//! with `update_wasm`, which routes a `WasmQuery::Smart` to the target contract's own instance, so
//! the answer is what that contract gives (and its gas and storage reads are counted on it).
//! Messages a response emits are dispatched like a chain would: `WasmMsg::Execute` into the target
//! with the emitting contract as sender, `BankMsg::Send` in a minimal bank whose balances the
//! contracts' `MockQuerier`s answer. There is no state rollback: a failing sub-message fails the
//! call, and tests only look at such state through the error.
use std::cell::RefCell;
use std::collections::{BTreeMap, HashSet};
use std::rc::{Rc, Weak};

use cosmwasm_std::{
    coins, from_json, Addr, BankMsg, Binary, BlockInfo, Coin, ContractInfo, ContractResult,
    CosmosMsg, Empty, Env, MessageInfo, Response, SystemError, SystemResult, TransactionInfo,
    WasmMsg, WasmQuery,
};
use cosmwasm_vm::internals::{check_wasm, Logger};
use cosmwasm_vm::testing::{mock_env, MockApi, MockQuerier};
use cosmwasm_vm::{
    call_execute, capabilities_from_csv, Backend, Instance, InstanceOptions, Size, VmError,
    WasmLimits,
};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::gas::ContractUsage;
use crate::storage::CountingStorage;

/// A VM instance of one of our contracts.
pub type VmInstance = Instance<MockApi, CountingStorage, MockQuerier>;

/// Gas limit of the instances the harness creates: large enough never to run out across a test,
/// so per-call gas is measured as a difference of gas reports.
pub const UNLIMITED_GAS: u64 = 1 << 60;

/// Memory limit of an instance (as `cosmwasm_vm::testing`).
const MEMORY_LIMIT: Size = Size::mebi(16);

/// The capabilities wasmd 0.5x offers (as `cosmwasm_vm::testing`).
const CAPABILITIES: &str = "iterator,staking,cosmwasm_1_1,cosmwasm_1_2,cosmwasm_1_3,cosmwasm_1_4,cosmwasm_2_0,cosmwasm_2_1,cosmwasm_2_2";

/// The bond and reward denom.
pub const DENOM: &str = "uopg";

/// One contract: its code, its address and its VM instance.
pub struct Contract {
    /// `registry`, `verifier` or `pool`.
    pub name: &'static str,
    /// Its address (`MockApi::addr_make(name)`).
    pub address: Addr,
    wasm: Vec<u8>,
    instance: Option<VmInstance>,
    /// VM gas of instances replaced by [`Contract::set_gas_limit`].
    gas_before: u64,
    entries: u64,
}

impl Contract {
    /// Checks `wasm` as a chain does on upload (`check_wasm`, wasmd's capabilities) and creates its
    /// instance. Panics on a bad artifact.
    pub fn new(name: &'static str, wasm: Vec<u8>) -> Self {
        let caps: HashSet<String> = capabilities_from_csv(CAPABILITIES);
        check_wasm(&wasm, &caps, &WasmLimits::default(), Logger::Off)
            .unwrap_or_else(|e| panic!("{name}: the artifact fails the chain's checks: {e}"));
        let backend = Backend {
            api: MockApi::default(),
            storage: CountingStorage::new(),
            querier: MockQuerier::new(&[]),
        };
        let instance = Instance::from_code(
            &wasm,
            backend,
            InstanceOptions {
                gas_limit: UNLIMITED_GAS,
            },
            Some(MEMORY_LIMIT),
        )
        .unwrap_or_else(|e| panic!("{name}: cannot instantiate the module: {e}"));
        Contract {
            name,
            address: Addr::unchecked(MockApi::default().addr_make(name)),
            wasm,
            instance: Some(instance),
            gas_before: 0,
            entries: 0,
        }
    }

    /// The VM instance.
    pub fn instance(&mut self) -> &mut VmInstance {
        self.instance
            .as_mut()
            .unwrap_or_else(|| panic!("instance present"))
    }

    /// Replaces the instance by a new one over the same storage and querier whose gas limit is
    /// `gas_limit` (what a chain does per transaction): for out-of-gas tests.
    pub fn set_gas_limit(&mut self, gas_limit: u64) {
        let mut old = self.instance.take().expect("instance present");
        self.gas_before += old.create_gas_report().used_internally;
        let backend = old.recycle().expect("backend recycles");
        self.instance = Some(
            Instance::from_code(
                &self.wasm,
                backend,
                InstanceOptions { gas_limit },
                Some(MEMORY_LIMIT),
            )
            .expect("instance from recycled backend"),
        );
    }

    /// Entries, VM gas and storage operations since creation (a monotone counter).
    pub fn usage(&mut self) -> ContractUsage {
        let entries = self.entries;
        let gas_before = self.gas_before;
        let instance = self.instance();
        let vm_gas = gas_before + instance.create_gas_report().used_internally;
        let kv = instance
            .with_storage(|s| Ok(s.counts()))
            .expect("storage readable");
        ContractUsage {
            entries,
            vm_gas,
            kv,
        }
    }

    /// Takes the storage operations logged since the last call.
    pub fn take_log(&mut self) -> Vec<crate::storage::LoggedOp> {
        self.instance()
            .with_storage(|s| Ok(s.take_log()))
            .expect("storage readable")
    }

    fn env(&self, block: &BlockInfo) -> Env {
        Env {
            block: block.clone(),
            transaction: Some(TransactionInfo { index: 0 }),
            contract: ContractInfo {
                address: self.address.clone(),
            },
        }
    }

    /// `instantiate` through `cosmwasm_vm::testing::instantiate`.
    pub fn instantiate<M: Serialize + schemars::JsonSchema>(
        &mut self,
        block: &BlockInfo,
        info: MessageInfo,
        msg: &M,
    ) -> ContractResult<Response> {
        let env = self.env(block);
        self.entries += 1;
        cosmwasm_vm::testing::instantiate(self.instance(), env, info, msg)
    }

    /// `execute` through `cosmwasm_vm::testing::execute` (panics on a VM error such as out of gas).
    pub fn execute<M: Serialize + schemars::JsonSchema>(
        &mut self,
        block: &BlockInfo,
        info: MessageInfo,
        msg: &M,
    ) -> ContractResult<Response> {
        let env = self.env(block);
        self.entries += 1;
        cosmwasm_vm::testing::execute(self.instance(), env, info, msg)
    }

    /// `execute` with the VM error (e.g. `GasDepletion`) returned instead of panicking.
    pub fn execute_vm<M: Serialize>(
        &mut self,
        block: &BlockInfo,
        info: &MessageInfo,
        msg: &M,
    ) -> Result<ContractResult<Response>, VmError> {
        let env = self.env(block);
        let bytes = serde_json::to_vec(msg).expect("message serializes");
        self.entries += 1;
        call_execute::<_, _, _, Empty>(self.instance(), &env, info, &bytes)
    }

    /// `execute` of an already serialized message (dispatched sub-messages).
    fn execute_raw(
        &mut self,
        block: &BlockInfo,
        info: &MessageInfo,
        msg: &[u8],
    ) -> ContractResult<Response> {
        let env = self.env(block);
        self.entries += 1;
        call_execute::<_, _, _, Empty>(self.instance(), &env, info, msg)
            .unwrap_or_else(|e| panic!("{}: VM error in execute: {e}", self.name))
    }

    /// `query` through `cosmwasm_vm::testing::query`.
    pub fn query<M: Serialize + schemars::JsonSchema>(
        &mut self,
        block: &BlockInfo,
        msg: &M,
    ) -> ContractResult<Binary> {
        let env = self.env(block);
        self.entries += 1;
        cosmwasm_vm::testing::query(self.instance(), env, msg)
    }

    fn query_raw(&mut self, block: &BlockInfo, msg: &[u8]) -> ContractResult<Binary> {
        let env = self.env(block);
        self.entries += 1;
        cosmwasm_vm::call_query(self.instance(), &env, msg)
            .unwrap_or_else(|e| panic!("{}: VM error in query: {e}", self.name))
    }

    /// `migrate` through `cosmwasm_vm::testing::migrate`.
    pub fn migrate<M: Serialize + schemars::JsonSchema>(
        &mut self,
        block: &BlockInfo,
        msg: &M,
    ) -> ContractResult<Response> {
        let env = self.env(block);
        self.entries += 1;
        cosmwasm_vm::testing::migrate(self.instance(), env, msg)
    }

    /// `sudo` through `cosmwasm_vm::testing::sudo`.
    pub fn sudo<M: Serialize + schemars::JsonSchema>(
        &mut self,
        block: &BlockInfo,
        msg: &M,
    ) -> ContractResult<Response> {
        let env = self.env(block);
        self.entries += 1;
        cosmwasm_vm::testing::sudo(self.instance(), env, msg)
    }

    /// Writes a raw storage entry (e.g. a cw2 version, to test migrate refusals).
    pub fn set_raw(&mut self, key: &[u8], value: &[u8]) {
        self.instance()
            .with_storage(|s| {
                let (r, _) = cosmwasm_vm::Storage::set(s, key, value);
                r.map_err(VmError::from)
            })
            .expect("raw write");
    }
}

/// A handle to a contract of the chain.
pub type ContractRef = Rc<RefCell<Contract>>;

/// Shared state the queriers read: the block, the contracts by address and bank balances.
#[derive(Default)]
struct World {
    block: Option<BlockInfo>,
    contracts: BTreeMap<String, Weak<RefCell<Contract>>>,
}

/// Contracts wired together, a block and a bank.
pub struct Chain {
    world: Rc<RefCell<World>>,
    contracts: Vec<ContractRef>,
    /// `address -> uopg` of every account the bank has seen.
    pub balances: BTreeMap<String, u128>,
}

/// What a top-level call returned: the responses of every contract entered, in order.
#[derive(Debug)]
pub struct TxResult {
    /// `(contract address, response)` of the top-level call first, then of each dispatched message.
    pub responses: Vec<(Addr, Response)>,
}

impl TxResult {
    /// The top-level response.
    pub fn response(&self) -> &Response {
        &self.responses[0].1
    }

    /// Value of the first attribute `key` of the top-level response.
    pub fn attr(&self, key: &str) -> Option<&str> {
        self.response()
            .attributes
            .iter()
            .find(|a| a.key == key)
            .map(|a| a.value.as_str())
    }

    /// The top-level response data, JSON-decoded.
    pub fn data<T: DeserializeOwned>(&self) -> T {
        from_json(self.response().data.as_ref().expect("response data")).expect("data decodes")
    }
}

impl Default for Chain {
    fn default() -> Self {
        Self::new()
    }
}

impl Chain {
    /// A chain at `mock_env()`'s block.
    pub fn new() -> Self {
        let world = World {
            block: Some(mock_env().block),
            contracts: BTreeMap::new(),
        };
        Chain {
            world: Rc::new(RefCell::new(world)),
            contracts: Vec::new(),
            balances: BTreeMap::new(),
        }
    }

    /// The current block.
    pub fn block(&self) -> BlockInfo {
        self.world.borrow().block.clone().expect("block set")
    }

    /// Unix seconds of the current block.
    pub fn now(&self) -> u64 {
        self.block().time.seconds()
    }

    /// Moves the block to unix time `t` (forward only) and bumps the height.
    pub fn set_time(&mut self, t: u64) {
        let mut w = self.world.borrow_mut();
        let block = w.block.as_mut().expect("block set");
        let now = block.time.seconds();
        assert!(t >= now, "time only moves forward ({t} < {now})");
        block.time = block.time.plus_seconds(t - now);
        block.height += 1;
    }

    /// Adds a contract: its instance's querier answers smart queries from the other contracts.
    pub fn add(&mut self, name: &'static str, wasm: Vec<u8>) -> ContractRef {
        let contract = Rc::new(RefCell::new(Contract::new(name, wasm)));
        let address = contract.borrow().address.to_string();
        self.world
            .borrow_mut()
            .contracts
            .insert(address, Rc::downgrade(&contract));
        let world = Rc::downgrade(&self.world);
        contract
            .borrow_mut()
            .instance()
            .with_querier(move |q| {
                let world = world.clone();
                q.update_wasm(move |query| route_query(&world, query));
                Ok(())
            })
            .expect("querier");
        self.contracts.push(contract.clone());
        contract
    }

    /// Usage of every contract so far, by name.
    pub fn usage(&self) -> BTreeMap<&'static str, ContractUsage> {
        self.contracts
            .iter()
            .map(|c| {
                let mut c = c.borrow_mut();
                (c.name, c.usage())
            })
            .collect()
    }

    /// Credits `amount` uopg to `address` (genesis funds).
    pub fn mint(&mut self, address: &str, amount: u128) {
        *self.balances.entry(address.to_string()).or_default() += amount;
        self.sync_balance(address);
    }

    /// The uopg balance of `address`.
    pub fn balance(&self, address: &str) -> u128 {
        self.balances.get(address).copied().unwrap_or(0)
    }

    fn transfer(&mut self, from: &str, to: &str, amount: u128) -> Result<(), String> {
        let have = self.balance(from);
        if have < amount {
            return Err(format!(
                "insufficient funds: {from} has {have}, needs {amount}"
            ));
        }
        self.balances.insert(from.to_string(), have - amount);
        *self.balances.entry(to.to_string()).or_default() += amount;
        self.sync_balance(from);
        self.sync_balance(to);
        Ok(())
    }

    /// Tells every contract's querier the balance of `address` (contracts query their own).
    fn sync_balance(&mut self, address: &str) {
        let coins = coins(self.balance(address), DENOM);
        for c in &self.contracts {
            c.borrow_mut()
                .instance()
                .with_querier(|q| {
                    q.update_balance(address, coins.clone());
                    Ok(())
                })
                .expect("querier");
        }
    }

    fn contract(&self, address: &str) -> Option<ContractRef> {
        self.contracts
            .iter()
            .find(|c| c.borrow().address.as_str() == address)
            .cloned()
    }

    /// Instantiates `contract` (funds are not supported: none of ours takes any).
    pub fn instantiate<M: Serialize + schemars::JsonSchema>(
        &mut self,
        contract: &ContractRef,
        sender: &str,
        msg: &M,
    ) -> Result<Response, String> {
        let block = self.block();
        let info = message_info(sender, &[]);
        contract
            .borrow_mut()
            .instantiate(&block, info, msg)
            .into_result()
    }

    /// Executes `msg` on `contract` as `sender` with `funds` uopg attached (moved by the bank
    /// first), then dispatches the messages of the response, depth first.
    pub fn execute<M: Serialize + schemars::JsonSchema>(
        &mut self,
        contract: &ContractRef,
        sender: &str,
        funds: u128,
        msg: &M,
    ) -> Result<TxResult, String> {
        let bytes = serde_json::to_vec(msg).map_err(|e| e.to_string())?;
        let address = contract.borrow().address.to_string();
        let mut responses = Vec::new();
        self.execute_bytes(&address, sender, funds, &bytes, &mut responses)?;
        Ok(TxResult { responses })
    }

    fn execute_bytes(
        &mut self,
        address: &str,
        sender: &str,
        funds: u128,
        msg: &[u8],
        responses: &mut Vec<(Addr, Response)>,
    ) -> Result<(), String> {
        let contract = self
            .contract(address)
            .ok_or_else(|| format!("no contract at {address}"))?;
        let attached = if funds > 0 {
            self.transfer(sender, address, funds)?;
            coins(funds, DENOM)
        } else {
            vec![]
        };
        let block = self.block();
        let info = message_info(sender, &attached);
        let response = contract
            .borrow_mut()
            .execute_raw(&block, &info, msg)
            .into_result()?;
        let messages: Vec<CosmosMsg> = response.messages.iter().map(|m| m.msg.clone()).collect();
        responses.push((Addr::unchecked(address), response));
        for m in messages {
            self.dispatch(address, m, responses)?;
        }
        Ok(())
    }

    fn dispatch(
        &mut self,
        from: &str,
        msg: CosmosMsg,
        responses: &mut Vec<(Addr, Response)>,
    ) -> Result<(), String> {
        match msg {
            CosmosMsg::Wasm(WasmMsg::Execute {
                contract_addr,
                msg,
                funds,
            }) => {
                let amount = denom_amount(&funds)?;
                self.execute_bytes(&contract_addr, from, amount, msg.as_slice(), responses)
            }
            CosmosMsg::Bank(BankMsg::Send { to_address, amount }) => {
                let amount = denom_amount(&amount)?;
                self.transfer(from, &to_address, amount)
            }
            other => Err(format!("message not supported by the harness: {other:?}")),
        }
    }

    /// Smart query of `contract`, JSON-decoded.
    pub fn query<M: Serialize + schemars::JsonSchema, T: DeserializeOwned>(
        &self,
        contract: &ContractRef,
        msg: &M,
    ) -> Result<T, String> {
        let block = self.block();
        let bin = contract.borrow_mut().query(&block, msg).into_result()?;
        from_json(&bin).map_err(|e| e.to_string())
    }

    /// Takes every contract's storage log, by name.
    pub fn take_logs(&self) -> BTreeMap<&'static str, Vec<crate::storage::LoggedOp>> {
        self.contracts
            .iter()
            .map(|c| {
                let mut c = c.borrow_mut();
                (c.name, c.take_log())
            })
            .collect()
    }

    /// Runs `f` and returns, with its result, what every contract did meanwhile.
    pub fn measure<R>(
        &mut self,
        f: impl FnOnce(&mut Self) -> R,
    ) -> (R, BTreeMap<&'static str, ContractUsage>) {
        let before = self.usage();
        let r = f(self);
        let after = self.usage();
        let diff = after
            .into_iter()
            .map(|(name, a)| {
                let b = before.get(name).copied().unwrap_or_default();
                (name, a - b)
            })
            .collect();
        (r, diff)
    }
}

fn message_info(sender: &str, funds: &[Coin]) -> MessageInfo {
    MessageInfo {
        sender: Addr::unchecked(sender),
        funds: funds.to_vec(),
    }
}

/// The uopg amount of `funds`; other denoms are not supported.
fn denom_amount(funds: &[Coin]) -> Result<u128, String> {
    funds.iter().try_fold(0u128, |acc, c| {
        if c.denom != DENOM {
            return Err(format!("denom {} not supported by the harness", c.denom));
        }
        Ok(acc + c.amount.u128())
    })
}

/// Answers a `WasmQuery::Smart` from the target contract's instance.
fn route_query(world: &Weak<RefCell<World>>, query: &WasmQuery) -> cosmwasm_std::QuerierResult {
    let Some(world) = world.upgrade() else {
        return SystemResult::Err(SystemError::Unknown {});
    };
    let WasmQuery::Smart { contract_addr, msg } = query else {
        return SystemResult::Err(SystemError::UnsupportedRequest {
            kind: "only smart wasm queries".to_string(),
        });
    };
    let (block, target) = {
        let w = world.borrow();
        (
            w.block.clone().expect("block set"),
            w.contracts.get(contract_addr).and_then(Weak::upgrade),
        )
    };
    let Some(target) = target else {
        return SystemResult::Err(SystemError::NoSuchContract {
            addr: contract_addr.clone(),
        });
    };
    let result = target.borrow_mut().query_raw(&block, msg.as_slice());
    SystemResult::Ok(result)
}
