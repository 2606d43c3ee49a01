//! The transparency report (issue 18) over a real pipeline: the embedded chain after the
//! keeper submitted, finalized and one operator claimed the standard epoch-0 traffic. The figures
//! are checked against the hand computation of `e2e.rs`; the keeper's page is fetched through
//! its router.
mod common;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::*;
use cosmwasm_std::Uint128;
use opg_keeper::chain::embedded::EmbeddedChain;
use opg_keeper::chain::{ChainBackend, ContractRole};
use opg_keeper::config::KeeperConfig;
use opg_keeper::genesis::DevKeys;
use opg_keeper::report::{ReportCache, Source};
use opg_keeper::service::Keeper;
use opg_keeper::store::Store;
use serde_json::json;
use tower::ServiceExt as _;

/// A keeper over an in-memory chain that processed epoch 0 (finalized; `proxy-1` claimed).
fn processed() -> (Arc<EmbeddedChain>, Arc<Keeper>) {
    let g = genesis();
    let chain = Arc::new(EmbeddedChain::in_memory(&g).unwrap());
    let keeper = Keeper::new(
        KeeperConfig {
            genesis: Some(g.clone()),
            ..Default::default()
        },
        Store::in_memory().unwrap(),
        chain.clone() as Arc<dyn ChainBackend>,
    )
    .unwrap();
    chain.set_time(T0 + 100).unwrap();
    let results = keeper.ingest(epoch0_traffic(chain.as_ref(), &g)).unwrap();
    assert_eq!(results.len(), 4);
    chain.set_time(T0 + 3700).unwrap();
    let b = keeper.submit_pending(T0 + 3700).unwrap();
    assert_eq!((b.accepted, b.rejected), (4, 0));
    chain.set_time(T0 + 4200).unwrap();
    assert_eq!(keeper.finalize_ready(T0 + 4200).unwrap(), vec![0]);
    let dev = DevKeys::from_genesis(&g);
    let op = chain.addr(&dev.node("proxy-1").unwrap().operator_label);
    chain
        .execute_as(
            &op,
            ContractRole::Pool,
            &json!({ "claim": { "node_id": "proxy-1", "limit": null } }),
            &[],
        )
        .unwrap();
    (chain, keeper)
}

#[test]
fn figures_equal_the_hand_computed_pool_state() {
    let (chain, _keeper) = processed();
    let cache = ReportCache::new();
    // epochs 0..=5 asked; the chain is in epoch 1, so the range is clamped to 0..=1
    let f = cache.collect(chain.as_ref(), 0..=5).unwrap();
    assert_eq!(f.current_epoch, Some(1));
    assert_eq!(f.epochs.len(), 2);
    let e0 = f.epoch(0).unwrap();
    // Hand computation (e2e.rs): B = 1e9; usage 8e8 split 4e8 / 4e8 (m*eff 1.5e6 each);
    // stipend 2e8 to local-1; proxy-1 claimed its 4e8.
    assert!(e0.report.finalized);
    assert_eq!(e0.target_share, genesis().params.target_share);
    assert_eq!(e0.report.budget, Uint128::new(1_000_000_000));
    assert_eq!(e0.report.commercial.calls, 3);
    assert_eq!(e0.report.community.calls, 1);
    assert_eq!(e0.split.usage_awarded, Uint128::new(800_000_000));
    assert_eq!(e0.split.stipend_awarded, Uint128::new(200_000_000));
    assert_eq!(e0.split.left_in_pool, Uint128::zero());
    assert_eq!(e0.report.paid, Uint128::new(400_000_000));
    assert_eq!(e0.split.unclaimed, Uint128::new(600_000_000));
    // rewards v2 fields: no per-call cap in the dev genesis, so nothing is left unpaid
    assert_eq!(e0.report.usage_budget, Uint128::new(800_000_000));
    assert_eq!(e0.report.stipend_budget, Uint128::new(200_000_000));
    assert_eq!(
        e0.report.usage_unpaid + e0.report.stipend_unpaid,
        Uint128::zero()
    );
    assert_eq!(e0.report.c_call, None);
    assert_eq!(e0.split.usage_paid, Uint128::new(400_000_000));
    assert_eq!(
        e0.report.rate,
        "266.666666666666666666"
            .parse::<cosmwasm_std::Decimal>()
            .unwrap()
    );
    assert_eq!(
        f.rewards_per_node(),
        vec![
            ("local-1".to_string(), Uint128::new(600_000_000)),
            ("proxy-1".to_string(), Uint128::new(400_000_000)),
        ]
    );
    let proxy = f.rows_of(0).find(|r| r.node_id == "proxy-1").unwrap();
    assert_eq!(proxy.kind, "proxy");
    assert!(proxy.reward.claimed);
    assert!(!f.epoch(1).unwrap().report.finalized);

    // bounded work: the finalized epoch comes from the cache, the open one is read again
    assert_eq!(cache.epoch_reads(), 2);
    cache.collect(chain.as_ref(), 0..=1).unwrap();
    assert_eq!(cache.epoch_reads(), 3);

    // a reversed or too long range is refused with its reason
    let e = cache
        .collect(chain.as_ref(), std::ops::RangeInclusive::new(3, 1))
        .unwrap_err()
        .to_string();
    assert!(e.contains("first epoch is after the last"), "{e}");
    let e = cache
        .collect(chain.as_ref(), 0..=5000)
        .unwrap_err()
        .to_string();
    assert!(e.contains("at most 1000 epochs"), "{e}");
}

