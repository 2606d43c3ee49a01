//! A real wasmd (`scripts/localnet.sh`, see `support`) driven by CosmJS from npm
//! (`@cosmjs/cosmwasm-stargate` `SigningCosmWasmClient`), a client no one here wrote, against the
//! contracts `opg deploy` stored: `scripts/cosmjs/test.mjs` connects, reads account and balance,
//! queries the pool, simulates and executes `Fund` with fee "auto", reads the tx back with `getTx`
//! and sees a contract refusal as an error.
//!
//! Needs Node.js and npm; when `scripts/cosmjs/node_modules` is missing the test installs the
//! committed lock file with `npm ci` (the npm registry is one of the reachable registries).
//! Dev account 0 deploys and signs.
mod support;

use std::process::Command;

use opg_keeper::cli::deploy::{deploy, DeployConfig};
use support::{artifacts_dir, dev_mnemonic, dev_mnemonic_file, localnet, root};

#[test]
#[ignore = "needs wasmd and the artifacts: scripts/e2e-cosmos.sh (CI runs it)"]
fn cosmjs_signing_client_works_against_wasmd() {
    let dir = root().join("scripts/cosmjs");
    if !dir.join("node_modules/@cosmjs/cosmwasm-stargate").is_dir() {
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--prefix"])
            .arg(&dir)
            .status()
            .expect("cannot run `npm` (is Node.js installed?)");
        assert!(
            status.success(),
            "`npm ci --prefix scripts/cosmjs` failed: {status}"
        );
    }
    let net = localnet();
    let home = tempfile::tempdir().unwrap();
    let mnemonic = dev_mnemonic_file(home.path(), 0);
    let example = root().join("keeper/deploy.example.toml");
    let text = std::fs::read_to_string(example)
        .unwrap()
        .replace("http://127.0.0.1:26657", &net.rpc)
        .replace(
            "mnemonic_env = \"OPG_DEPLOYER_MNEMONIC\"",
            &format!("mnemonic_file = {:?}", mnemonic.display().to_string()),
        )
        .replace(
            "\"../artifacts\"",
            &format!("{:?}", artifacts_dir().display().to_string()),
        );
    let config_path = home.path().join("deploy.toml");
    std::fs::write(&config_path, text).unwrap();
    let state = deploy(&DeployConfig::read(&config_path).unwrap()).unwrap();

    let out = Command::new("node")
        .arg(dir.join("test.mjs"))
        .args([&net.rpc, &dev_mnemonic(0), &state.deployment.pool])
        .output()
        .expect("cannot run `node` (is Node.js installed?)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "CosmJS test failed ({})\nstdout:\n{stdout}\nstderr:\n{stderr}",
        out.status
    );
    assert!(stdout.contains("cosmjs: ok"), "{stdout}");
}
