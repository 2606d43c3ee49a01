//! `opg bench` (issue 7): throughput and memory of this keeper on this machine, measured as
//! ratios within one run (never as timed assertions in tests).
//!
//! * **ingest**: a keeper (embedded chain, SQLite store with `synchronous=FULL`, in a temp home)
//!   serves its real HTTP API on `127.0.0.1:0`; `--receipts` receipts signed with the dev keys
//!   are POSTed over loopback by concurrent clients in requests of `--request-size`; the rate
//!   counts receipts **acknowledged** `stored` (verified and committed).
//! * **raw verify**: the signature checks alone of the same receipts (the exact secp256k1
//!   recoveries and ed25519 verifications `verify_receipt` does on them, recorded once and
//!   replayed), on all cores. Measured before and after the ingest; the higher rate is the
//!   reference, so `ingest_ratio` is the conservative one.
//! * **simulate**: `opg simulate`'s own receipts-per-second (signing to claimed) on the built-in
//!   scenario cut to `--simulate-epochs`, next to the raw rate of signing and verifying the same
//!   receipts in the same units (see [`simulate_bench`]).
//! * **peak RSS**: `VmHWM` of this process (`/proc/self/status`).
//! * `--memory`: the memory scenario of [`memory`] (1,000,000 stored, 100,000 pending).
//! * `--x402 FILE`: x402 facilitator verification on one core ([`x402`]), for
//!   `scripts/bench-reference.sh`.
//!
//! The HTTP client is `reqwest` (keep-alive connection pool, already in the dependency tree for
//! axum's hyper); bodies are serialized before the clock starts so the client's share of the two
//! cores is only HTTP framing and reading the answers.
pub mod memory;
pub mod workload;
pub mod x402;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use opg_core::eip712::verifier_domain_separator;
use opg_core::receipt::SignedReceipt;
use opg_core::verify::{RegistryView, VerifierPolicy};
use serde::{Deserialize, Serialize};

use crate::chain::embedded::{ClockMode, EmbeddedChain};
use crate::chain::ChainBackend;
use crate::config::KeeperConfig;
use crate::service::Keeper;
use crate::store::Store;

/// Options of one benchmark run.
#[derive(Clone, Debug)]
pub struct BenchOptions {
    /// Receipts posted in the ingest measurement.
    pub receipts: usize,
    /// Receipts per `POST /v1/receipts`.
    pub request_size: usize,
    /// Concurrent HTTP clients.
    pub concurrency: usize,
    /// Epochs of the built-in scenario for the simulate measurement (0: skip it).
    pub simulate_epochs: u64,
    /// Minimum duration of each raw measurement.
    pub raw_min: Duration,
}

impl Default for BenchOptions {
    fn default() -> Self {
        let cores = cores();
        BenchOptions {
            receipts: 4_000,
            request_size: 50,
            concurrency: 4 * cores,
            simulate_epochs: 2,
            raw_min: Duration::from_secs(2),
        }
    }
}

/// What `opg bench` measured. Rates are receipts per second.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BenchReport {
    /// Receipts acknowledged `stored` per second over HTTP (verify + durable store).
    pub ingest_receipts_per_s: f64,
    /// Signature checks alone of the same receipts, all cores (the higher of the two passes).
    pub raw_verify_receipts_per_s: f64,
    /// `ingest_receipts_per_s / raw_verify_receipts_per_s` (target >= 0.70).
    pub ingest_ratio: f64,
    /// `opg simulate`'s receipt passes per second, signing to claimed (0 when skipped).
    pub simulate_receipts_per_s: f64,
    /// Raw signing + verifying of the simulated receipts, in simulate's units: receipt passes
    /// per second (0 when skipped).
    pub raw_sign_verify_receipts_per_s: f64,
    /// `simulate_receipts_per_s / raw_sign_verify_receipts_per_s` (target >= 0.50).
    pub simulate_ratio: f64,
    /// Peak resident memory of this process, MB (VmHWM / 1024).
    pub peak_rss_mb: f64,
    /// The two raw passes (before, after the ingest).
    pub raw_verify_passes: [f64; 2],
    /// The whole verification core (`verify_receipt`) on the same receipts, all cores.
    pub core_verify_receipts_per_s: f64,
    /// Receipts posted.
    pub receipts: usize,
    /// Receipts per request.
    pub request_size: usize,
    /// Concurrent clients.
    pub concurrency: usize,
    /// Requests and SQLite transactions of the group-commit writer during the ingest.
    pub group_commit: GroupCommitFigures,
    /// Receipt passes the simulation pushed through its pipeline (V).
    pub simulate_receipts: u64,
    /// The simulate measurement in detail.
    pub simulate: SimulateFigures,
    /// Cores (`available_parallelism`).
    pub cores: usize,
    /// CPU model (`/proc/cpuinfo`).
    pub cpu: String,
}

