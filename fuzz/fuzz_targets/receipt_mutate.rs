//! Structured mutation: one of the world's valid receipts, changed by a list of field mutations
//! chosen by `arbitrary`, then `verify_receipt`.
//!
//! Oracles: nothing panics; native and on-chain crypto agree; a receipt is accepted only if its
//! signed content is unchanged: the `InferenceReceipt` (bound by the node signature) and the
//! authorization's value, nonce and payer (bound by the payer's signature).
#![no_main]

use arbitrary::Arbitrary;
use base64::Engine as _;
use cosmwasm_std::testing::MockApi;
use cosmwasm_std::Binary;
use libfuzzer_sys::fuzz_target;
use opg_core::crypto::{ApiCrypto, NativeCrypto};
use opg_core::receipt::SignedReceipt;
use opg_core::verify::{decode_payment_header, verify_receipt};
use opg_core::x402::PaymentPayload;
use opg_fuzz::{valid_receipts, world, NOW};

#[derive(Arbitrary, Debug)]
enum Auth {
    From(String),
    To(String),
    Value(String),
    ValidAfter(String),
    ValidBefore(String),
    Nonce(String),
    Signature(String),
    Version(u32),
    Scheme(Option<String>),
    Network(Option<String>),
    DropAccepted,
}

#[derive(Arbitrary, Debug)]
enum Mutation {
    ServedAt(u64),
    ShiftServedAt(i32),
    NodeId(String),
    ModelId(String),
    RequestDigest(Vec<u8>),
    PromptTokens(u64),
    CompletionTokens(u64),
    FlipNodeSignatureBit(u16),
    NodeSignature(Vec<u8>),
    DropSettlement,
    SettlementTxHash(Vec<u8>),
    SettlementFacilitator(String),
    FlipSettlementSignatureBit(u16),
    RequirementsPayTo(String),
    RequirementsAmount(Option<String>),
    RequirementsMaxAmount(Option<String>),
    RequirementsNetwork(String),
    RequirementsAsset(String),
    RequirementsScheme(String),
    RequirementsExtraName(Option<String>),
    Payment(Auth),
    PaymentHeader(String),
    /// Swaps in the payment of another valid receipt.
    SwapPayment(u8),
}

#[derive(Arbitrary, Debug)]
struct Input {
    base: u8,
    mutations: Vec<Mutation>,
}

fn flip(bytes: &Binary, bit: u16) -> Binary {
    let mut v = bytes.to_vec();
    if !v.is_empty() {
        let i = (bit as usize / 8) % v.len();
        v[i] ^= 1 << (bit % 8);
    }
    Binary::from(v)
}

fn mutate_payment(r: &mut SignedReceipt, m: Auth) {
    let Ok(mut p): Result<PaymentPayload, _> = decode_payment_header(&r.payment) else {
        return;
    };
    let Some(a) = p.payload.authorization.as_mut() else {
        return;
    };
    match m {
        Auth::From(s) => a.from = s,
        Auth::To(s) => a.to = s,
        Auth::Value(s) => a.value = s,
        Auth::ValidAfter(s) => a.valid_after = s,
        Auth::ValidBefore(s) => a.valid_before = s,
        Auth::Nonce(s) => a.nonce = s,
        Auth::Signature(s) => p.payload.signature = s,
        Auth::Version(v) => p.x402_version = v,
        Auth::Scheme(s) => p.scheme = s,
        Auth::Network(s) => p.network = s,
        Auth::DropAccepted => p.accepted = None,
    }
    let json = serde_json::to_vec(&p).expect("payload serializes");
    r.payment = base64::engine::general_purpose::STANDARD.encode(json);
}

fn apply(r: &mut SignedReceipt, m: Mutation) {
    let rc = &mut r.receipt;
    match m {
        Mutation::ServedAt(t) => rc.served_at = t,
        Mutation::ShiftServedAt(d) => rc.served_at = rc.served_at.wrapping_add_signed(d as i64),
        Mutation::NodeId(s) => rc.node_id = s,
        Mutation::ModelId(s) => rc.model_id = s,
        Mutation::RequestDigest(v) => rc.request_digest = Binary::from(v),
        Mutation::PromptTokens(n) => rc.prompt_tokens = n,
        Mutation::CompletionTokens(n) => rc.completion_tokens = n,
        Mutation::FlipNodeSignatureBit(b) => r.node_signature = flip(&r.node_signature, b),
        Mutation::NodeSignature(v) => r.node_signature = Binary::from(v),
        Mutation::DropSettlement => r.settlement = None,
        Mutation::SettlementTxHash(v) => {
            if let Some(s) = &mut r.settlement {
                s.tx_hash = Binary::from(v);
            }
        }
        Mutation::SettlementFacilitator(f) => {
            if let Some(s) = &mut r.settlement {
                s.facilitator = f;
            }
        }
        Mutation::FlipSettlementSignatureBit(b) => {
            if let Some(s) = &mut r.settlement {
                s.signature = flip(&s.signature, b);
            }
        }
        Mutation::RequirementsPayTo(s) => r.requirements.pay_to = s,
        Mutation::RequirementsAmount(s) => r.requirements.amount = s,
        Mutation::RequirementsMaxAmount(s) => r.requirements.max_amount_required = s,
        Mutation::RequirementsNetwork(s) => r.requirements.network = s,
        Mutation::RequirementsAsset(s) => r.requirements.asset = s,
        Mutation::RequirementsScheme(s) => r.requirements.scheme = s,
        Mutation::RequirementsExtraName(s) => {
            if let Some(e) = &mut r.requirements.extra {
                e.name = s;
            }
        }
        Mutation::Payment(a) => mutate_payment(r, a),
        Mutation::PaymentHeader(h) => r.payment = h,
        Mutation::SwapPayment(i) => {
            let other = &valid_receipts()[i as usize % 3];
            r.payment = other.payment.clone();
            r.requirements = other.requirements.clone();
        }
    }
}

fuzz_target!(|input: Input| {
    let original = &valid_receipts()[input.base as usize % 3];
    let mut receipt = original.clone();
    for m in input.mutations.into_iter().take(8) {
        apply(&mut receipt, m);
    }
    let w = world();
    let policy = w.policy();
    let api = MockApi::default();
    let native = verify_receipt(&NativeCrypto, &policy, &w.registry, &receipt, NOW);
    let chain = verify_receipt(&ApiCrypto(&api), &policy, &w.registry, &receipt, NOW);
    assert_eq!(native, chain, "native and on-chain crypto disagree");
    if let Ok(verified) = native {
        assert_eq!(
            receipt.receipt, original.receipt,
            "accepted altered receipt content"
        );
        let before = decode_payment_header(&original.payment).expect("valid header");
        let a = before.payload.authorization.as_ref().expect("EIP-3009");
        assert_eq!(
            verified.accepted.payer,
            a.from.to_lowercase(),
            "payer changed"
        );
        assert_eq!(
            verified.accepted.nonce,
            a.nonce.to_lowercase(),
            "nonce changed"
        );
        assert_eq!(
            verified.accepted.value.to_string(),
            a.value,
            "value changed"
        );
    }
});
