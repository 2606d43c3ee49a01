//! Errors of the node registry.
use cosmwasm_std::{Addr, CheckedMultiplyFractionError, Decimal, OverflowError, StdError, Uint128};
use cw_utils::PaymentError;
use thiserror::Error;

/// Everything the registry can refuse, with the values that explain it.
#[derive(Error, Debug, PartialEq)]
pub enum ContractError {
    /// A storage or serialization error.
    #[error("{0}")]
    Std(#[from] StdError),

    /// The attached funds are not exactly one coin of the bond denom (or are attached where none are
    /// expected).
    #[error("{0}")]
    Payment(#[from] PaymentError),

    /// Checked arithmetic on a bond overflowed.
    #[error("{0}")]
    Overflow(#[from] OverflowError),

    /// Checked fraction arithmetic on a bond failed.
    #[error("{0}")]
    Fraction(#[from] CheckedMultiplyFractionError),

    /// A governance message from someone other than the governance address.
    #[error("unauthorized: {sender} is not the governance address")]
    Unauthorized {
        /// Who sent it.
        sender: Addr,
    },

    /// An operator-only message from someone other than the node's operator.
    #[error("sender is not the operator of node {node_id}")]
    NotOperator {
        /// The node.
        node_id: String,
    },

    /// An invalid instantiate or `UpdateConfig` value.
    #[error("invalid config: {reason}")]
    InvalidConfig {
        /// What is wrong.
        reason: String,
    },

    /// A node id outside 3..=64 chars of `[a-z0-9-_.]`.
    #[error("invalid node id {node_id:?}: 3-64 chars of [a-z0-9-_.]")]
    InvalidNodeId {
        /// The rejected id.
        node_id: String,
    },

    /// `Register` with an id that is taken.
    #[error("node {node_id} already exists")]
    NodeExists {
        /// The node.
        node_id: String,
    },

    /// `Register` with the id of a withdrawn node: node ids are never reused, so a new operator
    /// cannot collect the rewards the withdrawn node left unclaimed (DESIGN §5).
    #[error("node id {node_id} belonged to a withdrawn node and is never reused")]
    NodeIdRetired {
        /// The node.
        node_id: String,
    },

    /// An operator or governance action on a node whose bond was withdrawn: it stays on record only
    /// so its operator can be paid.
    #[error("node {node_id} is withdrawn")]
    NodeWithdrawn {
        /// The node.
        node_id: String,
    },

    /// No node with this id.
    #[error("node {node_id} not found")]
    NodeNotFound {
        /// The node.
        node_id: String,
    },

    /// The bond attached to `Register` is below `min_bond`.
    #[error("bond too low: required {required}, sent {sent}")]
    BondTooLow {
        /// `min_bond` (uopg).
        required: Uint128,
        /// Attached (uopg).
        sent: Uint128,
    },

    /// A malformed node key (secp256k1: not an EVM address; ed25519: not 32 bytes).
    #[error("invalid node key: {reason}")]
    InvalidKey {
        /// What is wrong.
        reason: String,
    },

    /// A malformed EVM address.
    #[error("invalid address in field {field}")]
    InvalidAddress {
        /// The message field holding it (`pay_to`, `address`, `attester`).
        field: String,
    },

    /// A free-text field (endpoint, upstream, hardware class, jail reason) that is empty or too long.
    #[error("invalid {field}: {reason}")]
    InvalidField {
        /// The message field.
        field: String,
        /// What is wrong.
        reason: String,
    },

    /// A model list outside 1..=64 entries or with duplicates.
    #[error("invalid model list: {reason}")]
    InvalidModels {
        /// What is wrong.
        reason: String,
    },

    /// A listed model that is unknown or whose provenance does not match the node's kind.
    #[error("model {model} not allowed: {reason}")]
    ModelNotAllowed {
        /// The model id.
        model: String,
        /// Why (`unknown model`, `commercial model on a local node`, ...).
        reason: String,
    },

    /// A model id that is empty or longer than 128 bytes.
    #[error("invalid model id {id:?}: 1-128 bytes")]
    InvalidModelId {
        /// The rejected id.
        id: String,
    },

    /// A weights digest that is not 32 bytes.
    #[error("invalid weights digest: {len} bytes, expected 32")]
    InvalidWeightsDigest {
        /// Its length in bytes.
        len: usize,
    },

    /// No model with this id.
    #[error("model {id} not found")]
    ModelNotFound {
        /// The model id.
        id: String,
    },

    /// The address is not on the attester list.
    #[error("attester {address} is not allow-listed")]
    AttesterNotAllowed {
        /// Lowercase EVM address.
        address: String,
    },

    /// `RemoveAttester` for an address not on the list.
    #[error("attester {address} not found")]
    AttesterNotFound {
        /// Lowercase EVM address.
        address: String,
    },

    /// The attestation expired at or before the current block time.
    #[error("attestation expired at {expires_at}, now {now}")]
    AttestationExpired {
        /// Its expiry (unix seconds).
        expires_at: u64,
        /// Block time (unix seconds).
        now: u64,
    },

    /// An attestation valid for longer than `max_attestation_validity` from now.
    #[error("attestation expires at {expires_at}, after the latest allowed {max_expires_at} (now + max_attestation_validity)")]
    AttestationTooLong {
        /// Its expiry (unix seconds).
        expires_at: u64,
        /// Block time + `max_attestation_validity` (unix seconds).
        max_expires_at: u64,
    },

    /// A governance-set number outside its absolute bounds, or changed by more than one step
    /// (x2 or /2) at once.
    #[error("config {param} out of bounds: {reason}")]
    ConfigOutOfBounds {
        /// The config field.
        param: String,
        /// The bound it breaks.
        reason: String,
    },

    /// The attestation's signature does not recover its attester over the expected digest, or its
    /// fields are malformed.
    #[error("invalid attestation: {reason}")]
    InvalidAttestation {
        /// What is wrong.
        reason: String,
    },

    /// A new key on a local node without a new attestation bound to it.
    #[error("node {node_id}: a new key on a local node needs an attestation bound to it")]
    AttestationRequired {
        /// The node.
        node_id: String,
    },

    /// A field that does not apply to the node's kind (an attestation on a proxy node, an upstream on
    /// a local node).
    #[error("node {node_id} is a {kind} node: {field} does not apply")]
    WrongKind {
        /// The node.
        node_id: String,
        /// Its kind (`proxy` or `local`).
        kind: String,
        /// The field that does not apply.
        field: String,
    },

    /// The node is jailed.
    #[error("node {node_id} is jailed")]
    NodeJailed {
        /// The node.
        node_id: String,
    },

    /// `Unjail` of a node that is not jailed.
    #[error("node {node_id} is not jailed")]
    NotJailed {
        /// The node.
        node_id: String,
    },

    /// The node is unbonding (deregistered): it can only be withdrawn.
    #[error("node {node_id} is unbonding")]
    NodeUnbonding {
        /// The node.
        node_id: String,
    },

    /// `WithdrawBond` of a node that has not deregistered.
    #[error("node {node_id} is not unbonding: deregister first")]
    NotUnbonding {
        /// The node.
        node_id: String,
    },

    /// `WithdrawBond` before the unbonding period ended.
    #[error("still unbonding until {until}")]
    StillUnbonding {
        /// Unix seconds when the bond becomes withdrawable.
        until: u64,
    },

    /// A slash fraction outside `(0, 1]`.
    #[error("invalid slash fraction {fraction}: must be in (0, 1]")]
    InvalidFraction {
        /// The rejected fraction.
        fraction: Decimal,
    },

    /// A slash with a positive amount while no reward pool is configured.
    #[error("no reward pool configured to receive slashed funds")]
    NoRewardPool {},

    /// More ids in `NodesByIds` than allowed.
    #[error("too many {what}: {got}, at most {max}")]
    TooManyIds {
        /// `ids` or `models`.
        what: String,
        /// The limit.
        max: usize,
        /// How many were sent.
        got: usize,
    },

    /// `migrate` from another contract.
    #[error("cannot migrate from contract {previous_contract}")]
    WrongContract {
        /// The stored cw2 contract name.
        previous_contract: String,
    },

    /// `migrate` to an older version.
    #[error("cannot migrate from version {previous_version} down to {new_version}")]
    Downgrade {
        /// Stored version.
        previous_version: String,
        /// This code's version.
        new_version: String,
    },

    /// A version string that is not semver.
    #[error("invalid version {version}")]
    InvalidVersion {
        /// The string.
        version: String,
    },
}
