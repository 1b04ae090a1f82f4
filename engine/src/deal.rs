//! Monthly state machines of the three deal kinds (MODEL.md §4), generic over [`Amount`].
//!
//! One month of a deal: [`DealState::step`] takes the month's market inputs for the deal's
//! fleet and returns the [`DealFlows`] the lender receives. Recovery after a default is set by
//! the fleet ([`crate::runner`]) because collateral is shared between the deals of a fleet.

use crate::amount::Amount;
use crate::portfolio::{Amortization, Deal, DealTerms};

/// Contract terms of one deal, converted into the numeric type `A` once.
#[derive(Debug, Clone, Copy)]
pub struct DealParams<A> {
    /// Loan (or hybrid loan leg) or revenue share.
    pub kind: DealParamsKind<A>,
    /// Term in months.
    pub term_months: u32,
    /// Months from default to the recovery's receipt.
    pub recovery_lag_months: u32,
    /// Whether secured by the fleet's hardware.
    pub secured: bool,
    /// Recovery rate of an unsecured claim (0..1).
    pub unsecured_recovery: A,
}

/// Kind-specific terms.
#[derive(Debug, Clone, Copy)]
pub enum DealParamsKind<A> {
    /// Loan or hybrid.
    Loan {
        /// Principal, USD.
        principal: A,
        /// Fixed annual rate; `None` when floating.
        fixed_rate: Option<A>,
        /// Floating spread as an annual rate (bps / 1e4).
        floating_spread: A,
        /// Amortization profile.
        amortization: Amortization,
        /// Interest-only months.
        grace_months: u32,
        /// DSRA target, months of scheduled payment.
        dsra_months: u32,
        /// Fraction of excess cash prepaying principal.
        cash_sweep: A,
        /// Collateral ratio needed to refinance a balloon.
        refinance_ratio: A,
        /// Kicker share of gross revenue (0 for a plain loan).
        kicker_share: A,
    },
    /// Revenue share.
    RevenueShare {
        /// Advance, USD.
        advance: A,
        /// Share of gross revenue (0..1].
        share: A,
        /// Cap multiple of the advance.
        cap_multiple: A,
    },
}

impl<A: Amount> DealParams<A> {
    /// Converts a validated deal's terms.
    pub fn from_deal(d: &Deal) -> Self {
        let conv = A::from_decimal;
        let kind = match &d.terms {
            DealTerms::Loan(l) | DealTerms::Hybrid { loan: l, .. } => DealParamsKind::Loan {
                principal: conv(l.principal),
                fixed_rate: l.rate.map(conv),
                floating_spread: l
                    .floating
                    .map(|f| conv(f.spread_bps) / A::from_f64(10_000.0))
                    .unwrap_or(A::ZERO),
                amortization: l.amortization,
                grace_months: l.grace_months,
                dsra_months: l.dsra_months,
                cash_sweep: conv(l.cash_sweep),
                refinance_ratio: conv(l.refinance_min_collateral_ratio),
                kicker_share: match &d.terms {
                    DealTerms::Hybrid { kicker_share, .. } => conv(*kicker_share),
                    _ => A::ZERO,
                },
            },
            DealTerms::RevenueShare(r) => DealParamsKind::RevenueShare {
                advance: conv(r.advance),
                share: conv(r.share),
                cap_multiple: conv(r.cap_multiple),
            },
        };
        DealParams {
            kind,
            term_months: d.term_months(),
            recovery_lag_months: d.recovery_lag_months,
            secured: d.is_secured(),
            unsecured_recovery: conv(d.unsecured_recovery),
        }
    }

    /// Amount funded at t = 0 (principal or advance), USD.
    pub fn funded(&self) -> A {
        match self.kind {
            DealParamsKind::Loan { principal, .. } => principal,
            DealParamsKind::RevenueShare { advance, .. } => advance,
        }
    }
}

