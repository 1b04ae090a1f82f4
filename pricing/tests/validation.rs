//! Closed-form validations of the simulation + pricing chain (issue 5). Each check states its
//! tolerance and why; each fails if the formula or the simulation were wrong (checked by
//! breaking them on purpose: a wrong annuity payment, an LGD of 0.5 instead of 0.6 in the
//! Vasicek formula, a conservation leak of one fee month).

use gaib_engine::{base_case, parse_portfolio, DiscountCurve, Format, Portfolio};
use gaib_pricing::closed_form::{
    annuity_price, bullet_price, conditional_pd, gauss_legendre, vasicek_tranche_el,
};
use gaib_pricing::{present_value, simulate_and_value, wal_years, RunSpec, Valuation};
use gaib_simulator::{CpuBackend, PathStats, RunOptions};
use statrs::distribution::{Binomial, Continuous, Discrete, Normal};

fn run(p: &Portfolio, paths: u64, seed: u64) -> (PathStats, Valuation) {
    let backend = CpuBackend::new(None).unwrap();
    let spec = RunSpec {
        backend: &backend,
        paths,
        seed,
        options: RunOptions::default(),
    };
    simulate_and_value(p, &spec).unwrap()
}

fn parse(text: &str) -> Portfolio {
    let p = parse_portfolio(text, Format::Toml, "test.toml").unwrap();
    gaib_engine::validate(&p, &[]).unwrap();
    p
}

/// A market with no randomness: zero price volatility and jumps, zero utilization noise, zero
/// hazard; one fleet whose NOI (≈ 6.6 M USD a month) dwarfs any debt service.
fn deterministic_market(rate: f64) -> String {
    format!(
        r#"
[portfolio]
id = "det"
as_of = "2026-11-01"
[market]
discount_curve = [{{ tenor_years = 1.0, rate = {rate} }}]
asset_correlation = 0.0
[[gpu_classes]]
id = "H100"
price0_per_gpu_hour = 10.0
drift = 0.0
kappa = 1.0
sigma = 0.0
useful_life_years = 5.0
residual_floor = 0.1
[[operators]]
id = "op"
hazard = 0.0
[[fleets]]
id = "fl"
operator_id = "op"
class_id = "H100"
gpus = 1000
utilization0 = 0.9
utilization_mean = 0.9
utilization_kappa = 1.0
utilization_sigma = 0.0
opex_fixed_per_gpu_hour = 0.1
opex_variable_per_gpu_hour = 0.0
purchase_price_per_gpu = 30000
liquidation_haircut = 0.3
"#
    )
}

/// Price tolerance of the deterministic case: the engine books every payment in cents, so a
/// 1 M USD loan's price (fraction of par) differs from the real-number formula by at most
/// ≈ 36 × 0.005 / 1e6 ≈ 2e-7.
const CENT_TOLERANCE: f64 = 1e-6;

