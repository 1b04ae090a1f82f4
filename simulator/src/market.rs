//! The market of one path (MODEL.md §1, §2, §5), drawn a block of months at a time.
//!
//! Every draw is a pure function of (path, stream, step, call) (the table in [`crate::rng`]),
//! so the months of a block are drawn together before the engine sees the first of them: one
//! [`PhiloxBatch`] of every (class, month pair) and (fleet, month pair) counter (model version
//! 6: months k and k + 1, k odd, share call 0 of step k), Box–Muller as one loop over the
//! batch's arrays (uniform → ln → sqrt, uniform → (sin, cos) 2πu, the two products: the
//! pair's two months' normals), the jump
//! counts and sizes class by class in month order, the recursions' shocks (scale·L·eps of a
//! class, scale·(sqrt(rho)·eps + sqrt(1−rho)·xi) of a fleet) as loops over each entity's months,
//! then the recursions themselves month by month with the entities inner (the classes' OU
//! state and the fleets' utilization factor: one multiply and one or two adds a month, the only
//! serial part, so the entities' chains run side by side), then e^x of the prices and the
//! logistic of the utilizations over arrays. Each value is computed by the same operations on
//! the same operands, in the same order, as a month-by-month draw, so the market is the same
//! bit for bit however the months are blocked (blocks are of an even number of months, so a
//! pair never straddles two).
//!
//! The array loops (Box–Muller, the shocks, e^x, the logistic) are also compiled for AVX2 and
//! for AVX-512, the widest the CPU has used (its [`SimdLevel`], detected once per worker): four
//! or eight f64 lanes per vector instead of SSE2's two, once [`crate::math`]'s functions are
//! inline arithmetic that the compiler can vectorise (AVX-512 DQ also converts i64 to f64 in
//! one instruction, which ln's exponent needs); the same IEEE operations per lane, so the same
//! results.
//!
//! Only what is used is drawn: a fleet's utilization after its last used month
//! ([`gaib_engine::CashflowPlan::utilization_last_month`]: the latest term month of its deals
//! and end month of its revenue floors, from the plan alone) changes no statistic, so the
//! Monte Carlo draws each fleet's lanes up to that month only and leaves later months NaN (any
//! use would show). A trace, [`crate::Worker::market_path`] and [`crate::Worker::run_path_with`]
//! (whose callers see the whole market or engine output) draw every month
//! ([`PathMarket::draw_whole_horizon`]). A fleet's last pair is drawn whole. The sample and
//! bench12 draw 576 and 564 of their 768 entity-months (half as many Philox lanes).
//!
//! A block holds at most [`MAX_BATCH_LANES`] entity-months (at least two months), so the
//! buffers are allocated once per worker, independent of the path count, and stay cache-sized
//! for large portfolios; a portfolio of up to `MAX_BATCH_LANES / (classes + fleets)` months
//! (the sample: 48 months of 4 classes and 12 fleets, 768 entity-months, 384 Philox lanes) is
//! one block.

use crate::math;
use crate::model::logistic_clamped;
use crate::plan::{SimPlan, MAX_JUMPS_PER_MONTH};
use crate::rng::{poisson_inverse_with, uniform, PathRng, PhiloxBatch, SimdLevel};
use gaib_engine::MarketMonth;

/// Calls array kernel `$kernel` (one of the four below) in the build for `$level`, a
/// [`SimdLevel`] at most the running CPU's: `avx512::`, `avx2::` or the portable one.
macro_rules! on_level {
    ($level:expr, $kernel:ident($($arg:expr),* $(,)?)) => {
        match $level {
            #[cfg(target_arch = "x86_64")]
            SimdLevel::Avx512 => {
                // SAFETY: the level is at most the CPU's (`SimdLevel::detect`), so the CPU
                // has AVX-512 F, DQ and VL.
                unsafe { avx512::$kernel($($arg),*) }
            }
            #[cfg(target_arch = "x86_64")]
            SimdLevel::Avx2 => {
                // SAFETY: as above, the CPU has AVX2.
                unsafe { avx2::$kernel($($arg),*) }
            }
            _ => $kernel($($arg),*),
        }
    };
}

/// Most entity-months (twice the Philox calls of call index 0) in one block of months.
pub(crate) const MAX_BATCH_LANES: usize = 2048;

