//! `SubmitReceipts`: verify a batch, consume nonces, forward usage to the pool in one message.
use std::collections::{BTreeMap, BTreeSet};

use cosmwasm_std::{
    to_json_binary, Addr, Binary, DepsMut, Env, MessageInfo, QuerierWrapper, Response, StdResult,
    Uint128, WasmMsg,
};
use opg_core::codec::{self, CompactReceipt};
use opg_core::crypto::{ApiCrypto, Crypto};
use opg_core::msg::pool::{
    ExecuteMsg as PoolExecuteMsg, LiveNode, QueryMsg as PoolQueryMsg, RewardParams, UsageEntry,
};
use opg_core::msg::verifier::{
    AcceptedReceipt, HeartbeatResult, ReceiptResult, SubmitReceiptsResponse,
};
use opg_core::reason::RejectReason;
use opg_core::receipt::{Heartbeat, InferenceReceipt, SignedReceipt};
use opg_core::verify::{verify_heartbeat, RegistryView, Rejection, VerifierPolicy};

use crate::error::ContractError;
use crate::receipts::{batch_keys, check_receipt, load_registry_view, AnyReceipt};
use crate::state::{consume_nonce, NonceSlot, CONFIG};

/// Permissionless. Verifies each receipt and heartbeat at block time; a bad one gets a reason and
/// never fails the batch. Accepted receipts consume their `(payer, nonce)` (one storage write each)
/// and their usage is aggregated per (epoch, node) into one `RecordUsage` to the pool, with the
/// counted value `sum min(value, v_cap)` per call (`v_cap` of the receipt's epoch, one
/// `EpochParams` query to the pool per epoch in the batch),
/// together with the live local nodes (deduplicated per (epoch, node)); no message when nothing
/// was accepted. Response data: [`SubmitReceiptsResponse`].
///
/// Receipts come in the JSON form (`receipts`, indexes `0..n`) and the compact form (`compact`,
/// indexes `n..`, [`opg_core::codec`]); a compact entry that does not decode is rejected with
/// its [`opg_core::codec::DecodeError::reason`].
///
/// Errors: `EmptyBatch`, `BatchTooLarge { max, got }`, and registry query failures.
pub fn execute_submit_receipts(
    deps: DepsMut,
    env: Env,
    _info: MessageInfo,
    receipts: Vec<SignedReceipt>,
    heartbeats: Vec<Heartbeat>,
    compact: Vec<Binary>,
) -> Result<Response, ContractError> {
    let cfg = CONFIG.load(deps.storage)?;
    let got = receipts.len() as u64 + heartbeats.len() as u64 + compact.len() as u64;
    if got == 0 {
        return Err(ContractError::EmptyBatch {});
    }
    if got > u64::from(cfg.max_batch) {
        return Err(ContractError::BatchTooLarge {
            max: cfg.max_batch,
            got,
        });
    }
    let (decoded, bad) = decode_compact(&compact);
    let inferences: Vec<&InferenceReceipt> = receipts
        .iter()
        .map(|r| &r.receipt)
        .chain(decoded.iter().map(|c| &c.receipt))
        .collect();
    let view = load_registry_view(&deps.querier, &cfg.registry, &inferences, &heartbeats)?;
    let policy = cfg.policy()?;
    let crypto = ApiCrypto(deps.api);
    let now = env.block.time.seconds();
    // One copy of a signer's key serves all its signatures in the batch.
    let keys = batch_keys(&receipts, &decoded);
    // Every receipt in index order: the JSON ones, then the compact ones (`Err`: undecodable).
    let mut decoded_iter = decoded.iter();
    let entries: Vec<Result<AnyReceipt, RejectReason>> = receipts
        .iter()
        .map(|r| Ok(AnyReceipt::Json(r)))
        .chain(bad.iter().map(|b| match b {
            Some(reason) => Err(*reason),
            None => Ok(AnyReceipt::Compact(
                decoded_iter.next().expect("one decoded per good entry"),
            )),
        }))
        .collect();

    let mut results = Vec::with_capacity(receipts.len());
    let mut batch_slots: BTreeSet<NonceSlot> = BTreeSet::new();
    let mut writes: Vec<(u64, NonceSlot, u64)> = Vec::new();
    let mut usage: BTreeMap<(u64, String), UsageEntry> = BTreeMap::new();
    // `v_cap` of each epoch with an accepted receipt: one pool query per epoch and batch.
    let mut v_caps: BTreeMap<u64, Uint128> = BTreeMap::new();
    let mut live: BTreeMap<(u64, String), LiveNode> = BTreeMap::new();
    let mut accepted_nodes: BTreeMap<String, u32> = BTreeMap::new();
    let mut rejected_attrs: Vec<(String, &'static str)> = Vec::new();

    for (index, entry) in entries.into_iter().enumerate() {
        let index = index as u32;
        let checked = match entry {
            Ok(receipt) => {
                check_receipt(deps.storage, &crypto, &policy, &view, &keys, receipt, now)?
            }
            Err(reason) => Err(Rejection {
                reason,
                payer: None,
                nonce: None,
            }),
        };
        let checked = match checked {
            // Nonces are written after the loop, so `check_receipt` only sees earlier batches;
            // an earlier accepted receipt of this batch is caught here.
            Ok(c) if !batch_slots.insert(c.slot) => Err((
                RejectReason::DuplicateInBatch,
                Some(c.verified.accepted.payer),
                Some(c.verified.accepted.nonce),
            )),
            Ok(c) => Ok(c),
            Err(r) => Err((r.reason, r.payer, r.nonce)),
        };
        match checked {
            Ok(c) => {
                let a = c.verified.accepted;
                writes.push((c.expiry_epoch, c.slot, a.epoch));
                let v_cap = epoch_v_cap(&deps.querier, &cfg.reward_pool, &mut v_caps, a.epoch)?;
                add_usage(&mut usage, &a, v_cap)?;
                if let Some(l) = c.verified.live {
                    live.entry((l.epoch, l.node_id.clone())).or_insert(l);
                }
                *accepted_nodes.entry(a.node_id).or_default() += 1;
                results.push(ReceiptResult {
                    index,
                    payer: Some(a.payer),
                    nonce: Some(a.nonce),
                    rejected: None,
                });
            }
            Err((reason, payer, nonce)) => {
                rejected_attrs.push((format!("rejected_{index}"), reason.as_str()));
                results.push(ReceiptResult {
                    index,
                    payer,
                    nonce,
                    rejected: Some(reason.as_str().to_string()),
                });
            }
        }
    }

    let heartbeat_results = check_heartbeats(
        &crypto,
        &policy,
        &view,
        &heartbeats,
        now,
        &mut live,
        &mut rejected_attrs,
    );

    // The one storage write per accepted receipt.
    for (expiry_epoch, slot, epoch) in &writes {
        consume_nonce(deps.storage, *expiry_epoch, slot, *epoch)?;
    }

    let usage_msg = record_usage_msg(&cfg.reward_pool, usage, live)?;
    submit_response(
        writes.len() as u32,
        results,
        heartbeat_results,
        rejected_attrs,
        &accepted_nodes,
        usage_msg,
    )
}

/// The compact entries decoded ([`opg_core::codec::decode`]): the good ones in order, and per
/// entry `None` (decoded) or the reason it is rejected.
#[inline(never)]
fn decode_compact(compact: &[Binary]) -> (Vec<CompactReceipt>, Vec<Option<RejectReason>>) {
    let mut decoded = Vec::with_capacity(compact.len());
    let bad = compact
        .iter()
        .map(|b| match codec::decode(b) {
            Ok(c) => {
                decoded.push(c);
                None
            }
            Err(e) => Some(e.reason()),
        })
        .collect();
    (decoded, bad)
}

// The helpers below are `#[inline(never)]`: inlined into `execute_submit_receipts`, LLVM made one
// wasm function with 120 locals, over the VM's static limit of 100 per function, and the
// artifact was refused (`wasm-check`, wasmd's store). Keeping them apart keeps every function under it.

/// `v_cap` (micro-USD) of `epoch`, from the pool's `EpochParams`: one query per epoch and batch,
/// cached in `v_caps`.
#[inline(never)]
fn epoch_v_cap(
    querier: &QuerierWrapper,
    pool: &Addr,
    v_caps: &mut BTreeMap<u64, Uint128>,
    epoch: u64,
) -> StdResult<Uint128> {
    if let Some(v) = v_caps.get(&epoch) {
        return Ok(*v);
    }
    let params: RewardParams =
        querier.query_wasm_smart(pool, &PoolQueryMsg::EpochParams { epoch })?;
    v_caps.insert(epoch, params.v_cap);
    Ok(params.v_cap)
}

/// Adds one accepted call to its `(epoch, node)` usage entry: `calls + 1`, `value + v`,
/// `counted_value + min(v, v_cap)` (DESIGN §4); checked, errors on `Uint128` overflow.
#[inline(never)]
fn add_usage(
    usage: &mut BTreeMap<(u64, String), UsageEntry>,
    a: &AcceptedReceipt,
    v_cap: Uint128,
) -> StdResult<()> {
    let entry = usage
        .entry((a.epoch, a.node_id.clone()))
        .or_insert_with(|| UsageEntry {
            epoch: a.epoch,
            node_id: a.node_id.clone(),
            provenance: a.provenance,
            calls: 0,
            value: Uint128::zero(),
            counted_value: Uint128::zero(),
        });
    entry.calls = entry.calls.saturating_add(1);
    entry.value = entry.value.checked_add(a.value_micro_usd)?;
    entry.counted_value = entry
        .counted_value
        .checked_add(a.value_micro_usd.min(v_cap))?;
    Ok(())
}

/// Verifies each heartbeat; an accepted one marks its node live for its epoch, a rejected one
/// adds a `rejected_heartbeat_{index}` attribute.
#[inline(never)]
fn check_heartbeats<C: Crypto>(
    crypto: &C,
    policy: &VerifierPolicy,
    view: &RegistryView,
    heartbeats: &[Heartbeat],
    now: u64,
    live: &mut BTreeMap<(u64, String), LiveNode>,
    rejected_attrs: &mut Vec<(String, &'static str)>,
) -> Vec<HeartbeatResult> {
    let mut heartbeat_results = Vec::with_capacity(heartbeats.len());
    for (index, heartbeat) in heartbeats.iter().enumerate() {
        let index = index as u32;
        match verify_heartbeat(crypto, policy, view, heartbeat, now) {
            Ok(l) => {
                live.entry((l.epoch, l.node_id.clone())).or_insert(l);
                heartbeat_results.push(HeartbeatResult {
                    index,
                    rejected: None,
                });
            }
            Err(reason) => {
                rejected_attrs.push((format!("rejected_heartbeat_{index}"), reason.as_str()));
                heartbeat_results.push(HeartbeatResult {
                    index,
                    rejected: Some(reason.as_str().to_string()),
                });
            }
        }
    }
    heartbeat_results
}

/// The pool's `RecordUsage` for the batch, or `None` when nothing was accepted and no node is live.
#[inline(never)]
fn record_usage_msg(
    pool: &Addr,
    usage: BTreeMap<(u64, String), UsageEntry>,
    live: BTreeMap<(u64, String), LiveNode>,
) -> StdResult<Option<WasmMsg>> {
    if usage.is_empty() && live.is_empty() {
        return Ok(None);
    }
    Ok(Some(WasmMsg::Execute {
        contract_addr: pool.to_string(),
        msg: to_json_binary(&PoolExecuteMsg::RecordUsage {
            entries: usage.into_values().collect(),
            live: live.into_values().collect(),
        })?,
        funds: vec![],
    }))
}

/// The batch's attributes, its `RecordUsage` message and its [`SubmitReceiptsResponse`] data.
#[inline(never)]
fn submit_response(
    accepted: u32,
    results: Vec<ReceiptResult>,
    heartbeat_results: Vec<HeartbeatResult>,
    rejected_attrs: Vec<(String, &'static str)>,
    accepted_nodes: &BTreeMap<String, u32>,
    usage_msg: Option<WasmMsg>,
) -> Result<Response, ContractError> {
    let rejected = results.len() as u32 - accepted;
    let heartbeats_accepted = heartbeat_results
        .iter()
        .filter(|h| h.rejected.is_none())
        .count();
    let mut response = Response::new()
        .add_attribute("action", "submit_receipts")
        .add_attribute("accepted", accepted.to_string())
        .add_attribute("rejected", rejected.to_string())
        .add_attribute("heartbeats_accepted", heartbeats_accepted.to_string())
        .add_attribute(
            "heartbeats_rejected",
            (heartbeat_results.len() - heartbeats_accepted).to_string(),
        )
        .add_attributes(rejected_attrs);
    // `node:count` of accepted receipts, by node id; omitted when empty (some chains refuse empty
    // attribute values).
    if !accepted_nodes.is_empty() {
        let summary = accepted_nodes
            .iter()
            .map(|(node, n)| format!("{node}:{n}"))
            .collect::<Vec<_>>()
            .join(",");
        response = response.add_attribute("accepted_nodes", summary);
    }
    if let Some(msg) = usage_msg {
        response = response.add_message(msg);
    }
    Ok(response.set_data(to_json_binary(&SubmitReceiptsResponse {
        receipts: results,
        heartbeats: heartbeat_results,
        accepted,
        rejected,
    })?))
}
