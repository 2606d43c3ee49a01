//! Errors of the receipt verifier. A bad receipt never errors: it is rejected with a reason in the
//! response data. These errors fail a whole message.
use cosmwasm_std::StdError;
use thiserror::Error;

/// Errors of the receipt verifier.
#[derive(Error, Debug, PartialEq)]
pub enum ContractError {
    /// A storage, serialization, address or querier error.
    #[error(transparent)]
    Std(#[from] StdError),

    /// The sender is not the governance address.
    #[error("unauthorized: {sender} is not governance")]
    Unauthorized {
        /// The sender.
        sender: String,
    },

    /// `SubmitReceipts` with no receipt and no heartbeat.
    #[error("empty batch: no receipts and no heartbeats")]
    EmptyBatch {},

    /// `SubmitReceipts` with more receipts + heartbeats than `max_batch`.
    #[error("batch too large: {got} items, at most {max}")]
    BatchTooLarge {
        /// The configured `max_batch`.
        max: u32,
        /// Receipts + heartbeats submitted.
        got: u64,
    },

    /// `max_batch` outside `1..=500`.
    #[error("invalid max_batch {max_batch}: must be in 1..=500")]
    InvalidMaxBatch {
        /// The value given.
        max_batch: u32,
    },

    /// A governance change of a number by more than one step (x2 or /2) at once.
    #[error("{param} may move one step per change (x2 or /2): {new} is outside {min}..={max} from {old}")]
    ConfigStep {
        /// The config field.
        param: String,
        /// Its current value.
        old: u64,
        /// The value given.
        new: u64,
        /// Least allowed (`old / 2`, rounded down).
        min: u64,
        /// Greatest allowed (`2 * old`).
        max: u64,
    },

    /// A facilitator list longer than the cap ([`crate::validate::MAX_FACILITATORS`]): every
    /// settled receipt is checked against it.
    #[error("too many facilitators: {got}, at most {max}")]
    TooManyFacilitators {
        /// The cap.
        max: usize,
        /// How many were given.
        got: usize,
    },

    /// `PruneNonces` limit outside `1..=1000`.
    #[error("invalid prune limit {limit}: must be in 1..=1000")]
    InvalidPruneLimit {
        /// The value given.
        limit: u32,
    },

    /// Two networks with the same EVM chain id.
    #[error("duplicate network chain id {chain_id}")]
    DuplicateChainId {
        /// The chain id.
        chain_id: u64,
    },

    /// A network with chain id 0 or an empty name.
    #[error("invalid network {chain_id} '{name}': chain id must be > 0 and name non-empty")]
    InvalidNetwork {
        /// The chain id.
        chain_id: u64,
        /// The name.
        name: String,
    },

    /// An asset address is not `0x` + 40 hex.
    #[error("invalid asset address '{address}' on chain {chain_id}")]
    InvalidAssetAddress {
        /// The network.
        chain_id: u64,
        /// The address given.
        address: String,
    },

    /// The same asset listed twice on one network.
    #[error("duplicate asset {address} on chain {chain_id}")]
    DuplicateAsset {
        /// The network.
        chain_id: u64,
        /// The address (lowercase).
        address: String,
    },

    /// Asset decimals above 30.
    #[error("invalid decimals {decimals} for asset {address} on chain {chain_id}: at most 30")]
    InvalidDecimals {
        /// The network.
        chain_id: u64,
        /// The asset (lowercase).
        address: String,
        /// The decimals given.
        decimals: u8,
    },

    /// A facilitator address is not `0x` + 40 hex.
    #[error("invalid facilitator address '{address}'")]
    InvalidFacilitator {
        /// The address given.
        address: String,
    },

    /// The same facilitator listed twice.
    #[error("duplicate facilitator {address}")]
    DuplicateFacilitator {
        /// The address (lowercase).
        address: String,
    },

    /// The reward pool's epoch clock has `epoch_length == 0`.
    #[error("the reward pool's epoch clock has epoch_length 0")]
    InvalidClock {},

    /// `ReceiptStatus`: the payer is not `0x` + 40 hex.
    #[error("invalid payer address '{payer}'")]
    InvalidPayer {
        /// The value given.
        payer: String,
    },

    /// `ReceiptStatus`: the nonce is not `0x` + 64 hex.
    #[error("invalid nonce '{nonce}': expected 0x + 64 hex")]
    InvalidNonce {
        /// The value given.
        nonce: String,
    },

    /// `ReceiptStatus` looked at more non-empty nonce epochs than it may in one query; pruning
    /// (`PruneNonces`) shrinks the range.
    #[error(
        "receipt status scan exceeded {seeks} seeks from epoch {from_epoch}; prune nonces first"
    )]
    StatusScanLimit {
        /// Seeks made.
        seeks: u32,
        /// The prune watermark the scan started at.
        from_epoch: u64,
    },

    /// `migrate` from another contract.
    #[error("cannot migrate from contract '{found}', expected '{expected}'")]
    WrongContract {
        /// This contract's cw2 name.
        expected: String,
        /// The stored cw2 name.
        found: String,
    },

    /// `migrate` to an older version.
    #[error("cannot migrate from version {stored} down to {current}")]
    Downgrade {
        /// The stored version.
        stored: String,
        /// This code's version.
        current: String,
    },

    /// A version string is not semver.
    #[error("invalid semver version '{version}'")]
    InvalidVersion {
        /// The string.
        version: String,
    },

    /// `migrate` while consumed nonces of the previous storage layout (full `payer || nonce` keys)
    /// are stored: this code cannot see them, so they would become replayable. Prune them with the
    /// running code first (`PruneNonces` once their payments' epochs have closed).
    #[error(
        "consumed nonces of the previous storage layout are left; prune them before migrating"
    )]
    LegacyNoncesLeft {},
}
