//! A fault-injecting [`ChainBackend`] wrapper for reliability tests (issue 6).
//!
//! [`FaultyChain`] forwards every call to an inner backend but, with seeded probabilities, makes
//! transactions (`SubmitReceipts`, `FinalizeEpoch`) and queries go wrong the way a real chain
//! connection does:
//!
//! * **fail** ([`FaultPlan::fail`]): a transport error before the broadcast; nothing landed;
//! * **time out** ([`FaultPlan::timeout`]): no answer within the deadline and the tx did not land
//!   (optionally after [`FaultPlan::timeout_delay`]);
//! * **drop after commit** ([`FaultPlan::drop_after_commit`]): the tx is executed and committed by
//!   the inner chain, then the answer is lost and the caller sees a timeout. This is the case a
//!   keeper must reconcile by nonce status, never by resubmitting blindly;
//! * **query failure** ([`FaultPlan::query_fail`]): a read (status, config, registry view, nonce
//!   status, report) fails with a transport error.
//!
//! The random sequence comes from a ChaCha8 generator seeded with [`FaultPlan::seed`], so a failing
//! run can be replayed. [`FaultyChain::stats`] counts what was injected, so a test can assert that
//! the faults it claims to survive really happened. [`FaultyChain::set_enabled`] turns injection
//! off (e.g. to let a test settle at the end).
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use opg_core::msg::pool::{ConfigResponse as PoolConfig, EpochReport};
use opg_core::msg::registry::NodesByIdsResponse;
use opg_core::msg::verifier::{ConfigResponse as VerifierConfig, ReceiptStatusResponse};
use opg_core::receipt::{Heartbeat, SignedReceipt};
use rand::{Rng as _, SeedableRng as _};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use super::{
    ChainBackend, ChainError, ChainStatus, ContractRole, Deployment, PreparedTx, SubmitOutcome,
    TxOutcome,
};

/// Probabilities (each in `[0, 1]`) of the injected faults and the seed of their sequence.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FaultPlan {
    /// Seed of the fault sequence.
    pub seed: u64,
    /// A tx fails with a transport error before it is broadcast.
    pub fail: f64,
    /// A tx times out without landing.
    pub timeout: f64,
    /// A tx lands (committed by the inner chain) but its answer is lost (reported as a timeout).
    pub drop_after_commit: f64,
    /// A query fails with a transport error.
    pub query_fail: f64,
    /// How long an injected timeout takes before it is reported.
    pub timeout_delay: Duration,
}

impl FaultPlan {
    /// No faults.
    pub fn none(seed: u64) -> Self {
        FaultPlan {
            seed,
            fail: 0.0,
            timeout: 0.0,
            drop_after_commit: 0.0,
            query_fail: 0.0,
            timeout_delay: Duration::ZERO,
        }
    }

    /// Every fault kind at `p` (txs) and `p / 2` (queries), no delay.
    pub fn uniform(seed: u64, p: f64) -> Self {
        FaultPlan {
            seed,
            fail: p,
            timeout: p,
            drop_after_commit: p,
            query_fail: p / 2.0,
            timeout_delay: Duration::ZERO,
        }
    }
}

/// What was injected so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FaultStats {
    /// Txs attempted through the wrapper.
    pub txs: u64,
    /// Txs that failed before the broadcast.
    pub failed: u64,
    /// Txs that timed out without landing.
    pub timed_out: u64,
    /// Txs that landed but whose answer was dropped.
    pub dropped_after_commit: u64,
    /// Queries attempted.
    pub queries: u64,
    /// Queries that failed.
    pub queries_failed: u64,
}

#[derive(Default)]
struct Counters {
    txs: AtomicU64,
    failed: AtomicU64,
    timed_out: AtomicU64,
    dropped: AtomicU64,
    queries: AtomicU64,
    queries_failed: AtomicU64,
}

enum TxFault {
    None,
    Fail,
    Timeout,
    DropAfterCommit,
}

/// A [`ChainBackend`] that injects the faults of a [`FaultPlan`] around `inner`.
pub struct FaultyChain {
    inner: Arc<dyn ChainBackend>,
    plan: FaultPlan,
    rng: Mutex<ChaCha8Rng>,
    enabled: AtomicBool,
    counters: Counters,
}

