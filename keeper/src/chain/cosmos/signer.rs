//! The tx path of [`CosmosChain`]: account number and sequence, gas (simulation × adjustment),
//! SIGN_MODE_DIRECT signing, `broadcast_tx_sync` with one retry on a sequence mismatch, and
//! polling for inclusion.
use std::time::{Duration, Instant};

use cosmrs::proto::cosmos::auth::v1beta1::{
    BaseAccount, QueryAccountRequest, QueryAccountResponse,
};
use cosmrs::proto::cosmos::base::abci::v1beta1::TxMsgData;
use cosmrs::proto::cosmos::tx::v1beta1::{SimulateRequest, SimulateResponse, TxRaw};
use cosmrs::proto::cosmwasm::wasm::v1::MsgExecuteContractResponse;
use cosmrs::proto::prost::Message;
use cosmwasm_std::{Binary, Decimal, Uint128};

use super::rpc::{CheckTxAnswer, TxResult};
use super::{decode, sdk_code, CosmosChain, ACCOUNT_PATH, SIMULATE_PATH};
use crate::chain::{ChainError, Refusal, TxOutcome};
use crate::tx::msgs::WasmMsg;
use crate::tx::sign::{SignedTx, SignerData, TxSpec};

impl CosmosChain {
    /// The account number and sequence of `address`. Errors: [`ChainError::Backend`] if the
    /// account does not exist (not funded yet) or is not a base account.
    pub fn account(&self, address: &str) -> Result<(u64, u64), ChainError> {
        let req = QueryAccountRequest {
            address: address.into(),
        }
        .encode_to_vec();
        let a = self.rpc.abci_query(ACCOUNT_PATH, req)?;
        if a.code != 0 {
            return Err(ChainError::Backend(format!(
                "account {address} not found on chain {} (fund it first): {}",
                self.config.chain_id, a.log
            )));
        }
        let resp = QueryAccountResponse::decode(a.value.as_slice()).map_err(decode("account"))?;
        let any = resp
            .account
            .ok_or_else(|| ChainError::Backend(format!("account {address}: empty answer")))?;
        if any.type_url != "/cosmos.auth.v1beta1.BaseAccount" {
            return Err(ChainError::Backend(format!(
                "account {address} is a {}, not a BaseAccount",
                any.type_url
            )));
        }
        let base = BaseAccount::decode(any.value.as_slice()).map_err(decode("BaseAccount"))?;
        Ok((base.account_number, base.sequence))
    }

    /// `gas_limit` if set, else the simulated gas of `spec` signed at `sequence` ×
    /// `gas_adjustment`.
    fn estimate_gas(&self, spec: &TxSpec, sequence: u64) -> Result<u64, ChainError> {
        if let Some(limit) = self.config.gas_limit {
            return Ok(limit);
        }
        let sim = TxRaw {
            body_bytes: spec.body_bytes(),
            auth_info_bytes: spec.auth_info_bytes(&self.key.public_key(), sequence),
            signatures: vec![vec![]],
        };
        #[allow(deprecated)] // `tx` is the deprecated field; `tx_bytes` is used
        let req = SimulateRequest {
            tx: None,
            tx_bytes: sim.encode_to_vec(),
        }
        .encode_to_vec();
        let a = self.rpc.abci_query(SIMULATE_PATH, req)?;
        if a.code != 0 {
            return Err(self.refusal("simulation", &a.codespace, a.code, &a.log, &spec.msgs));
        }
        let resp = SimulateResponse::decode(a.value.as_slice()).map_err(decode("simulation"))?;
        let used = resp.gas_info.map(|g| g.gas_used).unwrap_or(0);
        Ok(adjust_gas(used, self.config.gas_adjustment))
    }

    /// Builds and signs a tx of `msgs` with the current account state.
    pub fn build_signed(&self, msgs: Vec<WasmMsg>, memo: &str) -> Result<SignedTx, ChainError> {
        self.build_signed_until(msgs, memo, None)
    }

