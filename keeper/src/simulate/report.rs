//! The report of `opg simulate`: the JSON document of `--json` / `report.json` and the human tables.
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::attack::{AttackSearch, CandidateOutcome, ModeSearch};
use super::economics::{dec_f64, EpochReading, NodeTotals};
use super::scenario::{KindSpec, MICRO};

/// The whole document (`--json` prints exactly this).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Report {
    /// Scenario name.
    pub scenario: String,
    /// Epochs simulated.
    pub epochs: u64,
    /// Receipts generated and submitted per mode (honest traffic), each a real signed x402
    /// payment.
    pub receipts: u64,
    /// Both modes over the same honest traffic.
    pub modes: Modes,
    /// The wash attacker's best response and its whole search, both modes (`null` without an
    /// attacker).
    pub wash_attack: Option<WashAttackReport>,
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
    /// Usage rewards paid over the run (`EpochReport`), OPG.
    pub usage_paid_tokens: f64,
    /// Hardware stipend paid over the run (`EpochReport`), OPG.
    pub stipend_paid_tokens: f64,
    /// Budget left in the pool by caps and empty classes over the run (`EpochReport`), OPG.
    pub unpaid_tokens: f64,
    /// Sum of the epochs' budgets `B`, OPG.
    pub budget_tokens: f64,
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
    /// Electricity + upstream API costs, USD.
    pub costs_usd: f64,
    /// `revenue + rewards - costs`, USD: the electricity-only net.
    pub net_usd: f64,
    /// `(revenue + rewards - non-electricity costs) / electricity cost`; `null` without power draw.
    pub electricity_months_covered_per_month: Option<f64>,
    /// Electricity over the run (host all the time, GPU busy or idle), USD.
    pub electricity_usd: f64,
    /// Hardware written off over the run (purchase price over the stated service life), USD.
    pub hardware_usd: f64,
    /// `net_usd - hardware_usd`, USD.
    pub net_incl_hardware_usd: f64,
}

/// The wash attacker's best response (DESIGN §7): every candidate ran through the whole pipeline
/// over `horizon_epochs`; figures are over that horizon.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WashAttackReport {
    /// The attacker's node.
    pub node_id: String,
    /// Epochs each candidate ran.
    pub horizon_epochs: u64,
    /// His node's organic calls per epoch (the unit of the searched volumes).
    pub organic_calls_per_epoch: u64,
    /// `best.cost_usd`.
    pub cost_usd: f64,
    /// `best.rewards_usd`.
    pub rewards_usd: f64,
    /// `best.net_usd`.
    pub net_usd: f64,
    /// The best response under provenance rewards.
    pub best: CandidateRow,
    /// Every candidate under provenance rewards (the zero candidate first).
    pub curve: Vec<CandidateRow>,
    /// The best response under volume-only rewards.
    pub volume_only_best: CandidateRow,
    /// Every candidate under volume-only rewards.
    pub volume_only_curve: Vec<CandidateRow>,
}

/// One candidate of the search.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CandidateRow {
    /// Self-paid calls per epoch.
    pub calls_per_epoch: u64,
    /// Value of each, micro-USD.
    pub value_micro_usd: u64,
    /// Settlement of every self-paid call plus funding of every fresh key, USD.
    pub cost_usd: f64,
    /// What the pool paid his operator over the horizon minus what it paid without self-paid
    /// calls, USD.
    pub rewards_usd: f64,
    /// `rewards_usd - cost_usd`.
    pub net_usd: f64,
}

impl CandidateRow {
    fn of(c: &CandidateOutcome) -> Self {
        CandidateRow {
            calls_per_epoch: c.candidate.calls_per_epoch,
            value_micro_usd: c.candidate.value_micro_usd,
            cost_usd: round6(c.cost_usd),
            rewards_usd: round6(c.rewards_usd),
            net_usd: round6(c.net_usd),
        }
    }

    fn best_of(m: &ModeSearch) -> Self {
        m.curve.get(m.best).map_or(
            CandidateRow {
                calls_per_epoch: 0,
                value_micro_usd: 0,
                cost_usd: 0.0,
                rewards_usd: 0.0,
                net_usd: 0.0,
            },
            CandidateRow::of,
        )
    }
}

