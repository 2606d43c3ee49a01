//! The compact wire form of a signed receipt (DESIGN §3): what `SubmitReceipts` carries in
//! `compact` (base64 in the JSON message), about a third of the JSON form's bytes. wasmd charges
//! 10 SDK gas per tx byte, so the message bytes were the largest single cost of a receipt.
//!
//! Only what the verifier cannot derive travels: the node's `payTo` is the payment's `to` (a
//! receipt whose requirements' `payTo` differs from `to` is not encodable: it can only be rejected
//! with `..._recipient_mismatch`, so it goes in the JSON form); the asset's EIP-712 `name` and
//! `version` come from the verifier's [`AssetConfig`](crate::types::AssetConfig) when they are set
//! there and equal the receipt's; the network and the asset are indexes into the verifier's
//! `networks` list and that network's `assets`; the facilitator is an index into the verifier's
//! facilitator list; signatures are raw 64/65 bytes, digests and nonces raw 32 bytes, integers
//! LEB128. The decoder is shared by the contract and the keeper; the encoder (feature `encode`,
//! which the contracts do not enable) builds a batch the way the keeper submits it.
//!
//! # Layout, version 1
//!
//! ```text
//! version   u8 = 1
//! kind      u8           1 = x402 `exact` EVM, EIP-3009 TransferWithAuthorization
//! --- kind 1 ---
//! flags     u8           bit 0 x402 v2 (else v1)        bit 4 node signature is 64 bytes (ed25519)
//!                        bit 1 `required` follows       bit 5 payer key follows
//!                        bit 2 token domain follows     bit 6 node key follows
//!                        bit 3 settlement follows       bit 7 facilitator key follows
//! network   u8           index into the verifier's `networks`
//! asset     u8           index into that network's `assets`
//! [name     str, version str]              if bit 2: the token's EIP-712 domain
//! from      20  to 20                      authorization (`to` is also the requirements' `payTo`)
//! value     uleb128 (u128)
//! [required uleb128 (u128)]                if bit 1: v1 `maxAmountRequired` / v2 `amount`;
//!                                          absent: equal to `value`
//! validAfter uleb128 (u64)  validBefore uleb128 (u64)
//! nonce     32   signature 65 (r || s || v)
//! nodeId    str  modelId str   requestDigest 32   responseDigest 32
//! promptTokens uleb128  completionTokens uleb128  servedAt uleb128 (u64 each)
//! nodeSignature 65, or 64 if bit 4
//! [facilitator u8 (index into the verifier's facilitators), txHash 32, signature 65]  if bit 3
//! [payer key 64] [node key 64] [facilitator key 64]  if bits 5, 6, 7: uncompressed secp256k1
//!                                          keys without the 0x04 prefix (see SignerKeys)
//! ```
//! `str` is a u8 length and that many bytes of UTF-8. Integers must be minimal LEB128; nothing
//! may follow the last field. A later payment kind (e.g. x402 Permit2 `exact` / `upto`) takes a
//! new `kind` byte with its own layout after it; a receipt of a kind this codec does not know is
//! submitted in the JSON form.
//!
//! Why by hand and not a codec crate: the layout is fixed-width bytes (addresses, digests,
//! signatures) plus a few integers, and the format is a wire contract that must not move when a
//! Rust struct changes; serde-based binary codecs (postcard, bincode) would tie the bytes to the
//! struct layout and add generic code to the contract's Wasm for about 60 lines of reader here.
use cosmwasm_std::Binary;

use crate::eip712::{token_domain_separator, transfer_with_authorization_digest, Authorization};
use crate::reason::RejectReason;
use crate::receipt::InferenceReceipt;
use crate::verify::{
    format_evm_address, verify_parts, KeyBook, ParsedPayment, ReceiptParts, RegistryView,
    Rejection, SettlementClaim, Verified, VerifierPolicy,
};

/// The layout version this codec writes and reads.
pub const VERSION: u8 = 1;
/// Payment kind: x402 `exact` EVM scheme, EIP-3009 `TransferWithAuthorization`.
pub const KIND_X402_EXACT_EIP3009: u8 = 1;

