//! The keeper's HTTP API (axum):
//!
//! * `POST /v1/receipts`: one `SignedReceipt` or a JSON array of them. `202` with per-receipt
//!   results when at least one was stored (or already was); `503` with `Retry-After` when none
//!   was and at least one was `deferred` (valid, but the keeper estimates it could not land it
//!   before its epoch's submission window closes: nothing was stored, offer it again later);
//!   `422` when all were rejected (each with its reason); `400` for malformed JSON, a wrong
//!   type, a missing field or a duplicated key, naming the path of the bad field. A `202` that
//!   also defers some receipts carries `Retry-After` too.
//! * `GET /v1/receipts/{payer}/{nonce}`: the receipt's state (`404` if unknown).
//! * `GET /v1/epochs/{epoch}`: the keeper's counts and finalize record ([`keeper_epoch_view`])
//!   and the pool's `EpochReport`.
//! * `GET /healthz`: `200` with chain height/time, `503` when the chain does not answer.
//! * `GET /metrics`: Prometheus text.
//! * `POST /verify`, `GET /supported`, `POST /settle`: the x402 facilitator endpoints of
//!   [`crate::facilitator`] (stateless, same bounds).
//!
//! Throughput (issue 7): bodies are parsed and receipts verified on the rayon pool (one thread
//! per core), and the inserts of concurrent requests are committed together by the store's
//! group-commit writer; a request is answered only after the commit that holds its receipts.
//!
//! Bounds: request body size (`413`), a token bucket on request rate (`429` + `Retry-After`), a
//! concurrency limit with load shedding (`503` + `Retry-After`) and a time limit per request
//! (`408`, `server.request_timeout_secs`: a client sending its body slowly cannot hold a slot).
//! Every route is read-only except `POST /v1/receipts`, which is idempotent (a receipt is stored
//! once per `(payer, nonce)`) and bounded by the receipts per request and the deadline
//! backpressure; `POST /settle` refuses (`501`).
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::error_handling::HandleErrorLayer;
use axum::extract::{DefaultBodyLimit, Path, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use opg_core::receipt::SignedReceipt;
use serde_json::json;
use tower::limit::GlobalConcurrencyLimitLayer;
use tower::load_shed::LoadShedLayer;
use tower::{BoxError, ServiceBuilder};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::service::{IngestStatus, Keeper, KeeperError};
use crate::store::ReceiptKey;

/// A token bucket: `rate` tokens per second, at most `burst`.
pub struct TokenBucket {
    rate: f64,
    burst: f64,
    state: Mutex<(f64, Instant)>,
}

impl TokenBucket {
    /// A full bucket.
    pub fn new(rate_per_sec: u32, burst: u32) -> Self {
        let burst = f64::from(burst.max(1));
        TokenBucket {
            rate: f64::from(rate_per_sec.max(1)),
            burst,
            state: Mutex::new((burst, Instant::now())),
        }
    }

    /// Takes a token; `Err(seconds)` until the next token when empty.
    pub fn try_take(&self) -> Result<(), u64> {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let refill = now.duration_since(s.1).as_secs_f64() * self.rate;
        s.0 = (s.0 + refill).min(self.burst);
        s.1 = now;
        if s.0 >= 1.0 {
            s.0 -= 1.0;
            Ok(())
        } else {
            let wait = ((1.0 - s.0) / self.rate).ceil().max(1.0);
            Err(wait as u64)
        }
    }
}

async fn rate_limit(State(bucket): State<Arc<TokenBucket>>, req: Request, next: Next) -> Response {
    match bucket.try_take() {
        Ok(()) => next.run(req).await,
        Err(wait) => (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, HeaderValue::from(wait))],
            Json(json!({ "error": "rate limit exceeded" })),
        )
            .into_response(),
    }
}

async fn overloaded(_: BoxError) -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::RETRY_AFTER, HeaderValue::from_static("1"))],
        Json(json!({ "error": "overloaded, retry later" })),
    )
        .into_response()
}

fn error_response(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": message.into() }))).into_response()
}

