//! CheckTx + DeliverTx of the devnet: decode a TxRaw, verify it as the Cosmos SDK ante handler
//! does (signer, SIGN_MODE_DIRECT signature over the SignDoc, account number, chain id,
//! sequence, fee ≥ gas limit × minimum gas price, gas limit ≥ gas used), then run its messages on
//! the embedded chain. Error codes, codespaces and log texts follow the SDK and wasmd
//! (`sdk` 2 tx parse error, 4 unauthorized, 5 insufficient funds, 8 invalid pubkey,
//! 9 unknown address, 11 out of gas, 13 insufficient fee, 32 incorrect account sequence;
//! `wasm` 5 execute wasm contract failed, 22 no such contract, …).
use cosmrs::proto::cosmos::auth::v1beta1::BaseAccount;
use cosmrs::proto::cosmos::bank::v1beta1::{MsgSend, MsgSendResponse};
use cosmrs::proto::cosmos::base::abci::v1beta1::TxMsgData;
use cosmrs::proto::cosmos::base::v1beta1::Coin as ProtoCoin;
use cosmrs::proto::cosmos::tx::v1beta1::{mode_info, AuthInfo, SignDoc, TxBody, TxRaw};
use cosmrs::proto::cosmwasm::wasm::v1::{
    MsgExecuteContract, MsgExecuteContractResponse, MsgInstantiateContract,
    MsgInstantiateContractResponse, MsgStoreCode, MsgStoreCodeResponse,
};
use cosmrs::proto::prost::{Message, Name};
use cosmrs::Any;
use cosmwasm_std::{Addr, BankMsg, Binary, Coin, CosmosMsg, Decimal, Uint128, WasmMsg};
use k256::ecdsa::signature::Verifier;
use sha2::{Digest, Sha256};

use super::gas;
use super::store::{self, Event, TxRecord, TxResult};
use crate::chain::embedded::ChainRuntime;

/// What the devnet checks txs against.
#[derive(Clone, Debug)]
pub struct TxRules {
    /// Chain id signed over.
    pub chain_id: String,
    /// Fee denom.
    pub denom: String,
    /// Minimum gas price, `denom` per unit of gas.
    pub min_gas_price: Decimal,
    /// Bech32 prefix of accounts.
    pub prefix: &'static str,
    /// Where fees go.
    pub fee_collector: Addr,
    /// Seconds each block moves the clock forward (`--block-time`); `None`: wall clock.
    pub block_time: Option<u64>,
}

/// A message of a tx, decoded.
enum DevMsg {
    Execute(MsgExecuteContract),
    Send(MsgSend),
    Store(MsgStoreCode),
    Instantiate(MsgInstantiateContract),
}

impl DevMsg {
    fn decode(any: &Any) -> Result<Self, TxResult> {
        let bad = |e: cosmrs::proto::prost::DecodeError| {
            fail(
                "sdk",
                2,
                format!("cannot decode {}: {e}: tx parse error", any.type_url),
            )
        };
        let v = any.value.as_slice();
        Ok(match any.type_url.as_str() {
            u if u == MsgExecuteContract::type_url() => {
                DevMsg::Execute(MsgExecuteContract::decode(v).map_err(bad)?)
            }
            u if u == MsgSend::type_url() => DevMsg::Send(MsgSend::decode(v).map_err(bad)?),
            u if u == MsgStoreCode::type_url() => {
                DevMsg::Store(MsgStoreCode::decode(v).map_err(bad)?)
            }
            u if u == MsgInstantiateContract::type_url() => {
                DevMsg::Instantiate(MsgInstantiateContract::decode(v).map_err(bad)?)
            }
            other => {
                return Err(fail(
                    "sdk",
                    2,
                    format!("unable to resolve type URL {other}: tx parse error"),
                ))
            }
        })
    }

    fn signer(&self) -> &str {
        match self {
            DevMsg::Execute(m) => &m.sender,
            DevMsg::Send(m) => &m.from_address,
            DevMsg::Store(m) => &m.sender,
            DevMsg::Instantiate(m) => &m.sender,
        }
    }

    fn type_url(&self) -> String {
        match self {
            DevMsg::Execute(_) => MsgExecuteContract::type_url(),
            DevMsg::Send(_) => MsgSend::type_url(),
            DevMsg::Store(_) => MsgStoreCode::type_url(),
            DevMsg::Instantiate(_) => MsgInstantiateContract::type_url(),
        }
    }

