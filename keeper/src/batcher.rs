//! Batch sizing (Hermes style): a pure function that cuts an ordered list of items into
//! consecutive chunks bounded by item count, estimated gas and estimated tx bytes.
use std::ops::Range;

/// Estimated cost of one item (receipt or heartbeat) inside a `SubmitReceipts` tx.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ItemCost {
    /// Estimated gas the item adds.
    pub gas: u64,
    /// Bytes the item adds to the tx.
    pub bytes: u64,
}

/// Cuts `items` into consecutive ranges such that each range has at most `max_batch` items,
/// a gas sum of at most `max_gas` and a byte sum of at most `max_tx_bytes`. An item that alone
/// exceeds a gas or byte bound gets a range of its own (the chain decides about it; the keeper
/// never drops an item). `max_batch == 0` is treated as 1. Ranges cover `0..items.len()` in
/// order, without gaps or overlap.
pub fn chunk(
    items: &[ItemCost],
    max_batch: usize,
    max_gas: u64,
    max_tx_bytes: u64,
) -> Vec<Range<usize>> {
    let max_batch = max_batch.max(1);
    let mut out = Vec::new();
    let mut start = 0;
    let (mut gas, mut bytes) = (0u64, 0u64);
    for (i, it) in items.iter().enumerate() {
        let count = i - start;
        let over = count > 0
            && (count >= max_batch
                || gas.saturating_add(it.gas) > max_gas
                || bytes.saturating_add(it.bytes) > max_tx_bytes);
        if over {
            out.push(start..i);
            start = i;
            gas = 0;
            bytes = 0;
        }
        gas = gas.saturating_add(it.gas);
        bytes = bytes.saturating_add(it.bytes);
    }
    if start < items.len() {
        out.push(start..items.len());
    }
    out
}

/// Linear cost model of a receipt: `gas = gas_per_item + gas_per_byte * bytes`, where `bytes` is
/// the receipt's JSON length (what the execute message carries).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CostModel {
    /// Fixed gas per item (signature recoveries, nonce write, usage aggregation).
    pub gas_per_item: u64,
    /// Gas per message byte (tx size cost plus JSON decoding).
    pub gas_per_byte: u64,
}

impl CostModel {
    /// Estimated cost of an item whose JSON is `json_len` bytes.
    pub fn cost(&self, json_len: usize) -> ItemCost {
        let bytes = json_len as u64;
        ItemCost {
            gas: self
                .gas_per_item
                .saturating_add(self.gas_per_byte.saturating_mul(bytes)),
            bytes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(n: usize, gas: u64, bytes: u64) -> Vec<ItemCost> {
        vec![ItemCost { gas, bytes }; n]
    }

    fn covers(ranges: &[Range<usize>], n: usize) -> bool {
        let mut next = 0;
        for r in ranges {
            if r.start != next || r.end <= r.start {
                return false;
            }
            next = r.end;
        }
        next == n
    }

    #[test]
    fn empty_input_gives_no_chunks() {
        assert!(chunk(&[], 10, 100, 100).is_empty());
    }

    #[test]
    fn bounded_by_count() {
        let r = chunk(&items(7, 1, 1), 3, u64::MAX, u64::MAX);
        assert_eq!(r, vec![0..3, 3..6, 6..7]);
    }

    #[test]
    fn bounded_by_gas() {
        // 4 items of 30 gas, max 100 gas: 3 + 1
        let r = chunk(&items(4, 30, 1), 100, 100, u64::MAX);
        assert_eq!(r, vec![0..3, 3..4]);
        // exactly at the bound fits
        let r = chunk(&items(4, 25, 1), 100, 100, u64::MAX);
        assert_eq!(r, vec![0..4]);
    }

    #[test]
    fn bounded_by_bytes() {
        let its = [
            ItemCost { gas: 1, bytes: 60 },
            ItemCost { gas: 1, bytes: 40 },
            ItemCost { gas: 1, bytes: 1 },
            ItemCost { gas: 1, bytes: 99 },
        ];
        assert_eq!(chunk(&its, 100, 1000, 100), vec![0..2, 2..4]);
    }

    #[test]
    fn oversized_item_gets_its_own_chunk() {
        let its = [
            ItemCost { gas: 10, bytes: 10 },
            ItemCost {
                gas: 500,
                bytes: 10,
            },
            ItemCost { gas: 10, bytes: 10 },
        ];
        assert_eq!(chunk(&its, 100, 100, 1000), vec![0..1, 1..2, 2..3]);
        let its = [ItemCost {
            gas: 1,
            bytes: 5000,
        }];
        assert_eq!(chunk(&its, 100, 100, 1000), vec![0..1]);
    }

    #[test]
    fn zero_max_batch_means_one() {
        assert_eq!(chunk(&items(2, 1, 1), 0, 100, 100), vec![0..1, 1..2]);
    }

    #[test]
    fn always_a_partition_within_bounds() {
        // deterministic pseudo-random sizes
        let mut x: u64 = 0x9e3779b97f4a7c15;
        for round in 0..200 {
            let n = round % 37;
            let its: Vec<_> = (0..n)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    ItemCost {
                        gas: x % 300,
                        bytes: (x >> 20) % 300,
                    }
                })
                .collect();
            let (mb, mg, mx) = (
                1 + round % 9,
                200 + (round as u64 * 7) % 500,
                250 + (round as u64 * 11) % 400,
            );
            let r = chunk(&its, mb, mg, mx);
            assert!(covers(&r, n));
            for rg in &r {
                assert!(rg.len() <= mb);
                if rg.len() > 1 {
                    let g: u64 = its[rg.clone()].iter().map(|i| i.gas).sum();
                    let b: u64 = its[rg.clone()].iter().map(|i| i.bytes).sum();
                    assert!(g <= mg && b <= mx, "{rg:?} g={g} b={b}");
                }
            }
        }
    }

    #[test]
    fn cost_model_is_linear() {
        let m = CostModel {
            gas_per_item: 100,
            gas_per_byte: 2,
        };
        assert_eq!(
            m.cost(10),
            ItemCost {
                gas: 120,
                bytes: 10
            }
        );
    }
}
