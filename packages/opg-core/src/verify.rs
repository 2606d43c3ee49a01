//! The one verification core (DESIGN §3), generic over [`Crypto`].
//!
//! Used by the `receipt-verifier` contract (with [`crate::crypto::ApiCrypto`]) and the keeper (with
//! `NativeCrypto`), so the two give the same verdict for the same input and time.
use std::collections::BTreeMap;

use cosmwasm_std::Uint128;

use crate::crypto::Crypto;
use crate::eip712::{
    heartbeat_digest, inference_receipt_digest, keccak256, permit2_domain_separator,
    permit2_witness_transfer_digest, settlement_digest, token_domain_separator,
    transfer_with_authorization_digest, Authorization, PaymentBinding, Permit2Transfer,
};
use crate::epoch::EpochClock;
use crate::msg::pool::LiveNode;
use crate::msg::registry::{NodeInfo, NodesByIdsResponse};
use crate::msg::verifier::AcceptedReceipt;
use crate::reason::RejectReason;
use crate::receipt::{Heartbeat, InferenceReceipt, SignedReceipt, SignerKeys};
use crate::types::{NetworkConfig, NodeKey, NodeKindTag, NodeStatus, Provenance};
use crate::x402::{PaymentPayload, PaymentRequirements, Permit2Authorization};

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
    /// Allow-listed facilitators, parsed once per batch (the config stores them as lowercase
    /// `0x` strings; the verifier caps the list at 32).
    pub facilitators: Vec<[u8; 20]>,
    /// Whether a settlement attestation is required.
    pub require_settlement: bool,
    /// Epoch clock.
    pub clock: EpochClock,
}

/// The facilitator allow-list of a [`VerifierPolicy`]: each `0x` + 40 hex address parsed once
/// (any case); entries that are not addresses are left out (the verifier's config holds none).
pub fn parse_facilitators(list: &[String]) -> Vec<[u8; 20]> {
    list.iter().filter_map(|f| parse_evm_address(f)).collect()
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
            nodes: r
                .nodes
                .into_iter()
                .map(|n| (n.node_id.clone(), n))
                .collect(),
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
    /// Unix seconds, exclusive: EIP-3009 `validBefore`; Permit2 `deadline + 1` (the deadline
    /// itself is valid on chain).
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
    /// The payment's typed facts (payer and nonce bytes, value, asset, chain id), so callers
    /// need not parse `accepted`'s hex strings again.
    pub binding: crate::eip712::PaymentBinding,
    /// The payment's `validBefore` (unix seconds): the replay guard keys nonces by the last epoch
    /// the payment could be served in.
    pub valid_before: u64,
    /// The secp256k1 signers' public keys (65 bytes each), recovered or taken from the receipt's
    /// valid hints: a submitter attaches them ([`SignedReceipt::signer_keys`]) so the chain
    /// verifies instead of recovering. `node` is `None` for ed25519 nodes, `facilitator` without a
    /// settlement.
    pub signer_keys: SignerKeys,
}

/// Decodes an x402 payment header value (base64 of JSON, standard alphabet, padding optional).
/// Errors: `InvalidPayload`.
pub fn decode_payment_header(header: &str) -> Result<PaymentPayload, RejectReason> {
    use base64::Engine as _;
    let bytes = BASE64_PAD_INDIFFERENT
        .decode(header.trim().as_bytes())
        .map_err(|_| RejectReason::InvalidPayload)?;
    cosmwasm_std::from_json(bytes).map_err(|_| RejectReason::InvalidPayload)
}

/// EVM chain id of an x402 network id: v1 names (`base`, `base-sepolia`, `avalanche`,
/// `avalanche-fuji`, `polygon`, `polygon-amoy`, `sei`, `sei-testnet`, `iotex`, `ethereum`, `sepolia`, ...)
/// or CAIP-2 `eip155:<id>` (v2).
pub fn network_chain_id(network: &str) -> Option<u64> {
    if let Some(id) = network.strip_prefix("eip155:") {
        return parse_decimal_u64(id).filter(|id| *id != 0);
    }
    v1_network_chain_id(network)
}

/// Facilitator `/verify` semantics for an `exact` EVM payment, in the reference facilitator's order:
/// version, scheme, network (known, and matching between payload and requirements), `extra.name` /
/// `extra.version`, signature recovers `from` (low-s only), `to == payTo`,
/// `validBefore >= now + valid_before_margin`, `validAfter <= now`, value (v1 `>=
/// maxAmountRequired`, v2 `== amount`). Balance and on-chain nonce state are not checked.
///
/// Differences from the reference facilitators (all stricter): `extra.name`/`extra.version` are
/// required in v1 too (no default token name); a v1 payload's network must be the requirements'
/// chain (the v1 reference only reads the payload's); only 65-byte EOA signatures (no EIP-1271 /
/// ERC-6492 smart-wallet signatures, no 64-byte compact form); high-s is rejected; amounts must fit
/// 128 bits and times 64 bits (`InvalidPayload`). Malformed `asset`, `payTo` or amount in the
/// requirements give `InvalidPaymentRequirements`.
///
/// Permit2 payloads (`permit2Authorization`: `exact` via Permit2 and `upto`) are checked as
/// [`verify_payment_with_facilitators`] does with no allowed facilitator (every `upto` payment is
/// then `UptoFacilitatorMismatch`).
pub fn verify_payment<C: Crypto>(
    crypto: &C,
    payload: &PaymentPayload,
    requirements: &PaymentRequirements,
    now: u64,
    valid_before_margin: u64,
) -> Result<VerifiedPayment, RejectReason> {
    verify_payment_with_facilitators(crypto, payload, requirements, now, valid_before_margin, &[])
}

/// [`verify_payment`] for every x402 EVM payment kind, with the facilitators allowed to settle
/// `upto` payments (`witness.facilitator` must be one of them).
///
/// Permit2 payloads (v2 only; `@x402/evm` 2.27.0 `verifyPermit2` / `verifyUptoPermit2` order):
/// scheme (`exact` or `upto` in both `accepted` and the requirements, `InvalidScheme`), network
/// (`InvalidNetwork`), field parsing (`InvalidPaymentRequirements` / `InvalidPayload`; `upto`
/// without `witness.facilitator`: `UnsupportedPayloadType`), spender is the scheme's x402 proxy
/// (`InvalidPermit2Spender`), `witness.to == payTo` (`InvalidPermit2RecipientMismatch`), `upto`:
/// `witness.facilitator` allowed (`UptoFacilitatorMismatch`), `deadline >= now + margin`
/// (`Permit2DeadlineExpired`), `validAfter <= now` (`Permit2NotYetValid`),
/// `permitted.amount == amount` (`Permit2AmountMismatch`), `permitted.token == asset`
/// (`Permit2TokenMismatch`), then the signature (`InvalidPermit2Signature`; the chain's rules, see
/// [`crate::permit2`]). `extra.name`/`extra.version` are not read (the Permit2 domain is fixed).
pub fn verify_payment_with_facilitators<C: Crypto>(
    crypto: &C,
    payload: &PaymentPayload,
    requirements: &PaymentRequirements,
    now: u64,
    valid_before_margin: u64,
    facilitators: &[[u8; 20]],
) -> Result<VerifiedPayment, RejectReason> {
    let parsed = parse_payment(payload, requirements)?;
    let window = Window::Facilitator {
        now,
        margin: valid_before_margin,
    };
    if parsed.permit2.is_some() {
        // The Permit2 reference checks the terms before the signature.
        parsed.check_terms(window, facilitators)?;
        parsed.verify_signature(crypto, &KeyBook::default())?;
    } else {
        parsed.verify_signature(crypto, &KeyBook::default())?;
        parsed.check_terms(window, facilitators)?;
    }
    Ok(parsed.into_verified())
}

