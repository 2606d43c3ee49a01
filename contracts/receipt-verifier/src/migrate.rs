//! `migrate`: refuses another contract and downgrades, then records the new version.
use cosmwasm_std::{DepsMut, Response, Storage};
use semver::Version;

use crate::error::ContractError;
use crate::state::{has_legacy_nonces, CONTRACT_NAME, CONTRACT_VERSION};

/// Migrates to this code version. Errors: `WrongContract` (stored cw2 name differs), `Downgrade`
/// (stored version newer), `InvalidVersion`, `LegacyNoncesLeft` (consumed nonces of the previous
/// storage layout are stored: see `state`).
pub fn migrate_contract(deps: DepsMut) -> Result<Response, ContractError> {
    let stored = check_upgrade(deps.storage)?;
    if has_legacy_nonces(deps.storage) {
        return Err(ContractError::LegacyNoncesLeft {});
    }
    cw2::set_contract_version(deps.storage, CONTRACT_NAME, CONTRACT_VERSION)?;
    Ok(Response::new()
        .add_attribute("action", "migrate")
        .add_attribute("from_version", stored)
        .add_attribute("to_version", CONTRACT_VERSION))
}

/// Checks the stored cw2 info against this code; returns the stored version.
fn check_upgrade(storage: &dyn Storage) -> Result<String, ContractError> {
    let stored = cw2::get_contract_version(storage)?;
    if stored.contract != CONTRACT_NAME {
        return Err(ContractError::WrongContract {
            expected: CONTRACT_NAME.to_string(),
            found: stored.contract,
        });
    }
    let parse = |v: &str| {
        v.parse::<Version>()
            .map_err(|_| ContractError::InvalidVersion {
                version: v.to_string(),
            })
    };
    if parse(&stored.version)? > parse(CONTRACT_VERSION)? {
        return Err(ContractError::Downgrade {
            stored: stored.version,
            current: CONTRACT_VERSION.to_string(),
        });
    }
    Ok(stored.version)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cosmwasm_std::testing::mock_dependencies;

    #[test]
    fn same_or_older_version_migrates() {
        let mut deps = mock_dependencies();
        cw2::set_contract_version(&mut deps.storage, CONTRACT_NAME, "0.0.1").unwrap();
        let res = migrate_contract(deps.as_mut()).unwrap();
        assert!(res
            .attributes
            .iter()
            .any(|a| a.key == "from_version" && a.value == "0.0.1"));
        let v = cw2::get_contract_version(&deps.storage).unwrap();
        assert_eq!(v.version, CONTRACT_VERSION);
        // Re-running on the same version is fine.
        migrate_contract(deps.as_mut()).unwrap();
    }

    #[test]
    fn refuses_while_legacy_nonces_are_stored() {
        let mut deps = mock_dependencies();
        cw2::set_contract_version(&mut deps.storage, CONTRACT_NAME, "0.0.1").unwrap();
        let legacy: cw_storage_plus::Map<(u64, &[u8]), u64> = cw_storage_plus::Map::new("n");
        legacy
            .save(&mut deps.storage, (4, &[9u8; 52][..]), &4)
            .unwrap();
        assert_eq!(
            migrate_contract(deps.as_mut()).unwrap_err(),
            ContractError::LegacyNoncesLeft {}
        );
        // Entries of the current layout do not block.
        legacy.remove(&mut deps.storage, (4, &[9u8; 52][..]));
        crate::state::consume_nonce(&mut deps.storage, 4, &[1; 16], 4).unwrap();
        migrate_contract(deps.as_mut()).unwrap();
    }

    #[test]
    fn refuses_other_contract() {
        let mut deps = mock_dependencies();
        cw2::set_contract_version(&mut deps.storage, "crates.io:cw20-base", "0.0.1").unwrap();
        assert_eq!(
            migrate_contract(deps.as_mut()).unwrap_err(),
            ContractError::WrongContract {
                expected: CONTRACT_NAME.to_string(),
                found: "crates.io:cw20-base".to_string()
            }
        );
    }

    #[test]
    fn refuses_downgrade_and_garbage() {
        let mut deps = mock_dependencies();
        cw2::set_contract_version(&mut deps.storage, CONTRACT_NAME, "99.0.0").unwrap();
        assert_eq!(
            migrate_contract(deps.as_mut()).unwrap_err(),
            ContractError::Downgrade {
                stored: "99.0.0".to_string(),
                current: CONTRACT_VERSION.to_string()
            }
        );
        cw2::set_contract_version(&mut deps.storage, CONTRACT_NAME, "v-one").unwrap();
        assert_eq!(
            migrate_contract(deps.as_mut()).unwrap_err(),
            ContractError::InvalidVersion {
                version: "v-one".to_string()
            }
        );
    }

    #[test]
    fn refuses_uninitialized() {
        let mut deps = mock_dependencies();
        assert!(matches!(
            migrate_contract(deps.as_mut()).unwrap_err(),
            ContractError::Std(_)
        ));
    }
}
