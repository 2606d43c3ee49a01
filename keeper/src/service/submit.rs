//! Submission: pending receipts in batches, the epoch whose window closes first first; each
//! batch written down in the outbox before its broadcast, its verdicts recorded after.
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use opg_core::reason::RejectReason;
use opg_core::receipt::SignedReceipt;
use serde::Serialize;

use super::deadline::PaceContext;
use super::{lock, Keeper, KeeperError};
use crate::batcher::{chunk, CostModel};
use crate::chain::{ChainError, WireContext};
use crate::metrics::{inc, inc_reason};
use crate::store::{ReceiptKey, Verdict};

/// What one submission round did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct BatchReport {
    /// Txs broadcast.
    pub batches: u32,
    /// Receipts in them.
    pub submitted: u64,
    /// Accepted by the chain.
    pub accepted: u64,
    /// Rejected by the chain.
    pub rejected: u64,
    /// Pending receipts whose epoch closed before they could be submitted (now `rejected`
    /// with `epoch_closed`).
    pub expired: u64,
    /// Txs the chain refused as a whole (their receipts went back to pending).
    pub failed_batches: u32,
    /// The round stopped after its time budget (one `batch_interval_secs`) with receipts
    /// still pending.
    pub cut_short: bool,
}

impl Keeper {
    fn decode(r: &crate::store::StoredReceipt) -> Result<SignedReceipt, KeeperError> {
        serde_json::from_str(&r.raw).map_err(|e| KeeperError::CorruptReceipt {
            payer: r.key.payer.clone(),
            nonce: r.key.nonce.clone(),
            message: e.to_string(),
        })
    }

    /// Submits every pending receipt whose epoch is still open at `now` (unix seconds, chain
    /// time), in batches sized by [`crate::batcher::chunk`], the epoch whose window closes first
    /// first (checked again after every batch, so receipts of a closing epoch that arrive
    /// meanwhile overtake a later epoch's backlog); expires, loudly, pending receipts of closed
    /// epochs. Reconciles first if an earlier round left an unrecorded batch.
    ///
    /// With a real-time clock ([`Keeper::set_real_time`]) the round re-reads the chain time as
    /// it goes and stops after one `batch_interval_secs` (`cut_short`), so finalization and the
    /// next round's reconciliation are not starved by a steady stream of receipts.
    ///
    /// Errors: a transport/timeout/decode failure stops the round and leaves the batch in the
    /// outbox for reconciliation.
    pub fn submit_pending(&self, now: u64) -> Result<BatchReport, KeeperError> {
        let _round = lock(&self.round);
        if !self.store.unrecorded_batches()?.is_empty() {
            self.reconcile_locked()?;
        }
        let config = self.verifier_config()?;
        let max_batch = self
            .config
            .batcher
            .max_batch
            .min(config.max_batch as usize)
            .max(1);
        let model = CostModel {
            gas_per_item: self.config.batcher.gas_per_receipt,
            gas_per_byte: self.config.batcher.gas_per_byte,
        };
        let real_time = self.is_real_time();
        let budget = Duration::from_secs(self.config.batcher.batch_interval_secs.max(1));
        let started = Instant::now();
        let mut now = now;
        let mut report = BatchReport::default();
        // epochs whose tx the chain refused in this round: tried again next round
        let mut refused = BTreeSet::new();
        loop {
            if real_time {
                now = now.max(self.chain_time()?);
            }
            let mut next = None;
            for epoch in self.store.pending_epochs()? {
                if !config.clock.open_for_submission(epoch, now) {
                    let n = self
                        .store
                        .expire_pending(epoch, RejectReason::EpochClosed.as_str())?;
                    self.expired_loudly(epoch, n, "expired before they could be submitted");
                    report.expired += n;
                } else if !refused.contains(&epoch) {
                    next = Some(epoch);
                    break;
                }
            }
            let Some(epoch) = next else { break };
            let rows = self.store.pending_in_epoch(epoch, max_batch * 10)?;
            if rows.is_empty() {
                break;
            }
            let receipts = rows
                .iter()
                .map(Self::decode)
                .collect::<Result<Vec<_>, _>>()?;
            // sized from the bytes the batch will carry (the compact form, `chain::submit_msg`)
            let wire = WireContext::new(&config);
            let lens: Vec<usize> = receipts.iter().map(|r| wire.wire_len(r)).collect();
            let costs: Vec<_> = lens.iter().map(|len| model.cost(*len)).collect();
            let full_tx = self.full_tx(&config, lens[0]);
            let ranges = chunk(
                &costs,
                max_batch,
                self.config.batcher.max_gas_per_tx,
                self.config.batcher.max_tx_bytes,
            );
            for range in ranges {
                let keys: Vec<ReceiptKey> =
                    rows[range.clone()].iter().map(|r| r.key.clone()).collect();
                let pace = PaceContext {
                    full_tx,
                    max_gap_secs: config.clock.grace as f64 / 2.0,
                };
                let submitted =
                    self.submit_batch(epoch, &keys, &receipts[range], now, pace, &mut report)?;
                if !submitted {
                    // the chain refused the whole tx; try this epoch again next round
                    refused.insert(epoch);
                    break;
                }
                // receipts of an earlier epoch (closing sooner) arrived meanwhile: they go first
                let earlier = self
                    .store
                    .backlog()
                    .range(..epoch)
                    .any(|(e, _)| !refused.contains(e));
                if earlier {
                    break;
                }
            }
            if real_time && started.elapsed() >= budget {
                report.cut_short = !self.store.pending_epochs()?.is_empty();
                break;
            }
        }
        Ok(report)
    }