impl FaultyChain {
    /// Wraps `inner`; injection starts enabled.
    pub fn new(inner: Arc<dyn ChainBackend>, plan: FaultPlan) -> Self {
        FaultyChain {
            rng: Mutex::new(ChaCha8Rng::seed_from_u64(plan.seed)),
            inner,
            plan,
            enabled: AtomicBool::new(true),
            counters: Counters::default(),
        }
    }

    /// The plan.
    pub fn plan(&self) -> &FaultPlan {
        &self.plan
    }

    /// Turns injection on or off.
    pub fn set_enabled(&self, on: bool) {
        self.enabled.store(on, Ordering::SeqCst);
    }

    /// What was injected so far.
    pub fn stats(&self) -> FaultStats {
        let c = &self.counters;
        FaultStats {
            txs: c.txs.load(Ordering::SeqCst),
            failed: c.failed.load(Ordering::SeqCst),
            timed_out: c.timed_out.load(Ordering::SeqCst),
            dropped_after_commit: c.dropped.load(Ordering::SeqCst),
            queries: c.queries.load(Ordering::SeqCst),
            queries_failed: c.queries_failed.load(Ordering::SeqCst),
        }
    }

    fn roll(&self) -> f64 {
        self.rng
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .gen::<f64>()
    }

    fn tx_fault(&self) -> TxFault {
        self.counters.txs.fetch_add(1, Ordering::SeqCst);
        if !self.enabled.load(Ordering::SeqCst) {
            return TxFault::None;
        }
        let x = self.roll();
        let p = &self.plan;
        if x < p.fail {
            TxFault::Fail
        } else if x < p.fail + p.timeout {
            TxFault::Timeout
        } else if x < p.fail + p.timeout + p.drop_after_commit {
            TxFault::DropAfterCommit
        } else {
            TxFault::None
        }
    }

    fn transport(&self, what: &str) -> ChainError {
        ChainError::Transport {
            chain_id: self.inner.chain_id(),
            message: format!("injected fault: connection reset during {what}"),
        }
    }

    fn timeout_err(&self, what: &str) -> ChainError {
        if !self.plan.timeout_delay.is_zero() {
            std::thread::sleep(self.plan.timeout_delay);
        }
        ChainError::Timeout {
            what: format!("{what} (injected fault)"),
            seconds: self.plan.timeout_delay.as_secs(),
        }
    }

    /// Runs a tx through the fault plan.
    fn tx<T>(
        &self,
        what: &str,
        f: impl FnOnce() -> Result<T, ChainError>,
    ) -> Result<T, ChainError> {
        match self.tx_fault() {
            TxFault::None => f(),
            TxFault::Fail => {
                self.counters.failed.fetch_add(1, Ordering::SeqCst);
                Err(self.transport(what))
            }
            TxFault::Timeout => {
                self.counters.timed_out.fetch_add(1, Ordering::SeqCst);
                Err(self.timeout_err(what))
            }
            TxFault::DropAfterCommit => {
                // the inner chain executes (and commits, if it succeeds); the answer is lost
                let landed = f();
                if landed.is_ok() {
                    self.counters.dropped.fetch_add(1, Ordering::SeqCst);
                    Err(self.timeout_err(what))
                } else {
                    landed
                }
            }
        }
    }

    /// Runs a query through the fault plan.
    fn query<T>(
        &self,
        what: &str,
        f: impl FnOnce() -> Result<T, ChainError>,
    ) -> Result<T, ChainError> {
        self.counters.queries.fetch_add(1, Ordering::SeqCst);
        if self.enabled.load(Ordering::SeqCst) && self.roll() < self.plan.query_fail {
            self.counters.queries_failed.fetch_add(1, Ordering::SeqCst);
            return Err(self.transport(what));
        }
        f()
    }
}

