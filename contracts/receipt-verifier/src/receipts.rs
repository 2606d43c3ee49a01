//! Receipt checks shared by `SubmitReceipts` and the `VerifyReceipt` query: the registry view of a
//! batch, the core's verdict and the consumed-nonce lookup.
use std::collections::BTreeSet;

use cosmwasm_std::{Addr, QuerierWrapper, StdResult, Storage};
use opg_core::codec::{verify_compact_receipt, CompactReceipt};
use opg_core::crypto::Crypto;
use opg_core::msg::registry::{NodesByIdsResponse, QueryMsg as RegistryQueryMsg};
use opg_core::reason::RejectReason;
use opg_core::receipt::{Heartbeat, InferenceReceipt, SignedReceipt};
use opg_core::verify::{
    verify_receipt_with_keys, KeyBook, RegistryView, Rejection, Verified, VerifierPolicy,
};

/// A receipt of a batch in either wire form.
#[derive(Clone, Copy, Debug)]
pub enum AnyReceipt<'a> {
    /// The JSON form (`receipts`).
    Json(&'a SignedReceipt),
    /// The compact form (`compact`), decoded.
    Compact(&'a CompactReceipt),
}

/// The public keys a batch carries, both forms ([`KeyBook::from_keys`]).
pub fn batch_keys(receipts: &[SignedReceipt], compact: &[CompactReceipt]) -> KeyBook {
    KeyBook::from_keys(
        receipts
            .iter()
            .filter_map(|r| r.signer_keys.as_ref())
            .flat_map(|k| [&k.payer, &k.node, &k.facilitator])
            .flatten()
            .map(|k| k.as_slice())
            .chain(compact.iter().flat_map(|c| c.key_slices())),
    )
}

use crate::state::{consumed_nonce, nonce_slot, NonceSlot};

/// The registry answers `NodesByIds` for at most this many node ids and model ids per query.
pub const REGISTRY_QUERY_CHUNK: usize = 256;

/// Queries the registry for every node and model a batch mentions: one `NodesByIds` query when the
/// batch names at most 256 distinct nodes and 256 distinct models (always, for batches of up to 256
/// items), otherwise one per 256.
pub fn load_registry_view(
    querier: &QuerierWrapper,
    registry: &Addr,
    receipts: &[&InferenceReceipt],
    heartbeats: &[Heartbeat],
) -> StdResult<RegistryView> {
    let ids: Vec<String> = receipts
        .iter()
        .map(|r| r.node_id.as_str())
        .chain(heartbeats.iter().map(|h| h.node_id.as_str()))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .map(str::to_string)
        .collect();
    let models: Vec<String> = receipts
        .iter()
        .map(|r| r.model_id.as_str())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .map(str::to_string)
        .collect();
    let mut view = RegistryView::default();
    let mut id_chunks = ids.chunks(REGISTRY_QUERY_CHUNK);
    let mut model_chunks = models.chunks(REGISTRY_QUERY_CHUNK);
    loop {
        let (ids, models) = match (id_chunks.next(), model_chunks.next()) {
            (None, None) => break,
            (i, m) => (
                i.unwrap_or_default().to_vec(),
                m.unwrap_or_default().to_vec(),
            ),
        };
        let resp: NodesByIdsResponse =
            querier.query_wasm_smart(registry, &RegistryQueryMsg::NodesByIds { ids, models })?;
        let part = RegistryView::from(resp);
        view.nodes.extend(part.nodes);
        view.models.extend(part.models);
    }
    Ok(view)
}

/// A receipt that passed the core's checks and whose nonce was not consumed before.
#[derive(Clone, Debug)]
pub struct CheckedReceipt {
    /// The core's verdict.
    pub verified: Verified,
    /// `sha256(payer || nonce)[..16]`: identifies the nonce in storage and within a batch.
    pub slot: NonceSlot,
    /// Last epoch the payment could be served in: `epoch_of(validBefore - 1)` (see `state`).
    pub expiry_epoch: u64,
}

/// The core's verdict at `now` plus the replay check against consumed nonces (no state change).
/// `keys` are the public keys the batch carries ([`KeyBook::from_receipts`]). Rejections are
/// `Ok(Err(_))`; storage errors are `Err(_)`.
pub fn check_receipt<C: Crypto>(
    storage: &dyn Storage,
    crypto: &C,
    policy: &VerifierPolicy,
    view: &RegistryView,
    keys: &KeyBook,
    receipt: AnyReceipt,
    now: u64,
) -> StdResult<Result<CheckedReceipt, Rejection>> {
    let verdict = match receipt {
        AnyReceipt::Json(r) => verify_receipt_with_keys(crypto, policy, view, r, keys, now),
        AnyReceipt::Compact(c) => verify_compact_receipt(crypto, policy, view, c, keys, now),
    };
    let verified = match verdict {
        Ok(v) => v,
        Err(rejection) => return Ok(Err(rejection)),
    };
    let accepted = &verified.accepted;
    let reject = |reason| Rejection {
        reason,
        payer: Some(accepted.payer.clone()),
        nonce: Some(accepted.nonce.clone()),
    };
    let valid_before = verified.valid_before;
    // served_at < validBefore, so validBefore - 1 is in or after the served epoch.
    let expiry_epoch = policy
        .clock
        .epoch_of(valid_before.saturating_sub(1))
        .map_or(accepted.epoch, |e| e.max(accepted.epoch));
    let slot = nonce_slot(&verified.binding.payer, &verified.binding.nonce);
    if consumed_nonce(storage, expiry_epoch, &slot)?.is_some() {
        return Ok(Err(reject(RejectReason::NonceAlreadyUsed)));
    }
    Ok(Ok(CheckedReceipt {
        verified,
        slot,
        expiry_epoch,
    }))
}
