//! Per-node economics of a run: what the chain says each node earned (calls and paid value from the
//! pool's tallies, rewards from the operator's balance change on `Claim`) against what the node
//! spent (electricity over the represented wall time: host power throughout, the GPU busy for the
//! seconds its calls take at the measured throughput and idle otherwise; upstream API bills per
//! call; the wash attacker's settlement fees and key funding), with the hardware written off over
//! its service life reported beside the electricity-only net. Floats are fine here: this is an
//! off-chain report in USD, never settlement.
use std::collections::BTreeMap;

use cosmwasm_std::{Decimal, Uint128};

use super::scenario::{KindSpec, Scenario, MICRO};
use super::traffic::CallPlan;

/// What one epoch of one run read from the chain.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EpochReading {
    /// Epoch.
    pub epoch: u64,
    /// `EpochReport.community_share`: community share of raw value in this epoch.
    pub community_share: Decimal,
    /// `Multipliers.m_community` fixed at finalization.
    pub m_community: Decimal,
    /// `Multipliers.m_commercial`.
    pub m_commercial: Decimal,
    /// `EpochReport.budget` (uopg).
    pub budget: Uint128,
    /// `EpochReport.paid` after the claims (uopg).
    pub paid: Uint128,
    /// Usage rewards claimed (uopg, `EpochReport`: both classes' `usage_paid`).
    pub usage_paid: Uint128,
    /// Stipend claimed (uopg, `EpochReport`: the community class's `stipend_paid`).
    pub stipend_paid: Uint128,
    /// Budget not awarded, left in the pool by `c_call`, the stipend caps and empty classes
    /// (uopg, `EpochReport`: `usage_unpaid + stipend_unpaid`). `paid + unpaid` is the budget but
    /// per-node rounding dust.
    pub unpaid: Uint128,
    /// Per node.
    pub nodes: BTreeMap<String, NodeEpochReading>,
}

/// One node in one epoch, as the chain has it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeEpochReading {
    /// Calls tallied by the pool.
    pub calls: u64,
    /// Raw value tallied by the pool (micro-USD).
    pub raw_value: Uint128,
    /// What the pool paid the operator for this epoch: balance after `Claim` minus before (uopg).
    pub claimed: Uint128,
}

/// Off-chain costs and the attacker's self-payments of one node in one epoch, from the traffic.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NodeEpochLedger {
    /// Upstream API bill, USD (proxy nodes).
    pub upstream_usd: f64,
    /// Seconds the node's GPU was busy serving organic calls (self-paid calls need no inference).
    pub busy_s: f64,
    /// Value the attacker paid his own node (micro-USD): it returns to him, so it is not revenue.
    pub wash_value: u128,
    /// Wash calls.
    pub wash_calls: u64,
    /// What the attack cost: settlement fees plus funding of fresh keys, USD.
    pub wash_cost_usd: f64,
}

/// The off-chain ledger of a run's traffic: epoch -> node -> ledger.
pub type Ledger = BTreeMap<u64, BTreeMap<String, NodeEpochLedger>>;

/// Adds one epoch's planned calls to `ledger`: upstream bills and GPU time of organic calls; value,
/// count and cost of self-paid ones (settlement per call, funding per fresh key).
pub fn record_traffic(s: &Scenario, ledger: &mut Ledger, epoch: u64, calls: &[CallPlan]) {
    let per_node = ledger.entry(epoch).or_default();
    let mut fresh_keys = std::collections::BTreeSet::new();
    for c in calls {
        let entry = per_node.entry(c.node_id.clone()).or_default();
        let Some(node) = s.node(&c.node_id) else {
            continue;
        };
        if c.is_wash() {
            entry.wash_value += c.value as u128;
            entry.wash_calls += 1;
            entry.wash_cost_usd += s.settlement.per_call_usd();
            if fresh_keys.insert(c.payer) {
                entry.wash_cost_usd += s.settlement.funding_transfer_usd;
            }
            continue;
        }
        if let Some(m) = s.model(&c.model_id) {
            if node.kind == KindSpec::Proxy {
                entry.upstream_usd += m.upstream_cost_usd(c.prompt_tokens, c.completion_tokens);
            }
        }
        entry.busy_s += node.busy_seconds(&c.model_id, c.prompt_tokens, c.completion_tokens);
    }
}

