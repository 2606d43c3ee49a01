//! One run of a scenario's traffic through the real pipeline on its own in-memory embedded chain:
//! per epoch, the chain clock is set to the epoch's end, receipts are POSTed in chunks to the
//! keeper's axum router (`tower::ServiceExt::oneshot`, the real handlers without a socket),
//! `submit_pending` batches them into `SubmitReceipts` txs, after the grace period
//! `finalize_ready` finalizes the epoch, every operator `Claim`s, and the run reads what the pool
//! paid (the operator's balance change) together with the pool's `EpochReport`, `Multipliers`
//! and `NodeRewards`. Every local node also sends the verifier one signed heartbeat per epoch
//! (directly: `SubmitReceipts` is permissionless), as an honest node does, so its liveness for
//! the stipend never depends on calls.
use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::{anyhow, bail, Context as _};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use cosmwasm_std::{Addr, Uint128};
use indicatif::ProgressBar;
use opg_core::eip712::verifier_domain_separator;
use opg_core::epoch::EpochClock;
use opg_core::msg::pool::{
    ExecuteMsg as PoolExecuteMsg, HardwareWeight, MultipliersResponse, NodeRewardsResponse,
    PendingRewardsResponse, QueryMsg as PoolQueryMsg, RewardParams,
};
use opg_core::receipt::{Heartbeat, SignedReceipt};
use opg_core::types::Provenance;
use serde::Deserialize;
use tower::ServiceExt as _;

use super::economics::{EpochReading, NodeEpochReading};
use super::scenario::{decimal, KindSpec, Scenario, MICRO};
use super::traffic::{self, base_network, CallPlan, TrafficKeys};
use crate::chain::embedded::EmbeddedChain;
use crate::chain::{ChainBackend, ContractRole};
use crate::config::KeeperConfig;
use crate::genesis::{DevKeys, GenesisConfig, GenesisModel, GenesisNode, GenesisVerifier, KeyType};
use crate::service::Keeper;
use crate::store::Store;

/// Unix time of epoch 0 in every simulation: 2025-05-01T00:00:00Z.
pub const GENESIS_TIME: u64 = 1_746_057_600;
/// Chain id of the simulated chains.
pub const CHAIN_ID: &str = "opg-simulate-1";
/// Receipts per `POST /v1/receipts` request.
pub const RECEIPTS_PER_REQUEST: usize = 250;
/// `v_cap` of the volume-only mode, micro-USD: $1,000 per call, the governance bound's maximum;
/// every call of a scenario is far below it, so counted value is raw value (today's settlement).
pub const UNCAPPED_MICRO_USD: u128 = 1_000_000_000;

/// The longest claim window the pool accepts (epochs): no reward of a scenario expires.
pub const MAX_CLAIM_EPOCHS: u64 = 10_000;

/// The reward regime of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Today's settlement: `m_commercial = 1`, `M = 1`, `alpha = 0`, no `c_call`, value
    /// uncapped: rewards follow paid value.
    VolumeOnly,
    /// The scenario's reward params.
    Provenance,
}

impl Mode {
    /// `volume_only` or `provenance`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Mode::VolumeOnly => "volume_only",
            Mode::Provenance => "provenance",
        }
    }
}

/// What a run read from the chain and the keeper.
#[derive(Clone, Debug)]
pub struct ModeRun {
    /// Reward regime.
    pub mode: Mode,
    /// Whether the wash attacker's traffic was included.
    pub with_attack: bool,
    /// Receipts POSTed to the keeper.
    pub receipts_posted: u64,
    /// Receipts the verifier accepted (keeper's record of the tx results).
    pub receipts_accepted: u64,
    /// Receipts rejected at ingest or by the verifier.
    pub receipts_rejected: u64,
    /// Emission per epoch in force (uopg).
    pub emission: Uint128,
    /// Per epoch.
    pub readings: Vec<EpochReading>,
    /// The pool's transparency figures of every epoch, read after the last claim (the page
    /// `report.html`, [`crate::report`]).
    pub pool: Option<crate::report::Figures>,
}

impl ModeRun {
    /// Everything the pool paid `node`'s operator over the run (uopg).
    pub fn claimed_total(&self, node: &str) -> u128 {
        self.readings
            .iter()
            .filter_map(|r| r.nodes.get(node))
            .map(|n| n.claimed.u128())
            .sum()
    }
}

