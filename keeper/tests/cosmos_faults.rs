//! Faults of the keeper on a real wasmd (issue 12; `#[ignore]`d, run by `scripts/e2e-cosmos.sh`):
//!
//! 1. The real `opg keeper run` on the cosmos backend is stopped at a deterministic point (the
//!    `OPG_FAILPOINTS` of [`opg_keeper::failpoint`]): before its first broadcast another tx of
//!    its account lands, so the broadcast is refused with a sequence mismatch and the keeper
//!    re-signs and retries; right after the retry is accepted at CheckTx, before anything is
//!    recorded, it is killed with SIGKILL. The tx hash written down is then not the one that
//!    lands. Restarted, it reconciles by the receipts' status on chain: every receipt accepted
//!    exactly once, and the pool's report of the finalized epoch counts exactly the keeper's
//!    accepted receipts. A `v_cap` change passed by x/gov in epoch 0 is in force in epoch 1 (a
//!    receipt above it counts the new cap), and `opg report --node/--state` reads the same figures.
//! 2. Four validators (`scripts/localnet.sh start --validators 4`): validator 0, the RPC node the
//!    keeper uses, is stopped; the keeper keeps submitting through another node of `rpc_url`.
//!
//! Dev accounts: test 1 uses 0 to 2 of the shared chain (the binaries of `scripts/e2e-cosmos.sh`
//! run one after another), test 2 uses 0 to 2 of its own chain.
mod support;

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use opg_core::epoch::EpochClock;
use opg_core::msg::pool::{ConfigResponse as PoolConfig, EpochReport, ParamsResponse, QueryMsg};
use opg_core::sign::{EvmSigner, NodeSigner};
use opg_keeper::chain::cosmos::{
    AbciAnswer, CheckTxAnswer, CometRpc, CosmosChain, CosmosConfig, FailoverRpc, HttpRpc,
    NodeStatus, TxResult,
};
use opg_keeper::chain::{ChainBackend, ChainError};
use opg_keeper::cli::common::smart_query;
use opg_keeper::cli::deploy::{deploy, write_state, DeployConfig};
use opg_keeper::cli::node::read_key_file;
use opg_keeper::config::KeeperConfig;
use opg_keeper::service::Keeper;
use opg_keeper::store::{ReceiptKey, ReceiptState, Store};
use opg_keeper::tx::keys::TxKey;
use support::{artifacts_dir, dev_mnemonic_file, localnet, opg_json, Localnet};

const GPT: &str = "openai/gpt-4.1";
const PAY_TO: &str = "0x1111111111111111111111111111111111111111";

