//! `opg devnet` in-process, then the CLI against it over CometBFT JSON-RPC: `opg deploy` (the
//! real artifacts of `scripts/build-wasm.sh`), `opg gov add-model`, `opg node register|status|
//! list|deregister`, `opg query`, and the clear errors of a wrong chain id, an insufficient fee
//! and an unknown contract. Then the full flow with a keeper on the cosmos backend: governance adds
//! models and an attester, a proxy and an attested local node register, receipts are POSTed over
//! HTTP, submitted in a batch, the epoch is finalized, `opg node status` shows the rewards and
//! `opg node claim` pays them; two txs signed at the same sequence: the second gets code 32.
//!
//! Needs `artifacts/*.wasm` + `artifacts/checksums.txt`: run with `scripts/e2e-cosmos.sh`
//! (feature `e2e-artifacts`).
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Parser;
use cosmwasm_std::{Addr, Binary, Uint128};
use opg_core::eip712::{registry_domain_separator, verifier_domain_separator};
use opg_core::epoch::EpochClock;
use opg_core::msg::pool::NodeRewardsResponse;
use opg_core::msg::registry::{NodeInfo, NodesResponse, QueryMsg as RegistryQuery};
use opg_core::receipt::{InferenceReceipt, SignedReceipt};
use opg_core::sign::{make_signed_receipt, sign_attestation, EvmSigner, NodeSigner, PaymentParams};
use opg_core::types::NodeStatus;
use opg_core::x402::{ExactEvmExtra, PaymentRequirements};
use opg_keeper::chain::cosmos::{CosmosChain, CosmosConfig, DeployState, HttpRpc};
use opg_keeper::chain::ChainBackend;
use opg_keeper::cli::common::{smart_query, ChainArgs, Reader};
use opg_keeper::cli::deploy::{deploy, write_state, DeployConfig};
use opg_keeper::cli::node::read_key_file;
use opg_keeper::cli::tx::SignArgs;
use opg_keeper::cli::{run, Cli};
use opg_keeper::config::KeeperConfig;
use opg_keeper::devnet::{Devnet, DevnetConfig};
use opg_keeper::service::Keeper;
use opg_keeper::store::Store;
use opg_keeper::tx::keys::TxKey;
use sha2::{Digest, Sha256};

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

/// `keeper/deploy.example.toml` pointed at the devnet at `url`, signed by the mnemonic in
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
    let config_path = write_deploy_config(home.path(), &url, &mnemonic, &artifacts);
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

/// Epoch length of the keeper flow's pool clock (seconds).
const EPOCH: u64 = 120;
/// Grace of the keeper flow's pool clock (seconds).
const GRACE: u64 = 30;
/// USDC on Base Sepolia (the example deploy config's only asset).
const USDC: &str = "0x036cbd53842c5426634e7929541ec2318f3dcf7e";
const GPT: &str = "openai/gpt-4.1";
const LLAMA: &str = "meta-llama/llama-3.1-8b-instruct";

