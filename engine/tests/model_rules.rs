//! The deal and waterfall rules of MODEL.md (version 2) on minimal, noise-free portfolios.
//!
//! Every portfolio here has one GPU class, one operator and one fleet that is fully contracted
//! (`contracted_share = 1`) with no opex, so its revenue and NOI are exactly
//! 100 GPUs × 730 h × contract rate every month, whatever the market does: each expected
//! number below is worked out by hand in the comment next to it.

use gaib_engine::{
    base_case, load_portfolio, mean_path, BaseCase, CashflowPlan, Decimal, DefaultKind,
    MarketMonth, MonthOutput, Portfolio, Validated,
};
use std::str::FromStr;

/// One class, one operator (no hazard: the base case has no credit defaults anyway), one fleet
/// of 100 GPUs contracted at 1 USD per GPU-hour until month 24, then at the spot price 2 USD
/// × utilization 0.5: revenue = NOI = 73,000 USD every month, over a 30-month horizon.
/// Hardware: 10,000 USD per GPU, 5-year life, no age, haircut 25 %, no liquidation cost, so
/// G·V(t)·(1 − haircut) = 750,000 · (1 − t/5) USD. Shared with simulator/tests/model_v3.rs.
const FLEET: &str = include_str!("../../tests/fixtures/noise_free.toml");

fn portfolio(rest: &str) -> Portfolio {
    let text = format!("{FLEET}\n{rest}");
    load_portfolio(&text, "rules.toml", |_| Err("no tape".into()))
        .unwrap_or_else(|e| panic!("{e}"))
        .portfolio
}

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

/// Runs the Decimal machine on the deterministic market path with the operator's credit
/// default in `default_month` (if any); returns every month's output.
fn run_with_default(p: &Portfolio, default_month: Option<u32>) -> Vec<MonthOutput<Decimal>> {
    let plan = CashflowPlan::<Decimal>::new(Validated::new(p, &[]).unwrap());
    let path = mean_path(p);
    let mut s = plan.initial_state();
    let mut out = plan.new_output();
    let mut months = Vec::new();
    for k in 1..=plan.horizon_months {
        let i = (k - 1) as usize;
        let defaults = [default_month == Some(k)];
        let m = MarketMonth {
            price: &path.price[i],
            price_over_trend: &path.price_over_trend[i],
            utilization: &path.utilization[i],
            credit_default: &defaults,
        };
        plan.step(k, &m, &mut s, &mut out);
        months.push(out.clone());
    }
    months
}

fn bc(p: &Portfolio) -> BaseCase {
    base_case(p).unwrap()
}

/// A bullet loan `B` at 12 % over 12 months on the fleet: `principal` USD, a reserve of
/// `dsra_months` months of interest, refinanced at a collateral ratio of `refinance_ratio`.
fn bullet(principal: u64, dsra_months: u32, refinance_ratio: f64) -> Portfolio {
    portfolio(&format!(
        r#"
[[deals]]
id = "B"
kind = "loan"
fleet_id = "fl"
principal = {principal}
rate = 0.12
term_months = 12
amortization = "bullet"
dsra_months = {dsra_months}
refinance_min_collateral_ratio = {refinance_ratio:?}
"#
    ))
}

/// A hybrid of 100,000 at 12 % over 12 months, annuity, full sweep, kicker 5 % of revenue
/// (3,650 a month): the sweep repays it in month 2.
const HYBRID_REPAID_IN_MONTH_2: &str = include_str!("../../tests/fixtures/noise_free_hybrid.toml");

