//! The CosmWasm messages opg sends (`x/wasm` v1): execute, store, instantiate, migrate, and sudo
//! (for governance proposals). Contract messages are JSON bytes used exactly as given; they are
//! checked to be JSON but never re-serialised.
use cosmrs::proto::cosmos::base::v1beta1::Coin as ProtoCoin;
use cosmrs::proto::cosmos::gov::v1 as gov;
use cosmrs::proto::cosmwasm::wasm::v1 as wasm;
use cosmrs::proto::prost::Message;
use cosmrs::Any;
use serde::{Deserialize, Serialize};

use super::TxError;

/// `/cosmwasm.wasm.v1.MsgExecuteContract`.
pub const EXECUTE_TYPE_URL: &str = "/cosmwasm.wasm.v1.MsgExecuteContract";
/// `/cosmwasm.wasm.v1.MsgStoreCode`.
pub const STORE_CODE_TYPE_URL: &str = "/cosmwasm.wasm.v1.MsgStoreCode";
/// `/cosmwasm.wasm.v1.MsgInstantiateContract`.
pub const INSTANTIATE_TYPE_URL: &str = "/cosmwasm.wasm.v1.MsgInstantiateContract";
/// `/cosmwasm.wasm.v1.MsgMigrateContract`.
pub const MIGRATE_TYPE_URL: &str = "/cosmwasm.wasm.v1.MsgMigrateContract";
/// `/cosmwasm.wasm.v1.MsgSudoContract` (governance only).
pub const SUDO_TYPE_URL: &str = "/cosmwasm.wasm.v1.MsgSudoContract";
/// `/cosmwasm.wasm.v1.MsgPinCodes` (governance only).
pub const PIN_CODES_TYPE_URL: &str = "/cosmwasm.wasm.v1.MsgPinCodes";
/// `/cosmos.gov.v1.MsgSubmitProposal` (x/gov, Cosmos SDK 0.46+).
pub const SUBMIT_PROPOSAL_TYPE_URL: &str = "/cosmos.gov.v1.MsgSubmitProposal";
/// `/cosmos.gov.v1.MsgVote`.
pub const VOTE_TYPE_URL: &str = "/cosmos.gov.v1.MsgVote";

/// A coin: an integer amount of base units (e.g. `uopg`) as a decimal string.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Coin {
    /// Denomination (`ustake`, `uopg`, `ibc/…`).
    pub denom: String,
    /// Amount in base units, an unsigned integer below 2^128.
    pub amount: String,
}

impl Coin {
    /// A coin of `amount` base units of `denom`.
    pub fn new(amount: u128, denom: &str) -> Self {
        Coin {
            denom: denom.into(),
            amount: amount.to_string(),
        }
    }

    /// Checks the amount is an unsigned integer and the denom is not empty.
    /// Errors: [`TxError::InvalidAmount`].
    pub fn validate(&self, what: &str) -> Result<(), TxError> {
        let bad = || TxError::InvalidAmount {
            what: what.into(),
            value: format!("{}{}", self.amount, self.denom),
            expected: "an unsigned integer amount and a denom, e.g. 5000ustake".into(),
        };
        if !valid_denom(&self.denom) || self.amount.parse::<u128>().is_err() {
            return Err(bad());
        }
        Ok(())
    }

    fn to_proto(&self) -> ProtoCoin {
        ProtoCoin {
            denom: self.denom.clone(),
            amount: self.amount.clone(),
        }
    }
}

/// The Cosmos SDK denom rule: `[a-zA-Z][a-zA-Z0-9/:._-]{2,127}`.
pub fn valid_denom(denom: &str) -> bool {
    let mut chars = denom.chars();
    (3..=128).contains(&denom.len())
        && chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || "/:._-".contains(c))
}

/// Parses `5000ustake` or `5000ustake,10uopg` (`wasmd --fees` syntax); the empty string is no
/// coins. Errors: [`TxError::InvalidAmount`].
pub fn parse_coins(text: &str, what: &str) -> Result<Vec<Coin>, TxError> {
    let mut out = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let split = part
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(part.len());
        let coin = Coin {
            amount: part[..split].to_string(),
            denom: part[split..].to_string(),
        };
        coin.validate(what)?;
        out.push(coin);
    }
    Ok(out)
}

/// One element of the `--msgs FILE` array of `opg tx sign`: an execute of `contract` with the
/// exact JSON text `msg`, sending `funds`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExecuteSpec {
    /// Contract address.
    pub contract: String,
    /// The execute message, as JSON text (used byte for byte).
    pub msg: String,
    /// Coins sent with it.
    #[serde(default)]
    pub funds: Vec<Coin>,
}

