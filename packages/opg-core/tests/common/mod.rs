//! A small world for verification tests: a verifier policy, a registry view with a proxy node and
//! a local node, signers for payer, nodes, facilitator and attester, and a receipt builder.
#![allow(dead_code)]

use std::collections::BTreeMap;

use cosmwasm_std::{Addr, Binary, Uint128};
use opg_core::eip712::{registry_domain_separator, verifier_domain_separator};
use opg_core::epoch::EpochClock;
use opg_core::msg::registry::NodeInfo;
use opg_core::receipt::{InferenceReceipt, SignedReceipt};
use opg_core::sign::{
    make_signed_permit2_receipt, make_signed_receipt, sign_attestation, EvmSigner, NodeSigner,
    PaymentParams, Permit2Params,
};
use opg_core::types::{AssetConfig, NetworkConfig, NodeKindTag, NodeStatus, Provenance};
use opg_core::verify::{RegistryView, VerifierPolicy};
use opg_core::x402::PaymentRequirements;

pub const SEED: &[u8] = b"opg-core tests";
pub const USDC_BASE: &str = "0x833589fcd6edb6e08f4c7c32d4f71b54bda02913";
pub const GENESIS: u64 = 1_700_000_000;
pub const EPOCH: u64 = 3_600;
pub const GRACE: u64 = 600;
pub const PROXY: &str = "proxy-1";
pub const LOCAL: &str = "local-1";
pub const GPT: &str = "openai/gpt-4.1";
pub const LLAMA: &str = "meta/llama-3.1-8b";

pub struct World {
    pub domain: [u8; 32],
    pub networks: Vec<NetworkConfig>,
    pub facilitators: Vec<String>,
    pub require_settlement: bool,
    pub clock: EpochClock,
    pub registry: RegistryView,
    pub payer: EvmSigner,
    pub proxy: NodeSigner,
    pub local: NodeSigner,
    pub facilitator: EvmSigner,
    pub proxy_pay_to: EvmSigner,
    pub local_pay_to: EvmSigner,
}

pub fn node(
    id: &str,
    kind: NodeKindTag,
    signer: &NodeSigner,
    pay_to: &EvmSigner,
    models: &[&str],
) -> NodeInfo {
    NodeInfo {
        node_id: id.to_string(),
        operator: Addr::unchecked(format!("operator-of-{id}")),
        kind,
        upstream: None,
        attestation: None,
        key: signer.key(),
        pay_to: pay_to.address(),
        endpoint: format!("https://{id}.example"),
        models: models.iter().map(|m| m.to_string()).collect(),
        bond: Uint128::new(1_000_000),
        status: NodeStatus::Active,
        jail_reason: None,
        registered_at: GENESIS,
        unbonding_ends: None,
    }
}

impl World {
    /// `local_ed25519` picks the local node's key algorithm (the proxy is secp256k1).
    pub fn new(local_ed25519: bool) -> Self {
        let domain = verifier_domain_separator("opg-test-1", "cosmos1verifier");
        let payer = EvmSigner::derive(SEED, "payer");
        let proxy = NodeSigner::derive(SEED, "proxy", false);
        let local = NodeSigner::derive(SEED, "local", local_ed25519);
        let facilitator = EvmSigner::derive(SEED, "facilitator");
        let attester = EvmSigner::derive(SEED, "attester");
        let proxy_pay_to = EvmSigner::derive(SEED, "proxy-pay-to");
        let local_pay_to = EvmSigner::derive(SEED, "local-pay-to");
        let mut local_node = node(LOCAL, NodeKindTag::Local, &local, &local_pay_to, &[LLAMA]);
        let registry_domain = registry_domain_separator("opg-test-1", "cosmos1registry");
        local_node.attestation = Some(sign_attestation(
            &attester,
            &registry_domain,
            local_node.operator.as_str(),
            &local.key(),
            "rtx4090",
            [7u8; 32],
            GENESIS + 10 * EPOCH,
        ));
        let mut nodes = BTreeMap::new();
        nodes.insert(
            PROXY.to_string(),
            node(PROXY, NodeKindTag::Proxy, &proxy, &proxy_pay_to, &[GPT]),
        );
        nodes.insert(LOCAL.to_string(), local_node);
        let mut models = BTreeMap::new();
        models.insert(GPT.to_string(), Provenance::Commercial);
        models.insert(LLAMA.to_string(), Provenance::Community);
        World {
            domain,
            networks: vec![NetworkConfig {
                chain_id: 8453,
                name: "base".to_string(),
                assets: vec![AssetConfig {
                    address: USDC_BASE.to_string(),
                    decimals: 6,
                    eip712_name: Some("USD Coin".into()),
                    eip712_version: Some("2".into()),
                }],
            }],
            facilitators: vec![facilitator.address()],
            require_settlement: true,
            clock: EpochClock {
                genesis: GENESIS,
                epoch_length: EPOCH,
                grace: GRACE,
            },
            registry: RegistryView { nodes, models },
            payer,
            proxy,
            local,
            facilitator,
            proxy_pay_to,
            local_pay_to,
        }
    }

