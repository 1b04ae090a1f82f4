//! [`value`]: the valuation of every tranche, deal, the portfolio and the vault (MODEL.md §8)
//! from the simulator's [`PathStats`], the portfolio's discount curve and each instrument's
//! `discount_spread_bps`.
//!
//! Units: fields ending `_pct` are percent (price: percent of par; losses: percent of the
//! original balance or of the funded amount), `_usd` US dollars, `_years` years. Means are
//! [`McEstimate`]s; yields, WAL and durations are functions of the expected cash-flow vector
//! (their Monte Carlo error is that of the price, which is reported); quantiles come from the
//! simulator's fixed-bin histograms (resolution stated alongside) with a distribution-free
//! 95 % interval from the order-statistic ranks q ± 1.96·sqrt(q(1 − q)/n).

use crate::cashflow::{duration_years, implied_spread_bps, present_value, wal_years, yield_cc};
use crate::error::{PricingError, Result};
use crate::mc::{McEstimate, Z95};
use chrono::NaiveDate;
use gaib_engine::{Amount, DiscountCurve, Portfolio, Vault};
use gaib_simulator::{Histogram, InstrumentStats, Moments, PathStats, PortfolioStats, VaultStats};
use serde::{Deserialize, Serialize};

/// Loss quantile levels reported per instrument.
pub const LOSS_QUANTILE_LEVELS: [f64; 5] = [0.5, 0.9, 0.95, 0.99, 0.999];
/// Confidence levels of the portfolio VaR and expected shortfall.
pub const VAR_LEVELS: [f64; 3] = [0.95, 0.99, 0.999];
/// Quantile levels of the NAV-per-share fan (per month).
pub const FAN_LEVELS: [f64; 5] = [0.05, 0.25, 0.5, 0.75, 0.95];
/// Quantile levels of the horizon NAV per share.
pub const NAV_QUANTILE_LEVELS: [f64; 6] = [0.001, 0.01, 0.05, 0.5, 0.95, 0.99];
/// Bins of the coarse portfolio loss histogram kept for charts.
pub const CHART_LOSS_BINS: usize = 40;

/// Everything a run is worth: the content of `results.json`'s `valuation`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Valuation {
    /// Portfolio id.
    pub portfolio_id: String,
    /// Valuation date (t = 0).
    pub as_of: NaiveDate,
    /// Model version of the statistics.
    pub model_version: String,
    /// Number of simulated paths.
    pub paths: u64,
    /// Horizon K, months.
    pub months: u32,
    /// Tranches of every pool (file order, seniority order within a pool).
    pub tranches: Vec<InstrumentValuation>,
    /// Deals (file order).
    pub deals: Vec<InstrumentValuation>,
    /// Portfolio loss: EL, VaR and expected shortfall.
    pub portfolio: PortfolioRisk,
    /// The vault, if the portfolio has one.
    pub vault: Option<VaultRisk>,
    /// Per deal: collateral ratio over time (MODEL.md §8).
    pub collateral: Vec<CollateralSeries>,
}

/// What is valued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum InstrumentKind {
    /// A tranche of a pool.
    Tranche {
        /// The pool's id.
        pool_id: String,
        /// Whether it is the equity (residual) tranche.
        equity: bool,
    },
    /// A deal ("loan", "revenue_share" or "hybrid").
    Deal {
        /// The deal kind.
        deal_kind: String,
    },
}

/// A quantile of a distribution.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Quantile {
    /// Level q in (0, 1).
    pub level: f64,
    /// The q-quantile, in the units of the field holding it.
    pub value: f64,
}

/// Valuation of one tranche or deal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstrumentValuation {
    /// Deal id, or `<pool>/<tranche>`.
    pub id: String,
    /// Tranche or deal.
    pub kind: InstrumentKind,
    /// Original balance (tranche) or funded amount (deal), USD.
    pub notional_usd: f64,
    /// Discount spread over the curve, basis points.
    pub discount_spread_bps: f64,
    /// E\[PV\] of the cash received, USD.
    pub pv_usd: McEstimate,
    /// Price: E\[PV\] / notional, percent of par.
    pub price_pct: McEstimate,
    /// Expected loss, percent of the notional.
    pub expected_loss_pct: McEstimate,
    /// PD: probability of a default event by the horizon (deal: a payment, refinancing or
    /// credit default; tranche: a write-down or, for the senior tranche, an interest default),
    /// percent.
    pub pd_pct: McEstimate,
    /// 1-year PD: probability that the first default event falls in months 1–12, percent.
    pub pd_1y_pct: McEstimate,
    /// 1-year EL: E\[loss · 1{first default event in months 1–12}\], percent of the notional.
    pub expected_loss_1y_pct: McEstimate,
    /// Loss probability P\[loss > 0\], percent (differs from the PD where a default recovers
    /// in full, or a loss has no default event — the equity tranche's shortfall).
    pub loss_probability_pct: McEstimate,
    /// LGD = EL / PD, percent of the notional (delta-method standard error); `None` if no path
    /// has a default event.
    pub lgd_pct: Option<McEstimate>,
    /// Weighted average life of the expected principal, years.
    pub wal_years: Option<f64>,
    /// Yield: continuously compounded IRR of the expected cash flows at the model price,
    /// percent per year.
    pub yield_pct: Option<f64>,
    /// Modified duration at that yield, years (= Macaulay under continuous compounding).
    pub modified_duration_years: Option<f64>,
    /// Loss quantiles, percent of the notional (histogram resolution 0.1 %).
    pub loss_quantiles_pct: Vec<Quantile>,
    /// Expected cash flow per month (index k − 1), percent of the notional.
    pub expected_cash_flow_pct: Vec<f64>,
}

