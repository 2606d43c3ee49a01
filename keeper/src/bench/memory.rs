//! `opg bench --memory`: the keeper's resident memory with a large history (issue 7: under
//! 200 MB with 1,000,000 receipts stored and 100,000 pending).
//!
//! Building the volume through signing and the contracts would take an hour, so it is loaded
//! directly, through the same storage APIs the keeper uses:
//!
//! 1. **chain state**: `stored` consumed nonces written as the verifier's consumed-nonce
//!    entries (its real layout, through `receipt_verifier::state::consume_nonce`) into the
//!    contract's storage on the embedded chain, flushed to `chain.db` in chunks: what counting
//!    that many receipts leaves behind;
//! 2. **keeper store**: `stored - pending` receipts inserted and moved through the outbox to
//!    `accepted` (`prepare_batch` + `record_batch`, batches of 1,000) and `pending` receipts left
//!    pending in epoch 0. Their `raw` JSON is one real signed receipt (so every row has a real
//!    size, ~2 KB) under distinct keys.
//!
//! Then the peak RSS is reset (`/proc/self/clear_refs`) and the keeper is **reopened** from disk
//! as `opg keeper run` does, and runs: reconciliation, per-state counts over the whole store, a
//! real ingest of freshly signed receipts over HTTP into epoch 1, and one round (`tick`) at a time
//! when epoch 0 is past its grace: the 100,000 pending receipts of epoch 0 expire, the fresh
//! receipts are submitted through the verifier contract (reading the 1,000,000 nonces through
//! SQLite) and epoch 0 is finalized. `peak_rss_mb` is the peak over that phase.
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context as _};
use serde::{Deserialize, Serialize};

use super::{bodies, domain_of, open_bench_keeper, peak_rss_mb, post_all, reset_peak_rss, rss_mb};
use super::{tempfile_dir, workload};
use crate::chain::{ChainBackend, ContractRole};
use crate::store::{NewReceipt, ReceiptKey, Verdict};

/// Options of the memory scenario.
#[derive(Clone, Debug)]
pub struct MemoryOptions {
    /// Receipts stored (accepted + pending) and consumed nonces on chain.
    pub stored: u64,
    /// Of them, pending.
    pub pending: u64,
    /// Fresh receipts ingested over HTTP and submitted in the measured phase.
    pub fresh: usize,
}

impl Default for MemoryOptions {
    fn default() -> Self {
        MemoryOptions {
            stored: 1_000_000,
            pending: 100_000,
            fresh: 1_000,
        }
    }
}

/// What the memory scenario measured.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MemoryReport {
    /// Peak RSS of the measured phase (reopen, reconcile, counts, ingest, round), MB.
    pub peak_rss_mb: f64,
    /// RSS right after the volume was loaded (before the reset), MB.
    pub rss_after_load_mb: f64,
    /// Receipts in the store.
    pub stored: u64,
    /// Of them pending when the keeper reopened.
    pub pending: u64,
    /// Consumed nonces written to the chain state.
    pub chain_nonces: u64,
    /// Fresh receipts ingested and submitted.
    pub fresh: usize,
    /// Receipts the round accepted on chain.
    pub accepted_by_round: u64,
    /// Pending receipts the round expired.
    pub expired_by_round: u64,
    /// Size of `keeper.db` + `chain.db` (+ WAL files), MB.
    pub disk_mb: f64,
    /// Seconds spent loading the volume.
    pub load_secs: f64,
    /// Whether the peak could be reset (else `peak_rss_mb` includes the load).
    pub peak_reset: bool,
}

const CHUNK: u64 = 50_000;

fn disk_mb(home: &std::path::Path) -> f64 {
    std::fs::read_dir(home)
        .map(|d| {
            d.filter_map(|e| e.ok()?.metadata().ok())
                .map(|m| m.len())
                .sum::<u64>()
        })
        .unwrap_or(0) as f64
        / (1024.0 * 1024.0)
}

