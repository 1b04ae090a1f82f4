//! The AID/sAID vault (MODEL.md §7), generic over [`Amount`]: NAV at the staking and the
//! unstaking price, the liquidity buffer, fees, and the FIFO redemption queue.
//!
//! Each month, after [`CashflowPlan::step`]:
//! 1. the buffer earns `tbill_rate`/12 on its positive balance of last month;
//! 2. cash received by the holdings is added to the buffer (whole deals: everything they pay;
//!    tranche holdings: the fraction held of the tranche's receipts);
//! 3. fees are paid from the buffer: `performance_fee` × financing income (interest, rev-share
//!    income, kicker; tranche interest) and `management_fee_bps`/12 on the staking NAV
//!    (the buffer may go negative: fees then accrue as a liability netted in the NAV);
//! 4. for every withdrawal cycle n that ends in the month (day n·cycle_days, months of 365/12
//!    days): `redemption_requests` (or the `redemption_schedule` entry of cycle n) × (shares
//!    not already queued) join the queue as request n,
//!    then the queue is paid FIFO at the unstaking NAV per share, from the positive buffer only;
//!    a request not fully paid waits for the next cycle;
//! 5. the NAV per share is read after redemptions.
//!
//! Marks: a performing deal at its outstanding principal (amortised cost); a defaulted deal
//! whose recovery is still to come at its EAD (staking NAV: unrealised losses ignored) or at
//! the recovery assigned (unstaking NAV); afterwards 0 (the recovery is in the buffer). A
//! tranche holding is marked by allocating the pool's asset value (its deals' marks)
//! sequentially down the capital structure ([`tranche_mark`]) times the fraction held.
//!
//! The monthly step is on the simulator's hot path (once per path and month), so it walks only
//! the deals it marks, as runs of consecutive indices precomputed per plan, reads each deal's
//! state and flows once, and records a default's EAD only where it will be read. Every sum
//! adds the same terms in the same order as the plain definition above (less the 0 marks of
//! ended deals, which leave a sum unchanged), so results are unchanged bit for bit.

use crate::amount::Amount;
use crate::deal::DealFlows;
use crate::lanes::runner::{CashflowLanes, OutputLanes};
use crate::portfolio::Portfolio;
use crate::runner::{CashflowPlan, CashflowState, MonthOutput};
use crate::waterfall::TrancheFlow;
use std::collections::VecDeque;
use std::ops::Range;

/// Days per model month for the withdrawal-cycle calendar (365/12).
pub const DAYS_PER_MONTH: f64 = 365.0 / 12.0;

/// What the vault reads of one path's month after [`CashflowPlan::step`]: each deal's state
/// and flows, each tranche's flows and each pool's tranche balances. One path's engine output
/// and state `(&CashflowState, &MonthOutput)` is the usual input; a lane of paths stepped
/// together (`crate::lanes`) is another, with the same values.
pub trait VaultMonthInput<A> {
    /// Deal `d`'s state after the month, as far as its mark needs it.
    fn deal_mark(&self, d: usize) -> DealMark<A>;
    /// Deal `d`'s flows in the month.
    fn deal_flows(&self, d: usize) -> DealFlows<A>;
    /// Tranche `t` of pool `q`: its flows in the month.
    fn tranche_flow(&self, q: usize, t: usize) -> TrancheFlow<A>;
    /// Pool `q`'s number of tranches.
    fn n_tranches(&self, q: usize) -> usize;
    /// Tranche `j` of pool `q`: its balance after the month, USD.
    fn tranche_balance(&self, q: usize, j: usize) -> A;
}

/// What the vault's marks read of a deal's state after the month (fields of [`crate::DealState`]).
#[derive(Debug, Clone, Copy)]
pub struct DealMark<A> {
    /// Whether the deal has ended.
    pub done: bool,
    /// Outstanding balance, USD.
    pub balance: A,
    /// The recovery still to come, USD, if any.
    pub pending_recovery: Option<A>,
}

