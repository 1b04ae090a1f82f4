//! Closed forms the simulation is checked against (each with its tolerance in the tests):
//! the level-payment annuity and the bullet loan on a flat curve, the Vasicek large
//! homogeneous pool (loss quantile and tranche expected loss), and the compute-price
//! references of the derivatives (MODEL.md §1): the expected index price E\[P_c(t_k)\], Black's
//! caplet and floorlet on the OU log-variance (jumps off), and a swap strip's fair fixed rate.
//!
//! The Vasicek tranche expected loss is an integral over the systematic factor M ~ N(0, 1);
//! it is computed with Gauss–Legendre quadrature ([`gauss_legendre`]) on \[−10, 10\], split at
//! the two kinks of the tranche payoff and into panels, which is exact to ~1e-12 here (the
//! mass beyond |M| = 10 is 1.5e-23).

use gaib_engine::{
    Amount, Decimal, Derivative, DerivativeKind, DiscountCurve, Fixing, GpuClass, Portfolio,
};
use statrs::distribution::{Continuous, ContinuousCDF, Normal};

fn std_normal() -> Normal {
    Normal::new(0.0, 1.0).expect("N(0,1) is valid")
}

/// Nodes and weights of the n-point Gauss–Legendre rule on \[−1, 1\] (Newton on P_n, tolerance
/// 1e-15). Integrates polynomials of degree ≤ 2n − 1 exactly.
pub fn gauss_legendre(n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut x = vec![0.0; n];
    let mut w = vec![0.0; n];
    for i in 0..n.div_ceil(2) {
        let mut z = (std::f64::consts::PI * (i as f64 + 0.75) / (n as f64 + 0.5)).cos();
        let mut dp = 0.0;
        for _ in 0..100 {
            let (mut p0, mut p1) = (1.0, z);
            for j in 2..=n {
                let p2 = ((2 * j - 1) as f64 * z * p1 - (j - 1) as f64 * p0) / j as f64;
                p0 = p1;
                p1 = p2;
            }
            let pn = if n == 1 { z } else { p1 };
            let pm = if n == 1 { 1.0 } else { p0 };
            dp = n as f64 * (z * pn - pm) / (z * z - 1.0);
            let dz = pn / dp;
            z -= dz;
            if dz.abs() < 1e-15 {
                break;
            }
        }
        x[i] = -z;
        x[n - 1 - i] = z;
        let wi = 2.0 / ((1.0 - z * z) * dp * dp);
        w[i] = wi;
        w[n - 1 - i] = wi;
    }
    (x, w)
}

/// Vasicek conditional default probability given the systematic factor M = m:
/// Φ((Φ⁻¹(p) − sqrt(rho)·m) / sqrt(1 − rho)), for 0 ≤ rho < 1.
pub fn conditional_pd(p: f64, rho: f64, m: f64) -> f64 {
    let n = std_normal();
    n.cdf((n.inverse_cdf(p) - rho.sqrt() * m) / (1.0 - rho).sqrt())
}

/// The q-quantile of the large-pool loss fraction lgd·Φ((Φ⁻¹(p) + sqrt(rho)·Φ⁻¹(q)) /
/// sqrt(1 − rho)) (Vasicek 2002): the portfolio VaR at confidence q, as a fraction.
pub fn large_pool_loss_quantile(p: f64, rho: f64, lgd: f64, q: f64) -> f64 {
    let n = std_normal();
    lgd * n.cdf((n.inverse_cdf(p) + rho.sqrt() * n.inverse_cdf(q)) / (1.0 - rho).sqrt())
}

/// Expected loss of the tranche \[a, d\] (attachment a < detachment d, fractions of the pool) of a
/// large homogeneous pool with default probability `p` (to the horizon), asset correlation `rho`
/// and loss given default `lgd`, as a fraction of the tranche:
/// E\[min((L − a)⁺, d − a)\] / (d − a), L = lgd·conditional_pd(p, rho, M), M ~ N(0, 1).
pub fn vasicek_tranche_el(p: f64, rho: f64, lgd: f64, a: f64, d: f64) -> f64 {
    let payoff = |l: f64| (l - a).clamp(0.0, d - a) / (d - a);
    if p <= 0.0 {
        return 0.0;
    }
    if rho <= 0.0 {
        return payoff(lgd * p);
    }
    if rho >= 1.0 {
        // All default together with probability p.
        return p * payoff(lgd);
    }
    let n = std_normal();
    // Kinks: the factor values where L crosses a and d (L is decreasing in M).
    let kink = |x: f64| -> Option<f64> {
        let u = x / lgd;
        (u > 0.0 && u < 1.0)
            .then(|| (n.inverse_cdf(p) - (1.0 - rho).sqrt() * n.inverse_cdf(u)) / rho.sqrt())
    };
    let mut cuts = vec![-10.0, 10.0];
    cuts.extend(
        [kink(a), kink(d)]
            .into_iter()
            .flatten()
            .filter(|m| m.abs() < 10.0),
    );
    cuts.sort_by(f64::total_cmp);
    let (x, w) = gauss_legendre(32);
    let mut total = 0.0;
    for seg in cuts.windows(2) {
        let panels = 16;
        let h = (seg[1] - seg[0]) / panels as f64;
        for j in 0..panels {
            let (lo, hi) = (seg[0] + j as f64 * h, seg[0] + (j + 1) as f64 * h);
            let (mid, half) = (0.5 * (lo + hi), 0.5 * (hi - lo));
            for (xi, wi) in x.iter().zip(&w) {
                let m = mid + half * xi;
                let l = lgd * conditional_pd(p, rho, m);
                total += wi * half * n.pdf(m) * payoff(l);
            }
        }
    }
    total
}

