//! Keccak-256 and the canonical EIP-712 digests (EIP-712 §"Specification of the eth_signTypedData
//! JSON RPC": `digest = keccak256(0x19 0x01 || domainSeparator || hashStruct(message))`).
//!
//! Domains:
//! * payments: the token's EIP-3009 domain `EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)`
//!   with `name`/`version` from the requirements' `extra` and `verifyingContract` = the asset;
//! * opg receipts, settlements, heartbeats: `EIP712Domain(string name,string version,bytes32 salt)`
//!   with name `opg-receipt-verifier`, version `1`, salt `sha256(chain_id || verifier address)`;
//! * hardware attestations: the same shape with name `opg-node-registry` and the registry's address.
//!
//! IMPLEMENTATION: filled in by the core work package (see module docs of `verify`).
use crate::receipt::{Heartbeat, InferenceReceipt};
use crate::types::{HardwareAttestation, NodeKey};

/// Keccak-256 (the Ethereum variant, not NIST SHA3-256), computed in Rust (no host function).
pub fn keccak256(data: &[u8]) -> [u8; 32] {
    todo!("core")
}

/// `sha256(chain_id || contract_address)`: the salt of opg's EIP-712 domains. Binds signatures to
/// one deployment so they cannot be replayed on another chain or contract.
pub fn domain_salt(chain_id: &str, contract: &str) -> [u8; 32] {
    todo!("core")
}

/// Domain separator of receipts, settlements and heartbeats:
/// `EIP712Domain(string name,string version,bytes32 salt)`, name `opg-receipt-verifier`, version `1`.
pub fn verifier_domain_separator(chain_id: &str, verifier: &str) -> [u8; 32] {
    todo!("core")
}

/// Domain separator of hardware attestations: name `opg-node-registry`, version `1`, salt over the
/// registry address.
pub fn registry_domain_separator(chain_id: &str, registry: &str) -> [u8; 32] {
    todo!("core")
}

/// The EIP-3009 token domain separator
/// `EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)`.
pub fn token_domain_separator(name: &str, version: &str, chain_id: u64, token: &[u8; 20]) -> [u8; 32] {
    todo!("core")
}

/// `keccak256(0x19 || 0x01 || domain_separator || struct_hash)`.
pub fn typed_data_digest(domain_separator: &[u8; 32], struct_hash: &[u8; 32]) -> [u8; 32] {
    todo!("core")
}

/// The EIP-3009 authorization as typed values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Authorization {
    /// Payer.
    pub from: [u8; 20],
    /// Recipient.
    pub to: [u8; 20],
    /// Value (uint256, restricted to 128 bits by opg).
    pub value: u128,
    /// Unix seconds.
    pub valid_after: u64,
    /// Unix seconds.
    pub valid_before: u64,
    /// bytes32 nonce.
    pub nonce: [u8; 32],
}

/// EIP-712 digest of `TransferWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,bytes32 nonce)`
/// under the token domain: what the payer signs in an x402 `exact` EVM payment.
pub fn transfer_with_authorization_digest(token_domain_separator: &[u8; 32], auth: &Authorization) -> [u8; 32] {
    todo!("core")
}

/// The payment data a node receipt is bound to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaymentBinding {
    /// Payer.
    pub payer: [u8; 20],
    /// EIP-3009 nonce.
    pub nonce: [u8; 32],
    /// Value in token units.
    pub value: u128,
    /// Token address.
    pub asset: [u8; 20],
    /// EVM chain id of the payment network.
    pub chain_id: u64,
}

/// EIP-712 digest of the node's `InferenceReceipt` (type string in [`crate::receipt::InferenceReceipt`]).
/// Errors (`None`) if a digest field is not 32 bytes.
pub fn inference_receipt_digest(verifier_domain_separator: &[u8; 32], payment: &PaymentBinding, receipt: &InferenceReceipt) -> Option<[u8; 32]> {
    todo!("core")
}

/// EIP-712 digest of `Settlement(bytes32 paymentDigest,uint256 chainId,bytes32 txHash,address payer,uint256 value)`.
pub fn settlement_digest(verifier_domain_separator: &[u8; 32], payment_digest: &[u8; 32], chain_id: u64, tx_hash: &[u8; 32], payer: &[u8; 20], value: u128) -> [u8; 32] {
    todo!("core")
}

/// `nodeKeyHash`: keccak256 of the key bytes (20-byte address for secp256k1, 32-byte public key for ed25519).
/// `None` if the key is malformed.
pub fn node_key_hash(key: &NodeKey) -> Option<[u8; 32]> {
    todo!("core")
}

/// EIP-712 digest of `HardwareAttestation(string operator,bytes32 nodeKeyHash,string hardwareClass,bytes32 evidenceDigest,uint64 expiresAt)`.
/// `None` if the evidence digest is not 32 bytes or the key is malformed.
pub fn attestation_digest(registry_domain_separator: &[u8; 32], operator: &str, key: &NodeKey, attestation: &HardwareAttestation) -> Option<[u8; 32]> {
    todo!("core")
}

/// EIP-712 digest of `Heartbeat(string nodeId,uint64 epoch,uint64 timestamp)`.
pub fn heartbeat_digest(verifier_domain_separator: &[u8; 32], heartbeat: &Heartbeat) -> [u8; 32] {
    todo!("core")
}
