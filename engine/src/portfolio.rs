//! The portfolio schema: one serde model read from TOML (CLI), JSON (API) and Python dicts.
//!
//! Field names are those of MODEL.md. Money that is booked (principal, balances, advances,
//! contract rates) is [`Decimal`]; parameters of the stochastic model (drift, volatility,
//! hazard, correlation) are `f64`.

pub use crate::derivative::{Derivative, DerivativeKind, Fixing, Position};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Hours in one model month (MODEL.md: H = 730).
pub const HOURS_PER_MONTH: u32 = 730;

/// A complete portfolio: market, GPU classes, operators, fleets, deals, pools and the vault.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Portfolio {
    /// Identity and dates of the portfolio.
    pub portfolio: PortfolioInfo,
    /// Market data: discount curve, rate shock, price correlation, credit correlation.
    pub market: Market,
    /// GPU classes (H100, H200, B200, A100, ...), each with its own price process.
    pub gpu_classes: Vec<GpuClass>,
    /// Borrowers / GPU operators, each with a default hazard.
    pub operators: Vec<Operator>,
    /// GPU fleets; each belongs to one operator and is of one class.
    pub fleets: Vec<Fleet>,
    /// Deals written inline in the portfolio file.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<DealRecord>))]
    pub deals: Vec<Deal>,
    /// Path of a loan tape (CSV, one deal per row) relative to the portfolio file; its deals are
    /// appended to `deals`. Cleared once loaded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loan_tape: Option<String>,
    /// Securitisation pools, each issuing tranches.
    #[serde(default)]
    pub pools: Vec<Pool>,
    /// The AID/sAID vault, if modelled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vault: Option<Vault>,
    /// Compute-price derivatives and fleet hedges (MODEL.md §10), in file order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub derivatives: Vec<Derivative>,
}

/// Identity and dates of a portfolio.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PortfolioInfo {
    /// Identifier of the portfolio.
    pub id: String,
    /// Human-readable name.
    #[serde(default)]
    pub name: String,
    /// Valuation date (t = 0); month k ends k months after it.
    pub as_of: NaiveDate,
    /// Simulation horizon in months; default: longest deal term + longest recovery lag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub horizon_months: Option<u32>,
}

/// Market data shared by every deal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Market {
    /// Zero-coupon discount curve: (tenor in years, continuously compounded zero rate per
    /// year). Linear interpolation in rate, flat extrapolation.
    pub discount_curve: Vec<CurvePoint>,
    /// Parallel shock added to the floating base rate, in basis points (stress scenarios).
    #[serde(default)]
    pub rate_shock_bps: f64,
    /// Correlation matrix of the GPU price shocks, classes in the order of `gpu_classes`;
    /// must be symmetric positive definite. Default: identity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation: Option<Vec<Vec<f64>>>,
    /// Asset correlation rho of the one-factor Gaussian copula of operator defaults, in [0, 1].
    pub asset_correlation: f64,
}

/// One point of the discount curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CurvePoint {
    /// Tenor in years (> 0).
    pub tenor_years: f64,
    /// Continuously compounded zero rate, per year (0.043 = 4.3 %).
    pub rate: f64,
}

/// A GPU class and its rental-price process (MODEL.md §1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct GpuClass {
    /// Identifier (e.g. "H100").
    pub id: String,
    /// P_c(0): market rental price, USD per GPU-hour.
    pub price0_per_gpu_hour: f64,
    /// mu_c: log drift of the trend price, per year (negative: prices fall as hardware ages).
    pub drift: f64,
    /// kappa: mean reversion speed of the OU deviation, per year (0 = Brownian).
    pub kappa: f64,
    /// sigma: volatility of the OU deviation, per sqrt-year.
    pub sigma: f64,
    /// Poisson intensity of permanent price jumps, per year.
    #[serde(default)]
    pub jump_intensity: f64,
    /// Mean of the log size of one jump.
    #[serde(default)]
    pub jump_mean: f64,
    /// Standard deviation of the log size of one jump.
    #[serde(default)]
    pub jump_std: f64,
    /// Scheduled new-generation shocks (log size applied from `month` on).
    #[serde(default)]
    pub shocks: Vec<PriceShock>,
    /// Economic useful life of this hardware, in years (for the straight-line hardware value).
    pub useful_life_years: f64,
    /// Floor of the straight-line hardware value, as a fraction of purchase price (0..1).
    pub residual_floor: f64,
}

