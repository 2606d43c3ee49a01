//! # reward-pool
//!
//! The opg reward pool (DESIGN §4, rewards v2): epochs, per-node usage tallies of calls, raw and
//! counted value (each call counts `min(value, v_cap)`; no per-payer state), provenance
//! multipliers with a bootstrap taper for community usage, a capped hardware stipend for live
//! local nodes, lazy pull-based claims with a claim window, and per-epoch transparency reports.
//! Messages are in [`opg_core::msg::pool`].
//!
//! Reward of node `n` in epoch `e` (uopg, rounded down): `usage(n) + stipend(n)` with
//! `B = min(emission, balance - reserved)`, `U = floor((1 - alpha) B)`, `H = floor(alpha B)`,
//! `D = m_c EffC + m_m EffM`, the rate `rho = min(U / D, c_call / (m_max v_cap))`,
//! `usage(n) = floor(rho m(n) eff(n))` and `stipend(n) = min(floor(H hw(n) / W), stipend_cap)`.
//! What the classes are awarded is reserved at finalization and every payout is checked against
//! it; the rest of `B` stays in the pool, and so does what is unclaimed `claim_epochs` later.
//! No call earns more than `c_call`. The maths is in [`maths`], pure and property-tested.
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