/// Why a deal defaulted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefaultKind {
    /// Cash plus DSRA could not pay the scheduled debt service (at maturity: the month's
    /// interest, which no lender refinances).
    Payment,
    /// The balloon at maturity, its interest paid, could be neither paid nor refinanced.
    Refinancing,
    /// The operator defaulted (copula default time in the month).
    Credit,
}

/// The market inputs of one month for one deal.
#[derive(Debug, Clone, Copy)]
pub struct MonthInputs<A> {
    /// Fleet gross revenue in the month, USD.
    pub revenue: A,
    /// Cash available to this deal: the fleet's NOI less what more senior deals took, USD.
    pub cash_available: A,
    /// Floating base rate for the month, annual (curve forward + shock).
    pub base_rate: A,
    /// Collateral value for a refinancing test: G·V_f(t)·(1 − liquidation_haircut), USD.
    pub refinance_collateral: A,
    /// Whether the operator's credit default falls in this month.
    pub credit_default: bool,
}

/// What one deal pays the lender in one month (all USD), and what happened.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DealFlows<A> {
    /// Interest paid (loan leg).
    pub interest: A,
    /// Scheduled principal paid (including a paid balloon).
    pub scheduled_principal: A,
    /// Principal prepaid by the cash sweep.
    pub prepayment: A,
    /// Balloon principal repaid by refinancing.
    pub refinanced: A,
    /// Revenue-share receipts counted as capital.
    pub rev_share_capital: A,
    /// Revenue-share receipts counted as income.
    pub rev_share_income: A,
    /// Hybrid kicker paid.
    pub kicker: A,
    /// Recovery received this month on an earlier default.
    pub recovery: A,
    /// DSRA drawn to pay debt service.
    pub dsra_draw: A,
    /// DSRA refilled from excess cash.
    pub dsra_refill: A,
    /// DSRA released to the operator (above target, or at repayment).
    pub dsra_release: A,
    /// Exposure at default if the deal defaulted this month (principal + unpaid interest).
    pub default_ead: A,
    /// Why it defaulted, if it did this month.
    pub default_kind: Option<DefaultKind>,
    /// Part of `default_ead` that is interest due and unpaid at default, USD.
    pub default_unpaid_interest: A,
    /// Revenue-share capital not returned by the end of term (a loss without default).
    pub shortfall: A,
    /// Cash left for the next deal on the fleet (or the operator).
    pub cash_left: A,
    /// Outstanding principal (or unreturned advance) at month end; 0 after default.
    pub balance_end: A,
}

impl<A: Amount> DealFlows<A> {
    /// A month with no flows; `cash` passes through to the next deal.
    pub fn zero(cash: A) -> Self {
        DealFlows {
            interest: A::ZERO,
            scheduled_principal: A::ZERO,
            prepayment: A::ZERO,
            refinanced: A::ZERO,
            rev_share_capital: A::ZERO,
            rev_share_income: A::ZERO,
            kicker: A::ZERO,
            recovery: A::ZERO,
            dsra_draw: A::ZERO,
            dsra_refill: A::ZERO,
            dsra_release: A::ZERO,
            default_ead: A::ZERO,
            default_kind: None,
            default_unpaid_interest: A::ZERO,
            shortfall: A::ZERO,
            cash_left: cash,
            balance_end: A::ZERO,
        }
    }

    /// Interest proceeds for a pool: interest, revenue-share income and kicker.
    pub fn interest_proceeds(&self) -> A {
        self.interest + self.rev_share_income + self.kicker
    }

    /// Principal proceeds for a pool: scheduled, prepaid and refinanced principal,
    /// revenue-share capital and recoveries.
    pub fn principal_proceeds(&self) -> A {
        self.scheduled_principal
            + self.prepayment
            + self.refinanced
            + self.rev_share_capital
            + self.recovery
    }

    /// Everything the lender received this month.
    pub fn total_received(&self) -> A {
        self.interest_proceeds() + self.principal_proceeds()
    }
}

