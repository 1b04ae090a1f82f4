//! Lowering of a validated engine [`Portfolio`] into a flat [`SimPlan`] (structure of arrays,
//! f64): the stochastic model's parameters (MODEL.md §1, §2, §5, §7) and the engine's
//! [`CashflowPlan<f64>`] for the cash flows (§3, §4, §6), which the simulator drives unchanged.
//!
//! This is the one place where `Decimal` terms become `f64` for the Monte Carlo hot loop.

use crate::error::{Result, SimError};
use gaib_engine::{
    stream_id, validate, Amount, CashflowPlan, DiscountCurve, Portfolio, SYSTEMATIC_FACTOR,
};
use nalgebra::DMatrix;

/// Months per year of the model grid (dt = 1/12).
pub const MONTHS_PER_YEAR: f64 = 12.0;
/// Days per model month, for the vault's withdrawal cycles (365/12).
pub const DAYS_PER_MONTH: f64 = 365.0 / 12.0;
/// Largest number of price jumps drawn per class per month (the Poisson tail beyond it is
/// assigned to this count; with intensity ≤ 100/yr, P(N > 64 in a month) < 1e-34).
pub const MAX_JUMPS_PER_MONTH: u32 = 64;

/// Per GPU class, structure of arrays (index = class index in the portfolio).
#[derive(Debug, Clone, Default)]
pub struct ClassArrays {
    /// Stream id of `class:<id>`.
    pub stream: Vec<u32>,
    /// OU decay per step e^{−kappa·dt}.
    pub ou_decay: Vec<f64>,
    /// OU shock scale sigma·sqrt((1 − e^{−2·kappa·dt})/(2·kappa)) (sigma·sqrt(dt) at kappa = 0).
    pub ou_scale: Vec<f64>,
    /// Poisson mean of jumps per step: jump_intensity·dt.
    pub jump_rate_per_step: Vec<f64>,
    /// Mean log jump size.
    pub jump_mean: Vec<f64>,
    /// Std dev of the log jump size.
    pub jump_std: Vec<f64>,
}

/// Per fleet, structure of arrays (index = fleet index).
#[derive(Debug, Clone, Default)]
pub struct FleetArrays {
    /// Stream id of `fleet:<id>`.
    pub stream: Vec<u32>,
    /// GPU class index.
    pub class: Vec<usize>,
    /// Y_f(0) = logit(utilization0).
    pub y0: Vec<f64>,
    /// e^{−kappa_u·dt}.
    pub decay: Vec<f64>,
    /// logit(utilization_mean)·(1 − e^{−kappa_u·dt}).
    pub pull: Vec<f64>,
    /// sigma_u·sqrt((1 − e^{−2·kappa_u·dt})/(2·kappa_u)) (sigma_u·sqrt(dt) at kappa_u = 0).
    pub scale: Vec<f64>,
    /// sqrt(rho_u).
    pub load_price: Vec<f64>,
    /// sqrt(1 − rho_u).
    pub load_own: Vec<f64>,
}

/// Per operator, structure of arrays.
#[derive(Debug, Clone, Default)]
pub struct OperatorArrays {
    /// Stream id of `operator:<id>`.
    pub stream: Vec<u32>,
    /// Default hazard h_o, per year.
    pub hazard: Vec<f64>,
}

/// The vault's terms in f64 (MODEL.md §7).
#[derive(Debug, Clone)]
pub struct VaultPlan {
    /// Vault id.
    pub id: String,
    /// sAID shares at t = 0.
    pub shares0: f64,
    /// Liquidity buffer at t = 0, USD.
    pub buffer0: f64,
    /// Buffer yield per month: tbill_rate / 12.
    pub tbill_monthly: f64,
    /// Management fee per month as a fraction of staking NAV: bps / 1e4 / 12.
    pub mgmt_fee_monthly: f64,
    /// Performance fee, fraction of financing income (interest, rev-share income, kicker).
    pub performance_fee: f64,
    /// Deals held whole (indices).
    pub deals: Vec<usize>,
    /// Tranche holdings: (pool index, tranche index, fraction held).
    pub holdings: Vec<(usize, usize, f64)>,
    /// Fraction of (unqueued) shares requesting redemption each cycle.
    pub redemption_fraction: f64,
    /// Per withdrawal cycle n (index n−1): the fraction requesting redemption in that cycle
    /// (`redemption_fraction`, or the vault's `redemption_schedule` entry for n).
    pub redemption_by_cycle: Vec<f64>,
    /// For each withdrawal cycle n = 1.. that ends within the horizon: the month k whose
    /// interval (t_{k−1}, t_k] holds its end day n·cycle_days (months of 365/12 days).
    pub cycle_end_month: Vec<u32>,
    /// Month of the NAV horizon (ceil(horizon_days / (365/12)), clamped to [1, K]).
    pub horizon_month: u32,
    /// NAV at t = 0, USD.
    pub nav0: f64,
}

