//! The CometBFT JSON-RPC subset the backend needs ([`CometRpc`]): over HTTP ([`HttpRpc`]) and
//! over several nodes with failover ([`FailoverRpc`]).
use crate::chain::ChainError;

/// The node's identity and latest block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeStatus {
    /// The chain id the node serves (`node_info.network`).
    pub network: String,
    /// Latest block height.
    pub height: u64,
    /// Latest block time, unix seconds.
    pub time: u64,
}

/// An `abci_query` answer.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct AbciAnswer {
    /// 0 on success.
    pub code: u32,
    /// Codespace of a failure.
    pub codespace: String,
    /// Log (error text).
    pub log: String,
    /// Protobuf response.
    pub value: Vec<u8>,
}

/// A `broadcast_tx_sync` (CheckTx) answer.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct CheckTxAnswer {
    /// 0 when accepted into the mempool.
    pub code: u32,
    /// Codespace of a failure.
    pub codespace: String,
    /// Log (error text).
    pub log: String,
}

/// A committed tx (`tx` by hash).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct TxResult {
    /// Transaction hash, uppercase hex (after [`super::CosmosChain::send`]: of the tx that was
    /// included, which is the retry after a sequence mismatch).
    pub hash: String,
    /// Inclusion height.
    pub height: u64,
    /// 0 on success.
    pub code: u32,
    /// Codespace of a failure.
    pub codespace: String,
    /// Log (error text).
    pub log: String,
    /// `TxMsgData` protobuf bytes.
    pub data: Vec<u8>,
    /// Gas used.
    pub gas_used: u64,
}

/// The CometBFT RPC subset the backend needs. Errors are [`ChainError::Transport`] (retryable).
pub trait CometRpc: Send + Sync {
    /// `status`.
    fn status(&self) -> Result<NodeStatus, ChainError>;
    /// `abci_query` at the latest height.
    fn abci_query(&self, path: &str, data: Vec<u8>) -> Result<AbciAnswer, ChainError>;
    /// `broadcast_tx_sync`.
    fn broadcast_tx_sync(&self, tx: Vec<u8>) -> Result<CheckTxAnswer, ChainError>;
    /// `tx` by uppercase hex hash; `None` while not (yet) included.
    fn tx(&self, hash: &str) -> Result<Option<TxResult>, ChainError>;
}

