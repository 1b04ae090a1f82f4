//! Stress scenarios: named overrides of a portfolio's model inputs (MODEL.md §1 shocks S_c,
//! utilization, copula, rates, vault redemptions), read from TOML, applied purely.
//!
//! [`Scenario::apply`] returns a new, re-validated [`Portfolio`]; the input is not changed.
//! Every override is optional; a scenario with none is the identity. Unknown class or fleet ids
//! and out-of-range results are [`EngineError::Invalid`] naming the scenario file and field.
//!
//! ```toml
//! id = "gpu-glut"
//! name = "GPU glut"
//! description = "Rental prices of every class fall 40 % over six months."
//!
//! [[price_shocks]]
//! month = 1            # first month the shock applies (1-based)
//! over_months = 6      # spread evenly (in log terms) over months 1..=6
//! change_pct = -40.0   # total change of the price level, percent
//! # classes = ["H100"] # default: every class; `except = ["B200"]` excludes some
//! ```

use crate::error::{EngineError, Result};
use crate::portfolio::{Portfolio, PriceShock, RedemptionRequest};
use crate::validate::validate;
use crate::validate::Checker;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// A stress scenario: overrides of model inputs (all optional).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Identifier (e.g. "gpu-glut").
    pub id: String,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// What the scenario represents, for reports.
    #[serde(default)]
    pub description: String,
    /// Scheduled price shocks added to the classes' `shocks` (MODEL.md §1, S_c).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub price_shocks: Vec<ScenarioPriceShock>,
    /// Overrides of the price processes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<PriceOverride>,
    /// Overrides of the fleets' utilization processes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utilization: Option<UtilizationOverride>,
    /// Overrides of the credit model (copula correlation, hazards).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credit: Option<CreditOverride>,
    /// Interest-rate shocks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rates: Option<RatesOverride>,
    /// Vault redemption overrides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vault: Option<VaultOverride>,
}

/// A scheduled change of the rental-price level of some classes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioPriceShock {
    /// Classes hit (ids); empty = every class.
    #[serde(default)]
    pub classes: Vec<String>,
    /// Classes excluded (ids), applied after `classes`.
    #[serde(default)]
    pub except: Vec<String>,
    /// First month (1-based) of the shock.
    pub month: u32,
    /// Number of months the shock is spread over (equal log steps), at least 1 (default 1).
    #[serde(default = "one_month")]
    pub over_months: u32,
    /// Total change of the price level, percent (−40 = prices × 0.6); must be > −100.
    pub change_pct: f64,
}

fn one_month() -> u32 {
    1
}

/// Overrides of the GPU price processes (all classes).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceOverride {
    /// Multiplies every `price0_per_gpu_hour` (1.0 = unchanged).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level_factor: Option<f64>,
    /// Multiplies every `sigma` (1.0 = unchanged).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sigma_factor: Option<f64>,
    /// Added to every `drift`, per year.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drift_shift: Option<f64>,
}

/// Overrides of the fleets' utilization (MODEL.md §2).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UtilizationOverride {
    /// Fleets hit (ids); empty = every fleet.
    #[serde(default)]
    pub fleets: Vec<String>,
    /// Multiplies `utilization_mean`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean_factor: Option<f64>,
    /// Added to `utilization_mean` (after the factor), absolute (−0.05 = five points lower).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean_shift: Option<f64>,
    /// Multiplies `utilization0`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_factor: Option<f64>,
    /// Multiplies `utilization_sigma`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sigma_factor: Option<f64>,
}

/// Overrides of the credit model (MODEL.md §5).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreditOverride {
    /// Sets the copula asset correlation rho, in [0, 1].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset_correlation: Option<f64>,
    /// Added to rho (after `asset_correlation`), absolute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset_correlation_shift: Option<f64>,
    /// Multiplies every operator's `hazard`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hazard_factor: Option<f64>,
}

/// Interest-rate shocks.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RatesOverride {
    /// Parallel shift of the discount curve's zero rates, basis points. It moves discounting
    /// and, through the curve's forwards, the base rate of floating loans and tranches.
    #[serde(default)]
    pub curve_shift_bps: f64,
    /// Added to `market.rate_shock_bps` (floating base rate only, not discounting), bps.
    #[serde(default)]
    pub floating_shock_bps: f64,
    /// Added to the vault's `tbill_rate` (floored at 0), basis points.
    #[serde(default)]
    pub tbill_shift_bps: f64,
}

/// Vault redemption overrides (MODEL.md §7).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VaultOverride {
    /// Sets the per-cycle redemption fraction `redemption_requests`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redemption_requests: Option<Decimal>,
    /// Replaces `redemption_schedule` (per-cycle fractions, e.g. 0.5 in cycle 1: a bank run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redemption_schedule: Option<Vec<RedemptionRequest>>,
}

impl Checker<'_> {
    /// A multiplicative override must be finite and > 0.
    fn factor(&mut self, path: &str, v: Option<f64>) {
        if let Some(x) = v {
            if !(x.is_finite() && x > 0.0) {
                self.push(path, x, "a factor must be finite and > 0");
            }
        }
    }
}

