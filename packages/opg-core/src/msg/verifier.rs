//! `receipt-verifier` messages (DESIGN §3).
use cosmwasm_schema::{cw_serde, QueryResponses};
use cosmwasm_std::{Addr, Binary, Uint128};

use crate::epoch::EpochClock;
use crate::receipt::{Heartbeat, SignedReceipt};
use crate::types::{NetworkConfig, Provenance};

/// Instantiate the verifier. The epoch clock is read from the reward pool at instantiation, so the
/// two can never disagree.
#[cw_serde]
#[serde(deny_unknown_fields)]
pub struct InstantiateMsg {
    /// Governance address.
    pub governance: String,
    /// The node registry.
    pub registry: String,
    /// The reward pool (receives `RecordUsage`).
    pub reward_pool: String,
    /// Accepted x402 networks and assets (with decimals).
    pub networks: Vec<NetworkConfig>,
    /// Allow-listed facilitator EVM addresses (`0x` + 40 hex, at most 32) whose settlement
    /// attestations count.
    pub facilitators: Vec<String>,
    /// Whether receipts need a facilitator settlement attestation (default policy: on).
    pub require_settlement: bool,
    /// Maximum receipts + heartbeats in one `SubmitReceipts` (1..=500).
    pub max_batch: u32,
}

/// Execute messages of the verifier. Each variant wraps a struct with
/// `#[serde(deny_unknown_fields)]` (serde cannot deny unknown fields of an enum's struct variant),
/// so a misspelled or extra field is an error naming it. The JSON is unchanged:
/// `{"submit_receipts":{"receipts":[...],"heartbeats":[...]}}`.
#[cw_serde]
pub enum ExecuteMsg {
    /// Permissionless: verifies each receipt and heartbeat. A bad one never fails the batch: each gets
    /// `accepted` or a named reason in the response data ([`SubmitReceiptsResponse`]) and in events.
    /// Accepted usage goes to the pool in one `RecordUsage` message.
    /// Errors only for the batch as a whole: `BatchTooLarge`, `EmptyBatch`.
    SubmitReceipts(SubmitReceiptsMsg),
    /// Permissionless: removes up to `limit` consumed nonces of epochs that can no longer accept
    /// receipts (their replay is impossible because `epoch_closed` rejects them first).
    PruneNonces(PruneNoncesMsg),
    /// Governance: updates the config; `None` leaves a field unchanged.
    UpdateConfig(UpdateConfigMsg),
}

/// Sudo (chain governance): same as `ExecuteMsg::UpdateConfig`.
#[cw_serde]
pub enum SudoMsg {
    /// Same as `ExecuteMsg::UpdateConfig`.
    UpdateConfig(UpdateConfigMsg),
}

/// Body of `SubmitReceipts`.
#[cw_serde]
#[serde(deny_unknown_fields)]
pub struct SubmitReceiptsMsg {
    /// Receipts to verify, in the JSON form (for dApps and tools, and for receipts of a payment
    /// kind the compact form does not know). Their results have indexes `0..receipts.len()`.
    pub receipts: Vec<SignedReceipt>,
    /// Heartbeats of local nodes.
    pub heartbeats: Vec<Heartbeat>,
    /// Receipts in the compact binary form (`opg_core::codec`, base64 in JSON): version byte,
    /// payment-kind byte, then the kind's fields; what the keeper sends. Entry `i`'s result has
    /// index `receipts.len() + i`; an entry that does not decode is rejected with
    /// `compact_unsupported_version`, `compact_unknown_kind` or `compact_malformed` while the
    /// others are verified. Optional, omitted from the JSON when empty; counted with `receipts`
    /// and `heartbeats` against `max_batch`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub compact: Vec<Binary>,
}

/// Body of `PruneNonces`.
#[cw_serde]
#[serde(deny_unknown_fields)]
pub struct PruneNoncesMsg {
    /// Maximum nonces removed (1..=1000).
    pub limit: u32,
}

/// Body of `UpdateConfig`: `None` leaves a field unchanged.
#[cw_serde]
#[derive(Default)]
#[serde(deny_unknown_fields)]
pub struct UpdateConfigMsg {
    /// New governance address.
    pub governance: Option<String>,
    /// Replaces the network/asset allow-list.
    pub networks: Option<Vec<NetworkConfig>>,
    /// Replaces the facilitator allow-list (at most 32 addresses).
    pub facilitators: Option<Vec<String>>,
    /// Settlement policy.
    pub require_settlement: Option<bool>,
    /// Batch bound (1..=500); moves at most one step per change (`old / 2 <= new <= 2 * old`).
    pub max_batch: Option<u32>,
}

