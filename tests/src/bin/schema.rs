//! `schema`: writes the JSON API schema of each contract (cosmwasm-schema's `generate_api!`, the
//! format `ts-codegen` and explorers read) from the message types in `opg_core::msg`:
//! `<DIR>/node-registry.json`, `<DIR>/receipt-verifier.json`, `<DIR>/reward-pool.json`.
//!
//! Usage: `schema [DIR]` (default `schema`). `scripts/schema.sh` regenerates the committed files;
//! `scripts/check-schema.sh` fails when they are stale.
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use cosmwasm_schema::{generate_api, Api};
use opg_core::msg::{pool, registry, verifier, MigrateMsg};

/// The APIs of the three contracts, in file-name order.
fn apis() -> Vec<Api> {
    vec![
        generate_api! {
            name: "node-registry",
            instantiate: registry::InstantiateMsg,
            execute: registry::ExecuteMsg,
            query: registry::QueryMsg,
            sudo: registry::SudoMsg,
            migrate: MigrateMsg,
        },
        generate_api! {
            name: "receipt-verifier",
            instantiate: verifier::InstantiateMsg,
            execute: verifier::ExecuteMsg,
            query: verifier::QueryMsg,
            sudo: verifier::SudoMsg,
            migrate: MigrateMsg,
        },
        generate_api! {
            name: "reward-pool",
            instantiate: pool::InstantiateMsg,
            execute: pool::ExecuteMsg,
            query: pool::QueryMsg,
            sudo: pool::SudoMsg,
            migrate: MigrateMsg,
        },
    ]
}

fn write_all(dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    for api in apis() {
        let path = dir.join(format!("{}.json", api.contract_name));
        let json = api
            .render()
            .to_string()
            .map_err(|e| format!("cannot encode {}: {e}", path.display()))?;
        std::fs::write(&path, json + "\n")
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

fn main() -> ExitCode {
    let dir: PathBuf = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("schema"));
    match write_all(&dir) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("schema: {e}");
            ExitCode::FAILURE
        }
    }
}
