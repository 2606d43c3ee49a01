//! x402 payments through Permit2 (`@x402/evm` 2.27.0): scheme `exact` with
//! `extra.assetTransferMethod: "permit2"`, and scheme `upto` (the payer signs a maximum, the
//! facilitator settles what the call cost). The payer signs Permit2's `PermitWitnessTransferFrom`
//! ([`crate::eip712::permit2_witness_transfer_digest`]) naming one of the x402 proxies as spender;
//! the proxy moves the tokens through the canonical Permit2 contract.
//!
//! Signature rules follow what settles on chain (Permit2's `SignatureVerification.verify`):
//! 65-byte `r || s || v` with `v` 27 or 28 (the `ecrecover` precompile returns `address(0)` for
//! any other `v`, so `v` 0/1 fails on chain although viem, behind the reference facilitator,
//! accepts it), or 64-byte EIP-2098 `r || vs` (`s = vs & (2^255 - 1)`, `v = 27 + (vs >> 255)`;
//! the reference facilitator refuses these, Permit2 accepts them); high-s is accepted (`ecrecover`
//! does). Smart-wallet (ERC-1271) signatures need the wallet's code and are not accepted.

/// The canonical Permit2 contract, the same address on every EVM chain
/// (`0x000000000022D473030F116dDEE9F6B43aC78BA3`).
pub const PERMIT2_ADDRESS: [u8; 20] = [
    0x00, 0x00, 0x00, 0x00, 0x00, 0x22, 0xd4, 0x73, 0x03, 0x0f, 0x11, 0x6d, 0xde, 0xe9, 0xf6, 0xb4,
    0x3a, 0xc7, 0x8b, 0xa3,
];
/// `x402ExactPermit2Proxy` (`@x402/evm` 2.27.0), the spender of `exact` Permit2 payments:
/// `0x402085c248EeA27D92E8b30b2C58ed07f9E20001`.
pub const X402_EXACT_PERMIT2_PROXY: [u8; 20] = [
    0x40, 0x20, 0x85, 0xc2, 0x48, 0xee, 0xa2, 0x7d, 0x92, 0xe8, 0xb3, 0x0b, 0x2c, 0x58, 0xed, 0x07,
    0xf9, 0xe2, 0x00, 0x01,
];
/// `x402UptoPermit2Proxy` (`@x402/evm` 2.27.0), the spender of `upto` payments:
/// `0x4020A4f3b7b90ccA423B9fabCc0CE57C6C240002`.
pub const X402_UPTO_PERMIT2_PROXY: [u8; 20] = [
    0x40, 0x20, 0xa4, 0xf3, 0xb7, 0xb9, 0x0c, 0xca, 0x42, 0x3b, 0x9f, 0xab, 0xcc, 0x0c, 0xe5, 0x7c,
    0x6c, 0x24, 0x00, 0x02,
];

/// secp256k1 group order n, big-endian.
const SECP256K1_ORDER: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
    0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41,
];
/// n / 2, big-endian.
const SECP256K1_HALF_ORDER: [u8; 32] = [
    0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0x5d, 0x57, 0x6e, 0x73, 0x57, 0xa4, 0x50, 0x1d, 0xdf, 0xe9, 0x2f, 0x46, 0x68, 0x1b, 0x20, 0xa0,
];

/// Splits a Permit2 signature, as Permit2 reads it, into a low-s `r || s` and the recovery id
/// (0 or 1): 65 bytes with `v` 27/28, or 64-byte EIP-2098. A high `s` is replaced by `n - s` with
/// the recovery id flipped (the same signer; `ecrecover` accepts both). `None` for any other
/// length or `v`, or `r`/`s` zero or not below n (where `ecrecover` gives `address(0)`).
pub fn split_permit2_signature(signature: &[u8]) -> Option<([u8; 64], u8)> {
    let mut rs = [0u8; 64];
    let recovery_id = match signature.len() {
        65 => {
            rs.copy_from_slice(&signature[..64]);
            match signature[64] {
                27 => 0,
                28 => 1,
                _ => return None,
            }
        }
        64 => {
            rs.copy_from_slice(signature);
            let y = rs[32] >> 7;
            rs[32] &= 0x7f;
            y
        }
        _ => return None,
    };
    let (r, s) = rs.split_at_mut(32);
    let zero = |x: &[u8]| x.iter().all(|b| *b == 0);
    if zero(r) || zero(s) || *r >= SECP256K1_ORDER[..] || *s >= SECP256K1_ORDER[..] {
        return None;
    }
    if *s > SECP256K1_HALF_ORDER[..] {
        let mut borrow = 0i16;
        for i in (0..32).rev() {
            let d = i16::from(SECP256K1_ORDER[i]) - i16::from(s[i]) - borrow;
            borrow = i16::from(d < 0);
            s[i] = (d + if d < 0 { 256 } else { 0 }) as u8;
        }
        return Some((rs, recovery_id ^ 1));
    }
    Some((rs, recovery_id))
}

/// Parses a decimal uint256 string (digits only, leading zeros allowed) into a big-endian
/// 32-byte word; `None` if empty, not decimal, or above 2^256 - 1.
pub fn parse_decimal_u256(s: &str) -> Option<[u8; 32]> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut w = [0u8; 32];
    for d in s.bytes() {
        let mut carry = u16::from(d - b'0');
        for byte in w.iter_mut().rev() {
            let x = u16::from(*byte) * 10 + carry;
            *byte = (x & 0xff) as u8;
            carry = x >> 8;
        }
        if carry != 0 {
            return None;
        }
    }
    Some(w)
}

