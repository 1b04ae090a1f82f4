//! The portfolio's month on `W` paths at once: [`CashflowPlan::step_lanes`], lane for lane
//! the scalar [`CashflowPlan::step`] (fleets → deals in lien order → recoveries → pool
//! waterfalls; derivatives and hedges). Fleets, deals, pools and waterfalls run in lanes; the
//! rare or per-instrument parts (a fleet's recoveries in a month with a default, the
//! derivatives' fixings and settlements) run lane by lane through the scalar code, reading and
//! writing the lanes. Tested against `step` path by path below.

use super::deal::{DealLanes, FlowLanes, InputLanes};
use super::waterfall::{CollectionLanes, TrancheFlowLanes, WaterfallLanes, WaterfallMonthLanes};
use super::{F, M};
use crate::amount::Amount;
use crate::deal::{DealFlows, DealState};
use crate::derivative::Underlying;
use crate::runner::{CashflowPlan, FleetMonth, MarketMonth};
use crate::waterfall::PoolCollections;

/// A fleet's operating result in one month on `W` paths ([`crate::FleetMonth`]; USD).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FleetMonthLanes<const W: usize> {
    /// Gross revenue.
    pub(crate) revenue: F<W>,
    /// Operating expenses.
    pub(crate) opex: F<W>,
    /// Settlements of the derivatives hedging the fleet.
    pub(crate) hedge: F<W>,
    /// Net operating income.
    pub(crate) noi: F<W>,
    /// Hardware value of the whole fleet.
    pub(crate) hardware_value: F<W>,
}

/// The state of a whole portfolio between months on `W` paths ([`crate::CashflowState`]).
#[derive(Debug, Clone)]
pub struct CashflowLanes<const W: usize> {
    /// Per deal.
    pub deals: Vec<DealLanes<W>>,
    /// Per fleet: fraction of the hardware not yet liquidated.
    pub(crate) collateral_left: Vec<F<W>>,
    /// Per pool.
    pub pools: Vec<WaterfallLanes<W>>,
    /// Per class: the price after the previous month, USD per GPU-hour.
    pub(crate) prev_price: Vec<F<W>>,
    /// Per derivative: Σ of its fixings so far, USD per GPU-hour.
    pub(crate) fixing_sum: Vec<F<W>>,
    /// One path's deal states, flows and losses, for the parts run lane by lane.
    scratch: (Vec<DealState<f64>>, Vec<DealFlows<f64>>, Vec<f64>),
}

/// Every flow of one month on `W` paths ([`crate::MonthOutput`]).
#[derive(Debug, Clone)]
pub struct OutputLanes<const W: usize> {
    /// Per fleet.
    pub fleets: Vec<FleetMonthLanes<W>>,
    /// Per deal.
    pub deals: Vec<FlowLanes<W>>,
    /// Per deal: the lanes on which the deal was idle before the month (its flows are
    /// [`FlowLanes::zero`] of the cash there, its loss 0, its state unchanged): what
    /// [`crate::MonthOutput::zero_flows`] says of one path.
    pub(crate) idle: Vec<M<W>>,
    /// Per deal: loss booked this month, USD.
    pub(crate) losses: Vec<F<W>>,
    /// Per pool: collections.
    pub(crate) pool_collections: Vec<CollectionLanes<W>>,
    /// Per pool: fees and events.
    pub pool_months: Vec<WaterfallMonthLanes<W>>,
    /// Per pool, per tranche.
    pub tranches: Vec<Vec<TrancheFlowLanes<W>>>,
    /// Per derivative: its settlement to the holder, USD.
    pub(crate) derivatives: Vec<F<W>>,
}

impl<const W: usize> FleetMonthLanes<W> {
    /// Lane `i` as the scalar [`FleetMonth`].
    #[inline(always)]
    pub fn lane(&self, i: usize) -> FleetMonth<f64> {
        FleetMonth {
            revenue: self.revenue.0[i],
            opex: self.opex.0[i],
            hedge: self.hedge.0[i],
            noi: self.noi.0[i],
            hardware_value: self.hardware_value.0[i],
        }
    }
}

impl<const W: usize> CashflowLanes<W> {
    /// Fleet `f`'s fraction of hardware not yet liquidated, on lane `i`.
    pub fn collateral_left(&self, f: usize, i: usize) -> f64 {
        self.collateral_left[f].0[i]
    }