fn opg(args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_opg"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "opg {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A deployment with a commercial model (added by x/gov) and a registered proxy node.
struct Setup {
    state_path: PathBuf,
    deployment: opg_keeper::chain::Deployment,
    /// Epoch 0 starts here (chain time).
    t0: u64,
    proxy: NodeSigner,
    facilitator: EvmSigner,
    domain: [u8; 32],
    /// Dev account 0's mnemonic file (deployer).
    deployer: PathBuf,
}

/// Deploys (dev account 0, x/gov as governance, epoch 0 from now of `epoch` s, grace `grace` s),
/// adds GPT by a proposal, registers `proxy-1` (operator dev account 1).
fn setup(net: &Localnet, home: &Path, epoch: u64, grace: u64) -> Setup {
    let url = net.rpc.clone();
    let deployer = dev_mnemonic_file(home, 0);
    let operator = dev_mnemonic_file(home, 1);
    let t0 = HttpRpc::new(&url).unwrap().status().unwrap().time;
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy.example.toml");
    let text = std::fs::read_to_string(example)
        .unwrap()
        .replace("http://127.0.0.1:26657", &url)
        .replace(
            "mnemonic_env = \"OPG_DEPLOYER_MNEMONIC\"",
            &format!("mnemonic_file = {:?}", deployer.display().to_string()),
        )
        .replace(
            "\"../artifacts\"",
            &format!("{:?}", artifacts_dir().display().to_string()),
        );
    let config_path = home.join("deploy.toml");
    std::fs::write(&config_path, &text).unwrap();
    let mut config = DeployConfig::read(&config_path).unwrap();
    config.pool.clock = EpochClock {
        genesis: t0,
        epoch_length: epoch,
        grace,
    };
    let facilitator = EvmSigner::derive(b"cosmos-faults", "facilitator");
    config.verifier.facilitators = vec![facilitator.address()];
    let state = deploy(&config).unwrap();
    let state_path = home.join("deploy.json");
    write_state(&state_path, &state).unwrap();
    let state_s = state_path.display().to_string();
    let p = opg_json(&[
        "gov",
        "--node",
        &url,
        "--state",
        &state_s,
        "--proposal",
        "add-model",
        "--id",
        GPT,
        "--provenance",
        "commercial",
    ]);
    let p_path = home.join("add-model.json");
    std::fs::write(&p_path, serde_json::to_vec(&p).unwrap()).unwrap();
    net.pass_proposal(&p_path);
    let key = home.join("proxy.key");
    let key_s = key.display().to_string();
    opg(&["node", "keygen", "--type", "secp256k1", "--out", &key_s]);
    opg(&[
        "node",
        "register",
        "--node",
        &url,
        "--state",
        &state_s,
        "--mnemonic-file",
        &operator.display().to_string(),
        "--node-id",
        "proxy-1",
        "--kind",
        "proxy",
        "--upstream",
        "https://api.openai.com",
        "--node-key-file",
        &key_s,
        "--pay-to",
        PAY_TO,
        "--endpoint",
        "https://proxy-1.example",
        "--model",
        GPT,
        "--bond",
        "1000000uopg",
    ]);
    let domain =
        opg_core::eip712::verifier_domain_separator(&net.chain_id, &state.deployment.verifier);
    Setup {
        state_path,
        deployment: state.deployment,
        t0,
        proxy: read_key_file(&key).unwrap(),
        facilitator,
        domain,
        deployer,
    }
}

impl Setup {
    /// `payer-{i}` pays proxy-1 `value` micro-USD at `served_at`.
    fn call(&self, i: u32, value: u128, served_at: u64) -> opg_core::receipt::SignedReceipt {
        support::paid_call(
            &EvmSigner::derive(b"cosmos-faults", &format!("payer-{i}")),
            &self.proxy,
            &self.facilitator,
            &self.domain,
            "proxy-1",
            PAY_TO,
            GPT,
            value,
            served_at,
            "",
        )
    }

    fn query<T: serde::de::DeserializeOwned>(&self, url: &str, msg: &QueryMsg) -> T {
        smart_query(&HttpRpc::new(url).unwrap(), &self.deployment.pool, msg).unwrap()
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `opg keeper run` on the cosmos backend with `env` added; stderr to `log`.
fn start_keeper(config: &Path, home: &Path, log: &Path, env: &[(&str, String)]) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_opg"));
    cmd.args(["keeper", "run", "--config"])
        .arg(config)
        .arg("--home")
        .arg(home)
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(log);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.spawn().unwrap()
}

/// Waits (up to `secs`) until `log` contains `text`.
fn wait_log(log: &Path, text: &str, secs: u64, child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let mut s = String::new();
        if let Ok(mut f) = std::fs::File::open(log) {
            f.read_to_string(&mut s).unwrap();
        }
        if s.contains(text) {
            return;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("keeper exited ({status}) before {text:?}:\n{s}");
        }
        assert!(Instant::now() < deadline, "no {text:?} in {secs} s:\n{s}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A runtime for the async HTTP client.
fn rt() -> &'static tokio::runtime::Runtime {
    static RT: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    RT.get_or_init(|| tokio::runtime::Runtime::new().unwrap())
}

fn http_ok(url: &str) -> bool {
    rt().block_on(async {
        reqwest::get(url)
            .await
            .is_ok_and(|r| r.status().is_success())
    })
}

fn receipt_status(base: &str, key: &ReceiptKey) -> String {
    let v: serde_json::Value = rt().block_on(async {
        reqwest::get(format!("{base}/v1/receipts/{}/{}", key.payer, key.nonce))
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    });
    v["state"]["status"].as_str().unwrap_or("").to_string()
}

/// POSTs `receipts` to the keeper at `base`; their keys.
fn post(base: &str, receipts: &[opg_core::receipt::SignedReceipt]) -> Vec<ReceiptKey> {
    let body: serde_json::Value = rt().block_on(async {
        let r = reqwest::Client::new()
            .post(format!("{base}/v1/receipts"))
            .json(receipts)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), reqwest::StatusCode::ACCEPTED);
        r.json().await.unwrap()
    });
    body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            assert_eq!(x["status"], "stored", "{body}");
            ReceiptKey {
                payer: x["payer"].as_str().unwrap().into(),
                nonce: x["nonce"].as_str().unwrap().into(),
            }
        })
        .collect()
}

