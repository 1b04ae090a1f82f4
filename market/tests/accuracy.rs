//! Accuracy of `calibrate` on histories simulated by gaib's own price model (MODEL.md §1,
//! exact discretisation at a daily step, tests/common/sim.rs) from known parameters: three
//! years of daily data, four correlated classes, fixed seeds.
//!
//! The parameters are chosen so that three years of daily data identify them: mean reversion
//! of 4–6 per year (half-lives of 1.5–2 months; at the sample portfolio's 1.2 per year three
//! years hold about four half-lives and kappa's standard error exceeds kappa itself), and
//! 5–6 jumps a year of 10–15 % (one class upwards) against a daily diffusive move of about 2 % (jumps the size of one
//! day's diffusion cannot be told from it, docs/MARKET.md).

mod common;

use chrono::NaiveDate;
use common::sim::{simulate_csv, TrueClass};
use gaib_market::{calibrate, parse_history, Estimate, Options};

fn truth() -> Vec<TrueClass> {
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

fn corr() -> Vec<Vec<f64>> {
    vec![
        vec![1.00, 0.80, 0.60, 0.70],
        vec![0.80, 1.00, 0.70, 0.60],
        vec![0.60, 0.70, 1.00, 0.45],
        vec![0.70, 0.60, 0.45, 1.00],
    ]
}

#[test]
fn three_years_of_daily_data_recover_every_parameter_and_the_bands_cover() {
    let start = NaiveDate::from_ymd_opt(2023, 11, 1).unwrap();
    let classes = truth();
    let mut z: std::collections::BTreeMap<&str, Vec<f64>> = Default::default();
    let (mut in50, mut in90, mut m) = (0.0, 0.0, 0.0);
    let mut failures = Vec::new();
    for seed in [1u64, 2, 3] {
        let csv = simulate_csv(&classes, &corr(), 1095, start, seed, "");
        let h = parse_history(&csv, "sim.csv").unwrap();
        let cal = calibrate(&h, None, &Options::default()).unwrap();
        let mut check = |name: &'static str, class: &str, e: &Estimate, truth: f64| {
            let se = e
                .std_error
                .unwrap_or_else(|| panic!("seed {seed} {class} {name}: no standard error"));
            let zz = (e.value - truth) / se;
            if zz.abs() > 3.0 {
                failures.push(format!(
                    "seed {seed} {class} {name}: {:.4} vs true {truth} (se {se:.4}, z {zz:.2})",
                    e.value
                ));
            }
            z.entry(name).or_default().push(zz);
        };
        for (c, t) in cal.classes.iter().zip(&classes) {
            assert_eq!(c.class, t.id);
            assert_eq!(c.drift_source, "history");
            check("drift", t.id, &c.drift, t.drift);
            check("kappa", t.id, &c.kappa, t.kappa);
            check("sigma", t.id, &c.sigma, t.sigma);
            check("jump_intensity", t.id, &c.jump_intensity, t.jump_intensity);
            check("jump_mean", t.id, &c.jump_mean, t.jump_mean);
            check("jump_std", t.id, &c.jump_std, t.jump_std);
            let cv = c.coverage.as_ref().expect("coverage");
            in50 += cv.band50 * cv.observations as f64;
            in90 += cv.band90 * cv.observations as f64;
            m += cv.observations as f64;
        }
        let rho = cal.correlation.as_ref().expect("correlation");
        for i in 0..4 {
            for j in 0..i {
                let e = Estimate {
                    value: rho.matrix[i][j],
                    std_error: Some(rho.std_errors[i][j]),
                };
                check("correlation", "pair", &e, corr()[i][j]);
            }
        }
    }
    assert!(
        failures.is_empty(),
        "outside 3 standard errors:\n{}",
        failures.join("\n")
    );
    // Bias: the mean z-score of each parameter over 3 seeds × 4 classes (× 6 pairs for the
    // correlation) must be within 3/sqrt(count) of 0 — a bias of about one standard error
    // (e.g. kappa without its small-sample correction) fails here.
    for (name, v) in &z {
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        let bound = 3.0 / (v.len() as f64).sqrt();
        assert!(
            mean.abs() < bound,
            "{name}: mean z {mean:.2} (bound {bound:.2}) {v:?}"
        );
    }
    let (c50, c90) = (in50 / m, in90 / m);
    println!("coverage: 50 % band {c50:.4}, 90 % band {c90:.4} over {m} one-step predictions");
    assert!(m > 2000.0, "{m}");
    assert!(
        (0.88..=0.92).contains(&c90),
        "90 % band covers {c90:.4} of {m}"
    );
    assert!(
        (0.47..=0.53).contains(&c50),
        "50 % band covers {c50:.4} of {m}"
    );
}
