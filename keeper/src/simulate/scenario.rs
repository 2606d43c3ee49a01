//! The scenario file of `opg simulate` (TOML, `deny_unknown_fields`): models with provenance and
//! prices, nodes with their power draw, demand, payers, electricity and token prices, reward params
//! and an optional wash-trading attacker. [`Scenario::parse`] validates everything a run relies on,
//! so a bad file fails before anything is signed, with the field that is wrong in the message.
//!
//! Time scaling: an epoch of the embedded chain *is* `epoch_length_s` seconds of represented wall
//! time (the chain clock is set, not waited for). Electricity is charged for that whole span
//! (`power_w * epoch_length_s`), so with `epoch_length_s = 86400` an epoch is a day and 30 epochs are
//! a month. Per-call figures (prices, upstream API cost) do not depend on the epoch length.
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
    /// Reward params of the provenance mode (volume-only overrides multipliers and stipend).
    pub rewards: RewardSpec,
    /// Optional wash-trading attacker.
    #[serde(default)]
    pub wash_attack: Option<WashAttack>,
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
    /// Price a payer pays per call, micro-USD (= USDC base units, 6 decimals).
    pub price_micro_usd: u64,
    /// Mean prompt tokens per call (each call draws uniformly in `[mean/2, 3*mean/2]`).
    pub prompt_tokens: u64,
    /// Mean completion tokens per call (drawn like `prompt_tokens`).
    pub completion_tokens: u64,
    /// Relative demand within its provenance class (default 1).
    #[serde(default = "one")]
    pub demand_weight: f64,
    /// Upstream API price a proxy node pays for this model (commercial models).
    #[serde(default)]
    pub upstream: Option<UpstreamPrice>,
}

impl ModelSpec {
    /// Upstream API cost of one call with these token counts, USD (0 without an upstream price).
    pub fn upstream_cost_usd(&self, prompt_tokens: u64, completion_tokens: u64) -> f64 {
        self.upstream.as_ref().map_or(0.0, |u| {
            (prompt_tokens as f64 * u.input_usd_per_mtok
                + completion_tokens as f64 * u.output_usd_per_mtok)
                / 1e6
        })
    }
}

/// A vendor's published per-token API price.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpstreamPrice {
    /// USD per 1M input (prompt) tokens.
    pub input_usd_per_mtok: f64,
    /// USD per 1M output (completion) tokens.
    pub output_usd_per_mtok: f64,
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
    /// Average electrical draw of the node, watts, for the whole epoch.
    pub power_w: f64,
    /// Sign receipts with ed25519 instead of secp256k1.
    #[serde(default)]
    pub ed25519: bool,
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
    /// `alpha` in `[0, 0.5]`.
    pub alpha: f64,
    /// Per-epoch cap of one payer's contribution to one node, USD (> 0).
    pub payer_cap_usd: f64,
    /// Stipend weight per hardware class, in `[0, 100]`.
    pub hardware_weights: BTreeMap<String, f64>,
}

/// The wash-trading attacker: the operator of a local node pays his own node through fresh payer
/// keys. The payments return to him; what he spends is the settlement fee of every payment and the
/// cost of funding every fresh key.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WashAttack {
    /// The attacker's (local) node.
    pub node: String,
    /// Fresh payer keys used per epoch (never reused).
    pub fresh_payers_per_epoch: u32,
    /// Calls each fresh key pays for.
    pub calls_per_payer: u32,
    /// First epoch of the attack.
    #[serde(default)]
    pub start_epoch: u64,
    /// Settlement fee per payment, USD (facilitator fee and/or gas).
    pub settlement_fee_usd: f64,
    /// Cost of funding one fresh key with USDC (one token transfer), USD.
    pub funding_cost_usd: f64,
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

    /// Electricity cost of `node` over one epoch, USD: `power_w * epoch_length_s / 3.6e6 kWh * tariff`.
    pub fn electricity_usd_per_epoch(&self, node: &NodeSpec) -> f64 {
        node.power_w * self.epoch_length_s as f64 / 3_600_000.0 * self.electricity_usd_per_kwh
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
            if m.price_micro_usd == 0 {
                return Err(invalid(f("price_micro_usd"), "must be > 0"));
            }
            if m.prompt_tokens == 0 && m.completion_tokens == 0 {
                return Err(invalid(f("prompt_tokens"), "a call needs some tokens"));
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
            non_negative(&f("power_w"), n.power_w)?;
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
        in_range("rewards.alpha", r.alpha, 0.0, 0.5)?;
        if !(r.payer_cap_usd.is_finite() && r.payer_cap_usd >= 1e-6) {
            return Err(invalid(
                "rewards.payer_cap_usd",
                "must be at least 0.000001",
            ));
        }
        if r.hardware_weights.len() > 32 {
            return Err(invalid("rewards.hardware_weights", "at most 32 classes"));
        }
        for (class, w) in &r.hardware_weights {
            in_range(&format!("rewards.hardware_weights.{class}"), *w, 0.0, 100.0)?;
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
                "the attacker farms the community multiplier: his node must be local",
            ));
        }
        if w.fresh_payers_per_epoch == 0 || w.calls_per_payer == 0 {
            return Err(invalid(
                "wash_attack",
                "fresh_payers_per_epoch and calls_per_payer must be > 0 (omit the section for no attack)",
            ));
        }
        if w.start_epoch >= self.epochs {
            return Err(invalid(
                "wash_attack.start_epoch",
                "must be before the last epoch",
            ));
        }
        non_negative("wash_attack.settlement_fee_usd", w.settlement_fee_usd)?;
        non_negative("wash_attack.funding_cost_usd", w.funding_cost_usd)?;
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
        s.rewards.alpha = 0.7;
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
    }

    #[test]
    fn electricity_per_epoch() {
        let s = Scenario::seed().unwrap();
        let mut node = s.nodes[0].clone();
        node.power_w = 1000.0;
        let day = 24.0 * s.electricity_usd_per_kwh * s.epoch_length_s as f64 / 86400.0;
        assert!((s.electricity_usd_per_epoch(&node) - day).abs() < 1e-9);
    }

    #[test]
    fn decimals_from_floats_are_exact() {
        assert_eq!(decimal(0.3).to_string(), "0.3");
        assert_eq!(decimal(4.0).to_string(), "4");
        assert_eq!(decimal(0.000001).to_string(), "0.000001");
        assert_eq!(usd_to_micro(0.01), Uint128::new(10_000));
    }
}
