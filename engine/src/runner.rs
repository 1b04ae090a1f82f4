//! The portfolio's monthly cash-flow machine (MODEL.md §3, §4, §6), generic over [`Amount`].
//!
//! [`CashflowPlan`] holds a validated portfolio's terms in the numeric type `A`. Each month the
//! caller supplies the market ([`MarketMonth`]: GPU prices, utilization, operator defaults);
//! [`CashflowPlan::step`] runs fleets → deals (in lien order per fleet) → recoveries → pool
//! waterfalls. The engine's deterministic base case drives it with `Decimal` and the mean
//! market path; the simulator drives it with `f64` and random paths. It draws no random number.

use crate::amount::Amount;
use crate::curve::DiscountCurve;
use crate::deal::{AnnuityPowers, DealFlows, DealParams, DealState, MonthInputs};
use crate::derivative::{DerivativeParams, Underlying};
use crate::portfolio::{Lien, HOURS_PER_MONTH};
use crate::validate::Validated;
use crate::waterfall::{
    PoolCollections, TrancheFlow, WaterfallMonth, WaterfallParams, WaterfallState,
};
use std::collections::HashMap;

/// One fleet's terms in `A`.
#[derive(Debug, Clone)]
pub struct FleetParams<A> {
    /// Index of the GPU class in `Portfolio::gpu_classes`.
    pub class: usize,
    /// Index of the operator in `Portfolio::operators`.
    pub operator: usize,
    /// G·H: GPU-hours in a month.
    pub gpu_hours: A,
    /// Number of GPUs.
    pub gpus: A,
    /// Contracted share phi while the contract runs.
    pub contracted_share: A,
    /// Contract rate, USD per GPU-hour.
    pub contract_rate: A,
    /// Last contracted month.
    pub contract_end_month: u32,
    /// Fixed opex, USD per GPU-hour.
    pub opex_fixed: A,
    /// Variable opex, USD per utilized GPU-hour.
    pub opex_variable: A,
    /// Purchase price per GPU, USD.
    pub purchase_price: f64,
    /// Hardware age at t = 0, years.
    pub age0_years: f64,
    /// Useful life, years.
    pub useful_life_years: f64,
    /// Floor of straight-line value, fraction.
    pub residual_floor: f64,
    /// Liquidation haircut, fraction.
    pub liquidation_haircut: A,
    /// Liquidation cost, USD.
    pub liquidation_cost: A,
}

impl<A: Amount> FleetParams<A> {
    /// Hardware value per GPU V_f(t) (MODEL.md §3), USD, given the price relative to trend.
    pub fn hardware_value_per_gpu(&self, t_years: f64, price_over_trend: f64) -> f64 {
        let straight = 1.0 - (self.age0_years + t_years) / self.useful_life_years;
        self.purchase_price * straight.max(self.residual_floor) * price_over_trend
    }
}

/// A pool's deals and waterfall terms.
#[derive(Debug, Clone)]
pub struct PoolPlan<A> {
    /// Indices of the pool's deals.
    pub deals: Vec<usize>,
    /// Waterfall terms.
    pub waterfall: WaterfallParams<A>,
}

