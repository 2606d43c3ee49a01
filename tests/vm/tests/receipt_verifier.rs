//! `receipt-verifier` on its optimized artifact, with the real registry and pool behind it.
use opg_core::eip712::domain_salt;
use opg_core::msg::pool::{EpochReport, QueryMsg as PoolQueryMsg};
use opg_core::msg::verifier::{
    ConfigResponse, ExecuteMsg, QueryMsg, ReceiptStatusResponse, ReceiptVerdict,
    SubmitReceiptsResponse, SudoMsg,
};
use opg_core::msg::verifier::{PruneNoncesMsg, UpdateConfigMsg};
use opg_core::msg::MigrateMsg;
use opg_vm_tests::suite::{
    addr, ok, payer, set_cw2, Suite, LOCAL, MAX_BATCH, PROXY_ED, PROXY_SECP, VALUE,
};

#[test]
fn instantiate_reads_the_clock_from_the_pool() {
    let s = Suite::new();
    let cfg: ConfigResponse = ok("config", s.chain.query(&s.verifier, &QueryMsg::Config {}));
    assert_eq!(cfg.clock, s.clock);
    assert_eq!(cfg.max_batch, MAX_BATCH);
    assert!(cfg.require_settlement);
    assert_eq!(cfg.facilitators, vec![s.facilitator.address()]);
    let salt = domain_salt(&s.chain.block().chain_id, &s.addr_of(&s.verifier));
    assert_eq!(cfg.domain_salt, hex_encode(&salt));
}

