//! The cosmos backend (issue 8): the three contracts on a real CosmWasm chain (wasmd and chains
//! built on it; tested against wasmd v0.61.14 from `scripts/localnet.sh`), over CometBFT JSON-RPC.
//!
//! Every execute is a SIGN_MODE_DIRECT tx signed by the keeper's mnemonic key ([`crate::tx`]):
//! account number and sequence from `/cosmos.auth.v1beta1.Query/Account`, gas from
//! `/cosmos.tx.v1beta1.Service/Simulate` × `gas_adjustment`, fee = gas × gas price, timeout
//! height = latest height + `timeout_blocks`, `broadcast_tx_sync`, then the tx is polled by hash
//! until included or `inclusion_timeout_secs` pass. A sequence mismatch (sdk code 32) is retried
//! once after re-querying the account. Smart queries go through
//! `/cosmwasm.wasm.v1.Query/SmartContractState`.
//!
//! The RPC is behind [`CometRpc`] so the logic is tested without a network ([`HttpRpc`] is the
//! real one, on tendermint-rpc's HTTP client).
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use cosmrs::proto::cosmos::auth::v1beta1::{
    BaseAccount, QueryAccountRequest, QueryAccountResponse,
};
use cosmrs::proto::cosmos::base::abci::v1beta1::TxMsgData;
use cosmrs::proto::cosmos::tx::v1beta1::{SimulateRequest, SimulateResponse, TxRaw};
use cosmrs::proto::cosmwasm::wasm::v1::{
    MsgExecuteContractResponse, QuerySmartContractStateRequest, QuerySmartContractStateResponse,
};
use cosmrs::proto::prost::Message;
use cosmwasm_std::{Binary, Decimal, Uint128};
use opg_core::msg::pool::{
    ConfigResponse as PoolConfig, EpochReport, ExecuteMsg as PoolExecuteMsg,
};
use opg_core::msg::registry::NodesByIdsResponse;
use opg_core::msg::verifier::{
    ConfigResponse as VerifierConfig, ReceiptStatusResponse, SubmitReceiptsResponse,
};
use opg_core::receipt::{Heartbeat, SignedReceipt};
use serde::{Deserialize, Serialize};

use super::{
    submit_msg_bytes, ChainBackend, ChainError, ChainStatus, ContractRole, Deployment, PreparedTx,
    Refusal, SubmitOutcome, TxOutcome,
};
use crate::tx::keys::{MnemonicSource, TxKey, DEFAULT_HD_PATH};
use crate::tx::msgs::WasmMsg;
use crate::tx::sign::{GasPrice, SignedTx, SignerData, TxSpec};

/// gRPC query path of an account.
pub const ACCOUNT_PATH: &str = "/cosmos.auth.v1beta1.Query/Account";
/// gRPC path of tx simulation.
pub const SIMULATE_PATH: &str = "/cosmos.tx.v1beta1.Service/Simulate";
/// gRPC path of a CosmWasm smart query.
pub const SMART_QUERY_PATH: &str = "/cosmwasm.wasm.v1.Query/SmartContractState";

/// Cosmos SDK error codes (codespace `sdk`) the backend reacts to.
pub mod sdk_code {
    /// `ErrUnauthorized`: signature verification failed (wrong chain id or account number).
    pub const UNAUTHORIZED: u32 = 4;
    /// `ErrOutOfGas`.
    pub const OUT_OF_GAS: u32 = 11;
    /// `ErrInsufficientFee`.
    pub const INSUFFICIENT_FEE: u32 = 13;
    /// `ErrTxInMempoolCache`: the same tx is already pending.
    pub const TX_IN_MEMPOOL: u32 = 19;
    /// `ErrTxTimeoutHeight`.
    pub const TX_TIMEOUT_HEIGHT: u32 = 30;
    /// `ErrWrongSequence`.
    pub const WRONG_SEQUENCE: u32 = 32;
}

/// `[chain.cosmos]` of the keeper config.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CosmosConfig {
    /// CometBFT RPC URL, e.g. `http://127.0.0.1:26657`; or several nodes of the chain,
    /// comma-separated, used in turn when one is unreachable ([`FailoverRpc`]).
    pub rpc_url: String,
    /// Chain id; checked against the node's at start.
    pub chain_id: String,
    /// Bech32 account prefix (`wasm`).
    #[serde(default = "default_prefix")]
    pub prefix: String,
    /// Gas price, e.g. `0.025ustake` (base units per gas unit).
    pub gas_price: String,
    /// Simulated gas is multiplied by this (default `"1.3"`, a decimal string).
    #[serde(default = "default_gas_adjustment")]
    pub gas_adjustment: Decimal,
    /// A fixed gas limit for every tx instead of simulation × `gas_adjustment` (as wasmd's
    /// `--gas N`); unset (the default) simulates. A limit below what the tx needs makes the chain
    /// refuse it with out of gas (at delivery the fee is taken).
    #[serde(default)]
    pub gas_limit: Option<u64>,
    /// HD path of the key (default `m/44'/118'/0'/0/0`).
    #[serde(default = "default_hd_path")]
    pub hd_path: String,
    /// File holding the keeper's BIP-39 mnemonic.
    #[serde(default)]
    pub mnemonic_file: Option<PathBuf>,
    /// Environment variable holding the mnemonic (if `mnemonic_file` is unset).
    #[serde(default)]
    pub mnemonic_env: Option<String>,
    /// Contract addresses; or use `deploy_state`.
    #[serde(default)]
    pub deployment: Option<Deployment>,
    /// The JSON state file `opg deploy` writes (code ids and addresses).
    #[serde(default)]
    pub deploy_state: Option<PathBuf>,
    /// Blocks after the latest height at which a tx times out (default 50).
    #[serde(default = "default_timeout_blocks")]
    pub timeout_blocks: u64,
    /// Seconds to wait for inclusion (default 60).
    #[serde(default = "default_inclusion_timeout")]
    pub inclusion_timeout_secs: u64,
    /// Milliseconds between polls for inclusion (default 500).
    #[serde(default = "default_poll_ms")]
    pub poll_interval_ms: u64,
}

fn default_prefix() -> String {
    "wasm".into()
}
fn default_gas_adjustment() -> Decimal {
    Decimal::permille(1300)
}
fn default_hd_path() -> String {
    DEFAULT_HD_PATH.into()
}
fn default_timeout_blocks() -> u64 {
    50
}
fn default_inclusion_timeout() -> u64 {
    60
}
fn default_poll_ms() -> u64 {
    500
}

