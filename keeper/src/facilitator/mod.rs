//! An x402 facilitator-compatible verifier (issue 4, DESIGN §3 and §6).
//!
//! x402 resource servers call a facilitator's `POST /verify` before serving; this module answers
//! the same request with the same response shape, so existing x402 middleware can point at the
//! keeper, and `opg x402 verify` gives the same verdict offline.
//!
//! * [`VerifyRequest`] / [`VerifyResponse`] / [`SupportedResponse`]: the facilitator's JSON shapes
//!   (camelCase), as in the reference packages (`x402` for protocol v1, `@x402/core` for v2).
//! * [`verify`]: the pure verdict for a typed request at a given time; [`verify_json`] does the
//!   same for an arbitrary JSON document (shape errors become `invalid_payload` /
//!   `invalid_payment_requirements` / `invalid_x402_version` instead of failing);
//!   [`verify_header`] for a raw `X-PAYMENT` / `PAYMENT-SIGNATURE` header value.
//! * [`routes`]: `POST /verify`, `GET /supported`, `POST /settle` (501: the keeper does not settle).
//!
//! The checks are `opg_core::verify::verify_payment` (the shared verification core, with the
//! RustCrypto backend) plus the request-level version check the core cannot see: the body's
//! `x402Version` must be 1 or 2 and equal the payload's. Balance and on-chain nonce state are
//! not checked (they need an RPC node); see `docs/x402.md`.
use opg_core::crypto::NativeCrypto;
use opg_core::reason::RejectReason;
use opg_core::verify::{
    decode_payment_header, network_chain_id, verify_payment_with_facilitators, VALID_BEFORE_MARGIN,
};
use opg_core::x402::{PaymentPayload, PaymentRequirements};
use serde::{Deserialize, Serialize};

mod http;

pub use http::{
    routes, routes_with, verify_routes, FacilitatorSource, SettleResponse, SETTLE_NOT_SUPPORTED,
};

/// Protocol versions this verifier accepts.
pub const SUPPORTED_VERSIONS: [u32; 2] = [1, 2];

/// Scheme `exact`: EIP-3009 `transferWithAuthorization`, or Permit2 (`extra.assetTransferMethod:
/// "permit2"`, protocol v2).
pub const SCHEME_EXACT: &str = "exact";

/// Scheme `upto` (protocol v2, Permit2 only): the payer signs a maximum, the facilitator named in
/// the witness settles what the call cost.
pub const SCHEME_UPTO: &str = "upto";

/// Body of the facilitator's `POST /verify` (and of `opg x402 verify` on stdin).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct VerifyRequest {
    /// Protocol version of the request (1 or 2); must equal `paymentPayload.x402Version`.
    pub x402_version: u32,
    /// The decoded `X-PAYMENT` (v1) or `PAYMENT-SIGNATURE` (v2) header.
    pub payment_payload: PaymentPayload,
    /// The requirements the resource server asked for.
    pub payment_requirements: PaymentRequirements,
}

/// Response of the facilitator's `POST /verify`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct VerifyResponse {
    /// Whether the payment passed every offline check.
    pub is_valid: bool,
    /// When invalid: the x402 specification's reason string (`invalid_exact_evm_payload_signature`,
    /// `invalid_network`, ...; see [`RejectReason::as_str`] and `docs/x402.md`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invalid_reason: Option<String>,
    /// When invalid: what was wrong, for humans (the `@x402/core` `invalidMessage` field): the
    /// offending field when the request could not be decoded, else what the reason means
    /// ([`reason_message`]). Absent on a valid verdict.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invalid_message: Option<String>,
    /// The payer (`authorization.from`, lowercase `0x` address). On a valid response it is the
    /// recovered signer; on an invalid one it is the *claimed* `from` (unverified), as the reference
    /// facilitator reports it. Absent when the payload did not decode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer: Option<String>,
}

impl VerifyResponse {
    /// A valid verdict for `payer`.
    pub fn valid(payer: String) -> Self {
        VerifyResponse {
            is_valid: true,
            invalid_reason: None,
            invalid_message: None,
            payer: Some(payer),
        }
    }

    /// An invalid verdict, with the reason's [`reason_message`] as `invalidMessage`.
    pub fn invalid(reason: RejectReason, payer: Option<String>) -> Self {
        VerifyResponse {
            is_valid: false,
            invalid_reason: Some(reason.as_str().to_string()),
            invalid_message: Some(reason_message(reason).to_string()),
            payer,
        }
    }

