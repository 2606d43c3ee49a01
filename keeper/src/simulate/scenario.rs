//! The scenario file of `opg simulate` (TOML, `deny_unknown_fields`): models with provenance,
//! size and market prices, nodes with their hardware (GPU idle and busy power, memory, measured
//! throughput per model, host power, purchase price and service life), demand, payers, electricity
//! and token prices, settlement costs, reward params and the wash-trading attacker's search space.
//! Every figure is cited in the file. [`Scenario::parse`] validates everything a run relies on,
//! so a bad file fails before anything is signed, with the field that is wrong in the message; a
//! model whose weights do not fit its node's GPU in the quantization the file names is refused.
//!
//! Time scaling: an epoch of the embedded chain *is* `epoch_length_s` seconds of represented wall
//! time (the chain clock is set, not waited for). Electricity is charged for that whole span (host
//! power all the time, the GPU at its busy power while it serves calls and at its idle power
//! otherwise), so with `epoch_length_s = 86400` an epoch is a day and 30 epochs are a month.
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use cosmwasm_std::{Decimal, Uint128};
use opg_core::types::{NodeKindTag, Provenance};
use serde::Deserialize;

/// The default scenario, embedded so that `opg simulate` runs without arguments.
pub const SEED_SCENARIO: &str = include_str!("../../../scenarios/seed.toml");

/// Micro-units per unit: USD -> micro-USD, OPG -> uopg.
pub const MICRO: u128 = 1_000_000;

/// A scenario that failed to load.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The file could not be read.
    #[error("cannot read scenario file {path}: {source}")]
    Read {
        /// The path given.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Not valid TOML, or a field is unknown, missing or of the wrong type.
    #[error("scenario is not valid TOML for opg simulate: {0}")]
    Parse(#[from] toml::de::Error),
    /// A field has a value a run cannot use.
    #[error("scenario field `{field}` is invalid: {reason}")]
    Invalid {
        /// Dotted path of the field, e.g. `nodes[1].models`.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
}

fn invalid(field: impl Into<String>, reason: impl Into<String>) -> ScenarioError {
    ScenarioError::Invalid {
        field: field.into(),
        reason: reason.into(),
    }
}

/// A whole scenario.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Short name, reported as `"scenario"`.
    pub name: String,
    /// What the scenario shows.
    #[serde(default)]
    pub description: String,
    /// Seed of all randomness (traffic, keys): same seed, same report.
    pub seed: u64,
    /// Number of epochs simulated (`--epochs` overrides).
    pub epochs: u64,
    /// Epoch length in seconds of represented wall time (86400 = one day).
    pub epoch_length_s: u64,
    /// Seconds after an epoch's end during which its receipts are accepted (< `epoch_length_s`).
    pub grace_s: u64,
    /// Organic calls per epoch (the wash attacker's calls come on top).
    pub calls_per_epoch: u64,
    /// Number of distinct organic payer keys; each call picks one at random.
    pub payers: u32,
    /// Fraction of payments made with x402 v2 (`PAYMENT-SIGNATURE`); the rest use v1 (`X-PAYMENT`).
    #[serde(default = "default_v2_fraction")]
    pub x402_v2_fraction: f64,
    /// Fraction of calls paid with x402 `exact` via Permit2 (protocol v2, `@x402/evm` 2.27.0
    /// `assetTransferMethod: "permit2"`); default 0. Drawn before `x402_v2_fraction`, which
    /// splits the remaining EIP-3009 calls.
    #[serde(default)]
    pub permit2_exact_fraction: f64,
    /// Fraction of calls paid with x402 `upto` (Permit2, v2): the payer signs twice the price as
    /// the maximum, the facilitator settles the price; default 0. `permit2_exact_fraction +
    /// upto_fraction <= 1`.
    #[serde(default)]
    pub upto_fraction: f64,
    /// Market price of the reward token, USD per OPG.
    pub token_price_usd: f64,
    /// Electricity tariff, USD per kWh.
    pub electricity_usd_per_kwh: f64,
    /// How calls split between commercial and community models.
    pub demand: Demand,
    /// The governance-kept model list.
    pub models: Vec<ModelSpec>,
    /// The nodes.
    pub nodes: Vec<NodeSpec>,
    /// What settling a payment and funding a payer key cost (the wash trader's costs).
    pub settlement: SettlementCosts,
    /// Reward params of the provenance mode (volume-only overrides multipliers and stipend).
    pub rewards: RewardSpec,
    /// The wash-trading attacker's search space (absent: no attacker).
    #[serde(default)]
    pub wash_attack: Option<WashAttack>,
    /// The `--sweep` grid (`--sweep` needs it).
    #[serde(default)]
    pub sweep: Option<SweepSpec>,
}

fn default_v2_fraction() -> f64 {
    0.5
}

/// Demand split and its drift.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Demand {
    /// Fraction of organic calls that go to community models in epoch 0, in `[0, 1]`.
    pub community_share: f64,
    /// Added to the community fraction of calls every epoch (may be negative).
    #[serde(default)]
    pub community_share_drift: f64,
    /// The community fraction never exceeds this, in `[0, 1]`.
    #[serde(default = "one")]
    pub community_share_max: f64,
}

fn one() -> f64 {
    1.0
}

impl Demand {
    /// Fraction of organic calls to community models in `epoch`, clamped to `[0, max]`.
    pub fn community_share_at(&self, epoch: u64) -> f64 {
        let s = self.community_share + self.community_share_drift * epoch as f64;
        s.clamp(0.0, self.community_share_max)
    }
}

