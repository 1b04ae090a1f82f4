//! `gaib calibrate`: every class's parameters from its history (and the forward curve), the
//! cross-class correlation, diagnostics and warnings (docs/MARKET.md).

use crate::bootstrap::{
    bootstrap, class_stream, Settings, DEFAULT_REPLICATES, DEFAULT_SEED, MIN_REPLICATES,
};
use crate::correlation::{nearest_positive_definite, sample_correlation};
use crate::data::{ForwardCurve, PriceHistory};
use crate::error::{MarketError, Result};
use crate::estimate::{filter, fit, pit_residuals, Params, DAYS_PER_YEAR, PARAM_NAMES};
use crate::forward::{fit_drift, DriftFit, PriceProcess};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Fewest observations of a class that the calibration accepts.
pub const MIN_OBSERVATIONS: usize = 120;
/// A history shorter than this many years gets the small-sample kappa warning.
pub const SHORT_HISTORY_YEARS: f64 = 5.0;
/// Fraction of each history held out for the out-of-sample band coverage (the last third).
pub const HOLDOUT_FRACTION: f64 = 1.0 / 3.0;
/// Fewest common dates for the correlation estimate.
pub const MIN_CORRELATION_DATES: usize = 30;

/// How the standard errors of each class's parameters are computed (docs/MARKET.md,
/// "Standard errors"). The correlation's are asymptotic either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum StdErrorMethod {
    /// Parametric bootstrap of the whole estimator (jump filter, maximum likelihood, kappa's
    /// jackknife): `replicates` histories simulated from the estimates on the class's dates,
    /// re-estimated; the standard error is the replicates' standard deviation
    /// ([`crate::bootstrap`]). Deterministic in `seed`.
    Bootstrap {
        /// Simulated histories per class (at least [`MIN_REPLICATES`]).
        replicates: usize,
        /// Seed of the simulations.
        seed: u64,
    },
    /// The inverse observed information at the maximum-likelihood estimates (asymptotic and
    /// fast; too narrow on a few years of data, see docs/MARKET.md "Accuracy").
    Observed,
}

impl Default for StdErrorMethod {
    /// The bootstrap with [`DEFAULT_REPLICATES`] replicates and [`DEFAULT_SEED`].
    fn default() -> Self {
        StdErrorMethod::Bootstrap {
            replicates: DEFAULT_REPLICATES,
            seed: DEFAULT_SEED,
        }
    }
}

impl StdErrorMethod {
    /// One line for people: the method and its settings.
    pub fn describe(&self) -> String {
        match self {
            StdErrorMethod::Bootstrap { replicates, seed } => format!(
                "parametric bootstrap of the whole estimator, {replicates} replicates per class, seed {seed}"
            ),
            StdErrorMethod::Observed => {
                "inverse observed information at the MLE (asymptotic; narrow on short histories)"
                    .into()
            }
        }
    }
}

/// A progress callback: called once after each bootstrap replicate of each class, from
/// worker threads.
pub type ProgressFn = dyn Fn() + Send + Sync;

/// Options of a calibration.
#[derive(Clone, Default)]
pub struct Options {
    /// Scheduled shocks per class, `(month, log_size)` (MODEL.md §1 S_c), taken into account
    /// by the forward fit (e.g. those of the portfolio being updated).
    pub shocks: BTreeMap<String, Vec<(u32, f64)>>,
    /// How the standard errors are computed (default: the bootstrap).
    pub std_errors: StdErrorMethod,
    /// Called after each bootstrap replicate (there are classes × replicates of them).
    pub progress: Option<Arc<ProgressFn>>,
    /// Worker threads of the bootstrap (None: all CPUs); the results do not depend on it.
    pub threads: Option<usize>,
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("shocks", &self.shocks)
            .field("std_errors", &self.std_errors)
            .field("progress", &self.progress.as_ref().map(|_| "callback"))
            .field("threads", &self.threads)
            .finish()
    }
}

/// How one class's standard errors were computed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StdErrorReport {
    /// The method and its settings.
    #[serde(flatten)]
    pub method: StdErrorMethod,
    /// Bootstrap: replicates whose estimates were all finite (the standard errors are over
    /// these; None with the observed information).
    pub replicates_used: Option<usize>,
    /// Bootstrap: replicates in which the jump filter flagged a jump (the jump parameters'
    /// standard errors are over these).
    pub replicates_with_jumps: Option<usize>,
    /// The observed-information standard errors, per parameter name, for comparison (the
    /// drift's including the filtered jump level's error).
    pub observed: BTreeMap<String, Option<f64>>,
}

