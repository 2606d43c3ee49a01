//! The caches in front of the chain: its clock (what ingest reads as "now"), the verifier
//! policy and the registry view (both trusted for 30 s).
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use opg_core::eip712::{domain_salt, verifier_domain_separator};
use opg_core::msg::verifier::ConfigResponse as VerifierConfig;
use opg_core::verify::RegistryView;

use super::{lock, wall_now, Keeper, KeeperError};
use crate::chain::{ChainError, ChainStatus};

/// How long the cached verifier policy and registry entries are trusted.
const CACHE_TTL: Duration = Duration::from_secs(30);
/// `NodesByIds` takes at most this many ids of each kind.
const MAX_IDS_PER_QUERY: usize = 256;
/// In wall-clock mode, a cached chain status older than this is read again from the chain
/// (normally the background round refreshes it long before).
const CLOCK_MAX_AGE: Duration = Duration::from_secs(60);

pub(super) struct PolicyCache {
    pub(super) config: VerifierConfig,
    pub(super) domain_separator: [u8; 32],
    pub(super) fetched: Instant,
}

pub(super) struct RegistryCache {
    pub(super) view: RegistryView,
    pub(super) fetched: Option<Instant>,
}

/// The chain's clock as ingest reads it. Asking the chain for its time on every request made
/// ingest wait for the chain (the embedded chain serves one call at a time, and a submission
/// round holds it for hundreds of milliseconds), so when the backend's block time follows the
/// wall clock the keeper answers from the last status it read instead.
pub(super) struct ChainClock {
    /// The backend's block time is `max(last block time, wall clock)` (see
    /// [`Keeper::set_clock_follows_wall`]).
    pub(super) follows_wall: AtomicBool,
    /// The last status read from the chain and the local instant it was read.
    pub(super) last: Mutex<Option<(ChainStatus, Instant)>>,
}

/// The chain time (unix seconds) answered from a cached status, or `None` when the chain must be
/// asked. Pure: `cached` is the last status and its age, `wall_now` the wall clock (unix
/// seconds). Only a backend whose block time follows the wall clock is answered from the cache:
/// its block time is `max(last block time, wall clock)`, and the last block time is at least the
/// cached one, so `max(cached, wall_now)` is what the chain would answer (unless someone moved
/// its time ahead since, which the `max_age` refresh bounds). A manual clock (tests,
/// `opg simulate`) moves only by explicit `set_time`, which the keeper cannot see: always ask.
pub fn cached_chain_time(
    follows_wall: bool,
    cached: Option<(ChainStatus, Duration)>,
    wall_now: u64,
    max_age: Duration,
) -> Option<u64> {
    match cached {
        Some((status, age)) if follows_wall && age <= max_age => Some(status.time.max(wall_now)),
        _ => None,
    }
}

impl Keeper {
    /// Reads the chain's latest block from the chain and remembers it for
    /// [`Keeper::chain_time`].
    ///
    /// Errors: the chain does not answer ([`KeeperError::Chain`]).
    pub fn chain_status(&self) -> Result<ChainStatus, KeeperError> {
        let status = self.chain.status()?;
        *lock(&self.clock.last) = Some((status, Instant::now()));
        Ok(status)
    }

    /// The chain's current time, unix seconds: from the cache when the backend follows the wall
    /// clock and the cache is fresh ([`cached_chain_time`]), else read from the chain.
    ///
    /// Errors: the chain had to be asked and did not answer ([`KeeperError::Chain`]).
    pub fn chain_time(&self) -> Result<u64, KeeperError> {
        let follows_wall = self.clock.follows_wall.load(Ordering::Relaxed);
        let cached = lock(&self.clock.last).map(|(s, at)| (s, at.elapsed()));
        match cached_chain_time(follows_wall, cached, wall_now(), CLOCK_MAX_AGE) {
            Some(t) => Ok(t),
            None => Ok(self.chain_status()?.time),
        }
    }

