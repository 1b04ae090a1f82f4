//! Statistical checks of the model (MODEL.md §1, §2, §5) and the deterministic limit: fixed
//! seeds, tolerances of 5 standard errors unless stated.
mod common;
use common::Knobs;
use gaib_engine::{base_case, Amount};
use gaib_simulator::{lower, run_serial, Backend, CpuBackend, RunOptions, Worker};
use statrs::distribution::{ContinuousCDF, Normal};

const Z: f64 = 5.0;

fn mean_var(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let m = xs.iter().sum::<f64>() / n;
    let v = xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0);
    (m, v)
}

fn check_mean_var(xs: &[f64], mean: f64, var: f64, what: &str) {
    let n = xs.len() as f64;
    let (m, v) = mean_var(xs);
    let se_m = (var / n).sqrt();
    // SE of the sample variance: var·sqrt(2/(n−1)) for a normal; widened ×2 for jumps' kurtosis.
    let se_v = 2.0 * var * (2.0 / (n - 1.0)).sqrt();
    assert!(
        (m - mean).abs() < Z * se_m,
        "{what}: mean {m} vs {mean} (se {se_m})"
    );
    assert!(
        (v - var).abs() < Z * se_v,
        "{what}: var {v} vs {var} (se {se_v})"
    );
}

#[test]
fn deterministic_limit_equals_engine_base_case() {
    let p = common::portfolio(Knobs::deterministic());
    let base = base_case(&p).unwrap();
    let plan = lower(&p).unwrap();
    let n = 64;
    let s = CpuBackend::new(Some(2))
        .unwrap()
        .run(&plan, 0..n, 5, &RunOptions::default())
        .unwrap();
    // 1e-9 relative, or 5 cents: the engine books payments in whole cents, and a price computed
    // in f64 rather than Decimal can move a half-cent rounding boundary (then a cent of
    // interest changes the balance and later payments by cents).
    let close = |sim: f64, want: f64, what: &str| {
        assert!(
            (sim - want).abs() <= (1e-9 * want.abs()).max(0.05),
            "{what}: simulated {sim} vs base case {want}"
        );
    };
    for (d, st) in s.deals.iter().enumerate() {
        let cf = st.expected_cash_flow(n);
        let pr = st.expected_principal(n);
        let mut pv = 0.0;
        let mut loss = 0.0;
        for (k, row) in base.deals[d].iter().enumerate() {
            let want = row.flows.total_received().to_f64();
            close(
                cf[k] * st.notional_usd,
                want,
                &format!("deal {} month {}", st.id, k + 1),
            );
            close(
                pr[k] * st.notional_usd,
                row.flows.principal_proceeds().to_f64(),
                &format!("deal {} principal month {}", st.id, k + 1),
            );
            pv += want * plan.deal_df[d * plan.months as usize + k];
            loss += row.loss.to_f64();
        }
        close(
            st.pv.mean() * st.notional_usd,
            pv,
            &format!("deal {} pv", st.id),
        );
        close(
            st.loss.mean() * st.notional_usd,
            loss,
            &format!("deal {} loss", st.id),
        );
        assert!(
            st.pv.std_error() * st.notional_usd < 1e-6,
            "paths must be identical"
        );
    }
    for (q, pool) in s.tranches.iter().enumerate() {
        for (t, st) in pool.iter().enumerate() {
            let cf = st.expected_cash_flow(n);
            for (k, row) in base.pools[q].iter().enumerate() {
                close(
                    cf[k] * st.notional_usd,
                    row.tranches[t].received().to_f64(),
                    &format!("tranche {} month {}", st.id, k + 1),
                );
            }
        }
    }
}

fn market_samples(
    k: Knobs,
    n: u32,
    seed: u64,
) -> (gaib_simulator::SimPlan, Vec<gaib_simulator::MarketPath>) {
    let plan = lower(&common::portfolio(k)).unwrap();
    let mut w = Worker::new(&plan);
    let paths = (0..n).map(|i| w.market_path(seed, i)).collect();
    (plan, paths)
}

#[test]
fn ou_deviation_has_exact_mean_and_variance_at_t() {
    for kappa in [1.5, 0.0] {
        let knobs = Knobs {
            kappa,
            jump_intensity: 0.0,
            ..Knobs::default()
        };
        let (plan, paths) = market_samples(knobs, 20_000, 11);
        let sigma: f64 = knobs.sigma;
        for k in [1usize, 12, plan.months as usize] {
            let t = k as f64 / 12.0;
            let var = if kappa == 0.0 {
                sigma * sigma * t
            } else {
                sigma * sigma * (1.0 - (-2.0 * kappa * t).exp()) / (2.0 * kappa)
            };
            // Class 1 (A100) has no scheduled shocks: ln(P/P̄) = X.
            let xs: Vec<f64> = paths
                .iter()
                .map(|m| m.price_over_trend[k - 1][1].ln())
                .collect();
            check_mean_var(&xs, 0.0, var, &format!("X(t={t}) kappa={kappa}"));
            // Class 0 (H100) has a −0.1 shock from month 18: ln(P/P̄) = X + S.
            let s = if k >= 18 { -0.1 } else { 0.0 };
            let xs0: Vec<f64> = paths
                .iter()
                .map(|m| m.price_over_trend[k - 1][0].ln() - s)
                .collect();
            check_mean_var(&xs0, 0.0, var, &format!("H100 X(t={t}) kappa={kappa}"));
            // Correlation of the two classes' OU deviations equals the input 0.6 (same kappa).
            let (m0, v0) = mean_var(&xs0);
            let (m1, v1) = mean_var(&xs);
            let cov = xs0
                .iter()
                .zip(&xs)
                .map(|(a, b)| (a - m0) * (b - m1))
                .sum::<f64>()
                / (xs.len() as f64 - 1.0);
            let corr = cov / (v0 * v1).sqrt();
            let se = (1.0 - 0.36) / (xs.len() as f64).sqrt();
            assert!((corr - 0.6).abs() < Z * se, "corr {corr} at t={t}");
        }
    }
}

