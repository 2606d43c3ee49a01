//! Load generator for a running keeper (`opg loadgen`, issue 6).
//!
//! Generates valid, distinct, signed receipts for the nodes and payers of a keeper's embedded-chain
//! genesis (keys derived from its `dev_seed`, see [`crate::genesis::DevKeys`]), posts them to
//! `POST /v1/receipts` with bounded concurrency, and reports throughput, latency percentiles and
//! error counts. Every receipt the keeper acknowledges (`stored` or `duplicate` in a `202`) is
//! recorded as `(payer, nonce, epoch)`, so a test can later check that each acknowledged receipt
//! was stored and counted exactly once.
//!
//! * The EIP-712 domain of node signatures needs the chain id and the verifier's address. The
//!   embedded chain instantiates its contracts deterministically, so [`Target::from_genesis`]
//!   finds them by building the same genesis in memory; both can be overridden.
//! * `served_at` is the keeper's chain time as last seen on `GET /healthz` (refreshed every
//!   200 ms), so receipts fall inside the chain's current open epoch whatever its clock mode.
//! * Overload answers (`429`, `503`) are retried after their `Retry-After`; transport errors and
//!   other `5xx` are retried with exponential backoff (100 ms doubling to 2 s) until
//!   [`LoadSpec::retry_for`] has passed. Retrying is safe: the keeper stores `(payer, nonce)` once
//!   and answers `duplicate` for a receipt it already has.
//! * With [`LoadSpec::invalid_ratio`] > 0 some receipts are corrupted on purpose (a flipped node
//!   signature byte, an unknown node id, a `served_at` in the future); each must be answered
//!   `422` and never acknowledged.
use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use cosmwasm_std::Binary;
use opg_core::eip712::verifier_domain_separator;
use opg_core::receipt::{InferenceReceipt, SignedReceipt};
use opg_core::sign::{
    make_signed_permit2_receipt, make_signed_receipt, EvmSigner, PaymentParams, Permit2Params,
};
use opg_core::x402::PaymentRequirements;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::chain::embedded::EmbeddedChain;
use crate::chain::ChainBackend;
use crate::genesis::{DevKeys, DevNodeKeys, GenesisConfig};

/// Longest single backoff between retries.
const MAX_BACKOFF: Duration = Duration::from_secs(2);
/// First backoff after a transport error or a `5xx`.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// How often the chain time is refreshed from `/healthz`.
const CLOCK_REFRESH: Duration = Duration::from_millis(200);

/// Where the receipts go and which deployment they are signed for.
#[derive(Clone, Debug)]
pub struct Target {
    /// The keeper's genesis (nodes, models, networks, dev seed).
    pub genesis: GenesisConfig,
    /// Chain id (EIP-712 domain salt).
    pub chain_id: String,
    /// Verifier contract address (EIP-712 domain salt).
    pub verifier: String,
}

impl Target {
    /// The chain id of `genesis` and the verifier address its embedded chain gets (found by
    /// building the same genesis in memory: cw-multi-test's contract addresses are deterministic).
    ///
    /// Errors: the genesis is invalid.
    pub fn from_genesis(genesis: GenesisConfig) -> anyhow::Result<Self> {
        let chain = EmbeddedChain::in_memory(&genesis)
            .context("cannot build the genesis in memory to find the verifier address")?;
        let verifier = chain.deployment().verifier;
        Ok(Target {
            chain_id: genesis.chain_id.clone(),
            verifier,
            genesis,
        })
    }
}

/// Why a corrupted receipt must be refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Corruption {
    /// One byte of the node signature flipped.
    NodeSignature,
    /// A node id that is not registered.
    UnknownNode,
    /// `served_at` one hour after the chain's time.
    FutureServedAt,
}