impl CosmosConfig {
    /// A config with defaults for everything but the endpoint, chain id and gas price.
    pub fn new(rpc_url: &str, chain_id: &str, gas_price: &str) -> Self {
        CosmosConfig {
            rpc_url: rpc_url.into(),
            chain_id: chain_id.into(),
            prefix: default_prefix(),
            gas_price: gas_price.into(),
            gas_adjustment: default_gas_adjustment(),
            gas_limit: None,
            hd_path: default_hd_path(),
            mnemonic_file: None,
            mnemonic_env: None,
            deployment: None,
            deploy_state: None,
            timeout_blocks: default_timeout_blocks(),
            inclusion_timeout_secs: default_inclusion_timeout(),
            poll_interval_ms: default_poll_ms(),
        }
    }

    /// Checks the fields that need no I/O; `Err((field, message))`.
    pub fn validate(&self) -> Result<(), (String, String)> {
        let bad = |f: &str, m: String| Err((f.to_string(), m));
        for url in self.rpc_url.split(',').map(str::trim) {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return bad(
                    "rpc_url",
                    format!("{url:?} must be an http(s) URL (several: comma-separated)"),
                );
            }
        }
        if self.chain_id.trim().is_empty() {
            return bad("chain_id", "must not be empty".into());
        }
        if let Err(e) = self.gas_price.parse::<GasPrice>() {
            return bad("gas_price", e.to_string());
        }
        if self.gas_adjustment < Decimal::one() {
            return bad("gas_adjustment", "must be >= 1.0".into());
        }
        if self.gas_limit == Some(0) {
            return bad("gas_limit", "must be > 0 (or unset to simulate)".into());
        }
        if self.mnemonic_file.is_none() && self.mnemonic_env.is_none() {
            return bad(
                "mnemonic_file",
                "the cosmos backend signs txs: set mnemonic_file or mnemonic_env".into(),
            );
        }
        if self.deployment.is_none() == self.deploy_state.is_none() {
            return bad(
                "deployment",
                "set exactly one of deployment (addresses) or deploy_state (file)".into(),
            );
        }
        if self.timeout_blocks == 0
            || self.inclusion_timeout_secs == 0
            || self.poll_interval_ms == 0
        {
            return bad(
                "timeout_blocks",
                "timeout_blocks, inclusion_timeout_secs and poll_interval_ms must be > 0".into(),
            );
        }
        Ok(())
    }

    /// The key source.
    pub fn mnemonic_source(&self) -> Option<MnemonicSource> {
        self.mnemonic_file
            .clone()
            .map(MnemonicSource::File)
            .or_else(|| self.mnemonic_env.clone().map(MnemonicSource::Env))
    }

    /// The contract addresses, from `deployment` or the `deploy_state` file.
    pub fn resolve_deployment(&self) -> Result<Deployment, ChainError> {
        if let Some(d) = &self.deployment {
            return Ok(d.clone());
        }
        let path = self
            .deploy_state
            .as_ref()
            .ok_or_else(|| ChainError::Backend("no deployment configured".into()))?;
        Ok(DeployState::read(path)?.deployment)
    }
}

/// What `opg deploy` writes: code ids and addresses of one deployment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeployState {
    /// Chain id deployed to.
    pub chain_id: String,
    /// Code ids of `node-registry`, `receipt-verifier`, `reward-pool`.
    pub code_ids: CodeIds,
    /// Contract addresses.
    pub deployment: Deployment,
}

/// Code ids of the three contracts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeIds {
    /// `node-registry`.
    pub registry: u64,
    /// `receipt-verifier`.
    pub verifier: u64,
    /// `reward-pool`.
    pub pool: u64,
}

impl DeployState {
    /// Reads a state file. Errors: [`ChainError::Backend`] naming the file.
    pub fn read(path: &std::path::Path) -> Result<Self, ChainError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            ChainError::Backend(format!("cannot read deploy state {}: {e}", path.display()))
        })?;
        serde_json::from_str(&text).map_err(|e| {
            ChainError::Backend(format!("invalid deploy state {}: {e}", path.display()))
        })
    }
}

/// The node's identity and latest block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeStatus {
    /// The chain id the node serves (`node_info.network`).
    pub network: String,
    /// Latest block height.
    pub height: u64,
    /// Latest block time, unix seconds.
    pub time: u64,
}

/// An `abci_query` answer.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct AbciAnswer {
    /// 0 on success.
    pub code: u32,
    /// Codespace of a failure.
    pub codespace: String,
    /// Log (error text).
    pub log: String,
    /// Protobuf response.
    pub value: Vec<u8>,
}

/// A `broadcast_tx_sync` (CheckTx) answer.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct CheckTxAnswer {
    /// 0 when accepted into the mempool.
    pub code: u32,
    /// Codespace of a failure.
    pub codespace: String,
    /// Log (error text).
    pub log: String,
}

/// A committed tx (`tx` by hash).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct TxResult {
    /// Transaction hash, uppercase hex (after [`CosmosChain::send`]: of the tx that was
    /// included, which is the retry after a sequence mismatch).
    pub hash: String,
    /// Inclusion height.
    pub height: u64,
    /// 0 on success.
    pub code: u32,
    /// Codespace of a failure.
    pub codespace: String,
    /// Log (error text).
    pub log: String,
    /// `TxMsgData` protobuf bytes.
    pub data: Vec<u8>,
    /// Gas used.
    pub gas_used: u64,
}

/// The CometBFT RPC subset the backend needs. Errors are [`ChainError::Transport`] (retryable).
pub trait CometRpc: Send + Sync {
    /// `status`.
    fn status(&self) -> Result<NodeStatus, ChainError>;
    /// `abci_query` at the latest height.
    fn abci_query(&self, path: &str, data: Vec<u8>) -> Result<AbciAnswer, ChainError>;
    /// `broadcast_tx_sync`.
    fn broadcast_tx_sync(&self, tx: Vec<u8>) -> Result<CheckTxAnswer, ChainError>;
    /// `tx` by uppercase hex hash; `None` while not (yet) included.
    fn tx(&self, hash: &str) -> Result<Option<TxResult>, ChainError>;
}

