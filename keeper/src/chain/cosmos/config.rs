//! `[chain.cosmos]` of the keeper config ([`CosmosConfig`]) and the state file `opg deploy`
//! writes ([`DeployState`]).
use std::path::PathBuf;

use cosmwasm_std::Decimal;
use serde::{Deserialize, Serialize};

use crate::chain::{ChainError, Deployment};
use crate::tx::keys::{MnemonicSource, DEFAULT_HD_PATH};
use crate::tx::sign::GasPrice;

/// `[chain.cosmos]` of the keeper config.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CosmosConfig {
    /// CometBFT RPC URL, e.g. `http://127.0.0.1:26657`; or several nodes of the chain,
    /// comma-separated, used in turn when one is unreachable ([`super::FailoverRpc`]).
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
