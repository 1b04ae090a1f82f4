//! One deal's month on `W` paths at once: `DealLanes::step_into`, lane for lane the scalar
//! [`DealState::step_into`] (MODEL.md §4) with its branches as masks.
//!
//! Each lane's values go through the same `f64` operations in the same order as the scalar
//! state machine's, so each lane's flows and state are the scalar ones bit for bit (tested
//! below on random deals, states and months). Where the scalar code takes one branch, both
//! are computed here and each lane keeps its own; a branch whose condition is the same on
//! every lane (the month, the deal's terms) stays a branch.

use super::{F, M};
use crate::amount::Amount;
use crate::deal::{
    loan_monthly_rate, AnnuityPowers, DealFlows, DealParams, DealParamsKind, DealState, DefaultKind,
};
use crate::portfolio::Amortization;

/// [`DefaultKind`] of a lane as a small code: [`NO_DEFAULT`] or `kind as u8 + 1`.
pub type DefaultCode = u8;
/// No default this month.
pub const NO_DEFAULT: DefaultCode = 0;

fn code(k: DefaultKind) -> DefaultCode {
    match k {
        DefaultKind::Payment => 1,
        DefaultKind::Refinancing => 2,
        DefaultKind::Credit => 3,
    }
}

fn kind(c: DefaultCode) -> Option<DefaultKind> {
    match c {
        1 => Some(DefaultKind::Payment),
        2 => Some(DefaultKind::Refinancing),
        3 => Some(DefaultKind::Credit),
        _ => None,
    }
}

/// A deal's state on `W` paths ([`DealState`] lane by lane).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DealLanes<const W: usize> {
    /// Outstanding principal (loan) or unreturned advance (revenue share), USD.
    pub(crate) balance: F<W>,
    /// DSRA cash held, USD.
    pub(crate) dsra: F<W>,
    /// Revenue share: cumulative receipts, USD.
    pub(crate) received: F<W>,
    /// Whether the deal has defaulted.
    pub(crate) defaulted: M<W>,
    /// Whether the deal has ended.
    pub(crate) done: M<W>,
    /// A hybrid repaid before its term: only the kicker is paid.
    pub(crate) kicker_only: M<W>,
    /// Whether a recovery is still to be received.
    pub(crate) pending: M<W>,
    /// The month the pending recovery arrives (meaningful where `pending`).
    pub(crate) pending_month: [u32; W],
    /// The pending recovery, USD (meaningful where `pending`).
    pub(crate) pending_amount: F<W>,
}

/// The market inputs of one month for one deal on `W` paths ([`crate::MonthInputs`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct InputLanes<const W: usize> {
    /// Fleet gross revenue in the month, USD.
    pub(crate) revenue: F<W>,
    /// Cash available to this deal, USD.
    pub(crate) cash_available: F<W>,
    /// Floating base rate for the month, annual (the same on every path).
    pub(crate) base_rate: f64,
    /// Collateral value for a refinancing test, USD.
    pub(crate) refinance_collateral: F<W>,
    /// Whether the operator's credit default falls in this month.
    pub(crate) credit_default: M<W>,
}

/// What one deal pays in one month on `W` paths ([`DealFlows`] lane by lane; USD).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FlowLanes<const W: usize> {
    /// Interest paid.
    pub(crate) interest: F<W>,
    /// Scheduled principal paid.
    pub(crate) scheduled_principal: F<W>,
    /// Principal prepaid by the cash sweep.
    pub(crate) prepayment: F<W>,
    /// Balloon principal repaid by refinancing.
    pub(crate) refinanced: F<W>,
    /// Revenue-share receipts counted as capital.
    pub(crate) rev_share_capital: F<W>,
    /// Revenue-share receipts counted as income.
    pub(crate) rev_share_income: F<W>,
    /// Hybrid kicker paid.
    pub(crate) kicker: F<W>,
    /// Recovery received this month.
    pub(crate) recovery: F<W>,
    /// DSRA drawn.
    pub(crate) dsra_draw: F<W>,
    /// DSRA refilled.
    pub(crate) dsra_refill: F<W>,
    /// DSRA released.
    pub(crate) dsra_release: F<W>,
    /// Exposure at default.
    pub(crate) default_ead: F<W>,
    /// Why it defaulted this month ([`NO_DEFAULT`] if it did not).
    pub(crate) default_kind: [DefaultCode; W],
    /// Interest due and unpaid at default.
    pub(crate) default_unpaid_interest: F<W>,
    /// Revenue-share capital not returned by the end of term.
    pub(crate) shortfall: F<W>,
    /// Cash left for the next deal on the fleet.
    pub(crate) cash_left: F<W>,
    /// Outstanding principal at month end.
    pub(crate) balance_end: F<W>,
}