/// Tail risk of the portfolio loss at one confidence level.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TailRisk {
    /// Confidence level alpha.
    pub confidence: f64,
    /// VaR: the alpha-quantile of the loss, percent of the funded amount.
    pub var_pct: f64,
    /// 95 % interval of the VaR (order-statistic ranks), percent.
    pub var_ci95_pct: [f64; 2],
    /// VaR in USD.
    pub var_usd: f64,
    /// Expected shortfall: mean loss beyond the VaR, percent of the funded amount.
    pub es_pct: f64,
    /// Expected shortfall in USD.
    pub es_usd: f64,
}

/// A coarse histogram for charts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChartHistogram {
    /// Lower edge of the first bin, in the field's units.
    pub lo: f64,
    /// Bin width, same units.
    pub width: f64,
    /// Probability of each bin.
    pub probabilities: Vec<f64>,
    /// Probability above the last bin.
    pub beyond: f64,
}

/// The portfolio's loss distribution (Σ deal losses / Σ funded).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PortfolioRisk {
    /// Σ funded amounts of all deals, USD.
    pub funded_usd: f64,
    /// Expected loss, percent of funded.
    pub expected_loss_pct: McEstimate,
    /// Expected loss, USD.
    pub expected_loss_usd: McEstimate,
    /// Expected number of deals defaulting per path.
    pub expected_defaults: McEstimate,
    /// VaR and ES at 95, 99 and 99.9 %.
    pub tail: Vec<TailRisk>,
    /// Resolution of the loss quantiles (histogram bin width), percent.
    pub resolution_pct: f64,
    /// Loss distribution for charts (percent of funded).
    pub loss_histogram_pct: ChartHistogram,
}

/// One month of the NAV-per-share fan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FanPoint {
    /// Month k.
    pub month: u32,
    /// Mean unstaking NAV per share, USD.
    pub mean_usd: f64,
    /// Quantiles at [`FAN_LEVELS`], USD (resolution 0.5 % of NAV0 per share).
    pub quantiles_usd: Vec<f64>,
}

/// The vault's risk (MODEL.md §7–8). NAV means the unstaking NAV (the redemption and
/// collateral price) unless the field says staking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VaultRisk {
    /// Vault id.
    pub id: String,
    /// NAV per share at t = 0, USD.
    pub nav0_per_share_usd: f64,
    /// Horizon of the haircut, days.
    pub horizon_days: u32,
    /// Horizon month (ceil(horizon_days / (365/12))).
    pub horizon_month: u32,
    /// Confidence level alpha of the haircut.
    pub confidence: f64,
    /// Unstaking NAV per share at the horizon, USD.
    pub nav_per_share_usd: McEstimate,
    /// Staking NAV per share at the horizon, USD.
    pub staking_nav_per_share_usd: McEstimate,
    /// Quantiles of the unstaking NAV per share at the horizon, USD (resolution 1e-4·NAV0).
    pub nav_quantiles_usd: Vec<Quantile>,
    /// The lending horizon: how long a lender needs to exit sAID (MODEL.md §8).
    pub lending_horizon: LendingHorizon,
    /// Haircut = max(0, 1 − quantile_{1−alpha}(NAV_L) / max(NAV_0, E\[NAV_L\])) at the lending
    /// horizon's month L, percent: the alpha-tail shortfall against today's NAV or, when the
    /// NAV is expected to grow, against its expected value at the exit (MODEL.md §8).
    pub haircut_pct: f64,
    /// The same before the floor at 0, percent (negative when even the alpha-tail beats the
    /// reference).
    pub haircut_unfloored_pct: f64,
    /// Resolution of the NAV histogram the haircut is read from, percent of NAV0 (0.01 at the
    /// vault's `horizon_days`, 0.1 at any other month).
    pub haircut_resolution_pct: f64,
    /// 95 % interval of the haircut (order-statistic ranks, floored at 0), percent.
    pub haircut_ci95_pct: [f64; 2],
    /// Lender's liquidation incentive, percent.
    pub liquidation_incentive_pct: f64,
    /// Recommended LTV = 1 − max(haircut, 0) − incentive, floored at 0, percent.
    pub recommended_ltv_pct: f64,
    /// P\[some redemption request waits more than N cycles\], N = 1, 2, 3, percent.
    pub p_queue_not_cleared_pct: Vec<McEstimate>,
    /// Largest queued shares / initial shares over the path, percent.
    pub max_queue_pct: McEstimate,
    /// Withdrawal cycles within the horizon.
    pub cycles: u32,
    /// NAV per share over time (fan chart).
    pub fan: Vec<FanPoint>,
}