impl<A: Amount> VaultMonthInput<A> for (&CashflowState<A>, &MonthOutput<A>) {
    #[inline(always)]
    fn deal_mark(&self, d: usize) -> DealMark<A> {
        let st = &self.0.deals[d];
        DealMark {
            done: st.done,
            balance: st.balance,
            pending_recovery: st.pending_recovery.map(|(_, amount)| amount),
        }
    }
    #[inline(always)]
    fn deal_flows(&self, d: usize) -> DealFlows<A> {
        self.1.deals[d]
    }
    #[inline(always)]
    fn tranche_flow(&self, q: usize, t: usize) -> TrancheFlow<A> {
        self.1.tranches[q][t]
    }
    #[inline(always)]
    fn n_tranches(&self, q: usize) -> usize {
        self.0.pools[q].balances.len()
    }
    #[inline(always)]
    fn tranche_balance(&self, q: usize, j: usize) -> A {
        self.0.pools[q].balances[j]
    }
}

/// Mark of tranche `t` of a pool whose assets are worth `pool_value`: debt tranche j gets
/// min(b_j, (V − Σ_{i<j} b_i)⁺), the equity (last) tranche (V − Σ debt)⁺. `balances` are the
/// tranches' outstanding balances in seniority order (the equity entry is ignored).
pub fn tranche_mark<A: Amount>(balances: &[A], pool_value: A, t: usize) -> A {
    tranche_marks(balances, (pool_value, pool_value), t).0
}

/// [`tranche_mark`] of tranche `t` for two pool values (staking, unstaking): the same
/// operations, with the debt above the tranche summed once for both.
fn tranche_marks<A: Amount>(balances: &[A], values: (A, A), t: usize) -> (A, A) {
    tranche_marks_by(balances.len(), |j| balances[j], values, t)
}

/// [`tranche_marks`] with the pool's `n` tranche balances read through `balance(j)`.
#[inline(always)]
fn tranche_marks_by<A: Amount>(
    n: usize,
    balance: impl Fn(usize) -> A,
    (vs, vu): (A, A),
    t: usize,
) -> (A, A) {
    let eq = n.saturating_sub(1);
    let mut above = A::ZERO;
    for j in 0..t.min(eq) {
        above += balance(j);
    }
    let below = |pool_value: A| {
        let left = (pool_value - above).pos();
        if t == eq {
            left
        } else {
            left.min_of(balance(t))
        }
    };
    (below(vs), below(vu))
}

/// `indices` as maximal runs of consecutive ascending indices, in order (the same sequence):
/// the vault's monthly walk slices the per-deal state once per run rather than indexing it,
/// with a bounds check, once per deal.
fn index_runs(indices: &[usize]) -> Vec<Range<usize>> {
    let mut runs: Vec<Range<usize>> = Vec::new();
    for &d in indices {
        match runs.last_mut() {
            Some(r) if r.end == d => r.end += 1,
            _ => runs.push(d..d + 1),
        }
    }
    runs
}

/// The vault's terms in `A`.
#[derive(Debug, Clone)]
pub struct VaultParams<A> {
    /// Vault id.
    pub id: String,
    /// sAID shares at t = 0.
    pub shares0: A,
    /// Liquidity buffer at t = 0, USD.
    pub buffer0: A,
    /// Buffer yield per month: tbill_rate / 12.
    pub tbill_monthly: A,
    /// Management fee per month as a fraction of the staking NAV: bps / 1e4 / 12.
    pub mgmt_fee_monthly: A,
    /// Performance fee, fraction of financing income.
    pub performance_fee: A,
    /// Deals held whole (indices into the portfolio's deals).
    pub deals: Vec<usize>,
    /// Tranche holdings: (pool index, tranche index, fraction held).
    pub holdings: Vec<(usize, usize, A)>,
    /// `deals` as runs of consecutive indices (the same deals in the same order), for
    /// [`VaultState::step`].
    pub deal_runs: Vec<Range<usize>>,
    /// Per holding: its pool's deals as runs of consecutive indices, in the pool's order.
    pub holding_runs: Vec<Vec<Range<usize>>>,
    /// Fraction of the shares not already queued that request redemption each cycle.
    pub redemption_fraction: A,
    /// Per withdrawal cycle n (index n−1): the fraction requesting redemption in that cycle —
    /// `redemption_fraction`, or the vault's `redemption_schedule` entry for n (a bank run).
    pub redemption_by_cycle: Vec<A>,
    /// For each withdrawal cycle n = 1.. ending within the horizon, the month k with its end
    /// day n·cycle_days in (t_{k−1}, t_k] (months of 365/12 days).
    pub cycle_end_month: Vec<u32>,
    /// Month of the NAV horizon: ceil(horizon_days / (365/12)) in [1, K]
    /// (horizon_days defaults to one withdrawal cycle).
    pub horizon_month: u32,
}

