//! Maximum-likelihood estimation of one class's price process (MODEL.md §1) from its index
//! history, by the exact discretisation of the OU deviation and the compound-Poisson jumps.
//!
//! Model at the observation dates t_0 < … < t_n (years since the first date):
//!
//! ```text
//! y_i = ln P(t_i) = a + mu·t_i + X(t_i) + J(t_i)
//! X(t_i) = phi_i·X(t_{i-1}) + v_i·Z_i,  phi_i = e^{-kappa·dt_i},
//!          v_i² = sigma²·(1 − phi_i²)/(2·kappa),  dt_i = t_i − t_{i-1}
//! J(t_i) − J(t_{i-1}) = Σ_{j ≤ N_i} Y_j,  N_i ~ Poisson(lambda·dt_i),  Y_j ~ N(m, s²)
//! ```
//!
//! Given the jump level J(t_{i-1}), y_i is a Poisson mixture of normals: component n has
//! weight Poisson(lambda·dt_i; n), mean a + mu·t_i + J(t_{i-1}) + phi_i·X(t_{i-1}) + n·m and
//! variance v_i² + n·s². The jump level is latent; the likelihood replaces it by its filtered
//! value Ĵ_{i-1} = Σ_{k<i} E[ΔJ_k | y_k, Ĵ_{k-1}] (each day's posterior mean jump under the
//! mixture). Ĵ enters the next day's mean only through (1 − phi)·Ĵ, e^{-kappa·dt} being
//! within 0.5 % of 1 at a daily step, so the error of this plug-in is negligible next to the
//! sampling error (the accuracy test checks the whole estimator against the truth).
//!
//! The likelihood is maximised by Nelder–Mead over (a, mu, ln kappa, ln sigma, ln lambda, m,
//! ln s), started from the iterated-threshold jump filter ([`threshold_filter`]); standard
//! errors are the square roots of the diagonal of the inverse observed information (the
//! numerical Hessian of the log-likelihood at the optimum, central differences).

use crate::optim::nelder_mead;
use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, Normal};

/// Days per year of the model's time axis (t in years = days / 365.25).
pub const DAYS_PER_YEAR: f64 = 365.25;
/// Threshold of the jump filter, in diffusive standard deviations of one step.
pub const JUMP_THRESHOLD_SD: f64 = 4.0;
/// Names of the parameters, in the order of [`Params::to_array`].
pub const PARAM_NAMES: [&str; 7] = [
    "log_level",
    "drift",
    "kappa",
    "sigma",
    "jump_intensity",
    "jump_mean",
    "jump_std",
];

/// The parameters of one class's price process (MODEL.md §1), in the model's units.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Params {
    /// a: log of the trend price at the first observation date, ln(USD per GPU-hour).
    pub log_level: f64,
    /// mu: log drift of the trend price, per year (`drift`).
    pub drift: f64,
    /// kappa: mean-reversion speed of the OU deviation, per year.
    pub kappa: f64,
    /// sigma: volatility of the OU deviation, per sqrt-year.
    pub sigma: f64,
    /// lambda: Poisson intensity of permanent jumps, per year (`jump_intensity`).
    pub jump_intensity: f64,
    /// m: mean log size of one jump (`jump_mean`).
    pub jump_mean: f64,
    /// s: standard deviation of the log size of one jump (`jump_std`).
    pub jump_std: f64,
}

impl Params {
    /// (a, mu, kappa, sigma, lambda, m, s).
    pub fn to_array(&self) -> [f64; 7] {
        [
            self.log_level,
            self.drift,
            self.kappa,
            self.sigma,
            self.jump_intensity,
            self.jump_mean,
            self.jump_std,
        ]
    }

    /// From (a, mu, kappa, sigma, lambda, m, s).
    pub fn from_array(v: &[f64; 7]) -> Self {
        Params {
            log_level: v[0],
            drift: v[1],
            kappa: v[2],
            sigma: v[3],
            jump_intensity: v[4],
            jump_mean: v[5],
            jump_std: v[6],
        }
    }
}