/// A portfolio lowered for simulation.
#[derive(Debug, Clone)]
pub struct SimPlan {
    /// Portfolio id.
    pub portfolio_id: String,
    /// Horizon K, months.
    pub months: u32,
    /// The engine's cash-flow machine in f64.
    pub flow: CashflowPlan<f64>,
    /// GPU classes.
    pub classes: ClassArrays,
    /// Lower Cholesky factor L of the class correlation, row-major C×C.
    pub chol: Vec<f64>,
    /// Whether `chol` is the identity (skips the multiply).
    pub chol_identity: bool,
    /// ln P̄_c(t_k) + S_c(t_k) at index (k−1)·C + c: log trend price plus scheduled shocks.
    pub log_trend_shock: Vec<f64>,
    /// ln P̄_c(t_k) at index (k−1)·C + c.
    pub log_trend: Vec<f64>,
    /// 1 / P̄_c(t_k) at index (k−1)·C + c: P/P̄ = P_c(t_k)·inv_trend (USD per GPU-hour)⁻¹.
    pub inv_trend: Vec<f64>,
    /// Fleets.
    pub fleets: FleetArrays,
    /// Operators.
    pub operators: OperatorArrays,
    /// sqrt(rho) of the copula.
    pub copula_load_systematic: f64,
    /// sqrt(1 − rho) of the copula.
    pub copula_load_own: f64,
    /// Stream id of `systematic:M`.
    pub systematic_stream: u32,
    /// Deal ids (file order).
    pub deal_ids: Vec<String>,
    /// Funded amount per deal, USD.
    pub deal_notional: Vec<f64>,
    /// Discount spread per deal, bps.
    pub deal_spread_bps: Vec<f64>,
    /// Discount factor of deal d at month k: index d·K + (k−1).
    pub deal_df: Vec<f64>,
    /// Per pool, per tranche: `<pool>/<tranche>` ids.
    pub tranche_ids: Vec<Vec<String>>,
    /// Per pool, per tranche: original balance, USD.
    pub tranche_notional: Vec<Vec<f64>>,
    /// Per pool, per tranche: discount spread, bps.
    pub tranche_spread_bps: Vec<Vec<f64>>,
    /// Per pool, per tranche: discount factor at month k at index (k−1).
    pub tranche_df: Vec<Vec<Vec<f64>>>,
    /// Per deal: liquidation haircut of its fleet (for the collateral ratio).
    pub deal_haircut: Vec<f64>,
    /// Σ funded over all deals, USD.
    pub funded_total: f64,
    /// The vault, if any.
    pub vault: Option<VaultPlan>,
}

fn ou_scale(sigma: f64, kappa: f64, dt: f64) -> f64 {
    if kappa * dt < 1e-12 {
        sigma * dt.sqrt()
    } else {
        sigma * (-(-2.0 * kappa * dt).exp_m1() / (2.0 * kappa)).sqrt()
    }
}

fn logit(u: f64) -> f64 {
    (u / (1.0 - u)).ln()
}

