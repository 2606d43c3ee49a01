//! `instantiate` and the `Config` query.
use cosmwasm_std::{coins, Uint128};
use cw_multi_test::{App, ContractWrapper, Executor};
use opg_core::msg::registry::{ConfigResponse, InstantiateMsg, QueryMsg};

use super::*;
use crate::contract::{CONTRACT_NAME, CONTRACT_VERSION};

fn try_instantiate(app: &mut App, msg: InstantiateMsg) -> Result<Addr, ContractError> {
    let code_id = app.store_code(Box::new(ContractWrapper::new(execute, instantiate, query)));
    let sender = app.api().addr_make("deployer");
    app.instantiate_contract(code_id, sender, &msg, &[], "registry", None)
        .map_err(|e| e.downcast::<ContractError>().unwrap())
}

fn valid_msg(app: &App) -> InstantiateMsg {
    InstantiateMsg {
        governance: app.api().addr_make("gov").to_string(),
        bond_denom: DENOM.to_string(),
        min_bond: Uint128::new(MIN_BOND),
        unbonding_period: UNBONDING,
        reward_pool: None,
        max_attestation_validity: None,
    }
}

#[test]
fn instantiate_stores_config_and_version() {
    let suite = Suite::new();
    let config: ConfigResponse = suite.query(&QueryMsg::Config {}).unwrap();
    assert_eq!(
        config,
        ConfigResponse {
            governance: suite.gov.clone(),
            bond_denom: DENOM.to_string(),
            min_bond: Uint128::new(MIN_BOND),
            unbonding_period: UNBONDING,
            reward_pool: Some(suite.pool.clone()),
            max_attestation_validity: crate::state::DEFAULT_MAX_ATTESTATION_VALIDITY,
        }
    );
    let version = cw2::query_contract_info(&suite.app.wrap(), &suite.registry).unwrap();
    assert_eq!(version.contract, CONTRACT_NAME);
    assert_eq!(version.version, CONTRACT_VERSION);
}

#[test]
fn instantiate_without_pool() {
    let suite = Suite::without_pool();
    let config: ConfigResponse = suite.query(&QueryMsg::Config {}).unwrap();
    assert_eq!(config.reward_pool, None);
}

#[test]
fn instantiate_rejects_invalid_governance() {
    let mut app = App::default();
    let msg = InstantiateMsg {
        governance: "not-an-address".to_string(),
        ..valid_msg(&app)
    };
    let err = try_instantiate(&mut app, msg).unwrap_err();
    assert!(matches!(err, ContractError::Std(_)), "{err:?}");
}

#[test]
fn instantiate_rejects_invalid_reward_pool() {
    let mut app = App::default();
    let msg = InstantiateMsg {
        reward_pool: Some("Pool".to_string()),
        ..valid_msg(&app)
    };
    let err = try_instantiate(&mut app, msg).unwrap_err();
    assert!(matches!(err, ContractError::Std(_)), "{err:?}");
}

#[test]
fn instantiate_rejects_empty_denom() {
    let mut app = App::default();
    let msg = InstantiateMsg {
        bond_denom: String::new(),
        ..valid_msg(&app)
    };
    let err = try_instantiate(&mut app, msg).unwrap_err();
    assert!(
        matches!(err, ContractError::InvalidConfig { .. }),
        "{err:?}"
    );
}

#[test]
fn instantiate_rejects_zero_unbonding_period() {
    let mut app = App::default();
    let msg = InstantiateMsg {
        unbonding_period: 0,
        ..valid_msg(&app)
    };
    let err = try_instantiate(&mut app, msg).unwrap_err();
    assert!(
        matches!(err, ContractError::ConfigOutOfBounds { .. }),
        "{err:?}"
    );
}

#[test]
fn instantiate_bounds_max_attestation_validity() {
    let mut app = App::default();
    for bad in [86_399, 730 * 86_400 + 1] {
        let msg = InstantiateMsg {
            max_attestation_validity: Some(bad),
            ..valid_msg(&app)
        };
        let err = try_instantiate(&mut app, msg).unwrap_err();
        assert!(
            matches!(&err, ContractError::ConfigOutOfBounds { param, .. } if param == "max_attestation_validity"),
            "{err:?}"
        );
    }
    let msg = InstantiateMsg {
        max_attestation_validity: Some(86_400),
        ..valid_msg(&app)
    };
    try_instantiate(&mut app, msg).unwrap();
}

#[test]
fn instantiate_rejects_funds() {
    let deployer = App::default().api().addr_make("deployer");
    let mut app = AppBuilder::new().build(|router, _, storage| {
        router
            .bank
            .init_balance(storage, &deployer, coins(10, DENOM))
            .unwrap();
    });
    let code_id = app.store_code(Box::new(ContractWrapper::new(execute, instantiate, query)));
    let msg = valid_msg(&app);
    let err = app
        .instantiate_contract(code_id, deployer, &msg, &coins(10, DENOM), "r", None)
        .unwrap_err()
        .downcast::<ContractError>()
        .unwrap();
    assert!(matches!(err, ContractError::Payment(_)), "{err:?}");
}
