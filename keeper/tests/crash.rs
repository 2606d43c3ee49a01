//! Crash test (issue 6): the real `opg` binary (`opg keeper run`, embedded chain, wall clock,
//! 8-second epochs, 1-second batch rounds) under load from `opg_keeper::loadgen`, killed with
//! SIGKILL (`Child::kill`) at random moments and restarted on the same home, at least 6 times.
//! At the end every acknowledged receipt is stored exactly once and accepted on chain, and for
//! every epoch the pool's finalized `EpochReport` counts exactly the keeper's accepted receipts
//! (calls and raw value), which include every acknowledged one.
//!
//! The kill moments are random (seed printed; set `OPG_CRASH_SEED` to replay), so they land
//! during ingest, during a batch round and sometimes between a broadcast and the recording of
//! its outcome; after each kill the test inspects the store and prints what it caught (e.g.
//! `unrecorded batches: 1` = killed after the outbox write, before the outcome was recorded).
//! The exact "committed but outcome not recorded" point is exercised deterministically by
//! `tests/faults.rs` (drop-after-commit). `OPG_CRASH_FULL=1` runs 6,000 receipts and 12 kills.
use std::collections::{BTreeMap, BTreeSet};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use opg_keeper::chain::embedded::EmbeddedChain;
use opg_keeper::chain::ChainBackend;
use opg_keeper::config::KeeperConfig;
use opg_keeper::genesis::GenesisConfig;
use opg_keeper::loadgen::{self, LoadSpec, Target};
use opg_keeper::store::{Durability, ReceiptKey, ReceiptState, Store};
use rand::{Rng, SeedableRng};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn config(port: u16, genesis_time: Option<u64>, max_batch: usize) -> KeeperConfig {
    let mut g = GenesisConfig::dev("crash-test-seed");
    g.epoch_length = 8;
    g.grace = 6;
    g.genesis_time = genesis_time;
    let mut c = KeeperConfig {
        genesis: Some(g),
        ..Default::default()
    };
    c.server.listen = format!("127.0.0.1:{port}").parse().unwrap();
    c.server.requests_per_second = 20_000;
    c.server.burst = 20_000;
    c.batcher.batch_interval_secs = 1;
    c.batcher.max_batch = max_batch;
    c.validate().unwrap();
    c
}

fn start(config_path: &Path, home: &Path, log: &Path) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap();
    // OPG_CRASH_BIN runs another build of `opg` (e.g. the old code, for before/after figures)
    let bin = std::env::var("OPG_CRASH_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_opg").into());
    Command::new(bin)
        .args(["keeper", "run", "--config"])
        .arg(config_path)
        .arg("--home")
        .arg(home)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::from(log))
        .spawn()
        .expect("spawn opg keeper run")
}

