//! Ingest: receipts verified with the shared core (in parallel on the rayon pool), the good ones
//! stored durably through the group-commit writer, under the deadline admission.
use std::collections::BTreeSet;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use opg_core::crypto::NativeCrypto;
use opg_core::receipt::SignedReceipt;
use opg_core::verify::{verify_receipt, Rejection, VerifierPolicy};
use rayon::prelude::*;
use serde::Serialize;

use super::{on_pool, Keeper, KeeperError};
use crate::batcher::{retry_after_secs, SubmitPace};
use crate::chain::WireContext;
use crate::metrics::{inc, inc_reason};
use crate::store::{Admission, InsertOutcome, NewReceipt, ReceiptKey, ReceiptState, StoreError};

/// Requests with fewer receipts are verified on the calling thread.
const PARALLEL_MIN: usize = 4;
/// The reason of an [`IngestStatus::Deferred`] answer.
pub const DEFERRED_REASON: &str = "window_closing";

/// Outcome of one receipt at ingest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum IngestStatus {
    /// Verified and stored durably (acknowledged).
    Stored,
    /// Already stored before; `state` tells where it stands.
    Duplicate,
    /// Failed verification; `reason` says why. Not stored.
    Rejected,
    /// Valid, but not stored: the keeper estimates it could not land it on chain before its
    /// epoch's submission window closes (`reason` `window_closing`). Offer it again after
    /// `retry_after_secs`; once the window has closed it is rejected with `epoch_closed`.
    Deferred,
}

/// Per-receipt answer of [`Keeper::ingest`] and `POST /v1/receipts`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct IngestResult {
    /// Index in the request.
    pub index: usize,
    /// Stored, duplicate or rejected.
    pub status: IngestStatus,
    /// Payer, when the payment decoded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payer: Option<String>,
    /// Nonce, when the payment decoded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// Epoch of `served_at` (stored and duplicate receipts).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub epoch: Option<u64>,
    /// Rejection reason (a `RejectReason` wire string).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Current state of a duplicate (`pending`, `submitted`, `accepted`, `rejected`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// Seconds to wait before offering a deferred receipt again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after_secs: Option<u64>,
}

/// Receipts verified by [`Keeper::verify_receipts`], waiting for their insert.
pub struct VerifiedBatch {
    results: Vec<IngestResult>,
    to_store: Vec<(usize, NewReceipt)>,
    /// Chain time of the verification (the rows' `received_at`), unix seconds.
    pub now: u64,
    /// The deadline limits of the rows' epochs (`None`: backpressure off).
    pub admission: Option<Admission>,
    /// The pace the limits were computed from.
    pace: SubmitPace,
}

impl VerifiedBatch {
    /// The rows to insert, in order.
    pub fn rows(&self) -> Vec<NewReceipt> {
        self.to_store.iter().map(|(_, r)| r.clone()).collect()
    }
}

impl Keeper {
    /// Verifies receipts and stores the good ones durably; returns one result per input, in
    /// order, after the commit. Blocking (call it outside async code or in `spawn_blocking`):
    /// [`Keeper::verify_receipts`] then the group-commit writer ([`crate::store::GroupCommit`]).
    pub fn ingest(&self, receipts: Vec<SignedReceipt>) -> Result<Vec<IngestResult>, KeeperError> {
        let batch = self.verify_receipts(&receipts)?;
        let rows = batch.rows();
        let outcomes = if rows.is_empty() {
            Vec::new()
        } else {
            self.committer
                .commit_blocking_admitted(rows, batch.now, batch.admission.clone())?
        };
        Ok(self.finish_ingest(batch, outcomes))
    }

    /// [`Keeper::ingest`] for async callers (the HTTP handler): verification runs on the rayon
    /// pool (one thread per core), the insert on the group-commit writer; the caller's task
    /// only awaits. Results come after the commit.
    pub async fn ingest_async(
        self: &Arc<Self>,
        receipts: Vec<SignedReceipt>,
    ) -> Result<Vec<IngestResult>, KeeperError> {
        let k = self.clone();
        let batch = on_pool(move || k.verify_receipts(&receipts)).await??;
        let rows = batch.rows();
        let outcomes = if rows.is_empty() {
            Vec::new()
        } else {
            self.committer
                .submit_admitted(rows, batch.now, batch.admission.clone())
                .await
                .map_err(|_| StoreError::WriterStopped)??
        };
        Ok(self.finish_ingest(batch, outcomes))
    }