/// A portfolio's terms in `A`, ready to be stepped month by month.
#[derive(Debug, Clone)]
pub struct CashflowPlan<A> {
    /// Number of months K (the legal final month of the pools).
    pub horizon_months: u32,
    /// Fleets in file order.
    pub fleets: Vec<FleetParams<A>>,
    /// Deals in file order.
    pub deals: Vec<DealParams<A>>,
    /// Per deal: its [`AnnuityPowers`] (a fixed-rate annuity's (1 + r)^n, built from `deals`
    /// at lowering; a lookup checks its base, so a table left behind by an edit of `deals`
    /// costs only speed).
    pub annuity_powers: Vec<AnnuityPowers<A>>,
    /// Fleet index of each deal.
    pub deal_fleet: Vec<usize>,
    /// Lien of each deal.
    pub deal_lien: Vec<Lien>,
    /// Per fleet, its deals in payment order: senior, pari passu, junior; file order within.
    pub fleet_deals: Vec<Vec<usize>>,
    /// Pools in file order.
    pub pools: Vec<PoolPlan<A>>,
    /// Floating base rate of month k at index k−1: curve forward at t_{k−1} + rate shock.
    pub base_rates: Vec<A>,
    /// Derivatives in file order (MODEL.md §10).
    pub derivatives: Vec<DerivativeParams<A>>,
    /// Indices of the derivatives on a class index, in file order (settled before the fleets).
    pub index_derivatives: Vec<usize>,
    /// Per fleet: the revenue floors on its revenue (settled once its revenue is known).
    pub fleet_revenue_floors: Vec<Vec<usize>>,
    /// Per fleet: the derivatives that hedge it (their settlements enter its NOI), file order.
    pub fleet_hedges: Vec<Vec<usize>>,
    /// P_c(0) per class, USD per GPU-hour: the t_0 price of a first month's average fixing.
    pub price0: Vec<f64>,
}

/// The market in one month, as the caller's model sees it.
#[derive(Debug, Clone, Copy)]
pub struct MarketMonth<'a> {
    /// P_c(t_k), USD per GPU-hour, per class.
    pub price: &'a [f64],
    /// P_c(t_k) / P̄_c(t_k), per class (1 on the trend).
    pub price_over_trend: &'a [f64],
    /// u_f(t_k) per fleet, in (0, 1).
    pub utilization: &'a [f64],
    /// Per operator, whether its credit default falls in (t_{k−1}, t_k].
    pub credit_default: &'a [bool],
}

/// A fleet's operating result in one month (USD).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FleetMonth<A> {
    /// Gross revenue.
    pub revenue: A,
    /// Operating expenses.
    pub opex: A,
    /// Settlements of the derivatives hedging the fleet, to the fleet (MODEL.md §10.4).
    pub hedge: A,
    /// Net operating income, revenue − opex + hedge (may be negative).
    pub noi: A,
    /// Hardware value of the whole fleet, G·V_f(t).
    pub hardware_value: A,
}

/// Every flow of one month, overwritten by each [`CashflowPlan::step`].
#[derive(Debug, Clone)]
pub struct MonthOutput<A> {
    /// Per fleet.
    pub fleets: Vec<FleetMonth<A>>,
    /// Per deal. [`CashflowPlan::step`] reads back what it wrote here the month before (see
    /// `zero_flows`): a caller reads it between months but does not edit it.
    pub deals: Vec<DealFlows<A>>,
    /// Per deal: whether `deals[d]` is [`DealFlows::zero`] of some cash, as
    /// [`CashflowPlan::step`] wrote it for an idle deal ([`DealState::is_idle`]); false for a
    /// deal it stepped. An idle deal stays idle, so from its second idle month on `step` writes
    /// only its `cash_left` (the other 16 fields already hold what `zero` would write), and
    /// the pool collections skip it where [`Amount::ZERO_TERMS_VANISH`] (its proceeds are
    /// zero). Saves ≈10 of 456 instructions per deal-step on the sample together with the
    /// one-length slices of `step`. It describes this buffer, not the
    /// portfolio's state, so it lives here: a buffer reused across paths or with another
    /// state stays right, as `step` clears the flag of every deal it steps.
    zero_flows: Vec<bool>,
    /// Per deal: loss booked this month at default (EAD − recovery), or at term for an
    /// unreturned revenue-share advance, USD.
    pub losses: Vec<A>,
    /// Per pool: collections.
    pub pool_collections: Vec<PoolCollections<A>>,
    /// Per pool: fees and events.
    pub pool_months: Vec<WaterfallMonth<A>>,
    /// Per pool, per tranche.
    pub tranches: Vec<Vec<TrancheFlow<A>>>,
    /// Per derivative: its settlement to the holder this month, USD (MODEL.md §10.3).
    pub derivatives: Vec<A>,
}

