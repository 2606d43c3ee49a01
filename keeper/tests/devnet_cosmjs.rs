//! The devnet driven by CosmJS from npm (`@cosmjs/cosmwasm-stargate` `SigningCosmWasmClient`),
//! a client no one here wrote: `scripts/cosmjs-devnet/test.mjs` connects, reads account and
//! balance, queries the pool, executes `Fund` with fee "auto" and reads the tx back.
//!
//! Needs Node.js and npm; when `scripts/cosmjs-devnet/node_modules` is missing the test installs
//! the committed lock file with `npm ci` (the npm registry is one of the reachable registries).
use std::path::PathBuf;
use std::process::Command;

use opg_keeper::devnet::{Devnet, DevnetConfig};

fn script_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/cosmjs-devnet")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cosmjs_signing_client_works_against_the_devnet() {
    let dir = script_dir();
    if !dir.join("node_modules/@cosmjs/cosmwasm-stargate").is_dir() {
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--prefix"])
            .arg(&dir)
            .status()
            .expect("cannot run `npm` (is Node.js installed?)");
        assert!(
            status.success(),
            "`npm ci --prefix scripts/cosmjs-devnet` failed: {status}"
        );
    }
    let home = tempfile::tempdir().unwrap();
    let mut cfg = DevnetConfig::new(home.path().to_path_buf());
    cfg.listen = "127.0.0.1:0".parse().unwrap();
    let d = Devnet::start(cfg).await.unwrap();
    let (rpc, mnemonic, pool) = (
        d.rpc_url(),
        d.accounts[0].mnemonic.clone(),
        d.deployment.pool.clone(),
    );
    let out = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(dir.join("test.mjs"))
            .args([&rpc, &mnemonic, &pool])
            .output()
    })
    .await
    .unwrap()
    .expect("cannot run `node` (is Node.js installed?)");
    d.stop().await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "CosmJS test failed ({})\nstdout:\n{stdout}\nstderr:\n{stderr}",
        out.status
    );
    assert!(stdout.contains("cosmjs-devnet: ok"), "{stdout}");
}
