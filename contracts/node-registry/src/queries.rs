//! Queries of the node registry.
use std::collections::BTreeMap;

use cosmwasm_std::{Deps, Order, StdResult, Storage};
use cw_storage_plus::Bound;
use opg_core::msg::page_limit;
use opg_core::msg::registry::{
    AttestersResponse, ConfigResponse, ModelInfo, ModelsResponse, NodeInfo, NodesByIdsResponse,
    NodesResponse,
};
use opg_core::types::{NodeKindTag, NodeStatus};

use crate::error::ContractError;
use crate::state::{nodes, status_str, ATTESTED_AT, ATTESTERS, CONFIG, MODELS, REVOKED_ATTESTERS};

/// Most node ids and most model ids in one `NodesByIds` query.
pub const MAX_BY_IDS: usize = 256;

/// Applies attester revocations to nodes as they are read: an attestation the registry accepted at
/// or before its attester's latest removal ([`REVOKED_ATTESTERS`], [`ATTESTED_AT`]) is answered
/// with `expires_at` cut to the removal time, so everything that reads nodes (the verifier's
/// `NodesByIds`, `Node`, `Nodes`) sees it as expired from then on. Each attester's record is read
/// once per query; a node's acceptance time only when its attester was removed.
struct Revocations<'a> {
    storage: &'a dyn Storage,
    revoked_at: BTreeMap<String, Option<u64>>,
}

impl<'a> Revocations<'a> {
    fn new(storage: &'a dyn Storage) -> Self {
        Revocations {
            storage,
            revoked_at: BTreeMap::new(),
        }
    }

    fn apply(&mut self, mut node: NodeInfo) -> StdResult<NodeInfo> {
        let Some(att) = node.attestation.as_mut() else {
            return Ok(node);
        };
        let revoked_at = match self.revoked_at.get(&att.attester) {
            Some(r) => *r,
            None => {
                let r = REVOKED_ATTESTERS.may_load(self.storage, &att.attester)?;
                self.revoked_at.insert(att.attester.clone(), r);
                r
            }
        };
        if let Some(revoked_at) = revoked_at {
            let attested_at = ATTESTED_AT
                .may_load(self.storage, &node.node_id)?
                .unwrap_or(0);
            if attested_at <= revoked_at {
                att.expires_at = att.expires_at.min(revoked_at);
            }
        }
        Ok(node)
    }
}

/// `Config`.
pub fn query_config(deps: Deps) -> Result<ConfigResponse, ContractError> {
    let c = CONFIG.load(deps.storage)?;
    Ok(ConfigResponse {
        governance: c.governance,
        bond_denom: c.bond_denom,
        min_bond: c.min_bond,
        unbonding_period: c.unbonding_period,
        reward_pool: c.reward_pool,
        max_attestation_validity: c.max_attestation_validity,
    })
}

/// `Node`, with revocations applied. Errors: `NodeNotFound`.
pub fn query_node(deps: Deps, node_id: String) -> Result<NodeInfo, ContractError> {
    let node = nodes()
        .may_load(deps.storage, &node_id)?
        .ok_or(ContractError::NodeNotFound { node_id })?;
    Ok(Revocations::new(deps.storage).apply(node)?)
}

