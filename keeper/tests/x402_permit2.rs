//! x402 Permit2 (`exact` via Permit2, `upto`) at `opg x402 verify` and `POST /verify`, over the
//! reference-generated fixtures (`tests/fixtures/x402/permit2.json`,
//! `scripts/x402-fixtures/generate-permit2.mjs`: each case carries the reference facilitator's
//! verdict, and opg's where it differs on purpose), plus the `--facilitator` flag, its default
//! (the dev genesis' facilitator) and `GET /supported`.
use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use opg_core::sign::{sign_permit2_payment, EvmSigner, Permit2Params};
use opg_core::verify::parse_evm_address;
use opg_core::x402::PaymentRequirements;
use opg_keeper::cli::x402::default_facilitator;
use opg_keeper::facilitator::{routes, routes_with, SupportedResponse};
use serde_json::{json, Value};
use tower::ServiceExt as _;

fn fixture() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/fixtures/x402/permit2.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Our reason string as the reference facilitator names it (`docs/x402.md`).
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

/// The `/verify` body of a fixture case.
fn body(case: &Value) -> Value {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(case["header"].as_str().unwrap().trim_end_matches('='))
        .unwrap();
    json!({
        "x402Version": 2,
        "paymentPayload": serde_json::from_slice::<Value>(&bytes).unwrap(),
        "paymentRequirements": case["requirements"],
    })
}

fn expected(case: &Value) -> &Value {
    if case["opg"].is_object() {
        &case["opg"]
    } else {
        &case["reference"]
    }
}

fn opg(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_opg"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn opg");
    let _ = child.stdin.take().unwrap().write_all(stdin);
    child.wait_with_output().unwrap()
}

/// Asserts a `/verify` response equals the fixture's expectation.
fn check(case: &Value, v: &Value) {
    let name = case["name"].as_str().unwrap();
    let want = expected(case);
    assert_eq!(v["isValid"], want["valid"], "{name}: {v}");
    if want["valid"] == true {
        assert_eq!(v["payer"], want["payer"], "{name}");
    } else {
        let scheme = case["requirements"]["scheme"].as_str().unwrap();
        let got = reference_name(v["invalidReason"].as_str().unwrap(), scheme);
        assert_eq!(got, want["reason"].as_str().unwrap(), "{name}");
    }
}

#[test]
fn every_permit2_fixture_through_the_cli() {
    let f = fixture();
    let cases = f["cases"].as_array().unwrap();
    for case in cases {
        let now = case["verify_time"].to_string();
        let facilitator = case["facilitators"][0].as_str().unwrap();
        let out = opg(
            &[
                "x402",
                "verify",
                "--now",
                &now,
                "--facilitator",
                facilitator,
            ],
            &serde_json::to_vec(&body(case)).unwrap(),
        );
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        check(case, &v);
        let code = if v["isValid"] == true { 0 } else { 1 };
        assert_eq!(out.status.code(), Some(code), "{}", case["name"]);
    }
    assert!(cases.len() >= 100);
}

/// An `upto` payment signed now for `facilitator`, as a `/verify` body.
fn upto_body(facilitator: &str) -> Value {
    let payer = EvmSigner::derive(b"x402-permit2-tests", "payer");
    let now = opg_keeper::facilitator::unix_now();
    let pay_to = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8";
    let usdc = "0x833589fcd6edb6e08f4c7c32d4f71b54bda02913";
    let requirements = PaymentRequirements::permit2(
        "upto",
        "eip155:8453",
        pay_to,
        usdc,
        50_000,
        Some(facilitator),
    );
    let params = Permit2Params {
        requirements: requirements.clone(),
        amount: 50_000,
        valid_after: now - 60,
        deadline: now + 300,
        nonce: [7; 32],
        facilitator: parse_evm_address(facilitator),
    };
    let (payload, _) = sign_permit2_payment(&payer, &params);
    json!({"x402Version": 2, "paymentPayload": payload, "paymentRequirements": requirements})
}

#[test]
fn the_facilitator_flag_defaults_to_the_dev_genesis_facilitator_and_repeats() {
    let dev = default_facilitator();
    let other = "0x9965507d1a55bcc2695c58ba16fb37d819b0a4dc";
    let reason = |args: &[&str], body: &Value| -> Value {
        let out = opg(args, &serde_json::to_vec(body).unwrap());
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let for_dev = upto_body(&dev);
    assert_eq!(reason(&["x402", "verify"], &for_dev)["isValid"], true);
    let v = reason(&["x402", "verify", "--facilitator", other], &for_dev);
    assert_eq!(v["invalidReason"], "upto_facilitator_mismatch");
    let v = reason(
        &[
            "x402",
            "verify",
            "--facilitator",
            other,
            "--facilitator",
            &dev,
        ],
        &for_dev,
    );
    assert_eq!(v["isValid"], true);
    let for_other = upto_body(other);
    let v = reason(&["x402", "verify"], &for_other);
    assert_eq!(v["invalidReason"], "upto_facilitator_mismatch");
    // A malformed address is a usage error (exit 2).
    let out = opg(&["x402", "verify", "--facilitator", "0x12"], b"{}");
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
}

async fn call(
    router: axum::Router,
    method: Method,
    uri: &str,
    body: Vec<u8>,
) -> (StatusCode, Value) {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .unwrap();
    let response = router.oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    (status, serde_json::from_slice(&bytes).unwrap())
}

#[tokio::test]
async fn post_verify_checks_upto_against_the_facilitators_in_force() {
    let f = fixture();
    let facilitator =
        parse_evm_address(f["cases"][0]["facilitators"][0].as_str().unwrap()).unwrap();
    let with = || routes_with(Arc::new(move || vec![facilitator]));
    // POST /verify checks at the keeper's clock, so the fixtures (signed for 2025) go through the
    // CLI's `--now` above; here, payments signed now.
    let dev = default_facilitator();
    let body = upto_body(f["cases"][0]["facilitators"][0].as_str().unwrap());
    let (status, v) = call(
        with(),
        Method::POST,
        "/verify",
        serde_json::to_vec(&body).unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v["isValid"], true, "{v}");
    // Without facilitators (routes()), no upto payment is valid.
    let (_, v) = call(
        routes(),
        Method::POST,
        "/verify",
        serde_json::to_vec(&body).unwrap(),
    )
    .await;
    assert_eq!(v["invalidReason"], "upto_facilitator_mismatch");
    // A payment naming another facilitator.
    let other = upto_body(&dev);
    let (_, v) = call(
        with(),
        Method::POST,
        "/verify",
        serde_json::to_vec(&other).unwrap(),
    )
    .await;
    assert_eq!(v["invalidReason"], "upto_facilitator_mismatch");
}

#[tokio::test]
async fn supported_lists_upto_and_exact_on_v2_chains() {
    let (status, v) = call(routes(), Method::GET, "/supported", vec![]).await;
    assert_eq!(status, StatusCode::OK);
    let s: SupportedResponse = serde_json::from_value(v).unwrap();
    for scheme in ["exact", "upto"] {
        assert!(
            s.kinds
                .iter()
                .any(|k| k.x402_version == 2 && k.scheme == scheme && k.network == "eip155:8453"),
            "{scheme}"
        );
    }
    assert!(!s
        .kinds
        .iter()
        .any(|k| k.x402_version == 1 && k.scheme == "upto"));
}
