//! `Deregister` and `WithdrawBond`.
use cosmwasm_std::{coins, Decimal, Uint128};
use cw_utils::PaymentError;
use opg_core::msg::registry::ExecuteMsg;
use opg_core::types::NodeStatus;

use super::*;

fn deregister(id: &str) -> ExecuteMsg {
    ExecuteMsg::Deregister {
        node_id: id.to_string(),
    }
}

fn withdraw(id: &str) -> ExecuteMsg {
    ExecuteMsg::WithdrawBond {
        node_id: id.to_string(),
    }
}

#[test]
fn deregister_starts_unbonding() {
    let mut suite = Suite::new();
    let op = suite.addr("op1");
    suite.register_local(&op, "local");
    let res = suite.exec(&op, &deregister("local"), &[]).unwrap();
    assert_eq!(wasm_attr(&res, "action").as_deref(), Some("deregister"));
    assert_eq!(wasm_attr(&res, "node_id").as_deref(), Some("local"));
    assert_eq!(wasm_attr(&res, "kind").as_deref(), Some("local"));
    let node = suite.node("local");
    assert_eq!(node.status, NodeStatus::Unbonding);
    assert_eq!(node.unbonding_ends, Some(suite.now() + UNBONDING));
}

#[test]
fn deregister_errors() {
    let mut suite = Suite::new();
    let op = suite.addr("op1");
    let stranger = suite.addr("op2");
    suite.register_proxy(&op, "proxy");
    let err = suite
        .exec(&stranger, &deregister("proxy"), &[])
        .unwrap_err();
    assert_eq!(
        err,
        ContractError::NotOperator {
            node_id: "proxy".to_string()
        }
    );
    let err = suite.exec(&op, &deregister("ghost"), &[]).unwrap_err();
    assert!(matches!(err, ContractError::NodeNotFound { .. }), "{err:?}");
    let err = suite
        .exec(&op, &deregister("proxy"), &coins(1, DENOM))
        .unwrap_err();
    assert_eq!(err, ContractError::Payment(PaymentError::NonPayable {}));

    suite
        .gov_exec(&ExecuteMsg::Jail {
            node_id: "proxy".to_string(),
            reason: "fake volume".to_string(),
        })
        .unwrap();
    let err = suite.exec(&op, &deregister("proxy"), &[]).unwrap_err();
    assert_eq!(
        err,
        ContractError::NodeJailed {
            node_id: "proxy".to_string()
        }
    );
    suite
        .gov_exec(&ExecuteMsg::Unjail {
            node_id: "proxy".to_string(),
        })
        .unwrap();
    suite.exec(&op, &deregister("proxy"), &[]).unwrap();
    let err = suite.exec(&op, &deregister("proxy"), &[]).unwrap_err();
    assert_eq!(
        err,
        ContractError::NodeUnbonding {
            node_id: "proxy".to_string()
        }
    );
}

#[test]
fn withdraw_bond_after_unbonding_pays_and_removes() {
    let mut suite = Suite::new();
    let op = suite.addr("op1");
    suite.register_proxy(&op, "proxy");
    assert_eq!(suite.balance(&op), START_BALANCE - MIN_BOND);
    suite.exec(&op, &deregister("proxy"), &[]).unwrap();
    let until = suite.node("proxy").unbonding_ends.unwrap();

    suite.advance(UNBONDING - 1);
    let err = suite.exec(&op, &withdraw("proxy"), &[]).unwrap_err();
    assert_eq!(err, ContractError::StillUnbonding { until });

    suite.advance(1);
    let res = suite.exec(&op, &withdraw("proxy"), &[]).unwrap();
    assert_eq!(wasm_attr(&res, "action").as_deref(), Some("withdraw_bond"));
    assert_eq!(wasm_attr(&res, "amount"), Some(MIN_BOND.to_string()));
    assert_eq!(wasm_attr(&res, "operator"), Some(op.to_string()));
    assert_eq!(suite.balance(&op), START_BALANCE);
    assert_eq!(suite.balance(&suite.registry.clone()), 0);
    let err = suite
        .query::<opg_core::msg::registry::NodeInfo>(&QueryMsg::Node {
            node_id: "proxy".to_string(),
        })
        .unwrap_err();
    assert!(err.to_string().contains("node proxy not found"), "{err}");
    // The id is free again.
    suite.register_proxy(&op, "proxy");
}

