//! x402 wire types for the `exact` EVM scheme (EIP-3009 `transferWithAuthorization`), protocol v1
//! (`X-PAYMENT` header, network names such as `base`) and v2 (`PAYMENT-SIGNATURE` header, CAIP-2
//! network ids such as `eip155:8453`, the chosen requirements echoed in `accepted`).
//!
//! Field names follow the reference TypeScript packages (`x402` for v1, `@x402/core` for v2):
//! camelCase JSON, amounts as decimal strings, addresses and nonces as `0x` hex strings.
//! Unknown fields are ignored (the reference types carry extensions we do not interpret).
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `authorization` of an `exact` EVM payload: the EIP-3009 `TransferWithAuthorization` message.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExactEvmAuthorization {
    /// Payer address (`0x` + 40 hex).
    pub from: String,
    /// Recipient address (`0x` + 40 hex); must equal the requirements' `payTo`.
    pub to: String,
    /// Amount in the token's smallest unit, decimal string (uint256).
    pub value: String,
    /// Unix seconds, decimal string: valid from (inclusive).
    pub valid_after: String,
    /// Unix seconds, decimal string: valid until (exclusive).
    pub valid_before: String,
    /// 32-byte EIP-3009 nonce, `0x` + 64 hex.
    pub nonce: String,
}

/// `payload` of an `exact` EVM payment.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExactEvmPayload {
    /// 65-byte `r || s || v` ECDSA signature, `0x` hex, over the EIP-712 digest of the authorization.
    pub signature: String,
    /// The signed authorization.
    pub authorization: ExactEvmAuthorization,
}

/// `extra` of `exact` EVM requirements: the token's EIP-712 domain name and version.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema, Default)]
#[serde(rename_all = "camelCase")]
pub struct ExactEvmExtra {
    /// EIP-712 domain `name` of the token (e.g. `USD Coin` on Base, `USDC` on Base Sepolia).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// EIP-712 domain `version` of the token (e.g. `2`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// x402 `PaymentRequirements`, v1 or v2 shape (a superset: v1 has `maxAmountRequired`,
/// `resource`, `description`, `mimeType`; v2 has `amount`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentRequirements {
    /// Payment scheme; only `exact` is supported.
    pub scheme: String,
    /// v1: network name (`base`); v2: CAIP-2 id (`eip155:8453`).
    pub network: String,
    /// v1: the maximum amount required, token units, decimal string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_amount_required: Option<String>,
    /// v2: the exact amount, token units, decimal string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<String>,
    /// v1: URL of the paid resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// v1: human description of the resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// v1: MIME type of the resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// Recipient address (`0x` + 40 hex): the node's `pay_to`.
    pub pay_to: String,
    /// Seconds the payment may take.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_timeout_seconds: Option<u64>,
    /// Token contract address (`0x` + 40 hex).
    pub asset: String,
    /// Token EIP-712 domain name/version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra: Option<ExactEvmExtra>,
}

impl PaymentRequirements {
    /// `exact` EVM requirements for an EIP-3009 token: v1 sets `maxAmountRequired` (pass a v1
    /// network name such as `base`), v2 sets `amount` (pass a CAIP-2 id such as `eip155:8453`).
    /// `token_name`/`token_version` are the token's EIP-712 domain (`extra`). `resource`,
    /// `description`, `mimeType` and `maxTimeoutSeconds` are unset: add them with struct update
    /// syntax (`PaymentRequirements { resource: Some(..), ..PaymentRequirements::exact(..) }`).
    pub fn exact(
        x402_version: u32,
        network: &str,
        pay_to: &str,
        asset: &str,
        amount: u128,
        token_name: &str,
        token_version: &str,
    ) -> Self {
        let v1 = x402_version == 1;
        PaymentRequirements {
            scheme: "exact".to_string(),
            network: network.to_string(),
            max_amount_required: v1.then(|| amount.to_string()),
            amount: (!v1).then(|| amount.to_string()),
            resource: None,
            description: None,
            mime_type: None,
            pay_to: pay_to.to_string(),
            max_timeout_seconds: None,
            asset: asset.to_string(),
            extra: Some(ExactEvmExtra {
                name: Some(token_name.to_string()),
                version: Some(token_version.to_string()),
            }),
        }
    }
}

/// v2 `resource` object.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResourceInfo {
    /// Resource URL.
    pub url: String,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// MIME type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
}

/// x402 `PaymentPayload`, v1 (`scheme` + `network` at top level) or v2 (`accepted` requirements,
/// optional `resource`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentPayload {
    /// Protocol version: 1 or 2.
    pub x402_version: u32,
    /// v1: scheme (`exact`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheme: Option<String>,
    /// v1: network name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<String>,
    /// v2: the requirements the client accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted: Option<PaymentRequirements>,
    /// v2: the resource paid for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<ResourceInfo>,
    /// The `exact` EVM payload.
    pub payload: ExactEvmPayload,
}
