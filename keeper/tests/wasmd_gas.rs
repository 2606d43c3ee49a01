//! Gas of real txs on wasmd (`scripts/gas-report.sh` runs this and puts the figures into
//! `docs/gas.md`): `gas_used` as wasmd reports it for each tx, so it includes what the VM estimate
//! leaves out (tx size at 10 gas per byte, the tx signature, the fee transfer, events).
//!
//! [`gas_used_by_real_txs_on_wasmd`]: one deployment (the optimized artifacts, x/gov as
//! governance, 150 s epochs); each action first on unpinned codes, then again after a real
//! `MsgPinCodes` proposal: `Register` (proxy, secp256k1 node key), `SubmitReceipts` with 1, 10 and
//! 100 receipts of new payers and 100 receipts of 10 payers (10 calls each), all signed as
//! `opg loadgen` and the node middleware sign them and compacted as the keeper submits them; then
//! `FinalizeEpoch` and `Claim` over 1 epoch. Writes the rows as JSON to `$OPG_WASMD_GAS_OUT`
//! (default `target/wasmd-gas.json`).
//!
//! [`gas_used_by_claim_over_30_epochs_on_wasmd`]: a second deployment with 4 s epochs (2 s grace),
//! pinned; one node with a receipt in each of 30 consecutive epochs, each finalized once over, then
//! `Claim` over the 30. Writes its row to `$OPG_WASMD_GAS_CLAIM30_OUT` (default
//! `target/wasmd-gas-claim30.json`); `scripts/gas-report.sh` merges it into the first file.
//!
//! The two tests run in parallel on one chain: dev accounts 0 (deployer), 1 (operator) and 2
//! (submitter) for the first, 3, 4 and 5 for the second. Run after the other wasmd tests or on its
//! own chain (the test binaries of one `cargo test` run one after another).
mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use opg_core::eip712::verifier_domain_separator;
use opg_core::epoch::EpochClock;
use opg_core::msg::pool::PendingRewardsResponse;
use opg_core::receipt::SignedReceipt;
use opg_core::sign::{signer_keys_of, EvmSigner, NodeSigner};
use opg_keeper::chain::cosmos::{CometRpc, CosmosChain, CosmosConfig, DeployState, HttpRpc};
use opg_keeper::chain::{ChainBackend, ContractRole};
use opg_keeper::cli::deploy::{deploy, write_state, DeployConfig};
use opg_keeper::cli::node::read_key_file;
use opg_keeper::tx::keys::TxKey;
use serde_json::json;
use support::{
    artifacts_dir, dev_address, dev_mnemonic_file, localnet, opg_json, paid_call, root, Localnet,
};

const EPOCH: u64 = 150;
const GRACE: u64 = 5;
/// The claim-over-30-epochs deployment's clock (seconds): chain time advances with ~200 ms
/// blocks, so one receipt and one `FinalizeEpoch` fit in each epoch.
const SHORT_EPOCH: u64 = 4;
const SHORT_GRACE: u64 = 2;
/// Epochs claimed by `gas_used_by_claim_over_30_epochs_on_wasmd` (the pool's default claim page).
const CLAIM_EPOCHS: u64 = 30;
const GPT: &str = "openai/gpt-4.1";
const PAY_TO: &str = "0x1111111111111111111111111111111111111111";
const GAS_PRICE: &str = "0.025uopg";

fn signer(url: &str, chain_id: &str, key: &Path, d: &opg_keeper::chain::Deployment) -> CosmosChain {
    let key = TxKey::from_file(key, "m/44'/118'/0'/0/0", "wasm").unwrap();
    let mut cfg = CosmosConfig::new(url, chain_id, GAS_PRICE);
    cfg.deployment = Some(d.clone());
    cfg.poll_interval_ms = 100;
    CosmosChain::with_rpc(cfg, Box::new(HttpRpc::new(url).unwrap()), key).unwrap()
}

/// One deployment of the artifacts (`keeper/deploy.example.toml` with `clock`, x/gov as
/// governance, one allow-listed facilitator, `GPT` added as a commercial model by a passed
/// proposal), with the files of `opg` commands in `home`.
struct Deployed<'a> {
    net: &'a Localnet,
    home: PathBuf,
    url: String,
    chain_id: String,
    state: DeployState,
    state_s: String,
    d: opg_keeper::chain::Deployment,
    facilitator: EvmSigner,
    domain: [u8; 32],
}

