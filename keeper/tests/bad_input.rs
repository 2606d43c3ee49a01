//! Hostile input (issue 6), table-driven:
//!
//! 1. `POST /v1/receipts` (and the other routes) with malformed bodies: not JSON, wrong types,
//!    huge bodies, deep nesting, invalid UTF-8, out-of-range numbers, missing fields, bad paths.
//!    Each gets a 4xx whose message names the problem; the keeper keeps answering; nothing is
//!    stored.
//! 2. The same kind of bytes sent raw to each contract's `execute` (a `WasmMsg::Execute` whose
//!    `msg` is not a valid message): each is refused with the parse error naming the problem, and
//!    no contract state changes.
mod common;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::*;
use cosmwasm_std::{Binary, CosmosMsg, WasmMsg};
use cw_multi_test::Executor as _;
use opg_keeper::chain::embedded::EmbeddedChain;
use opg_keeper::chain::{ChainBackend, ContractRole};
use opg_keeper::service::Keeper;
use serde_json::{json, Value};
use tower::ServiceExt as _;

const BODY_LIMIT: usize = 64 * 1024;

fn keeper() -> (Arc<Keeper>, Arc<EmbeddedChain>) {
    http_keeper(BODY_LIMIT)
}

/// A valid receipt as a JSON value, to be broken in one place.
fn valid(chain: &EmbeddedChain) -> Value {
    let g = genesis();
    serde_json::to_value(receipt(chain, &g, 1, 0, "proxy-1", GPT, 1_000_000, T0 + 10)).unwrap()
}

fn with(mut v: Value, path: &[&str], x: Value) -> Value {
    let mut cur = &mut v;
    for p in &path[..path.len() - 1] {
        cur = &mut cur[*p];
    }
    cur[path[path.len() - 1]] = x;
    v
}