/// Where a deal stands between months.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DealState<A> {
    /// Outstanding principal (loan) or unreturned advance (revenue share), USD.
    pub balance: A,
    /// DSRA cash held, USD.
    pub dsra: A,
    /// Revenue share: cumulative receipts, USD.
    pub received: A,
    /// Whether the deal has defaulted.
    pub defaulted: bool,
    /// Whether the deal has ended (repaid, capped, term reached, or defaulted). A hybrid
    /// repaid before its term is not done until the term ends: its kicker runs on.
    pub done: bool,
    /// A hybrid repaid before the end of its original term: no balance, no reserve, only the
    /// kicker is paid until the term ends (MODEL.md §4.3).
    pub kicker_only: bool,
    /// Recovery still to be received, USD, and the month it arrives.
    pub pending_recovery: Option<(u32, A)>,
}

/// The annuity payment that amortises `balance` over `n` months at monthly rate `r`.
pub fn annuity_payment<A: Amount>(balance: A, r: A, n: u32) -> A {
    annuity_payment_with(balance, r, n, &AnnuityPowers::NONE)
}

/// [`annuity_payment`] taking (1 + r)^n from `powers` where it holds it (the same value).
#[inline]
fn annuity_payment_with<A: Amount>(balance: A, r: A, n: u32, powers: &AnnuityPowers<A>) -> A {
    if n == 0 {
        return balance;
    }
    if r <= A::ZERO {
        return balance / A::from_f64(f64::from(n));
    }
    let q = powers.pow(A::ONE + r, n);
    balance * r * q / (q - A::ONE)
}

/// The monthly rate of an annual rate: max(annual, 0) / 12 (MODEL.md §4.1).
#[inline]
fn monthly_rate<A: Amount>(annual: A) -> A {
    annual.pos() / A::from_f64(12.0)
}

/// The monthly rate of a loan in a month whose floating base rate is `base_rate`: its fixed
/// rate, or the base rate plus its spread, through [`monthly_rate`]; zero for a revenue share
/// (which has no debt service).
#[inline(always)]
pub(crate) fn loan_monthly_rate<A: Amount>(p: &DealParams<A>, base_rate: A) -> A {
    match p.kind {
        DealParamsKind::Loan {
            fixed_rate,
            floating_spread,
            ..
        } => monthly_rate(fixed_rate.unwrap_or(base_rate + floating_spread)),
        DealParamsKind::RevenueShare { .. } => A::ZERO,
    }
}

/// The powers (1 + r)^n, n = 0..=term, of a fixed-rate annuity loan's monthly rate r, computed
/// once at lowering ([`AnnuityPowers::new`]) by the same [`Amount::powi`] call that
/// [`annuity_payment`] would make each month, so a lookup returns the same value bit for bit.
/// A lookup checks the base it is asked for against the one the table was built for and computes
/// the power as before when they differ (a floating rate, a table for other terms), so a table
/// never gives a value `powi` would not.
#[derive(Debug, Clone)]
pub struct AnnuityPowers<A> {
    /// 1 + r, the base of the table.
    base: A,
    /// (1 + r)^n at index n.
    powers: Vec<A>,
}

impl<A: Amount> AnnuityPowers<A> {
    /// No table: every power is computed when asked for.
    pub const NONE: Self = AnnuityPowers {
        base: A::ZERO,
        powers: Vec::new(),
    };

    /// The table of a deal: for a fixed-rate annuity loan with a positive rate, (1 + r)^n for
    /// n = 0..=term (the months left, term − k + 1, of a schedule or DSRA target in month
    /// k ≥ 1); [`AnnuityPowers::NONE`] for any other deal.
    pub fn new(p: &DealParams<A>) -> Self {
        let DealParamsKind::Loan {
            fixed_rate: Some(annual),
            amortization: Amortization::Annuity,
            ..
        } = p.kind
        else {
            return Self::NONE;
        };
        let r = monthly_rate(annual);
        if r <= A::ZERO {
            return Self::NONE;
        }
        let base = A::ONE + r;
        AnnuityPowers {
            base,
            powers: (0..=p.term_months).map(|n| base.powi(n)).collect(),
        }
    }

