//! Chain backends (DESIGN §6), in the style of Hermes' `ChainEndpoint`: one synchronous trait the
//! keeper pipeline talks to, with an in-process implementation ([`embedded::EmbeddedChain`], the
//! three contracts on cw-multi-test) and, later, a real Cosmos chain over cosmrs.
//!
//! Methods are blocking and the trait is `Send + Sync`; the async HTTP server calls them inside
//! `tokio::task::spawn_blocking`.
use cosmwasm_std::Binary;
use opg_core::msg::pool::{ConfigResponse as PoolConfig, EpochReport};
use opg_core::msg::registry::NodesByIdsResponse;
use opg_core::msg::verifier::SubmitReceiptsMsg;
use opg_core::msg::verifier::{
    ConfigResponse as VerifierConfig, ExecuteMsg as VerifierExecuteMsg, ReceiptStatusResponse,
    SubmitReceiptsResponse,
};
use opg_core::receipt::{Heartbeat, SignedReceipt};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub mod cosmos;
pub mod embedded;
pub mod faulty;
pub mod storage;

/// Addresses of the three contracts of one deployment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deployment {
    /// `node-registry` contract address.
    pub registry: String,
    /// `receipt-verifier` contract address.
    pub verifier: String,
    /// `reward-pool` contract address.
    pub pool: String,
}

/// Which of the three contracts a generic query or execute goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContractRole {
    /// `node-registry`.
    Registry,
    /// `receipt-verifier`.
    Verifier,
    /// `reward-pool`.
    Pool,
}

impl Deployment {
    /// The address of the contract playing `role`.
    pub fn address(&self, role: ContractRole) -> &str {
        match role {
            ContractRole::Registry => &self.registry,
            ContractRole::Verifier => &self.verifier,
            ContractRole::Pool => &self.pool,
        }
    }
}

/// The chain's latest block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainStatus {
    /// Block height.
    pub height: u64,
    /// Block time, unix seconds.
    pub time: u64,
}

/// Result of one transaction that succeeded.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TxOutcome {
    /// Transaction hash, uppercase hex (as CometBFT prints it).
    pub tx_hash: String,
    /// Height of the block that included it.
    pub height: u64,
    /// Gas used; the embedded backend does not meter gas and reports its estimate (0 if none).
    pub gas_used: u64,
    /// The response data of the message, if any.
    pub data: Option<Binary>,
}

/// Result of a `SubmitReceipts` transaction: the tx and the verifier's per-receipt verdicts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SubmitOutcome {
    /// Transaction hash, uppercase hex.
    pub tx_hash: String,
    /// Inclusion height.
    pub height: u64,
    /// Gas used (see [`TxOutcome::gas_used`]).
    pub gas_used: u64,
    /// Decoded response data: one verdict per receipt and heartbeat.
    pub response: SubmitReceiptsResponse,
}

/// A transaction as the keeper writes it down before broadcasting (outbox).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreparedTx {
    /// The bytes that will be broadcast (embedded: the JSON execute message).
    pub bytes: Vec<u8>,
    /// Their hash, uppercase hex: the hash the chain will report for this tx.
    pub hash: String,
}

/// Errors talking to a chain. [`ChainError::is_retryable`] separates transient failures (the same
/// tx may be tried again later) from verdicts of the chain.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    /// The chain could not be reached or the connection broke; the tx may or may not have landed.
    #[error("{}{message}", on_chain(chain_id))]
    Transport {
        /// Chain id.
        chain_id: String,
        /// What failed.
        message: String,
    },
    /// No answer within the deadline; the tx may or may not have landed.
    #[error("timed out after {seconds} s waiting for {what}")]
    Timeout {
        /// What was awaited (e.g. `tx inclusion`).
        what: String,
        /// Seconds waited.
        seconds: u64,
    },
    /// A contract refused the message (the whole tx failed, nothing changed).
    #[error("{} refused the message: {message}", contract_name(contract))]
    Contract {
        /// Contract address.
        contract: String,
        /// The contract's error text.
        message: String,
    },
    /// A contract answer could not be decoded into the expected type.
    #[error("cannot decode {what}: {message}")]
    Decode {
        /// What was being decoded.
        what: String,
        /// Decoder error.
        message: String,
    },
    /// The chain refused the tx for a reason of the Cosmos SDK (not a contract's verdict): at
    /// `CheckTx` (nothing happened, the fee was not taken) or at delivery (the fee was taken).
    #[error("chain {chain_id} refused the tx at {stage} ({codespace} code {code}): {}: {log}", refusal_hint(*kind, log))]
    Refused {
        /// Chain id.
        chain_id: String,
        /// `CheckTx` or `delivery`.
        stage: String,
        /// ABCI codespace (`sdk` for the Cosmos SDK's own errors).
        codespace: String,
        /// ABCI code within the codespace.
        code: u32,
        /// What the code means and what to change.
        kind: Refusal,
        /// The chain's log text.
        log: String,
    },
    /// The backend's own state (database, genesis) is broken.
    #[error("chain backend state error: {0}")]
    Backend(String),
}

