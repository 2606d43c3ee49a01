//! `migrate` guards of the three contracts: same contract and same-or-newer version migrate;
//! another contract's state or a downgrade is refused, and the state is left untouched.
use cosmwasm_std::Addr;
use cw_multi_test::Executor;
use opg_integration_tests::{
    future_version_contract, root_error, FutureVersionMsg, Suite, SuiteBuilder,
};

/// cw2 name recorded by each contract.
const NAMES: [(&str, &str); 3] = [
    ("registry", "crates.io:opg-node-registry"),
    ("verifier", "crates.io:opg-receipt-verifier"),
    ("pool", "crates.io:opg-reward-pool"),
];

/// cw2 version of each contract's code (the pool is at 0.2, rewards v2).
fn version_of(which: &str) -> &'static str {
    match which {
        "registry" => node_registry::contract::CONTRACT_VERSION,
        "verifier" => receipt_verifier::state::CONTRACT_VERSION,
        _ => reward_pool::contract::CONTRACT_VERSION,
    }
}

fn contract_of(s: &Suite, which: &str) -> (Addr, u64) {
    match which {
        "registry" => (s.registry.clone(), s.code_ids.registry),
        "verifier" => (s.verifier.clone(), s.code_ids.verifier),
        _ => (s.pool.clone(), s.code_ids.pool),
    }
}

fn stored_version(s: &Suite, addr: &Addr) -> cw2::ContractVersion {
    cw2::query_contract_info(&s.app.wrap(), addr.to_string()).unwrap()
}

#[test]
fn migrate_to_the_same_code_keeps_name_and_version() {
    let mut s = SuiteBuilder::new().build();
    for (which, name) in NAMES {
        let (addr, code_id) = contract_of(&s, which);
        s.migrate(&addr, code_id).unwrap();
        let v = stored_version(&s, &addr);
        assert_eq!(v.contract, name);
        assert_eq!(v.version, version_of(which));
    }
    // The wired contracts still work after migration.
    assert_eq!(s.pool_config().verifier, Some(s.verifier.clone()));
}

#[test]
fn migrate_refuses_another_contracts_state() {
    let mut s = SuiteBuilder::new().build();
    // Registry state under pool code, pool state under verifier code, verifier state under
    // registry code.
    for (from, to) in [
        ("registry", "pool"),
        ("pool", "verifier"),
        ("verifier", "registry"),
    ] {
        let (addr, _) = contract_of(&s, from);
        let (_, code_id) = contract_of(&s, to);
        let before = stored_version(&s, &addr);
        let err = s.migrate(&addr, code_id).unwrap_err();
        let msg = root_error(&err);
        assert!(msg.contains(&before.contract), "{from} -> {to}: {msg}");
        assert_eq!(stored_version(&s, &addr), before);
    }
}

#[test]
fn migrate_refuses_a_downgrade() {
    let mut s = SuiteBuilder::new().build();
    let future_code = s.app.store_code(future_version_contract());
    for (which, name) in NAMES {
        // A contract whose cw2 record says it runs version 99.0.0 of `name`.
        let admin = s.governance.clone();
        let addr = s
            .app
            .instantiate_contract(
                future_code,
                admin.clone(),
                &FutureVersionMsg {
                    contract: name.to_string(),
                    version: "99.0.0".to_string(),
                },
                &[],
                "future",
                Some(admin.to_string()),
            )
            .unwrap();
        let (_, code_id) = contract_of(&s, which);
        let err = s.migrate(&addr, code_id).unwrap_err();
        let msg = root_error(&err);
        assert!(
            msg.contains("99.0.0") && msg.contains(version_of(which)),
            "{which}: {msg}"
        );
        assert_eq!(stored_version(&s, &addr).version, "99.0.0");

        // An older version of the same contract upgrades.
        let old = s
            .app
            .instantiate_contract(
                future_code,
                admin.clone(),
                &FutureVersionMsg {
                    contract: name.to_string(),
                    version: "0.0.1".to_string(),
                },
                &[],
                "past",
                Some(admin.to_string()),
            )
            .unwrap();
        s.migrate(&old, code_id).unwrap();
        assert_eq!(stored_version(&s, &old).version, version_of(which));
    }
}

#[test]
fn only_the_admin_migrates() {
    let mut s = SuiteBuilder::new().build();
    let stranger = s.addr("stranger");
    let err = s
        .app
        .migrate_contract(
            stranger,
            s.registry.clone(),
            &opg_core::msg::MigrateMsg {},
            s.code_ids.registry,
        )
        .unwrap_err();
    assert!(
        root_error(&err).contains("Only admin can migrate"),
        "{err:?}"
    );
    assert_eq!(
        stored_version(&s, &s.registry.clone()).contract,
        "crates.io:opg-node-registry"
    );
}