impl<A: Amount> VaultParams<A> {
    /// The vault of a validated portfolio, if it has one; `plan` gives the horizon K.
    pub fn new(p: &Portfolio, plan: &CashflowPlan<A>) -> Option<Self> {
        let v = p.vault.as_ref()?;
        let k_max = plan.horizon_months.max(1);
        let deals: Vec<usize> = v
            .deal_ids
            .iter()
            .filter_map(|id| p.deal_index(id))
            .collect();
        let holdings: Vec<(usize, usize, A)> = v
            .holdings
            .iter()
            .filter_map(|h| {
                let q = p.pool_index(&h.pool_id)?;
                let t = p.pools[q]
                    .tranches
                    .iter()
                    .position(|t| t.id == h.tranche_id)?;
                Some((q, t, A::from_decimal(h.fraction)))
            })
            .collect();
        let cycle_days = f64::from(v.withdrawal_cycle_days.max(1));
        let mut cycle_end_month = Vec::new();
        for n in 1u32.. {
            let m = (f64::from(n) * cycle_days / DAYS_PER_MONTH - 1e-9)
                .ceil()
                .max(1.0);
            if m > f64::from(k_max) {
                break;
            }
            cycle_end_month.push(m as u32);
        }
        let horizon_days = f64::from(v.horizon_days.unwrap_or(v.withdrawal_cycle_days));
        let horizon_month = ((horizon_days / DAYS_PER_MONTH - 1e-9).ceil() as u32).clamp(1, k_max);
        let twelve = A::from_f64(12.0);
        let redemption_by_cycle = (1..=cycle_end_month.len() as u32)
            .map(|n| {
                A::from_decimal(
                    v.redemption_schedule
                        .iter()
                        .find(|r| r.cycle == n)
                        .map_or(v.redemption_requests, |r| r.fraction),
                )
            })
            .collect();
        let deal_runs = index_runs(&deals);
        let holding_runs = holdings
            .iter()
            .map(|&(q, _, _)| index_runs(&plan.pools[q].deals))
            .collect();
        Some(VaultParams {
            id: v.id.clone(),
            shares0: A::from_decimal(v.shares),
            buffer0: A::from_decimal(v.liquidity_buffer),
            tbill_monthly: A::from_decimal(v.tbill_rate) / twelve,
            mgmt_fee_monthly: A::from_decimal(v.management_fee_bps)
                / A::from_f64(10_000.0)
                / twelve,
            performance_fee: A::from_decimal(v.performance_fee),
            deals,
            holdings,
            deal_runs,
            holding_runs,
            redemption_fraction: A::from_decimal(v.redemption_requests),
            redemption_by_cycle,
            cycle_end_month,
            horizon_month,
        })
    }

    /// NAV at t = 0, USD: buffer + funded amounts of whole deals + tranche marks at issue.
    pub fn nav0(&self, plan: &CashflowPlan<A>) -> A {
        let mut nav = self.buffer0;
        for &d in &self.deals {
            nav += plan.deals[d].funded();
        }
        for &(q, t, frac) in &self.holdings {
            let mut value = A::ZERO;
            for &d in &plan.pools[q].deals {
                value += plan.deals[d].funded();
            }
            nav += frac * tranche_mark(&plan.pools[q].waterfall.balances, value, t);
        }
        nav
    }

    /// NAV per share at t = 0, USD (0 if there are no shares).
    pub fn nav0_per_share(&self, plan: &CashflowPlan<A>) -> A {
        if self.shares0 > A::ZERO {
            self.nav0(plan) / self.shares0
        } else {
            A::ZERO
        }
    }
}

/// One month of the vault.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VaultMonth<A> {
    /// Staking NAV after redemptions, USD.
    pub nav_staking: A,
    /// Unstaking NAV after redemptions, USD.
    pub nav_unstaking: A,
    /// Staking NAV per share, USD (the last defined value once no share is left).
    pub nav_per_share_staking: A,
    /// Unstaking NAV per share, USD.
    pub nav_per_share_unstaking: A,
    /// Liquidity buffer at month end, USD (negative: fees owed).
    pub buffer: A,
    /// Shares outstanding at month end.
    pub shares: A,
    /// Shares waiting in the redemption queue at month end.
    pub queued_shares: A,
    /// Shares redeemed this month.
    pub redeemed_shares: A,
    /// Cash paid to redeemers this month, USD.
    pub redeemed_usd: A,
    /// Fees paid this month (management + performance), USD.
    pub fees: A,
}

