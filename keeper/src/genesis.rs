//! Genesis of the embedded chain: what the `[genesis]` section of `keeper.toml` lists (models,
//! attesters, nodes, pool funding) and the dev keys derived from its `dev_seed`.
//!
//! **DEV ONLY:** every key of the dev attester, the dev facilitator and the genesis nodes is
//! derived from `dev_seed` with [`opg_core::sign::EvmSigner::derive`] /
//! [`opg_core::sign::NodeSigner::derive`]. Anyone who knows the seed can sign as them. This is
//! what a single-machine keeper and `opg simulate` need; a real chain never uses it.
use cosmwasm_std::{Decimal, Uint128};
use opg_core::msg::pool::{HardwareWeight, RewardParams};
use opg_core::sign::{EvmSigner, NodeSigner};
use opg_core::types::{AssetConfig, NetworkConfig, NodeKindTag, Provenance};
use serde::{Deserialize, Serialize};

/// Which signature algorithm a genesis node's key uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum KeyType {
    /// secp256k1, identified by an EVM address (default).
    #[default]
    Secp256k1,
    /// ed25519.
    Ed25519,
}

/// A model on the genesis model list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisModel {
    /// Model id, e.g. `openai/gpt-4.1`.
    pub id: String,
    /// `commercial` or `community`.
    pub provenance: Provenance,
    /// sha256 of the open weights, 64 hex chars (community models, optional).
    #[serde(default)]
    pub weights_digest: Option<String>,
}

/// A node registered at genesis, with keys derived from the dev seed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisNode {
    /// Node id, 3-64 chars of `[a-z0-9-_.]`.
    pub id: String,
    /// `proxy` or `local`.
    pub kind: NodeKindTag,
    /// Models served (proxy: commercial only, local: community only).
    pub models: Vec<String>,
    /// Key algorithm (default `secp256k1`).
    #[serde(default)]
    pub key_type: KeyType,
    /// Attested hardware class (local nodes only, e.g. `h100`, `rtx4090`).
    #[serde(default)]
    pub hardware_class: Option<String>,
    /// Bond in uopg (default: the registry's `min_bond`).
    #[serde(default)]
    pub bond: Option<Uint128>,
    /// `payTo` EVM address; default derived from the dev seed (label `payto/<id>`).
    #[serde(default)]
    pub pay_to: Option<String>,
    /// Endpoint URL (default `http://<id>.invalid`).
    #[serde(default)]
    pub endpoint: Option<String>,
    /// Upstream API of a proxy node (default `https://api.openai.com`).
    #[serde(default)]
    pub upstream: Option<String>,
}

/// Extra native balance minted at genesis to the address `addr_make(label)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisBalance {
    /// Address label (the embedded chain's address is `addr_make(label)`).
    pub label: String,
    /// Amount in uopg.
    pub amount: Uint128,
}

/// The verifier's policy at genesis.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisVerifier {
    /// Accepted x402 networks with their assets and decimals.
    pub networks: Vec<NetworkConfig>,
    /// Whether a facilitator settlement attestation is required (default true).
    #[serde(default = "default_true")]
    pub require_settlement: bool,
    /// Maximum receipts + heartbeats per `SubmitReceipts` (default 100).
    #[serde(default = "default_max_batch")]
    pub max_batch: u32,
    /// Extra allow-listed facilitators besides the dev facilitator (`0x` addresses).
    #[serde(default)]
    pub extra_facilitators: Vec<String>,
}

fn default_true() -> bool {
    true
}
fn default_max_batch() -> u32 {
    100
}

impl Default for GenesisVerifier {
    fn default() -> Self {
        GenesisVerifier {
            networks: vec![NetworkConfig {
                chain_id: 84532,
                name: "base-sepolia".into(),
                // USDC on Base Sepolia (Circle's published testnet address), 6 decimals.
                assets: vec![AssetConfig {
                    address: "0x036cbd53842c5426634e7929541ec2318f3dcf7e".into(),
                    decimals: 6,
                    eip712_name: Some("USDC".into()),
                    eip712_version: Some("2".into()),
                }],
            }],
            require_settlement: true,
            max_batch: 100,
            extra_facilitators: vec![],
        }
    }
}