/// `opg_receipts_stored_total` from the keeper's `/metrics` (0 if unreachable).
fn stored_so_far(base: &str) -> u64 {
    get_text(&format!("{base}/metrics"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("opg_receipts_stored_total "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

/// The body of a successful `GET url` (5 s timeout), `None` on any failure.
fn get_text(url: &str) -> Option<String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .ok()?;
    rt.block_on(async {
        let r = reqwest::Client::new()
            .get(url)
            .timeout(Duration::from_secs(5))
            .send()
            .await
            .ok()?;
        if !r.status().is_success() {
            return None;
        }
        r.text().await.ok()
    })
}

fn get_json(url: &str) -> Option<serde_json::Value> {
    serde_json::from_str(&get_text(url)?).ok()
}

fn wait_healthy(base: &str, child: &mut Child, log: &Path) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            panic!(
                "keeper exited with {status}: {}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        if get_json(&format!("{base}/healthz")).is_some() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("keeper did not become healthy");
}

/// One crash run: its parameters.
struct Run {
    /// Receipts the load generator sends.
    count: u64,
    /// SIGKILLs (each followed by a restart on the same home).
    kills: usize,
    /// Requests in flight.
    concurrency: usize,
    /// Receipts per tx.
    max_batch: usize,
    /// Kill moments, epoch-boundary offset.
    seed: u64,
    /// Start the load this many milliseconds before an epoch boundary (`None`: right away).
    boundary_in_ms: Option<u64>,
    /// Wait between a restart becoming healthy and the next kill, milliseconds.
    kill_gap_ms: std::ops::Range<u64>,
}

/// What a crash run saw: the figures of issue 17.
#[derive(Debug, Default)]
struct Verdict {
    /// Receipts the keeper acknowledged (`202` stored or duplicate).
    acknowledged: u64,
    /// Acknowledged receipts not counted on chain (missing, rejected or unconsumed).
    lost: u64,
    /// Epochs whose pool count exceeds the keeper's accepted receipts, summed excess.
    doubled: u64,
    /// Valid receipts never acknowledged (deferred by backpressure until their window closed).
    not_acknowledged: u64,
    /// `503` answers seen by the load generator.
    answers_503: u64,
    /// Kills that landed while receipts were being posted.
    kills_during_ingest: usize,
    /// Epochs holding acknowledged receipts.
    epochs: usize,
    /// Lost receipts by the state the store left them in.
    lost_by_state: BTreeMap<String, u64>,
}

fn wall_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn crash_run(run: &Run) -> Verdict {
    println!(
        "crash run: seed {} (OPG_CRASH_SEED to replay), {} receipts, {} kills, concurrency {}, \
         batch {}, boundary in {:?} ms",
        run.seed, run.count, run.kills, run.concurrency, run.max_batch, run.boundary_in_ms
    );
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(run.seed);

    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let log = dir.path().join("keeper.log");
    let port = free_port();
    // epoch 0 starts now (whole seconds), so the test knows where the boundaries fall
    let genesis_time = run.boundary_in_ms.map(|_| wall_now());
    let cfg = config(port, genesis_time, run.max_batch);
    let cfg_path = dir.path().join("keeper.toml");
    std::fs::write(&cfg_path, toml::to_string(&cfg).unwrap()).unwrap();
    let base = format!("http://127.0.0.1:{port}");

    let started = Instant::now();
    let mut child = start(&cfg_path, &home, &log);
    wait_healthy(&base, &mut child, &log);
    if let (Some(before), Some(g0)) = (run.boundary_in_ms, genesis_time) {
        // start the load `before` ms ahead of the end of epoch 0 (or the next epoch's end if
        // epoch 0 is already too far along)
        let epoch_ms = 8_000u64;
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        let mut boundary = (g0 * 1000) + epoch_ms;
        while boundary < now_ms + before {
            boundary += epoch_ms;
        }
        std::thread::sleep(Duration::from_millis(boundary - before - now_ms));
    }

    let target = Target::from_genesis(cfg.genesis.clone().unwrap()).unwrap();
    let mut spec = LoadSpec::new(base.clone());
    spec.count = run.count;
    spec.concurrency = run.concurrency;
    spec.payers = 50;
    spec.retry_for = Duration::from_secs(40);
    spec.request_timeout = Duration::from_secs(10);
    spec.acked_file = Some(dir.path().join("acked.csv"));
    let load = std::thread::spawn(move || {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
            .block_on(loadgen::run(spec, target))
    });

    // kill -9 while the load runs, restart each time on the same home
    let mut survived = 0;
    let mut caught_unrecorded = 0;
    let mut during_ingest = 0;
    while survived < run.kills {
        if survived == 0 {
            // the first kill lands mid-ingest whatever the machine's speed: as soon as the
            // keeper has stored a few receipts
            let deadline = Instant::now() + Duration::from_secs(30);
            while !load.is_finished() && stored_so_far(&base) < 20 && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(2));
            }
        } else {
            std::thread::sleep(Duration::from_millis(
                rng.gen_range(run.kill_gap_ms.clone()),
            ));
        }
        during_ingest += usize::from(!load.is_finished());
        let pace = get_text(&format!("{base}/metrics"))
            .and_then(|m| {
                m.lines().find_map(|l| {
                    l.strip_prefix("opg_submit_seconds_per_tx ")
                        .map(String::from)
                })
            })
            .unwrap_or_default();
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        survived += 1;
        {
            let store = Store::open(&home.join("keeper.db"), Durability::Full).unwrap();
            let c = store.counts(None).unwrap();
            let unrecorded = store.unrecorded_batches().unwrap().len();
            caught_unrecorded += usize::from(unrecorded > 0);
            println!(
                "kill {survived} at {:.1} s: pending {}, submitted {}, accepted {}, rejected {}, \
                 unrecorded batches {unrecorded}, estimate {pace} s per tx",
                started.elapsed().as_secs_f64(),
                c.pending,
                c.submitted,
                c.accepted,
                c.rejected
            );
        }
        child = start(&cfg_path, &home, &log);
        wait_healthy(&base, &mut child, &log);
    }
    let report = load.join().unwrap().unwrap();
    print!("{}", report.summary());
    assert!(
        during_ingest >= 1,
        "no kill landed while receipts were being posted"
    );
    assert_eq!(
        report.missing_retry_after, 0,
        "a 503/429 without Retry-After"
    );
    // Valid receipts the keeper did not acknowledge may only have been refused because their
    // epoch's window closed (they were deferred by the deadline backpressure until then).
    for reason in report.rejected_reasons.keys() {
        assert_eq!(reason, "epoch_closed", "{:?}", report.rejected_reasons);
    }
    assert_eq!(report.acknowledged + report.failed, run.count);

    // wait until every epoch with acknowledged receipts is finalized by the restarted keeper
    let last_epoch = report.acked.iter().map(|a| a.epoch).max().unwrap_or(0);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let v = get_json(&format!("{base}/v1/epochs/{last_epoch}"));
        if v.as_ref().is_some_and(|v| v["pool"]["finalized"] == true) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "epoch {last_epoch} not finalized: {v:?}"
        );
        assert!(child.try_wait().unwrap().is_none(), "keeper died");
        std::thread::sleep(Duration::from_millis(250));
    }
    let metrics = get_text(&format!("{base}/metrics")).unwrap_or_default();
    child.kill().unwrap();
    child.wait().unwrap();
    for l in metrics.lines() {
        if l.starts_with("opg_receipts_expired_total") || l.starts_with("opg_receipts_deferred") {
            println!("last keeper process: {l}");
        }
    }

    // the verdict, from the keeper's store and the chain it left behind
    let store = Store::open(&home.join("keeper.db"), Durability::Full).unwrap();
    let chain = Arc::new(EmbeddedChain::open(&home, cfg.genesis.as_ref().unwrap()).unwrap());
    let acked: BTreeSet<(String, String)> = report
        .acked
        .iter()
        .map(|a| (a.payer.clone(), a.nonce.clone()))
        .collect();
    assert_eq!(
        acked.len() as u64,
        report.acknowledged,
        "acknowledged keys are distinct"
    );
    let mut v = Verdict {
        acknowledged: report.acknowledged,
        not_acknowledged: report.failed,
        answers_503: report.unavailable_503,
        kills_during_ingest: during_ingest,
        ..Verdict::default()
    };
    let mut acked_per_epoch: BTreeMap<u64, u64> = BTreeMap::new();
    for a in &report.acked {
        *acked_per_epoch.entry(a.epoch).or_default() += 1;
        let stored = store
            .get_receipt(&ReceiptKey::new(&a.payer, &a.nonce))
            .unwrap();
        let state = match &stored {
            None => "missing".to_string(),
            Some(r) => match &r.state {
                ReceiptState::Accepted { .. } => {
                    assert_eq!(r.epoch, a.epoch);
                    String::new()
                }
                ReceiptState::Rejected { reason, .. } => format!("rejected: {reason}"),
                other => other.name().to_string(),
            },
        };
        let consumed = chain.receipt_status(&a.payer, &a.nonce).unwrap().consumed;
        if !state.is_empty() || !consumed {
            v.lost += 1;
            let state = if state.is_empty() {
                "accepted but not consumed".into()
            } else {
                state
            };
            *v.lost_by_state.entry(state).or_default() += 1;
        }
    }
    v.epochs = acked_per_epoch.len();
    let all = store.counts(None).unwrap();
    assert_eq!(all.pending + all.submitted, 0, "{all:?}");
    for epoch in acked_per_epoch.keys() {
        let c = store.counts(Some(*epoch)).unwrap();
        let rep = chain.epoch_report(*epoch).unwrap();
        assert!(rep.finalized, "epoch {epoch}");
        let calls = rep.commercial.calls + rep.community.calls;
        // the pool counts exactly what the keeper has accepted, each once
        v.doubled += calls.saturating_sub(c.accepted);
        assert_eq!(calls, c.accepted, "epoch {epoch}: pool calls vs stored");
        assert_eq!(
            (rep.commercial.raw_value + rep.community.raw_value).u128(),
            c.accepted_value_micro_usd,
            "epoch {epoch}: pool raw value vs stored"
        );
    }
    println!(
        "VERDICT seed {}: acknowledged {}, lost {} {:?}, doubled {}, not acknowledged {} \
         (503 answers {}), kills {survived} ({during_ingest} during ingest, {caught_unrecorded} \
         with an unrecorded batch), epochs {:?}, {:.1} s",
        run.seed,
        v.acknowledged,
        v.lost,
        v.lost_by_state,
        v.doubled,
        v.not_acknowledged,
        v.answers_503,
        acked_per_epoch,
        started.elapsed().as_secs_f64()
    );
    if v.lost > 0 {
        // what the keeper said about it
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        for l in text.lines().filter(|l| l.contains("ERROR")) {
            println!("keeper log: {l}");
        }
    }
    v
}

