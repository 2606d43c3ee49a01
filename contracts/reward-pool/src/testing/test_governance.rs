//! `UpdateParams`, `UpdateConfig` (execute and sudo), params bounds and scheduling.
use cosmwasm_std::{Decimal, Uint128};
use opg_core::msg::pool::{ExecuteMsg, HardwareWeight, RewardParams, SudoMsg};

use super::suite::*;
use crate::ContractError;

fn update(
    s: &mut Suite,
    params: RewardParams,
) -> Result<cw_multi_test::AppResponse, ContractError> {
    let gov = s.governance.clone();
    s.execute_as(&gov, &ExecuteMsg::UpdateParams { params })
}

fn oob(param: &str) -> impl Fn(&ContractError) -> bool + '_ {
    move |e| matches!(e, ContractError::ParamOutOfBounds { param: p, .. } if p == param)
}

#[test]
fn update_params_is_governance_only() {
    let mut s = Suite::new();
    s.in_epoch(0);
    let stranger = s.addr("stranger");
    let err = s
        .execute_as(
            &stranger,
            &ExecuteMsg::UpdateParams {
                params: default_params(),
            },
        )
        .unwrap_err();
    assert_eq!(
        err,
        ContractError::Unauthorized {
            sender: stranger,
            action: "update_params".into()
        }
    );
    // The verifier is not governance either.
    let v = s.verifier.clone();
    assert!(matches!(
        s.execute_as(
            &v,
            &ExecuteMsg::UpdateParams {
                params: default_params()
            }
        )
        .unwrap_err(),
        ContractError::Unauthorized { .. }
    ));
}

#[test]
fn params_apply_from_the_next_epoch_only() {
    // Start from v_cap 150, emission 1_000_000; schedule v_cap 100 (>= /2), emission 2_000_000 (x2).
    let mut initial = default_params();
    initial.v_cap = Uint128::new(150);
    let mut s = Suite::with_params(initial);
    s.fund(10_000_000).unwrap();
    let mut p = default_params();
    p.v_cap = Uint128::new(100);
    p.emission_per_epoch = Uint128::new(2_000_000);
    s.in_epoch(0);
    let res = update(&mut s, p.clone()).unwrap();
    assert!(res.events.iter().any(|e| e
        .attributes
        .iter()
        .any(|a| a.key == "epoch" && a.value == "1")));
    let params = s.params();
    assert_eq!(params.current.v_cap, Uint128::new(150));
    let scheduled = params.scheduled.unwrap();
    assert_eq!(scheduled.from_epoch, 1);
    assert_eq!(scheduled.params, p);

    // Epoch 0 still uses v_cap 150 (a call of 400 counts 150) and emission 1_000_000.
    s.record(vec![usage_counted(0, "proxy-1", 1, 400, 150)], vec![])
        .unwrap();
    s.in_epoch(1);
    assert_eq!(s.params().current, p);
    assert!(s.params().scheduled.is_none());
    // Epoch 1 uses v_cap 100: counting 150 for one call is refused there.
    assert!(matches!(
        s.record(vec![usage_counted(1, "proxy-1", 1, 400, 150)], vec![])
            .unwrap_err(),
        ContractError::InvalidUsage { epoch: 1, .. }
    ));
    s.record(vec![usage_counted(1, "proxy-1", 1, 400, 100)], vec![])
        .unwrap();
    let n = s.node_rewards("proxy-1", None, None);
    assert_eq!(n.epochs[0].counted_value, Uint128::new(150));
    assert_eq!(n.epochs[1].counted_value, Uint128::new(100));
    s.close(0);
    s.close(1);
    assert_eq!(s.report(0).budget, Uint128::new(1_000_000));
    assert_eq!(s.report(0).v_cap, Uint128::new(150));
    assert_eq!(s.report(1).budget, Uint128::new(2_000_000));
    assert_eq!(s.report(1).v_cap, Uint128::new(100));
    // And every later epoch keeps the newest params.
    assert_eq!(s.params().current, p);
}

#[test]
fn a_second_update_in_the_same_epoch_replaces_the_schedule_and_does_not_compound() {
    let mut s = Suite::new();
    s.in_epoch(3);
    let mut p = default_params();
    p.emission_per_epoch = Uint128::new(2_000_000);
    update(&mut s, p.clone()).unwrap();
    // x2 again vs the params in force (1_000_000) would be x4: refused.
    p.emission_per_epoch = Uint128::new(4_000_000);
    assert!(oob("emission_per_epoch")(
        &update(&mut s, p.clone()).unwrap_err()
    ));
    p.emission_per_epoch = Uint128::new(1_500_000);
    update(&mut s, p.clone()).unwrap();
    let sched = s.params().scheduled.unwrap();
    assert_eq!(sched.from_epoch, 4);
    assert_eq!(sched.params.emission_per_epoch, Uint128::new(1_500_000));
}

