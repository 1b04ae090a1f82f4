//! A pool's waterfall month on `W` paths at once: `WaterfallLanes::step`, lane for lane the
//! scalar [`WaterfallState::step`] (MODEL.md §6) with its branches as masks (the same `f64`
//! operations in the same order per lane; tested below).

use super::{F, M};
use crate::amount::Amount;
use crate::waterfall::{TrancheFlow, WaterfallMonth, WaterfallParams, WaterfallState};

/// A pool's collections in one month on `W` paths ([`crate::PoolCollections`]; USD).
#[derive(Debug, Clone, Copy)]
pub(crate) struct CollectionLanes<const W: usize> {
    /// Interest proceeds.
    pub(crate) interest_proceeds: F<W>,
    /// Principal proceeds.
    pub(crate) principal_proceeds: F<W>,
    /// Performing balance of the pool's deals.
    pub(crate) performing_balance: F<W>,
    /// Floating base rate, annual (the same on every path).
    pub(crate) base_rate: f64,
}

/// What one tranche receives in one month on `W` paths ([`TrancheFlow`]; USD).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrancheFlowLanes<const W: usize> {
    /// Interest paid.
    pub(crate) interest: F<W>,
    /// Principal paid.
    pub(crate) principal: F<W>,
    /// Interest due and not paid this month.
    pub(crate) interest_shortfall: F<W>,
    /// Balance written off at the legal final.
    pub(crate) writedown: F<W>,
    /// Balance at month end.
    pub(crate) balance_end: F<W>,
}

impl<const W: usize> TrancheFlowLanes<W> {
    /// No flows on any lane.
    pub const ZERO: Self = TrancheFlowLanes {
        interest: F::ZERO,
        principal: F::ZERO,
        interest_shortfall: F::ZERO,
        writedown: F::ZERO,
        balance_end: F::ZERO,
    };

    /// Cash received per lane ([`TrancheFlow::received`]: interest + principal), USD (plain
    /// scalar code).
    #[inline(always)]
    pub fn received_lanes(&self) -> [f64; W] {
        std::array::from_fn(|i| self.interest.0[i] + self.principal.0[i])
    }

    /// Interest paid per lane, USD.
    #[inline(always)]
    pub fn interests(&self) -> &[f64; W] {
        &self.interest.0
    }

    /// Principal paid per lane, USD.
    #[inline(always)]
    pub fn principals(&self) -> &[f64; W] {
        &self.principal.0
    }

    /// Balance written off per lane, USD.
    #[inline(always)]
    pub fn writedowns(&self) -> &[f64; W] {
        &self.writedown.0
    }

    /// Lane `i` as the scalar [`TrancheFlow`].
    #[inline(always)]
    pub fn lane(&self, i: usize) -> TrancheFlow<f64> {
        TrancheFlow {
            interest: self.interest.0[i],
            principal: self.principal.0[i],
            interest_shortfall: self.interest_shortfall.0[i],
            writedown: self.writedown.0[i],
            balance_end: self.balance_end.0[i],
        }
    }
}

/// Fees and events of a pool's month on `W` paths ([`WaterfallMonth`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WaterfallMonthLanes<const W: usize> {
    /// Senior fees paid, USD.
    pub(crate) fees_paid: F<W>,
    /// Whether the OC test failed.
    pub(crate) oc_breached: M<W>,
    /// Interest proceeds diverted to principal by the OC test, USD.
    pub(crate) oc_cure: F<W>,
    /// Whether the senior tranche ends the month with unpaid interest.
    pub(crate) senior_interest_default: M<W>,
}

impl<const W: usize> WaterfallMonthLanes<W> {
    /// Whether the senior tranche ends the month with unpaid interest, per lane (plain
    /// scalar code).
    #[inline(always)]
    pub fn senior_interest_default_lanes(&self) -> [bool; W] {
        std::array::from_fn(|i| self.senior_interest_default.lane(i))
    }