/// A market price of one tranche or deal, the input of an implied spread.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MarketPrice {
    /// Deal id, or `<pool>/<tranche>`.
    pub id: String,
    /// The price, percent of par (notional).
    pub price_pct: f64,
}

impl std::str::FromStr for MarketPrice {
    type Err = PricingError;

    /// Parses `ID=PCT` (e.g. `GPU-ABS-1/A=98.5`).
    fn from_str(s: &str) -> Result<Self> {
        let bad = |message: String| PricingError::MarketPrice {
            field: s.to_string(),
            message,
        };
        let (id, pct) = s
            .rsplit_once('=')
            .ok_or_else(|| bad("expected ID=PCT, e.g. GPU-ABS-1/A=98.5".into()))?;
        let price_pct: f64 = pct
            .trim()
            .parse()
            .map_err(|_| bad(format!("price {pct:?} is not a number (percent of par)")))?;
        if !price_pct.is_finite() || price_pct <= 0.0 {
            return Err(bad(format!(
                "price {pct:?} must be a positive, finite percent of par"
            )));
        }
        if id.trim().is_empty() {
            return Err(bad("no instrument id before '='".into()));
        }
        Ok(MarketPrice {
            id: id.trim().to_string(),
            price_pct,
        })
    }
}

/// The discount spread a market price implies (MODEL.md §8): the spread over the portfolio's
/// curve at which the PV of the instrument's expected cash flows equals the market price.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImpliedSpread {
    /// Deal id, or `<pool>/<tranche>`.
    pub id: String,
    /// The market price given, percent of par.
    pub market_price_pct: f64,
    /// The spread that reproduces it, basis points over the discount curve.
    pub implied_spread_bps: f64,
    /// The model's price at its own `discount_spread_bps`, percent of par.
    pub model_price_pct: f64,
    /// The instrument's `discount_spread_bps` (the model price's spread), basis points.
    pub model_spread_bps: f64,
}

/// The implied spread of each market price in `prices` against `valuation`'s expected cash
/// flows on `curve` (the portfolio's discount curve). Errors name the price: an unknown id, a
/// price that is not positive and finite, or one no spread in \[−50, 1000\] per year reproduces.
pub fn implied_spreads(
    valuation: &Valuation,
    curve: &DiscountCurve,
    prices: &[MarketPrice],
) -> Result<Vec<ImpliedSpread>> {
    prices
        .iter()
        .map(|m| {
            let bad = |message: String| PricingError::MarketPrice {
                field: m.id.clone(),
                message,
            };
            let i = valuation.instrument(&m.id).ok_or_else(|| {
                let known: Vec<&str> = valuation
                    .tranches
                    .iter()
                    .chain(&valuation.deals)
                    .map(|i| i.id.as_str())
                    .collect();
                bad(format!(
                    "no tranche or deal {:?} (known: {})",
                    m.id,
                    known.join(", ")
                ))
            })?;
            if !m.price_pct.is_finite() || m.price_pct <= 0.0 {
                return Err(bad(format!(
                    "price {} is not a positive percent of par",
                    m.price_pct
                )));
            }
            let cf: Vec<f64> = i.expected_cash_flow_pct.iter().map(|c| c / 100.0).collect();
            let spread = implied_spread_bps(&cf, curve, m.price_pct / 100.0).ok_or_else(|| {
                bad(format!(
                    "no discount spread reproduces a price of {} % (expected cash flows sum to \
                     {:.4} % of par)",
                    m.price_pct,
                    100.0 * cf.iter().sum::<f64>()
                ))
            })?;
            Ok(ImpliedSpread {
                id: i.id.clone(),
                market_price_pct: m.price_pct,
                implied_spread_bps: spread,
                model_price_pct: i.price_pct.value,
                model_spread_bps: i.discount_spread_bps,
            })
        })
        .collect()
}

