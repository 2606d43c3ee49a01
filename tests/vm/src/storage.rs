//! A `cosmwasm_vm::Storage` over the VM's `MockStorage` that counts every operation with its
//! bytes, for the SDK KV gas of the gas report.
use std::cell::{Cell, RefCell};

use cosmwasm_std::{Order, Record};
use cosmwasm_vm::testing::MockStorage;
use cosmwasm_vm::{BackendResult, GasInfo, Storage};

use crate::gas::KvCounts;

/// `MockStorage` that counts reads, writes, removes, scans and iterator steps with key + value
/// bytes ([`KvCounts`]).
///
/// Every operation reports **no VM gas** (`GasInfo::free()`): on a chain the SDK's gas KV store
/// charges storage on the SDK gas meter, which the report adds as KV gas; the VM gas of a call is
/// then only Wasm execution and host functions.
#[derive(Debug, Default)]
pub struct CountingStorage {
    inner: MockStorage,
    // `Storage::get` takes `&self`.
    counts: Cell<KvCounts>,
    log: RefCell<Vec<LoggedOp>>,
}

/// Kind of a logged storage operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum OpKind {
    /// `db_read`.
    Read,
    /// `db_write`.
    Write,
    /// `db_remove`.
    Remove,
    /// `db_next` that returned a record.
    Next,
}

/// One storage operation: its kind, key (the record's key for `Next`) and key + value bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoggedOp {
    /// Kind.
    pub kind: OpKind,
    /// Key.
    pub key: Vec<u8>,
    /// Key + value bytes.
    pub bytes: u64,
}

impl CountingStorage {
    /// An empty storage.
    pub fn new() -> Self {
        Self::default()
    }

    /// Operations counted since creation (a monotone counter: subtract snapshots).
    pub fn counts(&self) -> KvCounts {
        self.counts.get()
    }

    /// Takes the log of operations since the last call.
    pub fn take_log(&self) -> Vec<LoggedOp> {
        std::mem::take(&mut *self.log.borrow_mut())
    }

    fn log(&self, kind: OpKind, key: &[u8], bytes: usize) {
        self.log.borrow_mut().push(LoggedOp {
            kind,
            key: key.to_vec(),
            bytes: len(bytes),
        });
    }

    fn count(&self, f: impl FnOnce(&mut KvCounts)) {
        let mut c = self.counts.get();
        f(&mut c);
        self.counts.set(c);
    }
}

fn len(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

impl Storage for CountingStorage {
    fn get(&self, key: &[u8]) -> BackendResult<Option<Vec<u8>>> {
        let (result, _) = self.inner.get(key);
        let value_len = match &result {
            Ok(Some(v)) => v.len(),
            _ => 0,
        };
        self.log(OpKind::Read, key, key.len() + value_len);
        self.count(|c| {
            c.reads += 1;
            c.read_bytes += len(key.len() + value_len);
        });
        (result, GasInfo::free())
    }

    fn scan(
        &mut self,
        start: Option<&[u8]>,
        end: Option<&[u8]>,
        order: Order,
    ) -> BackendResult<u32> {
        let (result, _) = self.inner.scan(start, end, order);
        self.count(|c| c.scans += 1);
        (result, GasInfo::free())
    }

    fn next(&mut self, iterator_id: u32) -> BackendResult<Option<Record>> {
        let (result, _) = self.inner.next(iterator_id);
        let bytes = match &result {
            Ok(Some((k, v))) => {
                self.log(OpKind::Next, k, k.len() + v.len());
                k.len() + v.len()
            }
            _ => 0,
        };
        let record = matches!(result, Ok(Some(_)));
        self.count(|c| {
            c.nexts += 1;
            c.next_records += u64::from(record);
            c.next_bytes += len(bytes);
        });
        (result, GasInfo::free())
    }

    fn set(&mut self, key: &[u8], value: &[u8]) -> BackendResult<()> {
        let (result, _) = self.inner.set(key, value);
        self.log(OpKind::Write, key, key.len() + value.len());
        self.count(|c| {
            c.writes += 1;
            c.write_bytes += len(key.len() + value.len());
        });
        (result, GasInfo::free())
    }

    fn remove(&mut self, key: &[u8]) -> BackendResult<()> {
        let (result, _) = self.inner.remove(key);
        self.log(OpKind::Remove, key, key.len());
        self.count(|c| c.removes += 1);
        (result, GasInfo::free())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_operations_and_bytes() {
        let mut s = CountingStorage::new();
        assert_eq!(s.set(b"key1", b"value").0, Ok(()));
        assert_eq!(s.set(b"key2", b"vv").0, Ok(()));
        assert_eq!(s.get(b"key1").0, Ok(Some(b"value".to_vec())));
        assert_eq!(s.get(b"absent").0, Ok(None));
        let before = s.counts();
        let it = s.scan(Some(b"key"), None, Order::Ascending).0.unwrap();
        assert_eq!(
            s.next(it).0.unwrap(),
            Some((b"key1".to_vec(), b"value".to_vec()))
        );
        assert_eq!(
            s.next(it).0.unwrap(),
            Some((b"key2".to_vec(), b"vv".to_vec()))
        );
        assert_eq!(s.next(it).0.unwrap(), None);
        assert_eq!(s.remove(b"key1").0, Ok(()));
        assert_eq!(s.get(b"key1").0, Ok(None));

        let c = s.counts();
        assert_eq!(c.writes, 2);
        assert_eq!(c.write_bytes, 9 + 6);
        assert_eq!(c.reads, 3);
        // key1 + value, "absent" (6) with no value, key1 after removal (4).
        assert_eq!(c.read_bytes, 9 + 6 + 4);
        assert_eq!(c.scans, 1);
        assert_eq!(c.nexts, 3);
        assert_eq!(c.next_records, 2);
        assert_eq!(c.next_bytes, 9 + 6);
        assert_eq!(c.removes, 1);
        let iteration = c - before;
        assert_eq!(
            (iteration.nexts, iteration.scans, iteration.writes),
            (3, 1, 0)
        );
        let log = s.take_log();
        // 2 writes, 3 reads, 2 steps that returned a record, 1 remove (scans are not logged).
        assert_eq!(log.len(), 2 + 3 + 2 + 1);
        assert_eq!(
            log[0],
            LoggedOp {
                kind: OpKind::Write,
                key: b"key1".to_vec(),
                bytes: 9
            }
        );
        assert_eq!(log[4].kind, OpKind::Next);
        assert_eq!(log[6].kind, OpKind::Remove);
        assert!(s.take_log().is_empty());
    }

    #[test]
    fn reports_no_vm_gas() {
        let mut s = CountingStorage::new();
        assert_eq!(s.set(b"k", b"v").1, GasInfo::free());
        assert_eq!(s.get(b"k").1, GasInfo::free());
        assert_eq!(s.remove(b"k").1, GasInfo::free());
    }
}
