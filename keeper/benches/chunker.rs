//! The batch-sizing function ([`opg_keeper::batcher::chunk`]) on the batches the keeper cuts:
//! 1,000 and 100,000 receipts of realistic, varying sizes (1.2–2.4 KB of JSON), cut by the
//! default limits (100 receipts, the cost model of `keeper.toml`'s defaults). Each iteration
//! cuts the whole list, so criterion's `thrpt` line is receipts per second.
//!
//! Run: `cargo bench -p opg-keeper --bench chunker`.
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use opg_keeper::batcher::{chunk, CostModel, ItemCost};
use opg_keeper::config::BatcherConfig;
use rand::{Rng, SeedableRng};

fn costs(n: usize, model: CostModel) -> Vec<ItemCost> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(42);
    (0..n)
        .map(|_| model.cost(rng.gen_range(1_200..2_400)))
        .collect()
}

fn bench(c: &mut Criterion) {
    let cfg = BatcherConfig::default();
    let model = CostModel {
        gas_per_item: cfg.gas_per_receipt,
        gas_per_byte: cfg.gas_per_byte,
    };
    let mut g = c.benchmark_group("chunker");
    for n in [1_000usize, 100_000] {
        let items = costs(n, model);
        // sanity: the ranges cover the input in order
        let ranges = chunk(&items, cfg.max_batch, cfg.max_gas_per_tx, cfg.max_tx_bytes);
        assert_eq!(ranges.first().map(|r| r.start), Some(0));
        assert_eq!(ranges.last().map(|r| r.end), Some(n));
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::new("chunk", n), &items, |b, items| {
            b.iter(|| {
                chunk(
                    black_box(items),
                    cfg.max_batch,
                    cfg.max_gas_per_tx,
                    cfg.max_tx_bytes,
                )
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
