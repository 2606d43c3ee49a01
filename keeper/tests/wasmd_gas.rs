//! Gas of real txs on wasmd (`scripts/gas-report.sh` runs this and puts the figures into
//! `docs/gas.md`): `gas_used` as wasmd reports it for each tx, so it includes what the VM estimate
//! leaves out (tx size at 10 gas per byte, the tx signature, the fee transfer, events).
//!
//! One deployment (the optimized artifacts, x/gov as governance); each action first on unpinned
//! codes, then again after a real `MsgPinCodes` proposal: `Register` (proxy, secp256k1 node key),
//! `SubmitReceipts` with 1, 10 and 100 receipts of new payers and 100 receipts of 10 payers (10
//! calls each), all signed as `opg loadgen` and the node middleware sign them and compacted as the
//! keeper submits them; then `FinalizeEpoch` and `Claim` over 1 epoch. Writes the rows as JSON to
//! `$OPG_WASMD_GAS_OUT` (default `target/wasmd-gas.json`).
//!
//! Dev accounts 0 (deployer), 1 (operator) and 2 (submitter); run after the other wasmd tests or
//! on its own chain (the test binaries of one `cargo test` run one after another).
mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use opg_core::eip712::verifier_domain_separator;
use opg_core::epoch::EpochClock;
use opg_core::receipt::SignedReceipt;
use opg_core::sign::{signer_keys_of, EvmSigner, NodeSigner};
use opg_keeper::chain::cosmos::{CometRpc, CosmosChain, CosmosConfig, HttpRpc};
use opg_keeper::chain::ChainBackend;
use opg_keeper::cli::deploy::{deploy, write_state, DeployConfig};
use opg_keeper::cli::node::read_key_file;
use opg_keeper::tx::keys::TxKey;
use serde_json::json;
use support::{artifacts_dir, dev_mnemonic_file, localnet, opg_json, paid_call, root};

const EPOCH: u64 = 150;
const GRACE: u64 = 5;
const GPT: &str = "openai/gpt-4.1";
const PAY_TO: &str = "0x1111111111111111111111111111111111111111";

fn signer(url: &str, chain_id: &str, key: &Path, d: &opg_keeper::chain::Deployment) -> CosmosChain {
    let key = TxKey::from_file(key, "m/44'/118'/0'/0/0", "wasm").unwrap();
    let mut cfg = CosmosConfig::new(url, chain_id, "0.025uopg");
    cfg.deployment = Some(d.clone());
    cfg.poll_interval_ms = 100;
    CosmosChain::with_rpc(cfg, Box::new(HttpRpc::new(url).unwrap()), key).unwrap()
}

#[test]
#[ignore = "needs wasmd and the artifacts: scripts/gas-report.sh runs it"]
fn gas_used_by_real_txs_on_wasmd() {
    let net = localnet();
    let home = tempfile::tempdir().unwrap();
    let url = net.rpc.clone();
    let chain_id = net.chain_id.clone();
    let deployer = dev_mnemonic_file(home.path(), 0);
    let operator = dev_mnemonic_file(home.path(), 1);
    let submitter = dev_mnemonic_file(home.path(), 2);
    let mut rows: Vec<serde_json::Value> = Vec::new();

    // --- deploy: epoch 0 starts now; one allow-listed facilitator
    let t0 = HttpRpc::new(&url).unwrap().status().unwrap().time;
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
    let config_path = home.path().join("deploy.toml");
    std::fs::write(&config_path, text).unwrap();
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
    let state_s = state_path.display().to_string();
    let d = state.deployment.clone();
    let proposal = |tail: &[&str]| -> serde_json::Value {
        let mut v = vec!["gov", "--node", &url, "--state", &state_s, "--proposal"];
        v.extend_from_slice(tail);
        opg_json(&v)
    };
    let pass = |name: &str, p: &serde_json::Value| {
        let path = home.path().join(format!("{name}.json"));
        std::fs::write(&path, serde_json::to_vec(p).unwrap()).unwrap();
        net.pass_proposal(&path);
    };
    pass(
        "model",
        &proposal(&["add-model", "--id", GPT, "--provenance", "commercial"]),
    );

    let op_key = operator.display().to_string();
    let register = |id: &str, key: &Path| -> u64 {
        let out = opg_json(&[
            "node",
            "register",
            "--node",
            &url,
            "--state",
            &state_s,
            "--mnemonic-file",
            &op_key,
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
    };
    let keygen = |name: &str| -> std::path::PathBuf {
        let p = home.path().join(format!("{name}.key"));
        opg_json(&[
            "node",
            "keygen",
            "--type",
            "secp256k1",
            "--out",
            &p.display().to_string(),
        ]);
        p
    };
    let key1 = keygen("proxy-1");
    let node: NodeSigner = read_key_file(&key1).unwrap();
    let domain = verifier_domain_separator(&chain_id, &d.verifier);
    let submit = signer(&url, &chain_id, &submitter, &d);
    let mut run = 0u32;
    let mut batch = |node: &NodeSigner, id: &str, n: usize, payers: usize| -> (u64, u32, usize) {
        run += 1;
        let now = submit.status().unwrap().time;
        let receipts: Vec<SignedReceipt> = (0..n)
            .map(|i| {
                let p = EvmSigner::derive(b"wasmd-gas", &format!("run{run}/payer{}", i % payers));
                // with the signers' keys, as the keeper stores receipts at ingest
                let keys = signer_keys_of(&p, node, Some(&facilitator));
                let mut r = paid_call(
                    &p,
                    node,
                    &facilitator,
                    &domain,
                    id,
                    PAY_TO,
                    GPT,
                    10_000,
                    now - 1,
                    &format!("/call{i}"),
                );
                r.signer_keys = Some(keys);
                r
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
            pass("pin", &proposal(&["pin-codes"]));
            let ids = net.query(&["q", "wasm", "pinned"]);
            assert!(
                ids["code_ids"]
                    .as_array()
                    .unwrap()
                    .contains(&json!(state.code_ids.verifier.to_string())),
                "{ids}"
            );
        }
        let id = if pinned { "proxy-2" } else { "proxy-1" };
        let key = if pinned { keygen(id) } else { key1.clone() };
        let gas = register(id, &key);
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
        let p = home.path().join("proxy-ed.key");
        opg_json(&[
            "node",
            "keygen",
            "--type",
            "ed25519",
            "--out",
            &p.display().to_string(),
        ]);
        register("proxy-ed", &p);
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
    let deadline = Instant::now() + Duration::from_secs(EPOCH + GRACE + 120);
    while submit.status().unwrap().time < t0 + EPOCH + GRACE {
        assert!(Instant::now() < deadline, "chain time stuck");
        std::thread::sleep(Duration::from_millis(500));
    }
    let fin = submit.finalize_epoch(0).unwrap();
    rows.push(
        json!({"action": "FinalizeEpoch (1 node with usage)", "codes": "pinned",
        "receipts": 0, "gas_used": fin.gas_used}),
    );
    let claimer = signer(&url, &chain_id, &operator, &d);
    let claim = claimer
        .execute(
            &d.pool,
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

    let out = std::env::var("OPG_WASMD_GAS_OUT")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| root().join("target/wasmd-gas.json"));
    std::fs::write(
        &out,
        serde_json::to_vec_pretty(&json!({
            "wasmd": "v0.61.14",
            "gas_price": "0.025uopg",
            "rows": rows,
        }))
        .unwrap(),
    )
    .unwrap();
    eprintln!("wrote {}", out.display());
}