/// An estimate and its standard error, in the parameter's units.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// Point estimate.
    pub value: f64,
    /// Standard error (None: not identified by the data, or not estimated).
    pub std_error: Option<f64>,
}

/// Out-of-sample coverage of the one-step-ahead predictive bands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Coverage {
    /// Last date of the estimation window (the parameters are fitted up to it).
    pub fit_until: NaiveDate,
    /// Observations after it, each predicted one step ahead.
    pub observations: usize,
    /// Fraction inside the central 50 % band.
    pub band50: f64,
    /// Fraction inside the central 90 % band.
    pub band90: f64,
}

/// The forward-curve fit of one class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForwardFitReport {
    /// Quote date of the curve used (the latest of the class in the file).
    pub as_of: NaiveDate,
    /// P(0): the index on the last observation date on or before `as_of`, USD per GPU-hour.
    pub spot: f64,
    /// The drift fit and its per-tenor errors.
    #[serde(flatten)]
    pub fit: DriftFit,
}

/// Per observation, what the HTML page draws (not serialised).
#[derive(Debug, Clone, Default)]
pub struct ChartData {
    /// Observation dates.
    pub dates: Vec<NaiveDate>,
    /// Observed index, USD per GPU-hour.
    pub prices: Vec<f64>,
    /// Fitted trend price exp(a + mu·t + Ĵ(t)), USD per GPU-hour (trend with filtered jumps).
    pub fitted: Vec<f64>,
    /// Index of the first out-of-sample observation.
    pub holdout_start: usize,
    /// Per out-of-sample observation: 5, 25, 75, 95 % one-step-ahead quantiles, USD.
    pub bands: Vec<[f64; 4]>,
    /// PIT residuals Φ⁻¹(F(y_i)) of the full-sample fit.
    pub pit: Vec<f64>,
}

/// The calibration of one GPU class.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClassCalibration {
    /// GPU class id.
    pub class: String,
    /// Number of observations.
    pub observations: usize,
    /// First observation date.
    pub first_date: NaiveDate,
    /// Last observation date.
    pub last_date: NaiveDate,
    /// Length of the history, years.
    pub years: f64,
    /// Median step between observations, days.
    pub median_step_days: f64,
    /// `price0_per_gpu_hour`: the last observation (or the forward fit's spot), USD per
    /// GPU-hour.
    pub price0_per_gpu_hour: f64,
    /// `drift` for the portfolio, per year: the forward fit's where a curve was given, else
    /// the historical estimate.
    pub drift: Estimate,
    /// Where `drift` comes from: `forward curve` or `history`.
    pub drift_source: String,
    /// The historical (maximum-likelihood) drift, per year.
    pub historical_drift: Estimate,
    /// `kappa`, per year (jackknife bias-corrected; with the bootstrap the standard error is
    /// the corrected estimator's, with the observed information the MLE's).
    pub kappa: Estimate,
    /// The maximum-likelihood kappa before the bias correction, per year.
    pub kappa_mle: Option<f64>,
    /// `sigma`, per sqrt-year.
    pub sigma: Estimate,
    /// `jump_intensity`, per year.
    pub jump_intensity: Estimate,
    /// `jump_mean`, log size.
    pub jump_mean: Estimate,
    /// `jump_std`, log size.
    pub jump_std: Estimate,
    /// a: log trend price at the first date, ln(USD per GPU-hour) (a nuisance parameter).
    pub log_level: Estimate,
    /// Whether the jump part was estimated (false: no jump passed the filter; all 0).
    pub jumps_estimated: bool,
    /// Maximised log-likelihood.
    pub log_likelihood: f64,
    /// Dates whose step carries a jump with posterior probability above 1/2.
    pub jump_dates: Vec<NaiveDate>,
    /// Out-of-sample coverage (None when the history is too short to hold a third out).
    pub coverage: Option<Coverage>,
    /// Forward fit (None without a curve for this class).
    pub forward_fit: Option<ForwardFitReport>,
    /// How the standard errors were computed.
    pub std_errors: StdErrorReport,
    /// Warnings about this class's estimates.
    pub warnings: Vec<String>,
    /// Chart series for the HTML page.
    #[serde(skip)]
    pub chart: ChartData,
}