/// A CosmWasm message with its signer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WasmMsg {
    /// `MsgExecuteContract`.
    Execute {
        /// Signer.
        sender: String,
        /// Contract address.
        contract: String,
        /// JSON bytes of the execute message.
        msg: Vec<u8>,
        /// Coins sent.
        funds: Vec<Coin>,
    },
    /// `MsgStoreCode` (no instantiate permission: the chain's default).
    StoreCode {
        /// Signer.
        sender: String,
        /// Wasm byte code (raw or gzip).
        wasm: Vec<u8>,
    },
    /// `MsgInstantiateContract`.
    Instantiate {
        /// Signer.
        sender: String,
        /// Migration admin, if any.
        admin: Option<String>,
        /// Code id.
        code_id: u64,
        /// Human label.
        label: String,
        /// JSON bytes of the instantiate message.
        msg: Vec<u8>,
        /// Coins sent.
        funds: Vec<Coin>,
    },
    /// `MsgMigrateContract`.
    Migrate {
        /// Signer (the contract's admin).
        sender: String,
        /// Contract address.
        contract: String,
        /// New code id.
        code_id: u64,
        /// JSON bytes of the migrate message.
        msg: Vec<u8>,
    },
    /// `MsgSudoContract` (only the x/gov module account may send it).
    Sudo {
        /// The governance module account.
        authority: String,
        /// Contract address.
        contract: String,
        /// JSON bytes of the sudo message.
        msg: Vec<u8>,
    },
    /// `MsgPinCodes`: keep the codes' compiled modules in the VM's memory cache (contract entry
    /// costs 2,000 SDK gas instead of 60,000); only the x/gov module account may send it.
    PinCodes {
        /// The governance module account.
        authority: String,
        /// Code ids to pin.
        code_ids: Vec<u64>,
    },
    /// `cosmos.gov.v1.MsgSubmitProposal`: an x/gov proposal carrying `messages` (each signed by
    /// the gov module account when executed), with an initial deposit.
    SubmitProposal {
        /// Signer and proposer.
        proposer: String,
        /// The messages the proposal executes when it passes.
        messages: Vec<WasmMsg>,
        /// Initial deposit (x/gov's `min_deposit` puts it straight into voting).
        deposit: Vec<Coin>,
        /// Proposal metadata (usually empty or an IPFS link).
        metadata: String,
        /// Title (x/gov refuses an empty one).
        title: String,
        /// Summary (x/gov refuses an empty one).
        summary: String,
    },
    /// `cosmos.gov.v1.MsgVote`.
    Vote {
        /// Signer.
        voter: String,
        /// Proposal id.
        proposal_id: u64,
        /// `cosmos.gov.v1.VoteOption`: 1 yes, 2 abstain, 3 no, 4 no with veto.
        option: i32,
    },
}

impl WasmMsg {
    /// An execute message from `sender` built from a `--msgs` entry.
    pub fn execute(sender: &str, spec: &ExecuteSpec) -> Self {
        WasmMsg::Execute {
            sender: sender.into(),
            contract: spec.contract.clone(),
            msg: spec.msg.as_bytes().to_vec(),
            funds: spec.funds.clone(),
        }
    }