async fn call(app: &axum::Router, method: &str, uri: &str, body: Vec<u8>) -> (StatusCode, String) {
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json")
        .body(Body::from(body))
        .unwrap();
    let r = app.clone().oneshot(req).await.unwrap();
    let status = r.status();
    let bytes = axum::body::to_bytes(r.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_http_bodies_get_a_4xx_naming_the_problem() {
    let (k, chain) = keeper();
    let app = k.router();
    let v = valid(&chain);
    let s = |v: &Value| serde_json::to_vec(v).unwrap();
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)).into_bytes();
    let deep_obj = {
        let mut x = String::new();
        for _ in 0..5000 {
            x.push_str("{\"a\":");
        }
        x.push('1');
        x.push_str(&"}".repeat(5000));
        x.into_bytes()
    };
    let mut bad_utf8 = s(&with(v.clone(), &["payment"], json!("PLACEHOLDER")));
    let pos = bad_utf8
        .windows(11)
        .position(|w| w == b"PLACEHOLDER")
        .unwrap();
    bad_utf8[pos] = 0xff;
    bad_utf8[pos + 1] = 0xfe;
    let huge = {
        let mut x = b"{\"payment\":\"".to_vec();
        x.extend(std::iter::repeat_n(b'A', BODY_LIMIT * 2));
        x.extend(b"\"}");
        x
    };

    // (name, body, expected status, substring of the error message)
    let cases: Vec<(&str, Vec<u8>, StatusCode, &str)> = vec![
        (
            "not json",
            b"hello".to_vec(),
            StatusCode::BAD_REQUEST,
            "malformed JSON",
        ),
        (
            "empty body",
            vec![],
            StatusCode::BAD_REQUEST,
            "malformed JSON",
        ),
        (
            "truncated",
            s(&v)[..40].to_vec(),
            StatusCode::BAD_REQUEST,
            "malformed JSON",
        ),
        (
            "json null",
            b"null".to_vec(),
            StatusCode::BAD_REQUEST,
            "expected a receipt",
        ),
        (
            "json number",
            b"7".to_vec(),
            StatusCode::BAD_REQUEST,
            "expected a receipt",
        ),
        (
            "json string",
            b"\"receipt\"".to_vec(),
            StatusCode::BAD_REQUEST,
            "expected a receipt",
        ),
        (
            "empty array",
            b"[]".to_vec(),
            StatusCode::BAD_REQUEST,
            "empty array",
        ),
        (
            "empty object",
            b"{}".to_vec(),
            StatusCode::BAD_REQUEST,
            "missing field `payment`",
        ),
        (
            "missing node_signature",
            s(&{
                let mut x = v.clone();
                x.as_object_mut().unwrap().remove("node_signature");
                x
            }),
            StatusCode::BAD_REQUEST,
            "missing field `node_signature`",
        ),
        (
            "missing receipt.served_at",
            s(&{
                let mut x = v.clone();
                x["receipt"].as_object_mut().unwrap().remove("served_at");
                x
            }),
            StatusCode::BAD_REQUEST,
            "receipt: missing field `served_at`",
        ),
        (
            "served_at is a string",
            s(&with(v.clone(), &["receipt", "served_at"], json!("soon"))),
            StatusCode::BAD_REQUEST,
            "receipt.served_at: invalid type: string \"soon\"",
        ),
        (
            "payment is a number",
            s(&with(v.clone(), &["payment"], json!(5))),
            StatusCode::BAD_REQUEST,
            "payment: invalid type: integer `5`",
        ),
        (
            "node_signature not base64",
            s(&with(
                v.clone(),
                &["node_signature"],
                json!("!!!not-base64!!!"),
            )),
            StatusCode::BAD_REQUEST,
            "node_signature",
        ),
        (
            "negative token count",
            s(&with(v.clone(), &["receipt", "prompt_tokens"], json!(-1))),
            StatusCode::BAD_REQUEST,
            "receipt.prompt_tokens: invalid value: integer `-1`",
        ),
        (
            "served_at beyond u64",
            s(&v).pipe_replace(
                format!("\"served_at\":{}", T0 + 10).as_bytes(),
                b"\"served_at\":18446744073709551616",
            ),
            StatusCode::BAD_REQUEST,
            "receipt.served_at",
        ),
        (
            "served_at as a float",
            s(&with(v.clone(), &["receipt", "served_at"], json!(1.5e30))),
            StatusCode::BAD_REQUEST,
            "receipt.served_at: invalid type: floating point",
        ),
        (
            "deeply nested arrays",
            deep,
            StatusCode::BAD_REQUEST,
            "recursion limit exceeded",
        ),
        (
            "deeply nested objects",
            deep_obj,
            StatusCode::BAD_REQUEST,
            "recursion limit exceeded",
        ),
        (
            "invalid utf-8 in a string",
            bad_utf8,
            StatusCode::BAD_REQUEST,
            "malformed JSON",
        ),
        (
            "body over the limit",
            huge,
            StatusCode::PAYLOAD_TOO_LARGE,
            "",
        ),
        (
            "one bad item in an array",
            s(&json!([v.clone(), {"payment": 1}])),
            StatusCode::BAD_REQUEST,
            "[1].payment: invalid type",
        ),
    ];
    let mut failures = Vec::new();
    for (name, body, status, needle) in cases {
        let (got, text) = call(&app, "POST", "/v1/receipts", body).await;
        // 400s carry `{"error": "..."}`; the 413 of the body limit layer is plain text
        let message = serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|e| e["error"].as_str().map(str::to_string))
            .unwrap_or(text.clone());
        if got != status || !message.contains(needle) {
            failures.push(format!(
                "{name}: got {got} `{message}`, want {status} `{needle}`"
            ));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");

    // well-formed JSON, invalid receipt: 422 with the verifier's reason, not stored
    let bad_sig = {
        let mut x = v.clone();
        let sig = x["node_signature"].as_str().unwrap().to_string();
        let mut raw = Binary::from_base64(&sig).unwrap().to_vec();
        raw[3] ^= 1;
        x["node_signature"] = json!(Binary::from(raw).to_base64());
        x
    };
    let (got, text) = call(&app, "POST", "/v1/receipts", s(&bad_sig)).await;
    assert_eq!(got, StatusCode::UNPROCESSABLE_ENTITY, "{text}");
    assert!(text.contains("invalid_node_signature"), "{text}");

    // other routes: bad path parameters
    for (uri, needle) in [
        ("/v1/epochs/not-a-number", "not-a-number"),
        ("/v1/epochs/-1", "-1"),
        ("/v1/epochs/18446744073709551616", "18446744073709551616"),
    ] {
        let (got, text) = call(&app, "GET", uri, vec![]).await;
        assert_eq!(got, StatusCode::BAD_REQUEST, "{uri}: {text}");
        assert!(text.contains(needle), "{uri}: {text}");
    }
    let (got, _) = call(&app, "GET", "/v1/receipts/0xnot/0xknown", vec![]).await;
    assert_eq!(got, StatusCode::NOT_FOUND);
    let (got, text) = call(&app, "POST", "/verify", b"{\"x402Version\":".to_vec()).await;
    assert!(got.is_client_error(), "{got} {text}");

    // the keeper is still up and stored nothing
    let (got, _) = call(&app, "GET", "/healthz", vec![]).await;
    assert_eq!(got, StatusCode::OK);
    let c = k.store().counts(None).unwrap();
    assert_eq!(
        (c.pending, c.submitted, c.accepted, c.rejected),
        (0, 0, 0, 0)
    );
    // and it still takes a good receipt
    let (got, text) = call(&app, "POST", "/v1/receipts", s(&v)).await;
    assert_eq!(got, StatusCode::ACCEPTED, "{text}");
    assert_eq!(k.store().counts(None).unwrap().pending, 1);
}

/// A body with a duplicated key is refused with 400 naming the key: a generic JSON value would
/// keep the last occurrence silently, and a proxy or auditor reading the first one would see
/// something other than what the keeper verified. Nothing is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_keys_are_refused() {
    let (k, chain) = keeper();
    let app = k.router();
    let v = valid(&chain);
    let text = serde_json::to_string(&v).unwrap();
    let dup = text.replacen("\"payment\":", "\"payment\":\"garbage\",\"payment\":", 1);
    assert_ne!(dup, text);
    let (got, body) = call(&app, "POST", "/v1/receipts", dup.into_bytes()).await;
    assert_eq!(got, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.contains("duplicate field `payment`"), "{body}");
    // nested, inside an array item
    let nested = text.replacen("\"served_at\":", "\"served_at\":1,\"served_at\":", 1);
    assert_ne!(nested, text);
    let (got, body) = call(
        &app,
        "POST",
        "/v1/receipts",
        format!("[{nested}]").into_bytes(),
    )
    .await;
    assert_eq!(got, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body.contains("[0].receipt") && body.contains("duplicate field `served_at`"),
        "{body}"
    );
    assert_eq!(k.store().counts(None).unwrap().pending, 0);
}

