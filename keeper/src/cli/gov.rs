//! `opg gov params|set-params|add-model|add-attester|jail|slash`: governance of the contracts.
//! Executes as the governance address when the signer is it; with `--proposal` prints a ready
//! x/gov proposal JSON for `wasmd tx gov submit-proposal` (a `MsgExecuteContract` from the gov
//! module account, or with `--sudo` a `MsgSudoContract`).
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use cosmwasm_std::{Binary, Decimal};
use opg_core::msg::pool::{self, RewardParams};
use opg_core::msg::registry;
use opg_core::types::Provenance;

use super::common::{gov_module_address, print_json, ChainArgs, Reader};
use crate::tx::msgs::{splice_raw, WasmMsg};

/// `opg gov …`.
#[derive(Args, Debug)]
pub struct GovArgs {
    /// Chain connection.
    #[command(flatten)]
    pub chain: ChainArgs,
    /// Print an x/gov proposal JSON instead of executing.
    #[arg(long, global = true)]
    pub proposal: bool,
    /// With `--proposal`: a `MsgSudoContract` instead of a `MsgExecuteContract`.
    #[arg(long, global = true, requires = "proposal")]
    pub sudo: bool,
    /// Proposal title.
    #[arg(long, global = true, default_value = "opg governance")]
    pub title: String,
    /// Proposal summary.
    #[arg(long, global = true, default_value = "")]
    pub summary: String,
    /// Proposal deposit, e.g. `10000000uopg`.
    #[arg(long, global = true, default_value = "")]
    pub deposit: String,
    /// Subcommand.
    #[command(subcommand)]
    pub command: GovCommand,
}

/// Provenance flag.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ProvenanceFlag {
    /// Served through a commercial API.
    Commercial,
    /// Open weights.
    Community,
}

/// Governance subcommands.
#[derive(Subcommand, Debug)]
pub enum GovCommand {
    /// Show the registry config and the pool's reward params.
    Params,
    /// Replace the pool's reward params (JSON file of `RewardParams`).
    SetParams {
        /// JSON file.
        #[arg(long)]
        file: PathBuf,
    },
    /// Add a model to the registry's list.
    AddModel {
        /// Model id.
        #[arg(long)]
        id: String,
        /// Provenance.
        #[arg(long, value_enum)]
        provenance: ProvenanceFlag,
        /// sha256 of the open weights, hex (community models).
        #[arg(long)]
        weights_digest: Option<String>,
    },
    /// Allow-list a hardware attester (EVM address).
    AddAttester {
        /// `0x` address.
        #[arg(long)]
        address: String,
    },
    /// Jail a node.
    Jail {
        /// Node id.
        #[arg(long)]
        node_id: String,
        /// Why.
        #[arg(long)]
        reason: String,
    },
    /// Slash a fraction of a node's bond to the pool.
    Slash {
        /// Node id.
        #[arg(long)]
        node_id: String,
        /// Fraction in (0, 1], e.g. `0.1`.
        #[arg(long)]
        fraction: Decimal,
    },
}

/// Which contract a governance action goes to, with its execute and sudo JSON.
#[derive(Debug, PartialEq)]
pub struct Action {
    /// `true`: the pool; `false`: the registry.
    pub to_pool: bool,
    /// `ExecuteMsg` JSON.
    pub execute: Vec<u8>,
    /// `SudoMsg` JSON.
    pub sudo: Vec<u8>,
}

