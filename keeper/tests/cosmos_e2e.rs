//! `opg devnet` in-process, then the CLI against it over CometBFT JSON-RPC: `opg deploy` (the
//! real artifacts of `scripts/build-wasm.sh`), `opg gov add-model`, `opg node register|status|
//! list|deregister`, `opg query`, and the clear errors of a wrong chain id, an insufficient fee
//! and an unknown contract.
//!
//! Needs `artifacts/*.wasm` + `artifacts/checksums.txt`: run with `scripts/e2e-cosmos.sh`
//! (feature `e2e-artifacts`).
use std::path::{Path, PathBuf};

use clap::Parser;
use opg_core::msg::registry::{NodeInfo, NodesResponse, QueryMsg as RegistryQuery};
use opg_core::types::NodeStatus;
use opg_keeper::chain::cosmos::{CosmosChain, CosmosConfig, DeployState, HttpRpc};
use opg_keeper::cli::common::{smart_query, ChainArgs, Reader};
use opg_keeper::cli::deploy::{deploy, write_state, DeployConfig};
use opg_keeper::cli::{run, Cli};
use opg_keeper::devnet::{Devnet, DevnetConfig};
use opg_keeper::tx::keys::TxKey;

fn artifacts_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../artifacts");
    assert!(
        dir.join("checksums.txt").exists(),
        "{} is missing: run scripts/build-wasm.sh before this test (scripts/e2e-cosmos.sh)",
        dir.join("checksums.txt").display()
    );
    dir.canonicalize().unwrap()
}

fn opg(args: &[&str]) -> anyhow::Result<()> {
    let mut argv = vec!["opg"];
    argv.extend_from_slice(args);
    run(Cli::try_parse_from(argv)?)
}

