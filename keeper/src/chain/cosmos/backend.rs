//! [`CosmosChain`]: the backend's state (config, RPC, key, deployment), its constructors, smart
//! queries, and the [`ChainBackend`] implementation on top of the tx path in [`super::signer`].
use std::sync::Mutex;

use cosmrs::proto::cosmwasm::wasm::v1::{
    QuerySmartContractStateRequest, QuerySmartContractStateResponse,
};
use cosmrs::proto::prost::Message;
use opg_core::msg::pool::{
    ConfigResponse as PoolConfig, EpochReport, ExecuteMsg as PoolExecuteMsg,
};
use opg_core::msg::registry::NodesByIdsResponse;
use opg_core::msg::verifier::{
    ConfigResponse as VerifierConfig, ReceiptStatusResponse, SubmitReceiptsResponse,
};
use opg_core::receipt::{Heartbeat, SignedReceipt};
use serde::Serialize;

use super::config::CosmosConfig;
use super::rpc::{CometRpc, FailoverRpc};
use super::signer::execute_response_data;
use super::{decode, SMART_QUERY_PATH};
use crate::chain::{
    submit_msg_bytes, ChainBackend, ChainError, ChainStatus, ContractRole, Deployment, PreparedTx,
    SubmitOutcome, TxOutcome,
};
use crate::tx::keys::TxKey;
use crate::tx::msgs::WasmMsg;
use crate::tx::sign::{GasPrice, SignedTx};

/// The cosmos backend.
pub struct CosmosChain {
    pub(super) config: CosmosConfig,
    pub(super) rpc: Box<dyn CometRpc>,
    pub(super) key: TxKey,
    pub(super) gas_price: GasPrice,
    pub(super) deployment: Deployment,
    /// The tx `prepare_submit` signed last, with the message bytes it carries, so
    /// `submit_receipts` broadcasts exactly it (same hash).
    pub(super) prepared: Mutex<Option<(Vec<u8>, SignedTx)>>,
    /// Serialises signing + broadcasting (one sequence at a time).
    pub(super) sending: Mutex<()>,
}

impl std::fmt::Debug for CosmosChain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CosmosChain")
            .field("rpc_url", &self.config.rpc_url)
            .field("chain_id", &self.config.chain_id)
            .field("key", &self.key)
            .finish()
    }
}

impl CosmosChain {
    /// Connects over HTTP: reads the key and deployment, and checks the node serves
    /// `config.chain_id`. Errors: [`ChainError::Backend`] (config, key, wrong chain id),
    /// [`ChainError::Transport`] (node unreachable).
    pub fn connect(config: CosmosConfig) -> Result<Self, ChainError> {
        let rpc = FailoverRpc::new(&config.rpc_url)?;
        let key = config
            .mnemonic_source()
            .ok_or_else(|| ChainError::Backend("no mnemonic_file or mnemonic_env".into()))
            .and_then(|s| {
                TxKey::from_source(&s, &config.hd_path, &config.prefix)
                    .map_err(|e| ChainError::Backend(e.to_string()))
            })?;
        Self::with_rpc(config, Box::new(rpc), key)
    }

    /// A backend over any [`CometRpc`] with `key`. Checks the node's chain id.
    pub fn with_rpc(
        config: CosmosConfig,
        rpc: Box<dyn CometRpc>,
        key: TxKey,
    ) -> Result<Self, ChainError> {
        config
            .validate()
            .or_else(|(f, m)| {
                // the key may be given directly (tests, CLI): only its source may be missing
                if f == "mnemonic_file" {
                    Ok(())
                } else {
                    Err((f, m))
                }
            })
            .map_err(|(f, m)| ChainError::Backend(format!("invalid cosmos config {f}: {m}")))?;
        let gas_price: GasPrice = config
            .gas_price
            .parse()
            .map_err(|e: crate::tx::TxError| ChainError::Backend(e.to_string()))?;
        let deployment = config.resolve_deployment()?;
        let status = rpc.status()?;
        if status.network != config.chain_id {
            return Err(ChainError::Backend(format!(
                "wrong chain id: configured {:?} but the node at {} serves {:?}",
                config.chain_id, config.rpc_url, status.network
            )));
        }
        Ok(CosmosChain {
            config,
            rpc,
            key,
            gas_price,
            deployment,
            prepared: Mutex::new(None),
            sending: Mutex::new(()),
        })
    }

    /// A signer with no deployment yet (`opg deploy`, before the contracts exist): the account,
    /// [`CosmosChain::build_signed`] and [`CosmosChain::send`] work; the [`ChainBackend`]
    /// methods (which address the contracts) must not be used on it. Checks the chain id.
    pub fn signer(
        mut config: CosmosConfig,
        rpc: Box<dyn CometRpc>,
        key: TxKey,
    ) -> Result<Self, ChainError> {
        config.deploy_state = None;
        config.deployment = Some(Deployment {
            registry: String::new(),
            verifier: String::new(),
            pool: String::new(),
        });
        Self::with_rpc(config, rpc, key)
    }

    /// The signer's address.
    pub fn address(&self) -> &str {
        self.key.address()
    }

    /// Smart query of `contract` with JSON `msg`; the JSON answer bytes.
    /// Errors: [`ChainError::Contract`] (unknown contract, query refused).
    pub fn smart_query_raw(&self, contract: &str, msg: &[u8]) -> Result<Vec<u8>, ChainError> {
        let req = QuerySmartContractStateRequest {
            address: contract.into(),
            query_data: msg.to_vec(),
        }
        .encode_to_vec();
        let a = self.rpc.abci_query(SMART_QUERY_PATH, req)?;
        if a.code != 0 {
            return Err(ChainError::Contract {
                contract: contract.into(),
                message: a.log,
            });
        }
        let resp = QuerySmartContractStateResponse::decode(a.value.as_slice())
            .map_err(decode("smart query answer"))?;
        Ok(resp.data)
    }

