//! `SubmitReceipts`: verdicts, replay protection, usage forwarded to the pool, batch bounds.
mod common;

use common::*;
use cosmwasm_std::{to_json_vec, Binary, Uint128};
use opg_core::msg::pool::{LiveNode, UsageEntry};
use opg_core::msg::verifier::{ExecuteMsg, UpdateConfigMsg};
use opg_core::sign::EvmSigner;
use opg_core::types::{NodeStatus, Provenance};
use opg_core::verify::decode_payment_header;
use receipt_verifier::ContractError;

#[test]
fn valid_v1_and_v2_receipts_from_secp256k1_and_ed25519_nodes_are_accepted() {
    let mut s = Suite::new();
    let v1_proxy = s.spec();
    let mut v2_proxy = s.spec();
    v2_proxy.version = 2;
    let v1_local = s.local_spec();
    let mut v2_local = s.local_spec();
    v2_local.version = 2;
    let receipts = [&v1_proxy, &v2_proxy, &v1_local, &v2_local].map(|sp| s.receipt(sp));

    let (data, res) = s.submit(receipts.to_vec(), vec![]).unwrap();

    assert_eq!(reasons(&data), vec!["accepted"; 4]);
    assert_eq!((data.accepted, data.rejected), (4, 0));
    for (i, r) in data.receipts.iter().enumerate() {
        assert_eq!(r.index, i as u32);
        assert_eq!(r.payer.as_deref(), Some(s.payers[0].address().as_str()));
    }
    assert_eq!(
        data.receipts[0].nonce,
        Some(format!("0x{}", hex::encode(v1_proxy.nonce)))
    );
    assert_eq!(attr(&res, "action").as_deref(), Some("submit_receipts"));
    assert_eq!(attr(&res, "accepted").as_deref(), Some("4"));
    assert_eq!(attr(&res, "rejected").as_deref(), Some("0"));
    assert_eq!(
        attr(&res, "accepted_nodes").as_deref(),
        Some("local-1:2,proxy-1:2")
    );
    // Both nonces are consumed, in epoch 1.
    let status = s.status(&s.payers[0].address(), &v2_local.nonce);
    assert!(status.consumed);
    assert_eq!(status.epoch, Some(1));
}

#[test]
fn one_bad_receipt_is_rejected_with_its_reason_while_the_others_are_accepted() {
    let mut s = Suite::new();
    let good_a = s.spec();
    let mut bad = s.spec();
    bad.node = JAILED;
    let good_b = s.local_spec();
    let receipts = vec![s.receipt(&good_a), s.receipt(&bad), s.receipt(&good_b)];

    let (data, res) = s.submit(receipts, vec![]).unwrap();

    assert_eq!(reasons(&data), vec!["accepted", "node_jailed", "accepted"]);
    assert_eq!((data.accepted, data.rejected), (2, 1));
    // The rejected receipt still reports what decoded of its payment.
    assert_eq!(
        data.receipts[1].nonce,
        Some(format!("0x{}", hex::encode(bad.nonce)))
    );
    assert_eq!(attr(&res, "rejected_1").as_deref(), Some("node_jailed"));
    assert_eq!(attr(&res, "rejected_0"), None);
    // The rejected nonce is not consumed.
    assert!(!s.status(&bad.payer.address(), &bad.nonce).consumed);
    assert!(s.status(&good_a.payer.address(), &good_a.nonce).consumed);
}

#[test]
fn a_withdrawn_nodes_receipt_is_rejected_while_the_rest_of_the_batch_lands() {
    let mut s = Suite::new();
    s.set_node_status(PROXY_2, NodeStatus::Withdrawn);
    let good_a = s.spec();
    let mut withdrawn = s.spec();
    withdrawn.node = PROXY_2;
    let good_b = s.local_spec();
    let receipts = vec![
        s.receipt(&good_a),
        s.receipt(&withdrawn),
        s.receipt(&good_b),
    ];

    let (data, res) = s.submit(receipts, vec![]).unwrap();

    assert_eq!(
        reasons(&data),
        vec!["accepted", "node_withdrawn", "accepted"]
    );
    assert_eq!((data.accepted, data.rejected), (2, 1));
    assert_eq!(attr(&res, "rejected_1").as_deref(), Some("node_withdrawn"));
    assert!(
        !s.status(&withdrawn.payer.address(), &withdrawn.nonce)
            .consumed
    );
    // The pool hears of the two accepted receipts only.
    let recorded = s.recorded();
    assert_eq!(recorded.len(), 1);
    assert!(recorded[0]
        .entries
        .iter()
        .all(|e| e.node_id != PROXY_2 && e.calls == 1));
    // A withdrawn node's heartbeat is refused the same way.
    let heartbeat_node = LOCAL;
    s.set_node_status(heartbeat_node, NodeStatus::Withdrawn);
    let t = s.now();
    let heartbeat = s.heartbeat(heartbeat_node, t);
    let spec = s.spec();
    let receipt = s.receipt(&spec);
    let (data, _) = s.submit(vec![receipt], vec![heartbeat]).unwrap();
    assert_eq!(
        data.heartbeats[0].rejected.as_deref(),
        Some("node_withdrawn")
    );
}

