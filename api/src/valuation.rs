//! What a finished job publishes about its portfolio's vault: the valuation record (NAV per
//! share, staking and unstaking, tranche prices, haircut and LTV) and the collateral
//! parameters a lending protocol reads — the same figures `gaib publish --from-run` puts in a
//! report (NAV per share = the vault's unstaking NAV per share at t = 0; haircut rounded up and
//! LTV rounded down to basis points; observed at the run's creation time).
//!
//! [`hold_of`] is the publish guard: a valuation is published only when the asset is
//! registered to the key that ran the job, the run has at least `min_publish_paths` paths and
//! the price moved at most `max_price_move_pct` from the last published one; otherwise it is
//! stored held, with the reason.

use crate::db::{HoldDecision, PublishContext};
use gaib_contracts::alloy::primitives::B256;
use gaib_engine::Decimal;
use gaib_runs::{decimal_to_wei, usd_to_wei, OnchainValuation, RunDir, RunError};
use serde::{Deserialize, Serialize};
use std::str::FromStr;
use utoipa::ToSchema;

/// One tranche's price in a valuation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TranchePrice {
    /// `POOL/TRANCHE`.
    pub id: String,
    /// E\[PV\] / notional, percent of par.
    pub price_pct: f64,
    /// Monte Carlo standard error of `price_pct`.
    pub price_se_pct: f64,
}

/// A published valuation of one asset (a vault), computed by one job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Valuation {
    /// The asset: the vault id (e.g. `sAID`).
    pub asset: String,
    /// The portfolio's own id.
    pub portfolio_id: String,
    /// The portfolio's valuation date (t = 0), `YYYY-MM-DD`.
    pub as_of: String,
    /// The job that computed it.
    pub job_id: String,
    /// SHA-256 of the run's manifest.json (hex): the report's `run_id`.
    pub run_id: String,
    /// Seed of the run.
    pub seed: u64,
    /// Paths of the run.
    pub paths: u64,
    /// Unix seconds: the run's creation time.
    pub observed_at: u64,
    /// Unix seconds after which the figures must not be used.
    pub valid_until: u64,
    /// The mark: the vault's unstaking NAV per share at t = 0, USD (= AID).
    pub nav_per_share_usd: f64,
    /// Simulated unstaking NAV per share at the haircut horizon, USD (mean over paths).
    pub horizon_unstaking_nav_per_share_usd: f64,
    /// Simulated staking NAV per share at the haircut horizon, USD (mean over paths).
    pub horizon_staking_nav_per_share_usd: f64,
    /// Horizon of the haircut, days.
    pub horizon_days: u32,
    /// Haircut, percent (as computed).
    pub haircut_pct: f64,
    /// Haircut, basis points, rounded up.
    pub haircut_bps: u16,
    /// Recommended LTV, percent (as computed).
    pub ltv_pct: f64,
    /// Recommended LTV, basis points, rounded down.
    pub ltv_bps: u16,
    /// The vault's off-chain holdings at t = 0 (NAV0 − liquidity buffer), AID, as an exact
    /// decimal string: the report's `deployed_value` (as `gaib publish --from-run` computes it).
    pub deployed_value_aid: String,
    /// Every tranche's price.
    pub tranches: Vec<TranchePrice>,
}

/// The collateral parameters of an asset: what a lending protocol reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Collateral {
    /// The asset.
    pub asset: String,
    /// Price per share, USD (= AID): the unstaking NAV per share at t = 0.
    pub price: f64,
    /// Haircut, basis points.
    pub haircut_bps: u16,
    /// Loan-to-value, basis points.
    pub ltv_bps: u16,
    /// Unix seconds of the valuation.
    pub observed_at: u64,
    /// Unix seconds after which it must not be used.
    pub valid_until: u64,
    /// SHA-256 of the run's manifest.json.
    pub run_id: String,
}

impl From<&Valuation> for Collateral {
    fn from(v: &Valuation) -> Self {
        Self {
            asset: v.asset.clone(),
            price: v.nav_per_share_usd,
            haircut_bps: v.haircut_bps,
            ltv_bps: v.ltv_bps,
            observed_at: v.observed_at,
            valid_until: v.valid_until,
            run_id: v.run_id.clone(),
        }
    }
}

/// The valuation a finished run publishes, if its portfolio has a vault: the run's results
/// and its on-chain figures ([`RunDir::valuation`], valid for `valid_for_s` seconds). Errors
/// (a haircut or LTV that is not a percentage, results without the vault's book) are reported
/// as text.
pub fn of_run(dir: &RunDir, job_id: &str, valid_for_s: u64) -> Result<Option<Valuation>, String> {
    let v = &dir.results.valuation;
    let Some(vault) = &v.vault else {
        return Ok(None);
    };
    let onchain = dir.valuation(valid_for_s).map_err(|e| e.to_string())?;
    // RunDir::valuation has checked that the book is there.
    let book = dir
        .results
        .vault_book
        .as_ref()
        .ok_or("results.json has no vault_book")?;
    Ok(Some(Valuation {
        asset: onchain.asset.clone(),
        portfolio_id: v.portfolio_id.clone(),
        as_of: v.as_of.to_string(),
        job_id: job_id.to_string(),
        run_id: onchain.run_id_hex(),
        seed: dir.manifest.seed,
        paths: dir.manifest.paths,
        observed_at: onchain.observed_at,
        valid_until: onchain.valid_until,
        nav_per_share_usd: vault.nav0_per_share_usd,
        horizon_unstaking_nav_per_share_usd: vault.nav_per_share_usd.value,
        horizon_staking_nav_per_share_usd: vault.staking_nav_per_share_usd.value,
        horizon_days: vault.horizon_days,
        haircut_pct: vault.haircut_pct,
        haircut_bps: onchain.haircut_bps,
        ltv_pct: vault.recommended_ltv_pct,
        ltv_bps: onchain.ltv_bps,
        deployed_value_aid: book.deployed_value_usd().to_string(),
        tranches: v
            .tranches
            .iter()
            .map(|t| TranchePrice {
                id: t.id.clone(),
                price_pct: t.price_pct.value,
                price_se_pct: t.price_pct.std_error,
            })
            .collect(),
    }))
}

