//! Property tests of the reward maths (issue 11, DESIGN §4): params are drawn over the whole
//! governance-bounded space (`alpha in [0, 0.9]`, `m_commercial in [0, 1]`, `M in [1, 10]`,
//! `S*` in `(0, 1]`, `v_cap in [1, 10^9]`, `c_call in [1, 10^12]`, weights in `[0, 100]`, stipend
//! caps in `[0, 10^15]`), tallies from zero to `u64` scale and budgets to `10^27` uopg.
//!
//! * **The invariant**: adding `w` calls of any values to one node's tally raises that node's
//!   usage reward for the epoch by at most `w * c_call`.
//! * The sum paid never exceeds `B`; usage never exceeds `(1 - alpha) B`, stipend never
//!   `alpha B`; no node's stipend exceeds its class's cap; what nodes are paid never exceeds what
//!   the epoch reserved for their class.
use cosmwasm_std::{Decimal, Uint128, Uint256};
use opg_core::types::Provenance;
use proptest::prelude::*;

use crate::maths::{counted_value, epoch_outcome, m_community, EpochInputs, LiveClass};

const ONE: u128 = 1_000_000_000_000_000_000;
const U64: u128 = u64::MAX as u128;

/// Decimals with atomics in `[lo, hi]` (1.0 = 10^18 atomics), with the ends drawn often.
fn dec_in(lo: u128, hi: u128) -> impl Strategy<Value = Decimal> {
    prop_oneof![
        1 => Just(Decimal::new(Uint128::new(lo))),
        1 => Just(Decimal::new(Uint128::new(hi))),
        6 => (lo..=hi).prop_map(|a| Decimal::new(Uint128::new(a))),
    ]
}

/// Amounts in `[0, max]` biased to 0, 1, `max` and small values.
fn amount(max: u128) -> impl Strategy<Value = u128> {
    prop_oneof![
        1 => Just(0u128),
        1 => Just(1u128),
        1 => Just(max),
        2 => 0u128..=1_000_000u128.min(max),
        5 => 0u128..=max,
    ]
}

/// One call's value (micro-USD): anything from 0 to `u64` scale, often around `v_cap`.
fn call_value() -> impl Strategy<Value = u128> {
    prop_oneof![
        1 => Just(0u128),
        2 => 0u128..=2_000_000_000u128,
        2 => 0u128..=U64,
    ]
}

/// Governance-bounded params and the previous epoch's community share.
#[derive(Clone, Debug)]
struct Params {
    budget: u128,
    alpha: Decimal,
    m_commercial: Decimal,
    m_community: Decimal,
    v_cap: u128,
    c_call: u128,
}

fn params() -> impl Strategy<Value = Params> {
    (
        amount(1_000_000_000 * ONE),
        dec_in(0, 9 * ONE / 10),
        dec_in(0, ONE),
        dec_in(ONE, 10 * ONE),
        dec_in(1, ONE),
        dec_in(0, ONE),
        1u128..=1_000_000_000u128,
        prop_oneof![
            Just(1u128),
            Just(1_000_000_000_000u128),
            1u128..=1_000_000_000_000u128
        ],
    )
        .prop_map(
            |(budget, alpha, m_commercial, max, target, share, v_cap, c_call)| Params {
                budget,
                alpha,
                m_commercial,
                m_community: m_community(max, target, share).unwrap(),
                v_cap,
                c_call,
            },
        )
}

impl Params {
    fn inputs(&self, eff_c: u128, eff_m: u128, classes: Vec<LiveClass>) -> EpochInputs {
        let hw_total = classes.iter().fold(Decimal::zero(), |w, c| {
            w + c.weight * Decimal::from_ratio(c.nodes, 1u32)
        });
        EpochInputs {
            budget: Uint128::new(self.budget),
            alpha: self.alpha,
            m_commercial: self.m_commercial,
            m_community: self.m_community,
            v_cap: Uint128::new(self.v_cap),
            c_call: Some(Uint128::new(self.c_call)),
            eff_commercial: Uint128::new(eff_c),
            eff_community: Uint128::new(eff_m),
            hw_total,
            live_classes: Some(classes),
        }
    }
}