/// The payer and nonce a payment claims, unverified (lowercase `0x` address, `0x` + 64 hex):
/// EIP-3009 `authorization.from`/`nonce`, or Permit2 `from` and the decimal nonce as a 32-byte
/// word. `None` where absent or malformed.
pub fn claimed_payer_and_nonce(payload: &PaymentPayload) -> (Option<String>, Option<String>) {
    let p = &payload.payload;
    let (from, nonce) = match (&p.authorization, &p.permit2_authorization) {
        (Some(a), _) => (&a.from, parse_nonce(&a.nonce)),
        (None, Some(a)) => (&a.from, crate::permit2::parse_decimal_u256(&a.nonce)),
        (None, None) => return (None, None),
    };
    (
        parse_evm_address(from).map(|a| format_evm_address(&a)),
        nonce.map(|n| format_nonce(&n)),
    )
}

/// Whether a Permit2 signature (65-byte with `v` 27/28, or 64-byte EIP-2098; high-s accepted as
/// on chain, see [`crate::permit2::split_permit2_signature`]) over `digest` is `expected`'s; on
/// success the signer's public key. Uses `keys` as [`check_evm_signature`] does.
pub fn check_permit2_signature<C: Crypto>(
    crypto: &C,
    digest: &[u8; 32],
    signature: &[u8],
    expected: &[u8; 20],
    keys: &KeyBook,
) -> Option<[u8; 65]> {
    let (rs, recovery_id) = crate::permit2::split_permit2_signature(signature)?;
    if let Some(key) = keys.0.get(expected) {
        return crypto.secp256k1_verify(digest, &rs, key).then_some(*key);
    }
    let pubkey = crypto
        .secp256k1_recover_pubkey(digest, &rs, recovery_id)
        .ok()?;
    let key: [u8; 65] = pubkey.as_slice().try_into().ok()?;
    (evm_address_of(&key)? == *expected).then_some(key)
}

/// Splits a 65-byte `r || s || v` EVM signature (v in {0,1,27,28}) into `r || s` and the recovery
/// id. `None` for a wrong length or `v`, a zero `r` or `s`, or high-s (s > n/2, which USDC's
/// `transferWithAuthorization` refuses).
fn split_evm_signature(signature: &[u8]) -> Option<(&[u8], u8)> {
    if signature.len() != 65 {
        return None;
    }
    let (rs, v) = signature.split_at(64);
    let recovery_id = match v[0] {
        0 | 27 => 0,
        1 | 28 => 1,
        _ => return None,
    };
    let (r, s) = rs.split_at(32);
    if r.iter().all(|b| *b == 0) || s.iter().all(|b| *b == 0) || s > &SECP256K1_HALF_ORDER[..] {
        return None;
    }
    Some((rs, recovery_id))
}

/// The EVM address of an uncompressed SEC1 public key (65 bytes, `0x04 || x || y`): the last 20
/// bytes of `keccak256(x || y)`. `None` for any other length or prefix.
pub fn evm_address_of(public_key: &[u8]) -> Option<[u8; 20]> {
    if public_key.len() != 65 || public_key[0] != 0x04 {
        return None;
    }
    let hash = keccak256(&public_key[1..]);
    let mut address = [0u8; 20];
    address.copy_from_slice(&hash[12..]);
    Some(address)
}

/// Recovers the EVM address and the uncompressed public key (65 bytes) that produced a 65-byte
/// `r || s || v` signature over a 32-byte digest. `None` as in [`recover_evm_address`].
pub fn recover_evm_signer<C: Crypto>(
    crypto: &C,
    digest: &[u8; 32],
    signature: &[u8],
) -> Option<([u8; 20], [u8; 65])> {
    let (rs, recovery_id) = split_evm_signature(signature)?;
    let pubkey = crypto
        .secp256k1_recover_pubkey(digest, rs, recovery_id)
        .ok()?;
    let key: [u8; 65] = pubkey.as_slice().try_into().ok()?;
    Some((evm_address_of(&key)?, key))
}

/// Recovers the EVM address that produced a 65-byte `r || s || v` signature (v in {0,1,27,28}) over
/// a 32-byte digest. Rejects high-s (s > n/2), wrong length and unrecoverable signatures.
pub fn recover_evm_address<C: Crypto>(
    crypto: &C,
    digest: &[u8; 32],
    signature: &[u8],
) -> Option<[u8; 20]> {
    recover_evm_signer(crypto, digest, signature).map(|(address, _)| address)
}

/// Whether a 65-byte `r || s || v` signature over `digest` is `expected`'s; on success, the
/// signer's uncompressed public key.
///
/// When `keys` holds `expected`'s key, the signature is checked with `secp256k1_verify` under it
/// (about half the cost of a recovery, on chain and off); it must still be well formed
/// ([`recover_evm_address`]'s rules) but `v`'s parity is not checked. Otherwise the key is
/// recovered.
pub fn check_evm_signature<C: Crypto>(
    crypto: &C,
    digest: &[u8; 32],
    signature: &[u8],
    expected: &[u8; 20],
    keys: &KeyBook,
) -> Option<[u8; 65]> {
    if let Some(key) = keys.0.get(expected) {
        let (rs, _) = split_evm_signature(signature)?;
        return crypto.secp256k1_verify(digest, rs, key).then_some(*key);
    }
    match recover_evm_signer(crypto, digest, signature)? {
        (address, key) if address == *expected => Some(key),
        _ => None,
    }
}

/// Public keys of the secp256k1 signers of a batch, by EVM address: every well-formed key
/// (65 bytes, `0x04 || x || y`) of the receipts' [`SignedReceipt::signer_keys`], whichever field
/// it came in. A key is only ever used for the address it hashes to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeyBook(BTreeMap<[u8; 20], [u8; 65]>);

