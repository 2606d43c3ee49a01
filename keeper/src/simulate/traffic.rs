//! Traffic of a scenario: which payer calls which node for which model, when, for how much
//! ([`plan_epoch`], pure and deterministic from the scenario seed), and the signed x402 payments,
//! node receipts and facilitator settlements of those calls ([`sign_calls`]).
use std::collections::BTreeMap;

use cosmwasm_std::Binary;
use opg_core::receipt::{Heartbeat, InferenceReceipt, SignedReceipt};
use opg_core::sign::{
    make_signed_permit2_receipt, make_signed_receipt, sign_heartbeat, EvmSigner, NodeSigner,
    PaymentParams, Permit2Params,
};
use opg_core::types::{AssetConfig, NetworkConfig};
use opg_core::x402::PaymentRequirements;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use sha2::{Digest, Sha256};

use super::scenario::{ProvenanceSpec, Scenario};

/// Base mainnet: EVM chain id 8453, x402 v1 network name `base`.
pub const BASE_CHAIN_ID: u64 = 8453;
/// x402 v1 network name of Base.
pub const BASE_NETWORK: &str = "base";
/// Native USDC on Base (Circle's published contract address), 6 decimals.
pub const BASE_USDC: &str = "0x833589fcd6edb6e08f4c7c32d4f71b54bda02913";
/// EIP-712 domain name of USDC on Base (`extra.name` in x402 requirements).
pub const USDC_EIP712_NAME: &str = "USD Coin";
/// EIP-712 domain version of USDC on Base.
pub const USDC_EIP712_VERSION: &str = "2";
/// Seconds a payment authorization is valid around the call (`validAfter = served_at - 60`,
/// `validBefore = served_at + PAYMENT_VALIDITY_S`), like x402's `maxTimeoutSeconds`.
pub const PAYMENT_VALIDITY_S: u64 = 300;

/// The network the simulation pays on: Base with native USDC (6 decimals: 1 unit = 1 micro-USD).
pub fn base_network() -> NetworkConfig {
    NetworkConfig {
        chain_id: BASE_CHAIN_ID,
        name: BASE_NETWORK.into(),
        assets: vec![AssetConfig {
            address: BASE_USDC.into(),
            decimals: 6,
            eip712_name: Some("USD Coin".into()),
            eip712_version: Some("2".into()),
        }],
    }
}

/// Who pays a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Payer {
    /// Organic payer `i` of `0..payers`, the same key in every epoch.
    Organic(u32),
    /// The wash attacker's fresh key `k` of `epoch`, used in that epoch only.
    Wash {
        /// Epoch the key is used in.
        epoch: u64,
        /// Index within the epoch.
        k: u32,
    },
}

/// One planned call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallPlan {
    /// Epoch of `served_at`.
    pub epoch: u64,
    /// Serving node.
    pub node_id: String,
    /// Model served.
    pub model_id: String,
    /// Who pays.
    pub payer: Payer,
    /// Price paid, micro-USD (= USDC base units).
    pub value: u64,
    /// Prompt tokens.
    pub prompt_tokens: u64,
    /// Completion tokens.
    pub completion_tokens: u64,
    /// Unix seconds the response was served.
    pub served_at: u64,
    /// x402 protocol version of the payment (1 or 2; Permit2 methods are 2).
    pub x402_version: u32,
    /// How the payment moves the asset.
    pub method: PaymentMethod,
    /// EIP-3009 nonce.
    pub nonce: [u8; 32],
    /// Settlement tx hash reported by the facilitator.
    pub tx_hash: [u8; 32],
}

/// The x402 payment kind of a call (`@x402/evm` 2.27.0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PaymentMethod {
    /// `exact`, EIP-3009 `transferWithAuthorization` (v1 or v2).
    Eip3009,
    /// `exact` via Permit2 (v2).
    Permit2Exact,
    /// `upto` via Permit2 (v2): signed maximum twice the price, the price settled.
    Upto,
}