/// `DealLanes::step_into` with the month's inputs given per path (for benchmarks and tests
/// outside the engine).
///
/// # Safety
/// The CPU runs lane code of width `W` ([`super::supported`]).
#[inline(always)]
pub unsafe fn step_deal<const W: usize>(
    st: &mut DealLanes<W>,
    p: &DealParams<f64>,
    q: &AnnuityPowers<f64>,
    k: u32,
    m: &[crate::deal::MonthInputs<f64>; W],
    f: &mut FlowLanes<W>,
) {
    let inputs = InputLanes {
        revenue: F(std::array::from_fn(|i| m[i].revenue)),
        cash_available: F(std::array::from_fn(|i| m[i].cash_available)),
        base_rate: m[0].base_rate,
        refinance_collateral: F(std::array::from_fn(|i| m[i].refinance_collateral)),
        credit_default: M(std::array::from_fn(|i| mask(m[i].credit_default))),
    };
    debug_assert!(m
        .iter()
        .all(|x| x.base_rate.to_bits() == inputs.base_rate.to_bits()));
    st.step_into(p, q, k, &inputs, f);
}

impl<const W: usize> FlowLanes<W> {
    /// No flows and no cash on any lane (a buffer for [`step_deal`]).
    pub fn empty() -> Self {
        Self::zero(F::ZERO)
    }

    /// [`DealFlows::zero`] on every lane: no flows, `cash` passes through.
    #[inline(always)]
    pub(crate) fn zero(cash: F<W>) -> Self {
        let z = F::ZERO;
        FlowLanes {
            interest: z,
            scheduled_principal: z,
            prepayment: z,
            refinanced: z,
            rev_share_capital: z,
            rev_share_income: z,
            kicker: z,
            recovery: z,
            dsra_draw: z,
            dsra_refill: z,
            dsra_release: z,
            default_ead: z,
            default_kind: [NO_DEFAULT; W],
            default_unpaid_interest: z,
            shortfall: z,
            cash_left: cash,
            balance_end: z,
        }
    }

    /// Sets lane `i` to the scalar flows `f`.
    pub fn set_lane(&mut self, i: usize, f: &DealFlows<f64>) {
        self.interest.0[i] = f.interest;
        self.scheduled_principal.0[i] = f.scheduled_principal;
        self.prepayment.0[i] = f.prepayment;
        self.refinanced.0[i] = f.refinanced;
        self.rev_share_capital.0[i] = f.rev_share_capital;
        self.rev_share_income.0[i] = f.rev_share_income;
        self.kicker.0[i] = f.kicker;
        self.recovery.0[i] = f.recovery;
        self.dsra_draw.0[i] = f.dsra_draw;
        self.dsra_refill.0[i] = f.dsra_refill;
        self.dsra_release.0[i] = f.dsra_release;
        self.default_ead.0[i] = f.default_ead;
        self.default_kind[i] = f.default_kind.map_or(NO_DEFAULT, code);
        self.default_unpaid_interest.0[i] = f.default_unpaid_interest;
        self.shortfall.0[i] = f.shortfall;
        self.cash_left.0[i] = f.cash_left;
        self.balance_end.0[i] = f.balance_end;
    }

    /// Interest proceeds for a pool ([`DealFlows::interest_proceeds`]), USD.
    #[inline(always)]
    pub(crate) fn interest_proceeds(&self) -> F<W> {
        self.interest + self.rev_share_income + self.kicker
    }

    /// Principal proceeds for a pool ([`DealFlows::principal_proceeds`]), USD.
    #[inline(always)]
    pub(crate) fn principal_proceeds(&self) -> F<W> {
        self.scheduled_principal
            + self.prepayment
            + self.refinanced
            + self.rev_share_capital
            + self.recovery
    }

