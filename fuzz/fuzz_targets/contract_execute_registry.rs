//! The node registry's `execute` on arbitrary message bytes (input format: `opg_fuzz::steps`).
//!
//! Each iteration: instantiate, add the two models and the attester, register the proxy node
//! (operator-1, min bond); then run the input's messages. Senders: governance, operator-1,
//! operator-2, a stranger; funds: `MIN_BOND` uopg. Oracles: nothing panics; after every message
//! the `Config` and `Nodes` queries still answer.
#![no_main]

use cosmwasm_std::testing::{message_info, mock_dependencies};
use cosmwasm_std::{coins, from_json};
use libfuzzer_sys::fuzz_target;
use node_registry::contract::{execute, instantiate, query};
use opg_core::msg::registry::{AddAttesterMsg, AddModelMsg, RegisterMsg};
use opg_core::msg::registry::{ExecuteMsg, InstantiateMsg, NodeKind, NodesResponse, QueryMsg};
use opg_core::types::Provenance;
use opg_fuzz::{addr, env_at_now, world, Deps, Harness, DENOM, GPT, LLAMA, MIN_BOND, PROXY};

fn setup() -> (Deps, cosmwasm_std::Env) {
    let w = world();
    let mut deps = mock_dependencies();
    let mut env = env_at_now();
    env.contract.address = addr("registry");
    let gov = addr("governance");
    instantiate(
        deps.as_mut(),
        env.clone(),
        message_info(&gov, &[]),
        InstantiateMsg {
            governance: gov.to_string(),
            bond_denom: DENOM.to_string(),
            min_bond: MIN_BOND.into(),
            unbonding_period: 7 * 86_400,
            reward_pool: Some(addr("pool").to_string()),
            max_attestation_validity: None,
        },
    )
    .expect("instantiate");
    let setup = [
        (
            gov.clone(),
            vec![],
            ExecuteMsg::AddModel(AddModelMsg {
                id: GPT.into(),
                provenance: Provenance::Commercial,
                weights_digest: None,
            }),
        ),
        (
            gov.clone(),
            vec![],
            ExecuteMsg::AddModel(AddModelMsg {
                id: LLAMA.into(),
                provenance: Provenance::Community,
                weights_digest: None,
            }),
        ),
        (
            gov.clone(),
            vec![],
            ExecuteMsg::AddAttester(AddAttesterMsg {
                address: w.attester.address(),
            }),
        ),
        (
            addr("operator-1"),
            coins(MIN_BOND, DENOM),
            ExecuteMsg::Register(RegisterMsg {
                node_id: PROXY.into(),
                kind: NodeKind::Proxy {
                    upstream: "https://api.openai.com".into(),
                },
                key: w.proxy.key(),
                pay_to: w.proxy_pay_to.address(),
                endpoint: "https://proxy-1.example".into(),
                models: vec![GPT.into()],
            }),
        ),
    ];
    for (sender, funds, msg) in setup {
        execute(
            deps.as_mut(),
            env.clone(),
            message_info(&sender, &funds),
            msg,
        )
        .expect("setup");
    }
    (deps, env)
}

fn invariant(deps: &Deps, env: &cosmwasm_std::Env) {
    query(deps.as_ref(), env.clone(), QueryMsg::Config {}).expect("config query fails");
    let nodes = query(
        deps.as_ref(),
        env.clone(),
        QueryMsg::Nodes {
            kind: None,
            status: None,
            start_after: None,
            limit: Some(100),
        },
    )
    .expect("nodes query fails");
    from_json::<NodesResponse>(&nodes).expect("nodes answer does not parse");
}

fuzz_target!(|data: &[u8]| {
    let (mut deps, mut env) = setup();
    let harness = Harness {
        execute,
        senders: [
            addr("governance"),
            addr("operator-1"),
            addr("operator-2"),
            addr("stranger"),
        ],
        funds: coins(MIN_BOND, DENOM),
        invariant: &invariant,
        on_ok: &|_: &cosmwasm_std::Response| {},
    };
    harness.run(&mut deps, &mut env, data);
});
