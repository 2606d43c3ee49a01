//! Queries: filters, pagination, `NodesByIds`.
use opg_core::msg::registry::{
    AddAttesterMsg, AddModelMsg, DeregisterMsg, JailMsg, UnjailMsg, WithdrawBondMsg,
};
use opg_core::msg::registry::{
    AttestersResponse, ModelInfo, ModelsResponse, NodeInfo, NodesByIdsResponse, NodesResponse,
};
use opg_core::types::{NodeKindTag, NodeStatus};

use super::*;

fn nodes(
    suite: &Suite,
    kind: Option<NodeKindTag>,
    status: Option<NodeStatus>,
    start_after: Option<&str>,
    limit: Option<u32>,
) -> Vec<String> {
    let page: NodesResponse = suite
        .query(&QueryMsg::Nodes {
            kind,
            status,
            start_after: start_after.map(str::to_string),
            limit,
        })
        .unwrap();
    page.nodes.into_iter().map(|n| n.node_id).collect()
}

/// prx-1..3 proxy; loc-1..2 local; prx-2 jailed; loc-2 unbonding.
fn populated() -> Suite {
    let mut suite = Suite::new();
    let op1 = suite.addr("op1");
    let op2 = suite.addr("op2");
    for id in ["prx-3", "prx-1", "prx-2"] {
        suite.register_proxy(&op1, id);
    }
    for id in ["loc-2", "loc-1"] {
        suite.register_local(&op2, id);
    }
    suite
        .gov_exec(&ExecuteMsg::Jail(JailMsg {
            node_id: "prx-2".to_string(),
            reason: "r".to_string(),
        }))
        .unwrap();
    suite
        .exec(
            &op2,
            &ExecuteMsg::Deregister(DeregisterMsg {
                node_id: "loc-2".to_string(),
            }),
            &[],
        )
        .unwrap();
    suite
}

#[test]
fn nodes_filters_in_id_order() {
    let suite = populated();
    assert_eq!(
        nodes(&suite, None, None, None, None),
        ["loc-1", "loc-2", "prx-1", "prx-2", "prx-3"]
    );
    assert_eq!(
        nodes(&suite, Some(NodeKindTag::Proxy), None, None, None),
        ["prx-1", "prx-2", "prx-3"]
    );
    assert_eq!(
        nodes(&suite, Some(NodeKindTag::Local), None, None, None),
        ["loc-1", "loc-2"]
    );
    assert_eq!(
        nodes(&suite, None, Some(NodeStatus::Active), None, None),
        ["loc-1", "prx-1", "prx-3"]
    );
    assert_eq!(
        nodes(&suite, None, Some(NodeStatus::Unbonding), None, None),
        ["loc-2"]
    );
    assert_eq!(
        nodes(
            &suite,
            Some(NodeKindTag::Proxy),
            Some(NodeStatus::Active),
            None,
            None
        ),
        ["prx-1", "prx-3"]
    );
    assert_eq!(
        nodes(
            &suite,
            Some(NodeKindTag::Local),
            Some(NodeStatus::Active),
            None,
            None
        ),
        ["loc-1"]
    );
    assert!(nodes(
        &suite,
        Some(NodeKindTag::Local),
        Some(NodeStatus::Jailed),
        None,
        None
    )
    .is_empty());
}

#[test]
fn nodes_pagination() {
    let suite = populated();
    assert_eq!(nodes(&suite, None, None, None, Some(2)), ["loc-1", "loc-2"]);
    assert_eq!(
        nodes(&suite, None, None, Some("loc-2"), Some(2)),
        ["prx-1", "prx-2"]
    );
    assert_eq!(nodes(&suite, None, None, Some("prx-2"), Some(2)), ["prx-3"]);
    assert!(nodes(&suite, None, None, Some("prx-3"), Some(2)).is_empty());
    // start_after need not be an existing id.
    assert_eq!(
        nodes(&suite, None, None, Some("m"), None),
        ["prx-1", "prx-2", "prx-3"]
    );
    // Within a filter.
    assert_eq!(
        nodes(
            &suite,
            Some(NodeKindTag::Proxy),
            None,
            Some("prx-1"),
            Some(1)
        ),
        ["prx-2"]
    );
    assert_eq!(
        nodes(
            &suite,
            None,
            Some(NodeStatus::Active),
            Some("loc-1"),
            Some(1)
        ),
        ["prx-1"]
    );
    assert_eq!(
        nodes(
            &suite,
            Some(NodeKindTag::Proxy),
            Some(NodeStatus::Active),
            Some("prx-1"),
            None
        ),
        ["prx-3"]
    );
    // limit 0 is clamped to 1.
    assert_eq!(nodes(&suite, None, None, None, Some(0)), ["loc-1"]);
}

#[test]
fn indexes_follow_status_changes_and_withdrawal() {
    let mut suite = populated();
    let op2 = suite.addr("op2");
    suite.advance(UNBONDING);
    suite
        .exec(
            &op2,
            &ExecuteMsg::WithdrawBond(WithdrawBondMsg {
                node_id: "loc-2".to_string(),
            }),
            &[],
        )
        .unwrap();
    suite
        .gov_exec(&ExecuteMsg::Unjail(UnjailMsg {
            node_id: "prx-2".to_string(),
        }))
        .unwrap();
    // A withdrawn node stays listed under its kind, with its own status.
    assert_eq!(
        nodes(&suite, Some(NodeKindTag::Local), None, None, None),
        ["loc-1", "loc-2"]
    );
    assert_eq!(
        nodes(&suite, None, Some(NodeStatus::Withdrawn), None, None),
        ["loc-2"]
    );
    assert_eq!(
        nodes(
            &suite,
            Some(NodeKindTag::Local),
            Some(NodeStatus::Active),
            None,
            None
        ),
        ["loc-1"]
    );
    assert!(nodes(&suite, None, Some(NodeStatus::Unbonding), None, None).is_empty());
    assert!(nodes(&suite, None, Some(NodeStatus::Jailed), None, None).is_empty());
    assert_eq!(
        nodes(
            &suite,
            Some(NodeKindTag::Proxy),
            Some(NodeStatus::Active),
            None,
            None
        ),
        ["prx-1", "prx-2", "prx-3"]
    );
}

