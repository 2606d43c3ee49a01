//! Writes the committed seed corpus `fuzz/corpus/<target>/` (run from the repository root:
//! `cargo run --manifest-path fuzz/Cargo.toml --example gen_corpus`). Deterministic: the world's
//! keys come from a fixed seed and ECDSA signing is deterministic (RFC 6979).
use std::fs;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use base64::Engine as _;
use cosmwasm_std::{to_json_vec, Binary, Decimal, Uint128};
use opg_core::msg::pool::{
    ExecuteMsg as PoolMsg, HardwareWeight, LiveNode, RewardParams, UsageEntry,
};
use opg_core::msg::registry::UpdateConfigMsg as RegistryUpdateConfigMsg;
use opg_core::msg::registry::{
    AddModelMsg, DeregisterMsg, JailMsg, RegisterMsg, RemoveAttesterMsg, RemoveModelMsg,
    RenewAttestationMsg, SlashMsg, UnjailMsg, UpdateNodeMsg, WithdrawBondMsg,
};
use opg_core::msg::registry::{ExecuteMsg as RegistryMsg, NodeKind};
use opg_core::msg::verifier::ExecuteMsg as VerifierMsg;
use opg_core::msg::verifier::{
    PruneNoncesMsg, SubmitReceiptsMsg, UpdateConfigMsg as VerifierUpdateConfigMsg,
};
use opg_core::sign::{sign_attestation, sign_heartbeat, EvmSigner, NodeSigner};
use opg_core::types::Provenance;
use opg_fuzz::{
    addr, control, valid_receipts, world, GPT, LLAMA, LOCAL, PROXY, SERVED_AT, USDC_BASE,
};
use serde::Serialize;

fn dir(target: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(target);
    fs::create_dir_all(&d).expect("create corpus dir");
    d
}

fn write(target: &str, name: &str, bytes: &[u8]) {
    fs::write(dir(target).join(name), bytes).expect("write seed");
}

/// One contract-target input: `(sender, funds, time step, message)` per line.
fn steps<M: Serialize>(lines: &[(usize, bool, usize, M)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (sender, funds, advance, msg) in lines {
        if !out.is_empty() {
            out.push(b'\n');
        }
        out.push(control(*sender, *funds, *advance));
        out.extend(to_json_vec(msg).expect("message serializes"));
    }
    out
}

fn x402_header() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/x402");
    for (file, prefix) in [("payments-v1.json", "v1"), ("payments-v2.json", "v2")] {
        let text = fs::read_to_string(root.join(file)).expect("fixture");
        let fixture: serde_json::Value = serde_json::from_str(&text).expect("fixture json");
        let cases = fixture["cases"].as_array().expect("cases");
        // The first case is valid; then every 8th case for variety (bad signatures, times, shapes).
        for (i, case) in cases
            .iter()
            .enumerate()
            .filter(|(i, _)| i % 8 == 0 || *i == 1)
        {
            let Some(header) = case["header"].as_str() else {
                continue;
            };
            write(
                "x402_header",
                &format!("{prefix}-case{i:02}"),
                header.as_bytes(),
            );
            if i == 0 {
                // The decoded JSON: the target encodes inputs starting with `{` itself.
                let json = base64::engine::general_purpose::STANDARD
                    .decode(header)
                    .expect("valid header is base64");
                write("x402_header", &format!("{prefix}-case00-json"), &json);
            }
        }
    }
}

fn receipts() {
    let [proxy_v1, proxy_v2, local_v2] = valid_receipts();
    for (name, r) in [
        ("proxy-v1", proxy_v1),
        ("proxy-v2", proxy_v2),
        ("local-v2-ed25519", local_v2),
    ] {
        write(
            "receipt_verify",
            name,
            &serde_json::to_vec_pretty(r).expect("json"),
        );
    }
    let mut unsettled = proxy_v2.clone();
    unsettled.settlement = None;
    write(
        "receipt_verify",
        "proxy-v2-unsettled",
        &serde_json::to_vec(&unsettled).expect("json"),
    );
    // `receipt_mutate` reads `arbitrary` bytes: a base index and mutations. These select each base
    // receipt with no mutation, and one with a few.
    for (i, bytes) in [
        vec![0u8],
        vec![1],
        vec![2],
        vec![0, 1, 0, 0, 0, 0, 9, 1, 2, 3, 4],
    ]
    .iter()
    .enumerate()
    {
        write("receipt_mutate", &format!("seed{i}"), bytes);
    }
}

