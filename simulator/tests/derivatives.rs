//! MODEL.md §10 on the Monte Carlo paths: compute-price derivatives against closed forms, and
//! a hedge lowering its deal's PD on the same paths.
//!
//! - Forwards and swaps against E[P_c(t_k)] in closed form (OU + compound-Poisson jumps +
//!   scheduled shocks), re-derived here from MODEL.md §1 (not taken from gaib-market).
//! - Without jumps, month-end caps and floors against Black's formula on the OU log-variance.
//! - Cap − floor = swap path by path (put-call parity, up to cent rounding).
//!
//! Tolerance: |MC − closed form| ≤ 4 standard errors of the MC mean (a false alarm about once
//! in 16,000 runs per check; the seeds are fixed, so each check is deterministic).
mod common;
use gaib_simulator::{lower, Backend, CpuBackend, PathRows, PathStats, RunOptions, Simulation};
use statrs::function::erf::erfc;

const Z: f64 = 4.0;
const PATHS: u64 = 20_000;

/// One H100 class (P0 = 2.0, drift −0.2, kappa 1.2, sigma 0.35, jumps 0.6/yr of
/// N(−0.05, 0.1²), a −0.1 shock from month 6), a flat 4 % curve, one fully contracted fleet
/// and no deals: a pure market for the derivatives in `derivatives`.
fn market(jump_intensity: f64, derivatives: &str) -> gaib_engine::Portfolio {
    common::load(&format!(
        r#"
[portfolio]
id = "derivatives"
as_of = "2026-11-01"
horizon_months = 24

[market]
discount_curve = [{{ tenor_years = 1.0, rate = 0.04 }}]
asset_correlation = 0.0

[[gpu_classes]]
id = "H100"
price0_per_gpu_hour = 2.0
drift = -0.2
kappa = 1.2
sigma = 0.35
jump_intensity = {jump_intensity:?}
jump_mean = -0.05
jump_std = 0.1
shocks = [{{ month = 6, log_size = -0.1 }}]
useful_life_years = 5.0
residual_floor = 0.1

[[operators]]
id = "op"
hazard = 0.0

[[fleets]]
id = "fl"
operator_id = "op"
class_id = "H100"
gpus = 10
utilization0 = 0.5
utilization_mean = 0.5
utilization_kappa = 1.0
utilization_sigma = 0.0
contracted_share = 1.0
contract_rate_per_gpu_hour = 1.0
contract_end_month = 24
opex_fixed_per_gpu_hour = 0.0
opex_variable_per_gpu_hour = 0.0
purchase_price_per_gpu = 10000
liquidation_haircut = 0.25
{derivatives}
"#
    ))
}

fn derivative(
    id: &str,
    kind: &str,
    position: &str,
    fixing: &str,
    strike: f64,
    months: (u32, u32),
) -> String {
    format!(
        r#"
[[derivatives]]
id = "{id}"
kind = "{kind}"
position = "{position}"
class_id = "H100"
fixing = "{fixing}"
notional_gpu_hours_per_month = 1000
strike_per_gpu_hour = {strike:?}
start_month = {}
end_month = {}
"#,
        months.0, months.1
    )
}

/// E[P(t_k)] of MODEL.md §1 in closed form: P0·exp(mu·t + S(k) + ½·v(t) + lambda·t·(e^{m + ½s²} − 1)),
/// v(t) = sigma²·(1 − e^{−2·kappa·t})/(2·kappa).
fn expected_price(k: u32, jump_intensity: f64) -> f64 {
    let t = f64::from(k) / 12.0;
    let (p0, mu, kappa, sigma) = (2.0, -0.2, 1.2, 0.35);
    let shock = if k >= 6 { -0.1 } else { 0.0 };
    let jumps = jump_intensity * t * ((-0.05 + 0.5 * 0.1 * 0.1_f64).exp() - 1.0);
    p0 * (mu * t + shock + 0.5 * ou_variance(t, kappa, sigma) + jumps).exp()
}

fn ou_variance(t: f64, kappa: f64, sigma: f64) -> f64 {
    sigma * sigma * (1.0 - (-2.0 * kappa * t).exp()) / (2.0 * kappa)
}

fn df(k: u32) -> f64 {
    (-0.04 * f64::from(k) / 12.0).exp()
}

fn phi(x: f64) -> f64 {
    0.5 * erfc(-x / std::f64::consts::SQRT_2)
}

