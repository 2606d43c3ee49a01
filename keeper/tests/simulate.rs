//! `opg simulate` end to end: scenario files, the whole pipeline on a small scenario, the JSON
//! document on stdout of the real binary, and the default scenario's motivating case.
use std::path::{Path, PathBuf};
use std::process::Command;

use opg_keeper::simulate::pipeline::ModeRun;
use opg_keeper::simulate::report::Report;
use opg_keeper::simulate::scenario::{KindSpec, Scenario, ScenarioError, MICRO, SEED_SCENARIO};
use opg_keeper::simulate::{simulate, Outcome, RunOptions};

fn scenarios_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios")
}

/// The seed scenario shrunk to a few epochs and calls (same nodes, prices and params).
fn small() -> Scenario {
    let mut s = Scenario::seed().unwrap();
    s.name = "small".into();
    s.epochs = 3;
    s.calls_per_epoch = 40;
    s.payers = 6;
    s.demand.community_share = 0.2;
    let w = s.wash_attack.as_mut().unwrap();
    w.fresh_payers_per_epoch = 3;
    w.calls_per_payer = 2;
    s.validate().unwrap();
    s
}

fn opts() -> RunOptions {
    RunOptions {
        progress: false,
        threads: 2,
    }
}

fn node<'a>(
    r: &'a opg_keeper::simulate::report::ModeReport,
    id: &str,
) -> &'a opg_keeper::simulate::report::NodeRow {
    r.nodes.iter().find(|n| n.node_id == id).unwrap()
}

fn proxy_id(s: &Scenario) -> String {
    s.nodes
        .iter()
        .find(|n| n.kind == KindSpec::Proxy)
        .unwrap()
        .id
        .clone()
}

#[test]
fn bad_scenario_files_give_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.toml");
    let e = Scenario::load(&missing).unwrap_err();
    assert!(matches!(e, ScenarioError::Read { .. }));
    assert!(e.to_string().contains("missing.toml"), "{e}");

    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        SEED_SCENARIO.replace("epochs = 30", "epochs = \"thirty\""),
    )
    .unwrap();
    let e = Scenario::load(&bad).unwrap_err().to_string();
    assert!(e.contains("epochs"), "{e}");

    std::fs::write(
        &bad,
        SEED_SCENARIO.replace("power_w = 700", "power_w = 700\ngpu = \"h100\""),
    )
    .unwrap();
    let e = Scenario::load(&bad).unwrap_err().to_string();
    assert!(e.contains("unknown field") && e.contains("gpu"), "{e}");

    std::fs::write(&bad, SEED_SCENARIO.replace("hardware = \"h100\"\n", "")).unwrap();
    let e = Scenario::load(&bad).unwrap_err().to_string();
    assert!(
        e.contains("nodes[1].hardware") && e.contains("attested hardware"),
        "{e}"
    );

    std::fs::write(
        &bad,
        SEED_SCENARIO.replace("target_share = 0.25", "target_share = 0"),
    )
    .unwrap();
    let e = Scenario::load(&bad).unwrap_err().to_string();
    assert!(e.contains("rewards.target_share"), "{e}");
}

