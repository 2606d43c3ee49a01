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
//! `string` fields hash as keccak256 of their UTF-8 bytes; `uint64`/`uint256` and `address` are
//! left-padded 32-byte big-endian words; `bytes32` as is.
use sha2::{Digest as _, Sha256};
use sha3::Keccak256;

use crate::receipt::{Heartbeat, InferenceReceipt};
use crate::types::{HardwareAttestation, NodeKey};

/// Type string of opg's salted domains.
pub const SALTED_DOMAIN_TYPE: &str = "EIP712Domain(string name,string version,bytes32 salt)";
/// Type string of the EIP-3009 token domain.
pub const TOKEN_DOMAIN_TYPE: &str =
    "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)";
/// EIP-3009 `TransferWithAuthorization` type string.
pub const TRANSFER_WITH_AUTHORIZATION_TYPE: &str = "TransferWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,bytes32 nonce)";
/// opg `InferenceReceipt` type string.
pub const INFERENCE_RECEIPT_TYPE: &str = "InferenceReceipt(address payer,bytes32 paymentNonce,uint256 value,address asset,uint256 chainId,string nodeId,string modelId,bytes32 requestDigest,bytes32 responseDigest,uint64 promptTokens,uint64 completionTokens,uint64 servedAt)";
/// opg `Settlement` type string.
pub const SETTLEMENT_TYPE: &str =
    "Settlement(bytes32 paymentDigest,uint256 chainId,bytes32 txHash,address payer,uint256 value)";
/// opg `HardwareAttestation` type string.
pub const HARDWARE_ATTESTATION_TYPE: &str = "HardwareAttestation(string operator,bytes32 nodeKeyHash,string hardwareClass,bytes32 evidenceDigest,uint64 expiresAt)";
/// opg `Heartbeat` type string.
pub const HEARTBEAT_TYPE: &str = "Heartbeat(string nodeId,uint64 epoch,uint64 timestamp)";
/// Type string of the Permit2 domain (no `version`): `{name: "Permit2", chainId, verifyingContract: PERMIT2}`.
pub const PERMIT2_DOMAIN_TYPE: &str =
    "EIP712Domain(string name,uint256 chainId,address verifyingContract)";
/// Permit2 `TokenPermissions` type string.
pub const TOKEN_PERMISSIONS_TYPE: &str = "TokenPermissions(address token,uint256 amount)";
/// Witness of x402 `exact` via Permit2 (`@x402/evm` 2.27.0 `permit2WitnessTypes`).
pub const EXACT_WITNESS_TYPE: &str = "Witness(address to,uint256 validAfter)";
/// Witness of x402 `upto` (`@x402/evm` 2.27.0 `uptoPermit2WitnessTypes`).
pub const UPTO_WITNESS_TYPE: &str = "Witness(address to,address facilitator,uint256 validAfter)";
/// `PermitWitnessTransferFrom` type string of x402 `exact` via Permit2 (referenced types sorted
/// by name, as EIP-712 `encodeType` requires).
pub const EXACT_PERMIT_WITNESS_TRANSFER_FROM_TYPE: &str = "PermitWitnessTransferFrom(TokenPermissions permitted,address spender,uint256 nonce,uint256 deadline,Witness witness)TokenPermissions(address token,uint256 amount)Witness(address to,uint256 validAfter)";
/// `PermitWitnessTransferFrom` type string of x402 `upto`.
pub const UPTO_PERMIT_WITNESS_TRANSFER_FROM_TYPE: &str = "PermitWitnessTransferFrom(TokenPermissions permitted,address spender,uint256 nonce,uint256 deadline,Witness witness)TokenPermissions(address token,uint256 amount)Witness(address to,address facilitator,uint256 validAfter)";
/// EIP-712 domain `name` of the receipt verifier.
pub const VERIFIER_DOMAIN_NAME: &str = "opg-receipt-verifier";
/// EIP-712 domain `name` of the node registry.
pub const REGISTRY_DOMAIN_NAME: &str = "opg-node-registry";
/// EIP-712 domain `version` of opg's domains.
pub const DOMAIN_VERSION: &str = "1";

/// Builds `encodeData` words: each field is one 32-byte word.
struct Encoder(Vec<u8>);