/// A path's market, block by block: the draws, the recursions' state carried from block to
/// block, and each month's prices, utilizations and credit defaults.
///
/// Layouts: a month lane is entity-major, lane = e·B + j for class e and month j of the block
/// (B months per block, B even), then each fleet's drawn months (see [`BlockLanes`]); month
/// lanes 2i and 2i + 1 are the month pair of Philox lane i; the outputs are month-major,
/// `price[j·C + c]`, `util[j·F + f]`, `credit[j·O + o]`, so one month is one slice of each.
#[derive(Debug)]
pub(crate) struct PathMarket {
    /// Months per block, B.
    block: usize,
    /// Classes C, fleets F, operators O.
    counts: [usize; 3],
    /// The build of the array kernels to run (at most the CPU's level).
    level: SimdLevel,
    /// Per fleet: the last month whose utilization is drawn (the horizon, or the fleet's
    /// last used month, [`gaib_engine::CashflowPlan::utilization_last_month`]).
    fleet_last_month: Vec<u32>,
    /// The `whole` of the last [`PathMarket::draw_whole_horizon`] (None before the first).
    whole: Option<bool>,
    /// Per block of the horizon (block i: months iB + 1 ..= iB + B): its draw lanes.
    lanes: Vec<BlockLanes>,
    /// Per month lane: the month's normal, z0 = r·cos 2πu(x1) of its pair's Philox lane for the
    /// pair's first month, z1 = r·sin 2πu(x1) for its second: eps of a class, xi of a fleet.
    normal: Vec<f64>,
    /// Per month lane: the recursion's shock of the lane's entity and month (see
    /// [`shock_lanes`]).
    shock: Vec<f64>,
    /// Per class: e^(−jump rate per step), P[no jump in a month].
    jump_p0: Vec<f64>,
    /// Per class: the jump sum J_c up to the last month drawn (carried across blocks).
    jumps: Vec<f64>,
    /// Per class and month of the block (class-major, like the lanes): J_c(t_k).
    jump_level: Vec<f64>,
    /// Per class: the OU state X_c (carried across blocks).
    x: Vec<f64>,
    /// Per fleet: the utilization factor Y_f (carried across blocks).
    y: Vec<f64>,
    /// Per month and class: P_c(t_k), USD per GPU-hour (ln P before the exp).
    price: Vec<f64>,
    /// Per month and class: P_c(t_k) / P̄_c(t_k).
    price_over_trend: Vec<f64>,
    /// Per month and fleet: u_f(t_k) (Y_f(t_k) before the logistic); NaN after the fleet's
    /// last drawn month.
    util: Vec<f64>,
    /// Per month and operator: whether its credit default falls in the month.
    credit: Vec<bool>,
    /// First month of the block held (0 = none since the last reset).
    first: u32,
    /// Month handed out last (0 = none).
    current: u32,
}

impl PathMarket {
    /// Buffers for `plan`'s classes, fleets and operators: the fewest blocks of at most
    /// [`MAX_BATCH_LANES`] entity-months (at least two months each), equally long, of an even
    /// number of months. Draws each fleet's utilization up to its last used month only (see
    /// [`PathMarket::draw_whole_horizon`]).
    pub(crate) fn new(plan: &SimPlan) -> Self {
        let months = (plan.months as usize).max(1);
        let per_month = (plan.n_classes() + plan.fleets.stream.len()).max(1);
        let blocks = months.div_ceil((MAX_BATCH_LANES / per_month).max(2));
        Self::with_block(plan, months.div_ceil(blocks).next_multiple_of(2))
    }

    /// Buffers for `plan` drawing `block` (even, ≥ 2) months at a time: every block starts at
    /// an odd month, so each month pair (k, k + 1), k odd, of MODEL.md §9 lies in one block.
    fn with_block(plan: &SimPlan, block: usize) -> Self {
        assert!(
            block >= 2 && block.is_multiple_of(2),
            "an even block of months, not {block}"
        );
        let (nc, nf, no) = (
            plan.n_classes(),
            plan.fleets.stream.len(),
            plan.operators.stream.len(),
        );
        let lanes = nc * block + nf * block;
        let mut market = PathMarket {
            block,
            counts: [nc, nf, no],
            level: SimdLevel::detect(),
            fleet_last_month: Vec::new(),
            whole: None,
            lanes: Vec::new(),
            normal: vec![0.0; lanes],
            shock: vec![0.0; lanes],
            jump_p0: plan
                .classes
                .jump_rate_per_step
                .iter()
                .map(|&l| math::exp(-l))
                .collect(),
            jumps: vec![0.0; nc],
            jump_level: vec![0.0; nc * block],
            x: vec![0.0; nc],
            y: plan.fleets.y0.clone(),
            price: vec![0.0; block * nc],
            price_over_trend: vec![0.0; block * nc],
            util: vec![0.0; block * nf],
            credit: vec![false; block * no],
            first: 0,
            current: 0,
        };
        market.draw_whole_horizon(plan, false);
        market
    }

