//! Per-node economics of a run: what the chain says each node earned (calls and paid value from the
//! pool's tallies, rewards from the operator's balance change on `Claim`) against what the node
//! spent (electricity over the represented wall time, upstream API bills per call, the wash
//! attacker's fees). Floats are fine here: this is an off-chain report in USD, never settlement.
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
    /// Value the attacker paid his own node (micro-USD): it returns to him, so it is not revenue.
    pub wash_value: u128,
    /// Wash calls.
    pub wash_calls: u64,
    /// What the attack cost: settlement fees plus funding of fresh keys, USD.
    pub wash_cost_usd: f64,
}

/// The off-chain ledger of a run's traffic: epoch -> node -> ledger.
pub type Ledger = BTreeMap<u64, BTreeMap<String, NodeEpochLedger>>;

/// Adds one epoch's planned calls to `ledger`.
pub fn record_traffic(s: &Scenario, ledger: &mut Ledger, epoch: u64, calls: &[CallPlan]) {
    let per_node = ledger.entry(epoch).or_default();
    let mut fresh_keys = std::collections::BTreeSet::new();
    for c in calls {
        let entry = per_node.entry(c.node_id.clone()).or_default();
        if let Some(m) = s.model(&c.model_id) {
            if s.node(&c.node_id)
                .is_some_and(|n| n.kind == KindSpec::Proxy)
            {
                entry.upstream_usd += m.upstream_cost_usd(c.prompt_tokens, c.completion_tokens);
            }
        }
        if c.is_wash() {
            entry.wash_value += c.value as u128;
            entry.wash_calls += 1;
            if let Some(w) = &s.wash_attack {
                entry.wash_cost_usd += w.settlement_fee_usd;
                if fresh_keys.insert(c.payer) {
                    entry.wash_cost_usd += w.funding_cost_usd;
                }
            }
        }
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
    /// All costs (electricity + upstream API + wash attack), USD.
    pub costs_usd: f64,
    /// `revenue + rewards - costs`, USD.
    pub net_usd: f64,
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
            let electricity_epoch = s.electricity_usd_per_epoch(n);
            let mut t = NodeTotals {
                node_id: n.id.clone(),
                kind: n.kind,
                calls: 0,
                revenue_usd: 0.0,
                rewards_tokens: 0.0,
                rewards_usd: 0.0,
                electricity_usd: 0.0,
                costs_usd: 0.0,
                net_usd: 0.0,
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
                t.electricity_usd += electricity_epoch;
                other_costs += l.upstream_usd + l.wash_cost_usd;
                t.costs_usd = t.electricity_usd + other_costs;
                t.net_usd = t.revenue_usd + t.rewards_usd - t.costs_usd;
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
    use crate::simulate::traffic::plan_epoch;

    #[test]
    fn totals_follow_readings_and_ledger() {
        let s = Scenario::seed().unwrap();
        let proxy = s
            .nodes
            .iter()
            .find(|n| n.kind == KindSpec::Proxy)
            .unwrap()
            .id
            .clone();
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
        let elec = s.electricity_usd_per_epoch(s.node(&proxy).unwrap());
        assert_eq!(t.calls, 10);
        assert!((t.revenue_usd - 3.0).abs() < 1e-12);
        assert!((t.rewards_tokens - 20.0).abs() < 1e-12);
        assert!((t.rewards_usd - 20.0 * s.token_price_usd).abs() < 1e-12);
        assert!((t.costs_usd - (1.0 + elec)).abs() < 1e-12);
        let covered = (3.0 + 20.0 * s.token_price_usd - 1.0) / elec;
        assert!((t.electricity_months_covered_per_month.unwrap() - covered).abs() < 1e-9);
        assert_eq!(t.cumulative_net_usd, vec![t.net_usd]);
    }

    #[test]
    fn wash_payments_are_not_revenue_and_cost_fees_and_funding() {
        let s = Scenario::seed().unwrap();
        let w = s.wash_attack.clone().unwrap();
        let calls = plan_epoch(&s, 0, 0, true);
        let mut ledger = Ledger::new();
        record_traffic(&s, &mut ledger, 0, &calls);
        let l = &ledger[&0][&w.node];
        let n = (w.fresh_payers_per_epoch * w.calls_per_payer) as u64;
        assert_eq!(l.wash_calls, n);
        let expected =
            n as f64 * w.settlement_fee_usd + w.fresh_payers_per_epoch as f64 * w.funding_cost_usd;
        assert!((l.wash_cost_usd - expected).abs() < 1e-9);
        assert_eq!(wash_cost(&ledger).1, n);
        // Upstream bills only for proxy nodes, at the published per-token price.
        let proxy = s
            .nodes
            .iter()
            .find(|n| n.kind == KindSpec::Proxy)
            .unwrap()
            .id
            .clone();
        let upstream: f64 = calls
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
    }
}
