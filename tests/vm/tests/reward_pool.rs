//! `reward-pool` on its optimized artifact, fed by the real verifier and registry.
use cosmwasm_std::{Decimal, Uint128};
use opg_core::msg::pool::{
    ConfigResponse, EpochReport, ExecuteMsg, MultipliersResponse, NodeRewardsResponse,
    ParamsResponse, PendingRewardsResponse, QueryMsg, SudoMsg, UsageEntry,
};
use opg_core::msg::verifier::SubmitReceiptsResponse;
use opg_core::msg::MigrateMsg;
use opg_core::types::Provenance;
use opg_vm_tests::suite::{
    addr, default_params, ok, payer, set_cw2, Suite, EMISSION, LOCAL, PROXY_ED,
};

#[test]
fn instantiate_config_and_params() {
    let s = Suite::deploy();
    let cfg: ConfigResponse = ok("config", s.chain.query(&s.pool, &QueryMsg::Config {}));
    assert_eq!(cfg.clock, s.clock);
    assert_eq!(
        cfg.verifier.map(|a| a.to_string()),
        Some(s.addr_of(&s.verifier))
    );
    assert_eq!(cfg.next_to_finalize, 0);
    let params: ParamsResponse = ok("params", s.chain.query(&s.pool, &QueryMsg::Params {}));
    assert_eq!(params.current, default_params());
    assert!(params.scheduled.is_none());
}

#[test]
fn record_usage_is_verifier_only() {
    let mut s = Suite::deploy();
    let stranger = addr("stranger");
    let msg = ExecuteMsg::RecordUsage {
        entries: vec![UsageEntry {
            epoch: 1,
            node_id: PROXY_ED.to_string(),
            provenance: Provenance::Commercial,
            calls: 1_000,
            value: Uint128::new(1_000_000_000),
            counted_value: Uint128::new(1_000_000_000),
        }],
        live: vec![],
    };
    let err = s.chain.execute(&s.pool, &stranger, 0, &msg).unwrap_err();
    assert!(err.contains("unauthorized"), "{err}");
}

/// Usage in the current epoch from a proxy and from a (thereby live) local node.
fn suite_with_usage() -> Suite {
    let mut s = Suite::new();
    let r1 = s.receipt(PROXY_ED, &payer(0));
    let r2 = s.receipt(LOCAL, &payer(1));
    let data: SubmitReceiptsResponse = ok("submit", s.submit(vec![r1, r2], vec![])).data();
    assert_eq!(data.accepted, 2);
    s
}

#[test]
fn finalize_in_order_after_grace() {
    let mut s = suite_with_usage();
    let epoch = s.epoch();
    let err = s.finalize(epoch).unwrap_err();
    assert!(err.contains("expected 0"), "{err}");
    ok("finalize 0", s.finalize(0));
    let err = s.finalize(epoch).unwrap_err();
    assert!(err.contains("cannot be finalized before"), "{err}");
    s.advance_past_grace(epoch);
    ok("finalize", s.finalize(epoch));
    let report: EpochReport = ok(
        "report",
        s.chain.query(&s.pool, &QueryMsg::EpochReport { epoch }),
    );
    assert!(report.finalized);
    assert_eq!(report.budget, Uint128::new(EMISSION));
    assert_eq!(report.commercial.calls, 1);
    assert_eq!(report.community.calls, 1);
    assert_eq!(report.live_local_nodes, 1);
    let m: MultipliersResponse = ok(
        "multipliers",
        s.chain.query(&s.pool, &QueryMsg::Multipliers { epoch }),
    );
    assert!(m.fixed);
    assert_eq!(m.m_commercial, Decimal::percent(50));
    // A late receipt of the finalized epoch is rejected by the verifier (the pool is not asked).
    let late = s.receipt_at(PROXY_ED, &payer(2), s.clock.start(epoch) + 10);
    let data: SubmitReceiptsResponse = ok("late", s.submit(vec![late], vec![])).data();
    assert_eq!(data.receipts[0].rejected.as_deref(), Some("epoch_closed"));
}

