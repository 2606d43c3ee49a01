//! `opg deploy --chain CONFIG [--state deploy.json] [--from NAME]`: stores the three contract artifacts,
//! instantiates registry → pool → verifier wired together, hands governance over, and writes
//! the code ids and addresses to the JSON deploy state the keeper's `[chain.cosmos]` reads.
//!
//! The deployer instantiates every contract with itself as governance (only governance may
//! wire `pool.verifier` and `registry.reward_pool` with `UpdateConfig`), then the same
//! `UpdateConfig` messages set the configured `governance` (usually the x/gov module account).
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use cosmrs::proto::cosmwasm::wasm::v1::{MsgInstantiateContractResponse, MsgStoreCodeResponse};
use cosmwasm_std::Uint128;
use opg_core::epoch::EpochClock;
use opg_core::msg::pool::RewardParams;
use opg_core::msg::{pool, registry, verifier};
use opg_core::types::NetworkConfig;
use serde::{Deserialize, Serialize};

use super::common::{send, KeyringArgs};
use crate::chain::cosmos::{CodeIds, CosmosChain, CosmosConfig, DeployState, HttpRpc};
use crate::chain::Deployment;
use crate::tx::keys::TxKey;
use crate::tx::msgs::WasmMsg;

/// The artifact files, in the order registry, verifier, pool.
pub const ARTIFACTS: [&str; 3] = [
    "node_registry.wasm",
    "receipt_verifier.wasm",
    "reward_pool.wasm",
];

/// Arguments of `opg deploy`.
#[derive(Args, Clone, Debug)]
pub struct DeployArgs {
    /// The deploy config (TOML; see `keeper/deploy.example.toml`).
    #[arg(long, value_name = "CONFIG")]
    pub chain: PathBuf,
    /// Where to write the deploy state (code ids, addresses).
    #[arg(long, env = "OPG_DEPLOY_STATE", default_value = "deploy.json")]
    pub state: PathBuf,
    /// CometBFT RPC URL; overrides the config's `chain.rpc_url`.
    #[arg(long, env = "OPG_NODE")]
    pub node: Option<String>,
    /// Chain id; overrides the config's `chain.chain_id`.
    #[arg(long, env = "OPG_CHAIN_ID")]
    pub chain_id: Option<String>,
    /// Start of epoch 0: unix seconds, or `now` (the chain's latest block time); overrides
    /// `pool.clock.genesis`. The pool finalizes epochs in order from 0.
    #[arg(long, value_name = "now|UNIX")]
    pub genesis: Option<String>,
    /// The deployer: a key name in the keyring (`opg keys add`), as wasmd's `--from`. Default:
    /// the key the config names (`chain.mnemonic_file` or `chain.mnemonic_env`).
    #[arg(long, env = "OPG_FROM")]
    pub from: Option<String>,
    /// The keyring `--from` reads.
    #[command(flatten)]
    pub keyring: KeyringArgs,
}

/// `opg deploy`'s config file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeployConfig {
    /// Chain connection and the deployer's key (`deployment`/`deploy_state` are ignored).
    pub chain: CosmosConfig,
    /// Directory holding the three `.wasm` artifacts (`scripts/build-wasm.sh`). Relative paths
    /// are resolved against the config file's directory.
    pub artifacts_dir: PathBuf,
    /// Final governance address of all three contracts (default: the deployer).
    #[serde(default)]
    pub governance: Option<String>,
    /// Migration admin of the contracts (default: the deployer; `""`: none).
    #[serde(default)]
    pub admin: Option<String>,
    /// Label prefix of the contracts (`<prefix>-node-registry`, …).
    #[serde(default = "default_label")]
    pub label: String,
    /// Registry instantiate parameters.
    pub registry: RegistryParams,
    /// Pool instantiate parameters.
    pub pool: PoolParams,
    /// Verifier instantiate parameters.
    pub verifier: VerifierParams,
}

fn default_label() -> String {
    "opg".into()
}

/// `[registry]` of the deploy config.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistryParams {
    /// Bond denom (e.g. `uopg`).
    pub bond_denom: String,
    /// Minimum bond, base units of `bond_denom`.
    pub min_bond: Uint128,
    /// Seconds between `Deregister` and the bond being withdrawable.
    pub unbonding_period: u64,
}

/// `[pool]` of the deploy config.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolParams {
    /// Reward denom (e.g. `uopg`).
    pub denom: String,
    /// Epoch clock (`genesis` unix seconds, `epoch_length` and `grace` seconds); immutable.
    pub clock: EpochClock,
    /// Initial reward params.
    pub params: RewardParams,
}

/// `[verifier]` of the deploy config.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifierParams {
    /// Accepted x402 networks and assets.
    pub networks: Vec<NetworkConfig>,
    /// Allow-listed facilitator EVM addresses.
    #[serde(default)]
    pub facilitators: Vec<String>,
    /// Whether receipts need a facilitator settlement attestation.
    pub require_settlement: bool,
    /// Maximum receipts + heartbeats per `SubmitReceipts` (1..=500).
    pub max_batch: u32,
}

