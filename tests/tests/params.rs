//! Governance params: changed mid-epoch, they apply from the next epoch only; bounds and
//! authorization are enforced.
use cosmwasm_std::Uint128;
use opg_core::msg::pool::{RewardParams, SudoMsg};
use opg_integration_tests::{dec, default_params, root_error, SuiteBuilder, GPT};

#[test]
fn params_updated_mid_epoch_apply_from_the_next_epoch() {
    let mut s = SuiteBuilder::new().with_pool_funds(10_000_000).build();
    s.register_proxy("proxy-1", &[GPT], 1_000_000).unwrap();
    let alice = s.payer("alice");

    s.goto_epoch(0, 1_000);
    let t = s.now();
    let r = s.receipt("proxy-1", &alice, 10_000, t);
    s.submit(vec![r], vec![]).unwrap();

    // Mid-epoch 0: double the emission (x2 is the most one change may do) and m_commercial.
    let new = RewardParams {
        emission_per_epoch: Uint128::new(2_000_000),
        m_commercial: dec("1"),
        ..default_params()
    };
    s.update_params(new.clone()).unwrap();
    let p = s.params();
    assert_eq!(p.current, default_params());
    let scheduled = p.scheduled.expect("scheduled params");
    assert_eq!(scheduled.from_epoch, 1);
    assert_eq!(scheduled.params, new);
    // Projected multipliers: epoch 0 keeps 0.5, epoch 1 gets 1.
    assert_eq!(s.multipliers(0).m_commercial, dec("0.5"));
    assert_eq!(s.multipliers(1).m_commercial, dec("1"));

    let t = s.now();
    let r = s.receipt("proxy-1", &alice, 10_000, t);
    s.submit(vec![r], vec![]).unwrap();
    s.goto_finalizable(0);
    s.finalize(0).unwrap();
    // Epoch 0 is finalized under the old params: B = min(1,000,000, 10,000,000) = 1,000,000.
    let r0 = s.epoch_report(0);
    assert_eq!(r0.budget, Uint128::new(1_000_000));
    assert_eq!(r0.m_commercial, dec("0.5"));
    // Only proxy usage: U = 800,000 (H has no live local node).
    assert_eq!(s.claim("proxy-1").unwrap(), 800_000);

    // Epoch 1 runs under the new params.
    assert_eq!(s.params().current, new);
    let t = s.now();
    let r = s.receipt("proxy-1", &alice, 10_000, t);
    s.submit(vec![r], vec![]).unwrap();
    s.goto_finalizable(1);
    s.finalize(1).unwrap();
    // B = min(2,000,000, 9,200,000 - 0) = 2,000,000; U = 1,600,000.
    let r1 = s.epoch_report(1);
    assert_eq!(r1.budget, Uint128::new(2_000_000));
    assert_eq!(r1.m_commercial, dec("1"));
    assert_eq!(s.claim("proxy-1").unwrap(), 1_600_000);
}

#[test]
fn params_updates_are_bounded_and_governance_only() {
    let mut s = SuiteBuilder::new().build();
    s.goto_epoch(0, 10);
    // x3 emission in one change: refused.
    let err = s
        .update_params(RewardParams {
            emission_per_epoch: Uint128::new(3_000_000),
            ..default_params()
        })
        .unwrap_err();
    assert!(root_error(&err).contains("emission_per_epoch"), "{err:?}");
    // alpha above 0.5: refused.
    let err = s
        .update_params(RewardParams {
            alpha: dec("0.6"),
            ..default_params()
        })
        .unwrap_err();
    assert!(root_error(&err).contains("alpha"), "{err:?}");
    // M = 11: outside [1, 10].
    let err = s
        .update_params(RewardParams {
            m_community_max: dec("11"),
            ..default_params()
        })
        .unwrap_err();
    assert!(root_error(&err).contains("m_community_max"), "{err:?}");
    assert_eq!(s.params().scheduled, None);

    // Not governance.
    let stranger = s.addr("stranger");
    let err = cw_multi_test::Executor::execute_contract(
        &mut s.app,
        stranger,
        s.pool.clone(),
        &opg_core::msg::pool::ExecuteMsg::UpdateParams {
            params: default_params(),
        },
        &[],
    )
    .unwrap_err();
    assert!(root_error(&err).contains("unauthorized"), "{err:?}");

    // Chain governance (sudo) may, within the same bounds.
    let halved = RewardParams {
        emission_per_epoch: Uint128::new(500_000),
        ..default_params()
    };
    s.app
        .wasm_sudo(
            s.pool.clone(),
            &SudoMsg::UpdateParams {
                params: halved.clone(),
            },
        )
        .unwrap();
    assert_eq!(s.params().scheduled.unwrap().params, halved);
}
