//! The keeper pipeline (DESIGN §6), runtime-agnostic: verify -> store -> batch -> submit ->
//! record -> finalize, plus start-up reconciliation. All methods are blocking; the HTTP layer
//! ([`crate::ingest`]) and the background loop call them in `spawn_blocking`.
//!
//! Deadline backpressure (issue 17): an acknowledged receipt must reach the chain before its
//! epoch's submission window closes (`end(epoch) + grace`). The keeper measures how fast its txs
//! land ([`PaceMeter`]), estimates how many receipts can still land before each window closes
//! ([`crate::batcher::landable_before`]) and admits a new receipt only if the backlog of its epoch and the epochs
//! before it (which are submitted first) stays within that estimate; the others are answered
//! [`IngestStatus::Deferred`] (`503` + `Retry-After` over HTTP), never acknowledged. Rounds
//! submit the epoch whose window closes first, start right after start-up and follow each other
//! without pause while a closing epoch's backlog waits or waiting one more interval would put a
//! window at risk ([`TickReport::more`], [`round_due_now`]).
//! An acknowledged receipt that expires anyway is counted (`opg_receipts_expired_total`) and
//! logged at ERROR.
//!
//! One file per role, the [`Keeper`] handle in front (this file: construction, accessors and the
//! round, [`Keeper::tick`]): `cache.rs` (chain clock, verifier policy, registry view), `intake.rs`
//! (verify and store), `deadline.rs` (pace estimate and backpressure), `submit.rs`,
//! `reconcile.rs`, `finalize.rs`. The HTTP layer ([`crate::ingest`]) depends on this module, never the reverse.
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use opg_core::verify::RegistryView;
use serde::Serialize;

use crate::batcher::PaceMeter;
use crate::chain::{ChainBackend, ChainError};
use crate::config::KeeperConfig;
use crate::metrics::Metrics;
use crate::store::{GroupCommit, Store, StoreError};

mod cache;
mod deadline;
mod finalize;
mod intake;
mod reconcile;
mod submit;

use cache::{ChainClock, PolicyCache, RegistryCache};
use deadline::PaceState;

pub use cache::cached_chain_time;
pub use deadline::round_due_now;
pub use intake::{IngestResult, IngestStatus, VerifiedBatch, DEFERRED_REASON};
pub use reconcile::ReconcileReport;
pub use submit::BatchReport;

/// Keeper errors.
#[derive(Debug, thiserror::Error)]
pub enum KeeperError {
    /// The chain failed or refused.
    #[error(transparent)]
    Chain(#[from] ChainError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A stored receipt no longer decodes.
    #[error("stored receipt {payer}/{nonce} does not decode: {message}")]
    CorruptReceipt {
        /// Payer.
        payer: String,
        /// Nonce.
        nonce: String,
        /// Decoder error.
        message: String,
    },
    /// A worker thread (group-commit writer) could not start, or a pool job was lost.
    #[error("keeper worker failed: {0}")]
    Worker(String),
    /// The verifier reports another EIP-712 domain salt than chain id + address give.
    #[error("verifier domain salt {reported} differs from sha256({chain_id} || {verifier}) = {computed}")]
    DomainMismatch {
        /// Chain id.
        chain_id: String,
        /// Verifier address.
        verifier: String,
        /// Salt the verifier reported.
        reported: String,
        /// Salt computed here.
        computed: String,
    },
}

/// Runs `f` on the rayon pool and awaits its result without blocking an async worker.
pub(crate) async fn on_pool<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, KeeperError> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    rayon::spawn(move || {
        let _ = tx.send(f());
    });
    rx.await
        .map_err(|_| KeeperError::Worker("a verification job was lost (it panicked)".into()))
}

/// One full round: reconcile, submit, finalize.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct TickReport {
    /// Chain time used, unix seconds.
    pub now: u64,
    /// Reconciliation.
    pub reconciled: ReconcileReport,
    /// Submission.
    pub batches: BatchReport,
    /// Epochs finalized.
    pub finalized: Vec<u64>,
    /// The next round is due right away instead of after `batch_interval_secs`: the round was
    /// cut short, receipts of an ended epoch (in its grace period) wait, or waiting one more
    /// interval would put a window at risk ([`round_due_now`]).
    pub more: bool,
}