/// Genesis of the embedded chain. Used as the `[genesis]` section of `keeper.toml` and built
/// programmatically by `opg simulate`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisConfig {
    /// Chain id (part of the EIP-712 domain salt of receipts). Default `opg-local-1`.
    #[serde(default = "default_chain_id")]
    pub chain_id: String,
    /// Native denom. Default `uopg`.
    #[serde(default = "default_denom")]
    pub denom: String,
    /// Seed of the dev keys (attester, facilitator, nodes). DEV ONLY, see module docs.
    pub dev_seed: String,
    /// Label of the governance address (`addr_make(label)`). Default `governance`.
    #[serde(default = "default_governance")]
    pub governance: String,
    /// Unix seconds at which epoch 0 starts; absent: the wall clock when genesis is applied.
    #[serde(default)]
    pub genesis_time: Option<u64>,
    /// Epoch length in seconds (> 0).
    pub epoch_length: u64,
    /// Grace period after an epoch's end in seconds.
    pub grace: u64,
    /// Minimum node bond, uopg. Default 1_000_000.
    #[serde(default = "default_min_bond")]
    pub min_bond: Uint128,
    /// Unbonding period in seconds. Default 604800 (7 days).
    #[serde(default = "default_unbonding")]
    pub unbonding_period: u64,
    /// Seconds the dev attestations of local nodes stay valid. Default 31536000 (365 days).
    #[serde(default = "default_attestation_validity")]
    pub attestation_validity: u64,
    /// Reward params in force from epoch 0.
    pub params: RewardParams,
    /// Verifier policy.
    #[serde(default)]
    pub verifier: GenesisVerifier,
    /// The model list.
    pub models: Vec<GenesisModel>,
    /// Nodes registered at genesis.
    #[serde(default)]
    pub nodes: Vec<GenesisNode>,
    /// uopg minted to governance and sent to the pool with `Fund {}`.
    #[serde(default)]
    pub pool_funding: Uint128,
    /// Extra balances.
    #[serde(default)]
    pub balances: Vec<GenesisBalance>,
}

fn default_chain_id() -> String {
    "opg-local-1".into()
}
fn default_denom() -> String {
    "uopg".into()
}
fn default_governance() -> String {
    "governance".into()
}
fn default_min_bond() -> Uint128 {
    Uint128::new(1_000_000)
}
fn default_unbonding() -> u64 {
    604_800
}
fn default_attestation_validity() -> u64 {
    31_536_000
}

/// A genesis validation failure.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum GenesisError {
    /// A field is out of range or inconsistent.
    #[error("genesis.{field}: {message}")]
    Invalid {
        /// Dotted field path.
        field: String,
        /// What is wrong.
        message: String,
    },
}

fn invalid(field: impl Into<String>, message: impl Into<String>) -> GenesisError {
    GenesisError::Invalid {
        field: field.into(),
        message: message.into(),
    }
}

impl GenesisConfig {
    /// A small dev genesis: one proxy node serving `openai/gpt-4.1`, one local node on an `h100`
    /// serving `meta-llama/llama-3.1-8b-instruct`, hourly epochs with 10 minutes of grace.
    pub fn dev(dev_seed: &str) -> Self {
        GenesisConfig {
            chain_id: default_chain_id(),
            denom: default_denom(),
            dev_seed: dev_seed.into(),
            governance: default_governance(),
            genesis_time: None,
            epoch_length: 3600,
            grace: 600,
            min_bond: default_min_bond(),
            unbonding_period: default_unbonding(),
            attestation_validity: default_attestation_validity(),
            params: RewardParams {
                emission_per_epoch: Uint128::new(1_000_000_000),
                m_commercial: Decimal::percent(50),
                m_community_max: Decimal::percent(300),
                target_share: Decimal::percent(30),
                alpha: Decimal::percent(20),
                // $10 per call: every dev test call counts whole.
                v_cap: Uint128::new(10_000_000),
                // Dev chain: no per-call cap, so the hand-computed figures of the end-to-end
                // tests stay simple; `keeper.example.toml` shows a capped deployment.
                c_call: None,
                // Unclaimed rewards expire back to the pool after 365 epochs.
                claim_epochs: 365,
                // Stipend caps of one epoch's emission: not binding on the dev chain.
                hardware_weights: vec![
                    HardwareWeight {
                        class: "h100".into(),
                        weight: Decimal::percent(1000),
                        stipend_cap: Uint128::new(1_000_000_000),
                    },
                    HardwareWeight {
                        class: "rtx4090".into(),
                        weight: Decimal::percent(300),
                        stipend_cap: Uint128::new(1_000_000_000),
                    },
                ],
            },
            verifier: GenesisVerifier::default(),
            models: vec![
                GenesisModel {
                    id: "openai/gpt-4.1".into(),
                    provenance: Provenance::Commercial,
                    weights_digest: None,
                },
                GenesisModel {
                    id: "meta-llama/llama-3.1-8b-instruct".into(),
                    provenance: Provenance::Community,
                    weights_digest: None,
                },
            ],
            nodes: vec![
                GenesisNode {
                    id: "proxy-1".into(),
                    kind: NodeKindTag::Proxy,
                    models: vec!["openai/gpt-4.1".into()],
                    key_type: KeyType::Secp256k1,
                    hardware_class: None,
                    bond: None,
                    pay_to: None,
                    endpoint: None,
                    upstream: None,
                },
                GenesisNode {
                    id: "local-1".into(),
                    kind: NodeKindTag::Local,
                    models: vec!["meta-llama/llama-3.1-8b-instruct".into()],
                    key_type: KeyType::Ed25519,
                    hardware_class: Some("h100".into()),
                    bond: None,
                    pay_to: None,
                    endpoint: None,
                    upstream: None,
                },
            ],
            pool_funding: Uint128::new(100_000_000_000),
            balances: vec![],
        }
    }