/// The vault between months.
#[derive(Debug, Clone)]
pub struct VaultState<A> {
    /// Liquidity buffer, USD.
    pub buffer: A,
    /// Shares outstanding.
    pub shares: A,
    /// Index of the next withdrawal cycle to end.
    pub next_cycle: usize,
    /// Redemption requests waiting: (cycle n in which made, shares left), oldest first.
    pub queue: VecDeque<(u32, A)>,
    /// Largest queued shares so far / initial shares.
    pub max_queue_fraction: A,
    /// Most cycles a request waited until fully paid (paid at the end of its own cycle: 1).
    pub worst_wait_cycles: u32,
    /// Per deal: EAD of its default (0 if none yet), USD — the staking mark until recovery.
    /// Recorded only for the deals the vault marks (held whole or in a held pool), and only
    /// when a recovery is still to come: the only case it is read.
    pub deal_ead: Vec<A>,
    /// Last defined NAV per share (staking, unstaking), USD.
    pub last_nav_per_share: (A, A),
    /// [`VaultState::queued`] as of the last change to `queue`: the same sum, kept so a month
    /// adds up the queue once per withdrawal cycle rather than at every use.
    queued_shares: A,
}

impl<A: Amount> VaultState<A> {
    /// The vault at t = 0.
    pub fn new(v: &VaultParams<A>, plan: &CashflowPlan<A>) -> Self {
        let ps = v.nav0_per_share(plan);
        VaultState {
            buffer: v.buffer0,
            shares: v.shares0,
            next_cycle: 0,
            queue: VecDeque::with_capacity(v.cycle_end_month.len()),
            max_queue_fraction: A::ZERO,
            worst_wait_cycles: 0,
            deal_ead: vec![A::ZERO; plan.deals.len()],
            last_nav_per_share: (ps, ps),
            queued_shares: A::ZERO,
        }
    }

    /// Resets to t = 0 without reallocating; `nav0_per_share` from [`VaultParams::nav0_per_share`].
    pub fn reset(&mut self, v: &VaultParams<A>, nav0_per_share: A) {
        self.buffer = v.buffer0;
        self.shares = v.shares0;
        self.next_cycle = 0;
        self.queue.clear();
        self.max_queue_fraction = A::ZERO;
        self.worst_wait_cycles = 0;
        for e in &mut self.deal_ead {
            *e = A::ZERO;
        }
        self.last_nav_per_share = (nav0_per_share, nav0_per_share);
        self.queued_shares = A::ZERO;
    }

    /// Steps 1–2 of the month (module doc) on the buffer, after [`CashflowPlan::step`]:
    /// returns the financing income and the marks of all holdings (staking, unstaking), USD.
    ///
    /// One walk over the whole deals (receipts and marks together) and one over each held
    /// pool's deals; each accumulator adds the same terms in the same order as summing
    /// receipts, income and marks separately.
    #[inline(always)]
    fn receipts_and_marks<I: VaultMonthInput<A>>(
        &mut self,
        v: &VaultParams<A>,
        inp: &I,
    ) -> (A, (A, A)) {
        let mut buffer = self.buffer;
        buffer += buffer.pos() * v.tbill_monthly;
        let mut income = A::ZERO;
        let mut marks = (A::ZERO, A::ZERO);
        for r in &v.deal_runs {
            for d in r.clone() {
                let f = inp.deal_flows(d);
                buffer += f.total_received();
                income += f.interest_proceeds();
                add_deal_marks(&mut marks, &mut self.deal_ead, d, &inp.deal_mark(d), inp);
            }
        }
        // Holdings of the same pool (e.g. two of its tranches) in a row share the pool value.
        let mut last: Option<(usize, A, A)> = None;
        for (&(q, t, frac), runs) in v.holdings.iter().zip(&v.holding_runs) {
            let fl = inp.tranche_flow(q, t);
            buffer += frac * fl.received();
            income += frac * fl.interest;
            let value = match last {
                Some((lq, a, b)) if lq == q => (a, b),
                _ => {
                    let mut value = (A::ZERO, A::ZERO);
                    for r in runs {
                        for d in r.clone() {
                            let st = inp.deal_mark(d);
                            add_deal_marks(&mut value, &mut self.deal_ead, d, &st, inp);
                        }
                    }
                    last = Some((q, value.0, value.1));
                    value
                }
            };
            let (xs, xu) =
                tranche_marks_by(inp.n_tranches(q), |j| inp.tranche_balance(q, j), value, t);
            marks.0 += frac * xs;
            marks.1 += frac * xu;
        }
        self.buffer = buffer;
        (income, marks)
    }

