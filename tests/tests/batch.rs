//! Batches through the real verifier -> registry -> pool: bad receipts are rejected with their
//! reason while the good ones count, replays are refused across and within batches, jailed nodes
//! earn nothing.
use cosmwasm_std::{Binary, Uint128};
use cw_multi_test::Executor;
use opg_integration_tests::{
    reasons, root_error, ReceiptOpts, SuiteBuilder, GPT, GPT_MINI, H100, LLAMA,
};

/// Re-encodes an x402 payment header with the payer signature's `v` byte flipped (27 <-> 28).
fn flip_payer_v(header: &str) -> String {
    use base64::Engine as _;
    let engine = base64::engine::general_purpose::STANDARD;
    let mut payload: opg_core::x402::PaymentPayload =
        serde_json::from_slice(&engine.decode(header).unwrap()).unwrap();
    let sig = &mut payload.payload.signature;
    let v = if sig.ends_with("1b") { "1c" } else { "1b" };
    sig.replace_range(sig.len() - 2.., v);
    engine.encode(serde_json::to_vec(&payload).unwrap())
}

#[test]
fn bad_receipts_are_rejected_with_their_reason_and_good_ones_count() {
    let mut s = SuiteBuilder::new().with_pool_funds(5_000_000).build();
    s.register_proxy("proxy-1", &[GPT], 1_000_000).unwrap();
    s.register_local("local-1", &[LLAMA], H100, 1_000_000)
        .unwrap();
    let alice = s.payer("alice");
    s.goto_epoch(0, 1_000);
    let t = s.now() - 5;

    let good_v1 = s.receipt("proxy-1", &alice, 10_000, t);
    // x402 v2 payload (PAYMENT-SIGNATURE, CAIP-2 network, `amount`).
    let good_v2 = s.receipt_with(
        "proxy-1",
        &alice,
        20_000,
        t,
        ReceiptOpts {
            x402_version: 2,
            ..ReceiptOpts::default()
        },
    );
    // Receipt altered after the node signed it.
    let mut tampered = s.receipt("proxy-1", &alice, 10_000, t);
    tampered.receipt.completion_tokens += 1;
    // Payer signature flipped (v 27 <-> 28) inside the base64 payment header: the node's
    // signature binds payer, nonce, value, asset and network, not the payer's signature, so only
    // the payer check catches it.
    let mut forged = s.receipt("proxy-1", &alice, 10_000, t);
    forged.payment = flip_payer_v(&forged.payment);
    // No facilitator settlement while the verifier requires one.
    let unsettled = s.receipt_with(
        "proxy-1",
        &alice,
        10_000,
        t,
        ReceiptOpts {
            settled: false,
            ..ReceiptOpts::default()
        },
    );
    // The node pays itself.
    let payee = s.node("proxy-1").payee.clone();
    let self_dealt = s.receipt("proxy-1", &payee, 10_000, t);
    // A commercial model on the list that proxy-1 does not serve.
    let not_served = s.receipt_with(
        "proxy-1",
        &alice,
        10_000,
        t,
        ReceiptOpts {
            model_id: Some(GPT_MINI.to_string()),
            ..ReceiptOpts::default()
        },
    );
    // Garbage payment header.
    let mut garbage = s.receipt("local-1", &alice, 10_000, t);
    garbage.payment = "not base64 json".to_string();
    // Node signature of the wrong length.
    let mut short_sig = s.receipt("local-1", &alice, 10_000, t);
    short_sig.node_signature = Binary::from(vec![1u8; 10]);
    let good_local = s.receipt("local-1", &alice, 5_000, t);

    let res = s
        .submit(
            vec![
                good_v1, tampered, good_v2, forged, unsettled, self_dealt, not_served, garbage,
                short_sig, good_local,
            ],
            vec![],
        )
        .unwrap();
    assert_eq!(
        reasons(&res),
        vec![
            None,
            Some("invalid_node_signature".to_string()),
            None,
            Some("invalid_exact_evm_payload_signature".to_string()),
            Some("settlement_missing".to_string()),
            Some("self_dealing".to_string()),
            Some("model_not_served".to_string()),
            Some("invalid_payload".to_string()),
            Some("invalid_node_signature".to_string()),
            None,
        ]
    );
    assert_eq!((res.accepted, res.rejected), (3, 7));
    for (i, r) in res.receipts.iter().enumerate() {
        assert_eq!(r.index as usize, i);
    }
    // The rejected receipts' nonces stay unused: only accepted ones are consumed.
    let tampered_result = &res.receipts[1];
    let status = s.receipt_status(
        tampered_result.payer.as_deref().unwrap(),
        tampered_result.nonce.as_deref().unwrap(),
    );
    assert!(!status.consumed);
    let good_result = &res.receipts[0];
    let status = s.receipt_status(
        good_result.payer.as_deref().unwrap(),
        good_result.nonce.as_deref().unwrap(),
    );
    assert!(status.consumed);
    assert_eq!(status.epoch, Some(0));

    // Only the good ones reached the pool: proxy-1 2 calls, 10,000 + 20,000; local-1 1 call 5,000.
    let proxy = &s.node_rewards("proxy-1").epochs[0];
    assert_eq!((proxy.epoch, proxy.calls), (0, 2));
    assert_eq!(proxy.raw_value, Uint128::new(30_000));
    let local = &s.node_rewards("local-1").epochs[0];
    assert_eq!((local.calls, local.raw_value), (1, Uint128::new(5_000)));
    assert!(local.live);
}