/// `keccak256(type_string)`, computed once per process (on chain: once per contract call, each
/// call being a fresh instance) for the type strings above: a type hash is 1 or 2 keccak-f
/// permutations, and a receipt's digests need four of them (the verifier's Wasm runs keccak
/// itself: there is no host function).
fn type_hash(type_string: &'static str) -> [u8; 32] {
    use std::sync::OnceLock;
    static CACHE: [OnceLock<[u8; 32]>; 8] = [const { OnceLock::new() }; 8];
    let slot = match type_string {
        SALTED_DOMAIN_TYPE => 0,
        TOKEN_DOMAIN_TYPE => 1,
        TRANSFER_WITH_AUTHORIZATION_TYPE => 2,
        INFERENCE_RECEIPT_TYPE => 3,
        SETTLEMENT_TYPE => 4,
        HARDWARE_ATTESTATION_TYPE => 5,
        HEARTBEAT_TYPE => 6,
        _ => return keccak256(type_string.as_bytes()),
    };
    *CACHE[slot].get_or_init(|| keccak256(type_string.as_bytes()))
}

impl Encoder {
    fn new(type_string: &'static str, fields: usize) -> Self {
        let mut v = Vec::with_capacity(32 * (fields + 1));
        v.extend_from_slice(&type_hash(type_string));
        Encoder(v)
    }
    fn word(mut self, w: &[u8; 32]) -> Self {
        self.0.extend_from_slice(w);
        self
    }
    /// `string`: keccak256 of the UTF-8 bytes.
    fn string(self, s: &str) -> Self {
        let h = keccak256(s.as_bytes());
        self.word(&h)
    }
    /// `address`: left-padded to 32 bytes.
    fn address(self, a: &[u8; 20]) -> Self {
        let mut w = [0u8; 32];
        w[12..].copy_from_slice(a);
        self.word(&w)
    }
    /// `uint64` / `uint256` (value fits 128 bits): big-endian, left-padded.
    fn uint(self, v: u128) -> Self {
        let mut w = [0u8; 32];
        w[16..].copy_from_slice(&v.to_be_bytes());
        self.word(&w)
    }
    fn hash(self) -> [u8; 32] {
        keccak256(&self.0)
    }
}

/// A 32-byte slice as an array, `None` for any other length.
fn bytes32(b: &[u8]) -> Option<[u8; 32]> {
    b.try_into().ok()
}

fn salted_domain_separator(name: &str, chain_id: &str, contract: &str) -> [u8; 32] {
    Encoder::new(SALTED_DOMAIN_TYPE, 3)
        .string(name)
        .string(DOMAIN_VERSION)
        .word(&domain_salt(chain_id, contract))
        .hash()
}

/// Keccak-256 (the Ethereum variant, not NIST SHA3-256), computed in Rust (no host function).
pub fn keccak256(data: &[u8]) -> [u8; 32] {
    let mut h = Keccak256::new();
    h.update(data);
    h.finalize().into()
}

/// `sha256(chain_id || contract_address)`: the salt of opg's EIP-712 domains. Binds signatures to
/// one deployment so they cannot be replayed on another chain or contract.
pub fn domain_salt(chain_id: &str, contract: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(chain_id.as_bytes());
    h.update(contract.as_bytes());
    h.finalize().into()
}

/// Domain separator of receipts, settlements and heartbeats:
/// `EIP712Domain(string name,string version,bytes32 salt)`, name `opg-receipt-verifier`, version `1`.
pub fn verifier_domain_separator(chain_id: &str, verifier: &str) -> [u8; 32] {
    salted_domain_separator(VERIFIER_DOMAIN_NAME, chain_id, verifier)
}

/// Domain separator of hardware attestations: name `opg-node-registry`, version `1`, salt over the
/// registry address.
pub fn registry_domain_separator(chain_id: &str, registry: &str) -> [u8; 32] {
    salted_domain_separator(REGISTRY_DOMAIN_NAME, chain_id, registry)
}

