//! The CometBFT JSON-RPC subset (v0.38 response shapes): JSON-RPC 2.0 over `POST /` and the URI
//! form `GET /<method>?arg=value` (string values may be quoted, bytes as `0x…` hex).
//!
//! The devnet has no consensus: block ids, app hashes and the validator are deterministic
//! stand-ins (sha256 digests of the height, time and txs; one ed25519 validator derived from a
//! fixed seed), shaped as CometBFT prints them so that clients decode them.
use std::sync::Arc;

use base64::Engine;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::query;
use super::store::{self, TxRecord, TxResult};
use super::tx::{self, Broadcast, TxRules};
use crate::chain::embedded::EmbeddedChain;

/// CometBFT version the devnet answers as (CosmJS picks its 0.38 client from it).
pub const COMET_VERSION: &str = "0.38.17";

/// Shared state of the RPC handlers.
pub struct RpcState {
    /// The chain.
    pub chain: Arc<EmbeddedChain>,
    /// Tx rules.
    pub rules: TxRules,
    /// `tcp://host:port` the server listens on.
    pub rpc_address: String,
}

/// A JSON-RPC error: (code, message, data).
pub type RpcError = (i64, &'static str, String);

fn internal(e: impl std::fmt::Display) -> RpcError {
    (-32603, "Internal error", e.to_string())
}

fn invalid_params(e: impl std::fmt::Display) -> RpcError {
    (-32602, "Invalid params", e.to_string())
}

fn b64(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(b)
}

fn unb64(s: &str) -> Result<Vec<u8>, RpcError> {
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .map_err(|e| invalid_params(format!("not base64: {e}")))
}

fn rfc3339(nanos: u64) -> String {
    let secs = (nanos / 1_000_000_000) as i64;
    let sub = (nanos % 1_000_000_000) as u32;
    cosmrs::tendermint::Time::from_unix_timestamp(secs, sub)
        .map(|t| t.to_rfc3339())
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".into())
}

fn digest_hex(parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    hex::encode_upper(h.finalize())
}

fn block_hash(height: u64, time_nanos: u64) -> String {
    digest_hex(&[
        b"opg-devnet/block/",
        &height.to_be_bytes(),
        &time_nanos.to_be_bytes(),
    ])
}

fn validator() -> (String, String) {
    let seed: [u8; 32] = Sha256::digest(b"opg-devnet/validator").into();
    let pk = ed25519_dalek::SigningKey::from_bytes(&seed)
        .verifying_key()
        .to_bytes();
    let addr = hex::encode_upper(&Sha256::digest(pk)[..20]);
    (addr, b64(&pk))
}

fn events_json(r: &TxResult) -> Value {
    Value::Array(
        r.events
            .iter()
            .map(|e| {
                json!({
                    "type": e.kind,
                    "attributes": e.attributes.iter().map(|a| json!({
                        "key": a.key, "value": a.value, "index": a.index
                    })).collect::<Vec<_>>()
                })
            })
            .collect(),
    )
}

fn result_json(r: &TxResult) -> Value {
    json!({
        "code": r.code,
        "data": if r.data.is_empty() { Value::Null } else { Value::String(b64(&r.data)) },
        "log": r.log,
        "info": "",
        "gas_wanted": r.gas_wanted.to_string(),
        "gas_used": r.gas_used.to_string(),
        "events": events_json(r),
        "codespace": r.codespace,
    })
}

fn tx_json(rec: &TxRecord) -> Value {
    json!({
        "hash": rec.hash,
        "height": rec.height.to_string(),
        "index": rec.index,
        "tx_result": result_json(&rec.result),
        "tx": b64(&rec.tx),
    })
}

/// A parameter as a string (JSON string or number).
fn param<'a>(params: &'a Value, name: &str) -> Option<std::borrow::Cow<'a, str>> {
    match params.get(name)? {
        Value::String(s) => Some(s.as_str().into()),
        Value::Number(n) => Some(n.to_string().into()),
        _ => None,
    }
}

