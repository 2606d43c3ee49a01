//! `reward-pool` messages (DESIGN §4).
use cosmwasm_schema::{cw_serde, QueryResponses};
use cosmwasm_std::{Addr, Decimal, Uint128};

use crate::epoch::EpochClock;
use crate::types::Provenance;

/// Reward parameters, set by governance within bounds, effective from the next epoch.
#[cw_serde]
pub struct RewardParams {
    /// Tokens emitted per epoch (uopg); the budget is `min(emission, free pool balance)`.
    pub emission_per_epoch: Uint128,
    /// Commercial multiplier `m_commercial`, in `[0, 1]`.
    pub m_commercial: Decimal,
    /// Maximum community multiplier `M`, in `[1, 10]`.
    pub m_community_max: Decimal,
    /// Target community share `S*` of raw value, in `(0, 1]`.
    pub target_share: Decimal,
    /// Fraction `alpha` of the budget paid as hardware stipend, in `[0, 0.5]`.
    pub alpha: Decimal,
    /// Per-epoch cap of one payer's contribution to one node's effective value (micro-USD, > 0).
    pub payer_cap: Uint128,
    /// Stipend weight per hardware class (unknown classes weigh 0). At most 32.
    pub hardware_weights: Vec<HardwareWeight>,
}

/// The stipend weight of a hardware class.
#[cw_serde]
pub struct HardwareWeight {
    /// Class id as attested (e.g. `h100`).
    pub class: String,
    /// Weight, in `[0, 100]`.
    pub weight: Decimal,
}

/// Instantiate the pool.
#[cw_serde]
pub struct InstantiateMsg {
    /// Governance address.
    pub governance: String,
    /// The node registry (operators of nodes are looked up there for claims).
    pub registry: String,
    /// The verifier allowed to `RecordUsage`; may be set later with `UpdateConfig`.
    pub verifier: Option<String>,
    /// Native denom of rewards (e.g. `uopg`).
    pub denom: String,
    /// The epoch clock; immutable.
    pub clock: EpochClock,
    /// Initial reward params, effective from epoch 0.
    pub params: RewardParams,
}

/// One aggregated usage line: what a payer paid one node in one epoch, within one batch.
#[cw_serde]
pub struct UsageEntry {
    /// Epoch.
    pub epoch: u64,
    /// Node id.
    pub node_id: String,
    /// Provenance class of the node's models.
    pub provenance: Provenance,
    /// Payer, lowercase EVM address.
    pub payer: String,
    /// Number of calls.
    pub calls: u64,
    /// Raw value in micro-USD.
    pub value: Uint128,
}

/// A local node that is live in an epoch (valid attestation and a receipt or heartbeat).
#[cw_serde]
pub struct LiveNode {
    /// Epoch.
    pub epoch: u64,
    /// Node id.
    pub node_id: String,
    /// Attested hardware class.
    pub hardware_class: String,
}

/// Execute messages of the pool.
#[cw_serde]
pub enum ExecuteMsg {
    /// Adds the attached native `denom` funds to the pool.
    Fund {},
    /// Verifier only: adds usage and liveness. Errors: `Unauthorized`, `EpochNotOpen` (epoch finalized).
    RecordUsage {
        /// Usage aggregated per (epoch, node, payer).
        entries: Vec<UsageEntry>,
        /// Live local nodes.
        live: Vec<LiveNode>,
    },
    /// Anyone, once `now >= end(epoch) + grace`, in order (the next unfinalized epoch only):
    /// fixes the multipliers and the budget. Errors: `EpochNotOver`, `EpochOutOfOrder`.
    FinalizeEpoch {
        /// The epoch.
        epoch: u64,
    },
    /// Operator of the node: pays its rewards over up to `limit` (default 30, max 100) unclaimed
    /// finalized epochs in the native denom. Errors: `Unauthorized`, `NothingToClaim`.
    Claim {
        /// The node.
        node_id: String,
        /// Maximum epochs to claim.
        limit: Option<u32>,
    },
    /// Governance: schedules new params for the next epoch. Bounds: `M in [1,10]`, `m_commercial
    /// in [0,1]`, `alpha in [0,0.5]`, each multiplier, the emission and the payer cap at most x2 or /2
    /// per change. Errors: `ParamOutOfBounds { param }`.
    UpdateParams {
        /// New params.
        params: RewardParams,
    },
    /// Governance: config changes.
    UpdateConfig {
        /// New governance.
        governance: Option<String>,
        /// Verifier allowed to record usage.
        verifier: Option<String>,
        /// Registry.
        registry: Option<String>,
    },
}

/// Sudo (chain governance).
#[cw_serde]
pub enum SudoMsg {
    /// Same as `ExecuteMsg::UpdateParams`.
    UpdateParams {
        /// New params.
        params: RewardParams,
    },
    /// Same as `ExecuteMsg::UpdateConfig`.
    UpdateConfig {
        /// New governance.
        governance: Option<String>,
        /// Verifier.
        verifier: Option<String>,
        /// Registry.
        registry: Option<String>,
    },
}