/// Why the lending horizon is what it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LendingHorizonBasis {
    /// The vault's own `horizon_days` (at least one withdrawal cycle) is the longer: the
    /// queue clears within it at the alpha level.
    VaultHorizon,
    /// The alpha-quantile of the time the redemption queue takes to clear is longer.
    QueueClearing,
    /// At the alpha level the queue is not cleared within the simulated horizon K: the horizon
    /// is K, a lower bound of the time a lender needs to exit.
    QueueNotCleared,
}

/// The time a lender needs to exit sAID: the longer of the vault's `horizon_days` (at least one
/// withdrawal cycle) and the alpha-quantile of the time the redemption queue takes to clear
/// under the run's redemption requests (MODEL.md §8).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LendingHorizon {
    /// Which of the two (or the simulated horizon) sets it.
    pub basis: LendingHorizonBasis,
    /// The alpha-quantile of the worst redemption wait over paths, withdrawal cycles (a
    /// request paid at the end of its own cycle waited 1).
    pub queue_clearing_cycles: u32,
    /// The horizon's month L (the month whose NAV distribution gives the haircut).
    pub month: u32,
    /// The horizon in days (month L × 365/12, rounded).
    pub days: u32,
    /// One sentence for readers: the horizon and why.
    pub explanation: String,
}

/// One deal's collateral ratio (G·V_f(t)·(1 − haircut) + DSRA) / outstanding by month, over
/// the paths on which the deal performs with a balance at month end.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CollateralSeries {
    /// Deal id.
    pub deal_id: String,
    /// Month-1 mean ratio (dimensionless).
    pub first_month: McEstimate,
    /// Mean ratio per month (index k − 1); 0 where no path performs.
    pub mean: Vec<f64>,
    /// Standard deviation across paths per month.
    pub std_dev: Vec<f64>,
    /// Paths performing with a balance per month.
    pub performing_paths: Vec<u64>,
    /// 5 % quantile of the ratio per month (resolution 0.05; 0 where no path performs).
    #[serde(default)]
    pub q05: Vec<f64>,
    /// 95 % quantile of the ratio per month (resolution 0.05, at most 5: larger ratios are
    /// shown as 5; 0 where no path performs).
    #[serde(default)]
    pub q95: Vec<f64>,
}

/// LGD = EL / PD as the ratio estimator R = Σ loss / #defaults, with the delta-method standard
/// error sqrt(Var(L − R·D) / n) / PD, where D is the default indicator:
/// Var(L − R·D) = E\[L²\] − 2R·E\[L·D\] + R²·PD (E\[L·D\] from the loss on default paths).
fn lgd(s: &InstrumentStats, as_of: NaiveDate) -> Option<McEstimate> {
    let n = s.loss.n;
    if s.default_paths == 0 || n == 0 {
        return None;
    }
    let nf = n as f64;
    let pd = s.default_paths as f64 / nf;
    let r = s.loss.sum.value() / s.default_paths as f64;
    let e_l2 = s.loss.sumsq.value() / nf;
    let e_ld = s.loss_on_default.sum.value() / nf;
    let var = (e_l2 - 2.0 * r * e_ld + r * r * pd).max(0.0) * nf / (nf - 1.0).max(1.0);
    Some(McEstimate::new(
        100.0 * r,
        100.0 * (var / nf).sqrt() / pd,
        s.default_paths,
        as_of,
    ))
}

fn quantiles(h: &Histogram, levels: &[f64], scale: f64) -> Vec<Quantile> {
    levels
        .iter()
        .map(|&q| Quantile {
            level: q,
            value: h.quantile(q) * scale,
        })
        .collect()
}

/// Distribution-free 95 % interval of the q-quantile: the quantiles at ranks
/// q ± 1.96·sqrt(q(1 − q)/n).
fn quantile_ci(h: &Histogram, q: f64) -> [f64; 2] {
    let n = h.total().max(1) as f64;
    let d = Z95 * (q * (1.0 - q) / n).sqrt();
    [h.quantile((q - d).max(0.0)), h.quantile((q + d).min(1.0))]
}

/// Largest relative gap between E\[PV\] and the PV of the expected cash flows on the
/// portfolio's curve (they agree up to the statistics' fixed-point rounding, ~1e-15).
const PV_CONSISTENCY: f64 = 1e-9;

