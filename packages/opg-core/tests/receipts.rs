//! `verify_receipt` and `verify_heartbeat` over valid and tampered inputs, with both crypto
//! backends (`ApiCrypto` on `MockApi`, as the contract runs it, and `NativeCrypto`, as the keeper
//! runs it): every case must give the expected verdict, and the same one on both backends.
mod common;

use base64::Engine as _;
use common::*;
use cosmwasm_std::testing::MockApi;
use cosmwasm_std::{Binary, Uint128};
use opg_core::crypto::{ApiCrypto, Crypto, NativeCrypto};
use opg_core::eip712::verifier_domain_separator;
use opg_core::reason::RejectReason;
use opg_core::receipt::{SignedReceipt, SignerKeys};
use opg_core::sign::{make_signed_receipt, sign_heartbeat, signer_keys_of, EvmSigner, NodeSigner};
use opg_core::types::NodeStatus;
use opg_core::verify::{check_evm_signature, KeyBook};
use opg_core::verify::{
    decode_payment_header, verify_heartbeat, verify_receipt, RegistryView, Rejection, Verified,
};

const SERVED: u64 = GENESIS + 5 * EPOCH + 100;
const NOW: u64 = SERVED + 30;

struct Case {
    name: &'static str,
    world: World,
    receipt: SignedReceipt,
    now: u64,
    /// `None` = accepted.
    expected: Option<RejectReason>,
}

fn run<C: Crypto>(crypto: &C, c: &Case) -> Result<Verified, Rejection> {
    verify_receipt(
        crypto,
        &c.world.policy(),
        &c.world.registry,
        &c.receipt,
        c.now,
    )
}

fn reencode(receipt: &mut SignedReceipt, f: impl FnOnce(&mut serde_json::Value)) {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(&receipt.payment)
        .unwrap();
    let mut v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    f(&mut v);
    receipt.payment =
        base64::engine::general_purpose::STANDARD.encode(serde_json::to_vec(&v).unwrap());
}

fn with_registry(mut w: World, f: impl FnOnce(&mut RegistryView)) -> World {
    f(&mut w.registry);
    w
}