/// A model on the list.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    /// Model id, e.g. `openai/gpt-4.1`.
    pub id: String,
    /// `commercial` or `community`.
    pub provenance: ProvenanceSpec,
    /// Price a payer pays per call, micro-USD (= USDC base units, 6 decimals). Default: the
    /// `market` price of a call with the mean token counts, times `1 + markup`, rounded down.
    #[serde(default)]
    pub price_micro_usd: Option<u64>,
    /// What the market charges for this model per token (a vendor's or an inference provider's
    /// published API price).
    #[serde(default)]
    pub market: Option<TokenPrice>,
    /// Fraction added to the market price by the nodes serving the model (default 0).
    #[serde(default)]
    pub markup: f64,
    /// Mean prompt tokens per call (each call draws uniformly in `[mean/2, 3*mean/2]`).
    pub prompt_tokens: u64,
    /// Mean completion tokens per call (drawn like `prompt_tokens`).
    pub completion_tokens: u64,
    /// Relative demand within its provenance class (default 1).
    #[serde(default = "one")]
    pub demand_weight: f64,
    /// Upstream API price a proxy node pays for this model (commercial models).
    #[serde(default)]
    pub upstream: Option<TokenPrice>,
    /// Parameters, billions (community models: sizes the weights a GPU must hold).
    #[serde(default)]
    pub parameters_b: Option<f64>,
}

impl ModelSpec {
    /// Upstream API cost of one call with these token counts, USD (0 without an upstream price).
    pub fn upstream_cost_usd(&self, prompt_tokens: u64, completion_tokens: u64) -> f64 {
        self.upstream
            .as_ref()
            .map_or(0.0, |u| u.cost_usd(prompt_tokens, completion_tokens))
    }

    /// Price of a call, micro-USD: `price_micro_usd`, else the market price of the mean call
    /// times `1 + markup` (rounded down; at least 1). `None` when the file gives neither.
    pub fn price(&self) -> Option<u64> {
        if let Some(p) = self.price_micro_usd {
            return Some(p);
        }
        let m = self.market.as_ref()?;
        let usd = m.cost_usd(self.prompt_tokens, self.completion_tokens) * (1.0 + self.markup);
        Some(((usd * MICRO as f64).floor() as u64).max(1))
    }
}

/// A published per-token API price.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenPrice {
    /// USD per 1M input (prompt) tokens.
    pub input_usd_per_mtok: f64,
    /// USD per 1M output (completion) tokens.
    pub output_usd_per_mtok: f64,
}

impl TokenPrice {
    /// Cost of `prompt` input and `completion` output tokens, USD.
    pub fn cost_usd(&self, prompt: u64, completion: u64) -> f64 {
        (prompt as f64 * self.input_usd_per_mtok + completion as f64 * self.output_usd_per_mtok)
            / 1e6
    }
}

/// Provenance as written in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProvenanceSpec {
    /// A commercial API model.
    Commercial,
    /// An open-weight model.
    Community,
}

impl From<ProvenanceSpec> for Provenance {
    fn from(p: ProvenanceSpec) -> Self {
        match p {
            ProvenanceSpec::Commercial => Provenance::Commercial,
            ProvenanceSpec::Community => Provenance::Community,
        }
    }
}

/// Node kind as written in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KindSpec {
    /// Proxy node (commercial models).
    Proxy,
    /// Local node (community models, attested hardware).
    Local,
}

impl From<KindSpec> for NodeKindTag {
    fn from(k: KindSpec) -> Self {
        match k {
            KindSpec::Proxy => NodeKindTag::Proxy,
            KindSpec::Local => NodeKindTag::Local,
        }
    }
}

/// Weight formats a local node may serve a model in, with their storage cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Quantization {
    /// bfloat16, unquantized: 16 bits per weight.
    Bf16,
    /// float16, unquantized: 16 bits per weight.
    Fp16,
    /// 8-bit float (FP8 E4M3, e.g. vLLM / TensorRT-LLM): 8 bits per weight.
    Fp8,
    /// 8-bit integer weights: 8 bits per weight.
    Int8,
    /// llama.cpp `Q8_0`: blocks of 32 weights in 34 bytes = 8.5 bits per weight.
    Q8_0,
    /// llama.cpp `Q4_K_M`: about 4.82 bits per weight (Llama 3 70B: 39.59 GiB for 70.55B
    /// parameters, XiongjieDai/GPU-Benchmarks-on-LLM-Inference, "Total VRAM Requirements", 2024).
    Q4KM,
    /// llama.cpp `Q4_0`: blocks of 32 weights in 18 bytes = 4.5 bits per weight.
    Q4_0,
}

impl Quantization {
    /// Storage bits per weight.
    pub fn bits_per_weight(self) -> f64 {
        match self {
            Quantization::Bf16 | Quantization::Fp16 => 16.0,
            Quantization::Fp8 | Quantization::Int8 => 8.0,
            Quantization::Q8_0 => 8.5,
            Quantization::Q4KM => 4.82,
            Quantization::Q4_0 => 4.5,
        }
    }

    /// Memory the weights of a model with `parameters_b` billion parameters take, GiB.
    pub fn weights_gib(self, parameters_b: f64) -> f64 {
        parameters_b * 1e9 * self.bits_per_weight() / 8.0 / GIB
    }
}

/// Bytes per GiB.
pub const GIB: f64 = 1_073_741_824.0;
/// Share of a GPU's memory the weights may take; the rest is left to the KV cache and the
/// runtime (a model that fills the whole card cannot serve a call).
pub const MAX_WEIGHTS_SHARE_OF_GPU_MEMORY: f64 = 0.95;

/// A local node's GPU.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GpuSpec {
    /// Product name, e.g. `NVIDIA H100 PCIe 80GB`.
    pub name: String,
    /// Memory, GiB.
    pub memory_gib: f64,
    /// Draw while idle with the weights loaded, watts.
    pub idle_w: f64,
    /// Draw while serving a call, watts.
    pub busy_w: f64,
}

