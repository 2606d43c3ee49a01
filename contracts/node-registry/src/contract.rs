//! Entry points and dispatch of the node registry (DESIGN §5).
#[cfg(not(feature = "library"))]
use cosmwasm_std::entry_point;
use cosmwasm_std::{to_json_binary, Binary, Deps, DepsMut, Env, MessageInfo, Response};
use opg_core::msg::registry::{ExecuteMsg, InstantiateMsg, QueryMsg, SudoMsg};
use opg_core::msg::MigrateMsg;

use crate::error::ContractError;
use crate::state::{Config, CONFIG, DEFAULT_MAX_ATTESTATION_VALIDITY};
use crate::{governance, migration, nodes, queries, validate};

/// cw2 contract name.
pub const CONTRACT_NAME: &str = "crates.io:opg-node-registry";
/// cw2 contract version (the crate version).
pub const CONTRACT_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Instantiates the registry. Errors: `Std` (invalid governance or reward pool address),
/// `InvalidConfig` (empty `bond_denom`), `ConfigOutOfBounds` (`unbonding_period` outside
/// 1 s ..= 365 days, `max_attestation_validity` outside 1 ..= 730 days).
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
    validate::unbonding_period(msg.unbonding_period)?;
    let max_attestation_validity = msg
        .max_attestation_validity
        .unwrap_or(DEFAULT_MAX_ATTESTATION_VALIDITY);
    validate::max_attestation_validity(max_attestation_validity)?;
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
            max_attestation_validity,
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
        ExecuteMsg::Register(m) => nodes::execute_register(deps, env, info, m),
        ExecuteMsg::UpdateNode(m) => nodes::execute_update_node(deps, env, info, m),
        ExecuteMsg::RenewAttestation(m) => nodes::execute_renew_attestation(deps, env, info, m),
        ExecuteMsg::Deregister(m) => nodes::execute_deregister(deps, env, info, m.node_id),
        ExecuteMsg::WithdrawBond(m) => nodes::execute_withdraw_bond(deps, env, info, m.node_id),
        ExecuteMsg::AddModel(m) => governance::execute_add_model(deps, info, m),
        ExecuteMsg::RemoveModel(m) => governance::execute_remove_model(deps, info, m.id),
        ExecuteMsg::AddAttester(m) => governance::execute_add_attester(deps, info, m.address),
        ExecuteMsg::RemoveAttester(m) => {
            governance::execute_remove_attester(deps, env, info, m.address)
        }
        ExecuteMsg::Jail(m) => governance::execute_jail(deps, info, m.node_id, m.reason),
        ExecuteMsg::Unjail(m) => governance::execute_unjail(deps, info, m.node_id),
        ExecuteMsg::Slash(m) => governance::execute_slash(deps, info, m.node_id, m.fraction),
        ExecuteMsg::UpdateConfig(m) => governance::execute_update_config(deps, info, m),
    }
}

/// Chain governance: the governance messages without a sender check.
#[cfg_attr(not(feature = "library"), entry_point)]
pub fn sudo(deps: DepsMut, env: Env, msg: SudoMsg) -> Result<Response, ContractError> {
    match msg {
        SudoMsg::AddModel(m) => governance::add_model(deps, m),
        SudoMsg::RemoveModel(m) => governance::remove_model(deps, m.id),
        SudoMsg::AddAttester(m) => governance::add_attester(deps, m.address),
        SudoMsg::RemoveAttester(m) => governance::remove_attester(deps, &env, m.address),
        SudoMsg::Jail(m) => governance::jail(deps, m.node_id, m.reason),
        SudoMsg::Unjail(m) => governance::unjail(deps, m.node_id),
        SudoMsg::Slash(m) => governance::slash(deps, m.node_id, m.fraction),
        SudoMsg::UpdateConfig(m) => governance::update_config(deps, m),
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