fn hex_encode(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[test]
fn submit_accepts_receipts_of_both_key_types_and_records_usage_in_the_pool() {
    let mut s = Suite::new();
    let r1 = s.receipt(PROXY_SECP, &payer(0));
    let r2 = s.receipt(PROXY_ED, &payer(1));
    let r3 = s.receipt(LOCAL, &payer(2));
    let hb = s.heartbeat(LOCAL);
    let tx = ok("submit", s.submit(vec![r1.clone(), r2, r3], vec![hb]));
    let data: SubmitReceiptsResponse = tx.data();
    assert_eq!((data.accepted, data.rejected), (3, 0), "{data:?}");
    assert!(data.heartbeats.iter().all(|h| h.rejected.is_none()));
    // The verifier's RecordUsage reached the pool.
    assert_eq!(tx.responses.len(), 2);
    assert_eq!(tx.responses[1].0.as_str(), s.addr_of(&s.pool));
    let report: EpochReport = ok(
        "report",
        s.chain
            .query(&s.pool, &PoolQueryMsg::EpochReport { epoch: s.epoch() }),
    );
    assert_eq!(report.commercial.calls, 2);
    assert_eq!(report.community.calls, 1);
    assert_eq!(report.commercial.raw_value.u128(), 2 * VALUE);
    assert_eq!(report.live_local_nodes, 1);

    // The nonce is consumed: status, verdict and a replay say so.
    let payer0 = data.receipts[0].payer.clone().unwrap();
    let nonce0 = data.receipts[0].nonce.clone().unwrap();
    let status: ReceiptStatusResponse = ok(
        "status",
        s.chain.query(
            &s.verifier,
            &QueryMsg::ReceiptStatus {
                payer: payer0,
                nonce: nonce0,
            },
        ),
    );
    assert!(status.consumed);
    assert_eq!(status.epoch, Some(s.epoch()));
    let verdict: ReceiptVerdict = ok(
        "verify",
        s.chain.query(
            &s.verifier,
            &QueryMsg::VerifyReceipt {
                receipt: r1.clone(),
            },
        ),
    );
    assert!(!verdict.valid);
    assert_eq!(verdict.reason.as_deref(), Some("nonce_already_used"));
    let replay: SubmitReceiptsResponse = ok("replay", s.submit(vec![r1], vec![])).data();
    assert_eq!(replay.accepted, 0);
    assert_eq!(
        replay.receipts[0].rejected.as_deref(),
        Some("nonce_already_used")
    );
}

#[test]
fn verify_receipt_query_accepts_a_fresh_receipt_without_consuming_it() {
    let mut s = Suite::new();
    let r = s.receipt(PROXY_ED, &payer(0));
    let verdict: ReceiptVerdict = ok(
        "verify",
        s.chain
            .query(&s.verifier, &QueryMsg::VerifyReceipt { receipt: r.clone() }),
    );
    assert!(verdict.valid, "{verdict:?}");
    let accepted = verdict.accepted.unwrap();
    assert_eq!(accepted.node_id, PROXY_ED);
    assert_eq!(accepted.value_micro_usd.u128(), VALUE);
    let data: SubmitReceiptsResponse = ok("submit", s.submit(vec![r], vec![])).data();
    assert_eq!(data.accepted, 1);
}

#[test]
fn permit2_exact_and_upto_receipts_are_accepted_and_upto_counts_the_settled_amount() {
    let mut s = Suite::new();
    let exact = s.permit2_receipt(PROXY_SECP, &payer(0), "exact", None);
    let upto = s.permit2_receipt(PROXY_SECP, &payer(1), "upto", Some(VALUE / 4));
    let over = s.permit2_receipt(PROXY_SECP, &payer(2), "upto", Some(VALUE + 1));
    let verdict: ReceiptVerdict = ok(
        "verify",
        s.chain.query(
            &s.verifier,
            &QueryMsg::VerifyReceipt {
                receipt: upto.clone(),
            },
        ),
    );
    assert!(verdict.valid, "{verdict:?}");
    assert_eq!(verdict.accepted.unwrap().value.u128(), VALUE / 4);
    let tx = ok("submit", s.submit(vec![exact.clone(), upto, over], vec![]));
    let data: SubmitReceiptsResponse = tx.data();
    let reasons: Vec<Option<&str>> = data
        .receipts
        .iter()
        .map(|r| r.rejected.as_deref())
        .collect();
    assert_eq!(
        reasons,
        vec![
            None,
            None,
            Some("invalid_upto_evm_payload_settlement_exceeds_amount")
        ]
    );
    // Replay of the Permit2 nonce.
    let data: SubmitReceiptsResponse = ok("resubmit", s.submit(vec![exact], vec![])).data();
    assert_eq!(
        data.receipts[0].rejected.as_deref(),
        Some("nonce_already_used")
    );
}

#[test]
fn bad_receipts_are_rejected_with_reasons_without_failing_the_batch() {
    let mut s = Suite::new();
    let good = s.receipt(PROXY_SECP, &payer(0));
    // Signed for another deployment (domain of another verifier address): bad node signature.
    let mut tampered = s.receipt(PROXY_SECP, &payer(1));
    tampered.receipt.completion_tokens += 1;
    // Unknown node.
    let mut unknown = s.receipt(PROXY_SECP, &payer(2));
    unknown.receipt.node_id = "ghost-node".to_string();
    let duplicate = good.clone();
    let tx = ok(
        "submit",
        s.submit(vec![good, tampered, unknown, duplicate], vec![]),
    );
    let data: SubmitReceiptsResponse = tx.data();
    assert_eq!((data.accepted, data.rejected), (1, 3));
    let reasons: Vec<Option<&str>> = data
        .receipts
        .iter()
        .map(|r| r.rejected.as_deref())
        .collect();
    assert_eq!(reasons[0], None);
    assert_eq!(reasons[1], Some("invalid_node_signature"));
    assert_eq!(reasons[2], Some("node_unknown"));
    assert_eq!(reasons[3], Some("duplicate_in_batch"));
    assert_eq!(tx.attr("accepted"), Some("1"));
    assert_eq!(tx.attr("rejected"), Some("3"));
}

#[test]
fn empty_and_oversized_batches_fail() {
    let mut s = Suite::new();
    let err = s.submit(vec![], vec![]).unwrap_err();
    assert!(err.contains("empty batch"), "{err}");
    // Shrink max_batch through chain governance (one step at a time), then exceed it.
    s.set_max_batch(2);
    let receipts = s.receipts(PROXY_ED, 3);
    let err = s.submit(receipts, vec![]).unwrap_err();
    assert!(err.contains("batch too large: 3 items, at most 2"), "{err}");
}

#[test]
fn update_config_is_governance_only_and_sudo_works() {
    let mut s = Suite::new();
    let msg = ExecuteMsg::UpdateConfig(UpdateConfigMsg {
        require_settlement: Some(false),
        ..Default::default()
    });
    let stranger = addr("stranger");
    let err = s
        .chain
        .execute(&s.verifier, &stranger, 0, &msg)
        .unwrap_err();
    assert!(err.contains("unauthorized"), "{err}");
    let block = s.chain.block();
    let res = s.verifier.borrow_mut().sudo(
        &block,
        &SudoMsg::UpdateConfig(UpdateConfigMsg {
            require_settlement: Some(false),
            max_batch: Some(250),
            ..Default::default()
        }),
    );
    res.into_result().unwrap();
    let cfg: ConfigResponse = ok("config", s.chain.query(&s.verifier, &QueryMsg::Config {}));
    assert!(!cfg.require_settlement);
    assert_eq!(cfg.max_batch, 250);
    // Invalid values are refused.
    let gov = s.governance.clone();
    let err = s
        .chain
        .execute(
            &s.verifier,
            &gov,
            0,
            &ExecuteMsg::UpdateConfig(UpdateConfigMsg {
                max_batch: Some(0),
                ..Default::default()
            }),
        )
        .unwrap_err();
    assert!(err.contains("invalid max_batch 0"), "{err}");
}

#[test]
fn prune_nonces_removes_closed_epochs_only() {
    let mut s = Suite::new();
    let receipts = s.receipts(PROXY_ED, 3);
    let data: SubmitReceiptsResponse = ok("submit", s.submit(receipts, vec![])).data();
    assert_eq!(data.accepted, 3);
    let anyone = addr("anyone");
    let prune = |limit| ExecuteMsg::PruneNonces(PruneNoncesMsg { limit });
    // Nothing closed yet.
    let tx = ok(
        "prune",
        s.chain.execute(&s.verifier, &anyone, 0, &prune(10)),
    );
    assert_eq!(tx.attr("removed"), Some("0"));
    let err = s
        .chain
        .execute(&s.verifier, &anyone, 0, &prune(0))
        .unwrap_err();
    assert!(err.contains("invalid prune limit 0"), "{err}");
    // After the epoch (and its grace) closes, the nonces go.
    let epoch = s.epoch();
    s.advance_past_grace(epoch);
    let tx = ok("prune", s.chain.execute(&s.verifier, &anyone, 0, &prune(2)));
    assert_eq!(tx.attr("removed"), Some("2"));
    let tx = ok(
        "prune",
        s.chain.execute(&s.verifier, &anyone, 0, &prune(10)),
    );
    assert_eq!(tx.attr("removed"), Some("1"));
    let status: ReceiptStatusResponse = ok(
        "status",
        s.chain.query(
            &s.verifier,
            &QueryMsg::ReceiptStatus {
                payer: data.receipts[0].payer.clone().unwrap(),
                nonce: data.receipts[0].nonce.clone().unwrap(),
            },
        ),
    );
    assert!(!status.consumed);
    assert!(status.pruned);
}

#[test]
fn receipt_status_rejects_malformed_input() {
    let s = Suite::new();
    let err = s
        .chain
        .query::<_, ReceiptStatusResponse>(
            &s.verifier,
            &QueryMsg::ReceiptStatus {
                payer: "0x1234".to_string(),
                nonce: format!("0x{}", "00".repeat(32)),
            },
        )
        .unwrap_err();
    assert!(err.contains("invalid payer"), "{err}");
}

#[test]
fn migrate_accepts_same_version_and_refuses_other_contracts_and_downgrades() {
    let s = Suite::new();
    let block = s.chain.block();
    let res = s.verifier.borrow_mut().migrate(&block, &MigrateMsg {});
    let res = res.into_result().unwrap();
    assert!(res
        .attributes
        .iter()
        .any(|a| a.key == "action" && a.value == "migrate"));

    set_cw2(&s.verifier, "crates.io:cw20-base", "0.1.0");
    let err = s
        .verifier
        .borrow_mut()
        .migrate(&block, &MigrateMsg {})
        .unwrap_err();
    assert!(err.contains("cannot migrate from contract"), "{err}");

    set_cw2(&s.verifier, "crates.io:opg-receipt-verifier", "99.0.0");
    let err = s
        .verifier
        .borrow_mut()
        .migrate(&block, &MigrateMsg {})
        .unwrap_err();
    assert!(err.contains("down to"), "{err}");
}

/// secp256k1 group order n (big-endian), from SEC 2 §2.4.1.
const N: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
    0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41,
];