/// The correlation of the diffusive shocks.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CorrelationEstimate {
    /// Classes, in the order of the matrix.
    pub classes: Vec<String>,
    /// `market.correlation`: symmetric positive definite, unit diagonal, 4 decimals.
    pub matrix: Vec<Vec<f64>>,
    /// The sample correlation before the repair.
    pub sample: Vec<Vec<f64>>,
    /// Asymptotic standard errors (1 − r²)/sqrt(n) of the sample correlations.
    pub std_errors: Vec<Vec<f64>>,
    /// Common dates used (steps without a likely jump in any class).
    pub observations: usize,
    /// Smallest eigenvalue of the sample correlation.
    pub min_eigenvalue: f64,
    /// Whether the sample correlation had to be repaired to be positive definite.
    pub adjusted: bool,
}

/// A whole calibration: what `gaib calibrate` writes as JSON.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Calibration {
    /// Version of this JSON's layout.
    pub schema_version: u32,
    /// The history file.
    pub history_file: String,
    /// The forward-curve file, if any.
    pub forwards_file: Option<String>,
    /// How every class's standard errors were computed.
    pub std_error_method: StdErrorMethod,
    /// Per class, in the order of the history file.
    pub classes: Vec<ClassCalibration>,
    /// Cross-class correlation (None with one class or too few common dates).
    pub correlation: Option<CorrelationEstimate>,
    /// Warnings about the whole calibration.
    pub warnings: Vec<String>,
}

fn est(value: f64, se: Option<f64>) -> Estimate {
    Estimate {
        value,
        std_error: se,
    }
}

/// Version of the calibration JSON's layout (2: `std_error_method` and per-class
/// `std_errors`).
pub const SCHEMA_VERSION: u32 = 2;

/// Calibrates every class of `history`; with `forwards`, fits each quoted class's drift to
/// its latest curve. Errors on a too-short history, a forward-curve class that the history
/// lacks, a curve dated before the class's first observation, or fewer than
/// [`MIN_REPLICATES`] bootstrap replicates.
pub fn calibrate(
    history: &PriceHistory,
    forwards: Option<&ForwardCurve>,
    options: &Options,
) -> Result<Calibration> {
    if let StdErrorMethod::Bootstrap { replicates, .. } = options.std_errors {
        if replicates < MIN_REPLICATES {
            return Err(MarketError::Option {
                option: "bootstrap".into(),
                value: replicates.to_string(),
                reason: format!(
                    "at least {MIN_REPLICATES} bootstrap replicates are needed (default {DEFAULT_REPLICATES})"
                ),
            });
        }
    }
    for s in &history.series {
        if s.prices.len() < MIN_OBSERVATIONS {
            return Err(MarketError::TooShort {
                file: history.file.clone(),
                class: s.class.clone(),
                observations: s.prices.len(),
                min: MIN_OBSERVATIONS,
            });
        }
    }
    if let Some(f) = forwards {
        for p in &f.points {
            if !history.series.iter().any(|s| s.class == p.class) {
                return Err(MarketError::UnknownClass {
                    file: f.file.clone(),
                    class: p.class.clone(),
                    reason: format!("the history {} has {}", history.file, class_list(history)),
                });
            }
        }
    }
    // A curve dated before its class's history: refused before any (long) estimation.
    if let Some(fc) = forwards {
        for s in &history.series {
            if let Some((as_of, pts)) = fc.latest(&s.class) {
                if as_of < s.dates[0] {
                    return Err(curve_too_early(fc, history, s, as_of, &pts));
                }
            }
        }
    }
    let mut warnings = Vec::new();
    if let StdErrorMethod::Bootstrap { replicates, .. } = options.std_errors {
        if replicates < DEFAULT_REPLICATES / 2 {
            warnings.push(format!(
                "{replicates} bootstrap replicates: the standard errors are themselves uncertain by about {:.0} % (relative); use {DEFAULT_REPLICATES} or more for reporting",
                100.0 / (2.0 * (replicates as f64 - 1.0)).sqrt()
            ));
        }
    }
    let mut classes = Vec::new();
    // Per class: date of each step → (diffusive residual, no-jump probability).
    let mut resid: Vec<BTreeMap<NaiveDate, (f64, f64)>> = Vec::new();
    for s in &history.series {
        let (c, r) = calibrate_class(s, history, forwards, options)?;
        classes.push(c);
        resid.push(r);
    }
    let correlation = if classes.len() > 1 {
        let dates: Vec<NaiveDate> = resid[0]
            .iter()
            .filter(|(d, _)| resid.iter().all(|r| r.get(d).is_some_and(|v| v.1 >= 0.5)))
            .map(|(d, _)| *d)
            .collect();
        if dates.len() < MIN_CORRELATION_DATES {
            warnings.push(format!(
                "only {} dates are common to all classes (need {MIN_CORRELATION_DATES}): no correlation estimated",
                dates.len()
            ));
            None
        } else {
            let rows: Vec<Vec<f64>> = dates
                .iter()
                .map(|d| resid.iter().map(|r| r[d].0).collect())
                .collect();
            let sample = sample_correlation(&rows);
            let n = rows.len() as f64;
            let std_errors = sample
                .iter()
                .map(|row| row.iter().map(|r| (1.0 - r * r) / n.sqrt()).collect())
                .collect();
            let (matrix, min_eigenvalue, adjusted) = nearest_positive_definite(&sample);
            if adjusted {
                warnings.push(format!(
                    "the sample correlation is not positive definite (smallest eigenvalue {min_eigenvalue:.2e}); it was repaired by eigenvalue clipping"
                ));
            }
            Some(CorrelationEstimate {
                classes: classes.iter().map(|c| c.class.clone()).collect(),
                matrix,
                sample,
                std_errors,
                observations: rows.len(),
                min_eigenvalue,
                adjusted,
            })
        }
    } else {
        None
    };
    Ok(Calibration {
        schema_version: SCHEMA_VERSION,
        history_file: history.file.clone(),
        forwards_file: forwards.map(|f| f.file.clone()),
        std_error_method: options.std_errors,
        classes,
        correlation,
        warnings,
    })
}