/// A scheduled permanent log shock to a class's price (MODEL.md §1, S_c).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PriceShock {
    /// Month k (1-based) from which the shock applies.
    pub month: u32,
    /// Log size of the shock (-0.25 ≈ a 22 % fall).
    pub log_size: f64,
}

/// A borrower operating GPU fleets (MODEL.md §5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Operator {
    /// Identifier.
    pub id: String,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// Default intensity h, per year (h = -ln(1 - annual PD)).
    pub hazard: f64,
}

/// A fleet of identical GPUs run by one operator (MODEL.md §2–3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Fleet {
    /// Identifier.
    pub id: String,
    /// Operator that owns and runs the fleet.
    pub operator_id: String,
    /// GPU class of the fleet.
    pub class_id: String,
    /// Number of GPUs, G.
    pub gpus: u32,
    /// Utilization of the uncontracted capacity at t = 0, in (0, 1).
    pub utilization0: f64,
    /// Long-run mean utilization, in (0, 1).
    pub utilization_mean: f64,
    /// Mean-reversion speed of logit utilization, per year.
    pub utilization_kappa: f64,
    /// Volatility of logit utilization, per sqrt-year.
    pub utilization_sigma: f64,
    /// rho_u in [0, 1]: loading of the utilization shock on the class's price shock.
    #[serde(default)]
    pub utilization_price_loading: f64,
    /// phi in [0, 1]: fraction of GPUs under take-or-pay contract.
    #[serde(default)]
    pub contracted_share: Decimal,
    /// Contract rate r_c, USD per GPU-hour.
    #[serde(default)]
    pub contract_rate_per_gpu_hour: Decimal,
    /// Last month (inclusive) of the contract; 0 = no contract.
    #[serde(default)]
    pub contract_end_month: u32,
    /// Fixed operating cost, USD per GPU-hour (power, space, staff), paid for every GPU.
    pub opex_fixed_per_gpu_hour: Decimal,
    /// Variable operating cost, USD per utilized GPU-hour.
    pub opex_variable_per_gpu_hour: Decimal,
    /// Purchase price of one GPU (all-in server share), USD.
    pub purchase_price_per_gpu: Decimal,
    /// Age of the hardware at t = 0, in months.
    #[serde(default)]
    pub age0_months: u32,
    /// Haircut applied to hardware value in a liquidation, fraction (0..1).
    pub liquidation_haircut: Decimal,
    /// Fixed cost of a liquidation, USD.
    #[serde(default)]
    pub liquidation_cost: Decimal,
}

/// Amortization profile of a secured loan (MODEL.md §4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Amortization {
    /// Level payment over the amortizing months, recomputed on the current balance.
    Annuity,
    /// Equal principal instalments B_0 / (term - grace).
    Linear,
    /// Interest only; all principal at term.
    Bullet,
}

/// Rank of a deal's claim on the fleet's collateral and cash (MODEL.md §4.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Lien {
    /// Paid before every other deal on the fleet.
    Senior,
    /// Pari passu: shares pro rata to exposure.
    #[default]
    PariPassu,
    /// Paid after senior and pari-passu deals.
    Junior,
}

/// Floating-rate terms: the discount curve's one-month forward plus a spread.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Floating {
    /// Spread over the base rate, in basis points per year.
    pub spread_bps: Decimal,
}