fn seed_from_env() -> Option<u64> {
    std::env::var("OPG_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
}

/// Issue 6: modest load, kills at random moments.
#[test]
fn kill_9_at_random_moments_loses_and_doubles_nothing() {
    let full = std::env::var("OPG_CRASH_FULL").is_ok_and(|v| v == "1");
    let (count, kills) = if full { (6000, 12) } else { (1200, 6) };
    let v = crash_run(&Run {
        count,
        kills,
        // a modest concurrency so the load spans several kills
        concurrency: 4,
        max_batch: 40,
        seed: seed_from_env().unwrap_or_else(rand::random),
        boundary_in_ms: None,
        kill_gap_ms: 300..1800,
    });
    assert_eq!(v.lost, 0, "{v:?}");
    assert_eq!(v.doubled, 0, "{v:?}");
    assert!(v.acknowledged > 0, "{v:?}");
}

/// Issue 17, the harshest timing the keeper allows: 8 s epochs, 6 s grace, 1 s rounds, full
/// durability, 3,000 receipts at concurrency 64 whose posting starts shortly before an epoch
/// boundary (so the boundary falls mid-load), and six SIGKILLs about a second apart. No
/// acknowledged receipt may be lost or counted twice; receipts the keeper could not land in
/// time must be refused (`503` + `Retry-After`), never acknowledged.
///
/// The seeds fix the kill gaps and where the boundary falls; CI runs the seeds below (35-80 s
/// each, debug build, loaded 2-core machine). `OPG_CRASH_SEED=N` runs one seed,
/// `OPG_CRASH_SEEDS=a..b` a range of them (`1..22`: 62,145 acknowledged, 0 lost, 0 doubled;
/// main's code before issue 17 lost 196-1,662 in each run of `1..6`, see SECURITY.md).
#[test]
fn harsh_kill_9_with_an_epoch_boundary_mid_load_loses_nothing() {
    let seeds: Vec<u64> = match (seed_from_env(), std::env::var("OPG_CRASH_SEEDS").ok()) {
        (Some(s), _) => vec![s],
        (None, Some(range)) => {
            let (a, b) = range.split_once("..").expect("OPG_CRASH_SEEDS=a..b");
            (a.parse().unwrap()..b.parse().unwrap()).collect()
        }
        (None, None) => vec![17, 1717],
    };
    let mut total = Verdict::default();
    for seed in &seeds {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(*seed);
        let v = crash_run(&Run {
            count: 3000,
            kills: 6,
            concurrency: 64,
            max_batch: 40,
            seed: *seed,
            boundary_in_ms: Some(rng.gen_range(500..4000)),
            kill_gap_ms: 700..1300,
        });
        total.acknowledged += v.acknowledged;
        total.lost += v.lost;
        total.doubled += v.doubled;
        total.not_acknowledged += v.not_acknowledged;
        total.answers_503 += v.answers_503;
        total.kills_during_ingest += v.kills_during_ingest;
        total.epochs += v.epochs;
    }
    println!(
        "TOTAL over {} seeds: acknowledged {}, lost {}, doubled {}, not acknowledged {}, 503 \
         answers {}",
        seeds.len(),
        total.acknowledged,
        total.lost,
        total.doubled,
        total.not_acknowledged,
        total.answers_503
    );
    assert_eq!(total.lost, 0, "{total:?}");
    assert_eq!(total.doubled, 0, "{total:?}");
    assert!(total.acknowledged > 0, "{total:?}");
}
