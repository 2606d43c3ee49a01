//! `opg_keeper::facilitator::{verify, verify_json, verify_header}` over the reference fixtures
//! (payments made by the npm `x402` v1 and `@x402/core` + `@x402/evm` v2 clients on Base, Base
//! Sepolia and Avalanche Fuji, valid and tampered) and over tampered variants generated here:
//! every authorization field, every requirements field, a wrong key (signed in Rust with
//! `opg_core::sign`), version mismatches between the body and the payload, non-hex v2 signatures.
mod x402_support;

use std::collections::BTreeSet;

use opg_core::sign::EvmSigner;
use opg_keeper::facilitator::{verify, verify_header, verify_json, VerifyRequest, VerifyResponse};
use serde_json::{json, Value};
use x402_support::*;

fn assert_verdict(name: &str, got: &VerifyResponse, reason: Option<&str>, payer: Option<&str>) {
    match reason {
        None => {
            assert!(got.is_valid, "{name}: expected valid, got {got:?}");
            assert_eq!(got.invalid_reason, None, "{name}");
            assert_eq!(got.payer.as_deref(), Some(FIXTURE_PAYER), "{name}");
        }
        Some(reason) => {
            assert!(!got.is_valid, "{name}: expected {reason}, got valid");
            assert_eq!(got.invalid_reason.as_deref(), Some(reason), "{name}");
            if let Some(p) = payer {
                assert_eq!(got.payer.as_deref(), Some(p), "{name}");
            }
        }
    }
}

#[test]
fn fixtures_cover_three_networks_in_both_versions() {
    let cases = cases();
    for (version, prefix) in [(1, "v1 "), (2, "v2 ")] {
        let networks: BTreeSet<&str> = cases
            .iter()
            .filter(|c| c.name.starts_with(prefix) && c.x402_version == version)
            .map(|c| c.network())
            .collect();
        assert!(networks.len() >= 3, "v{version}: {networks:?}");
        let valid = cases
            .iter()
            .filter(|c| c.name.starts_with(prefix) && c.reason.is_none())
            .count();
        let invalid = cases
            .iter()
            .filter(|c| c.name.starts_with(prefix) && c.reason.is_some())
            .count();
        assert!(
            valid >= 9 && invalid >= 30,
            "v{version}: {valid} valid, {invalid} invalid"
        );
    }
}

#[test]
fn every_fixture_case_as_a_verify_body() {
    let mut checked = 0;
    for case in cases() {
        let Some(body) = case.body() else {
            // The header is not base64 of JSON: only the header form can carry it.
            assert_eq!(
                case.reason.as_deref(),
                Some("invalid_payload"),
                "{}",
                case.name
            );
            continue;
        };
        let got = verify_json(&body, case.verify_time);
        assert_verdict(&case.name, &got, case.reason.as_deref(), None);
        // the claimed payer is reported on invalid verdicts too, as the reference does, except
        // when the body's version is unsupported (the payload is not decoded then)
        let payer = (case.x402_version == 1 || case.x402_version == 2).then_some(FIXTURE_PAYER);
        assert_eq!(got.payer.as_deref(), payer, "{}", case.name);
        // the typed entry point agrees whenever the body has the typed shape
        if let Ok(request) = serde_json::from_value::<VerifyRequest>(body) {
            let typed = verify(&request, case.verify_time);
            assert_eq!(typed.is_valid, got.is_valid, "{}", case.name);
            assert_eq!(typed.invalid_reason, got.invalid_reason, "{}", case.name);
        }
        checked += 1;
    }
    assert!(checked > 100);
}

#[test]
fn every_fixture_case_as_a_header() {
    for case in cases() {
        let got = verify_header(&case.header, &case.typed_requirements(), case.verify_time);
        assert_verdict(&case.name, &got, case.reason.as_deref(), None);
    }
}

#[test]
fn response_json_is_the_facilitator_shape() {
    let valid = &valid_cases()[0];
    let got = verify_json(&valid.body().unwrap(), valid.verify_time);
    assert_eq!(
        serde_json::to_value(&got).unwrap(),
        json!({"isValid": true, "payer": FIXTURE_PAYER})
    );
    let got = verify_json(&valid.body().unwrap(), valid.verify_time + 3600);
    assert_eq!(
        serde_json::to_value(&got).unwrap(),
        json!({
            "isValid": false,
            "invalidReason": "invalid_exact_evm_payload_authorization_valid_before",
            "invalidMessage": "the authorization expires too soon (validBefore is not after now + 6 s)",
            "payer": FIXTURE_PAYER,
        })
    );
}

