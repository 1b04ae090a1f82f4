//! Monte Carlo estimates: a value never travels without its standard error, path count and
//! valuation date.

use chrono::NaiveDate;
use gaib_simulator::Moments;
use serde::{Deserialize, Serialize};

/// Two-sided 95 % standard-normal quantile, Φ⁻¹(0.975).
pub const Z95: f64 = 1.959_963_984_540_054;

/// A Monte Carlo estimate of a mean: `value ± std_error` over `paths` paths, as of a date.
///
/// Units are those of the field that holds it (named in the field, e.g. `price_pct`).
/// `ci95` is the normal-approximation 95 % interval value ± 1.96·std_error.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct McEstimate {
    /// The estimate (sample mean), in the field's units.
    pub value: f64,
    /// Standard error of the estimate, same units.
    pub std_error: f64,
    /// 95 % confidence interval \[value − 1.96·se, value + 1.96·se\], same units.
    pub ci95: [f64; 2],
    /// Number of paths the estimate is based on (for a conditional mean: the conditioning
    /// paths).
    pub paths: u64,
    /// Valuation date (t = 0).
    pub as_of: NaiveDate,
}

impl McEstimate {
    /// An estimate from its value and standard error.
    pub fn new(value: f64, std_error: f64, paths: u64, as_of: NaiveDate) -> Self {
        Self {
            value,
            std_error,
            ci95: [value - Z95 * std_error, value + Z95 * std_error],
            paths,
            as_of,
        }
    }

    /// The mean of `m` times `scale` (e.g. 100 for percent, a notional for USD).
    pub fn from_moments(m: &Moments, scale: f64, as_of: NaiveDate) -> Self {
        Self::new(m.mean() * scale, m.std_error() * scale, m.n, as_of)
    }

    /// A proportion `hits / n` times `scale`, with the binomial standard error
    /// sqrt(p(1−p)/n)·scale (0 when n = 0).
    pub fn proportion(hits: u64, n: u64, scale: f64, as_of: NaiveDate) -> Self {
        if n == 0 {
            return Self::new(0.0, 0.0, 0, as_of);
        }
        let p = hits as f64 / n as f64;
        Self::new(
            p * scale,
            (p * (1.0 - p) / n as f64).sqrt() * scale,
            n,
            as_of,
        )
    }

    /// The estimate scaled by a constant (units change accordingly).
    pub fn scaled(&self, k: f64) -> Self {
        Self::new(
            self.value * k,
            self.std_error * k.abs(),
            self.paths,
            self.as_of,
        )
    }

    /// Whether `x` lies within `k` standard errors of the estimate (for tests and checks).
    pub fn within(&self, x: f64, k: f64) -> bool {
        (self.value - x).abs() <= k * self.std_error
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 1).unwrap()
    }

    #[test]
    fn proportion_has_binomial_error() {
        let e = McEstimate::proportion(25, 100, 100.0, day());
        assert!((e.value - 25.0).abs() < 1e-12);
        assert!((e.std_error - (0.25f64 * 0.75 / 100.0).sqrt() * 100.0).abs() < 1e-12);
        assert!((e.ci95[1] - e.value - Z95 * e.std_error).abs() < 1e-12);
        assert_eq!(McEstimate::proportion(0, 0, 1.0, day()).paths, 0);
    }

    #[test]
    fn from_moments_scales_mean_and_error() {
        let mut m = Moments::default();
        for x in [1.0, 2.0, 3.0] {
            m.add(x);
        }
        let e = McEstimate::from_moments(&m, 10.0, day());
        assert!((e.value - 20.0).abs() < 1e-12);
        assert!((e.std_error - 10.0 * (1.0f64 / 3.0).sqrt()).abs() < 1e-12);
        assert!(e.within(21.0, 2.0));
    }
}
