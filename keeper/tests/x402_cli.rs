//! `opg x402 verify` as a process (`CARGO_BIN_EXE_opg`): every reference fixture on stdin with
//! `--now`, the `--header` / `--requirements` form, exit statuses 0 / 1 / 2, and the clock when
//! `--now` is absent.
mod x402_support;

use std::io::Write;
use std::process::{Command, Output, Stdio};

use opg_core::sign::EvmSigner;
use serde_json::Value;
use x402_support::*;

fn opg(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_opg"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn opg");
    // A process that exits before reading (argument errors) closes the pipe: ignore EPIPE.
    let _ = child.stdin.take().unwrap().write_all(stdin);
    child.wait_with_output().unwrap()
}

fn response(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {:?} / stderr {:?}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn check(name: &str, out: &Output, reason: Option<&str>) {
    let v = response(out);
    match reason {
        None => {
            assert_eq!(out.status.code(), Some(0), "{name}: {v}");
            assert_eq!(v["isValid"], true, "{name}");
            assert_eq!(v["payer"], FIXTURE_PAYER, "{name}");
            assert!(v.get("invalidReason").is_none(), "{name}");
        }
        Some(reason) => {
            assert_eq!(out.status.code(), Some(1), "{name}: {v}");
            assert_eq!(v["isValid"], false, "{name}");
            assert_eq!(v["invalidReason"], reason, "{name}");
        }
    }
}

#[test]
fn every_fixture_on_stdin() {
    let mut n = 0;
    for case in cases() {
        let Some(body) = case.body() else { continue };
        let now = case.verify_time.to_string();
        let out = opg(
            &["x402", "verify", "--now", &now],
            &serde_json::to_vec(&body).unwrap(),
        );
        check(&case.name, &out, case.reason.as_deref());
        n += 1;
    }
    assert!(n > 100);
}

#[test]
fn header_and_requirements_file() {
    let dir = tempfile::tempdir().unwrap();
    // one valid and a few invalid recorded cases per version, including the undecodable header
    let picked: Vec<Case> = cases()
        .into_iter()
        .filter(|c| {
            c.name.ends_with(": valid")
                || c.name.ends_with("not base64")
                || c.name.ends_with("high-s twin")
                || c.name.contains("signed to someone else")
                || c.name.contains("x402Version")
        })
        .collect();
    assert!(picked.len() >= 15, "{}", picked.len());
    for (i, case) in picked.iter().enumerate() {
        let file = dir.path().join(format!("req{i}.json"));
        std::fs::write(&file, serde_json::to_vec(&case.requirements).unwrap()).unwrap();
        let now = case.verify_time.to_string();
        let out = opg(
            &[
                "x402",
                "verify",
                "--now",
                &now,
                "--header",
                &case.header,
                "--requirements",
                file.to_str().unwrap(),
            ],
            b"this stdin is not read",
        );
        check(&case.name, &out, case.reason.as_deref());
    }
}

#[test]
fn input_that_is_not_json_exits_2_with_nothing_on_stdout() {
    for stdin in [&b""[..], b"not json", b"{\"x402Version\": 1,", b"\xff\xfe"] {
        let out = opg(&["x402", "verify", "--now", "0"], stdin);
        assert_eq!(out.status.code(), Some(2), "{stdin:?}");
        assert!(out.stdout.is_empty());
        assert!(String::from_utf8_lossy(&out.stderr).contains("not JSON"));
    }
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "scheme: exact").unwrap();
    let header = &valid_cases()[0].header;
    let out = opg(
        &[
            "x402",
            "verify",
            "--header",
            header,
            "--requirements",
            bad.to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let missing = dir.path().join("missing.json");
    let out = opg(
        &[
            "x402",
            "verify",
            "--header",
            header,
            "--requirements",
            missing.to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read"));
}

#[test]
fn json_that_is_not_a_request_is_invalid_not_an_error() {
    let out = opg(&["x402", "verify", "--now", "0"], b"[]");
    check("array", &out, Some("invalid_payload"));
    let out = opg(&["x402", "verify", "--now", "0"], b"{\"x402Version\": 1}");
    check("no payload", &out, Some("invalid_payload"));
    assert_eq!(
        response(&out)["invalidMessage"],
        "paymentPayload: missing field"
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("req.json");
    std::fs::write(&file, b"{\"scheme\": \"exact\"}").unwrap();
    let out = opg(
        &[
            "x402",
            "verify",
            "--header",
            &valid_cases()[0].header,
            "--requirements",
            file.to_str().unwrap(),
        ],
        b"",
    );
    check(
        "requirements without fields",
        &out,
        Some("invalid_payment_requirements"),
    );
}

#[test]
fn without_now_the_clock_decides() {
    // The reference fixtures expired in June 2025: by the clock they are too late.
    let case = &valid_cases()[0];
    let body = serde_json::to_vec(&case.body().unwrap()).unwrap();
    let out = opg(&["x402", "verify"], &body);
    check(
        &case.name,
        &out,
        Some("invalid_exact_evm_payload_authorization_valid_before"),
    );
    // A payment signed now (in Rust, opg_core::sign) for the next five minutes is valid.
    let payer = EvmSigner::derive(b"x402-tests", "cli payer");
    let t = now();
    for version in [1, 2] {
        let req = base_requirements(version, 10_000);
        let body = signed_body(&payer, version, &req, 10_000, t - 60, t + 300);
        let out = opg(&["x402", "verify"], &serde_json::to_vec(&body).unwrap());
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
        assert_eq!(response(&out)["payer"], payer.address());
    }
}

#[test]
fn header_needs_requirements() {
    let out = opg(&["x402", "verify", "--header", "abc"], b"");
    // clap's usage error status is 2
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--requirements"));
    assert!(out.stdout.is_empty());
}
