//! `reward-pool` messages (DESIGN §4).
//!
//! Strict inputs (issue 13): every message the pool decodes (instantiate, execute, sudo, query,
//! migrate, and the structs inside them) carries `#[serde(deny_unknown_fields)]`, so
//! `{"finalize_epoch":{"epoch":0,"extra":1}}` is refused with ``unknown field `extra`, expected
//! `epoch` `` instead of executing (`#[cw_serde]` of cosmwasm-schema 2.x no longer adds it; on an
//! enum serde applies it to the struct variants). The wire shape is unchanged. Responses stay
//! lenient so clients keep reading the replies of newer contract versions.
use cosmwasm_schema::{cw_serde, QueryResponses};
use cosmwasm_std::{Addr, Decimal, Uint128};

use crate::epoch::EpochClock;
use crate::types::Provenance;

/// Reward parameters, set by governance within bounds, effective from the next epoch (DESIGN §4).
///
/// Governance bounds (checked on instantiate and on every update; see `reward-pool`'s `params`):
/// absolute ranges as documented per field, and versus the params in force at most one **step**
/// per change: amounts and multipliers (`emission_per_epoch`, `m_commercial`, `m_community_max`,
/// `v_cap`, `c_call`, each `stipend_cap`) within `[old / 2, 2 * old]` (any value when `old` is
/// zero or unset); shares (`target_share`, `alpha`) by at most `0.1` up or down; hardware weights
/// within `[old / 2, 2 * old]` or `1` up or down (so a class can be phased out). `c_call`, once set,
/// can never be unset.
#[cw_serde]
#[serde(deny_unknown_fields)]
pub struct RewardParams {
    /// Tokens emitted per epoch (uopg); the budget is `B = min(emission, free pool balance)`.
    /// Step: x2 or /2 (any value from 0).
    pub emission_per_epoch: Uint128,
    /// Commercial multiplier `m_commercial`, in `[0, 1]`. Step: x2 or /2 (any value from 0).
    pub m_commercial: Decimal,
    /// Maximum community multiplier `M` of the bootstrap taper, in `[1, 10]`. Step: x2 or /2.
    pub m_community_max: Decimal,
    /// Target community share `S*` of counted value, in `(0, 1]`. Step: at most 0.1.
    pub target_share: Decimal,
    /// Fraction `alpha` of the budget paid as hardware stipend, in `[0, 0.9]`. Step: at most 0.1.
    pub alpha: Decimal,
    /// Per-call value cap `v_cap` (micro-USD): a call counts `min(value, v_cap)` of value, in
    /// `[1, 10^9]` (up to $1,000). Step: x2 or /2.
    pub v_cap: Uint128,
    /// Per-call usage reward cap `c_call` (uopg): the usage rate is at most
    /// `c_call / (m_max * v_cap)`, so no call earns more than `c_call`. In `[1, 10^12]`. `None` =
    /// no per-call cap (the volume-only baseline); once set, governance can move it by x2 or /2
    /// per change but never unset it (error `ParamOutOfBounds { param: "c_call" }`).
    pub c_call: Option<Uint128>,
    /// Stipend weight and per-node cap per hardware class (unknown classes weigh 0). At most 32
    /// distinct non-empty classes.
    pub hardware_weights: Vec<HardwareWeight>,
    /// Claim window in epochs, in `[1, 10_000]`: once `claim_epochs` later epochs are finalized,
    /// what an epoch's nodes left unclaimed (and its rounding dust) expires back to the pool,
    /// so a node that never claims cannot lock funds forever. Applied when an epoch is
    /// finalized, with the value of that epoch's params (at most 4 epochs expire per finalize).
    /// Step: x2 or /2.
    pub claim_epochs: u64,
}

/// The stipend weight and cap of a hardware class.
#[cw_serde]
#[serde(deny_unknown_fields)]
pub struct HardwareWeight {
    /// Class id as attested (e.g. `h100`).
    pub class: String,
    /// Weight, in `[0, 100]`. Step: 1 up or down, or (from a non-zero weight) x2 or /2; a class
    /// absent from the list weighs 0.
    pub weight: Decimal,
    /// Most stipend one live node of the class earns in one epoch (uopg), in `[0, 10^15]`.
    /// What the cap leaves unpaid stays in the pool. Step: x2 or /2 (any value from 0 or for a
    /// class new to the list).
    pub stipend_cap: Uint128,
}

