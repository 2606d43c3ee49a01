//! Why a receipt is rejected. Payment failures use the x402 specification's `invalidReason`
//! strings (x402 spec, "Facilitator /verify" and `exact` EVM scheme sections); the rest are opg's own.
use cosmwasm_schema::cw_serde;

/// A named rejection reason. `as_str()` gives the wire string used in responses, events, the keeper's
/// HTTP API and the `/verify` endpoint.
#[cw_serde]
#[derive(Copy, Eq, Hash)]
pub enum RejectReason {
    // ---- x402 specification strings (payment) ----
    /// `invalid_x402_version`: unsupported `x402Version`, or payload/requirements versions differ.
    InvalidX402Version,
    /// `invalid_scheme`: scheme is not `exact`, or differs from the requirements.
    InvalidScheme,
    /// `invalid_network`: unknown network, or payload and requirements networks differ.
    InvalidNetwork,
    /// `invalid_payload`: the payment is not decodable (base64/JSON/fields).
    InvalidPayload,
    /// `invalid_payment_requirements`: requirements malformed (e.g. missing `extra.name`/`extra.version`).
    InvalidPaymentRequirements,
    /// `invalid_exact_evm_payload_signature`: the EIP-3009 signature is malformed, high-s, or does not recover `from`.
    InvalidExactEvmPayloadSignature,
    /// `invalid_exact_evm_payload_recipient_mismatch`: `authorization.to != payTo`.
    InvalidExactEvmPayloadRecipientMismatch,
    /// `invalid_exact_evm_payload_authorization_valid_before`: expired (`validBefore` not after now + margin).
    InvalidExactEvmPayloadAuthorizationValidBefore,
    /// `invalid_exact_evm_payload_authorization_valid_after`: not yet valid (`validAfter > now`).
    InvalidExactEvmPayloadAuthorizationValidAfter,
    /// `invalid_exact_evm_payload_authorization_value`: v1, value below `maxAmountRequired`.
    InvalidExactEvmPayloadAuthorizationValue,
    /// `invalid_exact_evm_payload_authorization_value_mismatch`: v2, value differs from `amount`.
    InvalidExactEvmPayloadAuthorizationValueMismatch,
    /// `invalid_exact_evm_payload_asset_mismatch` (opg): the requirements' asset is not an allow-listed asset of the network.
    UnsupportedAsset,
    // ---- @x402/evm 2.27.0 Permit2 `exact` and `upto` strings ----
    /// `unsupported_payload_type`: the payload's shape does not fit the scheme (an EIP-3009
    /// `authorization` for `upto`, a Permit2 payload in protocol v1).
    UnsupportedPayloadType,
    /// `invalid_permit2_spender`: `permit2Authorization.spender` is not the scheme's x402 proxy.
    InvalidPermit2Spender,
    /// `invalid_permit2_recipient_mismatch`: `witness.to != payTo`.
    InvalidPermit2RecipientMismatch,
    /// `upto_facilitator_mismatch`: `witness.facilitator` is not an allowed facilitator.
    UptoFacilitatorMismatch,
    /// `permit2_deadline_expired`: `deadline < now + 6`.
    Permit2DeadlineExpired,
    /// `permit2_not_yet_valid`: `witness.validAfter > now`.
    Permit2NotYetValid,
    /// `permit2_amount_mismatch`: `permitted.amount != amount` (for `upto`, the signed maximum).
    Permit2AmountMismatch,
    /// `permit2_token_mismatch`: `permitted.token != asset`.
    Permit2TokenMismatch,
    /// `invalid_permit2_signature`: the Permit2 signature is malformed or not `from`'s.
    InvalidPermit2Signature,
    /// `invalid_upto_evm_payload_settlement_exceeds_amount`: the settled amount is above the signed maximum.
    UptoSettlementExceedsAmount,
    /// `upto_settlement_price_mismatch` (opg): the settled amount is not the receipt's token
    /// counts times the per-token prices of the requirements' `extra`.
    UptoSettlementPriceMismatch,
    // ---- opg's own ----
    /// `node_unknown`: `node_id` is not registered.
    NodeUnknown,
    /// `node_jailed`: the node is jailed.
    NodeJailed,
    /// `node_inactive`: the node is unbonding/deregistered.
    NodeInactive,
    /// `node_withdrawn`: the node's bond was withdrawn; it stays on record only so its operator
    /// can claim what it earned before.
    NodeWithdrawn,
    /// `invalid_node_signature`: the node's signature over the `InferenceReceipt` digest is malformed or wrong.
    InvalidNodeSignature,
    /// `model_unknown`: the model is not on the governance model list.
    ModelUnknown,
    /// `model_not_served`: the node does not list the model.
    ModelNotServed,
    /// `provenance_mismatch`: model provenance does not match the node kind.
    ProvenanceMismatch,
    /// `payment_mismatch`: the receipt's payment binding (payer, nonce, value, asset, network) differs from the payment.
    PaymentMismatch,
    /// `recipient_not_node`: the payment's `payTo` is not the node's registered `pay_to`.
    RecipientNotNode,
    /// `self_dealing`: the payer is the node's own `pay_to` address.
    SelfDealing,
    /// `served_outside_payment_window`: `served_at` is outside `[validAfter, validBefore)`.
    ServedOutsidePaymentWindow,
    /// `epoch_closed`: `served_at` falls in an epoch no longer open for submission, before genesis, or in the future.
    EpochClosed,
    /// `settlement_missing`: `require_settlement` is on and no facilitator attestation is attached.
    SettlementMissing,
    /// `invalid_settlement`: the attestation is not signed by an allow-listed facilitator or does not match the payment.
    InvalidSettlement,
    /// `nonce_already_used`: `(payer, nonce)` was consumed before.
    NonceAlreadyUsed,
    /// `duplicate_in_batch`: the same `(payer, nonce)` appears earlier in the same batch.
    DuplicateInBatch,
    /// `attestation_expired`: the local node's hardware attestation has expired.
    AttestationExpired,
    /// `compact_unsupported_version`: a compact receipt's version byte is not one the verifier
    /// reads (see `opg_core::codec`).
    CompactUnsupportedVersion,
    /// `compact_unknown_kind`: a compact receipt's payment kind is not one the verifier reads;
    /// submit such a receipt in the JSON form.
    CompactUnknownKind,
    /// `compact_malformed`: a compact receipt does not decode (truncated, trailing bytes,
    /// non-minimal integers, ids that are not UTF-8).
    CompactMalformed,
}

