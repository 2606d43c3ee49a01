//! Fault injection (issue 6): the keeper pipeline ([`Keeper`]) over [`FaultyChain`] around the
//! embedded chain, where transactions fail, time out, or land with their answer dropped, and
//! queries fail. The keeper is driven as its background loop drives it (a `tick` per round, a
//! failed round retried at the next one); at the end every acknowledged receipt is accepted
//! exactly once on chain and counted exactly once by the pool.
mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use common::*;
use opg_keeper::chain::embedded::EmbeddedChain;
use opg_keeper::chain::faulty::{FaultPlan, FaultyChain};
use opg_keeper::chain::ChainBackend;
use opg_keeper::config::KeeperConfig;
use opg_keeper::genesis::GenesisConfig;
use opg_keeper::loadgen::{ReceiptFactory, Target};
use opg_keeper::service::{IngestStatus, Keeper};
use opg_keeper::store::{Durability, ReceiptKey, ReceiptState, Store};

fn cfg(g: &GenesisConfig, max_batch: usize) -> KeeperConfig {
    let mut c = KeeperConfig {
        genesis: Some(g.clone()),
        ..Default::default()
    };
    c.batcher.max_batch = max_batch;
    c
}

fn factory(g: &GenesisConfig, chain: &EmbeddedChain, tag: &str) -> ReceiptFactory {
    let target = Target {
        genesis: g.clone(),
        chain_id: chain.chain_id(),
        verifier: chain.deployment().verifier,
    };
    ReceiptFactory::new(&target, 37, tag).unwrap()
}

/// Ingests `receipts` through `keeper`, retrying whole calls that failed on an injected query
/// fault (an ingest error stores nothing; a retry answers `duplicate` for anything stored).
fn ingest_all(
    keeper: &Keeper,
    receipts: Vec<opg_core::receipt::SignedReceipt>,
) -> (Vec<(ReceiptKey, u64)>, u32) {
    let mut failures = 0;
    for _ in 0..200 {
        match keeper.ingest(receipts.clone()) {
            Ok(res) => {
                return (
                    res.iter()
                        .map(|r| {
                            assert_ne!(r.status, IngestStatus::Rejected, "{r:?}");
                            (
                                ReceiptKey::new(
                                    r.payer.as_ref().unwrap(),
                                    r.nonce.as_ref().unwrap(),
                                ),
                                r.epoch.unwrap(),
                            )
                        })
                        .collect(),
                    failures,
                )
            }
            Err(e) => {
                assert!(e.to_string().contains("injected fault"), "{e}");
                failures += 1;
            }
        }
    }
    panic!("ingest kept failing");
}

/// Rounds until `done` holds; every round error must be an injected fault.
fn tick_until(keeper: &Keeper, mut done: impl FnMut() -> bool) -> (u32, u32) {
    let (mut rounds, mut failed) = (0, 0);
    while !done() {
        rounds += 1;
        assert!(rounds < 2000, "no progress after 2000 rounds");
        if let Err(e) = keeper.tick() {
            assert!(e.to_string().contains("injected fault"), "{e}");
            failed += 1;
        }
    }
    (rounds, failed)
}

