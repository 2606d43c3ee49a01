//! The verification core on one core: the full `verify_receipt` of a receipt signed by a
//! secp256k1 node (three public-key recoveries) and by an ed25519 node (two recoveries and one
//! ed25519 verification), next to its parts: one secp256k1 recovery, one ed25519 verification
//! and the x402 `verify_payment` (decode + one recovery). Each iteration is one verification, so
//! criterion's `thrpt` line is verifications per second.
//!
//! Run: `cargo bench -p opg-core --bench verify_core`.
use std::collections::BTreeMap;
use std::hint::black_box;

use cosmwasm_std::{Addr, Binary, Uint128};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use opg_core::crypto::{Crypto, NativeCrypto};
use opg_core::epoch::EpochClock;
use opg_core::msg::registry::NodeInfo;
use opg_core::receipt::{InferenceReceipt, SignedReceipt};
use opg_core::sign::{make_signed_receipt, EvmSigner, NodeSigner, PaymentParams};
use opg_core::types::{
    AssetConfig, HardwareAttestation, NetworkConfig, NodeKey, NodeKindTag, NodeStatus, Provenance,
};
use opg_core::verify::{
    decode_payment_header, recover_evm_address, verify_payment, verify_receipt, RegistryView,
    VerifierPolicy,
};
use opg_core::x402::{ExactEvmExtra, PaymentRequirements};

const T0: u64 = 1_700_000_000;
const USDC: &str = "0x036cbd53842c5426634e7929541ec2318f3dcf7e";

struct Fixture {
    networks: Vec<NetworkConfig>,
    facilitators: Vec<String>,
    view: RegistryView,
    domain: [u8; 32],
    proxy: SignedReceipt,
    local: SignedReceipt,
}

fn node(id: &str, kind: NodeKindTag, signer: &NodeSigner, pay_to: &str, model: &str) -> NodeInfo {
    NodeInfo {
        node_id: id.into(),
        operator: Addr::unchecked(format!("operator-{id}")),
        kind,
        upstream: None,
        attestation: match kind {
            NodeKindTag::Proxy => None,
            NodeKindTag::Local => Some(HardwareAttestation {
                hardware_class: "h100".into(),
                evidence_digest: Binary::from(vec![0u8; 32]),
                attester: "0x0000000000000000000000000000000000000001".into(),
                expires_at: T0 + 10_000_000,
                signature: Binary::default(),
            }),
        },
        key: signer.key(),
        pay_to: pay_to.into(),
        endpoint: format!("http://{id}.invalid"),
        models: vec![model.into()],
        bond: Uint128::new(1_000_000),
        status: NodeStatus::Active,
        jail_reason: None,
        registered_at: T0,
        unbonding_ends: None,
    }
}

fn receipt(
    payer: &EvmSigner,
    node: &NodeSigner,
    facilitator: &EvmSigner,
    domain: &[u8; 32],
    id: &str,
    pay_to: &str,
    model: &str,
) -> SignedReceipt {
    let params = PaymentParams {
        x402_version: 1,
        requirements: PaymentRequirements {
            scheme: "exact".into(),
            network: "base-sepolia".into(),
            max_amount_required: Some("10000".into()),
            amount: None,
            resource: Some(format!("https://{id}.invalid/v1/chat/completions")),
            description: None,
            mime_type: None,
            pay_to: pay_to.into(),
            max_timeout_seconds: Some(60),
            asset: USDC.into(),
            extra: Some(ExactEvmExtra {
                name: Some("USDC".into()),
                version: Some("2".into()),
                ..ExactEvmExtra::default()
            }),
        },
        value: 10_000,
        valid_after: T0,
        valid_before: T0 + 3600,
        nonce: [id.len() as u8; 32],
    };
    make_signed_receipt(
        payer,
        node,
        Some(facilitator),
        domain,
        &params,
        InferenceReceipt {
            node_id: id.into(),
            model_id: model.into(),
            request_digest: Binary::from(vec![1u8; 32]),
            response_digest: Binary::from(vec![2u8; 32]),
            prompt_tokens: 100,
            completion_tokens: 200,
            served_at: T0 + 10,
        },
        [9u8; 32],
    )
}

