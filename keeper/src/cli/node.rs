//! `opg node register|update|renew-attestation|deregister|withdraw-bond|claim|status|list|keygen`:
//! a node operator's transactions on the registry and the pool, over a cosmos chain.
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use cosmwasm_std::Binary;
use opg_core::msg::registry::{
    DeregisterMsg, RegisterMsg, RenewAttestationMsg, UpdateNodeMsg, WithdrawBondMsg,
};
use opg_core::msg::registry::{ExecuteMsg as RegistryMsg, NodeKind, QueryMsg as RegistryQuery};
use opg_core::msg::{pool, registry};
use opg_core::sign::{EvmSigner, NodeSigner};
use opg_core::types::{HardwareAttestation, NodeKey, NodeKindTag};
use serde::{Deserialize, Serialize};

use super::common::{print_as, print_json, ChainArgs, ReadArgs, Reader};
use crate::tx::msgs::{parse_coins, Coin, WasmMsg};

/// `opg node …`.
#[derive(Args, Debug)]
pub struct NodeArgs {
    /// Subcommand.
    #[command(subcommand)]
    pub command: NodeCommand,
}

/// Node subcommands.
#[derive(Subcommand, Debug)]
pub enum NodeCommand {
    /// Register a node (the signer becomes its operator) with a bond.
    Register(Box<RegisterArgs>),
    /// Update a node's key, payTo, endpoint, models, upstream or attestation.
    Update(Box<UpdateArgs>),
    /// Replace a local node's hardware attestation.
    RenewAttestation(RenewArgs),
    /// Start unbonding a node (its bond is withdrawable after the unbonding period).
    Deregister(IdArgs),
    /// Withdraw the bond of a deregistered node after unbonding.
    WithdrawBond(IdArgs),
    /// Claim a node's finalized rewards (paid to its operator).
    Claim(ClaimArgs),
    /// Show a node (registry) and its rewards (pool).
    Status(StatusArgs),
    /// List registered nodes.
    List(ListArgs),
    /// Make a node receipt-signing key; prints its public part.
    Keygen(KeygenArgs),
}

/// Node key algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyType {
    /// secp256k1, identified by its EVM address.
    Secp256k1,
    /// ed25519, identified by its public key.
    Ed25519,
}

/// Node kind flag.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum KindFlag {
    /// Relays to a commercial API (`--upstream`).
    Proxy,
    /// Local open-weight inference (`--attestation`).
    Local,
}

/// How the node key is given.
#[derive(Args, Clone, Debug)]
pub struct KeyFlags {
    /// Key algorithm of `--node-key-file` / `--key-address` / `--key-pubkey`.
    #[arg(long, value_enum, default_value_t = KeyType::Secp256k1)]
    pub key_type: KeyType,
    /// A key file written by `opg node keygen`.
    #[arg(long)]
    pub node_key_file: Option<PathBuf>,
    /// EVM address of a secp256k1 node key (`0x` + 40 hex).
    #[arg(long, conflicts_with = "node_key_file")]
    pub key_address: Option<String>,
    /// Hex public key (32 bytes) of an ed25519 node key.
    #[arg(long, conflicts_with_all = ["node_key_file", "key_address"])]
    pub key_pubkey: Option<String>,
}

impl KeyFlags {
    /// The registry key, if one is given.
    pub fn node_key(&self) -> anyhow::Result<Option<NodeKey>> {
        if let Some(f) = &self.node_key_file {
            return Ok(Some(read_key_file(f)?.key()));
        }
        if let Some(a) = &self.key_address {
            anyhow::ensure!(
                self.key_type == KeyType::Secp256k1,
                "--key-address is for --key-type secp256k1"
            );
            return Ok(Some(NodeKey::Secp256k1 { address: a.clone() }));
        }
        if let Some(p) = &self.key_pubkey {
            anyhow::ensure!(
                self.key_type == KeyType::Ed25519,
                "--key-pubkey is for --key-type ed25519"
            );
            let bytes = hex::decode(p.trim_start_matches("0x")).context("--key-pubkey: hex")?;
            return Ok(Some(NodeKey::Ed25519 {
                public_key: Binary::from(bytes),
            }));
        }
        Ok(None)
    }
}