/// Lowers a portfolio. Validates it again with the engine (cheap) and fails on a correlation
/// matrix that is not positive definite.
pub fn lower(p: &Portfolio) -> Result<SimPlan> {
    validate(p, &[])?;
    let dt = 1.0 / MONTHS_PER_YEAR;
    let flow = CashflowPlan::<f64>::new(p);
    let k_max = flow.horizon_months;
    let n_classes = p.gpu_classes.len();

    let mut classes = ClassArrays::default();
    for c in &p.gpu_classes {
        classes.stream.push(stream_id(&format!("class:{}", c.id)));
        classes.ou_decay.push((-c.kappa * dt).exp());
        classes.ou_scale.push(ou_scale(c.sigma, c.kappa, dt));
        classes.jump_rate_per_step.push(c.jump_intensity * dt);
        classes.jump_mean.push(c.jump_mean);
        classes.jump_std.push(c.jump_std);
    }

    let (chol, chol_identity) = match &p.market.correlation {
        None => (identity(n_classes), true),
        Some(m) => {
            let mat = DMatrix::from_fn(n_classes, n_classes, |i, j| m[i][j]);
            let l = mat.cholesky().ok_or_else(|| SimError::Model {
                field: "market.correlation".into(),
                reason: "not symmetric positive definite (Cholesky failed)".into(),
            })?;
            let l = l.l();
            let flat: Vec<f64> = (0..n_classes)
                .flat_map(|i| (0..n_classes).map(move |j| (i, j)))
                .map(|(i, j)| l[(i, j)])
                .collect();
            let id = flat == identity(n_classes);
            (flat, id)
        }
    };

    let mut log_trend = Vec::with_capacity(k_max as usize * n_classes);
    let mut log_trend_shock = Vec::with_capacity(k_max as usize * n_classes);
    for k in 1..=k_max {
        let t = f64::from(k) * dt;
        for c in &p.gpu_classes {
            let s: f64 = c
                .shocks
                .iter()
                .filter(|s| s.month <= k)
                .map(|s| s.log_size)
                .sum();
            let lt = c.price0_per_gpu_hour.ln() + c.drift * t;
            log_trend.push(lt);
            log_trend_shock.push(lt + s);
        }
    }

    let mut fleets = FleetArrays::default();
    for (i, f) in p.fleets.iter().enumerate() {
        let a = (-f.utilization_kappa * dt).exp();
        fleets.stream.push(stream_id(&format!("fleet:{}", f.id)));
        fleets.class.push(flow.fleets[i].class);
        fleets.y0.push(logit(f.utilization0));
        fleets.decay.push(a);
        fleets.pull.push(logit(f.utilization_mean) * (1.0 - a));
        fleets
            .scale
            .push(ou_scale(f.utilization_sigma, f.utilization_kappa, dt));
        let rho = f.utilization_price_loading.clamp(0.0, 1.0);
        fleets.load_price.push(rho.sqrt());
        fleets.load_own.push((1.0 - rho).sqrt());
    }

    let mut operators = OperatorArrays::default();
    for o in &p.operators {
        operators
            .stream
            .push(stream_id(&format!("operator:{}", o.id)));
        operators.hazard.push(o.hazard.max(0.0));
    }
    let rho = p.market.asset_correlation.clamp(0.0, 1.0);

    let curve = DiscountCurve::new(&p.market.discount_curve);
    let dfs = |spread: f64| -> Vec<f64> {
        (1..=k_max)
            .map(|k| curve.discount_factor(f64::from(k) * dt, spread))
            .collect()
    };
    let deal_notional: Vec<f64> = flow.deals.iter().map(|d| d.funded().to_f64()).collect();
    let deal_spread_bps: Vec<f64> = p.deals.iter().map(|d| d.discount_spread_bps).collect();
    let deal_df: Vec<f64> = deal_spread_bps.iter().flat_map(|&s| dfs(s)).collect();
    let tranche_ids = p
        .pools
        .iter()
        .map(|q| {
            q.tranches
                .iter()
                .map(|t| format!("{}/{}", q.id, t.id))
                .collect()
        })
        .collect();
    let tranche_notional: Vec<Vec<f64>> = p
        .pools
        .iter()
        .map(|q| {
            q.tranches
                .iter()
                .map(|t| <f64 as Amount>::from_decimal(t.balance))
                .collect()
        })
        .collect();
    let tranche_spread_bps: Vec<Vec<f64>> = p
        .pools
        .iter()
        .map(|q| q.tranches.iter().map(|t| t.discount_spread_bps).collect())
        .collect();
    let tranche_df = tranche_spread_bps
        .iter()
        .map(|v| v.iter().map(|&s| dfs(s)).collect())
        .collect();
    let deal_haircut = flow
        .deal_fleet
        .iter()
        .map(|&f| flow.fleets[f].liquidation_haircut)
        .collect();
    let funded_total = deal_notional.iter().sum();

    let vault = p.vault.as_ref().map(|v| {
        let deals: Vec<usize> = v
            .deal_ids
            .iter()
            .filter_map(|id| p.deal_index(id))
            .collect();
        let holdings: Vec<(usize, usize, f64)> = v
            .holdings
            .iter()
            .filter_map(|h| {
                let q = p.pool_index(&h.pool_id)?;
                let t = p.pools[q]
                    .tranches
                    .iter()
                    .position(|t| t.id == h.tranche_id)?;
                Some((q, t, h.fraction.to_f64()))
            })
            .collect();
        let cycle_days = f64::from(v.withdrawal_cycle_days.max(1));
        let mut cycle_end_month = Vec::new();
        for n in 1.. {
            let m = (f64::from(n) * cycle_days / DAYS_PER_MONTH - 1e-9)
                .ceil()
                .max(1.0);
            if m > f64::from(k_max) {
                break;
            }
            cycle_end_month.push(m as u32);
        }
        let horizon_days = f64::from(v.horizon_days.unwrap_or(v.withdrawal_cycle_days));
        let horizon_month =
            ((horizon_days / DAYS_PER_MONTH - 1e-9).ceil() as u32).clamp(1, k_max.max(1));
        let buffer0 = v.liquidity_buffer.to_f64();
        let mut nav0 = buffer0;
        for &d in &deals {
            nav0 += deal_notional[d];
        }
        for &(q, t, frac) in &holdings {
            let pool_value: f64 = flow.pools[q].deals.iter().map(|&d| deal_notional[d]).sum();
            let balances: Vec<f64> = tranche_notional[q].clone();
            nav0 += frac * tranche_mark(&balances, pool_value, t);
        }
        VaultPlan {
            id: v.id.clone(),
            shares0: v.shares.to_f64(),
            buffer0,
            tbill_monthly: v.tbill_rate.to_f64() / MONTHS_PER_YEAR,
            mgmt_fee_monthly: v.management_fee_bps.to_f64() * 1e-4 / MONTHS_PER_YEAR,
            performance_fee: v.performance_fee.to_f64(),
            deals,
            holdings,
            redemption_fraction: v.redemption_requests.to_f64(),
            redemption_by_cycle: (1..=cycle_end_month.len() as u32)
                .map(|n| {
                    v.redemption_schedule
                        .iter()
                        .find(|r| r.cycle == n)
                        .map_or(v.redemption_requests, |r| r.fraction)
                        .to_f64()
                })
                .collect(),
            cycle_end_month,
            horizon_month,
            nav0,
        }
    });

    Ok(SimPlan {
        portfolio_id: p.portfolio.id.clone(),
        months: k_max,
        classes,
        chol,
        chol_identity,
        log_trend_shock,
        inv_trend: log_trend.iter().map(|lt| (-lt).exp()).collect(),
        log_trend,
        fleets,
        operators,
        copula_load_systematic: rho.sqrt(),
        copula_load_own: (1.0 - rho).sqrt(),
        systematic_stream: stream_id(SYSTEMATIC_FACTOR),
        deal_ids: p.deals.iter().map(|d| d.id.clone()).collect(),
        deal_notional,
        deal_spread_bps,
        deal_df,
        tranche_ids,
        tranche_notional,
        tranche_spread_bps,
        tranche_df,
        deal_haircut,
        funded_total,
        vault,
        flow,
    })
}