/// A tx hash given as hex (with or without `0x`) or base64 (tendermint-rpc's JSON).
fn hash_param(params: &Value) -> Result<String, RpcError> {
    let h = param(params, "hash").ok_or_else(|| invalid_params("missing hash"))?;
    let h = h.trim_start_matches("0x");
    if h.len() == 64 && h.chars().all(|c| c.is_ascii_hexdigit()) {
        return Ok(h.to_ascii_uppercase());
    }
    Ok(hex::encode_upper(unb64(h)?))
}

impl RpcState {
    fn run<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut crate::chain::embedded::ChainRuntime, &TxRules) -> anyhow::Result<R>
            + Send
            + 'static,
    ) -> Result<R, RpcError> {
        let rules = self.rules.clone();
        self.chain
            .with_runtime(move |rt| f(rt, &rules))
            .map_err(internal)?
            .map_err(internal)
    }

    fn latest(&self) -> Result<(u64, u64), RpcError> {
        self.run(|rt, _| {
            let b = rt.app.block_info();
            Ok((b.height, b.time.nanos()))
        })
    }

    /// Answers one call. Runs chain work on the calling thread (use `spawn_blocking`).
    pub fn call(&self, method: &str, params: &Value) -> Result<Value, RpcError> {
        match method {
            "health" => Ok(json!({})),
            "status" => self.status(),
            "abci_info" => {
                let (h, t) = self.latest()?;
                Ok(json!({"response": {
                    "data": "opg-devnet",
                    "version": env!("CARGO_PKG_VERSION"),
                    "app_version": "1",
                    "last_block_height": h.to_string(),
                    "last_block_app_hash": b64(&hex::decode(block_hash(h, t)).unwrap_or_default()),
                }}))
            }
            "abci_query" => {
                let path = param(params, "path")
                    .ok_or_else(|| invalid_params("missing path"))?
                    .into_owned();
                let data = param(params, "data").unwrap_or_default();
                let data = hex::decode(data.trim_start_matches("0x"))
                    .map_err(|e| invalid_params(format!("data is not hex: {e}")))?;
                let a = self.run(move |rt, rules| query::abci_query(rt, rules, &path, &data))?;
                let (h, _) = self.latest()?;
                Ok(json!({"response": {
                    "code": a.code,
                    "log": a.log,
                    "info": "",
                    "index": "0",
                    "key": Value::Null,
                    "value": if a.value.is_empty() { Value::Null } else { Value::String(b64(&a.value)) },
                    "proofOps": Value::Null,
                    "height": h.to_string(),
                    "codespace": a.codespace,
                }}))
            }
            "broadcast_tx_sync" | "broadcast_tx_async" | "broadcast_tx_commit" => {
                let tx = param(params, "tx").ok_or_else(|| invalid_params("missing tx"))?;
                let bytes = unb64(&tx)?;
                let hash = crate::chain::tx_hash(&bytes);
                let out = self.run(move |rt, rules| tx::broadcast(rt, rules, &bytes))?;
                let check = match &out {
                    Broadcast::Rejected(r) => r.clone(),
                    Broadcast::Included(_) => TxResult::default(),
                };
                if method == "broadcast_tx_commit" {
                    let (height, tx_result) = match &out {
                        Broadcast::Included(rec) => (rec.height, result_json(&rec.result)),
                        Broadcast::Rejected(_) => (0, result_json(&TxResult::default())),
                    };
                    return Ok(json!({
                        "check_tx": result_json(&check),
                        "tx_result": tx_result,
                        "hash": hash,
                        "height": height.to_string(),
                    }));
                }
                Ok(json!({
                    "code": check.code,
                    "data": "",
                    "log": check.log,
                    "codespace": check.codespace,
                    "hash": hash,
                }))
            }
            "tx" => {
                let hash = hash_param(params)?;
                let h2 = hash.clone();
                match self.run(move |rt, _| store::tx(rt.app.storage(), &h2))? {
                    Some(rec) => Ok(tx_json(&rec)),
                    None => Err(internal(format!("tx ({hash}) not found"))),
                }
            }
            "tx_search" => {
                let q = param(params, "query")
                    .ok_or_else(|| invalid_params("missing query"))?
                    .into_owned();
                let hash = parse_hash_query(&q).ok_or_else(|| {
                    invalid_params(format!(
                        "the devnet indexes txs by hash only: use tx.hash='<HEX>', got {q}"
                    ))
                })?;
                let rec = self.run(move |rt, _| store::tx(rt.app.storage(), &hash))?;
                let txs: Vec<Value> = rec.iter().map(tx_json).collect();
                Ok(json!({"txs": txs, "total_count": txs.len().to_string()}))
            }
            "block" => {
                let (latest, _) = self.latest()?;
                let height = match param(params, "height") {
                    Some(h) if !h.is_empty() => h
                        .parse::<u64>()
                        .map_err(|e| invalid_params(format!("height: {e}")))?,
                    _ => latest,
                };
                if height == 0 || height > latest {
                    return Err(internal(format!(
                        "height {height} must be less than or equal to the current blockchain height {latest}"
                    )));
                }
                self.block(height)
            }
            other => Err((
                -32601,
                "Method not found",
                format!("the devnet does not serve {other}"),
            )),
        }
    }

    fn block_time(&self, height: u64) -> Result<(u64, Vec<Vec<u8>>), RpcError> {
        self.run(move |rt, _| {
            let b = rt.app.block_info();
            match store::block(rt.app.storage(), height)? {
                Some(r) => {
                    let mut txs = vec![];
                    for h in r.txs {
                        if let Some(t) = store::tx(rt.app.storage(), &h)? {
                            txs.push(t.tx);
                        }
                    }
                    Ok((r.time_nanos, txs))
                }
                // heights without txs (genesis, or the latest block before any tx)
                None if height == b.height => Ok((b.time.nanos(), vec![])),
                None => Ok((0, vec![])),
            }
        })
    }

    fn block(&self, height: u64) -> Result<Value, RpcError> {
        let (time, txs) = self.block_time(height)?;
        let hash = block_hash(height, time);
        let (prev_hash, prev_height) = if height > 1 {
            let (pt, _) = self.block_time(height - 1)?;
            (block_hash(height - 1, pt), height - 1)
        } else {
            (String::new(), 0)
        };
        let parts = |h: &str| json!({"total": if h.is_empty() { 0 } else { 1 }, "hash": if h.is_empty() { String::new() } else { digest_hex(&[h.as_bytes()]) }});
        let (val_addr, _) = validator();
        let vhash = digest_hex(&[b"opg-devnet/validators"]);
        let data_hash = digest_hex(&txs.iter().map(|t| t.as_slice()).collect::<Vec<_>>());
        Ok(json!({
            "block_id": {"hash": hash, "parts": parts(&hash)},
            "block": {
                "header": {
                    "version": {"block": "11", "app": "1"},
                    "chain_id": self.rules.chain_id,
                    "height": height.to_string(),
                    "time": rfc3339(time),
                    "last_block_id": {"hash": prev_hash, "parts": parts(&prev_hash)},
                    "last_commit_hash": digest_hex(&[b"commit", prev_hash.as_bytes()]),
                    "data_hash": data_hash,
                    "validators_hash": vhash,
                    "next_validators_hash": vhash,
                    "consensus_hash": digest_hex(&[b"opg-devnet/consensus"]),
                    "app_hash": digest_hex(&[b"app", hash.as_bytes()]),
                    "last_results_hash": digest_hex(&[b"results", prev_hash.as_bytes()]),
                    "evidence_hash": digest_hex(&[]),
                    "proposer_address": val_addr,
                },
                "data": {"txs": txs.iter().map(|t| b64(t)).collect::<Vec<_>>()},
                "evidence": {"evidence": []},
                "last_commit": {
                    "height": prev_height.to_string(),
                    "round": 0,
                    "block_id": {"hash": prev_hash, "parts": parts(&prev_hash)},
                    "signatures": [],
                },
            }
        }))
    }

    fn status(&self) -> Result<Value, RpcError> {
        let (h, t) = self.latest()?;
        let hash = block_hash(h, t);
        let (val_addr, val_pk) = validator();
        let node_id = hex::encode(&Sha256::digest(self.rules.chain_id.as_bytes())[..20]);
        Ok(json!({
            "node_info": {
                "protocol_version": {"p2p": "8", "block": "11", "app": "1"},
                "id": node_id,
                "listen_addr": "tcp://127.0.0.1:26656",
                "network": self.rules.chain_id,
                "version": COMET_VERSION,
                "channels": "40202122233038606100",
                "moniker": "opg-devnet",
                "other": {"tx_index": "on", "rpc_address": self.rpc_address},
            },
            "sync_info": {
                "latest_block_hash": hash,
                "latest_app_hash": digest_hex(&[b"app", hash.as_bytes()]),
                "latest_block_height": h.to_string(),
                "latest_block_time": rfc3339(t),
                "earliest_block_hash": hash,
                "earliest_app_hash": digest_hex(&[b"app", hash.as_bytes()]),
                "earliest_block_height": "1",
                "earliest_block_time": rfc3339(t),
                "catching_up": false,
            },
            "validator_info": {
                "address": val_addr,
                "pub_key": {"type": "tendermint/PubKeyEd25519", "value": val_pk},
                "voting_power": "10",
            }
        }))
    }
}