/// Runs the memory scenario in a temp home.
pub fn run(opts: &MemoryOptions) -> anyhow::Result<MemoryReport> {
    if opts.pending > opts.stored {
        bail!(
            "--pending {} exceeds --stored {}",
            opts.pending,
            opts.stored
        );
    }
    let home = tempfile_dir()?;
    let load_started = Instant::now();
    {
        let bk = open_bench_keeper(home.path())?;
        let verifier = bk.chain.deployment().verifier;
        // 1. consumed nonces in the verifier's state
        let mut written = 0u64;
        while written < opts.stored {
            let n = CHUNK.min(opts.stored - written);
            let (from, addr) = (written, cosmwasm_std::Addr::unchecked(verifier.clone()));
            bk.chain.with_runtime(move |rt| -> anyhow::Result<()> {
                {
                    let mut st = rt.app.contract_storage_mut(&addr);
                    for i in from..from + n {
                        let payer: [u8; 20] = key_bytes(b"payer", i % 10_000);
                        let nonce: [u8; 32] = key_bytes(b"nonce", i);
                        let slot = receipt_verifier::state::nonce_slot(&payer, &nonce);
                        receipt_verifier::state::consume_nonce(st.as_mut(), 1, &slot, 0)
                            .map_err(|e| anyhow::anyhow!("writing a nonce: {e}"))?;
                    }
                }
                rt.app
                    .storage_mut()
                    .flush(&[])
                    .context("flushing chain state")?;
                Ok(())
            })??;
            written += n;
        }
        // 2. the keeper's store
        let domain = domain_of(bk.chain.as_ref());
        let template =
            workload::sign_receipts(&bk.genesis, &domain, "template", 1, workload::T0 + 1)
                .pop()
                .context("template receipt")?;
        let raw = serde_json::to_string(&template)?;
        let store = bk.keeper.store();
        let accepted = opts.stored - opts.pending;
        let mut i = 0u64;
        while i < opts.stored {
            let n = 1_000.min(opts.stored - i);
            let rows: Vec<NewReceipt> = (i..i + n)
                .map(|j| NewReceipt {
                    key: ReceiptKey::new(
                        &format!("0x{}", hex::encode(key_bytes::<20>(b"payer", j % 10_000))),
                        &format!("0x{}", hex::encode(key_bytes::<32>(b"nonce", j))),
                    ),
                    epoch: 0,
                    node_id: template.receipt.node_id.clone(),
                    model_id: template.receipt.model_id.clone(),
                    value_micro_usd: 1_000,
                    raw: raw.clone(),
                })
                .collect();
            store.insert_receipts(&rows, workload::T0 + 1)?;
            if i < accepted {
                let k = (accepted - i).min(n) as usize;
                let keys: Vec<ReceiptKey> = rows[..k].iter().map(|r| r.key.clone()).collect();
                let id = store.prepare_batch(0, &keys, b"bench", "BENCH", workload::T0 + 2)?;
                let verdicts: Vec<_> = keys.into_iter().map(|k| (k, Verdict::Accepted)).collect();
                store.record_batch(id, 1, &verdicts)?;
            }
            i += n;
        }
    }
    let load_secs = load_started.elapsed().as_secs_f64();
    let rss_after_load_mb = rss_mb().unwrap_or(0.0);
    let peak_reset = reset_peak_rss();

    // the measured phase: reopen from disk and work
    let bk = open_bench_keeper(home.path())?;
    let counts = bk.keeper.store().counts(None)?;
    if counts.accepted + counts.pending != opts.stored || counts.pending != opts.pending {
        bail!(
            "store holds {counts:?}, expected {} / {} pending",
            opts.stored,
            opts.pending
        );
    }
    let g = &bk.genesis;
    let epoch1 = workload::T0 + g.epoch_length;
    bk.chain.set_time(epoch1 + 1000)?;
    let domain = domain_of(bk.chain.as_ref());
    let fresh = workload::sign_receipts(g, &domain, "memory-fresh", opts.fresh, epoch1 + 1);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(super::cores())
        .enable_all()
        .build()?;
    let b = Arc::new(bodies(&fresh, 50)?);
    let (stored, _) = rt.block_on(post_all(bk.keeper.clone(), b, 4))?;
    drop(rt);
    if stored != opts.fresh as u64 {
        bail!("{stored} of {} fresh receipts stored", opts.fresh);
    }
    let round = bk.keeper.tick()?;
    // one receipt's on-chain status, read through the 1M-entry nonce map
    let probe = &fresh[0];
    let payer = opg_core::verify::decode_payment_header(&probe.payment)
        .map_err(|e| anyhow::anyhow!("probe header: {}", e.as_str()))?
        .payload
        .authorization
        .ok_or_else(|| anyhow::anyhow!("probe header: not an EIP-3009 payment"))?;
    let status = bk.chain.receipt_status(&payer.from, &payer.nonce)?;
    if !status.consumed {
        bail!("a fresh receipt is not consumed on chain after the round");
    }
    let _ = bk.chain.query_json(
        ContractRole::Pool,
        &serde_json::json!({ "epoch_report": { "epoch": 0 } }),
    );
    let peak = peak_rss_mb().unwrap_or(0.0);
    let disk = disk_mb(home.path());
    Ok(MemoryReport {
        peak_rss_mb: peak,
        rss_after_load_mb,
        stored: opts.stored,
        pending: opts.pending,
        chain_nonces: opts.stored,
        fresh: opts.fresh,
        accepted_by_round: round.batches.accepted,
        expired_by_round: round.batches.expired,
        disk_mb: disk,
        load_secs,
        peak_reset,
    })
}

/// `N` deterministic bytes for index `i` under `label`.
fn key_bytes<const N: usize>(label: &[u8], i: u64) -> [u8; N] {
    use sha2::{Digest, Sha256};
    let mut out = [0u8; N];
    let mut h = Sha256::new();
    h.update(label);
    h.update(i.to_be_bytes());
    let d = h.finalize();
    let n = N.min(32);
    out[..n].copy_from_slice(&d[..n]);
    out
}
