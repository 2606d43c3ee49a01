//! The benchmark's receipts: real x402 payments, node receipts and facilitator settlements
//! signed with the dev keys of the genesis (`DevKeys`), and the signature operations that
//! verifying them takes, recorded once so they can be replayed alone ("raw" rate).
use std::cell::RefCell;
use std::time::{Duration, Instant};

use cosmwasm_std::Binary;
use opg_core::crypto::{Crypto, NativeCrypto};
use opg_core::receipt::{InferenceReceipt, SignedReceipt};
use opg_core::sign::{make_signed_receipt, PaymentParams};
use opg_core::verify::{verify_receipt, RegistryView, VerifierPolicy};
use opg_core::x402::PaymentRequirements;
use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::genesis::{DevKeys, GenesisConfig};

/// Genesis time of the benchmark chains (2023-11-14T22:13:20Z), unix seconds.
pub const T0: u64 = 1_700_000_000;
/// USDC on Base Sepolia, as in the dev genesis.
pub const USDC: &str = "0x036cbd53842c5426634e7929541ec2318f3dcf7e";
/// Distinct payers the receipts cycle through.
const PAYERS: u64 = 64;

/// The dev genesis at [`T0`] with hourly epochs (nodes `proxy-1`, secp256k1 key, and
/// `local-1`, ed25519 key).
pub fn genesis() -> GenesisConfig {
    let mut g = GenesisConfig::dev("opg-bench-seed");
    g.genesis_time = Some(T0);
    g
}

/// `n` receipts (`tag` makes their nonces distinct from another set's), alternating between
/// `proxy-1` (three secp256k1 recoveries to verify) and `local-1` (two recoveries and one
/// ed25519 verification), served in `[served_from, served_from + 900)`, signed in parallel
/// on the rayon pool. `domain` is the verifier's EIP-712 domain separator.
pub fn sign_receipts(
    g: &GenesisConfig,
    domain: &[u8; 32],
    tag: &str,
    n: usize,
    served_from: u64,
) -> Vec<SignedReceipt> {
    let dev = DevKeys::from_genesis(g);
    let payers: Vec<_> = (0..PAYERS).map(|i| dev.payer(i)).collect();
    let proxy = dev.node("proxy-1").expect("dev genesis has proxy-1");
    let local = dev.node("local-1").expect("dev genesis has local-1");
    (0..n)
        .into_par_iter()
        .map(|i| {
            let (node, model) = if i % 2 == 0 {
                (proxy, "openai/gpt-4.1")
            } else {
                (local, "meta-llama/llama-3.1-8b-instruct")
            };
            let value: u128 = 1_000 + (i as u128 % 5_000);
            let served_at = served_from + (i as u64 % 900);
            let requirements = PaymentRequirements {
                resource: Some(format!(
                    "https://{}.invalid/v1/chat/completions",
                    node.node_id
                )),
                description: Some("chat completion".into()),
                mime_type: Some("application/json".into()),
                max_timeout_seconds: Some(60),
                ..PaymentRequirements::exact(
                    1,
                    "base-sepolia",
                    &node.pay_to,
                    USDC,
                    value,
                    "USDC",
                    "2",
                )
            };
            let params = PaymentParams {
                x402_version: 1,
                requirements,
                value,
                valid_after: served_at - 60,
                valid_before: served_at + 3600,
                nonce: Sha256::digest(format!("bench/{tag}/{i}")).into(),
            };
            make_signed_receipt(
                &payers[i % payers.len()],
                &node.signer,
                Some(&dev.facilitator),
                domain,
                &params,
                InferenceReceipt {
                    node_id: node.node_id.clone(),
                    model_id: model.into(),
                    request_digest: Binary::from(Sha256::digest(format!("req/{i}")).to_vec()),
                    response_digest: Binary::from(Sha256::digest(format!("resp/{i}")).to_vec()),
                    prompt_tokens: 100 + (i as u64 % 50),
                    completion_tokens: 200 + (i as u64 % 70),
                    served_at,
                },
                Sha256::digest(format!("settle/{tag}/{i}")).into(),
            )
        })
        .collect()
}

