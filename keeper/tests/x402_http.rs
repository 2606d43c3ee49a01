//! The facilitator endpoints of `opg_keeper::facilitator::routes()` through
//! `tower::ServiceExt::oneshot`: `POST /verify` (fixtures, a payment signed now, non-JSON bodies),
//! `GET /supported`, `POST /settle` (501).
mod x402_support;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use opg_core::sign::EvmSigner;
use opg_keeper::facilitator::{routes, SupportedResponse, VerifyResponse, SETTLE_NOT_SUPPORTED};
use serde_json::{json, Value};
use tower::ServiceExt as _;
use x402_support::*;

async fn call(method: Method, uri: &str, body: Vec<u8>) -> (StatusCode, Value) {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .unwrap();
    let response = routes().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    let value = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&bytes)))
    };
    (status, value)
}

#[tokio::test]
async fn verify_accepts_a_payment_valid_now_in_both_versions() {
    let payer = EvmSigner::derive(b"x402-tests", "http payer");
    let t = now();
    for version in [1, 2] {
        let req = base_requirements(version, 10_000);
        let body = signed_body(&payer, version, &req, 10_000, t - 60, t + 300);
        let (status, v) = call(Method::POST, "/verify", serde_json::to_vec(&body).unwrap()).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(v, json!({"isValid": true, "payer": payer.address()}));
        let parsed: VerifyResponse = serde_json::from_value(v).unwrap();
        assert!(parsed.is_valid);
        // the same payment for a different amount is refused with the reference reason
        let mut other = body.clone();
        let field = if version == 1 {
            "maxAmountRequired"
        } else {
            "amount"
        };
        other["paymentRequirements"][field] = json!("20000");
        let (status, v) = call(Method::POST, "/verify", serde_json::to_vec(&other).unwrap()).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(v["isValid"], false);
        let reason = if version == 1 {
            "invalid_exact_evm_payload_authorization_value"
        } else {
            "invalid_exact_evm_payload_authorization_value_mismatch"
        };
        assert_eq!(v["invalidReason"], reason);
        assert_eq!(v["payer"], payer.address());
    }
}

#[tokio::test]
async fn verify_answers_fixtures_at_the_keepers_clock() {
    // Every recorded case that is not already invalid for another reason is, by the clock,
    // expired; the invalid ones keep their recorded reason (checked before the time window).
    for case in cases() {
        let Some(body) = case.body() else { continue };
        let (status, v) = call(Method::POST, "/verify", serde_json::to_vec(&body).unwrap()).await;
        assert_eq!(status, StatusCode::OK, "{}", case.name);
        assert_eq!(v["isValid"], false, "{}", case.name);
        let before_time = [
            "invalid_x402_version",
            "invalid_scheme",
            "invalid_network",
            "invalid_payload",
            "invalid_payment_requirements",
            "invalid_exact_evm_payload_signature",
            "invalid_exact_evm_payload_recipient_mismatch",
        ];
        let expected = match case.reason.as_deref() {
            Some(r) if before_time.contains(&r) => r,
            _ => "invalid_exact_evm_payload_authorization_valid_before",
        };
        assert_eq!(v["invalidReason"], expected, "{}", case.name);
    }
}

#[tokio::test]
async fn verify_with_a_body_that_is_not_json_is_400_with_a_verdict() {
    let (status, v) = call(Method::POST, "/verify", b"{not json".to_vec()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(v["isValid"], false);
    assert_eq!(v["invalidReason"], "invalid_payload");
    assert!(v["invalidMessage"]
        .as_str()
        .unwrap()
        .starts_with("request body is not JSON"));
    // JSON of the wrong shape is a 200 verdict
    let (status, v) = call(Method::POST, "/verify", b"{\"x402Version\": 9}".to_vec()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v["invalidReason"], "invalid_x402_version");
}

#[tokio::test]
async fn supported_lists_exact_on_the_fixture_networks() {
    let (status, v) = call(Method::GET, "/supported", Vec::new()).await;
    assert_eq!(status, StatusCode::OK);
    let s: SupportedResponse = serde_json::from_value(v.clone()).unwrap();
    for case in valid_cases() {
        assert!(
            s.kinds
                .iter()
                .any(|k| k.x402_version as u64 == case.x402_version
                    && k.scheme == "exact"
                    && k.network == case.network()),
            "{} missing from {v}",
            case.network()
        );
    }
    // camelCase wire shape
    assert!(v["kinds"][0].get("x402Version").is_some());
}

#[tokio::test]
async fn settle_is_501_with_an_explanation() {
    let body = valid_cases()[0].body().unwrap();
    let (status, v) = call(Method::POST, "/settle", serde_json::to_vec(&body).unwrap()).await;
    assert_eq!(status, StatusCode::NOT_IMPLEMENTED);
    assert_eq!(v["success"], false);
    assert_eq!(v["errorReason"], "settle_not_supported");
    assert_eq!(v["errorMessage"], SETTLE_NOT_SUPPORTED);
}

#[tokio::test]
async fn wrong_methods_are_405() {
    let (status, _) = call(Method::GET, "/verify", Vec::new()).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    let (status, _) = call(Method::POST, "/supported", Vec::new()).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_keepers_router_serves_the_facilitator_endpoints() {
    use std::sync::Arc;

    use opg_keeper::chain::embedded::EmbeddedChain;
    use opg_keeper::chain::ChainBackend;
    use opg_keeper::config::KeeperConfig;
    use opg_keeper::genesis::GenesisConfig;
    use opg_keeper::service::Keeper;
    use opg_keeper::store::Store;

    let g = GenesisConfig::dev("x402-http-test");
    let chain = Arc::new(EmbeddedChain::in_memory(&g).unwrap());
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("keeper.db"), Default::default()).unwrap();
    let config = KeeperConfig {
        genesis: Some(g.clone()),
        ..Default::default()
    };
    let keeper = Keeper::new(config, store, chain as Arc<dyn ChainBackend>).unwrap();
    let router = opg_keeper::ingest::router(keeper);

    let payer = EvmSigner::derive(b"x402-tests", "keeper router payer");
    let t = now();
    let body = signed_body(&payer, 2, &base_requirements(2, 1), 1, t - 60, t + 300);
    let request = Request::builder()
        .method(Method::POST)
        .uri("/verify")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(serde_json::to_vec(&body).unwrap()))
        .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    let v: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(v, json!({"isValid": true, "payer": payer.address()}));

    let request = Request::builder()
        .uri("/supported")
        .body(Body::empty())
        .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let request = Request::builder()
        .method(Method::POST)
        .uri("/settle")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{}"))
        .unwrap();
    let response = router.oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_IMPLEMENTED);
}
