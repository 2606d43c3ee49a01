//! The transparency report (issue 18, DESIGN §4 "the split the network never published"): the
//! reward pool's `EpochReport`s and per-node `NodeRewards` of a range of epochs, read through a
//! [`Source`] (any [`ChainBackend`]: the embedded chain of a keeper home or of `opg simulate`,
//! or a real chain over CometBFT RPC), turned into [`Figures`], and written as a table, JSON,
//! CSV ([`figures`]), SVG charts ([`chart`], plotters) and one HTML page ([`html`]) that the
//! keeper serves at `GET /` and `GET /epochs/{e}` ([`web`]).
//!
//! Every number shown is a field of a pool answer or an integer sum/difference of such fields
//! ([`Split`]); nothing is estimated. Amounts are integers: `uopg` (the pool's denom) and
//! micro-USD (raw value and counted value, the sum over calls of `min(value, v_cap)`).
//!
//! Work is bounded: a [`Figures`] of `n` epochs costs one `Config`, one `Params`, `n`
//! `EpochReport` queries, one registry `Nodes` page per 100 nodes (at most [`MAX_NODES`] nodes)
//! and one `NodeRewards` page per node and 100 epochs. A [`ReportCache`] keeps finalized epochs
//! (their figures change only by claims, refreshed after [`FINALIZED_REFRESH`]).
pub mod chart;
pub mod figures;
pub mod html;
pub mod web;

use std::collections::BTreeMap;
use std::ops::RangeInclusive;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use cosmwasm_std::{Decimal, Uint128};
use opg_core::epoch::EpochClock;
use opg_core::msg::pool::{
    ConfigResponse as PoolConfig, EpochReport, NodeEpochReward, NodeRewardsResponse,
    ParamsResponse, QueryMsg as PoolQuery, RewardParams,
};
use opg_core::msg::registry::{NodesResponse, QueryMsg as RegistryQuery};
use opg_core::types::NodeKindTag;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::chain::{ChainBackend, ChainError, ChainStatus, ContractRole, Deployment};

/// Most nodes a report lists (two registry pages); more are counted in
/// [`Figures::nodes_total`] but left out of the per-node rows.
pub const MAX_NODES: usize = 200;
/// Most epochs one report covers (`opg report --from/--to`).
pub const MAX_EPOCHS: u64 = 1000;
/// A cached finalized epoch is read again after this long (claims change `paid` and `claimed`).
pub const FINALIZED_REFRESH: Duration = Duration::from_secs(60);
/// Page size of the paginated queries (the contracts' maximum).
const PAGE: u32 = 100;

/// Read-only access to a deployment's public state: what a report needs.
pub trait Source {
    /// Chain id.
    fn chain_id(&self) -> String;
    /// Contract addresses.
    fn deployment(&self) -> Deployment;
    /// Latest block height and time.
    fn status(&self) -> Result<ChainStatus, ChainError>;
    /// A smart query of one of the three contracts, as JSON.
    fn query_json(
        &self,
        contract: ContractRole,
        msg: &serde_json::Value,
    ) -> Result<serde_json::Value, ChainError>;
}

impl<T: ChainBackend + ?Sized> Source for T {
    fn chain_id(&self) -> String {
        ChainBackend::chain_id(self)
    }
    fn deployment(&self) -> Deployment {
        ChainBackend::deployment(self)
    }
    fn status(&self) -> Result<ChainStatus, ChainError> {
        ChainBackend::status(self)
    }
    fn query_json(
        &self,
        contract: ContractRole,
        msg: &serde_json::Value,
    ) -> Result<serde_json::Value, ChainError> {
        ChainBackend::query_json(self, contract, msg)
    }
}

fn query<S: Source + ?Sized, T: DeserializeOwned>(
    source: &S,
    contract: ContractRole,
    msg: &impl Serialize,
    what: &str,
) -> Result<T, ChainError> {
    let msg = serde_json::to_value(msg).map_err(|e| ChainError::Decode {
        what: format!("{what} query"),
        message: e.to_string(),
    })?;
    let v = source.query_json(contract, &msg)?;
    serde_json::from_value(v).map_err(|e| ChainError::Decode {
        what: what.into(),
        message: e.to_string(),
    })
}