const FLAG_V2: u8 = 1;
const FLAG_REQUIRED: u8 = 1 << 1;
const FLAG_DOMAIN: u8 = 1 << 2;
const FLAG_SETTLEMENT: u8 = 1 << 3;
const FLAG_ED25519: u8 = 1 << 4;
const FLAG_PAYER_KEY: u8 = 1 << 5;
const FLAG_NODE_KEY: u8 = 1 << 6;
const FLAG_FACILITATOR_KEY: u8 = 1 << 7;

/// A receipt as the compact form carries it (kind 1), decoded but not resolved against the
/// verifier's config: indexes stay indexes until [`verify_compact_receipt`].
#[derive(Clone, Debug, PartialEq)]
pub struct CompactReceipt {
    /// x402 protocol version: 1 or 2 (v1 compares `value >= required`, v2 `value == required`).
    pub x402_version: u32,
    /// Index into the verifier's `networks`.
    pub network: u8,
    /// Index into that network's `assets`.
    pub asset: u8,
    /// The token's EIP-712 domain `(name, version)`; `None`: the asset config's.
    pub token_domain: Option<(String, String)>,
    /// The EIP-3009 authorization the payer signed; `to` is also the requirements' `payTo`.
    pub authorization: Authorization,
    /// v1 `maxAmountRequired` / v2 `amount` in token units; `None`: equal to the value.
    pub required: Option<u128>,
    /// The payer's 65-byte `r || s || v` signature.
    pub signature: [u8; 65],
    /// The node's statement.
    pub receipt: InferenceReceipt,
    /// The node's signature: 65 bytes (secp256k1) or 64 (ed25519).
    pub node_signature: Vec<u8>,
    /// The facilitator's settlement attestation.
    pub settlement: Option<CompactSettlement>,
    /// Uncompressed secp256k1 keys (65 bytes, `0x04 || x || y`) of this receipt's signers, as in
    /// [`crate::receipt::SignerKeys`].
    pub keys: [Option<[u8; 65]>; 3],
}

/// A settlement attestation in the compact form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompactSettlement {
    /// Index into the verifier's facilitator list.
    pub facilitator: u8,
    /// Settlement transaction hash.
    pub tx_hash: [u8; 32],
    /// The facilitator's 65-byte `r || s || v` signature.
    pub signature: [u8; 65],
}

/// Why compact bytes do not decode. A `SubmitReceipts` rejects such an entry with
/// [`DecodeError::reason`] and goes on with the others.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// The version byte is not [`VERSION`] (or the input is empty).
    UnsupportedVersion(u8),
    /// The kind byte names no payment kind this codec knows.
    UnknownKind(u8),
    /// The bytes end inside a field.
    Truncated,
    /// Bytes follow the last field.
    TrailingBytes,
    /// An integer is not minimal LEB128 or overflows its type.
    BadInteger,
    /// An id is not UTF-8.
    BadUtf8,
    /// The x402 version flag and the fields disagree (no such case in version 1; reserved).
    BadFlags,
}

impl DecodeError {
    /// The rejection reason: `compact_unsupported_version`, `compact_unknown_kind` or
    /// `compact_malformed`.
    pub fn reason(&self) -> RejectReason {
        match self {
            DecodeError::UnsupportedVersion(_) => RejectReason::CompactUnsupportedVersion,
            DecodeError::UnknownKind(_) => RejectReason::CompactUnknownKind,
            _ => RejectReason::CompactMalformed,
        }
    }
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if self.0.len() < n {
            return Err(DecodeError::Truncated);
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }
    fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }
    /// Minimal LEB128 of at most `bits` bits.
    fn uint(&mut self, bits: u32) -> Result<u128, DecodeError> {
        let mut value = 0u128;
        let mut shift = 0u32;
        loop {
            let b = self.u8()?;
            let low = u128::from(b & 0x7f);
            let left = bits.saturating_sub(shift);
            if left == 0 || (shift > 0 && b == 0) || (left < 7 && low >> left != 0) {
                return Err(DecodeError::BadInteger);
            }
            value |= low << shift;
            if b & 0x80 == 0 {
                return Ok(value);
            }
            shift += 7;
        }
    }
    fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(self.uint(64)? as u64)
    }
    fn str(&mut self) -> Result<String, DecodeError> {
        let n = usize::from(self.u8()?);
        String::from_utf8(self.take(n)?.to_vec()).map_err(|_| DecodeError::BadUtf8)
    }
    fn key(&mut self, present: bool) -> Result<Option<[u8; 65]>, DecodeError> {
        if !present {
            return Ok(None);
        }
        let mut key = [4u8; 65];
        key[1..].copy_from_slice(self.take(64)?);
        Ok(Some(key))
    }
}