/// How a local node serves one of its models: the weight format and the throughput measured
/// for that model on that GPU.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServingSpec {
    /// Model id (one of the node's `models`).
    pub model: String,
    /// Weight format the node loads.
    pub quantization: Quantization,
    /// Prompt processing speed, tokens per second, one request at a time.
    pub prompt_tokens_per_s: f64,
    /// Generation speed, tokens per second, one request at a time.
    pub completion_tokens_per_s: f64,
}

impl ServingSpec {
    /// Seconds the GPU is busy with one call of these token counts.
    pub fn busy_seconds(&self, prompt_tokens: u64, completion_tokens: u64) -> f64 {
        prompt_tokens as f64 / self.prompt_tokens_per_s
            + completion_tokens as f64 / self.completion_tokens_per_s
    }
}

/// A node.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeSpec {
    /// Registry node id, 3-64 chars of `[a-z0-9-_.]`.
    pub id: String,
    /// `proxy` or `local`.
    pub kind: KindSpec,
    /// Models served (proxy: commercial only; local: community only).
    pub models: Vec<String>,
    /// Attested hardware class (local nodes), e.g. `h100`, `rtx4090`.
    #[serde(default)]
    pub hardware: Option<String>,
    /// Average draw of everything but the GPU (CPU, memory, disks, fans, power-supply losses),
    /// watts, all the time.
    pub host_w: f64,
    /// The GPU (local nodes).
    #[serde(default)]
    pub gpu: Option<GpuSpec>,
    /// How each model runs on the GPU (local nodes: one entry per model).
    #[serde(default)]
    pub serving: Vec<ServingSpec>,
    /// Purchase price of the node's hardware (GPU and host), USD.
    #[serde(default)]
    pub hardware_usd: f64,
    /// Service life the hardware is written off over, months (needed with `hardware_usd`).
    #[serde(default)]
    pub service_life_months: Option<f64>,
    /// Sign receipts with ed25519 instead of secp256k1.
    #[serde(default)]
    pub ed25519: bool,
}

impl NodeSpec {
    /// The serving entry of `model`.
    pub fn serving_of(&self, model: &str) -> Option<&ServingSpec> {
        self.serving.iter().find(|s| s.model == model)
    }

    /// Seconds the GPU is busy with a call (0 for a node without a GPU or serving entry).
    pub fn busy_seconds(&self, model: &str, prompt_tokens: u64, completion_tokens: u64) -> f64 {
        match (&self.gpu, self.serving_of(model)) {
            (Some(_), Some(s)) => s.busy_seconds(prompt_tokens, completion_tokens),
            _ => 0.0,
        }
    }

    /// Hardware write-off per second of represented time, USD (`hardware_usd` over the service
    /// life; a month is 365.25 / 12 days).
    pub fn hardware_usd_per_second(&self) -> f64 {
        match self.service_life_months {
            Some(m) if m > 0.0 => self.hardware_usd / (m * SECONDS_PER_MONTH),
            _ => 0.0,
        }
    }
}

/// Seconds in a month of 365.25 / 12 days.
pub const SECONDS_PER_MONTH: f64 = 365.25 / 12.0 * 86_400.0;

/// What getting one x402 payment settled costs, and funding a payer key: what a wash trader
/// pays per self-paid call and per fresh key.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettlementCosts {
    /// The facilitator's fee per settled payment, USD.
    pub facilitator_fee_usd: f64,
    /// Payment-network gas per settlement the payer side bears, USD (0 when the facilitator
    /// pays the gas out of its fee).
    pub gas_usd: f64,
    /// Funding one fresh payer key with USDC (one token transfer's gas), USD.
    pub funding_transfer_usd: f64,
}

impl SettlementCosts {
    /// Cost of one settled self-payment, USD.
    pub fn per_call_usd(&self) -> f64 {
        self.facilitator_fee_usd + self.gas_usd
    }
}

/// A hardware class's stipend weight and cap.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HardwareClassSpec {
    /// Stipend weight, in `[0, 100]`.
    pub weight: f64,
    /// Most stipend one node of the class gets per epoch, whole OPG.
    pub stipend_cap_opg: f64,
}

/// Reward params of the provenance mode.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RewardSpec {
    /// Tokens emitted per epoch, whole OPG.
    pub emission_per_epoch_opg: u64,
    /// Pool funding at genesis, whole OPG (default: `emission * epochs`, enough for every epoch).
    #[serde(default)]
    pub pool_funding_opg: Option<u64>,
    /// `m_commercial` in `[0, 1]`.
    pub m_commercial: f64,
    /// `M` in `[1, 10]`.
    pub m_community_max: f64,
    /// `S*` in `(0, 1]`.
    pub target_share: f64,
    /// `alpha` in `[0, 0.9]`: the stipend's share of the budget.
    pub alpha: f64,
    /// `v_cap`: most value one call counts for, micro-USD (> 0).
    pub v_cap_micro_usd: u64,
    /// `c_call`: most usage reward one call may earn, uopg (absent: no per-call cap).
    #[serde(default)]
    pub c_call_uopg: Option<u64>,
    /// Stipend weight and cap per hardware class.
    pub hardware: BTreeMap<String, HardwareClassSpec>,
}

/// The wash-trading attacker's search space: the operator of a local node pays his own node
/// through fresh payer keys. The payments return to him; he pays the settlement of every
/// payment and the funding of every fresh key ([`SettlementCosts`]). Every candidate (calls
/// per epoch x value) runs through the whole pipeline over `horizon_epochs`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WashAttack {
    /// The attacker's (local) node.
    pub node: String,
    /// Self-paid calls per fresh key (a key pays for this many calls, then a new one is funded).
    pub calls_per_key: u32,
    /// Epochs each candidate runs (from epoch 0).
    #[serde(default = "default_horizon")]
    pub horizon_epochs: u64,
    /// Self-paid calls per epoch, as multiples of his node's organic calls per epoch (rounded
    /// up); 0 is always searched.
    #[serde(default = "default_volumes")]
    pub volume_multiples: Vec<f64>,
    /// Values of a self-paid call, as multiples of `v_cap` (`>= 1`).
    #[serde(default = "default_values")]
    pub value_multiples: Vec<f64>,
}

