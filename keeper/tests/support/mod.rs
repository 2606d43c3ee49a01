//! A real wasmd chain for the tests that need one (shared by the test files that `mod support;`).
//!
//! [`localnet`] is the chain: the one at `$OPG_NODE` when `OPG_LOCALNET_HOME` names the home of a
//! running `scripts/localnet.sh` chain (its `env` file says so: `.ci/run` and
//! `scripts/e2e-cosmos.sh` start one), else a fresh chain that this test process starts with
//! `scripts/localnet.sh start --exit-with <pid>` in a temp home on free ports and that stops when
//! the process exits. Never skipped: without Go the start fails with the script's message.
//! Tests of one file share the chain: each uses its own dev accounts (see the file's header).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use cosmrs::proto::cosmos::bank::v1beta1::{QueryBalanceRequest, QueryBalanceResponse};
use cosmrs::proto::prost::Message;
use cosmwasm_std::Binary;
use opg_core::receipt::{InferenceReceipt, SignedReceipt};
use opg_core::sign::{make_signed_receipt, EvmSigner, NodeSigner, PaymentParams};
use opg_core::x402::{ExactEvmExtra, PaymentRequirements};
use opg_keeper::chain::cosmos::{CometRpc, HttpRpc};
use sha2::{Digest, Sha256};

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .unwrap()
}

/// A running wasmd chain.
pub struct Localnet {
    /// Node 0's CometBFT RPC URL.
    pub rpc: String,
    /// Every node's RPC URL.
    pub rpc_urls: Vec<String>,
    /// Chain id.
    pub chain_id: String,
    /// The `scripts/localnet.sh` home (node `i` in `node{i}`).
    pub home: PathBuf,
    /// The wasmd binary.
    pub wasmd: PathBuf,
    /// Keeps a temp home alive.
    _tmp: Option<tempfile::TempDir>,
}

static NET: OnceLock<Localnet> = OnceLock::new();
static GOV: Mutex<()> = Mutex::new(());

fn parse_env(text: &str) -> std::collections::HashMap<String, String> {
    text.lines()
        .filter_map(|l| l.strip_prefix("export "))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.trim_matches('"').to_string()))
        .collect()
}

/// A port `p` such that, for each of `validators` nodes `i`, `p+10i-1..=p+10i+2` are free on
/// 127.0.0.1 (RPC, P2P, gRPC, ABCI; `scripts/localnet.sh`'s layout).
fn free_rpc_port(validators: u16) -> u16 {
    let seed = std::process::id() as u64 ^ Instant::now().elapsed().as_nanos() as u64;
    for k in 0..400u64 {
        let p = 20_000 + ((seed.wrapping_mul(7919) + k * 131) % 30_000) as u16;
        let free = (0..validators).all(|i| {
            let q0 = p + 10 * i;
            (q0 - 1..=q0 + 2).all(|q| std::net::TcpListener::bind(("127.0.0.1", q)).is_ok())
        });
        if free {
            return p;
        }
    }
    panic!("no free ports for a local chain");
}

/// Artifacts for `opg deploy`: `artifacts/*.wasm` built by `scripts/build-wasm.sh` (run here if
/// missing; CI builds them before the tests).
pub fn artifacts_dir() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let dir = root().join("artifacts");
            if !dir.join("checksums.txt").exists() {
                let status = Command::new("bash")
                    .arg(root().join("scripts/build-wasm.sh"))
                    .status()
                    .expect("cannot run scripts/build-wasm.sh");
                assert!(status.success(), "scripts/build-wasm.sh failed: {status}");
            }
            dir
        })
        .clone()
}

