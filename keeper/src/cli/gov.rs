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

use cosmrs::proto::cosmos::gov::v1::{self as gov_proto, ProposalStatus, VoteOption};
use cosmrs::proto::prost::Message;

use super::common::{gov_module_address, print_as, print_json, send, ChainArgs, Reader};
use crate::chain::cosmos::{CometRpc, HttpRpc};
use crate::tx::msgs::{
    parse_coins, splice_raw, WasmMsg, EXECUTE_TYPE_URL, MIGRATE_TYPE_URL, PIN_CODES_TYPE_URL,
    SUDO_TYPE_URL,
};

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
    /// Submit an x/gov proposal file (as `--proposal` prints it, `wasmd tx gov submit-proposal`
    /// JSON), signed by the key; prints the proposal id.
    SubmitProposal {
        /// The proposal JSON file.
        file: PathBuf,
    },
    /// Vote on an x/gov proposal (only bonded stake counts: validators and delegators).
    Vote {
        /// Proposal id.
        proposal_id: u64,
        /// `yes`, `no`, `abstain` or `no_with_veto`.
        #[arg(value_enum)]
        option: VoteFlag,
    },
    /// Wait until x/gov has decided a proposal; fails unless it passed (and its messages ran).
    Wait {
        /// Proposal id.
        proposal_id: u64,
        /// Give up after this many seconds.
        #[arg(long, default_value_t = 120)]
        timeout: u64,
    },
}

/// A vote option (`cosmos.gov.v1.VoteOption`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum VoteFlag {
    /// `VOTE_OPTION_YES`.
    Yes,
    /// `VOTE_OPTION_NO`.
    No,
    /// `VOTE_OPTION_ABSTAIN`.
    Abstain,
    /// `VOTE_OPTION_NO_WITH_VETO`.
    NoWithVeto,
}

impl VoteFlag {
    fn proto(self) -> VoteOption {
        match self {
            VoteFlag::Yes => VoteOption::Yes,
            VoteFlag::No => VoteOption::No,
            VoteFlag::Abstain => VoteOption::Abstain,
            VoteFlag::NoWithVeto => VoteOption::NoWithVeto,
        }
    }
}

/// The [`WasmMsg::SubmitProposal`] of a proposal JSON (`{"messages", "metadata", "deposit",
/// "title", "summary"}` with `MsgExecuteContract`, `MsgSudoContract`, `MsgMigrateContract` or
/// `MsgPinCodes` messages, as `opg gov … --proposal` prints), proposed by `proposer`.
///
/// Errors: a missing or empty field (naming it), an unknown message type, a bad deposit.
pub fn proposal_msg(v: &serde_json::Value, proposer: &str) -> anyhow::Result<WasmMsg> {
    let text = |o: &serde_json::Value, k: &str| -> anyhow::Result<String> {
        o.get(k)
            .and_then(|x| x.as_str())
            .map(String::from)
            .with_context(|| format!("proposal: missing string field {k:?}"))
    };
    let title = text(v, "title")?;
    let summary = text(v, "summary")?;
    anyhow::ensure!(
        !title.trim().is_empty() && !summary.trim().is_empty(),
        "proposal: x/gov refuses an empty title or summary"
    );
    let deposit = parse_coins(&text(v, "deposit")?, "deposit")?;
    let metadata = v
        .get("metadata")
        .and_then(|m| m.as_str())
        .unwrap_or_default()
        .to_string();
    let raw = |m: &serde_json::Value| -> anyhow::Result<Vec<u8>> {
        Ok(serde_json::to_vec(
            m.get("msg").context("proposal message: missing \"msg\"")?,
        )?)
    };
    let mut messages = Vec::new();
    for (i, m) in v
        .get("messages")
        .and_then(|m| m.as_array())
        .context("proposal: missing \"messages\" array")?
        .iter()
        .enumerate()
    {
        let ty = text(m, "@type")?;
        messages.push(match ty.as_str() {
            EXECUTE_TYPE_URL => WasmMsg::Execute {
                sender: text(m, "sender")?,
                contract: text(m, "contract")?,
                msg: raw(m)?,
                funds: serde_json::from_value(m.get("funds").cloned().unwrap_or_default())
                    .unwrap_or_default(),
            },
            SUDO_TYPE_URL => WasmMsg::Sudo {
                authority: text(m, "authority")?,
                contract: text(m, "contract")?,
                msg: raw(m)?,
            },
            MIGRATE_TYPE_URL => WasmMsg::Migrate {
                sender: text(m, "sender")?,
                contract: text(m, "contract")?,
                code_id: text(m, "code_id")?.parse().context("code_id")?,
                msg: raw(m)?,
            },
            PIN_CODES_TYPE_URL => WasmMsg::PinCodes {
                authority: text(m, "authority")?,
                code_ids: m
                    .get("code_ids")
                    .and_then(|c| c.as_array())
                    .context("MsgPinCodes: missing code_ids")?
                    .iter()
                    .map(|c| {
                        c.as_str()
                            .map(String::from)
                            .unwrap_or_else(|| c.to_string())
                            .parse::<u64>()
                            .context("MsgPinCodes: code_ids are integers")
                    })
                    .collect::<anyhow::Result<_>>()?,
            },
            other => anyhow::bail!("proposal message #{i}: unsupported type {other}"),
        });
    }
    anyhow::ensure!(!messages.is_empty(), "proposal: no messages");
    Ok(WasmMsg::SubmitProposal {
        proposer: proposer.into(),
        messages,
        deposit,
        metadata,
        title,
        summary,
    })
}