/// [`CometRpc`] over HTTP (tendermint-rpc, CometBFT 0.38 dialect), on a private runtime.
pub struct HttpRpc {
    url: String,
    client: tendermint_rpc::HttpClient,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Drop for HttpRpc {
    fn drop(&mut self) {
        // a runtime may not be dropped inside an async context; this is allowed anywhere
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

impl HttpRpc {
    /// A client of `url`. Errors: [`ChainError::Transport`] (bad URL, no runtime).
    pub fn new(url: &str) -> Result<Self, ChainError> {
        let transport = |m: String| ChainError::Transport {
            chain_id: String::new(),
            message: m,
        };
        // CometBFT's RPC server (Go net/http, `read_timeout` 10 s) closes idle keep-alive
        // connections; a request sent on one it just closed fails with "connection closed before
        // message completed" (seen on wasmd after a 6 s gov voting period). Dropping pooled
        // connections after 3 s idle keeps requests off connections the server is closing.
        let http = reqwest_rpc::Client::builder()
            .pool_idle_timeout(std::time::Duration::from_secs(3))
            .timeout(std::time::Duration::from_secs(30))
            .user_agent(concat!("opg/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| transport(format!("HTTP client: {e}")))?;
        let client = tendermint_rpc::HttpClient::builder(
            url.parse()
                .map_err(|e| transport(format!("invalid RPC URL {url}: {e}")))?,
        )
        .compat_mode(tendermint_rpc::client::CompatMode::V0_38)
        .client(http)
        .build()
        .map_err(|e| transport(format!("RPC client for {url}: {e}")))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| transport(format!("tokio runtime: {e}")))?;
        Ok(HttpRpc {
            url: url.into(),
            client,
            runtime: Some(runtime),
        })
    }

    fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        match &self.runtime {
            Some(rt) => rt.block_on(f),
            None => unreachable_runtime(),
        }
    }

    fn err(&self, what: &str, e: impl std::fmt::Display) -> ChainError {
        ChainError::Transport {
            chain_id: String::new(),
            message: format!("{what} at {}: {e}", self.url),
        }
    }
}

/// [`CometRpc`] over several nodes of one chain (`rpc_url = "http://a:26657,http://b:26657"`):
/// every call goes to the current node; on a transport error (node down, connection refused,
/// timeout) it moves to the next node and repeats the call there, each node at most once per call.
/// Other errors (a refusal, a contract error) are the chain's answer and are returned as they are.
/// Re-sending a tx is safe: the bytes and hash are the same, and a node that already has it
/// answers "tx already in mempool" (sdk code 19), which counts as accepted.
pub struct FailoverRpc {
    nodes: Vec<HttpRpc>,
    current: std::sync::atomic::AtomicUsize,
}

impl FailoverRpc {
    /// Clients of the comma-separated `urls` (at least one). Errors: [`ChainError::Transport`]
    /// (a bad URL, none given).
    pub fn new(urls: &str) -> Result<Self, ChainError> {
        let nodes = urls
            .split(',')
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(HttpRpc::new)
            .collect::<Result<Vec<_>, _>>()?;
        if nodes.is_empty() {
            return Err(ChainError::Transport {
                chain_id: String::new(),
                message: format!("no RPC URL in {urls:?}"),
            });
        }
        Ok(FailoverRpc {
            nodes,
            current: std::sync::atomic::AtomicUsize::new(0),
        })
    }

    /// The URL calls go to now.
    pub fn current_url(&self) -> &str {
        &self.nodes[self.current.load(std::sync::atomic::Ordering::Relaxed)].url
    }

    fn call<T>(&self, f: impl Fn(&HttpRpc) -> Result<T, ChainError>) -> Result<T, ChainError> {
        use std::sync::atomic::Ordering;
        let n = self.nodes.len();
        let start = self.current.load(Ordering::Relaxed);
        let mut last = None;
        for k in 0..n {
            let i = (start + k) % n;
            match f(&self.nodes[i]) {
                Ok(v) => {
                    if k > 0 {
                        tracing::warn!(from = %self.nodes[start].url, to = %self.nodes[i].url,
                            "RPC node unreachable; failed over");
                        self.current.store(i, Ordering::Relaxed);
                    }
                    return Ok(v);
                }
                Err(e @ ChainError::Transport { .. }) => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.expect("at least one node"))
    }
}

impl CometRpc for FailoverRpc {
    fn status(&self) -> Result<NodeStatus, ChainError> {
        self.call(|r| r.status())
    }
    fn abci_query(&self, path: &str, data: Vec<u8>) -> Result<AbciAnswer, ChainError> {
        self.call(|r| r.abci_query(path, data.clone()))
    }
    fn broadcast_tx_sync(&self, tx: Vec<u8>) -> Result<CheckTxAnswer, ChainError> {
        self.call(|r| r.broadcast_tx_sync(tx.clone()))
    }
    fn tx(&self, hash: &str) -> Result<Option<TxResult>, ChainError> {
        self.call(|r| r.tx(hash))
    }
}

fn unreachable_runtime() -> ! {
    // `runtime` is only taken in `drop`
    panic!("HttpRpc used after drop")
}

impl CometRpc for HttpRpc {
    fn status(&self) -> Result<NodeStatus, ChainError> {
        use tendermint_rpc::Client;
        let s = self
            .block_on(self.client.status())
            .map_err(|e| self.err("status", e))?;
        Ok(NodeStatus {
            network: s.node_info.network.to_string(),
            height: s.sync_info.latest_block_height.value(),
            time: s.sync_info.latest_block_time.unix_timestamp().max(0) as u64,
        })
    }

    fn abci_query(&self, path: &str, data: Vec<u8>) -> Result<AbciAnswer, ChainError> {
        use tendermint_rpc::Client;
        let q = self
            .block_on(self.client.abci_query(Some(path.into()), data, None, false))
            .map_err(|e| self.err(path, e))?;
        Ok(AbciAnswer {
            code: q.code.value(),
            codespace: q.codespace,
            log: q.log,
            value: q.value,
        })
    }

    fn broadcast_tx_sync(&self, tx: Vec<u8>) -> Result<CheckTxAnswer, ChainError> {
        use tendermint_rpc::Client;
        let r = self
            .block_on(self.client.broadcast_tx_sync(tx))
            .map_err(|e| self.err("broadcast_tx_sync", e))?;
        Ok(CheckTxAnswer {
            code: r.code.value(),
            codespace: r.codespace,
            log: r.log,
        })
    }

    fn tx(&self, hash: &str) -> Result<Option<TxResult>, ChainError> {
        use tendermint_rpc::Client;
        let h: cosmrs::tendermint::Hash = hash
            .parse()
            .map_err(|e| self.err("tx hash", format!("{hash}: {e}")))?;
        match self.block_on(self.client.tx(h, false)) {
            Ok(r) => Ok(Some(TxResult {
                hash: r.hash.to_string(),
                height: r.height.value(),
                code: r.tx_result.code.value(),
                codespace: r.tx_result.codespace,
                log: r.tx_result.log,
                data: comet_bytes(&r.tx_result.data),
                gas_used: r.tx_result.gas_used.max(0) as u64,
            })),
            Err(e) if e.to_string().contains("not found") => Ok(None),
            Err(e) => Err(self.err("tx", e)),
        }
    }
}

/// `ExecTxResult.data` as tendermint-rpc 0.40 hands it over: CometBFT sends it as base64 (Go
/// `[]byte` in JSON) and the `nullable` deserializer keeps the string's bytes, so they are
/// base64-decoded here (kept as they are if they are not base64).
fn comet_bytes(data: &[u8]) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(data)
        .unwrap_or_else(|_| data.to_vec())
}

/// The cosmos backend.
pub struct CosmosChain {
    config: CosmosConfig,
    rpc: Box<dyn CometRpc>,
    key: TxKey,
    gas_price: GasPrice,
    deployment: Deployment,
    /// The tx `prepare_submit` signed last, with the message bytes it carries, so
    /// `submit_receipts` broadcasts exactly it (same hash).
    prepared: Mutex<Option<(Vec<u8>, SignedTx)>>,
    /// Serialises signing + broadcasting (one sequence at a time).
    sending: Mutex<()>,
}

impl std::fmt::Debug for CosmosChain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CosmosChain")
            .field("rpc_url", &self.config.rpc_url)
            .field("chain_id", &self.config.chain_id)
            .field("key", &self.key)
            .finish()
    }
}

impl CosmosChain {
    /// Connects over HTTP: reads the key and deployment, and checks the node serves
    /// `config.chain_id`. Errors: [`ChainError::Backend`] (config, key, wrong chain id),
    /// [`ChainError::Transport`] (node unreachable).
    pub fn connect(config: CosmosConfig) -> Result<Self, ChainError> {
        let rpc = FailoverRpc::new(&config.rpc_url)?;
        let key = config
            .mnemonic_source()
            .ok_or_else(|| ChainError::Backend("no mnemonic_file or mnemonic_env".into()))
            .and_then(|s| {
                TxKey::from_source(&s, &config.hd_path, &config.prefix)
                    .map_err(|e| ChainError::Backend(e.to_string()))
            })?;
        Self::with_rpc(config, Box::new(rpc), key)
    }