/// The reward params of a mode: the scenario's for provenance; for volume-only the same contracts
/// with `M = 1`, `m_commercial = 1`, `alpha = 0`, no `c_call` and `v_cap` so high that counted
/// value is raw value (DESIGN §4's baseline).
pub fn reward_params(s: &Scenario, mode: Mode) -> RewardParams {
    let r = &s.rewards;
    let hardware_weights = r
        .hardware
        .iter()
        .map(|(class, h)| HardwareWeight {
            class: class.clone(),
            weight: decimal(h.weight),
            stipend_cap: Uint128::from((h.stipend_cap_opg * MICRO as f64).floor() as u128),
        })
        .collect();
    match mode {
        Mode::Provenance => RewardParams {
            emission_per_epoch: s.emission_uopg(),
            m_commercial: decimal(r.m_commercial),
            m_community_max: decimal(r.m_community_max),
            target_share: decimal(r.target_share),
            alpha: decimal(r.alpha),
            v_cap: Uint128::from(r.v_cap_micro_usd),
            c_call: r.c_call_uopg.map(Uint128::from),
            claim_epochs: MAX_CLAIM_EPOCHS,
            hardware_weights,
        },
        Mode::VolumeOnly => RewardParams {
            emission_per_epoch: s.emission_uopg(),
            m_commercial: decimal(1.0),
            m_community_max: decimal(1.0),
            target_share: decimal(r.target_share),
            alpha: decimal(0.0),
            v_cap: Uint128::new(UNCAPPED_MICRO_USD),
            c_call: None,
            claim_epochs: MAX_CLAIM_EPOCHS,
            hardware_weights,
        },
    }
}

/// The embedded chain's genesis for a scenario and mode: the scenario's models and nodes, paying
/// in USDC on Base, the dev facilitator allow-listed, settlement required.
pub fn genesis(s: &Scenario, mode: Mode) -> GenesisConfig {
    let mut g = GenesisConfig::dev(&format!("opg-simulate/{}/{}", s.name, s.seed));
    g.chain_id = CHAIN_ID.into();
    g.genesis_time = Some(GENESIS_TIME);
    g.epoch_length = s.epoch_length_s;
    g.grace = s.grace_s;
    g.attestation_validity = s.epoch_length_s.saturating_mul(s.epochs.saturating_add(2));
    g.params = reward_params(s, mode);
    g.verifier = GenesisVerifier {
        networks: vec![base_network()],
        require_settlement: true,
        max_batch: 100,
        extra_facilitators: vec![],
    };
    g.models = s
        .models
        .iter()
        .map(|m| GenesisModel {
            id: m.id.clone(),
            provenance: Provenance::from(m.provenance),
            weights_digest: None,
        })
        .collect();
    g.nodes = s
        .nodes
        .iter()
        .map(|n| GenesisNode {
            id: n.id.clone(),
            kind: n.kind.into(),
            models: n.models.clone(),
            key_type: if n.ed25519 {
                KeyType::Ed25519
            } else {
                KeyType::Secp256k1
            },
            hardware_class: n.hardware.clone(),
            bond: None,
            pay_to: None,
            endpoint: Some(format!("https://{}.invalid", n.id)),
            upstream: (n.kind == KindSpec::Proxy).then(|| "https://api.openai.com".to_string()),
        })
        .collect();
    g.pool_funding = s.pool_funding_uopg(s.epochs);
    g.balances = vec![];
    g
}

/// The organic calls of every epoch.
pub fn plan(s: &Scenario) -> Vec<Vec<CallPlan>> {
    (0..s.epochs)
        .map(|e| traffic::plan_epoch(s, GENESIS_TIME, e))
        .collect()
}

fn keys_for(s: &Scenario, g: &GenesisConfig) -> TrafficKeys {
    let dev = DevKeys::from_genesis(g);
    let nodes = dev
        .nodes
        .iter()
        .map(|n| (n.node_id.clone(), (n.signer.clone(), n.pay_to.clone())))
        .collect();
    TrafficKeys::new(s, nodes, dev.facilitator.clone())
}

/// The receipts' EIP-712 domain separator on a chain built from `g` (deterministic: the same for
/// every mode, since contract addresses do not depend on params).
fn domain_of(chain: &EmbeddedChain) -> [u8; 32] {
    verifier_domain_separator(&chain.chain_id(), &chain.deployment().verifier)
}

