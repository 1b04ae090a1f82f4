//! Lowering of a validated engine [`Portfolio`] into a flat [`SimPlan`] (structure of arrays,
//! f64): the stochastic model's parameters (MODEL.md §1, §2, §5) and the engine's
//! [`CashflowPlan<f64>`] and [`VaultParams<f64>`] for the cash flows and the vault (§3, §4,
//! §6, §7), which the simulator drives unchanged.
//!
//! This is the one place where `Decimal` terms become `f64` for the Monte Carlo hot loop.

use crate::error::{Result, SimError};
use gaib_engine::{
    stream_id, Amount, CashflowPlan, DiscountCurve, Portfolio, Validated, VaultParams,
    SYSTEMATIC_FACTOR,
};
use nalgebra::DMatrix;

/// Months per year of the model grid (dt = 1/12).
pub const MONTHS_PER_YEAR: f64 = 12.0;
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
    /// The vault's terms (the engine's vault machine, MODEL.md §7), if any.
    pub vault: Option<VaultParams<f64>>,
    /// Vault NAV at t = 0, USD (0 without a vault).
    pub vault_nav0: f64,
    /// Derivatives (MODEL.md §10): ids, reference amounts, discount factors, premiums.
    pub derivatives: DerivativeArrays,
}

/// Per derivative, structure of arrays (index = derivative index in the portfolio); the
/// settlement itself is the engine's (`flow.derivatives`).
#[derive(Debug, Clone, Default)]
pub struct DerivativeArrays {
    /// Derivative ids (file order).
    pub ids: Vec<String>,
    /// The fleet each one hedges (its id), if it is a hedge.
    pub hedges: Vec<Option<String>>,
    /// Reference amount the statistics normalise by, USD (MODEL.md §10.5; > 0).
    pub reference_usd: Vec<f64>,
    /// Valuation spread over the discount curve, bps.
    pub spread_bps: Vec<f64>,
    /// s·premium: the holder's premium at t = 0 (+ paid by a long, − received by a short), USD.
    pub signed_premium_usd: Vec<f64>,
    /// Discount factor of derivative i at month k: index i·K + (k−1).
    pub df: Vec<f64>,
}

impl DerivativeArrays {
    /// Number of derivatives.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
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
    let flow = CashflowPlan::<f64>::new(Validated::new(p, &[])?);
    let dt = 1.0 / MONTHS_PER_YEAR;
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
            let s = c.shock_log_sum(k);
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

    let mut derivatives = DerivativeArrays::default();
    for d in &p.derivatives {
        let price0 = d
            .class_id
            .as_deref()
            .and_then(|c| p.gpu_classes.iter().find(|g| g.id == c))
            .map_or(0.0, |g| g.price0_per_gpu_hour);
        derivatives.ids.push(d.id.clone());
        derivatives.hedges.push(d.hedges.clone());
        derivatives.reference_usd.push(d.reference_usd(price0));
        derivatives.spread_bps.push(d.discount_spread_bps);
        derivatives
            .signed_premium_usd
            .push(d.sign() * <f64 as Amount>::from_decimal(d.premium_usd));
        derivatives.df.extend(dfs(d.discount_spread_bps));
    }

    let vault = VaultParams::new(p, &flow);
    let vault_nav0 = vault.as_ref().map_or(0.0, |v| v.nav0(&flow));

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
        vault_nav0,
        derivatives,
        flow,
    })
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

    /// Number of derivatives.
    pub fn n_derivatives(&self) -> usize {
        self.derivatives.len()
    }

    /// Deal-steps per path: deals × months (the throughput unit).
    pub fn deal_steps_per_path(&self) -> u64 {
        self.n_deals() as u64 * u64::from(self.months)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// `data/portfolios/sample.toml` lowered: the bundled sample the module tests run on.
    pub(crate) fn sample_plan() -> SimPlan {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/portfolios");
        let text = std::fs::read_to_string(dir.join("sample.toml")).unwrap();
        let p = gaib_engine::load_portfolio(&text, "sample.toml", |rel| {
            std::fs::read_to_string(dir.join(rel)).map_err(|e| e.to_string())
        })
        .unwrap()
        .portfolio;
        lower(&p).unwrap()
    }
}
