//! `FinalizeEpoch`, multipliers, budgets and the hand-computed reward cases.
use cosmwasm_std::{Decimal, Uint128};

use super::suite::*;
use crate::ContractError;

fn attr(res: &cw_multi_test::AppResponse, key: &str) -> String {
    res.events
        .iter()
        .flat_map(|e| e.attributes.iter())
        .find(|a| a.key == key)
        .map(|a| a.value.clone())
        .unwrap_or_else(|| panic!("no attribute {key}"))
}

#[test]
fn finalize_is_in_order_and_only_after_the_grace() {
    let mut s = Suite::new();
    s.in_epoch(0);
    // Epoch 0 is running.
    assert_eq!(
        s.finalize(0).unwrap_err(),
        ContractError::EpochNotOver {
            epoch: 0,
            ends_at: GENESIS + EPOCH + GRACE
        }
    );
    // During the grace window, one second before its end.
    s.set_time(GENESIS + EPOCH + GRACE - 1);
    assert_eq!(
        s.finalize(0).unwrap_err(),
        ContractError::EpochNotOver {
            epoch: 0,
            ends_at: GENESIS + EPOCH + GRACE
        }
    );
    // Out of order: epoch 1 before epoch 0, even when 1 is over.
    s.after_grace(1);
    assert_eq!(
        s.finalize(1).unwrap_err(),
        ContractError::EpochOutOfOrder {
            expected: 0,
            got: 1
        }
    );
    s.finalize(0).unwrap();
    assert_eq!(
        s.finalize(0).unwrap_err(),
        ContractError::EpochOutOfOrder {
            expected: 1,
            got: 0
        }
    );
    s.finalize(1).unwrap();
    assert_eq!(s.config().next_to_finalize, 2);
    assert!(s.report(1).finalized);
}

/// The brief's case. Emission B = 1_000_000, alpha = 0.2, M = 3, S* = 0.5, m_c = 1.
///
/// Epoch 0: proxy-1 raw 300, local-1 raw 100 (not live). m_m(0) = 3 (no previous epoch).
///   D = 1*300 + 3*100 = 600; W = 0 so H = 0 and the stipend stays in the pool; U = 800_000.
///   proxy-1: floor(800_000 * 300 / 600) = 400_000; local-1: 400_000. Reserved 800_000.
/// Epoch 1: proxy-1 eff 600, local-1 eff 400 and live (h100, weight 1.5).
///   S(0) = 100 / 400 = 0.25 => m_m = 1 + (3 - 1) * (1 - 0.25 / 0.5) = 2.
///   B = min(1_000_000, 3_000_000 - 800_000) = 1_000_000; H = 200_000; U = 800_000.
///   D = 1*600 + 2*400 = 1400.
///   proxy-1: floor(800_000 * 600 / 1400) = floor(342_857.14) = 342_857.
///   local-1: floor(800_000 * 800 / 1400) = floor(457_142.86) = 457_142, + 200_000 * 1.5/1.5
///   = 657_142. Sum 999_999 <= B.
#[test]
fn hand_computed_two_epochs() {
    let mut s = Suite::new();
    s.fund(3_000_000).unwrap();
    s.in_epoch(0);
    s.record(
        vec![usage(0, "proxy-1", 3, 300), usage(0, "local-1", 1, 100)],
        vec![],
    )
    .unwrap();
    s.in_epoch(1);
    s.record(
        vec![usage(1, "proxy-1", 6, 600), usage(1, "local-1", 4, 400)],
        vec![live(1, "local-1", "h100")],
    )
    .unwrap();

    s.after_grace(0);
    let res = s.finalize(0).unwrap();
    assert_eq!(attr(&res, "action"), "finalize_epoch");
    assert_eq!(attr(&res, "budget"), "1000000");
    assert_eq!(attr(&res, "m_community"), "3");
    assert_eq!(attr(&res, "m_commercial"), "1");
    let r0 = s.report(0);
    assert!(r0.finalized);
    assert_eq!(r0.budget, Uint128::new(1_000_000));
    assert_eq!(r0.m_community, dec("3"));
    assert_eq!(r0.community_share, dec("0.25"));
    assert_eq!(r0.commercial.usage_rewards, Uint128::new(400_000));
    assert_eq!(r0.community.usage_rewards, Uint128::new(400_000));
    assert_eq!(r0.community.stipend, Uint128::zero());
    assert_eq!(s.config().reserved, Uint128::new(800_000));

    // Before epoch 1 is finalized its multipliers are projected from epoch 0.
    let m1 = s.multipliers(1);
    assert!(!m1.fixed);
    assert_eq!(m1.m_community, dec("2"));
    assert_eq!(m1.previous_community_share, dec("0.25"));

    s.after_grace(1);
    s.finalize(1).unwrap();
    let m1 = s.multipliers(1);
    assert!(m1.fixed);
    assert_eq!(m1.m_community, dec("2"));
    assert_eq!(m1.m_commercial, Decimal::one());
    let r1 = s.report(1);
    assert_eq!(r1.budget, Uint128::new(1_000_000));
    assert_eq!(r1.commercial.usage_rewards, Uint128::new(342_857));
    assert_eq!(r1.community.usage_rewards, Uint128::new(457_142));
    assert_eq!(r1.community.stipend, Uint128::new(200_000));
    // What the classes are awarded is reserved: 342_857 + 457_142 + 200_000; the 1 uopg of
    // class-level rounding stays in the pool.
    assert_eq!(r1.usage_unpaid, Uint128::new(1));
    assert_eq!(s.config().reserved, Uint128::new(1_799_999));

    let p = s.node_rewards("proxy-1", None, None);
    assert_eq!(p.epochs[0].reward, Some(Uint128::new(400_000)));
    assert_eq!(p.epochs[1].reward, Some(Uint128::new(342_857)));
    let l = s.node_rewards("local-1", None, None);
    assert_eq!(l.epochs[0].reward, Some(Uint128::new(400_000)));
    assert_eq!(l.epochs[1].reward, Some(Uint128::new(657_142)));
    assert_eq!(s.pending("proxy-1").amount, Uint128::new(742_857));
    assert_eq!(s.pending("local-1").amount, Uint128::new(1_057_142));
    assert_eq!(s.pending("local-1").epochs, 2);
}

