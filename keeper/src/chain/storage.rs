//! A `cosmwasm_std::Storage` for the embedded chain, persisted in SQLite.
//!
//! * **Persisted** ([`ChainStorage::open`]): reads go through to the SQLite table `kv` (point
//!   lookups and paged range scans), under an overlay of the current tx's uncommitted writes
//!   (the dirty set). Nothing proportional to the chain state is held in memory: the consumed
//!   nonces grow with every receipt ever counted, so loading them would make the keeper's memory
//!   grow with its history (issue 7). SQLite's own page cache is bounded (`cache_size`).
//! * **In memory** ([`ChainStorage::in_memory`], tests and `opg simulate`): a `BTreeMap`.
//!
//! Writes go to the overlay; [`ChainStorage::flush`] writes every dirty key together with the
//! chain's metadata (height, time, deployment) in **one** SQLite transaction. The embedded chain
//! flushes after each committed tx, so a kill -9 either sees a tx's writes completely or not at
//! all. [`ChainStorage::discard_dirty`] drops the overlay (the database still holds the last
//! flushed state).
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::ops::Bound;
use std::path::Path;

use cosmwasm_std::{Order, Record, Storage};
use rusqlite::{params, Connection, OptionalExtension};

/// An iterator over overlay entries (`None` = removed).
type OverlayIter<'a> = Box<dyn Iterator<Item = (&'a Vec<u8>, &'a Option<Vec<u8>>)> + 'a>;

/// Rows fetched from SQLite per page of a range scan.
const RANGE_PAGE: usize = 256;
/// SQLite page cache of the chain database, KiB (negative `cache_size` = KiB).
const CACHE_KIB: i64 = 16 * 1024;

/// Storage of the embedded chain: in memory, or read through a SQLite file.
pub struct ChainStorage {
    /// The whole state (in memory) or the uncommitted overlay (persisted; `None` = removed).
    overlay: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    conn: Option<Connection>,
    /// The first error a read hit (`Storage::get` cannot return one); reported by the next
    /// [`ChainStorage::flush`], which then refuses to commit.
    read_error: RefCell<Option<rusqlite::Error>>,
}

impl ChainStorage {
    /// A storage that lives in memory only (tests, `opg simulate`).
    pub fn in_memory() -> Self {
        ChainStorage {
            overlay: BTreeMap::new(),
            conn: None,
            read_error: RefCell::new(None),
        }
    }

    /// Opens (creating if needed) the SQLite file at `path`. Loads nothing: reads go through.
    /// WAL journal, `synchronous=FULL`: a flushed tx survives power loss.
    pub fn open(path: &Path) -> rusqlite::Result<Self> {
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "cache_size", -CACHE_KIB)?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS kv (k BLOB PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID;
             CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);",
        )?;
        Ok(ChainStorage {
            overlay: BTreeMap::new(),
            conn: Some(conn),
            read_error: RefCell::new(None),
        })
    }

    /// Whether this storage is persisted.
    pub fn is_persistent(&self) -> bool {
        self.conn.is_some()
    }

    /// Keys written since the last flush (persisted) or held (in memory).
    pub fn overlay_len(&self) -> usize {
        self.overlay.len()
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
    ///
    /// Errors: a read error seen since the last flush (the tx may have run on a wrong view of the
    /// state, so it is not committed), or the SQLite failure.
    pub fn flush(&mut self, meta: &[(&str, String)]) -> rusqlite::Result<()> {
        let Some(conn) = self.conn.as_mut() else {
            return Ok(());
        };
        if let Some(e) = self.read_error.borrow_mut().take() {
            return Err(e);
        }
        let tx = conn.transaction()?;
        {
            let mut put = tx.prepare_cached("INSERT OR REPLACE INTO kv (k, v) VALUES (?1, ?2)")?;
            let mut del = tx.prepare_cached("DELETE FROM kv WHERE k = ?1")?;
            for (k, v) in &self.overlay {
                match v {
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
        self.overlay.clear();
        Ok(())
    }

    /// Forgets unflushed writes (used after a failed flush): the database holds the last flushed
    /// state. In memory there is nothing to go back to, so this is a no-op there.
    pub fn discard_dirty(&mut self) -> rusqlite::Result<()> {
        if self.conn.is_some() {
            self.overlay.clear();
            self.read_error.borrow_mut().take();
        }
        Ok(())
    }

    fn note_error(&self, e: rusqlite::Error) {
        tracing::error!(error = %e, "chain storage read failed");
        let mut slot = self.read_error.borrow_mut();
        if slot.is_none() {
            *slot = Some(e);
        }
    }

    fn db_get(conn: &Connection, key: &[u8]) -> rusqlite::Result<Option<Vec<u8>>> {
        conn.prepare_cached("SELECT v FROM kv WHERE k = ?1")?
            .query_row([key], |r| r.get(0))
            .optional()
    }
}

/// One page of a range scan of the `kv` table, after `after` (exclusive) or from the start bound.
fn db_page(
    conn: &Connection,
    lo: &Bound<Vec<u8>>,
    hi: &Bound<Vec<u8>>,
    order: Order,
) -> rusqlite::Result<Vec<Record>> {
    let (lo_sql, lo_v) = match lo {
        Bound::Included(v) => ("k >= ?1", Some(v)),
        Bound::Excluded(v) => ("k > ?1", Some(v)),
        Bound::Unbounded => ("?1 IS NULL", None),
    };
    let (hi_sql, hi_v) = match hi {
        Bound::Included(v) => ("k <= ?2", Some(v)),
        Bound::Excluded(v) => ("k < ?2", Some(v)),
        Bound::Unbounded => ("?2 IS NULL", None),
    };
    let dir = match order {
        Order::Ascending => "ASC",
        Order::Descending => "DESC",
    };
    let sql = format!("SELECT k, v FROM kv WHERE {lo_sql} AND {hi_sql} ORDER BY k {dir} LIMIT ?3");
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![lo_v, hi_v, RANGE_PAGE as i64], |r| {
        Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, Vec<u8>>(1)?))
    })?;
    rows.collect()
}

