//! `Claim`, `PendingRewards` and `NodeRewards` pagination.
use cosmwasm_std::Uint128;

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

/// proxy-1 is the only node with usage in epochs `0..n`, all finalized: each epoch pays it
/// U = B - floor(0.2 B) = 800_000 (the stipend has no recipient and stays in the pool).
fn proxy_only(n: u64) -> Suite {
    let mut s = Suite::new();
    s.fund(1_000_000 * (n as u128 + 1)).unwrap();
    for e in 0..n {
        s.in_epoch(e);
        s.record(vec![usage(e, "proxy-1", 1, 10)], vec![]).unwrap();
    }
    for e in 0..n {
        s.close(e);
    }
    s
}

#[test]
fn claim_pays_the_operator_in_pages() {
    let mut s = proxy_only(5);
    let op = s.operator("proxy-1");
    assert_eq!(s.pending("proxy-1").amount, Uint128::new(4_000_000));
    assert_eq!(s.pending("proxy-1").epochs, 5);
    assert_eq!(s.config().reserved, Uint128::new(4_000_000));

    let res = s.claim("proxy-1", Some(2)).unwrap();
    assert_eq!(attr(&res, "action"), "claim");
    assert_eq!(attr(&res, "node_id"), "proxy-1");
    assert_eq!(attr(&res, "amount"), "1600000");
    assert_eq!(attr(&res, "from_epoch"), "0");
    assert_eq!(attr(&res, "to_epoch"), "1");
    assert_eq!(s.balance(&op), 1_600_000);
    assert_eq!(s.config().reserved, Uint128::new(2_400_000));
    let n = s.node_rewards("proxy-1", None, None);
    let claimed: Vec<bool> = n.epochs.iter().map(|e| e.claimed).collect();
    assert_eq!(claimed, vec![true, true, false, false, false]);
    assert_eq!(s.pending("proxy-1").epochs, 3);

    // limit 0 is clamped to 1.
    s.claim("proxy-1", Some(0)).unwrap();
    assert_eq!(s.balance(&op), 2_400_000);
    s.claim("proxy-1", None).unwrap();
    assert_eq!(s.balance(&op), 4_000_000);
    assert_eq!(s.report(4).paid, Uint128::new(800_000));
    assert_eq!(s.config().reserved, Uint128::zero());
    assert_eq!(
        s.claim("proxy-1", None).unwrap_err(),
        ContractError::NothingToClaim {
            node_id: "proxy-1".into()
        }
    );
    assert_eq!(s.pending("proxy-1").amount, Uint128::zero());
}

#[test]
fn claim_limit_is_capped_at_100_epochs() {
    let mut s = proxy_only(101);
    let pending = s.pending("proxy-1");
    assert_eq!(pending.epochs, 100);
    assert_eq!(pending.amount, Uint128::new(80_000_000));
    let res = s.claim("proxy-1", Some(1_000)).unwrap();
    assert_eq!(attr(&res, "epochs"), "100");
    assert_eq!(attr(&res, "to_epoch"), "99");
    let res = s.claim("proxy-1", Some(1_000)).unwrap();
    assert_eq!(attr(&res, "epochs"), "1");
    assert_eq!(s.balance(&s.operator("proxy-1")), 80_800_000);
}

#[test]
fn only_finalized_epochs_are_claimed() {
    let mut s = Suite::new();
    s.fund(5_000_000).unwrap();
    s.in_epoch(0);
    s.record(vec![usage(0, "proxy-1", 1, 10)], vec![]).unwrap();
    assert_eq!(
        s.claim("proxy-1", None).unwrap_err(),
        ContractError::NothingToClaim {
            node_id: "proxy-1".into()
        }
    );
    s.in_epoch(1);
    s.record(vec![usage(1, "proxy-1", 1, 10)], vec![]).unwrap();
    s.close(0);
    let res = s.claim("proxy-1", None).unwrap();
    assert_eq!(attr(&res, "epochs"), "1");
    // Epoch 1 is paid once it is finalized, by a later claim.
    s.close(1);
    let res = s.claim("proxy-1", None).unwrap();
    assert_eq!(attr(&res, "from_epoch"), "1");
    assert_eq!(s.balance(&s.operator("proxy-1")), 1_600_000);
}

#[test]
fn claim_is_for_the_registered_operator_only() {
    let mut s = proxy_only(1);
    let stranger = s.addr("stranger");
    assert_eq!(
        s.claim_as(&stranger, "proxy-1", None).unwrap_err(),
        ContractError::NotOperator {
            node_id: "proxy-1".into(),
            sender: stranger.clone(),
            operator: s.operator("proxy-1"),
        }
    );
    // Another node's operator neither.
    let other = s.operator("proxy-2");
    assert!(matches!(
        s.claim_as(&other, "proxy-1", None).unwrap_err(),
        ContractError::NotOperator { .. }
    ));
    // A node the registry does not know.
    assert!(matches!(
        s.claim_as(&stranger, "ghost", None).unwrap_err(),
        ContractError::RegistryQueryFailed { node_id, .. } if node_id == "ghost"
    ));
    assert_eq!(s.balance(&stranger), 0);
}