impl DeployConfig {
    /// Reads and parses a config file; a relative `artifacts_dir` is made relative to it.
    /// Errors: unreadable file, TOML error (with the field path).
    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read deploy config {}", path.display()))?;
        let mut c: DeployConfig = toml::from_str(&text)
            .with_context(|| format!("invalid deploy config {}", path.display()))?;
        if c.artifacts_dir.is_relative() {
            if let Some(dir) = path.parent() {
                c.artifacts_dir = dir.join(&c.artifacts_dir);
            }
        }
        Ok(c)
    }
}

/// Runs `opg deploy`: prints and writes the deploy state.
pub fn run(args: DeployArgs) -> anyhow::Result<()> {
    let mut config = DeployConfig::read(&args.chain)?;
    if let Some(n) = &args.node {
        config.chain.rpc_url = n.clone();
    }
    if let Some(c) = &args.chain_id {
        config.chain.chain_id = c.clone();
    }
    match args.genesis.as_deref() {
        None => {}
        Some("now") => {
            use crate::chain::cosmos::CometRpc;
            config.pool.clock.genesis = HttpRpc::new(&config.chain.rpc_url)?.status()?.time;
        }
        Some(t) => {
            config.pool.clock.genesis = t
                .parse()
                .with_context(|| format!("--genesis {t:?}: expected `now` or unix seconds"))?
        }
    }
    let state = match &args.from {
        Some(name) => {
            let key = args.keyring.keyring(&config.chain.prefix).key(name)?;
            deploy_as(&config, key)?
        }
        None => deploy(&config)?,
    };
    write_state(&args.state, &state)?;
    println!("{}", serde_json::to_string_pretty(&state)?);
    eprintln!("deploy state written to {}", args.state.display());
    Ok(())
}

/// Writes the deploy state file (pretty JSON).
pub fn write_state(path: &Path, state: &DeployState) -> anyhow::Result<()> {
    std::fs::write(path, serde_json::to_string_pretty(state)? + "\n")
        .with_context(|| format!("cannot write deploy state {}", path.display()))
}

/// Deploys with the config's key over HTTP. Errors: missing artifacts, key, node, any refused tx.
pub fn deploy(config: &DeployConfig) -> anyhow::Result<DeployState> {
    let source = config
        .chain
        .mnemonic_source()
        .context("the deploy config needs chain.mnemonic_file or chain.mnemonic_env")?;
    let key = TxKey::from_source(&source, &config.chain.hd_path, &config.chain.prefix)?;
    deploy_as(config, key)
}

/// Deploys as `key` (the deployer account) over HTTP. Errors: missing artifacts, node, any
/// refused tx.
pub fn deploy_as(config: &DeployConfig, key: TxKey) -> anyhow::Result<DeployState> {
    let rpc = HttpRpc::new(&config.chain.rpc_url)?;
    let chain = CosmosChain::signer(config.chain.clone(), Box::new(rpc), key)?;
    deploy_with(&chain, config)
}

fn read_artifacts(dir: &Path) -> anyhow::Result<Vec<Vec<u8>>> {
    ARTIFACTS
        .iter()
        .map(|name| {
            let p = dir.join(name);
            std::fs::read(&p).with_context(|| {
                format!(
                    "missing artifact {}: run scripts/build-wasm.sh first",
                    p.display()
                )
            })
        })
        .collect()
}

/// `wasm` gzipped, as CosmJS and `wasmd tx wasm store` send it: wasmd unpacks a gzipped
/// `MsgStoreCode` (up to its 800 KiB `MaxWasmSize`), and the raw bytes of a 500 KB contract would
/// not fit the 1,000,000-byte request limit of CometBFT's RPC (`max_body_bytes`) once hex-encoded
/// for `Simulate` (~3.5x smaller gzipped).
fn gzip(wasm: &[u8]) -> anyhow::Result<Vec<u8>> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(wasm)?;
    Ok(enc.finish()?)
}