impl KeyBook {
    /// The well-formed keys among `keys`, each under its address (one keccak-256 per key);
    /// anything else is ignored.
    pub fn from_keys<'a>(keys: impl IntoIterator<Item = &'a [u8]>) -> Self {
        KeyBook(
            keys.into_iter()
                .filter_map(|k| Some((evm_address_of(k)?, k.try_into().ok()?)))
                .collect(),
        )
    }

    /// Collects the keys of `receipts`, whichever [`SignerKeys`] field they came in.
    pub fn from_receipts<'a>(receipts: impl IntoIterator<Item = &'a SignedReceipt>) -> Self {
        Self::from_keys(
            receipts
                .into_iter()
                .filter_map(|r| r.signer_keys.as_ref())
                .flat_map(|k| [&k.payer, &k.node, &k.facilitator])
                .flatten()
                .map(|k| k.as_slice()),
        )
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Verifies a node signature over a digest with its registered key.
pub fn verify_node_signature<C: Crypto>(
    crypto: &C,
    key: &NodeKey,
    digest: &[u8; 32],
    signature: &[u8],
) -> bool {
    check_node_signature(crypto, key, digest, signature, &KeyBook::default()).is_some()
}

/// [`verify_node_signature`] with the batch's public keys for secp256k1 node keys (see
/// [`check_evm_signature`]). On success: `Some(Some(key))` for a secp256k1 node (its 65-byte
/// public key), `Some(None)` for ed25519.
pub fn check_node_signature<C: Crypto>(
    crypto: &C,
    key: &NodeKey,
    digest: &[u8; 32],
    signature: &[u8],
    keys: &KeyBook,
) -> Option<Option<[u8; 65]>> {
    match key {
        NodeKey::Secp256k1 { address } => {
            let expected = parse_evm_address(address)?;
            check_evm_signature(crypto, digest, signature, &expected, keys).map(Some)
        }
        NodeKey::Ed25519 { public_key } => (public_key.len() == 32
            && signature.len() == 64
            && crypto.ed25519_verify(digest, signature, public_key.as_slice()))
        .then_some(None),
    }
}

/// Parses a `0x` + 40 hex EVM address (any case).
pub fn parse_evm_address(s: &str) -> Option<[u8; 20]> {
    let h = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X"))?;
    if h.len() != 40 {
        return None;
    }
    let mut out = [0u8; 20];
    hex::decode_to_slice(h, &mut out).ok()?;
    Some(out)
}

/// Lowercase `0x` hex of an address.
pub fn format_evm_address(a: &[u8; 20]) -> String {
    format!("0x{}", hex::encode(a))
}

/// Full receipt verification (DESIGN §3) at time `now` (unix seconds), stateless: the caller checks
/// `(payer, nonce)` replay. The payment's time window is checked at `served_at`, not at `now`
/// (receipts are submitted after the fact).
///
/// Checks, in this order (the first failure is the reason; cheap checks come before the three
/// signature recoveries):
/// 1. header decodes (`InvalidPayload`);
/// 2. the payment's fields as in [`verify_payment`] (version, scheme, network, `extra`, field
///    parsing), `to == payTo`, `validAfter <= served_at < validBefore`
///    (`ServedOutsidePaymentWindow`, not the x402 time reasons: the facilitator's 6-second margin is
///    about settling in time, a receipt is about when the call was served), value vs. requirements;
/// 3. policy: the chain is an accepted network (`InvalidNetwork`), the asset is accepted on it
///    (`UnsupportedAsset`); value in micro-USD = `value * 10^6 / 10^decimals` rounded down
///    (`InvalidPayload` on overflow);
/// 4. epoch: `served_at <= now`, after genesis, and its epoch open for submission (`EpochClosed`);
/// 5. registry: node known (`NodeUnknown`), not jailed (`NodeJailed`), not unbonding
///    (`NodeInactive`), not withdrawn (`NodeWithdrawn`), payer is not the node's `pay_to`
///    (`SelfDealing`), `payTo` is the node's `pay_to` (`RecipientNotNode`), model listed
///    (`ModelUnknown`), served by the node (`ModelNotServed`), of the node kind's provenance
///    (`ProvenanceMismatch`); local nodes: an attestation with `expires_at > served_at`
///    (`AttestationExpired`; a revoked attestation reads with `expires_at` cut to its
///    attester's removal);
/// 6. settlement: present when required (`SettlementMissing`); when present, from an allow-listed
///    facilitator with a 32-byte tx hash (`InvalidSettlement`);
/// 7. the payer's EIP-3009 signature recovers `from` (`InvalidExactEvmPayloadSignature`);
/// 8. the node's signature over [`inference_receipt_digest`] with its registered key
///    (`InvalidNodeSignature`);
/// 9. the settlement signature recovers the facilitator over [`settlement_digest`]
///    (`InvalidSettlement`).
///
/// Steps 7–9 use the receipt's [`SignedReceipt::signer_keys`] where they are the expected
/// signers' keys ([`check_evm_signature`]: verify instead of recover), and return the keys in
/// [`Verified::signer_keys`].
///
/// A [`Rejection`] carries the payer and nonce whenever the header decoded and they parse.
pub fn verify_receipt<C: Crypto>(
    crypto: &C,
    policy: &VerifierPolicy,
    registry: &RegistryView,
    receipt: &SignedReceipt,
    now: u64,
) -> Result<Verified, Rejection> {
    let keys = KeyBook::from_receipts([receipt]);
    verify_receipt_with_keys(crypto, policy, registry, receipt, &keys, now)
}

/// [`verify_receipt`] with the public keys of a whole batch: a signature whose expected signer
/// has a key in `keys` (from any receipt of the batch, [`KeyBook::from_receipts`]) is verified
/// under it instead of recovered. Same verdicts as [`verify_receipt`] but for `v`'s parity (see
/// [`check_evm_signature`]).
pub fn verify_receipt_with_keys<C: Crypto>(
    crypto: &C,
    policy: &VerifierPolicy,
    registry: &RegistryView,
    receipt: &SignedReceipt,
    keys: &KeyBook,
    now: u64,
) -> Result<Verified, Rejection> {
    let reject = |reason: RejectReason, payer: &Option<String>, nonce: &Option<String>| Rejection {
        reason,
        payer: payer.clone(),
        nonce: nonce.clone(),
    };
    let none = None;
    // 1. decode
    let payload = decode_payment_header(&receipt.payment).map_err(|r| reject(r, &none, &none))?;
    let (payer, nonce) = claimed_payer_and_nonce(&payload);
    let fail = |reason: RejectReason| reject(reason, &payer, &nonce);

    // 2. payment fields
    let checked = parse_payment(&payload, &receipt.requirements).map_err(fail)?;
    // 2b. (checked in verify_parts) what an `upto` settlement states
    let settlement_claim = receipt.settlement.as_ref().map(|s| SettlementClaim {
        facilitator: parse_evm_address(&s.facilitator),
        amount: s.amount.map(|a| a.u128()),
    });
    // 6. (resolved here, checked in order below) settlement facilitator and tx hash
    let settlement = receipt.settlement.as_ref().map(|s| {
        let facilitator =
            parse_evm_address(&s.facilitator).filter(|f| policy.facilitators.contains(f));
        let tx_hash: Option<[u8; 32]> = s.tx_hash.as_slice().try_into().ok();
        facilitator
            .zip(tx_hash)
            .map(|(f, t)| (f, t, s.signature.as_slice()))
    });
    let parts = ReceiptParts {
        payment: checked,
        receipt: &receipt.receipt,
        node_signature: receipt.node_signature.as_slice(),
        settlement,
        settlement_claim,
    };
    verify_parts(crypto, policy, registry, parts, keys, now).map_err(fail)
}

/// What both wire forms of a receipt (the JSON [`SignedReceipt`] and the compact
/// [`crate::codec::CompactReceipt`]) decode to before the checks that follow the payment's
/// field parsing.
pub(crate) struct ReceiptParts<'a> {
    /// The payment, its fields parsed (step 2 of [`verify_receipt`] before the terms).
    pub(crate) payment: ParsedPayment,
    /// The node's statement.
    pub(crate) receipt: &'a InferenceReceipt,
    /// The node's signature.
    pub(crate) node_signature: &'a [u8],
    /// `None`: no attestation; `Some(None)`: an attestation whose facilitator is not allow-listed
    /// or whose tx hash is not 32 bytes; `Some(Some((facilitator, tx hash, signature)))`.
    pub(crate) settlement: Option<Option<SettlementParts<'a>>>,
    /// What a present attestation states, unfiltered: its facilitator address (if it parses) and
    /// the settled amount (x402 `upto`; for `exact`, if stated, it must be the payment's value).
    /// `None` without an attestation. The compact form carries no amount (`exact` only).
    pub(crate) settlement_claim: Option<SettlementClaim>,
}