/// The dev keys of a scenario's traffic and the receipts' EIP-712 domain separator (the same
/// on every mode's chain).
pub fn traffic_signer(s: &Scenario) -> anyhow::Result<(TrafficKeys, [u8; 32])> {
    let g = genesis(s, Mode::Provenance);
    let probe = EmbeddedChain::in_memory(&g).context("starting the embedded chain")?;
    let domain = domain_of(&probe);
    drop(probe);
    Ok((keys_for(s, &g), domain))
}

/// One heartbeat per local node for each of `epochs` epochs, signed with the node's key at the
/// middle of the epoch.
pub fn sign_heartbeats(s: &Scenario, epochs: u64) -> anyhow::Result<Vec<Vec<Heartbeat>>> {
    let (keys, domain) = traffic_signer(s)?;
    (0..epochs)
        .map(|e| {
            let t = GENESIS_TIME + e * s.epoch_length_s + s.epoch_length_s / 2;
            s.nodes
                .iter()
                .filter(|n| n.kind == KindSpec::Local)
                .map(|n| keys.heartbeat(&domain, &n.id, e, t))
                .collect()
        })
        .collect()
}

/// Signs every planned call (payment, receipt, settlement) once for all runs.
pub fn sign_all(
    s: &Scenario,
    plans: &[Vec<CallPlan>],
    threads: usize,
    bar: &ProgressBar,
) -> anyhow::Result<Vec<Vec<SignedReceipt>>> {
    let (keys, domain) = traffic_signer(s)?;
    plans
        .iter()
        .map(|p| {
            let signed = traffic::sign_calls(&keys, &domain, p, threads)?;
            bar.inc(signed.len() as u64);
            Ok(signed)
        })
        .collect()
}

/// One `POST /v1/receipts` body: a JSON array of signed receipts.
#[derive(Clone, Debug)]
pub struct RequestBody {
    /// The serialized JSON array.
    pub json: axum::body::Bytes,
    /// Receipts in it.
    pub receipts: usize,
}

/// Serializes one epoch's receipts (`first`, then `then`) into request bodies of
/// [`RECEIPTS_PER_REQUEST`], on the rayon pool. Done once per traffic variant: every run that
/// posts it shares the bytes.
pub fn epoch_bodies(
    first: &[SignedReceipt],
    then: &[SignedReceipt],
) -> anyhow::Result<Vec<RequestBody>> {
    use rayon::prelude::*;
    let receipts: Vec<&SignedReceipt> = first.iter().chain(then).collect();
    receipts
        .par_chunks(RECEIPTS_PER_REQUEST)
        .map(|part| {
            Ok(RequestBody {
                json: serde_json::to_vec(part)?.into(),
                receipts: part.len(),
            })
        })
        .collect()
}

/// [`epoch_bodies`] of every epoch's signed receipts.
pub fn request_bodies(signed: &[Vec<SignedReceipt>]) -> anyhow::Result<Vec<Vec<RequestBody>>> {
    signed.iter().map(|r| epoch_bodies(r, &[])).collect()
}

#[derive(Deserialize)]
struct IngestAnswer {
    results: Vec<IngestLine>,
}

#[derive(Deserialize)]
struct IngestLine {
    status: String,
    #[serde(default)]
    reason: Option<String>,
}

/// Counts of one POST.
#[derive(Default)]
struct Posted {
    stored: u64,
    duplicate: u64,
    rejected: BTreeMap<String, u64>,
}

fn post_receipts(
    rt: &tokio::runtime::Runtime,
    router: &axum::Router,
    body: &RequestBody,
) -> anyhow::Result<Posted> {
    let req = Request::builder()
        .method("POST")
        .uri("/v1/receipts")
        .header("content-type", "application/json")
        .body(Body::from(body.json.clone()))?;
    let resp = rt
        .block_on(router.clone().oneshot(req))
        .map_err(|e| anyhow!("ingest request failed: {e}"))?;
    let status = resp.status();
    let bytes = rt
        .block_on(axum::body::to_bytes(resp.into_body(), usize::MAX))
        .map_err(|e| anyhow!("reading ingest response: {e}"))?;
    if status != StatusCode::ACCEPTED && status != StatusCode::UNPROCESSABLE_ENTITY {
        bail!(
            "POST /v1/receipts answered {status}: {}",
            String::from_utf8_lossy(&bytes)
        );
    }
    let answer: IngestAnswer =
        serde_json::from_slice(&bytes).context("decoding the ingest answer")?;
    if answer.results.len() != body.receipts {
        bail!(
            "ingest answered {} results for {} receipts",
            answer.results.len(),
            body.receipts
        );
    }
    let mut p = Posted::default();
    for line in answer.results {
        match line.status.as_str() {
            "stored" => p.stored += 1,
            "duplicate" => p.duplicate += 1,
            _ => {
                *p.rejected
                    .entry(line.reason.unwrap_or_default())
                    .or_default() += 1
            }
        }
    }
    Ok(p)
}