/// `Nodes`: a page in node id order, filtered by kind and/or status through the indexes.
pub fn query_nodes(
    deps: Deps,
    kind: Option<NodeKindTag>,
    status: Option<NodeStatus>,
    start_after: Option<String>,
    limit: Option<u32>,
) -> Result<NodesResponse, ContractError> {
    let limit = page_limit(limit);
    let map = nodes();
    let iter: Box<dyn Iterator<Item = StdResult<(String, NodeInfo)>>> = match (kind, status) {
        (None, None) => {
            let min = start_after.as_deref().map(Bound::exclusive);
            Box::new(map.range(deps.storage, min, None, Order::Ascending))
        }
        (Some(k), None) => Box::new(map.idx.kind.prefix(k.as_str().to_string()).range(
            deps.storage,
            start_after.map(Bound::exclusive),
            None,
            Order::Ascending,
        )),
        (None, Some(s)) => Box::new(map.idx.status.prefix(status_str(s).to_string()).range(
            deps.storage,
            start_after.map(Bound::exclusive),
            None,
            Order::Ascending,
        )),
        (Some(k), Some(s)) => Box::new(
            map.idx
                .kind_status
                .prefix((k.as_str().to_string(), status_str(s).to_string()))
                .range(
                    deps.storage,
                    start_after.map(Bound::exclusive),
                    None,
                    Order::Ascending,
                ),
        ),
    };
    let mut revocations = Revocations::new(deps.storage);
    let nodes = iter
        .take(limit)
        .map(|r| r.and_then(|(_, n)| revocations.apply(n)))
        .collect::<StdResult<Vec<_>>>()?;
    Ok(NodesResponse { nodes })
}

/// `NodesByIds`: the known nodes (revocations applied) and models among the ids, in request
/// order, duplicates once.
/// Errors: `TooManyIds` (more than 256 ids or models).
pub fn query_nodes_by_ids(
    deps: Deps,
    ids: Vec<String>,
    models: Vec<String>,
) -> Result<NodesByIdsResponse, ContractError> {
    if ids.len() > MAX_BY_IDS {
        return Err(ContractError::TooManyIds {
            what: "ids".to_string(),
            max: MAX_BY_IDS,
            got: ids.len(),
        });
    }
    if models.len() > MAX_BY_IDS {
        return Err(ContractError::TooManyIds {
            what: "models".to_string(),
            max: MAX_BY_IDS,
            got: models.len(),
        });
    }
    let map = nodes();
    let mut revocations = Revocations::new(deps.storage);
    let mut seen = std::collections::BTreeSet::new();
    let mut found_nodes = Vec::new();
    for id in &ids {
        if seen.insert(id.as_str()) {
            if let Some(node) = map.may_load(deps.storage, id)? {
                found_nodes.push(revocations.apply(node)?);
            }
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    let mut found_models = Vec::new();
    for id in &models {
        if seen.insert(id.as_str()) {
            if let Some(model) = MODELS.may_load(deps.storage, id)? {
                found_models.push(model);
            }
        }
    }
    Ok(NodesByIdsResponse {
        nodes: found_nodes,
        models: found_models,
    })
}

/// `Model`. Errors: `ModelNotFound`.
pub fn query_model(deps: Deps, id: String) -> Result<ModelInfo, ContractError> {
    MODELS
        .may_load(deps.storage, &id)?
        .ok_or(ContractError::ModelNotFound { id })
}

/// `Models`: a page in id order.
pub fn query_models(
    deps: Deps,
    start_after: Option<String>,
    limit: Option<u32>,
) -> Result<ModelsResponse, ContractError> {
    let min = start_after.as_deref().map(Bound::exclusive);
    let models = MODELS
        .range(deps.storage, min, None, Order::Ascending)
        .take(page_limit(limit))
        .map(|r| r.map(|(_, m)| m))
        .collect::<StdResult<Vec<_>>>()?;
    Ok(ModelsResponse { models })
}

/// `Attesters`: a page of lowercase addresses in order. `start_after` may be any case.
pub fn query_attesters(
    deps: Deps,
    start_after: Option<String>,
    limit: Option<u32>,
) -> Result<AttestersResponse, ContractError> {
    let start = start_after.map(|s| s.to_ascii_lowercase());
    let min = start.as_deref().map(Bound::exclusive);
    let attesters = ATTESTERS
        .keys(deps.storage, min, None, Order::Ascending)
        .take(page_limit(limit))
        .collect::<StdResult<Vec<_>>>()?;
    Ok(AttestersResponse { attesters })
}