impl<'a> Deployed<'a> {
    /// Deploys with `deployer` (a mnemonic file) and the epoch clock `clock`.
    fn new(net: &'a Localnet, home: &Path, deployer: &Path, clock: EpochClock) -> Self {
        let url = net.rpc.clone();
        let chain_id = net.chain_id.clone();
        let facilitator = EvmSigner::derive(b"wasmd-gas", "facilitator");
        let example = root().join("keeper/deploy.example.toml");
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
        std::fs::write(&config_path, text).unwrap();
        let mut config = DeployConfig::read(&config_path).unwrap();
        config.pool.clock = clock;
        config.verifier.facilitators = vec![facilitator.address()];
        let state = deploy(&config).unwrap();
        let state_path = home.join("deploy.json");
        write_state(&state_path, &state).unwrap();
        let d = state.deployment.clone();
        let domain = verifier_domain_separator(&chain_id, &d.verifier);
        let dep = Deployed {
            net,
            home: home.to_path_buf(),
            url,
            chain_id,
            state_s: state_path.display().to_string(),
            state,
            d,
            facilitator,
            domain,
        };
        dep.pass(
            "model",
            &dep.proposal(&["add-model", "--id", GPT, "--provenance", "commercial"]),
        );
        dep
    }

    /// `opg gov <tail> --proposal` for this deployment.
    fn proposal(&self, tail: &[&str]) -> serde_json::Value {
        let mut v = vec![
            "gov",
            "--node",
            &self.url,
            "--state",
            &self.state_s,
            "--proposal",
        ];
        v.extend_from_slice(tail);
        opg_json(&v)
    }

    /// Submits proposal `p` (saved as `<name>.json`) and passes it.
    fn pass(&self, name: &str, p: &serde_json::Value) {
        let path = self.home.join(format!("{name}.json"));
        std::fs::write(&path, serde_json::to_vec(p).unwrap()).unwrap();
        self.net.pass_proposal(&path);
    }

    /// Pins the three codes (`MsgPinCodes` through x/gov) and checks wasmd lists them.
    fn pin(&self) {
        self.pass("pin", &self.proposal(&["pin-codes"]));
        let ids = self.net.query(&["q", "wasm", "pinned"]);
        let pinned = ids["code_ids"].as_array().unwrap();
        let c = self.state.code_ids;
        for code in [c.registry, c.verifier, c.pool] {
            assert!(pinned.contains(&json!(code.to_string())), "{ids}");
        }
    }

    /// A new node key of `kind` (`secp256k1`/`ed25519`) in `<name>.key`.
    fn keygen(&self, name: &str, kind: &str) -> PathBuf {
        let p = self.home.join(format!("{name}.key"));
        opg_json(&[
            "node",
            "keygen",
            "--type",
            kind,
            "--out",
            &p.display().to_string(),
        ]);
        p
    }

    /// `opg node register` of proxy `id` (node key file `key`) by `operator` (a mnemonic file)
    /// with a bond of 1,000,000 uopg; the tx's `gas_used`.
    fn register(&self, operator: &Path, id: &str, key: &Path) -> u64 {
        let out = opg_json(&[
            "node",
            "register",
            "--node",
            &self.url,
            "--state",
            &self.state_s,
            "--mnemonic-file",
            &operator.display().to_string(),
            "--node-id",
            id,
            "--kind",
            "proxy",
            "--upstream",
            "https://api.openai.com",
            "--node-key-file",
            &key.display().to_string(),
            "--pay-to",
            PAY_TO,
            "--endpoint",
            &format!("https://{id}.example"),
            "--model",
            GPT,
            "--bond",
            "1000000uopg",
        ]);
        out["gas_used"].as_u64().expect("gas_used")
    }