trait PipeReplace {
    fn pipe_replace(self, from: &[u8], to: &[u8]) -> Vec<u8>;
}

impl PipeReplace for Vec<u8> {
    fn pipe_replace(self, from: &[u8], to: &[u8]) -> Vec<u8> {
        let pos = self
            .windows(from.len())
            .position(|w| w == from)
            .expect("pattern present");
        let mut out = self[..pos].to_vec();
        out.extend_from_slice(to);
        out.extend_from_slice(&self[pos + from.len()..]);
        out
    }
}

/// Raw bytes into each contract's `execute`: every malformed message is refused with the parse
/// error naming the problem, and nothing changes.
#[test]
fn malformed_contract_messages_are_refused_and_change_nothing() {
    let g = genesis();
    let chain = EmbeddedChain::in_memory(&g).unwrap();
    chain.set_time(T0 + 100).unwrap();
    let snapshot = |chain: &EmbeddedChain| {
        (
            serde_json::to_string(&chain.verifier_config().unwrap()).unwrap(),
            serde_json::to_string(&chain.pool_config().unwrap()).unwrap(),
            serde_json::to_string(&chain.epoch_report(0).unwrap()).unwrap(),
            chain
                .query_json(ContractRole::Registry, &json!({"config": {}}))
                .unwrap(),
        )
    };
    let before = snapshot(&chain);
    let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000)).into_bytes();
    let huge = {
        let mut x = b"{\"finalize_epoch\":{\"epoch\":\"".to_vec();
        x.extend(std::iter::repeat_n(b'9', 1 << 20));
        x.extend(b"\"}}");
        x
    };
    let mut bad_utf8 = b"{\"finalize_epoch\":{\"epoch\":\"XX\"}}".to_vec();
    bad_utf8[28] = 0xff;
    bad_utf8[29] = 0xfe;

    // (contract, name, raw msg, substring of the error)
    let cases: Vec<(ContractRole, &str, Vec<u8>, &str)> = vec![
        (
            ContractRole::Verifier,
            "not json",
            b"hello".to_vec(),
            "Error parsing into type",
        ),
        (
            ContractRole::Registry,
            "empty",
            vec![],
            "Error parsing into type",
        ),
        (
            ContractRole::Pool,
            "array",
            b"[1,2]".to_vec(),
            "Error parsing into type",
        ),
        (
            ContractRole::Pool,
            "unknown variant",
            br#"{"steal_pool":{}}"#.to_vec(),
            "unknown variant `steal_pool`",
        ),
        (
            ContractRole::Verifier,
            "wrong type",
            br#"{"submit_receipts":{"receipts":5,"heartbeats":[]}}"#.to_vec(),
            "Invalid type",
        ),
        (
            ContractRole::Pool,
            "missing field",
            br#"{"finalize_epoch":{}}"#.to_vec(),
            "missing field `epoch`",
        ),
        (
            ContractRole::Pool,
            "negative epoch",
            br#"{"finalize_epoch":{"epoch":-1}}"#.to_vec(),
            "Error parsing into type",
        ),
        (
            ContractRole::Pool,
            "epoch beyond u64",
            br#"{"finalize_epoch":{"epoch":18446744073709551616}}"#.to_vec(),
            "Error parsing into type",
        ),
        (
            ContractRole::Pool,
            "float epoch",
            br#"{"finalize_epoch":{"epoch":1.5}}"#.to_vec(),
            "Error parsing into type",
        ),
        (
            ContractRole::Pool,
            "duplicate key",
            br#"{"finalize_epoch":{"epoch":0,"epoch":0}}"#.to_vec(),
            "duplicate field `epoch`",
        ),
        (
            ContractRole::Pool,
            "huge message (1 MiB string epoch)",
            huge,
            "Invalid type",
        ),
        (
            ContractRole::Registry,
            "deep nesting",
            deep,
            "Error parsing into type",
        ),
        (
            ContractRole::Pool,
            "invalid utf-8",
            bad_utf8,
            "Error parsing into type",
        ),
        (
            ContractRole::Registry,
            "two variants",
            br#"{"jail":{"node_id":"proxy-1","reason":"x"},"unjail":{"node_id":"proxy-1"}}"#
                .to_vec(),
            "Error parsing into type",
        ),
        (
            ContractRole::Verifier,
            "uint128 as number",
            br#"{"update_config":{"max_batch":1e99}}"#.to_vec(),
            "Error parsing into type",
        ),
    ];
    let mut failures = Vec::new();
    for (role, name, raw, needle) in cases {
        let sender = chain.addr("attacker");
        let res = chain
            .with_runtime(move |rt| {
                let contract = rt.contract(role);
                rt.app
                    .execute(
                        sender,
                        CosmosMsg::Wasm(WasmMsg::Execute {
                            contract_addr: contract.to_string(),
                            msg: Binary::from(raw),
                            funds: vec![],
                        }),
                    )
                    .map(|_| ())
                    .map_err(|e| format!("{e:#}"))
            })
            .unwrap();
        match res {
            Ok(()) => failures.push(format!("{role:?} {name}: accepted")),
            Err(e) if !e.contains(needle) => {
                let tail: String = e
                    .chars()
                    .rev()
                    .take(200)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect();
                failures.push(format!("{role:?} {name}: `{needle}` not in ...{tail}"))
            }
            Err(_) => {}
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    assert_eq!(snapshot(&chain), before, "a refused message changed state");
}