/// Draws a call's payment method and protocol version: `permit2_exact_fraction`, then
/// `upto_fraction` (both v2), else EIP-3009 with `x402_v2_fraction` of v2. With both Permit2
/// fractions 0 it draws exactly what it drew before they existed (one `gen_bool`), so existing
/// scenarios keep their reports.
fn draw_method(rng: &mut impl Rng, s: &Scenario) -> (PaymentMethod, u32) {
    if s.permit2_exact_fraction + s.upto_fraction > 0.0 {
        let x: f64 = rng.gen();
        if x < s.permit2_exact_fraction {
            return (PaymentMethod::Permit2Exact, 2);
        }
        if x < s.permit2_exact_fraction + s.upto_fraction {
            return (PaymentMethod::Upto, 2);
        }
    }
    let version = if rng.gen_bool(s.x402_v2_fraction) {
        2
    } else {
        1
    };
    (PaymentMethod::Eip3009, version)
}

impl CallPlan {
    /// Whether this is the wash attacker paying his own node.
    pub fn is_wash(&self) -> bool {
        matches!(self.payer, Payer::Wash { .. })
    }
}

/// The per-epoch RNG: ChaCha20 seeded from the scenario seed and the epoch, so an epoch's traffic
/// does not depend on how many epochs ran before it.
fn epoch_rng(seed: u64, epoch: u64, stream: u64) -> ChaCha20Rng {
    let mut rng = ChaCha20Rng::seed_from_u64(seed ^ epoch.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    rng.set_stream(stream);
    rng
}

fn draw_tokens(rng: &mut ChaCha20Rng, mean: u64) -> u64 {
    if mean == 0 {
        return 0;
    }
    rng.gen_range(mean / 2..=mean + mean / 2)
}

fn pick_weighted<'a, T>(rng: &mut ChaCha20Rng, items: &'a [(T, f64)]) -> Option<&'a T> {
    let total: f64 = items.iter().map(|(_, w)| *w).sum();
    if total <= 0.0 {
        return None;
    }
    let mut x = rng.gen_range(0.0..total);
    for (item, w) in items {
        if x < *w {
            return Some(item);
        }
        x -= *w;
    }
    items.iter().rev().find(|(_, w)| *w > 0.0).map(|(t, _)| t)
}

/// The organic calls of `epoch`, ordered by `served_at`. `genesis` is the unix time epoch 0
/// starts.
pub fn plan_epoch(s: &Scenario, genesis: u64, epoch: u64) -> Vec<CallPlan> {
    let start = genesis + epoch * s.epoch_length_s;
    let mut calls = plan_organic(s, start, epoch);
    calls.sort_by_key(|c| c.served_at);
    calls
}

fn plan_organic(s: &Scenario, start: u64, epoch: u64) -> Vec<CallPlan> {
    let mut rng = epoch_rng(s.seed, epoch, 1);
    let total = s.calls_per_epoch;
    let community = ((total as f64) * s.demand.community_share_at(epoch)).round() as u64;
    let mut classes: Vec<ProvenanceSpec> = (0..total)
        .map(|i| {
            if i < community {
                ProvenanceSpec::Community
            } else {
                ProvenanceSpec::Commercial
            }
        })
        .collect();
    classes.shuffle(&mut rng);
    let by_class: BTreeMap<bool, Vec<(&str, f64)>> = [false, true]
        .into_iter()
        .map(|community| {
            let want = if community {
                ProvenanceSpec::Community
            } else {
                ProvenanceSpec::Commercial
            };
            let models = s
                .models
                .iter()
                .filter(|m| m.provenance == want)
                .map(|m| (m.id.as_str(), m.demand_weight))
                .collect();
            (community, models)
        })
        .collect();
    let mut out = Vec::with_capacity(total as usize);
    for class in classes {
        let Some(model_id) =
            pick_weighted(&mut rng, &by_class[&(class == ProvenanceSpec::Community)])
        else {
            continue;
        };
        let model = s.model(model_id).expect("validated: planned models exist");
        let servers: Vec<&str> = s
            .nodes
            .iter()
            .filter(|n| n.models.iter().any(|m| m == model_id))
            .map(|n| n.id.as_str())
            .collect();
        let node_id = servers[rng.gen_range(0..servers.len())];
        let payer = Payer::Organic(rng.gen_range(0..s.payers));
        let value = model.price().unwrap_or(1);
        let prompt_tokens = draw_tokens(&mut rng, model.prompt_tokens);
        let completion_tokens = draw_tokens(&mut rng, model.completion_tokens);
        let served_at = start + rng.gen_range(0..s.epoch_length_s);
        let (method, x402_version) = draw_method(&mut rng, s);
        out.push(CallPlan {
            epoch,
            node_id: node_id.to_string(),
            model_id: model.id.clone(),
            payer,
            value,
            prompt_tokens,
            completion_tokens,
            served_at,
            x402_version,
            method,
            nonce: rng.gen(),
            tx_hash: rng.gen(),
        });
    }
    out
}