impl Valuation {
    /// The on-chain figures of this stored valuation, by the run layer's rules (the same
    /// numbers [`RunDir::valuation`] gave when the job finished): the NAV per share and the
    /// deployed value in wei, the stored basis points, times and run id. Errors name the
    /// field of the record that does not convert.
    pub fn onchain(&self) -> Result<OnchainValuation, RunError> {
        let deployed =
            Decimal::from_str(&self.deployed_value_aid).map_err(|e| RunError::Argument {
                name: "valuation.deployed_value_aid",
                value: self.deployed_value_aid.clone(),
                reason: e.to_string(),
            })?;
        let run_id = B256::from_str(&self.run_id).map_err(|e| RunError::Argument {
            name: "valuation.run_id",
            value: self.run_id.clone(),
            reason: format!("is not 32 bytes of hex: {e}"),
        })?;
        Ok(OnchainValuation {
            asset: self.asset.clone(),
            nav_per_share_wei: usd_to_wei(self.nav_per_share_usd, "valuation.nav_per_share_usd")?,
            deployed_value_wei: decimal_to_wei(deployed, "valuation.deployed_value_aid")?,
            haircut_bps: self.haircut_bps,
            ltv_bps: self.ltv_bps,
            observed_at: self.observed_at,
            valid_until: self.valid_until,
            run_id: run_id.0,
        })
    }
}

/// The publish guards (configuration `min_publish_paths`, `max_price_move_pct`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Guards {
    /// Fewest paths of a run whose valuation is published.
    pub min_publish_paths: u64,
    /// Largest move of the price from the last published one, percent.
    pub max_price_move_pct: f64,
}

/// Why valuation `v` of a job run by key `job_key` must be held rather than published, or
/// None to publish it. The checks, in order: the asset is registered, to `job_key`; the run
/// has enough paths; the price moved within the bound from the last published price (the
/// first publication has no bound).
pub fn hold_of(
    v: &Valuation,
    job_key: &str,
    ctx: &PublishContext,
    g: &Guards,
) -> Option<HoldDecision> {
    let hold = |reason, detail: String| Some(HoldDecision { reason, detail });
    match ctx.owner_key_id.as_deref() {
        None => {
            return hold(
                "unregistered",
                format!(
                    "asset {} is not registered: an admin key registers it to its owner \
                     (POST /v1/assets)",
                    v.asset
                ),
            );
        }
        Some(owner) if owner != job_key => {
            return hold(
                "not-owner",
                format!(
                    "asset {} belongs to key {owner}, not to key {job_key} that ran the job",
                    v.asset
                ),
            );
        }
        Some(_) => {}
    }
    if v.paths < g.min_publish_paths {
        return hold(
            "too-few-paths",
            format!(
                "the run has {} paths; at least {} are needed to publish",
                v.paths, g.min_publish_paths
            ),
        );
    }
    let last = ctx.last_published.as_deref()?;
    let last = serde_json::from_str::<Valuation>(last)
        .map(|l| l.nav_per_share_usd)
        .unwrap_or(f64::NAN);
    let moved_pct = (v.nav_per_share_usd / last - 1.0).abs() * 100.0;
    // NaN (an unreadable or zero last price) is held too.
    if moved_pct <= g.max_price_move_pct {
        return None;
    }
    hold(
        "price-move",
        format!(
            "price {} moved {moved_pct:.4} % from the last published {last} (bound {} %)",
            v.nav_per_share_usd, g.max_price_move_pct
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> Valuation {
        Valuation {
            asset: "sAID".into(),
            portfolio_id: "p".into(),
            as_of: "2026-01-01".into(),
            job_id: "j".into(),
            run_id: "ab".repeat(32),
            seed: 1,
            paths: 100,
            observed_at: 10,
            valid_until: 20,
            nav_per_share_usd: 1.02,
            horizon_unstaking_nav_per_share_usd: 1.0,
            horizon_staking_nav_per_share_usd: 1.0,
            horizon_days: 30,
            haircut_pct: 12.3,
            haircut_bps: 1230,
            ltv_pct: 80.0,
            ltv_bps: 8000,
            deployed_value_aid: "123.456".into(),
            tranches: Vec::new(),
        }
    }

    /// A stored record gives back the run layer's figures: wei by its rules, the rest as stored.
    #[test]
    fn a_record_gives_its_onchain_figures() {
        let v = record().onchain().unwrap();
        assert_eq!(v.nav_per_share_wei, 1_020_000_000_000_000_000);
        assert_eq!(v.deployed_value_wei, 123_456_000_000_000_000_000);
        assert_eq!((v.haircut_bps, v.ltv_bps), (1230, 8000));
        assert_eq!((v.observed_at, v.valid_until), (10, 20));
        assert_eq!(v.run_id, [0xab; 32]);
        assert_eq!(v.run_id_hex(), "ab".repeat(32));

        let bad_id = Valuation {
            run_id: "xyz".into(),
            ..record()
        };
        let e = bad_id.onchain().unwrap_err().to_string();
        assert!(e.contains("valuation.run_id = xyz"), "{e}");
        let bad_value = Valuation {
            deployed_value_aid: "-1".into(),
            ..record()
        };
        let e = bad_value.onchain().unwrap_err().to_string();
        assert!(e.contains("valuation.deployed_value_aid = -1"), "{e}");
    }
}
