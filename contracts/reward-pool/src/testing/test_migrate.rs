//! Migration 0.1 -> 0.2 (rewards v2) on a state written in the 0.1 layout: params rewritten, a
//! 0.1-finalized epoch still paid with the 0.1 maths, an epoch open at migration still recorded
//! and finalized, the 0.1 per-payer entries ignored.
use cosmwasm_schema::cw_serde;
use cosmwasm_std::testing::{message_info, mock_dependencies_with_balance, mock_env, MockApi};
use cosmwasm_std::{
    coins, from_json, to_json_binary, BankMsg, ContractResult, CosmosMsg, Decimal, Env,
    SystemResult, Timestamp, Uint128, Uint256, WasmQuery,
};
use cw_storage_plus::Map;
use opg_core::msg::pool::{ExecuteMsg, HardwareWeight, MigrateMsg, RewardParams, StipendCap};
use opg_core::msg::registry::{NodeInfo, QueryMsg as RegistryQueryMsg};
use opg_core::types::{NodeKey, NodeKindTag, NodeStatus, Provenance};

use super::suite::*;
use crate::contract::{execute, instantiate, migrate, CONTRACT_NAME, CONTRACT_VERSION};
use crate::migrate::{LegacyHardwareWeight, LegacyRewardParams, LEGACY_PARAMS};
use crate::state::{CONFIG, NEXT_TO_FINALIZE, PARAMS, RESERVED};
use crate::ContractError;

/// `EpochResult` as version 0.1 stored it.
#[cw_serde]
struct EpochResultV1 {
    budget: Uint128,
    usage_budget: Uint128,
    stipend_budget: Uint128,
    m_commercial: Decimal,
    m_community: Decimal,
    previous_community_share: Decimal,
    denominator: Uint256,
    hardware_weight_total: Decimal,
    commercial_usage_rewards: Uint128,
    community_usage_rewards: Uint128,
    paid: Uint128,
    tallies: u32,
    claimed_nodes: u32,
}

#[cw_serde]
struct ClassTotalsV1 {
    nodes: u32,
    calls: u64,
    raw_value: Uint128,
    effective_value: Uint128,
}

#[cw_serde]
struct EpochTotalsV1 {
    commercial: ClassTotalsV1,
    community: ClassTotalsV1,
    live_local_nodes: u32,
    hardware_weight_total: Decimal,
    tallies: u32,
}

#[cw_serde]
struct LiveTallyV1 {
    hardware_class: String,
    weight: Decimal,
}

#[cw_serde]
struct TallyV1 {
    provenance: Provenance,
    has_usage: bool,
    calls: u64,
    raw_value: Uint128,
    effective_value: Uint128,
    live: Option<LiveTallyV1>,
}

const RESULTS_V1: Map<u64, EpochResultV1> = Map::new("epoch_results");
const TOTALS_V1: Map<u64, EpochTotalsV1> = Map::new("epoch_totals");
const TALLIES_V1: Map<(&str, u64), TallyV1> = Map::new("tallies");

fn legacy_params(emission: u128) -> LegacyRewardParams {
    LegacyRewardParams {
        emission_per_epoch: Uint128::new(emission),
        m_commercial: Decimal::one(),
        m_community_max: dec("3"),
        target_share: dec("0.5"),
        alpha: dec("0.2"),
        payer_cap: Uint128::new(50_000_000),
        hardware_weights: vec![
            LegacyHardwareWeight {
                class: "h100".into(),
                weight: dec("1.5"),
            },
            LegacyHardwareWeight {
                class: "rtx4090".into(),
                weight: dec("1"),
            },
        ],
    }
}

fn class(nodes: u32, value: u128) -> ClassTotalsV1 {
    ClassTotalsV1 {
        nodes,
        calls: nodes as u64,
        raw_value: Uint128::new(value),
        effective_value: Uint128::new(value),
    }
}

fn env_at(t: u64) -> Env {
    let mut env = mock_env();
    env.block.time = Timestamp::from_seconds(t);
    env
}

