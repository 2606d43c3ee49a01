//! `opg bench --x402 FILE`: the x402 facilitator verification ([`crate::facilitator::verify`],
//! what `opg x402 verify` and `POST /verify` run) looped over a set of payloads on **one core**
//! (the calling thread), for the comparison with the reference facilitator
//! (`scripts/bench-reference.sh`, `@x402/evm` in Node.js on the same payloads).
//!
//! `FILE` is a JSON array of x402 `/verify` bodies, each with the unix time to verify it at:
//! `[{"x402Version", "paymentPayload", "paymentRequirements", "verifyTime", "name"?,
//! "facilitators"?}]` (what `scripts/bench-reference/bench.mjs --out` writes; `facilitators`: the
//! addresses allowed to settle `upto` payments). Every payload must verify as valid, or the run
//! fails (a benchmark of rejections would measure the wrong work). Besides the rate over all
//! payloads, each payment kind (`eip3009`, `permit2` exact, `upto`) is measured on its own.
use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context as _};
use serde::{Deserialize, Serialize};

use super::workload;
use crate::facilitator::{verify_json_with, verify_with, VerifyRequest};

/// One payload of the file.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Item {
    #[serde(default)]
    name: Option<String>,
    verify_time: u64,
    #[serde(default)]
    facilitators: Vec<String>,
    #[serde(flatten)]
    body: serde_json::Value,
}

/// A loaded payload: the typed request, its JSON, the time, the `upto` facilitators, the kind.
struct Loaded {
    request: VerifyRequest,
    json: serde_json::Value,
    time: u64,
    facilitators: Vec<[u8; 20]>,
    kind: &'static str,
}

/// The payment kind of a request: `eip3009`, `permit2` (`exact` via Permit2) or `upto`.
fn kind_of(request: &VerifyRequest) -> &'static str {
    match (
        &request.payment_payload.payload.permit2_authorization,
        request.payment_requirements.scheme.as_str(),
    ) {
        (None, _) => "eip3009",
        (Some(_), "upto") => "upto",
        (Some(_), _) => "permit2",
    }
}

/// The rates of one payment kind (see [`X402Report`]).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct KindRate {
    /// `eip3009`, `permit2` or `upto`.
    pub kind: String,
    /// Payloads of this kind.
    pub payloads: usize,
    /// [`verify_with`] on decoded requests, verifications per second on one core.
    pub verify_per_s: f64,
    /// [`verify_json_with`] on parsed JSON values, verifications per second on one core.
    pub verify_json_per_s: f64,
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
    /// Each payment kind present, measured on its own payloads.
    #[serde(default)]
    pub by_kind: Vec<KindRate>,
}

/// Reads the payloads of `path` and checks that each verifies as valid at its `verifyTime`.
fn load(path: &Path) -> anyhow::Result<Vec<Loaded>> {
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
            let facilitators: Vec<[u8; 20]> = item
                .facilitators
                .iter()
                .filter_map(|f| opg_core::verify::parse_evm_address(f))
                .collect();
            let typed = verify_with(&request, item.verify_time, &facilitators);
            let json = verify_json_with(&item.body, item.verify_time, &facilitators);
            if !typed.is_valid || !json.is_valid {
                bail!(
                    "{label}: opg finds it invalid ({})",
                    typed
                        .invalid_reason
                        .or(json.invalid_reason)
                        .unwrap_or_default()
                );
            }
            Ok(Loaded {
                kind: kind_of(&request),
                request,
                json: item.body,
                time: item.verify_time,
                facilitators,
            })
        })
        .collect()
}

/// The two rates (decoded, JSON) over `payloads`, each measured for at least `min`.
fn rates(payloads: &[&Loaded], min: Duration) -> (f64, f64) {
    let pass_typed = || {
        let ok = payloads
            .iter()
            .filter(|p| {
                verify_with(std::hint::black_box(&p.request), p.time, &p.facilitators).is_valid
            })
            .count();
        std::hint::black_box(ok);
    };
    let pass_json = || {
        let ok = payloads
            .iter()
            .filter(|p| {
                verify_json_with(std::hint::black_box(&p.json), p.time, &p.facilitators).is_valid
            })
            .count();
        std::hint::black_box(ok);
    };
    // warm-up
    pass_typed();
    pass_json();
    (
        workload::rate(payloads.len(), min, pass_typed),
        workload::rate(payloads.len(), min, pass_json),
    )
}

/// Verifies the payloads of `path` round-robin on the calling thread for at least `min` per
/// measurement.
pub fn run(path: &Path, min: Duration) -> anyhow::Result<X402Report> {
    let payloads = load(path)?;
    let all: Vec<&Loaded> = payloads.iter().collect();
    let (typed, json) = rates(&all, min);
    let mut by_kind = Vec::new();
    for kind in ["eip3009", "permit2", "upto"] {
        let some: Vec<&Loaded> = payloads.iter().filter(|p| p.kind == kind).collect();
        if some.is_empty() {
            continue;
        }
        let (verify_per_s, verify_json_per_s) = rates(&some, min);
        by_kind.push(KindRate {
            kind: kind.to_string(),
            payloads: some.len(),
            verify_per_s,
            verify_json_per_s,
        });
    }
    Ok(X402Report {
        x402_verify_per_s: typed,
        x402_verify_json_per_s: json,
        payloads: payloads.len(),
        seconds: min.as_secs_f64(),
        by_kind,
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
        assert_eq!(r.by_kind.len(), 1);
        assert_eq!(r.by_kind[0].kind, "eip3009");
    }

    /// The Permit2 fixtures' valid `exact` and `upto` payments are measured per kind; `upto`
    /// needs its facilitator listed.
    #[test]
    fn measures_permit2_and_upto_per_kind() {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/x402/permit2.json");
        let doc: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let mut items = vec![fixture_payload()];
        for scheme in ["exact", "upto"] {
            let case = doc["cases"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["name"] == format!("{scheme} permit2 eip155:8453: valid").as_str())
                .unwrap();
            let payload =
                opg_core::verify::decode_payment_header(case["header"].as_str().unwrap()).unwrap();
            items.push(serde_json::json!({
                "verifyTime": case["verify_time"],
                "facilitators": case["facilitators"],
                "x402Version": 2,
                "paymentPayload": payload,
                "paymentRequirements": case["requirements"],
            }));
        }
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("payloads.json");
        std::fs::write(&file, serde_json::to_string(&items).unwrap()).unwrap();
        let r = run(&file, Duration::from_millis(20)).unwrap();
        let kinds: Vec<&str> = r.by_kind.iter().map(|k| k.kind.as_str()).collect();
        assert_eq!(kinds, ["eip3009", "permit2", "upto"]);
        items[2].as_object_mut().unwrap().remove("facilitators");
        std::fs::write(&file, serde_json::to_string(&items).unwrap()).unwrap();
        let e = run(&file, Duration::from_millis(20))
            .unwrap_err()
            .to_string();
        assert!(e.contains("upto_facilitator_mismatch"), "{e}");
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