#[test]
fn claim_pays_the_operator_once() {
    let mut s = suite_with_usage();
    let epoch = s.epoch();
    let err = s.claim(LOCAL, None).unwrap_err();
    assert!(err.contains("nothing to claim"), "{err}");
    s.advance_past_grace(epoch);
    ok("finalize 0", s.finalize(0));
    ok("finalize", s.finalize(epoch));
    let pending: PendingRewardsResponse = ok(
        "pending",
        s.chain.query(
            &s.pool,
            &QueryMsg::PendingRewards {
                node_id: LOCAL.to_string(),
            },
        ),
    );
    assert_eq!(pending.epochs, 1);
    assert!(!pending.amount.is_zero());
    // Not the operator.
    let stranger = addr("stranger");
    let err = s
        .chain
        .execute(
            &s.pool,
            &stranger,
            0,
            &ExecuteMsg::Claim {
                node_id: LOCAL.to_string(),
                limit: None,
            },
        )
        .unwrap_err();
    assert!(err.contains("is not the operator"), "{err}");
    let operator = s.operator.clone();
    let before = s.chain.balance(&operator);
    ok("claim", s.claim(LOCAL, None));
    assert_eq!(s.chain.balance(&operator), before + pending.amount.u128());
    let err = s.claim(LOCAL, None).unwrap_err();
    assert!(err.contains("nothing to claim"), "{err}");
    let rewards: NodeRewardsResponse = ok(
        "node rewards",
        s.chain.query(
            &s.pool,
            &QueryMsg::NodeRewards {
                node_id: LOCAL.to_string(),
                start_after: None,
                limit: None,
            },
        ),
    );
    assert_eq!(rewards.epochs.len(), 1);
    assert!(rewards.epochs[0].claimed);
    assert!(rewards.epochs[0].live);
}

#[test]
fn params_change_within_bounds_from_the_next_epoch() {
    let mut s = Suite::deploy();
    let gov = s.governance.clone();
    let mut bad = default_params();
    bad.alpha = Decimal::percent(60);
    let err = s
        .chain
        .execute(&s.pool, &gov, 0, &ExecuteMsg::UpdateParams { params: bad })
        .unwrap_err();
    assert!(err.contains("parameter alpha out of bounds"), "{err}");
    let stranger = addr("stranger");
    let err = s
        .chain
        .execute(
            &s.pool,
            &stranger,
            0,
            &ExecuteMsg::UpdateParams {
                params: default_params(),
            },
        )
        .unwrap_err();
    assert!(err.contains("unauthorized"), "{err}");
    let mut good = default_params();
    good.alpha = Decimal::percent(20);
    let block = s.chain.block();
    s.pool
        .borrow_mut()
        .sudo(
            &block,
            &SudoMsg::UpdateParams {
                params: good.clone(),
            },
        )
        .into_result()
        .unwrap();
    let params: ParamsResponse = ok("params", s.chain.query(&s.pool, &QueryMsg::Params {}));
    assert_eq!(params.current, default_params());
    let scheduled = params.scheduled.expect("scheduled");
    assert_eq!(scheduled.params, good);
    assert!(scheduled.from_epoch > s.epoch());
}

#[test]
fn migrate_guards() {
    let s = Suite::deploy();
    let block = s.chain.block();
    s.pool
        .borrow_mut()
        .migrate(&block, &MigrateMsg {})
        .into_result()
        .unwrap();
    set_cw2(&s.pool, "crates.io:opg-node-registry", "0.1.0");
    let err = s
        .pool
        .borrow_mut()
        .migrate(&block, &MigrateMsg {})
        .unwrap_err();
    assert!(err.contains("cannot migrate from contract"), "{err}");
    set_cw2(&s.pool, "crates.io:opg-reward-pool", "99.0.0");
    let err = s
        .pool
        .borrow_mut()
        .migrate(&block, &MigrateMsg {})
        .unwrap_err();
    assert!(err.contains("down to"), "{err}");
}