/// The malleable twin of a 65-byte `r || s || v` signature: `(r, n - s)` with the other recovery
/// id. A valid ECDSA signature by the same key over the same digest, with high s.
fn high_s_twin(sig: &[u8]) -> Vec<u8> {
    let mut out = sig.to_vec();
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let d = N[i] as i16 - sig[32 + i] as i16 - borrow;
        borrow = i16::from(d < 0);
        out[32 + i] = (d + if d < 0 { 256 } else { 0 }) as u8;
    }
    let id = sig[64] % 27;
    out[64] = 27 + (1 - id);
    out
}

#[test]
fn high_s_node_signatures_are_rejected_on_chain_though_the_host_would_normalize_them() {
    // The chain host itself accepts a high-s signature: `secp256k1_recover_pubkey` normalizes it
    // and recovers the same key. So the rejection below is opg's own rule (opg-core's
    // `split_evm_signature`, run by the contract and the keeper alike), not the host's.
    let signer = payer(99);
    let digest = [7u8; 32];
    let sig = signer.sign_digest(&digest);
    let twin = high_s_twin(&sig);
    assert!(twin[32..64] > sig[32..64], "the twin has the high s");
    let low = cosmwasm_crypto::secp256k1_recover_pubkey(&digest, &sig[..64], sig[64] - 27).unwrap();
    let high =
        cosmwasm_crypto::secp256k1_recover_pubkey(&digest, &twin[..64], twin[64] - 27).unwrap();
    assert_eq!(low, high);

    // On the chain (the optimized artifact in the VM): a receipt whose node signature is the
    // high-s twin is rejected with its reason and consumes nothing; the original then lands.
    let mut s = Suite::new();
    let r = s.receipt(PROXY_SECP, &payer(0));
    let mut malleated = r.clone();
    malleated.node_signature = twin_binary(&r.node_signature);
    let data: SubmitReceiptsResponse =
        ok("submit high-s", s.submit(vec![malleated], vec![])).data();
    assert_eq!(
        data.receipts[0].rejected.as_deref(),
        Some("invalid_node_signature"),
        "{data:?}"
    );
    let data: SubmitReceiptsResponse = ok("submit low-s", s.submit(vec![r], vec![])).data();
    assert_eq!((data.accepted, data.rejected), (1, 0), "{data:?}");
}

