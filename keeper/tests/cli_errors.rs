//! Errors a person can act on (issue 16), seen as a user sees them: `opg`'s stderr and exit
//! status. Each test failed on the code before the fix (flex-error locations and backtraces, an
//! empty chain name, TOML errors printed twice, a port clash that did not name the flag).
use std::process::{Command, Output};

fn opg(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_opg"))
        .args(args)
        // as a user who has not asked for backtraces
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE")
        .env_remove("OPG_NODE")
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

/// A closed port on loopback (bound, then released).
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

fn one_error_prefix(e: &str) {
    assert!(e.starts_with("error: "), "{e}");
    let prefixed = e.lines().filter(|l| l.starts_with("error:")).count();
    assert_eq!(prefixed, 1, "one `error:` line:\n{e}");
    assert!(!e.contains("error: error:"), "{e}");
}

#[test]
fn an_unreachable_node_is_named_without_library_internals() {
    let url = format!("http://127.0.0.1:{}", closed_port());
    let o = opg(&[
        "query",
        "account",
        "wasm19rl4cm2hmr8afy4kldpxz3fka4jguq0akuugk7",
        "--node",
        &url,
    ]);
    assert!(!o.status.success());
    let e = stderr(&o);
    one_error_prefix(&e);
    assert!(e.contains(&url), "names the node: {e}");
    for internal in [
        "Location:",
        "flex-error",
        "flex_error",
        ".rs:",
        "backtrace",
        "eyre",
    ] {
        assert!(!e.contains(internal), "{internal:?} in:\n{e}");
    }
    assert!(!e.contains("on chain :"), "an empty chain name: {e}");
    assert!(!e.contains("\u{1b}["), "colour on a pipe: {e}");
}

#[test]
fn a_bad_scenario_is_reported_once() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("bad.toml");
    std::fs::write(&f, "bogus = 1\n").unwrap();
    let o = opg(&["simulate", "--scenario", f.to_str().unwrap()]);
    assert!(!o.status.success());
    let e = stderr(&o);
    one_error_prefix(&e);
    assert_eq!(e.matches("unknown field `bogus`").count(), 1, "{e}");
}

#[test]
fn a_port_clash_names_the_address_and_the_flag() {
    let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = held.local_addr().unwrap().to_string();
    let home = tempfile::tempdir().unwrap();
    let config = concat!(env!("CARGO_MANIFEST_DIR"), "/keeper.example.toml");
    let o = opg(&[
        "keeper",
        "run",
        "--config",
        config,
        "--home",
        home.path().to_str().unwrap(),
        "--listen",
        &addr,
    ]);
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(e.contains(&addr), "names the address: {e}");
    assert!(e.contains("--listen") && e.contains("server.listen"), "{e}");
    let last = e.lines().filter(|l| l.contains("error:")).count();
    assert_eq!(last, 1, "{e}");
    assert!(!e.contains("\u{1b}["), "colour on a pipe: {e}");
}

#[test]
fn verbose_shows_the_cause_chain_for_a_bug_report() {
    let url = format!("http://127.0.0.1:{}", closed_port());
    let o = opg(&[
        "--verbose",
        "query",
        "account",
        "wasm19rl4cm2hmr8afy4kldpxz3fka4jguq0akuugk7",
        "--node",
        &url,
    ]);
    let e = stderr(&o);
    assert!(e.contains("Caused by") || e.contains(&url), "{e}");
}