/// MODEL.md §4.3: the kicker runs for the loan's original term, also after a full sweep has
/// repaid the loan early.
#[test]
fn hybrid_kicker_is_paid_for_the_original_term_after_early_repayment() {
    // 100,000 at 12 % over 12 months, annuity, full sweep, kicker 5 % of revenue = 3,650 a
    // month. Month 1 pays 8,884.88, the kicker and sweeps 60,465.12; month 2 repays the rest.
    let p = portfolio(HYBRID_REPAID_IN_MONTH_2);
    let rows = &bc(&p).deals[0];
    assert_eq!(rows[0].flows.interest, d("1000"));
    assert_eq!(rows[0].flows.prepayment, d("60465.12"));
    assert_eq!(
        rows[1].flows.balance_end,
        Decimal::ZERO,
        "repaid in month 2"
    );
    for r in &rows[..12] {
        assert_eq!(r.flows.kicker, d("3650"), "month {}", r.month);
        assert_eq!(r.flows.cash_left, d("73000") - r.flows.total_received());
    }
    for r in &rows[12..] {
        assert_eq!(r.flows.kicker, Decimal::ZERO, "month {}", r.month);
    }
    let kicker: Decimal = rows.iter().map(|r| r.flows.kicker).sum();
    assert_eq!(kicker, d("43800"));
    let principal: Decimal = rows.iter().map(|r| r.flows.principal_proceeds()).sum();
    assert_eq!(principal, d("100000"));
}

/// MODEL.md §4.3, §5 (version 3): the kicker ends early only with a default of the deal, and
/// the operator's credit default defaults all its deals — a hybrid repaid early included. It
/// owes nothing then: a default event with exposure 0 and no loss, after that month's kicker.
#[test]
fn hybrid_repaid_early_defaults_with_its_operator_at_zero_exposure() {
    let p = portfolio(HYBRID_REPAID_IN_MONTH_2);
    let months = run_with_default(&p, Some(5));
    for (i, m) in months.iter().enumerate() {
        let k = i + 1;
        let f = &m.deals[0];
        let expected = if k <= 5 { d("3650") } else { Decimal::ZERO };
        assert_eq!(f.kicker, expected, "month {k}");
        let kind = (k == 5).then_some(DefaultKind::Credit);
        assert_eq!(f.default_kind, kind, "month {k}");
        assert_eq!(f.default_ead, Decimal::ZERO, "month {k}");
        assert_eq!(f.recovery, Decimal::ZERO, "month {k}");
        assert_eq!(m.losses[0], Decimal::ZERO, "month {k}");
    }
}

/// The same in the kicker's last month: the default check of month 12 comes before the kicker
/// ends at the original term (MODEL.md §4 steps 3 and 4).
#[test]
fn hybrid_repaid_early_defaults_with_its_operator_in_the_final_month() {
    let p = portfolio(HYBRID_REPAID_IN_MONTH_2);
    let months = run_with_default(&p, Some(12));
    let last = &months[11].deals[0];
    assert_eq!(last.kicker, d("3650"));
    assert_eq!(last.default_kind, Some(DefaultKind::Credit));
    assert_eq!(last.default_ead, Decimal::ZERO);
    let loss: Decimal = months.iter().map(|m| m.losses[0]).sum();
    assert_eq!(loss, Decimal::ZERO);
}

/// MODEL.md §4.1 steps 3 and 4: a credit default in a loan's final month comes before maturity,
/// so the balloon is neither paid from cash nor refinanced: the month pays its interest and the
/// operator's default takes the whole balance, the reserve going to the recovery.
#[test]
fn credit_default_in_the_final_month_comes_before_refinancing() {
    // 1,200,000 at 12 %, bullet, 12 months, DSRA 36,000, refinancing at a collateral ratio of
    // 0.5. Without a default, month 12's cash and reserve (109,000) pay the interest and 97,000
    // of the balloon, and the collateral (600,000) refinances the other 1,103,000 (≥ 0.5 ×).
    // With the operator's default in month 12: interest 12,000 paid from NOI, 61,000 left to
    // the operator, EAD 1,200,000, recovery 600,000 + the reserve 36,000 = 636,000 in month
    // 18, loss 564,000.
    let p = bullet(1_200_000, 3, 0.5);
    let b = bc(&p);
    assert_eq!(b.defaults[0], None);
    assert_eq!(b.deals[0][11].flows.refinanced, d("1103000"));

    let months = run_with_default(&p, Some(12));
    let last = &months[11].deals[0];
    assert_eq!(last.interest, d("12000"));
    assert_eq!(last.scheduled_principal, Decimal::ZERO);
    assert_eq!(last.refinanced, Decimal::ZERO);
    assert_eq!(last.dsra_draw, Decimal::ZERO);
    assert_eq!(last.cash_left, d("61000"));
    assert_eq!(last.default_kind, Some(DefaultKind::Credit));
    assert_eq!(last.default_ead, d("1200000"));
    assert_eq!(months[11].losses[0], d("564000"));
    assert_eq!(months[17].deals[0].recovery, d("636000"));
}