/// Deploys with `chain` (its key is the deployer).
pub fn deploy_with(chain: &CosmosChain, config: &DeployConfig) -> anyhow::Result<DeployState> {
    let wasm = read_artifacts(&config.artifacts_dir)?;
    let me = chain.address().to_string();
    let governance = config.governance.clone().unwrap_or_else(|| me.clone());
    let admin = match &config.admin {
        None => Some(me.clone()),
        Some(a) if a.is_empty() => None,
        Some(a) => Some(a.clone()),
    };
    let mut ids = [0u64; 3];
    for (i, code) in wasm.into_iter().enumerate() {
        let sent = send(
            chain,
            vec![WasmMsg::StoreCode {
                sender: me.clone(),
                wasm: gzip(&code)?,
            }],
        )
        .with_context(|| format!("storing {}", ARTIFACTS[i]))?;
        ids[i] = sent.response::<MsgStoreCodeResponse>(0)?.code_id;
        eprintln!("stored {} as code {}", ARTIFACTS[i], ids[i]);
    }
    let code_ids = CodeIds {
        registry: ids[0],
        verifier: ids[1],
        pool: ids[2],
    };
    let instantiate = |code_id: u64, name: &str, msg: Vec<u8>| -> anyhow::Result<String> {
        let sent = send(
            chain,
            vec![WasmMsg::Instantiate {
                sender: me.clone(),
                admin: admin.clone(),
                code_id,
                label: format!("{}-{name}", config.label),
                msg,
                funds: vec![],
            }],
        )
        .with_context(|| format!("instantiating {name}"))?;
        let addr = sent.response::<MsgInstantiateContractResponse>(0)?.address;
        eprintln!("instantiated {name} at {addr}");
        Ok(addr)
    };
    let r = &config.registry;
    let registry_addr = instantiate(
        code_ids.registry,
        "node-registry",
        serde_json::to_vec(&registry::InstantiateMsg {
            governance: me.clone(),
            bond_denom: r.bond_denom.clone(),
            min_bond: r.min_bond,
            unbonding_period: r.unbonding_period,
            reward_pool: None,
            max_attestation_validity: None,
        })?,
    )?;
    let p = &config.pool;
    let pool_addr = instantiate(
        code_ids.pool,
        "reward-pool",
        serde_json::to_vec(&pool::InstantiateMsg {
            governance: me.clone(),
            registry: registry_addr.clone(),
            verifier: None,
            denom: p.denom.clone(),
            clock: p.clock,
            params: p.params.clone(),
        })?,
    )?;
    let v = &config.verifier;
    let verifier_addr = instantiate(
        code_ids.verifier,
        "receipt-verifier",
        serde_json::to_vec(&verifier::InstantiateMsg {
            governance: governance.clone(),
            registry: registry_addr.clone(),
            reward_pool: pool_addr.clone(),
            networks: v.networks.clone(),
            facilitators: v.facilitators.clone(),
            require_settlement: v.require_settlement,
            max_batch: v.max_batch,
        })?,
    )?;
    let handover = (governance != me).then(|| governance.clone());
    let wire = vec![
        WasmMsg::Execute {
            sender: me.clone(),
            contract: pool_addr.clone(),
            msg: serde_json::to_vec(&pool::ExecuteMsg::UpdateConfig {
                governance: handover.clone(),
                verifier: Some(verifier_addr.clone()),
                registry: None,
            })?,
            funds: vec![],
        },
        WasmMsg::Execute {
            sender: me.clone(),
            contract: registry_addr.clone(),
            msg: serde_json::to_vec(&registry::ExecuteMsg::UpdateConfig(
                registry::UpdateConfigMsg {
                    governance: handover,
                    reward_pool: Some(pool_addr.clone()),
                    ..Default::default()
                },
            ))?,
            funds: vec![],
        },
    ];
    for m in wire {
        send(chain, vec![m]).context("wiring the contracts (UpdateConfig)")?;
    }
    eprintln!("wired pool.verifier and registry.reward_pool; governance is {governance}");
    Ok(DeployState {
        chain_id: config.chain.chain_id.clone(),
        code_ids,
        deployment: Deployment {
            registry: registry_addr,
            verifier: verifier_addr,
            pool: pool_addr,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_config_parses() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy.example.toml");
        let c = DeployConfig::read(&path).unwrap();
        assert_eq!(c.registry.bond_denom, "uopg");
        assert!(c.artifacts_dir.ends_with("../artifacts"));
        assert!(c.verifier.max_batch > 0);
        assert!(c.pool.clock.epoch_length > 0);
    }

    #[test]
    fn the_localnet_config_allow_lists_the_dev_facilitator_loadgen_signs_with() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy.localnet.toml");
        let c = DeployConfig::read(&path).unwrap();
        let dev = opg_core::sign::EvmSigner::derive(b"opg-dev-seed-change-me", "facilitator");
        assert_eq!(c.verifier.facilitators, vec![dev.address()]);
        // epochs short enough for the README walkthrough to finalize one
        assert!(c.pool.clock.epoch_length <= 60);
    }

    #[test]
    fn missing_artifacts_name_the_build_script() {
        let dir = tempfile::tempdir().unwrap();
        let e = read_artifacts(dir.path()).unwrap_err().to_string();
        assert!(e.contains("node_registry.wasm"), "{e}");
        assert!(e.contains("scripts/build-wasm.sh"), "{e}");
    }

    #[test]
    fn unknown_fields_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("d.toml");
        let text = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy.example.toml"),
        )
        .unwrap();
        std::fs::write(&p, format!("bogus = 1\n{text}")).unwrap();
        let e = format!("{:#}", DeployConfig::read(&p).unwrap_err());
        assert!(e.contains("bogus"), "{e}");
    }
}
