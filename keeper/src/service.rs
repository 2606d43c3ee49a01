//! The keeper pipeline (DESIGN §6), runtime-agnostic: verify -> store -> batch -> submit ->
//! record -> finalize, plus start-up reconciliation. All methods are blocking; the HTTP layer
//! ([`crate::ingest`]) and the background loop call them in `spawn_blocking`.
//!
//! Deadline backpressure (issue 17): an acknowledged receipt must reach the chain before its
//! epoch's submission window closes (`end(epoch) + grace`). The keeper measures how fast its txs
//! land ([`PaceMeter`]), estimates how many receipts can still land before each window closes
//! ([`landable_before`]) and admits a new receipt only if the backlog of its epoch and the epochs
//! before it (which are submitted first) stays within that estimate; the others are answered
//! [`IngestStatus::Deferred`] (`503` + `Retry-After` over HTTP), never acknowledged. Rounds
//! submit the epoch whose window closes first, start right after start-up and follow each other
//! without pause while a closing epoch's backlog waits or waiting one more interval would put a
//! window at risk ([`TickReport::more`], [`round_due_now`]).
//! An acknowledged receipt that expires anyway is counted (`opg_receipts_expired_total`) and
//! logged at ERROR.
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use opg_core::crypto::NativeCrypto;
use opg_core::eip712::{domain_salt, verifier_domain_separator};
use opg_core::msg::verifier::ConfigResponse as VerifierConfig;
use opg_core::reason::RejectReason;
use opg_core::receipt::SignedReceipt;
use opg_core::verify::{verify_receipt, RegistryView, Rejection, VerifierPolicy};
use rayon::prelude::*;
use serde::Serialize;

use crate::batcher::{
    batch_secs, chunk, landable_before, receipts_per_tx, retry_after_secs, CostModel, PaceMeter,
    SubmitPace,
};
use crate::chain::{ChainBackend, ChainError, ChainStatus, WireContext};
use crate::config::KeeperConfig;
use crate::metrics::{inc, inc_reason, DeadlineView, Metrics};
use crate::store::{
    Admission, GroupCommit, InsertOutcome, NewReceipt, PaceRecord, ReceiptKey, ReceiptState, Store,
    StoreError, Verdict,
};

/// Requests with fewer receipts are verified on the calling thread.
const PARALLEL_MIN: usize = 4;
/// How long the cached verifier policy and registry entries are trusted.
const CACHE_TTL: Duration = Duration::from_secs(30);
/// `NodesByIds` takes at most this many ids of each kind.
const MAX_IDS_PER_QUERY: usize = 256;
/// Epochs finalized in one call at most (after a long downtime the next round continues).
const MAX_FINALIZE_PER_CALL: usize = 64;
/// Epochs finalized on chain without a record of this keeper that one call writes down at most.
const MAX_OBSERVED_PER_CALL: usize = 1024;
/// In wall-clock mode, a cached chain status older than this is read again from the chain
/// (normally the background round refreshes it long before).
const CLOCK_MAX_AGE: Duration = Duration::from_secs(60);
/// The reason of an [`IngestStatus::Deferred`] answer.
pub const DEFERRED_REASON: &str = "window_closing";

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

/// Outcome of one receipt at ingest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
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
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
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

struct PolicyCache {
    config: VerifierConfig,
    domain_separator: [u8; 32],
    fetched: Instant,
}

struct RegistryCache {
    view: RegistryView,
    fetched: Option<Instant>,
}

/// The chain's clock as ingest reads it. Asking the chain for its time on every request made
/// ingest wait for the chain (the embedded chain serves one call at a time, and a submission
/// round holds it for hundreds of milliseconds), so when the backend's block time follows the
/// wall clock the keeper answers from the last status it read instead.
struct ChainClock {
    /// The backend's block time is `max(last block time, wall clock)` (see
    /// [`Keeper::set_clock_follows_wall`]).
    follows_wall: AtomicBool,
    /// The last status read from the chain and the local instant it was read.
    last: Mutex<Option<(ChainStatus, Instant)>>,
}

