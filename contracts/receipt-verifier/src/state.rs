//! Storage of the receipt verifier.
//!
//! # Consumed nonces: one write per accepted receipt
//!
//! A receipt consumes its payment's `(payer, nonce)`. The only write per accepted receipt is
//!
//! ```text
//! NONCES[(expiry_epoch, sha256(payer(20 bytes) || nonce(32 bytes))[..16])] = expiry_epoch - counted_epoch
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
//! # Key and value layout (gas)
//!
//! The write and the replay read are paid per receipt (30 and 3 SDK gas per key + value byte, on
//! top of the 33-byte contract prefix), so the entry is stored raw, not through a cw-storage-plus
//! map: key = `0x0001 'n'` (the length-prefixed namespace cw-storage-plus would write) ||
//! `expiry_epoch` (8 bytes, big-endian, so entries sort epoch-major and an epoch is one prefix) ||
//! the 16-byte **slot** `sha256(payer || nonce)[..16]`: 27 bytes instead of 65. The value is
//! `expiry_epoch - counted_epoch` as big-endian bytes without leading zeros (one byte, `0`, for the
//! usual receipt served in its payment's last epoch), from which `ReceiptStatus` recovers the
//! counted epoch. Truncating the hash to 128 bits is safe: a false "consumed" for someone else's
//! payment needs a second preimage of a 128-bit hash (2^128 work); a payer colliding two of its own
//! nonces (2^64 work) only gets its own second payment rejected. A slot never makes two different
//! `(payer, nonce)` look the same in a way that lets a replay through: a replay has the same slot.
//!
//! Pruning walks `NONCES` in key order (epoch-major) from `PRUNE_WATERMARK` and stops at the first
//! open epoch or after `limit` entries, so it is bounded. `ReceiptStatus { payer, nonce }` does not
//! know the expiry epoch; it skip-scans the non-empty epochs `>= PRUNE_WATERMARK` (one seek per
//! epoch that holds entries, bounded by [`crate::query::MAX_STATUS_SEEKS`]).
use cosmwasm_schema::cw_serde;
use cosmwasm_std::{Addr, Binary, Order, StdError, StdResult, Storage};
use cw_storage_plus::Item;
use opg_core::epoch::EpochClock;
use opg_core::types::NetworkConfig;
use opg_core::verify::{parse_evm_address, VerifierPolicy};

/// cw2 contract name.
pub const CONTRACT_NAME: &str = "crates.io:opg-receipt-verifier";
/// cw2 contract version (the crate version).
pub const CONTRACT_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Length of a nonce slot: the first 16 bytes of `sha256(payer || nonce)`.
pub const NONCE_SLOT_LEN: usize = 16;

/// A consumed nonce's slot: `sha256(payer(20 bytes) || nonce(32 bytes))[..16]`.
pub type NonceSlot = [u8; NONCE_SLOT_LEN];

/// Namespace of the consumed nonces, length-prefixed like cw-storage-plus: `0x0001 'n'`.
const NONCES_PREFIX: [u8; 3] = [0, 1, b'n'];
/// First key after every consumed nonce: `0x0001 'o'`.
const NONCES_END: [u8; 3] = [0, 1, b'n' + 1];
/// Length of a consumed-nonce storage key: namespace, 8-byte expiry epoch, slot.
const NONCE_ENTRY_KEY_LEN: usize = 3 + 8 + NONCE_SLOT_LEN;
/// Keys of the previous layout, a cw-storage-plus `Map<(u64, &[u8]), u64>` named `n`, start with
/// `0x0001 'n' 0x0008` (the length of the u64 key element), which would be an expiry epoch of
/// 2^51 or more in this layout: never written by this code. See [`has_legacy_nonces`].
const LEGACY_NONCES_PREFIX: [u8; 5] = [0, 1, b'n', 0, 8];

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
    /// The verification policy for the core, built once per batch: the facilitator list is
    /// parsed here, not per receipt.
    pub fn policy(&self) -> StdResult<VerifierPolicy<'_>> {
        let domain_separator: [u8; 32] = self
            .domain_separator
            .as_slice()
            .try_into()
            .map_err(|_| StdError::generic_err("stored domain separator is not 32 bytes"))?;
        Ok(VerifierPolicy {
            domain_separator,
            networks: &self.networks,
            facilitators: self
                .facilitators
                .iter()
                .map(|f| {
                    parse_evm_address(f).ok_or_else(|| {
                        StdError::generic_err(format!("stored facilitator {f} is not an address"))
                    })
                })
                .collect::<StdResult<_>>()?,
            require_settlement: self.require_settlement,
            clock: self.clock,
        })
    }
}

