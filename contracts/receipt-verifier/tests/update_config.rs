//! `UpdateConfig` (governance) and `sudo UpdateConfig` (chain governance).
mod common;

use common::*;
use opg_core::msg::verifier::{ConfigResponse, ExecuteMsg, QueryMsg, SudoMsg, UpdateConfigMsg};
use opg_core::sign::EvmSigner;
use receipt_verifier::ContractError;

fn update(
    governance: Option<String>,
    facilitators: Option<Vec<String>>,
    require_settlement: Option<bool>,
    max_batch: Option<u32>,
) -> ExecuteMsg {
    ExecuteMsg::UpdateConfig(UpdateConfigMsg {
        governance,
        facilitators,
        require_settlement,
        max_batch,
        ..Default::default()
    })
}

fn config(s: &Suite) -> ConfigResponse {
    s.app
        .wrap()
        .query_wasm_smart(&s.verifier, &QueryMsg::Config {})
        .unwrap()
}

#[test]
fn only_governance_may_update() {
    let mut s = Suite::new();
    let stranger = s.app.api().addr_make("stranger");
    assert_eq!(
        s.execute(&stranger, &update(None, None, Some(false), None))
            .unwrap_err(),
        ContractError::Unauthorized {
            sender: stranger.to_string()
        }
    );
    assert!(config(&s).require_settlement);
}

#[test]
fn governance_updates_and_hands_over() {
    let mut s = Suite::new();
    let gov = s.governance.clone();
    let new_gov = s.app.api().addr_make("dao");
    let new_facilitator = EvmSigner::derive(SEED, "new facilitator");
    let res = s
        .execute(
            &gov,
            &update(
                Some(new_gov.to_string()),
                Some(vec![new_facilitator
                    .address()
                    .to_uppercase()
                    .replacen("0X", "0x", 1)]),
                Some(false),
                Some(50),
            ),
        )
        .unwrap();
    assert_eq!(attr(&res, "action").as_deref(), Some("update_config"));
    let cfg = config(&s);
    assert_eq!(cfg.governance, new_gov);
    assert_eq!(cfg.facilitators, vec![new_facilitator.address()]);
    assert!(!cfg.require_settlement);
    assert_eq!(cfg.max_batch, 50);
    // The clock and the addresses did not move.
    assert_eq!(cfg.clock, s.clock);
    assert_eq!(cfg.reward_pool, s.pool);

    // The old governance is out.
    assert_eq!(
        s.execute(&gov, &update(None, None, None, Some(60)))
            .unwrap_err(),
        ContractError::Unauthorized {
            sender: gov.to_string()
        }
    );

    // The new facilitator list is what settlements are checked against.
    s.execute(&new_gov, &update(None, None, Some(true), None))
        .unwrap();
    let old = s.spec();
    let r = s.receipt(&old);
    let (data, _) = s.submit(vec![r], vec![]).unwrap();
    assert_eq!(reasons(&data), vec!["invalid_settlement"]);
    let mut new = s.spec();
    new.facilitator = Some(new_facilitator);
    let r = s.receipt(&new);
    let (data, _) = s.submit(vec![r], vec![]).unwrap();
    assert_eq!(reasons(&data), vec!["accepted"]);
}

#[test]
fn updates_are_validated() {
    let mut s = Suite::new();
    let gov = s.governance.clone();
    assert_eq!(
        s.execute(&gov, &update(None, None, None, Some(0)))
            .unwrap_err(),
        ContractError::InvalidMaxBatch { max_batch: 0 }
    );
    assert_eq!(
        s.execute(
            &gov,
            &update(None, Some(vec!["0xzz".to_string()]), None, None)
        )
        .unwrap_err(),
        ContractError::InvalidFacilitator {
            address: "0xzz".to_string()
        }
    );
    assert!(matches!(
        s.execute(&gov, &update(Some("bad".to_string()), None, None, None))
            .unwrap_err(),
        ContractError::Std(_)
    ));
    let mut networks = default_networks();
    networks.push(networks[0].clone());
    assert_eq!(
        s.execute(
            &gov,
            &ExecuteMsg::UpdateConfig(UpdateConfigMsg {
                networks: Some(networks),
                ..Default::default()
            })
        )
        .unwrap_err(),
        ContractError::DuplicateChainId { chain_id: CHAIN_ID }
    );
    // Nothing changed.
    assert_eq!(config(&s).max_batch, 100);
}

