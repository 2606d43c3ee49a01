//! Operator messages: register, update, renew attestation, deregister, withdraw bond.
use cosmwasm_std::{coins, BankMsg, DepsMut, Env, MessageInfo, Response, Uint128};
use opg_core::msg::registry::{
    NodeInfo, NodeKind, RegisterMsg, RenewAttestationMsg, UpdateNodeMsg,
};
use opg_core::types::{NodeKindTag, NodeStatus};

use crate::error::ContractError;
use crate::state::{nodes, ATTESTED_AT, CONFIG};
use crate::validate;

/// Loads a node that is not withdrawn and checks the sender is its operator.
/// Errors: `NodeNotFound`, `NotOperator`, `NodeWithdrawn`.
fn load_operated(
    deps: &DepsMut,
    info: &MessageInfo,
    node_id: &str,
) -> Result<NodeInfo, ContractError> {
    let node =
        nodes()
            .may_load(deps.storage, node_id)?
            .ok_or_else(|| ContractError::NodeNotFound {
                node_id: node_id.to_string(),
            })?;
    if node.operator != info.sender {
        return Err(ContractError::NotOperator {
            node_id: node_id.to_string(),
        });
    }
    if node.status == NodeStatus::Withdrawn {
        return Err(ContractError::NodeWithdrawn {
            node_id: node_id.to_string(),
        });
    }
    Ok(node)
}

/// Refuses changes to a node that is unbonding. Errors: `NodeUnbonding`.
fn ensure_not_unbonding(node: &NodeInfo) -> Result<(), ContractError> {
    if node.status == NodeStatus::Unbonding {
        return Err(ContractError::NodeUnbonding {
            node_id: node.node_id.clone(),
        });
    }
    Ok(())
}

/// Refuses an attestation-only change on a proxy node. Errors: `WrongKind`.
fn ensure_local(node: &NodeInfo, field: &str) -> Result<(), ContractError> {
    if node.kind != NodeKindTag::Local {
        return Err(ContractError::WrongKind {
            node_id: node.node_id.clone(),
            kind: node.kind.as_str().to_string(),
            field: field.to_string(),
        });
    }
    Ok(())
}

/// `Register`: creates an active node operated by the sender, bonded with the attached
/// `bond_denom` funds (uopg, at least `min_bond`).
pub fn execute_register(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    msg: RegisterMsg,
) -> Result<Response, ContractError> {
    let RegisterMsg {
        node_id,
        kind,
        key,
        pay_to,
        endpoint,
        models,
    } = msg;
    let config = CONFIG.load(deps.storage)?;
    validate::node_id(&node_id)?;
    // Ids are never reused: a withdrawn node stays on record (DESIGN §5).
    match nodes().may_load(deps.storage, &node_id)? {
        Some(n) if n.status == NodeStatus::Withdrawn => {
            return Err(ContractError::NodeIdRetired { node_id })
        }
        Some(_) => return Err(ContractError::NodeExists { node_id }),
        None => {}
    }
    let bond = cw_utils::must_pay(&info, &config.bond_denom)?;
    if bond < config.min_bond {
        return Err(ContractError::BondTooLow {
            required: config.min_bond,
            sent: bond,
        });
    }
    let key = validate::node_key(key)?;
    let pay_to = validate::evm_address(&pay_to, "pay_to")?;
    validate::text(&endpoint, "endpoint", validate::URL_MAX)?;
    let (tag, upstream, attestation) = match kind {
        NodeKind::Proxy { upstream } => {
            validate::text(&upstream, "upstream", validate::URL_MAX)?;
            (NodeKindTag::Proxy, Some(upstream), None)
        }
        NodeKind::Local { attestation } => {
            let attestation = validate::attestation(
                deps.as_ref(),
                &env,
                info.sender.as_str(),
                &key,
                attestation,
            )?;
            (NodeKindTag::Local, None, Some(attestation))
        }
    };
    validate::models(deps.as_ref(), tag, &models)?;

    let node = NodeInfo {
        node_id: node_id.clone(),
        operator: info.sender.clone(),
        kind: tag,
        upstream,
        attestation,
        key,
        pay_to,
        endpoint,
        models,
        bond,
        status: NodeStatus::Active,
        jail_reason: None,
        registered_at: env.block.time.seconds(),
        unbonding_ends: None,
    };
    nodes().save(deps.storage, &node_id, &node)?;
    if node.attestation.is_some() {
        ATTESTED_AT.save(deps.storage, &node_id, &env.block.time.seconds())?;
    }
    Ok(Response::new()
        .add_attribute("action", "register")
        .add_attribute("node_id", node_id)
        .add_attribute("operator", info.sender)
        .add_attribute("kind", tag.as_str())
        .add_attribute("amount", bond))
}