/// Signs receipts for one [`Target`]. Pure and thread-safe: receipt `i` is always the same
/// receipt for the same `run_tag` and `served_at`.
pub struct ReceiptFactory {
    dev: DevKeys,
    domain: [u8; 32],
    payers: Vec<EvmSigner>,
    /// `(node keys, model id)` per node receipts are signed for.
    nodes: Vec<(DevNodeKeys, String)>,
    network: String,
    chain_id: u64,
    asset: String,
    run_tag: String,
    /// Receipts paid with x402 `exact` via Permit2, per hundred.
    permit2_exact_percent: u8,
    /// Receipts paid with x402 `upto`, per hundred.
    upto_percent: u8,
}

impl ReceiptFactory {
    /// A factory for `target` with `payers` distinct payer keys (`payer/0..payers`) and nonces
    /// derived from `run_tag` (use a fresh tag per run, or receipts collide with an earlier run).
    ///
    /// Errors: no genesis node, a node without models, or no network/asset in the verifier policy.
    pub fn new(target: &Target, payers: u64, run_tag: &str) -> anyhow::Result<Self> {
        let g = &target.genesis;
        let dev = DevKeys::from_genesis(g);
        anyhow::ensure!(!g.nodes.is_empty(), "the genesis has no nodes to sign for");
        let nodes = g
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| {
                n.models
                    .first()
                    .map(|m| (dev.nodes[i].clone(), m.clone()))
                    .with_context(|| format!("genesis node {} serves no model", n.id))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let net = g
            .verifier
            .networks
            .first()
            .context("the genesis verifier policy lists no network")?;
        let asset = net
            .assets
            .first()
            .with_context(|| format!("network {} lists no asset", net.name))?;
        Ok(ReceiptFactory {
            domain: verifier_domain_separator(&target.chain_id, &target.verifier),
            payers: (0..payers.max(1)).map(|p| dev.payer(p)).collect(),
            dev,
            nodes,
            network: net.name.clone(),
            chain_id: net.chain_id,
            asset: asset.address.clone(),
            run_tag: run_tag.to_string(),
            permit2_exact_percent: 0,
            upto_percent: 0,
        })
    }

    /// Pays `permit2_exact_percent` of the receipts (per hundred consecutive ones) with x402
    /// `exact` via Permit2 and `upto_percent` with `upto` (signed maximum twice the value, the
    /// value settled), protocol v2; the rest stay EIP-3009 v1. Percentages above 100 in total are
    /// cut to what remains.
    pub fn with_payment_mix(mut self, permit2_exact_percent: u8, upto_percent: u8) -> Self {
        self.permit2_exact_percent = permit2_exact_percent.min(100);
        self.upto_percent = upto_percent.min(100 - self.permit2_exact_percent);
        self
    }

    /// Signs for `nodes` (`(keys, model id)`, e.g. nodes registered on a real chain with their
    /// key files) instead of the genesis' dev nodes; unchanged if `nodes` is empty.
    pub fn with_nodes(mut self, nodes: Vec<(DevNodeKeys, String)>) -> Self {
        if !nodes.is_empty() {
            self.nodes = nodes;
        }
        self
    }

    /// The EIP-3009 nonce of receipt `i`: `sha256("opg-loadgen/<run_tag>/<i>")`.
    pub fn nonce(&self, i: u64) -> [u8; 32] {
        Sha256::digest(format!("opg-loadgen/{}/{i}", self.run_tag)).into()
    }

    /// The valid receipt number `i`, served at `served_at` (unix seconds, chain time): payer
    /// `i mod payers`, node `i mod nodes`, value `10_000 + 100 * (i mod 100)` token units.
    ///
    /// With a payment mix ([`Self::with_payment_mix`]), receipt `i` is Permit2 `exact` when
    /// `37 i mod 100 < permit2_exact_percent`, `upto` when below the sum of both (37 is prime
    /// to 100: every hundred consecutive receipts hold exactly the percentages).
    pub fn receipt(&self, i: u64, served_at: u64) -> SignedReceipt {
        let (nk, model) = self.node_of(i);
        let payer = self.payer_of(i);
        let value = Self::value_of(i);
        let slot = (i.wrapping_mul(37) % 100) as u8;
        if slot < self.permit2_exact_percent + self.upto_percent {
            return self.permit2_receipt(i, served_at, slot >= self.permit2_exact_percent);
        }
        let requirements = PaymentRequirements {
            resource: Some(format!(
                "https://{}.invalid/v1/chat/completions",
                nk.node_id
            )),
            description: Some("opg loadgen".into()),
            mime_type: Some("application/json".into()),
            max_timeout_seconds: Some(60),
            ..PaymentRequirements::exact(
                1,
                &self.network,
                &nk.pay_to,
                &self.asset,
                value,
                "USDC",
                "2",
            )
        };
        let params = PaymentParams {
            x402_version: 1,
            requirements,
            value,
            valid_after: served_at.saturating_sub(60),
            valid_before: served_at.saturating_add(3600),
            nonce: self.nonce(i),
        };
        make_signed_receipt(
            payer,
            &nk.signer,
            Some(&self.dev.facilitator),
            &self.domain,
            &params,
            self.statement(i, served_at, nk, model),
            self.settlement_tx(i),
        )
    }

    /// Receipt `i`'s node keys and model: node `i mod nodes`.
    fn node_of(&self, i: u64) -> (&DevNodeKeys, &String) {
        let (nk, model) = &self.nodes[(i % self.nodes.len() as u64) as usize];
        (nk, model)
    }

    /// Receipt `i`'s payer: payer `i mod payers`.
    fn payer_of(&self, i: u64) -> &EvmSigner {
        &self.payers[(i % self.payers.len() as u64) as usize]
    }

    /// Receipt `i`'s value: `10_000 + 100 * (i mod 100)` token units.
    fn value_of(i: u64) -> u128 {
        10_000 + 100 * u128::from(i % 100)
    }

    /// The node's statement for receipt `i`: digests of the request and response, token counts.
    fn statement(&self, i: u64, served_at: u64, nk: &DevNodeKeys, model: &str) -> InferenceReceipt {
        let request = format!("loadgen request {i}");
        InferenceReceipt {
            node_id: nk.node_id.clone(),
            model_id: model.to_string(),
            request_digest: Binary::from(Sha256::digest(request.as_bytes()).to_vec()),
            response_digest: Binary::from(Sha256::digest(b"loadgen response").to_vec()),
            prompt_tokens: 100 + i % 50,
            completion_tokens: 200 + i % 70,
            served_at,
        }
    }

    /// The settlement tx hash the dev facilitator attests for receipt `i`.
    fn settlement_tx(&self, i: u64) -> [u8; 32] {
        Sha256::digest(format!("settlement/{}/{i}", self.run_tag)).into()
    }

    /// Receipt `i` paid through Permit2 (`upto`: maximum twice the value, the value settled).
    fn permit2_receipt(&self, i: u64, served_at: u64, upto: bool) -> SignedReceipt {
        let (nk, model) = self.node_of(i);
        let payer = self.payer_of(i);
        let value = Self::value_of(i);
        let amount = if upto { 2 * value } else { value };
        let facilitator = upto.then(|| self.dev.facilitator.address());
        let params = Permit2Params {
            requirements: PaymentRequirements {
                max_timeout_seconds: Some(60),
                ..PaymentRequirements::permit2(
                    if upto { "upto" } else { "exact" },
                    &format!("eip155:{}", self.chain_id),
                    &nk.pay_to,
                    &self.asset,
                    amount,
                    facilitator.as_deref(),
                )
            },
            amount,
            valid_after: served_at.saturating_sub(60),
            deadline: served_at.saturating_add(3599),
            nonce: self.nonce(i),
            facilitator: upto.then(|| self.dev.facilitator.address_bytes()),
        };
        make_signed_permit2_receipt(
            payer,
            &nk.signer,
            Some(&self.dev.facilitator),
            &self.domain,
            &params,
            self.statement(i, served_at, nk, model),
            self.settlement_tx(i),
            upto.then_some(value),
        )
    }

    /// Receipt `i` made invalid by `how`.
    pub fn corrupted(&self, i: u64, served_at: u64, how: Corruption) -> SignedReceipt {
        match how {
            Corruption::NodeSignature => {
                let mut r = self.receipt(i, served_at);
                let mut sig = r.node_signature.to_vec();
                if let Some(b) = sig.get_mut(5) {
                    *b ^= 0x40;
                }
                r.node_signature = Binary::from(sig);
                r
            }
            Corruption::UnknownNode => {
                let mut r = self.receipt(i, served_at);
                r.receipt.node_id = "loadgen-ghost-node".into();
                r
            }
            Corruption::FutureServedAt => self.receipt(i, served_at.saturating_add(3600)),
        }
    }
}

/// One load run.
#[derive(Clone, Debug)]
pub struct LoadSpec {
    /// Keeper base URL, e.g. `http://127.0.0.1:8402`.
    pub url: String,
    /// Receipts to send (valid and invalid together).
    pub count: u64,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Distinct payer keys.
    pub payers: u64,
    /// Fraction in `[0, 1]` of receipts corrupted on purpose.
    pub invalid_ratio: f64,
    /// Nonce namespace of this run.
    pub run_tag: String,
    /// How long one receipt is retried after transport errors / `5xx` / `429` before it counts
    /// as failed.
    pub retry_for: Duration,
    /// Per-request timeout.
    pub request_timeout: Duration,
    /// Where to append acknowledged `payer,nonce,epoch` lines (CSV, no header).
    pub acked_file: Option<PathBuf>,
    /// Receipts paid with x402 `exact` via Permit2, per hundred (default 0).
    pub permit2_exact_percent: u8,
    /// Receipts paid with x402 `upto`, per hundred (default 0).
    pub upto_percent: u8,
    /// Nodes to sign for instead of the genesis' dev nodes (`(keys, model id)`; empty: the
    /// genesis' nodes), e.g. nodes registered on a real chain.
    pub nodes: Vec<(DevNodeKeys, String)>,
}

impl LoadSpec {
    /// Defaults: 1000 receipts, concurrency 64, 256 payers, no invalid receipts, a run tag from
    /// the wall clock and process id, retries for 60 s, 30 s request timeout.
    pub fn new(url: impl Into<String>) -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        LoadSpec {
            url: url.into(),
            count: 1000,
            concurrency: 64,
            payers: 256,
            invalid_ratio: 0.0,
            run_tag: format!("{nanos:x}-{}", std::process::id()),
            retry_for: Duration::from_secs(60),
            request_timeout: Duration::from_secs(30),
            acked_file: None,
            permit2_exact_percent: 0,
            upto_percent: 0,
            nodes: Vec::new(),
        }
    }

