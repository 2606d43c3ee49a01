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
    /// Batches left unrecorded because some receipts are not consumed yet while the batch's tx
    /// may still be included (chain height not past its timeout height): settled by a later
    /// reconciliation.
    pub waiting: u32,
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
        let mut height = None;
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
                    Some(true)
                } else if s.pruned {
                    None
                } else {
                    Some(false)
                };
                statuses.push((key.clone(), verdict));
            }
            // The receipts decide, not the tx hash: after a sequence-mismatch retry the tx that
            // lands is not the one written down. But while that tx may still land (in a mempool,
            // chain height not past its timeout height), a receipt not consumed yet is not put
            // back to pending: resubmitted, it would be refused as a replay once the first tx
            // lands, and recorded as rejected although it counted.
            if statuses.iter().any(|(_, v)| *v == Some(false)) {
                if let Some(until) = self.chain.tx_expiry_height(&batch.tx_bytes) {
                    let h = match height {
                        Some(h) => h,
                        None => *height.insert(self.chain.status()?.height),
                    };
                    if h <= until {
                        tracing::info!(batch = batch.id, tx = %batch.tx_hash, height = h, until,
                            "unrecorded batch not settled yet: its tx may still land");
                        report.waiting += 1;
                        continue;
                    }
                }
            }
            for (_, v) in &statuses {
                match v {
                    Some(true) => report.accepted += 1,
                    Some(false) => report.requeued += 1,
                    None => report.unknown += 1,
                }
            }
            self.store.reconcile_batch(batch.id, &statuses)?;
            tracing::info!(batch = batch.id, tx = %batch.tx_hash, "reconciled unrecorded batch");
        }
        Ok(report)
    }
}