/// A big-endian uint256 word as a decimal string (the JSON form of Permit2's uint256 fields).
pub fn format_decimal_u256(w: &[u8; 32]) -> String {
    let mut n = *w;
    let mut digits = Vec::new();
    loop {
        let mut rem = 0u16;
        for byte in n.iter_mut() {
            let x = (rem << 8) | u16::from(*byte);
            *byte = (x / 10) as u8;
            rem = x % 10;
        }
        digits.push(b'0' + rem as u8);
        if n.iter().all(|b| *b == 0) {
            break;
        }
    }
    digits.reverse();
    String::from_utf8(digits).expect("ASCII digits")
}

/// `v` as a big-endian uint256 word.
pub fn u256_word(v: u128) -> [u8; 32] {
    let mut w = [0u8; 32];
    w[16..].copy_from_slice(&v.to_be_bytes());
    w
}

/// A big-endian uint256 word as `u64`, saturating at `u64::MAX` (a deadline or `validAfter`
/// beyond 2^64 - 1 seconds compares like one at `u64::MAX`).
pub fn saturating_u64(w: &[u8; 32]) -> u64 {
    if w[..24].iter().any(|b| *b != 0) {
        return u64::MAX;
    }
    u64::from_be_bytes(w[24..].try_into().expect("8 bytes"))
}

/// A big-endian uint256 word as `u128`; `None` above 2^128 - 1.
pub fn to_u128(w: &[u8; 32]) -> Option<u128> {
    if w[..16].iter().any(|b| *b != 0) {
        return None;
    }
    Some(u128::from_be_bytes(w[16..].try_into().expect("16 bytes")))
}

/// The Permit2 unordered-nonce position of `nonce`: `(word, bit)` = `(nonce >> 8, nonce & 0xff)`;
/// Permit2 keeps one bitmap word per `(owner, word)` and flips `bit` when the nonce is used.
/// The verifier's replay key is the whole nonce (the pair, losslessly) with the payer.
pub fn nonce_word_bit(nonce: &[u8; 32]) -> ([u8; 32], u8) {
    let mut word = [0u8; 32];
    word[1..].copy_from_slice(&nonce[..31]);
    (word, nonce[31])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_match_the_reference_strings() {
        let hex = |a: &[u8; 20]| format!("0x{}", hex::encode(a));
        assert_eq!(
            hex(&PERMIT2_ADDRESS),
            "0x000000000022d473030f116ddee9f6b43ac78ba3"
        );
        assert_eq!(
            hex(&X402_EXACT_PERMIT2_PROXY),
            "0x402085c248eea27d92e8b30b2c58ed07f9e20001"
        );
        assert_eq!(
            hex(&X402_UPTO_PERMIT2_PROXY),
            "0x4020a4f3b7b90cca423b9fabcc0ce57c6c240002"
        );
    }

    #[test]
    fn decimal_u256() {
        let max = "115792089237316195423570985008687907853269984665640564039457584007913129639935";
        assert_eq!(parse_decimal_u256(max), Some([0xff; 32]));
        let over = "115792089237316195423570985008687907853269984665640564039457584007913129639936";
        assert_eq!(parse_decimal_u256(over), None);
        let mut one_two_three = [0u8; 32];
        one_two_three[31] = 123;
        assert_eq!(parse_decimal_u256("00123"), Some(one_two_three));
        assert_eq!(format_decimal_u256(&one_two_three), "123");
        assert_eq!(format_decimal_u256(&[0; 32]), "0");
        assert_eq!(format_decimal_u256(&[0xff; 32]), max);
        assert_eq!(parse_decimal_u256(""), None);
        assert_eq!(parse_decimal_u256("-1"), None);
        assert_eq!(parse_decimal_u256("0x1"), None);
        assert_eq!(saturating_u64(&[0xff; 32]), u64::MAX);
        assert_eq!(saturating_u64(&one_two_three), 123);
        assert_eq!(to_u128(&[0xff; 32]), None);
        let (word, bit) = nonce_word_bit(&parse_decimal_u256("513").unwrap());
        assert_eq!((word[31], bit), (2, 1));
    }

    #[test]
    fn signature_forms() {
        let mut sig = [0u8; 65];
        sig[31] = 5;
        sig[63] = 7;
        sig[64] = 28;
        let (rs, id) = split_permit2_signature(&sig).unwrap();
        assert_eq!((rs[31], rs[63], id), (5, 7, 1));
        sig[64] = 1;
        assert_eq!(split_permit2_signature(&sig), None, "v must be 27 or 28");
        // EIP-2098: the top bit of vs is the y parity.
        let mut compact = [0u8; 64];
        compact[31] = 5;
        compact[63] = 7;
        compact[32] = 0x80;
        let (rs, id) = split_permit2_signature(&compact).unwrap();
        assert_eq!((rs[32], rs[63], id), (0, 7, 1));
        // high s: n - 1 becomes 1 with the parity flipped.
        let mut high = [0u8; 65];
        high[31] = 5;
        high[32..64].copy_from_slice(&SECP256K1_ORDER);
        high[63] -= 1;
        high[64] = 27;
        let (rs, id) = split_permit2_signature(&high).unwrap();
        let mut one = [0u8; 32];
        one[31] = 1;
        assert_eq!((&rs[32..], id), (&one[..], 1));
        assert_eq!(split_permit2_signature(&[0u8; 66]), None);
        assert_eq!(split_permit2_signature(&[0u8; 65]), None);
    }
}