    /// Whether receipt `i` is one of the corrupted ones (spread evenly: `floor((i+1) r) >
    /// floor(i r)`), and how.
    pub fn corruption(&self, i: u64) -> Option<Corruption> {
        let r = self.invalid_ratio.clamp(0.0, 1.0);
        if r == 0.0 {
            return None;
        }
        let bad = ((i + 1) as f64 * r).floor() > (i as f64 * r).floor();
        bad.then_some(match i % 3 {
            0 => Corruption::NodeSignature,
            1 => Corruption::UnknownNode,
            _ => Corruption::FutureServedAt,
        })
    }
}

/// One acknowledged receipt.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Acked {
    /// Payer (lowercase `0x` address, as the keeper reports it).
    pub payer: String,
    /// Nonce (lowercase `0x` hex).
    pub nonce: String,
    /// Epoch of `served_at`.
    pub epoch: u64,
}

/// What a load run saw.
#[derive(Clone, Debug, Default, Serialize)]
pub struct LoadReport {
    /// Receipts attempted (valid + invalid).
    pub sent: u64,
    /// Valid receipts the keeper acknowledged (`stored` or `duplicate`).
    pub acknowledged: u64,
    /// Of those, answered `duplicate` (a retry of a receipt stored by an earlier attempt).
    pub duplicates: u64,
    /// Valid receipts that were not acknowledged in the end (rejected or out of retries).
    pub failed: u64,
    /// Corrupted receipts sent.
    pub invalid_sent: u64,
    /// Corrupted receipts refused with `422` (should equal `invalid_sent`).
    pub invalid_rejected: u64,
    /// Corrupted receipts the keeper acknowledged (must be 0).
    pub invalid_acknowledged: u64,
    /// HTTP requests made, retries included.
    pub requests: u64,
    /// `429` answers (rate limit).
    pub throttled_429: u64,
    /// `503` answers (overload or chain unavailable).
    pub unavailable_503: u64,
    /// `429`/`503` answers without a `Retry-After` header (must be 0).
    pub missing_retry_after: u64,
    /// Connection refused/reset, timeouts.
    pub transport_errors: u64,
    /// Other unexpected statuses, by code.
    pub other_status: BTreeMap<u16, u64>,
    /// Rejection reasons of valid receipts, by reason.
    pub rejected_reasons: BTreeMap<String, u64>,
    /// Wall time of the run, seconds.
    pub elapsed_secs: f64,
    /// Acknowledged receipts per second.
    pub throughput_per_sec: f64,
    /// Median latency of the answered attempt of acknowledged receipts, milliseconds.
    pub p50_ms: f64,
    /// 99th percentile latency, milliseconds.
    pub p99_ms: f64,
    /// Maximum latency, milliseconds.
    pub max_ms: f64,
    /// Every acknowledged receipt (not serialized).
    #[serde(skip)]
    pub acked: Vec<Acked>,
}

