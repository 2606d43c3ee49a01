//! `Register`: proxy and local nodes, bonds, keys, models, attestations.
use cosmwasm_std::{coins, Binary, Coin, Uint128};
use cw_utils::PaymentError;
use opg_core::msg::registry::{AddModelMsg, RegisterMsg};
use opg_core::msg::registry::{ExecuteMsg, NodeKind};
use opg_core::sign::{EvmSigner, NodeSigner};
use opg_core::types::{NodeKey, NodeKindTag, NodeStatus};

use super::*;

fn key(label: &str) -> NodeKey {
    NodeSigner::derive(b"register", label, false).key()
}

fn set_node_id(msg: &mut ExecuteMsg, id: &str) {
    if let ExecuteMsg::Register(RegisterMsg { node_id, .. }) = msg {
        *node_id = id.to_string();
    }
}

#[test]
fn register_proxy_node() {
    let mut suite = Suite::new();
    let op = suite.addr("op1");
    let signer = NodeSigner::derive(b"register", "proxy-1", false);
    let msg = proxy_msg("proxy-1", signer.key(), vec![GPT, CLAUDE]);
    let res = suite.exec(&op, &msg, &coins(1_500, DENOM)).unwrap();
    assert_eq!(wasm_attr(&res, "action").as_deref(), Some("register"));
    assert_eq!(wasm_attr(&res, "node_id").as_deref(), Some("proxy-1"));
    assert_eq!(wasm_attr(&res, "operator"), Some(op.to_string()));
    assert_eq!(wasm_attr(&res, "kind").as_deref(), Some("proxy"));
    assert_eq!(wasm_attr(&res, "amount").as_deref(), Some("1500"));

    let node = suite.node("proxy-1");
    assert_eq!(node.operator, op);
    assert_eq!(node.kind, NodeKindTag::Proxy);
    assert_eq!(node.status, NodeStatus::Active);
    assert_eq!(node.bond, Uint128::new(1_500));
    assert_eq!(node.upstream.as_deref(), Some("https://api.openai.com"));
    assert_eq!(node.attestation, None);
    assert_eq!(node.pay_to, "0xabcdef0123456789abcdef0123456789abcdef01");
    assert_eq!(node.key, signer.key());
    assert_eq!(node.models, vec![GPT.to_string(), CLAUDE.to_string()]);
    assert_eq!(node.registered_at, suite.now());
    assert_eq!(node.unbonding_ends, None);
    assert_eq!(suite.balance(&op), START_BALANCE - 1_500);
    assert_eq!(suite.balance(&suite.registry.clone()), 1_500);
}

#[test]
fn register_local_node_with_attestation() {
    let mut suite = Suite::new();
    let op = suite.addr("op1");
    let signer = NodeSigner::derive(b"register", "gpu.box_1", false);
    let attestation = suite.attest(&op, &signer.key());
    let msg = local_msg(
        "gpu.box_1",
        signer.key(),
        attestation.clone(),
        vec![LLAMA, QWEN],
    );
    let res = suite.exec(&op, &msg, &coins(MIN_BOND, DENOM)).unwrap();
    assert_eq!(wasm_attr(&res, "kind").as_deref(), Some("local"));
    let node = suite.node("gpu.box_1");
    assert_eq!(node.kind, NodeKindTag::Local);
    assert_eq!(node.upstream, None);
    assert_eq!(node.attestation, Some(attestation));
    assert_eq!(node.status, NodeStatus::Active);
}

