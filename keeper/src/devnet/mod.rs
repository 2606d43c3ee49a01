//! `opg devnet`: a single-node development chain (like anvil, or a wasmd localnet) for
//! development and tests — production is a real chain.
//!
//! It hosts the [embedded chain](crate::chain::embedded) (the three contracts' real code on
//! cw-multi-test, persisted in `<home>/chain.db`, addresses under the bech32 prefix [`PREFIX`])
//! and answers the CometBFT JSON-RPC subset that CosmJS and `tendermint-rpc` use ([`rpc`]):
//! `status`, `abci_info`, `abci_query` (auth account, bank balance(s), tx `Simulate`, wasm smart
//! query and contract info — [`query`]), `broadcast_tx_sync`, `tx`, `tx_search` by `tx.hash`,
//! `block`. Txs are checked as the SDK's ante handler does ([`tx`]): SIGN_MODE_DIRECT signature
//! over the SignDoc, chain id, account number and sequence, fee ≥ gas limit × minimum gas price,
//! gas limit ≥ gas used; every tx is its own block.
//!
//! Differences from a real node, on purpose: gas follows a deterministic schedule ([`gas`];
//! cw-multi-test does not meter), `MsgStoreCode` accepts only the three opg artifacts (by
//! checksum, mapped to the native code registered under code ids 1–3), block hashes are
//! digests, not a consensus product.
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::{Path as AxPath, Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use cosmwasm_std::{Decimal, Uint128};
use serde_json::Value;

use crate::chain::embedded::{ClockMode, EmbeddedChain};
use crate::chain::{ChainBackend, Deployment};
use crate::genesis::GenesisConfig;

pub mod keys;
pub mod query;
pub mod rpc;
pub mod store;
pub mod tx;

pub use keys::DevAccount;

/// Bech32 prefix of devnet addresses (as wasmd's).
pub const PREFIX: &str = "wasm";

/// The devnet's gas schedule (gas units). Simulation and execution charge the same, so a gas
/// limit from `Simulate` × any adjustment ≥ 1 always suffices.
pub mod gas {
    /// Every tx (ante handler: signature, fee, sequence).
    pub const BASE: u64 = 60_000;
    /// Per byte of `TxBody`.
    pub const PER_BYTE: u64 = 10;
    /// `MsgExecuteContract`.
    pub const EXECUTE: u64 = 150_000;
    /// `MsgSend`.
    pub const SEND: u64 = 30_000;
    /// `MsgStoreCode`.
    pub const STORE: u64 = 500_000;
    /// `MsgInstantiateContract`.
    pub const INSTANTIATE: u64 = 200_000;
}

/// Dev accounts funded at the first start.
pub const DEV_ACCOUNTS: u32 = 3;
/// What each dev account is funded with at the first start, in the genesis denom (uopg).
pub const DEV_FUNDS: u128 = 1_000_000_000_000;

/// Settings of `opg devnet`.
#[derive(Clone, Debug)]
pub struct DevnetConfig {
    /// State directory (`chain.db`).
    pub home: PathBuf,
    /// RPC listen address (port 0: any free port).
    pub listen: SocketAddr,
    /// Seconds each block moves the clock; `None`: wall clock.
    pub block_time: Option<u64>,
    /// Chain id.
    pub chain_id: String,
    /// Minimum gas price in the genesis denom (default 0.025 uopg/gas).
    pub min_gas_price: Decimal,
}

impl DevnetConfig {
    /// Defaults: listen 127.0.0.1:26657, wall clock, chain id `opg-devnet-1`, 0.025 uopg/gas.
    pub fn new(home: PathBuf) -> Self {
        DevnetConfig {
            home,
            listen: SocketAddr::from(([127, 0, 0, 1], 26657)),
            block_time: None,
            chain_id: "opg-devnet-1".into(),
            min_gas_price: Decimal::permille(25),
        }
    }

    /// The devnet's genesis: [`GenesisConfig::dev`] under this chain id.
    pub fn genesis(&self) -> GenesisConfig {
        GenesisConfig {
            chain_id: self.chain_id.clone(),
            ..GenesisConfig::dev("opg-devnet")
        }
    }
}

/// A running devnet. [`Devnet::stop`] (or dropping it) shuts the server down.
pub struct Devnet {
    /// Where the RPC listens.
    pub rpc_addr: SocketAddr,
    /// Chain id.
    pub chain_id: String,
    /// Fee / native denom.
    pub denom: String,
    /// Minimum gas price, `denom` per gas.
    pub min_gas_price: Decimal,
    /// Funded dev accounts (DEV ONLY keys).
    pub accounts: Vec<DevAccount>,
    /// The genesis contracts.
    pub deployment: Deployment,
    /// The chain (for inspection in tests).
    pub chain: Arc<EmbeddedChain>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl Devnet {
    /// Opens the chain under `config.home` (applying genesis and funding the dev accounts the
    /// first time), binds the RPC and serves it on the current tokio runtime.
    ///
    /// Errors: the home cannot be opened (or was made with another genesis / chain id), the
    /// address cannot be bound.
    pub async fn start(config: DevnetConfig) -> anyhow::Result<Devnet> {
        let genesis = config.genesis();
        let clock = if config.block_time.is_some() {
            ClockMode::Manual
        } else {
            ClockMode::Wall
        };
        let home = config.home.clone();
        let g = genesis.clone();
        let chain = tokio::task::spawn_blocking(move || {
            EmbeddedChain::open_with_prefix(&home, &g, clock, PREFIX)
        })
        .await??;
        let chain = Arc::new(chain);
        let accounts = (0..DEV_ACCOUNTS)
            .map(|i| DevAccount::derive(i, PREFIX))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let denom = genesis.denom.clone();
        {
            let (accounts, denom) = (accounts.clone(), denom.clone());
            chain.with_runtime(move |rt| -> anyhow::Result<()> {
                for a in &accounts {
                    if store::account(rt.app.storage(), &a.address)?.is_none() {
                        rt.mint(
                            &cosmwasm_std::Addr::unchecked(&a.address),
                            &denom,
                            Uint128::new(DEV_FUNDS),
                        )?;
                        store::ensure_account(rt.app.storage_mut(), &a.address)?;
                        rt.commit()?;
                    }
                }
                Ok(())
            })??;
        }
        let listener = tokio::net::TcpListener::bind(config.listen).await?;
        let rpc_addr = listener.local_addr()?;
        let state = Arc::new(rpc::RpcState {
            chain: chain.clone(),
            rules: tx::TxRules {
                chain_id: config.chain_id.clone(),
                denom: denom.clone(),
                min_gas_price: config.min_gas_price,
                prefix: PREFIX,
                fee_collector: chain.addr("fee_collector"),
                block_time: config.block_time,
            },
            rpc_address: format!("tcp://{rpc_addr}"),
        });
        let app = Router::new()
            .route("/", post(post_rpc).get(get_root))
            .route("/{method}", get(get_rpc))
            .with_state(state);
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = rx.await;
                })
                .await
        });
        Ok(Devnet {
            rpc_addr,
            chain_id: config.chain_id,
            denom,
            min_gas_price: config.min_gas_price,
            accounts,
            deployment: chain.deployment(),
            chain,
            shutdown: Some(tx),
            server: Some(server),
        })
    }

    /// `http://host:port` of the RPC.
    pub fn rpc_url(&self) -> String {
        format!("http://{}", self.rpc_addr)
    }

    /// What `opg devnet` prints at start: RPC, chain id, contracts, dev mnemonics.
    pub fn banner(&self) -> String {
        let mut s = format!(
            "opg devnet (DEVELOPMENT ONLY — production is a real chain)\n\
             rpc:           {}\n\
             chain id:      {}\n\
             denom:         {} (min gas price {}{})\n\
             registry:      {}\n\
             reward pool:   {}\n\
             verifier:      {}\n\
             dev accounts ({}, each funded with {}{}; hd path {}):\n",
            self.rpc_url(),
            self.chain_id,
            self.denom,
            self.min_gas_price,
            self.denom,
            self.deployment.registry,
            self.deployment.pool,
            self.deployment.verifier,
            PREFIX,
            DEV_FUNDS,
            self.denom,
            keys::HD_PATH,
        );
        for (i, a) in self.accounts.iter().enumerate() {
            s.push_str(&format!("  ({i}) {}\n      {}\n", a.address, a.mnemonic));
        }
        s
    }

    /// Stops the server and waits for it.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(s) = self.server.take() {
            let _ = s.await;
        }
    }
}

