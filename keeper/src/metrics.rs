//! Prometheus metrics of the keeper, exported in the text format (version 0.0.4) by a small
//! hand-written encoder: counters, labelled counters, two histograms and the gauges of the
//! deadline estimate ([`DeadlineView`]).
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// A fixed-bucket histogram.
pub struct Histogram {
    bounds: Vec<f64>,
    inner: Mutex<HistInner>,
}

#[derive(Default)]
struct HistInner {
    buckets: Vec<u64>,
    count: u64,
    sum: f64,
}

impl Histogram {
    /// A histogram with upper bounds `bounds` (ascending); `+Inf` is implicit.
    pub fn new(bounds: &[f64]) -> Self {
        Histogram {
            bounds: bounds.to_vec(),
            inner: Mutex::new(HistInner {
                buckets: vec![0; bounds.len()],
                count: 0,
                sum: 0.0,
            }),
        }
    }

    /// Records one observation.
    pub fn observe(&self, v: f64) {
        let mut h = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        for (i, b) in self.bounds.iter().enumerate() {
            if v <= *b {
                h.buckets[i] += 1;
            }
        }
        h.count += 1;
        h.sum += v;
    }

    /// Number of observations.
    pub fn count(&self) -> u64 {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).count
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        let h = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        for (b, c) in self.bounds.iter().zip(&h.buckets) {
            let _ = writeln!(out, "{name}_bucket{{le=\"{b}\"}} {c}");
        }
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {}", h.count);
        let _ = writeln!(out, "{name}_sum {}", h.sum);
        let _ = writeln!(out, "{name}_count {}", h.count);
    }
}

/// All keeper metrics.
pub struct Metrics {
    /// Receipts received over HTTP (or `Keeper::ingest`).
    pub received: AtomicU64,
    /// Receipts that passed verification.
    pub verified: AtomicU64,
    /// Receipts rejected at ingest, by reason.
    pub rejected: Mutex<BTreeMap<String, u64>>,
    /// New receipts stored.
    pub stored: AtomicU64,
    /// Receipts that were already stored.
    pub duplicates: AtomicU64,
    /// Receipts submitted on chain.
    pub submitted: AtomicU64,
    /// Receipts the chain accepted.
    pub accepted: AtomicU64,
    /// Receipts the chain rejected, by reason.
    pub chain_rejected: Mutex<BTreeMap<String, u64>>,
    /// Batches broadcast.
    pub batches: AtomicU64,
    /// Batches whose tx failed as a whole.
    pub batch_failures: AtomicU64,
    /// Epochs finalized by this keeper.
    pub finalized: AtomicU64,
    /// Valid receipts not acknowledged because they could not land before their epoch's window
    /// closes (answered `deferred`, HTTP `503`).
    pub deferred: AtomicU64,
    /// Acknowledged receipts that missed their epoch's window anyway (expired before
    /// submission, or refused by the chain as `epoch_closed`). Should stay 0.
    pub expired: AtomicU64,
    /// Receipts per batch.
    pub batch_size: Histogram,
    /// Seconds from broadcast to result.
    pub submit_latency: Histogram,
    /// HTTP responses by status code (every route, errors included).
    pub http_responses: Mutex<BTreeMap<u16, u64>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            received: AtomicU64::new(0),
            verified: AtomicU64::new(0),
            rejected: Mutex::new(BTreeMap::new()),
            stored: AtomicU64::new(0),
            duplicates: AtomicU64::new(0),
            submitted: AtomicU64::new(0),
            accepted: AtomicU64::new(0),
            chain_rejected: Mutex::new(BTreeMap::new()),
            batches: AtomicU64::new(0),
            batch_failures: AtomicU64::new(0),
            finalized: AtomicU64::new(0),
            deferred: AtomicU64::new(0),
            expired: AtomicU64::new(0),
            batch_size: Histogram::new(&[1.0, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0]),
            submit_latency: Histogram::new(&[0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0]),
            http_responses: Mutex::new(BTreeMap::new()),
        }
    }
}

/// Adds `n` to a counter.
pub fn inc(c: &AtomicU64, n: u64) {
    c.fetch_add(n, Ordering::Relaxed);
}

/// Adds one to `reason` in a labelled counter.
pub fn inc_reason(m: &Mutex<BTreeMap<String, u64>>, reason: &str) {
    *m.lock()
        .unwrap_or_else(|p| p.into_inner())
        .entry(reason.to_string())
        .or_insert(0) += 1;
}

fn counter(out: &mut String, name: &str, help: &str, v: u64) {
    let _ = writeln!(
        out,
        "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}"
    );
}

