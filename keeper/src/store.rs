//! The keeper's durable store (SQLite, bundled): receipts and the outbox of batches.
//!
//! * `receipts`, unique on `(payer, nonce)`: the same receipt posted twice is one row; each row
//!   moves `pending -> submitted(tx) -> accepted | rejected(reason)`, and back to `pending` only
//!   through reconciliation when the chain says its nonce was not consumed.
//! * `outbox`: a batch and the tx that carries it are written down **before** the broadcast
//!   (state `prepared`); the outcome is recorded afterwards (state `recorded`). A batch still
//!   `prepared` at start-up was maybe broadcast: [`crate::service::Keeper::reconcile`] asks the
//!   chain about each of its receipts.
//! * `epochs`: which epochs this keeper finalized, with the tx.
//! * `meta`: small keeper state kept across restarts (the measured submission pace).
//!
//! The store also keeps, in memory, the **backlog** per epoch: receipts stored but not yet
//! counted or refused (`pending` or `submitted`). It is read from the database at open and
//! updated under the same lock as every write that changes it, so it is exact. Inserts can be
//! **admitted** against a per-epoch limit ([`Admission`], issue 17): a new receipt that would
//! push the backlog of its epoch and the epochs before it (submitted first) above the limit is
//! not stored ([`InsertOutcome::Deferred`]); a receipt already stored is still a duplicate.
//!
//! Durability: WAL journal with `synchronous=FULL` (the default [`Durability::Full`]): every
//! commit fsyncs the WAL, so a receipt that was acknowledged (its insert committed) survives
//! kill -9 **and** power loss. `NORMAL` with WAL survives kill -9 but may lose the last commits on
//! power loss, which would break the "acknowledged means stored" promise; it is offered for
//! simulations only. The cost of `FULL` is one fsync per ingest request, amortized over the
//! receipts of that request (one SQLite transaction per request).
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde::{Deserialize, Serialize};

/// How hard commits hit the disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Durability {
    /// `synchronous=FULL`: survives power loss (default).
    #[default]
    Full,
    /// `synchronous=NORMAL`: survives process crashes only. For simulations.
    Normal,
}

/// Store errors.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite failed.
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A stored JSON value did not decode.
    #[error("stored {what} is corrupt: {message}")]
    Corrupt {
        /// Which value.
        what: String,
        /// Decoder error.
        message: String,
    },
    /// The group-commit writer stopped before answering (nothing is known to be committed).
    #[error("the group-commit writer stopped before answering")]
    WriterStopped,
    /// A batch id that does not exist or is not in the expected state.
    #[error("batch {batch_id} is not {expected}")]
    BatchState {
        /// Batch id.
        batch_id: i64,
        /// Expected state.
        expected: &'static str,
    },
}

/// Where a receipt stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ReceiptState {
    /// Stored, waiting for a batch.
    Pending,
    /// In a batch whose tx was (or is about to be) broadcast.
    Submitted {
        /// The batch's tx hash.
        tx_hash: String,
    },
    /// Counted on chain.
    Accepted {
        /// The tx that carried it (`None` when learned by reconciliation of a nonce status).
        tx_hash: Option<String>,
    },
    /// Refused by the chain or expired before submission.
    Rejected {
        /// The reason string (a `RejectReason` wire string).
        reason: String,
        /// The tx that carried it, if it was submitted.
        tx_hash: Option<String>,
    },
}

impl ReceiptState {
    /// `pending`, `submitted`, `accepted` or `rejected`.
    pub fn name(&self) -> &'static str {
        match self {
            ReceiptState::Pending => "pending",
            ReceiptState::Submitted { .. } => "submitted",
            ReceiptState::Accepted { .. } => "accepted",
            ReceiptState::Rejected { .. } => "rejected",
        }
    }
}

/// The identity of a receipt: `(payer, nonce)`, both lowercase hex.
#[derive(
    Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct ReceiptKey {
    /// Payer, lowercase `0x` address.
    pub payer: String,
    /// EIP-3009 nonce, lowercase `0x` + 64 hex.
    pub nonce: String,
}

impl ReceiptKey {
    /// A key with both parts lowercased.
    pub fn new(payer: &str, nonce: &str) -> Self {
        ReceiptKey {
            payer: payer.to_ascii_lowercase(),
            nonce: nonce.to_ascii_lowercase(),
        }
    }
}

/// A verified receipt to store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewReceipt {
    /// Identity.
    pub key: ReceiptKey,
    /// Epoch of `served_at`.
    pub epoch: u64,
    /// Serving node.
    pub node_id: String,
    /// Model.
    pub model_id: String,
    /// Value in micro-USD.
    pub value_micro_usd: u128,
    /// The `SignedReceipt` JSON exactly as it will be submitted.
    pub raw: String,
}

/// Result of inserting one receipt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InsertOutcome {
    /// A new row.
    Inserted,
    /// `(payer, nonce)` was already stored; its current state.
    Duplicate(ReceiptState),
    /// Not stored: the backlog of its epoch and the epochs before it had reached the limit of
    /// the [`Admission`].
    Deferred {
        /// Receipts of the backlog beyond what the limit allows, counting this one (>= 1).
        excess: u64,
    },
}

/// Admission limits of an insert, per epoch: the largest backlog (receipts `pending` or
/// `submitted` in that epoch and all earlier ones, which are submitted first) that may exist
/// after inserting a new receipt of that epoch. Epochs without a limit admit everything.
pub type Admission = BTreeMap<u64, u64>;

/// A stored receipt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct StoredReceipt {
    /// Identity.
    pub key: ReceiptKey,
    /// Epoch.
    pub epoch: u64,
    /// Node.
    pub node_id: String,
    /// Model.
    pub model_id: String,
    /// Value in micro-USD.
    pub value_micro_usd: u128,
    /// State.
    pub state: ReceiptState,
    /// The outbox batch it was last put in.
    pub batch_id: Option<i64>,
    /// Unix seconds when first stored.
    pub received_at: u64,
    /// The `SignedReceipt` JSON.
    #[serde(skip)]
    pub raw: String,
}

/// A batch in the outbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxBatch {
    /// Batch id.
    pub id: i64,
    /// Receipts in submission order.
    pub keys: Vec<ReceiptKey>,
    /// Intended tx hash.
    pub tx_hash: String,
    /// The tx bytes written down before the broadcast.
    pub tx_bytes: Vec<u8>,
    /// `prepared`, `recorded` or `failed`.
    pub state: String,
}

/// The chain's verdict on one receipt of a batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Counted.
    Accepted,
    /// Refused with this reason.
    Rejected(String),
}

/// Per-state counts of one epoch (or all epochs).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct StateCounts {
    /// Pending receipts.
    pub pending: u64,
    /// Submitted, outcome unknown.
    pub submitted: u64,
    /// Accepted.
    pub accepted: u64,
    /// Rejected.
    pub rejected: u64,
    /// Sum of accepted value, micro-USD.
    pub accepted_value_micro_usd: u128,
}

