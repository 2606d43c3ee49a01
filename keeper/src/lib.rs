//! # opg-keeper
//!
//! The off-chain half of opg (DESIGN §6–§7), binary `opg`:
//!
//! * [`config`]: `keeper.toml` (serde + toml, `deny_unknown_fields`, validated);
//! * [`genesis`]: the embedded chain's genesis and the dev keys derived from its seed;
//! * [`store`]: the durable SQLite store (receipts unique on `(payer, nonce)`, the outbox);
//! * [`batcher`]: the pure batch-sizing function;
//! * [`chain`]: the [`chain::ChainBackend`] trait and the embedded backend (cw-multi-test,
//!   persisted under `--home`);
//! * [`service`]: the pipeline ([`service::Keeper`]): verify, store, submit, record, reconcile,
//!   finalize;
//! * [`ingest`]: the HTTP API (axum), with the x402 facilitator endpoints of [`facilitator`];
//! * [`metrics`]: Prometheus text metrics;
//! * [`loadgen`]: `opg loadgen`, signed receipts against a running keeper;
//! * [`cli`]: one file per subcommand; [`simulate`]: `opg simulate`.
//! * [`bench`]: `opg bench` (throughput and memory measurements, issue 7).
//! * [`facilitator`]: x402 facilitator-compatible `/verify` (HTTP and `opg x402 verify`).
//! * [`report`]: the pool's transparency figures: `opg report`, the keeper's page, charts.
//! * [`failpoint`]: named stops for the crash tests (`OPG_FAILPOINTS`; no-ops otherwise).
//! * [`tx`]: Cosmos SDK transactions offline: mnemonic keys, CosmWasm messages, SIGN_MODE_DIRECT.
pub mod batcher;
pub mod bench;
pub mod chain;
pub mod cli;
pub mod config;
pub mod facilitator;
pub mod failpoint;
pub mod genesis;
pub mod ingest;
pub mod loadgen;
pub mod metrics;
pub mod openapi;
pub mod report;
pub mod service;
pub mod simulate;
pub mod store;
pub mod tx;
