//! Tranche prices on chain (issue 25): the keeper's second job and its record.
//!
//! For each `TrancheOracle` of `[chain] tranche_oracles`, the keeper reads the oracle's pool
//! (`asset` = keccak256 of the pool id, `tranchedPool`), the pool's `period()` (periods closed)
//! and `lastClose()`, and takes the newest published valuation whose run holds a pool hashing
//! to that asset. That run's tranche prices ([`tranche_prices_of_run`]: E\[PV\] / original
//! balance per tranche, 1e18 = par, the rule `gaib publish --tranches --from-run` uses) become a
//! `TranchePriceReport` for the pool's current period, observed and valid as the run's
//! valuation, round `latestTrancheRound + 1`, signed with the service's key and submitted.
//!
//! One record per (job's run, pool, period) in `tranche_publications` (db.rs migration 4):
//! `published` with its transaction hash; `failed`, retried with the NAV keeper's backoff
//! (doubling from 1 s up to `max_backoff_s`); `stale` when the run was observed before the
//! pool's last period close: such a run cannot price the pool's current period (review
//! finding M1: its prices would still count principal the close paid out), so it is never
//! retried and a newer run is needed. `GET /v1/tranche-publications/{pool}` serves them.

use crate::app::AppState;
use crate::chain::Chain;
use crate::db::{Db, TranchePublication, ValuationRow};
use crate::problem::{Problem, PROBLEM_JSON};
use crate::valuation::Valuation;
use axum::extract::{Path as UrlPath, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use gaib_contracts::alloy::primitives::{Address, B256, U256};
use gaib_contracts::alloy::providers::ProviderBuilder;
use gaib_contracts::alloy::transports::http::reqwest::Url;
use gaib_contracts::bindings::tranche_oracle::TrancheOracle::{self, TrancheOracleErrors};
use gaib_contracts::bindings::tranched_pool::TranchedPool::{self, TranchedPoolErrors};
use gaib_contracts::{
    asset_id, decode_revert, f64_to_decimal, prices_from_values, run_id_of_manifest,
    sign_and_publish_tranches, ContractsError, SignedTrancheReport, TrancheReport,
};
use gaib_runs::RunDir;
use serde::{Deserialize, Serialize};
use std::path::Path;
use utoipa::ToSchema;

/// A run's prices of one pool's tranches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunTranchePrices {
    /// The pool id (its keccak256 is the oracle's asset).
    pub pool: String,
    /// Per tranche, senior first: AID per whole token, 1e18 fixed point (E\[PV\] / original
    /// balance, rounded down to the wei).
    pub prices: Vec<U256>,
}

/// Why a run gives no tranche prices for a pool.
#[derive(Debug, thiserror::Error)]
pub enum TranchePricesError {
    /// No pool of the run hashes to the oracle's asset.
    #[error("no pool of the run ({pools}) hashes to the oracle's asset {asset}")]
    NoPool {
        /// The run's pools, comma separated.
        pools: String,
        /// The oracle's asset.
        asset: B256,
    },
    /// The pool's tranche figures give no valid prices (the error names the
    /// `<pool>/<tranche>` field).
    #[error("pool {pool}: {source}")]
    Prices {
        /// The pool id.
        pool: String,
        /// What is wrong.
        #[source]
        source: ContractsError,
    },
}

/// The tranche prices of the run `rd` for the pool whose id hashes to `asset` (a
/// `TrancheOracle`'s asset): each tranche's E\[PV\] over its original balance (the run's
/// `pv_usd` and `notional_usd`), 1e18 fixed point rounded down. Used by the keeper and by
/// `gaib publish --tranches --from-run`.
pub fn tranche_prices_of_run(
    rd: &RunDir,
    asset: B256,
) -> Result<RunTranchePrices, TranchePricesError> {
    let mut pools: Vec<&str> = Vec::new();
    for t in &rd.results.valuation.tranches {
        if let Some((p, _)) = t.id.split_once('/') {
            if !pools.contains(&p) {
                pools.push(p);
            }
        }
    }
    let Some(id) = pools.iter().find(|p| asset_id(p) == asset) else {
        return Err(TranchePricesError::NoPool {
            pools: pools.join(", "),
            asset,
        });
    };
    let prefix = format!("{id}/");
    let prices = || -> Result<Vec<U256>, ContractsError> {
        let (mut values, mut balances) = (Vec::new(), Vec::new());
        for t in rd
            .results
            .valuation
            .tranches
            .iter()
            .filter(|t| t.id.starts_with(&prefix))
        {
            values.push(f64_to_decimal(t.pv_usd.value, &format!("{}.pv_usd", t.id))?);
            balances.push(f64_to_decimal(
                t.notional_usd,
                &format!("{}.notional_usd", t.id),
            )?);
        }
        prices_from_values(&values, &balances)
    };
    match prices() {
        Ok(prices) => Ok(RunTranchePrices {
            pool: id.to_string(),
            prices,
        }),
        Err(source) => Err(TranchePricesError::Prices {
            pool: id.to_string(),
            source,
        }),
    }
}

