//! The arguments of a simulation run (`opg simulate`'s flags; clap derives them, the CLI
//! re-exports the type): kept in the simulator so that it does not depend on the CLI module.
use std::path::PathBuf;

use clap::Args;

/// Arguments of `opg simulate`.
#[derive(Args, Clone, Debug, Default, PartialEq, Eq)]
pub struct SimulateArgs {
    /// Scenario TOML (default: the built-in `scenarios/seed.toml`).
    #[arg(long, value_name = "FILE")]
    pub scenario: Option<PathBuf>,
    /// Override the scenario's number of epochs.
    #[arg(long, value_name = "N")]
    pub epochs: Option<u64>,
    /// Print one JSON document on stdout instead of tables.
    #[arg(long)]
    pub json: bool,
    /// Directory for the SVG chart and the JSON report (default `out`).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Run the scenario's `[sweep]` grid (emission x community demand x alpha x c_call) instead:
    /// writes `sweep.json` and the `sweep.svg` heatmap into `--out`.
    #[arg(long)]
    pub sweep: bool,
}