fn wall_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The keeper: store, chain, caches, metrics.
pub struct Keeper {
    config: KeeperConfig,
    store: Arc<Store>,
    committer: GroupCommit,
    chain: Arc<dyn ChainBackend>,
    metrics: Arc<Metrics>,
    policy: Mutex<Option<PolicyCache>>,
    registry: Mutex<RegistryCache>,
    /// Serializes submission rounds (a round must not race another one over the outbox).
    round: Mutex<()>,
    /// The chain clock cache of ingest.
    clock: ChainClock,
    /// Epochs below this were checked for "finalized on chain, no record here" (see
    /// [`Keeper::finalize_ready`]).
    observed_below: Mutex<u64>,
    /// The chain's clock runs in real time (see [`Keeper::set_real_time`]).
    real_time: AtomicBool,
    /// Measured seconds per full tx, and when the last batch was recorded.
    pace: Mutex<PaceState>,
    /// JSON bytes of a recent receipt (for the tx limits of the estimate).
    receipt_bytes: AtomicU64,
    /// Ingest wakes the background loop when a round is due before the interval.
    round_due: tokio::sync::Notify,
}

fn wall_secs() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Keeper {
    /// A keeper over `store` and `chain`. Uses `config.server` and `config.batcher`; checks the
    /// verifier's domain salt against the chain id and verifier address.
    pub fn new(
        config: KeeperConfig,
        store: Store,
        chain: Arc<dyn ChainBackend>,
    ) -> Result<Arc<Self>, KeeperError> {
        let store = Arc::new(store);
        let saved = store.pace()?;
        let pace = PaceState {
            meter: PaceMeter {
                secs_per_tx: saved.map(|p| p.secs_per_tx),
            },
            last: saved.map(|p| (p.last_batch_at, p.busy)),
        };
        let committer = GroupCommit::start(store.clone()).map_err(|e| {
            KeeperError::Worker(format!("cannot start the group-commit writer: {e}"))
        })?;
        let k = Arc::new(Keeper {
            config,
            store,
            committer,
            chain,
            metrics: Arc::new(Metrics::default()),
            policy: Mutex::new(None),
            registry: Mutex::new(RegistryCache {
                view: RegistryView::default(),
                fetched: None,
            }),
            round: Mutex::new(()),
            clock: ChainClock {
                follows_wall: AtomicBool::new(false),
                last: Mutex::new(None),
            },
            observed_below: Mutex::new(0),
            real_time: AtomicBool::new(false),
            pace: Mutex::new(pace),
            receipt_bytes: AtomicU64::new(0),
            round_due: tokio::sync::Notify::new(),
        });
        k.refresh_policy()?;
        Ok(k)
    }

    /// The config.
    pub fn config(&self) -> &KeeperConfig {
        &self.config
    }

    /// The store.
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// The chain backend.
    pub fn chain(&self) -> &Arc<dyn ChainBackend> {
        &self.chain
    }

    /// The metrics.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// Declares whether the backend's block time follows the wall clock, i.e. is
    /// `max(last block time, wall clock)` at every call (the embedded chain in
    /// [`crate::chain::embedded::ClockMode::Wall`], as `opg keeper run` opens it). When on,
    /// ingest takes the chain time from the last status read plus the wall clock instead of
    /// asking the chain each time (see [`cached_chain_time`]); when off (the default, and what a
    /// manual clock needs: tests and `opg simulate` move time with `set_time`) every ingest
    /// asks the chain. Whoever built the backend knows its clock and sets this.
    pub fn set_clock_follows_wall(&self, on: bool) {
        self.clock.follows_wall.store(on, Ordering::Relaxed);
    }

    /// Declares whether the chain's clock runs in real time: a real chain (cosmos backend), or
    /// the embedded chain in wall-clock mode, as `opg keeper run` opens them. Only then does the
    /// keeper apply deadline backpressure (`batcher.backpressure`) and bound a round to one
    /// `batch_interval_secs`: with a manual clock (tests, `opg simulate`) chain time does not
    /// pass while the keeper works, so a wall-clock pace says nothing about it. Off by default.
    pub fn set_real_time(&self, on: bool) {
        self.real_time.store(on, Ordering::Relaxed);
    }

    fn is_real_time(&self) -> bool {
        self.real_time.load(Ordering::Relaxed)
    }

    /// Resolves when ingest finds a round due before the interval (a deferred receipt, receipts
    /// of an ended epoch, or a window at risk: [`round_due_now`]); the background loop awaits it
    /// beside its timer.
    pub fn round_due(&self) -> &tokio::sync::Notify {
        &self.round_due
    }

    /// One round at the chain's current time (read from the chain, which also refreshes the
    /// clock cache of ingest): reconcile, submit, finalize.
    pub fn tick(&self) -> Result<TickReport, KeeperError> {
        let now = self.chain_status()?.time;
        let reconciled = self.reconcile()?;
        let batches = self.submit_pending(now)?;
        let finalized = self.finalize_ready(now)?;
        let more = self.is_real_time()
            && batches.failed_batches == 0
            && self.due_now(
                &self.verifier_config()?,
                self.chain_time()?,
                batches.cut_short,
            );
        Ok(TickReport {
            now,
            reconciled,
            batches,
            finalized,
            more,
        })
    }
}
