//! Helpers shared by the keeper's integration tests: a small dev genesis and receipts signed with
//! exactly the keys genesis registered.
#![allow(dead_code)]
use cosmwasm_std::Binary;
use opg_core::eip712::verifier_domain_separator;
use opg_core::receipt::{InferenceReceipt, SignedReceipt};
use opg_core::sign::{make_signed_receipt, PaymentParams};
use opg_core::x402::PaymentRequirements;
use opg_keeper::chain::ChainBackend;
use opg_keeper::genesis::{DevKeys, GenesisConfig};
use sha2::{Digest, Sha256};

/// Genesis time of the test chains (2023-11-14T22:13:20Z).
pub const T0: u64 = 1_700_000_000;
/// USDC on Base Sepolia, as in the dev genesis.
pub const USDC: &str = "0x036cbd53842c5426634e7929541ec2318f3dcf7e";

/// The dev genesis at [`T0`]: epochs of 3600 s, grace 600 s, emission 1e9 uopg, alpha 0.2,
/// m_commercial 0.5, M 3, nodes `proxy-1` (secp256k1) and `local-1` (ed25519, h100).
pub fn genesis() -> GenesisConfig {
    let mut g = GenesisConfig::dev("keeper-test-seed");
    g.genesis_time = Some(T0);
    g
}

/// A receipt for one call: payer `payer`, its `nonce`-th payment of `value` USDC units (=
/// micro-USD, 6 decimals) to `node`, served at `served_at`, settled by the dev facilitator.
#[allow(clippy::too_many_arguments)]
pub fn receipt(
    chain: &dyn ChainBackend,
    g: &GenesisConfig,
    payer: u64,
    nonce: u64,
    node: &str,
    model: &str,
    value: u128,
    served_at: u64,
) -> SignedReceipt {
    let dev = DevKeys::from_genesis(g);
    let nk = dev.node(node).expect("genesis node");
    let payer_key = dev.payer(payer);
    let requirements = PaymentRequirements {
        resource: Some(format!("https://{node}.invalid/v1/chat/completions")),
        description: Some("chat completion".into()),
        mime_type: Some("application/json".into()),
        max_timeout_seconds: Some(60),
        ..PaymentRequirements::exact(1, "base-sepolia", &nk.pay_to, USDC, value, "USDC", "2")
    };
    let nonce_bytes: [u8; 32] = Sha256::digest(format!("nonce/{payer}/{nonce}")).into();
    let params = PaymentParams {
        x402_version: 1,
        requirements,
        value,
        valid_after: served_at - 60,
        valid_before: served_at + 3600,
        nonce: nonce_bytes,
    };
    let domain = verifier_domain_separator(&chain.chain_id(), &chain.deployment().verifier);
    make_signed_receipt(
        &payer_key,
        &nk.signer,
        Some(&dev.facilitator),
        &domain,
        &params,
        InferenceReceipt {
            node_id: node.into(),
            model_id: model.into(),
            request_digest: Binary::from(Sha256::digest(b"request").to_vec()),
            response_digest: Binary::from(Sha256::digest(b"response").to_vec()),
            prompt_tokens: 100,
            completion_tokens: 200,
            served_at,
        },
        [7u8; 32],
    )
}

pub const GPT: &str = "openai/gpt-4.1";
pub const LLAMA: &str = "meta-llama/llama-3.1-8b-instruct";

/// The standard traffic of epoch 0: three payers pay `proxy-1` 1 USD each, one payer pays
/// `local-1` 0.5 USD.
pub fn epoch0_traffic(chain: &dyn ChainBackend, g: &GenesisConfig) -> Vec<SignedReceipt> {
    vec![
        receipt(chain, g, 1, 0, "proxy-1", GPT, 1_000_000, T0 + 10),
        receipt(chain, g, 2, 0, "proxy-1", GPT, 1_000_000, T0 + 20),
        receipt(chain, g, 3, 0, "proxy-1", GPT, 1_000_000, T0 + 30),
        receipt(chain, g, 4, 0, "local-1", LLAMA, 500_000, T0 + 40),
    ]
}

/// A keeper on an in-memory embedded chain at `T0 + 100`, serving HTTP with a body limit of
/// `body_limit_bytes` and no effective rate limit (10,000 requests per second).
pub fn http_keeper(
    body_limit_bytes: usize,
) -> (
    std::sync::Arc<opg_keeper::service::Keeper>,
    std::sync::Arc<opg_keeper::chain::embedded::EmbeddedChain>,
) {
    use std::sync::Arc;
    let g = genesis();
    let chain = Arc::new(opg_keeper::chain::embedded::EmbeddedChain::in_memory(&g).unwrap());
    chain.set_time(T0 + 100).unwrap();
    let mut cfg = opg_keeper::config::KeeperConfig {
        genesis: Some(g),
        ..Default::default()
    };
    cfg.server.body_limit_bytes = body_limit_bytes;
    cfg.server.requests_per_second = 10_000;
    cfg.server.burst = 10_000;
    let k = opg_keeper::service::Keeper::new(
        cfg,
        opg_keeper::store::Store::in_memory().unwrap(),
        chain.clone() as Arc<dyn ChainBackend>,
    )
    .unwrap();
    (k, chain)
}