    fn module(&self) -> &'static str {
        match self {
            DevMsg::Send(_) => "bank",
            _ => "wasm",
        }
    }

    fn gas(&self) -> u64 {
        match self {
            DevMsg::Execute(_) => gas::EXECUTE,
            DevMsg::Send(_) => gas::SEND,
            DevMsg::Store(_) => gas::STORE,
            DevMsg::Instantiate(_) => gas::INSTANTIATE,
        }
    }
}

/// A failed result.
pub fn fail(codespace: &str, code: u32, log: String) -> TxResult {
    TxResult {
        code,
        codespace: codespace.into(),
        log,
        ..TxResult::default()
    }
}

fn coins(c: &[ProtoCoin]) -> Result<Vec<Coin>, TxResult> {
    c.iter()
        .map(|c| {
            c.amount
                .parse::<u128>()
                .map(|a| Coin::new(Uint128::new(a), c.denom.clone()))
                .map_err(|_| fail("sdk", 10, format!("{}{}: invalid coins", c.amount, c.denom)))
        })
        .collect()
}

fn fmt_coins(c: &[Coin]) -> String {
    c.iter()
        .map(|c| format!("{}{}", c.amount, c.denom))
        .collect::<Vec<_>>()
        .join(",")
}

/// A tx that passed decoding and the signer checks.
struct Checked {
    body_bytes_len: usize,
    raw: TxRaw,
    msgs: Vec<DevMsg>,
    signer: String,
    pub_key: Vec<u8>,
    sequence: u64,
    gas_limit: u64,
    fee: Vec<Coin>,
    direct: bool,
}

/// Decodes and checks everything but the signature, fee and gas limit (shared with `Simulate`).
fn decode_and_check(rt: &ChainRuntime, rules: &TxRules, bytes: &[u8]) -> Result<Checked, TxResult> {
    let parse = |what: &str, e: cosmrs::proto::prost::DecodeError| {
        fail(
            "sdk",
            2,
            format!("cannot decode {what}: {e}: tx parse error"),
        )
    };
    let raw = TxRaw::decode(bytes).map_err(|e| parse("TxRaw", e))?;
    let body = TxBody::decode(raw.body_bytes.as_slice()).map_err(|e| parse("TxBody", e))?;
    let auth =
        AuthInfo::decode(raw.auth_info_bytes.as_slice()).map_err(|e| parse("AuthInfo", e))?;
    if body.messages.is_empty() {
        return Err(fail(
            "sdk",
            18,
            "must contain at least one message: invalid request".into(),
        ));
    }
    let msgs = body
        .messages
        .iter()
        .map(DevMsg::decode)
        .collect::<Result<Vec<_>, _>>()?;
    let signer = msgs[0].signer().to_string();
    if let Some(m) = msgs.iter().find(|m| m.signer() != signer) {
        return Err(fail(
            "sdk",
            4,
            format!(
                "the devnet accepts one signer per tx, got {signer} and {}: unauthorized",
                m.signer()
            ),
        ));
    }
    if auth.signer_infos.len() != 1 || raw.signatures.len() != 1 {
        return Err(fail(
            "sdk",
            4,
            format!(
                "wrong number of signers; expected 1, got {} signer infos and {} signatures: unauthorized",
                auth.signer_infos.len(),
                raw.signatures.len()
            ),
        ));
    }
    let si = &auth.signer_infos[0];
    // `Simulate` requests carry SIGN_MODE_UNSPECIFIED (CosmJS); the mode is checked with the
    // signature
    let direct = matches!(
        si.mode_info.as_ref().and_then(|m| m.sum.as_ref()),
        Some(mode_info::Sum::Single(s)) if s.mode == 1
    );
    let account = store::account(rt.app.storage(), &signer)
        .map_err(|e| fail("sdk", 1, e.to_string()))?
        .ok_or_else(|| {
            fail(
                "sdk",
                9,
                format!("account {signer} not found: unknown address"),
            )
        })?;
    let pub_key = match &si.public_key {
        Some(any) => {
            if any.type_url != "/cosmos.crypto.secp256k1.PubKey" {
                return Err(fail(
                    "sdk",
                    8,
                    format!(
                        "unsupported public key type {}: invalid pubkey",
                        any.type_url
                    ),
                ));
            }
            cosmrs::proto::cosmos::crypto::secp256k1::PubKey::decode(any.value.as_slice())
                .map_err(|e| parse("PubKey", e))?
                .key
        }
        None => account.pub_key.clone().ok_or_else(|| {
            fail(
                "sdk",
                8,
                format!("pubkey on account {signer} is not set: invalid pubkey"),
            )
        })?,
    };
    let derived = address_of(&pub_key, rules.prefix)
        .map_err(|e| fail("sdk", 8, format!("{e}: invalid pubkey")))?;
    if derived != signer {
        return Err(fail(
            "sdk",
            8,
            format!("pubKey does not match signer address {signer} with signer index: 0: invalid pubkey"),
        ));
    }
    if si.sequence != account.sequence {
        return Err(fail(
            "sdk",
            32,
            format!(
                "account sequence mismatch, expected {}, got {}: incorrect account sequence",
                account.sequence, si.sequence
            ),
        ));
    }
    let (gas_limit, fee) = match &auth.fee {
        Some(f) => (f.gas_limit, coins(&f.amount)?),
        None => (0, vec![]),
    };
    Ok(Checked {
        body_bytes_len: raw.body_bytes.len(),
        raw,
        msgs,
        signer,
        pub_key,
        sequence: account.sequence,
        gas_limit,
        fee,
        direct,
    })
}

