//! `PruneNonces`: bounded removal of consumed nonces that can no longer be replayed.
use cosmwasm_std::{DepsMut, Env, MessageInfo, Response, StdResult, Storage};

use crate::error::ContractError;
use crate::state::{
    first_open_epoch, nonces_from, remove_nonce, NonceSlot, CONFIG, PRUNE_WATERMARK,
};

/// Largest `limit` of one `PruneNonces`.
pub const MAX_PRUNE_LIMIT: u32 = 1000;

/// Permissionless. Removes up to `limit` consumed nonces whose expiry epoch is closed, walking
/// `NONCES` in epoch order from the watermark; reads at most `limit + 1` entries. The watermark
/// advances to the epoch of the first entry left (or to the first open epoch when none is left
/// before it). A pruned payment's replay is rejected with `epoch_closed` (see `state`).
///
/// Attributes: `removed`, `pruned_through` (the new watermark: nonces of earlier epochs are gone).
/// Errors: `InvalidPruneLimit { limit }` outside `1..=1000`.
pub fn execute_prune_nonces(
    deps: DepsMut,
    env: Env,
    _info: MessageInfo,
    limit: u32,
) -> Result<Response, ContractError> {
    if !(1..=MAX_PRUNE_LIMIT).contains(&limit) {
        return Err(ContractError::InvalidPruneLimit { limit });
    }
    let cfg = CONFIG.load(deps.storage)?;
    let watermark = watermark(deps.storage)?;
    let first_open = first_open_epoch(&cfg.clock, env.block.time.seconds());

    let mut to_remove: Vec<(u64, NonceSlot)> = Vec::new();
    // Epoch of the first entry that stays (open epoch, or beyond the limit).
    let mut first_left: Option<u64> = None;
    // Bounded: at most `limit + 1` entries are read.
    let entries = nonces_from(deps.storage, watermark, None).take(limit as usize + 1);
    for item in entries {
        let entry = item?;
        if entry.expiry_epoch >= first_open || to_remove.len() >= limit as usize {
            first_left = Some(entry.expiry_epoch);
            break;
        }
        to_remove.push((entry.expiry_epoch, entry.slot));
    }
    for (epoch, slot) in &to_remove {
        remove_nonce(deps.storage, *epoch, slot);
    }
    let new_watermark = first_left
        .unwrap_or(first_open)
        .min(first_open)
        .max(watermark);
    if new_watermark != watermark {
        PRUNE_WATERMARK.save(deps.storage, &new_watermark)?;
    }
    Ok(Response::new()
        .add_attribute("action", "prune_nonces")
        .add_attribute("removed", to_remove.len().to_string())
        .add_attribute("pruned_through", new_watermark.to_string()))
}

/// The prune watermark (0 before the first prune).
pub fn watermark(storage: &dyn Storage) -> StdResult<u64> {
    Ok(PRUNE_WATERMARK.may_load(storage)?.unwrap_or(0))
}