/// A lazy range over the database (paged) merged with the overlay (which wins on equal keys).
struct MergedRange<'a, I: Iterator<Item = (&'a Vec<u8>, &'a Option<Vec<u8>>)>> {
    storage: &'a ChainStorage,
    conn: &'a Connection,
    order: Order,
    lo: Bound<Vec<u8>>,
    hi: Bound<Vec<u8>>,
    page: std::vec::IntoIter<Record>,
    db_done: bool,
    db_head: Option<Record>,
    overlay: std::iter::Peekable<I>,
}

impl<'a, I: Iterator<Item = (&'a Vec<u8>, &'a Option<Vec<u8>>)>> MergedRange<'a, I> {
    fn next_db(&mut self) -> Option<Record> {
        if let Some(r) = self.page.next() {
            return Some(r);
        }
        if self.db_done {
            return None;
        }
        match db_page(self.conn, &self.lo, &self.hi, self.order) {
            Ok(rows) => {
                if rows.len() < RANGE_PAGE {
                    self.db_done = true;
                }
                if let Some((last, _)) = rows.last() {
                    match self.order {
                        Order::Ascending => self.lo = Bound::Excluded(last.clone()),
                        Order::Descending => self.hi = Bound::Excluded(last.clone()),
                    }
                }
                self.page = rows.into_iter();
                self.page.next()
            }
            Err(e) => {
                self.storage.note_error(e);
                self.db_done = true;
                None
            }
        }
    }
}

/// Whether `a` comes before `b` in a scan in `order`.
fn before(order: Order, a: &[u8], b: &[u8]) -> bool {
    match order {
        Order::Ascending => a < b,
        Order::Descending => a > b,
    }
}

impl<'a, I: Iterator<Item = (&'a Vec<u8>, &'a Option<Vec<u8>>)>> Iterator for MergedRange<'a, I> {
    type Item = Record;

    fn next(&mut self) -> Option<Record> {
        loop {
            if self.db_head.is_none() {
                self.db_head = self.next_db();
            }
            let order = self.order;
            let take_overlay = match (&self.db_head, self.overlay.peek()) {
                (None, None) => return None,
                (Some(_), None) => false,
                (None, Some(_)) => true,
                (Some((dk, _)), Some((ok, _))) => !before(order, dk, ok),
            };
            if take_overlay {
                let (k, v) = self.overlay.next()?;
                if self.db_head.as_ref().is_some_and(|(dk, _)| dk == k) {
                    // the overlay shadows the stored value
                    self.db_head = None;
                }
                match v {
                    Some(v) => return Some((k.clone(), v.clone())),
                    None => continue,
                }
            }
            return self.db_head.take();
        }
    }
}

