//! `opg simulate` (DESIGN §7): runs a scenario through the whole pipeline — real signed x402
//! payments, node receipts and facilitator settlements -> the keeper's HTTP ingest (the real axum
//! handlers, driven in-process) -> its store and batcher -> the contracts on the embedded chain ->
//! `FinalizeEpoch` -> operators' `Claim`s — once under **volume-only** rewards (the same
//! contracts with `M = 1`, `m_commercial = 1`, `alpha = 0`, no `c_call`: today's settlement) and
//! once under **provenance** rewards (the scenario's params), on the same honest traffic. Then
//! the wash-trading attacker plays a best response under both modes ([`attack`]), each candidate
//! on its own chain. Every reward figure is what the pool paid on `Claim` (the operator's balance
//! change). `--sweep` runs a grid of params instead ([`sweep`]).
//!
//! Modules: [`scenario`] (the TOML), [`traffic`] (calls and their signatures), [`economics`]
//! (revenue, rewards, costs per node), [`attack`] (the best response), [`sweep`] (the grid),
//! [`report`] (JSON and tables), [`chart`] (SVG).
mod args;
pub use args::SimulateArgs;
pub mod attack;
pub mod chart;
pub mod economics;
pub mod pipeline;
pub mod report;
pub mod scenario;
pub mod sweep;
pub mod traffic;

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use attack::AttackSearch;
use economics::{node_totals, Ledger};
use pipeline::{Mode, ModeRun};
use report::{ModeReport, Modes, Report, WashAttackReport};
use scenario::Scenario;

/// Options of one simulation.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Show a progress bar on stderr.
    pub progress: bool,
    /// Threads for signing and for running modes side by side (at least 1).
    pub threads: usize,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            progress: false,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }
}

/// Everything a simulation produced.
pub struct Outcome {
    /// The report document.
    pub report: Report,
    /// Volume-only run (honest traffic).
    pub volume_only: ModeRun,
    /// Provenance run (honest traffic).
    pub provenance: ModeRun,
    /// The wash attacker's search (with an attacker).
    pub attack: Option<AttackSearch>,
    /// Off-chain ledger of the honest traffic (upstream bills, GPU time).
    pub ledger: Ledger,
    /// Receipt passes: receipts pushed through the pipeline (ingest to claim), summed over all
    /// runs (a receipt posted by three runs counts three times).
    pub receipts_processed: u64,
    /// Wall time spent signing the traffic (once, shared by all runs).
    pub signing: Duration,
    /// Wall time from the first signature to the last claim.
    pub elapsed: Duration,
}

impl Outcome {
    /// The command's throughput figure, in **receipt passes per second**: a pass is one run's
    /// processing of one receipt (HTTP ingest with signature verification -> store -> batch ->
    /// the verifier contract's verification on that run's chain -> finalize -> claim), so a
    /// receipt counts once per run that posts it ([`Outcome::receipts_processed`]). Divided by the
    /// whole wall time from the first signature to the last claim (signing included).
    pub fn receipts_per_second(&self) -> f64 {
        self.receipts_processed as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Maps `f` over `items` on up to `threads` threads (each takes the next item when it is done;
/// items are taken in order, so put the longest first). Results are in the items' order; the
/// first error wins.
pub fn par_map<T: Sync, R: Send>(
    items: &[T],
    threads: usize,
    f: impl Fn(&T) -> anyhow::Result<R> + Sync,
) -> anyhow::Result<Vec<R>> {
    let threads = threads.clamp(1, items.len().max(1));
    if threads == 1 {
        return items.iter().map(&f).collect();
    }
    let next = AtomicUsize::new(0);
    let mut results: Vec<(usize, anyhow::Result<R>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut out = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = items.get(i) else { break };
                        let r = f(item);
                        let failed = r.is_err();
                        out.push((i, r));
                        if failed {
                            // stop taking work: the first error is reported
                            next.store(items.len(), Ordering::Relaxed);
                            break;
                        }
                    }
                    out
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| {
                h.join().unwrap_or_else(|_| {
                    vec![(
                        usize::MAX,
                        Err(anyhow::anyhow!("a simulation thread panicked")),
                    )]
                })
            })
            .collect()
    });
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

fn progress_bar(show: bool, len: u64) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let b = ProgressBar::new(len);
    b.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} receipts ({per_sec}) {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    b
}

