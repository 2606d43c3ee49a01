//! # node-registry
//!
//! The opg node registry (DESIGN §5): nodes (proxy nodes serving commercial models, local nodes
//! serving community models on attested hardware) with their signing keys, bonds and models; the
//! governance-kept model list (model id -> commercial or community) and the hardware attester list.
//! Messages are defined in [`opg_core::msg::registry`].
pub mod contract;
pub mod error;
pub mod governance;
pub mod migration;
pub mod nodes;
pub mod queries;
pub mod state;
pub mod validate;

#[cfg(test)]
mod tests;

pub use crate::error::ContractError;
