//! Reconciliation: batches written down but never recorded are settled from the chain's
//! `ReceiptStatus` before anything is resubmitted.

use serde::Serialize;

use super::{lock, Keeper, KeeperError};
use crate::store::ReceiptState;

/// What reconciliation did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ReconcileReport {
    /// Unrecorded batches examined.
    pub batches: u32,
    /// Receipts the chain had consumed: now `accepted`.
    pub accepted: u64,
    /// Receipts the chain had not consumed: back to `pending`.
    pub requeued: u64,
    /// Receipts whose nonce epoch was pruned: `rejected` (`outcome_unknown_pruned`).
    pub unknown: u64,
}

impl Keeper {
    /// Settles every batch that was written down but whose outcome was never recorded (the
    /// keeper stopped between broadcast and recording, or the broadcast's outcome was unknown):
    /// asks the chain `ReceiptStatus` for each receipt; consumed -> accepted, not consumed ->
    /// pending again. Nothing is resubmitted before this ran.
    pub fn reconcile(&self) -> Result<ReconcileReport, KeeperError> {
        let _round = lock(&self.round);
        self.reconcile_locked()
    }

    pub(super) fn reconcile_locked(&self) -> Result<ReconcileReport, KeeperError> {
        let mut report = ReconcileReport::default();
        for batch in self.store.unrecorded_batches()? {
            report.batches += 1;
            let mut statuses = Vec::with_capacity(batch.keys.len());
            for key in &batch.keys {
                let still_ours = matches!(
                    self.store.get_receipt(key)?,
                    Some(r) if r.batch_id == Some(batch.id) && matches!(r.state, ReceiptState::Submitted { .. })
                );
                if !still_ours {
                    continue;
                }
                let s = self.chain.receipt_status(&key.payer, &key.nonce)?;
                let verdict = if s.consumed {
                    report.accepted += 1;
                    Some(true)
                } else if s.pruned {
                    report.unknown += 1;
                    None
                } else {
                    report.requeued += 1;
                    Some(false)
                };
                statuses.push((key.clone(), verdict));
            }
            self.store.reconcile_batch(batch.id, &statuses)?;
            tracing::info!(batch = batch.id, tx = %batch.tx_hash, "reconciled unrecorded batch");
        }
        Ok(report)
    }
}
