//! Groups of `W` consecutive paths stepped in lockstep (docs/PERFORMANCE.md, "A lane-native
//! simulator"): each path draws its own market as before, the engine runs the month for all
//! `W` at once in lanes ([`gaib_engine::CashflowPlan::step_lanes`]: four paths per AVX2
//! vector, eight per AVX-512 vector), and the month is recorded for all `W` lanes at once
//! into the same accumulators and statistics as one path at a time: each deal, tranche and
//! derivative walked once per group, each lane's values its path's, and each statistic an
//! exact integer sum (or a running min/max of positive values) that receives the same values
//! whatever their order. Every value a lane produces is its path's scalar value bit for bit
//! (the engine's lane code is tested path by path), so the statistics are those of
//! [`crate::Worker::run_path`] over the same paths.
//!
//! The vault's monthly walk runs once per group too ([`gaib_engine::VaultState::step_lanes`]),
//! each path keeping its own [`gaib_engine::VaultState`].

use crate::accum::DealMonthAcc;
use crate::model::{record_vault_month, Worker, LOSS_EPS};
use crate::plan::SimPlan;
use crate::rng::PathRng;
use crate::rows::PathRows;
use crate::stats::{PathStats, MAX_COLLATERAL_RATIO};
use gaib_engine::lanes::runner::{CashflowLanes, OutputLanes};
use gaib_engine::{MarketMonth, VaultState};

/// The per-path sums and events of a group's `W` paths, in lanes: what each path's
/// [`crate::model::PathAcc`] holds (deal, tranche and derivative PVs and sums, USD; first
/// default months, 0 = none; events), copied into it at the paths' end
/// ([`LanesAcc::copy_into`]).
#[derive(Debug)]
struct LanesAcc<const W: usize> {
    deal_pv: Vec<[f64; W]>,
    deal_loss: Vec<[f64; W]>,
    deal_default_month: Vec<[u32; W]>,
    tr_pv: Vec<Vec<[f64; W]>>,
    tr_received: Vec<Vec<[f64; W]>>,
    tr_writedown: Vec<Vec<[f64; W]>>,
    tr_default_month: Vec<Vec<[u32; W]>>,
    senior_interest_default: Vec<[bool; W]>,
    der_pv: Vec<[f64; W]>,
    der_paid: Vec<[bool; W]>,
}

impl<const W: usize> LanesAcc<W> {
    /// Accumulators shaped for `plan` (reset before use).
    fn new(plan: &SimPlan) -> Self {
        let tr = |_| -> Vec<Vec<[f64; W]>> {
            plan.tranche_notional
                .iter()
                .map(|q| vec![[0.0; W]; q.len()])
                .collect()
        };
        LanesAcc {
            deal_pv: vec![[0.0; W]; plan.n_deals()],
            deal_loss: vec![[0.0; W]; plan.n_deals()],
            deal_default_month: vec![[0; W]; plan.n_deals()],
            tr_pv: tr(()),
            tr_received: tr(()),
            tr_writedown: tr(()),
            tr_default_month: plan
                .tranche_notional
                .iter()
                .map(|q| vec![[0; W]; q.len()])
                .collect(),
            senior_interest_default: vec![[false; W]; plan.tranche_notional.len()],
            der_pv: vec![[0.0; W]; plan.n_derivatives()],
            der_paid: vec![[false; W]; plan.n_derivatives()],
        }
    }

    /// Back to fresh paths (as `PathAcc::reset`: +0.0 sums, no default, no event).
    fn reset(&mut self) {
        self.deal_pv.fill([0.0; W]);
        self.deal_loss.fill([0.0; W]);
        self.deal_default_month.fill([0; W]);
        for v in self
            .tr_pv
            .iter_mut()
            .chain(self.tr_received.iter_mut())
            .chain(self.tr_writedown.iter_mut())
        {
            v.fill([0.0; W]);
        }
        for v in &mut self.tr_default_month {
            v.fill([0; W]);
        }
        self.senior_interest_default.fill([false; W]);
        self.der_pv.fill([0.0; W]);
        self.der_paid.fill([false; W]);
    }