    /// Derivative `x`'s sum of fixings so far on lane `i`, USD per GPU-hour.
    pub fn fixing_sum(&self, x: usize, i: usize) -> f64 {
        self.fixing_sum[x].0[i]
    }
}

impl<const W: usize> OutputLanes<W> {
    /// Whether deal `d` was idle before the month on lane `i`.
    #[inline(always)]
    pub fn idle(&self, d: usize, i: usize) -> bool {
        self.idle[d].lane(i)
    }

    /// Deal `d`'s loss booked this month on lane `i`, USD.
    #[inline(always)]
    pub fn loss(&self, d: usize, i: usize) -> f64 {
        self.losses[d].0[i]
    }

    /// Derivative `x`'s settlement on lane `i`, USD.
    #[inline(always)]
    pub fn derivative(&self, x: usize, i: usize) -> f64 {
        self.derivatives[x].0[i]
    }

    /// Pool `q`'s collections on lane `i`.
    pub fn pool_collections(&self, q: usize, i: usize) -> PoolCollections<f64> {
        let c = &self.pool_collections[q];
        PoolCollections {
            interest_proceeds: c.interest_proceeds.0[i],
            principal_proceeds: c.principal_proceeds.0[i],
            performing_balance: c.performing_balance.0[i],
            base_rate: c.base_rate,
        }
    }
}

/// Lane `i` of a per-lane quantity read from each path's market.
#[inline(always)]
fn gather<const W: usize>(m: &[MarketMonth<'_>; W], f: impl Fn(&MarketMonth<'_>) -> f64) -> F<W> {
    F(std::array::from_fn(|i| f(&m[i])))
}

impl CashflowPlan<f64> {
    /// The state at close on `W` paths.
    pub fn initial_lanes<const W: usize>(&self) -> CashflowLanes<W> {
        let s = self.initial_state();
        let nd = self.deals.len();
        CashflowLanes {
            deals: s
                .deals
                .iter()
                .map(|d| DealLanes::from_states(&[*d; W]))
                .collect(),
            collateral_left: vec![F::splat(1.0); self.fleets.len()],
            pools: self
                .pools
                .iter()
                .map(|q| WaterfallLanes::new(&q.waterfall))
                .collect(),
            prev_price: self.price0.iter().map(|&p| F::splat(p)).collect(),
            fixing_sum: vec![F::ZERO; self.derivatives.len()],
            scratch: (s.deals, vec![DealFlows::zero(0.0); nd], vec![0.0; nd]),
        }
    }

    /// Resets `s` to the state at close without reallocating.
    pub fn reset_lanes<const W: usize>(&self, s: &mut CashflowLanes<W>) {
        let r1 = self.base_rates.first().copied().unwrap_or(0.0);
        for (st, d) in s.deals.iter_mut().zip(&self.deals) {
            *st = DealLanes::at_close(d, r1);
        }
        s.collateral_left.fill(F::splat(1.0));
        for (st, q) in s.pools.iter_mut().zip(&self.pools) {
            st.reset(&q.waterfall);
        }
        for (p, &p0) in s.prev_price.iter_mut().zip(&self.price0) {
            *p = F::splat(p0);
        }
        s.fixing_sum.fill(F::ZERO);
    }

    /// An output buffer of the right shape for `W` paths.
    pub fn new_output_lanes<const W: usize>(&self) -> OutputLanes<W> {
        let zf = FleetMonthLanes {
            revenue: F::ZERO,
            opex: F::ZERO,
            hedge: F::ZERO,
            noi: F::ZERO,
            hardware_value: F::ZERO,
        };
        let nd = self.deals.len();
        OutputLanes {
            fleets: vec![zf; self.fleets.len()],
            deals: vec![FlowLanes::zero(F::ZERO); nd],
            idle: vec![M::splat(false); nd],
            losses: vec![F::ZERO; nd],
            pool_collections: Vec::with_capacity(self.pools.len()),
            pool_months: Vec::with_capacity(self.pools.len()),
            tranches: self
                .pools
                .iter()
                .map(|q| vec![TrancheFlowLanes::ZERO; q.waterfall.len()])
                .collect(),
            derivatives: vec![F::ZERO; self.derivatives.len()],
        }
    }

