//! The keeper stops between broadcast and recording: the chain committed the batch but the keeper
//! never learned the outcome (or it stopped before the broadcast). After a restart on the same
//! store, reconciliation by nonce status leaves nothing lost and nothing counted twice.
mod common;

use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};

use common::*;
use opg_core::msg::pool::{ConfigResponse as PoolConfig, EpochReport};
use opg_core::msg::registry::NodesByIdsResponse;
use opg_core::msg::verifier::{ConfigResponse as VerifierConfig, ReceiptStatusResponse};
use opg_core::receipt::{Heartbeat, SignedReceipt};
use opg_keeper::chain::embedded::EmbeddedChain;
use opg_keeper::chain::{
    ChainBackend, ChainError, ChainStatus, ContractRole, Deployment, SubmitOutcome, TxOutcome,
};
use opg_keeper::config::KeeperConfig;
use opg_keeper::service::Keeper;
use opg_keeper::store::{Durability, ReceiptKey, ReceiptState, Store};

const NORMAL: u8 = 0;
/// Broadcast, commit, then "lose" the response (the keeper dies before recording).
const LOSE_RESPONSE: u8 = 1;
/// Die after the broadcast while the tx waits in a mempool: it lands when the test says so
/// ([`Flaky::land`]), or never once the height passes [`Flaky::expiry`] (a cosmos tx's timeout
/// height).
const PENDING: u8 = 3;
/// Die before the broadcast (the batch is written down but never sent).
const FAIL_BEFORE: u8 = 2;

/// A chain wrapper that can lose the outcome of `SubmitReceipts`.
struct Flaky {
    inner: Arc<EmbeddedChain>,
    mode: AtomicU8,
    /// The timeout height of the txs (`PENDING`), 0 for none.
    expiry: AtomicU64,
    /// The pending tx (`PENDING`).
    held: Mutex<Option<Vec<SignedReceipt>>>,
}

impl Flaky {
    fn new(inner: &Arc<EmbeddedChain>, mode: u8) -> Self {
        Flaky {
            inner: inner.clone(),
            mode: AtomicU8::new(mode),
            expiry: AtomicU64::new(0),
            held: Mutex::new(None),
        }
    }

    /// The pending tx lands.
    fn land(&self) {
        let r = self.held.lock().unwrap().take().unwrap();
        self.inner.submit_receipts(&r, &[]).unwrap();
    }
}

impl ChainBackend for Flaky {
    fn chain_id(&self) -> String {
        self.inner.chain_id()
    }
    fn deployment(&self) -> Deployment {
        self.inner.deployment()
    }
    fn status(&self) -> Result<ChainStatus, ChainError> {
        self.inner.status()
    }
    fn submit_receipts(
        &self,
        r: &[SignedReceipt],
        h: &[Heartbeat],
    ) -> Result<SubmitOutcome, ChainError> {
        match self.mode.load(Ordering::SeqCst) {
            LOSE_RESPONSE => {
                self.inner.submit_receipts(r, h)?;
                Err(ChainError::Timeout {
                    what: "tx inclusion".into(),
                    seconds: 30,
                })
            }
            PENDING => {
                *self.held.lock().unwrap() = Some(r.to_vec());
                Err(ChainError::Timeout {
                    what: "tx inclusion".into(),
                    seconds: 30,
                })
            }
            FAIL_BEFORE => Err(ChainError::Transport {
                chain_id: self.chain_id(),
                message: "connection reset".into(),
            }),
            _ => self.inner.submit_receipts(r, h),
        }
    }
    fn tx_expiry_height(&self, _tx: &[u8]) -> Option<u64> {
        Some(self.expiry.load(Ordering::SeqCst)).filter(|h| *h > 0)
    }
    fn finalize_epoch(&self, epoch: u64) -> Result<TxOutcome, ChainError> {
        self.inner.finalize_epoch(epoch)
    }
    fn registry_view(&self, n: &[String], m: &[String]) -> Result<NodesByIdsResponse, ChainError> {
        self.inner.registry_view(n, m)
    }
    fn verifier_config(&self) -> Result<VerifierConfig, ChainError> {
        self.inner.verifier_config()
    }
    fn receipt_status(&self, p: &str, n: &str) -> Result<ReceiptStatusResponse, ChainError> {
        self.inner.receipt_status(p, n)
    }
    fn epoch_report(&self, e: u64) -> Result<EpochReport, ChainError> {
        self.inner.epoch_report(e)
    }
    fn pool_config(&self) -> Result<PoolConfig, ChainError> {
        self.inner.pool_config()
    }
    fn query_json(
        &self,
        c: ContractRole,
        m: &serde_json::Value,
    ) -> Result<serde_json::Value, ChainError> {
        self.inner.query_json(c, m)
    }
}

fn cfg(g: &opg_keeper::genesis::GenesisConfig) -> KeeperConfig {
    KeeperConfig {
        genesis: Some(g.clone()),
        ..Default::default()
    }
}

