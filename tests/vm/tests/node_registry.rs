//! `node-registry` on its optimized artifact.
use cosmwasm_std::{Decimal, Uint128};
use opg_core::msg::pool::{ConfigResponse as PoolConfig, QueryMsg as PoolQueryMsg};
use opg_core::msg::registry::{
    AddModelMsg, DeregisterMsg, JailMsg, RegisterMsg, SlashMsg, UpdateNodeMsg, WithdrawBondMsg,
};
use opg_core::msg::registry::{
    ConfigResponse, ExecuteMsg, ModelInfo, NodeInfo, NodeKind, NodesByIdsResponse, NodesResponse,
    QueryMsg, SudoMsg,
};
use opg_core::msg::verifier::SubmitReceiptsResponse;
use opg_core::msg::MigrateMsg;
use opg_core::types::{NodeStatus, Provenance};
use opg_vm_tests::suite::{
    addr, ok, payer, set_cw2, Suite, GPT, LLAMA, LOCAL, MIN_BOND, PROXY_ED, PROXY_SECP,
};

#[test]
fn instantiate_and_config() {
    let s = Suite::deploy();
    let cfg: ConfigResponse = ok("config", s.chain.query(&s.registry, &QueryMsg::Config {}));
    assert_eq!(cfg.governance.as_str(), s.governance);
    assert_eq!(cfg.bond_denom, "uopg");
    assert_eq!(cfg.min_bond, Uint128::new(MIN_BOND));
    assert_eq!(
        cfg.reward_pool.map(|a| a.to_string()),
        Some(s.addr_of(&s.pool))
    );
}

#[test]
fn register_all_kinds_and_query_them() {
    let s = Suite::new();
    let node: NodeInfo = ok(
        "node",
        s.chain.query(
            &s.registry,
            &QueryMsg::Node {
                node_id: LOCAL.to_string(),
            },
        ),
    );
    assert_eq!(node.operator.as_str(), s.operator);
    assert_eq!(node.bond, Uint128::new(MIN_BOND));
    assert_eq!(node.status, NodeStatus::Active);
    assert_eq!(
        node.attestation.map(|a| a.hardware_class),
        Some("h100".to_string())
    );
    let page: NodesResponse = ok(
        "nodes",
        s.chain.query(
            &s.registry,
            &QueryMsg::Nodes {
                kind: None,
                status: None,
                start_after: None,
                limit: Some(2),
            },
        ),
    );
    assert_eq!(page.nodes.len(), 2);
    let by_ids: NodesByIdsResponse = ok(
        "nodes by ids",
        s.chain.query(
            &s.registry,
            &QueryMsg::NodesByIds {
                ids: vec![PROXY_SECP.to_string(), "ghost".to_string()],
                models: vec![GPT.to_string(), "ghost/model".to_string()],
            },
        ),
    );
    assert_eq!(by_ids.nodes.len(), 1);
    assert_eq!(by_ids.models.len(), 1);
    let model: ModelInfo = ok(
        "model",
        s.chain.query(
            &s.registry,
            &QueryMsg::Model {
                id: LLAMA.to_string(),
            },
        ),
    );
    assert_eq!(model.provenance, Provenance::Community);
    // The operator's bonds moved to the registry.
    assert_eq!(s.chain.balance(&s.addr_of(&s.registry)), 3 * MIN_BOND);
}

#[test]
fn register_errors() {
    let mut s = Suite::deploy();
    s.setup_registry();
    ok("register", s.register(0));
    let err = s.register(0).unwrap_err();
    assert!(err.contains("node proxy-secp already exists"), "{err}");

    let operator = s.operator.clone();
    let msg = s.register_msg(1);
    let err = s
        .chain
        .execute(&s.registry, &operator, MIN_BOND - 1, &msg)
        .unwrap_err();
    assert!(err.contains("bond too low"), "{err}");

    // A proxy listing a community model.
    let mut msg = s.register_msg(1);
    if let ExecuteMsg::Register(RegisterMsg { models, .. }) = &mut msg {
        *models = vec![LLAMA.to_string()];
    }
    let err = s
        .chain
        .execute(&s.registry, &operator, MIN_BOND, &msg)
        .unwrap_err();
    assert!(err.contains("not allowed"), "{err}");

    // A local node whose attestation was signed for another operator.
    let mut msg = s.register_msg(2);
    let other = addr("other-operator");
    s.chain.mint(&other, MIN_BOND);
    let err = s
        .chain
        .execute(&s.registry, &other, MIN_BOND, &msg)
        .unwrap_err();
    assert!(err.contains("invalid attestation"), "{err}");
    // A tampered attestation class.
    if let ExecuteMsg::Register(RegisterMsg {
        kind: NodeKind::Local { attestation },
        ..
    }) = &mut msg
    {
        attestation.hardware_class = "rtx4090".to_string();
    }
    let err = s
        .chain
        .execute(&s.registry, &operator, MIN_BOND, &msg)
        .unwrap_err();
    assert!(err.contains("invalid attestation"), "{err}");
}

