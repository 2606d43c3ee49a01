//! The receipt verifier's `execute` on arbitrary message bytes (input format: `opg_fuzz::steps`).
//!
//! Each iteration: instantiate (policy of the fuzz world, settlement required, `max_batch` 16) at
//! the verifier address of `mock_env()`, with a mock querier that answers the pool's `Config`
//! (the world's clock) and the registry's `NodesByIds` (the world's two nodes and two models), so
//! the world's valid receipts are accepted. Senders: governance, a keeper, operator-1, a stranger.
//! Oracles: nothing panics; after every message the `Config` query answers; across all messages of
//! an input no `(payer, nonce)` is accepted twice.
#![no_main]

use std::cell::RefCell;
use std::collections::BTreeSet;

use cosmwasm_std::testing::{message_info, mock_dependencies};
use cosmwasm_std::{from_json, Addr, Response, Uint128, WasmQuery};
use libfuzzer_sys::fuzz_target;
use opg_core::msg::pool::{ConfigResponse as PoolConfig, QueryMsg as PoolQueryMsg};
use opg_core::msg::registry::{ModelInfo, NodesByIdsResponse, QueryMsg as RegistryQueryMsg};
use opg_core::msg::verifier::{InstantiateMsg, QueryMsg, SubmitReceiptsResponse};
use opg_fuzz::{addr, answer, contract_error, env_at_now, world, Deps, Harness, DENOM};
use receipt_verifier::contract::{execute, instantiate, query};

fn registry_answer(ids: Vec<String>, models: Vec<String>) -> NodesByIdsResponse {
    let w = world();
    NodesByIdsResponse {
        nodes: ids
            .iter()
            .filter_map(|id| w.registry.nodes.get(id).cloned())
            .collect(),
        models: models
            .into_iter()
            .filter_map(|id| {
                w.registry.models.get(&id).map(|p| ModelInfo {
                    id,
                    provenance: *p,
                    weights_digest: None,
                })
            })
            .collect(),
    }
}

fn setup() -> (Deps, cosmwasm_std::Env) {
    let w = world();
    let mut deps = mock_dependencies();
    let env = env_at_now();
    let (pool, registry) = (addr("pool").to_string(), addr("registry").to_string());
    deps.querier.update_wasm(move |q| match q {
        WasmQuery::Smart { contract_addr, msg } if *contract_addr == pool => {
            match from_json::<PoolQueryMsg>(msg) {
                Ok(PoolQueryMsg::Config {}) => answer(&PoolConfig {
                    governance: Addr::unchecked(pool.clone()),
                    registry: Addr::unchecked(registry.clone()),
                    verifier: Some(w.verifier.clone()),
                    denom: DENOM.to_string(),
                    clock: w.clock,
                    next_to_finalize: 0,
                    reserved: Uint128::zero(),
                }),
                _ => contract_error("unsupported pool query"),
            }
        }
        WasmQuery::Smart { contract_addr, msg } if *contract_addr == registry => {
            match from_json::<RegistryQueryMsg>(msg) {
                Ok(RegistryQueryMsg::NodesByIds { ids, models }) => {
                    answer(&registry_answer(ids, models))
                }
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
            reward_pool: addr("pool").to_string(),
            networks: w.networks.clone(),
            facilitators: w.facilitators.clone(),
            require_settlement: true,
            max_batch: 16,
        },
    )
    .expect("instantiate");
    (deps, env)
}

fn invariant(deps: &Deps, env: &cosmwasm_std::Env) {
    query(deps.as_ref(), env.clone(), QueryMsg::Config {}).expect("config query fails");
}

fuzz_target!(|data: &[u8]| {
    let (mut deps, mut env) = setup();
    let accepted: RefCell<BTreeSet<(Option<String>, Option<String>)>> = RefCell::default();
    let on_ok = |response: &Response| {
        let Some(data) = &response.data else { return };
        let Ok(result) = from_json::<SubmitReceiptsResponse>(data) else {
            return;
        };
        for r in result.receipts.into_iter().filter(|r| r.rejected.is_none()) {
            assert!(
                accepted
                    .borrow_mut()
                    .insert((r.payer.clone(), r.nonce.clone())),
                "accepted twice: payer {:?} nonce {:?}",
                r.payer,
                r.nonce
            );
        }
    };
    let harness = Harness {
        execute,
        senders: [
            addr("governance"),
            addr("keeper"),
            addr("operator-1"),
            addr("stranger"),
        ],
        funds: vec![],
        invariant: &invariant,
        on_ok: &on_ok,
    };
    harness.run(&mut deps, &mut env, data);
});
