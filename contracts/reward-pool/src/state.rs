//! Storage of the reward pool.
use cosmwasm_schema::cw_serde;
use cosmwasm_std::{Addr, Decimal, Order, StdError, StdResult, Storage, Uint128, Uint256};
use cw_storage_plus::{Bound, Item, Map};
use opg_core::epoch::EpochClock;
use opg_core::msg::pool::RewardParams;
use opg_core::types::Provenance;

use crate::maths::EpochFigures;

/// Config: who may do what, the denom and the clock.
#[cw_serde]
pub struct Config {
    /// Governance address.
    pub governance: Addr,
    /// Node registry (operators are looked up there for claims).
    pub registry: Addr,
    /// The only sender of `RecordUsage`; `None` until set.
    pub verifier: Option<Addr>,
    /// Reward denom.
    pub denom: String,
    /// The epoch clock (immutable).
    pub clock: EpochClock,
}

/// The config.
pub const CONFIG: Item<Config> = Item::new("config");
/// The next epoch `FinalizeEpoch` accepts; every lower epoch is finalized.
pub const NEXT_TO_FINALIZE: Item<u64> = Item::new("next_to_finalize");
/// uopg reserved for finalized epochs and not yet paid out: unavailable to new budgets.
pub const RESERVED: Item<Uint128> = Item::new("reserved");
/// Params history: `from_epoch -> params`; the params of epoch `e` are the entry with the greatest
/// `from_epoch <= e`.
pub const PARAMS: Map<u64, RewardParams> = Map::new("params");

/// Running totals of one provenance class in one epoch.
#[cw_serde]
#[derive(Default)]
pub struct ClassTotals {
    /// Nodes with at least one usage entry.
    pub nodes: u32,
    /// Calls.
    pub calls: u64,
    /// Raw value (micro-USD).
    pub raw_value: Uint128,
    /// Effective value after the payer cap (micro-USD).
    pub effective_value: Uint128,
}

/// Running totals of one epoch, kept as usage is recorded so finalization never iterates nodes.
#[cw_serde]
#[derive(Default)]
pub struct EpochTotals {
    /// Commercial class.
    pub commercial: ClassTotals,
    /// Community class.
    pub community: ClassTotals,
    /// Live local nodes.
    pub live_local_nodes: u32,
    /// Sum of their hardware weights `W`.
    pub hardware_weight_total: Decimal,
    /// Nodes with a tally (usage or liveness) in the epoch.
    pub tallies: u32,
}

impl EpochTotals {
    /// The totals of a class.
    pub fn class(&self, p: Provenance) -> &ClassTotals {
        match p {
            Provenance::Commercial => &self.commercial,
            Provenance::Community => &self.community,
        }
    }
    /// The totals of a class, mutably.
    pub fn class_mut(&mut self, p: Provenance) -> &mut ClassTotals {
        match p {
            Provenance::Commercial => &mut self.commercial,
            Provenance::Community => &mut self.community,
        }
    }
    /// Raw value of both classes (micro-USD).
    pub fn total_raw(&self) -> StdResult<Uint128> {
        Ok(self
            .commercial
            .raw_value
            .checked_add(self.community.raw_value)?)
    }
}

/// Totals of each epoch that has usage or liveness.
pub const EPOCH_TOTALS: Map<u64, EpochTotals> = Map::new("epoch_totals");

/// A node's tally in one epoch.
#[cw_serde]
pub struct Tally {
    /// Provenance class (liveness alone makes a node `community`).
    pub provenance: Provenance,
    /// Whether a usage entry was recorded (the node counts in its class's `nodes`).
    pub has_usage: bool,
    /// Calls.
    pub calls: u64,
    /// Raw value (micro-USD).
    pub raw_value: Uint128,
    /// Effective value after the payer cap (micro-USD).
    pub effective_value: Uint128,
    /// Hardware class and its weight, if the node was a live local node.
    pub live: Option<LiveTally>,
}

/// Liveness of a local node in an epoch.
#[cw_serde]
pub struct LiveTally {
    /// Attested hardware class.
    pub hardware_class: String,
    /// Its weight in the params of the epoch (0 for unknown classes).
    pub weight: Decimal,
}

/// `(node_id, epoch) -> tally`: per node, the epochs it has a tally in (claims range over these).
pub const TALLIES: Map<(&str, u64), Tally> = Map::new("tallies");
/// Namespace of the payer-cap contributions (see [`payer_contrib_key`]).
pub const PAYER_CONTRIB_NAMESPACE: &[u8] = b"pc";