fn registry() {
    let w = world();
    let node2 = NodeSigner::derive(b"opg fuzz corpus", "local-2", false);
    let attestation = sign_attestation(
        &w.attester,
        &w.registry_domain,
        addr("operator-2").as_str(),
        &node2.key(),
        "h100",
        [5u8; 32],
        SERVED_AT + 100 * 86_400,
    );
    let register_local = RegistryMsg::Register(RegisterMsg {
        node_id: "local-2".into(),
        kind: NodeKind::Local {
            attestation: attestation.clone(),
        },
        key: node2.key(),
        pay_to: EvmSigner::derive(b"opg fuzz corpus", "pay-to-2").address(),
        endpoint: "https://local-2.example".into(),
        models: vec![LLAMA.into()],
    });
    let update = RegistryMsg::UpdateNode(UpdateNodeMsg {
        node_id: PROXY.into(),
        key: None,
        pay_to: None,
        endpoint: Some("https://proxy-1b.example".into()),
        models: Some(vec![GPT.into()]),
        upstream: Some("https://api.anthropic.com".into()),
        attestation: None,
    });
    write(
        "contract_execute_registry",
        "register-local",
        &steps(&[(2, true, 0, register_local.clone())]),
    );
    write(
        "contract_execute_registry",
        "register-local-renew-deregister-withdraw",
        &steps(&[
            (2, true, 0, register_local),
            (
                2,
                false,
                0,
                RegistryMsg::RenewAttestation(RenewAttestationMsg {
                    node_id: "local-2".into(),
                    attestation,
                }),
            ),
            (
                2,
                false,
                0,
                RegistryMsg::Deregister(DeregisterMsg {
                    node_id: "local-2".into(),
                }),
            ),
            (
                2,
                false,
                2,
                RegistryMsg::WithdrawBond(WithdrawBondMsg {
                    node_id: "local-2".into(),
                }),
            ),
        ]),
    );
    write(
        "contract_execute_registry",
        "update-node",
        &steps(&[(1, false, 0, update)]),
    );
    write(
        "contract_execute_registry",
        "governance",
        &steps(&[
            (
                0,
                false,
                0,
                RegistryMsg::AddModel(AddModelMsg {
                    id: "qwen/qwen3-32b".into(),
                    provenance: Provenance::Community,
                    weights_digest: Some(Binary::from([3u8; 32].to_vec())),
                }),
            ),
            (
                0,
                false,
                0,
                RegistryMsg::Jail(JailMsg {
                    node_id: PROXY.into(),
                    reason: "fake volume".into(),
                }),
            ),
            (
                0,
                false,
                0,
                RegistryMsg::Slash(SlashMsg {
                    node_id: PROXY.into(),
                    fraction: Decimal::percent(10),
                }),
            ),
            (
                0,
                false,
                1,
                RegistryMsg::Unjail(UnjailMsg {
                    node_id: PROXY.into(),
                }),
            ),
            (
                0,
                false,
                0,
                RegistryMsg::RemoveModel(RemoveModelMsg { id: GPT.into() }),
            ),
            (
                0,
                false,
                0,
                RegistryMsg::RemoveAttester(RemoveAttesterMsg {
                    address: w.attester.address(),
                }),
            ),
            (
                0,
                false,
                0,
                RegistryMsg::UpdateConfig(RegistryUpdateConfigMsg {
                    min_bond: Some(Uint128::new(2_000)),
                    unbonding_period: Some(86_400),
                    ..Default::default()
                }),
            ),
        ]),
    );
    write(
        "contract_execute_registry",
        "stranger-jails",
        &steps(&[(
            3,
            false,
            0,
            RegistryMsg::Jail(JailMsg {
                node_id: PROXY.into(),
                reason: "x".into(),
            }),
        )]),
    );
}

