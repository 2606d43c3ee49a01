//! x402 `/verify` throughput on one core, next to the raw cost of one secp256k1 public-key
//! recovery (k256) measured in the same run (issue 4, "Speed"; results in `docs/x402.md`).
//!
//! * `x402/k256_recover`: `VerifyingKey::recover_from_prehash` of the reference v1 payment's
//!   signature over its EIP-712 digest: the floor a verification cannot go below.
//! * `x402/verify_typed`: [`opg_keeper::facilitator::verify`] on a decoded request (parse the
//!   decimal/hex fields, two EIP-712 hashes, recovery, keccak of the key, the checks).
//! * `x402/verify_json_bytes`: the whole `POST /verify` body path: JSON bytes → verdict.
//!
//! Run: `cargo bench -p opg-keeper --bench verify` (single-threaded: criterion runs one
//! benchmark at a time on the calling thread). Each iteration is one verification, so
//! criterion's `thrpt` line is verifications per second.
use std::hint::black_box;
use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use k256::ecdsa::{RecoveryId, Signature, VerifyingKey};
use opg_core::eip712::{token_domain_separator, transfer_with_authorization_digest, Authorization};
use opg_core::verify::{decode_payment_header, parse_evm_address};
use opg_core::x402::PaymentRequirements;
use opg_keeper::facilitator::{verify, verify_json, VerifyRequest};
use serde_json::{json, Value};

/// The first recorded valid payment: `x402@1` `createPaymentHeader` on Base.
fn reference_case() -> (VerifyRequest, u64) {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/x402/payments-v1.json");
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("fixtures")).expect("JSON");
    let case = doc["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .find(|c| c["expected"]["valid"] == true)
        .expect("a valid case");
    let payload = decode_payment_header(case["header"].as_str().expect("header")).expect("decodes");
    let requirements: PaymentRequirements =
        serde_json::from_value(case["requirements"].clone()).expect("requirements");
    let request = VerifyRequest {
        x402_version: payload.x402_version,
        payment_payload: payload,
        payment_requirements: requirements,
    };
    (request, case["verify_time"].as_u64().expect("verify_time"))
}

/// The EIP-712 digest, the 64-byte signature and recovery id of the reference payment.
fn digest_and_signature(request: &VerifyRequest) -> ([u8; 32], Signature, RecoveryId) {
    let req = &request.payment_requirements;
    let a = request
        .payment_payload
        .payload
        .authorization
        .as_ref()
        .expect("EIP-3009");
    let extra = req.extra.clone().expect("extra");
    let domain = token_domain_separator(
        extra.name.as_deref().expect("name"),
        extra.version.as_deref().expect("version"),
        8453,
        &parse_evm_address(&req.asset).expect("asset"),
    );
    let mut nonce = [0u8; 32];
    hex::decode_to_slice(&a.nonce[2..], &mut nonce).expect("nonce");
    let auth = Authorization {
        from: parse_evm_address(&a.from).expect("from"),
        to: parse_evm_address(&a.to).expect("to"),
        value: a.value.parse().expect("value"),
        valid_after: a.valid_after.parse().expect("validAfter"),
        valid_before: a.valid_before.parse().expect("validBefore"),
        nonce,
    };
    let digest = transfer_with_authorization_digest(&domain, &auth);
    let sig = hex::decode(&request.payment_payload.payload.signature[2..]).expect("hex");
    let signature = Signature::from_slice(&sig[..64]).expect("signature");
    let id = RecoveryId::from_byte(sig[64] - 27).expect("v");
    (digest, signature, id)
}

fn bench(c: &mut Criterion) {
    let (request, now) = reference_case();
    let (digest, signature, id) = digest_and_signature(&request);
    // sanity: the recovery is of the payer, and the verdict is valid
    let key = VerifyingKey::recover_from_prehash(&digest, &signature, id).expect("recovers");
    let point = key.to_encoded_point(false);
    let address = &opg_core::eip712::keccak256(&point.as_bytes()[1..])[12..];
    assert_eq!(
        Some(address),
        parse_evm_address(
            &request
                .payment_payload
                .payload
                .authorization
                .as_ref()
                .expect("EIP-3009")
                .from
        )
        .as_ref()
        .map(|a| &a[..])
    );
    assert!(verify(&request, now).is_valid);
    let body = serde_json::to_vec(&json!({
        "x402Version": request.x402_version,
        "paymentPayload": request.payment_payload,
        "paymentRequirements": request.payment_requirements,
    }))
    .expect("serializes");
    assert!(verify_json(&serde_json::from_slice(&body).expect("JSON"), now).is_valid);

    let mut g = c.benchmark_group("x402");
    g.throughput(Throughput::Elements(1));
    g.bench_function("k256_recover", |b| {
        b.iter(|| {
            VerifyingKey::recover_from_prehash(
                black_box(&digest),
                black_box(&signature),
                black_box(id),
            )
        })
    });
    g.bench_function("verify_typed", |b| {
        b.iter(|| verify(black_box(&request), black_box(now)))
    });
    g.bench_function("verify_json_bytes", |b| {
        b.iter(|| {
            let value: Value = serde_json::from_slice(black_box(&body)).expect("JSON");
            verify_json(&value, black_box(now))
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