    /// `base`^n: from the table when it was built for `base` and holds n, else
    /// [`Amount::powi`].
    #[inline]
    pub(crate) fn pow(&self, base: A, n: u32) -> A {
        match self.powers.get(n as usize) {
            Some(&q) if base == self.base => q,
            _ => base.powi(n),
        }
    }
}

impl<A: Amount> DealState<A> {
    /// State at close: full balance, DSRA funded to its target, `dsra_months` × the regular
    /// debt service of month 1 ([`DealState::dsra_target`]), USD.
    pub fn at_close(p: &DealParams<A>, first_base_rate: A) -> Self {
        let mut s = DealState {
            balance: p.funded(),
            dsra: A::ZERO,
            received: A::ZERO,
            defaulted: false,
            done: false,
            kicker_only: false,
            pending_recovery: None,
        };
        s.dsra = s.dsra_target(p, 1, first_base_rate);
        s
    }

    /// Whether the deal has ended and has no recovery left to receive: every later month of
    /// it is [`DealFlows::zero`] of the cash available, and leaves the state as it is.
    #[inline]
    pub fn is_idle(&self) -> bool {
        self.done && self.pending_recovery.is_none()
    }

    /// Scheduled interest and principal of a loan in month `k` (1-based) on the current balance,
    /// USD; in the final month the principal is the whole balance (the balloon, if any).
    pub fn scheduled(&self, p: &DealParams<A>, k: u32, base_rate: A) -> (A, A) {
        self.debt_service(
            p,
            &AnnuityPowers::NONE,
            k,
            loan_monthly_rate(p, base_rate),
            true,
        )
    }

    /// The DSRA target for month `k`: `dsra_months` × the regular debt service of month `k`
    /// on the current balance, USD (MODEL.md §4.1). Regular means interest plus the
    /// amortisation profile's principal, never a balloon: a bullet's regular debt service is
    /// its interest, a linear loan's its instalment (capped by the balance), an annuity's its
    /// level payment. Zero for a revenue share.
    pub fn dsra_target(&self, p: &DealParams<A>, k: u32, base_rate: A) -> A {
        self.dsra_target_with(p, &AnnuityPowers::NONE, k, loan_monthly_rate(p, base_rate))
    }

    /// [`DealState::dsra_target`] with the deal's [`AnnuityPowers`] and the month's
    /// [`loan_monthly_rate`] `r`.
    #[inline(always)]
    fn dsra_target_with(&self, p: &DealParams<A>, q: &AnnuityPowers<A>, k: u32, r: A) -> A {
        let DealParamsKind::Loan { dsra_months, .. } = p.kind else {
            return A::ZERO;
        };
        let (i, sp) = self.debt_service(p, q, k, r, false);
        (A::from_f64(f64::from(dsra_months)) * (i + sp)).cents()
    }

    /// Interest and principal of month `k`; `balloon`: whether the final month's principal is
    /// the whole balance (the schedule) or the profile's instalment (the DSRA target); `q`: the
    /// deal's [`AnnuityPowers`]; `r`: the month's [`loan_monthly_rate`], computed once by the
    /// caller for the month's schedule and DSRA target alike (the same value either way).
    #[inline(always)]
    fn debt_service(
        &self,
        p: &DealParams<A>,
        q: &AnnuityPowers<A>,
        k: u32,
        r: A,
        balloon: bool,
    ) -> (A, A) {
        let DealParamsKind::Loan {
            amortization,
            grace_months,
            principal,
            ..
        } = p.kind
        else {
            return (A::ZERO, A::ZERO);
        };
        let b = self.balance;
        let interest = (b * r).cents();
        let sched = if balloon && k >= p.term_months {
            b
        } else if k <= grace_months {
            A::ZERO
        } else {
            match amortization {
                Amortization::Bullet => A::ZERO,
                Amortization::Linear => (principal
                    / A::from_f64(f64::from(p.term_months - grace_months)))
                .cents()
                .min_of(b),
                Amortization::Annuity => {
                    let n = p.term_months.saturating_sub(k).saturating_add(1);
                    (annuity_payment_with(b, r, n, q) - interest)
                        .cents()
                        .pos()
                        .min_of(b)
                }
            }
        };
        (interest, sched)
    }

