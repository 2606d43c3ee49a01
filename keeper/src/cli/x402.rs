//! `opg x402 verify [--now UNIX_SECONDS] [--header VALUE --requirements FILE] [--facilitator ADDR]...`: the x402
//! facilitator's `/verify`, offline ([`crate::facilitator`]).
//!
//! Reads one `/verify` request body (`{"x402Version", "paymentPayload", "paymentRequirements"}`)
//! on stdin, or, with `--header`, a raw `X-PAYMENT` / `PAYMENT-SIGNATURE` header value plus the
//! requirements JSON in `--requirements FILE` (stdin is not read). Prints the facilitator's
//! response JSON (`{"isValid", "invalidReason"?, "payer"?}`) on stdout.
//!
//! Exit status: `0` valid, `1` invalid, `2` the input is not JSON at all (or the requirements file
//! cannot be read); nothing is printed on stdout then, the cause goes to stderr.
use std::io::{Read, Write};
use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::facilitator::{unix_now, verify_header_with, verify_json_with, VerifyResponse};
use opg_core::reason::RejectReason;
use opg_core::x402::PaymentRequirements;

/// Arguments of `opg x402`.
#[derive(Args, Clone, Debug, PartialEq, Eq)]
pub struct X402Args {
    /// The x402 subcommand.
    #[command(subcommand)]
    pub command: X402Command,
}

/// `opg x402` subcommands.
#[derive(Subcommand, Clone, Debug, PartialEq, Eq)]
pub enum X402Command {
    /// Verify an x402 EVM payment (`exact` via EIP-3009 or Permit2, `upto`) offline, as a
    /// facilitator's `POST /verify` would.
    /// Exit 0 valid, 1 invalid, 2 input not JSON.
    Verify(VerifyArgs),
}

/// Arguments of `opg x402 verify`.
#[derive(Args, Clone, Debug, Default, PartialEq, Eq)]
pub struct VerifyArgs {
    /// Verify as of this time (unix seconds) instead of the clock.
    #[arg(long, value_name = "UNIX_SECONDS")]
    pub now: Option<u64>,
    /// A raw `X-PAYMENT` (v1) or `PAYMENT-SIGNATURE` (v2) header value (base64 of JSON) instead of
    /// a request body on stdin. Needs `--requirements`.
    #[arg(long, value_name = "VALUE", requires = "requirements")]
    pub header: Option<String>,
    /// JSON file with the `PaymentRequirements` the header is checked against.
    #[arg(long, value_name = "FILE", requires = "header")]
    pub requirements: Option<PathBuf>,
    /// A facilitator allowed to settle `upto` payments (`0x` + 40 hex; repeatable): the payment's
    /// `witness.facilitator` must be one of them. Default: the dev genesis' facilitator (derived
    /// from `dev_seed = "opg-dev-seed-change-me"`, [`default_facilitator`]).
    #[arg(long = "facilitator", value_name = "ADDR", value_parser = parse_facilitator)]
    pub facilitators: Vec<String>,
}

/// The `dev_seed` of `keeper.example.toml`'s dev genesis.
pub const DEV_GENESIS_SEED: &str = "opg-dev-seed-change-me";

/// The dev genesis' facilitator (`EvmSigner::derive(dev_seed, "facilitator")`, as
/// `crate::genesis::DevKeys` derives it), lowercase `0x` address.
pub fn default_facilitator() -> String {
    opg_core::sign::EvmSigner::derive(DEV_GENESIS_SEED.as_bytes(), "facilitator").address()
}

fn parse_facilitator(s: &str) -> Result<String, String> {
    opg_core::verify::parse_evm_address(s)
        .map(|a| opg_core::verify::format_evm_address(&a))
        .ok_or_else(|| format!("'{s}' is not an EVM address (0x + 40 hex)"))
}

/// Exit status: the payment is valid.
pub const EXIT_VALID: u8 = 0;
/// Exit status: the payment is invalid (the reason is in the printed JSON).
pub const EXIT_INVALID: u8 = 1;
/// Exit status: the input is not JSON (or the requirements file cannot be read).
pub const EXIT_NOT_JSON: u8 = 2;

/// What one `opg x402 verify` run prints and returns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// The response JSON (one line), or empty for [`EXIT_NOT_JSON`].
    pub stdout: String,
    /// An error explanation for [`EXIT_NOT_JSON`].
    pub stderr: Option<String>,
    /// [`EXIT_VALID`], [`EXIT_INVALID`] or [`EXIT_NOT_JSON`].
    pub code: u8,
}

