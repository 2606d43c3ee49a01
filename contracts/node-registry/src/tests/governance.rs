//! Governance execute messages.
use cosmwasm_std::{coins, Binary, Decimal, Uint128};
use cw_utils::PaymentError;
use opg_core::msg::registry::{
    AddAttesterMsg, AddModelMsg, DeregisterMsg, JailMsg, RemoveAttesterMsg, RemoveModelMsg,
    SlashMsg, UnjailMsg, UpdateConfigMsg,
};
use opg_core::msg::registry::{
    AttestersResponse, ConfigResponse, ExecuteMsg, ModelInfo, NodesResponse,
};
use opg_core::types::NodeStatus;

use super::*;
use crate::state::{
    DEFAULT_MAX_ATTESTATION_VALIDITY, MAX_MAX_ATTESTATION_VALIDITY, MAX_UNBONDING_PERIOD,
};

/// Every governance message, with valid arguments for a suite with node `proxy`.
pub fn all_governance_msgs(suite: &Suite) -> Vec<ExecuteMsg> {
    vec![
        ExecuteMsg::AddModel(AddModelMsg {
            id: "x/new".to_string(),
            provenance: Provenance::Community,
            weights_digest: None,
        }),
        ExecuteMsg::RemoveModel(RemoveModelMsg {
            id: GPT.to_string(),
        }),
        ExecuteMsg::AddAttester(AddAttesterMsg {
            address: "0x3333333333333333333333333333333333333333".to_string(),
        }),
        ExecuteMsg::RemoveAttester(RemoveAttesterMsg {
            address: suite.attester.address(),
        }),
        ExecuteMsg::Jail(JailMsg {
            node_id: "proxy".to_string(),
            reason: "r".to_string(),
        }),
        ExecuteMsg::Unjail(UnjailMsg {
            node_id: "proxy".to_string(),
        }),
        ExecuteMsg::Slash(SlashMsg {
            node_id: "proxy".to_string(),
            fraction: Decimal::percent(10),
        }),
        ExecuteMsg::UpdateConfig(UpdateConfigMsg {
            governance: Some(suite.addr("op1").to_string()),
            ..Default::default()
        }),
    ]
}

#[test]
fn every_governance_message_refuses_other_senders() {
    let mut suite = Suite::new();
    let op = suite.addr("op1");
    suite.register_proxy(&op, "proxy");
    suite
        .gov_exec(&ExecuteMsg::Jail(JailMsg {
            node_id: "proxy".to_string(),
            reason: "so that Unjail would succeed".to_string(),
        }))
        .unwrap();
    for msg in all_governance_msgs(&suite) {
        let err = suite.exec(&op, &msg, &[]).unwrap_err();
        assert_eq!(
            err,
            ContractError::Unauthorized { sender: op.clone() },
            "{msg:?}"
        );
    }
    // Nothing changed.
    assert_eq!(suite.node("proxy").bond, Uint128::new(MIN_BOND));
    assert_eq!(suite.node("proxy").status, NodeStatus::Jailed);
}

#[test]
fn governance_messages_refuse_funds() {
    let mut suite = Suite::new();
    let gov = suite.gov.clone();
    // Give governance some funds to attach.
    let op = suite.addr("op1");
    suite
        .app
        .send_tokens(op, gov.clone(), &coins(10, DENOM))
        .unwrap();
    let err = suite
        .exec(
            &gov,
            &ExecuteMsg::RemoveModel(RemoveModelMsg {
                id: GPT.to_string(),
            }),
            &coins(10, DENOM),
        )
        .unwrap_err();
    assert_eq!(err, ContractError::Payment(PaymentError::NonPayable {}));
}

#[test]
fn add_model_and_replace() {
    let mut suite = Suite::new();
    let digest = Binary::from(vec![9u8; 32]);
    let res = suite
        .gov_exec(&ExecuteMsg::AddModel(AddModelMsg {
            id: "mistral/mistral-7b".to_string(),
            provenance: Provenance::Community,
            weights_digest: Some(digest.clone()),
        }))
        .unwrap();
    assert_eq!(wasm_attr(&res, "action").as_deref(), Some("add_model"));
    let model: ModelInfo = suite
        .query(&QueryMsg::Model {
            id: "mistral/mistral-7b".to_string(),
        })
        .unwrap();
    assert_eq!(
        model,
        ModelInfo {
            id: "mistral/mistral-7b".to_string(),
            provenance: Provenance::Community,
            weights_digest: Some(digest),
        }
    );
    // Replacing changes the provenance.
    suite
        .gov_exec(&ExecuteMsg::AddModel(AddModelMsg {
            id: "mistral/mistral-7b".to_string(),
            provenance: Provenance::Commercial,
            weights_digest: None,
        }))
        .unwrap();
    let model: ModelInfo = suite
        .query(&QueryMsg::Model {
            id: "mistral/mistral-7b".to_string(),
        })
        .unwrap();
    assert_eq!(model.provenance, Provenance::Commercial);
    assert_eq!(model.weights_digest, None);
}

