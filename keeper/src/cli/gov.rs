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
    /// Proposal summary (x/gov refuses an empty one). Default: what the proposal executes, e.g.
    /// `add_model on the node-registry wasm1…`.
    #[arg(long, global = true)]
    pub summary: Option<String>,
    /// Proposal deposit: the chain's x/gov `min_deposit` puts it straight into voting
    /// (`wasmd q gov params`); `scripts/localnet.sh`'s is `10000000uopg`.
    #[arg(long, global = true, default_value = "10000000uopg")]
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
    /// Pin the deployed codes in the VM cache (`MsgPinCodes`; contract entry then costs 2,000 SDK
    /// gas instead of 60,000). Only x/gov may pin: needs `--proposal`.
    PinCodes {
        /// Code ids (comma-separated). Default: the three codes of the deploy state.
        #[arg(long, value_delimiter = ',')]
        code_ids: Vec<u64>,
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

/// The contract governance action of `cmd` (`None` for `params` and `pin-codes`).
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
        GovCommand::Params | GovCommand::PinCodes { .. } => Ok(None),
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

/// The default proposal summary: which message of which contract the proposal runs, e.g.
/// `execute add_model on wasm1…` (x/gov refuses an empty summary).
///
/// Errors: `msg` is not a JSON object with one key (not expected from [`action`]).
pub fn default_summary(msg: &WasmMsg) -> anyhow::Result<String> {
    let (kind, contract, body) = match msg {
        WasmMsg::Sudo { contract, msg, .. } => ("sudo", contract, msg),
        WasmMsg::Execute { contract, msg, .. } => ("execute", contract, msg),
        other => anyhow::bail!("no summary for {other:?}"),
    };
    let value: serde_json::Value = serde_json::from_slice(body)?;
    let variant = value
        .as_object()
        .and_then(|o| o.keys().next().cloned())
        .context("a contract message is a JSON object with one key")?;
    Ok(format!("{kind} {variant} on {contract}"))
}

/// Runs `opg gov`.
pub fn run(args: GovArgs) -> anyhow::Result<()> {
    if let GovCommand::PinCodes { code_ids } = &args.command {
        anyhow::ensure!(
            args.proposal,
            "pin-codes: only the x/gov module account may pin codes; add --proposal and submit it"
        );
        let code_ids = if code_ids.is_empty() {
            let c = args.chain.deploy_state()?.code_ids;
            vec![c.registry, c.pool, c.verifier]
        } else {
            code_ids.clone()
        };
        let msg = WasmMsg::PinCodes {
            authority: gov_module_address(&args.chain.prefix)?,
            code_ids: code_ids.clone(),
        };
        let summary = match &args.summary {
            Some(s) if !s.trim().is_empty() => s.clone(),
            Some(_) => anyhow::bail!("--summary: x/gov refuses an empty proposal summary"),
            None => format!("pin codes {code_ids:?} in the wasm VM cache"),
        };
        return print_json(&proposal_json(&msg, &args.title, &summary, &args.deposit)?);
    }
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
        let summary = match &args.summary {
            Some(s) if !s.trim().is_empty() => s.clone(),
            Some(_) => anyhow::bail!("--summary: x/gov refuses an empty proposal summary"),
            None => default_summary(&msg)?,
        };
        return print_json(&proposal_json(&msg, &args.title, &summary, &args.deposit)?);
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
