//! `migrate`: same contract, no downgrade.
mod common;

use common::*;
use cw_multi_test::Executor;
use opg_core::msg::MigrateMsg;
use receipt_verifier::ContractError;

#[test]
fn migrates_to_the_same_or_newer_code() {
    let mut s = Suite::new();
    let admin = s.app.api().addr_make("deployer");
    let new_code = s.app.store_code(verifier_contract());
    s.app
        .migrate_contract(admin, s.verifier.clone(), &MigrateMsg {}, new_code)
        .unwrap();
    let info = cw2::query_contract_info(&s.app.wrap(), s.verifier.to_string()).unwrap();
    assert_eq!(info.version, env!("CARGO_PKG_VERSION"));
    // State survives: receipts still verify.
    let spec = s.spec();
    let r = s.receipt(&spec);
    assert!(s.verify(&r).valid);
}

#[test]
fn refuses_a_downgrade_and_another_contract() {
    let mut s = Suite::new();
    let admin = s.app.api().addr_make("deployer");
    let code = s.verifier_code;

    cw2::set_contract_version(
        s.app.contract_storage_mut(&s.verifier).as_mut(),
        "crates.io:opg-receipt-verifier",
        "42.0.0",
    )
    .unwrap();
    let err = s
        .app
        .migrate_contract(admin.clone(), s.verifier.clone(), &MigrateMsg {}, code)
        .unwrap_err();
    assert_eq!(
        contract_error(err),
        ContractError::Downgrade {
            stored: "42.0.0".to_string(),
            current: env!("CARGO_PKG_VERSION").to_string()
        }
    );

    cw2::set_contract_version(
        s.app.contract_storage_mut(&s.verifier).as_mut(),
        "crates.io:opg-reward-pool",
        "0.1.0",
    )
    .unwrap();
    let err = s
        .app
        .migrate_contract(admin, s.verifier.clone(), &MigrateMsg {}, code)
        .unwrap_err();
    assert_eq!(
        contract_error(err),
        ContractError::WrongContract {
            expected: "crates.io:opg-receipt-verifier".to_string(),
            found: "crates.io:opg-reward-pool".to_string()
        }
    );
}
