//! A `cosmwasm_std::Storage` for the embedded chain, persisted in SQLite.
//!
//! The whole key space is held in a `BTreeMap` (the embedded chain's state is small: contract
//! state, bank balances and consumed nonces) and loaded at open. Writes go to the map and are
//! remembered as dirty; [`ChainStorage::flush`] writes every dirty key together with the chain's
//! metadata (height, time, deployment) in **one** SQLite transaction. The embedded chain flushes
//! after each committed tx, so a kill -9 either sees a tx's writes completely or not at all.
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;
use std::path::Path;

use cosmwasm_std::{Order, Record, Storage};
use rusqlite::{params, Connection, OptionalExtension};

/// Storage of the embedded chain: in memory, optionally persisted to a SQLite file.
pub struct ChainStorage {
    data: BTreeMap<Vec<u8>, Vec<u8>>,
    dirty: BTreeSet<Vec<u8>>,
    conn: Option<Connection>,
}

impl ChainStorage {
    /// A storage that lives in memory only (tests, `opg simulate`).
    pub fn in_memory() -> Self {
        ChainStorage {
            data: BTreeMap::new(),
            dirty: BTreeSet::new(),
            conn: None,
        }
    }

    /// Opens (creating if needed) the SQLite file at `path` and loads its state.
    /// WAL journal, `synchronous=FULL`: a flushed tx survives power loss.
    pub fn open(path: &Path) -> rusqlite::Result<Self> {
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS kv (k BLOB PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID;
             CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);",
        )?;
        let mut data = BTreeMap::new();
        {
            let mut stmt = conn.prepare("SELECT k, v FROM kv")?;
            let rows = stmt.query_map([], |r| {
                Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, Vec<u8>>(1)?))
            })?;
            for row in rows {
                let (k, v) = row?;
                data.insert(k, v);
            }
        }
        Ok(ChainStorage {
            data,
            dirty: BTreeSet::new(),
            conn: Some(conn),
        })
    }

    /// Whether this storage is persisted.
    pub fn is_persistent(&self) -> bool {
        self.conn.is_some()
    }

    /// A metadata value written by an earlier [`ChainStorage::flush`].
    pub fn meta(&self, key: &str) -> rusqlite::Result<Option<String>> {
        match &self.conn {
            None => Ok(None),
            Some(c) => c
                .query_row("SELECT v FROM meta WHERE k = ?1", [key], |r| r.get(0))
                .optional(),
        }
    }

    /// Writes the dirty keys and `meta` in one SQLite transaction (no-op in memory).
    pub fn flush(&mut self, meta: &[(&str, String)]) -> rusqlite::Result<()> {
        let Some(conn) = self.conn.as_mut() else {
            self.dirty.clear();
            return Ok(());
        };
        let tx = conn.transaction()?;
        {
            let mut put = tx.prepare_cached("INSERT OR REPLACE INTO kv (k, v) VALUES (?1, ?2)")?;
            let mut del = tx.prepare_cached("DELETE FROM kv WHERE k = ?1")?;
            for k in &self.dirty {
                match self.data.get(k) {
                    Some(v) => put.execute(params![k, v])?,
                    None => del.execute(params![k])?,
                };
            }
            let mut m = tx.prepare_cached("INSERT OR REPLACE INTO meta (k, v) VALUES (?1, ?2)")?;
            for (k, v) in meta {
                m.execute(params![k, v])?;
            }
        }
        tx.commit()?;
        self.dirty.clear();
        Ok(())
    }

    /// Forgets unflushed writes by reloading them from the database (used after a failed flush).
    pub fn discard_dirty(&mut self) -> rusqlite::Result<()> {
        let Some(conn) = self.conn.as_ref() else {
            self.dirty.clear();
            return Ok(());
        };
        for k in std::mem::take(&mut self.dirty) {
            let v: Option<Vec<u8>> = conn
                .query_row("SELECT v FROM kv WHERE k = ?1", [&k], |r| r.get(0))
                .optional()?;
            match v {
                Some(v) => self.data.insert(k, v),
                None => self.data.remove(&k),
            };
        }
        Ok(())
    }
}

impl Storage for ChainStorage {
    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.data.get(key).cloned()
    }

    fn range<'a>(
        &'a self,
        start: Option<&[u8]>,
        end: Option<&[u8]>,
        order: Order,
    ) -> Box<dyn Iterator<Item = Record> + 'a> {
        let lo = start.map_or(Bound::Unbounded, |s| Bound::Included(s.to_vec()));
        let hi = end.map_or(Bound::Unbounded, |e| Bound::Excluded(e.to_vec()));
        if let (Bound::Included(s), Bound::Excluded(e)) = (&lo, &hi) {
            if s >= e {
                return Box::new(std::iter::empty());
            }
        }
        let iter = self
            .data
            .range((lo, hi))
            .map(|(k, v)| (k.clone(), v.clone()));
        match order {
            Order::Ascending => Box::new(iter),
            Order::Descending => Box::new(iter.rev()),
        }
    }

    fn set(&mut self, key: &[u8], value: &[u8]) {
        self.data.insert(key.to_vec(), value.to_vec());
        self.dirty.insert(key.to_vec());
    }

    fn remove(&mut self, key: &[u8]) {
        self.data.remove(key);
        self.dirty.insert(key.to_vec());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flushed_writes_survive_reopen_and_unflushed_do_not() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("chain.db");
        {
            let mut s = ChainStorage::open(&path).unwrap();
            s.set(b"a", b"1");
            s.set(b"b", b"2");
            s.flush(&[("height", "7".into())]).unwrap();
            s.remove(b"a");
            s.set(b"c", b"3");
            // dropped without flush: like a kill -9 in the middle of a tx
        }
        let s = ChainStorage::open(&path).unwrap();
        assert_eq!(s.get(b"a"), Some(b"1".to_vec()));
        assert_eq!(s.get(b"b"), Some(b"2".to_vec()));
        assert_eq!(s.get(b"c"), None);
        assert_eq!(s.meta("height").unwrap().as_deref(), Some("7"));
    }

    #[test]
    fn range_respects_bounds_and_order() {
        let mut s = ChainStorage::in_memory();
        for k in [b"a", b"b", b"c", b"d"] {
            s.set(k, k);
        }
        let asc: Vec<_> = s
            .range(Some(b"b"), Some(b"d"), Order::Ascending)
            .map(|(k, _)| k)
            .collect();
        assert_eq!(asc, vec![b"b".to_vec(), b"c".to_vec()]);
        let desc: Vec<_> = s
            .range(None, None, Order::Descending)
            .map(|(k, _)| k)
            .collect();
        assert_eq!(desc.first(), Some(&b"d".to_vec()));
        assert_eq!(s.range(Some(b"c"), Some(b"b"), Order::Ascending).count(), 0);
    }

    #[test]
    fn discard_dirty_restores_flushed_state() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = ChainStorage::open(&dir.path().join("c.db")).unwrap();
        s.set(b"k", b"old");
        s.flush(&[]).unwrap();
        s.set(b"k", b"new");
        s.set(b"x", b"y");
        s.discard_dirty().unwrap();
        assert_eq!(s.get(b"k"), Some(b"old".to_vec()));
        assert_eq!(s.get(b"x"), None);
    }
}