#[test]
fn deterministic_annuity_and_bullet_match_the_textbook_price() {
    let (r, spread_a, spread_b) = (0.04, 150.0, 0.0);
    let text = deterministic_market(r)
        + r#"
[[deals]]
id = "ANN"
kind = "loan"
fleet_id = "fl"
principal = 1000000
rate = 0.10
term_months = 36
amortization = "annuity"
recovery_lag_months = 0
discount_spread_bps = 150
[[deals]]
id = "BUL"
kind = "loan"
fleet_id = "fl"
principal = 1000000
rate = 0.08
term_months = 24
amortization = "bullet"
recovery_lag_months = 0
discount_spread_bps = 0
"#;
    let p = parse(&text);
    let (_, v) = run(&p, 64, 7);
    let curve = DiscountCurve::flat(r);

    let ann = v.instrument("ANN").unwrap();
    let want = annuity_price(0.10, 36, &curve, spread_a);
    assert!(
        (ann.price_pct.value / 100.0 - want).abs() < CENT_TOLERANCE,
        "annuity {} vs textbook {want}",
        ann.price_pct.value / 100.0
    );
    assert_eq!(ann.price_pct.std_error, 0.0, "no randomness, no error");
    assert_eq!(ann.expected_loss_pct.value, 0.0);
    // The yield of a riskless loan at its model price is the flat curve plus the spread.
    assert!((ann.yield_pct.unwrap() / 100.0 - (r + spread_a * 1e-4)).abs() < 1e-8);
    // WAL of the textbook schedule: principal of payment k is A − i·B_{k−1}.
    let (i, n) = (0.10 / 12.0, 36);
    let a = i / (1.0 - (1.0f64 + i).powi(-n));
    let mut b = 1.0;
    let mut principal = Vec::new();
    for _ in 0..n {
        let pr = a - i * b;
        principal.push(pr);
        b -= pr;
    }
    let wal = wal_years(&principal).unwrap();
    assert!((ann.wal_years.unwrap() - wal).abs() < 1e-6, "WAL {wal}");

    let bul = v.instrument("BUL").unwrap();
    let want = bullet_price(0.08, 24, &curve, spread_b);
    assert!((bul.price_pct.value / 100.0 - want).abs() < CENT_TOLERANCE);
    assert!((bul.wal_years.unwrap() - 2.0).abs() < 1e-12);
    // Modified duration of the bullet at its yield, from the formula's cash flows.
    let y = bul.yield_pct.unwrap() / 100.0;
    assert!((y - r).abs() < 1e-8);
    let (mut pv, mut tpv) = (0.0, 0.0);
    for k in 1..=24 {
        let t = f64::from(k) / 12.0;
        let c = 0.08 / 12.0 + if k == 24 { 1.0 } else { 0.0 };
        pv += c * (-y * t).exp();
        tpv += t * c * (-y * t).exp();
    }
    assert!((bul.modified_duration_years.unwrap() - tpv / pv).abs() < 1e-6);
}

/// Gauss–Legendre expectation over M ~ N(0, 1) of f(M) on [−10, 10] (64 panels × 32 nodes).
fn expect_over_factor(f: impl Fn(f64) -> f64) -> f64 {
    let n = Normal::new(0.0, 1.0).unwrap();
    let (x, w) = gauss_legendre(32);
    let panels = 64;
    let h = 20.0 / panels as f64;
    let mut s = 0.0;
    for j in 0..panels {
        let mid = -10.0 + (j as f64 + 0.5) * h;
        for (xi, wi) in x.iter().zip(&w) {
            let m = mid + 0.5 * h * xi;
            s += wi * 0.5 * h * n.pdf(m) * f(m);
        }
    }
    s
}