impl RejectReason {
    /// The wire string.
    pub fn as_str(&self) -> &'static str {
        use RejectReason::*;
        match self {
            InvalidX402Version => "invalid_x402_version",
            InvalidScheme => "invalid_scheme",
            InvalidNetwork => "invalid_network",
            InvalidPayload => "invalid_payload",
            InvalidPaymentRequirements => "invalid_payment_requirements",
            InvalidExactEvmPayloadSignature => "invalid_exact_evm_payload_signature",
            InvalidExactEvmPayloadRecipientMismatch => {
                "invalid_exact_evm_payload_recipient_mismatch"
            }
            InvalidExactEvmPayloadAuthorizationValidBefore => {
                "invalid_exact_evm_payload_authorization_valid_before"
            }
            InvalidExactEvmPayloadAuthorizationValidAfter => {
                "invalid_exact_evm_payload_authorization_valid_after"
            }
            InvalidExactEvmPayloadAuthorizationValue => {
                "invalid_exact_evm_payload_authorization_value"
            }
            InvalidExactEvmPayloadAuthorizationValueMismatch => {
                "invalid_exact_evm_payload_authorization_value_mismatch"
            }
            UnsupportedAsset => "invalid_exact_evm_payload_asset_mismatch",
            UnsupportedPayloadType => "unsupported_payload_type",
            InvalidPermit2Spender => "invalid_permit2_spender",
            InvalidPermit2RecipientMismatch => "invalid_permit2_recipient_mismatch",
            UptoFacilitatorMismatch => "upto_facilitator_mismatch",
            Permit2DeadlineExpired => "permit2_deadline_expired",
            Permit2NotYetValid => "permit2_not_yet_valid",
            Permit2AmountMismatch => "permit2_amount_mismatch",
            Permit2TokenMismatch => "permit2_token_mismatch",
            InvalidPermit2Signature => "invalid_permit2_signature",
            UptoSettlementExceedsAmount => "invalid_upto_evm_payload_settlement_exceeds_amount",
            UptoSettlementPriceMismatch => "upto_settlement_price_mismatch",
            NodeUnknown => "node_unknown",
            NodeJailed => "node_jailed",
            NodeInactive => "node_inactive",
            NodeWithdrawn => "node_withdrawn",
            InvalidNodeSignature => "invalid_node_signature",
            ModelUnknown => "model_unknown",
            ModelNotServed => "model_not_served",
            ProvenanceMismatch => "provenance_mismatch",
            PaymentMismatch => "payment_mismatch",
            RecipientNotNode => "recipient_not_node",
            SelfDealing => "self_dealing",
            ServedOutsidePaymentWindow => "served_outside_payment_window",
            EpochClosed => "epoch_closed",
            SettlementMissing => "settlement_missing",
            InvalidSettlement => "invalid_settlement",
            NonceAlreadyUsed => "nonce_already_used",
            DuplicateInBatch => "duplicate_in_batch",
            AttestationExpired => "attestation_expired",
            CompactUnsupportedVersion => "compact_unsupported_version",
            CompactUnknownKind => "compact_unknown_kind",
            CompactMalformed => "compact_malformed",
        }
    }
}

impl core::fmt::Display for RejectReason {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}
