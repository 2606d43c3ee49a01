//! `keeper.toml`: serde + toml with `deny_unknown_fields`, documented defaults and validation.
//! See `keeper/keeper.example.toml` for a commented example.
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::genesis::GenesisConfig;
use crate::store::Durability;

/// The whole keeper config.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct KeeperConfig {
    /// Data directory (databases); overridden by `--home`. Default `.opg`.
    #[serde(default)]
    pub home: Option<PathBuf>,
    /// HTTP server.
    #[serde(default)]
    pub server: ServerConfig,
    /// Batching and submission.
    #[serde(default)]
    pub batcher: BatcherConfig,
    /// Durable store.
    #[serde(default)]
    pub store: StoreConfig,
    /// Chain backend.
    #[serde(default)]
    pub chain: ChainConfig,
    /// Genesis of the embedded chain (required for `backend = "embedded"`).
    #[serde(default)]
    pub genesis: Option<GenesisConfig>,
}

/// HTTP server settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Listen address. Default `127.0.0.1:8402`.
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// Maximum request body in bytes. Default 4 MiB.
    #[serde(default = "default_body_limit")]
    pub body_limit_bytes: usize,
    /// Requests handled at once; more get 503 with `Retry-After`. Default 64.
    #[serde(default = "default_concurrency")]
    pub max_concurrent_requests: usize,
    /// Sustained requests per second (token bucket); beyond it 429 with `Retry-After`. Default 200.
    #[serde(default = "default_rps")]
    pub requests_per_second: u32,
    /// Token bucket size (burst). Default 400.
    #[serde(default = "default_burst")]
    pub burst: u32,
    /// Maximum receipts in one `POST /v1/receipts`. Default 1000.
    #[serde(default = "default_max_receipts")]
    pub max_receipts_per_request: usize,
    /// Longest time one request may take, from its head to its answer (a slow body included),
    /// seconds; beyond it `408`. Bounds how long a client can hold one of the
    /// `max_concurrent_requests` slots. Default 30.
    #[serde(default = "default_request_timeout")]
    pub request_timeout_secs: u64,
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8402))
}
fn default_body_limit() -> usize {
    4 * 1024 * 1024
}
fn default_concurrency() -> usize {
    64
}
fn default_rps() -> u32 {
    200
}
fn default_burst() -> u32 {
    400
}
fn default_max_receipts() -> usize {
    1000
}
fn default_request_timeout() -> u64 {
    30
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: default_listen(),
            body_limit_bytes: default_body_limit(),
            max_concurrent_requests: default_concurrency(),
            requests_per_second: default_rps(),
            burst: default_burst(),
            max_receipts_per_request: default_max_receipts(),
            request_timeout_secs: default_request_timeout(),
        }
    }
}

/// Batching and submission settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatcherConfig {
    /// Seconds between submission rounds. Must be shorter than the chain's grace period so every
    /// epoch gets at least one round before its window closes. Default 30.
    #[serde(default = "default_interval")]
    pub batch_interval_secs: u64,
    /// Upper bound on receipts per tx besides the verifier's `max_batch` (the smaller wins).
    /// Default 100.
    #[serde(default = "default_batch")]
    pub max_batch: usize,
    /// Gas budget of one tx. Default 20,000,000.
    #[serde(default = "default_max_gas")]
    pub max_gas_per_tx: u64,
    /// Maximum tx size in bytes (CometBFT's default `max_tx_bytes` is 1 MiB). Default 1,000,000.
    #[serde(default = "default_tx_bytes")]
    pub max_tx_bytes: u64,
    /// Estimated gas per receipt (two secp256k1 recoveries, nonce write, usage). Default 150,000.
    #[serde(default = "default_gas_item")]
    pub gas_per_receipt: u64,
    /// Estimated gas per tx byte (wasmd charges 10 per byte for tx size). Default 10.
    #[serde(default = "default_gas_byte")]
    pub gas_per_byte: u64,
    /// Finalize epochs once their grace has passed. Default true.
    #[serde(default = "default_true")]
    pub finalize: bool,
    /// Wait before retrying after the first failed round, milliseconds; each further failure in a
    /// row doubles it up to `retry_max_secs`, with jitter (see [`BatcherConfig::retry_backoff`]).
    /// A successful round resets it. Default 1000.
    #[serde(default = "default_retry_base_ms")]
    pub retry_base_ms: u64,
    /// Longest wait between retries of failed rounds, seconds. Default (unset):
    /// `batch_interval_secs`, so a failing keeper never tries less often than a healthy one.
    /// A larger value eases the load on a chain in a long outage but must stay shorter than
    /// `genesis.grace`, so a recovered chain still gets a round before an epoch's window closes.
    #[serde(default)]
    pub retry_max_secs: Option<u64>,
    /// Deadline backpressure (issue 17): refuse (`503` + `Retry-After`) receipts that the keeper
    /// estimates it could not land before their epoch's submission window closes, instead of
    /// acknowledging them. Applies when the chain's clock runs in real time (`opg keeper run`).
    /// Default true.
    #[serde(default = "default_true")]
    pub backpressure: bool,
    /// Seconds before a window closes that the deadline estimate keeps in reserve (a restart, a
    /// slow block). Default (unset): a quarter of the chain's grace period. Must be shorter than
    /// `genesis.grace`.
    #[serde(default)]
    pub deadline_margin_secs: Option<u64>,
}

