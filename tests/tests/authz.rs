//! Authorization matrix (issue 6): every privileged message of the three contracts, sent by
//! governance, by another node's operator, by a random address and by the wrong contract. Only the
//! rightful sender succeeds; every other attempt is refused with the contract's authorization
//! error (`unauthorized` / `not the operator`) and changes nothing. The wrong senders are tried
//! first, so a refusal cannot be explained by state the rightful call changed.
use cosmwasm_std::{Addr, Decimal, Uint128};
use cw_multi_test::Executor as _;
use opg_core::msg::pool::{self, UsageEntry};
use opg_core::msg::{registry, verifier};
use opg_core::sign::EvmSigner;
use opg_core::types::Provenance;
use opg_integration_tests::{
    default_params, root_error, Suite, SuiteBuilder, GPT, GPT_MINI, H100, LLAMA, SEED,
};
use serde_json::Value;

/// Who sends a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Who {
    Governance,
    /// The operator of `proxy-a` (the node the operator messages are about).
    Operator,
    /// The operator of `proxy-b`, another node.
    OtherOperator,
    /// An address with no role.
    Random,
    /// A contract of the deployment that is not the rightful sender.
    WrongContract,
    /// The verifier contract (the only sender of the pool's `RecordUsage`).
    Verifier,
}

#[derive(Clone, Copy, Debug)]
enum Target {
    Registry,
    Verifier,
    Pool,
}

struct Case {
    name: &'static str,
    target: Target,
    msg: Value,
    rightful: Who,
}

fn addr(s: &Suite, who: Who, target: Target) -> Addr {
    match who {
        Who::Governance => s.governance.clone(),
        Who::Operator => s.node("proxy-a").operator.clone(),
        Who::OtherOperator => s.node("proxy-b").operator.clone(),
        Who::Random => s.app.api().addr_make("random-address"),
        Who::Verifier => s.verifier.clone(),
        // a contract of the same deployment, but not the one the target trusts for this message
        Who::WrongContract => match target {
            Target::Registry => s.pool.clone(),
            Target::Verifier => s.pool.clone(),
            Target::Pool => s.registry.clone(),
        },
    }
}

fn contract(s: &Suite, t: Target) -> Addr {
    match t {
        Target::Registry => s.registry.clone(),
        Target::Verifier => s.verifier.clone(),
        Target::Pool => s.pool.clone(),
    }
}

fn v<T: serde::Serialize>(m: &T) -> Value {
    serde_json::to_value(m).unwrap()
}

/// Sends `case.msg` from every sender in order: the wrong ones first (each must be refused with an
/// authorization error), then the rightful one (must succeed).
fn check(s: &mut Suite, case: &Case) {
    let everyone = [
        Who::Governance,
        Who::Operator,
        Who::OtherOperator,
        Who::Random,
        Who::WrongContract,
        Who::Verifier,
    ];
    let to = contract(s, case.target);
    for who in everyone {
        if who == case.rightful {
            continue;
        }
        // the verifier is the rightful "contract" sender only for RecordUsage; as a sender of
        // the verifier's own messages it is the target itself, skip that
        if who == Who::Verifier && matches!(case.target, Target::Verifier) {
            continue;
        }
        let sender = addr(s, who, case.target);
        let err = s
            .app
            .execute_contract(sender.clone(), to.clone(), &case.msg, &[])
            .expect_err(&format!("{}: {who:?} must be refused", case.name));
        let text = root_error(&err);
        assert!(
            text.contains("unauthorized") || text.contains("not the operator"),
            "{}: {who:?} refused for another reason: {text}",
            case.name
        );
    }
    let sender = addr(s, case.rightful, case.target);
    s.app
        .execute_contract(sender, to, &case.msg, &[])
        .unwrap_or_else(|e| {
            panic!(
                "{}: rightful {:?} refused: {}",
                case.name,
                case.rightful,
                root_error(&e)
            )
        });
}