/// A settlement attestation's own statements, before the allow-list (see [`ReceiptParts`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct SettlementClaim {
    /// `facilitator`, if it is an address.
    pub(crate) facilitator: Option<[u8; 20]>,
    /// `amount` (token units), if stated.
    pub(crate) amount: Option<u128>,
}

/// A settlement attestation resolved: facilitator address, tx hash, signature.
pub(crate) type SettlementParts<'a> = ([u8; 20], [u8; 32], &'a [u8]);

/// Steps 2 (terms) to 9 of [`verify_receipt`] on a decoded receipt, either wire form.
pub(crate) fn verify_parts<C: Crypto>(
    crypto: &C,
    policy: &VerifierPolicy,
    registry: &RegistryView,
    parts: ReceiptParts,
    keys: &KeyBook,
    now: u64,
) -> Result<Verified, RejectReason> {
    let ReceiptParts {
        payment: checked,
        receipt: r,
        node_signature,
        settlement,
        settlement_claim,
    } = parts;
    let mut checked = checked;
    // 2. window at served_at, value
    checked.check_terms(Window::ServedAt(r.served_at), &policy.facilitators)?;
    // 2b. upto: the settled amount is what the receipt counts
    check_upto_settlement(&mut checked, r, settlement_claim)?;

    // 3. policy: network and asset, micro-USD value
    let network = policy
        .networks
        .iter()
        .find(|n| n.chain_id == checked.chain_id)
        .ok_or(RejectReason::InvalidNetwork)?;
    let asset = network
        .assets
        .iter()
        .find(|a| parse_evm_address(&a.address) == Some(checked.asset))
        .ok_or(RejectReason::UnsupportedAsset)?;
    let value_micro_usd =
        micro_usd(checked.auth.value, asset.decimals).ok_or(RejectReason::InvalidPayload)?;

    // 4. epoch
    if r.served_at > now {
        return Err(RejectReason::EpochClosed);
    }
    let epoch = policy
        .clock
        .epoch_of(r.served_at)
        .filter(|e| policy.clock.open_for_submission(*e, now))
        .ok_or(RejectReason::EpochClosed)?;

    // 5. registry
    let (node, provenance, live) = check_registry(registry, &checked, r, epoch)?;

    // 6. settlement presence and facilitator
    let settlement = match settlement {
        None if policy.require_settlement => return Err(RejectReason::SettlementMissing),
        None => None,
        Some(s) => {
            let s = s.ok_or(RejectReason::InvalidSettlement)?;
            // `exact`: a stated amount must be the payment's value (`upto` set the value to it).
            if settlement_claim
                .and_then(|c| c.amount)
                .is_some_and(|a| a != checked.auth.value)
            {
                return Err(RejectReason::InvalidSettlement);
            }
            Some(s)
        }
    };

    // 7.–9. signatures
    let (verified, signer_keys) = check_signatures(
        crypto,
        policy,
        r,
        node_signature,
        keys,
        checked,
        node,
        settlement,
    )?;

    Ok(Verified {
        binding: verified.binding,
        valid_before: verified.valid_before,
        signer_keys,
        accepted: AcceptedReceipt {
            node_id: r.node_id.clone(),
            model_id: r.model_id.clone(),
            provenance,
            payer: verified.payer,
            nonce: verified.nonce,
            value: verified.value,
            value_micro_usd,
            epoch,
        },
        live,
    })
}

/// Step 5 of [`verify_receipt`]: the node, its status, `payTo`, the model and the attestation.
#[inline(never)]
fn check_registry<'v>(
    registry: &'v RegistryView,
    checked: &ParsedPayment,
    r: &InferenceReceipt,
    epoch: u64,
) -> Result<(&'v NodeInfo, Provenance, Option<LiveNode>), RejectReason> {
    let node = registry
        .nodes
        .get(&r.node_id)
        .ok_or(RejectReason::NodeUnknown)?;
    match node.status {
        NodeStatus::Active => {}
        NodeStatus::Jailed => return Err(RejectReason::NodeJailed),
        NodeStatus::Unbonding => return Err(RejectReason::NodeInactive),
        NodeStatus::Withdrawn => return Err(RejectReason::NodeWithdrawn),
    }
    let node_pay_to = parse_evm_address(&node.pay_to);
    if node_pay_to == Some(checked.auth.from) {
        return Err(RejectReason::SelfDealing);
    }
    if node_pay_to != Some(checked.pay_to) {
        return Err(RejectReason::RecipientNotNode);
    }
    let provenance = *registry
        .models
        .get(&r.model_id)
        .ok_or(RejectReason::ModelUnknown)?;
    if !node.models.iter().any(|m| m == &r.model_id) {
        return Err(RejectReason::ModelNotServed);
    }
    if provenance != node.kind.provenance() {
        return Err(RejectReason::ProvenanceMismatch);
    }
    let live = match node.kind {
        NodeKindTag::Proxy => None,
        NodeKindTag::Local => {
            let att = node
                .attestation
                .as_ref()
                .filter(|a| a.expires_at > r.served_at)
                .ok_or(RejectReason::AttestationExpired)?;
            Some(LiveNode {
                epoch,
                node_id: node.node_id.clone(),
                hardware_class: att.hardware_class.clone(),
            })
        }
    };
    Ok((node, provenance, live))
}

/// Steps 7–9 of [`verify_receipt`]: the payer's, the node's and the facilitator's signatures, each
/// with its [`SignerKeys`] hint when given; returns the payment and the signers' keys.
#[allow(clippy::too_many_arguments)]
fn check_signatures<C: Crypto>(
    crypto: &C,
    policy: &VerifierPolicy,
    receipt: &InferenceReceipt,
    node_signature: &[u8],
    keys: &KeyBook,
    checked: ParsedPayment,
    node: &NodeInfo,
    settlement: Option<([u8; 20], [u8; 32], &[u8])>,
) -> Result<(VerifiedPayment, SignerKeys), RejectReason> {
    let binary = |k: [u8; 65]| cosmwasm_std::Binary::new(k.to_vec());

    // 7. payer signature
    let payer_key = checked.verify_signature(crypto, keys)?;
    let verified = checked.into_verified();

    // 8. node signature
    let digest = inference_receipt_digest(&policy.domain_separator, &verified.binding, receipt)
        .ok_or(RejectReason::InvalidNodeSignature)?;
    let node_key = check_node_signature(crypto, &node.key, &digest, node_signature, keys)
        .ok_or(RejectReason::InvalidNodeSignature)?;

    // 9. settlement signature
    let facilitator_key = match settlement {
        None => None,
        Some((facilitator, tx_hash, signature)) => {
            let digest = settlement_digest(
                &policy.domain_separator,
                &verified.payment_digest,
                verified.chain_id,
                &tx_hash,
                &verified.binding.payer,
                verified.binding.value,
            );
            let key = check_evm_signature(crypto, &digest, signature, &facilitator, keys)
                .ok_or(RejectReason::InvalidSettlement)?;
            Some(binary(key))
        }
    };
    let keys = SignerKeys {
        payer: Some(binary(payer_key)),
        node: node_key.map(binary),
        facilitator: facilitator_key,
    };
    Ok((verified, keys))
}