    /// A call of `payer` to node `id` (signed by `node`) of 10,000 USDC units served at
    /// `served_at`, with the signers' keys attached as the keeper stores receipts at ingest.
    fn receipt(
        &self,
        payer: &EvmSigner,
        node: &NodeSigner,
        id: &str,
        served_at: u64,
        tag: &str,
    ) -> SignedReceipt {
        let keys = signer_keys_of(payer, node, Some(&self.facilitator));
        let mut r = paid_call(
            payer,
            node,
            &self.facilitator,
            &self.domain,
            id,
            PAY_TO,
            GPT,
            10_000,
            served_at,
            tag,
        );
        r.signer_keys = Some(keys);
        r
    }

    /// A signer of txs to this deployment with the mnemonic file `key`.
    fn signer(&self, key: &Path) -> CosmosChain {
        signer(&self.url, &self.chain_id, key, &self.d)
    }
}

/// Writes `rows` as the JSON `scripts/gas-report.sh` reads to `$<var>`, else `target/<default>`.
fn write_rows(var: &str, default: &str, rows: &[serde_json::Value]) {
    let out = std::env::var(var)
        .map(PathBuf::from)
        .unwrap_or_else(|_| root().join("target").join(default));
    std::fs::write(
        &out,
        serde_json::to_vec_pretty(&json!({
            "wasmd": "v0.61.14",
            "gas_price": GAS_PRICE,
            "rows": rows,
        }))
        .unwrap(),
    )
    .unwrap();
    eprintln!("wrote {}", out.display());
}