#[test]
fn page_limits_are_clamped() {
    let mut suite = Suite::new();
    // 4 models from the suite + 110 = 114.
    for i in 0..110 {
        suite
            .sudo(&SudoMsg::AddModel(AddModelMsg {
                id: format!("bulk/model-{i:03}"),
                provenance: Provenance::Commercial,
                weights_digest: None,
            }))
            .unwrap();
    }
    let page = |suite: &Suite, start_after: Option<String>, limit| -> Vec<String> {
        let r: ModelsResponse = suite
            .query(&QueryMsg::Models { start_after, limit })
            .unwrap();
        r.models.into_iter().map(|m| m.id).collect()
    };
    assert_eq!(page(&suite, None, None).len(), 30);
    assert_eq!(page(&suite, None, Some(1000)).len(), 100);
    assert_eq!(page(&suite, None, Some(0)).len(), 1);
    assert_eq!(page(&suite, None, Some(5)).len(), 5);

    // Walking all pages yields every model exactly once, in order.
    let mut all = Vec::new();
    let mut start = None;
    loop {
        let ids = page(&suite, start.clone(), Some(7));
        if ids.is_empty() {
            break;
        }
        start = ids.last().cloned();
        all.extend(ids);
    }
    assert_eq!(all.len(), 114);
    let mut sorted = all.clone();
    sorted.sort();
    assert_eq!(all, sorted);
    assert_eq!(all.first().map(String::as_str), Some(CLAUDE));
}

#[test]
fn attesters_pagination() {
    let mut suite = Suite::new();
    for i in 1..=3u8 {
        suite
            .gov_exec(&ExecuteMsg::AddAttester(AddAttesterMsg {
                address: format!("0x{}", hex_byte(i).repeat(20)),
            }))
            .unwrap();
    }
    let page = |start_after: Option<&str>, limit| -> Vec<String> {
        let r: AttestersResponse = suite
            .query(&QueryMsg::Attesters {
                start_after: start_after.map(str::to_string),
                limit,
            })
            .unwrap();
        r.attesters
    };
    let all = page(None, None);
    assert_eq!(all.len(), 4);
    assert_eq!(all[0], format!("0x{}", "01".repeat(20)));
    assert_eq!(page(None, Some(2)), all[..2].to_vec());
    assert_eq!(page(Some(&all[1]), Some(2)), all[2..].to_vec());
    // start_after in upper case works like lower case.
    let upper = format!("0x{}", all[1][2..].to_ascii_uppercase());
    assert_eq!(page(Some(&upper), Some(2)), all[2..].to_vec());
}

fn hex_byte(i: u8) -> String {
    format!("{i:02x}")
}

#[test]
fn node_and_model_not_found() {
    let suite = Suite::new();
    let err = suite
        .query::<NodeInfo>(&QueryMsg::Node {
            node_id: "ghost".to_string(),
        })
        .unwrap_err();
    assert!(err.to_string().contains("node ghost not found"), "{err}");
    let err = suite
        .query::<ModelInfo>(&QueryMsg::Model {
            id: "acme/none".to_string(),
        })
        .unwrap_err();
    assert!(
        err.to_string().contains("model acme/none not found"),
        "{err}"
    );
}

#[test]
fn nodes_by_ids_returns_known_ones() {
    let suite = populated();
    let r: NodesByIdsResponse = suite
        .query(&QueryMsg::NodesByIds {
            ids: vec![
                "prx-3".to_string(),
                "ghost".to_string(),
                "loc-1".to_string(),
                "prx-3".to_string(),
            ],
            models: vec![LLAMA.to_string(), "acme/none".to_string(), GPT.to_string()],
        })
        .unwrap();
    let ids: Vec<_> = r.nodes.iter().map(|n| n.node_id.as_str()).collect();
    assert_eq!(ids, ["prx-3", "loc-1"]);
    assert_eq!(r.nodes[0], suite.node("prx-3"));
    let models: Vec<_> = r
        .models
        .iter()
        .map(|m| (m.id.as_str(), m.provenance))
        .collect();
    assert_eq!(
        models,
        [
            (LLAMA, Provenance::Community),
            (GPT, Provenance::Commercial)
        ]
    );
    let empty: NodesByIdsResponse = suite
        .query(&QueryMsg::NodesByIds {
            ids: vec![],
            models: vec![],
        })
        .unwrap();
    assert!(empty.nodes.is_empty() && empty.models.is_empty());
}

#[test]
fn nodes_by_ids_bounds() {
    let suite = populated();
    let ids = |n: usize| (0..n).map(|i| format!("n{i}")).collect::<Vec<_>>();
    suite
        .query::<NodesByIdsResponse>(&QueryMsg::NodesByIds {
            ids: ids(256),
            models: ids(256),
        })
        .unwrap();
    let err = suite
        .query::<NodesByIdsResponse>(&QueryMsg::NodesByIds {
            ids: ids(257),
            models: vec![],
        })
        .unwrap_err();
    assert!(
        err.to_string().contains("too many ids: 257, at most 256"),
        "{err}"
    );
    let err = suite
        .query::<NodesByIdsResponse>(&QueryMsg::NodesByIds {
            ids: vec![],
            models: ids(257),
        })
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("too many models: 257, at most 256"),
        "{err}"
    );
}