/// One paid call: `payer` pays `value` USDC units (micro-USD) to the node whose x402 `payTo` is
/// `pay_to`, settled by `facilitator`, in the verifier domain `domain`.
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
    let requirements = PaymentRequirements {
        scheme: "exact".into(),
        network: "base-sepolia".into(),
        max_amount_required: Some(value.to_string()),
        amount: None,
        resource: Some(format!("https://{node_id}.example/v1/chat/completions")),
        description: Some("chat completion".into()),
        mime_type: Some("application/json".into()),
        pay_to: pay_to.into(),
        max_timeout_seconds: Some(60),
        asset: USDC.into(),
        extra: Some(ExactEvmExtra {
            name: Some("USDC".into()),
            version: Some("2".into()),
        }),
    };
    let nonce: [u8; 32] = Sha256::digest(format!("nonce/{}/{node_id}", payer.address())).into();
    let params = PaymentParams {
        x402_version: 1,
        requirements,
        value,
        valid_after: served_at - 60,
        valid_before: served_at + 3600,
        nonce,
    };
    make_signed_receipt(
        payer,
        node,
        Some(facilitator),
        domain,
        &params,
        InferenceReceipt {
            node_id: node_id.into(),
            model_id: model.into(),
            request_digest: Binary::from(Sha256::digest(b"request").to_vec()),
            response_digest: Binary::from(Sha256::digest(b"response").to_vec()),
            prompt_tokens: 100,
            completion_tokens: 200,
            served_at,
        },
        Sha256::digest(format!("settlement/{}", payer.address())).into(),
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

/// The whole issue-8 flow with a keeper on the cosmos backend: governance adds the models and a
/// hardware attester, a proxy and an attested local node register, receipts are POSTed to the
/// keeper's HTTP server and submitted in one batch over CometBFT RPC, the epoch is finalized after
/// end + grace, `opg node status` shows the rewards and `opg node claim` pays them. Also: two txs
/// signed offline with the same sequence, the second refused with code 32.
#[test]
fn keeper_over_cosmos_submits_finalizes_and_nodes_claim() {
    let artifacts = artifacts_dir();
    std::env::set_var("OPG_ARTIFACTS_DIR", &artifacts);
    let home = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    // every tx is a block one second after the previous one; the test jumps the clock past
    // end + grace once
    let devnet = rt.block_on(async {
        let mut cfg = DevnetConfig::new(home.path().join("devnet"));
        cfg.listen = "127.0.0.1:0".parse().unwrap();
        cfg.block_time = Some(1);
        Devnet::start(cfg).await.unwrap()
    });
    let url = devnet.rpc_url();
    let chain_id = devnet.chain_id.clone();
    let keys: Vec<PathBuf> = (0..3)
        .map(|i| {
            let p = home.path().join(format!("account{i}.mnemonic"));
            std::fs::write(&p, &devnet.accounts[i].mnemonic).unwrap();
            p
        })
        .collect();
    let (gov_key, proxy_op, local_op) = (
        keys[0].display().to_string(),
        keys[1].display().to_string(),
        keys[2].display().to_string(),
    );

    // --- opg deploy: epoch 0 starts now, short epoch and grace, one allow-listed facilitator
    let t0 = devnet.chain.status().unwrap().time;
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

    // --- governance: a commercial and a community model, a hardware attester
    with(
        &["gov"],
        &gov_key,
        &["add-model", "--id", GPT, "--provenance", "commercial"],
    )
    .unwrap();
    let weights = hex::encode(Sha256::digest(b"llama-3.1-8b-instruct weights"));
    with(
        &["gov"],
        &gov_key,
        &[
            "add-model",
            "--id",
            LLAMA,
            "--provenance",
            "community",
            "--weights-digest",
            &weights,
        ],
    )
    .unwrap();
    with(
        &["gov"],
        &gov_key,
        &["add-attester", "--address", &attester.address()],
    )
    .unwrap();

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
        &devnet.accounts[2].address,
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
    let chain = Arc::new(
        CosmosChain::with_rpc(cosmos, Box::new(HttpRpc::new(&url).unwrap()), keeper_key).unwrap(),
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
    let pool_before = devnet
        .chain
        .balance(&Addr::unchecked(&d.pool), "uopg")
        .unwrap();
    opg(&["tx", "broadcast", &first, "--node", &url]).unwrap();
    let e = format!(
        "{:#}",
        opg(&["tx", "broadcast", &second, "--node", &url]).unwrap_err()
    );
    assert!(e.contains("sdk code 32"), "{e}");
    assert!(e.contains("sequence"), "{e}");
    let pool_after = devnet
        .chain
        .balance(&Addr::unchecked(&d.pool), "uopg")
        .unwrap();
    assert_eq!(pool_after - pool_before, Uint128::new(10_000_000_000));

    // --- the keeper on the cosmos backend, serving HTTP
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
        now < t0 + EPOCH,
        "setup took the whole epoch: {now} vs {t0}"
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
    let (payer0, nonce0) = (
        results[0]["payer"].as_str().unwrap().to_string(),
        results[0]["nonce"].as_str().unwrap().to_string(),
    );

    // one batch through the cosmos backend, inside epoch 0
    let now = keeper.chain_time().unwrap();
    let report = keeper.submit_pending(now).unwrap();
    assert_eq!(
        (
            report.batches,
            report.submitted,
            report.accepted,
            report.rejected
        ),
        (1, 3, 3, 0)
    );
    let state: serde_json::Value = rt.block_on(async {
        http.get(format!("{base}/v1/receipts/{payer0}/{nonce0}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    });
    assert_eq!(state["state"]["status"], "accepted", "{state}");
    // the verifier on chain has consumed it too
    let on_chain = chain.receipt_status(&payer0, &nonce0).unwrap();
    assert!(on_chain.consumed, "{on_chain:?}");
    assert_eq!(on_chain.epoch, Some(0));

    // nothing to finalize before end + grace
    assert!(keeper.finalize_ready(now).unwrap().is_empty());
    // the devnet's clock jumps past end + grace; the keeper finalizes epoch 0
    let after = t0 + EPOCH + GRACE;
    devnet.chain.set_time(after).unwrap();
    assert_eq!(keeper.finalize_ready(after).unwrap(), vec![0]);

    // --- opg node status shows the rewards. Hand computation: B = min(emission 1e9, pool
    // 1e10) = 1e9 uopg; stipend alpha*B = 2e8 all to local-1 (the only live local node); usage
    // (1-alpha)*B = 8e8 by m*eff: proxy 0.5 * 2e6 = 1e6, local 3 * 5e5 = 1.5e6 (S(-1) = 0, so
    // m_community = M = 3) -> proxy 3.2e8, local 4.8e8 + 2e8 = 6.8e8.
    let reader = Reader::open(&ChainArgs::try_parse_from_state(&url, &state_s)).unwrap();
    let fee_collector = devnet.chain.addr("fee_collector");
    for (node, key, account, expected) in [
        ("proxy-1", &proxy_op, 1usize, 320_000_000u128),
        ("local-1", &local_op, 2, 680_000_000),
    ] {
        let status = opg_keeper::cli::node::status(&reader, node).unwrap();
        let owed = unclaimed(&status);
        assert_eq!(owed, expected, "{node}: {status}");
        assert_eq!(status["pending_rewards"]["amount"], expected.to_string());
        // --- opg node claim: the operator's balance grows by the reward (less the tx fee, which
        // the fee collector receives)
        let op = Addr::unchecked(&devnet.accounts[account].address);
        let (bal0, fees0) = (
            devnet.chain.balance(&op, "uopg").unwrap(),
            devnet.chain.balance(&fee_collector, "uopg").unwrap(),
        );
        with(&["node", "claim"], key, &["--node-id", node]).unwrap();
        let (bal1, fees1) = (
            devnet.chain.balance(&op, "uopg").unwrap(),
            devnet.chain.balance(&fee_collector, "uopg").unwrap(),
        );
        let fee = fees1 - fees0;
        assert!(!fee.is_zero());
        assert_eq!((bal1 + fee - bal0).u128(), owed, "{node}");
        let status = opg_keeper::cli::node::status(&reader, node).unwrap();
        assert_eq!(unclaimed(&status), 0, "{status}");
        assert_eq!(status["pending_rewards"]["amount"], "0");
    }
    // a second claim has nothing to pay
    let e = with(&["node", "claim"], &proxy_op, &["--node-id", "proxy-1"]).unwrap_err();
    assert!(format!("{e:#}").contains("refused"), "{e:#}");

    stop_tx.send(()).unwrap();
    rt.block_on(server).unwrap().unwrap();
    drop(keeper);
    drop(chain);
    drop(reader);
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