#[test]
fn update_deregister_and_withdraw_bond() {
    let mut s = Suite::new();
    let operator = s.operator.clone();
    let update = ExecuteMsg::UpdateNode(UpdateNodeMsg {
        node_id: PROXY_ED.to_string(),
        key: None,
        pay_to: None,
        endpoint: Some("https://new.example".to_string()),
        models: None,
        upstream: None,
        attestation: None,
    });
    let stranger = addr("stranger");
    let err = s
        .chain
        .execute(&s.registry, &stranger, 0, &update)
        .unwrap_err();
    assert!(err.contains("not the operator"), "{err}");
    ok(
        "update",
        s.chain.execute(&s.registry, &operator, 0, &update),
    );
    let node: NodeInfo = ok(
        "node",
        s.chain.query(
            &s.registry,
            &QueryMsg::Node {
                node_id: PROXY_ED.to_string(),
            },
        ),
    );
    assert_eq!(node.endpoint, "https://new.example");

    let dereg = ExecuteMsg::Deregister(DeregisterMsg {
        node_id: PROXY_ED.to_string(),
    });
    let withdraw = ExecuteMsg::WithdrawBond(WithdrawBondMsg {
        node_id: PROXY_ED.to_string(),
    });
    let err = s
        .chain
        .execute(&s.registry, &operator, 0, &withdraw)
        .unwrap_err();
    assert!(err.contains("not unbonding"), "{err}");
    ok(
        "deregister",
        s.chain.execute(&s.registry, &operator, 0, &dereg),
    );
    let err = s
        .chain
        .execute(&s.registry, &operator, 0, &withdraw)
        .unwrap_err();
    assert!(err.contains("still unbonding"), "{err}");
    let before = s.chain.balance(&operator);
    let t = s.chain.now() + 86_400;
    s.chain.set_time(t);
    ok(
        "withdraw",
        s.chain.execute(&s.registry, &operator, 0, &withdraw),
    );
    assert_eq!(s.chain.balance(&operator), before + MIN_BOND);
    // The node stays on record, withdrawn, with its operator and kind (its unclaimed rewards
    // still go to that operator); its id is never registered again.
    let node: NodeInfo = ok(
        "node",
        s.chain.query(
            &s.registry,
            &QueryMsg::Node {
                node_id: PROXY_ED.to_string(),
            },
        ),
    );
    assert_eq!(node.status, NodeStatus::Withdrawn);
    assert_eq!(node.operator.as_str(), operator);
    assert_eq!(node.bond, Uint128::zero());
    let i = s.nodes.iter().position(|n| n.id == PROXY_ED).unwrap();
    let again = s.register_msg(i);
    let err = s
        .chain
        .execute(&s.registry, &operator, MIN_BOND, &again)
        .unwrap_err();
    assert!(err.contains("is never reused"), "{err}");
    // Its receipts are rejected with the reason.
    let r = s.receipt(PROXY_ED, &payer(0));
    let data: SubmitReceiptsResponse = ok("submit", s.submit(vec![r], vec![])).data();
    assert_eq!(data.receipts[0].rejected.as_deref(), Some("node_withdrawn"));
}