/// The bech32 address of a compressed secp256k1 key.
pub fn address_of(pub_key: &[u8], prefix: &str) -> anyhow::Result<String> {
    let pk: cosmrs::crypto::PublicKey = cosmrs::tendermint::PublicKey::from_raw_secp256k1(pub_key)
        .ok_or_else(|| anyhow::anyhow!("not a secp256k1 public key"))?
        .into();
    Ok(pk
        .account_id(prefix)
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .to_string())
}

/// The devnet's gas schedule for `c` (see [`gas`]).
fn gas_of(c: &Checked) -> u64 {
    let per_msg: u64 = c.msgs.iter().map(DevMsg::gas).sum();
    gas::BASE
        .saturating_add(gas::PER_BYTE.saturating_mul(c.body_bytes_len as u64))
        .saturating_add(per_msg)
}

fn verify_signature(c: &Checked, rules: &TxRules, account_number: u64) -> Result<(), TxResult> {
    let doc = SignDoc {
        body_bytes: c.raw.body_bytes.clone(),
        auth_info_bytes: c.raw.auth_info_bytes.clone(),
        chain_id: rules.chain_id.clone(),
        account_number,
    };
    let unauthorized = || {
        fail(
            "sdk",
            4,
            format!(
                "signature verification failed; please verify account number ({account_number}) and chain-id ({}): unauthorized",
                rules.chain_id
            ),
        )
    };
    if !c.direct {
        return Err(fail(
            "sdk",
            4,
            "only SIGN_MODE_DIRECT single signatures are supported: unauthorized".into(),
        ));
    }
    let key = k256::ecdsa::VerifyingKey::from_sec1_bytes(&c.pub_key).map_err(|_| unauthorized())?;
    let sig =
        k256::ecdsa::Signature::from_slice(&c.raw.signatures[0]).map_err(|_| unauthorized())?;
    // the SDK refuses high-S signatures (malleability); CosmJS and cosmrs produce low-S
    if sig.normalize_s().is_some() {
        return Err(unauthorized());
    }
    key.verify(&doc.encode_to_vec(), &sig)
        .map_err(|_| unauthorized())
}

/// Required fee for `gas_limit`: ceil(gas_limit × min_gas_price).
fn required_fee(rules: &TxRules, gas_limit: u64) -> Uint128 {
    Uint128::from(gas_limit).mul_ceil(rules.min_gas_price)
}

/// Outcome of [`broadcast`].
pub enum Broadcast {
    /// CheckTx refused the tx; it is not included.
    Rejected(TxResult),
    /// Included (successfully or not).
    Included(TxRecord),
}