    /// Whether to draw every fleet's utilization in every month (`whole`: what a trace or a
    /// caller reading the engine's whole output needs) or only up to each fleet's last used
    /// month ([`gaib_engine::CashflowPlan::utilization_last_month`]; later months NaN), which
    /// changes no statistic and saves the draws of fleets whose deals have ended. Takes
    /// effect from the next [`PathMarket::reset`]; rebuilds the lanes only on a change.
    pub(crate) fn draw_whole_horizon(&mut self, plan: &SimPlan, whole: bool) {
        // Called before every path: the same choice again costs a comparison.
        if self.whole == Some(whole) {
            return;
        }
        self.whole = Some(whole);
        let nf = self.counts[1];
        let last: Vec<u32> = (0..nf)
            .map(|f| match whole {
                true => plan.months,
                false => plan.flow.utilization_last_month(f).min(plan.months),
            })
            .collect();
        if last == self.fleet_last_month && !self.lanes.is_empty() {
            return;
        }
        let blocks = (plan.months as usize).max(1).div_ceil(self.block);
        self.lanes = (0..blocks)
            .map(|i| BlockLanes::new(plan, self.block, 1 + (i * self.block) as u32, &last))
            .collect();
        self.fleet_last_month = last;
    }

    /// Starts a new path: X = 0, J = 0, Y = Y(0), no month drawn.
    pub(crate) fn reset(&mut self, plan: &SimPlan) {
        self.x.fill(0.0);
        self.jumps.fill(0.0);
        self.y.copy_from_slice(&plan.fleets.y0);
        self.first = 0;
        self.current = 0;
    }