    /// Performing balance of a pool's deals on each lane ([`CashflowPlan::performing_balance`]).
    #[inline(always)]
    fn performing_balance_lanes<const W: usize>(&self, pool: usize, s: &CashflowLanes<W>) -> F<W> {
        let mut b = F::ZERO;
        for &d in &self.pools[pool].deals {
            let st = &s.deals[d];
            b = st.done.select(b, b + st.balance);
        }
        b
    }

    /// [`CashflowPlan::step`] on `W` paths: month `k` with path i's market `m[i]`, updating
    /// `s` and writing `out`; each lane's values are path i's scalar ones bit for bit.
    ///
    /// # Safety
    /// The CPU runs lane code of width `W` ([`super::supported`]`(W)`); callers compile their
    /// loop for those extensions (`#[target_feature]`) so that this inlines into vector code.
    #[inline(always)]
    pub unsafe fn step_lanes<const W: usize>(
        &self,
        k: u32,
        m: &[MarketMonth<'_>; W],
        s: &mut CashflowLanes<W>,
        out: &mut OutputLanes<W>,
    ) {
        let t = f64::from(k) / 12.0;
        let base_rate = self.base_rates[(k as usize)
            .saturating_sub(1)
            .min(self.base_rates.len() - 1)];
        out.pool_collections.clear();
        out.pool_months.clear();
        for q in 0..self.pools.len() {
            out.pool_collections.push(CollectionLanes {
                interest_proceeds: F::ZERO,
                principal_proceeds: F::ZERO,
                performing_balance: self.performing_balance_lanes(q, s),
                base_rate,
            });
        }
        out.losses.fill(F::ZERO);
        self.settle_index_derivatives(k, m, s, out);

        let nd = self.deals.len();
        let nf = self.fleets.len();
        let (states, flows_out) = (&mut s.deals[..nd], &mut out.deals[..nd]);
        let (idle, losses) = (&mut out.idle[..nd], &mut out.losses[..nd]);
        for fi in 0..nf {
            let f = &self.fleets[fi];
            let u = gather(m, |m| f64::from_f64(m.utilization[fi]));
            let price_ratio = gather(m, |m| m.price_over_trend[f.class]);
            let price = gather(m, |m| f64::from_f64(m.price[f.class]));
            let phi = if k <= f.contract_end_month {
                f.contracted_share
            } else {
                0.0
            };
            let spot = 1.0 - phi;
            let revenue = (F::splat(f.gpu_hours)
                * (F::splat(phi * f.contract_rate) + F::splat(spot) * u * price))
                .cents();
            let opex = (F::splat(f.gpu_hours)
                * (F::splat(f.opex_fixed)
                    + F::splat(f.opex_variable) * (F::splat(spot) * u + phi)))
                .cents();
            for &i in &self.fleet_revenue_floors[fi] {
                let d = &self.derivatives[i];
                out.derivatives[i] = F(std::array::from_fn(|l| {
                    d.settlement(k, 0.0, 0.0, revenue.0[l])
                }));
            }
            let mut hedge = F::ZERO;
            let noi = if self.fleet_hedges[fi].is_empty() {
                revenue - opex
            } else {
                for &i in &self.fleet_hedges[fi] {
                    hedge += out.derivatives[i];
                }
                revenue - opex + hedge
            };
            // Per lane: purchase price × straight-line value (the same on every lane) ×
            // the lane's price over trend, as `hardware_value_per_gpu` computes it.
            let straight = 1.0 - (f.age0_years + t) / f.useful_life_years;
            let per_gpu = F::splat(f.purchase_price * straight.max(f.residual_floor)) * price_ratio;
            let per_gpu = F(std::array::from_fn(|l| f64::from_f64(per_gpu.0[l])));
            let hw = F::splat(f.gpus) * per_gpu;
            out.fleets[fi] = FleetMonthLanes {
                revenue,
                opex,
                hedge,
                noi,
                hardware_value: hw,
            };
            let after_haircut = hw * (1.0 - f.liquidation_haircut);
            let mut inputs = InputLanes {
                revenue,
                cash_available: noi,
                base_rate,
                refinance_collateral: after_haircut,
                credit_default: M(std::array::from_fn(|l| {
                    0u64.wrapping_sub(u64::from(m[l].credit_default[f.operator]))
                })),
            };
            let mut any_default = M::splat(false);
            for &d in &self.fleet_deals[fi] {
                let (st, flows) = (&mut states[d], &mut flows_out[d]);
                idle[d] = st.done & !st.pending;
                if idle[d].all() {
                    *flows = FlowLanes::zero(inputs.cash_available);
                    continue;
                }
                st.step_into(&self.deals[d], &self.annuity_powers[d], k, &inputs, flows);
                inputs.cash_available = flows.cash_left;
                any_default = any_default | flows.defaulted();
                let short = !flows.shortfall.is_settled();
                losses[d] = short.select(losses[d] + flows.shortfall, losses[d]);
            }
            if any_default.any() {
                let nlv = after_haircut - f.liquidation_cost;
                for l in (0..W).filter(|&l| any_default.lane(l)) {
                    self.recoveries_on_lane(
                        fi,
                        k,
                        l,
                        nlv.0[l],
                        s_split(
                            states,
                            flows_out,
                            losses,
                            &mut s.collateral_left[fi],
                            &mut s.scratch,
                        ),
                    );
                }
            }
        }

        if !self.derivatives.is_empty() {
            for (c, p) in s.prev_price.iter_mut().enumerate() {
                *p = gather(m, |m| m.price[c]);
            }
        }

        for (q, plan) in self.pools.iter().enumerate() {
            let mut c = out.pool_collections[q];
            for &d in &plan.deals {
                c.interest_proceeds += out.deals[d].interest_proceeds();
                c.principal_proceeds += out.deals[d].principal_proceeds();
            }
            out.pool_collections[q] = c;
            let month = s.pools[q].step(
                &plan.waterfall,
                &c,
                k >= self.horizon_months,
                &mut out.tranches[q],
            );
            out.pool_months.push(month);
        }
    }

    /// The derivatives on a class index, lane by lane through the scalar fixing and
    /// settlement (MODEL.md §10), before any fleet pays its deals.
    fn settle_index_derivatives<const W: usize>(
        &self,
        k: u32,
        m: &[MarketMonth<'_>; W],
        s: &mut CashflowLanes<W>,
        out: &mut OutputLanes<W>,
    ) {
        for &i in &self.index_derivatives {
            let d = &self.derivatives[i];
            if let Underlying::Index { class, fixing } = d.underlying {
                for l in 0..W {
                    let fix = f64::from_f64(d.fixing(
                        fixing,
                        s.prev_price[class].0[l],
                        m[l].price[class],
                    ));
                    if d.active(k) {
                        s.fixing_sum[i].0[l] += fix;
                    }
                    out.derivatives[i].0[l] = d.settlement(k, fix, s.fixing_sum[i].0[l], 0.0);
                }
            }
        }
    }

    /// Fleet `fleet`'s recoveries on lane `l` in a month with a default there: the scalar
    /// `assign_recoveries` on that path's deal states, flows and losses, written back.
    fn recoveries_on_lane<const W: usize>(
        &self,
        fleet: usize,
        k: u32,
        l: usize,
        net_liquidation_value: f64,
        (states, flows, losses, collateral_left, scratch): LaneParts<'_, W>,
    ) {
        let (ss, sf, sl) = scratch;
        let order = &self.fleet_deals[fleet];
        for &d in order {
            ss[d] = states[d].lane(l);
            sf[d] = flows[d].lane(l);
            sl[d] = losses[d].0[l];
        }
        let mut left = collateral_left.0[l];
        self.assign_recoveries(fleet, k, net_liquidation_value, ss, &mut left, sf, sl);
        collateral_left.0[l] = left;
        for &d in order {
            states[d].set_lane(l, &ss[d]);
            flows[d].set_lane(l, &sf[d]);
            losses[d].0[l] = sl[d];
        }
    }
}

/// The deal arrays and one fleet's collateral that [`CashflowPlan::recoveries_on_lane`]
/// reads and writes, with the scratch arrays of one path.
type LaneParts<'a, const W: usize> = (
    &'a mut [DealLanes<W>],
    &'a mut [FlowLanes<W>],
    &'a mut [F<W>],
    &'a mut F<W>,
    &'a mut (Vec<DealState<f64>>, Vec<DealFlows<f64>>, Vec<f64>),
);

#[inline(always)]
fn s_split<'a, const W: usize>(
    states: &'a mut [DealLanes<W>],
    flows: &'a mut [FlowLanes<W>],
    losses: &'a mut [F<W>],
    collateral_left: &'a mut F<W>,
    scratch: &'a mut (Vec<DealState<f64>>, Vec<DealFlows<f64>>, Vec<f64>),
) -> LaneParts<'a, W> {
    (states, flows, losses, collateral_left, scratch)
}