#[test]
fn register_accepts_uppercase_attester_and_key_and_stores_lowercase() {
    let mut suite = Suite::new();
    let op = suite.addr("op1");
    let signer = NodeSigner::derive(b"register", "upper", false);
    let NodeKey::Secp256k1 { address } = signer.key() else {
        panic!("secp256k1 key expected")
    };
    let upper_key = NodeKey::Secp256k1 {
        address: format!("0x{}", address[2..].to_ascii_uppercase()),
    };
    let mut attestation = suite.attest(&op, &signer.key());
    attestation.attester = format!("0x{}", attestation.attester[2..].to_ascii_uppercase());
    let msg = local_msg("upper", upper_key, attestation, vec![LLAMA]);
    suite.exec(&op, &msg, &coins(MIN_BOND, DENOM)).unwrap();
    let node = suite.node("upper");
    assert_eq!(node.key, signer.key());
    assert_eq!(node.attestation.unwrap().attester, suite.attester.address());
}

#[test]
fn register_ed25519_local_node() {
    let mut suite = Suite::new();
    let op = suite.addr("op2");
    let signer = NodeSigner::derive(b"register", "ed-node", true);
    assert!(matches!(signer.key(), NodeKey::Ed25519 { .. }));
    let attestation = suite.attest(&op, &signer.key());
    let msg = local_msg("ed-node", signer.key(), attestation, vec![QWEN]);
    suite.exec(&op, &msg, &coins(MIN_BOND, DENOM)).unwrap();
    assert_eq!(suite.node("ed-node").key, signer.key());
}

#[test]
fn register_rejects_taken_id() {
    let mut suite = Suite::new();
    let op1 = suite.addr("op1");
    let op2 = suite.addr("op2");
    suite.register_proxy(&op1, "taken");
    let err = suite
        .exec(
            &op2,
            &proxy_msg("taken", key("x"), vec![GPT]),
            &coins(MIN_BOND, DENOM),
        )
        .unwrap_err();
    assert_eq!(
        err,
        ContractError::NodeExists {
            node_id: "taken".to_string()
        }
    );
    assert_eq!(suite.balance(&op2), START_BALANCE);
}

#[test]
fn register_rejects_bad_node_ids() {
    let mut suite = Suite::new();
    let op = suite.addr("op1");
    let long = "a".repeat(65);
    for bad in ["ab", "Node1", "node 1", "node/1", "nöde", long.as_str(), ""] {
        let mut msg = proxy_msg("x", key("k"), vec![GPT]);
        set_node_id(&mut msg, bad);
        let err = suite.exec(&op, &msg, &coins(MIN_BOND, DENOM)).unwrap_err();
        assert_eq!(
            err,
            ContractError::InvalidNodeId {
                node_id: bad.to_string()
            }
        );
    }
    // Boundaries are accepted.
    let max = "z".repeat(64);
    for good in ["abc", "a-b_c.9", max.as_str()] {
        let mut msg = proxy_msg("x", key("k"), vec![GPT]);
        set_node_id(&mut msg, good);
        suite.exec(&op, &msg, &coins(MIN_BOND, DENOM)).unwrap();
    }
}

#[test]
fn register_rejects_low_bond() {
    let mut suite = Suite::new();
    let op = suite.addr("op1");
    let err = suite
        .exec(
            &op,
            &proxy_msg("cheap", key("k"), vec![GPT]),
            &coins(MIN_BOND - 1, DENOM),
        )
        .unwrap_err();
    assert_eq!(
        err,
        ContractError::BondTooLow {
            required: Uint128::new(MIN_BOND),
            sent: Uint128::new(MIN_BOND - 1)
        }
    );
}

#[test]
fn register_rejects_missing_or_wrong_funds() {
    let mut suite = Suite::new();
    let op = suite.addr("op1");
    let msg = proxy_msg("unfunded", key("k"), vec![GPT]);
    let err = suite.exec(&op, &msg, &[]).unwrap_err();
    assert_eq!(err, ContractError::Payment(PaymentError::NoFunds {}));
    let err = suite
        .exec(&op, &msg, &coins(MIN_BOND, "uatom"))
        .unwrap_err();
    assert_eq!(
        err,
        ContractError::Payment(PaymentError::MissingDenom(DENOM.to_string()))
    );
    let two = vec![Coin::new(MIN_BOND, "uatom"), Coin::new(MIN_BOND, DENOM)];
    let err = suite.exec(&op, &msg, &two).unwrap_err();
    assert_eq!(err, ContractError::Payment(PaymentError::MultipleDenoms {}));
}