fn cases() -> Vec<Case> {
    let mut out = Vec::new();
    let mut case = |name, world: World, receipt, now, expected| {
        out.push(Case {
            name,
            world,
            receipt,
            now,
            expected,
        })
    };
    let w = World::new(false);

    // ---- accepted ----
    case(
        "proxy v1",
        World::new(false),
        w.receipt(false, 1, SERVED, 1),
        NOW,
        None,
    );
    case(
        "proxy v2",
        World::new(false),
        w.receipt(false, 2, SERVED, 2),
        NOW,
        None,
    );
    case(
        "local v1 secp256k1",
        World::new(false),
        w.receipt(true, 1, SERVED, 3),
        NOW,
        None,
    );
    let we = World::new(true);
    case(
        "local v2 ed25519",
        World::new(true),
        we.receipt(true, 2, SERVED, 4),
        NOW,
        None,
    );
    case(
        "served at epoch start, now at end of grace - 1",
        World::new(false),
        w.receipt(false, 1, GENESIS + 5 * EPOCH, 5),
        GENESIS + 6 * EPOCH + GRACE - 1,
        None,
    );
    let mut no_settlement = w.receipt(false, 1, SERVED, 6);
    no_settlement.settlement = None;
    let mut optional = World::new(false);
    optional.require_settlement = false;
    case(
        "settlement not required and absent",
        optional,
        no_settlement.clone(),
        NOW,
        None,
    );

    // ---- payment ----
    let mut r = w.receipt(false, 1, SERVED, 7);
    r.payment = "not base64!".into();
    case(
        "garbage header",
        World::new(false),
        r,
        NOW,
        Some(RejectReason::InvalidPayload),
    );
    let mut r = w.receipt(false, 1, SERVED, 8);
    reencode(&mut r, |v| {
        v["payload"]["authorization"]["value"] = "25001".into()
    });
    case(
        "value changed after signing",
        World::new(false),
        r,
        NOW,
        Some(RejectReason::InvalidExactEvmPayloadSignature),
    );
    let mut r = w.receipt(false, 2, SERVED, 9);
    reencode(&mut r, |v| {
        let sig = v["payload"]["signature"].as_str().unwrap().to_string();
        v["payload"]["signature"] = sig[..sig.len() - 2].into();
    });
    case(
        "truncated payer signature",
        World::new(false),
        r,
        NOW,
        Some(RejectReason::InvalidExactEvmPayloadSignature),
    );
    let mut r = w.receipt(false, 1, SERVED, 10);
    r.receipt.served_at = SERVED + 60; // == validBefore (exclusive); node signature now wrong too
    case(
        "served at validBefore",
        World::new(false),
        r,
        NOW + 60,
        Some(RejectReason::ServedOutsidePaymentWindow),
    );
    let mut r = w.receipt(false, 1, SERVED, 11);
    r.receipt.served_at = SERVED - 61;
    case(
        "served before validAfter",
        World::new(false),
        r,
        NOW,
        Some(RejectReason::ServedOutsidePaymentWindow),
    );
    let mut p = w.params(1, &w.proxy_pay_to.address(), 25_000, SERVED, 12);
    p.value = 24_999;
    let r = make_signed_receipt(
        &w.payer,
        &w.proxy,
        Some(&w.facilitator),
        &w.domain,
        &p,
        w.inference(PROXY, GPT, SERVED),
        [9; 32],
    );
    case(
        "v1 value below maxAmountRequired",
        World::new(false),
        r,
        NOW,
        Some(RejectReason::InvalidExactEvmPayloadAuthorizationValue),
    );
    let mut p = w.params(2, &w.proxy_pay_to.address(), 25_000, SERVED, 13);
    p.value = 25_001;
    let r = make_signed_receipt(
        &w.payer,
        &w.proxy,
        Some(&w.facilitator),
        &w.domain,
        &p,
        w.inference(PROXY, GPT, SERVED),
        [9; 32],
    );
    case(
        "v2 value differs from amount",
        World::new(false),
        r,
        NOW,
        Some(RejectReason::InvalidExactEvmPayloadAuthorizationValueMismatch),
    );
    let mut r = w.receipt(false, 1, SERVED, 14);
    r.requirements.pay_to = w.local_pay_to.address();
    case(
        "authorization.to != payTo",
        World::new(false),
        r,
        NOW,
        Some(RejectReason::InvalidExactEvmPayloadRecipientMismatch),
    );
    let mut other_network = World::new(false);
    other_network.networks[0].chain_id = 84532;
    other_network.networks[0].name = "base-sepolia".into();
    case(
        "network not accepted by policy",
        other_network,
        w.receipt(false, 1, SERVED, 15),
        NOW,
        Some(RejectReason::InvalidNetwork),
    );
    let mut other_asset = World::new(false);
    other_asset.networks[0].assets[0].address = "0x036cbd53842c5426634e7929541ec2318f3dcf7e".into();
    case(
        "asset not accepted by policy",
        other_asset,
        w.receipt(false, 1, SERVED, 16),
        NOW,
        Some(RejectReason::UnsupportedAsset),
    );

    // ---- epoch ----
    case(
        "served in the future",
        World::new(false),
        w.receipt(false, 1, SERVED, 17),
        SERVED - 1,
        Some(RejectReason::EpochClosed),
    );
    case(
        "epoch closed (grace over)",
        World::new(false),
        w.receipt(false, 1, SERVED, 18),
        GENESIS + 6 * EPOCH + GRACE,
        Some(RejectReason::EpochClosed),
    );
    case(
        "served before genesis",
        World::new(false),
        w.receipt(false, 1, GENESIS - 10, 19),
        NOW,
        Some(RejectReason::EpochClosed),
    );

    // ---- registry ----
    let mut r = w.receipt(false, 1, SERVED, 20);
    r.receipt.node_id = "ghost".into();
    case(
        "unknown node",
        World::new(false),
        r,
        NOW,
        Some(RejectReason::NodeUnknown),
    );
    case(
        "jailed node",
        with_registry(World::new(false), |reg| {
            reg.nodes.get_mut(PROXY).unwrap().status = NodeStatus::Jailed
        }),
        w.receipt(false, 1, SERVED, 21),
        NOW,
        Some(RejectReason::NodeJailed),
    );
    case(
        "unbonding node",
        with_registry(World::new(false), |reg| {
            reg.nodes.get_mut(PROXY).unwrap().status = NodeStatus::Unbonding
        }),
        w.receipt(false, 1, SERVED, 22),
        NOW,
        Some(RejectReason::NodeInactive),
    );
    let p = w.params(1, &w.proxy_pay_to.address(), 25_000, SERVED, 23);
    let r = make_signed_receipt(
        &w.proxy_pay_to,
        &w.proxy,
        Some(&w.facilitator),
        &w.domain,
        &p,
        w.inference(PROXY, GPT, SERVED),
        [9; 32],
    );
    case(
        "payer is the node's payTo",
        World::new(false),
        r,
        NOW,
        Some(RejectReason::SelfDealing),
    );
    let stranger = EvmSigner::derive(SEED, "stranger").address();
    let p = w.params(1, &stranger, 25_000, SERVED, 24);
    let r = make_signed_receipt(
        &w.payer,
        &w.proxy,
        Some(&w.facilitator),
        &w.domain,
        &p,
        w.inference(PROXY, GPT, SERVED),
        [9; 32],
    );
    case(
        "payment to someone else",
        World::new(false),
        r,
        NOW,
        Some(RejectReason::RecipientNotNode),
    );
    let p = w.params(1, &w.proxy_pay_to.address(), 25_000, SERVED, 25);
    let r = make_signed_receipt(
        &w.payer,
        &w.proxy,
        Some(&w.facilitator),
        &w.domain,
        &p,
        w.inference(PROXY, "unknown/model", SERVED),
        [9; 32],
    );
    case(
        "unknown model",
        World::new(false),
        r,
        NOW,
        Some(RejectReason::ModelUnknown),
    );
    let r = make_signed_receipt(
        &w.payer,
        &w.proxy,
        Some(&w.facilitator),
        &w.domain,
        &p,
        w.inference(PROXY, LLAMA, SERVED),
        [9; 32],
    );
    case(
        "model not listed by node",
        World::new(false),
        r.clone(),
        NOW,
        Some(RejectReason::ModelNotServed),
    );
    case(
        "model of the other provenance",
        with_registry(World::new(false), |reg| {
            reg.nodes.get_mut(PROXY).unwrap().models.push(LLAMA.into())
        }),
        r,
        NOW,
        Some(RejectReason::ProvenanceMismatch),
    );
    case(
        "attestation expired",
        with_registry(World::new(false), |reg| {
            reg.nodes
                .get_mut(LOCAL)
                .unwrap()
                .attestation
                .as_mut()
                .unwrap()
                .expires_at = SERVED;
        }),
        w.receipt(true, 1, SERVED, 26),
        NOW,
        Some(RejectReason::AttestationExpired),
    );
    case(
        "local node without attestation",
        with_registry(World::new(false), |reg| {
            reg.nodes.get_mut(LOCAL).unwrap().attestation = None;
        }),
        w.receipt(true, 1, SERVED, 27),
        NOW,
        Some(RejectReason::AttestationExpired),
    );

    // ---- node signature ----
    let mut r = w.receipt(false, 1, SERVED, 28);
    r.receipt.completion_tokens += 1;
    case(
        "tokens inflated after signing",
        World::new(false),
        r,
        NOW,
        Some(RejectReason::InvalidNodeSignature),
    );
    let mut r = we.receipt(true, 2, SERVED, 29);
    r.receipt.prompt_tokens += 1;
    case(
        "ed25519: tokens inflated after signing",
        World::new(true),
        r,
        NOW,
        Some(RejectReason::InvalidNodeSignature),
    );
    let mut r = w.receipt(false, 1, SERVED, 30);
    r.node_signature = Binary::from(vec![0u8; 65]);
    case(
        "zero node signature",
        World::new(false),
        r,
        NOW,
        Some(RejectReason::InvalidNodeSignature),
    );
    let mut r = w.receipt(false, 1, SERVED, 31);
    r.receipt.request_digest = Binary::from(vec![1u8; 31]);
    case(
        "31-byte request digest",
        World::new(false),
        r,
        NOW,
        Some(RejectReason::InvalidNodeSignature),
    );
    let other = verifier_domain_separator("other-chain", "cosmos1verifier");
    let r = make_signed_receipt(
        &w.payer,
        &w.proxy,
        Some(&w.facilitator),
        &other,
        &w.params(1, &w.proxy_pay_to.address(), 25_000, SERVED, 32),
        w.inference(PROXY, GPT, SERVED),
        [9; 32],
    );
    case(
        "signed for another deployment",
        World::new(false),
        r,
        NOW,
        Some(RejectReason::InvalidNodeSignature),
    );

    // ---- settlement ----
    case(
        "settlement missing",
        World::new(false),
        no_settlement,
        NOW,
        Some(RejectReason::SettlementMissing),
    );
    let rogue = EvmSigner::derive(SEED, "rogue facilitator");
    let r = make_signed_receipt(
        &w.payer,
        &w.proxy,
        Some(&rogue),
        &w.domain,
        &w.params(1, &w.proxy_pay_to.address(), 25_000, SERVED, 33),
        w.inference(PROXY, GPT, SERVED),
        [9; 32],
    );
    case(
        "facilitator not allow-listed",
        World::new(false),
        r,
        NOW,
        Some(RejectReason::InvalidSettlement),
    );
    let mut r = w.receipt(false, 1, SERVED, 34);
    r.settlement.as_mut().unwrap().tx_hash = Binary::from(vec![8u8; 32]);
    case(
        "settlement tx hash swapped",
        World::new(false),
        r,
        NOW,
        Some(RejectReason::InvalidSettlement),
    );
    let mut r = w.receipt(false, 1, SERVED, 35);
    r.settlement.as_mut().unwrap().facilitator = w.payer.address();
    let mut allow_payer = World::new(false);
    allow_payer.facilitators.push(w.payer.address());
    case(
        "settlement claims another allow-listed facilitator",
        allow_payer,
        r,
        NOW,
        Some(RejectReason::InvalidSettlement),
    );
    permit2_cases(&mut case);
    out
}

