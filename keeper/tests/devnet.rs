//! `opg devnet` driven over its CometBFT JSON-RPC by `tendermint-rpc`'s `HttpClient` (a client
//! no one here wrote), with txs signed by cosmrs (SIGN_MODE_DIRECT).
use std::str::FromStr;

use cosmrs::crypto::secp256k1::SigningKey;
use cosmrs::proto::cosmos::auth::v1beta1::{
    BaseAccount, QueryAccountRequest, QueryAccountResponse,
};
use cosmrs::proto::cosmos::bank::v1beta1::{QueryBalanceRequest, QueryBalanceResponse};
use cosmrs::proto::cosmos::base::abci::v1beta1::TxMsgData;
use cosmrs::proto::cosmos::tx::v1beta1::{SimulateRequest, SimulateResponse};
use cosmrs::proto::cosmwasm::wasm::v1::{
    MsgExecuteContractResponse, QueryContractInfoRequest, QueryContractInfoResponse,
    QuerySmartContractStateRequest, QuerySmartContractStateResponse,
};
use cosmrs::proto::prost::Message;
use cosmrs::tx::{Body, Fee, Msg, SignDoc, SignerInfo};
use cosmrs::{AccountId, Any, Coin, Denom};
use opg_keeper::devnet::{Devnet, DevnetConfig};
use tendermint_rpc::client::CompatMode;
use tendermint_rpc::{Client, HttpClient, Order};

struct Signer {
    key: SigningKey,
    address: String,
}

fn dev_signer(d: &Devnet, i: usize) -> Signer {
    Signer {
        key: d.accounts[i].signing_key().unwrap(),
        address: d.accounts[i].address.clone(),
    }
}

async fn start(home: &std::path::Path) -> (Devnet, HttpClient) {
    let mut cfg = DevnetConfig::new(home.to_path_buf());
    cfg.listen = "127.0.0.1:0".parse().unwrap();
    cfg.block_time = Some(5);
    let d = Devnet::start(cfg).await.unwrap();
    let client = HttpClient::builder(d.rpc_url().parse().unwrap())
        .compat_mode(CompatMode::V0_38)
        .build()
        .unwrap();
    (d, client)
}

async fn query<Req: Message, Resp: Message + Default>(
    c: &HttpClient,
    path: &str,
    req: Req,
) -> Result<Resp, (u32, String)> {
    let r = c
        .abci_query(Some(path.into()), req.encode_to_vec(), None, false)
        .await
        .unwrap();
    if r.code.is_err() {
        return Err((r.code.value(), r.log));
    }
    Ok(Resp::decode(r.value.as_slice()).unwrap())
}

async fn account(c: &HttpClient, address: &str) -> Result<BaseAccount, (u32, String)> {
    let r: QueryAccountResponse = query(
        c,
        "/cosmos.auth.v1beta1.Query/Account",
        QueryAccountRequest {
            address: address.into(),
        },
    )
    .await?;
    let any = r.account.unwrap();
    assert_eq!(any.type_url, "/cosmos.auth.v1beta1.BaseAccount");
    Ok(BaseAccount::decode(any.value.as_slice()).unwrap())
}

async fn balance(c: &HttpClient, address: &str, denom: &str) -> u128 {
    let r: QueryBalanceResponse = query(
        c,
        "/cosmos.bank.v1beta1.Query/Balance",
        QueryBalanceRequest {
            address: address.into(),
            denom: denom.into(),
        },
    )
    .await
    .unwrap();
    r.balance.unwrap().amount.parse().unwrap()
}

fn coin(amount: u128) -> Coin {
    Coin {
        denom: Denom::from_str("uopg").unwrap(),
        amount,
    }
}

struct TxOpts {
    chain_id: String,
    account_number: u64,
    sequence: u64,
    gas: u64,
    fee: u128,
}

fn sign(s: &Signer, msgs: Vec<Any>, o: &TxOpts) -> Vec<u8> {
    let body = Body::new(msgs, "devnet test", 0u32);
    let auth = SignerInfo::single_direct(Some(s.key.public_key()), o.sequence)
        .auth_info(Fee::from_amount_and_gas(coin(o.fee), o.gas));
    SignDoc::new(&body, &auth, &o.chain_id.parse().unwrap(), o.account_number)
        .unwrap()
        .sign(&s.key)
        .unwrap()
        .to_bytes()
        .unwrap()
}

fn execute_msg(s: &Signer, contract: &str, msg: &str, funds: Vec<Coin>) -> Any {
    cosmrs::cosmwasm::MsgExecuteContract {
        sender: AccountId::from_str(&s.address).unwrap(),
        contract: AccountId::from_str(contract).unwrap(),
        msg: msg.as_bytes().to_vec(),
        funds,
    }
    .to_any()
    .unwrap()
}

