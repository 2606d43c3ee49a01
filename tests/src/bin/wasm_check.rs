//! `wasm-check`: checks contract wasm files the way `cosmwasm-check` 2.3.5 does, through the
//! `cosmwasm-vm` library (no second wasmer build): static checks (`check_wasm`: imports, exports,
//! interface version, memories, tables, capabilities), then a full singlepass compilation and
//! serialization of the module. It also requires the `instantiate`, `execute` and `query` entry
//! points, which a wasm built with the `library` feature unified in would lack.
//!
//! Usage: `wasm-check [--capabilities a,b,c] FILE.wasm...`. Exits 1 if any file fails.
use std::path::Path;
use std::process::ExitCode;

use cosmwasm_vm::capabilities_from_csv;
use cosmwasm_vm::internals::{check_wasm, compile, make_compiling_engine, LogOutput, Logger};
use cosmwasm_vm::WasmLimits;

/// The capabilities of the chains we target (those `cosmwasm-check` 2.3.5 assumes by default).
const DEFAULT_CAPABILITIES: &str = "iterator,staking,stargate,cosmwasm_1_1,cosmwasm_1_2,cosmwasm_1_3,cosmwasm_1_4,cosmwasm_2_0,cosmwasm_2_1,cosmwasm_2_2";

/// Entry points every opg contract must export.
const REQUIRED_ENTRY_POINTS: &[&str] = &["instantiate", "execute", "query"];

/// Checks one file; `Err` carries a human-readable reason.
fn check_file(path: &Path, capabilities: &str) -> Result<(), String> {
    let wasm = std::fs::read(path).map_err(|e| format!("cannot read: {e}"))?;
    let prefix = format!("    {}: ", path.display());
    let logs = Logger::with_config(LogOutput::StdOut, &prefix);
    check_wasm(
        &wasm,
        &capabilities_from_csv(capabilities),
        &WasmLimits::default(),
        logs,
    )
    .map_err(|e| format!("static check failed: {e}"))?;

    let engine = make_compiling_engine(None, None);
    let module = compile(&engine, &wasm).map_err(|e| format!("compilation failed: {e}"))?;
    module
        .serialize()
        .map_err(|e| format!("serialization failed: {e}"))?;

    let exports: Vec<String> = module.exports().map(|e| e.name().to_string()).collect();
    let missing: Vec<&str> = REQUIRED_ENTRY_POINTS
        .iter()
        .copied()
        .filter(|ep| !exports.iter().any(|e| e == ep))
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "missing entry point(s) {} (built with the `library` feature unified in? build each \
             contract in its own cargo invocation)",
            missing.join(", ")
        ));
    }
    let optional: Vec<&str> = ["sudo", "migrate", "reply"]
        .into_iter()
        .filter(|ep| exports.iter().any(|e| e == ep))
        .collect();
    println!(
        "    {}: {} bytes, entry points instantiate, execute, query{}{}",
        path.display(),
        wasm.len(),
        if optional.is_empty() { "" } else { ", " },
        optional.join(", ")
    );
    Ok(())
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1).peekable();
    let mut capabilities = DEFAULT_CAPABILITIES.to_string();
    let mut files = Vec::new();
    while let Some(arg) = args.next() {
        if arg == "--capabilities" || arg == "-c" {
            match args.next() {
                Some(c) => capabilities = c,
                None => {
                    eprintln!("wasm-check: --capabilities needs a comma-separated list");
                    return ExitCode::from(2);
                }
            }
        } else if arg == "--help" || arg == "-h" {
            println!("usage: wasm-check [--capabilities a,b,c] FILE.wasm...");
            println!("default capabilities: {DEFAULT_CAPABILITIES}");
            return ExitCode::SUCCESS;
        } else {
            files.push(arg);
        }
    }
    if files.is_empty() {
        eprintln!("usage: wasm-check [--capabilities a,b,c] FILE.wasm...");
        return ExitCode::from(2);
    }
    println!("Available capabilities: {capabilities}");
    let mut failed = 0usize;
    for file in &files {
        let path = Path::new(file);
        match check_file(path, &capabilities) {
            Ok(()) => println!("{}: pass", path.display()),
            Err(e) => {
                failed += 1;
                eprintln!("{}: FAILURE: {e}", path.display());
            }
        }
    }
    if failed > 0 {
        eprintln!("wasm-check: {failed} of {} contract(s) failed", files.len());
        ExitCode::FAILURE
    } else {
        println!("wasm-check: all {} contract(s) passed", files.len());
        ExitCode::SUCCESS
    }
}
