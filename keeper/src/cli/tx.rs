//! `opg tx sign` (offline SIGN_MODE_DIRECT, or `--generate-only`) and `opg tx broadcast`.
use std::path::PathBuf;

use anyhow::Context;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use clap::{Args, Subcommand};

use super::common::KeyringArgs;
use crate::chain::cosmos::{CometRpc, HttpRpc};
use crate::chain::tx_hash;
use crate::tx::keys::{MnemonicSource, TxKey, DEFAULT_HD_PATH};
use crate::tx::msgs::{parse_coins, ExecuteSpec, WasmMsg};
use crate::tx::sign::{decode_tx_raw, Fee, GasPrice, SignerData, TxSpec};

/// `opg tx …`.
#[derive(Args, Debug)]
pub struct TxArgs {
    /// Subcommand.
    #[command(subcommand)]
    pub command: TxCommand,
}

/// Transaction subcommands.
#[derive(Subcommand, Debug)]
pub enum TxCommand {
    /// Sign MsgExecuteContract messages offline; print the TxRaw as base64.
    Sign(Box<SignArgs>),
    /// Broadcast a base64 TxRaw (broadcast_tx_sync) and print the hash and CheckTx result.
    Broadcast(BroadcastArgs),
}

/// `opg tx sign`.
#[derive(Args, Debug)]
pub struct SignArgs {
    /// Sign without contacting a node (account number and sequence are given).
    #[arg(long)]
    pub offline: bool,
    /// Print the unsigned tx as JSON (as `wasmd --generate-only`) instead of signing.
    #[arg(long)]
    pub generate_only: bool,
    /// File holding the BIP-39 mnemonic (12 or 24 words).
    #[arg(long, conflicts_with = "mnemonic_env")]
    pub mnemonic_file: Option<PathBuf>,
    /// Environment variable holding the mnemonic.
    #[arg(long)]
    pub mnemonic_env: Option<String>,
    /// HD derivation path.
    #[arg(long, default_value = DEFAULT_HD_PATH)]
    pub hd_path: String,
    /// Bech32 account prefix.
    #[arg(long, default_value = "wasm")]
    pub prefix: String,
    /// The signer: a key name in the keyring, or (with `--generate-only`) an address.
    #[arg(long, env = "OPG_FROM")]
    pub from: Option<String>,
    /// Keyring location (`--keyring-backend`, `--home`).
    #[command(flatten)]
    pub keyring: KeyringArgs,
    /// Chain id.
    #[arg(long, env = "OPG_CHAIN_ID")]
    pub chain_id: Option<String>,
    /// Account number of the signer.
    #[arg(long)]
    pub account_number: Option<u64>,
    /// Sequence of the signer.
    #[arg(long)]
    pub sequence: Option<u64>,
    /// Gas limit.
    #[arg(long)]
    pub gas: u64,
    /// Fee coins, e.g. `5000ustake` (default: none, or from `--gas-prices`).
    #[arg(long, conflicts_with = "gas_prices")]
    pub fees: Option<String>,
    /// Gas price, e.g. `0.025ustake`: fee = gas × price, rounded up.
    #[arg(long, env = "OPG_GAS_PRICES")]
    pub gas_prices: Option<String>,
    /// Memo.
    #[arg(long, default_value = "")]
    pub memo: String,
    /// Block height after which the tx is invalid (0 = none).
    #[arg(long, default_value_t = 0)]
    pub timeout_height: u64,
    /// JSON array of `{"contract","msg" (exact JSON text as a string),"funds":[{"denom","amount"}]}`.
    #[arg(long)]
    pub msgs: PathBuf,
}

/// `opg tx broadcast`.
#[derive(Args, Debug)]
pub struct BroadcastArgs {
    /// The signed TxRaw, base64.
    pub tx_base64: String,
    /// CometBFT RPC URL.
    #[arg(long, env = "OPG_NODE", default_value = "http://127.0.0.1:26657")]
    pub node: String,
}

/// Runs `opg tx`.
pub fn run(args: TxArgs) -> anyhow::Result<()> {
    match args.command {
        TxCommand::Sign(a) => {
            println!("{}", sign(&a)?);
            Ok(())
        }
        TxCommand::Broadcast(a) => broadcast(&a),
    }
}