    /// Runs month `k` after the portfolio's [`CashflowPlan::step`] produced `out` and `s`.
    pub fn step(
        &mut self,
        v: &VaultParams<A>,
        k: u32,
        s: &CashflowState<A>,
        out: &MonthOutput<A>,
    ) -> VaultMonth<A> {
        self.step_with(v, k, &(s, out))
    }

    /// [`VaultState::step`] reading the month through `inp` (one path's values either way).
    #[inline]
    pub fn step_with<I: VaultMonthInput<A>>(
        &mut self,
        v: &VaultParams<A>,
        k: u32,
        inp: &I,
    ) -> VaultMonth<A> {
        let (income, marks) = self.receipts_and_marks(v, inp);
        self.after_receipts(v, k, income, marks)
    }

    /// Steps 3 on of month `k` (fees, withdrawal cycles, NAV), after
    /// [`VaultState::receipts_and_marks`] (or its lanes form) updated the buffer and gave the
    /// financing income and the marks (staking, unstaking), USD.
    #[inline(always)]
    fn after_receipts(
        &mut self,
        v: &VaultParams<A>,
        k: u32,
        income: A,
        (ms, mu): (A, A),
    ) -> VaultMonth<A> {
        let fees = v.performance_fee * income.pos() + v.mgmt_fee_monthly * (self.buffer + ms).pos();
        self.buffer -= fees;

        let shares_before = self.shares;
        let buffer_before = self.buffer;
        let tiny = A::from_f64(1e-12) * v.shares0;
        while self.next_cycle < v.cycle_end_month.len() && v.cycle_end_month[self.next_cycle] == k {
            self.next_cycle += 1;
            let cycle = self.next_cycle as u32;
            let fraction = v
                .redemption_by_cycle
                .get(self.next_cycle - 1)
                .copied()
                .unwrap_or(v.redemption_fraction);
            let req = fraction * (self.shares - self.queued_shares).pos();
            if req > tiny {
                self.queue.push_back((cycle, req));
            }
            let price = if self.shares > tiny {
                (self.buffer + mu) / self.shares
            } else {
                A::ZERO
            };
            while let Some(front) = self.queue.front_mut() {
                if price <= A::ZERO || self.buffer <= A::ZERO {
                    break;
                }
                let paid = front.1.min_of(self.buffer / price);
                self.buffer -= paid * price;
                self.shares -= paid;
                front.1 -= paid;
                if front.1 <= tiny {
                    self.worst_wait_cycles = self.worst_wait_cycles.max(cycle - front.0 + 1);
                    self.queue.pop_front();
                } else {
                    break;
                }
            }
            self.queued_shares = self.queued();
            if v.shares0 > A::ZERO {
                self.max_queue_fraction = self
                    .max_queue_fraction
                    .max_of(self.queued_shares / v.shares0);
            }
            if let Some(front) = self.queue.front() {
                // Still unpaid after this cycle's end: it waits at least one more cycle.
                self.worst_wait_cycles = self.worst_wait_cycles.max(cycle - front.0 + 2);
            }
        }
        let (nav_s, nav_u) = (self.buffer + ms, self.buffer + mu);
        if self.shares > tiny {
            self.last_nav_per_share = (nav_s / self.shares, nav_u / self.shares);
        }
        VaultMonth {
            nav_staking: nav_s,
            nav_unstaking: nav_u,
            nav_per_share_staking: self.last_nav_per_share.0,
            nav_per_share_unstaking: self.last_nav_per_share.1,
            buffer: self.buffer,
            shares: self.shares,
            queued_shares: self.queued_shares,
            redeemed_shares: shares_before - self.shares,
            redeemed_usd: buffer_before - self.buffer,
            fees,
        }
    }