/// Black's undiscounted call (put if `!call`) on a lognormal with mean `f` and log-variance `v`.
fn black(f: f64, strike: f64, v: f64, call: bool) -> f64 {
    let sd = v.sqrt();
    let d1 = ((f / strike).ln() + 0.5 * v) / sd;
    let d2 = d1 - sd;
    if call {
        f * phi(d1) - strike * phi(d2)
    } else {
        strike * phi(-d2) - f * phi(-d1)
    }
}

fn run(p: &gaib_engine::Portfolio, seed: u64, rows: bool) -> (PathStats, PathRows) {
    let plan = lower(p).unwrap();
    let mut r = PathRows::new(&plan);
    let backend = CpuBackend::new(Some(2)).unwrap();
    let stats = if rows {
        backend
            .simulate(
                &plan,
                Simulation {
                    paths: 0..PATHS,
                    seed,
                    opts: &RunOptions::default(),
                    sink: Some(&mut r),
                    progress: None,
                },
            )
            .unwrap()
    } else {
        backend
            .run(&plan, 0..PATHS, seed, &RunOptions::default())
            .unwrap()
    };
    (stats, r)
}

fn assert_within(got: f64, want: f64, se: f64, what: &str) {
    assert!(
        (got - want).abs() <= Z * se,
        "{what}: MC {got} vs closed form {want} (se {se}, {:.2} se)",
        (got - want) / se
    );
}

#[test]
fn swaps_and_forwards_price_at_the_closed_form_expected_price() {
    let lam = 0.6;
    let p = market(
        lam,
        &[
            derivative("swap-avg", "swap", "long", "average", 1.5, (1, 24)),
            derivative("swap-end", "swap", "short", "month_end", 1.7, (3, 20)),
            derivative("fwd", "forward", "long", "average", 1.6, (10, 12)),
            derivative("fut", "future", "short", "month_end", 1.4, (18, 18)),
        ]
        .concat(),
    );
    let (s, _) = run(&p, 7, false);
    let e = |k: u32| expected_price(k, lam);
    let avg = |k: u32| 0.5 * (e(k - 1) + e(k));
    let n = 1000.0;
    let cf_swap_avg: f64 = (1..=24).map(|k| df(k) * n * (avg(k) - 1.5)).sum();
    let cf_swap_end: f64 = -(3..=20).map(|k| df(k) * n * (e(k) - 1.7)).sum::<f64>();
    let cf_fwd = df(12) * n * ((10..=12).map(avg).sum::<f64>() - 3.0 * 1.6);
    let cf_fut = -df(18) * n * (e(18) - 1.4);
    for (d, want) in s
        .derivatives
        .iter()
        .zip([cf_swap_avg, cf_swap_end, cf_fwd, cf_fut])
    {
        assert_within(d.expected_pv_usd(), want, d.pv_std_error_usd(), &d.id);
    }
    // The expected monthly settlement of the average swap, month by month, within 4 se of a
    // settlement's own spread (the month's se is below the PV's).
    let swap = &s.derivatives[0];
    let by_month = swap.expected_settlement_usd();
    assert!(
        (by_month[0] - n * (avg(1) - 1.5)).abs() < 0.02 * n,
        "{}",
        by_month[0]
    );
    assert_eq!(by_month.len(), 24);
    assert_eq!(
        swap.paid_paths, PATHS,
        "the first month's fixing is above 1.5 on every path"
    );
}

#[test]
fn without_jumps_caps_and_floors_match_blacks_formula_and_parity_holds_path_by_path() {
    let p = market(
        0.0,
        &[
            derivative("cap", "cap", "long", "month_end", 1.8, (1, 24)),
            derivative("floor", "floor", "long", "month_end", 1.8, (1, 24)),
            derivative("swap", "swap", "long", "month_end", 1.8, (1, 24)),
            derivative("floor-short", "floor", "short", "month_end", 1.5, (7, 24)),
        ]
        .concat(),
    );
    let (s, rows) = run(&p, 11, true);
    let n = 1000.0;
    let var = |k: u32| ou_variance(f64::from(k) / 12.0, 1.2, 0.35);
    let leg = |k: u32, strike: f64, call: bool| {
        df(k) * n * black(expected_price(k, 0.0), strike, var(k), call)
    };
    let cap: f64 = (1..=24).map(|k| leg(k, 1.8, true)).sum();
    let floor: f64 = (1..=24).map(|k| leg(k, 1.8, false)).sum();
    let short_floor: f64 = -(7..=24).map(|k| leg(k, 1.5, false)).sum::<f64>();
    for (i, want) in [(0, cap), (1, floor), (3, short_floor)] {
        let d = &s.derivatives[i];
        assert_within(d.expected_pv_usd(), want, d.pv_std_error_usd(), &d.id);
    }
    // Cap − floor = swap on every path: settlements differ by cent rounding only (≤ 1 cent a
    // month, 24 months).
    let r = &s.derivatives;
    for i in 0..rows.len() {
        let pv = |j: usize| rows.derivative_pv_frac[j][i] * r[j].reference_usd;
        let gap = pv(0) - pv(1) - pv(2);
        assert!(gap.abs() <= 0.24, "path {i}: cap − floor − swap = {gap}");
    }
    // The rows carry the same per-path PVs as the statistics.
    let mean = rows.derivative_pv_frac[0].iter().sum::<f64>() / rows.len() as f64;
    assert!((mean - s.derivatives[0].pv.mean()).abs() < 1e-12);
    let plan = lower(&p).unwrap();
    let names: Vec<String> = PathRows::columns(&plan).into_iter().map(|c| c.0).collect();
    assert!(names.contains(&"derivative/floor-short/pv_frac".to_string()));
}

