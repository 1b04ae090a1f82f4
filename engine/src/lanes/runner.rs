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
use crate::derivative::{DerivativeKind, DerivativeParams, Underlying};
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

    /// Hardware value of the whole fleet per lane, USD.
    #[inline(always)]
    pub fn hardware_values(&self) -> &[f64; W] {
        &self.hardware_value.0
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

    /// Whether deal `d` was idle before the month, per lane (plain scalar code).
    #[inline(always)]
    pub fn idle_lanes(&self, d: usize) -> [bool; W] {
        std::array::from_fn(|i| self.idle[d].lane(i))
    }

    /// Whether deal `d` is idle this month, per lane as a mask: all bits set for yes, none
    /// for no (plain data, for branch-free selects in any code).
    #[inline(always)]
    pub fn idle_mask(&self, d: usize) -> &[u64; W] {
        &self.idle[d].0
    }

    /// Deal `d`'s loss booked this month per lane, USD.
    #[inline(always)]
    pub fn losses_of(&self, d: usize) -> &[f64; W] {
        &self.losses[d].0
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

    /// Derivative `x`'s settlement per lane, USD.
    #[inline(always)]
    pub fn derivatives_of(&self, x: usize) -> &[f64; W] {
        &self.derivatives[x].0
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

/// [`DerivativeParams::settlement`] on every lane: the same operations on each lane's
/// `fix`, `fix_sum` and `revenue` (the kind and the month, the same for all lanes, chosen
/// once), so each lane's settlement bit for bit, USD.
#[inline(always)]
fn settlement_lanes<const W: usize>(
    d: &DerivativeParams<f64>,
    k: u32,
    fix: F<W>,
    fix_sum: F<W>,
    revenue: F<W>,
) -> F<W> {
    if !d.active(k) {
        return F::ZERO;
    }
    let payoff = match d.kind {
        DerivativeKind::Swap => (F::splat(d.notional) * (fix - F::splat(d.strike))).cents(),
        DerivativeKind::Cap => (F::splat(d.notional) * (fix - F::splat(d.strike)).pos()).cents(),
        DerivativeKind::Floor => (F::splat(d.notional) * (F::splat(d.strike) - fix).pos()).cents(),
        DerivativeKind::RevenueFloor => (F::splat(d.floor) - revenue).pos().cents(),
        DerivativeKind::Forward | DerivativeKind::Future => {
            if k == d.end_month {
                (F::splat(d.notional) * (fix_sum - F::splat(d.strike_times_months))).cents()
            } else {
                return F::ZERO;
            }
        }
    };
    F::splat(d.sign) * payoff
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

    /// Whether fleet `fi`'s month is dead in every lane of `states` (before the month): every
    /// deal on the fleet is idle (done, no recovery pending) and no derivative settles on the
    /// fleet (no revenue floor, no hedge). [`CashflowPlan::step_lanes`] then skips the fleet's
    /// month: its revenue, opex, NOI and hardware value only reach its deals (idle: zero flows
    /// whatever the cash) and the simulator's recording of deals that are not idle, so no
    /// statistic, vault mark or row reads them, nor an idle deal's pass-through cash.
    /// `OutputLanes::fleets` of a dead fleet keeps its last computed month, and its deals'
    /// `cash_left` is not computed (the scalar step, which traces use, computes both).
    #[inline(always)]
    fn fleet_is_dead<const W: usize>(&self, fi: usize, states: &[DealLanes<W>]) -> bool {
        self.fleet_revenue_floors[fi].is_empty()
            && self.fleet_hedges[fi].is_empty()
            && self.fleet_deals[fi]
                .iter()
                .all(|&d| (states[d].done & !states[d].pending).all())
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
            if self.fleet_is_dead(fi, states) {
                // Nothing reads this fleet's month or its deals' pass-through cash (see
                // `fleet_is_dead`): the deals' flows are zero, as the recording and the pools
                // need (written once: a deal idle in every lane last month has zero flows
                // already), and the fleet's outputs keep their last computed values.
                for &d in &self.fleet_deals[fi] {
                    if !idle[d].all() {
                        idle[d] = M::splat(true);
                        flows_out[d] = FlowLanes::zero(F::ZERO);
                    }
                }
                continue;
            }
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
                out.derivatives[i] =
                    settlement_lanes(&self.derivatives[i], k, F::ZERO, F::ZERO, revenue);
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
                // Outside the strip the fixing is neither summed nor settled (`settlement`
                // gives +0): nothing to compute.
                if !d.active(k) {
                    out.derivatives[i] = F::ZERO;
                    continue;
                }
                let fix = F(std::array::from_fn(|l| {
                    f64::from_f64(d.fixing(fixing, s.prev_price[class].0[l], m[l].price[class]))
                }));
                s.fixing_sum[i] += fix;
                out.derivatives[i] = settlement_lanes(d, k, fix, s.fixing_sum[i], F::ZERO);
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

#[cfg(test)]
mod tests {
    //! `step_lanes` against `step`, path by path and bit for bit, on the bundled portfolios and
    //! the test fixtures with random markets (prices, utilizations, operator defaults).
    use super::{CashflowLanes, OutputLanes};
    use crate::lanes::{supported, Gen};
    use crate::{load_portfolio, CashflowPlan, Loaded, MarketMonth, Validated};
    use std::path::Path;

    fn load(path: &str) -> Loaded {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let file = root.join(path);
        let text = std::fs::read_to_string(&file).unwrap();
        let dir = file.parent().unwrap().to_path_buf();
        load_portfolio(&text, path, |rel| {
            std::fs::read_to_string(dir.join(rel)).map_err(|e| e.to_string())
        })
        .unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    /// One path's market for every month: prices, prices over trend, utilizations, defaults.
    struct PathMarket {
        price: Vec<Vec<f64>>,
        over_trend: Vec<Vec<f64>>,
        utilization: Vec<Vec<f64>>,
        default: Vec<Vec<bool>>,
    }

    fn market(g: &mut Gen, plan: &CashflowPlan<f64>, operators: usize, stress: f64) -> PathMarket {
        let months = plan.horizon_months as usize;
        let classes = plan.price0.len();
        let mut level: Vec<f64> = vec![1.0; classes];
        let default_month: Vec<usize> = (0..operators)
            .map(|_| {
                if g.u() < stress {
                    1 + (g.u() * months as f64) as usize
                } else {
                    0
                }
            })
            .collect();
        let mut m = PathMarket {
            price: vec![],
            over_trend: vec![],
            utilization: vec![],
            default: vec![],
        };
        for k in 1..=months {
            for l in &mut level {
                *l *= 0.85 + 0.3 * g.u() - 0.02 * stress;
                *l = l.max(0.05);
            }
            m.price
                .push((0..classes).map(|c| plan.price0[c] * level[c]).collect());
            m.over_trend.push(level.clone());
            m.utilization.push(
                (0..plan.fleets.len())
                    .map(|_| (0.2 + 0.8 * g.u() - 0.3 * stress).clamp(0.01, 0.99))
                    .collect(),
            );
            m.default
                .push(default_month.iter().map(|&d| d == k).collect());
        }
        m
    }

    fn month(m: &PathMarket, k: usize) -> MarketMonth<'_> {
        MarketMonth {
            price: &m.price[k - 1],
            price_over_trend: &m.over_trend[k - 1],
            utilization: &m.utilization[k - 1],
            credit_default: &m.default[k - 1],
        }
    }

    fn check<const W: usize>(path: &str, groups: usize) {
        let l = load(path);
        let plan = CashflowPlan::<f64>::new(Validated::new(&l.portfolio, &l.deal_sources).unwrap());
        let operators = l.portfolio.operators.len();
        let mut g = Gen(0x5EED_0000_0000_0001 ^ path.len() as u64);
        let mut lanes: CashflowLanes<W> = plan.initial_lanes();
        let mut out: OutputLanes<W> = plan.new_output_lanes();
        let (mut events, mut dead_months) = (0, 0);
        for group in 0..groups {
            let stress = (group % 4) as f64 / 3.0;
            let markets: [PathMarket; W] =
                std::array::from_fn(|_| market(&mut g, &plan, operators, stress));
            let mut scalar: [_; W] = std::array::from_fn(|_| plan.initial_state());
            let mut souts: [_; W] = std::array::from_fn(|_| plan.new_output());
            plan.reset_lanes(&mut lanes);
            for k in 1..=plan.horizon_months {
                let mm: [MarketMonth<'_>; W] =
                    std::array::from_fn(|i| month(&markets[i], k as usize));
                // Fleets whose month the lanes skip: their outputs and their deals'
                // pass-through cash are not computed there (`fleet_is_dead`).
                let dead: Vec<bool> = (0..plan.fleets.len())
                    .map(|f| plan.fleet_is_dead(f, &lanes.deals))
                    .collect();
                dead_months += dead.iter().filter(|&&d| d).count();
                // SAFETY: `check` runs only for widths this CPU supports (see the tests below).
                unsafe { plan.step_lanes(k, &mm, &mut lanes, &mut out) };
                for i in 0..W {
                    plan.step(k, &mm[i], &mut scalar[i], &mut souts[i]);
                    let (s, o) = (&scalar[i], &souts[i]);
                    let at = format!("{path}, group {group}, lane {i}, month {k}");
                    for d in 0..plan.deals.len() {
                        let (mut got, mut want) = (out.deals[d].lane(i), o.deals[d]);
                        if dead[plan.deal_fleet[d]] {
                            // Pass-through cash of a dead fleet's idle deal: not computed.
                            (got.cash_left, want.cash_left) = (0.0, 0.0);
                        }
                        assert_eq!(
                            format!("{got:?}"),
                            format!("{want:?}"),
                            "deal {d} flows, {at}"
                        );
                        assert_eq!(
                            format!("{:?}", lanes.deals[d].lane(i)),
                            format!("{:?}", s.deals[d]),
                            "deal {d} state, {at}"
                        );
                        assert_eq!(
                            out.loss(d, i).to_bits(),
                            o.losses[d].to_bits(),
                            "loss {d}, {at}"
                        );
                        assert_eq!(out.idle(d, i), o.zero_flows()[d], "idle {d}, {at}");
                        events += u32::from(o.deals[d].default_kind.is_some());
                    }
                    for (f, fm) in o.fleets.iter().enumerate() {
                        if dead[f] {
                            continue;
                        }
                        let fl = out.fleets[f].lane(i);
                        let got = [fl.revenue, fl.opex, fl.hedge, fl.noi, fl.hardware_value]
                            .map(f64::to_bits);
                        let want = [fm.revenue, fm.opex, fm.hedge, fm.noi, fm.hardware_value]
                            .map(f64::to_bits);
                        assert_eq!(got, want, "fleet {f}, {at}");
                        assert_eq!(
                            lanes.collateral_left(f, i).to_bits(),
                            s.collateral_left[f].to_bits(),
                            "collateral {f}, {at}"
                        );
                    }
                    for q in 0..plan.pools.len() {
                        let c = out.pool_collections(q, i);
                        let oc = &o.pool_collections[q];
                        assert_eq!(
                            [
                                c.interest_proceeds,
                                c.principal_proceeds,
                                c.performing_balance
                            ]
                            .map(f64::to_bits),
                            [
                                oc.interest_proceeds,
                                oc.principal_proceeds,
                                oc.performing_balance
                            ]
                            .map(f64::to_bits),
                            "pool {q} collections, {at}"
                        );
                        assert_eq!(
                            format!("{:?}", out.pool_months[q].lane(i)),
                            format!("{:?}", o.pool_months[q]),
                            "pool {q} month, {at}"
                        );
                        for (t, tf) in o.tranches[q].iter().enumerate() {
                            assert_eq!(
                                format!("{:?}", out.tranches[q][t].lane(i)),
                                format!("{tf:?}"),
                                "tranche {q}/{t}, {at}"
                            );
                        }
                        assert_eq!(
                            format!("{:?}", lanes.pools[q].lane(i)),
                            format!("{:?}", s.pools[q]),
                            "pool {q} state, {at}"
                        );
                    }
                    for (x, &v) in o.derivatives.iter().enumerate() {
                        assert_eq!(
                            out.derivative(x, i).to_bits(),
                            v.to_bits(),
                            "derivative {x}, {at}"
                        );
                        assert_eq!(
                            lanes.fixing_sum(x, i).to_bits(),
                            s.fixing_sum[x].to_bits(),
                            "fixing sum {x}, {at}"
                        );
                    }
                }
            }
        }
        assert!(events > 0, "{path}: no default in {groups} groups");
        // The skip of dead fleets is exercised wherever a fleet can die.
        let can_die = (0..plan.fleets.len())
            .any(|f| plan.fleet_revenue_floors[f].is_empty() && plan.fleet_hedges[f].is_empty());
        assert!(dead_months > 0 || !can_die, "{path}: no dead fleet-month");
    }

    /// Path `markets` with each fleet's utilization NaN after its
    /// [`CashflowPlan::utilization_last_month`].
    fn undrawn_after_last_use(plan: &CashflowPlan<f64>, m: &PathMarket) -> PathMarket {
        let mut utilization = m.utilization.clone();
        for (k, row) in (1..).zip(&mut utilization) {
            for (f, u) in row.iter_mut().enumerate() {
                if k > plan.utilization_last_month(f) {
                    *u = f64::NAN;
                }
            }
        }
        PathMarket {
            price: m.price.clone(),
            over_trend: m.over_trend.clone(),
            utilization,
            default: m.default.clone(),
        }
    }

    /// Everything month `k` wrote on one path, as text, but what
    /// [`CashflowPlan::utilization_last_month`] excludes after a fleet's last month (its
    /// revenue, opex, hedge and NOI; its deals' `cash_left`): the deals' flows, states and
    /// losses, the fleets' hardware value and collateral, the pools' collections, months,
    /// tranches and states, the derivatives' settlements and fixing sums.
    fn outputs(plan: &CashflowPlan<f64>, k: u32, o: &Outputs) -> Vec<String> {
        let used = |f: usize| k <= plan.utilization_last_month(f);
        let mut v = Vec::new();
        for (d, mut flows) in o.deals.iter().copied().enumerate() {
            if !used(plan.deal_fleet[d]) {
                flows.cash_left = 0.0;
            }
            v.push(format!(
                "deal {d}: {flows:?} {:?} {:?}",
                o.states[d],
                o.losses[d].to_bits()
            ));
        }
        for (f, fm) in o.fleets.iter().enumerate() {
            let hw = fm.hardware_value.to_bits();
            let collateral = o.collateral[f].to_bits();
            v.push(match used(f) {
                true => format!("fleet {f}: {fm:?} {collateral}"),
                false => format!("fleet {f}: {hw} {collateral}"),
            });
        }
        v.extend(o.pools.iter().cloned());
        v.push(format!(
            "{:?}",
            o.derivatives
                .iter()
                .map(|x| x.to_bits())
                .collect::<Vec<_>>()
        ));
        v
    }

    /// One path's month as [`outputs`] reads it, from the scalar step or one lane of the
    /// lanes step.
    struct Outputs {
        deals: Vec<crate::DealFlows<f64>>,
        states: Vec<crate::DealState<f64>>,
        losses: Vec<f64>,
        fleets: Vec<crate::FleetMonth<f64>>,
        collateral: Vec<f64>,
        pools: Vec<String>,
        derivatives: Vec<f64>,
    }

    fn scalar_outputs(s: &crate::CashflowState<f64>, o: &crate::MonthOutput<f64>) -> Outputs {
        let pools = (0..o.pool_collections.len()).map(|q| {
            let c = &o.pool_collections[q];
            let sums = [
                c.interest_proceeds,
                c.principal_proceeds,
                c.performing_balance,
            ];
            format!(
                "pool {q}: {:?} {:?} {:?} {:?}",
                sums.map(f64::to_bits),
                o.pool_months[q],
                o.tranches[q],
                s.pools[q]
            )
        });
        Outputs {
            deals: o.deals.clone(),
            states: s.deals.clone(),
            losses: o.losses.clone(),
            fleets: o.fleets.clone(),
            collateral: s.collateral_left.clone(),
            pools: pools.collect(),
            derivatives: s.fixing_sum.iter().chain(&o.derivatives).copied().collect(),
        }
    }

    fn lane_outputs<const W: usize>(
        plan: &CashflowPlan<f64>,
        s: &CashflowLanes<W>,
        o: &OutputLanes<W>,
        i: usize,
    ) -> Outputs {
        let (nd, nf, nx) = (plan.deals.len(), plan.fleets.len(), plan.derivatives.len());
        let pools = (0..plan.pools.len()).map(|q| {
            let c = o.pool_collections(q, i);
            let sums = [
                c.interest_proceeds,
                c.principal_proceeds,
                c.performing_balance,
            ];
            let tranches: Vec<_> = o.tranches[q].iter().map(|t| t.lane(i)).collect();
            format!(
                "pool {q}: {:?} {:?} {:?} {:?}",
                sums.map(f64::to_bits),
                o.pool_months[q].lane(i),
                tranches,
                s.pools[q].lane(i)
            )
        });
        let fixing = (0..nx).map(|x| s.fixing_sum(x, i));
        Outputs {
            deals: (0..nd).map(|d| o.deals[d].lane(i)).collect(),
            states: (0..nd).map(|d| s.deals[d].lane(i)).collect(),
            losses: (0..nd).map(|d| o.loss(d, i)).collect(),
            fleets: (0..nf).map(|f| o.fleets[f].lane(i)).collect(),
            collateral: (0..nf).map(|f| s.collateral_left(f, i)).collect(),
            pools: pools.collect(),
            derivatives: fixing.chain((0..nx).map(|x| o.derivative(x, i))).collect(),
        }
    }

    /// Steps `groups` groups of `W` random paths of `path` twice, with each market as drawn
    /// and with its utilizations NaN after each fleet's last used month, by the scalar step
    /// and the lanes step; every month's [`outputs`] must agree bit for bit.
    fn check_undrawn<const W: usize>(path: &str, groups: usize) {
        let l = load(path);
        let plan = CashflowPlan::<f64>::new(Validated::new(&l.portfolio, &l.deal_sources).unwrap());
        let operators = l.portfolio.operators.len();
        let mut g = Gen(0x5EED_0000_0000_0002 ^ path.len() as u64);
        let mut lanes: [CashflowLanes<W>; 2] = std::array::from_fn(|_| plan.initial_lanes());
        let mut louts: [OutputLanes<W>; 2] = std::array::from_fn(|_| plan.new_output_lanes());
        for group in 0..groups {
            let stress = (group % 4) as f64 / 3.0;
            let drawn: [PathMarket; W] =
                std::array::from_fn(|_| market(&mut g, &plan, operators, stress));
            let undrawn: [PathMarket; W] =
                std::array::from_fn(|i| undrawn_after_last_use(&plan, &drawn[i]));
            let markets = [&drawn, &undrawn];
            let mut scalar: [[_; W]; 2] =
                std::array::from_fn(|_| std::array::from_fn(|_| plan.initial_state()));
            let mut souts: [[_; W]; 2] =
                std::array::from_fn(|_| std::array::from_fn(|_| plan.new_output()));
            lanes.iter_mut().for_each(|s| plan.reset_lanes(s));
            for k in 1..=plan.horizon_months {
                let mut got: [Vec<Vec<String>>; 2] = Default::default();
                for v in 0..2 {
                    let mm: [MarketMonth<'_>; W] =
                        std::array::from_fn(|i| month(&markets[v][i], k as usize));
                    // SAFETY: runs only for widths this CPU supports (see the test below).
                    unsafe { plan.step_lanes(k, &mm, &mut lanes[v], &mut louts[v]) };
                    for i in 0..W {
                        plan.step(k, &mm[i], &mut scalar[v][i], &mut souts[v][i]);
                        let s = scalar_outputs(&scalar[v][i], &souts[v][i]);
                        got[v].push(outputs(&plan, k, &s));
                        let s = lane_outputs(&plan, &lanes[v], &louts[v], i);
                        got[v].push(outputs(&plan, k, &s));
                    }
                }
                assert_eq!(got[0], got[1], "{path}, group {group}, month {k}");
            }
        }
    }

    /// A fleet's utilization after its [`CashflowPlan::utilization_last_month`] (NaN here)
    /// changes nothing but that fleet's own revenue, opex, hedge and NOI and the cash its
    /// finished deals pass through, in the scalar step and in lanes of three and four.
    #[test]
    fn utilization_after_its_last_used_month_changes_nothing() {
        let mut pruned = 0;
        for p in PORTFOLIOS {
            let l = load(p);
            let v = Validated::new(&l.portfolio, &l.deal_sources).unwrap();
            let plan = CashflowPlan::<f64>::new(v);
            let last: Vec<u32> = (0..plan.fleets.len())
                .map(|f| plan.utilization_last_month(f))
                .collect();
            pruned += last.iter().filter(|&&m| m < plan.horizon_months).count();
            check_undrawn::<3>(p, 24);
            if supported(4) {
                check_undrawn::<4>(p, 24);
            }
        }
        assert!(pruned > 0, "no fleet's utilization ends before the horizon");
    }

    /// `settlement_lanes` against the scalar `DerivativeParams::settlement`, lane by lane and
    /// bit for bit: every kind (the future too, which no bundled portfolio holds), both signs,
    /// months before, inside and after the strip, fixings in and out of the money and exactly
    /// at the strike (a ±0 settlement).
    fn settlement_lanes_are_the_scalar_settlement<const W: usize>() {
        use crate::derivative::{DerivativeKind, DerivativeParams, Fixing, Underlying};
        use crate::lanes::F;
        let kinds = [
            DerivativeKind::Forward,
            DerivativeKind::Future,
            DerivativeKind::Swap,
            DerivativeKind::Cap,
            DerivativeKind::Floor,
            DerivativeKind::RevenueFloor,
        ];
        let mut g = Gen(0x5EED_0000_0000_0003);
        for kind in kinds {
            for sign in [1.0, -1.0] {
                let d = DerivativeParams::<f64> {
                    kind,
                    underlying: Underlying::Index {
                        class: 0,
                        fixing: Fixing::Average,
                    },
                    sign,
                    notional: 12_345.0,
                    strike: 1.87,
                    strike_times_months: 5.61,
                    floor: 250_000.0,
                    basis: 1.0,
                    start_month: 2,
                    end_month: 4,
                    hedges: None,
                };
                for k in 1..=5 {
                    for _ in 0..50 {
                        // A quarter of the lanes exactly at the strike, the floor or the
                        // strip's strike sum.
                        let at = |g: &mut Gen, v: f64, spread: f64| {
                            if g.below(4) == 0 {
                                v
                            } else {
                                v + spread * (2.0 * g.u() - 1.0)
                            }
                        };
                        let fix: [f64; W] = std::array::from_fn(|_| at(&mut g, 1.87, 1.0));
                        let sum: [f64; W] = std::array::from_fn(|_| at(&mut g, 5.61, 3.0));
                        let rev: [f64; W] = std::array::from_fn(|_| at(&mut g, 250_000.0, 9e4));
                        let got = super::settlement_lanes(&d, k, F(fix), F(sum), F(rev));
                        for l in 0..W {
                            let want = d.settlement(k, fix[l], sum[l], rev[l]);
                            assert_eq!(
                                got.0[l].to_bits(),
                                want.to_bits(),
                                "{kind:?} sign {sign} month {k} lane {l}: {} vs {want}",
                                got.0[l]
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn settlement_lanes_are_the_scalar_settlement_at_every_width() {
        crate::lanes::at_every_width!(settlement_lanes_are_the_scalar_settlement);
    }

    const PORTFOLIOS: [&str; 5] = [
        "data/portfolios/sample.toml",
        "data/portfolios/sample_hedged.toml",
        "data/portfolios/bench12.toml",
        "tests/fixtures/valid/small.toml",
        "tests/fixtures/derivatives/small_hedged.toml",
    ];

    /// Portable lane code (a width with no vector form), on every CPU.
    #[test]
    fn lanes_of_three_step_as_the_scalar_month() {
        for p in PORTFOLIOS {
            check::<3>(p, 24);
        }
    }

    /// AVX lane code, where the CPU has it.
    #[test]
    fn lanes_of_four_step_as_the_scalar_month() {
        if !supported(4) {
            eprintln!("skipped: no AVX on this CPU (the portable width is tested above)");
            return;
        }
        for p in PORTFOLIOS {
            check::<4>(p, 40);
        }
    }

    /// AVX-512 lane code, where the CPU has it.
    #[test]
    fn lanes_of_eight_step_as_the_scalar_month() {
        if !supported(8) {
            eprintln!("skipped: no AVX-512 on this CPU (the portable width is tested above)");
            return;
        }
        for p in PORTFOLIOS {
            check::<8>(p, 12);
        }
    }
}