/// Runs the whole scenario for one seed: 2 epochs of traffic, heavy faults, settle, finalize,
/// compare the pool's reports with the acknowledged set.
fn run_seed(seed: u64, p: f64) {
    let g = genesis();
    let inner = Arc::new(EmbeddedChain::in_memory(&g).unwrap());
    let faulty = Arc::new(FaultyChain::new(inner.clone(), FaultPlan::uniform(seed, p)));
    let f = factory(&g, &inner, &format!("faults-{seed}"));
    let keeper = Keeper::new(
        cfg(&g, 7),
        Store::in_memory().unwrap(),
        faulty.clone() as Arc<dyn ChainBackend>,
    )
    .unwrap_or_else(|_| {
        // the constructor's config query may itself hit a fault: build once more without
        faulty.set_enabled(false);
        let k = Keeper::new(
            cfg(&g, 7),
            Store::in_memory().unwrap(),
            faulty.clone() as Arc<dyn ChainBackend>,
        )
        .unwrap();
        faulty.set_enabled(true);
        k
    });

    // epoch 0: 60 receipts; submit some of them under faults while time is still in epoch 0
    let mut acked: Vec<(ReceiptKey, u64)> = Vec::new();
    inner.set_time(T0 + 1000).unwrap();
    let e0: Vec<_> = (0..60).map(|i| f.receipt(i, T0 + 500 + i)).collect();
    acked.extend(ingest_all(&keeper, e0[..30].to_vec()).0);
    for _ in 0..5 {
        let _ = keeper.tick();
    }
    acked.extend(ingest_all(&keeper, e0[30..].to_vec()).0);
    // a client retries receipts it already sent: duplicates, not new receipts
    let (dups, _) = ingest_all(&keeper, e0[..10].to_vec());
    assert_eq!(dups, acked[..10].to_vec());

    // epoch 1 (epoch 0 in its grace period): 45 more
    inner.set_time(T0 + 3600 + 100).unwrap();
    let e1: Vec<_> = (60..105)
        .map(|i| f.receipt(i, T0 + 3600 + i - 60))
        .collect();
    acked.extend(ingest_all(&keeper, e1).0);
    let (_, failed_rounds) = tick_until(&keeper, || {
        let c = keeper.store().counts(None).unwrap();
        c.pending == 0 && c.submitted == 0
    });

    // let both epochs close and be finalized, still under faults
    inner.set_time(T0 + 2 * 3600 + 600).unwrap();
    let (_, failed_final) = tick_until(&keeper, || {
        inner.pool_config().unwrap().next_to_finalize >= 2
    });

    let stats = faulty.stats();
    assert!(
        stats.failed > 0 && stats.timed_out > 0 && stats.dropped_after_commit > 0,
        "seed {seed}: every fault kind must have happened: {stats:?}"
    );
    assert!(stats.queries_failed > 0, "{stats:?}");
    assert!(failed_rounds + failed_final > 0);

    // nothing lost, nothing doubled
    assert_eq!(acked.len(), 105);
    let mut per_epoch: BTreeMap<u64, (u64, u128)> = BTreeMap::new();
    for (key, epoch) in &acked {
        let r = keeper.store().get_receipt(key).unwrap().expect("stored");
        assert!(
            matches!(r.state, ReceiptState::Accepted { .. }),
            "seed {seed}: {key:?} is {:?}",
            r.state
        );
        assert!(
            inner
                .receipt_status(&key.payer, &key.nonce)
                .unwrap()
                .consumed
        );
        let e = per_epoch.entry(*epoch).or_default();
        e.0 += 1;
        e.1 += r.value_micro_usd;
    }
    let counts = keeper.store().counts(None).unwrap();
    assert_eq!(counts.accepted, 105, "{counts:?}");
    for (epoch, (calls, value)) in per_epoch {
        let rep = inner.epoch_report(epoch).unwrap();
        assert!(rep.finalized);
        assert_eq!(
            rep.commercial.calls + rep.community.calls,
            calls,
            "seed {seed} epoch {epoch}: pool calls vs acknowledged receipts"
        );
        assert_eq!(
            (rep.commercial.raw_value + rep.community.raw_value).u128(),
            value,
            "seed {seed} epoch {epoch}: pool raw value vs acknowledged receipts"
        );
    }
}

#[test]
fn heavy_faults_lose_nothing_and_double_nothing() {
    for seed in [1, 2, 3] {
        run_seed(seed, 0.15);
    }
}