fn internal(e: KeeperError) -> Response {
    tracing::error!(error = %e, "request failed");
    let status = match &e {
        KeeperError::Chain(c) if c.is_retryable() => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    let mut r = error_response(status, e.to_string());
    if status == StatusCode::SERVICE_UNAVAILABLE {
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    }
    r
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Response> {
    tokio::task::spawn_blocking(f).await.map_err(|e| {
        error_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("worker failed: {e}"),
        )
    })
}

/// Parses `POST /v1/receipts` bodies: one receipt or an array. Errors name the JSON path of the
/// offending field (e.g. `[1].receipt.served_at: invalid type ...`).
///
/// The body is deserialized straight into the typed receipts (never through a generic JSON
/// value), so a duplicated key is refused (`[0].receipt: duplicate field `served_at``) instead of
/// silently keeping the last occurrence, which a proxy or auditor reading the first one would
/// disagree with. A first, allocation-free pass checks the syntax (and nesting depth) and counts
/// the array items, so malformed JSON and too many receipts are reported before any field.
pub fn parse_receipts(body: &[u8], max: usize) -> Result<Vec<SignedReceipt>, String> {
    let malformed = |e: serde_json::Error| format!("malformed JSON: {e}");
    match body.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'[') => {
            // `Skip` is zero-sized: this counts the items without storing them
            let items: Vec<Skip> = serde_json::from_slice(body).map_err(malformed)?;
            if items.is_empty() {
                return Err("empty array: send at least one receipt".into());
            }
            if items.len() > max {
                return Err(format!(
                    "too many receipts: {} > {max} per request",
                    items.len()
                ));
            }
            typed::<Vec<SignedReceipt>>(body)
        }
        Some(b'{') => {
            serde_json::from_slice::<Skip>(body).map_err(malformed)?;
            typed::<SignedReceipt>(body).map(|r| vec![r])
        }
        _ => {
            serde_json::from_slice::<Skip>(body).map_err(malformed)?;
            Err("expected a receipt object or an array of receipts".into())
        }
    }
}

/// Any JSON value, checked and thrown away. Unlike `serde::de::IgnoredAny` (which serde_json
/// skips without a depth bound) it goes through `deserialize_any`, so serde_json's recursion
/// limit (128) applies: a deeply nested body is `malformed JSON: recursion limit exceeded`.
struct Skip;

impl<'de> serde::Deserialize<'de> for Skip {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(SkipVisitor)
    }
}

struct SkipVisitor;

impl<'de> serde::de::Visitor<'de> for SkipVisitor {
    type Value = Skip;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_str<E>(self, _: &str) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_unit<E>(self) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Skip, A::Error> {
        while seq.next_element::<Skip>()?.is_some() {}
        Ok(Skip)
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Skip, A::Error> {
        while map.next_entry::<serde::de::IgnoredAny, Skip>()?.is_some() {}
        Ok(Skip)
    }
}

/// Deserializes syntactically valid JSON into `T`, naming the path of the first bad field
/// (`[2].receipt.served_at: ...`; no location for a problem of the top-level object).
fn typed<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, String> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let inner = e.inner();
        // the path names the field; serde_json's " at line L column C" suffix adds nothing
        let message = inner.to_string();
        let suffix = format!(" at line {} column {}", inner.line(), inner.column());
        let message = message.strip_suffix(&suffix).unwrap_or(&message);
        if inner.is_syntax() || inner.is_eof() || inner.is_io() {
            format!("malformed JSON: {inner}")
        } else {
            match e.path().to_string().as_str() {
                "." => message.to_string(),
                path => format!("{path}: {message}"),
            }
        }
    })?;
    de.end().map_err(|e| format!("malformed JSON: {e}"))?;
    Ok(value)
}

async fn post_receipts(State(k): State<Arc<Keeper>>, body: Bytes) -> Response {
    let max = k.config().server.max_receipts_per_request;
    // parsing is CPU work proportional to the body: done on the verification pool, not on an
    // async worker
    let receipts = match crate::service::on_pool(move || parse_receipts(&body, max)).await {
        Ok(Ok(r)) => r,
        Ok(Err(msg)) => return error_response(StatusCode::BAD_REQUEST, msg),
        Err(e) => return internal(e),
    };
    let results = match k.ingest_async(receipts).await {
        Ok(r) => r,
        Err(e) => return internal(e),
    };
    let any_ok = results
        .iter()
        .any(|r| matches!(r.status, IngestStatus::Stored | IngestStatus::Duplicate));
    // the earliest moment a deferred receipt may fit
    let retry_after = results
        .iter()
        .filter(|r| r.status == IngestStatus::Deferred)
        .filter_map(|r| r.retry_after_secs)
        .min();
    let status = match (any_ok, retry_after) {
        (true, _) => StatusCode::ACCEPTED,
        (false, Some(_)) => StatusCode::SERVICE_UNAVAILABLE,
        (false, None) => StatusCode::UNPROCESSABLE_ENTITY,
    };
    let mut resp = (status, Json(json!({ "results": results }))).into_response();
    if let Some(secs) = retry_after {
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
    }
    resp
}