#[test]
fn governance_jails_slashes_and_sudo_adds_models() {
    let mut s = Suite::new();
    let gov = s.governance.clone();
    let jail = ExecuteMsg::Jail(JailMsg {
        node_id: PROXY_SECP.to_string(),
        reason: "fake traffic".to_string(),
    });
    let stranger = addr("stranger");
    let err = s
        .chain
        .execute(&s.registry, &stranger, 0, &jail)
        .unwrap_err();
    assert!(err.contains("unauthorized"), "{err}");
    ok("jail", s.chain.execute(&s.registry, &gov, 0, &jail));
    // The verifier sees the jail through its NodesByIds query.
    let r = s.receipt(PROXY_SECP, &payer(0));
    let data: SubmitReceiptsResponse = ok("submit", s.submit(vec![r], vec![])).data();
    assert_eq!(data.receipts[0].rejected.as_deref(), Some("node_jailed"));
    let err = s.chain.execute(&s.registry, &gov, 0, &jail).unwrap_err();
    assert!(err.contains("is jailed"), "{err}");

    // Slash half of a bond into the pool (a `Fund {}` the pool accepts).
    let pool = s.addr_of(&s.pool);
    let pool_before = s.chain.balance(&pool);
    let slash = ExecuteMsg::Slash(SlashMsg {
        node_id: PROXY_ED.to_string(),
        fraction: Decimal::percent(50),
    });
    let tx = ok("slash", s.chain.execute(&s.registry, &gov, 0, &slash));
    assert_eq!(tx.responses.len(), 2, "the pool's Fund ran");
    assert_eq!(s.chain.balance(&pool), pool_before + MIN_BOND / 2);
    let _: PoolConfig = ok(
        "pool config",
        s.chain.query(&s.pool, &PoolQueryMsg::Config {}),
    );
    let err = s
        .chain
        .execute(
            &s.registry,
            &gov,
            0,
            &ExecuteMsg::Slash(SlashMsg {
                node_id: PROXY_ED.to_string(),
                fraction: Decimal::percent(150),
            }),
        )
        .unwrap_err();
    assert!(err.contains("invalid slash fraction"), "{err}");

    let block = s.chain.block();
    let res = s.registry.borrow_mut().sudo(
        &block,
        &SudoMsg::AddModel(AddModelMsg {
            id: "mistral/mistral-7b".to_string(),
            provenance: Provenance::Community,
            weights_digest: None,
        }),
    );
    res.into_result().unwrap();
    let model: ModelInfo = ok(
        "model",
        s.chain.query(
            &s.registry,
            &QueryMsg::Model {
                id: "mistral/mistral-7b".to_string(),
            },
        ),
    );
    assert_eq!(model.provenance, Provenance::Community);
}

#[test]
fn migrate_guards() {
    let s = Suite::deploy();
    let block = s.chain.block();
    s.registry
        .borrow_mut()
        .migrate(&block, &MigrateMsg {})
        .into_result()
        .unwrap();
    set_cw2(&s.registry, "crates.io:opg-reward-pool", "0.1.0");
    let err = s
        .registry
        .borrow_mut()
        .migrate(&block, &MigrateMsg {})
        .unwrap_err();
    assert!(err.contains("cannot migrate from contract"), "{err}");
    set_cw2(&s.registry, "crates.io:opg-node-registry", "99.0.0");
    let err = s
        .registry
        .borrow_mut()
        .migrate(&block, &MigrateMsg {})
        .unwrap_err();
    assert!(err.contains("down to"), "{err}");
}

#[test]
fn unknown_fields_are_refused_on_chain_naming_them() {
    // The artifact parses with the chain's JSON parser: a stray or misspelled field fails the
    // message with an error naming it, and nothing changes.
    let mut s = Suite::new();
    let operator = s.operator.clone();
    let msg = serde_json::json!({"deregister": {"node_id": PROXY_ED, "extra": 1}});
    let err = s
        .chain
        .execute(&s.registry, &operator, 0, &msg)
        .unwrap_err();
    assert!(err.contains("unknown field `extra`"), "{err}");
    let gov = s.governance.clone();
    let msg = serde_json::json!({"update_config": {"min_bnd": "1"}});
    let err = s.chain.execute(&s.registry, &gov, 0, &msg).unwrap_err();
    assert!(err.contains("unknown field `min_bnd`"), "{err}");
    let node: NodeInfo = ok(
        "node",
        s.chain.query(
            &s.registry,
            &QueryMsg::Node {
                node_id: PROXY_ED.to_string(),
            },
        ),
    );
    assert_eq!(node.status, NodeStatus::Active);
}
