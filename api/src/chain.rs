//! The chain side, through `gaib-contracts` only: EIP-712 ValuationReports of published
//! valuations (`GET /v1/reports/{asset}/latest`, signed with the configured key) and the keeper
//! that pushes each asset's newest valuation to the ValuationOracle, retrying failures with
//! exponential backoff, recording the transaction hash.
//!
//! Every report is [`report_of`] the run layer's on-chain figures (`gaib_runs::RunDir::valuation`,
//! stored with the job's valuation record, [`crate::valuation`]), as `gaib publish --from-run`
//! builds it too; its round is the keeper's (the oracle's `latestRound` + 1 at
//! the attempt) once the keeper has published it, else the valuation's 1-based position among
//! the asset's valuations. The signing key is loaded once at start-up; it is never logged or
//! returned (only its address is).

use crate::config::ChainConfig;
use crate::db::{Db, Publication, ValuationRow};
use crate::metrics::Metrics;
use crate::problem::Problem;
use crate::valuation::Valuation;
use axum::http::StatusCode;
use gaib_contracts::alloy::primitives::{Address, Bytes, B256, U256};
use gaib_contracts::alloy::providers::{Provider, ProviderBuilder};
use gaib_contracts::alloy::transports::http::reqwest::Url;
use gaib_contracts::bindings::oracle::ValuationOracle;
use gaib_contracts::{
    asset_id, decode_oracle_error, parse_address, parse_rpc_url, ContractsError, Report,
    ReportSigner, SignedReport,
};
use gaib_runs::OnchainValuation;
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use utoipa::ToSchema;

/// The loaded chain configuration.
pub struct Chain {
    /// The oracle.
    pub oracle: Address,
    /// The EIP-712 domain's chain id.
    pub chain_id: u64,
    /// The RPC endpoint (the keeper's).
    pub rpc: Option<Url>,
    /// The signing key.
    pub signer: ReportSigner,
    /// Whether the keeper runs.
    pub publish: bool,
    /// Keeper poll interval.
    pub poll: Duration,
    /// Longest retry wait.
    pub max_backoff_s: u64,
    /// The `TrancheOracle`s whose pools' tranche prices the keeper publishes.
    pub tranche_oracles: Vec<Address>,
}

impl std::fmt::Debug for Chain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chain")
            .field("oracle", &self.oracle)
            .field("chain_id", &self.chain_id)
            .field("signer", &self.signer.address())
            .field("publish", &self.publish)
            .finish()
    }
}

impl Chain {
    /// Loads the key and resolves the chain id (asking the node when not configured).
    pub async fn load(c: &ChainConfig) -> Result<Self, ContractsError> {
        let oracle = parse_address(&c.oracle, "chain.oracle")?;
        let signer = match (&c.key_file, &c.key_env) {
            (Some(f), _) => ReportSigner::from_file(f)?,
            (None, Some(v)) => ReportSigner::from_env(v)?,
            (None, None) => {
                return Err(ContractsError::invalid(
                    "chain.key_file",
                    "give key_file or key_env",
                ))
            }
        };
        let tranche_oracles = c
            .tranche_oracles
            .iter()
            .enumerate()
            .map(|(i, a)| parse_address(a, &format!("chain.tranche_oracles[{i}]")))
            .collect::<Result<Vec<_>, _>>()?;
        let rpc = c.rpc.as_deref().map(parse_rpc_url).transpose()?;
        let chain_id = match (c.chain_id, &rpc) {
            (Some(id), _) => id,
            (None, Some(url)) => ProviderBuilder::new()
                .connect_http(url.clone())
                .get_chain_id()
                .await
                .map_err(|e| ContractsError::Rpc(format!("eth_chainId: {e}")))?,
            (None, None) => {
                return Err(ContractsError::invalid(
                    "chain.chain_id",
                    "give chain_id or rpc",
                ))
            }
        };
        Ok(Self {
            oracle,
            chain_id,
            rpc,
            signer,
            publish: c.publish,
            poll: Duration::from_secs(c.poll_s),
            max_backoff_s: c.max_backoff_s,
            tranche_oracles,
        })
    }
}