fn pool_query<T: serde::de::DeserializeOwned>(
    chain: &EmbeddedChain,
    msg: &PoolQueryMsg,
) -> anyhow::Result<T> {
    let v = chain.query_json(ContractRole::Pool, &serde_json::to_value(msg)?)?;
    Ok(serde_json::from_value(v)?)
}

/// Runs one traffic variant under `mode` on a fresh chain, over as many epochs as `bodies` has
/// (from epoch 0): `bodies` are its request bodies per epoch ([`epoch_bodies`]; `with_attack`
/// says whether they include self-paid calls), `heartbeats` the local nodes' heartbeats per
/// epoch (at least as many epochs). `figures`: read the pool's transparency figures after the
/// last claim into [`ModeRun::pool`] (for `report.html`; the attacker's and the sweep's many
/// candidate runs skip that read of every epoch's reports).
pub fn run_mode(
    s: &Scenario,
    mode: Mode,
    with_attack: bool,
    figures: bool,
    bodies: &[Vec<RequestBody>],
    heartbeats: &[Vec<Heartbeat>],
    bar: &ProgressBar,
) -> anyhow::Result<ModeRun> {
    let epochs = bodies.len() as u64;
    if epochs == 0 || epochs > s.epochs || heartbeats.len() < bodies.len() {
        bail!(
            "{} epochs of request bodies and {} of heartbeats for a {}-epoch scenario",
            bodies.len(),
            heartbeats.len(),
            s.epochs
        );
    }
    let g = genesis(s, mode);
    let chain = Arc::new(EmbeddedChain::in_memory(&g).context("starting the embedded chain")?);
    let expected_domain = {
        let probe_g = genesis(s, Mode::Provenance);
        verifier_domain_separator(&probe_g.chain_id, &chain.deployment().verifier)
    };
    if domain_of(&chain) != expected_domain {
        bail!(
            "the {} chain has another receipt domain than the signed traffic",
            mode.as_str()
        );
    }
    let mut config = KeeperConfig::default();
    // the simulation is the keeper's only client: no request-rate bound
    config.server.requests_per_second = 1_000_000;
    config.server.burst = 1_000_000;
    config.genesis = Some(g.clone());
    let keeper = Keeper::new(
        config,
        Store::in_memory()?,
        chain.clone() as Arc<dyn ChainBackend>,
    )?;
    let router = keeper.router();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the tokio runtime")?;
    let clock = EpochClock {
        genesis: GENESIS_TIME,
        epoch_length: s.epoch_length_s,
        grace: s.grace_s,
    };
    let dev = DevKeys::from_genesis(&g);
    let operators: Vec<(String, Addr)> = s
        .nodes
        .iter()
        .map(|n| {
            let label = dev
                .node(&n.id)
                .map(|k| k.operator_label.clone())
                .ok_or_else(|| anyhow!("no dev keys for node `{}`", n.id))?;
            Ok((n.id.clone(), chain.addr(&label)))
        })
        .collect::<anyhow::Result<_>>()?;
    let denom = chain.denom().to_string();

    let mut run = ModeRun {
        mode,
        with_attack,
        receipts_posted: 0,
        receipts_accepted: 0,
        receipts_rejected: 0,
        emission: g.params.emission_per_epoch,
        readings: Vec::with_capacity(epochs as usize),
        pool: None,
    };
    let mut ingest_rejected = 0u64;
    for epoch in 0..epochs {
        // ingest at the epoch's end (inside the grace window), then batch and submit
        let end = clock.end(epoch);
        chain.set_time(end)?;
        for body in &bodies[epoch as usize] {
            let p = post_receipts(&rt, &router, body)?;
            if p.duplicate > 0 {
                bail!(
                    "epoch {epoch}: {} receipts were already stored (nonce reuse in traffic)",
                    p.duplicate
                );
            }
            if let Some((reason, n)) = p.rejected.iter().next() {
                tracing::warn!(epoch, %reason, n, "receipts rejected at ingest");
            }
            ingest_rejected += p.rejected.values().sum::<u64>();
            run.receipts_posted += body.receipts as u64;
            bar.inc(body.receipts as u64);
        }
        let submitted = keeper.submit_pending(end)?;
        if submitted.failed_batches > 0 {
            bail!(
                "epoch {epoch}: {} batches refused by the chain",
                submitted.failed_batches
            );
        }
        let beats = &heartbeats[epoch as usize];
        if !beats.is_empty() {
            let out = chain
                .submit_receipts(&[], beats)
                .with_context(|| format!("heartbeats of epoch {epoch}"))?;
            if let Some(h) = out
                .response
                .heartbeats
                .iter()
                .find(|h| h.rejected.is_some())
            {
                bail!(
                    "epoch {epoch}: heartbeat {} rejected: {}",
                    h.index,
                    h.rejected.clone().unwrap_or_default()
                );
            }
        }
        // the grace period passes: finalize, then every operator claims
        let closed = end + s.grace_s;
        chain.set_time(closed)?;
        let finalized = keeper.finalize_ready(closed)?;
        if !finalized.contains(&epoch) {
            bail!("epoch {epoch} was not finalized at {closed} (finalized: {finalized:?})");
        }
        run.readings
            .push(read_epoch(&chain, &denom, &operators, epoch)?);
    }
    let counts = keeper.store().counts(None)?;
    run.receipts_accepted = counts.accepted;
    run.receipts_rejected = counts.rejected + ingest_rejected;
    let tallied: u64 = run
        .readings
        .iter()
        .flat_map(|r| r.nodes.values())
        .map(|n| n.calls)
        .sum();
    if tallied != run.receipts_accepted {
        bail!(
            "the pool tallied {tallied} calls but the keeper recorded {} accepted receipts",
            run.receipts_accepted
        );
    }
    if figures {
        run.pool = Some(crate::report::simulated(chain.as_ref(), epochs)?);
    }
    Ok(run)
}