/// `tx.hash='ABC…'` (quotes `'` or `"`, spaces around `=` allowed) → uppercase hex.
fn parse_hash_query(q: &str) -> Option<String> {
    let (k, v) = q.split_once('=')?;
    if k.trim() != "tx.hash" {
        return None;
    }
    let v = v.trim().trim_matches(|c| c == '\'' || c == '"');
    (v.len() == 64 && v.chars().all(|c| c.is_ascii_hexdigit())).then(|| v.to_ascii_uppercase())
}

/// Wraps a call's outcome in a JSON-RPC 2.0 envelope.
pub fn envelope(id: Value, out: Result<Value, RpcError>) -> Value {
    match out {
        Ok(result) => json!({"jsonrpc": "2.0", "id": id, "result": result}),
        Err((code, message, data)) => json!({
            "jsonrpc": "2.0", "id": id,
            "error": {"code": code, "message": message, "data": data}
        }),
    }
}

/// URI-form query parameters to JSON params: surrounding quotes are dropped; `0x…` hex stays
/// hex for `data`/`hash` and becomes base64 for `tx` (the JSON form of bytes).
pub fn uri_params(q: &std::collections::HashMap<String, String>) -> Value {
    let mut m = serde_json::Map::new();
    for (k, v) in q {
        let v = v.trim_matches('"');
        let v = if k == "tx" {
            match v.strip_prefix("0x").map(hex::decode) {
                Some(Ok(b)) => b64(&b),
                _ => v.to_string(),
            }
        } else {
            v.to_string()
        };
        m.insert(k.clone(), Value::String(v));
    }
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_query_forms() {
        let h = "ab".repeat(32);
        assert_eq!(
            parse_hash_query(&format!("tx.hash='{h}'")),
            Some(h.to_uppercase())
        );
        assert_eq!(
            parse_hash_query(&format!("tx.hash = \"{h}\"")),
            Some(h.to_uppercase())
        );
        assert_eq!(parse_hash_query("tx.height=5"), None);
        assert_eq!(parse_hash_query("tx.hash='zz'"), None);
    }
}
