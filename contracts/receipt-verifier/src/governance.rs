//! Config changes by governance (`UpdateConfig`) and by chain governance (`sudo`).
use cosmwasm_std::{DepsMut, MessageInfo, Response};
use opg_core::msg::verifier::UpdateConfigMsg;

use crate::error::ContractError;
use crate::state::CONFIG;
use crate::validate::{
    validate_facilitators, validate_max_batch, validate_max_batch_step, validate_networks,
};

/// `ExecuteMsg::UpdateConfig`: governance only. Errors: `Unauthorized { sender }`, the
/// validation errors of instantiate, and `ConfigStep` (`max_batch` moved more than x2 or /2).
/// The lists (networks, facilitators) and the settlement flag have no numeric step: they are
/// replaced whole.
pub fn execute_update_config(
    deps: DepsMut,
    info: MessageInfo,
    update: UpdateConfigMsg,
) -> Result<Response, ContractError> {
    let cfg = CONFIG.load(deps.storage)?;
    if info.sender != cfg.governance {
        return Err(ContractError::Unauthorized {
            sender: info.sender.to_string(),
        });
    }
    update_config(deps, update, "update_config")
}

/// `SudoMsg::UpdateConfig`: chain governance, no sender check.
pub fn sudo_update_config(
    deps: DepsMut,
    update: UpdateConfigMsg,
) -> Result<Response, ContractError> {
    update_config(deps, update, "sudo_update_config")
}

fn update_config(
    deps: DepsMut,
    update: UpdateConfigMsg,
    action: &str,
) -> Result<Response, ContractError> {
    let mut cfg = CONFIG.load(deps.storage)?;
    if let Some(governance) = update.governance {
        cfg.governance = deps.api.addr_validate(&governance)?;
    }
    if let Some(networks) = update.networks {
        cfg.networks = validate_networks(networks)?;
    }
    if let Some(facilitators) = update.facilitators {
        cfg.facilitators = validate_facilitators(facilitators)?;
    }
    if let Some(require_settlement) = update.require_settlement {
        cfg.require_settlement = require_settlement;
    }
    if let Some(max_batch) = update.max_batch {
        validate_max_batch(max_batch)?;
        validate_max_batch_step(cfg.max_batch, max_batch)?;
        cfg.max_batch = max_batch;
    }
    CONFIG.save(deps.storage, &cfg)?;
    Ok(Response::new()
        .add_attribute("action", action)
        .add_attribute("governance", cfg.governance.as_str())
        .add_attribute("require_settlement", cfg.require_settlement.to_string())
        .add_attribute("max_batch", cfg.max_batch.to_string()))
}