/// Submits one receipt alone and returns its reason.
fn reason_of(s: &mut Suite, spec: &Spec) -> String {
    let receipt = s.receipt(spec);
    let (data, _) = s.submit(vec![receipt], vec![]).unwrap();
    reasons(&data).remove(0)
}

#[test]
fn registry_based_rejections() {
    let mut s = Suite::new();

    let mut jailed = s.spec();
    jailed.node = JAILED;
    assert_eq!(reason_of(&mut s, &jailed), "node_jailed");

    let mut not_served = s.spec();
    not_served.model = GPT_4O;
    assert_eq!(reason_of(&mut s, &not_served), "model_not_served");

    let mut unknown_model = s.spec();
    unknown_model.model = "acme/unknown";
    assert_eq!(reason_of(&mut s, &unknown_model), "model_unknown");

    let mut self_dealing = s.spec();
    self_dealing.payer = s.node(PROXY).payee.clone();
    assert_eq!(reason_of(&mut s, &self_dealing), "self_dealing");

    let mut wrong_recipient = s.spec();
    wrong_recipient.pay_to = Some(s.node(PROXY_2).payee.address());
    assert_eq!(reason_of(&mut s, &wrong_recipient), "recipient_not_node");

    // The registry is read at submission time: an unbonding node's receipts stop counting.
    s.set_node_status(PROXY_2, NodeStatus::Unbonding);
    let mut inactive = s.spec();
    inactive.node = PROXY_2;
    assert_eq!(reason_of(&mut s, &inactive), "node_inactive");
    assert!(s.recorded().is_empty());
}

#[test]
fn settlement_rejections() {
    let mut s = Suite::new();

    let mut missing = s.spec();
    missing.facilitator = None;
    assert_eq!(reason_of(&mut s, &missing), "settlement_missing");

    let mut unlisted = s.spec();
    unlisted.facilitator = Some(EvmSigner::derive(SEED, "rogue facilitator"));
    assert_eq!(reason_of(&mut s, &unlisted), "invalid_settlement");

    // A listed facilitator whose signature does not cover this payment.
    let spec = s.spec();
    let mut receipt = s.receipt(&spec);
    let other = s.spec();
    receipt.settlement = s.receipt(&other).settlement;
    let (data, _) = s.submit(vec![receipt], vec![]).unwrap();
    assert_eq!(reasons(&data), vec!["invalid_settlement"]);

    // With the policy off, an unsettled receipt counts.
    let gov = s.governance.clone();
    s.execute(
        &gov,
        &ExecuteMsg::UpdateConfig(UpdateConfigMsg {
            require_settlement: Some(false),
            ..Default::default()
        }),
    )
    .unwrap();
    let mut unsettled = s.spec();
    unsettled.facilitator = None;
    assert_eq!(reason_of(&mut s, &unsettled), "accepted");
}

