//! Unit tests of the report figures against hand-computed pool states.
use cosmwasm_std::{Decimal, Uint128};
use opg_core::epoch::EpochClock;
use opg_core::msg::pool::{
    ClassReport, ConfigResponse, EpochReport, HardwareWeight, NodeEpochReward, ParamsResponse,
    RewardParams,
};
use opg_core::types::Provenance;

use super::figures::{
    epochs_csv, micro, multiplier, nodes_csv, percent, render_table, tokens, usd,
};
use super::html::{render, Links, Page};
use super::*;

/// The pool state of the keeper's end-to-end test (`keeper/tests/e2e.rs`), by hand: emission
/// 1e9 uopg, alpha 0.2, m_commercial 0.5, M 3 (S(-1) = 0, so m_community = 3). Three calls of
/// $1 to `proxy-1`, one of $0.50 to `local-1` (live, h100). B = 1e9; stipend alpha*B = 2e8, all to
/// local-1; usage (1-alpha)*B = 8e8 split by m*eff: proxy 0.5*3e6 = 1.5e6, local 3*5e5 = 1.5e6,
/// so 4e8 each; no per-call cap (`c_call` unset), v_cap $10 (no call is capped), so the rate is
/// 8e8 / 3e6 = 266.67 uopg per weighted micro-USD and nothing is left unpaid. Community share of
/// counted value 0.5/3.5 = 1/7; of calls 1/4. After one claim of proxy-1: paid 4e8 (usage).
fn hand_report() -> EpochReport {
    EpochReport {
        epoch: 0,
        finalized: true,
        budget: Uint128::new(1_000_000_000),
        m_commercial: Decimal::percent(50),
        m_community: Decimal::from_ratio(3u128, 1u128),
        community_share: Decimal::from_ratio(1u128, 7u128),
        commercial: ClassReport {
            nodes: 1,
            calls: 3,
            raw_value: Uint128::new(3_000_000),
            counted_value: Uint128::new(3_000_000),
            usage_rewards: Uint128::new(400_000_000),
            stipend: Uint128::zero(),
            usage_paid: Uint128::new(400_000_000),
            stipend_paid: Uint128::zero(),
        },
        community: ClassReport {
            nodes: 1,
            calls: 1,
            raw_value: Uint128::new(500_000),
            counted_value: Uint128::new(500_000),
            usage_rewards: Uint128::new(400_000_000),
            stipend: Uint128::new(200_000_000),
            usage_paid: Uint128::zero(),
            stipend_paid: Uint128::zero(),
        },
        live_local_nodes: 1,
        hardware_weight_total: Decimal::one(),
        paid: Uint128::new(400_000_000),
        rate: "266.666666666666666666".parse().unwrap(),
        usage_budget: Uint128::new(800_000_000),
        stipend_budget: Uint128::new(200_000_000),
        usage_unpaid: Uint128::zero(),
        stipend_unpaid: Uint128::zero(),
        c_call: None,
        v_cap: Uint128::new(10_000_000),
        expired: false,
    }
}

fn params() -> RewardParams {
    RewardParams {
        emission_per_epoch: Uint128::new(1_000_000_000),
        m_commercial: Decimal::percent(50),
        m_community_max: Decimal::from_ratio(3u128, 1u128),
        target_share: Decimal::percent(30),
        alpha: Decimal::percent(20),
        v_cap: Uint128::new(10_000_000),
        c_call: Some(Uint128::new(2_500_000)),
        hardware_weights: vec![HardwareWeight {
            class: "h100".into(),
            weight: Decimal::one(),
            stipend_cap: Uint128::new(1_000_000_000),
        }],
        claim_epochs: 30,
    }
}