/// `floor(f * B) >= x` checked exactly: `x * 10^18 <= f.atomics() * B`.
fn at_most_fraction(x: Uint128, f: Decimal, b: u128) -> bool {
    Uint256::from(x) * Uint256::from(ONE) <= Uint256::from(f.atomics()) * Uint256::from(b)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    /// The invariant (DESIGN §4): a node that adds `w` calls of arbitrary values (some listed, a
    /// bulk of `k` calls of one value) to its tally gains at most `w * c_call` of usage reward,
    /// whatever the other nodes of both classes did.
    #[test]
    fn added_calls_earn_at_most_c_call_each(
        p in params(),
        community in any::<bool>(),
        own in amount(U64),
        others_c in amount(U64),
        others_m in amount(U64),
        listed in prop::collection::vec(call_value(), 0..12),
        bulk_calls in amount(1_000_000_000_000),
        bulk_value in call_value(),
    ) {
        let v_cap = Uint128::new(p.v_cap);
        let bulk_counted = counted_value(Uint128::new(bulk_value), v_cap).u128() * bulk_calls;
        let added: u128 = listed
            .iter()
            .map(|v| counted_value(Uint128::new(*v), v_cap).u128())
            .sum::<u128>()
            + bulk_counted;
        let w = listed.len() as u128 + bulk_calls;
        let provenance = if community { Provenance::Community } else { Provenance::Commercial };
        let usage = |own: u128| {
            let (c, m) = if community { (others_c, others_m + own) } else { (others_c + own, others_m) };
            let out = epoch_outcome(&p.inputs(c, m, vec![])).unwrap();
            out.figures.node_reward(provenance, Uint128::new(own), None).unwrap().usage
        };
        let before = usage(own);
        let after = usage(own + added);
        let bound = Uint256::from(before) + Uint256::from(w) * Uint256::from(p.c_call);
        prop_assert!(
            Uint256::from(after) <= bound,
            "{w} calls raised usage {before} -> {after} (c_call {})", p.c_call
        );
    }

    /// Budget and caps: for any set of nodes (commercial, community with or without a live
    /// hardware class), the rewards the nodes can claim respect every bound of DESIGN §4.
    #[test]
    fn payouts_respect_the_budget_its_parts_and_the_caps(
        p in params(),
        commercial in prop::collection::vec(amount(U64), 0..6),
        community in prop::collection::vec((amount(U64), prop::option::of(0usize..3)), 0..6),
        class_params in prop::collection::vec(
            (dec_in(0, 100 * ONE), amount(1_000_000_000_000_000)),
            3,
        ),
    ) {
        let eff_c: u128 = commercial.iter().sum();
        let eff_m: u128 = community.iter().map(|(e, _)| e).sum();
        let classes: Vec<LiveClass> = class_params
            .iter()
            .enumerate()
            .map(|(i, (weight, cap))| LiveClass {
                class: format!("c{i}"),
                weight: *weight,
                stipend_cap: Uint128::new(*cap),
                nodes: community.iter().filter(|(_, c)| *c == Some(i)).count() as u32,
            })
            .filter(|c| c.nodes > 0 && !c.weight.is_zero())
            .collect();
        let out = epoch_outcome(&p.inputs(eff_c, eff_m, classes)).unwrap();
        let f = &out.figures;

        let (mut usage_c, mut usage_m, mut stipend) = (Uint128::zero(), Uint128::zero(), Uint128::zero());
        for e in &commercial {
            let r = f.node_reward(Provenance::Commercial, Uint128::new(*e), None).unwrap();
            prop_assert!(r.stipend.is_zero());
            usage_c += r.usage;
        }
        for (e, class) in &community {
            let live = class.map(|i| (class_params[i].0, Some(Uint128::new(class_params[i].1))));
            let r = f.node_reward(Provenance::Community, Uint128::new(*e), live).unwrap();
            if let Some(i) = class {
                prop_assert!(r.stipend <= Uint128::new(class_params[*i].1), "stipend above its cap");
            }
            usage_m += r.usage;
            stipend += r.stipend;
        }
        // What nodes can claim fits in what the epoch reserved, class by class.
        prop_assert!(usage_c <= out.commercial_usage);
        prop_assert!(usage_m <= out.community_usage);
        prop_assert!(stipend <= out.stipend_awarded);
        // Parts within their shares of B, and the whole within B.
        let usage_awarded = out.commercial_usage + out.community_usage;
        prop_assert!(usage_awarded <= out.usage_budget);
        prop_assert!(at_most_fraction(out.usage_budget, Decimal::one() - p.alpha, p.budget));
        prop_assert!(out.stipend_awarded <= f.stipend_budget);
        prop_assert!(at_most_fraction(f.stipend_budget, p.alpha, p.budget));
        prop_assert!(out.awarded().unwrap() <= Uint128::new(p.budget));
        // No call earns more than c_call: the rate is at most c_call / (m_max v_cap), and
        // m_max = m_community (>= 1 >= m_commercial).
        let full_call = f
            .node_reward(Provenance::Community, Uint128::new(p.v_cap), None)
            .unwrap()
            .usage;
        prop_assert!(full_call <= Uint128::new(p.c_call), "one call at v_cap earns {full_call}");
    }
}

proptest! {
    /// At `Uint128` extremes (budget and both class totals up to `u128::MAX`, no per-call cap):
    /// nothing overflows or panics, and the nodes together are paid at most the budget.
    #[test]
    fn no_overflow_at_uint128_extremes(
        budget in prop_oneof![Just(u128::MAX), any::<u128>()],
        eff_c in prop_oneof![Just(u128::MAX), any::<u128>()],
        eff_m in prop_oneof![Just(u128::MAX), any::<u128>()],
        alpha in dec_in(0, 9 * ONE / 10),
        m_c in dec_in(0, ONE),
        m_m in dec_in(ONE, 10 * ONE),
        c_call in prop::option::of(1u128..=1_000_000_000_000u128),
    ) {
        let i = EpochInputs {
            budget: Uint128::new(budget),
            alpha,
            m_commercial: m_c,
            m_community: m_m,
            v_cap: Uint128::new(1_000_000_000),
            c_call: c_call.map(Uint128::new),
            eff_commercial: Uint128::new(eff_c),
            eff_community: Uint128::new(eff_m),
            hw_total: Decimal::zero(),
            live_classes: Some(vec![]),
        };
        let out = epoch_outcome(&i).unwrap();
        let a = out.figures.node_reward(Provenance::Commercial, Uint128::new(eff_c), None).unwrap();
        let b = out.figures.node_reward(Provenance::Community, Uint128::new(eff_m), None).unwrap();
        prop_assert!(a.usage.checked_add(b.usage).unwrap() <= Uint128::new(budget));
    }
}