    /// Writes lane `l`'s sums and events into its path's accumulators.
    fn copy_into(&self, l: usize, w: &mut Worker<'_>) {
        let a = &mut w.acc;
        let lane = |src: &[[f64; W]], dst: &mut [f64]| {
            for (d, s) in dst.iter_mut().zip(src) {
                *d = s[l];
            }
        };
        lane(&self.deal_pv, &mut a.deal_pv);
        lane(&self.deal_loss, &mut a.deal_loss);
        lane(&self.der_pv, &mut a.der_pv);
        for q in 0..self.tr_pv.len() {
            lane(&self.tr_pv[q], &mut a.tr_pv[q]);
            lane(&self.tr_received[q], &mut a.tr_received[q]);
            lane(&self.tr_writedown[q], &mut a.tr_writedown[q]);
            for (d, s) in a.tr_default_month[q]
                .iter_mut()
                .zip(&self.tr_default_month[q])
            {
                *d = s[l];
            }
            a.senior_interest_default[q] = self.senior_interest_default[q][l];
        }
        for (d, s) in a
            .deal_default_month
            .iter_mut()
            .zip(&self.deal_default_month)
        {
            *d = s[l];
        }
        for (d, s) in a.der_paid.iter_mut().zip(&self.der_paid) {
            *d = s[l];
        }
    }
}

/// Records the deals of month `k` of a group's `W` paths (the engine's lanes `out` and
/// `state`) into their accumulators `acc` and the flat per-(deal, month) accumulators
/// `deal_months`: `record_month`'s deal loop for every lane at once, each deal walked once.
///
/// Each lane's values are its path's, computed by the same operations (the proceeds' sums,
/// cf, cf·DF, cf/notional, the ratio), and each lane's accumulators receive what that path's
/// `record_month` gives them:
/// - A deal idle on every lane is skipped, as each path skips it. Otherwise every lane runs
///   the loop body with its own idle flag as a mask: an idle lane's PV, loss and default
///   month are kept as they are and it records no cash flow and no ratio (as skipped).
/// - PV and loss: the same addition where the path adds, else the value kept (a select, not
///   an addition of 0, so no bit depends on the signs of zeros).
/// - The cell's sums and ratio statistics are integer sums and counts, and running min/max of
///   positive ratios (see [`ExactSum::add_lanes`](crate::stats::ExactSum::add_lanes) and
///   `DealMonthCell::add_ratio_lanes`): the lanes' contributions added at once equal the
///   paths' added one by one. A lane that records no cash flow passes 0.0, which adds 0.
fn record_deals_lanes<const W: usize>(
    p: &SimPlan,
    consts: &crate::model::PathAcc,
    acc: &mut LanesAcc<W>,
    deal_months: &mut DealMonthAcc,
    out: &OutputLanes<W>,
    state: &CashflowLanes<W>,
    k: u32,
) {
    let ki = (k - 1) as usize;
    let k_max = p.months as usize;
    let nd = p.n_deals();
    let (inv_notional, keep, deal_fleet) = (
        &consts.deal_inv_notional[..nd],
        &consts.deal_keep[..nd],
        &p.flow.deal_fleet[..nd],
    );
    let (pv, loss, dm) = (
        &mut acc.deal_pv[..nd],
        &mut acc.deal_loss[..nd],
        &mut acc.deal_default_month[..nd],
    );
    let (cells, counts) = deal_months.month_mut(ki);
    let (cells, counts) = (&mut cells[..nd], &mut counts[..nd]);
    debug_assert!(ki < k_max);
    let df = p.deal_df.get(ki..).unwrap_or_default();
    let (flows, deals) = (&out.deals[..nd], &state.deals[..nd]);
    for d in 0..nd {
        let idle = out.idle_lanes(d);
        if idle.iter().all(|&i| i) {
            continue;
        }
        let (interest, principal) = flows[d].proceeds();
        let defaulted = flows[d].defaulted_lanes();
        let month_loss = out.losses_of(d);
        let st = &deals[d];
        let (balance, dsra) = (st.balances(), st.dsras());
        let (idle_m, done_m) = (out.idle_mask(d), st.done_mask());
        let hardware = out.fleets[deal_fleet[d]].hardware_values();
        let (inv, keep, df) = (inv_notional[d], keep[d], df[d * k_max]);
        let (pv, loss, dm) = (&mut pv[d], &mut loss[d], &mut dm[d]);
        let mut cash = [0.0; W];
        let mut paid = [0.0; W];
        let mut ratio = [0.0; W];
        let mut kept_m = [0u64; W];
        // The f64 values by masks (all bits set for yes), so that the loop is vector code:
        // `select` keeps a value's bits or the other's, `masked` a value or +0.0. The inputs
        // and the sums are copied into locals first, which the compiler knows are apart.
        let (idle_m, done_m, balance, dsra) = (*idle_m, *done_m, *balance, *dsra);
        let (hardware, month_loss) = (*hardware, *month_loss);
        let (mut pv_l, mut loss_l) = (*pv, *loss);
        for l in 0..W {
            let cf = interest[l] + principal[l];
            let rec = !idle_m[l] & mask(cf != 0.0);
            pv_l[l] = select(rec, pv_l[l] + cf * df, pv_l[l]);
            cash[l] = masked(rec, cf * inv);
            paid[l] = masked(rec, principal[l] * inv);
            loss_l[l] = select(idle_m[l], loss_l[l], loss_l[l] + month_loss[l]);
            let coll = hardware[l] * keep + dsra[l];
            // `f64::min` as one `vminpd`: NaN (0/0) and ratios at or above the cap give the
            // cap, as `min` does.
            let r = coll / balance[l];
            ratio[l] = if r < MAX_COLLATERAL_RATIO {
                r
            } else {
                MAX_COLLATERAL_RATIO
            };
            kept_m[l] = !idle_m[l] & !done_m[l] & mask(balance[l] > 1e-9);
        }
        (*pv, *loss) = (pv_l, loss_l);
        let kept: [bool; W] = std::array::from_fn(|l| kept_m[l] != 0);
        for l in 0..W {
            if (idle_m[l] == 0) & defaulted[l] & (dm[l] == 0) {
                dm[l] = k;
            }
        }
        let cell = &mut cells[d];
        cell.cash_flow.add_lanes(&cash);
        cell.principal.add_lanes(&paid);
        cell.add_ratio_lanes(&mut counts[d], &ratio, &kept);
    }
}