fn default_horizon() -> u64 {
    3
}

fn default_volumes() -> Vec<f64> {
    vec![1.0, 3.0, 10.0]
}

fn default_values() -> Vec<f64> {
    vec![1.0, 10.0]
}

/// The `--sweep` grid (each axis a list of values; every combination runs).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepSpec {
    /// Epochs each grid point runs.
    #[serde(default = "default_sweep_epochs")]
    pub epochs: u64,
    /// Emission per epoch, whole OPG.
    pub emission_per_epoch_opg: Vec<u64>,
    /// Community share of organic calls.
    pub community_share: Vec<f64>,
    /// `alpha`.
    pub alpha: Vec<f64>,
    /// `c_call` as multiples of the settlement cost of one call (in uopg at the token price).
    pub c_call_multiples: Vec<f64>,
    /// The attacker's volumes searched at each point (multiples of his organic calls, at
    /// `v_cap`).
    #[serde(default = "default_sweep_volumes")]
    pub attack_volume_multiples: Vec<f64>,
}

fn default_sweep_volumes() -> Vec<f64> {
    vec![1.0, 10.0]
}

fn default_sweep_epochs() -> u64 {
    2
}

impl Scenario {
    /// Parses and validates a scenario. Errors: [`ScenarioError::Parse`], [`ScenarioError::Invalid`].
    pub fn parse(text: &str) -> Result<Self, ScenarioError> {
        let s: Scenario = toml::from_str(text)?;
        s.validate()?;
        Ok(s)
    }