    /// A backend over any [`CometRpc`] with `key`. Checks the node's chain id.
    pub fn with_rpc(
        config: CosmosConfig,
        rpc: Box<dyn CometRpc>,
        key: TxKey,
    ) -> Result<Self, ChainError> {
        config
            .validate()
            .or_else(|(f, m)| {
                // the key may be given directly (tests, CLI): only its source may be missing
                if f == "mnemonic_file" {
                    Ok(())
                } else {
                    Err((f, m))
                }
            })
            .map_err(|(f, m)| ChainError::Backend(format!("invalid cosmos config {f}: {m}")))?;
        let gas_price: GasPrice = config
            .gas_price
            .parse()
            .map_err(|e: crate::tx::TxError| ChainError::Backend(e.to_string()))?;
        let deployment = config.resolve_deployment()?;
        let status = rpc.status()?;
        if status.network != config.chain_id {
            return Err(ChainError::Backend(format!(
                "wrong chain id: configured {:?} but the node at {} serves {:?}",
                config.chain_id, config.rpc_url, status.network
            )));
        }
        Ok(CosmosChain {
            config,
            rpc,
            key,
            gas_price,
            deployment,
            prepared: Mutex::new(None),
            sending: Mutex::new(()),
        })
    }

    /// A signer with no deployment yet (`opg deploy`, before the contracts exist): the account,
    /// [`CosmosChain::build_signed`] and [`CosmosChain::send`] work; the [`ChainBackend`]
    /// methods (which address the contracts) must not be used on it. Checks the chain id.
    pub fn signer(
        mut config: CosmosConfig,
        rpc: Box<dyn CometRpc>,
        key: TxKey,
    ) -> Result<Self, ChainError> {
        config.deploy_state = None;
        config.deployment = Some(Deployment {
            registry: String::new(),
            verifier: String::new(),
            pool: String::new(),
        });
        Self::with_rpc(config, rpc, key)
    }

    /// The signer's address.
    pub fn address(&self) -> &str {
        self.key.address()
    }

    /// The account number and sequence of `address`. Errors: [`ChainError::Backend`] if the
    /// account does not exist (not funded yet) or is not a base account.
    pub fn account(&self, address: &str) -> Result<(u64, u64), ChainError> {
        let req = QueryAccountRequest {
            address: address.into(),
        }
        .encode_to_vec();
        let a = self.rpc.abci_query(ACCOUNT_PATH, req)?;
        if a.code != 0 {
            return Err(ChainError::Backend(format!(
                "account {address} not found on chain {} (fund it first): {}",
                self.config.chain_id, a.log
            )));
        }
        let resp = QueryAccountResponse::decode(a.value.as_slice()).map_err(decode("account"))?;
        let any = resp
            .account
            .ok_or_else(|| ChainError::Backend(format!("account {address}: empty answer")))?;
        if any.type_url != "/cosmos.auth.v1beta1.BaseAccount" {
            return Err(ChainError::Backend(format!(
                "account {address} is a {}, not a BaseAccount",
                any.type_url
            )));
        }
        let base = BaseAccount::decode(any.value.as_slice()).map_err(decode("BaseAccount"))?;
        Ok((base.account_number, base.sequence))
    }

    /// Smart query of `contract` with JSON `msg`; the JSON answer bytes.
    /// Errors: [`ChainError::Contract`] (unknown contract, query refused).
    pub fn smart_query_raw(&self, contract: &str, msg: &[u8]) -> Result<Vec<u8>, ChainError> {
        let req = QuerySmartContractStateRequest {
            address: contract.into(),
            query_data: msg.to_vec(),
        }
        .encode_to_vec();
        let a = self.rpc.abci_query(SMART_QUERY_PATH, req)?;
        if a.code != 0 {
            return Err(ChainError::Contract {
                contract: contract.into(),
                message: a.log,
            });
        }
        let resp = QuerySmartContractStateResponse::decode(a.value.as_slice())
            .map_err(decode("smart query answer"))?;
        Ok(resp.data)
    }

    fn query<T: serde::de::DeserializeOwned>(
        &self,
        role: ContractRole,
        msg: &impl Serialize,
        what: &str,
    ) -> Result<T, ChainError> {
        let bytes = serde_json::to_vec(msg).map_err(|e| ChainError::Decode {
            what: what.into(),
            message: e.to_string(),
        })?;
        let out = self.smart_query_raw(self.deployment.address(role), &bytes)?;
        serde_json::from_slice(&out).map_err(|e| ChainError::Decode {
            what: what.into(),
            message: e.to_string(),
        })
    }