    /// Month `k` of the path of `rng` (operators' default months `default_month`), drawing its
    /// block when `k` is the block's first month. Months must be asked for in order, 1..=K,
    /// after [`PathMarket::reset`].
    ///
    /// Inlined into the caller's month loop (a check and four slices); the block's draw is the
    /// out-of-line [`PathMarket::draw_block`].
    #[inline]
    pub(crate) fn month(
        &mut self,
        plan: &SimPlan,
        rng: &PathRng,
        default_month: &[u32],
        k: u32,
    ) -> MarketMonth<'_> {
        debug_assert_eq!(k, self.current + 1, "months in order after a reset");
        if self.first == 0 || k >= self.first + self.block as u32 {
            self.draw_block(plan, rng, default_month, k);
        }
        self.current = k;
        self.current()
    }

    /// The month handed out last by [`PathMarket::month`] (meaningless before the first).
    ///
    /// Always inlined, so that the four slices go straight to the caller's registers instead
    /// of through a returned struct in memory.
    #[inline(always)]
    pub(crate) fn current(&self) -> MarketMonth<'_> {
        let j = (self.current - self.first) as usize;
        let [nc, nf, no] = self.counts;
        MarketMonth {
            price: &self.price[j * nc..][..nc],
            price_over_trend: &self.price_over_trend[j * nc..][..nc],
            utilization: &self.util[j * nf..][..nf],
            credit_default: &self.credit[j * no..][..no],
        }
    }

    /// Draws months `k0..k0 + B` (at most to the horizon) into the block's buffers.
    #[inline(never)]
    fn draw_block(&mut self, plan: &SimPlan, rng: &PathRng, default_month: &[u32], k0: u32) {
        let months = self.block.min((plan.months - k0 + 1) as usize);
        self.first = k0;
        let bi = (k0 - 1) as usize / self.block;
        // Every lane's words; the classes' lanes past the horizon (the last block's) are
        // drawn, never used.
        self.lanes[bi].draws.run(rng, k0, 0);
        self.box_muller(bi);
        self.draw_jumps(plan, rng, bi, k0, months);
        self.shocks(plan, bi, months);
        self.classes(plan, k0, months);
        self.fleets(plan, bi, months);
        self.credit_defaults(default_month, k0, months);
    }

    /// `credit[j·O + o]`: whether operator o's default month `default_month[o]` is month
    /// k0 + j of the block (j < `months`).
    fn credit_defaults(&mut self, default_month: &[u32], k0: u32, months: usize) {
        let no = self.counts[2];
        self.credit[..months * no].fill(false);
        for (o, &m) in default_month.iter().take(no).enumerate() {
            if let Some(j) = m.checked_sub(k0).filter(|&j| (j as usize) < months) {
                self.credit[j as usize * no + o] = true;
            }
        }
    }

    /// Both Box–Muller normals of every Philox lane of block `bi`, one per month of its pair
    /// (see [`box_muller_lanes`]).
    fn box_muller(&mut self, bi: usize) {
        let draws = &self.lanes[bi].draws;
        let (x0, x1) = (draws.word(0), draws.word(1));
        let z = &mut self.normal[..2 * draws.len()];
        on_level!(self.level, box_muller_lanes(x0, x1, z));
    }

    /// The recursions' shocks of block `bi`'s months (see [`shock_lanes`]).
    fn shocks(&mut self, plan: &SimPlan, bi: usize, months: usize) {
        let (normal, shock) = (&self.normal[..], &mut self.shock[..]);
        let fleets = &self.lanes[bi].fleets;
        on_level!(
            self.level,
            shock_lanes(plan, self.block, months, fleets, normal, shock)
        );
    }

    /// Jump sums J_c(t_k) of block `bi`'s months: per class and month, N by inverse Poisson
    /// from u(x2) (the pair's first month) or u(x3) (its second) of the month pair's call 0,
    /// and the N sizes from calls 1 + j/4 of the month's own step (the draw order of MODEL.md
    /// §9), added to the running sum in jump order.
    fn draw_jumps(&mut self, plan: &SimPlan, rng: &PathRng, bi: usize, k0: u32, months: usize) {
        let cl = &plan.classes;
        let nc = self.jumps.len();
        let b = self.block;
        let draws = &self.lanes[bi].draws;
        let (x2, x3) = (draws.word(2), draws.word(3));
        let pairs = b / 2;
        for c in 0..nc {
            let (lam, p0, stream) = (cl.jump_rate_per_step[c], self.jump_p0[c], cl.stream[c]);
            let (mean, std) = (cl.jump_mean[c], cl.jump_std[c]);
            let level = &mut self.jump_level[c * b..][..months];
            let mut jumps = self.jumps[c];
            if lam > 0.0 {
                let (x2, x3) = (&x2[c * pairs..][..pairs], &x3[c * pairs..][..pairs]);
                for (j, level) in level.iter_mut().enumerate() {
                    let w = if j % 2 == 0 { x2[j / 2] } else { x3[j / 2] };
                    let n = poisson_inverse_with(lam, p0, uniform(w), MAX_JUMPS_PER_MONTH);
                    if n > 0 {
                        let k = k0 + j as u32;
                        jumps = add_jump_sizes(rng, stream, k, n, [mean, std], jumps);
                    }
                    *level = jumps;
                }
            } else {
                level.fill(jumps);
            }
            self.jumps[c] = jumps;
        }
    }

    /// The classes' months, all classes of a month together: X ← decay·X + shock (the shock
    /// scale·Z of [`shock_lanes`]), ln P = (ln P̄ + S) + (X + J) into the month-major block,
    /// then P = e^(ln P) and P/P̄ = P·(1/P̄) over the block.
    ///
    /// Month by month with the classes inner, so the classes' serial chains (a multiply and
    /// an add a month) run side by side instead of one after the other; each class's
    /// operations are those of its own chain, in month order, so the same bits.
    fn classes(&mut self, plan: &SimPlan, k0: u32, months: usize) {
        let nc = self.x.len();
        let b = self.block;
        let first = (k0 - 1) as usize * nc;
        let lts = &plan.log_trend_shock[first..][..months * nc];
        let inv_trend = &plan.inv_trend[first..][..months * nc];
        let ln_price = &mut self.price[..months * nc];
        let (x, decay) = (&mut self.x[..nc], &plan.classes.ou_decay[..nc]);
        let (shock, level) = (&self.shock[..nc * b], &self.jump_level[..nc * b]);
        let rows = ln_price.chunks_exact_mut(nc).zip(lts.chunks_exact(nc));
        for (j, (out, lts)) in rows.enumerate() {
            for c in 0..nc {
                let xc = x[c] * decay[c] + shock[c * b + j];
                x[c] = xc;
                out[c] = lts[c] + (xc + level[c * b + j]);
            }
        }
        on_level!(self.level, exp_lanes(ln_price));
        let pot = &mut self.price_over_trend[..months * nc];
        for ((q, &p), &inv) in pot.iter_mut().zip(ln_price.iter()).zip(inv_trend) {
            *q = p * inv;
        }
    }

    /// The fleets' months, all fleets of a month together: Y ← decay·Y + pull + shock (the
    /// shock scale·(sqrt(rho)·eps_class + sqrt(1−rho)·xi) of [`shock_lanes`]) into the
    /// month-major block, NaN after a fleet's last drawn month, then u = logistic(Y) clamped
    /// over the block's months up to the last any fleet draws (NaN stays NaN).
    ///
    /// Month by month with the fleets inner, like [`PathMarket::classes`]: the fleets' chains
    /// (a multiply and two adds a month) side by side, each in its own order, so the same bits.
    fn fleets(&mut self, plan: &SimPlan, bi: usize, months: usize) {
        let nf = self.y.len();
        let fl = &plan.fleets;
        let (y, decay, pull) = (&mut self.y[..nf], &fl.decay[..nf], &fl.pull[..nf]);
        let FleetLanes {
            start,
            months: drawn,
        } = &self.lanes[bi].fleets;
        let (start, drawn) = (&start[..nf], &drawn[..nf]);
        let util = &mut self.util[..months * nf];
        for (j, row) in util.chunks_exact_mut(nf).enumerate() {
            for f in 0..nf {
                row[f] = if j < drawn[f] {
                    let yf = y[f] * decay[f] + pull[f] + self.shock[start[f] + j];
                    y[f] = yf;
                    yf
                } else {
                    f64::NAN
                };
            }
        }
        // Months after every fleet's last drawn month are NaN already (the logistic keeps NaN).
        let live = drawn.iter().copied().max().unwrap_or(0).min(months);
        let util = &mut util[..live * nf];
        on_level!(self.level, logistic_lanes(util));
    }
}

