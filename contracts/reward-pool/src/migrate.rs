//! `migrate`: refuses another contract and downgrades, then records the new version.
use cosmwasm_std::{DepsMut, Response};

use crate::contract::{CONTRACT_NAME, CONTRACT_VERSION};
use crate::error::ContractError;

fn parse(version: &str) -> Result<semver::Version, ContractError> {
    semver::Version::parse(version).map_err(|e| ContractError::InvalidVersion {
        version: version.to_string(),
        reason: e.to_string(),
    })
}

/// Errors: `MigrateWrongContract`, `MigrateDowngrade`, `InvalidVersion`.
pub fn migrate_version(deps: DepsMut) -> Result<Response, ContractError> {
    let stored = cw2::get_contract_version(deps.storage)?;
    if stored.contract != CONTRACT_NAME {
        return Err(ContractError::MigrateWrongContract {
            expected: CONTRACT_NAME.to_string(),
            got: stored.contract,
        });
    }
    if parse(&stored.version)? > parse(CONTRACT_VERSION)? {
        return Err(ContractError::MigrateDowngrade {
            from: stored.version,
            to: CONTRACT_VERSION.to_string(),
        });
    }
    cw2::set_contract_version(deps.storage, CONTRACT_NAME, CONTRACT_VERSION)?;
    Ok(Response::new()
        .add_attribute("action", "migrate")
        .add_attribute("from_version", stored.version)
        .add_attribute("to_version", CONTRACT_VERSION))
}
