//! The pool's monthly waterfall (MODEL.md §6), generic over [`Amount`].
//!
//! Order each month: senior fees (with arrears) → debt interest in seniority from interest
//! proceeds (a senior shortfall stays due as arrears; a junior shortfall capitalises) → OC test
//! (if breached, the remaining interest proceeds pay principal sequentially until cured, else
//! they go to equity) → principal proceeds: unpaid senior fees, then the senior's arrears (an
//! interest default if any remain at month end), then principal sequentially to debt, then to
//! equity. So nothing reaches a junior tranche or the equity in a month the senior ends with
//! arrears. At the legal final month all proceeds are one pot paid in seniority (each debt
//! tranche's interest, then its principal), and every unpaid debt balance and the senior's
//! arrears are written off. Everything collected is paid out: cash in = fees + tranche
//! receipts, every month.

use crate::amount::Amount;
use crate::portfolio::Pool;

/// Terms of a pool's waterfall in the numeric type `A`.
#[derive(Debug, Clone)]
pub struct WaterfallParams<A> {
    /// Senior fee as an annual rate on the performing balance (bps / 1e4).
    pub senior_fee_rate: A,
    /// OC trigger (performing balance / senior outstanding); 0 disables the test.
    pub oc_trigger: A,
    /// Per tranche in seniority order: original balance, USD.
    pub balances: Vec<A>,
    /// Per tranche: fixed annual coupon, or `None` when floating (or equity).
    pub fixed_coupons: Vec<Option<A>>,
    /// Per tranche: floating spread as an annual rate.
    pub floating_spreads: Vec<A>,
    /// Index of the equity tranche (the last).
    pub equity: usize,
}

impl<A: Amount> WaterfallParams<A> {
    /// Converts a validated pool.
    pub fn from_pool(p: &Pool) -> Self {
        let bp = A::from_f64(10_000.0);
        WaterfallParams {
            senior_fee_rate: A::from_decimal(p.senior_fee_bps) / bp,
            oc_trigger: A::from_decimal(p.oc_trigger),
            balances: p
                .tranches
                .iter()
                .map(|t| A::from_decimal(t.balance))
                .collect(),
            fixed_coupons: p
                .tranches
                .iter()
                .map(|t| t.coupon.map(A::from_decimal))
                .collect(),
            floating_spreads: p
                .tranches
                .iter()
                .map(|t| {
                    t.floating_spread_bps
                        .map(|s| A::from_decimal(s) / bp)
                        .unwrap_or(A::ZERO)
                })
                .collect(),
            equity: p.tranches.len().saturating_sub(1),
        }
    }

    /// Number of tranches (equity included).
    pub fn len(&self) -> usize {
        self.balances.len()
    }

    /// Whether the pool has no tranche (never true for a validated pool).
    pub fn is_empty(&self) -> bool {
        self.balances.is_empty()
    }
}

/// Collections of the pool in one month.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PoolCollections<A> {
    /// Interest, revenue-share income and kickers, USD.
    pub interest_proceeds: A,
    /// Principal, revenue-share capital and recoveries, USD.
    pub principal_proceeds: A,
    /// Performing balance of the pool's deals at the start of the month, USD.
    pub performing_balance: A,
    /// Floating base rate for the month, annual.
    pub base_rate: A,
}

/// What one tranche received in one month (USD).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrancheFlow<A> {
    /// Interest paid (for equity: residual interest proceeds).
    pub interest: A,
    /// Principal paid (for equity: residual principal proceeds).
    pub principal: A,
    /// Senior tranche: unpaid interest (arrears) at month end, after the cure from principal
    /// proceeds, USD. Other debt tranches: this month's shortfall, capitalised, USD.
    pub interest_shortfall: A,
    /// Balance written off at the legal final month.
    pub writedown: A,
    /// Balance at month end.
    pub balance_end: A,
}

impl<A: Amount> TrancheFlow<A> {
    /// A month with no flows.
    pub fn zero() -> Self {
        TrancheFlow {
            interest: A::ZERO,
            principal: A::ZERO,
            interest_shortfall: A::ZERO,
            writedown: A::ZERO,
            balance_end: A::ZERO,
        }
    }

    /// Interest plus principal received.
    pub fn received(&self) -> A {
        self.interest + self.principal
    }
}

