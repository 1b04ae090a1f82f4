//! Derivatives and hedges in a run's results (MODEL.md §10): per derivative its E\[PV\] ± se
//! from the base leg's statistics, the closed-form reference where one exists
//! ([`gaib_pricing::closed_form::derivative_reference`]), and the finite-difference delta and
//! vega from the sensitivity bumps when the run has them ([`DerivativeResult`]); and, when
//! the portfolio hedges a fleet, the same figures of the hedged deals, every tranche and the
//! vault with and without the hedges ([`HedgeComparison`]) — the run's `unhedged` leg is the
//! same plan with every `hedges` removed ([`gaib_engine::Portfolio::without_hedges`]),
//! simulated on the same seed and paths (common random numbers: derivatives draw nothing, so
//! both legs see the same prices, utilizations and default times path for path).

use gaib_engine::{DerivativeKind, Portfolio, Position};
use gaib_pricing::closed_form::derivative_reference;
use gaib_pricing::{InstrumentValuation, McEstimate, Valuation};
use gaib_simulator::PathStats;
use serde::{Deserialize, Serialize};

/// One derivative of the portfolio in `results.json` (MODEL.md §10.5). Amounts in USD to the
/// holder at t = 0; `_se` the Monte Carlo standard error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DerivativeResult {
    /// The derivative's id.
    pub id: String,
    /// Its kind (`forward`, `future`, `swap`, `cap`, `floor`, `revenue_floor`).
    pub kind: DerivativeKind,
    /// `long` or `short`.
    pub position: Position,
    /// What it settles on: the GPU class id (index kinds) or the fleet id (revenue floor).
    pub underlying: String,
    /// The fleet whose NOI its settlement enters (`hedges`), or null when priced only.
    pub hedges: Option<String>,
    /// First month of the strip.
    pub start_month: u32,
    /// Last month of the strip.
    pub end_month: u32,
    /// The reference amount the statistics are kept in, USD: N·m·max(P_c(0), K) (index kinds) or
    /// R·m (revenue floor).
    pub reference_usd: f64,
    /// E\[PV\] to the holder, USD, net of the premium.
    pub pv_usd: McEstimate,
    /// Probability that some month's settlement is positive (the holder receives), percent.
    pub p_receives_pct: f64,
    /// Expected settlement to the holder per month k (index k − 1, every month of the
    /// horizon), USD.
    pub expected_settlement_usd: Vec<f64>,
    /// The closed-form E\[PV\], USD (swaps and forwards always; month-end caps and floors
    /// without jumps), or null; see `closed_form_note`.
    pub closed_form_pv_usd: Option<f64>,
    /// (E\[PV\] − closed form) / se: within ±4 the simulation agrees with the closed form (null
    /// without a closed form or without Monte Carlo error).
    pub closed_form_z: Option<f64>,
    /// Why there is no closed form (`jumps`, `average fixing`, `revenue floor`), or null.
    pub closed_form_note: Option<String>,
    /// The fixed rate at which a swap or forward is worth nothing before its premium, USD per
    /// GPU-hour (closed form); null for options and revenue floors.
    pub fair_strike_per_gpu_hour: Option<f64>,
    /// Change of E\[PV\] per +1 % of the price index level, USD: (E\[PV\] − E\[PV\] under the
    /// `price_level` bump, every P_c(0) × 0.9) / 10, same paths. Null without sensitivities.
    pub delta_usd_per_index_pct: Option<f64>,
    /// Change of E\[PV\] per +1 % (relative) of every class's `sigma`, USD: (E\[PV\] under the
    /// `price_vol` bump, sigma × 1.2, − E\[PV\]) / 20, same paths. Null without sensitivities.
    pub vega_usd_per_sigma_pct: Option<f64>,
}

/// One derivative's E\[PV\] (USD) and its standard error from statistics `stats`, and the
/// probability (0..1) that it pays the holder in some month.
fn simulated(stats: &PathStats, i: usize) -> Option<(f64, f64, f64)> {
    let d = stats.derivatives.get(i)?;
    Some((
        d.expected_pv_usd(),
        d.pv_std_error_usd(),
        d.paid_probability(),
    ))
}

