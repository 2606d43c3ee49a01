//! ed25519 under ZIP-215, the rules of the chain's `ed25519_verify` (ed25519-zebra in
//! `cosmwasm-crypto`): the keeper (`NativeCrypto`) and the contract (`ApiCrypto` on the host)
//! must accept exactly the same node signatures, including the edge cases where ZIP-215 and
//! `ed25519-dalek`'s `verify_strict` differ; and the small-order keys under which ZIP-215 accepts
//! forgeries are recognised (the registry refuses them).
//!
//! Vectors are computed here with curve25519-dalek (independent of the code under test): the
//! eight torsion points, and a signature whose `R` carries a torsion component, as in the
//! "Taming the many EdDSAs" edge cases (Chalkias, Garillot, Nikolaenko, 2020).
use cosmwasm_std::testing::MockApi;
use curve25519_dalek::constants::{ED25519_BASEPOINT_POINT, EIGHT_TORSION};
use curve25519_dalek::edwards::CompressedEdwardsY;
use curve25519_dalek::scalar::Scalar;
use opg_core::crypto::{ApiCrypto, Crypto, NativeCrypto};
use opg_core::types::ed25519_small_order;
use sha2::{Digest, Sha512};

/// p = 2^255 - 19, little endian.
const P: [u8; 32] = {
    let mut p = [0xffu8; 32];
    p[0] = 0xed;
    p[31] = 0x7f;
    p
};

fn add_le(a: &[u8; 32], b: &[u8; 32]) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    let mut carry = 0u16;
    for i in 0..32 {
        let s = u16::from(a[i]) + u16::from(b[i]) + carry;
        out[i] = s as u8;
        carry = s >> 8;
    }
    (carry == 0 && out[31] & 0x80 == 0).then_some(out)
}

/// Every 32-byte string that decompresses (as the chain does, non-canonical `y` and "negative
/// zero" included) to a point of small order: a point's `y` is its encoding's low 255 bits mod p,
/// so the candidates are each torsion point's `y` and `y + p`, with either sign bit.
fn small_order_encodings() -> Vec<[u8; 32]> {
    let mut out = Vec::new();
    for t in EIGHT_TORSION.iter() {
        let mut y = t.compress().to_bytes();
        y[31] &= 0x7f;
        for candidate in [Some(y), add_le(&y, &P)].into_iter().flatten() {
            for sign in [0u8, 0x80] {
                let mut b = candidate;
                b[31] |= sign;
                let small = CompressedEdwardsY(b)
                    .decompress()
                    .is_some_and(|p| p.is_small_order());
                if small && !out.contains(&b) {
                    out.push(b);
                }
            }
        }
    }
    out
}

fn backends_agree(msg: &[u8], sig: &[u8], key: &[u8]) -> bool {
    let api = MockApi::default();
    let native = NativeCrypto.ed25519_verify(msg, sig, key);
    let chain = ApiCrypto(&api).ed25519_verify(msg, sig, key);
    assert_eq!(native, chain, "keeper and chain disagree");
    native
}

#[test]
fn small_order_keys_are_exactly_the_fourteen_encodings() {
    let all = small_order_encodings();
    assert_eq!(all.len(), 14);
    for k in &all {
        assert!(ed25519_small_order(k), "{}", hex::encode(k));
    }
    // Honest keys, and near misses of the list, are not small order.
    for i in 0u8..64 {
        let key = ed25519_dalek::SigningKey::from_bytes(&[i; 32]).verifying_key();
        assert!(!ed25519_small_order(key.as_bytes()));
    }
    for k in &all {
        let mut near = *k;
        near[0] ^= 2;
        assert_eq!(ed25519_small_order(&near), all.contains(&near));
    }
    assert!(!ed25519_small_order(&[0u8; 31]));
}

#[test]
fn under_a_small_order_key_zip215_accepts_a_forgery_on_both_backends() {
    // R = identity, S = 0: [8][S]B = [8]R + [8][k]A holds for any message when A has small order.
    let mut forged = [0u8; 64];
    forged[0] = 1;
    for key in small_order_encodings() {
        // Non-canonical encodings of A are refused by the host's key parsing; every canonical
        // small-order key accepts the forgery. Either way both backends agree.
        backends_agree(b"any message at all", &forged, &key);
    }
    let mut identity = [0u8; 32];
    identity[0] = 1;
    assert!(backends_agree(b"any message at all", &forged, &identity));
    assert!(ed25519_small_order(&identity));
}

#[test]
fn a_torsion_component_in_r_is_accepted_by_both_backends_and_refused_by_strict() {
    // An honest key A = aB; R' = rB + T with T of order 8; S = r + H(R' || A || M) a.
    let a = Scalar::from_bytes_mod_order([0x42; 32]);
    let r = Scalar::from_bytes_mod_order([0x17; 32]);
    let big_a = (ED25519_BASEPOINT_POINT * a).compress();
    let msg = [0xabu8; 32];
    let mut verified = 0;
    for t in EIGHT_TORSION.iter().skip(1) {
        let big_r = (ED25519_BASEPOINT_POINT * r + t).compress();
        let k = Scalar::from_bytes_mod_order_wide(
            &Sha512::new()
                .chain_update(big_r.as_bytes())
                .chain_update(big_a.as_bytes())
                .chain_update(msg)
                .finalize()
                .into(),
        );
        let s = r + k * a;
        let mut sig = [0u8; 64];
        sig[..32].copy_from_slice(big_r.as_bytes());
        sig[32..].copy_from_slice(s.as_bytes());
        // ZIP-215's cofactored equation holds: both backends accept.
        assert!(backends_agree(&msg, &sig, big_a.as_bytes()));
        // ed25519-dalek's `verify_strict` (the keeper's check before) refuses it: the keeper
        // would have refused node signatures the chain accepts.
        let strict = ed25519_dalek::VerifyingKey::from_bytes(big_a.as_bytes())
            .unwrap()
            .verify_strict(&msg, &ed25519_dalek::Signature::from_bytes(&sig));
        assert!(strict.is_err());
        // A changed message fails on both.
        assert!(!backends_agree(&[0xac; 32], &sig, big_a.as_bytes()));
        verified += 1;
    }
    assert_eq!(verified, 7);
}

#[test]
fn ordinary_signatures_and_malformed_inputs() {
    use ed25519_dalek::Signer as _;
    let key = ed25519_dalek::SigningKey::from_bytes(&[9; 32]);
    let pk = key.verifying_key().to_bytes();
    let msg = [1u8; 32];
    let sig = key.sign(&msg).to_bytes();
    assert!(backends_agree(&msg, &sig, &pk));
    let mut bad = sig;
    bad[10] ^= 1;
    assert!(!backends_agree(&msg, &bad, &pk));
    // S >= l (non-canonical scalar): refused by both.
    let mut high_s = sig;
    high_s[63] |= 0xf0;
    assert!(!backends_agree(&msg, &high_s, &pk));
    assert!(!backends_agree(&msg, &sig[..63], &pk));
    assert!(!backends_agree(&msg, &sig, &pk[..31]));
}
