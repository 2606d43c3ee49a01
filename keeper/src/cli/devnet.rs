//! `opg devnet [--home DIR] [--listen ADDR] [--block-time SECS] [--chain-id ID]`: a single-node
//! development chain ([`crate::devnet`]); prints its RPC address, chain id and funded dev
//! mnemonics, serves until Ctrl-C.
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;

use crate::devnet::{Devnet, DevnetConfig};

/// Arguments of `opg devnet`.
#[derive(Args, Clone, Debug, PartialEq, Eq)]
pub struct DevnetArgs {
    /// State directory (the chain is persisted in `<home>/chain.db`; reuse it to resume).
    #[arg(long, value_name = "DIR", default_value = ".opg-devnet")]
    pub home: PathBuf,
    /// CometBFT JSON-RPC listen address.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:26657")]
    pub listen: SocketAddr,
    /// Seconds each block moves the clock forward (default: block time follows the wall clock).
    #[arg(long, value_name = "SECS")]
    pub block_time: Option<u64>,
    /// Chain id (signed over by every tx).
    #[arg(long, value_name = "ID", default_value = "opg-devnet-1")]
    pub chain_id: String,
}

/// Runs `opg devnet` until Ctrl-C.
///
/// Errors: the home cannot be opened or the address cannot be bound.
pub fn run(args: DevnetArgs) -> anyhow::Result<()> {
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async move {
        let mut config = DevnetConfig::new(args.home);
        config.listen = args.listen;
        config.block_time = args.block_time;
        config.chain_id = args.chain_id;
        let devnet = Devnet::start(config).await?;
        println!("{}", devnet.banner());
        tokio::signal::ctrl_c().await?;
        devnet.stop().await;
        Ok(())
    })
}
