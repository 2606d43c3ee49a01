//! The `wasm-check` binary rejects what the CosmWasm VM would reject.
use std::process::Command;

fn run(files: &[&std::path::Path]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_wasm-check"))
        .args(files)
        .output()
        .expect("run wasm-check");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn rejects_an_empty_module_and_a_missing_file() {
    let dir = std::env::temp_dir().join(format!("opg-wasm-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // The smallest valid wasm module: magic + version, no exports.
    let empty = dir.join("empty.wasm");
    std::fs::write(&empty, b"\0asm\x01\0\0\0").unwrap();
    let (ok, text) = run(&[&empty]);
    assert!(!ok, "{text}");
    assert!(text.contains("FAILURE: static check failed"), "{text}");

    let missing = dir.join("missing.wasm");
    let (ok, text) = run(&[&missing]);
    assert!(!ok, "{text}");
    assert!(text.contains("cannot read"), "{text}");

    // No arguments: usage, exit code 2.
    let out = Command::new(env!("CARGO_BIN_EXE_wasm-check"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    std::fs::remove_dir_all(&dir).unwrap();
}
