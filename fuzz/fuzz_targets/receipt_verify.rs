//! Arbitrary bytes → `SignedReceipt` (keeper's `serde_json` and the chain's `from_json`) →
//! `verify_receipt` against the fuzz world's registry and policy.
//!
//! Oracles: nothing panics; the native and on-chain crypto backends give the same verdict; an
//! accepted receipt is one of the world's valid receipts as far as signed content goes (the
//! fuzzer cannot forge a signature).
#![no_main]

use cosmwasm_std::testing::MockApi;
use libfuzzer_sys::fuzz_target;
use opg_core::crypto::{ApiCrypto, NativeCrypto};
use opg_core::receipt::SignedReceipt;
use opg_core::verify::verify_receipt;
use opg_fuzz::{valid_receipts, world, NOW};

fn check(receipt: &SignedReceipt) {
    let w = world();
    let policy = w.policy();
    let api = MockApi::default();
    let native = verify_receipt(&NativeCrypto, &policy, &w.registry, receipt, NOW);
    let chain = verify_receipt(&ApiCrypto(&api), &policy, &w.registry, receipt, NOW);
    assert_eq!(native, chain, "native and on-chain crypto disagree");
    if native.is_ok() {
        assert!(
            valid_receipts()
                .iter()
                .any(|v| v.receipt == receipt.receipt),
            "accepted a receipt whose signed content no valid receipt has"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let keeper = serde_json::from_slice::<SignedReceipt>(data).ok();
    if let Some(r) = &keeper {
        check(r);
    }
    if let Ok(r) = cosmwasm_std::from_json::<SignedReceipt>(data) {
        if keeper.as_ref() != Some(&r) {
            check(&r);
        }
    }
});
