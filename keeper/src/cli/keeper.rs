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
use crate::config::{BackendKind, KeeperConfig};
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
    let chain: Arc<dyn ChainBackend> = match config.chain.backend {
        BackendKind::Embedded => {
            let genesis = config
                .genesis
                .as_ref()
                .context("the embedded backend needs a [genesis] section")?;
            Arc::new(EmbeddedChain::open(home, genesis)?)
        }
    };
    let store = Store::open(&home.join("keeper.db"), config.store.durability)?;
    let keeper = Keeper::new(config, store, chain)?;
    let rec = keeper.reconcile()?;
    let dep = keeper.chain().deployment();
    tracing::info!(
        home = %home.display(),
        chain_id = %keeper.chain().chain_id(),
        registry = %dep.registry, verifier = %dep.verifier, pool = %dep.pool,
        submitter_key = key.is_some(),
        reconciled_batches = rec.batches, reconciled_accepted = rec.accepted, requeued = rec.requeued,
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
            .with_context(|| format!("cannot listen on {addr}"))?;
        tracing::info!(addr = %listener.local_addr()?, "listening");
        serve(keeper, listener, shutdown_signal(), true).await
    })
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

/// Serves the HTTP API on `listener` and, if `background`, runs [`Keeper::tick`] every
/// `batcher.batch_interval_secs` until `shutdown` resolves; then stops accepting, finishes
/// in-flight requests and the running round.
pub async fn serve(
    keeper: Arc<Keeper>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
    background: bool,
) -> anyhow::Result<()> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let interval = Duration::from_secs(keeper.config().batcher.batch_interval_secs.max(1));
    let bg = if background {
        let k = keeper.clone();
        let mut stop = stop_rx.clone();
        Some(tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(interval) => {},
                    _ = stop.changed() => break,
                }
                let k2 = k.clone();
                match tokio::task::spawn_blocking(move || k2.tick()).await {
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
                    Ok(Err(e)) => {
                        tracing::warn!(error = %e, "round failed; retrying next interval")
                    }
                    Err(e) => tracing::error!(error = %e, "round panicked"),
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
