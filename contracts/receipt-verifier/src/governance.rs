//! Config changes by governance (`UpdateConfig`) and by chain governance (`sudo`).
use cosmwasm_std::{DepsMut, MessageInfo, Response};
use opg_core::msg::verifier::UpdateConfigMsg;
use opg_core::types::NetworkConfig;

use crate::error::ContractError;
use crate::state::CONFIG;
use crate::validate::{validate_facilitators, validate_max_batch, validate_networks};

/// The fields `UpdateConfig` may change; `None` leaves a field unchanged.
#[derive(Clone, Debug, Default)]
pub struct ConfigUpdate {
    /// New governance address.
    pub governance: Option<String>,
    /// Replaces the networks.
    pub networks: Option<Vec<NetworkConfig>>,
    /// Replaces the facilitators.
    pub facilitators: Option<Vec<String>>,
    /// Settlement policy.
    pub require_settlement: Option<bool>,
    /// Batch bound (1..=500).
    pub max_batch: Option<u32>,
}

impl From<UpdateConfigMsg> for ConfigUpdate {
    fn from(m: UpdateConfigMsg) -> Self {
        ConfigUpdate {
            governance: m.governance,
            networks: m.networks,
            facilitators: m.facilitators,
            require_settlement: m.require_settlement,
            max_batch: m.max_batch,
        }
    }
}

/// `ExecuteMsg::UpdateConfig`: governance only. Errors: `Unauthorized { sender }` and the
/// validation errors of instantiate.
pub fn execute_update_config(
    deps: DepsMut,
    info: MessageInfo,
    update: ConfigUpdate,
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
pub fn sudo_update_config(deps: DepsMut, update: ConfigUpdate) -> Result<Response, ContractError> {
    update_config(deps, update, "sudo_update_config")
}

fn update_config(
    deps: DepsMut,
    update: ConfigUpdate,
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
        cfg.max_batch = validate_max_batch(max_batch)?;
    }
    CONFIG.save(deps.storage, &cfg)?;
    Ok(Response::new()
        .add_attribute("action", action)
        .add_attribute("governance", cfg.governance.as_str())
        .add_attribute("require_settlement", cfg.require_settlement.to_string())
        .add_attribute("max_batch", cfg.max_batch.to_string()))
}
