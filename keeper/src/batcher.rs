//! Batch sizing (Hermes style): a pure function that cuts an ordered list of items into
//! consecutive chunks bounded by item count, estimated gas and estimated tx bytes; and the
//! deadline estimate of the keeper's backpressure (issue 17): how many receipts can still land
//! before an epoch's submission window closes, from the measured submission pace.
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

/// Receipts one `SubmitReceipts` tx can carry: the smallest of `max_batch` (already the lesser
/// of the keeper's and the verifier's bound), the gas bound `max_gas / gas of one receipt` and
/// the size bound `max_tx_bytes / bytes of one receipt`, for receipts of `receipt_bytes` JSON
/// bytes under `model`. At least 1 (an oversized receipt still goes alone).
pub fn receipts_per_tx(
    max_batch: usize,
    model: CostModel,
    receipt_bytes: usize,
    max_gas: u64,
    max_tx_bytes: u64,
) -> u64 {
    let c = model.cost(receipt_bytes);
    let by_gas = max_gas.checked_div(c.gas).unwrap_or(u64::MAX);
    let by_bytes = max_tx_bytes.checked_div(c.bytes).unwrap_or(u64::MAX);
    (max_batch as u64).min(by_gas).min(by_bytes).max(1)
}

/// The submission pace the deadline estimate works from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SubmitPace {
    /// Seconds one full tx takes, from writing it to the outbox to its recorded verdicts
    /// (measured: [`PaceMeter`]).
    pub secs_per_tx: f64,
    /// Receipts one full tx carries under the tx limits ([`receipts_per_tx`]).
    pub receipts_per_tx: u64,
}

/// How many receipts can still land on chain before a submission window closes: whole txs of
/// `pace.receipts_per_tx` receipts, one every `pace.secs_per_tx` seconds, in the `secs_left`
/// seconds until the window closes minus `margin_secs` kept in reserve (a restart, a slow
/// block). Submission is sequential (one round at a time), so the count is
/// `floor((secs_left - margin) / secs_per_tx) * receipts_per_tx`; 0 when no time is left or the
/// pace is unknown (non-positive or not finite). Pure.
pub fn landable_before(secs_left: f64, margin_secs: f64, pace: SubmitPace) -> u64 {
    let usable = secs_left - margin_secs;
    if !usable.is_finite() || usable <= 0.0 {
        return 0;
    }
    if !pace.secs_per_tx.is_finite() || pace.secs_per_tx <= 0.0 {
        return 0;
    }
    let txs = (usable / pace.secs_per_tx).floor();
    // f64 -> u64 saturates
    (txs as u64).saturating_mul(pace.receipts_per_tx)
}

/// Seconds a client should wait before offering again receipts refused because `excess` too
/// many were ahead of them: the time the keeper needs to submit that many (whole txs), at least
/// 1 s. Pure.
pub fn retry_after_secs(excess: u64, pace: SubmitPace) -> u64 {
    if !pace.secs_per_tx.is_finite() || pace.secs_per_tx <= 0.0 {
        return 1;
    }
    let txs = excess.div_ceil(pace.receipts_per_tx.max(1));
    ((txs as f64) * pace.secs_per_tx).ceil().clamp(1.0, 3600.0) as u64
}

/// A running estimate of the seconds one full tx takes, from measured batches: each batch of
/// `n` receipts that took `secs` counts as `secs * receipts_per_tx / n` for a full tx (so a
/// partial batch, whose fixed cost is spread over fewer receipts, makes the estimate slower,
/// never faster). Slow-downs are taken in fast (weight 1/2), speed-ups slowly (weight 1/8), so
/// the estimate errs on the side of refusing too early rather than acknowledging too much.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PaceMeter {
    /// The current estimate, seconds per full tx (`None` until the first measurement).
    pub secs_per_tx: Option<f64>,
}

impl PaceMeter {
    /// Adds the measurement of one batch: `n` receipts recorded `secs` seconds after the batch
    /// was written down, `receipts_per_tx` the full-tx size. Ignores empty batches and
    /// non-finite or negative durations.
    pub fn observe(&mut self, n: u64, secs: f64, receipts_per_tx: u64) {
        if n == 0 || !secs.is_finite() || secs < 0.0 {
            return;
        }
        let full = secs * (receipts_per_tx.max(n) as f64) / (n as f64);
        self.secs_per_tx = Some(match self.secs_per_tx {
            None => full,
            Some(old) if full > old => old + (full - old) / 2.0,
            Some(old) => old + (full - old) / 8.0,
        });
    }
}