/// Terms of a secured GPU loan (MODEL.md §4.1); also the loan leg of a hybrid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LoanTerms {
    /// Principal at t = 0, USD.
    pub principal: Decimal,
    /// Fixed annual rate (0.12 = 12 %), simple monthly accrual rate/12; omit when floating.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<Decimal>,
    /// Floating terms; omit when fixed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub floating: Option<Floating>,
    /// Term in months.
    pub term_months: u32,
    /// Amortization profile.
    pub amortization: Amortization,
    /// Interest-only months at the start.
    #[serde(default)]
    pub grace_months: u32,
    /// Debt-service reserve target, in months of scheduled payment; funded at close.
    #[serde(default)]
    pub dsra_months: u32,
    /// Fraction (0..1) of excess cash that prepays principal.
    #[serde(default)]
    pub cash_sweep: Decimal,
    /// Collateral ratio needed to refinance an unpaid balloon (default 1.0).
    #[serde(default = "one")]
    pub refinance_min_collateral_ratio: Decimal,
}

fn one() -> Decimal {
    Decimal::ONE
}

/// Terms of a revenue-share agreement (MODEL.md §4.2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RevenueShareTerms {
    /// Advance A paid to the operator at t = 0, USD.
    pub advance: Decimal,
    /// Share (0..1) of the fleet's GROSS revenue paid to the investor each month.
    pub share: Decimal,
    /// Receipts stop once they reach cap_multiple × A.
    pub cap_multiple: Decimal,
    /// Term in months.
    pub term_months: u32,
    /// Whether the claim is secured by the fleet's hardware.
    #[serde(default = "yes")]
    pub secured: bool,
}

fn yes() -> bool {
    true
}

/// What kind of deal it is, with its terms.
#[derive(Debug, Clone, PartialEq)]
pub enum DealTerms {
    /// Secured GPU loan.
    Loan(LoanTerms),
    /// Revenue-share agreement.
    RevenueShare(RevenueShareTerms),
    /// Loan plus a revenue-share kicker.
    Hybrid {
        /// The loan leg.
        loan: LoanTerms,
        /// Kicker: share (0..1) of gross revenue paid after debt service and DSRA refill.
        kicker_share: Decimal,
    },
}

/// A deal financing one fleet. Serialised as a flat [`DealRecord`] (the same columns as a loan
/// tape row), so TOML, JSON and CSV share one schema.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "DealRecord", into = "DealRecord")]
pub struct Deal {
    /// Identifier.
    pub id: String,
    /// Fleet financed (and, if secured, pledged).
    pub fleet_id: String,
    /// Rank on the fleet's cash and collateral.
    pub lien: Lien,
    /// Months between default and receipt of the recovery.
    pub recovery_lag_months: u32,
    /// Recovery rate (0..1) of an unsecured claim.
    pub unsecured_recovery: Decimal,
    /// Spread over the discount curve used to value the deal, basis points.
    pub discount_spread_bps: f64,
    /// Kind and contractual terms.
    pub terms: DealTerms,
}

/// The kind of a deal, as written in the `kind` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DealKind {
    /// Secured GPU loan.
    Loan,
    /// Revenue-share agreement.
    RevenueShare,
    /// Loan with a revenue-share kicker.
    Hybrid,
}