#[test]
fn tampered_payment_and_node_signature_are_rejected() {
    let mut s = Suite::new();

    // Raising the authorized value after signing breaks the payer's signature.
    let spec = s.spec();
    let mut receipt = s.receipt(&spec);
    let mut payload = decode_payment_header(&receipt.payment).unwrap();
    payload.payload.authorization.as_mut().unwrap().value = (spec.value + 1).to_string();
    receipt.payment = Binary::from(to_json_vec(&payload).unwrap()).to_base64();
    let (data, _) = s.submit(vec![receipt], vec![]).unwrap();
    assert_eq!(reasons(&data), vec!["invalid_exact_evm_payload_signature"]);

    // Not a payment at all.
    let spec = s.spec();
    let mut receipt = s.receipt(&spec);
    receipt.payment = "bm90IGpzb24=".to_string();
    let (data, _) = s.submit(vec![receipt], vec![]).unwrap();
    assert_eq!(reasons(&data), vec!["invalid_payload"]);
    assert_eq!(data.receipts[0].payer, None);

    // A flipped bit in the node's signature.
    for spec in [s.spec(), s.local_spec()] {
        let mut receipt = s.receipt(&spec);
        let mut sig = receipt.node_signature.to_vec();
        sig[10] ^= 1;
        receipt.node_signature = Binary::from(sig);
        let (data, _) = s.submit(vec![receipt], vec![]).unwrap();
        assert_eq!(reasons(&data), vec!["invalid_node_signature"]);
    }

    // Served outside the payment window.
    let mut late = s.spec();
    late.valid_before = late.served_at;
    assert_eq!(reason_of(&mut s, &late), "served_outside_payment_window");
    assert!(s.recorded().is_empty());
}

#[test]
fn nonce_is_consumed_once_across_batches() {
    let mut s = Suite::new();
    let spec = s.spec();
    let receipt = s.receipt(&spec);
    let (data, _) = s.submit(vec![receipt.clone()], vec![]).unwrap();
    assert_eq!(reasons(&data), vec!["accepted"]);

    // The same receipt again.
    let (data, _) = s.submit(vec![receipt], vec![]).unwrap();
    assert_eq!(reasons(&data), vec!["nonce_already_used"]);

    // The same payment re-signed by the node with another served_at (and another node key would
    // not help either): still the same (payer, nonce).
    let mut resigned = spec.clone();
    resigned.served_at += 10;
    assert_eq!(reason_of(&mut s, &resigned), "nonce_already_used");

    // The same payer with a fresh nonce is fine.
    let fresh = s.spec();
    assert_eq!(reason_of(&mut s, &fresh), "accepted");
    assert_eq!(s.recorded().len(), 2);
}

#[test]
fn replay_within_a_batch_is_a_duplicate() {
    let mut s = Suite::new();
    let spec = s.spec();
    let receipt = s.receipt(&spec);
    let mut resigned = spec.clone();
    resigned.served_at += 5;
    let other = s.spec();
    let receipts = vec![
        receipt.clone(),
        s.receipt(&other),
        receipt,
        s.receipt(&resigned),
    ];
    let (data, res) = s.submit(receipts, vec![]).unwrap();
    assert_eq!(
        reasons(&data),
        vec![
            "accepted",
            "accepted",
            "duplicate_in_batch",
            "duplicate_in_batch"
        ]
    );
    assert_eq!(
        attr(&res, "rejected_2").as_deref(),
        Some("duplicate_in_batch")
    );
    // Counted once.
    let rec = s.recorded();
    assert_eq!(rec[0].entries[0].calls, 2);
}

#[test]
fn a_bad_first_copy_does_not_consume_the_nonce() {
    let mut s = Suite::new();
    let spec = s.spec();
    let good = s.receipt(&spec);
    let mut bad = good.clone();
    bad.settlement = None;
    let (data, _) = s.submit(vec![bad, good], vec![]).unwrap();
    assert_eq!(reasons(&data), vec!["settlement_missing", "accepted"]);
}

#[test]
fn receipts_of_a_closed_epoch_are_rejected_after_grace() {
    let mut s = Suite::new();
    let spec = s.spec(); // served in epoch 1
    let receipt = s.receipt(&spec);
    // Still accepted during the grace period after epoch 1 ends.
    s.set_time(s.clock.end(1) + GRACE - 1);
    assert!(s.verify(&receipt).valid);
    s.set_time(s.clock.end(1) + GRACE);
    let (data, _) = s.submit(vec![receipt], vec![]).unwrap();
    assert_eq!(reasons(&data), vec!["epoch_closed"]);

    // Served in the future.
    let mut future = s.spec();
    future.served_at = s.now() + 10;
    future.valid_before = future.served_at + 100;
    assert_eq!(reason_of(&mut s, &future), "epoch_closed");
}

