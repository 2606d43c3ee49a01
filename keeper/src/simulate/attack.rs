//! The wash-trading attacker's best response (DESIGN §7): the operator of a local node pays his
//! own node from fresh payer keys. The payment returns to him; each self-paid call costs him its
//! settlement (facilitator fee + gas) and each fresh key its funding transfer. He searches the
//! number of self-paid calls per epoch (0 and multiples of his node's organic traffic) and their
//! value (`v_cap` and multiples of it) and picks the most profitable candidate.
//!
//! Every candidate runs through the whole pipeline (keeper ingest -> batches -> contracts ->
//! finalize -> claims) on its own chain over `horizon_epochs`, under both reward modes; what it
//! won is what the pool paid his node's operator minus what the zero candidate's run paid him
//! (same organic traffic, same heartbeats). The organic traffic is signed once (shared with the
//! honest runs), the self-paid calls once per value at the largest volume (smaller volumes post
//! a prefix), and candidates run in parallel.
use indicatif::ProgressBar;
use opg_core::receipt::{Heartbeat, SignedReceipt};

use super::economics::{record_traffic, wash_cost, Ledger};
use super::par_map;
use super::pipeline::{self, Mode, ModeRun, RequestBody, GENESIS_TIME};
use super::scenario::{Scenario, MICRO};
use super::traffic::{self, CallPlan};

/// One point of the search: self-paid calls per epoch and the value each carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Candidate {
    /// Self-paid calls per epoch.
    pub calls_per_epoch: u64,
    /// Value of each, micro-USD.
    pub value_micro_usd: u64,
}

/// A candidate's outcome over the horizon.
#[derive(Clone, Debug, PartialEq)]
pub struct CandidateOutcome {
    /// The candidate.
    pub candidate: Candidate,
    /// Settlement of every self-paid call plus funding of every fresh key, USD.
    pub cost_usd: f64,
    /// Rewards the pool paid the attacker's operator over the horizon minus what it paid him
    /// in the zero candidate's run, at the scenario's token price, USD.
    pub rewards_usd: f64,
    /// `rewards_usd - cost_usd`.
    pub net_usd: f64,
}

/// The search under one mode.
#[derive(Clone, Debug, PartialEq)]
pub struct ModeSearch {
    /// Every candidate, in search order (the zero candidate first).
    pub curve: Vec<CandidateOutcome>,
    /// Index of the best response in `curve`: the highest net; on a tie the earlier candidate
    /// (fewer calls).
    pub best: usize,
}

impl ModeSearch {
    fn new(curve: Vec<CandidateOutcome>) -> Self {
        let mut best = 0;
        for (i, c) in curve.iter().enumerate() {
            if c.net_usd > curve[best].net_usd {
                best = i;
            }
        }
        ModeSearch { curve, best }
    }

    /// The best response.
    pub fn best(&self) -> &CandidateOutcome {
        &self.curve[self.best]
    }
}

/// The whole search.
#[derive(Clone, Debug, PartialEq)]
pub struct AttackSearch {
    /// The attacker's node.
    pub node_id: String,
    /// Epochs each candidate ran.
    pub horizon_epochs: u64,
    /// His node's organic calls per epoch over the horizon (mean, rounded up): the unit of the
    /// volume multiples.
    pub organic_calls_per_epoch: u64,
    /// Under provenance rewards.
    pub provenance: ModeSearch,
    /// Under volume-only rewards.
    pub volume_only: ModeSearch,
    /// Receipt passes of all candidate runs (receipts posted, summed over runs).
    pub receipts_processed: u64,
}

/// The candidates: zero first, then each volume multiple (of `organic` calls per epoch, rounded
/// up, at least 1) at each value multiple of `v_cap`, without duplicates.
pub fn candidates(s: &Scenario, organic: u64) -> Vec<Candidate> {
    let v_cap = s.rewards.v_cap_micro_usd;
    let mut out = vec![Candidate {
        calls_per_epoch: 0,
        value_micro_usd: v_cap,
    }];
    let Some(w) = &s.wash_attack else {
        return out;
    };
    for m in &w.volume_multiples {
        let calls = ((*m * organic as f64).ceil() as u64).max(1);
        if *m == 0.0 {
            continue;
        }
        for k in &w.value_multiples {
            let value = ((v_cap as f64) * k).round() as u64;
            let c = Candidate {
                calls_per_epoch: calls,
                value_micro_usd: value,
            };
            if !out.contains(&c) {
                out.push(c);
            }
        }
    }
    out
}