    /// Writes one batch down, broadcasts it and records the verdicts. `Ok(false)` when the chain
    /// refused the tx as a whole (receipts back to pending).
    /// A recorded batch feeds the pace estimate ([`Keeper::observe_pace`]).
    fn submit_batch(
        &self,
        epoch: u64,
        keys: &[ReceiptKey],
        receipts: &[SignedReceipt],
        now: u64,
        pace: PaceContext,
        report: &mut BatchReport,
    ) -> Result<bool, KeeperError> {
        let round_trip = Instant::now();
        let prepared = self.chain.prepare_submit(receipts, &[])?;
        let batch_id =
            self.store
                .prepare_batch(epoch, keys, &prepared.bytes, &prepared.hash, now)?;
        let started = Instant::now();
        let outcome = self.chain.submit_receipts(receipts, &[]);
        self.metrics
            .submit_latency
            .observe(started.elapsed().as_secs_f64());
        match outcome {
            Ok(out) => {
                let in_order = out.response.receipts.len() == keys.len()
                    && out
                        .response
                        .receipts
                        .iter()
                        .enumerate()
                        .all(|(i, r)| r.index as usize == i);
                if !in_order {
                    // the tx landed but its verdicts cannot be matched: reconcile by nonce status
                    return Err(ChainError::Decode {
                        what: format!("verdicts of batch {batch_id} (tx {})", out.tx_hash),
                        message: format!(
                            "{} verdicts for {} receipts",
                            out.response.receipts.len(),
                            keys.len()
                        ),
                    }
                    .into());
                }
                let mut verdicts = Vec::with_capacity(keys.len());
                let mut too_late = 0u64;
                for (key, r) in keys.iter().zip(&out.response.receipts) {
                    let v = match r.rejected.clone() {
                        None => {
                            report.accepted += 1;
                            inc(&self.metrics.accepted, 1);
                            Verdict::Accepted
                        }
                        Some(reason) => {
                            report.rejected += 1;
                            inc_reason(&self.metrics.chain_rejected, &reason);
                            if reason == RejectReason::EpochClosed.as_str() {
                                too_late += 1;
                            }
                            Verdict::Rejected(reason)
                        }
                    };
                    verdicts.push((key.clone(), v));
                }
                self.store.record_batch(batch_id, out.height, &verdicts)?;
                *lock(&self.last_submission) = Some(Instant::now());
                self.expired_loudly(
                    epoch,
                    too_late,
                    "reached the chain after their window closed",
                );
                self.observe_pace(keys.len() as u64, round_trip.elapsed().as_secs_f64(), pace);
                report.batches += 1;
                report.submitted += keys.len() as u64;
                inc(&self.metrics.batches, 1);
                inc(&self.metrics.submitted, keys.len() as u64);
                self.metrics.batch_size.observe(keys.len() as f64);
                tracing::info!(
                    batch = batch_id, epoch, tx = %out.tx_hash, height = out.height,
                    accepted = out.response.accepted, rejected = out.response.rejected,
                    "batch recorded"
                );
                Ok(true)
            }
            Err(ChainError::Contract { contract, message }) => {
                self.store.fail_batch(batch_id, &message)?;
                report.failed_batches += 1;
                inc(&self.metrics.batch_failures, 1);
                tracing::warn!(batch = batch_id, epoch, %contract, %message, "batch refused by the chain");
                // the verifier's limits may have changed
                self.invalidate_cache();
                Ok(false)
            }
            Err(e) => {
                tracing::warn!(batch = batch_id, epoch, error = %e, "batch outcome unknown; will reconcile");
                Err(e.into())
            }
        }
    }
}
