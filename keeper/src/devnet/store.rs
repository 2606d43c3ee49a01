//! The devnet's own records, kept in the embedded chain's storage under the `devnet/` prefix (no
//! contract or module of cw-multi-test writes there), so they are committed in the same SQLite
//! transaction as the tx's state changes:
//!
//! * `devnet/acct/<address>`: the account table ([`Account`]);
//! * `devnet/next_acct`: the next account number;
//! * `devnet/tx/<HASH>`: the result of every included tx ([`TxRecord`]);
//! * `devnet/block/<height, big endian>`: the time and txs of every block that has txs
//!   ([`BlockRecord`]).
use cosmwasm_std::Storage;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// An account of the auth table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// Account number, assigned when the address is first funded.
    pub number: u64,
    /// Number of txs this account has had included.
    pub sequence: u64,
    /// Compressed secp256k1 public key (33 bytes), known after the first tx.
    pub pub_key: Option<Vec<u8>>,
}

/// One ABCI event attribute (plain strings, as CometBFT 0.38 prints them).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attribute {
    /// Key.
    pub key: String,
    /// Value.
    pub value: String,
    /// Whether the attribute is indexed.
    pub index: bool,
}

/// One ABCI event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Event type (`transfer`, `wasm`, `message`, …).
    #[serde(rename = "type")]
    pub kind: String,
    /// Attributes in order.
    pub attributes: Vec<Attribute>,
}

impl Event {
    /// An event of `kind` with indexed attributes.
    pub fn new(kind: &str, attrs: &[(&str, String)]) -> Self {
        Event {
            kind: kind.into(),
            attributes: attrs
                .iter()
                .map(|(k, v)| Attribute {
                    key: (*k).into(),
                    value: v.clone(),
                    index: true,
                })
                .collect(),
        }
    }
}

/// The ABCI result of a tx (CheckTx or ExecTxResult).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxResult {
    /// 0 = success; otherwise an error code of `codespace`.
    pub code: u32,
    /// `sdk`, `wasm`, or empty on success.
    pub codespace: String,
    /// Error text (SDK shapes), empty on success.
    pub log: String,
    /// `TxMsgData` protobuf.
    pub data: Vec<u8>,
    /// The tx's gas limit.
    pub gas_wanted: u64,
    /// Gas charged (the devnet's deterministic schedule, see `super::gas`).
    pub gas_used: u64,
    /// Events.
    pub events: Vec<Event>,
}

/// An included tx.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxRecord {
    /// Uppercase hex sha256 of the tx bytes.
    pub hash: String,
    /// Block height.
    pub height: u64,
    /// Index in the block (always 0: one tx per block).
    pub index: u32,
    /// The TxRaw bytes.
    pub tx: Vec<u8>,
    /// The result.
    pub result: TxResult,
}

/// A block with txs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockRecord {
    /// Block time, unix nanoseconds.
    pub time_nanos: u64,
    /// Hashes of its txs.
    pub txs: Vec<String>,
}

const ACCT: &[u8] = b"devnet/acct/";
const NEXT_ACCT: &[u8] = b"devnet/next_acct";
const TX: &[u8] = b"devnet/tx/";
const BLOCK: &[u8] = b"devnet/block/";

fn key(prefix: &[u8], rest: &[u8]) -> Vec<u8> {
    [prefix, rest].concat()
}

fn load<T: DeserializeOwned>(s: &dyn Storage, k: &[u8]) -> anyhow::Result<Option<T>> {
    s.get(k)
        .map(|v| serde_json::from_slice(&v))
        .transpose()
        .map_err(|e| anyhow::anyhow!("corrupt devnet record {}: {e}", String::from_utf8_lossy(k)))
}

fn save<T: Serialize>(s: &mut dyn Storage, k: &[u8], v: &T) -> anyhow::Result<()> {
    s.set(k, &serde_json::to_vec(v)?);
    Ok(())
}

/// The account of `address`, if it was ever funded.
pub fn account(s: &dyn Storage, address: &str) -> anyhow::Result<Option<Account>> {
    load(s, &key(ACCT, address.as_bytes()))
}

/// Writes `address`'s account.
pub fn set_account(s: &mut dyn Storage, address: &str, a: &Account) -> anyhow::Result<()> {
    save(s, &key(ACCT, address.as_bytes()), a)
}

/// The account of `address`, creating it with the next account number if it does not exist.
pub fn ensure_account(s: &mut dyn Storage, address: &str) -> anyhow::Result<Account> {
    if let Some(a) = account(s, address)? {
        return Ok(a);
    }
    let number: u64 = load(s, NEXT_ACCT)?.unwrap_or(0);
    let a = Account {
        number,
        sequence: 0,
        pub_key: None,
    };
    set_account(s, address, &a)?;
    save(
        s,
        NEXT_ACCT,
        &number
            .checked_add(1)
            .ok_or_else(|| anyhow::anyhow!("account numbers exhausted"))?,
    )?;
    Ok(a)
}

/// The included tx with `hash` (uppercase hex).
pub fn tx(s: &dyn Storage, hash: &str) -> anyhow::Result<Option<TxRecord>> {
    load(s, &key(TX, hash.as_bytes()))
}

/// Records an included tx and adds it to its block.
pub fn record_tx(s: &mut dyn Storage, rec: &TxRecord, time_nanos: u64) -> anyhow::Result<()> {
    save(s, &key(TX, rec.hash.as_bytes()), rec)?;
    let bk = key(BLOCK, &rec.height.to_be_bytes());
    let mut block: BlockRecord = load(s, &bk)?.unwrap_or(BlockRecord {
        time_nanos,
        txs: vec![],
    });
    block.txs.push(rec.hash.clone());
    save(s, &bk, &block)
}

/// The block at `height`, if it has txs.
pub fn block(s: &dyn Storage, height: u64) -> anyhow::Result<Option<BlockRecord>> {
    load(s, &key(BLOCK, &height.to_be_bytes()))
}
