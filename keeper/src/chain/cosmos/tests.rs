//! The backend against a scripted node ([`MockRpc`]): signing, retries, errors, parsing.
use super::*;
use crate::chain::{ChainBackend, ChainError, ContractRole, Deployment, Refusal};
use crate::tx::keys::{TxKey, DEFAULT_HD_PATH};
use cosmrs::proto::cosmos::auth::v1beta1::{
    BaseAccount, QueryAccountRequest, QueryAccountResponse,
};
use cosmrs::proto::cosmos::base::abci::v1beta1::GasInfo;
use cosmrs::proto::cosmos::base::abci::v1beta1::TxMsgData;
use cosmrs::proto::cosmos::tx::v1beta1::{SimulateResponse, TxRaw};
use cosmrs::proto::cosmwasm::wasm::v1::{
    MsgExecuteContractResponse, QuerySmartContractStateResponse,
};
use cosmrs::proto::prost::Message;
use cosmrs::Any;
use std::collections::VecDeque;
use std::sync::Mutex;

const MNEMONIC: &str =
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

/// A scripted node: answers account/simulate/smart queries and pops broadcast answers.
#[derive(Default)]
struct MockRpc {
    network: String,
    sequence: Mutex<u64>,
    checks: Mutex<VecDeque<CheckTxAnswer>>,
    broadcasts: Mutex<Vec<Vec<u8>>>,
    result: Mutex<Option<TxResult>>,
    smart: Mutex<Option<AbciAnswer>>,
    /// Account queries answered.
    account_queries: Mutex<u32>,
}

/// A [`MockRpc`] the test keeps a handle on.
struct Shared(std::sync::Arc<MockRpc>);

impl CometRpc for Shared {
    fn status(&self) -> Result<NodeStatus, ChainError> {
        self.0.status()
    }
    fn abci_query(&self, p: &str, d: Vec<u8>) -> Result<AbciAnswer, ChainError> {
        self.0.abci_query(p, d)
    }
    fn broadcast_tx_sync(&self, t: Vec<u8>) -> Result<CheckTxAnswer, ChainError> {
        self.0.broadcast_tx_sync(t)
    }
    fn tx(&self, h: &str) -> Result<Option<TxResult>, ChainError> {
        self.0.tx(h)
    }
}

impl CometRpc for MockRpc {
    fn status(&self) -> Result<NodeStatus, ChainError> {
        Ok(NodeStatus {
            network: self.network.clone(),
            height: 100,
            time: 1_700_000_000,
        })
    }
    fn abci_query(&self, path: &str, data: Vec<u8>) -> Result<AbciAnswer, ChainError> {
        let value = match path {
            ACCOUNT_PATH => {
                *self.account_queries.lock().unwrap() += 1;
                let base = BaseAccount {
                    address: QueryAccountRequest::decode(data.as_slice())
                        .unwrap()
                        .address,
                    pub_key: None,
                    account_number: 7,
                    sequence: *self.sequence.lock().unwrap(),
                };
                QueryAccountResponse {
                    account: Some(Any {
                        type_url: "/cosmos.auth.v1beta1.BaseAccount".into(),
                        value: base.encode_to_vec(),
                    }),
                }
                .encode_to_vec()
            }
            SIMULATE_PATH => SimulateResponse {
                gas_info: Some(GasInfo {
                    gas_wanted: 0,
                    gas_used: 100_000,
                }),
                result: None,
            }
            .encode_to_vec(),
            SMART_QUERY_PATH => return Ok(self.smart.lock().unwrap().clone().unwrap()),
            other => panic!("unexpected path {other}"),
        };
        Ok(AbciAnswer {
            value,
            ..Default::default()
        })
    }
    fn broadcast_tx_sync(&self, tx: Vec<u8>) -> Result<CheckTxAnswer, ChainError> {
        self.broadcasts.lock().unwrap().push(tx);
        let answer = self.checks.lock().unwrap().pop_front().unwrap_or_default();
        if answer.code == sdk_code::WRONG_SEQUENCE {
            // another tx of this signer landed first: the account's sequence moved on
            *self.sequence.lock().unwrap() += 1;
        }
        Ok(answer)
    }
    fn tx(&self, _hash: &str) -> Result<Option<TxResult>, ChainError> {
        Ok(self.result.lock().unwrap().clone())
    }
}

fn config() -> CosmosConfig {
    let mut c = CosmosConfig::new("http://127.0.0.1:26657", "opg-devnet-1", "0.025ustake");
    c.deployment = Some(Deployment {
        registry: "wasm1registry".into(),
        verifier: "wasm1verifier".into(),
        pool: "wasm1pool".into(),
    });
    c.inclusion_timeout_secs = 1;
    c.poll_interval_ms = 10;
    c
}

fn chain(rpc: MockRpc) -> CosmosChain {
    let key = TxKey::from_mnemonic(MNEMONIC, DEFAULT_HD_PATH, "wasm").unwrap();
    CosmosChain::with_rpc(config(), Box::new(rpc), key).unwrap()
}

