//! The pure reward maths of DESIGN §4, over plain values: no storage, no environment.
//!
//! Conventions: money (uopg) and value (micro-USD) are `Uint128`; multipliers and weights are
//! `Decimal` (18 decimals). A *weighted value* `m * eff` is kept exact as a `Uint256` scaled by
//! 10^18 (`m.atomics() * eff`), so the usage denominator `D = sum_k m(k) eff(k)` is exactly the sum
//! of the nodes' weighted values and `sum_n floor(U * w(n) / D) <= U` holds without rounding slack.
//! Every division rounds down.
use cosmwasm_std::{
    CheckedFromRatioError, CheckedMultiplyRatioError, ConversionOverflowError, Decimal,
    DivideByZeroError, OverflowError, Uint128, Uint256,
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

/// What an entry of `value` (micro-USD) adds to a node's effective value when the payer already
/// contributed `prior` to that node in the epoch: `min(prior + value, cap) - min(prior, cap)`.
pub fn capped_increment(prior: Uint128, value: Uint128, cap: Uint128) -> Uint128 {
    // A saturated sum is >= cap anyway (cap <= Uint128::MAX), so saturation is exact here.
    let after = prior.saturating_add(value).min(cap);
    after.saturating_sub(prior.min(cap))
}

/// Community share of raw value, `community / total`, rounded down; 0 when `total` is 0.
pub fn community_share(community_raw: Uint128, total_raw: Uint128) -> Result<Decimal, MathError> {
    if total_raw.is_zero() {
        return Ok(Decimal::zero());
    }
    Ok(Decimal::checked_from_ratio(community_raw, total_raw)?)
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

/// Splits `budget` into the usage part `U` and the stipend part `H` (uopg):
/// `H = floor(alpha * B)`, `U = B - H`; a part with nobody to receive it is 0 (it stays in the
/// pool). So `U + H <= B`.
pub fn split_budget(
    budget: Uint128,
    alpha: Decimal,
    usage_payable: bool,
    stipend_payable: bool,
) -> Result<(Uint128, Uint128), MathError> {
    let stipend = budget.checked_multiply_ratio(alpha.atomics(), Decimal::one().atomics())?;
    let usage = budget.checked_sub(stipend)?;
    Ok((
        if usage_payable {
            usage
        } else {
            Uint128::zero()
        },
        if stipend_payable {
            stipend
        } else {
            Uint128::zero()
        },
    ))
}

/// `floor(U * weighted / D)` (uopg); 0 when `D` is 0.
pub fn usage_reward(
    usage_budget: Uint128,
    weighted: Uint256,
    denominator: Uint256,
) -> Result<Uint128, MathError> {
    if denominator.is_zero() || weighted.is_zero() {
        return Ok(Uint128::zero());
    }
    let r = Uint256::from(usage_budget).checked_multiply_ratio(weighted, denominator)?;
    Ok(Uint128::try_from(r)?)
}

/// `floor(H * hw / W)` (uopg); 0 when `W` is 0.
pub fn stipend_reward(
    stipend_budget: Uint128,
    hw: Decimal,
    hw_total: Decimal,
) -> Result<Uint128, MathError> {
    if hw_total.is_zero() || hw.is_zero() {
        return Ok(Uint128::zero());
    }
    Ok(stipend_budget.checked_multiply_ratio(hw.atomics(), hw_total.atomics())?)
}

/// The fixed figures of a finalized epoch a node's reward is computed from.
#[derive(Clone, Debug, PartialEq)]
pub struct EpochFigures {
    /// `U` (uopg).
    pub usage_budget: Uint128,
    /// `H` (uopg).
    pub stipend_budget: Uint128,
    /// `m_commercial`.
    pub m_commercial: Decimal,
    /// `m_community(e)`.
    pub m_community: Decimal,
    /// `D`, scaled by 10^18.
    pub denominator: Uint256,
    /// `W`, the hardware weight total of live local nodes.
    pub hw_total: Decimal,
}

impl EpochFigures {
    /// The multiplier of a provenance class.
    pub fn multiplier(&self, provenance: Provenance) -> Decimal {
        match provenance {
            Provenance::Commercial => self.m_commercial,
            Provenance::Community => self.m_community,
        }
    }

    /// `reward(n) = floor(U * m(n) eff(n) / D) + floor(H * hw(n) / W)` (uopg); `live_hw` is the
    /// node's hardware weight if it was a live local node, `None` otherwise.
    pub fn node_reward(
        &self,
        provenance: Provenance,
        effective_value: Uint128,
        live_hw: Option<Decimal>,
    ) -> Result<Uint128, MathError> {
        let w = weighted_value(self.multiplier(provenance), effective_value);
        let usage = usage_reward(self.usage_budget, w, self.denominator)?;
        let stipend = match live_hw {
            Some(hw) => stipend_reward(self.stipend_budget, hw, self.hw_total)?,
            None => Uint128::zero(),
        };
        Ok(usage.checked_add(stipend)?)
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
    fn capped_increment_counts_up_to_the_cap() {
        let cap = Uint128::new(100);
        // 0 -> 60: all 60 count.
        assert_eq!(
            capped_increment(Uint128::zero(), Uint128::new(60), cap),
            Uint128::new(60)
        );
        // 60 -> 130: only 40 more count.
        assert_eq!(
            capped_increment(Uint128::new(60), Uint128::new(70), cap),
            Uint128::new(40)
        );
        // already past the cap: nothing.
        assert_eq!(
            capped_increment(Uint128::new(130), Uint128::new(5), cap),
            Uint128::zero()
        );
        // saturating sum is still exact.
        assert_eq!(
            capped_increment(Uint128::MAX, Uint128::MAX, cap),
            Uint128::zero()
        );
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
    fn split_budget_rounds_the_stipend_down_and_keeps_unpayable_parts() {
        // B = 1001, alpha = 0.2: H = floor(200.2) = 200, U = 801.
        let b = Uint128::new(1001);
        assert_eq!(
            split_budget(b, dec("0.2"), true, true).unwrap(),
            (Uint128::new(801), Uint128::new(200))
        );
        assert_eq!(
            split_budget(b, dec("0.2"), false, true).unwrap(),
            (Uint128::zero(), Uint128::new(200))
        );
        assert_eq!(
            split_budget(b, dec("0.2"), true, false).unwrap(),
            (Uint128::new(801), Uint128::zero())
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
        // local: floor(800_000 * 800 / 1400) = floor(457_142.85) = 457_142, + all of H = 657_142.
        let fig = EpochFigures {
            usage_budget: Uint128::new(800_000),
            stipend_budget: Uint128::new(200_000),
            m_commercial: Decimal::one(),
            m_community: dec("2"),
            denominator: denominator(
                Decimal::one(),
                Uint128::new(600),
                dec("2"),
                Uint128::new(400),
            )
            .unwrap(),
            hw_total: dec("1.5"),
        };
        assert_eq!(
            fig.node_reward(Provenance::Commercial, Uint128::new(600), None)
                .unwrap(),
            Uint128::new(342_857)
        );
        assert_eq!(
            fig.node_reward(Provenance::Community, Uint128::new(400), Some(dec("1.5")))
                .unwrap(),
            Uint128::new(657_142)
        );
        // Sum 999_999 <= B: one uopg of rounding dust.
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

        /// The rewards of all nodes of an epoch never sum above the budget.
        #[test]
        fn sum_of_node_rewards_is_within_budget(
            b in 0u128..=1_000_000_000_000_000u128,
            alpha in arb_dec(500_000_000_000_000_000),
            m_c in arb_dec(1_000_000_000_000_000_000),
            m_m in arb_dec(10_000_000_000_000_000_000),
            commercial in prop::collection::vec(0u128..=1_000_000_000_000u128, 0..8),
            community in prop::collection::vec(
                (0u128..=1_000_000_000_000u128, prop::option::of(arb_dec(100_000_000_000_000_000_000))),
                0..8,
            ),
        ) {
            let eff_c: u128 = commercial.iter().sum();
            let eff_m: u128 = community.iter().map(|(e, _)| e).sum();
            let hw_total = community
                .iter()
                .filter_map(|(_, hw)| *hw)
                .fold(Decimal::zero(), |a, w| a + w);
            let d = denominator(m_c, Uint128::new(eff_c), m_m, Uint128::new(eff_m)).unwrap();
            let budget = Uint128::new(b);
            let (u, h) = split_budget(budget, alpha, !d.is_zero(), !hw_total.is_zero()).unwrap();
            prop_assert!(u + h <= budget);
            let fig = EpochFigures {
                usage_budget: u,
                stipend_budget: h,
                m_commercial: m_c,
                m_community: m_m,
                denominator: d,
                hw_total,
            };
            let mut sum = Uint128::zero();
            for e in &commercial {
                sum += fig.node_reward(Provenance::Commercial, Uint128::new(*e), None).unwrap();
            }
            for (e, hw) in &community {
                sum += fig.node_reward(Provenance::Community, Uint128::new(*e), *hw).unwrap();
            }
            prop_assert!(sum <= u + h);
        }

        /// With all else equal, a node whose effective usage grows (by `extra`, which also grows
        /// the class total and so the denominator) never earns less.
        #[test]
        fn reward_is_monotone_in_effective_usage(
            u in 0u128..=1_000_000_000_000_000u128,
            m_c in arb_dec(1_000_000_000_000_000_000),
            m_m in arb_dec(10_000_000_000_000_000_000),
            own in 0u128..=1_000_000_000_000u128,
            extra in 0u128..=1_000_000_000_000u128,
            others_c in 0u128..=1_000_000_000_000u128,
            others_m in 0u128..=1_000_000_000_000u128,
            community_node in any::<bool>(),
        ) {
            let reward = |own: u128| {
                let (eff_c, eff_m) = if community_node {
                    (others_c, others_m + own)
                } else {
                    (others_c + own, others_m)
                };
                let fig = EpochFigures {
                    usage_budget: Uint128::new(u),
                    stipend_budget: Uint128::zero(),
                    m_commercial: m_c,
                    m_community: m_m,
                    denominator: denominator(m_c, Uint128::new(eff_c), m_m, Uint128::new(eff_m))
                        .unwrap(),
                    hw_total: Decimal::zero(),
                };
                let p = if community_node { Provenance::Community } else { Provenance::Commercial };
                fig.node_reward(p, Uint128::new(own), None).unwrap()
            };
            prop_assert!(reward(own + extra) >= reward(own));
        }

        /// The capped increments of any sequence of entries sum to min(total, cap).
        #[test]
        fn capped_increments_sum_to_the_capped_total(
            cap in 1u128..=1_000_000u128,
            values in prop::collection::vec(0u128..=500_000u128, 0..16),
        ) {
            let cap = Uint128::new(cap);
            let mut prior = Uint128::zero();
            let mut eff = Uint128::zero();
            for v in &values {
                eff += capped_increment(prior, Uint128::new(*v), cap);
                prior += Uint128::new(*v);
            }
            prop_assert_eq!(eff, prior.min(cap));
        }
    }
}