/// The keeper's SQLite store. Cheap to share behind an `Arc`; calls serialize on one connection.
pub struct Store {
    conn: Mutex<Connection>,
    /// Receipts `pending` or `submitted`, per epoch (no zero entries). Written only while `conn`
    /// is held (lock order: `conn`, then `backlog`).
    backlog: Mutex<BTreeMap<u64, u64>>,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS receipts (
    payer TEXT NOT NULL,
    nonce TEXT NOT NULL,
    epoch INTEGER NOT NULL,
    node_id TEXT NOT NULL,
    model_id TEXT NOT NULL,
    value_micro_usd TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending','submitted','accepted','rejected')),
    tx_hash TEXT,
    batch_id INTEGER,
    reason TEXT,
    raw TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    PRIMARY KEY (payer, nonce)
);
CREATE INDEX IF NOT EXISTS receipts_by_status ON receipts (status, epoch);
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    epoch INTEGER NOT NULL,
    receipt_keys TEXT NOT NULL,
    tx_bytes BLOB NOT NULL,
    tx_hash TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('prepared','recorded','failed')),
    created_at INTEGER NOT NULL,
    height INTEGER,
    error TEXT
);
CREATE INDEX IF NOT EXISTS outbox_by_state ON outbox (state);
CREATE TABLE IF NOT EXISTS epochs (
    epoch INTEGER PRIMARY KEY,
    finalize_tx TEXT,
    finalized_at INTEGER
);
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
";

/// `meta` key of the [`PaceRecord`].
const META_PACE: &str = "submit_pace";

/// The submission pace kept across restarts (`meta` row `submit_pace`, the three fields
/// separated by spaces).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PaceRecord {
    /// Measured seconds per full tx (> 0, finite).
    pub secs_per_tx: f64,
    /// Wall-clock time the last batch's verdicts were recorded, unix seconds.
    pub last_batch_at: f64,
    /// Whether more work was due right away after that batch (so the time until the next
    /// recorded batch, a restart included, is submission time, not idle time).
    pub busy: bool,
}

impl PaceRecord {
    fn parse(v: &str) -> Option<Self> {
        let mut it = v.split(' ');
        let secs_per_tx = it.next()?.parse::<f64>().ok()?;
        let last_batch_at = it.next()?.parse::<f64>().ok()?;
        let busy = it.next()? == "1";
        (secs_per_tx.is_finite() && secs_per_tx > 0.0 && last_batch_at.is_finite()).then_some(
            PaceRecord {
                secs_per_tx,
                last_batch_at,
                busy,
            },
        )
    }
}

impl std::fmt::Display for PaceRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} {}",
            self.secs_per_tx,
            self.last_batch_at,
            u8::from(self.busy)
        )
    }
}

/// The backlog (`pending` + `submitted`) of `epoch` as the database has it.
fn count_backlog(conn: &Connection, epoch: u64) -> rusqlite::Result<u64> {
    conn.prepare_cached(
        "SELECT COUNT(*) FROM receipts WHERE status IN ('pending','submitted') AND epoch = ?1",
    )?
    .query_row(params![epoch as i64], |r| r.get::<_, i64>(0))
    .map(|n| n as u64)
}

/// The sum of `backlog` over epochs up to and including `epoch`.
fn backlog_upto(backlog: &BTreeMap<u64, u64>, epoch: u64) -> u64 {
    backlog
        .range(..=epoch)
        .fold(0u64, |a, (_, n)| a.saturating_add(*n))
}

fn parse_u128(s: String) -> rusqlite::Result<u128> {
    s.parse::<u128>().map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
    })
}

fn state_of(status: &str, tx_hash: Option<String>, reason: Option<String>) -> ReceiptState {
    match status {
        "pending" => ReceiptState::Pending,
        "submitted" => ReceiptState::Submitted {
            tx_hash: tx_hash.unwrap_or_default(),
        },
        "accepted" => ReceiptState::Accepted { tx_hash },
        _ => ReceiptState::Rejected {
            reason: reason.unwrap_or_default(),
            tx_hash,
        },
    }
}

const RECEIPT_COLUMNS: &str =
    "payer, nonce, epoch, node_id, model_id, value_micro_usd, status, tx_hash, batch_id, reason, raw, received_at";