/// Verifies a local node's heartbeat: known, active local node with a valid attestation, signature
/// with its key, `timestamp` inside `epoch`, `timestamp <= now`, epoch open for submission.
///
/// Reasons, in order: `NodeUnknown`, `NodeJailed`, `NodeInactive`, `NodeWithdrawn`,
/// `ProvenanceMismatch` (a proxy node has no liveness), `AttestationExpired` (none, or `expires_at <= timestamp`), `EpochClosed`
/// (timestamp in the future, outside `epoch`, or the epoch closed), `InvalidNodeSignature`.
pub fn verify_heartbeat<C: Crypto>(
    crypto: &C,
    policy: &VerifierPolicy,
    registry: &RegistryView,
    heartbeat: &Heartbeat,
    now: u64,
) -> Result<LiveNode, RejectReason> {
    let node = registry
        .nodes
        .get(&heartbeat.node_id)
        .ok_or(RejectReason::NodeUnknown)?;
    match node.status {
        NodeStatus::Active => {}
        NodeStatus::Jailed => return Err(RejectReason::NodeJailed),
        NodeStatus::Unbonding => return Err(RejectReason::NodeInactive),
        NodeStatus::Withdrawn => return Err(RejectReason::NodeWithdrawn),
    }
    if node.kind != NodeKindTag::Local {
        return Err(RejectReason::ProvenanceMismatch);
    }
    let att = node
        .attestation
        .as_ref()
        .filter(|a| a.expires_at > heartbeat.timestamp)
        .ok_or(RejectReason::AttestationExpired)?;
    if heartbeat.timestamp > now
        || policy.clock.epoch_of(heartbeat.timestamp) != Some(heartbeat.epoch)
        || !policy.clock.open_for_submission(heartbeat.epoch, now)
    {
        return Err(RejectReason::EpochClosed);
    }
    let digest = heartbeat_digest(&policy.domain_separator, heartbeat);
    if !verify_node_signature(crypto, &node.key, &digest, heartbeat.signature.as_slice()) {
        return Err(RejectReason::InvalidNodeSignature);
    }
    Ok(LiveNode {
        epoch: heartbeat.epoch,
        node_id: node.node_id.clone(),
        hardware_class: att.hardware_class.clone(),
    })
}

/// `n / 2` of secp256k1, big-endian: signatures with a larger `s` are rejected (EIP-2 low-s rule,
/// as USDC's `transferWithAuthorization` enforces).
const SECP256K1_HALF_ORDER: [u8; 32] = [
    0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0x5d, 0x57, 0x6e, 0x73, 0x57, 0xa4, 0x50, 0x1d, 0xdf, 0xe9, 0x2f, 0x46, 0x68, 0x1b, 0x20, 0xa0,
];

/// Standard alphabet, padding optional (clients differ in whether they pad).
const BASE64_PAD_INDIFFERENT: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    base64::engine::GeneralPurposeConfig::new()
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
);

/// x402 v1 network names of EVM networks and their chain ids: the union of the `x402` npm
/// package's `EvmNetworkToChainId` (1.2.0) and `@x402/evm`'s `EVM_NETWORK_CHAIN_ID_MAP` (2.27.0,
/// which adds `ethereum`, `sepolia` and newer chains).
const V1_NETWORKS: &[(&str, u64)] = &[
    ("ethereum", 1),
    ("sepolia", 11155111),
    ("abstract", 2741),
    ("abstract-testnet", 11124),
    ("base-sepolia", 84532),
    ("base", 8453),
    ("avalanche-fuji", 43113),
    ("avalanche", 43114),
    ("iotex", 4689),
    ("sei", 1329),
    ("sei-testnet", 1328),
    ("polygon", 137),
    ("polygon-amoy", 80002),
    ("peaq", 3338),
    ("story", 1514),
    ("educhain", 41923),
    ("skale-base-sepolia", 324705682),
    ("megaeth", 4326),
    ("monad", 143),
    ("stable", 988),
    ("stable-testnet", 2201),
    ("celo", 42220),
    ("flare", 14),
];

fn v1_network_chain_id(network: &str) -> Option<u64> {
    V1_NETWORKS
        .iter()
        .find(|(name, _)| *name == network)
        .map(|(_, id)| *id)
}

/// Decimal digits only (no sign, no whitespace), leading zeros allowed, must fit `u128`.
fn parse_decimal_u128(s: &str) -> Option<u128> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// As [`parse_decimal_u128`], must fit `u64`.
fn parse_decimal_u64(s: &str) -> Option<u64> {
    parse_decimal_u128(s).and_then(|v| u64::try_from(v).ok())
}

/// Parses an EIP-3009 nonce, `0x` + 64 hex (any case), into 32 bytes.
pub fn parse_nonce(s: &str) -> Option<[u8; 32]> {
    let h = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X"))?;
    if h.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    hex::decode_to_slice(h, &mut out).ok()?;
    Some(out)
}

fn format_nonce(n: &[u8; 32]) -> String {
    format!("0x{}", hex::encode(n))
}

/// `0x` hex of any length (any case); `None` if not hex.
fn parse_hex_bytes(s: &str) -> Option<Vec<u8>> {
    let h = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X"))?;
    hex::decode(h).ok()
}

/// `value * 10^6 / 10^decimals`, rounded down; `None` on overflow.
fn micro_usd(value: u128, decimals: u8) -> Option<Uint128> {
    let v = if decimals >= 6 {
        let div = 10u128.checked_pow(u32::from(decimals - 6));
        // 10^k beyond u128 exceeds any u128 value: the quotient is 0.
        div.map_or(0, |d| value / d)
    } else {
        value.checked_mul(10u128.checked_pow(u32::from(6 - decimals))?)?
    };
    Some(Uint128::new(v))
}

/// When a payment's time window is checked.
#[derive(Clone, Copy, Debug)]
enum Window {
    /// Facilitator `/verify`: `validBefore >= now + margin`, `validAfter <= now`.
    Facilitator { now: u64, margin: u64 },
    /// Receipts: `validAfter <= served_at < validBefore`, else `ServedOutsidePaymentWindow`.
    ServedAt(u64),
}

/// A payment whose fields parsed, before the signature and terms are checked.
#[derive(Clone, Debug)]
pub(crate) struct ParsedPayment {
    pub(crate) x402_version: u32,
    pub(crate) chain_id: u64,
    pub(crate) asset: [u8; 20],
    pub(crate) pay_to: [u8; 20],
    /// v1 `maxAmountRequired` (minimum) or v2 `amount` (exact).
    pub(crate) required: u128,
    pub(crate) auth: Authorization,
    /// `None` if the signature is not `0x` hex.
    pub(crate) signature: Option<Vec<u8>>,
    pub(crate) digest: [u8; 32],
    /// Permit2 payments only (`auth` then holds `from`, `witness.to`, `permitted.amount`,
    /// `validAfter` and `deadline` saturated to 64 bits, and the nonce word).
    pub(crate) permit2: Option<Permit2Facts>,
}