fn labelled(out: &mut String, name: &str, help: &str, m: &Mutex<BTreeMap<String, u64>>) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
    for (k, v) in m.lock().unwrap_or_else(|p| p.into_inner()).iter() {
        // reason strings are `[a-z0-9_]`, no escaping needed
        let _ = writeln!(out, "{name}{{reason=\"{k}\"}} {v}");
    }
}

fn gauge(out: &mut String, name: &str, help: &str, v: Option<f64>) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
    if let Some(v) = v {
        let _ = writeln!(out, "{name} {v}");
    }
}

/// The keeper's state as `/metrics` shows it in gauges an operator alerts on (read at scrape
/// time). A gauge whose value is unknown (no epoch finalized yet, no batch recorded since
/// start-up, the chain not read yet) is written without a sample.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StatusGauges {
    /// Receipts stored but not yet recorded on chain (`pending` and `submitted`).
    pub pending_receipts: u64,
    /// The epoch of the chain's current time (`None` before genesis).
    pub current_epoch: Option<u64>,
    /// The last epoch the pool finalized (`None` before the first).
    pub last_finalized_epoch: Option<u64>,
    /// The height of the last block the keeper read.
    pub chain_height: Option<u64>,
    /// Seconds since this process last recorded a batch on chain.
    pub secs_since_last_submission: Option<f64>,
}

impl StatusGauges {
    /// Appends the gauges to `out` (Prometheus text format).
    pub fn render(&self, out: &mut String) {
        gauge(
            out,
            "opg_receipts_pending",
            "Receipts stored but not yet recorded on chain (pending or submitted).",
            Some(self.pending_receipts as f64),
        );
        gauge(
            out,
            "opg_epoch_current",
            "The epoch of the chain's current time.",
            self.current_epoch.map(|e| e as f64),
        );
        gauge(
            out,
            "opg_epoch_last_finalized",
            "The last epoch the reward pool finalized.",
            self.last_finalized_epoch.map(|e| e as f64),
        );
        gauge(
            out,
            "opg_chain_height",
            "Height of the last block the keeper read.",
            self.chain_height.map(|h| h as f64),
        );
        gauge(
            out,
            "opg_seconds_since_last_submission",
            "Seconds since this keeper last recorded a batch on chain.",
            self.secs_since_last_submission,
        );
    }
}

/// Counts one HTTP response of `status`.
pub fn inc_status(m: &Mutex<BTreeMap<u16, u64>>, status: u16) {
    *m.lock()
        .unwrap_or_else(|p| p.into_inner())
        .entry(status)
        .or_insert(0) += 1;
}

impl Metrics {
    /// Renders the Prometheus text exposition format.
    pub fn render(&self) -> String {
        let l = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let mut out = String::new();
        counter(
            &mut out,
            "opg_receipts_received_total",
            "Receipts received.",
            l(&self.received),
        );
        counter(
            &mut out,
            "opg_receipts_verified_total",
            "Receipts that passed verification.",
            l(&self.verified),
        );
        labelled(
            &mut out,
            "opg_receipts_rejected_total",
            "Receipts rejected at ingest, by reason.",
            &self.rejected,
        );
        counter(
            &mut out,
            "opg_receipts_stored_total",
            "New receipts stored durably.",
            l(&self.stored),
        );
        counter(
            &mut out,
            "opg_receipts_duplicate_total",
            "Receipts already stored.",
            l(&self.duplicates),
        );
        counter(
            &mut out,
            "opg_receipts_submitted_total",
            "Receipts submitted on chain.",
            l(&self.submitted),
        );
        counter(
            &mut out,
            "opg_receipts_accepted_total",
            "Receipts accepted on chain.",
            l(&self.accepted),
        );
        labelled(
            &mut out,
            "opg_receipts_chain_rejected_total",
            "Receipts rejected on chain, by reason.",
            &self.chain_rejected,
        );
        counter(
            &mut out,
            "opg_batches_total",
            "Batches broadcast.",
            l(&self.batches),
        );
        counter(
            &mut out,
            "opg_batch_failures_total",
            "Batches whose tx failed.",
            l(&self.batch_failures),
        );
        counter(
            &mut out,
            "opg_epochs_finalized_total",
            "Epochs finalized by this keeper.",
            l(&self.finalized),
        );
        counter(
            &mut out,
            "opg_receipts_deferred_total",
            "Valid receipts refused (503) because they could not land before their epoch's window closes.",
            l(&self.deferred),
        );
        counter(
            &mut out,
            "opg_receipts_expired_total",
            "Acknowledged receipts that missed their epoch's window and will not be counted.",
            l(&self.expired),
        );
        self.batch_size
            .render(&mut out, "opg_batch_size", "Receipts per batch.");
        self.submit_latency.render(
            &mut out,
            "opg_submit_latency_seconds",
            "Seconds from broadcast to tx result.",
        );
        let name = "opg_http_responses_total";
        let _ = writeln!(
            out,
            "# HELP {name} HTTP responses by status code.\n# TYPE {name} counter"
        );
        for (code, n) in self
            .http_responses
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            let _ = writeln!(out, "{name}{{code=\"{code}\"}} {n}");
        }
        out
    }
}

