//! `opg simulate --sweep`: the sensitivity of the provenance rewards to the params that matter
//! (DESIGN §7). Over the scenario's `[sweep]` grid (emission x community share of organic calls x
//! `alpha` x `c_call`, the latter as multiples of the settlement cost of one call), each point
//! runs the honest traffic through the whole pipeline under provenance rewards, and the wash
//! attacker's candidates (his search volumes at `v_cap`) on top of the same traffic; it reports
//! the worst local node's net and the attacker's best net, both per month (the point's run scaled
//! from its `epochs` to a month of 365.25 / 12 days). Traffic is signed once per community share
//! and shared by every point with that share; points run in parallel.
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::attack::{candidates, organic_calls_per_epoch, Candidate, WashTraffic};
use super::chart::{self, HeatPanel};
use super::economics::{node_totals, record_traffic, wash_cost, Ledger};
use super::pipeline::{self, Mode, ModeRun, RequestBody};
use super::report::round6;
use super::scenario::{KindSpec, Scenario, MICRO, SECONDS_PER_MONTH};
use super::{par_map, progress_bar, RunOptions};

/// One grid point.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepPoint {
    /// Emission per epoch, OPG.
    pub emission_per_epoch_opg: u64,
    /// Community share of organic calls.
    pub community_share: f64,
    /// `alpha`.
    pub alpha: f64,
    /// `c_call` as a multiple of the settlement cost of one call.
    pub c_call_multiple: f64,
    /// `c_call`, uopg.
    pub c_call_uopg: u64,
    /// The local node with the lowest net.
    pub worst_local_node: String,
    /// Its electricity-only net, USD per month.
    pub worst_local_net_usd_per_month: f64,
    /// The proxy nodes' lowest net, USD per month (`null` without a proxy node).
    pub worst_proxy_net_usd_per_month: Option<f64>,
    /// The attacker's best response: self-paid calls per epoch (0: washing does not pay).
    pub attacker_best_calls_per_epoch: u64,
    /// Its net (rewards won minus settlement and funding), USD per month.
    pub attacker_best_net_usd_per_month: f64,
    /// Whether every epoch of every run paid at most its budget.
    pub paid_within_budget: bool,
}

/// The sweep's document (`sweep.json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepReport {
    /// Scenario name.
    pub scenario: String,
    /// Epochs each point ran.
    pub epochs_per_point: u64,
    /// Settlement cost of one call, uopg at the scenario's token price (the unit of `c_call`).
    pub settlement_cost_uopg: u64,
    /// Runs in the sweep (each a fresh chain through the whole pipeline).
    pub runs: u64,
    /// Points where washing pays (the attacker's best response adds calls).
    pub points_where_washing_pays: u64,
    /// Points where every local node at least breaks even on electricity.
    pub points_where_every_local_node_breaks_even: u64,
    /// Every point.
    pub points: Vec<SweepPoint>,
}

/// One run of the grid: point index and candidate.
struct Job {
    point: usize,
    share: usize,
    candidate: Candidate,
}