fn figures(reports: Vec<EpochReport>, rows: Vec<NodeRow>) -> Figures {
    Figures {
        chain_id: "opg-test".into(),
        deployment: Deployment {
            registry: "reg".into(),
            verifier: "ver".into(),
            pool: "pool<&>".into(),
        },
        status: ChainStatus {
            height: 12,
            time: 1_700_004_200,
        },
        pool: ConfigResponse {
            governance: cosmwasm_std::Addr::unchecked("gov"),
            registry: cosmwasm_std::Addr::unchecked("reg"),
            verifier: None,
            denom: "uopg".into(),
            clock: EpochClock {
                genesis: 1_700_000_000,
                epoch_length: 3600,
                grace: 600,
            },
            next_to_finalize: 1,
            reserved: Uint128::zero(),
        },
        params: ParamsResponse {
            current: params(),
            scheduled: None,
        },
        current_epoch: Some(1),
        epochs: reports
            .into_iter()
            .map(|r| EpochFigures::new(r, Decimal::percent(30)))
            .collect(),
        nodes: vec![],
        nodes_total: 2,
        node_rows: rows,
    }
}

fn row(
    node: &str,
    kind: &str,
    p: Provenance,
    calls: u64,
    raw: u128,
    reward: Option<u128>,
) -> NodeRow {
    NodeRow {
        node_id: node.into(),
        kind: kind.into(),
        reward: NodeEpochReward {
            epoch: 0,
            provenance: p,
            calls,
            raw_value: Uint128::new(raw),
            counted_value: Uint128::new(raw),
            live: kind == "local",
            hardware_class: (kind == "local").then(|| "h100".to_string()),
            reward: reward.map(Uint128::new),
            usage_reward: reward.map(|r| Uint128::new(r.min(400_000_000))),
            stipend_reward: reward.map(|r| Uint128::new(r.saturating_sub(400_000_000))),
            claimed: node == "proxy-1",
            expired: false,
        },
    }
}

#[test]
fn split_of_the_hand_computed_epoch() {
    let s = Split::of(&hand_report());
    assert_eq!(s.calls, 4);
    assert_eq!(s.community_calls_share, Decimal::percent(25));
    assert_eq!(s.raw_value, Uint128::new(3_500_000));
    assert_eq!(s.usage_awarded, Uint128::new(800_000_000));
    assert_eq!(s.stipend_awarded, Uint128::new(200_000_000));
    assert_eq!(s.awarded, Uint128::new(1_000_000_000));
    // the whole budget was awarded, so nothing is left in the pool
    assert_eq!(s.left_in_pool, Uint128::zero());
    // local-1's 6e8 is not claimed yet
    assert_eq!(s.unclaimed, Uint128::new(600_000_000));
    assert_eq!(s.usage_paid, Uint128::new(400_000_000));
    assert_eq!(s.stipend_paid, Uint128::zero());
    assert_eq!(s.expired_unclaimed, Uint128::zero());

    // once the claim window passed, local-1's unclaimed 6e8 went back to the pool
    let mut r = hand_report();
    r.expired = true;
    let s = Split::of(&r);
    assert_eq!(s.unclaimed, Uint128::zero());
    assert_eq!(s.expired_unclaimed, Uint128::new(600_000_000));
}

#[test]
fn split_when_the_per_call_cap_binds() {
    // The same calls with c_call = 100 uopg and v_cap = $1: m_max = 3, so the rate is capped at
    // 100 / (3 * 1e6) uopg per weighted micro-USD (budget rate 8e8 / 3e6 is far above it).
    // usage(proxy-1) = 0.5 * 3e6 * 100 / 3e6 = 50, usage(local-1) = 3 * 5e5 * 100 / 3e6 = 50:
    // 100 uopg of usage for 4 calls (at most c_call each); 8e8 - 100 of the usage part stays
    // in the pool, as the pool reports in usage_unpaid.
    let mut r = hand_report();
    r.c_call = Some(Uint128::new(100));
    r.v_cap = Uint128::new(1_000_000);
    r.rate = Decimal::from_ratio(100u128, 3_000_000u128);
    r.commercial.usage_rewards = Uint128::new(50);
    r.community.usage_rewards = Uint128::new(50);
    r.usage_unpaid = Uint128::new(800_000_000 - 100);
    r.commercial.usage_paid = Uint128::new(50);
    r.paid = Uint128::new(50);
    let s = Split::of(&r);
    assert_eq!(s.usage_awarded, Uint128::new(100));
    assert!(s.usage_awarded.u128() <= 100 * 4, "at most c_call per call");
    assert_eq!(s.awarded, Uint128::new(200_000_100));
    assert_eq!(s.left_in_pool, Uint128::new(799_999_900));
    assert_eq!(s.left_in_pool, r.usage_unpaid + r.stipend_unpaid);
    assert_eq!(s.unclaimed, Uint128::new(200_000_050));
    assert_eq!(
        super::figures::rate(r.rate, "uopg"),
        "0 OPG per weighted USD"
    );
    assert_eq!(
        super::figures::rate(hand_report().rate, "uopg"),
        "266.6666 OPG per weighted USD"
    );
}