impl ChainBackend for FaultyChain {
    fn chain_id(&self) -> String {
        self.inner.chain_id()
    }
    fn deployment(&self) -> Deployment {
        self.inner.deployment()
    }
    fn status(&self) -> Result<ChainStatus, ChainError> {
        self.query("status", || self.inner.status())
    }
    fn prepare_submit(
        &self,
        receipts: &[SignedReceipt],
        heartbeats: &[Heartbeat],
    ) -> Result<PreparedTx, ChainError> {
        self.inner.prepare_submit(receipts, heartbeats)
    }
    fn submit_receipts(
        &self,
        receipts: &[SignedReceipt],
        heartbeats: &[Heartbeat],
    ) -> Result<SubmitOutcome, ChainError> {
        self.tx("SubmitReceipts", || {
            self.inner.submit_receipts(receipts, heartbeats)
        })
    }
    fn finalize_epoch(&self, epoch: u64) -> Result<TxOutcome, ChainError> {
        self.tx("FinalizeEpoch", || self.inner.finalize_epoch(epoch))
    }
    fn registry_view(
        &self,
        node_ids: &[String],
        model_ids: &[String],
    ) -> Result<NodesByIdsResponse, ChainError> {
        self.query("NodesByIds", || {
            self.inner.registry_view(node_ids, model_ids)
        })
    }
    fn verifier_config(&self) -> Result<VerifierConfig, ChainError> {
        self.query("verifier Config", || self.inner.verifier_config())
    }
    fn receipt_status(
        &self,
        payer: &str,
        nonce: &str,
    ) -> Result<ReceiptStatusResponse, ChainError> {
        self.query("ReceiptStatus", || self.inner.receipt_status(payer, nonce))
    }
    fn epoch_report(&self, epoch: u64) -> Result<EpochReport, ChainError> {
        self.query("EpochReport", || self.inner.epoch_report(epoch))
    }
    fn pool_config(&self) -> Result<PoolConfig, ChainError> {
        self.query("pool Config", || self.inner.pool_config())
    }
    fn query_json(
        &self,
        contract: ContractRole,
        msg: &serde_json::Value,
    ) -> Result<serde_json::Value, ChainError> {
        self.query("smart query", || self.inner.query_json(contract, msg))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::embedded::EmbeddedChain;
    use crate::genesis::GenesisConfig;

    fn chain(plan: FaultPlan) -> (Arc<EmbeddedChain>, FaultyChain) {
        let mut g = GenesisConfig::dev("faulty-unit");
        g.genesis_time = Some(1_700_000_000);
        let inner = Arc::new(EmbeddedChain::in_memory(&g).unwrap());
        let f = FaultyChain::new(inner.clone(), plan);
        (inner, f)
    }

    #[test]
    fn no_faults_is_transparent() {
        let (inner, f) = chain(FaultPlan::none(1));
        assert_eq!(f.status().unwrap(), inner.status().unwrap());
        assert_eq!(f.deployment(), inner.deployment());
        assert_eq!(f.stats().queries, 1);
        assert_eq!(f.stats().queries_failed, 0);
    }

    #[test]
    fn same_seed_same_faults_and_rates_roughly_hold() {
        let run = |seed| {
            let (_, f) = chain(FaultPlan::uniform(seed, 0.25));
            (0..400).map(|_| f.status().is_ok()).collect::<Vec<bool>>()
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
        let fails = run(7).iter().filter(|ok| !**ok).count();
        // p = 0.125 for queries: 50 expected of 400
        assert!((20..90).contains(&fails), "{fails}");
    }

    #[test]
    fn drop_after_commit_commits_then_reports_timeout() {
        let mut plan = FaultPlan::none(3);
        plan.drop_after_commit = 1.0;
        let (inner, f) = chain(plan);
        inner.set_time(1_700_000_000 + 3600 + 600).unwrap();
        let e = f.finalize_epoch(0).unwrap_err();
        assert!(e.is_retryable(), "{e}");
        // it landed: epoch 0 is finalized on the inner chain
        assert_eq!(inner.pool_config().unwrap().next_to_finalize, 1);
        assert_eq!(f.stats().dropped_after_commit, 1);
        // a refused tx is not "dropped": the contract's error comes through
        let e = f.finalize_epoch(5).unwrap_err();
        assert!(matches!(e, ChainError::Contract { .. }), "{e}");
        assert_eq!(f.stats().dropped_after_commit, 1);
        f.set_enabled(false);
        assert!(f.finalize_epoch(1).is_err()); // epoch 1 not finalizable yet: contract error
    }

    #[test]
    fn fail_and_timeout_do_not_land() {
        let mut plan = FaultPlan::none(4);
        plan.fail = 0.5;
        plan.timeout = 0.5;
        let (inner, f) = chain(plan);
        inner.set_time(1_700_000_000 + 3600 + 600).unwrap();
        for _ in 0..5 {
            assert!(f.finalize_epoch(0).unwrap_err().is_retryable());
        }
        assert_eq!(inner.pool_config().unwrap().next_to_finalize, 0);
        let s = f.stats();
        assert_eq!(s.failed + s.timed_out, 5);
        assert!(s.failed > 0 && s.timed_out > 0, "{s:?}");
    }
}