/// CheckTx + DeliverTx of `bytes` in a new block. The whole tx runs on the chain thread, so
/// sequences are checked and bumped atomically.
///
/// Errors: the chain's storage failed (the tx is not included).
pub fn broadcast(
    rt: &mut ChainRuntime,
    rules: &TxRules,
    bytes: &[u8],
) -> anyhow::Result<Broadcast> {
    // a replayed tx is refused by the sequence check, as on a real chain
    let hash = crate::chain::tx_hash(bytes);
    let c = match decode_and_check(rt, rules, bytes) {
        Ok(c) => c,
        Err(r) => return Ok(Broadcast::Rejected(r)),
    };
    let account = store::account(rt.app.storage(), &c.signer)?
        .ok_or_else(|| anyhow::anyhow!("account vanished"))?;
    if let Err(r) = verify_signature(&c, rules, account.number) {
        return Ok(Broadcast::Rejected(r));
    }
    let required = required_fee(rules, c.gas_limit);
    let paid = c
        .fee
        .iter()
        .filter(|f| f.denom == rules.denom)
        .map(|f| f.amount)
        .fold(Uint128::zero(), |a, b| a.saturating_add(b));
    if c.gas_limit == 0 || paid < required {
        return Ok(Broadcast::Rejected(fail(
            "sdk",
            13,
            format!(
                "insufficient fees; got: {} required: {}{}: insufficient fee",
                fmt_coins(&c.fee),
                required,
                rules.denom
            ),
        )));
    }
    let signer = Addr::unchecked(&c.signer);
    for f in &c.fee {
        let have = rt
            .app
            .wrap()
            .query_balance(&signer, &f.denom)
            .map(|b| b.amount)
            .unwrap_or_default();
        if have < f.amount {
            return Ok(Broadcast::Rejected(fail(
                "sdk",
                5,
                format!(
                    "{have}{} is smaller than {}: insufficient funds",
                    f.denom, f
                ),
            )));
        }
    }

    // --- DeliverTx: the ante handler's effects (fee, sequence) stay even if a message fails.
    if let Some(secs) = rules.block_time {
        rt.app.update_block(|b| b.time = b.time.plus_seconds(secs));
    }
    let height = rt.begin_block();
    let time_nanos = rt.app.block_info().time.nanos();
    if !c.fee.is_empty() {
        rt.app.execute_multi(
            signer.clone(),
            vec![CosmosMsg::Bank(BankMsg::Send {
                to_address: rules.fee_collector.to_string(),
                amount: c.fee.clone(),
            })],
        )?;
    }
    store::set_account(
        rt.app.storage_mut(),
        &c.signer,
        &store::Account {
            number: account.number,
            sequence: c.sequence + 1,
            pub_key: Some(c.pub_key.clone()),
        },
    )?;
    rt.commit()?;

    let mut events = vec![
        Event::new(
            "tx",
            &[("fee", fmt_coins(&c.fee)), ("fee_payer", c.signer.clone())],
        ),
        Event::new("tx", &[("acc_seq", format!("{}/{}", c.signer, c.sequence))]),
        Event::new("tx", &[("signature", base64_encode(&c.raw.signatures[0]))]),
    ];
    let gas_used = gas_of(&c);
    let mut result = TxResult {
        gas_wanted: c.gas_limit,
        gas_used,
        ..TxResult::default()
    };
    if gas_used > c.gas_limit {
        result.code = 11;
        result.codespace = "sdk".into();
        result.log = format!(
            "out of gas in location: devnet gas schedule; gasWanted: {}, gasUsed: {gas_used}: out of gas",
            c.gas_limit
        );
    } else {
        match run_msgs(rt, &signer, &c.msgs) {
            Ok((data, evs)) => {
                result.data = data;
                events.extend(evs);
                // number the accounts that received funds
                for e in &events {
                    if e.kind == "transfer" {
                        for a in e.attributes.iter().filter(|a| a.key == "recipient") {
                            store::ensure_account(rt.app.storage_mut(), &a.value)?;
                        }
                    }
                }
            }
            Err(mut r) => {
                rt.rollback()?;
                r.gas_wanted = c.gas_limit;
                r.gas_used = gas_used;
                result = r;
            }
        }
    }
    result.events = events;
    let rec = TxRecord {
        hash,
        height,
        index: 0,
        tx: bytes.to_vec(),
        result,
    };
    store::record_tx(rt.app.storage_mut(), &rec, time_nanos)?;
    rt.commit()?;
    Ok(Broadcast::Included(rec))
}

/// `Simulate`: the checks but the signature and fee, then the messages, all rolled back.
/// Returns the result (gas wanted = the tx's limit, gas used = the schedule's) or the error.
///
/// Errors: the chain's storage failed.
pub fn simulate(rt: &mut ChainRuntime, rules: &TxRules, bytes: &[u8]) -> anyhow::Result<TxResult> {
    let c = match decode_and_check(rt, rules, bytes) {
        Ok(c) => c,
        Err(r) => return Ok(r),
    };
    let saved = rt.app.block_info();
    if let Some(secs) = rules.block_time {
        rt.app.update_block(|b| b.time = b.time.plus_seconds(secs));
    }
    rt.begin_block();
    let out = run_msgs(rt, &Addr::unchecked(&c.signer), &c.msgs);
    let rolled = rt.rollback();
    rt.app.set_block(saved);
    rolled?;
    let gas_used = gas_of(&c);
    Ok(match out {
        Ok((data, events)) => TxResult {
            data,
            events,
            gas_wanted: c.gas_limit,
            gas_used,
            ..TxResult::default()
        },
        Err(mut r) => {
            r.gas_used = gas_used;
            r
        }
    })
}

