//! `node-registry` messages (DESIGN §5).
use cosmwasm_schema::{cw_serde, QueryResponses};
use cosmwasm_std::{Addr, Binary, Decimal, Uint128};

use crate::types::{HardwareAttestation, NodeKey, NodeKindTag, NodeStatus, Provenance};

/// Instantiate the registry.
#[cw_serde]
#[serde(deny_unknown_fields)]
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
    /// Longest validity of an attestation when it is accepted (`expires_at - now`, seconds,
    /// 86,400 ..= 63,072,000 = 1 ..= 730 days). Default 31,536,000 (365 days).
    pub max_attestation_validity: Option<u64>,
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

/// Execute messages of the registry. Each variant wraps a struct with
/// `#[serde(deny_unknown_fields)]` (serde cannot deny unknown fields of an enum's struct variant,
/// and `#[cw_serde]` 2.x does not), so a misspelled or extra field is an error naming it instead of
/// silently ignored. The JSON is unchanged: `{"register":{"node_id":...}}`.
#[cw_serde]
pub enum ExecuteMsg {
    /// Registers a node owned by the sender (its operator). Attach at least `min_bond` of
    /// `bond_denom`. Errors: `NodeExists`, `NodeIdRetired` (the id of a withdrawn node: ids are
    /// never reused), `BondTooLow`, `ModelNotAllowed` (provenance does not match the kind, or
    /// unknown model), `InvalidAttestation`, `AttestationTooLong`, `InvalidAddress`, `InvalidKey`.
    Register(RegisterMsg),
    /// Updates a node (operator only). `None` leaves a field unchanged. Changing a local node's key
    /// needs a new `attestation` bound to the new key.
    UpdateNode(UpdateNodeMsg),
    /// Replaces a local node's hardware attestation (operator only).
    RenewAttestation(RenewAttestationMsg),
    /// Starts unbonding (operator only): the node stops being active now; the bond can be withdrawn
    /// after `unbonding_period` seconds.
    Deregister(DeregisterMsg),
    /// Pays the bond back to the operator once unbonding has ended. The node stays on record with
    /// status `withdrawn` (operator and kind kept, so its unclaimed rewards still go to that
    /// operator); its id is never registered again.
    WithdrawBond(WithdrawBondMsg),
    /// Governance: adds or replaces a model on the model list.
    AddModel(AddModelMsg),
    /// Governance: removes a model; nodes listing it get `model_unknown` for it.
    RemoveModel(RemoveModelMsg),
    /// Governance: allow-lists a hardware attester (EVM address).
    AddAttester(AddAttesterMsg),
    /// Governance: removes a hardware attester and revokes the attestations it signed: from this
    /// block on their nodes' attestations read as expired (`attestation_expired`), so those nodes
    /// stop counting as live (no stipend from the next epoch). Re-adding the attester does not
    /// restore them; their operators renew.
    RemoveAttester(RemoveAttesterMsg),
    /// Governance: jails a node; its receipts are rejected with `node_jailed`.
    Jail(JailMsg),
    /// Governance: unjails a node.
    Unjail(UnjailMsg),
    /// Governance: slashes `fraction` of a node's bond (rounded down) into the reward pool.
    Slash(SlashMsg),
    /// Governance: updates the config; `None` leaves a field unchanged. Each number moves at most
    /// one step per change (`old / 2 <= new <= 2 * old`) within its bounds.
    UpdateConfig(UpdateConfigMsg),
}

/// Sudo messages (chain governance): the governance subset of [`ExecuteMsg`], with the same
/// bodies.
#[cw_serde]
pub enum SudoMsg {
    /// Same as `ExecuteMsg::AddModel`.
    AddModel(AddModelMsg),
    /// Same as `ExecuteMsg::RemoveModel`.
    RemoveModel(RemoveModelMsg),
    /// Same as `ExecuteMsg::AddAttester`.
    AddAttester(AddAttesterMsg),
    /// Same as `ExecuteMsg::RemoveAttester` (revokes what the attester signed).
    RemoveAttester(RemoveAttesterMsg),
    /// Same as `ExecuteMsg::Jail`.
    Jail(JailMsg),
    /// Same as `ExecuteMsg::Unjail`.
    Unjail(UnjailMsg),
    /// Same as `ExecuteMsg::Slash`.
    Slash(SlashMsg),
    /// Same as `ExecuteMsg::UpdateConfig`.
    UpdateConfig(UpdateConfigMsg),
}

/// Body of `Register`.
#[cw_serde]
#[serde(deny_unknown_fields)]
pub struct RegisterMsg {
    /// Unique node id, 3-64 chars of `[a-z0-9-_.]`; never reused, even after the node withdrew.
    pub node_id: String,
    /// Proxy (with upstream) or local (with attestation).
    pub kind: NodeKind,
    /// The receipt-signing key.
    pub key: NodeKey,
    /// EVM address (`0x` + 40 hex) the node receives x402 payments at (`payTo`).
    pub pay_to: String,
    /// Public endpoint URL of the node's inference API.
    pub endpoint: String,
    /// Model ids served; proxy: commercial only, local: community only. At most 64.
    pub models: Vec<String>,
}