/// What a Permit2 payment adds to [`ParsedPayment`].
#[derive(Clone, Debug)]
pub(crate) struct Permit2Facts {
    /// `permitted.token`.
    token: [u8; 20],
    /// `spender`.
    spender: [u8; 20],
    /// `witness.facilitator`: `Some` for `upto`.
    facilitator: Option<[u8; 20]>,
    /// `upto`: per-token prices of the requirements' `extra` (prompt, completion), when both given.
    prices: Option<(cosmwasm_std::Decimal, cosmwasm_std::Decimal)>,
}

/// Version (2 only), scheme, network and fields of a Permit2 payment (`exact` via Permit2 or
/// `upto`), in `@x402/evm` 2.27.0's order; see [`verify_payment_with_facilitators`].
// Out of line: inlined into `verify_receipt_with_keys`, it pushes that Wasm function
// towards the VM's limit of 100 locals.
#[inline(never)]
fn parse_permit2_payment(
    payload: &PaymentPayload,
    requirements: &PaymentRequirements,
    p2: &Permit2Authorization,
) -> Result<ParsedPayment, RejectReason> {
    use crate::permit2::{parse_decimal_u256, saturating_u64, to_u128};
    match payload.x402_version {
        2 => {}
        1 => return Err(RejectReason::UnsupportedPayloadType),
        _ => return Err(RejectReason::InvalidX402Version),
    }
    let accepted = payload
        .accepted
        .as_ref()
        .ok_or(RejectReason::InvalidPayload)?;
    let upto = match (accepted.scheme.as_str(), requirements.scheme.as_str()) {
        ("exact", "exact") => false,
        ("upto", "upto") => true,
        _ => return Err(RejectReason::InvalidScheme),
    };
    let network = accepted.network.as_str();
    if network != requirements.network || !network.starts_with("eip155:") {
        return Err(RejectReason::InvalidNetwork);
    }
    let chain_id = network_chain_id(network).ok_or(RejectReason::InvalidNetwork)?;
    let bad_req = RejectReason::InvalidPaymentRequirements;
    let asset = parse_evm_address(&requirements.asset).ok_or(bad_req)?;
    let pay_to = parse_evm_address(&requirements.pay_to).ok_or(bad_req)?;
    let required = requirements
        .amount
        .as_deref()
        .and_then(parse_decimal_u128)
        .ok_or(bad_req)?;
    let prices = match upto {
        false => None,
        true => {
            let extra = requirements.extra.clone().unwrap_or_default();
            let price =
                |p: &Option<String>| -> Result<Option<cosmwasm_std::Decimal>, RejectReason> {
                    p.as_deref()
                        .map(|p| p.parse::<cosmwasm_std::Decimal>().map_err(|_| bad_req))
                        .transpose()
                };
            match (
                price(&extra.prompt_token_price)?,
                price(&extra.completion_token_price)?,
            ) {
                (None, None) => None,
                (Some(a), Some(b)) => Some((a, b)),
                _ => return Err(bad_req),
            }
        }
    };
    let bad = RejectReason::InvalidPayload;
    let facilitator = match (upto, &p2.witness.facilitator) {
        (false, _) => None,
        (true, None) => return Err(RejectReason::UnsupportedPayloadType),
        (true, Some(f)) => Some(parse_evm_address(f).ok_or(bad)?),
    };
    let transfer = Permit2Transfer {
        token: parse_evm_address(&p2.permitted.token).ok_or(bad)?,
        amount: parse_decimal_u256(&p2.permitted.amount)
            .and_then(|w| to_u128(&w))
            .ok_or(bad)?,
        spender: parse_evm_address(&p2.spender).ok_or(bad)?,
        nonce: parse_decimal_u256(&p2.nonce).ok_or(bad)?,
        deadline: parse_decimal_u256(&p2.deadline).ok_or(bad)?,
        to: parse_evm_address(&p2.witness.to).ok_or(bad)?,
        facilitator,
        valid_after: parse_decimal_u256(&p2.witness.valid_after).ok_or(bad)?,
    };
    let from = parse_evm_address(&p2.from).ok_or(bad)?;
    let digest = permit2_witness_transfer_digest(&permit2_domain_separator(chain_id), &transfer);
    Ok(ParsedPayment {
        x402_version: 2,
        chain_id,
        asset,
        pay_to,
        required,
        auth: Authorization {
            from,
            to: transfer.to,
            value: transfer.amount,
            valid_after: saturating_u64(&transfer.valid_after),
            valid_before: saturating_u64(&transfer.deadline),
            nonce: transfer.nonce,
        },
        signature: parse_hex_bytes(&payload.payload.signature),
        digest,
        permit2: Some(Permit2Facts {
            token: transfer.token,
            spender: transfer.spender,
            facilitator,
            prices,
        }),
    })
}

/// Step 2b of [`verify_receipt`] for `upto`: the settlement attestation is required
/// (`SettlementMissing`), states the settled amount and is by the witness' facilitator
/// (`InvalidSettlement`), the amount is at most the signed maximum
/// (`UptoSettlementExceedsAmount`) and, when the requirements' `extra` prices tokens, equals
/// `promptTokens * promptTokenPrice + completionTokens * completionTokenPrice` rounded down or up
/// (`UptoSettlementPriceMismatch`). The settled amount becomes the payment's value (what the
/// node signs, the facilitator attests and the receipt counts). No-op for other payments.
// Out of line: inlined into `verify_receipt_with_keys`, it pushes that Wasm function
// towards the VM's limit of 100 locals.
#[inline(never)]
fn check_upto_settlement(
    checked: &mut ParsedPayment,
    r: &InferenceReceipt,
    settlement: Option<SettlementClaim>,
) -> Result<(), RejectReason> {
    let Some(Permit2Facts {
        facilitator: Some(facilitator),
        prices,
        ..
    }) = &checked.permit2
    else {
        return Ok(());
    };
    let settlement = settlement.ok_or(RejectReason::SettlementMissing)?;
    let amount = settlement.amount.ok_or(RejectReason::InvalidSettlement)?;
    if settlement.facilitator != Some(*facilitator) {
        return Err(RejectReason::InvalidSettlement);
    }
    if amount > checked.auth.value {
        return Err(RejectReason::UptoSettlementExceedsAmount);
    }
    if let Some((prompt, completion)) = prices {
        // Exact in 256 bits: prices have 18 decimals, token counts 64 bits.
        use cosmwasm_std::Uint256;
        let atomics = Uint256::from(prompt.atomics()) * Uint256::from(r.prompt_tokens)
            + Uint256::from(completion.atomics()) * Uint256::from(r.completion_tokens);
        let unit = Uint256::from(10u128.pow(18));
        let floor = atomics / unit;
        let ceil = floor + Uint256::from(u8::from(!(atomics % unit).is_zero()));
        let amount = Uint256::from(amount);
        if amount != floor && amount != ceil {
            return Err(RejectReason::UptoSettlementPriceMismatch);
        }
    }
    checked.auth.value = amount;
    Ok(())
}