fn instrument(
    s: &InstrumentStats,
    kind: InstrumentKind,
    curve: &DiscountCurve,
    spread_bps: f64,
    paths: u64,
    as_of: NaiveDate,
) -> Result<InstrumentValuation> {
    let cf = s.expected_cash_flow(paths);
    let principal = s.expected_principal(paths);
    let price = s.pv.mean();
    // Discounting is linear, so E[PV] is the PV of the expected cash flows: a gap means the
    // statistics were discounted on another curve or spread than the portfolio's.
    let pv_cf = present_value(&cf, curve, spread_bps);
    if (pv_cf - price).abs() > PV_CONSISTENCY * (1.0 + price.abs()) {
        return Err(PricingError::Mismatch(format!(
            "{}: E[PV] {price} ≠ PV of expected cash flows {pv_cf} on the portfolio's curve",
            s.id
        )));
    }
    let y = yield_cc(&cf, price);
    Ok(InstrumentValuation {
        id: s.id.clone(),
        kind,
        notional_usd: s.notional_usd,
        discount_spread_bps: spread_bps,
        pv_usd: McEstimate::from_moments(&s.pv, s.notional_usd, as_of),
        price_pct: McEstimate::from_moments(&s.pv, 100.0, as_of),
        expected_loss_pct: McEstimate::from_moments(&s.loss, 100.0, as_of),
        pd_pct: McEstimate::proportion(s.default_paths, s.loss.n, 100.0, as_of),
        pd_1y_pct: McEstimate::proportion(s.default_paths_1y, s.loss.n, 100.0, as_of),
        expected_loss_1y_pct: McEstimate::from_moments(&s.loss_1y, 100.0, as_of),
        loss_probability_pct: McEstimate::proportion(s.loss_paths, s.loss.n, 100.0, as_of),
        lgd_pct: lgd(s, as_of),
        wal_years: wal_years(&principal),
        yield_pct: y.map(|y| 100.0 * y),
        modified_duration_years: y.and_then(|y| duration_years(&cf, y)),
        loss_quantiles_pct: quantiles(&s.loss_hist, &LOSS_QUANTILE_LEVELS, 100.0),
        expected_cash_flow_pct: cf.iter().map(|c| 100.0 * c).collect(),
    })
}

/// The lending horizon of MODEL.md §8 from the vault's statistics: the alpha-quantile w of the
/// worst redemption wait (at least one cycle) ends in the month of cycle w's end; the horizon is
/// the later of that month and the vault's `horizon_month`, or K when the queue is not cleared
/// within the simulation at the alpha level.
fn lending_horizon(v: &VaultStats, alpha: f64, months: u32) -> LendingHorizon {
    let w = v.cycles_waited_quantile(alpha).max(1);
    let queue_month = v.cycle_end_month.get(w as usize - 1).copied();
    let (basis, month) = match queue_month {
        None => (LendingHorizonBasis::QueueNotCleared, months.max(1)),
        Some(m) if m > v.horizon_month => (LendingHorizonBasis::QueueClearing, m),
        Some(_) => (LendingHorizonBasis::VaultHorizon, v.horizon_month),
    };
    let days = (f64::from(month) * 365.0 / 12.0).round() as u32;
    let level = 100.0 * alpha;
    let explanation = match basis {
        LendingHorizonBasis::VaultHorizon => format!(
            "month {month} (the vault's horizon): at the {level}% level the redemption queue \
             clears within {w} withdrawal cycle(s), no later"
        ),
        LendingHorizonBasis::QueueClearing => format!(
            "month {month}: at the {level}% level the redemption queue takes {w} withdrawal \
             cycles to clear, longer than the vault's horizon (month {})",
            v.horizon_month
        ),
        LendingHorizonBasis::QueueNotCleared => format!(
            "month {month}, the end of the simulation: at the {level}% level the redemption \
             queue is not cleared within the {} simulated cycles, so a lender may not be able \
             to exit at all (the horizon is a lower bound)",
            v.cycles
        ),
    };
    LendingHorizon {
        basis,
        queue_clearing_cycles: w,
        month,
        days,
        explanation,
    }
}

fn chart_histogram(h: &Histogram, scale: f64) -> ChartHistogram {
    let total = h.total().max(1) as f64;
    let fine = h.counts.len();
    let w = h.resolution();
    // Show up to 1.25 × the 99.9 % quantile (at least 20 fine bins), in CHART_LOSS_BINS bins.
    let top = (h.quantile(0.999) * 1.25 - h.lo).max(20.0 * w);
    let top_bins = ((top / w).ceil() as usize).clamp(1, fine);
    let per = top_bins.div_ceil(CHART_LOSS_BINS).max(1);
    let mut probabilities = Vec::with_capacity(CHART_LOSS_BINS);
    let mut shown = 0u64;
    for chunk in h.counts[..(per * CHART_LOSS_BINS).min(fine)].chunks(per) {
        let c: u64 = chunk.iter().sum();
        shown += c;
        probabilities.push(c as f64 / total);
    }
    if let Some(first) = probabilities.first_mut() {
        // The atom at `lo` (no loss) is counted apart from the bins; it belongs to the first.
        *first += (h.underflow + h.at_lo) as f64 / total;
        shown += h.underflow + h.at_lo;
    }
    ChartHistogram {
        lo: h.lo * scale,
        width: per as f64 * w * scale,
        probabilities,
        beyond: (h.total() - shown) as f64 / total,
    }
}

