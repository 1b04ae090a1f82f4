//! Discounting, yield, duration and WAL of a vector of monthly cash flows.
//!
//! Conventions (MODEL.md §8): cash flow index i is month k = i + 1, paid at t_k = k/12 years;
//! discount factor exp(−(z(t_k) + spread)·t_k) with the engine's [`DiscountCurve`] (continuous
//! compounding). Yields are continuously compounded annual rates, so for a riskless instrument
//! on a flat curve r valued at spread s the yield is exactly r + s.

use gaib_engine::DiscountCurve;

/// Months per year of the model grid.
const MONTHS_PER_YEAR: f64 = 12.0;

/// Convergence tolerance of [`yield_cc`]: |PV(y) − price| ≤ `YIELD_TOLERANCE`·price, or the
/// bracket narrower than 1e-14 per year.
pub const YIELD_TOLERANCE: f64 = 1e-12;

/// Time of month index `i` (month k = i + 1), years.
pub fn month_time_years(i: usize) -> f64 {
    (i + 1) as f64 / MONTHS_PER_YEAR
}

/// Present value of `cash_flows` (index i = month i + 1) on `curve` plus `spread_bps`
/// (basis points), in the cash flows' units.
pub fn present_value(cash_flows: &[f64], curve: &DiscountCurve, spread_bps: f64) -> f64 {
    cash_flows
        .iter()
        .enumerate()
        .map(|(i, c)| c * curve.discount_factor(month_time_years(i), spread_bps))
        .sum()
}

/// Present value at a flat continuously compounded yield `y` (per year).
pub fn present_value_at_yield(cash_flows: &[f64], y: f64) -> f64 {
    cash_flows
        .iter()
        .enumerate()
        .map(|(i, c)| c * (-y * month_time_years(i)).exp())
        .sum()
}

/// The discount spread (basis points over `curve`) at which the PV of `cash_flows` equals
/// `price` (same units): the discount margin / Z-spread a market price implies. Since
/// e^{−(z(t)+s)·t} = e^{−z(t)·t}·e^{−s·t}, it is the continuously compounded yield of the
/// curve-discounted cash flows ([`yield_cc`]), so it inherits that solver's tolerance and its
/// `None` (no positive price or cash flow, or a spread outside \[−50, 1000\] per year).
pub fn implied_spread_bps(cash_flows: &[f64], curve: &DiscountCurve, price: f64) -> Option<f64> {
    let on_curve: Vec<f64> = cash_flows
        .iter()
        .enumerate()
        .map(|(i, c)| c * curve.discount_factor(month_time_years(i), 0.0))
        .collect();
    yield_cc(&on_curve, price).map(|s| s * 1e4)
}

/// Weighted average life of a principal schedule, years: Σ t_k·P_k / Σ P_k; `None` when no
/// principal is received.
pub fn wal_years(principal: &[f64]) -> Option<f64> {
    let total: f64 = principal.iter().sum();
    if total <= 0.0 {
        return None;
    }
    let weighted: f64 = principal
        .iter()
        .enumerate()
        .map(|(i, p)| month_time_years(i) * p)
        .sum();
    Some(weighted / total)
}

/// The continuously compounded yield y (per year) with Σ c_k·e^{−y·t_k} = `price`: the IRR of
/// the cash flows bought at `price`. Safeguarded Newton (falls back to bisection inside a
/// bracket that always holds the root), tolerance [`YIELD_TOLERANCE`]. `None` when the price
/// or the cash flows are not positive, or no root lies in \[−50, 1000\] per year.
pub fn yield_cc(cash_flows: &[f64], price: f64) -> Option<f64> {
    if price.is_nan() || price <= 0.0 || cash_flows.iter().sum::<f64>() <= 0.0 {
        return None;
    }
    let f = |y: f64| present_value_at_yield(cash_flows, y) - price;
    let df = |y: f64| -> f64 {
        -cash_flows
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let t = month_time_years(i);
                t * c * (-y * t).exp()
            })
            .sum::<f64>()
    };
    let (mut lo, mut hi) = (-1.0, 1.0);
    while f(lo) < 0.0 {
        lo *= 2.0;
        if lo < -50.0 {
            return None;
        }
    }
    while f(hi) > 0.0 {
        hi *= 2.0;
        if hi > 1000.0 {
            return None;
        }
    }
    let mut y = 0.5 * (lo + hi);
    for _ in 0..200 {
        let v = f(y);
        if v.abs() <= YIELD_TOLERANCE * price || hi - lo < 1e-14 {
            return Some(y);
        }
        // PV is decreasing in y (non-negative cash flows): keep the root bracketed.
        if v > 0.0 {
            lo = y;
        } else {
            hi = y;
        }
        let d = df(y);
        let newton = if d != 0.0 { y - v / d } else { f64::NAN };
        y = if newton > lo && newton < hi {
            newton
        } else {
            0.5 * (lo + hi)
        };
    }
    Some(y)
}

