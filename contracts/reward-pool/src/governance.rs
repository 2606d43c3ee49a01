//! Governance (`UpdateParams`, `UpdateConfig`, also via `sudo`) and `Fund`.
use cosmwasm_std::{Addr, Deps, DepsMut, Env, MessageInfo, Response};
use opg_core::msg::pool::RewardParams;

use crate::error::ContractError;
use crate::params::validate_update;
use crate::state::{params_for, Config, CONFIG, PARAMS};

/// Who sent a governance message: an address (checked against `config.governance`) or the chain
/// (`sudo`).
pub enum Authority {
    /// `execute` from this address.
    Sender(Addr),
    /// `sudo` from chain governance.
    Sudo,
}

fn ensure_governance(config: &Config, who: Authority, action: &str) -> Result<(), ContractError> {
    match who {
        Authority::Sudo => Ok(()),
        Authority::Sender(sender) if sender == config.governance => Ok(()),
        Authority::Sender(sender) => Err(ContractError::Unauthorized {
            sender,
            action: action.to_string(),
        }),
    }
}

/// The epoch new params take effect from: the next one (epoch 0 before genesis), and the epoch
/// whose params they are compared with (the current one, epoch 0 before genesis).
pub fn schedule_epochs(config: &Config, now: u64) -> (u64, u64) {
    match config.clock.epoch_of(now) {
        Some(current) => (current.saturating_add(1), current),
        None => (0, 0),
    }
}

/// Governance: schedules `params` for every epoch from the next one on (replacing params already
/// scheduled for it). Errors: `Unauthorized`, `ParamOutOfBounds { param, reason }`.
pub fn execute_update_params(
    deps: DepsMut,
    env: Env,
    who: Authority,
    params: RewardParams,
) -> Result<Response, ContractError> {
    let config = CONFIG.load(deps.storage)?;
    ensure_governance(&config, who, "update_params")?;
    let (from_epoch, current_epoch) = schedule_epochs(&config, env.block.time.seconds());
    let current = params_for(deps.storage, current_epoch)?;
    validate_update(&current, &params)?;
    PARAMS.save(deps.storage, from_epoch, &params)?;
    Ok(Response::new()
        .add_attribute("action", "update_params")
        .add_attribute("epoch", from_epoch.to_string())
        .add_attribute("emission_per_epoch", params.emission_per_epoch)
        .add_attribute("m_commercial", params.m_commercial.to_string())
        .add_attribute("m_community_max", params.m_community_max.to_string())
        .add_attribute("target_share", params.target_share.to_string())
        .add_attribute("alpha", params.alpha.to_string())
        .add_attribute("v_cap", params.v_cap)
        .add_attribute(
            "c_call",
            params
                .c_call
                .map_or_else(|| "none".to_string(), |c| c.to_string()),
        ))
}

/// Governance: replaces the governance, verifier and/or registry addresses; `None` leaves a field
/// unchanged. Errors: `Unauthorized`, `Std` (invalid address).
pub fn execute_update_config(
    deps: DepsMut,
    who: Authority,
    governance: Option<String>,
    verifier: Option<String>,
    registry: Option<String>,
) -> Result<Response, ContractError> {
    let mut config = CONFIG.load(deps.storage)?;
    ensure_governance(&config, who, "update_config")?;
    let mut response = Response::new().add_attribute("action", "update_config");
    if let Some(g) = governance {
        config.governance = deps.api.addr_validate(&g)?;
        response = response.add_attribute("governance", &config.governance);
    }
    if let Some(v) = verifier {
        let v = deps.api.addr_validate(&v)?;
        response = response.add_attribute("verifier", &v);
        config.verifier = Some(v);
    }
    if let Some(r) = registry {
        config.registry = deps.api.addr_validate(&r)?;
        response = response.add_attribute("registry", &config.registry);
    }
    CONFIG.save(deps.storage, &config)?;
    Ok(response)
}

/// Anyone: adds the attached `denom` funds to the pool. Errors: `Payment` (no funds, another denom,
/// several denoms).
pub fn execute_fund(deps: Deps, info: MessageInfo) -> Result<Response, ContractError> {
    let config = CONFIG.load(deps.storage)?;
    let amount = cw_utils::must_pay(&info, &config.denom)?;
    Ok(Response::new()
        .add_attribute("action", "fund")
        .add_attribute("sender", info.sender)
        .add_attribute("amount", amount))
}