/// All bits set for `true`, none for `false`.
#[inline(always)]
fn mask(b: bool) -> u64 {
    0u64.wrapping_sub(u64::from(b))
}

/// `a` where mask `m` is set, else `b`: the bits of one or the other.
#[inline(always)]
fn select(m: u64, a: f64, b: f64) -> f64 {
    f64::from_bits((a.to_bits() & m) | (b.to_bits() & !m))
}

/// `a` where mask `m` is set, else +0.0.
#[inline(always)]
fn masked(m: u64, a: f64) -> f64 {
    f64::from_bits(a.to_bits() & m)
}

/// Records the derivatives and tranches of month `k` of a group's `W` paths (the engine's
/// lanes `out`) into their accumulators `acc` and `stats`: `record_month`'s derivative and
/// tranche loops for every lane at once. As in [`record_deals_lanes`], each lane runs the
/// path's operations on its own values, its sums and events updated by selects where the
/// path updates them, and each statistic (an exact integer sum) receives the lanes'
/// contributions at once, 0.0 from a lane that records nothing.
fn record_instruments_lanes<const W: usize>(
    p: &SimPlan,
    acc: &mut LanesAcc<W>,
    out: &OutputLanes<W>,
    k: u32,
    stats: &mut PathStats,
) {
    let ki = (k - 1) as usize;
    let k_max = p.months as usize;
    let dv = &p.derivatives;
    for i in 0..p.n_derivatives() {
        let c = *out.derivatives_of(i);
        // No settlement on any lane (outside the strip, a forward before its end month, an
        // option out of the money): every lane's path records nothing (a zero settlement,
        // ±0, is not recorded; the statistic would add 0).
        if c.iter().fold(true, |a, &x| a & (x == 0.0)) {
            continue;
        }
        let (pv, paid) = (&mut acc.der_pv[i], &mut acc.der_paid[i]);
        let (df, reference) = (dv.df[i * k_max + ki], dv.reference_usd[i]);
        // As in `record_deals_lanes`: locals and masks, so that the loop is vector code.
        let mut settle = [0.0; W];
        let mut pv_l = *pv;
        for l in 0..W {
            let rec = mask(c[l] != 0.0);
            pv_l[l] = select(rec, pv_l[l] + c[l] * df, pv_l[l]);
            settle[l] = masked(rec, c[l] / reference);
        }
        *pv = pv_l;
        for l in 0..W {
            paid[l] |= c[l] > 0.0;
        }
        stats.derivatives[i].settlement[ki].add_lanes(&settle);
    }
    for (q, notionals) in p.tranche_notional.iter().enumerate() {
        let sid = &mut acc.senior_interest_default[q];
        let now = out.pool_months[q].senior_interest_default_lanes();
        for l in 0..W {
            sid[l] |= now[l];
        }
        for (t, &notional) in notionals.iter().enumerate() {
            let fl = &out.tranches[q][t];
            let (cf, writedown, principal) =
                (fl.received_lanes(), *fl.writedowns(), *fl.principals());
            let (wd, dm) = (&mut acc.tr_writedown[q][t], &mut acc.tr_default_month[q][t]);
            let (pv, received) = (&mut acc.tr_pv[q][t], &mut acc.tr_received[q][t]);
            let inv = 1.0 / notional;
            let df = p.tranche_df[q][t][ki];
            let mut cash = [0.0; W];
            let mut paid = [0.0; W];
            // As in `record_deals_lanes`: locals and masks, so that the loop is vector code.
            let (mut wd_l, mut pv_l, mut received_l) = (*wd, *pv, *received);
            for l in 0..W {
                wd_l[l] += writedown[l];
                let rec = mask(cf[l] != 0.0);
                pv_l[l] = select(rec, pv_l[l] + cf[l] * df, pv_l[l]);
                received_l[l] = select(rec, received_l[l] + cf[l], received_l[l]);
                cash[l] = masked(rec, cf[l] * inv);
                paid[l] = masked(rec, principal[l] * inv);
            }
            (*wd, *pv, *received) = (wd_l, pv_l, received_l);
            for l in 0..W {
                if (dm[l] == 0) & ((wd_l[l] > LOSS_EPS * notional) | ((t == 0) & sid[l])) {
                    dm[l] = k;
                }
            }
            let s = &mut stats.tranches[q][t];
            s.cash_flow[ki].add_lanes(&cash);
            s.principal[ki].add_lanes(&paid);
        }
    }
}