fn on_chain(chain_id: &str) -> String {
    if chain_id.is_empty() {
        String::new()
    } else {
        format!("chain {chain_id}: ")
    }
}

fn contract_name(contract: &str) -> String {
    if contract.is_empty() {
        "the contract".into()
    } else {
        format!("contract {contract}")
    }
}

/// What to change for a refusal; for an insufficient fee, the denom the chain wants (wasmd's log:
/// `insufficient fees; got: 2000ustake required: 5000uopg`).
fn refusal_hint(kind: Refusal, log: &str) -> String {
    if kind != Refusal::InsufficientFee {
        return kind.to_string();
    }
    let field = |k: &str| {
        log.split(k)
            .nth(1)
            .and_then(|t| t.split([' ', ';', ':']).find(|w| !w.is_empty()))
            .map(String::from)
    };
    let (Some(required), got) = (field("required: "), field("got: ")) else {
        return kind.to_string();
    };
    let denoms = |coins: &str| -> Vec<String> {
        coins
            .split(',')
            .map(|c| {
                c.trim_start_matches(|ch: char| ch.is_ascii_digit() || ch == '.')
                    .to_string()
            })
            .filter(|d| !d.is_empty())
            .collect()
    };
    let want = denoms(&required);
    let have = got.as_deref().map(denoms).unwrap_or_default();
    if want.iter().any(|d| have.contains(d)) {
        format!("insufficient fee: the chain requires {required}; raise --gas-prices (gas_price) or --fees")
    } else {
        format!(
            "insufficient fee: the chain takes fees in {} (requires {required}, got {}); set --gas-prices (gas_price) in {}, e.g. 0.025{}",
            want.join(" or "),
            got.as_deref().unwrap_or("none"),
            want[0],
            want[0]
        )
    }
}

/// An error text without what some RPC libraries append for their developers (flex-error's
/// `Location:` and backtrace, eyre's numbered `Caused by:` list): the message and its causes on
/// one line, `a: b: c`.
pub fn plain_error(text: &str) -> String {
    let mut t = text;
    for marker in ["\nLocation:", "\nStack backtrace:", "\nBacktrace:"] {
        if let Some(i) = t.find(marker) {
            t = &t[..i];
        }
    }
    t.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && *l != "Caused by:")
        .map(|l| {
            // eyre numbers causes: `0: message`
            match l.split_once(": ") {
                Some((n, rest)) if n.chars().all(|c| c.is_ascii_digit()) => rest,
                _ => l,
            }
        })
        .collect::<Vec<_>>()
        .join(": ")
}

/// Why the Cosmos SDK refused a tx (from its codespace and code, `types/errors` of cosmos-sdk).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// `sdk` 11 `ErrOutOfGas`: the gas limit was too low.
    OutOfGas,
    /// `sdk` 13 `ErrInsufficientFee`: the fee is below the node's minimum gas price.
    InsufficientFee,
    /// `sdk` 32 `ErrWrongSequence`: the account sequence moved (another tx of the same signer).
    WrongSequence,
    /// `sdk` 4 `ErrUnauthorized`: signature refused (chain id, account number or sequence).
    Unauthorized,
    /// `sdk` 5 `ErrInsufficientFunds`: the signer cannot pay the fee or the coins sent.
    InsufficientFunds,
    /// `sdk` 30 `ErrTxTimeoutHeight`: the tx's timeout height passed.
    TimeoutHeight,
    /// Any other code.
    Other,
}

impl Refusal {
    /// The refusal of ABCI `codespace`/`code`.
    pub fn of(codespace: &str, code: u32) -> Self {
        match (codespace, code) {
            ("sdk", 11) => Refusal::OutOfGas,
            ("sdk", 13) => Refusal::InsufficientFee,
            ("sdk", 32) => Refusal::WrongSequence,
            ("sdk", 4) => Refusal::Unauthorized,
            ("sdk", 5) => Refusal::InsufficientFunds,
            ("sdk", 30) => Refusal::TimeoutHeight,
            _ => Refusal::Other,
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Refusal::OutOfGas => "out of gas: raise gas_adjustment (or --gas)",
            Refusal::InsufficientFee => "insufficient fee: raise gas_price (or --fees)",
            Refusal::WrongSequence => {
                "wrong account sequence (another tx of this signer landed first)"
            }
            Refusal::Unauthorized => {
                "signature refused: check the chain id, account number and sequence"
            }
            Refusal::InsufficientFunds => "insufficient funds to pay the fee or the coins sent",
            Refusal::TimeoutHeight => "tx timed out (timeout height passed)",
            Refusal::Other => "tx refused",
        })
    }
}

