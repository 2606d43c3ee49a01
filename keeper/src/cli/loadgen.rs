//! `opg loadgen --url URL --count N --concurrency C [--seed S | --config keeper.toml]
//! [--acked FILE] [--invalid-ratio R] [--json]`: drives a running keeper with signed receipts
//! ([`crate::loadgen`]) and prints throughput, p50/p99 latency and error counts.
//!
//! Exit status 1 when a valid receipt was not acknowledged, a corrupted one was acknowledged, or
//! an overload answer lacked `Retry-After`.
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use clap::Args;

use super::node::read_key_file;
use crate::chain::cosmos::DeployState;
use crate::config::KeeperConfig;
use crate::genesis::{DevNodeKeys, GenesisConfig};
use crate::loadgen::{run, LoadSpec, Target};

/// Arguments of `opg loadgen`.
#[derive(Args, Clone, Debug)]
pub struct LoadgenArgs {
    /// Keeper base URL. Default: `http://` + the `--config` file's `server.listen`, else
    /// `http://127.0.0.1:8402`.
    #[arg(long)]
    pub url: Option<String>,
    /// Receipts to send.
    #[arg(long, default_value_t = 1000)]
    pub count: u64,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
    /// Dev seed of the keeper's genesis: the genesis is `GenesisConfig::dev(seed)` with it.
    /// Ignored with `--config`.
    #[arg(long, default_value = "opg-dev-seed-change-me")]
    pub seed: String,
    /// The keeper's config file: use its `[genesis]` (nodes, networks, dev seed) instead of
    /// the dev genesis of `--seed`.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Override the chain id (default: the genesis').
    #[arg(long)]
    pub chain_id: Option<String>,
    /// Override the verifier address (default: the one the embedded genesis deploys).
    #[arg(long)]
    pub verifier: Option<String>,
    /// A keeper on a real chain: the deploy state `opg deploy` wrote (chain id and verifier
    /// address of the receipts' EIP-712 domain); sign for the node of `--node-key-file`.
    #[arg(long, value_name = "FILE", requires = "node_key_file")]
    pub state: Option<PathBuf>,
    /// The receipt-signing key file of a registered node (`opg node keygen`).
    #[arg(long, value_name = "FILE", requires_all = ["node_id", "model", "pay_to"])]
    pub node_key_file: Option<PathBuf>,
    /// That node's id.
    #[arg(long)]
    pub node_id: Option<String>,
    /// A model that node serves.
    #[arg(long)]
    pub model: Option<String>,
    /// That node's x402 `payTo` address.
    #[arg(long)]
    pub pay_to: Option<String>,
    /// Append each acknowledged `payer,nonce,epoch` to this file.
    #[arg(long, value_name = "FILE")]
    pub acked: Option<PathBuf>,
    /// Fraction of receipts corrupted on purpose, in [0, 1].
    #[arg(long, default_value_t = 0.0)]
    pub invalid_ratio: f64,
    /// Distinct payer keys.
    #[arg(long, default_value_t = 256)]
    pub payers: u64,
    /// Nonce namespace (default: unique per run).
    #[arg(long)]
    pub run_tag: Option<String>,
    /// Seconds one receipt is retried after transport errors, 429 or 5xx.
    #[arg(long, default_value_t = 60)]
    pub retry_secs: u64,
    /// Print the report as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Percent of receipts paid with x402 `exact` via Permit2 (protocol v2).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=100))]
    pub permit2_exact_percent: u8,
    /// Percent of receipts paid with x402 `upto` (Permit2, v2; the value settled of twice as much
    /// signed). With `--permit2-exact-percent`, at most 100 in total.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=100))]
    pub upto_percent: u8,
}

/// Runs `opg loadgen`.
pub fn run_cli(args: LoadgenArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        (0.0..=1.0).contains(&args.invalid_ratio),
        "--invalid-ratio must be in [0, 1], got {}",
        args.invalid_ratio
    );
    anyhow::ensure!(args.concurrency > 0, "--concurrency must be > 0");
    anyhow::ensure!(
        u16::from(args.permit2_exact_percent) + u16::from(args.upto_percent) <= 100,
        "--permit2-exact-percent + --upto-percent must be at most 100"
    );
    let config = args.config.as_deref().map(KeeperConfig::load).transpose()?;
    let url = match (&args.url, &config) {
        (Some(u), _) => u.clone(),
        (None, Some(c)) => format!("http://{}", c.server.listen),
        (None, None) => "http://127.0.0.1:8402".into(),
    };
    let genesis = match (&args.config, config) {
        (Some(p), Some(c)) if args.state.is_none() => c
            .genesis
            .with_context(|| format!("{} has no [genesis] section", p.display()))?,
        (_, Some(c)) => c.genesis.unwrap_or_else(|| GenesisConfig::dev(&args.seed)),
        (_, None) => GenesisConfig::dev(&args.seed),
    };
    let mut target = match &args.state {
        // a real chain: its verifier and chain id; the dev genesis gives the x402 network,
        // the asset, the payers and the facilitator (allow-list its address when deploying)
        Some(p) => {
            let state = DeployState::read(p)?;
            Target {
                genesis,
                chain_id: state.chain_id,
                verifier: state.deployment.verifier,
            }
        }
        None => Target::from_genesis(genesis)?,
    };
    let mut nodes = Vec::new();
    if let Some(f) = &args.node_key_file {
        let node_id = args.node_id.clone().context("--node-id is required")?;
        nodes.push((
            DevNodeKeys {
                operator_label: String::new(),
                signer: read_key_file(f)?,
                pay_to: args
                    .pay_to
                    .clone()
                    .context("--pay-to is required")?
                    .to_lowercase(),
                node_id,
            },
            args.model.clone().context("--model is required")?,
        ));
    }
    if let Some(c) = args.chain_id {
        target.chain_id = c;
    }
    if let Some(v) = args.verifier {
        target.verifier = v;
    }
    let mut spec = LoadSpec::new(url);
    spec.nodes = nodes;
    spec.count = args.count;
    spec.concurrency = args.concurrency;
    spec.payers = args.payers.max(1);
    spec.invalid_ratio = args.invalid_ratio;
    spec.retry_for = Duration::from_secs(args.retry_secs);
    spec.acked_file = args.acked;
    spec.permit2_exact_percent = args.permit2_exact_percent;
    spec.upto_percent = args.upto_percent;
    if let Some(t) = args.run_tag {
        spec.run_tag = t;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the tokio runtime")?;
    let report = rt.block_on(run(spec, target))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.summary());
    }
    anyhow::ensure!(
        report.failed == 0 && report.invalid_acknowledged == 0 && report.missing_retry_after == 0,
        "load run not clean: {} valid receipts not acknowledged, {} invalid acknowledged, {} overload answers without Retry-After",
        report.failed,
        report.invalid_acknowledged,
        report.missing_retry_after
    );
    Ok(())
}