impl<A> MonthOutput<A> {
    /// Per deal: whether [`CashflowPlan::step`] found the deal idle ([`DealState::is_idle`])
    /// before this month and wrote it [`DealFlows::zero`] of the cash available: every flow
    /// but `cash_left` is zero, its `losses` entry is zero and its state did not change. A
    /// reader can skip such a deal (`gaib-simulator`'s per-month recording does). Empty
    /// before the first `step` into this buffer.
    #[inline]
    pub fn zero_flows(&self) -> &[bool] {
        &self.zero_flows
    }
}

/// The state of a whole portfolio between months.
#[derive(Debug, Clone)]
pub struct CashflowState<A> {
    /// Per deal.
    pub deals: Vec<DealState<A>>,
    /// Per fleet: fraction of the hardware not yet liquidated.
    pub collateral_left: Vec<A>,
    /// Per pool.
    pub pools: Vec<WaterfallState<A>>,
    /// Per class: P_c(t_{k−1}) after month k−1 (P_c(0) at close), USD per GPU-hour.
    pub prev_price: Vec<f64>,
    /// Per derivative: Σ of its fixings so far within its strip (a forward's average), USD per
    /// GPU-hour.
    pub fixing_sum: Vec<A>,
}

impl<A: Amount> CashflowPlan<A> {
    /// Lowers a validated portfolio into `A`.
    pub fn new(v: Validated<'_>) -> Self {
        // Indexing by id below cannot fail: validation checked that every referenced id
        // exists (a `Validated` exists only then).
        let p = v.portfolio();
        let class_ix: HashMap<&str, usize> = p
            .gpu_classes
            .iter()
            .enumerate()
            .map(|(i, c)| (c.id.as_str(), i))
            .collect();
        let op_ix: HashMap<&str, usize> = p
            .operators
            .iter()
            .enumerate()
            .map(|(i, o)| (o.id.as_str(), i))
            .collect();
        let fleet_ix: HashMap<&str, usize> = p
            .fleets
            .iter()
            .enumerate()
            .map(|(i, f)| (f.id.as_str(), i))
            .collect();
        let deal_ix: HashMap<&str, usize> = p
            .deals
            .iter()
            .enumerate()
            .map(|(i, d)| (d.id.as_str(), i))
            .collect();
        let conv = A::from_decimal;
        let fleets = p
            .fleets
            .iter()
            .map(|f| {
                let class = class_ix[f.class_id.as_str()];
                let c = &p.gpu_classes[class];
                FleetParams {
                    class,
                    operator: op_ix[f.operator_id.as_str()],
                    gpu_hours: A::from_f64(f64::from(f.gpus) * f64::from(HOURS_PER_MONTH)),
                    gpus: A::from_f64(f64::from(f.gpus)),
                    contracted_share: conv(f.contracted_share),
                    contract_rate: conv(f.contract_rate_per_gpu_hour),
                    contract_end_month: f.contract_end_month,
                    opex_fixed: conv(f.opex_fixed_per_gpu_hour),
                    opex_variable: conv(f.opex_variable_per_gpu_hour),
                    purchase_price: <f64 as Amount>::from_decimal(f.purchase_price_per_gpu),
                    age0_years: f64::from(f.age0_months) / 12.0,
                    useful_life_years: c.useful_life_years,
                    residual_floor: c.residual_floor,
                    liquidation_haircut: conv(f.liquidation_haircut),
                    liquidation_cost: conv(f.liquidation_cost),
                }
            })
            .collect::<Vec<_>>();
        let deal_fleet: Vec<usize> = p
            .deals
            .iter()
            .map(|d| fleet_ix[d.fleet_id.as_str()])
            .collect();
        let deal_lien: Vec<Lien> = p.deals.iter().map(|d| d.lien).collect();
        let mut fleet_deals = vec![Vec::new(); fleets.len()];
        for (i, &f) in deal_fleet.iter().enumerate() {
            fleet_deals[f].push(i);
        }
        for list in &mut fleet_deals {
            list.sort_by_key(|&i| (deal_lien[i], i));
        }
        let pools = p
            .pools
            .iter()
            .map(|q| PoolPlan {
                deals: q.deal_ids.iter().map(|id| deal_ix[id.as_str()]).collect(),
                waterfall: WaterfallParams::from_pool(q),
            })
            .collect();
        let derivatives: Vec<DerivativeParams<A>> = p
            .derivatives
            .iter()
            .map(|d| {
                let underlying = match (&d.class_id, d.fixing, &d.fleet_id) {
                    (Some(c), Some(fixing), _) if d.kind.is_index() => Underlying::Index {
                        class: class_ix[c.as_str()],
                        fixing,
                    },
                    (_, _, Some(f)) => Underlying::FleetRevenue {
                        fleet: fleet_ix[f.as_str()],
                    },
                    _ => unreachable!("validation requires class_id/fixing or fleet_id"),
                };
                let notional = conv(d.notional_gpu_hours_per_month.unwrap_or_default());
                let strike = conv(d.strike_per_gpu_hour.unwrap_or_default());
                DerivativeParams {
                    kind: d.kind,
                    underlying,
                    sign: A::from_f64(d.sign()),
                    notional,
                    strike,
                    strike_times_months: conv(
                        d.strike_per_gpu_hour.unwrap_or_default()
                            * rust_decimal::Decimal::from(d.months()),
                    ),
                    floor: conv(d.floor_usd_per_month.unwrap_or_default()),
                    basis: d.basis(),
                    start_month: d.start_month,
                    end_month: d.end_month,
                    hedges: d.hedges.as_deref().map(|f| fleet_ix[f]),
                }
            })
            .collect();
        let mut fleet_revenue_floors = vec![Vec::new(); fleets.len()];
        let mut fleet_hedges = vec![Vec::new(); fleets.len()];
        let mut index_derivatives = Vec::new();
        for (i, d) in derivatives.iter().enumerate() {
            match d.underlying {
                Underlying::Index { .. } => index_derivatives.push(i),
                Underlying::FleetRevenue { fleet } => fleet_revenue_floors[fleet].push(i),
            }
            if let Some(f) = d.hedges {
                fleet_hedges[f].push(i);
            }
        }
        let horizon_months = p.horizon_months();
        let curve = DiscountCurve::new(&p.market.discount_curve);
        let shock = p.market.rate_shock_bps * 1e-4;
        let base_rates = (1..=horizon_months)
            .map(|k| A::from_f64(curve.one_month_forward(f64::from(k - 1) / 12.0) + shock))
            .collect();
        let deals: Vec<DealParams<A>> = p.deals.iter().map(DealParams::from_deal).collect();
        CashflowPlan {
            horizon_months,
            fleets,
            annuity_powers: deals.iter().map(AnnuityPowers::new).collect(),
            deals,
            deal_fleet,
            deal_lien,
            fleet_deals,
            pools,
            base_rates,
            derivatives,
            index_derivatives,
            fleet_revenue_floors,
            fleet_hedges,
            price0: p
                .gpu_classes
                .iter()
                .map(|c| c.price0_per_gpu_hour)
                .collect(),
        }
    }