async fn get_receipt(
    State(k): State<Arc<Keeper>>,
    Path((payer, nonce)): Path<(String, String)>,
) -> Response {
    let key = ReceiptKey::new(&payer, &nonce);
    match blocking(move || k.store().get_receipt(&key)).await {
        Ok(Ok(Some(r))) => Json(r).into_response(),
        Ok(Ok(None)) => error_response(StatusCode::NOT_FOUND, "unknown receipt"),
        Ok(Err(e)) => internal(e.into()),
        Err(r) => r,
    }
}

async fn get_epoch(State(k): State<Arc<Keeper>>, Path(epoch): Path<u64>) -> Response {
    let res = blocking(move || -> Result<serde_json::Value, KeeperError> {
        let counts = k.store().counts(Some(epoch))?;
        let finalized = k.store().finalized(epoch)?;
        let report = k.chain().epoch_report(epoch)?;
        Ok(json!({
            "epoch": epoch,
            "keeper": keeper_epoch_view(&counts, finalized),
            "pool": report,
        }))
    })
    .await;
    match res {
        Ok(Ok(v)) => Json(v).into_response(),
        Ok(Err(e)) => internal(e),
        Err(r) => r,
    }
}

/// The `keeper` part of `GET /v1/epochs/{epoch}`, from the store's counts and finalize record
/// ([`crate::store::Store::finalized`]):
///
/// * `receipts`: the keeper's receipt counts of the epoch by state.
/// * `finalized_by_keeper`: this keeper's own `FinalizeEpoch` tx finalized the epoch and its hash
///   is `finalize_tx`.
/// * `finalize_observed`: the keeper recorded the epoch as finalized on chain without a tx answer
///   of its own: another party finalized it, or this keeper's tx landed but its answer was lost
///   (the pool's report is the authority either way).
/// * `finalize_tx`: the hash of this keeper's finalize tx, or `null`.
///
/// Both flags `false`: the keeper has no finalize record of the epoch (not finalized yet, or the
/// keeper holds no receipt of it).
pub fn keeper_epoch_view(
    counts: &crate::store::StateCounts,
    finalized: Option<Option<String>>,
) -> serde_json::Value {
    let observed = matches!(finalized, Some(None));
    let tx = finalized.flatten();
    json!({
        "receipts": counts,
        "finalized_by_keeper": tx.is_some(),
        "finalize_observed": observed,
        "finalize_tx": tx,
    })
}

async fn healthz(State(k): State<Arc<Keeper>>) -> Response {
    match blocking(move || k.chain().status()).await {
        Ok(Ok(s)) => {
            Json(json!({ "status": "ok", "height": s.height, "time": s.time })).into_response()
        }
        Ok(Err(e)) => error_response(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
        Err(r) => r,
    }
}

async fn metrics(State(k): State<Arc<Keeper>>) -> Response {
    // the deadline gauges may read the chain (time, cached verifier config)
    match blocking(move || k.metrics_text()).await {
        Ok(text) => ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response(),
        Err(r) => r,
    }
}

impl Keeper {
    /// The axum router of the HTTP API ([`router`]). Defined here, not in [`crate::service`], so
    /// the pipeline does not depend on its HTTP layer.
    pub fn router(self: &Arc<Self>) -> Router {
        router(self.clone())
    }
}

/// The router with all bounds applied.
pub fn router(keeper: Arc<Keeper>) -> Router {
    let s = keeper.config().server.clone();
    let bucket = Arc::new(TokenBucket::new(s.requests_per_second, s.burst));
    // the transparency page (issue 18): `GET /`, `GET /epochs/{e}`
    let pages = crate::report::web::routes(keeper.chain().clone());
    Router::new()
        .route("/v1/receipts", post(post_receipts))
        .route("/v1/receipts/{payer}/{nonce}", get(get_receipt))
        .route("/v1/epochs/{epoch}", get(get_epoch))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .with_state(keeper)
        .merge(crate::facilitator::routes())
        .merge(pages)
        .layer(DefaultBodyLimit::disable())
        .layer(RequestBodyLimitLayer::new(s.body_limit_bytes))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(s.request_timeout_secs),
        ))
        .layer(middleware::from_fn_with_state(bucket, rate_limit))
        .layer(
            ServiceBuilder::new()
                .layer(HandleErrorLayer::new(overloaded))
                .layer(LoadShedLayer::new())
                .layer(GlobalConcurrencyLimitLayer::new(s.max_concurrent_requests)),
        )
        .layer(TraceLayer::new_for_http())
}

