//! `RecordUsage` and `Fund`.
use cosmwasm_std::{coins, Decimal, Uint128};
use cw_multi_test::Executor;
use cw_utils::PaymentError;
use opg_core::msg::pool::ExecuteMsg;
use opg_core::types::Provenance;

use super::suite::*;
use crate::ContractError;

#[test]
fn fund_adds_to_the_pool_and_requires_the_denom() {
    let mut s = Suite::new();
    let res = s.fund(5_000).unwrap();
    assert!(res.events.iter().any(|e| e
        .attributes
        .iter()
        .any(|a| a.key == "action" && a.value == "fund")));
    assert_eq!(s.balance(&s.pool.clone()), 5_000);

    // No funds.
    let funder = s.funder.clone();
    let err: ContractError = s
        .app
        .execute_contract(funder.clone(), s.pool.clone(), &ExecuteMsg::Fund {}, &[])
        .unwrap_err()
        .downcast()
        .unwrap();
    assert_eq!(err, ContractError::Payment(PaymentError::NoFunds {}));

    // Another denom.
    let rich = s.addr("rich");
    s.app
        .send_tokens(funder, rich.clone(), &coins(1, DENOM))
        .unwrap();
    s.app.init_modules(|router, _, storage| {
        router
            .bank
            .init_balance(storage, &rich, coins(10, "uatom"))
            .unwrap()
    });
    let err: ContractError = s
        .app
        .execute_contract(
            rich,
            s.pool.clone(),
            &ExecuteMsg::Fund {},
            &coins(10, "uatom"),
        )
        .unwrap_err()
        .downcast()
        .unwrap();
    assert_eq!(
        err,
        ContractError::Payment(PaymentError::MissingDenom(DENOM.into()))
    );
}

#[test]
fn only_the_verifier_records_usage() {
    let mut s = Suite::new();
    s.in_epoch(0);
    let stranger = s.addr("stranger");
    let err = s
        .record_as(&stranger, vec![usage(0, "proxy-1", 1, 100)], vec![])
        .unwrap_err();
    assert_eq!(
        err,
        ContractError::Unauthorized {
            sender: stranger,
            action: "record_usage".into()
        }
    );
    // Governance is not the verifier either.
    let gov = s.governance.clone();
    assert!(matches!(
        s.record_as(&gov, vec![], vec![]).unwrap_err(),
        ContractError::Unauthorized { .. }
    ));
    s.record(vec![usage(0, "proxy-1", 1, 100)], vec![]).unwrap();
}

#[test]
fn record_usage_tallies_nodes_and_class_totals() {
    let mut s = Suite::new();
    s.in_epoch(0);
    let res = s
        .record(
            vec![
                usage(0, "proxy-1", 3, 300),
                usage(0, "proxy-1", 2, 200),
                usage(0, "proxy-2", 1, 50),
                usage(0, "local-1", 4, 100),
            ],
            vec![live(0, "local-1", "h100"), live(0, "local-2", "rtx4090")],
        )
        .unwrap();
    assert!(res.events.iter().any(|e| e
        .attributes
        .iter()
        .any(|a| a.key == "action" && a.value == "record_usage")));
    // A second batch adds to the same tallies.
    s.record(vec![usage(0, "proxy-1", 1, 10)], vec![]).unwrap();

    let r = s.report(0);
    assert!(!r.finalized);
    assert_eq!(r.commercial.nodes, 2);
    assert_eq!(r.commercial.calls, 7);
    assert_eq!(r.commercial.raw_value, Uint128::new(560));
    assert_eq!(r.commercial.counted_value, Uint128::new(560));
    assert_eq!(r.community.nodes, 1); // local-2 is live but without usage
    assert_eq!(r.community.calls, 4);
    assert_eq!(r.community.raw_value, Uint128::new(100));
    assert_eq!(r.live_local_nodes, 2);
    assert_eq!(r.hardware_weight_total, dec("2.5"));
    // community share of this epoch: 100 / 660 = 0.151515...
    assert_eq!(r.community_share, Decimal::from_ratio(100u128, 660u128));
    assert_eq!(r.budget, Uint128::zero());

    let n = s.node_rewards("proxy-1", None, None);
    assert_eq!(n.epochs.len(), 1);
    assert_eq!(n.epochs[0].calls, 6);
    assert_eq!(n.epochs[0].raw_value, Uint128::new(510));
    assert_eq!(n.epochs[0].provenance, Provenance::Commercial);
    assert_eq!(n.epochs[0].reward, None);
    assert!(!n.epochs[0].claimed);
    let l = s.node_rewards("local-2", None, None);
    assert!(l.epochs[0].live);
    assert_eq!(l.epochs[0].hardware_class.as_deref(), Some("rtx4090"));
    assert_eq!(l.epochs[0].calls, 0);
}

