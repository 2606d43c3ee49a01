//! Deadline backpressure (issue 17): the submission pace, what can still land before each
//! window closes, and whether the next round is due right away.
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::Ordering;

use opg_core::msg::verifier::ConfigResponse as VerifierConfig;

use super::{lock, wall_secs, Keeper, KeeperError};
use crate::batcher::{
    batch_secs, landable_before, receipts_per_tx, CostModel, PaceMeter, SubmitPace,
};
use crate::metrics::{inc, DeadlineView};
use crate::store::{Admission, PaceRecord};

/// What the pace estimate needs to know about a batch besides its timing.
#[derive(Clone, Copy, Debug)]
pub(super) struct PaceContext {
    /// Receipts of a full tx.
    pub(super) full_tx: u64,
    /// Longest gap between recorded batches that counts as submission time (half the grace).
    pub(super) max_gap_secs: f64,
}

/// Whether the next round is due right away rather than after the interval: the last round
/// was `cut_short`; or the `backlog` (receipts per epoch not yet recorded) holds receipts of an
/// epoch before `current_epoch` (ended, in its grace period: its window is closing); or the
/// backlog of some epoch and the epochs before it (submitted first) exceeds
/// `landable_after_wait` of that epoch, what could still land before its window closes if the
/// next round came only after one more interval (waiting would put it at risk). With time to
/// spare rounds keep to the interval, so submission does not compete with ingest for the CPU
/// and the store. Pure.
pub fn round_due_now(
    backlog: &BTreeMap<u64, u64>,
    current_epoch: Option<u64>,
    landable_after_wait: &BTreeMap<u64, u64>,
    cut_short: bool,
) -> bool {
    let closing = current_epoch.is_some_and(|c| backlog.range(..c).any(|(_, n)| *n > 0));
    let mut upto = 0u64;
    let tight = backlog.iter().any(|(e, n)| {
        upto = upto.saturating_add(*n);
        landable_after_wait.get(e).is_some_and(|l| upto > *l)
    });
    cut_short || closing || tight
}

/// The pace estimate and the last recorded batch (wall-clock unix seconds, whether more work
/// was due right away after it), as kept in the store's [`PaceRecord`].
pub(super) struct PaceState {
    pub(super) meter: PaceMeter,
    pub(super) last: Option<(f64, bool)>,
}

impl Keeper {
    /// Receipts per full tx under the tx limits (keeper and verifier `max_batch`, gas and bytes
    /// of a receipt of `receipt_bytes`).
    pub(super) fn full_tx(&self, config: &VerifierConfig, receipt_bytes: usize) -> u64 {
        let b = &self.config.batcher;
        receipts_per_tx(
            b.max_batch.min(config.max_batch as usize).max(1),
            CostModel {
                gas_per_item: b.gas_per_receipt,
                gas_per_byte: b.gas_per_byte,
            },
            receipt_bytes,
            b.max_gas_per_tx,
            b.max_tx_bytes,
        )
    }

    /// The submission pace: the measured seconds per full tx (until the first measurement,
    /// one tx per `batch_interval_secs`), and the receipts a full tx carries.
    pub fn submit_pace(&self, config: &VerifierConfig) -> SubmitPace {
        let bytes = self.receipt_bytes.load(Ordering::Relaxed) as usize;
        SubmitPace {
            secs_per_tx: lock(&self.pace)
                .meter
                .secs_per_tx
                .unwrap_or(self.config.batcher.batch_interval_secs.max(1) as f64),
            receipts_per_tx: self.full_tx(config, bytes),
        }
    }

    /// Seconds of a window the estimate keeps in reserve: `batcher.deadline_margin_secs`, or a
    /// quarter of the grace period.
    fn margin_secs(&self, config: &VerifierConfig) -> f64 {
        match self.config.batcher.deadline_margin_secs {
            Some(m) => m as f64,
            None => config.clock.grace as f64 / 4.0,
        }
    }

    /// Seconds until the submission window of `epoch` closes, at chain time `now`: measured
    /// from the later of `now` and the wall clock (a chain's last block time lags real time).
    fn secs_left(config: &VerifierConfig, epoch: u64, now: u64) -> f64 {
        let closes = config.clock.end(epoch).saturating_add(config.clock.grace) as f64;
        closes - wall_secs().max(now as f64)
    }

    /// The deadline limits for receipts of `epochs` at chain time `now`: per epoch, the receipts
    /// that can still land before its window closes ([`landable_before`]); `None` when
    /// backpressure is off or the clock is not real time.
    pub(super) fn admission(
        &self,
        config: &VerifierConfig,
        epochs: impl IntoIterator<Item = u64>,
        now: u64,
        pace: SubmitPace,
    ) -> Option<Admission> {
        if !self.config.batcher.backpressure || !self.is_real_time() {
            return None;
        }
        let margin = self.margin_secs(config);
        Some(
            epochs
                .into_iter()
                .map(|e| {
                    let left = Self::secs_left(config, e, now);
                    (e, landable_before(left, margin, pace))
                })
                .collect(),
        )
    }