    pub(super) fn refresh_policy(&self) -> Result<(), KeeperError> {
        let config = self.chain.verifier_config()?;
        let chain_id = self.chain.chain_id();
        let verifier = self.chain.deployment().verifier;
        let computed = hex::encode(domain_salt(&chain_id, &verifier));
        if !config.domain_salt.eq_ignore_ascii_case(&computed) {
            return Err(KeeperError::DomainMismatch {
                chain_id,
                verifier,
                reported: config.domain_salt,
                computed,
            });
        }
        let domain_separator = verifier_domain_separator(&chain_id, &verifier);
        *lock(&self.policy) = Some(PolicyCache {
            config,
            domain_separator,
            fetched: Instant::now(),
        });
        Ok(())
    }

    /// The verifier config (cached for 30 s).
    pub fn verifier_config(&self) -> Result<VerifierConfig, KeeperError> {
        let stale = lock(&self.policy)
            .as_ref()
            .is_none_or(|p| p.fetched.elapsed() > CACHE_TTL);
        if stale {
            self.refresh_policy()?;
        }
        let guard = lock(&self.policy);
        let p = guard
            .as_ref()
            .ok_or_else(|| ChainError::Backend("no verifier policy".into()))?;
        Ok(p.config.clone())
    }

    pub(super) fn domain_separator(&self) -> Result<[u8; 32], KeeperError> {
        self.verifier_config()?;
        let guard = lock(&self.policy);
        let p = guard
            .as_ref()
            .ok_or_else(|| ChainError::Backend("no verifier policy".into()))?;
        Ok(p.domain_separator)
    }

    /// A registry view covering `node_ids` and `model_ids`: the cache if it is fresh and has
    /// them all, else one refresh from the chain (in chunks of 256 ids).
    pub(super) fn registry_view(
        &self,
        node_ids: &BTreeSet<String>,
        model_ids: &BTreeSet<String>,
    ) -> Result<RegistryView, KeeperError> {
        let mut cache = lock(&self.registry);
        let fresh = cache.fetched.is_some_and(|f| f.elapsed() <= CACHE_TTL);
        let complete = node_ids.iter().all(|n| cache.view.nodes.contains_key(n))
            && model_ids.iter().all(|m| cache.view.models.contains_key(m));
        if fresh && complete {
            return Ok(cache.view.clone());
        }
        // refresh everything cached plus the new ids, so stale entries (jailed nodes) update too
        let mut nodes: BTreeSet<String> = cache.view.nodes.keys().cloned().collect();
        nodes.extend(node_ids.iter().cloned());
        let mut models: BTreeSet<String> = cache.view.models.keys().cloned().collect();
        models.extend(model_ids.iter().cloned());
        let nodes: Vec<String> = nodes.into_iter().collect();
        let models: Vec<String> = models.into_iter().collect();
        let mut view = RegistryView::default();
        let rounds = nodes
            .len()
            .div_ceil(MAX_IDS_PER_QUERY)
            .max(models.len().div_ceil(MAX_IDS_PER_QUERY))
            .max(1);
        for i in 0..rounds {
            let ns = nodes
                .iter()
                .skip(i * MAX_IDS_PER_QUERY)
                .take(MAX_IDS_PER_QUERY)
                .cloned()
                .collect::<Vec<_>>();
            let ms = models
                .iter()
                .skip(i * MAX_IDS_PER_QUERY)
                .take(MAX_IDS_PER_QUERY)
                .cloned()
                .collect::<Vec<_>>();
            let part: RegistryView = self.chain.registry_view(&ns, &ms)?.into();
            view.nodes.extend(part.nodes);
            view.models.extend(part.models);
        }
        cache.view = view.clone();
        cache.fetched = Some(Instant::now());
        Ok(view)
    }