/// The shared chain (started on first use).
pub fn localnet() -> &'static Localnet {
    NET.get_or_init(|| {
        if let Ok(home) = std::env::var("OPG_LOCALNET_HOME") {
            let home = PathBuf::from(home);
            let env = parse_env(
                &std::fs::read_to_string(home.join("env"))
                    .unwrap_or_else(|e| panic!("OPG_LOCALNET_HOME: {}/env: {e}", home.display())),
            );
            return Localnet {
                rpc: env["OPG_NODE"].clone(),
                rpc_urls: env["OPG_RPC_URLS"].split(',').map(String::from).collect(),
                chain_id: env["OPG_CHAIN_ID"].clone(),
                wasmd: PathBuf::from(&env["OPG_WASMD_BIN"]),
                home,
                _tmp: None,
            };
        }
        Localnet::start(1)
    })
}

impl Localnet {
    /// A fresh chain of `validators` validators that this test process starts with
    /// `scripts/localnet.sh start --validators N --exit-with <pid>` in a temp home on free ports;
    /// it stops when the process exits (or with [`Localnet::stop`]).
    pub fn start(validators: u16) -> Localnet {
        let tmp = tempfile::Builder::new()
            .prefix("opg-localnet-")
            .tempdir()
            .unwrap();
        let port = free_rpc_port(validators);
        let out = Command::new("bash")
            .arg(root().join("scripts/localnet.sh"))
            .args(["start", "--home"])
            .arg(tmp.path())
            .args(["--rpc-port", &port.to_string()])
            .args(["--validators", &validators.to_string()])
            .args(["--exit-with", &std::process::id().to_string()])
            .output()
            .expect("cannot run scripts/localnet.sh");
        assert!(
            out.status.success(),
            "scripts/localnet.sh start failed ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        let env = parse_env(&String::from_utf8_lossy(&out.stdout));
        Localnet {
            rpc: env["OPG_NODE"].clone(),
            rpc_urls: env["OPG_RPC_URLS"].split(',').map(String::from).collect(),
            chain_id: env["OPG_CHAIN_ID"].clone(),
            wasmd: PathBuf::from(&env["OPG_WASMD_BIN"]),
            home: tmp.path().to_path_buf(),
            _tmp: Some(tmp),
        }
    }

    /// Stops validator `i` (`scripts/localnet.sh stop --node I`), or all nodes with `None`.
    pub fn stop(&self, node: Option<usize>) {
        let mut cmd = Command::new("bash");
        cmd.arg(root().join("scripts/localnet.sh"))
            .args(["stop", "--home"])
            .arg(&self.home);
        if let Some(i) = node {
            cmd.args(["--node", &i.to_string()]);
        }
        let out = cmd.output().expect("cannot run scripts/localnet.sh");
        assert!(
            out.status.success(),
            "scripts/localnet.sh stop failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Dev account `i`'s mnemonic (`chain/wasmd/dev-accounts.txt`, funded with 10^13 uopg).
pub fn dev_mnemonic(i: usize) -> String {
    std::fs::read_to_string(root().join("chain/wasmd/dev-accounts.txt"))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .nth(i)
        .unwrap_or_else(|| panic!("no dev account {i}"))
        .to_string()
}

/// Dev account `i`'s `wasm1…` address.
pub fn dev_address(i: usize) -> String {
    opg_keeper::tx::keys::TxKey::from_mnemonic(
        &dev_mnemonic(i),
        opg_keeper::tx::keys::DEFAULT_HD_PATH,
        "wasm",
    )
    .unwrap()
    .address()
    .to_string()
}

/// Writes dev account `i`'s mnemonic to `dir/dev{i}.mnemonic`; the path.
pub fn dev_mnemonic_file(dir: &Path, i: usize) -> PathBuf {
    let p = dir.join(format!("dev{i}.mnemonic"));
    std::fs::write(&p, dev_mnemonic(i)).unwrap();
    p
}

impl Localnet {
    /// `wasmd <args> --node <rpc> -o json` (queries), parsed.
    pub fn query(&self, args: &[&str]) -> serde_json::Value {
        let out = Command::new(&self.wasmd)
            .args(args)
            .args(["--node", &self.rpc, "-o", "json"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "wasmd {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// `wasmd tx <args>` signed by `from` of node 0's test keyring (`validator`, `dev0`…), waits
    /// for inclusion; the tx result JSON (`wasmd q tx`). Panics when refused or failed.
    pub fn tx(&self, from: &str, args: &[&str]) -> serde_json::Value {
        self.tx_with(&self.home.join("node0"), from, args)
    }

    /// `wasmd tx <args>` signed by `from` of the test keyring in `keyring_home`.
    pub fn tx_with(&self, keyring_home: &Path, from: &str, args: &[&str]) -> serde_json::Value {
        self.try_tx_with(keyring_home, from, args)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// [`Localnet::tx_with`], with a refusal or failure as `Err(message)`.
    pub fn try_tx_with(
        &self,
        keyring_home: &Path,
        from: &str,
        args: &[&str],
    ) -> Result<serde_json::Value, String> {
        let out = Command::new(&self.wasmd)
            .arg("tx")
            .args(args)
            .args(["--from", from, "--keyring-backend", "test", "--home"])
            .arg(keyring_home)
            .args([
                "--chain-id",
                &self.chain_id,
                "--node",
                &self.rpc,
                "--gas",
                "auto",
                // x2: a `gov vote` simulated at 38,404 gas used 57,664 when delivered (measured)
                "--gas-adjustment",
                "2",
                "--gas-prices",
                "0.025uopg",
                "-y",
                "-o",
                "json",
            ])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() {
            return Err(format!(
                "wasmd tx {args:?}: {}{stdout}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let sync: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        if sync["code"] != 0 {
            return Err(format!("wasmd tx {args:?} refused: {sync}"));
        }
        let r = self.wait_tx(sync["txhash"].as_str().unwrap());
        if r["code"] != 0 {
            return Err(format!("wasmd tx {args:?} failed: {}", r["raw_log"]));
        }
        Ok(r)
    }

    /// Waits (up to 60 s) until tx `hash` (uppercase hex) is in a block; its result JSON
    /// (`wasmd q tx`, with `code` and `raw_log`).
    pub fn wait_tx(&self, hash: &str) -> serde_json::Value {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let out = Command::new(&self.wasmd)
                .args(["q", "tx", hash, "--node", &self.rpc, "-o", "json"])
                .output()
                .unwrap();
            if out.status.success() {
                return serde_json::from_slice(&out.stdout).unwrap();
            }
            assert!(Instant::now() < deadline, "tx {hash} not included in 60 s");
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Submits the x/gov proposal in `proposal` (a `wasmd tx gov submit-proposal` JSON file, as
    /// `opg gov … --proposal` prints), votes yes with every validator and waits for the voting
    /// period to end; the final proposal JSON. Serialised: the validator keys sign in turn.
    pub fn pass_proposal(&self, proposal: &Path) -> serde_json::Value {
        let _guard = GOV.lock().unwrap_or_else(|e| e.into_inner());
        let r = self.tx(
            "validator",
            &["gov", "submit-proposal", proposal.to_str().unwrap()],
        );
        let id = proposal_id(&r).expect("submit_proposal event with proposal_id");
        let validators = std::fs::read_dir(&self.home)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| {
                let n = e.file_name().to_string_lossy().to_string();
                n.starts_with("node") && e.path().is_dir()
            })
            .count();
        for i in 0..validators {
            // with several validators the voting period (6 s) may end before the last votes:
            // the votes cast so far decide (the status below)
            let home = self.home.join(format!("node{i}"));
            match self.try_tx_with(&home, "validator", &["gov", "vote", &id, "yes"]) {
                Ok(_) => {}
                Err(e) if i > 0 && e.contains("inactive proposal") => break,
                Err(e) => panic!("{e}"),
            }
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let p = self.query(&["q", "gov", "proposal", &id]);
            let status = p["proposal"]["status"].as_str().unwrap_or("").to_string();
            match status.as_str() {
                "PROPOSAL_STATUS_PASSED" => return p,
                "PROPOSAL_STATUS_FAILED" | "PROPOSAL_STATUS_REJECTED" => {
                    panic!("proposal {id} {status}: {p}")
                }
                _ => {}
            }
            assert!(
                Instant::now() < deadline,
                "proposal {id} still {status}: {p}"
            );
            std::thread::sleep(Duration::from_millis(300));
        }
    }

    /// `wasmd tx <args>` signed by node `i`'s validator key.
    fn tx_from_node(&self, i: usize, args: &[&str]) -> serde_json::Value {
        self.tx_with(&self.home.join(format!("node{i}")), "validator", args)
    }

    /// `address`'s bank balance of `denom` (base units).
    pub fn balance(&self, address: &str, denom: &str) -> u128 {
        let rpc = HttpRpc::new(&self.rpc).unwrap();
        let a = rpc
            .abci_query(
                "/cosmos.bank.v1beta1.Query/Balance",
                QueryBalanceRequest {
                    address: address.into(),
                    denom: denom.into(),
                }
                .encode_to_vec(),
            )
            .unwrap();
        let r = QueryBalanceResponse::decode(a.value.as_slice()).unwrap();
        r.balance.map(|c| c.amount.parse().unwrap()).unwrap_or(0)
    }

    /// The fee paid by tx `hash` in `denom` (from `wasmd q tx`).
    pub fn tx_fee(&self, hash: &str, denom: &str) -> u128 {
        let r = self.query(&["q", "tx", hash]);
        r["tx"]["auth_info"]["fee"]["amount"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["denom"] == denom)
            .map(|c| c["amount"].as_str().unwrap().parse::<u128>().unwrap())
            .sum()
    }

    /// The x/gov module account's address.
    pub fn gov_address(&self) -> String {
        opg_keeper::cli::common::gov_module_address("wasm").unwrap()
    }
}

/// The `proposal_id` of a `submit_proposal` tx result.
pub fn proposal_id(tx: &serde_json::Value) -> Option<String> {
    tx["events"]
        .as_array()?
        .iter()
        .filter(|e| e["type"] == "submit_proposal")
        .flat_map(|e| e["attributes"].as_array().cloned().unwrap_or_default())
        .find(|a| a["key"] == "proposal_id")
        .and_then(|a| a["value"].as_str().map(String::from))
}

/// Several `opg gov … --proposal` outputs merged into one proposal (their messages in order).
pub fn merge_proposals(parts: &[serde_json::Value], title: &str) -> serde_json::Value {
    let mut p = parts[0].clone();
    p["messages"] = serde_json::Value::Array(
        parts
            .iter()
            .flat_map(|x| x["messages"].as_array().unwrap().clone())
            .collect(),
    );
    p["title"] = title.into();
    p["summary"] = format!("{title} ({} messages)", parts.len()).into();
    p
}

/// USDC on Base Sepolia (the example deploy config's only asset).
pub const USDC: &str = "0x036cbd53842c5426634e7929541ec2318f3dcf7e";

/// One paid call: `payer` pays `value` USDC units (micro-USD) to the node whose x402 `payTo` is
/// `pay_to`, settled by `facilitator`, in the verifier domain `domain`; the EIP-3009 nonce is
/// derived from the payer, the node and `tag` (distinct tags: distinct calls of one payer).
#[allow(clippy::too_many_arguments)]
pub fn paid_call(
    payer: &EvmSigner,
    node: &NodeSigner,
    facilitator: &EvmSigner,
    domain: &[u8; 32],
    node_id: &str,
    pay_to: &str,
    model: &str,
    value: u128,
    served_at: u64,
    tag: &str,
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
            ..ExactEvmExtra::default()
        }),
    };
    let nonce: [u8; 32] =
        Sha256::digest(format!("nonce/{}/{node_id}{tag}", payer.address())).into();
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

/// `opg <args>` run as the binary (its stdout parsed as JSON), for commands whose printed output
/// is the product (`gov … --proposal`, `deploy`); panics with opg's stderr if it fails.
pub fn opg_json(args: &[&str]) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_opg"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "opg {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}
