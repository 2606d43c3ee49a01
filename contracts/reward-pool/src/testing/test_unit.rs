//! Unit tests on mock dependencies: migrate guard and the budget invariant.
use cosmwasm_std::testing::{message_info, mock_dependencies_with_balance, mock_env, MockApi};
use cosmwasm_std::{
    coins, from_json, to_json_binary, ContractResult, SystemResult, Timestamp, Uint128, WasmQuery,
};
use opg_core::msg::pool::ExecuteMsg;
use opg_core::msg::pool::MigrateMsg;
use opg_core::msg::registry::{NodeInfo, QueryMsg as RegistryQueryMsg};
use opg_core::types::{NodeKey, NodeKindTag, NodeStatus};

use super::suite::*;
use crate::contract::{execute, instantiate, migrate, CONTRACT_NAME, CONTRACT_VERSION};
use crate::state::EPOCH_RESULTS;
use crate::ContractError;

#[test]
fn migrate_refuses_other_contracts_and_downgrades() {
    let mut deps = mock_dependencies_with_balance(&[]);
    cw2::set_contract_version(&mut deps.storage, "crates.io:other", "0.1.0").unwrap();
    assert_eq!(
        migrate(deps.as_mut(), mock_env(), MigrateMsg::default()).unwrap_err(),
        ContractError::MigrateWrongContract {
            expected: CONTRACT_NAME.into(),
            got: "crates.io:other".into()
        }
    );
    cw2::set_contract_version(&mut deps.storage, CONTRACT_NAME, "99.0.0").unwrap();
    assert_eq!(
        migrate(deps.as_mut(), mock_env(), MigrateMsg::default()).unwrap_err(),
        ContractError::MigrateDowngrade {
            from: "99.0.0".into(),
            to: CONTRACT_VERSION.into()
        }
    );
    cw2::set_contract_version(&mut deps.storage, CONTRACT_NAME, "garbage").unwrap();
    assert!(matches!(
        migrate(deps.as_mut(), mock_env(), MigrateMsg::default()).unwrap_err(),
        ContractError::InvalidVersion { .. }
    ));
    cw2::set_contract_version(&mut deps.storage, CONTRACT_NAME, "0.0.1").unwrap();
    migrate(deps.as_mut(), mock_env(), MigrateMsg::default()).unwrap();
    assert_eq!(
        cw2::get_contract_version(&deps.storage).unwrap().version,
        CONTRACT_VERSION
    );
    // Same version is fine too.
    migrate(deps.as_mut(), mock_env(), MigrateMsg::default()).unwrap();
}