fn fixture() -> Fixture {
    let seed = b"verify-core-bench";
    let payer = EvmSigner::derive(seed, "payer");
    let facilitator = EvmSigner::derive(seed, "facilitator");
    let proxy_key = NodeSigner::derive(seed, "node/proxy-1", false);
    let local_key = NodeSigner::derive(seed, "node/local-1", true);
    let proxy_pay = EvmSigner::derive(seed, "payto/proxy-1").address();
    let local_pay = EvmSigner::derive(seed, "payto/local-1").address();
    let domain = opg_core::eip712::verifier_domain_separator("opg-bench-1", "verifier");
    let (gpt, llama) = ("openai/gpt-4.1", "meta-llama/llama-3.1-8b-instruct");
    let mut view = RegistryView {
        nodes: BTreeMap::new(),
        models: BTreeMap::new(),
    };
    view.nodes.insert(
        "proxy-1".into(),
        node("proxy-1", NodeKindTag::Proxy, &proxy_key, &proxy_pay, gpt),
    );
    view.nodes.insert(
        "local-1".into(),
        node("local-1", NodeKindTag::Local, &local_key, &local_pay, llama),
    );
    view.models.insert(gpt.into(), Provenance::Commercial);
    view.models.insert(llama.into(), Provenance::Community);
    Fixture {
        networks: vec![NetworkConfig {
            chain_id: 84532,
            name: "base-sepolia".into(),
            assets: vec![AssetConfig {
                address: USDC.into(),
                decimals: 6,
                eip712_name: Some("USDC".into()),
                eip712_version: Some("2".into()),
            }],
        }],
        facilitators: vec![facilitator.address()],
        view,
        domain,
        proxy: receipt(
            &payer,
            &proxy_key,
            &facilitator,
            &domain,
            "proxy-1",
            &proxy_pay,
            gpt,
        ),
        local: receipt(
            &payer,
            &local_key,
            &facilitator,
            &domain,
            "local-1",
            &local_pay,
            llama,
        ),
    }
}

fn bench(c: &mut Criterion) {
    let f = fixture();
    let policy = VerifierPolicy {
        domain_separator: f.domain,
        networks: &f.networks,
        facilitators: f
            .facilitators
            .iter()
            .filter_map(|a| opg_core::verify::parse_evm_address(a))
            .collect(),
        require_settlement: true,
        clock: EpochClock {
            genesis: T0,
            epoch_length: 3600,
            grace: 600,
        },
    };
    let now = T0 + 100;
    // sanity: both receipts verify
    verify_receipt(&NativeCrypto, &policy, &f.view, &f.proxy, now).expect("proxy verifies");
    verify_receipt(&NativeCrypto, &policy, &f.view, &f.local, now).expect("local verifies");
    let payload = decode_payment_header(&f.proxy.payment).expect("header");
    let settlement = f.proxy.settlement.clone().expect("settlement");
    let digest = [7u8; 32];
    let evm = EvmSigner::derive(b"verify-core-bench", "probe");
    let evm_sig = evm.sign_digest(&digest);
    assert_eq!(
        recover_evm_address(&NativeCrypto, &digest, &evm_sig),
        Some(evm.address_bytes())
    );
    let ed = NodeSigner::derive(b"verify-core-bench", "probe", true);
    let ed_sig = ed.sign_digest(&digest);
    let ed_pub = match ed.key() {
        NodeKey::Ed25519 { public_key } => public_key.to_vec(),
        other => panic!("not ed25519: {other:?}"),
    };
    assert!(NativeCrypto.ed25519_verify(&digest, &ed_sig, &ed_pub));

    let mut g = c.benchmark_group("core");
    g.throughput(Throughput::Elements(1));
    g.bench_function("secp256k1_recover", |b| {
        b.iter(|| recover_evm_address(&NativeCrypto, black_box(&digest), black_box(&evm_sig)))
    });
    g.bench_function("ed25519_verify", |b| {
        b.iter(|| NativeCrypto.ed25519_verify(black_box(&digest), black_box(&ed_sig), &ed_pub))
    });
    g.bench_function("verify_payment", |b| {
        b.iter(|| {
            verify_payment(
                &NativeCrypto,
                black_box(&payload),
                &f.proxy.requirements,
                T0 + 10,
                6,
            )
        })
    });
    g.bench_function("verify_receipt_secp256k1_node", |b| {
        b.iter(|| verify_receipt(&NativeCrypto, &policy, &f.view, black_box(&f.proxy), now))
    });
    g.bench_function("verify_receipt_ed25519_node", |b| {
        b.iter(|| verify_receipt(&NativeCrypto, &policy, &f.view, black_box(&f.local), now))
    });
    g.finish();
    black_box(settlement);
}

criterion_group!(benches, bench);
criterion_main!(benches);