    /// Checks what the contracts would refuse later, with the offending field named.
    pub fn validate(&self) -> Result<(), GenesisError> {
        if self.chain_id.trim().is_empty() {
            return Err(invalid("chain_id", "must not be empty"));
        }
        if self.denom.trim().is_empty() {
            return Err(invalid("denom", "must not be empty"));
        }
        if self.dev_seed.is_empty() {
            return Err(invalid("dev_seed", "must not be empty"));
        }
        if self.epoch_length == 0 {
            return Err(invalid("epoch_length", "must be > 0 seconds"));
        }
        if self.verifier.max_batch == 0 || self.verifier.max_batch > 500 {
            return Err(invalid("verifier.max_batch", "must be in 1..=500"));
        }
        if self.verifier.networks.is_empty() {
            return Err(invalid(
                "verifier.networks",
                "at least one network is needed",
            ));
        }
        let mut model_ids = std::collections::BTreeMap::new();
        for (i, m) in self.models.iter().enumerate() {
            if model_ids.insert(m.id.as_str(), m.provenance).is_some() {
                return Err(invalid(
                    format!("models[{i}].id"),
                    format!("duplicate model `{}`", m.id),
                ));
            }
            if let Some(d) = &m.weights_digest {
                if hex::decode(d).map(|b| b.len()) != Ok(32) {
                    return Err(invalid(
                        format!("models[{i}].weights_digest"),
                        "must be 64 hex chars (sha256)",
                    ));
                }
            }
        }
        let mut node_ids = std::collections::BTreeSet::new();
        for (i, n) in self.nodes.iter().enumerate() {
            if !node_ids.insert(n.id.as_str()) {
                return Err(invalid(
                    format!("nodes[{i}].id"),
                    format!("duplicate node `{}`", n.id),
                ));
            }
            if n.models.is_empty() {
                return Err(invalid(
                    format!("nodes[{i}].models"),
                    "a node serves at least one model",
                ));
            }
            for m in &n.models {
                match model_ids.get(m.as_str()) {
                    None => {
                        return Err(invalid(
                            format!("nodes[{i}].models"),
                            format!("model `{m}` is not in genesis.models"),
                        ))
                    }
                    Some(p) if *p != n.kind.provenance() => {
                        return Err(invalid(
                            format!("nodes[{i}].models"),
                            format!(
                                "a {} node cannot serve {} model `{m}`",
                                n.kind.as_str(),
                                p.as_str()
                            ),
                        ))
                    }
                    Some(_) => {}
                }
            }
            match (n.kind, &n.hardware_class) {
                (NodeKindTag::Local, None) => {
                    return Err(invalid(
                        format!("nodes[{i}].hardware_class"),
                        "required for local nodes",
                    ))
                }
                (NodeKindTag::Proxy, Some(_)) => {
                    return Err(invalid(
                        format!("nodes[{i}].hardware_class"),
                        "only local nodes have one",
                    ))
                }
                _ => {}
            }
            if let Some(b) = n.bond {
                if b < self.min_bond {
                    return Err(invalid(format!("nodes[{i}].bond"), "below min_bond"));
                }
            }
        }
        Ok(())
    }

    /// The bond of genesis node `n` (its own or `min_bond`), uopg.
    pub fn bond_of(&self, n: &GenesisNode) -> Uint128 {
        n.bond.unwrap_or(self.min_bond)
    }
}

