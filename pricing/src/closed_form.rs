//! Closed forms the simulation is checked against (each with its tolerance in the tests):
//! the level-payment annuity and the bullet loan on a flat curve, and the Vasicek large
//! homogeneous pool (loss quantile and tranche expected loss).
//!
//! The Vasicek tranche expected loss is an integral over the systematic factor M ~ N(0, 1);
//! it is computed with Gauss–Legendre quadrature ([`gauss_legendre`]) on \[−10, 10\], split at
//! the two kinks of the tranche payoff and into panels, which is exact to ~1e-12 here (the
//! mass beyond |M| = 10 is 1.5e-23).

use gaib_engine::DiscountCurve;
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
}