/// Figures of one epoch derived from its report by integer sums and differences (uopg unless
/// said otherwise).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Split {
    /// Calls of both classes.
    pub calls: u64,
    /// Community calls / all calls (0 without calls).
    pub community_calls_share: Decimal,
    /// Raw value of both classes (micro-USD).
    pub raw_value: Uint128,
    /// Usage rewards of both classes (uopg).
    pub usage_awarded: Uint128,
    /// Hardware stipend (uopg; community class).
    pub stipend_awarded: Uint128,
    /// `usage_awarded + stipend_awarded` (uopg).
    pub awarded: Uint128,
    /// `budget - awarded`: what the caps (`c_call`, `stipend_cap`), empty classes and rounding
    /// left in the pool (uopg); at least the pool's `usage_unpaid + stipend_unpaid`.
    pub left_in_pool: Uint128,
    /// Usage rewards claimed so far, both classes (uopg).
    pub usage_paid: Uint128,
    /// Stipend claimed so far, both classes (uopg).
    pub stipend_paid: Uint128,
    /// `awarded - paid` while the claim window is open: awarded, still claimable (uopg).
    pub unclaimed: Uint128,
    /// `awarded - paid` once the claim window passed (`expired`): never claimed, gone back to the
    /// pool (uopg).
    pub expired_unclaimed: Uint128,
}

impl Split {
    /// The split of `r`. Pure; saturating where the pool's invariants (`awarded <= budget`,
    /// `paid <= awarded`) would make a difference negative.
    pub fn of(r: &EpochReport) -> Split {
        let calls = r.commercial.calls.saturating_add(r.community.calls);
        let community_calls_share = if calls == 0 {
            Decimal::zero()
        } else {
            Decimal::from_ratio(r.community.calls, calls)
        };
        let usage_awarded = r
            .commercial
            .usage_rewards
            .saturating_add(r.community.usage_rewards);
        let stipend_awarded = r.commercial.stipend.saturating_add(r.community.stipend);
        let awarded = usage_awarded.saturating_add(stipend_awarded);
        Split {
            calls,
            community_calls_share,
            raw_value: r.commercial.raw_value.saturating_add(r.community.raw_value),
            usage_awarded,
            stipend_awarded,
            awarded,
            left_in_pool: r.budget.saturating_sub(awarded),
            usage_paid: r
                .commercial
                .usage_paid
                .saturating_add(r.community.usage_paid),
            stipend_paid: r
                .commercial
                .stipend_paid
                .saturating_add(r.community.stipend_paid),
            unclaimed: if r.expired {
                Uint128::zero()
            } else {
                awarded.saturating_sub(r.paid)
            },
            expired_unclaimed: if r.expired {
                awarded.saturating_sub(r.paid)
            } else {
                Uint128::zero()
            },
        }
    }
}

/// One epoch: the pool's report, the target share in force for it and the [`Split`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochFigures {
    /// The pool's `EpochReport`, unchanged.
    pub report: EpochReport,
    /// The target community share `S*` of the params in force for the epoch (the pool's
    /// `EpochParams`).
    pub target_share: Decimal,
    /// Derived sums.
    pub split: Split,
}

impl EpochFigures {
    /// Figures of a report under a target share.
    pub fn new(report: EpochReport, target_share: Decimal) -> Self {
        let split = Split::of(&report);
        EpochFigures {
            report,
            target_share,
            split,
        }
    }
}

/// A registered node as the report lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeSummary {
    /// Node id.
    pub node_id: String,
    /// `proxy` or `local`.
    pub kind: String,
    /// Registry status (`active`, `jailed`, ...).
    pub status: String,
}

/// A node's figures in one epoch (the pool's `NodeRewards` entry).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NodeRow {
    /// Node id.
    pub node_id: String,
    /// `proxy` or `local`.
    pub kind: String,
    /// The pool's entry.
    #[serde(flatten)]
    pub reward: NodeEpochReward,
}

/// Everything a report shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Figures {
    /// Chain id.
    pub chain_id: String,
    /// Contract addresses.
    pub deployment: Deployment,
    /// Latest block when read.
    pub status: ChainStatus,
    /// The pool's config (denom, clock, `next_to_finalize`, `reserved`).
    pub pool: PoolConfig,
    /// Params in force and scheduled.
    pub params: ParamsResponse,
    /// The epoch containing the latest block time (`None` before genesis).
    pub current_epoch: Option<u64>,
    /// Epochs in ascending order.
    pub epochs: Vec<EpochFigures>,
    /// Registered nodes listed (at most [`MAX_NODES`], id order).
    pub nodes: Vec<NodeSummary>,
    /// Registered nodes in all (more than `nodes.len()` when truncated).
    pub nodes_total: usize,
    /// Per node and epoch of the range, in node then epoch order (epochs without a tally of the
    /// node are absent).
    pub node_rows: Vec<NodeRow>,
}