    /// [`round_due_now`] for the store's backlog at chain time `now`, with the current pace and
    /// one `batch_interval_secs` of waiting.
    pub(super) fn due_now(&self, config: &VerifierConfig, now: u64, cut_short: bool) -> bool {
        let backlog = self.store.backlog();
        let pace = self.submit_pace(config);
        let wait = self.config.batcher.batch_interval_secs as f64;
        let margin = self.margin_secs(config);
        let after_wait = backlog
            .keys()
            .map(|&e| {
                let left = Self::secs_left(config, e, now) - wait;
                (e, landable_before(left, margin, pace))
            })
            .collect();
        round_due_now(&backlog, config.clock.epoch_of(now), &after_wait, cut_short)
    }

    /// What `/metrics` shows of the deadline estimate: the backlog per epoch and, for those
    /// epochs and the current one, the receipts that can still land before the window closes.
    ///
    /// Errors: the verifier config or chain time could not be read.
    pub fn deadline_view(&self) -> Result<DeadlineView, KeeperError> {
        let config = self.verifier_config()?;
        let now = self.chain_time()?;
        let pace = self.submit_pace(&config);
        let backlog = self.store.backlog();
        let margin = self.margin_secs(&config);
        let mut epochs: BTreeSet<u64> = backlog.keys().copied().collect();
        epochs.extend(config.clock.epoch_of(now));
        let landable = epochs
            .iter()
            .map(|&e| {
                let left = Self::secs_left(&config, e, now);
                (e, landable_before(left, margin, pace))
            })
            .collect();
        Ok(DeadlineView {
            enabled: self.config.batcher.backpressure && self.is_real_time(),
            backlog,
            landable,
            secs_per_tx: lock(&self.pace).meter.secs_per_tx,
            receipts_per_tx: pace.receipts_per_tx,
            margin_secs: margin,
        })
    }

    /// The Prometheus text of `/metrics`: the counters of [`crate::metrics::Metrics`] and the deadline gauges
    /// of [`Keeper::deadline_view`] (left out if the chain cannot be read).
    pub fn metrics_text(&self) -> String {
        let mut out = self.metrics.render();
        match self.deadline_view() {
            Ok(v) => v.render(&mut out),
            Err(e) => tracing::warn!(error = %e, "deadline gauges unavailable"),
        }
        out
    }

    /// Counts `n` acknowledged receipts of `epoch` that will not be counted because their
    /// window closed, and says so at ERROR: the promise of DESIGN §6 was broken.
    pub(super) fn expired_loudly(&self, epoch: u64, n: u64, how: &str) {
        if n == 0 {
            return;
        }
        inc(&self.metrics.expired, n);
        tracing::error!(
            epoch,
            count = n,
            "{n} acknowledged receipts of epoch {epoch} {how}: they will not be counted"
        );
    }

    /// Feeds a recorded batch of `n` receipts whose round trip took `round_trip` seconds to the
    /// pace estimate ([`batch_secs`]: the time since the previous recorded batch if the keeper
    /// was busy since, restarts included) and saves it with the time of this batch and whether
    /// the keeper is busy: receipts are still waiting, and a real-time round goes on until none
    /// is (or its time budget is spent, and then the next round follows at once).
    pub(super) fn observe_pace(&self, n: u64, round_trip: f64, ctx: PaceContext) {
        let at = wall_secs();
        let busy = self.is_real_time() && !self.store.backlog().is_empty();
        let record = {
            let mut p = lock(&self.pace);
            let since_busy = p.last.filter(|(_, busy)| *busy).map(|(t, _)| at - t);
            let secs = batch_secs(round_trip, since_busy, ctx.max_gap_secs);
            p.meter.observe(n, secs, ctx.full_tx);
            p.last = Some((at, busy));
            p.meter.secs_per_tx.map(|secs_per_tx| PaceRecord {
                secs_per_tx,
                last_batch_at: at,
                busy,
            })
        };
        if let Some(r) = record {
            // a lost write only means a restart begins from an older estimate
            if let Err(err) = self.store.save_pace(&r) {
                tracing::warn!(error = %err, "cannot save the submission pace");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_come_back_to_back_for_a_closing_epoch_or_a_tight_window() {
        let none = BTreeMap::new();
        let roomy: BTreeMap<u64, u64> = [(4, 1000), (5, 1000), (6, 1000)].into();
        // nothing waiting: the interval
        assert!(!round_due_now(&none, Some(5), &roomy, false));
        // a round cut short by its time budget: again at once
        assert!(round_due_now(&none, Some(5), &roomy, true));
        // receipts of the current epoch with time to spare wait for the interval, however many
        assert!(!round_due_now(&[(5, 1000)].into(), Some(5), &roomy, false));
        // but not once waiting would leave more than can land: epoch 6 counts epoch 5's backlog
        assert!(round_due_now(&[(5, 1001)].into(), Some(5), &roomy, false));
        assert!(round_due_now(
            &[(5, 600), (6, 401)].into(),
            Some(5),
            &roomy,
            false
        ));
        assert!(!round_due_now(
            &[(5, 600), (6, 400)].into(),
            Some(5),
            &roomy,
            false
        ));
        // receipts of an ended epoch (in its grace period) never wait
        assert!(round_due_now(&[(4, 1)].into(), Some(5), &roomy, false));
        // an empty entry is no backlog
        assert!(!round_due_now(&[(4, 0)].into(), Some(5), &roomy, false));
        // before genesis no epoch has ended
        assert!(!round_due_now(&[(0, 1)].into(), None, &roomy, false));
    }
}