/// The one-step-ahead distribution of y_i = ln P(t_i) given the past: a Poisson mixture of
/// normals (component n: n jumps).
#[derive(Debug, Clone)]
pub struct Predictive {
    /// Mean of y_i without a jump.
    pub mean: f64,
    /// Diffusive variance v_i² of one step.
    pub var: f64,
    /// (weight, mean, variance) of each component.
    pub components: Vec<(f64, f64, f64)>,
}

const SQRT_2PI: f64 = 2.506_628_274_631_000_7;

fn phi_pdf(z: f64) -> f64 {
    (-0.5 * z * z).exp() / SQRT_2PI
}

fn std_normal() -> Normal {
    Normal::new(0.0, 1.0).expect("standard normal")
}

impl Predictive {
    /// Density at y.
    pub fn pdf(&self, y: f64) -> f64 {
        self.components
            .iter()
            .map(|&(w, m, v)| w * phi_pdf((y - m) / v.sqrt()) / v.sqrt())
            .sum()
    }

    /// Distribution function at y.
    pub fn cdf(&self, y: f64) -> f64 {
        let n = std_normal();
        let total: f64 = self.components.iter().map(|c| c.0).sum();
        self.components
            .iter()
            .map(|&(w, m, v)| w * n.cdf((y - m) / v.sqrt()))
            .sum::<f64>()
            / total
    }