    /// The protobuf type URL.
    pub fn type_url(&self) -> &'static str {
        match self {
            WasmMsg::Execute { .. } => EXECUTE_TYPE_URL,
            WasmMsg::StoreCode { .. } => STORE_CODE_TYPE_URL,
            WasmMsg::Instantiate { .. } => INSTANTIATE_TYPE_URL,
            WasmMsg::Migrate { .. } => MIGRATE_TYPE_URL,
            WasmMsg::Sudo { .. } => SUDO_TYPE_URL,
            WasmMsg::PinCodes { .. } => PIN_CODES_TYPE_URL,
            WasmMsg::SubmitProposal { .. } => SUBMIT_PROPOSAL_TYPE_URL,
            WasmMsg::Vote { .. } => VOTE_TYPE_URL,
        }
    }

    /// The contract JSON message, if the variant has one.
    pub fn json_msg(&self) -> Option<&[u8]> {
        match self {
            WasmMsg::Execute { msg, .. }
            | WasmMsg::Instantiate { msg, .. }
            | WasmMsg::Migrate { msg, .. }
            | WasmMsg::Sudo { msg, .. } => Some(msg),
            WasmMsg::StoreCode { .. }
            | WasmMsg::PinCodes { .. }
            | WasmMsg::SubmitProposal { .. }
            | WasmMsg::Vote { .. } => None,
        }
    }

    /// Checks the contract message is JSON and the coins are well formed (message `index`).
    /// Errors: [`TxError::InvalidMsg`], [`TxError::InvalidAmount`].
    pub fn validate(&self, index: usize) -> Result<(), TxError> {
        if let Some(msg) = self.json_msg() {
            serde_json::from_slice::<serde::de::IgnoredAny>(msg).map_err(|e| {
                TxError::InvalidMsg {
                    index,
                    reason: format!("msg is not JSON: {e}"),
                }
            })?;
        }
        if let WasmMsg::Execute { funds, .. } | WasmMsg::Instantiate { funds, .. } = self {
            for c in funds {
                c.validate("funds")?;
            }
        }
        if let WasmMsg::SubmitProposal {
            messages, deposit, ..
        } = self
        {
            for m in messages {
                m.validate(index)?;
            }
            for c in deposit {
                c.validate("deposit")?;
            }
        }
        Ok(())
    }

    /// The message packed in an `Any`, as it goes into `TxBody.messages`.
    pub fn to_any(&self) -> Any {
        let value = match self {
            WasmMsg::Execute {
                sender,
                contract,
                msg,
                funds,
            } => wasm::MsgExecuteContract {
                sender: sender.clone(),
                contract: contract.clone(),
                msg: msg.clone(),
                funds: funds.iter().map(Coin::to_proto).collect(),
            }
            .encode_to_vec(),
            WasmMsg::StoreCode { sender, wasm } => wasm::MsgStoreCode {
                sender: sender.clone(),
                wasm_byte_code: wasm.clone(),
                instantiate_permission: None,
            }
            .encode_to_vec(),
            WasmMsg::Instantiate {
                sender,
                admin,
                code_id,
                label,
                msg,
                funds,
            } => wasm::MsgInstantiateContract {
                sender: sender.clone(),
                admin: admin.clone().unwrap_or_default(),
                code_id: *code_id,
                label: label.clone(),
                msg: msg.clone(),
                funds: funds.iter().map(Coin::to_proto).collect(),
            }
            .encode_to_vec(),
            WasmMsg::Migrate {
                sender,
                contract,
                code_id,
                msg,
            } => wasm::MsgMigrateContract {
                sender: sender.clone(),
                contract: contract.clone(),
                code_id: *code_id,
                msg: msg.clone(),
            }
            .encode_to_vec(),
            WasmMsg::Sudo {
                authority,
                contract,
                msg,
            } => wasm::MsgSudoContract {
                authority: authority.clone(),
                contract: contract.clone(),
                msg: msg.clone(),
            }
            .encode_to_vec(),
            WasmMsg::PinCodes {
                authority,
                code_ids,
            } => wasm::MsgPinCodes {
                authority: authority.clone(),
                code_ids: code_ids.clone(),
            }
            .encode_to_vec(),
            WasmMsg::SubmitProposal {
                proposer,
                messages,
                deposit,
                metadata,
                title,
                summary,
            } => gov::MsgSubmitProposal {
                messages: messages.iter().map(WasmMsg::to_any).collect(),
                initial_deposit: deposit.iter().map(Coin::to_proto).collect(),
                proposer: proposer.clone(),
                metadata: metadata.clone(),
                title: title.clone(),
                summary: summary.clone(),
                expedited: false,
            }
            .encode_to_vec(),
            WasmMsg::Vote {
                voter,
                proposal_id,
                option,
            } => gov::MsgVote {
                proposal_id: *proposal_id,
                voter: voter.clone(),
                option: *option,
                metadata: String::new(),
            }
            .encode_to_vec(),
        };
        Any {
            type_url: self.type_url().into(),
            value,
        }
    }

    /// The message as the Cosmos SDK prints it in JSON (`"@type"` first, snake_case fields,
    /// integers as strings). The contract message is the placeholder string
    /// [`raw_placeholder`]`(slot)`, which [`splice_raw`] replaces with the exact JSON text.
    pub fn to_json(&self, slot: usize) -> serde_json::Value {
        use serde_json::json;
        let raw = raw_placeholder(slot);
        match self {
            WasmMsg::Execute {
                sender,
                contract,
                funds,
                ..
            } => json!({"@type": EXECUTE_TYPE_URL, "sender": sender, "contract": contract,
                "msg": raw, "funds": funds}),
            WasmMsg::StoreCode { sender, wasm } => {
                use base64::Engine;
                json!({"@type": STORE_CODE_TYPE_URL, "sender": sender,
                    "wasm_byte_code": base64::engine::general_purpose::STANDARD.encode(wasm),
                    "instantiate_permission": null})
            }
            WasmMsg::Instantiate {
                sender,
                admin,
                code_id,
                label,
                funds,
                ..
            } => json!({"@type": INSTANTIATE_TYPE_URL, "sender": sender,
                "admin": admin.clone().unwrap_or_default(), "code_id": code_id.to_string(),
                "label": label, "msg": raw, "funds": funds}),
            WasmMsg::Migrate {
                sender,
                contract,
                code_id,
                ..
            } => json!({"@type": MIGRATE_TYPE_URL, "sender": sender, "contract": contract,
                "code_id": code_id.to_string(), "msg": raw}),
            WasmMsg::Sudo {
                authority,
                contract,
                ..
            } => json!({"@type": SUDO_TYPE_URL, "authority": authority, "contract": contract,
                "msg": raw}),
            WasmMsg::PinCodes {
                authority,
                code_ids,
            } => json!({"@type": PIN_CODES_TYPE_URL, "authority": authority,
                "code_ids": code_ids.iter().map(u64::to_string).collect::<Vec<_>>()}),
            WasmMsg::SubmitProposal {
                proposer,
                messages,
                deposit,
                metadata,
                title,
                summary,
            } => {
                // nested contract messages as parsed JSON (validated before signing)
                let inner: Vec<serde_json::Value> = messages
                    .iter()
                    .map(|m| {
                        let mut v = m.to_json(0);
                        if let Some(raw) = m.json_msg() {
                            v["msg"] = serde_json::from_slice(raw).unwrap_or_default();
                        }
                        v
                    })
                    .collect();
                json!({"@type": SUBMIT_PROPOSAL_TYPE_URL, "messages": inner,
                    "initial_deposit": deposit, "proposer": proposer, "metadata": metadata,
                    "title": title, "summary": summary, "expedited": false})
            }
            WasmMsg::Vote {
                voter,
                proposal_id,
                option,
            } => json!({"@type": VOTE_TYPE_URL, "proposal_id": proposal_id.to_string(),
                "voter": voter, "option": gov::VoteOption::try_from(*option)
                    .map(|o| o.as_str_name()).unwrap_or("VOTE_OPTION_UNSPECIFIED"),
                "metadata": ""}),
        }
    }
}