    /// [`CosmosChain::build_signed`] with a given timeout height (`None`: latest height +
    /// `timeout_blocks`).
    fn build_signed_until(
        &self,
        msgs: Vec<WasmMsg>,
        memo: &str,
        timeout_height: Option<u64>,
    ) -> Result<SignedTx, ChainError> {
        let (account_number, sequence) = self.account(self.key.address())?;
        let timeout_height = match timeout_height {
            Some(h) => h,
            None => self
                .rpc
                .status()?
                .height
                .saturating_add(self.config.timeout_blocks),
        };
        // Simulate with a non-zero fee: the SDK's DeductFeeDecorator skips a zero fee, so a
        // simulation at fee 0 leaves out the fee's bank transfer, which the real tx pays (on
        // wasmd v0.61.14 ~14,400 gas: `prune_nonces` simulated at 47,025 gas used 61,462, out of
        // gas at x1.3). The smallest fee of the gas price (>= 1 base unit) costs the same.
        let mut sim_fee = self.gas_price.fee(1).map_err(tx_err)?;
        sim_fee.gas_limit = 0;
        let mut spec = TxSpec {
            msgs,
            fee: sim_fee,
            memo: memo.into(),
            timeout_height,
        };
        let gas = self.estimate_gas(&spec, sequence)?;
        spec.fee = self.gas_price.fee(gas).map_err(tx_err)?;
        spec.sign(
            &self.key,
            &SignerData {
                chain_id: self.config.chain_id.clone(),
                account_number,
                sequence,
            },
        )
        .map_err(tx_err)
    }

    /// Broadcasts `tx` and waits for inclusion. On a sequence mismatch, rebuilds from `msgs`
    /// once with a fresh account query and the same timeout height as `tx` (so every tx carrying
    /// these messages expires at the height [`timeout_height_of`] reads from `tx`). Errors:
    /// [`ChainError::Contract`] (the tx failed in a contract), [`ChainError::Refused`] (refused
    /// by the SDK at CheckTx or delivery: fee, signature, sequence, out of gas),
    /// [`ChainError::Timeout`], [`ChainError::Transport`].
    pub fn send(&self, tx: SignedTx, msgs: &[WasmMsg], memo: &str) -> Result<TxResult, ChainError> {
        let _guard = self.sending.lock().unwrap_or_else(|p| p.into_inner());
        crate::failpoint::hit("cosmos-before-broadcast");
        let check = self.rpc.broadcast_tx_sync(tx.tx_raw.clone())?;
        let tx = if check.code == sdk_code::WRONG_SEQUENCE && check.codespace == "sdk" {
            tracing::warn!(log = %check.log, "sequence mismatch; re-querying the account and retrying once");
            let timeout = timeout_height_of(&tx.tx_raw);
            let tx = self.build_signed_until(msgs.to_vec(), memo, timeout)?;
            let again = self.rpc.broadcast_tx_sync(tx.tx_raw.clone())?;
            self.check_ok(&again, msgs)?;
            tx
        } else {
            self.check_ok(&check, msgs)?;
            tx
        };
        crate::failpoint::hit("cosmos-after-broadcast");
        let mut result = self.wait_for(&tx.hash())?;
        result.hash = tx.hash();
        if result.code != 0 {
            let contract = contract_at(msgs, &result.log);
            return Err(if result.codespace == "wasm" {
                ChainError::Contract {
                    contract,
                    message: result.log,
                }
            } else {
                self.refusal(
                    "delivery",
                    &result.codespace,
                    result.code,
                    &result.log,
                    msgs,
                )
            });
        }
        Ok(result)
    }

    fn check_ok(&self, a: &CheckTxAnswer, msgs: &[WasmMsg]) -> Result<(), ChainError> {
        if a.code == 0 || (a.code == sdk_code::TX_IN_MEMPOOL && a.codespace == "sdk") {
            return Ok(());
        }
        Err(self.refusal("CheckTx", &a.codespace, a.code, &a.log, msgs))
    }

    /// A clear error for a refused tx.
    fn refusal(
        &self,
        stage: &str,
        codespace: &str,
        code: u32,
        log: &str,
        msgs: &[WasmMsg],
    ) -> ChainError {
        if codespace == "wasm" {
            return ChainError::Contract {
                contract: contract_at(msgs, log),
                message: log.into(),
            };
        }
        ChainError::Refused {
            chain_id: self.config.chain_id.clone(),
            stage: stage.into(),
            codespace: codespace.into(),
            code,
            kind: Refusal::of(codespace, code),
            log: log.into(),
        }
    }

