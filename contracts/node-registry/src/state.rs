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
}

/// The config.
pub const CONFIG: Item<Config> = Item::new("config");

/// The model list by model id.
pub const MODELS: Map<&str, ModelInfo> = Map::new("models");

/// Allow-listed hardware attesters, lowercase `0x` EVM addresses.
pub const ATTESTERS: Map<&str, Empty> = Map::new("attesters");

/// Stable storage name of a status, used in index keys.
pub fn status_str(status: NodeStatus) -> &'static str {
    match status {
        NodeStatus::Active => "active",
        NodeStatus::Jailed => "jailed",
        NodeStatus::Unbonding => "unbonding",
    }
}

/// Secondary indexes of [`nodes`], so `Nodes { kind, status }` pages in node id order under each
/// filter without scanning the others.
pub struct NodeIndexes<'a> {
    /// By kind (`proxy` / `local`).
    pub kind: MultiIndex<'a, String, NodeInfo, String>,
    /// By status (`active` / `jailed` / `unbonding`).
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