/// Pool-level results of one month.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WaterfallMonth<A> {
    /// Senior fees paid, USD.
    pub fees_paid: A,
    /// Whether the OC test failed this month.
    pub oc_breached: bool,
    /// The OC cure: interest proceeds the failed OC test diverted to pay debt principal
    /// (senior first), USD; 0 when the test passed. Reported only: already part of the
    /// tranches' principal.
    pub oc_cure: A,
    /// Whether the senior tranche ends the month with unpaid interest (an interest default).
    pub senior_interest_default: bool,
}

/// Balances and arrears of a pool between months.
#[derive(Debug, Clone, PartialEq)]
pub struct WaterfallState<A> {
    /// Outstanding balance per tranche, USD (equity: notional, not amortised).
    pub balances: Vec<A>,
    /// Unpaid senior interest carried forward, USD.
    pub senior_interest_arrears: A,
    /// Unpaid senior fees carried forward, USD.
    pub fee_arrears: A,
}

impl<A: Amount> WaterfallState<A> {
    /// State at issue.
    pub fn new(p: &WaterfallParams<A>) -> Self {
        WaterfallState {
            balances: p.balances.clone(),
            senior_interest_arrears: A::ZERO,
            fee_arrears: A::ZERO,
        }
    }

    /// Resets to the state at issue without reallocating.
    pub fn reset(&mut self, p: &WaterfallParams<A>) {
        self.balances.copy_from_slice(&p.balances);
        self.senior_interest_arrears = A::ZERO;
        self.fee_arrears = A::ZERO;
    }

    /// Runs one month; writes each tranche's flows into `out` (length = number of tranches).
    /// `legal_final`: everything is due, so all proceeds form one pot paid in order of
    /// seniority (fees, then each debt tranche's interest and principal, then equity), and
    /// unpaid debt is written off after the payments.
    pub fn step(
        &mut self,
        p: &WaterfallParams<A>,
        c: &PoolCollections<A>,
        legal_final: bool,
        out: &mut [TrancheFlow<A>],
    ) -> WaterfallMonth<A> {
        let twelve = A::from_f64(12.0);
        for o in out.iter_mut() {
            *o = TrancheFlow::zero();
        }
        let mut month = WaterfallMonth {
            fees_paid: A::ZERO,
            oc_breached: false,
            oc_cure: A::ZERO,
            senior_interest_default: false,
        };
        let eq = p.equity;
        let mut cash = Proceeds {
            interest: c.interest_proceeds.pos(),
            principal: c.principal_proceeds.pos(),
        };

        // 1. Senior fees, then debt interest in order, from interest proceeds (at the legal
        //    final from all proceeds, each tranche's principal right after its interest).
        let fees_due =
            self.fee_arrears + (p.senior_fee_rate / twelve * c.performing_balance.pos()).cents();
        let fees = cash.take(fees_due, legal_final);
        month.fees_paid = fees;
        self.fee_arrears = fees_due - fees;
        for j in 0..eq {
            let coupon = p.fixed_coupons[j]
                .unwrap_or(c.base_rate + p.floating_spreads[j])
                .pos();
            let mut due = (self.balances[j] * coupon / twelve).cents();
            if j == 0 {
                due += self.senior_interest_arrears;
            }
            let paid = cash.take(due, legal_final);
            out[j].interest = paid;
            let short = due - paid;
            if j == 0 {
                self.senior_interest_arrears = short;
            } else {
                out[j].interest_shortfall = short;
                self.balances[j] += short;
            }
            if legal_final {
                let pay = cash.take(self.balances[j], true);
                out[j].principal += pay;
                self.balances[j] -= pay;
            }
        }

        // 2. OC test on the most senior outstanding debt tranche.
        if p.oc_trigger > A::ZERO && !legal_final {
            if let Some(s) = (0..eq).find(|&j| !self.balances[j].is_settled()) {
                let senior = self.balances[s];
                if c.performing_balance < p.oc_trigger * senior {
                    month.oc_breached = true;
                    let mut cure = (senior - c.performing_balance.pos() / p.oc_trigger)
                        .pos()
                        .min_of(cash.interest);
                    cash.interest -= cure;
                    let diverted = cure;
                    for j in s..eq {
                        let pay = cure.min_of(self.balances[j]);
                        out[j].principal += pay;
                        self.balances[j] -= pay;
                        cure -= pay;
                    }
                    cash.interest += cure; // anything the debt could not absorb
                    month.oc_cure = diverted - cure;
                }
            }
        }

        // 3. Principal proceeds: unpaid senior fees, then the senior's unpaid interest, then
        //    principal sequentially; equity takes what is left of both kinds of proceeds.
        let fee_cure = cash.principal.min_of(self.fee_arrears);
        cash.principal -= fee_cure;
        self.fee_arrears -= fee_cure;
        month.fees_paid += fee_cure;
        if eq > 0 {
            let cure = cash.principal.min_of(self.senior_interest_arrears);
            cash.principal -= cure;
            self.senior_interest_arrears -= cure;
            out[0].interest += cure;
            out[0].interest_shortfall = self.senior_interest_arrears;
            month.senior_interest_default = !self.senior_interest_arrears.is_settled();
        }
        for j in 0..eq {
            let pay = cash.principal.min_of(self.balances[j]);
            out[j].principal += pay;
            self.balances[j] -= pay;
            cash.principal -= pay;
        }
        out[eq].interest = cash.interest;
        out[eq].principal = cash.principal;

        if legal_final {
            for j in 0..eq {
                out[j].writedown = self.balances[j]
                    + if j == 0 {
                        self.senior_interest_arrears
                    } else {
                        A::ZERO
                    };
                self.balances[j] = A::ZERO;
            }
            self.senior_interest_arrears = A::ZERO;
        }
        for (j, o) in out.iter_mut().enumerate() {
            o.balance_end = self.balances[j];
        }
        month
    }
}