/// Keys of one genesis node.
#[derive(Clone)]
pub struct DevNodeKeys {
    /// Node id.
    pub node_id: String,
    /// The receipt-signing key registered for the node.
    pub signer: NodeSigner,
    /// Label of the operator address (`addr_make(label)` on the embedded chain): `operator/<id>`.
    pub operator_label: String,
    /// The node's `payTo` EVM address (lowercase).
    pub pay_to: String,
}

impl std::fmt::Debug for DevNodeKeys {
    /// The node id, key and `payTo`; never the secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevNodeKeys")
            .field("node_id", &self.node_id)
            .field("key", &self.signer.key())
            .field("pay_to", &self.pay_to)
            .finish()
    }
}

/// The dev keys genesis registers, derived from `dev_seed`. DEV ONLY.
#[derive(Clone)]
pub struct DevKeys {
    seed: Vec<u8>,
    /// The allow-listed hardware attester (label `attester`).
    pub attester: EvmSigner,
    /// The allow-listed settlement facilitator (label `facilitator`).
    pub facilitator: EvmSigner,
    /// One entry per genesis node, in genesis order.
    pub nodes: Vec<DevNodeKeys>,
}

impl DevKeys {
    /// Derives the keys of `genesis`'s dev attester, facilitator and nodes.
    pub fn from_genesis(genesis: &GenesisConfig) -> Self {
        Self::from_seed(&genesis.dev_seed, &genesis.nodes)
    }

    /// Derives the keys from a seed and a node list (labels: `attester`, `facilitator`,
    /// `node/<id>`, `payto/<id>`).
    pub fn from_seed(seed: &str, nodes: &[GenesisNode]) -> Self {
        let s = seed.as_bytes();
        DevKeys {
            seed: s.to_vec(),
            attester: EvmSigner::derive(s, "attester"),
            facilitator: EvmSigner::derive(s, "facilitator"),
            nodes: nodes
                .iter()
                .map(|n| DevNodeKeys {
                    node_id: n.id.clone(),
                    signer: NodeSigner::derive(
                        s,
                        &format!("node/{}", n.id),
                        n.key_type == KeyType::Ed25519,
                    ),
                    operator_label: format!("operator/{}", n.id),
                    pay_to: n
                        .pay_to
                        .clone()
                        .map(|p| p.to_ascii_lowercase())
                        .unwrap_or_else(|| {
                            EvmSigner::derive(s, &format!("payto/{}", n.id)).address()
                        }),
                })
                .collect(),
        }
    }

    /// The keys of node `node_id`, if it is a genesis node.
    pub fn node(&self, node_id: &str) -> Option<&DevNodeKeys> {
        self.nodes.iter().find(|n| n.node_id == node_id)
    }

    /// The `i`-th dev payer key (label `payer/<i>`), for load generators and simulations.
    pub fn payer(&self, i: u64) -> EvmSigner {
        EvmSigner::derive(&self.seed, &format!("payer/{i}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_genesis_is_valid() {
        GenesisConfig::dev("seed").validate().unwrap();
    }

    #[test]
    fn validation_names_the_field() {
        let mut g = GenesisConfig::dev("seed");
        g.nodes[0].models = vec!["meta-llama/llama-3.1-8b-instruct".into()];
        let e = g.validate().unwrap_err();
        assert_eq!(
            e.to_string(),
            "genesis.nodes[0].models: a proxy node cannot serve community model `meta-llama/llama-3.1-8b-instruct`"
        );
        let mut g = GenesisConfig::dev("seed");
        g.nodes[1].hardware_class = None;
        assert!(g
            .validate()
            .unwrap_err()
            .to_string()
            .starts_with("genesis.nodes[1].hardware_class"));
        let mut g = GenesisConfig::dev("seed");
        g.epoch_length = 0;
        assert!(g
            .validate()
            .unwrap_err()
            .to_string()
            .starts_with("genesis.epoch_length"));
        let mut g = GenesisConfig::dev("seed");
        g.models.push(g.models[0].clone());
        assert!(g
            .validate()
            .unwrap_err()
            .to_string()
            .contains("duplicate model"));
        let mut g = GenesisConfig::dev("seed");
        g.nodes[0].bond = Some(Uint128::new(1));
        assert!(g
            .validate()
            .unwrap_err()
            .to_string()
            .contains("below min_bond"));
    }
}