/// The draw lanes of one block of months: the classes' B months each (month lane c·B + j),
/// then each fleet's months up to its last drawn month, whole pairs: Philox lane i draws month
/// lanes 2i and 2i + 1.
#[derive(Debug)]
struct BlockLanes {
    /// Philox counters (entity's stream, month offset j) and words of the block's lanes.
    draws: PhiloxBatch,
    /// Where the fleets' lanes are.
    fleets: FleetLanes,
}

/// Where each fleet's month lanes of a block are: months 0..`months[f]` of the block at month
/// lanes `start[f]`.. (after the classes' C·B lanes; `start[f]` even).
#[derive(Debug)]
struct FleetLanes {
    /// Per fleet: its first month lane.
    start: Vec<usize>,
    /// Per fleet: how many months of the block are drawn, from the block's first.
    months: Vec<usize>,
}

impl BlockLanes {
    /// The lanes of the block of `b` (even) months from month `k0` (odd) of `plan`, fleet f
    /// drawn up to month `last[f]` (to the end of its pair).
    fn new(plan: &SimPlan, b: usize, k0: u32, last: &[u32]) -> Self {
        let months: Vec<usize> = last
            .iter()
            .map(|&l| ((l + 1).saturating_sub(k0) as usize).min(b))
            .collect();
        let mut stream = Vec::new();
        let mut month_offset = Vec::new();
        // Each Philox lane: an entity's month pair, counter step k0 + its first month.
        let mut pairs_of = |s: u32, n: usize| {
            let pairs = n.div_ceil(2);
            stream.extend(std::iter::repeat_n(s, pairs));
            month_offset.extend((0..2 * pairs as u32).step_by(2));
        };
        for &s in &plan.classes.stream {
            pairs_of(s, b);
        }
        let mut start = Vec::with_capacity(last.len());
        let mut next = plan.classes.stream.len() * b;
        for (&s, &n) in plan.fleets.stream.iter().zip(&months) {
            start.push(next);
            next += 2 * n.div_ceil(2);
            pairs_of(s, n);
        }
        BlockLanes {
            draws: PhiloxBatch::new(stream, month_offset),
            fleets: FleetLanes { start, months },
        }
    }
}