/// Group-commit figures of the ingest.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct GroupCommitFigures {
    /// Insert submissions (one per request with stored receipts).
    pub requests: u64,
    /// SQLite transactions (fsyncs) they took.
    pub transactions: u64,
}

/// Cores this process may use.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The CPU model from `/proc/cpuinfo` (`unknown` elsewhere).
pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

fn status_kib(field: &str) -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Peak resident memory of this process in MB (`VmHWM`), `None` off Linux.
pub fn peak_rss_mb() -> Option<f64> {
    status_kib("VmHWM:").map(|k| k as f64 / 1024.0)
}

/// Current resident memory in MB (`VmRSS`), `None` off Linux.
pub fn rss_mb() -> Option<f64> {
    status_kib("VmRSS:").map(|k| k as f64 / 1024.0)
}

/// Resets the peak (`VmHWM`) to the current RSS (`echo 5 > /proc/self/clear_refs`, Linux >= 4.0).
/// Returns whether it worked.
pub fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// A keeper in a temp home: embedded chain (manual clock at `T0 + 1000`, epoch 0 open) and a
/// `synchronous=FULL` store; no background rounds.
pub struct BenchKeeper {
    /// The keeper.
    pub keeper: Arc<Keeper>,
    /// The chain.
    pub chain: Arc<EmbeddedChain>,
    /// The genesis.
    pub genesis: crate::genesis::GenesisConfig,
}

/// The keeper config of the benchmarks: the defaults, with the request-rate bound lifted (the
/// benchmark is the only client) and the dev genesis.
pub fn bench_config(genesis: &crate::genesis::GenesisConfig) -> KeeperConfig {
    let mut c = KeeperConfig {
        genesis: Some(genesis.clone()),
        ..KeeperConfig::default()
    };
    c.server.requests_per_second = 1_000_000;
    c.server.burst = 1_000_000;
    c
}

/// Opens (creating) a benchmark keeper under `home`.
pub fn open_bench_keeper(home: &std::path::Path) -> anyhow::Result<BenchKeeper> {
    let genesis = workload::genesis();
    let chain = Arc::new(EmbeddedChain::open_with_clock(
        home,
        &genesis,
        ClockMode::Manual,
    )?);
    if chain.status()?.time < workload::T0 + 1000 {
        chain.set_time(workload::T0 + 1000)?;
    }
    let config = bench_config(&genesis);
    let store = Store::open(&home.join("keeper.db"), config.store.durability)?;
    let keeper = Keeper::new(config, store, chain.clone())?;
    keeper.reconcile()?;
    Ok(BenchKeeper {
        keeper,
        chain,
        genesis,
    })
}

/// The verifier's EIP-712 domain separator of `chain`.
pub fn domain_of(chain: &dyn ChainBackend) -> [u8; 32] {
    verifier_domain_separator(&chain.chain_id(), &chain.deployment().verifier)
}

#[derive(Deserialize)]
struct Answer {
    results: Vec<Line>,
}
#[derive(Deserialize)]
struct Line {
    status: String,
    #[serde(default)]
    reason: Option<String>,
}