impl LoadReport {
    /// A human summary, one figure per line.
    pub fn summary(&self) -> String {
        let mut s = format!(
            "sent {} receipts in {:.2} s: acknowledged {} ({} duplicate answers), failed {}\n\
             throughput {:.1} receipts/s, latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms\n\
             requests {}, 429 {}, 503 {}, transport errors {}, missing Retry-After {}\n\
             invalid: sent {}, refused {}, acknowledged {}\n",
            self.sent,
            self.elapsed_secs,
            self.acknowledged,
            self.duplicates,
            self.failed,
            self.throughput_per_sec,
            self.p50_ms,
            self.p99_ms,
            self.max_ms,
            self.requests,
            self.throttled_429,
            self.unavailable_503,
            self.transport_errors,
            self.missing_retry_after,
            self.invalid_sent,
            self.invalid_rejected,
            self.invalid_acknowledged,
        );
        for (code, n) in &self.other_status {
            s.push_str(&format!("status {code}: {n}\n"));
        }
        for (reason, n) in &self.rejected_reasons {
            s.push_str(&format!("valid receipt rejected ({reason}): {n}\n"));
        }
        s
    }
}

/// The `p`-th percentile (0..=100) of sorted `v` (nearest rank), 0 if empty.
pub fn percentile(sorted: &[f64], p: u32) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p.min(100) as f64 / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[derive(Default)]
struct Shared {
    report: LoadReport,
    latencies_ms: Vec<f64>,
}