impl WashAttackReport {
    /// The report of a search.
    pub fn new(a: &AttackSearch) -> Self {
        let best = CandidateRow::best_of(&a.provenance);
        WashAttackReport {
            node_id: a.node_id.clone(),
            horizon_epochs: a.horizon_epochs,
            organic_calls_per_epoch: a.organic_calls_per_epoch,
            cost_usd: best.cost_usd,
            rewards_usd: best.rewards_usd,
            net_usd: best.net_usd,
            best,
            curve: a.provenance.curve.iter().map(CandidateRow::of).collect(),
            volume_only_best: CandidateRow::best_of(&a.volume_only),
            volume_only_curve: a.volume_only.curve.iter().map(CandidateRow::of).collect(),
        }
    }
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
            electricity_usd: round6(t.electricity_usd),
            hardware_usd: round6(t.hardware_usd),
            net_incl_hardware_usd: round6(t.net_incl_hardware_usd),
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
            usage_paid_tokens: tokens(readings.iter().map(|r| r.usage_paid.u128()).sum()),
            stipend_paid_tokens: tokens(readings.iter().map(|r| r.stipend_paid.u128()).sum()),
            unpaid_tokens: tokens(readings.iter().map(|r| r.unpaid.u128()).sum()),
            budget_tokens: tokens(readings.iter().map(|r| r.budget.u128()).sum()),
        }
    }
}

fn tokens(uopg: u128) -> f64 {
    round6(uopg as f64 / MICRO as f64)
}

fn fmt_opt(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), |v| format!("{v:.1}"))
}

