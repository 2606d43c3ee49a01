//! A full epoch over the three real contracts: register -> submit receipts -> finalize -> claim,
//! with payouts checked against hand-computed numbers, then a second epoch with the bootstrap taper.
use cosmwasm_std::{Decimal, Uint128};
use opg_integration_tests::{dec, reasons, SuiteBuilder, GPT, H100, LLAMA};

#[test]
fn full_epoch_pays_hand_computed_rewards_and_tapers_the_boost() {
    // Pool funded with 5,000,000 uopg; emission 1,000,000 per epoch; m_c = 0.5, M = 3, S* = 0.5,
    // alpha = 0.2, h100 weight 2 (default_params).
    let mut s = SuiteBuilder::new().with_pool_funds(5_000_000).build();
    s.register_proxy("proxy-1", &[GPT], 1_000_000).unwrap();
    s.register_local("local-1", &[LLAMA], H100, 1_000_000)
        .unwrap();
    let alice = s.payer("alice");
    let bob = s.payer("bob");

    // ---- epoch 0
    s.goto_epoch(0, 1_000);
    let t = s.now() - 10;
    let batch = vec![
        s.receipt("proxy-1", &alice, 10_000, t),
        s.receipt("proxy-1", &alice, 10_000, t),
        s.receipt("proxy-1", &alice, 10_000, t),
        s.receipt("proxy-1", &bob, 30_000, t),
        s.receipt("local-1", &alice, 20_000, t),
        s.receipt("local-1", &alice, 20_000, t),
    ];
    let res = s.submit(batch, vec![]).unwrap();
    assert_eq!(reasons(&res), vec![None; 6]);
    assert_eq!((res.accepted, res.rejected), (6, 0));

    // Finalizing before end(0) + grace is refused.
    s.goto_epoch(0, 3_599);
    let err = s.finalize(0).unwrap_err();
    assert!(
        opg_integration_tests::root_error(&err).contains("cannot be finalized"),
        "{err:?}"
    );
    s.goto_finalizable(0);
    s.finalize(0).unwrap();

    // USDC has 6 decimals: 1 unit = 1 micro-USD.
    // proxy-1 raw = eff = 3 * 10,000 + 30,000 = 60,000; local-1 raw = eff = 40,000.
    // S(-1) = 0 -> m_community(0) = 1 + (3 - 1) * (1 - 0) = 3.
    // B = min(1,000,000, 5,000,000 - 0) = 1,000,000; H = 0.2 * B = 200,000; U = 800,000.
    // D = 0.5 * 60,000 + 3 * 40,000 = 30,000 + 120,000 = 150,000.
    // proxy-1 = floor(800,000 * 30,000 / 150,000) = 160,000.
    // local-1 = floor(800,000 * 120,000 / 150,000) + 200,000 * 2 / 2 = 640,000 + 200,000 = 840,000.
    let r0 = s.epoch_report(0);
    assert!(r0.finalized);
    assert_eq!(r0.budget, Uint128::new(1_000_000));
    assert_eq!(r0.m_commercial, dec("0.5"));
    assert_eq!(r0.m_community, dec("3"));
    assert_eq!(r0.commercial.calls, 4);
    assert_eq!(r0.commercial.raw_value, Uint128::new(60_000));
    assert_eq!(r0.commercial.counted_value, Uint128::new(60_000));
    assert_eq!(r0.commercial.usage_rewards, Uint128::new(160_000));
    assert_eq!(r0.community.calls, 2);
    assert_eq!(r0.community.raw_value, Uint128::new(40_000));
    assert_eq!(r0.community.usage_rewards, Uint128::new(640_000));
    assert_eq!(r0.community.stipend, Uint128::new(200_000));
    // community share = 40,000 / 100,000 = 0.4
    assert_eq!(r0.community_share, dec("0.4"));
    assert_eq!(r0.live_local_nodes, 1);
    assert_eq!(r0.hardware_weight_total, dec("2"));
    assert_eq!(r0.paid, Uint128::zero());

    assert_eq!(s.pending("proxy-1").amount, Uint128::new(160_000));
    assert_eq!(s.pending("local-1").amount, Uint128::new(840_000));
    assert_eq!(s.claim("proxy-1").unwrap(), 160_000);
    assert_eq!(s.claim("local-1").unwrap(), 840_000);
    // B paid in full: 160,000 + 840,000 = 1,000,000.
    assert_eq!(s.epoch_report(0).paid, Uint128::new(1_000_000));
    assert_eq!(s.balance(&s.pool.clone()), 4_000_000);
    // A second claim finds nothing.
    let err = s.claim("proxy-1").unwrap_err();
    assert!(
        opg_integration_tests::root_error(&err).contains("nothing to claim")
            || format!("{err:?}").contains("NothingToClaim"),
        "{err:?}"
    );

    // ---- epoch 1: the taper. S(0) = 0.4 -> m_community(1) = 1 + 2 * (1 - 0.4 / 0.5) = 1.4.
    let m1 = s.multipliers(1);
    assert_eq!(m1.previous_community_share, dec("0.4"));
    assert_eq!(m1.m_community, dec("1.4"));
    assert_eq!(m1.m_commercial, dec("0.5"));

    s.goto_epoch(1, 700);
    let t = s.now() - 1;
    let batch = vec![
        s.receipt("proxy-1", &alice, 10_000, t),
        s.receipt("local-1", &bob, 10_000, t),
    ];
    let res = s.submit(batch, vec![]).unwrap();
    assert_eq!(res.accepted, 2);
    s.goto_finalizable(1);
    s.finalize(1).unwrap();
    // Pool balance 4,000,000, reserved 0: B = 1,000,000, H = 200,000, U = 800,000.
    // D = 0.5 * 10,000 + 1.4 * 10,000 = 5,000 + 14,000 = 19,000.
    // proxy-1 = floor(800,000 * 5,000 / 19,000) = floor(210,526.3) = 210,526.
    // local-1 = floor(800,000 * 14,000 / 19,000) + 200,000 = 589,473 + 200,000 = 789,473.
    // Sum 999,999 <= B: one uopg of rounding dust stays in the pool.
    let r1 = s.epoch_report(1);
    assert_eq!(r1.m_community, dec("1.4"));
    assert_eq!(r1.budget, Uint128::new(1_000_000));
    assert_eq!(s.claim("proxy-1").unwrap(), 210_526);
    assert_eq!(s.claim("local-1").unwrap(), 789_473);
    assert_eq!(s.epoch_report(1).paid, Uint128::new(999_999));
    assert!(s.epoch_report(1).paid <= r1.budget);
    assert!(m1.m_community > Decimal::one());
}