#[test]
fn add_model_validates() {
    let mut suite = Suite::new();
    for id in [String::new(), "m".repeat(129)] {
        let err = suite
            .gov_exec(&ExecuteMsg::AddModel(AddModelMsg {
                id: id.clone(),
                provenance: Provenance::Commercial,
                weights_digest: None,
            }))
            .unwrap_err();
        assert_eq!(err, ContractError::InvalidModelId { id });
    }
    suite
        .gov_exec(&ExecuteMsg::AddModel(AddModelMsg {
            id: "m".repeat(128),
            provenance: Provenance::Commercial,
            weights_digest: None,
        }))
        .unwrap();
    let err = suite
        .gov_exec(&ExecuteMsg::AddModel(AddModelMsg {
            id: "x/y".to_string(),
            provenance: Provenance::Community,
            weights_digest: Some(Binary::from(vec![1u8; 31])),
        }))
        .unwrap_err();
    assert_eq!(err, ContractError::InvalidWeightsDigest { len: 31 });
}

#[test]
fn remove_model() {
    let mut suite = Suite::new();
    let op = suite.addr("op1");
    suite.register_proxy(&op, "proxy");
    let res = suite
        .gov_exec(&ExecuteMsg::RemoveModel(RemoveModelMsg {
            id: GPT.to_string(),
        }))
        .unwrap();
    assert_eq!(wasm_attr(&res, "action").as_deref(), Some("remove_model"));
    let err = suite
        .query::<ModelInfo>(&QueryMsg::Model {
            id: GPT.to_string(),
        })
        .unwrap_err();
    assert!(err.to_string().contains("not found"), "{err}");
    // Nodes keep listing it; new registrations cannot.
    assert_eq!(suite.node("proxy").models, vec![GPT.to_string()]);
    let signer = opg_core::sign::NodeSigner::derive(b"gov", "p2", false);
    let err = suite
        .exec(
            &op,
            &proxy_msg("proxy-2", signer.key(), vec![GPT]),
            &coins(MIN_BOND, DENOM),
        )
        .unwrap_err();
    assert!(
        matches!(err, ContractError::ModelNotAllowed { .. }),
        "{err:?}"
    );

    let err = suite
        .gov_exec(&ExecuteMsg::RemoveModel(RemoveModelMsg {
            id: GPT.to_string(),
        }))
        .unwrap_err();
    assert_eq!(
        err,
        ContractError::ModelNotFound {
            id: GPT.to_string()
        }
    );
}

#[test]
fn add_and_remove_attester_lowercase() {
    let mut suite = Suite::new();
    let res = suite
        .gov_exec(&ExecuteMsg::AddAttester(AddAttesterMsg {
            address: "0xABCDEF0000000000000000000000000000000001".to_string(),
        }))
        .unwrap();
    assert_eq!(wasm_attr(&res, "action").as_deref(), Some("add_attester"));
    let page: AttestersResponse = suite
        .query(&QueryMsg::Attesters {
            start_after: None,
            limit: None,
        })
        .unwrap();
    let mut expected = vec![
        "0xabcdef0000000000000000000000000000000001".to_string(),
        suite.attester.address(),
    ];
    expected.sort();
    assert_eq!(page.attesters, expected);

    let res = suite
        .gov_exec(&ExecuteMsg::RemoveAttester(RemoveAttesterMsg {
            address: "0xAbCdEf0000000000000000000000000000000001".to_string(),
        }))
        .unwrap();
    assert_eq!(
        wasm_attr(&res, "action").as_deref(),
        Some("remove_attester")
    );
    let page: AttestersResponse = suite
        .query(&QueryMsg::Attesters {
            start_after: None,
            limit: None,
        })
        .unwrap();
    assert_eq!(page.attesters, vec![suite.attester.address()]);

    let err = suite
        .gov_exec(&ExecuteMsg::RemoveAttester(RemoveAttesterMsg {
            address: "0xabcdef0000000000000000000000000000000001".to_string(),
        }))
        .unwrap_err();
    assert_eq!(
        err,
        ContractError::AttesterNotFound {
            address: "0xabcdef0000000000000000000000000000000001".to_string()
        }
    );
    for bad in ["0x12", "cosmos1xyz"] {
        let err = suite
            .gov_exec(&ExecuteMsg::AddAttester(AddAttesterMsg {
                address: bad.to_string(),
            }))
            .unwrap_err();
        assert_eq!(
            err,
            ContractError::InvalidAddress {
                field: "address".to_string()
            }
        );
        let err = suite
            .gov_exec(&ExecuteMsg::RemoveAttester(RemoveAttesterMsg {
                address: bad.to_string(),
            }))
            .unwrap_err();
        assert!(
            matches!(err, ContractError::InvalidAddress { .. }),
            "{err:?}"
        );
    }
}