/// Permit2 `exact` and `upto` receipts (`@x402/evm` 2.27.0 payloads, opg's receipt rules).
fn permit2_cases(
    case: &mut impl FnMut(&'static str, World, SignedReceipt, u64, Option<RejectReason>),
) {
    let w = World::new(false);
    let pay_to = w.proxy_pay_to.address();
    let exact = |nonce| w.permit2_params("exact", &pay_to, SERVED, nonce);
    let upto = |nonce| w.permit2_params("upto", &pay_to, SERVED, nonce);
    let set_sig = |r: &mut SignedReceipt, f: &dyn Fn(&[u8]) -> Vec<u8>| {
        reencode(r, |v| {
            let s = v["payload"]["signature"].as_str().unwrap().to_string();
            let sig = hex::decode(&s[2..]).unwrap();
            v["payload"]["signature"] = format!("0x{}", hex::encode(f(&sig))).into();
        })
    };

    // ---- accepted ----
    case(
        "permit2 exact",
        World::new(false),
        w.permit2_receipt(&exact(101), None),
        NOW,
        None,
    );
    case(
        "upto settling below the maximum",
        World::new(false),
        w.permit2_receipt(&upto(102), Some(9_000)),
        NOW,
        None,
    );
    case(
        "upto settling the maximum",
        World::new(false),
        w.permit2_receipt(&upto(103), Some(25_000)),
        NOW,
        None,
    );
    let mut p = upto(104);
    let extra = p.requirements.extra.as_mut().unwrap();
    // 120 prompt tokens at 12.5 + 480 completion tokens at 40.1 = 1,500 + 19,248 = 20,748.
    extra.prompt_token_price = Some("12.5".into());
    extra.completion_token_price = Some("40.1".into());
    case(
        "upto at the per-token prices",
        World::new(false),
        w.permit2_receipt(&p, Some(20_748)),
        NOW,
        None,
    );
    extra_prices(&mut p, "0.3333", "0");
    // 120 * 0.3333 = 39.996: 39 or 40 both accepted (rounding).
    case(
        "upto at the per-token prices, rounded down",
        World::new(false),
        w.permit2_receipt(&p, Some(39)),
        NOW,
        None,
    );
    case(
        "upto at the per-token prices, rounded up",
        World::new(false),
        w.permit2_receipt(&p, Some(40)),
        NOW,
        None,
    );
    let mut r = w.permit2_receipt(&exact(105), None);
    set_sig(&mut r, &|sig| {
        // EIP-2098: r || (yParity << 255 | s).
        let mut c = sig[..64].to_vec();
        c[32] |= (sig[64] - 27) << 7;
        c
    });
    case(
        "permit2 64-byte EIP-2098 signature",
        World::new(false),
        r,
        NOW,
        None,
    );
    let mut r = w.permit2_receipt(&exact(106), None);
    set_sig(&mut r, &|sig| high_s(sig));
    case(
        "permit2 high-s twin (Permit2's ecrecover accepts it)",
        World::new(false),
        r,
        NOW,
        None,
    );
    let p = exact(107);
    let mut r = w.permit2_receipt(&p, None);
    r.receipt.served_at = p.deadline;
    r.node_signature = resign_node(&w, &p, &r, None);
    case(
        "permit2 served at the deadline (inclusive)",
        World::new(false),
        r,
        p.deadline + 1,
        None,
    );

    // ---- rejected ----
    let mut r = w.permit2_receipt(&exact(108), None);
    r.receipt.served_at = exact(108).deadline + 1;
    case(
        "permit2 served after the deadline",
        World::new(false),
        r,
        NOW + 120,
        Some(RejectReason::ServedOutsidePaymentWindow),
    );
    let mut r = w.permit2_receipt(&exact(109), None);
    set_sig(&mut r, &|sig| {
        let mut s = sig.to_vec();
        s[64] -= 27;
        s
    });
    case(
        "permit2 signature with v = 0/1",
        World::new(false),
        r,
        NOW,
        Some(RejectReason::InvalidPermit2Signature),
    );
    let mut r = w.permit2_receipt(&exact(110), None);
    reencode(&mut r, |v| {
        v["payload"]["permit2Authorization"]["nonce"] = "7".into()
    });
    case(
        "permit2 nonce changed after signing",
        World::new(false),
        r,
        NOW,
        Some(RejectReason::InvalidPermit2Signature),
    );
    let mut r = w.permit2_receipt(&exact(111), None);
    reencode(&mut r, |v| {
        v["payload"]["permit2Authorization"]["spender"] =
            "0x4020A4f3b7b90ccA423B9fabCc0CE57C6C240002".into()
    });
    case(
        "permit2 exact spent by the upto proxy",
        World::new(false),
        r,
        NOW,
        Some(RejectReason::InvalidPermit2Spender),
    );
    let mut r = w.permit2_receipt(&exact(112), None);
    r.requirements.amount = Some("25001".into());
    case(
        "permit2 amount differs from the requirements",
        World::new(false),
        r,
        NOW,
        Some(RejectReason::Permit2AmountMismatch),
    );
    let mut r = w.permit2_receipt(&exact(113), None);
    r.settlement.as_mut().unwrap().amount = Some(Uint128::new(1));
    case(
        "permit2 exact attested with another amount",
        World::new(false),
        r,
        NOW,
        Some(RejectReason::InvalidSettlement),
    );
    let mut r = w.permit2_receipt(&upto(114), Some(9_000));
    r.settlement = None;
    let mut optional = World::new(false);
    optional.require_settlement = false;
    case(
        "upto without a settlement, even when not required",
        optional,
        r,
        NOW,
        Some(RejectReason::SettlementMissing),
    );
    let mut r = w.permit2_receipt(&upto(115), Some(9_000));
    r.settlement.as_mut().unwrap().amount = None;
    case(
        "upto settlement without an amount",
        World::new(false),
        r,
        NOW,
        Some(RejectReason::InvalidSettlement),
    );
    case(
        "upto settling above the maximum",
        World::new(false),
        w.permit2_receipt(&upto(116), Some(25_001)),
        NOW,
        Some(RejectReason::UptoSettlementExceedsAmount),
    );
    let p = upto(117);
    let mut r = w.permit2_receipt(&p, Some(9_000));
    r.settlement.as_mut().unwrap().amount = Some(Uint128::new(9_001));
    // The node signs 9,001 too: only the facilitator's signature (over 9,000) is wrong.
    r.node_signature = resign_node(&w, &p, &r, Some(9_001));
    case(
        "upto amount changed after attesting",
        World::new(false),
        r,
        NOW,
        Some(RejectReason::InvalidSettlement),
    );
    let mut no_facilitators = World::new(false);
    no_facilitators.facilitators.clear();
    case(
        "upto witness facilitator not allow-listed",
        no_facilitators,
        w.permit2_receipt(&upto(118), Some(9_000)),
        NOW,
        Some(RejectReason::UptoFacilitatorMismatch),
    );
    let mut r = w.permit2_receipt(&upto(119), Some(9_000));
    r.settlement.as_mut().unwrap().facilitator = w.payer.address();
    let mut allow_payer = World::new(false);
    allow_payer.facilitators.push(w.payer.address());
    case(
        "upto attested by a facilitator other than the witness'",
        allow_payer,
        r,
        NOW,
        Some(RejectReason::InvalidSettlement),
    );
    let mut p = upto(120);
    extra_prices(&mut p, "12.5", "40.1");
    case(
        "upto billing more than the per-token prices",
        World::new(false),
        w.permit2_receipt(&p, Some(20_749)),
        NOW,
        Some(RejectReason::UptoSettlementPriceMismatch),
    );
    let mut p = upto(121);
    extra_prices(&mut p, "0.3333", "0");
    case(
        "upto rounding beyond one unit",
        World::new(false),
        w.permit2_receipt(&p, Some(41)),
        NOW,
        Some(RejectReason::UptoSettlementPriceMismatch),
    );
    let mut p = upto(122);
    extra_prices(&mut p, "one", "0");
    case(
        "upto price not a decimal",
        World::new(false),
        w.permit2_receipt(&p, Some(0)),
        NOW,
        Some(RejectReason::InvalidPaymentRequirements),
    );
    let p = upto(123);
    let mut r = w.permit2_receipt(&p, Some(9_000));
    r.node_signature = resign_node(&w, &p, &r, Some(25_000));
    case(
        "upto node signed the maximum, not the settled amount",
        World::new(false),
        r,
        NOW,
        Some(RejectReason::InvalidNodeSignature),
    );
    let mut r = w.permit2_receipt(&upto(124), Some(9_000));
    reencode(&mut r, |v| {
        v["payload"]["permit2Authorization"]["witness"]
            .as_object_mut()
            .unwrap()
            .remove("facilitator");
    });
    case(
        "upto without witness.facilitator",
        World::new(false),
        r,
        NOW,
        Some(RejectReason::UnsupportedPayloadType),
    );
    let mut r = w.receipt(false, 2, SERVED, 125);
    r.requirements.scheme = "upto".into();
    case(
        "upto with an EIP-3009 payload",
        World::new(false),
        r,
        NOW,
        Some(RejectReason::UnsupportedPayloadType),
    );
    let mut r = w.receipt(false, 2, SERVED, 126);
    reencode(&mut r, |v| {
        let s = v["payload"]["signature"].as_str().unwrap().to_string();
        let v_byte = u8::from_str_radix(&s[130..], 16).unwrap() - 27;
        v["payload"]["signature"] = format!("{}{:02x}", &s[..130], v_byte).into();
    });
    case(
        "EIP-3009 signature with v = 0/1 (USDC requires 27/28)",
        World::new(false),
        r,
        NOW,
        Some(RejectReason::InvalidExactEvmPayloadSignature),
    );
}

fn extra_prices(p: &mut opg_core::sign::Permit2Params, prompt: &str, completion: &str) {
    let extra = p.requirements.extra.as_mut().unwrap();
    extra.prompt_token_price = Some(prompt.into());
    extra.completion_token_price = Some(completion.into());
}

/// The node's signature over `r.receipt` for the payment of `p` with value `value` (default: the
/// signed amount).
fn resign_node(
    w: &World,
    p: &opg_core::sign::Permit2Params,
    r: &SignedReceipt,
    value: Option<u128>,
) -> Binary {
    let facts = opg_core::sign::permit2_payment_facts(&w.payer, p, value);
    opg_core::sign::sign_receipt(&w.proxy, &w.domain, &facts, &r.receipt)
}

/// `(r, n - s, v ^ 1)`: the malleable twin of a 65-byte signature.
fn high_s(sig: &[u8]) -> Vec<u8> {
    const N: [u8; 32] = [
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xfe, 0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36,
        0x41, 0x41,
    ];
    let mut out = sig.to_vec();
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let d = i16::from(N[i]) - i16::from(sig[32 + i]) - borrow;
        borrow = i16::from(d < 0);
        out[32 + i] = (d + if d < 0 { 256 } else { 0 }) as u8;
    }
    out[64] = if sig[64] == 27 { 28 } else { 27 };
    out
}

