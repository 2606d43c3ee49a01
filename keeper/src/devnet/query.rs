//! `abci_query` on the Cosmos gRPC query paths the devnet serves (protobuf request in, protobuf
//! response out, errors as gRPC status texts the way the SDK returns them through ABCI).
use cosmrs::proto::cosmos::auth::v1beta1::{QueryAccountRequest, QueryAccountResponse};
use cosmrs::proto::cosmos::bank::v1beta1::{
    QueryAllBalancesRequest, QueryAllBalancesResponse, QueryBalanceRequest, QueryBalanceResponse,
};
use cosmrs::proto::cosmos::base::abci::v1beta1::{GasInfo, Result as AbciResult};
use cosmrs::proto::cosmos::base::v1beta1::Coin as ProtoCoin;
use cosmrs::proto::cosmos::tx::v1beta1::{SimulateRequest, SimulateResponse};
use cosmrs::proto::cosmwasm::wasm::v1::{
    ContractInfo, QueryContractInfoRequest, QueryContractInfoResponse,
    QuerySmartContractStateRequest, QuerySmartContractStateResponse,
};
use cosmrs::proto::prost::Message;
use cosmwasm_std::{Addr, ContractResult, QueryRequest, SystemResult, WasmQuery};

use super::store;
use super::tx::{self, TxRules};
use crate::chain::embedded::ChainRuntime;

/// Answer of one query: code 0 and the protobuf `value`, or an error code and log.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QueryAnswer {
    /// 0 on success.
    pub code: u32,
    /// `sdk` / `wasm` on errors.
    pub codespace: String,
    /// Error text.
    pub log: String,
    /// Protobuf response.
    pub value: Vec<u8>,
}

fn ok(m: impl Message) -> QueryAnswer {
    QueryAnswer {
        value: m.encode_to_vec(),
        ..QueryAnswer::default()
    }
}

fn err(codespace: &str, code: u32, log: String) -> QueryAnswer {
    QueryAnswer {
        code,
        codespace: codespace.into(),
        log,
        value: vec![],
    }
}

fn decode<M: Message + Default>(path: &str, data: &[u8]) -> Result<M, QueryAnswer> {
    M::decode(data).map_err(|e| {
        err(
            "sdk",
            2,
            format!(
                "rpc error: code = InvalidArgument desc = cannot decode request of {path}: {e}"
            ),
        )
    })
}

/// Runs the query at `path` with the protobuf request `data`.
///
/// Errors: the chain's storage failed.
pub fn abci_query(
    rt: &mut ChainRuntime,
    rules: &TxRules,
    path: &str,
    data: &[u8],
) -> anyhow::Result<QueryAnswer> {
    Ok(match answer(rt, rules, path, data)? {
        Ok(a) | Err(a) => a,
    })
}