/// Waits (up to `t - now` + 120 s) until chain time reaches `t`; the chain time then.
fn wait_chain_time(chain: &CosmosChain, t: u64) -> u64 {
    let now = chain.status().unwrap().time;
    let deadline = Instant::now() + Duration::from_secs(t.saturating_sub(now) + 120);
    loop {
        let now = chain.status().unwrap().time;
        if now >= t {
            return now;
        }
        assert!(Instant::now() < deadline, "chain time stuck at {now}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
#[ignore = "needs wasmd and the artifacts: scripts/gas-report.sh runs it"]
fn gas_used_by_real_txs_on_wasmd() {
    let net = localnet();
    let home = tempfile::tempdir().unwrap();
    let deployer = dev_mnemonic_file(home.path(), 0);
    let operator = dev_mnemonic_file(home.path(), 1);
    let submitter = dev_mnemonic_file(home.path(), 2);
    let mut rows: Vec<serde_json::Value> = Vec::new();

    // --- deploy: epoch 0 starts now; one allow-listed facilitator
    let t0 = HttpRpc::new(&net.rpc).unwrap().status().unwrap().time;
    let clock = EpochClock {
        genesis: t0,
        epoch_length: EPOCH,
        grace: GRACE,
    };
    let dep = Deployed::new(net, home.path(), &deployer, clock);
    let key1 = dep.keygen("proxy-1", "secp256k1");
    let node: NodeSigner = read_key_file(&key1).unwrap();
    let submit = dep.signer(&submitter);
    let mut run = 0u32;
    let mut batch = |node: &NodeSigner, id: &str, n: usize, payers: usize| -> (u64, u32, usize) {
        run += 1;
        let now = submit.status().unwrap().time;
        let receipts: Vec<SignedReceipt> = (0..n)
            .map(|i| {
                let p = EvmSigner::derive(b"wasmd-gas", &format!("run{run}/payer{}", i % payers));
                dep.receipt(&p, node, id, now - 1, &format!("/call{i}"))
            })
            .collect();
        let config = submit.verifier_config().unwrap();
        let msg_bytes = opg_keeper::chain::submit_msg_bytes(&receipts, &[], &config)
            .unwrap()
            .len();
        let out = submit.submit_receipts(&receipts, &[]).unwrap();
        (out.gas_used, out.response.accepted, msg_bytes)
    };

    for pinned in [false, true] {
        let label = if pinned { "pinned" } else { "unpinned" };
        if pinned {
            dep.pin();
        }
        let id = if pinned { "proxy-2" } else { "proxy-1" };
        let key = if pinned {
            dep.keygen(id, "secp256k1")
        } else {
            key1.clone()
        };
        let gas = dep.register(&operator, id, &key);
        rows.push(
            json!({"action": "Register (proxy, secp256k1 key)", "codes": label,
            "receipts": 0, "gas_used": gas}),
        );
        for (n, payers, what) in [
            (1usize, 1usize, "SubmitReceipts x1 (new payer)"),
            (10, 10, "SubmitReceipts x10 (new payers)"),
            (100, 100, "SubmitReceipts x100 (new payers)"),
            (100, 10, "SubmitReceipts x100 (10 payers, 10 calls each)"),
        ] {
            let (gas, accepted, bytes) = batch(&node, "proxy-1", n, payers);
            if payers == n {
                assert_eq!(accepted as usize, n, "{what} {label}");
            }
            rows.push(json!({"action": what, "codes": label, "receipts": n,
                "accepted": accepted, "message_bytes": bytes, "gas_used": gas,
                "per_receipt": gas / n as u64}));
        }
    }
    // an ed25519 node key (pinned), every payer new
    {
        let p = dep.keygen("proxy-ed", "ed25519");
        dep.register(&operator, "proxy-ed", &p);
        let ed: NodeSigner = read_key_file(&p).unwrap();
        let what = "SubmitReceipts x100 (new payers, ed25519 node key)";
        let (gas, accepted, bytes) = batch(&ed, "proxy-ed", 100, 100);
        assert_eq!(accepted, 100, "{what}");
        rows.push(json!({"action": what, "codes": "pinned", "receipts": 100,
            "accepted": accepted, "message_bytes": bytes, "gas_used": gas,
            "per_receipt": gas / 100}));
    }
    // pinning saves the contract entry costs (60,000 -> 2,000 per entry, 3 entries per batch)
    let gas_of = |action: &str, codes: &str| -> u64 {
        rows.iter()
            .find(|r| r["action"] == action && r["codes"] == codes)
            .unwrap()["gas_used"]
            .as_u64()
            .unwrap()
    };
    let x1 = "SubmitReceipts x1 (new payer)";
    assert!(
        gas_of(x1, "unpinned") > gas_of(x1, "pinned") + 100_000,
        "{rows:?}"
    );

    // --- FinalizeEpoch (after end + grace) and Claim over 1 epoch, pinned
    wait_chain_time(&submit, t0 + EPOCH + GRACE);
    let fin = submit.finalize_epoch(0).unwrap();
    rows.push(
        json!({"action": "FinalizeEpoch (1 node with usage)", "codes": "pinned",
        "receipts": 0, "gas_used": fin.gas_used}),
    );
    let claim = dep
        .signer(&operator)
        .execute(
            &dep.d.pool,
            serde_json::to_vec(&opg_core::msg::pool::ExecuteMsg::Claim {
                node_id: "proxy-1".into(),
                limit: None,
            })
            .unwrap(),
        )
        .unwrap();
    rows.push(
        json!({"action": "Claim over 1 epoch", "codes": "pinned", "receipts": 0,
        "gas_used": claim.gas_used}),
    );
    write_rows("OPG_WASMD_GAS_OUT", "wasmd-gas.json", &rows);
}

/// `Claim` over 30 epochs (issue 12; the VM estimate is the `Claim over 30 epochs` row of
/// `docs/gas.md`): one proxy with one receipt (10,000 USDC units) served in each of 30 consecutive
/// 4 s epochs, every epoch finalized once over (end + grace), then the operator claims with the
/// default limit (30). The claim pays what `PendingRewards` and the epoch reports say.
#[test]
#[ignore = "needs wasmd and the artifacts: scripts/gas-report.sh runs it"]
fn gas_used_by_claim_over_30_epochs_on_wasmd() {
    let net = localnet();
    let home = tempfile::tempdir().unwrap();
    let deployer = dev_mnemonic_file(home.path(), 3);
    let operator = dev_mnemonic_file(home.path(), 4);
    let submitter = dev_mnemonic_file(home.path(), 5);

    // --- deploy with short epochs starting after the setup (deploy, two proposals, which may wait
    // for the other test's, a register); epochs that pass before the loop are finalized empty
    let t0 = HttpRpc::new(&net.rpc).unwrap().status().unwrap().time;
    let clock = EpochClock {
        genesis: t0 + 60,
        epoch_length: SHORT_EPOCH,
        grace: SHORT_GRACE,
    };
    let dep = Deployed::new(net, home.path(), &deployer, clock);
    dep.pin();
    // the budget B = min(emission 1e9, balance - reserved) needs a funded pool
    net.tx(
        "dev3",
        &[
            "wasm",
            "execute",
            &dep.d.pool,
            r#"{"fund":{}}"#,
            "--amount",
            "10000000000uopg",
        ],
    );
    let key = dep.keygen("proxy-1", "secp256k1");
    dep.register(&operator, "proxy-1", &key);
    let node: NodeSigner = read_key_file(&key).unwrap();
    let submit = dep.signer(&submitter);

    // --- one receipt served at the start of each of 30 epochs; finalize what is due after each
    let mut next_to_finalize = 0u64;
    let mut finalize_due = |now: u64| {
        while clock.finalizable(next_to_finalize, now) {
            submit.finalize_epoch(next_to_finalize).unwrap();
            next_to_finalize += 1;
        }
    };
    let now = submit.status().unwrap().time;
    let first = clock.epoch_of(now).map_or(0, |e| e + 1);
    let last = first + CLAIM_EPOCHS - 1;
    for e in first..=last {
        let now = wait_chain_time(&submit, clock.start(e));
        let payer = EvmSigner::derive(b"wasmd-gas", &format!("claim30/epoch{e}"));
        let r = dep.receipt(&payer, &node, "proxy-1", clock.start(e), "/call");
        let out = submit.submit_receipts(&[r], &[]).unwrap();
        assert_eq!(
            out.response.accepted, 1,
            "receipt of epoch {e}: {:?}",
            out.response
        );
        finalize_due(now);
    }
    finalize_due(wait_chain_time(&submit, clock.end(last) + clock.grace));
    assert_eq!(next_to_finalize, last + 1, "all epochs finalized");

    // --- what the pool says is owed: 30 epochs. Hand computation (DESIGN §4, the params of
    // keeper/deploy.example.toml): one commercial call of 10,000 micro-USD per epoch, B = 1e9,
    // D = 0.5 * 1e4; rho = min((1 - alpha) B / D = 160,000, c_call / (m_max v_cap) = 1/30): the
    // per-call cap binds, floor(0.5 * 1e4 / 30) = 166 uopg per epoch, no stipend (a proxy).
    let pending: PendingRewardsResponse = serde_json::from_value(
        submit
            .query_json(
                ContractRole::Pool,
                &json!({"pending_rewards": {"node_id": "proxy-1"}}),
            )
            .unwrap(),
    )
    .unwrap();
    assert_eq!(u64::from(pending.epochs), CLAIM_EPOCHS, "{pending:?}");
    assert_eq!(
        pending.amount.u128(),
        166 * CLAIM_EPOCHS as u128,
        "{pending:?}"
    );

    // --- the claim (limit None: the default page of 30) pays it to the operator
    let op = dev_address(4);
    let before = net.balance(&op, "uopg");
    let claim = dep
        .signer(&operator)
        .execute(
            &dep.d.pool,
            serde_json::to_vec(&opg_core::msg::pool::ExecuteMsg::Claim {
                node_id: "proxy-1".into(),
                limit: None,
            })
            .unwrap(),
        )
        .unwrap();
    let fee = net.tx_fee(&claim.tx_hash, "uopg");
    let after = net.balance(&op, "uopg");
    assert_eq!(after + fee - before, pending.amount.u128(), "bank delta");
    let paid: u128 = (first..=last)
        .map(|e| submit.epoch_report(e).unwrap().paid.u128())
        .sum();
    assert_eq!(paid, pending.amount.u128(), "epoch reports' paid");
    let left: PendingRewardsResponse = serde_json::from_value(
        submit
            .query_json(
                ContractRole::Pool,
                &json!({"pending_rewards": {"node_id": "proxy-1"}}),
            )
            .unwrap(),
    )
    .unwrap();
    assert_eq!(left.epochs, 0, "{left:?}");

    let rows = [json!({"action": "Claim over 30 epochs", "codes": "pinned",
        "receipts": 0, "gas_used": claim.gas_used})];
    write_rows("OPG_WASMD_GAS_CLAIM30_OUT", "wasmd-gas-claim30.json", &rows);
}