/// `jumps` plus the `n` (≥ 1) jump sizes `mean + std·z` of class stream `stream` at month `k`,
/// in jump order: jump i uses normal z_(i mod 4) of call 1 + i/4 (MODEL.md §9).
///
/// Out of line: most months have no jump, and the month loop of [`PathMarket::draw_jumps`]
/// then keeps its few values in registers.
#[inline(never)]
fn add_jump_sizes(
    rng: &PathRng,
    stream: u32,
    k: u32,
    n: u32,
    [mean, std]: [f64; 2],
    jumps: f64,
) -> f64 {
    let mut jumps = jumps;
    let mut normals = [0.0; 4];
    for i in 0..n {
        if i % 4 == 0 {
            normals = rng.normals4(stream, k, 1 + i / 4);
        }
        jumps += mean + std * normals[(i % 4) as usize];
    }
    jumps
}

/// The recursions' shocks of months 0..`months` of a block of `b` months, lane by lane like
/// the draws (class c's month j at lane c·B + j, fleet f's at `fleets.start[f]` + j for its
/// `fleets.months[f]` drawn months), from the normals `normal`: for class c, scale_c·Z_c with
/// Z_c = Σ_{i ≤ c} L_ci·eps_i (Z = eps when L is the identity); for fleet f,
/// scale_f·(sqrt(rho_f)·eps_class(f) + sqrt(1−rho_f)·xi_f). One entity's months are
/// contiguous, so each is a loop over an array (vector lanes), and the serial recursions are
/// left with one multiply and two adds a month.
///
/// Z_c is summed in i order, as `Iterator::sum` does from its neutral element −0.0; the first
/// term is stored rather than added to −0.0, which is exact (−0.0 + p = p for every p).
#[inline(always)]
fn shock_lanes(
    plan: &SimPlan,
    b: usize,
    months: usize,
    fleets: &FleetLanes,
    normal: &[f64],
    shock: &mut [f64],
) {
    let (cl, fl) = (&plan.classes, &plan.fleets);
    let nc = cl.ou_scale.len();
    for (c, &scale) in cl.ou_scale.iter().enumerate() {
        let z = &mut shock[c * b..][..months];
        if plan.chol_identity {
            for (z, &eps) in z.iter_mut().zip(&normal[c * b..][..months]) {
                *z = scale * eps;
            }
            continue;
        }
        let row = &plan.chol[c * nc..][..=c];
        for (i, &l) in row.iter().enumerate() {
            let eps = &normal[i * b..][..months];
            if i == 0 {
                for (z, &eps) in z.iter_mut().zip(eps) {
                    *z = l * eps;
                }
            } else {
                for (z, &eps) in z.iter_mut().zip(eps) {
                    *z += l * eps;
                }
            }
        }
        for z in z.iter_mut() {
            *z *= scale; // Z·scale: IEEE products commute exactly
        }
    }
    for (f, &class) in fl.class.iter().enumerate() {
        let (lp, lo, scale) = (fl.load_price[f], fl.load_own[f], fl.scale[f]);
        let (start, n) = (fleets.start[f], fleets.months[f].min(months));
        let eps = &normal[class * b..][..n];
        let xi = &normal[start..][..n];
        let out = &mut shock[start..][..n];
        for ((s, &e), &xi) in out.iter_mut().zip(eps).zip(xi) {
            *s = scale * (lp * e + lo * xi);
        }
    }
}

/// Both Box–Muller normals of every Philox lane i: r = sqrt(−2 ln u(`x0[i]`)),
/// `z[2i]` = r·cos 2πu(`x1[i]`) and `z[2i + 1]` = r·sin 2πu(`x1[i]`)
/// ([`crate::rng::box_muller`]), in one loop, so that the divider's work (ln's division, the
/// square root) overlaps the polynomials' multiplies and adds.
#[inline(always)]
fn box_muller_lanes(x0: &[u32], x1: &[u32], z: &mut [f64]) {
    for ((z, &a), &b) in z.chunks_exact_mut(2).zip(x0).zip(x1) {
        let r = (-2.0 * math::ln_unit(uniform(a))).sqrt();
        let (s, c) = math::sin_cos_tau(uniform(b));
        z[0] = r * c;
        z[1] = r * s;
    }
}