/// What is left of a month's interest and principal proceeds, USD.
struct Proceeds<A> {
    interest: A,
    principal: A,
}

impl<A: Amount> Proceeds<A> {
    /// Pays up to `due` from the interest proceeds, then, if `principal_too`, from the
    /// principal proceeds; returns the amount paid, USD.
    fn take(&mut self, due: A, principal_too: bool) -> A {
        let a = due.pos().min_of(self.interest);
        self.interest -= a;
        let mut paid = a;
        if principal_too {
            let b = (due.pos() - a).min_of(self.principal);
            self.principal -= b;
            paid += b;
        }
        paid
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn params() -> WaterfallParams<f64> {
        WaterfallParams {
            senior_fee_rate: 0.005,
            oc_trigger: 1.2,
            balances: vec![700.0, 200.0, 100.0],
            fixed_coupons: vec![Some(0.06), Some(0.10), None],
            floating_spreads: vec![0.0, 0.0, 0.0],
            equity: 2,
        }
    }

    #[test]
    fn healthy_month_pays_coupons_and_sends_rest_to_equity() {
        let p = params();
        let mut s = WaterfallState::new(&p);
        let mut out = vec![TrancheFlow::zero(); 3];
        let c = PoolCollections {
            interest_proceeds: 12.0,
            principal_proceeds: 10.0,
            performing_balance: 1000.0,
            base_rate: 0.0,
        };
        let m = s.step(&p, &c, false, &mut out);
        assert!(!m.oc_breached);
        assert_eq!(m.oc_cure, 0.0);
        assert!((out[0].interest - 3.5).abs() < 1e-12);
        assert!((out[1].interest - 1.67).abs() < 1e-12); // 200 × 10 % / 12, in cents
        assert!((out[0].principal - 10.0).abs() < 1e-12);
        let paid: f64 = m.fees_paid + out.iter().map(TrancheFlow::received).sum::<f64>();
        assert!((paid - 22.0).abs() < 1e-12);
    }

    #[test]
    fn oc_breach_diverts_interest_to_senior_principal() {
        let p = params();
        let mut s = WaterfallState::new(&p);
        let mut out = vec![TrancheFlow::zero(); 3];
        let c = PoolCollections {
            interest_proceeds: 50.0,
            principal_proceeds: 0.0,
            performing_balance: 800.0, // 800 / 700 < 1.2
            base_rate: 0.0,
        };
        let m = s.step(&p, &c, false, &mut out);
        assert!(m.oc_breached);
        assert!(out[0].principal > 0.0);
        assert!(out[0].principal <= 700.0 - 800.0 / 1.2 + 1e-9);
        // No principal proceeds: the senior's principal is the cure, and it is reported.
        assert_eq!(m.oc_cure, out[0].principal);
    }

    #[test]
    fn principal_proceeds_cure_senior_arrears_before_senior_principal() {
        let p = params();
        let mut s = WaterfallState::new(&p);
        let mut out = vec![TrancheFlow::zero(); 3];
        // No interest proceeds: fees 0.42 (1000 × 0.5 % / 12) and the senior's 3.50 are paid
        // from principal proceeds first.
        let c = PoolCollections {
            interest_proceeds: 0.0,
            principal_proceeds: 10.0,
            performing_balance: 1000.0,
            base_rate: 0.0,
        };
        let m = s.step(&p, &c, false, &mut out);
        assert!((m.fees_paid - 0.42).abs() < 1e-12);
        assert!((out[0].interest - 3.5).abs() < 1e-12);
        assert!((out[0].principal - 6.08).abs() < 1e-12);
        assert_eq!(out[0].interest_shortfall, 0.0);
        assert!(!m.senior_interest_default);
        assert_eq!(out[1].received() + out[2].received(), 0.0);
        // Principal proceeds too small to cure: an interest default, nothing else is paid.
        let c = PoolCollections {
            principal_proceeds: 1.0,
            ..c
        };
        let m = s.step(&p, &c, false, &mut out);
        assert!(m.senior_interest_default);
        assert!(
            (out[0].interest + out[0].interest_shortfall + m.fees_paid - 0.42 - 3.47).abs() < 1e-9
        );
        assert_eq!(
            out[0].principal + out[1].received() + out[2].received(),
            0.0
        );
    }

    #[test]
    fn legal_final_pays_senior_principal_before_junior_interest() {
        let p = params();
        let mut s = WaterfallState::new(&p);
        let mut out = vec![TrancheFlow::zero(); 3];
        // Interest proceeds would cover every coupon, but at the legal final the senior's
        // principal comes before the junior's interest.
        let c = PoolCollections {
            interest_proceeds: 20.0,
            principal_proceeds: 600.0,
            performing_balance: 0.0,
            base_rate: 0.0,
        };
        s.step(&p, &c, true, &mut out);
        assert!((out[0].interest - 3.5).abs() < 1e-12);
        assert!((out[0].principal - 616.5).abs() < 1e-9);
        assert!((out[0].writedown - 83.5).abs() < 1e-9);
        assert_eq!(out[1].received() + out[2].received(), 0.0);
    }

    proptest! {
        /// On random collections: no tranche receives anything in a month in which a more
        /// senior tranche ends with interest arrears or a write-down (MODEL.md §6).
        #[test]
        fn nothing_reaches_juniors_while_the_senior_is_short(
            flows in proptest::collection::vec((0.0f64..20.0, 0.0f64..200.0, 0.0f64..1500.0), 1..40)
        ) {
            let p = params();
            let mut s = WaterfallState::new(&p);
            let mut out = vec![TrancheFlow::zero(); 3];
            let n = flows.len();
            for (k, (i, pr, perf)) in flows.into_iter().enumerate() {
                let c = PoolCollections { interest_proceeds: i, principal_proceeds: pr, performing_balance: perf, base_rate: 0.0 };
                s.step(&p, &c, k + 1 == n, &mut out);
                for j in 1..out.len() {
                    let senior_short = out[0].interest_shortfall > 1e-9
                        || out[..j].iter().any(|t| t.writedown > 1e-9);
                    prop_assert!(!senior_short || out[j].received() <= 1e-9,
                        "month {}: tranche {} got {} while a senior one is short: {:?}", k + 1, j, out[j].received(), out);
                }
            }
        }

        #[test]
        fn cash_in_equals_cash_out(
            flows in proptest::collection::vec((0.0f64..50.0, 0.0f64..200.0, 0.0f64..1500.0), 1..40)
        ) {
            let p = params();
            let mut s = WaterfallState::new(&p);
            let mut out = vec![TrancheFlow::zero(); 3];
            let n = flows.len();
            for (k, (i, pr, perf)) in flows.into_iter().enumerate() {
                let c = PoolCollections { interest_proceeds: i, principal_proceeds: pr, performing_balance: perf, base_rate: 0.03 };
                let m = s.step(&p, &c, k + 1 == n, &mut out);
                let paid: f64 = m.fees_paid + out.iter().map(TrancheFlow::received).sum::<f64>();
                prop_assert!((paid - (i + pr)).abs() < 1e-9);
                for o in &out {
                    prop_assert!(o.balance_end >= -1e-9);
                    prop_assert!(o.interest >= 0.0 && o.principal >= 0.0);
                }
            }
        }
    }
}
