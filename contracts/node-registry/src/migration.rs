//! `migrate`: version guard (same contract, no downgrade).
use cosmwasm_std::{DepsMut, Response};
use semver::Version;

use crate::contract::{CONTRACT_NAME, CONTRACT_VERSION};
use crate::error::ContractError;

fn parse(version: &str) -> Result<Version, ContractError> {
    version.parse().map_err(|_| ContractError::InvalidVersion {
        version: version.to_string(),
    })
}

/// Refuses another contract's state and older-than-stored code, then records this version.
/// Errors: `WrongContract`, `Downgrade`, `InvalidVersion`.
pub fn migrate(deps: DepsMut) -> Result<Response, ContractError> {
    let stored = cw2::get_contract_version(deps.storage)?;
    if stored.contract != CONTRACT_NAME {
        return Err(ContractError::WrongContract {
            previous_contract: stored.contract,
        });
    }
    let previous = parse(&stored.version)?;
    let new = parse(CONTRACT_VERSION)?;
    if new < previous {
        return Err(ContractError::Downgrade {
            previous_version: stored.version,
            new_version: CONTRACT_VERSION.to_string(),
        });
    }
    cw2::set_contract_version(deps.storage, CONTRACT_NAME, CONTRACT_VERSION)?;
    Ok(Response::new()
        .add_attribute("action", "migrate")
        .add_attribute("from_version", stored.version)
        .add_attribute("to_version", CONTRACT_VERSION))
}