/// A node's totals over a run.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeTotals {
    /// Node id.
    pub node_id: String,
    /// `proxy` or `local`.
    pub kind: KindSpec,
    /// Calls counted on chain (wash calls included).
    pub calls: u64,
    /// Revenue from payers other than the node's own operator, USD.
    pub revenue_usd: f64,
    /// Rewards paid by the pool, OPG.
    pub rewards_tokens: f64,
    /// Rewards at the scenario's token price, USD.
    pub rewards_usd: f64,
    /// Electricity over the run, USD.
    pub electricity_usd: f64,
    /// Hours the GPU was busy serving calls.
    pub gpu_busy_hours: f64,
    /// All costs but hardware (electricity + upstream API + wash attack), USD.
    pub costs_usd: f64,
    /// `revenue + rewards - costs`, USD.
    pub net_usd: f64,
    /// Hardware written off over the run (purchase price over the service life), USD.
    pub hardware_usd: f64,
    /// `net - hardware`, USD.
    pub net_incl_hardware_usd: f64,
    /// Months of electricity covered per month: `(revenue + rewards - non-electricity costs) /
    /// electricity`. Time-scale free (the same over an epoch, a month or the run); `None` when the
    /// node draws no power.
    pub electricity_months_covered_per_month: Option<f64>,
    /// Cumulative net USD after each epoch (for the chart).
    pub cumulative_net_usd: Vec<f64>,
}

fn uopg_to_opg(v: Uint128) -> f64 {
    v.u128() as f64 / MICRO as f64
}

/// Totals per node (scenario order) from the chain readings and the traffic ledger.
pub fn node_totals(s: &Scenario, readings: &[EpochReading], ledger: &Ledger) -> Vec<NodeTotals> {
    s.nodes
        .iter()
        .map(|n| {
            let span = s.epoch_length_s as f64;
            let hardware_epoch = n.hardware_usd_per_second() * span;
            let mut t = NodeTotals {
                node_id: n.id.clone(),
                kind: n.kind,
                calls: 0,
                revenue_usd: 0.0,
                rewards_tokens: 0.0,
                rewards_usd: 0.0,
                electricity_usd: 0.0,
                gpu_busy_hours: 0.0,
                costs_usd: 0.0,
                net_usd: 0.0,
                hardware_usd: 0.0,
                net_incl_hardware_usd: 0.0,
                electricity_months_covered_per_month: None,
                cumulative_net_usd: Vec::with_capacity(readings.len()),
            };
            let mut other_costs = 0.0;
            for r in readings {
                let chain = r.nodes.get(&n.id).cloned().unwrap_or_default();
                let l = ledger
                    .get(&r.epoch)
                    .and_then(|m| m.get(&n.id))
                    .cloned()
                    .unwrap_or_default();
                let organic_value = chain.raw_value.u128().saturating_sub(l.wash_value);
                let revenue = organic_value as f64 / MICRO as f64;
                let tokens = uopg_to_opg(chain.claimed);
                t.calls += chain.calls;
                t.revenue_usd += revenue;
                t.rewards_tokens += tokens;
                t.rewards_usd += tokens * s.token_price_usd;
                t.electricity_usd += s.electricity_usd(n, l.busy_s, span);
                t.gpu_busy_hours += l.busy_s / 3600.0;
                other_costs += l.upstream_usd + l.wash_cost_usd;
                t.costs_usd = t.electricity_usd + other_costs;
                t.net_usd = t.revenue_usd + t.rewards_usd - t.costs_usd;
                t.hardware_usd += hardware_epoch;
                t.net_incl_hardware_usd = t.net_usd - t.hardware_usd;
                t.cumulative_net_usd.push(t.net_usd);
            }
            if t.electricity_usd > 0.0 {
                t.electricity_months_covered_per_month =
                    Some((t.revenue_usd + t.rewards_usd - other_costs) / t.electricity_usd);
            }
            t
        })
        .collect()
}

/// Total wash cost (USD) and wash calls in a ledger.
pub fn wash_cost(ledger: &Ledger) -> (f64, u64) {
    ledger
        .values()
        .flat_map(|m| m.values())
        .fold((0.0, 0), |(c, n), l| {
            (c + l.wash_cost_usd, n + l.wash_calls)
        })
}