    /// Whether each lane defaulted this month.
    #[inline(always)]
    pub(crate) fn defaulted(&self) -> M<W> {
        M(std::array::from_fn(|i| {
            mask(self.default_kind[i] != NO_DEFAULT)
        }))
    }

    /// Lane `i`'s interest and principal proceeds ([`DealFlows::interest_proceeds`],
    /// [`DealFlows::principal_proceeds`]: the same additions), USD, and whether it defaulted.
    #[inline(always)]
    pub fn lane_proceeds(&self, i: usize) -> (f64, f64, bool) {
        (
            self.interest.0[i] + self.rev_share_income.0[i] + self.kicker.0[i],
            self.scheduled_principal.0[i]
                + self.prepayment.0[i]
                + self.refinanced.0[i]
                + self.rev_share_capital.0[i]
                + self.recovery.0[i],
            self.default_kind[i] != NO_DEFAULT,
        )
    }

    /// Every lane's interest and principal proceeds, USD: [`FlowLanes::lane_proceeds`] of
    /// each lane (the same additions in the same order), as plain arrays for the simulator's
    /// recording. Plain scalar code (no vector intrinsics), so it is sound on any CPU.
    #[inline(always)]
    pub fn proceeds(&self) -> ([f64; W], [f64; W]) {
        (
            std::array::from_fn(|i| {
                self.interest.0[i] + self.rev_share_income.0[i] + self.kicker.0[i]
            }),
            std::array::from_fn(|i| {
                self.scheduled_principal.0[i]
                    + self.prepayment.0[i]
                    + self.refinanced.0[i]
                    + self.rev_share_capital.0[i]
                    + self.recovery.0[i]
            }),
        )
    }

    /// Whether each lane defaulted this month (plain scalar code).
    #[inline(always)]
    pub fn defaulted_lanes(&self) -> [bool; W] {
        std::array::from_fn(|i| self.default_kind[i] != NO_DEFAULT)
    }

    /// Lane `i` as the scalar engine's [`DealFlows`].
    #[inline(always)]
    pub fn lane(&self, i: usize) -> DealFlows<f64> {
        DealFlows {
            interest: self.interest.0[i],
            scheduled_principal: self.scheduled_principal.0[i],
            prepayment: self.prepayment.0[i],
            refinanced: self.refinanced.0[i],
            rev_share_capital: self.rev_share_capital.0[i],
            rev_share_income: self.rev_share_income.0[i],
            kicker: self.kicker.0[i],
            recovery: self.recovery.0[i],
            dsra_draw: self.dsra_draw.0[i],
            dsra_refill: self.dsra_refill.0[i],
            dsra_release: self.dsra_release.0[i],
            default_ead: self.default_ead.0[i],
            default_kind: kind(self.default_kind[i]),
            default_unpaid_interest: self.default_unpaid_interest.0[i],
            shortfall: self.shortfall.0[i],
            cash_left: self.cash_left.0[i],
            balance_end: self.balance_end.0[i],
        }
    }
}

impl<const W: usize> DealLanes<W> {
    /// Sets lane `i` to the scalar state `s`.
    pub fn set_lane(&mut self, i: usize, s: &DealState<f64>) {
        self.balance.0[i] = s.balance;
        self.dsra.0[i] = s.dsra;
        self.received.0[i] = s.received;
        self.defaulted.0[i] = mask(s.defaulted);
        self.done.0[i] = mask(s.done);
        self.kicker_only.0[i] = mask(s.kicker_only);
        self.pending.0[i] = mask(s.pending_recovery.is_some());
        self.pending_month[i] = s.pending_recovery.map_or(0, |p| p.0);
        self.pending_amount.0[i] = s.pending_recovery.map_or(0.0, |p| p.1);
    }

    /// Every lane in the state at close of the deal `p`.
    pub fn at_close(p: &DealParams<f64>, first_base_rate: f64) -> Self {
        Self::from_states(&[DealState::at_close(p, first_base_rate); W])
    }