impl Figures {
    /// The figures of epoch `e`, if in range.
    pub fn epoch(&self, e: u64) -> Option<&EpochFigures> {
        self.epochs.iter().find(|f| f.report.epoch == e)
    }
    /// The latest finalized epoch in range.
    pub fn latest_finalized(&self) -> Option<&EpochFigures> {
        self.epochs.iter().rev().find(|f| f.report.finalized)
    }
    /// Rows of epoch `e`.
    pub fn rows_of(&self, e: u64) -> impl Iterator<Item = &NodeRow> {
        self.node_rows.iter().filter(move |r| r.reward.epoch == e)
    }
    /// Per node: the sum of its finalized rewards over the range (uopg), in node order; nodes
    /// without a finalized reward are left out.
    pub fn rewards_per_node(&self) -> Vec<(String, Uint128)> {
        let mut out: Vec<(String, Uint128)> = Vec::new();
        for r in &self.node_rows {
            let Some(v) = r.reward.reward else { continue };
            match out.last_mut() {
                Some((id, sum)) if *id == r.node_id => *sum = sum.saturating_add(v),
                _ => out.push((r.node_id.clone(), v)),
            }
        }
        out
    }
    /// The community share target `S*` in force now.
    pub fn target_share(&self) -> Decimal {
        self.params.current.target_share
    }
}

/// Errors of a report.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The chain did not answer or answered something undecodable.
    #[error(transparent)]
    Chain(#[from] ChainError),
    /// An epoch range that is empty or too long.
    #[error("invalid epoch range {from}..={to}: {reason}")]
    Range {
        /// First epoch.
        from: u64,
        /// Last epoch.
        to: u64,
        /// Why.
        reason: String,
    },
}

/// The epoch containing `status.time` under `clock`.
pub fn current_epoch(clock: &EpochClock, status: &ChainStatus) -> Option<u64> {
    clock.epoch_of(status.time)
}

/// What every report reads first: the latest block and the pool's config (its clock gives the
/// current epoch). Read once per page or report ([`Head::read`]) and handed to
/// [`ReportCache::collect_at`], so a request queries each of them once.
#[derive(Clone, Debug, PartialEq)]
pub struct Head {
    /// Latest block.
    pub status: ChainStatus,
    /// The pool's config.
    pub pool: PoolConfig,
}

impl Head {
    /// Queries `status` and the pool's `Config`. Errors: the chain's.
    pub fn read<S: Source + ?Sized>(source: &S) -> Result<Head, ChainError> {
        let status = source.status()?;
        let pool: PoolConfig = query(
            source,
            ContractRole::Pool,
            &PoolQuery::Config {},
            "pool config",
        )?;
        Ok(Head { status, pool })
    }

    /// The epoch of the latest block ([`current_epoch`]).
    pub fn current_epoch(&self) -> Option<u64> {
        current_epoch(&self.pool.clock, &self.status)
    }

    /// The `window` epochs up to the current one (the last finalized one and the open ones
    /// after it), or `0..=0` before genesis.
    pub fn default_range(&self, window: u64) -> RangeInclusive<u64> {
        let to = self.current_epoch().unwrap_or(0);
        to.saturating_sub(window.max(1) - 1)..=to
    }
}

#[derive(Default)]
struct CacheInner {
    /// Finalized epochs: figures, node rows, when read.
    epochs: BTreeMap<u64, (EpochFigures, Vec<NodeRow>, Instant)>,
    /// Registry nodes and total, when read.
    nodes: Option<(Vec<NodeSummary>, usize, Instant)>,
}

/// A cache of finalized epochs (and of the node list) shared by the keeper's page handlers, so a
/// page request reads from the chain only the epochs that are open, new or older than
/// [`FINALIZED_REFRESH`].
#[derive(Default)]
pub struct ReportCache {
    inner: Mutex<CacheInner>,
    /// Reads of the chain (`EpochReport` queries) since creation: for tests of the bound.
    reads: std::sync::atomic::AtomicU64,
}

