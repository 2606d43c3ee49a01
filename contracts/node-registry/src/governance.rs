//! Governance messages. Each `execute_*` checks that the sender is the governance address and
//! calls the handler of the same name, which `sudo` (chain governance) calls directly.
use cosmwasm_std::{
    coins, to_json_binary, Addr, Binary, Decimal, DepsMut, Empty, MessageInfo, Response, Uint128,
    WasmMsg,
};
use opg_core::msg::registry::{ModelInfo, NodeInfo};
use opg_core::types::{NodeStatus, Provenance};

use crate::error::ContractError;
use crate::state::{nodes, ATTESTERS, CONFIG, MODELS};
use crate::validate;

/// Checks the sender is the governance address and that no funds are attached.
/// Errors: `Unauthorized`, `Payment`.
fn ensure_governance(deps: &DepsMut, info: &MessageInfo) -> Result<(), ContractError> {
    let config = CONFIG.load(deps.storage)?;
    if info.sender != config.governance {
        return Err(ContractError::Unauthorized {
            sender: info.sender.clone(),
        });
    }
    cw_utils::nonpayable(info)?;
    Ok(())
}

fn load_node(deps: &DepsMut, node_id: &str) -> Result<NodeInfo, ContractError> {
    nodes()
        .may_load(deps.storage, node_id)?
        .ok_or_else(|| ContractError::NodeNotFound {
            node_id: node_id.to_string(),
        })
}

/// `ExecuteMsg::AddModel` from the governance address.
pub fn execute_add_model(
    deps: DepsMut,
    info: MessageInfo,
    id: String,
    provenance: Provenance,
    weights_digest: Option<Binary>,
) -> Result<Response, ContractError> {
    ensure_governance(&deps, &info)?;
    add_model(deps, id, provenance, weights_digest)
}

/// Adds or replaces a model. Errors: `InvalidModelId` (empty or > 128 bytes),
/// `InvalidWeightsDigest` (not 32 bytes).
pub fn add_model(
    deps: DepsMut,
    id: String,
    provenance: Provenance,
    weights_digest: Option<Binary>,
) -> Result<Response, ContractError> {
    if id.is_empty() || id.len() > validate::MODEL_ID_MAX {
        return Err(ContractError::InvalidModelId { id });
    }
    if let Some(digest) = &weights_digest {
        if digest.len() != 32 {
            return Err(ContractError::InvalidWeightsDigest { len: digest.len() });
        }
    }
    MODELS.save(
        deps.storage,
        &id,
        &ModelInfo {
            id: id.clone(),
            provenance,
            weights_digest,
        },
    )?;
    Ok(Response::new()
        .add_attribute("action", "add_model")
        .add_attribute("model_id", id)
        .add_attribute("provenance", provenance.as_str()))
}

/// `ExecuteMsg::RemoveModel` from the governance address.
pub fn execute_remove_model(
    deps: DepsMut,
    info: MessageInfo,
    id: String,
) -> Result<Response, ContractError> {
    ensure_governance(&deps, &info)?;
    remove_model(deps, id)
}

/// Removes a model; nodes still listing it are not touched (the verifier rejects receipts for it).
/// Errors: `ModelNotFound`.
pub fn remove_model(deps: DepsMut, id: String) -> Result<Response, ContractError> {
    if !MODELS.has(deps.storage, &id) {
        return Err(ContractError::ModelNotFound { id });
    }
    MODELS.remove(deps.storage, &id);
    Ok(Response::new()
        .add_attribute("action", "remove_model")
        .add_attribute("model_id", id))
}

/// `ExecuteMsg::AddAttester` from the governance address.
pub fn execute_add_attester(
    deps: DepsMut,
    info: MessageInfo,
    address: String,
) -> Result<Response, ContractError> {
    ensure_governance(&deps, &info)?;
    add_attester(deps, address)
}

/// Allow-lists an attester (stored lowercase; adding a listed one is a no-op).
/// Errors: `InvalidAddress { field: "address" }`.
pub fn add_attester(deps: DepsMut, address: String) -> Result<Response, ContractError> {
    let address = validate::evm_address(&address, "address")?;
    ATTESTERS.save(deps.storage, &address, &Empty {})?;
    Ok(Response::new()
        .add_attribute("action", "add_attester")
        .add_attribute("attester", address))
}

/// `ExecuteMsg::RemoveAttester` from the governance address.
pub fn execute_remove_attester(
    deps: DepsMut,
    info: MessageInfo,
    address: String,
) -> Result<Response, ContractError> {
    ensure_governance(&deps, &info)?;
    remove_attester(deps, address)
}

/// Removes an attester. Attestations it signed stay on their nodes until renewed.
/// Errors: `InvalidAddress { field: "address" }`, `AttesterNotFound`.
pub fn remove_attester(deps: DepsMut, address: String) -> Result<Response, ContractError> {
    let address = validate::evm_address(&address, "address")?;
    if !ATTESTERS.has(deps.storage, &address) {
        return Err(ContractError::AttesterNotFound { address });
    }
    ATTESTERS.remove(deps.storage, &address);
    Ok(Response::new()
        .add_attribute("action", "remove_attester")
        .add_attribute("attester", address))
}

/// `ExecuteMsg::Jail` from the governance address.
pub fn execute_jail(
    deps: DepsMut,
    info: MessageInfo,
    node_id: String,
    reason: String,
) -> Result<Response, ContractError> {
    ensure_governance(&deps, &info)?;
    jail(deps, node_id, reason)
}