fn wait_until(what: &str, secs: u64, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !f() {
        assert!(Instant::now() < deadline, "{what}: not within {secs} s");
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// Test 1 (see the file header).
#[test]
#[ignore = "needs wasmd and the artifacts: scripts/e2e-cosmos.sh (CI runs it)"]
fn keeper_sigkilled_after_a_retried_broadcast_reconciles_without_loss_on_wasmd() {
    const EPOCH: u64 = 120;
    const GRACE: u64 = 10;
    let net = localnet();
    let home = tempfile::tempdir().unwrap();
    let url = net.rpc.clone();
    let started = Instant::now();
    let s = setup(net, home.path(), EPOCH, GRACE);
    eprintln!(
        "setup (deploy, x/gov model, register): {:?}",
        started.elapsed()
    );
    let state_s = s.state_path.display().to_string();

    // x/gov lowers v_cap to 0.5 USD: scheduled, in force from epoch 1
    let params: ParamsResponse = s.query(&url, &QueryMsg::Params {});
    let old_v_cap = params.current.v_cap.u128();
    assert_eq!(old_v_cap, 1_000_000);
    let mut new = params.current.clone();
    new.v_cap = 500_000u128.into();
    let params_file = home.path().join("params.json");
    std::fs::write(&params_file, serde_json::to_vec(&new).unwrap()).unwrap();
    let p = opg_json(&[
        "gov",
        "--node",
        &url,
        "--state",
        &state_s,
        "--proposal",
        "set-params",
        "--file",
        &params_file.display().to_string(),
    ]);
    let p_path = home.path().join("set-params.json");
    std::fs::write(&p_path, serde_json::to_vec(&p).unwrap()).unwrap();
    net.pass_proposal(&p_path);
    let after: ParamsResponse = s.query(&url, &QueryMsg::Params {});
    assert_eq!(after.current.v_cap.u128(), old_v_cap);
    assert_eq!(after.scheduled.as_ref().unwrap().from_epoch, 1);

    // --- the keeper: cosmos backend, dev account 2, 1-second rounds
    let keeper_mnemonic = dev_mnemonic_file(home.path(), 2);
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let config = home.path().join("keeper.toml");
    std::fs::write(
        &config,
        format!(
            r#"[server]
listen = "127.0.0.1:{port}"
[batcher]
batch_interval_secs = 1
[chain]
backend = "cosmos"
[chain.cosmos]
rpc_url = "{url}"
chain_id = "{chain_id}"
gas_price = "0.025uopg"
mnemonic_file = {mnemonic:?}
deploy_state = {state_s:?}
poll_interval_ms = 100
"#,
            chain_id = net.chain_id,
            mnemonic = keeper_mnemonic.display().to_string(),
        ),
    )
    .unwrap();
    let khome = home.path().join("keeper");
    let log = home.path().join("keeper.log");
    let release = home.path().join("release-broadcast");
    let mut child = start_keeper(
        &config,
        &khome,
        &log,
        &[(
            "OPG_FAILPOINTS",
            format!(
                "cosmos-before-broadcast={},cosmos-after-broadcast",
                release.display()
            ),
        )],
    );
    wait_until("keeper up", 60, || http_ok(&format!("{base}/healthz")));
    let now = HttpRpc::new(&url).unwrap().status().unwrap().time;
    assert!(
        now + 20 < s.t0 + EPOCH,
        "setup took the epoch: {now} vs {}",
        s.t0
    );
    let first: Vec<_> = (1..=3).map(|i| s.call(i, 1_000_000, now - 1)).collect();
    let keys = post(&base, &first);

    // the keeper's first broadcast is held; meanwhile another tx of its account lands
    wait_log(
        &log,
        "failpoint cosmos-before-broadcast reached",
        60,
        &mut child,
    );
    let mut cfg = CosmosConfig::new(&url, &net.chain_id, "0.025uopg");
    cfg.deployment = Some(s.deployment.clone());
    let same_account = CosmosChain::with_rpc(
        cfg,
        Box::new(HttpRpc::new(&url).unwrap()),
        TxKey::from_file(&keeper_mnemonic, "m/44'/118'/0'/0/0", "wasm").unwrap(),
    )
    .unwrap();
    same_account
        .execute(
            &s.deployment.verifier,
            br#"{"prune_nonces":{"limit":1}}"#.to_vec(),
        )
        .unwrap();
    std::fs::write(&release, b"").unwrap();
    // refused (sequence mismatch), re-signed, retried; accepted at CheckTx: SIGKILL now
    wait_log(
        &log,
        "failpoint cosmos-after-broadcast reached",
        60,
        &mut child,
    );
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("sequence mismatch"), "{text}");

    // the store: one batch written down, its outcome not recorded; its tx never lands
    let store = Store::open(&khome.join("keeper.db"), Default::default()).unwrap();
    let unrecorded = store.unrecorded_batches().unwrap();
    assert_eq!(unrecorded.len(), 1, "{unrecorded:?}");
    for k in &keys {
        let r = store.get_receipt(k).unwrap().unwrap();
        assert!(matches!(r.state, ReceiptState::Submitted { .. }), "{r:?}");
    }
    drop(store);
    let written_down = unrecorded[0].tx_hash.clone();
    let rpc = HttpRpc::new(&url).unwrap();
    // the retry lands within a few blocks; the tx written down (refused at CheckTx) never does
    let reader = {
        let mut cfg = CosmosConfig::new(&url, &net.chain_id, "0.025uopg");
        cfg.deployment = Some(s.deployment.clone());
        CosmosChain::with_rpc(
            cfg,
            Box::new(HttpRpc::new(&url).unwrap()),
            TxKey::from_file(&s.deployer, "m/44'/118'/0'/0/0", "wasm").unwrap(),
        )
        .unwrap()
    };
    wait_until("the retried tx consumed the receipts", 60, || {
        keys.iter()
            .all(|k| reader.receipt_status(&k.payer, &k.nonce).unwrap().consumed)
    });
    assert_eq!(rpc.tx(&written_down).unwrap(), None, "{written_down}");

    // --- restarted: reconciles by the receipts on chain, then goes on
    let mut child = start_keeper(&config, &khome, &log, &[]);
    wait_until("keeper up again", 60, || {
        http_ok(&format!("{base}/healthz"))
    });
    for k in &keys {
        assert_eq!(receipt_status(&base, k), "accepted", "{k:?}");
    }
    let now = rpc.status().unwrap().time;
    let more: Vec<_> = (4..=5).map(|i| s.call(i, 1_000_000, now - 1)).collect();
    let more_keys = post(&base, &more);
    wait_until("the later receipts accepted", 60, || {
        more_keys
            .iter()
            .all(|k| receipt_status(&base, k) == "accepted")
    });

    // --- the keeper finalizes epoch 0: the pool counts each receipt once
    wait_until("epoch 0 finalized", EPOCH + GRACE + 120, || {
        let c: PoolConfig = s.query(&url, &QueryMsg::Config {});
        c.next_to_finalize > 0
    });
    let r0: EpochReport = s.query(&url, &QueryMsg::EpochReport { epoch: 0 });
    assert!(r0.finalized);
    assert_eq!(r0.commercial.calls, 5, "{r0:?}");
    assert_eq!(r0.commercial.raw_value.u128(), 5_000_000);
    assert_eq!(r0.commercial.counted_value.u128(), 5_000_000, "old v_cap");
    assert_eq!(r0.v_cap.u128(), old_v_cap);

    // --- epoch 1: the new v_cap is in force (a 1 USD call counts 0.5 USD)
    let params: ParamsResponse = s.query(&url, &QueryMsg::Params {});
    assert_eq!(params.current.v_cap.u128(), 500_000, "{params:?}");
    let now = rpc.status().unwrap().time;
    assert!(now >= s.t0 + EPOCH);
    let late = post(&base, &[s.call(6, 1_000_000, now - 1)]);
    wait_until("the epoch-1 receipt accepted", 60, || {
        receipt_status(&base, &late[0]) == "accepted"
    });
    let r1: EpochReport = s.query(&url, &QueryMsg::EpochReport { epoch: 1 });
    assert_eq!(r1.commercial.calls, 1, "{r1:?}");
    assert_eq!(r1.commercial.raw_value.u128(), 1_000_000);
    assert_eq!(r1.commercial.counted_value.u128(), 500_000, "new v_cap");

    // --- opg report against the chain shows the same figures
    let out = Command::new(env!("CARGO_BIN_EXE_opg"))
        .args(["report", "--node", &url, "--state", &state_s])
        .args(["--from-epoch", "0", "--to-epoch", "1", "--format", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let figures: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(figures["chain_id"], net.chain_id);
    let report0: EpochReport =
        serde_json::from_value(figures["epochs"][0]["report"].clone()).unwrap();
    assert_eq!(report0, r0);
    assert_eq!(figures["epochs"][1]["report"]["epoch"], 1);
    assert_eq!(figures["params"]["current"]["v_cap"], "500000");

    child.kill().unwrap();
    child.wait().unwrap();
    // every receipt stored once: 5 accepted in epoch 0, 1 in epoch 1
    let store = Store::open(&khome.join("keeper.db"), Default::default()).unwrap();
    let c0 = store.counts(Some(0)).unwrap();
    assert_eq!(c0.accepted, 5, "{c0:?}");
    assert_eq!(
        c0.pending + c0.submitted + c0.accepted + c0.rejected,
        5,
        "{c0:?}"
    );
    assert_eq!(store.counts(Some(1)).unwrap().accepted, 1);
    assert!(store.unrecorded_batches().unwrap().is_empty());
}

/// A [`CometRpc`] the test keeps a handle on (to see which node answers).
struct Shared(Arc<FailoverRpc>);

impl CometRpc for Shared {
    fn status(&self) -> Result<NodeStatus, ChainError> {
        self.0.status()
    }
    fn abci_query(&self, p: &str, d: Vec<u8>) -> Result<AbciAnswer, ChainError> {
        self.0.abci_query(p, d)
    }
    fn broadcast_tx_sync(&self, t: Vec<u8>) -> Result<CheckTxAnswer, ChainError> {
        self.0.broadcast_tx_sync(t)
    }
    fn tx(&self, h: &str) -> Result<Option<TxResult>, ChainError> {
        self.0.tx(h)
    }
}

/// Test 2 (see the file header).
#[test]
#[ignore = "needs wasmd and the artifacts: scripts/e2e-cosmos.sh (CI runs it)"]
fn keeper_fails_over_past_a_stopped_validator_of_four_on_wasmd() {
    let started = Instant::now();
    let net = Localnet::start(4);
    eprintln!("4-validator localnet started in {:?}", started.elapsed());
    assert_eq!(net.rpc_urls.len(), 4);
    let home = tempfile::tempdir().unwrap();
    let s = setup(&net, home.path(), 3600, 600);

    let urls = net.rpc_urls.join(",");
    let rpc = Arc::new(FailoverRpc::new(&urls).unwrap());
    let mut cfg = CosmosConfig::new(&urls, &net.chain_id, "0.025uopg");
    cfg.deploy_state = Some(s.state_path.clone());
    cfg.poll_interval_ms = 100;
    let key_file = dev_mnemonic_file(home.path(), 2);
    let chain = CosmosChain::with_rpc(
        cfg,
        Box::new(Shared(rpc.clone())),
        TxKey::from_file(&key_file, "m/44'/118'/0'/0/0", "wasm").unwrap(),
    )
    .unwrap();
    let store = Store::open(&home.path().join("keeper.db"), Default::default()).unwrap();
    let keeper = Keeper::new(
        KeeperConfig::default(),
        store,
        Arc::new(chain) as Arc<dyn ChainBackend>,
    )
    .unwrap();

    let round = |from: u32| {
        let now = keeper.chain_time().unwrap();
        let results = keeper
            .ingest(
                (from..from + 3)
                    .map(|i| s.call(i, 1_000_000, now - 1))
                    .collect(),
            )
            .unwrap();
        assert_eq!(results.len(), 3);
        let now = keeper.chain_time().unwrap();
        let r = keeper.submit_pending(now).unwrap();
        assert_eq!((r.batches, r.accepted, r.rejected), (1, 3, 0), "{r:?}");
    };
    round(1);
    assert_eq!(rpc.current_url(), net.rpc_urls[0]);

    // validator 0, the node the keeper talks to, stops; the chain goes on with 3 of 4
    net.stop(Some(0));
    assert!(HttpRpc::new(&net.rpc_urls[0]).unwrap().status().is_err());
    let t = Instant::now();
    round(4);
    eprintln!("batch through the failed-over node: {:?}", t.elapsed());
    assert_ne!(rpc.current_url(), net.rpc_urls[0]);
    let c = keeper.store().counts(Some(0)).unwrap();
    assert_eq!(c.accepted, 6, "{c:?}");
    let r0: EpochReport = s.query(rpc.current_url(), &QueryMsg::EpochReport { epoch: 0 });
    assert_eq!(r0.commercial.calls, 6, "{r0:?}");
    net.stop(None);
}
