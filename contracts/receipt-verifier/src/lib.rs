//! # receipt-verifier
//!
//! The opg receipt verifier (DESIGN §3): anyone submits batches of x402-paid inference receipts
//! and local-node heartbeats; each is checked with the shared verification core
//! ([`opg_core::verify`], crypto via `deps.api`, the same code the keeper runs off chain),
//! `(payer, nonce)` replay is refused, and accepted usage goes to the reward pool in one
//! `RecordUsage` per batch. Messages: [`opg_core::msg::verifier`].
//!
//! Modules: [`contract`] (entry points), [`submit`] (`SubmitReceipts`), [`receipts`] (checks
//! shared with the `VerifyReceipt` query), [`prune`] (`PruneNonces`), [`governance`]
//! (`UpdateConfig`, sudo), [`query`], [`migrate`], [`state`] (storage and the nonce design),
//! [`validate`], [`error`].
pub mod contract;
pub mod error;
pub mod governance;
pub mod migrate;
pub mod prune;
pub mod query;
pub mod receipts;
pub mod state;
pub mod submit;
pub mod validate;

pub use crate::error::ContractError;