/// Price per unit of principal of a fixed-rate level-payment annuity: monthly payment
/// A = (r/12) / (1 − (1 + r/12)^−n) for n months, discounted on `curve` + `spread_bps`.
pub fn annuity_price(rate: f64, n_months: u32, curve: &DiscountCurve, spread_bps: f64) -> f64 {
    let i = rate / 12.0;
    let a = if i == 0.0 {
        1.0 / f64::from(n_months)
    } else {
        i / (1.0 - (1.0 + i).powi(-(n_months as i32)))
    };
    (1..=n_months)
        .map(|k| a * curve.discount_factor(f64::from(k) / 12.0, spread_bps))
        .sum()
}

/// Price per unit of principal of a fixed-rate bullet loan: interest r/12 monthly, principal at
/// month n, discounted on `curve` + `spread_bps`.
pub fn bullet_price(rate: f64, n_months: u32, curve: &DiscountCurve, spread_bps: f64) -> f64 {
    let coupons: f64 = (1..=n_months)
        .map(|k| rate / 12.0 * curve.discount_factor(f64::from(k) / 12.0, spread_bps))
        .sum();
    coupons + curve.discount_factor(f64::from(n_months) / 12.0, spread_bps)
}

/// Var X(t) of MODEL.md §1's OU deviation started at X(0) = 0, in (log price)²:
/// sigma²·(1 − e^{−2·kappa·t})/(2·kappa), and sigma²·t for kappa = 0 (Brownian) or
/// kappa·t below 1e-10. The monthly exact discretisation has this variance at every t_k.
pub fn ou_variance(kappa: f64, sigma: f64, t: f64) -> f64 {
    let kt = kappa * t;
    if kt < 1e-10 {
        sigma * sigma * t
    } else {
        sigma * sigma * (-(-2.0 * kt).exp_m1()) / (2.0 * kappa)
    }
}

/// S_c(t_k): the sum of `class`'s scheduled shocks' log sizes with `shock.month ≤ month`
/// (MODEL.md §1; a stress scenario's shocks are already in `class.shocks`).
pub fn shock_log_sum(class: &GpuClass, month: u32) -> f64 {
    class
        .shocks
        .iter()
        .filter(|s| s.month <= month)
        .map(|s| s.log_size)
        .sum()
}

/// The mean and variance of ln P_c(t_k) with the jumps off (`jump_intensity` ignored):
/// mean = ln P_c(0) + mu_c·t_k + S_c(t_k), variance = Var X(t_k); t_k = `month`/12 years.
/// ln P_c(t_k) is then normal, which is what [`caplet`] and [`floorlet`] price.
pub fn log_price_moments_without_jumps(class: &GpuClass, month: u32) -> (f64, f64) {
    let t = f64::from(month) / 12.0;
    (
        class.price0_per_gpu_hour.ln() + class.drift * t + shock_log_sum(class, month),
        ou_variance(class.kappa, class.sigma, t),
    )
}

/// E\[P_c(t_k)\] in USD per GPU-hour under MODEL.md §1 (OU, compound-Poisson jumps, scheduled
/// shocks), t_k = `month`/12 years:
///
/// ```text
/// E[P_c(t)] = P_c(0)·exp( mu·t + Var X(t)/2 + lambda·t·(e^{m + s²/2} − 1) + S_c(t) )
/// ```
///
/// (X and J independent; the monthly Poisson counts sum to a Poisson(lambda·t) count, and
/// E\[e^Y\] = e^{m + s²/2} for one jump Y ~ N(m, s²)). Month 0 is P_c(0).
pub fn expected_price(class: &GpuClass, month: u32) -> f64 {
    let t = f64::from(month) / 12.0;
    let (mean, var) = log_price_moments_without_jumps(class, month);
    let jump_mgf = (class.jump_mean + 0.5 * class.jump_std * class.jump_std).exp() - 1.0;
    (mean + 0.5 * var + class.jump_intensity * t * jump_mgf).exp()
}

