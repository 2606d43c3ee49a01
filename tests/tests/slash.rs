//! Slashing sends a fraction of a bond from the registry into the pool, where it funds later
//! epochs' budgets.
use cosmwasm_std::{Decimal, Uint128};
use opg_core::msg::registry::SlashMsg;
use opg_core::msg::registry::SudoMsg;
use opg_integration_tests::{dec, root_error, SuiteBuilder, GPT};

#[test]
fn slashed_bond_funds_a_later_epoch() {
    // The pool starts empty: only slashed funds can pay rewards.
    let mut s = SuiteBuilder::new().build();
    s.register_proxy("proxy-1", &[GPT], 1_000_000).unwrap();
    s.register_proxy("proxy-bad", &[GPT], 1_000_000).unwrap();
    let alice = s.payer("alice");

    // Epoch 0: usage, but B = min(1,000,000, 0) = 0.
    s.goto_epoch(0, 100);
    let t = s.now();
    let r = s.receipt("proxy-1", &alice, 10_000, t);
    assert_eq!(s.submit(vec![r], vec![]).unwrap().accepted, 1);
    s.goto_finalizable(0);
    s.finalize(0).unwrap();
    assert_eq!(s.epoch_report(0).budget, Uint128::zero());
    assert_eq!(s.pending("proxy-1").amount, Uint128::zero());

    // Governance slashes half of proxy-bad's 1,000,000 bond: 500,000 to the pool.
    s.slash("proxy-bad", dec("0.5")).unwrap();
    assert_eq!(s.node_info("proxy-bad").bond, Uint128::new(500_000));
    assert_eq!(s.balance(&s.pool.clone()), 500_000);
    // Chain governance (sudo) slashes 10% of the rest: floor(500,000 * 0.1) = 50,000.
    s.app
        .wasm_sudo(
            s.registry.clone(),
            &SudoMsg::Slash(SlashMsg {
                node_id: "proxy-bad".to_string(),
                fraction: Decimal::percent(10),
            }),
        )
        .unwrap();
    assert_eq!(s.node_info("proxy-bad").bond, Uint128::new(450_000));
    assert_eq!(s.balance(&s.pool.clone()), 550_000);

    // Epoch 1: B = min(1,000,000, 550,000 - 0 reserved) = 550,000; H = 0.2 * B = 110,000 has
    // no live local node and stays in the pool; U = 440,000 all to proxy-1 (the only usage).
    let t = s.now();
    let r = s.receipt("proxy-1", &alice, 10_000, t);
    assert_eq!(s.submit(vec![r], vec![]).unwrap().accepted, 1);
    s.goto_finalizable(1);
    s.finalize(1).unwrap();
    let r1 = s.epoch_report(1);
    assert_eq!(r1.budget, Uint128::new(550_000));
    assert_eq!(r1.commercial.usage_rewards, Uint128::new(440_000));
    assert_eq!(r1.community.stipend, Uint128::zero());
    // Claim covers epochs 0 (0 uopg) and 1 (440,000 uopg).
    assert_eq!(s.claim("proxy-1").unwrap(), 440_000);
    assert_eq!(s.balance(&s.pool.clone()), 110_000);
}

#[test]
fn slash_is_governance_only_and_bounded() {
    let mut s = SuiteBuilder::new().build();
    s.register_proxy("proxy-bad", &[GPT], 1_000_000).unwrap();
    let operator = s.node("proxy-bad").operator.clone();
    let err = cw_multi_test::Executor::execute_contract(
        &mut s.app,
        operator,
        s.registry.clone(),
        &opg_core::msg::registry::ExecuteMsg::Slash(opg_core::msg::registry::SlashMsg {
            node_id: "proxy-bad".to_string(),
            fraction: dec("0.5"),
        }),
        &[],
    )
    .unwrap_err();
    assert!(root_error(&err).contains("unauthorized"), "{err:?}");
    let err = s.slash("proxy-bad", dec("1.5")).unwrap_err();
    assert!(
        root_error(&err).contains("invalid slash fraction"),
        "{err:?}"
    );
    let err = s.slash("nobody", dec("0.5")).unwrap_err();
    assert!(root_error(&err).contains("not found"), "{err:?}");
    // Nothing moved.
    assert_eq!(s.node_info("proxy-bad").bond, Uint128::new(1_000_000));
    assert_eq!(s.balance(&s.pool.clone()), 0);
}