/// The EIP-3009 token domain separator
/// `EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)`.
pub fn token_domain_separator(
    name: &str,
    version: &str,
    chain_id: u64,
    token: &[u8; 20],
) -> [u8; 32] {
    // Memo of the last few separators on this thread: a batch pays with one or two tokens, and a
    // separator is five keccak-f permutations in the verifier's Wasm. A pure function, so the
    // memo changes no result.
    type Memo = Vec<((u64, [u8; 20], String, String), [u8; 32])>;
    thread_local! {
        static MEMO: std::cell::RefCell<Memo> = const { std::cell::RefCell::new(Vec::new()) };
    }
    const MEMO_SIZE: usize = 4;
    let hit = MEMO.with(|m| {
        m.borrow()
            .iter()
            .find(|((c, t, n, v), _)| *c == chain_id && t == token && n == name && v == version)
            .map(|(_, d)| *d)
    });
    if let Some(d) = hit {
        return d;
    }
    let d = Encoder::new(TOKEN_DOMAIN_TYPE, 4)
        .string(name)
        .string(version)
        .uint(u128::from(chain_id))
        .address(token)
        .hash();
    MEMO.with(|m| {
        let mut m = m.borrow_mut();
        if m.len() == MEMO_SIZE {
            m.remove(0);
        }
        m.push(((chain_id, *token, name.to_string(), version.to_string()), d));
    });
    d
}

/// The Permit2 domain separator for `chain_id`: `EIP712Domain(string name,uint256 chainId,address verifyingContract)`
/// with name `Permit2` and the canonical Permit2 address (the same on every chain).
pub fn permit2_domain_separator(chain_id: u64) -> [u8; 32] {
    Encoder::new(PERMIT2_DOMAIN_TYPE, 3)
        .string("Permit2")
        .uint(u128::from(chain_id))
        .address(&crate::permit2::PERMIT2_ADDRESS)
        .hash()
}

/// A Permit2 `PermitWitnessTransferFrom` with the x402 witness, as typed values. uint256 fields
/// that opg reads as numbers elsewhere are kept here as the signed 32-byte words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Permit2Transfer {
    /// `permitted.token`.
    pub token: [u8; 20],
    /// `permitted.amount` (uint256, restricted to 128 bits by opg).
    pub amount: u128,
    /// The proxy allowed to call Permit2.
    pub spender: [u8; 20],
    /// Unordered nonce, big-endian uint256.
    pub nonce: [u8; 32],
    /// Deadline, big-endian uint256 (unix seconds).
    pub deadline: [u8; 32],
    /// `witness.to`.
    pub to: [u8; 20],
    /// `witness.facilitator`: `Some` for `upto` (its witness type), `None` for `exact`.
    pub facilitator: Option<[u8; 20]>,
    /// `witness.validAfter`, big-endian uint256 (unix seconds).
    pub valid_after: [u8; 32],
}

/// EIP-712 digest the payer signs for an x402 Permit2 payment: `PermitWitnessTransferFrom` with
/// the `exact` witness `Witness(address to,uint256 validAfter)` or, when `facilitator` is set, the
/// `upto` witness `Witness(address to,address facilitator,uint256 validAfter)`, in
/// [`permit2_domain_separator`] (`@x402/evm` 2.27.0 `permit2WitnessTypes` /
/// `uptoPermit2WitnessTypes`; Permit2's `PermitWitnessTransferFrom` hashing).
pub fn permit2_witness_transfer_digest(
    domain_separator: &[u8; 32],
    t: &Permit2Transfer,
) -> [u8; 32] {
    let permitted = Encoder::new(TOKEN_PERMISSIONS_TYPE, 2)
        .address(&t.token)
        .uint(t.amount)
        .hash();
    let (primary, witness) = match &t.facilitator {
        None => (
            EXACT_PERMIT_WITNESS_TRANSFER_FROM_TYPE,
            Encoder::new(EXACT_WITNESS_TYPE, 2)
                .address(&t.to)
                .word(&t.valid_after)
                .hash(),
        ),
        Some(f) => (
            UPTO_PERMIT_WITNESS_TRANSFER_FROM_TYPE,
            Encoder::new(UPTO_WITNESS_TYPE, 3)
                .address(&t.to)
                .address(f)
                .word(&t.valid_after)
                .hash(),
        ),
    };
    let struct_hash = Encoder::new(primary, 5)
        .word(&permitted)
        .address(&t.spender)
        .word(&t.nonce)
        .word(&t.deadline)
        .word(&witness)
        .hash();
    typed_data_digest(domain_separator, &struct_hash)
}