/// [`CometRpc`] over HTTP (tendermint-rpc, CometBFT 0.38 dialect), on a private runtime.
pub struct HttpRpc {
    url: String,
    client: tendermint_rpc::HttpClient,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Drop for HttpRpc {
    fn drop(&mut self) {
        // a runtime may not be dropped inside an async context; this is allowed anywhere
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

impl HttpRpc {
    /// A client of `url`. Errors: [`ChainError::Transport`] (bad URL, no runtime).
    pub fn new(url: &str) -> Result<Self, ChainError> {
        let transport = |m: String| ChainError::Transport {
            chain_id: String::new(),
            message: m,
        };
        // CometBFT's RPC server (Go net/http, `read_timeout` 10 s) closes idle keep-alive
        // connections; a request sent on one it just closed fails with "connection closed before
        // message completed" (seen on wasmd after a 6 s gov voting period). Dropping pooled
        // connections after 3 s idle keeps requests off connections the server is closing.
        let http = reqwest_rpc::Client::builder()
            .pool_idle_timeout(std::time::Duration::from_secs(3))
            .timeout(std::time::Duration::from_secs(30))
            .user_agent(concat!("opg/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| transport(format!("HTTP client: {e}")))?;
        let client = tendermint_rpc::HttpClient::builder(
            url.parse()
                .map_err(|e| transport(format!("invalid RPC URL {url}: {e}")))?,
        )
        .compat_mode(tendermint_rpc::client::CompatMode::V0_38)
        .client(http)
        .build()
        .map_err(|e| transport(format!("RPC client for {url}: {e}")))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| transport(format!("tokio runtime: {e}")))?;
        Ok(HttpRpc {
            url: url.into(),
            client,
            runtime: Some(runtime),
        })
    }

    fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        match &self.runtime {
            Some(rt) => rt.block_on(f),
            None => unreachable_runtime(),
        }
    }

    fn err(&self, what: &str, e: impl std::fmt::Display) -> ChainError {
        ChainError::Transport {
            chain_id: String::new(),
            message: format!(
                "cannot reach the node at {} ({what}): {}",
                self.url,
                crate::chain::plain_error(&e.to_string())
            ),
        }
    }
}

/// [`CometRpc`] over several nodes of one chain (`rpc_url = "http://a:26657,http://b:26657"`):
/// every call goes to the current node; on a transport error (node down, connection refused,
/// timeout) it moves to the next node and repeats the call there, each node at most once per call.
/// Other errors (a refusal, a contract error) are the chain's answer and are returned as they are.
/// Re-sending a tx is safe: the bytes and hash are the same, and a node that already has it
/// answers "tx already in mempool" (sdk code 19), which counts as accepted.
pub struct FailoverRpc {
    nodes: Vec<HttpRpc>,
    current: std::sync::atomic::AtomicUsize,
}

impl FailoverRpc {
    /// Clients of the comma-separated `urls` (at least one). Errors: [`ChainError::Transport`]
    /// (a bad URL, none given).
    pub fn new(urls: &str) -> Result<Self, ChainError> {
        let nodes = urls
            .split(',')
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(HttpRpc::new)
            .collect::<Result<Vec<_>, _>>()?;
        if nodes.is_empty() {
            return Err(ChainError::Transport {
                chain_id: String::new(),
                message: format!("no RPC URL in {urls:?}"),
            });
        }
        Ok(FailoverRpc {
            nodes,
            current: std::sync::atomic::AtomicUsize::new(0),
        })
    }

    /// The URL calls go to now.
    pub fn current_url(&self) -> &str {
        &self.nodes[self.current.load(std::sync::atomic::Ordering::Relaxed)].url
    }

    fn call<T>(&self, f: impl Fn(&HttpRpc) -> Result<T, ChainError>) -> Result<T, ChainError> {
        use std::sync::atomic::Ordering;
        let n = self.nodes.len();
        let start = self.current.load(Ordering::Relaxed);
        let mut last = None;
        for k in 0..n {
            let i = (start + k) % n;
            match f(&self.nodes[i]) {
                Ok(v) => {
                    if k > 0 {
                        tracing::warn!(from = %self.nodes[start].url, to = %self.nodes[i].url,
                            "RPC node unreachable; failed over");
                        self.current.store(i, Ordering::Relaxed);
                    }
                    return Ok(v);
                }
                Err(e @ ChainError::Transport { .. }) => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.expect("at least one node"))
    }
}

impl CometRpc for FailoverRpc {
    fn status(&self) -> Result<NodeStatus, ChainError> {
        self.call(|r| r.status())
    }
    fn abci_query(&self, path: &str, data: Vec<u8>) -> Result<AbciAnswer, ChainError> {
        self.call(|r| r.abci_query(path, data.clone()))
    }
    fn broadcast_tx_sync(&self, tx: Vec<u8>) -> Result<CheckTxAnswer, ChainError> {
        self.call(|r| r.broadcast_tx_sync(tx.clone()))
    }
    fn tx(&self, hash: &str) -> Result<Option<TxResult>, ChainError> {
        self.call(|r| r.tx(hash))
    }
}

fn unreachable_runtime() -> ! {
    // `runtime` is only taken in `drop`
    panic!("HttpRpc used after drop")
}

impl CometRpc for HttpRpc {
    fn status(&self) -> Result<NodeStatus, ChainError> {
        use tendermint_rpc::Client;
        let s = self
            .block_on(self.client.status())
            .map_err(|e| self.err("status", e))?;
        Ok(NodeStatus {
            network: s.node_info.network.to_string(),
            height: s.sync_info.latest_block_height.value(),
            time: s.sync_info.latest_block_time.unix_timestamp().max(0) as u64,
        })
    }

    fn abci_query(&self, path: &str, data: Vec<u8>) -> Result<AbciAnswer, ChainError> {
        use tendermint_rpc::Client;
        let q = self
            .block_on(self.client.abci_query(Some(path.into()), data, None, false))
            .map_err(|e| self.err(path, e))?;
        Ok(AbciAnswer {
            code: q.code.value(),
            codespace: q.codespace,
            log: q.log,
            value: q.value,
        })
    }

    fn broadcast_tx_sync(&self, tx: Vec<u8>) -> Result<CheckTxAnswer, ChainError> {
        use tendermint_rpc::Client;
        let r = self
            .block_on(self.client.broadcast_tx_sync(tx))
            .map_err(|e| self.err("broadcast_tx_sync", e))?;
        Ok(CheckTxAnswer {
            code: r.code.value(),
            codespace: r.codespace,
            log: r.log,
        })
    }

    fn tx(&self, hash: &str) -> Result<Option<TxResult>, ChainError> {
        use tendermint_rpc::Client;
        let h: cosmrs::tendermint::Hash = hash
            .parse()
            .map_err(|e| self.err("tx hash", format!("{hash}: {e}")))?;
        match self.block_on(self.client.tx(h, false)) {
            Ok(r) => Ok(Some(TxResult {
                hash: r.hash.to_string(),
                height: r.height.value(),
                code: r.tx_result.code.value(),
                codespace: r.tx_result.codespace,
                log: r.tx_result.log,
                data: comet_bytes(&r.tx_result.data),
                gas_used: r.tx_result.gas_used.max(0) as u64,
            })),
            Err(e) if e.to_string().contains("not found") => Ok(None),
            Err(e) => Err(self.err("tx", e)),
        }
    }
}

/// `ExecTxResult.data` as tendermint-rpc 0.40 hands it over: CometBFT sends it as base64 (Go
/// `[]byte` in JSON) and the `nullable` deserializer keeps the string's bytes, so they are
/// base64-decoded here (kept as they are if they are not base64).
fn comet_bytes(data: &[u8]) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(data)
        .unwrap_or_else(|_| data.to_vec())
}