/// The human-readable report.
pub fn render_text(r: &Report, token_price_usd: f64) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "opg simulate: scenario `{}`, {} epochs, {} receipts per mode (OPG at ${token_price_usd})",
        r.scenario, r.epochs, r.receipts
    );
    for (name, title, m) in [
        (
            "volume_only",
            "multipliers 1, no stipend, no per-call cap: today's settlement",
            &r.modes.volume_only,
        ),
        (
            "provenance",
            "the scenario's reward params",
            &r.modes.provenance,
        ),
    ] {
        let _ = writeln!(out, "\n== {name} ({title}), honest traffic ==");
        let _ = writeln!(
            out,
            "{:<14} {:<5} {:>6} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>11} {:>8}",
            "node",
            "kind",
            "calls",
            "revenue$",
            "rewardOPG",
            "rewards$",
            "costs$",
            "net$",
            "hardware$",
            "net+hw $",
            "elec mo"
        );
        for n in &m.nodes {
            let _ = writeln!(
                out,
                "{:<14} {:<5} {:>6} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>11.2} {:>8}",
                n.node_id,
                n.kind,
                n.calls,
                n.revenue_usd,
                n.rewards_tokens,
                n.rewards_usd,
                n.costs_usd,
                n.net_usd,
                n.hardware_usd,
                n.net_incl_hardware_usd,
                fmt_opt(n.electricity_months_covered_per_month)
            );
        }
        let _ = writeln!(
            out,
            "receipts accepted {} rejected {}; budget {:.2} OPG = usage {:.2} + stipend {:.2} + unpaid {:.2}",
            m.receipts_accepted,
            m.receipts_rejected,
            m.budget_tokens,
            m.usage_paid_tokens,
            m.stipend_paid_tokens,
            m.unpaid_tokens
        );
        let shares: Vec<String> = m
            .community_share
            .iter()
            .map(|s| format!("{:.2}%", s * 100.0))
            .collect();
        let mults: Vec<String> = m
            .community_multiplier_by_epoch
            .iter()
            .map(|x| format!("{x:.3}"))
            .collect();
        let _ = writeln!(out, "community share by epoch: {}", shares.join(" "));
        let _ = writeln!(out, "m_community by epoch:     {}", mults.join(" "));
    }
    match &r.wash_attack {
        Some(w) => {
            let _ = writeln!(
                out,
                "\n== wash attacker: `{}`'s operator pays his own node from fresh keys ({} epochs per candidate, {} organic calls/epoch) ==",
                w.node_id, w.horizon_epochs, w.organic_calls_per_epoch
            );
            for (name, curve, best) in [
                ("volume_only", &w.volume_only_curve, &w.volume_only_best),
                ("provenance", &w.curve, &w.best),
            ] {
                let _ = writeln!(
                    out,
                    "{name}: {:>10} {:>12} {:>10} {:>12} {:>10}",
                    "calls/ep", "value uUSD", "cost$", "rewards$", "net$"
                );
                for c in curve {
                    let _ = writeln!(
                        out,
                        "{:w$}  {:>10} {:>12} {:>10.4} {:>12.4} {:>10.4}{}",
                        "",
                        c.calls_per_epoch,
                        c.value_micro_usd,
                        c.cost_usd,
                        c.rewards_usd,
                        c.net_usd,
                        if c == best { "  <- best response" } else { "" },
                        w = name.len()
                    );
                }
            }
            let _ = writeln!(
                out,
                "provenance best response: {} self-paid calls per epoch, net ${:.4} ({})",
                w.best.calls_per_epoch,
                w.best.net_usd,
                if w.best.calls_per_epoch == 0 {
                    "washing does not pay"
                } else {
                    "washing PAYS"
                }
            );
        }
        None => {
            let _ = writeln!(out, "\n== wash attacker ==\nnone in this scenario");
        }
    }
    let _ = writeln!(
        out,
        "\nnet = revenue + rewards - electricity - upstream API; net+hw also writes the hardware off over its service life;\n\
         elec mo = months of electricity covered per month = (revenue + rewards - upstream) / electricity"
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(calls: u64, net: f64) -> CandidateRow {
        CandidateRow {
            calls_per_epoch: calls,
            value_micro_usd: 5,
            cost_usd: 0.1,
            rewards_usd: net + 0.1,
            net_usd: net,
        }
    }

    fn sample(attack: bool) -> Report {
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
                electricity_usd: 0.0,
                hardware_usd: 0.2,
                net_incl_hardware_usd: 0.4,
            }],
            receipts_accepted: 3,
            receipts_rejected: 0,
            community_share: vec![0.0],
            community_multiplier_by_epoch: vec![1.0],
            usage_paid_tokens: 1.0,
            stipend_paid_tokens: 1.0,
            unpaid_tokens: 0.5,
            budget_tokens: 2.5,
        };
        Report {
            scenario: "t".into(),
            epochs: 1,
            receipts: 3,
            modes: Modes {
                volume_only: mode.clone(),
                provenance: mode,
            },
            wash_attack: attack.then(|| WashAttackReport {
                node_id: "local-b".into(),
                horizon_epochs: 3,
                organic_calls_per_epoch: 8,
                cost_usd: 0.0,
                rewards_usd: 0.0,
                net_usd: 0.0,
                best: row(0, 0.0),
                curve: vec![row(0, 0.0), row(8, -0.1)],
                volume_only_best: row(80, 5.0),
                volume_only_curve: vec![row(0, 0.0), row(80, 5.0)],
            }),
        }
    }

    #[test]
    fn json_has_exactly_the_documented_keys() {
        let v = serde_json::to_value(sample(true)).unwrap();
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
                "electricity_usd",
                "hardware_usd",
                "kind",
                "net_incl_hardware_usd",
                "net_usd",
                "node_id",
                "revenue_usd",
                "rewards_tokens",
                "rewards_usd"
            ]
        );
        assert!(node["electricity_months_covered_per_month"].is_null());
        let w = &v["wash_attack"];
        for k in [
            "node_id",
            "best",
            "curve",
            "volume_only_best",
            "cost_usd",
            "net_usd",
        ] {
            assert!(w.get(k).is_some(), "{k}");
        }
        let mut bk: Vec<_> = w["best"].as_object().unwrap().keys().cloned().collect();
        bk.sort();
        assert_eq!(
            bk,
            [
                "calls_per_epoch",
                "cost_usd",
                "net_usd",
                "rewards_usd",
                "value_micro_usd"
            ]
        );
        let back: Report = serde_json::from_value(v).unwrap();
        assert_eq!(back, sample(true));
        assert!(serde_json::to_value(sample(false)).unwrap()["wash_attack"].is_null());
    }

    #[test]
    fn text_names_every_node_mode_and_the_best_response() {
        let t = render_text(&sample(true), 0.05);
        assert!(t.contains("volume_only") && t.contains("provenance") && t.contains("proxy-a"));
        assert!(t.contains("`local-b`") && t.contains("does not pay"));
        assert!(t.contains("<- best response"));
        assert!(render_text(&sample(false), 0.05).contains("none in this scenario"));
    }
}