enum Outcome {
    Acked(Acked, bool),
    Rejected(String),
    Failed,
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

async fn chain_time(client: &reqwest::Client, url: &str) -> Option<u64> {
    let r = client.get(format!("{url}/healthz")).send().await.ok()?;
    if !r.status().is_success() {
        return None;
    }
    let v: serde_json::Value = r.json().await.ok()?;
    v.get("time")?.as_u64()
}

fn retry_after(h: &reqwest::header::HeaderMap) -> Option<Duration> {
    h.get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

/// Posts one receipt until it is answered for good or `spec.retry_for` has passed.
async fn post_one(
    client: &reqwest::Client,
    spec: &LoadSpec,
    body: Vec<u8>,
    shared: &Mutex<Shared>,
) -> Outcome {
    let deadline = Instant::now() + spec.retry_for;
    let mut backoff = FIRST_BACKOFF;
    let url = format!("{}/v1/receipts", spec.url);
    loop {
        let started = Instant::now();
        let res = client
            .post(&url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.clone())
            .send()
            .await;
        let mut wait = backoff;
        let mut retry = true;
        match res {
            Err(_) => {
                lock(shared).report.transport_errors += 1;
            }
            Ok(resp) => {
                let status = resp.status().as_u16();
                let ra = retry_after(resp.headers());
                let text = resp.bytes().await.unwrap_or_default();
                let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
                {
                    let mut s = lock(shared);
                    s.report.requests += 1;
                    match status {
                        429 => s.report.throttled_429 += 1,
                        503 => s.report.unavailable_503 += 1,
                        202 | 422 => {}
                        other => *s.report.other_status.entry(other).or_default() += 1,
                    }
                    if matches!(status, 429 | 503) && ra.is_none() {
                        s.report.missing_retry_after += 1;
                    }
                }
                match status {
                    202 | 422 => {
                        let v: serde_json::Value =
                            serde_json::from_slice(&text).unwrap_or(serde_json::Value::Null);
                        let first = &v["results"][0];
                        return match first["status"].as_str() {
                            Some(st @ ("stored" | "duplicate")) => {
                                lock(shared).latencies_ms.push(elapsed_ms);
                                Outcome::Acked(
                                    Acked {
                                        payer: first["payer"].as_str().unwrap_or("").into(),
                                        nonce: first["nonce"].as_str().unwrap_or("").into(),
                                        epoch: first["epoch"].as_u64().unwrap_or(u64::MAX),
                                    },
                                    st == "duplicate",
                                )
                            }
                            _ => Outcome::Rejected(
                                first["reason"].as_str().unwrap_or("unknown").to_string(),
                            ),
                        };
                    }
                    429 | 503 => {
                        wait = ra.unwrap_or(backoff).max(Duration::from_millis(50));
                    }
                    s if s >= 500 => {}
                    _ => retry = false,
                }
            }
        }
        if !retry || Instant::now() + wait > deadline {
            return Outcome::Failed;
        }
        // jitter of up to 1/4 so retries of many workers spread out
        let jitter =
            Duration::from_micros(rand::random::<u64>() % (wait.as_micros() as u64 / 4).max(1));
        tokio::time::sleep(wait + jitter).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Runs one load against a keeper. Returns when every receipt was answered for good or ran out
/// of retries.
///
/// Errors: the keeper never answered `GET /healthz` within `spec.retry_for`, the acked file cannot
/// be written, or the factory cannot be built.
pub async fn run(spec: LoadSpec, target: Target) -> anyhow::Result<LoadReport> {
    let url = spec.url.trim_end_matches('/').to_string();
    let spec = Arc::new(LoadSpec { url, ..spec });
    let factory = Arc::new(
        ReceiptFactory::new(&target, spec.payers, &spec.run_tag)?
            .with_payment_mix(spec.permit2_exact_percent, spec.upto_percent)
            .with_nodes(spec.nodes.clone()),
    );
    let client = reqwest::Client::builder()
        .timeout(spec.request_timeout)
        .pool_max_idle_per_host(spec.concurrency.max(1))
        .build()
        .context("cannot build the HTTP client")?;

    // the chain clock, refreshed in the background
    let wait_until = Instant::now() + spec.retry_for;
    let t0 = loop {
        if let Some(t) = chain_time(&client, &spec.url).await {
            break t;
        }
        if Instant::now() > wait_until {
            anyhow::bail!("keeper at {} did not answer GET /healthz", spec.url);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let clock = Arc::new(AtomicU64::new(t0));
    let clock_task = {
        let (client, url, clock) = (client.clone(), spec.url.clone(), clock.clone());
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(CLOCK_REFRESH).await;
                if let Some(t) = chain_time(&client, &url).await {
                    clock.fetch_max(t, Ordering::Relaxed);
                }
            }
        })
    };

    let acked_file = match &spec.acked_file {
        Some(p) => Some(Arc::new(Mutex::new(std::io::BufWriter::new(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .with_context(|| format!("cannot open {}", p.display()))?,
        )))),
        None => None,
    };

    let shared = Arc::new(Mutex::new(Shared::default()));
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..spec.concurrency.max(1) {
        let (spec, factory, client, shared, next, clock, acked_file) = (
            spec.clone(),
            factory.clone(),
            client.clone(),
            shared.clone(),
            next.clone(),
            clock.clone(),
            acked_file.clone(),
        );
        workers.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= spec.count {
                    break;
                }
                let served_at = clock.load(Ordering::Relaxed);
                let corruption = spec.corruption(i);
                let f = factory.clone();
                let body = tokio::task::spawn_blocking(move || {
                    let r = match corruption {
                        Some(how) => f.corrupted(i, served_at, how),
                        None => f.receipt(i, served_at),
                    };
                    serde_json::to_vec(&r)
                })
                .await;
                let body = match body {
                    Ok(Ok(b)) => b,
                    _ => {
                        lock(&shared).report.failed += 1;
                        continue;
                    }
                };
                let outcome = post_one(&client, &spec, body, &shared).await;
                let mut s = lock(&shared);
                s.report.sent += 1;
                match (corruption.is_some(), outcome) {
                    (false, Outcome::Acked(a, dup)) => {
                        s.report.acknowledged += 1;
                        if dup {
                            s.report.duplicates += 1;
                        }
                        if let Some(f) = &acked_file {
                            let _ = writeln!(lock(f), "{},{},{}", a.payer, a.nonce, a.epoch);
                        }
                        s.report.acked.push(a);
                    }
                    (false, Outcome::Rejected(reason)) => {
                        s.report.failed += 1;
                        *s.report.rejected_reasons.entry(reason).or_default() += 1;
                    }
                    (false, Outcome::Failed) => s.report.failed += 1,
                    (true, Outcome::Acked(..)) => {
                        s.report.invalid_sent += 1;
                        s.report.invalid_acknowledged += 1;
                    }
                    (true, Outcome::Rejected(_)) => {
                        s.report.invalid_sent += 1;
                        s.report.invalid_rejected += 1;
                    }
                    (true, Outcome::Failed) => s.report.invalid_sent += 1,
                }
            }
        }));
    }
    for w in workers {
        w.await.context("a load worker panicked")?;
    }
    clock_task.abort();
    if let Some(f) = &acked_file {
        lock(f).flush().context("cannot write the acked file")?;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let mut s = std::mem::take(&mut *lock(&shared));
    s.latencies_ms.sort_by(f64::total_cmp);
    let mut report = s.report;
    report.elapsed_secs = elapsed;
    report.throughput_per_sec = if elapsed > 0.0 {
        report.acknowledged as f64 / elapsed
    } else {
        0.0
    };
    report.p50_ms = percentile(&s.latencies_ms, 50);
    report.p99_ms = percentile(&s.latencies_ms, 99);
    report.max_ms = s.latencies_ms.last().copied().unwrap_or(0.0);
    report.acked.sort();
    Ok(report)
}