#[test]
fn params_bounds() {
    let mut s = Suite::new();
    s.in_epoch(0);
    let base = default_params();
    type Mutation = Box<dyn Fn(&mut RewardParams)>;
    let cases: Vec<(&str, Mutation)> = vec![
        // Absolute bounds.
        ("m_commercial", Box::new(|p| p.m_commercial = dec("1.01"))),
        (
            "m_community_max",
            Box::new(|p| p.m_community_max = dec("0.99")),
        ),
        (
            "target_share",
            Box::new(|p| p.target_share = Decimal::zero()),
        ),
        (
            "target_share",
            Box::new(|p| p.target_share = dec("1.000000000000000001")),
        ),
        ("alpha", Box::new(|p| p.alpha = dec("0.91"))),
        ("v_cap", Box::new(|p| p.v_cap = Uint128::zero())),
        ("v_cap", Box::new(|p| p.v_cap = Uint128::new(1_000_000_001))),
        ("c_call", Box::new(|p| p.c_call = Some(Uint128::zero()))),
        ("claim_epochs", Box::new(|p| p.claim_epochs = 0)),
        ("claim_epochs", Box::new(|p| p.claim_epochs = 10_001)),
        (
            "c_call",
            Box::new(|p| p.c_call = Some(Uint128::new(1_000_000_000_001))),
        ),
        (
            "hardware_weights",
            Box::new(|p| p.hardware_weights[0].weight = dec("100.000000000000000001")),
        ),
        (
            "hardware_weights",
            Box::new(|p| {
                p.hardware_weights[0].stipend_cap = Uint128::new(1_000_000_000_000_000_001)
            }),
        ),
        (
            "hardware_weights",
            Box::new(|p| p.hardware_weights[1].class = "h100".into()),
        ),
        (
            "hardware_weights",
            Box::new(|p| p.hardware_weights[1].class = String::new()),
        ),
        (
            "hardware_weights",
            Box::new(|p| {
                p.hardware_weights = (0..33)
                    .map(|i| HardwareWeight {
                        class: format!("c{i}"),
                        weight: Decimal::one(),
                        stipend_cap: Uint128::one(),
                    })
                    .collect()
            }),
        ),
        // Steps vs the params in force (m_c 1, M 3, S* 0.5, alpha 0.2, emission 1_000_000,
        // v_cap 10^9, h100 1.5 / cap 10^9, rtx4090 1 / cap 10^9).
        ("m_commercial", Box::new(|p| p.m_commercial = dec("0.49"))),
        (
            "m_community_max",
            Box::new(|p| p.m_community_max = dec("6.01")),
        ),
        (
            "m_community_max",
            Box::new(|p| p.m_community_max = dec("1.49")),
        ),
        (
            "emission_per_epoch",
            Box::new(|p| p.emission_per_epoch = Uint128::new(2_000_001)),
        ),
        (
            "emission_per_epoch",
            Box::new(|p| p.emission_per_epoch = Uint128::new(499_999)),
        ),
        (
            "emission_per_epoch",
            Box::new(|p| p.emission_per_epoch = Uint128::zero()),
        ),
        ("target_share", Box::new(|p| p.target_share = dec("0.61"))),
        ("target_share", Box::new(|p| p.target_share = dec("0.39"))),
        ("alpha", Box::new(|p| p.alpha = dec("0.300000000000000001"))),
        ("alpha", Box::new(|p| p.alpha = dec("0.09"))),
        ("v_cap", Box::new(|p| p.v_cap = Uint128::new(499_999_999))),
        ("claim_epochs", Box::new(|p| p.claim_epochs = 4_999)),
        (
            "hardware_weights.h100.weight",
            Box::new(|p| p.hardware_weights[0].weight = dec("3.01")),
        ),
        (
            "hardware_weights.rtx4090.weight",
            Box::new(|p| p.hardware_weights[1].weight = dec("2.01")),
        ),
        (
            "hardware_weights.h100.stipend_cap",
            Box::new(|p| p.hardware_weights[0].stipend_cap = Uint128::new(499_999_999)),
        ),
        (
            "hardware_weights.rtx4090.stipend_cap",
            Box::new(|p| p.hardware_weights[1].stipend_cap = Uint128::new(2_000_000_001)),
        ),
        // A new class enters with a weight of at most 1; a dropped class leaves from at most 1.
        (
            "hardware_weights.a100.weight",
            Box::new(|p| {
                p.hardware_weights.push(HardwareWeight {
                    class: "a100".into(),
                    weight: dec("1.01"),
                    stipend_cap: Uint128::new(5),
                })
            }),
        ),
        (
            "hardware_weights.h100.weight",
            Box::new(|p| {
                p.hardware_weights.remove(0);
            }),
        ),
    ];
    for (param, f) in cases {
        let mut p = base.clone();
        f(&mut p);
        let err = update(&mut s, p).unwrap_err();
        assert!(oob(param)(&err), "{param}: {err:?}");
    }
    // Edges that are allowed: exactly x2 / exactly /2, steps of exactly 0.1 and 1, a new class at
    // weight 1 with any cap, a class of weight 1 dropped, c_call set from unset.
    let mut p = base.clone();
    p.m_commercial = dec("0.5");
    p.m_community_max = dec("6");
    p.emission_per_epoch = Uint128::new(500_000);
    p.v_cap = Uint128::new(500_000_000);
    p.alpha = dec("0.3");
    p.target_share = dec("0.4");
    p.c_call = Some(Uint128::new(1_000_000_000_000));
    p.claim_epochs = 5_000;
    p.hardware_weights = vec![
        HardwareWeight {
            class: "h100".into(),
            weight: dec("3"),
            stipend_cap: Uint128::new(2_000_000_000),
        },
        HardwareWeight {
            class: "a100".into(),
            weight: dec("1"),
            stipend_cap: Uint128::new(1_000_000_000_000_000),
        },
    ];
    update(&mut s, p).unwrap();
    // The absolute edges are reachable at instantiation.
    let mut edge = base;
    edge.alpha = dec("0.9");
    edge.target_share = Decimal::one();
    edge.v_cap = Uint128::one();
    edge.c_call = Some(Uint128::one());
    edge.claim_epochs = 1;
    edge.hardware_weights = (0..32)
        .map(|i| HardwareWeight {
            class: format!("c{i}"),
            weight: dec("100"),
            stipend_cap: Uint128::new(1_000_000_000_000_000),
        })
        .collect();
    Suite::with_params(edge);
}

