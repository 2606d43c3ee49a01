//! The pure reward maths of DESIGN §4, over plain values: no storage, no environment.
//!
//! Conventions: money (uopg) and value (micro-USD) are `Uint128`; multipliers and weights are
//! `Decimal` (18 decimals). A *weighted value* `m * eff` is kept exact as a `Uint256` scaled by
//! 10^18 (`m.atomics() * eff`), so the usage denominator `D = sum_k m(k) eff(k)` is exactly the sum
//! of the nodes' weighted values and `sum_n floor(U * w(n) / D) <= U` holds without rounding slack.
//! Every division rounds down.
use cosmwasm_std::{
    CheckedFromRatioError, CheckedMultiplyRatioError, ConversionOverflowError, Decimal,
    DivideByZeroError, OverflowError, Uint128, Uint256, Uint512,
};
use opg_core::types::Provenance;
use thiserror::Error;

/// A checked-arithmetic failure of the reward maths.
#[derive(Error, Debug, PartialEq)]
pub enum MathError {
    /// Addition or multiplication overflowed.
    #[error("{0}")]
    Overflow(#[from] OverflowError),
    /// Division by zero.
    #[error("{0}")]
    DivideByZero(#[from] DivideByZeroError),
    /// `checked_multiply_ratio` failed (overflow or zero denominator).
    #[error("{0}")]
    MultiplyRatio(#[from] CheckedMultiplyRatioError),
    /// `Decimal` ratio failed (overflow or zero denominator).
    #[error("{0}")]
    FromRatio(#[from] CheckedFromRatioError),
    /// A `Uint256` result did not fit a `Uint128`.
    #[error("{0}")]
    Conversion(#[from] ConversionOverflowError),
}

/// The counted value of one call: `min(value, v_cap)` (micro-USD).
pub fn counted_value(value: Uint128, v_cap: Uint128) -> Uint128 {
    value.min(v_cap)
}

/// Community share of counted value, `community / total`, rounded down; 0 when `total` is 0.
pub fn community_share(community: Uint128, total: Uint128) -> Result<Decimal, MathError> {
    if total.is_zero() {
        return Ok(Decimal::zero());
    }
    Ok(Decimal::checked_from_ratio(community, total)?)
}

/// The bootstrap taper `m_community = 1 + (M - 1) * max(0, 1 - S / S*)`, in `[1, M]` for `M >= 1`.
/// `max` is `M`, `target` is `S*` (> 0), `previous_share` is `S(e-1)`.
pub fn m_community(
    max: Decimal,
    target: Decimal,
    previous_share: Decimal,
) -> Result<Decimal, MathError> {
    let boost = max.saturating_sub(Decimal::one());
    let reached = previous_share.checked_div(target)?;
    let remaining = Decimal::one().saturating_sub(reached);
    Ok(Decimal::one().checked_add(boost.checked_mul(remaining)?)?)
}

/// The exact weighted value `m * eff`, scaled by 10^18.
pub fn weighted_value(m: Decimal, eff: Uint128) -> Uint256 {
    m.atomics().full_mul(eff)
}

/// The usage denominator `D = m_c * eff_commercial + m_m * eff_community`, scaled by 10^18.
pub fn denominator(
    m_commercial: Decimal,
    eff_commercial: Uint128,
    m_community: Decimal,
    eff_community: Uint128,
) -> Result<Uint256, MathError> {
    Ok(weighted_value(m_commercial, eff_commercial)
        .checked_add(weighted_value(m_community, eff_community))?)
}

/// The epoch budget `B = min(emission, balance - reserved)` (uopg).
pub fn budget(emission: Uint128, balance: Uint128, reserved: Uint128) -> Uint128 {
    emission.min(balance.saturating_sub(reserved))
}

/// Splits `budget` into the usage part `U = floor((1 - alpha) B)` and the stipend part
/// `H = floor(alpha B)` (uopg). So `U <= (1 - alpha) B`, `H <= alpha B`, and `U + H <= B` (the at
/// most 1 uopg of rounding stays in the pool).
pub fn split_budget(budget: Uint128, alpha: Decimal) -> Result<(Uint128, Uint128), MathError> {
    let one = Decimal::one().atomics();
    let stipend = budget.checked_multiply_ratio(alpha.atomics(), one)?;
    let usage = budget.checked_multiply_ratio(one.checked_sub(alpha.atomics())?, one)?;
    Ok((usage, stipend))
}

/// The usage rate as an exact fraction of a weighted value (scaled by 10^18, see
/// [`weighted_value`]): a node's usage reward is `floor(numerator * w(n) / denominator)` (uopg).
#[cosmwasm_schema::cw_serde]
#[derive(Copy, Default)]
pub struct Rate {
    /// uopg: `U`, or `c_call` when the per-call cap binds.
    pub numerator: Uint128,
    /// `D` (scaled by 10^18), or `m_max.atomics() * v_cap` when the per-call cap binds; 0 = no
    /// usage reward.
    pub denominator: Uint256,
}

impl Rate {
    /// `floor(numerator * weighted / denominator)` (uopg); 0 when the denominator is 0.
    pub fn reward(&self, weighted: Uint256) -> Result<Uint128, MathError> {
        if self.denominator.is_zero() || weighted.is_zero() || self.numerator.is_zero() {
            return Ok(Uint128::zero());
        }
        let r = Uint256::from(self.numerator).checked_multiply_ratio(weighted, self.denominator)?;
        Ok(Uint128::try_from(r)?)
    }

    /// The rate in uopg per micro-USD of weighted value as a `Decimal`, rounded down, saturating
    /// at `Decimal::MAX`: `numerator * 10^36 / denominator` atomics.
    pub fn as_decimal(&self) -> Decimal {
        if self.denominator.is_zero() {
            return Decimal::zero();
        }
        let scale = Uint512::from(10u128.pow(18)) * Uint512::from(10u128.pow(18));
        let atomics = Uint512::from(self.numerator) * scale / Uint512::from(self.denominator);
        Uint128::try_from(atomics)
            .map(Decimal::new)
            .unwrap_or(Decimal::MAX)
    }
}

/// The usage rate `rho = min(U / D, c_call / (m_max * v_cap))` as an exact [`Rate`] (DESIGN §4).
/// `d` is `D` scaled by 10^18; `m_max` the larger multiplier of the epoch; `c_call = None` drops
/// the second term. A zero `d` (nobody had usage) gives the zero rate.
/// Since every call counts at most `v_cap` and weighs at most `m_max`, no call earns more than
/// `c_call`; and `rate.reward(d) <= U`.
pub fn usage_rate(
    usage_budget: Uint128,
    d: Uint256,
    m_max: Decimal,
    v_cap: Uint128,
    c_call: Option<Uint128>,
) -> Result<Rate, MathError> {
    if d.is_zero() {
        return Ok(Rate::default());
    }
    let by_budget = Rate {
        numerator: usage_budget,
        denominator: d,
    };
    let Some(c_call) = c_call else {
        return Ok(by_budget);
    };
    let cap_den = weighted_value(m_max, v_cap);
    if cap_den.is_zero() {
        return Ok(by_budget);
    }
    // U / D <= c / cap_den  <=>  U * cap_den <= c * D (exact in 512 bits).
    let lhs = Uint512::from(usage_budget).checked_mul(Uint512::from(cap_den))?;
    let rhs = Uint512::from(c_call).checked_mul(Uint512::from(d))?;
    Ok(if lhs <= rhs {
        by_budget
    } else {
        Rate {
            numerator: c_call,
            denominator: cap_den,
        }
    })
}

/// One hardware class's live local nodes in an epoch (only classes with a non-zero weight).
#[cosmwasm_schema::cw_serde]
pub struct LiveClass {
    /// Hardware class.
    pub class: String,
    /// Its weight in the epoch's params.
    pub weight: Decimal,
    /// Its per-node stipend cap in the epoch's params (uopg).
    pub stipend_cap: Uint128,
    /// Live local nodes of the class.
    pub nodes: u32,
}

/// A live node's stipend `min(floor(H * hw / W), cap)` (uopg); 0 when `W` is 0; `cap = None` is
/// uncapped (epochs opened before version 0.2).
pub fn stipend_reward(
    stipend_budget: Uint128,
    hw: Decimal,
    hw_total: Decimal,
    cap: Option<Uint128>,
) -> Result<Uint128, MathError> {
    if hw_total.is_zero() || hw.is_zero() {
        return Ok(Uint128::zero());
    }
    let share = stipend_budget.checked_multiply_ratio(hw.atomics(), hw_total.atomics())?;
    Ok(match cap {
        Some(cap) => share.min(cap),
        None => share,
    })
}

/// The stipend awarded over all live classes: `sum_c nodes(c) * min(floor(H w_c / W), cap_c)`
/// (uopg). At most `H` since `sum_c nodes(c) w_c = W`.
pub fn stipend_awarded(
    stipend_budget: Uint128,
    hw_total: Decimal,
    classes: &[LiveClass],
) -> Result<Uint128, MathError> {
    let mut total = Uint128::zero();
    for c in classes {
        let each = stipend_reward(stipend_budget, c.weight, hw_total, Some(c.stipend_cap))?;
        total = total.checked_add(each.checked_mul(Uint128::from(c.nodes))?)?;
    }
    Ok(total)
}

/// The params of an epoch the outcome depends on.
#[derive(Clone, Debug, PartialEq)]
pub struct EpochInputs {
    /// `B` (uopg).
    pub budget: Uint128,
    /// `alpha`.
    pub alpha: Decimal,
    /// `m_commercial`.
    pub m_commercial: Decimal,
    /// `m_community(e)`.
    pub m_community: Decimal,
    /// `v_cap` (micro-USD).
    pub v_cap: Uint128,
    /// `c_call` (uopg).
    pub c_call: Option<Uint128>,
    /// Counted value of the commercial class (micro-USD).
    pub eff_commercial: Uint128,
    /// Counted value of the community class (micro-USD).
    pub eff_community: Uint128,
    /// `W`.
    pub hw_total: Decimal,
    /// Live classes with weight, for the capped stipend total; `None` = uncapped (`H` awarded
    /// whole when `W > 0`).
    pub live_classes: Option<Vec<LiveClass>>,
}

/// The fixed outcome of an epoch (all uopg).
#[derive(Clone, Debug, PartialEq)]
pub struct EpochOutcome {
    /// The figures node rewards are computed from.
    pub figures: EpochFigures,
    /// `U = B - H`.
    pub usage_budget: Uint128,
    /// `floor(rho * m_c * EffC)`.
    pub commercial_usage: Uint128,
    /// `floor(rho * m_m * EffM)`.
    pub community_usage: Uint128,
    /// Stipend awarded after caps.
    pub stipend_awarded: Uint128,
}

impl EpochOutcome {
    /// What the epoch reserves: usage and stipend awarded; at most `B`.
    pub fn awarded(&self) -> Result<Uint128, MathError> {
        Ok(self
            .commercial_usage
            .checked_add(self.community_usage)?
            .checked_add(self.stipend_awarded)?)
    }
}

/// Finalizes an epoch's maths (DESIGN §4): split `B`, the rate, class usage rewards and the capped
/// stipend total.
pub fn epoch_outcome(i: &EpochInputs) -> Result<EpochOutcome, MathError> {
    let (usage_budget, stipend_budget) = split_budget(i.budget, i.alpha)?;
    let d = denominator(
        i.m_commercial,
        i.eff_commercial,
        i.m_community,
        i.eff_community,
    )?;
    let m_max = i.m_commercial.max(i.m_community);
    let rate = usage_rate(usage_budget, d, m_max, i.v_cap, i.c_call)?;
    let commercial_usage = rate.reward(weighted_value(i.m_commercial, i.eff_commercial))?;
    let community_usage = rate.reward(weighted_value(i.m_community, i.eff_community))?;
    let stipend = if i.hw_total.is_zero() {
        Uint128::zero()
    } else {
        match &i.live_classes {
            Some(classes) => stipend_awarded(stipend_budget, i.hw_total, classes)?,
            None => stipend_budget,
        }
    };
    Ok(EpochOutcome {
        figures: EpochFigures {
            rate,
            stipend_budget,
            m_commercial: i.m_commercial,
            m_community: i.m_community,
            hw_total: i.hw_total,
        },
        usage_budget,
        commercial_usage,
        community_usage,
        stipend_awarded: stipend,
    })
}

/// The fixed figures of a finalized epoch a node's reward is computed from.
#[derive(Clone, Debug, PartialEq)]
pub struct EpochFigures {
    /// The usage rate.
    pub rate: Rate,
    /// `H` (uopg).
    pub stipend_budget: Uint128,
    /// `m_commercial`.
    pub m_commercial: Decimal,
    /// `m_community(e)`.
    pub m_community: Decimal,
    /// `W`, the hardware weight total of live local nodes.
    pub hw_total: Decimal,
}

/// A node's reward of an epoch, in parts (uopg).
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct NodeReward {
    /// `floor(rho * m(n) * eff(n))`.
    pub usage: Uint128,
    /// `min(floor(H * hw(n) / W), cap)`.
    pub stipend: Uint128,
}

impl NodeReward {
    /// `usage + stipend`.
    pub fn total(&self) -> Result<Uint128, MathError> {
        Ok(self.usage.checked_add(self.stipend)?)
    }
}

impl EpochFigures {
    /// The multiplier of a provenance class.
    pub fn multiplier(&self, provenance: Provenance) -> Decimal {
        match provenance {
            Provenance::Commercial => self.m_commercial,
            Provenance::Community => self.m_community,
        }
    }

    /// `usage(n) = floor(rho * m(n) * eff(n))` and `stipend(n) = min(floor(H * hw(n) / W), cap)`
    /// (uopg); `live` is the node's hardware weight and stipend cap if it was a live local node.
    pub fn node_reward(
        &self,
        provenance: Provenance,
        counted_value: Uint128,
        live: Option<(Decimal, Option<Uint128>)>,
    ) -> Result<NodeReward, MathError> {
        let w = weighted_value(self.multiplier(provenance), counted_value);
        let usage = self.rate.reward(w)?;
        let stipend = match live {
            Some((hw, cap)) => stipend_reward(self.stipend_budget, hw, self.hw_total, cap)?,
            None => Uint128::zero(),
        };
        Ok(NodeReward { usage, stipend })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::str::FromStr;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn counted_value_is_capped_per_call() {
        let cap = Uint128::new(100);
        assert_eq!(counted_value(Uint128::new(60), cap), Uint128::new(60));
        assert_eq!(counted_value(Uint128::new(100), cap), Uint128::new(100));
        assert_eq!(counted_value(Uint128::MAX, cap), cap);
    }

    #[test]
    fn community_share_rounds_down_and_handles_no_traffic() {
        assert_eq!(
            community_share(Uint128::zero(), Uint128::zero()).unwrap(),
            Decimal::zero()
        );
        assert_eq!(
            community_share(Uint128::new(1), Uint128::new(4)).unwrap(),
            dec("0.25")
        );
        // 1/3 = 0.333333333333333333 (rounded down at 18 decimals).
        assert_eq!(
            community_share(Uint128::new(1), Uint128::new(3)).unwrap(),
            dec("0.333333333333333333")
        );
    }

    #[test]
    fn taper_examples() {
        // M = 3, S* = 0.5, S = 0.25: 1 + 2 * (1 - 0.5) = 2.
        assert_eq!(
            m_community(dec("3"), dec("0.5"), dec("0.25")).unwrap(),
            dec("2")
        );
        // S = 0: full boost 3.
        assert_eq!(
            m_community(dec("3"), dec("0.5"), Decimal::zero()).unwrap(),
            dec("3")
        );
        // S >= S*: 1.
        assert_eq!(
            m_community(dec("3"), dec("0.5"), dec("0.5")).unwrap(),
            dec("1")
        );
        assert_eq!(
            m_community(dec("3"), dec("0.5"), dec("0.9")).unwrap(),
            dec("1")
        );
        // M = 1: always 1.
        assert_eq!(
            m_community(dec("1"), dec("0.5"), dec("0.1")).unwrap(),
            dec("1")
        );
    }

    #[test]
    fn split_budget_rounds_both_parts_down() {
        // B = 1001, alpha = 0.2: H = floor(200.2) = 200, U = floor(800.8) = 800; 1 uopg stays.
        let b = Uint128::new(1001);
        assert_eq!(
            split_budget(b, dec("0.2")).unwrap(),
            (Uint128::new(800), Uint128::new(200))
        );
        assert_eq!(
            split_budget(b, Decimal::zero()).unwrap(),
            (b, Uint128::zero())
        );
        assert_eq!(
            split_budget(b, dec("0.9")).unwrap(),
            (Uint128::new(100), Uint128::new(900))
        );
    }

    #[test]
    fn budget_is_min_of_emission_and_free_balance() {
        let e = Uint128::new(1000);
        assert_eq!(budget(e, Uint128::new(5000), Uint128::new(1000)), e);
        assert_eq!(
            budget(e, Uint128::new(1500), Uint128::new(1000)),
            Uint128::new(500)
        );
        assert_eq!(
            budget(e, Uint128::new(500), Uint128::new(1000)),
            Uint128::zero()
        );
    }

    #[test]
    fn node_reward_hand_computed() {
        // B = 1_000_000, alpha = 0.2 -> H = 200_000, U = 800_000.
        // proxy eff 600 at m_c = 1, local eff 400 at m_m = 2: D = 600 + 800 = 1400.
        // proxy: floor(800_000 * 600 / 1400) = floor(342_857.14) = 342_857.
        // local: floor(800_000 * 800 / 1400) = floor(457_142.85) = 457_142, + all of H.
        let out = epoch_outcome(&EpochInputs {
            budget: Uint128::new(1_000_000),
            alpha: dec("0.2"),
            m_commercial: Decimal::one(),
            m_community: dec("2"),
            v_cap: Uint128::new(1_000_000),
            c_call: None,
            eff_commercial: Uint128::new(600),
            eff_community: Uint128::new(400),
            hw_total: dec("1.5"),
            live_classes: Some(vec![LiveClass {
                class: "h100".into(),
                weight: dec("1.5"),
                stipend_cap: Uint128::new(1_000_000),
                nodes: 1,
            }]),
        })
        .unwrap();
        let fig = &out.figures;
        assert_eq!(
            fig.node_reward(Provenance::Commercial, Uint128::new(600), None)
                .unwrap(),
            NodeReward {
                usage: Uint128::new(342_857),
                stipend: Uint128::zero()
            }
        );
        assert_eq!(
            fig.node_reward(
                Provenance::Community,
                Uint128::new(400),
                Some((dec("1.5"), Some(Uint128::new(1_000_000))))
            )
            .unwrap(),
            NodeReward {
                usage: Uint128::new(457_142),
                stipend: Uint128::new(200_000)
            }
        );
        assert_eq!(out.awarded().unwrap(), Uint128::new(999_999));
    }

    /// The per-call cap binds: B = 1_000_000, alpha = 0, v_cap = 100, c_call = 50, m_max = 2.
    /// U / D = 1_000_000 / (600 + 800) = 714.28 uopg per weighted micro-USD; the cap
    /// c_call / (m_max v_cap) = 50 / 200 = 0.25 is lower. proxy: floor(0.25 * 600) = 150;
    /// local: floor(0.25 * 2 * 400) = 200. A proxy call of full value 100 earns 25 <= 50 and a
    /// local one 50 = c_call. The rest, 999_650, stays in the pool.
    #[test]
    fn the_per_call_cap_binds_hand_computed() {
        let out = epoch_outcome(&EpochInputs {
            budget: Uint128::new(1_000_000),
            alpha: Decimal::zero(),
            m_commercial: Decimal::one(),
            m_community: dec("2"),
            v_cap: Uint128::new(100),
            c_call: Some(Uint128::new(50)),
            eff_commercial: Uint128::new(600),
            eff_community: Uint128::new(400),
            hw_total: Decimal::zero(),
            live_classes: Some(vec![]),
        })
        .unwrap();
        assert_eq!(out.commercial_usage, Uint128::new(150));
        assert_eq!(out.community_usage, Uint128::new(200));
        assert_eq!(out.figures.rate.as_decimal(), dec("0.25"));
        assert_eq!(out.awarded().unwrap(), Uint128::new(350));
        let one_call = |p| {
            out.figures
                .node_reward(p, Uint128::new(100), None)
                .unwrap()
                .usage
        };
        assert_eq!(one_call(Provenance::Commercial), Uint128::new(25));
        assert_eq!(one_call(Provenance::Community), Uint128::new(50));
    }

    /// Stipend caps: H = 900 over one h100 (weight 3, cap 100) and two rtx4090 (weight 1 each,
    /// cap 1_000): W = 5; h100 gets min(900 * 3 / 5, 100) = 100, each rtx4090
    /// min(900 / 5, 1_000) = 180. Awarded 460; 440 stays in the pool.
    #[test]
    fn stipend_caps_hand_computed() {
        let classes = vec![
            LiveClass {
                class: "h100".into(),
                weight: dec("3"),
                stipend_cap: Uint128::new(100),
                nodes: 1,
            },
            LiveClass {
                class: "rtx4090".into(),
                weight: dec("1"),
                stipend_cap: Uint128::new(1_000),
                nodes: 2,
            },
        ];
        assert_eq!(
            stipend_awarded(Uint128::new(900), dec("5"), &classes).unwrap(),
            Uint128::new(460)
        );
        assert_eq!(
            stipend_reward(
                Uint128::new(900),
                dec("3"),
                dec("5"),
                Some(Uint128::new(100))
            )
            .unwrap(),
            Uint128::new(100)
        );
        // Uncapped (an epoch of version 0.1): the whole share.
        assert_eq!(
            stipend_reward(Uint128::new(900), dec("3"), dec("5"), None).unwrap(),
            Uint128::new(540)
        );
    }

    fn arb_dec(max_atomics: u128) -> impl Strategy<Value = Decimal> {
        (0..=max_atomics).prop_map(|a| Decimal::new(Uint128::new(a)))
    }

    proptest! {
        /// m_community is in [1, M] for every M in [1, 10], S* in (0, 1], S in [0, 1].
        #[test]
        fn m_community_is_within_one_and_max(
            m in arb_dec(9_000_000_000_000_000_000),
            target in 1u128..=1_000_000_000_000_000_000,
            share in arb_dec(1_000_000_000_000_000_000),
        ) {
            let max = Decimal::one() + m;
            let target = Decimal::new(Uint128::new(target));
            let r = m_community(max, target, share).unwrap();
            prop_assert!(r >= Decimal::one());
            prop_assert!(r <= max);
        }
    }
}