    /// `gas_limit` if set, else the simulated gas of `spec` signed at `sequence` ×
    /// `gas_adjustment`.
    fn estimate_gas(&self, spec: &TxSpec, sequence: u64) -> Result<u64, ChainError> {
        if let Some(limit) = self.config.gas_limit {
            return Ok(limit);
        }
        let sim = TxRaw {
            body_bytes: spec.body_bytes(),
            auth_info_bytes: spec.auth_info_bytes(&self.key.public_key(), sequence),
            signatures: vec![vec![]],
        };
        #[allow(deprecated)] // `tx` is the deprecated field; `tx_bytes` is used
        let req = SimulateRequest {
            tx: None,
            tx_bytes: sim.encode_to_vec(),
        }
        .encode_to_vec();
        let a = self.rpc.abci_query(SIMULATE_PATH, req)?;
        if a.code != 0 {
            return Err(self.refusal("simulation", &a.codespace, a.code, &a.log));
        }
        let resp = SimulateResponse::decode(a.value.as_slice()).map_err(decode("simulation"))?;
        let used = resp.gas_info.map(|g| g.gas_used).unwrap_or(0);
        Ok(adjust_gas(used, self.config.gas_adjustment))
    }

    /// Builds and signs a tx of `msgs` with the current account state.
    pub fn build_signed(&self, msgs: Vec<WasmMsg>, memo: &str) -> Result<SignedTx, ChainError> {
        let (account_number, sequence) = self.account(self.key.address())?;
        let height = self.rpc.status()?.height;
        // Simulate with a non-zero fee: the SDK's DeductFeeDecorator skips a zero fee, so a
        // simulation at fee 0 leaves out the fee's bank transfer, which the real tx pays (on
        // wasmd v0.61.14 ~14,400 gas: `prune_nonces` simulated at 47,025 gas used 61,462, out of
        // gas at x1.3). The smallest fee of the gas price (>= 1 base unit) costs the same.
        let mut sim_fee = self.gas_price.fee(1).map_err(tx_err)?;
        sim_fee.gas_limit = 0;
        let mut spec = TxSpec {
            msgs,
            fee: sim_fee,
            memo: memo.into(),
            timeout_height: height.saturating_add(self.config.timeout_blocks),
        };
        let gas = self.estimate_gas(&spec, sequence)?;
        spec.fee = self.gas_price.fee(gas).map_err(tx_err)?;
        spec.sign(
            &self.key,
            &SignerData {
                chain_id: self.config.chain_id.clone(),
                account_number,
                sequence,
            },
        )
        .map_err(tx_err)
    }

    /// Broadcasts `tx` and waits for inclusion. On a sequence mismatch, rebuilds from `msgs`
    /// once with a fresh account query. Errors: [`ChainError::Contract`] (the tx failed in a
    /// contract), [`ChainError::Refused`] (refused by the SDK at CheckTx or delivery: fee,
    /// signature, sequence, out of gas),
    /// [`ChainError::Timeout`], [`ChainError::Transport`].
    pub fn send(&self, tx: SignedTx, msgs: &[WasmMsg], memo: &str) -> Result<TxResult, ChainError> {
        let _guard = self.sending.lock().unwrap_or_else(|p| p.into_inner());
        let check = self.rpc.broadcast_tx_sync(tx.tx_raw.clone())?;
        let tx = if check.code == sdk_code::WRONG_SEQUENCE && check.codespace == "sdk" {
            tracing::warn!(log = %check.log, "sequence mismatch; re-querying the account and retrying once");
            let tx = self.build_signed(msgs.to_vec(), memo)?;
            let again = self.rpc.broadcast_tx_sync(tx.tx_raw.clone())?;
            self.check_ok(&again)?;
            tx
        } else {
            self.check_ok(&check)?;
            tx
        };
        let mut result = self.wait_for(&tx.hash())?;
        result.hash = tx.hash();
        if result.code != 0 {
            let contract = contract_of(msgs).unwrap_or_default();
            return Err(if result.codespace == "wasm" {
                ChainError::Contract {
                    contract,
                    message: result.log,
                }
            } else {
                self.refusal("delivery", &result.codespace, result.code, &result.log)
            });
        }
        Ok(result)
    }

    fn check_ok(&self, a: &CheckTxAnswer) -> Result<(), ChainError> {
        if a.code == 0 || (a.code == sdk_code::TX_IN_MEMPOOL && a.codespace == "sdk") {
            return Ok(());
        }
        Err(self.refusal("CheckTx", &a.codespace, a.code, &a.log))
    }

    /// A clear error for a refused tx.
    fn refusal(&self, stage: &str, codespace: &str, code: u32, log: &str) -> ChainError {
        if codespace == "wasm" {
            return ChainError::Contract {
                contract: String::new(),
                message: log.into(),
            };
        }
        ChainError::Refused {
            chain_id: self.config.chain_id.clone(),
            stage: stage.into(),
            codespace: codespace.into(),
            code,
            kind: Refusal::of(codespace, code),
            log: log.into(),
        }
    }

    /// Polls `tx` by hash until included. Errors: [`ChainError::Timeout`].
    pub fn wait_for(&self, hash: &str) -> Result<TxResult, ChainError> {
        let start = Instant::now();
        let limit = Duration::from_secs(self.config.inclusion_timeout_secs);
        loop {
            if let Some(r) = self.rpc.tx(hash)? {
                return Ok(r);
            }
            if start.elapsed() >= limit {
                return Err(ChainError::Timeout {
                    what: format!("inclusion of tx {hash}"),
                    seconds: self.config.inclusion_timeout_secs,
                });
            }
            std::thread::sleep(Duration::from_millis(self.config.poll_interval_ms));
        }
    }