#[test]
fn jail_and_unjail() {
    let mut suite = Suite::new();
    let op = suite.addr("op1");
    suite.register_local(&op, "local");
    let res = suite
        .gov_exec(&ExecuteMsg::Jail(JailMsg {
            node_id: "local".to_string(),
            reason: "wash trading".to_string(),
        }))
        .unwrap();
    assert_eq!(wasm_attr(&res, "action").as_deref(), Some("jail"));
    assert_eq!(wasm_attr(&res, "node_id").as_deref(), Some("local"));
    assert_eq!(wasm_attr(&res, "reason").as_deref(), Some("wash trading"));
    let node = suite.node("local");
    assert_eq!(node.status, NodeStatus::Jailed);
    assert_eq!(node.jail_reason.as_deref(), Some("wash trading"));

    let err = suite
        .gov_exec(&ExecuteMsg::Jail(JailMsg {
            node_id: "local".to_string(),
            reason: "again".to_string(),
        }))
        .unwrap_err();
    assert_eq!(
        err,
        ContractError::NodeJailed {
            node_id: "local".to_string()
        }
    );

    let res = suite
        .gov_exec(&ExecuteMsg::Unjail(UnjailMsg {
            node_id: "local".to_string(),
        }))
        .unwrap();
    assert_eq!(wasm_attr(&res, "action").as_deref(), Some("unjail"));
    let node = suite.node("local");
    assert_eq!(node.status, NodeStatus::Active);
    assert_eq!(node.jail_reason, None);

    let err = suite
        .gov_exec(&ExecuteMsg::Unjail(UnjailMsg {
            node_id: "local".to_string(),
        }))
        .unwrap_err();
    assert_eq!(
        err,
        ContractError::NotJailed {
            node_id: "local".to_string()
        }
    );
}

#[test]
fn jail_errors() {
    let mut suite = Suite::new();
    let op = suite.addr("op1");
    suite.register_proxy(&op, "proxy");
    let err = suite
        .gov_exec(&ExecuteMsg::Jail(JailMsg {
            node_id: "ghost".to_string(),
            reason: "r".to_string(),
        }))
        .unwrap_err();
    assert!(matches!(err, ContractError::NodeNotFound { .. }), "{err:?}");
    let err = suite
        .gov_exec(&ExecuteMsg::Unjail(UnjailMsg {
            node_id: "ghost".to_string(),
        }))
        .unwrap_err();
    assert!(matches!(err, ContractError::NodeNotFound { .. }), "{err:?}");
    let err = suite
        .gov_exec(&ExecuteMsg::Jail(JailMsg {
            node_id: "proxy".to_string(),
            reason: String::new(),
        }))
        .unwrap_err();
    assert!(
        matches!(&err, ContractError::InvalidField { field, .. } if field == "reason"),
        "{err:?}"
    );
}