/// Community share per epoch 0, 0.25, 0.5, 0.75 (commercial raw 300 each epoch) with M = 3,
/// S* = 0.5: m_m(0) = 3 (no previous), m_m(1) = 3 (S = 0), m_m(2) = 1 + 2 * 0.5 = 2,
/// m_m(3) = 1 (S = S*), m_m(4) = 1 (S > S*, clamped).
#[test]
fn taper_over_several_epochs() {
    let mut s = Suite::new();
    s.fund(10_000_000).unwrap();
    // Nothing recorded yet: full boost projected.
    assert_eq!(s.multipliers(0).m_community, dec("3"));
    let community = [0u128, 100, 300, 900];
    for (e, c) in community.iter().enumerate() {
        let e = e as u64;
        s.in_epoch(e);
        let mut entries = vec![usage(e, "proxy-1", 1, 300)];
        if *c > 0 {
            entries.push(usage(e, "local-1", 1, *c));
        }
        s.record(entries, vec![]).unwrap();
    }
    for e in 0..4 {
        s.close(e);
    }
    let expected = ["3", "3", "2", "1"];
    for (e, m) in expected.iter().enumerate() {
        let got = s.multipliers(e as u64);
        assert!(got.fixed);
        assert_eq!(got.m_community, dec(m), "epoch {e}");
    }
    assert_eq!(s.multipliers(2).previous_community_share, dec("0.25"));
    assert_eq!(s.report(3).community_share, dec("0.75"));
    let m4 = s.multipliers(4);
    assert!(!m4.fixed);
    assert_eq!(m4.m_community, dec("1"));
    assert_eq!(m4.previous_community_share, dec("0.75"));
}

#[test]
fn an_epoch_without_traffic_gives_the_next_one_full_boost() {
    let mut s = Suite::new();
    s.fund(1_000_000).unwrap();
    s.close(0);
    let r = s.report(0);
    // Nobody to pay: the budget is computed but nothing is reserved.
    assert_eq!(r.budget, Uint128::new(1_000_000));
    assert_eq!(s.config().reserved, Uint128::zero());
    assert_eq!(s.multipliers(1).m_community, dec("3"));
    assert_eq!(s.multipliers(1).previous_community_share, Decimal::zero());
}