/// The config.
pub const CONFIG: Item<Config> = Item::new("config");

/// Every nonce whose expiry epoch is below this has been pruned, and those epochs are closed.
/// Absent means 0.
pub const PRUNE_WATERMARK: Item<u64> = Item::new("prune_wm");

/// The slot of `(payer, nonce)`: `sha256(payer || nonce)[..16]`.
pub fn nonce_slot(payer: &[u8; 20], nonce: &[u8; 32]) -> NonceSlot {
    use sha2::{Digest, Sha256};
    let digest = Sha256::new()
        .chain_update(payer)
        .chain_update(nonce)
        .finalize();
    let mut slot = [0u8; NONCE_SLOT_LEN];
    slot.copy_from_slice(&digest[..NONCE_SLOT_LEN]);
    slot
}

fn nonce_entry_key(expiry_epoch: u64, slot: &NonceSlot) -> [u8; NONCE_ENTRY_KEY_LEN] {
    let mut key = [0u8; NONCE_ENTRY_KEY_LEN];
    key[..3].copy_from_slice(&NONCES_PREFIX);
    key[3..11].copy_from_slice(&expiry_epoch.to_be_bytes());
    key[11..].copy_from_slice(slot);
    key
}

/// A stored consumed-nonce entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConsumedNonce {
    /// Last epoch the payment could be served in (the key's epoch).
    pub expiry_epoch: u64,
    /// `sha256(payer || nonce)[..16]`.
    pub slot: NonceSlot,
    /// Epoch the usage was counted in (of `served_at`).
    pub counted_epoch: u64,
}

fn decode_entry(key: &[u8], value: &[u8]) -> StdResult<ConsumedNonce> {
    let bad = || StdError::parse_err("ConsumedNonce", "malformed consumed-nonce entry");
    if key.len() != NONCE_ENTRY_KEY_LEN || !key.starts_with(&NONCES_PREFIX) {
        return Err(bad());
    }
    if value.is_empty() || value.len() > 8 {
        return Err(bad());
    }
    let mut epoch = [0u8; 8];
    epoch.copy_from_slice(&key[3..11]);
    let expiry_epoch = u64::from_be_bytes(epoch);
    let mut delta = [0u8; 8];
    delta[8 - value.len()..].copy_from_slice(value);
    let counted_epoch = expiry_epoch
        .checked_sub(u64::from_be_bytes(delta))
        .ok_or_else(bad)?;
    let mut slot = [0u8; NONCE_SLOT_LEN];
    slot.copy_from_slice(&key[11..]);
    Ok(ConsumedNonce {
        expiry_epoch,
        slot,
        counted_epoch,
    })
}

/// The counted epoch of a consumed nonce, `None` if `(expiry_epoch, slot)` is not consumed.
/// One storage read. Errors: `ParseErr` on a malformed stored value.
pub fn consumed_nonce(
    store: &dyn Storage,
    expiry_epoch: u64,
    slot: &NonceSlot,
) -> StdResult<Option<u64>> {
    let key = nonce_entry_key(expiry_epoch, slot);
    match store.get(&key) {
        None => Ok(None),
        Some(value) => decode_entry(&key, &value).map(|e| Some(e.counted_epoch)),
    }
}

/// Records a consumed nonce (one storage write of a 27-byte key and, in the usual case, a 1-byte
/// value). Errors: `Overflow` if `counted_epoch > expiry_epoch` (a payment cannot be served after
/// its last epoch; the caller guarantees it).
pub fn consume_nonce(
    store: &mut dyn Storage,
    expiry_epoch: u64,
    slot: &NonceSlot,
    counted_epoch: u64,
) -> StdResult<()> {
    let delta = expiry_epoch.checked_sub(counted_epoch).ok_or_else(|| {
        StdError::overflow(cosmwasm_std::OverflowError::new(
            cosmwasm_std::OverflowOperation::Sub,
        ))
    })?;
    let bytes = delta.to_be_bytes();
    let skip = ((delta.leading_zeros() / 8) as usize).min(7);
    store.set(&nonce_entry_key(expiry_epoch, slot), &bytes[skip..]);
    Ok(())
}

