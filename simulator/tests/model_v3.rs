//! MODEL.md version 3 on a minimal Monte Carlo portfolio: the only randomness is the operator's
//! credit default time (hazard 1 per year, exponential), everything else is noise-free, so PD,
//! 1-year PD, EL and LGD have closed forms. Tolerance: 5 standard errors.
mod common;
use gaib_simulator::{lower, Backend, CpuBackend, InstrumentStats, RunOptions};

const Z: f64 = 5.0;
const PATHS: u64 = 20_000;

/// The noise-free fleet of engine/tests/model_rules.rs (tests/fixtures/noise_free.toml: NOI
/// 73,000 USD a month, G·V(t_k)·(1 − haircut) = 750,000·(1 − k/60) USD in month k), its
/// operator at hazard 1/yr, and a second fleet like it (`fl2`) of the same operator:
/// - `H` on `fl`: a hybrid of 100,000 at 12 %, full sweep, repaid in month 2, kicker 5 % for
///   12 months;
/// - `B` on `fl2`: a bullet of 1,200,000 at 12 % over 12 months, DSRA 36,000, refinanced at a
///   collateral ratio of 0.5 when the operator does not default.
fn portfolio() -> gaib_engine::Portfolio {
    let base = include_str!("../../tests/fixtures/noise_free.toml");
    let fleet = &base[base.find("[[fleets]]").expect("a fleet")..];
    let mut text = base.replace("hazard = 0.0", "hazard = 1.0");
    text.push_str(&fleet.replace("\nid = \"fl\"\n", "\nid = \"fl2\"\n"));
    text.push_str(include_str!("../../tests/fixtures/noise_free_hybrid.toml"));
    text.push_str(
        r#"
[[deals]]
id = "B"
kind = "loan"
fleet_id = "fl2"
principal = 1200000
rate = 0.12
term_months = 12
amortization = "bullet"
dsra_months = 3
refinance_min_collateral_ratio = 0.5
"#,
    );
    common::load(&text)
}

/// P[the operator's default falls in month k] = e^{−(k−1)/12} − e^{−k/12} at hazard 1/yr.
fn p_month(k: u32) -> f64 {
    (-f64::from(k - 1) / 12.0).exp() - (-f64::from(k) / 12.0).exp()
}

fn assert_close(got: f64, want: f64, se: f64, what: &str) {
    assert!(
        (got - want).abs() <= Z * se.max(1e-12),
        "{what}: {got} vs {want} (se {se})"
    );
}

fn assert_pd(s: &InstrumentStats, pd: f64) {
    let se = (pd * (1.0 - pd) / PATHS as f64).sqrt();
    assert_close(s.pd(), pd, se, &format!("{} PD", s.id));
    assert_close(s.pd_1y(), pd, se, &format!("{} 1-year PD", s.id));
}

#[test]
fn credit_defaults_after_repayment_and_in_the_final_month_are_default_events() {
    let plan = lower(&portfolio()).unwrap();
    let s = CpuBackend::new(Some(2))
        .unwrap()
        .run(&plan, 0..PATHS, 11, &RunOptions::default())
        .unwrap();
    let pd_term = 1.0 - (-1.0f64).exp();

    // H defaults with its operator in any month of its 12-month term (§4.3, §5), also after its
    // repayment in month 2; the collateral covers month 1's balance, so no path loses anything.
    let h = &s.deals[0];
    assert_eq!(h.id, "H");
    assert_pd(h, pd_term);
    assert_eq!(h.loss.mean(), 0.0);
    assert_eq!(h.loss_on_default.n, h.default_paths);
    assert_eq!(h.loss_on_default.mean(), 0.0, "LGD of H");

    // B defaults on the whole 1,200,000 in month k ≤ 12, the final month included (§4.1 steps
    // 3 and 4), recovering the collateral 750,000·(1 − k/60) plus the 36,000 reserve:
    // loss (414,000 + 12,500·k) / 1,200,000.
    let b = &s.deals[1];
    assert_eq!(b.id, "B");
    assert_pd(b, pd_term);
    let loss = |k: u32| (414_000.0 + 12_500.0 * f64::from(k)) / 1_200_000.0;
    let el: f64 = (1..=12).map(|k| p_month(k) * loss(k)).sum();
    assert_close(b.loss.mean(), el, b.loss.std_error(), "B EL");
    assert_close(b.loss_1y.mean(), el, b.loss_1y.std_error(), "B 1-year EL");
    assert_close(
        b.loss_on_default.mean(),
        el / pd_term,
        b.loss_on_default.std_error(),
        "B LGD",
    );
}