    /// The state at close.
    pub fn initial_state(&self) -> CashflowState<A> {
        let r1 = self.base_rates.first().copied().unwrap_or(A::ZERO);
        CashflowState {
            deals: self
                .deals
                .iter()
                .map(|d| DealState::at_close(d, r1))
                .collect(),
            collateral_left: vec![A::ONE; self.fleets.len()],
            pools: self
                .pools
                .iter()
                .map(|q| WaterfallState::new(&q.waterfall))
                .collect(),
            prev_price: self.price0.clone(),
            fixing_sum: vec![A::ZERO; self.derivatives.len()],
        }
    }

    /// Resets `s` to the state at close without reallocating.
    pub fn reset_state(&self, s: &mut CashflowState<A>) {
        let r1 = self.base_rates.first().copied().unwrap_or(A::ZERO);
        for (st, d) in s.deals.iter_mut().zip(&self.deals) {
            *st = DealState::at_close(d, r1);
        }
        for c in &mut s.collateral_left {
            *c = A::ONE;
        }
        for (st, q) in s.pools.iter_mut().zip(&self.pools) {
            st.reset(&q.waterfall);
        }
        s.prev_price.copy_from_slice(&self.price0);
        s.fixing_sum.fill(A::ZERO);
    }

    /// An output buffer of the right shape.
    pub fn new_output(&self) -> MonthOutput<A> {
        let zf = FleetMonth {
            revenue: A::ZERO,
            opex: A::ZERO,
            hedge: A::ZERO,
            noi: A::ZERO,
            hardware_value: A::ZERO,
        };
        MonthOutput {
            fleets: vec![zf; self.fleets.len()],
            deals: Vec::with_capacity(self.deals.len()),
            zero_flows: Vec::with_capacity(self.deals.len()),
            losses: vec![A::ZERO; self.deals.len()],
            pool_collections: Vec::with_capacity(self.pools.len()),
            pool_months: Vec::with_capacity(self.pools.len()),
            tranches: self
                .pools
                .iter()
                .map(|q| vec![TrancheFlow::zero(); q.waterfall.len()])
                .collect(),
            derivatives: vec![A::ZERO; self.derivatives.len()],
        }
    }