    fn query<T: serde::de::DeserializeOwned>(
        &self,
        role: ContractRole,
        msg: &impl Serialize,
        what: &str,
    ) -> Result<T, ChainError> {
        let bytes = serde_json::to_vec(msg).map_err(|e| ChainError::Decode {
            what: what.into(),
            message: e.to_string(),
        })?;
        let out = self.smart_query_raw(self.deployment.address(role), &bytes)?;
        serde_json::from_slice(&out).map_err(|e| ChainError::Decode {
            what: what.into(),
            message: e.to_string(),
        })
    }

    fn submit_msg(&self, msg: Vec<u8>) -> WasmMsg {
        WasmMsg::Execute {
            sender: self.key.address().into(),
            contract: self.deployment.verifier.clone(),
            msg,
            funds: vec![],
        }
    }
}

impl ChainBackend for CosmosChain {
    fn chain_id(&self) -> String {
        self.config.chain_id.clone()
    }

    fn deployment(&self) -> Deployment {
        self.deployment.clone()
    }

    fn status(&self) -> Result<ChainStatus, ChainError> {
        let s = self.rpc.status()?;
        Ok(ChainStatus {
            height: s.height,
            time: s.time,
        })
    }

    fn prepare_submit(
        &self,
        receipts: &[SignedReceipt],
        heartbeats: &[Heartbeat],
    ) -> Result<PreparedTx, ChainError> {
        let msg = submit_msg_bytes(receipts, heartbeats, &self.verifier_config()?)?;
        let tx = self.build_signed(vec![self.submit_msg(msg.clone())], "")?;
        let prepared = PreparedTx {
            bytes: tx.tx_raw.clone(),
            hash: tx.hash(),
        };
        *self.prepared.lock().unwrap_or_else(|p| p.into_inner()) = Some((msg, tx));
        Ok(prepared)
    }

    fn tx_expiry_height(&self, tx_bytes: &[u8]) -> Option<u64> {
        super::signer::timeout_height_of(tx_bytes)
    }

    fn submit_receipts(
        &self,
        receipts: &[SignedReceipt],
        heartbeats: &[Heartbeat],
    ) -> Result<SubmitOutcome, ChainError> {
        let msg = submit_msg_bytes(receipts, heartbeats, &self.verifier_config()?)?;
        let cached = self
            .prepared
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .filter(|(m, _)| *m == msg)
            .map(|(_, tx)| tx);
        let msgs = vec![self.submit_msg(msg)];
        let tx = match cached {
            Some(tx) => tx,
            None => self.build_signed(msgs.clone(), "")?,
        };
        let r = self.send(tx, &msgs, "")?;
        let data = execute_response_data(&r.data)?.ok_or_else(|| ChainError::Decode {
            what: "SubmitReceipts response".into(),
            message: "the verifier returned no data".into(),
        })?;
        let response: SubmitReceiptsResponse =
            serde_json::from_slice(&data).map_err(|e| ChainError::Decode {
                what: "SubmitReceipts response".into(),
                message: e.to_string(),
            })?;
        Ok(SubmitOutcome {
            tx_hash: r.hash,
            height: r.height,
            gas_used: r.gas_used,
            response,
        })
    }

    fn finalize_epoch(&self, epoch: u64) -> Result<TxOutcome, ChainError> {
        let msg = serde_json::to_vec(&PoolExecuteMsg::FinalizeEpoch { epoch }).map_err(|e| {
            ChainError::Decode {
                what: "FinalizeEpoch".into(),
                message: e.to_string(),
            }
        })?;
        self.execute(&self.deployment.pool, msg)
    }

    fn registry_view(
        &self,
        node_ids: &[String],
        model_ids: &[String],
    ) -> Result<NodesByIdsResponse, ChainError> {
        let msg = opg_core::msg::registry::QueryMsg::NodesByIds {
            ids: node_ids.to_vec(),
            models: model_ids.to_vec(),
        };
        self.query(ContractRole::Registry, &msg, "NodesByIds")
    }

    fn verifier_config(&self) -> Result<VerifierConfig, ChainError> {
        let msg = opg_core::msg::verifier::QueryMsg::Config {};
        self.query(ContractRole::Verifier, &msg, "verifier config")
    }

    fn receipt_status(
        &self,
        payer: &str,
        nonce: &str,
    ) -> Result<ReceiptStatusResponse, ChainError> {
        let msg = opg_core::msg::verifier::QueryMsg::ReceiptStatus {
            payer: payer.into(),
            nonce: nonce.into(),
        };
        self.query(ContractRole::Verifier, &msg, "receipt status")
    }

    fn epoch_report(&self, epoch: u64) -> Result<EpochReport, ChainError> {
        let msg = opg_core::msg::pool::QueryMsg::EpochReport { epoch };
        self.query(ContractRole::Pool, &msg, "epoch report")
    }

    fn pool_config(&self) -> Result<PoolConfig, ChainError> {
        let msg = opg_core::msg::pool::QueryMsg::Config {};
        self.query(ContractRole::Pool, &msg, "pool config")
    }

    fn query_json(
        &self,
        contract: ContractRole,
        msg: &serde_json::Value,
    ) -> Result<serde_json::Value, ChainError> {
        self.query(contract, msg, "query answer")
    }
}
