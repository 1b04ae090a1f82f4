//! The model's expected price in closed form and the fit of the drift to a forward curve.
//!
//! Under MODEL.md §1 with X(0) = 0 at the quote date, X(t) ~ N(0, sigma²·(1 − e^{−2·kappa·t})
//! /(2·kappa)) and J(t) is compound Poisson, independent of X, with
//! E[e^{J(t)}] = exp(lambda·t·(e^{m + s²/2} − 1)); so
//!
//! ```text
//! E[P(t)] = P(0)·exp( mu·t + Var X(t)/2 + lambda·t·(e^{m + s²/2} − 1) + S(t) )
//! ```
//!
//! with S(t) the scheduled shocks up to t. The drift is the only free parameter of the fit
//! (the model has one drift per class, not a term structure): ln E[P(t)] is linear in mu, so
//! the least-squares fit of ln E[P(t_i)] to ln F_i over the quoted tenors is closed-form.

use serde::{Deserialize, Serialize};

/// The parameters of one class that the expected price needs (MODEL.md §1 names).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PriceProcess {
    /// P(0), USD per GPU-hour.
    pub price0: f64,
    /// mu, per year.
    pub drift: f64,
    /// kappa, per year.
    pub kappa: f64,
    /// sigma, per sqrt-year.
    pub sigma: f64,
    /// lambda, per year.
    pub jump_intensity: f64,
    /// m, log size.
    pub jump_mean: f64,
    /// s, log size.
    pub jump_std: f64,
}

/// Var X(t) of the OU deviation started at 0, in (log price)² (sigma²·t at kappa·t → 0).
pub fn ou_variance(kappa: f64, sigma: f64, t: f64) -> f64 {
    let kt = kappa * t;
    if kt < 1e-10 {
        sigma * sigma * t
    } else {
        sigma * sigma * (-(-2.0 * kt).exp_m1()) / (2.0 * kappa)
    }
}

/// ln E[P(t)] − ln P(0) − mu·t: the convexity of the OU and the jumps' compensator plus the
/// scheduled shocks `shock_log_sum` up to t.
fn log_excess(p: &PriceProcess, t: f64, shock_log_sum: f64) -> f64 {
    let jump_mgf = (p.jump_mean + 0.5 * p.jump_std * p.jump_std).exp() - 1.0;
    0.5 * ou_variance(p.kappa, p.sigma, t) + p.jump_intensity * t * jump_mgf + shock_log_sum
}

/// E[P(t)] in USD per GPU-hour, t in years, `shock_log_sum` = S(t).
pub fn expected_price(p: &PriceProcess, t: f64, shock_log_sum: f64) -> f64 {
    p.price0 * (p.drift * t + log_excess(p, t, shock_log_sum)).exp()
}

/// One tenor of the forward fit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TenorFit {
    /// Months after the quote date.
    pub tenor_months: u32,
    /// Quoted forward, USD per GPU-hour.
    pub forward: f64,
    /// The model's E[P(t)] at the fitted drift, USD per GPU-hour.
    pub model: f64,
    /// model − forward, USD per GPU-hour.
    pub error: f64,
    /// (model − forward)/forward, percent.
    pub error_pct: f64,
}

/// The drift that makes E[P(t)] reprice a forward curve, and the fit per tenor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftFit {
    /// Fitted mu, per year.
    pub drift: f64,
    /// Regression standard error of mu, per year: sqrt(RSS/(n − 1)/Σt²) on the log errors
    /// (how well one drift fits the curve, not a sampling error); None with one tenor.
    pub drift_std_error: Option<f64>,
    /// Root mean square of the per-tenor log errors, percent.
    pub rmse_pct: f64,
    /// Per tenor.
    pub tenors: Vec<TenorFit>,
}

