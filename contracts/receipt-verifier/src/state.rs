//! Storage of the receipt verifier.
//!
//! # Consumed nonces: one write per accepted receipt
//!
//! A receipt consumes its payment's `(payer, nonce)`. The only write per accepted receipt is
//!
//! ```text
//! NONCES[(expiry_epoch, payer(20 bytes) || nonce(32 bytes))] = counted_epoch
//! ```
//!
//! where `counted_epoch` is the epoch of `served_at` (where the usage is counted) and
//! `expiry_epoch = epoch_of(validBefore - 1)` is the **last epoch in which this payment could ever
//! be served** (the core rejects `served_at` outside `[validAfter, validBefore)` with
//! `served_outside_payment_window`).
//!
//! Why the key is the payment's expiry epoch and not the `served_at` epoch: a replay of the same
//! payment does not have to reuse `served_at` (the node can sign a new receipt with a later one, up
//! to `validBefore`). Keyed by `served_at`, an entry pruned after its epoch closed could be replayed
//! with a `served_at` in a still-open epoch. Keyed by expiry, the argument is closed:
//!
//! * **Replay check is one read.** The same authorization (same `validBefore`) always maps to the
//!   same key, so `NONCES.has((expiry, key))` finds any earlier consumption that is not pruned.
//! * **Pruning is safe.** An entry is pruned only when `expiry_epoch` is no longer open for
//!   submission. Openness is monotone in the epoch, so every epoch `<= expiry_epoch` is closed too,
//!   and every possible `served_at` of that payment falls in one of them: any replay is rejected
//!   with `epoch_closed` before the nonce is looked at.
//! * **Nothing is written below the watermark.** An accepted receipt's `served_at` epoch is open, so
//!   its `expiry_epoch >= served epoch >= first open epoch >= PRUNE_WATERMARK` (the watermark never
//!   passes the first open epoch, which only grows with time).
//! * **A different authorization with the same `(payer, nonce)`** (the payer signs the nonce twice
//!   with another `validBefore`) maps to another key. Within a batch it is still caught
//!   (`duplicate_in_batch` is keyed by `(payer, nonce)` only). Across batches it is not looked up:
//!   the token contract lets only one of the two settle (EIP-3009 nonces are single use), so with
//!   `require_settlement` on, no honest facilitator attests the second; with it off, a payer can
//!   mint fresh nonces at will anyway, so reusing one gains nothing.
//!
//! Pruning walks `NONCES` in key order (epoch-major) from `PRUNE_WATERMARK` and stops at the first
//! open epoch or after `limit` entries, so it is bounded. `ReceiptStatus { payer, nonce }` does not
//! know the expiry epoch; it skip-scans the non-empty epochs `>= PRUNE_WATERMARK` (one seek per
//! epoch that holds entries, bounded by [`crate::query::MAX_STATUS_SEEKS`]).
use cosmwasm_schema::cw_serde;
use cosmwasm_std::{Addr, Binary, StdError, StdResult};
use cw_storage_plus::{Item, Map};
use opg_core::epoch::EpochClock;
use opg_core::types::NetworkConfig;
use opg_core::verify::VerifierPolicy;

/// cw2 contract name.
pub const CONTRACT_NAME: &str = "crates.io:opg-receipt-verifier";
/// cw2 contract version (the crate version).
pub const CONTRACT_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Length of a nonce key: 20-byte payer address followed by the 32-byte EIP-3009 nonce.
pub const NONCE_KEY_LEN: usize = 52;

/// A consumed-nonce key: `payer || nonce`.
pub type NonceKey = [u8; NONCE_KEY_LEN];

/// The verifier's config.
#[cw_serde]
pub struct Config {
    /// Governance address.
    pub governance: Addr,
    /// The node registry.
    pub registry: Addr,
    /// The reward pool (receives `RecordUsage`).
    pub reward_pool: Addr,
    /// Epoch clock, read from the pool at instantiation.
    pub clock: EpochClock,
    /// Accepted networks; asset addresses lowercase.
    pub networks: Vec<NetworkConfig>,
    /// Allow-listed facilitators, lowercase `0x` addresses.
    pub facilitators: Vec<String>,
    /// Whether receipts need a settlement attestation.
    pub require_settlement: bool,
    /// Maximum receipts + heartbeats per batch.
    pub max_batch: u32,
    /// `verifier_domain_separator(chain_id, address)`, 32 bytes, computed once at instantiation.
    pub domain_separator: Binary,
}

impl Config {
    /// The verification policy for the core.
    pub fn policy(&self) -> StdResult<VerifierPolicy<'_>> {
        let domain_separator: [u8; 32] = self
            .domain_separator
            .as_slice()
            .try_into()
            .map_err(|_| StdError::generic_err("stored domain separator is not 32 bytes"))?;
        Ok(VerifierPolicy {
            domain_separator,
            networks: &self.networks,
            facilitators: &self.facilitators,
            require_settlement: self.require_settlement,
            clock: self.clock,
        })
    }
}

/// The config.
pub const CONFIG: Item<Config> = Item::new("config");

/// Consumed nonces: `(expiry_epoch, payer || nonce) -> counted_epoch` (see the module docs).
pub const NONCES: Map<(u64, &[u8]), u64> = Map::new("n");

/// Every nonce whose expiry epoch is below this has been pruned, and those epochs are closed.
/// Absent means 0.
pub const PRUNE_WATERMARK: Item<u64> = Item::new("prune_wm");

/// Builds a nonce key from a 20-byte payer and a 32-byte nonce.
pub fn nonce_key(payer: &[u8; 20], nonce: &[u8; 32]) -> NonceKey {
    let mut key = [0u8; NONCE_KEY_LEN];
    key[..20].copy_from_slice(payer);
    key[20..].copy_from_slice(nonce);
    key
}

/// Parses `0x` + 64 hex (any case) into 32 bytes.
pub fn parse_nonce(s: &str) -> Option<[u8; 32]> {
    let h = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X"))?;
    if h.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    hex::decode_to_slice(h, &mut out).ok()?;
    Some(out)
}

/// The first epoch still open for submission at `now`: epochs below it are closed for good.
/// `open_for_submission(e, now)` iff `now < genesis + (e + 1) * L + grace`.
pub fn first_open_epoch(clock: &EpochClock, now: u64) -> u64 {
    match now.checked_sub(clock.genesis.saturating_add(clock.grace)) {
        Some(d) if clock.epoch_length > 0 => d / clock.epoch_length,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_open_epoch_matches_clock() {
        let clock = EpochClock {
            genesis: 1_000,
            epoch_length: 100,
            grace: 30,
        };
        for now in 0..1_600 {
            let first = first_open_epoch(&clock, now);
            assert!(clock.open_for_submission(first, now), "now {now}");
            if first > 0 {
                assert!(!clock.open_for_submission(first - 1, now), "now {now}");
            }
        }
    }

    #[test]
    fn nonce_parsing() {
        let n = format!("0x{}", "Ab".repeat(32));
        assert_eq!(parse_nonce(&n), Some([0xab; 32]));
        assert_eq!(parse_nonce(&"ab".repeat(32)), None);
        assert_eq!(parse_nonce("0x1234"), None);
        assert_eq!(parse_nonce(&format!("0x{}", "zz".repeat(32))), None);
        let key = nonce_key(&[1; 20], &[2; 32]);
        assert_eq!(&key[..20], &[1; 20]);
        assert_eq!(&key[20..], &[2; 32]);
    }
}
