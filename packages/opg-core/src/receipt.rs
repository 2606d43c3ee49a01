//! The signed inference receipt (DESIGN §3): the payer's x402 payment, the node's signature over an
//! EIP-712 `InferenceReceipt`, and (policy `require_settlement`) a facilitator's settlement
//! attestation. This is what nodes POST to a keeper and what `SubmitReceipts` carries.
use cosmwasm_schema::cw_serde;
use cosmwasm_std::Binary;

use crate::x402::PaymentRequirements;

/// What the node signs (EIP-712 struct
/// `InferenceReceipt(address payer,bytes32 paymentNonce,uint256 value,address asset,uint256 chainId,string nodeId,string modelId,bytes32 requestDigest,bytes32 responseDigest,uint64 promptTokens,uint64 completionTokens,uint64 servedAt)`
/// in the verifier's domain, see [`crate::eip712::verifier_domain_separator`]).
#[cw_serde]
pub struct InferenceReceipt {
    /// Registry node id of the serving node.
    pub node_id: String,
    /// Model id served (must be on the registry's model list and listed by the node).
    pub model_id: String,
    /// sha256 of the request body, 32 bytes.
    pub request_digest: Binary,
    /// sha256 of the response body, 32 bytes.
    pub response_digest: Binary,
    /// Prompt tokens consumed.
    pub prompt_tokens: u64,
    /// Completion tokens produced.
    pub completion_tokens: u64,
    /// Unix time (seconds) the response was served; decides the epoch.
    pub served_at: u64,
}

/// A facilitator's attestation that the payment settled on its network: a secp256k1 EIP-712
/// signature over `Settlement(bytes32 paymentDigest,uint256 chainId,bytes32 txHash,address payer,uint256 value)`
/// in the verifier's domain. `paymentDigest` is the EIP-712 digest the payer signed (EIP-3009
/// `TransferWithAuthorization` or Permit2 `PermitWitnessTransferFrom`); `value` is the amount that
/// settled: the payment's value for `exact`, [`SettlementAttestation::amount`] for `upto`.
#[cw_serde]
pub struct SettlementAttestation {
    /// Settlement transaction hash on the payment network, 32 bytes.
    pub tx_hash: Binary,
    /// The facilitator's EVM address (`0x` + 40 hex); must be allow-listed by the verifier.
    pub facilitator: String,
    /// 65-byte `r || s || v` signature, low-s.
    pub signature: Binary,
    /// Settled amount in token units. Required for `upto` (at most the signed maximum; the value
    /// the receipt counts); for `exact` absent or equal to the payment's value. Omitted from the
    /// JSON when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<cosmwasm_std::Uint128>,
}

/// A complete receipt as submitted.
#[cw_serde]
pub struct SignedReceipt {
    /// The x402 payment header value exactly as the client sent it: base64 of the JSON
    /// `PaymentPayload` (`X-PAYMENT` in v1, `PAYMENT-SIGNATURE` in v2).
    pub payment: String,
    /// The `PaymentRequirements` the node advertised for this call (v1 and v2 shapes).
    #[serde(deserialize_with = "out_of_line")]
    pub requirements: PaymentRequirements,
    /// The node's statement of what it served.
    #[serde(deserialize_with = "out_of_line")]
    pub receipt: InferenceReceipt,
    /// Node signature over the `InferenceReceipt` digest: 65 bytes (secp256k1 `r||s||v`) or 64 bytes (ed25519).
    pub node_signature: Binary,
    /// Facilitator settlement attestation; required when the verifier's `require_settlement` is on.
    pub settlement: Option<SettlementAttestation>,
    /// Public keys of secp256k1 signers of this batch, added by whoever submits it (the keeper
    /// stores the keys it recovered at ingest and sends each once per batch). Optional, untrusted,
    /// and not signed by anyone; omitted from the JSON when absent. See [`SignerKeys`].
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "out_of_line"
    )]
    pub signer_keys: Option<SignerKeys>,
}

/// A field deserialized in a function of its own: inlined into `SignedReceipt`'s derived visitor,
/// the nested structs make that one Wasm function exceed the VM's limit of 100 locals (wasmd
/// refuses such code). Same result as the derived `Deserialize`.
#[inline(never)]
fn out_of_line<'de, D: serde::Deserializer<'de>, T: serde::Deserialize<'de>>(
    deserializer: D,
) -> Result<T, D::Error> {
    T::deserialize(deserializer)
}

/// Public keys of secp256k1 signers, each the uncompressed SEC1 encoding (65 bytes,
/// `0x04 || x || y`).
///
/// The verifier pools the keys of every receipt of a `SubmitReceipts` batch, whatever field they
/// came in (`opg_core::verify::KeyBook`): a signature whose expected signer (the payment's
/// `from`, the node's registered address, the attestation's facilitator) has a key in the batch is
/// checked with `secp256k1_verify` (96,000,000 VM gas, about 686 SDK gas) instead of recovering the
/// key with `secp256k1_recover_pubkey` (194,000,000, about 1,386). So one copy per batch serves
/// all of a signer's signatures; the keeper sends a key once, and only for signers of at least two
/// receipts (`opg_core::verify::compact_signer_keys`: a key is ~100 message bytes, ~1,000 SDK gas
/// of tx size). A key is only used for the address it hashes to, so a wrong key can never turn a
/// good receipt into a rejected one or the reverse, with one exception: under a key, `v` must be
/// 0, 1, 27 or 28 but its parity is not checked (a signature with `v` flipped is accepted; it
/// authorizes exactly what the original does).
#[cw_serde]
#[derive(Default)]
pub struct SignerKeys {
    /// Key of the payer (`authorization.from` of the x402 payment).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer: Option<Binary>,
    /// Key of the node, when its registered key is secp256k1 (an EVM address).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<Binary>,
    /// Key of the facilitator that signed `settlement`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facilitator: Option<Binary>,
}

/// A signed liveness heartbeat of a local node, for epochs in which it served no receipt (DESIGN §4):
/// EIP-712 `Heartbeat(string nodeId,uint64 epoch,uint64 timestamp)` in the verifier's domain,
/// signed with the node key.
#[cw_serde]
pub struct Heartbeat {
    /// Node id.
    pub node_id: String,
    /// The epoch the node claims liveness for; must be open for submission.
    pub epoch: u64,
    /// Unix seconds when signed; must fall inside `epoch`.
    pub timestamp: u64,
    /// Node signature (65-byte secp256k1 or 64-byte ed25519) over the digest.
    pub signature: Binary,
}