#[test]
fn withdraw_bond_pays_what_is_left_after_slashing() {
    let mut suite = Suite::new();
    let op = suite.addr("op1");
    suite.register_proxy(&op, "proxy");
    suite.exec(&op, &deregister("proxy"), &[]).unwrap();
    suite
        .gov_exec(&ExecuteMsg::Slash {
            node_id: "proxy".to_string(),
            fraction: Decimal::percent(25),
        })
        .unwrap();
    assert_eq!(suite.node("proxy").bond, Uint128::new(750));
    suite.advance(UNBONDING);
    suite.exec(&op, &withdraw("proxy"), &[]).unwrap();
    assert_eq!(suite.balance(&op), START_BALANCE - 250);
    assert_eq!(suite.balance(&suite.pool.clone()), 250);
}

#[test]
fn withdraw_bond_of_fully_slashed_node_sends_nothing() {
    let mut suite = Suite::new();
    let op = suite.addr("op1");
    suite.register_proxy(&op, "proxy");
    suite.exec(&op, &deregister("proxy"), &[]).unwrap();
    suite
        .sudo(&SudoMsg::Slash {
            node_id: "proxy".to_string(),
            fraction: Decimal::one(),
        })
        .unwrap();
    suite.advance(UNBONDING);
    let res = suite.exec(&op, &withdraw("proxy"), &[]).unwrap();
    assert_eq!(wasm_attr(&res, "amount").as_deref(), Some("0"));
    assert_eq!(suite.balance(&op), START_BALANCE - MIN_BOND);
    let page: opg_core::msg::registry::NodesResponse = suite
        .query(&QueryMsg::Nodes {
            kind: None,
            status: None,
            start_after: None,
            limit: None,
        })
        .unwrap();
    assert!(page.nodes.is_empty());
}

#[test]
fn withdraw_bond_errors() {
    let mut suite = Suite::new();
    let op = suite.addr("op1");
    let stranger = suite.addr("op2");
    suite.register_proxy(&op, "proxy");
    let err = suite.exec(&op, &withdraw("proxy"), &[]).unwrap_err();
    assert_eq!(
        err,
        ContractError::NotUnbonding {
            node_id: "proxy".to_string()
        }
    );
    suite.exec(&op, &deregister("proxy"), &[]).unwrap();
    suite.advance(UNBONDING);
    let err = suite.exec(&stranger, &withdraw("proxy"), &[]).unwrap_err();
    assert_eq!(
        err,
        ContractError::NotOperator {
            node_id: "proxy".to_string()
        }
    );
    let err = suite.exec(&op, &withdraw("ghost"), &[]).unwrap_err();
    assert!(matches!(err, ContractError::NodeNotFound { .. }), "{err:?}");

    // Governance can freeze an unbonding bond by jailing; unjailing resumes unbonding.
    suite
        .gov_exec(&ExecuteMsg::Jail {
            node_id: "proxy".to_string(),
            reason: "under investigation".to_string(),
        })
        .unwrap();
    let err = suite.exec(&op, &withdraw("proxy"), &[]).unwrap_err();
    assert_eq!(
        err,
        ContractError::NodeJailed {
            node_id: "proxy".to_string()
        }
    );
    suite
        .gov_exec(&ExecuteMsg::Unjail {
            node_id: "proxy".to_string(),
        })
        .unwrap();
    assert_eq!(suite.node("proxy").status, NodeStatus::Unbonding);
    suite.exec(&op, &withdraw("proxy"), &[]).unwrap();
    assert_eq!(suite.balance(&op), START_BALANCE);
}
