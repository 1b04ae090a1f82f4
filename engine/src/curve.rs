//! The discount curve (MODEL.md §8): zero rates by tenor, linear interpolation in rate, flat
//! extrapolation, continuous compounding.

use crate::portfolio::CurvePoint;

/// A zero-rate curve. Built from validated points (tenors strictly increasing, at least one).
#[derive(Debug, Clone, PartialEq)]
pub struct DiscountCurve {
    tenors_years: Vec<f64>,
    rates: Vec<f64>,
}

impl DiscountCurve {
    /// Builds the curve from its points (assumed validated).
    pub fn new(points: &[CurvePoint]) -> Self {
        Self {
            tenors_years: points.iter().map(|p| p.tenor_years).collect(),
            rates: points.iter().map(|p| p.rate).collect(),
        }
    }

    /// A flat curve at `rate` (continuously compounded, per year).
    pub fn flat(rate: f64) -> Self {
        Self {
            tenors_years: vec![1.0],
            rates: vec![rate],
        }
    }

    /// Zero rate at `t` years (continuously compounded, per year).
    pub fn zero_rate(&self, t: f64) -> f64 {
        let n = self.tenors_years.len();
        if n == 0 {
            return 0.0;
        }
        if t <= self.tenors_years[0] {
            return self.rates[0];
        }
        if t >= self.tenors_years[n - 1] {
            return self.rates[n - 1];
        }
        let i = self.tenors_years.partition_point(|&x| x <= t);
        let (t0, t1) = (self.tenors_years[i - 1], self.tenors_years[i]);
        let (r0, r1) = (self.rates[i - 1], self.rates[i]);
        r0 + (r1 - r0) * (t - t0) / (t1 - t0)
    }

    /// Discount factor to `t` years with an extra spread in basis points.
    pub fn discount_factor(&self, t: f64, spread_bps: f64) -> f64 {
        (-(self.zero_rate(t) + spread_bps * 1e-4) * t).exp()
    }

    /// Simple annualised forward rate for the month starting at `t` years:
    /// 12·(DF(t)/DF(t + 1/12) − 1). This is the floating base rate of MODEL.md §4.1.
    pub fn one_month_forward(&self, t: f64) -> f64 {
        let dt = 1.0 / 12.0;
        12.0 * (self.discount_factor(t, 0.0) / self.discount_factor(t + dt, 0.0) - 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn curve() -> DiscountCurve {
        DiscountCurve::new(&[
            CurvePoint {
                tenor_years: 1.0,
                rate: 0.04,
            },
            CurvePoint {
                tenor_years: 3.0,
                rate: 0.05,
            },
        ])
    }

    #[test]
    fn interpolates_linearly_and_extrapolates_flat() {
        let c = curve();
        assert_eq!(c.zero_rate(0.5), 0.04);
        assert!((c.zero_rate(2.0) - 0.045).abs() < 1e-15);
        assert_eq!(c.zero_rate(10.0), 0.05);
    }

    #[test]
    fn flat_curve_forward_equals_monthly_compounding_of_rate() {
        let c = DiscountCurve::flat(0.05);
        let f = c.one_month_forward(1.0);
        assert!((f - 12.0 * ((0.05_f64 / 12.0).exp() - 1.0)).abs() < 1e-12);
        assert!((c.discount_factor(2.0, 100.0) - (-0.06_f64 * 2.0).exp()).abs() < 1e-15);
    }
}
