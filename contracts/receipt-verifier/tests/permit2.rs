//! `SubmitReceipts` with x402 Permit2 payments (`exact` via Permit2 and `upto`, `@x402/evm`
//! 2.27.0): accepted next to EIP-3009 ones, `upto` counting the settled amount, replay of
//! `(payer, Permit2 nonce)` refused across and within batches, `upto`'s witness facilitator checked
//! against the allow-list, and each Permit2/`upto` rejection with its reason while the rest of the
//! batch lands.
mod common;

use common::*;
use cosmwasm_std::Uint128;
use opg_core::msg::pool::UsageEntry;
use opg_core::receipt::{InferenceReceipt, SignedReceipt};
use opg_core::sign::{make_signed_permit2_receipt, Permit2Params};
use opg_core::types::Provenance;
use opg_core::x402::PaymentRequirements;

/// A Permit2 receipt of `spec`'s payment: `scheme` `exact` (`settled` `None`) or `upto` with the
/// spec's value as the signed maximum and `settled` as the settled amount.
fn permit2_receipt(s: &Suite, spec: &Spec, scheme: &str, settled: Option<u128>) -> SignedReceipt {
    let facilitator = (scheme == "upto").then(|| s.facilitator.address_bytes());
    let params = Permit2Params {
        requirements: PaymentRequirements::permit2(
            scheme,
            NETWORK_V2,
            &s.node(spec.node).payee.address(),
            USDC,
            spec.value,
            facilitator.map(|_| s.facilitator.address()).as_deref(),
        ),
        amount: spec.value,
        valid_after: spec.valid_after,
        deadline: spec.valid_before,
        nonce: spec.nonce,
        facilitator,
    };
    let receipt = InferenceReceipt {
        node_id: spec.node.to_string(),
        model_id: spec.model.to_string(),
        request_digest: [1u8; 32].to_vec().into(),
        response_digest: [2u8; 32].to_vec().into(),
        prompt_tokens: 120,
        completion_tokens: 480,
        served_at: spec.served_at,
    };
    make_signed_permit2_receipt(
        &spec.payer,
        &s.node(spec.node).signer,
        spec.facilitator.as_ref(),
        &s.domain,
        &params,
        receipt,
        [9u8; 32],
        settled,
    )
}

#[test]
fn permit2_and_upto_receipts_are_accepted_next_to_eip3009_and_upto_counts_the_settled_amount() {
    let mut s = Suite::new();
    let eip3009 = s.spec();
    let exact = s.spec();
    let upto = s.spec();
    let receipts = vec![
        s.receipt(&eip3009),
        permit2_receipt(&s, &exact, "exact", None),
        permit2_receipt(&s, &upto, "upto", Some(4_000)),
    ];
    let (data, _) = s.submit(receipts, vec![]).unwrap();
    assert_eq!(reasons(&data), vec!["accepted"; 3]);
    // The Permit2 nonce is reported as its 32-byte word.
    assert_eq!(
        data.receipts[1].nonce.as_deref(),
        Some(format!("0x{}", hex::encode(exact.nonce)).as_str())
    );
    let recorded = s.recorded();
    // 10,000 + 10,000 + 4,000 (not the signed maximum of 10,000).
    assert_eq!(
        recorded[0].entries,
        vec![UsageEntry {
            epoch: 1,
            node_id: PROXY.to_string(),
            provenance: Provenance::Commercial,
            calls: 3,
            value: Uint128::new(24_000),
            counted_value: Uint128::new(24_000),
        }]
    );
    assert!(s.status(&upto.payer.address(), &upto.nonce).consumed);
}

#[test]
fn a_permit2_nonce_is_consumed_once_across_and_within_batches() {
    let mut s = Suite::new();
    let spec = s.spec();
    let first = permit2_receipt(&s, &spec, "upto", Some(1_000));
    let (data, _) = s.submit(vec![first.clone()], vec![]).unwrap();
    assert_eq!(reasons(&data), vec!["accepted"]);
    // Again, and re-settled for another amount and served at another time: same (payer, nonce).
    let mut later = spec.clone();
    later.served_at += 10;
    let (data, _) = s
        .submit(
            vec![first, permit2_receipt(&s, &later, "upto", Some(2_000))],
            vec![],
        )
        .unwrap();
    assert_eq!(reasons(&data), vec!["nonce_already_used"; 2]);
    // Within one batch: the second copy (as `exact` this time) is a duplicate.
    let fresh = s.spec();
    let mut again = fresh.clone();
    again.served_at += 5;
    let (data, _) = s
        .submit(
            vec![
                permit2_receipt(&s, &fresh, "upto", Some(1_000)),
                permit2_receipt(&s, &again, "upto", Some(1_000)),
            ],
            vec![],
        )
        .unwrap();
    assert_eq!(reasons(&data), vec!["accepted", "duplicate_in_batch"]);
}

#[test]
fn permit2_and_upto_rejections_leave_the_rest_of_the_batch() {
    let mut s = Suite::new();
    let good = s.spec();
    let over = s.spec();
    let missing = s.spec();
    let v01 = s.spec();
    let mut stranger = s.spec();
    stranger.facilitator = Some(s.payers[1].clone());
    let mut no_settlement = permit2_receipt(&s, &missing, "upto", Some(1));
    no_settlement.settlement = None;
    let mut bad_v = permit2_receipt(&s, &v01, "exact", None);
    let mut payload = opg_core::verify::decode_payment_header(&bad_v.payment).unwrap();
    let sig = payload.payload.signature.clone();
    let v = u8::from_str_radix(&sig[130..], 16).unwrap() - 27;
    payload.payload.signature = format!("{}{v:02x}", &sig[..130]);
    bad_v.payment =
        cosmwasm_std::Binary::from(cosmwasm_std::to_json_vec(&payload).unwrap()).to_base64();
    let receipts = vec![
        permit2_receipt(&s, &over, "upto", Some(10_001)),
        no_settlement,
        bad_v,
        // Attested by a facilitator that is not the witness' and not allow-listed either.
        permit2_receipt(&s, &stranger, "upto", Some(1)),
        permit2_receipt(&s, &good, "upto", Some(10_000)),
    ];
    let (data, _) = s.submit(receipts, vec![]).unwrap();
    assert_eq!(
        reasons(&data),
        vec![
            "invalid_upto_evm_payload_settlement_exceeds_amount",
            "settlement_missing",
            "invalid_permit2_signature",
            "invalid_settlement",
            "accepted",
        ]
    );
    // The rejected ones did not consume their nonces.
    assert!(!s.status(&over.payer.address(), &over.nonce).consumed);
}