impl ChainError {
    /// True for transport failures and timeouts: the outcome is unknown, retry (after
    /// reconciling). False for contract verdicts and decode errors.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            ChainError::Transport { .. } | ChainError::Timeout { .. }
        )
    }
}

/// What the keeper needs from a chain. Implementations must be safe to call from several threads.
pub trait ChainBackend: Send + Sync {
    /// The chain id (part of the receipts' EIP-712 domain salt).
    fn chain_id(&self) -> String;
    /// Contract addresses.
    fn deployment(&self) -> Deployment;
    /// Latest block height and time.
    fn status(&self) -> Result<ChainStatus, ChainError>;
    /// The tx `submit_receipts` would broadcast for this batch, so the keeper can write it down
    /// first. The default encodes the verifier's `SubmitReceipts` message as JSON and hashes it
    /// with [`tx_hash`]; backends that sign must override it to return the signed bytes.
    fn prepare_submit(
        &self,
        receipts: &[SignedReceipt],
        heartbeats: &[Heartbeat],
    ) -> Result<PreparedTx, ChainError> {
        let bytes = submit_msg_bytes(receipts, heartbeats, &self.verifier_config()?)?;
        let hash = tx_hash(&bytes);
        Ok(PreparedTx { bytes, hash })
    }
    /// The height after which the prepared tx `tx_bytes` (and any retry of it the backend
    /// sends, which keeps its timeout) can no longer be included; `None` when the backend leaves
    /// no tx pending (its outcome is final once `submit_receipts` returns or the process dies).
    /// Reconciliation does not put an unrecorded batch's receipts back to pending while its tx
    /// may still land.
    fn tx_expiry_height(&self, _tx_bytes: &[u8]) -> Option<u64> {
        None
    }
    /// Broadcasts `SubmitReceipts` and waits for the result. The tx hash equals
    /// `prepare_submit(..).hash`.
    fn submit_receipts(
        &self,
        receipts: &[SignedReceipt],
        heartbeats: &[Heartbeat],
    ) -> Result<SubmitOutcome, ChainError>;
    /// Broadcasts the pool's `FinalizeEpoch { epoch }` and waits for the result.
    fn finalize_epoch(&self, epoch: u64) -> Result<TxOutcome, ChainError>;
    /// The registry's `NodesByIds` answer (at most 256 ids of each kind).
    fn registry_view(
        &self,
        node_ids: &[String],
        model_ids: &[String],
    ) -> Result<NodesByIdsResponse, ChainError>;
    /// The verifier's config (policy, clock, domain salt, `max_batch`).
    fn verifier_config(&self) -> Result<VerifierConfig, ChainError>;
    /// Whether `(payer, nonce)` was consumed on chain.
    fn receipt_status(&self, payer: &str, nonce: &str)
        -> Result<ReceiptStatusResponse, ChainError>;
    /// The pool's transparency report of `epoch`.
    fn epoch_report(&self, epoch: u64) -> Result<EpochReport, ChainError>;
    /// The pool's config (clock, `next_to_finalize`).
    fn pool_config(&self) -> Result<PoolConfig, ChainError>;
    /// Any smart query, as JSON.
    fn query_json(
        &self,
        contract: ContractRole,
        msg: &serde_json::Value,
    ) -> Result<serde_json::Value, ChainError>;
}

/// The encoder context of a verifier config: its networks and parsed facilitators, the lists the
/// compact form indexes ([`opg_core::codec::EncodeContext`]).
pub struct WireContext {
    networks: Vec<opg_core::types::NetworkConfig>,
    facilitators: Vec<[u8; 20]>,
}

impl WireContext {
    /// From the verifier's config.
    pub fn new(config: &VerifierConfig) -> Self {
        WireContext {
            networks: config.networks.clone(),
            facilitators: opg_core::verify::parse_facilitators(&config.facilitators),
        }
    }

    /// The codec's view of it.
    pub fn encode(&self) -> opg_core::codec::EncodeContext<'_> {
        opg_core::codec::EncodeContext {
            networks: &self.networks,
            facilitators: &self.facilitators,
        }
    }

    /// Message bytes `receipt` adds to a `SubmitReceipts` ([`opg_core::codec::wire_len`]).
    pub fn wire_len(&self, receipt: &SignedReceipt) -> usize {
        opg_core::codec::wire_len(receipt, &self.encode())
    }
}