impl Storage for ChainStorage {
    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        if let Some(v) = self.overlay.get(key) {
            return v.clone();
        }
        let conn = self.conn.as_ref()?;
        Self::db_get(conn, key).unwrap_or_else(|e| {
            self.note_error(e);
            None
        })
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
        let overlay = self.overlay.range((lo.clone(), hi.clone()));
        let Some(conn) = self.conn.as_ref() else {
            let live = |(k, v): (&Vec<u8>, &Option<Vec<u8>>)| v.clone().map(|v| (k.clone(), v));
            return match order {
                Order::Ascending => Box::new(overlay.filter_map(live)),
                Order::Descending => Box::new(overlay.rev().filter_map(live)),
            };
        };
        let overlay: OverlayIter<'a> = match order {
            Order::Ascending => Box::new(overlay),
            Order::Descending => Box::new(overlay.rev()),
        };
        Box::new(MergedRange {
            storage: self,
            conn,
            order,
            lo,
            hi,
            page: Vec::new().into_iter(),
            db_done: false,
            db_head: None,
            overlay: overlay.peekable(),
        })
    }

    fn set(&mut self, key: &[u8], value: &[u8]) {
        self.overlay.insert(key.to_vec(), Some(value.to_vec()));
    }

    fn remove(&mut self, key: &[u8]) {
        if self.conn.is_some() {
            self.overlay.insert(key.to_vec(), None);
        } else {
            self.overlay.remove(key);
        }
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

    /// The persisted storage behaves exactly like a `BTreeMap` model under a random sequence of
    /// sets, removes and flushes, for point reads and for ranges in both orders crossing several
    /// SQLite pages, with writes in the overlay shadowing stored values and deletions.
    #[test]
    fn read_through_matches_a_model_across_pages_and_overlay() {
        use rand::{Rng, SeedableRng};
        let dir = tempfile::tempdir().unwrap();
        let mut s = ChainStorage::open(&dir.path().join("m.db")).unwrap();
        let mut model: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let key = |i: u32| format!("k{:05}", i).into_bytes();
        for round in 0..6 {
            for _ in 0..700 {
                let k = key(rng.gen_range(0..2000));
                if rng.gen_bool(0.25) {
                    s.remove(&k);
                    model.remove(&k);
                } else {
                    let v = format!("v{}", rng.gen::<u32>()).into_bytes();
                    s.set(&k, &v);
                    model.insert(k, v);
                }
            }
            // check with a dirty overlay over stored state, then flush every other round
            for _ in 0..50 {
                let k = key(rng.gen_range(0..2000));
                assert_eq!(s.get(&k), model.get(&k).cloned());
            }
            let all: Vec<_> = model.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            assert_eq!(
                s.range(None, None, Order::Ascending).collect::<Vec<_>>(),
                all
            );
            let rev: Vec<_> = all.iter().rev().cloned().collect();
            assert_eq!(
                s.range(None, None, Order::Descending).collect::<Vec<_>>(),
                rev
            );
            let (a, b) = (key(300), key(1500));
            let mid: Vec<_> = model
                .range(a.clone()..b.clone())
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            assert_eq!(
                s.range(Some(&a), Some(&b), Order::Ascending)
                    .collect::<Vec<_>>(),
                mid
            );
            let mid_rev: Vec<_> = mid.iter().rev().cloned().collect();
            assert_eq!(
                s.range(Some(&a), Some(&b), Order::Descending)
                    .collect::<Vec<_>>(),
                mid_rev
            );
            if round % 2 == 1 {
                s.flush(&[]).unwrap();
                assert_eq!(s.overlay_len(), 0);
            }
        }
        s.flush(&[]).unwrap();
        drop(s);
        let s = ChainStorage::open(&dir.path().join("m.db")).unwrap();
        let all: Vec<_> = model.into_iter().collect();
        assert_eq!(
            s.range(None, None, Order::Ascending).collect::<Vec<_>>(),
            all
        );
    }

    /// Nothing is loaded at open: the overlay is empty however large the stored state is.
    #[test]
    fn open_loads_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.db");
        {
            let mut s = ChainStorage::open(&path).unwrap();
            for i in 0..5000u32 {
                s.set(&i.to_be_bytes(), b"consumed");
            }
            s.flush(&[]).unwrap();
        }
        let s = ChainStorage::open(&path).unwrap();
        assert_eq!(s.overlay_len(), 0);
        assert_eq!(s.get(&4999u32.to_be_bytes()), Some(b"consumed".to_vec()));
        assert_eq!(s.range(None, None, Order::Ascending).count(), 5000);
    }
}