/// Body of `UpdateNode`: `None` leaves a field unchanged.
#[cw_serde]
#[serde(deny_unknown_fields)]
pub struct UpdateNodeMsg {
    /// The node.
    pub node_id: String,
    /// New signing key.
    pub key: Option<NodeKey>,
    /// New `payTo` EVM address.
    pub pay_to: Option<String>,
    /// New endpoint URL.
    pub endpoint: Option<String>,
    /// New model list (replaces the old one).
    pub models: Option<Vec<String>>,
    /// Proxy nodes: new upstream.
    pub upstream: Option<String>,
    /// Local nodes: a new attestation (required with a new key); valid for at most
    /// `max_attestation_validity` seconds from now.
    pub attestation: Option<HardwareAttestation>,
}

/// Body of `RenewAttestation`.
#[cw_serde]
#[serde(deny_unknown_fields)]
pub struct RenewAttestationMsg {
    /// The node.
    pub node_id: String,
    /// The new attestation, valid for at most `max_attestation_validity` seconds from now.
    pub attestation: HardwareAttestation,
}

/// Body of `Deregister`.
#[cw_serde]
#[serde(deny_unknown_fields)]
pub struct DeregisterMsg {
    /// The node.
    pub node_id: String,
}

/// Body of `WithdrawBond`.
#[cw_serde]
#[serde(deny_unknown_fields)]
pub struct WithdrawBondMsg {
    /// The node.
    pub node_id: String,
}

/// Body of `AddModel`.
#[cw_serde]
#[serde(deny_unknown_fields)]
pub struct AddModelMsg {
    /// Model id, e.g. `openai/gpt-4.1` or `meta-llama/llama-3.1-8b-instruct`.
    pub id: String,
    /// Commercial or community.
    pub provenance: Provenance,
    /// sha256 of the open weights (community models), 32 bytes.
    pub weights_digest: Option<Binary>,
}

/// Body of `RemoveModel`.
#[cw_serde]
#[serde(deny_unknown_fields)]
pub struct RemoveModelMsg {
    /// Model id.
    pub id: String,
}

/// Body of `AddAttester`.
#[cw_serde]
#[serde(deny_unknown_fields)]
pub struct AddAttesterMsg {
    /// `0x` + 40 hex.
    pub address: String,
}

/// Body of `RemoveAttester`.
#[cw_serde]
#[serde(deny_unknown_fields)]
pub struct RemoveAttesterMsg {
    /// `0x` + 40 hex.
    pub address: String,
}

/// Body of `Jail`.
#[cw_serde]
#[serde(deny_unknown_fields)]
pub struct JailMsg {
    /// The node.
    pub node_id: String,
    /// Why, recorded on the node and in the event.
    pub reason: String,
}

/// Body of `Unjail`.
#[cw_serde]
#[serde(deny_unknown_fields)]
pub struct UnjailMsg {
    /// The node.
    pub node_id: String,
}

/// Body of `Slash`.
#[cw_serde]
#[serde(deny_unknown_fields)]
pub struct SlashMsg {
    /// The node.
    pub node_id: String,
    /// Fraction in `(0, 1]`.
    pub fraction: Decimal,
}

/// Body of `UpdateConfig`: `None` leaves a field unchanged. Numbers move at most one step per
/// change: `old / 2 <= new <= 2 * old` (rounded down; any value when the old one is zero).
#[cw_serde]
#[derive(Default)]
#[serde(deny_unknown_fields)]
pub struct UpdateConfigMsg {
    /// New governance address.
    pub governance: Option<String>,
    /// New minimum bond (uopg); applies to new registrations. Step-bounded.
    pub min_bond: Option<Uint128>,
    /// New unbonding period (seconds, 1 ..= 31,536,000 = 365 days); applies to later
    /// deregistrations. Step-bounded.
    pub unbonding_period: Option<u64>,
    /// Reward pool address for slashed funds.
    pub reward_pool: Option<String>,
    /// New longest attestation validity (seconds, 86,400 ..= 63,072,000 = 1 ..= 730 days);
    /// applies to attestations accepted later. Step-bounded.
    pub max_attestation_validity: Option<u64>,
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
    /// Longest validity of an attestation when it is accepted (seconds).
    pub max_attestation_validity: u64,
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
    /// Local nodes: the current hardware attestation. If its attester was removed after the
    /// registry accepted it, it is revoked: the answer's `expires_at` is cut to the removal time
    /// (the signature covers the original expiry).
    pub attestation: Option<HardwareAttestation>,
    /// Receipt-signing key.
    pub key: NodeKey,
    /// `payTo` EVM address, lowercase.
    pub pay_to: String,
    /// Endpoint URL.
    pub endpoint: String,
    /// Models served.
    pub models: Vec<String>,
    /// Current bond (uopg), after slashes; 0 once withdrawn.
    pub bond: Uint128,
    /// Active, jailed, unbonding or withdrawn.
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