    /// Performing balance of a pool's deals (outstanding principal of deals not ended), USD.
    pub fn performing_balance(&self, pool: usize, s: &CashflowState<A>) -> A {
        let mut b = A::ZERO;
        for &d in &self.pools[pool].deals {
            if !s.deals[d].done {
                b += s.deals[d].balance;
            }
        }
        b
    }

    /// The last month (1-based, at most the horizon; 0 = none) in which fleet `fleet`'s
    /// utilization can change anything [`CashflowPlan::step`] (or its lanes form) writes
    /// other than that fleet's own revenue, opex, hedge and NOI in [`FleetMonth`] and the
    /// `cash_left` of its deals that only pass cash through (idle, or done and awaiting a
    /// recovery): path-independent, from the plan alone.
    ///
    /// The utilization enters only the fleet's revenue and opex. Those reach a deal of the
    /// fleet only while it is not done (its month's inputs), and every deal is done at the
    /// latest at the end of its term month (each state machine ends there: matured,
    /// refinanced, defaulted or closed at term, MODEL.md §4; a default's recovery is fixed
    /// when it is assigned and paid later whatever the market); they reach a revenue floor
    /// on the fleet only in its strip (start..=end month; zero outside it); nothing else
    /// reads them. So the answer is the latest of the fleet's deals' term months and its
    /// revenue floors' end months, capped at the horizon. A market may leave the fleet's
    /// utilization of later months undrawn (NaN): the engine test
    /// `utilization_after_its_last_used_month_changes_nothing` holds the month steps to it.
    pub fn utilization_last_month(&self, fleet: usize) -> u32 {
        let deals = self.fleet_deals[fleet]
            .iter()
            .map(|&d| self.deals[d].term_months);
        let floors = self.fleet_revenue_floors[fleet]
            .iter()
            .map(|&i| self.derivatives[i].end_month);
        deals
            .chain(floors)
            .max()
            .unwrap_or(0)
            .min(self.horizon_months)
    }