/// Time a client should wait after a 429, for tests.
pub fn retry_after(resp: &Response) -> Option<Duration> {
    resp.headers()
        .get(header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_names_the_bad_field() {
        let e = parse_receipts(b"{\"payment\": 5}", 10).unwrap_err();
        assert!(e.starts_with("payment: invalid type"), "{e}");
        let e = parse_receipts(b"[{}]", 10).unwrap_err();
        assert!(e.starts_with("[0]: missing field"), "{e}");
        let e = parse_receipts(b"{\"payment\": \"x\"}", 10).unwrap_err();
        assert_eq!(e, "missing field `requirements`");
        assert!(e.contains("missing field"), "{e}");
        let e = parse_receipts(b"{not json", 10).unwrap_err();
        assert!(e.starts_with("malformed JSON"), "{e}");
        assert!(parse_receipts(b"[]", 10).unwrap_err().contains("empty"));
        assert!(parse_receipts(b"7", 10)
            .unwrap_err()
            .contains("expected a receipt"));
        let many = format!("[{}]", ["{}"; 3].join(","));
        assert!(parse_receipts(many.as_bytes(), 2)
            .unwrap_err()
            .contains("too many"));
    }

    #[test]
    fn duplicate_keys_are_refused_with_their_path() {
        let e = parse_receipts(b"{\"payment\": \"a\", \"payment\": \"b\"}", 10).unwrap_err();
        // the path is that of the object holding the key (here the top level: none)
        assert_eq!(e, "duplicate field `payment`");
        let e = parse_receipts(
            b"[{\"payment\": \"a\", \"receipt\": {\"node_id\": \"n\", \"node_id\": \"m\"}}]",
            10,
        )
        .unwrap_err();
        assert_eq!(e, "[0].receipt: duplicate field `node_id`");
    }

    #[test]
    fn syntax_errors_win_over_field_errors_and_location_is_stripped() {
        // a field error before a syntax error later in the body: still malformed JSON
        let e = parse_receipts(b"[{\"payment\": 5}, {", 10).unwrap_err();
        assert!(e.starts_with("malformed JSON"), "{e}");
        let e = parse_receipts(b"{\"payment\": 5} x", 10).unwrap_err();
        assert!(e.starts_with("malformed JSON"), "{e}");
        let e = parse_receipts(b"  [ {\"payment\": 5} ]", 10).unwrap_err();
        assert_eq!(
            e,
            "[0].payment: invalid type: integer `5`, expected a string"
        );
        let deep = format!("{}{}", "[".repeat(500), "]".repeat(500));
        let e = parse_receipts(deep.as_bytes(), 10).unwrap_err();
        assert!(e.contains("recursion limit exceeded"), "{e}");
    }

    #[test]
    fn epoch_view_tells_own_finalize_from_observed() {
        let c = crate::store::StateCounts::default();
        let own = keeper_epoch_view(&c, Some(Some("AB".into())));
        assert_eq!(own["finalized_by_keeper"], true);
        assert_eq!(own["finalize_observed"], false);
        assert_eq!(own["finalize_tx"], "AB");
        let seen = keeper_epoch_view(&c, Some(None));
        assert_eq!(seen["finalized_by_keeper"], false);
        assert_eq!(seen["finalize_observed"], true);
        assert!(seen["finalize_tx"].is_null());
        let none = keeper_epoch_view(&c, None);
        assert_eq!(none["finalized_by_keeper"], false);
        assert_eq!(none["finalize_observed"], false);
        assert!(none["receipts"].is_object());
    }

    #[test]
    fn token_bucket_limits_bursts() {
        let b = TokenBucket::new(1, 2);
        assert!(b.try_take().is_ok());
        assert!(b.try_take().is_ok());
        assert_eq!(b.try_take(), Err(1));
    }
}