    /// The lanes of `W` scalar states.
    pub fn from_states(s: &[DealState<f64>; W]) -> Self {
        let f = |g: fn(&DealState<f64>) -> f64| F(std::array::from_fn(|i| g(&s[i])));
        let m = |g: fn(&DealState<f64>) -> bool| M(std::array::from_fn(|i| mask(g(&s[i]))));
        DealLanes {
            balance: f(|s| s.balance),
            dsra: f(|s| s.dsra),
            received: f(|s| s.received),
            defaulted: m(|s| s.defaulted),
            done: m(|s| s.done),
            kicker_only: m(|s| s.kicker_only),
            pending: m(|s| s.pending_recovery.is_some()),
            pending_month: std::array::from_fn(|i| s[i].pending_recovery.map_or(0, |p| p.0)),
            pending_amount: f(|s| s.pending_recovery.map_or(0.0, |p| p.1)),
        }
    }

    /// Lane `i`'s (done, balance, DSRA, pending recovery amount): the fields the simulator's
    /// recording and the vault read, without building a whole [`DealState`].
    #[inline(always)]
    pub fn lane_mark(&self, i: usize) -> (bool, f64, f64, Option<f64>) {
        (
            self.done.lane(i),
            self.balance.0[i],
            self.dsra.0[i],
            self.pending.lane(i).then(|| self.pending_amount.0[i]),
        )
    }

    /// Whether the deal has ended, per lane (plain scalar code).
    #[inline(always)]
    pub fn done_lanes(&self) -> [bool; W] {
        std::array::from_fn(|i| self.done.lane(i))
    }

    /// Whether the deal has ended, per lane as a mask: all bits set for yes, none for no.
    #[inline(always)]
    pub fn done_mask(&self) -> &[u64; W] {
        &self.done.0
    }

    /// Outstanding balance per lane where the deal has not ended, +0.0 where it has, USD
    /// (plain scalar code: the balance's bits masked by the lane's "done" mask, no branch).
    #[inline(always)]
    pub fn open_balances(&self) -> [f64; W] {
        std::array::from_fn(|i| f64::from_bits(self.balance.0[i].to_bits() & !self.done.0[i]))
    }

    /// Whether some lane has ended with a recovery still to come (plain scalar code: the
    /// masks' bits, no branch per lane).
    #[inline(always)]
    pub fn any_done_pending(&self) -> bool {
        (0..W).fold(0, |a, i| a | (self.done.0[i] & self.pending.0[i])) != 0
    }

    /// Outstanding balance per lane, USD.
    #[inline(always)]
    pub fn balances(&self) -> &[f64; W] {
        &self.balance.0
    }

    /// DSRA cash held per lane, USD.
    #[inline(always)]
    pub fn dsras(&self) -> &[f64; W] {
        &self.dsra.0
    }

    /// Lane `i` as the scalar engine's [`DealState`].
    #[inline(always)]
    pub fn lane(&self, i: usize) -> DealState<f64> {
        DealState {
            balance: self.balance.0[i],
            dsra: self.dsra.0[i],
            received: self.received.0[i],
            defaulted: self.defaulted.lane(i),
            done: self.done.lane(i),
            kicker_only: self.kicker_only.lane(i),
            pending_recovery: self
                .pending
                .lane(i)
                .then_some((self.pending_month[i], self.pending_amount.0[i])),
        }
    }

