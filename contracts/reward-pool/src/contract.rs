//! Entry points and dispatch only; the logic lives in the per-topic modules.
#[cfg(not(feature = "library"))]
use cosmwasm_std::entry_point;
use cosmwasm_std::{to_json_binary, Binary, Deps, DepsMut, Env, MessageInfo, Response, Uint128};
use opg_core::msg::pool::{ExecuteMsg, InstantiateMsg, MigrateMsg, QueryMsg, SudoMsg};

use crate::claim::execute_claim;
use crate::error::ContractError;
use crate::finalize::execute_finalize_epoch;
use crate::governance::{execute_fund, execute_update_config, execute_update_params, Authority};
use crate::params::validate_bounds;
use crate::query;
use crate::state::{Config, CONFIG, NEXT_TO_FINALIZE, PARAMS, RESERVED};
use crate::usage::execute_record_usage;

/// cw2 contract name.
pub const CONTRACT_NAME: &str = "crates.io:opg-reward-pool";
/// cw2 contract version (the crate version).
pub const CONTRACT_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Stores the config and the initial params (from epoch 0). Errors: `InvalidClock`
/// (`epoch_length == 0`), `InvalidDenom`, `ParamOutOfBounds`, `Std` (invalid address).
#[cfg_attr(not(feature = "library"), entry_point)]
pub fn instantiate(
    deps: DepsMut,
    _env: Env,
    _info: MessageInfo,
    msg: InstantiateMsg,
) -> Result<Response, ContractError> {
    if msg.clock.epoch_length == 0 {
        return Err(ContractError::InvalidClock {
            reason: "epoch_length must be > 0".to_string(),
        });
    }
    if msg.denom.is_empty() {
        return Err(ContractError::InvalidDenom { denom: msg.denom });
    }
    validate_bounds(&msg.params)?;
    let config = Config {
        governance: deps.api.addr_validate(&msg.governance)?,
        registry: deps.api.addr_validate(&msg.registry)?,
        verifier: msg
            .verifier
            .map(|v| deps.api.addr_validate(&v))
            .transpose()?,
        denom: msg.denom,
        clock: msg.clock,
    };
    cw2::set_contract_version(deps.storage, CONTRACT_NAME, CONTRACT_VERSION)?;
    CONFIG.save(deps.storage, &config)?;
    NEXT_TO_FINALIZE.save(deps.storage, &0)?;
    RESERVED.save(deps.storage, &Uint128::zero())?;
    PARAMS.save(deps.storage, 0, &msg.params)?;
    Ok(Response::new()
        .add_attribute("action", "instantiate")
        .add_attribute("governance", config.governance)
        .add_attribute("registry", config.registry)
        .add_attribute("denom", config.denom))
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
        ExecuteMsg::Fund {} => execute_fund(deps.as_ref(), info),
        ExecuteMsg::RecordUsage { entries, live } => {
            execute_record_usage(deps, env, info, entries, live)
        }
        ExecuteMsg::FinalizeEpoch { epoch } => execute_finalize_epoch(deps, env, epoch),
        ExecuteMsg::Claim { node_id, limit } => execute_claim(deps, info, node_id, limit),
        ExecuteMsg::UpdateParams { params } => {
            execute_update_params(deps, env, Authority::Sender(info.sender), params)
        }
        ExecuteMsg::UpdateConfig {
            governance,
            verifier,
            registry,
        } => execute_update_config(
            deps,
            Authority::Sender(info.sender),
            governance,
            verifier,
            registry,
        ),
    }
}

/// Chain governance: the governance messages without a sender check.
#[cfg_attr(not(feature = "library"), entry_point)]
pub fn sudo(deps: DepsMut, env: Env, msg: SudoMsg) -> Result<Response, ContractError> {
    match msg {
        SudoMsg::UpdateParams { params } => {
            execute_update_params(deps, env, Authority::Sudo, params)
        }
        SudoMsg::UpdateConfig {
            governance,
            verifier,
            registry,
        } => execute_update_config(deps, Authority::Sudo, governance, verifier, registry),
    }
}

/// Dispatches queries.
#[cfg_attr(not(feature = "library"), entry_point)]
pub fn query(deps: Deps, env: Env, msg: QueryMsg) -> Result<Binary, ContractError> {
    Ok(match msg {
        QueryMsg::Config {} => to_json_binary(&query::query_config(deps)?)?,
        QueryMsg::Params {} => to_json_binary(&query::query_params(deps, env)?)?,
        QueryMsg::EpochParams { epoch } => {
            to_json_binary(&crate::state::params_for(deps.storage, epoch)?)?
        }
        QueryMsg::Multipliers { epoch } => to_json_binary(&query::query_multipliers(deps, epoch)?)?,
        QueryMsg::EpochReport { epoch } => {
            to_json_binary(&query::query_epoch_report(deps, epoch)?)?
        }
        QueryMsg::NodeRewards {
            node_id,
            start_after,
            limit,
        } => to_json_binary(&query::query_node_rewards(
            deps,
            node_id,
            start_after,
            limit,
        )?)?,
        QueryMsg::PendingRewards { node_id } => {
            to_json_binary(&query::query_pending_rewards(deps, node_id)?)?
        }
    })
}

/// Refuses another contract name and downgrades; from 0.1 rewrites the params (see
/// [`crate::migrate`]). Errors: `MigrateWrongContract`, `MigrateDowngrade`, `InvalidVersion`,
/// `ParamOutOfBounds`.
#[cfg_attr(not(feature = "library"), entry_point)]
pub fn migrate(deps: DepsMut, _env: Env, msg: MigrateMsg) -> Result<Response, ContractError> {
    crate::migrate::migrate_contract(deps, msg)
}
