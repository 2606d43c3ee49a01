//! Attester revocation and `max_attestation_validity` (DESIGN §5).
use cosmwasm_std::coins;
use opg_core::msg::registry::{
    AddAttesterMsg, ExecuteMsg, NodeInfo, NodesByIdsResponse, NodesResponse, RemoveAttesterMsg,
    RenewAttestationMsg, SudoMsg,
};
use opg_core::sign::{EvmSigner, NodeSigner};

use super::*;
use crate::state::DEFAULT_MAX_ATTESTATION_VALIDITY;

fn renew(node_id: &str, attestation: HardwareAttestation) -> ExecuteMsg {
    ExecuteMsg::RenewAttestation(RenewAttestationMsg {
        node_id: node_id.to_string(),
        attestation,
    })
}

fn remove_attester(address: String) -> ExecuteMsg {
    ExecuteMsg::RemoveAttester(RemoveAttesterMsg { address })
}

fn expires_at(node: &NodeInfo) -> u64 {
    node.attestation.as_ref().unwrap().expires_at
}

/// Every way a node is read: `Node`, `Nodes`, `NodesByIds` (the verifier's query).
fn expiries_everywhere(suite: &Suite, node_id: &str) -> [u64; 3] {
    let page: NodesResponse = suite
        .query(&QueryMsg::Nodes {
            kind: None,
            status: None,
            start_after: None,
            limit: None,
        })
        .unwrap();
    let by_ids: NodesByIdsResponse = suite
        .query(&QueryMsg::NodesByIds {
            ids: vec![node_id.to_string()],
            models: vec![],
        })
        .unwrap();
    [
        expires_at(&suite.node(node_id)),
        expires_at(page.nodes.iter().find(|n| n.node_id == node_id).unwrap()),
        expires_at(&by_ids.nodes[0]),
    ]
}

#[test]
fn removing_an_attester_revokes_what_it_signed_from_that_block_on() {
    let mut suite = Suite::new();
    let op = suite.addr("op1");
    let second = EvmSigner::derive(b"attestations", "second-attester");
    suite
        .gov_exec(&ExecuteMsg::AddAttester(AddAttesterMsg {
            address: second.address(),
        }))
        .unwrap();
    let signer = suite.register_local(&op, "by-first");
    let original = expires_at(&suite.node("by-first"));
    let other = NodeSigner::derive(b"attestations", "by-second", false);
    let att = suite.attest_by(&second, &op, &other.key(), 30 * 86_400);
    let other_expiry = att.expires_at;
    suite
        .exec(
            &op,
            &local_msg("by-second", other.key(), att, vec![LLAMA]),
            &coins(MIN_BOND, DENOM),
        )
        .unwrap();

    suite.advance(3_600);
    let removed_at = suite.now();
    let res = suite
        .gov_exec(&remove_attester(suite.attester.address()))
        .unwrap();
    assert_eq!(wasm_attr(&res, "revoked_at"), Some(removed_at.to_string()));

    // The first attester's node reads as expired at the removal, wherever it is read; the second
    // attester's node is untouched.
    assert!(removed_at < original);
    assert_eq!(expiries_everywhere(&suite, "by-first"), [removed_at; 3]);
    assert_eq!(expiries_everywhere(&suite, "by-second"), [other_expiry; 3]);

    // Re-adding the attester does not bring back what it signed before ...
    suite.advance(10);
    suite
        .gov_exec(&ExecuteMsg::AddAttester(AddAttesterMsg {
            address: suite.attester.address(),
        }))
        .unwrap();
    assert_eq!(expires_at(&suite.node("by-first")), removed_at);
    // ... but an attestation it signs and the registry accepts afterwards counts in full.
    suite.advance(10);
    let fresh = suite.attest(&op, &signer.key());
    suite
        .exec(&op, &renew("by-first", fresh.clone()), &[])
        .unwrap();
    assert_eq!(
        expiries_everywhere(&suite, "by-first"),
        [fresh.expires_at; 3]
    );
}