/// A fleet fully exposed to the spot price (no contract) with an annuity loan whose debt
/// service (48,400 USD a month) is covered while P ≥ 1.45 (NOI = 58,400·P − 36,500 at the mean
/// utilization): the falling price causes payment defaults. A short swap on
/// most of the fleet's expected GPU-hours hedging it takes most price risk out of its NOI.
fn exposed_operator(hedge: bool) -> gaib_engine::Portfolio {
    let hedges = if hedge { "hedges = \"fl\"\n" } else { "" };
    common::load(&format!(
        r#"
[portfolio]
id = "hedge"
as_of = "2026-11-01"

[market]
discount_curve = [{{ tenor_years = 1.0, rate = 0.04 }}]
asset_correlation = 0.0

[[gpu_classes]]
id = "H100"
price0_per_gpu_hour = 2.0
drift = -0.1
kappa = 0.5
sigma = 0.45
jump_intensity = 0.3
jump_mean = -0.1
jump_std = 0.1
useful_life_years = 5.0
residual_floor = 0.1

[[operators]]
id = "op"
hazard = 0.0

[[fleets]]
id = "fl"
operator_id = "op"
class_id = "H100"
gpus = 100
utilization0 = 0.8
utilization_mean = 0.8
utilization_kappa = 2.0
utilization_sigma = 0.2
opex_fixed_per_gpu_hour = 0.5
opex_variable_per_gpu_hour = 0.0
purchase_price_per_gpu = 30000
liquidation_haircut = 0.3

[[deals]]
id = "L"
kind = "loan"
fleet_id = "fl"
principal = 1500000
rate = 0.10
term_months = 36
amortization = "annuity"
recovery_lag_months = 0

[[derivatives]]
id = "hedge"
kind = "swap"
position = "short"
class_id = "H100"
fixing = "average"
notional_gpu_hours_per_month = 55000
strike_per_gpu_hour = 1.75
start_month = 1
end_month = 36
{hedges}"#
    ))
}

#[test]
fn a_short_swap_hedging_a_price_exposed_fleet_lowers_its_deals_pd_on_the_same_paths() {
    let unhedged = exposed_operator(false);
    let hedged = exposed_operator(true);
    assert_eq!(hedged.without_hedges(), unhedged);
    let seed = 23;
    let plan_u = lower(&unhedged).unwrap();
    let plan_h = lower(&hedged).unwrap();
    let b = CpuBackend::new(Some(2)).unwrap();
    let paths = 4000;
    let su = b
        .run(&plan_u, 0..paths, seed, &RunOptions::default())
        .unwrap();
    let sh = b
        .run(&plan_h, 0..paths, seed, &RunOptions::default())
        .unwrap();
    let (pd_u, pd_h) = (su.deals[0].pd(), sh.deals[0].pd());
    eprintln!("PD of L: unhedged {pd_u}, hedged {pd_h}");
    assert!(
        pd_u > 0.10,
        "the unhedged deal must be price-sensitive: PD {pd_u}"
    );
    assert!(
        pd_h < 0.5 * pd_u,
        "hedged PD {pd_h} is not well below the unhedged {pd_u}"
    );
    assert!(sh.deals[0].loss.mean() < su.deals[0].loss.mean());
    // Common random numbers: the swap's own value is the same path by path whether or not it
    // hedges (it draws nothing and changes no price).
    assert_eq!(su.derivatives, {
        let mut d = sh.derivatives.clone();
        d[0].hedges = None;
        d
    });
    // Thread count and chunking change nothing, derivatives included.
    let s1 = CpuBackend::new(Some(1))
        .unwrap()
        .run(
            &plan_h,
            0..paths,
            seed,
            &RunOptions {
                chunk_paths: 333,
                ..RunOptions::default()
            },
        )
        .unwrap();
    assert_eq!(s1, sh);
}