/// One signature operation of a verification.
#[derive(Clone, Debug)]
pub enum SigOp {
    /// secp256k1 public-key recovery: 32-byte hash, 64-byte signature, recovery id.
    Recover([u8; 32], Vec<u8>, u8),
    /// secp256k1 verification under a known key: 32-byte hash, 64-byte signature, SEC1 key.
    Verify([u8; 32], Vec<u8>, Vec<u8>),
    /// ed25519 verification: message, 64-byte signature, 32-byte key.
    Ed25519(Vec<u8>, Vec<u8>, Vec<u8>),
}

impl SigOp {
    /// Runs the operation with the native backend; `true` if it succeeded.
    pub fn run(&self) -> bool {
        match self {
            SigOp::Recover(h, s, id) => NativeCrypto.secp256k1_recover_pubkey(h, s, *id).is_ok(),
            SigOp::Verify(h, s, k) => NativeCrypto.secp256k1_verify(h, s, k),
            SigOp::Ed25519(m, s, k) => NativeCrypto.ed25519_verify(m, s, k),
        }
    }
}

/// A [`Crypto`] that does the native operation and writes down what it was asked.
#[derive(Default)]
struct Recording(RefCell<Vec<SigOp>>);

impl Crypto for Recording {
    fn secp256k1_recover_pubkey(
        &self,
        hash: &[u8],
        sig: &[u8],
        recovery_id: u8,
    ) -> Result<Vec<u8>, ()> {
        if let Ok(h) = <[u8; 32]>::try_from(hash) {
            self.0
                .borrow_mut()
                .push(SigOp::Recover(h, sig.to_vec(), recovery_id));
        }
        NativeCrypto.secp256k1_recover_pubkey(hash, sig, recovery_id)
    }

    fn secp256k1_verify(&self, hash: &[u8], sig: &[u8], public_key: &[u8]) -> bool {
        if let Ok(h) = <[u8; 32]>::try_from(hash) {
            self.0
                .borrow_mut()
                .push(SigOp::Verify(h, sig.to_vec(), public_key.to_vec()));
        }
        NativeCrypto.secp256k1_verify(hash, sig, public_key)
    }

    fn ed25519_verify(&self, msg: &[u8], sig: &[u8], public_key: &[u8]) -> bool {
        self.0.borrow_mut().push(SigOp::Ed25519(
            msg.to_vec(),
            sig.to_vec(),
            public_key.to_vec(),
        ));
        NativeCrypto.ed25519_verify(msg, sig, public_key)
    }
}

/// Verifies every receipt once with the shared core, recording the signature operations it
/// does. Errors if a receipt does not verify (the workload would be wrong).
pub fn record_sig_ops(
    policy: &VerifierPolicy,
    view: &RegistryView,
    receipts: &[SignedReceipt],
    now: u64,
) -> anyhow::Result<Vec<Vec<SigOp>>> {
    receipts
        .par_iter()
        .map(|r| {
            let rec = Recording::default();
            verify_receipt(&rec, policy, view, r, now).map_err(|e| {
                anyhow::anyhow!("a benchmark receipt does not verify: {}", e.reason.as_str())
            })?;
            Ok(rec.0.into_inner())
        })
        .collect()
}

/// Runs `pass` (which processes `per_pass` receipts) until at least `min` elapsed; returns
/// receipts per second.
pub fn rate(per_pass: usize, min: Duration, mut pass: impl FnMut()) -> f64 {
    let started = Instant::now();
    let mut done = 0usize;
    loop {
        pass();
        done += per_pass;
        if started.elapsed() >= min {
            break;
        }
    }
    done as f64 / started.elapsed().as_secs_f64().max(1e-9)
}

/// Receipts per second of the signature checks alone (the recorded operations), all cores.
pub fn raw_sig_rate(ops: &[Vec<SigOp>], min: Duration) -> f64 {
    rate(ops.len(), min, || {
        let ok = ops
            .par_iter()
            .map(|r| r.iter().map(SigOp::run).filter(|ok| *ok).count())
            .sum::<usize>();
        std::hint::black_box(ok);
    })
}

/// Receipts per second of the whole verification core (`verify_receipt`: decoding, checks,
/// EIP-712 hashing and the signatures), all cores.
pub fn core_verify_rate(
    policy: &VerifierPolicy,
    view: &RegistryView,
    receipts: &[SignedReceipt],
    now: u64,
    min: Duration,
) -> f64 {
    rate(receipts.len(), min, || {
        let ok = receipts
            .par_iter()
            .filter(|r| verify_receipt(&NativeCrypto, policy, view, r, now).is_ok())
            .count();
        std::hint::black_box(ok);
    })
}
