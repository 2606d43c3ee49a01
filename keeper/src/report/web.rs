//! The keeper's transparency page: `GET /` (the latest [`WINDOW`] epochs, the latest finalized
//! one in detail) and `GET /epochs/{e}` (epoch `e` in detail, with the [`WINDOW`] epochs up to
//! it). Read-only, server-rendered (no JavaScript), reloading itself every [`REFRESH_SECS`]
//! while the keeper runs.
//!
//! Bounded work per request: at most [`WINDOW`] `EpochReport` queries and one `NodeRewards`
//! query per node (at most [`super::MAX_NODES`]), and finalized epochs come from a
//! [`ReportCache`] shared by all requests, so a page of finalized epochs reads the chain once a
//! minute at most.
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use super::html::{render, Links, Page};
use super::{chart, Head, ReportCache, Source};
use crate::chain::ChainBackend;

/// Epochs on one page.
pub const WINDOW: u64 = 12;
/// Seconds between the page's reloads.
pub const REFRESH_SECS: u32 = 30;

/// State of the page routes.
pub struct PageState {
    /// The chain the keeper talks to.
    pub chain: Arc<dyn ChainBackend>,
    /// Finalized epochs already read.
    pub cache: ReportCache,
}

/// The routes `GET /` and `GET /epochs/{e}` over `chain`, with their own cache.
pub fn routes(chain: Arc<dyn ChainBackend>) -> Router {
    let state = Arc::new(PageState {
        chain,
        cache: ReportCache::new(),
    });
    Router::new()
        .route("/", get(index))
        .route("/epochs/{epoch}", get(epoch_page))
        .with_state(state)
}

fn html_response(status: StatusCode, body: String) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

fn error_page(status: StatusCode, message: &str) -> Response {
    html_response(
        status,
        format!(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>opg: {}</title></head><body><h1>{}</h1><p>{}</p>\
             <p><a href=\"/\">Latest epochs</a></p></body></html>",
            status.as_u16(),
            status,
            super::html::esc(message)
        ),
    )
}

/// Renders the page of `detail` (`None`: the latest epochs). Errors: `(status, message)`:
/// 404 for an epoch that has not started, 503 when the chain does not answer.
pub fn page(state: &PageState, detail: Option<u64>) -> Result<String, (StatusCode, String)> {
    page_of(state.chain.as_ref(), &state.cache, detail)
}

/// [`page`] over any [`Source`] with `cache`: one status and one pool config query per call
/// ([`Head`]), then the epochs the cache lacks.
pub fn page_of<S: Source + ?Sized>(
    chain: &S,
    cache: &ReportCache,
    detail: Option<u64>,
) -> Result<String, (StatusCode, String)> {
    let unavailable = |e: &dyn std::fmt::Display| {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("the chain did not answer: {e}"),
        )
    };
    let head = Head::read(chain).map_err(|e| unavailable(&e))?;
    let current = head.current_epoch();
    let to = match (detail, current) {
        (Some(e), Some(c)) if e > c => {
            return Err((
                StatusCode::NOT_FOUND,
                format!("epoch {e} has not started yet: the current epoch is {c}"),
            ))
        }
        (Some(e), None) => {
            return Err((
                StatusCode::NOT_FOUND,
                format!("epoch {e} has not started yet: the chain is before its genesis"),
            ))
        }
        (Some(e), Some(_)) => e,
        (None, c) => c.unwrap_or(0),
    };
    let from = to.saturating_sub(WINDOW - 1);
    let figures = cache
        .collect_at(chain, &head, from..=to)
        .map_err(|e| unavailable(&e))?;
    let charts =
        chart::charts(&figures).map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    Ok(render(&Page {
        figures: &figures,
        charts: &charts,
        detail,
        links: Links::Server,
        refresh_secs: Some(REFRESH_SECS),
        subtitle: None,
    }))
}

async fn respond(state: Arc<PageState>, detail: Option<u64>) -> Response {
    match tokio::task::spawn_blocking(move || page(&state, detail)).await {
        Ok(Ok(body)) => html_response(StatusCode::OK, body),
        Ok(Err((status, message))) => error_page(status, &message),
        Err(e) => error_page(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("page worker failed: {e}"),
        ),
    }
}

async fn index(State(state): State<Arc<PageState>>) -> Response {
    respond(state, None).await
}

async fn epoch_page(State(state): State<Arc<PageState>>, Path(epoch): Path<String>) -> Response {
    match epoch.parse::<u64>() {
        Ok(e) => respond(state, Some(e)).await,
        Err(_) => error_page(
            StatusCode::BAD_REQUEST,
            &format!("epoch: expected a non-negative integer, got {epoch:?}"),
        ),
    }
}