/// The error for a forward curve dated before its class's first observation.
fn curve_too_early(
    fc: &ForwardCurve,
    history: &PriceHistory,
    s: &crate::data::ClassSeries,
    as_of: NaiveDate,
    pts: &[&crate::data::ForwardPoint],
) -> MarketError {
    MarketError::Field {
        file: fc.file.clone(),
        line: pts.first().map_or(0, |q| q.line),
        field: "as_of".into(),
        value: as_of.to_string(),
        reason: format!(
            "the {} curve is dated before the first observation {} in {}",
            s.class, s.dates[0], history.file
        ),
    }
}

fn class_list(h: &PriceHistory) -> String {
    h.series
        .iter()
        .map(|s| s.class.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

type Residuals = BTreeMap<NaiveDate, (f64, f64)>;

fn calibrate_class(
    s: &crate::data::ClassSeries,
    history: &PriceHistory,
    forwards: Option<&ForwardCurve>,
    options: &Options,
) -> Result<(ClassCalibration, Residuals)> {
    let d0 = s.dates[0];
    let t: Vec<f64> = s
        .dates
        .iter()
        .map(|d| (*d - d0).num_days() as f64 / DAYS_PER_YEAR)
        .collect();
    let y: Vec<f64> = s.prices.iter().map(|p| p.ln()).collect();
    let n = y.len();
    let years = t[n - 1];
    let mut steps: Vec<f64> = s
        .dates
        .windows(2)
        .map(|w| (w[1] - w[0]).num_days() as f64)
        .collect();
    steps.sort_by(f64::total_cmp);
    let median_step = steps[steps.len() / 2];
    let max_step = steps[steps.len() - 1];
    if y.windows(2).all(|w| w[1] == w[0]) {
        return Err(MarketError::Estimation {
            class: s.class.clone(),
            reason: format!(
                "the price in {} never changes: no volatility to estimate",
                history.file
            ),
        });
    }
    let half = MIN_OBSERVATIONS / 2;
    let f = fit(&t, &y, half);
    let p = f.params;
    if !p.sigma.is_finite() || !p.kappa.is_finite() || !p.drift.is_finite() {
        return Err(MarketError::Estimation {
            class: s.class.clone(),
            reason: "the likelihood has no finite maximum (constant or degenerate prices?)".into(),
        });
    }
    let mut warnings = Vec::new();
    let observed: BTreeMap<String, Option<f64>> = PARAM_NAMES
        .iter()
        .enumerate()
        .map(|(j, name)| (name.to_string(), f.std_errors[j]))
        .collect();
    let (se, std_errors) = match options.std_errors {
        StdErrorMethod::Observed => (
            f.std_errors,
            StdErrorReport {
                method: StdErrorMethod::Observed,
                replicates_used: None,
                replicates_with_jumps: None,
                observed,
            },
        ),
        StdErrorMethod::Bootstrap { replicates, seed } => {
            let progress = || {
                if let Some(p) = &options.progress {
                    p();
                }
            };
            let b = bootstrap(
                &f,
                &t,
                &y,
                half,
                Settings {
                    replicates,
                    seed,
                    stream: class_stream(&s.class),
                    threads: options.threads.unwrap_or_else(|| {
                        std::thread::available_parallelism().map_or(1, |n| n.get())
                    }),
                },
                &progress,
            );
            if b.used < replicates {
                warnings.push(format!(
                    "{} of {replicates} bootstrap replicates gave a non-finite estimate and were left out",
                    replicates - b.used
                ));
            }
            (
                b.std_errors,
                StdErrorReport {
                    method: options.std_errors,
                    replicates_used: Some(b.used),
                    replicates_with_jumps: Some(b.with_jumps),
                    observed,
                },
            )
        }
    };
    let bootstrapped = matches!(options.std_errors, StdErrorMethod::Bootstrap { .. });
    if years < SHORT_HISTORY_YEARS {
        warnings.push(format!(
            "short history ({years:.1} years): the maximum-likelihood kappa is biased upwards on short samples (by roughly 2–3 per year on 3 years of daily data); the reported kappa is jackknife-corrected (MLE {}), its standard error is {}",
            f.kappa_mle.map_or("n/a".to_string(), |k| format!("{k:.3}")),
            if bootstrapped {
                "the bootstrap's of the corrected estimator"
            } else {
                "the MLE's (observed information; the corrected estimator's is larger)"
            }
        ));
    }
    if let Some(se) = se[2] {
        if se > p.kappa {
            warnings.push(format!(
                "kappa is weakly identified: standard error {se:.3} exceeds the estimate {:.3}",
                p.kappa
            ));
        }
    }
    if p.kappa <= 1.001e-3 && f.kappa_mle.is_some() {
        warnings.push(
            "the jackknife-corrected kappa hit its floor 0.001: the data show no mean reversion"
                .into(),
        );
    }
    if !f.with_jumps {
        warnings.push(
            "no jump passed the filter: jump_intensity, jump_mean and jump_std are 0 (not estimated)"
                .into(),
        );
    } else if f.flagged.len() < 5 {
        warnings.push(format!(
            "only {} jump(s) detected: the jump parameters are weakly identified",
            f.flagged.len()
        ));
    }
    if max_step > 5.0 * median_step {
        warnings.push(format!(
            "irregular observations: a gap of {max_step} days against a median step of {median_step} days"
        ));
    }
    for (j, name) in PARAM_NAMES.iter().enumerate() {
        let needed = j < 4 || f.with_jumps;
        if needed && se[j].is_none() {
            warnings.push(if bootstrapped {
                format!("no standard error for {name}: fewer than half the bootstrap replicates estimated it")
            } else {
                format!("no standard error for {name}: the observed information is singular there")
            });
        }
    }
    // Full-sample filter: jump dates, residuals for the correlation, fitted path.
    let mut jump_dates = Vec::new();
    let mut resid = BTreeMap::new();
    let mut fitted = vec![p.log_level.exp()];
    filter(&p, &t, &y, |i, st| {
        if st.no_jump_prob < 0.5 {
            jump_dates.push(s.dates[i]);
        }
        resid.insert(s.dates[i], (st.diffusive_residual, st.no_jump_prob));
        fitted.push((p.log_level + p.drift * t[i] + st.jump_level).exp());
    });
    let pit = pit_residuals(&p, &t, &y);
    // Out of sample: fit on the first two thirds, predict the last third one step ahead.
    let cut = ((n as f64) * (1.0 - HOLDOUT_FRACTION)).round() as usize;
    let mut chart = ChartData {
        dates: s.dates.clone(),
        prices: s.prices.clone(),
        fitted,
        holdout_start: n,
        bands: Vec::new(),
        pit,
    };
    let coverage = if cut >= MIN_OBSERVATIONS && n - cut >= 20 {
        let fh = fit(&t[..cut], &y[..cut], half);
        let (mut in50, mut in90, mut m) = (0usize, 0usize, 0usize);
        chart.holdout_start = cut;
        filter(&fh.params, &t, &y, |i, st| {
            if i >= cut {
                let u = st.predictive.cdf(y[i]);
                m += 1;
                in50 += usize::from((0.25..=0.75).contains(&u));
                in90 += usize::from((0.05..=0.95).contains(&u));
                let q = |p: f64| st.predictive.quantile(p).exp();
                chart.bands.push([q(0.05), q(0.25), q(0.75), q(0.95)]);
            }
        });
        Some(Coverage {
            fit_until: s.dates[cut - 1],
            observations: m,
            band50: in50 as f64 / m as f64,
            band90: in90 as f64 / m as f64,
        })
    } else {
        warnings.push(format!(
            "history too short to hold out a third for the out-of-sample coverage (needs {} observations)",
            (MIN_OBSERVATIONS as f64 / (1.0 - HOLDOUT_FRACTION)).ceil()
        ));
        None
    };
    let historical_drift = est(p.drift, se[1]);
    let mut price0 = s.prices[n - 1];
    let mut drift = historical_drift;
    let mut drift_source = "history".to_string();
    let forward_fit = match forwards.and_then(|fc| fc.latest(&s.class)) {
        None => None,
        Some((as_of, pts)) => {
            let Some(k) = s.dates.iter().rposition(|d| *d <= as_of) else {
                let fc = forwards.expect("some");
                return Err(curve_too_early(fc, history, s, as_of, &pts));
            };
            let gap = (as_of - s.dates[k]).num_days();
            if gap > 7 {
                warnings.push(format!(
                    "the forward curve of {as_of} is {gap} days after the last observation on or before it ({}); that observation is used as the spot",
                    s.dates[k]
                ));
            }
            let spot = s.prices[k];
            let shocks = options.shocks.get(&s.class);
            let quotes: Vec<(u32, f64, f64)> = pts
                .iter()
                .map(|q| {
                    let sum = shocks.map_or(0.0, |v| {
                        v.iter()
                            .filter(|(m, _)| *m <= q.tenor_months)
                            .map(|(_, l)| l)
                            .sum()
                    });
                    (q.tenor_months, q.forward, sum)
                })
                .collect();
            let process = PriceProcess {
                price0: spot,
                drift: p.drift,
                kappa: p.kappa,
                sigma: p.sigma,
                jump_intensity: p.jump_intensity,
                jump_mean: p.jump_mean,
                jump_std: p.jump_std,
            };
            let fit = fit_drift(&process, &quotes);
            price0 = spot;
            drift = est(fit.drift, fit.drift_std_error);
            drift_source = "forward curve".into();
            Some(ForwardFitReport { as_of, spot, fit })
        }
    };
    let jump_est = |j: usize, v: f64| est(v, if f.with_jumps { se[j] } else { None });
    Ok((
        ClassCalibration {
            class: s.class.clone(),
            observations: n,
            first_date: s.dates[0],
            last_date: s.dates[n - 1],
            years,
            median_step_days: median_step,
            price0_per_gpu_hour: price0,
            drift,
            drift_source,
            historical_drift,
            kappa: est(p.kappa, se[2]),
            kappa_mle: f.kappa_mle,
            sigma: est(p.sigma, se[3]),
            jump_intensity: jump_est(4, p.jump_intensity),
            jump_mean: jump_est(5, p.jump_mean),
            jump_std: jump_est(6, p.jump_std),
            log_level: est(p.log_level, se[0]),
            jumps_estimated: f.with_jumps,
            log_likelihood: f.log_likelihood,
            jump_dates,
            coverage,
            forward_fit,
            std_errors,
            warnings,
            chart,
        },
        resid,
    ))
}

impl ClassCalibration {
    /// The fitted parameters as [`Params`] (drift: the one for the portfolio).
    pub fn params(&self) -> Params {
        Params {
            log_level: self.log_level.value,
            drift: self.drift.value,
            kappa: self.kappa.value,
            sigma: self.sigma.value,
            jump_intensity: self.jump_intensity.value,
            jump_mean: self.jump_mean.value,
            jump_std: self.jump_std.value,
        }
    }
}
