//! Queries: `Config`, `VerifyReceipt` (no state change), `ReceiptStatus`.
mod common;

use common::*;
use cosmwasm_std::{StdError, Uint128};
use opg_core::eip712::domain_salt;
use opg_core::msg::verifier::{AcceptedReceipt, ConfigResponse, QueryMsg};
use opg_core::types::Provenance;

#[test]
fn config_reports_clock_from_pool_and_domain_salt() {
    let s = Suite::new();
    let cfg: ConfigResponse = s
        .app
        .wrap()
        .query_wasm_smart(&s.verifier, &QueryMsg::Config {})
        .unwrap();
    assert_eq!(cfg.governance, s.governance);
    assert_eq!(cfg.registry, s.registry);
    assert_eq!(cfg.reward_pool, s.pool);
    assert_eq!(cfg.clock, s.clock);
    assert_eq!(cfg.networks[0].assets[0].address, USDC.to_lowercase());
    assert_eq!(cfg.facilitators, vec![s.facilitator.address()]);
    assert!(cfg.require_settlement);
    assert_eq!(cfg.max_batch, 100);
    let chain_id = s.app.block_info().chain_id;
    assert_eq!(
        cfg.domain_salt,
        hex::encode(domain_salt(&chain_id, s.verifier.as_str()))
    );
}

#[test]
fn verify_receipt_gives_the_full_verdict_without_state_change() {
    let mut s = Suite::new();
    let spec = s.local_spec();
    let receipt = s.receipt(&spec);

    let verdict = s.verify(&receipt);
    assert!(verdict.valid);
    assert_eq!(verdict.reason, None);
    assert_eq!(
        verdict.accepted,
        Some(AcceptedReceipt {
            node_id: LOCAL.to_string(),
            model_id: LLAMA.to_string(),
            provenance: Provenance::Community,
            payer: spec.payer.address(),
            nonce: format!("0x{}", hex::encode(spec.nonce)),
            value: Uint128::new(10_000),
            value_micro_usd: Uint128::new(10_000),
            epoch: 1,
        })
    );
    // Asking twice changes nothing: the nonce is not consumed and the receipt still counts.
    assert!(s.verify(&receipt).valid);
    assert!(!s.status(&spec.payer.address(), &spec.nonce).consumed);
    let (data, _) = s.submit(vec![receipt.clone()], vec![]).unwrap();
    assert_eq!(data.accepted, 1);

    // Now the nonce check answers.
    let verdict = s.verify(&receipt);
    assert!(!verdict.valid);
    assert_eq!(verdict.reason.as_deref(), Some("nonce_already_used"));
    assert_eq!(verdict.accepted, None);

    let mut jailed = s.spec();
    jailed.node = JAILED;
    let r = s.receipt(&jailed);
    assert_eq!(s.verify(&r).reason.as_deref(), Some("node_jailed"));
}

#[test]
fn receipt_status_by_payer_and_nonce() {
    let mut s = Suite::new();
    let spec = s.spec();
    let payer = spec.payer.address();
    let st = s.status(&payer, &spec.nonce);
    assert!(!st.consumed && !st.pruned);
    assert_eq!(st.epoch, None);

    // Other entries around it (other payers, later epochs) do not confuse the scan.
    let mut other = s.spec();
    other.payer = s.payers[2].clone();
    let receipts = vec![s.receipt(&spec), s.receipt(&other)];
    s.submit(receipts, vec![]).unwrap();
    s.set_time(s.clock.start(2) + 100);
    let mut later = s.spec();
    later.payer = s.payers[1].clone();
    let r = s.receipt(&later);
    s.submit(vec![r], vec![]).unwrap();

    // Any case of the payer address, and of the nonce hex.
    let st = s.status(&payer.to_uppercase().replacen("0X", "0x", 1), &spec.nonce);
    assert!(st.consumed);
    assert_eq!(st.epoch, Some(1));
    let st: opg_core::msg::verifier::ReceiptStatusResponse = s
        .app
        .wrap()
        .query_wasm_smart(
            &s.verifier,
            &QueryMsg::ReceiptStatus {
                payer: payer.clone(),
                nonce: format!("0x{}", hex::encode_upper(spec.nonce)),
            },
        )
        .unwrap();
    assert!(st.consumed);
    assert_eq!(
        s.status(&later.payer.address(), &later.nonce).epoch,
        Some(2)
    );
    // Same nonce, other payer: not consumed.
    assert!(!s.status(&s.payers[1].address(), &spec.nonce).consumed);
    // Unknown nonce between existing keys.
    let mut unknown = spec.nonce;
    unknown[31] ^= 0xff;
    assert!(!s.status(&payer, &unknown).consumed);
}

#[test]
fn receipt_status_rejects_malformed_input() {
    let s = Suite::new();
    let bad_payer: Result<opg_core::msg::verifier::ReceiptStatusResponse, StdError> =
        s.app.wrap().query_wasm_smart(
            &s.verifier,
            &QueryMsg::ReceiptStatus {
                payer: "0x1234".to_string(),
                nonce: format!("0x{}", "00".repeat(32)),
            },
        );
    assert!(bad_payer.unwrap_err().to_string().contains("invalid payer"));
    let bad_nonce: Result<opg_core::msg::verifier::ReceiptStatusResponse, StdError> =
        s.app.wrap().query_wasm_smart(
            &s.verifier,
            &QueryMsg::ReceiptStatus {
                payer: s.payers[0].address(),
                nonce: "0x00".to_string(),
            },
        );
    assert!(bad_nonce.unwrap_err().to_string().contains("invalid nonce"));
}
