//! `opg report`: the pool's transparency figures of a range of epochs (issue 18), from the
//! embedded chain of a keeper home (`--home DIR [--config keeper.toml]`) or from a real chain
//! (`--node URL --state deploy.json`), as a table, JSON or CSV on stdout, and with `--out DIR` as
//! files (`--from-epoch`/`--to-epoch` choose the range, default the 12 epochs up to the current
//! one): `report.json`, `epochs.csv`, `nodes.csv`, one SVG per chart and `report.html`.
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::{Args, ValueEnum};

use super::common::{ReadArgs, Reader};
use crate::chain::cosmos::CometRpc;
use crate::chain::{ChainError, ChainStatus, ContractRole, Deployment};
use crate::report::{chart, figures, html, Figures, ReportCache, Source};

/// Output format on stdout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    /// Human-readable tables.
    #[default]
    Table,
    /// The whole [`Figures`] document.
    Json,
    /// One line per epoch (`epochs.csv`).
    Csv,
}

/// Arguments of `opg report`.
#[derive(Args, Debug)]
pub struct ReportArgs {
    /// First epoch (default: 11 epochs before `--to-epoch`).
    #[arg(long, value_name = "EPOCH")]
    pub from_epoch: Option<u64>,
    /// Last epoch (default: the current one; clamped to it).
    #[arg(long, value_name = "EPOCH")]
    pub to_epoch: Option<u64>,
    /// Output format on stdout.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Also write report.json, epochs.csv, nodes.csv, the SVG charts and report.html here.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Read the embedded chain of this keeper home (`chain.db`) instead of a cosmos chain.
    /// Stop the keeper first: the chain's state is loaded when the home is opened.
    #[arg(long, value_name = "DIR")]
    pub home: Option<PathBuf>,
    /// Keeper config holding the embedded chain's `[genesis]` (with `--home`).
    #[arg(long, value_name = "FILE", default_value = "keeper.toml")]
    pub config: PathBuf,
    /// Cosmos chain connection (`--node`, `--state`), used without `--home`.
    #[command(flatten)]
    pub chain: ReadArgs,
}

/// A read-only cosmos source: CometBFT RPC and the deploy state's addresses.
struct CosmosSource {
    reader: Reader,
    chain_id: String,
}

impl Source for CosmosSource {
    fn chain_id(&self) -> String {
        self.chain_id.clone()
    }
    fn deployment(&self) -> Deployment {
        self.reader.deployment.clone()
    }
    fn status(&self) -> Result<ChainStatus, ChainError> {
        let s = self.reader.rpc.status()?;
        Ok(ChainStatus {
            height: s.height,
            time: s.time,
        })
    }
    fn query_json(
        &self,
        contract: ContractRole,
        msg: &serde_json::Value,
    ) -> Result<serde_json::Value, ChainError> {
        let address = self.reader.deployment.address(contract).to_string();
        self.reader
            .query(&address, msg)
            .map_err(|e| ChainError::Contract {
                contract: address,
                message: format!("{e:#}"),
            })
    }
}

/// Reads the figures of the arguments' range from `source`.
pub fn collect(source: &dyn Source, from: Option<u64>, to: Option<u64>) -> anyhow::Result<Figures> {
    let window = crate::report::web::WINDOW;
    let head = crate::report::Head::read(source)?;
    let to = match to {
        Some(t) => t,
        None => *head.default_range(window).end(),
    };
    let from = from.unwrap_or(to.saturating_sub(window - 1));
    Ok(ReportCache::new().collect_at(source, &head, from..=to)?)
}

/// Writes every file form of `fig` into `dir`; the paths written.
pub fn write_files(
    dir: &Path,
    fig: &Figures,
    subtitle: Option<String>,
) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create output directory {}", dir.display()))?;
    let charts = chart::charts(fig)?;
    let mut files: Vec<(PathBuf, String)> = vec![
        (
            dir.join("report.json"),
            serde_json::to_string_pretty(fig)? + "\n",
        ),
        (dir.join("epochs.csv"), figures::epochs_csv(fig)),
        (dir.join("nodes.csv"), figures::nodes_csv(fig)),
    ];
    for c in &charts {
        files.push((dir.join(format!("{}.svg", c.name)), c.svg.clone()));
    }
    files.push((
        dir.join("report.html"),
        html::render(&html::Page {
            figures: fig,
            charts: &charts,
            detail: None,
            links: html::Links::Anchors,
            refresh_secs: None,
            subtitle,
        }),
    ));
    let mut written = Vec::new();
    for (path, body) in files {
        std::fs::write(&path, body).with_context(|| format!("cannot write {}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}

/// Runs `opg report`.
pub fn run(args: ReportArgs) -> anyhow::Result<()> {
    let fig = match &args.home {
        Some(home) => {
            let config = crate::config::KeeperConfig::load(&args.config)?;
            let genesis = config
                .genesis
                .as_ref()
                .context("the embedded chain needs the config's [genesis] section")?;
            anyhow::ensure!(
                home.join("chain.db").exists(),
                "no embedded chain in {} (chain.db missing)",
                home.display()
            );
            let chain = crate::chain::embedded::EmbeddedChain::open(home, genesis)?;
            collect(&chain, args.from_epoch, args.to_epoch)?
        }
        None => {
            let reader = Reader::open(&args.chain)?;
            let chain_id = reader.rpc.status()?.network;
            collect(
                &CosmosSource { reader, chain_id },
                args.from_epoch,
                args.to_epoch,
            )?
        }
    };
    match args.format {
        Format::Table => print!("{}", figures::render_table(&fig)),
        Format::Json => println!("{}", serde_json::to_string_pretty(&fig)?),
        Format::Csv => print!("{}", figures::epochs_csv(&fig)),
    }
    if let Some(dir) = &args.out {
        let written = write_files(dir, &fig, None)?;
        eprintln!(
            "wrote {}",
            written
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory as _, Parser as _};

    use crate::cli::{Cli, Command};

    #[test]
    fn report_arguments_parse_beside_the_chain_flags() {
        // clap's own consistency checks (unique names: `--from` is the chain flags' sender)
        Cli::command().debug_assert();
        let cli = Cli::parse_from([
            "opg",
            "report",
            "--from-epoch",
            "2",
            "--to-epoch",
            "5",
            "--format",
            "csv",
            "--node",
            "http://127.0.0.1:1",
        ]);
        let Command::Report(a) = cli.command else {
            panic!("not the report command")
        };
        assert_eq!((a.from_epoch, a.to_epoch), (Some(2), Some(5)));
        assert_eq!(a.format, super::Format::Csv);
        assert_eq!(a.chain.node, "http://127.0.0.1:1");
        assert!(a.home.is_none());
    }
}