    /// Shares waiting in the queue.
    pub fn queued(&self) -> A {
        let mut q = A::ZERO;
        for r in &self.queue {
            q += r.1;
        }
        q
    }

    /// Most cycles any request waited, counting a request still queued after the last cycle
    /// as having waited one more than the cycles elapsed.
    pub fn worst_wait_at_end(&self) -> u32 {
        let last = self.next_cycle as u32;
        match self.queue.front() {
            Some(front) => self.worst_wait_cycles.max(last - front.0 + 2),
            None => self.worst_wait_cycles,
        }
    }
}

impl VaultState<f64> {
    /// [`VaultState::step`] of `W` paths at once, path `l`'s vault `vs[l]` after the month of
    /// lane `l` of a group stepped in lanes (`s`, `out`: [`CashflowPlan::step_lanes`]); each
    /// path's month, as `step` gives it bit for bit.
    ///
    /// The monthly walk over the held deals and pools (steps 1–2) runs once for all lanes,
    /// each lane adding its own values in the same order by the same operations: the sums
    /// start from the same values, take the same additions, and the marks of an ended deal
    /// (added by `add_deal_marks` only where it is not done, or has a recovery to come) are
    /// kept by a select instead of a branch. The rest of the month (fees, withdrawal cycles,
    /// NAV) runs lane by lane.
    pub fn step_lanes<const W: usize>(
        vs: &mut [&mut VaultState<f64>; W],
        v: &VaultParams<f64>,
        k: u32,
        s: &CashflowLanes<W>,
        out: &OutputLanes<W>,
    ) -> [VaultMonth<f64>; W] {
        let mut buffer: [f64; W] = std::array::from_fn(|l| vs[l].buffer);
        for b in &mut buffer {
            *b += b.pos() * v.tbill_monthly;
        }
        let mut income = [0.0; W];
        let mut marks = ([0.0; W], [0.0; W]);
        for r in &v.deal_runs {
            for d in r.clone() {
                let (ip, pp) = out.deals[d].proceeds();
                for l in 0..W {
                    // `total_received()`: interest proceeds + principal proceeds.
                    buffer[l] += ip[l] + pp[l];
                    income[l] += ip[l];
                }
                add_deal_marks_lanes(&mut marks, vs, d, s, out);
            }
        }
        let mut last: Option<(usize, MarkLanes<W>)> = None;
        for (&(q, t, frac), runs) in v.holdings.iter().zip(&v.holding_runs) {
            let fl = &out.tranches[q][t];
            let (received, interest) = (fl.received_lanes(), fl.interests());
            for l in 0..W {
                buffer[l] += frac * received[l];
                income[l] += frac * interest[l];
            }
            let value = match last {
                Some((lq, value)) if lq == q => value,
                _ => {
                    let mut value = ([0.0; W], [0.0; W]);
                    for r in runs {
                        for d in r.clone() {
                            add_deal_marks_lanes(&mut value, vs, d, s, out);
                        }
                    }
                    last = Some((q, value));
                    value
                }
            };
            let pool = &s.pools[q];
            for l in 0..W {
                let (xs, xu) = tranche_marks_by(
                    pool.len(),
                    |j| pool.balance(j, l),
                    (value.0[l], value.1[l]),
                    t,
                );
                marks.0[l] += frac * xs;
                marks.1[l] += frac * xu;
            }
        }
        std::array::from_fn(|l| {
            vs[l].buffer = buffer[l];
            vs[l].after_receipts(v, k, income[l], (marks.0[l], marks.1[l]))
        })
    }
}

/// Marks (staking, unstaking) of `W` paths, USD.
type MarkLanes<const W: usize> = ([f64; W], [f64; W]);