/// A deal as written in a file: one flat record, which is also one row of a loan tape (CSV).
/// Which fields are required depends on `kind`; [`Deal`]'s conversion names the missing one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DealRecord {
    /// Identifier.
    pub id: String,
    /// "loan", "revenue_share" or "hybrid".
    pub kind: Option<DealKind>,
    /// Fleet financed.
    pub fleet_id: String,
    /// "senior", "pari_passu" (default) or "junior".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lien: Option<Lien>,
    /// Months between default and recovery (default 6).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_lag_months: Option<u32>,
    /// Recovery rate of an unsecured claim, 0..1 (default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unsecured_recovery: Option<Decimal>,
    /// Valuation spread over the discount curve, bps (default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discount_spread_bps: Option<f64>,
    /// Loan/hybrid: principal, USD.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal: Option<Decimal>,
    /// Loan/hybrid: fixed annual rate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<Decimal>,
    /// Loan/hybrid: floating terms as a table `{ spread_bps = … }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub floating: Option<Floating>,
    /// Loan/hybrid: floating spread in bps (flat form of `floating`, for loan tapes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub floating_spread_bps: Option<Decimal>,
    /// Term in months (all kinds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub term_months: Option<u32>,
    /// Loan/hybrid: "annuity", "linear" or "bullet".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amortization: Option<Amortization>,
    /// Loan/hybrid: interest-only months (default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grace_months: Option<u32>,
    /// Loan/hybrid: DSRA target in months of payment (default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dsra_months: Option<u32>,
    /// Loan/hybrid: cash sweep fraction (default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cash_sweep: Option<Decimal>,
    /// Loan/hybrid: collateral ratio needed to refinance a balloon (default 1.0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refinance_min_collateral_ratio: Option<Decimal>,
    /// Hybrid: kicker share of gross revenue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kicker_share: Option<Decimal>,
    /// Revenue share: advance, USD.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advance: Option<Decimal>,
    /// Revenue share: share of gross revenue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share: Option<Decimal>,
    /// Revenue share: cap multiple of the advance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cap_multiple: Option<Decimal>,
    /// Revenue share: whether secured by the hardware (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secured: Option<bool>,
}

fn require<T>(value: Option<T>, deal: &str, field: &str, kind: &str) -> Result<T, String> {
    value.ok_or_else(|| format!("deal '{deal}': field `{field}` is required for kind = \"{kind}\""))
}

fn reject<T>(value: &Option<T>, deal: &str, field: &str, kind: &str) -> Result<(), String> {
    if value.is_some() {
        Err(format!(
            "deal '{deal}': field `{field}` does not apply to kind = \"{kind}\""
        ))
    } else {
        Ok(())
    }
}

impl DealRecord {
    fn loan_terms(&self, kind: &str) -> Result<LoanTerms, String> {
        let id = &self.id;
        let floating = match (self.floating, self.floating_spread_bps) {
            (Some(_), Some(_)) => {
                return Err(format!(
                    "deal '{id}': give `floating` or `floating_spread_bps`, not both"
                ))
            }
            (Some(f), None) => Some(f),
            (None, Some(spread_bps)) => Some(Floating { spread_bps }),
            (None, None) => None,
        };
        match (&self.rate, &floating) {
            (Some(_), Some(_)) => {
                return Err(format!(
                    "deal '{id}': a loan is fixed (`rate`) or floating (`floating`), not both"
                ))
            }
            (None, None) => {
                return Err(format!(
                    "deal '{id}': field `rate` (or `floating`) is required for kind = \"{kind}\""
                ))
            }
            _ => {}
        }
        Ok(LoanTerms {
            principal: require(self.principal, id, "principal", kind)?,
            rate: self.rate,
            floating,
            term_months: require(self.term_months, id, "term_months", kind)?,
            amortization: require(self.amortization, id, "amortization", kind)?,
            grace_months: self.grace_months.unwrap_or(0),
            dsra_months: self.dsra_months.unwrap_or(0),
            cash_sweep: self.cash_sweep.unwrap_or(Decimal::ZERO),
            refinance_min_collateral_ratio: self
                .refinance_min_collateral_ratio
                .unwrap_or(Decimal::ONE),
        })
    }

    fn reject_revenue_share_fields(&self, kind: &str) -> Result<(), String> {
        let id = &self.id;
        reject(&self.advance, id, "advance", kind)?;
        reject(&self.share, id, "share", kind)?;
        reject(&self.cap_multiple, id, "cap_multiple", kind)?;
        reject(&self.secured, id, "secured", kind)
    }
}

impl TryFrom<DealRecord> for Deal {
    type Error = String;