/// The derivatives of `p` from the base leg's statistics `base` (valued as of `valuation`'s
/// date) and, when the run has them, the `price_level` and `price_vol` bumps' statistics
/// (same paths).
pub(crate) fn derivative_results(
    p: &Portfolio,
    base: &PathStats,
    valuation: &Valuation,
    price_level: Option<&PathStats>,
    price_vol: Option<&PathStats>,
) -> Vec<DerivativeResult> {
    p.derivatives
        .iter()
        .enumerate()
        .filter_map(|(i, d)| {
            let (pv, se, p_receives) = simulated(base, i)?;
            let stats = base.derivatives.get(i)?;
            let (cf, note, fair) = match derivative_reference(p, d) {
                Ok(r) => (Some(r.pv_usd), None, r.fair_strike_per_gpu_hour),
                Err(e) => (None, Some(e.short().to_string()), None),
            };
            let bumped = |s: Option<&PathStats>| s.and_then(|s| simulated(s, i)).map(|x| x.0);
            Some(DerivativeResult {
                id: d.id.clone(),
                kind: d.kind,
                position: d.position,
                underlying: d
                    .class_id
                    .clone()
                    .or_else(|| d.fleet_id.clone())
                    .unwrap_or_default(),
                hedges: d.hedges.clone(),
                start_month: d.start_month,
                end_month: d.end_month,
                reference_usd: stats.reference_usd,
                pv_usd: McEstimate::new(pv, se, base.paths, valuation.as_of),
                p_receives_pct: 100.0 * p_receives,
                expected_settlement_usd: stats.expected_settlement_usd(),
                closed_form_pv_usd: cf,
                closed_form_z: cf.filter(|_| se > 0.0).map(|c| (pv - c) / se),
                closed_form_note: note,
                fair_strike_per_gpu_hour: fair,
                delta_usd_per_index_pct: bumped(price_level).map(|b| (pv - b) / 10.0),
                vega_usd_per_sigma_pct: bumped(price_vol).map(|b| (b - pv) / 20.0),
            })
        })
        .collect()
}

/// One figure with and without the hedges, same paths.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WithWithout {
    /// With the hedges (the portfolio as written).
    pub hedged: McEstimate,
    /// With every `hedges` removed.
    pub unhedged: McEstimate,
}

/// A deal of a hedged fleet, with and without the hedges.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HedgedDeal {
    /// The deal's id.
    pub id: String,
    /// The fleet it finances.
    pub fleet_id: String,
    /// The derivatives that hedge that fleet, in portfolio order.
    pub hedged_by: Vec<String>,
    /// The premium of each derivative in `hedged_by` (same order) to its holder at t = 0,
    /// USD: positive when the holder pays it (long), negative when it receives it (short).
    /// The premium is paid outside the fleet's cash (MODEL.md §10.4): the hedged PD, EL and
    /// price do not include it (empty in results written before it was added).
    #[serde(default)]
    pub hedge_premium_usd: Vec<f64>,
    /// PD, percent.
    pub pd_pct: WithWithout,
    /// Expected loss, percent of the funded amount.
    pub expected_loss_pct: WithWithout,
    /// Price, percent of par.
    pub price_pct: WithWithout,
}

/// A tranche with and without the hedges.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HedgedTranche {
    /// `POOL/TRANCHE`.
    pub id: String,
    /// PD, percent.
    pub pd_pct: WithWithout,
    /// Expected loss, percent of the original balance.
    pub expected_loss_pct: WithWithout,
    /// Price, percent of par.
    pub price_pct: WithWithout,
}