/// The output of `opg tx sign`: base64 TxRaw, or the unsigned JSON with `--generate-only`.
pub fn sign(a: &SignArgs) -> anyhow::Result<String> {
    let source = a
        .mnemonic_file
        .clone()
        .map(MnemonicSource::File)
        .or_else(|| a.mnemonic_env.clone().map(MnemonicSource::Env));
    let key = match (&source, &a.from) {
        (Some(s), _) => Some(TxKey::from_source(s, &a.hd_path, &a.prefix)?),
        // an address names the sender of an unsigned tx; anything else is a key name
        (None, Some(f)) if a.generate_only && f.starts_with(&format!("{}1", a.prefix)) => None,
        (None, Some(f)) => Some(a.keyring.keyring(&a.prefix).key(f)?),
        (None, None) => None,
    };
    let sender = match (&key, &a.from) {
        (Some(k), _) => k.address().to_string(),
        (None, Some(f)) if a.generate_only => f.clone(),
        _ => {
            anyhow::bail!("no signer: give --from NAME (a key of `opg keys list`), --mnemonic-file or --mnemonic-env")
        }
    };
    let text = std::fs::read_to_string(&a.msgs)
        .with_context(|| format!("cannot read --msgs {}", a.msgs.display()))?;
    let specs: Vec<ExecuteSpec> = serde_json::from_str(&text).with_context(|| {
        format!(
            "--msgs {}: expected a JSON array of {{contract, msg, funds}}",
            a.msgs.display()
        )
    })?;
    let fee = match (&a.fees, &a.gas_prices) {
        (Some(f), _) => Fee {
            amount: parse_coins(f, "fees")?,
            gas_limit: a.gas,
        },
        (None, Some(p)) => p.parse::<GasPrice>()?.fee(a.gas)?,
        (None, None) => Fee {
            amount: vec![],
            gas_limit: a.gas,
        },
    };
    let spec = TxSpec {
        msgs: specs.iter().map(|s| WasmMsg::execute(&sender, s)).collect(),
        fee,
        memo: a.memo.clone(),
        timeout_height: a.timeout_height,
    };
    if a.generate_only {
        return Ok(spec.unsigned_json()?);
    }
    anyhow::ensure!(
        a.offline,
        "online signing is done by the keeper and the node/gov commands; use --offline with --account-number and --sequence"
    );
    let key = key.context("signing needs --from NAME, --mnemonic-file or --mnemonic-env")?;
    let signer = SignerData {
        chain_id: a.chain_id.clone().context("--chain-id is required")?,
        account_number: a
            .account_number
            .context("--account-number is required with --offline")?,
        sequence: a
            .sequence
            .context("--sequence is required with --offline")?,
    };
    let signed = spec.sign(&key, &signer)?;
    Ok(B64.encode(&signed.tx_raw))
}

fn broadcast(a: &BroadcastArgs) -> anyhow::Result<()> {
    let bytes = B64
        .decode(a.tx_base64.trim())
        .context("TX_BASE64 is not base64")?;
    decode_tx_raw(&bytes)?;
    let rpc = HttpRpc::new(&a.node)?;
    let r = rpc.broadcast_tx_sync(bytes.clone())?;
    let hash = tx_hash(&bytes);
    println!(
        "{}",
        serde_json::json!({"txhash": hash, "code": r.code, "codespace": r.codespace, "raw_log": r.log})
    );
    anyhow::ensure!(
        r.code == 0,
        "the node refused the tx ({} code {}): {}",
        r.codespace,
        r.code,
        r.log
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct T {
        #[command(subcommand)]
        c: TxCommand,
    }

    const ABANDON: &str = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

    fn setup() -> (tempfile::TempDir, String, String) {
        let dir = tempfile::tempdir().unwrap();
        let m = dir.path().join("m");
        std::fs::write(&m, ABANDON).unwrap();
        let msgs = dir.path().join("msgs.json");
        std::fs::write(
            &msgs,
            r#"[{"contract":"wasm1xyz","msg":"{\"claim\": {}}","funds":[{"denom":"uopg","amount":"5"}]}]"#,
        )
        .unwrap();
        (dir, m.display().to_string(), msgs.display().to_string())
    }

    fn sign_args(argv: &[&str]) -> SignArgs {
        match T::parse_from(argv).c {
            TxCommand::Sign(a) => *a,
            _ => unreachable!(),
        }
    }

    #[test]
    fn offline_sign_prints_a_decodable_tx_raw() {
        let (_d, m, msgs) = setup();
        let a = sign_args(&[
            "t",
            "sign",
            "--offline",
            "--mnemonic-file",
            &m,
            "--chain-id",
            "c-1",
            "--account-number",
            "3",
            "--sequence",
            "1",
            "--gas",
            "200000",
            "--fees",
            "5000ustake",
            "--msgs",
            &msgs,
        ]);
        let out = sign(&a).unwrap();
        let raw = decode_tx_raw(&B64.decode(out).unwrap()).unwrap();
        assert_eq!(raw.signatures.len(), 1);
        assert_eq!(raw.signatures[0].len(), 64);
    }

    #[test]
    fn generate_only_prints_unsigned_json_with_the_key_address() {
        let (_d, m, msgs) = setup();
        let a = sign_args(&[
            "t",
            "sign",
            "--generate-only",
            "--mnemonic-file",
            &m,
            "--gas",
            "100",
            "--gas-prices",
            "0.025ustake",
            "--msgs",
            &msgs,
        ]);
        let v: serde_json::Value = serde_json::from_str(&sign(&a).unwrap()).unwrap();
        let msg = &v["body"]["messages"][0];
        assert_eq!(msg["sender"], "wasm19rl4cm2hmr8afy4kldpxz3fka4jguq0akuugk7");
        assert_eq!(msg["funds"][0]["amount"], "5");
        assert_eq!(v["auth_info"]["fee"]["amount"][0]["amount"], "3");
    }

    #[test]
    fn missing_signer_data_is_an_error() {
        let (_d, m, msgs) = setup();
        let a = sign_args(&[
            "t",
            "sign",
            "--offline",
            "--mnemonic-file",
            &m,
            "--chain-id",
            "c",
            "--gas",
            "1",
            "--msgs",
            &msgs,
        ]);
        assert!(sign(&a)
            .unwrap_err()
            .to_string()
            .contains("--account-number"));
    }
}