/// Mark of tranche `t` of a pool whose assets are worth `pool_value`, allocating the value
/// sequentially down the capital structure: debt tranche j gets min(b_j, (V − Σ_{i<j} b_i)⁺),
/// the equity (last) tranche (V − Σ debt)⁺. `balances` are the tranches' outstanding balances
/// (the equity entry is ignored).
pub fn tranche_mark(balances: &[f64], pool_value: f64, t: usize) -> f64 {
    let eq = balances.len().saturating_sub(1);
    let above: f64 = balances[..t.min(eq)].iter().sum();
    let left = (pool_value - above).max(0.0);
    if t == eq {
        left
    } else {
        left.min(balances[t])
    }
}

fn identity(n: usize) -> Vec<f64> {
    (0..n * n)
        .map(|i| if i / n == i % n { 1.0 } else { 0.0 })
        .collect()
}

impl SimPlan {
    /// Number of GPU classes.
    pub fn n_classes(&self) -> usize {
        self.classes.stream.len()
    }

    /// Number of deals.
    pub fn n_deals(&self) -> usize {
        self.deal_ids.len()
    }

    /// Deal-steps per path: deals × months (the throughput unit).
    pub fn deal_steps_per_path(&self) -> u64 {
        self.n_deals() as u64 * u64::from(self.months)
    }
}