#[test]
fn upto_counts_the_settled_amount() {
    let w = World::new(false);
    let p = w.permit2_params("upto", &w.proxy_pay_to.address(), SERVED, 200);
    let r = w.permit2_receipt(&p, Some(9_000));
    let v = verify_receipt(&NativeCrypto, &w.policy(), &w.registry, &r, NOW).unwrap();
    assert_eq!(v.accepted.value, Uint128::new(9_000));
    assert_eq!(v.accepted.value_micro_usd, Uint128::new(9_000));
    assert_eq!(v.accepted.nonce, format!("0x{}", hex::encode([200u8; 32])));
    // The deadline (served_at + 60) is inclusive: the exclusive end is one second later.
    assert_eq!(v.valid_before, SERVED + 61);
}

#[test]
fn verdicts_match_expectations_and_backends_agree() {
    let api = MockApi::default();
    let chain = ApiCrypto(&api);
    let all = cases();
    assert!(all.len() > 30);
    for c in &all {
        let native = run(&NativeCrypto, c);
        let on_chain = run(&chain, c);
        assert_eq!(native, on_chain, "backends disagree on case {:?}", c.name);
        match (&native, c.expected) {
            (Ok(_), None) => {}
            (Err(rej), Some(reason)) => assert_eq!(rej.reason, reason, "case {:?}", c.name),
            (got, want) => panic!("case {:?}: got {got:?}, want {want:?}", c.name),
        }
    }
}

