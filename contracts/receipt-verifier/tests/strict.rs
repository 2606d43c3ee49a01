//! Strict messages: a field the verifier does not know is refused with an error naming it (a
//! misspelled optional field would otherwise be silently ignored), and the wire shape
//! (`{"variant":{...}}`) is the one clients always sent.
mod common;

use common::*;
use cw_multi_test::Executor;
use opg_core::msg::verifier::{
    ExecuteMsg, InstantiateMsg, PruneNoncesMsg, SubmitReceiptsMsg, SudoMsg, UpdateConfigMsg,
};
use serde_json::json;

#[test]
fn unknown_fields_are_refused_with_an_error_naming_them() {
    let mut s = Suite::new();
    let anyone = s.app.api().addr_make("anyone");
    let verifier = s.verifier.clone();
    let spec = s.spec();
    let receipt = s.receipt(&spec);

    // A batch with a stray field: refused as a whole, the receipt is not consumed.
    let err = s
        .app
        .execute_contract(
            anyone.clone(),
            verifier.clone(),
            &json!({"submit_receipts": {"receipts": [receipt], "heartbeats": [], "extra": 1}}),
            &[],
        )
        .unwrap_err();
    assert!(
        format!("{err:?}").contains("unknown field `extra`"),
        "{err:?}"
    );
    let (data, _) = s.submit(vec![receipt.clone()], vec![]).unwrap();
    assert_eq!(reasons(&data), vec!["accepted"]);

    let err = s
        .app
        .execute_contract(
            anyone,
            verifier.clone(),
            &json!({"prune_nonces": {"limit": 10, "limt": 10}}),
            &[],
        )
        .unwrap_err();
    assert!(
        format!("{err:?}").contains("unknown field `limt`"),
        "{err:?}"
    );

    // Governance: a misspelled `max_bach` would otherwise be a no-op "success".
    let gov = s.governance.clone();
    let err = s
        .app
        .execute_contract(
            gov,
            verifier.clone(),
            &json!({"update_config": {"max_bach": 50}}),
            &[],
        )
        .unwrap_err();
    assert!(
        format!("{err:?}").contains("unknown field `max_bach`"),
        "{err:?}"
    );
    let err = s
        .app
        .wasm_sudo(
            verifier,
            &json!({"update_config": {"require_setlement": false}}),
        )
        .unwrap_err();
    assert!(
        format!("{err:?}").contains("unknown field `require_setlement`"),
        "{err:?}"
    );

    // Instantiate.
    let code = s.verifier_code;
    let deployer = s.app.api().addr_make("deployer");
    let mut init = serde_json::to_value(InstantiateMsg {
        governance: s.governance.to_string(),
        registry: s.registry.to_string(),
        reward_pool: s.pool.to_string(),
        networks: default_networks(),
        facilitators: vec![],
        require_settlement: false,
        max_batch: 10,
    })
    .unwrap();
    init["max_batches"] = json!(10);
    let err = s
        .app
        .instantiate_contract(code, deployer, &init, &[], "v2", None)
        .unwrap_err();
    assert!(
        format!("{err:?}").contains("unknown field `max_batches`"),
        "{err:?}"
    );
}

#[test]
fn the_wire_shape_is_unchanged() {
    // What clients (the keeper, CosmJS) sent before the variants wrapped structs.
    let cases = [
        (
            serde_json::to_value(ExecuteMsg::SubmitReceipts(SubmitReceiptsMsg {
                receipts: vec![],
                heartbeats: vec![],
                compact: vec![],
            }))
            .unwrap(),
            json!({"submit_receipts": {"receipts": [], "heartbeats": []}}),
        ),
        (
            serde_json::to_value(ExecuteMsg::PruneNonces(PruneNoncesMsg { limit: 7 })).unwrap(),
            json!({"prune_nonces": {"limit": 7}}),
        ),
        (
            serde_json::to_value(SudoMsg::UpdateConfig(UpdateConfigMsg {
                max_batch: Some(9),
                ..Default::default()
            }))
            .unwrap(),
            json!({"update_config": {"governance": null, "networks": null, "facilitators": null,
                   "require_settlement": null, "max_batch": 9}}),
        ),
    ];
    for (got, want) in cases {
        assert_eq!(got, want);
    }
}