/// Scratch space of one thread for groups of `W` paths: each path's own market, default
/// months and accumulators (a [`Worker`] per lane), and the engine's state and output in lanes.
#[derive(Debug)]
pub(crate) struct GroupWorker<'p, const W: usize> {
    plan: &'p SimPlan,
    paths: Vec<Worker<'p>>,
    state: CashflowLanes<W>,
    out: OutputLanes<W>,
    /// The paths' own sums and events, in lanes.
    acc: LanesAcc<W>,
}

impl<'p, const W: usize> GroupWorker<'p, W> {
    /// Scratch space for `plan`.
    fn new(plan: &'p SimPlan) -> Self {
        GroupWorker {
            plan,
            paths: (0..W).map(|_| Worker::for_lane(plan)).collect(),
            state: plan.flow.initial_lanes(),
            out: plan.flow.new_output_lanes(),
            acc: LanesAcc::new(plan),
        }
    }

    /// Paths `first..first + W` under `seed`, recorded into `stats` (the per-(deal, month)
    /// statistics into `deal_months`, as a [`crate::PathBatch`] records them), and each
    /// path's row into `rows` if given.
    #[inline(always)]
    fn run(
        &mut self,
        seed: u64,
        first: u32,
        deal_months: &mut DealMonthAcc,
        stats: &mut PathStats,
        mut rows: Option<&mut PathRows>,
    ) {
        let p = self.plan;
        let rngs: [PathRng; W] = std::array::from_fn(|i| PathRng::new(seed, first + i as u32));
        for (w, rng) in self.paths.iter_mut().zip(&rngs) {
            w.draw_default_months(rng);
            w.market.reset(p);
            w.acc.reset();
            w.reset_vault();
        }
        p.flow.reset_lanes(&mut self.state);
        self.acc.reset();
        for k in 1..=p.months {
            {
                let mut paths = self.paths.iter_mut().zip(&rngs);
                let markets: [MarketMonth<'_>; W] = std::array::from_fn(|_| {
                    let (w, rng) = paths.next().expect("W paths");
                    w.market.month(p, rng, &w.default_month, k)
                });
                // SAFETY: `Groups::new` chose width W on a CPU that runs it, and this runs
                // inside the matching `#[target_feature]` function.
                unsafe {
                    p.flow
                        .step_lanes(k, &markets, &mut self.state, &mut self.out)
                };
            }
            record_deals_lanes(
                p,
                &self.paths[0].acc,
                &mut self.acc,
                deal_months,
                &self.out,
                &self.state,
                k,
            );
            record_instruments_lanes(p, &mut self.acc, &self.out, k, stats);
            if let (Some(v), Some(st)) = (p.vault.as_ref(), stats.vault.as_mut()) {
                let mut paths = self.paths.iter_mut();
                let mut vaults: [(&mut VaultState<f64>, &mut (f64, f64)); W] =
                    std::array::from_fn(|_| {
                        let w = paths.next().expect("W paths");
                        (
                            w.vault.as_mut().expect("a vault per path"),
                            &mut w.horizon_nav_per_share,
                        )
                    });
                let mut states = vaults.each_mut().map(|(vs, _)| &mut **vs);
                let months = VaultState::step_lanes(&mut states, v, k, &self.state, &self.out);
                for ((_, horizon), m) in vaults.iter_mut().zip(&months) {
                    record_vault_month(v, m, horizon, k, st);
                }
            }
        }
        for (i, w) in self.paths.iter_mut().enumerate() {
            self.acc.copy_into(i, w);
            w.record_path(stats);
            if let Some(rows) = rows.as_deref_mut() {
                w.record_row(first + i as u32, rows);
            }
        }
    }
}