/// [`add_deal_marks`] of deal `d` on every lane of a group (path `l`'s vault `vs[l]`): a
/// deal not done adds its balance to both sums (a select keeps the sums elsewhere: the same
/// bits as not adding); one done with a recovery to come (rare) takes `add_deal_marks`'s
/// path on its lane.
#[inline(always)]
fn add_deal_marks_lanes<const W: usize>(
    sums: &mut MarkLanes<W>,
    vs: &mut [&mut VaultState<f64>; W],
    d: usize,
    s: &CashflowLanes<W>,
    out: &OutputLanes<W>,
) {
    let st = &s.deals[d];
    // A done lane adds +0.0, which leaves its sum as it is bit for bit: the sums start at +0
    // and a sum of f64 starting at +0 is never −0 (see `add_deal_marks`).
    let open = st.open_balances();
    for l in 0..W {
        sums.0[l] += open[l];
        sums.1[l] += open[l];
    }
    if st.any_done_pending() {
        let done = st.done_lanes();
        for l in 0..W {
            if let (true, (_, _, _, Some(rec))) = (done[l], st.lane_mark(l)) {
                sums.0[l] += recovery_ead(&mut vs[l].deal_ead, d, || out.deals[d].lane(l));
                sums.1[l] += rec;
            }
        }
    }
}

/// Adds the marks of deal `d` (state `st`) after the month to `sums` (staking, unstaking),
/// USD; see [`recovery_ead`] for `deal_ead` and `flows`.
///
/// A deal ended with nothing more to come is marked 0, which is not added: the sums start at
/// +0 and a sum of f64 starting at +0 is never −0, so adding +0 would leave it unchanged bit
/// for bit (and adding a zero Decimal returns the other operand as it is). Such deals are
/// about half of a pool's deal-months on the sample.
#[inline(always)]
fn add_deal_marks<A: Amount, I: VaultMonthInput<A>>(
    sums: &mut (A, A),
    deal_ead: &mut [A],
    d: usize,
    st: &DealMark<A>,
    inp: &I,
) {
    if !st.done {
        sums.0 += st.balance;
        sums.1 += st.balance;
    } else if let Some(rec) = st.pending_recovery {
        sums.0 += recovery_ead(deal_ead, d, || inp.deal_flows(d));
        sums.1 += rec;
    }
}