#[test]
fn lost_response_then_restart_counts_each_receipt_once() {
    let g = genesis();
    let inner = Arc::new(EmbeddedChain::in_memory(&g).unwrap());
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("keeper.db");
    inner.set_time(T0 + 100).unwrap();
    let traffic = epoch0_traffic(inner.as_ref(), &g);
    let keys: Vec<ReceiptKey>;
    {
        let chain = Arc::new(Flaky::new(&inner, LOSE_RESPONSE));
        let keeper =
            Keeper::new(cfg(&g), Store::open(&db, Durability::Full).unwrap(), chain).unwrap();
        let res = keeper.ingest(traffic.clone()).unwrap();
        keys = res
            .iter()
            .map(|r| ReceiptKey::new(r.payer.as_ref().unwrap(), r.nonce.as_ref().unwrap()))
            .collect();
        let err = keeper.submit_pending(T0 + 100).unwrap_err();
        assert!(err.to_string().contains("timed out"), "{err}");
        // the chain counted them, the keeper only knows they were submitted
        assert!(matches!(
            keeper.store().get_receipt(&keys[0]).unwrap().unwrap().state,
            ReceiptState::Submitted { .. }
        ));
        assert_eq!(inner.epoch_report(0).unwrap().commercial.calls, 3);
        // keeper "dies" here
    }
    // restart on the same store; the chain now answers normally
    let chain = Arc::new(Flaky::new(&inner, NORMAL));
    let keeper = Keeper::new(cfg(&g), Store::open(&db, Durability::Full).unwrap(), chain).unwrap();
    let rec = keeper.reconcile().unwrap();
    assert_eq!(
        (rec.batches, rec.accepted, rec.requeued, rec.unknown),
        (1, 4, 0, 0)
    );
    for k in &keys {
        assert!(matches!(
            keeper.store().get_receipt(k).unwrap().unwrap().state,
            ReceiptState::Accepted { .. }
        ));
    }
    // nothing is resubmitted, and re-posting them is a duplicate, not a new receipt
    let again = keeper.submit_pending(T0 + 200).unwrap();
    assert_eq!(again.submitted, 0);
    let dup = keeper.ingest(traffic).unwrap();
    assert!(dup.iter().all(|r| r.state.as_deref() == Some("accepted")));
    assert_eq!(keeper.submit_pending(T0 + 200).unwrap().submitted, 0);
    let report = inner.epoch_report(0).unwrap();
    assert_eq!(report.commercial.calls, 3);
    assert_eq!(report.community.calls, 1);
    assert_eq!(keeper.store().counts(Some(0)).unwrap().accepted, 4);
}

/// Killed while its tx waits in a mempool: reconciliation leaves the batch alone while the tx
/// may still land (not consumed, height <= its timeout height); once it lands every receipt is
/// accepted, not put back to pending and then refused as a replay. A tx that can no longer land
/// (height past its timeout) puts its receipts back to pending.
#[test]
fn a_tx_that_may_still_land_is_waited_for() {
    let g = genesis();
    let inner = Arc::new(EmbeddedChain::in_memory(&g).unwrap());
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("keeper.db");
    inner.set_time(T0 + 100).unwrap();
    let traffic = epoch0_traffic(inner.as_ref(), &g);
    let chain = Arc::new(Flaky::new(&inner, PENDING));
    let expiry = inner.status().unwrap().height + 2;
    chain.expiry.store(expiry, Ordering::SeqCst);
    {
        let keeper = Keeper::new(
            cfg(&g),
            Store::open(&db, Durability::Full).unwrap(),
            chain.clone(),
        )
        .unwrap();
        keeper.ingest(traffic.clone()).unwrap();
        assert!(keeper.submit_pending(T0 + 100).is_err());
        // keeper "dies" here, its tx in the mempool
    }
    chain.mode.store(NORMAL, Ordering::SeqCst);
    let keeper = Keeper::new(
        cfg(&g),
        Store::open(&db, Durability::Full).unwrap(),
        chain.clone(),
    )
    .unwrap();
    let rec = keeper.reconcile().unwrap();
    assert_eq!(
        (rec.batches, rec.waiting, rec.requeued),
        (1, 1, 0),
        "{rec:?}"
    );
    // nothing is resubmitted meanwhile
    assert_eq!(keeper.submit_pending(T0 + 110).unwrap().submitted, 0);
    assert_eq!(keeper.store().unrecorded_batches().unwrap().len(), 1);
    chain.land();
    let rec = keeper.reconcile().unwrap();
    assert_eq!(
        (rec.accepted, rec.waiting, rec.requeued),
        (4, 0, 0),
        "{rec:?}"
    );
    assert_eq!(keeper.store().counts(Some(0)).unwrap().accepted, 4);
    assert_eq!(inner.epoch_report(0).unwrap().commercial.calls, 3);

    // a second keeper home: its tx never lands; past the timeout height it is requeued
    let db2 = dir.path().join("keeper2.db");
    let chain2 = Arc::new(Flaky::new(&inner, PENDING));
    chain2
        .expiry
        .store(inner.status().unwrap().height, Ordering::SeqCst);
    let late = vec![receipt(
        inner.as_ref(),
        &g,
        5,
        0,
        "proxy-1",
        GPT,
        1_000_000,
        T0 + 50,
    )];
    {
        let keeper = Keeper::new(
            cfg(&g),
            Store::open(&db2, Durability::Full).unwrap(),
            chain2.clone(),
        )
        .unwrap();
        keeper.ingest(late).unwrap();
        assert!(keeper.submit_pending(T0 + 100).is_err());
    }
    chain2.mode.store(NORMAL, Ordering::SeqCst);
    let keeper = Keeper::new(
        cfg(&g),
        Store::open(&db2, Durability::Full).unwrap(),
        chain2.clone(),
    )
    .unwrap();
    assert_eq!(keeper.reconcile().unwrap().waiting, 1);
    // a block goes by (every embedded tx is a block, a failed one too): the tx can no longer land
    assert!(inner.finalize_epoch(0).is_err());
    let rec = keeper.reconcile().unwrap();
    assert_eq!((rec.waiting, rec.requeued), (0, 1), "{rec:?}");
    let rep = keeper.submit_pending(T0 + 110).unwrap();
    assert_eq!((rep.submitted, rep.accepted), (1, 1), "{rep:?}");
}