    /// Runs month `k` (1-based). Does not set the recovery of a default; the caller does.
    pub fn step(&mut self, p: &DealParams<A>, k: u32, m: &MonthInputs<A>) -> DealFlows<A> {
        let mut f = DealFlows::zero(m.cash_available);
        self.step_into(p, &AnnuityPowers::NONE, k, m, &mut f);
        f
    }

    /// [`DealState::step`] writing the month's flows into `f` (overwritten entirely), so a
    /// caller with a buffer of flows avoids copying them (the simulator's hot loop); `q`: the
    /// deal's [`AnnuityPowers`] (the same flows with any table, [`AnnuityPowers::NONE`]
    /// included).
    /// `#[inline]`: without it, whether `CashflowPlan::step` inlines this generic function
    /// depends on how rustc happens to split the simulator into codegen units, which moved
    /// the sample's single-thread throughput by 5–15 % between unrelated edits.
    #[inline]
    pub fn step_into(
        &mut self,
        p: &DealParams<A>,
        q: &AnnuityPowers<A>,
        k: u32,
        m: &MonthInputs<A>,
        f: &mut DealFlows<A>,
    ) {
        *f = DealFlows::zero(m.cash_available);
        if let Some((month, amount)) = self.pending_recovery {
            if month <= k {
                f.recovery = amount;
                self.pending_recovery = None;
            }
        }
        if self.done {
            return;
        }
        if self.kicker_only {
            self.step_kicker_only(p, k, m, f);
        } else {
            match p.kind {
                DealParamsKind::Loan { .. } => self.step_loan(p, q, k, m, f),
                DealParamsKind::RevenueShare { .. } => self.step_rev_share(p, k, m, f),
            }
        }
        if m.credit_default && !self.done {
            // MODEL.md §4.3, §5: the operator's default defaults all its deals, a hybrid repaid
            // early included; it owes nothing then, so its exposure is 0 and it books no loss.
            self.kicker_only = false;
            f.default_ead += self.balance;
            f.default_kind = Some(DefaultKind::Credit);
            self.balance = A::ZERO;
            self.defaulted = true;
            self.done = true;
        }
        f.balance_end = self.balance;
    }

