//! Off-chain signing helpers (feature `native`): payers (x402 `exact` EVM payments), nodes
//! (receipts, heartbeats), facilitators (settlements), attesters (hardware attestations).
//! Used by tests, the keeper's `opg simulate` and load generators. Signatures are RFC 6979
//! deterministic, low-s, `v` = 27/28.
use cosmwasm_std::Binary;

use crate::receipt::{Heartbeat, InferenceReceipt, SettlementAttestation, SignedReceipt};
use crate::types::{HardwareAttestation, NodeKey};
use crate::verify::VerifiedPayment;
use crate::x402::{PaymentPayload, PaymentRequirements};

/// A secp256k1 key identified by its EVM address.
#[derive(Clone)]
pub struct EvmSigner {
    key: k256::ecdsa::SigningKey,
}

impl EvmSigner {
    /// From a 32-byte secret scalar. `None` if out of range.
    pub fn from_bytes(secret: &[u8; 32]) -> Option<Self> {
        todo!("core")
    }
    /// A key derived deterministically from `seed` and a label (sha256(seed || label)), for tests and simulations.
    pub fn derive(seed: &[u8], label: &str) -> Self {
        todo!("core")
    }
    /// Lowercase `0x` address.
    pub fn address(&self) -> String {
        todo!("core")
    }
    /// 65-byte `r || s || v` signature over a 32-byte digest, low-s, v in {27, 28}.
    pub fn sign_digest(&self, digest: &[u8; 32]) -> [u8; 65] {
        todo!("core")
    }
}

/// A node's receipt-signing key.
#[derive(Clone)]
pub enum NodeSigner {
    /// secp256k1 (EVM address).
    Secp256k1(EvmSigner),
    /// ed25519.
    Ed25519(ed25519_dalek::SigningKey),
}

impl NodeSigner {
    /// Deterministic key from seed and label; `ed25519` picks the algorithm.
    pub fn derive(seed: &[u8], label: &str, ed25519: bool) -> Self {
        todo!("core")
    }
    /// The registry key.
    pub fn key(&self) -> NodeKey {
        todo!("core")
    }
    /// Signature over a digest: 65 bytes (secp256k1) or 64 bytes (ed25519 over the 32 digest bytes).
    pub fn sign_digest(&self, digest: &[u8; 32]) -> Vec<u8> {
        todo!("core")
    }
}

/// Parameters of one x402 `exact` payment a payer makes.
#[derive(Clone, Debug)]
pub struct PaymentParams {
    /// 1 (`X-PAYMENT`, network name) or 2 (`PAYMENT-SIGNATURE`, CAIP-2, `accepted`).
    pub x402_version: u32,
    /// The requirements (v1 shape for v1 with `maxAmountRequired`, v2 shape with `amount`).
    pub requirements: PaymentRequirements,
    /// Value authorized (token units).
    pub value: u128,
    /// Unix seconds.
    pub valid_after: u64,
    /// Unix seconds.
    pub valid_before: u64,
    /// EIP-3009 nonce.
    pub nonce: [u8; 32],
}

/// Builds and signs a payment as the reference clients do; returns the payload and the header
/// value (base64 of its JSON).
pub fn sign_payment(payer: &EvmSigner, params: &PaymentParams) -> (PaymentPayload, String) {
    todo!("core")
}

/// Node signature over the `InferenceReceipt` digest bound to `payment`.
pub fn sign_receipt(node: &NodeSigner, verifier_domain_separator: &[u8; 32], payment: &VerifiedPayment, receipt: &InferenceReceipt) -> Binary {
    todo!("core")
}

/// A facilitator's settlement attestation for `payment`.
pub fn sign_settlement(facilitator: &EvmSigner, verifier_domain_separator: &[u8; 32], payment: &VerifiedPayment, tx_hash: [u8; 32]) -> SettlementAttestation {
    todo!("core")
}

/// An attester's hardware attestation of `operator`'s node key.
pub fn sign_attestation(attester: &EvmSigner, registry_domain_separator: &[u8; 32], operator: &str, key: &NodeKey, hardware_class: &str, evidence_digest: [u8; 32], expires_at: u64) -> HardwareAttestation {
    todo!("core")
}

/// A node heartbeat.
pub fn sign_heartbeat(node: &NodeSigner, verifier_domain_separator: &[u8; 32], node_id: &str, epoch: u64, timestamp: u64) -> Heartbeat {
    todo!("core")
}

/// Everything for one call: payment by `payer`, receipt by `node`, settlement by `facilitator`
/// (if given). `payment.requirements.pay_to` must be the node's `pay_to`.
#[allow(clippy::too_many_arguments)]
pub fn make_signed_receipt(
    payer: &EvmSigner,
    node: &NodeSigner,
    facilitator: Option<&EvmSigner>,
    verifier_domain_separator: &[u8; 32],
    payment: &PaymentParams,
    receipt: InferenceReceipt,
    tx_hash: [u8; 32],
) -> SignedReceipt {
    todo!("core")
}
