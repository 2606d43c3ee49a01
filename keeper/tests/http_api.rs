//! The keeper's HTTP API conventions (issue 16): JSON errors on every route, `415` for a POST
//! that is not JSON, `404` for an epoch that has not started, the operator gauges of `/metrics`
//! and the x402 v2 `/supported` limited to the verifier config's networks.
mod common;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::*;
use opg_keeper::chain::embedded::EmbeddedChain;
use opg_keeper::chain::ChainBackend;
use opg_keeper::service::Keeper;
use serde_json::Value;
use tower::ServiceExt as _;

const BODY_LIMIT: usize = 4 * 1024;

fn keeper() -> (Arc<Keeper>, Arc<EmbeddedChain>) {
    http_keeper(BODY_LIMIT)
}

/// Sends a request; returns the status, the `Content-Type` and the body.
async fn send(
    app: &axum::Router,
    method: &str,
    uri: &str,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> (StatusCode, String, String) {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(ct) = content_type {
        req = req.header(header::CONTENT_TYPE, ct);
    }
    let r = app
        .clone()
        .oneshot(req.body(Body::from(body)).unwrap())
        .await
        .unwrap();
    let status = r.status();
    let ct = r
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let bytes = axum::body::to_bytes(r.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, ct, String::from_utf8_lossy(&bytes).into_owned())
}

/// The `error` of a JSON error body (panics if the body is not one).
fn error_of(ct: &str, body: &str) -> String {
    assert!(
        ct.starts_with("application/json"),
        "content-type {ct:?}: {body}"
    );
    let v: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"));
    v["error"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"))
        .to_string()
}

/// (method, uri, content type, body, expected status, substring of the error).
type Case<'a> = (
    &'a str,
    &'a str,
    Option<&'a str>,
    Vec<u8>,
    StatusCode,
    &'a str,
);

/// On the old code: an unknown route was an empty 404, a bad path parameter and a body over the
/// limit answered plain text, and a POST without a JSON content type was parsed anyway.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_error_is_json() {
    let (k, _chain) = keeper();
    let app = k.router();
    let json = Some("application/json");
    let cases: Vec<Case> = vec![
        ("GET", "/nope", None, vec![], StatusCode::NOT_FOUND, "/nope"),
        (
            "GET",
            "/v1/epochs/abc",
            None,
            vec![],
            StatusCode::BAD_REQUEST,
            "abc",
        ),
        (
            "GET",
            "/v1/epochs/-1",
            None,
            vec![],
            StatusCode::BAD_REQUEST,
            "-1",
        ),
        (
            "POST",
            "/v1/receipts",
            json,
            vec![b'['; BODY_LIMIT * 2],
            StatusCode::PAYLOAD_TOO_LARGE,
            "limit",
        ),
        (
            "POST",
            "/v1/receipts",
            None,
            b"{}".to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Content-Type: application/json",
        ),
        (
            "POST",
            "/v1/receipts",
            Some("text/plain"),
            b"{}".to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Content-Type: application/json",
        ),
        (
            "POST",
            "/verify",
            Some("application/x-www-form-urlencoded"),
            b"a=b".to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Content-Type: application/json",
        ),
        (
            "DELETE",
            "/v1/receipts",
            None,
            vec![],
            StatusCode::METHOD_NOT_ALLOWED,
            "Method Not Allowed",
        ),
    ];
    for (method, uri, ct, body, want, needle) in cases {
        let (status, got_ct, got) = send(&app, method, uri, ct, body).await;
        assert_eq!(status, want, "{method} {uri}: {got}");
        let e = error_of(&got_ct, &got);
        assert!(e.contains(needle), "{method} {uri}: {e:?} lacks {needle:?}");
    }
    // a JSON content type with parameters is JSON
    let (status, _, _) = send(
        &app,
        "POST",
        "/v1/receipts",
        Some("application/json; charset=utf-8"),
        b"{}".to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

/// On the old code `GET /v1/epochs/{far future}` answered `200` with an empty report.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_epoch_that_has_not_started_is_404() {
    let (k, chain) = keeper();
    let app = k.router();
    let clock = k.verifier_config().unwrap().clock;
    let current = clock.epoch_of(chain.status().unwrap().time).unwrap();
    let (status, _, body) = send(&app, "GET", &format!("/v1/epochs/{current}"), None, vec![]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["keeper"]["finalized"], false);
    let next = current + 1;
    let (status, ct, body) = send(&app, "GET", &format!("/v1/epochs/{next}"), None, vec![]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let e = error_of(&ct, &body);
    assert!(e.contains(&format!("epoch {next} has not started")), "{e}");
    let (status, _, _) = send(&app, "GET", "/v1/epochs/18446744073709551615", None, vec![]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// The value of an unlabelled sample in Prometheus text.
fn sample(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .map(|v| v.parse().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_show_the_operator_gauges_and_responses_by_status() {
    let (k, chain) = keeper();
    let app = k.router();
    send(&app, "GET", "/nope", None, vec![]).await;
    send(&app, "GET", "/healthz", None, vec![]).await;
    let (status, _, text) = send(&app, "GET", "/metrics", None, vec![]).await;
    assert_eq!(status, StatusCode::OK);
    let clock = k.verifier_config().unwrap().clock;
    let status = chain.status().unwrap();
    assert_eq!(sample(&text, "opg_receipts_pending"), Some(0.0));
    assert_eq!(
        sample(&text, "opg_epoch_current"),
        clock.epoch_of(status.time).map(|e| e as f64)
    );
    assert_eq!(
        sample(&text, "opg_chain_height"),
        Some(status.height as f64)
    );
    // nothing finalized and nothing submitted yet: the gauges are declared without a sample
    assert!(text.contains("# TYPE opg_epoch_last_finalized gauge"));
    assert_eq!(sample(&text, "opg_epoch_last_finalized"), None);
    assert!(text.contains("# TYPE opg_seconds_since_last_submission gauge"));
    assert_eq!(sample(&text, "opg_seconds_since_last_submission"), None);
    assert!(
        text.contains("opg_http_responses_total{code=\"404\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("opg_http_responses_total{code=\"200\"} 1"),
        "{text}"
    );
}

/// On the old code `/supported` listed every network the core knows, whatever the verifier
/// config accepts, and had neither `extensions` nor `signers`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn supported_lists_the_configured_networks_in_the_v2_shape() {
    let (k, _chain) = keeper();
    let app = k.router();
    let (status, _, body) = send(&app, "GET", "/supported", None, vec![]).await;
    assert_eq!(status, StatusCode::OK);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["extensions"], serde_json::json!([]));
    assert_eq!(v["signers"], serde_json::json!({}));
    let networks = k.verifier_config().unwrap().networks;
    let mut want = Vec::new();
    for n in &networks {
        // v2: `exact` (EIP-3009 or Permit2) and `upto` (Permit2) on the CAIP-2 id
        for scheme in ["exact", "upto"] {
            want.push((2, scheme.to_string(), format!("eip155:{}", n.chain_id)));
        }
        if opg_core::verify::network_chain_id(&n.name) == Some(n.chain_id) {
            want.push((1, "exact".to_string(), n.name.clone()));
        }
    }
    let mut got: Vec<(u64, String, String)> = v["kinds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["x402Version"].as_u64().unwrap(),
                k["scheme"].as_str().unwrap().to_string(),
                k["network"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    want.sort();
    got.sort();
    assert!(!want.is_empty());
    assert_eq!(got, want);
}