/// What the keeper reads from a `TrancheOracle` and its pool before each attempt.
struct PoolView {
    /// The oracle's asset (keccak256 of the pool id).
    asset: B256,
    /// The pool's `period()`.
    period: u64,
    /// The pool's `lastClose()`, unix seconds.
    last_close: u64,
    /// The oracle's `latestTrancheRound()`.
    latest_round: u64,
}

async fn read_pool(rpc: &Url, oracle: Address) -> Result<PoolView, ContractsError> {
    let provider = ProviderBuilder::new().connect_http(rpc.clone());
    let o = TrancheOracle::new(oracle, &provider);
    let oerr = |e| decode_revert::<TrancheOracleErrors>(e, "TrancheOracle");
    let perr = |e| decode_revert::<TranchedPoolErrors>(e, "TranchedPool");
    let asset = o.asset().call().await.map_err(oerr)?;
    let latest_round = o.latestTrancheRound().call().await.map_err(oerr)?;
    let pool = TranchedPool::new(o.tranchedPool().call().await.map_err(oerr)?, &provider);
    let period = pool.period().call().await.map_err(perr)?;
    let last_close = pool.lastClose().call().await.map_err(perr)?;
    let small = |x: U256, what: &str| {
        u64::try_from(x)
            .map_err(|_| ContractsError::invalid(what, format!("{x} is above 2^64 - 1")))
    };
    Ok(PoolView {
        asset,
        period: small(period, "TranchedPool.period")?,
        last_close: small(last_close, "TranchedPool.lastClose")?,
        latest_round,
    })
}

/// The newest published valuation (of `rows`, the keeper's latest per asset) whose run holds
/// the pool hashing to `asset`, with the pool id and that run's prices (or why they could not
/// be computed).
#[allow(clippy::type_complexity)]
fn newest_run_of_pool<'a>(
    runs_dir: &Path,
    rows: &'a [ValuationRow],
    asset: B256,
) -> Option<(&'a ValuationRow, RunDir, String, Result<Vec<U256>, String>)> {
    let mut rows: Vec<&ValuationRow> = rows.iter().collect();
    rows.sort_by_key(|r| std::cmp::Reverse(r.seq));
    for row in rows {
        let rd = match RunDir::open(&runs_dir.join(&row.job_id)) {
            Ok(rd) => rd,
            Err(e) => {
                tracing::warn!(job = %row.job_id, error = %e, "tranche keeper: run directory");
                continue;
            }
        };
        match tranche_prices_of_run(&rd, asset) {
            Err(TranchePricesError::NoPool { .. }) => continue,
            Ok(p) => return Some((row, rd, p.pool, Ok(p.prices))),
            Err(TranchePricesError::Prices { pool, source }) => {
                return Some((row, rd, pool, Err(source.to_string())))
            }
        }
    }
    None
}

/// For each configured `TrancheOracle`, publishes the newest run's tranche prices for the
/// pool's current period unless that (run, pool, period) is published, stale or waiting for
/// its retry; records every attempt. Errors are logged and recorded, never raised.
pub async fn publish_tranches(
    db: &Db,
    chain: &Chain,
    rpc: &Url,
    runs_dir: &Path,
    rows: &[ValuationRow],
) {
    for &oracle in &chain.tranche_oracles {
        let view = match read_pool(rpc, oracle).await {
            Ok(v) => v,
            Err(e) => {
                tracing::warn!(oracle = %oracle, error = %e, "tranche keeper: reading the oracle and its pool");
                continue;
            }
        };
        let Some((row, rd, pool, prices)) = newest_run_of_pool(runs_dir, rows, view.asset) else {
            continue;
        };
        publish_pool(db, chain, rpc, oracle, &view, row, &rd, pool, prices).await;
    }
}