/// Unix seconds now (for callers that need the same clock as the default run tag).
pub fn now_secs() -> u64 {
    unix_now()
}

#[cfg(test)]
mod tests {
    use super::*;
    use opg_core::crypto::NativeCrypto;
    use opg_core::verify::{verify_receipt, RegistryView, VerifierPolicy};

    fn target() -> (Target, EmbeddedChain) {
        let mut g = GenesisConfig::dev("loadgen-unit");
        g.genesis_time = Some(1_700_000_000);
        let t = Target::from_genesis(g.clone()).unwrap();
        (t, EmbeddedChain::in_memory(&g).unwrap())
    }

    #[test]
    fn percentile_is_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 50), 50.0);
        assert_eq!(percentile(&v, 99), 99.0);
        assert_eq!(percentile(&v, 100), 100.0);
        assert_eq!(percentile(&[7.0], 99), 7.0);
        assert_eq!(percentile(&[], 50), 0.0);
    }

    #[test]
    fn corruption_ratio_is_exact_and_spread() {
        let mut s = LoadSpec::new("http://x");
        s.invalid_ratio = 0.1;
        let bad = (0..1000).filter(|i| s.corruption(*i).is_some()).count();
        assert_eq!(bad, 100);
        s.invalid_ratio = 0.0;
        assert!((0..1000).all(|i| s.corruption(i).is_none()));
        s.invalid_ratio = 1.0;
        assert!((0..10).all(|i| s.corruption(i).is_some()));
    }

    /// Factory receipts pass the shared verification core against the genesis chain, are
    /// distinct, and corrupted ones fail with the expected reasons.
    #[test]
    fn factory_receipts_verify_and_corruptions_fail() {
        let (t, chain) = target();
        let now = 1_700_000_100;
        chain.set_time(now).unwrap();
        let f = ReceiptFactory::new(&t, 3, "unit").unwrap();
        let cfg = chain.verifier_config().unwrap();
        let policy = VerifierPolicy {
            domain_separator: verifier_domain_separator(&t.chain_id, &t.verifier),
            networks: &cfg.networks,
            facilitators: opg_core::verify::parse_facilitators(&cfg.facilitators),
            require_settlement: cfg.require_settlement,
            clock: cfg.clock,
        };
        let ids: Vec<String> = t.genesis.nodes.iter().map(|n| n.id.clone()).collect();
        let models: Vec<String> = t.genesis.models.iter().map(|m| m.id.clone()).collect();
        let view: RegistryView = chain.registry_view(&ids, &models).unwrap().into();
        let mut keys = std::collections::BTreeSet::new();
        for i in 0..6 {
            let v = verify_receipt(&NativeCrypto, &policy, &view, &f.receipt(i, now - 1), now)
                .unwrap_or_else(|e| panic!("receipt {i}: {:?}", e.reason));
            assert!(keys.insert((v.accepted.payer, v.accepted.nonce)));
        }
        for (how, reason) in [
            (Corruption::NodeSignature, "invalid_node_signature"),
            (Corruption::UnknownNode, "node_unknown"),
            (Corruption::FutureServedAt, "epoch_closed"),
        ] {
            let e = verify_receipt(
                &NativeCrypto,
                &policy,
                &view,
                &f.corrupted(9, now - 1, how),
                now,
            )
            .unwrap_err();
            assert_eq!(e.reason.as_str(), reason, "{how:?}");
        }
        // With a payment mix: Permit2 exact and upto receipts pass the same chain's policy, upto
        // counting the value (half its signed maximum), and the mix is exact per hundred.
        let f = ReceiptFactory::new(&t, 3, "unit-mix")
            .unwrap()
            .with_payment_mix(20, 30);
        let mut kinds = BTreeMap::new();
        for i in 0..100 {
            let r = f.receipt(i, now - 1);
            let scheme = r.requirements.scheme.clone();
            let permit2 = r
                .requirements
                .extra
                .as_ref()
                .unwrap()
                .asset_transfer_method
                .is_some();
            *kinds.entry((scheme, permit2)).or_insert(0) += 1;
            let v = verify_receipt(&NativeCrypto, &policy, &view, &r, now)
                .unwrap_or_else(|e| panic!("receipt {i}: {:?}", e.reason));
            assert_eq!(v.accepted.value.u128(), 10_000 + 100 * u128::from(i % 100));
        }
        let count = |s: &str, p: bool| kinds.get(&(s.to_string(), p)).copied().unwrap_or(0);
        assert_eq!(
            (
                count("exact", true),
                count("upto", false),
                count("exact", false)
            ),
            (20, 30, 50)
        );
    }
}