/// `c_call` moves by x2 or /2 per change and, once set, is never removed (DESIGN §4).
#[test]
fn c_call_once_set_moves_by_steps_and_is_never_unset() {
    let mut base = default_params();
    base.c_call = Some(Uint128::new(1_000));
    let mut s = Suite::with_params(base.clone());
    s.in_epoch(0);
    let with = |c: Option<u128>| {
        let mut p = base.clone();
        p.c_call = c.map(Uint128::new);
        p
    };
    for bad in [None, Some(499), Some(2_001)] {
        let err = update(&mut s, with(bad)).unwrap_err();
        assert!(oob("c_call")(&err), "{bad:?}: {err:?}");
    }
    assert_eq!(
        update(&mut s, with(None)).unwrap_err().to_string(),
        "parameter c_call out of bounds: a per-call cap, once set, cannot be removed"
    );
    update(&mut s, with(Some(500))).unwrap();
    update(&mut s, with(Some(2_000))).unwrap();
    // Steps compare with the params in force, not the scheduled ones: from epoch 1 on 2_000 is
    // in force and 4_000 is one step.
    assert!(oob("c_call")(
        &update(&mut s, with(Some(4_000))).unwrap_err()
    ));
    s.in_epoch(1);
    update(&mut s, with(Some(4_000))).unwrap();
}

/// A governance that moves a share as far as it may, once per epoch, needs one epoch per 0.1.
#[test]
fn shares_move_by_at_most_one_step_per_epoch() {
    let mut s = Suite::new();
    let mut p = default_params();
    for (epoch, alpha) in [(0u64, "0.3"), (1, "0.4"), (2, "0.5")] {
        s.in_epoch(epoch);
        p.alpha = dec(alpha);
        update(&mut s, p.clone()).unwrap();
        let mut jump = p.clone();
        jump.alpha = dec(alpha) + dec("0.100000000000000001");
        assert!(oob("alpha")(&update(&mut s, jump).unwrap_err()));
    }
    s.in_epoch(3);
    assert_eq!(s.params().current.alpha, dec("0.5"));
}

#[test]
fn zero_old_values_may_move_anywhere_within_bounds() {
    let mut base = default_params();
    base.emission_per_epoch = Uint128::zero();
    base.m_commercial = Decimal::zero();
    let mut s = Suite::with_params(base.clone());
    s.in_epoch(0);
    let mut p = base;
    p.emission_per_epoch = Uint128::new(123_456_789);
    p.m_commercial = dec("0.8");
    update(&mut s, p).unwrap();
}