#[test]
fn replays_are_rejected_across_and_within_batches() {
    let mut s = SuiteBuilder::new().build();
    s.register_proxy("proxy-1", &[GPT], 1_000_000).unwrap();
    let alice = s.payer("alice");
    s.goto_epoch(0, 100);
    let t = s.now() - 1;
    let r = s.receipt("proxy-1", &alice, 10_000, t);

    let first = s.submit(vec![r.clone(), r.clone()], vec![]).unwrap();
    assert_eq!(
        reasons(&first),
        vec![None, Some("duplicate_in_batch".to_string())]
    );
    // VerifyReceipt (no state change) already sees the nonce as used.
    let verdict = s.verify(&r);
    assert!(!verdict.valid);
    assert_eq!(verdict.reason.as_deref(), Some("nonce_already_used"));

    s.advance(60);
    let second = s.submit(vec![r.clone()], vec![]).unwrap();
    assert_eq!(
        reasons(&second),
        vec![Some("nonce_already_used".to_string())]
    );

    // Same nonce under a different receipt (other value, re-signed): still the same (payer, nonce).
    let nonce = opg_integration_tests::sha256(b"fixed-nonce");
    let t = s.now() - 1;
    let a = s.receipt_with(
        "proxy-1",
        &alice,
        1_000,
        t,
        ReceiptOpts {
            nonce: Some(nonce),
            ..ReceiptOpts::default()
        },
    );
    let b = s.receipt_with(
        "proxy-1",
        &alice,
        2_000,
        t,
        ReceiptOpts {
            nonce: Some(nonce),
            ..ReceiptOpts::default()
        },
    );
    assert_eq!(reasons(&s.submit(vec![a], vec![]).unwrap()), vec![None]);
    assert_eq!(
        reasons(&s.submit(vec![b], vec![]).unwrap()),
        vec![Some("nonce_already_used".to_string())]
    );
    // Another payer may use the same nonce value.
    let bob = s.payer("bob");
    let c = s.receipt_with(
        "proxy-1",
        &bob,
        1_000,
        t,
        ReceiptOpts {
            nonce: Some(nonce),
            ..ReceiptOpts::default()
        },
    );
    assert_eq!(reasons(&s.submit(vec![c], vec![]).unwrap()), vec![None]);

    // The pool counted each accepted receipt once: 10,000 + 1,000 + 1,000.
    let e0 = &s.node_rewards("proxy-1").epochs[0];
    assert_eq!((e0.calls, e0.raw_value), (3, Uint128::new(12_000)));
}

#[test]
fn jailed_nodes_receipts_are_rejected_until_unjailed() {
    let mut s = SuiteBuilder::new().with_pool_funds(5_000_000).build();
    s.register_proxy("proxy-1", &[GPT], 1_000_000).unwrap();
    s.register_proxy("proxy-2", &[GPT], 1_000_000).unwrap();
    let alice = s.payer("alice");
    s.goto_epoch(0, 100);
    s.jail("proxy-1", "served cached answers").unwrap();
    assert_eq!(
        s.node_info("proxy-1").jail_reason.as_deref(),
        Some("served cached answers")
    );
    let t = s.now() - 1;
    let jailed = s.receipt("proxy-1", &alice, 10_000, t);
    let fine = s.receipt("proxy-2", &alice, 10_000, t);
    assert_eq!(s.verify(&jailed).reason.as_deref(), Some("node_jailed"));
    let res = s.submit(vec![jailed.clone(), fine], vec![]).unwrap();
    assert_eq!(reasons(&res), vec![Some("node_jailed".to_string()), None]);

    // Not consumed while rejected, so the same receipt counts once the node is unjailed.
    s.unjail("proxy-1").unwrap();
    assert!(s.verify(&jailed).valid);
    let res = s.submit(vec![jailed], vec![]).unwrap();
    assert_eq!(reasons(&res), vec![None]);

    // Jail again before finalization: receipts of the jail window never reached the pool.
    s.jail("proxy-1", "again").unwrap();
    let t = s.now();
    let r = s.receipt("proxy-1", &alice, 99_000, t);
    assert_eq!(
        reasons(&s.submit(vec![r], vec![]).unwrap()),
        vec![Some("node_jailed".to_string())]
    );
    s.goto_finalizable(0);
    s.finalize(0).unwrap();
    // Each node has one accepted 10,000 receipt: the usage budget is split evenly.
    // B = 1,000,000, no live local node -> H unpaid, U = 800,000: 400,000 each.
    assert_eq!(s.pending("proxy-1").amount, Uint128::new(400_000));
    assert_eq!(s.pending("proxy-2").amount, Uint128::new(400_000));

    // Only governance jails.
    let intruder = s.addr("intruder");
    let err = s
        .app
        .execute_contract(
            intruder,
            s.registry.clone(),
            &opg_core::msg::registry::ExecuteMsg::Jail(opg_core::msg::registry::JailMsg {
                node_id: "proxy-2".to_string(),
                reason: "x".to_string(),
            }),
            &[],
        )
        .unwrap_err();
    assert!(root_error(&err).contains("unauthorized"), "{err:?}");
}

#[test]
fn oversized_and_empty_batches_fail_as_a_whole() {
    let mut s = SuiteBuilder::new().with_max_batch(2).build();
    s.register_proxy("proxy-1", &[GPT], 1_000_000).unwrap();
    let alice = s.payer("alice");
    s.goto_epoch(0, 100);
    let t = s.now() - 1;
    let batch: Vec<_> = (0..3)
        .map(|_| s.receipt("proxy-1", &alice, 1_000, t))
        .collect();
    let err = s.submit(batch, vec![]).unwrap_err();
    assert!(root_error(&err).contains("batch too large"), "{err:?}");
    let err = s.submit(vec![], vec![]).unwrap_err();
    assert!(root_error(&err).contains("empty batch"), "{err:?}");
}