/// The deadline estimate as `/metrics` shows it (gauges, read at scrape time).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DeadlineView {
    /// Whether ingest applies the estimate (`batcher.backpressure` and a real-time clock).
    pub enabled: bool,
    /// Receipts stored but not yet counted or refused, per epoch.
    pub backlog: BTreeMap<u64, u64>,
    /// Receipts (of that epoch and earlier ones) that can still land before the epoch's window
    /// closes, per epoch (the epochs with a backlog and the current one).
    pub landable: BTreeMap<u64, u64>,
    /// Measured seconds per full tx (`None` before the first measurement).
    pub secs_per_tx: Option<f64>,
    /// Receipts a full tx carries under the tx limits.
    pub receipts_per_tx: u64,
    /// Seconds of each window kept in reserve.
    pub margin_secs: f64,
}

fn gauge_head(out: &mut String, name: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
}

impl DeadlineView {
    /// Appends the gauges in the Prometheus text format.
    pub fn render(&self, out: &mut String) {
        gauge_head(
            out,
            "opg_backpressure_enabled",
            "1 if ingest refuses receipts that could not land before their window closes.",
        );
        let _ = writeln!(out, "opg_backpressure_enabled {}", u8::from(self.enabled));
        gauge_head(
            out,
            "opg_backlog_receipts",
            "Receipts stored but not yet counted or refused on chain, by epoch.",
        );
        for (e, n) in &self.backlog {
            let _ = writeln!(out, "opg_backlog_receipts{{epoch=\"{e}\"}} {n}");
        }
        gauge_head(
            out,
            "opg_deadline_landable_receipts",
            "Receipts of this and earlier epochs that can still land before this epoch's window closes (estimate), by epoch.",
        );
        for (e, n) in &self.landable {
            let _ = writeln!(out, "opg_deadline_landable_receipts{{epoch=\"{e}\"}} {n}");
        }
        gauge_head(
            out,
            "opg_submit_seconds_per_tx",
            "Measured seconds from outbox write to recorded verdicts of a full tx (0: not measured yet).",
        );
        let _ = writeln!(
            out,
            "opg_submit_seconds_per_tx {}",
            self.secs_per_tx.unwrap_or(0.0)
        );
        gauge_head(
            out,
            "opg_submit_receipts_per_tx",
            "Receipts a full tx carries under the tx limits.",
        );
        let _ = writeln!(out, "opg_submit_receipts_per_tx {}", self.receipts_per_tx);
        gauge_head(
            out,
            "opg_deadline_margin_seconds",
            "Seconds before a window closes that the estimate keeps in reserve.",
        );
        let _ = writeln!(out, "opg_deadline_margin_seconds {}", self.margin_secs);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_reasons_and_histograms() {
        let m = Metrics::default();
        inc(&m.received, 3);
        inc_reason(&m.rejected, "node_jailed");
        inc_reason(&m.rejected, "node_jailed");
        m.batch_size.observe(7.0);
        let t = m.render();
        assert!(t.contains("opg_receipts_received_total 3\n"));
        assert!(t.contains("opg_receipts_rejected_total{reason=\"node_jailed\"} 2\n"));
        assert!(t.contains("opg_batch_size_bucket{le=\"5\"} 0\n"));
        assert!(t.contains("opg_batch_size_bucket{le=\"10\"} 1\n"));
        assert!(t.contains("opg_batch_size_count 1\n"));
        assert!(t.contains("# TYPE opg_submit_latency_seconds histogram"));
        assert!(t.contains("opg_receipts_expired_total 0\n"));
    }

    #[test]
    fn renders_the_deadline_gauges() {
        let v = DeadlineView {
            enabled: true,
            backlog: [(4, 120), (5, 30)].into(),
            landable: [(4, 80), (5, 2000)].into(),
            secs_per_tx: Some(0.25),
            receipts_per_tx: 40,
            margin_secs: 1.5,
        };
        let mut t = String::new();
        v.render(&mut t);
        for line in [
            "opg_backpressure_enabled 1\n",
            "opg_backlog_receipts{epoch=\"4\"} 120\n",
            "opg_backlog_receipts{epoch=\"5\"} 30\n",
            "opg_deadline_landable_receipts{epoch=\"4\"} 80\n",
            "opg_submit_seconds_per_tx 0.25\n",
            "opg_submit_receipts_per_tx 40\n",
            "opg_deadline_margin_seconds 1.5\n",
            "# TYPE opg_backlog_receipts gauge\n",
        ] {
            assert!(t.contains(line), "{line} missing from\n{t}");
        }
    }
}
