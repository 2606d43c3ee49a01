//! Strict messages: a field the registry does not know is refused with an error naming it, and
//! the wire shape (`{"variant":{...}}`) is the one clients always sent.
use cosmwasm_std::coins;
use cw_multi_test::Executor;
use serde_json::json;

use super::*;

/// The error with its causes (the parse error is the root cause).
fn root(err: impl std::fmt::Debug) -> String {
    format!("{err:?}")
}

#[test]
fn unknown_fields_are_refused_with_an_error_naming_them() {
    let mut suite = Suite::new();
    let op = suite.addr("op1");
    suite.register_proxy(&op, "proxy");
    let registry = suite.registry.clone();

    // An operator message with a stray field.
    let err = suite
        .app
        .execute_contract(
            op.clone(),
            registry.clone(),
            &json!({"deregister": {"node_id": "proxy", "extra": 1}}),
            &[],
        )
        .unwrap_err();
    assert!(root(err).contains("unknown field `extra`"));
    assert_eq!(
        suite.node("proxy").status,
        opg_core::types::NodeStatus::Active
    );

    // A misspelled field in `Register` (`endpiont`) is named, not ignored.
    let signer = NodeSigner::derive(b"strict", "typo", false);
    let mut register = serde_json::to_value(proxy_msg("typo", signer.key(), vec![GPT])).unwrap();
    let body = register["register"].as_object_mut().unwrap();
    let endpoint = body.remove("endpoint").unwrap();
    body.insert("endpiont".to_string(), endpoint);
    let err = suite
        .app
        .execute_contract(
            op.clone(),
            registry.clone(),
            &register,
            &coins(MIN_BOND, DENOM),
        )
        .unwrap_err();
    assert!(root(err).contains("unknown field `endpiont`"));

    // Governance messages, through execute and through sudo.
    let gov = suite.gov.clone();
    let err = suite
        .app
        .execute_contract(
            gov,
            registry.clone(),
            &json!({"update_config": {"min_bond": "2000", "max_bond": "1"}}),
            &[],
        )
        .unwrap_err();
    assert!(root(err).contains("unknown field `max_bond`"));
    let err = suite
        .app
        .wasm_sudo(
            registry.clone(),
            &json!({"jail": {"node_id": "proxy", "reason": "r", "until": 5}}),
        )
        .unwrap_err();
    assert!(root(err).contains("unknown field `until`"));
    assert_eq!(
        suite.node("proxy").status,
        opg_core::types::NodeStatus::Active
    );

    // The same messages without the stray fields are the wire shape clients send, and work.
    suite
        .app
        .execute_contract(
            op,
            registry,
            &json!({"deregister": {"node_id": "proxy"}}),
            &[],
        )
        .unwrap();
    assert_eq!(
        suite.node("proxy").status,
        opg_core::types::NodeStatus::Unbonding
    );
}

#[test]
fn the_wire_shape_of_every_message_is_unchanged() {
    let msg = ExecuteMsg::Deregister(opg_core::msg::registry::DeregisterMsg {
        node_id: "n".to_string(),
    });
    assert_eq!(
        serde_json::to_value(&msg).unwrap(),
        json!({"deregister": {"node_id": "n"}})
    );
    let msg = SudoMsg::Slash(opg_core::msg::registry::SlashMsg {
        node_id: "n".to_string(),
        fraction: cosmwasm_std::Decimal::percent(10),
    });
    assert_eq!(
        serde_json::to_value(&msg).unwrap(),
        json!({"slash": {"node_id": "n", "fraction": "0.1"}})
    );
}