#[test]
fn large_homogeneous_pool_matches_vasicek_tranche_losses() {
    // N identical 12-month zero-rate bullet loans of 1000 USD, one operator each; payment
    // default impossible (NOI ≈ 65 700 USD a month); recovery fixed at 400 (hardware at its
    // residual floor, zero price volatility), so LGD = 0.6. A credit default in month 12 comes
    // before the balloon (MODEL.md §4.1 steps 3 and 4, version 3), so a loan defaults iff
    // tau ≤ 1 year.
    const N: usize = 1000;
    let (pd, rho, lgd) = (0.05, 0.3, 0.6);
    let horizon = 1.0;
    let h = -(1.0f64 - pd).ln() / horizon;
    let mut t = String::from(
        r#"
[portfolio]
id = "lhp"
as_of = "2026-11-01"
[market]
discount_curve = [{ tenor_years = 1.0, rate = 0.04 }]
asset_correlation = 0.3
[[gpu_classes]]
id = "G"
price0_per_gpu_hour = 100.0
drift = 0.0
kappa = 1.0
sigma = 0.0
useful_life_years = 1.0
residual_floor = 0.4
"#,
    );
    for i in 0..N {
        t += &format!(
            "[[operators]]\nid = \"o{i}\"\nhazard = {h}\n[[fleets]]\nid = \"f{i}\"\noperator_id = \"o{i}\"\nclass_id = \"G\"\ngpus = 1\nutilization0 = 0.9\nutilization_mean = 0.9\nutilization_kappa = 1.0\nutilization_sigma = 0.0\nopex_fixed_per_gpu_hour = 0.0\nopex_variable_per_gpu_hour = 0.0\npurchase_price_per_gpu = 1000\nage0_months = 24\nliquidation_haircut = 0.0\n[[deals]]\nid = \"d{i}\"\nkind = \"loan\"\nfleet_id = \"f{i}\"\nprincipal = 1000\nrate = 0.0\nterm_months = 12\namortization = \"bullet\"\nrecovery_lag_months = 0\n"
        );
    }
    let ids: Vec<String> = (0..N).map(|i| format!("\"d{i}\"")).collect();
    // Tranches [0, 3 %], [3 %, 7 %], [7 %, 100 %]; zero coupons and fees, so every path's
    // tranche loss is min((L − a)⁺, d − a) of the pool loss fraction L.
    t += &format!(
        "[[pools]]\nid = \"P\"\ndeal_ids = [{}]\noc_trigger = 0\n\
         [[pools.tranches]]\nid = \"S\"\nbalance = 930000\ncoupon = 0.0\n\
         [[pools.tranches]]\nid = \"M\"\nbalance = 40000\ncoupon = 0.0\n\
         [[pools.tranches]]\nid = \"E\"\nbalance = 30000\nequity = true\n",
        ids.join(", ")
    );
    let p = parse(&t);
    let (_, v) = run(&p, 8000, 2026);

    // Single-name PD: P[tau ≤ 1] = pd.
    let d0 = v.instrument("d0").unwrap();
    assert!(d0.pd_pct.within(100.0 * pd, 3.0), "PD {:?}", d0.pd_pct);

    let binom_el = |a: f64, d: f64| {
        // Exact finite-pool EL: defaults ~ Binomial(N, p(M)) given M.
        expect_over_factor(|m| {
            let pm = conditional_pd(pd, rho, m).clamp(0.0, 1.0);
            let b = Binomial::new(pm, N as u64).unwrap();
            (0..=N as u64)
                .map(|k| {
                    let l = lgd * k as f64 / N as f64;
                    b.pmf(k) * (l - a).clamp(0.0, d - a) / (d - a)
                })
                .sum::<f64>()
        })
    };
    for (id, a, d) in [("P/E", 0.0, 0.03), ("P/M", 0.03, 0.07), ("P/S", 0.07, 1.0)] {
        let el = v.instrument(id).unwrap().expected_loss_pct;
        let formula = 100.0 * vasicek_tranche_el(pd, rho, lgd, a, d);
        assert!(
            el.within(formula, 3.0),
            "{id}: simulated EL {} ± {} %, Vasicek {formula} %",
            el.value,
            el.std_error
        );
        // The pool is finite: its exact (binomial) EL differs from the large-pool limit by
        // less than one standard error here, so the 3-se check above is not loosened by
        // granularity.
        let finite = 100.0 * binom_el(a, d);
        assert!(
            (finite - formula).abs() < el.std_error,
            "{id}: granularity {finite} vs {formula} (se {})",
            el.std_error
        );
        assert!(el.std_error > 0.0 && el.std_error < 0.1 * formula.max(0.1));
    }

    // Portfolio VaR: the exact finite-pool loss distribution P[L = lgd·k/N] =
    // E_M[Binomial(N, p(M)) pmf at k]; the simulated VaR must lie between the exact quantiles at
    // the order-statistic ranks alpha ± 1.96·sqrt(alpha(1 − alpha)/n), widened by one
    // histogram bin (0.01 %).
    let n01 = Normal::new(0.0, 1.0).unwrap();
    let (x, w) = gauss_legendre(32);
    let mut dist = vec![0.0; N + 1];
    let panels = 64;
    let hw = 20.0 / panels as f64;
    for j in 0..panels {
        let mid = -10.0 + (j as f64 + 0.5) * hw;
        for (xi, wi) in x.iter().zip(&w) {
            let m = mid + 0.5 * hw * xi;
            let weight = wi * 0.5 * hw * n01.pdf(m);
            let b = Binomial::new(conditional_pd(pd, rho, m).clamp(0.0, 1.0), N as u64).unwrap();
            for (k, dk) in dist.iter_mut().enumerate() {
                *dk += weight * b.pmf(k as u64);
            }
        }
    }
    let exact_quantile = |r: f64| {
        let mut cdf = 0.0;
        for (k, pk) in dist.iter().enumerate() {
            cdf += pk;
            if cdf >= r {
                return 100.0 * lgd * k as f64 / N as f64;
            }
        }
        100.0 * lgd
    };
    for alpha in [0.95, 0.99] {
        let var = v.tail(alpha).unwrap().var_pct;
        let delta = 1.96 * (alpha * (1.0 - alpha) / v.paths as f64).sqrt();
        let (lo, hi) = (exact_quantile(alpha - delta), exact_quantile(alpha + delta));
        assert!(
            var >= lo - 0.01 && var <= hi + 0.01,
            "VaR {alpha}: simulated {var} %, exact finite-pool interval [{lo}, {hi}] %"
        );
    }
}

