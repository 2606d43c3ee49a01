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
    w.horizon_epochs = 2;
    w.volume_multiples = vec![2.0];
    w.value_multiples = vec![1.0, 10.0];
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
        SEED_SCENARIO.replace("host_w = 100", "host_w = 100\npower_w = 700"),
    )
    .unwrap();
    let e = Scenario::load(&bad).unwrap_err().to_string();
    assert!(e.contains("unknown field") && e.contains("power_w"), "{e}");

    // 70B unquantized does not fit one 80 GB card: refused before anything is signed
    std::fs::write(
        &bad,
        SEED_SCENARIO.replace("quantization = \"q4_0\"", "quantization = \"bf16\""),
    )
    .unwrap();
    let e = Scenario::load(&bad).unwrap_err().to_string();
    assert!(
        e.contains("nodes[1].serving[0].quantization") && e.contains("does not fit"),
        "{e}"
    );

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
        // what caps and empty classes leave unpaid stays in the pool; the rest is paid out but
        // rounding dust
        let left = r.budget.u128() - claimed;
        assert!(left >= r.unpaid.u128(), "epoch {}", r.epoch);
        assert!(
            left - r.unpaid.u128() <= s.nodes.len() as u128 * 2 + 4,
            "epoch {}: {left} left, {} unpaid",
            r.epoch,
            r.unpaid
        );
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
    assert_eq!(generated, s.epochs * s.calls_per_epoch);

    check_run_against_chain(&s, &o.volume_only, generated);
    check_run_against_chain(&s, &o.provenance, generated);
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
    assert!(pr.community_share.iter().all(|x| *x > 0.0 && *x < 1.0));
    // volume-only pays no stipend and leaves nothing unpaid but dust; provenance pays a stipend
    assert_eq!(vo.stipend_paid_tokens, 0.0);
    assert!(pr.stipend_paid_tokens > 0.0);
    for m in [vo, pr] {
        let sum = m.usage_paid_tokens + m.stipend_paid_tokens + m.unpaid_tokens;
        // all but per-node rounding dust
        assert!(
            sum <= m.budget_tokens + 1e-9,
            "{sum} vs {}",
            m.budget_tokens
        );
        assert!(m.budget_tokens - sum < 1e-3, "{sum} vs {}", m.budget_tokens);
    }

    // provenance moves rewards from the proxy to the local nodes
    let proxy = proxy_id(&s);
    assert!(node(vo, &proxy).rewards_tokens > node(pr, &proxy).rewards_tokens);
    for n in s.nodes.iter().filter(|n| n.kind == KindSpec::Local) {
        assert!(
            node(pr, &n.id).rewards_tokens > node(vo, &n.id).rewards_tokens,
            "{}",
            n.id
        );
        let row = node(pr, &n.id);
        assert!(row.hardware_usd > 0.0);
        assert!((row.net_incl_hardware_usd - (row.net_usd - row.hardware_usd)).abs() < 1e-5);
    }

    // the wash attacker's search: every candidate through the pipeline, both modes
    let a = o.attack.as_ref().unwrap();
    assert_eq!(a.horizon_epochs, 2);
    let w = o.report.wash_attack.as_ref().unwrap();
    assert_eq!(w.curve.len(), 3, "zero + one volume x two values");
    assert_eq!(w.volume_only_curve.len(), 3);
    assert_eq!(w.curve[0].calls_per_epoch, 0);
    assert_eq!(w.curve[0].net_usd, 0.0);
    let key_cost = s.settlement.funding_transfer_usd;
    for c in w.curve.iter().chain(&w.volume_only_curve).skip(1) {
        let calls = c.calls_per_epoch * a.horizon_epochs;
        let keys = a.horizon_epochs
            * c.calls_per_epoch
                .div_ceil(u64::from(s.wash_attack.as_ref().unwrap().calls_per_key));
        let cost = calls as f64 * s.settlement.per_call_usd() + keys as f64 * key_cost;
        assert!((c.cost_usd - cost).abs() < 1e-6, "{} vs {cost}", c.cost_usd);
        assert!((c.net_usd - (c.rewards_usd - c.cost_usd)).abs() < 1e-5);
    }
    // provenance: no self-paid call earns more than c_call, so none pays
    let c_call_usd = s.rewards.c_call_uopg.unwrap() as f64 / MICRO as f64 * s.token_price_usd;
    for c in &w.curve {
        assert!(
            c.rewards_usd <= (c.calls_per_epoch * a.horizon_epochs) as f64 * c_call_usd + 1e-6,
            "{c:?}"
        );
    }
    assert_eq!(w.best.calls_per_epoch, 0, "{:?}", w.curve);
    assert!(w.net_usd <= 0.0 && w.net_usd == w.best.net_usd);
    // volume-only: value buys rewards, the attack pays
    assert!(w.volume_only_best.calls_per_epoch > 0);
    assert!(w.volume_only_best.net_usd > 0.0);

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
        .replace("horizon_epochs = 3", "horizon_epochs = 1")
        .replace(
            "volume_multiples = [1.0, 3.0, 10.0]",
            "volume_multiples = [2.0]",
        );
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
                "budget_tokens",
                "community_multiplier_by_epoch",
                "community_share",
                "nodes",
                "receipts_accepted",
                "receipts_rejected",
                "stipend_paid_tokens",
                "unpaid_tokens",
                "usage_paid_tokens"
            ]
        );
        assert_eq!(m["receipts_accepted"], v["receipts"]);
        assert_eq!(m["nodes"].as_array().unwrap().len(), 3);
        for n in m["nodes"].as_array().unwrap() {
            assert!(n["kind"] == "proxy" || n["kind"] == "local");
            assert!(n["net_incl_hardware_usd"].is_number());
        }
    }
    let mut wk: Vec<_> = v["wash_attack"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    wk.sort();
    assert_eq!(
        wk,
        [
            "best",
            "cost_usd",
            "curve",
            "horizon_epochs",
            "net_usd",
            "node_id",
            "organic_calls_per_epoch",
            "rewards_usd",
            "volume_only_best",
            "volume_only_curve"
        ]
    );
    let wa = &v["wash_attack"];
    assert_eq!(wa["node_id"], "local-4090");
    for k in ["cost_usd", "rewards_usd", "net_usd"] {
        assert_eq!(wa[k], wa["best"][k], "{k}");
    }
    assert_eq!(wa["curve"].as_array().unwrap().len(), 3);
    // the files: the same document and an SVG chart
    let file: Report =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("report.json")).unwrap())
            .unwrap();
    assert_eq!(file, report);
    let svg = std::fs::read_to_string(out_dir.join("cumulative-net.svg")).unwrap();
    assert!(svg.contains("<svg") && svg.contains("proxy-gpt41"));
    // throughput goes to stderr
    assert!(String::from_utf8_lossy(&output.stderr).contains("receipt passes/s"));
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
    // volume-only: the proxy covers at least six months of electricity per month, every local
    // node loses money
    let covered = node(vo, &proxy)
        .electricity_months_covered_per_month
        .unwrap();
    assert!(
        covered >= 6.0,
        "proxy covers only {covered} months per month"
    );
    let locals: Vec<_> = s
        .nodes
        .iter()
        .filter(|n| n.kind == KindSpec::Local)
        .collect();
    for n in &locals {
        assert!(
            node(vo, &n.id).net_usd < 0.0,
            "{} nets {} under volume-only",
            n.id,
            node(vo, &n.id).net_usd
        );
        // provenance: every honest local node better off
        assert!(
            node(pr, &n.id).net_usd > node(vo, &n.id).net_usd,
            "{}",
            n.id
        );
    }
    // at least one local node breaks even on electricity; the proxy still profits
    assert!(
        locals.iter().any(|n| node(pr, &n.id).net_usd >= 0.0),
        "no local node breaks even: {:?}",
        pr.nodes
    );
    assert!(node(pr, &proxy).net_usd > 0.0, "{:?}", node(pr, &proxy));
    assert!(node(pr, &proxy).rewards_usd < node(vo, &proxy).rewards_usd);
    // the budget is never exceeded
    for run in [&o.volume_only, &o.provenance] {
        for r in &run.readings {
            assert!(r.paid <= r.budget, "epoch {}", r.epoch);
            assert_eq!(r.usage_paid + r.stipend_paid, r.paid, "epoch {}", r.epoch);
            assert!(r.paid + r.unpaid <= r.budget, "epoch {}", r.epoch);
        }
    }
    // the attacker's best response adds no calls under provenance rewards (c_call is at most
    // the settlement cost), while washing pays under volume-only rewards
    assert!(s.rewards.c_call_uopg.unwrap() <= s.settlement_cost_uopg());
    let w = o.report.wash_attack.as_ref().unwrap();
    assert_eq!(w.best.calls_per_epoch, 0, "{:?}", w.curve);
    assert!(w.net_usd <= 0.0);
    assert!(
        w.curve.iter().skip(1).all(|c| c.net_usd < 0.0),
        "{:?}",
        w.curve
    );
    assert!(w.volume_only_best.calls_per_epoch > 0 && w.volume_only_best.net_usd > 0.0);
}