/// MODEL.md §4.1: a borrower who cannot pay the final month's interest is in payment default;
/// only a balloon whose interest is paid is refinanced (or is a refinancing default).
#[test]
fn unpaid_interest_at_maturity_is_a_payment_default() {
    // 8,000,000 at 12 %: interest 80,000 a month against NOI 73,000; the one-month reserve
    // (80,000) pays 7,000 a month and holds 3,000 in month 12, so 4,000 of interest is unpaid.
    // The collateral (600,000) covers the refinancing ratio (0.01 × the balance), but with the
    // interest unpaid there is no refinancing: a payment default with EAD 8,004,000.
    let p = bullet(8_000_000, 1, 0.01);
    let b = bc(&p);
    assert_eq!(b.defaults[0], Some((12, DefaultKind::Payment)));
    let last = &b.deals[0][11].flows;
    assert_eq!(last.interest, d("76000"));
    assert_eq!(last.refinanced, Decimal::ZERO);
    assert_eq!(last.default_unpaid_interest, d("4000"));
    assert_eq!(last.default_ead, d("8004000"));
}

/// MODEL.md §4.1: the DSRA target is `dsra_months` × the regular debt service, never the
/// balloon, so the month before a bullet's maturity traps nothing.
#[test]
fn dsra_target_of_a_bullet_loan_excludes_the_balloon() {
    // 1,200,000 at 12 %, bullet, 12 months, DSRA 3 months: interest 12,000 a month, DSRA at
    // close and target 36,000. NOI 73,000: excess 61,000 a month leaves to the operator.
    // Month 12: 73,000 + 36,000 = 109,000 pays the interest and 97,000 of the balloon; the
    // collateral (750,000 · 0.8 = 600,000) cannot refinance 1,103,000: a refinancing default,
    // recovering 600,000 six months later, loss 503,000.
    let p = bullet(1_200_000, 3, 1.0);
    let b = bc(&p);
    let rows = &b.deals[0];
    for r in &rows[..11] {
        assert_eq!(r.flows.dsra_refill, Decimal::ZERO, "month {}", r.month);
        assert_eq!(r.dsra_end, d("36000"), "month {}", r.month);
        assert_eq!(r.flows.cash_left, d("61000"), "month {}", r.month);
    }
    let last = &rows[11];
    assert_eq!(b.defaults[0], Some((12, DefaultKind::Refinancing)));
    assert_eq!(last.flows.dsra_draw, d("36000"));
    assert_eq!(last.flows.scheduled_principal, d("97000"));
    assert_eq!(last.flows.default_ead, d("1103000"));
    assert_eq!(last.loss, d("503000"));
    assert_eq!(rows[17].flows.recovery, d("600000"));
}

/// MODEL.md §4.2, §5: a credit default in the last month of a revenue share's term is a
/// default with recovery, not a shortfall at term.
#[test]
fn revenue_share_credit_default_in_its_final_month_is_a_default_with_recovery() {
    // Advance 1,000,000, 10 % of revenue = 7,300 a month of capital for 12 months: 87,600
    // returned, claim 912,400 at the default in month 12. Collateral at t = 1 year:
    // 750,000 · 0.8 = 600,000 recovered in month 18 (lag 6); loss 312,400. A pool holding it
    // receives the recovery as principal proceeds.
    let p = portfolio(
        r#"
[[deals]]
id = "RS"
kind = "revenue_share"
fleet_id = "fl"
advance = 1000000
share = 0.1
cap_multiple = 1.5
term_months = 12
secured = true

[[pools]]
id = "P"
deal_ids = ["RS"]
senior_fee_bps = 0
oc_trigger = 0

[[pools.tranches]]
id = "A"
balance = 900000
coupon = 0.0

[[pools.tranches]]
id = "E"
balance = 100000
equity = true
"#,
    );
    let months = run_with_default(&p, Some(12));
    let last = &months[11].deals[0];
    assert_eq!(last.rev_share_capital, d("7300"));
    assert_eq!(last.default_kind, Some(DefaultKind::Credit));
    assert_eq!(last.default_ead, d("912400"));
    assert_eq!(last.shortfall, Decimal::ZERO);
    assert_eq!(months[11].losses[0], d("312400"));
    assert_eq!(months[17].deals[0].recovery, d("600000"));
    assert_eq!(
        months[17].pool_collections[0].principal_proceeds,
        d("600000")
    );
    let loss: Decimal = months.iter().map(|m| m.losses[0]).sum();
    assert_eq!(loss, d("312400"));
}

