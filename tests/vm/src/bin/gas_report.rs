//! `gas-report [--out docs/gas.md]`: measures the artifacts (see `opg_vm_tests::report`), writes
//! the markdown report and prints one line per action, then
//! `per_receipt_sdk_gas_batch100=<N> (pinned)` (secp256k1 node key) last.
use std::path::PathBuf;

use opg_vm_tests::artifacts::workspace_root;
use opg_vm_tests::report::{markdown, run, submit_row};

fn main() {
    let mut out = workspace_root().join("docs/gas.md");
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--out" => match args.next() {
                Some(p) => out = PathBuf::from(p),
                None => {
                    eprintln!("gas-report: --out needs a path");
                    std::process::exit(2);
                }
            },
            _ => {
                eprintln!("usage: gas-report [--out <file>]");
                std::process::exit(2);
            }
        }
    }
    let rows = run();
    for r in &rows {
        println!(
            "{:<48} sdk_gas_pinned={:>10} sdk_gas_unpinned={:>10}{}",
            r.action,
            r.sdk_gas(true),
            r.sdk_gas(false),
            r.per_receipt(true)
                .map(|p| format!(" per_receipt_pinned={p}"))
                .unwrap_or_default()
        );
    }
    if let Some(dir) = out.parent() {
        if let Err(e) = std::fs::create_dir_all(dir) {
            eprintln!("gas-report: cannot create {}: {e}", dir.display());
            std::process::exit(1);
        }
    }
    if let Err(e) = std::fs::write(&out, markdown(&rows)) {
        eprintln!("gas-report: cannot write {}: {e}", out.display());
        std::process::exit(1);
    }
    println!("wrote {}", out.display());
    match submit_row(&rows, "secp256k1", 100).and_then(|r| r.per_receipt(true)) {
        Some(n) => println!("per_receipt_sdk_gas_batch100={n} (pinned)"),
        None => {
            eprintln!("gas-report: no batch-100 measurement");
            std::process::exit(1);
        }
    }
}