/// Decodes compact bytes. Errors: [`DecodeError`] (version, kind, truncation, trailing bytes,
/// non-minimal integers, ids that are not UTF-8).
pub fn decode(bytes: &[u8]) -> Result<CompactReceipt, DecodeError> {
    let mut r = Reader(bytes);
    let version = r.u8().map_err(|_| DecodeError::UnsupportedVersion(0))?;
    if version != VERSION {
        return Err(DecodeError::UnsupportedVersion(version));
    }
    match r.u8()? {
        KIND_X402_EXACT_EIP3009 => {}
        kind => return Err(DecodeError::UnknownKind(kind)),
    }
    let c = decode_exact(&mut r)?;
    if !r.0.is_empty() {
        return Err(DecodeError::TrailingBytes);
    }
    Ok(c)
}

#[inline(never)]
fn decode_exact(r: &mut Reader) -> Result<CompactReceipt, DecodeError> {
    let flags = r.u8()?;
    let network = r.u8()?;
    let asset = r.u8()?;
    let token_domain = if flags & FLAG_DOMAIN != 0 {
        Some((r.str()?, r.str()?))
    } else {
        None
    };
    let from = r.array()?;
    let to = r.array()?;
    let value = r.uint(128)?;
    let required = if flags & FLAG_REQUIRED != 0 {
        Some(r.uint(128)?)
    } else {
        None
    };
    let authorization = Authorization {
        from,
        to,
        value,
        valid_after: r.u64()?,
        valid_before: r.u64()?,
        nonce: r.array()?,
    };
    let signature = r.array()?;
    let receipt = decode_inference(r)?;
    let node_signature = r
        .take(if flags & FLAG_ED25519 != 0 { 64 } else { 65 })?
        .to_vec();
    let settlement = if flags & FLAG_SETTLEMENT != 0 {
        Some(CompactSettlement {
            facilitator: r.u8()?,
            tx_hash: r.array()?,
            signature: r.array()?,
        })
    } else {
        None
    };
    let keys = [
        r.key(flags & FLAG_PAYER_KEY != 0)?,
        r.key(flags & FLAG_NODE_KEY != 0)?,
        r.key(flags & FLAG_FACILITATOR_KEY != 0)?,
    ];
    Ok(CompactReceipt {
        x402_version: if flags & FLAG_V2 != 0 { 2 } else { 1 },
        network,
        asset,
        token_domain,
        authorization,
        required,
        signature,
        receipt,
        node_signature,
        settlement,
        keys,
    })
}

#[inline(never)]
fn decode_inference(r: &mut Reader) -> Result<InferenceReceipt, DecodeError> {
    Ok(InferenceReceipt {
        node_id: r.str()?,
        model_id: r.str()?,
        request_digest: Binary::new(r.take(32)?.to_vec()),
        response_digest: Binary::new(r.take(32)?.to_vec()),
        prompt_tokens: r.u64()?,
        completion_tokens: r.u64()?,
        served_at: r.u64()?,
    })
}

impl CompactReceipt {
    /// The signer keys it carries, for [`KeyBook::from_keys`].
    pub fn key_slices(&self) -> impl Iterator<Item = &[u8]> {
        self.keys.iter().flatten().map(|k| k.as_slice())
    }

    /// Lowercase `0x` payer and nonce, as rejections and results report them.
    pub fn payer_and_nonce(&self) -> (String, String) {
        (
            format_evm_address(&self.authorization.from),
            format!("0x{}", hex::encode(self.authorization.nonce)),
        )
    }
}

