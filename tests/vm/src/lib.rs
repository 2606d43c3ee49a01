//! VM harness over the optimized artifacts: the three contracts run from `artifacts/*.wasm` in
//! `cosmwasm-vm` (the VM wasmd runs), wired together by a mock querier and a small dispatcher.
//!
//! * [`gas`]: the estimated-SDK-gas model of the gas report;
//! * [`storage`]: a `cosmwasm_vm::Storage` that counts reads/writes with their bytes;
//! * [`artifacts`]: loading artifacts, refusing missing or stale ones (`scripts/build-wasm.sh`);
//! * [`harness`]: contracts in VM instances, cross-contract queries and message dispatch;
//! * [`suite`]: the deployed system with nodes, payers and signed receipts;
//! * [`report`]: the measurements of `scripts/gas-report.sh` and `docs/gas.md`.

//!
//! The integration tests (`tests/`) and the `gas-report` binary need the artifacts and are behind
//! the feature `vm` (`scripts/vm-test.sh`); without it, the unit tests of this library run.
pub mod artifacts;
pub mod gas;
pub mod harness;
pub mod report;
pub mod storage;
pub mod suite;