/// The chain time (unix seconds) answered from a cached status, or `None` when the chain must be
/// asked. Pure: `cached` is the last status and its age, `wall_now` the wall clock (unix
/// seconds). Only a backend whose block time follows the wall clock is answered from the cache:
/// its block time is `max(last block time, wall clock)`, and the last block time is at least the
/// cached one, so `max(cached, wall_now)` is what the chain would answer (unless someone moved
/// its time ahead since, which the `max_age` refresh bounds). A manual clock (tests,
/// `opg simulate`) moves only by explicit `set_time`, which the keeper cannot see: always ask.
pub fn cached_chain_time(
    follows_wall: bool,
    cached: Option<(ChainStatus, Duration)>,
    wall_now: u64,
    max_age: Duration,
) -> Option<u64> {
    match cached {
        Some((status, age)) if follows_wall && age <= max_age => Some(status.time.max(wall_now)),
        _ => None,
    }
}

/// What the pace estimate needs to know about a batch besides its timing.
#[derive(Clone, Copy, Debug)]
struct PaceContext {
    /// Receipts of a full tx.
    full_tx: u64,
    /// Longest gap between recorded batches that counts as submission time (half the grace).
    max_gap_secs: f64,
}

/// Whether the next round is due right away rather than after the interval: the last round
/// was `cut_short`; or the `backlog` (receipts per epoch not yet recorded) holds receipts of an
/// epoch before `current_epoch` (ended, in its grace period: its window is closing); or the
/// backlog of some epoch and the epochs before it (submitted first) exceeds
/// `landable_after_wait` of that epoch, what could still land before its window closes if the
/// next round came only after one more interval (waiting would put it at risk). With time to
/// spare rounds keep to the interval, so submission does not compete with ingest for the CPU
/// and the store. Pure.
pub fn round_due_now(
    backlog: &BTreeMap<u64, u64>,
    current_epoch: Option<u64>,
    landable_after_wait: &BTreeMap<u64, u64>,
    cut_short: bool,
) -> bool {
    let closing = current_epoch.is_some_and(|c| backlog.range(..c).any(|(_, n)| *n > 0));
    let mut upto = 0u64;
    let tight = backlog.iter().any(|(e, n)| {
        upto = upto.saturating_add(*n);
        landable_after_wait.get(e).is_some_and(|l| upto > *l)
    });
    cut_short || closing || tight
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

/// The pace estimate and the last recorded batch (wall-clock unix seconds, whether more work
/// was due right away after it), as kept in the store's [`PaceRecord`].
struct PaceState {
    meter: PaceMeter,
    last: Option<(f64, bool)>,
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

    /// Receipts per full tx under the tx limits (keeper and verifier `max_batch`, gas and bytes
    /// of a receipt of `receipt_bytes`).
    fn full_tx(&self, config: &VerifierConfig, receipt_bytes: usize) -> u64 {
        let b = &self.config.batcher;
        receipts_per_tx(
            b.max_batch.min(config.max_batch as usize).max(1),
            CostModel {
                gas_per_item: b.gas_per_receipt,
                gas_per_byte: b.gas_per_byte,
            },
            receipt_bytes,
            b.max_gas_per_tx,
            b.max_tx_bytes,
        )
    }

    /// The submission pace: the measured seconds per full tx (until the first measurement,
    /// one tx per `batch_interval_secs`), and the receipts a full tx carries.
    pub fn submit_pace(&self, config: &VerifierConfig) -> SubmitPace {
        let bytes = self.receipt_bytes.load(Ordering::Relaxed) as usize;
        SubmitPace {
            secs_per_tx: lock(&self.pace)
                .meter
                .secs_per_tx
                .unwrap_or(self.config.batcher.batch_interval_secs.max(1) as f64),
            receipts_per_tx: self.full_tx(config, bytes),
        }
    }

    /// Seconds of a window the estimate keeps in reserve: `batcher.deadline_margin_secs`, or a
    /// quarter of the grace period.
    fn margin_secs(&self, config: &VerifierConfig) -> f64 {
        match self.config.batcher.deadline_margin_secs {
            Some(m) => m as f64,
            None => config.clock.grace as f64 / 4.0,
        }
    }

    /// Seconds until the submission window of `epoch` closes, at chain time `now`: measured
    /// from the later of `now` and the wall clock (a chain's last block time lags real time).
    fn secs_left(config: &VerifierConfig, epoch: u64, now: u64) -> f64 {
        let closes = config.clock.end(epoch).saturating_add(config.clock.grace) as f64;
        closes - wall_secs().max(now as f64)
    }

    /// The deadline limits for receipts of `epochs` at chain time `now`: per epoch, the receipts
    /// that can still land before its window closes ([`landable_before`]); `None` when
    /// backpressure is off or the clock is not real time.
    fn admission(
        &self,
        config: &VerifierConfig,
        epochs: impl IntoIterator<Item = u64>,
        now: u64,
        pace: SubmitPace,
    ) -> Option<Admission> {
        if !self.config.batcher.backpressure || !self.is_real_time() {
            return None;
        }
        let margin = self.margin_secs(config);
        Some(
            epochs
                .into_iter()
                .map(|e| {
                    let left = Self::secs_left(config, e, now);
                    (e, landable_before(left, margin, pace))
                })
                .collect(),
        )
    }

    /// [`round_due_now`] for the store's backlog at chain time `now`, with the current pace and
    /// one `batch_interval_secs` of waiting.
    fn due_now(&self, config: &VerifierConfig, now: u64, cut_short: bool) -> bool {
        let backlog = self.store.backlog();
        let pace = self.submit_pace(config);
        let wait = self.config.batcher.batch_interval_secs as f64;
        let margin = self.margin_secs(config);
        let after_wait = backlog
            .keys()
            .map(|&e| {
                let left = Self::secs_left(config, e, now) - wait;
                (e, landable_before(left, margin, pace))
            })
            .collect();
        round_due_now(&backlog, config.clock.epoch_of(now), &after_wait, cut_short)
    }

    /// What `/metrics` shows of the deadline estimate: the backlog per epoch and, for those
    /// epochs and the current one, the receipts that can still land before the window closes.
    ///
    /// Errors: the verifier config or chain time could not be read.
    pub fn deadline_view(&self) -> Result<DeadlineView, KeeperError> {
        let config = self.verifier_config()?;
        let now = self.chain_time()?;
        let pace = self.submit_pace(&config);
        let backlog = self.store.backlog();
        let margin = self.margin_secs(&config);
        let mut epochs: BTreeSet<u64> = backlog.keys().copied().collect();
        epochs.extend(config.clock.epoch_of(now));
        let landable = epochs
            .iter()
            .map(|&e| {
                let left = Self::secs_left(&config, e, now);
                (e, landable_before(left, margin, pace))
            })
            .collect();
        Ok(DeadlineView {
            enabled: self.config.batcher.backpressure && self.is_real_time(),
            backlog,
            landable,
            secs_per_tx: lock(&self.pace).meter.secs_per_tx,
            receipts_per_tx: pace.receipts_per_tx,
            margin_secs: margin,
        })
    }

    /// The Prometheus text of `/metrics`: the counters of [`Metrics`] and the deadline gauges
    /// of [`Keeper::deadline_view`] (left out if the chain cannot be read).
    pub fn metrics_text(&self) -> String {
        let mut out = self.metrics.render();
        match self.deadline_view() {
            Ok(v) => v.render(&mut out),
            Err(e) => tracing::warn!(error = %e, "deadline gauges unavailable"),
        }
        out
    }

    /// Counts `n` acknowledged receipts of `epoch` that will not be counted because their
    /// window closed, and says so at ERROR: the promise of DESIGN §6 was broken.
    fn expired_loudly(&self, epoch: u64, n: u64, how: &str) {
        if n == 0 {
            return;
        }
        inc(&self.metrics.expired, n);
        tracing::error!(
            epoch,
            count = n,
            "{n} acknowledged receipts of epoch {epoch} {how}: they will not be counted"
        );
    }

    /// Reads the chain's latest block from the chain and remembers it for
    /// [`Keeper::chain_time`].
    ///
    /// Errors: the chain does not answer ([`KeeperError::Chain`]).
    pub fn chain_status(&self) -> Result<ChainStatus, KeeperError> {
        let status = self.chain.status()?;
        *lock(&self.clock.last) = Some((status, Instant::now()));
        Ok(status)
    }

    /// The chain's current time, unix seconds: from the cache when the backend follows the wall
    /// clock and the cache is fresh ([`cached_chain_time`]), else read from the chain.
    ///
    /// Errors: the chain had to be asked and did not answer ([`KeeperError::Chain`]).
    pub fn chain_time(&self) -> Result<u64, KeeperError> {
        let follows_wall = self.clock.follows_wall.load(Ordering::Relaxed);
        let cached = lock(&self.clock.last).map(|(s, at)| (s, at.elapsed()));
        match cached_chain_time(follows_wall, cached, wall_now(), CLOCK_MAX_AGE) {
            Some(t) => Ok(t),
            None => Ok(self.chain_status()?.time),
        }
    }

    /// The axum router of the HTTP API (see [`crate::ingest`]).
    pub fn router(self: &Arc<Self>) -> axum::Router {
        crate::ingest::router(self.clone())
    }

    fn refresh_policy(&self) -> Result<(), KeeperError> {
        let config = self.chain.verifier_config()?;
        let chain_id = self.chain.chain_id();
        let verifier = self.chain.deployment().verifier;
        let computed = hex::encode(domain_salt(&chain_id, &verifier));
        if !config.domain_salt.eq_ignore_ascii_case(&computed) {
            return Err(KeeperError::DomainMismatch {
                chain_id,
                verifier,
                reported: config.domain_salt,
                computed,
            });
        }
        let domain_separator = verifier_domain_separator(&chain_id, &verifier);
        *lock(&self.policy) = Some(PolicyCache {
            config,
            domain_separator,
            fetched: Instant::now(),
        });
        Ok(())
    }

    /// The verifier config (cached for 30 s).
    pub fn verifier_config(&self) -> Result<VerifierConfig, KeeperError> {
        let stale = lock(&self.policy)
            .as_ref()
            .is_none_or(|p| p.fetched.elapsed() > CACHE_TTL);
        if stale {
            self.refresh_policy()?;
        }
        let guard = lock(&self.policy);
        let p = guard
            .as_ref()
            .ok_or_else(|| ChainError::Backend("no verifier policy".into()))?;
        Ok(p.config.clone())
    }

    fn domain_separator(&self) -> Result<[u8; 32], KeeperError> {
        self.verifier_config()?;
        let guard = lock(&self.policy);
        let p = guard
            .as_ref()
            .ok_or_else(|| ChainError::Backend("no verifier policy".into()))?;
        Ok(p.domain_separator)
    }

    /// A registry view covering `node_ids` and `model_ids`: the cache if it is fresh and has
    /// them all, else one refresh from the chain (in chunks of 256 ids).
    fn registry_view(
        &self,
        node_ids: &BTreeSet<String>,
        model_ids: &BTreeSet<String>,
    ) -> Result<RegistryView, KeeperError> {
        let mut cache = lock(&self.registry);
        let fresh = cache.fetched.is_some_and(|f| f.elapsed() <= CACHE_TTL);
        let complete = node_ids.iter().all(|n| cache.view.nodes.contains_key(n))
            && model_ids.iter().all(|m| cache.view.models.contains_key(m));
        if fresh && complete {
            return Ok(cache.view.clone());
        }
        // refresh everything cached plus the new ids, so stale entries (jailed nodes) update too
        let mut nodes: BTreeSet<String> = cache.view.nodes.keys().cloned().collect();
        nodes.extend(node_ids.iter().cloned());
        let mut models: BTreeSet<String> = cache.view.models.keys().cloned().collect();
        models.extend(model_ids.iter().cloned());
        let nodes: Vec<String> = nodes.into_iter().collect();
        let models: Vec<String> = models.into_iter().collect();
        let mut view = RegistryView::default();
        let rounds = nodes
            .len()
            .div_ceil(MAX_IDS_PER_QUERY)
            .max(models.len().div_ceil(MAX_IDS_PER_QUERY))
            .max(1);
        for i in 0..rounds {
            let ns = nodes
                .iter()
                .skip(i * MAX_IDS_PER_QUERY)
                .take(MAX_IDS_PER_QUERY)
                .cloned()
                .collect::<Vec<_>>();
            let ms = models
                .iter()
                .skip(i * MAX_IDS_PER_QUERY)
                .take(MAX_IDS_PER_QUERY)
                .cloned()
                .collect::<Vec<_>>();
            let part: RegistryView = self.chain.registry_view(&ns, &ms)?.into();
            view.nodes.extend(part.nodes);
            view.models.extend(part.models);
        }
        cache.view = view.clone();
        cache.fetched = Some(Instant::now());
        Ok(view)
    }

    /// Drops the cached registry view (e.g. after a governance change in a simulation).
    pub fn invalidate_cache(&self) {
        lock(&self.registry).fetched = None;
        if let Some(p) = lock(&self.policy).as_mut() {
            p.fetched = Instant::now() - CACHE_TTL - Duration::from_secs(1);
        }
    }

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

    /// Settles every batch that was written down but whose outcome was never recorded (the
    /// keeper stopped between broadcast and recording, or the broadcast's outcome was unknown):
    /// asks the chain `ReceiptStatus` for each receipt; consumed -> accepted, not consumed ->
    /// pending again. Nothing is resubmitted before this ran.
    pub fn reconcile(&self) -> Result<ReconcileReport, KeeperError> {
        let _round = lock(&self.round);
        self.reconcile_locked()
    }

    fn reconcile_locked(&self) -> Result<ReconcileReport, KeeperError> {
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

    /// Feeds a recorded batch of `n` receipts whose round trip took `round_trip` seconds to the
    /// pace estimate ([`batch_secs`]: the time since the previous recorded batch if the keeper
    /// was busy since, restarts included) and saves it with the time of this batch and whether
    /// the keeper is busy: receipts are still waiting, and a real-time round goes on until none
    /// is (or its time budget is spent, and then the next round follows at once).
    fn observe_pace(&self, n: u64, round_trip: f64, ctx: PaceContext) {
        let at = wall_secs();
        let busy = self.is_real_time() && !self.store.backlog().is_empty();
        let record = {
            let mut p = lock(&self.pace);
            let since_busy = p.last.filter(|(_, busy)| *busy).map(|(t, _)| at - t);
            let secs = batch_secs(round_trip, since_busy, ctx.max_gap_secs);
            p.meter.observe(n, secs, ctx.full_tx);
            p.last = Some((at, busy));
            p.meter.secs_per_tx.map(|secs_per_tx| PaceRecord {
                secs_per_tx,
                last_batch_at: at,
                busy,
            })
        };
        if let Some(r) = record {
            // a lost write only means a restart begins from an older estimate
            if let Err(err) = self.store.save_pace(&r) {
                tracing::warn!(error = %err, "cannot save the submission pace");
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::embedded::{ClockMode, EmbeddedChain};
    use crate::genesis::GenesisConfig;
    use crate::store::Store;

    const T0: u64 = 1_700_000_000;

    fn keeper(genesis_time: u64) -> (Arc<Keeper>, Arc<EmbeddedChain>) {
        let mut g = GenesisConfig::dev("service-unit");
        g.genesis_time = Some(genesis_time);
        let chain = Arc::new(EmbeddedChain::in_memory(&g).unwrap());
        let cfg = KeeperConfig {
            genesis: Some(g),
            ..Default::default()
        };
        let k = Keeper::new(cfg, Store::in_memory().unwrap(), chain.clone()).unwrap();
        (k, chain)
    }

    fn status(time: u64) -> ChainStatus {
        ChainStatus { height: 7, time }
    }

    #[test]
    fn cached_time_only_for_a_wall_clock_backend_and_a_fresh_cache() {
        let max = Duration::from_secs(60);
        let fresh = Some((status(100), Duration::from_secs(5)));
        // wall clock: the later of the cached block time and the wall clock
        assert_eq!(cached_chain_time(true, fresh, 130, max), Some(130));
        assert_eq!(cached_chain_time(true, fresh, 90, max), Some(100));
        // too old, no cache, or a manual clock: ask the chain
        let old = Some((status(100), Duration::from_secs(61)));
        assert_eq!(cached_chain_time(true, old, 130, max), None);
        assert_eq!(cached_chain_time(true, None, 130, max), None);
        assert_eq!(cached_chain_time(false, fresh, 130, max), None);
    }

    #[test]
    fn rounds_come_back_to_back_for_a_closing_epoch_or_a_tight_window() {
        let none = BTreeMap::new();
        let roomy: BTreeMap<u64, u64> = [(4, 1000), (5, 1000), (6, 1000)].into();
        // nothing waiting: the interval
        assert!(!round_due_now(&none, Some(5), &roomy, false));
        // a round cut short by its time budget: again at once
        assert!(round_due_now(&none, Some(5), &roomy, true));
        // receipts of the current epoch with time to spare wait for the interval, however many
        assert!(!round_due_now(&[(5, 1000)].into(), Some(5), &roomy, false));
        // but not once waiting would leave more than can land: epoch 6 counts epoch 5's backlog
        assert!(round_due_now(&[(5, 1001)].into(), Some(5), &roomy, false));
        assert!(round_due_now(
            &[(5, 600), (6, 401)].into(),
            Some(5),
            &roomy,
            false
        ));
        assert!(!round_due_now(
            &[(5, 600), (6, 400)].into(),
            Some(5),
            &roomy,
            false
        ));
        // receipts of an ended epoch (in its grace period) never wait
        assert!(round_due_now(&[(4, 1)].into(), Some(5), &roomy, false));
        // an empty entry is no backlog
        assert!(!round_due_now(&[(4, 0)].into(), Some(5), &roomy, false));
        // before genesis no epoch has ended
        assert!(!round_due_now(&[(0, 1)].into(), None, &roomy, false));
    }

    #[test]
    fn manual_clock_is_read_exactly_after_every_set_time() {
        let (k, chain) = keeper(T0);
        chain.set_time(T0 + 10).unwrap();
        assert_eq!(k.chain_time().unwrap(), T0 + 10);
        // the cache of an earlier read must not hide a set_time
        assert_eq!(k.chain_status().unwrap().time, T0 + 10);
        chain.set_time(T0 + 5000).unwrap();
        assert_eq!(k.chain_time().unwrap(), T0 + 5000);
        assert_eq!(k.verify_receipts(&[]).unwrap().now, T0 + 5000);
    }

    /// The stall of issue "ingest waits for a submission round": with a wall-clock chain,
    /// verification takes the time from the cache while the chain thread is busy, and the time
    /// it uses is the one the chain then reports.
    #[test]
    fn wall_clock_ingest_does_not_wait_for_a_busy_chain() {
        let (k, chain) = keeper(wall_now() - 100);
        chain.set_clock_mode(ClockMode::Wall).unwrap();
        k.set_clock_follows_wall(true);
        k.chain_status().unwrap();
        // warm the registry cache (the verifier policy was read by Keeper::new)
        k.verify_receipts(&[]).unwrap();

        let (started_tx, started_rx) = std::sync::mpsc::channel();
        let busy = {
            let chain = chain.clone();
            std::thread::spawn(move || {
                chain
                    .with_runtime(move |_| {
                        started_tx.send(()).unwrap();
                        std::thread::sleep(Duration::from_millis(1500));
                    })
                    .unwrap();
            })
        };
        started_rx.recv().unwrap();
        let before = wall_now();
        let t = Instant::now();
        let batch = k.verify_receipts(&[]).unwrap();
        let took = t.elapsed();
        assert!(took < Duration::from_millis(500), "waited {took:?}");
        assert!(batch.now >= before, "{} < {before}", batch.now);
        busy.join().unwrap();
        // the chain agrees (its time is at least ours and only the wait passed since)
        let chain_now = chain.status().unwrap().time;
        assert!(
            chain_now >= batch.now && chain_now <= batch.now + 3,
            "{chain_now} vs {}",
            batch.now
        );
    }

    /// Without the wall-clock promise the keeper asks the chain, so it does wait for it: the
    /// test above shows something.
    #[test]
    fn without_the_wall_clock_promise_ingest_asks_the_chain() {
        let (k, chain) = keeper(wall_now() - 100);
        chain.set_clock_mode(ClockMode::Wall).unwrap();
        k.chain_status().unwrap();
        k.verify_receipts(&[]).unwrap();
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        let busy = {
            let chain = chain.clone();
            std::thread::spawn(move || {
                chain
                    .with_runtime(move |_| {
                        started_tx.send(()).unwrap();
                        std::thread::sleep(Duration::from_millis(600));
                    })
                    .unwrap();
            })
        };
        started_rx.recv().unwrap();
        let t = Instant::now();
        k.verify_receipts(&[]).unwrap();
        assert!(
            t.elapsed() >= Duration::from_millis(300),
            "{:?}",
            t.elapsed()
        );
        busy.join().unwrap();
    }
}