/// The keys a keeper would attach to a receipt of `w`'s signers.
fn keys_of(w: &World, local: bool) -> SignerKeys {
    let node = if local { &w.local } else { &w.proxy };
    signer_keys_of(&w.payer, node, Some(&w.facilitator))
}

#[test]
fn signer_key_hints_never_change_a_verdict() {
    // Every case again, with the right keys attached (verify instead of recover), and with
    // unrelated keys attached (ignored): the verdict is the unhinted one, on both backends.
    let api = MockApi::default();
    let chain = ApiCrypto(&api);
    let stranger = EvmSigner::derive(SEED, "stranger").public_key();
    for c in cases() {
        let plain = run(&NativeCrypto, &c);
        let right = keys_of(&c.world, c.receipt.receipt.node_id == LOCAL);
        let wrong = SignerKeys {
            payer: Some(Binary::new(stranger.to_vec())),
            node: Some(Binary::new(stranger.to_vec())),
            facilitator: Some(Binary::new(vec![4u8; 65])),
        };
        for keys in [right, wrong] {
            let mut receipt = c.receipt.clone();
            receipt.signer_keys = Some(keys);
            let hinted = |crypto: &dyn DynVerify| crypto.verify(&c, &receipt);
            let native = hinted(&NativeCrypto);
            assert_eq!(native, hinted(&chain), "backends, case {:?}", c.name);
            assert_eq!(
                native.as_ref().map(|v| &v.accepted).map_err(|e| e.reason),
                plain.as_ref().map(|v| &v.accepted).map_err(|e| e.reason),
                "hints changed the verdict of case {:?}",
                c.name
            );
        }
    }
}

/// Object-safe `verify_receipt` of a case's world over another receipt.
trait DynVerify {
    fn verify(&self, c: &Case, receipt: &SignedReceipt) -> Result<Verified, Rejection>;
}

impl<C: Crypto> DynVerify for C {
    fn verify(&self, c: &Case, receipt: &SignedReceipt) -> Result<Verified, Rejection> {
        verify_receipt(self, &c.world.policy(), &c.world.registry, receipt, c.now)
    }
}

#[test]
fn verified_receipts_report_the_signers_keys() {
    let w = World::new(false);
    let r = w.receipt(false, 1, SERVED, 1);
    let v = verify_receipt(&NativeCrypto, &w.policy(), &w.registry, &r, NOW).unwrap();
    assert_eq!(v.signer_keys, keys_of(&w, false));
    // Submitted again with those keys, the same verdict and the same keys.
    let mut hinted = r.clone();
    hinted.signer_keys = Some(v.signer_keys.clone());
    let again = verify_receipt(&NativeCrypto, &w.policy(), &w.registry, &hinted, NOW).unwrap();
    assert_eq!(again, v);
    // ed25519 nodes have no secp256k1 node key; without a settlement there is no facilitator key.
    let we = World::new(true);
    let mut r = we.receipt(true, 2, SERVED, 2);
    r.settlement = None;
    let mut policy_world = World::new(true);
    policy_world.require_settlement = false;
    let v = verify_receipt(&NativeCrypto, &policy_world.policy(), &we.registry, &r, NOW).unwrap();
    assert_eq!(v.signer_keys.node, None);
    assert_eq!(v.signer_keys.facilitator, None);
    assert_eq!(
        v.signer_keys.payer,
        Some(Binary::new(w.payer.public_key().to_vec()))
    );
}

#[test]
fn a_hinted_key_checks_everything_but_the_parity_of_v() {
    let api = MockApi::default();
    let chain = ApiCrypto(&api);
    let signer = EvmSigner::derive(SEED, "signer");
    let digest = [7u8; 32];
    let sig = signer.sign_digest(&digest);
    let key = signer.public_key();
    let expected = signer.address_bytes();
    let mut flipped = sig;
    flipped[64] = if sig[64] == 27 { 28 } else { 27 };
    let mut tampered = sig;
    tampered[5] ^= 1;
    let mut high_s = sig;
    high_s[32] = 0xff;
    for crypto in [&chain as &dyn DynCheck, &NativeCrypto] {
        assert_eq!(crypto.check(&digest, &sig, &expected, None), Some(key));
        assert_eq!(
            crypto.check(&digest, &sig, &expected, Some(&key)),
            Some(key)
        );
        // Recovery with the wrong parity finds another key; the hinted check does not look at it.
        assert_eq!(crypto.check(&digest, &flipped, &expected, None), None);
        assert_eq!(
            crypto.check(&digest, &flipped, &expected, Some(&key)),
            Some(key)
        );
        for bad in [&tampered, &high_s] {
            assert_eq!(crypto.check(&digest, bad, &expected, None), None);
            assert_eq!(crypto.check(&digest, bad, &expected, Some(&key)), None);
        }
        let mut bad_v = sig;
        bad_v[64] = 29;
        assert_eq!(crypto.check(&digest, &bad_v, &expected, Some(&key)), None);
        assert_eq!(
            crypto.check(&digest, &sig[..64], &expected, Some(&key)),
            None
        );
        // Another signer's key is ignored (recovery decides), whatever it is.
        let other = EvmSigner::derive(SEED, "other").public_key();
        assert_eq!(
            crypto.check(&digest, &sig, &expected, Some(&other)),
            Some(key)
        );
        assert_eq!(
            crypto.check(&digest, &sig, &expected, Some(&key[..33])),
            Some(key)
        );
        assert_eq!(crypto.check(&digest, &sig, &[0u8; 20], Some(&key)), None);
    }
}