    /// Lane `i` as the scalar [`WaterfallMonth`].
    #[inline(always)]
    pub fn lane(&self, i: usize) -> WaterfallMonth<f64> {
        WaterfallMonth {
            fees_paid: self.fees_paid.0[i],
            oc_breached: self.oc_breached.lane(i),
            oc_cure: self.oc_cure.0[i],
            senior_interest_default: self.senior_interest_default.lane(i),
        }
    }
}

/// A pool's waterfall state on `W` paths ([`WaterfallState`]).
#[derive(Debug, Clone, PartialEq)]
pub struct WaterfallLanes<const W: usize> {
    /// Per tranche: outstanding balance, USD.
    pub(crate) balances: Vec<F<W>>,
    /// Senior interest due and unpaid, USD.
    pub(crate) senior_interest_arrears: F<W>,
    /// Senior fees due and unpaid, USD.
    pub(crate) fee_arrears: F<W>,
}

/// What is left of a month's proceeds on `W` paths, USD.
struct ProceedLanes<const W: usize> {
    interest: F<W>,
    principal: F<W>,
}

impl<const W: usize> ProceedLanes<W> {
    /// The scalar `Proceeds::take`: up to `due` from interest, then (if `principal_too`)
    /// from principal; the amount paid, USD.
    #[inline(always)]
    fn take(&mut self, due: F<W>, principal_too: bool) -> F<W> {
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

impl<const W: usize> WaterfallLanes<W> {
    /// The state at close on every lane.
    pub fn new(p: &WaterfallParams<f64>) -> Self {
        WaterfallLanes {
            balances: p.balances.iter().map(|&b| F::splat(b)).collect(),
            senior_interest_arrears: F::ZERO,
            fee_arrears: F::ZERO,
        }
    }

    /// The lanes of `W` scalar states (of the same pool).
    pub fn from_states(s: &[WaterfallState<f64>; W]) -> Self {
        WaterfallLanes {
            balances: (0..s[0].balances.len())
                .map(|j| F(std::array::from_fn(|i| s[i].balances[j])))
                .collect(),
            senior_interest_arrears: F(std::array::from_fn(|i| s[i].senior_interest_arrears)),
            fee_arrears: F(std::array::from_fn(|i| s[i].fee_arrears)),
        }
    }

    /// Lane `i` as the scalar [`WaterfallState`].
    #[inline(always)]
    pub fn lane(&self, i: usize) -> WaterfallState<f64> {
        WaterfallState {
            balances: self.balances.iter().map(|b| b.0[i]).collect(),
            senior_interest_arrears: self.senior_interest_arrears.0[i],
            fee_arrears: self.fee_arrears.0[i],
        }
    }

    /// Number of tranches.
    pub fn len(&self) -> usize {
        self.balances.len()
    }

    /// Whether the pool has no tranche.
    pub fn is_empty(&self) -> bool {
        self.balances.is_empty()
    }

    /// Tranche `j`'s balance on lane `i`, USD.
    #[inline(always)]
    pub fn balance(&self, j: usize, i: usize) -> f64 {
        self.balances[j].0[i]
    }

    /// Back to the state at close on every lane.
    pub fn reset(&mut self, p: &WaterfallParams<f64>) {
        for (b, &b0) in self.balances.iter_mut().zip(&p.balances) {
            *b = F::splat(b0);
        }
        self.senior_interest_arrears = F::ZERO;
        self.fee_arrears = F::ZERO;
    }

    /// [`WaterfallState::step`] on every lane; writes each tranche's flows into `out`.
    #[inline(always)]
    pub(crate) fn step(
        &mut self,
        p: &WaterfallParams<f64>,
        c: &CollectionLanes<W>,
        legal_final: bool,
        out: &mut [TrancheFlowLanes<W>],
    ) -> WaterfallMonthLanes<W> {
        let twelve = 12.0;
        for o in out.iter_mut() {
            *o = TrancheFlowLanes::ZERO;
        }
        let eq = p.equity;
        let bal = &mut self.balances[..eq + 1];
        let out = &mut out[..eq + 1];
        let mut cash = ProceedLanes {
            interest: c.interest_proceeds.pos(),
            principal: c.principal_proceeds.pos(),
        };

        // 1. Senior fees, then debt interest in order (at the legal final each tranche's
        //    principal right after its interest).
        let fees_due = self.fee_arrears
            + (F::splat(p.senior_fee_rate / twelve) * c.performing_balance.pos()).cents();
        let fees = cash.take(fees_due, legal_final);
        let mut fees_paid = fees;
        self.fee_arrears = fees_due - fees;
        for j in 0..eq {
            let coupon =
                Amount::pos(p.fixed_coupons[j].unwrap_or(c.base_rate + p.floating_spreads[j]));
            let mut due = (bal[j] * coupon / twelve).cents();
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
                bal[j] += short;
            }
            if legal_final {
                let pay = cash.take(bal[j], true);
                out[j].principal += pay;
                bal[j] -= pay;
            }
        }

        // 2. OC test on the most senior outstanding debt tranche (per lane).
        let mut oc_breached = M::splat(false);
        let mut oc_cure = F::ZERO;
        if p.oc_trigger > 0.0 && !legal_final {
            // The senior outstanding tranche of each lane (`first`: its index there, `eq`
            // where every debt tranche is settled).
            let mut found = M::splat(false);
            let mut senior = F::ZERO;
            let mut first = [eq; W];
            for (j, b) in bal.iter().take(eq).enumerate() {
                let here = !found & !b.is_settled();
                senior = here.select(*b, senior);
                found = found | here;
                for (f, l) in first.iter_mut().zip(0..W) {
                    if here.lane(l) {
                        *f = j;
                    }
                }
            }
            let breach = found & c.performing_balance.lt(F::splat(p.oc_trigger) * senior);
            if breach.any() {
                let mut cure = (senior - c.performing_balance.pos() / p.oc_trigger)
                    .pos()
                    .min_of(cash.interest);
                cash.interest = breach.select(cash.interest - cure, cash.interest);
                let diverted = cure;
                for j in 0..eq {
                    // From the senior outstanding tranche down (the scalar `s..eq`).
                    let from = M(std::array::from_fn(|l| {
                        0u64.wrapping_sub(u64::from(j >= first[l]))
                    }));
                    let on = breach & from;
                    let pay = cure.min_of(bal[j]);
                    out[j].principal = on.select(out[j].principal + pay, out[j].principal);
                    bal[j] = on.select(bal[j] - pay, bal[j]);
                    cure = on.select(cure - pay, cure);
                }
                cash.interest = breach.select(cash.interest + cure, cash.interest);
                oc_breached = breach;
                oc_cure = breach.select(diverted - cure, F::ZERO);
            }
        }

        // 3. Principal proceeds: unpaid senior fees, the senior's arrears, then principal
        //    sequentially; equity takes what is left.
        let fee_cure = cash.principal.min_of(self.fee_arrears);
        cash.principal -= fee_cure;
        self.fee_arrears -= fee_cure;
        fees_paid += fee_cure;
        let mut senior_interest_default = M::splat(false);
        if eq > 0 {
            let cure = cash.principal.min_of(self.senior_interest_arrears);
            cash.principal -= cure;
            self.senior_interest_arrears -= cure;
            out[0].interest += cure;
            out[0].interest_shortfall = self.senior_interest_arrears;
            senior_interest_default = !self.senior_interest_arrears.is_settled();
        }
        for j in 0..eq {
            let pay = cash.principal.min_of(bal[j]);
            out[j].principal += pay;
            bal[j] -= pay;
            cash.principal -= pay;
        }
        out[eq].interest = cash.interest;
        out[eq].principal = cash.principal;

        if legal_final {
            for j in 0..eq {
                out[j].writedown = bal[j]
                    + if j == 0 {
                        self.senior_interest_arrears
                    } else {
                        F::ZERO
                    };
                bal[j] = F::ZERO;
            }
            self.senior_interest_arrears = F::ZERO;
        }
        for (o, b) in out.iter_mut().zip(bal.iter()) {
            o.balance_end = *b;
        }
        WaterfallMonthLanes {
            fees_paid,
            oc_breached,
            oc_cure,
            senior_interest_default,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::lanes::Gen;

    /// Every lane of `WaterfallLanes::step` is the scalar `WaterfallState::step` bit for bit
    /// over whole pool lives: random tranche structures, fees, OC triggers, coupons, and
    /// collections that are sometimes short (arrears, OC breaches, capitalisation, write-downs).
    #[test]
    fn lanes_step_as_the_scalar_waterfall() {
        crate::lanes::at_every_width!(steps_as_scalar);
    }

    fn steps_as_scalar<const W: usize>() {
        let mut g = Gen(0xDEAD_BEEF_1234_5679);
        let mut seen = [0u32; 4];
        for _ in 0..2_000 {
            let n = 1 + (g.u() * 4.0) as usize;
            let total = 1e6;
            let p = WaterfallParams {
                senior_fee_rate: if g.chance(0.7) { 0.01 * g.u() } else { 0.0 },
                oc_trigger: if g.chance(0.6) {
                    1.0 + 0.4 * g.u()
                } else {
                    0.0
                },
                balances: (0..n).map(|_| total * (0.05 + g.u())).collect(),
                fixed_coupons: (0..n)
                    .map(|_| g.chance(0.7).then(|| 0.15 * g.u() - 0.01))
                    .collect(),
                floating_spreads: (0..n).map(|_| 0.05 * g.u()).collect(),
                equity: n - 1,
            };
            let months = 3 + (g.u() * 40.0) as u32;
            let mut scalar: [WaterfallState<f64>; W] =
                std::array::from_fn(|_| WaterfallState::new(&p));
            let mut lanes = WaterfallLanes::new(&p);
            let mut perf: [f64; W] = [total * 1.3; W];
            for k in 1..=months {
                let base_rate = 0.06 * g.u() - 0.005;
                let cols: [crate::PoolCollections<f64>; W] = std::array::from_fn(|i| {
                    perf[i] *= if g.chance(0.05) { 0.7 } else { 0.99 };
                    crate::PoolCollections {
                        interest_proceeds: if g.chance(0.1) {
                            -100.0 * g.u()
                        } else {
                            total * 0.02 * g.u()
                        },
                        principal_proceeds: total * 0.05 * g.u() * g.u(),
                        performing_balance: if g.chance(0.03) { -1.0 } else { perf[i] },
                        base_rate,
                    }
                });
                let cl = CollectionLanes {
                    interest_proceeds: F(std::array::from_fn(|i| cols[i].interest_proceeds)),
                    principal_proceeds: F(std::array::from_fn(|i| cols[i].principal_proceeds)),
                    performing_balance: F(std::array::from_fn(|i| cols[i].performing_balance)),
                    base_rate,
                };
                let legal_final = k == months;
                let mut out = vec![TrancheFlowLanes::ZERO; n];
                let m = lanes.step(&p, &cl, legal_final, &mut out);
                for i in 0..W {
                    let mut o = vec![TrancheFlow::zero(); n];
                    let want = scalar[i].step(&p, &cols[i], legal_final, &mut o);
                    assert_eq!(format!("{:?}", m.lane(i)), format!("{want:?}"), "month {k}");
                    for j in 0..n {
                        let got = out[j].lane(i);
                        assert_eq!(format!("{got:?}"), format!("{:?}", o[j]), "tranche {j}");
                        assert_eq!(got.interest.to_bits(), o[j].interest.to_bits());
                        assert_eq!(got.principal.to_bits(), o[j].principal.to_bits());
                        assert_eq!(got.writedown.to_bits(), o[j].writedown.to_bits());
                    }
                    assert_eq!(format!("{:?}", lanes.lane(i)), format!("{:?}", scalar[i]));
                    seen[0] += u32::from(want.oc_breached);
                    seen[1] += u32::from(want.senior_interest_default);
                    seen[2] += u32::from(o.iter().any(|t| t.writedown > 0.0));
                    seen[3] += u32::from(o.iter().any(|t| t.interest_shortfall > 0.0));
                }
                lanes = WaterfallLanes::from_states(&scalar);
            }
        }
        assert!(seen.iter().all(|&s| s >= 20), "events seen: {seen:?}");
    }
}
