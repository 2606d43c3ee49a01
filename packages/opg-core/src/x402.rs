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

/// `payload` of an EVM payment: exactly one of `authorization` (EIP-3009, scheme `exact`) and
/// `permit2Authorization` (Permit2, scheme `exact` with `extra.assetTransferMethod: "permit2"`, or
/// scheme `upto`), as `@x402/evm` 2.27.0 tells them apart (`"permit2Authorization" in payload`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExactEvmPayload {
    /// ECDSA signature, `0x` hex, over the EIP-712 digest of the authorization: 65-byte
    /// `r || s || v` for EIP-3009; 65-byte or 64-byte EIP-2098 `r || vs` for Permit2.
    pub signature: String,
    /// The signed EIP-3009 authorization (absent in a Permit2 payload).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization: Option<ExactEvmAuthorization>,
    /// The signed Permit2 `PermitWitnessTransferFrom` (absent in an EIP-3009 payload).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permit2_authorization: Option<Permit2Authorization>,
}

/// `permitted` of a Permit2 authorization: Permit2's `TokenPermissions`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Permit2TokenPermissions {
    /// Token address (`0x` + 40 hex); must equal the requirements' `asset`.
    pub token: String,
    /// Amount in the token's smallest unit, decimal string (uint256): the exact price for
    /// `exact`, the signed maximum for `upto`.
    pub amount: String,
}

/// `witness` of a Permit2 authorization: the x402 proxies' `Witness` struct.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Permit2Witness {
    /// Recipient (`0x` + 40 hex); must equal the requirements' `payTo`.
    pub to: String,
    /// `upto` only: the one facilitator allowed to settle (`0x` + 40 hex).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facilitator: Option<String>,
    /// Unix seconds, decimal string: valid from (inclusive).
    pub valid_after: String,
}

/// `permit2Authorization` of a Permit2 payload (`@x402/evm` 2.27.0 `Permit2Authorization` /
/// `UptoPermit2Authorization`), signed as EIP-712 `PermitWitnessTransferFrom` in the Permit2
/// domain (see [`crate::eip712::permit2_witness_transfer_digest`]).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Permit2Authorization {
    /// Payer, the Permit2 token owner (`0x` + 40 hex).
    pub from: String,
    /// Token and amount.
    pub permitted: Permit2TokenPermissions,
    /// The x402 Permit2 proxy allowed to spend (exact: `0x402085c248EeA27D92E8b30b2C58ed07f9E20001`,
    /// upto: `0x4020A4f3b7b90ccA423B9fabCc0CE57C6C240002`).
    pub spender: String,
    /// Permit2 unordered nonce, decimal string (uint256): word `nonce >> 8`, bit `nonce & 0xff`.
    pub nonce: String,
    /// Unix seconds, decimal string (uint256): valid until (inclusive on chain).
    pub deadline: String,
    /// The x402 witness.
    pub witness: Permit2Witness,
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
    /// `exact`: how the asset moves, `eip3009` (default) or `permit2` (`@x402/evm` 2.27.0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset_transfer_method: Option<String>,
    /// `upto`: the facilitator the server advertises (`0x` + 40 hex); the client signs it as
    /// `witness.facilitator`. Informational: the verifier checks the signed witness.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facilitator_address: Option<String>,
    /// `upto` (opg): price per prompt token, in the token's smallest unit, a decimal string
    /// (`cosmwasm_std::Decimal`: up to 18 fractional digits, e.g. `"0.5"`; malformed:
    /// `invalid_payment_requirements`). With `completionTokenPrice`, the settled amount
    /// must be the receipt's token counts times these prices (rounded down or up).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_token_price: Option<String>,
    /// `upto` (opg): price per completion token, token units, a decimal (see `promptTokenPrice`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_token_price: Option<String>,
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
                ..ExactEvmExtra::default()
            }),
        }
    }
}

impl PaymentRequirements {
    /// v2 Permit2 requirements: scheme `exact` with `extra.assetTransferMethod: "permit2"`, or
    /// scheme `upto` (`amount` is then the maximum) with `extra.facilitatorAddress`. `network` is
    /// a CAIP-2 id (`eip155:8453`). `extra.name`/`version` are unset (the Permit2 domain is fixed).
    pub fn permit2(
        scheme: &str,
        network: &str,
        pay_to: &str,
        asset: &str,
        amount: u128,
        facilitator: Option<&str>,
    ) -> Self {
        let upto = scheme == "upto";
        PaymentRequirements {
            scheme: scheme.to_string(),
            network: network.to_string(),
            max_amount_required: None,
            amount: Some(amount.to_string()),
            resource: None,
            description: None,
            mime_type: None,
            pay_to: pay_to.to_string(),
            max_timeout_seconds: None,
            asset: asset.to_string(),
            extra: Some(ExactEvmExtra {
                asset_transfer_method: (!upto).then(|| "permit2".to_string()),
                facilitator_address: facilitator.map(str::to_string),
                ..ExactEvmExtra::default()
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