/// Claims for every node of a finalized epoch and reads the epoch's figures.
fn read_epoch(
    chain: &EmbeddedChain,
    denom: &str,
    operators: &[(String, Addr)],
    epoch: u64,
) -> anyhow::Result<EpochReading> {
    let mut nodes = BTreeMap::new();
    for (node_id, operator) in operators {
        let pending: PendingRewardsResponse = pool_query(
            chain,
            &PoolQueryMsg::PendingRewards {
                node_id: node_id.clone(),
            },
        )?;
        let mut claimed = Uint128::zero();
        if !pending.amount.is_zero() {
            let before = chain.balance(operator, denom)?;
            let msg = PoolExecuteMsg::Claim {
                node_id: node_id.clone(),
                limit: None,
            };
            chain
                .execute_as(
                    operator,
                    ContractRole::Pool,
                    &serde_json::to_value(&msg)?,
                    &[],
                )
                .with_context(|| format!("claim of `{node_id}` for epoch {epoch}"))?;
            let after = chain.balance(operator, denom)?;
            claimed = after
                .checked_sub(before)
                .map_err(|_| anyhow!("`{node_id}`'s balance fell on claim"))?;
        }
        let page: NodeRewardsResponse = pool_query(
            chain,
            &PoolQueryMsg::NodeRewards {
                node_id: node_id.clone(),
                start_after: epoch.checked_sub(1),
                limit: Some(1),
            },
        )?;
        let row = page.epochs.into_iter().find(|r| r.epoch == epoch);
        let reported = row.as_ref().and_then(|r| r.reward).unwrap_or_default();
        if reported != claimed {
            bail!("epoch {epoch}: the pool paid `{node_id}` {claimed} uopg on claim but reports a reward of {reported}");
        }
        nodes.insert(
            node_id.clone(),
            NodeEpochReading {
                calls: row.as_ref().map_or(0, |r| r.calls),
                raw_value: row.as_ref().map_or(Uint128::zero(), |r| r.raw_value),
                claimed,
            },
        );
    }
    let report = chain.epoch_report(epoch)?;
    let m: MultipliersResponse = pool_query(chain, &PoolQueryMsg::Multipliers { epoch })?;
    Ok(EpochReading {
        epoch,
        community_share: report.community_share,
        m_community: m.m_community,
        m_commercial: m.m_commercial,
        budget: report.budget,
        paid: report.paid,
        usage_paid: report.commercial.usage_paid + report.community.usage_paid,
        stipend_paid: report.community.stipend_paid,
        unpaid: report.usage_unpaid + report.stipend_unpaid,
        nodes,
    })
}
