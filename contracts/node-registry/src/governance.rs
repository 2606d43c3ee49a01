//! Governance messages. Each `execute_*` checks that the sender is the governance address and
//! calls the handler of the same name, which `sudo` (chain governance) calls directly.
use cosmwasm_std::{
    coins, to_json_binary, Addr, Decimal, DepsMut, Empty, Env, MessageInfo, Response, Uint128,
    WasmMsg,
};
use opg_core::msg::registry::{AddModelMsg, ModelInfo, NodeInfo, UpdateConfigMsg};
use opg_core::types::NodeStatus;

use crate::error::ContractError;
use crate::state::{nodes, ATTESTERS, CONFIG, MODELS, REVOKED_ATTESTERS};
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

/// Loads a node that is not withdrawn (a withdrawn node has no bond to slash and cannot be
/// jailed back into unbonding). Errors: `NodeNotFound`, `NodeWithdrawn`.
fn load_node(deps: &DepsMut, node_id: &str) -> Result<NodeInfo, ContractError> {
    let node =
        nodes()
            .may_load(deps.storage, node_id)?
            .ok_or_else(|| ContractError::NodeNotFound {
                node_id: node_id.to_string(),
            })?;
    if node.status == NodeStatus::Withdrawn {
        return Err(ContractError::NodeWithdrawn {
            node_id: node_id.to_string(),
        });
    }
    Ok(node)
}

/// `ExecuteMsg::AddModel` from the governance address.
pub fn execute_add_model(
    deps: DepsMut,
    info: MessageInfo,
    msg: AddModelMsg,
) -> Result<Response, ContractError> {
    ensure_governance(&deps, &info)?;
    add_model(deps, msg)
}

/// Adds or replaces a model. Errors: `InvalidModelId` (empty or > 128 bytes),
/// `InvalidWeightsDigest` (not 32 bytes).
pub fn add_model(deps: DepsMut, msg: AddModelMsg) -> Result<Response, ContractError> {
    let AddModelMsg {
        id,
        provenance,
        weights_digest,
    } = msg;
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
    env: Env,
    info: MessageInfo,
    address: String,
) -> Result<Response, ContractError> {
    ensure_governance(&deps, &info)?;
    remove_attester(deps, &env, address)
}

/// Removes an attester and revokes every attestation it signed that the registry accepted up to
/// now: from this block on, queries answer those nodes' attestations with `expires_at` cut to now,
/// so the verifier rejects their later receipts and heartbeats (`attestation_expired`) and they
/// stop counting as live (no stipend from the next epoch). Bounded: one record
/// ([`REVOKED_ATTESTERS`]) checked when a node is read, no iteration over the attester's nodes.
/// Errors: `InvalidAddress { field: "address" }`, `AttesterNotFound`.
pub fn remove_attester(
    deps: DepsMut,
    env: &Env,
    address: String,
) -> Result<Response, ContractError> {
    let address = validate::evm_address(&address, "address")?;
    if !ATTESTERS.has(deps.storage, &address) {
        return Err(ContractError::AttesterNotFound { address });
    }
    ATTESTERS.remove(deps.storage, &address);
    let now = env.block.time.seconds();
    REVOKED_ATTESTERS.save(deps.storage, &address, &now)?;
    Ok(Response::new()
        .add_attribute("action", "remove_attester")
        .add_attribute("attester", address)
        .add_attribute("revoked_at", now.to_string()))
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
    msg: UpdateConfigMsg,
) -> Result<Response, ContractError> {
    ensure_governance(&deps, &info)?;
    update_config(deps, msg)
}

/// Updates the config; `None` leaves a field unchanged. Each number moves at most one step per
/// change (`old / 2 <= new <= 2 * old`, [`validate::bounded_step`]) within its absolute bounds:
/// `min_bond` (uopg, no absolute bound), `unbonding_period` (1 s ..= 365 days),
/// `max_attestation_validity` (1 ..= 730 days). Errors: `Std` (invalid address),
/// `ConfigOutOfBounds { param }`.
pub fn update_config(deps: DepsMut, msg: UpdateConfigMsg) -> Result<Response, ContractError> {
    let UpdateConfigMsg {
        governance,
        min_bond,
        unbonding_period,
        reward_pool,
        max_attestation_validity,
    } = msg;
    let mut config = CONFIG.load(deps.storage)?;
    if let Some(governance) = governance {
        config.governance = deps.api.addr_validate(&governance)?;
    }
    if let Some(min_bond) = min_bond {
        validate::bounded_step("min_bond", config.min_bond.u128(), min_bond.u128())?;
        config.min_bond = min_bond;
    }
    if let Some(period) = unbonding_period {
        validate::unbonding_period(period)?;
        validate::bounded_step(
            "unbonding_period",
            config.unbonding_period.into(),
            period.into(),
        )?;
        config.unbonding_period = period;
    }
    if let Some(validity) = max_attestation_validity {
        validate::max_attestation_validity(validity)?;
        validate::bounded_step(
            "max_attestation_validity",
            config.max_attestation_validity.into(),
            validity.into(),
        )?;
        config.max_attestation_validity = validity;
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
            "max_attestation_validity",
            config.max_attestation_validity.to_string(),
        )
        .add_attribute(
            "reward_pool",
            config.reward_pool.as_ref().map(Addr::as_str).unwrap_or(""),
        ))
}
