//! `node-registry` messages (DESIGN §5).
use cosmwasm_schema::{cw_serde, QueryResponses};
use cosmwasm_std::{Addr, Binary, Decimal, Uint128};

use crate::types::{HardwareAttestation, NodeKey, NodeKindTag, NodeStatus, Provenance};

/// Instantiate the registry.
#[cw_serde]
pub struct InstantiateMsg {
    /// Governance address (x/gov module account or a DAO): the only sender of governance messages.
    pub governance: String,
    /// Native denom of bonds (e.g. `uopg`).
    pub bond_denom: String,
    /// Minimum bond to register, in `bond_denom` base units (uopg).
    pub min_bond: Uint128,
    /// Seconds between `Deregister` and the bond becoming withdrawable.
    pub unbonding_period: u64,
    /// The reward pool receiving slashed bonds; may be set later with `UpdateConfig`.
    pub reward_pool: Option<String>,
}

/// The kind of node being registered, with its kind-specific data.
#[cw_serde]
pub enum NodeKind {
    /// A proxy node relaying to a commercial API.
    Proxy {
        /// The upstream API it relays to (e.g. `https://api.openai.com`), informational.
        upstream: String,
    },
    /// A local inference node on its own hardware.
    Local {
        /// The hardware attestation of an allow-listed attester, bound to operator and node key.
        attestation: HardwareAttestation,
    },
}

/// Execute messages of the registry.
#[cw_serde]
pub enum ExecuteMsg {
    /// Registers a node owned by the sender (its operator). Attach at least `min_bond` of
    /// `bond_denom`. Errors: `NodeExists`, `BondTooLow`, `ModelNotAllowed` (provenance does not match
    /// the kind, or unknown model), `InvalidAttestation`, `InvalidAddress`, `InvalidKey`.
    Register {
        /// Unique node id, 3-64 chars of `[a-z0-9-_.]`.
        node_id: String,
        /// Proxy (with upstream) or local (with attestation).
        kind: NodeKind,
        /// The receipt-signing key.
        key: NodeKey,
        /// EVM address (`0x` + 40 hex) the node receives x402 payments at (`payTo`).
        pay_to: String,
        /// Public endpoint URL of the node's inference API.
        endpoint: String,
        /// Model ids served; proxy: commercial only, local: community only. At most 64.
        models: Vec<String>,
    },
    /// Updates a node (operator only). `None` leaves a field unchanged. Changing a local node's key
    /// needs a new `attestation` bound to the new key.
    UpdateNode {
        /// The node.
        node_id: String,
        /// New signing key.
        key: Option<NodeKey>,
        /// New `payTo` EVM address.
        pay_to: Option<String>,
        /// New endpoint URL.
        endpoint: Option<String>,
        /// New model list (replaces the old one).
        models: Option<Vec<String>>,
        /// Proxy nodes: new upstream.
        upstream: Option<String>,
        /// Local nodes: a new attestation (required with a new key).
        attestation: Option<HardwareAttestation>,
    },
    /// Replaces a local node's hardware attestation (operator only).
    RenewAttestation {
        /// The node.
        node_id: String,
        /// The new attestation.
        attestation: HardwareAttestation,
    },
    /// Starts unbonding (operator only): the node stops being active now; the bond can be withdrawn
    /// after `unbonding_period` seconds.
    Deregister {
        /// The node.
        node_id: String,
    },
    /// Pays the bond back to the operator once unbonding has ended, and removes the node.
    WithdrawBond {
        /// The node.
        node_id: String,
    },
    /// Governance: adds or replaces a model on the model list.
    AddModel {
        /// Model id, e.g. `openai/gpt-4.1` or `meta-llama/llama-3.1-8b-instruct`.
        id: String,
        /// Commercial or community.
        provenance: Provenance,
        /// sha256 of the open weights (community models), 32 bytes.
        weights_digest: Option<Binary>,
    },
    /// Governance: removes a model; nodes listing it get `model_unknown` for it.
    RemoveModel {
        /// Model id.
        id: String,
    },
    /// Governance: allow-lists a hardware attester (EVM address).
    AddAttester {
        /// `0x` + 40 hex.
        address: String,
    },
    /// Governance: removes a hardware attester.
    RemoveAttester {
        /// `0x` + 40 hex.
        address: String,
    },
    /// Governance: jails a node; its receipts are rejected with `node_jailed`.
    Jail {
        /// The node.
        node_id: String,
        /// Why, recorded on the node and in the event.
        reason: String,
    },
    /// Governance: unjails a node.
    Unjail {
        /// The node.
        node_id: String,
    },
    /// Governance: slashes `fraction` of a node's bond (rounded down) into the reward pool.
    Slash {
        /// The node.
        node_id: String,
        /// Fraction in `(0, 1]`.
        fraction: Decimal,
    },
    /// Governance: updates the config; `None` leaves a field unchanged.
    UpdateConfig {
        /// New governance address.
        governance: Option<String>,
        /// New minimum bond (uopg); applies to new registrations.
        min_bond: Option<Uint128>,
        /// New unbonding period (seconds); applies to later deregistrations.
        unbonding_period: Option<u64>,
        /// Reward pool address for slashed funds.
        reward_pool: Option<String>,
    },
}