/// [`crate::verify::verify_receipt_with_keys`] for a compact receipt: the indexes resolve against
/// `policy` (a network index out of range: `InvalidNetwork`; an asset index:
/// `UnsupportedAsset`; no token domain in the receipt nor in the asset's config:
/// `InvalidPaymentRequirements`; a facilitator index: `InvalidSettlement`), then the same checks
/// in the same order. A compact receipt made by [`encode_receipt`] from a JSON receipt gets
/// the JSON receipt's verdict under the config it was encoded for (tested over every fixture).
pub fn verify_compact_receipt<C: crate::crypto::Crypto>(
    crypto: &C,
    policy: &VerifierPolicy,
    registry: &RegistryView,
    receipt: &CompactReceipt,
    keys: &KeyBook,
    now: u64,
) -> Result<Verified, Rejection> {
    let (payer, nonce) = receipt.payer_and_nonce();
    let fail = |reason: RejectReason| Rejection {
        reason,
        payer: Some(payer.clone()),
        nonce: Some(nonce.clone()),
    };
    let payment = resolve_payment(policy, receipt).map_err(fail)?;
    let settlement = receipt.settlement.as_ref().map(|s| {
        policy
            .facilitators
            .get(usize::from(s.facilitator))
            .map(|f| (*f, s.tx_hash, s.signature.as_slice()))
    });
    // the compact form carries no settled amount: it encodes `exact` payments only
    let settlement_claim = receipt.settlement.as_ref().map(|s| SettlementClaim {
        facilitator: policy.facilitators.get(usize::from(s.facilitator)).copied(),
        amount: None,
    });
    let parts = ReceiptParts {
        payment,
        receipt: &receipt.receipt,
        node_signature: &receipt.node_signature,
        settlement,
        settlement_claim,
    };
    verify_parts(crypto, policy, registry, parts, keys, now).map_err(fail)
}

/// The payment of a compact receipt with its network, asset and token domain resolved, and its
/// EIP-712 digest.
#[inline(never)]
fn resolve_payment(
    policy: &VerifierPolicy,
    c: &CompactReceipt,
) -> Result<ParsedPayment, RejectReason> {
    let network = policy
        .networks
        .get(usize::from(c.network))
        .ok_or(RejectReason::InvalidNetwork)?;
    let asset_config = network
        .assets
        .get(usize::from(c.asset))
        .ok_or(RejectReason::UnsupportedAsset)?;
    let asset = crate::verify::parse_evm_address(&asset_config.address)
        .ok_or(RejectReason::UnsupportedAsset)?;
    let (name, version) = match &c.token_domain {
        Some((n, v)) => (n.as_str(), v.as_str()),
        None => (
            asset_config.eip712_name.as_deref().unwrap_or_default(),
            asset_config.eip712_version.as_deref().unwrap_or_default(),
        ),
    };
    if name.is_empty() || version.is_empty() {
        return Err(RejectReason::InvalidPaymentRequirements);
    }
    let domain = token_domain_separator(name, version, network.chain_id, &asset);
    Ok(ParsedPayment {
        x402_version: c.x402_version,
        chain_id: network.chain_id,
        asset,
        pay_to: c.authorization.to,
        required: c.required.unwrap_or(c.authorization.value),
        digest: transfer_with_authorization_digest(&domain, &c.authorization),
        auth: c.authorization.clone(),
        signature: Some(c.signature.to_vec()),
        permit2: None,
    })
}

#[cfg(feature = "encode")]
pub use encode::*;

/// The keeper's side: encoding receipts for `SubmitReceipts` (not compiled into the contracts).
#[cfg(feature = "encode")]
mod encode {
    use std::collections::{BTreeMap, BTreeSet};

    use cosmwasm_std::Binary;

    use super::*;
    use crate::receipt::SignedReceipt;
    use crate::types::NetworkConfig;
    use crate::verify::{decode_payment_header, evm_address_of, parse_evm_address, parse_payment};