/// The wash attacker's `count` self-paid calls of `value` micro-USD each in `epoch`, ordered by
/// `served_at`: his node serves them (one of its models at random); a fresh key pays every
/// `calls_per_key` of them. Deterministic from the scenario seed, the epoch and the value, and a
/// prefix of a larger plan with the same value (so one signed plan serves every smaller volume).
/// Empty without an attacker.
pub fn plan_wash(s: &Scenario, genesis: u64, epoch: u64, count: u64, value: u64) -> Vec<CallPlan> {
    let Some(w) = &s.wash_attack else {
        return vec![];
    };
    let node = s
        .node(&w.node)
        .expect("validated: the attacker's node exists");
    let start = genesis + epoch * s.epoch_length_s;
    let mut rng = epoch_rng(s.seed ^ value.rotate_left(17), epoch, 2);
    let per_key = u64::from(w.calls_per_key.max(1));
    (0..count)
        .map(|i| {
            let model_id = &node.models[rng.gen_range(0..node.models.len())];
            let model = s.model(model_id).expect("validated: node models exist");
            CallPlan {
                epoch,
                node_id: node.id.clone(),
                model_id: model.id.clone(),
                payer: Payer::Wash {
                    epoch,
                    k: u32::try_from(i / per_key).unwrap_or(u32::MAX),
                },
                value,
                prompt_tokens: draw_tokens(&mut rng, model.prompt_tokens),
                completion_tokens: draw_tokens(&mut rng, model.completion_tokens),
                served_at: start + rng.gen_range(0..s.epoch_length_s),
                // The attacker pays as everyone does (the draw order of the fields is kept).
                x402_version: if rng.gen_bool(s.x402_v2_fraction) {
                    2
                } else {
                    1
                },
                method: PaymentMethod::Eip3009,
                nonce: rng.gen(),
                tx_hash: rng.gen(),
            }
        })
        .collect()
}

/// Keys that sign traffic: payers (organic ones cached), nodes and the facilitator.
pub struct TrafficKeys {
    seed: String,
    organic: Vec<EvmSigner>,
    nodes: BTreeMap<String, (NodeSigner, String)>,
    facilitator: EvmSigner,
}

impl TrafficKeys {
    /// `nodes`: node id -> (registered signer, `payTo` address), as genesis registered them.
    /// Payer keys are derived from the scenario seed (labels `payer/<i>`, `wash/<epoch>/<k>`).
    pub fn new(
        scenario: &Scenario,
        nodes: BTreeMap<String, (NodeSigner, String)>,
        facilitator: EvmSigner,
    ) -> Self {
        let seed = format!("opg-simulate/{}/{}", scenario.name, scenario.seed);
        let organic = (0..scenario.payers)
            .map(|i| EvmSigner::derive(seed.as_bytes(), &format!("payer/{i}")))
            .collect();
        TrafficKeys {
            seed,
            organic,
            nodes,
            facilitator,
        }
    }

    /// `node_id`'s signed heartbeat for `epoch` at unix time `timestamp`. Errors if the node
    /// has no keys.
    pub fn heartbeat(
        &self,
        verifier_domain: &[u8; 32],
        node_id: &str,
        epoch: u64,
        timestamp: u64,
    ) -> anyhow::Result<Heartbeat> {
        let (node, _) = self
            .nodes
            .get(node_id)
            .ok_or_else(|| anyhow::anyhow!("no keys for node `{node_id}`"))?;
        Ok(sign_heartbeat(
            node,
            verifier_domain,
            node_id,
            epoch,
            timestamp,
        ))
    }

    /// The key of a payer.
    pub fn payer(&self, p: Payer) -> EvmSigner {
        match p {
            Payer::Organic(i) => self.organic[i as usize].clone(),
            Payer::Wash { epoch, k } => {
                EvmSigner::derive(self.seed.as_bytes(), &format!("wash/{epoch}/{k}"))
            }
        }
    }
}