/// Version, scheme, network, `extra`, field parsing (the checks before the signature in the
/// reference facilitator).
pub(crate) fn parse_payment(
    payload: &PaymentPayload,
    requirements: &PaymentRequirements,
) -> Result<ParsedPayment, RejectReason> {
    let a = match (
        &payload.payload.authorization,
        &payload.payload.permit2_authorization,
    ) {
        (Some(a), None) => a,
        (None, Some(p2)) => return parse_permit2_payment(payload, requirements, p2),
        _ => return Err(RejectReason::InvalidPayload),
    };
    let (scheme, network) = match payload.x402_version {
        1 => {
            let scheme = payload
                .scheme
                .as_deref()
                .ok_or(RejectReason::InvalidScheme)?;
            let network = payload
                .network
                .as_deref()
                .ok_or(RejectReason::InvalidNetwork)?;
            (scheme, network)
        }
        2 => {
            let accepted = payload
                .accepted
                .as_ref()
                .ok_or(RejectReason::InvalidPayload)?;
            (accepted.scheme.as_str(), accepted.network.as_str())
        }
        _ => return Err(RejectReason::InvalidX402Version),
    };
    if payload.x402_version == 2 && requirements.scheme == "upto" {
        // `upto` is Permit2 only (`@x402/evm` 2.27.0 `UptoEvmScheme.verify`: `isUptoPermit2Payload`).
        return Err(RejectReason::UnsupportedPayloadType);
    }
    if scheme != "exact" || requirements.scheme != scheme {
        return Err(RejectReason::InvalidScheme);
    }
    let network_check = || -> Result<u64, RejectReason> {
        if payload.x402_version == 1 {
            // The v1 reference takes the chain id from the payload alone; opg also requires the
            // requirements' network to be the same chain.
            let chain_id = v1_network_chain_id(network).ok_or(RejectReason::InvalidNetwork)?;
            if v1_network_chain_id(&requirements.network) != Some(chain_id) {
                return Err(RejectReason::InvalidNetwork);
            }
            Ok(chain_id)
        } else {
            // v2: CAIP-2 ids compared as strings, as the reference does.
            if network != requirements.network || !network.starts_with("eip155:") {
                return Err(RejectReason::InvalidNetwork);
            }
            network_chain_id(network).ok_or(RejectReason::InvalidNetwork)
        }
    };
    let extra_check = || -> Result<(&str, &str), RejectReason> {
        let extra = requirements
            .extra
            .as_ref()
            .ok_or(RejectReason::InvalidPaymentRequirements)?;
        match (extra.name.as_deref(), extra.version.as_deref()) {
            (Some(name), Some(version)) if !name.is_empty() && !version.is_empty() => {
                Ok((name, version))
            }
            _ => Err(RejectReason::InvalidPaymentRequirements),
        }
    };
    // The v1 reference resolves the network before reading `extra`, the v2 reference after.
    let (chain_id, (name, version)) = if payload.x402_version == 1 {
        let chain_id = network_check()?;
        (chain_id, extra_check()?)
    } else {
        let extra = extra_check()?;
        (network_check()?, extra)
    };
    let asset =
        parse_evm_address(&requirements.asset).ok_or(RejectReason::InvalidPaymentRequirements)?;
    let pay_to =
        parse_evm_address(&requirements.pay_to).ok_or(RejectReason::InvalidPaymentRequirements)?;
    let required = match payload.x402_version {
        1 => requirements.max_amount_required.as_deref(),
        _ => requirements.amount.as_deref(),
    }
    .and_then(parse_decimal_u128)
    .ok_or(RejectReason::InvalidPaymentRequirements)?;

    let auth = Authorization {
        from: parse_evm_address(&a.from).ok_or(RejectReason::InvalidPayload)?,
        to: parse_evm_address(&a.to).ok_or(RejectReason::InvalidPayload)?,
        value: parse_decimal_u128(&a.value).ok_or(RejectReason::InvalidPayload)?,
        valid_after: parse_decimal_u64(&a.valid_after).ok_or(RejectReason::InvalidPayload)?,
        valid_before: parse_decimal_u64(&a.valid_before).ok_or(RejectReason::InvalidPayload)?,
        nonce: parse_nonce(&a.nonce).ok_or(RejectReason::InvalidPayload)?,
    };
    let domain = token_domain_separator(name, version, chain_id, &asset);
    let digest = transfer_with_authorization_digest(&domain, &auth);
    Ok(ParsedPayment {
        x402_version: payload.x402_version,
        chain_id,
        asset,
        pay_to,
        required,
        signature: parse_hex_bytes(&payload.payload.signature),
        auth,
        digest,
        permit2: None,
    })
}

impl ParsedPayment {
    /// The payer's signature is `from`'s (65 bytes, low-s; [`check_evm_signature`] with the
    /// batch's keys). Returns the payer's public key.
    ///
    /// EIP-3009: `v` must be 27 or 28, as USDC's recovery (FiatToken `ECRecover.recover`)
    /// requires (viem, behind the reference facilitators, also takes 0/1). Permit2: the chain's
    /// rules of [`check_permit2_signature`], reason `InvalidPermit2Signature`.
    fn verify_signature<C: Crypto>(
        &self,
        crypto: &C,
        keys: &KeyBook,
    ) -> Result<[u8; 65], RejectReason> {
        let sig = self.signature.as_deref();
        if self.permit2.is_some() {
            return sig
                .and_then(|sig| {
                    check_permit2_signature(crypto, &self.digest, sig, &self.auth.from, keys)
                })
                .ok_or(RejectReason::InvalidPermit2Signature);
        }
        sig.filter(|sig| matches!(sig.get(64), Some(27 | 28)))
            .and_then(|sig| check_evm_signature(crypto, &self.digest, sig, &self.auth.from, keys))
            .ok_or(RejectReason::InvalidExactEvmPayloadSignature)
    }

    /// Permit2's terms in `@x402/evm` 2.27.0's order: spender, recipient, `upto` facilitator
    /// (one of `facilitators`), window (the deadline is inclusive on chain:
    /// `block.timestamp <= deadline`), amount, token.
    #[inline(never)]
    fn check_permit2_terms(
        &self,
        p2: &Permit2Facts,
        window: Window,
        facilitators: &[[u8; 20]],
    ) -> Result<(), RejectReason> {
        use crate::permit2::{X402_EXACT_PERMIT2_PROXY, X402_UPTO_PERMIT2_PROXY};
        let proxy = match p2.facilitator {
            None => X402_EXACT_PERMIT2_PROXY,
            Some(_) => X402_UPTO_PERMIT2_PROXY,
        };
        if p2.spender != proxy {
            return Err(RejectReason::InvalidPermit2Spender);
        }
        if self.auth.to != self.pay_to {
            return Err(RejectReason::InvalidPermit2RecipientMismatch);
        }
        if p2.facilitator.is_some_and(|f| !facilitators.contains(&f)) {
            return Err(RejectReason::UptoFacilitatorMismatch);
        }
        match window {
            Window::Facilitator { now, margin } => {
                if self.auth.valid_before < now.saturating_add(margin) {
                    return Err(RejectReason::Permit2DeadlineExpired);
                }
                if self.auth.valid_after > now {
                    return Err(RejectReason::Permit2NotYetValid);
                }
            }
            Window::ServedAt(t) => {
                if t < self.auth.valid_after || t > self.auth.valid_before {
                    return Err(RejectReason::ServedOutsidePaymentWindow);
                }
            }
        }
        if self.auth.value != self.required {
            return Err(RejectReason::Permit2AmountMismatch);
        }
        if p2.token != self.asset {
            return Err(RejectReason::Permit2TokenMismatch);
        }
        Ok(())
    }