#[test]
fn stop_before_broadcast_resubmits_after_reconcile() {
    let g = genesis();
    let inner = Arc::new(EmbeddedChain::in_memory(&g).unwrap());
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("keeper.db");
    inner.set_time(T0 + 100).unwrap();
    let traffic = epoch0_traffic(inner.as_ref(), &g);
    {
        let chain = Arc::new(Flaky::new(&inner, FAIL_BEFORE));
        let keeper =
            Keeper::new(cfg(&g), Store::open(&db, Durability::Full).unwrap(), chain).unwrap();
        keeper.ingest(traffic).unwrap();
        assert!(keeper.submit_pending(T0 + 100).is_err());
        assert_eq!(keeper.store().unrecorded_batches().unwrap().len(), 1);
        assert_eq!(inner.epoch_report(0).unwrap().commercial.calls, 0);
    }
    let chain = Arc::new(Flaky::new(&inner, NORMAL));
    let keeper = Keeper::new(cfg(&g), Store::open(&db, Durability::Full).unwrap(), chain).unwrap();
    // submit_pending reconciles first by itself: nonces not consumed -> pending -> submitted
    let rep = keeper.submit_pending(T0 + 200).unwrap();
    assert_eq!((rep.submitted, rep.accepted, rep.rejected), (4, 4, 0));
    assert!(keeper.store().unrecorded_batches().unwrap().is_empty());
    let report = inner.epoch_report(0).unwrap();
    assert_eq!(report.commercial.calls, 3);
    assert_eq!(report.community.calls, 1);
    // finalization waits for the grace period, then goes in order
    assert!(keeper.finalize_ready(T0 + 3700).unwrap().is_empty());
    inner.set_time(T0 + 2 * 3600 + 600).unwrap();
    assert_eq!(
        keeper.finalize_ready(T0 + 2 * 3600 + 600).unwrap(),
        vec![0, 1]
    );
}

#[test]
fn receipts_of_a_closed_epoch_expire_instead_of_being_submitted() {
    let g = genesis();
    let inner = Arc::new(EmbeddedChain::in_memory(&g).unwrap());
    inner.set_time(T0 + 100).unwrap();
    let keeper = Keeper::new(
        cfg(&g),
        Store::in_memory().unwrap(),
        inner.clone() as Arc<dyn ChainBackend>,
    )
    .unwrap();
    keeper.ingest(epoch0_traffic(inner.as_ref(), &g)).unwrap();
    inner.set_time(T0 + 4200).unwrap();
    // issue 17: acknowledged receipts that expire are an error, counted and logged as such
    let log = LogBuffer::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer({
            let log = log.clone();
            move || log.clone()
        })
        .with_ansi(false)
        .finish();
    let rep =
        tracing::subscriber::with_default(subscriber, || keeper.submit_pending(T0 + 4200).unwrap());
    assert_eq!((rep.submitted, rep.expired), (0, 4));
    assert_eq!(keeper.store().counts(Some(0)).unwrap().rejected, 4);
    assert_eq!(keeper.metrics().expired.load(Ordering::Relaxed), 4);
    assert!(keeper
        .metrics()
        .render()
        .contains("opg_receipts_expired_total 4\n"));
    let text = log.text();
    assert!(
        text.lines().any(
            |l| l.contains("ERROR") && l.contains("4 acknowledged receipts of epoch 0 expired")
        ),
        "{text}"
    );
    assert_eq!(keeper.finalize_ready(T0 + 4200).unwrap(), vec![0]);
}

/// Collects what a test's tracing subscriber writes.
#[derive(Clone, Default)]
struct LogBuffer(Arc<std::sync::Mutex<Vec<u8>>>);

impl LogBuffer {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl std::io::Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
