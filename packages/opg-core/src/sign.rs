//! Off-chain signing helpers (feature `native`): payers (x402 `exact` EVM payments), nodes
//! (receipts, heartbeats), facilitators (settlements), attesters (hardware attestations).
//! Used by tests, the keeper's `opg simulate` and load generators. Signatures are RFC 6979
//! deterministic, low-s, `v` = 27/28.
use base64::Engine as _;
use cosmwasm_std::{Binary, Uint128};
use ed25519_dalek::Signer as _;
use k256::ecdsa::RecoveryId;
use sha2::{Digest as _, Sha256};

use crate::eip712::{
    attestation_digest, heartbeat_digest, inference_receipt_digest, keccak256,
    permit2_domain_separator, permit2_witness_transfer_digest, settlement_digest,
    token_domain_separator, transfer_with_authorization_digest, Authorization, PaymentBinding,
    Permit2Transfer,
};
use crate::permit2::{
    format_decimal_u256, u256_word, X402_EXACT_PERMIT2_PROXY, X402_UPTO_PERMIT2_PROXY,
};
use crate::receipt::{
    Heartbeat, InferenceReceipt, SettlementAttestation, SignedReceipt, SignerKeys,
};
use crate::types::{HardwareAttestation, NodeKey};
use crate::verify::{format_evm_address, network_chain_id, parse_evm_address, VerifiedPayment};
use crate::x402::{
    ExactEvmAuthorization, ExactEvmPayload, PaymentPayload, PaymentRequirements,
    Permit2Authorization, Permit2TokenPermissions, Permit2Witness, ResourceInfo,
};

/// `sha256(seed || label [|| counter])`: the `counter`-th candidate secret for a derived key.
fn derive_secret(seed: &[u8], label: &str, counter: u32) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(seed);
    h.update(label.as_bytes());
    if counter > 0 {
        h.update(counter.to_be_bytes());
    }
    h.finalize().into()
}