impl ReportCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// `EpochReport` queries this cache made so far.
    pub fn epoch_reads(&self) -> u64 {
        self.reads.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, CacheInner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The figures of `epochs` (clamped to epochs that have started; an empty result if none
    /// has). Errors: the chain ([`ReportError::Chain`]), a range longer than [`MAX_EPOCHS`]
    /// or reversed ([`ReportError::Range`]).
    pub fn collect<S: Source + ?Sized>(
        &self,
        source: &S,
        epochs: RangeInclusive<u64>,
    ) -> Result<Figures, ReportError> {
        let head = Head::read(source)?;
        self.collect_at(source, &head, epochs)
    }

    /// [`ReportCache::collect`] with the chain status and pool config already read.
    pub fn collect_at<S: Source + ?Sized>(
        &self,
        source: &S,
        head: &Head,
        epochs: RangeInclusive<u64>,
    ) -> Result<Figures, ReportError> {
        let (from, to) = (*epochs.start(), *epochs.end());
        if from > to {
            return Err(ReportError::Range {
                from,
                to,
                reason: "the first epoch is after the last".into(),
            });
        }
        if to - from >= MAX_EPOCHS {
            return Err(ReportError::Range {
                from,
                to,
                reason: format!("at most {MAX_EPOCHS} epochs per report"),
            });
        }
        let (status, pool) = (head.status, head.pool.clone());
        let params: ParamsResponse = query(
            source,
            ContractRole::Pool,
            &PoolQuery::Params {},
            "pool params",
        )?;
        let current = current_epoch(&pool.clock, &status);
        let to = current.map(|c| to.min(c));
        let (nodes, nodes_total) = self.nodes(source)?;

        let mut epochs_out = Vec::new();
        let mut node_rows: BTreeMap<(String, u64), NodeRow> = BTreeMap::new();
        if let Some(to) = to.filter(|t| *t >= from) {
            // cached finalized epochs first; the others are read
            let mut missing = Vec::new();
            {
                let c = self.lock();
                for e in from..=to {
                    match c.epochs.get(&e) {
                        Some((f, rows, at)) if at.elapsed() < FINALIZED_REFRESH => {
                            epochs_out.push(f.clone());
                            for r in rows {
                                node_rows.insert((r.node_id.clone(), e), r.clone());
                            }
                        }
                        _ => missing.push(e),
                    }
                }
            }
            if let (Some(&lo), Some(&hi)) = (missing.first(), missing.last()) {
                let mut fresh = Vec::new();
                for &e in &missing {
                    let r: EpochReport = query(
                        source,
                        ContractRole::Pool,
                        &PoolQuery::EpochReport { epoch: e },
                        "epoch report",
                    )?;
                    let p: RewardParams = query(
                        source,
                        ContractRole::Pool,
                        &PoolQuery::EpochParams { epoch: e },
                        "epoch params",
                    )?;
                    self.reads
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    fresh.push(EpochFigures::new(r, p.target_share));
                }
                let mut fresh_rows: Vec<NodeRow> = Vec::new();
                for n in &nodes {
                    fresh_rows.extend(
                        node_rewards(source, &n.node_id, lo, hi)?
                            .into_iter()
                            .filter(|r| missing.binary_search(&r.epoch).is_ok())
                            .map(|reward| NodeRow {
                                node_id: n.node_id.clone(),
                                kind: n.kind.clone(),
                                reward,
                            }),
                    );
                }
                let now = Instant::now();
                let mut c = self.lock();
                for f in &fresh {
                    if f.report.finalized {
                        let e = f.report.epoch;
                        let rows: Vec<NodeRow> = fresh_rows
                            .iter()
                            .filter(|r| r.reward.epoch == e)
                            .cloned()
                            .collect();
                        c.epochs.insert(e, (f.clone(), rows, now));
                    }
                }
                drop(c);
                for r in fresh_rows {
                    node_rows.insert((r.node_id.clone(), r.reward.epoch), r);
                }
                epochs_out.extend(fresh);
                epochs_out.sort_by_key(|f| f.report.epoch);
            }
        }
        Ok(Figures {
            chain_id: source.chain_id(),
            deployment: source.deployment(),
            status,
            pool,
            params,
            current_epoch: current,
            epochs: epochs_out,
            nodes,
            nodes_total,
            node_rows: node_rows.into_values().collect(),
        })
    }

    fn nodes<S: Source + ?Sized>(
        &self,
        source: &S,
    ) -> Result<(Vec<NodeSummary>, usize), ReportError> {
        if let Some((n, total, at)) = &self.lock().nodes {
            if at.elapsed() < FINALIZED_REFRESH {
                return Ok((n.clone(), *total));
            }
        }
        let (nodes, total) = registry_nodes(source)?;
        self.lock().nodes = Some((nodes.clone(), total, Instant::now()));
        Ok((nodes, total))
    }
}

/// The registry's nodes in id order, at most [`MAX_NODES`], and whether more exist (the count
/// is then `MAX_NODES + 1`: the registry has no count query).
fn registry_nodes<S: Source + ?Sized>(source: &S) -> Result<(Vec<NodeSummary>, usize), ChainError> {
    let mut out = Vec::new();
    let mut start_after = None;
    loop {
        let page: NodesResponse = query(
            source,
            ContractRole::Registry,
            &RegistryQuery::Nodes {
                kind: None,
                status: None,
                start_after: start_after.clone(),
                limit: Some(PAGE),
            },
            "registry nodes",
        )?;
        let n = page.nodes.len();
        for info in page.nodes {
            if out.len() == MAX_NODES {
                return Ok((out, MAX_NODES + 1));
            }
            start_after = Some(info.node_id.clone());
            out.push(NodeSummary {
                node_id: info.node_id,
                kind: match info.kind {
                    NodeKindTag::Proxy => "proxy",
                    NodeKindTag::Local => "local",
                }
                .into(),
                status: serde_json::to_value(info.status)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
            });
        }
        if n < PAGE as usize {
            let total = out.len();
            return Ok((out, total));
        }
    }
}

/// A node's pool entries of epochs `lo..=hi` (pages of 100).
fn node_rewards<S: Source + ?Sized>(
    source: &S,
    node_id: &str,
    lo: u64,
    hi: u64,
) -> Result<Vec<NodeEpochReward>, ChainError> {
    let mut out = Vec::new();
    let mut start_after = lo.checked_sub(1);
    loop {
        let page: NodeRewardsResponse = query(
            source,
            ContractRole::Pool,
            &PoolQuery::NodeRewards {
                node_id: node_id.into(),
                start_after,
                limit: Some(PAGE),
            },
            "node rewards",
        )?;
        let n = page.epochs.len();
        for r in page.epochs {
            if r.epoch > hi {
                return Ok(out);
            }
            start_after = Some(r.epoch);
            if r.epoch >= lo {
                out.push(r);
            }
        }
        if n < PAGE as usize {
            return Ok(out);
        }
    }
}

/// The default epoch range of a report: the `window` epochs up to the current one (the last
/// finalized one and the open ones after it), or `0..=0` before genesis.
pub fn default_range<S: Source + ?Sized>(
    source: &S,
    window: u64,
) -> Result<RangeInclusive<u64>, ChainError> {
    Ok(Head::read(source)?.default_range(window))
}

/// The figures of epochs `0..epochs` of a simulated chain (`opg simulate`), read after its
/// last claim. Errors: as [`ReportCache::collect`].
pub fn simulated<S: Source + ?Sized>(source: &S, epochs: u64) -> Result<Figures, ReportError> {
    ReportCache::new().collect(source, 0..=epochs.saturating_sub(1))
}

/// Writes `report.html` of the provenance run of `opg simulate` into `dir` (beside
/// `report.json`); the path written. Errors: the run has no figures or the file cannot be
/// written.
pub fn write_simulated_page(
    dir: &std::path::Path,
    scenario: &str,
    run: &crate::simulate::pipeline::ModeRun,
) -> anyhow::Result<std::path::PathBuf> {
    let fig = run
        .pool
        .as_ref()
        .ok_or_else(|| anyhow::anyhow!("the simulated run kept no pool figures"))?;
    let charts = chart::charts(fig)?;
    let page = html::render(&html::Page {
        figures: fig,
        charts: &charts,
        detail: None,
        links: html::Links::Anchors,
        refresh_secs: None,
        subtitle: Some(format!(
            "opg simulate, scenario `{scenario}`, provenance rewards: the simulated chain's pool \
             after every epoch was finalized and claimed."
        )),
    });
    let path = dir.join("report.html");
    std::fs::write(&path, page)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
    Ok(path)
}

#[cfg(test)]
mod tests;