/// Counted value is what the verifier computed per call (`min(value, v_cap)`); the pool checks it
/// can be true (at most the raw value and at most `calls * v_cap`) and refuses the whole message
/// otherwise, naming the node.
#[test]
fn counted_value_is_tallied_and_checked_against_v_cap() {
    let mut params = default_params();
    params.v_cap = Uint128::new(100);
    let mut s = Suite::with_params(params);
    s.in_epoch(0);
    s.record(
        vec![
            // Calls of 60 and 170 micro-USD: counted 60 + 100.
            usage_counted(0, "proxy-1", 2, 230, 160),
            // A call of 30: counted whole.
            usage_counted(0, "proxy-1", 1, 30, 30),
            usage_counted(0, "proxy-2", 1, 150, 100),
        ],
        vec![],
    )
    .unwrap();
    let n = s.node_rewards("proxy-1", None, None);
    assert_eq!(n.epochs[0].calls, 3);
    assert_eq!(n.epochs[0].raw_value, Uint128::new(260));
    assert_eq!(n.epochs[0].counted_value, Uint128::new(190));
    let r = s.report(0);
    assert_eq!(r.commercial.raw_value, Uint128::new(410));
    assert_eq!(r.commercial.counted_value, Uint128::new(290));
    assert_eq!(r.v_cap, Uint128::new(100));

    // More counted than paid.
    assert_eq!(
        s.record(vec![usage_counted(0, "proxy-2", 1, 50, 51)], vec![])
            .unwrap_err(),
        ContractError::InvalidUsage {
            node_id: "proxy-2".into(),
            epoch: 0,
            reason: "counted value 51 exceeds raw value 50".into(),
        }
    );
    // More counted than `calls * v_cap`; the good entry before it is not kept either.
    assert_eq!(
        s.record(
            vec![
                usage_counted(0, "proxy-1", 1, 10, 10),
                usage_counted(0, "proxy-2", 2, 500, 201),
            ],
            vec![]
        )
        .unwrap_err(),
        ContractError::InvalidUsage {
            node_id: "proxy-2".into(),
            epoch: 0,
            reason: "counted value 201 exceeds 2 calls * v_cap 100".into(),
        }
    );
    assert_eq!(s.report(0).commercial.counted_value, Uint128::new(290));
}

#[test]
fn live_node_counts_once_and_unknown_class_weighs_zero() {
    let mut s = Suite::new();
    s.in_epoch(0);
    s.record(
        vec![],
        vec![live(0, "local-1", "h100"), live(0, "local-1", "rtx4090")],
    )
    .unwrap();
    s.record(
        vec![],
        vec![live(0, "local-1", "h100"), live(0, "local-2", "tpu-v9")],
    )
    .unwrap();
    let r = s.report(0);
    assert_eq!(r.live_local_nodes, 2);
    assert_eq!(r.hardware_weight_total, dec("1.5"));
    assert_eq!(
        s.node_rewards("local-1", None, None).epochs[0]
            .hardware_class
            .as_deref(),
        Some("h100")
    );
}