/// The verifier's `SubmitReceipts` execute message for a batch as the keeper sends it: every
/// receipt in the compact form ([`opg_core::codec::encode_batch`], indexes into `config`'s
/// networks, assets and facilitators; each signer key worth sending once), or, if one of them is
/// not encodable, all of them as compacted JSON
/// ([`opg_core::codec::compact_for_submission`]), so the results keep the batch's order.
pub fn submit_msg(
    receipts: &[SignedReceipt],
    heartbeats: &[Heartbeat],
    config: &VerifierConfig,
) -> VerifierExecuteMsg {
    let ctx = WireContext::new(config);
    let msg = match opg_core::codec::encode_batch(receipts, &ctx.encode()) {
        Some(compact) => SubmitReceiptsMsg {
            receipts: vec![],
            heartbeats: heartbeats.to_vec(),
            compact,
        },
        None => {
            let mut receipts = receipts.to_vec();
            opg_core::codec::compact_for_submission(&mut receipts);
            SubmitReceiptsMsg {
                receipts,
                heartbeats: heartbeats.to_vec(),
                compact: vec![],
            }
        }
    };
    VerifierExecuteMsg::SubmitReceipts(msg)
}

/// JSON bytes of [`submit_msg`].
pub fn submit_msg_bytes(
    receipts: &[SignedReceipt],
    heartbeats: &[Heartbeat],
    config: &VerifierConfig,
) -> Result<Vec<u8>, ChainError> {
    let msg = submit_msg(receipts, heartbeats, config);
    serde_json::to_vec(&msg).map_err(|e| ChainError::Decode {
        what: "SubmitReceipts message".into(),
        message: e.to_string(),
    })
}

/// Transaction hash as CometBFT prints it: uppercase hex of sha256 of the tx bytes.
pub fn tx_hash(bytes: &[u8]) -> String {
    hex::encode_upper(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retryable_only_for_transport_and_timeout() {
        let t = ChainError::Transport {
            chain_id: "c".into(),
            message: "eof".into(),
        };
        let o = ChainError::Timeout {
            what: "tx".into(),
            seconds: 3,
        };
        let c = ChainError::Contract {
            contract: "x".into(),
            message: "no".into(),
        };
        assert!(t.is_retryable());
        assert!(o.is_retryable());
        assert!(!c.is_retryable());
        assert!(!ChainError::Backend("db".into()).is_retryable());
    }

    #[test]
    fn tx_hash_is_uppercase_sha256() {
        // sha256("") test vector (FIPS 180-2).
        assert_eq!(
            tx_hash(b""),
            "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"
        );
    }
}

#[cfg(test)]
mod error_text_tests {
    use super::*;

    #[test]
    fn a_fee_in_the_wrong_denom_names_the_denom_the_chain_wants() {
        // wasmd v0.61's CheckTx log for `--gas-prices 0.025ustake` on a uopg chain
        let e = ChainError::Refused {
            chain_id: "opg-local-1".into(),
            stage: "CheckTx".into(),
            codespace: "sdk".into(),
            code: 13,
            kind: Refusal::InsufficientFee,
            log: "insufficient fees; got: 5000ustake required: 5000uopg: insufficient fee".into(),
        };
        let text = e.to_string();
        assert!(text.contains("takes fees in uopg"), "{text}");
        assert!(text.contains("--gas-prices"), "{text}");
        assert!(!text.contains("raise gas_price"), "{text}");
        // the right denom, too little of it: raise the price
        let low = ChainError::Refused {
            chain_id: "c".into(),
            stage: "CheckTx".into(),
            codespace: "sdk".into(),
            code: 13,
            kind: Refusal::InsufficientFee,
            log: "insufficient fees; got: 1uopg required: 5000uopg: insufficient fee".into(),
        };
        assert!(low.to_string().contains("raise --gas-prices"), "{low}");
    }

    #[test]
    fn empty_names_are_not_printed_as_blanks() {
        let t = ChainError::Transport {
            chain_id: String::new(),
            message: "cannot reach the node at http://x".into(),
        };
        assert!(!t.to_string().contains("chain :"), "{t}");
        let c = ChainError::Contract {
            contract: String::new(),
            message: "unauthorized".into(),
        };
        assert!(!c.to_string().contains("contract  "), "{c}");
    }

    #[test]
    fn plain_error_drops_flex_error_locations_and_backtraces() {
        let raw = "HTTP error\n\nCaused by:\n    error sending request: Connection refused (os error 111)\n\nLocation:\n    /root/.cargo/registry/src/flex-error-0.4.4/src/tracer_impl/eyre.rs:10:9\n\nStack backtrace:\n   0: eyre::DefaultHandler::default_with";
        assert_eq!(
            plain_error(raw),
            "HTTP error: error sending request: Connection refused (os error 111)"
        );
    }
}