#[test]
fn migrate_from_0_1_maps_params_and_keeps_old_epochs_payable() {
    let api = MockApi::default();
    let (gov, reg, ver) = (
        api.addr_make("gov"),
        api.addr_make("reg"),
        api.addr_make("verifier"),
    );
    let operator = api.addr_make("operator");
    let mut deps = mock_dependencies_with_balance(&coins(10_000_000, DENOM));
    let op = operator.clone();
    deps.querier.update_wasm(move |q| match q {
        WasmQuery::Smart { msg, .. } => match from_json::<RegistryQueryMsg>(msg).unwrap() {
            RegistryQueryMsg::Node { node_id } => SystemResult::Ok(ContractResult::Ok(
                to_json_binary(&NodeInfo {
                    node_id,
                    operator: op.clone(),
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
    // The config is the same in both versions: instantiate, then rewrite the rest as 0.1 had it.
    instantiate(
        deps.as_mut(),
        env_at(GENESIS - 10),
        message_info(&gov, &[]),
        instantiate_msg((&gov, &reg, Some(&ver)), default_params()),
    )
    .unwrap();
    let st = deps.as_mut().storage;
    cw2::set_contract_version(st, CONTRACT_NAME, "0.1.0").unwrap();
    PARAMS.remove(st, 0);
    LEGACY_PARAMS
        .save(st, 0, &legacy_params(1_000_000))
        .unwrap();
    LEGACY_PARAMS
        .save(st, 3, &legacy_params(2_000_000))
        .unwrap();
    // Epoch 0, finalized by 0.1: proxy-1 effective 100 at m_c = 1 (D = 100), local-1 live h100
    // without usage: U = 800_000 and H = 200_000 reserved.
    RESULTS_V1
        .save(
            st,
            0,
            &EpochResultV1 {
                budget: Uint128::new(1_000_000),
                usage_budget: Uint128::new(800_000),
                stipend_budget: Uint128::new(200_000),
                m_commercial: Decimal::one(),
                m_community: dec("3"),
                previous_community_share: Decimal::zero(),
                denominator: Decimal::one().atomics().full_mul(100u128),
                hardware_weight_total: dec("1.5"),
                commercial_usage_rewards: Uint128::new(800_000),
                community_usage_rewards: Uint128::zero(),
                paid: Uint128::zero(),
                tallies: 2,
                claimed_nodes: 0,
            },
        )
        .unwrap();
    let tally = |provenance, value: u128, live: Option<LiveTallyV1>| TallyV1 {
        provenance,
        has_usage: value > 0,
        calls: u64::from(value > 0),
        raw_value: Uint128::new(value),
        effective_value: Uint128::new(value),
        live,
    };
    TALLIES_V1
        .save(
            st,
            ("proxy-1", 0),
            &tally(Provenance::Commercial, 100, None),
        )
        .unwrap();
    let h100 = LiveTallyV1 {
        hardware_class: "h100".into(),
        weight: dec("1.5"),
    };
    TALLIES_V1
        .save(
            st,
            ("local-1", 0),
            &tally(Provenance::Community, 0, Some(h100)),
        )
        .unwrap();
    TOTALS_V1
        .save(
            st,
            0,
            &EpochTotalsV1 {
                commercial: class(1, 100),
                community: class(0, 0),
                live_local_nodes: 1,
                hardware_weight_total: dec("1.5"),
                tallies: 2,
            },
        )
        .unwrap();
    // Epoch 1, open at migration: proxy-2 recorded 50 by 0.1.
    TOTALS_V1
        .save(
            st,
            1,
            &EpochTotalsV1 {
                commercial: class(1, 50),
                community: class(0, 0),
                live_local_nodes: 0,
                hardware_weight_total: Decimal::zero(),
                tallies: 1,
            },
        )
        .unwrap();
    TALLIES_V1
        .save(st, ("proxy-2", 1), &tally(Provenance::Commercial, 50, None))
        .unwrap();
    // A 0.1 per-payer entry (namespace `pc`): left as dead storage, never read.
    st.set(b"\x00\x02pc-some-payer-key", b"\x01");
    NEXT_TO_FINALIZE.save(st, &1).unwrap();
    RESERVED.save(st, &Uint128::new(1_000_000)).unwrap();

    // A value out of bounds is refused and changes nothing.
    let bad = MigrateMsg {
        v_cap: Some(Uint128::zero()),
        ..MigrateMsg::default()
    };
    assert!(matches!(
        migrate(deps.as_mut(), mock_env(), bad).unwrap_err(),
        ContractError::ParamOutOfBounds { param, .. } if param == "v_cap"
    ));
    assert_eq!(
        cw2::get_contract_version(&deps.storage).unwrap().version,
        "0.1.0"
    );

    let msg = MigrateMsg {
        v_cap: Some(Uint128::new(2_000_000)),
        c_call: Some(Uint128::new(1_000)),
        stipend_caps: Some(vec![StipendCap {
            class: "h100".into(),
            stipend_cap: Uint128::new(5_000),
        }]),
        claim_epochs: Some(50),
    };
    let res = migrate(deps.as_mut(), mock_env(), msg).unwrap();
    let attr = |k: &str| {
        res.attributes
            .iter()
            .find(|a| a.key == k)
            .map(|a| a.value.clone())
    };
    assert_eq!(attr("from_version").as_deref(), Some("0.1.0"));
    assert_eq!(attr("params_upgraded").as_deref(), Some("2"));
    assert_eq!(
        cw2::get_contract_version(&deps.storage).unwrap().version,
        CONTRACT_VERSION
    );
    let expected = |emission: u128| RewardParams {
        emission_per_epoch: Uint128::new(emission),
        m_commercial: Decimal::one(),
        m_community_max: dec("3"),
        target_share: dec("0.5"),
        alpha: dec("0.2"),
        v_cap: Uint128::new(2_000_000),
        c_call: Some(Uint128::new(1_000)),
        claim_epochs: 50,
        hardware_weights: vec![
            HardwareWeight {
                class: "h100".into(),
                weight: dec("1.5"),
                stipend_cap: Uint128::new(5_000),
            },
            HardwareWeight {
                class: "rtx4090".into(),
                weight: dec("1"),
                stipend_cap: Uint128::new(opg_core::msg::pool::DEFAULT_STIPEND_CAP),
            },
        ],
    };
    assert_eq!(PARAMS.load(&deps.storage, 0).unwrap(), expected(1_000_000));
    assert_eq!(PARAMS.load(&deps.storage, 3).unwrap(), expected(2_000_000));
    // Migrating again (0.2 -> 0.2) leaves the params alone.
    let again = migrate(deps.as_mut(), mock_env(), MigrateMsg::default()).unwrap();
    assert!(again
        .attributes
        .iter()
        .any(|a| a.key == "params_upgraded" && a.value == "0"));
    assert_eq!(PARAMS.load(&deps.storage, 0).unwrap(), expected(1_000_000));

    // Epoch 0 pays with the 0.1 maths: proxy-1 all of U, local-1 all of H (uncapped: the 5_000
    // cap is not retroactive).
    let claim = |deps: &mut cosmwasm_std::OwnedDeps<_, _, _>, node: &str| {
        let res = execute(
            deps.as_mut(),
            env_at(GENESIS + 2 * EPOCH),
            message_info(&operator, &[]),
            ExecuteMsg::Claim {
                node_id: node.into(),
                limit: None,
            },
        )
        .unwrap();
        match &res.messages[0].msg {
            CosmosMsg::Bank(BankMsg::Send { amount, .. }) => amount[0].amount.u128(),
            m => panic!("{m:?}"),
        }
    };
    assert_eq!(claim(&mut deps, "proxy-1"), 800_000);
    assert_eq!(claim(&mut deps, "local-1"), 200_000);
    assert_eq!(RESERVED.load(&deps.storage).unwrap(), Uint128::zero());

    // Epoch 1 (opened by 0.1) takes v2 usage on top and finalizes with the v2 maths.
    execute(
        deps.as_mut(),
        env_at(GENESIS + EPOCH + 1),
        message_info(&ver, &[]),
        ExecuteMsg::RecordUsage {
            entries: vec![usage_counted(1, "proxy-2", 2, 3_000_000, 2_500_000)],
            live: vec![],
        },
    )
    .unwrap();
    execute(
        deps.as_mut(),
        env_at(GENESIS + 2 * EPOCH + GRACE),
        message_info(&gov, &[]),
        ExecuteMsg::FinalizeEpoch { epoch: 1 },
    )
    .unwrap();
    // 3 calls counted 2_500_050 micro-USD; m_community(1) = 3 (S(0) = 0) is m_max, so the rate is
    // min(800_000 / 2_500_050, 1_000 / (3 * 2_000_000)): the per-call cap binds and proxy-2 gets
    // floor(2_500_050 * 1_000 / 6_000_000) = 416 uopg.
    assert_eq!(claim(&mut deps, "proxy-2"), 416);
    assert_eq!(CONFIG.load(&deps.storage).unwrap().governance, gov);
}