/// Retry schedule of failed background rounds: `base * 2^(n-1)` after the `n`-th failure in a
/// row, capped at `cap`, then jittered into `[delay / 2, delay]` so several keepers (or one
/// keeper and its restarts) do not hit a recovering chain in lockstep.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryBackoff {
    /// Delay after the first failure.
    pub base: std::time::Duration,
    /// Longest delay.
    pub cap: std::time::Duration,
}

impl RetryBackoff {
    /// The delay before the next attempt after `failures` failed rounds in a row (at least 1;
    /// 0 is treated as 1). `jitter` in `[0, 1]` picks the point in `[delay / 2, delay]`
    /// (0: half, 1: full); out-of-range values are clamped. Pure: the caller draws `jitter`.
    pub fn delay(&self, failures: u32, jitter: f64) -> std::time::Duration {
        let exp = failures.max(1) - 1;
        // 2^exp saturates long before u32 failures overflow it
        let factor = 1u32.checked_shl(exp.min(31)).unwrap_or(u32::MAX);
        let full = self
            .base
            .checked_mul(factor)
            .unwrap_or(self.cap)
            .min(self.cap);
        let jitter = if jitter.is_nan() {
            1.0
        } else {
            jitter.clamp(0.0, 1.0)
        };
        full.mul_f64(0.5 + 0.5 * jitter)
    }
}

fn default_interval() -> u64 {
    30
}
fn default_batch() -> usize {
    100
}
fn default_max_gas() -> u64 {
    20_000_000
}
fn default_tx_bytes() -> u64 {
    1_000_000
}
fn default_gas_item() -> u64 {
    150_000
}
fn default_gas_byte() -> u64 {
    10
}
fn default_true() -> bool {
    true
}
fn default_retry_base_ms() -> u64 {
    1000
}

impl Default for BatcherConfig {
    fn default() -> Self {
        BatcherConfig {
            batch_interval_secs: default_interval(),
            max_batch: default_batch(),
            max_gas_per_tx: default_max_gas(),
            max_tx_bytes: default_tx_bytes(),
            gas_per_receipt: default_gas_item(),
            gas_per_byte: default_gas_byte(),
            finalize: true,
            retry_base_ms: default_retry_base_ms(),
            retry_max_secs: None,
            backpressure: true,
            deadline_margin_secs: None,
        }
    }
}

impl BatcherConfig {
    /// The retry schedule of failed rounds: base `retry_base_ms`, cap `retry_max_secs` (default
    /// `batch_interval_secs`).
    pub fn retry_backoff(&self) -> RetryBackoff {
        RetryBackoff {
            base: std::time::Duration::from_millis(self.retry_base_ms),
            cap: std::time::Duration::from_secs(
                self.retry_max_secs.unwrap_or(self.batch_interval_secs),
            ),
        }
    }
}

/// Store settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    /// `full` (default: an acknowledged receipt survives power loss) or `normal`.
    #[serde(default)]
    pub durability: Durability,
}