/// A dropped `FinalizeEpoch` answer: the epoch was finalized on chain; the keeper's next round
/// starts from the pool's `next_to_finalize`, so it neither fails forever nor finalizes twice,
/// and it writes the epoch down as finalized on chain without a tx of its own ("observed"), so
/// `GET /v1/epochs/0` shows `finalize_observed: true`, not `finalized_by_keeper`.
#[test]
fn dropped_finalize_answer_is_recognised() {
    let g = genesis();
    let inner = Arc::new(EmbeddedChain::in_memory(&g).unwrap());
    let mut plan = FaultPlan::none(9);
    plan.drop_after_commit = 1.0;
    let faulty = Arc::new(FaultyChain::new(inner.clone(), plan));
    let keeper = Keeper::new(
        cfg(&g, 100),
        Store::in_memory().unwrap(),
        faulty.clone() as Arc<dyn ChainBackend>,
    )
    .unwrap();
    inner.set_time(T0 + 100).unwrap();
    let f = factory(&g, &inner, "drop-finalize");
    faulty.set_enabled(false);
    ingest_all(&keeper, (0..5).map(|i| f.receipt(i, T0 + 50)).collect());
    assert_eq!(keeper.submit_pending(T0 + 100).unwrap().accepted, 5);
    faulty.set_enabled(true);
    inner.set_time(T0 + 4200).unwrap();
    let err = keeper.finalize_ready(T0 + 4200).unwrap_err();
    assert!(err.to_string().contains("injected fault"), "{err}");
    assert_eq!(inner.pool_config().unwrap().next_to_finalize, 1);
    assert!(keeper.store().finalized(0).unwrap().is_none());
    // next round: the pool already finalized epoch 0; the keeper records it as observed (no tx
    // hash: the answer that carried it was lost) and does not finalize it again
    faulty.set_enabled(false);
    let done = keeper.finalize_ready(T0 + 4200).unwrap();
    assert!(done.is_empty(), "{done:?}");
    assert_eq!(inner.pool_config().unwrap().next_to_finalize, 1);
    assert_eq!(keeper.store().finalized(0).unwrap(), Some(None));
    let view = opg_keeper::ingest::keeper_epoch_view(
        &keeper.store().counts(Some(0)).unwrap(),
        keeper.store().finalized(0).unwrap(),
        inner.pool_config().unwrap().next_to_finalize > 0,
    );
    assert!(view.finalized);
    assert!(!view.finalized_by_keeper);
    assert!(view.finalize_observed);
    assert_eq!(view.receipts.accepted, 5);
    let rep = inner.epoch_report(0).unwrap();
    assert_eq!(rep.commercial.calls + rep.community.calls, 5);
}

/// A dropped `SubmitReceipts` answer followed by a keeper restart on the same store: the new
/// keeper reconciles by nonce status and never resubmits what landed.
#[test]
fn dropped_submit_answer_then_restart_reconciles() {
    let g = genesis();
    let inner = Arc::new(EmbeddedChain::in_memory(&g).unwrap());
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("keeper.db");
    inner.set_time(T0 + 100).unwrap();
    let f = factory(&g, &inner, "drop-submit");
    let keys;
    {
        let mut plan = FaultPlan::none(11);
        plan.drop_after_commit = 1.0;
        let faulty = Arc::new(FaultyChain::new(inner.clone(), plan));
        let keeper = Keeper::new(
            cfg(&g, 4),
            Store::open(&db, Durability::Full).unwrap(),
            faulty.clone() as Arc<dyn ChainBackend>,
        )
        .unwrap();
        keys = ingest_all(&keeper, (0..10).map(|i| f.receipt(i, T0 + 60)).collect()).0;
        let err = keeper.submit_pending(T0 + 100).unwrap_err();
        assert!(err.to_string().contains("injected fault"), "{err}");
        assert_eq!(faulty.stats().dropped_after_commit, 1);
        assert_eq!(keeper.store().counts(None).unwrap().submitted, 4);
    }
    let keeper = Keeper::new(
        cfg(&g, 4),
        Store::open(&db, Durability::Full).unwrap(),
        inner.clone() as Arc<dyn ChainBackend>,
    )
    .unwrap();
    let rec = keeper.reconcile().unwrap();
    assert_eq!((rec.batches, rec.accepted, rec.requeued), (1, 4, 0));
    let b = keeper.submit_pending(T0 + 100).unwrap();
    assert_eq!((b.submitted, b.accepted, b.rejected), (6, 6, 0));
    for (k, _) in &keys {
        assert!(matches!(
            keeper.store().get_receipt(k).unwrap().unwrap().state,
            ReceiptState::Accepted { .. }
        ));
    }
    assert_eq!(inner.epoch_report(0).unwrap().commercial.calls, 5);
    assert_eq!(inner.epoch_report(0).unwrap().community.calls, 5);
}