    fn try_from(r: DealRecord) -> Result<Self, String> {
        let id = r.id.clone();
        let kind = r.kind.ok_or_else(|| {
            format!("deal '{id}': field `kind` is required (loan, revenue_share or hybrid)")
        })?;
        let terms = match kind {
            DealKind::Loan => {
                r.reject_revenue_share_fields("loan")?;
                reject(&r.kicker_share, &id, "kicker_share", "loan")?;
                DealTerms::Loan(r.loan_terms("loan")?)
            }
            DealKind::Hybrid => {
                r.reject_revenue_share_fields("hybrid")?;
                DealTerms::Hybrid {
                    loan: r.loan_terms("hybrid")?,
                    kicker_share: require(r.kicker_share, &id, "kicker_share", "hybrid")?,
                }
            }
            DealKind::RevenueShare => {
                let k = "revenue_share";
                for (v, f) in [
                    (r.principal.is_some(), "principal"),
                    (r.rate.is_some(), "rate"),
                    (r.floating.is_some(), "floating"),
                    (r.floating_spread_bps.is_some(), "floating_spread_bps"),
                    (r.amortization.is_some(), "amortization"),
                    (r.grace_months.is_some(), "grace_months"),
                    (r.dsra_months.is_some(), "dsra_months"),
                    (r.cash_sweep.is_some(), "cash_sweep"),
                    (r.kicker_share.is_some(), "kicker_share"),
                    (
                        r.refinance_min_collateral_ratio.is_some(),
                        "refinance_min_collateral_ratio",
                    ),
                ] {
                    if v {
                        return Err(format!(
                            "deal '{id}': field `{f}` does not apply to kind = \"{k}\""
                        ));
                    }
                }
                DealTerms::RevenueShare(RevenueShareTerms {
                    advance: require(r.advance, &id, "advance", k)?,
                    share: require(r.share, &id, "share", k)?,
                    cap_multiple: require(r.cap_multiple, &id, "cap_multiple", k)?,
                    term_months: require(r.term_months, &id, "term_months", k)?,
                    secured: r.secured.unwrap_or(true),
                })
            }
        };
        Ok(Deal {
            id: r.id,
            fleet_id: r.fleet_id,
            lien: r.lien.unwrap_or_default(),
            recovery_lag_months: r.recovery_lag_months.unwrap_or(6),
            unsecured_recovery: r.unsecured_recovery.unwrap_or(Decimal::ZERO),
            discount_spread_bps: r.discount_spread_bps.unwrap_or(0.0),
            terms,
        })
    }
}

impl From<Deal> for DealRecord {
    fn from(d: Deal) -> Self {
        let mut r = DealRecord {
            id: d.id,
            fleet_id: d.fleet_id,
            lien: Some(d.lien),
            recovery_lag_months: Some(d.recovery_lag_months),
            unsecured_recovery: Some(d.unsecured_recovery),
            discount_spread_bps: Some(d.discount_spread_bps),
            ..DealRecord::default()
        };
        let put_loan = |r: &mut DealRecord, l: LoanTerms| {
            r.principal = Some(l.principal);
            r.rate = l.rate;
            r.floating = l.floating;
            r.term_months = Some(l.term_months);
            r.amortization = Some(l.amortization);
            r.grace_months = Some(l.grace_months);
            r.dsra_months = Some(l.dsra_months);
            r.cash_sweep = Some(l.cash_sweep);
            r.refinance_min_collateral_ratio = Some(l.refinance_min_collateral_ratio);
        };
        match d.terms {
            DealTerms::Loan(l) => {
                r.kind = Some(DealKind::Loan);
                put_loan(&mut r, l);
            }
            DealTerms::Hybrid { loan, kicker_share } => {
                r.kind = Some(DealKind::Hybrid);
                put_loan(&mut r, loan);
                r.kicker_share = Some(kicker_share);
            }
            DealTerms::RevenueShare(t) => {
                r.kind = Some(DealKind::RevenueShare);
                r.advance = Some(t.advance);
                r.share = Some(t.share);
                r.cap_multiple = Some(t.cap_multiple);
                r.term_months = Some(t.term_months);
                r.secured = Some(t.secured);
            }
        }
        r
    }
}