#[test]
fn split_when_no_local_node_is_live_leaves_the_stipend_in_the_pool() {
    // Same epoch without the local node: the stipend share (2e8) has no live node, the usage
    // part (8e8) all goes to proxy-1's commercial usage.
    let mut r = hand_report();
    r.community = ClassReport::default();
    r.commercial.usage_rewards = Uint128::new(800_000_000);
    r.community_share = Decimal::zero();
    r.live_local_nodes = 0;
    r.paid = Uint128::zero();
    r.stipend_unpaid = Uint128::new(200_000_000);
    let s = Split::of(&r);
    assert_eq!(s.community_calls_share, Decimal::zero());
    assert_eq!(s.awarded, Uint128::new(800_000_000));
    assert_eq!(s.left_in_pool, Uint128::new(200_000_000));
    assert_eq!(s.unclaimed, Uint128::new(800_000_000));
}

#[test]
fn split_of_an_empty_open_epoch_is_zero() {
    let r = EpochReport {
        epoch: 3,
        finalized: false,
        budget: Uint128::zero(),
        m_commercial: Decimal::one(),
        m_community: Decimal::one(),
        community_share: Decimal::zero(),
        commercial: ClassReport::default(),
        community: ClassReport::default(),
        live_local_nodes: 0,
        hardware_weight_total: Decimal::zero(),
        paid: Uint128::zero(),
        rate: Decimal::zero(),
        usage_budget: Uint128::zero(),
        stipend_budget: Uint128::zero(),
        usage_unpaid: Uint128::zero(),
        stipend_unpaid: Uint128::zero(),
        c_call: None,
        v_cap: Uint128::new(1_000_000),
        expired: false,
    };
    assert_eq!(Split::of(&r), Split::default());
}

#[test]
fn numbers_carry_their_units() {
    assert_eq!(micro(1_500_000), "1.5");
    assert_eq!(micro(1_234), "0.001234");
    assert_eq!(tokens(Uint128::new(400_000_000), "uopg"), "400 OPG");
    assert_eq!(
        tokens(Uint128::new(1_234_567_890_123), "uopg"),
        "1,234,567.890123 OPG"
    );
    assert_eq!(tokens(Uint128::new(1234), "stake"), "1,234 stake");
    assert_eq!(usd(Uint128::new(3_000_000)), "$3.00");
    assert_eq!(usd(Uint128::new(500_000)), "$0.50");
    assert_eq!(usd(Uint128::new(1_234_567)), "$1.234567");
    assert_eq!(percent(Decimal::from_ratio(1u128, 7u128)), "14.28 %");
    assert_eq!(percent(Decimal::percent(25)), "25 %");
    assert_eq!(percent(Decimal::one()), "100 %");
    assert_eq!(multiplier(Decimal::percent(50)), "×0.5");
    assert_eq!(multiplier(Decimal::from_ratio(3u128, 1u128)), "×3");
    assert_eq!(
        multiplier("4.181023720349563056".parse().unwrap()),
        "×4.181"
    );
}