/// Jails an active or unbonding node (an unbonding node keeps its `unbonding_ends` but cannot
/// withdraw while jailed). Errors: `NodeNotFound`, `NodeJailed` (already jailed), `InvalidField`
/// (reason empty or > 512 bytes).
pub fn jail(deps: DepsMut, node_id: String, reason: String) -> Result<Response, ContractError> {
    validate::text(&reason, "reason", validate::REASON_MAX)?;
    let old = load_node(&deps, &node_id)?;
    if old.status == NodeStatus::Jailed {
        return Err(ContractError::NodeJailed { node_id });
    }
    let mut node = old.clone();
    node.status = NodeStatus::Jailed;
    node.jail_reason = Some(reason.clone());
    nodes().replace(deps.storage, &node_id, Some(&node), Some(&old))?;
    Ok(Response::new()
        .add_attribute("action", "jail")
        .add_attribute("node_id", node_id)
        .add_attribute("operator", node.operator)
        .add_attribute("kind", node.kind.as_str())
        .add_attribute("reason", reason))
}

/// `ExecuteMsg::Unjail` from the governance address.
pub fn execute_unjail(
    deps: DepsMut,
    info: MessageInfo,
    node_id: String,
) -> Result<Response, ContractError> {
    ensure_governance(&deps, &info)?;
    unjail(deps, node_id)
}

/// Unjails a node: back to unbonding if it was jailed while unbonding, else active.
/// Errors: `NodeNotFound`, `NotJailed`.
pub fn unjail(deps: DepsMut, node_id: String) -> Result<Response, ContractError> {
    let old = load_node(&deps, &node_id)?;
    if old.status != NodeStatus::Jailed {
        return Err(ContractError::NotJailed { node_id });
    }
    let mut node = old.clone();
    node.status = if node.unbonding_ends.is_some() {
        NodeStatus::Unbonding
    } else {
        NodeStatus::Active
    };
    node.jail_reason = None;
    nodes().replace(deps.storage, &node_id, Some(&node), Some(&old))?;
    Ok(Response::new()
        .add_attribute("action", "unjail")
        .add_attribute("node_id", node_id)
        .add_attribute("operator", node.operator)
        .add_attribute("kind", node.kind.as_str()))
}

/// `ExecuteMsg::Slash` from the governance address.
pub fn execute_slash(
    deps: DepsMut,
    info: MessageInfo,
    node_id: String,
    fraction: Decimal,
) -> Result<Response, ContractError> {
    ensure_governance(&deps, &info)?;
    slash(deps, node_id, fraction)
}

/// Slashes `floor(bond * fraction)` uopg of a node's bond and sends it to the reward pool with
/// `Fund {}`. A zero amount sends nothing. Errors: `InvalidFraction` (outside `(0, 1]`),
/// `NodeNotFound`, `NoRewardPool` (positive amount and no pool configured).
pub fn slash(deps: DepsMut, node_id: String, fraction: Decimal) -> Result<Response, ContractError> {
    if fraction.is_zero() || fraction > Decimal::one() {
        return Err(ContractError::InvalidFraction { fraction });
    }
    let old = load_node(&deps, &node_id)?;
    let config = CONFIG.load(deps.storage)?;
    let amount = old.bond.checked_mul_floor(fraction)?;
    let mut node = old.clone();
    node.bond = old.bond.checked_sub(amount)?;
    let mut response = Response::new();
    if amount > Uint128::zero() {
        let pool = config.reward_pool.ok_or(ContractError::NoRewardPool {})?;
        response = response.add_message(WasmMsg::Execute {
            contract_addr: pool.to_string(),
            msg: to_json_binary(&opg_core::msg::pool::ExecuteMsg::Fund {})?,
            funds: coins(amount.u128(), &config.bond_denom),
        });
    }
    nodes().replace(deps.storage, &node_id, Some(&node), Some(&old))?;
    Ok(response
        .add_attribute("action", "slash")
        .add_attribute("node_id", node_id)
        .add_attribute("operator", node.operator)
        .add_attribute("kind", node.kind.as_str())
        .add_attribute("amount", amount)
        .add_attribute("bond", node.bond))
}

/// `ExecuteMsg::UpdateConfig` from the governance address.
pub fn execute_update_config(
    deps: DepsMut,
    info: MessageInfo,
    governance: Option<String>,
    min_bond: Option<Uint128>,
    unbonding_period: Option<u64>,
    reward_pool: Option<String>,
) -> Result<Response, ContractError> {
    ensure_governance(&deps, &info)?;
    update_config(deps, governance, min_bond, unbonding_period, reward_pool)
}

/// Updates the config; `None` leaves a field unchanged. Errors: `Std` (invalid address),
/// `InvalidConfig` (`unbonding_period` 0).
pub fn update_config(
    deps: DepsMut,
    governance: Option<String>,
    min_bond: Option<Uint128>,
    unbonding_period: Option<u64>,
    reward_pool: Option<String>,
) -> Result<Response, ContractError> {
    let mut config = CONFIG.load(deps.storage)?;
    if let Some(governance) = governance {
        config.governance = deps.api.addr_validate(&governance)?;
    }
    if let Some(min_bond) = min_bond {
        config.min_bond = min_bond;
    }
    if let Some(period) = unbonding_period {
        if period == 0 {
            return Err(ContractError::InvalidConfig {
                reason: "unbonding_period must be > 0".to_string(),
            });
        }
        config.unbonding_period = period;
    }
    if let Some(pool) = reward_pool {
        config.reward_pool = Some(deps.api.addr_validate(&pool)?);
    }
    CONFIG.save(deps.storage, &config)?;
    Ok(Response::new()
        .add_attribute("action", "update_config")
        .add_attribute("governance", config.governance.as_str())
        .add_attribute("min_bond", config.min_bond)
        .add_attribute("unbonding_period", config.unbonding_period.to_string())
        .add_attribute(
            "reward_pool",
            config.reward_pool.as_ref().map(Addr::as_str).unwrap_or(""),
        ))
}