    /// [`DealState::step_into`] on every lane: month `k` (1-based) of the deal with terms `p`
    /// and annuity table `q`, writing the month's flows into `f` (overwritten entirely).
    #[inline(always)]
    pub(crate) fn step_into(
        &mut self,
        p: &DealParams<f64>,
        q: &AnnuityPowers<f64>,
        k: u32,
        m: &InputLanes<W>,
        f: &mut FlowLanes<W>,
    ) {
        *f = FlowLanes::zero(m.cash_available);
        if self.pending.any() {
            let due = self.pending & M(std::array::from_fn(|i| mask(self.pending_month[i] <= k)));
            f.recovery = due.select(self.pending_amount, f.recovery);
            self.pending = self.pending & !due;
        }
        let live = !self.done;
        if !live.any() {
            return;
        }
        let kicker = live & self.kicker_only;
        let regular = live & !self.kicker_only;
        if kicker.any() {
            self.step_kicker_only(p, k, m, f, kicker);
        }
        if regular.any() {
            match p.kind {
                DealParamsKind::Loan { .. } => self.step_loan(p, q, k, m, f, regular),
                DealParamsKind::RevenueShare { .. } => self.step_rev_share(p, k, m, f, regular),
            }
        }
        // MODEL.md §4.3, §5: the operator's default defaults every deal still running.
        let credit = m.credit_default & live & !self.done;
        if credit.any() {
            self.kicker_only = self.kicker_only & !credit;
            f.default_ead = credit.select(f.default_ead + self.balance, f.default_ead);
            f.default_kind = credit.select_u8(code(DefaultKind::Credit), f.default_kind);
            self.balance = credit.select(F::ZERO, self.balance);
            self.defaulted = self.defaulted | credit;
            self.done = self.done | credit;
        }
        f.balance_end = live.select(self.balance, f.balance_end);
    }

    /// [`DealState::step_loan`]'s month on the lanes `act`.
    #[inline(always)]
    fn step_loan(
        &mut self,
        p: &DealParams<f64>,
        q: &AnnuityPowers<f64>,
        k: u32,
        m: &InputLanes<W>,
        f: &mut FlowLanes<W>,
        act: M<W>,
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
        let r = loan_monthly_rate(p, m.base_rate);
        let is_final = k >= p.term_months;
        let no = M::splat(false);
        let matures = if is_final { !m.credit_default } else { no };
        let (interest_due, sched) = debt_service(self.balance, p, q, k, r, true);
        // A default in the final month: interest only (the credit default takes the rest).
        let sched = if is_final {
            m.credit_default.select(F::ZERO, sched)
        } else {
            sched
        };
        let due = interest_due + sched;
        let cash = m.cash_available.pos();
        let paid = cash.ge(due);
        let drawn = !paid & (cash + self.dsra).ge(due);
        let short = act & !paid & !drawn;
        let ok = act & !short;

        // Not enough cash and reserve: interest first, then principal; refinanced or default.
        let available = cash + self.dsra;
        let interest_paid = available.min_of(interest_due);
        let principal_paid = available - interest_paid;
        let balance_short = self.balance - principal_paid;
        let unpaid_interest = interest_due - interest_paid;
        let balloon_only = matures & unpaid_interest.is_settled();
        let refinanced =
            short & balloon_only & m.refinance_collateral.ge(refinance_ratio * balance_short);
        let defaulted = short & !refinanced;

        // Paid from cash, or with a DSRA draw: the reserve, the kicker, the sweep.
        let draw = due - cash;
        let mut balance = self.balance - sched;
        let mut dsra = drawn.select(self.dsra - draw, self.dsra);
        let mut excess = paid.select(cash - due, F::ZERO);
        let mut refill = F::ZERO;
        let mut release = F::ZERO;
        if !is_final {
            let open = !balance.is_settled();
            let target = dsra_target(balance, p, q, k + 1, r);
            let below = dsra.lt(target);
            let top_up = excess.min_of(target - dsra);
            let (fill, free) = (open & below, open & !below);
            refill = fill.select(top_up, F::ZERO);
            release = free.select(dsra - target, F::ZERO);
            dsra = fill.select(dsra + top_up, free.select(target, dsra));
            excess = fill.select(excess - top_up, excess);
        }
        let kicker = (F::splat(kicker_share) * m.revenue)
            .cents()
            .min_of(excess)
            .pos();
        excess -= kicker;
        let mut prepayment = F::ZERO;
        if !is_final {
            let sweep = (F::splat(cash_sweep) * excess)
                .cents()
                .min_of(balance)
                .pos();
            prepayment = sweep;
            balance -= sweep;
            excess -= sweep;
        }
        let ends = matures | balance.is_settled();
        release = ends.select(release + dsra, release);
        excess = ends.select(excess + dsra, excess);
        dsra = ends.select(F::ZERO, dsra);
        balance = ends.select(F::ZERO, balance);
        // Repaid early with a kicker: the kicker runs on for the original term (§4.3).
        let kicker_on = !is_final && kicker_share > 0.0;
        let cash_neg = m.cash_available.min_of(F::ZERO);

        // The flows: `ok` lanes from the paid path, `short` lanes from the shortfall path.
        f.interest = ok.select(interest_due, short.select(interest_paid, f.interest));
        f.scheduled_principal =
            ok.select(sched, short.select(principal_paid, f.scheduled_principal));
        f.dsra_draw = (ok & drawn).select(draw, short.select(self.dsra, f.dsra_draw));
        f.dsra_refill = ok.select(refill, f.dsra_refill);
        f.dsra_release = ok.select(release, f.dsra_release);
        f.kicker = ok.select(kicker, f.kicker);
        f.prepayment = ok.select(prepayment, f.prepayment);
        f.cash_left = ok.select(excess + cash_neg, short.select(cash_neg, f.cash_left));
        f.refinanced = refinanced.select(balance_short, f.refinanced);
        f.default_ead = defaulted.select(balance_short + unpaid_interest, f.default_ead);
        f.default_unpaid_interest = defaulted.select(unpaid_interest, f.default_unpaid_interest);
        f.default_kind =
            (defaulted & balloon_only).select_u8(code(DefaultKind::Refinancing), f.default_kind);
        f.default_kind =
            (defaulted & !balloon_only).select_u8(code(DefaultKind::Payment), f.default_kind);

        // The state.
        self.balance = ok.select(balance, short.select(F::ZERO, self.balance));
        self.dsra = ok.select(dsra, short.select(F::ZERO, self.dsra));
        self.defaulted = self.defaulted | defaulted;
        let ended = ok & ends;
        if kicker_on {
            self.kicker_only = self.kicker_only | ended;
            self.done = self.done | short;
        } else {
            self.done = self.done | short | ended;
        }
    }