    /// Executes `msg` (JSON bytes) on `contract`; the first message response's data.
    pub fn execute(&self, contract: &str, msg: Vec<u8>) -> Result<TxOutcome, ChainError> {
        let msgs = vec![WasmMsg::Execute {
            sender: self.key.address().into(),
            contract: contract.into(),
            msg,
            funds: vec![],
        }];
        let tx = self.build_signed(msgs.clone(), "")?;
        let r = self.send(tx, &msgs, "")?;
        let data = execute_response_data(&r.data)?;
        Ok(TxOutcome {
            tx_hash: r.hash,
            height: r.height,
            gas_used: r.gas_used,
            data: data.map(Binary::from),
        })
    }
}

fn tx_err(e: crate::tx::TxError) -> ChainError {
    ChainError::Backend(e.to_string())
}

fn decode(what: &'static str) -> impl Fn(cosmrs::proto::prost::DecodeError) -> ChainError {
    move |e| ChainError::Decode {
        what: what.into(),
        message: e.to_string(),
    }
}

fn contract_of(msgs: &[WasmMsg]) -> Option<String> {
    msgs.iter().find_map(|m| match m {
        WasmMsg::Execute { contract, .. } | WasmMsg::Migrate { contract, .. } => {
            Some(contract.clone())
        }
        _ => None,
    })
}

/// `gas × adjustment`, rounded up (gas units), saturating at `u64::MAX`.
pub fn adjust_gas(gas: u64, adjustment: Decimal) -> u64 {
    Uint128::from(gas)
        .checked_mul_ceil(adjustment)
        .ok()
        .and_then(|g| u64::try_from(g.u128()).ok())
        .unwrap_or(u64::MAX)
}

/// The contract data of the first message of a tx result: `TxMsgData.msg_responses[0]`
/// (SDK ≥ 0.46) decoded as `MsgExecuteContractResponse`, or the legacy `MsgData.data`.
/// `None` when the contract returned no data. Errors: [`ChainError::Decode`].
pub fn execute_response_data(tx_msg_data: &[u8]) -> Result<Option<Vec<u8>>, ChainError> {
    let d = TxMsgData::decode(tx_msg_data).map_err(decode("TxMsgData"))?;
    let bytes = if let Some(any) = d.msg_responses.first() {
        if any.type_url != "/cosmwasm.wasm.v1.MsgExecuteContractResponse" {
            return Err(ChainError::Decode {
                what: "tx result".into(),
                message: format!("unexpected message response {}", any.type_url),
            });
        }
        MsgExecuteContractResponse::decode(any.value.as_slice())
            .map_err(decode("MsgExecuteContractResponse"))?
            .data
    } else {
        #[allow(deprecated)] // legacy chains (SDK < 0.46) fill `data`
        match d.data.first() {
            Some(m) => {
                MsgExecuteContractResponse::decode(m.data.as_slice())
                    .map_err(decode("MsgExecuteContractResponse"))?
                    .data
            }
            None => return Ok(None),
        }
    };
    Ok(if bytes.is_empty() { None } else { Some(bytes) })
}

impl ChainBackend for CosmosChain {
    fn chain_id(&self) -> String {
        self.config.chain_id.clone()
    }

    fn deployment(&self) -> Deployment {
        self.deployment.clone()
    }

    fn status(&self) -> Result<ChainStatus, ChainError> {
        let s = self.rpc.status()?;
        Ok(ChainStatus {
            height: s.height,
            time: s.time,
        })
    }

    fn prepare_submit(
        &self,
        receipts: &[SignedReceipt],
        heartbeats: &[Heartbeat],
    ) -> Result<PreparedTx, ChainError> {
        let msg = submit_msg_bytes(receipts, heartbeats, &self.verifier_config()?)?;
        let tx = self.build_signed(vec![self.submit_msg(msg.clone())], "")?;
        let prepared = PreparedTx {
            bytes: tx.tx_raw.clone(),
            hash: tx.hash(),
        };
        *self.prepared.lock().unwrap_or_else(|p| p.into_inner()) = Some((msg, tx));
        Ok(prepared)
    }

    fn submit_receipts(
        &self,
        receipts: &[SignedReceipt],
        heartbeats: &[Heartbeat],
    ) -> Result<SubmitOutcome, ChainError> {
        let msg = submit_msg_bytes(receipts, heartbeats, &self.verifier_config()?)?;
        let cached = self
            .prepared
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .filter(|(m, _)| *m == msg)
            .map(|(_, tx)| tx);
        let msgs = vec![self.submit_msg(msg)];
        let tx = match cached {
            Some(tx) => tx,
            None => self.build_signed(msgs.clone(), "")?,
        };
        let r = self.send(tx, &msgs, "")?;
        let data = execute_response_data(&r.data)?.ok_or_else(|| ChainError::Decode {
            what: "SubmitReceipts response".into(),
            message: "the verifier returned no data".into(),
        })?;
        let response: SubmitReceiptsResponse =
            serde_json::from_slice(&data).map_err(|e| ChainError::Decode {
                what: "SubmitReceipts response".into(),
                message: e.to_string(),
            })?;
        Ok(SubmitOutcome {
            tx_hash: r.hash,
            height: r.height,
            gas_used: r.gas_used,
            response,
        })
    }

    fn finalize_epoch(&self, epoch: u64) -> Result<TxOutcome, ChainError> {
        let msg = serde_json::to_vec(&PoolExecuteMsg::FinalizeEpoch { epoch }).map_err(|e| {
            ChainError::Decode {
                what: "FinalizeEpoch".into(),
                message: e.to_string(),
            }
        })?;
        self.execute(&self.deployment.pool, msg)
    }

    fn registry_view(
        &self,
        node_ids: &[String],
        model_ids: &[String],
    ) -> Result<NodesByIdsResponse, ChainError> {
        let msg = opg_core::msg::registry::QueryMsg::NodesByIds {
            ids: node_ids.to_vec(),
            models: model_ids.to_vec(),
        };
        self.query(ContractRole::Registry, &msg, "NodesByIds")
    }

    fn verifier_config(&self) -> Result<VerifierConfig, ChainError> {
        let msg = opg_core::msg::verifier::QueryMsg::Config {};
        self.query(ContractRole::Verifier, &msg, "verifier config")
    }

    fn receipt_status(
        &self,
        payer: &str,
        nonce: &str,
    ) -> Result<ReceiptStatusResponse, ChainError> {
        let msg = opg_core::msg::verifier::QueryMsg::ReceiptStatus {
            payer: payer.into(),
            nonce: nonce.into(),
        };
        self.query(ContractRole::Verifier, &msg, "receipt status")
    }

    fn epoch_report(&self, epoch: u64) -> Result<EpochReport, ChainError> {
        let msg = opg_core::msg::pool::QueryMsg::EpochReport { epoch };
        self.query(ContractRole::Pool, &msg, "epoch report")
    }

    fn pool_config(&self) -> Result<PoolConfig, ChainError> {
        let msg = opg_core::msg::pool::QueryMsg::Config {};
        self.query(ContractRole::Pool, &msg, "pool config")
    }

