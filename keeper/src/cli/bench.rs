//! `opg bench [--json] [--receipts N] [--memory] [--x402 FILE]`: measures this keeper on this machine (see
//! [`crate::bench`]) and prints the figures with their ratios.
use std::time::Duration;

use clap::Args;

use crate::bench::memory::{self, MemoryOptions};
use crate::bench::{self as b, BenchOptions};

/// Arguments of `opg bench`.
#[derive(Args, Clone, Debug)]
pub struct BenchArgs {
    /// Print one JSON object on stdout instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Receipts posted in the ingest measurement.
    #[arg(long, default_value_t = 4_000, value_name = "N")]
    pub receipts: usize,
    /// Receipts per HTTP request.
    #[arg(long, default_value_t = 50, value_name = "N")]
    pub request_size: usize,
    /// Concurrent HTTP clients (default: 4 per core).
    #[arg(long, value_name = "N")]
    pub concurrency: Option<usize>,
    /// Epochs of the built-in scenario for the simulate measurement (0 skips it).
    #[arg(long, default_value_t = 2, value_name = "N")]
    pub simulate_epochs: u64,
    /// Minimum seconds of each raw (signature-only) measurement.
    #[arg(long, default_value_t = 2.0, value_name = "SECS")]
    pub raw_secs: f64,
    /// Run the memory scenario instead (1,000,000 stored / 100,000 pending; takes minutes).
    #[arg(long)]
    pub memory: bool,
    /// Memory scenario: receipts stored (and consumed nonces on chain).
    #[arg(long, default_value_t = 1_000_000, value_name = "N")]
    pub stored: u64,
    /// Memory scenario: of them pending.
    #[arg(long, default_value_t = 100_000, value_name = "N")]
    pub pending: u64,
    /// Measure x402 facilitator verification on one core instead, looping over the `/verify`
    /// bodies of FILE (a JSON array, each with `verifyTime`; see scripts/bench-reference.sh).
    /// Runs each measurement for `--raw-secs`.
    #[arg(long, value_name = "FILE", conflicts_with = "memory")]
    pub x402: Option<std::path::PathBuf>,
}

/// Runs `opg bench`.
pub fn run(args: BenchArgs) -> anyhow::Result<()> {
    if let Some(path) = &args.x402 {
        let r = b::x402::run(
            path,
            Duration::from_secs_f64(args.raw_secs.clamp(0.1, 600.0)),
        )?;
        if args.json {
            println!("{}", serde_json::to_string_pretty(&r)?);
        } else {
            println!(
                "x402 verify, one core, {} payloads: {:.0} verifications/s (decoded requests), {:.0}/s (from JSON values)",
                r.payloads, r.x402_verify_per_s, r.x402_verify_json_per_s
            );
            for k in &r.by_kind {
                println!(
                    "  {:<8} {:>3} payloads: {:.0}/s (decoded), {:.0}/s (JSON)",
                    k.kind, k.payloads, k.verify_per_s, k.verify_json_per_s
                );
            }
        }
        return Ok(());
    }
    if args.memory {
        let r = memory::run(&MemoryOptions {
            stored: args.stored,
            pending: args.pending,
            ..MemoryOptions::default()
        })?;
        if args.json {
            println!("{}", serde_json::to_string_pretty(&r)?);
        } else {
            println!(
                "memory: {} stored ({} pending), {} consumed nonces on chain, {:.0} MB on disk (loaded in {:.0} s)",
                r.stored, r.pending, r.chain_nonces, r.disk_mb, r.load_secs
            );
            println!(
                "round: {} fresh receipts accepted, {} pending expired",
                r.accepted_by_round, r.expired_by_round
            );
            println!(
                "peak RSS (reopen, reconcile, counts, ingest, round): {:.1} MB (target < 200){}",
                r.peak_rss_mb,
                if r.peak_reset {
                    ""
                } else {
                    " [peak not resettable: includes the load]"
                }
            );
        }
        return Ok(());
    }
    let defaults = BenchOptions::default();
    let opts = BenchOptions {
        receipts: args.receipts.max(1),
        request_size: args.request_size.max(1),
        concurrency: args.concurrency.unwrap_or(defaults.concurrency).max(1),
        simulate_epochs: args.simulate_epochs,
        raw_min: Duration::from_secs_f64(args.raw_secs.clamp(0.1, 600.0)),
    };
    let r = b::run(&opts)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&r)?);
    } else {
        print!("{}", b::table(&r));
    }
    Ok(())
}
