//! The one verification core (DESIGN §3), generic over [`Crypto`].
//!
//! Used by the `receipt-verifier` contract (with [`crate::crypto::ApiCrypto`]) and the keeper (with
//! `NativeCrypto`), so the two give the same verdict for the same input and time.
use std::collections::BTreeMap;

use cosmwasm_std::Uint128;

use crate::crypto::Crypto;
use crate::epoch::EpochClock;
use crate::msg::pool::LiveNode;
use crate::msg::registry::{NodeInfo, NodesByIdsResponse};
use crate::msg::verifier::AcceptedReceipt;
use crate::reason::RejectReason;
use crate::receipt::{Heartbeat, SignedReceipt};
use crate::types::{NetworkConfig, NodeKey, Provenance};
use crate::x402::{PaymentPayload, PaymentRequirements};

/// Seconds of margin the reference facilitator wants before `validBefore` in `/verify` (x402
/// `exact` EVM scheme: "validBefore is at least 6 seconds in the future").
pub const VALID_BEFORE_MARGIN: u64 = 6;

/// The verifier's policy, as kept in its config.
#[derive(Clone, Debug)]
pub struct VerifierPolicy<'a> {
    /// [`crate::eip712::verifier_domain_separator`] of this deployment.
    pub domain_separator: [u8; 32],
    /// Accepted networks and assets.
    pub networks: &'a [NetworkConfig],
    /// Allow-listed facilitators, lowercase `0x` addresses.
    pub facilitators: &'a [String],
    /// Whether a settlement attestation is required.
    pub require_settlement: bool,
    /// Epoch clock.
    pub clock: EpochClock,
}

/// The registry state a batch needs (from one `NodesByIds` query).
#[derive(Clone, Debug, Default)]
pub struct RegistryView {
    /// Nodes by id.
    pub nodes: BTreeMap<String, NodeInfo>,
    /// Model provenance by model id.
    pub models: BTreeMap<String, Provenance>,
}

impl From<NodesByIdsResponse> for RegistryView {
    fn from(r: NodesByIdsResponse) -> Self {
        RegistryView {
            nodes: r.nodes.into_iter().map(|n| (n.node_id.clone(), n)).collect(),
            models: r.models.into_iter().map(|m| (m.id, m.provenance)).collect(),
        }
    }
}

/// A payment that passed the facilitator-style checks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedPayment {
    /// x402 version (1 or 2).
    pub x402_version: u32,
    /// Payer, lowercase `0x` address.
    pub payer: String,
    /// Recipient (`payTo`), lowercase `0x` address.
    pub pay_to: String,
    /// EVM chain id.
    pub chain_id: u64,
    /// Token, lowercase `0x` address.
    pub asset: String,
    /// Value in token units.
    pub value: Uint128,
    /// EIP-3009 nonce, `0x` + 64 lowercase hex.
    pub nonce: String,
    /// Unix seconds.
    pub valid_after: u64,
    /// Unix seconds.
    pub valid_before: u64,
    /// The EIP-712 digest the payer signed.
    pub payment_digest: [u8; 32],
    /// Typed binding for the node's receipt digest.
    pub binding: crate::eip712::PaymentBinding,
}

/// A rejected receipt, with what could be decoded of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    /// Why.
    pub reason: RejectReason,
    /// Payer, if the payment decoded.
    pub payer: Option<String>,
    /// Nonce, if the payment decoded.
    pub nonce: Option<String>,
}

/// An accepted receipt and, for a local node with a valid attestation, its liveness.
#[derive(Clone, Debug, PartialEq)]
pub struct Verified {
    /// What the receipt amounts to.
    pub accepted: AcceptedReceipt,
    /// `Some` for local nodes (live in the receipt's epoch).
    pub live: Option<LiveNode>,
}

/// Decodes an x402 payment header value (base64 of JSON, standard alphabet, padding optional).
/// Errors: `InvalidPayload`.
pub fn decode_payment_header(header: &str) -> Result<PaymentPayload, RejectReason> {
    todo!("core")
}

/// EVM chain id of an x402 network id: v1 names (`base`, `base-sepolia`, `avalanche`,
/// `avalanche-fuji`, `polygon`, `polygon-amoy`, `sei`, `sei-testnet`, `iotex`, `ethereum`, `sepolia`, ...)
/// or CAIP-2 `eip155:<id>` (v2).
pub fn network_chain_id(network: &str) -> Option<u64> {
    todo!("core")
}

/// Facilitator `/verify` semantics for an `exact` EVM payment, in the reference facilitator's order:
/// version, scheme, network (known, and matching between payload and requirements), `extra.name` /
/// `extra.version`, signature recovers `from` (low-s only), `to == payTo`,
/// `validBefore >= now + valid_before_margin`, `validAfter <= now`, value (v1 `>=
/// maxAmountRequired`, v2 `== amount`). Balance and on-chain nonce state are not checked.
pub fn verify_payment<C: Crypto>(
    crypto: &C,
    payload: &PaymentPayload,
    requirements: &PaymentRequirements,
    now: u64,
    valid_before_margin: u64,
) -> Result<VerifiedPayment, RejectReason> {
    todo!("core")
}

/// Recovers the EVM address that produced a 65-byte `r || s || v` signature (v in {0,1,27,28}) over
/// a 32-byte digest. Rejects high-s (s > n/2), wrong length and unrecoverable signatures.
pub fn recover_evm_address<C: Crypto>(crypto: &C, digest: &[u8; 32], signature: &[u8]) -> Option<[u8; 20]> {
    todo!("core")
}

/// Verifies a node signature over a digest with its registered key.
pub fn verify_node_signature<C: Crypto>(crypto: &C, key: &NodeKey, digest: &[u8; 32], signature: &[u8]) -> bool {
    todo!("core")
}

/// Parses a `0x` + 40 hex EVM address (any case).
pub fn parse_evm_address(s: &str) -> Option<[u8; 20]> {
    todo!("core")
}

/// Lowercase `0x` hex of an address.
pub fn format_evm_address(a: &[u8; 20]) -> String {
    todo!("core")
}

/// Full receipt verification (DESIGN §3) at time `now` (unix seconds), stateless: the caller checks
/// `(payer, nonce)` replay. The payment's time window is checked at `served_at`, not at `now`
/// (receipts are submitted after the fact).
pub fn verify_receipt<C: Crypto>(
    crypto: &C,
    policy: &VerifierPolicy,
    registry: &RegistryView,
    receipt: &SignedReceipt,
    now: u64,
) -> Result<Verified, Rejection> {
    todo!("core")
}

/// Verifies a local node's heartbeat: known, active local node with a valid attestation, signature
/// with its key, `timestamp` inside `epoch`, `timestamp <= now`, epoch open for submission.
pub fn verify_heartbeat<C: Crypto>(
    crypto: &C,
    policy: &VerifierPolicy,
    registry: &RegistryView,
    heartbeat: &Heartbeat,
    now: u64,
) -> Result<LiveNode, RejectReason> {
    todo!("core")
}
