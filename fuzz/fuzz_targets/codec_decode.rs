//! Arbitrary bytes → `opg_core::codec::decode` (the compact wire form of `SubmitReceipts`) →
//! `verify_compact_receipt` against the fuzz world's registry and policy.
//!
//! Oracles: nothing panics; decoding is canonical (what decodes encodes back to the same bytes);
//! the native and on-chain crypto backends give the same verdict; an accepted receipt is one of
//! the world's valid receipts as far as signed content goes (the fuzzer cannot forge a signature).
//! Seeds: the world's valid receipts encoded (`fuzz/corpus/codec_decode`, from `gen_corpus`).
#![no_main]

use cosmwasm_std::testing::MockApi;
use libfuzzer_sys::fuzz_target;
use opg_core::codec::{decode, encode, verify_compact_receipt};
use opg_core::crypto::{ApiCrypto, NativeCrypto};
use opg_core::verify::KeyBook;
use opg_fuzz::{valid_receipts, world, NOW};

fuzz_target!(|data: &[u8]| {
    let Ok(c) = decode(data) else {
        return;
    };
    assert_eq!(
        encode(&c).as_deref(),
        Some(data),
        "decoding is not canonical"
    );
    let w = world();
    let policy = w.policy();
    let keys = KeyBook::from_keys(c.key_slices());
    let api = MockApi::default();
    let native = verify_compact_receipt(&NativeCrypto, &policy, &w.registry, &c, &keys, NOW);
    let chain = verify_compact_receipt(&ApiCrypto(&api), &policy, &w.registry, &c, &keys, NOW);
    assert_eq!(native, chain, "native and on-chain crypto disagree");
    if native.is_ok() {
        assert!(
            valid_receipts().iter().any(|v| v.receipt == c.receipt),
            "accepted a receipt whose signed content no valid receipt has"
        );
    }
});
