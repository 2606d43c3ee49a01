//! The report of `opg simulate`: the JSON document of `--json` / `report.json` and the human tables.
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::economics::{dec_f64, EpochReading, NodeTotals};
use super::scenario::KindSpec;

/// The whole document (`--json` prints exactly this).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Report {
    /// Scenario name.
    pub scenario: String,
    /// Epochs simulated.
    pub epochs: u64,
    /// Receipts generated and submitted per mode (organic + wash), each a real signed x402 payment.
    pub receipts: u64,
    /// Both modes over the same traffic.
    pub modes: Modes,
    /// The wash attacker's outcome under provenance rewards (the multiplier he farms).
    pub wash_attack: WashAttackReport,
}

/// The two modes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Modes {
    /// `m_commercial = 1`, `M = 1`, `alpha = 0`: rewards follow paid value, today's settlement.
    pub volume_only: ModeReport,
    /// The scenario's reward params.
    pub provenance: ModeReport,
}

/// One mode.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModeReport {
    /// Per node, in scenario order.
    pub nodes: Vec<NodeRow>,
    /// Receipts the verifier accepted.
    pub receipts_accepted: u64,
    /// Receipts the verifier (or the keeper's ingest) rejected.
    pub receipts_rejected: u64,
    /// Community share of raw value per epoch (`EpochReport.community_share`).
    pub community_share: Vec<f64>,
    /// Community multiplier per epoch (`Multipliers.m_community`, fixed at finalization).
    pub community_multiplier_by_epoch: Vec<f64>,
}

/// One node's row.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeRow {
    /// Node id.
    pub node_id: String,
    /// `proxy` or `local`.
    pub kind: String,
    /// Calls counted by the pool (wash calls included).
    pub calls: u64,
    /// Payments received from payers other than the operator himself, USD.
    pub revenue_usd: f64,
    /// Rewards the pool paid on `Claim`, OPG.
    pub rewards_tokens: f64,
    /// Rewards at the scenario's token price, USD.
    pub rewards_usd: f64,
    /// Electricity + upstream API + wash attack costs, USD.
    pub costs_usd: f64,
    /// `revenue + rewards - costs`, USD.
    pub net_usd: f64,
    /// `(revenue + rewards - non-electricity costs) / electricity cost`; `null` without power draw.
    pub electricity_months_covered_per_month: Option<f64>,
}

/// What the wash attack cost and won.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WashAttackReport {
    /// Settlement fees of every wash payment plus funding of every fresh key, USD.
    pub cost_usd: f64,
    /// Rewards of the attacker's node with the attack minus without it (same organic traffic,
    /// provenance params), USD.
    pub rewards_usd: f64,
    /// `rewards_usd - cost_usd`.
    pub net_usd: f64,
}

/// Rounds to 1e-6 for a stable, readable document.
pub fn round6(v: f64) -> f64 {
    (v * 1e6).round() / 1e6
}

impl NodeRow {
    /// The row of a node's totals.
    pub fn from_totals(t: &NodeTotals) -> Self {
        NodeRow {
            node_id: t.node_id.clone(),
            kind: match t.kind {
                KindSpec::Proxy => "proxy",
                KindSpec::Local => "local",
            }
            .into(),
            calls: t.calls,
            revenue_usd: round6(t.revenue_usd),
            rewards_tokens: round6(t.rewards_tokens),
            rewards_usd: round6(t.rewards_usd),
            costs_usd: round6(t.costs_usd),
            net_usd: round6(t.net_usd),
            electricity_months_covered_per_month: t
                .electricity_months_covered_per_month
                .map(round6),
        }
    }
}

impl ModeReport {
    /// A mode's report from its totals and epoch readings.
    pub fn new(
        totals: &[NodeTotals],
        readings: &[EpochReading],
        accepted: u64,
        rejected: u64,
    ) -> Self {
        ModeReport {
            nodes: totals.iter().map(NodeRow::from_totals).collect(),
            receipts_accepted: accepted,
            receipts_rejected: rejected,
            community_share: readings
                .iter()
                .map(|r| round6(dec_f64(r.community_share)))
                .collect(),
            community_multiplier_by_epoch: readings
                .iter()
                .map(|r| round6(dec_f64(r.m_community)))
                .collect(),
        }
    }
}

fn fmt_opt(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), |v| format!("{v:.1}"))
}

