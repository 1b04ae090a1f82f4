//! Property tests: cash conservation of deals and pools on random terms and random market paths,
//! and validation that never panics on arbitrary input.

use gaib_engine::{
    base_case, load_portfolio, Amortization, CashflowPlan, DealTerms, Decimal, MarketMonth,
    Portfolio, Validated,
};
use proptest::prelude::*;

const SMALL: &str = include_str!("../../tests/fixtures/valid/small.toml");

fn small() -> Portfolio {
    load_portfolio(SMALL, "small.toml", |_| Err("no tape".into()))
        .unwrap()
        .portfolio
}

fn amortization(i: u8) -> Amortization {
    match i % 3 {
        0 => Amortization::Annuity,
        1 => Amortization::Linear,
        _ => Amortization::Bullet,
    }
}

/// Random loan terms on deal L-1 and the hybrid, random revenue-share terms.
#[allow(clippy::too_many_arguments)]
fn perturb(
    p: &mut Portfolio,
    rate_bp: u32,
    term: u32,
    grace: u32,
    dsra: u32,
    sweep_pct: u32,
    am: u8,
    share_pct: u32,
) {
    for d in &mut p.deals {
        match &mut d.terms {
            DealTerms::Loan(l) | DealTerms::Hybrid { loan: l, .. } => {
                if l.rate.is_some() {
                    l.rate = Some(Decimal::new(i64::from(rate_bp), 4));
                }
                l.term_months = term;
                l.grace_months = grace.min(term - 1);
                l.dsra_months = dsra;
                l.cash_sweep = Decimal::new(i64::from(sweep_pct), 2);
                l.amortization = amortization(am);
            }
            DealTerms::RevenueShare(r) => {
                r.share = Decimal::new(i64::from(share_pct.max(1)), 2);
                r.term_months = term;
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// On random market paths (prices, utilization, operator defaults) in f64: every month the
    /// pool's collections equal fees plus tranche receipts, balances stay non-negative, and each
    /// deal's principal proceeds plus booked losses equal its funded amount.
    #[test]
    fn random_paths_conserve_cash(
        rate_bp in 0u32..2500, term in 6u32..48, grace in 0u32..12, dsra in 0u32..6,
        sweep_pct in 0u32..100, am in 0u8..3, share_pct in 1u32..40,
        prices in proptest::collection::vec((0.05f64..8.0, 0.05f64..4.0, 0.02f64..0.99, 0.02f64..0.99), 60),
        default_month in proptest::option::of((0usize..2, 1u32..60)),
    ) {
        let mut p = small();
        perturb(&mut p, rate_bp, term, grace, dsra, sweep_pct, am, share_pct);
        p.portfolio.horizon_months = Some(60);
        let plan = CashflowPlan::<f64>::new(Validated::new(&p, &[]).unwrap());
        let mut s = plan.initial_state();
        let mut out = plan.new_output();
        let funded: Vec<f64> = plan.deals.iter().map(|d| d.funded()).collect();
        let mut principal = vec![0.0; funded.len()];
        let mut loss = vec![0.0; funded.len()];
        for k in 1..=plan.horizon_months {
            let (p0, p1, u0, u1) = prices[(k - 1) as usize];
            let mut defaults = [false, false];
            if let Some((op, m)) = default_month {
                defaults[op] = m == k;
            }
            let market = MarketMonth {
                price: &[p0, p1],
                price_over_trend: &[p0 / 2.35, p1 / 1.2],
                utilization: &[u0, u1],
                credit_default: &defaults,
            };
            plan.step(k, &market, &mut s, &mut out);
            for (q, c) in out.pool_collections.iter().enumerate() {
                let paid: f64 = out.pool_months[q].fees_paid
                    + out.tranches[q].iter().map(|t| t.interest + t.principal).sum::<f64>();
                prop_assert!((paid - c.interest_proceeds - c.principal_proceeds).abs() < 1e-6,
                    "month {}: paid {} vs collected {}", k, paid, c.interest_proceeds + c.principal_proceeds);
                for t in &out.tranches[q] {
                    prop_assert!(t.balance_end >= -1e-9 && t.interest >= -1e-9 && t.principal >= -1e-9);
                }
            }
            for (d, f) in out.deals.iter().enumerate() {
                prop_assert!(f.balance_end >= -1e-9 && s.deals[d].dsra >= -1e-9, "deal {} month {}", d, k);
                principal[d] += f.principal_proceeds();
                // A loss covers principal and the interest unpaid at default.
                loss[d] += out.losses[d] - f.default_unpaid_interest;
            }
        }
        for d in 0..funded.len() {
            prop_assert!((principal[d] + loss[d] - funded[d]).abs() < 1e-4 * funded[d].max(1.0),
                "deal {}: principal {} + loss {} != funded {}", d, principal[d], loss[d], funded[d]);
        }
    }

    /// On random market paths (MODEL.md §6): no tranche receives principal — nor anything
    /// else — in a month in which a more senior tranche ends with unpaid interest arrears or a
    /// write-down. Interest proceeds are made scarce (low loan rates, a rich senior coupon) so
    /// that the senior runs into arrears on many paths while principal still flows.
    #[test]
    fn random_paths_pay_no_junior_while_a_senior_tranche_is_short(
        rate_bp in 0u32..800, term in 6u32..48, grace in 0u32..12, dsra in 0u32..6,
        sweep_pct in 0u32..100, am in 0u8..3, share_pct in 1u32..40,
        senior_coupon_bp in 500u32..2500,
        prices in proptest::collection::vec((0.05f64..8.0, 0.05f64..4.0, 0.02f64..0.99, 0.02f64..0.99), 60),
        default_month in proptest::option::of((0usize..2, 1u32..60)),
    ) {
        let mut p = small();
        perturb(&mut p, rate_bp, term, grace, dsra, sweep_pct, am, share_pct);
        p.pools[0].tranches[0].coupon = Some(Decimal::new(i64::from(senior_coupon_bp), 4));
        p.portfolio.horizon_months = Some(60);
        let plan = CashflowPlan::<f64>::new(Validated::new(&p, &[]).unwrap());
        let mut s = plan.initial_state();
        let mut out = plan.new_output();
        for k in 1..=plan.horizon_months {
            let (p0, p1, u0, u1) = prices[(k - 1) as usize];
            let mut defaults = [false, false];
            if let Some((op, m)) = default_month {
                defaults[op] = m == k;
            }
            let market = MarketMonth {
                price: &[p0, p1],
                price_over_trend: &[p0 / 2.35, p1 / 1.2],
                utilization: &[u0, u1],
                credit_default: &defaults,
            };
            plan.step(k, &market, &mut s, &mut out);
            for tranches in &out.tranches {
                for j in 1..tranches.len() {
                    let senior_short = tranches[0].interest_shortfall > 1e-9
                        || tranches[..j].iter().any(|t| t.writedown > 1e-9);
                    prop_assert!(!senior_short || tranches[j].principal <= 1e-9,
                        "month {}: tranche {} got principal {} while a more senior one is short: {:?}",
                        k, j, tranches[j].principal, tranches);
                    prop_assert!(!senior_short || tranches[j].received() <= 1e-9,
                        "month {}: tranche {} got {} while a more senior one is short: {:?}",
                        k, j, tranches[j].received(), tranches);
                }
            }
        }
    }

    /// Arbitrary bytes never make the loader panic.
    #[test]
    fn loader_never_panics_on_random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let text = String::from_utf8_lossy(&bytes);
        let _ = load_portfolio(&text, "fuzz.toml", |_| Err("no tape".into()));
        let _ = load_portfolio(&text, "fuzz.json", |_| Err("no tape".into()));
        let _ = gaib_engine::parse_loan_tape(&text, "fuzz.csv");
    }

    /// Replacing any number of the valid file by an arbitrary one never panics; whatever
    /// validates also runs its base case without panicking.
    #[test]
    fn mutated_numbers_never_panic(pick in 0usize..200, value in prop_oneof![
        any::<f64>().prop_map(|x| format!("{x:?}")),
        any::<i64>().prop_map(|x| x.to_string()),
        Just("nan".to_string()), Just("inf".to_string()), Just("-0".to_string()), Just("1e308".to_string()),
    ]) {
        let mut numbers = Vec::new();
        let bytes = SMALL.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i].is_ascii_digit() && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric() && bytes[i - 1] != b'-' && bytes[i - 1] != b'.') {
                let start = i;
                while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'.') { i += 1; }
                numbers.push((start, i));
            } else { i += 1; }
        }
        let (a, b) = numbers[pick % numbers.len()];
        let text = format!("{}{}{}", &SMALL[..a], value, &SMALL[b..]);
        if let Ok(l) = load_portfolio(&text, "mutated.toml", |_| Err("no tape".into())) {
            let _ = base_case(&l.portfolio);
        }
    }
}

/// Lowering takes only a `Validated` portfolio: one whose fleet names an unknown GPU class, or
/// whose pool names an unknown deal, is refused with the field and value, where the plan once
/// mapped unknown ids to index 0 (the first class) or dropped them.
#[test]
fn only_a_validated_portfolio_can_be_lowered() {
    let mut p = small();
    p.fleets[0].class_id = "NO-SUCH-GPU".into();
    let e = Validated::new(&p, &[]).unwrap_err().to_string();
    assert!(e.contains("NO-SUCH-GPU"), "{e}");
    let mut p = small();
    if let Some(pool) = p.pools.first_mut() {
        pool.deal_ids.push("NO-SUCH-DEAL".into());
        let e = Validated::new(&p, &[]).unwrap_err().to_string();
        assert!(e.contains("NO-SUCH-DEAL"), "{e}");
    }
    let p = small();
    let v = Validated::new(&p, &[]).unwrap();
    assert_eq!(
        CashflowPlan::<f64>::new(v).horizon_months,
        p.horizon_months()
    );
}
