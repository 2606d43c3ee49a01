//! The README's "Real chains" walkthrough, run exactly as written: every fenced block marked
//! `sh walkthrough` is extracted from `README.md` in order and run as one bash script (with
//! `set -euo pipefail`) from the repository root against a fresh `scripts/localnet.sh` chain, so
//! the README cannot drift from the commands. The only things the test sets are where the chain
//! lives and its ports (`OPG_LOCALNET_HOME`, `OPG_LOCALNET_RPC_PORT`, `KEEPER_PORT`: free ports, so
//! it runs beside other chains) and `opg` on `PATH` (this build's binary).
//!
//! `#[ignore]`d in a plain `cargo test` (it needs wasmd: Go, or `OPG_WASMD_BIN`);
//! `scripts/e2e-cosmos.sh` runs it with the other wasmd tests. About 3-4 minutes: the chain
//! start, the artifacts (cached), four x/gov proposals of 6 s voting each, and one 45 s epoch
//! (167 s measured on a shared 2-core machine).
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .unwrap()
}

/// The walkthrough: the bodies of the README's ```` ```sh walkthrough ```` blocks, in order.
fn walkthrough(readme: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for line in readme.lines() {
        if inside {
            if line.trim_start().starts_with("```") {
                inside = false;
                out.push('\n');
            } else {
                out.push_str(line);
                out.push('\n');
            }
        } else if line.trim() == "```sh walkthrough" {
            inside = true;
        }
    }
    assert!(!inside, "an unterminated ```sh walkthrough block");
    out
}

/// A port `p` with `p-1..=p+2` free on 127.0.0.1 (a chain's RPC, P2P, gRPC, ABCI).
fn free_port(avoid: u16) -> u16 {
    let seed = std::process::id() as u64 * 7919;
    (0..500u64)
        .map(|k| 21_000 + ((seed + k * 173) % 28_000) as u16)
        .find(|&p| {
            p.abs_diff(avoid) > 20
                && (p - 1..=p + 2).all(|q| std::net::TcpListener::bind(("127.0.0.1", q)).is_ok())
        })
        .expect("no free ports")
}

#[test]
fn the_walkthrough_is_in_the_readme_and_has_no_placeholders() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let script = walkthrough(&readme);
    for step in [
        "scripts/localnet.sh start",
        "scripts/build-wasm.sh",
        "opg keys add",
        "opg deploy",
        "opg gov submit-proposal",
        "tx gov vote",
        "opg gov wait",
        "opg attest",
        "opg node register",
        "--kind local",
        "opg keeper run",
        "opg loadgen",
        "opg node claim",
    ] {
        assert!(script.contains(step), "the walkthrough lost `{step}`");
    }
    assert!(
        !script.contains("..."),
        "a literal `...` in the walkthrough"
    );
    assert!(!script.contains('…'), "a literal `…` in the walkthrough");
}

/// Stops the walkthrough's chain and any process it left, whatever happens.
struct Cleanup {
    home: PathBuf,
    group: Option<i32>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Some(g) = self.group {
            // the walkthrough's own process group (the keeper it started in the background)
            let _ = Command::new("kill")
                .args(["-TERM", "--", &format!("-{g}")])
                .status();
        }
        let _ = Command::new("bash")
            .arg(root().join("scripts/localnet.sh"))
            .args(["stop", "--home"])
            .arg(&self.home)
            .status();
    }
}

#[test]
#[ignore = "needs wasmd (Go, or OPG_WASMD_BIN): scripts/e2e-cosmos.sh (CI runs it)"]
fn the_readme_walkthrough_runs_as_written_on_a_fresh_chain() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let script = format!("set -euo pipefail\nset -x\n{}", walkthrough(&readme));
    let home = tempfile::Builder::new()
        .prefix("opg-readme-")
        .tempdir()
        .unwrap();
    let rpc_port = free_port(0);
    let keeper_port = free_port(rpc_port);
    let bin = Path::new(env!("CARGO_BIN_EXE_opg")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = Command::new("timeout");
    cmd.args(["1200", "bash", "-c", &script])
        .current_dir(root())
        .env("PATH", path)
        .env("OPG_LOCALNET_HOME", home.path())
        .env("OPG_LOCALNET_RPC_PORT", rpc_port.to_string())
        .env("KEEPER_PORT", keeper_port.to_string())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .process_group(0);
    // nothing from the caller's shell decides for the walkthrough
    for v in [
        "OPG_NODE",
        "OPG_CHAIN_ID",
        "OPG_DEPLOY_STATE",
        "OPG_HOME",
        "OPG_FROM",
        "OPG_KEYRING_BACKEND",
        "OPG_GAS_PRICES",
        "OPG_GAS_ADJUSTMENT",
        "OPG_DEPLOYER_MNEMONIC",
    ] {
        cmd.env_remove(v);
    }
    let child = cmd.spawn().expect("cannot run bash");
    let mut cleanup = Cleanup {
        home: home.path().to_path_buf(),
        group: Some(child.id() as i32),
    };
    let out = child.wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the README walkthrough failed ({}):\n--- stdout\n{stdout}\n--- stderr (set -x)\n{log}",
        out.status
    );
    // it got where it says: the claim tx landed and the node's epoch reward is claimed
    assert!(stdout.contains("\"txhash\""), "{stdout}");
    assert!(stdout.contains("\"claimed\": true"), "{stdout}");
    cleanup.group = None;
}