fn row_to_receipt(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredReceipt> {
    let status: String = r.get(6)?;
    Ok(StoredReceipt {
        key: ReceiptKey {
            payer: r.get(0)?,
            nonce: r.get(1)?,
        },
        epoch: r.get::<_, i64>(2)? as u64,
        node_id: r.get(3)?,
        model_id: r.get(4)?,
        value_micro_usd: parse_u128(r.get(5)?)?,
        state: state_of(&status, r.get(7)?, r.get(9)?),
        batch_id: r.get(8)?,
        raw: r.get(10)?,
        received_at: r.get::<_, i64>(11)? as u64,
    })
}

impl Store {
    /// Opens (creating) the database at `path`, WAL journal, the given durability.
    pub fn open(path: &Path, durability: Durability) -> Result<Self, StoreError> {
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(
            None,
            "synchronous",
            match durability {
                Durability::Full => "FULL",
                Durability::Normal => "NORMAL",
            },
        )?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        Self::init(conn)
    }

    /// A store in memory (tests, simulations): nothing survives the process.
    pub fn in_memory() -> Result<Self, StoreError> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(conn: Connection) -> Result<Self, StoreError> {
        conn.execute_batch(SCHEMA)?;
        let backlog = {
            let mut stmt = conn.prepare(
                "SELECT epoch, COUNT(*) FROM receipts WHERE status IN ('pending','submitted')
                 GROUP BY epoch",
            )?;
            let rows = stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))?;
            rows.map(|r| r.map(|(e, n)| (e as u64, n as u64)))
                .collect::<Result<BTreeMap<_, _>, _>>()?
        };
        Ok(Store {
            conn: Mutex::new(conn),
            backlog: Mutex::new(backlog),
        })
    }

    /// Re-reads the backlog of `epoch` from the database (call with `conn` held, after a
    /// committed write that changed it).
    fn recount(&self, conn: &Connection, epoch: u64) -> Result<(), StoreError> {
        let n = count_backlog(conn, epoch)?;
        let mut b = self.backlog.lock().unwrap_or_else(|p| p.into_inner());
        if n == 0 {
            b.remove(&epoch);
        } else {
            b.insert(epoch, n);
        }
        Ok(())
    }

    /// Receipts stored but not yet counted or refused (`pending` or `submitted`), per epoch.
    pub fn backlog(&self) -> BTreeMap<u64, u64> {
        self.backlog
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The submission pace saved by [`Store::save_pace`], if any (an unreadable value is none).
    pub fn pace(&self) -> Result<Option<PaceRecord>, StoreError> {
        self.with(|conn| {
            let v: Option<String> = conn
                .query_row(
                    "SELECT value FROM meta WHERE key = ?1",
                    params![META_PACE],
                    |r| r.get(0),
                )
                .optional()?;
            Ok(v.and_then(|v| PaceRecord::parse(&v)))
        })
    }

    /// Saves the submission pace, so a restarted keeper starts from it and measures the time
    /// its restart took.
    pub fn save_pace(&self, pace: &PaceRecord) -> Result<(), StoreError> {
        self.with(|conn| {
            conn.execute(
                "INSERT INTO meta (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                params![META_PACE, pace.to_string()],
            )?;
            Ok(())
        })
    }

    fn with<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        // A panic while holding the lock cannot leave SQLite half-written (transactions roll
        // back on drop), so a poisoned lock is safe to reuse.
        let mut guard = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut guard)
    }

    /// Inserts receipts in one transaction; returns per receipt whether it is new or a duplicate
    /// (with the stored state). Returns only after the commit: the caller may acknowledge then.
    pub fn insert_receipts(
        &self,
        receipts: &[NewReceipt],
        now: u64,
    ) -> Result<Vec<InsertOutcome>, StoreError> {
        let mut out = self.insert_receipt_groups(&[(receipts, now)])?;
        Ok(out.pop().unwrap_or_default())
    }

    /// Inserts several groups of receipts (each with its own `received_at`, unix seconds) in
    /// **one** transaction (group commit: one fsync for all). Returns the outcomes per group, in
    /// order, only after the commit. A receipt in a later group that repeats one of an earlier
    /// group is a duplicate, exactly as if the groups were inserted one after the other.
    pub fn insert_receipt_groups(
        &self,
        groups: &[(&[NewReceipt], u64)],
    ) -> Result<Vec<Vec<InsertOutcome>>, StoreError> {
        let groups: Vec<_> = groups.iter().map(|(r, now)| (*r, *now, None)).collect();
        self.insert_admitted(&groups)
    }

    /// [`Store::insert_receipt_groups`] where each group may carry an [`Admission`]: a new
    /// receipt of an epoch with a limit is stored only if the backlog up to its epoch (the
    /// committed one plus what this transaction added before it) stays within the limit, else it
    /// is [`InsertOutcome::Deferred`] and nothing is written for it. A receipt already stored
    /// is a duplicate whatever the limit.
    pub fn insert_admitted(
        &self,
        groups: &[(&[NewReceipt], u64, Option<&Admission>)],
    ) -> Result<Vec<Vec<InsertOutcome>>, StoreError> {
        self.with(|conn| {
            let tx = conn.transaction()?;
            let mut all = Vec::with_capacity(groups.len());
            // the committed backlog plus this transaction's inserts
            let mut backlog = self.backlog();
            {
                let mut ins = tx.prepare_cached(
                    "INSERT INTO receipts (payer, nonce, epoch, node_id, model_id, value_micro_usd, status, raw, received_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending', ?7, ?8)
                     ON CONFLICT (payer, nonce) DO NOTHING",
                )?;
                for (receipts, now, admission) in groups {
                    let mut out = Vec::with_capacity(receipts.len());
                    for r in receipts.iter() {
                        let limit = admission.and_then(|a| a.get(&r.epoch)).copied();
                        if let Some(limit) = limit {
                            let after = backlog_upto(&backlog, r.epoch).saturating_add(1);
                            if after > limit {
                                out.push(match get_state(&tx, &r.key)? {
                                    Some(state) => InsertOutcome::Duplicate(state),
                                    None => InsertOutcome::Deferred {
                                        excess: after - limit,
                                    },
                                });
                                continue;
                            }
                        }
                        let n = ins.execute(params![
                            r.key.payer,
                            r.key.nonce,
                            r.epoch as i64,
                            r.node_id,
                            r.model_id,
                            r.value_micro_usd.to_string(),
                            r.raw,
                            *now as i64
                        ])?;
                        if n == 1 {
                            *backlog.entry(r.epoch).or_insert(0) += 1;
                            out.push(InsertOutcome::Inserted);
                        } else {
                            let state = get_state(&tx, &r.key)?.unwrap_or(ReceiptState::Pending);
                            out.push(InsertOutcome::Duplicate(state));
                        }
                    }
                    all.push(out);
                }
            }
            tx.commit()?;
            *self.backlog.lock().unwrap_or_else(|p| p.into_inner()) = backlog;
            Ok(all)
        })
    }

    /// One receipt by key.
    pub fn get_receipt(&self, key: &ReceiptKey) -> Result<Option<StoredReceipt>, StoreError> {
        self.with(|conn| {
            Ok(conn
                .query_row(
                    &format!(
                        "SELECT {RECEIPT_COLUMNS} FROM receipts WHERE payer = ?1 AND nonce = ?2"
                    ),
                    params![key.payer, key.nonce],
                    row_to_receipt,
                )
                .optional()?)
        })
    }

    /// Epochs that have pending receipts, ascending.
    pub fn pending_epochs(&self) -> Result<Vec<u64>, StoreError> {
        self.with(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT DISTINCT epoch FROM receipts WHERE status = 'pending' ORDER BY epoch",
            )?;
            let rows = stmt.query_map([], |r| r.get::<_, i64>(0))?;
            Ok(rows
                .collect::<Result<Vec<_>, _>>()?
                .into_iter()
                .map(|e| e as u64)
                .collect())
        })
    }

    /// Up to `limit` pending receipts of `epoch`, oldest first.
    pub fn pending_in_epoch(
        &self,
        epoch: u64,
        limit: usize,
    ) -> Result<Vec<StoredReceipt>, StoreError> {
        self.with(|conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {RECEIPT_COLUMNS} FROM receipts WHERE status = 'pending' AND epoch = ?1
                 ORDER BY received_at, payer, nonce LIMIT ?2"
            ))?;
            let rows = stmt.query_map(params![epoch as i64, limit as i64], row_to_receipt)?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }

    /// Writes a batch to the outbox (state `prepared`) and marks its receipts `submitted` with
    /// `tx_hash`, atomically. Call before broadcasting.
    pub fn prepare_batch(
        &self,
        epoch: u64,
        keys: &[ReceiptKey],
        tx_bytes: &[u8],
        tx_hash: &str,
        now: u64,
    ) -> Result<i64, StoreError> {
        let keys_json = serde_json::to_string(keys).map_err(|e| StoreError::Corrupt {
            what: "receipt keys".into(),
            message: e.to_string(),
        })?;
        self.with(|conn| {
            let tx = conn.transaction()?;
            tx.execute(
                "INSERT INTO outbox (epoch, receipt_keys, tx_bytes, tx_hash, state, created_at)
                 VALUES (?1, ?2, ?3, ?4, 'prepared', ?5)",
                params![epoch as i64, keys_json, tx_bytes, tx_hash, now as i64],
            )?;
            let id = tx.last_insert_rowid();
            {
                let mut up = tx.prepare_cached(
                    "UPDATE receipts SET status = 'submitted', tx_hash = ?1, batch_id = ?2
                     WHERE payer = ?3 AND nonce = ?4 AND status = 'pending'",
                )?;
                for k in keys {
                    up.execute(params![tx_hash, id, k.payer, k.nonce])?;
                }
            }
            tx.commit()?;
            Ok(id)
        })
    }

    /// Records the chain's verdicts of a `prepared` batch and marks it `recorded`, atomically.
    pub fn record_batch(
        &self,
        batch_id: i64,
        height: u64,
        verdicts: &[(ReceiptKey, Verdict)],
    ) -> Result<(), StoreError> {
        self.with(|conn| {
            let tx = conn.transaction()?;
            let n = tx.execute(
                "UPDATE outbox SET state = 'recorded', height = ?2 WHERE id = ?1 AND state = 'prepared'",
                params![batch_id, height as i64],
            )?;
            if n != 1 {
                return Err(StoreError::BatchState {
                    batch_id,
                    expected: "prepared",
                });
            }
            {
                let mut acc = tx.prepare_cached(
                    "UPDATE receipts SET status = 'accepted', reason = NULL
                     WHERE payer = ?1 AND nonce = ?2 AND batch_id = ?3 AND status = 'submitted'",
                )?;
                let mut rej = tx.prepare_cached(
                    "UPDATE receipts SET status = 'rejected', reason = ?4
                     WHERE payer = ?1 AND nonce = ?2 AND batch_id = ?3 AND status = 'submitted'",
                )?;
                for (k, v) in verdicts {
                    match v {
                        Verdict::Accepted => acc.execute(params![k.payer, k.nonce, batch_id])?,
                        Verdict::Rejected(reason) => rej.execute(params![k.payer, k.nonce, batch_id, reason])?,
                    };
                }
            }
            tx.commit()?;
            self.recount_batch_epoch(conn, batch_id)?;
            Ok(())
        })
    }

    /// Marks a `prepared` batch `failed` (the chain refused the whole tx: nothing was counted) and
    /// puts its still-`submitted` receipts back to `pending`.
    pub fn fail_batch(&self, batch_id: i64, error: &str) -> Result<(), StoreError> {
        self.with(|conn| {
            let tx = conn.transaction()?;
            let n = tx.execute(
                "UPDATE outbox SET state = 'failed', error = ?2 WHERE id = ?1 AND state = 'prepared'",
                params![batch_id, error],
            )?;
            if n != 1 {
                return Err(StoreError::BatchState {
                    batch_id,
                    expected: "prepared",
                });
            }
            tx.execute(
                "UPDATE receipts SET status = 'pending', tx_hash = NULL
                 WHERE batch_id = ?1 AND status = 'submitted'",
                params![batch_id],
            )?;
            tx.commit()?;
            Ok(())
        })
    }

    /// Batches written down but whose outcome was never recorded (maybe broadcast), oldest first.
    pub fn unrecorded_batches(&self) -> Result<Vec<OutboxBatch>, StoreError> {
        self.with(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT id, receipt_keys, tx_hash, state, tx_bytes FROM outbox WHERE state = 'prepared' ORDER BY id",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, String>(3)?, r.get::<_, Vec<u8>>(4)?))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (id, keys, tx_hash, state, tx_bytes) = row?;
                let keys: Vec<ReceiptKey> = serde_json::from_str(&keys).map_err(|e| StoreError::Corrupt {
                    what: format!("outbox batch {id} keys"),
                    message: e.to_string(),
                })?;
                out.push(OutboxBatch { id, keys, tx_hash, tx_bytes, state });
            }
            Ok(out)
        })
    }

    /// Settles a `prepared` batch from the chain's nonce statuses: `Some(true)` (consumed) makes
    /// a receipt `accepted`, `Some(false)` puts it back to `pending`, `None` (the chain pruned the
    /// nonce's epoch, the outcome cannot be known) makes it `rejected` with reason
    /// `outcome_unknown_pruned`; the batch becomes `recorded`.
    pub fn reconcile_batch(
        &self,
        batch_id: i64,
        consumed: &[(ReceiptKey, Option<bool>)],
    ) -> Result<(), StoreError> {
        self.with(|conn| {
            let tx = conn.transaction()?;
            let n = tx.execute(
                "UPDATE outbox SET state = 'recorded', error = 'reconciled' WHERE id = ?1 AND state = 'prepared'",
                params![batch_id],
            )?;
            if n != 1 {
                return Err(StoreError::BatchState {
                    batch_id,
                    expected: "prepared",
                });
            }
            {
                let mut acc = tx.prepare_cached(
                    "UPDATE receipts SET status = 'accepted'
                     WHERE payer = ?1 AND nonce = ?2 AND batch_id = ?3 AND status = 'submitted'",
                )?;
                let mut back = tx.prepare_cached(
                    "UPDATE receipts SET status = 'pending', tx_hash = NULL
                     WHERE payer = ?1 AND nonce = ?2 AND batch_id = ?3 AND status = 'submitted'",
                )?;
                let mut unknown = tx.prepare_cached(
                    "UPDATE receipts SET status = 'rejected', reason = 'outcome_unknown_pruned'
                     WHERE payer = ?1 AND nonce = ?2 AND batch_id = ?3 AND status = 'submitted'",
                )?;
                for (k, c) in consumed {
                    match c {
                        Some(true) => acc.execute(params![k.payer, k.nonce, batch_id])?,
                        Some(false) => back.execute(params![k.payer, k.nonce, batch_id])?,
                        None => unknown.execute(params![k.payer, k.nonce, batch_id])?,
                    };
                }
            }
            tx.commit()?;
            self.recount_batch_epoch(conn, batch_id)?;
            Ok(())
        })
    }

    /// Marks every pending receipt of `epoch` rejected with `reason` (its submission window closed
    /// before it could be submitted). Returns how many.
    pub fn expire_pending(&self, epoch: u64, reason: &str) -> Result<u64, StoreError> {
        self.with(|conn| {
            let n = conn.execute(
                "UPDATE receipts SET status = 'rejected', reason = ?2 WHERE epoch = ?1 AND status = 'pending'",
                params![epoch as i64, reason],
            )? as u64;
            if n > 0 {
                self.recount(conn, epoch)?;
            }
            Ok(n)
        })
    }

    /// Re-reads the backlog of the epoch of outbox batch `batch_id` (after its receipts left
    /// `submitted`).
    fn recount_batch_epoch(&self, conn: &Connection, batch_id: i64) -> Result<(), StoreError> {
        let epoch: Option<i64> = conn
            .query_row(
                "SELECT epoch FROM outbox WHERE id = ?1",
                params![batch_id],
                |r| r.get(0),
            )
            .optional()?;
        match epoch {
            Some(e) => self.recount(conn, e as u64),
            None => Ok(()),
        }
    }

    /// Per-state counts of `epoch` (`None`: all epochs).
    pub fn counts(&self, epoch: Option<u64>) -> Result<StateCounts, StoreError> {
        self.with(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT status, COUNT(*) FROM receipts WHERE (?1 IS NULL OR epoch = ?1) GROUP BY status",
            )?;
            let e = epoch.map(|e| e as i64);
            let rows = stmt.query_map(params![e], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
            let mut c = StateCounts::default();
            for row in rows {
                let (s, n) = row?;
                let n = n as u64;
                match s.as_str() {
                    "pending" => c.pending = n,
                    "submitted" => c.submitted = n,
                    "accepted" => c.accepted = n,
                    _ => c.rejected = n,
                }
            }
            let mut vs = conn.prepare_cached(
                "SELECT value_micro_usd FROM receipts WHERE status = 'accepted' AND (?1 IS NULL OR epoch = ?1)",
            )?;
            let vals = vs.query_map(params![e], |r| parse_u128(r.get(0)?))?;
            for v in vals {
                c.accepted_value_micro_usd = c.accepted_value_micro_usd.saturating_add(v?);
            }
            Ok(c)
        })
    }

    /// Records that this keeper finalized `epoch` with `tx_hash` (or saw it finalized: `None`).
    pub fn mark_finalized(
        &self,
        epoch: u64,
        tx_hash: Option<&str>,
        now: u64,
    ) -> Result<(), StoreError> {
        self.with(|conn| {
            conn.execute(
                "INSERT INTO epochs (epoch, finalize_tx, finalized_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (epoch) DO NOTHING",
                params![epoch as i64, tx_hash, now as i64],
            )?;
            Ok(())
        })
    }

    /// Epochs in `from..until` that hold at least one receipt but have no finalize record
    /// ([`Store::mark_finalized`]), ascending, at most `limit`.
    pub fn epochs_without_finalize_record(
        &self,
        from: u64,
        until: u64,
        limit: usize,
    ) -> Result<Vec<u64>, StoreError> {
        self.with(|conn| {
            // the status list lets SQLite walk the (status, epoch) index instead of the table
            let mut stmt = conn.prepare_cached(
                "SELECT DISTINCT r.epoch FROM receipts r
                 WHERE r.status IN ('pending','submitted','accepted','rejected')
                   AND r.epoch >= ?1 AND r.epoch < ?2
                   AND NOT EXISTS (SELECT 1 FROM epochs e WHERE e.epoch = r.epoch)
                 ORDER BY r.epoch LIMIT ?3",
            )?;
            let rows = stmt.query_map(
                params![
                    i64::try_from(from).unwrap_or(i64::MAX),
                    i64::try_from(until).unwrap_or(i64::MAX),
                    i64::try_from(limit).unwrap_or(i64::MAX)
                ],
                |r| r.get::<_, i64>(0),
            )?;
            Ok(rows
                .collect::<Result<Vec<_>, _>>()?
                .into_iter()
                .map(|e| e as u64)
                .collect())
        })
    }

    /// The finalize tx this keeper recorded for `epoch`: `Some(tx)` if finalized (tx `None` if
    /// someone else finalized it), `None` if not recorded.
    pub fn finalized(&self, epoch: u64) -> Result<Option<Option<String>>, StoreError> {
        self.with(|conn| {
            Ok(conn
                .query_row(
                    "SELECT finalize_tx FROM epochs WHERE epoch = ?1",
                    params![epoch as i64],
                    |r| r.get::<_, Option<String>>(0),
                )
                .optional()?)
        })
    }
}