    /// [`DealState::step_kicker_only`]'s month on the lanes `act`.
    #[inline(always)]
    fn step_kicker_only(
        &mut self,
        p: &DealParams<f64>,
        k: u32,
        m: &InputLanes<W>,
        f: &mut FlowLanes<W>,
        act: M<W>,
    ) {
        let DealParamsKind::Loan { kicker_share, .. } = p.kind else {
            return;
        };
        let kicker = (F::splat(kicker_share) * m.revenue)
            .cents()
            .min_of(m.cash_available)
            .pos();
        f.kicker = act.select(kicker, f.kicker);
        f.cash_left = act.select(m.cash_available - kicker, f.cash_left);
        if k >= p.term_months {
            let ends = act & !m.credit_default;
            self.kicker_only = self.kicker_only & !ends;
            self.done = self.done | ends;
        }
    }

    /// [`DealState::step_rev_share`]'s month on the lanes `act`.
    #[inline(always)]
    fn step_rev_share(
        &mut self,
        p: &DealParams<f64>,
        k: u32,
        m: &InputLanes<W>,
        f: &mut FlowLanes<W>,
        act: M<W>,
    ) {
        let DealParamsKind::RevenueShare {
            advance,
            share,
            cap_multiple,
        } = p.kind
        else {
            return;
        };
        let cap_left = (F::splat(cap_multiple * advance) - self.received).pos();
        let pay = (F::splat(share) * m.revenue.pos()).cents().min_of(cap_left);
        let capital = pay.min_of(self.balance);
        let balance = self.balance - capital;
        f.rev_share_capital = act.select(capital, f.rev_share_capital);
        f.rev_share_income = act.select(pay - capital, f.rev_share_income);
        f.cash_left = act.select(m.cash_available - pay, f.cash_left);
        self.received = act.select(self.received + pay, self.received);
        let at_term = if k >= p.term_months {
            !m.credit_default
        } else {
            M::splat(false)
        };
        let ends = act & ((cap_left - pay).is_settled() | at_term);
        f.shortfall = ends.select(balance.pos(), f.shortfall);
        self.balance = ends.select(F::ZERO, act.select(balance, self.balance));
        self.done = self.done | ends;
    }
}

#[inline(always)]
fn mask(b: bool) -> u64 {
    0u64.wrapping_sub(u64::from(b))
}