/// Runs the scenario's `[sweep]` grid. Errors: no `[sweep]` section, a run fails.
pub fn sweep(s: &Scenario, opts: &RunOptions) -> anyhow::Result<SweepReport> {
    let spec = s
        .sweep
        .clone()
        .ok_or_else(|| anyhow::anyhow!("scenario `{}` has no [sweep] grid", s.name))?;
    let mut base = s.clone();
    base.epochs = spec.epochs;
    base.demand.community_share_drift = 0.0;
    base.demand.community_share_max = 1.0;
    let settlement = s.settlement_cost_uopg();
    let horizon = spec.epochs;

    // per community share: the traffic, signed once
    struct Traffic {
        scenario: Scenario,
        ledger: Ledger,
        zero_bodies: Vec<Vec<RequestBody>>,
        attack: Vec<(Candidate, Vec<Vec<RequestBody>>, f64)>,
    }
    let heartbeats = pipeline::sign_heartbeats(&base, horizon)?;
    let bar = progress_bar(opts.progress, 0);
    let traffic: Vec<Traffic> = spec
        .community_share
        .iter()
        .map(|share| {
            let mut sc = base.clone();
            sc.demand.community_share = *share;
            sc.validate()?;
            let plans = pipeline::plan(&sc);
            let signed = pipeline::sign_all(&sc, &plans, opts.threads, &bar)?;
            let mut ledger = Ledger::new();
            for (e, p) in plans.iter().enumerate() {
                record_traffic(&sc, &mut ledger, e as u64, p);
            }
            let zero_bodies = pipeline::request_bodies(&signed)?;
            let mut attack = Vec::new();
            if let Some(w) = &sc.wash_attack {
                let organic = organic_calls_per_epoch(&plans, &w.node, horizon);
                // in provenance mode a value above v_cap counts as v_cap and costs the same
                let mut searched = sc.clone();
                if let Some(w) = searched.wash_attack.as_mut() {
                    w.volume_multiples = spec.attack_volume_multiples.clone();
                    w.value_multiples = vec![1.0];
                }
                let cands: Vec<Candidate> = candidates(&searched, organic)
                    .into_iter()
                    .filter(|c| {
                        c.calls_per_epoch > 0 && c.value_micro_usd == sc.rewards.v_cap_micro_usd
                    })
                    .collect();
                let wash = WashTraffic::sign(&sc, &cands, horizon, opts.threads)?;
                for c in cands {
                    let mut l = Ledger::new();
                    let bodies = (0..horizon)
                        .map(|e| {
                            let (p, r) = wash.slice(c.value_micro_usd, e, c.calls_per_epoch);
                            record_traffic(&sc, &mut l, e, p);
                            pipeline::epoch_bodies(&signed[e as usize], r)
                        })
                        .collect::<anyhow::Result<Vec<_>>>()?;
                    attack.push((c, bodies, wash_cost(&l).0));
                }
            }
            Ok(Traffic {
                scenario: sc,
                ledger,
                zero_bodies,
                attack,
            })
        })
        .collect::<anyhow::Result<_>>()?;

    // the grid
    struct Point {
        share: usize,
        scenario: Scenario,
        c_call_multiple: f64,
    }
    let mut points = Vec::new();
    for (si, t) in traffic.iter().enumerate() {
        for emission in &spec.emission_per_epoch_opg {
            for alpha in &spec.alpha {
                for m in &spec.c_call_multiples {
                    let mut sc = t.scenario.clone();
                    sc.rewards.emission_per_epoch_opg = *emission;
                    sc.rewards.pool_funding_opg = None;
                    sc.rewards.alpha = *alpha;
                    sc.rewards.c_call_uopg =
                        Some(((settlement as f64) * m).floor().max(1.0) as u64);
                    sc.validate()?;
                    points.push(Point {
                        share: si,
                        scenario: sc,
                        c_call_multiple: *m,
                    });
                }
            }
        }
    }
    let mut jobs = Vec::new();
    for (pi, p) in points.iter().enumerate() {
        jobs.push(Job {
            point: pi,
            share: p.share,
            candidate: Candidate {
                calls_per_epoch: 0,
                value_micro_usd: 0,
            },
        });
        for (c, _, _) in &traffic[p.share].attack {
            jobs.push(Job {
                point: pi,
                share: p.share,
                candidate: *c,
            });
        }
    }
    let runs: Vec<ModeRun> = par_map(&jobs, opts.threads, |j| {
        let t = &traffic[j.share];
        let bodies = if j.candidate.calls_per_epoch == 0 {
            &t.zero_bodies
        } else {
            t.attack
                .iter()
                .find(|(c, _, _)| *c == j.candidate)
                .map(|(_, b, _)| b)
                .ok_or_else(|| anyhow::anyhow!("candidate without traffic"))?
        };
        let sc = &points[j.point].scenario;
        pipeline::run_mode(
            sc,
            Mode::Provenance,
            j.candidate.calls_per_epoch > 0,
            false,
            bodies,
            &heartbeats,
            &bar,
        )
    })?;
    bar.finish_and_clear();

    let per_month = SECONDS_PER_MONTH / (horizon as f64 * s.epoch_length_s as f64);
    let mut out = Vec::with_capacity(points.len());
    for (pi, p) in points.iter().enumerate() {
        let t = &traffic[p.share];
        let sc = &p.scenario;
        let of_point: Vec<(&Job, &ModeRun)> = jobs
            .iter()
            .zip(&runs)
            .filter(|(j, _)| j.point == pi)
            .collect();
        let (_, honest) = of_point
            .iter()
            .find(|(j, _)| j.candidate.calls_per_epoch == 0)
            .copied()
            .ok_or_else(|| anyhow::anyhow!("point without its honest run"))?;
        let totals = node_totals(sc, &honest.readings, &t.ledger);
        let worst_local = totals
            .iter()
            .filter(|n| n.kind == KindSpec::Local)
            .min_by(|a, b| a.net_usd.total_cmp(&b.net_usd));
        let worst_proxy = totals
            .iter()
            .filter(|n| n.kind == KindSpec::Proxy)
            .map(|n| n.net_usd)
            .min_by(f64::total_cmp);
        let (mut best_calls, mut best_net) = (0u64, 0.0f64);
        if let Some(w) = &sc.wash_attack {
            let zero = honest.claimed_total(&w.node) as f64;
            for (j, r) in of_point
                .iter()
                .filter(|(j, _)| j.candidate.calls_per_epoch > 0)
            {
                let cost = t
                    .attack
                    .iter()
                    .find(|(c, _, _)| *c == j.candidate)
                    .map_or(0.0, |(_, _, cost)| *cost);
                let won =
                    (r.claimed_total(&w.node) as f64 - zero) / MICRO as f64 * sc.token_price_usd;
                if won - cost > best_net {
                    best_net = won - cost;
                    best_calls = j.candidate.calls_per_epoch;
                }
            }
        }
        let within = of_point.iter().all(|(_, r)| {
            r.readings
                .iter()
                .all(|e| e.paid <= e.budget && e.paid + e.unpaid <= e.budget)
        });
        out.push(SweepPoint {
            emission_per_epoch_opg: sc.rewards.emission_per_epoch_opg,
            community_share: sc.demand.community_share,
            alpha: sc.rewards.alpha,
            c_call_multiple: p.c_call_multiple,
            c_call_uopg: sc.rewards.c_call_uopg.unwrap_or(0),
            worst_local_node: worst_local.map(|n| n.node_id.clone()).unwrap_or_default(),
            worst_local_net_usd_per_month: round6(
                worst_local.map_or(0.0, |n| n.net_usd) * per_month,
            ),
            worst_proxy_net_usd_per_month: worst_proxy.map(|v| round6(v * per_month)),
            attacker_best_calls_per_epoch: best_calls,
            attacker_best_net_usd_per_month: round6(best_net * per_month),
            paid_within_budget: within,
        });
    }
    Ok(SweepReport {
        scenario: s.name.clone(),
        epochs_per_point: horizon,
        settlement_cost_uopg: settlement,
        runs: jobs.len() as u64,
        points_where_washing_pays: out
            .iter()
            .filter(|p| p.attacker_best_calls_per_epoch > 0)
            .count() as u64,
        points_where_every_local_node_breaks_even: out
            .iter()
            .filter(|p| p.worst_local_net_usd_per_month >= 0.0)
            .count() as u64,
        points: out,
    })
}

