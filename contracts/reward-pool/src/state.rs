//! Storage of the reward pool.
use cosmwasm_schema::cw_serde;
use cosmwasm_std::{Addr, Decimal, Order, StdResult, Storage, Uint128, Uint256};
use cw_storage_plus::{Bound, Item, Map};
use opg_core::epoch::EpochClock;
use opg_core::msg::pool::RewardParams;
use opg_core::types::Provenance;

use crate::maths::{EpochFigures, LiveClass, Rate};

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
/// The oldest finalized epoch whose claim window has not been closed yet (see
/// `finalize::expire_epochs`); absent = 0.
pub const NEXT_TO_EXPIRE: Item<u64> = Item::new("next_to_expire");
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
    /// Counted value, the sum over calls of `min(value, v_cap)` (micro-USD). Stored under its
    /// version 0.1 name (there: the value after the per-payer cap).
    #[serde(rename = "effective_value")]
    pub counted_value: Uint128,
}

/// Running totals of one epoch, kept as usage is recorded so finalization never iterates nodes.
#[cw_serde]
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
    /// Whether stipends of the epoch are capped per class (`false` for an epoch whose totals were
    /// opened by version 0.1, whose live nodes carry no cap: such an epoch stays uncapped).
    #[serde(default)]
    pub stipend_capped: bool,
    /// Live local nodes per hardware class with a non-zero weight (at most
    /// `MAX_HARDWARE_CLASSES`), for the capped stipend total.
    #[serde(default)]
    pub live_classes: Vec<LiveClass>,
}

impl Default for EpochTotals {
    /// The totals of an epoch with nothing recorded yet (stipend capped).
    fn default() -> Self {
        EpochTotals {
            commercial: ClassTotals::default(),
            community: ClassTotals::default(),
            live_local_nodes: 0,
            hardware_weight_total: Decimal::zero(),
            tallies: 0,
            stipend_capped: true,
            live_classes: Vec::new(),
        }
    }
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
    /// Counted value of both classes (micro-USD).
    pub fn total_counted(&self) -> StdResult<Uint128> {
        Ok(self
            .commercial
            .counted_value
            .checked_add(self.community.counted_value)?)
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
    /// Counted value (micro-USD); stored under its version 0.1 name.
    #[serde(rename = "effective_value")]
    pub counted_value: Uint128,
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
    /// Its per-node stipend cap in the params of the epoch (uopg); `None` = uncapped (recorded
    /// by version 0.1, or in an epoch whose totals it opened).
    #[serde(default)]
    pub stipend_cap: Option<Uint128>,
}

/// `(node_id, epoch) -> tally`: per node, the epochs it has a tally in (claims range over these).
pub const TALLIES: Map<(&str, u64), Tally> = Map::new("tallies");
/// `node_id -> last claimed epoch`: every tally at or below it has been paid.
pub const CLAIMED_THROUGH: Map<&str, u64> = Map::new("claimed_through");

/// The fixed figures of a finalized epoch. Fields after `claimed_nodes` are new in version 0.2
/// (absent in epochs finalized by 0.1, which keep the 0.1 maths: rate `U / D`, `U + H` reserved).
#[cw_serde]
pub struct EpochResult {
    /// `B = min(emission, balance - reserved)` (uopg).
    pub budget: Uint128,
    /// `U = floor((1 - alpha) B)` (uopg). (0.1: 0 when nobody had usage.)
    pub usage_budget: Uint128,
    /// `H = floor(alpha B)` (uopg). (0.1: 0 when no live local node had weight.)
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
    /// `floor(rho * m_c * EffC)` (uopg).
    pub commercial_usage_rewards: Uint128,
    /// `floor(rho * m_m * EffM)` (uopg).
    pub community_usage_rewards: Uint128,
    /// Paid so far by claims (uopg); `<= payable()`.
    pub paid: Uint128,
    /// Nodes with a tally in the epoch (fixed at finalization).
    pub tallies: u32,
    /// Nodes that have claimed this epoch; when all `tallies` have, the rounding dust
    /// `payable - paid` is released from `reserved` back to the pool.
    pub claimed_nodes: u32,
    /// The usage rate; `None` for a 0.1 epoch (rate `usage_budget / denominator`).
    #[serde(default)]
    pub rate: Option<Rate>,
    /// Stipend awarded after the per-node caps (uopg); `None` for a 0.1 epoch (`stipend_budget`).
    #[serde(default)]
    pub stipend_awarded: Option<Uint128>,
    /// `c_call` of the epoch (uopg).
    #[serde(default)]
    pub c_call: Option<Uint128>,
    /// `v_cap` of the epoch (micro-USD); 0 for a 0.1 epoch.
    #[serde(default)]
    pub v_cap: Uint128,
    /// Usage rewards claimed by commercial nodes (uopg).
    #[serde(default)]
    pub commercial_usage_paid: Uint128,
    /// Usage rewards claimed by community nodes (uopg).
    #[serde(default)]
    pub community_usage_paid: Uint128,
    /// Stipend claimed (uopg).
    #[serde(default)]
    pub stipend_paid: Uint128,
    /// The claim window passed: what was unclaimed went back to the pool; claims pay nothing
    /// more for this epoch.
    #[serde(default)]
    pub expired: bool,
}

impl EpochResult {
    /// The usage rate.
    pub fn rate(&self) -> Rate {
        self.rate.unwrap_or(Rate {
            numerator: self.usage_budget,
            denominator: self.denominator,
        })
    }
    /// Stipend awarded (uopg).
    pub fn stipend_awarded(&self) -> Uint128 {
        self.stipend_awarded.unwrap_or(self.stipend_budget)
    }
    /// What was reserved for the epoch (uopg): usage awarded and stipend awarded (0.1: `U + H`).
    pub fn payable(&self) -> StdResult<Uint128> {
        if self.rate.is_none() {
            return Ok(self.usage_budget.checked_add(self.stipend_budget)?);
        }
        Ok(self
            .commercial_usage_rewards
            .checked_add(self.community_usage_rewards)?
            .checked_add(self.stipend_awarded())?)
    }
    /// The figures node rewards are computed from.
    pub fn figures(&self) -> EpochFigures {
        EpochFigures {
            rate: self.rate(),
            stipend_budget: self.stipend_budget,
            m_commercial: self.m_commercial,
            m_community: self.m_community,
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

/// The hardware weight and stipend cap (uopg) of a class in `params` (0 and 0 if unknown).
pub fn hardware_weight(params: &RewardParams, class: &str) -> (Decimal, Uint128) {
    params
        .hardware_weights
        .iter()
        .find(|w| w.class == class)
        .map(|w| (w.weight, w.stipend_cap))
        .unwrap_or_default()
}