    /// The p-quantile, by bisection on the distribution function (the mixture has no closed
    /// form; 100 halvings of a bracket of ±40 standard deviations reach machine precision).
    pub fn quantile(&self, p: f64) -> f64 {
        let sd = self
            .components
            .iter()
            .map(|c| c.2.sqrt() + (c.1 - self.mean).abs())
            .fold(0.0, f64::max);
        let (mut lo, mut hi) = (self.mean - 40.0 * sd, self.mean + 40.0 * sd);
        for _ in 0..100 {
            let mid = 0.5 * (lo + hi);
            if self.cdf(mid) < p {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        0.5 * (lo + hi)
    }
}

/// What the filter reports for observation i ≥ 1.
#[derive(Debug, Clone)]
pub struct FilterStep {
    /// The one-step-ahead distribution of y_i.
    pub predictive: Predictive,
    /// Posterior probability that no jump occurred in (t_{i-1}, t_i].
    pub no_jump_prob: f64,
    /// Standardised diffusive residual (y_i − mean − E[ΔJ | y_i]) / v_i.
    pub diffusive_residual: f64,
    /// Filtered jump level Ĵ(t_i).
    pub jump_level: f64,
}

/// Largest number of jumps per step in the mixture (the Poisson tail beyond it, below 1e-12
/// for lambda·dt ≤ 5, is dropped).
const MAX_JUMPS_PER_STEP: usize = 40;

/// Runs the filter over (t, y) with parameters `p`, calling `visit(i, step)` for i = 1..n;
/// returns the log-likelihood Σ ln f(y_i | past). With `jump_intensity` = 0 the model is the
/// pure OU around the trend.
pub fn filter(p: &Params, t: &[f64], y: &[f64], mut visit: impl FnMut(usize, &FilterStep)) -> f64 {
    filter_impl(p, t, y, Some(&mut visit))
}

/// The log-likelihood alone (no allocation per step: the optimiser's hot path).
pub fn log_likelihood(p: &Params, t: &[f64], y: &[f64]) -> f64 {
    filter_impl(p, t, y, None)
}

/// A callback of the filter, per step.
type Visitor<'a> = dyn FnMut(usize, &FilterStep) + 'a;

fn filter_impl(p: &Params, t: &[f64], y: &[f64], mut visit: Option<&mut Visitor<'_>>) -> f64 {
    let mut ll = 0.0;
    let mut jl = 0.0;
    let s2 = p.jump_std * p.jump_std;
    let mut comp = [(0.0_f64, 0.0_f64, 0.0_f64); MAX_JUMPS_PER_STEP + 1];
    let mut prev_dt = f64::NAN;
    let (mut phi, mut var) = (0.0, 0.0);
    for i in 1..y.len() {
        let dt = t[i] - t[i - 1];
        if dt != prev_dt {
            let kdt = p.kappa * dt;
            phi = (-kdt).exp();
            var = if kdt < 1e-10 {
                p.sigma * p.sigma * dt
            } else {
                p.sigma * p.sigma * (-(-2.0 * kdt).exp_m1()) / (2.0 * p.kappa)
            };
            prev_dt = dt;
        }
        let x_prev = y[i - 1] - p.log_level - p.drift * t[i - 1] - jl;
        let mean = p.log_level + p.drift * t[i] + jl + phi * x_prev;
        let lam = p.jump_intensity * dt;
        let mut nc = 1;
        comp[0] = (1.0, mean, var);
        if lam > 0.0 {
            let mut w = (-lam).exp();
            comp[0].0 = w;
            let mut cum = w;
            while 1.0 - cum > 1e-12 && nc <= MAX_JUMPS_PER_STEP {
                let nf = nc as f64;
                w *= lam / nf;
                cum += w;
                comp[nc] = (w, mean + nf * p.jump_mean, var + nf * s2);
                nc += 1;
            }
        }
        // Density, posterior mean jump and posterior probability of no jump.
        let yi = y[i];
        let (mut dens, mut ej, mut d0) = (0.0, 0.0, 0.0);
        for (n, &(w, m, v)) in comp[..nc].iter().enumerate() {
            let sd = v.sqrt();
            let d = w * phi_pdf((yi - m) / sd) / sd;
            dens += d;
            if n == 0 {
                d0 = d;
            } else {
                // E[ΔJ | y, n] = n·m_J + (n·s²/(v² + n·s²))·(y − mean_n).
                ej += d * ((m - mean) + (v - var) / v * (yi - m));
            }
        }
        let (ej, p0) = if dens > 0.0 && dens.is_finite() {
            ll += dens.ln();
            (ej / dens, d0 / dens)
        } else {
            // Underflow: an observation the parameters call impossible.
            ll += -1e150;
            (0.0, 1.0)
        };
        jl += ej;
        if let Some(visit) = visit.as_mut() {
            let step = FilterStep {
                diffusive_residual: (yi - mean - ej) / var.sqrt(),
                predictive: Predictive {
                    mean,
                    var,
                    components: comp[..nc].to_vec(),
                },
                no_jump_prob: p0,
                jump_level: jl,
            };
            visit(i, &step);
        }
    }
    ll
}

/// Starting values from the iterated-threshold jump filter: an increment is a jump when it
/// lies more than [`JUMP_THRESHOLD_SD`] diffusive standard deviations (sigma·sqrt(dt_i),
/// sigma from the median absolute deviation at first, then from the increments not flagged)
/// from the median increment; repeated until the flagged set no longer changes. Returns the
/// starting parameters and the indices i of the flagged steps (t_{i-1}, t_i].
pub fn threshold_filter(t: &[f64], y: &[f64]) -> (Params, Vec<usize>) {
    let n = y.len() - 1;
    let dt: Vec<f64> = (1..=n).map(|i| t[i] - t[i - 1]).collect();
    let z: Vec<f64> = (1..=n)
        .map(|i| (y[i] - y[i - 1]) / dt[i - 1].sqrt())
        .collect();
    let med = median(&z);
    let mad: Vec<f64> = z.iter().map(|v| (v - med).abs()).collect();
    let mut sig = 1.4826 * median(&mad);
    let mut flagged: Vec<usize> = Vec::new();
    for _ in 0..50 {
        let now: Vec<usize> = (0..n)
            .filter(|&k| (z[k] - med).abs() > JUMP_THRESHOLD_SD * sig)
            .map(|k| k + 1)
            .collect();
        let kept: Vec<f64> = (0..n)
            .filter(|k| !now.contains(&(k + 1)))
            .map(|k| z[k])
            .collect();
        let mk = kept.iter().sum::<f64>() / kept.len() as f64;
        sig =
            (kept.iter().map(|v| (v - mk).powi(2)).sum::<f64>() / (kept.len() as f64 - 1.0)).sqrt();
        if now == flagged {
            break;
        }
        flagged = now;
    }
    // Jump sizes: the flagged increments less the median increment.
    let sizes: Vec<f64> = flagged
        .iter()
        .map(|&i| y[i] - y[i - 1] - med * dt[i - 1].sqrt())
        .collect();
    // De-jumped log price, then an AR(1) with trend by least squares for kappa, a, mu.
    let mut x = Vec::with_capacity(y.len());
    let mut jl = 0.0;
    for i in 0..y.len() {
        if let Some(k) = flagged.iter().position(|&f| f == i) {
            jl += sizes[k];
        }
        x.push(y[i] - jl);
    }
    let (a, mu) = ols_line(t, &x);
    let dev: Vec<f64> = x.iter().zip(t).map(|(xi, ti)| xi - a - mu * ti).collect();
    let mean_dt = (t[n] - t[0]) / n as f64;
    let num: f64 = (1..=n).map(|i| dev[i] * dev[i - 1]).sum();
    let den: f64 = (1..=n).map(|i| dev[i - 1] * dev[i - 1]).sum();
    let phi = (num / den).clamp(1e-6, 1.0 - 1e-9);
    let kappa = (-phi.ln() / mean_dt).clamp(0.05, 50.0);
    let sigma = sig.max(1e-6);
    let total_t = t[n] - t[0];
    let (lambda, m, s) = match sizes.len() {
        0 => (0.0, 0.0, 0.0),
        1 => (
            1.0 / total_t,
            sizes[0],
            (0.5 * sizes[0].abs()).max(2.0 * sigma * mean_dt.sqrt()),
        ),
        k => {
            let mm = sizes.iter().sum::<f64>() / k as f64;
            let ss = (sizes.iter().map(|v| (v - mm).powi(2)).sum::<f64>() / (k as f64 - 1.0))
                .sqrt()
                .max(sigma * mean_dt.sqrt());
            (k as f64 / total_t, mm, ss)
        }
    };
    (
        Params {
            log_level: a,
            drift: mu,
            kappa,
            sigma,
            jump_intensity: lambda,
            jump_mean: m,
            jump_std: s,
        },
        flagged,
    )
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    if n % 2 == 1 {
        s[n / 2]
    } else {
        0.5 * (s[n / 2 - 1] + s[n / 2])
    }
}

/// Least-squares line x ≈ a + b·t.
fn ols_line(t: &[f64], x: &[f64]) -> (f64, f64) {
    let n = t.len() as f64;
    let mt = t.iter().sum::<f64>() / n;
    let mx = x.iter().sum::<f64>() / n;
    let stt: f64 = t.iter().map(|v| (v - mt).powi(2)).sum();
    let stx: f64 = t.iter().zip(x).map(|(a, b)| (a - mt) * (b - mx)).sum();
    let b = if stt > 0.0 { stx / stt } else { 0.0 };
    (mx - b * mt, b)
}

/// A fitted class: estimates, their standard errors and the fit's diagnostics.
#[derive(Debug, Clone)]
pub struct Fit {
    /// The estimates: maximum likelihood, kappa bias-corrected (see [`fit`]).
    pub params: Params,
    /// Standard errors in the order of [`PARAM_NAMES`]; None where the observed information
    /// is singular (a parameter the data cannot identify, e.g. jumps when none occurred).
    pub std_errors: [Option<f64>; 7],
    /// The maximum-likelihood kappa before the jackknife bias correction (None: the history
    /// was too short to split, `params.kappa` is the MLE).
    pub kappa_mle: Option<f64>,
    /// Log-likelihood at the maximum-likelihood estimates.
    pub log_likelihood: f64,
    /// Whether the jump part was estimated (false: no increment passed the jump filter, the
    /// jump parameters are 0 and not estimated).
    pub with_jumps: bool,
    /// Steps flagged by the threshold filter (index i of (t_{i-1}, t_i]).
    pub flagged: Vec<usize>,
}

const LN_FLOOR: f64 = -12.0;

/// Maps the optimiser's coordinates (a, mu, ln kappa, ln sigma[, ln lambda, m, ln s]) to
/// parameters; without jump coordinates the jump part is `fixed`.
fn to_params(u: &[f64], fixed: (f64, f64, f64)) -> Params {
    let e = |v: f64| v.clamp(LN_FLOOR, 7.0).exp();
    let jumps = u.len() == 7;
    Params {
        log_level: u[0],
        drift: u[1],
        kappa: e(u[2]),
        sigma: e(u[3]),
        jump_intensity: if jumps { e(u[4]) } else { fixed.0 },
        jump_mean: if jumps { u[5] } else { fixed.1 },
        jump_std: if jumps { e(u[6]) } else { fixed.2 },
    }
}

/// Maximises the likelihood from `start`; estimates the jump part when `estimate_jumps`,
/// else keeps `start`'s. Returns the optimum and its log-likelihood.
fn maximise(t: &[f64], y: &[f64], start: &Params, estimate_jumps: bool) -> (Params, f64) {
    let fixed = (start.jump_intensity, start.jump_mean, start.jump_std);
    let mut u0 = vec![
        start.log_level,
        start.drift,
        start.kappa.ln(),
        start.sigma.ln(),
    ];
    let mut step = vec![0.02, 0.05, 0.3, 0.1];
    if estimate_jumps {
        u0.extend([
            start.jump_intensity.ln(),
            start.jump_mean,
            start.jump_std.ln(),
        ]);
        step.extend([0.3, 0.02, 0.2]);
    }
    let mut nll = |u: &[f64]| -log_likelihood(&to_params(u, fixed), t, y);
    // Restarts from the best point: Nelder–Mead can stall on a collapsed simplex.
    let mut best = u0;
    let mut val = f64::INFINITY;
    for _ in 0..3 {
        let (u, v) = nelder_mead(&mut nll, &best, &step, 2000, 1e-9);
        let improved = v < val - 1e-6;
        best = u;
        val = v;
        if !improved {
            break;
        }
        step.iter_mut().for_each(|s| *s *= 0.5);
    }
    (to_params(&best, fixed), -val)
}

/// Fits the model to one class's log prices `y` at times `t` (years, increasing; at least
/// 3 points — the caller enforces a useful minimum).
///
/// kappa is then corrected for its small-sample bias by the split-sample jackknife of
/// Phillips & Yu (2005): kappa_J = 2·kappa_full − (kappa_first half + kappa_second half)/2,
/// the halves fitted with the full sample's jump part held fixed (the MLE of kappa is biased
/// upwards by several units divided by the sample length in years; the jackknife removes the
/// 1/T term). Only when the history has at least 2·`min_half` points; floored at 1e-3.
pub fn fit(t: &[f64], y: &[f64], min_half: usize) -> Fit {
    let (start, flagged) = threshold_filter(t, y);
    let jumps = !flagged.is_empty();
    let (mle, ll) = maximise(t, y, &start, jumps);
    let mut params = mle;
    let mut kappa_mle = None;
    let n = y.len();
    if n >= 2 * min_half {
        let h = n / 2;
        let (p1, _) = maximise(&t[..h], &y[..h], &mle, false);
        let t2: Vec<f64> = t[h..].iter().map(|v| v - t[h]).collect();
        let mut s2 = mle;
        s2.log_level = mle.log_level + mle.drift * t[h];
        let (p2, _) = maximise(&t2, &y[h..], &s2, false);
        params.kappa = (2.0 * mle.kappa - 0.5 * (p1.kappa + p2.kappa)).max(1e-3);
        kappa_mle = Some(mle.kappa);
    }
    let mut std_errors = standard_errors(&mle, jumps, t, y);
    if jumps {
        if let Some(se) = std_errors[1] {
            std_errors[1] = Some((se * se + jump_level_drift_variance(&mle, t, y)).sqrt());
        }
    }
    Fit {
        params,
        kappa_mle,
        std_errors,
        log_likelihood: ll,
        with_jumps: jumps,
        flagged,
    }
}

/// The drift's variance from the error of the filtered jump level, which the observed
/// information (conditional on Ĵ) leaves out: each jump's size is read from one step, so it
/// carries that step's diffusive error v_k² and Ĵ(t) errs by a random walk with those
/// increments; the drift, the slope of the de-jumped log price, inherits
/// Σ_k v_k²·(Σ_{i ≥ k} w_i)² with w_i the least-squares slope weights
/// (t_i − t̄)/Σ(t − t̄)². Jump steps are those with posterior jump probability above 1/2.
fn jump_level_drift_variance(p: &Params, t: &[f64], y: &[f64]) -> f64 {
    let n = t.len() as f64;
    let mt = t.iter().sum::<f64>() / n;
    let stt: f64 = t.iter().map(|v| (v - mt).powi(2)).sum();
    // tail[i] = Σ_{j ≥ i} w_j.
    let mut tail = vec![0.0; t.len() + 1];
    for i in (0..t.len()).rev() {
        tail[i] = tail[i + 1] + (t[i] - mt) / stt;
    }
    let mut var = 0.0;
    filter(p, t, y, |i, st| {
        if st.no_jump_prob < 0.5 {
            var += st.predictive.var * tail[i] * tail[i];
        }
    });
    var
}

/// Standard errors from the observed information: the numerical Hessian (central
/// differences, step 1e-3 of each parameter's scale) of −ln L in the natural parameters,
/// inverted. The jump parameters are left out when the jump part is not estimated.
fn standard_errors(p: &Params, jumps: bool, t: &[f64], y: &[f64]) -> [Option<f64>; 7] {
    let k = if jumps { 7 } else { 4 };
    let theta = p.to_array();
    let floor = [0.1, 0.1, 0.1, 0.01, 0.1, 0.01, 0.01];
    let h: Vec<f64> = (0..k)
        .map(|j| 1e-3 * theta[j].abs().max(floor[j]))
        .collect();
    let nll = |d: &[(usize, f64)]| -> f64 {
        let mut v = theta;
        for &(j, x) in d {
            v[j] += x;
        }
        -log_likelihood(&Params::from_array(&v), t, y)
    };
    let f0 = nll(&[]);
    let mut hess = DMatrix::<f64>::zeros(k, k);
    for i in 0..k {
        let fp = nll(&[(i, h[i])]);
        let fm = nll(&[(i, -h[i])]);
        hess[(i, i)] = (fp - 2.0 * f0 + fm) / (h[i] * h[i]);
        for j in 0..i {
            let v = (nll(&[(i, h[i]), (j, h[j])])
                - nll(&[(i, h[i]), (j, -h[j])])
                - nll(&[(i, -h[i]), (j, h[j])])
                + nll(&[(i, -h[i]), (j, -h[j])]))
                / (4.0 * h[i] * h[j]);
            hess[(i, j)] = v;
            hess[(j, i)] = v;
        }
    }
    let mut out = [None; 7];
    if let Some(ch) = hess.clone().cholesky() {
        let inv = ch.inverse();
        for j in 0..k {
            let v = inv[(j, j)];
            if v.is_finite() && v > 0.0 {
                out[j] = Some(v.sqrt());
            }
        }
    }
    out
}

/// Probability-integral-transform residuals Φ⁻¹(F_i(y_i)) of the one-step-ahead predictive
/// distributions: i.i.d. N(0,1) when the model and parameters are right (QQ plot).
pub fn pit_residuals(p: &Params, t: &[f64], y: &[f64]) -> Vec<f64> {
    let n = std_normal();
    let mut out = Vec::with_capacity(y.len());
    filter(p, t, y, |i, s| {
        let u = s.predictive.cdf(y[i]).clamp(1e-12, 1.0 - 1e-12);
        out.push(n.inverse_cdf(u));
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic normal sequence (a fixed LCG and Box–Muller) for unit tests.
    fn normals(n: usize, seed: u64) -> Vec<f64> {
        let mut s = seed;
        let mut u = || {
            s = s
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((s >> 11) as f64 + 0.5) / (1u64 << 53) as f64
        };
        (0..n)
            .map(|_| (-2.0 * u().ln()).sqrt() * (2.0 * std::f64::consts::PI * u()).cos())
            .collect()
    }

    #[test]
    fn mixture_cdf_and_quantile_invert_each_other() {
        let p = Predictive {
            mean: 0.1,
            var: 0.0004,
            components: vec![(0.9, 0.1, 0.0004), (0.1, 0.0, 0.01)],
        };
        for q in [0.05, 0.25, 0.5, 0.75, 0.95] {
            assert!((p.cdf(p.quantile(q)) - q).abs() < 1e-10);
        }
    }

    #[test]
    fn pure_ou_is_recovered_and_no_jump_is_flagged() {
        let dt = 1.0 / DAYS_PER_YEAR;
        let (kappa, sigma, mu, a) = (3.0, 0.3, -0.2, 1.0_f64);
        let z = normals(3000, 7);
        let phi = (-kappa * dt).exp();
        let v = sigma * ((1.0 - phi * phi) / (2.0 * kappa)).sqrt();
        let mut x = 0.0;
        let t: Vec<f64> = (0..3000).map(|i| i as f64 * dt).collect();
        let y: Vec<f64> = (0..3000)
            .map(|i| {
                if i > 0 {
                    x = phi * x + v * z[i];
                }
                a + mu * t[i] + x
            })
            .collect();
        let f = fit(&t, &y, 500);
        assert!(!f.with_jumps, "flagged {:?}", f.flagged);
        for (j, truth) in [(0, a), (1, mu), (2, kappa), (3, sigma)] {
            let est = f.params.to_array()[j];
            let se = f.std_errors[j].expect("identified");
            assert!(
                (est - truth).abs() < 3.0 * se,
                "{}: {est} vs {truth} (se {se})",
                PARAM_NAMES[j]
            );
        }
        // sigma is pinned down by ~3000 increments: its SE is about 1.3 % of sigma.
        assert!(f.std_errors[3].unwrap() < 0.02 * sigma);
    }

    #[test]
    fn threshold_filter_flags_the_planted_jumps() {
        let dt = 1.0 / DAYS_PER_YEAR;
        let z = normals(800, 11);
        let t: Vec<f64> = (0..800).map(|i| i as f64 * dt).collect();
        let mut y = vec![0.0];
        for i in 1..800 {
            let jump = match i {
                200 => -0.3,
                500 => 0.25,
                _ => 0.0,
            };
            y.push(y[i - 1] + 0.3 * dt.sqrt() * z[i] + jump);
        }
        let (p, flagged) = threshold_filter(&t, &y);
        assert_eq!(flagged, vec![200, 500]);
        assert!((p.sigma - 0.3).abs() < 0.03, "{}", p.sigma);
    }
}
