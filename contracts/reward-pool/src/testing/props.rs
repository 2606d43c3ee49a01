//! Properties of the reward maths that `maths.rs`'s own proptests do not cover (issue 6):
//! no overflow or panic at `Uint128` extremes, and the payer cap bounding what any single payer
//! can buy for a node.
use cosmwasm_std::{Decimal, Uint128};
use opg_core::types::Provenance;
use proptest::prelude::*;

use crate::maths::{capped_increment, denominator, split_budget, EpochFigures};

/// Decimals with atomics in `[lo, hi]` (1.0 = 10^18 atomics).
fn dec_in(lo: u128, hi: u128) -> impl Strategy<Value = Decimal> {
    (lo..=hi).prop_map(|a| Decimal::new(Uint128::new(a)))
}

/// Amounts biased to the extremes: 0, 1, around `u128::MAX`, or anything.
fn amount() -> impl Strategy<Value = Uint128> {
    prop_oneof![
        Just(Uint128::zero()),
        Just(Uint128::one()),
        Just(Uint128::MAX),
        (0u128..1000).prop_map(|d| Uint128::new(u128::MAX - d)),
        any::<u128>().prop_map(Uint128::new),
    ]
}

const ONE: u128 = 1_000_000_000_000_000_000;

fn figures(
    budget: Uint128,
    alpha: Decimal,
    m_c: Decimal,
    m_k: Decimal,
    eff_c: Uint128,
    eff_k: Uint128,
    hw_total: Decimal,
) -> EpochFigures {
    let (usage_budget, stipend_budget) = split_budget(budget, alpha, true, true).unwrap();
    EpochFigures {
        usage_budget,
        stipend_budget,
        m_commercial: m_c,
        m_community: m_k,
        denominator: denominator(m_c, eff_c, m_k, eff_k).unwrap(),
        hw_total,
    }
}

proptest! {
    /// With every amount up to `u128::MAX` (budget, both class totals), multipliers in [0, 10],
    /// alpha in [0, 0.5] and hardware weights up to 10^6: nothing overflows or panics, and two
    /// nodes that make up the whole of both classes are paid at most the budget together.
    #[test]
    fn no_overflow_at_uint128_extremes(
        budget in amount(),
        eff_c in amount(),
        eff_k in amount(),
        alpha in dec_in(0, ONE / 2),
        m_c in dec_in(0, ONE),
        m_k in dec_in(ONE, 10 * ONE),
        hw in dec_in(1, 1_000_000 * ONE),
    ) {
        let f = figures(budget, alpha, m_c, m_k, eff_c, eff_k, hw);
        prop_assert!(f.usage_budget + f.stipend_budget <= budget);
        let a = f.node_reward(Provenance::Commercial, eff_c, None).unwrap();
        let b = f.node_reward(Provenance::Community, eff_k, Some(hw)).unwrap();
        prop_assert!(a.checked_add(b).unwrap() <= budget, "{a} + {b} > {budget}");
    }

    /// A single payer's influence is bounded by the cap: whatever it spends on one node (in any
    /// number of payments), the node's effective value from it is min(spent, cap), so the node's
    /// reward with a payer spending `cap + extra` equals its reward with the payer spending `cap`.
    #[test]
    fn payer_cap_bounds_a_single_payers_influence(
        cap in 1u128..=1_000_000_000_000u128,
        payments in proptest::collection::vec(0u128..=1_000_000_000_000u128, 1..20),
        extra in 0u128..=u128::MAX / 2,
        others in 0u128..=1_000_000_000_000u128,
        budget in 1u128..=1_000_000_000_000_000u128,
    ) {
        let cap_u = Uint128::new(cap);
        let mut spent = Uint128::zero();
        let mut eff = Uint128::zero();
        for p in &payments {
            eff += capped_increment(spent, Uint128::new(*p), cap_u);
            spent = spent.saturating_add(Uint128::new(*p));
        }
        prop_assert_eq!(eff, spent.min(cap_u));
        // one more payment of any size after the cap adds nothing
        let more = capped_increment(spent, Uint128::new(extra), cap_u);
        prop_assert!(eff + more <= cap_u);

        // reward of node A (only this payer) next to node B (others): saturates at the cap
        let m = Decimal::one();
        let reward_at = |eff_a: Uint128| {
            let f = figures(
                Uint128::new(budget),
                Decimal::zero(),
                m,
                m,
                eff_a + Uint128::new(others),
                Uint128::zero(),
                Decimal::one(),
            );
            f.node_reward(Provenance::Commercial, eff_a, None).unwrap()
        };
        let at_cap = reward_at(cap_u);
        let beyond = reward_at(capped_increment(Uint128::zero(), Uint128::new(cap).saturating_add(Uint128::new(extra)), cap_u));
        prop_assert_eq!(at_cap, beyond);
        // and it never exceeds the share the cap allows: budget * cap / (cap + others)
        let bound = Uint128::new(budget).multiply_ratio(cap, cap + others);
        prop_assert!(at_cap <= bound);
    }
}