fn send_msg(s: &Signer, to: &str, amount: u128) -> Any {
    cosmrs::bank::MsgSend {
        from_address: AccountId::from_str(&s.address).unwrap(),
        to_address: AccountId::from_str(to).unwrap(),
        amount: vec![coin(amount)],
    }
    .to_any()
    .unwrap()
}

async fn opts(c: &HttpClient, d: &Devnet, s: &Signer) -> TxOpts {
    let a = account(c, &s.address).await.unwrap();
    TxOpts {
        chain_id: d.chain_id.clone(),
        account_number: a.account_number,
        sequence: a.sequence,
        gas: 400_000,
        fee: 10_000,
    }
}

/// Broadcasts and returns the CheckTx code/log and the hash.
async fn broadcast(c: &HttpClient, tx: Vec<u8>) -> (u32, String, (), String) {
    let r = c.broadcast_tx_sync(tx).await.unwrap();
    (r.code.value(), r.log, (), r.hash.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn execute_send_query_and_search_over_cometbft_rpc() {
    let home = tempfile::tempdir().unwrap();
    let (d, c) = start(home.path()).await;
    let st = c.status().await.unwrap();
    assert_eq!(st.node_info.network.as_str(), "opg-devnet-1");
    assert!(st.node_info.version.to_string().starts_with("0.38."));
    let h0 = st.sync_info.latest_block_height.value();

    let alice = dev_signer(&d, 0);
    let pool = d.deployment.pool.clone();
    assert!(pool.starts_with("wasm1"), "{pool}");
    let a = account(&c, &alice.address).await.unwrap();
    assert_eq!((a.sequence, a.pub_key.is_none()), (0, true));
    let start_bal = balance(&c, &alice.address, "uopg").await;
    assert_eq!(start_bal, opg_keeper::devnet::DEV_FUNDS);
    let pool_before = balance(&c, &pool, "uopg").await;

    // contract info and a smart query
    let ci: QueryContractInfoResponse = query(
        &c,
        "/cosmwasm.wasm.v1.Query/ContractInfo",
        QueryContractInfoRequest {
            address: pool.clone(),
        },
    )
    .await
    .unwrap();
    assert_eq!(ci.contract_info.unwrap().code_id, 2);
    let cfg: QuerySmartContractStateResponse = query(
        &c,
        "/cosmwasm.wasm.v1.Query/SmartContractState",
        QuerySmartContractStateRequest {
            address: pool.clone(),
            query_data: br#"{"config":{}}"#.to_vec(),
        },
    )
    .await
    .unwrap();
    let cfg: serde_json::Value = serde_json::from_slice(&cfg.data).unwrap();
    assert_eq!(cfg["denom"], "uopg");

    // simulate, then the same tx signed: gas used matches the simulation
    let fund = execute_msg(&alice, &pool, r#"{"fund":{}}"#, vec![coin(1234)]);
    let o = opts(&c, &d, &alice).await;
    let sim: SimulateResponse = query(
        &c,
        "/cosmos.tx.v1beta1.Service/Simulate",
        SimulateRequest {
            tx_bytes: sign(&alice, vec![fund.clone()], &o),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let sim_gas = sim.gas_info.unwrap().gas_used;
    assert!(sim_gas > 0);
    // simulation changed nothing
    assert_eq!(account(&c, &alice.address).await.unwrap().sequence, 0);
    assert_eq!(balance(&c, &pool, "uopg").await, pool_before);

    let (code, log, _, hash) = broadcast(&c, sign(&alice, vec![fund], &o)).await;
    assert_eq!(code, 0, "{log}");
    let hash = cosmrs::tendermint::Hash::from_str(&hash).unwrap();
    let tx = c.tx(hash, false).await.unwrap();
    assert!(tx.tx_result.code.is_ok(), "{}", tx.tx_result.log);
    assert_eq!(tx.tx_result.gas_used as u64, sim_gas);
    assert!(tx.height.value() > h0);
    // CometBFT prints `data` as base64; tendermint-rpc 0.40 hands over that text undecoded
    // (`serializers::nullable` on `Bytes`), so a client decodes it once more, as on a real node.
    use base64::Engine;
    let data = base64::engine::general_purpose::STANDARD
        .decode(tx.tx_result.data.as_ref())
        .unwrap();
    let data = TxMsgData::decode(data.as_slice()).unwrap();
    assert_eq!(data.msg_responses.len(), 1);
    assert_eq!(
        data.msg_responses[0].type_url,
        "/cosmwasm.wasm.v1.MsgExecuteContractResponse"
    );
    MsgExecuteContractResponse::decode(data.msg_responses[0].value.as_slice()).unwrap();
    assert!(tx
        .tx_result
        .events
        .iter()
        .any(|e| e.kind == "execute" || e.kind == "wasm"));
    let found = c
        .tx_search(
            tendermint_rpc::query::Query::eq("tx.hash", hash.to_string()),
            false,
            1,
            30,
            Order::Ascending,
        )
        .await
        .unwrap();
    assert_eq!(found.total_count, 1);
    assert_eq!(found.txs[0].hash, hash);
    let block = c.block(tx.height).await.unwrap();
    assert_eq!(block.block.data.len(), 1);
    assert_eq!(block.block.header.chain_id.as_str(), "opg-devnet-1");

    assert_eq!(balance(&c, &pool, "uopg").await, pool_before + 1234);
    assert_eq!(
        balance(&c, &alice.address, "uopg").await,
        start_bal - 1234 - 10_000
    );
    let a = account(&c, &alice.address).await.unwrap();
    assert_eq!(a.sequence, 1);
    assert!(a.pub_key.is_some());

    // MsgSend to a fresh address: it gets an account number when funded
    let fresh = SigningKey::random();
    let fresh_addr = fresh.public_key().account_id("wasm").unwrap().to_string();
    assert_eq!(account(&c, &fresh_addr).await.unwrap_err().0, 22);
    let o = opts(&c, &d, &alice).await;
    let (code, log, _, hash) = broadcast(
        &c,
        sign(&alice, vec![send_msg(&alice, &fresh_addr, 777)], &o),
    )
    .await;
    assert_eq!(code, 0, "{log}");
    let tx = c
        .tx(cosmrs::tendermint::Hash::from_str(&hash).unwrap(), false)
        .await
        .unwrap();
    assert!(tx.tx_result.code.is_ok(), "{}", tx.tx_result.log);
    assert_eq!(balance(&c, &fresh_addr, "uopg").await, 777);
    let fa = account(&c, &fresh_addr).await.unwrap();
    assert_eq!(fa.sequence, 0);
    assert!(fa.account_number > a.account_number);

    // the URI (GET) form answers too
    let body: serde_json::Value = reqwest::get(format!("{}/status", d.rpc_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["result"]["node_info"]["network"], "opg-devnet-1");
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refuses_wrong_chain_id_sequence_fee_and_unknown_contract() {
    let home = tempfile::tempdir().unwrap();
    let (d, c) = start(home.path()).await;
    let bob = dev_signer(&d, 1);
    let pool = d.deployment.pool.clone();
    let fund = || execute_msg(&bob, &pool, r#"{"fund":{}}"#, vec![coin(5)]);
    let bal0 = balance(&c, &bob.address, "uopg").await;

    // wrong chain id: unauthorized, nothing changes
    let mut o = opts(&c, &d, &bob).await;
    o.chain_id = "other-chain-1".into();
    let (code, log, _, _) = broadcast(&c, sign(&bob, vec![fund()], &o)).await;
    assert_eq!(code, 4, "{log}");
    assert!(
        log.contains("signature verification failed; please verify account number")
            && log.contains("chain-id (opg-devnet-1)"),
        "{log}"
    );

    // wrong sequence: code 32 with the SDK's text
    let mut o = opts(&c, &d, &bob).await;
    o.sequence = 5;
    let (code, log, _, _) = broadcast(&c, sign(&bob, vec![fund()], &o)).await;
    assert_eq!(code, 32);
    assert_eq!(
        log,
        "account sequence mismatch, expected 0, got 5: incorrect account sequence"
    );

    // insufficient fee: 400000 gas × 0.025 = 10000 uopg required
    let mut o = opts(&c, &d, &bob).await;
    o.fee = 9_999;
    let (code, log, _, _) = broadcast(&c, sign(&bob, vec![fund()], &o)).await;
    assert_eq!(code, 13);
    assert_eq!(
        log,
        "insufficient fees; got: 9999uopg required: 10000uopg: insufficient fee"
    );
    assert_eq!(balance(&c, &bob.address, "uopg").await, bal0);
    assert_eq!(account(&c, &bob.address).await.unwrap().sequence, 0);

    // a tampered signature: unauthorized
    let o = opts(&c, &d, &bob).await;
    let mut raw =
        cosmrs::proto::cosmos::tx::v1beta1::TxRaw::decode(sign(&bob, vec![fund()], &o).as_slice())
            .unwrap();
    raw.signatures[0][5] ^= 1;
    let (code, _, _, _) = broadcast(&c, raw.encode_to_vec()).await;
    assert_eq!(code, 4);

    // a signer that is not the message sender
    let alice = dev_signer(&d, 0);
    let (code, log, _, _) = broadcast(
        &c,
        sign(
            &alice,
            vec![execute_msg(&bob, &pool, r#"{"fund":{}}"#, vec![])],
            &o,
        ),
    )
    .await;
    assert_eq!(code, 8, "{log}");

    // unknown contract: included, fee charged, sequence bumped, code 22 (wasm)
    let nowhere = d.chain.addr("no-such-contract").to_string();
    let (code, log, _, hash) = broadcast(
        &c,
        sign(
            &bob,
            vec![execute_msg(&bob, &nowhere, r#"{"fund":{}}"#, vec![])],
            &o,
        ),
    )
    .await;
    assert_eq!(code, 0, "{log}");
    let tx = c
        .tx(cosmrs::tendermint::Hash::from_str(&hash).unwrap(), false)
        .await
        .unwrap();
    assert_eq!(tx.tx_result.code.value(), 22);
    assert_eq!(tx.tx_result.codespace, "wasm");
    assert_eq!(
        tx.tx_result.log,
        format!("failed to execute message; message index: 0: address {nowhere}: no such contract")
    );
    assert_eq!(account(&c, &bob.address).await.unwrap().sequence, 1);
    assert_eq!(balance(&c, &bob.address, "uopg").await, bal0 - 10_000);

    // a contract's refusal: code 5 (wasm) with the contract's error, funds not moved
    let o = opts(&c, &d, &bob).await;
    let (code, _, _, hash) = broadcast(
        &c,
        sign(
            &bob,
            vec![execute_msg(&bob, &pool, r#"{"fund":{}}"#, vec![])],
            &o,
        ),
    )
    .await;
    assert_eq!(code, 0);
    let tx = c
        .tx(cosmrs::tendermint::Hash::from_str(&hash).unwrap(), false)
        .await
        .unwrap();
    assert_eq!(tx.tx_result.code.value(), 5, "{}", tx.tx_result.log);
    assert!(
        tx.tx_result
            .log
            .starts_with("failed to execute message; message index: 0: ")
            && tx.tx_result.log.ends_with(": execute wasm contract failed"),
        "{}",
        tx.tx_result.log
    );

    // out of gas: gas limit below the schedule, code 11, fee still charged
    let mut o = opts(&c, &d, &bob).await;
    o.gas = 1_000;
    o.fee = 25;
    let (code, _, _, hash) = broadcast(&c, sign(&bob, vec![fund()], &o)).await;
    assert_eq!(code, 0);
    let tx = c
        .tx(cosmrs::tendermint::Hash::from_str(&hash).unwrap(), false)
        .await
        .unwrap();
    assert_eq!(tx.tx_result.code.value(), 11);
    assert!(
        tx.tx_result.log.ends_with(": out of gas"),
        "{}",
        tx.tx_result.log
    );

    // the same bytes twice: refused by CheckTx
    let o = opts(&c, &d, &bob).await;
    let bytes = sign(&bob, vec![fund()], &o);
    assert_eq!(broadcast(&c, bytes.clone()).await.0, 0);
    assert_eq!(broadcast(&c, bytes).await.0, 32);

    // an unknown tx hash: not found
    let missing = c
        .tx(
            cosmrs::tendermint::Hash::from_str(&"00".repeat(32)).unwrap(),
            false,
        )
        .await;
    assert!(missing.is_err());
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_and_txs_survive_a_restart() {
    let home = tempfile::tempdir().unwrap();
    let (d, c) = start(home.path()).await;
    let carol = dev_signer(&d, 2);
    let o = opts(&c, &d, &carol).await;
    let to = d.accounts[0].address.clone();
    let (code, _, _, hash) = broadcast(&c, sign(&carol, vec![send_msg(&carol, &to, 1)], &o)).await;
    assert_eq!(code, 0);
    let num = account(&c, &carol.address).await.unwrap().account_number;
    d.stop().await;

    let (d, c) = start(home.path()).await;
    let a = account(&c, &carol.address).await.unwrap();
    assert_eq!((a.account_number, a.sequence), (num, 1));
    let tx = c
        .tx(cosmrs::tendermint::Hash::from_str(&hash).unwrap(), false)
        .await
        .unwrap();
    assert!(tx.tx_result.code.is_ok());
    // the old sequence is now stale
    let (code, _, _, _) = broadcast(&c, sign(&carol, vec![send_msg(&carol, &to, 1)], &o)).await;
    assert_eq!(code, 32);
    d.stop().await;
}