    pub fn policy(&self) -> VerifierPolicy<'_> {
        VerifierPolicy {
            domain_separator: self.domain,
            networks: &self.networks,
            facilitators: self
                .facilitators
                .iter()
                .filter_map(|f| opg_core::verify::parse_evm_address(f))
                .collect(),
            require_settlement: self.require_settlement,
            clock: self.clock,
        }
    }

    /// v1 or v2 `exact` requirements on Base USDC paying `pay_to`.
    pub fn requirements(&self, version: u32, pay_to: &str, amount: u128) -> PaymentRequirements {
        let network = if version == 1 { "base" } else { "eip155:8453" };
        PaymentRequirements {
            resource: Some("https://node.example/v1/chat/completions".to_string()),
            max_timeout_seconds: Some(60),
            ..PaymentRequirements::exact(
                version, network, pay_to, USDC_BASE, amount, "USD Coin", "2",
            )
        }
    }

    /// Payment parameters valid around `served_at` (window `[served_at - 60, served_at + 60)`).
    pub fn params(
        &self,
        version: u32,
        pay_to: &str,
        value: u128,
        served_at: u64,
        nonce: u8,
    ) -> PaymentParams {
        PaymentParams {
            x402_version: version,
            requirements: self.requirements(version, pay_to, value),
            value,
            valid_after: served_at - 60,
            valid_before: served_at + 60,
            nonce: [nonce; 32],
        }
    }

    pub fn inference(&self, node_id: &str, model: &str, served_at: u64) -> InferenceReceipt {
        InferenceReceipt {
            node_id: node_id.to_string(),
            model_id: model.to_string(),
            request_digest: Binary::from([1u8; 32].to_vec()),
            response_digest: Binary::from([2u8; 32].to_vec()),
            prompt_tokens: 120,
            completion_tokens: 480,
            served_at,
        }
    }

    /// Permit2 payment parameters (`scheme` `exact` or `upto`, max/price 25_000 units) valid
    /// around `served_at` (`[served_at - 60, served_at + 60]`); `upto` names the world's facilitator.
    pub fn permit2_params(
        &self,
        scheme: &str,
        pay_to: &str,
        served_at: u64,
        nonce: u8,
    ) -> Permit2Params {
        let facilitator = (scheme == "upto").then(|| self.facilitator.address_bytes());
        Permit2Params {
            requirements: PaymentRequirements::permit2(
                scheme,
                "eip155:8453",
                pay_to,
                USDC_BASE,
                25_000,
                facilitator
                    .is_some()
                    .then(|| self.facilitator.address())
                    .as_deref(),
            ),
            amount: 25_000,
            valid_after: served_at - 60,
            deadline: served_at + 60,
            nonce: [nonce; 32],
            facilitator,
        }
    }

    /// A valid Permit2 receipt for the proxy node: `exact` (`settled` `None`) or `upto` settling
    /// `settled` units, attested by the world's facilitator.
    pub fn permit2_receipt(&self, params: &Permit2Params, settled: Option<u128>) -> SignedReceipt {
        make_signed_permit2_receipt(
            &self.payer,
            &self.proxy,
            Some(&self.facilitator),
            &self.domain,
            params,
            self.inference(PROXY, GPT, params.valid_after + 60),
            [9u8; 32],
            settled,
        )
    }

    /// A fully valid receipt: `local` picks the node, paid 25_000 units (0.025 USDC).
    pub fn receipt(&self, local: bool, version: u32, served_at: u64, nonce: u8) -> SignedReceipt {
        let (node_id, model, signer, pay_to) = if local {
            (LOCAL, LLAMA, &self.local, &self.local_pay_to)
        } else {
            (PROXY, GPT, &self.proxy, &self.proxy_pay_to)
        };
        make_signed_receipt(
            &self.payer,
            signer,
            Some(&self.facilitator),
            &self.domain,
            &self.params(version, &pay_to.address(), 25_000, served_at, nonce),
            self.inference(node_id, model, served_at),
            [9u8; 32],
        )
    }
}