    /// `#[inline(always)]`, like `debt_service` and `dsra_target_with`: inlined (through
    /// `step_into`) into `CashflowPlan::step`, a loan's month needs no call frames or spills.
    /// rustc's own choice varied with the simulator's codegen units (calls at 1eaecc1, partly
    /// inlined at c11284c); forcing it saved 27 of 699 and 10 of 549 instructions per
    /// deal-step on the sample's Monte Carlo there (issue 26).
    #[inline(always)]
    fn step_loan(
        &mut self,
        p: &DealParams<A>,
        q: &AnnuityPowers<A>,
        k: u32,
        m: &MonthInputs<A>,
        f: &mut DealFlows<A>,
    ) {
        let DealParamsKind::Loan {
            cash_sweep,
            refinance_ratio,
            kicker_share,
            ..
        } = p.kind
        else {
            return;
        };
        // One rate for the month's schedule and its DSRA target (both on `m.base_rate`).
        let r = loan_monthly_rate(p, m.base_rate);
        let is_final = k >= p.term_months;
        // MODEL.md §4.1 steps 3 and 4: an operator's default in the final month comes before
        // maturity, so the month pays its interest only and the credit default takes the whole
        // balance (neither paid from cash nor refinanced).
        let matures = is_final && !m.credit_default;
        let (interest_due, sched) = if is_final && m.credit_default {
            let (i, _) = self.debt_service(p, q, k, r, true);
            (i, A::ZERO)
        } else {
            self.debt_service(p, q, k, r, true)
        };
        let due = interest_due + sched;
        let cash = m.cash_available.pos();
        let mut excess;
        if cash >= due {
            f.interest = interest_due;
            f.scheduled_principal = sched;
            self.balance -= sched;
            excess = cash - due;
        } else if cash + self.dsra >= due {
            let draw = due - cash;
            f.dsra_draw = draw;
            self.dsra -= draw;
            f.interest = interest_due;
            f.scheduled_principal = sched;
            self.balance -= sched;
            excess = A::ZERO;
        } else {
            // Not enough cash and reserve: pay interest first, then principal.
            let available = cash + self.dsra;
            f.dsra_draw = self.dsra;
            self.dsra = A::ZERO;
            let interest_paid = available.min_of(interest_due);
            let principal_paid = available - interest_paid;
            f.interest = interest_paid;
            f.scheduled_principal = principal_paid;
            self.balance -= principal_paid;
            let unpaid_interest = interest_due - interest_paid;
            f.cash_left = m.cash_available.min_of(A::ZERO);
            // A borrower who cannot pay the month's interest is in payment default, at
            // maturity too: only a balloon whose interest is paid can be refinanced.
            let balloon_only = matures && unpaid_interest.is_settled();
            if balloon_only && m.refinance_collateral >= refinance_ratio * self.balance {
                f.refinanced = self.balance;
                self.balance = A::ZERO;
                self.done = true;
                return;
            }
            f.default_ead = self.balance + unpaid_interest;
            f.default_unpaid_interest = unpaid_interest;
            f.default_kind = Some(if balloon_only {
                DefaultKind::Refinancing
            } else {
                DefaultKind::Payment
            });
            self.balance = A::ZERO;
            self.defaulted = true;
            self.done = true;
            return;
        }
        if !is_final && !self.balance.is_settled() {
            // Refill the reserve to next month's target (regular debt service, never the
            // balloon); release what is above it.
            let target = self.dsra_target_with(p, q, k + 1, r);
            if self.dsra < target {
                let refill = excess.min_of(target - self.dsra);
                f.dsra_refill = refill;
                self.dsra += refill;
                excess -= refill;
            } else {
                f.dsra_release = self.dsra - target;
                self.dsra = target;
            }
        }
        let kicker = (kicker_share * m.revenue).cents().min_of(excess).pos();
        f.kicker = kicker;
        excess -= kicker;
        if !is_final {
            let sweep = (cash_sweep * excess).cents().min_of(self.balance).pos();
            f.prepayment = sweep;
            self.balance -= sweep;
            excess -= sweep;
        }
        if matures || self.balance.is_settled() {
            f.dsra_release += self.dsra;
            excess += self.dsra;
            self.dsra = A::ZERO;
            self.balance = A::ZERO;
            if !is_final && kicker_share > A::ZERO {
                // Repaid early: the kicker runs on for the original term (MODEL.md §4.3).
                self.kicker_only = true;
            } else {
                self.done = true;
            }
        }
        f.cash_left = excess + m.cash_available.min_of(A::ZERO);
    }

    /// A month of a hybrid repaid early: the kicker, min(`kicker_share`·revenue, cash
    /// available), until the original term ends.
    fn step_kicker_only(
        &mut self,
        p: &DealParams<A>,
        k: u32,
        m: &MonthInputs<A>,
        f: &mut DealFlows<A>,
    ) {
        let DealParamsKind::Loan { kicker_share, .. } = p.kind else {
            return;
        };
        let kicker = (kicker_share * m.revenue)
            .cents()
            .min_of(m.cash_available)
            .pos();
        f.kicker = kicker;
        f.cash_left = m.cash_available - kicker;
        // A credit default in the kicker's final month comes before its end (MODEL.md §4).
        if k >= p.term_months && !m.credit_default {
            self.kicker_only = false;
            self.done = true;
        }
    }