    /// An invalid verdict for an undecodable request, with a human explanation.
    pub fn malformed(reason: RejectReason, message: impl Into<String>) -> Self {
        VerifyResponse {
            is_valid: false,
            invalid_reason: Some(reason.as_str().to_string()),
            invalid_message: Some(message.into()),
            payer: None,
        }
    }
}

/// One kind of payment the verifier accepts (x402 v2 `SupportedKind`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SupportedKind {
    /// Protocol version (1 or 2).
    pub x402_version: u32,
    /// Scheme (`exact`).
    pub scheme: String,
    /// v1 network name (`base`) or v2 CAIP-2 id (`eip155:8453`).
    pub network: String,
}

/// Response of the facilitator's `GET /supported`, in the x402 v2 shape (`@x402/core`
/// `SupportedResponse`): `{"kinds": [...], "extensions": [], "signers": {}}`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, schemars::JsonSchema)]
pub struct SupportedResponse {
    /// Every (version, scheme, network) the verifier accepts.
    pub kinds: Vec<SupportedKind>,
    /// Protocol extensions the facilitator implements: none.
    #[serde(default)]
    pub extensions: Vec<String>,
    /// Settlement signer addresses per CAIP-2 family (`"eip155:*"`): none, the keeper verifies
    /// but never settles (it signs no EVM transaction).
    #[serde(default)]
    pub signers: std::collections::BTreeMap<String, Vec<String>>,
}

/// The payment schemes the verifier implements and the protocol versions of each: the one table
/// `/supported` is built from (a new scheme is one line here).
pub const SCHEMES: &[(&str, &[u32])] = &[(SCHEME_EXACT, &SUPPORTED_VERSIONS), (SCHEME_UPTO, &[2])];

/// v1 network names of the reference packages (`@x402/evm` `EVM_NETWORK_CHAIN_ID_MAP`, a superset
/// of `x402@1` `EvmNetworkToChainId`). [`supported`] lists those the verification core resolves.
const V1_NETWORK_CANDIDATES: &[&str] = &[
    "ethereum",
    "sepolia",
    "abstract",
    "abstract-testnet",
    "base-sepolia",
    "base",
    "avalanche-fuji",
    "avalanche",
    "iotex",
    "sei",
    "sei-testnet",
    "polygon",
    "polygon-amoy",
    "peaq",
    "story",
    "educhain",
    "skale-base-sepolia",
    "megaeth",
    "monad",
    "stable",
    "stable-testnet",
    "celo",
    "flare",
];

/// The kinds for `networks` (v1 name, EVM chain id): for each scheme of [`SCHEMES`] and each of
/// its versions, the v1 name (version 1, only when the core resolves that name to that chain id)
/// or the CAIP-2 id `eip155:<chain id>` (version 2). Order: v1 kinds, then v2 kinds, each in the
/// order of `networks`; a chain listed twice appears once per version.
pub fn supported_kinds(networks: &[(String, u64)]) -> SupportedResponse {
    let mut kinds: Vec<SupportedKind> = Vec::new();
    for version in SUPPORTED_VERSIONS {
        for (scheme, versions) in SCHEMES {
            if !versions.contains(&version) {
                continue;
            }
            for (name, chain_id) in networks {
                let network = match version {
                    1 if network_chain_id(name) == Some(*chain_id) => name.clone(),
                    1 => continue,
                    _ => format!("eip155:{chain_id}"),
                };
                let kind = SupportedKind {
                    x402_version: version,
                    scheme: (*scheme).to_string(),
                    network,
                };
                if !kinds.contains(&kind) {
                    kinds.push(kind);
                }
            }
        }
    }
    SupportedResponse {
        kinds,
        extensions: Vec::new(),
        signers: Default::default(),
    }
}

/// Every kind the verification core accepts, without a verifier config (`opg x402`, the
/// stateless [`routes`]): `exact` on every v1 network name the core knows, and on the CAIP-2 id
/// of each of those chains for v2. (The core accepts any `eip155:<id>` in v2; the list names the
/// chains with a known v1 name.) The keeper's `/supported` lists only the networks of the
/// verifier config ([`supported_kinds`]).
pub fn supported() -> SupportedResponse {
    let networks: Vec<(String, u64)> = V1_NETWORK_CANDIDATES
        .iter()
        .filter_map(|name| network_chain_id(name).map(|id| ((*name).to_string(), id)))
        .collect();
    supported_kinds(&networks)
}