trait DynCheck {
    fn check(
        &self,
        digest: &[u8; 32],
        sig: &[u8],
        expected: &[u8; 20],
        hint: Option<&[u8]>,
    ) -> Option<[u8; 65]>;
}

impl<C: Crypto> DynCheck for C {
    fn check(
        &self,
        digest: &[u8; 32],
        sig: &[u8],
        expected: &[u8; 20],
        hint: Option<&[u8]>,
    ) -> Option<[u8; 65]> {
        check_evm_signature(self, digest, sig, expected, &KeyBook::from_keys(hint))
    }
}

#[test]
fn accepted_receipt_contents() {
    let w = World::new(false);
    let r = w.receipt(false, 1, SERVED, 1);
    let v = verify_receipt(&NativeCrypto, &w.policy(), &w.registry, &r, NOW).unwrap();
    assert_eq!(v.accepted.node_id, PROXY);
    assert_eq!(v.accepted.model_id, GPT);
    assert_eq!(
        v.accepted.provenance,
        opg_core::types::Provenance::Commercial
    );
    assert_eq!(v.accepted.payer, w.payer.address());
    assert_eq!(v.accepted.nonce, format!("0x{}", "01".repeat(32)));
    assert_eq!(v.accepted.value, Uint128::new(25_000));
    assert_eq!(v.accepted.value_micro_usd, Uint128::new(25_000));
    assert_eq!(v.accepted.epoch, 5);
    assert_eq!(v.live, None);

    let we = World::new(true);
    let r = we.receipt(true, 2, SERVED, 2);
    let v = verify_receipt(&NativeCrypto, &we.policy(), &we.registry, &r, NOW).unwrap();
    assert_eq!(
        v.accepted.provenance,
        opg_core::types::Provenance::Community
    );
    let live = v.live.unwrap();
    assert_eq!(
        (
            live.epoch,
            live.node_id.as_str(),
            live.hardware_class.as_str()
        ),
        (5, LOCAL, "rtx4090")
    );
}

#[test]
fn rejection_carries_payer_and_nonce_once_decoded() {
    let w = World::new(false);
    let mut r = w.receipt(false, 1, SERVED, 0xab);
    r.receipt.node_id = "ghost".into();
    let rej = verify_receipt(&NativeCrypto, &w.policy(), &w.registry, &r, NOW).unwrap_err();
    assert_eq!(rej.payer.as_deref(), Some(w.payer.address().as_str()));
    assert_eq!(rej.nonce, Some(format!("0x{}", "ab".repeat(32))));
    r.payment = "%%%".into();
    let rej = verify_receipt(&NativeCrypto, &w.policy(), &w.registry, &r, NOW).unwrap_err();
    assert_eq!((rej.payer, rej.nonce), (None, None));
}

#[test]
fn micro_usd_uses_governance_decimals_and_rounds_down() {
    for (decimals, value, micro) in [
        (6u8, 25_000u128, 25_000u128),
        (18, 1_999_999_999_999, 1),
        (18, 999_999_999_999, 0),
        (2, 7, 70_000),
        (0, 3, 3_000_000),
    ] {
        let mut w = World::new(false);
        w.networks[0].assets[0].decimals = decimals;
        let p = w.params(2, &w.proxy_pay_to.address(), value, SERVED, 1);
        let r = make_signed_receipt(
            &w.payer,
            &w.proxy,
            Some(&w.facilitator),
            &w.domain,
            &p,
            w.inference(PROXY, GPT, SERVED),
            [9; 32],
        );
        let v = verify_receipt(&NativeCrypto, &w.policy(), &w.registry, &r, NOW).unwrap();
        assert_eq!(
            v.accepted.value_micro_usd,
            Uint128::new(micro),
            "decimals {decimals} value {value}"
        );
    }
    // u128::MAX units with 0 decimals overflows micro-USD: rejected, not wrapped.
    let mut w = World::new(false);
    w.networks[0].assets[0].decimals = 0;
    let p = w.params(2, &w.proxy_pay_to.address(), u128::MAX, SERVED, 1);
    let r = make_signed_receipt(
        &w.payer,
        &w.proxy,
        Some(&w.facilitator),
        &w.domain,
        &p,
        w.inference(PROXY, GPT, SERVED),
        [9; 32],
    );
    let rej = verify_receipt(&NativeCrypto, &w.policy(), &w.registry, &r, NOW).unwrap_err();
    assert_eq!(rej.reason, RejectReason::InvalidPayload);
}

#[test]
fn header_decoding_tolerates_missing_padding() {
    let w = World::new(false);
    let r = w.receipt(false, 1, SERVED, 1);
    let padded = decode_payment_header(&r.payment).unwrap();
    let unpadded = decode_payment_header(r.payment.trim_end_matches('=')).unwrap();
    assert_eq!(padded, unpadded);
    assert_eq!(
        decode_payment_header("e30"),
        Err(RejectReason::InvalidPayload)
    ); // `{}`: no fields
}

