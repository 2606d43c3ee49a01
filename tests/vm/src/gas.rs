//! The estimated-SDK-gas model of the gas report (issue 5).
//!
//! `estimated SDK gas = VM gas / 140,000 + KV gas + instance cost per contract entry`, where
//!
//! * **VM gas** is the CosmWasm gas the VM meters inside the contract (Wasm execution and the
//!   host functions such as `secp256k1_recover_pubkey`), `GasReport::used_internally`; wasmd
//!   divides it by its gas multiplier 140,000 (`DefaultGasMultiplier`);
//! * **KV gas** is what the Cosmos SDK's gas KV store charges for the contract's storage access
//!   (`storetypes.KVGasConfig`): read 1,000 + 3 per key and value byte, write 2,000 + 30 per key
//!   and value byte, delete 1,000, iterator step 30 + 3 per key and value byte returned. wasmd
//!   wraps the gas-metered store in a prefix store of the contract (`0x03 || 32-byte contract
//!   address`), so every key the SDK meters is [`CONTRACT_KEY_PREFIX_BYTES`] longer than the key the
//!   contract uses;
//! * **instance cost** is what wasmd charges per contract entry (execute or query): 60,000 for code
//!   loaded from disk, 2,000 for pinned code (`DefaultInstanceCost`, `DefaultInstanceCostDiscount`).
use std::ops::{Add, AddAssign, Sub};

/// wasmd `DefaultGasMultiplier`: CosmWasm gas per SDK gas.
pub const VM_GAS_PER_SDK_GAS: u64 = 140_000;
/// SDK `ReadCostFlat` (SDK gas per read).
pub const READ_FLAT: u64 = 1_000;
/// SDK `ReadCostPerByte` (SDK gas per key or value byte read, also for iterator records).
pub const READ_PER_BYTE: u64 = 3;
/// SDK `WriteCostFlat` (SDK gas per write).
pub const WRITE_FLAT: u64 = 2_000;
/// SDK `WriteCostPerByte` (SDK gas per key or value byte written).
pub const WRITE_PER_BYTE: u64 = 30;
/// SDK `DeleteCost` (SDK gas per delete; `HasCost` is the same, but CosmWasm has no `has`).
pub const DELETE_FLAT: u64 = 1_000;
/// SDK `IterNextCostFlat` (SDK gas per iterator step).
pub const ITER_NEXT_FLAT: u64 = 30;
/// Bytes wasmd prepends to every contract storage key (`ContractStorePrefix` 0x03 + a 32-byte
/// contract address) inside the SDK's gas-metered store.
pub const CONTRACT_KEY_PREFIX_BYTES: u64 = 33;
/// wasmd `DefaultInstanceCost`: SDK gas per entry into unpinned code.
pub const INSTANCE_COST_UNPINNED: u64 = 60_000;
/// wasmd `DefaultInstanceCostDiscount`: SDK gas per entry into pinned code.
pub const INSTANCE_COST_PINNED: u64 = 2_000;

/// Storage operations of a contract, with their bytes (keys as the contract sees them; the gas
/// model adds wasmd's [`CONTRACT_KEY_PREFIX_BYTES`] per key).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KvCounts {
    /// `db_read` calls (cw-storage-plus `load`, `may_load` and `has` are all reads).
    pub reads: u64,
    /// Key + value bytes of the reads (an absent value counts 0 bytes).
    pub read_bytes: u64,
    /// `db_write` calls.
    pub writes: u64,
    /// Key + value bytes of the writes.
    pub write_bytes: u64,
    /// `db_remove` calls.
    pub removes: u64,
    /// Iterators opened (`db_scan`).
    pub scans: u64,
    /// Iterator steps (`db_next`, `db_next_key`, `db_next_value`), including the last, empty one.
    pub nexts: u64,
    /// Iterator steps that returned a record.
    pub next_records: u64,
    /// Key + value bytes of the records the iterator steps returned.
    pub next_bytes: u64,
}

impl KvCounts {
    /// SDK gas of these operations (see the module docs).
    pub fn sdk_gas(&self) -> u64 {
        let p = CONTRACT_KEY_PREFIX_BYTES;
        self.reads * READ_FLAT
            + (self.read_bytes + self.reads * p) * READ_PER_BYTE
            + self.writes * WRITE_FLAT
            + (self.write_bytes + self.writes * p) * WRITE_PER_BYTE
            + self.removes * DELETE_FLAT
            + self.nexts * ITER_NEXT_FLAT
            + (self.next_bytes + self.next_records * p) * READ_PER_BYTE
    }
}