/// The seconds a recorded batch counts for in the pace estimate. `round_trip`: from writing it
/// to the outbox to its recorded verdicts. `since_busy`: seconds since the previous recorded
/// batch, if the keeper had more work due right away after that one (then everything in
/// between was submission time: building the tx, reconciliation, a round lost to a kill and the
/// restart that followed; counting it lets the estimate see what a crash-looping or stalling
/// keeper really delivers). A gap longer than `max_gap_secs` is an outage rather than a pace and
/// counts as the round trip alone. Never less than `round_trip`. Pure.
pub fn batch_secs(round_trip: f64, since_busy: Option<f64>, max_gap_secs: f64) -> f64 {
    match since_busy {
        Some(gap) if gap.is_finite() && gap <= max_gap_secs => gap.max(round_trip),
        _ => round_trip,
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

    const PACE: SubmitPace = SubmitPace {
        secs_per_tx: 0.5,
        receipts_per_tx: 40,
    };

    #[test]
    fn landable_counts_whole_txs_in_the_time_left_minus_the_margin() {
        // 10 s left, 2 s margin: 8 s = 16 txs of 40
        assert_eq!(landable_before(10.0, 2.0, PACE), 640);
        // a partial tx's worth of time does not count
        assert_eq!(landable_before(10.4, 2.0, PACE), 640);
        assert_eq!(landable_before(10.5, 2.0, PACE), 680);
        // no time, less than one tx, or past the deadline: nothing
        assert_eq!(landable_before(2.0, 2.0, PACE), 0);
        assert_eq!(landable_before(2.4, 2.0, PACE), 0);
        assert_eq!(landable_before(-5.0, 0.0, PACE), 0);
        // an hour-long window at this pace: far beyond any backlog
        assert_eq!(landable_before(4200.0, 150.0, PACE), 8100 * 40);
    }

    #[test]
    fn landable_is_zero_for_an_unknown_pace_and_saturates() {
        for secs in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let p = SubmitPace {
                secs_per_tx: secs,
                receipts_per_tx: 40,
            };
            assert_eq!(landable_before(100.0, 1.0, p), 0, "{secs}");
        }
        assert_eq!(landable_before(f64::NAN, 1.0, PACE), 0);
        let fast = SubmitPace {
            secs_per_tx: 1e-300,
            receipts_per_tx: u64::MAX,
        };
        assert_eq!(landable_before(1e10, 0.0, fast), u64::MAX);
    }

    #[test]
    fn landable_grows_with_time_and_shrinks_with_margin() {
        let mut last = 0;
        for tenth in 0..200 {
            let n = landable_before(f64::from(tenth) / 10.0, 1.0, PACE);
            assert!(n >= last);
            assert_eq!(n % 40, 0);
            last = n;
        }
        assert!(landable_before(20.0, 3.0, PACE) < landable_before(20.0, 1.0, PACE));
    }

    #[test]
    fn receipts_per_tx_takes_the_tightest_limit() {
        let model = CostModel {
            gas_per_item: 150_000,
            gas_per_byte: 10,
        };
        // 1,500-byte receipts cost 165,000 gas: 20M gas fits 121, 1 MB fits 666; max_batch 40
        assert_eq!(receipts_per_tx(40, model, 1500, 20_000_000, 1_000_000), 40);
        assert_eq!(
            receipts_per_tx(500, model, 1500, 20_000_000, 1_000_000),
            121
        );
        assert_eq!(receipts_per_tx(500, model, 1500, 100_000_000, 300_000), 200);
        // an oversized receipt still goes, alone
        assert_eq!(receipts_per_tx(40, model, 1500, 1000, 1_000_000), 1);
        let free = CostModel {
            gas_per_item: 0,
            gas_per_byte: 0,
        };
        assert_eq!(receipts_per_tx(40, free, 0, 0, 0), 40);
    }

    #[test]
    fn retry_after_is_the_time_to_submit_the_excess() {
        assert_eq!(retry_after_secs(0, PACE), 1);
        assert_eq!(retry_after_secs(1, PACE), 1);
        // 200 receipts = 5 txs = 2.5 s -> 3 s
        assert_eq!(retry_after_secs(200, PACE), 3);
        let unknown = SubmitPace {
            secs_per_tx: f64::NAN,
            receipts_per_tx: 40,
        };
        assert_eq!(retry_after_secs(1000, unknown), 1);
        assert_eq!(retry_after_secs(u64::MAX, PACE), 3600);
    }

    #[test]
    fn pace_meter_scales_partial_batches_and_slows_fast() {
        let close = |m: &PaceMeter, want: f64| {
            let got = m.secs_per_tx.unwrap();
            assert!((got - want).abs() < 1e-9, "{got} vs {want}");
        };
        let mut m = PaceMeter::default();
        m.observe(0, 1.0, 40);
        assert_eq!(m.secs_per_tx, None);
        // a half-full batch of 0.2 s counts as 0.4 s per full tx
        m.observe(20, 0.2, 40);
        close(&m, 0.4);
        // slower: half the way at once
        m.observe(40, 0.8, 40);
        close(&m, 0.6);
        // faster: an eighth of the way
        m.observe(40, 0.2, 40);
        close(&m, 0.55);
        // a batch larger than the full size is not scaled up
        m.observe(80, 0.55, 40);
        close(&m, 0.55);
        m.observe(3, f64::NAN, 40);
        m.observe(3, -1.0, 40);
        close(&m, 0.55);
    }

    #[test]
    fn a_busy_gap_counts_restarts_and_lost_rounds_but_not_outages() {
        // idle before: the round trip alone
        assert_eq!(batch_secs(0.3, None, 3.0), 0.3);
        // busy since the previous batch, a kill and restart in between: the whole gap
        assert_eq!(batch_secs(0.3, Some(1.4), 3.0), 1.4);
        // never less than the round trip (clock steps)
        assert_eq!(batch_secs(0.3, Some(0.1), 3.0), 0.3);
        assert_eq!(batch_secs(0.3, Some(-2.0), 3.0), 0.3);
        // an outage longer than the bound is not a pace
        assert_eq!(batch_secs(0.3, Some(3.5), 3.0), 0.3);
        assert_eq!(batch_secs(0.3, Some(f64::NAN), 3.0), 0.3);
    }
}