/// `opg node register`.
#[derive(Args, Debug)]
pub struct RegisterArgs {
    /// Chain connection.
    #[command(flatten)]
    pub chain: ChainArgs,
    /// Node id (3-64 chars of `[a-z0-9-_.]`).
    #[arg(long)]
    pub node_id: String,
    /// Node kind.
    #[arg(long, value_enum)]
    pub kind: KindFlag,
    /// Upstream API of a proxy node.
    #[arg(long, required_if_eq("kind", "proxy"))]
    pub upstream: Option<String>,
    /// Hardware attestation JSON file of a local node.
    #[arg(long, required_if_eq("kind", "local"))]
    pub attestation: Option<PathBuf>,
    /// The receipt-signing key.
    #[command(flatten)]
    pub key: KeyFlags,
    /// x402 `payTo` EVM address.
    #[arg(long)]
    pub pay_to: String,
    /// Endpoint URL.
    #[arg(long)]
    pub endpoint: String,
    /// A model served (repeat).
    #[arg(long = "model", required = true)]
    pub models: Vec<String>,
    /// Bond, e.g. `1000000uopg`.
    #[arg(long)]
    pub bond: String,
}

/// `opg node update`.
#[derive(Args, Debug)]
pub struct UpdateArgs {
    /// Chain connection.
    #[command(flatten)]
    pub chain: ChainArgs,
    /// Node id.
    #[arg(long)]
    pub node_id: String,
    /// New key (optional).
    #[command(flatten)]
    pub key: KeyFlags,
    /// New payTo.
    #[arg(long)]
    pub pay_to: Option<String>,
    /// New endpoint.
    #[arg(long)]
    pub endpoint: Option<String>,
    /// New model list (repeat; replaces the list).
    #[arg(long = "model")]
    pub models: Vec<String>,
    /// New upstream (proxy nodes).
    #[arg(long)]
    pub upstream: Option<String>,
    /// New attestation JSON file (local nodes).
    #[arg(long)]
    pub attestation: Option<PathBuf>,
}

/// `opg node renew-attestation`.
#[derive(Args, Debug)]
pub struct RenewArgs {
    /// Chain connection.
    #[command(flatten)]
    pub chain: ChainArgs,
    /// Node id.
    #[arg(long)]
    pub node_id: String,
    /// Attestation JSON file.
    #[arg(long)]
    pub attestation: PathBuf,
}

/// A node id and a chain connection.
#[derive(Args, Debug)]
pub struct IdArgs {
    /// Chain connection.
    #[command(flatten)]
    pub chain: ChainArgs,
    /// Node id.
    #[arg(long)]
    pub node_id: String,
}

/// `opg node claim`.
#[derive(Args, Debug)]
pub struct ClaimArgs {
    /// Chain connection.
    #[command(flatten)]
    pub chain: ChainArgs,
    /// Node id.
    #[arg(long)]
    pub node_id: String,
    /// Maximum epochs claimed in one tx.
    #[arg(long)]
    pub limit: Option<u32>,
}

/// `opg node status`.
#[derive(Args, Debug)]
pub struct StatusArgs {
    /// Chain connection.
    #[command(flatten)]
    pub chain: ReadArgs,
    /// Node id.
    #[arg(long)]
    pub node_id: String,
}

/// `opg node list`.
#[derive(Args, Debug)]
pub struct ListArgs {
    /// Chain connection.
    #[command(flatten)]
    pub chain: ReadArgs,
    /// Only this kind.
    #[arg(long, value_enum)]
    pub kind: Option<KindFlag>,
    /// Page start (exclusive node id).
    #[arg(long)]
    pub start_after: Option<String>,
    /// Page size.
    #[arg(long)]
    pub limit: Option<u32>,
}

/// `opg node keygen`.
#[derive(Args, Debug)]
pub struct KeygenArgs {
    /// Key algorithm.
    #[arg(long = "type", value_enum, default_value_t = KeyType::Secp256k1)]
    pub key_type: KeyType,
    /// Where to write the key file (refuses to overwrite; mode 0600).
    #[arg(long)]
    pub out: PathBuf,
}

/// A node key file: `{"key_type": "secp256k1"|"ed25519", "secret_hex": "…"}`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeKeyFile {
    /// Algorithm.
    pub key_type: KeyType,
    /// 32-byte secret, hex.
    pub secret_hex: String,
}