fn base64_encode(b: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(b)
}

/// Where the devnet finds `checksums.txt` of the optimized artifacts (written by
/// `scripts/build-wasm.sh`): `$OPG_ARTIFACTS_DIR`, else `artifacts/` under the current directory.
pub fn artifacts_checksums_path() -> std::path::PathBuf {
    std::env::var_os("OPG_ARTIFACTS_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from("artifacts"))
        .join("checksums.txt")
}

/// Maps the sha256 of an uploaded wasm to the code id the embedded chain registers the matching
/// contract's native code under (1 registry, 2 pool, 3 verifier; `chain::embedded`), using
/// `checksums` (the text of `artifacts/checksums.txt`: `<sha256>  <file>` lines).
pub fn known_code_id(checksums: &str, checksum_hex: &str) -> Option<u64> {
    checksums.lines().find_map(|l| {
        let mut it = l.split_whitespace();
        let (sum, file) = (it.next()?, it.next()?);
        if !sum.eq_ignore_ascii_case(checksum_hex) {
            return None;
        }
        match file.trim_start_matches('*') {
            "node_registry.wasm" => Some(1),
            "reward_pool.wasm" => Some(2),
            "receipt_verifier.wasm" => Some(3),
            _ => None,
        }
    })
}

/// Gunzips `code` if it is gzip (CosmJS uploads gzipped wasm; wasmd accepts both).
fn unzip_wasm(code: &[u8]) -> Result<Vec<u8>, TxResult> {
    if code.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(code), &mut out).map_err(
            |e| {
                fail(
                    "wasm",
                    2,
                    format!("cannot gunzip wasm code: {e}: create wasm contract failed"),
                )
            },
        )?;
        Ok(out)
    } else {
        Ok(code.to_vec())
    }
}

fn wasm_fail(i: usize, code: u32, what: &str, e: impl std::fmt::Display) -> TxResult {
    fail(
        "wasm",
        code,
        format!("failed to execute message; message index: {i}: {e}: {what}"),
    )
}

fn any_of<M: Message + Name>(m: &M) -> Any {
    Any {
        type_url: M::type_url(),
        value: m.encode_to_vec(),
    }
}