#[test]
fn heartbeat_makes_an_idle_local_node_live_for_the_stipend() {
    let mut s = SuiteBuilder::new().with_pool_funds(5_000_000).build();
    s.register_proxy("proxy-1", &[GPT], 1_000_000).unwrap();
    s.register_local("local-1", &[LLAMA], H100, 1_000_000)
        .unwrap();
    let alice = s.payer("alice");
    s.goto_epoch(0, 100);
    let t = s.now() - 1;
    let receipt = s.receipt("proxy-1", &alice, 50_000, t);
    let hb = s.heartbeat("local-1", 0, t);
    let res = s.submit(vec![receipt], vec![hb]).unwrap();
    assert_eq!(res.accepted, 1);
    assert_eq!(res.heartbeats.len(), 1);
    assert_eq!(res.heartbeats[0].rejected, None);
    s.goto_finalizable(0);
    s.finalize(0).unwrap();
    // B = 1,000,000: H = 200,000 to the only live local node (no usage of its own);
    // U = 800,000 to proxy-1, the only node with usage: floor(800,000 * 25,000 / 25,000).
    assert_eq!(s.claim("local-1").unwrap(), 200_000);
    assert_eq!(s.claim("proxy-1").unwrap(), 800_000);
    let r = s.epoch_report(0);
    assert_eq!(r.live_local_nodes, 1);
    assert_eq!(r.community.calls, 0);
}
