//! `opg query epoch|node|receipt|multipliers` against a cosmos chain (`--node URL --state
//! deploy.json`).
use clap::{Args, Subcommand};
use opg_core::msg::{pool, registry, verifier};

use anyhow::Context;

use super::common::{print_as, ReadArgs, Reader};
use crate::chain::cosmos::{CometRpc, HttpRpc};

/// `opg query …`.
#[derive(Args, Debug)]
pub struct QueryArgs {
    /// Chain connection (`--node`, `--state`, `--chain-id`, `--output`).
    #[command(flatten)]
    pub chain: ReadArgs,
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
    /// An account's number and sequence (what `opg tx sign --offline` needs); no deploy state.
    Account {
        /// Bech32 address (`wasm1…`).
        address: String,
    },
}

/// `{"address", "account_number", "sequence"}` of `address` (`cosmos.auth.v1beta1.Query/Account`).
/// Errors: the account does not exist (never funded), not a base account, RPC errors.
pub fn account(rpc: &dyn CometRpc, address: &str) -> anyhow::Result<serde_json::Value> {
    use cosmrs::proto::cosmos::auth::v1beta1::{
        BaseAccount, QueryAccountRequest, QueryAccountResponse,
    };
    use cosmrs::proto::prost::Message;
    let a = rpc.abci_query(
        "/cosmos.auth.v1beta1.Query/Account",
        QueryAccountRequest {
            address: address.into(),
        }
        .encode_to_vec(),
    )?;
    anyhow::ensure!(
        a.code == 0,
        "account {address} not found (an account exists once it has received funds): {}",
        a.log
    );
    let any = QueryAccountResponse::decode(a.value.as_slice())?
        .account
        .with_context(|| format!("account {address}: empty answer"))?;
    anyhow::ensure!(
        any.type_url == "/cosmos.auth.v1beta1.BaseAccount",
        "account {address} is a {}, not a base account",
        any.type_url
    );
    let base = BaseAccount::decode(any.value.as_slice())?;
    Ok(serde_json::json!({
        "address": base.address,
        "account_number": base.account_number.to_string(),
        "sequence": base.sequence.to_string(),
    }))
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
        QueryCommand::Account { address } => account(&r.rpc, address)?,
        QueryCommand::Multipliers { epoch } => {
            let m: pool::MultipliersResponse =
                r.query(&d.pool, &pool::QueryMsg::Multipliers { epoch: *epoch })?;
            serde_json::to_value(m)?
        }
    })
}

/// Runs `opg query`.
pub fn run(args: QueryArgs) -> anyhow::Result<()> {
    if let QueryCommand::Account { address } = &args.command {
        return print_as(
            args.chain.output,
            &account(&HttpRpc::new(&args.chain.node)?, address)?,
        );
    }
    let r = Reader::open(&args.chain)?;
    print_as(args.chain.output, &answer(&r, &args.command)?)
}
