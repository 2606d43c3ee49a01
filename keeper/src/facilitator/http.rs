//! The facilitator's HTTP endpoints (axum), stateless:
//!
//! * `POST /verify`: a [`super::VerifyRequest`] body → `200` with a [`super::VerifyResponse`]
//!   (valid or not; the verdict is in `isValid`), checked at the keeper's clock. A body that is not
//!   JSON at all → `400` with `{"isValid": false, "invalidReason": "invalid_payload",
//!   "invalidMessage": ...}` (the reference HTTP client reads a verdict from non-2xx bodies too).
//! * `GET /supported`: `200` with a [`super::SupportedResponse`] (x402 v2 shape).
//! * `POST /settle`: `501` with a JSON `SettleResponse`-shaped explanation: the keeper verifies but
//!   never settles (it holds no funds and submits no EVM transactions).
use axum::body::Bytes;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use opg_core::reason::RejectReason;

use std::sync::Arc;

use axum::extract::State;

use super::{supported, unix_now, verify_json_with, VerifyResponse};

/// `errorMessage` of `POST /settle` (501).
pub const SETTLE_NOT_SUPPORTED: &str =
    "this opg keeper verifies x402 payments but does not settle \
them: it holds no funds and submits no EVM transactions. Point your middleware's settle calls at a \
settling facilitator and keep /verify here.";

/// The facilitators allowed to settle `upto` payments, read per `POST /verify` (the keeper's
/// gives the verifier's allow-list, cached). May block briefly; it runs off the async workers.
pub type FacilitatorSource = Arc<dyn Fn() -> Vec<[u8; 20]> + Send + Sync>;

/// `POST /verify`, `GET /supported` (every kind the core accepts, [`super::supported`]),
/// `POST /settle`: the stateless facilitator. No facilitator is allowed to settle `upto`
/// payments (see [`verify_routes`]).
pub fn routes() -> Router {
    verify_routes(Arc::new(Vec::new)).route("/supported", get(get_supported))
}

/// [`routes`] with the facilitators `upto` payments are checked against.
pub fn routes_with(facilitators: FacilitatorSource) -> Router {
    verify_routes(facilitators).route("/supported", get(get_supported))
}

/// `POST /verify` (checking `upto` payments against `facilitators`) and `POST /settle`, merged
/// into the keeper's router (which serves its own `GET /supported`, limited to the verifier
/// config's networks).
pub fn verify_routes(facilitators: FacilitatorSource) -> Router {
    Router::new()
        .route("/verify", post(post_verify))
        .route("/settle", post(post_settle))
        .with_state(facilitators)
}

async fn post_verify(State(facilitators): State<FacilitatorSource>, body: Bytes) -> Response {
    match serde_json::from_slice::<serde_json::Value>(&body) {
        Ok(value) => {
            let allowed = tokio::task::spawn_blocking(move || facilitators())
                .await
                .unwrap_or_default();
            Json(verify_json_with(&value, unix_now(), &allowed)).into_response()
        }
        Err(e) => (
            StatusCode::BAD_REQUEST,
            Json(VerifyResponse::malformed(
                RejectReason::InvalidPayload,
                format!("request body is not JSON: {e}"),
            )),
        )
            .into_response(),
    }
}

async fn get_supported() -> Json<super::SupportedResponse> {
    Json(supported())
}

/// Response of `POST /settle` (`501`), in the x402 `SettleResponse` shape.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SettleResponse {
    /// Always `false`: the keeper does not settle.
    pub success: bool,
    /// `settle_not_supported`.
    pub error_reason: String,
    /// [`SETTLE_NOT_SUPPORTED`].
    pub error_message: String,
    /// Empty: no transaction.
    pub transaction: String,
    /// Empty: no network.
    pub network: String,
}

async fn post_settle() -> Response {
    (
        StatusCode::NOT_IMPLEMENTED,
        Json(SettleResponse {
            success: false,
            error_reason: "settle_not_supported".into(),
            error_message: SETTLE_NOT_SUPPORTED.into(),
            transaction: String::new(),
            network: String::new(),
        }),
    )
        .into_response()
}