/// Emission 1_000_000, pool funded 1_500_000.
/// Epoch 0: only proxy usage, no live node: B = 1_000_000, U = 800_000 reserved, the stipend
///   200_000 stays in the pool.
/// Epoch 1: only a live node, no usage: B = min(1_000_000, 1_500_000 - 800_000) = 700_000,
///   H = floor(0.2 * 700_000) = 140_000 reserved, the usage part stays.
/// Epoch 2: nothing: B = min(1_000_000, 1_500_000 - 940_000) = 560_000, nothing reserved.
#[test]
fn a_share_with_no_recipient_stays_in_the_pool() {
    let mut s = Suite::new();
    s.fund(1_500_000).unwrap();
    s.in_epoch(0);
    s.record(vec![usage(0, "proxy-1", 1, 10)], vec![]).unwrap();
    s.in_epoch(1);
    s.record(vec![], vec![live(1, "local-1", "rtx4090")])
        .unwrap();
    s.close(0);
    assert_eq!(s.config().reserved, Uint128::new(800_000));
    s.close(1);
    assert_eq!(s.report(1).budget, Uint128::new(700_000));
    assert_eq!(s.report(1).community.stipend, Uint128::new(140_000));
    assert_eq!(s.config().reserved, Uint128::new(940_000));
    s.close(2);
    assert_eq!(s.report(2).budget, Uint128::new(560_000));
    assert_eq!(s.config().reserved, Uint128::new(940_000));
    // The live node alone gets the whole stipend of epoch 1.
    assert_eq!(
        s.node_rewards("local-1", None, None).epochs[0].reward,
        Some(Uint128::new(140_000))
    );
}

#[test]
fn an_empty_pool_has_a_zero_budget() {
    let mut s = Suite::new();
    s.in_epoch(0);
    s.record(vec![usage(0, "proxy-1", 1, 10)], vec![]).unwrap();
    s.close(0);
    assert_eq!(s.report(0).budget, Uint128::zero());
    assert_eq!(
        s.node_rewards("proxy-1", None, None).epochs[0].reward,
        Some(Uint128::zero())
    );
}

/// M = 1 (no boost); three nodes with counted value 1 each: U = 800_000; the commercial class
/// (two nodes) is awarded floor(800_000 * 2 / 3) = 533_333 and the community one 266_666, so
/// 799_999 is reserved (1 uopg of class rounding stays in the pool); each node gets
/// floor(800_000 / 3) = 266_666, 799_998 is paid, and the 1 uopg of node rounding is released
/// when the last node claims.
#[test]
fn rewards_round_down_and_dust_is_released_once_all_claimed() {
    let mut params = default_params();
    params.m_community_max = Decimal::one();
    let mut s = Suite::with_params(params);
    s.fund(1_000_000).unwrap();
    s.in_epoch(0);
    s.record(
        vec![
            usage(0, "proxy-1", 1, 1),
            usage(0, "proxy-2", 1, 1),
            usage(0, "local-1", 1, 1),
        ],
        vec![],
    )
    .unwrap();
    s.close(0);
    assert_eq!(s.config().reserved, Uint128::new(799_999));
    for n in ["proxy-1", "proxy-2", "local-1"] {
        assert_eq!(s.pending(n).amount, Uint128::new(266_666));
    }
    s.claim("proxy-1", None).unwrap();
    s.claim("proxy-2", None).unwrap();
    assert_eq!(s.config().reserved, Uint128::new(799_999 - 2 * 266_666));
    let res = s.claim("local-1", None).unwrap();
    assert_eq!(attr(&res, "released"), "1");
    assert_eq!(s.config().reserved, Uint128::zero());
    let r = s.report(0);
    assert_eq!(r.paid, Uint128::new(799_998));
    assert!(r.paid <= r.budget);
    assert_eq!(s.balance(&s.pool.clone()), 1_000_000 - 799_998);
}

/// m_commercial = 0 and only commercial usage: D = 0, so the usage part is not reserved.
#[test]
fn zero_weighted_usage_is_not_payable() {
    let mut params = default_params();
    params.m_commercial = Decimal::zero();
    let mut s = Suite::with_params(params);
    s.fund(1_000_000).unwrap();
    s.in_epoch(0);
    s.record(vec![usage(0, "proxy-1", 1, 1_000)], vec![])
        .unwrap();
    s.close(0);
    assert_eq!(s.config().reserved, Uint128::zero());
    assert_eq!(
        s.node_rewards("proxy-1", None, None).epochs[0].reward,
        Some(Uint128::zero())
    );
}
