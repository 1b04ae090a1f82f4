//! Break-even stresses of a pool (`gaib structure --breakeven`): how far can GPU prices fall,
//! or default hazards rise, before an instrument loses?
//!
//! - On the expected path (the engine's deterministic base case, `gaib cashflows`: no credit
//!   defaults, so only a price shock moves it): the GPU price shock — every class's price level
//!   times (1 + shock) from month 1, the scenario override `price.level_factor` — at which each
//!   deal of the pool first defaults and each tranche first loses money (a write-down; for the
//!   equity, cash received below its balance). Bisection to 0.01 % of price.
//! - Over the run's paths (common random numbers, at most [`MAX_STRESS_PATHS`] of them): the
//!   hazard multiplier (`credit.hazard_factor`) and the price shock at which each tranche's
//!   expected loss first exceeds `el_level_pct`: a log grid, then bisection of each crossing;
//!   each trial simulates the pool's deals once and re-runs the waterfall.

use crate::error::Result;
use crate::run::RunSpec;
use crate::structure::Replay;
use gaib_engine::{base_case, CreditOverride, Decimal, Portfolio, PriceOverride, Scenario};
use gaib_simulator::{lower, LOSS_EPS};
use serde::{Deserialize, Serialize};

/// Most paths of the run that the Monte Carlo break-evens use (the first ones).
pub const MAX_STRESS_PATHS: u64 = 2_000;
/// Bisection steps of a Monte Carlo crossing.
const MC_STEPS: usize = 8;

/// A deal's break-even on the expected path.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DealBreakEven {
    /// Deal id.
    pub deal: String,
    /// GPU price shock at which it first defaults in the base case, % (e.g. −35.2); None when
    /// it survives a −99.9 % shock.
    pub price_shock_default_pct: Option<f64>,
}

/// A tranche's break-evens.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrancheBreakEven {
    /// `POOL/TRANCHE`.
    pub tranche: String,
    /// GPU price shock at which it first loses money in the base case, % (None: not down to
    /// −99.9 %).
    pub price_shock_first_loss_pct: Option<f64>,
    /// GPU price shock at which its EL over the paths exceeds the level, % (None: not down to
    /// −99.9 %; 0 when it already does).
    pub price_shock_el_pct: Option<f64>,
    /// Hazard multiplier at which its EL over the paths exceeds the level (None: not up to
    /// 1000×, or to where the largest hazard reaches the model's bound of 10 per year; 1 when
    /// it already does).
    pub hazard_multiplier_el: Option<f64>,
}

/// The break-evens of one pool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BreakEvens {
    /// Pool id.
    pub pool: String,
    /// The EL level of the Monte Carlo break-evens, % of a tranche's balance.
    pub el_level_pct: f64,
    /// Paths the Monte Carlo break-evens use.
    pub paths: u64,
    /// Per deal of the pool.
    pub deals: Vec<DealBreakEven>,
    /// Per tranche, senior first.
    pub tranches: Vec<TrancheBreakEven>,
}

fn scenario(price_factor: f64, hazard_factor: f64) -> Scenario {
    Scenario {
        id: "breakeven".into(),
        price: Some(PriceOverride {
            level_factor: Some(price_factor),
            ..PriceOverride::default()
        }),
        credit: Some(CreditOverride {
            hazard_factor: Some(hazard_factor),
            ..CreditOverride::default()
        }),
        ..Scenario::default()
    }
}