/// Removes a consumed nonce.
pub fn remove_nonce(store: &mut dyn Storage, expiry_epoch: u64, slot: &NonceSlot) {
    store.remove(&nonce_entry_key(expiry_epoch, slot));
}

/// Consumed nonces in key order (expiry epoch, then slot), from `(from_epoch, from_slot)`
/// inclusive (`from_slot` `None`: the whole epoch). Errors per item: `ParseErr` on a malformed
/// entry.
pub fn nonces_from<'a>(
    store: &'a dyn Storage,
    from_epoch: u64,
    from_slot: Option<&NonceSlot>,
) -> impl Iterator<Item = StdResult<ConsumedNonce>> + 'a {
    let start = nonce_entry_key(from_epoch, from_slot.unwrap_or(&[0; NONCE_SLOT_LEN]));
    store
        .range(Some(&start), Some(&NONCES_END), Order::Ascending)
        .map(|(k, v)| decode_entry(&k, &v))
}

/// Whether consumed nonces of the previous layout (`Map<(u64, payer || nonce), u64>` named `n`,
/// before compact keys) are stored. This code cannot see them, so `migrate` refuses to
/// run while any is left (one storage seek).
pub fn has_legacy_nonces(store: &dyn Storage) -> bool {
    let mut end = LEGACY_NONCES_PREFIX;
    end[4] += 1;
    store
        .range(Some(&LEGACY_NONCES_PREFIX), Some(&end), Order::Ascending)
        .next()
        .is_some()
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
        assert_eq!(opg_core::verify::parse_nonce(&n), Some([0xab; 32]));
        assert_eq!(opg_core::verify::parse_nonce(&"ab".repeat(32)), None);
        assert_eq!(opg_core::verify::parse_nonce("0x1234"), None);
        assert_eq!(
            opg_core::verify::parse_nonce(&format!("0x{}", "zz".repeat(32))),
            None
        );
    }

    #[test]
    fn nonce_entries_round_trip_in_epoch_order() {
        let mut store = cosmwasm_std::testing::MockStorage::new();
        let a = nonce_slot(&[1; 20], &[2; 32]);
        let b = nonce_slot(&[1; 20], &[3; 32]);
        assert_ne!(a, b);
        assert_ne!(a, nonce_slot(&[2; 20], &[2; 32]));
        assert_eq!(consumed_nonce(&store, 5, &a).unwrap(), None);
        consume_nonce(&mut store, 5, &a, 5).unwrap();
        consume_nonce(&mut store, 9, &b, 2).unwrap();
        consume_nonce(&mut store, 300, &a, 1).unwrap();
        // The usual entry: 27-byte key, 1-byte value.
        let key = nonce_entry_key(5, &a);
        assert_eq!(key.len(), 27);
        assert_eq!(cosmwasm_std::Storage::get(&store, &key), Some(vec![0]));
        assert_eq!(consumed_nonce(&store, 5, &a).unwrap(), Some(5));
        assert_eq!(consumed_nonce(&store, 9, &b).unwrap(), Some(2));
        assert_eq!(consumed_nonce(&store, 300, &a).unwrap(), Some(1));
        assert_eq!(consumed_nonce(&store, 6, &a).unwrap(), None);
        assert!(consume_nonce(&mut store, 4, &a, 5).is_err());

        let all: Vec<(u64, u64)> = nonces_from(&store, 0, None)
            .map(|e| e.map(|e| (e.expiry_epoch, e.counted_epoch)))
            .collect::<StdResult<_>>()
            .unwrap();
        assert_eq!(all, vec![(5, 5), (9, 2), (300, 1)]);
        let from_9: Vec<u64> = nonces_from(&store, 6, None)
            .map(|e| e.unwrap().expiry_epoch)
            .collect();
        assert_eq!(from_9, vec![9, 300]);
        remove_nonce(&mut store, 9, &b);
        assert_eq!(consumed_nonce(&store, 9, &b).unwrap(), None);
        assert!(!has_legacy_nonces(&store));
    }

    #[test]
    fn legacy_nonce_entries_are_detected() {
        let mut store = cosmwasm_std::testing::MockStorage::new();
        let legacy: cw_storage_plus::Map<(u64, &[u8]), u64> = cw_storage_plus::Map::new("n");
        legacy.save(&mut store, (3, &[7u8; 52][..]), &3).unwrap();
        assert!(has_legacy_nonces(&store));
    }
}
