//! The deterministic base case: every stochastic term at its central value and no credit
//! defaults, cash flows booked in `Decimal`.
//!
//! "Central value" means the OU deviation X = 0, no jumps (J = 0), utilization shocks W = 0
//! (so logit utilization reverts deterministically from `utilization0` to
//! `utilization_mean`), scheduled shocks S applied. This is the path a simulation with
//! sigma = jumps = 0 and hazard = 0 follows on every path. Payment and refinancing defaults can
//! still happen if a deal's cash flows do not cover it.

use crate::deal::{DealFlows, DefaultKind};
use crate::error::Result;
use crate::portfolio::Portfolio;
use crate::runner::{CashflowPlan, FleetMonth, MarketMonth};
use crate::waterfall::{PoolCollections, TrancheFlow, WaterfallMonth};
use rust_decimal::Decimal;

/// The deterministic market path: per month, prices, price/trend and utilization.
#[derive(Debug, Clone)]
pub struct MeanPath {
    /// `price[k-1][c]`: P_c(t_k), USD per GPU-hour.
    pub price: Vec<Vec<f64>>,
    /// `price_over_trend[k-1][c]`: e^{S_c(t_k)}.
    pub price_over_trend: Vec<Vec<f64>>,
    /// `utilization[k-1][f]`.
    pub utilization: Vec<Vec<f64>>,
}

fn logit(u: f64) -> f64 {
    (u / (1.0 - u)).ln()
}

/// Logistic function 1 / (1 + e^{-y}).
pub fn logistic(y: f64) -> f64 {
    1.0 / (1.0 + (-y).exp())
}

/// Builds the deterministic market path of a validated portfolio.
pub fn mean_path(p: &Portfolio) -> MeanPath {
    let k_max = p.horizon_months();
    let dt = 1.0 / 12.0;
    let mut out = MeanPath {
        price: Vec::with_capacity(k_max as usize),
        price_over_trend: Vec::with_capacity(k_max as usize),
        utilization: Vec::with_capacity(k_max as usize),
    };
    let mut y: Vec<f64> = p.fleets.iter().map(|f| logit(f.utilization0)).collect();
    for k in 1..=k_max {
        let t = f64::from(k) * dt;
        let mut price = Vec::with_capacity(p.gpu_classes.len());
        let mut ratio = Vec::with_capacity(p.gpu_classes.len());
        for c in &p.gpu_classes {
            let s = c.shock_log_sum(k);
            price.push(c.price0_per_gpu_hour * (c.drift * t + s).exp());
            ratio.push(s.exp());
        }
        let mut util = Vec::with_capacity(p.fleets.len());
        for (i, f) in p.fleets.iter().enumerate() {
            let a = (-f.utilization_kappa * dt).exp();
            y[i] = y[i] * a + logit(f.utilization_mean) * (1.0 - a);
            util.push(logistic(y[i]));
        }
        out.price.push(price);
        out.price_over_trend.push(ratio);
        out.utilization.push(util);
    }
    out
}

/// One month of a deal's base-case schedule.
#[derive(Debug, Clone, PartialEq)]
pub struct DealMonth {
    /// Month k (1-based).
    pub month: u32,
    /// The fleet's revenue, opex, NOI and hardware value.
    pub fleet: FleetMonth<Decimal>,
    /// The deal's flows.
    pub flows: DealFlows<Decimal>,
    /// DSRA balance at month end, USD.
    pub dsra_end: Decimal,
    /// Loss booked this month, USD.
    pub loss: Decimal,
}

/// One month of a pool's base-case waterfall.
#[derive(Debug, Clone, PartialEq)]
pub struct PoolMonth {
    /// Month k (1-based).
    pub month: u32,
    /// Collections.
    pub collections: PoolCollections<Decimal>,
    /// Fees and events.
    pub result: WaterfallMonth<Decimal>,
    /// Per tranche, in seniority order.
    pub tranches: Vec<TrancheFlow<Decimal>>,
}

/// The base-case schedules of a whole portfolio.
#[derive(Debug, Clone)]
pub struct BaseCase {
    /// Per deal (file order): monthly rows.
    pub deals: Vec<Vec<DealMonth>>,
    /// Per pool (file order): monthly rows.
    pub pools: Vec<Vec<PoolMonth>>,
    /// Per deal: default month and kind, if it defaulted.
    pub defaults: Vec<Option<(u32, DefaultKind)>>,
    /// Per derivative (file order): its settlement to the holder in month k at index k−1,
    /// USD (MODEL.md §10.3), on the trend path.
    pub derivatives: Vec<Vec<Decimal>>,
}

/// Runs the deterministic base case of a portfolio (validated first; errors name the field).
pub fn base_case(p: &Portfolio) -> Result<BaseCase> {
    let plan = CashflowPlan::<Decimal>::new(crate::Validated::new(p, &[])?);
    let path = mean_path(p);
    let mut state = plan.initial_state();
    let mut out = plan.new_output();
    let no_defaults = vec![false; p.operators.len()];
    let mut deals = vec![Vec::with_capacity(plan.horizon_months as usize); p.deals.len()];
    let mut pools = vec![Vec::with_capacity(plan.horizon_months as usize); p.pools.len()];
    let mut defaults = vec![None; p.deals.len()];
    let mut derivatives =
        vec![Vec::with_capacity(plan.horizon_months as usize); p.derivatives.len()];
    for k in 1..=plan.horizon_months {
        let i = (k - 1) as usize;
        let market = MarketMonth {
            price: &path.price[i],
            price_over_trend: &path.price_over_trend[i],
            utilization: &path.utilization[i],
            credit_default: &no_defaults,
        };
        plan.step(k, &market, &mut state, &mut out);
        for (d, rows) in deals.iter_mut().enumerate() {
            let flows = out.deals[d];
            if let Some(kind) = flows.default_kind {
                defaults[d] = Some((k, kind));
            }
            rows.push(DealMonth {
                month: k,
                fleet: out.fleets[plan.deal_fleet[d]],
                flows,
                dsra_end: state.deals[d].dsra,
                loss: out.losses[d],
            });
        }
        for (rows, &c) in derivatives.iter_mut().zip(&out.derivatives) {
            rows.push(c);
        }
        for (q, rows) in pools.iter_mut().enumerate() {
            rows.push(PoolMonth {
                month: k,
                collections: out.pool_collections[q],
                result: out.pool_months[q],
                tranches: out.tranches[q].clone(),
            });
        }
    }
    Ok(BaseCase {
        deals,
        pools,
        defaults,
        derivatives,
    })
}