/// If an epoch's bookkeeping ever said more was paid than reserved, claims stop with
/// `BudgetExceeded` instead of paying out other epochs' reserves.
#[test]
fn payouts_never_exceed_the_reserved_budget() {
    let api = MockApi::default();
    let env_at = |t: u64| {
        let mut env = mock_env();
        env.block.time = Timestamp::from_seconds(t);
        env
    };
    let mut deps = mock_dependencies_with_balance(&coins(1_000_000, DENOM));
    let (gov, reg, ver, op) = (
        api.addr_make("gov"),
        api.addr_make("reg"),
        api.addr_make("verifier"),
        api.addr_make("operator"),
    );
    let op_for_querier = op.clone();
    deps.querier.update_wasm(move |q| match q {
        WasmQuery::Smart { msg, .. } => match from_json::<RegistryQueryMsg>(msg).unwrap() {
            RegistryQueryMsg::Node { node_id } => SystemResult::Ok(ContractResult::Ok(
                to_json_binary(&NodeInfo {
                    node_id,
                    operator: op_for_querier.clone(),
                    kind: NodeKindTag::Proxy,
                    upstream: None,
                    attestation: None,
                    key: NodeKey::Secp256k1 {
                        address: "0x01".into(),
                    },
                    pay_to: "0x02".into(),
                    endpoint: String::new(),
                    models: vec![],
                    bond: Uint128::zero(),
                    status: NodeStatus::Active,
                    jail_reason: None,
                    registered_at: 0,
                    unbonding_ends: None,
                })
                .unwrap(),
            )),
            _ => panic!("unexpected query"),
        },
        _ => panic!("unexpected query"),
    });
    instantiate(
        deps.as_mut(),
        env_at(GENESIS),
        message_info(&gov, &[]),
        instantiate_msg((&gov, &reg, Some(&ver)), default_params()),
    )
    .unwrap();
    execute(
        deps.as_mut(),
        env_at(GENESIS + 1),
        message_info(&ver, &[]),
        ExecuteMsg::RecordUsage {
            entries: vec![usage(0, "proxy-1", 1, 10)],
            live: vec![],
        },
    )
    .unwrap();
    execute(
        deps.as_mut(),
        env_at(GENESIS + EPOCH + GRACE),
        message_info(&op, &[]),
        ExecuteMsg::FinalizeEpoch { epoch: 0 },
    )
    .unwrap();
    // Corrupt the books: pretend 1 uopg was already paid out of the 800_000 reserved.
    let mut r = EPOCH_RESULTS.load(&deps.storage, 0).unwrap();
    r.paid = Uint128::new(1);
    EPOCH_RESULTS.save(&mut deps.storage, 0, &r).unwrap();
    let err = execute(
        deps.as_mut(),
        env_at(GENESIS + EPOCH + GRACE),
        message_info(&op, &[]),
        ExecuteMsg::Claim {
            node_id: "proxy-1".into(),
            limit: None,
        },
    )
    .unwrap_err();
    assert_eq!(
        err,
        ContractError::BudgetExceeded {
            epoch: 0,
            paid: Uint128::new(1),
            amount: Uint128::new(800_000),
            budget: Uint128::new(800_000),
        }
    );
    // With honest books the claim pays exactly the reserved 800_000.
    r.paid = Uint128::zero();
    EPOCH_RESULTS.save(&mut deps.storage, 0, &r).unwrap();
    let res = execute(
        deps.as_mut(),
        env_at(GENESIS + EPOCH + GRACE),
        message_info(&op, &[]),
        ExecuteMsg::Claim {
            node_id: "proxy-1".into(),
            limit: None,
        },
    )
    .unwrap();
    assert_eq!(res.messages.len(), 1);
}

/// Issue 13, strict messages: an execute message with an unknown field is refused at the entry
/// point with an error naming the field (before, `{"finalize_epoch":{"epoch":0,"extra":1}}`
/// finalized epoch 0), and nothing is finalized.
#[test]
fn an_unknown_field_is_refused_and_named() {
    use cosmwasm_std::{Binary, WasmMsg};
    use cw_multi_test::Executor;
    let mut s = Suite::new();
    s.after_grace(0);
    let anyone = s.addr("anyone");
    for raw in [
        r#"{"finalize_epoch":{"epoch":0,"extra":1}}"#,
        r#"{"claim":{"node_id":"proxy-1","extra":1}}"#,
        r#"{"update_params":{"params":{"emission_per_epoch":"1","m_commercial":"1","m_community_max":"1","target_share":"1","alpha":"0","v_cap":"1","c_call":null,"hardware_weights":[],"payer_cap":"5"}}}"#,
    ] {
        let err = s
            .app
            .execute(
                anyone.clone(),
                WasmMsg::Execute {
                    contract_addr: s.pool.to_string(),
                    msg: Binary::from(raw.as_bytes()),
                    funds: vec![],
                }
                .into(),
            )
            .unwrap_err();
        let chain = format!("{err:#}");
        assert!(
            chain.contains("unknown field `extra`") || chain.contains("unknown field `payer_cap`"),
            "{raw}: {chain}"
        );
    }
    assert_eq!(s.config().next_to_finalize, 0);
    // The same message without the extra field executes.
    s.finalize(0).unwrap();
    assert_eq!(s.config().next_to_finalize, 1);
}