/// Runs `scenario` (already validated) end to end: the honest runs of both modes, then the
/// attacker's search.
pub fn simulate(s: &Scenario, opts: &RunOptions) -> anyhow::Result<Outcome> {
    let started = Instant::now();
    let plans = pipeline::plan(s);
    let receipts: u64 = plans.iter().map(|p| p.len() as u64).sum();
    // receipts signed once, then posted by each of the two honest runs (the attack search adds
    // its candidates' receipts when it starts)
    let bar = progress_bar(opts.progress, 3 * receipts);

    bar.set_message("signing payments, receipts, settlements and heartbeats");
    let signed = pipeline::sign_all(s, &plans, opts.threads, &bar)?;
    let heartbeats = pipeline::sign_heartbeats(s, s.epochs)?;
    let signing = started.elapsed();

    let mut ledger = Ledger::new();
    for (e, p) in plans.iter().enumerate() {
        economics::record_traffic(s, &mut ledger, e as u64, p);
    }

    bar.set_message("honest runs: ingest -> batches -> contracts -> finalize -> claims");
    let bodies = pipeline::request_bodies(&signed)?;
    let modes = [Mode::VolumeOnly, Mode::Provenance];
    let mut runs = par_map(&modes, opts.threads, |mode| {
        pipeline::run_mode(s, *mode, false, true, &bodies, &heartbeats, &bar)
    })?
    .into_iter();
    drop(bodies);
    let (Some(volume_only), Some(provenance)) = (runs.next(), runs.next()) else {
        anyhow::bail!("a mode's run is missing");
    };

    bar.set_message("wash attacker: best response, every candidate through the pipeline");
    let attack = attack::search(s, &plans, &signed, &heartbeats, &modes, opts.threads, &bar)?;
    bar.finish_and_clear();

    let report = build_report(
        s,
        &volume_only,
        &provenance,
        attack.as_ref(),
        &ledger,
        receipts,
    );
    let receipts_processed = volume_only.receipts_posted
        + provenance.receipts_posted
        + attack.as_ref().map_or(0, |a| a.receipts_processed);
    Ok(Outcome {
        report,
        volume_only,
        provenance,
        attack,
        ledger,
        receipts_processed,
        signing,
        elapsed: started.elapsed(),
    })
}

/// The report document of finished runs.
pub fn build_report(
    s: &Scenario,
    volume_only: &ModeRun,
    provenance: &ModeRun,
    attack: Option<&AttackSearch>,
    ledger: &Ledger,
    receipts: u64,
) -> Report {
    let mode_report = |run: &ModeRun| {
        let totals = node_totals(s, &run.readings, ledger);
        ModeReport::new(
            &totals,
            &run.readings,
            run.receipts_accepted,
            run.receipts_rejected,
        )
    };
    Report {
        scenario: s.name.clone(),
        epochs: s.epochs,
        receipts,
        modes: Modes {
            volume_only: mode_report(volume_only),
            provenance: mode_report(provenance),
        },
        wash_attack: attack.map(WashAttackReport::new),
    }
}

/// Writes `report.json` and `cumulative-net.svg` into `dir` (created if missing).
pub fn write_outputs(
    dir: &Path,
    s: &Scenario,
    outcome: &Outcome,
) -> anyhow::Result<(PathBuf, PathBuf)> {
    std::fs::create_dir_all(dir)
        .map_err(|e| anyhow::anyhow!("cannot create output directory {}: {e}", dir.display()))?;
    let json_path = dir.join("report.json");
    std::fs::write(
        &json_path,
        serde_json::to_string_pretty(&outcome.report)? + "\n",
    )
    .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", json_path.display()))?;
    let mut series = Vec::new();
    for (mode, run) in [
        ("volume_only", &outcome.volume_only),
        ("provenance", &outcome.provenance),
    ] {
        for t in node_totals(s, &run.readings, &outcome.ledger) {
            series.push(chart::Series {
                node_id: t.node_id,
                mode,
                points: t.cumulative_net_usd,
            });
        }
    }
    let svg_path = dir.join("cumulative-net.svg");
    chart::write_svg(
        &svg_path,
        &format!(
            "opg simulate `{}`: cumulative net per node (dashed: volume-only, solid: provenance)",
            s.name
        ),
        &series,
    )?;
    crate::report::write_simulated_page(dir, &s.name, &outcome.provenance)?;
    Ok((json_path, svg_path))
}

/// Entry point of `opg simulate`.
pub fn run(args: SimulateArgs) -> anyhow::Result<()> {
    let mut s = match &args.scenario {
        Some(path) => Scenario::load(path)?,
        None => Scenario::seed()?,
    };
    if let Some(n) = args.epochs {
        s.epochs = n;
        s.validate()?;
    }
    let opts = RunOptions {
        progress: !args.json && std::io::stderr().is_terminal(),
        ..RunOptions::default()
    };
    let out_dir = args.out.clone().unwrap_or_else(|| PathBuf::from("out"));
    if args.sweep {
        return sweep::run_command(&s, &opts, &out_dir, args.json);
    }
    let outcome = simulate(&s, &opts)?;
    let (json_path, svg_path) = write_outputs(&out_dir, &s, &outcome)?;
    let throughput =
        format!(
        "throughput: {} receipt passes/s = {} passes (each signed receipt through each run that \
         posts it: HTTP ingest + verify -> store -> batches -> contract verify -> finalize -> \
         claims; 2 honest runs of {} epochs and {} attack candidates of {} epochs, {} at a time) \
         / {:.1} s wall from first signature to last claim (signing {:.1} s)",
        outcome.receipts_per_second().round(),
        outcome.receipts_processed,
        s.epochs,
        outcome.attack.as_ref().map_or(0, |a| a.provenance.curve.len()
            + a.volume_only.curve.len()),
        outcome.attack.as_ref().map_or(0, |a| a.horizon_epochs),
        opts.threads,
        outcome.elapsed.as_secs_f64(),
        outcome.signing.as_secs_f64(),
    );
    if args.json {
        println!("{}", serde_json::to_string_pretty(&outcome.report)?);
        eprintln!("{throughput}");
    } else {
        let text = report::render_text(&outcome.report, s.token_price_usd);
        print!("{text}");
        println!("\n{throughput}");
        println!("wrote {} and {}", json_path.display(), svg_path.display());
    }
    Ok(())
}