    /// Runs month `k` (1..=horizon) with the given market, updating `s` and writing `out`.
    pub fn step(
        &self,
        k: u32,
        m: &MarketMonth<'_>,
        s: &mut CashflowState<A>,
        out: &mut MonthOutput<A>,
    ) {
        let t = f64::from(k) / 12.0;
        let base_rate = self.base_rates[(k as usize)
            .saturating_sub(1)
            .min(self.base_rates.len() - 1)];
        out.pool_collections.clear();
        out.pool_months.clear();
        for (q, _) in self.pools.iter().enumerate() {
            out.pool_collections.push(PoolCollections {
                interest_proceeds: A::ZERO,
                principal_proceeds: A::ZERO,
                performing_balance: self.performing_balance(q, s),
                base_rate,
            });
        }
        // Every deal is in exactly one fleet's list, so each month overwrites every entry of
        // `out.deals`; only a fresh buffer needs sizing (no per-month clear and refill).
        let nd = self.deals.len();
        if out.deals.len() != nd || out.zero_flows.len() != nd {
            out.deals.clear();
            out.deals.resize(nd, DealFlows::zero(A::ZERO));
            out.zero_flows.clear();
            out.zero_flows.resize(nd, false);
        }
        for x in out.losses.iter_mut() {
            *x = A::ZERO;
        }
        // §10: derivatives on a class index settle on this month's (and last month's) prices,
        // before any fleet pays its deals.
        for &i in &self.index_derivatives {
            let d = &self.derivatives[i];
            if let Underlying::Index { class, fixing } = d.underlying {
                let fix = A::from_f64(d.fixing(fixing, s.prev_price[class], m.price[class]));
                if d.active(k) {
                    s.fixing_sum[i] += fix;
                }
                out.derivatives[i] = d.settlement(k, fix, s.fixing_sum[i], A::ZERO);
            }
        }

        // Per-deal and per-fleet arrays sliced to one length each, so that one bounds check
        // of an index covers every array it indexes (the optimizer merges the identical
        // comparisons; a per-array length would keep one check per array).
        let deal_params = &self.deals[..nd];
        let powers = &self.annuity_powers[..nd];
        let states = &mut s.deals[..nd];
        let flows_out = &mut out.deals[..nd];
        let zero_flows = &mut out.zero_flows[..nd];
        let losses = &mut out.losses[..nd];
        let nf = self.fleets.len();
        let fleets = &self.fleets[..nf];
        let fleet_deals = &self.fleet_deals[..nf];
        let fleet_hedges = &self.fleet_hedges[..nf];
        let fleet_revenue_floors = &self.fleet_revenue_floors[..nf];
        let fleets_out = &mut out.fleets[..nf];
        let utilization = &m.utilization[..nf];
        let collateral_left = &mut s.collateral_left[..nf];
        let prices = m.price;
        let price_over_trend = &m.price_over_trend[..prices.len()];
        for fi in 0..nf {
            let f = &fleets[fi];
            let u = A::from_f64(utilization[fi]);
            let price_ratio = price_over_trend[f.class];
            let price = A::from_f64(prices[f.class]);
            let phi = if k <= f.contract_end_month {
                f.contracted_share
            } else {
                A::ZERO
            };
            let spot = A::ONE - phi;
            let revenue = (f.gpu_hours * (phi * f.contract_rate + spot * u * price)).cents();
            let opex = (f.gpu_hours * (f.opex_fixed + f.opex_variable * (spot * u + phi))).cents();
            for &i in &fleet_revenue_floors[fi] {
                out.derivatives[i] = self.derivatives[i].settlement(k, A::ZERO, A::ZERO, revenue);
            }
            let mut hedge = A::ZERO;
            let noi = if fleet_hedges[fi].is_empty() {
                revenue - opex
            } else {
                for &i in &fleet_hedges[fi] {
                    hedge += out.derivatives[i];
                }
                revenue - opex + hedge
            };
            let hw = f.gpus * A::from_f64(f.hardware_value_per_gpu(t, price_ratio));
            fleets_out[fi] = FleetMonth {
                revenue,
                opex,
                hedge,
                noi,
                hardware_value: hw,
            };
            let after_haircut = hw * (A::ONE - f.liquidation_haircut);
            let mut inputs = MonthInputs {
                revenue,
                cash_available: noi,
                base_rate,
                refinance_collateral: after_haircut,
                credit_default: m.credit_default[f.operator],
            };
            let mut any_default = false;
            for &d in &fleet_deals[fi] {
                let (st, flows) = (&mut states[d], &mut flows_out[d]);
                if st.is_idle() {
                    // What `step_into` writes for it: no flows, the cash passes through. From
                    // the second idle month on, only the cash differs from what is there.
                    if zero_flows[d] {
                        flows.cash_left = inputs.cash_available;
                    } else {
                        *flows = DealFlows::zero(inputs.cash_available);
                        zero_flows[d] = true;
                    }
                    continue;
                }
                zero_flows[d] = false;
                // Written in place: DealFlows is large enough that a copy is a memcpy call.
                st.step_into(&deal_params[d], &powers[d], k, &inputs, flows);
                inputs.cash_available = flows.cash_left;
                any_default |= flows.default_kind.is_some();
                if !flows.shortfall.is_settled() {
                    losses[d] += flows.shortfall;
                }
            }
            if any_default {
                self.assign_recoveries(
                    fi,
                    k,
                    after_haircut - f.liquidation_cost,
                    states,
                    &mut collateral_left[fi],
                    flows_out,
                    losses,
                );
            }
        }

        if !self.derivatives.is_empty() {
            s.prev_price.copy_from_slice(m.price);
        }

        for (q, plan) in self.pools.iter().enumerate() {
            let mut c = out.pool_collections[q];
            for &d in &plan.deals {
                // Zero flows have proceeds `A::ZERO`; where adding that changes no sum
                // (f64), skipping them gives the same bits with less work.
                if A::ZERO_TERMS_VANISH && out.zero_flows[d] {
                    continue;
                }
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

    /// Splits a fleet's net liquidation value among the deals that defaulted on it this month:
    /// by lien (senior first), pro rata to exposure within a lien; each deal also keeps its own
    /// DSRA. Unsecured deals recover `unsecured_recovery` × EAD. Recoveries arrive after each
    /// deal's lag (at the horizon at the latest). Takes the deal arrays `step` has sliced
    /// (states, flows and losses per deal) and the fleet's `collateral_left`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn assign_recoveries(
        &self,
        fleet: usize,
        k: u32,
        net_liquidation_value: A,
        states: &mut [DealState<A>],
        collateral_left: &mut A,
        flows: &mut [DealFlows<A>],
        losses: &mut [A],
    ) {
        let full = net_liquidation_value.pos();
        let mut available = full * *collateral_left;
        let start = available;
        let order = &self.fleet_deals[fleet];
        let mut i = 0;
        while i < order.len() {
            let lien = self.deal_lien[order[i]];
            let mut j = i;
            let mut claims = A::ZERO;
            while j < order.len() && self.deal_lien[order[j]] == lien {
                let d = order[j];
                if flows[d].default_kind.is_some() && self.deals[d].secured {
                    claims += (flows[d].default_ead - states[d].dsra).pos();
                }
                j += 1;
            }
            let alloc = available.min_of(claims);
            for &d in &order[i..j] {
                let f = &flows[d];
                if f.default_kind.is_none() {
                    continue;
                }
                let ead = f.default_ead;
                // The reserve still held at default belongs to the recovery.
                let dsra = states[d].dsra;
                states[d].dsra = A::ZERO;
                let rec = if self.deals[d].secured {
                    let claim = (ead - dsra).pos();
                    let share = if claims > A::ZERO {
                        alloc * claim / claims
                    } else {
                        A::ZERO
                    };
                    (share + dsra).min_of(ead)
                } else {
                    ((self.deals[d].unsecured_recovery * ead).cents() + dsra).min_of(ead)
                };
                losses[d] += ead - rec;
                let due = (k + self.deals[d].recovery_lag_months).min(self.horizon_months);
                states[d].pending_recovery = Some((due, rec));
            }
            available -= alloc;
            i = j;
        }
        if start > A::ZERO {
            *collateral_left = *collateral_left * (available / start);
        }
        // A recovery due this very month (lag 0) is paid now.
        for &d in order {
            if let Some((due, amount)) = states[d].pending_recovery {
                if due <= k && flows[d].default_kind.is_some() {
                    flows[d].recovery += amount;
                    states[d].pending_recovery = None;
                }
            }
        }
    }
}
