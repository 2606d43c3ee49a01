//! The reward pool's `execute` on arbitrary message bytes (input format: `opg_fuzz::steps`).
//!
//! Each iteration: instantiate with the fuzz world's clock and default params; the mock querier
//! answers the pool's bank balance (10 uopg million) and the registry's `Node` query for the
//! world's nodes. Senders: governance, the verifier, operator-1, a stranger; funds: 1,000,000 uopg.
//! Oracles: nothing panics; after every message the `Config` and `Params` queries answer and the
//! reserved budget never exceeds the balance the pool was ever given.
#![no_main]

use std::str::FromStr;

use cosmwasm_std::testing::{message_info, mock_dependencies};
use cosmwasm_std::{coins, from_json, Decimal, Uint128, WasmQuery};
use libfuzzer_sys::fuzz_target;
use opg_core::msg::pool::{ConfigResponse, HardwareWeight, InstantiateMsg, QueryMsg, RewardParams};
use opg_core::msg::registry::QueryMsg as RegistryQueryMsg;
use opg_fuzz::{addr, answer, contract_error, env_at_now, world, Deps, Harness, DENOM};
use reward_pool::contract::{execute, instantiate, query};

const BALANCE: u128 = 10_000_000;
const FUND: u128 = 1_000_000;

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).expect("decimal")
}

fn setup() -> (Deps, cosmwasm_std::Env) {
    let w = world();
    let mut deps = mock_dependencies();
    let mut env = env_at_now();
    env.contract.address = addr("pool");
    deps.querier
        .bank
        .update_balance(env.contract.address.clone(), coins(BALANCE, DENOM));
    let registry = addr("registry").to_string();
    deps.querier.update_wasm(move |q| match q {
        WasmQuery::Smart { contract_addr, msg } if *contract_addr == registry => {
            match from_json::<RegistryQueryMsg>(msg) {
                Ok(RegistryQueryMsg::Node { node_id }) => match w.registry.nodes.get(&node_id) {
                    Some(node) => answer(node),
                    None => contract_error("node not found"),
                },
                _ => contract_error("unsupported registry query"),
            }
        }
        _ => contract_error("no such contract"),
    });
    let gov = addr("governance");
    instantiate(
        deps.as_mut(),
        env.clone(),
        message_info(&gov, &[]),
        InstantiateMsg {
            governance: gov.to_string(),
            registry: addr("registry").to_string(),
            verifier: Some(addr("verifier").to_string()),
            denom: DENOM.to_string(),
            clock: w.clock,
            params: RewardParams {
                emission_per_epoch: Uint128::new(1_000_000),
                m_commercial: dec("0.8"),
                m_community_max: dec("3"),
                target_share: dec("0.5"),
                alpha: dec("0.2"),
                v_cap: Uint128::new(100_000),
                c_call: Some(Uint128::new(1_000)),
                claim_epochs: 30,
                hardware_weights: vec![
                    HardwareWeight {
                        class: "h100".into(),
                        weight: dec("1.5"),
                        stipend_cap: Uint128::new(150_000),
                    },
                    HardwareWeight {
                        class: "rtx4090".into(),
                        weight: dec("1"),
                        stipend_cap: Uint128::new(100_000),
                    },
                ],
            },
        },
    )
    .expect("instantiate");
    (deps, env)
}

fn invariant(deps: &Deps, env: &cosmwasm_std::Env) {
    let config =
        query(deps.as_ref(), env.clone(), QueryMsg::Config {}).expect("config query fails");
    let config: ConfigResponse = from_json(config).expect("config answer does not parse");
    query(deps.as_ref(), env.clone(), QueryMsg::Params {}).expect("params query fails");
    assert!(
        config.reserved <= Uint128::new(BALANCE),
        "reserved {} exceeds the pool balance {BALANCE}",
        config.reserved
    );
}

fuzz_target!(|data: &[u8]| {
    let (mut deps, mut env) = setup();
    let harness = Harness {
        execute,
        senders: [
            addr("governance"),
            addr("verifier"),
            addr("operator-1"),
            addr("stranger"),
        ],
        funds: coins(FUND, DENOM),
        invariant: &invariant,
        on_ok: &|_: &cosmwasm_std::Response| {},
    };
    harness.run(&mut deps, &mut env, data);
});
