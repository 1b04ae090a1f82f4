//! The on-chain figures of a run: [`RunDir::valuation`] turns a run directory into the plain
//! figures of a valuation report ([`OnchainValuation`], integers in the report's units), once
//! for every front. `gaib publish --from-run` and the service's published valuations both read
//! them from here; the chain side (`gaib-contracts`, through the fronts) only copies them into
//! its EIP-712 `ValuationReport`, adding the round.
//!
//! The rules (docs/ONCHAIN.md; `gaib publish --help`):
//!
//! - `nav_per_share_wei` = the vault's **unstaking NAV per share at t = 0**
//!   (`valuation.vault.nav0_per_share_usd`, AID = USD), taken through its shortest decimal form
//!   and truncated to 18 decimals ([`usd_to_wei`]): the price of redemptions and of sAID as
//!   collateral on the valuation date (the horizon NAV is a forecast, not a mark);
//! - `deployed_value_wei` = NAV at t = 0 minus the liquidity buffer (exact decimals recorded in
//!   `results.json`'s [`VaultBook`]), truncated to 18 decimals;
//! - `haircut_bps` = the haircut rounded up, `ltv_bps` = the recommended LTV rounded down
//!   ([`percent_to_bps`]: towards safety);
//! - `observed_at` = the manifest's `created_unix_s` (when the run computed the figures), and
//!   `valid_until` = `observed_at` + the validity window;
//! - `run_id` = SHA-256 of `manifest.json`'s bytes.

use crate::{Result, RunDir, RunError, VaultBook};
use gaib_engine::Decimal;
use sha2::{Digest, Sha256};

/// 10^18: on chain, AID amounts are 18-decimal fixed point (1 AID = 10^18 wei).
pub const WEI_PER_AID: u128 = 1_000_000_000_000_000_000;

/// Largest number of basis points: 100 %.
const BPS_ONE: u16 = 10_000;

/// The figures of a valuation report of a run's vault, in the report's units: amounts in wei
/// of AID (10^-18 AID; AID is minted 1:1 against a USD stablecoin, so the run's USD figures are
/// AID), rates in basis points, times in Unix seconds. Everything but the round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnchainValuation {
    /// The asset name: the vault id (e.g. `sAID`); the report's `asset` is its keccak256.
    pub asset: String,
    /// The mark: unstaking NAV per share at t = 0, wei of AID per whole share.
    pub nav_per_share_wei: u128,
    /// The vault's off-chain holdings at t = 0 (NAV − liquidity buffer, ≥ 0), wei of AID.
    pub deployed_value_wei: u128,
    /// Haircut, basis points, rounded up (0..=10 000).
    pub haircut_bps: u16,
    /// Recommended loan-to-value, basis points, rounded down (0..=10 000).
    pub ltv_bps: u16,
    /// When the run computed the figures (the manifest's `created_unix_s`), Unix seconds.
    pub observed_at: u64,
    /// Unix seconds after which the report must not be used: `observed_at` + validity.
    pub valid_until: u64,
    /// SHA-256 of the run's `manifest.json` bytes: the report's `run_id`.
    pub run_id: [u8; 32],
}

