//! Deadline backpressure (issue 17) and the HTTP bounds of issue 13, through the keeper's router.
//!
//! A keeper over the embedded chain on the wall clock, 50 s into a 60 s epoch with a 30 s grace
//! period: epoch 0's submission window closes in 40 s. Before any tx was measured the keeper
//! assumes one tx per `batch_interval_secs` (10 s); with a 5 s margin that is 3 txs of 2 receipts
//! (`max_batch = 2`) before the window closes, so it acknowledges 6 receipts of epoch 0 and
//! answers the others `503` + `Retry-After` (status `deferred`, reason `window_closing`) instead
//! of acknowledging receipts it could not land. A receipt it already stored is still answered
//! `duplicate`. The same traffic with backpressure off is all acknowledged (the test shows
//! something).
mod common;

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::*;
use opg_keeper::chain::embedded::{ClockMode, EmbeddedChain};
use opg_keeper::chain::ChainBackend;
use opg_keeper::config::KeeperConfig;
use opg_keeper::genesis::GenesisConfig;
use opg_keeper::service::Keeper;
use opg_keeper::store::Store;
use serde_json::Value;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tower::ServiceExt as _;

fn wall_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A keeper 50 s into epoch 0 (60 s epochs, 30 s grace) on the wall clock.
fn keeper(backpressure: bool) -> (Arc<Keeper>, Arc<EmbeddedChain>, GenesisConfig) {
    let mut g = genesis();
    g.epoch_length = 60;
    g.grace = 30;
    g.genesis_time = Some(wall_now() - 50);
    let chain = Arc::new(EmbeddedChain::in_memory(&g).unwrap());
    chain.set_clock_mode(ClockMode::Wall).unwrap();
    let mut cfg = KeeperConfig {
        genesis: Some(g.clone()),
        ..Default::default()
    };
    cfg.server.requests_per_second = 10_000;
    cfg.server.burst = 10_000;
    cfg.batcher.batch_interval_secs = 10;
    cfg.batcher.max_batch = 2;
    cfg.batcher.deadline_margin_secs = Some(5);
    cfg.batcher.backpressure = backpressure;
    cfg.validate().unwrap();
    let k = Keeper::new(
        cfg,
        Store::in_memory().unwrap(),
        chain.clone() as Arc<dyn ChainBackend>,
    )
    .unwrap();
    k.set_clock_follows_wall(true);
    // as `opg keeper run` does: the chain's clock runs in real time
    k.set_real_time(true);
    (k, chain, g)
}

