//! `opg simulate` (DESIGN §7): runs a scenario through the whole pipeline — real signed x402
//! payments, node receipts and facilitator settlements -> the keeper's HTTP ingest (the real axum
//! handlers, driven in-process) -> its store and batcher -> the contracts on the embedded chain ->
//! `FinalizeEpoch` -> operators' `Claim`s — once under **volume-only** rewards
//! (`m_commercial = 1`, `M = 1`, `alpha = 0`, no payer cap: today's settlement) and once under
//! **provenance** rewards (the scenario's params), on the same traffic. With a wash attacker, the
//! provenance mode also runs without his traffic, so what the attack won is measured on chain.
//! Every reward figure is what the pool paid on `Claim` (the operator's balance change).
//!
//! Modules: [`scenario`] (the TOML), [`traffic`] (calls and their signatures), [`economics`]
//! (revenue, rewards, costs per node), [`report`] (JSON and tables), [`chart`] (SVG).
pub mod chart;
pub mod economics;
pub mod pipeline;
pub mod report;
pub mod scenario;
pub mod traffic;

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use crate::cli::simulate::SimulateArgs;
use economics::{node_totals, wash_cost, Ledger};
use pipeline::{Mode, ModeRun};
use report::{round6, ModeReport, Modes, Report, WashAttackReport};
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
    /// Volume-only run.
    pub volume_only: ModeRun,
    /// Provenance run.
    pub provenance: ModeRun,
    /// Provenance run without the wash attacker's traffic (only with an attacker).
    pub provenance_without_attack: Option<ModeRun>,
    /// Off-chain ledger of the traffic with the attack (costs, self-payments).
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
    /// whole wall time from the first signature to the last claim (signing, done once for all
    /// runs, included).
    pub fn receipts_per_second(&self) -> f64 {
        self.receipts_processed as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// Distinct signed receipts per second over the same wall time (each counted once however
    /// many runs post it).
    pub fn unique_receipts_per_second(&self) -> f64 {
        self.report.receipts as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Runs `scenario` (already validated) end to end.
pub fn simulate(s: &Scenario, opts: &RunOptions) -> anyhow::Result<Outcome> {
    let started = Instant::now();
    let attack = s.wash_attack.is_some();
    let plans = pipeline::plan(s);
    let receipts: u64 = plans.iter().map(|p| p.len() as u64).sum();
    let organic: u64 = plans.iter().flatten().filter(|c| !c.is_wash()).count() as u64;
    let runs_total = 2 * receipts + if attack { organic } else { 0 };

    let bar = if opts.progress {
        let b = ProgressBar::new(receipts + runs_total);
        b.set_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} receipts ({per_sec}) {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        b
    } else {
        ProgressBar::hidden()
    };

    bar.set_message("signing payments, receipts and settlements");
    let signed = pipeline::sign_all(s, &plans, opts.threads, &bar)?;
    let signing = started.elapsed();

    let mut ledger = Ledger::new();
    for (e, p) in plans.iter().enumerate() {
        economics::record_traffic(s, &mut ledger, e as u64, p);
    }

    bar.set_message("ingest -> batches -> contracts -> finalize -> claims");
    // every traffic variant is serialized once; the runs that post it share the bytes
    let with_attack = pipeline::request_bodies(&plans, &signed, true)?;
    let without_attack = if attack {
        Some(pipeline::request_bodies(&plans, &signed, false)?)
    } else {
        None
    };
    drop(signed);
    let mut jobs: Vec<Job> = vec![
        (Mode::VolumeOnly, true, &with_attack),
        (Mode::Provenance, true, &with_attack),
    ];
    if let Some(b) = &without_attack {
        jobs.push((Mode::Provenance, false, b));
    }
    let results = run_jobs(s, &jobs, opts.threads, &bar)?;
    let mut it = results.into_iter();
    let volume_only = it
        .next()
        .ok_or_else(|| anyhow::anyhow!("volume-only run missing"))?;
    let provenance = it
        .next()
        .ok_or_else(|| anyhow::anyhow!("provenance run missing"))?;
    let provenance_without_attack = it.next();
    bar.finish_and_clear();

    let report = build_report(
        s,
        &volume_only,
        &provenance,
        provenance_without_attack.as_ref(),
        &ledger,
        receipts,
    );
    Ok(Outcome {
        report,
        volume_only,
        provenance,
        provenance_without_attack,
        ledger,
        receipts_processed: runs_total,
        signing,
        elapsed: started.elapsed(),
    })
}

/// One run: its mode, whether its traffic includes the attacker's calls, and that traffic's
/// request bodies per epoch.
type Job<'a> = (Mode, bool, &'a Vec<Vec<pipeline::RequestBody>>);

/// Runs the jobs, each on its own thread when `threads > 1` (the runs are independent: each
/// has its own keeper and chain; their ingest verification shares the rayon pool), in order
/// otherwise. Results are in the jobs' order.
fn run_jobs(
    s: &Scenario,
    jobs: &[Job<'_>],
    threads: usize,
    bar: &ProgressBar,
) -> anyhow::Result<Vec<ModeRun>> {
    if threads <= 1 {
        return jobs
            .iter()
            .map(|(mode, attack, bodies)| pipeline::run_mode(s, *mode, *attack, bodies, bar))
            .collect();
    }
    std::thread::scope(|scope| {
        let handles: Vec<_> = jobs
            .iter()
            .map(|(mode, attack, bodies)| {
                scope.spawn(move || pipeline::run_mode(s, *mode, *attack, bodies, bar))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .map_err(|_| anyhow::anyhow!("a simulation thread panicked"))?
            })
            .collect()
    })
}

/// The report document of finished runs.
pub fn build_report(
    s: &Scenario,
    volume_only: &ModeRun,
    provenance: &ModeRun,
    provenance_without_attack: Option<&ModeRun>,
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
    let wash_attack = match (&s.wash_attack, provenance_without_attack) {
        (Some(w), Some(baseline)) => {
            let (cost, _) = wash_cost(ledger);
            let with = provenance.claimed_total(&w.node);
            let without = baseline.claimed_total(&w.node);
            let won_tokens = (with as f64 - without as f64) / scenario::MICRO as f64;
            let rewards_usd = won_tokens * s.token_price_usd;
            WashAttackReport {
                cost_usd: round6(cost),
                rewards_usd: round6(rewards_usd),
                net_usd: round6(rewards_usd - cost),
            }
        }
        _ => WashAttackReport {
            cost_usd: 0.0,
            rewards_usd: 0.0,
            net_usd: 0.0,
        },
    };
    Report {
        scenario: s.name.clone(),
        epochs: s.epochs,
        receipts,
        modes: Modes {
            volume_only: mode_report(volume_only),
            provenance: mode_report(provenance),
        },
        wash_attack,
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
    let outcome = simulate(&s, &opts)?;
    let out_dir = args.out.clone().unwrap_or_else(|| PathBuf::from("out"));
    let (json_path, svg_path) = write_outputs(&out_dir, &s, &outcome)?;
    let runs = if outcome.provenance_without_attack.is_some() {
        3
    } else {
        2
    };
    let throughput = format!(
        "throughput: {} receipt passes/s = {} passes (each of the {} signed receipts through each \
         run that posts it: HTTP ingest + verify -> store -> batches -> contract verify -> \
         finalize -> claims; {runs} runs {}) / {:.1} s wall from first signature to \
         last claim (signing {:.1} s); {} unique receipts/s",
        outcome.receipts_per_second().round(),
        outcome.receipts_processed,
        outcome.report.receipts,
        if opts.threads > 1 {
            "concurrently"
        } else {
            "one after another"
        },
        outcome.elapsed.as_secs_f64(),
        outcome.signing.as_secs_f64(),
        outcome.unique_receipts_per_second().round()
    );
    if args.json {
        println!("{}", serde_json::to_string_pretty(&outcome.report)?);
        eprintln!("{throughput}");
    } else {
        let attacker = s.wash_attack.as_ref().map(|w| w.node.as_str());
        let text = report::render_text(&outcome.report, s.token_price_usd, attacker);
        print!("{text}");
        println!("\n{throughput}");
        println!("wrote {} and {}", json_path.display(), svg_path.display());
    }
    Ok(())
}