/// Organic calls per epoch of `node` over the first `epochs` epochs of `plans` (mean, rounded up).
pub fn organic_calls_per_epoch(plans: &[Vec<CallPlan>], node: &str, epochs: u64) -> u64 {
    let n = epochs.min(plans.len() as u64).max(1);
    let total: u64 = plans
        .iter()
        .take(n as usize)
        .map(|p| p.iter().filter(|c| c.node_id == node).count() as u64)
        .sum();
    total.div_ceil(n)
}

/// One epoch's self-paid calls of one value: their plans and signed receipts, in the same order.
type EpochWash = (Vec<CallPlan>, Vec<SignedReceipt>);

/// Signed self-paid calls: for each value, per epoch of the horizon, the largest volume searched.
pub struct WashTraffic {
    /// value (micro-USD) -> per epoch, the largest volume's calls.
    by_value: Vec<(u64, Vec<EpochWash>)>,
}

impl WashTraffic {
    /// Plans and signs the self-paid calls the `candidates` need over `epochs` epochs.
    pub fn sign(
        s: &Scenario,
        candidates: &[Candidate],
        epochs: u64,
        threads: usize,
    ) -> anyhow::Result<Self> {
        let (keys, domain) = pipeline::traffic_signer(s)?;
        let mut values: Vec<u64> = candidates.iter().map(|c| c.value_micro_usd).collect();
        values.sort_unstable();
        values.dedup();
        let mut by_value = Vec::new();
        for value in values {
            let max = candidates
                .iter()
                .filter(|c| c.value_micro_usd == value)
                .map(|c| c.calls_per_epoch)
                .max()
                .unwrap_or(0);
            let per_epoch = (0..epochs)
                .map(|e| {
                    let plan = traffic::plan_wash(s, GENESIS_TIME, e, max, value);
                    let signed = traffic::sign_calls(&keys, &domain, &plan, threads)?;
                    Ok((plan, signed))
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            by_value.push((value, per_epoch));
        }
        Ok(WashTraffic { by_value })
    }

    /// Epoch `epoch`'s first `count` self-paid calls of `value` (plans and receipts).
    pub fn slice(&self, value: u64, epoch: u64, count: u64) -> (&[CallPlan], &[SignedReceipt]) {
        self.by_value
            .iter()
            .find(|(v, _)| *v == value)
            .and_then(|(_, per_epoch)| per_epoch.get(epoch as usize))
            .map_or((&[][..], &[][..]), |(p, r)| {
                let n = (count as usize).min(p.len());
                (&p[..n], &r[..n])
            })
    }
}

/// Runs the search for the scenario's attacker over the first `min(horizon, epochs)` epochs of
/// the organic traffic (`organic_plans` and `organic_signed`, the honest runs' traffic) with the
/// local nodes' `heartbeats`, under `modes`, on up to `threads` threads. `None` without an
/// attacker.
pub fn search(
    s: &Scenario,
    organic_plans: &[Vec<CallPlan>],
    organic_signed: &[Vec<SignedReceipt>],
    heartbeats: &[Vec<Heartbeat>],
    modes: &[Mode],
    threads: usize,
    bar: &ProgressBar,
) -> anyhow::Result<Option<AttackSearch>> {
    let Some(w) = &s.wash_attack else {
        return Ok(None);
    };
    let horizon = w
        .horizon_epochs
        .min(s.epochs)
        .min(organic_signed.len() as u64);
    let organic = organic_calls_per_epoch(organic_plans, &w.node, horizon);
    let cands = candidates(s, organic);
    let wash = WashTraffic::sign(s, &cands, horizon, threads)?;

    // request bodies and costs of every candidate
    struct Prepared {
        candidate: Candidate,
        bodies: Vec<Vec<RequestBody>>,
        cost_usd: f64,
    }
    let prepared: Vec<Prepared> = cands
        .iter()
        .map(|c| {
            let mut ledger = Ledger::new();
            let bodies = (0..horizon)
                .map(|e| {
                    let (plans, signed) = wash.slice(c.value_micro_usd, e, c.calls_per_epoch);
                    record_traffic(s, &mut ledger, e, plans);
                    pipeline::epoch_bodies(&organic_signed[e as usize], signed)
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            Ok(Prepared {
                candidate: *c,
                bodies,
                cost_usd: wash_cost(&ledger).0,
            })
        })
        .collect::<anyhow::Result<_>>()?;

    let jobs: Vec<(Mode, usize)> = modes
        .iter()
        .flat_map(|m| (0..prepared.len()).map(move |i| (*m, i)))
        .collect();
    // the bar counts receipts posted: add what the candidates' runs will post
    let posted: u64 = jobs
        .iter()
        .map(|(_, i)| {
            prepared[*i]
                .bodies
                .iter()
                .flatten()
                .map(|b| b.receipts as u64)
                .sum::<u64>()
        })
        .sum();
    bar.inc_length(posted);
    let runs: Vec<ModeRun> = par_map(&jobs, threads, |(mode, i)| {
        let p = &prepared[*i];
        pipeline::run_mode(
            s,
            *mode,
            p.candidate.calls_per_epoch > 0,
            false,
            &p.bodies,
            heartbeats,
            bar,
        )
    })?;
    let receipts_processed = runs.iter().map(|r| r.receipts_posted).sum();

    let outcome = |mode: Mode| -> ModeSearch {
        let of_mode: Vec<(&Prepared, &ModeRun)> = jobs
            .iter()
            .zip(&runs)
            .filter(|((m, _), _)| *m == mode)
            .map(|((_, i), r)| (&prepared[*i], r))
            .collect();
        let zero = of_mode.first().map_or(0, |(_, r)| r.claimed_total(&w.node));
        let curve = of_mode
            .iter()
            .map(|(p, r)| {
                let won = r.claimed_total(&w.node) as f64 - zero as f64;
                let rewards_usd = won / MICRO as f64 * s.token_price_usd;
                CandidateOutcome {
                    candidate: p.candidate,
                    cost_usd: p.cost_usd,
                    rewards_usd,
                    net_usd: rewards_usd - p.cost_usd,
                }
            })
            .collect();
        ModeSearch::new(curve)
    };
    let empty = || ModeSearch {
        curve: vec![],
        best: 0,
    };
    Ok(Some(AttackSearch {
        node_id: w.node.clone(),
        horizon_epochs: horizon,
        organic_calls_per_epoch: organic,
        provenance: if modes.contains(&Mode::Provenance) {
            outcome(Mode::Provenance)
        } else {
            empty()
        },
        volume_only: if modes.contains(&Mode::VolumeOnly) {
            outcome(Mode::VolumeOnly)
        } else {
            empty()
        },
        receipts_processed,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_start_at_zero_and_cover_volumes_and_values() {
        let s = Scenario::seed().unwrap();
        let w = s.wash_attack.as_ref().unwrap();
        let c = candidates(&s, 8);
        assert_eq!(c[0].calls_per_epoch, 0);
        let v_cap = s.rewards.v_cap_micro_usd;
        for m in w.volume_multiples.iter().filter(|m| **m > 0.0) {
            for k in &w.value_multiples {
                let want = Candidate {
                    calls_per_epoch: (m * 8.0).ceil() as u64,
                    value_micro_usd: (v_cap as f64 * k).round() as u64,
                };
                assert!(c.contains(&want), "{want:?} missing from {c:?}");
            }
        }
        assert!(c.iter().all(|c| c.value_micro_usd >= v_cap));
        assert!(c
            .iter()
            .any(|c| c.calls_per_epoch >= 10 * 8 && c.value_micro_usd > v_cap));
    }

    #[test]
    fn best_is_the_highest_net_and_ties_keep_fewer_calls() {
        let row = |calls, net| CandidateOutcome {
            candidate: Candidate {
                calls_per_epoch: calls,
                value_micro_usd: 1,
            },
            cost_usd: 0.0,
            rewards_usd: net,
            net_usd: net,
        };
        let s = ModeSearch::new(vec![row(0, 0.0), row(5, -1.0), row(10, 0.0)]);
        assert_eq!(s.best().candidate.calls_per_epoch, 0);
        let s = ModeSearch::new(vec![row(0, 0.0), row(5, 2.0), row(10, 1.0)]);
        assert_eq!(s.best().candidate.calls_per_epoch, 5);
    }

    #[test]
    fn smaller_volumes_are_prefixes_of_the_signed_plan() {
        let s = Scenario::seed().unwrap();
        let v = s.rewards.v_cap_micro_usd;
        let big = traffic::plan_wash(&s, GENESIS_TIME, 1, 20, v);
        let small = traffic::plan_wash(&s, GENESIS_TIME, 1, 7, v);
        assert_eq!(&big[..7], &small[..]);
        assert!(big.iter().all(|c| c.is_wash() && c.value == v));
    }
}