/// The same deal without a default: the unreturned capital at term is a loss without a
/// default event (unchanged by version 2).
#[test]
fn revenue_share_without_default_books_its_shortfall_at_term() {
    let p = portfolio(
        r#"
[[deals]]
id = "RS"
kind = "revenue_share"
fleet_id = "fl"
advance = 1000000
share = 0.1
cap_multiple = 1.5
term_months = 12
secured = true
"#,
    );
    let b = bc(&p);
    assert_eq!(b.defaults[0], None);
    assert_eq!(b.deals[0][11].flows.shortfall, d("912400"));
    assert_eq!(b.deals[0][11].loss, d("912400"));
}
/// MODEL.md §6: principal proceeds first cure the senior's unpaid interest, and nothing reaches
/// a junior tranche or the equity while the senior has arrears.
#[test]
fn principal_proceeds_cure_senior_interest_before_anything_reaches_juniors() {
    // A revenue share returns 36,500 of capital a month (50 % of 73,000) and no income until
    // its 600,000 advance is back: the pool's collections are all principal proceeds. The
    // senior's coupon (400,000 at 6 %: 2,000 in month 1) is paid from principal proceeds,
    // which then amortise the senior: 34,500 in month 1.
    let p = portfolio(
        r#"
[[deals]]
id = "RS"
kind = "revenue_share"
fleet_id = "fl"
advance = 600000
share = 0.5
cap_multiple = 1.0
term_months = 24
secured = true

[[pools]]
id = "P"
deal_ids = ["RS"]
senior_fee_bps = 0
oc_trigger = 0

[[pools.tranches]]
id = "A"
balance = 400000
coupon = 0.06

[[pools.tranches]]
id = "B"
balance = 100000
coupon = 0.09

[[pools.tranches]]
id = "E"
balance = 100000
equity = true
"#,
    );
    let b = bc(&p);
    let pool = &b.pools[0];
    let m1 = &pool[0];
    assert_eq!(m1.collections.interest_proceeds, Decimal::ZERO);
    assert_eq!(m1.collections.principal_proceeds, d("36500"));
    assert_eq!(m1.tranches[0].interest, d("2000"));
    assert_eq!(m1.tranches[0].principal, d("34500"));
    assert_eq!(m1.tranches[0].interest_shortfall, Decimal::ZERO);
    assert!(!m1.result.senior_interest_default);
    for row in pool {
        let senior = &row.tranches[0];
        if !senior.interest_shortfall.is_zero() || !senior.writedown.is_zero() {
            for (j, t) in row.tranches.iter().enumerate().skip(1) {
                assert!(
                    t.interest.is_zero() && t.principal.is_zero(),
                    "month {}: tranche {j} paid while the senior is short",
                    row.month
                );
            }
        }
    }
    // The senior is paid every coupon in full and its whole balance, with no write-down.
    let senior_interest: Decimal = pool.iter().map(|r| r.tranches[0].interest).sum();
    let senior_due: Decimal = pool
        .iter()
        .map(|r| {
            let start = r.tranches[0].balance_end + r.tranches[0].principal;
            (start * d("0.06") / d("12")).round_dp(2)
        })
        .sum();
    assert_eq!(senior_interest, senior_due);
    let senior_principal: Decimal = pool.iter().map(|r| r.tranches[0].principal).sum();
    assert_eq!(senior_principal, d("400000"));
    assert!(pool.iter().all(|r| r.tranches[0].writedown.is_zero()));
}