fn rpc() -> MockRpc {
    MockRpc {
        network: "opg-devnet-1".into(),
        ..Default::default()
    }
}

fn tx_msg_data(contract_data: &[u8]) -> Vec<u8> {
    #[allow(deprecated)]
    TxMsgData {
        data: vec![],
        msg_responses: vec![Any {
            type_url: "/cosmwasm.wasm.v1.MsgExecuteContractResponse".into(),
            value: MsgExecuteContractResponse {
                data: contract_data.to_vec(),
            }
            .encode_to_vec(),
        }],
    }
    .encode_to_vec()
}

#[test]
fn wrong_chain_id_is_refused_at_connect() {
    let key = TxKey::from_mnemonic(MNEMONIC, DEFAULT_HD_PATH, "wasm").unwrap();
    let mut r = rpc();
    r.network = "other-1".into();
    let err = CosmosChain::with_rpc(config(), Box::new(r), key).unwrap_err();
    assert!(err.to_string().contains("wrong chain id"), "{err}");
    assert!(!err.is_retryable());
}

#[test]
fn execute_signs_with_queried_account_simulated_gas_and_parses_data() {
    let r = rpc();
    *r.sequence.lock().unwrap() = 4;
    *r.result.lock().unwrap() = Some(TxResult {
        height: 101,
        data: tx_msg_data(b"{\"ok\":true}"),
        gas_used: 90_000,
        ..Default::default()
    });
    let c = chain(r);
    let out = c.finalize_epoch(3).unwrap();
    assert_eq!(out.height, 101);
    assert_eq!(out.data.unwrap().as_slice(), b"{\"ok\":true}");
    assert_eq!(out.gas_used, 90_000);
}