const SMALL: &str = include_str!("../../tests/fixtures/valid/small.toml");

#[test]
fn tranche_pvs_add_up_to_the_pool_collections_when_discounted_alike() {
    // Random paths with defaults, no fees, every instrument at 200 bp: each path's pool
    // collections equal its tranche receipts month by month, so Σ E[PV] agrees to the
    // fixed-point rounding of the statistics (≈ 1e-18 per path).
    let mut p = parse(SMALL);
    p.pools[0].senior_fee_bps = 0.into();
    for t in &mut p.pools[0].tranches {
        t.discount_spread_bps = 200.0;
    }
    for d in &mut p.deals {
        d.discount_spread_bps = 200.0;
    }
    let (stats, v) = run(&p, 3000, 11);
    let tranches: f64 = v.tranches.iter().map(|t| t.pv_usd.value).sum();
    let deals: f64 = v.deals.iter().map(|d| d.pv_usd.value).sum();
    assert!(v.portfolio.expected_loss_pct.value > 0.1, "losses happen");
    assert!(
        (tranches - deals).abs() < 1e-9 * deals,
        "tranches {tranches} vs collections {deals}"
    );
    // E[PV] equals the PV of the expected cash flows on the same curve (pricing and the
    // simulator discount alike).
    let curve = DiscountCurve::new(&p.market.discount_curve);
    for (s, i) in stats.tranches[0].iter().zip(&v.tranches) {
        let cf = s.expected_cash_flow(stats.paths);
        let pv = present_value(&cf, &curve, 200.0);
        assert!((pv * 100.0 - i.price_pct.value).abs() < 1e-9, "{}", i.id);
    }
}

#[test]
fn tranche_pvs_equal_collections_minus_fees() {
    // Senior fees on, no randomness (zero volatilities and hazards): every path is the
    // engine's Decimal base case, whose fees we discount independently of the simulation.
    let mut p = parse(SMALL);
    for c in &mut p.gpu_classes {
        c.sigma = 0.0;
        c.jump_intensity = 0.0;
    }
    for f in &mut p.fleets {
        f.utilization_sigma = 0.0;
    }
    for o in &mut p.operators {
        o.hazard = 0.0;
    }
    for t in &mut p.pools[0].tranches {
        t.discount_spread_bps = 100.0;
    }
    for d in &mut p.deals {
        d.discount_spread_bps = 100.0;
    }
    let (_, v) = run(&p, 16, 3);
    let bc = base_case(&p).unwrap();
    let curve = DiscountCurve::new(&p.market.discount_curve);
    let fees: Vec<f64> = bc.pools[0]
        .iter()
        .map(|m| m.result.fees_paid.try_into().unwrap())
        .collect();
    let fees_pv = present_value(&fees, &curve, 100.0);
    assert!(fees_pv > 1000.0, "fees matter: {fees_pv}");
    let tranches: f64 = v.tranches.iter().map(|t| t.pv_usd.value).sum();
    let deals: f64 = v.deals.iter().map(|d| d.pv_usd.value).sum();
    // f64 simulation vs Decimal base case: cent roundings may differ by a cent a month.
    assert!(
        (tranches - (deals - fees_pv)).abs() < 1.0,
        "tranches {tranches} vs collections − fees {}",
        deals - fees_pv
    );
}