/// The `invalidMessage` of an invalid verdict: what the reason means, for humans.
pub fn reason_message(reason: RejectReason) -> &'static str {
    use RejectReason::*;
    match reason {
        InvalidX402Version => "x402Version is not 1 or 2, or differs from the payload's",
        InvalidScheme => {
            "the scheme is not a supported one (exact, upto), or differs from the requirements'"
        }
        InvalidNetwork => "the network is unknown, or the payload's and the requirements' differ",
        InvalidPayload => "the payment payload does not decode",
        InvalidPaymentRequirements => {
            "the payment requirements are malformed (e.g. extra.name/extra.version missing)"
        }
        InvalidExactEvmPayloadSignature => {
            "the EIP-3009 signature is malformed, high-s, or does not recover authorization.from"
        }
        InvalidExactEvmPayloadRecipientMismatch => "authorization.to differs from payTo",
        InvalidExactEvmPayloadAuthorizationValidBefore => {
            "the authorization expires too soon (validBefore is not after now + 6 s)"
        }
        InvalidExactEvmPayloadAuthorizationValidAfter => {
            "the authorization is not valid yet (validAfter is after now)"
        }
        InvalidExactEvmPayloadAuthorizationValue => {
            "authorization.value is below maxAmountRequired"
        }
        InvalidExactEvmPayloadAuthorizationValueMismatch => {
            "authorization.value differs from the required amount"
        }
        UnsupportedAsset => "the asset is not an accepted token of the network",
        UnsupportedPayloadType => {
            "the payload's type does not fit the scheme (Permit2 only in v2; upto only via Permit2, with witness.facilitator)"
        }
        InvalidPermit2Spender => "permit2Authorization.spender is not the scheme's x402 Permit2 proxy",
        InvalidPermit2RecipientMismatch => "permit2Authorization.witness.to differs from payTo",
        UptoFacilitatorMismatch => "witness.facilitator is not a facilitator in force",
        Permit2DeadlineExpired => "the Permit2 deadline is too soon (not at least now + 6 s)",
        Permit2NotYetValid => "the Permit2 witness' validAfter is after now",
        Permit2AmountMismatch => "permitted.amount differs from the required amount",
        Permit2TokenMismatch => "permitted.token differs from the required asset",
        InvalidPermit2Signature => {
            "the Permit2 signature is malformed (v must be 27/28) or does not recover permit2Authorization.from"
        }
        UptoSettlementExceedsAmount => "the settled amount is above the signed maximum",
        UptoSettlementPriceMismatch => {
            "the settled amount differs from the node-signed token counts times the requirements' token prices"
        }
        _ => "the payment was refused",
    }
}

/// The claimed payer of a payload: `authorization.from` (EIP-3009) or `permit2Authorization.from`,
/// lowercase, if it is an address.
fn claimed_payer(payload: &PaymentPayload) -> Option<String> {
    opg_core::verify::claimed_payer_and_nonce(payload).0
}

/// The facilitator's `/verify` verdict for `request` at `now` (unix seconds), offline.
///
/// Order (the reference facilitator's): `x402Version` (1 or 2, and equal to the payload's), then
/// the core's checks: scheme `exact`, network known and matching the requirements,
/// `extra.name`/`extra.version`, signature recovers `from` (low-s, 65 bytes), `to == payTo`,
/// `validBefore >= now + 6`, `validAfter <= now`, value (v1 `>= maxAmountRequired`, v2
/// `== amount`). Balance and on-chain nonce state are not checked.
///
/// `upto` payments are checked against no facilitator here (always `upto_facilitator_mismatch`):
/// use [`verify_with`] with the facilitators in force.
pub fn verify(request: &VerifyRequest, now: u64) -> VerifyResponse {
    verify_with(request, now, &[])
}

/// [`verify`] with the facilitators allowed to settle `upto` payments (`witness.facilitator`
/// must be one of them; the keeper passes the verifier's allow-list, `opg x402 verify` its
/// `--facilitator` flags). Permit2 payloads follow `@x402/evm` 2.27.0's order and reason strings
/// (see `opg_core::verify::verify_payment_with_facilitators`).
pub fn verify_with(request: &VerifyRequest, now: u64, facilitators: &[[u8; 20]]) -> VerifyResponse {
    let payload = &request.payment_payload;
    let payer = claimed_payer(payload);
    if !SUPPORTED_VERSIONS.contains(&request.x402_version)
        || payload.x402_version != request.x402_version
    {
        return VerifyResponse::invalid(RejectReason::InvalidX402Version, payer);
    }
    match verify_payment_with_facilitators(
        &NativeCrypto,
        payload,
        &request.payment_requirements,
        now,
        VALID_BEFORE_MARGIN,
        facilitators,
    ) {
        Ok(verified) => VerifyResponse::valid(verified.payer),
        Err(reason) => VerifyResponse::invalid(reason, payer),
    }
}

