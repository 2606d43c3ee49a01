//! The `SubmitReceipts` message the keeper sends (`chain::submit_msg`): the compact form when every
//! receipt is encodable, the compacted JSON form otherwise, and batch sizing from the bytes it
//! actually sends (`WireContext::wire_len`).
mod support;

use cosmwasm_std::Addr;
use opg_core::epoch::EpochClock;
use opg_core::msg::verifier::{ConfigResponse, ExecuteMsg};
use opg_core::sign::{signer_keys_of, EvmSigner, NodeSigner};
use opg_core::types::{AssetConfig, NetworkConfig};
use opg_keeper::chain::{submit_msg, submit_msg_bytes, WireContext};
use support::{paid_call, USDC};

const PAY_TO: &str = "0x1111111111111111111111111111111111111111";

fn config(facilitator: &EvmSigner) -> ConfigResponse {
    ConfigResponse {
        governance: Addr::unchecked("gov"),
        registry: Addr::unchecked("registry"),
        reward_pool: Addr::unchecked("pool"),
        clock: EpochClock {
            genesis: 0,
            epoch_length: 3600,
            grace: 600,
        },
        networks: vec![NetworkConfig {
            chain_id: 84532,
            name: "base-sepolia".into(),
            assets: vec![AssetConfig {
                address: USDC.into(),
                decimals: 6,
                eip712_name: Some("USDC".into()),
                eip712_version: Some("2".into()),
            }],
        }],
        facilitators: vec![facilitator.address()],
        require_settlement: true,
        max_batch: 100,
        domain_salt: "00".repeat(32),
    }
}

fn batch(n: usize, facilitator: &EvmSigner) -> Vec<opg_core::receipt::SignedReceipt> {
    let node = NodeSigner::derive(b"wire", "node", false);
    (0..n)
        .map(|i| {
            let payer = EvmSigner::derive(b"wire", &format!("payer{i}"));
            let mut r = paid_call(
                &payer,
                &node,
                facilitator,
                &[7; 32],
                "proxy-1",
                PAY_TO,
                "openai/gpt-4.1",
                10_000,
                1_000_000,
                &format!("/{i}"),
            );
            r.signer_keys = Some(signer_keys_of(&payer, &node, Some(facilitator)));
            r
        })
        .collect()
}

#[test]
fn the_keeper_sends_the_compact_form_and_sizes_batches_from_its_bytes() {
    let facilitator = EvmSigner::derive(b"wire", "facilitator");
    let config = config(&facilitator);
    let receipts = batch(20, &facilitator);
    let ExecuteMsg::SubmitReceipts(msg) = submit_msg(&receipts, &[], &config) else {
        panic!("not SubmitReceipts");
    };
    assert!(msg.receipts.is_empty());
    assert_eq!(msg.compact.len(), 20);
    let bytes = submit_msg_bytes(&receipts, &[], &config).unwrap().len();
    // the per-receipt sizes the batcher uses add up to the message, up to the envelope and the
    // node's and the facilitator's keys sent once (2 x 64 bytes, base64)
    let wire = WireContext::new(&config);
    let sum: usize = receipts.iter().map(|r| wire.wire_len(r)).sum();
    assert!(bytes > sum, "{bytes} <= {sum}");
    assert!(bytes - sum <= 80 + 2 * 88, "{bytes} vs {sum}");
    // about a third of the JSON form the keeper stores
    let stored: usize = receipts
        .iter()
        .map(|r| serde_json::to_vec(r).unwrap().len())
        .sum();
    assert!(bytes * 3 < stored, "{bytes} vs {stored}");
}

#[test]
fn a_batch_with_a_receipt_the_compact_form_cannot_carry_goes_as_json_in_order() {
    let facilitator = EvmSigner::derive(b"wire", "facilitator");
    let config = config(&facilitator);
    let mut receipts = batch(3, &facilitator);
    // a facilitator the verifier does not list: the JSON form rejects it with
    // `invalid_settlement`; the compact form has no index for it
    let stranger = EvmSigner::derive(b"wire", "stranger");
    receipts[1].settlement.as_mut().unwrap().facilitator = stranger.address();
    let ExecuteMsg::SubmitReceipts(msg) = submit_msg(&receipts, &[], &config) else {
        panic!("not SubmitReceipts");
    };
    assert!(msg.compact.is_empty());
    assert_eq!(msg.receipts.len(), 3);
    assert_eq!(
        msg.receipts[1].requirements.resource, None,
        "compacted JSON"
    );
    assert_eq!(msg.receipts[1].receipt, receipts[1].receipt);
}