#[test]
fn heartbeats() {
    let api = MockApi::default();
    for ed in [false, true] {
        let w = World::new(ed);
        let ts = SERVED;
        let hb = sign_heartbeat(&w.local, &w.domain, LOCAL, 5, ts);
        for crypto in [&NativeCrypto as &dyn DynCrypto, &ApiCrypto(&api)] {
            let live = crypto.heartbeat(&w, &hb, NOW).unwrap();
            assert_eq!(
                (
                    live.epoch,
                    live.node_id.as_str(),
                    live.hardware_class.as_str()
                ),
                (5, LOCAL, "rtx4090")
            );
            let mut bad = hb.clone();
            bad.epoch = 4;
            assert_eq!(
                crypto.heartbeat(&w, &bad, NOW),
                Err(RejectReason::EpochClosed),
                "timestamp outside epoch"
            );
            assert_eq!(
                crypto.heartbeat(&w, &hb, ts - 1),
                Err(RejectReason::EpochClosed),
                "from the future"
            );
            assert_eq!(
                crypto.heartbeat(&w, &hb, GENESIS + 6 * EPOCH + GRACE),
                Err(RejectReason::EpochClosed),
                "closed"
            );
            let mut bad = hb.clone();
            bad.timestamp += 1;
            assert_eq!(
                crypto.heartbeat(&w, &bad, NOW),
                Err(RejectReason::InvalidNodeSignature)
            );
            let forged = sign_heartbeat(
                &NodeSigner::derive(SEED, "impostor", ed),
                &w.domain,
                LOCAL,
                5,
                ts,
            );
            assert_eq!(
                crypto.heartbeat(&w, &forged, NOW),
                Err(RejectReason::InvalidNodeSignature)
            );
            let proxy_hb = sign_heartbeat(&w.proxy, &w.domain, PROXY, 5, ts);
            assert_eq!(
                crypto.heartbeat(&w, &proxy_hb, NOW),
                Err(RejectReason::ProvenanceMismatch)
            );
            let ghost = sign_heartbeat(&w.local, &w.domain, "ghost", 5, ts);
            assert_eq!(
                crypto.heartbeat(&w, &ghost, NOW),
                Err(RejectReason::NodeUnknown)
            );
            let expired = with_registry(World::new(ed), |reg| {
                reg.nodes
                    .get_mut(LOCAL)
                    .unwrap()
                    .attestation
                    .as_mut()
                    .unwrap()
                    .expires_at = ts;
            });
            assert_eq!(
                crypto.heartbeat(&expired, &hb, NOW),
                Err(RejectReason::AttestationExpired)
            );
            let jailed = with_registry(World::new(ed), |reg| {
                reg.nodes.get_mut(LOCAL).unwrap().status = NodeStatus::Jailed
            });
            assert_eq!(
                crypto.heartbeat(&jailed, &hb, NOW),
                Err(RejectReason::NodeJailed)
            );
        }
    }
}

/// Object-safe wrapper to loop over both backends.
trait DynCrypto {
    fn heartbeat(
        &self,
        w: &World,
        hb: &opg_core::receipt::Heartbeat,
        now: u64,
    ) -> Result<opg_core::msg::pool::LiveNode, RejectReason>;
}
impl<C: Crypto> DynCrypto for C {
    fn heartbeat(
        &self,
        w: &World,
        hb: &opg_core::receipt::Heartbeat,
        now: u64,
    ) -> Result<opg_core::msg::pool::LiveNode, RejectReason> {
        verify_heartbeat(self, &w.policy(), &w.registry, hb, now)
    }
}

/// Counts the signature operations a verification does.
#[derive(Default)]
struct Counting {
    recoveries: std::cell::Cell<u32>,
    verifications: std::cell::Cell<u32>,
}

impl Crypto for Counting {
    fn secp256k1_recover_pubkey(
        &self,
        hash: &[u8],
        sig: &[u8],
        recovery_id: u8,
    ) -> Result<Vec<u8>, ()> {
        self.recoveries.set(self.recoveries.get() + 1);
        NativeCrypto.secp256k1_recover_pubkey(hash, sig, recovery_id)
    }
    fn secp256k1_verify(&self, hash: &[u8], sig: &[u8], public_key: &[u8]) -> bool {
        self.verifications.set(self.verifications.get() + 1);
        NativeCrypto.secp256k1_verify(hash, sig, public_key)
    }
    fn ed25519_verify(&self, msg: &[u8], sig: &[u8], public_key: &[u8]) -> bool {
        NativeCrypto.ed25519_verify(msg, sig, public_key)
    }
}

#[test]
fn a_batch_sends_each_repeated_signers_key_once_and_every_receipt_uses_it() {
    use opg_core::codec::compact_signer_keys;
    use opg_core::verify::verify_receipt_with_keys;
    let w = World::new(false);
    let other_payer = EvmSigner::derive(SEED, "payer b");
    // Three calls of the world's payer, then one of another payer, all to the secp256k1 proxy,
    // each with all its signers' keys attached (as the keeper stores them).
    let mut batch: Vec<SignedReceipt> = (1..=3)
        .map(|n| {
            let mut r = w.receipt(false, 1, SERVED, n);
            r.signer_keys = Some(keys_of(&w, false));
            r
        })
        .collect();
    let mut single = make_signed_receipt(
        &other_payer,
        &w.proxy,
        Some(&w.facilitator),
        &w.domain,
        &w.params(2, &w.proxy_pay_to.address(), 25_000, SERVED, 4),
        w.inference(PROXY, GPT, SERVED),
        [9u8; 32],
    );
    single.signer_keys = Some(SignerKeys {
        payer: Some(Binary::new(other_payer.public_key().to_vec())),
        ..keys_of(&w, false)
    });
    batch.push(single);
    let plain: Vec<_> = batch
        .iter()
        .map(|r| {
            let mut r = r.clone();
            r.signer_keys = None;
            verify_receipt(&NativeCrypto, &w.policy(), &w.registry, &r, NOW).unwrap()
        })
        .collect();

    compact_signer_keys(&mut batch);
    // The first receipt carries the three repeated signers' keys; nothing else remains (the
    // second payer pays once: its key would cost more bytes than the recovery it saves).
    assert_eq!(batch[0].signer_keys, Some(keys_of(&w, false)));
    assert!(batch[1..].iter().all(|r| r.signer_keys.is_none()));
    let book = KeyBook::from_receipts(&batch);
    assert_eq!(book.len(), 3);

    let crypto = Counting::default();
    for (r, plain) in batch.iter().zip(&plain) {
        let v = verify_receipt_with_keys(&crypto, &w.policy(), &w.registry, r, &book, NOW).unwrap();
        assert_eq!(v.accepted, plain.accepted);
        assert_eq!(v.signer_keys, plain.signer_keys);
    }
    // 4 receipts x 3 secp256k1 signatures: only the single payer's is recovered.
    assert_eq!(
        (crypto.recoveries.get(), crypto.verifications.get()),
        (1, 11)
    );

    // Keys of signers that appear once are dropped; so are malformed ones.
    let mut lone = vec![w.receipt(false, 1, SERVED, 9)];
    lone[0].signer_keys = Some(SignerKeys {
        payer: Some(Binary::new(vec![4u8; 65])),
        ..keys_of(&w, false)
    });
    compact_signer_keys(&mut lone);
    assert_eq!(lone[0].signer_keys, None);
}