/// The x402 requirements a node advertises for a call (v1 or v2 shape).
pub fn requirements(version: u32, pay_to: &str, node_id: &str, value: u64) -> PaymentRequirements {
    let network = if version == 1 {
        BASE_NETWORK.to_string()
    } else {
        format!("eip155:{BASE_CHAIN_ID}")
    };
    let base = PaymentRequirements::exact(
        version,
        &network,
        pay_to,
        BASE_USDC,
        u128::from(value),
        USDC_EIP712_NAME,
        USDC_EIP712_VERSION,
    );
    if version == 1 {
        PaymentRequirements {
            resource: Some(format!("https://{node_id}.invalid/v1/chat/completions")),
            description: Some("chat completion".into()),
            mime_type: Some("application/json".into()),
            max_timeout_seconds: Some(PAYMENT_VALIDITY_S),
            ..base
        }
    } else {
        PaymentRequirements {
            max_timeout_seconds: Some(PAYMENT_VALIDITY_S),
            ..base
        }
    }
}

fn digest(parts: &[&[u8]]) -> Binary {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    Binary::from(h.finalize().to_vec())
}

/// Signs one call: the payer's x402 payment, the node's receipt and the facilitator's settlement.
/// Errors if the node has no keys.
pub fn sign_call(
    keys: &TrafficKeys,
    verifier_domain: &[u8; 32],
    c: &CallPlan,
) -> anyhow::Result<SignedReceipt> {
    let (node, pay_to) = keys
        .nodes
        .get(&c.node_id)
        .ok_or_else(|| anyhow::anyhow!("no keys for node `{}`", c.node_id))?;
    let payer = keys.payer(c.payer);
    if c.method != PaymentMethod::Eip3009 {
        return Ok(sign_permit2_call(
            keys,
            verifier_domain,
            c,
            node,
            pay_to,
            &payer,
        ));
    }
    let params = PaymentParams {
        x402_version: c.x402_version,
        requirements: requirements(c.x402_version, pay_to, &c.node_id, c.value),
        value: c.value as u128,
        valid_after: c.served_at.saturating_sub(60),
        valid_before: c.served_at + PAYMENT_VALIDITY_S,
        nonce: c.nonce,
    };
    let receipt = InferenceReceipt {
        node_id: c.node_id.clone(),
        model_id: c.model_id.clone(),
        request_digest: digest(&[b"request", &c.nonce]),
        response_digest: digest(&[b"response", &c.nonce, &c.completion_tokens.to_be_bytes()]),
        prompt_tokens: c.prompt_tokens,
        completion_tokens: c.completion_tokens,
        served_at: c.served_at,
    };
    Ok(make_signed_receipt(
        &payer,
        node,
        Some(&keys.facilitator),
        verifier_domain,
        &params,
        receipt,
        c.tx_hash,
    ))
}

/// [`sign_call`] for a Permit2 payment (`exact` or `upto`, v2 on Base USDC).
fn sign_permit2_call(
    keys: &TrafficKeys,
    verifier_domain: &[u8; 32],
    c: &CallPlan,
    node: &NodeSigner,
    pay_to: &str,
    payer: &EvmSigner,
) -> SignedReceipt {
    let upto = c.method == PaymentMethod::Upto;
    let facilitator = upto.then(|| keys.facilitator.address());
    let value = u128::from(c.value);
    let amount = if upto { value * 2 } else { value };
    let requirements = PaymentRequirements {
        max_timeout_seconds: Some(PAYMENT_VALIDITY_S),
        ..PaymentRequirements::permit2(
            if upto { "upto" } else { "exact" },
            &format!("eip155:{BASE_CHAIN_ID}"),
            pay_to,
            BASE_USDC,
            amount,
            facilitator.as_deref(),
        )
    };
    let params = Permit2Params {
        requirements,
        amount,
        valid_after: c.served_at.saturating_sub(60),
        // Inclusive on chain: the same last second as EIP-3009's exclusive `validBefore`.
        deadline: c.served_at + PAYMENT_VALIDITY_S - 1,
        nonce: c.nonce,
        facilitator: upto.then(|| keys.facilitator.address_bytes()),
    };
    let receipt = InferenceReceipt {
        node_id: c.node_id.clone(),
        model_id: c.model_id.clone(),
        request_digest: digest(&[b"request", &c.nonce]),
        response_digest: digest(&[b"response", &c.nonce, &c.completion_tokens.to_be_bytes()]),
        prompt_tokens: c.prompt_tokens,
        completion_tokens: c.completion_tokens,
        served_at: c.served_at,
    };
    make_signed_permit2_receipt(
        payer,
        node,
        Some(&keys.facilitator),
        verifier_domain,
        &params,
        receipt,
        c.tx_hash,
        upto.then_some(value),
    )
}