/// The vault's haircut and recommended LTV with and without the hedges (MODEL.md §8; plain
/// values, as in the valuation).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HedgedVault {
    /// The vault id.
    pub id: String,
    /// Haircut with the hedges, percent.
    pub haircut_pct: f64,
    /// Haircut without them, percent.
    pub haircut_unhedged_pct: f64,
    /// Recommended LTV with the hedges, percent.
    pub recommended_ltv_pct: f64,
    /// Recommended LTV without them, percent.
    pub recommended_ltv_unhedged_pct: f64,
}

/// `results.json`'s `hedges`: the hedged deals, every tranche and the vault with and without
/// the hedges, on the same seed and paths.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HedgeComparison {
    /// Every deal whose fleet some derivative hedges, in portfolio order.
    pub deals: Vec<HedgedDeal>,
    /// Every tranche, pool by pool in waterfall order.
    pub tranches: Vec<HedgedTranche>,
    /// Portfolio expected loss, percent of the funded amount.
    pub portfolio_expected_loss_pct: WithWithout,
    /// The vault, or null without one.
    pub vault: Option<HedgedVault>,
}

fn pair(
    a: &InstrumentValuation,
    b: &InstrumentValuation,
    f: impl Fn(&InstrumentValuation) -> &McEstimate,
) -> WithWithout {
    WithWithout {
        hedged: *f(a),
        unhedged: *f(b),
    }
}

/// The comparison of `hedged` (the base leg's valuation) against `unhedged` (the run's
/// `unhedged` leg, the same portfolio without hedges); None when `p` hedges no fleet.
pub(crate) fn hedge_comparison(
    p: &Portfolio,
    hedged: &Valuation,
    unhedged: &Valuation,
) -> Option<HedgeComparison> {
    if !p.has_hedges() {
        return None;
    }
    let hedgers = |fleet: &str| -> Vec<String> {
        p.derivatives
            .iter()
            .filter(|d| d.hedges.as_deref() == Some(fleet))
            .map(|d| d.id.clone())
            .collect()
    };
    let premiums = |fleet: &str| -> Vec<f64> {
        p.derivatives
            .iter()
            .filter(|d| d.hedges.as_deref() == Some(fleet))
            .map(|d| {
                let usd = f64::try_from(d.premium_usd).unwrap_or(f64::NAN);
                match d.position {
                    Position::Long => usd,
                    Position::Short => -usd,
                }
            })
            .collect()
    };
    let deals = p
        .deals
        .iter()
        .zip(hedged.deals.iter().zip(&unhedged.deals))
        .filter_map(|(d, (a, b))| {
            let hedged_by = hedgers(&d.fleet_id);
            (!hedged_by.is_empty()).then(|| HedgedDeal {
                id: d.id.clone(),
                fleet_id: d.fleet_id.clone(),
                hedged_by,
                hedge_premium_usd: premiums(&d.fleet_id),
                pd_pct: pair(a, b, |v| &v.pd_pct),
                expected_loss_pct: pair(a, b, |v| &v.expected_loss_pct),
                price_pct: pair(a, b, |v| &v.price_pct),
            })
        })
        .collect();
    let tranches = hedged
        .tranches
        .iter()
        .zip(&unhedged.tranches)
        .map(|(a, b)| HedgedTranche {
            id: a.id.clone(),
            pd_pct: pair(a, b, |v| &v.pd_pct),
            expected_loss_pct: pair(a, b, |v| &v.expected_loss_pct),
            price_pct: pair(a, b, |v| &v.price_pct),
        })
        .collect();
    let vault = hedged
        .vault
        .as_ref()
        .zip(unhedged.vault.as_ref())
        .map(|(a, b)| HedgedVault {
            id: a.id.clone(),
            haircut_pct: a.haircut_pct,
            haircut_unhedged_pct: b.haircut_pct,
            recommended_ltv_pct: a.recommended_ltv_pct,
            recommended_ltv_unhedged_pct: b.recommended_ltv_pct,
        });
    Some(HedgeComparison {
        deals,
        tranches,
        portfolio_expected_loss_pct: WithWithout {
            hedged: hedged.portfolio.expected_loss_pct,
            unhedged: unhedged.portfolio.expected_loss_pct,
        },
        vault,
    })
}