    /// Polls `tx` by hash until included. Errors: [`ChainError::Timeout`].
    pub fn wait_for(&self, hash: &str) -> Result<TxResult, ChainError> {
        let start = Instant::now();
        let limit = Duration::from_secs(self.config.inclusion_timeout_secs);
        loop {
            if let Some(r) = self.rpc.tx(hash)? {
                return Ok(r);
            }
            if start.elapsed() >= limit {
                return Err(ChainError::Timeout {
                    what: format!("inclusion of tx {hash}"),
                    seconds: self.config.inclusion_timeout_secs,
                });
            }
            std::thread::sleep(Duration::from_millis(self.config.poll_interval_ms));
        }
    }

    /// Executes `msg` (JSON bytes) on `contract`; the first message response's data.
    pub fn execute(&self, contract: &str, msg: Vec<u8>) -> Result<TxOutcome, ChainError> {
        let msgs = vec![WasmMsg::Execute {
            sender: self.key.address().into(),
            contract: contract.into(),
            msg,
            funds: vec![],
        }];
        let tx = self.build_signed(msgs.clone(), "")?;
        let r = self.send(tx, &msgs, "")?;
        let data = execute_response_data(&r.data)?;
        Ok(TxOutcome {
            tx_hash: r.hash,
            height: r.height,
            gas_used: r.gas_used,
            data: data.map(Binary::from),
        })
    }
}

/// The timeout height of a signed tx (`TxRaw` bytes): after it the tx can no longer be
/// included. `None` when the bytes are not a `TxRaw` or the tx has no timeout.
pub fn timeout_height_of(tx_raw: &[u8]) -> Option<u64> {
    let raw = TxRaw::decode(tx_raw).ok()?;
    let body =
        cosmrs::proto::cosmos::tx::v1beta1::TxBody::decode(raw.body_bytes.as_slice()).ok()?;
    Some(body.timeout_height).filter(|h| *h > 0)
}

fn tx_err(e: crate::tx::TxError) -> ChainError {
    ChainError::Backend(e.to_string())
}

/// The contract a refused tx's message addressed: the one at wasmd's `message index: N` in
/// `log`, else the first that names a contract; `code N` for an instantiate.
fn contract_at(msgs: &[WasmMsg], log: &str) -> String {
    let name = |m: &WasmMsg| match m {
        WasmMsg::Execute { contract, .. }
        | WasmMsg::Migrate { contract, .. }
        | WasmMsg::Sudo { contract, .. } => Some(contract.clone()),
        WasmMsg::Instantiate { code_id, .. } => Some(format!("instantiated from code {code_id}")),
        _ => None,
    };
    let index = log
        .split("message index: ")
        .nth(1)
        .and_then(|t| t.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse::<usize>().ok());
    index
        .and_then(|i| msgs.get(i))
        .and_then(name)
        .or_else(|| msgs.iter().find_map(name))
        .unwrap_or_default()
}

/// `gas × adjustment`, rounded up (gas units), saturating at `u64::MAX`.
pub fn adjust_gas(gas: u64, adjustment: Decimal) -> u64 {
    Uint128::from(gas)
        .checked_mul_ceil(adjustment)
        .ok()
        .and_then(|g| u64::try_from(g.u128()).ok())
        .unwrap_or(u64::MAX)
}

/// The contract data of the first message of a tx result: `TxMsgData.msg_responses[0]`
/// (SDK ≥ 0.46) decoded as `MsgExecuteContractResponse`, or the legacy `MsgData.data`.
/// `None` when the contract returned no data. Errors: [`ChainError::Decode`].
pub fn execute_response_data(tx_msg_data: &[u8]) -> Result<Option<Vec<u8>>, ChainError> {
    let d = TxMsgData::decode(tx_msg_data).map_err(decode("TxMsgData"))?;
    let bytes = if let Some(any) = d.msg_responses.first() {
        if any.type_url != "/cosmwasm.wasm.v1.MsgExecuteContractResponse" {
            return Err(ChainError::Decode {
                what: "tx result".into(),
                message: format!("unexpected message response {}", any.type_url),
            });
        }
        MsgExecuteContractResponse::decode(any.value.as_slice())
            .map_err(decode("MsgExecuteContractResponse"))?
            .data
    } else {
        #[allow(deprecated)] // legacy chains (SDK < 0.46) fill `data`
        match d.data.first() {
            Some(m) => {
                MsgExecuteContractResponse::decode(m.data.as_slice())
                    .map_err(decode("MsgExecuteContractResponse"))?
                    .data
            }
            None => return Ok(None),
        }
    };
    Ok(if bytes.is_empty() { None } else { Some(bytes) })
}