/// EIP-55 mixed-case checksum encoding of an address (what viem's `getAddress` and
/// `account.address` produce).
pub fn checksum_address(a: &[u8; 20]) -> String {
    let lower = hex::encode(a);
    let hash = keccak256(lower.as_bytes());
    let mut out = String::with_capacity(42);
    out.push_str("0x");
    for (i, c) in lower.chars().enumerate() {
        let nibble = (hash[i / 2] >> (if i % 2 == 0 { 4 } else { 0 })) & 0x0f;
        if c.is_ascii_alphabetic() && nibble >= 8 {
            out.push(c.to_ascii_uppercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// A secp256k1 key identified by its EVM address.
#[derive(Clone)]
pub struct EvmSigner {
    key: k256::ecdsa::SigningKey,
}

impl EvmSigner {
    /// From a 32-byte secret scalar. `None` if out of range.
    pub fn from_bytes(secret: &[u8; 32]) -> Option<Self> {
        k256::ecdsa::SigningKey::from_bytes(secret.into())
            .ok()
            .map(|key| EvmSigner { key })
    }
    /// A key derived deterministically from `seed` and a label (sha256(seed || label)), for tests and simulations.
    pub fn derive(seed: &[u8], label: &str) -> Self {
        // A sha256 output is a valid scalar except with probability ~2^-128; retry on failure.
        let mut counter = 0u32;
        loop {
            if let Some(signer) = Self::from_bytes(&derive_secret(seed, label, counter)) {
                return signer;
            }
            counter = counter.wrapping_add(1);
        }
    }
    /// The 20-byte address: `keccak256(uncompressed public key without 0x04)[12..]`.
    pub fn address_bytes(&self) -> [u8; 20] {
        let point = self.key.verifying_key().to_encoded_point(false);
        let hash = keccak256(&point.as_bytes()[1..]);
        let mut out = [0u8; 20];
        out.copy_from_slice(&hash[12..]);
        out
    }
    /// The uncompressed SEC1 public key, 65 bytes `0x04 || x || y` (the form
    /// [`crate::receipt::SignerKeys`] carries).
    pub fn public_key(&self) -> [u8; 65] {
        let point = self.key.verifying_key().to_encoded_point(false);
        let mut out = [0u8; 65];
        out.copy_from_slice(point.as_bytes());
        out
    }
    /// Lowercase `0x` address.
    pub fn address(&self) -> String {
        format_evm_address(&self.address_bytes())
    }
    /// 65-byte `r || s || v` signature over a 32-byte digest, low-s, v in {27, 28}.
    pub fn sign_digest(&self, digest: &[u8; 32]) -> [u8; 65] {
        // Signing a 32-byte prehash with a valid key only fails for a zero/overflowing nonce,
        // which RFC 6979 rules out; fall back to an all-zero (always rejected) signature.
        let Ok((mut sig, mut recid)) = self.key.sign_prehash_recoverable(digest) else {
            return [0u8; 65];
        };
        if let Some(normalized) = sig.normalize_s() {
            sig = normalized;
            recid = RecoveryId::new(!recid.is_y_odd(), recid.is_x_reduced());
        }
        let mut out = [0u8; 65];
        out[..64].copy_from_slice(&sig.to_bytes());
        out[64] = 27 + recid.to_byte();
        out
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
        if ed25519 {
            NodeSigner::Ed25519(ed25519_dalek::SigningKey::from_bytes(&derive_secret(
                seed, label, 0,
            )))
        } else {
            NodeSigner::Secp256k1(EvmSigner::derive(seed, label))
        }
    }
    /// The registry key.
    pub fn key(&self) -> NodeKey {
        match self {
            NodeSigner::Secp256k1(s) => NodeKey::Secp256k1 {
                address: s.address(),
            },
            NodeSigner::Ed25519(k) => NodeKey::Ed25519 {
                public_key: Binary::from(k.verifying_key().to_bytes().to_vec()),
            },
        }
    }
    /// Signature over a digest: 65 bytes (secp256k1) or 64 bytes (ed25519 over the 32 digest bytes).
    pub fn sign_digest(&self, digest: &[u8; 32]) -> Vec<u8> {
        match self {
            NodeSigner::Secp256k1(s) => s.sign_digest(digest).to_vec(),
            NodeSigner::Ed25519(k) => k.sign(digest).to_bytes().to_vec(),
        }
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
    let facts = payment_facts(payer, params);
    let req = &params.requirements;
    let signature = format!(
        "0x{}",
        hex::encode(payer.sign_digest(&facts.payment_digest))
    );
    let authorization = ExactEvmAuthorization {
        from: checksum_address(&payer.address_bytes()),
        // v1 copies `payTo` as given, v2 checksums it (reference clients).
        to: match (params.x402_version, parse_evm_address(&req.pay_to)) {
            (1, _) | (_, None) => req.pay_to.clone(),
            (_, Some(a)) => checksum_address(&a),
        },
        value: params.value.to_string(),
        valid_after: params.valid_after.to_string(),
        valid_before: params.valid_before.to_string(),
        nonce: format!("0x{}", hex::encode(params.nonce)),
    };
    let payload = if params.x402_version == 1 {
        PaymentPayload {
            x402_version: 1,
            scheme: Some(req.scheme.clone()),
            network: Some(req.network.clone()),
            accepted: None,
            resource: None,
            payload: ExactEvmPayload {
                signature,
                authorization: Some(authorization),
                permit2_authorization: None,
            },
        }
    } else {
        PaymentPayload {
            x402_version: params.x402_version,
            scheme: None,
            network: None,
            accepted: Some(req.clone()),
            resource: req.resource.as_ref().map(|url| ResourceInfo {
                url: url.clone(),
                description: req.description.clone(),
                mime_type: req.mime_type.clone(),
            }),
            payload: ExactEvmPayload {
                signature,
                authorization: Some(authorization),
                permit2_authorization: None,
            },
        }
    };
    let json = serde_json::to_vec(&payload).expect("PaymentPayload serializes to JSON");
    let header = base64::engine::general_purpose::STANDARD.encode(json);
    (payload, header)
}

/// Parameters of one x402 Permit2 payment (protocol v2): `exact` with
/// `extra.assetTransferMethod: "permit2"` or `upto`, as `@x402/evm` 2.27.0's clients build them.
#[derive(Clone, Debug)]
pub struct Permit2Params {
    /// v2 requirements, scheme `exact` or `upto` ([`PaymentRequirements::permit2`]).
    pub requirements: PaymentRequirements,
    /// `permitted.amount`: the price (`exact`) or the signed maximum (`upto`), token units.
    pub amount: u128,
    /// `witness.validAfter`, unix seconds.
    pub valid_after: u64,
    /// `deadline`, unix seconds (inclusive).
    pub deadline: u64,
    /// Permit2 unordered nonce (big-endian uint256).
    pub nonce: [u8; 32],
    /// `upto`: `witness.facilitator`; `exact`: `None`.
    pub facilitator: Option<[u8; 20]>,
}

impl Permit2Params {
    fn transfer(&self) -> Permit2Transfer {
        let req = &self.requirements;
        Permit2Transfer {
            token: parse_evm_address(&req.asset).unwrap_or([0u8; 20]),
            amount: self.amount,
            spender: match self.facilitator {
                None => X402_EXACT_PERMIT2_PROXY,
                Some(_) => X402_UPTO_PERMIT2_PROXY,
            },
            nonce: self.nonce,
            deadline: u256_word(u128::from(self.deadline)),
            to: parse_evm_address(&req.pay_to).unwrap_or([0u8; 20]),
            facilitator: self.facilitator,
            valid_after: u256_word(u128::from(self.valid_after)),
        }
    }
}

/// Builds and signs a Permit2 payment as `@x402/evm` 2.27.0's clients do (addresses EIP-55,
/// uint256 fields decimal strings, 65-byte low-s signature with `v` 27/28); returns the payload
/// and the header value (base64 of its JSON).
pub fn sign_permit2_payment(payer: &EvmSigner, params: &Permit2Params) -> (PaymentPayload, String) {
    let t = params.transfer();
    let req = &params.requirements;
    let chain_id = network_chain_id(&req.network).unwrap_or(0);
    let digest = permit2_witness_transfer_digest(&permit2_domain_separator(chain_id), &t);
    let authorization = Permit2Authorization {
        from: checksum_address(&payer.address_bytes()),
        permitted: Permit2TokenPermissions {
            token: checksum_address(&t.token),
            amount: t.amount.to_string(),
        },
        spender: checksum_address(&t.spender),
        nonce: format_decimal_u256(&t.nonce),
        deadline: params.deadline.to_string(),
        witness: Permit2Witness {
            to: checksum_address(&t.to),
            facilitator: t.facilitator.map(|f| checksum_address(&f)),
            valid_after: params.valid_after.to_string(),
        },
    };
    let payload = PaymentPayload {
        x402_version: 2,
        scheme: None,
        network: None,
        accepted: Some(req.clone()),
        resource: None,
        payload: ExactEvmPayload {
            signature: format!("0x{}", hex::encode(payer.sign_digest(&digest))),
            authorization: None,
            permit2_authorization: Some(authorization),
        },
    };
    let json = serde_json::to_vec(&payload).expect("PaymentPayload serializes to JSON");
    let header = base64::engine::general_purpose::STANDARD.encode(json);
    (payload, header)
}

/// The Permit2 payment `params` describe, as the verifier sees it after its checks (none are
/// done here); `settled` is the `upto` settled amount, which becomes the value (for `exact` pass
/// `None`: the value is `amount`).
pub fn permit2_payment_facts(
    payer: &EvmSigner,
    params: &Permit2Params,
    settled: Option<u128>,
) -> VerifiedPayment {
    let t = params.transfer();
    let chain_id = network_chain_id(&params.requirements.network).unwrap_or(0);
    let from = payer.address_bytes();
    let value = settled.unwrap_or(params.amount);
    VerifiedPayment {
        x402_version: 2,
        payer: format_evm_address(&from),
        pay_to: format_evm_address(&t.to),
        chain_id,
        asset: format_evm_address(&t.token),
        value: Uint128::new(value),
        nonce: format!("0x{}", hex::encode(params.nonce)),
        valid_after: params.valid_after,
        valid_before: params.deadline.saturating_add(1),
        payment_digest: permit2_witness_transfer_digest(&permit2_domain_separator(chain_id), &t),
        binding: PaymentBinding {
            payer: from,
            nonce: params.nonce,
            value,
            asset: t.token,
            chain_id,
        },
    }
}

/// Everything for one Permit2 call: payment by `payer`, receipt by `node` and settlement by
/// `facilitator` (if given). `settled`: the `upto` settled amount, stated in the attestation
/// ([`sign_upto_settlement`]); `None` for `exact`.
#[allow(clippy::too_many_arguments)]
pub fn make_signed_permit2_receipt(
    payer: &EvmSigner,
    node: &NodeSigner,
    facilitator: Option<&EvmSigner>,
    verifier_domain_separator: &[u8; 32],
    params: &Permit2Params,
    receipt: InferenceReceipt,
    tx_hash: [u8; 32],
    settled: Option<u128>,
) -> SignedReceipt {
    let (_, header) = sign_permit2_payment(payer, params);
    let facts = permit2_payment_facts(payer, params, settled);
    let node_signature = sign_receipt(node, verifier_domain_separator, &facts, &receipt);
    let settlement = facilitator.map(|f| match settled {
        Some(a) => sign_upto_settlement(f, verifier_domain_separator, &facts, tx_hash, a),
        None => sign_settlement(f, verifier_domain_separator, &facts, tx_hash),
    });
    SignedReceipt {
        payment: header,
        requirements: params.requirements.clone(),
        receipt,
        node_signature,
        settlement,
        signer_keys: None,
    }
}

/// A facilitator's attestation that an `upto` payment settled `amount` (token units): the
/// `Settlement` digest with `value = amount`, and `amount` stated in the attestation.
pub fn sign_upto_settlement(
    facilitator: &EvmSigner,
    verifier_domain_separator: &[u8; 32],
    payment: &VerifiedPayment,
    tx_hash: [u8; 32],
    amount: u128,
) -> SettlementAttestation {
    let digest = settlement_digest(
        verifier_domain_separator,
        &payment.payment_digest,
        payment.chain_id,
        &tx_hash,
        &payment.binding.payer,
        amount,
    );
    SettlementAttestation {
        tx_hash: Binary::from(tx_hash.to_vec()),
        facilitator: facilitator.address(),
        signature: Binary::from(facilitator.sign_digest(&digest).to_vec()),
        amount: Some(Uint128::new(amount)),
    }
}

/// Node signature over the `InferenceReceipt` digest bound to `payment`.
pub fn sign_receipt(
    node: &NodeSigner,
    verifier_domain_separator: &[u8; 32],
    payment: &VerifiedPayment,
    receipt: &InferenceReceipt,
) -> Binary {
    match inference_receipt_digest(verifier_domain_separator, &payment.binding, receipt) {
        Some(digest) => Binary::from(node.sign_digest(&digest)),
        // A digest field is not 32 bytes: nothing can be signed; the verifier rejects the receipt.
        None => Binary::default(),
    }
}

/// A facilitator's settlement attestation for `payment`.
pub fn sign_settlement(
    facilitator: &EvmSigner,
    verifier_domain_separator: &[u8; 32],
    payment: &VerifiedPayment,
    tx_hash: [u8; 32],
) -> SettlementAttestation {
    let digest = settlement_digest(
        verifier_domain_separator,
        &payment.payment_digest,
        payment.chain_id,
        &tx_hash,
        &payment.binding.payer,
        payment.binding.value,
    );
    SettlementAttestation {
        tx_hash: Binary::from(tx_hash.to_vec()),
        facilitator: facilitator.address(),
        signature: Binary::from(facilitator.sign_digest(&digest).to_vec()),
        amount: None,
    }
}

/// An attester's hardware attestation of `operator`'s node key.
pub fn sign_attestation(
    attester: &EvmSigner,
    registry_domain_separator: &[u8; 32],
    operator: &str,
    key: &NodeKey,
    hardware_class: &str,
    evidence_digest: [u8; 32],
    expires_at: u64,
) -> HardwareAttestation {
    let mut attestation = HardwareAttestation {
        hardware_class: hardware_class.to_string(),
        evidence_digest: Binary::from(evidence_digest.to_vec()),
        expires_at,
        attester: attester.address(),
        signature: Binary::default(),
    };
    // A malformed key cannot be hashed: the signature stays empty and the registry rejects it.
    if let Some(digest) = attestation_digest(registry_domain_separator, operator, key, &attestation)
    {
        attestation.signature = Binary::from(attester.sign_digest(&digest).to_vec());
    }
    attestation
}

/// A node heartbeat.
pub fn sign_heartbeat(
    node: &NodeSigner,
    verifier_domain_separator: &[u8; 32],
    node_id: &str,
    epoch: u64,
    timestamp: u64,
) -> Heartbeat {
    let mut heartbeat = Heartbeat {
        node_id: node_id.to_string(),
        epoch,
        timestamp,
        signature: Binary::default(),
    };
    let digest = heartbeat_digest(verifier_domain_separator, &heartbeat);
    heartbeat.signature = Binary::from(node.sign_digest(&digest));
    heartbeat
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
    let (_, header) = sign_payment(payer, payment);
    let facts = payment_facts(payer, payment);
    let node_signature = sign_receipt(node, verifier_domain_separator, &facts, &receipt);
    let settlement =
        facilitator.map(|f| sign_settlement(f, verifier_domain_separator, &facts, tx_hash));
    SignedReceipt {
        payment: header,
        requirements: payment.requirements.clone(),
        receipt,
        node_signature,
        settlement,
        signer_keys: None,
    }
}

/// The [`SignerKeys`] of a receipt by these signers, as a keeper attaches them after verifying it
/// (and as `verify_receipt` reports them): payer, node if secp256k1, facilitator if given.
pub fn signer_keys_of(
    payer: &EvmSigner,
    node: &NodeSigner,
    facilitator: Option<&EvmSigner>,
) -> SignerKeys {
    let key = |k: [u8; 65]| Binary::new(k.to_vec());
    SignerKeys {
        payer: Some(key(payer.public_key())),
        node: match node {
            NodeSigner::Secp256k1(s) => Some(key(s.public_key())),
            NodeSigner::Ed25519(_) => None,
        },
        facilitator: facilitator.map(|f| key(f.public_key())),
    }
}

/// The payment `params` describe, as the verifier would see it after checks (no checks are done).
/// Malformed requirements (unknown network, missing `extra`, bad asset) give chain id 0, empty
/// domain strings or the zero address: the resulting payment is signed but the verifier rejects it.
pub fn payment_facts(payer: &EvmSigner, params: &PaymentParams) -> VerifiedPayment {
    let req = &params.requirements;
    let chain_id = network_chain_id(&req.network).unwrap_or(0);
    let asset = parse_evm_address(&req.asset).unwrap_or([0u8; 20]);
    let pay_to = parse_evm_address(&req.pay_to).unwrap_or([0u8; 20]);
    let extra = req.extra.clone().unwrap_or_default();
    let domain = token_domain_separator(
        extra.name.as_deref().unwrap_or(""),
        extra.version.as_deref().unwrap_or(""),
        chain_id,
        &asset,
    );
    let from = payer.address_bytes();
    let auth = Authorization {
        from,
        to: pay_to,
        value: params.value,
        valid_after: params.valid_after,
        valid_before: params.valid_before,
        nonce: params.nonce,
    };
    VerifiedPayment {
        x402_version: params.x402_version,
        payer: format_evm_address(&from),
        pay_to: format_evm_address(&pay_to),
        chain_id,
        asset: format_evm_address(&asset),
        value: Uint128::new(params.value),
        nonce: format!("0x{}", hex::encode(params.nonce)),
        valid_after: params.valid_after,
        valid_before: params.valid_before,
        payment_digest: transfer_with_authorization_digest(&domain, &auth),
        binding: PaymentBinding {
            payer: from,
            nonce: params.nonce,
            value: params.value,
            asset,
            chain_id,
        },
    }
}