impl Deal {
    /// The loan leg, for loans and hybrids.
    pub fn loan_terms(&self) -> Option<&LoanTerms> {
        match &self.terms {
            DealTerms::Loan(l) | DealTerms::Hybrid { loan: l, .. } => Some(l),
            DealTerms::RevenueShare(_) => None,
        }
    }

    /// Amount funded at t = 0 (loan principal or revenue-share advance), USD.
    pub fn funded_amount(&self) -> Decimal {
        match &self.terms {
            DealTerms::Loan(l) | DealTerms::Hybrid { loan: l, .. } => l.principal,
            DealTerms::RevenueShare(r) => r.advance,
        }
    }

    /// Contractual term in months.
    pub fn term_months(&self) -> u32 {
        match &self.terms {
            DealTerms::Loan(l) | DealTerms::Hybrid { loan: l, .. } => l.term_months,
            DealTerms::RevenueShare(r) => r.term_months,
        }
    }

    /// Whether the deal is secured by the fleet's hardware (loans and hybrids always are).
    pub fn is_secured(&self) -> bool {
        match &self.terms {
            DealTerms::RevenueShare(r) => r.secured,
            _ => true,
        }
    }

    /// "loan", "revenue_share" or "hybrid".
    pub fn kind_name(&self) -> &'static str {
        match &self.terms {
            DealTerms::Loan(_) => "loan",
            DealTerms::RevenueShare(_) => "revenue_share",
            DealTerms::Hybrid { .. } => "hybrid",
        }
    }
}

/// A securitisation pool owning deals and issuing tranches (MODEL.md §6).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Pool {
    /// Identifier.
    pub id: String,
    /// Deals owned by the pool.
    pub deal_ids: Vec<String>,
    /// Senior fees (servicing, trustee), basis points per year on the performing balance.
    #[serde(default)]
    pub senior_fee_bps: Decimal,
    /// Over-collateralisation trigger: performing balance / senior outstanding (e.g. 1.20).
    pub oc_trigger: Decimal,
    /// Whether Σ tranche balances must equal Σ funded amounts of the deals (default true).
    #[serde(default = "yes")]
    pub require_full_capital_structure: bool,
    /// Tranches in order of seniority; the last is equity.
    pub tranches: Vec<Tranche>,
}

/// A tranche of a pool (MODEL.md §6).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Tranche {
    /// Identifier, unique within the pool.
    pub id: String,
    /// Original balance, USD.
    pub balance: Decimal,
    /// Fixed annual coupon (0.07 = 7 %), accrued monthly as coupon/12.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coupon: Option<Decimal>,
    /// Floating coupon: spread over the base rate, basis points.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub floating_spread_bps: Option<Decimal>,
    /// The residual (equity) tranche: no coupon, takes what is left.
    #[serde(default)]
    pub equity: bool,
    /// Spread over the discount curve used to value the tranche, basis points.
    #[serde(default)]
    pub discount_spread_bps: f64,
}

/// A holding of the vault in a pool tranche.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TrancheHolding {
    /// Pool id.
    pub pool_id: String,
    /// Tranche id within the pool.
    pub tranche_id: String,
    /// Fraction (0..1] of the tranche held.
    pub fraction: Decimal,
}