/// Serves `keeper` on `127.0.0.1:0` and POSTs `bodies` (each a JSON array) with `concurrency`
/// clients. Returns (receipts acknowledged `stored`, wall time from the first request to the
/// last answer).
pub async fn post_all(
    keeper: Arc<Keeper>,
    bodies: Arc<Vec<axum::body::Bytes>>,
    concurrency: usize,
) -> anyhow::Result<(u64, Duration)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(crate::cli::keeper::serve(
        keeper,
        listener,
        async move {
            let _ = stop_rx.await;
        },
        false,
    ));
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()?;
    let url = format!("http://{addr}/v1/receipts");
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency.max(1) {
        let (client, url, next, bodies) =
            (client.clone(), url.clone(), next.clone(), bodies.clone());
        tasks.push(tokio::spawn(async move {
            let mut stored = 0u64;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(body) = bodies.get(i) else {
                    break;
                };
                let resp = client
                    .post(&url)
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send()
                    .await
                    .context("POST /v1/receipts")?;
                let status = resp.status();
                let bytes = resp.bytes().await?;
                if status != reqwest::StatusCode::ACCEPTED {
                    bail!(
                        "POST /v1/receipts answered {status}: {}",
                        String::from_utf8_lossy(&bytes[..bytes.len().min(300)])
                    );
                }
                let answer: Answer = serde_json::from_slice(&bytes)?;
                for l in answer.results {
                    match l.status.as_str() {
                        "stored" => stored += 1,
                        other => bail!(
                            "a benchmark receipt was {other}: {}",
                            l.reason.unwrap_or_default()
                        ),
                    }
                }
            }
            Ok(stored)
        }));
    }
    let mut stored = 0;
    for t in tasks {
        stored += t.await.context("client task")??;
    }
    let elapsed = started.elapsed();
    let _ = stop_tx.send(());
    server.await.context("server task")??;
    Ok((stored, elapsed))
}

/// Splits receipts into JSON request bodies of `size`.
pub fn bodies(receipts: &[SignedReceipt], size: usize) -> anyhow::Result<Vec<axum::body::Bytes>> {
    receipts
        .chunks(size.max(1))
        .map(|c| Ok(axum::body::Bytes::from(serde_json::to_vec(c)?)))
        .collect()
}

/// Runs the ingest, raw-verify and simulate measurements.
pub fn run(opts: &BenchOptions) -> anyhow::Result<BenchReport> {
    let home = tempfile_dir()?;
    let bk = open_bench_keeper(home.path())?;
    let domain = domain_of(bk.chain.as_ref());
    let now = bk.chain.status()?.time;
    let receipts = workload::sign_receipts(
        &bk.genesis,
        &domain,
        "ingest",
        opts.receipts,
        workload::T0 + 1,
    );
    let warmup = workload::sign_receipts(&bk.genesis, &domain, "warmup", 20, workload::T0 + 1);

    // the verification the keeper does, for the raw reference
    let config = bk.chain.verifier_config()?;
    let policy = VerifierPolicy {
        domain_separator: domain,
        networks: &config.networks,
        facilitators: opg_core::verify::parse_facilitators(&config.facilitators),
        require_settlement: config.require_settlement,
        clock: config.clock,
    };
    let view: RegistryView = bk
        .chain
        .registry_view(
            &["proxy-1".into(), "local-1".into()],
            &[
                "openai/gpt-4.1".into(),
                "meta-llama/llama-3.1-8b-instruct".into(),
            ],
        )?
        .into();
    let ops = workload::record_sig_ops(&policy, &view, &receipts, now)?;
    let raw_before = workload::raw_sig_rate(&ops, opts.raw_min);
    let core = workload::core_verify_rate(&policy, &view, &receipts, now, opts.raw_min);

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cores())
        .enable_all()
        .build()?;
    // warm-up: connection, registry cache
    let warm = Arc::new(bodies(&warmup, opts.request_size)?);
    rt.block_on(post_all(bk.keeper.clone(), warm, 1))?;
    let stats_before = (
        bk.keeper.commit_stats().jobs.load(Ordering::Relaxed),
        bk.keeper
            .commit_stats()
            .transactions
            .load(Ordering::Relaxed),
    );
    let b = Arc::new(bodies(&receipts, opts.request_size)?);
    let (stored, elapsed) = rt.block_on(post_all(bk.keeper.clone(), b, opts.concurrency))?;
    if stored != receipts.len() as u64 {
        bail!("{stored} of {} receipts acknowledged", receipts.len());
    }
    let durable = bk.keeper.store().counts(None)?.pending;
    if durable != (receipts.len() + warmup.len()) as u64 {
        bail!("{durable} receipts in the store after the ingest");
    }
    let group_commit = GroupCommitFigures {
        requests: bk.keeper.commit_stats().jobs.load(Ordering::Relaxed) - stats_before.0,
        transactions: bk
            .keeper
            .commit_stats()
            .transactions
            .load(Ordering::Relaxed)
            - stats_before.1,
    };
    let ingest = stored as f64 / elapsed.as_secs_f64().max(1e-9);
    let raw_after = workload::raw_sig_rate(&ops, opts.raw_min);
    let raw = raw_before.max(raw_after);
    drop(rt);
    drop(bk);

    let sim = if opts.simulate_epochs > 0 {
        simulate_bench(opts.simulate_epochs, opts.raw_min)?
    } else {
        SimulateFigures::default()
    };
    let (sim_rate, sim_raw) = (sim.receipts_per_s, sim.raw_receipts_per_s);
    Ok(BenchReport {
        ingest_receipts_per_s: ingest,
        raw_verify_receipts_per_s: raw,
        ingest_ratio: ingest / raw.max(1e-9),
        simulate_receipts_per_s: sim_rate,
        raw_sign_verify_receipts_per_s: sim_raw,
        simulate_ratio: if sim_raw > 0.0 {
            sim_rate / sim_raw
        } else {
            0.0
        },
        peak_rss_mb: peak_rss_mb().unwrap_or(0.0),
        raw_verify_passes: [raw_before, raw_after],
        core_verify_receipts_per_s: core,
        receipts: receipts.len(),
        request_size: opts.request_size,
        concurrency: opts.concurrency,
        group_commit,
        simulate_receipts: sim.passes,
        simulate: sim,
        cores: cores(),
        cpu: cpu_model(),
    })
}