/// `keccak256(0x19 || 0x01 || domain_separator || struct_hash)`.
pub fn typed_data_digest(domain_separator: &[u8; 32], struct_hash: &[u8; 32]) -> [u8; 32] {
    let mut buf = [0u8; 66];
    buf[0] = 0x19;
    buf[1] = 0x01;
    buf[2..34].copy_from_slice(domain_separator);
    buf[34..].copy_from_slice(struct_hash);
    keccak256(&buf)
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
pub fn transfer_with_authorization_digest(
    token_domain_separator: &[u8; 32],
    auth: &Authorization,
) -> [u8; 32] {
    let struct_hash = Encoder::new(TRANSFER_WITH_AUTHORIZATION_TYPE, 6)
        .address(&auth.from)
        .address(&auth.to)
        .uint(auth.value)
        .uint(u128::from(auth.valid_after))
        .uint(u128::from(auth.valid_before))
        .word(&auth.nonce)
        .hash();
    typed_data_digest(token_domain_separator, &struct_hash)
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
pub fn inference_receipt_digest(
    verifier_domain_separator: &[u8; 32],
    payment: &PaymentBinding,
    receipt: &InferenceReceipt,
) -> Option<[u8; 32]> {
    let request = bytes32(receipt.request_digest.as_slice())?;
    let response = bytes32(receipt.response_digest.as_slice())?;
    let struct_hash = Encoder::new(INFERENCE_RECEIPT_TYPE, 12)
        .address(&payment.payer)
        .word(&payment.nonce)
        .uint(payment.value)
        .address(&payment.asset)
        .uint(u128::from(payment.chain_id))
        .word(&ids_hash(&receipt.node_id, 0))
        .word(&ids_hash(&receipt.model_id, 1))
        .word(&request)
        .word(&response)
        .uint(u128::from(receipt.prompt_tokens))
        .uint(u128::from(receipt.completion_tokens))
        .uint(u128::from(receipt.served_at))
        .hash();
    Some(typed_data_digest(verifier_domain_separator, &struct_hash))
}

/// `keccak256(id)` of a receipt's node id (`slot` 0) or model id (1), with a memo of the last
/// one of each on this thread: a batch's receipts mostly name the same node and model, and each
/// hash is a keccak-f permutation in the verifier's Wasm. A pure function, so the memo changes no
/// result.
fn ids_hash(id: &str, slot: usize) -> [u8; 32] {
    thread_local! {
        static LAST: std::cell::RefCell<[(String, [u8; 32]); 2]> =
            std::cell::RefCell::new(Default::default());
    }
    LAST.with(|last| {
        let mut last = last.borrow_mut();
        let (cached, hash) = &mut last[slot];
        if cached.as_str() != id || *hash == [0u8; 32] {
            *hash = keccak256(id.as_bytes());
            *cached = id.to_string();
        }
        *hash
    })
}

/// EIP-712 digest of `Settlement(bytes32 paymentDigest,uint256 chainId,bytes32 txHash,address payer,uint256 value)`.
pub fn settlement_digest(
    verifier_domain_separator: &[u8; 32],
    payment_digest: &[u8; 32],
    chain_id: u64,
    tx_hash: &[u8; 32],
    payer: &[u8; 20],
    value: u128,
) -> [u8; 32] {
    let struct_hash = Encoder::new(SETTLEMENT_TYPE, 5)
        .word(payment_digest)
        .uint(u128::from(chain_id))
        .word(tx_hash)
        .address(payer)
        .uint(value)
        .hash();
    typed_data_digest(verifier_domain_separator, &struct_hash)
}

/// `nodeKeyHash`: keccak256 of the key bytes (20-byte address for secp256k1, 32-byte public key for ed25519).
/// `None` if the key is malformed.
pub fn node_key_hash(key: &NodeKey) -> Option<[u8; 32]> {
    match key {
        NodeKey::Secp256k1 { address } => {
            let a = crate::verify::parse_evm_address(address)?;
            Some(keccak256(&a))
        }
        NodeKey::Ed25519 { public_key } => {
            let pk = bytes32(public_key.as_slice())?;
            Some(keccak256(&pk))
        }
    }
}

/// EIP-712 digest of `HardwareAttestation(string operator,bytes32 nodeKeyHash,string hardwareClass,bytes32 evidenceDigest,uint64 expiresAt)`.
/// `None` if the evidence digest is not 32 bytes or the key is malformed.
pub fn attestation_digest(
    registry_domain_separator: &[u8; 32],
    operator: &str,
    key: &NodeKey,
    attestation: &HardwareAttestation,
) -> Option<[u8; 32]> {
    let key_hash = node_key_hash(key)?;
    let evidence = bytes32(attestation.evidence_digest.as_slice())?;
    let struct_hash = Encoder::new(HARDWARE_ATTESTATION_TYPE, 5)
        .string(operator)
        .word(&key_hash)
        .string(&attestation.hardware_class)
        .word(&evidence)
        .uint(u128::from(attestation.expires_at))
        .hash();
    Some(typed_data_digest(registry_domain_separator, &struct_hash))
}

/// EIP-712 digest of `Heartbeat(string nodeId,uint64 epoch,uint64 timestamp)`.
pub fn heartbeat_digest(verifier_domain_separator: &[u8; 32], heartbeat: &Heartbeat) -> [u8; 32] {
    let struct_hash = Encoder::new(HEARTBEAT_TYPE, 3)
        .string(&heartbeat.node_id)
        .uint(u128::from(heartbeat.epoch))
        .uint(u128::from(heartbeat.timestamp))
        .hash();
    typed_data_digest(verifier_domain_separator, &struct_hash)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(s: &str) -> [u8; 32] {
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out).unwrap();
        out
    }

    #[test]
    fn keccak_known_vectors() {
        // Ethereum's keccak256 of the empty string and of "abc" (not NIST SHA3-256).
        assert_eq!(
            keccak256(b""),
            h("c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470")
        );
        assert_eq!(
            keccak256(b"abc"),
            h("4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45")
        );
    }

    #[test]
    fn well_known_type_hashes() {
        // The EIP712Domain typehash every EIP-712 token uses, and EIP-3009's
        // TRANSFER_WITH_AUTHORIZATION_TYPEHASH (FiatToken v2 source).
        assert_eq!(
            keccak256(TOKEN_DOMAIN_TYPE.as_bytes()),
            h("8b73c3c69bb8fe3d512ecc4cf759cc79239f7b179b0ffacaa9a75d522b39400f")
        );
        assert_eq!(
            keccak256(TRANSFER_WITH_AUTHORIZATION_TYPE.as_bytes()),
            h("7c7c6cdb67a18743f49ec6fa9b35f50d52ed05cbed4cc592e13b44501c1a2267")
        );
    }

    #[test]
    fn salts_and_domains_separate_deployments() {
        let mut expected = Sha256::new();
        expected.update(b"chain-1cosmos1abc");
        let expected: [u8; 32] = expected.finalize().into();
        assert_eq!(domain_salt("chain-1", "cosmos1abc"), expected);
        let a = verifier_domain_separator("chain-1", "cosmos1abc");
        assert_ne!(a, verifier_domain_separator("chain-2", "cosmos1abc"));
        assert_ne!(a, verifier_domain_separator("chain-1", "cosmos1abd"));
        // Same salt, different name: the registry's domain differs from the verifier's.
        assert_ne!(a, registry_domain_separator("chain-1", "cosmos1abc"));
    }

    #[test]
    fn digests_reject_malformed_fields() {
        let receipt = InferenceReceipt {
            node_id: "n".into(),
            model_id: "m".into(),
            request_digest: vec![0u8; 32].into(),
            response_digest: vec![0u8; 33].into(),
            prompt_tokens: 1,
            completion_tokens: 1,
            served_at: 1,
        };
        let binding = PaymentBinding {
            payer: [1; 20],
            nonce: [2; 32],
            value: 3,
            asset: [4; 20],
            chain_id: 5,
        };
        assert_eq!(inference_receipt_digest(&[0; 32], &binding, &receipt), None);
        let bad_key = NodeKey::Ed25519 {
            public_key: vec![0u8; 31].into(),
        };
        assert_eq!(node_key_hash(&bad_key), None);
        let bad_addr = NodeKey::Secp256k1 {
            address: "0x1234".into(),
        };
        assert_eq!(node_key_hash(&bad_addr), None);
        let ok = NodeKey::Secp256k1 {
            address: "0x00000000000000000000000000000000000000AA".into(),
        };
        let mut expected = [0u8; 20];
        expected[19] = 0xaa;
        assert_eq!(node_key_hash(&ok), Some(keccak256(&expected)));
    }
}