    fn query_json(
        &self,
        contract: ContractRole,
        msg: &serde_json::Value,
    ) -> Result<serde_json::Value, ChainError> {
        self.query(contract, msg, "query answer")
    }
}

impl CosmosChain {
    fn submit_msg(&self, msg: Vec<u8>) -> WasmMsg {
        WasmMsg::Execute {
            sender: self.key.address().into(),
            contract: self.deployment.verifier.clone(),
            msg,
            funds: vec![],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cosmrs::proto::cosmos::base::abci::v1beta1::GasInfo;
    use cosmrs::Any;
    use std::collections::VecDeque;

    const MNEMONIC: &str = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

    /// A scripted node: answers account/simulate/smart queries and pops broadcast answers.
    #[derive(Default)]
    struct MockRpc {
        network: String,
        sequence: Mutex<u64>,
        checks: Mutex<VecDeque<CheckTxAnswer>>,
        broadcasts: Mutex<Vec<Vec<u8>>>,
        result: Mutex<Option<TxResult>>,
        smart: Mutex<Option<AbciAnswer>>,
        /// Account queries answered.
        account_queries: Mutex<u32>,
    }

    /// A [`MockRpc`] the test keeps a handle on.
    struct Shared(std::sync::Arc<MockRpc>);

    impl CometRpc for Shared {
        fn status(&self) -> Result<NodeStatus, ChainError> {
            self.0.status()
        }
        fn abci_query(&self, p: &str, d: Vec<u8>) -> Result<AbciAnswer, ChainError> {
            self.0.abci_query(p, d)
        }
        fn broadcast_tx_sync(&self, t: Vec<u8>) -> Result<CheckTxAnswer, ChainError> {
            self.0.broadcast_tx_sync(t)
        }
        fn tx(&self, h: &str) -> Result<Option<TxResult>, ChainError> {
            self.0.tx(h)
        }
    }

    impl CometRpc for MockRpc {
        fn status(&self) -> Result<NodeStatus, ChainError> {
            Ok(NodeStatus {
                network: self.network.clone(),
                height: 100,
                time: 1_700_000_000,
            })
        }
        fn abci_query(&self, path: &str, data: Vec<u8>) -> Result<AbciAnswer, ChainError> {
            let value = match path {
                ACCOUNT_PATH => {
                    *self.account_queries.lock().unwrap() += 1;
                    let base = BaseAccount {
                        address: QueryAccountRequest::decode(data.as_slice())
                            .unwrap()
                            .address,
                        pub_key: None,
                        account_number: 7,
                        sequence: *self.sequence.lock().unwrap(),
                    };
                    QueryAccountResponse {
                        account: Some(Any {
                            type_url: "/cosmos.auth.v1beta1.BaseAccount".into(),
                            value: base.encode_to_vec(),
                        }),
                    }
                    .encode_to_vec()
                }
                SIMULATE_PATH => SimulateResponse {
                    gas_info: Some(GasInfo {
                        gas_wanted: 0,
                        gas_used: 100_000,
                    }),
                    result: None,
                }
                .encode_to_vec(),
                SMART_QUERY_PATH => return Ok(self.smart.lock().unwrap().clone().unwrap()),
                other => panic!("unexpected path {other}"),
            };
            Ok(AbciAnswer {
                value,
                ..Default::default()
            })
        }
        fn broadcast_tx_sync(&self, tx: Vec<u8>) -> Result<CheckTxAnswer, ChainError> {
            self.broadcasts.lock().unwrap().push(tx);
            let answer = self.checks.lock().unwrap().pop_front().unwrap_or_default();
            if answer.code == sdk_code::WRONG_SEQUENCE {
                // another tx of this signer landed first: the account's sequence moved on
                *self.sequence.lock().unwrap() += 1;
            }
            Ok(answer)
        }
        fn tx(&self, _hash: &str) -> Result<Option<TxResult>, ChainError> {
            Ok(self.result.lock().unwrap().clone())
        }
    }

    fn config() -> CosmosConfig {
        let mut c = CosmosConfig::new("http://127.0.0.1:26657", "opg-devnet-1", "0.025ustake");
        c.deployment = Some(Deployment {
            registry: "wasm1registry".into(),
            verifier: "wasm1verifier".into(),
            pool: "wasm1pool".into(),
        });
        c.inclusion_timeout_secs = 1;
        c.poll_interval_ms = 10;
        c
    }

    fn chain(rpc: MockRpc) -> CosmosChain {
        let key = TxKey::from_mnemonic(MNEMONIC, DEFAULT_HD_PATH, "wasm").unwrap();
        CosmosChain::with_rpc(config(), Box::new(rpc), key).unwrap()
    }

    fn rpc() -> MockRpc {
        MockRpc {
            network: "opg-devnet-1".into(),
            ..Default::default()
        }
    }

    fn tx_msg_data(contract_data: &[u8]) -> Vec<u8> {
        #[allow(deprecated)]
        TxMsgData {
            data: vec![],
            msg_responses: vec![Any {
                type_url: "/cosmwasm.wasm.v1.MsgExecuteContractResponse".into(),
                value: MsgExecuteContractResponse {
                    data: contract_data.to_vec(),
                }
                .encode_to_vec(),
            }],
        }
        .encode_to_vec()
    }

    #[test]
    fn wrong_chain_id_is_refused_at_connect() {
        let key = TxKey::from_mnemonic(MNEMONIC, DEFAULT_HD_PATH, "wasm").unwrap();
        let mut r = rpc();
        r.network = "other-1".into();
        let err = CosmosChain::with_rpc(config(), Box::new(r), key).unwrap_err();
        assert!(err.to_string().contains("wrong chain id"), "{err}");
        assert!(!err.is_retryable());
    }

    #[test]
    fn execute_signs_with_queried_account_simulated_gas_and_parses_data() {
        let r = rpc();
        *r.sequence.lock().unwrap() = 4;
        *r.result.lock().unwrap() = Some(TxResult {
            height: 101,
            data: tx_msg_data(b"{\"ok\":true}"),
            gas_used: 90_000,
            ..Default::default()
        });
        let c = chain(r);
        let out = c.finalize_epoch(3).unwrap();
        assert_eq!(out.height, 101);
        assert_eq!(out.data.unwrap().as_slice(), b"{\"ok\":true}");
        assert_eq!(out.gas_used, 90_000);
    }

    #[test]
    fn broadcast_tx_carries_fee_gas_sequence_and_timeout() {
        use cosmrs::proto::cosmos::tx::v1beta1::{AuthInfo, TxBody};
        let r = std::sync::Arc::new(rpc());
        *r.sequence.lock().unwrap() = 4;
        *r.result.lock().unwrap() = Some(TxResult {
            height: 101,
            data: tx_msg_data(b""),
            ..Default::default()
        });
        let key = TxKey::from_mnemonic(MNEMONIC, DEFAULT_HD_PATH, "wasm").unwrap();
        let c = CosmosChain::with_rpc(config(), Box::new(Shared(r.clone())), key).unwrap();
        let out = c.finalize_epoch(3).unwrap();
        assert_eq!(out.data, None);
        let sent = r.broadcasts.lock().unwrap()[0].clone();
        assert_eq!(out.tx_hash, crate::chain::tx_hash(&sent));
        let raw = TxRaw::decode(sent.as_slice()).unwrap();
        let body = TxBody::decode(raw.body_bytes.as_slice()).unwrap();
        assert_eq!(body.timeout_height, 150); // height 100 + 50 blocks
        let m = cosmrs::proto::cosmwasm::wasm::v1::MsgExecuteContract::decode(
            body.messages[0].value.as_slice(),
        )
        .unwrap();
        assert_eq!(m.contract, "wasm1pool");
        assert_eq!(m.msg, br#"{"finalize_epoch":{"epoch":3}}"#);
        let auth = AuthInfo::decode(raw.auth_info_bytes.as_slice()).unwrap();
        assert_eq!(auth.signer_infos[0].sequence, 4);
        let fee = auth.fee.unwrap();
        assert_eq!(fee.gas_limit, 130_000); // 100_000 simulated x 1.3
        assert_eq!(fee.amount[0].amount, "3250"); // 130_000 x 0.025
    }

    #[test]
    fn sequence_mismatch_is_retried_once_after_requery() {
        use cosmrs::proto::cosmos::tx::v1beta1::AuthInfo;
        let r = std::sync::Arc::new(rpc());
        *r.sequence.lock().unwrap() = 4;
        r.checks.lock().unwrap().push_back(CheckTxAnswer {
            code: sdk_code::WRONG_SEQUENCE,
            codespace: "sdk".into(),
            log: "account sequence mismatch, expected 5, got 4".into(),
        });
        *r.result.lock().unwrap() = Some(TxResult {
            height: 101,
            data: tx_msg_data(b""),
            ..Default::default()
        });
        let key = TxKey::from_mnemonic(MNEMONIC, DEFAULT_HD_PATH, "wasm").unwrap();
        let c = CosmosChain::with_rpc(config(), Box::new(Shared(r.clone())), key).unwrap();
        let before = *r.account_queries.lock().unwrap();
        let out = c.finalize_epoch(0).unwrap();
        // the account was queried again after the mismatch, and exactly one retry was sent,
        // signed at the re-queried sequence
        assert_eq!(*r.account_queries.lock().unwrap() - before, 2);
        let sent = r.broadcasts.lock().unwrap().clone();
        assert_eq!(sent.len(), 2, "one broadcast and exactly one retry");
        let sequences: Vec<u64> = sent
            .iter()
            .map(|t| {
                let raw = TxRaw::decode(t.as_slice()).unwrap();
                AuthInfo::decode(raw.auth_info_bytes.as_slice())
                    .unwrap()
                    .signer_infos[0]
                    .sequence
            })
            .collect();
        assert_eq!(sequences, vec![4, 5]);
        assert_eq!(out.tx_hash, crate::chain::tx_hash(&sent[1]));
    }

    #[test]
    fn second_sequence_mismatch_and_low_fee_give_clear_errors() {
        let r = rpc();
        for _ in 0..2 {
            r.checks.lock().unwrap().push_back(CheckTxAnswer {
                code: sdk_code::WRONG_SEQUENCE,
                codespace: "sdk".into(),
                log: "account sequence mismatch".into(),
            });
        }
        r.checks.lock().unwrap().push_back(CheckTxAnswer {
            code: sdk_code::INSUFFICIENT_FEE,
            codespace: "sdk".into(),
            log: "insufficient fees; got: 1ustake required: 5000ustake".into(),
        });
        let c = chain(r);
        let e = c.finalize_epoch(0).unwrap_err();
        assert!(e.to_string().contains("wrong account sequence"), "{e}");
        assert!(
            matches!(
                e,
                ChainError::Refused {
                    kind: Refusal::WrongSequence,
                    code: 32,
                    ..
                }
            ),
            "{e:?}"
        );
        let e = c.finalize_epoch(0).unwrap_err();
        assert!(e.to_string().contains("insufficient fee"), "{e}");
        assert!(
            matches!(
                e,
                ChainError::Refused {
                    kind: Refusal::InsufficientFee,
                    ..
                }
            ),
            "{e:?}"
        );
        assert!(!e.is_retryable());
    }

    #[test]
    fn contract_failure_in_block_is_a_contract_error() {
        let r = rpc();
        *r.result.lock().unwrap() = Some(TxResult {
            height: 101,
            code: 5,
            codespace: "wasm".into(),
            log: "execute wasm contract failed: epoch 9 not finalizable".into(),
            ..Default::default()
        });
        let e = chain(r).finalize_epoch(9).unwrap_err();
        assert!(
            matches!(&e, ChainError::Contract { contract, message } if contract == "wasm1pool" && message.contains("not finalizable")),
            "{e}"
        );
    }

    #[test]
    fn no_inclusion_is_a_timeout() {
        let e = chain(rpc()).finalize_epoch(0).unwrap_err();
        assert!(matches!(e, ChainError::Timeout { seconds: 1, .. }), "{e}");
        assert!(e.is_retryable());
    }

    #[test]
    fn unknown_contract_query_is_a_contract_error() {
        let r = rpc();
        *r.smart.lock().unwrap() = Some(AbciAnswer {
            code: 22,
            codespace: "wasm".into(),
            log: "no such contract: address wasm1pool".into(),
            value: vec![],
        });
        let e = chain(r).pool_config().unwrap_err();
        assert!(
            matches!(&e, ChainError::Contract { message, .. } if message.contains("no such contract")),
            "{e}"
        );
    }

    #[test]
    fn smart_query_decodes_json_answer() {
        let r = rpc();
        *r.smart.lock().unwrap() = Some(AbciAnswer {
            value: QuerySmartContractStateResponse {
                data: br#"{"accepted":true}"#.to_vec(),
            }
            .encode_to_vec(),
            ..Default::default()
        });
        let v = chain(r)
            .query_json(ContractRole::Verifier, &serde_json::json!({"x": {}}))
            .unwrap();
        assert_eq!(v["accepted"], true);
    }

    #[test]
    fn response_data_parsing() {
        assert_eq!(
            execute_response_data(&tx_msg_data(b"abc")).unwrap(),
            Some(b"abc".to_vec())
        );
        assert_eq!(execute_response_data(&tx_msg_data(b"")).unwrap(), None);
        assert_eq!(execute_response_data(&[]).unwrap(), None);
        assert!(matches!(
            execute_response_data(&[0xff, 0xff]),
            Err(ChainError::Decode { .. })
        ));
    }

    #[test]
    fn config_validation_and_deploy_state() {
        let mut c = config();
        assert!(c.validate().is_err()); // no mnemonic source
        c.mnemonic_env = Some("OPG_MNEMONIC".into());
        c.validate().unwrap();
        c.deploy_state = Some("state.json".into());
        assert_eq!(c.validate().unwrap_err().0, "deployment");
        c.deployment = None;
        c.validate().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("state.json");
        let state = DeployState {
            chain_id: "opg-devnet-1".into(),
            code_ids: CodeIds {
                registry: 1,
                verifier: 2,
                pool: 3,
            },
            deployment: config().deployment.unwrap(),
        };
        std::fs::write(&p, serde_json::to_string(&state).unwrap()).unwrap();
        c.deploy_state = Some(p);
        assert_eq!(c.resolve_deployment().unwrap().pool, "wasm1pool");
        c.gas_price = "cheap".into();
        assert_eq!(c.validate().unwrap_err().0, "gas_price");
    }
}