/// The whole default run (30 epochs and the attacker's search, the same as `opg simulate`): the
/// motivating case under volume-only rewards (DESIGN §7), and under provenance rewards every
/// honest local node better off, one breaking even on electricity, the proxy still profitable,
/// the wash attacker's best response zero added calls, the budget never exceeded.
#[test]
fn seed_scenario_full_month() {
    let s = Scenario::seed().unwrap();
    let o = simulate(&s, &opts()).unwrap();
    assert_motivating_case(&s, &o);
    check_run_against_chain(&s, &o.volume_only, o.report.receipts);
    check_run_against_chain(&s, &o.provenance, o.report.receipts);
    check_report_matches_runs(&s, &o);
}

/// `opg simulate --sweep` on a two-point grid: `sweep.json` (every point, both nets) and the
/// `sweep.svg` heatmap in `--out`; washing pays only where `c_call` exceeds the settlement cost.
#[test]
fn sweep_writes_json_and_heatmap() {
    let dir = tempfile::tempdir().unwrap();
    let scenario_path = dir.path().join("sweep.toml");
    let text = SEED_SCENARIO
        .replace("name = \"seed\"", "name = \"small-sweep\"")
        .replace("calls_per_epoch = 300", "calls_per_epoch = 60")
        .replace("community_share = [0.05, 0.2]", "community_share = [0.2]")
        .replace(
            "emission_per_epoch_opg = [25, 50, 200]",
            "emission_per_epoch_opg = [200]",
        )
        .replace("alpha = [0.5, 0.9]", "alpha = [0.9]")
        .replace(
            "c_call_multiples = [0.5, 1.0, 2.0]",
            "c_call_multiples = [1.0, 5.0]",
        )
        .replace(
            "attack_volume_multiples = [1.0, 10.0]",
            "attack_volume_multiples = [10.0]",
        );
    std::fs::write(&scenario_path, text).unwrap();
    let out_dir = dir.path().join("out");
    let output = Command::new(env!("CARGO_BIN_EXE_opg"))
        .args(["simulate", "--sweep", "--json", "--scenario"])
        .arg(&scenario_path)
        .arg("--out")
        .arg(&out_dir)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("sweep.json")).unwrap())
            .unwrap();
    assert_eq!(v, file);
    let points = v["points"].as_array().unwrap();
    assert_eq!(points.len(), 2);
    assert_eq!(v["runs"], 4, "an honest run and one attack per point");
    for p in points {
        assert_eq!(p["paid_within_budget"], true);
        assert!(p["worst_local_net_usd_per_month"].is_number());
    }
    // at the settlement cost washing does not pay; at 5x it does
    assert_eq!(points[0]["c_call_multiple"], 1.0);
    assert_eq!(points[0]["attacker_best_calls_per_epoch"], 0);
    assert_eq!(points[1]["c_call_multiple"], 5.0);
    assert!(
        points[1]["attacker_best_net_usd_per_month"]
            .as_f64()
            .unwrap()
            > 0.0
    );
    let svg = std::fs::read_to_string(out_dir.join("sweep.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("attacker best net"));
}

/// The payment-mix knob: a third of the calls paid with x402 `exact` via Permit2 and a third
/// with `upto` go through the same pipeline and chain, and all are accepted, counting the same
/// values (the `upto` ones settle the price out of twice as much signed).
#[test]
fn permit2_and_upto_traffic_is_accepted_end_to_end() {
    let mut s = small();
    s.wash_attack = None;
    s.permit2_exact_fraction = 1.0 / 3.0;
    s.upto_fraction = 1.0 / 3.0;
    s.validate().unwrap();
    let o = simulate(&s, &opts()).unwrap();
    let generated: u64 = o.report.receipts;
    assert_eq!(generated, s.epochs * s.calls_per_epoch);
    check_run_against_chain(&s, &o.volume_only, generated);
    check_run_against_chain(&s, &o.provenance, generated);
    let mut bad = small();
    bad.permit2_exact_fraction = 0.6;
    bad.upto_fraction = 0.6;
    assert!(bad
        .validate()
        .unwrap_err()
        .to_string()
        .contains("upto_fraction"));
}