#[test]
fn slash_rounds_down_and_funds_the_pool() {
    let mut suite = Suite::new();
    let op = suite.addr("op1");
    let signer = opg_core::sign::NodeSigner::derive(b"gov", "odd", false);
    suite
        .exec(
            &op,
            &proxy_msg("odd", signer.key(), vec![GPT]),
            &coins(1_001, DENOM),
        )
        .unwrap();
    // 1001 * 0.333 = 333.333 -> 333
    let res = suite
        .gov_exec(&ExecuteMsg::Slash(SlashMsg {
            node_id: "odd".to_string(),
            fraction: Decimal::permille(333),
        }))
        .unwrap();
    assert_eq!(wasm_attr(&res, "action").as_deref(), Some("slash"));
    assert_eq!(wasm_attr(&res, "amount").as_deref(), Some("333"));
    assert_eq!(wasm_attr(&res, "node_id").as_deref(), Some("odd"));
    assert_eq!(suite.node("odd").bond, Uint128::new(668));
    assert_eq!(suite.balance(&suite.pool.clone()), 333);
    assert_eq!(suite.balance(&suite.registry.clone()), 668);
    // The mock pool saw a `Fund {}` with the funds.
    assert!(res
        .events
        .iter()
        .any(|e| e.ty == "wasm" && e.attributes.iter().any(|a| a.value == "fund")));

    // 668 * 0.5 = 334 exactly.
    suite
        .gov_exec(&ExecuteMsg::Slash(SlashMsg {
            node_id: "odd".to_string(),
            fraction: Decimal::percent(50),
        }))
        .unwrap();
    assert_eq!(suite.node("odd").bond, Uint128::new(334));
    assert_eq!(suite.balance(&suite.pool.clone()), 667);

    // A fraction too small for one unit slashes nothing and sends nothing.
    let res = suite
        .gov_exec(&ExecuteMsg::Slash(SlashMsg {
            node_id: "odd".to_string(),
            fraction: Decimal::permille(2),
        }))
        .unwrap();
    assert_eq!(wasm_attr(&res, "amount").as_deref(), Some("0"));
    assert_eq!(suite.node("odd").bond, Uint128::new(334));
    assert_eq!(suite.balance(&suite.pool.clone()), 667);

    // The whole bond.
    suite
        .gov_exec(&ExecuteMsg::Slash(SlashMsg {
            node_id: "odd".to_string(),
            fraction: Decimal::one(),
        }))
        .unwrap();
    assert_eq!(suite.node("odd").bond, Uint128::zero());
    assert_eq!(suite.balance(&suite.pool.clone()), 1_001);
    assert_eq!(suite.balance(&suite.registry.clone()), 0);
    // The node stays registered; slashing does not change its status.
    assert_eq!(suite.node("odd").status, NodeStatus::Active);
}

#[test]
fn slash_errors() {
    let mut suite = Suite::without_pool();
    let op = suite.addr("op1");
    suite.register_proxy(&op, "proxy");
    for fraction in [Decimal::zero(), Decimal::percent(101)] {
        let err = suite
            .gov_exec(&ExecuteMsg::Slash(SlashMsg {
                node_id: "proxy".to_string(),
                fraction,
            }))
            .unwrap_err();
        assert_eq!(err, ContractError::InvalidFraction { fraction });
    }
    let err = suite
        .gov_exec(&ExecuteMsg::Slash(SlashMsg {
            node_id: "ghost".to_string(),
            fraction: Decimal::percent(10),
        }))
        .unwrap_err();
    assert!(matches!(err, ContractError::NodeNotFound { .. }), "{err:?}");
    let err = suite
        .gov_exec(&ExecuteMsg::Slash(SlashMsg {
            node_id: "proxy".to_string(),
            fraction: Decimal::percent(10),
        }))
        .unwrap_err();
    assert_eq!(err, ContractError::NoRewardPool {});
    assert_eq!(suite.node("proxy").bond, Uint128::new(MIN_BOND));

    // Once a pool is configured, it works.
    let pool = suite.pool.to_string();
    suite
        .gov_exec(&ExecuteMsg::UpdateConfig(UpdateConfigMsg {
            reward_pool: Some(pool),
            ..Default::default()
        }))
        .unwrap();
    suite
        .gov_exec(&ExecuteMsg::Slash(SlashMsg {
            node_id: "proxy".to_string(),
            fraction: Decimal::percent(10),
        }))
        .unwrap();
    assert_eq!(suite.balance(&suite.pool.clone()), 100);
}