/// Reads a key file. Errors: unreadable, malformed, invalid secret.
pub fn read_key_file(path: &Path) -> anyhow::Result<NodeSigner> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read node key file {}", path.display()))?;
    let f: NodeKeyFile = serde_json::from_str(&text)
        .with_context(|| format!("invalid node key file {}", path.display()))?;
    let bytes: [u8; 32] = hex::decode(&f.secret_hex)
        .ok()
        .and_then(|b| b.try_into().ok())
        .with_context(|| format!("{}: secret_hex must be 32 bytes hex", path.display()))?;
    Ok(match f.key_type {
        KeyType::Secp256k1 => NodeSigner::Secp256k1(
            EvmSigner::from_bytes(&bytes)
                .with_context(|| format!("{}: not a valid secp256k1 secret", path.display()))?,
        ),
        KeyType::Ed25519 => NodeSigner::Ed25519(ed25519_dalek::SigningKey::from_bytes(&bytes)),
    })
}

/// The public part of a node key in the flags that take it: `{"key_type": "secp256k1",
/// "key_address": "0x…"}` (`--key-address`) or `{"key_type": "ed25519", "key_pubkey": "<64
/// hex>"}` (`--key-pubkey`).
pub fn public_flags(key: &NodeKey) -> serde_json::Value {
    match key {
        NodeKey::Secp256k1 { address } => {
            serde_json::json!({"key_type": "secp256k1", "key_address": address})
        }
        NodeKey::Ed25519 { public_key } => {
            serde_json::json!({"key_type": "ed25519", "key_pubkey": hex::encode(public_key.as_slice())})
        }
    }
}

/// Makes a key, writes it to `out` and returns its public part as [`public_flags`] prints it.
pub fn keygen(key_type: KeyType, out: &Path) -> anyhow::Result<serde_json::Value> {
    use rand::RngCore;
    anyhow::ensure!(
        !out.exists(),
        "{} exists; refusing to overwrite a key",
        out.display()
    );
    let signer = loop {
        let mut secret = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut secret);
        let file = NodeKeyFile {
            key_type,
            secret_hex: hex::encode(secret),
        };
        let signer = match key_type {
            KeyType::Secp256k1 => EvmSigner::from_bytes(&secret).map(NodeSigner::Secp256k1),
            KeyType::Ed25519 => Some(NodeSigner::Ed25519(ed25519_dalek::SigningKey::from_bytes(
                &secret,
            ))),
        };
        if let Some(s) = signer {
            write_private(out, &serde_json::to_string_pretty(&file)?)?;
            break s;
        }
    };
    Ok(public_flags(&signer.key()))
}

fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    f.write_all(text.as_bytes())?;
    Ok(())
}

fn read_attestation(path: &Path) -> anyhow::Result<HardwareAttestation> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read attestation {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| {
        format!(
            "invalid attestation {} (expected {{hardware_class, evidence_digest, expires_at, attester, signature}})",
            path.display()
        )
    })
}

fn registry_tx(chain: &ChainArgs, msg: &RegistryMsg, funds: Vec<Coin>) -> anyhow::Result<()> {
    let sender = chain.sender()?;
    let contract = chain.deploy_state()?.deployment.registry;
    let m = WasmMsg::Execute {
        sender,
        contract,
        msg: serde_json::to_vec(msg)?,
        funds,
    };
    print_as(chain.output, &chain.submit(vec![m])?)
}

/// The registry message of `opg node register`.
pub fn register_msg(a: &RegisterArgs) -> anyhow::Result<RegistryMsg> {
    let kind = match a.kind {
        KindFlag::Proxy => NodeKind::Proxy {
            upstream: a.upstream.clone().context("--upstream is required")?,
        },
        KindFlag::Local => NodeKind::Local {
            attestation: read_attestation(
                a.attestation
                    .as_deref()
                    .context("--attestation is required")?,
            )?,
        },
    };
    Ok(RegistryMsg::Register(RegisterMsg {
        node_id: a.node_id.clone(),
        kind,
        key: a
            .key
            .node_key()?
            .context("give --node-key-file, --key-address or --key-pubkey")?,
        pay_to: a.pay_to.clone(),
        endpoint: a.endpoint.clone(),
        models: a.models.clone(),
    }))
}