/// [`verify`] for any JSON document: the facilitator answers every JSON body with a verdict.
///
/// Shape errors, in this order: not an object → `invalid_payload`; `x402Version` missing, not an
/// integer, or not 1/2 → `invalid_x402_version`; `paymentPayload` missing or malformed →
/// `invalid_payload`; `paymentRequirements` missing or malformed → `invalid_payment_requirements`.
/// Each carries an `invalidMessage` naming the offending field.
pub fn verify_json(body: &serde_json::Value, now: u64) -> VerifyResponse {
    verify_json_with(body, now, &[])
}

/// [`verify_json`] with the facilitators allowed to settle `upto` payments (see [`verify_with`]).
pub fn verify_json_with(
    body: &serde_json::Value,
    now: u64,
    facilitators: &[[u8; 20]],
) -> VerifyResponse {
    let Some(object) = body.as_object() else {
        return VerifyResponse::malformed(
            RejectReason::InvalidPayload,
            "expected a JSON object {x402Version, paymentPayload, paymentRequirements}",
        );
    };
    let version = match object.get("x402Version") {
        Some(v) => match v.as_u64().and_then(|v| u32::try_from(v).ok()) {
            Some(v) if SUPPORTED_VERSIONS.contains(&v) => v,
            _ => {
                return VerifyResponse::malformed(
                    RejectReason::InvalidX402Version,
                    format!("x402Version: unsupported version {v} (expected 1 or 2)"),
                )
            }
        },
        None => {
            return VerifyResponse::malformed(
                RejectReason::InvalidX402Version,
                "x402Version: missing field",
            )
        }
    };
    let payload: PaymentPayload = match decode_field(object.get("paymentPayload"), "paymentPayload")
    {
        Ok(p) => p,
        Err(msg) => return VerifyResponse::malformed(RejectReason::InvalidPayload, msg),
    };
    let requirements: PaymentRequirements =
        match decode_field(object.get("paymentRequirements"), "paymentRequirements") {
            Ok(r) => r,
            Err(msg) => {
                let mut response =
                    VerifyResponse::malformed(RejectReason::InvalidPaymentRequirements, msg);
                response.payer = claimed_payer(&payload);
                return response;
            }
        };
    verify_with(
        &VerifyRequest {
            x402_version: version,
            payment_payload: payload,
            payment_requirements: requirements,
        },
        now,
        facilitators,
    )
}

/// [`verify`] for a raw `X-PAYMENT` (v1) or `PAYMENT-SIGNATURE` (v2) header value (base64 of the
/// payload's JSON; padding optional) against `requirements`. The request's `x402Version` is the
/// payload's. A header that does not decode is `invalid_payload`.
pub fn verify_header(header: &str, requirements: &PaymentRequirements, now: u64) -> VerifyResponse {
    verify_header_with(header, requirements, now, &[])
}

/// [`verify_header`] with the facilitators allowed to settle `upto` payments (see [`verify_with`]).
pub fn verify_header_with(
    header: &str,
    requirements: &PaymentRequirements,
    now: u64,
    facilitators: &[[u8; 20]],
) -> VerifyResponse {
    match decode_payment_header(header) {
        Ok(payload) => verify_with(
            &VerifyRequest {
                x402_version: payload.x402_version,
                payment_payload: payload,
                payment_requirements: requirements.clone(),
            },
            now,
            facilitators,
        ),
        Err(reason) => VerifyResponse::malformed(
            reason,
            "the header is not base64 of an x402 payment payload JSON",
        ),
    }
}

/// Deserializes one field of the request, naming the path of the first bad sub-field.
fn decode_field<T: serde::de::DeserializeOwned>(
    value: Option<&serde_json::Value>,
    name: &str,
) -> Result<T, String> {
    let Some(value) = value else {
        return Err(format!("{name}: missing field"));
    };
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        if path == "." {
            format!("{name}: {}", e.inner())
        } else {
            format!("{name}.{path}: {}", e.inner())
        }
    })
}