#[test]
fn usage_goes_to_the_pool_in_one_message_aggregated_per_node() {
    let mut s = Suite::new();
    let a1 = s.spec();
    let mut a2 = s.spec();
    a2.value = 25_000;
    let mut b = s.spec();
    b.payer = s.payers[1].clone();
    let mut c = s.spec();
    c.node = PROXY_2;
    let l1 = s.local_spec();
    let mut l2 = s.local_spec();
    l2.version = 2;
    let mut rejected = s.spec();
    rejected.facilitator = None;
    let receipts = [&a1, &a2, &b, &c, &l1, &l2, &rejected].map(|sp| s.receipt(sp));

    let (data, _) = s.submit(receipts.to_vec(), vec![]).unwrap();
    assert_eq!((data.accepted, data.rejected), (6, 1));

    let recorded = s.recorded();
    assert_eq!(recorded.len(), 1, "exactly one RecordUsage per batch");
    assert_eq!(recorded[0].sender, s.verifier);
    let entry = |node: &str, provenance, calls, value: u128| UsageEntry {
        epoch: 1,
        node_id: node.to_string(),
        provenance,
        calls,
        value: Uint128::new(value),
        counted_value: Uint128::new(value),
    };
    // Per node, whoever paid: PROXY's three calls of two payers are one entry.
    let mut expected = vec![
        entry(PROXY, Provenance::Commercial, 3, 45_000),
        entry(PROXY_2, Provenance::Commercial, 1, 10_000),
        entry(LOCAL, Provenance::Community, 2, 20_000),
    ];
    let mut got = recorded[0].entries.clone();
    let key = |e: &UsageEntry| e.node_id.clone();
    expected.sort_by_key(key);
    got.sort_by_key(key);
    assert_eq!(got, expected);
    // The local node is live once, with its attested class.
    assert_eq!(
        recorded[0].live,
        vec![LiveNode {
            epoch: 1,
            node_id: LOCAL.to_string(),
            hardware_class: "h100".to_string()
        }]
    );

    // A batch where nothing is accepted sends nothing.
    let mut bad = s.spec();
    bad.node = JAILED;
    let r = s.receipt(&bad);
    let (data, res) = s.submit(vec![r], vec![]).unwrap();
    assert_eq!(data.accepted, 0);
    assert_eq!(attr(&res, "accepted_nodes"), None);
    assert_eq!(s.recorded().len(), 1);
    assert!(!res
        .events
        .iter()
        .any(|e| e.ty == "execute" && e.attributes.iter().any(|a| a.value == s.pool.as_str())));
}

#[test]
fn usage_of_two_epochs_in_one_batch_is_split_by_epoch() {
    let mut s = Suite::new();
    // Epoch 2 starts; epoch 1 is still in grace.
    s.set_time(s.clock.start(2) + 100);
    let mut old = s.spec();
    old.served_at = s.clock.end(1) - 10;
    old.valid_after = old.served_at - 10;
    old.valid_before = old.served_at + 300;
    let new = s.spec();
    let receipts = vec![s.receipt(&old), s.receipt(&new)];
    let (data, _) = s.submit(receipts, vec![]).unwrap();
    assert_eq!(data.accepted, 2);
    let mut epochs: Vec<u64> = s.recorded()[0].entries.iter().map(|e| e.epoch).collect();
    epochs.sort();
    assert_eq!(epochs, vec![1, 2]);
}

/// Each call counts `min(value, v_cap)` with the `v_cap` of its own epoch (DESIGN §4): a batch
/// spanning an epoch whose pool params changed counts each call under its epoch's cap.
#[test]
fn counted_value_caps_each_call_at_the_v_cap_of_its_epoch() {
    let mut s = Suite::new();
    s.set_pool_v_cap(1, 15_000);
    s.set_pool_v_cap(2, 5_000);
    s.set_time(s.clock.start(2) + 100);
    let mut old = |value| {
        let mut sp = s.spec();
        sp.served_at = s.clock.end(1) - 10;
        sp.valid_after = sp.served_at - 10;
        sp.valid_before = sp.served_at + 300;
        sp.value = value;
        sp
    };
    let old_small = old(10_000);
    let old_big = old(40_000);
    let mut new_big = s.spec();
    new_big.value = 40_000;
    let new_small = s.spec();
    let receipts = [&old_small, &old_big, &new_big, &new_small].map(|sp| s.receipt(sp));
    let (data, _) = s.submit(receipts.to_vec(), vec![]).unwrap();
    assert_eq!(data.accepted, 4);
    let mut got: Vec<(u64, u64, u128, u128)> = s.recorded()[0]
        .entries
        .iter()
        .map(|e| (e.epoch, e.calls, e.value.u128(), e.counted_value.u128()))
        .collect();
    got.sort();
    // Epoch 1 (v_cap 15_000): 10_000 + min(40_000, 15_000); epoch 2 (v_cap 5_000): 5_000 + 5_000.
    assert_eq!(got, vec![(1, 2, 50_000, 25_000), (2, 2, 50_000, 10_000)]);
}