/// Changes one field of the payload JSON.
fn with(body: &Value, pointer: &str, value: Value) -> Value {
    let mut b = body.clone();
    *b.pointer_mut(pointer)
        .unwrap_or_else(|| panic!("no {pointer} in {body}")) = value;
    b
}

#[test]
fn every_authorization_field_tampered_after_signing_breaks_the_signature() {
    for case in valid_cases() {
        let body = case.body().unwrap();
        let t = case.verify_time;
        let auth = "/paymentPayload/payload/authorization";
        let a = body.pointer(auth).unwrap().clone();
        let bump = |s: &Value| -> Value {
            let n: u128 = s.as_str().unwrap().parse().unwrap();
            json!((n + 1).to_string())
        };
        let mut nonce = a["nonce"].as_str().unwrap().to_string();
        let last = if nonce.ends_with('0') { "1" } else { "0" };
        nonce.replace_range(nonce.len() - 1.., last);
        let tampered = [
            ("from", json!(OTHER), OTHER.to_lowercase()),
            ("to", json!(OTHER), FIXTURE_PAYER.to_string()),
            ("value", bump(&a["value"]), FIXTURE_PAYER.to_string()),
            (
                "validAfter",
                bump(&a["validAfter"]),
                FIXTURE_PAYER.to_string(),
            ),
            (
                "validBefore",
                bump(&a["validBefore"]),
                FIXTURE_PAYER.to_string(),
            ),
            ("nonce", json!(nonce), FIXTURE_PAYER.to_string()),
        ];
        for (field, value, payer) in tampered {
            let b = with(&body, &format!("{auth}/{field}"), value);
            let got = verify_json(&b, t);
            assert_verdict(
                &format!("{}: {field} tampered", case.name),
                &got,
                Some("invalid_exact_evm_payload_signature"),
                Some(&payer),
            );
        }
        // the untouched body is valid: the mutations above are what breaks it
        assert_verdict(&case.name, &verify_json(&body, t), None, None);
    }
}

#[test]
fn every_requirements_field_changed_gives_the_reference_reason() {
    for case in valid_cases() {
        let body = case.body().unwrap();
        let t = case.verify_time;
        let v1 = case.x402_version == 1;
        let req = "/paymentRequirements";
        let amount_field = if v1 { "maxAmountRequired" } else { "amount" };
        let other_network = if v1 { "polygon" } else { "eip155:137" };
        let changes: Vec<(&str, Value, &str)> = vec![
            // v2 `upto` is Permit2 only: an EIP-3009 payload is not an `upto` payload
            // (`@x402/evm` 2.27.0 `UptoEvmScheme.verify`); v1 has no `upto`.
            (
                "scheme",
                json!("upto"),
                if v1 {
                    "invalid_scheme"
                } else {
                    "unsupported_payload_type"
                },
            ),
            ("scheme", json!("other"), "invalid_scheme"),
            ("network", json!(other_network), "invalid_network"),
            ("network", json!("solana"), "invalid_network"),
            (
                "payTo",
                json!(OTHER),
                "invalid_exact_evm_payload_recipient_mismatch",
            ),
            ("asset", json!(OTHER), "invalid_exact_evm_payload_signature"),
            (
                "extra",
                json!({"name": "Tether", "version": "2"}),
                "invalid_exact_evm_payload_signature",
            ),
            (
                "extra",
                json!({"name": "USD Coin", "version": "3"}),
                "invalid_exact_evm_payload_signature",
            ),
            (
                "extra",
                json!({"name": "USD Coin"}),
                "invalid_payment_requirements",
            ),
            (
                "extra",
                json!({"version": "2"}),
                "invalid_payment_requirements",
            ),
            (
                "extra",
                json!({"name": "", "version": "2"}),
                "invalid_payment_requirements",
            ),
            (
                amount_field,
                json!("10001"),
                if v1 {
                    "invalid_exact_evm_payload_authorization_value"
                } else {
                    "invalid_exact_evm_payload_authorization_value_mismatch"
                },
            ),
            (amount_field, json!("ten"), "invalid_payment_requirements"),
            ("payTo", json!("0x1234"), "invalid_payment_requirements"),
        ];
        for (field, value, reason) in changes {
            let b = with(&body, &format!("{req}/{field}"), value.clone());
            // v2 checks the payload's `accepted` against the requirements: change both where the
            // reference client would have echoed them, except the network (a mismatch test).
            let b = if !v1 && field != "network" {
                with(
                    &b,
                    &format!("/paymentPayload/accepted/{field}"),
                    value.clone(),
                )
            } else {
                b
            };
            let got = verify_json(&b, t);
            assert_verdict(
                &format!("{}: requirements {field} = {value}", case.name),
                &got,
                Some(reason),
                Some(FIXTURE_PAYER),
            );
        }
        // payTo in another case (lowercase) is the same address: still valid
        let b = with(
            &body,
            &format!("{req}/payTo"),
            json!(FIXTURE_PAY_TO.to_lowercase()),
        );
        assert_verdict(
            &format!("{}: lowercase payTo", case.name),
            &verify_json(&b, t),
            None,
            None,
        );
    }
}

