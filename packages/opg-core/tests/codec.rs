//! The compact wire form (`opg_core::codec`): layout round trips (proptest), canonical decoding of
//! arbitrary bytes, and the specific reasons of bytes that do not decode. Verdicts of encoded
//! receipts are checked over every verifier case in `tests/receipts.rs`.
use cosmwasm_std::Binary;
use opg_core::codec::{decode, encode, CompactReceipt, CompactSettlement, DecodeError};
use opg_core::eip712::Authorization;
use opg_core::reason::RejectReason;
use opg_core::receipt::InferenceReceipt;
use proptest::prelude::*;
use proptest::strategy::ValueTree;

fn key() -> impl Strategy<Value = Option<[u8; 65]>> {
    proptest::option::of(any::<[u8; 32]>().prop_map(|h| {
        let mut k = [4u8; 65];
        k[1..33].copy_from_slice(&h);
        k[33..].copy_from_slice(&h);
        k
    }))
}

fn sig65() -> impl Strategy<Value = [u8; 65]> {
    (any::<[u8; 32]>(), any::<[u8; 32]>(), any::<u8>()).prop_map(|(r, s, v)| {
        let mut out = [0u8; 65];
        out[..32].copy_from_slice(&r);
        out[32..64].copy_from_slice(&s);
        out[64] = v;
        out
    })
}

prop_compose! {
    fn receipt()(
        v2 in any::<bool>(),
        network in any::<u8>(),
        asset in any::<u8>(),
        token_domain in proptest::option::of(("[a-zA-Z ]{0,20}", "[0-9]{0,3}")),
        from in any::<[u8; 20]>(),
        to in any::<[u8; 20]>(),
        value in any::<u128>(),
        required in proptest::option::of(any::<u128>()),
        valid_after in any::<u64>(),
        valid_before in any::<u64>(),
        nonce in any::<[u8; 32]>(),
        signature in sig65(),
        node_id in "[a-z0-9-]{0,40}",
        model_id in "\\PC{0,30}",
        digests in any::<([u8; 32], [u8; 32])>(),
        tokens in any::<(u64, u64, u64)>(),
        ed25519 in any::<bool>(),
        node_sig in sig65(),
        settlement in proptest::option::of((any::<u8>(), any::<[u8; 32]>(), sig65())),
        keys in (key(), key(), key()),
    ) -> CompactReceipt {
        CompactReceipt {
            x402_version: if v2 { 2 } else { 1 },
            network,
            asset,
            token_domain,
            authorization: Authorization { from, to, value, valid_after, valid_before, nonce },
            required,
            signature,
            receipt: InferenceReceipt {
                node_id,
                model_id,
                request_digest: Binary::new(digests.0.to_vec()),
                response_digest: Binary::new(digests.1.to_vec()),
                prompt_tokens: tokens.0,
                completion_tokens: tokens.1,
                served_at: tokens.2,
            },
            node_signature: node_sig[..if ed25519 { 64 } else { 65 }].to_vec(),
            settlement: settlement.map(|(facilitator, tx_hash, signature)| CompactSettlement {
                facilitator,
                tx_hash,
                signature,
            }),
            keys: [keys.0, keys.1, keys.2],
        }
    }
}

proptest! {
    #[test]
    fn decode_inverts_encode(c in receipt()) {
        let bytes = encode(&c).expect("fits the layout");
        prop_assert_eq!(decode(&bytes), Ok(c));
    }

    #[test]
    fn decoding_is_canonical(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        // whatever decodes encodes back to the same bytes: one receipt, one encoding
        if let Ok(c) = decode(&bytes) {
            prop_assert_eq!(encode(&c), Some(bytes));
        }
    }

    #[test]
    fn every_cut_of_a_receipt_is_refused(c in receipt(), cut in any::<prop::sample::Index>()) {
        let bytes = encode(&c).unwrap();
        let n = cut.index(bytes.len());
        prop_assert!(decode(&bytes[..n]).is_err());
        let mut longer = bytes.clone();
        longer.push(0);
        prop_assert_eq!(decode(&longer), Err(DecodeError::TrailingBytes));
    }
}

#[test]
fn undecodable_bytes_get_specific_reasons() {
    let c = {
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        receipt().new_tree(&mut runner).unwrap().current()
    };
    let good = encode(&c).unwrap();
    assert_eq!(
        decode(&[]).unwrap_err().reason(),
        RejectReason::CompactUnsupportedVersion
    );
    let mut v2 = good.clone();
    v2[0] = 2;
    assert_eq!(decode(&v2), Err(DecodeError::UnsupportedVersion(2)));
    assert_eq!(
        decode(&v2).unwrap_err().reason().as_str(),
        "compact_unsupported_version"
    );
    let mut kind = good.clone();
    kind[1] = 2; // e.g. a Permit2 kind this codec does not know
    assert_eq!(decode(&kind), Err(DecodeError::UnknownKind(2)));
    assert_eq!(
        decode(&kind).unwrap_err().reason().as_str(),
        "compact_unknown_kind"
    );
    assert_eq!(decode(&good[..good.len() - 1]), Err(DecodeError::Truncated));
    assert_eq!(
        decode(&good[..good.len() - 1])
            .unwrap_err()
            .reason()
            .as_str(),
        "compact_malformed"
    );
}

#[test]
fn integers_must_be_minimal_leb128() {
    // version, kind, flags 0 (v1, no options, secp node signature), network 0, asset 0,
    // from, to, then `value`
    let head: Vec<u8> = [1u8, 1, 0, 0, 0].into_iter().chain([0u8; 40]).collect();
    let with_value = |v: &[u8]| -> Result<CompactReceipt, DecodeError> {
        let mut b = head.clone();
        b.extend_from_slice(v);
        decode(&b)
    };
    // 0 as two bytes, 1 with a zero continuation byte: not minimal
    assert_eq!(with_value(&[0x80, 0x00]), Err(DecodeError::BadInteger));
    assert_eq!(with_value(&[0x81, 0x00]), Err(DecodeError::BadInteger));
    // 2^128 does not fit u128
    let mut over = vec![0xffu8; 18];
    over.push(0x04);
    assert_eq!(with_value(&over), Err(DecodeError::BadInteger));
    // u128::MAX does, and then the bytes end
    let mut max = vec![0xffu8; 18];
    max.push(0x03);
    assert_eq!(with_value(&max), Err(DecodeError::Truncated));
}
