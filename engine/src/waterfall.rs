//! The pool's monthly waterfall (MODEL.md §6), generic over [`Amount`].
//!
//! Order each month: senior fees (with arrears) → debt interest in seniority (senior shortfall
//! is an interest default and stays due; junior shortfall capitalises) → OC test (if breached,
//! the remaining interest proceeds pay principal sequentially until cured, else they go to
//! equity) → principal proceeds sequentially to debt, then to equity. At the legal final month
//! every unpaid debt balance is written off. Everything collected is paid out: cash in = fees +
//! tranche receipts, every month.

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
    /// Interest shortfall this month (senior: stays due; others: capitalised).
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
    /// Whether the senior tranche missed interest this month.
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
    /// `legal_final` writes off unpaid debt after the payments.
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
            senior_interest_default: false,
        };
        let eq = p.equity;
        let mut interest = c.interest_proceeds.pos();
        let mut principal = c.principal_proceeds.pos();

        // 1. Senior fees, then debt interest in order.
        let fees_due =
            self.fee_arrears + (p.senior_fee_rate / twelve * c.performing_balance.pos()).cents();
        let fees = fees_due.min_of(interest);
        month.fees_paid = fees;
        self.fee_arrears = fees_due - fees;
        interest -= fees;
        for j in 0..eq {
            let coupon = p.fixed_coupons[j]
                .unwrap_or(c.base_rate + p.floating_spreads[j])
                .pos();
            let mut due = (self.balances[j] * coupon / twelve).cents();
            if j == 0 {
                due += self.senior_interest_arrears;
            }
            let paid = due.min_of(interest);
            interest -= paid;
            out[j].interest = paid;
            let short = due - paid;
            out[j].interest_shortfall = short;
            if j == 0 {
                self.senior_interest_arrears = short;
                if !short.is_settled() {
                    month.senior_interest_default = true;
                }
            } else {
                self.balances[j] += short;
            }
        }

        // 2. OC test on the most senior outstanding debt tranche.
        if p.oc_trigger > A::ZERO {
            if let Some(s) = (0..eq).find(|&j| !self.balances[j].is_settled()) {
                let senior = self.balances[s];
                if c.performing_balance < p.oc_trigger * senior {
                    month.oc_breached = true;
                    let mut cure = (senior - c.performing_balance.pos() / p.oc_trigger)
                        .pos()
                        .min_of(interest);
                    interest -= cure;
                    for j in s..eq {
                        let pay = cure.min_of(self.balances[j]);
                        out[j].principal += pay;
                        self.balances[j] -= pay;
                        cure -= pay;
                    }
                    interest += cure; // anything the debt could not absorb
                }
            }
        }
        out[eq].interest = interest;

        // 3. Principal proceeds sequentially, then equity.
        for j in 0..eq {
            let pay = principal.min_of(self.balances[j]);
            out[j].principal += pay;
            self.balances[j] -= pay;
            principal -= pay;
        }
        out[eq].principal = principal;

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
    }

    proptest! {
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