/// Φ(x), the standard normal CDF, as erfc(−x/√2)/2 with musl's erfc (accurate to an ulp or
/// so; statrs 0.19's `Normal::cdf` is off by ~2e-11 near x = 0.77, too coarse for the
/// QuantLib-level Black checks).
pub fn norm_cdf(x: f64) -> f64 {
    0.5 * libm::erfc(-x / std::f64::consts::SQRT_2)
}

/// Black's formula on a lognormal underlying: (call, put) values per unit notional of
/// `discount`·E\[(P − K)⁺\] and `discount`·E\[(K − P)⁺\], where P is lognormal with mean
/// `forward` (= E\[P\] > 0) and `total_variance` = Var ln P ≥ 0, strike K = `strike` ≥ 0:
/// call = D·(F·Φ(d1) − K·Φ(d2)), put = D·(K·Φ(−d2) − F·Φ(−d1)),
/// d1 = (ln(F/K) + v/2)/√v, d2 = d1 − √v. At v = 0 or K = 0 the intrinsic values.
pub fn black(forward: f64, strike: f64, total_variance: f64, discount: f64) -> (f64, f64) {
    if total_variance <= 0.0 || strike <= 0.0 {
        return (
            discount * (forward - strike).max(0.0),
            discount * (strike - forward).max(0.0),
        );
    }
    let sd = total_variance.sqrt();
    let d1 = ((forward / strike).ln() + 0.5 * total_variance) / sd;
    let d2 = d1 - sd;
    (
        discount * (forward * norm_cdf(d1) - strike * norm_cdf(d2)),
        discount * (strike * norm_cdf(-d2) - forward * norm_cdf(-d1)),
    )
}

/// Why a closed form does not apply to an instrument (the reference is then omitted).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoClosedForm {
    /// The class's price has jumps (`jump_intensity` > 0): P_c(t) is a Poisson mixture of
    /// lognormals, and Black's formula does not price options on it.
    #[error("gpu class {class}: jump_intensity > 0 (Black's formula needs jumps off)")]
    Jumps {
        /// The GPU class id.
        class: String,
    },
    /// A cap or floor on the monthly-average fixing: the average of two lognormal grid
    /// prices is not lognormal.
    #[error("derivative {id}: an option on the average fixing (not lognormal)")]
    AverageFixing {
        /// The derivative id.
        id: String,
    },
    /// A revenue floor: revenue mixes the price with the fleet's utilization.
    #[error("derivative {id}: a revenue floor (revenue is price × utilization)")]
    RevenueFloor {
        /// The derivative id.
        id: String,
    },
    /// A term the closed form needs is missing or names no GPU class of the portfolio (a
    /// validated portfolio never has this).
    #[error("derivative {id}: {field} missing or unknown")]
    Terms {
        /// The derivative id.
        id: String,
        /// The field (`class_id`, `fixing`, `notional_gpu_hours_per_month`, ...).
        field: &'static str,
    },
}

impl NoClosedForm {
    /// A short reason for tables: `jumps`, `average fixing`, `revenue floor`, `terms`.
    pub fn short(&self) -> &'static str {
        match self {
            NoClosedForm::Jumps { .. } => "jumps",
            NoClosedForm::AverageFixing { .. } => "average fixing",
            NoClosedForm::RevenueFloor { .. } => "revenue floor",
            NoClosedForm::Terms { .. } => "terms",
        }
    }
}

/// A derivative's closed-form value (MODEL.md §10.5), to hold the simulation's E\[PV\] to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DerivativeReference {
    /// E\[PV\] to the holder at t = 0, USD: Σ_k DF(t_k)·E\[C_k\] − s·`premium_usd`, with DF on
    /// `discount_curve` + the derivative's `discount_spread_bps`. Exact but for the cent
    /// rounding of each settlement (at most half a cent a month).
    pub pv_usd: f64,
    /// The fixed rate at which a swap or forward is worth nothing before its premium, USD
    /// per GPU-hour: swap Σ DF(t_k)·E\[F_k\] / Σ DF(t_k); forward Σ E\[F_j\] / m (one payment,
    /// so the discount factor cancels). None for caps and floors.
    pub fair_strike_per_gpu_hour: Option<f64>,
}

/// E\[F_k\] of MODEL.md §10.2 for `class`: b·E\[P_c(t_k)\] (month end) or
/// b·½·(E\[P_c(t_{k−1})\] + E\[P_c(t_k)\]) (average), USD per GPU-hour.
pub fn expected_fixing(class: &GpuClass, fixing: Fixing, basis: f64, month: u32) -> f64 {
    match fixing {
        Fixing::MonthEnd => basis * expected_price(class, month),
        Fixing::Average => {
            basis
                * 0.5
                * (expected_price(class, month.saturating_sub(1)) + expected_price(class, month))
        }
    }
}