/// v ← e^v, lane by lane.
#[inline(always)]
fn exp_lanes(v: &mut [f64]) {
    for v in v.iter_mut() {
        *v = math::exp(*v);
    }
}

/// v ← logistic(v) clamped ([`logistic_clamped`]), lane by lane.
#[inline(always)]
fn logistic_lanes(v: &mut [f64]) {
    for v in v.iter_mut() {
        *v = logistic_clamped(*v);
    }
}

/// Defines module `$module`: the four array kernels ([`box_muller_lanes`], [`shock_lanes`],
/// [`exp_lanes`], [`logistic_lanes`]) compiled with target features `$features`, each the
/// portable kernel inlined into a function with those features, so that the compiler
/// vectorises it for them. The same IEEE operations lane by lane (Rust never fuses a multiply
/// and an add, even where the features include FMA, as AVX-512F implies), so the same results
/// bit for bit.
#[cfg(target_arch = "x86_64")]
macro_rules! simd_kernels {
    ($(#[$attr:meta])* mod $module:ident, features = $features:literal) => {
        $(#[$attr])*
        mod $module {
            /// [`super::box_muller_lanes`] for this module's instruction set.
            ///
            /// # Safety
            /// The CPU must have this function's target features.
            #[target_feature(enable = $features)]
            pub(super) unsafe fn box_muller_lanes(x0: &[u32], x1: &[u32], z: &mut [f64]) {
                super::box_muller_lanes(x0, x1, z);
            }

            /// [`super::shock_lanes`] for this module's instruction set.
            ///
            /// # Safety
            /// The CPU must have this function's target features.
            #[target_feature(enable = $features)]
            pub(super) unsafe fn shock_lanes(
                plan: &crate::plan::SimPlan,
                b: usize,
                months: usize,
                fleets: &super::FleetLanes,
                normal: &[f64],
                shock: &mut [f64],
            ) {
                super::shock_lanes(plan, b, months, fleets, normal, shock);
            }

            /// [`super::exp_lanes`] for this module's instruction set.
            ///
            /// # Safety
            /// The CPU must have this function's target features.
            #[target_feature(enable = $features)]
            pub(super) unsafe fn exp_lanes(v: &mut [f64]) {
                super::exp_lanes(v);
            }

            /// [`super::logistic_lanes`] for this module's instruction set.
            ///
            /// # Safety
            /// The CPU must have this function's target features.
            #[target_feature(enable = $features)]
            pub(super) unsafe fn logistic_lanes(v: &mut [f64]) {
                super::logistic_lanes(v);
            }
        }
    };
}

#[cfg(target_arch = "x86_64")]
simd_kernels! {
    /// The array kernels compiled for AVX2 (four f64 lanes per vector).
    mod avx2, features = "avx2"
}

#[cfg(target_arch = "x86_64")]
simd_kernels! {
    /// The array kernels compiled for AVX-512 F, DQ and VL (eight f64 lanes per vector).
    mod avx512, features = "avx512f,avx512dq,avx512vl"
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::box_muller;

    use crate::plan::tests::sample_plan;

    /// One month of the market drawn entity by entity (the draw table of MODEL.md §9 read
    /// literally): (price, price over trend, utilization) of months 1..=K.
    fn month_by_month(plan: &SimPlan, rng: &PathRng) -> Vec<[Vec<f64>; 3]> {
        let (cl, fl) = (&plan.classes, &plan.fleets);
        let (nc, nf) = (plan.n_classes(), fl.stream.len());
        let (mut x, mut jumps, mut y) = (vec![0.0; nc], vec![0.0; nc], fl.y0.clone());
        let mut out = Vec::new();
        // Month k's normal and jump-count word: call 0 of its pair's (odd) step (version 6).
        let month_draw = |stream: u32, k: u32| {
            let w = rng.words(stream, k - (1 - k % 2), 0);
            let (z0, z1) = box_muller(w[0], w[1]);
            if k % 2 == 1 {
                (z0, w[2])
            } else {
                (z1, w[3])
            }
        };
        for k in 1..=plan.months {
            let ki = (k - 1) as usize;
            let mut eps = vec![0.0; nc];
            for c in 0..nc {
                let (z, count_word) = month_draw(cl.stream[c], k);
                eps[c] = z;
                let lam = cl.jump_rate_per_step[c];
                let p0 = math::exp(-lam);
                let n = poisson_inverse_with(lam, p0, uniform(count_word), MAX_JUMPS_PER_MONTH);
                for j in 0..n {
                    let z = rng.normals4(cl.stream[c], k, 1 + j / 4)[(j % 4) as usize];
                    jumps[c] += cl.jump_mean[c] + cl.jump_std[c] * z;
                }
            }
            let (mut price, mut pot) = (vec![0.0; nc], vec![0.0; nc]);
            for c in 0..nc {
                let z: f64 = (0..=c).map(|i| plan.chol[c * nc + i] * eps[i]).sum();
                x[c] = x[c] * cl.ou_decay[c] + cl.ou_scale[c] * z;
                price[c] = math::exp(plan.log_trend_shock[ki * nc + c] + (x[c] + jumps[c]));
                pot[c] = price[c] * plan.inv_trend[ki * nc + c];
            }
            let mut util = vec![0.0; nf];
            for f in 0..nf {
                let xi = month_draw(fl.stream[f], k).0;
                let w = fl.load_price[f] * eps[fl.class[f]] + fl.load_own[f] * xi;
                y[f] = y[f] * fl.decay[f] + fl.pull[f] + fl.scale[f] * w;
                util[f] = logistic_clamped(y[f]);
            }
            out.push([price, pot, util]);
        }
        out
    }

    #[test]
    fn blocks_of_any_length_draw_the_month_by_month_market_bit_for_bit() {
        let mut plan = sample_plan();
        assert!(!plan.chol_identity);
        // Class 0 jumps ~5 times a month, so jump sizes come from calls 1, 2, 3, ….
        plan.classes.jump_rate_per_step[0] = 5.0;
        let no = plan.operators.stream.len();
        let default_month: Vec<u32> = (0..no as u32).map(|o| o % 7).collect();
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        let k_max = plan.months as usize;
        let last: Vec<u32> = (0..plan.fleets.stream.len())
            .map(|f| plan.flow.utilization_last_month(f))
            .collect();
        // Some fleet of the sample is drawn only up to a month before the horizon.
        assert!(last.iter().any(|&l| l < plan.months), "{last:?}");
        let levels = SimdLevel::available();
        for ((block, &level), whole) in [2, 6, 8, k_max.next_multiple_of(2)]
            .iter()
            .flat_map(|b| levels.iter().map(move |l| (*b, l)))
            .flat_map(|bl| [(bl, false), (bl, true)])
        {
            let mut market = PathMarket::with_block(&plan, block);
            market.draw_whole_horizon(&plan, whole);
            // Every build the CPU can run, the portable one included; Philox's too.
            market.level = level;
            for lanes in &mut market.lanes {
                lanes.draws.set_level(level);
            }
            for path in 0..4 {
                let rng = PathRng::new(11, path);
                let want = month_by_month(&plan, &rng);
                market.reset(&plan);
                for (k, [price, pot, util]) in (1..).zip(&want) {
                    let m = market.month(&plan, &rng, &default_month, k);
                    let at =
                        format!("block {block}, {level:?}, whole {whole}, path {path}, month {k}");
                    assert_eq!(bits(m.price), bits(price), "{at}");
                    assert_eq!(bits(m.price_over_trend), bits(pot), "{at}");
                    for (f, (&u, &want)) in m.utilization.iter().zip(util).enumerate() {
                        // Every month up to the fleet's last used one exactly; NaN after it.
                        if whole || k <= last[f] {
                            assert_eq!(u.to_bits(), want.to_bits(), "fleet {f}, {at}");
                        } else {
                            assert!(u.is_nan(), "fleet {f}, {at}: {u}");
                        }
                    }
                    let credit: Vec<bool> = default_month.iter().map(|&d| d == k).collect();
                    assert_eq!(m.credit_default, credit, "{at}");
                }
            }
        }
    }
}