#[test]
fn heartbeats_make_local_nodes_live() {
    let mut s = Suite::new();
    let now = s.now();
    let hb = s.heartbeat(LOCAL, now - 5);
    let proxy_hb = s.heartbeat(PROXY, now - 5);
    let mut forged = s.heartbeat(LOCAL, now - 6);
    forged.timestamp -= 1; // signature no longer matches
    let future = s.heartbeat(LOCAL, now + 5);

    let (data, res) = s
        .submit(vec![], vec![hb.clone(), proxy_hb, forged, future])
        .unwrap();
    let hb_reasons: Vec<_> = data.heartbeats.iter().map(|h| h.rejected.clone()).collect();
    assert_eq!(
        hb_reasons,
        vec![
            None,
            Some("provenance_mismatch".to_string()),
            Some("invalid_node_signature".to_string()),
            Some("epoch_closed".to_string()),
        ]
    );
    assert_eq!((data.accepted, data.rejected), (0, 0));
    assert_eq!(attr(&res, "heartbeats_accepted").as_deref(), Some("1"));
    assert_eq!(
        attr(&res, "rejected_heartbeat_1").as_deref(),
        Some("provenance_mismatch")
    );
    let recorded = s.recorded();
    assert_eq!(recorded.len(), 1);
    assert!(recorded[0].entries.is_empty());
    assert_eq!(recorded[0].live.len(), 1);
    assert_eq!(recorded[0].live[0].node_id, LOCAL);

    // A heartbeat and a receipt of the same node and epoch: live once.
    let l = s.local_spec();
    let r = s.receipt(&l);
    let (data, _) = s.submit(vec![r], vec![hb]).unwrap();
    assert_eq!(data.accepted, 1);
    assert_eq!(s.recorded()[1].live.len(), 1);

    // A jailed local node's heartbeat is refused.
    s.set_node_status(LOCAL, NodeStatus::Jailed);
    let hb = s.heartbeat(LOCAL, s.now() - 1);
    let (data, _) = s.submit(vec![], vec![hb]).unwrap();
    assert_eq!(data.heartbeats[0].rejected.as_deref(), Some("node_jailed"));
    assert_eq!(s.recorded().len(), 2);
}

#[test]
fn batch_bounds() {
    let mut s = Suite::new();
    assert_eq!(
        s.submit(vec![], vec![]).unwrap_err(),
        ContractError::EmptyBatch {}
    );

    s.set_max_batch(2);
    let specs = [s.spec(), s.spec()];
    let receipts: Vec<_> = specs.iter().map(|sp| s.receipt(sp)).collect();
    let hb = s.heartbeat(LOCAL, s.now() - 1);
    assert_eq!(
        s.submit(receipts.clone(), vec![hb.clone()]).unwrap_err(),
        ContractError::BatchTooLarge { max: 2, got: 3 }
    );
    // Nothing was consumed by the failed batch.
    assert!(
        !s.status(&specs[0].payer.address(), &specs[0].nonce)
            .consumed
    );
    let (data, _) = s.submit(receipts, vec![]).unwrap();
    assert_eq!(data.accepted, 2);
    let (data, _) = s.submit(vec![], vec![hb]).unwrap();
    assert_eq!(data.heartbeats[0].rejected, None);
}

#[test]
fn batches_naming_more_than_256_nodes_query_the_registry_in_chunks() {
    let mut s = Suite::new();
    s.set_max_batch(500);
    let now = s.now();
    // The mock registry refuses more than 256 ids per query, as the real one does.
    let mut heartbeats: Vec<_> = (0..300)
        .map(|i| {
            let mut hb = s.heartbeat(LOCAL, now - 1);
            hb.node_id = format!("ghost-{i:03}");
            hb
        })
        .collect();
    heartbeats.push(s.heartbeat(LOCAL, now - 1));
    let spec = s.spec();
    let r = s.receipt(&spec);
    let (data, _) = s.submit(vec![r], heartbeats).unwrap();
    assert_eq!(data.accepted, 1);
    assert_eq!(data.heartbeats.len(), 301);
    assert!(data.heartbeats[..300]
        .iter()
        .all(|h| h.rejected.as_deref() == Some("node_unknown")));
    assert_eq!(data.heartbeats[300].rejected, None);
}