fn twin_binary(sig: &cosmwasm_std::Binary) -> cosmwasm_std::Binary {
    assert_eq!(sig.len(), 65, "a secp256k1 node signature");
    cosmwasm_std::Binary::from(high_s_twin(sig.as_slice()))
}

#[test]
fn unknown_fields_are_refused_on_chain_naming_them() {
    let mut s = Suite::new();
    let r = s.receipt(PROXY_SECP, &payer(0));
    let msg = serde_json::json!({"submit_receipts": {"receipts": [r.clone()], "heartbeats": [], "extra": 1}});
    let anyone = addr("anyone");
    let err = s.chain.execute(&s.verifier, &anyone, 0, &msg).unwrap_err();
    assert!(err.contains("unknown field `extra`"), "{err}");
    // Nothing was consumed: the same receipt lands in a well-formed batch.
    let data: SubmitReceiptsResponse = ok("submit", s.submit(vec![r], vec![])).data();
    assert_eq!((data.accepted, data.rejected), (1, 0), "{data:?}");
}

#[test]
fn the_compact_form_is_accepted_on_the_artifact_and_bad_entries_get_their_reasons() {
    let mut s = Suite::new();
    let receipts = vec![
        s.receipt(PROXY_SECP, &payer(0)),
        s.receipt(PROXY_ED, &payer(1)),
        s.receipt(LOCAL, &payer(2)),
    ];
    let mut msg = s.keeper_msg(&receipts);
    assert!(msg.receipts.is_empty(), "the keeper sends the compact form");
    assert_eq!(msg.compact.len(), 3);
    let mut unknown_kind = msg.compact[0].to_vec();
    unknown_kind[1] = 9;
    msg.compact.push(unknown_kind.into());
    let mut cut = msg.compact[1].to_vec();
    cut.truncate(40);
    msg.compact.push(cut.into());
    let tx = ok("submit compact", s.submit_msg(msg));
    let data: SubmitReceiptsResponse = tx.data();
    assert_eq!((data.accepted, data.rejected), (3, 2), "{data:?}");
    let reasons: Vec<_> = data.receipts.iter().map(|r| r.rejected.clone()).collect();
    assert_eq!(
        reasons,
        vec![
            None,
            None,
            None,
            Some("compact_unknown_kind".to_string()),
            Some("compact_malformed".to_string())
        ]
    );
    let report: EpochReport = ok(
        "report",
        s.chain
            .query(&s.pool, &PoolQueryMsg::EpochReport { epoch: s.epoch() }),
    );
    assert_eq!(report.commercial.calls, 2);
    assert_eq!(report.community.calls, 1);
    // a replay in the JSON form is refused: the nonces are the same
    let replay: SubmitReceiptsResponse = ok("replay", s.submit(receipts, vec![])).data();
    assert_eq!(replay.accepted, 0);
}
