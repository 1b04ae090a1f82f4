//! The service's configuration: a TOML file (`gaib serve --config FILE`), every field optional,
//! overridden by the command line's `--listen` and `--db`.

use serde::Deserialize;
use std::path::{Path, PathBuf};

/// Configuration of `gaib serve`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address to listen on.
    pub listen: String,
    /// The SQLite database file (created with its directory when absent).
    pub db: PathBuf,
    /// Where run directories go (default: `runs/` next to the database file).
    pub runs_dir: Option<PathBuf>,
    /// Simulations running at once (the others wait in the queue).
    pub workers: usize,
    /// CPU threads of each simulation (default: all CPUs; results do not depend on it).
    pub threads: Option<usize>,
    /// Largest request body accepted, bytes (413 above).
    pub max_body_bytes: usize,
    /// Write requests per API key per minute (sustained rate; 429 with Retry-After above).
    pub rate_limit_per_minute: u32,
    /// Write requests a key may make at once before the rate applies.
    pub rate_limit_burst: u32,
    /// Queued or running jobs per API key (429 above).
    pub max_jobs_per_key: u32,
    /// Most paths one job may ask for.
    pub max_paths_per_job: u64,
    /// Per-path rows (the Arrow stream of results) are kept for jobs of at most this many
    /// paths, unless the request says otherwise.
    pub path_rows_max_paths: u64,
    /// Attempts of a job interrupted by a crash or restart before it is marked failed.
    pub max_attempts: u32,
    /// How long a published valuation stays valid after its run, seconds.
    pub valid_for_s: u64,
    /// Fewest paths of a job whose valuation is published (fewer: stored as held).
    pub min_publish_paths: u64,
    /// Largest move of an asset's price from its last published one, percent (more: stored
    /// as held until an admin key releases it).
    pub max_price_move_pct: f64,
    /// Portfolios one API key may hold (409 above; `DELETE /v1/portfolios/{id}` frees one).
    pub max_portfolios_per_key: u32,
    /// Origins allowed by CORS (`["*"]` for any; empty: no CORS headers).
    pub cors_origins: Vec<String>,
    /// The chain side: signed reports (`/v1/reports/{asset}/latest`) and, with `publish`, the
    /// keeper. Absent: no reports.
    pub chain: Option<ChainConfig>,
}

/// The `[chain]` section: which oracle reports are signed for, with which key, and whether the
/// keeper pushes each new valuation to it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainConfig {
    /// JSON-RPC endpoint (needed by the keeper; gives the chain id when `chain_id` is absent).
    pub rpc: Option<String>,
    /// Chain id of the EIP-712 domain (default: the node's at `rpc`).
    pub chain_id: Option<u64>,
    /// Address of the ValuationOracle (0x…).
    pub oracle: String,
    /// File holding the hex secp256k1 signing key.
    pub key_file: Option<PathBuf>,
    /// Environment variable holding it instead (never logged or returned).
    pub key_env: Option<String>,
    /// Run the keeper: publish each asset's newest valuation to the oracle.
    #[serde(default)]
    pub publish: bool,
    /// Seconds between the keeper's checks (it also wakes on every new valuation).
    #[serde(default = "default_poll_s")]
    pub poll_s: u64,
    /// Longest wait between retries of a failed publication, seconds (doubling from 1 s).
    #[serde(default = "default_max_backoff_s")]
    pub max_backoff_s: u64,
    /// `TrancheOracle`s (0x…) of the deployment's tranched pools: with `publish`, the keeper
    /// also publishes each pool's tranche prices from the newest published valuation's run that
    /// holds the pool (docs/API.md, "Keeper").
    #[serde(default)]
    pub tranche_oracles: Vec<String>,
}

