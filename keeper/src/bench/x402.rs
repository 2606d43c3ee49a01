//! `opg bench --x402 FILE`: the x402 facilitator verification ([`crate::facilitator::verify`],
//! what `opg x402 verify` and `POST /verify` run) looped over a set of payloads on **one core**
//! (the calling thread), for the comparison with the reference facilitator
//! (`scripts/bench-reference.sh`, `@x402/evm` in Node.js on the same payloads).
//!
//! `FILE` is a JSON array of x402 `/verify` bodies, each with the unix time to verify it at:
//! `[{"x402Version", "paymentPayload", "paymentRequirements", "verifyTime", "name"?}]` (what
//! `scripts/bench-reference/bench.mjs --out` writes). Every payload must verify as valid, or the
//! run fails (a benchmark of rejections would measure the wrong work).
use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context as _};
use serde::{Deserialize, Serialize};

use super::workload;
use crate::facilitator::{verify, verify_json, VerifyRequest};

/// One payload of the file.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Item {
    #[serde(default)]
    name: Option<String>,
    verify_time: u64,
    #[serde(flatten)]
    body: serde_json::Value,
}

/// What `opg bench --x402` measured. Rates are verifications per second on one core.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct X402Report {
    /// [`verify`] on decoded requests (`VerifyRequest`: the fields still strings, as the
    /// reference's parsed JSON objects are): parsing the fields, the EIP-712 hashes, the
    /// secp256k1 recovery, the checks.
    pub x402_verify_per_s: f64,
    /// [`verify_json`] on parsed JSON values (adds the decoding into the typed request).
    pub x402_verify_json_per_s: f64,
    /// Distinct payloads, verified round-robin.
    pub payloads: usize,
    /// Minimum seconds of each measurement.
    pub seconds: f64,
}

/// Reads the payloads of `path` and checks that each verifies as valid at its `verifyTime`.
fn load(path: &Path) -> anyhow::Result<Vec<(VerifyRequest, serde_json::Value, u64)>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let items: Vec<Item> = serde_json::from_str(&text).with_context(|| {
        format!(
            "{}: expected a JSON array of /verify bodies",
            path.display()
        )
    })?;
    if items.is_empty() {
        bail!("{}: no payloads", path.display());
    }
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            let label = item.name.clone().unwrap_or_else(|| format!("payload {i}"));
            let request: VerifyRequest = serde_json::from_value(item.body.clone())
                .with_context(|| format!("{label}: not a /verify body"))?;
            let typed = verify(&request, item.verify_time);
            let json = verify_json(&item.body, item.verify_time);
            if !typed.is_valid || !json.is_valid {
                bail!(
                    "{label}: opg finds it invalid ({})",
                    typed
                        .invalid_reason
                        .or(json.invalid_reason)
                        .unwrap_or_default()
                );
            }
            Ok((request, item.body, item.verify_time))
        })
        .collect()
}

/// Verifies the payloads of `path` round-robin on the calling thread for at least `min` per
/// measurement.
pub fn run(path: &Path, min: Duration) -> anyhow::Result<X402Report> {
    let payloads = load(path)?;
    let pass_typed = || {
        let ok = payloads
            .iter()
            .filter(|(r, _, t)| verify(std::hint::black_box(r), *t).is_valid)
            .count();
        std::hint::black_box(ok);
    };
    let pass_json = || {
        let ok = payloads
            .iter()
            .filter(|(_, v, t)| verify_json(std::hint::black_box(v), *t).is_valid)
            .count();
        std::hint::black_box(ok);
    };
    // warm-up
    pass_typed();
    pass_json();
    Ok(X402Report {
        x402_verify_per_s: workload::rate(payloads.len(), min, pass_typed),
        x402_verify_json_per_s: workload::rate(payloads.len(), min, pass_json),
        payloads: payloads.len(),
        seconds: min.as_secs_f64(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture_payload() -> serde_json::Value {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/x402/payments-v2.json");
        let doc: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let case = doc["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["expected"]["valid"] == true)
            .unwrap()
            .clone();
        let payload =
            opg_core::verify::decode_payment_header(case["header"].as_str().unwrap()).unwrap();
        serde_json::json!({
            "name": case["name"],
            "verifyTime": case["verify_time"],
            "x402Version": 2,
            "paymentPayload": payload,
            "paymentRequirements": case["requirements"],
        })
    }

    #[test]
    fn measures_valid_payloads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("payloads.json");
        std::fs::write(
            &path,
            serde_json::to_string(&vec![fixture_payload()]).unwrap(),
        )
        .unwrap();
        let r = run(&path, Duration::from_millis(20)).unwrap();
        assert_eq!(r.payloads, 1);
        assert!(r.x402_verify_per_s > 0.0 && r.x402_verify_json_per_s > 0.0);
    }

    #[test]
    fn refuses_an_invalid_payload() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("payloads.json");
        let mut p = fixture_payload();
        // one second past the last acceptable time (validBefore - 6)
        p["verifyTime"] = serde_json::json!(1_750_000_055u64);
        std::fs::write(&path, serde_json::to_string(&vec![p]).unwrap()).unwrap();
        let e = run(&path, Duration::from_millis(20))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("invalid_exact_evm_payload_authorization_valid_before"),
            "{e}"
        );

        std::fs::write(&path, "[]").unwrap();
        let e = run(&path, Duration::from_millis(20))
            .unwrap_err()
            .to_string();
        assert!(e.contains("no payloads"), "{e}");
    }
}