/// The EIP-712 report of the on-chain figures `v` of a run for `round`: a copy of the run
/// layer's integers into the report's fields (`asset` hashed with keccak256), then validated
/// (errors name the field). `gaib publish --from-run` and the service build every report here.
pub fn report_of(v: &OnchainValuation, round: u64) -> Result<Report, ContractsError> {
    let report = Report {
        asset: asset_id(&v.asset),
        nav_per_share: U256::from(v.nav_per_share_wei),
        deployed_value: U256::from(v.deployed_value_wei),
        haircut_bps: v.haircut_bps,
        ltv_bps: v.ltv_bps,
        observed_at: v.observed_at,
        valid_until: v.valid_until,
        run_id: B256::from(v.run_id),
        round,
    };
    report.validate()?;
    Ok(report)
}

/// The report of a stored valuation for `round` (its figures by [`Valuation::onchain`]).
fn report_of_record(v: &Valuation, round: u64) -> Result<Report, ContractsError> {
    let figures = v
        .onchain()
        .map_err(|e| ContractsError::invalid("valuation", e.to_string()))?;
    report_of(&figures, round)
}

/// `GET /v1/reports/{asset}/latest`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReportAnswer {
    /// The asset.
    pub asset: String,
    /// The job whose run it reports.
    pub job_id: String,
    /// The report (JSON form of gaib-contracts' `Report`: amounts as decimal strings of wei).
    #[schema(value_type = Object)]
    pub report: serde_json::Value,
    /// The EIP-712 digest signed, 0x hex.
    pub eip712_digest: String,
    /// Signatures of the digest (65 bytes, 0x hex): `{report, signatures}` is what
    /// `gaib publish --report` and the oracle's `submit` take.
    pub signatures: Vec<String>,
    /// The signer's address.
    pub signer: String,
    /// The domain's chain id.
    pub chain_id: u64,
    /// The oracle (the domain's verifying contract).
    pub oracle: String,
    /// The keeper's publication of this valuation, if it tried.
    pub publication: Option<Publication>,
}

/// Checks that the job's run directory still holds the manifest the valuation was computed
/// from (its SHA-256 is the report's run id).
fn check_manifest(runs_dir: &Path, v: &Valuation) -> Result<(), Problem> {
    let p = runs_dir.join(&v.job_id).join(gaib_runs::MANIFEST);
    let bytes =
        std::fs::read(&p).map_err(|e| Problem::internal(format!("{}: {e}", p.display())))?;
    if gaib_runs::sha256_hex(&bytes) != v.run_id {
        return Err(Problem::internal(format!(
            "{} does not hash to the valuation's run id",
            p.display()
        )));
    }
    Ok(())
}

/// The signed report of the latest valuation of `asset`.
pub fn latest_report(
    db: &Db,
    chain: &Chain,
    runs_dir: &Path,
    asset: &str,
) -> Result<ReportAnswer, Problem> {
    let row = db
        .latest_valuation(asset)?
        .ok_or_else(|| Problem::not_found("valuation of asset", asset))?;
    let v: Valuation = serde_json::from_str(&row.record).map_err(Problem::internal)?;
    let publication = db.publication(asset, row.seq)?;
    let round = match &publication {
        Some(p) if p.status == "published" => p.round as u64,
        _ => db.valuation_ordinal(asset, row.seq)? as u64,
    };
    check_manifest(runs_dir, &v)?;
    let report = report_of_record(&v, round).map_err(|e| {
        Problem::new(
            StatusCode::CONFLICT,
            "unreportable",
            format!("the valuation cannot be reported: {e}"),
        )
    })?;
    let digest = report.digest(chain.chain_id, chain.oracle);
    let sig = chain
        .signer
        .sign_digest(digest)
        .map_err(|e| Problem::internal(format!("signing: {e}")))?;
    Ok(ReportAnswer {
        asset: asset.to_string(),
        job_id: v.job_id.clone(),
        report: serde_json::to_value(&report).map_err(Problem::internal)?,
        eip712_digest: digest.to_string(),
        signatures: vec![Bytes::from(sig.to_vec()).to_string()],
        signer: chain.signer.address().to_string(),
        chain_id: chain.chain_id,
        oracle: chain.oracle.to_string(),
        publication,
    })
}

