//! The rewards v2 maths through the contract (issue 11): the per-call cap `c_call`, per-class
//! stipend caps, what is left unpaid staying in the pool, and the per-class report.
use cosmwasm_std::{Decimal, Uint128};

use super::suite::*;

/// B = 1_000_000, alpha = 0.5: U = H = 500_000. v_cap = 100 micro-USD, c_call = 40 uopg, M = 3
/// (epoch 0: m_community = 3 = m_max), m_c = 1.
/// Usage: proxy-1 5 calls (values 100 each, plus one of 10_000 counted 100: counted 600 over 6
/// calls), local-1 4 calls counted 400. D = 600 + 3 * 400 = 1_800; U / D = 277.7 uopg per
/// weighted micro-USD; the cap c_call / (m_max v_cap) = 40 / 300 binds. proxy-1:
/// floor(600 * 40 / 300) = 80; local-1: floor(1_200 * 40 / 300) = 160. Usage unpaid 499_760.
/// Stipend: local-1 h100 (weight 1.5, cap 1_000), local-2 rtx4090 (weight 1, cap 10^9):
/// W = 2.5; local-1 min(500_000 * 1.5 / 2.5, 1_000) = 1_000; local-2 200_000. Unpaid 299_000.
#[test]
fn per_call_cap_and_stipend_caps_leave_the_rest_in_the_pool() {
    let mut params = default_params();
    params.alpha = dec("0.5");
    params.v_cap = Uint128::new(100);
    params.c_call = Some(Uint128::new(40));
    params.hardware_weights[0].stipend_cap = Uint128::new(1_000);
    let mut s = Suite::with_params(params);
    s.fund(1_000_000).unwrap();
    s.in_epoch(0);
    s.record(
        vec![
            usage_counted(0, "proxy-1", 6, 10_500, 600),
            usage(0, "local-1", 4, 400),
        ],
        vec![live(0, "local-1", "h100"), live(0, "local-2", "rtx4090")],
    )
    .unwrap();
    s.close(0);

    let r = s.report(0);
    assert_eq!(r.budget, Uint128::new(1_000_000));
    assert_eq!(r.usage_budget, Uint128::new(500_000));
    assert_eq!(r.stipend_budget, Uint128::new(500_000));
    assert_eq!(r.c_call, Some(Uint128::new(40)));
    assert_eq!(r.v_cap, Uint128::new(100));
    // 40 / 300 uopg per weighted micro-USD, rounded down at 18 decimals.
    assert_eq!(r.rate, dec("0.133333333333333333"));
    assert_eq!(r.commercial.raw_value, Uint128::new(10_500));
    assert_eq!(r.commercial.counted_value, Uint128::new(600));
    assert_eq!(r.commercial.usage_rewards, Uint128::new(80));
    assert_eq!(r.community.usage_rewards, Uint128::new(160));
    assert_eq!(r.community.stipend, Uint128::new(201_000));
    assert_eq!(r.usage_unpaid, Uint128::new(499_760));
    assert_eq!(r.stipend_unpaid, Uint128::new(299_000));
    // Only what is awarded is reserved; the rest is free for the next epochs.
    assert_eq!(s.config().reserved, Uint128::new(80 + 160 + 201_000));

    let local1 = &s.node_rewards("local-1", None, None).epochs[0];
    assert_eq!(local1.usage_reward, Some(Uint128::new(160)));
    assert_eq!(local1.stipend_reward, Some(Uint128::new(1_000)));
    assert_eq!(local1.reward, Some(Uint128::new(1_160)));
    let local2 = &s.node_rewards("local-2", None, None).epochs[0];
    assert_eq!(local2.stipend_reward, Some(Uint128::new(200_000)));

    for n in ["proxy-1", "local-1", "local-2"] {
        s.claim(n, None).unwrap();
    }
    let r = s.report(0);
    assert_eq!(r.commercial.usage_paid, Uint128::new(80));
    assert_eq!(r.community.usage_paid, Uint128::new(160));
    assert_eq!(r.community.stipend_paid, Uint128::new(201_000));
    assert_eq!(r.paid, Uint128::new(201_240));
    assert_eq!(s.config().reserved, Uint128::zero());
    // The unpaid parts stayed in the pool: all but the 201_240 paid funds epoch 1's budget.
    assert_eq!(s.balance(&s.pool.clone()), 798_760);
    s.close(1);
    assert_eq!(s.report(1).budget, Uint128::new(798_760));
}

/// Wash trading through the contract: an operator who adds `w` self-paid calls (of any value,
/// even far above v_cap) to his node gains at most `w * c_call` of usage reward; with the rate at
/// the budget (c_call not binding) his added calls only dilute it.
#[test]
fn added_calls_earn_at_most_c_call_each_through_the_contract() {
    let run = |extra_calls: u64, extra_value: u128, c_call: u128| {
        let mut params = default_params();
        params.m_community_max = Decimal::one();
        params.v_cap = Uint128::new(1_000);
        params.c_call = Some(Uint128::new(c_call));
        let mut s = Suite::with_params(params);
        s.fund(1_000_000).unwrap();
        s.in_epoch(0);
        let mut entries = vec![
            usage(0, "proxy-1", 100, 50_000),
            usage(0, "proxy-2", 300, 150_000),
        ];
        if extra_calls > 0 {
            let counted = extra_value.min(1_000) * u128::from(extra_calls);
            entries.push(usage_counted(
                0,
                "proxy-2",
                extra_calls,
                extra_value * u128::from(extra_calls),
                counted,
            ));
        }
        s.record(entries, vec![]).unwrap();
        s.close(0);
        s.node_rewards("proxy-2", None, None).epochs[0]
            .usage_reward
            .unwrap()
            .u128()
    };
    // c_call = 10 binds (the budget rate would be 800_000 / 200_000 = 4 uopg per micro-USD):
    // rate 10 / 1_000; proxy-2 earns floor(150_000 / 100) = 1_500.
    let honest = run(0, 0, 10);
    assert_eq!(honest, 1_500);
    for (w, value) in [(1u64, 1_000_000u128), (50, 1_000), (1_000, 5_000_000)] {
        let washed = run(w, value, 10);
        assert!(
            washed <= honest + u128::from(w) * 10,
            "{w} calls of {value}: {honest} -> {washed}"
        );
    }
    // c_call high enough not to bind: the budget is split by counted value; added calls gain
    // far less than w * c_call.
    let honest = run(0, 0, 1_000_000);
    let washed = run(100, 1_000_000, 1_000_000);
    assert!(washed <= honest + 100 * 1_000_000);
    assert!(washed < 800_000);
}