/// Sudo messages (chain governance): the governance subset of [`ExecuteMsg`].
#[cw_serde]
pub enum SudoMsg {
    /// Same as `ExecuteMsg::AddModel`.
    AddModel {
        /// Model id.
        id: String,
        /// Provenance.
        provenance: Provenance,
        /// sha256 of the weights.
        weights_digest: Option<Binary>,
    },
    /// Same as `ExecuteMsg::RemoveModel`.
    RemoveModel {
        /// Model id.
        id: String,
    },
    /// Same as `ExecuteMsg::AddAttester`.
    AddAttester {
        /// EVM address.
        address: String,
    },
    /// Same as `ExecuteMsg::RemoveAttester`.
    RemoveAttester {
        /// EVM address.
        address: String,
    },
    /// Same as `ExecuteMsg::Jail`.
    Jail {
        /// The node.
        node_id: String,
        /// Why.
        reason: String,
    },
    /// Same as `ExecuteMsg::Unjail`.
    Unjail {
        /// The node.
        node_id: String,
    },
    /// Same as `ExecuteMsg::Slash`.
    Slash {
        /// The node.
        node_id: String,
        /// Fraction in `(0, 1]`.
        fraction: Decimal,
    },
    /// Same as `ExecuteMsg::UpdateConfig`.
    UpdateConfig {
        /// New governance address.
        governance: Option<String>,
        /// New minimum bond.
        min_bond: Option<Uint128>,
        /// New unbonding period (seconds).
        unbonding_period: Option<u64>,
        /// Reward pool address.
        reward_pool: Option<String>,
    },
}

/// Queries of the registry.
#[cw_serde]
#[derive(QueryResponses)]
pub enum QueryMsg {
    /// The config.
    #[returns(ConfigResponse)]
    Config {},
    /// One node. Errors if unknown.
    #[returns(NodeInfo)]
    Node {
        /// The node.
        node_id: String,
    },
    /// Nodes in id order, optionally filtered.
    #[returns(NodesResponse)]
    Nodes {
        /// Only this kind.
        kind: Option<NodeKindTag>,
        /// Only this status.
        status: Option<NodeStatus>,
        /// Exclusive start node id.
        start_after: Option<String>,
        /// Page size, default 30, at most 100.
        limit: Option<u32>,
    },
    /// For the verifier, one query per batch: the listed nodes (unknown ids are omitted) and the
    /// listed models (unknown ids are omitted). At most 256 ids each.
    #[returns(NodesByIdsResponse)]
    NodesByIds {
        /// Node ids.
        ids: Vec<String>,
        /// Model ids whose provenance is wanted.
        models: Vec<String>,
    },
    /// One model. Errors if unknown.
    #[returns(ModelInfo)]
    Model {
        /// Model id.
        id: String,
    },
    /// Models in id order.
    #[returns(ModelsResponse)]
    Models {
        /// Exclusive start id.
        start_after: Option<String>,
        /// Page size.
        limit: Option<u32>,
    },
    /// Allow-listed attesters in address order.
    #[returns(AttestersResponse)]
    Attesters {
        /// Exclusive start address.
        start_after: Option<String>,
        /// Page size.
        limit: Option<u32>,
    },
}

/// Registry config.
#[cw_serde]
pub struct ConfigResponse {
    /// Governance address.
    pub governance: Addr,
    /// Bond denom.
    pub bond_denom: String,
    /// Minimum bond (uopg).
    pub min_bond: Uint128,
    /// Unbonding period (seconds).
    pub unbonding_period: u64,
    /// Reward pool receiving slashes.
    pub reward_pool: Option<Addr>,
}

/// A registered node.
#[cw_serde]
pub struct NodeInfo {
    /// Node id.
    pub node_id: String,
    /// Operator: registered it, may update it, receives its rewards and bond.
    pub operator: Addr,
    /// Proxy or local.
    pub kind: NodeKindTag,
    /// Proxy nodes: the upstream API.
    pub upstream: Option<String>,
    /// Local nodes: the current hardware attestation.
    pub attestation: Option<HardwareAttestation>,
    /// Receipt-signing key.
    pub key: NodeKey,
    /// `payTo` EVM address, lowercase.
    pub pay_to: String,
    /// Endpoint URL.
    pub endpoint: String,
    /// Models served.
    pub models: Vec<String>,
    /// Current bond (uopg), after slashes.
    pub bond: Uint128,
    /// Active, jailed or unbonding.
    pub status: NodeStatus,
    /// Why it was jailed, if it is.
    pub jail_reason: Option<String>,
    /// Unix seconds of registration.
    pub registered_at: u64,
    /// Unix seconds when the bond becomes withdrawable (unbonding nodes).
    pub unbonding_ends: Option<u64>,
}

/// Page of nodes.
#[cw_serde]
pub struct NodesResponse {
    /// Nodes.
    pub nodes: Vec<NodeInfo>,
}

/// Answer to `NodesByIds`.
#[cw_serde]
pub struct NodesByIdsResponse {
    /// Known nodes among the ids.
    pub nodes: Vec<NodeInfo>,
    /// Known models among the model ids.
    pub models: Vec<ModelInfo>,
}

/// A model on the governance-kept list.
#[cw_serde]
pub struct ModelInfo {
    /// Model id.
    pub id: String,
    /// Commercial or community.
    pub provenance: Provenance,
    /// sha256 of the weights.
    pub weights_digest: Option<Binary>,
}

/// Page of models.
#[cw_serde]
pub struct ModelsResponse {
    /// Models.
    pub models: Vec<ModelInfo>,
}

/// Page of attesters.
#[cw_serde]
pub struct AttestersResponse {
    /// EVM addresses, lowercase.
    pub attesters: Vec<String>,
}