#[test]
fn compaction_for_submission_changes_no_verdict_and_shrinks_the_message() {
    use opg_core::codec::compact_for_submission;
    use opg_core::verify::verify_receipt_with_keys;
    // Every case, submitted alone, with all its keys and full requirements, then compacted.
    for c in cases() {
        let mut r = c.receipt.clone();
        r.requirements.resource = Some("https://node.example/v1/chat/completions".into());
        r.requirements.description = Some("a long human description of the paid resource".into());
        r.requirements.mime_type = Some("application/json".into());
        r.requirements.max_timeout_seconds = Some(300);
        let plain = verify_receipt(
            &NativeCrypto,
            &c.world.policy(),
            &c.world.registry,
            &r,
            c.now,
        );
        let mut batch = vec![r.clone(), r.clone()];
        batch[0].signer_keys = Some(keys_of(&c.world, c.receipt.receipt.node_id == LOCAL));
        batch[1].signer_keys = batch[0].signer_keys.clone();
        let before = serde_json::to_vec(&batch).unwrap().len();
        compact_for_submission(&mut batch);
        assert!(serde_json::to_vec(&batch).unwrap().len() < before);
        let book = KeyBook::from_receipts(&batch);
        let compacted = verify_receipt_with_keys(
            &NativeCrypto,
            &c.world.policy(),
            &c.world.registry,
            &batch[0],
            &book,
            c.now,
        );
        assert_eq!(
            compacted
                .as_ref()
                .map(|v| &v.accepted)
                .map_err(|e| e.reason),
            plain.as_ref().map(|v| &v.accepted).map_err(|e| e.reason),
            "compaction changed the verdict of case {:?}",
            c.name
        );
        assert_eq!(batch[0].requirements.resource, None);
        assert_eq!(batch[0].requirements.max_timeout_seconds, None);
    }
}

/// Encodes `receipt` for `world`'s config, decodes it and verifies the compact form.
fn compact_verdict<C: Crypto>(
    crypto: &C,
    world: &World,
    receipt: &SignedReceipt,
    now: u64,
) -> Option<Result<Verified, Rejection>> {
    use opg_core::codec::{compact_receipt, decode, encode, verify_compact_receipt, EncodeContext};
    let policy = world.policy();
    let ctx = EncodeContext {
        networks: &world.networks,
        facilitators: &policy.facilitators,
    };
    let compact = compact_receipt(receipt, &ctx)?;
    let bytes = encode(&compact).expect("compact_receipt gives encodable receipts");
    let decoded = decode(&bytes).expect("round trip");
    assert_eq!(decoded, compact, "decode(encode(c)) == c");
    let keys = KeyBook::from_keys(decoded.key_slices());
    Some(verify_compact_receipt(
        crypto,
        &policy,
        &world.registry,
        &decoded,
        &keys,
        now,
    ))
}

#[test]
fn the_compact_form_keeps_every_verdict_on_both_backends() {
    // Every case, with and without the signers' keys, under the world's config (token domain
    // from the asset config) and under a config without the token domain (the receipt carries it):
    // encoded, decoded, verified; the verdict is the JSON form's, on both backends. Every accepted
    // receipt is encodable; a receipt that is not must go as JSON (`compact_receipt` is `None`).
    let api = MockApi::default();
    let chain = ApiCrypto(&api);
    let (mut encoded, mut not_encodable) = (0, Vec::new());
    for mut c in cases() {
        for carry_domain in [false, true] {
            if carry_domain {
                for n in &mut c.world.networks {
                    for a in &mut n.assets {
                        a.eip712_name = None;
                        a.eip712_version = None;
                    }
                }
            }
            let world = &c.world;
            for keys in [
                None,
                Some(keys_of(world, c.receipt.receipt.node_id == LOCAL)),
            ] {
                let mut receipt = c.receipt.clone();
                receipt.signer_keys = keys;
                let json = verify_receipt(
                    &NativeCrypto,
                    &world.policy(),
                    &world.registry,
                    &receipt,
                    c.now,
                );
                // Permit2 payments (`exact` via Permit2, `upto`) and attestations stating an
                // amount have no compact layout yet: the encoder leaves them to the JSON form
                let json_only = opg_core::verify::decode_payment_header(&receipt.payment)
                    .is_ok_and(|p| p.payload.permit2_authorization.is_some())
                    || receipt
                        .settlement
                        .as_ref()
                        .is_some_and(|s| s.amount.is_some());
                let Some(native) = compact_verdict(&NativeCrypto, world, &receipt, c.now) else {
                    if !json_only {
                        assert!(json.is_err(), "accepted case {:?} is not encodable", c.name);
                        not_encodable.push(c.name);
                    }
                    continue;
                };
                assert!(!json_only, "case {:?} must travel as JSON", c.name);
                encoded += 1;
                let on_chain = compact_verdict(&chain, world, &receipt, c.now).unwrap();
                assert_eq!(native, on_chain, "backends disagree on case {:?}", c.name);
                assert_eq!(
                    native.as_ref().map(|v| &v.accepted).map_err(|e| e.reason),
                    json.as_ref().map(|v| &v.accepted).map_err(|e| e.reason),
                    "the compact form changed the verdict of case {:?}",
                    c.name
                );
            }
        }
    }
    assert!(encoded > 100, "{encoded} encoded");
    // the cases a compact form cannot express: a payment that does not decode or parse, a
    // network or asset outside the config, `payTo != to`, a malformed signature or settlement
    not_encodable.sort_unstable();
    not_encodable.dedup();
    assert!(not_encodable.len() < 25, "{not_encodable:?}");
}

#[test]
fn a_compact_batch_is_about_a_third_of_the_json_batch() {
    use opg_core::codec::{compact_for_submission, encode_batch, EncodeContext};
    let w = World::new(false);
    let policy = w.policy();
    let ctx = EncodeContext {
        networks: &w.networks,
        facilitators: &policy.facilitators,
    };
    let batch: Vec<SignedReceipt> = (0..10u8)
        .map(|i| {
            let mut r = w.receipt(false, 1, SERVED, i);
            r.signer_keys = Some(keys_of(&w, false));
            r
        })
        .collect();
    let compact = encode_batch(&batch, &ctx).expect("encodable");
    let mut json = batch.clone();
    compact_for_submission(&mut json);
    let json_len = serde_json::to_vec(&json).unwrap().len();
    let compact_len = serde_json::to_vec(&compact).unwrap().len();
    assert!(compact_len * 2 < json_len, "{compact_len} vs {json_len}");
    // the node's and the facilitator's keys once each (payer keys: every payer pays once here...
    // the world has one payer, so its key is sent once too)
    let keys: usize = compact
        .iter()
        .map(|b| opg_core::codec::decode(b).unwrap().key_slices().count())
        .sum();
    assert_eq!(keys, 3);
}
