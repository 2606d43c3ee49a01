//! Epoch arithmetic (DESIGN §4): epoch `e` covers `[genesis + e*L, genesis + (e+1)*L)` seconds.
use cosmwasm_schema::cw_serde;

/// The epoch clock shared by the verifier, the pool and the keeper.
#[cw_serde]
#[derive(Copy, Eq)]
pub struct EpochClock {
    /// Unix time (seconds) at which epoch 0 starts.
    pub genesis: u64,
    /// Epoch length `L` in seconds (> 0).
    pub epoch_length: u64,
    /// Seconds after an epoch's end during which its receipts are still accepted.
    pub grace: u64,
}

impl EpochClock {
    /// The epoch containing unix time `t`, or `None` before genesis.
    pub fn epoch_of(&self, t: u64) -> Option<u64> {
        if t < self.genesis || self.epoch_length == 0 {
            return None;
        }
        Some((t - self.genesis) / self.epoch_length)
    }
    /// Start of epoch `e` (inclusive), seconds.
    pub fn start(&self, e: u64) -> u64 {
        self.genesis
            .saturating_add(e.saturating_mul(self.epoch_length))
    }
    /// End of epoch `e` (exclusive), seconds.
    pub fn end(&self, e: u64) -> u64 {
        self.start(e.saturating_add(1))
    }
    /// Whether receipts of epoch `e` may still be submitted at time `now`: `now < end(e) + grace`.
    pub fn open_for_submission(&self, e: u64, now: u64) -> bool {
        now < self.end(e).saturating_add(self.grace)
    }
    /// Whether epoch `e` may be finalized at `now`: `now >= end(e) + grace`.
    pub fn finalizable(&self, e: u64, now: u64) -> bool {
        !self.open_for_submission(e, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn epoch_bounds() {
        let c = EpochClock {
            genesis: 1000,
            epoch_length: 100,
            grace: 10,
        };
        assert_eq!(c.epoch_of(999), None);
        assert_eq!(c.epoch_of(1000), Some(0));
        assert_eq!(c.epoch_of(1099), Some(0));
        assert_eq!(c.epoch_of(1100), Some(1));
        assert!(c.open_for_submission(0, 1109));
        assert!(c.finalizable(0, 1110));
    }
}