impl OnchainValuation {
    /// The run id as 64 lower-case hex digits (as [`crate::sha256_hex`] of the manifest).
    pub fn run_id_hex(&self) -> String {
        self.run_id.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// A wei amount as decimal AID (exact; for display), e.g. `1020000000000000000` → `1.02`.
pub fn wei_to_aid(wei: u128) -> String {
    let whole = wei / WEI_PER_AID;
    let frac = wei % WEI_PER_AID;
    if frac == 0 {
        return whole.to_string();
    }
    let digits = format!("{frac:018}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

/// A non-negative decimal amount of AID → wei, exact up to 18 decimals and truncated beyond
/// (towards zero: a published amount never exceeds the computed one). Errors name `field`:
/// a negative amount, or one above `u128::MAX` wei (≈ 3.4 × 10^20 AID).
pub fn decimal_to_wei(x: Decimal, field: &'static str) -> Result<u128> {
    if x.is_sign_negative() && !x.is_zero() {
        return Err(RunError::argument(field, x, "is negative"));
    }
    let mantissa = x.mantissa().unsigned_abs();
    let scale = x.scale();
    let wei = if scale <= 18 {
        10u128
            .checked_pow(18 - scale)
            .and_then(|p| mantissa.checked_mul(p))
    } else {
        10u128.checked_pow(scale - 18).map(|p| mantissa / p)
    };
    wei.ok_or_else(|| RunError::argument(field, x, "is too large for 18-decimal fixed point"))
}

/// An `f64` amount in USD (= AID) → wei through its shortest round-trip decimal form (so
/// `1.02` stays `1.02`, not its binary expansion), truncated beyond 18 decimals. Rejects NaN,
/// infinities and negatives, naming `field`.
pub fn usd_to_wei(x: f64, field: &'static str) -> Result<u128> {
    if !x.is_finite() || x < 0.0 {
        return Err(RunError::argument(field, x, "is not a finite amount ≥ 0"));
    }
    let text = format!("{x}");
    let d = Decimal::from_str_exact(&text)
        .or_else(|_| text.parse::<Decimal>())
        .map_err(|e| RunError::argument(field, x, e.to_string()))?;
    decimal_to_wei(d, field)
}

/// A percentage (e.g. `20.0` for 20 %) → basis points, rounded towards safety: `round_up` for
/// a haircut (a larger haircut is safer), down for an LTV. A negative percentage (a haircut
/// when even the tail gains) is 0; above 100 % or not finite is an error naming `field`.
/// Binary noise below 10^-6 bp is ignored (`20.000000000000004` % is 2000 bps either way).
pub fn percent_to_bps(pct: f64, round_up: bool, field: &'static str) -> Result<u16> {
    if !pct.is_finite() || pct > 100.0 + 1e-9 {
        return Err(RunError::argument(
            field,
            pct,
            "is not a percentage in [0, 100]",
        ));
    }
    let bps = ((pct.max(0.0) * 100.0) * 1e6).round() / 1e6;
    let bps = if round_up { bps.ceil() } else { bps.floor() };
    Ok(bps.min(f64::from(BPS_ONE)) as u16)
}

impl RunDir {
    /// The on-chain valuation of this run, valid for `valid_for_s` seconds after the run (see
    /// the module docs). Checks first that every output file hashes as the manifest records.
    /// Errors ([`RunError::InvalidRun`], naming the directory and the field): files that do
    /// not match the manifest, a portfolio without a vault, results without the vault's book,
    /// a haircut or LTV outside [0, 100] %, no creation time, a validity window past `u64`.
    pub fn valuation(&self, valid_for_s: u64) -> Result<OnchainValuation> {
        let bad = |reason: String| RunError::invalid_run(&self.dir, reason);
        let differences = self.output_hash_differences();
        if !differences.is_empty() {
            return Err(bad(format!(
                "its files do not match its manifest:\n  {}",
                differences.join("\n  ")
            )));
        }
        let (vault, book) = self.vault_and_book()?;
        let field = |e: RunError| bad(e.to_string());
        let observed_at = self.manifest.created_unix_s;
        if observed_at == 0 {
            return Err(bad(
                "the manifest records no creation time (created_unix_s = 0): \
                 nothing to observe the valuation at"
                    .into(),
            ));
        }
        let valid_until = observed_at.checked_add(valid_for_s).ok_or_else(|| {
            bad(format!(
                "valid-for {valid_for_s} s after created_unix_s {observed_at} is past the \
                 largest Unix time"
            ))
        })?;
        Ok(OnchainValuation {
            asset: vault.id.clone(),
            nav_per_share_wei: usd_to_wei(
                vault.nav0_per_share_usd,
                "valuation.vault.nav0_per_share_usd",
            )
            .map_err(field)?,
            deployed_value_wei: decimal_to_wei(
                book.deployed_value_usd(),
                "vault_book.deployed_value_usd",
            )
            .map_err(field)?,
            haircut_bps: percent_to_bps(vault.haircut_pct, true, "valuation.vault.haircut_pct")
                .map_err(field)?,
            ltv_bps: percent_to_bps(
                vault.recommended_ltv_pct,
                false,
                "valuation.vault.recommended_ltv_pct",
            )
            .map_err(field)?,
            observed_at,
            valid_until,
            run_id: Sha256::digest(&self.manifest_bytes).into(),
        })
    }

    /// The run's vault risk and its book at t = 0, which must name the same vault.
    fn vault_and_book(&self) -> Result<(&gaib_pricing::VaultRisk, &VaultBook)> {
        let bad = |reason: String| RunError::invalid_run(&self.dir, reason);
        let r = &self.results;
        let Some(vault) = &r.valuation.vault else {
            return Err(bad(format!(
                "portfolio {:?} has no vault: a valuation report prices a vault's shares, so \
                 there is nothing to publish",
                r.valuation.portfolio_id
            )));
        };
        let book = r.vault_book.as_ref().ok_or_else(|| {
            bad("results.json records no vault_book for the run's vault".to_string())
        })?;
        if book.id != vault.id {
            return Err(bad(format!(
                "results.json's vault_book is vault {:?}, its valuation vault {:?}",
                book.id, vault.id
            )));
        }
        Ok((vault, book))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bps_round_towards_safety() {
        let bps = |pct, up| percent_to_bps(pct, up, "pct").ok();
        assert_eq!(bps(12.341, true), Some(1235));
        assert_eq!(bps(12.341, false), Some(1234));
        assert_eq!(bps(20.000000000000004, true), Some(2000));
        assert_eq!(bps(-3.0, true), Some(0));
        assert_eq!(bps(100.5, true), None);
        assert_eq!(bps(f64::NAN, false), None);
        let e = percent_to_bps(150.0, true, "valuation.vault.haircut_pct").unwrap_err();
        assert!(
            e.to_string().contains("valuation.vault.haircut_pct = 150"),
            "{e}"
        );
    }

    #[test]
    fn amounts_truncate_to_wei() {
        assert_eq!(usd_to_wei(1.02, "x").unwrap(), 1_020_000_000_000_000_000);
        assert_eq!(usd_to_wei(0.0, "x").unwrap(), 0);
        // 1/3 through its shortest form, 0.3333333333333333 (16 digits), exactly.
        assert_eq!(usd_to_wei(1.0 / 3.0, "x").unwrap(), 333_333_333_333_333_300);
        for bad in [-1.0, f64::NAN, f64::INFINITY] {
            let e = usd_to_wei(bad, "valuation.nav").unwrap_err();
            assert!(e.to_string().contains("valuation.nav"), "{e}");
        }
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        assert_eq!(
            decimal_to_wei(d("2.5"), "x").unwrap(),
            2_500_000_000_000_000_000
        );
        // 20 decimals: the last two are truncated, never rounded up.
        assert_eq!(
            decimal_to_wei(d("0.12345678901234567899"), "x").unwrap(),
            123_456_789_012_345_678
        );
        assert!(decimal_to_wei(d("-0.01"), "deployed")
            .unwrap_err()
            .to_string()
            .contains("deployed"));
        assert!(decimal_to_wei(d("1000000000000000000000"), "big").is_err());
        assert_eq!(wei_to_aid(1_020_000_000_000_000_000), "1.02");
        assert_eq!(wei_to_aid(7 * WEI_PER_AID), "7");
        assert_eq!(wei_to_aid(1), "0.000000000000000001");
    }
}