#[allow(clippy::too_many_arguments)]
async fn publish_pool(
    db: &Db,
    chain: &Chain,
    rpc: &Url,
    oracle: Address,
    view: &PoolView,
    row: &ValuationRow,
    rd: &RunDir,
    pool: String,
    prices: Result<Vec<U256>, String>,
) {
    let now = crate::db::now();
    let period = view.period as i64;
    let prev = match db.tranche_publication(&row.job_id, &pool, period) {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(error = %e, "tranche keeper: reading publications");
            return;
        }
    };
    if let Some(p) = &prev {
        if p.status != "failed" || p.next_attempt_at > now {
            return;
        }
    }
    let mut record = TranchePublication {
        job_id: row.job_id.clone(),
        run_id: row.run_id.clone(),
        pool: pool.clone(),
        period,
        oracle: oracle.to_string(),
        round: view.latest_round.saturating_add(1) as i64,
        prices: prices
            .as_ref()
            .map(|p| p.iter().map(|x| x.to_string()).collect())
            .unwrap_or_default(),
        status: "published".into(),
        tx_hash: None,
        error: None,
        attempts: prev.as_ref().map_or(0, |p| p.attempts) + 1,
        next_attempt_at: now,
        updated_at: now,
    };
    match attempt(chain, rpc, oracle, view, row, rd, prices).await {
        Ok(tx) => {
            tracing::info!(pool = %pool, period, round = record.round, tx = %tx, "tranche keeper: published");
            record.tx_hash = Some(tx);
        }
        Err(Outcome::Stale(why)) => {
            tracing::info!(pool = %pool, period, job = %row.job_id, "tranche keeper: {why}");
            record.status = "stale".into();
            record.error = Some(why);
        }
        Err(Outcome::Failed(e)) => {
            let wait = 1u64
                .checked_shl(record.attempts.clamp(1, 31) as u32 - 1)
                .unwrap_or(u64::MAX)
                .min(chain.max_backoff_s);
            tracing::warn!(pool = %pool, period, attempts = record.attempts, retry_in_s = wait, error = %e, "tranche keeper: publication failed");
            record.status = "failed".into();
            record.error = Some(e);
            record.next_attempt_at = now + wait as i64;
        }
    }
    if let Err(e) = db.record_tranche_publication(&record) {
        tracing::error!(error = %e, "tranche keeper: recording the publication");
    }
}

/// Why an attempt did not publish.
enum Outcome {
    /// The run cannot price the pool's current period (not retried).
    Stale(String),
    /// Anything else (retried).
    Failed(String),
}

/// One attempt: the report of the run's prices for the pool's period, signed and submitted.
async fn attempt(
    chain: &Chain,
    rpc: &Url,
    oracle: Address,
    view: &PoolView,
    row: &ValuationRow,
    rd: &RunDir,
    prices: Result<Vec<U256>, String>,
) -> Result<String, Outcome> {
    let prices = prices.map_err(Outcome::Failed)?;
    let v: Valuation = serde_json::from_str(&row.record)
        .map_err(|e| Outcome::Failed(format!("stored valuation: {e}")))?;
    let figures = v
        .onchain()
        .map_err(|e| Outcome::Failed(format!("valuation: {e}")))?;
    let run_id = run_id_of_manifest(&rd.manifest_bytes);
    if format!("{run_id:x}") != row.run_id {
        return Err(Outcome::Failed(format!(
            "the run directory of job {} does not hash to the valuation's run id {}",
            row.job_id, row.run_id
        )));
    }
    if figures.observed_at < view.last_close {
        return Err(Outcome::Stale(format!(
            "the run was observed at {}, before the pool closed period {} at {}: it cannot \
             price that period; a newer run is needed",
            figures.observed_at, view.period, view.last_close
        )));
    }
    let report = TrancheReport {
        pool: view.asset,
        period: view.period,
        prices,
        observed_at: figures.observed_at,
        valid_until: figures.valid_until,
        run_id,
        round: view.latest_round.saturating_add(1),
    };
    let signed = SignedTrancheReport {
        tranche_report: report,
        signatures: Vec::new(),
    };
    sign_and_publish_tranches(rpc.clone(), oracle, &signed, &chain.signer)
        .await
        .map(|p| p.tx_hash.to_string())
        .map_err(|e| Outcome::Failed(e.to_string()))
}

/// `GET /v1/tranche-publications/{pool}`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TranchePublications {
    /// The pool id.
    pub pool: String,
    /// The keeper's records, newest period first, at most [`MAX_LISTED`].
    pub publications: Vec<TranchePublication>,
}

/// Most records `GET /v1/tranche-publications/{pool}` lists.
pub const MAX_LISTED: usize = 100;

/// The keeper's publications of a pool's tranche prices (one per run and pool period: status,
/// round, prices, transaction hash), newest period first.
#[utoipa::path(get, path = "/v1/tranche-publications/{pool}", tag = "valuations",
    params(("pool" = String, Path, description = "the pool id, e.g. GPU-ABS-1")),
    responses(
        (status = 200, description = "the pool's tranche price publications, newest period first (at most 100)", body = TranchePublications),
        (status = 404, description = "the keeper recorded no tranche price publication of this pool", body = Problem, content_type = PROBLEM_JSON),
        (status = 500, description = "internal error", body = Problem, content_type = PROBLEM_JSON)))]
pub async fn tranche_publications(
    State(s): State<AppState>,
    UrlPath(pool): UrlPath<String>,
) -> Result<Response, Problem> {
    let db = s.db.clone();
    let key = pool.clone();
    let publications =
        tokio::task::spawn_blocking(move || db.tranche_publications(&key, MAX_LISTED))
            .await
            .map_err(Problem::internal)??;
    if publications.is_empty() {
        return Err(Problem::not_found(
            "tranche price publication of pool",
            &pool,
        ));
    }
    let body = serde_json::to_vec(&TranchePublications { pool, publications })
        .map_err(Problem::internal)?;
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response())
}