    /// Recipient, time window, value (the checks after the signature in the reference
    /// facilitator); Permit2 payments: [`Self::check_permit2_terms`].
    fn check_terms(&self, window: Window, facilitators: &[[u8; 20]]) -> Result<(), RejectReason> {
        if let Some(p2) = &self.permit2 {
            return self.check_permit2_terms(p2, window, facilitators);
        }
        if self.auth.to != self.pay_to {
            return Err(RejectReason::InvalidExactEvmPayloadRecipientMismatch);
        }
        match window {
            Window::Facilitator { now, margin } => {
                if self.auth.valid_before < now.saturating_add(margin) {
                    return Err(RejectReason::InvalidExactEvmPayloadAuthorizationValidBefore);
                }
                if self.auth.valid_after > now {
                    return Err(RejectReason::InvalidExactEvmPayloadAuthorizationValidAfter);
                }
            }
            Window::ServedAt(t) => {
                if t < self.auth.valid_after || t >= self.auth.valid_before {
                    return Err(RejectReason::ServedOutsidePaymentWindow);
                }
            }
        }
        if self.x402_version == 1 {
            if self.auth.value < self.required {
                return Err(RejectReason::InvalidExactEvmPayloadAuthorizationValue);
            }
        } else if self.auth.value != self.required {
            return Err(RejectReason::InvalidExactEvmPayloadAuthorizationValueMismatch);
        }
        Ok(())
    }

    fn into_verified(self) -> VerifiedPayment {
        VerifiedPayment {
            x402_version: self.x402_version,
            payer: format_evm_address(&self.auth.from),
            pay_to: format_evm_address(&self.pay_to),
            chain_id: self.chain_id,
            asset: format_evm_address(&self.asset),
            value: Uint128::new(self.auth.value),
            nonce: format_nonce(&self.auth.nonce),
            valid_after: self.auth.valid_after,
            // Exclusive end: Permit2's deadline is the last valid second.
            valid_before: match self.permit2 {
                Some(_) => self.auth.valid_before.saturating_add(1),
                None => self.auth.valid_before,
            },
            payment_digest: self.digest,
            binding: PaymentBinding {
                payer: self.auth.from,
                nonce: self.auth.nonce,
                value: self.auth.value,
                asset: self.asset,
                chain_id: self.chain_id,
            },
        }
    }
}

#[cfg(all(test, feature = "native"))]
mod tests {
    use super::*;
    use crate::crypto::{ApiCrypto, NativeCrypto};
    use crate::sign::EvmSigner;
    use cosmwasm_std::testing::MockApi;

    /// secp256k1 group order n, big-endian.
    const N: [u8; 32] = [
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xfe, 0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36,
        0x41, 0x41,
    ];

    /// `n - s` (big-endian 256-bit subtraction).
    fn neg(s: &[u8]) -> [u8; 32] {
        let mut out = [0u8; 32];
        let mut borrow = 0i16;
        for i in (0..32).rev() {
            let d = N[i] as i16 - s[i] as i16 - borrow;
            borrow = i16::from(d < 0);
            out[i] = (d + if d < 0 { 256 } else { 0 }) as u8;
        }
        out
    }

    fn both(digest: &[u8; 32], sig: &[u8]) -> Option<[u8; 20]> {
        let api = MockApi::default();
        let a = recover_evm_address(&NativeCrypto, digest, sig);
        let b = recover_evm_address(&ApiCrypto(&api), digest, sig);
        assert_eq!(a, b, "backends disagree");
        a
    }

    #[test]
    fn recovers_signer_address_with_any_v_encoding() {
        let signer = EvmSigner::derive(b"seed", "payer");
        let address = parse_evm_address(&signer.address()).unwrap();
        for i in 0u8..8 {
            let digest = keccak256(&[i]);
            let sig = signer.sign_digest(&digest);
            assert!(sig[64] == 27 || sig[64] == 28);
            assert!(
                sig[32..64] <= SECP256K1_HALF_ORDER[..],
                "signer emits low-s"
            );
            assert_eq!(both(&digest, &sig), Some(address));
            let mut v01 = sig;
            v01[64] -= 27;
            assert_eq!(both(&digest, &v01), Some(address));
            let mut flipped = sig;
            flipped[64] ^= 1; // 27 <-> 28: another key (or none)
            assert_ne!(both(&digest, &flipped), Some(address));
            assert_ne!(both(&keccak256(&[i, 1]), &sig), Some(address));
        }
    }

    #[test]
    fn rejects_high_s_and_malformed_signatures() {
        let signer = EvmSigner::derive(b"seed", "payer");
        let digest = keccak256(b"message");
        let sig = signer.sign_digest(&digest);
        // The malleable twin (r, n - s, v ^ 1) is a valid ECDSA signature of the same key; rejected.
        let mut high = sig;
        high[32..64].copy_from_slice(&neg(&sig[32..64]));
        high[64] = if sig[64] == 27 { 28 } else { 27 };
        assert!(high[32..64] > SECP256K1_HALF_ORDER[..]);
        assert_eq!(both(&digest, &high), None);
        let mut v = sig;
        v[64] = 29;
        assert_eq!(both(&digest, &v), None);
        assert_eq!(both(&digest, &sig[..64]), None);
        assert_eq!(both(&digest, &[sig.as_slice(), &[0]].concat()), None);
        let mut r0 = sig;
        r0[..32].fill(0);
        assert_eq!(both(&digest, &r0), None);
        let mut s0 = sig;
        s0[32..64].fill(0);
        assert_eq!(both(&digest, &s0), None);
        let mut r_max = sig;
        r_max[..32].fill(0xff); // r >= n
        assert_eq!(both(&digest, &r_max), None);
    }

    #[test]
    fn addresses_parse_any_case_and_format_lowercase() {
        let a = parse_evm_address("0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913").unwrap();
        assert_eq!(
            format_evm_address(&a),
            "0x833589fcd6edb6e08f4c7c32d4f71b54bda02913"
        );
        assert_eq!(
            parse_evm_address("833589fcd6edb6e08f4c7c32d4f71b54bda02913"),
            None
        );
        assert_eq!(
            parse_evm_address("0x833589fcd6edb6e08f4c7c32d4f71b54bda0291"),
            None
        );
        assert_eq!(
            parse_evm_address("0x833589fcd6edb6e08f4c7c32d4f71b54bda0291g"),
            None
        );
    }

    #[test]
    fn network_ids() {
        assert_eq!(network_chain_id("base"), Some(8453));
        assert_eq!(network_chain_id("base-sepolia"), Some(84532));
        assert_eq!(network_chain_id("avalanche-fuji"), Some(43113));
        assert_eq!(network_chain_id("eip155:8453"), Some(8453));
        assert_eq!(network_chain_id("eip155:"), None);
        assert_eq!(network_chain_id("eip155:+1"), None);
        assert_eq!(network_chain_id("eip155:0"), None);
        assert_eq!(network_chain_id("solana"), None);
        assert_eq!(network_chain_id("Base"), None);
    }

    #[test]
    fn micro_usd_conversion() {
        assert_eq!(micro_usd(1_234_567, 6), Some(Uint128::new(1_234_567)));
        assert_eq!(micro_usd(1_999_999_999_999, 18), Some(Uint128::new(1)));
        assert_eq!(micro_usd(u128::MAX, 255), Some(Uint128::zero()));
        assert_eq!(micro_usd(5, 0), Some(Uint128::new(5_000_000)));
        assert_eq!(micro_usd(u128::MAX, 5), None);
    }
}