/// The lane width this CPU runs best, with its scratch space; `None` where paths run one at a
/// time (a CPU without AVX2, another architecture).
#[derive(Debug)]
pub(crate) enum Groups<'p> {
    /// Eight paths per AVX-512 vector.
    Eight(Box<GroupWorker<'p, 8>>),
    /// Four paths per AVX2 vector.
    Four(Box<GroupWorker<'p, 4>>),
}

impl<'p> Groups<'p> {
    /// Groups for `plan` on this CPU, if lanes apply. The environment variable `GAIB_LANES`
    /// overrides the choice (for benchmarks and diagnosis; results are the same bit for bit
    /// either way): `off` runs paths one at a time, `4` groups of four even where AVX-512
    /// would run eight; unset or anything else chooses by the CPU.
    pub(crate) fn new(plan: &'p SimPlan) -> Option<Self> {
        let choice = std::env::var("GAIB_LANES").unwrap_or_default();
        if choice == "off" {
            return None;
        }
        #[cfg(target_arch = "x86_64")]
        {
            if choice != "4" && gaib_engine::lanes::supported(8) {
                return Some(Groups::Eight(Box::new(GroupWorker::new(plan))));
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                return Some(Groups::Four(Box::new(GroupWorker::new(plan))));
            }
        }
        let _ = plan;
        None
    }

    /// Paths per group.
    pub(crate) fn width(&self) -> u32 {
        match self {
            Groups::Eight(_) => 8,
            Groups::Four(_) => 4,
        }
    }

    /// One group of [`Groups::width`] paths from `first` (see [`GroupWorker::run`]).
    pub(crate) fn run(
        &mut self,
        seed: u64,
        first: u32,
        deal_months: &mut DealMonthAcc,
        stats: &mut PathStats,
        rows: Option<&mut PathRows>,
    ) {
        match self {
            // SAFETY: `Groups::new` chose each variant only on a CPU with its extensions.
            #[cfg(target_arch = "x86_64")]
            Groups::Eight(g) => unsafe { run_avx512(g, seed, first, deal_months, stats, rows) },
            #[cfg(target_arch = "x86_64")]
            Groups::Four(g) => unsafe { run_avx2(g, seed, first, deal_months, stats, rows) },
            #[cfg(not(target_arch = "x86_64"))]
            _ => unreachable!("lanes are chosen on x86-64 only"),
        }
    }
}

/// [`GroupWorker::run`] compiled for AVX2 (the lane operations of width 4 are AVX code).
///
/// # Safety
/// The CPU has AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn run_avx2(
    g: &mut GroupWorker<'_, 4>,
    seed: u64,
    first: u32,
    deal_months: &mut DealMonthAcc,
    stats: &mut PathStats,
    rows: Option<&mut PathRows>,
) {
    g.run(seed, first, deal_months, stats, rows);
}

/// [`GroupWorker::run`] compiled for AVX-512 (the lane operations of width 8).
///
/// # Safety
/// The CPU has AVX-512F, DQ and VL.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,avx512f,avx512dq,avx512vl")]
unsafe fn run_avx512(
    g: &mut GroupWorker<'_, 8>,
    seed: u64,
    first: u32,
    deal_months: &mut DealMonthAcc,
    stats: &mut PathStats,
    rows: Option<&mut PathRows>,
) {
    g.run(seed, first, deal_months, stats, rows);
}
