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

use super::{supported, unix_now, verify_json, VerifyResponse};

/// `errorMessage` of `POST /settle` (501).
pub const SETTLE_NOT_SUPPORTED: &str =
    "this opg keeper verifies x402 payments but does not settle \
them: it holds no funds and submits no EVM transactions. Point your middleware's settle calls at a \
settling facilitator and keep /verify here.";

/// `POST /verify`, `GET /supported` (every kind the core accepts, [`super::supported`]),
/// `POST /settle`: the stateless facilitator.
pub fn routes() -> Router {
    verify_routes().route("/supported", get(get_supported))
}

/// `POST /verify` and `POST /settle`, merged into the keeper's router (which serves its own
/// `GET /supported`, limited to the verifier config's networks).
pub fn verify_routes() -> Router {
    Router::new()
        .route("/verify", post(post_verify))
        .route("/settle", post(post_settle))
}

async fn post_verify(body: Bytes) -> Response {
    match serde_json::from_slice::<serde_json::Value>(&body) {
        Ok(value) => Json(verify_json(&value, unix_now())).into_response(),
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