impl ChainConfig {
    /// A chain section for `oracle` with every other field at its default (no RPC, no key,
    /// keeper off, the default poll and backoff).
    pub fn for_oracle(oracle: String) -> Self {
        Self {
            rpc: None,
            chain_id: None,
            oracle,
            key_file: None,
            key_env: None,
            publish: false,
            poll_s: default_poll_s(),
            max_backoff_s: default_max_backoff_s(),
            tranche_oracles: Vec::new(),
        }
    }
}

fn default_poll_s() -> u64 {
    5
}

fn default_max_backoff_s() -> u64 {
    300
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            db: PathBuf::from("var/gaib.db"),
            runs_dir: None,
            workers: 1,
            threads: None,
            max_body_bytes: 1 << 20,
            rate_limit_per_minute: 120,
            rate_limit_burst: 30,
            max_jobs_per_key: 8,
            max_paths_per_job: 100_000_000,
            path_rows_max_paths: 100_000,
            max_attempts: 2,
            valid_for_s: 86_400,
            min_publish_paths: 10_000,
            max_price_move_pct: 10.0,
            max_portfolios_per_key: 100,
            cors_origins: Vec::new(),
            chain: None,
        }
    }
}

/// Errors reading the configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML of this schema.
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: String,
        /// The parser's message.
        message: String,
    },
    /// A value is out of range.
    #[error("invalid {field} = {value}: {reason}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// Its value.
        value: String,
        /// What is allowed.
        reason: &'static str,
    },
}

impl Config {
    /// Reads a TOML configuration file.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let c: Config = toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        c.check()?;
        Ok(c)
    }

    /// Checks the values.
    pub fn check(&self) -> Result<(), ConfigError> {
        let bad = |field, value: String, reason| {
            Err(ConfigError::Invalid {
                field,
                value,
                reason,
            })
        };
        if self.workers == 0 {
            return bad("workers", "0".into(), "at least 1");
        }
        if self.threads == Some(0) {
            return bad("threads", "0".into(), "at least 1");
        }
        if self.rate_limit_per_minute == 0 || self.rate_limit_burst == 0 {
            return bad(
                "rate_limit_per_minute",
                format!("{}/{}", self.rate_limit_per_minute, self.rate_limit_burst),
                "rate and burst at least 1",
            );
        }
        if self.max_attempts == 0 {
            return bad("max_attempts", "0".into(), "at least 1");
        }
        if !(self.max_price_move_pct > 0.0 && self.max_price_move_pct.is_finite()) {
            return bad(
                "max_price_move_pct",
                self.max_price_move_pct.to_string(),
                "a positive, finite percentage",
            );
        }
        if self.max_portfolios_per_key == 0 {
            return bad("max_portfolios_per_key", "0".into(), "at least 1");
        }
        if self.max_body_bytes < 1024 {
            return bad(
                "max_body_bytes",
                self.max_body_bytes.to_string(),
                "at least 1024",
            );
        }
        if let Some(c) = &self.chain {
            if c.key_file.is_none() && c.key_env.is_none() {
                return bad(
                    "chain.key_file",
                    "(none)".into(),
                    "the chain section needs key_file or key_env",
                );
            }
            if c.rpc.is_none() && (c.publish || c.chain_id.is_none()) {
                return bad(
                    "chain.rpc",
                    "(none)".into(),
                    "the keeper, and reports without chain_id, need rpc",
                );
            }
            if c.poll_s == 0 || c.max_backoff_s == 0 {
                return bad("chain.poll_s", c.poll_s.to_string(), "at least 1");
            }
        }
        Ok(())
    }

    /// The publish guards.
    pub fn guards(&self) -> crate::valuation::Guards {
        crate::valuation::Guards {
            min_publish_paths: self.min_publish_paths,
            max_price_move_pct: self.max_price_move_pct,
        }
    }

    /// Where run directories go.
    pub fn runs_dir(&self) -> PathBuf {
        self.runs_dir.clone().unwrap_or_else(|| {
            self.db
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or_else(|| Path::new("."))
                .join("runs")
        })
    }
}