/// The largest price factor in (0.001, 1] at which `hit` holds (bisection to 1e-4; hit is
/// taken as monotone: the lower the price, the likelier), as a shock in %.
fn price_break(mut hit: impl FnMut(f64) -> Result<bool>) -> Result<Option<f64>> {
    if hit(1.0)? {
        return Ok(Some(0.0));
    }
    let (mut lo, mut hi) = (0.001, 1.0);
    if !hit(lo)? {
        return Ok(None);
    }
    while hi - lo > 1e-4 {
        let mid = 0.5 * (lo + hi);
        if hit(mid)? {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Ok(Some(100.0 * (lo - 1.0)))
}

/// Break-evens of `pool` (its id) for the run of `spec`.
pub fn break_evens(spec: &RunSpec, pool: &str, el_level_pct: f64) -> Result<BreakEvens> {
    let base = spec.portfolio.portfolio();
    first_tranche(base, pool)?;
    let q = pool_position(base, pool);
    let deal_ids = base.pools[q].deal_ids.clone();
    let mut deals = Vec::new();
    for id in &deal_ids {
        let d = base.deals.iter().position(|x| &x.id == id).unwrap_or(0);
        let shock = price_break(|f| {
            let p = scenario(f, 1.0).apply(base, "breakeven")?;
            let bc = base_case(&p)?;
            Ok(bc.deals[d].iter().any(|m| m.flows.default_kind.is_some()))
        })?;
        deals.push(DealBreakEven {
            deal: id.clone(),
            price_shock_default_pct: shock,
        });
    }
    let mut mc_spec = spec.clone();
    mc_spec.paths = spec.paths.min(MAX_STRESS_PATHS);
    let level = el_level_pct / 100.0;
    let n = base.pools[q].tranches.len();
    let tranches = (0..n)
        .map(|t| {
            Ok(TrancheBreakEven {
                tranche: format!("{pool}/{}", base.pools[q].tranches[t].id),
                price_shock_first_loss_pct: price_break(|f| base_case_loss(base, q, t, f))?,
                price_shock_el_pct: price_break(|f| Ok(mc_el(&mc_spec, q, t, f, 1.0)? > level))?,
                hazard_multiplier_el: hazard_break(max_multiplier(base), |m| {
                    Ok(mc_el(&mc_spec, q, t, 1.0, m)? > level)
                })?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(BreakEvens {
        pool: pool.to_string(),
        el_level_pct,
        paths: mc_spec.paths,
        deals,
        tranches,
    })
}

fn pool_position(p: &Portfolio, pool: &str) -> usize {
    p.pools.iter().position(|x| x.id == pool).unwrap_or(0)
}

/// The first tranche id of `pool`, or an argument error naming the pool.
pub(crate) fn first_tranche<'p>(p: &'p Portfolio, pool: &str) -> Result<&'p str> {
    p.pools
        .iter()
        .find(|x| x.id == pool)
        .and_then(|x| x.tranches.first())
        .map(|t| t.id.as_str())
        .ok_or_else(|| {
            let known: Vec<&str> = p.pools.iter().map(|x| x.id.as_str()).collect();
            crate::RunError::Argument {
                name: "pool",
                value: pool.to_string(),
                reason: format!("no pool {pool:?} (known: {})", known.join(", ")),
            }
        })
}

/// Whether tranche `t` of pool `q` loses money in the base case at price factor `f`.
fn base_case_loss(base: &Portfolio, q: usize, t: usize, f: f64) -> Result<bool> {
    let p = scenario(f, 1.0).apply(base, "breakeven")?;
    let bc = base_case(&p)?;
    let months = &bc.pools[q];
    let balance = p.pools[q].tranches[t].balance;
    let eps = Decimal::try_from(LOSS_EPS).unwrap_or_default() * balance;
    let writedown: Decimal = months.iter().map(|m| m.tranches[t].writedown).sum();
    if t + 1 == p.pools[q].tranches.len() {
        let received: Decimal = months.iter().map(|m| m.tranches[t].received()).sum();
        return Ok(received < balance - eps || writedown > eps);
    }
    Ok(writedown > eps)
}

/// Tranche `t`'s EL (fraction) over the spec's paths with prices × `f` and hazards × `m`.
fn mc_el(spec: &RunSpec, q: usize, t: usize, f: f64, m: f64) -> Result<f64> {
    let p = scenario(f, m).apply(spec.portfolio.portfolio(), "breakeven")?;
    let plan = lower(&p)?;
    let replay = Replay::new(&plan, spec, q);
    Ok(replay.expected_losses(&plan.tranche_notional[q])[t])
}

/// The largest hazard multiplier the model allows (hazards are at most 10 per year), at most
/// 1000.
fn max_multiplier(p: &Portfolio) -> f64 {
    let h = p.operators.iter().map(|o| o.hazard).fold(0.0, f64::max);
    if h > 0.0 {
        (10.0 / h).min(1000.0)
    } else {
        1000.0
    }
}

/// The smallest hazard multiplier in [1, `cap`] at which `hit` holds: a doubling grid, then
/// [`MC_STEPS`] bisections in log space.
fn hazard_break(cap: f64, mut hit: impl FnMut(f64) -> Result<bool>) -> Result<Option<f64>> {
    if hit(1.0)? {
        return Ok(Some(1.0));
    }
    let mut lo = 1.0;
    let mut hi = 2.0_f64.min(cap);
    while !hit(hi)? {
        if hi >= cap {
            return Ok(None);
        }
        lo = hi;
        hi = (hi * 2.0).min(cap);
    }
    for _ in 0..MC_STEPS {
        let mid = (lo * hi).sqrt();
        if hit(mid)? {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    Ok(Some(hi))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PortfolioInput;

    fn spec() -> RunSpec {
        let p = std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../data/portfolios/sample.toml"
        ));
        RunSpec::new(PortfolioInput::from_file(p).unwrap(), 200, 4)
    }

    fn defaults_at(spec: &RunSpec, deal: &str, shock_pct: f64) -> bool {
        let base = spec.portfolio.portfolio();
        let d = base.deals.iter().position(|x| x.id == deal).unwrap();
        let p = scenario(1.0 + shock_pct / 100.0, 1.0)
            .apply(base, "t")
            .unwrap();
        let bc = base_case(&p).unwrap();
        bc.deals[d].iter().any(|m| m.flows.default_kind.is_some())
    }

    #[test]
    fn a_deals_break_even_shock_is_where_its_base_case_starts_to_default() {
        let spec = spec();
        let b = break_evens(&spec, "GPU-ABS-1", 1.0).unwrap();
        assert_eq!(
            b.deals.len(),
            spec.portfolio.portfolio().pools[0].deal_ids.len()
        );
        assert_eq!(b.tranches.len(), 3);
        let hit: Vec<_> = b
            .deals
            .iter()
            .filter_map(|d| d.price_shock_default_pct.map(|s| (d.deal.as_str(), s)))
            .collect();
        assert!(!hit.is_empty());
        for (deal, s) in hit {
            assert!(defaults_at(&spec, deal, s), "{deal} at {s}");
            assert!(!defaults_at(&spec, deal, s + 0.02), "{deal} at {s} + 0.02");
        }
        let e = b.tranches[2].hazard_multiplier_el.unwrap();
        assert!(e >= 1.0);
        let err = break_evens(&spec, "NOPE", 1.0).unwrap_err().to_string();
        assert!(err.contains("NOPE") && err.contains("pool"), "{err}");
    }
}
