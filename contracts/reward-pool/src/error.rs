//! Errors of the reward pool.
use cosmwasm_std::{Addr, StdError, Uint128};
use cw_utils::PaymentError;
use thiserror::Error;

use crate::maths::MathError;

/// Everything the pool can refuse, with the values that explain it.
#[derive(Error, Debug, PartialEq)]
pub enum ContractError {
    /// Storage, serialization or querier failure.
    #[error("{0}")]
    Std(#[from] StdError),

    /// Checked arithmetic failed (overflow, division by zero, conversion).
    #[error("{0}")]
    Math(#[from] MathError),

    /// `Fund` without exactly the pool's denom attached.
    #[error("{0}")]
    Payment(#[from] PaymentError),

    /// The sender may not send this message (`RecordUsage`: not the verifier; governance
    /// messages: not governance).
    #[error("unauthorized: {sender} may not {action}")]
    Unauthorized {
        /// The sender.
        sender: Addr,
        /// What it tried (`record_usage`, `update_params`, `update_config`).
        action: String,
    },

    /// `Claim` by someone else than the node's operator in the registry.
    #[error("{sender} is not the operator of node {node_id} (operator: {operator})")]
    NotOperator {
        /// The node.
        node_id: String,
        /// The sender.
        sender: Addr,
        /// The registered operator.
        operator: Addr,
    },

    /// The registry did not answer the `Node` query (unknown node or misconfigured registry).
    #[error("registry query for node {node_id} failed: {reason}")]
    RegistryQueryFailed {
        /// The node.
        node_id: String,
        /// The querier's error.
        reason: String,
    },

    /// `RecordUsage` for an epoch that is already finalized.
    #[error("epoch {epoch} is finalized")]
    EpochFinalized {
        /// The epoch.
        epoch: u64,
    },

    /// `RecordUsage` for an epoch that has not started (its params could still change).
    #[error("epoch {epoch} has not started (starts at {starts_at})")]
    EpochNotStarted {
        /// The epoch.
        epoch: u64,
        /// Its start (unix seconds).
        starts_at: u64,
    },

    /// A usage entry whose counted value is impossible: above its raw value or above
    /// `calls * v_cap` of its epoch.
    #[error("invalid usage of node {node_id} in epoch {epoch}: {reason}")]
    InvalidUsage {
        /// The node.
        node_id: String,
        /// The epoch.
        epoch: u64,
        /// What is wrong, with the figures.
        reason: String,
    },

    /// A node's usage or liveness in one epoch with two provenance classes.
    #[error("node {node_id} is {recorded} in epoch {epoch}, got {got}")]
    ProvenanceMismatch {
        /// The node.
        node_id: String,
        /// The epoch.
        epoch: u64,
        /// The class already recorded.
        recorded: String,
        /// The class of the new entry (liveness counts as `community`).
        got: String,
    },

    /// `FinalizeEpoch` before `end(epoch) + grace`.
    #[error("epoch {epoch} cannot be finalized before {ends_at}")]
    EpochNotOver {
        /// The epoch.
        epoch: u64,
        /// `end(epoch) + grace` (unix seconds).
        ends_at: u64,
    },

    /// `FinalizeEpoch` for another epoch than the next unfinalized one.
    #[error("epochs are finalized in order: expected {expected}, got {got}")]
    EpochOutOfOrder {
        /// The next epoch to finalize.
        expected: u64,
        /// The epoch asked for.
        got: u64,
    },

    /// `Claim` with no unclaimed finalized epoch for the node.
    #[error("nothing to claim for node {node_id}")]
    NothingToClaim {
        /// The node.
        node_id: String,
    },

    /// A payout would exceed what was reserved for the epoch (an invariant; never expected).
    #[error("epoch {epoch}: paying {amount} on top of {paid} exceeds the payable budget {budget}")]
    BudgetExceeded {
        /// The epoch.
        epoch: u64,
        /// Already paid (uopg).
        paid: Uint128,
        /// This payout (uopg).
        amount: Uint128,
        /// Reserved for the epoch (uopg).
        budget: Uint128,
    },

    /// A reward parameter outside its bounds.
    #[error("parameter {param} out of bounds: {reason}")]
    ParamOutOfBounds {
        /// Field name of `RewardParams`.
        param: String,
        /// Which bound failed.
        reason: String,
    },

    /// An epoch clock with `epoch_length == 0`.
    #[error("invalid epoch clock: {reason}")]
    InvalidClock {
        /// Why.
        reason: String,
    },

    /// An empty reward denom.
    #[error("invalid denom: {denom:?}")]
    InvalidDenom {
        /// The denom.
        denom: String,
    },

    /// `migrate` from another contract.
    #[error("cannot migrate from contract {got} (expected {expected})")]
    MigrateWrongContract {
        /// This contract's name.
        expected: String,
        /// The stored name.
        got: String,
    },

    /// `migrate` to an older version.
    #[error("cannot migrate from version {from} down to {to}")]
    MigrateDowngrade {
        /// The stored version.
        from: String,
        /// This code's version.
        to: String,
    },

    /// A stored or compiled version that is not semver.
    #[error("invalid contract version {version:?}: {reason}")]
    InvalidVersion {
        /// The version string.
        version: String,
        /// The parse error.
        reason: String,
    },
}

impl From<cosmwasm_std::OverflowError> for ContractError {
    fn from(e: cosmwasm_std::OverflowError) -> Self {
        ContractError::Math(MathError::Overflow(e))
    }
}