/// The current unix time in seconds (0 if the clock is before 1970).
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn supported_lists_v1_names_and_their_caip2_ids() {
        let s = supported();
        let has = |v: u32, n: &str| {
            s.kinds
                .iter()
                .any(|k| k.x402_version == v && k.network == n && k.scheme == "exact")
        };
        for name in [
            "base",
            "base-sepolia",
            "avalanche",
            "avalanche-fuji",
            "polygon",
        ] {
            assert!(has(1, name), "{name}");
        }
        for id in [
            "eip155:8453",
            "eip155:84532",
            "eip155:43114",
            "eip155:43113",
        ] {
            assert!(has(2, id), "{id}");
        }
        // every listed kind is one the core resolves, no duplicates
        for k in &s.kinds {
            assert!(network_chain_id(&k.network).is_some(), "{}", k.network);
            assert_eq!(s.kinds.iter().filter(|o| *o == k).count(), 1);
        }
        assert!(!has(1, "solana") && !has(2, "solana"));
    }

    #[test]
    fn response_shape_is_camel_case_and_omits_absent_fields() {
        let v = serde_json::to_value(VerifyResponse::valid("0xab".into())).unwrap();
        assert_eq!(v, serde_json::json!({"isValid": true, "payer": "0xab"}));
        let v = serde_json::to_value(VerifyResponse::invalid(RejectReason::InvalidNetwork, None))
            .unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "isValid": false,
                "invalidReason": "invalid_network",
                "invalidMessage": reason_message(RejectReason::InvalidNetwork),
            })
        );
    }

    /// Issue 16: an invalid verdict said only its reason code (no `invalidMessage`).
    #[test]
    fn every_invalid_verdict_carries_a_message() {
        for reason in [
            RejectReason::InvalidScheme,
            RejectReason::InvalidExactEvmPayloadSignature,
            RejectReason::UnsupportedAsset,
        ] {
            let v = VerifyResponse::invalid(reason, None);
            assert!(!v.invalid_message.unwrap().is_empty());
        }
    }

    /// Issue 16: `/supported` lists only the configured networks, in the x402 v2 shape.
    #[test]
    fn supported_kinds_follow_the_configured_networks() {
        let s = supported_kinds(&[("base-sepolia".into(), 84532), ("no-such-name".into(), 7)]);
        let kinds: Vec<(u32, &str, &str)> = s
            .kinds
            .iter()
            .map(|k| (k.x402_version, k.scheme.as_str(), k.network.as_str()))
            .collect();
        // an unknown v1 name is offered only as its CAIP-2 id; `upto` only in v2
        assert_eq!(
            kinds,
            [
                (1, "exact", "base-sepolia"),
                (2, "exact", "eip155:84532"),
                (2, "exact", "eip155:7"),
                (2, "upto", "eip155:84532"),
                (2, "upto", "eip155:7"),
            ]
        );
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(v["extensions"], serde_json::json!([]));
        assert_eq!(v["signers"], serde_json::json!({}));
        assert!(supported_kinds(&[]).kinds.is_empty());
    }

    #[test]
    fn json_shape_errors_name_the_field() {
        let r = verify_json(&serde_json::json!([1]), 0);
        assert_eq!(r.invalid_reason.as_deref(), Some("invalid_payload"));
        let r = verify_json(&serde_json::json!({"paymentPayload": {}}), 0);
        assert_eq!(r.invalid_reason.as_deref(), Some("invalid_x402_version"));
        let r = verify_json(&serde_json::json!({"x402Version": "1"}), 0);
        assert_eq!(r.invalid_reason.as_deref(), Some("invalid_x402_version"));
        let r = verify_json(&serde_json::json!({"x402Version": 1}), 0);
        assert_eq!(r.invalid_reason.as_deref(), Some("invalid_payload"));
        assert_eq!(
            r.invalid_message.as_deref(),
            Some("paymentPayload: missing field")
        );
        let r = verify_json(
            &serde_json::json!({"x402Version": 1, "paymentPayload": {"x402Version": 1, "payload": {"signature": 5}}}),
            0,
        );
        assert_eq!(r.invalid_reason.as_deref(), Some("invalid_payload"));
        assert!(
            r.invalid_message
                .as_deref()
                .unwrap()
                .starts_with("paymentPayload.payload.signature: invalid type"),
            "{r:?}"
        );
    }
}