async fn call(
    app: &axum::Router,
    method: &str,
    uri: &str,
    body: Vec<u8>,
) -> (StatusCode, Option<u64>, String) {
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json")
        .body(Body::from(body))
        .unwrap();
    let r = app.clone().oneshot(req).await.unwrap();
    let status = r.status();
    let retry_after = r
        .headers()
        .get(header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let bytes = axum::body::to_bytes(r.into_body(), usize::MAX)
        .await
        .unwrap();
    (
        status,
        retry_after,
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

fn receipts(chain: &EmbeddedChain, g: &GenesisConfig, from: u64, n: u64) -> Vec<Value> {
    let served_at = chain.status().unwrap().time;
    (from..from + n)
        .map(|i| {
            serde_json::to_value(receipt(
                chain,
                g,
                i % 3,
                i,
                "proxy-1",
                GPT,
                1_000_000,
                served_at,
            ))
            .unwrap()
        })
        .collect()
}

fn statuses(body: &str) -> Vec<String> {
    let v: Value = serde_json::from_str(body).unwrap();
    v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap().to_string())
        .collect()
}

fn metric(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|v| v.strip_prefix(' ')))
        .and_then(|v| v.trim().parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_answers_503_once_the_backlog_cannot_make_the_deadline() {
    let (k, chain, g) = keeper(true);
    let app = k.router();
    let batch = receipts(&chain, &g, 0, 10);
    let body = serde_json::to_vec(&batch).unwrap();
    let (status, retry_after, text) = call(&app, "POST", "/v1/receipts", body).await;
    // 6 fit before the window closes; the rest are deferred, not acknowledged
    assert_eq!(status, StatusCode::ACCEPTED, "{text}");
    let st = statuses(&text);
    assert_eq!(st.iter().filter(|s| *s == "stored").count(), 6, "{text}");
    assert_eq!(st.iter().filter(|s| *s == "deferred").count(), 4, "{text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    let deferred = &v["results"][9];
    assert_eq!(deferred["reason"], "window_closing", "{text}");
    assert!(
        deferred["retry_after_secs"].as_u64().unwrap() >= 1,
        "{text}"
    );
    assert!(retry_after.is_some_and(|s| s >= 1), "{retry_after:?}");
    assert_eq!(k.store().counts(Some(0)).unwrap().pending, 6);

    // a lone receipt that does not fit: 503 + Retry-After, nothing stored
    let one = serde_json::to_vec(&receipts(&chain, &g, 100, 1)[0]).unwrap();
    let (status, retry_after, text) = call(&app, "POST", "/v1/receipts", one).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{text}");
    assert!(retry_after.is_some_and(|s| s >= 1), "{retry_after:?}");
    assert_eq!(statuses(&text), vec!["deferred"]);
    assert_eq!(k.store().counts(Some(0)).unwrap().pending, 6);

    // a receipt stored before is still acknowledged as a duplicate, over the limit or not
    let again = serde_json::to_vec(&batch[0]).unwrap();
    let (status, _, text) = call(&app, "POST", "/v1/receipts", again).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{text}");
    assert_eq!(statuses(&text), vec!["duplicate"]);

    // the estimate and the backlog are in /metrics
    let (status, _, m) = call(&app, "GET", "/metrics", vec![]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(metric(&m, "opg_receipts_deferred_total"), Some(5.0), "{m}");
    assert_eq!(
        metric(&m, "opg_backlog_receipts{epoch=\"0\"}"),
        Some(6.0),
        "{m}"
    );
    assert_eq!(
        metric(&m, "opg_deadline_landable_receipts{epoch=\"0\"}"),
        Some(6.0),
        "{m}"
    );
    assert_eq!(metric(&m, "opg_submit_receipts_per_tx"), Some(2.0), "{m}");
    assert_eq!(metric(&m, "opg_backpressure_enabled"), Some(1.0), "{m}");
    assert_eq!(metric(&m, "opg_receipts_expired_total"), Some(0.0), "{m}");

    // a submission round lands the backlog; measured txs (far faster than the assumed 10 s)
    // then let more receipts in
    let k2 = k.clone();
    let report = tokio::task::spawn_blocking(move || k2.tick())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(report.batches.accepted, 6, "{report:?}");
    let more = serde_json::to_vec(&receipts(&chain, &g, 200, 4)).unwrap();
    let (status, _, text) = call(&app, "POST", "/v1/receipts", more).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{text}");
    assert_eq!(statuses(&text), vec!["stored"; 4], "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_backpressure_the_same_traffic_is_all_acknowledged() {
    let (k, chain, g) = keeper(false);
    let app = k.router();
    let body = serde_json::to_vec(&receipts(&chain, &g, 0, 10)).unwrap();
    let (status, retry_after, text) = call(&app, "POST", "/v1/receipts", body).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{text}");
    assert_eq!(statuses(&text), vec!["stored"; 10]);
    assert_eq!(retry_after, None);
    let (_, _, m) = call(&app, "GET", "/metrics", vec![]).await;
    assert_eq!(metric(&m, "opg_backpressure_enabled"), Some(0.0), "{m}");
}

/// Issue 13: a client that sends its body slowly cannot hold a request slot for long: the
/// request is answered `408` after `server.request_timeout_secs`, and the keeper keeps serving.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_body_is_cut_off_with_408() {
    let g = genesis();
    let chain = Arc::new(EmbeddedChain::in_memory(&g).unwrap());
    let mut cfg = KeeperConfig {
        genesis: Some(g),
        ..Default::default()
    };
    cfg.server.request_timeout_secs = 1;
    let k = Keeper::new(
        cfg,
        Store::in_memory().unwrap(),
        chain as Arc<dyn ChainBackend>,
    )
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = k.router();
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    // announce 1,000 bytes of body, send one, then nothing: the request holds a slot
    let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
    conn.write_all(
        b"POST /v1/receipts HTTP/1.1\r\nhost: keeper\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n[",
    )
    .await
    .unwrap();
    let started = std::time::Instant::now();
    let mut answer = vec![0u8; 512];
    let n = tokio::time::timeout(Duration::from_secs(20), conn.read(&mut answer))
        .await
        .expect("the slow request was never cut off")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer[..n]).into_owned();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(started.elapsed() >= Duration::from_millis(900));
    // the keeper keeps serving
    let mut other = tokio::net::TcpStream::connect(addr).await.unwrap();
    other
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: keeper\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut text = String::new();
    other.read_to_string(&mut text).await.unwrap();
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert_eq!(k.store().counts(None).unwrap().pending, 0);
    server.abort();
}