#[test]
fn table_csv_and_json_show_the_pool_figures() {
    let f = figures(
        vec![hand_report()],
        vec![
            row(
                "local-1",
                "local",
                Provenance::Community,
                1,
                500_000,
                Some(600_000_000),
            ),
            row(
                "proxy-1",
                "proxy",
                Provenance::Commercial,
                3,
                3_000_000,
                Some(400_000_000),
            ),
        ],
    );
    let t = render_table(&f);
    assert!(t.contains("1,000 OPG"), "{t}");
    assert!(t.contains("25 %") && t.contains("14.28 %"), "{t}");
    assert!(t.contains("local-1") && t.contains("600 OPG"), "{t}");

    let csv = epochs_csv(&f);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 2);
    let header: Vec<&str> = lines[0].split(',').collect();
    let cells: Vec<&str> = lines[1].split(',').collect();
    assert_eq!(header.len(), cells.len());
    let cell = |name: &str| cells[header.iter().position(|h| *h == name).unwrap()];
    assert_eq!(cell("budget_uopg"), "1000000000");
    assert_eq!(cell("community_calls"), "1");
    assert_eq!(cell("community_stipend_uopg"), "200000000");
    assert_eq!(cell("left_in_pool_uopg"), "0");
    assert_eq!(cell("unclaimed_uopg"), "600000000");
    assert_eq!(cell("rate_uopg_per_micro_usd"), "266.666666666666666666");
    assert_eq!(cell("c_call_uopg"), "");
    assert_eq!(cell("v_cap_micro_usd"), "10000000");
    assert_eq!(cell("target_share"), "0.3");
    assert_eq!(cell("usage_paid_uopg"), "400000000");
    let nodes = nodes_csv(&f);
    assert!(
        nodes.contains("\n0,local-1,local,community,1,500000,500000,true,h100,600000000,400000000,200000000,false,false\n"),
        "{nodes}"
    );

    let json = serde_json::to_value(&f).unwrap();
    assert_eq!(
        json["epochs"][0]["report"]["community"]["stipend"],
        "200000000"
    );
    assert_eq!(json["epochs"][0]["split"]["usage_awarded"], "800000000");
    assert_eq!(json["node_rows"][1]["node_id"], "proxy-1");
    assert_eq!(json["node_rows"][1]["reward"], "400000000");
    let back: Figures = serde_json::from_value(json).unwrap();
    assert_eq!(back, f);
    assert_eq!(
        f.rewards_per_node(),
        vec![
            ("local-1".to_string(), Uint128::new(600_000_000)),
            ("proxy-1".to_string(), Uint128::new(400_000_000)),
        ]
    );
}

#[test]
fn page_is_plain_escaped_and_shows_the_split() {
    let f = figures(
        vec![hand_report()],
        vec![row(
            "proxy-1",
            "proxy",
            Provenance::Commercial,
            3,
            3_000_000,
            Some(400_000_000),
        )],
    );
    let charts = chart::charts(&f).unwrap();
    assert_eq!(
        charts.iter().map(|c| c.name).collect::<Vec<_>>(),
        ["calls", "value", "share", "multiplier", "budget", "nodes"]
    );
    for c in &charts {
        assert!(c.svg.starts_with("<svg"), "{}", c.name);
        assert!(c.svg.contains("viewBox"), "{}: scalable", c.name);
    }
    assert!(charts[5].svg.contains("proxy-1: 400 OPG"));
    let html = render(&Page {
        figures: &f,
        charts: &charts,
        detail: None,
        links: Links::Server,
        refresh_secs: Some(30),
        subtitle: None,
    });
    assert!(!html.to_ascii_lowercase().contains("<script"));
    assert!(html.contains("<meta http-equiv=\"refresh\" content=\"30\">"));
    assert!(html.contains("name=\"viewport\""));
    // escaped, never raw
    assert!(html.contains("pool&lt;&amp;&gt;") && !html.contains("pool<&>"));
    assert!(html.contains("<td data-field=\"community.calls\" data-value=\"1\">1</td>"));
    assert!(
        html.contains("<td data-field=\"community.stipend\" data-value=\"200000000\">200 OPG</td>")
    );
    assert!(html.contains("<a href=\"/epochs/0\">Epoch 0</a>"));
    assert!(html.contains("role=\"img\" aria-labelledby=\"chart-calls\""));
    // statuses and classes as words
    assert!(html.contains(">finalized<") && html.contains(">community<"));

    let file = render(&Page {
        figures: &f,
        charts: &charts,
        detail: None,
        links: Links::Anchors,
        refresh_secs: None,
        subtitle: Some("simulated".into()),
    });
    assert!(file.contains("<a href=\"#epoch-0\">Epoch 0</a>") && file.contains("id=\"epoch-0\""));
    assert!(!file.contains("http-equiv"));
}
