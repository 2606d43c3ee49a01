//! Load (issue 6), sized for CI: 2,000 receipts at concurrency 64 through HTTP on loopback into a
//! keeper whose bounds are deliberately tight (8 requests at once, 300 requests/s, burst 50), so
//! overload really happens. Every overload answer must be a 429/503 with `Retry-After` (never a
//! silent drop); the client retries after it; in the end every valid receipt is acknowledged and
//! stored exactly once, and the 10% corrupted ones are refused and not stored.
//!
//! The 100,000-receipt run is `opg loadgen` against `opg keeper run` (see SECURITY.md).
mod common;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use opg_keeper::chain::embedded::EmbeddedChain;
use opg_keeper::chain::ChainBackend;
use opg_keeper::config::KeeperConfig;
use opg_keeper::loadgen::{self, LoadSpec, Target};
use opg_keeper::service::Keeper;
use opg_keeper::store::{ReceiptKey, Store};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_thousand_receipts_at_concurrency_64_lose_nothing_under_overload() {
    let g = genesis();
    let chain = Arc::new(EmbeddedChain::in_memory(&g).unwrap());
    chain.set_time(T0 + 100).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = KeeperConfig {
        genesis: Some(g.clone()),
        ..Default::default()
    };
    cfg.server.max_concurrent_requests = 8;
    cfg.server.requests_per_second = 300;
    cfg.server.burst = 50;
    let keeper = Keeper::new(
        cfg,
        Store::open(&dir.path().join("keeper.db"), Default::default()).unwrap(),
        chain.clone() as Arc<dyn ChainBackend>,
    )
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(opg_keeper::cli::keeper::serve(
        keeper.clone(),
        listener,
        async {
            let _ = stop_rx.await;
        },
        false,
    ));

    let target = Target {
        genesis: g.clone(),
        chain_id: chain.chain_id(),
        verifier: chain.deployment().verifier,
    };
    let mut spec = LoadSpec::new(base);
    spec.count = 2000;
    spec.concurrency = 64;
    spec.payers = 100;
    spec.invalid_ratio = 0.1;
    spec.retry_for = Duration::from_secs(60);
    let report = loadgen::run(spec, target).await.unwrap();
    print!("{}", report.summary());

    assert_eq!(report.sent, 2000);
    assert_eq!(report.invalid_sent, 200);
    assert_eq!(
        report.invalid_rejected, 200,
        "every corrupted receipt refused"
    );
    assert_eq!(report.invalid_acknowledged, 0);
    assert_eq!(report.failed, 0, "{:?}", report.rejected_reasons);
    assert_eq!(report.acknowledged, 1800);
    assert_eq!(
        report.missing_retry_after, 0,
        "overload without Retry-After"
    );
    assert!(
        report.throttled_429 + report.unavailable_503 > 0,
        "the bounds were never hit; the test would not show anything"
    );
    assert!(report.other_status.is_empty(), "{:?}", report.other_status);

    // stored exactly once: 1800 distinct keys, 1800 rows, every acknowledged key among them
    let keys: BTreeSet<(String, String)> = report
        .acked
        .iter()
        .map(|a| (a.payer.clone(), a.nonce.clone()))
        .collect();
    assert_eq!(keys.len(), 1800);
    let c = keeper.store().counts(None).unwrap();
    assert_eq!(
        c.pending + c.submitted + c.accepted + c.rejected,
        1800,
        "{c:?}"
    );
    for (p, n) in &keys {
        assert!(keeper
            .store()
            .get_receipt(&ReceiptKey::new(p, n))
            .unwrap()
            .is_some());
    }
    stop_tx.send(()).unwrap();
    server.await.unwrap().unwrap();
}