/// The heatmap panels of a sweep: for each metric (worst local node's net, attacker's best
/// net), `alpha` and `c_call` multiple, emission (x) by community share (y).
pub fn panels(r: &SweepReport) -> Vec<HeatPanel> {
    let mut xs: Vec<u64> = r.points.iter().map(|p| p.emission_per_epoch_opg).collect();
    xs.sort_unstable();
    xs.dedup();
    let mut ys: Vec<f64> = r.points.iter().map(|p| p.community_share).collect();
    ys.sort_by(f64::total_cmp);
    ys.dedup();
    let mut alphas: Vec<f64> = r.points.iter().map(|p| p.alpha).collect();
    alphas.sort_by(f64::total_cmp);
    alphas.dedup();
    let mut cs: Vec<f64> = r.points.iter().map(|p| p.c_call_multiple).collect();
    cs.sort_by(f64::total_cmp);
    cs.dedup();
    let mut out = Vec::new();
    for metric in ["worst local node net", "attacker best net"] {
        for a in &alphas {
            for c in &cs {
                let values = ys
                    .iter()
                    .map(|y| {
                        xs.iter()
                            .map(|x| {
                                r.points
                                    .iter()
                                    .find(|p| {
                                        p.emission_per_epoch_opg == *x
                                            && p.community_share == *y
                                            && p.alpha == *a
                                            && p.c_call_multiple == *c
                                    })
                                    .map(|p| {
                                        if metric.starts_with("worst") {
                                            p.worst_local_net_usd_per_month
                                        } else {
                                            p.attacker_best_net_usd_per_month
                                        }
                                    })
                            })
                            .collect()
                    })
                    .collect();
                out.push(HeatPanel {
                    title: format!("{metric} $/month, alpha {a}, c_call {c}x settlement"),
                    x_label: "emission OPG/epoch".into(),
                    y_label: "community share".into(),
                    xs: xs.iter().map(|x| x.to_string()).collect(),
                    ys: ys.iter().map(|y| format!("{:.0}%", y * 100.0)).collect(),
                    values,
                });
            }
        }
    }
    out
}

