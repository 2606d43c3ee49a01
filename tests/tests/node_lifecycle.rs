//! Node lifecycle over the three real contracts (DESIGN §5). Node ids are never reused: a
//! withdrawn node stays on record with its operator, so the rewards it left unclaimed go to that
//! operator and nobody who registers "the same id" later can collect them. Removing an attester
//! revokes what it signed: its nodes stop counting as live.
use cosmwasm_std::coin;
use cw_multi_test::Executor;
use opg_core::msg::{pool, registry};
use opg_core::sign::NodeSigner;
use opg_core::types::{NodeKindTag, NodeStatus};
use opg_integration_tests::{reasons, root_error, SuiteBuilder, DENOM, GPT, H100, LLAMA};

#[test]
fn a_claim_after_withdrawal_pays_the_original_operator_and_the_id_cannot_be_taken() {
    let mut s = SuiteBuilder::new().with_pool_funds(5_000_000).build();
    s.register_proxy("proxy-1", &[GPT], 1_000_000).unwrap();
    s.register_proxy("proxy-2", &[GPT], 1_000_000).unwrap();
    let operator = s.node("proxy-1").operator.clone();
    let alice = s.payer("alice");

    // Epoch 0: proxy-1 serves, then deregisters; the epoch is finalized with its usage.
    s.goto_epoch(0, 100);
    let t = s.now();
    let r = s.receipt("proxy-1", &alice, 10_000, t);
    assert_eq!(s.submit(vec![r], vec![]).unwrap().accepted, 1);
    s.app
        .execute_contract(
            operator.clone(),
            s.registry.clone(),
            &registry::ExecuteMsg::Deregister(registry::DeregisterMsg {
                node_id: "proxy-1".to_string(),
            }),
            &[],
        )
        .unwrap();
    s.goto_finalizable(0);
    s.finalize(0).unwrap();
    let owed = s.pending("proxy-1").amount.u128();
    assert!(owed > 0, "proxy-1 earned nothing in epoch 0");

    // Unbonding ends (86,400 s); the operator withdraws the bond without claiming first.
    s.advance(86_400);
    let before = s.balance(&operator);
    s.app
        .execute_contract(
            operator.clone(),
            s.registry.clone(),
            &registry::ExecuteMsg::WithdrawBond(registry::WithdrawBondMsg {
                node_id: "proxy-1".to_string(),
            }),
            &[],
        )
        .unwrap();
    assert_eq!(s.balance(&operator) - before, 1_000_000);
    let info = s.node_info("proxy-1");
    assert_eq!(info.status, NodeStatus::Withdrawn);
    assert_eq!(info.operator, operator);
    assert_eq!(info.kind, NodeKindTag::Proxy);

    // Someone else tries to take the id, as either kind: refused, so they can neither claim
    // proxy-1's rewards nor make the pool see the id come back as another kind.
    let squatter = s.funded_account("squatter");
    let signer = NodeSigner::derive(b"node-lifecycle", "squatter", false);
    let err = s
        .app
        .execute_contract(
            squatter.clone(),
            s.registry.clone(),
            &registry::ExecuteMsg::Register(registry::RegisterMsg {
                node_id: "proxy-1".to_string(),
                kind: registry::NodeKind::Proxy {
                    upstream: "https://api.openai.com".to_string(),
                },
                key: signer.key(),
                pay_to: "0x2222222222222222222222222222222222222222".to_string(),
                endpoint: "https://squat.example.org/v1".to_string(),
                models: vec![GPT.to_string()],
            }),
            &[coin(1_000_000, DENOM)],
        )
        .unwrap_err();
    assert!(
        root_error(&err).contains("withdrawn node and is never reused"),
        "{err:?}"
    );
    let err = s
        .app
        .execute_contract(
            squatter,
            s.pool.clone(),
            &pool::ExecuteMsg::Claim {
                node_id: "proxy-1".to_string(),
                limit: None,
            },
            &[],
        )
        .unwrap_err();
    assert!(root_error(&err).contains("operator"), "{err:?}");

    // The original operator claims after withdrawal and receives what proxy-1 earned.
    assert_eq!(s.claim("proxy-1").unwrap(), owed);
    assert_eq!(s.pending("proxy-1").amount.u128(), 0);

    // A batch naming the withdrawn node: that receipt is rejected with its reason, the other
    // node's receipt lands.
    let t = s.now();
    let withdrawn = s.receipt("proxy-1", &alice, 10_000, t);
    let good = s.receipt("proxy-2", &alice, 10_000, t);
    let res = s.submit(vec![withdrawn, good], vec![]).unwrap();
    assert_eq!(
        reasons(&res),
        vec![Some("node_withdrawn".to_string()), None]
    );
    assert_eq!(res.accepted, 1);
}

#[test]
fn removing_an_attester_stops_its_nodes_being_live_from_then_on() {
    let mut s = SuiteBuilder::new().with_pool_funds(5_000_000).build();
    s.register_proxy("proxy-1", &[GPT], 1_000_000).unwrap();
    s.register_local("local-1", &[LLAMA], H100, 1_000_000)
        .unwrap();
    let alice = s.payer("alice");

    // Epoch 0: local-1's heartbeat makes it live; it earns the stipend.
    s.goto_epoch(0, 100);
    let t = s.now() - 1;
    let hb = s.heartbeat("local-1", 0, t);
    let res = s.submit(vec![], vec![hb]).unwrap();
    assert_eq!(res.heartbeats[0].rejected, None);
    s.goto_finalizable(0);
    s.finalize(0).unwrap();
    assert_eq!(s.epoch_report(0).live_local_nodes, 1);

    // Epoch 1: governance removes the attester that signed local-1's attestation (valid for
    // another ~30 days). From that block on local-1's heartbeats and receipts are refused as
    // `attestation_expired`; another node's receipt in the same batch lands. (Finalizing epoch 0
    // took the block into epoch 1's grace-long start.)
    let attester = s.attester.address();
    s.gov_registry(&registry::ExecuteMsg::RemoveAttester(
        registry::RemoveAttesterMsg { address: attester },
    ))
    .unwrap();
    s.advance(1);
    let t = s.now();
    let hb = s.heartbeat("local-1", 1, t);
    let local = s.receipt("local-1", &alice, 10_000, t);
    let proxy = s.receipt("proxy-1", &alice, 10_000, t);
    let res = s.submit(vec![local, proxy], vec![hb]).unwrap();
    assert_eq!(
        res.heartbeats[0].rejected.as_deref(),
        Some("attestation_expired")
    );
    assert_eq!(
        reasons(&res),
        vec![Some("attestation_expired".to_string()), None]
    );
    // So local-1 is not live in epoch 1: no stipend for it.
    s.goto_finalizable(1);
    s.finalize(1).unwrap();
    assert_eq!(s.epoch_report(1).live_local_nodes, 0);
}