#[test]
fn register_rejects_invalid_keys() {
    let mut suite = Suite::new();
    let op = suite.addr("op1");
    for bad in [
        NodeKey::Secp256k1 {
            address: "0x1234".to_string(),
        },
        NodeKey::Secp256k1 {
            address: "1111111111111111111111111111111111111111".to_string(),
        },
        NodeKey::Ed25519 {
            public_key: Binary::from(vec![1u8; 31]),
        },
        // Small-order points (the identity, and an order-8 point with the sign bit set): under
        // ZIP-215 they verify forged signatures.
        NodeKey::Ed25519 {
            public_key: Binary::from({
                let mut k = vec![0u8; 32];
                k[0] = 1;
                k
            }),
        },
        NodeKey::Ed25519 {
            public_key: Binary::from(vec![
                0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10,
                0x67, 0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77,
                0x92, 0xac, 0x03, 0xfa,
            ]),
        },
    ] {
        let err = suite
            .exec(
                &op,
                &proxy_msg("badkey", bad, vec![GPT]),
                &coins(MIN_BOND, DENOM),
            )
            .unwrap_err();
        assert!(matches!(err, ContractError::InvalidKey { .. }), "{err:?}");
    }
}

#[test]
fn register_rejects_invalid_pay_to() {
    let mut suite = Suite::new();
    let op = suite.addr("op1");
    let mut msg = proxy_msg("payto", key("k"), vec![GPT]);
    if let ExecuteMsg::Register(RegisterMsg { pay_to, .. }) = &mut msg {
        *pay_to = "0xnothex0000000000000000000000000000000000".to_string();
    }
    let err = suite.exec(&op, &msg, &coins(MIN_BOND, DENOM)).unwrap_err();
    assert_eq!(
        err,
        ContractError::InvalidAddress {
            field: "pay_to".to_string()
        }
    );
}

#[test]
fn register_rejects_empty_endpoint_and_upstream() {
    let mut suite = Suite::new();
    let op = suite.addr("op1");
    let mut msg = proxy_msg("endpoint", key("k"), vec![GPT]);
    if let ExecuteMsg::Register(RegisterMsg { endpoint, .. }) = &mut msg {
        *endpoint = String::new();
    }
    let err = suite.exec(&op, &msg, &coins(MIN_BOND, DENOM)).unwrap_err();
    assert!(
        matches!(&err, ContractError::InvalidField { field, .. } if field == "endpoint"),
        "{err:?}"
    );
    let mut msg = proxy_msg("upstream", key("k"), vec![GPT]);
    if let ExecuteMsg::Register(RegisterMsg { kind, .. }) = &mut msg {
        *kind = NodeKind::Proxy {
            upstream: "u".repeat(257),
        };
    }
    let err = suite.exec(&op, &msg, &coins(MIN_BOND, DENOM)).unwrap_err();
    assert!(
        matches!(&err, ContractError::InvalidField { field, .. } if field == "upstream"),
        "{err:?}"
    );
}