/// [`DealState`]'s `debt_service` on the balances `b`: the month's interest and principal
/// (`balloon`: the whole balance in the final month), USD; `r` the month's monthly rate.
#[inline(always)]
fn debt_service<const W: usize>(
    b: F<W>,
    p: &DealParams<f64>,
    q: &AnnuityPowers<f64>,
    k: u32,
    r: f64,
    balloon: bool,
) -> (F<W>, F<W>) {
    let DealParamsKind::Loan {
        amortization,
        grace_months,
        principal,
        ..
    } = p.kind
    else {
        return (F::ZERO, F::ZERO);
    };
    let interest = (b * r).cents();
    let sched = if balloon && k >= p.term_months {
        b
    } else if k <= grace_months {
        F::ZERO
    } else {
        match amortization {
            Amortization::Bullet => F::ZERO,
            Amortization::Linear => {
                F::splat((principal / f64::from(p.term_months - grace_months)).cents()).min_of(b)
            }
            Amortization::Annuity => {
                let n = p.term_months.saturating_sub(k).saturating_add(1);
                (annuity_payment(b, r, n, q) - interest)
                    .cents()
                    .pos()
                    .min_of(b)
            }
        }
    };
    (interest, sched)
}

/// The deal's `annuity_payment_with` on the balances `b` (rate `r` and months `n` are the
/// same on every lane).
#[inline(always)]
fn annuity_payment<const W: usize>(b: F<W>, r: f64, n: u32, q: &AnnuityPowers<f64>) -> F<W> {
    if n == 0 {
        return b;
    }
    if r <= 0.0 {
        return b / f64::from_f64(f64::from(n));
    }
    let pow = q.pow(1.0 + r, n);
    b * r * pow / (pow - 1.0)
}