#[test]
fn malformed_signatures_are_signature_failures() {
    for case in valid_cases() {
        let body = case.body().unwrap();
        let sig = body["paymentPayload"]["payload"]["signature"]
            .as_str()
            .unwrap()
            .to_string();
        let variants = [
            format!("0x{}", "zz".repeat(65)),
            format!("{}zz", &sig[..sig.len() - 2]),
            sig.trim_start_matches("0x").to_string(),
            format!("{sig}00"),
            sig[..sig.len() - 2].to_string(),
            "0x".to_string(),
            String::new(),
            format!("{}1d", &sig[..sig.len() - 2]), // v = 29
        ];
        for s in variants {
            let b = with(&body, "/paymentPayload/payload/signature", json!(s));
            assert_verdict(
                &format!("{}: signature {s:?}", case.name),
                &verify_json(&b, case.verify_time),
                Some("invalid_exact_evm_payload_signature"),
                Some(FIXTURE_PAYER),
            );
        }
    }
}

#[test]
fn a_signature_by_another_key_is_rejected() {
    // Generated in Rust (the fixtures have no wrong-key case): payer B signs a correct
    // authorization, which then claims to be from the fixture payer A.
    let b = EvmSigner::derive(b"x402-tests", "someone else");
    for version in [1u32, 2] {
        let req = base_requirements(version, 10_000);
        let t = 1_750_000_000;
        let body = signed_body(&b, version, &req, 10_000, t - 600, t + 60);
        let own = verify_json(&body, t);
        assert!(own.is_valid, "{own:?}");
        assert_eq!(own.payer.as_deref(), Some(b.address().as_str()));
        let claimed = with(
            &body,
            "/paymentPayload/payload/authorization/from",
            json!(FIXTURE_PAYER),
        );
        assert_verdict(
            &format!("v{version}: B's signature claimed as A"),
            &verify_json(&claimed, t),
            Some("invalid_exact_evm_payload_signature"),
            Some(FIXTURE_PAYER),
        );
    }
}

#[test]
fn body_and_payload_versions_must_agree() {
    for case in valid_cases() {
        let body = case.body().unwrap();
        let t = case.verify_time;
        let other = if case.x402_version == 1 { 2 } else { 1 };
        for v in [
            json!(other),
            json!(0),
            json!(3),
            json!(-1),
            json!("1"),
            json!(1.5),
            Value::Null,
        ] {
            let b = with(&body, "/x402Version", v.clone());
            let got = verify_json(&b, t);
            assert_eq!(
                got.invalid_reason.as_deref(),
                Some("invalid_x402_version"),
                "{}: body x402Version {v}",
                case.name
            );
            assert!(!got.is_valid);
        }
        let mut missing = body.clone();
        missing.as_object_mut().unwrap().remove("x402Version");
        assert_eq!(
            verify_json(&missing, t).invalid_reason.as_deref(),
            Some("invalid_x402_version")
        );
        // and the typed entry point: the payload says one version, the request another
        let mut request: VerifyRequest = serde_json::from_value(body).unwrap();
        request.x402_version = other;
        let got = verify(&request, t);
        assert_verdict(
            &case.name,
            &got,
            Some("invalid_x402_version"),
            Some(FIXTURE_PAYER),
        );
    }
}

