//! `Deregister` and `WithdrawBond`.
use cosmwasm_std::{coins, Decimal, Uint128};
use cw_utils::PaymentError;
use opg_core::msg::registry::ExecuteMsg;
use opg_core::msg::registry::{DeregisterMsg, JailMsg, SlashMsg, UnjailMsg, WithdrawBondMsg};
use opg_core::types::NodeStatus;

use super::*;

fn deregister(id: &str) -> ExecuteMsg {
    ExecuteMsg::Deregister(DeregisterMsg {
        node_id: id.to_string(),
    })
}

fn withdraw(id: &str) -> ExecuteMsg {
    ExecuteMsg::WithdrawBond(WithdrawBondMsg {
        node_id: id.to_string(),
    })
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
        .gov_exec(&ExecuteMsg::Jail(JailMsg {
            node_id: "proxy".to_string(),
            reason: "fake volume".to_string(),
        }))
        .unwrap();
    let err = suite.exec(&op, &deregister("proxy"), &[]).unwrap_err();
    assert_eq!(
        err,
        ContractError::NodeJailed {
            node_id: "proxy".to_string()
        }
    );
    suite
        .gov_exec(&ExecuteMsg::Unjail(UnjailMsg {
            node_id: "proxy".to_string(),
        }))
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
fn withdraw_bond_after_unbonding_pays_and_keeps_the_node_withdrawn() {
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
    // The node stays on record, withdrawn, with its operator and kind: the pool pays its
    // unclaimed rewards to this operator (DESIGN §5).
    let node = suite.node("proxy");
    assert_eq!(node.status, NodeStatus::Withdrawn);
    assert_eq!(node.operator, op);
    assert_eq!(node.kind, opg_core::types::NodeKindTag::Proxy);
    assert_eq!(node.bond, Uint128::zero());
}

#[test]
fn a_withdrawn_node_id_is_never_reused() {
    let mut suite = Suite::new();
    let op = suite.addr("op1");
    let squatter = suite.addr("op2");
    suite.register_proxy(&op, "proxy");
    suite.exec(&op, &deregister("proxy"), &[]).unwrap();
    suite.advance(UNBONDING);
    suite.exec(&op, &withdraw("proxy"), &[]).unwrap();

    // Neither someone else nor the old operator, and not as the other kind either.
    let signer = NodeSigner::derive(b"registry-tests", "squat", false);
    let msg = proxy_msg("proxy", signer.key(), vec![GPT]);
    let err = suite
        .exec(&squatter, &msg, &coins(MIN_BOND, DENOM))
        .unwrap_err();
    assert_eq!(
        err,
        ContractError::NodeIdRetired {
            node_id: "proxy".to_string()
        }
    );
    let err = suite.exec(&op, &msg, &coins(MIN_BOND, DENOM)).unwrap_err();
    assert!(
        matches!(err, ContractError::NodeIdRetired { .. }),
        "{err:?}"
    );
    let attestation = suite.attest(&squatter, &signer.key());
    let msg = local_msg("proxy", signer.key(), attestation, vec![LLAMA]);
    let err = suite
        .exec(&squatter, &msg, &coins(MIN_BOND, DENOM))
        .unwrap_err();
    assert!(
        matches!(err, ContractError::NodeIdRetired { .. }),
        "{err:?}"
    );
    assert_eq!(suite.node("proxy").operator, op);
    assert_eq!(suite.balance(&squatter), START_BALANCE);

    // A withdrawn node takes no further operator or governance action.
    let refused = ContractError::NodeWithdrawn {
        node_id: "proxy".to_string(),
    };
    assert_eq!(
        suite.exec(&op, &deregister("proxy"), &[]).unwrap_err(),
        refused
    );
    assert_eq!(
        suite.exec(&op, &withdraw("proxy"), &[]).unwrap_err(),
        refused
    );
    let update: ExecuteMsg = UpdateNode {
        endpoint: Some("https://new.example.org".to_string()),
        ..update_msg("proxy")
    }
    .into();
    assert_eq!(suite.exec(&op, &update, &[]).unwrap_err(), refused);
    let jail = ExecuteMsg::Jail(JailMsg {
        node_id: "proxy".to_string(),
        reason: "late".to_string(),
    });
    assert_eq!(suite.gov_exec(&jail).unwrap_err(), refused);
    let slash = ExecuteMsg::Slash(SlashMsg {
        node_id: "proxy".to_string(),
        fraction: Decimal::percent(10),
    });
    assert_eq!(suite.gov_exec(&slash).unwrap_err(), refused);

    // Listed under its own status.
    let page: opg_core::msg::registry::NodesResponse = suite
        .query(&QueryMsg::Nodes {
            kind: None,
            status: Some(NodeStatus::Withdrawn),
            start_after: None,
            limit: None,
        })
        .unwrap();
    assert_eq!(page.nodes.len(), 1);
    assert_eq!(page.nodes[0].node_id, "proxy");
}

#[test]
fn withdraw_bond_pays_what_is_left_after_slashing() {
    let mut suite = Suite::new();
    let op = suite.addr("op1");
    suite.register_proxy(&op, "proxy");
    suite.exec(&op, &deregister("proxy"), &[]).unwrap();
    suite
        .gov_exec(&ExecuteMsg::Slash(SlashMsg {
            node_id: "proxy".to_string(),
            fraction: Decimal::percent(25),
        }))
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
        .sudo(&SudoMsg::Slash(SlashMsg {
            node_id: "proxy".to_string(),
            fraction: Decimal::one(),
        }))
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
    assert_eq!(page.nodes.len(), 1);
    assert_eq!(page.nodes[0].status, NodeStatus::Withdrawn);
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
        .gov_exec(&ExecuteMsg::Jail(JailMsg {
            node_id: "proxy".to_string(),
            reason: "under investigation".to_string(),
        }))
        .unwrap();
    let err = suite.exec(&op, &withdraw("proxy"), &[]).unwrap_err();
    assert_eq!(
        err,
        ContractError::NodeJailed {
            node_id: "proxy".to_string()
        }
    );
    suite
        .gov_exec(&ExecuteMsg::Unjail(UnjailMsg {
            node_id: "proxy".to_string(),
        }))
        .unwrap();
    assert_eq!(suite.node("proxy").status, NodeStatus::Unbonding);
    suite.exec(&op, &withdraw("proxy"), &[]).unwrap();
    assert_eq!(suite.balance(&op), START_BALANCE);
}
