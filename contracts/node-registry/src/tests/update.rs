//! `UpdateNode` and `RenewAttestation`.
use cosmwasm_std::coins;
use cw_utils::PaymentError;
use opg_core::msg::registry::ExecuteMsg;
use opg_core::msg::registry::{
    AddAttesterMsg, DeregisterMsg, RemoveAttesterMsg, RenewAttestationMsg,
};
use opg_core::sign::{EvmSigner, NodeSigner};
use opg_core::types::NodeKey;

use super::*;

fn new_key(label: &str) -> NodeKey {
    NodeSigner::derive(b"update", label, false).key()
}

#[test]
fn update_proxy_fields() {
    let mut suite = Suite::new();
    let op = suite.addr("op1");
    suite.register_proxy(&op, "proxy");
    let key = new_key("rotated");
    let msg: ExecuteMsg = UpdateNode {
        key: Some(key.clone()),
        pay_to: Some("0x2222222222222222222222222222222222222AaA".to_string()),
        endpoint: Some("https://new.example.org".to_string()),
        models: Some(vec![CLAUDE.to_string()]),
        upstream: Some("https://api.anthropic.com".to_string()),
        ..update_msg("proxy")
    }
    .into();
    let res = suite.exec(&op, &msg, &[]).unwrap();
    assert_eq!(wasm_attr(&res, "action").as_deref(), Some("update_node"));
    assert_eq!(wasm_attr(&res, "node_id").as_deref(), Some("proxy"));
    let node = suite.node("proxy");
    assert_eq!(node.key, key);
    assert_eq!(node.pay_to, "0x2222222222222222222222222222222222222aaa");
    assert_eq!(node.endpoint, "https://new.example.org");
    assert_eq!(node.models, vec![CLAUDE.to_string()]);
    assert_eq!(node.upstream.as_deref(), Some("https://api.anthropic.com"));
}

#[test]
fn update_with_nothing_changes_nothing() {
    let mut suite = Suite::new();
    let op = suite.addr("op1");
    suite.register_proxy(&op, "proxy");
    let before = suite.node("proxy");
    suite.exec(&op, &update_msg("proxy").into(), &[]).unwrap();
    assert_eq!(suite.node("proxy"), before);
}

#[test]
fn update_rejects_non_operator_unknown_node_and_funds() {
    let mut suite = Suite::new();
    let op = suite.addr("op1");
    let stranger = suite.addr("op2");
    suite.register_proxy(&op, "proxy");
    let err = suite
        .exec(&stranger, &update_msg("proxy").into(), &[])
        .unwrap_err();
    assert_eq!(
        err,
        ContractError::NotOperator {
            node_id: "proxy".to_string()
        }
    );
    let err = suite
        .exec(&op, &update_msg("ghost").into(), &[])
        .unwrap_err();
    assert_eq!(
        err,
        ContractError::NodeNotFound {
            node_id: "ghost".to_string()
        }
    );
    let err = suite
        .exec(&op, &update_msg("proxy").into(), &coins(1, DENOM))
        .unwrap_err();
    assert_eq!(err, ContractError::Payment(PaymentError::NonPayable {}));
}

#[test]
fn update_rejects_invalid_values() {
    let mut suite = Suite::new();
    let op = suite.addr("op1");
    suite.register_proxy(&op, "proxy");
    let err = suite
        .exec(
            &op,
            &UpdateNode {
                models: Some(vec![LLAMA.to_string()]),
                ..update_msg("proxy")
            }
            .into(),
            &[],
        )
        .unwrap_err();
    assert!(
        matches!(&err, ContractError::ModelNotAllowed { model, .. } if model == LLAMA),
        "{err:?}"
    );
    let err = suite
        .exec(
            &op,
            &UpdateNode {
                pay_to: Some("0x12".to_string()),
                ..update_msg("proxy")
            }
            .into(),
            &[],
        )
        .unwrap_err();
    assert_eq!(
        err,
        ContractError::InvalidAddress {
            field: "pay_to".to_string()
        }
    );
    let err = suite
        .exec(
            &op,
            &UpdateNode {
                key: Some(NodeKey::Ed25519 {
                    public_key: vec![0u8; 33].into(),
                }),
                ..update_msg("proxy")
            }
            .into(),
            &[],
        )
        .unwrap_err();
    assert!(matches!(err, ContractError::InvalidKey { .. }), "{err:?}");
    let err = suite
        .exec(
            &op,
            &UpdateNode {
                endpoint: Some(String::new()),
                ..update_msg("proxy")
            }
            .into(),
            &[],
        )
        .unwrap_err();
    assert!(matches!(err, ContractError::InvalidField { .. }), "{err:?}");
}

#[test]
fn update_rejects_fields_of_the_other_kind() {
    let mut suite = Suite::new();
    let op = suite.addr("op1");
    let signer = suite.register_proxy(&op, "proxy");
    suite.register_local(&op, "local");
    let attestation = suite.attest(&op, &signer.key());
    let err = suite
        .exec(
            &op,
            &UpdateNode {
                attestation: Some(attestation),
                ..update_msg("proxy")
            }
            .into(),
            &[],
        )
        .unwrap_err();
    assert_eq!(
        err,
        ContractError::WrongKind {
            node_id: "proxy".to_string(),
            kind: "proxy".to_string(),
            field: "attestation".to_string()
        }
    );
    let err = suite
        .exec(
            &op,
            &UpdateNode {
                upstream: Some("https://api.openai.com".to_string()),
                ..update_msg("local")
            }
            .into(),
            &[],
        )
        .unwrap_err();
    assert_eq!(
        err,
        ContractError::WrongKind {
            node_id: "local".to_string(),
            kind: "local".to_string(),
            field: "upstream".to_string()
        }
    );
}