fn answer(
    rt: &mut ChainRuntime,
    rules: &TxRules,
    path: &str,
    data: &[u8],
) -> anyhow::Result<Result<QueryAnswer, QueryAnswer>> {
    macro_rules! req {
        ($t:ty) => {
            match decode::<$t>(path, data) {
                Ok(r) => r,
                Err(e) => return Ok(Err(e)),
            }
        };
    }
    Ok(Ok(match path {
        "/cosmos.auth.v1beta1.Query/Account" => {
            let r = req!(QueryAccountRequest);
            // an address funded outside a tx (genesis, contract payouts) gets its number now
            if store::account(rt.app.storage(), &r.address)?.is_none() {
                #[allow(deprecated)]
                let funded = rt
                    .app
                    .wrap()
                    .query_all_balances(r.address.clone())
                    .map(|c| !c.is_empty())
                    .unwrap_or(false);
                if funded {
                    store::ensure_account(rt.app.storage_mut(), &r.address)?;
                    rt.commit()?;
                }
            }
            match tx::base_account(rt, &r.address)? {
                Some(a) => ok(QueryAccountResponse {
                    account: Some(tx::to_any(&a)),
                }),
                None => {
                    return Ok(Err(err(
                        "sdk",
                        22,
                        format!(
                            "rpc error: code = NotFound desc = account {} not found: key not found",
                            r.address
                        ),
                    )))
                }
            }
        }
        "/cosmos.bank.v1beta1.Query/Balance" => {
            let r = req!(QueryBalanceRequest);
            let c = rt
                .app
                .wrap()
                .query_balance(r.address.clone(), r.denom.clone())
                .map_err(|e| anyhow::anyhow!("balance of {}: {e}", r.address))?;
            ok(QueryBalanceResponse {
                balance: Some(ProtoCoin {
                    denom: c.denom,
                    amount: c.amount.to_string(),
                }),
            })
        }
        "/cosmos.bank.v1beta1.Query/AllBalances" => {
            let r = req!(QueryAllBalancesRequest);
            #[allow(deprecated)]
            let all = rt
                .app
                .wrap()
                .query_all_balances(r.address.clone())
                .map_err(|e| anyhow::anyhow!("balances of {}: {e}", r.address))?;
            ok(QueryAllBalancesResponse {
                balances: all
                    .into_iter()
                    .map(|c| ProtoCoin {
                        denom: c.denom,
                        amount: c.amount.to_string(),
                    })
                    .collect(),
                pagination: None,
            })
        }
        "/cosmos.tx.v1beta1.Service/Simulate" => {
            let r = req!(SimulateRequest);
            let res = tx::simulate(rt, rules, &r.tx_bytes)?;
            if res.code != 0 {
                return Ok(Err(err(
                    &res.codespace,
                    res.code,
                    format!("rpc error: code = Unknown desc = {}", res.log),
                )));
            }
            #[allow(deprecated)]
            let result = AbciResult {
                data: vec![],
                log: String::new(),
                events: vec![],
                msg_responses: cosmrs::proto::cosmos::base::abci::v1beta1::TxMsgData::decode(
                    res.data.as_slice(),
                )
                .map(|d| d.msg_responses)
                .unwrap_or_default(),
            };
            ok(SimulateResponse {
                gas_info: Some(GasInfo {
                    gas_wanted: res.gas_wanted,
                    gas_used: res.gas_used,
                }),
                result: Some(result),
            })
        }
        "/cosmwasm.wasm.v1.Query/SmartContractState" => {
            let r = req!(QuerySmartContractStateRequest);
            if rt.app.contract_data(&Addr::unchecked(&r.address)).is_err() {
                return Ok(Err(no_such_contract(&r.address)));
            }
            let request: QueryRequest<cosmwasm_std::Empty> = QueryRequest::Wasm(WasmQuery::Smart {
                contract_addr: r.address.clone(),
                msg: r.query_data.into(),
            });
            let bytes = cosmwasm_std::to_json_vec(&request)?;
            match rt.app.wrap().raw_query(&bytes) {
                SystemResult::Ok(ContractResult::Ok(v)) => {
                    ok(QuerySmartContractStateResponse { data: v.to_vec() })
                }
                SystemResult::Ok(ContractResult::Err(e)) => {
                    return Ok(Err(err(
                        "wasm",
                        9,
                        format!("rpc error: code = Unknown desc = {e}: query wasm contract failed"),
                    )))
                }
                SystemResult::Err(e) => {
                    return Ok(Err(err(
                        "wasm",
                        9,
                        format!("rpc error: code = Unknown desc = {e}: query wasm contract failed"),
                    )))
                }
            }
        }
        "/cosmwasm.wasm.v1.Query/ContractInfo" => {
            let r = req!(QueryContractInfoRequest);
            let Ok(d) = rt.app.contract_data(&Addr::unchecked(&r.address)) else {
                return Ok(Err(no_such_contract(&r.address)));
            };
            ok(QueryContractInfoResponse {
                address: r.address,
                contract_info: Some(ContractInfo {
                    code_id: d.code_id,
                    creator: d.creator.to_string(),
                    admin: d.admin.map(|a| a.to_string()).unwrap_or_default(),
                    label: d.label,
                    created: None,
                    ibc_port_id: String::new(),
                    extension: None,
                }),
            })
        }
        other => {
            return Ok(Err(err(
                "sdk",
                6,
                format!("no query handler for path {other} on the devnet: unknown request"),
            )))
        }
    }))
}

fn no_such_contract(address: &str) -> QueryAnswer {
    err(
        "wasm",
        22,
        format!("rpc error: code = NotFound desc = address {address}: no such contract"),
    )
}