#[test]
fn shipped_scenarios_are_valid() {
    for name in ["seed.toml", "community-growth.toml"] {
        Scenario::load(&scenarios_dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

fn check_run_against_chain(s: &Scenario, run: &ModeRun, generated: u64) {
    // every receipt generated was accepted, none rejected
    assert_eq!(run.receipts_posted, generated, "{:?}", run.mode);
    assert_eq!(run.receipts_accepted, generated, "{:?}", run.mode);
    assert_eq!(run.receipts_rejected, 0, "{:?}", run.mode);
    for r in &run.readings {
        // what the operators received on claim is what the pool counts as paid, and it never
        // exceeds the budget, which never exceeds the emission
        let claimed: u128 = r.nodes.values().map(|n| n.claimed.u128()).sum();
        assert_eq!(
            claimed,
            r.paid.u128(),
            "epoch {} of {:?}",
            r.epoch,
            run.mode
        );
        assert!(
            r.paid <= r.budget && r.budget <= run.emission,
            "epoch {}",
            r.epoch
        );
        assert!(!r.budget.is_zero());
        // with every node served, nothing stays in the pool but rounding dust
        if r.nodes.values().all(|n| n.calls > 0) {
            assert!(
                r.budget.u128() - claimed <= s.nodes.len() as u128 * 2 + 4,
                "epoch {}",
                r.epoch
            );
        }
    }
}

fn check_report_matches_runs(s: &Scenario, o: &Outcome) {
    for (mode, run) in [
        (&o.report.modes.volume_only, &o.volume_only),
        (&o.report.modes.provenance, &o.provenance),
    ] {
        for n in &s.nodes {
            let row = node(mode, &n.id);
            let paid = run.claimed_total(&n.id) as f64 / MICRO as f64;
            assert!(
                (row.rewards_tokens - paid).abs() < 1e-6,
                "{}: {} vs {paid}",
                n.id,
                row.rewards_tokens
            );
            assert!((row.rewards_usd - paid * s.token_price_usd).abs() < 1e-5);
            let calls: u64 = run
                .readings
                .iter()
                .filter_map(|r| r.nodes.get(&n.id))
                .map(|x| x.calls)
                .sum();
            assert_eq!(row.calls, calls);
        }
        assert_eq!(mode.community_share.len() as u64, s.epochs);
        assert_eq!(mode.community_multiplier_by_epoch.len() as u64, s.epochs);
    }
}

#[test]
fn small_scenario_end_to_end() {
    let s = small();
    let o = simulate(&s, &opts()).unwrap();
    let generated: u64 = o.report.receipts;
    let w = s.wash_attack.as_ref().unwrap();
    let wash = s.epochs * (w.fresh_payers_per_epoch * w.calls_per_payer) as u64;
    assert_eq!(generated, s.epochs * s.calls_per_epoch + wash);

    check_run_against_chain(&s, &o.volume_only, generated);
    check_run_against_chain(&s, &o.provenance, generated);
    let baseline = o.provenance_without_attack.as_ref().unwrap();
    check_run_against_chain(&s, baseline, generated - wash);
    check_report_matches_runs(&s, &o);

    // volume-only: multipliers 1; provenance: full boost in epoch 0 (no previous share)
    let vo = &o.report.modes.volume_only;
    let pr = &o.report.modes.provenance;
    assert!(vo.community_multiplier_by_epoch.iter().all(|m| *m == 1.0));
    assert_eq!(
        pr.community_multiplier_by_epoch[0],
        s.rewards.m_community_max
    );
    assert!(pr
        .community_multiplier_by_epoch
        .iter()
        .all(|m| *m >= 1.0 && *m <= s.rewards.m_community_max));
    // the same traffic gives the same community share in both modes
    assert_eq!(vo.community_share, pr.community_share);
    assert!(pr.community_share.iter().all(|x| *x > 0.0 && *x < 1.0));

    // provenance moves rewards from the proxy to the local nodes
    let proxy = proxy_id(&s);
    assert!(node(vo, &proxy).rewards_tokens > node(pr, &proxy).rewards_tokens);
    for n in s.nodes.iter().filter(|n| n.kind == KindSpec::Local) {
        assert!(
            node(pr, &n.id).rewards_tokens > node(vo, &n.id).rewards_tokens,
            "{}",
            n.id
        );
    }

    // the wash attack: cost from fees and funding, winnings measured against the run without it
    let wa = &o.report.wash_attack;
    let cost = wash as f64 * w.settlement_fee_usd
        + (s.epochs * w.fresh_payers_per_epoch as u64) as f64 * w.funding_cost_usd;
    assert!(
        (wa.cost_usd - cost).abs() < 1e-6,
        "{} vs {cost}",
        wa.cost_usd
    );
    let won = (o.provenance.claimed_total(&w.node) as f64 - baseline.claimed_total(&w.node) as f64)
        / MICRO as f64
        * s.token_price_usd;
    assert!((wa.rewards_usd - won).abs() < 1e-5);
    assert!((wa.net_usd - (wa.rewards_usd - wa.cost_usd)).abs() < 1e-5);
    // the attacker's self-payments are not revenue: his revenue equals the run without the attack
    let attacker_rev = node(pr, &w.node).revenue_usd;
    let base_rev: u128 = baseline
        .readings
        .iter()
        .filter_map(|r| r.nodes.get(&w.node))
        .map(|n| n.raw_value.u128())
        .sum();
    assert!((attacker_rev - base_rev as f64 / MICRO as f64).abs() < 1e-6);

    // deterministic: the same scenario gives the same report
    let again = simulate(&s, &opts()).unwrap();
    assert_eq!(again.report, o.report);
}

#[test]
fn json_on_stdout_is_exactly_the_document() {
    let dir = tempfile::tempdir().unwrap();
    let scenario_path = dir.path().join("small.toml");
    let text = SEED_SCENARIO
        .replace("name = \"seed\"", "name = \"small-cli\"")
        .replace("epochs = 30", "epochs = 5")
        .replace("calls_per_epoch = 300", "calls_per_epoch = 20")
        .replace("fresh_payers_per_epoch = 20", "fresh_payers_per_epoch = 2");
    std::fs::write(&scenario_path, text).unwrap();
    let out_dir = dir.path().join("out");
    let output = Command::new(env!("CARGO_BIN_EXE_opg"))
        .args(["simulate", "--scenario"])
        .arg(&scenario_path)
        .args(["--epochs", "2", "--json", "--out"])
        .arg(&out_dir)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    let v: serde_json::Value = serde_json::from_str(&stdout).expect("stdout is one JSON document");
    let report: Report = serde_json::from_value(v.clone()).expect("exactly the documented fields");
    assert_eq!(report.scenario, "small-cli");
    assert_eq!(report.epochs, 2, "--epochs overrides the scenario");
    let mut keys: Vec<_> = v.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(
        keys,
        ["epochs", "modes", "receipts", "scenario", "wash_attack"]
    );
    for mode in ["volume_only", "provenance"] {
        let m = &v["modes"][mode];
        let mut mk: Vec<_> = m.as_object().unwrap().keys().cloned().collect();
        mk.sort();
        assert_eq!(
            mk,
            [
                "community_multiplier_by_epoch",
                "community_share",
                "nodes",
                "receipts_accepted",
                "receipts_rejected"
            ]
        );
        assert_eq!(m["receipts_accepted"], v["receipts"]);
        assert_eq!(m["nodes"].as_array().unwrap().len(), 3);
        for n in m["nodes"].as_array().unwrap() {
            assert!(n["kind"] == "proxy" || n["kind"] == "local");
        }
    }
    let mut wk: Vec<_> = v["wash_attack"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    wk.sort();
    assert_eq!(wk, ["cost_usd", "net_usd", "rewards_usd"]);
    // the files: the same document and an SVG chart
    let file: Report =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("report.json")).unwrap())
            .unwrap();
    assert_eq!(file, report);
    let svg = std::fs::read_to_string(out_dir.join("cumulative-net.svg")).unwrap();
    assert!(svg.contains("<svg") && svg.contains("proxy-gpt41"));
    // throughput goes to stderr
    assert!(String::from_utf8_lossy(&output.stderr).contains("receipts/s"));
}

#[test]
fn bad_scenario_fails_the_command() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(&path, "name = \"x\"\n").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_opg"))
        .args(["simulate", "--json", "--scenario"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(output.stdout.is_empty(), "nothing on stdout on error");
    assert!(String::from_utf8_lossy(&output.stderr).contains("missing field"));
}

fn assert_motivating_case(s: &Scenario, o: &Outcome) {
    let vo = &o.report.modes.volume_only;
    let pr = &o.report.modes.provenance;
    let proxy = proxy_id(s);
    let covered = node(vo, &proxy)
        .electricity_months_covered_per_month
        .unwrap();
    assert!(
        covered >= 6.0,
        "proxy covers only {covered} months per month"
    );
    for n in s.nodes.iter().filter(|n| n.kind == KindSpec::Local) {
        assert!(
            node(vo, &n.id).net_usd < 0.0,
            "{} nets {} under volume-only",
            n.id,
            node(vo, &n.id).net_usd
        );
        assert!(
            node(pr, &n.id).net_usd > node(vo, &n.id).net_usd,
            "{}",
            n.id
        );
    }
    assert!(node(pr, &proxy).rewards_usd < node(vo, &proxy).rewards_usd);
}

/// The default scenario's motivating case (DESIGN §7): under volume-only rewards the GPT-4.1 proxy
/// covers at least six months of its electricity per month while every local node loses money;
/// provenance rewards lower the proxy's rewards and raise the local nodes'. The seed scenario has
/// no demand drift, so the property is per epoch and holds on a shortened run (2 of 30 days, the
/// full daily traffic) that keeps the debug-build test fast; the full month runs in
/// `seed_scenario_full_month` (ignored by default).
#[test]
fn seed_scenario_reproduces_the_motivating_case() {
    let mut s = Scenario::seed().unwrap();
    assert_eq!(
        s.demand.community_share_drift, 0.0,
        "the shortened run relies on a stationary scenario"
    );
    s.epochs = 2;
    let o = simulate(&s, &opts()).unwrap();
    assert_motivating_case(&s, &o);
}

/// The whole default run (30 epochs, the same as `opg simulate`): about a minute in release, several
/// in a debug build. Run with `cargo test --release -p opg-keeper --test simulate -- --ignored`.
#[test]
#[ignore = "the full 30-epoch default run takes about a minute in release; the 2-epoch test above checks the same property"]
fn seed_scenario_full_month() {
    let s = Scenario::seed().unwrap();
    let o = simulate(&s, &opts()).unwrap();
    assert_motivating_case(&s, &o);
    check_run_against_chain(&s, &o.volume_only, o.report.receipts);
    check_run_against_chain(&s, &o.provenance, o.report.receipts);
    check_report_matches_runs(&s, &o);
}