    /// Reads, parses and validates a scenario file.
    pub fn load(path: &Path) -> Result<Self, ScenarioError> {
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text)
    }

    /// The embedded default scenario (`scenarios/seed.toml`).
    pub fn seed() -> Result<Self, ScenarioError> {
        Self::parse(SEED_SCENARIO)
    }

    /// Model by id.
    pub fn model(&self, id: &str) -> Option<&ModelSpec> {
        self.models.iter().find(|m| m.id == id)
    }

    /// Node by id.
    pub fn node(&self, id: &str) -> Option<&NodeSpec> {
        self.nodes.iter().find(|n| n.id == id)
    }

    /// Electricity of `node` over `span_s` seconds of which its GPU was busy `busy_s`, USD:
    /// `(host_w * span + gpu.busy_w * busy + gpu.idle_w * (span - busy)) / 3.6e6 kWh * tariff`.
    pub fn electricity_usd(&self, node: &NodeSpec, busy_s: f64, span_s: f64) -> f64 {
        let busy = busy_s.min(span_s);
        let gpu_j = node
            .gpu
            .as_ref()
            .map_or(0.0, |g| g.busy_w * busy + g.idle_w * (span_s - busy));
        (node.host_w * span_s + gpu_j) / 3_600_000.0 * self.electricity_usd_per_kwh
    }

    /// Settlement cost of one call in uopg at the scenario's token price, rounded down: the
    /// highest honest `c_call` (DESIGN §4).
    pub fn settlement_cost_uopg(&self) -> u64 {
        if self.token_price_usd <= 0.0 {
            return 0;
        }
        (self.settlement.per_call_usd() / self.token_price_usd * MICRO as f64).floor() as u64
    }

    /// Price of a call to `model`, micro-USD (validated: every model has one).
    pub fn price_of(&self, model: &str) -> u64 {
        self.model(model).and_then(|m| m.price()).unwrap_or(0)
    }

    /// Emission per epoch in uopg.
    pub fn emission_uopg(&self) -> Uint128 {
        Uint128::from(self.rewards.emission_per_epoch_opg as u128 * MICRO)
    }

    /// Pool funding at genesis in uopg for a run of `epochs` epochs.
    pub fn pool_funding_uopg(&self, epochs: u64) -> Uint128 {
        let opg = self
            .rewards
            .pool_funding_opg
            .unwrap_or(self.rewards.emission_per_epoch_opg.saturating_mul(epochs));
        Uint128::from(opg as u128 * MICRO)
    }

    /// Checks every constraint a run relies on.
    pub fn validate(&self) -> Result<(), ScenarioError> {
        if self.name.trim().is_empty() {
            return Err(invalid("name", "must not be empty"));
        }
        if self.epochs == 0 || self.epochs > 1000 {
            return Err(invalid("epochs", "must be in 1..=1000"));
        }
        if self.epoch_length_s < 60 {
            return Err(invalid("epoch_length_s", "must be at least 60 seconds"));
        }
        if self.grace_s == 0 || self.grace_s >= self.epoch_length_s {
            return Err(invalid("grace_s", "must be in 1..epoch_length_s"));
        }
        if self.calls_per_epoch == 0 || self.calls_per_epoch > 1_000_000 {
            return Err(invalid("calls_per_epoch", "must be in 1..=1000000"));
        }
        if self.payers == 0 {
            return Err(invalid("payers", "must be at least 1"));
        }
        unit_interval("x402_v2_fraction", self.x402_v2_fraction)?;
        unit_interval("permit2_exact_fraction", self.permit2_exact_fraction)?;
        unit_interval("upto_fraction", self.upto_fraction)?;
        if self.permit2_exact_fraction + self.upto_fraction > 1.0 {
            return Err(invalid(
                "upto_fraction",
                "permit2_exact_fraction + upto_fraction must be at most 1",
            ));
        }
        non_negative("token_price_usd", self.token_price_usd)?;
        non_negative("electricity_usd_per_kwh", self.electricity_usd_per_kwh)?;
        unit_interval("demand.community_share", self.demand.community_share)?;
        unit_interval(
            "demand.community_share_max",
            self.demand.community_share_max,
        )?;
        if !self.demand.community_share_drift.is_finite() {
            return Err(invalid(
                "demand.community_share_drift",
                "must be a finite number",
            ));
        }
        self.validate_models()?;
        self.validate_nodes()?;
        self.validate_rewards()?;
        if let Some(w) = &self.wash_attack {
            self.validate_wash(w)?;
        }
        Ok(())
    }

    fn validate_models(&self) -> Result<(), ScenarioError> {
        if self.models.is_empty() {
            return Err(invalid("models", "at least one model is needed"));
        }
        let mut ids = BTreeSet::new();
        for (i, m) in self.models.iter().enumerate() {
            let f = |name: &str| format!("models[{i}].{name}");
            if m.id.is_empty() || m.id.len() > 128 {
                return Err(invalid(f("id"), "must be 1-128 characters"));
            }
            if !ids.insert(m.id.as_str()) {
                return Err(invalid(f("id"), format!("duplicate model `{}`", m.id)));
            }
            if m.prompt_tokens == 0 && m.completion_tokens == 0 {
                return Err(invalid(f("prompt_tokens"), "a call needs some tokens"));
            }
            if let Some(p) = &m.market {
                non_negative(&f("market.input_usd_per_mtok"), p.input_usd_per_mtok)?;
                non_negative(&f("market.output_usd_per_mtok"), p.output_usd_per_mtok)?;
            }
            non_negative(&f("markup"), m.markup)?;
            match (m.price_micro_usd, &m.market) {
                (Some(0), _) => return Err(invalid(f("price_micro_usd"), "must be > 0")),
                (None, None) => {
                    return Err(invalid(
                        f("price_micro_usd"),
                        "give the call price or the model's `market` per-token price",
                    ))
                }
                _ => {}
            }
            if let Some(p) = m.parameters_b {
                if !(p.is_finite() && p > 0.0) {
                    return Err(invalid(f("parameters_b"), "must be > 0"));
                }
            } else if m.provenance == ProvenanceSpec::Community {
                return Err(invalid(
                    f("parameters_b"),
                    "a community model needs its size to check that it fits a GPU",
                ));
            }
            non_negative(&f("demand_weight"), m.demand_weight)?;
            if let Some(u) = &m.upstream {
                non_negative(&f("upstream.input_usd_per_mtok"), u.input_usd_per_mtok)?;
                non_negative(&f("upstream.output_usd_per_mtok"), u.output_usd_per_mtok)?;
                if m.provenance == ProvenanceSpec::Community {
                    return Err(invalid(
                        f("upstream"),
                        "community models run locally and have no upstream API price",
                    ));
                }
            }
        }
        for (class, share) in [
            (
                ProvenanceSpec::Commercial,
                1.0 - self.demand.community_share,
            ),
            (
                ProvenanceSpec::Community,
                self.demand
                    .community_share
                    .max(self.demand.community_share_drift),
            ),
        ] {
            let weight: f64 = self
                .models
                .iter()
                .filter(|m| m.provenance == class)
                .map(|m| m.demand_weight)
                .sum();
            if share > 0.0 && weight <= 0.0 {
                return Err(invalid(
                    "models",
                    format!(
                        "demand goes to {class:?} models but none has a positive demand_weight"
                    ),
                ));
            }
        }
        Ok(())
    }

    fn validate_nodes(&self) -> Result<(), ScenarioError> {
        if self.nodes.is_empty() {
            return Err(invalid("nodes", "at least one node is needed"));
        }
        let mut ids = BTreeSet::new();
        for (i, n) in self.nodes.iter().enumerate() {
            let f = |name: &str| format!("nodes[{i}].{name}");
            let id_ok = (3..=64).contains(&n.id.len())
                && n.id
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.".contains(&b));
            if !id_ok {
                return Err(invalid(
                    f("id"),
                    format!("`{}` is not 3-64 chars of [a-z0-9-_.]", n.id),
                ));
            }
            if !ids.insert(n.id.as_str()) {
                return Err(invalid(f("id"), format!("duplicate node `{}`", n.id)));
            }
            if n.models.is_empty() {
                return Err(invalid(f("models"), "a node serves at least one model"));
            }
            let wanted = match n.kind {
                KindSpec::Proxy => ProvenanceSpec::Commercial,
                KindSpec::Local => ProvenanceSpec::Community,
            };
            for m in &n.models {
                let model = self
                    .model(m)
                    .ok_or_else(|| invalid(f("models"), format!("unknown model `{m}`")))?;
                if model.provenance != wanted {
                    return Err(invalid(
                        f("models"),
                        format!(
                            "a {:?} node cannot serve {:?} model `{m}`",
                            n.kind, model.provenance
                        ),
                    ));
                }
            }
            match (n.kind, &n.hardware) {
                (KindSpec::Local, None) => {
                    return Err(invalid(
                        f("hardware"),
                        "a local node needs an attested hardware class",
                    ))
                }
                (KindSpec::Proxy, Some(_)) => {
                    return Err(invalid(
                        f("hardware"),
                        "proxy nodes have no attested hardware",
                    ))
                }
                (KindSpec::Local, Some(h)) if h.is_empty() || h.len() > 32 => {
                    return Err(invalid(f("hardware"), "must be 1-32 characters"))
                }
                _ => {}
            }
            non_negative(&f("host_w"), n.host_w)?;
            non_negative(&f("hardware_usd"), n.hardware_usd)?;
            match n.service_life_months {
                Some(m) if !(m.is_finite() && m > 0.0) => {
                    return Err(invalid(f("service_life_months"), "must be > 0"))
                }
                None if n.hardware_usd > 0.0 => {
                    return Err(invalid(
                        f("service_life_months"),
                        "hardware_usd is written off over a stated service life",
                    ))
                }
                _ => {}
            }
            self.validate_gpu(i, n)?;
        }
        for (i, m) in self.models.iter().enumerate() {
            if m.demand_weight > 0.0 && !self.nodes.iter().any(|n| n.models.contains(&m.id)) {
                return Err(invalid(
                    format!("models[{i}]"),
                    format!("model `{}` has demand but no node serves it", m.id),
                ));
            }
        }
        Ok(())
    }

    /// A local node has a GPU and serves each of its models in a format whose weights fit it.
    fn validate_gpu(&self, i: usize, n: &NodeSpec) -> Result<(), ScenarioError> {
        let f = |name: &str| format!("nodes[{i}].{name}");
        let Some(gpu) = &n.gpu else {
            if n.kind == KindSpec::Local {
                return Err(invalid(f("gpu"), "a local node runs its models on a GPU"));
            }
            if !n.serving.is_empty() {
                return Err(invalid(
                    f("serving"),
                    "a node without a GPU serves nothing locally",
                ));
            }
            return Ok(());
        };
        if n.kind == KindSpec::Proxy {
            return Err(invalid(
                f("gpu"),
                "a proxy node relays calls upstream: no GPU",
            ));
        }
        if !(gpu.memory_gib.is_finite() && gpu.memory_gib > 0.0) {
            return Err(invalid(f("gpu.memory_gib"), "must be > 0"));
        }
        non_negative(&f("gpu.idle_w"), gpu.idle_w)?;
        non_negative(&f("gpu.busy_w"), gpu.busy_w)?;
        if gpu.busy_w < gpu.idle_w {
            return Err(invalid(f("gpu.busy_w"), "must be at least idle_w"));
        }
        for m in &n.models {
            if n.serving_of(m).is_none() {
                return Err(invalid(
                    f("serving"),
                    format!("no serving entry (quantization, throughput) for model `{m}`"),
                ));
            }
        }
        for (j, sv) in n.serving.iter().enumerate() {
            let g = |name: &str| format!("nodes[{i}].serving[{j}].{name}");
            if !n.models.contains(&sv.model) {
                return Err(invalid(
                    g("model"),
                    format!("`{}` is not among the node's models", sv.model),
                ));
            }
            for (name, v) in [
                ("prompt_tokens_per_s", sv.prompt_tokens_per_s),
                ("completion_tokens_per_s", sv.completion_tokens_per_s),
            ] {
                if !(v.is_finite() && v > 0.0) {
                    return Err(invalid(g(name), "must be > 0"));
                }
            }
            let params = self
                .model(&sv.model)
                .and_then(|m| m.parameters_b)
                .unwrap_or(0.0);
            let need = sv.quantization.weights_gib(params);
            let room = gpu.memory_gib * MAX_WEIGHTS_SHARE_OF_GPU_MEMORY;
            if need > room {
                return Err(invalid(
                    g("quantization"),
                    format!(
                        "`{}` ({params}B parameters) in {:?} needs {need:.1} GiB of weights but the \
                         {} has {} GiB ({room:.1} GiB usable next to the KV cache): it does not \
                         fit; name a quantization that does (e.g. fp8 or q4_k_m) or a larger GPU",
                        sv.model, sv.quantization, gpu.name, gpu.memory_gib
                    ),
                ));
            }
        }
        Ok(())
    }

    fn validate_rewards(&self) -> Result<(), ScenarioError> {
        let r = &self.rewards;
        if r.emission_per_epoch_opg == 0 {
            return Err(invalid("rewards.emission_per_epoch_opg", "must be > 0"));
        }
        in_range("rewards.m_commercial", r.m_commercial, 0.0, 1.0)?;
        in_range("rewards.m_community_max", r.m_community_max, 1.0, 10.0)?;
        in_range("rewards.target_share", r.target_share, 0.0, 1.0)?;
        if r.target_share == 0.0 {
            return Err(invalid("rewards.target_share", "must be > 0"));
        }
        in_range("rewards.alpha", r.alpha, 0.0, 0.9)?;
        if r.v_cap_micro_usd == 0 {
            return Err(invalid("rewards.v_cap_micro_usd", "must be > 0"));
        }
        if r.c_call_uopg == Some(0) {
            return Err(invalid(
                "rewards.c_call_uopg",
                "must be > 0 (omit it for no per-call cap)",
            ));
        }
        if r.hardware.len() > 32 {
            return Err(invalid("rewards.hardware", "at most 32 classes"));
        }
        for (class, h) in &r.hardware {
            in_range(
                &format!("rewards.hardware.{class}.weight"),
                h.weight,
                0.0,
                100.0,
            )?;
            non_negative(
                &format!("rewards.hardware.{class}.stipend_cap_opg"),
                h.stipend_cap_opg,
            )?;
        }
        let s = &self.settlement;
        non_negative("settlement.facilitator_fee_usd", s.facilitator_fee_usd)?;
        non_negative("settlement.gas_usd", s.gas_usd)?;
        non_negative("settlement.funding_transfer_usd", s.funding_transfer_usd)?;
        if let Some(sw) = &self.sweep {
            if sw.epochs == 0 || sw.epochs > 30 {
                return Err(invalid("sweep.epochs", "must be in 1..=30"));
            }
            if sw.emission_per_epoch_opg.is_empty()
                || sw.community_share.is_empty()
                || sw.alpha.is_empty()
                || sw.c_call_multiples.is_empty()
            {
                return Err(invalid("sweep", "every axis needs at least one value"));
            }
            if sw.emission_per_epoch_opg.contains(&0) {
                return Err(invalid("sweep.emission_per_epoch_opg", "must be > 0"));
            }
            for v in &sw.community_share {
                unit_interval("sweep.community_share", *v)?;
            }
            for v in &sw.alpha {
                in_range("sweep.alpha", *v, 0.0, 0.9)?;
            }
            for v in &sw.c_call_multiples {
                if !(v.is_finite() && *v > 0.0) {
                    return Err(invalid("sweep.c_call_multiples", "must be > 0"));
                }
            }
        }
        Ok(())
    }

    fn validate_wash(&self, w: &WashAttack) -> Result<(), ScenarioError> {
        let node = self
            .node(&w.node)
            .ok_or_else(|| invalid("wash_attack.node", format!("unknown node `{}`", w.node)))?;
        if node.kind != KindSpec::Local {
            return Err(invalid(
                "wash_attack.node",
                "the attacker farms community rewards: his node must be local",
            ));
        }
        if w.calls_per_key == 0 {
            return Err(invalid("wash_attack.calls_per_key", "must be > 0"));
        }
        if w.horizon_epochs == 0 || w.horizon_epochs > 30 {
            return Err(invalid(
                "wash_attack.horizon_epochs",
                "must be in 1..=30 (runs use at most the scenario's epochs)",
            ));
        }
        if w.volume_multiples.len() > 16
            || w.value_multiples.is_empty()
            || w.value_multiples.len() > 8
        {
            return Err(invalid(
                "wash_attack",
                "1-8 value_multiples and at most 16 volume_multiples",
            ));
        }
        for v in &w.volume_multiples {
            if !(v.is_finite() && *v >= 0.0 && *v <= 100.0) {
                return Err(invalid("wash_attack.volume_multiples", "each in [0, 100]"));
            }
        }
        for v in &w.value_multiples {
            if !(v.is_finite() && *v >= 1.0 && *v <= 1000.0) {
                return Err(invalid(
                    "wash_attack.value_multiples",
                    "each in [1, 1000]: values at and above v_cap",
                ));
            }
        }
        Ok(())
    }
}