#[test]
fn removing_a_network_rejects_its_payments() {
    let mut s = Suite::new();
    let spec = s.spec();
    let r = s.receipt(&spec);
    assert!(s.verify(&r).valid);
    s.app
        .wasm_sudo(
            s.verifier.clone(),
            &SudoMsg::UpdateConfig(UpdateConfigMsg {
                networks: Some(vec![]),
                ..Default::default()
            }),
        )
        .unwrap();
    assert_eq!(s.verify(&r).reason.as_deref(), Some("invalid_network"));
}

#[test]
fn sudo_updates_without_sender_and_validates() {
    let mut s = Suite::new();
    let new_gov = s.app.api().addr_make("x-gov");
    s.app
        .wasm_sudo(
            s.verifier.clone(),
            &SudoMsg::UpdateConfig(UpdateConfigMsg {
                governance: Some(new_gov.to_string()),
                require_settlement: Some(false),
                max_batch: Some(50),
                ..Default::default()
            }),
        )
        .unwrap();
    let cfg = config(&s);
    assert_eq!(cfg.governance, new_gov);
    assert!(!cfg.require_settlement);
    assert_eq!(cfg.max_batch, 50);

    let err = s
        .app
        .wasm_sudo(
            s.verifier.clone(),
            &SudoMsg::UpdateConfig(UpdateConfigMsg {
                max_batch: Some(501),
                ..Default::default()
            }),
        )
        .unwrap_err();
    assert_eq!(
        contract_error(err),
        ContractError::InvalidMaxBatch { max_batch: 501 }
    );
}

#[test]
fn the_facilitator_list_is_capped() {
    // Every settled receipt is checked against the list: its length bounds that work.
    let mut s = Suite::new();
    let gov = s.governance.clone();
    let list = |n: usize| -> Vec<String> {
        (0..n)
            .map(|i| EvmSigner::derive(SEED, &format!("facilitator {i}")).address())
            .collect()
    };
    assert_eq!(
        s.execute(&gov, &update(None, Some(list(33)), None, None))
            .unwrap_err(),
        ContractError::TooManyFacilitators { max: 32, got: 33 }
    );
    assert_eq!(config(&s).facilitators, vec![s.facilitator.address()]);
    s.execute(&gov, &update(None, Some(list(32)), None, None))
        .unwrap();
    assert_eq!(config(&s).facilitators.len(), 32);
}

#[test]
fn max_batch_moves_at_most_one_step_per_change() {
    // From 100: 50..=200 is one step (x2 or /2); further is refused, naming the bound.
    let mut s = Suite::new();
    let gov = s.governance.clone();
    assert_eq!(
        s.execute(&gov, &update(None, None, None, Some(201)))
            .unwrap_err(),
        ContractError::ConfigStep {
            param: "max_batch".to_string(),
            old: 100,
            new: 201,
            min: 50,
            max: 200,
        }
    );
    assert_eq!(
        s.execute(&gov, &update(None, None, None, Some(49)))
            .unwrap_err(),
        ContractError::ConfigStep {
            param: "max_batch".to_string(),
            old: 100,
            new: 49,
            min: 50,
            max: 200,
        }
    );
    assert_eq!(config(&s).max_batch, 100);
    s.execute(&gov, &update(None, None, None, Some(200)))
        .unwrap();
    s.execute(&gov, &update(None, None, None, Some(400)))
        .unwrap();
    assert_eq!(config(&s).max_batch, 400);
    // Chain governance is bounded the same way.
    let err = s
        .app
        .wasm_sudo(
            s.verifier.clone(),
            &SudoMsg::UpdateConfig(UpdateConfigMsg {
                max_batch: Some(1),
                ..Default::default()
            }),
        )
        .unwrap_err();
    assert_eq!(
        contract_error(err),
        ContractError::ConfigStep {
            param: "max_batch".to_string(),
            old: 400,
            new: 1,
            min: 200,
            max: 800,
        }
    );
}
