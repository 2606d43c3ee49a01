//! `opg keys add|list|show|import|export`: named account keys in a keyring
//! ([`crate::tx::keyring`]), as `wasmd keys …` keeps them, so chain commands sign with `--from
//! NAME`.
use std::io::Read;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};

use super::common::{print_as, KeyringArgs, OutputFormat};
use crate::tx::keyring::new_mnemonic;
use crate::tx::keys::{MnemonicSource, DEFAULT_HD_PATH};

/// `opg keys …`.
#[derive(Args, Debug)]
pub struct KeysArgs {
    /// Keyring location.
    #[command(flatten)]
    pub keyring: KeyringArgs,
    /// Bech32 account prefix.
    #[arg(long, default_value = "wasm", global = true)]
    pub prefix: String,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = OutputFormat::Json, global = true)]
    pub output: OutputFormat,
    /// Subcommand.
    #[command(subcommand)]
    pub command: KeysCommand,
}

/// Key subcommands.
#[derive(Subcommand, Debug)]
pub enum KeysCommand {
    /// Create a key (a new 24-word mnemonic, printed once) or, with `--recover`, restore one.
    Add {
        /// The key's name.
        name: String,
        /// Restore from a mnemonic read on stdin (or `--mnemonic-file` / `--mnemonic-env`).
        #[arg(long)]
        recover: bool,
        /// File holding the mnemonic to restore.
        #[arg(long, conflicts_with = "mnemonic_env")]
        mnemonic_file: Option<PathBuf>,
        /// Environment variable holding the mnemonic to restore.
        #[arg(long)]
        mnemonic_env: Option<String>,
        /// HD derivation path.
        #[arg(long, default_value = DEFAULT_HD_PATH)]
        hd_path: String,
    },
    /// List the keys.
    List,
    /// Show a key's address and public key.
    Show {
        /// The key's name.
        name: String,
        /// Print only the address.
        #[arg(short = 'a', long)]
        address: bool,
    },
    /// Import a key from a file holding its mnemonic (as `opg keys export` prints it).
    Import {
        /// The key's name.
        name: String,
        /// The mnemonic file.
        file: PathBuf,
    },
    /// Print a key's mnemonic (anyone who reads it controls the account).
    Export {
        /// The key's name.
        name: String,
        /// Required: confirms printing the secret.
        #[arg(long = "unsafe", required = true)]
        unsafe_export: bool,
    },
}

/// Runs `opg keys`.
pub fn run(args: KeysArgs) -> anyhow::Result<()> {
    let kr = args.keyring.keyring(&args.prefix);
    match args.command {
        KeysCommand::Add {
            name,
            recover,
            mnemonic_file,
            mnemonic_env,
            hd_path,
        } => {
            let given = mnemonic_file
                .map(MnemonicSource::File)
                .or(mnemonic_env.map(MnemonicSource::Env));
            let (phrase, new) = match (given, recover) {
                (Some(s), _) => (s.read()?, false),
                (None, true) => {
                    let mut text = String::new();
                    std::io::stdin()
                        .read_to_string(&mut text)
                        .context("cannot read the mnemonic from stdin")?;
                    (text, false)
                }
                (None, false) => (new_mnemonic(), true),
            };
            let info = kr.add(&name, &phrase, &hd_path)?;
            let mut v = serde_json::to_value(&info)?;
            if new {
                v["mnemonic"] = phrase.into();
                eprintln!("Write the mnemonic down and keep it safe: it is the only way to recover this key.");
            }
            print_as(args.output, &v)
        }
        KeysCommand::List => {
            let keys = kr.list()?;
            match args.output {
                OutputFormat::Json => super::common::print_json(&serde_json::to_value(keys)?),
                OutputFormat::Text => {
                    for k in keys {
                        println!("{}\t{}", k.name, k.address);
                    }
                    Ok(())
                }
            }
        }
        KeysCommand::Show { name, address } => {
            let info = kr.show(&name)?;
            if address {
                println!("{}", info.address);
                return Ok(());
            }
            print_as(args.output, &serde_json::to_value(info)?)
        }
        KeysCommand::Import { name, file } => {
            let phrase = MnemonicSource::File(file).read()?;
            print_as(
                args.output,
                &serde_json::to_value(kr.add(&name, &phrase, DEFAULT_HD_PATH)?)?,
            )
        }
        KeysCommand::Export { name, .. } => {
            println!("{}", kr.mnemonic(&name)?);
            Ok(())
        }
    }
}
