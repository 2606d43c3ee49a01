//! End to end: the real HTTP server on 127.0.0.1:0 over the embedded chain; receipts signed with
//! the genesis dev keys go through `POST /v1/receipts`, the batcher, `FinalizeEpoch` and the
//! operators' `Claim`s; the payouts are checked against hand-computed numbers.
mod common;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::*;
use cosmwasm_std::Uint128;
use opg_keeper::chain::embedded::EmbeddedChain;
use opg_keeper::chain::{ChainBackend, ContractRole};
use opg_keeper::config::KeeperConfig;
use opg_keeper::genesis::DevKeys;
use opg_keeper::service::Keeper;
use opg_keeper::store::Store;
use serde_json::{json, Value};
use tower::ServiceExt as _;

fn config(g: &opg_keeper::genesis::GenesisConfig) -> KeeperConfig {
    KeeperConfig {
        genesis: Some(g.clone()),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_ingest_to_claims_pays_the_formula() {
    let g = genesis();
    let chain = Arc::new(EmbeddedChain::in_memory(&g).unwrap());
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("keeper.db"), Default::default()).unwrap();
    let keeper = Keeper::new(config(&g), store, chain.clone() as Arc<dyn ChainBackend>).unwrap();

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(opg_keeper::cli::keeper::serve(
        keeper.clone(),
        listener,
        async move {
            let _ = stop_rx.await;
        },
        false,
    ));
    let http = reqwest::Client::new();

    chain.set_time(T0 + 100).unwrap();
    let traffic = epoch0_traffic(chain.as_ref(), &g);

    // a batch of four: all stored
    let r = http
        .post(format!("{base}/v1/receipts"))
        .json(&traffic)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let body: Value = r.json().await.unwrap();
    let results = body["results"].as_array().unwrap();
    assert_eq!(results.len(), 4);
    assert!(
        results
            .iter()
            .all(|x| x["status"] == "stored" && x["epoch"] == 0),
        "{body}"
    );
    let payer = results[0]["payer"].as_str().unwrap().to_string();
    let nonce = results[0]["nonce"].as_str().unwrap().to_string();

    // the same receipt again, alone (single object): a duplicate, still 202
    let r = http
        .post(format!("{base}/v1/receipts"))
        .json(&traffic[0])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["results"][0]["status"], "duplicate");
    assert_eq!(body["results"][0]["state"], "pending");

    // a receipt claiming another node than the one that signed it: 422 with the reason
    let mut forged = receipt(chain.as_ref(), &g, 9, 0, "proxy-1", GPT, 1_000_000, T0 + 50);
    forged.node_signature = traffic[3].node_signature.clone();
    let r = http
        .post(format!("{base}/v1/receipts"))
        .json(&forged)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["results"][0]["reason"], "invalid_node_signature");

    // malformed: 400 naming the field
    let mut bad = serde_json::to_value(&traffic[1]).unwrap();
    bad["receipt"]["served_at"] = json!("soon");
    let r = http
        .post(format!("{base}/v1/receipts"))
        .json(&json!([traffic[2], bad]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .starts_with("[1].receipt.served_at"),
        "{body}"
    );

    // state of a receipt
    let r = http
        .get(format!("{base}/v1/receipts/{payer}/{nonce}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["state"]["status"], "pending");
    let r = http
        .get(format!("{base}/v1/receipts/{payer}/0x00"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    // epoch 0 is over but inside its grace window: submit
    chain.set_time(T0 + 3700).unwrap();
    let k = keeper.clone();
    let report = tokio::task::spawn_blocking(move || k.submit_pending(T0 + 3700))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            report.batches,
            report.submitted,
            report.accepted,
            report.rejected
        ),
        (1, 4, 4, 0)
    );
    let body: Value = http
        .get(format!("{base}/v1/receipts/{payer}/{nonce}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["state"]["status"], "accepted");

    // grace over: finalize
    chain.set_time(T0 + 4200).unwrap();
    let k = keeper.clone();
    let fin = tokio::task::spawn_blocking(move || k.finalize_ready(T0 + 4200))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(fin, vec![0]);

    // Hand computation, epoch 0: B = min(emission 1e9, pool 1e11) = 1e9 uopg; stipend alpha*B =
    // 2e8 all to local-1 (the only live local node); usage (1-alpha)*B = 8e8 split by m*eff:
    // proxy 0.5 * 3e6 = 1.5e6, local 3 * 5e5 = 1.5e6 (m_community(0) = M = 3 because S(-1) = 0)
    // -> 4e8 each. proxy-1 gets 4e8, local-1 gets 4e8 + 2e8 = 6e8.
    let dev = DevKeys::from_genesis(&g);
    let mut paid = Vec::new();
    for (node, expected) in [("proxy-1", 400_000_000u128), ("local-1", 600_000_000u128)] {
        let op = chain.addr(&dev.node(node).unwrap().operator_label);
        let before = chain.balance(&op, "uopg").unwrap();
        chain
            .execute_as(
                &op,
                ContractRole::Pool,
                &json!({ "claim": { "node_id": node, "limit": null } }),
                &[],
            )
            .unwrap();
        let got = chain.balance(&op, "uopg").unwrap() - before;
        assert_eq!(got, Uint128::new(expected), "{node}");
        paid.push(got);
    }

    // the epoch view: keeper counts + the pool's report
    let body: Value = http
        .get(format!("{base}/v1/epochs/0"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["keeper"]["receipts"]["accepted"], 4);
    assert_eq!(body["keeper"]["finalized_by_keeper"], true);
    assert_eq!(body["keeper"]["finalize_observed"], false);
    assert_eq!(body["pool"]["finalized"], true);
    assert_eq!(body["pool"]["budget"], "1000000000");
    assert_eq!(body["pool"]["commercial"]["calls"], 3);
    assert_eq!(body["pool"]["community"]["calls"], 1);
    assert_eq!(body["pool"]["paid"], (paid[0] + paid[1]).to_string());

    // health and metrics
    let r = http.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let text = http
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // 4 + 1 duplicate + 1 forged; the malformed request never reached verification
    assert!(text.contains("opg_receipts_received_total 6\n"), "{text}");
    assert!(text.contains("opg_receipts_stored_total 4\n"), "{text}");
    assert!(text.contains("opg_receipts_duplicate_total 1\n"), "{text}");
    assert!(
        text.contains("opg_receipts_rejected_total{reason=\"invalid_node_signature\"} 1\n"),
        "{text}"
    );
    assert!(text.contains("opg_receipts_accepted_total 4\n"), "{text}");
    assert!(text.contains("opg_batch_size_count 1\n"), "{text}");

    stop_tx.send(()).unwrap();
    server.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bounds_rate_and_body_size() {
    let g = genesis();
    let chain = Arc::new(EmbeddedChain::in_memory(&g).unwrap());
    let mut cfg = config(&g);
    cfg.server.requests_per_second = 1;
    cfg.server.burst = 2;
    cfg.server.body_limit_bytes = 2048;
    let keeper = Keeper::new(
        cfg,
        Store::in_memory().unwrap(),
        chain as Arc<dyn ChainBackend>,
    )
    .unwrap();
    let app = keeper.router();
    let get = || Request::get("/healthz").body(Body::empty()).unwrap();
    assert_eq!(
        app.clone().oneshot(get()).await.unwrap().status(),
        StatusCode::OK
    );
    // too large a body: 413 (this uses the second token)
    let big = Request::post("/v1/receipts")
        .header("content-type", "application/json")
        .body(Body::from(vec![b' '; 4096]))
        .unwrap();
    assert_eq!(
        app.clone().oneshot(big).await.unwrap().status(),
        StatusCode::PAYLOAD_TOO_LARGE
    );
    // bucket empty: 429 with Retry-After
    let r = app.clone().oneshot(get()).await.unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(opg_keeper::ingest::retry_after(&r).is_some());
}

/// What the keeper submits is what was posted plus the signers' public keys (so the chain
/// verifies each secp256k1 signature instead of recovering it, DESIGN §3 / docs/gas.md), and the
/// chain accepts it.
#[test]
fn stored_receipts_carry_the_signers_keys_and_the_chain_accepts_them() {
    use opg_core::receipt::SignedReceipt;
    use opg_core::sign::signer_keys_of;
    use opg_keeper::store::ReceiptKey;

    let g = genesis();
    let chain = Arc::new(EmbeddedChain::in_memory(&g).unwrap());
    let keeper = Keeper::new(
        config(&g),
        Store::in_memory().unwrap(),
        chain.clone() as Arc<dyn ChainBackend>,
    )
    .unwrap();
    chain.set_time(T0 + 100).unwrap();
    let dev = DevKeys::from_genesis(&g);
    let traffic = epoch0_traffic(chain.as_ref(), &g);
    let results = keeper.ingest(traffic.clone()).unwrap();
    for (posted, (result, payer)) in traffic.iter().zip(results.iter().zip([1u64, 2, 3, 4])) {
        let key = ReceiptKey::new(
            result.payer.as_deref().unwrap(),
            result.nonce.as_deref().unwrap(),
        );
        let stored = keeper.store().get_receipt(&key).unwrap().unwrap();
        let stored: SignedReceipt = serde_json::from_str(&stored.raw).unwrap();
        let node = dev.node(&posted.receipt.node_id).unwrap();
        assert_eq!(
            stored.signer_keys,
            Some(signer_keys_of(
                &dev.payer(payer),
                &node.signer,
                Some(&dev.facilitator)
            ))
        );
        let mut without = stored.clone();
        without.signer_keys = None;
        assert_eq!(&without, posted, "nothing else changed");
    }
    // The proxy node is secp256k1 (a node key attached), the local node ed25519 (none).
    chain.set_time(T0 + 3600 + 100).unwrap();
    let report = keeper.tick().unwrap();
    assert_eq!((report.batches.accepted, report.batches.rejected), (4, 0));
}