/// Most receipts one group commit writes in one transaction.
pub const MAX_GROUP_ROWS: usize = 4096;

/// The answer of the group-commit writer to one submission: the outcome per receipt, sent
/// **after** the transaction that holds them committed.
pub type CommitReply = tokio::sync::oneshot::Receiver<Result<Vec<InsertOutcome>, StoreError>>;

type CommitResult = Result<Vec<InsertOutcome>, StoreError>;

/// Where the writer sends a submission's outcome.
enum ReplyTo {
    /// An async caller (`.await` on the receiver).
    Async(tokio::sync::oneshot::Sender<CommitResult>),
    /// A blocking caller.
    Blocking(std::sync::mpsc::SyncSender<CommitResult>),
}

impl ReplyTo {
    fn send(self, r: CommitResult) {
        // the caller may have gone away (request cancelled): nothing to tell then
        let _ = match self {
            ReplyTo::Async(tx) => tx.send(r).map_err(|_| ()),
            ReplyTo::Blocking(tx) => tx.send(r).map_err(|_| ()),
        };
    }
}

struct CommitJob {
    rows: Vec<NewReceipt>,
    now: u64,
    admission: Option<Admission>,
    reply: ReplyTo,
}

/// Counters of a [`GroupCommit`] writer.
#[derive(Debug, Default)]
pub struct GroupCommitStats {
    /// Submissions committed (or failed).
    pub jobs: AtomicU64,
    /// SQLite transactions committed for them.
    pub transactions: AtomicU64,
}