/// Queries of the verifier.
#[cw_serde]
#[derive(QueryResponses)]
pub enum QueryMsg {
    /// The config.
    #[returns(ConfigResponse)]
    Config {},
    /// Full verdict for one receipt at the current block, without state change (for dApps);
    /// includes the nonce check.
    #[returns(ReceiptVerdict)]
    VerifyReceipt {
        /// The receipt.
        receipt: SignedReceipt,
    },
    /// Whether `(payer, nonce)` has been consumed.
    #[returns(ReceiptStatusResponse)]
    ReceiptStatus {
        /// Payer EVM address (any case).
        payer: String,
        /// Payment nonce, `0x` + 64 hex: the EIP-3009 nonce, or the Permit2 nonce as its 32-byte
        /// big-endian word.
        nonce: String,
    },
}

/// Verifier config.
#[cw_serde]
pub struct ConfigResponse {
    /// Governance.
    pub governance: Addr,
    /// Registry.
    pub registry: Addr,
    /// Reward pool.
    pub reward_pool: Addr,
    /// Epoch clock (copied from the pool).
    pub clock: EpochClock,
    /// Networks.
    pub networks: Vec<NetworkConfig>,
    /// Facilitators.
    pub facilitators: Vec<String>,
    /// Settlement policy.
    pub require_settlement: bool,
    /// Batch bound.
    pub max_batch: u32,
    /// The EIP-712 domain salt receipts must be signed under: sha256(chain_id || verifier address), hex.
    pub domain_salt: String,
}

/// Outcome of one receipt.
#[cw_serde]
pub struct ReceiptResult {
    /// Index in the submitted `receipts`.
    pub index: u32,
    /// Payer (lowercase EVM address) if the payment decoded.
    pub payer: Option<String>,
    /// Payment nonce (`0x` + 64 hex; EIP-3009, or Permit2's as its 32-byte word) if the payment
    /// decoded.
    pub nonce: Option<String>,
    /// `None` when accepted; the reason string otherwise (see `RejectReason`).
    pub rejected: Option<String>,
}

/// Outcome of one heartbeat.
#[cw_serde]
pub struct HeartbeatResult {
    /// Index in the submitted `heartbeats`.
    pub index: u32,
    /// `None` when accepted; the reason otherwise.
    pub rejected: Option<String>,
}

/// Response data of `SubmitReceipts` (JSON in the tx result's data).
#[cw_serde]
pub struct SubmitReceiptsResponse {
    /// One per receipt, in order.
    pub receipts: Vec<ReceiptResult>,
    /// One per heartbeat, in order.
    pub heartbeats: Vec<HeartbeatResult>,
    /// Count of accepted receipts.
    pub accepted: u32,
    /// Count of rejected receipts.
    pub rejected: u32,
}

/// What a verified receipt amounts to.
#[cw_serde]
pub struct AcceptedReceipt {
    /// Node id.
    pub node_id: String,
    /// Model id.
    pub model_id: String,
    /// Provenance class of the model.
    pub provenance: Provenance,
    /// Payer, lowercase EVM address.
    pub payer: String,
    /// Payment nonce, `0x` + 64 hex: the EIP-3009 nonce, or the Permit2 nonce as its 32-byte
    /// big-endian word.
    pub nonce: String,
    /// Value in token units (for x402 `upto`: the settled amount, not the signed maximum).
    pub value: Uint128,
    /// Value in micro-USD (rounded down).
    pub value_micro_usd: Uint128,
    /// Epoch of `served_at`.
    pub epoch: u64,
}

/// `VerifyReceipt` answer.
#[cw_serde]
pub struct ReceiptVerdict {
    /// Accepted or not.
    pub valid: bool,
    /// Reason when not valid.
    pub reason: Option<String>,
    /// Details when valid.
    pub accepted: Option<AcceptedReceipt>,
}

/// `ReceiptStatus` answer.
#[cw_serde]
pub struct ReceiptStatusResponse {
    /// True once consumed.
    pub consumed: bool,
    /// The epoch it was counted in, when consumed and not yet pruned.
    pub epoch: Option<u64>,
    /// True when the nonce's epoch has been pruned (it was consumed or can no longer be).
    pub pruned: bool,
}