#[test]
fn instantiate_validates_params_clock_and_denom() {
    use cosmwasm_std::testing::{message_info, mock_dependencies, mock_env};
    let mut deps = mock_dependencies();
    let api = deps.api;
    let (g, r) = (api.addr_make("gov"), api.addr_make("reg"));
    let info = message_info(&api.addr_make("creator"), &[]);

    let mut bad = default_params();
    bad.alpha = dec("0.91");
    let err = crate::contract::instantiate(
        deps.as_mut(),
        mock_env(),
        info.clone(),
        instantiate_msg((&g, &r, None), bad),
    )
    .unwrap_err();
    assert!(oob("alpha")(&err));

    let mut msg = instantiate_msg((&g, &r, None), default_params());
    msg.clock.epoch_length = 0;
    assert!(matches!(
        crate::contract::instantiate(deps.as_mut(), mock_env(), info.clone(), msg).unwrap_err(),
        ContractError::InvalidClock { .. }
    ));

    let mut msg = instantiate_msg((&g, &r, None), default_params());
    msg.denom = String::new();
    assert!(matches!(
        crate::contract::instantiate(deps.as_mut(), mock_env(), info.clone(), msg).unwrap_err(),
        ContractError::InvalidDenom { .. }
    ));

    let mut msg = instantiate_msg((&g, &r, None), default_params());
    msg.governance = "not-an-address".into();
    assert!(matches!(
        crate::contract::instantiate(deps.as_mut(), mock_env(), info.clone(), msg).unwrap_err(),
        ContractError::Std(_)
    ));

    crate::contract::instantiate(
        deps.as_mut(),
        mock_env(),
        info,
        instantiate_msg((&g, &r, None), default_params()),
    )
    .unwrap();
    let c = crate::query::query_config(deps.as_ref()).unwrap();
    assert_eq!(c.governance, g);
    assert_eq!(c.verifier, None);
    assert_eq!(c.next_to_finalize, 0);
    assert_eq!(c.reserved, Uint128::zero());
    assert_eq!(
        cw2::get_contract_version(&deps.storage).unwrap().contract,
        "crates.io:opg-reward-pool"
    );
}

#[test]
fn sudo_updates_params_and_config() {
    let mut s = Suite::new();
    s.in_epoch(0);
    let mut p = default_params();
    p.alpha = dec("0.1");
    s.sudo(&SudoMsg::UpdateParams { params: p.clone() })
        .unwrap();
    assert_eq!(s.params().scheduled.unwrap().params, p);
    p.alpha = dec("0.7");
    assert!(oob("alpha")(
        &s.sudo(&SudoMsg::UpdateParams { params: p }).unwrap_err()
    ));

    let new_gov = s.addr("new-gov");
    s.sudo(&SudoMsg::UpdateConfig {
        governance: Some(new_gov.to_string()),
        verifier: None,
        registry: None,
    })
    .unwrap();
    assert_eq!(s.config().governance, new_gov);
}

#[test]
fn update_config_replaces_the_verifier() {
    let mut s = Suite::new();
    s.in_epoch(0);
    let stranger = s.addr("stranger");
    let msg = ExecuteMsg::UpdateConfig {
        governance: None,
        verifier: Some(stranger.to_string()),
        registry: None,
    };
    assert_eq!(
        s.execute_as(&stranger, &msg).unwrap_err(),
        ContractError::Unauthorized {
            sender: stranger.clone(),
            action: "update_config".into()
        }
    );
    let gov = s.governance.clone();
    let res = s.execute_as(&gov, &msg).unwrap();
    assert!(res.events.iter().any(|e| e
        .attributes
        .iter()
        .any(|a| a.key == "action" && a.value == "update_config")));
    assert_eq!(s.config().verifier, Some(stranger.clone()));
    // The old verifier can no longer record; the new one can.
    assert!(matches!(
        s.record(vec![usage(0, "proxy-1", 1, 1)], vec![])
            .unwrap_err(),
        ContractError::Unauthorized { .. }
    ));
    s.record_as(&stranger, vec![usage(0, "proxy-1", 1, 1)], vec![])
        .unwrap();
    // Invalid addresses are refused.
    assert!(matches!(
        s.execute_as(
            &gov,
            &ExecuteMsg::UpdateConfig {
                governance: Some("nope".into()),
                verifier: None,
                registry: None
            }
        )
        .unwrap_err(),
        ContractError::Std(_)
    ));
    // Governance can hand over governance.
    let new_gov = s.addr("new-gov");
    s.execute_as(
        &gov,
        &ExecuteMsg::UpdateConfig {
            governance: Some(new_gov.to_string()),
            verifier: None,
            registry: Some(s.registry.to_string()),
        },
    )
    .unwrap();
    assert!(matches!(
        s.execute_as(&gov, &msg).unwrap_err(),
        ContractError::Unauthorized { .. }
    ));
}