/// Runs the messages after a committed ante step; the caller rolls back on `Err`.
fn run_msgs(
    rt: &mut ChainRuntime,
    signer: &Addr,
    msgs: &[DevMsg],
) -> Result<(Vec<u8>, Vec<Event>), TxResult> {
    let mut responses = Vec::with_capacity(msgs.len());
    let mut events = Vec::new();
    for (i, m) in msgs.iter().enumerate() {
        events.push(Event::new(
            "message",
            &[
                ("action", m.type_url()),
                ("sender", signer.to_string()),
                ("module", m.module().into()),
            ],
        ));
        let (cosmos, response): (Option<CosmosMsg>, Any) = match m {
            DevMsg::Execute(x) => {
                if rt.app.contract_data(&Addr::unchecked(&x.contract)).is_err() {
                    return Err(wasm_fail(
                        i,
                        22,
                        "no such contract",
                        format!("address {}", x.contract),
                    ));
                }
                (
                    Some(CosmosMsg::Wasm(WasmMsg::Execute {
                        contract_addr: x.contract.clone(),
                        msg: Binary::from(x.msg.clone()),
                        funds: coins(&x.funds)?,
                    })),
                    Any::default(),
                )
            }
            DevMsg::Send(x) => {
                if cosmwasm_std::Api::addr_validate(rt.app.api(), &x.to_address).is_err() {
                    return Err(fail(
                        "sdk",
                        7,
                        format!("invalid to address {}: invalid address", x.to_address),
                    ));
                }
                (
                    Some(CosmosMsg::Bank(BankMsg::Send {
                        to_address: x.to_address.clone(),
                        amount: coins(&x.amount)?,
                    })),
                    any_of(&MsgSendResponse {}),
                )
            }
            DevMsg::Store(x) => {
                let wasm = unzip_wasm(&x.wasm_byte_code)?;
                let checksum = Sha256::digest(&wasm).to_vec();
                let checksums_path = artifacts_checksums_path();
                let checksums = std::fs::read_to_string(&checksums_path).unwrap_or_default();
                let code_id = known_code_id(&checksums, &hex::encode(&checksum)).ok_or_else(|| {
                    wasm_fail(
                        i,
                        2,
                        "create wasm contract failed",
                        format!(
                            "unknown code (checksum {}): the devnet runs the opg contracts' native code and accepts only the artifacts listed in {} (build them with scripts/build-wasm.sh)",
                            hex::encode(&checksum),
                            checksums_path.display()
                        ),
                    )
                })?;
                events.push(Event::new(
                    "store_code",
                    &[
                        ("code_checksum", hex::encode(&checksum)),
                        ("code_id", code_id.to_string()),
                    ],
                ));
                (None, any_of(&MsgStoreCodeResponse { code_id, checksum }))
            }
            DevMsg::Instantiate(x) => (
                Some(CosmosMsg::Wasm(WasmMsg::Instantiate {
                    admin: (!x.admin.is_empty()).then(|| x.admin.clone()),
                    code_id: x.code_id,
                    msg: Binary::from(x.msg.clone()),
                    funds: coins(&x.funds)?,
                    label: x.label.clone(),
                })),
                Any::default(),
            ),
        };
        let Some(cosmos) = cosmos else {
            responses.push(response);
            continue;
        };
        let what = match m {
            DevMsg::Instantiate(_) => "instantiate wasm contract failed",
            DevMsg::Send(_) => "insufficient funds",
            _ => "execute wasm contract failed",
        };
        let res = rt
            .app
            .execute_multi(signer.clone(), vec![cosmos])
            .map_err(|e| {
                let code = match m {
                    DevMsg::Instantiate(_) => 4,
                    _ => 5,
                };
                let mut r = wasm_fail(i, code, what, e.root_cause());
                if matches!(m, DevMsg::Send(_)) {
                    r.codespace = "sdk".into();
                }
                r
            })?;
        let res = res.into_iter().next().unwrap_or_default();
        for e in &res.events {
            events.push(Event {
                kind: e.ty.clone(),
                attributes: e
                    .attributes
                    .iter()
                    .map(|a| store::Attribute {
                        key: a.key.clone(),
                        value: a.value.clone(),
                        index: true,
                    })
                    .collect(),
            });
        }
        let response = match m {
            // cw-multi-test's `execute` already returns the data wrapped in a protobuf
            // `MsgExecuteContractResponse` (its `execute_contract` helper unwraps it): unwrap
            // it once here so the tx result carries the contract's data exactly once, as wasmd
            DevMsg::Execute(_) => any_of(&MsgExecuteContractResponse {
                data: res
                    .data
                    .as_ref()
                    .and_then(|d| MsgExecuteContractResponse::decode(d.as_slice()).ok())
                    .map(|r| r.data)
                    .unwrap_or_default(),
            }),
            DevMsg::Instantiate(_) => {
                let address = res
                    .events
                    .iter()
                    .filter(|e| e.ty == "instantiate")
                    .flat_map(|e| &e.attributes)
                    .find(|a| a.key == "_contract_address")
                    .map(|a| a.value.clone())
                    .unwrap_or_default();
                let data = res
                    .data
                    .as_ref()
                    .and_then(|d| MsgInstantiateContractResponse::decode(d.as_slice()).ok())
                    .map(|r| r.data)
                    .unwrap_or_default();
                any_of(&MsgInstantiateContractResponse { address, data })
            }
            _ => response,
        };
        responses.push(response);
    }
    #[allow(deprecated)]
    let data = TxMsgData {
        data: vec![],
        msg_responses: responses,
    }
    .encode_to_vec();
    Ok((data, events))
}

/// The auth account of `address` as `BaseAccount`, if it exists.
///
/// Errors: corrupt storage.
pub fn base_account(rt: &ChainRuntime, address: &str) -> anyhow::Result<Option<BaseAccount>> {
    Ok(
        store::account(rt.app.storage(), address)?.map(|a| BaseAccount {
            address: address.into(),
            pub_key: a
                .pub_key
                .map(|k| any_of(&cosmrs::proto::cosmos::crypto::secp256k1::PubKey { key: k })),
            account_number: a.number,
            sequence: a.sequence,
        }),
    )
}

/// Proto `Any` of a message (re-exported for the query module).
pub fn to_any<M: Message + Name>(m: &M) -> Any {
    any_of(m)
}