/// Macaulay duration at the continuously compounded yield `y`, years:
/// Σ t_k·c_k·e^{−y·t_k} / Σ c_k·e^{−y·t_k}. With continuous compounding this is also the
/// modified duration −(1/P)·dP/dy. `None` when the PV is not positive.
pub fn duration_years(cash_flows: &[f64], y: f64) -> Option<f64> {
    let mut pv = 0.0;
    let mut tpv = 0.0;
    for (i, c) in cash_flows.iter().enumerate() {
        let t = month_time_years(i);
        let v = c * (-y * t).exp();
        pv += v;
        tpv += t * v;
    }
    (pv > 0.0).then(|| tpv / pv)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yield_of_a_riskless_bond_is_curve_plus_spread() {
        let curve = DiscountCurve::flat(0.04);
        let mut cf = vec![0.005; 36];
        cf[35] += 1.0;
        let price = present_value(&cf, &curve, 150.0);
        let y = yield_cc(&cf, price).unwrap();
        assert!((y - 0.055).abs() < 1e-11, "{y}");
        // Modified duration = −(1/P) dP/dy, checked by a central difference.
        let d = duration_years(&cf, y).unwrap();
        let h = 1e-6;
        let num = -(present_value_at_yield(&cf, y + h) - present_value_at_yield(&cf, y - h))
            / (2.0 * h)
            / price;
        assert!((d - num).abs() < 1e-6, "{d} vs {num}");
    }

    #[test]
    fn the_implied_spread_of_a_model_price_is_the_model_spread_on_any_curve() {
        let pt = |tenor_years, rate| gaib_engine::CurvePoint { tenor_years, rate };
        let curve = DiscountCurve::new(&[pt(0.25, 0.05), pt(1.0, 0.045), pt(5.0, 0.038)]);
        let mut cf = vec![0.007; 48];
        cf[47] += 1.0;
        for spread in [-40.0, 0.0, 175.0, 900.0] {
            let price = present_value(&cf, &curve, spread);
            let s = implied_spread_bps(&cf, &curve, price).unwrap();
            assert!((s - spread).abs() < 1e-6, "{s} vs {spread}");
        }
        // A lower price implies a wider spread.
        let par = present_value(&cf, &curve, 100.0);
        assert!(implied_spread_bps(&cf, &curve, 0.98 * par).unwrap() > 100.0);
        assert_eq!(implied_spread_bps(&cf, &curve, 0.0), None);
        assert_eq!(implied_spread_bps(&cf, &curve, f64::NAN), None);
    }

    #[test]
    fn yield_handles_deep_discounts_and_premiums() {
        let cf = vec![0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0];
        let y = yield_cc(&cf, 0.1).unwrap();
        assert!((y - 10f64.ln()).abs() < 1e-10);
        let y = yield_cc(&cf, 1.5).unwrap();
        assert!((y - (1.0f64 / 1.5).ln()).abs() < 1e-10);
        assert_eq!(yield_cc(&cf, 0.0), None);
        assert_eq!(yield_cc(&[0.0; 3], 1.0), None);
    }

    #[test]
    fn wal_weights_principal_by_time() {
        assert_eq!(wal_years(&[0.0; 4]), None);
        let w = wal_years(&[0.5, 0.0, 0.5]).unwrap();
        assert!((w - 2.0 / 12.0).abs() < 1e-15);
    }
}