#[test]
fn a_zero_reward_epoch_is_claimed_without_a_transfer() {
    // Empty pool: epoch 0 has budget 0.
    let mut s = Suite::new();
    s.in_epoch(0);
    s.record(vec![usage(0, "proxy-1", 1, 10)], vec![]).unwrap();
    s.close(0);
    let res = s.claim("proxy-1", None).unwrap();
    assert_eq!(attr(&res, "amount"), "0");
    assert!(!res.events.iter().any(|e| e.ty == "transfer"));
    assert!(s.node_rewards("proxy-1", None, None).epochs[0].claimed);
}

#[test]
fn node_rewards_paginates() {
    let s = proxy_only(5);
    let page = s.node_rewards("proxy-1", None, Some(2));
    assert_eq!(
        page.epochs.iter().map(|e| e.epoch).collect::<Vec<_>>(),
        vec![0, 1]
    );
    let page = s.node_rewards("proxy-1", Some(1), Some(2));
    assert_eq!(
        page.epochs.iter().map(|e| e.epoch).collect::<Vec<_>>(),
        vec![2, 3]
    );
    let page = s.node_rewards("proxy-1", Some(3), None);
    assert_eq!(
        page.epochs.iter().map(|e| e.epoch).collect::<Vec<_>>(),
        vec![4]
    );
    assert!(s.node_rewards("proxy-1", Some(4), None).epochs.is_empty());
    assert!(s.node_rewards("nobody", None, None).epochs.is_empty());
    assert!(page.epochs[0].reward == Some(Uint128::new(800_000)));
}

/// Issue 13, locked dust and reserves: with `claim_epochs = 2`, what an epoch reserved and a node
/// never claimed goes back to the pool once 2 later epochs are finalized (before, it stayed
/// reserved forever and shrank every later budget); a late claim pays nothing for it, and an
/// epoch fully claimed is not released twice.
#[test]
fn unclaimed_rewards_expire_back_to_the_pool_after_claim_epochs() {
    let mut params = default_params();
    params.claim_epochs = 2;
    let mut s = Suite::with_params(params);
    s.fund(10_000_000).unwrap();
    s.in_epoch(0);
    s.record(
        vec![usage(0, "proxy-1", 1, 10), usage(0, "proxy-2", 1, 10)],
        vec![],
    )
    .unwrap();
    s.in_epoch(1);
    s.record(vec![usage(1, "proxy-1", 1, 10)], vec![]).unwrap();
    s.close(0);
    // U = 800_000: 400_000 each; proxy-1 claims, proxy-2 never does.
    s.claim("proxy-1", Some(1)).unwrap();
    assert_eq!(s.config().reserved, Uint128::new(400_000));
    s.close(1);
    // Epoch 1 (800_000 to proxy-1), claimed at once: the epoch is fully claimed.
    s.claim("proxy-1", None).unwrap();
    assert_eq!(s.config().reserved, Uint128::new(400_000));
    assert!(!s.report(0).expired);
    assert_eq!(s.pending("proxy-2").amount, Uint128::new(400_000));

    // Finalizing epoch 2 closes epoch 0's window: proxy-2's 400_000 go back to the pool.
    s.after_grace(2);
    let res = s.finalize(2).unwrap();
    assert_eq!(attr(&res, "epochs_expired"), "1");
    assert_eq!(attr(&res, "expired_released"), "400000");
    assert_eq!(s.config().reserved, Uint128::zero());
    assert!(s.report(0).expired);
    assert!(s.node_rewards("proxy-2", None, None).epochs[0].expired);
    assert_eq!(s.pending("proxy-2").amount, Uint128::zero());
    let op2 = s.operator("proxy-2");
    let res = s.claim("proxy-2", None).unwrap();
    assert_eq!(attr(&res, "amount"), "0");
    assert_eq!(s.balance(&op2), 0);
    assert_eq!(s.report(0).paid, Uint128::new(400_000));

    // Epoch 1 expires at the next finalize, with nothing left to release.
    s.after_grace(3);
    let res = s.finalize(3).unwrap();
    assert_eq!(attr(&res, "expired_released"), "0");
    assert!(s.report(1).expired);
    assert_eq!(s.config().reserved, Uint128::zero());
    // The pool holds all that was not paid: 10_000_000 - 400_000 - 800_000.
    assert_eq!(s.balance(&s.pool.clone()), 8_800_000);
}
