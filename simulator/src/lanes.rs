//! Groups of `W` consecutive paths stepped in lockstep (docs/PERFORMANCE.md, "A lane-native
//! simulator"): each path draws its own market as before, the engine runs the month for all
//! `W` at once in lanes ([`gaib_engine::CashflowPlan::step_lanes`]: four paths per AVX2
//! vector, eight per AVX-512 vector), and each lane is then recorded as its path, in path
//! order, into the same accumulators and statistics as one path at a time. Every value a lane
//! produces is its path's scalar value bit for bit (the engine's lane code is tested path by
//! path), so the statistics are those of [`crate::Worker::run_path`] over the same paths.
//!
//! The vault runs lane by lane (each path's own [`gaib_engine::VaultState`], reading its lane
//! of the month through [`VaultMonthInput`]).

use crate::accum::DealMonthAcc;
use crate::model::{record_month, record_vault, DealMonthView, MonthView, Worker};
use crate::plan::SimPlan;
use crate::rng::PathRng;
use crate::rows::PathRows;
use crate::stats::PathStats;
use gaib_engine::lanes::runner::{CashflowLanes, OutputLanes};
use gaib_engine::{DealFlows, DealMark, MarketMonth, TrancheFlow, VaultMonthInput};

/// One lane of a group's month, read as one path's ([`MonthView`]).
struct LaneMonth<'a, const W: usize> {
    out: &'a OutputLanes<W>,
    state: &'a CashflowLanes<W>,
    lane: usize,
}

impl<const W: usize> MonthView for LaneMonth<'_, W> {
    #[inline(always)]
    fn idle(&self, d: usize) -> bool {
        self.out.idle(d, self.lane)
    }
    #[inline(always)]
    fn deal(&self, d: usize) -> DealMonthView {
        let (interest_proceeds, principal_proceeds, defaulted) =
            self.out.deals[d].lane_proceeds(self.lane);
        let (done, balance, dsra, _) = self.state.deals[d].lane_mark(self.lane);
        DealMonthView {
            interest_proceeds,
            principal_proceeds,
            defaulted,
            loss: self.out.loss(d, self.lane),
            done,
            balance,
            dsra,
        }
    }
    #[inline(always)]
    fn hardware_value(&self, f: usize) -> f64 {
        self.out.fleets[f].lane(self.lane).hardware_value
    }
    #[inline(always)]
    fn derivative(&self, i: usize) -> f64 {
        self.out.derivative(i, self.lane)
    }
    #[inline(always)]
    fn senior_interest_default(&self, q: usize) -> bool {
        self.out.pool_months[q]
            .lane(self.lane)
            .senior_interest_default
    }
    #[inline(always)]
    fn tranche(&self, q: usize, t: usize) -> (f64, f64, f64) {
        let fl = self.out.tranches[q][t].lane(self.lane);
        (fl.received(), fl.writedown, fl.principal)
    }
}

impl<const W: usize> VaultMonthInput<f64> for LaneMonth<'_, W> {
    #[inline(always)]
    fn deal_mark(&self, d: usize) -> DealMark<f64> {
        let (done, balance, _, pending_recovery) = self.state.deals[d].lane_mark(self.lane);
        DealMark {
            done,
            balance,
            pending_recovery,
        }
    }
    #[inline(always)]
    fn deal_flows(&self, d: usize) -> DealFlows<f64> {
        self.out.deals[d].lane(self.lane)
    }
    #[inline(always)]
    fn tranche_flow(&self, q: usize, t: usize) -> TrancheFlow<f64> {
        self.out.tranches[q][t].lane(self.lane)
    }
    #[inline(always)]
    fn n_tranches(&self, q: usize) -> usize {
        self.state.pools[q].len()
    }
    #[inline(always)]
    fn tranche_balance(&self, q: usize, j: usize) -> f64 {
        self.state.pools[q].balance(j, self.lane)
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
}

impl<'p, const W: usize> GroupWorker<'p, W> {
    /// Scratch space for `plan`.
    fn new(plan: &'p SimPlan) -> Self {
        GroupWorker {
            plan,
            paths: (0..W).map(|_| Worker::for_lane(plan)).collect(),
            state: plan.flow.initial_lanes(),
            out: plan.flow.new_output_lanes(),
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
            for (lane, w) in self.paths.iter_mut().enumerate() {
                let view = LaneMonth {
                    out: &self.out,
                    state: &self.state,
                    lane,
                };
                record_month(p, &mut w.acc, deal_months, &view, k, stats);
                record_vault(
                    p,
                    &mut w.vault,
                    &mut w.horizon_nav_per_share,
                    k,
                    stats,
                    &view,
                );
            }
        }
        for (i, w) in self.paths.iter_mut().enumerate() {
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
