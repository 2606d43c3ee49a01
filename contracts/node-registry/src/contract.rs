//! Entry points and dispatch of the node registry (DESIGN §5).
#[cfg(not(feature = "library"))]
use cosmwasm_std::entry_point;
use cosmwasm_std::{to_json_binary, Binary, Deps, DepsMut, Env, MessageInfo, Response};
use opg_core::msg::registry::{ExecuteMsg, InstantiateMsg, QueryMsg, SudoMsg};
use opg_core::msg::MigrateMsg;

use crate::error::ContractError;
use crate::state::{Config, CONFIG};
use crate::{governance, migration, nodes, queries};

/// cw2 contract name.
pub const CONTRACT_NAME: &str = "crates.io:opg-node-registry";
/// cw2 contract version (the crate version).
pub const CONTRACT_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Instantiates the registry. Errors: `Std` (invalid governance or reward pool address),
/// `InvalidConfig` (empty `bond_denom`, zero `unbonding_period`).
#[cfg_attr(not(feature = "library"), entry_point)]
pub fn instantiate(
    deps: DepsMut,
    _env: Env,
    info: MessageInfo,
    msg: InstantiateMsg,
) -> Result<Response, ContractError> {
    cw_utils::nonpayable(&info)?;
    let governance = deps.api.addr_validate(&msg.governance)?;
    if msg.bond_denom.is_empty() {
        return Err(ContractError::InvalidConfig {
            reason: "bond_denom must not be empty".to_string(),
        });
    }
    if msg.unbonding_period == 0 {
        return Err(ContractError::InvalidConfig {
            reason: "unbonding_period must be > 0".to_string(),
        });
    }
    let reward_pool = msg
        .reward_pool
        .map(|p| deps.api.addr_validate(&p))
        .transpose()?;
    CONFIG.save(
        deps.storage,
        &Config {
            governance: governance.clone(),
            bond_denom: msg.bond_denom.clone(),
            min_bond: msg.min_bond,
            unbonding_period: msg.unbonding_period,
            reward_pool,
        },
    )?;
    cw2::set_contract_version(deps.storage, CONTRACT_NAME, CONTRACT_VERSION)?;
    Ok(Response::new()
        .add_attribute("action", "instantiate")
        .add_attribute("governance", governance)
        .add_attribute("bond_denom", msg.bond_denom)
        .add_attribute("min_bond", msg.min_bond))
}

/// Dispatches execute messages.
#[cfg_attr(not(feature = "library"), entry_point)]
pub fn execute(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    msg: ExecuteMsg,
) -> Result<Response, ContractError> {
    match msg {
        ExecuteMsg::Register {
            node_id,
            kind,
            key,
            pay_to,
            endpoint,
            models,
        } => nodes::execute_register(
            deps, env, info, node_id, kind, key, pay_to, endpoint, models,
        ),
        ExecuteMsg::UpdateNode {
            node_id,
            key,
            pay_to,
            endpoint,
            models,
            upstream,
            attestation,
        } => nodes::execute_update_node(
            deps,
            env,
            info,
            node_id,
            key,
            pay_to,
            endpoint,
            models,
            upstream,
            attestation,
        ),
        ExecuteMsg::RenewAttestation {
            node_id,
            attestation,
        } => nodes::execute_renew_attestation(deps, env, info, node_id, attestation),
        ExecuteMsg::Deregister { node_id } => nodes::execute_deregister(deps, env, info, node_id),
        ExecuteMsg::WithdrawBond { node_id } => {
            nodes::execute_withdraw_bond(deps, env, info, node_id)
        }
        ExecuteMsg::AddModel {
            id,
            provenance,
            weights_digest,
        } => governance::execute_add_model(deps, info, id, provenance, weights_digest),
        ExecuteMsg::RemoveModel { id } => governance::execute_remove_model(deps, info, id),
        ExecuteMsg::AddAttester { address } => {
            governance::execute_add_attester(deps, info, address)
        }
        ExecuteMsg::RemoveAttester { address } => {
            governance::execute_remove_attester(deps, info, address)
        }
        ExecuteMsg::Jail { node_id, reason } => {
            governance::execute_jail(deps, info, node_id, reason)
        }
        ExecuteMsg::Unjail { node_id } => governance::execute_unjail(deps, info, node_id),
        ExecuteMsg::Slash { node_id, fraction } => {
            governance::execute_slash(deps, info, node_id, fraction)
        }
        ExecuteMsg::UpdateConfig {
            governance: gov,
            min_bond,
            unbonding_period,
            reward_pool,
        } => governance::execute_update_config(
            deps,
            info,
            gov,
            min_bond,
            unbonding_period,
            reward_pool,
        ),
    }
}

/// Chain governance: the governance messages without a sender check.
#[cfg_attr(not(feature = "library"), entry_point)]
pub fn sudo(deps: DepsMut, _env: Env, msg: SudoMsg) -> Result<Response, ContractError> {
    match msg {
        SudoMsg::AddModel {
            id,
            provenance,
            weights_digest,
        } => governance::add_model(deps, id, provenance, weights_digest),
        SudoMsg::RemoveModel { id } => governance::remove_model(deps, id),
        SudoMsg::AddAttester { address } => governance::add_attester(deps, address),
        SudoMsg::RemoveAttester { address } => governance::remove_attester(deps, address),
        SudoMsg::Jail { node_id, reason } => governance::jail(deps, node_id, reason),
        SudoMsg::Unjail { node_id } => governance::unjail(deps, node_id),
        SudoMsg::Slash { node_id, fraction } => governance::slash(deps, node_id, fraction),
        SudoMsg::UpdateConfig {
            governance: gov,
            min_bond,
            unbonding_period,
            reward_pool,
        } => governance::update_config(deps, gov, min_bond, unbonding_period, reward_pool),
    }
}

/// Dispatches queries.
#[cfg_attr(not(feature = "library"), entry_point)]
pub fn query(deps: Deps, _env: Env, msg: QueryMsg) -> Result<Binary, ContractError> {
    Ok(match msg {
        QueryMsg::Config {} => to_json_binary(&queries::query_config(deps)?)?,
        QueryMsg::Node { node_id } => to_json_binary(&queries::query_node(deps, node_id)?)?,
        QueryMsg::Nodes {
            kind,
            status,
            start_after,
            limit,
        } => to_json_binary(&queries::query_nodes(
            deps,
            kind,
            status,
            start_after,
            limit,
        )?)?,
        QueryMsg::NodesByIds { ids, models } => {
            to_json_binary(&queries::query_nodes_by_ids(deps, ids, models)?)?
        }
        QueryMsg::Model { id } => to_json_binary(&queries::query_model(deps, id)?)?,
        QueryMsg::Models { start_after, limit } => {
            to_json_binary(&queries::query_models(deps, start_after, limit)?)?
        }
        QueryMsg::Attesters { start_after, limit } => {
            to_json_binary(&queries::query_attesters(deps, start_after, limit)?)?
        }
    })
}

/// Migrates to this code version. Errors: `WrongContract`, `Downgrade`.
#[cfg_attr(not(feature = "library"), entry_point)]
pub fn migrate(deps: DepsMut, _env: Env, _msg: MigrateMsg) -> Result<Response, ContractError> {
    migration::migrate(deps)
}