/// Chain backend kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum BackendKind {
    /// The contracts in-process on cw-multi-test, persisted under `--home` (default).
    #[default]
    Embedded,
    /// A real CosmWasm chain over CometBFT RPC (issue 8); needs `[chain.cosmos]`.
    Cosmos,
}

/// Chain settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ChainConfig {
    /// Backend (only `embedded` in this version).
    #[serde(default)]
    pub backend: BackendKind,
    /// File holding the keeper's submitter key (hex secret). Not needed by the embedded backend.
    #[serde(default)]
    pub key_file: Option<PathBuf>,
    /// Environment variable holding the submitter key (hex secret); used if `key_file` is unset.
    #[serde(default)]
    pub key_env: Option<String>,
    /// `[chain.cosmos]`: endpoint, chain id, gas, mnemonic key and deployment of the cosmos
    /// backend (required for `backend = "cosmos"`; added for issue 8).
    #[serde(default)]
    pub cosmos: Option<crate::chain::cosmos::CosmosConfig>,
}

/// A config error, naming the field.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config {path}: {source}")]
    Read {
        /// Path.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// TOML syntax or schema error (unknown field, wrong type), with its location.
    #[error("invalid config {path}: {message}")]
    Parse {
        /// Path.
        path: PathBuf,
        /// The parser's message (names the key).
        message: String,
    },
    /// A value out of range.
    #[error("config {field}: {message}")]
    Invalid {
        /// Dotted field name.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// The submitter key could not be read (the key itself is never printed).
    #[error("cannot read submitter key from {source_name}: {message}")]
    Key {
        /// `key_file <path>` or `key_env <VAR>`.
        source_name: String,
        /// Why.
        message: String,
    },
}

fn invalid(field: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        field: field.into(),
        message: message.into(),
    }
}

/// A secret submitter key. `Debug` prints `[redacted]`; the bytes never reach a log.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKey(Vec<u8>);

impl SecretKey {
    /// The key bytes.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey([redacted])")
    }
}

fn parse_key(text: &str, source_name: String) -> Result<SecretKey, ConfigError> {
    let t = text.trim();
    let t = t.strip_prefix("0x").unwrap_or(t);
    match hex::decode(t) {
        Ok(b) if b.len() == 32 => Ok(SecretKey(b)),
        Ok(b) => Err(ConfigError::Key {
            source_name,
            message: format!("expected 32 bytes of hex, got {} bytes", b.len()),
        }),
        Err(_) => Err(ConfigError::Key {
            source_name,
            message: "not hex".into(),
        }),
    }
}