    /// Verifies receipts with the shared core at the chain's current time ([`Keeper::chain_time`])
    /// against the cached registry view, in parallel on the rayon pool (CPU only; nothing is
    /// stored).
    pub fn verify_receipts(
        &self,
        receipts: &[SignedReceipt],
    ) -> Result<VerifiedBatch, KeeperError> {
        inc(&self.metrics.received, receipts.len() as u64);
        let now = self.chain_time()?;
        let config = self.verifier_config()?;
        let domain_separator = self.domain_separator()?;
        let policy = VerifierPolicy {
            domain_separator,
            networks: &config.networks,
            facilitators: opg_core::verify::parse_facilitators(&config.facilitators),
            require_settlement: config.require_settlement,
            clock: config.clock,
        };
        let node_ids: BTreeSet<String> =
            receipts.iter().map(|r| r.receipt.node_id.clone()).collect();
        let model_ids: BTreeSet<String> = receipts
            .iter()
            .map(|r| r.receipt.model_id.clone())
            .collect();
        let view = self.registry_view(&node_ids, &model_ids)?;

        let check = |r: &SignedReceipt| -> Result<Result<NewReceipt, Rejection>, KeeperError> {
            match verify_receipt(&NativeCrypto, &policy, &view, r, now) {
                Ok(v) => {
                    let a = v.accepted;
                    // Stored (and later submitted) with the signers' keys, so the chain verifies
                    // each secp256k1 signature instead of recovering it (about half the gas).
                    let mut hinted = r.clone();
                    hinted.signer_keys = Some(v.signer_keys);
                    let raw = serde_json::to_string(&hinted).map_err(|e| {
                        KeeperError::CorruptReceipt {
                            payer: a.payer.clone(),
                            nonce: a.nonce.clone(),
                            message: e.to_string(),
                        }
                    })?;
                    Ok(Ok(NewReceipt {
                        key: ReceiptKey::new(&a.payer, &a.nonce),
                        epoch: a.epoch,
                        node_id: a.node_id,
                        model_id: a.model_id,
                        value_micro_usd: a.value_micro_usd.u128(),
                        raw,
                    }))
                }
                Err(rej) => Ok(Err(rej)),
            }
        };
        // a few receipts are not worth the pool's hand-off
        let verdicts: Vec<_> = if receipts.len() >= PARALLEL_MIN {
            receipts.par_iter().map(check).collect::<Result<_, _>>()?
        } else {
            receipts.iter().map(check).collect::<Result<_, _>>()?
        };

        let mut results: Vec<IngestResult> = Vec::with_capacity(receipts.len());
        let mut to_store: Vec<(usize, NewReceipt)> = Vec::new();
        for (index, v) in verdicts.into_iter().enumerate() {
            match v {
                Ok(row) => {
                    inc(&self.metrics.verified, 1);
                    results.push(IngestResult {
                        index,
                        status: IngestStatus::Stored,
                        payer: Some(row.key.payer.clone()),
                        nonce: Some(row.key.nonce.clone()),
                        epoch: Some(row.epoch),
                        reason: None,
                        state: None,
                        retry_after_secs: None,
                    });
                    to_store.push((index, row));
                }
                Err(rej) => {
                    inc_reason(&self.metrics.rejected, rej.reason.as_str());
                    results.push(IngestResult {
                        index,
                        status: IngestStatus::Rejected,
                        payer: rej.payer.map(|p| p.to_ascii_lowercase()),
                        nonce: rej.nonce.map(|n| n.to_ascii_lowercase()),
                        epoch: None,
                        reason: Some(rej.reason.as_str().to_string()),
                        state: None,
                        retry_after_secs: None,
                    });
                }
            }
        }
        if let Some((_, r)) = to_store.first() {
            // the bytes it will add to a `SubmitReceipts` (`chain::submit_msg`)
            let len = serde_json::from_str::<SignedReceipt>(&r.raw)
                .map_or(r.raw.len(), |s| WireContext::new(&config).wire_len(&s));
            self.receipt_bytes.store(len as u64, Ordering::Relaxed);
        }
        let pace = self.submit_pace(&config);
        let epochs: BTreeSet<u64> = to_store.iter().map(|(_, r)| r.epoch).collect();
        let admission = self.admission(&config, epochs, now, pace);
        Ok(VerifiedBatch {
            results,
            to_store,
            now,
            admission,
            pace,
        })
    }

    /// The answers of a verified batch once its rows' insert `outcomes` (in row order) are
    /// known: duplicates are marked with their stored state.
    pub fn finish_ingest(
        &self,
        batch: VerifiedBatch,
        outcomes: Vec<InsertOutcome>,
    ) -> Vec<IngestResult> {
        let mut results = batch.results;
        let mut deferred = 0u64;
        for ((index, _), outcome) in batch.to_store.iter().zip(outcomes) {
            match outcome {
                InsertOutcome::Inserted => inc(&self.metrics.stored, 1),
                InsertOutcome::Duplicate(state) => {
                    inc(&self.metrics.duplicates, 1);
                    let r = &mut results[*index];
                    r.status = IngestStatus::Duplicate;
                    r.state = Some(state.name().to_string());
                    if let ReceiptState::Rejected { reason, .. } = state {
                        r.reason = Some(reason);
                    }
                }
                InsertOutcome::Deferred { excess } => {
                    deferred += 1;
                    let r = &mut results[*index];
                    r.status = IngestStatus::Deferred;
                    r.reason = Some(DEFERRED_REASON.to_string());
                    r.retry_after_secs = Some(retry_after_secs(excess, batch.pace));
                }
            }
        }
        inc(&self.metrics.deferred, deferred);
        // a round is due now if a receipt had to wait, an ended epoch (in its grace period) has
        // a backlog, or waiting the interval would put a window at risk
        if batch.admission.is_some()
            && (deferred > 0
                || self
                    .verifier_config()
                    .is_ok_and(|c| self.due_now(&c, batch.now, false)))
        {
            self.round_due.notify_one();
        }
        results
    }

    /// The group-commit writer's counters (requests and transactions).
    pub fn commit_stats(&self) -> &crate::store::GroupCommitStats {
        self.committer.stats()
    }
}