/// The placeholder string standing for the raw contract message of message `slot` in
/// [`WasmMsg::to_json`] output.
pub fn raw_placeholder(slot: usize) -> String {
    format!("\u{0}opg-raw-msg-{slot}\u{0}")
}

/// Serialises `value` (compact) and replaces each placeholder of `msgs[i]` by its exact JSON
/// text, so the contract messages appear as written, not re-serialised (as wasmd prints its
/// `RawContractMessage`). The messages must have been validated as JSON.
pub fn splice_raw(value: &serde_json::Value, msgs: &[WasmMsg]) -> String {
    let mut text = value.to_string();
    for (slot, m) in msgs.iter().enumerate() {
        if let Some(raw) = m.json_msg() {
            let placeholder = serde_json::Value::String(raw_placeholder(slot)).to_string();
            text = text.replacen(&placeholder, &String::from_utf8_lossy(raw), 1);
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coins_parse_like_wasmd() {
        assert_eq!(
            parse_coins("5000ustake", "fees").unwrap(),
            vec![Coin::new(5000, "ustake")]
        );
        assert_eq!(
            parse_coins("1uopg, 20ibc/ABC", "fees").unwrap(),
            vec![Coin::new(1, "uopg"), Coin::new(20, "ibc/ABC")]
        );
        assert!(parse_coins("", "fees").unwrap().is_empty());
        for bad in ["ustake", "5000", "-1ustake", "1.5ustake"] {
            assert!(
                matches!(parse_coins(bad, "fees"), Err(TxError::InvalidAmount { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn execute_keeps_the_exact_json_bytes() {
        let spec = ExecuteSpec {
            contract: "wasm1c".into(),
            msg: "{ \"b\":1,  \"a\" : 2 }".into(),
            funds: vec![],
        };
        let m = WasmMsg::execute("wasm1s", &spec);
        m.validate(0).unwrap();
        let any = m.to_any();
        assert_eq!(any.type_url, EXECUTE_TYPE_URL);
        let back = wasm::MsgExecuteContract::decode(any.value.as_slice()).unwrap();
        assert_eq!(back.msg, spec.msg.as_bytes());
        let json = splice_raw(&serde_json::json!([m.to_json(0)]), std::slice::from_ref(&m));
        assert!(json.contains("\"msg\":{ \"b\":1,  \"a\" : 2 }"), "{json}");
        let parsed: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(parsed[0]["msg"]["a"], 2);
    }

    #[test]
    fn non_json_msg_is_refused() {
        let m = WasmMsg::execute(
            "s",
            &ExecuteSpec {
                contract: "c".into(),
                msg: "{not json".into(),
                funds: vec![],
            },
        );
        assert!(matches!(
            m.validate(3),
            Err(TxError::InvalidMsg { index: 3, .. })
        ));
    }
}