#[test]
fn compound_poisson_jumps_have_the_right_moments() {
    let knobs = Knobs {
        sigma: 0.0,
        jump_intensity: 2.0,
        ..Knobs::default()
    };
    let (plan, paths) = market_samples(knobs, 20_000, 12);
    let k = plan.months as usize;
    let t = k as f64 / 12.0;
    let (mu, sd) = (-0.1, 0.1);
    let lt = 2.0 * t;
    let js: Vec<f64> = paths
        .iter()
        .map(|m| m.price_over_trend[k - 1][0].ln() + 0.1)
        .collect();
    check_mean_var(&js, lt * mu, lt * (mu * mu + sd * sd), "J(T)");
}

#[test]
fn single_operator_default_frequency_is_one_minus_exp_minus_ht() {
    for (h, rho) in [(0.05, 0.3), (0.4, 0.0), (0.1, 1.0)] {
        let plan = lower(&common::portfolio(Knobs {
            hazard: h,
            rho,
            ..Knobs::default()
        }))
        .unwrap();
        let mut w = Worker::new(&plan);
        let n = 100_000u32;
        let mut hits = [0u64; 2];
        for i in 0..n {
            for (o, &m) in w.default_months(3, i).iter().enumerate() {
                assert!(m <= plan.months);
                if m > 0 {
                    hits[o] += 1;
                }
            }
        }
        let t = f64::from(plan.months) / 12.0;
        let p = 1.0 - (-h * t).exp();
        let se = (p * (1.0 - p) / f64::from(n)).sqrt();
        for hit in hits {
            let f = hit as f64 / f64::from(n);
            assert!((f - p).abs() < Z * se, "h={h} rho={rho}: {f} vs {p}");
        }
    }
}

/// P[A1 ≤ c, A2 ≤ c] for the one-factor copula: ∫ φ(m) Φ((c − √ρ m)/√(1−ρ))² dm by Simpson's
/// rule on [−10, 10] with 4000 intervals (error < 1e-10 for these smooth integrands).
fn joint_default_probability(c: f64, rho: f64) -> f64 {
    let nrm = Normal::standard();
    let (a, b, n) = (-10.0, 10.0, 4000);
    let h = (b - a) / n as f64;
    let f = |m: f64| {
        let phi = (-0.5 * m * m).exp() / (2.0 * std::f64::consts::PI).sqrt();
        let cond = if rho >= 1.0 {
            if m <= c {
                1.0
            } else {
                0.0
            }
        } else {
            nrm.cdf((c - rho.sqrt() * m) / (1.0 - rho).sqrt())
        };
        phi * cond * cond
    };
    let mut s = f(a) + f(b);
    for i in 1..n {
        s += f(a + i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 };
    }
    s * h / 3.0
}

#[test]
fn pairwise_default_correlation_matches_gaussian_copula() {
    for rho in [0.0, 0.3, 0.7] {
        let h = 0.1;
        let plan = lower(&common::portfolio(Knobs {
            hazard: h,
            rho,
            ..Knobs::default()
        }))
        .unwrap();
        let mut w = Worker::new(&plan);
        let n = 100_000u32;
        let mut both = 0u64;
        for i in 0..n {
            let m = w.default_months(21, i);
            if m[0] > 0 && m[1] > 0 {
                both += 1;
            }
        }
        let t = f64::from(plan.months) / 12.0;
        let p = 1.0 - (-h * t).exp();
        let c = Normal::standard().inverse_cdf(p);
        let p11 = joint_default_probability(c, rho);
        let f = both as f64 / f64::from(n);
        let se = (p11 * (1.0 - p11) / f64::from(n)).sqrt();
        assert!(
            (f - p11).abs() < Z * se,
            "rho={rho}: joint {f} vs copula {p11}"
        );
        // As a default correlation: (p11 − p²)/(p(1 − p)).
        let corr = (p11 - p * p) / (p * (1.0 - p));
        let emp = (f - p * p) / (p * (1.0 - p));
        assert!((emp - corr).abs() < Z * se / (p * (1.0 - p)), "rho={rho}");
    }
}