/// data/portfolios/sample_hedged.toml (issue 23 review, finding 2): its hedging swaps are
/// struck at the fair fixed rate (E[PV] within 4 se of zero, plus 1 % of the reference for the
/// rounded strike — an off-market strike is a free transfer, not a hedge), and on the same
/// paths a hedged deal's PD falls by several standard errors: Vega's short H100 swap takes
/// the price-driven defaults off L-14 (seed 7, 2 000 paths; 30.9 % → 21.75 % when written).
#[test]
fn the_hedged_sample_swaps_at_the_fair_rate_and_lowers_a_hedged_deals_pd() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/portfolios");
    let text = std::fs::read_to_string(dir.join("sample_hedged.toml")).unwrap();
    let hedged = gaib_engine::load_portfolio(&text, "sample_hedged.toml", |rel| {
        std::fs::read_to_string(dir.join(rel)).map_err(|e| e.to_string())
    })
    .unwrap()
    .portfolio;
    let unhedged = hedged.without_hedges();
    let (plan_h, plan_u) = (lower(&hedged).unwrap(), lower(&unhedged).unwrap());
    let b = CpuBackend::new(Some(2)).unwrap();
    let (paths, seed) = (2000, 7);
    let sh = b
        .run(&plan_h, 0..paths, seed, &RunOptions::default())
        .unwrap();
    let su = b
        .run(&plan_u, 0..paths, seed, &RunOptions::default())
        .unwrap();
    let mut swaps = 0;
    for (d, s) in hedged.derivatives.iter().zip(&sh.derivatives) {
        if d.hedges.is_some() && d.kind == gaib_engine::DerivativeKind::Swap {
            swaps += 1;
            let (pv, se) = (s.expected_pv_usd(), s.pv_std_error_usd());
            assert!(
                pv.abs() <= Z * se + 0.01 * s.reference_usd,
                "{}: E[PV] {pv} ± {se} of {} is not a fair-rate swap",
                d.id,
                s.reference_usd
            );
        }
    }
    assert!(swaps >= 1);
    let i = plan_h.deal_ids.iter().position(|id| id == "L-14").unwrap();
    let (h, u) = (&sh.deals[i], &su.deals[i]);
    let se = |p: f64| (p * (1.0 - p) / paths as f64).sqrt();
    let (pd_h, pd_u) = (h.pd(), u.pd());
    eprintln!("L-14 PD: unhedged {pd_u}, hedged {pd_h}");
    assert!(
        pd_h + 4.0 * (se(pd_h) + se(pd_u)) < pd_u,
        "L-14 PD hedged {pd_h} vs unhedged {pd_u}"
    );
}

/// E[PV] and its standard error stay right however large the PV is against N·m·P_c(0)
/// (issue 23 review, finding 1): the statistics clamp each per-path value to ±1e5 and its
/// square to 1e5, so a premium folded into the per-path value, or a strike far above P_c(0)
/// under a reference of N·m·P_c(0), understated the standard error (or the mean) silently.
/// A premium is deterministic: it shifts E[PV] by exactly s·premium and adds no error; a
/// swap's strike shifts E[PV] by −Σ_k DF(t_k)·N·ΔK (cent-exact here) and leaves the error.
#[test]
fn a_large_premium_or_strike_shifts_e_pv_exactly_and_leaves_its_standard_error() {
    let base = derivative("SW", "swap", "long", "month_end", 2.0, (1, 24));
    let far = derivative("SW", "swap", "long", "month_end", 5000.0, (1, 24));
    let floor = derivative("FL", "floor", "long", "month_end", 2.0, (1, 24));
    let run_one = |text: String| {
        let p = market(0.6, &text);
        let plan = lower(&p).unwrap();
        CpuBackend::new(Some(2))
            .unwrap()
            .run(&plan, 0..400, 11, &RunOptions::default())
            .unwrap()
            .derivatives
            .remove(0)
    };
    let (b, f) = (run_one(base), run_one(far));
    let shift: f64 = (1..=24).map(|k| df(k) * 1000.0 * 4998.0).sum();
    let (eb, ef) = (b.expected_pv_usd(), f.expected_pv_usd());
    assert!(
        (ef - (eb - shift)).abs() < 1e-6 * shift,
        "strike 5000: E[PV] {ef}, want {}",
        eb - shift
    );
    let (sb, sf) = (b.pv_std_error_usd(), f.pv_std_error_usd());
    assert!(sb > 0.0 && (sf - sb).abs() < 1e-3 * sb, "se {sf} vs {sb}");
    let fl = run_one(floor.clone());
    let pr = run_one(format!("{floor}premium_usd = 1e9\n"));
    let want = fl.expected_pv_usd() - 1e9;
    assert!(
        (pr.expected_pv_usd() - want).abs() < 1e-6,
        "premium 1e9: E[PV] {}, want {want}",
        pr.expected_pv_usd()
    );
    assert!(fl.pv_std_error_usd() > 0.0);
    assert_eq!(pr.pv_std_error_usd(), fl.pv_std_error_usd());
}