/// A [`Source`] over the chain that counts status and pool `Config` queries.
struct Counting {
    chain: Arc<EmbeddedChain>,
    status: AtomicU32,
    pool_config: AtomicU32,
}

impl Source for Counting {
    fn chain_id(&self) -> String {
        ChainBackend::chain_id(self.chain.as_ref())
    }
    fn deployment(&self) -> opg_keeper::chain::Deployment {
        ChainBackend::deployment(self.chain.as_ref())
    }
    fn status(&self) -> Result<opg_keeper::chain::ChainStatus, opg_keeper::chain::ChainError> {
        self.status.fetch_add(1, Ordering::Relaxed);
        ChainBackend::status(self.chain.as_ref())
    }
    fn query_json(
        &self,
        contract: ContractRole,
        msg: &serde_json::Value,
    ) -> Result<serde_json::Value, opg_keeper::chain::ChainError> {
        if contract == ContractRole::Pool && msg.get("config").is_some() {
            self.pool_config.fetch_add(1, Ordering::Relaxed);
        }
        ChainBackend::query_json(self.chain.as_ref(), contract, msg)
    }
}

/// A page request (and `opg report`'s default range) reads the chain status and the pool config
/// once each, not once for the range and again for the figures.
#[test]
fn a_page_queries_status_and_pool_config_once() {
    let (chain, _keeper) = processed();
    let source = Counting {
        chain,
        status: AtomicU32::new(0),
        pool_config: AtomicU32::new(0),
    };
    let cache = ReportCache::new();
    let html = opg_keeper::report::web::page_of(&source, &cache, None).unwrap();
    assert!(html.contains("proxy-1"));
    assert_eq!(source.status.load(Ordering::Relaxed), 1);
    assert_eq!(source.pool_config.load(Ordering::Relaxed), 1);
    opg_keeper::cli::report::collect(&source, None, None).unwrap();
    assert_eq!(source.status.load(Ordering::Relaxed), 2);
    assert_eq!(source.pool_config.load(Ordering::Relaxed), 2);
}

