//! Queries: config, a receipt's verdict at the current block, and nonce status.
use cosmwasm_std::{Deps, Env, StdResult};
use opg_core::crypto::ApiCrypto;
use opg_core::eip712::domain_salt;
use opg_core::msg::verifier::{ConfigResponse, ReceiptStatusResponse, ReceiptVerdict};
use opg_core::receipt::SignedReceipt;
use opg_core::verify::{parse_evm_address, KeyBook};

use crate::error::ContractError;
use crate::prune::watermark;
use crate::receipts::{check_receipt, load_registry_view, AnyReceipt};
use crate::state::{nonce_slot, nonces_from, CONFIG};
use opg_core::verify::parse_nonce;

/// Most seeks one `ReceiptStatus` makes (two per non-empty epoch at most): the non-empty epochs at
/// or above the prune watermark are the open ones (`ceil(grace / L) + 2` at most), closed ones not
/// yet pruned, and epochs in the future that long-lived payments expire in.
pub const MAX_STATUS_SEEKS: u32 = 512;

/// The config, with the EIP-712 domain salt (`sha256(chain_id || verifier address)`, hex) receipts
/// must be signed under.
pub fn query_config(deps: Deps, env: Env) -> StdResult<ConfigResponse> {
    let cfg = CONFIG.load(deps.storage)?;
    Ok(ConfigResponse {
        governance: cfg.governance,
        registry: cfg.registry,
        reward_pool: cfg.reward_pool,
        clock: cfg.clock,
        networks: cfg.networks,
        facilitators: cfg.facilitators,
        require_settlement: cfg.require_settlement,
        max_batch: cfg.max_batch,
        domain_salt: hex::encode(domain_salt(
            &env.block.chain_id,
            env.contract.address.as_str(),
        )),
    })
}

/// The full verdict `SubmitReceipts` would give this receipt alone at the current block, including
/// the consumed-nonce check; queries the registry, changes nothing.
pub fn query_verify_receipt(
    deps: Deps,
    env: Env,
    receipt: SignedReceipt,
) -> StdResult<ReceiptVerdict> {
    let cfg = CONFIG.load(deps.storage)?;
    let view = load_registry_view(&deps.querier, &cfg.registry, &[&receipt.receipt], &[])?;
    let policy = cfg.policy()?;
    let crypto = ApiCrypto(deps.api);
    let now = env.block.time.seconds();
    Ok(
        match check_receipt(
            deps.storage,
            &crypto,
            &policy,
            &view,
            &KeyBook::from_receipts([&receipt]),
            AnyReceipt::Json(&receipt),
            now,
        )? {
            Ok(c) => ReceiptVerdict {
                valid: true,
                reason: None,
                accepted: Some(c.verified.accepted),
            },
            Err(r) => ReceiptVerdict {
                valid: false,
                reason: Some(r.reason.as_str().to_string()),
                accepted: None,
            },
        },
    )
}