#[test]
fn register_rejects_models_of_the_wrong_provenance_or_unknown() {
    let mut suite = Suite::new();
    let op = suite.addr("op1");
    let err = suite
        .exec(
            &op,
            &proxy_msg("px-1", key("k"), vec![GPT, LLAMA]),
            &coins(MIN_BOND, DENOM),
        )
        .unwrap_err();
    assert!(
        matches!(&err, ContractError::ModelNotAllowed { model, .. } if model == LLAMA),
        "{err:?}"
    );
    let err = suite
        .exec(
            &op,
            &proxy_msg("px-2", key("k"), vec!["acme/unknown"]),
            &coins(MIN_BOND, DENOM),
        )
        .unwrap_err();
    assert_eq!(
        err,
        ContractError::ModelNotAllowed {
            model: "acme/unknown".to_string(),
            reason: "unknown model".to_string()
        }
    );
    let signer = NodeSigner::derive(b"register", "l", false);
    let attestation = suite.attest(&op, &signer.key());
    let err = suite
        .exec(
            &op,
            &local_msg("local-gpt", signer.key(), attestation, vec![LLAMA, GPT]),
            &coins(MIN_BOND, DENOM),
        )
        .unwrap_err();
    assert_eq!(
        err,
        ContractError::ModelNotAllowed {
            model: GPT.to_string(),
            reason: "commercial model on a local node".to_string()
        }
    );
}

#[test]
fn register_rejects_bad_model_lists() {
    let mut suite = Suite::new();
    let op = suite.addr("op1");
    let err = suite
        .exec(
            &op,
            &proxy_msg("none", key("k"), vec![]),
            &coins(MIN_BOND, DENOM),
        )
        .unwrap_err();
    assert!(
        matches!(err, ContractError::InvalidModels { .. }),
        "{err:?}"
    );
    let err = suite
        .exec(
            &op,
            &proxy_msg("dup", key("k"), vec![GPT, GPT]),
            &coins(MIN_BOND, DENOM),
        )
        .unwrap_err();
    assert!(
        matches!(err, ContractError::InvalidModels { .. }),
        "{err:?}"
    );

    // 64 models are allowed, 65 are not.
    let ids: Vec<String> = (0..65).map(|i| format!("vendor/model-{i:02}")).collect();
    for id in &ids {
        suite
            .sudo(&SudoMsg::AddModel(AddModelMsg {
                id: id.clone(),
                provenance: Provenance::Commercial,
                weights_digest: None,
            }))
            .unwrap();
    }
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let err = suite
        .exec(
            &op,
            &proxy_msg("many", key("k"), refs.clone()),
            &coins(MIN_BOND, DENOM),
        )
        .unwrap_err();
    assert!(
        matches!(err, ContractError::InvalidModels { .. }),
        "{err:?}"
    );
    suite
        .exec(
            &op,
            &proxy_msg("many", key("k"), refs[..64].to_vec()),
            &coins(MIN_BOND, DENOM),
        )
        .unwrap();
    assert_eq!(suite.node("many").models.len(), 64);
}

#[test]
fn register_local_rejects_unlisted_attester() {
    let mut suite = Suite::new();
    let op = suite.addr("op1");
    let rogue = EvmSigner::derive(b"register", "rogue-attester");
    let k = key("k");
    let attestation = suite.attest_by(&rogue, &op, &k, 86_400);
    let err = suite
        .exec(
            &op,
            &local_msg("rogue", k, attestation, vec![LLAMA]),
            &coins(MIN_BOND, DENOM),
        )
        .unwrap_err();
    assert_eq!(
        err,
        ContractError::AttesterNotAllowed {
            address: rogue.address()
        }
    );
}

#[test]
fn register_local_rejects_malformed_attester_address() {
    let mut suite = Suite::new();
    let op = suite.addr("op1");
    let k = key("k");
    let mut attestation = suite.attest(&op, &k);
    attestation.attester = "attester".to_string();
    let err = suite
        .exec(
            &op,
            &local_msg("malformed", k, attestation, vec![LLAMA]),
            &coins(MIN_BOND, DENOM),
        )
        .unwrap_err();
    assert_eq!(
        err,
        ContractError::InvalidAddress {
            field: "attester".to_string()
        }
    );
}