async fn get(router: &axum::Router, path: &str) -> (StatusCode, String, String) {
    let r = router
        .clone()
        .oneshot(Request::get(path).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = r.status();
    let ct = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let body = axum::body::to_bytes(r.into_body(), 1 << 24).await.unwrap();
    (status, ct, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_keeper_serves_the_page() {
    let (_chain, keeper) = tokio::task::spawn_blocking(processed).await.unwrap();
    let router = keeper.router();
    let (status, ct, body) = get(&router, "/").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(ct, "text/html; charset=utf-8");
    assert!(body.contains("<meta http-equiv=\"refresh\" content=\"30\">"));
    assert!(!body.to_ascii_lowercase().contains("<script"));
    // the headline is the latest finalized epoch, 0, with the pool's numbers
    assert!(
        body.contains("<table id=\"split\" data-epoch=\"0\">"),
        "{body}"
    );
    assert!(
        body.contains("<td data-field=\"community.stipend\" data-value=\"200000000\">200 OPG</td>")
    );
    assert!(body.contains("<td data-field=\"commercial.calls\" data-value=\"3\">3</td>"));
    assert!(body.contains("<a href=\"/epochs/1\">Epoch 1</a>"));
    assert!(body.contains("<svg role=\"img\""));

    let (status, _, body) = get(&router, "/epochs/0").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("rel=\"next\">Epoch 1</a>"));
    let (status, _, body) = get(&router, "/epochs/7").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        body.contains("epoch 7 has not started yet: the current epoch is 1"),
        "{body}"
    );
    let (status, _, body) = get(&router, "/epochs/x1").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body.contains("epoch: expected a non-negative integer"),
        "{body}"
    );
}

/// `opg report --home` on a keeper home whose embedded chain processed epoch 0: the JSON on
/// stdout carries the pool's figures, `--out` writes every file form.
#[test]
fn opg_report_reads_a_keeper_home() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let g = genesis();
    {
        let chain = Arc::new(
            EmbeddedChain::open_with_clock(
                &home,
                &g,
                opg_keeper::chain::embedded::ClockMode::Manual,
            )
            .unwrap(),
        );
        let keeper = Keeper::new(
            KeeperConfig {
                genesis: Some(g.clone()),
                ..Default::default()
            },
            Store::in_memory().unwrap(),
            chain.clone() as Arc<dyn ChainBackend>,
        )
        .unwrap();
        chain.set_time(T0 + 100).unwrap();
        keeper.ingest(epoch0_traffic(chain.as_ref(), &g)).unwrap();
        chain.set_time(T0 + 3700).unwrap();
        keeper.submit_pending(T0 + 3700).unwrap();
        chain.set_time(T0 + 4200).unwrap();
        assert_eq!(keeper.finalize_ready(T0 + 4200).unwrap(), vec![0]);
    }
    let config = dir.path().join("keeper.toml");
    let c = KeeperConfig {
        genesis: Some(g),
        ..Default::default()
    };
    std::fs::write(&config, toml::to_string(&c).unwrap()).unwrap();
    let out = dir.path().join("out");
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_opg"))
        .args([
            "report",
            "--from-epoch",
            "0",
            "--to-epoch",
            "1",
            "--format",
            "json",
            "--home",
        ])
        .arg(&home)
        .arg("--config")
        .arg(&config)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    let e0 = &v["epochs"][0];
    assert_eq!(e0["report"]["finalized"], true);
    assert_eq!(e0["report"]["commercial"]["usage_rewards"], "400000000");
    assert_eq!(e0["report"]["community"]["stipend"], "200000000");
    assert_eq!(e0["split"]["unclaimed"], "1000000000");
    for f in [
        "report.json",
        "epochs.csv",
        "nodes.csv",
        "calls.svg",
        "value.svg",
        "share.svg",
        "multiplier.svg",
        "budget.svg",
        "nodes.svg",
        "report.html",
    ] {
        assert!(out.join(f).is_file(), "{f} written");
    }
    let csv = std::fs::read_to_string(out.join("nodes.csv")).unwrap();
    assert!(
        csv.contains("\n0,local-1,local,community,1,500000,500000,true,h100,600000000,400000000,200000000,false,false\n"),
        "{csv}"
    );

    // a home without a chain is refused by name
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_opg"))
        .args(["report", "--home"])
        .arg(dir.path().join("nowhere"))
        .arg("--config")
        .arg(&config)
        .output()
        .unwrap();
    assert!(!run.status.success());
    assert!(String::from_utf8_lossy(&run.stderr).contains("chain.db missing"));
}