impl Outcome {
    fn verdict(response: &VerifyResponse) -> Self {
        Outcome {
            // A struct of strings and bools always serializes.
            stdout: serde_json::to_string(response).unwrap_or_default(),
            stderr: None,
            code: if response.is_valid {
                EXIT_VALID
            } else {
                EXIT_INVALID
            },
        }
    }

    fn not_json(message: String) -> Self {
        Outcome {
            stdout: String::new(),
            stderr: Some(message),
            code: EXIT_NOT_JSON,
        }
    }
}

/// Runs `opg x402 verify` on the given stdin, without touching the process (for tests).
pub fn execute(args: &VerifyArgs, stdin: &mut dyn Read) -> Outcome {
    let now = args.now.unwrap_or_else(unix_now);
    let facilitators: Vec<[u8; 20]> = if args.facilitators.is_empty() {
        vec![default_facilitator()]
    } else {
        args.facilitators.clone()
    }
    .iter()
    .filter_map(|f| opg_core::verify::parse_evm_address(f))
    .collect();
    match (&args.header, &args.requirements) {
        (Some(header), Some(file)) => {
            let bytes = match std::fs::read(file) {
                Ok(b) => b,
                Err(e) => return Outcome::not_json(format!("cannot read {}: {e}", file.display())),
            };
            let value: serde_json::Value = match serde_json::from_slice(&bytes) {
                Ok(v) => v,
                Err(e) => return Outcome::not_json(format!("{} is not JSON: {e}", file.display())),
            };
            match serde_path_to_error::deserialize::<_, PaymentRequirements>(&value) {
                Ok(requirements) => Outcome::verdict(&verify_header_with(
                    header,
                    &requirements,
                    now,
                    &facilitators,
                )),
                Err(e) => Outcome::verdict(&VerifyResponse::malformed(
                    RejectReason::InvalidPaymentRequirements,
                    format!("{}: {}: {}", file.display(), e.path(), e.inner()),
                )),
            }
        }
        // clap's `requires` makes these two go together; say so if built by hand.
        (Some(_), None) | (None, Some(_)) => {
            Outcome::not_json("--header and --requirements must be given together".to_string())
        }
        (None, None) => {
            let mut bytes = Vec::new();
            if let Err(e) = stdin.read_to_end(&mut bytes) {
                return Outcome::not_json(format!("cannot read stdin: {e}"));
            }
            match serde_json::from_slice::<serde_json::Value>(&bytes) {
                Ok(value) => Outcome::verdict(&verify_json_with(&value, now, &facilitators)),
                Err(e) => Outcome::not_json(format!("stdin is not JSON: {e}")),
            }
        }
    }
}

/// Runs `opg x402 ...`: prints the outcome and exits with its status (0 returns normally).
pub fn run(args: X402Args) -> anyhow::Result<()> {
    match args.command {
        X402Command::Verify(verify) => {
            let outcome = execute(&verify, &mut std::io::stdin().lock());
            if let Some(msg) = &outcome.stderr {
                eprintln!("error: {msg}");
            }
            if !outcome.stdout.is_empty() {
                let mut out = std::io::stdout().lock();
                writeln!(out, "{}", outcome.stdout)?;
                out.flush()?;
            }
            if outcome.code != EXIT_VALID {
                std::process::exit(i32::from(outcome.code));
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_json_on_stdin_is_exit_2_with_nothing_on_stdout() {
        let out = execute(&VerifyArgs::default(), &mut &b"not json"[..]);
        assert_eq!(out.code, EXIT_NOT_JSON);
        assert!(out.stdout.is_empty());
        assert!(out.stderr.unwrap().starts_with("stdin is not JSON"));
    }

    #[test]
    fn json_of_the_wrong_shape_is_an_invalid_verdict() {
        let out = execute(&VerifyArgs::default(), &mut &b"{\"x402Version\": 7}"[..]);
        assert_eq!(out.code, EXIT_INVALID);
        let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        assert_eq!(v["isValid"], false);
        assert_eq!(v["invalidReason"], "invalid_x402_version");
    }

    #[test]
    fn header_without_requirements_is_refused() {
        let args = VerifyArgs {
            header: Some("abc".into()),
            ..VerifyArgs::default()
        };
        assert_eq!(execute(&args, &mut &b""[..]).code, EXIT_NOT_JSON);
    }
}