fn non_negative(field: &str, v: f64) -> Result<(), ScenarioError> {
    if v.is_finite() && v >= 0.0 {
        Ok(())
    } else {
        Err(invalid(
            field,
            format!("must be a finite number >= 0, got {v}"),
        ))
    }
}

fn unit_interval(field: &str, v: f64) -> Result<(), ScenarioError> {
    in_range(field, v, 0.0, 1.0)
}

fn in_range(field: &str, v: f64, lo: f64, hi: f64) -> Result<(), ScenarioError> {
    if v.is_finite() && v >= lo && v <= hi {
        Ok(())
    } else {
        Err(invalid(field, format!("must be in [{lo}, {hi}], got {v}")))
    }
}

/// A decimal from a float given in a scenario, through its shortest decimal representation
/// (`0.3` -> `0.3`, not its binary expansion); values with more than 18 places are rounded to 18.
pub fn decimal(v: f64) -> Decimal {
    let shortest = format!("{v}");
    shortest
        .parse()
        .or_else(|_| format!("{v:.18}").parse())
        .unwrap_or(Decimal::zero())
}

/// USD (float, from a scenario) to micro-USD, rounded down.
pub fn usd_to_micro(usd: f64) -> Uint128 {
    Uint128::from((usd * MICRO as f64).floor().max(0.0) as u128)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_scenario_parses() {
        let s = Scenario::seed().unwrap();
        assert_eq!(s.name, "seed");
        assert!(
            s.nodes
                .iter()
                .any(|n| n.kind == KindSpec::Proxy
                    && n.models.contains(&"openai/gpt-4.1".to_string()))
        );
        assert!(s.wash_attack.is_some());
    }

    #[test]
    fn other_scenarios_parse() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
        let mut n = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "toml") {
                Scenario::load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                n += 1;
            }
        }
        assert!(n >= 2, "ship at least two scenarios");
    }

    #[test]
    fn unknown_field_is_named() {
        let text = format!("{SEED_SCENARIO}\nbogus_field = 1\n");
        let err = Scenario::parse(&text).unwrap_err().to_string();
        assert!(err.contains("bogus_field"), "{err}");
    }

    #[test]
    fn proxy_serving_community_model_is_rejected() {
        let mut s = Scenario::seed().unwrap();
        let community = s
            .models
            .iter()
            .find(|m| m.provenance == ProvenanceSpec::Community)
            .unwrap()
            .id
            .clone();
        let proxy = s
            .nodes
            .iter_mut()
            .find(|n| n.kind == KindSpec::Proxy)
            .unwrap();
        proxy.models.push(community.clone());
        let err = s.validate().unwrap_err().to_string();
        assert!(
            err.contains("cannot serve") && err.contains(&community),
            "{err}"
        );
    }

    #[test]
    fn out_of_bounds_params_are_rejected() {
        let mut s = Scenario::seed().unwrap();
        s.rewards.alpha = 0.95;
        assert!(s
            .validate()
            .unwrap_err()
            .to_string()
            .contains("rewards.alpha"));
        let mut s = Scenario::seed().unwrap();
        s.rewards.m_community_max = 11.0;
        assert!(s
            .validate()
            .unwrap_err()
            .to_string()
            .contains("rewards.m_community_max"));
        let mut s = Scenario::seed().unwrap();
        s.grace_s = s.epoch_length_s;
        assert!(s.validate().unwrap_err().to_string().contains("grace_s"));
        let mut s = Scenario::seed().unwrap();
        s.nodes[0].id = "Bad Id".into();
        assert!(s
            .validate()
            .unwrap_err()
            .to_string()
            .contains("nodes[0].id"));
    }

    #[test]
    fn wash_attacker_must_run_a_local_node() {
        let mut s = Scenario::seed().unwrap();
        let proxy = s
            .nodes
            .iter()
            .find(|n| n.kind == KindSpec::Proxy)
            .unwrap()
            .id
            .clone();
        s.wash_attack.as_mut().unwrap().node = proxy;
        assert!(s
            .validate()
            .unwrap_err()
            .to_string()
            .contains("wash_attack.node"));
    }

    #[test]
    fn demand_drift_is_clamped() {
        let d = Demand {
            community_share: 0.1,
            community_share_drift: 0.05,
            community_share_max: 0.4,
        };
        assert!((d.community_share_at(2) - 0.2).abs() < 1e-12);
        assert_eq!(d.community_share_at(100), 0.4);
    }

    #[test]
    fn upstream_cost_follows_published_price() {
        let s = Scenario::seed().unwrap();
        let gpt = s.model("openai/gpt-4.1").unwrap();
        // $2 / 1M input, $8 / 1M output: 1000 in + 500 out = $0.002 + $0.004.
        assert!((gpt.upstream_cost_usd(1000, 500) - 0.006).abs() < 1e-12);
        // the call price: the market price of a mean call (1000 + 400 tokens: $0.0052) + 5.5%
        assert_eq!(gpt.price(), Some(5486));
        // community models at the open-weight API market price of a mean call
        assert_eq!(s.price_of("meta-llama/llama-3.3-70b-instruct"), 1232);
        assert_eq!(s.price_of("meta-llama/llama-3.1-8b-instruct"), 198);
    }

    #[test]
    fn electricity_counts_host_all_day_and_gpu_busy_or_idle() {
        let s = Scenario::seed().unwrap();
        let mut node = s.nodes[1].clone();
        node.host_w = 100.0;
        node.gpu = Some(GpuSpec {
            name: "g".into(),
            memory_gib: 80.0,
            idle_w: 50.0,
            busy_w: 300.0,
        });
        // 1 h busy + 23 h idle: 100 W x 24 h + 300 W x 1 h + 50 W x 23 h = 3.85 kWh
        let usd = s.electricity_usd(&node, 3600.0, 86400.0);
        assert!((usd - 3.85 * s.electricity_usd_per_kwh).abs() < 1e-9);
    }

    #[test]
    fn a_model_that_does_not_fit_its_gpu_is_refused() {
        // Llama 3.3 70B unquantized (bf16: 131.5 GiB) on one 80 GB H100
        let mut s = Scenario::seed().unwrap();
        let h100 = s
            .nodes
            .iter()
            .position(|n| n.hardware.as_deref() == Some("h100"))
            .unwrap();
        s.nodes[h100].serving[0].quantization = Quantization::Bf16;
        let err = s.validate().unwrap_err().to_string();
        assert!(
            err.contains(&format!("nodes[{h100}].serving[0].quantization"))
                && err.contains("does not fit")
                && err.contains("131.5 GiB")
                && err.contains("H100"),
            "{err}"
        );
        // FP8 (65.8 GiB) fits, as does the Q4_0 the scenario names
        s.nodes[h100].serving[0].quantization = Quantization::Fp8;
        s.validate().unwrap();
        // a local node without a serving entry for one of its models
        let mut s = Scenario::seed().unwrap();
        s.nodes[h100].serving.clear();
        let err = s.validate().unwrap_err().to_string();
        assert!(err.contains("no serving entry"), "{err}");
        // a community model without a size
        let mut s = Scenario::seed().unwrap();
        let m = s
            .models
            .iter()
            .position(|m| m.provenance == ProvenanceSpec::Community)
            .unwrap();
        s.models[m].parameters_b = None;
        assert!(s
            .validate()
            .unwrap_err()
            .to_string()
            .contains("parameters_b"));
    }

    #[test]
    fn quantization_sizes() {
        // 70.6B parameters: bf16 131.5 GiB, fp8 65.8 GiB, Q4_0 (18 bytes per 32 weights) 37.0 GiB
        assert!((Quantization::Bf16.weights_gib(70.6) - 131.50).abs() < 0.01);
        assert!((Quantization::Fp8.weights_gib(70.6) - 65.75).abs() < 0.01);
        assert!((Quantization::Q4_0.weights_gib(70.6) - 36.99).abs() < 0.01);
        // Llama 3 70B Q4_K_M: 39.59 GiB for 70.55B parameters (the source of its 4.82 bits)
        assert!((Quantization::Q4KM.weights_gib(70.55) - 39.59).abs() < 0.05);
    }

    #[test]
    fn seed_c_call_is_at_most_the_settlement_cost() {
        let s = Scenario::seed().unwrap();
        assert_eq!(s.settlement_cost_uopg(), 20_000);
        assert!(s.rewards.c_call_uopg.unwrap() <= s.settlement_cost_uopg());
    }

    #[test]
    fn hardware_is_written_off_over_its_life() {
        let s = Scenario::seed().unwrap();
        let n = &s.nodes[1];
        let month = n.hardware_usd_per_second() * SECONDS_PER_MONTH;
        assert!((month - n.hardware_usd / n.service_life_months.unwrap()).abs() < 1e-9);
        let mut n = n.clone();
        n.service_life_months = None;
        n.hardware_usd = 0.0;
        assert_eq!(n.hardware_usd_per_second(), 0.0);
    }

    #[test]
    fn decimals_from_floats_are_exact() {
        assert_eq!(decimal(0.3).to_string(), "0.3");
        assert_eq!(decimal(4.0).to_string(), "4");
        assert_eq!(decimal(0.000001).to_string(), "0.000001");
        assert_eq!(usd_to_micro(0.01), Uint128::new(10_000));
    }
}