/// EAD of deal `d`, ended with its recovery still to come: recorded in `deal_ead` from this
/// month's flows (read through `inp`) in the month of its default. Every default ends its
/// deal and is the only event that sets a pending recovery, both in the default's month, and
/// the vault walks the deals it marks every month, so it sees each such default.
///
/// Out of line (and cold): recoveries are pending in few deal-months, and keeping the flows out
/// of the walk's loop keeps that loop to the deal states.
#[cold]
#[inline(never)]
fn recovery_ead<A: Amount>(
    deal_ead: &mut [A],
    d: usize,
    flows: impl FnOnce() -> DealFlows<A>,
) -> A {
    let f = flows();
    if f.default_kind.is_some() {
        deal_ead[d] = f.default_ead;
    }
    deal_ead[d]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::load_portfolio;
    use crate::runner::MarketMonth;
    use rust_decimal::Decimal;

    const TOML: &str = r#"
[portfolio]
id = "v"
as_of = "2026-01-01"
[market]
discount_curve = [{ tenor_years = 1.0, rate = 0.04 }]
asset_correlation = 0.2
[[gpu_classes]]
id = "H100"
price0_per_gpu_hour = 2.0
drift = 0.0
kappa = 1.0
sigma = 0.0
useful_life_years = 5.0
residual_floor = 0.1
[[operators]]
id = "o"
hazard = 0.0
[[fleets]]
id = "f"
operator_id = "o"
class_id = "H100"
gpus = 100
utilization0 = 0.8
utilization_mean = 0.8
utilization_kappa = 1.0
utilization_sigma = 0.0
opex_fixed_per_gpu_hour = 0.2
opex_variable_per_gpu_hour = 0.0
purchase_price_per_gpu = 20000
liquidation_haircut = 0.3
[[deals]]
id = "L"
kind = "loan"
fleet_id = "f"
principal = 1000000
rate = 0.12
term_months = 12
amortization = "bullet"
recovery_lag_months = 0
[vault]
id = "sAID"
shares = 1000000
liquidity_buffer = 100000
tbill_rate = 0.0
deal_ids = ["L"]
redemption_requests = 0.5
"#;

    fn setup() -> (CashflowPlan<Decimal>, VaultParams<Decimal>) {
        let p = load_portfolio(TOML, "v.toml", |_| Err("no".into()))
            .unwrap()
            .portfolio;
        let plan = CashflowPlan::<Decimal>::new(crate::Validated::new(&p, &[]).unwrap());
        let v = VaultParams::new(&p, &plan).unwrap();
        (plan, v)
    }

    fn d(x: &str) -> Decimal {
        x.parse().unwrap()
    }

    #[test]
    fn redemption_schedule_overrides_the_fraction_of_its_cycle() {
        let text = TOML.replace(
            "redemption_requests = 0.5",
            "redemption_requests = 0.1\nredemption_schedule = [{ cycle = 2, fraction = 0.9 }]",
        );
        let p = load_portfolio(&text, "v.toml", |_| Err("no".into()))
            .unwrap()
            .portfolio;
        let plan = CashflowPlan::<Decimal>::new(crate::Validated::new(&p, &[]).unwrap());
        let v = VaultParams::new(&p, &plan).unwrap();
        assert_eq!(v.redemption_by_cycle[0], d("0.1"));
        assert_eq!(v.redemption_by_cycle[1], d("0.9"));
        assert_eq!(v.redemption_by_cycle[2], d("0.1"));
    }

    #[test]
    fn index_runs_keep_the_sequence() {
        assert_eq!(
            index_runs(&[0, 1, 3, 4, 5, 2, 9]),
            vec![0..2, 3..6, 2..3, 9..10]
        );
        assert_eq!(index_runs(&[4, 3]), vec![4..5, 3..4]);
        assert!(index_runs(&[]).is_empty());
    }

    #[test]
    fn tranche_marks_allocate_value_down_the_structure() {
        let b = [70.0, 20.0, 10.0];
        assert_eq!(tranche_mark(&b, 100.0, 0), 70.0);
        assert_eq!(tranche_mark(&b, 80.0, 1), 10.0);
        assert_eq!(tranche_mark(&b, 80.0, 2), 0.0);
        assert_eq!(tranche_mark(&b, 95.0, 2), 5.0);
        assert_eq!(tranche_mark(&b, 50.0, 0), 50.0);
        assert_eq!(tranche_marks(&b, (95.0, 80.0), 1), (20.0, 10.0));
    }

    #[test]
    fn cycles_map_to_months_and_horizon_defaults_to_one_cycle() {
        let (_, v) = setup();
        // Cycle ends at days 30, 60, 90, ... in months of 30.4167 days; horizon K = 12 + 0.
        assert_eq!(&v.cycle_end_month[..4], &[1, 2, 3, 4]);
        assert_eq!(v.cycle_end_month.len(), 12);
        assert_eq!(v.horizon_month, 1);
        assert_eq!(v.nav0(&setup().0), d("1100000"));
    }

    #[test]
    fn fifo_queue_waits_for_cash_and_nav_per_share_is_unchanged_by_redemptions() {
        let (plan, v) = setup();
        let mut s = plan.initial_state();
        let mut out = plan.new_output();
        let mut vs = VaultState::new(&v, &plan);
        let ps0 = v.nav0_per_share(&plan);
        let price = [2.0];
        let pot = [1.0];
        let util = [0.8];
        let no = [false];
        let m = MarketMonth {
            price: &price,
            price_over_trend: &pot,
            utilization: &util,
            credit_default: &no,
        };
        plan.step(1, &m, &mut s, &mut out);
        let r = vs.step(&v, 1, &s, &out);
        // Month 1: 500k shares request (half); the buffer (100k + 10k interest) pays 110k at
        // NAV/share 1.11 → ~99,099 shares; the rest waits.
        assert!(
            r.redeemed_shares > d("99000") && r.redeemed_shares < d("99200"),
            "{r:?}"
        );
        assert!(r.buffer.is_zero());
        assert_eq!(vs.queue.len(), 1);
        // Interest accrues to NAV; paying redeemers at NAV leaves NAV/share unchanged.
        assert_eq!(r.nav_per_share_unstaking.round_dp(9), d("1.11"));
        assert!(ps0 < r.nav_per_share_unstaking);
        for k in 2..=12 {
            plan.step(k, &m, &mut s, &mut out);
            vs.step(&v, k, &s, &out);
        }
        // The bullet repays in month 12 and clears the queue; the first request waited 12
        // cycles.
        assert!(vs.worst_wait_at_end() >= 12, "{}", vs.worst_wait_at_end());
        assert!(vs.max_queue_fraction > d("0.4"));
    }
}
