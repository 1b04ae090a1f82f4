//! The four classes the accuracy and standard-error tests simulate: parameters that three
//! years of daily data identify (mean reversion of 4–6 per year, half-lives of 1.5–2 months;
//! 5–6 jumps a year of 10–15 %, one class upwards, against a daily diffusive move of about
//! 2 %; jumps the size of one day's diffusion cannot be told from it, docs/MARKET.md).

#![allow(dead_code, unreachable_pub)]

use super::sim::TrueClass;

/// The true parameters of the four simulated classes.
pub fn truth() -> Vec<TrueClass> {
    vec![
        TrueClass {
            id: "H100",
            price0: 2.35,
            drift: -0.28,
            kappa: 4.0,
            sigma: 0.35,
            jump_intensity: 6.0,
            jump_mean: -0.12,
            jump_std: 0.04,
        },
        TrueClass {
            id: "H200",
            price0: 3.30,
            drift: -0.22,
            kappa: 5.0,
            sigma: 0.30,
            jump_intensity: 5.0,
            jump_mean: -0.10,
            jump_std: 0.03,
        },
        TrueClass {
            id: "B200",
            price0: 5.30,
            drift: -0.10,
            kappa: 4.0,
            sigma: 0.40,
            jump_intensity: 6.0,
            jump_mean: -0.15,
            jump_std: 0.05,
        },
        TrueClass {
            id: "A100",
            price0: 1.19,
            drift: -0.30,
            kappa: 6.0,
            sigma: 0.30,
            jump_intensity: 5.0,
            jump_mean: 0.12,
            jump_std: 0.04,
        },
    ]
}

/// The correlation of their diffusive shocks.
pub fn corr() -> Vec<Vec<f64>> {
    vec![
        vec![1.00, 0.80, 0.60, 0.70],
        vec![0.80, 1.00, 0.70, 0.60],
        vec![0.60, 0.70, 1.00, 0.45],
        vec![0.70, 0.60, 0.45, 1.00],
    ]
}

/// The z-scores (estimate − truth)/se of one calibration of the four classes, per parameter
/// name, the correlation's six pairs included; None where the calibration gave no standard
/// error (a miss for any coverage count).
pub fn z_scores(cal: &gaib_market::Calibration) -> Vec<(&'static str, Option<f64>)> {
    let classes = truth();
    let mut out = Vec::new();
    let mut push = |name: &'static str, e: &gaib_market::Estimate, truth: f64| {
        out.push((name, e.std_error.map(|se| (e.value - truth) / se)));
    };
    for (c, t) in cal.classes.iter().zip(&classes) {
        assert_eq!(c.class, t.id);
        push("drift", &c.historical_drift, t.drift);
        push("kappa", &c.kappa, t.kappa);
        push("sigma", &c.sigma, t.sigma);
        push("jump_intensity", &c.jump_intensity, t.jump_intensity);
        push("jump_mean", &c.jump_mean, t.jump_mean);
        push("jump_std", &c.jump_std, t.jump_std);
    }
    if let Some(rho) = cal.correlation.as_ref() {
        for i in 0..classes.len() {
            for j in 0..i {
                let e = gaib_market::Estimate {
                    value: rho.matrix[i][j],
                    std_error: Some(rho.std_errors[i][j]),
                };
                push("correlation", &e, corr()[i][j]);
            }
        }
    }
    out
}

/// Per parameter name: (z-scores, number without a standard error).
pub type ZTable = std::collections::BTreeMap<&'static str, (Vec<f64>, usize)>;

/// Adds one calibration's z-scores to `table`.
pub fn collect(table: &mut ZTable, cal: &gaib_market::Calibration) {
    for (name, z) in z_scores(cal) {
        let e = table.entry(name).or_default();
        match z {
            Some(v) => e.0.push(v),
            None => e.1 += 1,
        }
    }
}

/// Shares of the class parameters' z-scores (the correlation left out: its standard errors
/// are asymptotic whatever the method) within 2 and 3 standard errors, and their count; a
/// missing standard error counts as outside.
pub fn pooled_coverage(table: &ZTable) -> (f64, f64, usize) {
    let (mut n, mut in2, mut in3) = (0usize, 0usize, 0usize);
    for (name, (z, missing)) in table {
        if *name == "correlation" {
            continue;
        }
        n += z.len() + missing;
        in2 += z.iter().filter(|v| v.abs() < 2.0).count();
        in3 += z.iter().filter(|v| v.abs() < 3.0).count();
    }
    (in2 as f64 / n as f64, in3 as f64 / n as f64, n)
}

/// The table as text: per parameter n, missing, mean and standard deviation of z, shares
/// within 2 and 3 standard errors; then the pooled shares.
pub fn report(table: &ZTable) -> String {
    let mut s = String::from("parameter          n  no-se   mean z   sd z   |z|<2   |z|<3\n");
    for (name, (v, missing)) in table {
        let n = v.len() as f64;
        let mean = v.iter().sum::<f64>() / n;
        let sd = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
        let all = (v.len() + missing) as f64;
        let w2 = v.iter().filter(|x| x.abs() < 2.0).count() as f64 / all;
        let w3 = v.iter().filter(|x| x.abs() < 3.0).count() as f64 / all;
        s += &format!(
            "{name:<15} {:>4} {missing:>6} {mean:>8.3} {sd:>6.3} {w2:>7.3} {w3:>7.3}\n",
            v.len()
        );
    }
    let (c2, c3, n) = pooled_coverage(table);
    s += &format!(
        "class parameters pooled: {n} z-scores, {c2:.3} within 2 se, {c3:.3} within 3 se\n"
    );
    s
}
