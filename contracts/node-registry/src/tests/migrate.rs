//! `migrate`: same contract, no downgrade.
use cw_multi_test::Executor;
use opg_core::msg::MigrateMsg;

use super::*;
use crate::contract::{CONTRACT_NAME, CONTRACT_VERSION};

fn migrate_now(suite: &mut Suite) -> Result<cw_multi_test::AppResponse, ContractError> {
    let gov = suite.gov.clone();
    let registry = suite.registry.clone();
    let code_id = suite.code_id;
    suite
        .app
        .migrate_contract(gov, registry, &MigrateMsg {}, code_id)
        .map_err(|e| e.downcast::<ContractError>().unwrap())
}

fn set_stored_version(suite: &mut Suite, name: &str, version: &str) {
    let registry = suite.registry.clone();
    let mut storage = suite.app.contract_storage_mut(&registry);
    cw2::set_contract_version(storage.as_mut(), name, version).unwrap();
}

#[test]
fn migrate_same_or_older_version() {
    let mut suite = Suite::new();
    let res = migrate_now(&mut suite).unwrap();
    assert_eq!(wasm_attr(&res, "action").as_deref(), Some("migrate"));
    set_stored_version(&mut suite, CONTRACT_NAME, "0.0.1");
    let res = migrate_now(&mut suite).unwrap();
    assert_eq!(wasm_attr(&res, "from_version").as_deref(), Some("0.0.1"));
    let version = cw2::query_contract_info(&suite.app.wrap(), &suite.registry).unwrap();
    assert_eq!(version.version, CONTRACT_VERSION);
}

#[test]
fn migrate_refuses_downgrade() {
    let mut suite = Suite::new();
    set_stored_version(&mut suite, CONTRACT_NAME, "99.0.0");
    let err = migrate_now(&mut suite).unwrap_err();
    assert_eq!(
        err,
        ContractError::Downgrade {
            previous_version: "99.0.0".to_string(),
            new_version: CONTRACT_VERSION.to_string()
        }
    );
}

#[test]
fn migrate_refuses_other_contract() {
    let mut suite = Suite::new();
    set_stored_version(&mut suite, "crates.io:cw20-base", "0.0.1");
    let err = migrate_now(&mut suite).unwrap_err();
    assert_eq!(
        err,
        ContractError::WrongContract {
            previous_contract: "crates.io:cw20-base".to_string()
        }
    );
}

#[test]
fn migrate_refuses_non_semver() {
    let mut suite = Suite::new();
    set_stored_version(&mut suite, CONTRACT_NAME, "v1");
    let err = migrate_now(&mut suite).unwrap_err();
    assert_eq!(
        err,
        ContractError::InvalidVersion {
            version: "v1".to_string()
        }
    );
}