/// Signs `calls` in order, on up to `threads` threads.
pub fn sign_calls(
    keys: &TrafficKeys,
    verifier_domain: &[u8; 32],
    calls: &[CallPlan],
    threads: usize,
) -> anyhow::Result<Vec<SignedReceipt>> {
    let threads = threads.max(1);
    if threads == 1 || calls.len() < 64 {
        return calls
            .iter()
            .map(|c| sign_call(keys, verifier_domain, c))
            .collect();
    }
    let chunk = calls.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = calls
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|c| sign_call(keys, verifier_domain, c))
                        .collect::<anyhow::Result<Vec<_>>>()
                })
            })
            .collect();
        let mut out = Vec::with_capacity(calls.len());
        for h in handles {
            let part = h
                .join()
                .map_err(|_| anyhow::anyhow!("a signing thread panicked"))??;
            out.extend(part);
        }
        Ok(out)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario() -> Scenario {
        let mut s = Scenario::seed().unwrap();
        s.calls_per_epoch = 400;
        s
    }

    #[test]
    fn plan_is_deterministic_and_sized() {
        let s = scenario();
        let a = plan_epoch(&s, 1_000_000, 3);
        let b = plan_epoch(&s, 1_000_000, 3);
        assert_eq!(a, b);
        assert_eq!(a.len(), s.calls_per_epoch as usize);
        assert!(a.iter().all(|c| !c.is_wash()));
        assert!(a.windows(2).all(|p| p[0].served_at <= p[1].served_at));
        let start = 1_000_000 + 3 * s.epoch_length_s;
        assert!(a
            .iter()
            .all(|c| c.served_at >= start && c.served_at < start + s.epoch_length_s));
    }

    #[test]
    fn wash_plan_pays_the_attackers_node_from_fresh_keys() {
        let s = scenario();
        let w = s.wash_attack.as_ref().unwrap();
        let v = 3 * s.rewards.v_cap_micro_usd;
        let calls = plan_wash(&s, 0, 2, 11, v);
        assert_eq!(calls.len(), 11);
        assert!(calls
            .iter()
            .all(|c| c.is_wash() && c.node_id == w.node && c.value == v && c.epoch == 2));
        let keys: std::collections::BTreeSet<_> = calls.iter().map(|c| c.payer).collect();
        assert_eq!(
            keys.len() as u64,
            11u64.div_ceil(u64::from(w.calls_per_key))
        );
        let nonces: std::collections::BTreeSet<_> = calls.iter().map(|c| c.nonce).collect();
        assert_eq!(nonces.len(), 11);
    }

    #[test]
    fn demand_split_follows_the_scenario() {
        let mut s = scenario();
        s.demand.community_share = 0.25;
        let plan = plan_epoch(&s, 0, 0);
        let community = plan
            .iter()
            .filter(|c| s.model(&c.model_id).unwrap().provenance == ProvenanceSpec::Community)
            .count();
        assert_eq!(community, 100);
        // Every call goes to a node that serves its model, at the model's price.
        for c in &plan {
            assert!(s.node(&c.node_id).unwrap().models.contains(&c.model_id));
            assert_eq!(c.value, s.price_of(&c.model_id));
        }
        // Both x402 versions are used.
        assert!(
            plan.iter().any(|c| c.x402_version == 1) && plan.iter().any(|c| c.x402_version == 2)
        );
    }

    #[test]
    fn wash_keys_are_fresh() {
        let s = scenario();
        let keys = TrafficKeys::new(&s, BTreeMap::new(), EvmSigner::derive(b"x", "f"));
        let a = keys.payer(Payer::Wash { epoch: 0, k: 0 }).address();
        let b = keys.payer(Payer::Wash { epoch: 1, k: 0 }).address();
        let o = keys.payer(Payer::Organic(0)).address();
        assert_ne!(a, b);
        assert_ne!(a, o);
    }

    #[test]
    fn requirements_shapes() {
        let v1 = requirements(1, "0xab", "n", 5);
        assert_eq!(v1.network, "base");
        assert_eq!(v1.max_amount_required.as_deref(), Some("5"));
        let v2 = requirements(2, "0xab", "n", 5);
        assert_eq!(v2.network, "eip155:8453");
        assert_eq!(v2.amount.as_deref(), Some("5"));
    }
}