/// The x/gov proposal `id` (`cosmos.gov.v1.Query/Proposal`). Errors: unknown id, RPC errors.
pub fn query_proposal(rpc: &dyn CometRpc, id: u64) -> anyhow::Result<gov_proto::Proposal> {
    let a = rpc.abci_query(
        "/cosmos.gov.v1.Query/Proposal",
        gov_proto::QueryProposalRequest { proposal_id: id }.encode_to_vec(),
    )?;
    anyhow::ensure!(a.code == 0, "proposal {id}: {}", a.log);
    gov_proto::QueryProposalResponse::decode(a.value.as_slice())?
        .proposal
        .with_context(|| format!("no proposal {id}"))
}

fn status_name(p: &gov_proto::Proposal) -> &'static str {
    ProposalStatus::try_from(p.status)
        .map(|s| s.as_str_name())
        .unwrap_or("PROPOSAL_STATUS_UNSPECIFIED")
}

/// Polls proposal `id` until x/gov decides it (up to `timeout`); `{"proposal_id", "status"}`.
/// Errors: rejected, failed (its messages errored) or still undecided at the timeout.
pub fn wait_proposal(
    rpc: &dyn CometRpc,
    id: u64,
    timeout: std::time::Duration,
) -> anyhow::Result<serde_json::Value> {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        let p = query_proposal(rpc, id)?;
        match ProposalStatus::try_from(p.status) {
            Ok(ProposalStatus::Passed) => {
                return Ok(serde_json::json!({"proposal_id": id, "status": status_name(&p)}))
            }
            Ok(ProposalStatus::Rejected) | Ok(ProposalStatus::Failed) => anyhow::bail!(
                "proposal {id} {}{}",
                status_name(&p),
                if p.failed_reason.is_empty() {
                    String::new()
                } else {
                    format!(": {}", p.failed_reason)
                }
            ),
            _ => {}
        }
        anyhow::ensure!(
            std::time::Instant::now() < deadline,
            "proposal {id} still {} after {} s (votes are counted when its voting period ends)",
            status_name(&p),
            timeout.as_secs()
        );
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
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
        GovCommand::Params
        | GovCommand::PinCodes { .. }
        | GovCommand::SubmitProposal { .. }
        | GovCommand::Vote { .. }
        | GovCommand::Wait { .. } => Ok(None),
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
    match &args.command {
        GovCommand::SubmitProposal { file } => {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("cannot read proposal {}", file.display()))?;
            let v: serde_json::Value = serde_json::from_str(&text)
                .with_context(|| format!("proposal {} is not JSON", file.display()))?;
            let msg = proposal_msg(&v, &args.chain.sender()?)?;
            if args.chain.generate_only || args.chain.offline {
                return print_as(args.chain.output, &args.chain.submit(vec![msg])?);
            }
            let chain = args.chain.signer(&args.chain.chain_id()?)?;
            let sent = send(&chain, vec![msg])?;
            let id = sent
                .response::<gov_proto::MsgSubmitProposalResponse>(0)?
                .proposal_id;
            let mut out = sent.to_json();
            out["proposal_id"] = serde_json::json!(id.to_string());
            return print_as(args.chain.output, &out);
        }
        GovCommand::Vote {
            proposal_id,
            option,
        } => {
            let msg = WasmMsg::Vote {
                voter: args.chain.sender()?,
                proposal_id: *proposal_id,
                option: option.proto() as i32,
            };
            return print_as(args.chain.output, &args.chain.submit(vec![msg])?);
        }
        GovCommand::Wait {
            proposal_id,
            timeout,
        } => {
            let rpc = HttpRpc::new(&args.chain.node)?;
            return print_as(
                args.chain.output,
                &wait_proposal(&rpc, *proposal_id, std::time::Duration::from_secs(*timeout))?,
            );
        }
        _ => {}
    }
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
    print_as(args.chain.output, &args.chain.submit(vec![msg])?)
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
    fn a_printed_proposal_reads_back_into_the_same_messages() {
        let act = action(&GovCommand::AddModel {
            id: "openai/gpt-4.1".into(),
            provenance: ProvenanceFlag::Commercial,
            weights_digest: None,
        })
        .unwrap()
        .unwrap();
        let exec = WasmMsg::Execute {
            sender: gov_module_address("wasm").unwrap(),
            contract: "wasm1registry".into(),
            msg: act.execute.clone(),
            funds: vec![],
        };
        let pin = WasmMsg::PinCodes {
            authority: gov_module_address("wasm").unwrap(),
            code_ids: vec![1, 3],
        };
        let mut p = proposal_json(&exec, "t", "add a model", "10000000uopg").unwrap();
        let p2 = proposal_json(&pin, "t", "pin", "1uopg").unwrap();
        p["messages"]
            .as_array_mut()
            .unwrap()
            .push(p2["messages"][0].clone());
        match proposal_msg(&p, "wasm1me").unwrap() {
            WasmMsg::SubmitProposal {
                proposer,
                messages,
                deposit,
                title,
                summary,
                ..
            } => {
                assert_eq!(proposer, "wasm1me");
                assert_eq!(messages, vec![exec, pin]);
                assert_eq!(
                    deposit,
                    vec![crate::tx::msgs::Coin::new(10_000_000, "uopg")]
                );
                assert_eq!((title.as_str(), summary.as_str()), ("t", "add a model"));
            }
            other => panic!("{other:?}"),
        }
        p["summary"] = "".into();
        assert!(proposal_msg(&p, "wasm1me")
            .unwrap_err()
            .to_string()
            .contains("empty"));
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