/// The closed-form value of derivative `d` of portfolio `p` (MODEL.md §10.5): swaps and
/// forwards/futures by E\[P_c(t_k)\] (any class, jumps included), month-end caps and floors
/// by Black's formula on the OU variance when the class has no jumps. Refused, with the
/// reason, for options on the average fixing, options with jumps, and revenue floors.
pub fn derivative_reference(
    p: &Portfolio,
    d: &Derivative,
) -> Result<DerivativeReference, NoClosedForm> {
    let terms = |field| NoClosedForm::Terms {
        id: d.id.clone(),
        field,
    };
    if d.kind == DerivativeKind::RevenueFloor {
        return Err(NoClosedForm::RevenueFloor { id: d.id.clone() });
    }
    let class_id = d.class_id.as_deref().ok_or_else(|| terms("class_id"))?;
    let class = p
        .gpu_classes
        .iter()
        .find(|c| c.id == class_id)
        .ok_or_else(|| terms("class_id"))?;
    let fixing = d.fixing.ok_or_else(|| terms("fixing"))?;
    let dec = |x: Option<Decimal>, field| x.map(Amount::to_f64).ok_or_else(|| terms(field));
    let n = dec(
        d.notional_gpu_hours_per_month,
        "notional_gpu_hours_per_month",
    )?;
    let k = dec(d.strike_per_gpu_hour, "strike_per_gpu_hour")?;
    let (s, b) = (d.sign(), d.basis());
    let premium = s * Amount::to_f64(d.premium_usd);
    let curve = DiscountCurve::new(&p.market.discount_curve);
    let df = |m: u32| curve.discount_factor(f64::from(m) / 12.0, d.discount_spread_bps);
    let months = d.start_month..=d.end_month;
    match d.kind {
        DerivativeKind::Swap => {
            let fix: Vec<f64> = months
                .clone()
                .map(|m| expected_fixing(class, fixing, b, m))
                .collect();
            let w: Vec<f64> = months.map(df).collect();
            let pv: f64 = fix.iter().zip(&w).map(|(f, w)| w * n * (f - k)).sum();
            Ok(DerivativeReference {
                pv_usd: s * pv - premium,
                fair_strike_per_gpu_hour: swap_fair_rate(&fix, &w),
            })
        }
        DerivativeKind::Forward | DerivativeKind::Future => {
            let m = f64::from(d.months());
            let sum: f64 = months.map(|j| expected_fixing(class, fixing, b, j)).sum();
            Ok(DerivativeReference {
                pv_usd: s * df(d.end_month) * n * (sum - m * k) - premium,
                fair_strike_per_gpu_hour: (m > 0.0).then(|| sum / m),
            })
        }
        DerivativeKind::Cap | DerivativeKind::Floor => {
            if fixing == Fixing::Average {
                return Err(NoClosedForm::AverageFixing { id: d.id.clone() });
            }
            // N·max(b·P − K, 0) = N·b·max(P − K/b, 0): Black on P with strike K/b.
            let mut pv = 0.0;
            for m in months {
                let one = if d.kind == DerivativeKind::Cap {
                    caplet(class, m, k / b, m, &curve, d.discount_spread_bps)?
                } else {
                    floorlet(class, m, k / b, m, &curve, d.discount_spread_bps)?
                };
                pv += n * b * one;
            }
            Ok(DerivativeReference {
                pv_usd: s * pv - premium,
                fair_strike_per_gpu_hour: None,
            })
        }
        DerivativeKind::RevenueFloor => Err(NoClosedForm::RevenueFloor { id: d.id.clone() }),
    }
}

/// The value at t = 0, USD per GPU-hour of notional, of one caplet on `class`'s index fixed
/// at month `month` (P_c(t_k) alone, a month-end fixing) with strike `strike` USD per GPU-hour,
/// paid at `pay_month` and discounted on `curve` + `spread_bps`: Black's call on ln P_c(t_k)
/// ~ N(mean, Var X(t_k)) ([`log_price_moments_without_jumps`]). Refused when the class has
/// jumps.
pub fn caplet(
    class: &GpuClass,
    month: u32,
    strike: f64,
    pay_month: u32,
    curve: &DiscountCurve,
    spread_bps: f64,
) -> Result<f64, NoClosedForm> {
    option_pair(class, month, strike, pay_month, curve, spread_bps).map(|(c, _)| c)
}