#[test]
fn broadcast_tx_carries_fee_gas_sequence_and_timeout() {
    use cosmrs::proto::cosmos::tx::v1beta1::{AuthInfo, TxBody};
    let r = std::sync::Arc::new(rpc());
    *r.sequence.lock().unwrap() = 4;
    *r.result.lock().unwrap() = Some(TxResult {
        height: 101,
        data: tx_msg_data(b""),
        ..Default::default()
    });
    let key = TxKey::from_mnemonic(MNEMONIC, DEFAULT_HD_PATH, "wasm").unwrap();
    let c = CosmosChain::with_rpc(config(), Box::new(Shared(r.clone())), key).unwrap();
    let out = c.finalize_epoch(3).unwrap();
    assert_eq!(out.data, None);
    let sent = r.broadcasts.lock().unwrap()[0].clone();
    assert_eq!(out.tx_hash, crate::chain::tx_hash(&sent));
    let raw = TxRaw::decode(sent.as_slice()).unwrap();
    let body = TxBody::decode(raw.body_bytes.as_slice()).unwrap();
    assert_eq!(body.timeout_height, 150); // height 100 + 50 blocks
    let m = cosmrs::proto::cosmwasm::wasm::v1::MsgExecuteContract::decode(
        body.messages[0].value.as_slice(),
    )
    .unwrap();
    assert_eq!(m.contract, "wasm1pool");
    assert_eq!(m.msg, br#"{"finalize_epoch":{"epoch":3}}"#);
    let auth = AuthInfo::decode(raw.auth_info_bytes.as_slice()).unwrap();
    assert_eq!(auth.signer_infos[0].sequence, 4);
    let fee = auth.fee.unwrap();
    assert_eq!(fee.gas_limit, 130_000); // 100_000 simulated x 1.3
    assert_eq!(fee.amount[0].amount, "3250"); // 130_000 x 0.025
}

#[test]
fn sequence_mismatch_is_retried_once_after_requery() {
    use cosmrs::proto::cosmos::tx::v1beta1::AuthInfo;
    let r = std::sync::Arc::new(rpc());
    *r.sequence.lock().unwrap() = 4;
    r.checks.lock().unwrap().push_back(CheckTxAnswer {
        code: sdk_code::WRONG_SEQUENCE,
        codespace: "sdk".into(),
        log: "account sequence mismatch, expected 5, got 4".into(),
    });
    *r.result.lock().unwrap() = Some(TxResult {
        height: 101,
        data: tx_msg_data(b""),
        ..Default::default()
    });
    let key = TxKey::from_mnemonic(MNEMONIC, DEFAULT_HD_PATH, "wasm").unwrap();
    let c = CosmosChain::with_rpc(config(), Box::new(Shared(r.clone())), key).unwrap();
    let before = *r.account_queries.lock().unwrap();
    let out = c.finalize_epoch(0).unwrap();
    // the account was queried again after the mismatch, and exactly one retry was sent,
    // signed at the re-queried sequence
    assert_eq!(*r.account_queries.lock().unwrap() - before, 2);
    let sent = r.broadcasts.lock().unwrap().clone();
    assert_eq!(sent.len(), 2, "one broadcast and exactly one retry");
    let sequences: Vec<u64> = sent
        .iter()
        .map(|t| {
            let raw = TxRaw::decode(t.as_slice()).unwrap();
            AuthInfo::decode(raw.auth_info_bytes.as_slice())
                .unwrap()
                .signer_infos[0]
                .sequence
        })
        .collect();
    assert_eq!(sequences, vec![4, 5]);
    assert_eq!(out.tx_hash, crate::chain::tx_hash(&sent[1]));
}

#[test]
fn second_sequence_mismatch_and_low_fee_give_clear_errors() {
    let r = rpc();
    for _ in 0..2 {
        r.checks.lock().unwrap().push_back(CheckTxAnswer {
            code: sdk_code::WRONG_SEQUENCE,
            codespace: "sdk".into(),
            log: "account sequence mismatch".into(),
        });
    }
    r.checks.lock().unwrap().push_back(CheckTxAnswer {
        code: sdk_code::INSUFFICIENT_FEE,
        codespace: "sdk".into(),
        log: "insufficient fees; got: 1ustake required: 5000ustake".into(),
    });
    let c = chain(r);
    let e = c.finalize_epoch(0).unwrap_err();
    assert!(e.to_string().contains("wrong account sequence"), "{e}");
    assert!(
        matches!(
            e,
            ChainError::Refused {
                kind: Refusal::WrongSequence,
                code: 32,
                ..
            }
        ),
        "{e:?}"
    );
    let e = c.finalize_epoch(0).unwrap_err();
    assert!(e.to_string().contains("insufficient fee"), "{e}");
    assert!(
        matches!(
            e,
            ChainError::Refused {
                kind: Refusal::InsufficientFee,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(!e.is_retryable());
}

#[test]
fn contract_failure_in_block_is_a_contract_error() {
    let r = rpc();
    *r.result.lock().unwrap() = Some(TxResult {
        height: 101,
        code: 5,
        codespace: "wasm".into(),
        log: "execute wasm contract failed: epoch 9 not finalizable".into(),
        ..Default::default()
    });
    let e = chain(r).finalize_epoch(9).unwrap_err();
    assert!(
        matches!(&e, ChainError::Contract { contract, message } if contract == "wasm1pool" && message.contains("not finalizable")),
        "{e}"
    );
}

#[test]
fn no_inclusion_is_a_timeout() {
    let e = chain(rpc()).finalize_epoch(0).unwrap_err();
    assert!(matches!(e, ChainError::Timeout { seconds: 1, .. }), "{e}");
    assert!(e.is_retryable());
}

#[test]
fn unknown_contract_query_is_a_contract_error() {
    let r = rpc();
    *r.smart.lock().unwrap() = Some(AbciAnswer {
        code: 22,
        codespace: "wasm".into(),
        log: "no such contract: address wasm1pool".into(),
        value: vec![],
    });
    let e = chain(r).pool_config().unwrap_err();
    assert!(
        matches!(&e, ChainError::Contract { message, .. } if message.contains("no such contract")),
        "{e}"
    );
}

#[test]
fn smart_query_decodes_json_answer() {
    let r = rpc();
    *r.smart.lock().unwrap() = Some(AbciAnswer {
        value: QuerySmartContractStateResponse {
            data: br#"{"accepted":true}"#.to_vec(),
        }
        .encode_to_vec(),
        ..Default::default()
    });
    let v = chain(r)
        .query_json(ContractRole::Verifier, &serde_json::json!({"x": {}}))
        .unwrap();
    assert_eq!(v["accepted"], true);
}

#[test]
fn response_data_parsing() {
    assert_eq!(
        execute_response_data(&tx_msg_data(b"abc")).unwrap(),
        Some(b"abc".to_vec())
    );
    assert_eq!(execute_response_data(&tx_msg_data(b"")).unwrap(), None);
    assert_eq!(execute_response_data(&[]).unwrap(), None);
    assert!(matches!(
        execute_response_data(&[0xff, 0xff]),
        Err(ChainError::Decode { .. })
    ));
}

#[test]
fn config_validation_and_deploy_state() {
    let mut c = config();
    assert!(c.validate().is_err()); // no mnemonic source
    c.mnemonic_env = Some("OPG_MNEMONIC".into());
    c.validate().unwrap();
    c.deploy_state = Some("state.json".into());
    assert_eq!(c.validate().unwrap_err().0, "deployment");
    c.deployment = None;
    c.validate().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("state.json");
    let state = DeployState {
        chain_id: "opg-devnet-1".into(),
        code_ids: CodeIds {
            registry: 1,
            verifier: 2,
            pool: 3,
        },
        deployment: config().deployment.unwrap(),
    };
    std::fs::write(&p, serde_json::to_string(&state).unwrap()).unwrap();
    c.deploy_state = Some(p);
    assert_eq!(c.resolve_deployment().unwrap().pool, "wasm1pool");
    c.gas_price = "cheap".into();
    assert_eq!(c.validate().unwrap_err().0, "gas_price");
}