/// Group commit (issue 7): a writer thread takes the receipt inserts of concurrent requests
/// from a queue, writes everything queued (up to [`MAX_GROUP_ROWS`] receipts) in one SQLite
/// transaction — one fsync under [`Durability::Full`] — and answers each submission only after
/// that commit, so "acknowledged" still means "durably stored".
///
/// If a group's transaction fails, each of its submissions is retried alone in its own
/// transaction, so one bad submission cannot fail the others. Dropping the handle stops the
/// thread after it drained the queue.
pub struct GroupCommit {
    jobs: Mutex<Option<std::sync::mpsc::Sender<CommitJob>>>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
    stats: Arc<GroupCommitStats>,
}

impl GroupCommit {
    /// Starts the writer thread over `store`.
    ///
    /// Errors: the OS refused to start the thread.
    pub fn start(store: Arc<Store>) -> std::io::Result<Self> {
        let (tx, rx) = std::sync::mpsc::channel::<CommitJob>();
        let stats = Arc::new(GroupCommitStats::default());
        let st = stats.clone();
        let thread = std::thread::Builder::new()
            .name("opg-group-commit".into())
            .spawn(move || writer_loop(&store, &rx, &st))?;
        Ok(GroupCommit {
            jobs: Mutex::new(Some(tx)),
            thread: Mutex::new(Some(thread)),
            stats,
        })
    }

    /// Queues `rows` (received at `now`, unix seconds) for the next group. The returned
    /// receiver yields the outcomes after the commit (`.await` it, or `blocking_recv` outside
    /// an async context); it yields an error if the writer stopped.
    pub fn submit(&self, rows: Vec<NewReceipt>, now: u64) -> CommitReply {
        self.submit_admitted(rows, now, None)
    }

    /// [`GroupCommit::submit`] with an [`Admission`]: the writer decides, in commit order, which
    /// new receipts fit the limits ([`Store::insert_admitted`]).
    pub fn submit_admitted(
        &self,
        rows: Vec<NewReceipt>,
        now: u64,
        admission: Option<Admission>,
    ) -> CommitReply {
        let (reply, rx) = tokio::sync::oneshot::channel();
        self.enqueue(CommitJob {
            rows,
            now,
            admission,
            reply: ReplyTo::Async(reply),
        });
        rx
    }

    /// Queues `rows` and blocks until their group committed (for threads outside async code;
    /// safe anywhere, it never enters a runtime).
    ///
    /// Errors: the insert failed, or [`StoreError::WriterStopped`].
    pub fn commit_blocking(&self, rows: Vec<NewReceipt>, now: u64) -> CommitResult {
        self.commit_blocking_admitted(rows, now, None)
    }

