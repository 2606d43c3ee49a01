//! The CLI and the keeper's cosmos backend against a real wasmd (v0.61.14, `scripts/localnet.sh`;
//! see `support`): `opg deploy` with the real artifacts of `scripts/build-wasm.sh` and the x/gov
//! module account as governance; `opg gov … --proposal` output submitted, voted and executed by
//! x/gov (models, an attester, a jail through `MsgSudoContract`, new reward params, `MsgPinCodes`);
//! `opg node register|status|list|deregister|claim` and `opg query`; the errors of a wrong chain
//! id, an unknown contract, a low fee, too little gas and a reused sequence. Then the keeper on
//! the cosmos backend: receipts POSTed over HTTP, a batch with one receipt the chain refuses
//! (submitted directly first) while the others land, the epoch finalized after end + grace,
//! operators claim and their bank balances grow by what the pool reports.
//!
//! Dev accounts: test 1 uses 0 and 1, test 2 uses 2 to 5 (the tests share one chain).
mod support;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use opg_core::eip712::{registry_domain_separator, verifier_domain_separator};
use opg_core::epoch::EpochClock;
use opg_core::msg::pool::{NodeRewardsResponse, ParamsResponse};
use opg_core::msg::registry::{ModelsResponse, NodeInfo, NodesResponse, QueryMsg as RegistryQuery};
use opg_core::receipt::SignedReceipt;
use opg_core::sign::{sign_attestation, EvmSigner, NodeSigner};
use opg_core::types::NodeStatus;
use opg_keeper::chain::cosmos::{CosmosChain, CosmosConfig, DeployState, FailoverRpc, HttpRpc};
use opg_keeper::chain::{ChainBackend, ChainError, Refusal};
use opg_keeper::cli::common::{smart_query, ChainArgs, Reader};
use opg_keeper::cli::deploy::{deploy, write_state, DeployConfig};
use opg_keeper::cli::node::read_key_file;
use opg_keeper::cli::tx::SignArgs;
use opg_keeper::cli::{run, Cli};
use opg_keeper::config::KeeperConfig;
use opg_keeper::service::Keeper;
use opg_keeper::store::Store;
use opg_keeper::tx::keys::TxKey;
use sha2::{Digest, Sha256};
use support::{artifacts_dir, dev_address, dev_mnemonic_file, localnet, merge_proposals, opg_json};

fn opg(args: &[&str]) -> anyhow::Result<()> {
    let mut argv = vec!["opg"];
    argv.extend_from_slice(args);
    run(Cli::try_parse_from(argv)?)
}

/// `keeper/deploy.example.toml` pointed at the chain at `url`, signed by the mnemonic in
/// `mnemonic`, with the artifacts of `artifacts`; written to `<home>/deploy.toml`.
fn write_deploy_config(home: &Path, url: &str, mnemonic: &Path, artifacts: &Path) -> PathBuf {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy.example.toml");
    let text = std::fs::read_to_string(example)
        .unwrap()
        .replace("http://127.0.0.1:26657", url)
        .replace(
            "mnemonic_env = \"OPG_DEPLOYER_MNEMONIC\"",
            &format!("mnemonic_file = {:?}", mnemonic.display().to_string()),
        )
        .replace(
            "\"../artifacts\"",
            &format!("{:?}", artifacts.display().to_string()),
        );
    let config_path = home.join("deploy.toml");
    std::fs::write(&config_path, &text).unwrap();
    config_path
}

/// Writes `proposal` to `dir/name.json` and has x/gov pass it; the final proposal JSON.
fn pass(dir: &Path, name: &str, proposal: &serde_json::Value) -> serde_json::Value {
    let path = dir.join(format!("{name}.json"));
    std::fs::write(&path, serde_json::to_vec_pretty(proposal).unwrap()).unwrap();
    localnet().pass_proposal(&path)
}