/// The floorlet of [`caplet`]: Black's put, USD per GPU-hour of notional.
pub fn floorlet(
    class: &GpuClass,
    month: u32,
    strike: f64,
    pay_month: u32,
    curve: &DiscountCurve,
    spread_bps: f64,
) -> Result<f64, NoClosedForm> {
    option_pair(class, month, strike, pay_month, curve, spread_bps).map(|(_, p)| p)
}

fn option_pair(
    class: &GpuClass,
    month: u32,
    strike: f64,
    pay_month: u32,
    curve: &DiscountCurve,
    spread_bps: f64,
) -> Result<(f64, f64), NoClosedForm> {
    if class.jump_intensity > 0.0 {
        return Err(NoClosedForm::Jumps {
            class: class.id.clone(),
        });
    }
    let (mean, var) = log_price_moments_without_jumps(class, month);
    let df = curve.discount_factor(f64::from(pay_month) / 12.0, spread_bps);
    Ok(black((mean + 0.5 * var).exp(), strike, var, df))
}

/// The fair fixed rate of a swap strip, USD per GPU-hour: the K with
/// Σ_k w_k·(F_k − K) = 0, i.e. K = Σ w_k·F_k / Σ w_k, where per settlement k `F_k` is the
/// expected floating fixing (USD per GPU-hour) and `w_k` = notional GPU-hours × discount
/// factor of its payment date. None when the weights sum to zero (no settlement), or when
/// the two lists differ in length.
pub fn swap_fair_rate(expected_fixings: &[f64], weights: &[f64]) -> Option<f64> {
    if expected_fixings.len() != weights.len() {
        return None;
    }
    let w: f64 = weights.iter().sum();
    (w > 0.0).then(|| {
        expected_fixings
            .iter()
            .zip(weights)
            .map(|(f, w)| f * w)
            .sum::<f64>()
            / w
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gauss_legendre_integrates_polynomials_exactly() {
        let (x, w) = gauss_legendre(8);
        assert!((w.iter().sum::<f64>() - 2.0).abs() < 1e-14);
        // ∫_{-1}^{1} x^14 dx = 2/15 (degree 14 ≤ 2·8 − 1).
        let s: f64 = x.iter().zip(&w).map(|(x, w)| w * x.powi(14)).sum();
        assert!((s - 2.0 / 15.0).abs() < 1e-14, "{s}");
    }

    #[test]
    fn whole_pool_tranche_loses_lgd_times_pd() {
        // [0, 1] takes every loss: EL = lgd·p regardless of rho.
        for rho in [0.0, 0.1, 0.3, 0.6, 0.95] {
            let el = vasicek_tranche_el(0.05, rho, 0.6, 0.0, 1.0);
            assert!((el - 0.03).abs() < 1e-10, "rho {rho}: {el}");
        }
    }

    #[test]
    fn tranche_losses_add_up_and_fall_with_seniority() {
        let (p, rho, lgd) = (0.05, 0.3, 0.6);
        let cuts = [0.0, 0.03, 0.07, 0.15, 1.0];
        let mut total = 0.0;
        let mut last = f64::INFINITY;
        for w in cuts.windows(2) {
            let el = vasicek_tranche_el(p, rho, lgd, w[0], w[1]);
            assert!(el < last);
            last = el;
            total += el * (w[1] - w[0]);
        }
        assert!((total - lgd * p).abs() < 1e-10, "{total}");
    }

    #[test]
    fn equity_el_matches_quantile_integral() {
        // E[min(L, d)] = ∫_0^d P(L > x) dx, with P(L > x) from the quantile function.
        let (p, rho, lgd, d) = (0.05, 0.3, 0.6, 0.03);
        let n = 20_000;
        let mut s = 0.0;
        for i in 0..n {
            let x = (i as f64 + 0.5) / n as f64 * d;
            // P(L > x) = 1 − q where quantile(q) = x; invert by bisection.
            let (mut lo, mut hi) = (1e-12, 1.0 - 1e-12);
            for _ in 0..80 {
                let mid = 0.5 * (lo + hi);
                if large_pool_loss_quantile(p, rho, lgd, mid) < x {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            s += (1.0 - lo) * d / n as f64;
        }
        let el = vasicek_tranche_el(p, rho, lgd, 0.0, d) * d;
        assert!((el - s).abs() < 1e-6, "{el} vs {s}");
    }

    #[test]
    fn annuity_at_its_own_rate_is_par() {
        // Discounting at the monthly-compounded loan rate gives par: continuous rate
        // 12·ln(1 + r/12).
        let r: f64 = 0.12;
        let curve = DiscountCurve::flat(12.0 * (1.0 + r / 12.0).ln());
        assert!((annuity_price(r, 48, &curve, 0.0) - 1.0).abs() < 1e-12);
        assert!((bullet_price(r, 48, &curve, 0.0) - 1.0).abs() < 1e-12);
    }

    /// A class with the given OU and jump parameters and `shocks`.
    fn class(kappa: f64, sigma: f64, jumps: (f64, f64, f64), shocks: &[(u32, f64)]) -> GpuClass {
        GpuClass {
            id: "H100".into(),
            price0_per_gpu_hour: 2.0,
            drift: -0.3,
            kappa,
            sigma,
            jump_intensity: jumps.0,
            jump_mean: jumps.1,
            jump_std: jumps.2,
            shocks: shocks
                .iter()
                .map(|&(month, log_size)| gaib_engine::PriceShock { month, log_size })
                .collect(),
            useful_life_years: 5.0,
            residual_floor: 0.1,
        }
    }

    #[test]
    fn expected_price_by_hand() {
        // P0 = 2, mu = −0.3, kappa = 1.5, sigma = 0.4, lambda = 0.5, m = −0.1, s = 0.2,
        // a −0.2 shock at month 12, month 18 (t = 1.5):
        // Var X = 0.16·(1 − e^{−4.5})/3 = 0.0527408535...,
        // E[P] = 2·exp(−0.45 + 0.0263704 + 0.75·(e^{−0.08} − 1) − 0.2) = 1.01192541454720.
        let c = class(1.5, 0.4, (0.5, -0.1, 0.2), &[(12, -0.2), (19, -5.0)]);
        assert!((ou_variance(1.5, 0.4, 1.5) - 0.05274085351796042).abs() < 1e-15);
        assert!((expected_price(&c, 18) - 1.0119254145471999).abs() < 1e-13);
        assert_eq!(expected_price(&c, 0), 2.0);
        // Brownian (kappa = 0), no jumps, no shock yet: 2·exp(−0.3·0.5 + 0.16·0.5/2).
        let b = class(0.0, 0.4, (0.0, 0.0, 0.0), &[(12, -0.2)]);
        assert!((expected_price(&b, 6) - 2.0 * (-0.15f64 + 0.04).exp()).abs() < 1e-14);
    }

    #[test]
    fn expected_price_matches_a_sum_over_jump_counts() {
        // E[e^J] by summing the Poisson(lambda·t) count's probabilities against
        // E[e^{ΣY} | n] = e^{n·(m + s²/2)}: an independent route to the compensator.
        let c = class(0.8, 0.3, (1.2, -0.15, 0.25), &[]);
        let (month, t) = (30, 2.5f64);
        let (lt, g) = (1.2 * t, -0.15 + 0.5 * 0.25f64 * 0.25);
        let (mut pn, mut sum) = ((-lt).exp(), 0.0);
        for n in 0..80 {
            sum += pn * (g * f64::from(n)).exp();
            pn *= lt / f64::from(n + 1);
        }
        let (mean, var) = log_price_moments_without_jumps(&c, month);
        let direct = (mean + 0.5 * var).exp() * sum;
        assert!((expected_price(&c, month) / direct - 1.0).abs() < 1e-13);
    }

    #[test]
    fn norm_cdf_to_the_last_digits() {
        // Φ(0.7692626281060315) = 0.779131290942668975763… (40-digit series for erf).
        assert!((norm_cdf(0.7692626281060315) - 0.779_131_290_942_669).abs() < 2e-16);
        assert_eq!(norm_cdf(0.0), 0.5);
        // Φ(−8) = 6.22096057427178e-16: the tail keeps its relative accuracy.
        assert!((norm_cdf(-8.0) / 6.220_960_574_271_784e-16 - 1.0).abs() < 1e-13);
    }

    #[test]
    fn black_reproduces_hull_example() {
        // Hull, Options, Futures and Other Derivatives, Example 15.6 (S0 = 42, K = 40,
        // r = 10 %, sigma = 20 %, T = 0.5): c = 4.76, p = 0.81. As Black: F = S0·e^{rT},
        // D = e^{−rT}, v = sigma²·T; values to the digits evaluated by hand from the formula.
        let (r, t) = (0.1f64, 0.5);
        let (c, p) = black(42.0 * (r * t).exp(), 40.0, 0.04 * t, (-r * t).exp());
        assert!((c - 4.759422392871536).abs() < 1e-12, "{c}");
        assert!((p - 0.8085993729000926).abs() < 1e-12, "{p}");
        // Put–call parity: c − p = D·(F − K).
        assert!((c - p - (42.0 - 40.0 * (-r * t).exp())).abs() < 1e-12);
        // No variance, or strike 0: intrinsic.
        assert_eq!(black(2.0, 1.5, 0.0, 0.9), (0.9 * 0.5, 0.0));
        assert_eq!(black(2.0, 0.0, 0.1, 1.0), (2.0, 0.0));
    }

    #[test]
    fn caplet_and_floorlet_on_the_ou_variance() {
        let c = class(1.5, 0.4, (0.0, 0.0, 0.0), &[(12, -0.2)]);
        let curve = DiscountCurve::flat(0.05);
        // Month 18, strike 1.1, paid month 19: F = 2·exp(−0.45 − 0.2 + V/2), V = 0.05274085.
        let v = 0.05274085351796042;
        let f = 2.0 * (-0.65f64 + v / 2.0).exp();
        let d = (-0.05f64 * 19.0 / 12.0).exp();
        let (call, put) = black(f, 1.1, v, d);
        let cap = caplet(&c, 18, 1.1, 19, &curve, 0.0).unwrap();
        let floor = floorlet(&c, 18, 1.1, 19, &curve, 0.0).unwrap();
        assert!((cap - call).abs() < 1e-14 && (floor - put).abs() < 1e-14);
        // The forward of the caplet is the expected price; parity against it.
        assert!((cap - floor - d * (expected_price(&c, 18) - 1.1)).abs() < 1e-13);
        // By hand: F = 1.0719909359, d1 = 0.0025161977, d2 = −0.2271375711, D = 0.9238859306:
        // caplet = D·(F·Φ(d1) − K·Φ(d2)) = 0.0793593317, floorlet = 0.1052365119.
        assert!((cap - 0.07935933169351778).abs() < 1e-12, "{cap}");
        assert!((floor - 0.1052365119224562).abs() < 1e-12, "{floor}");
        // And against a direct numerical integral of the payoff over the lognormal density
        // (midpoint rule on ±12 sd).
        let (mean, var) = log_price_moments_without_jumps(&c, 18);
        let (n, sd) = (200_000, var.sqrt());
        let mut integral = 0.0;
        for i in 0..n {
            let z = -12.0 + 24.0 * (i as f64 + 0.5) / n as f64;
            let p = (mean + sd * z).exp();
            integral += (p - 1.1).max(0.0) * (-0.5 * z * z).exp()
                / (2.0 * std::f64::consts::PI).sqrt()
                * 24.0
                / n as f64;
        }
        assert!(
            (cap - d * integral).abs() < 1e-10,
            "{cap} vs {}",
            d * integral
        );
        // With jumps there is no closed form.
        let j = class(1.5, 0.4, (0.5, -0.1, 0.2), &[]);
        assert_eq!(
            caplet(&j, 18, 1.1, 18, &curve, 0.0),
            Err(NoClosedForm::Jumps {
                class: "H100".into()
            })
        );
    }

    #[test]
    fn swap_fair_rate_is_the_weighted_mean_fixing() {
        // Two settlements: fixings 2.0 and 1.0, weights 3 and 1 → (6 + 1)/4 = 1.75.
        assert_eq!(swap_fair_rate(&[2.0, 1.0], &[3.0, 1.0]), Some(1.75));
        assert_eq!(swap_fair_rate(&[2.0], &[0.0]), None);
        assert_eq!(swap_fair_rate(&[2.0, 1.0], &[1.0]), None);
    }

    /// The sample portfolio with its first class set to P0 = 2, mu = −0.3, kappa = 1.5,
    /// sigma = 0.4, no jumps, a −0.2 shock at month 12, a flat 5 % curve, and `derivatives`.
    fn with_derivatives(derivatives: Vec<Derivative>) -> Portfolio {
        let mut p = gaib_testkit::engine::sample();
        let id = p.gpu_classes[0].id.clone();
        p.gpu_classes[0] = GpuClass {
            id,
            ..class(1.5, 0.4, (0.0, 0.0, 0.0), &[(12, -0.2)])
        };
        p.market.discount_curve = vec![gaib_engine::CurvePoint {
            tenor_years: 1.0,
            rate: 0.05,
        }];
        p.derivatives = derivatives;
        p
    }

    fn index_derivative(
        p: &Portfolio,
        kind: DerivativeKind,
        position: gaib_engine::Position,
        fixing: Fixing,
        strike: Decimal,
        months: (u32, u32),
    ) -> Derivative {
        Derivative {
            id: format!("{kind:?}"),
            kind,
            position,
            class_id: Some(p.gpu_classes[0].id.clone()),
            fixing: Some(fixing),
            notional_gpu_hours_per_month: Some(Decimal::from(1000)),
            strike_per_gpu_hour: Some(strike),
            fleet_id: None,
            floor_usd_per_month: None,
            start_month: months.0,
            end_month: months.1,
            premium_usd: Decimal::ZERO,
            discount_spread_bps: 0.0,
            hedges: None,
            basis_factor: None,
        }
    }

    #[test]
    fn derivative_references_by_hand() {
        use gaib_engine::Position::{Long, Short};
        let p = with_derivatives(Vec::new());
        let dec = |s: &str| s.parse::<Decimal>().unwrap();
        // Short swap, month end, N = 1000, K = 1.5, months 1..3: −Σ DF_k·1000·(E[P_k] − 1.5)
        // with E[P_k] = 2·exp(−0.3·k/12 + Var X(t_k)/2) and DF_k = e^{−0.05·k/12}
        // = −1256.29337816024; fair rate Σ DF_k·E[P_k] / Σ DF_k = 1.92226630044771.
        let swap = index_derivative(
            &p,
            DerivativeKind::Swap,
            Short,
            Fixing::MonthEnd,
            dec("1.5"),
            (1, 3),
        );
        let r = derivative_reference(&p, &swap).unwrap();
        assert!((r.pv_usd - -1256.2933781602387).abs() < 1e-9, "{r:?}");
        assert!((r.fair_strike_per_gpu_hour.unwrap() - 1.9222663004477083).abs() < 1e-13);
        // Long forward, average fixing, K = 1.6, months 2..4, premium 10:
        // DF_4·1000·(Σ_{j=2..4} ½(E[P_{j−1}] + E[P_j]) − 3·1.6) − 10 = 880.634889656212,
        // fair rate Σ E[F_j]/3 = 1.90186773128844.
        let mut fwd = index_derivative(
            &p,
            DerivativeKind::Forward,
            Long,
            Fixing::Average,
            dec("1.6"),
            (2, 4),
        );
        fwd.premium_usd = Decimal::from(10);
        let r = derivative_reference(&p, &fwd).unwrap();
        assert!((r.pv_usd - 880.634889656212).abs() < 1e-9, "{r:?}");
        assert!((r.fair_strike_per_gpu_hour.unwrap() - 1.9018677312884353).abs() < 1e-13);
        // A future settles as the forward.
        let fut = Derivative {
            kind: DerivativeKind::Future,
            ..fwd.clone()
        };
        assert_eq!(
            derivative_reference(&p, &fut),
            derivative_reference(&p, &fwd)
        );
        // Long month-end cap at month 18 (after the shock), K = 1.1, basis 1.05:
        // 1000·1.05·DF_18·Black call on P with strike 1.1/1.05 = 106.719968887739.
        let mut cap = index_derivative(
            &p,
            DerivativeKind::Cap,
            Long,
            Fixing::MonthEnd,
            dec("1.1"),
            (18, 18),
        );
        cap.basis_factor = Some(1.05);
        let r = derivative_reference(&p, &cap).unwrap();
        assert!((r.pv_usd - 106.71996888773941).abs() < 1e-9, "{r:?}");
        assert_eq!(r.fair_strike_per_gpu_hour, None);
        // A long and a short floor sum to zero; floor − cap = parity with the forward.
        let floor = Derivative {
            kind: DerivativeKind::Floor,
            ..cap.clone()
        };
        let short_floor = Derivative {
            position: Short,
            ..floor.clone()
        };
        let f = derivative_reference(&p, &floor).unwrap().pv_usd;
        assert!((f + derivative_reference(&p, &short_floor).unwrap().pv_usd).abs() < 1e-12);
        let one_month_swap = Derivative {
            kind: DerivativeKind::Swap,
            ..cap.clone()
        };
        let sw = derivative_reference(&p, &one_month_swap).unwrap().pv_usd;
        assert!((106.71996888773941 - f - sw).abs() < 1e-9);
    }

    #[test]
    fn derivatives_without_a_closed_form_say_why() {
        use gaib_engine::Position::Long;
        let mut p = with_derivatives(Vec::new());
        let dec = |s: &str| s.parse::<Decimal>().unwrap();
        let avg = index_derivative(
            &p,
            DerivativeKind::Floor,
            Long,
            Fixing::Average,
            dec("1"),
            (1, 2),
        );
        assert_eq!(
            derivative_reference(&p, &avg),
            Err(NoClosedForm::AverageFixing { id: "Floor".into() })
        );
        let rf = Derivative {
            kind: DerivativeKind::RevenueFloor,
            class_id: None,
            fixing: None,
            fleet_id: Some(p.fleets[0].id.clone()),
            floor_usd_per_month: Some(dec("1000")),
            ..avg.clone()
        };
        assert_eq!(
            derivative_reference(&p, &rf).unwrap_err().short(),
            "revenue floor"
        );
        p.gpu_classes[0].jump_intensity = 0.5;
        let cap = index_derivative(
            &p,
            DerivativeKind::Cap,
            Long,
            Fixing::MonthEnd,
            dec("1"),
            (1, 2),
        );
        assert!(matches!(
            derivative_reference(&p, &cap),
            Err(NoClosedForm::Jumps { .. })
        ));
        // A swap keeps its closed form with jumps.
        let swap = Derivative {
            kind: DerivativeKind::Swap,
            ..cap
        };
        assert!(derivative_reference(&p, &swap).is_ok());
    }
}