/// `UpdateNode`: replaces the given fields (operator only, not while unbonding). A new key on a local
/// node needs a new attestation bound to it; an attestation alone is checked against the current key.
pub fn execute_update_node(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    msg: UpdateNodeMsg,
) -> Result<Response, ContractError> {
    let UpdateNodeMsg {
        node_id,
        key,
        pay_to,
        endpoint,
        models,
        upstream,
        attestation,
    } = msg;
    cw_utils::nonpayable(&info)?;
    let old = load_operated(&deps, &info, &node_id)?;
    ensure_not_unbonding(&old)?;
    let mut node = old.clone();

    if let Some(key) = key {
        let key = validate::node_key(key)?;
        if node.kind == NodeKindTag::Local && key != node.key && attestation.is_none() {
            return Err(ContractError::AttestationRequired { node_id });
        }
        node.key = key;
    }
    if let Some(attestation) = attestation {
        ensure_local(&node, "attestation")?;
        node.attestation = Some(validate::attestation(
            deps.as_ref(),
            &env,
            info.sender.as_str(),
            &node.key,
            attestation,
        )?);
        ATTESTED_AT.save(deps.storage, &node_id, &env.block.time.seconds())?;
    }
    if let Some(pay_to) = pay_to {
        node.pay_to = validate::evm_address(&pay_to, "pay_to")?;
    }
    if let Some(endpoint) = endpoint {
        validate::text(&endpoint, "endpoint", validate::URL_MAX)?;
        node.endpoint = endpoint;
    }
    if let Some(upstream) = upstream {
        if node.kind != NodeKindTag::Proxy {
            return Err(ContractError::WrongKind {
                node_id,
                kind: node.kind.as_str().to_string(),
                field: "upstream".to_string(),
            });
        }
        validate::text(&upstream, "upstream", validate::URL_MAX)?;
        node.upstream = Some(upstream);
    }
    if let Some(models) = models {
        validate::models(deps.as_ref(), node.kind, &models)?;
        node.models = models;
    }
    nodes().replace(deps.storage, &node_id, Some(&node), Some(&old))?;
    Ok(Response::new()
        .add_attribute("action", "update_node")
        .add_attribute("node_id", node_id)
        .add_attribute("operator", info.sender)
        .add_attribute("kind", node.kind.as_str()))
}

/// `RenewAttestation`: replaces a local node's attestation, checked against its current key
/// (operator only, not while unbonding).
pub fn execute_renew_attestation(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    msg: RenewAttestationMsg,
) -> Result<Response, ContractError> {
    let RenewAttestationMsg {
        node_id,
        attestation,
    } = msg;
    cw_utils::nonpayable(&info)?;
    let old = load_operated(&deps, &info, &node_id)?;
    ensure_not_unbonding(&old)?;
    ensure_local(&old, "attestation")?;
    let mut node = old.clone();
    let attestation = validate::attestation(
        deps.as_ref(),
        &env,
        info.sender.as_str(),
        &node.key,
        attestation,
    )?;
    let expires_at = attestation.expires_at;
    node.attestation = Some(attestation);
    nodes().replace(deps.storage, &node_id, Some(&node), Some(&old))?;
    ATTESTED_AT.save(deps.storage, &node_id, &env.block.time.seconds())?;
    Ok(Response::new()
        .add_attribute("action", "renew_attestation")
        .add_attribute("node_id", node_id)
        .add_attribute("operator", info.sender)
        .add_attribute("kind", node.kind.as_str())
        .add_attribute("expires_at", expires_at.to_string()))
}

/// `Deregister`: starts unbonding now; the bond is withdrawable after `unbonding_period` seconds.
/// Errors: `NodeJailed`, `NodeUnbonding`.
pub fn execute_deregister(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    node_id: String,
) -> Result<Response, ContractError> {
    cw_utils::nonpayable(&info)?;
    let old = load_operated(&deps, &info, &node_id)?;
    match old.status {
        NodeStatus::Jailed => return Err(ContractError::NodeJailed { node_id }),
        NodeStatus::Unbonding => return Err(ContractError::NodeUnbonding { node_id }),
        NodeStatus::Withdrawn => return Err(ContractError::NodeWithdrawn { node_id }),
        NodeStatus::Active => {}
    }
    let config = CONFIG.load(deps.storage)?;
    let ends = env
        .block
        .time
        .seconds()
        .checked_add(config.unbonding_period)
        .ok_or_else(|| ContractError::InvalidConfig {
            reason: "unbonding end overflows".to_string(),
        })?;
    let mut node = old.clone();
    node.status = NodeStatus::Unbonding;
    node.unbonding_ends = Some(ends);
    nodes().replace(deps.storage, &node_id, Some(&node), Some(&old))?;
    Ok(Response::new()
        .add_attribute("action", "deregister")
        .add_attribute("node_id", node_id)
        .add_attribute("operator", info.sender)
        .add_attribute("kind", node.kind.as_str())
        .add_attribute("unbonding_ends", ends.to_string()))
}

/// `WithdrawBond`: after unbonding ended, pays the remaining bond to the operator. The node stays
/// on record with status `withdrawn`, its operator and kind, and a zero bond: the pool pays its
/// unclaimed rewards to that operator, and its id is never registered again (DESIGN §5).
/// Errors: `NodeJailed` (jailed while unbonding), `NotUnbonding`, `StillUnbonding`,
/// `NodeWithdrawn`.
pub fn execute_withdraw_bond(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    node_id: String,
) -> Result<Response, ContractError> {
    cw_utils::nonpayable(&info)?;
    let old = load_operated(&deps, &info, &node_id)?;
    let ends = match (old.status, old.unbonding_ends) {
        (NodeStatus::Jailed, _) => return Err(ContractError::NodeJailed { node_id }),
        (NodeStatus::Unbonding, Some(ends)) => ends,
        _ => return Err(ContractError::NotUnbonding { node_id }),
    };
    if env.block.time.seconds() < ends {
        return Err(ContractError::StillUnbonding { until: ends });
    }
    let config = CONFIG.load(deps.storage)?;
    let mut node = old.clone();
    node.status = NodeStatus::Withdrawn;
    node.bond = Uint128::zero();
    nodes().replace(deps.storage, &node_id, Some(&node), Some(&old))?;
    let mut response = Response::new();
    if old.bond > Uint128::zero() {
        response = response.add_message(BankMsg::Send {
            to_address: old.operator.to_string(),
            amount: coins(old.bond.u128(), &config.bond_denom),
        });
    }
    Ok(response
        .add_attribute("action", "withdraw_bond")
        .add_attribute("node_id", node_id)
        .add_attribute("operator", old.operator)
        .add_attribute("kind", old.kind.as_str())
        .add_attribute("amount", old.bond))
}