impl Add for KvCounts {
    type Output = KvCounts;
    fn add(self, o: KvCounts) -> KvCounts {
        KvCounts {
            reads: self.reads + o.reads,
            read_bytes: self.read_bytes + o.read_bytes,
            writes: self.writes + o.writes,
            write_bytes: self.write_bytes + o.write_bytes,
            removes: self.removes + o.removes,
            scans: self.scans + o.scans,
            nexts: self.nexts + o.nexts,
            next_records: self.next_records + o.next_records,
            next_bytes: self.next_bytes + o.next_bytes,
        }
    }
}

impl AddAssign for KvCounts {
    fn add_assign(&mut self, o: KvCounts) {
        *self = *self + o;
    }
}

impl Sub for KvCounts {
    type Output = KvCounts;
    /// The operations between two snapshots of a monotone counter (`later - earlier`).
    fn sub(self, o: KvCounts) -> KvCounts {
        KvCounts {
            reads: self.reads - o.reads,
            read_bytes: self.read_bytes - o.read_bytes,
            writes: self.writes - o.writes,
            write_bytes: self.write_bytes - o.write_bytes,
            removes: self.removes - o.removes,
            scans: self.scans - o.scans,
            nexts: self.nexts - o.nexts,
            next_records: self.next_records - o.next_records,
            next_bytes: self.next_bytes - o.next_bytes,
        }
    }
}

/// What one contract did during an action: how often it was entered, the VM gas it used and its
/// storage operations.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ContractUsage {
    /// Entries (execute, query, instantiate, ...) into the contract.
    pub entries: u64,
    /// CosmWasm gas used inside the contract (`GasReport::used_internally`).
    pub vm_gas: u64,
    /// Storage operations.
    pub kv: KvCounts,
}

impl ContractUsage {
    /// Estimated SDK gas: `vm_gas / 140,000` (rounded up) + KV gas + `entries` instance costs.
    pub fn sdk_gas(&self, pinned: bool) -> u64 {
        let instance = if pinned {
            INSTANCE_COST_PINNED
        } else {
            INSTANCE_COST_UNPINNED
        };
        self.vm_gas.div_ceil(VM_GAS_PER_SDK_GAS) + self.kv.sdk_gas() + self.entries * instance
    }
}

impl Add for ContractUsage {
    type Output = ContractUsage;
    fn add(self, o: ContractUsage) -> ContractUsage {
        ContractUsage {
            entries: self.entries + o.entries,
            vm_gas: self.vm_gas + o.vm_gas,
            kv: self.kv + o.kv,
        }
    }
}

impl Sub for ContractUsage {
    type Output = ContractUsage;
    fn sub(self, o: ContractUsage) -> ContractUsage {
        ContractUsage {
            entries: self.entries - o.entries,
            vm_gas: self.vm_gas - o.vm_gas,
            kv: self.kv - o.kv,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kv_gas_follows_the_sdk_config() {
        // One read of a 10-byte key with a 20-byte value (+ 33 prefix bytes): 1,000 + 3 * 63.
        let read = KvCounts {
            reads: 1,
            read_bytes: 30,
            ..Default::default()
        };
        assert_eq!(read.sdk_gas(), 1_189);
        // One write of 60 key + 8 value bytes: 2,000 + 30 * (68 + 33).
        let write = KvCounts {
            writes: 1,
            write_bytes: 68,
            ..Default::default()
        };
        assert_eq!(write.sdk_gas(), 5_030);
        // A delete is flat; a scan is free; two steps returning 50 bytes (+ 2 prefixes) plus the
        // final, empty step.
        let iter = KvCounts {
            removes: 1,
            scans: 1,
            nexts: 3,
            next_records: 2,
            next_bytes: 50,
            ..Default::default()
        };
        assert_eq!(iter.sdk_gas(), 1_000 + 90 + 3 * (50 + 66));
        assert_eq!((read + write + iter).sdk_gas(), 1_189 + 5_030 + 1_438);
    }

    #[test]
    fn sdk_gas_adds_vm_gas_kv_and_instance_costs() {
        let usage = ContractUsage {
            entries: 2,
            vm_gas: 140_000 * 10 + 1,
            kv: KvCounts {
                writes: 1,
                write_bytes: 10,
                ..Default::default()
            },
        };
        // VM gas rounds up: 11 SDK gas; the write is 2,000 + 30 * (10 + 33).
        assert_eq!(usage.sdk_gas(true), 11 + 3_290 + 2 * 2_000);
        assert_eq!(usage.sdk_gas(false), 11 + 3_290 + 2 * 60_000);
        let twice = usage + usage;
        assert_eq!(twice.entries, 4);
        assert_eq!(twice - usage, usage);
    }
}
