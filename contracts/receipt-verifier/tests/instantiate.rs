//! Instantiate: validation, clock read from the pool.
mod common;

use common::*;
use cosmwasm_std::Addr;
use cw_multi_test::{App, Executor};
use opg_core::epoch::EpochClock;
use opg_core::msg::verifier::{ConfigResponse, InstantiateMsg, QueryMsg};
use opg_core::types::{AssetConfig, NetworkConfig};
use receipt_verifier::ContractError;

struct Env {
    app: App,
    code: u64,
    msg: InstantiateMsg,
    deployer: Addr,
}

/// A pool (the suite's mock) reporting `epoch_length`, and a valid instantiate message.
fn env(epoch_length: u64) -> Env {
    let s = Suite::new();
    let mut app = s.app;
    let deployer = app.api().addr_make("deployer");
    // A second pool whose clock has the given epoch length: reuse the mock pool's code.
    let pool_code = app.contract_data(&s.pool).unwrap().code_id;
    let clock = EpochClock {
        genesis: 1_000,
        epoch_length,
        grace: 60,
    };
    let pool = app
        .instantiate_contract(
            pool_code,
            deployer.clone(),
            &MockPoolInit {
                clock,
                governance: s.governance.to_string(),
                registry: s.registry.to_string(),
            },
            &[],
            "pool2",
            None,
        )
        .unwrap();
    let code = app.store_code(verifier_contract());
    let msg = InstantiateMsg {
        governance: s.governance.to_string(),
        registry: s.registry.to_string(),
        reward_pool: pool.to_string(),
        networks: default_networks(),
        facilitators: vec![s.facilitator.address()],
        require_settlement: true,
        max_batch: 500,
    };
    Env {
        app,
        code,
        msg,
        deployer,
    }
}

fn instantiate(e: &mut Env, msg: &InstantiateMsg) -> Result<Addr, ContractError> {
    e.app
        .instantiate_contract(e.code, e.deployer.clone(), msg, &[], "verifier", None)
        .map_err(contract_error)
}

#[test]
fn reads_the_clock_from_the_pool_and_records_cw2() {
    let mut e = env(120);
    let msg = e.msg.clone();
    let addr = instantiate(&mut e, &msg).unwrap();
    let cfg: ConfigResponse = e
        .app
        .wrap()
        .query_wasm_smart(&addr, &QueryMsg::Config {})
        .unwrap();
    assert_eq!(
        cfg.clock,
        EpochClock {
            genesis: 1_000,
            epoch_length: 120,
            grace: 60
        }
    );
    assert_eq!(cfg.max_batch, 500);
    let version = cw2::query_contract_info(&e.app.wrap(), addr.to_string()).unwrap();
    assert_eq!(version.contract, "crates.io:opg-receipt-verifier");
    assert_eq!(version.version, env!("CARGO_PKG_VERSION"));
}

#[test]
fn refuses_a_pool_clock_without_epoch_length() {
    let mut e = env(0);
    let msg = e.msg.clone();
    assert_eq!(
        instantiate(&mut e, &msg).unwrap_err(),
        ContractError::InvalidClock {}
    );
}

#[test]
fn refuses_a_pool_that_does_not_answer() {
    let mut e = env(120);
    let mut msg = e.msg.clone();
    // The registry mock does not answer the pool's `Config {}`.
    msg.reward_pool = msg.registry.clone();
    assert!(matches!(
        instantiate(&mut e, &msg).unwrap_err(),
        ContractError::Std(_)
    ));
}

#[test]
fn validates_every_field() {
    let mut e = env(120);
    let base = e.msg.clone();

    let mut m = base.clone();
    m.governance = "not-an-address".to_string();
    assert!(matches!(
        instantiate(&mut e, &m).unwrap_err(),
        ContractError::Std(_)
    ));

    let mut m = base.clone();
    m.registry = "nope".to_string();
    assert!(matches!(
        instantiate(&mut e, &m).unwrap_err(),
        ContractError::Std(_)
    ));

    for max_batch in [0, 501] {
        let mut m = base.clone();
        m.max_batch = max_batch;
        assert_eq!(
            instantiate(&mut e, &m).unwrap_err(),
            ContractError::InvalidMaxBatch { max_batch }
        );
    }

    let mut m = base.clone();
    m.networks.push(m.networks[0].clone());
    assert_eq!(
        instantiate(&mut e, &m).unwrap_err(),
        ContractError::DuplicateChainId { chain_id: CHAIN_ID }
    );

    let mut m = base.clone();
    m.networks = vec![NetworkConfig {
        chain_id: 8453,
        name: "base".to_string(),
        assets: vec![AssetConfig {
            address: "0xnothex".to_string(),
            decimals: 6,
            eip712_name: None,
            eip712_version: None,
        }],
    }];
    assert_eq!(
        instantiate(&mut e, &m).unwrap_err(),
        ContractError::InvalidAssetAddress {
            chain_id: 8453,
            address: "0xnothex".to_string()
        }
    );

    let mut m = base.clone();
    m.networks[0].assets[0].decimals = 31;
    assert_eq!(
        instantiate(&mut e, &m).unwrap_err(),
        ContractError::InvalidDecimals {
            chain_id: CHAIN_ID,
            address: USDC.to_lowercase(),
            decimals: 31
        }
    );

    let mut m = base.clone();
    m.facilitators = vec!["0x12".to_string()];
    assert_eq!(
        instantiate(&mut e, &m).unwrap_err(),
        ContractError::InvalidFacilitator {
            address: "0x12".to_string()
        }
    );

    // The valid message still works after all that.
    instantiate(&mut e, &base).unwrap();
}