/// The keeper: until `stop`, publishes each asset's newest valuation that is not yet on chain,
/// then the tranche prices of the configured tranche oracles' pools
/// ([`crate::tranche_keeper::publish_tranches`]).
pub async fn keeper(
    db: Arc<Db>,
    chain: Arc<Chain>,
    runs_dir: std::path::PathBuf,
    metrics: Arc<Metrics>,
    wake: Arc<tokio::sync::Notify>,
) {
    let Some(rpc) = chain.rpc.clone() else {
        return;
    };
    tracing::info!(oracle = %chain.oracle, signer = %chain.signer.address(), "keeper started");
    loop {
        let rows = {
            let db = db.clone();
            tokio::task::spawn_blocking(move || db.latest_valuations()).await
        };
        match rows {
            Ok(Ok(rows)) => {
                for row in &rows {
                    publish_one(&db, &chain, &rpc, &runs_dir, &metrics, row).await;
                }
                crate::tranche_keeper::publish_tranches(&db, &chain, &rpc, &runs_dir, &rows).await;
            }
            Ok(Err(e)) => tracing::error!(error = %e, "keeper: reading valuations"),
            Err(e) => tracing::error!(error = %e, "keeper: task"),
        }
        tokio::select! {
            _ = tokio::time::sleep(chain.poll) => {},
            _ = wake.notified() => {},
        }
    }
}

async fn publish_one(
    db: &Db,
    chain: &Chain,
    rpc: &Url,
    runs_dir: &Path,
    metrics: &Metrics,
    row: &ValuationRow,
) {
    let now = crate::db::now();
    let prev = match db.publication(&row.asset, row.seq) {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(error = %e, "keeper: reading publications");
            return;
        }
    };
    if let Some(p) = &prev {
        if p.status == "published" || p.next_attempt_at > now {
            return;
        }
    }
    let attempts = prev.as_ref().map_or(0, |p| p.attempts) + 1;
    let (round, outcome) = attempt(chain, rpc, runs_dir, row).await;
    let record = match outcome {
        Ok(tx) => {
            metrics.publish_ok.fetch_add(1, Ordering::Relaxed);
            tracing::info!(asset = %row.asset, round, tx = %tx, "keeper: published");
            Publication {
                asset: row.asset.clone(),
                valuation_seq: row.seq,
                round: round as i64,
                status: "published".into(),
                tx_hash: Some(tx),
                error: None,
                attempts,
                next_attempt_at: now,
                updated_at: now,
            }
        }
        Err(e) => {
            metrics.publish_failed.fetch_add(1, Ordering::Relaxed);
            let wait = 1u64
                .checked_shl(attempts.clamp(0, 30) as u32 - 1)
                .unwrap_or(u64::MAX)
                .min(chain.max_backoff_s);
            tracing::warn!(asset = %row.asset, round, attempts, retry_in_s = wait, error = %e, "keeper: publication failed");
            Publication {
                asset: row.asset.clone(),
                valuation_seq: row.seq,
                round: round as i64,
                status: "failed".into(),
                tx_hash: None,
                error: Some(e),
                attempts,
                next_attempt_at: now + wait as i64,
                updated_at: now,
            }
        }
    };
    if let Err(e) = db.record_publication(&record) {
        tracing::error!(error = %e, "keeper: recording the publication");
    }
}

/// One attempt: the next round from the oracle, the report, signed and submitted.
async fn attempt(
    chain: &Chain,
    rpc: &Url,
    runs_dir: &Path,
    row: &ValuationRow,
) -> (u64, Result<String, String>) {
    let v: Valuation = match serde_json::from_str(&row.record) {
        Ok(v) => v,
        Err(e) => return (0, Err(format!("stored valuation: {e}"))),
    };
    let provider = ProviderBuilder::new().connect_http(rpc.clone());
    let latest = match ValuationOracle::new(chain.oracle, &provider)
        .latestRound()
        .call()
        .await
    {
        Ok(r) => r,
        Err(e) => return (0, Err(decode_oracle_error(e).to_string())),
    };
    let round = latest.saturating_add(1);
    if let Err(p) = check_manifest(runs_dir, &v) {
        return (round, Err(p.detail));
    }
    let report = match report_of_record(&v, round) {
        Ok(r) => r,
        Err(e) => return (round, Err(e.to_string())),
    };
    let signed = SignedReport {
        report,
        signatures: Vec::new(),
    };
    match gaib_contracts::sign_and_publish(rpc.clone(), chain.oracle, &signed, &chain.signer).await
    {
        Ok(p) => (round, Ok(p.tx_hash.to_string())),
        Err(e) => (round, Err(e.to_string())),
    }
}