/// The deal's `dsra_target_with` on the balances `b`.
#[inline(always)]
fn dsra_target<const W: usize>(
    b: F<W>,
    p: &DealParams<f64>,
    q: &AnnuityPowers<f64>,
    k: u32,
    r: f64,
) -> F<W> {
    let DealParamsKind::Loan { dsra_months, .. } = p.kind else {
        return F::ZERO;
    };
    let (i, sp) = debt_service(b, p, q, k, r, false);
    (F::splat(f64::from_f64(f64::from(dsra_months))) * (i + sp)).cents()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deal::MonthInputs;

    /// A small deterministic generator (xorshift64*), so the test needs no RNG crate.
    use crate::lanes::Gen;

    fn random_deal(g: &mut Gen) -> DealParams<f64> {
        let term = 3 + g.below(40);
        let kind = if g.chance(0.25) {
            DealParamsKind::RevenueShare {
                advance: 1e6 * (0.5 + g.u()),
                share: 0.05 + 0.3 * g.u(),
                cap_multiple: 1.0 + g.u(),
            }
        } else {
            DealParamsKind::Loan {
                principal: 1e6 * (0.5 + g.u()),
                fixed_rate: g.chance(0.6).then(|| 0.2 * g.u() - 0.01),
                floating_spread: 0.05 * g.u(),
                amortization: [
                    Amortization::Annuity,
                    Amortization::Linear,
                    Amortization::Bullet,
                ][g.below(3) as usize],
                grace_months: if g.chance(0.3) { g.below(term) } else { 0 },
                dsra_months: g.below(4),
                cash_sweep: if g.chance(0.5) { g.u() } else { 0.0 },
                refinance_ratio: 0.5 + g.u(),
                kicker_share: if g.chance(0.4) { 0.1 * g.u() } else { 0.0 },
            }
        };
        DealParams {
            kind,
            term_months: term,
            recovery_lag_months: g.below(6),
            secured: true,
            unsecured_recovery: 0.3,
        }
    }

    /// Every lane of `DealLanes::step_into` is the scalar `step_into` bit for bit, month
    /// after month, on random deals (all kinds, amortizations, grace, reserves, sweeps,
    /// kickers), cash that is sometimes short, credit defaults and recoveries.
    #[test]
    fn lanes_step_as_the_scalar_state_machine() {
        crate::lanes::at_every_width!(steps_as_scalar);
    }

    fn steps_as_scalar<const W: usize>() {
        let mut g = Gen(0x1234_5678_9ABC_DEF1);
        let mut lane_months = 0;
        // How often each branch of the state machine ran (so the test covers them all).
        let mut seen = [0u32; 11];
        for _ in 0..3_000 {
            let p = random_deal(&mut g);
            let q = AnnuityPowers::new(&p);
            let base0 = 0.05 * g.u();
            let mut scalar: [DealState<f64>; W] =
                std::array::from_fn(|_| DealState::at_close(&p, base0));
            let mut lanes = DealLanes::from_states(&scalar);
            let full = p.funded() / f64::from(p.term_months);
            for k in 1..=p.term_months + 6 {
                let base_rate = 0.06 * g.u() - 0.005;
                let inputs: [MonthInputs<f64>; W] = std::array::from_fn(|_| MonthInputs {
                    revenue: if g.chance(0.1) {
                        -1e4 * g.u()
                    } else {
                        3.0 * full * g.u()
                    },
                    cash_available: if g.chance(0.05) {
                        -1e3 * g.u()
                    } else if g.chance(0.04) {
                        // Enough to repay early (a hybrid then pays only its kicker).
                        1.5 * p.funded() * g.u()
                    } else {
                        2.5 * full * g.u() * g.u()
                    },
                    base_rate,
                    refinance_collateral: 2.0 * p.funded() * g.u(),
                    credit_default: g.chance(0.02),
                });
                let il = InputLanes {
                    revenue: F(std::array::from_fn(|i| inputs[i].revenue)),
                    cash_available: F(std::array::from_fn(|i| inputs[i].cash_available)),
                    base_rate,
                    refinance_collateral: F(std::array::from_fn(|i| {
                        inputs[i].refinance_collateral
                    })),
                    credit_default: M(std::array::from_fn(|i| mask(inputs[i].credit_default))),
                };
                let mut fl = FlowLanes::zero(F::ZERO);
                lanes.step_into(&p, &q, k, &il, &mut fl);
                for i in 0..W {
                    let mut f = DealFlows::zero(0.0);
                    scalar[i].step_into(&p, &q, k, &inputs[i], &mut f);
                    let got = fl.lane(i);
                    assert_eq!(
                        format!("{got:?}"),
                        format!("{f:?}"),
                        "flows, lane {i}, month {k}, deal {p:?}"
                    );
                    assert_eq!(bits_of_flows(&got), bits_of_flows(&f));
                    assert_eq!(
                        format!("{:?}", lanes.lane(i)),
                        format!("{:?}", scalar[i]),
                        "state, lane {i}, month {k}"
                    );
                    // The fleet sets a defaulted deal's recovery (both sides read this state).
                    if f.default_kind.is_some() && g.chance(0.7) {
                        scalar[i].pending_recovery = Some((k + g.below(4), 1e5 * g.u()));
                    }
                    lane_months += 1;
                    let events = [
                        f.default_kind == Some(DefaultKind::Payment),
                        f.default_kind == Some(DefaultKind::Refinancing),
                        f.default_kind == Some(DefaultKind::Credit),
                        f.refinanced > 0.0,
                        scalar[i].kicker_only,
                        f.dsra_draw > 0.0,
                        f.dsra_refill > 0.0,
                        f.dsra_release > 0.0,
                        f.shortfall > 0.0,
                        f.recovery > 0.0,
                        f.prepayment > 0.0,
                    ];
                    for (n, e) in seen.iter_mut().zip(events) {
                        *n += u32::from(e);
                    }
                }
                lanes = DealLanes::from_states(&scalar);
            }
        }
        assert!(lane_months > 100_000);
        assert!(seen.iter().all(|&n| n >= 20), "branches seen: {seen:?}");
    }

    fn bits_of_flows(f: &DealFlows<f64>) -> Vec<u64> {
        [
            f.interest,
            f.scheduled_principal,
            f.prepayment,
            f.refinanced,
            f.rev_share_capital,
            f.rev_share_income,
            f.kicker,
            f.recovery,
            f.dsra_draw,
            f.dsra_refill,
            f.dsra_release,
            f.default_ead,
            f.default_unpaid_interest,
            f.shortfall,
            f.cash_left,
            f.balance_end,
        ]
        .iter()
        .map(|x| x.to_bits())
        .collect()
    }
}
