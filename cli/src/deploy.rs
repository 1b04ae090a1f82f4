//! `gaib deploy`: deploy gaib's contracts from the checked-in artifacts to a chain over
//! JSON-RPC, as `deploy.toml` says (see [`gaib_contracts::deploy`]): AID and its minter, the
//! ValuationOracle (signers, quorum, maxAge, deviation and growth caps, minimum interval, stale
//! price decay, guardian), sAID, and optionally the example LendingMarket, the RevenueRouter
//! and the MorphoOracleAdapter (the fail-closed oracle for Morpho Blue markets), and, with a
//! `[tranched_pool]` table, one pool of a portfolio: its TranchedPool with one TrancheToken per
//! tranche and its TrancheOracle (per-tranche prices).
//! Every transaction's receipt is waited for; then `DIR/<chain-id>.json` (default
//! `deployments/`) is written atomically with every address, constructor argument and setup
//! transaction.
//!
//! stdout: one line per deployed contract, `NAME ADDRESS` (the README's chain section reads the
//! oracle's address from it); stderr: a summary.
//!
//! Bad input (URL, key, config file or field, an existing record without `--force`) exits 2
//! naming it, before anything is sent; chain errors (node unreachable, a revert) exit 1 and say
//! what was already deployed. Nothing is written unless the whole deployment succeeded.

use anyhow::Context;
use gaib_contracts::alloy::providers::Provider;
use gaib_contracts::{
    parse_rpc_url, provider_with_sender, ContractsError, DeployConfig, ReportSigner,
};
use std::path::PathBuf;

/// Arguments of `gaib deploy`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// JSON-RPC endpoint (http:// or https://), e.g. http://127.0.0.1:8545.
    #[arg(long)]
    rpc: String,
    /// File holding the hex secp256k1 key that deploys (and administers) the contracts.
    #[arg(long)]
    key_file: PathBuf,
    /// The deployment configuration (TOML; see deployments/anvil.toml).
    #[arg(long)]
    config: PathBuf,
    /// Directory of the deployment record `<chain-id>.json`.
    #[arg(long, default_value = "deployments")]
    out_dir: PathBuf,
    /// Replace an existing record for this chain id.
    #[arg(long)]
    force: bool,
}

/// Checks the inputs, deploys, writes the record, prints the addresses.
pub(crate) fn run(a: Args) -> anyhow::Result<()> {
    let rpc = parse_rpc_url(&a.rpc)?;
    let key = ReportSigner::from_file(&a.key_file)?;
    let text = std::fs::read_to_string(&a.config).map_err(|e| {
        crate::CliError::invalid(format!(
            "invalid config: cannot read {}: {e}",
            a.config.display()
        ))
    })?;
    let mut config = DeployConfig::from_toml(&text, &a.config.display().to_string())?;
    // `[tranched_pool]`: the pool comes from the portfolio file it names (read before anything
    // is sent, so a missing file or pool exits 2).
    let pool = match &mut config.tranched_pool {
        None => None,
        Some(t) => {
            let input = gaib_runs::PortfolioInput::from_file(std::path::Path::new(&t.portfolio))?;
            let pool = input
                .portfolio()
                .pools
                .iter()
                .find(|p| p.id == t.pool)
                .cloned()
                .ok_or_else(|| {
                    crate::CliError::invalid(format!(
                        "invalid tranched_pool.pool: {:?} is not a pool of {}",
                        t.pool, t.portfolio
                    ))
                })?;
            gaib_contracts::deploy::pool_terms(&pool)?;
            // The legal final period defaults to the portfolio's horizon (its last month).
            t.legal_final_period
                .get_or_insert(input.portfolio().horizon_months());
            t.schedule()?;
            Some(pool)
        }
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let provider = provider_with_sender(rpc, &key);
    let chain_id = runtime
        .block_on(provider.get_chain_id())
        .map_err(|e| ContractsError::Rpc(format!("eth_chainId at {}: {e}", a.rpc)))?;
    let path = a.out_dir.join(format!("{chain_id}.json"));
    if path.exists() && !a.force {
        return Err(crate::CliError::invalid(format!(
            "invalid out-dir: {} already records a deployment on chain {chain_id} (--force replaces it)",
            path.display()
        )));
    }
    // The record's directory must be writable before anything is sent.
    std::fs::create_dir_all(&a.out_dir).map_err(|e| {
        crate::CliError::invalid(format!(
            "invalid out-dir: cannot create {}: {e}",
            a.out_dir.display()
        ))
    })?;
    let probe = a.out_dir.join(format!(".{chain_id}.json.probe"));
    std::fs::write(&probe, b"")
        .and_then(|()| std::fs::remove_file(&probe))
        .map_err(|e| {
            crate::CliError::invalid(format!(
                "invalid out-dir: cannot write in {}: {e}",
                a.out_dir.display()
            ))
        })?;
    let d = runtime.block_on(gaib_contracts::deploy::deploy_with_pool(
        &provider,
        &key,
        &config,
        pool.as_ref(),
    ))?;
    let mut json = serde_json::to_string_pretty(&d)?;
    json.push('\n');
    if let Err(e) = gaib_runs::write_atomic(&path, json.as_bytes()) {
        // Everything is on chain: never lose the record.
        print!("{json}");
        return Err(e).with_context(|| {
            format!(
                "the deployment succeeded but {} could not be written; its record is on stdout",
                path.display()
            )
        });
    }
    for (name, c) in &d.contracts {
        println!("{name:<16} {}", c.address);
    }
    eprintln!(
        "deployed {} contracts on chain {chain_id} from {}; wrote {}",
        d.contracts.len(),
        d.deployer,
        path.display()
    );
    Ok(())
}