/// Instantiate the pool.
#[cw_serde]
#[serde(deny_unknown_fields)]
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

/// One aggregated usage line: a node's accepted calls of one epoch within one batch (DESIGN §4).
/// No payer is carried: per-payer limits do nothing against fresh payer keys.
/// The pool refuses an entry with `counted_value > value` or `counted_value > calls * v_cap(epoch)`
/// (`InvalidUsage`).
#[cw_serde]
#[serde(deny_unknown_fields)]
pub struct UsageEntry {
    /// Epoch.
    pub epoch: u64,
    /// Node id.
    pub node_id: String,
    /// Provenance class of the node's models.
    pub provenance: Provenance,
    /// Number of calls.
    pub calls: u64,
    /// Raw value in micro-USD (sum over the calls).
    pub value: Uint128,
    /// Counted value in micro-USD: the sum over the calls of `min(value, v_cap)` with the `v_cap`
    /// of the epoch.
    pub counted_value: Uint128,
}

/// A local node that is live in an epoch (valid attestation and a receipt or heartbeat).
#[cw_serde]
#[serde(deny_unknown_fields)]
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
#[serde(deny_unknown_fields)]
pub enum ExecuteMsg {
    /// Adds the attached native `denom` funds to the pool.
    Fund {},
    /// Verifier only: adds usage and liveness. Errors: `Unauthorized`, `EpochFinalized`,
    /// `EpochNotStarted`, `ProvenanceMismatch`, `InvalidUsage` (counted value above the raw value
    /// or above `calls * v_cap`).
    RecordUsage {
        /// Usage aggregated per (epoch, node).
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
    /// Governance: schedules new params for the next epoch, within the bounds and steps documented
    /// on [`RewardParams`]. Errors: `ParamOutOfBounds { param, reason }`.
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
#[serde(deny_unknown_fields)]
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
#[serde(deny_unknown_fields)]
pub enum QueryMsg {
    /// Config and state.
    #[returns(ConfigResponse)]
    Config {},
    /// Current params and scheduled ones.
    #[returns(ParamsResponse)]
    Params {},
    /// The params in force for an epoch (the verifier reads `v_cap` of a receipt's epoch here).
    #[returns(RewardParams)]
    EpochParams {
        /// The epoch.
        epoch: u64,
    },
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
    /// `S(e-1)`: community share of counted value in the previous epoch (0 for epoch 0).
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
    /// Counted value, the sum over calls of `min(value, v_cap)` (micro-USD).
    pub counted_value: Uint128,
    /// Usage rewards awarded to the class, `floor(rho * m * counted_value)` (uopg, 0 until
    /// finalized); the nodes' own rounded-down rewards sum to at most this.
    pub usage_rewards: Uint128,
    /// Hardware stipend awarded to the class's live nodes after the per-node caps (uopg; community
    /// only, 0 until finalized).
    pub stipend: Uint128,
    /// Usage rewards claimed so far by the class's nodes (uopg).
    pub usage_paid: Uint128,
    /// Stipend claimed so far by the class's nodes (uopg).
    pub stipend_paid: Uint128,
}

/// An epoch's transparency report. Until finalization the budgets, rate and rewards are 0 and the
/// multipliers are projected. Once finalized: `usage_budget + stipend_budget <= budget` (at most
/// 1 uopg of rounding apart), `usage_budget = usage_rewards (both classes) + usage_unpaid`,
/// `stipend_budget = community.stipend + stipend_unpaid`; what is not awarded stays in the pool.
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
    /// Community share of counted value in this epoch.
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
    /// The usage rate `rho = min((1 - alpha) B / D, c_call / (m_max * v_cap))` in uopg per
    /// micro-USD of weighted counted value (`m * counted_value`), rounded down to 18 decimals
    /// (saturating at `Decimal::MAX`, reachable only without `c_call`). A display figure: rewards
    /// use the exact fraction. 0 when nobody had usage or before finalization.
    pub rate: Decimal,
    /// Usage part `floor((1 - alpha) B)` (uopg).
    pub usage_budget: Uint128,
    /// Stipend part `floor(alpha B)` (uopg).
    pub stipend_budget: Uint128,
    /// Usage part not awarded (the per-call cap `c_call`, class-level rounding, or no usage), uopg.
    pub usage_unpaid: Uint128,
    /// Stipend part not awarded (the per-node `stipend_cap`s, rounding, or no live node), uopg.
    pub stipend_unpaid: Uint128,
    /// `c_call` in force for the epoch (uopg); `None` = no per-call cap.
    pub c_call: Option<Uint128>,
    /// `v_cap` in force for the epoch (micro-USD).
    pub v_cap: Uint128,
    /// Whether the claim window of the epoch has passed: what was unclaimed went back to the
    /// pool and claims pay nothing more for it.
    pub expired: bool,
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
    /// Counted value, the sum over calls of `min(value, v_cap)` (micro-USD).
    pub counted_value: Uint128,
    /// Live local node in this epoch.
    pub live: bool,
    /// Hardware class if live.
    pub hardware_class: Option<String>,
    /// Reward (uopg) if finalized: `usage_reward + stipend_reward`.
    pub reward: Option<Uint128>,
    /// Usage part of the reward (uopg) if finalized.
    pub usage_reward: Option<Uint128>,
    /// Stipend part of the reward (uopg) if finalized.
    pub stipend_reward: Option<Uint128>,
    /// The epoch's claim window has passed: if not claimed, the reward went back to the pool.
    pub expired: bool,
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

/// Migrate message of the reward pool: the shared `{}` form plus optional values for the params
/// that version 0.2 adds. Each applies to every stored params entry (in force and scheduled);
/// absent, the documented default applies.
#[cw_serde]
#[derive(Default)]
#[serde(deny_unknown_fields)]
pub struct MigrateMsg {
    /// `v_cap` (micro-USD) for migrated params; default [`DEFAULT_V_CAP`]. Must be within bounds.
    pub v_cap: Option<Uint128>,
    /// `c_call` (uopg) for migrated params; default `None` (no per-call cap, the 0.1 behaviour).
    pub c_call: Option<Uint128>,
    /// `stipend_cap` (uopg) per hardware class for migrated params; classes not listed get
    /// [`DEFAULT_STIPEND_CAP`] (no effective cap, the 0.1 behaviour).
    pub stipend_caps: Option<Vec<StipendCap>>,
    /// `claim_epochs` for migrated params; default [`DEFAULT_CLAIM_EPOCHS`].
    pub claim_epochs: Option<u64>,
}

/// A class's stipend cap in a [`MigrateMsg`].
#[cw_serde]
#[serde(deny_unknown_fields)]
pub struct StipendCap {
    /// Hardware class.
    pub class: String,
    /// uopg per node per epoch.
    pub stipend_cap: Uint128,
}

/// Default `claim_epochs` of migrated params: 10,000 epochs, the maximum (over 27 years of daily
/// epochs: as good as the 0.1 behaviour of never expiring, and lowered by governance in steps).
pub const DEFAULT_CLAIM_EPOCHS: u64 = 10_000;
/// Default `v_cap` of migrated params: $1.00 (1,000,000 micro-USD) per call.
pub const DEFAULT_V_CAP: u128 = 1_000_000;
/// Default per-class `stipend_cap` of migrated params: `10^15` uopg, the maximum (no effective
/// cap, as in version 0.1).
pub const DEFAULT_STIPEND_CAP: u128 = 1_000_000_000_000_000;

#[cfg(test)]
mod tests {
    use super::*;
    use cosmwasm_std::{from_json, to_json_vec};

    fn params() -> RewardParams {
        RewardParams {
            emission_per_epoch: Uint128::new(1),
            m_commercial: Decimal::one(),
            m_community_max: Decimal::one(),
            target_share: Decimal::one(),
            alpha: Decimal::zero(),
            v_cap: Uint128::new(1),
            c_call: Some(Uint128::new(2)),
            hardware_weights: vec![HardwareWeight {
                class: "h100".into(),
                weight: Decimal::one(),
                stipend_cap: Uint128::new(3),
            }],
            claim_epochs: 4,
        }
    }

    /// Every variant keeps its wire shape: what the enum writes decodes to the same message, and
    /// the JSON is the struct-variant form (`{"finalize_epoch":{"epoch":7}}`).
    #[test]
    fn wire_shape_is_unchanged_and_round_trips() {
        let execute = vec![
            ExecuteMsg::Fund {},
            ExecuteMsg::RecordUsage {
                entries: vec![UsageEntry {
                    epoch: 1,
                    node_id: "n".into(),
                    provenance: Provenance::Community,
                    calls: 2,
                    value: Uint128::new(3),
                    counted_value: Uint128::new(3),
                }],
                live: vec![LiveNode {
                    epoch: 1,
                    node_id: "n".into(),
                    hardware_class: "h100".into(),
                }],
            },
            ExecuteMsg::FinalizeEpoch { epoch: 7 },
            ExecuteMsg::Claim {
                node_id: "n".into(),
                limit: None,
            },
            ExecuteMsg::UpdateParams { params: params() },
            ExecuteMsg::UpdateConfig {
                governance: None,
                verifier: Some("v".into()),
                registry: None,
            },
        ];
        for m in &execute {
            assert_eq!(
                &from_json::<ExecuteMsg>(to_json_vec(m).unwrap()).unwrap(),
                m
            );
        }
        assert_eq!(
            String::from_utf8(to_json_vec(&ExecuteMsg::FinalizeEpoch { epoch: 7 }).unwrap())
                .unwrap(),
            r#"{"finalize_epoch":{"epoch":7}}"#
        );
        assert_eq!(
            from_json::<ExecuteMsg>(br#"{"fund":{}}"#).unwrap(),
            ExecuteMsg::Fund {}
        );
        // An absent optional field is still None.
        assert_eq!(
            from_json::<ExecuteMsg>(br#"{"claim":{"node_id":"n"}}"#).unwrap(),
            ExecuteMsg::Claim {
                node_id: "n".into(),
                limit: None
            }
        );
        let sudo = [
            SudoMsg::UpdateParams { params: params() },
            SudoMsg::UpdateConfig {
                governance: Some("g".into()),
                verifier: None,
                registry: Some("r".into()),
            },
        ];
        for m in &sudo {
            assert_eq!(&from_json::<SudoMsg>(to_json_vec(m).unwrap()).unwrap(), m);
        }
        let query = [
            QueryMsg::Config {},
            QueryMsg::Params {},
            QueryMsg::EpochParams { epoch: 1 },
            QueryMsg::Multipliers { epoch: 2 },
            QueryMsg::EpochReport { epoch: 3 },
            QueryMsg::NodeRewards {
                node_id: "n".into(),
                start_after: Some(1),
                limit: Some(2),
            },
            QueryMsg::PendingRewards {
                node_id: "n".into(),
            },
        ];
        for m in &query {
            assert_eq!(&from_json::<QueryMsg>(to_json_vec(m).unwrap()).unwrap(), m);
        }
    }

    /// Unknown fields are refused, named in the error, in every message kind (issue 13). Before,
    /// `{"finalize_epoch":{"epoch":0,"extra":1}}` decoded to `FinalizeEpoch { epoch: 0 }`:
    /// `#[cw_serde]` of cosmwasm-schema 2.x no longer adds `deny_unknown_fields`, so each input
    /// type says it itself.
    #[test]
    fn unknown_fields_are_refused_with_their_name() {
        type Decode = fn(&[u8]) -> String;
        let cases: [(&str, Decode); 5] = [
            (r#"{"finalize_epoch":{"epoch":0,"extra":1}}"#, |j| {
                from_json::<ExecuteMsg>(j).unwrap_err().to_string()
            }),
            (r#"{"fund":{"extra":1}}"#, |j| {
                from_json::<ExecuteMsg>(j).unwrap_err().to_string()
            }),
            (r#"{"update_config":{"extra":"x"}}"#, |j| {
                from_json::<SudoMsg>(j).unwrap_err().to_string()
            }),
            (r#"{"epoch_report":{"epoch":1,"extra":true}}"#, |j| {
                from_json::<QueryMsg>(j).unwrap_err().to_string()
            }),
            // Nested structs too.
            (
                r#"{"record_usage":{"entries":[{"epoch":0,"node_id":"n","provenance":"commercial","calls":1,"value":"1","counted_value":"1","extra":0}],"live":[]}}"#,
                |j| from_json::<ExecuteMsg>(j).unwrap_err().to_string(),
            ),
        ];
        for (json, decode) in cases {
            let err = decode(json.as_bytes());
            assert!(err.contains("unknown field `extra`"), "{json}: {err}");
        }
        // An unknown variant is still refused too.
        assert!(from_json::<ExecuteMsg>(br#"{"mint":{}}"#)
            .unwrap_err()
            .to_string()
            .contains("unknown variant `mint`"));
    }
}