/// `Decimal` to `f64` for reporting.
pub fn dec_f64(d: Decimal) -> f64 {
    d.to_string().parse().unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulate::traffic::{plan_epoch, plan_wash};

    fn node_of(s: &Scenario, kind: KindSpec) -> String {
        s.nodes.iter().find(|n| n.kind == kind).unwrap().id.clone()
    }

    #[test]
    fn totals_follow_readings_and_ledger() {
        let s = Scenario::seed().unwrap();
        let proxy = node_of(&s, KindSpec::Proxy);
        let mut ledger = Ledger::new();
        ledger.entry(0).or_default().insert(
            proxy.clone(),
            NodeEpochLedger {
                upstream_usd: 1.0,
                ..Default::default()
            },
        );
        let mut nodes = BTreeMap::new();
        nodes.insert(
            proxy.clone(),
            NodeEpochReading {
                calls: 10,
                raw_value: Uint128::new(3_000_000),
                claimed: Uint128::new(20_000_000),
            },
        );
        let readings = vec![EpochReading {
            epoch: 0,
            nodes,
            ..Default::default()
        }];
        let totals = node_totals(&s, &readings, &ledger);
        let t = totals.iter().find(|t| t.node_id == proxy).unwrap();
        let n = s.node(&proxy).unwrap();
        let elec = n.host_w * 24.0 / 1000.0 * s.electricity_usd_per_kwh * s.epoch_length_s as f64
            / 86400.0;
        assert_eq!(t.calls, 10);
        assert!((t.revenue_usd - 3.0).abs() < 1e-12);
        assert!((t.rewards_tokens - 20.0).abs() < 1e-12);
        assert!((t.rewards_usd - 20.0 * s.token_price_usd).abs() < 1e-12);
        assert!((t.electricity_usd - elec).abs() < 1e-9);
        assert!((t.costs_usd - (1.0 + elec)).abs() < 1e-12);
        let covered = (3.0 + 20.0 * s.token_price_usd - 1.0) / elec;
        assert!((t.electricity_months_covered_per_month.unwrap() - covered).abs() < 1e-9);
        assert_eq!(t.cumulative_net_usd, vec![t.net_usd]);
        // the hardware is written off over its stated life, beside the electricity-only net
        let hw = n.hardware_usd / n.service_life_months.unwrap() * 12.0 / 365.25;
        assert!(
            (t.hardware_usd - hw).abs() < 1e-9,
            "{} vs {hw}",
            t.hardware_usd
        );
        assert!((t.net_incl_hardware_usd - (t.net_usd - hw)).abs() < 1e-9);
    }

    #[test]
    fn gpu_energy_follows_busy_time_at_measured_throughput() {
        let s = Scenario::seed().unwrap();
        let local = node_of(&s, KindSpec::Local);
        let n = s.node(&local).unwrap();
        let gpu = n.gpu.as_ref().unwrap();
        let serving = &n.serving[0];
        // one call of 1000 prompt + 400 completion tokens keeps the GPU busy
        // 1000 / pp + 400 / tg seconds
        let busy = n.busy_seconds(&serving.model, 1000, 400);
        let expected =
            1000.0 / serving.prompt_tokens_per_s + 400.0 / serving.completion_tokens_per_s;
        assert!((busy - expected).abs() < 1e-12);
        let day = 86400.0;
        let idle_day = s.electricity_usd(n, 0.0, day);
        let with_call = s.electricity_usd(n, busy, day);
        let extra = (gpu.busy_w - gpu.idle_w) * busy / 3.6e6 * s.electricity_usd_per_kwh;
        assert!((with_call - idle_day - extra).abs() < 1e-12);
        assert!(
            (idle_day - (n.host_w + gpu.idle_w) * 24.0 / 1000.0 * s.electricity_usd_per_kwh).abs()
                < 1e-12
        );
    }

    #[test]
    fn wash_payments_are_not_revenue_and_cost_fees_and_funding() {
        let s = Scenario::seed().unwrap();
        let w = s.wash_attack.clone().unwrap();
        let n = 12u64;
        let calls = plan_wash(&s, 0, 0, n, s.rewards.v_cap_micro_usd);
        let mut ledger = Ledger::new();
        record_traffic(&s, &mut ledger, 0, &calls);
        let l = &ledger[&0][&w.node];
        assert_eq!(l.wash_calls, n);
        assert_eq!(l.wash_value, u128::from(n * s.rewards.v_cap_micro_usd));
        let keys = n.div_ceil(u64::from(w.calls_per_key));
        let expected = n as f64 * s.settlement.per_call_usd()
            + keys as f64 * s.settlement.funding_transfer_usd;
        assert!((l.wash_cost_usd - expected).abs() < 1e-9);
        assert_eq!(wash_cost(&ledger).1, n);
        // self-paid calls need no inference
        assert_eq!(l.busy_s, 0.0);
        // upstream bills only for proxy nodes, at the published per-token price
        let organic = plan_epoch(&s, 0, 0);
        let mut ledger = Ledger::new();
        record_traffic(&s, &mut ledger, 0, &organic);
        let proxy = node_of(&s, KindSpec::Proxy);
        let upstream: f64 = organic
            .iter()
            .filter(|c| c.node_id == proxy)
            .map(|c| {
                s.model(&c.model_id)
                    .unwrap()
                    .upstream_cost_usd(c.prompt_tokens, c.completion_tokens)
            })
            .sum();
        assert!((ledger[&0][&proxy].upstream_usd - upstream).abs() < 1e-9);
        assert_eq!(ledger[&0][&w.node].upstream_usd, 0.0);
        assert!(ledger[&0][&w.node].busy_s > 0.0);
        assert_eq!(ledger[&0][&proxy].busy_s, 0.0);
    }
}
