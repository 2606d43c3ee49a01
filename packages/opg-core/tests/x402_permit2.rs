//! x402 Permit2 payments (`exact` via Permit2, `upto`) made by the reference clients
//! (`@x402/core` + `@x402/evm` 2.27.0, see `scripts/x402-fixtures/generate-permit2.mjs`), valid and
//! tampered, each with the verdict of the reference facilitator's own `verify` (run offline with a
//! stub chain client). `verify_payment_with_facilitators` must give the reference's verdict and
//! reason on every case (reason strings mapped as `docs/x402.md` documents), except where the
//! fixture records opg's verdict and why (opg follows what Permit2 settles on chain), on both
//! crypto backends; and our EIP-712 digest must equal viem's `hashTypedData`.
use std::path::PathBuf;

use cosmwasm_std::testing::MockApi;
use opg_core::crypto::{ApiCrypto, NativeCrypto};
use opg_core::sign::{sign_permit2_payment, EvmSigner, Permit2Params};
use opg_core::verify::{
    decode_payment_header, parse_evm_address, verify_payment_with_facilitators, VerifiedPayment,
    VALID_BEFORE_MARGIN,
};
use opg_core::x402::PaymentRequirements;
use serde_json::Value;

fn fixture() -> Value {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/x402/permit2.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// Our reason string as the reference facilitator names it for `scheme` (`docs/x402.md`).
fn reference_name(ours: &str, scheme: &str) -> String {
    match (ours, scheme) {
        ("invalid_scheme", "upto") => "invalid_upto_evm_scheme",
        ("invalid_scheme", _) => "unsupported_payload_type",
        ("invalid_network", "upto") => "invalid_upto_evm_network_mismatch",
        ("invalid_network", _) => "invalid_exact_evm_network_mismatch",
        (other, _) => other,
    }
    .to_string()
}

fn verdict(
    case: &Value,
    requirements: &PaymentRequirements,
    facilitators: &[[u8; 20]],
) -> Result<VerifiedPayment, String> {
    let now = case["verify_time"].as_u64().unwrap();
    let run = |api: bool| {
        let payload = decode_payment_header(case["header"].as_str().unwrap())?;
        if api {
            let mock = MockApi::default();
            verify_payment_with_facilitators(
                &ApiCrypto(&mock),
                &payload,
                requirements,
                now,
                VALID_BEFORE_MARGIN,
                facilitators,
            )
        } else {
            verify_payment_with_facilitators(
                &NativeCrypto,
                &payload,
                requirements,
                now,
                VALID_BEFORE_MARGIN,
                facilitators,
            )
        }
    };
    let native = run(false);
    assert_eq!(native, run(true), "{}: backends disagree", case["name"]);
    native.map_err(|r| reference_name(r.as_str(), &requirements.scheme))
}

#[test]
fn permit2_verdicts_match_the_reference_facilitator() {
    let f = fixture();
    assert!(f["packages"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p == "@x402/evm@2.27.0"));
    let cases = f["cases"].as_array().unwrap();
    assert!(cases.len() >= 100, "{} cases", cases.len());
    let (mut agreed, mut diverged, mut valid) = (0, 0, 0);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let requirements: PaymentRequirements =
            serde_json::from_value(case["requirements"].clone()).unwrap();
        let facilitators: Vec<[u8; 20]> = case["facilitators"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| parse_evm_address(a.as_str().unwrap()).unwrap())
            .collect();
        let expected = if case["opg"].is_object() {
            diverged += 1;
            &case["opg"]
        } else {
            agreed += 1;
            &case["reference"]
        };
        let got = verdict(case, &requirements, &facilitators);
        if expected["valid"].as_bool().unwrap() {
            valid += 1;
            let v = got.unwrap_or_else(|r| panic!("{name}: expected valid, got {r}"));
            assert_eq!(v.payer, expected["payer"].as_str().unwrap(), "{name}");
            let digest = format!("0x{}", hex::encode(v.payment_digest));
            assert_eq!(
                digest,
                case["permit2_digest"].as_str().unwrap(),
                "{name}: EIP-712 digest vs viem"
            );
        } else {
            let reason = expected["reason"]
                .as_str()
                .unwrap_or_else(|| panic!("{name}: no reason"));
            assert_eq!(got.err().as_deref(), Some(reason), "{name}");
        }
    }
    // Every divergence is one of the two documented signature rules.
    assert_eq!(diverged, 8);
    assert!(agreed > 90 && valid > 20, "agreed {agreed}, valid {valid}");
}

#[test]
fn an_upto_payment_needs_its_facilitator_allowed() {
    let f = fixture();
    let case = f["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "upto permit2 eip155:8453: valid")
        .unwrap();
    let requirements: PaymentRequirements =
        serde_json::from_value(case["requirements"].clone()).unwrap();
    assert_eq!(
        verdict(case, &requirements, &[]).err().as_deref(),
        Some("upto_facilitator_mismatch")
    );
    let other = parse_evm_address("0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc").unwrap();
    assert_eq!(
        verdict(case, &requirements, &[other]).err().as_deref(),
        Some("upto_facilitator_mismatch")
    );
}

/// Our Permit2 signer reproduces the reference client's header byte for byte (same nonce, same
/// deadline), so the payments opg's simulator and tests make are the reference's.
#[test]
fn our_signer_reproduces_the_reference_payloads() {
    let mut secret = [0u8; 32];
    hex::decode_to_slice(
        "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
        &mut secret,
    )
    .unwrap();
    let payer = EvmSigner::from_bytes(&secret).unwrap();
    let f = fixture();
    for scheme in ["exact", "upto"] {
        let case = f["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == format!("{scheme} permit2 eip155:8453: valid").as_str())
            .unwrap();
        let requirements: PaymentRequirements =
            serde_json::from_value(case["requirements"].clone()).unwrap();
        let reference = decode_payment_header(case["header"].as_str().unwrap()).unwrap();
        let a = reference.payload.permit2_authorization.clone().unwrap();
        let params = Permit2Params {
            requirements: requirements.clone(),
            amount: a.permitted.amount.parse().unwrap(),
            valid_after: a.witness.valid_after.parse().unwrap(),
            deadline: a.deadline.parse().unwrap(),
            nonce: opg_core::permit2::parse_decimal_u256(&a.nonce).unwrap(),
            facilitator: a.witness.facilitator.as_deref().and_then(parse_evm_address),
        };
        let (ours, _) = sign_permit2_payment(&payer, &params);
        assert_eq!(ours.payload, reference.payload, "{scheme}");
    }
}