#[test]
fn deploy_register_query_and_clear_errors_on_the_devnet() {
    let artifacts = artifacts_dir();
    // the devnet maps uploaded wasm to native code by these checksums
    std::env::set_var("OPG_ARTIFACTS_DIR", &artifacts);
    let home = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let devnet = rt.block_on(async {
        let mut cfg = DevnetConfig::new(home.path().join("devnet"));
        cfg.listen = "127.0.0.1:0".parse().unwrap();
        cfg.block_time = Some(5);
        Devnet::start(cfg).await.unwrap()
    });
    let url = devnet.rpc_url();
    let chain_id = devnet.chain_id.clone();
    let mnemonic = home.path().join("deployer.mnemonic");
    std::fs::write(&mnemonic, &devnet.accounts[0].mnemonic).unwrap();
    let operator = home.path().join("operator.mnemonic");
    std::fs::write(&operator, &devnet.accounts[1].mnemonic).unwrap();

    // --- opg deploy
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy.example.toml");
    let text = std::fs::read_to_string(example)
        .unwrap()
        .replace("http://127.0.0.1:26657", &url)
        .replace(
            "mnemonic_env = \"OPG_DEPLOYER_MNEMONIC\"",
            &format!("mnemonic_file = {:?}", mnemonic.display().to_string()),
        )
        .replace(
            "\"../artifacts\"",
            &format!("{:?}", artifacts.display().to_string()),
        );
    let config_path = home.path().join("deploy.toml");
    std::fs::write(&config_path, &text).unwrap();
    let state_path = home.path().join("deploy.json");
    let config = DeployConfig::read(&config_path).unwrap();
    let state = deploy(&config).unwrap();
    write_state(&state_path, &state).unwrap();
    assert_eq!(state.chain_id, chain_id);
    let back = DeployState::read(&state_path).unwrap();
    assert_eq!(back, state);
    let d = &state.deployment;
    assert!(d.registry.starts_with("wasm1") && d.pool.starts_with("wasm1"));
    assert_ne!(d.registry, d.verifier);

    // the contracts are wired: the pool knows the verifier, the registry the pool
    let rpc = HttpRpc::new(&url).unwrap();
    let pool_cfg: opg_core::msg::pool::ConfigResponse =
        smart_query(&rpc, &d.pool, &opg_core::msg::pool::QueryMsg::Config {}).unwrap();
    assert_eq!(
        pool_cfg.verifier.map(|a| a.to_string()),
        Some(d.verifier.clone())
    );
    let reg_cfg: opg_core::msg::registry::ConfigResponse =
        smart_query(&rpc, &d.registry, &RegistryQuery::Config {}).unwrap();
    assert_eq!(
        reg_cfg.reward_pool.map(|a| a.to_string()),
        Some(d.pool.clone())
    );
    assert_eq!(reg_cfg.governance.as_str(), devnet.accounts[0].address);

    let state_s = state_path.display().to_string();
    let gov_key = mnemonic.display().to_string();
    let op_key = operator.display().to_string();
    let conn = |key: &str| -> Vec<String> {
        vec![
            "--node".into(),
            url.clone(),
            "--state".into(),
            state_s.clone(),
            "--mnemonic-file".into(),
            key.into(),
        ]
    };
    let with = |head: &[&str], key: &str, tail: &[&str]| -> anyhow::Result<()> {
        let c = conn(key);
        let mut v: Vec<&str> = head.to_vec();
        v.extend(c.iter().map(String::as_str));
        v.extend_from_slice(tail);
        opg(&v)
    };

    // --- opg gov add-model (the deployer is governance)
    with(
        &["gov"],
        &gov_key,
        &[
            "add-model",
            "--id",
            "openai/gpt-4.1",
            "--provenance",
            "commercial",
        ],
    )
    .unwrap();
    // a non-governance signer is refused by the contract
    let e = with(
        &["gov"],
        &op_key,
        &["add-model", "--id", "x/y", "--provenance", "community"],
    )
    .unwrap_err();
    assert!(format!("{e:#}").contains("refused"), "{e:#}");

    // --- opg node keygen + register (proxy)
    let node_key = home.path().join("node.key");
    opg(&[
        "node",
        "keygen",
        "--type",
        "secp256k1",
        "--out",
        &node_key.display().to_string(),
    ])
    .unwrap();
    let register = |id: &str, bond: &str| {
        with(
            &["node", "register"],
            &op_key,
            &[
                "--node-id",
                id,
                "--kind",
                "proxy",
                "--upstream",
                "https://api.openai.com",
                "--node-key-file",
                &node_key.display().to_string(),
                "--pay-to",
                "0x1111111111111111111111111111111111111111",
                "--endpoint",
                "https://proxy-1.example",
                "--model",
                "openai/gpt-4.1",
                "--bond",
                bond,
            ],
        )
    };
    let e = register("proxy-1", "10uopg").unwrap_err();
    assert!(format!("{e:#}").to_lowercase().contains("bond"), "{e:#}");
    register("proxy-1", "1000000uopg").unwrap();

    // --- status / list / query
    let args = ChainArgs::try_parse_from_state(&url, &state_s);
    let reader = Reader::open(&args).unwrap();
    let status = opg_keeper::cli::node::status(&reader, "proxy-1").unwrap();
    let node: NodeInfo = serde_json::from_value(status["node"].clone()).unwrap();
    assert_eq!(node.operator.as_str(), devnet.accounts[1].address);
    assert_eq!(node.bond.u128(), 1_000_000);
    assert_eq!(node.status, NodeStatus::Active);
    assert_eq!(status["pending_rewards"]["amount"], "0");
    let nodes: NodesResponse = reader
        .query(
            &d.registry,
            &RegistryQuery::Nodes {
                kind: None,
                status: None,
                start_after: None,
                limit: None,
            },
        )
        .unwrap();
    assert_eq!(nodes.nodes.len(), 1);
    let epoch = opg_keeper::cli::query::answer(
        &reader,
        &opg_keeper::cli::query::QueryCommand::Epoch { epoch: None },
    )
    .unwrap();
    assert_eq!(epoch["clock"]["epoch_length"], 3600);

    // --- generate-only prints the unsigned tx and sends nothing
    with(
        &["node", "deregister"],
        &op_key,
        &["--node-id", "proxy-1", "--generate-only"],
    )
    .unwrap();
    let n: NodeInfo = reader
        .query(
            &d.registry,
            &RegistryQuery::Node {
                node_id: "proxy-1".into(),
            },
        )
        .unwrap();
    assert_eq!(n.status, NodeStatus::Active);
    with(&["node", "deregister"], &op_key, &["--node-id", "proxy-1"]).unwrap();
    let n: NodeInfo = reader
        .query(
            &d.registry,
            &RegistryQuery::Node {
                node_id: "proxy-1".into(),
            },
        )
        .unwrap();
    assert_ne!(n.status, NodeStatus::Active);

    // --- clear errors
    // wrong chain id
    let e = with(
        &["node", "claim"],
        &op_key,
        &["--node-id", "proxy-1", "--chain-id", "other-chain-9"],
    )
    .unwrap_err();
    assert!(format!("{e:#}").contains("wrong chain id"), "{e:#}");
    // unknown contract
    let e = match smart_query::<serde_json::Value>(
        &rpc,
        &opg_keeper::tx::keys::bech32_address("wasm", &[7u8; 32]).unwrap(),
        &RegistryQuery::Config {},
    ) {
        Ok(v) => panic!("a query of an unknown contract answered {v}"),
        Err(e) => format!("{e:#}"),
    };
    assert!(e.contains("failed"), "{e}");
    // insufficient fee: a gas price below the devnet's minimum
    let key = TxKey::from_file(&operator, "m/44'/118'/0'/0/0", "wasm").unwrap();
    let mut low = CosmosConfig::new(&url, &chain_id, "0.000001uopg");
    low.deployment = Some(d.clone());
    let chain = CosmosChain::with_rpc(low, Box::new(HttpRpc::new(&url).unwrap()), key).unwrap();
    let e = chain
        .execute(&d.verifier, br#"{"prune_nonces":{"limit":10}}"#.to_vec())
        .unwrap_err()
        .to_string();
    assert!(e.contains("insufficient fee"), "{e}");

    drop(rpc);
    rt.block_on(devnet.stop());
}

/// Read-only chain args for `Reader::open`.
trait FromState {
    fn try_parse_from_state(url: &str, state: &str) -> ChainArgs;
}

impl FromState for ChainArgs {
    fn try_parse_from_state(url: &str, state: &str) -> ChainArgs {
        #[derive(clap::Parser)]
        struct P {
            #[command(flatten)]
            c: ChainArgs,
        }
        P::parse_from(["p", "--node", url, "--state", state]).c
    }
}