/// The human-readable report. `attacker`: the wash attacker's node, whose rows include the
/// attack's rewards and costs.
pub fn render_text(r: &Report, token_price_usd: f64, attacker: Option<&str>) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "opg simulate: scenario `{}`, {} epochs, {} receipts per mode (OPG at ${token_price_usd})",
        r.scenario, r.epochs, r.receipts
    );
    for (name, title, m) in [
        (
            "volume_only",
            "multipliers 1, no stipend: today's settlement",
            &r.modes.volume_only,
        ),
        (
            "provenance",
            "the scenario's reward params",
            &r.modes.provenance,
        ),
    ] {
        let _ = writeln!(out, "\n== {name} ({title}) ==");
        let _ = writeln!(
            out,
            "{:<18} {:<5} {:>7} {:>11} {:>12} {:>11} {:>11} {:>11} {:>14}",
            "node",
            "kind",
            "calls",
            "revenue $",
            "rewards OPG",
            "rewards $",
            "costs $",
            "net $",
            "elec. mo/mo"
        );
        for n in &m.nodes {
            let _ = writeln!(
                out,
                "{:<18} {:<5} {:>7} {:>11.2} {:>12.2} {:>11.2} {:>11.2} {:>11.2} {:>14}",
                n.node_id,
                n.kind,
                n.calls,
                n.revenue_usd,
                n.rewards_tokens,
                n.rewards_usd,
                n.costs_usd,
                n.net_usd,
                fmt_opt(n.electricity_months_covered_per_month)
            );
        }
        let _ = writeln!(
            out,
            "receipts accepted {} rejected {}",
            m.receipts_accepted, m.receipts_rejected
        );
        let _ = writeln!(
            out,
            "{:<7} {:>16} {:>14}",
            "epoch", "community share", "m_community"
        );
        for (e, (s, mc)) in m
            .community_share
            .iter()
            .zip(&m.community_multiplier_by_epoch)
            .enumerate()
        {
            let _ = writeln!(out, "{e:<7} {:>15.2}% {mc:>14.3}", s * 100.0);
        }
    }
    let w = &r.wash_attack;
    match attacker {
        Some(node) => {
            let _ = writeln!(
                out,
                "\n== wash attack by `{node}`'s operator (provenance params; his rows above include it) ==\n\
                 cost ${:.2}  extra rewards ${:.2}  net ${:.2}  ({})",
                w.cost_usd,
                w.rewards_usd,
                w.net_usd,
                if w.net_usd > 0.0 { "the attack PAYS" } else { "the attack does not pay" }
            );
        }
        None => {
            let _ = writeln!(out, "\n== wash attack ==\nnone in this scenario");
        }
    }
    let _ = writeln!(
        out,
        "\nelec. mo/mo = months of electricity covered per month = (revenue + rewards - upstream/attack costs) / electricity"
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Report {
        let mode = ModeReport {
            nodes: vec![NodeRow {
                node_id: "proxy-a".into(),
                kind: "proxy".into(),
                calls: 3,
                revenue_usd: 1.0,
                rewards_tokens: 2.0,
                rewards_usd: 0.1,
                costs_usd: 0.5,
                net_usd: 0.6,
                electricity_months_covered_per_month: None,
            }],
            receipts_accepted: 3,
            receipts_rejected: 0,
            community_share: vec![0.0],
            community_multiplier_by_epoch: vec![1.0],
        };
        Report {
            scenario: "t".into(),
            epochs: 1,
            receipts: 3,
            modes: Modes {
                volume_only: mode.clone(),
                provenance: mode,
            },
            wash_attack: WashAttackReport {
                cost_usd: 0.0,
                rewards_usd: 0.0,
                net_usd: 0.0,
            },
        }
    }

    #[test]
    fn json_has_exactly_the_documented_keys() {
        let v = serde_json::to_value(sample()).unwrap();
        let keys: Vec<_> = v.as_object().unwrap().keys().cloned().collect();
        assert_eq!(
            keys,
            ["epochs", "modes", "receipts", "scenario", "wash_attack"]
        );
        let node = &v["modes"]["provenance"]["nodes"][0];
        let mut nk: Vec<_> = node.as_object().unwrap().keys().cloned().collect();
        nk.sort();
        assert_eq!(
            nk,
            [
                "calls",
                "costs_usd",
                "electricity_months_covered_per_month",
                "kind",
                "net_usd",
                "node_id",
                "revenue_usd",
                "rewards_tokens",
                "rewards_usd"
            ]
        );
        assert!(node["electricity_months_covered_per_month"].is_null());
        let back: Report = serde_json::from_value(v).unwrap();
        assert_eq!(back, sample());
    }

    #[test]
    fn text_names_every_node_and_mode() {
        let t = render_text(&sample(), 0.05, Some("local-b"));
        assert!(t.contains("volume_only") && t.contains("provenance") && t.contains("proxy-a"));
        assert!(t.contains("`local-b`") && t.contains("does not pay"));
        assert!(render_text(&sample(), 0.05, None).contains("none in this scenario"));
    }
}