#[test]
fn update_config() {
    let mut suite = Suite::new();
    let new_gov = suite.addr("new-gov");
    let new_pool = suite.addr("new-pool");
    let res = suite
        .gov_exec(&ExecuteMsg::UpdateConfig(UpdateConfigMsg {
            governance: Some(new_gov.to_string()),
            min_bond: Some(Uint128::new(2 * MIN_BOND)),
            unbonding_period: Some(UNBONDING / 2),
            reward_pool: Some(new_pool.to_string()),
            max_attestation_validity: Some(DEFAULT_MAX_ATTESTATION_VALIDITY / 2),
        }))
        .unwrap();
    assert_eq!(wasm_attr(&res, "action").as_deref(), Some("update_config"));
    let config: ConfigResponse = suite.query(&QueryMsg::Config {}).unwrap();
    assert_eq!(
        config,
        ConfigResponse {
            governance: new_gov.clone(),
            bond_denom: DENOM.to_string(),
            min_bond: Uint128::new(2 * MIN_BOND),
            unbonding_period: UNBONDING / 2,
            reward_pool: Some(new_pool),
            max_attestation_validity: DEFAULT_MAX_ATTESTATION_VALIDITY / 2,
        }
    );
    // The old governance lost its rights, the new one has them.
    let err = suite
        .gov_exec(&ExecuteMsg::RemoveModel(RemoveModelMsg {
            id: GPT.to_string(),
        }))
        .unwrap_err();
    assert!(matches!(err, ContractError::Unauthorized { .. }), "{err:?}");
    suite
        .exec(
            &new_gov,
            &ExecuteMsg::RemoveModel(RemoveModelMsg {
                id: GPT.to_string(),
            }),
            &[],
        )
        .unwrap();
    // The new min bond applies to registrations.
    let op = suite.addr("op1");
    let signer = opg_core::sign::NodeSigner::derive(b"gov", "cfg", false);
    let err = suite
        .exec(
            &op,
            &proxy_msg("cfg", signer.key(), vec![CLAUDE]),
            &coins(MIN_BOND, DENOM),
        )
        .unwrap_err();
    assert!(matches!(err, ContractError::BondTooLow { .. }), "{err:?}");
    // The new unbonding period applies to deregistrations.
    suite
        .exec(
            &op,
            &proxy_msg("cfg", signer.key(), vec![CLAUDE]),
            &coins(5_000, DENOM),
        )
        .unwrap();
    suite
        .exec(
            &op,
            &ExecuteMsg::Deregister(DeregisterMsg {
                node_id: "cfg".to_string(),
            }),
            &[],
        )
        .unwrap();
    assert_eq!(
        suite.node("cfg").unbonding_ends,
        Some(suite.now() + UNBONDING / 2)
    );
}

#[test]
fn update_config_validates() {
    let mut suite = Suite::new();
    let err = suite
        .gov_exec(&ExecuteMsg::UpdateConfig(UpdateConfigMsg {
            unbonding_period: Some(0),
            ..Default::default()
        }))
        .unwrap_err();
    assert!(
        matches!(err, ContractError::ConfigOutOfBounds { .. }),
        "{err:?}"
    );
    let err = suite
        .gov_exec(&ExecuteMsg::UpdateConfig(UpdateConfigMsg {
            governance: Some("Not An Address".to_string()),
            ..Default::default()
        }))
        .unwrap_err();
    assert!(matches!(err, ContractError::Std(_)), "{err:?}");
    let err = suite
        .gov_exec(&ExecuteMsg::UpdateConfig(UpdateConfigMsg {
            reward_pool: Some("pool".to_string()),
            ..Default::default()
        }))
        .unwrap_err();
    assert!(matches!(err, ContractError::Std(_)), "{err:?}");
    let config: ConfigResponse = suite.query(&QueryMsg::Config {}).unwrap();
    assert_eq!(config.governance, suite.gov);
    assert_eq!(config.unbonding_period, UNBONDING);
}