    /// [`GroupCommit::commit_blocking`] with an [`Admission`].
    ///
    /// Errors: the insert failed, or [`StoreError::WriterStopped`].
    pub fn commit_blocking_admitted(
        &self,
        rows: Vec<NewReceipt>,
        now: u64,
        admission: Option<Admission>,
    ) -> CommitResult {
        let (reply, rx) = std::sync::mpsc::sync_channel(1);
        self.enqueue(CommitJob {
            rows,
            now,
            admission,
            reply: ReplyTo::Blocking(reply),
        });
        rx.recv().map_err(|_| StoreError::WriterStopped)?
    }

    fn enqueue(&self, job: CommitJob) {
        let guard = self.jobs.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(tx) = guard.as_ref() {
            // a send error means the writer is gone: the dropped reply tells the caller
            let _ = tx.send(job);
        }
    }

    /// The writer's counters.
    pub fn stats(&self) -> &GroupCommitStats {
        &self.stats
    }
}

impl Drop for GroupCommit {
    fn drop(&mut self) {
        self.jobs.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(t) = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = t.join();
        }
    }
}

fn writer_loop(store: &Store, rx: &std::sync::mpsc::Receiver<CommitJob>, stats: &GroupCommitStats) {
    let mut carry: Option<CommitJob> = None;
    loop {
        let first = match carry.take() {
            Some(j) => j,
            None => match rx.recv() {
                Ok(j) => j,
                Err(_) => return,
            },
        };
        let mut rows = first.rows.len();
        let mut group = vec![first];
        while rows < MAX_GROUP_ROWS {
            match rx.try_recv() {
                Ok(j) if rows + j.rows.len() > MAX_GROUP_ROWS => {
                    carry = Some(j);
                    break;
                }
                Ok(j) => {
                    rows += j.rows.len();
                    group.push(j);
                }
                Err(_) => break,
            }
        }
        let parts: Vec<(&[NewReceipt], u64, Option<&Admission>)> = group
            .iter()
            .map(|j| (j.rows.as_slice(), j.now, j.admission.as_ref()))
            .collect();
        let result = store.insert_admitted(&parts);
        drop(parts);
        inc(&stats.jobs, group.len() as u64);
        match result {
            Ok(outcomes) => {
                inc(&stats.transactions, 1);
                for (job, out) in group.into_iter().zip(outcomes) {
                    job.reply.send(Ok(out));
                }
            }
            Err(e) if group.len() == 1 => {
                if let Some(job) = group.pop() {
                    job.reply.send(Err(e));
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, jobs = group.len(), "group commit failed; committing its requests one by one");
                for job in group {
                    let r = store
                        .insert_admitted(&[(&job.rows, job.now, job.admission.as_ref())])
                        .map(|mut o| o.pop().unwrap_or_default());
                    if r.is_ok() {
                        inc(&stats.transactions, 1);
                    }
                    job.reply.send(r);
                }
            }
        }
    }
}

fn inc(c: &AtomicU64, n: u64) {
    c.fetch_add(n, Ordering::Relaxed);
}