fn moments_or_zero(m: &Moments) -> (f64, f64) {
    if m.n == 0 {
        (0.0, 0.0)
    } else {
        (m.mean(), m.std_dev())
    }
}

/// Values a portfolio from its simulated statistics. Fails with [`PricingError::NoPaths`] on
/// empty statistics and [`PricingError::Mismatch`] if `stats` come from another portfolio
/// (other deals, pools or tranches, or cash flows discounted on another curve or spread).
pub fn value(p: &Portfolio, stats: &PathStats) -> Result<Valuation> {
    check_stats_shape(p, stats)?;
    let as_of = p.portfolio.as_of;
    let curve = DiscountCurve::new(&p.market.discount_curve);
    let (tranches, deals) = value_instruments(p, stats, &curve)?;
    let portfolio = portfolio_risk(&stats.portfolio, as_of);
    let vault = match (&stats.vault, &p.vault) {
        (Some(v), Some(pv)) => Some(vault_risk(v, pv, stats.months, as_of)),
        _ => None,
    };
    let collateral = collateral_series(p, stats, as_of);

    Ok(Valuation {
        portfolio_id: p.portfolio.id.clone(),
        as_of,
        model_version: stats.model_version.clone(),
        paths: stats.paths,
        months: stats.months,
        tranches,
        deals,
        portfolio,
        vault,
        collateral,
    })
}

/// Refuses statistics without paths or of another portfolio's deals, pools and tranches.
fn check_stats_shape(p: &Portfolio, stats: &PathStats) -> Result<()> {
    if stats.paths == 0 {
        return Err(PricingError::NoPaths);
    }
    if stats.deals.len() != p.deals.len()
        || stats.tranches.len() != p.pools.len()
        || stats
            .tranches
            .iter()
            .zip(&p.pools)
            .any(|(s, q)| s.len() != q.tranches.len())
        || stats.deals.iter().zip(&p.deals).any(|(s, d)| s.id != d.id)
    {
        return Err(PricingError::Mismatch(format!(
            "{} deals / {} pools simulated, portfolio '{}' has {} / {}",
            stats.deals.len(),
            stats.tranches.len(),
            p.portfolio.id,
            p.deals.len(),
            p.pools.len()
        )));
    }
    Ok(())
}