    /// Drops the cached registry view (e.g. after a governance change in a simulation).
    pub fn invalidate_cache(&self) {
        lock(&self.registry).fetched = None;
        if let Some(p) = lock(&self.policy).as_mut() {
            p.fetched = Instant::now() - CACHE_TTL - Duration::from_secs(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::chain::embedded::{ClockMode, EmbeddedChain};
    use crate::chain::ChainBackend;
    use crate::config::KeeperConfig;
    use crate::genesis::GenesisConfig;
    use crate::store::Store;

    const T0: u64 = 1_700_000_000;

    fn keeper(genesis_time: u64) -> (Arc<Keeper>, Arc<EmbeddedChain>) {
        let mut g = GenesisConfig::dev("service-unit");
        g.genesis_time = Some(genesis_time);
        let chain = Arc::new(EmbeddedChain::in_memory(&g).unwrap());
        let cfg = KeeperConfig {
            genesis: Some(g),
            ..Default::default()
        };
        let k = Keeper::new(cfg, Store::in_memory().unwrap(), chain.clone()).unwrap();
        (k, chain)
    }

    fn status(time: u64) -> ChainStatus {
        ChainStatus { height: 7, time }
    }

    #[test]
    fn cached_time_only_for_a_wall_clock_backend_and_a_fresh_cache() {
        let max = Duration::from_secs(60);
        let fresh = Some((status(100), Duration::from_secs(5)));
        // wall clock: the later of the cached block time and the wall clock
        assert_eq!(cached_chain_time(true, fresh, 130, max), Some(130));
        assert_eq!(cached_chain_time(true, fresh, 90, max), Some(100));
        // too old, no cache, or a manual clock: ask the chain
        let old = Some((status(100), Duration::from_secs(61)));
        assert_eq!(cached_chain_time(true, old, 130, max), None);
        assert_eq!(cached_chain_time(true, None, 130, max), None);
        assert_eq!(cached_chain_time(false, fresh, 130, max), None);
    }

    #[test]
    fn manual_clock_is_read_exactly_after_every_set_time() {
        let (k, chain) = keeper(T0);
        chain.set_time(T0 + 10).unwrap();
        assert_eq!(k.chain_time().unwrap(), T0 + 10);
        // the cache of an earlier read must not hide a set_time
        assert_eq!(k.chain_status().unwrap().time, T0 + 10);
        chain.set_time(T0 + 5000).unwrap();
        assert_eq!(k.chain_time().unwrap(), T0 + 5000);
        assert_eq!(k.verify_receipts(&[]).unwrap().now, T0 + 5000);
    }

    /// The stall of issue "ingest waits for a submission round": with a wall-clock chain,
    /// verification takes the time from the cache while the chain thread is busy, and the time
    /// it uses is the one the chain then reports.
    #[test]
    fn wall_clock_ingest_does_not_wait_for_a_busy_chain() {
        let (k, chain) = keeper(wall_now() - 100);
        chain.set_clock_mode(ClockMode::Wall).unwrap();
        k.set_clock_follows_wall(true);
        k.chain_status().unwrap();
        // warm the registry cache (the verifier policy was read by Keeper::new)
        k.verify_receipts(&[]).unwrap();

        let (started_tx, started_rx) = std::sync::mpsc::channel();
        let busy = {
            let chain = chain.clone();
            std::thread::spawn(move || {
                chain
                    .with_runtime(move |_| {
                        started_tx.send(()).unwrap();
                        std::thread::sleep(Duration::from_millis(1500));
                    })
                    .unwrap();
            })
        };
        started_rx.recv().unwrap();
        let before = wall_now();
        let t = Instant::now();
        let batch = k.verify_receipts(&[]).unwrap();
        let took = t.elapsed();
        assert!(took < Duration::from_millis(500), "waited {took:?}");
        assert!(batch.now >= before, "{} < {before}", batch.now);
        busy.join().unwrap();
        // the chain agrees (its time is at least ours and only the wait passed since)
        let chain_now = chain.status().unwrap().time;
        assert!(
            chain_now >= batch.now && chain_now <= batch.now + 3,
            "{chain_now} vs {}",
            batch.now
        );
    }

    /// Without the wall-clock promise the keeper asks the chain, so it does wait for it: the
    /// test above shows something.
    #[test]
    fn without_the_wall_clock_promise_ingest_asks_the_chain() {
        let (k, chain) = keeper(wall_now() - 100);
        chain.set_clock_mode(ClockMode::Wall).unwrap();
        k.chain_status().unwrap();
        k.verify_receipts(&[]).unwrap();
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        let busy = {
            let chain = chain.clone();
            std::thread::spawn(move || {
                chain
                    .with_runtime(move |_| {
                        started_tx.send(()).unwrap();
                        std::thread::sleep(Duration::from_millis(600));
                    })
                    .unwrap();
            })
        };
        started_rx.recv().unwrap();
        let t = Instant::now();
        k.verify_receipts(&[]).unwrap();
        assert!(
            t.elapsed() >= Duration::from_millis(300),
            "{:?}",
            t.elapsed()
        );
        busy.join().unwrap();
    }
}
