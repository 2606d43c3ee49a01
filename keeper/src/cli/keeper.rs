//! `opg keeper run [--config keeper.toml] [--home DIR]`: the HTTP ingest server plus the
//! background batcher/finalizer, with graceful shutdown on SIGINT/SIGTERM.
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::chain::embedded::EmbeddedChain;
use crate::chain::ChainBackend;
use crate::config::{BackendKind, KeeperConfig, RetryBackoff};
use crate::service::Keeper;
use crate::store::Store;

/// `opg keeper ...`
#[derive(Subcommand, Debug)]
pub enum KeeperCommand {
    /// Serve the HTTP API and submit/finalize in the background.
    Run(RunArgs),
}

/// Arguments of `opg keeper run`.
#[derive(Args, Debug, Clone)]
pub struct RunArgs {
    /// Config file.
    #[arg(long, default_value = "keeper.toml", value_name = "FILE")]
    pub config: PathBuf,
    /// Data directory (keeper.db, chain.db); overrides `home` in the config.
    #[arg(long, value_name = "DIR")]
    pub home: Option<PathBuf>,
    /// Listen address; overrides `server.listen`.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
}

/// Runs a keeper subcommand.
pub fn run(cmd: KeeperCommand) -> anyhow::Result<()> {
    match cmd {
        KeeperCommand::Run(args) => run_keeper(args),
    }
}

/// Opens store and chain under `home` and builds the keeper (reconciling first).
pub fn open_keeper(config: KeeperConfig, home: &std::path::Path) -> anyhow::Result<Arc<Keeper>> {
    std::fs::create_dir_all(home)
        .with_context(|| format!("cannot create home {}", home.display()))?;
    // Read (and check) the submitter key even though the embedded backend signs nothing, so a
    // broken key setup fails at start; the key is never logged.
    let key = config.submitter_key()?;
    // (backend, whether its block time follows the wall clock)
    let (chain, wall_clock): (Arc<dyn ChainBackend>, bool) = match config.chain.backend {
        BackendKind::Embedded => {
            let genesis = config
                .genesis
                .as_ref()
                .context("the embedded backend needs a [genesis] section")?;
            // `open` runs the chain in `ClockMode::Wall`
            (Arc::new(EmbeddedChain::open(home, genesis)?), true)
        }
        BackendKind::Cosmos => {
            let cosmos = config
                .chain
                .cosmos
                .clone()
                .context("the cosmos backend needs a [chain.cosmos] section")?;
            let chain = crate::chain::cosmos::CosmosChain::connect(cosmos)?;
            tracing::info!(address = %chain.address(), "cosmos backend connected");
            // block time is the chain's, not the wall clock
            (Arc::new(chain), false)
        }
    };
    let store = Store::open(&home.join("keeper.db"), config.store.durability)?;
    let keeper = Keeper::new(config, store, chain)?;
    // ingest then reads the chain time without waiting for the chain thread
    keeper.set_clock_follows_wall(wall_clock);
    // both backends' clocks run in real time here: deadline backpressure applies
    keeper.set_real_time(true);
    let rec = keeper.reconcile()?;
    let dep = keeper.chain().deployment();
    tracing::info!(
        home = %home.display(),
        chain_id = %keeper.chain().chain_id(),
        registry = %dep.registry, verifier = %dep.verifier, pool = %dep.pool,
        submitter_key = key.is_some(),
        reconciled_batches = rec.batches, reconciled_accepted = rec.accepted, requeued = rec.requeued,
        waiting_batches = rec.waiting,
        "keeper opened"
    );
    Ok(keeper)
}

fn run_keeper(args: RunArgs) -> anyhow::Result<()> {
    let mut config = KeeperConfig::load(&args.config)?;
    if let Some(l) = args.listen {
        config.server.listen = l;
    }
    let home = config.resolve_home(args.home.as_deref());
    let keeper = open_keeper(config, &home)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the tokio runtime")?;
    rt.block_on(async move {
        let addr = keeper.config().server.listen;
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| {
                format!("cannot listen on {addr} (in use?): change server.listen in the config or pass --listen")
            })?;
        tracing::info!(addr = %listener.local_addr()?, "listening");
        serve(keeper, listener, shutdown_signal(), true).await
    })
}