/// The tranches (pool by pool) and the deals, each valued on `curve` plus its discount spread
/// (bps).
fn value_instruments(
    p: &Portfolio,
    stats: &PathStats,
    curve: &DiscountCurve,
) -> Result<(Vec<InstrumentValuation>, Vec<InstrumentValuation>)> {
    let as_of = p.portfolio.as_of;
    let n = stats.paths;
    let tranches = stats
        .tranches
        .iter()
        .zip(&p.pools)
        .flat_map(|(ts, q)| {
            ts.iter().zip(&q.tranches).map(|(s, t)| {
                let kind = InstrumentKind::Tranche {
                    pool_id: q.id.clone(),
                    equity: t.equity,
                };
                instrument(s, kind, curve, t.discount_spread_bps, n, as_of)
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let deals = stats
        .deals
        .iter()
        .zip(&p.deals)
        .map(|(s, d)| {
            let kind = InstrumentKind::Deal {
                deal_kind: d.kind_name().to_string(),
            };
            instrument(s, kind, curve, d.discount_spread_bps, n, as_of)
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((tranches, deals))
}

/// Portfolio loss: expected loss (percent of funded and USD), expected defaults, VaR and ES at
/// each of `VAR_LEVELS` (percent and USD), loss histogram for the chart (percent).
fn portfolio_risk(ps: &PortfolioStats, as_of: NaiveDate) -> PortfolioRisk {
    let h = &ps.loss_hist;
    let tail = VAR_LEVELS
        .iter()
        .map(|&a| {
            let var = h.quantile(a);
            let es = h.tail_mean(a).max(var);
            let ci = quantile_ci(h, a);
            TailRisk {
                confidence: a,
                var_pct: 100.0 * var,
                var_ci95_pct: [100.0 * ci[0], 100.0 * ci[1]],
                var_usd: var * ps.funded_usd,
                es_pct: 100.0 * es,
                es_usd: es * ps.funded_usd,
            }
        })
        .collect();
    PortfolioRisk {
        funded_usd: ps.funded_usd,
        expected_loss_pct: McEstimate::from_moments(&ps.loss, 100.0, as_of),
        expected_loss_usd: McEstimate::from_moments(&ps.loss, ps.funded_usd, as_of),
        expected_defaults: McEstimate::from_moments(&ps.defaults, 1.0, as_of),
        tail,
        resolution_pct: 100.0 * h.resolution(),
        loss_histogram_pct: chart_histogram(h, 100.0),
    }
}

/// The vault's risk (MODEL.md §8): NAV per share (USD) at the horizon, lending horizon,
/// haircut and recommended LTV (percent) at the vault's confidence, queue statistics and the
/// monthly NAV fan; `months` is the simulated horizon.
fn vault_risk(v: &VaultStats, pv: &Vault, months: u32, as_of: NaiveDate) -> VaultRisk {
    let nav0 = v.nav0_per_share_usd;
    let alpha = pv.confidence;
    let hist = &v.nav_unstaking_hist;
    let lending = lending_horizon(v, alpha, months);
    let lend_hist = if lending.month == v.horizon_month {
        hist
    } else {
        &v.monthly_unstaking_hist[lending.month as usize - 1]
    };
    // The tail is measured against the larger of NAV0 and the expected NAV at the
    // exit (MODEL.md §8): a lender locked in the queue forgoes the accrual it would earn
    // meanwhile, so expected growth never offsets the tail.
    let expected = v.monthly_unstaking[lending.month as usize - 1].mean();
    let reference = if expected.is_finite() {
        expected.max(1.0)
    } else {
        1.0
    };
    let q = lend_hist.quantile(1.0 - alpha);
    let haircut_unfloored = 1.0 - q / reference;
    let haircut = haircut_unfloored.max(0.0);
    let ci = quantile_ci(lend_hist, 1.0 - alpha).map(|c| c / reference);
    let incentive = <f64 as Amount>::from_decimal(pv.liquidation_incentive);
    let fan = (0..v.monthly_unstaking.len())
        .map(|i| FanPoint {
            month: i as u32 + 1,
            mean_usd: v.monthly_unstaking[i].mean() * nav0,
            quantiles_usd: FAN_LEVELS
                .iter()
                .map(|&l| v.monthly_unstaking_hist[i].quantile(l) * nav0)
                .collect(),
        })
        .collect();
    VaultRisk {
        id: v.id.clone(),
        nav0_per_share_usd: nav0,
        horizon_days: pv.horizon_days.unwrap_or(pv.withdrawal_cycle_days),
        horizon_month: v.horizon_month,
        confidence: alpha,
        nav_per_share_usd: McEstimate::from_moments(&v.nav_unstaking, nav0, as_of),
        staking_nav_per_share_usd: McEstimate::from_moments(&v.nav_staking, nav0, as_of),
        nav_quantiles_usd: quantiles(hist, &NAV_QUANTILE_LEVELS, nav0),
        lending_horizon: lending,
        haircut_pct: 100.0 * haircut,
        haircut_unfloored_pct: 100.0 * haircut_unfloored,
        haircut_resolution_pct: 100.0 * lend_hist.resolution(),
        haircut_ci95_pct: [
            100.0 * (1.0 - ci[1]).max(0.0),
            100.0 * (1.0 - ci[0]).max(0.0),
        ],
        liquidation_incentive_pct: 100.0 * incentive,
        recommended_ltv_pct: 100.0 * (1.0 - haircut - incentive).max(0.0),
        p_queue_not_cleared_pct: (1..=3)
            .map(|c| {
                McEstimate::proportion(v.queue_not_cleared[c - 1], v.nav_staking.n, 100.0, as_of)
            })
            .collect(),
        max_queue_pct: McEstimate::from_moments(&v.max_queue_fraction, 100.0, as_of),
        cycles: v.cycles,
        fan,
    }
}

/// Per deal and month: collateral ratio moments, 5 % and 95 % bands and performing paths.
fn collateral_series(p: &Portfolio, stats: &PathStats, as_of: NaiveDate) -> Vec<CollateralSeries> {
    stats
        .collateral_ratio
        .iter()
        .zip(&p.deals)
        .enumerate()
        .map(|(i, (months, d))| {
            let (mean, std_dev): (Vec<f64>, Vec<f64>) = months.iter().map(moments_or_zero).unzip();
            let band = |level: f64| -> Vec<f64> {
                stats
                    .collateral_ratio_hist
                    .get(i)
                    .map_or_else(Vec::new, |hs| {
                        hs.iter()
                            .map(|h| {
                                if h.total() == 0 {
                                    0.0
                                } else {
                                    h.quantile(level).min(h.hi)
                                }
                            })
                            .collect()
                    })
            };
            CollateralSeries {
                q05: band(0.05),
                q95: band(0.95),
                deal_id: d.id.clone(),
                first_month: months
                    .first()
                    .map(|m| McEstimate::from_moments(m, 1.0, as_of))
                    .unwrap_or_else(|| McEstimate::new(0.0, 0.0, 0, as_of)),
                mean,
                std_dev,
                performing_paths: months.iter().map(|m| m.n).collect(),
            }
        })
        .collect()
}

impl Valuation {
    /// A tranche by `<pool>/<tranche>` id or a deal by id.
    pub fn instrument(&self, id: &str) -> Option<&InstrumentValuation> {
        self.tranches.iter().chain(&self.deals).find(|i| i.id == id)
    }

    /// Tail risk at confidence `alpha` (one of [`VAR_LEVELS`]).
    pub fn tail(&self, alpha: f64) -> Option<&TailRisk> {
        self.portfolio
            .tail
            .iter()
            .find(|t| (t.confidence - alpha).abs() < 1e-12)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gaib_engine::{parse_portfolio, Format};
    use gaib_simulator::{lower, run_serial};

    const SMALL: &str = include_str!("../../tests/fixtures/valid/small.toml");

    fn small() -> Portfolio {
        parse_portfolio(SMALL, Format::Toml, "small.toml").unwrap()
    }

    #[test]
    fn values_every_instrument_with_errors_and_intervals() {
        let p = small();
        let stats = run_serial(&lower(&p).unwrap(), 0..200, 1).unwrap();
        let v = value(&p, &stats).unwrap();
        assert_eq!(v.tranches.len(), 3);
        assert_eq!(v.deals.len(), 3);
        assert_eq!(v.paths, 200);
        let a = v.instrument("P1/A").unwrap();
        assert!(a.price_pct.std_error >= 0.0 && a.price_pct.paths == 200);
        assert!(
            a.price_pct.ci95[0] <= a.price_pct.value && a.price_pct.value <= a.price_pct.ci95[1]
        );
        assert!((a.pv_usd.value - a.price_pct.value / 100.0 * 3_500_000.0).abs() < 1e-6);
        assert_eq!(v.tail(0.99).unwrap().confidence, 0.99);
        let vault = v.vault.as_ref().unwrap();
        assert_eq!(vault.p_queue_not_cleared_pct.len(), 3);
        assert_eq!(vault.fan.len(), v.months as usize);
        assert!(vault.recommended_ltv_pct <= 100.0);
        assert_eq!(v.collateral.len(), 3);
        let json = serde_json::to_string(&v).unwrap();
        // serde_json parses floats to within an ulp (no `float_roundtrip`): compare shape.
        let back: Valuation = serde_json::from_str(&json).unwrap();
        assert_eq!(
            (back.as_of, back.paths, back.tranches.len()),
            (v.as_of, 200, 3)
        );
        assert_eq!(back.vault.unwrap().fan.len(), v.months as usize);
    }

    /// MODEL.md §8: a loss quantile that falls on the no-loss atom is exactly 0, and the
    /// chart's first bin holds the paths without a loss.
    #[test]
    fn loss_quantiles_on_the_no_loss_atom_are_zero_and_charted() {
        let p = small();
        let stats = run_serial(&lower(&p).unwrap(), 0..400, 3).unwrap();
        let v = value(&p, &stats).unwrap();
        let mut checked = 0;
        for (i, s) in stats
            .deals
            .iter()
            .chain(stats.tranches.iter().flatten())
            .enumerate()
        {
            let iv = v.deals.iter().chain(&v.tranches).nth(i).unwrap();
            assert_eq!(iv.id, s.id);
            let no_loss = 1.0 - s.loss_paths as f64 / s.loss.n as f64;
            for q in &iv.loss_quantiles_pct {
                if q.level < no_loss {
                    assert_eq!(q.value, 0.0, "{} q{}", s.id, q.level);
                    checked += 1;
                }
            }
        }
        assert!(checked > 0);
        let h = &v.portfolio.loss_histogram_pct;
        let shown: f64 = h.probabilities.iter().sum();
        assert!(
            (shown + h.beyond - 1.0).abs() < 1e-12,
            "{shown} + {}",
            h.beyond
        );
        let zero = stats.portfolio.loss_hist.at_lo as f64 / 400.0;
        assert!(zero > 0.0 && h.probabilities[0] >= zero);
    }

    #[test]
    fn statistics_of_another_portfolio_are_rejected() {
        let p = small();
        let stats = run_serial(&lower(&p).unwrap(), 0..20, 1).unwrap();
        let mut q = p.clone();
        q.deals[0].discount_spread_bps += 50.0;
        assert!(matches!(value(&q, &stats), Err(PricingError::Mismatch(_))));
        q = p.clone();
        q.deals.pop();
        assert!(matches!(value(&q, &stats), Err(PricingError::Mismatch(_))));
        let empty = run_serial(&lower(&p).unwrap(), 0..0, 1).unwrap();
        assert!(matches!(value(&p, &empty), Err(PricingError::NoPaths)));
    }
}