fn verifier() {
    let w = world();
    let receipts = valid_receipts().to_vec();
    let heartbeat = sign_heartbeat(&w.local, &w.domain, LOCAL, 0, SERVED_AT + 30);
    let submit = VerifierMsg::SubmitReceipts(SubmitReceiptsMsg {
        receipts: receipts.clone(),
        heartbeats: vec![heartbeat],
        compact: vec![],
    });
    write(
        "contract_execute_verifier",
        "submit-3-valid",
        &steps(&[(1, false, 0, submit.clone())]),
    );
    write(
        "contract_execute_verifier",
        "submit-replay-prune",
        &steps(&[
            (1, false, 0, submit.clone()),
            (
                3,
                false,
                0,
                VerifierMsg::SubmitReceipts(SubmitReceiptsMsg {
                    receipts: vec![receipts[0].clone()],
                    heartbeats: vec![],
                    compact: vec![],
                }),
            ),
            (
                3,
                false,
                3,
                VerifierMsg::PruneNonces(PruneNoncesMsg { limit: 10 }),
            ),
        ]),
    );
    write(
        "contract_execute_verifier",
        "update-config-then-submit",
        &steps(&[
            (
                0,
                false,
                0,
                VerifierMsg::UpdateConfig(VerifierUpdateConfigMsg {
                    networks: Some(w.networks.clone()),
                    facilitators: Some(vec![]),
                    require_settlement: Some(false),
                    max_batch: Some(8),
                    ..Default::default()
                }),
            ),
            (1, false, 0, submit),
        ]),
    );
    let _ = USDC_BASE;
}

fn pool() {
    let w = world();
    let usage = PoolMsg::RecordUsage {
        entries: vec![
            UsageEntry {
                epoch: 0,
                node_id: PROXY.into(),
                provenance: Provenance::Commercial,
                calls: 3,
                value: Uint128::new(75_000),
                counted_value: Uint128::new(75_000),
            },
            UsageEntry {
                epoch: 0,
                node_id: LOCAL.into(),
                provenance: Provenance::Community,
                calls: 1,
                value: Uint128::new(25_000),
                counted_value: Uint128::new(25_000),
            },
        ],
        live: vec![LiveNode {
            epoch: 0,
            node_id: LOCAL.into(),
            hardware_class: "rtx4090".into(),
        }],
    };
    write(
        "contract_execute_pool",
        "record-usage",
        &steps(&[(1, false, 0, usage.clone())]),
    );
    write(
        "contract_execute_pool",
        "fund-usage-finalize-claim",
        &steps(&[
            (0, true, 0, PoolMsg::Fund {}),
            (1, false, 0, usage),
            (3, false, 1, PoolMsg::FinalizeEpoch { epoch: 0 }),
            (
                2,
                false,
                0,
                PoolMsg::Claim {
                    node_id: PROXY.into(),
                    limit: Some(10),
                },
            ),
        ]),
    );
    let dec = |s: &str| Decimal::from_str(s).expect("decimal");
    write(
        "contract_execute_pool",
        "update-params-config",
        &steps(&[
            (
                0,
                false,
                0,
                PoolMsg::UpdateParams {
                    params: RewardParams {
                        emission_per_epoch: Uint128::new(2_000_000),
                        m_commercial: dec("0.5"),
                        m_community_max: dec("6"),
                        target_share: dec("0.4"),
                        alpha: dec("0.3"),
                        v_cap: Uint128::new(50_000),
                        c_call: Some(Uint128::new(2_000)),
                        claim_epochs: 60,
                        hardware_weights: vec![HardwareWeight {
                            class: "h100".into(),
                            weight: dec("2"),
                            stipend_cap: Uint128::new(300_000),
                        }],
                    },
                },
            ),
            (
                0,
                false,
                0,
                PoolMsg::UpdateConfig {
                    governance: None,
                    verifier: Some(addr("verifier-2").to_string()),
                    registry: None,
                },
            ),
        ]),
    );
}

/// `codec_decode`: the world's valid receipts in the compact form, as the keeper encodes them.
fn codec() {
    let w = world();
    let policy = w.policy();
    let ctx = opg_core::codec::EncodeContext {
        networks: &w.networks,
        facilitators: &policy.facilitators,
    };
    for (name, r) in ["proxy-v1", "proxy-v2", "local-v2-ed25519"]
        .into_iter()
        .zip(valid_receipts())
    {
        let c = opg_core::codec::compact_receipt(r, &ctx).expect("encodable");
        write(
            "codec_decode",
            name,
            &opg_core::codec::encode(&c).expect("encodes"),
        );
    }
}

fn main() {
    x402_header();
    receipts();
    codec();
    registry();
    verifier();
    pool();
    println!(
        "corpus written to {}",
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("corpus")
            .display()
    );
}
