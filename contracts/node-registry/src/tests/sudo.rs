//! `sudo`: chain governance runs the same handlers without a sender check.
use cosmwasm_std::{Decimal, Uint128};
use opg_core::msg::registry::{
    AddAttesterMsg, AddModelMsg, JailMsg, RemoveAttesterMsg, RemoveModelMsg, SlashMsg, UnjailMsg,
    UpdateConfigMsg,
};
use opg_core::msg::registry::{AttestersResponse, ConfigResponse, ModelInfo, SudoMsg};
use opg_core::types::NodeStatus;

use super::*;

#[test]
fn sudo_runs_every_governance_handler() {
    let mut suite = Suite::new();
    let op = suite.addr("op1");
    suite.register_proxy(&op, "proxy");

    let res = suite
        .sudo(&SudoMsg::AddModel(AddModelMsg {
            id: "x/new".to_string(),
            provenance: Provenance::Community,
            weights_digest: None,
        }))
        .unwrap();
    assert_eq!(wasm_attr(&res, "action").as_deref(), Some("add_model"));
    let model: ModelInfo = suite
        .query(&QueryMsg::Model {
            id: "x/new".to_string(),
        })
        .unwrap();
    assert_eq!(model.provenance, Provenance::Community);

    suite
        .sudo(&SudoMsg::RemoveModel(RemoveModelMsg {
            id: "x/new".to_string(),
        }))
        .unwrap();
    assert!(suite
        .query::<ModelInfo>(&QueryMsg::Model {
            id: "x/new".to_string()
        })
        .is_err());

    suite
        .sudo(&SudoMsg::AddAttester(AddAttesterMsg {
            address: "0x00000000000000000000000000000000000000AA".to_string(),
        }))
        .unwrap();
    suite
        .sudo(&SudoMsg::RemoveAttester(RemoveAttesterMsg {
            address: suite.attester.address(),
        }))
        .unwrap();
    let page: AttestersResponse = suite
        .query(&QueryMsg::Attesters {
            start_after: None,
            limit: None,
        })
        .unwrap();
    assert_eq!(
        page.attesters,
        vec!["0x00000000000000000000000000000000000000aa".to_string()]
    );

    let res = suite
        .sudo(&SudoMsg::Jail(JailMsg {
            node_id: "proxy".to_string(),
            reason: "chain vote".to_string(),
        }))
        .unwrap();
    assert_eq!(wasm_attr(&res, "action").as_deref(), Some("jail"));
    assert_eq!(suite.node("proxy").status, NodeStatus::Jailed);
    suite
        .sudo(&SudoMsg::Unjail(UnjailMsg {
            node_id: "proxy".to_string(),
        }))
        .unwrap();
    assert_eq!(suite.node("proxy").status, NodeStatus::Active);

    let res = suite
        .sudo(&SudoMsg::Slash(SlashMsg {
            node_id: "proxy".to_string(),
            fraction: Decimal::percent(15),
        }))
        .unwrap();
    assert_eq!(wasm_attr(&res, "amount").as_deref(), Some("150"));
    assert_eq!(suite.node("proxy").bond, Uint128::new(850));
    assert_eq!(suite.balance(&suite.pool.clone()), 150);

    let new_gov = suite.addr("council");
    suite
        .sudo(&SudoMsg::UpdateConfig(UpdateConfigMsg {
            governance: Some(new_gov.to_string()),
            min_bond: Some(Uint128::new(2 * MIN_BOND)),
            unbonding_period: Some(UNBONDING / 2),
            ..Default::default()
        }))
        .unwrap();
    let config: ConfigResponse = suite.query(&QueryMsg::Config {}).unwrap();
    assert_eq!(config.governance, new_gov);
    assert_eq!(config.min_bond, Uint128::new(2 * MIN_BOND));
    assert_eq!(config.unbonding_period, UNBONDING / 2);
    assert_eq!(config.reward_pool, Some(suite.pool.clone()));
}

#[test]
fn sudo_validates_like_execute() {
    let mut suite = Suite::without_pool();
    let op = suite.addr("op1");
    suite.register_proxy(&op, "proxy");
    let cases: Vec<(SudoMsg, ContractError)> = vec![
        (
            SudoMsg::AddModel(AddModelMsg {
                id: String::new(),
                provenance: Provenance::Commercial,
                weights_digest: None,
            }),
            ContractError::InvalidModelId { id: String::new() },
        ),
        (
            SudoMsg::RemoveModel(RemoveModelMsg {
                id: "nope".to_string(),
            }),
            ContractError::ModelNotFound {
                id: "nope".to_string(),
            },
        ),
        (
            SudoMsg::AddAttester(AddAttesterMsg {
                address: "nope".to_string(),
            }),
            ContractError::InvalidAddress {
                field: "address".to_string(),
            },
        ),
        (
            SudoMsg::RemoveAttester(RemoveAttesterMsg {
                address: "0x4444444444444444444444444444444444444444".to_string(),
            }),
            ContractError::AttesterNotFound {
                address: "0x4444444444444444444444444444444444444444".to_string(),
            },
        ),
        (
            SudoMsg::Jail(JailMsg {
                node_id: "ghost".to_string(),
                reason: "r".to_string(),
            }),
            ContractError::NodeNotFound {
                node_id: "ghost".to_string(),
            },
        ),
        (
            SudoMsg::Unjail(UnjailMsg {
                node_id: "proxy".to_string(),
            }),
            ContractError::NotJailed {
                node_id: "proxy".to_string(),
            },
        ),
        (
            SudoMsg::Slash(SlashMsg {
                node_id: "proxy".to_string(),
                fraction: Decimal::percent(50),
            }),
            ContractError::NoRewardPool {},
        ),
        (
            SudoMsg::UpdateConfig(UpdateConfigMsg {
                unbonding_period: Some(0),
                ..Default::default()
            }),
            ContractError::ConfigOutOfBounds {
                param: "unbonding_period".to_string(),
                reason: "0 s is outside 1..=31536000 s".to_string(),
            },
        ),
    ];
    for (msg, expected) in cases {
        let err = suite.sudo(&msg).unwrap_err();
        assert_eq!(err, expected, "{msg:?}");
    }
}
