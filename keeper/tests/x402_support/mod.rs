//! Shared helpers of the `x402*` tests: the committed reference fixtures
//! (`tests/fixtures/x402/payments-v{1,2}.json`, made by `scripts/x402-fixtures/generate.mjs` with
//! the npm packages `x402` (v1) and `@x402/core` + `@x402/evm` (v2)), and payments signed in Rust
//! with `opg_core::sign` for cases the fixtures do not hold.
#![allow(dead_code)] // each test file uses a subset

use std::path::PathBuf;

use base64::Engine as _;
use opg_core::sign::{sign_payment, EvmSigner, PaymentParams};
use opg_core::x402::{ExactEvmExtra, PaymentRequirements};
use serde_json::{json, Value};

/// The fixtures' payer (the public anvil/hardhat test account #0), lowercase.
pub const FIXTURE_PAYER: &str = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266";
/// The fixtures' `payTo` (test account #1).
pub const FIXTURE_PAY_TO: &str = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
/// "Someone else" (test account #2).
pub const OTHER: &str = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";
/// USDC on Base.
pub const USDC_BASE: &str = "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913";

/// One recorded case.
#[derive(Clone, Debug)]
pub struct Case {
    /// Human name (`v1 base: valid`, ...).
    pub name: String,
    /// `x402Version` the request body carries.
    pub x402_version: u64,
    /// The resource server's requirements (JSON as recorded).
    pub requirements: Value,
    /// The header value as the reference client encoded it (possibly tampered).
    pub header: String,
    /// Unix seconds to verify at.
    pub verify_time: u64,
    /// `None` if valid, else the expected `invalidReason`.
    pub reason: Option<String>,
}

impl Case {
    /// The payload JSON inside the header, if it is base64 of JSON.
    pub fn payload(&self) -> Option<Value> {
        let engine = base64::engine::GeneralPurpose::new(
            &base64::alphabet::STANDARD,
            base64::engine::GeneralPurposeConfig::new()
                .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
        );
        let bytes = engine.decode(self.header.trim()).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// The `/verify` body for this case, if the header decodes.
    pub fn body(&self) -> Option<Value> {
        Some(json!({
            "x402Version": self.x402_version,
            "paymentPayload": self.payload()?,
            "paymentRequirements": self.requirements,
        }))
    }

    /// The requirements, typed.
    pub fn typed_requirements(&self) -> PaymentRequirements {
        serde_json::from_value(self.requirements.clone()).unwrap()
    }

    /// The network of the requirements.
    pub fn network(&self) -> &str {
        self.requirements["network"].as_str().unwrap()
    }
}

fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/x402")
        .join(name)
}

/// All recorded payment cases of `payments-v1.json` and `payments-v2.json`.
pub fn cases() -> Vec<Case> {
    let mut out = Vec::new();
    for file in ["payments-v1.json", "payments-v2.json"] {
        let path = fixture_path(file);
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let doc: Value = serde_json::from_str(&text).unwrap();
        for c in doc["cases"].as_array().unwrap() {
            let expected = &c["expected"];
            let reason = if expected["valid"].as_bool().unwrap() {
                assert_eq!(expected["payer"], FIXTURE_PAYER, "{}", c["name"]);
                None
            } else {
                Some(expected["reason"].as_str().unwrap().to_string())
            };
            out.push(Case {
                name: c["name"].as_str().unwrap().to_string(),
                x402_version: c["x402_version"].as_u64().unwrap(),
                requirements: c["requirements"].clone(),
                header: c["header"].as_str().unwrap().to_string(),
                verify_time: c["verify_time"].as_u64().unwrap(),
                reason,
            });
        }
    }
    assert!(out.len() > 100, "fixtures hold {} cases", out.len());
    out
}

/// The untampered reference payment of each (version, network): the cases named `...: valid`.
pub fn valid_cases() -> Vec<Case> {
    let v: Vec<Case> = cases()
        .into_iter()
        .filter(|c| c.name.ends_with(": valid"))
        .collect();
    assert_eq!(v.len(), 6, "3 networks x 2 versions");
    v
}

/// Base64 (padded) of a JSON value: a header value.
pub fn encode_header(payload: &Value) -> String {
    base64::engine::general_purpose::STANDARD.encode(serde_json::to_vec(payload).unwrap())
}

/// Requirements on Base: v1 (`base`, `maxAmountRequired`) or v2 (`eip155:8453`, `amount`).
pub fn base_requirements(version: u32, amount: u128) -> PaymentRequirements {
    PaymentRequirements {
        scheme: "exact".into(),
        network: if version == 1 {
            "base".into()
        } else {
            "eip155:8453".into()
        },
        max_amount_required: (version == 1).then(|| amount.to_string()),
        amount: (version != 1).then(|| amount.to_string()),
        resource: None,
        description: None,
        mime_type: None,
        pay_to: FIXTURE_PAY_TO.into(),
        max_timeout_seconds: Some(60),
        asset: USDC_BASE.into(),
        extra: Some(ExactEvmExtra {
            name: Some("USD Coin".into()),
            version: Some("2".into()),
            ..ExactEvmExtra::default()
        }),
    }
}

/// A payment signed in Rust by `payer` for `requirements`, valid in `[valid_after, valid_before)`;
/// returns the `/verify` body.
pub fn signed_body(
    payer: &EvmSigner,
    version: u32,
    requirements: &PaymentRequirements,
    value: u128,
    valid_after: u64,
    valid_before: u64,
) -> Value {
    let (payload, _header) = sign_payment(
        payer,
        &PaymentParams {
            x402_version: version,
            requirements: requirements.clone(),
            value,
            valid_after,
            valid_before,
            nonce: opg_core::eip712::keccak256(format!("{value}-{valid_before}").as_bytes()),
        },
    );
    json!({
        "x402Version": version,
        "paymentPayload": payload,
        "paymentRequirements": requirements,
    })
}

/// The current unix time.
pub fn now() -> u64 {
    opg_keeper::facilitator::unix_now()
}