/// Length of a [`payer_contrib_key`]: 2-byte namespace length + `pc` + 8-byte epoch + 16-byte hash.
pub const PAYER_CONTRIB_KEY_LEN: usize = 2 + 2 + 8 + 16;

/// The storage key of the cumulative raw value (micro-USD) `payer` paid `node_id` in `epoch`, for
/// the payer cap. One read and one write per usage entry, so it is kept small: the cw-storage-plus
/// layout of a map `pc` (length-prefixed namespace) followed by the big-endian epoch (so an epoch's
/// entries are one prefix) and `sha256(len(node_id) as u32 BE || node_id || payer)[..16]`, with
/// `payer` as given (callers lowercase it). The length prefix makes `(node_id, payer)` injective
/// before hashing; finding a different pair with the same 128-bit hash is a second-preimage search
/// (2^128 work), so nobody can make another payer's value count against a victim's cap, and a
/// payer's own birthday collision (2^64 work) would only merge two of its own contributions.
pub fn payer_contrib_key(epoch: u64, node_id: &str, payer: &str) -> [u8; PAYER_CONTRIB_KEY_LEN] {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    // Node ids are far shorter than 4 GiB; saturating keeps this total.
    hasher.update(
        u32::try_from(node_id.len())
            .unwrap_or(u32::MAX)
            .to_be_bytes(),
    );
    hasher.update(node_id.as_bytes());
    hasher.update(payer.as_bytes());
    let digest = hasher.finalize();
    let mut key = [0u8; PAYER_CONTRIB_KEY_LEN];
    key[..2].copy_from_slice(&(PAYER_CONTRIB_NAMESPACE.len() as u16).to_be_bytes());
    key[2..4].copy_from_slice(PAYER_CONTRIB_NAMESPACE);
    key[4..12].copy_from_slice(&epoch.to_be_bytes());
    key[12..].copy_from_slice(&digest[..16]);
    key
}

/// A payer's raw value (micro-USD) to a node in an epoch, clamped to that epoch's `payer_cap`,
/// under a [`payer_contrib_key`]; zero when absent.
/// Stored as the big-endian bytes of the `u128` without leading zero bytes (at least one byte).
/// Errors: `Std(ParseErr)` if the stored value is not 1 to 16 bytes.
pub fn load_payer_contrib(store: &dyn Storage, key: &[u8]) -> StdResult<Uint128> {
    match store.get(key) {
        None => Ok(Uint128::zero()),
        Some(bytes) => decode_u128(&bytes).ok_or_else(|| {
            StdError::parse_err("Uint128", "payer contribution is not 1 to 16 bytes")
        }),
    }
}

/// Stores a payer's clamped contribution (micro-USD) under a [`payer_contrib_key`].
pub fn save_payer_contrib(store: &mut dyn Storage, key: &[u8], value: Uint128) {
    store.set(key, &encode_u128(value.u128()));
}

/// Big-endian bytes of `v` without leading zero bytes; `[0]` for zero (storage values cannot be
/// empty).
pub fn encode_u128(v: u128) -> Vec<u8> {
    let bytes = v.to_be_bytes();
    let skip = (v.leading_zeros() / 8).min(15) as usize;
    bytes[skip..].to_vec()
}

/// Inverse of [`encode_u128`]: `None` unless 1 to 16 bytes.
pub fn decode_u128(bytes: &[u8]) -> Option<Uint128> {
    if bytes.is_empty() || bytes.len() > 16 {
        return None;
    }
    let mut buf = [0u8; 16];
    buf[16 - bytes.len()..].copy_from_slice(bytes);
    Some(Uint128::new(u128::from_be_bytes(buf)))
}
/// `node_id -> last claimed epoch`: every tally at or below it has been paid.
pub const CLAIMED_THROUGH: Map<&str, u64> = Map::new("claimed_through");

/// The fixed figures of a finalized epoch.
#[cw_serde]
pub struct EpochResult {
    /// `B = min(emission, balance - reserved)` (uopg).
    pub budget: Uint128,
    /// `U`: usage part, 0 when nobody had usage (uopg).
    pub usage_budget: Uint128,
    /// `H`: stipend part, 0 when no live local node had weight (uopg).
    pub stipend_budget: Uint128,
    /// `m_commercial`.
    pub m_commercial: Decimal,
    /// `m_community(e)`.
    pub m_community: Decimal,
    /// `S(e-1)`.
    pub previous_community_share: Decimal,
    /// `D = m_c EffC + m_m EffM`, scaled by 10^18.
    pub denominator: Uint256,
    /// `W`.
    pub hardware_weight_total: Decimal,
    /// `floor(U * m_c EffC / D)` (uopg).
    pub commercial_usage_rewards: Uint128,
    /// `floor(U * m_m EffM / D)` (uopg).
    pub community_usage_rewards: Uint128,
    /// Paid so far by claims (uopg); `<= usage_budget + stipend_budget`.
    pub paid: Uint128,
    /// Nodes with a tally in the epoch (fixed at finalization).
    pub tallies: u32,
    /// Nodes that have claimed this epoch; when all `tallies` have, the rounding dust
    /// `U + H - paid` is released from `reserved` back to the pool.
    pub claimed_nodes: u32,
}