/// The governance action of `cmd` (`None` for `params`).
pub fn action(cmd: &GovCommand) -> anyhow::Result<Option<Action>> {
    use registry::{AddAttesterMsg, AddModelMsg, ExecuteMsg as E, JailMsg, SlashMsg, SudoMsg as S};
    let reg = |e: E, s: S| -> anyhow::Result<Option<Action>> {
        Ok(Some(Action {
            to_pool: false,
            execute: serde_json::to_vec(&e)?,
            sudo: serde_json::to_vec(&s)?,
        }))
    };
    match cmd {
        GovCommand::Params => Ok(None),
        GovCommand::SetParams { file } => {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let params: RewardParams = serde_json::from_str(&text)
                .with_context(|| format!("{}: expected RewardParams JSON", file.display()))?;
            Ok(Some(Action {
                to_pool: true,
                execute: serde_json::to_vec(&pool::ExecuteMsg::UpdateParams {
                    params: params.clone(),
                })?,
                sudo: serde_json::to_vec(&pool::SudoMsg::UpdateParams { params })?,
            }))
        }
        GovCommand::AddModel {
            id,
            provenance,
            weights_digest,
        } => {
            let provenance = match provenance {
                ProvenanceFlag::Commercial => Provenance::Commercial,
                ProvenanceFlag::Community => Provenance::Community,
            };
            let digest = weights_digest
                .as_deref()
                .map(|h| hex::decode(h).map(Binary::from))
                .transpose()
                .context("--weights-digest: hex")?;
            let body = AddModelMsg {
                id: id.clone(),
                provenance,
                weights_digest: digest,
            };
            reg(E::AddModel(body.clone()), S::AddModel(body))
        }
        GovCommand::AddAttester { address } => {
            let body = AddAttesterMsg {
                address: address.clone(),
            };
            reg(E::AddAttester(body.clone()), S::AddAttester(body))
        }
        GovCommand::Jail { node_id, reason } => {
            let body = JailMsg {
                node_id: node_id.clone(),
                reason: reason.clone(),
            };
            reg(E::Jail(body.clone()), S::Jail(body))
        }
        GovCommand::Slash { node_id, fraction } => {
            let body = SlashMsg {
                node_id: node_id.clone(),
                fraction: *fraction,
            };
            reg(E::Slash(body.clone()), S::Slash(body))
        }
    }
}

/// The x/gov proposal JSON carrying `msg` (from `authority`, the gov module account).
pub fn proposal_json(
    msg: &WasmMsg,
    title: &str,
    summary: &str,
    deposit: &str,
) -> anyhow::Result<serde_json::Value> {
    let value = serde_json::json!({
        "messages": [msg.to_json(0)],
        "metadata": "",
        "deposit": deposit,
        "title": title,
        "summary": summary,
    });
    Ok(serde_json::from_str(&splice_raw(
        &value,
        std::slice::from_ref(msg),
    ))?)
}

/// Runs `opg gov`.
pub fn run(args: GovArgs) -> anyhow::Result<()> {
    let Some(act) = action(&args.command)? else {
        let r = Reader::open(&args.chain)?;
        let config: registry::ConfigResponse =
            r.query(&r.deployment.registry, &registry::QueryMsg::Config {})?;
        let params: pool::ParamsResponse =
            r.query(&r.deployment.pool, &pool::QueryMsg::Params {})?;
        return print_json(&serde_json::json!({"registry": config, "pool": params}));
    };
    let d = args.chain.deploy_state()?.deployment;
    let contract = if act.to_pool { d.pool } else { d.registry };
    if args.proposal {
        let authority = gov_module_address(&args.chain.prefix)?;
        let msg = if args.sudo {
            WasmMsg::Sudo {
                authority,
                contract,
                msg: act.sudo,
            }
        } else {
            WasmMsg::Execute {
                sender: authority,
                contract,
                msg: act.execute,
                funds: vec![],
            }
        };
        return print_json(&proposal_json(
            &msg,
            &args.title,
            &args.summary,
            &args.deposit,
        )?);
    }
    let msg = WasmMsg::Execute {
        sender: args.chain.sender()?,
        contract,
        msg: act.execute,
        funds: vec![],
    };
    print_json(&args.chain.submit(vec![msg])?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_proposal_carries_the_exact_message_from_the_gov_module_account() {
        let act = action(&GovCommand::AddAttester {
            address: "0xabc".into(),
        })
        .unwrap()
        .unwrap();
        assert!(!act.to_pool);
        let msg = WasmMsg::Sudo {
            authority: gov_module_address("wasm").unwrap(),
            contract: "wasm1registry".into(),
            msg: act.sudo,
        };
        let p = proposal_json(&msg, "t", "s", "10uopg").unwrap();
        let m = &p["messages"][0];
        assert_eq!(m["@type"], "/cosmwasm.wasm.v1.MsgSudoContract");
        assert_eq!(m["authority"], gov_module_address("wasm").unwrap());
        assert_eq!(m["msg"]["add_attester"]["address"], "0xabc");
        assert_eq!(p["deposit"], "10uopg");
        assert_eq!(p["metadata"], "");
    }

    #[test]
    fn a_bad_params_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("p.json");
        std::fs::write(&f, "{}").unwrap();
        let e = format!(
            "{:#}",
            action(&GovCommand::SetParams { file: f }).unwrap_err()
        );
        assert!(e.contains("RewardParams"), "{e}");
    }
}