/// A temp directory under the system temp dir (removed on drop).
pub fn tempfile_dir() -> anyhow::Result<TempHome> {
    let base = std::env::temp_dir().join(format!(
        "opg-bench-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    ));
    std::fs::create_dir_all(&base).with_context(|| format!("cannot create {}", base.display()))?;
    Ok(TempHome(base))
}

/// A directory removed on drop.
pub struct TempHome(std::path::PathBuf);

impl TempHome {
    /// Its path.
    pub fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TempHome {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// What [`simulate_bench`] measured.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct SimulateFigures {
    /// `opg simulate`'s own figure: receipt passes per second of wall time, signing to claimed
    /// ([`crate::simulate::Outcome::receipts_per_second`]).
    pub receipts_per_s: f64,
    /// Raw signing + verifying of the same receipts in the same units (the higher pass).
    pub raw_receipts_per_s: f64,
    /// The two raw passes (before, after the simulation).
    pub raw_passes: [f64; 2],
    /// Distinct receipts signed (R).
    pub signed: u64,
    /// Receipt passes through the pipeline, summed over the runs (V).
    pub passes: u64,
    /// Wall time of the simulation, seconds.
    pub wall_s: f64,
}

/// `opg simulate`'s throughput on the built-in scenario cut to `epochs`, and the raw rate of the
/// same work in the same units. Simulate signs each of its R receipts once and pushes V receipt
/// passes through its runs (each run verifies its receipts at ingest and again in the contract),
/// reporting `V / wall`. The raw reference does the cryptographic work once: sign the R receipts
/// and verify (`verify_receipt`) V receipts, both on all cores, so its rate is
/// `V / (R / sign_rate + V / verify_rate)`. Measured before and after the simulation; the higher
/// raw rate is the reference.
pub fn simulate_bench(epochs: u64, raw_min: Duration) -> anyhow::Result<SimulateFigures> {
    use crate::simulate::{pipeline, scenario::Scenario, RunOptions};
    let mut s = Scenario::seed()?;
    s.epochs = epochs;
    // the honest runs only: the attacker's search signs its own traffic and runs candidates on
    // other horizons, which would mix a second workload into the figure
    s.wash_attack = None;
    let plans = pipeline::plan(&s);
    let signed_count: usize = plans.iter().map(Vec::len).sum();
    let bar = indicatif::ProgressBar::hidden();
    let signed = pipeline::sign_all(&s, &plans, cores(), &bar)?;
    let all: Vec<SignedReceipt> = signed.into_iter().flatten().collect();
    let g = pipeline::genesis(&s, pipeline::Mode::Provenance);
    let chain = EmbeddedChain::in_memory(&g)?;
    let config = chain.verifier_config()?;
    let policy = VerifierPolicy {
        domain_separator: domain_of(&chain),
        networks: &config.networks,
        facilitators: opg_core::verify::parse_facilitators(&config.facilitators),
        require_settlement: config.require_settlement,
        clock: config.clock,
    };
    let node_ids: Vec<String> = g.nodes.iter().map(|n| n.id.clone()).collect();
    let model_ids: Vec<String> = g.models.iter().map(|m| m.id.clone()).collect();
    let mut view = RegistryView::default();
    for ids in node_ids.chunks(256) {
        let part: RegistryView = chain.registry_view(ids, &model_ids)?.into();
        view.nodes.extend(part.nodes);
        view.models.extend(part.models);
    }
    // every simulated receipt must verify, or the reference would skip work the pipeline does
    let (keys, domain) = pipeline::traffic_signer(&s)?;
    let raw_pass = |passes: u64| -> anyhow::Result<f64> {
        use rayon::prelude::*;
        // signing alone: the same calls, the same keys, the same threads as simulate's
        let sign_rate = workload::rate(signed_count, raw_min, || {
            let n: usize = plans
                .iter()
                .map(|p| {
                    crate::simulate::traffic::sign_calls(&keys, &domain, p, cores())
                        .map_or(0, |v| v.len())
                })
                .sum();
            std::hint::black_box(n);
        });
        // each receipt verified at its own served_at (inside its epoch)
        let verify = || {
            all.par_iter()
                .filter(|r| {
                    opg_core::verify::verify_receipt(
                        &opg_core::crypto::NativeCrypto,
                        &policy,
                        &view,
                        r,
                        r.receipt.served_at,
                    )
                    .is_ok()
                })
                .count()
        };
        let ok = verify();
        if ok != all.len() {
            bail!("{} of {} simulated receipts verify", ok, all.len());
        }
        let verify_rate = workload::rate(all.len(), raw_min, || {
            std::hint::black_box(verify());
        });
        let (r, v) = (signed_count as f64, passes as f64);
        Ok(v / (r / sign_rate + v / verify_rate))
    };
    // V is known before running: the two honest runs each post every receipt
    let expected_passes = 2 * signed_count as u64;
    let before = raw_pass(expected_passes)?;
    let opts = RunOptions {
        progress: false,
        threads: cores(),
    };
    let outcome = crate::simulate::simulate(&s, &opts)?;
    if outcome.receipts_processed != expected_passes {
        bail!(
            "simulate pushed {} receipt passes, expected {expected_passes}",
            outcome.receipts_processed
        );
    }
    let after = raw_pass(outcome.receipts_processed)?;
    Ok(SimulateFigures {
        receipts_per_s: outcome.receipts_per_second(),
        raw_receipts_per_s: before.max(after),
        raw_passes: [before, after],
        signed: signed_count as u64,
        passes: outcome.receipts_processed,
        wall_s: outcome.elapsed.as_secs_f64(),
    })
}

/// The human table of a report.
pub fn table(r: &BenchReport) -> String {
    let mut s = String::new();
    s.push_str(&format!("machine: {} cores, {}\n", r.cores, r.cpu));
    s.push_str(&format!("{:<44} {:>14}\n", "measurement", "receipts/s"));
    let row = |s: &mut String, k: &str, v: f64| s.push_str(&format!("{k:<44} {v:>14.0}\n"));
    row(
        &mut s,
        "ingest over HTTP (verify + durable store)",
        r.ingest_receipts_per_s,
    );
    row(
        &mut s,
        "raw signature checks, all cores",
        r.raw_verify_receipts_per_s,
    );
    row(
        &mut s,
        "verification core (verify_receipt), all cores",
        r.core_verify_receipts_per_s,
    );
    row(
        &mut s,
        "opg simulate, receipt passes (sign to claim)",
        r.simulate_receipts_per_s,
    );
    row(
        &mut s,
        "raw sign + verify, same units (passes)",
        r.raw_sign_verify_receipts_per_s,
    );
    s.push_str(&format!(
        "simulate: {} receipts signed, {} passes in {:.1} s; raw passes {:.0} / {:.0}\n",
        r.simulate.signed,
        r.simulate.passes,
        r.simulate.wall_s,
        r.simulate.raw_passes[0],
        r.simulate.raw_passes[1]
    ));
    s.push_str(&format!(
        "ingest ratio    {:.2} (target >= 0.70)\n",
        r.ingest_ratio
    ));
    if r.simulate.passes == 0 {
        s.push_str("simulate ratio  not measured (--simulate-epochs 0)\n");
    } else {
        s.push_str(&format!(
            "simulate ratio  {:.2} (target >= 0.50)\n",
            r.simulate_ratio
        ));
    }
    s.push_str(&format!(
        "group commit    {} requests in {} transactions\npeak RSS        {:.1} MB\n",
        r.group_commit.requests, r.group_commit.transactions, r.peak_rss_mb
    ));
    s
}