    fn step_rev_share(
        &mut self,
        p: &DealParams<A>,
        k: u32,
        m: &MonthInputs<A>,
        f: &mut DealFlows<A>,
    ) {
        let DealParamsKind::RevenueShare {
            advance,
            share,
            cap_multiple,
        } = p.kind
        else {
            return;
        };
        let cap_left = (cap_multiple * advance - self.received).pos();
        let pay = (share * m.revenue.pos()).cents().min_of(cap_left);
        let capital = pay.min_of(self.balance);
        f.rev_share_capital = capital;
        f.rev_share_income = pay - capital;
        self.balance -= capital;
        self.received += pay;
        f.cash_left = m.cash_available - pay;
        // A credit default in the final month is a default like in any other month: the
        // caller's default check comes before the deal is closed at term (MODEL.md §4.2).
        if (cap_left - pay).is_settled() || (k >= p.term_months && !m.credit_default) {
            f.shortfall = self.balance.pos();
            self.balance = A::ZERO;
            self.done = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn loan(am: Amortization, rate: &str, term: u32) -> DealParams<Decimal> {
        DealParams {
            kind: DealParamsKind::Loan {
                principal: d("1200000"),
                fixed_rate: Some(d(rate)),
                floating_spread: Decimal::ZERO,
                amortization: am,
                grace_months: 0,
                dsra_months: 0,
                cash_sweep: Decimal::ZERO,
                refinance_ratio: Decimal::ONE,
                kicker_share: Decimal::ZERO,
            },
            term_months: term,
            recovery_lag_months: 6,
            secured: true,
            unsecured_recovery: Decimal::ZERO,
        }
    }

    fn plenty() -> MonthInputs<Decimal> {
        MonthInputs {
            revenue: d("1e9"),
            cash_available: d("1e9"),
            base_rate: Decimal::ZERO,
            refinance_collateral: d("1e12"),
            credit_default: false,
        }
    }

    #[test]
    fn annuity_pays_level_closed_form_payment() {
        let p = loan(Amortization::Annuity, "0.12", 24);
        let mut s = DealState::at_close(&p, Decimal::ZERO);
        let r = d("0.01");
        let expected = annuity_payment(d("1200000"), r, 24);
        for k in 1..=24 {
            let f = s.step(&p, k, &plenty());
            let paid = f.interest + f.scheduled_principal;
            // Booked in cents: each payment within a few cents of the closed form.
            assert!(
                (paid - expected).abs() <= d("0.03"),
                "month {k}: {paid} vs {expected}"
            );
        }
        assert!(s.done && s.balance.is_zero());
    }

    #[test]
    fn zero_rate_returns_exactly_principal() {
        for am in [
            Amortization::Annuity,
            Amortization::Linear,
            Amortization::Bullet,
        ] {
            let p = loan(am, "0", 17);
            let mut s = DealState::at_close(&p, Decimal::ZERO);
            let total: Decimal = (1..=17)
                .map(|k| s.step(&p, k, &plenty()).total_received())
                .sum();
            assert_eq!(total, d("1200000"), "{am:?}");
        }
    }

    #[test]
    fn shortfall_without_reserve_is_payment_default() {
        let p = loan(Amortization::Linear, "0.12", 12);
        let mut s = DealState::at_close(&p, Decimal::ZERO);
        let mut m = plenty();
        m.cash_available = d("5000");
        let f = s.step(&p, 1, &m);
        assert_eq!(f.default_kind, Some(DefaultKind::Payment));
        assert_eq!(f.interest, d("5000"));
        assert_eq!(f.default_ead, d("1200000") + d("7000"));
        assert!(s.defaulted);
    }
    /// A fixed-rate annuity with grace, a reserve and a sweep, its cash from tight (reserve
    /// draws) to plenty (refills, prepayments).
    fn annuity_with_reserve<A: Amount>(rate: f64) -> DealParams<A> {
        DealParams {
            kind: DealParamsKind::Loan {
                principal: A::from_f64(1_234_567.0),
                fixed_rate: Some(A::from_f64(rate)),
                floating_spread: A::ZERO,
                amortization: Amortization::Annuity,
                grace_months: 2,
                dsra_months: 3,
                cash_sweep: A::from_f64(0.25),
                refinance_ratio: A::ONE,
                kicker_share: A::ZERO,
            },
            term_months: 37,
            recovery_lag_months: 6,
            secured: true,
            unsecured_recovery: A::ZERO,
        }
    }

    #[test]
    fn annuity_powers_are_powi_bit_for_bit() {
        for rate in [0.0001, 0.09, 0.115, 0.4] {
            let p = annuity_with_reserve::<f64>(rate);
            let q = AnnuityPowers::new(&p);
            let base = 1.0 + monthly_rate(rate);
            assert_eq!(q.powers.len(), 38);
            for n in 0..=40 {
                assert_eq!(q.pow(base, n).to_bits(), base.powi(n as i32).to_bits());
                // Another base (a floating rate) is computed, not looked up.
                let other = base + 1e-9;
                assert_eq!(q.pow(other, n).to_bits(), other.powi(n as i32).to_bits());
            }
        }
        let mut floating = annuity_with_reserve::<f64>(0.09);
        if let DealParamsKind::Loan { fixed_rate, .. } = &mut floating.kind {
            *fixed_rate = None;
        }
        assert!(AnnuityPowers::new(&floating).powers.is_empty());
        assert!(AnnuityPowers::new(&annuity_with_reserve::<f64>(0.0))
            .powers
            .is_empty());
    }

    /// Steps a deal with and without its table through the same months; every flow and state
    /// must be the same value in the same representation (Debug shows −0.0 and a decimal's
    /// scale).
    fn same_with_and_without_table<A: Amount>() {
        let p = annuity_with_reserve::<A>(0.11);
        let table = AnnuityPowers::new(&p);
        let mut with = DealState::at_close(&p, A::ZERO);
        let mut without = with;
        for k in 1..=37 {
            let cash = if k % 5 == 0 {
                20_000.0
            } else {
                95_000.0 + 1_000.3 * f64::from(k)
            };
            let m = MonthInputs {
                revenue: A::from_f64(150_000.0),
                cash_available: A::from_f64(cash),
                base_rate: A::from_f64(0.04),
                refinance_collateral: A::from_f64(1e7),
                credit_default: false,
            };
            let mut fa = DealFlows::zero(A::ZERO);
            let mut fb = DealFlows::zero(A::ZERO);
            with.step_into(&p, &table, k, &m, &mut fa);
            without.step_into(&p, &AnnuityPowers::NONE, k, &m, &mut fb);
            assert_eq!(format!("{fa:?}"), format!("{fb:?}"), "month {k}");
            assert_eq!(format!("{with:?}"), format!("{without:?}"), "month {k}");
        }
        assert!(with.done && !with.defaulted);
    }

    #[test]
    fn annuity_powers_leave_every_flow_unchanged() {
        same_with_and_without_table::<f64>();
        same_with_and_without_table::<Decimal>();
    }

    #[test]
    fn an_idle_deal_pays_nothing_and_keeps_its_state() {
        let p = loan(Amortization::Linear, "0.12", 6);
        let mut s = DealState::at_close(&p, Decimal::ZERO);
        for k in 1..=6 {
            assert!(!s.is_idle());
            s.step(&p, k, &plenty());
        }
        assert!(s.done && s.is_idle());
        let before = s;
        let m = plenty();
        assert_eq!(s.step(&p, 7, &m), DealFlows::zero(m.cash_available));
        assert_eq!(s, before);
        // A recovery still to come is not idle: its month pays it.
        s.pending_recovery = Some((9, d("1000")));
        assert!(!s.is_idle());
    }
}
