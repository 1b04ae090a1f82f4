//! `gaib serve [--config FILE] [--listen ADDR] [--db FILE]`: the valuation service
//! (`gaib-api`), until SIGTERM or Ctrl-C. A thin front: it reads the configuration and hands it
//! to [`gaib_api::serve`].

use std::path::PathBuf;

/// Arguments of `gaib serve`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Configuration file (TOML; every field optional, see docs/API.md).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Address to listen on (default 127.0.0.1:8080, or the configuration's `listen`).
    #[arg(long, value_name = "ADDR")]
    listen: Option<String>,
    /// SQLite database file (default ./var/gaib.db, or the configuration's `db`).
    #[arg(long, value_name = "FILE")]
    db: Option<PathBuf>,
    /// Simulations running at once (default 1).
    #[arg(long)]
    workers: Option<usize>,
    /// CPU threads per simulation (default: all CPUs).
    #[arg(long)]
    threads: Option<usize>,
    /// Run the keeper: push each asset's newest valuation to the oracle (needs --rpc, --oracle
    /// and a key, or a `chain` section of the config with them).
    #[arg(long)]
    publish: bool,
    /// JSON-RPC endpoint of the chain (the keeper's; gives the reports' chain id).
    #[arg(long, value_name = "URL")]
    rpc: Option<String>,
    /// Address of the ValuationOracle reports are signed for and published to.
    #[arg(long, value_name = "ADDR")]
    oracle: Option<String>,
    /// File holding the hex signing key (never logged or returned).
    #[arg(long, value_name = "FILE", conflicts_with = "key_env")]
    key_file: Option<PathBuf>,
    /// Environment variable holding the signing key instead.
    #[arg(long, value_name = "VAR")]
    key_env: Option<String>,
}

/// The configuration of `gaib serve` or `gaib keys`: the file's, then the flags over it.
pub(crate) fn config(
    file: Option<&std::path::Path>,
    db: Option<PathBuf>,
) -> anyhow::Result<gaib_api::Config> {
    let mut c = match file {
        Some(f) => {
            gaib_api::Config::from_file(f).map_err(|e| crate::CliError::invalid(e.to_string()))?
        }
        None => gaib_api::Config::default(),
    };
    if let Some(db) = db {
        c.db = db;
    }
    Ok(c)
}

/// Runs the service.
pub(crate) fn run(a: Args) -> anyhow::Result<()> {
    let mut c = config(a.config.as_deref(), a.db)?;
    if let Some(l) = a.listen {
        c.listen = l;
    }
    if let Some(w) = a.workers {
        c.workers = w;
    }
    if a.threads.is_some() {
        c.threads = a.threads;
    }
    let flags = a.publish
        || a.rpc.is_some()
        || a.oracle.is_some()
        || a.key_file.is_some()
        || a.key_env.is_some();
    if flags {
        let mut chain = match c.chain.take() {
            Some(ch) => ch,
            None => gaib_api::config::ChainConfig::for_oracle(a.oracle.clone().ok_or_else(|| {
                crate::CliError::invalid(
                    "invalid oracle: --publish, --rpc and a key need --oracle ADDR (or a [chain] section)",
                )
            })?),
        };
        if let Some(o) = a.oracle {
            chain.oracle = o;
        }
        if a.rpc.is_some() {
            chain.rpc = a.rpc;
        }
        if a.key_file.is_some() || a.key_env.is_some() {
            chain.key_file = a.key_file;
            chain.key_env = a.key_env;
        }
        chain.publish |= a.publish;
        c.chain = Some(chain);
    }
    c.check()
        .map_err(|e| crate::CliError::invalid(e.to_string()))?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(gaib_api::serve(c)).map_err(|e| match e {
        gaib_api::StartError::Config(_) | gaib_api::StartError::Listen { .. } => {
            crate::CliError::invalid(e.to_string())
        }
        gaib_api::StartError::Chain(ref x) if x.is_input_error() => {
            crate::CliError::invalid(e.to_string())
        }
        other => anyhow::Error::new(other),
    })
}