/// The wait before the next background round: `interval` after a successful round
/// (`failures == 0`), else the backoff delay for `failures` failed rounds in a row with
/// `jitter` in `[0, 1]` ([`RetryBackoff::delay`]). Pure.
pub fn next_round_in(
    interval: Duration,
    backoff: &RetryBackoff,
    failures: u32,
    jitter: f64,
) -> Duration {
    if failures == 0 {
        interval
    } else {
        backoff.delay(failures, jitter)
    }
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutdown requested");
}

/// Serves the HTTP API on `listener` and, if `background`, runs [`Keeper::tick`] right away
/// and then at most `batcher.batch_interval_secs` apart until `shutdown` resolves; then stops
/// accepting, finishes in-flight requests and the running round. A round comes sooner when the
/// last one reported more work ([`crate::service::TickReport::more`]: back to back) or ingest
/// signals one ([`Keeper::round_due`]). After a failed round the next one comes after the retry
/// backoff instead ([`crate::config::BatcherConfig::retry_backoff`]: `retry_base_ms` doubling
/// per failure in a row up to `retry_max_secs`, jittered); a successful round resets it.
pub async fn serve(
    keeper: Arc<Keeper>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
    background: bool,
) -> anyhow::Result<()> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let interval = Duration::from_secs(keeper.config().batcher.batch_interval_secs.max(1));
    let backoff = keeper.config().batcher.retry_backoff();
    let bg = if background {
        let k = keeper.clone();
        let mut stop = stop_rx.clone();
        Some(tokio::spawn(async move {
            // failed rounds in a row
            let mut failures: u32 = 0;
            // the first round runs right after start-up (and reconciliation)
            let mut more = true;
            loop {
                let wait = if more {
                    Duration::ZERO
                } else {
                    next_round_in(interval, &backoff, failures, rand::random::<f64>())
                };
                let woken = async {
                    if failures == 0 {
                        k.round_due().notified().await
                    } else {
                        // a failing chain gets the backoff, whatever ingest wants
                        std::future::pending::<()>().await
                    }
                };
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {},
                    _ = woken => {},
                    _ = stop.changed() => break,
                }
                let k2 = k.clone();
                let outcome = tokio::task::spawn_blocking(move || k2.tick()).await;
                (failures, more) = match &outcome {
                    Ok(Ok(r)) => (0, r.more),
                    _ => (failures.saturating_add(1), false),
                };
                let retry_in = next_round_in(interval, &backoff, failures, 1.0);
                match outcome {
                    Ok(Ok(r)) => {
                        if r.batches.batches > 0 || !r.finalized.is_empty() || r.batches.expired > 0
                        {
                            tracing::info!(
                                batches = r.batches.batches, submitted = r.batches.submitted,
                                accepted = r.batches.accepted, rejected = r.batches.rejected,
                                expired = r.batches.expired, finalized = ?r.finalized, "round done"
                            );
                        }
                    }
                    Ok(Err(e)) => tracing::warn!(
                        error = %e, failures, retry_within_ms = retry_in.as_millis() as u64,
                        "round failed; retrying with backoff"
                    ),
                    Err(e) => tracing::error!(
                        error = %e, failures, retry_within_ms = retry_in.as_millis() as u64,
                        "round panicked; retrying with backoff"
                    ),
                }
            }
        }))
    } else {
        None
    };
    let mut stop_wait = stop_rx;
    let app = keeper.router();
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        let _ = stop_wait.changed().await;
    });
    let trigger = tokio::spawn(async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    });
    let res = server.await;
    trigger.abort();
    if let Some(bg) = bg {
        let _ = bg.await;
    }
    res.context("http server failed")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_follow_the_interval_until_one_fails_then_back_off() {
        let interval = Duration::from_secs(30);
        let b = RetryBackoff {
            base: Duration::from_secs(1),
            cap: interval,
        };
        // a healthy keeper waits the interval, whatever the jitter
        assert_eq!(next_round_in(interval, &b, 0, 0.0), interval);
        // a failing one retries sooner first, then backs off to the cap, never beyond
        let schedule: Vec<u64> = (1..=7)
            .map(|n| next_round_in(interval, &b, n, 1.0).as_secs())
            .collect();
        assert_eq!(schedule, vec![1, 2, 4, 8, 16, 30, 30]);
        for n in 1..=7 {
            let lo = next_round_in(interval, &b, n, 0.0);
            let hi = next_round_in(interval, &b, n, 1.0);
            assert_eq!(lo * 2, hi, "failure {n}");
        }
    }
}