#[test]
fn only_the_rightful_sender_succeeds() {
    let mut s = SuiteBuilder::new().build();
    s.register_proxy("proxy-a", &[GPT], 1_000_000).unwrap();
    s.register_proxy("proxy-b", &[GPT], 1_000_000).unwrap();
    s.register_local("local-a", &[LLAMA], H100, 1_000_000)
        .unwrap();
    let attester2 = EvmSigner::derive(SEED, "attester-2").address();

    // usage for proxy-a in epoch 0, finalized and funded, so its operator has something to claim
    s.fund_pool(10_000_000).unwrap();
    s.goto_epoch(0, 100);
    let payer = s.payer("alice");
    let t = s.now();
    let r = s.receipt("proxy-a", &payer, 10_000, t);
    assert_eq!(s.submit(vec![r], vec![]).unwrap().accepted, 1);
    s.goto_finalizable(0);
    s.finalize(0).unwrap();

    let mut params = default_params();
    params.alpha = Decimal::percent(10);
    let cases = vec![
        // ---- node-registry, governance
        Case {
            name: "registry AddModel",
            target: Target::Registry,
            msg: v(&registry::ExecuteMsg::AddModel(registry::AddModelMsg {
                id: "openai/o3".into(),
                provenance: Provenance::Commercial,
                weights_digest: None,
            })),
            rightful: Who::Governance,
        },
        Case {
            name: "registry RemoveModel",
            target: Target::Registry,
            msg: v(&registry::ExecuteMsg::RemoveModel(
                registry::RemoveModelMsg {
                    id: GPT_MINI.into(),
                },
            )),
            rightful: Who::Governance,
        },
        Case {
            name: "registry AddAttester",
            target: Target::Registry,
            msg: v(&registry::ExecuteMsg::AddAttester(
                registry::AddAttesterMsg {
                    address: attester2.clone(),
                },
            )),
            rightful: Who::Governance,
        },
        Case {
            name: "registry RemoveAttester",
            target: Target::Registry,
            msg: v(&registry::ExecuteMsg::RemoveAttester(
                registry::RemoveAttesterMsg { address: attester2 },
            )),
            rightful: Who::Governance,
        },
        Case {
            name: "registry Jail",
            target: Target::Registry,
            msg: v(&registry::ExecuteMsg::Jail(registry::JailMsg {
                node_id: "proxy-b".into(),
                reason: "authz test".into(),
            })),
            rightful: Who::Governance,
        },
        Case {
            name: "registry Unjail",
            target: Target::Registry,
            msg: v(&registry::ExecuteMsg::Unjail(registry::UnjailMsg {
                node_id: "proxy-b".into(),
            })),
            rightful: Who::Governance,
        },
        Case {
            name: "registry Slash",
            target: Target::Registry,
            msg: v(&registry::ExecuteMsg::Slash(registry::SlashMsg {
                node_id: "local-a".into(),
                fraction: Decimal::percent(10),
            })),
            rightful: Who::Governance,
        },
        Case {
            name: "registry UpdateConfig",
            target: Target::Registry,
            msg: v(&registry::ExecuteMsg::UpdateConfig(
                registry::UpdateConfigMsg {
                    min_bond: Some(Uint128::new(2_000_000)),
                    ..Default::default()
                },
            )),
            rightful: Who::Governance,
        },
        // ---- node-registry, the node's operator
        Case {
            name: "registry UpdateNode",
            target: Target::Registry,
            msg: v(&registry::ExecuteMsg::UpdateNode(registry::UpdateNodeMsg {
                node_id: "proxy-a".into(),
                key: None,
                pay_to: None,
                endpoint: Some("https://proxy-a.example".into()),
                models: None,
                upstream: None,
                attestation: None,
            })),
            rightful: Who::Operator,
        },
        // ---- receipt-verifier, governance
        Case {
            name: "verifier UpdateConfig",
            target: Target::Verifier,
            msg: v(&verifier::ExecuteMsg::UpdateConfig(
                verifier::UpdateConfigMsg {
                    max_batch: Some(50),
                    ..Default::default()
                },
            )),
            rightful: Who::Governance,
        },
        // ---- reward-pool
        Case {
            name: "pool UpdateParams",
            target: Target::Pool,
            msg: v(&pool::ExecuteMsg::UpdateParams { params }),
            rightful: Who::Governance,
        },
        Case {
            name: "pool UpdateConfig",
            target: Target::Pool,
            msg: v(&pool::ExecuteMsg::UpdateConfig {
                governance: None,
                verifier: None,
                registry: None,
            }),
            rightful: Who::Governance,
        },
        Case {
            name: "pool RecordUsage",
            target: Target::Pool,
            msg: v(&pool::ExecuteMsg::RecordUsage {
                entries: vec![UsageEntry {
                    epoch: 1,
                    node_id: "proxy-b".into(),
                    provenance: Provenance::Commercial,
                    calls: 1_000_000,
                    value: Uint128::new(1_000_000_000_000),
                    counted_value: Uint128::new(1_000_000_000_000),
                }],
                live: vec![],
            }),
            rightful: Who::Verifier,
        },
        Case {
            name: "pool Claim",
            target: Target::Pool,
            msg: v(&pool::ExecuteMsg::Claim {
                node_id: "proxy-a".into(),
                limit: None,
            }),
            rightful: Who::Operator,
        },
        // last: deregistration starts unbonding
        Case {
            name: "registry Deregister",
            target: Target::Registry,
            msg: v(&registry::ExecuteMsg::Deregister(registry::DeregisterMsg {
                node_id: "proxy-a".into(),
            })),
            rightful: Who::Operator,
        },
    ];
    let bond_before = s.node_info("proxy-b").bond;
    for case in &cases {
        check(&mut s, case);
    }
    // the refused attempts left no trace: proxy-b (the other operator's node) kept its bond, the
    // forged usage of proxy-b only came in through the verifier's rightful call
    assert_eq!(s.node_info("proxy-b").bond, bond_before);
    assert_eq!(s.node_info("local-a").bond, Uint128::new(900_000));

    // after the unbonding period, only the operator withdraws the bond
    s.advance(86_400 + 1);
    check(
        &mut s,
        &Case {
            name: "registry WithdrawBond",
            target: Target::Registry,
            msg: v(&registry::ExecuteMsg::WithdrawBond(
                registry::WithdrawBondMsg {
                    node_id: "proxy-a".into(),
                },
            )),
            rightful: Who::Operator,
        },
    );
}