/// Fits mu by least squares on ln E[P(t_i)] − ln F_i over the quotes `(tenor_months, forward,
/// S(t_i))`, the other parameters of `p` fixed (its `drift` is ignored). t_i = months/12.
pub fn fit_drift(p: &PriceProcess, quotes: &[(u32, f64, f64)]) -> DriftFit {
    let mut stt = 0.0;
    let mut std = 0.0;
    for &(m, f, s) in quotes {
        let t = f64::from(m) / 12.0;
        let d = (f / p.price0).ln() - log_excess(p, t, s);
        stt += t * t;
        std += t * d;
    }
    let drift = std / stt;
    let fitted = PriceProcess { drift, ..*p };
    let mut rss = 0.0;
    let tenors: Vec<TenorFit> = quotes
        .iter()
        .map(|&(m, f, s)| {
            let t = f64::from(m) / 12.0;
            let model = expected_price(&fitted, t, s);
            rss += (model / f).ln().powi(2);
            TenorFit {
                tenor_months: m,
                forward: f,
                model,
                error: model - f,
                error_pct: 100.0 * (model - f) / f,
            }
        })
        .collect();
    let n = quotes.len() as f64;
    DriftFit {
        drift,
        drift_std_error: (quotes.len() > 1).then(|| (rss / (n - 1.0) / stt).sqrt()),
        rmse_pct: 100.0 * (rss / n).sqrt(),
        tenors,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn process() -> PriceProcess {
        PriceProcess {
            price0: 2.35,
            drift: -0.28,
            kappa: 1.2,
            sigma: 0.35,
            jump_intensity: 0.3,
            jump_mean: -0.05,
            jump_std: 0.12,
        }
    }

    #[test]
    fn expected_price_matches_a_direct_sum_over_jump_counts() {
        // E[e^{J(t)}] summed over the Poisson counts instead of the closed form.
        let p = process();
        let t = 1.5;
        let lt = p.jump_intensity * t;
        let mut w = (-lt).exp();
        let mut ej = 0.0;
        for n in 0..60 {
            if n > 0 {
                w *= lt / f64::from(n);
            }
            let nf = f64::from(n);
            ej += w * (nf * p.jump_mean + 0.5 * nf * p.jump_std * p.jump_std).exp();
        }
        let direct =
            p.price0 * (p.drift * t).exp() * (0.5 * ou_variance(p.kappa, p.sigma, t)).exp() * ej;
        assert!((expected_price(&p, t, 0.0) / direct - 1.0).abs() < 1e-12);
        // Brownian limit.
        assert!((ou_variance(0.0, 0.3, 2.0) - 0.18).abs() < 1e-15);
        assert!((ou_variance(1e-12, 0.3, 2.0) - 0.18).abs() < 1e-9);
    }

    #[test]
    fn a_curve_made_by_the_model_is_repriced_exactly() {
        let p = process();
        let quotes: Vec<(u32, f64, f64)> = [1u32, 3, 6, 12, 24, 36]
            .iter()
            .map(|&m| {
                let s = if m >= 12 { -0.1 } else { 0.0 };
                (m, expected_price(&p, f64::from(m) / 12.0, s), s)
            })
            .collect();
        let fit = fit_drift(&PriceProcess { drift: 0.0, ..p }, &quotes);
        assert!((fit.drift - p.drift).abs() < 1e-12, "{}", fit.drift);
        assert!(fit.rmse_pct < 1e-9);
        assert!(fit.tenors.iter().all(|t| t.error_pct.abs() < 1e-9));
        // A curve one drift cannot fit shows per-tenor errors of both signs.
        let bent: Vec<(u32, f64, f64)> = quotes
            .iter()
            .map(|&(m, f, s)| (m, if m <= 6 { f * 1.05 } else { f }, s))
            .collect();
        let fit = fit_drift(&p, &bent);
        assert!(fit.tenors.iter().any(|t| t.error_pct > 0.5));
        assert!(fit.tenors.iter().any(|t| t.error_pct < -0.5));
        assert!(fit.drift_std_error.unwrap() > 0.0);
    }
}
