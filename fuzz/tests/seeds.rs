//! The fuzz world's valid inputs are valid (otherwise the seed corpus and the oracles that compare
//! with them would be meaningless): the receipts verify with both crypto backends, and the x402
//! fixtures' valid headers pass `verify_payment` against the targets' fixed requirements.
use cosmwasm_std::testing::MockApi;
use opg_core::crypto::{ApiCrypto, NativeCrypto};
use opg_core::verify::{
    decode_payment_header, verify_payment, verify_receipt, VALID_BEFORE_MARGIN,
};
use opg_fuzz::x402::{requirements_v1, requirements_v2, VERIFY_TIME};
use opg_fuzz::{steps, valid_receipts, world, NOW, TIME_STEPS};

#[test]
fn valid_receipts_verify_with_both_backends() {
    let w = world();
    let api = MockApi::default();
    for r in valid_receipts() {
        let native = verify_receipt(&NativeCrypto, &w.policy(), &w.registry, r, NOW);
        let chain = verify_receipt(&ApiCrypto(&api), &w.policy(), &w.registry, r, NOW);
        assert!(native.is_ok(), "{:?}", native.err());
        assert_eq!(native, chain);
    }
    let mut unsettled = valid_receipts()[0].clone();
    unsettled.settlement = None;
    let verdict = verify_receipt(&NativeCrypto, &w.policy(), &w.registry, &unsettled, NOW);
    assert_eq!(verdict.unwrap_err().reason.as_str(), "settlement_missing");
}

#[test]
fn fixture_headers_verify_against_the_fixed_requirements() {
    for (file, requirements) in [
        ("payments-v1.json", requirements_v1()),
        ("payments-v2.json", requirements_v2()),
    ] {
        let path = format!(
            "{}/../tests/fixtures/x402/{file}",
            env!("CARGO_MANIFEST_DIR")
        );
        let fixture: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let case = &fixture["cases"][0];
        assert_eq!(case["expected"]["valid"], true);
        assert_eq!(case["verify_time"], VERIFY_TIME);
        let payload = decode_payment_header(case["header"].as_str().unwrap()).unwrap();
        let verified = verify_payment(
            &NativeCrypto,
            &payload,
            requirements,
            VERIFY_TIME,
            VALID_BEFORE_MARGIN,
        )
        .unwrap();
        assert_eq!(verified.payer, case["expected"]["payer"].as_str().unwrap());
    }
}

#[test]
fn step_format_round_trips() {
    let input = [
        vec![opg_fuzz::control(2, true, 3)],
        b"{\"fund\":{}}".to_vec(),
        b"\n\n".to_vec(),
        vec![opg_fuzz::control(1, false, 1), b'{'],
    ]
    .concat();
    let s = steps(&input);
    assert_eq!(s.len(), 2);
    assert_eq!(
        (s[0].sender, s[0].funds, s[0].advance),
        (2, true, TIME_STEPS[3])
    );
    assert_eq!(s[0].msg, b"{\"fund\":{}}");
    assert_eq!(
        (s[1].sender, s[1].funds, s[1].advance),
        (1, false, TIME_STEPS[1])
    );
    assert_eq!(steps(&[b'\n'; 20]).len(), 0);
    assert_eq!(steps(&b"a{}\n".repeat(20)).len(), opg_fuzz::MAX_STEPS);
}
