//! # reward-pool
//!
//! The opg reward pool (DESIGN §4): epochs, per-node usage tallies with a per-payer cap,
//! provenance multipliers with a bootstrap taper for community usage, a hardware stipend for live
//! local nodes, lazy pull-based claims and per-epoch transparency reports. Messages are in
//! [`opg_core::msg::pool`].
//!
//! Reward of node `n` in epoch `e` (uopg, rounded down):
//! `floor(U * m(n) eff(n) / D) + floor(H * hw(n) / W)`, with `B = min(emission, balance - reserved)`,
//! `H = floor(alpha B)` if some live local node has weight (else 0), `U = B - floor(alpha B)` if
//! `D = m_c EffC + m_m EffM > 0` (else 0); `U + H` is reserved at finalization and every payout is
//! checked against it. The maths is in [`maths`], pure and property-tested.
pub mod claim;
pub mod contract;
pub mod error;
pub mod finalize;
pub mod governance;
pub mod maths;
pub mod migrate;
pub mod params;
pub mod query;
pub mod state;
pub mod usage;

#[cfg(test)]
mod testing;

pub use crate::error::ContractError;