    /// What the encoder needs of the verifier's config: the lists the compact form indexes.
    #[derive(Clone, Copy, Debug)]
    pub struct EncodeContext<'a> {
        /// The verifier's `networks`, in its order.
        pub networks: &'a [NetworkConfig],
        /// The verifier's facilitators, parsed ([`crate::verify::parse_facilitators`]), in its order.
        pub facilitators: &'a [[u8; 20]],
    }

    struct Writer(Vec<u8>);

    impl Writer {
        fn uint(&mut self, mut v: u128) {
            loop {
                let b = (v & 0x7f) as u8;
                v >>= 7;
                if v == 0 {
                    self.0.push(b);
                    return;
                }
                self.0.push(b | 0x80);
            }
        }
        fn str(&mut self, s: &str) {
            self.0.push(s.len() as u8);
            self.0.extend_from_slice(s.as_bytes());
        }
    }

    /// The compact bytes of a decoded receipt (the inverse of [`decode`]). `None` if a field
    /// does not fit the layout: an id or token domain string over 255 bytes, a node signature
    /// of neither 64 nor 65 bytes, an x402 version other than 1 or 2, or digests not 32 bytes.
    pub fn encode(c: &CompactReceipt) -> Option<Vec<u8>> {
        let strs_fit = [&c.receipt.node_id, &c.receipt.model_id]
            .into_iter()
            .chain(c.token_domain.iter().flat_map(|(n, v)| [n, v]))
            .all(|s| s.len() <= 255);
        if !strs_fit
            || !matches!(c.node_signature.len(), 64 | 65)
            || !matches!(c.x402_version, 1 | 2)
            || c.receipt.request_digest.len() != 32
            || c.receipt.response_digest.len() != 32
            || c.keys.iter().flatten().any(|k| k[0] != 4)
        {
            return None;
        }
        let bit = |on: bool, flag: u8| if on { flag } else { 0 };
        let flags = bit(c.x402_version == 2, FLAG_V2)
            | bit(c.required.is_some(), FLAG_REQUIRED)
            | bit(c.token_domain.is_some(), FLAG_DOMAIN)
            | bit(c.settlement.is_some(), FLAG_SETTLEMENT)
            | bit(c.node_signature.len() == 64, FLAG_ED25519)
            | bit(c.keys[0].is_some(), FLAG_PAYER_KEY)
            | bit(c.keys[1].is_some(), FLAG_NODE_KEY)
            | bit(c.keys[2].is_some(), FLAG_FACILITATOR_KEY);
        let mut w = Writer(Vec::with_capacity(440));
        w.0.extend_from_slice(&[VERSION, KIND_X402_EXACT_EIP3009, flags, c.network, c.asset]);
        if let Some((name, version)) = &c.token_domain {
            w.str(name);
            w.str(version);
        }
        let a = &c.authorization;
        w.0.extend_from_slice(&a.from);
        w.0.extend_from_slice(&a.to);
        w.uint(a.value);
        if let Some(required) = c.required {
            w.uint(required);
        }
        w.uint(a.valid_after.into());
        w.uint(a.valid_before.into());
        w.0.extend_from_slice(&a.nonce);
        w.0.extend_from_slice(&c.signature);
        let r = &c.receipt;
        w.str(&r.node_id);
        w.str(&r.model_id);
        w.0.extend_from_slice(&r.request_digest);
        w.0.extend_from_slice(&r.response_digest);
        w.uint(r.prompt_tokens.into());
        w.uint(r.completion_tokens.into());
        w.uint(r.served_at.into());
        w.0.extend_from_slice(&c.node_signature);
        if let Some(s) = &c.settlement {
            w.0.push(s.facilitator);
            w.0.extend_from_slice(&s.tx_hash);
            w.0.extend_from_slice(&s.signature);
        }
        for key in c.keys.iter().flatten() {
            w.0.extend_from_slice(&key[1..]);
        }
        Some(w.0)
    }

    /// The compact form of a JSON receipt under the verifier config `ctx`, with the
    /// [`crate::receipt::SignerKeys`] it carries. `None` when the compact form could not give
    /// the JSON form's verdict, so the receipt must travel as JSON: a payment that does not decode
    /// or parse, a Permit2 payment (`exact` via Permit2 or `upto`), a settlement attestation
    /// stating an amount, a scheme other than `exact`, an x402 version other than 1 or 2, a network or
    /// asset not in `ctx`, requirements whose `payTo` is not the authorization's `to`, a payer
    /// signature that is not 65 bytes, a facilitator not in `ctx` or a tx hash that is not 32
    /// bytes, a node signature of neither 64 nor 65 bytes, digests that are not 32 bytes, ids over
    /// 255 bytes.
    pub fn compact_receipt(r: &SignedReceipt, ctx: &EncodeContext) -> Option<CompactReceipt> {
        let payload = decode_payment_header(&r.payment).ok()?;
        let parsed = parse_payment(&payload, &r.requirements).ok()?;
        // Permit2 `exact` and `upto` have no compact layout yet: they travel as JSON
        if parsed.permit2.is_some() || parsed.pay_to != parsed.auth.to {
            return None;
        }
        let signature: [u8; 65] = parsed.signature.as_deref()?.try_into().ok()?;
        let network = ctx
            .networks
            .iter()
            .position(|n| n.chain_id == parsed.chain_id)?;
        let asset_index = ctx.networks[network]
            .assets
            .iter()
            .position(|a| parse_evm_address(&a.address) == Some(parsed.asset))?;
        let asset_config = &ctx.networks[network].assets[asset_index];
        let extra = r.requirements.extra.as_ref()?;
        let (name, version) = (extra.name.clone()?, extra.version.clone()?);
        let token_domain = (asset_config.eip712_name.as_deref() != Some(&name)
            || asset_config.eip712_version.as_deref() != Some(&version))
        .then_some((name, version));
        let settlement = match &r.settlement {
            None => None,
            // a stated amount is not carried (the JSON form checks it against the value)
            Some(s) if s.amount.is_some() => return None,
            Some(s) => {
                let f = parse_evm_address(&s.facilitator)?;
                Some(CompactSettlement {
                    facilitator: u8::try_from(ctx.facilitators.iter().position(|x| *x == f)?)
                        .ok()?,
                    tx_hash: s.tx_hash.as_slice().try_into().ok()?,
                    signature: s.signature.as_slice().try_into().ok()?,
                })
            }
        };
        let key = |k: &Option<Binary>| -> Option<[u8; 65]> {
            k.as_ref()
                .filter(|k| evm_address_of(k).is_some())
                .and_then(|k| k.as_slice().try_into().ok())
        };
        let hints = r.signer_keys.clone().unwrap_or_default();
        let c = CompactReceipt {
            x402_version: parsed.x402_version,
            network: u8::try_from(network).ok()?,
            asset: u8::try_from(asset_index).ok()?,
            token_domain,
            required: (parsed.required != parsed.auth.value).then_some(parsed.required),
            authorization: parsed.auth,
            signature,
            receipt: r.receipt.clone(),
            node_signature: r.node_signature.to_vec(),
            settlement,
            keys: [key(&hints.payer), key(&hints.node), key(&hints.facilitator)],
        };
        // every field fits the layout
        encode(&c).map(|_| c)
    }

    /// A `SubmitReceipts` batch as the keeper sends it: every receipt compact
    /// ([`compact_receipt`]), with each signer key worth sending sent once
    /// ([`compact_signer_keys`]); `None` if any receipt is not encodable (the batch then goes as
    /// JSON, [`compact_for_submission`], so results keep the batch's order).
    pub fn encode_batch(receipts: &[SignedReceipt], ctx: &EncodeContext) -> Option<Vec<Binary>> {
        let mut compact = receipts
            .iter()
            .map(|r| compact_receipt(r, ctx))
            .collect::<Option<Vec<_>>>()?;
        dedup_signer_keys(compact.iter_mut().map(|c| &mut c.keys));
        compact.iter().map(|c| encode(c).map(Binary::new)).collect()
    }

    /// Bytes a receipt adds to the JSON `SubmitReceipts` message as the keeper sends it: its
    /// compact form without signer keys, base64, quoted, with a comma (keys go once per batch and
    /// are not counted); or its JSON form (as [`compact_for_submission`] leaves it) when it is
    /// not encodable.
    pub fn wire_len(r: &SignedReceipt, ctx: &EncodeContext) -> usize {
        match compact_receipt(r, ctx) {
            Some(mut c) => {
                c.keys = [None, None, None];
                encode(&c).map_or(0, |b| b.len().div_ceil(3) * 4) + 3
            }
            None => {
                let mut one = [r.clone()];
                compact_for_submission(&mut one);
                one[0].signer_keys = None;
                serde_json::to_vec(&one[0]).map_or(0, |j| j.len()) + 1
            }
        }
    }

    /// Prepares JSON receipts for `SubmitReceipts`, the smallest JSON message with the same
    /// verdicts: drops the fields of each `requirements` that no check reads (`resource`,
    /// `description`, `mimeType`, `maxTimeoutSeconds`: the payer signs the authorization, the
    /// node the receipt, neither covers them) and keeps one copy of each signer key worth sending
    /// ([`compact_signer_keys`]). Every message byte costs gas on chain (wasmd: 10 SDK gas per tx
    /// byte).
    pub fn compact_for_submission(receipts: &mut [SignedReceipt]) {
        for r in receipts.iter_mut() {
            let q = &mut r.requirements;
            q.resource = None;
            q.description = None;
            q.mime_type = None;
            q.max_timeout_seconds = None;
        }
        compact_signer_keys(receipts);
    }

    /// Keeps one copy of each signer key of a JSON batch worth sending
    /// ([`dedup_signer_keys`]); a receipt left without keys has `signer_keys: None`.
    pub fn compact_signer_keys(receipts: &mut [SignedReceipt]) {
        let mut slots: Vec<[Option<[u8; 65]>; 3]> = receipts
            .iter()
            .map(|r| {
                let k = r.signer_keys.clone().unwrap_or_default();
                let key = |k: &Option<Binary>| {
                    k.as_ref()
                        .filter(|k| evm_address_of(k).is_some())
                        .and_then(|k| <[u8; 65]>::try_from(k.as_slice()).ok())
                };
                [key(&k.payer), key(&k.node), key(&k.facilitator)]
            })
            .collect();
        dedup_signer_keys(slots.iter_mut());
        for (r, [payer, node, facilitator]) in receipts.iter_mut().zip(slots) {
            let b = |k: Option<[u8; 65]>| k.map(|k| Binary::new(k.to_vec()));
            r.signer_keys =
                (payer.is_some() || node.is_some() || facilitator.is_some()).then(|| {
                    crate::receipt::SignerKeys {
                        payer: b(payer),
                        node: b(node),
                        facilitator: b(facilitator),
                    }
                });
        }
    }

    /// Keeps the signer keys of a batch (each receipt's payer, node and facilitator key, 65 bytes
    /// uncompressed) worth sending: each key once, on the first receipt that carries it, and only
    /// if at least two receipts of the batch carry it; every other copy is removed. The verifier
    /// collects the keys of the whole batch ([`KeyBook`]), so one copy serves every signature of
    /// that signer.
    ///
    /// Why two: a key is 64 compact bytes (about 86 in base64), which wasmd charges at 10 SDK gas
    /// per tx byte (~860), and saves about 700 SDK gas per signature it lets the verifier verify
    /// instead of recover (`secp256k1_recover_pubkey` 194,000,000 VM gas against
    /// `secp256k1_verify` 96,000,000). So a node's or facilitator's key (a signature on every
    /// receipt) is worth sending once, a payer's only when it paid for at least two calls in the
    /// batch. Verdicts do not change.
    pub fn dedup_signer_keys<'a>(batch: impl Iterator<Item = &'a mut [Option<[u8; 65]>; 3]>) {
        let mut batch: Vec<_> = batch.collect();
        let mut uses: BTreeMap<[u8; 20], usize> = BTreeMap::new();
        for keys in batch.iter() {
            let seen: BTreeSet<[u8; 20]> = keys
                .iter()
                .flatten()
                .filter_map(|k| evm_address_of(k))
                .collect();
            for a in seen {
                *uses.entry(a).or_default() += 1;
            }
        }
        let mut sent: BTreeSet<[u8; 20]> = BTreeSet::new();
        for keys in batch.iter_mut() {
            for slot in keys.iter_mut() {
                let keep = slot
                    .as_ref()
                    .and_then(|k| evm_address_of(k))
                    .is_some_and(|a| uses.get(&a).is_some_and(|n| *n >= 2) && sent.insert(a));
                if !keep {
                    *slot = None;
                }
            }
        }
    }
}