/// The summary table of a sweep.
pub fn render_text(r: &SweepReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "opg simulate --sweep: scenario `{}`, {} runs of {} epochs; c_call in multiples of the \
         settlement cost ({} uopg); nets in USD per month",
        r.scenario, r.runs, r.epochs_per_point, r.settlement_cost_uopg
    );
    let _ = writeln!(
        out,
        "{:>9} {:>7} {:>6} {:>7} {:>14} {:>11} {:>12} {:>13} {:>7}",
        "emission",
        "share",
        "alpha",
        "c_call",
        "worst local",
        "net/mo",
        "proxy net/mo",
        "attack calls",
        "net/mo"
    );
    for p in &r.points {
        let _ = writeln!(
            out,
            "{:>9} {:>6.0}% {:>6} {:>6}x {:>14} {:>11.2} {:>12} {:>13} {:>7.2}",
            p.emission_per_epoch_opg,
            p.community_share * 100.0,
            p.alpha,
            p.c_call_multiple,
            p.worst_local_node,
            p.worst_local_net_usd_per_month,
            p.worst_proxy_net_usd_per_month
                .map_or("-".into(), |v| format!("{v:.2}")),
            p.attacker_best_calls_per_epoch,
            p.attacker_best_net_usd_per_month
        );
    }
    let _ = writeln!(
        out,
        "washing pays at {} of {} points; every local node breaks even at {}",
        r.points_where_washing_pays,
        r.points.len(),
        r.points_where_every_local_node_breaks_even
    );
    out
}

/// `opg simulate --sweep`: runs the grid, writes `sweep.json` and `sweep.svg` into `dir`, prints
/// the table (or the JSON document with `json`).
pub fn run_command(s: &Scenario, opts: &RunOptions, dir: &Path, json: bool) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let r = sweep(s, opts)?;
    let (json_path, svg_path) = write_outputs(dir, &r)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&r)?);
    } else {
        print!("{}", render_text(&r));
        println!("wrote {} and {}", json_path.display(), svg_path.display());
    }
    eprintln!(
        "sweep: {} runs in {:.1} s wall",
        r.runs,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Writes `sweep.json` and `sweep.svg` into `dir` (created if missing).
pub fn write_outputs(dir: &Path, r: &SweepReport) -> anyhow::Result<(PathBuf, PathBuf)> {
    std::fs::create_dir_all(dir)
        .map_err(|e| anyhow::anyhow!("cannot create output directory {}: {e}", dir.display()))?;
    let json_path = dir.join("sweep.json");
    std::fs::write(&json_path, serde_json::to_string_pretty(r)? + "\n")
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", json_path.display()))?;
    let svg_path = dir.join("sweep.svg");
    let ps = panels(r);
    let columns = r
        .points
        .iter()
        .map(|p| p.c_call_multiple.to_bits())
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    chart::write_heatmap(
        &svg_path,
        &format!(
            "opg simulate --sweep `{}`: USD per month (green >= 0, red < 0)",
            r.scenario
        ),
        &ps,
        columns.max(1),
    )?;
    Ok((json_path, svg_path))
}
