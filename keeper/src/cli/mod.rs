//! The `opg` command line (clap), one file per subcommand.
use clap::{Parser, Subcommand, ValueEnum};

pub mod attest;
pub mod bench;
pub mod common;
pub mod deploy;
pub mod gov;
pub mod keeper;
pub mod keys;
pub mod loadgen;
pub mod node;
pub mod query;
pub mod report;
pub mod simulate;
pub mod tx;
pub mod x402;

/// Log output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Default)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Human,
    /// One JSON object per line.
    Json,
}

/// `opg`: keeper and simulator of provenance-weighted inference rewards.
#[derive(Parser, Debug)]
#[command(name = "opg", version, about)]
pub struct Cli {
    /// Log format (filter with `RUST_LOG`, default `info`).
    #[arg(long, value_enum, default_value_t = LogFormat::Human, global = true)]
    pub log_format: LogFormat,
    /// On failure, print every cause and, with `RUST_BACKTRACE=1`, the backtrace.
    #[arg(long, global = true)]
    pub verbose: bool,
    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run or inspect a keeper.
    Keeper {
        /// Keeper subcommand.
        #[command(subcommand)]
        command: keeper::KeeperCommand,
    },
    /// Run a scenario through the whole pipeline and report who earns what.
    Simulate(simulate::SimulateArgs),
    /// x402 facilitator tools: `opg x402 verify` checks a payment offline.
    X402(x402::X402Args),
    /// Measure ingest, verification and simulate throughput and memory on this machine.
    Bench(bench::BenchArgs),
    /// Drive a running keeper with signed receipts; print throughput, latency and errors.
    Loadgen(loadgen::LoadgenArgs),
    /// Cosmos transactions: sign offline (SIGN_MODE_DIRECT, byte-identical to CosmJS), broadcast.
    Tx(tx::TxArgs),
    /// Store, instantiate and wire the three contracts on a cosmos chain; write the deploy state.
    Deploy(deploy::DeployArgs),
    /// Node operator transactions and status (registry, pool).
    Node(node::NodeArgs),
    /// Governance: execute as governance, or print an x/gov proposal.
    Gov(gov::GovArgs),
    /// Account keys in a keyring (`--from NAME` signs with them).
    Keys(keys::KeysArgs),
    /// A hardware attester signs a local node's attestation (offline; for `node register`).
    Attest(attest::AttestArgs),
    /// Query epochs, nodes, receipts and multipliers on a cosmos chain.
    Query(query::QueryArgs),
    /// The pool's split by provenance per epoch and rewards per node: table, JSON, CSV, SVG, HTML.
    Report(report::ReportArgs),
}

/// Installs the tracing subscriber (stderr).
pub fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    use std::io::IsTerminal;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // colour only on a terminal, and never when NO_COLOR is set (no-color.org)
        .with_ansi(std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none());
    // a second init (tests) is not an error worth failing for
    let _ = match format {
        LogFormat::Human => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

/// Parses the command line, runs it and prints a failure once, as [`render_error`] does; the
/// process exit status.
pub fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let verbose = cli.verbose;
    match run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{}", render_error(&e, verbose));
            std::process::ExitCode::FAILURE
        }
    }
}

/// A failure as `opg` prints it: one `error: ` prefix, the message and each cause once
/// (`context: cause: cause`, a cause already quoted by its context skipped), without library
/// internals ([`crate::chain::plain_error`]). With `verbose`: anyhow's report (every cause on
/// its own line, and the backtrace when `RUST_BACKTRACE` asks for one).
pub fn render_error(e: &anyhow::Error, verbose: bool) -> String {
    if verbose {
        return format!("error: {e:?}");
    }
    let mut parts: Vec<String> = Vec::new();
    for cause in e.chain() {
        let mut text = crate::chain::plain_error(&cause.to_string());
        while let Some(rest) = text.strip_prefix("error: ") {
            text = rest.to_string();
        }
        if text.is_empty() || parts.iter().any(|p| p.contains(&text)) {
            continue;
        }
        parts.push(text);
    }
    format!("error: {}", parts.join(": "))
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Keeper { command } => {
            init_logging(cli.log_format);
            keeper::run(command)
        }
        Command::Simulate(args) => crate::simulate::run(args),
        Command::X402(args) => x402::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Loadgen(args) => loadgen::run_cli(args),
        Command::Tx(args) => tx::run(args),
        Command::Deploy(args) => deploy::run(args),
        Command::Node(args) => node::run(args),
        Command::Gov(args) => gov::run(args),
        Command::Query(args) => query::run(args),
        Command::Attest(args) => attest::run(args),
        Command::Keys(args) => keys::run(args),
        Command::Report(args) => report::run(args),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn every_subcommand_is_a_valid_clap_command() {
        // flag clashes (e.g. two `--home`) are clap debug assertions, seen only when parsed
        Cli::command().debug_assert();
    }

    #[test]
    fn chain_flags_work_after_the_subcommand_as_in_wasmd() {
        for argv in [
            &[
                "opg",
                "query",
                "epoch",
                "--node",
                "http://n:1",
                "--chain-id",
                "c-1",
            ][..],
            &[
                "opg",
                "query",
                "--node",
                "http://n:1",
                "epoch",
                "-o",
                "text",
            ][..],
            &[
                "opg",
                "gov",
                "add-model",
                "--id",
                "m",
                "--provenance",
                "community",
                "--node",
                "http://n:1",
                "--from",
                "k",
                "--gas-prices",
                "1uopg",
                "-y",
                "--proposal",
            ][..],
            &[
                "opg",
                "node",
                "claim",
                "--node-id",
                "x",
                "--node",
                "http://n:1",
                "--gas",
                "auto",
                "--fees",
                "5uopg",
                "--keyring-backend",
                "test",
                "--home",
                "/tmp/h",
            ][..],
        ] {
            let cli = Cli::try_parse_from(argv).unwrap_or_else(|e| panic!("{argv:?}: {e}"));
            let node = match &cli.command {
                Command::Query(q) => q.chain.node.clone(),
                Command::Gov(g) => g.chain.node.clone(),
                Command::Node(n) => match &n.command {
                    node::NodeCommand::Claim(c) => c.chain.node.clone(),
                    _ => unreachable!(),
                },
                _ => unreachable!(),
            };
            assert_eq!(node, "http://n:1", "{argv:?}");
        }
        // one spelling: the old `--gas-price` is gone
        assert!(Cli::try_parse_from([
            "opg",
            "node",
            "claim",
            "--node-id",
            "x",
            "--gas-price",
            "1uopg"
        ])
        .is_err());
        // read-only commands take no signing flags
        assert!(Cli::try_parse_from(["opg", "query", "epoch", "--from", "k"]).is_err());
    }
}