#[test]
fn chain_governance_revokes_the_same_way() {
    let mut suite = Suite::new();
    let op = suite.addr("op1");
    suite.register_local(&op, "local");
    suite.advance(60);
    let removed_at = suite.now();
    suite
        .sudo(&SudoMsg::RemoveAttester(RemoveAttesterMsg {
            address: suite.attester.address(),
        }))
        .unwrap();
    assert_eq!(expiries_everywhere(&suite, "local"), [removed_at; 3]);
}

#[test]
fn attestation_validity_is_capped_at_accept_time() {
    let mut suite = Suite::new();
    let op = suite.addr("op1");
    let signer = NodeSigner::derive(b"attestations", "capped", false);
    let attester = suite.attester.clone();

    // Register: one second beyond the cap is refused, the cap itself is accepted.
    let too_long = suite.attest_by(
        &attester,
        &op,
        &signer.key(),
        DEFAULT_MAX_ATTESTATION_VALIDITY + 1,
    );
    let err = suite
        .exec(
            &op,
            &local_msg("capped", signer.key(), too_long.clone(), vec![LLAMA]),
            &coins(MIN_BOND, DENOM),
        )
        .unwrap_err();
    assert_eq!(
        err,
        ContractError::AttestationTooLong {
            expires_at: too_long.expires_at,
            max_expires_at: suite.now() + DEFAULT_MAX_ATTESTATION_VALIDITY,
        }
    );
    // `u64::MAX` (an attestation that never expires) is the extreme case.
    let forever = sign_attestation(
        &attester,
        &suite.domain(),
        op.as_str(),
        &signer.key(),
        "h100",
        [7u8; 32],
        u64::MAX,
    );
    let err = suite
        .exec(
            &op,
            &local_msg("capped", signer.key(), forever.clone(), vec![LLAMA]),
            &coins(MIN_BOND, DENOM),
        )
        .unwrap_err();
    assert!(
        matches!(err, ContractError::AttestationTooLong { .. }),
        "{err:?}"
    );
    let at_cap = suite.attest_by(
        &attester,
        &op,
        &signer.key(),
        DEFAULT_MAX_ATTESTATION_VALIDITY,
    );
    suite
        .exec(
            &op,
            &local_msg("capped", signer.key(), at_cap, vec![LLAMA]),
            &coins(MIN_BOND, DENOM),
        )
        .unwrap();

    // RenewAttestation and UpdateNode are capped the same way.
    suite.advance(86_400);
    let err = suite
        .exec(&op, &renew("capped", forever.clone()), &[])
        .unwrap_err();
    assert!(
        matches!(err, ContractError::AttestationTooLong { .. }),
        "{err:?}"
    );
    let update: ExecuteMsg = UpdateNode {
        attestation: Some(forever),
        ..update_msg("capped")
    }
    .into();
    let err = suite.exec(&op, &update, &[]).unwrap_err();
    assert!(
        matches!(err, ContractError::AttestationTooLong { .. }),
        "{err:?}"
    );

    // A shorter cap set by governance applies to attestations accepted afterwards.
    let m = opg_core::msg::registry::UpdateConfigMsg {
        max_attestation_validity: Some(DEFAULT_MAX_ATTESTATION_VALIDITY / 2),
        ..Default::default()
    };
    suite.gov_exec(&ExecuteMsg::UpdateConfig(m)).unwrap();
    let year = suite.attest_by(
        &attester,
        &op,
        &signer.key(),
        DEFAULT_MAX_ATTESTATION_VALIDITY,
    );
    let err = suite.exec(&op, &renew("capped", year), &[]).unwrap_err();
    assert!(
        matches!(err, ContractError::AttestationTooLong { .. }),
        "{err:?}"
    );
    let half = suite.attest_by(
        &attester,
        &op,
        &signer.key(),
        DEFAULT_MAX_ATTESTATION_VALIDITY / 2,
    );
    suite.exec(&op, &renew("capped", half), &[]).unwrap();
}
