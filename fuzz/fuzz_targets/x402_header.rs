//! x402 payment header → `decode_payment_header` → `verify_payment` against fixed requirements.
//!
//! Input: a header value (base64 of JSON), or, when it starts with `{`, the JSON itself (base64
//! encoded here, so the fuzzer mutates the JSON layer directly). Oracles: nothing panics; the
//! native (RustCrypto) and on-chain (`deps.api`, cosmwasm-crypto) backends give the same verdict;
//! an accepted payment's payer is the authorization's `from`.
#![no_main]

use base64::Engine as _;
use cosmwasm_std::testing::MockApi;
use libfuzzer_sys::fuzz_target;
use opg_core::crypto::{ApiCrypto, NativeCrypto};
use opg_core::verify::{
    decode_payment_header, network_chain_id, verify_payment, VALID_BEFORE_MARGIN,
};
use opg_fuzz::x402::{requirements_v1, requirements_v2, VERIFY_TIME};

fuzz_target!(|data: &[u8]| {
    let header = if data.first() == Some(&b'{') {
        base64::engine::general_purpose::STANDARD.encode(data)
    } else {
        match std::str::from_utf8(data) {
            Ok(s) => s.to_string(),
            Err(_) => return,
        }
    };
    let Ok(payload) = decode_payment_header(&header) else {
        return;
    };
    if let Some(network) = &payload.network {
        let _ = network_chain_id(network);
    }
    let requirements = if payload.x402_version == 1 {
        requirements_v1()
    } else {
        requirements_v2()
    };
    let api = MockApi::default();
    for now in [VERIFY_TIME, u64::MAX, 0] {
        let native = verify_payment(
            &NativeCrypto,
            &payload,
            requirements,
            now,
            VALID_BEFORE_MARGIN,
        );
        let chain = verify_payment(
            &ApiCrypto(&api),
            &payload,
            requirements,
            now,
            VALID_BEFORE_MARGIN,
        );
        assert_eq!(native, chain, "native and on-chain crypto disagree");
        if let Ok(verified) = native {
            assert_eq!(
                verified.payer,
                opg_core::verify::claimed_payer_and_nonce(&payload).0.unwrap_or_default(),
                "accepted payment's payer is not `from`"
            );
        }
    }
});