#[test]
fn record_usage_rejects_finalized_and_future_epochs() {
    let mut s = Suite::new();
    // Before genesis nothing has started.
    s.set_time(GENESIS - 1);
    assert_eq!(
        s.record(vec![usage(0, "proxy-1", 1, 1)], vec![])
            .unwrap_err(),
        ContractError::EpochNotStarted {
            epoch: 0,
            starts_at: GENESIS
        }
    );
    s.in_epoch(1);
    // Epoch 2 has not started.
    assert_eq!(
        s.record(vec![usage(2, "proxy-1", 1, 1)], vec![])
            .unwrap_err(),
        ContractError::EpochNotStarted {
            epoch: 2,
            starts_at: GENESIS + 2 * EPOCH
        }
    );
    assert_eq!(
        s.record(vec![], vec![live(2, "local-1", "h100")])
            .unwrap_err(),
        ContractError::EpochNotStarted {
            epoch: 2,
            starts_at: GENESIS + 2 * EPOCH
        }
    );
    // Epoch 0 is still open (not finalized) during its grace and after it.
    s.record(vec![usage(0, "proxy-1", 1, 1)], vec![]).unwrap();
    s.close(0);
    assert_eq!(
        s.record(vec![usage(0, "proxy-1", 1, 1)], vec![])
            .unwrap_err(),
        ContractError::EpochFinalized { epoch: 0 }
    );
    assert_eq!(
        s.record(vec![], vec![live(0, "local-1", "h100")])
            .unwrap_err(),
        ContractError::EpochFinalized { epoch: 0 }
    );
    // The failed batch left nothing behind.
    assert_eq!(s.report(0).commercial.calls, 1);
}

#[test]
fn a_node_cannot_be_in_both_classes_in_one_epoch() {
    let mut s = Suite::new();
    s.in_epoch(0);
    s.record(vec![usage(0, "proxy-1", 1, 1)], vec![]).unwrap();
    let mut e = usage(0, "proxy-1", 1, 1);
    e.provenance = Provenance::Community;
    assert_eq!(
        s.record(vec![e], vec![]).unwrap_err(),
        ContractError::ProvenanceMismatch {
            node_id: "proxy-1".into(),
            epoch: 0,
            recorded: "commercial".into(),
            got: "community".into()
        }
    );
    // Liveness is for local (community) nodes.
    assert!(matches!(
        s.record(vec![], vec![live(0, "proxy-1", "h100")])
            .unwrap_err(),
        ContractError::ProvenanceMismatch { .. }
    ));
}

#[test]
fn one_message_checks_provenance_against_its_own_earlier_entries() {
    let mut s = Suite::new();
    s.in_epoch(0);
    // The node's first tally is created by this very message, so the check runs on the cached
    // (not yet stored) tally.
    let mut community = usage(0, "proxy-1", 1, 1);
    community.provenance = Provenance::Community;
    assert_eq!(
        s.record(vec![usage(0, "proxy-1", 1, 1), community], vec![])
            .unwrap_err(),
        ContractError::ProvenanceMismatch {
            node_id: "proxy-1".into(),
            epoch: 0,
            recorded: "commercial".into(),
            got: "community".into()
        }
    );
    assert!(matches!(
        s.record(
            vec![usage(0, "proxy-1", 1, 1)],
            vec![live(0, "proxy-1", "h100")]
        )
        .unwrap_err(),
        ContractError::ProvenanceMismatch { .. }
    ));
    // Nothing of the failed messages was kept.
    assert!(s.node_rewards("proxy-1", None, None).epochs.is_empty());
    assert_eq!(s.report(0).commercial.calls, 0);
}

#[test]
fn usage_and_liveness_of_a_node_in_one_message_share_one_tally() {
    let mut s = Suite::new();
    s.in_epoch(0);
    let mut entries = Vec::new();
    for i in 0..3u128 {
        let mut e = usage(0, "local-1", 1, 10 * (i + 1));
        e.provenance = Provenance::Community;
        entries.push(e);
    }
    s.record(entries, vec![live(0, "local-1", "h100")]).unwrap();
    let n = s.node_rewards("local-1", None, None);
    assert_eq!(n.epochs.len(), 1);
    assert_eq!(n.epochs[0].calls, 3);
    assert_eq!(n.epochs[0].raw_value, Uint128::new(60));
    assert!(n.epochs[0].live);
    let r = s.report(0);
    assert_eq!(r.community.nodes, 1);
    assert_eq!(r.community.calls, 3);
    assert_eq!(r.live_local_nodes, 1);
}