/// Queries of the pool.
#[cw_serde]
#[derive(QueryResponses)]
pub enum QueryMsg {
    /// Config and state.
    #[returns(ConfigResponse)]
    Config {},
    /// Current params and scheduled ones.
    #[returns(ParamsResponse)]
    Params {},
    /// Multipliers of an epoch (fixed at finalization; projected for open epochs).
    #[returns(MultipliersResponse)]
    Multipliers {
        /// The epoch.
        epoch: u64,
    },
    /// The transparency report of an epoch: the commercial/community split.
    #[returns(EpochReport)]
    EpochReport {
        /// The epoch.
        epoch: u64,
    },
    /// A node's per-epoch tallies and rewards.
    #[returns(NodeRewardsResponse)]
    NodeRewards {
        /// The node.
        node_id: String,
        /// Exclusive start epoch.
        start_after: Option<u64>,
        /// Page size.
        limit: Option<u32>,
    },
    /// Unclaimed rewards of finalized epochs (up to 100 epochs are summed).
    #[returns(PendingRewardsResponse)]
    PendingRewards {
        /// The node.
        node_id: String,
    },
}

/// Pool config and state.
#[cw_serde]
pub struct ConfigResponse {
    /// Governance.
    pub governance: Addr,
    /// Registry.
    pub registry: Addr,
    /// Verifier.
    pub verifier: Option<Addr>,
    /// Reward denom.
    pub denom: String,
    /// Epoch clock.
    pub clock: EpochClock,
    /// The next epoch to finalize.
    pub next_to_finalize: u64,
    /// Budgets of finalized epochs not yet claimed (uopg): not available for new budgets.
    pub reserved: Uint128,
}

/// Params answer.
#[cw_serde]
pub struct ParamsResponse {
    /// Params in force for the current epoch.
    pub current: RewardParams,
    /// Params scheduled, with the epoch they take effect from.
    pub scheduled: Option<ScheduledParams>,
}

/// Params scheduled from an epoch on.
#[cw_serde]
pub struct ScheduledParams {
    /// First epoch they apply to.
    pub from_epoch: u64,
    /// The params.
    pub params: RewardParams,
}

/// Multipliers of an epoch.
#[cw_serde]
pub struct MultipliersResponse {
    /// Epoch.
    pub epoch: u64,
    /// `m_commercial`.
    pub m_commercial: Decimal,
    /// `m_community(e) = 1 + (M-1) * max(0, 1 - S(e-1)/S*)`.
    pub m_community: Decimal,
    /// `S(e-1)`: community share of raw value in the previous finalized epoch (0 for epoch 0).
    pub previous_community_share: Decimal,
    /// Whether fixed (epoch finalized) or projected.
    pub fixed: bool,
}

/// Per-class figures of an epoch.
#[cw_serde]
#[derive(Default)]
pub struct ClassReport {
    /// Nodes with usage.
    pub nodes: u32,
    /// Calls.
    pub calls: u64,
    /// Raw value (micro-USD).
    pub raw_value: Uint128,
    /// Effective value after the payer cap (micro-USD).
    pub effective_value: Uint128,
    /// Usage rewards of the class (uopg, before per-node rounding).
    pub usage_rewards: Uint128,
    /// Hardware stipend of the class (uopg; community only).
    pub stipend: Uint128,
}

/// An epoch's transparency report.
#[cw_serde]
pub struct EpochReport {
    /// Epoch.
    pub epoch: u64,
    /// Finalized yet.
    pub finalized: bool,
    /// Budget `B` (uopg), 0 until finalized.
    pub budget: Uint128,
    /// Multiplier of commercial usage.
    pub m_commercial: Decimal,
    /// Multiplier of community usage.
    pub m_community: Decimal,
    /// Community share of raw value in this epoch.
    pub community_share: Decimal,
    /// Commercial class.
    pub commercial: ClassReport,
    /// Community class.
    pub community: ClassReport,
    /// Live local nodes.
    pub live_local_nodes: u32,
    /// Sum of their hardware weights.
    pub hardware_weight_total: Decimal,
    /// Paid out so far by claims (uopg); never exceeds `budget`.
    pub paid: Uint128,
}

/// A node's figures in one epoch.
#[cw_serde]
pub struct NodeEpochReward {
    /// Epoch.
    pub epoch: u64,
    /// Provenance class.
    pub provenance: Provenance,
    /// Calls.
    pub calls: u64,
    /// Raw value (micro-USD).
    pub raw_value: Uint128,
    /// Effective value (micro-USD).
    pub effective_value: Uint128,
    /// Live local node in this epoch.
    pub live: bool,
    /// Hardware class if live.
    pub hardware_class: Option<String>,
    /// Reward (uopg) if finalized.
    pub reward: Option<Uint128>,
    /// Claimed.
    pub claimed: bool,
}

/// Page of a node's epochs.
#[cw_serde]
pub struct NodeRewardsResponse {
    /// Epochs in order.
    pub epochs: Vec<NodeEpochReward>,
}

/// Unclaimed rewards.
#[cw_serde]
pub struct PendingRewardsResponse {
    /// Total (uopg).
    pub amount: Uint128,
    /// Finalized unclaimed epochs counted.
    pub epochs: u32,
}