/// The AID/sAID vault (MODEL.md §7).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Vault {
    /// Identifier (e.g. "sAID").
    pub id: String,
    /// sAID shares outstanding at t = 0.
    pub shares: Decimal,
    /// Liquidity buffer (AID / T-bills) at t = 0, USD.
    pub liquidity_buffer: Decimal,
    /// Yield of the buffer, annual (0.043 = 4.3 %).
    pub tbill_rate: Decimal,
    /// Deals held directly (whole).
    #[serde(default)]
    pub deal_ids: Vec<String>,
    /// Tranche holdings.
    #[serde(default)]
    pub holdings: Vec<TrancheHolding>,
    /// Management fee, basis points per year on NAV.
    #[serde(default)]
    pub management_fee_bps: Decimal,
    /// Performance fee, fraction (0..1) of financing income.
    #[serde(default)]
    pub performance_fee: Decimal,
    /// Length of a withdrawal cycle in days (30).
    #[serde(default = "default_cycle_days")]
    pub withdrawal_cycle_days: u32,
    /// Days at the start of a cycle in which redemption requests are accepted (7).
    #[serde(default = "default_window_days")]
    pub request_window_days: u32,
    /// Fraction (0..1) of shares requesting redemption in each cycle (scenario input).
    #[serde(default)]
    pub redemption_requests: Decimal,
    /// Per-cycle overrides of `redemption_requests` (scenario input, e.g. a bank run): in
    /// withdrawal cycle n (1-based) the listed fraction of unqueued shares requests redemption
    /// instead of `redemption_requests`. Empty by default.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub redemption_schedule: Vec<RedemptionRequest>,
    /// Horizon of the NAV-per-share distribution, days (default one cycle).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub horizon_days: Option<u32>,
    /// Confidence level alpha of the haircut (default 0.99).
    #[serde(default = "default_confidence")]
    pub confidence: f64,
    /// Lender's liquidation incentive subtracted from the LTV, fraction (e.g. 0.05).
    #[serde(default)]
    pub liquidation_incentive: Decimal,
}

/// Redemption requests of one withdrawal cycle (a [`Vault::redemption_schedule`] entry).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RedemptionRequest {
    /// Withdrawal cycle n, 1-based (cycle n ends n × `withdrawal_cycle_days` days after t = 0).
    pub cycle: u32,
    /// Fraction (0..1) of the unqueued shares requesting redemption in that cycle.
    pub fraction: Decimal,
}

fn default_cycle_days() -> u32 {
    30
}
fn default_window_days() -> u32 {
    7
}
fn default_confidence() -> f64 {
    0.99
}

impl GpuClass {
    /// S_c(t_k): the sum of the log sizes of the scheduled shocks with month ≤ k (MODEL.md §1).
    pub fn shock_log_sum(&self, k: u32) -> f64 {
        self.shocks
            .iter()
            .filter(|s| s.month <= k)
            .map(|s| s.log_size)
            .sum()
    }
}

impl Portfolio {
    /// K: the number of monthly steps (MODEL.md): `horizon_months` if given, else the longest
    /// deal term plus the longest recovery lag (at least 1).
    pub fn horizon_months(&self) -> u32 {
        if let Some(h) = self.portfolio.horizon_months {
            return h.max(1);
        }
        let term = self.deals.iter().map(Deal::term_months).max().unwrap_or(1);
        let lag = self
            .deals
            .iter()
            .map(|d| d.recovery_lag_months)
            .max()
            .unwrap_or(0);
        (term.saturating_add(lag)).clamp(1, crate::validate::MAX_MONTHS * 2)
    }

    /// Index of a deal by id.
    pub fn deal_index(&self, id: &str) -> Option<usize> {
        self.deals.iter().position(|d| d.id == id)
    }

    /// Index of a pool by id.
    pub fn pool_index(&self, id: &str) -> Option<usize> {
        self.pools.iter().position(|p| p.id == id)
    }

    /// The same portfolio with every hedge turned into a priced-only derivative (`hedges` and
    /// `basis_factor` removed): the "without hedges" side of a hedge comparison. Derivatives
    /// draw no random number, so both portfolios see the same paths (MODEL.md §10).
    pub fn without_hedges(&self) -> Portfolio {
        let mut p = self.clone();
        for d in &mut p.derivatives {
            d.hedges = None;
            d.basis_factor = None;
        }
        p
    }

    /// Whether some derivative hedges a fleet.
    pub fn has_hedges(&self) -> bool {
        self.derivatives.iter().any(|d| d.hedges.is_some())
    }
}