/// Whether `(payer, nonce)` is consumed. Skip-scans the non-empty nonce epochs from the prune
/// watermark (the payment's expiry epoch is not known from `(payer, nonce)`): each seek finds the
/// first entry at or after `(epoch, key)`, which either is the key, or moves to the next epoch that
/// holds entries.
///
/// When not found, `pruned` is true once any epoch has been pruned: records of payments that
/// expired before the watermark are gone, so for such a payment `consumed: false` is no evidence
/// (it can no longer be submitted either: `epoch_closed`).
///
/// Errors: `InvalidPayer`, `InvalidNonce`, `StatusScanLimit` after [`MAX_STATUS_SEEKS`] seeks.
pub fn query_receipt_status(
    deps: Deps,
    payer: String,
    nonce: String,
) -> Result<ReceiptStatusResponse, ContractError> {
    let payer_bytes = parse_evm_address(&payer).ok_or(ContractError::InvalidPayer { payer })?;
    let nonce_bytes = parse_nonce(&nonce).ok_or(ContractError::InvalidNonce { nonce })?;
    let slot = nonce_slot(&payer_bytes, &nonce_bytes);
    let from_epoch = watermark(deps.storage)?;
    let not_found = ReceiptStatusResponse {
        consumed: false,
        epoch: None,
        pruned: from_epoch > 0,
    };
    let mut epoch = from_epoch;
    for _ in 0..MAX_STATUS_SEEKS {
        let next = nonces_from(deps.storage, epoch, Some(&slot))
            .next()
            .transpose()?;
        let Some(found) = next else {
            return Ok(not_found);
        };
        if found.slot == slot {
            return Ok(ReceiptStatusResponse {
                consumed: true,
                epoch: Some(found.counted_epoch),
                pruned: false,
            });
        }
        epoch = if found.expiry_epoch == epoch {
            // Past the key within this epoch: seek in the next one.
            match epoch.checked_add(1) {
                Some(e) => e,
                None => return Ok(not_found),
            }
        } else {
            // The next non-empty epoch: seek the slot in it.
            found.expiry_epoch
        };
    }
    Err(ContractError::StatusScanLimit {
        seeks: MAX_STATUS_SEEKS,
        from_epoch,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use cosmwasm_std::testing::mock_dependencies;

    use crate::state::{consume_nonce, PRUNE_WATERMARK};

    fn slot(payer: u8, nonce: u8) -> crate::state::NonceSlot {
        nonce_slot(&[payer; 20], &[nonce; 32])
    }

    fn status(deps: Deps, payer: u8, nonce: u8) -> Result<ReceiptStatusResponse, ContractError> {
        query_receipt_status(
            deps,
            format!("0x{}", hex::encode([payer; 20])),
            format!("0x{}", hex::encode([nonce; 32])),
        )
    }

    #[test]
    fn skip_scan_finds_keys_in_any_non_empty_epoch() {
        let mut deps = mock_dependencies();
        // Other slots (hashes, so in any order around the wanted one) in several epochs, with gaps.
        for (epoch, p, n, counted) in [(3, 1, 1, 3), (3, 9, 9, 3), (7, 5, 5, 6), (1000, 2, 2, 990)]
        {
            consume_nonce(&mut deps.storage, epoch, &slot(p, n), counted).unwrap();
        }
        let st = status(deps.as_ref(), 5, 5).unwrap();
        assert!(st.consumed);
        assert_eq!(st.epoch, Some(6));
        assert_eq!(status(deps.as_ref(), 2, 2).unwrap().epoch, Some(990));
        assert_eq!(status(deps.as_ref(), 9, 9).unwrap().epoch, Some(3));
        let missing = status(deps.as_ref(), 4, 4).unwrap();
        assert!(!missing.consumed && !missing.pruned);

        // Below the watermark nothing is looked at, and `pruned` says records may be gone.
        PRUNE_WATERMARK.save(&mut deps.storage, &4).unwrap();
        let st = status(deps.as_ref(), 9, 9).unwrap();
        assert!(!st.consumed && st.pruned);
        assert!(status(deps.as_ref(), 5, 5).unwrap().consumed);
    }

    #[test]
    fn skip_scan_is_bounded() {
        let mut deps = mock_dependencies();
        // One entry per epoch, each with another slot than the one asked for: every seek lands on
        // that entry (in its epoch or, when it sorts before the asked slot, as the next epoch's
        // first entry), so one seek per epoch and one more epoch than seeks exhausts the budget.
        for epoch in 0..=u64::from(MAX_STATUS_SEEKS) {
            consume_nonce(&mut deps.storage, epoch, &slot(1, 1), epoch).unwrap();
        }
        assert_eq!(
            status(deps.as_ref(), 7, 7).unwrap_err(),
            ContractError::StatusScanLimit {
                seeks: MAX_STATUS_SEEKS,
                from_epoch: 0
            }
        );
        // A key in the first epochs is still found.
        assert!(status(deps.as_ref(), 1, 1).unwrap().consumed);
    }
}