#[test]
fn payloads_and_requirements_of_the_wrong_shape() {
    let case = &valid_cases()[0];
    let body = case.body().unwrap();
    let t = case.verify_time;
    let reason = |b: &Value| verify_json(b, t).invalid_reason.unwrap_or_default();
    let mut b = body.clone();
    b.as_object_mut().unwrap().remove("paymentPayload");
    assert_eq!(reason(&b), "invalid_payload");
    let b = with(&body, "/paymentPayload/payload", json!("0xdead"));
    assert_eq!(reason(&b), "invalid_payload");
    let b = with(
        &body,
        "/paymentPayload/payload/authorization/value",
        json!(10000),
    );
    assert_eq!(reason(&b), "invalid_payload");
    let b = with(
        &body,
        "/paymentPayload/payload/authorization/value",
        json!("-1"),
    );
    assert_eq!(reason(&b), "invalid_payload");
    let b = with(
        &body,
        "/paymentPayload/payload/authorization/from",
        json!("0xf39f"),
    );
    assert_eq!(reason(&b), "invalid_payload");
    let mut b = body.clone();
    b.as_object_mut().unwrap().remove("paymentRequirements");
    assert_eq!(reason(&b), "invalid_payment_requirements");
    let b = with(&body, "/paymentRequirements/payTo", json!(42));
    let got = verify_json(&b, t);
    assert_eq!(
        got.invalid_reason.as_deref(),
        Some("invalid_payment_requirements")
    );
    assert_eq!(got.payer.as_deref(), Some(FIXTURE_PAYER));
    assert!(got.invalid_message.unwrap().contains("payTo"));
    assert_eq!(reason(&json!("a string")), "invalid_payload");
}

#[test]
fn time_window_edges_follow_the_reference() {
    // validBefore must be at least now + 6; validAfter at most now.
    let payer = EvmSigner::derive(b"x402-tests", "payer");
    for version in [1u32, 2] {
        let req = base_requirements(version, 5);
        let (after, before) = (1_000_000u64, 1_000_100u64);
        let body = signed_body(&payer, version, &req, 5, after, before);
        let at = |t: u64| verify_json(&body, t).invalid_reason;
        assert_eq!(at(after), None);
        assert_eq!(at(before - 6), None);
        assert_eq!(
            at(before - 5).as_deref(),
            Some("invalid_exact_evm_payload_authorization_valid_before")
        );
        assert_eq!(
            at(before).as_deref(),
            Some("invalid_exact_evm_payload_authorization_valid_before")
        );
        assert_eq!(
            at(after - 1).as_deref(),
            Some("invalid_exact_evm_payload_authorization_valid_after")
        );
        // expired wins over not-yet-valid (validBefore is checked first)
        let inverted = signed_body(&payer, version, &req, 5, 2_000, 1_000);
        assert_eq!(
            verify_json(&inverted, 1_500).invalid_reason.as_deref(),
            Some("invalid_exact_evm_payload_authorization_valid_before")
        );
    }
}

#[test]
fn value_rules_differ_between_versions() {
    // v1: value >= maxAmountRequired; v2: value == amount.
    let payer = EvmSigner::derive(b"x402-tests", "payer");
    let t = 1_750_000_000;
    let v1_req = base_requirements(1, 100);
    assert!(verify_json(&signed_body(&payer, 1, &v1_req, 101, t - 1, t + 60), t).is_valid);
    assert!(verify_json(&signed_body(&payer, 1, &v1_req, 100, t - 1, t + 60), t).is_valid);
    assert_eq!(
        verify_json(&signed_body(&payer, 1, &v1_req, 99, t - 1, t + 60), t)
            .invalid_reason
            .as_deref(),
        Some("invalid_exact_evm_payload_authorization_value")
    );
    let v2_req = base_requirements(2, 100);
    assert!(verify_json(&signed_body(&payer, 2, &v2_req, 100, t - 1, t + 60), t).is_valid);
    for value in [99u128, 101] {
        assert_eq!(
            verify_json(&signed_body(&payer, 2, &v2_req, value, t - 1, t + 60), t)
                .invalid_reason
                .as_deref(),
            Some("invalid_exact_evm_payload_authorization_value_mismatch"),
            "v2 value {value}"
        );
    }
}