/// Timing and discounting, exactly (issue 23 review, finding 8): with sigma = 0 and no jumps
/// the price is deterministic, P_c(t_k) = P0·exp(mu·t_k + S(k)), so every path settles the
/// same C_k = s·cents(N·payoff(F_k)) and PV = Σ_k C_k·DF(t_k) − s·premium with
/// DF(t) = exp(−(r + spread)·t) at t_k = k/12 — a one-month shift of the fixing or of the
/// discounting moves E[PV] by tens of USD here, far beyond the tolerance (a cent per month
/// for a rounding boundary). A short month-end swap with a spread and a premium, and a long
/// average-fixing cap with a negative spread and a premium.
#[test]
fn with_a_deterministic_price_pv_is_the_discounted_cents_less_the_premium() {
    let text = format!(
        "{}premium_usd = 1000\ndiscount_spread_bps = 250.0\n{}premium_usd = 500\ndiscount_spread_bps = -100.0\n",
        derivative("SW", "swap", "short", "month_end", 1.5, (2, 13)),
        derivative("CAP", "cap", "long", "average", 1.6, (1, 12)),
    );
    let mut p = market(0.0, &text);
    p.gpu_classes[0].sigma = 0.0;
    let plan = lower(&p).unwrap();
    let st = CpuBackend::new(Some(2))
        .unwrap()
        .run(&plan, 0..50, 3, &RunOptions::default())
        .unwrap();
    let price = |k: u32| {
        let shock = if k >= 6 { -0.1 } else { 0.0 };
        2.0 * (-0.2 * f64::from(k) / 12.0 + shock).exp()
    };
    let cents = |x: f64| (x * 100.0).round_ties_even() / 100.0;
    let dfk = |k: u32, spread_bps: f64| (-(0.04 + spread_bps * 1e-4) * f64::from(k) / 12.0).exp();
    type Payoff = fn(u32, &dyn Fn(u32) -> f64) -> f64;
    // (derivative index, s, premium, spread bps, strip, payoff per GPU-hour)
    type Case = (usize, f64, f64, f64, (u32, u32), Payoff);
    let cases: [Case; 2] = [
        (0, -1.0, 1000.0, 250.0, (2, 13), |k, p| p(k) - 1.5),
        (1, 1.0, 500.0, -100.0, (1, 12), |k, p| {
            (0.5 * (p(k - 1) + p(k)) - 1.6).max(0.0)
        }),
    ];
    for (i, s, premium, spread, (a, b), payoff) in cases {
        let d = &st.derivatives[i];
        let settled = d.expected_settlement_usd();
        let mut want = -s * premium;
        let mut booked = -s * premium;
        for k in 1..=24u32 {
            let c = if (a..=b).contains(&k) {
                s * cents(1000.0 * payoff(k, &price))
            } else {
                0.0
            };
            let got = settled[(k - 1) as usize];
            assert!(
                (got - c).abs() <= 0.0100001,
                "{} month {k}: {got} vs {c}",
                d.id
            );
            want += c * dfk(k, spread);
            booked += got * dfk(k, spread);
        }
        let pv = d.expected_pv_usd();
        assert!(
            (pv - booked).abs() < 1e-9 * booked.abs().max(1.0),
            "{}: {pv} vs {booked}",
            d.id
        );
        assert!(
            (pv - want).abs() <= 0.01 * f64::from(b - a + 1),
            "{}: {pv} vs {want}",
            d.id
        );
        assert_eq!(d.pv_std_error_usd(), 0.0, "{}", d.id);
    }
}