#[test]
fn update_local_key_needs_an_attestation_bound_to_it() {
    let mut suite = Suite::new();
    let op = suite.addr("op1");
    let old = suite.register_local(&op, "local");
    let key = new_key("local-rotated");

    let err = suite
        .exec(
            &op,
            &UpdateNode {
                key: Some(key.clone()),
                ..update_msg("local")
            }
            .into(),
            &[],
        )
        .unwrap_err();
    assert_eq!(
        err,
        ContractError::AttestationRequired {
            node_id: "local".to_string()
        }
    );

    // An attestation of the old key does not cover the new one.
    let stale = suite.attest(&op, &old.key());
    let err = suite
        .exec(
            &op,
            &UpdateNode {
                key: Some(key.clone()),
                attestation: Some(stale),
                ..update_msg("local")
            }
            .into(),
            &[],
        )
        .unwrap_err();
    assert!(
        matches!(err, ContractError::InvalidAttestation { .. }),
        "{err:?}"
    );

    // The same key again needs no attestation.
    suite
        .exec(
            &op,
            &UpdateNode {
                key: Some(old.key()),
                ..update_msg("local")
            }
            .into(),
            &[],
        )
        .unwrap();

    let fresh = suite.attest(&op, &key);
    suite
        .exec(
            &op,
            &UpdateNode {
                key: Some(key.clone()),
                attestation: Some(fresh.clone()),
                models: Some(vec![QWEN.to_string(), LLAMA.to_string()]),
                ..update_msg("local")
            }
            .into(),
            &[],
        )
        .unwrap();
    let node = suite.node("local");
    assert_eq!(node.key, key);
    assert_eq!(node.attestation, Some(fresh));
    assert_eq!(node.models, vec![QWEN.to_string(), LLAMA.to_string()]);
}

#[test]
fn update_rejected_while_unbonding() {
    let mut suite = Suite::new();
    let op = suite.addr("op1");
    suite.register_proxy(&op, "proxy");
    suite
        .exec(
            &op,
            &ExecuteMsg::Deregister(DeregisterMsg {
                node_id: "proxy".to_string(),
            }),
            &[],
        )
        .unwrap();
    let err = suite
        .exec(&op, &update_msg("proxy").into(), &[])
        .unwrap_err();
    assert_eq!(
        err,
        ContractError::NodeUnbonding {
            node_id: "proxy".to_string()
        }
    );
}

#[test]
fn renew_attestation() {
    let mut suite = Suite::new();
    let op = suite.addr("op1");
    let signer = suite.register_local(&op, "local");
    suite.advance(10 * 86_400);
    let renewed = suite.attest(&op, &signer.key());
    let res = suite
        .exec(
            &op,
            &ExecuteMsg::RenewAttestation(RenewAttestationMsg {
                node_id: "local".to_string(),
                attestation: renewed.clone(),
            }),
            &[],
        )
        .unwrap();
    assert_eq!(
        wasm_attr(&res, "action").as_deref(),
        Some("renew_attestation")
    );
    assert_eq!(wasm_attr(&res, "kind").as_deref(), Some("local"));
    assert_eq!(suite.node("local").attestation, Some(renewed));
}

#[test]
fn renew_attestation_errors() {
    let mut suite = Suite::new();
    let op = suite.addr("op1");
    let stranger = suite.addr("op2");
    let signer = suite.register_local(&op, "local");
    let proxy = suite.register_proxy(&op, "proxy");
    let renew = |node_id: &str, attestation| {
        ExecuteMsg::RenewAttestation(RenewAttestationMsg {
            node_id: node_id.to_string(),
            attestation,
        })
    };

    let att = suite.attest(&op, &signer.key());
    let err = suite
        .exec(&stranger, &renew("local", att.clone()), &[])
        .unwrap_err();
    assert_eq!(
        err,
        ContractError::NotOperator {
            node_id: "local".to_string()
        }
    );
    let err = suite.exec(&op, &renew("ghost", att), &[]).unwrap_err();
    assert!(matches!(err, ContractError::NodeNotFound { .. }), "{err:?}");

    let att = suite.attest(&op, &proxy.key());
    let err = suite.exec(&op, &renew("proxy", att), &[]).unwrap_err();
    assert!(matches!(err, ContractError::WrongKind { .. }), "{err:?}");

    let short = suite.attest_by(&suite.attester.clone(), &op, &signer.key(), 5);
    suite.advance(6);
    let err = suite.exec(&op, &renew("local", short), &[]).unwrap_err();
    assert!(
        matches!(err, ContractError::AttestationExpired { .. }),
        "{err:?}"
    );

    // After governance removes the attester, its attestations are refused.
    let att = suite.attest(&op, &signer.key());
    let attester = suite.attester.address();
    suite
        .gov_exec(&ExecuteMsg::RemoveAttester(RemoveAttesterMsg {
            address: attester.clone(),
        }))
        .unwrap();
    let err = suite.exec(&op, &renew("local", att), &[]).unwrap_err();
    assert_eq!(err, ContractError::AttesterNotAllowed { address: attester });

    // A second attester works.
    let second = EvmSigner::derive(b"update", "second-attester");
    suite
        .gov_exec(&ExecuteMsg::AddAttester(AddAttesterMsg {
            address: second.address(),
        }))
        .unwrap();
    let att = suite.attest_by(&second, &op, &signer.key(), 1000);
    suite.exec(&op, &renew("local", att.clone()), &[]).unwrap();
    assert_eq!(suite.node("local").attestation, Some(att));
}