impl Scenario {
    /// Parses a scenario from TOML text; `file` names it in errors. Unknown fields are errors.
    pub fn from_toml(text: &str, file: &str) -> Result<Scenario> {
        toml::from_str::<Scenario>(text).map_err(|e| EngineError::Parse {
            file: file.to_string(),
            message: e.to_string().trim_end().to_string(),
        })
    }

    /// The scenario's display name (its id if it has none).
    pub fn label(&self) -> &str {
        if self.name.is_empty() {
            &self.id
        } else {
            &self.name
        }
    }

    /// Applies the overrides to a copy of `p` and validates the result. `file` names the
    /// scenario in errors. Fails with [`EngineError::Invalid`] on an unknown class or fleet id,
    /// a non-positive factor, a price change ≤ −100 %, or a portfolio the overrides made invalid.
    pub fn apply(&self, p: &Portfolio, file: &str) -> Result<Portfolio> {
        let mut out = p.clone();
        let mut e = Checker::new(file);
        let class_ids: Vec<String> = p.gpu_classes.iter().map(|c| c.id.clone()).collect();
        for (i, s) in self.price_shocks.iter().enumerate() {
            let at = format!("price_shocks[{i}]");
            for (j, id) in s.classes.iter().enumerate() {
                if !class_ids.contains(id) {
                    e.push(format!("{at}.classes[{j}]"), id, "unknown GPU class id");
                }
            }
            for (j, id) in s.except.iter().enumerate() {
                if !class_ids.contains(id) {
                    e.push(format!("{at}.except[{j}]"), id, "unknown GPU class id");
                }
            }
            if s.month == 0 {
                e.push(format!("{at}.month"), s.month, "months are 1-based");
            }
            if s.over_months == 0 {
                e.push(format!("{at}.over_months"), s.over_months, "must be ≥ 1");
            }
            if !(s.change_pct.is_finite() && s.change_pct > -100.0) {
                e.push(format!("{at}.change_pct"), s.change_pct, "must be > −100");
                continue;
            }
            let n = s.over_months.max(1);
            let step = (1.0 + s.change_pct / 100.0).ln() / f64::from(n);
            for c in &mut out.gpu_classes {
                let hit = (s.classes.is_empty() || s.classes.contains(&c.id))
                    && !s.except.contains(&c.id);
                if hit {
                    for m in 0..n {
                        c.shocks.push(PriceShock {
                            month: s.month.max(1) + m,
                            log_size: step,
                        });
                    }
                }
            }
        }
        if let Some(o) = &self.price {
            e.factor("price.level_factor", o.level_factor);
            e.factor("price.sigma_factor", o.sigma_factor);
            for c in &mut out.gpu_classes {
                c.price0_per_gpu_hour *= o.level_factor.unwrap_or(1.0);
                c.sigma *= o.sigma_factor.unwrap_or(1.0);
                c.drift += o.drift_shift.unwrap_or(0.0);
            }
        }
        if let Some(o) = &self.utilization {
            e.factor("utilization.mean_factor", o.mean_factor);
            e.factor("utilization.initial_factor", o.initial_factor);
            e.factor("utilization.sigma_factor", o.sigma_factor);
            for (j, id) in o.fleets.iter().enumerate() {
                if !p.fleets.iter().any(|f| &f.id == id) {
                    e.push(format!("utilization.fleets[{j}]"), id, "unknown fleet id");
                }
            }
            for f in &mut out.fleets {
                if !o.fleets.is_empty() && !o.fleets.contains(&f.id) {
                    continue;
                }
                f.utilization_mean =
                    f.utilization_mean * o.mean_factor.unwrap_or(1.0) + o.mean_shift.unwrap_or(0.0);
                f.utilization0 *= o.initial_factor.unwrap_or(1.0);
                f.utilization_sigma *= o.sigma_factor.unwrap_or(1.0);
            }
        }
        if let Some(o) = &self.credit {
            e.factor("credit.hazard_factor", o.hazard_factor);
            if let Some(rho) = o.asset_correlation {
                out.market.asset_correlation = rho;
            }
            out.market.asset_correlation += o.asset_correlation_shift.unwrap_or(0.0);
            for op in &mut out.operators {
                op.hazard *= o.hazard_factor.unwrap_or(1.0);
            }
        }
        if let Some(o) = &self.rates {
            for pt in &mut out.market.discount_curve {
                pt.rate += o.curve_shift_bps * 1e-4;
            }
            out.market.rate_shock_bps += o.floating_shock_bps;
            if let Some(v) = out.vault.as_mut() {
                let shift = Decimal::try_from(o.tbill_shift_bps * 1e-4).unwrap_or_default();
                v.tbill_rate = (v.tbill_rate + shift).max(Decimal::ZERO);
            }
        }
        if let Some(o) = &self.vault {
            match out.vault.as_mut() {
                None => e.push("vault", "(override)", "the portfolio has no vault"),
                Some(v) => {
                    if let Some(r) = o.redemption_requests {
                        v.redemption_requests = r;
                    }
                    if let Some(s) = &o.redemption_schedule {
                        v.redemption_schedule = s.clone();
                    }
                }
            }
        }
        if !e.errors.is_empty() {
            return Err(EngineError::Invalid { errors: e.errors });
        }
        validate(&out, &[]).map_err(|err| match err {
            EngineError::Invalid { errors } => EngineError::Invalid {
                errors: errors
                    .into_iter()
                    .map(|mut fe| {
                        fe.file = format!("{} (after scenario {file})", fe.file);
                        fe
                    })
                    .collect(),
            },
            other => other,
        })?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::{parse_portfolio, Format};

    const SMALL: &str = include_str!("../../tests/fixtures/valid/small.toml");

    fn small() -> Portfolio {
        parse_portfolio(SMALL, Format::Toml, "small.toml").unwrap()
    }

    fn scenario(text: &str) -> Scenario {
        Scenario::from_toml(text, "s.toml").unwrap()
    }

    #[test]
    fn empty_scenario_is_identity() {
        let p = small();
        let s = scenario("id = \"none\"");
        assert_eq!(s.apply(&p, "s.toml").unwrap(), p);
    }

    #[test]
    fn spread_price_shock_compounds_to_the_total_change() {
        let p = small();
        let s = scenario(
            "id = \"glut\"\n[[price_shocks]]\nmonth = 2\nover_months = 6\nchange_pct = -40\nexcept = [\"A100\"]",
        );
        let q = s.apply(&p, "s.toml").unwrap();
        let h100 = &q.gpu_classes[0];
        assert_eq!(h100.shocks.len(), 6);
        assert_eq!(h100.shocks[0].month, 2);
        assert_eq!(h100.shocks[5].month, 7);
        let total: f64 = h100.shocks.iter().map(|s| s.log_size).sum();
        assert!((total.exp() - 0.6).abs() < 1e-12);
        assert!(q.gpu_classes[1].shocks.is_empty(), "A100 excluded");
    }

    #[test]
    fn overrides_of_every_kind_apply() {
        let p = small();
        let s = scenario(
            r#"
id = "all"
[price]
level_factor = 0.9
sigma_factor = 2.0
[utilization]
mean_factor = 0.5
initial_factor = 0.5
[credit]
asset_correlation = 0.6
hazard_factor = 2.0
[rates]
curve_shift_bps = 300
tbill_shift_bps = 300
[vault]
redemption_schedule = [{ cycle = 1, fraction = 0.5 }]
"#,
        );
        let q = s.apply(&p, "s.toml").unwrap();
        assert!((q.gpu_classes[0].price0_per_gpu_hour - 2.35 * 0.9).abs() < 1e-12);
        assert!((q.gpu_classes[0].sigma - 0.7).abs() < 1e-12);
        assert!((q.fleets[0].utilization_mean - 0.4).abs() < 1e-12);
        assert_eq!(q.market.asset_correlation, 0.6);
        assert!((q.operators[1].hazard - 0.2).abs() < 1e-12);
        assert!((q.market.discount_curve[0].rate - 0.07).abs() < 1e-12);
        let v = q.vault.unwrap();
        assert_eq!(v.tbill_rate, Decimal::new(72, 3));
        assert_eq!(v.redemption_schedule[0].cycle, 1);
    }

    #[test]
    fn unknown_ids_and_bad_values_name_the_field() {
        let p = small();
        let s = scenario(
            "id = \"bad\"\n[[price_shocks]]\nclasses = [\"Z9\"]\nmonth = 1\nchange_pct = -100\n[price]\nlevel_factor = 0",
        );
        let err = s.apply(&p, "bad.toml").unwrap_err().to_string();
        assert!(err.contains("price_shocks[0].classes[0]"), "{err}");
        assert!(err.contains("price_shocks[0].change_pct"), "{err}");
        assert!(err.contains("price.level_factor"), "{err}");
    }

    #[test]
    fn results_are_revalidated() {
        let p = small();
        let s = scenario("id = \"rho\"\n[credit]\nasset_correlation = 1.5");
        let err = s.apply(&p, "rho.toml").unwrap_err().to_string();
        assert!(err.contains("asset_correlation"), "{err}");
        let s = scenario("id = \"u\"\n[utilization]\nmean_factor = 2.0");
        assert!(
            s.apply(&p, "u.toml").is_err(),
            "mean 1.6 is not a utilization"
        );
    }

    #[test]
    fn unknown_fields_are_parse_errors() {
        let err = Scenario::from_toml("id = \"x\"\nfoo = 1", "x.toml").unwrap_err();
        assert!(matches!(err, EngineError::Parse { .. }), "{err}");
    }

    #[test]
    fn redemption_schedule_is_validated() {
        let p = small();
        let s = scenario(
            "id = \"run\"\n[vault]\nredemption_schedule = [{ cycle = 0, fraction = 1.5 }]",
        );
        let err = s.apply(&p, "run.toml").unwrap_err().to_string();
        assert!(err.contains("redemption_schedule[0].cycle"), "{err}");
        assert!(err.contains("redemption_schedule[0].fraction"), "{err}");
    }
}