impl KeeperConfig {
    /// Reads, parses and validates a config file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let cfg = Self::parse(&text).map_err(|e| match e {
            ConfigError::Parse { message, .. } => ConfigError::Parse {
                path: path.to_path_buf(),
                message,
            },
            other => other,
        })?;
        Ok(cfg)
    }

    /// Parses and validates TOML text.
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        let cfg: KeeperConfig = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: PathBuf::from("<text>"),
            message: e.to_string(),
        })?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Checks ranges and cross-field rules.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let s = &self.server;
        if s.body_limit_bytes < 1024 {
            return Err(invalid("server.body_limit_bytes", "must be at least 1024"));
        }
        if s.max_concurrent_requests == 0 {
            return Err(invalid("server.max_concurrent_requests", "must be > 0"));
        }
        if s.requests_per_second == 0 {
            return Err(invalid("server.requests_per_second", "must be > 0"));
        }
        if s.burst < s.requests_per_second.min(1) {
            return Err(invalid("server.burst", "must be > 0"));
        }
        if s.max_receipts_per_request == 0 {
            return Err(invalid("server.max_receipts_per_request", "must be > 0"));
        }
        if s.request_timeout_secs == 0 {
            return Err(invalid("server.request_timeout_secs", "must be > 0"));
        }
        let b = &self.batcher;
        if b.batch_interval_secs == 0 {
            return Err(invalid("batcher.batch_interval_secs", "must be > 0"));
        }
        if b.max_batch == 0 || b.max_batch > 500 {
            return Err(invalid("batcher.max_batch", "must be in 1..=500"));
        }
        if b.max_gas_per_tx < b.gas_per_receipt {
            return Err(invalid(
                "batcher.max_gas_per_tx",
                "must fit at least one receipt (gas_per_receipt)",
            ));
        }
        if b.max_tx_bytes < 4096 {
            return Err(invalid("batcher.max_tx_bytes", "must be at least 4096"));
        }
        if b.retry_base_ms == 0 {
            return Err(invalid("batcher.retry_base_ms", "must be > 0"));
        }
        let retry_cap_secs = b.retry_max_secs.unwrap_or(b.batch_interval_secs);
        if b.retry_max_secs == Some(0) {
            return Err(invalid("batcher.retry_max_secs", "must be > 0"));
        }
        if b.retry_base_ms > retry_cap_secs.saturating_mul(1000) {
            return Err(invalid(
                "batcher.retry_base_ms",
                format!(
                    "must not exceed the retry cap ({retry_cap_secs} s: retry_max_secs, or batch_interval_secs when unset)"
                ),
            ));
        }
        if self.chain.backend == BackendKind::Cosmos {
            let Some(c) = &self.chain.cosmos else {
                return Err(invalid(
                    "chain.cosmos",
                    "the cosmos backend needs a [chain.cosmos] section",
                ));
            };
            c.validate()
                .map_err(|(field, message)| invalid(&format!("chain.cosmos.{field}"), message))?;
        }
        if self.chain.backend == BackendKind::Embedded {
            let Some(g) = &self.genesis else {
                return Err(invalid(
                    "genesis",
                    "the embedded backend needs a [genesis] section",
                ));
            };
            g.validate().map_err(|e| match e {
                crate::genesis::GenesisError::Invalid { field, message } => {
                    invalid(&format!("genesis.{field}"), message)
                }
            })?;
            if let Some(max) = b.retry_max_secs.filter(|m| *m >= g.grace) {
                return Err(invalid(
                    "batcher.retry_max_secs",
                    format!(
                        "{max} must be shorter than genesis.grace ({} s) so a recovered chain gets a round before an epoch's window closes",
                        g.grace
                    ),
                ));
            }
            if let Some(m) = b.deadline_margin_secs.filter(|m| *m >= g.grace) {
                return Err(invalid(
                    "batcher.deadline_margin_secs",
                    format!(
                        "{m} must be shorter than genesis.grace ({} s), or no receipt could be acknowledged late in an epoch",
                        g.grace
                    ),
                ));
            }
            if b.batch_interval_secs >= g.grace {
                return Err(invalid(
                    "batcher.batch_interval_secs",
                    format!(
                        "must be shorter than genesis.grace ({} s) so every epoch is submitted before its window closes",
                        g.grace
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The data directory: `--home` if given, else `home` from the file, else `.opg`.
    pub fn resolve_home(&self, cli_home: Option<&Path>) -> PathBuf {
        cli_home
            .map(Path::to_path_buf)
            .or_else(|| self.home.clone())
            .unwrap_or_else(|| PathBuf::from(".opg"))
    }

    /// The submitter key from `key_file` or `key_env`, if configured.
    pub fn submitter_key(&self) -> Result<Option<SecretKey>, ConfigError> {
        if let Some(p) = &self.chain.key_file {
            let name = format!("key_file {}", p.display());
            let text = std::fs::read_to_string(p).map_err(|e| ConfigError::Key {
                source_name: name.clone(),
                message: e.to_string(),
            })?;
            return parse_key(&text, name).map(Some);
        }
        if let Some(var) = &self.chain.key_env {
            let name = format!("key_env {var}");
            let text = std::env::var(var).map_err(|e| ConfigError::Key {
                source_name: name.clone(),
                message: e.to_string(),
            })?;
            return parse_key(&text, name).map(Some);
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: &str = r#"
[genesis]
dev_seed = "s"
epoch_length = 60
grace = 30
models = [{ id = "openai/gpt-4.1", provenance = "commercial" }]

[genesis.params]
emission_per_epoch = "1000"
m_commercial = "0.5"
m_community_max = "3"
target_share = "0.3"
alpha = "0.2"
v_cap = "1000000"
c_call = "1000"
claim_epochs = 30
hardware_weights = [{ class = "h100", weight = "10", stipend_cap = "100" }]
"#;

    #[test]
    fn minimal_config_gets_defaults() {
        let mut text = MIN.to_string();
        text.insert_str(0, "[batcher]\nbatch_interval_secs = 10\n");
        let c = KeeperConfig::parse(&text).unwrap();
        assert_eq!(c.server.listen.port(), 8402);
        assert_eq!(c.batcher.max_batch, 100);
        assert_eq!(c.store.durability, Durability::Full);
        let g = c.genesis.unwrap();
        assert_eq!(g.chain_id, "opg-local-1");
        assert_eq!(g.denom, "uopg");
        assert!(g.verifier.require_settlement);
    }

    #[test]
    fn unknown_field_is_named() {
        let e = KeeperConfig::parse("[server]\nlisten_addr = \"x\"\n").unwrap_err();
        assert!(e.to_string().contains("listen_addr"), "{e}");
    }

    #[test]
    fn interval_must_be_shorter_than_grace() {
        // default interval 30 >= grace 30
        let e = KeeperConfig::parse(MIN).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("config batcher.batch_interval_secs"),
            "{e}"
        );
    }

    #[test]
    fn embedded_needs_genesis_and_ranges_are_checked() {
        let e = KeeperConfig::parse("").unwrap_err();
        assert_eq!(
            e.to_string(),
            "config genesis: the embedded backend needs a [genesis] section"
        );
        let mut text = MIN.to_string();
        text.insert_str(0, "[batcher]\nbatch_interval_secs = 10\nmax_batch = 0\n");
        let e = KeeperConfig::parse(&text).unwrap_err();
        assert!(e.to_string().starts_with("config batcher.max_batch"), "{e}");
        let text = MIN
            .replace("epoch_length = 60", "epoch_length = 0")
            .replace(
                "[genesis]",
                "[batcher]\nbatch_interval_secs = 10\n[genesis]",
            );
        let e = KeeperConfig::parse(&text).unwrap_err();
        assert!(
            e.to_string().starts_with("config genesis.epoch_length"),
            "{e}"
        );
    }

    #[test]
    fn retry_settings_are_validated() {
        let with = |batcher: &str| {
            let mut text = MIN.to_string();
            text.insert_str(
                0,
                &format!("[batcher]\nbatch_interval_secs = 10\n{batcher}\n"),
            );
            KeeperConfig::parse(&text)
        };
        let c = with("").unwrap();
        assert_eq!(c.batcher.retry_base_ms, 1000);
        assert_eq!(c.batcher.retry_max_secs, None);
        assert!(c.batcher.backpressure);
        assert_eq!(c.batcher.deadline_margin_secs, None);
        assert_eq!(
            with("deadline_margin_secs = 29\nbackpressure = false")
                .unwrap()
                .batcher
                .deadline_margin_secs,
            Some(29)
        );
        assert_eq!(
            c.batcher.retry_backoff(),
            RetryBackoff {
                base: std::time::Duration::from_secs(1),
                cap: std::time::Duration::from_secs(10),
            }
        );
        let c = with("retry_base_ms = 250\nretry_max_secs = 29").unwrap();
        assert_eq!(
            c.batcher.retry_backoff().cap,
            std::time::Duration::from_secs(29)
        );
        for (text, field) in [
            ("retry_base_ms = 0", "batcher.retry_base_ms"),
            ("retry_max_secs = 0", "batcher.retry_max_secs"),
            // grace is 30 s
            ("retry_max_secs = 30", "batcher.retry_max_secs"),
            // the deadline margin must leave part of the grace period
            ("deadline_margin_secs = 30", "batcher.deadline_margin_secs"),
            // above the default cap (batch_interval_secs = 10)
            ("retry_base_ms = 10001", "batcher.retry_base_ms"),
            (
                "retry_base_ms = 5000\nretry_max_secs = 4",
                "batcher.retry_base_ms",
            ),
        ] {
            let e = with(text).unwrap_err();
            assert!(
                e.to_string().starts_with(&format!("config {field}")),
                "{text}: {e}"
            );
        }
    }

    #[test]
    fn backoff_doubles_caps_and_jitters_within_half_to_full() {
        use std::time::Duration;
        let b = RetryBackoff {
            base: Duration::from_secs(1),
            cap: Duration::from_secs(30),
        };
        let full: Vec<u64> = (1..=8).map(|n| b.delay(n, 1.0).as_secs()).collect();
        assert_eq!(full, vec![1, 2, 4, 8, 16, 30, 30, 30]);
        let half: Vec<u64> = (1..=8)
            .map(|n| b.delay(n, 0.0).as_millis() as u64)
            .collect();
        assert_eq!(
            half,
            vec![500, 1000, 2000, 4000, 8000, 15_000, 15_000, 15_000]
        );
        assert_eq!(b.delay(3, 0.5), Duration::from_secs(3));
        // 0 failures is treated as the first; huge counts and odd jitter stay bounded
        assert_eq!(b.delay(0, 1.0), Duration::from_secs(1));
        assert_eq!(b.delay(u32::MAX, 1.0), Duration::from_secs(30));
        assert_eq!(b.delay(40, 7.0), Duration::from_secs(30));
        assert_eq!(b.delay(2, -1.0), Duration::from_secs(1));
        assert_eq!(b.delay(2, f64::NAN), Duration::from_secs(2));
        // a base above the cap is cut to the cap
        let c = RetryBackoff {
            base: Duration::from_secs(60),
            cap: Duration::from_secs(30),
        };
        assert_eq!(c.delay(1, 1.0), Duration::from_secs(30));
    }

    #[test]
    fn key_from_env_is_redacted_in_debug() {
        let var = "OPG_KEEPER_TEST_KEY_7731";
        std::env::set_var(var, format!("0x{}", "11".repeat(32)));
        let c = KeeperConfig {
            chain: ChainConfig {
                key_env: Some(var.into()),
                ..Default::default()
            },
            ..Default::default()
        };
        let k = c.submitter_key().unwrap().unwrap();
        assert_eq!(k.expose(), &[0x11; 32]);
        assert_eq!(format!("{k:?}"), "SecretKey([redacted])");
        std::env::set_var(var, "abcd");
        let e = c.submitter_key().unwrap_err().to_string();
        assert!(
            e.contains("expected 32 bytes") && !e.contains("abcd"),
            "{e}"
        );
    }
}

#[cfg(test)]
mod cosmos_config_tests {
    use super::*;

    /// `backend = "cosmos"` needs a valid `[chain.cosmos]` and no `[genesis]`.
    #[test]
    fn cosmos_backend_is_parsed_and_validated() {
        let ok = r#"
[chain]
backend = "cosmos"
[chain.cosmos]
rpc_url = "http://127.0.0.1:26657"
chain_id = "opg-devnet-1"
gas_price = "0.025ustake"
gas_adjustment = "1.5"
mnemonic_env = "OPG_KEEPER_MNEMONIC"
deploy_state = "deploy.json"
"#;
        let c = KeeperConfig::parse(ok).unwrap();
        assert_eq!(c.chain.backend, BackendKind::Cosmos);
        let cosmos = c.chain.cosmos.unwrap();
        assert_eq!(cosmos.prefix, "wasm");
        assert_eq!(cosmos.gas_adjustment.to_string(), "1.5");
        let missing = KeeperConfig::parse("[chain]\nbackend = \"cosmos\"\n").unwrap_err();
        assert!(missing.to_string().contains("chain.cosmos"), "{missing}");
        let bad = ok.replace("0.025ustake", "free");
        let e = KeeperConfig::parse(&bad).unwrap_err().to_string();
        assert!(e.contains("chain.cosmos.gas_price"), "{e}");
        let low = ok.replace("\"1.5\"", "\"0.5\"");
        let e = KeeperConfig::parse(&low).unwrap_err().to_string();
        assert!(e.contains("chain.cosmos.gas_adjustment"), "{e}");
    }
}

#[cfg(test)]
mod example_tests {
    use super::*;

    /// The shipped example must parse, validate and keep the documented defaults.
    #[test]
    fn example_config_is_valid_and_matches_defaults() {
        let c = KeeperConfig::parse(include_str!("../keeper.example.toml")).unwrap();
        assert_eq!(c.server, ServerConfig::default());
        assert_eq!(c.batcher, BatcherConfig::default());
        let g = c.genesis.unwrap();
        assert_eq!(g.nodes.len(), 2);
        assert_eq!(g.verifier.networks[0].chain_id, 84532);
        assert_eq!(g.params.hardware_weights.len(), 2);
    }
}
