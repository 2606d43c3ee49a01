//! Finalization: `FinalizeEpoch` for every epoch past its grace whose receipts all landed, and
//! epochs finalized on chain without a record here written down as observed.

use opg_core::reason::RejectReason;

use super::{lock, Keeper, KeeperError};
use crate::chain::ChainError;
use crate::metrics::inc;

/// Epochs finalized in one call at most (after a long downtime the next round continues).
const MAX_FINALIZE_PER_CALL: usize = 64;
/// Epochs finalized on chain without a record of this keeper that one call writes down at most.
const MAX_OBSERVED_PER_CALL: usize = 1024;

impl Keeper {
    /// Finalizes, in order, every epoch whose grace has passed at `now` (chain time) and whose
    /// receipts were all submitted and recorded. Returns the epochs finalized by this call.
    ///
    /// First it writes down, as *observed* (finalize record without a tx of its own), every
    /// epoch the pool has already finalized (below its `next_to_finalize`) that holds receipts
    /// of this keeper but has no finalize record here: another party finalized it, or this
    /// keeper's own `FinalizeEpoch` landed but its answer was lost (so its tx hash is unknown).
    /// `GET /v1/epochs/{e}` then reports `finalize_observed: true`, not `finalized_by_keeper`.
    pub fn finalize_ready(&self, now: u64) -> Result<Vec<u64>, KeeperError> {
        let _round = lock(&self.round);
        let mut done = Vec::new();
        if !self.config.batcher.finalize {
            return Ok(done);
        }
        let pool = self.chain.pool_config()?;
        self.record_observed_finalized(pool.next_to_finalize, now)?;
        let clock = pool.clock;
        let mut epoch = pool.next_to_finalize;
        while clock.finalizable(epoch, now) && done.len() < MAX_FINALIZE_PER_CALL {
            let n = self
                .store
                .expire_pending(epoch, RejectReason::EpochClosed.as_str())?;
            self.expired_loudly(epoch, n, "expired before they could be submitted");
            if self.store.counts(Some(epoch))?.submitted > 0 {
                // an unrecorded batch of this epoch: reconcile before finalizing
                break;
            }
            match self.chain.finalize_epoch(epoch) {
                Ok(tx) => {
                    self.store.mark_finalized(epoch, Some(&tx.tx_hash), now)?;
                    inc(&self.metrics.finalized, 1);
                    tracing::info!(epoch, tx = %tx.tx_hash, "epoch finalized");
                    done.push(epoch);
                }
                Err(e @ ChainError::Contract { .. }) => {
                    // someone else may have finalized it meanwhile
                    if self.chain.pool_config()?.next_to_finalize > epoch {
                        self.store.mark_finalized(epoch, None, now)?;
                    } else {
                        return Err(e.into());
                    }
                }
                Err(e) => return Err(e.into()),
            }
            epoch += 1;
        }
        Ok(done)
    }

    /// Writes down as observed the epochs below `next_to_finalize` (finalized on chain) that hold
    /// receipts here but have no finalize record; the first call scans the whole store, later
    /// ones only the epochs finalized since (at most 1024 epochs per call; the next call goes
    /// on).
    fn record_observed_finalized(
        &self,
        next_to_finalize: u64,
        now: u64,
    ) -> Result<(), KeeperError> {
        let mut below = lock(&self.observed_below);
        if *below >= next_to_finalize {
            return Ok(());
        }
        let missing = self.store.epochs_without_finalize_record(
            *below,
            next_to_finalize,
            MAX_OBSERVED_PER_CALL,
        )?;
        for &epoch in &missing {
            self.store.mark_finalized(epoch, None, now)?;
            tracing::info!(
                epoch,
                "epoch finalized on chain without a record here; recorded as observed"
            );
        }
        *below = match missing.last() {
            Some(&last) if missing.len() == MAX_OBSERVED_PER_CALL => last + 1,
            _ => next_to_finalize,
        };
        Ok(())
    }
}