#[test]
fn register_local_rejects_expired_attestation() {
    let mut suite = Suite::new();
    let op = suite.addr("op1");
    let k = key("k");
    let attestation = suite.attest_by(&suite.attester.clone(), &op, &k, 100);
    let expires_at = attestation.expires_at;
    // Valid strictly before `expires_at` (as the verification core treats it).
    suite.advance(99);
    suite
        .exec(
            &op,
            &local_msg("at-expiry", k.clone(), attestation.clone(), vec![LLAMA]),
            &coins(MIN_BOND, DENOM),
        )
        .unwrap();
    suite.advance(1);
    let err = suite
        .exec(
            &op,
            &local_msg("expired", k, attestation, vec![LLAMA]),
            &coins(MIN_BOND, DENOM),
        )
        .unwrap_err();
    assert_eq!(
        err,
        ContractError::AttestationExpired {
            expires_at,
            now: expires_at
        }
    );
}

#[test]
fn register_local_rejects_forged_or_misbound_attestations() {
    let mut suite = Suite::new();
    let op = suite.addr("op1");
    let other = suite.addr("op2");
    let k = key("k");
    let register = |suite: &mut Suite, attestation| {
        suite.exec(
            &op,
            &local_msg("forged", k.clone(), attestation, vec![LLAMA]),
            &coins(MIN_BOND, DENOM),
        )
    };

    // Signed by someone else but claiming the allow-listed attester.
    let rogue = EvmSigner::derive(b"register", "rogue");
    let mut forged = suite.attest_by(&rogue, &op, &k, 86_400);
    forged.attester = suite.attester.address();
    let err = register(&mut suite, forged).unwrap_err();
    assert!(
        matches!(err, ContractError::InvalidAttestation { .. }),
        "{err:?}"
    );

    // Bound to another operator.
    let other_op = suite.attest(&other, &k);
    let err = register(&mut suite, other_op).unwrap_err();
    assert!(
        matches!(err, ContractError::InvalidAttestation { .. }),
        "{err:?}"
    );

    // Bound to another key.
    let other_key = suite.attest(&op, &key("other"));
    let err = register(&mut suite, other_key).unwrap_err();
    assert!(
        matches!(err, ContractError::InvalidAttestation { .. }),
        "{err:?}"
    );

    // Field changed after signing.
    let mut tampered = suite.attest(&op, &k);
    tampered.hardware_class = "b200".to_string();
    let err = register(&mut suite, tampered).unwrap_err();
    assert!(
        matches!(err, ContractError::InvalidAttestation { .. }),
        "{err:?}"
    );

    // Another deployment's domain (wrong chain id).
    let wrong_domain = opg_core::sign::sign_attestation(
        &suite.attester,
        &opg_core::eip712::registry_domain_separator("other-chain", suite.registry.as_str()),
        op.as_str(),
        &k,
        "h100",
        [7u8; 32],
        suite.now() + 100,
    );
    let err = register(&mut suite, wrong_domain).unwrap_err();
    assert!(
        matches!(err, ContractError::InvalidAttestation { .. }),
        "{err:?}"
    );

    // Malformed evidence digest and signature.
    let mut short_digest = suite.attest(&op, &k);
    short_digest.evidence_digest = Binary::from(vec![7u8; 31]);
    let err = register(&mut suite, short_digest).unwrap_err();
    assert!(
        matches!(err, ContractError::InvalidAttestation { .. }),
        "{err:?}"
    );
    let mut short_sig = suite.attest(&op, &k);
    short_sig.signature = Binary::from(vec![1u8; 64]);
    let err = register(&mut suite, short_sig).unwrap_err();
    assert!(
        matches!(err, ContractError::InvalidAttestation { .. }),
        "{err:?}"
    );

    // Empty hardware class.
    let mut no_class = suite.attest(&op, &k);
    no_class.hardware_class = String::new();
    let err = register(&mut suite, no_class).unwrap_err();
    assert!(
        matches!(&err, ContractError::InvalidField { field, .. } if field == "hardware_class"),
        "{err:?}"
    );

    // The genuine one still works.
    let genuine = suite.attest(&op, &k);
    register(&mut suite, genuine).unwrap();
}