/// Every number governance sets moves at most x2 or /2 per change, within its absolute bounds;
/// a refused change leaves the config as it was.
#[test]
fn update_config_numbers_move_one_bounded_step_at_a_time() {
    let mut suite = Suite::new();
    let update = |f: fn(&mut UpdateConfigMsg)| {
        let mut m = UpdateConfigMsg::default();
        f(&mut m);
        ExecuteMsg::UpdateConfig(m)
    };
    let out_of_bounds = |err: ContractError, param: &str| match err {
        ContractError::ConfigOutOfBounds { param: p, .. } => assert_eq!(p, param),
        other => panic!("expected ConfigOutOfBounds for {param}, got {other:?}"),
    };
    // One step too far, each way, for each number.
    for (msg, param) in [
        (
            update(|m| m.min_bond = Some(Uint128::new(2 * MIN_BOND + 1))),
            "min_bond",
        ),
        (
            update(|m| m.min_bond = Some(Uint128::new(MIN_BOND / 2 - 1))),
            "min_bond",
        ),
        (
            update(|m| m.unbonding_period = Some(2 * UNBONDING + 1)),
            "unbonding_period",
        ),
        (
            update(|m| m.unbonding_period = Some(UNBONDING / 2 - 1)),
            "unbonding_period",
        ),
        (
            update(|m| m.max_attestation_validity = Some(2 * DEFAULT_MAX_ATTESTATION_VALIDITY + 1)),
            "max_attestation_validity",
        ),
        (
            update(|m| m.max_attestation_validity = Some(DEFAULT_MAX_ATTESTATION_VALIDITY / 2 - 1)),
            "max_attestation_validity",
        ),
    ] {
        out_of_bounds(suite.gov_exec(&msg).unwrap_err(), param);
    }
    let before: ConfigResponse = suite.query(&QueryMsg::Config {}).unwrap();
    assert_eq!(before.min_bond, Uint128::new(MIN_BOND));
    assert_eq!(before.unbonding_period, UNBONDING);
    assert_eq!(
        before.max_attestation_validity,
        DEFAULT_MAX_ATTESTATION_VALIDITY
    );

    // Exactly one step is allowed, and the next step is measured from the new value.
    suite
        .gov_exec(&update(|m| {
            m.min_bond = Some(Uint128::new(2 * MIN_BOND));
            m.unbonding_period = Some(2 * UNBONDING);
            m.max_attestation_validity = Some(2 * DEFAULT_MAX_ATTESTATION_VALIDITY);
        }))
        .unwrap();
    suite
        .gov_exec(&update(|m| m.min_bond = Some(Uint128::new(4 * MIN_BOND))))
        .unwrap();
    // Absolute bounds hold even within a step: 730 days is the longest attestation validity,
    // 365 days the longest unbonding period.
    out_of_bounds(
        suite
            .gov_exec(&update(|m| {
                m.max_attestation_validity = Some(MAX_MAX_ATTESTATION_VALIDITY + 1)
            }))
            .unwrap_err(),
        "max_attestation_validity",
    );
    for _ in 0..5 {
        let current: ConfigResponse = suite.query(&QueryMsg::Config {}).unwrap();
        let next = (current.unbonding_period * 2).min(MAX_UNBONDING_PERIOD);
        let m = UpdateConfigMsg {
            unbonding_period: Some(next),
            ..Default::default()
        };
        suite.gov_exec(&ExecuteMsg::UpdateConfig(m)).unwrap();
    }
    let config: ConfigResponse = suite.query(&QueryMsg::Config {}).unwrap();
    assert_eq!(config.unbonding_period, MAX_UNBONDING_PERIOD);
    out_of_bounds(
        suite
            .gov_exec(&update(|m| {
                m.unbonding_period = Some(MAX_UNBONDING_PERIOD + 1)
            }))
            .unwrap_err(),
        "unbonding_period",
    );
    // Chain governance (sudo) is bounded the same way.
    out_of_bounds(
        suite
            .sudo(&SudoMsg::UpdateConfig(UpdateConfigMsg {
                min_bond: Some(Uint128::new(100 * MIN_BOND)),
                ..Default::default()
            }))
            .unwrap_err(),
        "min_bond",
    );
}

#[test]
fn jailed_nodes_show_in_status_filter() {
    let mut suite = Suite::new();
    let op = suite.addr("op1");
    suite.register_proxy(&op, "a-node");
    suite.register_proxy(&op, "b-node");
    suite
        .gov_exec(&ExecuteMsg::Jail(JailMsg {
            node_id: "b-node".to_string(),
            reason: "r".to_string(),
        }))
        .unwrap();
    let page: NodesResponse = suite
        .query(&QueryMsg::Nodes {
            kind: None,
            status: Some(NodeStatus::Jailed),
            start_after: None,
            limit: None,
        })
        .unwrap();
    let ids: Vec<_> = page.nodes.iter().map(|n| n.node_id.as_str()).collect();
    assert_eq!(ids, vec!["b-node"]);
}