#[test]
fn utilization_stays_strictly_inside_unit_interval() {
    let knobs = Knobs {
        util_sigma: 10.0,
        ..Knobs::default()
    };
    let (_, paths) = market_samples(knobs, 2_000, 4);
    for m in &paths {
        for row in &m.utilization {
            for &u in row {
                assert!(u > 0.0 && u < 1.0, "{u}");
            }
        }
        for row in &m.price {
            assert!(row.iter().all(|p| p.is_finite() && *p > 0.0));
        }
    }
}

#[test]
fn degenerate_inputs_take_limits_not_nan() {
    let knobs = Knobs {
        kappa: 0.0,
        rho: 1.0,
        hazard: 0.0,
        util_sigma: 0.0,
        ..Knobs::default()
    };
    let plan = lower(&common::portfolio(knobs)).unwrap();
    let s = run_serial(&plan, 0..300, 8).unwrap();
    let json = String::from_utf8(s.canonical_json()).unwrap();
    assert!(!json.contains("null") && !json.contains("NaN"));
    for d in &s.deals {
        assert!(d.pv.mean().is_finite() && d.loss.mean().is_finite());
    }
    // hazard = 0: no operator ever has a credit default (payment defaults may still happen).
    let mut w = Worker::new(&plan);
    for i in 0..300 {
        assert!(w.default_months(8, i).iter().all(|&m| m == 0));
    }
    // rho = 1 with a positive hazard: both operators default in the same month.
    let plan = lower(&common::portfolio(Knobs {
        rho: 1.0,
        hazard: 0.2,
        ..Knobs::default()
    }))
    .unwrap();
    let mut w = Worker::new(&plan);
    for i in 0..2000 {
        let m = w.default_months(1, i);
        assert_eq!(m[0], m[1]);
    }
}

#[test]
fn vault_nav_is_sane() {
    let plan = lower(&common::portfolio(Knobs {
        redemption: 0.3,
        ..Knobs::default()
    }))
    .unwrap();
    let s = run_serial(&plan, 0..500, 2).unwrap();
    let v = s.vault.as_ref().unwrap();
    assert!(v.nav0_per_share_usd > 0.0);
    // Staking NAV ignores unrealised losses: never below unstaking on average.
    assert!(v.nav_staking.mean() >= v.nav_unstaking.mean() - 1e-12);
    // Horizon of 90 days is month 3; ratios near 1.
    assert_eq!(v.horizon_month, 3);
    assert!(
        (v.nav_unstaking.mean() - 1.0).abs() < 0.2,
        "{}",
        v.nav_unstaking.mean()
    );
    // Heavy redemptions (30 %/cycle) against a small buffer leave queues.
    assert!(v.queue_not_cleared[0] > 0);
    assert!(v.queue_not_cleared[0] >= v.queue_not_cleared[1]);
    assert!(v.queue_not_cleared[1] >= v.queue_not_cleared[2]);
}

/// The sample portfolio with every stochastic term switched off.
fn deterministic_sample() -> gaib_engine::Portfolio {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/portfolios");
    let text = std::fs::read_to_string(dir.join("sample.toml")).unwrap();
    let mut p = gaib_engine::load_portfolio(&text, "sample.toml", |rel| {
        std::fs::read_to_string(dir.join(rel)).map_err(|e| e.to_string())
    })
    .unwrap()
    .portfolio;
    for c in &mut p.gpu_classes {
        c.sigma = 0.0;
        c.jump_intensity = 0.0;
    }
    for o in &mut p.operators {
        o.hazard = 0.0;
    }
    for f in &mut p.fleets {
        f.utilization_sigma = 0.0;
    }
    p
}

#[test]
fn deterministic_sample_portfolio_matches_base_case() {
    let p = deterministic_sample();
    let base = base_case(&p).unwrap();
    let plan = lower(&p).unwrap();
    let n = 8;
    let s = run_serial(&plan, 0..n, 3).unwrap();
    let (mut worst_rel, mut worst_abs, mut flows) = (0.0f64, 0.0f64, 0usize);
    for (d, st) in s.deals.iter().enumerate() {
        let cf = st.expected_cash_flow(n);
        for (k, row) in base.deals[d].iter().enumerate() {
            let want = row.flows.total_received().to_f64();
            let got = cf[k] * st.notional_usd;
            let diff = (got - want).abs();
            worst_abs = worst_abs.max(diff);
            if want.abs() > 1.0 {
                worst_rel = worst_rel.max(diff / want.abs());
            }
            flows += 1;
        }
    }
    eprintln!(
        "{flows} deal-months: worst |diff| {worst_abs:.3e} USD, worst relative {worst_rel:.3e}"
    );
    assert!(worst_abs <= 0.05, "worst |diff| {worst_abs} USD");
    for (q, pool) in s.tranches.iter().enumerate() {
        for (t, st) in pool.iter().enumerate() {
            let cf = st.expected_cash_flow(n);
            for (k, row) in base.pools[q].iter().enumerate() {
                let want = row.tranches[t].received().to_f64();
                assert!(
                    (cf[k] * st.notional_usd - want).abs() <= (1e-9 * want.abs()).max(0.05),
                    "tranche {} month {}",
                    st.id,
                    k + 1
                );
            }
        }
    }
}