impl Drop for Devnet {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(s) = self.server.take() {
            s.abort();
        }
    }
}

async fn dispatch(state: Arc<rpc::RpcState>, req: Value) -> Value {
    let id = req.get("id").cloned().unwrap_or(Value::Null);
    let method = req
        .get("method")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let params = req.get("params").cloned().unwrap_or(Value::Null);
    let out = tokio::task::spawn_blocking(move || state.call(&method, &params))
        .await
        .unwrap_or_else(|e| Err((-32603, "Internal error", e.to_string())));
    rpc::envelope(id, out)
}

async fn post_rpc(State(state): State<Arc<rpc::RpcState>>, body: String) -> Json<Value> {
    let req: Value = match serde_json::from_str(&body) {
        Ok(v) => v,
        Err(e) => {
            return Json(rpc::envelope(
                Value::Null,
                Err((-32700, "Parse error", e.to_string())),
            ))
        }
    };
    match req {
        Value::Array(calls) => {
            let mut out = Vec::with_capacity(calls.len());
            for c in calls {
                out.push(dispatch(state.clone(), c).await);
            }
            Json(Value::Array(out))
        }
        single => Json(dispatch(state, single).await),
    }
}

async fn get_root() -> &'static str {
    "opg devnet: CometBFT JSON-RPC (POST / or GET /<method>?args): status abci_info abci_query \
     broadcast_tx_sync tx tx_search block health\n"
}

async fn get_rpc(
    State(state): State<Arc<rpc::RpcState>>,
    AxPath(method): AxPath<String>,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> Json<Value> {
    let req = serde_json::json!({"jsonrpc": "2.0", "id": -1, "method": method, "params": rpc::uri_params(&q)});
    Json(dispatch(state, req).await)
}