impl EpochResult {
    /// What was reserved for the epoch: `U + H` (uopg).
    pub fn payable(&self) -> StdResult<Uint128> {
        Ok(self.usage_budget.checked_add(self.stipend_budget)?)
    }
    /// The figures node rewards are computed from.
    pub fn figures(&self) -> EpochFigures {
        EpochFigures {
            usage_budget: self.usage_budget,
            stipend_budget: self.stipend_budget,
            m_commercial: self.m_commercial,
            m_community: self.m_community,
            denominator: self.denominator,
            hw_total: self.hardware_weight_total,
        }
    }
}

/// Results of finalized epochs.
pub const EPOCH_RESULTS: Map<u64, EpochResult> = Map::new("epoch_results");

/// The params in force for epoch `e`: one bounded descending lookup.
pub fn params_for(store: &dyn Storage, epoch: u64) -> StdResult<RewardParams> {
    PARAMS
        .range(
            store,
            None,
            Some(Bound::inclusive(epoch)),
            Order::Descending,
        )
        .next()
        .map(|r| r.map(|(_, p)| p))
        .unwrap_or_else(|| Err(cosmwasm_std::StdError::not_found("RewardParams")))
}

/// The totals of epoch `e` (zero if nothing was recorded).
pub fn totals_of(store: &dyn Storage, epoch: u64) -> StdResult<EpochTotals> {
    Ok(EPOCH_TOTALS.may_load(store, epoch)?.unwrap_or_default())
}

/// The hardware weight of a class in `params` (0 if unknown).
pub fn hardware_weight(params: &RewardParams, class: &str) -> Decimal {
    params
        .hardware_weights
        .iter()
        .find(|w| w.class == class)
        .map(|w| w.weight)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use cosmwasm_std::testing::MockStorage;

    #[test]
    fn u128_codec_is_minimal_and_round_trips() {
        assert_eq!(encode_u128(0), vec![0]);
        assert_eq!(encode_u128(255), vec![255]);
        assert_eq!(encode_u128(256), vec![1, 0]);
        assert_eq!(encode_u128(u128::MAX), vec![0xff; 16]);
        for v in [0, 1, 255, 256, 1_000_000, u64::MAX as u128 + 1, u128::MAX] {
            assert_eq!(decode_u128(&encode_u128(v)), Some(Uint128::new(v)));
        }
        assert_eq!(decode_u128(&[]), None);
        assert_eq!(decode_u128(&[1; 17]), None);
    }

    #[test]
    fn payer_contrib_keys_separate_epochs_nodes_and_payers() {
        let k = payer_contrib_key(7, "node-1", "0xaa");
        assert_eq!(&k[..4], b"\x00\x02pc");
        assert_eq!(&k[4..12], &7u64.to_be_bytes());
        assert_ne!(k, payer_contrib_key(8, "node-1", "0xaa"));
        assert_ne!(k, payer_contrib_key(7, "node-2", "0xaa"));
        assert_ne!(k, payer_contrib_key(7, "node-1", "0xab"));
        // The node id is length-prefixed: moving bytes between node and payer changes the key.
        assert_ne!(
            payer_contrib_key(7, "ab", "c"),
            payer_contrib_key(7, "a", "bc")
        );
    }

    #[test]
    fn payer_contrib_storage_round_trips_and_rejects_garbage() {
        let mut store = MockStorage::new();
        let key = payer_contrib_key(1, "n", "0xaa");
        assert_eq!(load_payer_contrib(&store, &key).unwrap(), Uint128::zero());
        save_payer_contrib(&mut store, &key, Uint128::new(70_000));
        assert_eq!(store.get(&key), Some(vec![0x01, 0x11, 0x70]));
        assert_eq!(
            load_payer_contrib(&store, &key).unwrap(),
            Uint128::new(70_000)
        );
        store.set(&key, &[1; 17]);
        assert!(load_payer_contrib(&store, &key).is_err());
    }
}