fn get_state(tx: &Transaction<'_>, key: &ReceiptKey) -> rusqlite::Result<Option<ReceiptState>> {
    tx.query_row(
        "SELECT status, tx_hash, reason FROM receipts WHERE payer = ?1 AND nonce = ?2",
        params![key.payer, key.nonce],
        |r| {
            let s: String = r.get(0)?;
            Ok(state_of(&s, r.get(1)?, r.get(2)?))
        },
    )
    .optional()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(i: u32, epoch: u64) -> NewReceipt {
        NewReceipt {
            key: ReceiptKey::new("0xAA", &format!("0x{i:064x}")),
            epoch,
            node_id: "n1".into(),
            model_id: "m".into(),
            value_micro_usd: 1000 + u128::from(i),
            raw: format!("{{\"i\":{i}}}"),
        }
    }

    #[test]
    fn insert_is_idempotent_on_payer_nonce() {
        let s = Store::in_memory().unwrap();
        let out = s.insert_receipts(&[rec(1, 0), rec(2, 0)], 10).unwrap();
        assert_eq!(out, vec![InsertOutcome::Inserted, InsertOutcome::Inserted]);
        // the same receipt again, also twice within one request
        let out = s
            .insert_receipts(&[rec(1, 0), rec(3, 0), rec(3, 0)], 11)
            .unwrap();
        assert_eq!(
            out,
            vec![
                InsertOutcome::Duplicate(ReceiptState::Pending),
                InsertOutcome::Inserted,
                InsertOutcome::Duplicate(ReceiptState::Pending)
            ]
        );
        assert_eq!(s.counts(None).unwrap().pending, 3);
        // payer/nonce are normalized to lowercase
        let got = s
            .get_receipt(&ReceiptKey::new("0xaa", &format!("0x{:064X}", 1)))
            .unwrap()
            .unwrap();
        assert_eq!(got.value_micro_usd, 1001);
        assert_eq!(got.received_at, 10);
    }

    #[test]
    fn batch_lifecycle_pending_submitted_accepted_rejected() {
        let s = Store::in_memory().unwrap();
        s.insert_receipts(&[rec(1, 0), rec(2, 0), rec(3, 1)], 1)
            .unwrap();
        assert_eq!(s.pending_epochs().unwrap(), vec![0, 1]);
        let batch: Vec<_> = s
            .pending_in_epoch(0, 10)
            .unwrap()
            .into_iter()
            .map(|r| r.key)
            .collect();
        assert_eq!(batch.len(), 2);
        let id = s.prepare_batch(0, &batch, b"tx", "HASH", 2).unwrap();
        assert_eq!(
            s.get_receipt(&batch[0]).unwrap().unwrap().state,
            ReceiptState::Submitted {
                tx_hash: "HASH".into()
            }
        );
        assert_eq!(s.pending_epochs().unwrap(), vec![1]);
        assert_eq!(s.unrecorded_batches().unwrap().len(), 1);
        s.record_batch(
            id,
            5,
            &[
                (batch[0].clone(), Verdict::Accepted),
                (batch[1].clone(), Verdict::Rejected("node_jailed".into())),
            ],
        )
        .unwrap();
        assert_eq!(
            s.get_receipt(&batch[0]).unwrap().unwrap().state,
            ReceiptState::Accepted {
                tx_hash: Some("HASH".into())
            }
        );
        assert_eq!(
            s.get_receipt(&batch[1]).unwrap().unwrap().state,
            ReceiptState::Rejected {
                reason: "node_jailed".into(),
                tx_hash: Some("HASH".into())
            }
        );
        assert!(s.unrecorded_batches().unwrap().is_empty());
        // recording twice is refused: the batch is no longer prepared
        assert!(matches!(
            s.record_batch(id, 5, &[]),
            Err(StoreError::BatchState { .. })
        ));
        // an accepted receipt posted again is a duplicate with its state
        let dup = s.insert_receipts(&[rec(1, 0)], 9).unwrap();
        assert!(matches!(
            dup[0],
            InsertOutcome::Duplicate(ReceiptState::Accepted { .. })
        ));
        let c = s.counts(Some(0)).unwrap();
        assert_eq!(
            (c.pending, c.submitted, c.accepted, c.rejected),
            (0, 0, 1, 1)
        );
        assert_eq!(c.accepted_value_micro_usd, 1001);
    }

    #[test]
    fn failed_batch_and_reconciliation_requeue() {
        let s = Store::in_memory().unwrap();
        s.insert_receipts(&[rec(1, 0), rec(2, 0)], 1).unwrap();
        let keys: Vec<_> = s
            .pending_in_epoch(0, 10)
            .unwrap()
            .into_iter()
            .map(|r| r.key)
            .collect();
        let id = s.prepare_batch(0, &keys, b"tx", "H1", 2).unwrap();
        s.fail_batch(id, "out of gas").unwrap();
        assert_eq!(s.counts(None).unwrap().pending, 2);
        let id2 = s.prepare_batch(0, &keys, b"tx", "H2", 3).unwrap();
        let open = s.unrecorded_batches().unwrap();
        assert_eq!(open.len(), 1);
        assert_eq!(open[0].id, id2);
        assert_eq!(open[0].keys, keys);
        s.reconcile_batch(
            id2,
            &[
                (keys[0].clone(), Some(true)),
                (keys[1].clone(), Some(false)),
            ],
        )
        .unwrap();
        let c = s.counts(None).unwrap();
        assert_eq!((c.pending, c.submitted, c.accepted), (1, 0, 1));
        assert!(s.unrecorded_batches().unwrap().is_empty());
    }

    #[test]
    fn expiry_and_finalized_epochs() {
        let s = Store::in_memory().unwrap();
        s.insert_receipts(&[rec(1, 0)], 1).unwrap();
        assert_eq!(s.expire_pending(0, "epoch_closed").unwrap(), 1);
        assert_eq!(s.counts(Some(0)).unwrap().rejected, 1);
        assert_eq!(s.finalized(0).unwrap(), None);
        s.mark_finalized(0, Some("TX"), 5).unwrap();
        s.mark_finalized(0, None, 6).unwrap();
        assert_eq!(s.finalized(0).unwrap(), Some(Some("TX".into())));
    }

    #[test]
    fn epochs_without_finalize_record_are_listed_in_range() {
        let s = Store::in_memory().unwrap();
        s.insert_receipts(&[rec(1, 0), rec(2, 0), rec(3, 2), rec(4, 5), rec(5, 9)], 1)
            .unwrap();
        s.mark_finalized(2, Some("TX"), 5).unwrap();
        // epoch 2 has a record, 9 is outside the range, duplicates collapse
        assert_eq!(
            s.epochs_without_finalize_record(0, 9, 10).unwrap(),
            vec![0, 5]
        );
        assert_eq!(s.epochs_without_finalize_record(0, 9, 1).unwrap(), vec![0]);
        assert_eq!(
            s.epochs_without_finalize_record(1, 10, 10).unwrap(),
            vec![5, 9]
        );
        s.mark_finalized(5, None, 6).unwrap();
        assert_eq!(
            s.epochs_without_finalize_record(1, 10, 10).unwrap(),
            vec![9]
        );
        assert!(s
            .epochs_without_finalize_record(10, 10, 10)
            .unwrap()
            .is_empty());
    }

    #[test]
    fn data_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("k.db");
        Store::open(&p, Durability::Full)
            .unwrap()
            .insert_receipts(&[rec(7, 2)], 1)
            .unwrap();
        let s = Store::open(&p, Durability::Full).unwrap();
        assert_eq!(s.pending_epochs().unwrap(), vec![2]);
    }

    /// The writer answers a submission only once its rows are committed: at the moment the
    /// answer arrives, a second connection to the same file already sees them.
    #[test]
    fn group_commit_acks_only_after_commit() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("k.db");
        let store = Arc::new(Store::open(&p, Durability::Full).unwrap());
        let other = Store::open(&p, Durability::Full).unwrap();
        let gc = GroupCommit::start(store.clone()).unwrap();
        for round in 0..20u32 {
            let rows = vec![rec(round * 2, 0), rec(round * 2 + 1, 0)];
            let out = if round % 2 == 0 {
                gc.submit(rows.clone(), 5).blocking_recv().unwrap().unwrap()
            } else {
                gc.commit_blocking(rows.clone(), 5).unwrap()
            };
            assert_eq!(out, vec![InsertOutcome::Inserted, InsertOutcome::Inserted]);
            for r in &rows {
                assert!(
                    other.get_receipt(&r.key).unwrap().is_some(),
                    "acked before commit"
                );
            }
        }
        // a repeat is answered as a duplicate with its state
        let out = gc
            .submit(vec![rec(0, 0)], 6)
            .blocking_recv()
            .unwrap()
            .unwrap();
        assert_eq!(out, vec![InsertOutcome::Duplicate(ReceiptState::Pending)]);
    }

    /// Submissions queued while a transaction runs are committed together, each answered
    /// with its own outcomes (duplicates across submissions resolved in queue order).
    #[test]
    fn group_commit_groups_queued_submissions() {
        let store = Arc::new(Store::in_memory().unwrap());
        let gc = GroupCommit::start(store.clone()).unwrap();
        let replies = {
            // hold the connection: the writer cannot commit, submissions pile up
            let _hold = store.conn.lock().unwrap();
            (0..10u32)
                .map(|i| gc.submit(vec![rec(i, 0), rec(100, 0)], u64::from(i)))
                .collect::<Vec<_>>()
        };
        let outs: Vec<_> = replies
            .into_iter()
            .map(|r| r.blocking_recv().unwrap().unwrap())
            .collect();
        assert_eq!(
            outs[0],
            vec![InsertOutcome::Inserted, InsertOutcome::Inserted]
        );
        for o in &outs[1..] {
            assert_eq!(
                o,
                &vec![
                    InsertOutcome::Inserted,
                    InsertOutcome::Duplicate(ReceiptState::Pending)
                ]
            );
        }
        assert_eq!(store.counts(None).unwrap().pending, 11);
        assert_eq!(gc.stats().jobs.load(Ordering::Relaxed), 10);
        let txs = gc.stats().transactions.load(Ordering::Relaxed);
        assert!(txs <= 2, "10 queued submissions took {txs} transactions");
        // received_at is the submission's own
        let r = store.get_receipt(&rec(7, 0).key).unwrap().unwrap();
        assert_eq!(r.received_at, 7);
    }

    /// When a group's transaction fails, its submissions are retried one by one: only the bad
    /// one fails, with its own error, and nothing of it is stored.
    #[test]
    fn group_commit_isolates_a_failing_submission() {
        let store = Arc::new(Store::in_memory().unwrap());
        store
            .with(|c| {
                c.execute_batch(
                    "CREATE TRIGGER refuse BEFORE INSERT ON receipts WHEN NEW.node_id = 'bad'
                     BEGIN SELECT RAISE(ABORT, 'refused node'); END;",
                )?;
                Ok(())
            })
            .unwrap();
        let gc = GroupCommit::start(store.clone()).unwrap();
        let replies = {
            let _hold = store.conn.lock().unwrap();
            let mut bad = rec(2, 0);
            bad.node_id = "bad".into();
            vec![
                gc.submit(vec![rec(1, 0)], 1),
                gc.submit(vec![bad, rec(3, 0)], 1),
                gc.submit(vec![rec(4, 0)], 1),
            ]
        };
        let outs: Vec<_> = replies
            .into_iter()
            .map(|r| r.blocking_recv().unwrap())
            .collect();
        assert_eq!(outs[0].as_ref().unwrap(), &vec![InsertOutcome::Inserted]);
        let e = outs[1].as_ref().unwrap_err();
        assert!(e.to_string().contains("refused node"), "{e}");
        assert_eq!(outs[2].as_ref().unwrap(), &vec![InsertOutcome::Inserted]);
        assert!(store.get_receipt(&rec(3, 0).key).unwrap().is_none());
        assert_eq!(store.counts(None).unwrap().pending, 2);
    }

    /// A submission after the writer stopped is answered with an error, not left hanging.
    #[test]
    fn group_commit_after_stop_errors() {
        let store = Arc::new(Store::in_memory().unwrap());
        let gc = GroupCommit::start(store).unwrap();
        gc.jobs.lock().unwrap().take();
        assert!(gc.submit(vec![rec(1, 0)], 1).blocking_recv().is_err());
        assert!(matches!(
            gc.commit_blocking(vec![rec(1, 0)], 1),
            Err(StoreError::WriterStopped)
        ));
    }

    /// The in-memory backlog follows every write that moves a receipt in or out of
    /// `pending`/`submitted`, and is read back from the database at open.
    #[test]
    fn backlog_follows_inserts_batches_reconciliation_and_expiry() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.db");
        let s = Store::open(&path, Durability::Normal).unwrap();
        assert!(s.backlog().is_empty());
        s.insert_receipts(&[rec(1, 0), rec(2, 0), rec(3, 1), rec(1, 0)], 1)
            .unwrap();
        assert_eq!(s.backlog(), [(0, 2), (1, 1)].into());
        let keys: Vec<_> = [1, 2].iter().map(|i| rec(*i, 0).key).collect();
        // submitted is still backlog
        let id = s.prepare_batch(0, &keys, b"tx", "H", 2).unwrap();
        assert_eq!(s.backlog(), [(0, 2), (1, 1)].into());
        s.record_batch(
            id,
            3,
            &[
                (keys[0].clone(), Verdict::Accepted),
                (keys[1].clone(), Verdict::Rejected("node_jailed".into())),
            ],
        )
        .unwrap();
        assert_eq!(s.backlog(), [(1, 1)].into());
        // a failed tx puts its receipts back to pending: still backlog
        let k3 = vec![rec(3, 1).key];
        let id = s.prepare_batch(1, &k3, b"tx", "H2", 4).unwrap();
        s.fail_batch(id, "out of gas").unwrap();
        assert_eq!(s.backlog(), [(1, 1)].into());
        // reconciliation: consumed -> accepted leaves the backlog
        let id = s.prepare_batch(1, &k3, b"tx", "H3", 5).unwrap();
        s.reconcile_batch(id, &[(k3[0].clone(), Some(true))])
            .unwrap();
        assert!(s.backlog().is_empty());
        s.insert_receipts(&[rec(4, 2), rec(5, 2), rec(6, 3)], 6)
            .unwrap();
        assert_eq!(s.expire_pending(2, "epoch_closed").unwrap(), 2);
        assert_eq!(s.backlog(), [(3, 1)].into());
        drop(s);
        let s = Store::open(&path, Durability::Normal).unwrap();
        assert_eq!(s.backlog(), [(3, 1)].into());
    }

    /// Admission: a new receipt is stored only while the backlog of its epoch and the earlier
    /// ones stays within the limit (inserts earlier in the same transaction count); a receipt
    /// already stored is a duplicate whatever the limit; epochs without a limit admit all.
    #[test]
    fn admission_defers_new_receipts_beyond_the_limit_only() {
        let s = Store::in_memory().unwrap();
        s.insert_receipts(&[rec(1, 0), rec(2, 0), rec(3, 1)], 1)
            .unwrap();
        // epoch 1 may have at most 5 receipts of epochs 0..=1 waiting: 3 are, 2 more fit
        let limits: Admission = [(1, 5)].into();
        let rows = [rec(4, 1), rec(5, 1), rec(6, 1), rec(1, 0), rec(7, 2)];
        let out = s.insert_admitted(&[(&rows, 2, Some(&limits))]).unwrap();
        assert_eq!(
            out[0],
            vec![
                InsertOutcome::Inserted,
                InsertOutcome::Inserted,
                InsertOutcome::Deferred { excess: 1 },
                InsertOutcome::Duplicate(ReceiptState::Pending),
                InsertOutcome::Inserted,
            ]
        );
        assert!(s.get_receipt(&rec(6, 1).key).unwrap().is_none());
        assert_eq!(s.backlog(), [(0, 2), (1, 3), (2, 1)].into());
        // epoch 0's backlog counts against epoch 1 (it is submitted first), not the other way
        let tight: Admission = [(0, 2), (1, 5)].into();
        let out = s
            .insert_admitted(&[(&[rec(8, 0), rec(9, 1)], 3, Some(&tight))])
            .unwrap();
        assert_eq!(
            out[0],
            vec![
                InsertOutcome::Deferred { excess: 1 },
                InsertOutcome::Deferred { excess: 1 },
            ]
        );
        // over the limit, a stored receipt is a duplicate (with its state), never deferred
        let zero: Admission = [(1, 0)].into();
        let out = s
            .insert_admitted(&[(&[rec(4, 1)], 4, Some(&zero))])
            .unwrap();
        assert_eq!(
            out[0],
            vec![InsertOutcome::Duplicate(ReceiptState::Pending)]
        );
        // a group commit carries the limits to the writer
        let store = Arc::new(s);
        let gc = GroupCommit::start(store.clone()).unwrap();
        let out = gc
            .commit_blocking_admitted(vec![rec(10, 1), rec(11, 5)], 5, Some(zero))
            .unwrap();
        assert_eq!(
            out,
            vec![
                InsertOutcome::Deferred { excess: 6 },
                InsertOutcome::Inserted
            ]
        );
        assert_eq!(store.backlog(), [(0, 2), (1, 3), (2, 1), (5, 1)].into());
    }

    #[test]
    fn the_measured_pace_survives_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.db");
        let s = Store::open(&path, Durability::Normal).unwrap();
        assert_eq!(s.pace().unwrap(), None);
        let p = |secs_per_tx, busy| PaceRecord {
            secs_per_tx,
            last_batch_at: 1_765_000_000.125,
            busy,
        };
        s.save_pace(&p(0.25, false)).unwrap();
        s.save_pace(&p(0.375, true)).unwrap();
        drop(s);
        let s = Store::open(&path, Durability::Normal).unwrap();
        assert_eq!(s.pace().unwrap(), Some(p(0.375, true)));
        // a value this version cannot read is no pace, not an error
        for bad in ["", "0.5", "NaN 1 1", "-1 1 0", "x y z"] {
            assert_eq!(PaceRecord::parse(bad), None, "{bad}");
        }
    }
}