#[test]
#[ignore = "needs wasmd and the artifacts: scripts/e2e-cosmos.sh (CI runs it)"]
fn deploy_governance_by_x_gov_register_query_and_clear_errors_on_wasmd() {
    let net = localnet();
    let artifacts = artifacts_dir();
    let home = tempfile::tempdir().unwrap();
    let url = net.rpc.clone();
    let mnemonic = dev_mnemonic_file(home.path(), 0);
    let operator = dev_mnemonic_file(home.path(), 1);

    // --- opg deploy, the x/gov module account as governance
    let config_path = write_deploy_config(home.path(), &url, &mnemonic, &artifacts);
    let state_path = home.path().join("deploy.json");
    let config = DeployConfig::read(&config_path).unwrap();
    assert_eq!(
        config.governance.as_deref(),
        Some(net.gov_address().as_str())
    );
    let state = deploy(&config).unwrap();
    write_state(&state_path, &state).unwrap();
    assert_eq!(state.chain_id, net.chain_id);
    let back = DeployState::read(&state_path).unwrap();
    assert_eq!(back, state);
    let d = &state.deployment;
    assert!(d.registry.starts_with("wasm1") && d.pool.starts_with("wasm1"));
    assert_ne!(d.registry, d.verifier);
    // wasmd sees the contracts under their labels, with the code ids of the state
    let info = net.query(&["q", "wasm", "contract", &d.pool]);
    assert_eq!(
        info["contract_info"]["code_id"],
        state.code_ids.pool.to_string()
    );

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
    assert_eq!(reg_cfg.governance.as_str(), net.gov_address());

    let state_s = state_path.display().to_string();
    let gov_key = mnemonic.display().to_string();
    let op_key = operator.display().to_string();
    let with = |head: &[&str], key: &str, tail: &[&str]| -> anyhow::Result<()> {
        let mut v: Vec<&str> = head.to_vec();
        v.extend(["--node", &url, "--state", &state_s, "--mnemonic-file", key]);
        v.extend_from_slice(tail);
        opg(&v)
    };
    let proposal = |tail: &[&str]| -> serde_json::Value {
        let mut v = vec!["gov", "--node", &url, "--state", &state_s, "--proposal"];
        v.extend_from_slice(tail);
        opg_json(&v)
    };

    // --- the deployer is not governance: a direct `opg gov` is refused by the contract
    let e = with(
        &["gov"],
        &gov_key,
        &["add-model", "--id", "x/y", "--provenance", "community"],
    )
    .unwrap_err();
    assert!(format!("{e:#}").contains("refused"), "{e:#}");

    // --- x/gov: `opg gov add-model --proposal` as printed, submitted, voted, passed, executed
    let p = proposal(&[
        "add-model",
        "--id",
        "openai/gpt-4.1",
        "--provenance",
        "commercial",
    ]);
    assert!(!p["summary"].as_str().unwrap().is_empty(), "{p}");
    assert_eq!(p["messages"][0]["sender"], net.gov_address());
    let passed = pass(home.path(), "add-model", &p);
    assert_eq!(passed["proposal"]["status"], "PROPOSAL_STATUS_PASSED");
    let models: ModelsResponse = smart_query(
        &rpc,
        &d.registry,
        &RegistryQuery::Models {
            start_after: None,
            limit: None,
        },
    )
    .unwrap();
    assert!(
        models.models.iter().any(|m| m.id == "openai/gpt-4.1"),
        "{models:?}"
    );

    // --- x/gov MsgPinCodes of the three codes (`opg gov pin-codes --proposal`)
    let pinned_before = net.query(&["q", "wasm", "pinned"]);
    let p = proposal(&["pin-codes"]);
    assert_eq!(p["messages"][0]["@type"], "/cosmwasm.wasm.v1.MsgPinCodes");
    pass(home.path(), "pin-codes", &p);
    let pinned = net.query(&["q", "wasm", "pinned"]);
    let ids: Vec<String> = pinned["code_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    for id in [
        state.code_ids.registry,
        state.code_ids.pool,
        state.code_ids.verifier,
    ] {
        assert!(ids.contains(&id.to_string()), "{pinned_before} -> {pinned}");
    }

    // --- x/gov: new reward params (in force from the next epoch)
    let r = Reader::open(&ChainArgs::try_parse_from_state(&url, &state_s)).unwrap();
    let params: ParamsResponse = r
        .query(&d.pool, &opg_core::msg::pool::QueryMsg::Params {})
        .unwrap();
    let mut new = params.current.clone();
    new.alpha = "0.25".parse().unwrap();
    let params_file = home.path().join("params.json");
    std::fs::write(&params_file, serde_json::to_vec(&new).unwrap()).unwrap();
    pass(
        home.path(),
        "set-params",
        &proposal(&["set-params", "--file", &params_file.display().to_string()]),
    );
    let after: ParamsResponse = r
        .query(&d.pool, &opg_core::msg::pool::QueryMsg::Params {})
        .unwrap();
    assert_eq!(
        after.current, params.current,
        "not in force before the next epoch"
    );
    let scheduled = after.scheduled.expect("params scheduled");
    assert_eq!(scheduled.params, new);

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
                &format!("https://{id}.example"),
                "--model",
                "openai/gpt-4.1",
                "--bond",
                bond,
            ],
        )
    };
    let e = register("proxy-1", "10uopg").unwrap_err();
    assert!(format!("{e:#}").to_lowercase().contains("bond"), "{e:#}");
    let op_before = net.balance(&dev_address(1), "uopg");
    register("proxy-1", "1000000uopg").unwrap();
    register("proxy-2", "1000000uopg").unwrap();
    // the bonds left the operator's bank balance (plus two fees)
    assert!(net.balance(&dev_address(1), "uopg") < op_before - 2_000_000);

    // --- status / list / query
    let args = ChainArgs::try_parse_from_state(&url, &state_s);
    let reader = Reader::open(&args).unwrap();
    let status = opg_keeper::cli::node::status(&reader, "proxy-1").unwrap();
    let node: NodeInfo = serde_json::from_value(status["node"].clone()).unwrap();
    assert_eq!(node.operator.as_str(), dev_address(1));
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
    assert_eq!(nodes.nodes.len(), 2);
    let epoch = opg_keeper::cli::query::answer(
        &reader,
        &opg_keeper::cli::query::QueryCommand::Epoch { epoch: None },
    )
    .unwrap();
    assert_eq!(epoch["clock"]["epoch_length"], 3600);

    // --- x/gov jails proxy-1 through a MsgSudoContract proposal
    let p = proposal(&[
        "--sudo",
        "jail",
        "--node-id",
        "proxy-1",
        "--reason",
        "served a commercial model as community",
    ]);
    assert_eq!(
        p["messages"][0]["@type"],
        "/cosmwasm.wasm.v1.MsgSudoContract"
    );
    pass(home.path(), "jail", &p);
    let n: NodeInfo = reader
        .query(
            &d.registry,
            &RegistryQuery::Node {
                node_id: "proxy-1".into(),
            },
        )
        .unwrap();
    assert_eq!(n.status, NodeStatus::Jailed);

    // --- generate-only prints the unsigned tx and sends nothing
    with(
        &["node", "deregister"],
        &op_key,
        &["--node-id", "proxy-2", "--generate-only"],
    )
    .unwrap();
    let n: NodeInfo = reader
        .query(
            &d.registry,
            &RegistryQuery::Node {
                node_id: "proxy-2".into(),
            },
        )
        .unwrap();
    assert_eq!(n.status, NodeStatus::Active);
    with(&["node", "deregister"], &op_key, &["--node-id", "proxy-2"]).unwrap();
    let n: NodeInfo = reader
        .query(
            &d.registry,
            &RegistryQuery::Node {
                node_id: "proxy-2".into(),
            },
        )
        .unwrap();
    assert_ne!(n.status, NodeStatus::Active);

    // --- clear errors
    // wrong chain id: wasmd refuses the signature
    let e = with(
        &["node", "claim"],
        &op_key,
        &["--node-id", "proxy-2", "--chain-id", "other-chain-9"],
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
    assert!(e.contains("not found") || e.contains("failed"), "{e}");
    // insufficient fee: a gas price below the node's minimum (0.025uopg)
    let key = TxKey::from_file(&operator, "m/44'/118'/0'/0/0", "wasm").unwrap();
    let mut low = CosmosConfig::new(&url, &net.chain_id, "0.000001uopg");
    low.deployment = Some(d.clone());
    let chain = CosmosChain::with_rpc(low, Box::new(HttpRpc::new(&url).unwrap()), key).unwrap();
    let e = chain
        .execute(&d.verifier, br#"{"prune_nonces":{"limit":10}}"#.to_vec())
        .unwrap_err();
    assert!(
        matches!(
            e,
            ChainError::Refused {
                kind: Refusal::InsufficientFee,
                code: 13,
                ..
            }
        ),
        "{e:?}"
    );
    // out of gas: the same execute with a fixed gas limit of 90% of what it used with simulated
    // gas (enough for the ante handler at CheckTx, short for the contract): wasmd includes it,
    // takes the fee and fails it
    let key = TxKey::from_file(&operator, "m/44'/118'/0'/0/0", "wasm").unwrap();
    let mut normal = CosmosConfig::new(&url, &net.chain_id, "0.025uopg");
    normal.deployment = Some(d.clone());
    let chain = CosmosChain::with_rpc(normal, Box::new(HttpRpc::new(&url).unwrap()), key).unwrap();
    let used = chain
        .execute(&d.verifier, br#"{"prune_nonces":{"limit":10}}"#.to_vec())
        .unwrap()
        .gas_used;
    let key = TxKey::from_file(&operator, "m/44'/118'/0'/0/0", "wasm").unwrap();
    let mut tight = CosmosConfig::new(&url, &net.chain_id, "0.025uopg");
    tight.gas_limit = Some(used * 9 / 10);
    tight.deployment = Some(d.clone());
    let chain = CosmosChain::with_rpc(tight, Box::new(HttpRpc::new(&url).unwrap()), key).unwrap();
    let e = chain
        .execute(&d.verifier, br#"{"prune_nonces":{"limit":10}}"#.to_vec())
        .unwrap_err();
    assert!(
        matches!(
            e,
            ChainError::Refused {
                kind: Refusal::OutOfGas,
                code: 11,
                ref stage,
                ..
            } if stage == "delivery"
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("out of gas"), "{e}");
}

/// Epoch length of the keeper flow's pool clock (seconds).
const EPOCH: u64 = 90;
/// Grace of the keeper flow's pool clock (seconds).
const GRACE: u64 = 10;
const GPT: &str = "openai/gpt-4.1";
const LLAMA: &str = "meta-llama/llama-3.1-8b-instruct";

/// One paid call (see [`support::paid_call`]), one per payer and node.
#[allow(clippy::too_many_arguments)]
fn paid_call(
    payer: &EvmSigner,
    node: &NodeSigner,
    facilitator: &EvmSigner,
    domain: &[u8; 32],
    node_id: &str,
    pay_to: &str,
    model: &str,
    value: u128,
    served_at: u64,
) -> SignedReceipt {
    support::paid_call(
        payer,
        node,
        facilitator,
        domain,
        node_id,
        pay_to,
        model,
        value,
        served_at,
        "",
    )
}

/// The sum of a node's finalized, unclaimed epoch rewards in `opg node status`'s output.
fn unclaimed(status: &serde_json::Value) -> u128 {
    let rewards: NodeRewardsResponse = serde_json::from_value(status["rewards"].clone()).unwrap();
    rewards
        .epochs
        .iter()
        .filter(|e| !e.claimed)
        .filter_map(|e| e.reward)
        .map(|r| r.u128())
        .sum()
}

/// The keeper on the cosmos backend against wasmd: x/gov adds the models and a hardware attester
/// (one proposal, three messages), a proxy and an attested local node register, the pool is funded
/// by two txs signed offline at the same sequence (the second refused: wrong sequence), receipts
/// are POSTed to the keeper's HTTP server; one of them was already submitted directly by someone
/// else, so the keeper's batch lands two and the chain rejects that one with its reason. After
/// end + grace the keeper finalizes the epoch, `opg node status` shows the rewards and `opg node
/// claim` pays them: each operator's bank balance grows by the reward less the tx fee.
#[test]
#[ignore = "needs wasmd and the artifacts: scripts/e2e-cosmos.sh (CI runs it)"]
fn keeper_over_cosmos_submits_finalizes_and_nodes_claim_on_wasmd() {
    let net = localnet();
    let artifacts = artifacts_dir();
    let home = tempfile::tempdir().unwrap();
    let url = net.rpc.clone();
    let chain_id = net.chain_id.clone();
    let keys: Vec<PathBuf> = (2..6).map(|i| dev_mnemonic_file(home.path(), i)).collect();
    let (gov_key, proxy_op, local_op) = (
        keys[0].display().to_string(),
        keys[1].display().to_string(),
        keys[2].display().to_string(),
    );

    // --- opg deploy: epoch 0 starts now, short epoch and grace, one allow-listed facilitator
    let t0 = HttpRpc::new(&url)
        .map(|r| {
            opg_keeper::chain::cosmos::CometRpc::status(&r)
                .unwrap()
                .time
        })
        .unwrap();
    let facilitator = EvmSigner::derive(b"cosmos-e2e", "facilitator");
    let attester = EvmSigner::derive(b"cosmos-e2e", "attester");
    let config_path = write_deploy_config(home.path(), &url, &keys[0], &artifacts);
    let mut config = DeployConfig::read(&config_path).unwrap();
    config.pool.clock = EpochClock {
        genesis: t0,
        epoch_length: EPOCH,
        grace: GRACE,
    };
    config.verifier.facilitators = vec![facilitator.address()];
    let state = deploy(&config).unwrap();
    let state_path = home.path().join("deploy.json");
    write_state(&state_path, &state).unwrap();
    let d = state.deployment.clone();
    let state_s = state_path.display().to_string();
    let with = |head: &[&str], key: &str, tail: &[&str]| -> anyhow::Result<()> {
        let mut v: Vec<&str> = head.to_vec();
        v.extend(["--node", &url, "--state", &state_s, "--mnemonic-file", key]);
        v.extend_from_slice(tail);
        opg(&v)
    };
    let proposal = |tail: &[&str]| -> serde_json::Value {
        let mut v = vec!["gov", "--node", &url, "--state", &state_s, "--proposal"];
        v.extend_from_slice(tail);
        opg_json(&v)
    };

    // --- x/gov: a commercial and a community model and a hardware attester, one proposal
    let weights = hex::encode(Sha256::digest(b"llama-3.1-8b-instruct weights"));
    let p = merge_proposals(
        &[
            proposal(&["add-model", "--id", GPT, "--provenance", "commercial"]),
            proposal(&[
                "add-model",
                "--id",
                LLAMA,
                "--provenance",
                "community",
                "--weights-digest",
                &weights,
            ]),
            proposal(&["add-attester", "--address", &attester.address()]),
        ],
        "opg: models and attester",
    );
    pass(home.path(), "setup", &p);

    // --- a proxy node (secp256k1 key) and a local node (ed25519 key, attested h100)
    let proxy_key = home.path().join("proxy.key");
    let local_key = home.path().join("local.key");
    for (t, p) in [("secp256k1", &proxy_key), ("ed25519", &local_key)] {
        opg(&[
            "node",
            "keygen",
            "--type",
            t,
            "--out",
            &p.display().to_string(),
        ])
        .unwrap();
    }
    let proxy_signer = read_key_file(&proxy_key).unwrap();
    let local_signer = read_key_file(&local_key).unwrap();
    let proxy_pay_to = "0x1111111111111111111111111111111111111111";
    let local_pay_to = "0x2222222222222222222222222222222222222222";
    with(
        &["node", "register"],
        &proxy_op,
        &[
            "--node-id",
            "proxy-1",
            "--kind",
            "proxy",
            "--upstream",
            "https://api.openai.com",
            "--node-key-file",
            &proxy_key.display().to_string(),
            "--pay-to",
            proxy_pay_to,
            "--endpoint",
            "https://proxy-1.example",
            "--model",
            GPT,
            "--bond",
            "1000000uopg",
        ],
    )
    .unwrap();
    let attestation = sign_attestation(
        &attester,
        &registry_domain_separator(&chain_id, &d.registry),
        &dev_address(4),
        &local_signer.key(),
        "h100",
        Sha256::digest(b"tee quote").into(),
        t0 + 86_400,
    );
    let attestation_path = home.path().join("attestation.json");
    std::fs::write(
        &attestation_path,
        serde_json::to_string(&attestation).unwrap(),
    )
    .unwrap();
    let register_local = |key: &str| {
        with(
            &["node", "register"],
            key,
            &[
                "--node-id",
                "local-1",
                "--kind",
                "local",
                "--attestation",
                &attestation_path.display().to_string(),
                "--key-type",
                "ed25519",
                "--node-key-file",
                &local_key.display().to_string(),
                "--pay-to",
                local_pay_to,
                "--endpoint",
                "https://local-1.example",
                "--model",
                LLAMA,
                "--bond",
                "1000000uopg",
            ],
        )
    };
    // the attestation names its operator: another signer cannot use it
    let e = register_local(&proxy_op).unwrap_err();
    assert!(format!("{e:#}").contains("refused"), "{e:#}");
    register_local(&local_op).unwrap();

    // --- fund the pool with two txs signed offline (`opg tx sign`) at the same sequence: the
    // first is included, the second is refused with code 32
    let keeper_key = TxKey::from_file(&keys[0], "m/44'/118'/0'/0/0", "wasm").unwrap();
    let mut cosmos = CosmosConfig::new(&url, &chain_id, "0.025uopg");
    cosmos.deploy_state = Some(state_path.clone());
    cosmos.poll_interval_ms = 100;
    // `rpc_url` with two nodes, the first one down (nothing listens on its port): every call of
    // the keeper fails over to the live node
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let rpc_urls = format!("http://127.0.0.1:{dead},{url}");
    cosmos.rpc_url = rpc_urls.clone();
    let chain = Arc::new(
        CosmosChain::with_rpc(
            cosmos,
            Box::new(FailoverRpc::new(&rpc_urls).unwrap()),
            keeper_key,
        )
        .unwrap(),
    );
    let (account_number, sequence) = chain.account(chain.address()).unwrap();
    let msgs = home.path().join("fund.json");
    std::fs::write(
        &msgs,
        serde_json::to_string(&serde_json::json!([{
            "contract": d.pool,
            "msg": r#"{"fund":{}}"#,
            "funds": [{"denom": "uopg", "amount": "10000000000"}],
        }]))
        .unwrap(),
    )
    .unwrap();
    let sign = |memo: &str| -> String {
        #[derive(clap::Parser)]
        struct P {
            #[command(flatten)]
            a: SignArgs,
        }
        let (an, sq) = (account_number.to_string(), sequence.to_string());
        let p = P::try_parse_from([
            "p",
            "--offline",
            "--mnemonic-file",
            &gov_key,
            "--chain-id",
            &chain_id,
            "--account-number",
            &an,
            "--sequence",
            &sq,
            "--gas",
            "400000",
            "--gas-prices",
            "0.025uopg",
            "--memo",
            memo,
            "--msgs",
            &msgs.display().to_string(),
        ])
        .unwrap();
        opg_keeper::cli::tx::sign(&p.a).unwrap()
    };
    let (first, second) = (sign("fund 1"), sign("fund 2"));
    assert_ne!(first, second);
    let pool_before = net.balance(&d.pool, "uopg");
    opg(&["tx", "broadcast", &first, "--node", &url]).unwrap();
    let e = format!(
        "{:#}",
        opg(&["tx", "broadcast", &second, "--node", &url]).unwrap_err()
    );
    assert!(e.contains("sdk code 32"), "{e}");
    assert!(e.contains("sequence"), "{e}");
    // `opg tx broadcast` returns after CheckTx: wait for the first one's inclusion
    let first_hash = {
        use base64::Engine;
        let raw = base64::engine::general_purpose::STANDARD
            .decode(&first)
            .unwrap();
        hex::encode_upper(Sha256::digest(raw))
    };
    let included = net.wait_tx(&first_hash);
    assert_eq!(included["code"], 0, "{included}");
    assert_eq!(net.balance(&d.pool, "uopg") - pool_before, 10_000_000_000);

    // --- the keeper on the cosmos backend, serving HTTP
    let rt = tokio::runtime::Runtime::new().unwrap();
    let store = Store::open(&home.path().join("keeper.db"), Default::default()).unwrap();
    let keeper = Keeper::new(
        KeeperConfig::default(),
        store,
        chain.clone() as Arc<dyn ChainBackend>,
    )
    .unwrap();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = rt.spawn(opg_keeper::cli::keeper::serve(
        keeper.clone(),
        listener,
        async move {
            let _ = stop_rx.await;
        },
        false,
    ));

    // receipts: two payers pay the proxy 1 USD each, a third pays the local node 0.5 USD
    let now = keeper.chain_time().unwrap();
    assert!(
        now + 15 < t0 + EPOCH,
        "setup took the whole epoch: {now} vs {t0} + {EPOCH}"
    );
    let domain = verifier_domain_separator(&chain_id, &d.verifier);
    let payer = |i: u32| EvmSigner::derive(b"cosmos-e2e", &format!("payer-{i}"));
    let traffic = vec![
        paid_call(
            &payer(1),
            &proxy_signer,
            &facilitator,
            &domain,
            "proxy-1",
            proxy_pay_to,
            GPT,
            1_000_000,
            now - 3,
        ),
        paid_call(
            &payer(2),
            &proxy_signer,
            &facilitator,
            &domain,
            "proxy-1",
            proxy_pay_to,
            GPT,
            1_000_000,
            now - 2,
        ),
        paid_call(
            &payer(3),
            &local_signer,
            &facilitator,
            &domain,
            "local-1",
            local_pay_to,
            LLAMA,
            500_000,
            now - 1,
        ),
    ];
    let http = reqwest::Client::new();
    let body: serde_json::Value = rt.block_on(async {
        let r = http
            .post(format!("{base}/v1/receipts"))
            .json(&traffic)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), reqwest::StatusCode::ACCEPTED);
        r.json().await.unwrap()
    });
    let results = body["results"].as_array().unwrap();
    assert_eq!(results.len(), 3, "{body}");
    assert!(
        results
            .iter()
            .all(|x| x["status"] == "stored" && x["epoch"] == 0),
        "{body}"
    );
    let receipt_id = |i: usize| {
        (
            results[i]["payer"].as_str().unwrap().to_string(),
            results[i]["nonce"].as_str().unwrap().to_string(),
        )
    };

    // anyone may submit: dev account 5 submits the second receipt itself before the keeper does
    let direct_key = TxKey::from_file(&keys[3], "m/44'/118'/0'/0/0", "wasm").unwrap();
    let mut direct_cfg = CosmosConfig::new(&url, &chain_id, "0.025uopg");
    direct_cfg.deployment = Some(d.clone());
    let direct = CosmosChain::with_rpc(
        direct_cfg,
        Box::new(HttpRpc::new(&url).unwrap()),
        direct_key,
    )
    .unwrap();
    let out = direct
        .execute(
            &d.verifier,
            serde_json::to_vec(&opg_core::msg::verifier::ExecuteMsg::SubmitReceipts(
                opg_core::msg::verifier::SubmitReceiptsMsg {
                    receipts: vec![traffic[1].clone()],
                    heartbeats: vec![],
                    compact: vec![],
                },
            ))
            .unwrap(),
        )
        .unwrap();
    let direct_result: opg_core::msg::verifier::SubmitReceiptsResponse =
        serde_json::from_slice(out.data.as_ref().unwrap()).unwrap();
    assert_eq!(direct_result.accepted, 1, "{direct_result:?}");

    // one batch through the cosmos backend, inside epoch 0: two land, the replayed one is
    // rejected by the verifier with its reason
    let now = keeper.chain_time().unwrap();
    let report = keeper.submit_pending(now).unwrap();
    assert_eq!(
        (
            report.batches,
            report.submitted,
            report.accepted,
            report.rejected
        ),
        (1, 3, 2, 1),
        "{report:?}"
    );
    let receipt_state = |i: usize| -> serde_json::Value {
        let (p, n) = receipt_id(i);
        rt.block_on(async {
            http.get(format!("{base}/v1/receipts/{p}/{n}"))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap()
        })
    };
    let s0 = receipt_state(0);
    assert_eq!(s0["state"]["status"], "accepted", "{s0}");
    let s1 = receipt_state(1);
    assert_eq!(s1["state"]["status"], "rejected", "{s1}");
    assert!(
        s1.to_string().contains("nonce"),
        "the rejection names the reason: {s1}"
    );
    // the verifier on chain has consumed both
    for i in [0, 1] {
        let (p, n) = receipt_id(i);
        let on_chain = chain.receipt_status(&p, &n).unwrap();
        assert!(on_chain.consumed, "{on_chain:?}");
        assert_eq!(on_chain.epoch, Some(0));
    }

    // nothing to finalize before end + grace; then the keeper finalizes epoch 0
    assert!(keeper.finalize_ready(now).unwrap().is_empty());
    let deadline = Instant::now() + Duration::from_secs(EPOCH + GRACE + 60);
    let after = loop {
        let t = keeper.chain_time().unwrap();
        if t >= t0 + EPOCH + GRACE {
            break t;
        }
        assert!(Instant::now() < deadline, "chain time stuck at {t}");
        std::thread::sleep(Duration::from_millis(500));
    };
    assert_eq!(keeper.finalize_ready(after).unwrap(), vec![0]);

    // --- opg node status shows the rewards. Hand computation (DESIGN §4, the params of
    // keeper/deploy.example.toml): B = min(emission 1e9, pool 1e10) = 1e9 uopg. Counted value
    // (v_cap 1e6): proxy 2 x 1e6, local 5e5; m*eff: proxy 0.5 * 2e6 = 1e6, local 3 * 5e5 = 1.5e6
    // (S(-1) = 0, so m_community = M = 3 = m_max), D = 2.5e6. Rate rho = min((1-alpha)B/D = 320,
    // c_call/(m_max v_cap) = 1e5/3e6): the per-call cap binds -> proxy floor(1e6/30) = 33,333,
    // local 1.5e6/30 = 50,000. Stipend: alpha*B = 2e8 all to local-1 (the only live local node),
    // capped at the h100 stipend_cap 1e8. So proxy 33,333, local 100,050,000; the rest stays in
    // the pool. (The directly submitted receipt counts once, for its node, as the keeper's would.)
    let reader = Reader::open(&ChainArgs::try_parse_from_state(&url, &state_s)).unwrap();
    for (node, key, account, expected) in [
        ("proxy-1", &proxy_op, 3usize, 33_333u128),
        ("local-1", &local_op, 4, 100_050_000),
    ] {
        let status = opg_keeper::cli::node::status(&reader, node).unwrap();
        let owed = unclaimed(&status);
        assert_eq!(owed, expected, "{node}: {status}");
        assert_eq!(status["pending_rewards"]["amount"], expected.to_string());
        // --- claim: the operator's bank balance grows by the reward less the tx fee
        let op = dev_address(account);
        let bal0 = net.balance(&op, "uopg");
        let claim_key = TxKey::from_file(Path::new(key), "m/44'/118'/0'/0/0", "wasm").unwrap();
        let mut cfg = CosmosConfig::new(&url, &chain_id, "0.025uopg");
        cfg.deployment = Some(d.clone());
        let claimer =
            CosmosChain::with_rpc(cfg, Box::new(HttpRpc::new(&url).unwrap()), claim_key).unwrap();
        let out = claimer
            .execute(
                &d.pool,
                serde_json::to_vec(&opg_core::msg::pool::ExecuteMsg::Claim {
                    node_id: node.into(),
                    limit: None,
                })
                .unwrap(),
            )
            .unwrap();
        let fee = net.tx_fee(&out.tx_hash, "uopg");
        assert!(fee > 0);
        let bal1 = net.balance(&op, "uopg");
        assert_eq!(bal1 + fee - bal0, owed, "{node}");
        let status = opg_keeper::cli::node::status(&reader, node).unwrap();
        assert_eq!(unclaimed(&status), 0, "{status}");
        assert_eq!(status["pending_rewards"]["amount"], "0");
    }
    // a second claim (by the CLI) has nothing to pay
    let e = with(&["node", "claim"], &proxy_op, &["--node-id", "proxy-1"]).unwrap_err();
    assert!(format!("{e:#}").contains("refused"), "{e:#}");

    stop_tx.send(()).unwrap();
    rt.block_on(server).unwrap().unwrap();
    drop(keeper);
    drop(chain);
    drop(reader);
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
