//! The cosmos backend (issue 8): the three contracts on a real CosmWasm chain (wasmd and chains
//! built on it; tested against wasmd v0.61.14 from `scripts/localnet.sh`), over CometBFT JSON-RPC.
//!
//! Every execute is a SIGN_MODE_DIRECT tx signed by the keeper's mnemonic key ([`crate::tx`]):
//! account number and sequence from `/cosmos.auth.v1beta1.Query/Account`, gas from
//! `/cosmos.tx.v1beta1.Service/Simulate` × `gas_adjustment`, fee = gas × gas price, timeout
//! height = latest height + `timeout_blocks`, `broadcast_tx_sync`, then the tx is polled by hash
//! until included or `inclusion_timeout_secs` pass. A sequence mismatch (sdk code 32) is retried
//! once after re-querying the account. Smart queries go through
//! `/cosmwasm.wasm.v1.Query/SmartContractState`.
//!
//! The RPC is behind [`CometRpc`] so the logic is tested without a network ([`HttpRpc`] is the
//! real one, on tendermint-rpc's HTTP client).
//!
//! One file per role, as Hermes splits its cosmos chain endpoint:
//! - [`config`]: `[chain.cosmos]` of the keeper config and the deploy state file;
//! - [`rpc`]: the CometBFT JSON-RPC client ([`CometRpc`], [`HttpRpc`], [`FailoverRpc`]);
//! - [`signer`]: account query, gas estimation, signing, broadcast and inclusion;
//! - [`backend`]: [`CosmosChain`] and its [`super::ChainBackend`] implementation (smart queries,
//!   receipts, epochs).
pub mod backend;
pub mod config;
pub mod rpc;
pub mod signer;
#[cfg(test)]
mod tests;

pub use backend::CosmosChain;
pub use config::{CodeIds, CosmosConfig, DeployState};
pub use rpc::{AbciAnswer, CheckTxAnswer, CometRpc, FailoverRpc, HttpRpc, NodeStatus, TxResult};
pub use signer::{adjust_gas, execute_response_data};

use super::ChainError;

/// gRPC query path of an account.
pub const ACCOUNT_PATH: &str = "/cosmos.auth.v1beta1.Query/Account";
/// gRPC path of tx simulation.
pub const SIMULATE_PATH: &str = "/cosmos.tx.v1beta1.Service/Simulate";
/// gRPC path of a CosmWasm smart query.
pub const SMART_QUERY_PATH: &str = "/cosmwasm.wasm.v1.Query/SmartContractState";

/// Cosmos SDK error codes (codespace `sdk`) the backend reacts to.
pub mod sdk_code {
    /// `ErrUnauthorized`: signature verification failed (wrong chain id or account number).
    pub const UNAUTHORIZED: u32 = 4;
    /// `ErrOutOfGas`.
    pub const OUT_OF_GAS: u32 = 11;
    /// `ErrInsufficientFee`.
    pub const INSUFFICIENT_FEE: u32 = 13;
    /// `ErrTxInMempoolCache`: the same tx is already pending.
    pub const TX_IN_MEMPOOL: u32 = 19;
    /// `ErrTxTimeoutHeight`.
    pub const TX_TIMEOUT_HEIGHT: u32 = 30;
    /// `ErrWrongSequence`.
    pub const WRONG_SEQUENCE: u32 = 32;
}

pub(crate) fn decode(
    what: &'static str,
) -> impl Fn(cosmrs::proto::prost::DecodeError) -> ChainError {
    move |e| ChainError::Decode {
        what: what.into(),
        message: e.to_string(),
    }
}
