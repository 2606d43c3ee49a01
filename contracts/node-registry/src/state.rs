//! Storage layout of the node registry.
use cosmwasm_schema::cw_serde;
use cosmwasm_std::{Addr, Empty, Uint128};
use cw_storage_plus::{Index, IndexList, IndexedMap, Item, Map, MultiIndex};
use opg_core::msg::registry::{ModelInfo, NodeInfo};
use opg_core::types::NodeStatus;

/// Registry config.
#[cw_serde]
pub struct Config {
    /// The only sender of governance execute messages.
    pub governance: Addr,
    /// Native denom of bonds (e.g. `uopg`).
    pub bond_denom: String,
    /// Minimum bond to register (uopg).
    pub min_bond: Uint128,
    /// Seconds between `Deregister` and a withdrawable bond; > 0.
    pub unbonding_period: u64,
    /// Receiver of slashed bonds.
    pub reward_pool: Option<Addr>,
    /// Longest validity an attestation may have when it is accepted: `expires_at - now` at
    /// `Register`, `RenewAttestation` and `UpdateNode`, in seconds. Configs stored before this
    /// field existed read as [`DEFAULT_MAX_ATTESTATION_VALIDITY`].
    #[serde(default = "default_max_attestation_validity")]
    pub max_attestation_validity: u64,
}

/// Default `max_attestation_validity`: 365 days (seconds).
pub const DEFAULT_MAX_ATTESTATION_VALIDITY: u64 = 365 * 86_400;
/// Least `max_attestation_validity`: 1 day (seconds).
pub const MIN_MAX_ATTESTATION_VALIDITY: u64 = 86_400;
/// Greatest `max_attestation_validity`: 730 days (seconds).
pub const MAX_MAX_ATTESTATION_VALIDITY: u64 = 730 * 86_400;
/// Greatest `unbonding_period`: 365 days (seconds).
pub const MAX_UNBONDING_PERIOD: u64 = 365 * 86_400;

fn default_max_attestation_validity() -> u64 {
    DEFAULT_MAX_ATTESTATION_VALIDITY
}

/// The config.
pub const CONFIG: Item<Config> = Item::new("config");

/// The model list by model id.
pub const MODELS: Map<&str, ModelInfo> = Map::new("models");

/// Allow-listed hardware attesters, lowercase `0x` EVM addresses.
pub const ATTESTERS: Map<&str, Empty> = Map::new("attesters");

/// Revocations: attester (lowercase `0x` address) -> block time (unix seconds) it was last
/// removed. An attestation by it accepted at or before that time is revoked: queries answer it
/// with `expires_at` cut to the removal time. Checked when a node is read, so `RemoveAttester`
/// is one write however many nodes the attester signed for. Re-adding the attester keeps the
/// record: what it signed before stays revoked, what is accepted after counts.
pub const REVOKED_ATTESTERS: Map<&str, u64> = Map::new("revoked_attesters");

/// Node id -> block time (unix seconds) its current attestation was accepted (`Register`,
/// `RenewAttestation`, `UpdateNode`). Absent for nodes attested before this record existed
/// (read as 0: revoked by any later removal of their attester).
pub const ATTESTED_AT: Map<&str, u64> = Map::new("attested_at");

/// Stable storage name of a status, used in index keys.
pub fn status_str(status: NodeStatus) -> &'static str {
    match status {
        NodeStatus::Active => "active",
        NodeStatus::Jailed => "jailed",
        NodeStatus::Unbonding => "unbonding",
        NodeStatus::Withdrawn => "withdrawn",
    }
}

/// Secondary indexes of [`nodes`], so `Nodes { kind, status }` pages in node id order under each
/// filter without scanning the others.
pub struct NodeIndexes<'a> {
    /// By kind (`proxy` / `local`).
    pub kind: MultiIndex<'a, String, NodeInfo, String>,
    /// By status (`active` / `jailed` / `unbonding` / `withdrawn`).
    pub status: MultiIndex<'a, String, NodeInfo, String>,
    /// By (kind, status).
    pub kind_status: MultiIndex<'a, (String, String), NodeInfo, String>,
}

impl IndexList<NodeInfo> for NodeIndexes<'_> {
    fn get_indexes(&'_ self) -> Box<dyn Iterator<Item = &'_ dyn Index<NodeInfo>> + '_> {
        let v: Vec<&dyn Index<NodeInfo>> = vec![&self.kind, &self.status, &self.kind_status];
        Box::new(v.into_iter())
    }
}

/// Nodes by node id, with kind/status indexes.
pub fn nodes<'a>() -> IndexedMap<&'a str, NodeInfo, NodeIndexes<'a>> {
    let indexes = NodeIndexes {
        kind: MultiIndex::new(
            |_pk, n: &NodeInfo| n.kind.as_str().to_string(),
            "nodes",
            "nodes__kind",
        ),
        status: MultiIndex::new(
            |_pk, n: &NodeInfo| status_str(n.status).to_string(),
            "nodes",
            "nodes__status",
        ),
        kind_status: MultiIndex::new(
            |_pk, n: &NodeInfo| {
                (
                    n.kind.as_str().to_string(),
                    status_str(n.status).to_string(),
                )
            },
            "nodes",
            "nodes__kind_status",
        ),
    };
    IndexedMap::new("nodes", indexes)
}
