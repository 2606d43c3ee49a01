//! `opg query epoch|node|receipt|multipliers` against a cosmos chain (`--node URL --state
//! deploy.json`).
use clap::{Args, Subcommand};
use opg_core::msg::{pool, registry, verifier};

use super::common::{print_json, ChainArgs, Reader};

/// `opg query …`.
#[derive(Args, Debug)]
pub struct QueryArgs {
    /// Chain connection (`--node`, `--state`).
    #[command(flatten)]
    pub chain: ChainArgs,
    /// Subcommand.
    #[command(subcommand)]
    pub command: QueryCommand,
}

/// Query subcommands.
#[derive(Subcommand, Debug)]
pub enum QueryCommand {
    /// The pool's epoch clock, the next epoch to finalize, or one epoch's report.
    Epoch {
        /// Show this epoch's report (finalized epochs).
        #[arg(long)]
        epoch: Option<u64>,
    },
    /// A registered node.
    Node {
        /// Node id.
        #[arg(long)]
        node_id: String,
    },
    /// Whether a receipt (payer, nonce) was consumed.
    Receipt {
        /// Payer EVM address.
        #[arg(long)]
        payer: String,
        /// Nonce, `0x` + 64 hex.
        #[arg(long)]
        nonce: String,
    },
    /// Provenance multipliers of an epoch.
    Multipliers {
        /// Epoch.
        #[arg(long)]
        epoch: u64,
    },
}

/// The JSON answer of one query.
pub fn answer(r: &Reader, cmd: &QueryCommand) -> anyhow::Result<serde_json::Value> {
    let d = &r.deployment;
    Ok(match cmd {
        QueryCommand::Epoch { epoch: None } => {
            let c: pool::ConfigResponse = r.query(&d.pool, &pool::QueryMsg::Config {})?;
            serde_json::json!({"clock": c.clock, "next_to_finalize": c.next_to_finalize})
        }
        QueryCommand::Epoch { epoch: Some(e) } => {
            let rep: pool::EpochReport =
                r.query(&d.pool, &pool::QueryMsg::EpochReport { epoch: *e })?;
            serde_json::to_value(rep)?
        }
        QueryCommand::Node { node_id } => {
            let n: registry::NodeInfo = r.query(
                &d.registry,
                &registry::QueryMsg::Node {
                    node_id: node_id.clone(),
                },
            )?;
            serde_json::to_value(n)?
        }
        QueryCommand::Receipt { payer, nonce } => {
            let s: verifier::ReceiptStatusResponse = r.query(
                &d.verifier,
                &verifier::QueryMsg::ReceiptStatus {
                    payer: payer.clone(),
                    nonce: nonce.clone(),
                },
            )?;
            serde_json::to_value(s)?
        }
        QueryCommand::Multipliers { epoch } => {
            let m: pool::MultipliersResponse =
                r.query(&d.pool, &pool::QueryMsg::Multipliers { epoch: *epoch })?;
            serde_json::to_value(m)?
        }
    })
}

/// Runs `opg query`.
pub fn run(args: QueryArgs) -> anyhow::Result<()> {
    let r = Reader::open(&args.chain)?;
    print_json(&answer(&r, &args.command)?)
}