/// Runs `opg node`.
pub fn run(args: NodeArgs) -> anyhow::Result<()> {
    match args.command {
        NodeCommand::Register(a) => {
            let msg = register_msg(&a)?;
            registry_tx(&a.chain, &msg, parse_coins(&a.bond, "bond")?)
        }
        NodeCommand::Update(a) => {
            let msg = RegistryMsg::UpdateNode(UpdateNodeMsg {
                node_id: a.node_id.clone(),
                key: a.key.node_key()?,
                pay_to: a.pay_to.clone(),
                endpoint: a.endpoint.clone(),
                models: (!a.models.is_empty()).then(|| a.models.clone()),
                upstream: a.upstream.clone(),
                attestation: a.attestation.as_deref().map(read_attestation).transpose()?,
            });
            registry_tx(&a.chain, &msg, vec![])
        }
        NodeCommand::RenewAttestation(a) => {
            let msg = RegistryMsg::RenewAttestation(RenewAttestationMsg {
                node_id: a.node_id.clone(),
                attestation: read_attestation(&a.attestation)?,
            });
            registry_tx(&a.chain, &msg, vec![])
        }
        NodeCommand::Deregister(a) => registry_tx(
            &a.chain,
            &RegistryMsg::Deregister(DeregisterMsg {
                node_id: a.node_id.clone(),
            }),
            vec![],
        ),
        NodeCommand::WithdrawBond(a) => registry_tx(
            &a.chain,
            &RegistryMsg::WithdrawBond(WithdrawBondMsg {
                node_id: a.node_id.clone(),
            }),
            vec![],
        ),
        NodeCommand::Claim(a) => {
            let m = WasmMsg::Execute {
                sender: a.chain.sender()?,
                contract: a.chain.deploy_state()?.deployment.pool,
                msg: serde_json::to_vec(&pool::ExecuteMsg::Claim {
                    node_id: a.node_id.clone(),
                    limit: a.limit,
                })?,
                funds: vec![],
            };
            print_as(a.chain.output, &a.chain.submit(vec![m])?)
        }
        NodeCommand::Status(a) => print_as(
            a.chain.output,
            &status(&Reader::open(&a.chain)?, &a.node_id)?,
        ),
        NodeCommand::List(a) => {
            let r = Reader::open(&a.chain)?;
            let nodes: registry::NodesResponse = r.query(
                &r.deployment.registry,
                &RegistryQuery::Nodes {
                    kind: a.kind.map(|k| match k {
                        KindFlag::Proxy => NodeKindTag::Proxy,
                        KindFlag::Local => NodeKindTag::Local,
                    }),
                    status: None,
                    start_after: a.start_after.clone(),
                    limit: a.limit,
                },
            )?;
            print_as(a.chain.output, &serde_json::to_value(nodes)?)
        }
        NodeCommand::Keygen(a) => {
            let mut public = keygen(a.key_type, &a.out)?;
            public["file"] = serde_json::json!(a.out);
            print_json(&public)
        }
    }
}

/// `{"node": NodeInfo, "pending_rewards": PendingRewardsResponse, "rewards": NodeRewardsResponse}`.
pub fn status(r: &Reader, node_id: &str) -> anyhow::Result<serde_json::Value> {
    let node: registry::NodeInfo = r.query(
        &r.deployment.registry,
        &RegistryQuery::Node {
            node_id: node_id.into(),
        },
    )?;
    let pending: pool::PendingRewardsResponse = r.query(
        &r.deployment.pool,
        &pool::QueryMsg::PendingRewards {
            node_id: node_id.into(),
        },
    )?;
    let rewards: pool::NodeRewardsResponse = r.query(
        &r.deployment.pool,
        &pool::QueryMsg::NodeRewards {
            node_id: node_id.into(),
            start_after: None,
            limit: None,
        },
    )?;
    Ok(serde_json::json!({
        "node": node,
        "pending_rewards": pending,
        "rewards": rewards,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keygen_writes_a_key_that_reads_back_to_the_printed_public_part() {
        let dir = tempfile::tempdir().unwrap();
        for t in [KeyType::Secp256k1, KeyType::Ed25519] {
            let out = dir.path().join(format!("{t:?}.json"));
            let public = keygen(t, &out).unwrap();
            let from_file = read_key_file(&out).unwrap().key();
            // what keygen prints is what --key-address / --key-pubkey take
            let flags = KeyFlags {
                key_type: t,
                node_key_file: None,
                key_address: public["key_address"].as_str().map(String::from),
                key_pubkey: public["key_pubkey"].as_str().map(String::from),
            };
            assert_eq!(flags.node_key().unwrap(), Some(from_file));
            assert!(keygen(t, &out).unwrap_err().to_string().contains("exists"));
        }
    }

    #[test]
    fn a_bad_key_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("k.json");
        std::fs::write(&p, r#"{"key_type":"ed25519","secret_hex":"abcd"}"#).unwrap();
        let e = match read_key_file(&p) {
            Ok(_) => panic!("a 2-byte secret was accepted"),
            Err(e) => e.to_string(),
        };
        assert!(e.contains("32 bytes"), "{e}");
    }
}
