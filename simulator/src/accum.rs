//! Flat, per-worker accumulators of the per-(deal, month) statistics: [`DealMonthAcc`].
//!
//! [`PathStats`] keeps its per-(deal, month) statistics nested (`deals[d].cash_flow[k]`,
//! `collateral_ratio[d][k]`, `collateral_ratio_hist[d][k]`), the layout its users and its JSON
//! want. Recording into that layout once per deal and month costs a pointer and a length load
//! and a bounds check per level, and the month's deal loop jumps between allocations. A
//! [`crate::Worker`] records into this flat, month-major layout instead (index `k·n_deals + d`:
//! the month's deal loop walks contiguous memory) and merges it into a `PathStats` once per
//! batch of paths ([`DealMonthAcc::flush_into`]). Every statistic is an exact integer sum or
//! count, or a running min/max, so accumulating apart and merging once gives what recording
//! directly gave, bit for bit (see `flush_into`).

#[cfg(doc)]
use crate::stats::Histogram;
use crate::stats::{
    slot, ExactSum, Moments, PathStats, Slot, COLLATERAL_BINS, COLLATERAL_HIST_MAX,
};

/// The collateral-ratio histogram's bin counts of one (deal, month) (see [`Histogram::counts`]),
/// then its overflow count (ratios at or above [`COLLATERAL_HIST_MAX`], and NaN) at index
/// [`COLLATERAL_BINS`]: so a ratio's bin or overflow is one index, chosen without a branch.
pub(crate) type RatioCounts = [u64; COLLATERAL_BINS + 1];

/// Index of the overflow count in [`RatioCounts`].
const OVERFLOW: usize = COLLATERAL_BINS;

/// The index in [`RatioCounts`] of a ratio x ≥ 0 (not NaN) that `add_ratio`'s fast path
/// records (x > 0; x = 0 only for lanes that record nothing).
///
/// `slot`'s bin rule on [0, COLLATERAL_HIST_MAX): b = (x − lo)/(hi − lo)·bins, the same
/// operations (x − 0.0 = x and 5.0 − 0.0 = 5.0 exactly); for x > 0 neither `Underflow` nor
/// `AtLo`, and b ≥ 0 (0 only if x/5 underflows), so `slot`'s clamp at 0 is the identity.
/// b < bins: bin trunc(b); else (b ≥ bins, +∞ for x = +∞): `Overflow`, which is index
/// `bins` = trunc(bins).
///
/// # Safety
/// x ≥ 0, not NaN (the index is then in 0..=COLLATERAL_BINS).
#[inline(always)]
unsafe fn pos_index(x: f64) -> usize {
    debug_assert!(x >= 0.0);
    let b = x / (COLLATERAL_HIST_MAX - 0.0) * COLLATERAL_BINS as f64;
    let b = if b < COLLATERAL_BINS as f64 {
        b
    } else {
        COLLATERAL_BINS as f64
    };
    // SAFETY: 0 ≤ b ≤ COLLATERAL_BINS, not NaN: its truncation is an i64 in
    // [0, COLLATERAL_BINS].
    unsafe { b.to_int_unchecked::<i64>() as usize }
}

/// One (deal, month)'s statistics over the paths recorded since the last flush: what
/// `PathStats` holds for it, with the collateral-ratio histogram's fields apart from its bin
/// counts (those are in [`DealMonthAcc`]'s own array, so that the fields the month's loop
/// touches on every path stay in two cache lines).
#[derive(Debug, Clone, Copy)]
pub(crate) struct DealMonthCell {
    /// Σ cash received / notional (`InstrumentStats::cash_flow[k]`).
    pub(crate) cash_flow: ExactSum,
    /// Σ principal received / notional (`InstrumentStats::principal[k]`).
    pub(crate) principal: ExactSum,
    /// Collateral-ratio moments (`PathStats::collateral_ratio[d][k]`).
    ratio: Moments,
    /// Smallest recorded ratio; NaN while none (a NaN observation never becomes the minimum,
    /// so NaN means exactly what `Histogram::min == None` means).
    ratio_min: f64,
    /// Largest recorded ratio; NaN while none.
    ratio_max: f64,
    /// Ratios exactly at the histogram's lower edge, 0.
    ratio_at_lo: u64,
    /// Ratios below 0.
    ratio_underflow: u64,
}

impl DealMonthCell {
    /// No observation.
    const EMPTY: Self = Self {
        cash_flow: ExactSum(0),
        principal: ExactSum(0),
        ratio: Moments {
            n: 0,
            sum: ExactSum(0),
            sumsq: ExactSum(0),
        },
        ratio_min: f64::NAN,
        ratio_max: f64::NAN,
        ratio_at_lo: 0,
        ratio_underflow: 0,
    };

    /// Records one collateral ratio, as `collateral_ratio[d][k].add(x)` followed by
    /// `collateral_ratio_hist[d][k].add(x)` would; `counts` are this cell's bin counts.
    ///
    /// A ratio's size is unpredictable (the sample's: below 8 two times in three, below 5
    /// about half the time), and every branch on it waits for the ratio's divisions: a
    /// mispredicted one costs that whole dependency chain. So a positive finite ratio (every
    /// ratio the simulator records, bar a zero collateral) is recorded without a branch on
    /// its size: [`Moments::add_nonneg`], the running min/max as selects, and its bin or
    /// overflow as one index. Anything else (≤ 0, NaN) takes the general rule.
    #[inline(always)]
    pub(crate) fn add_ratio(&mut self, counts: &mut RatioCounts, x: f64) {
        if x > 0.0 {
            // SAFETY: 0 < x (+∞ included; not NaN).
            unsafe { self.ratio.add_nonneg(x) };
            self.add_min_max(x);
            // SAFETY: x ≥ 0, not NaN.
            unsafe { *counts.get_unchecked_mut(pos_index(x)) += 1 };
            return;
        }
        self.add_ratio_general(counts, x);
    }

    /// Records the collateral ratios `x[l]` of the lanes `l` with `kept[l]` of a group of
    /// paths, as [`DealMonthCell::add_ratio`] of each, lane by lane, would (the other lanes'
    /// `x` are ignored, any value).
    ///
    /// Exact, when every kept ratio is positive (not NaN): the count, the sums and the bin
    /// counts are integers, added in any order to the same totals; the running minimum of
    /// positive non-NaN values under `add_min_max`'s rule (`m <= x` keeps m) is the minimum
    /// of the set (ties are equal bits: no signed zeros above 0), so the lanes' minimum
    /// folded in once gives what folding them in one by one gave (the maximum likewise).
    /// Otherwise (a kept ratio ≤ 0 or NaN: a zero collateral) each kept lane takes
    /// `add_ratio` in lane order.
    #[inline(always)]
    pub(crate) fn add_ratio_lanes<const W: usize>(
        &mut self,
        counts: &mut RatioCounts,
        x: &[f64; W],
        kept: &[bool; W],
    ) {
        let n = kept.iter().map(|&k| u64::from(k)).sum::<u64>();
        if n == 0 {
            return;
        }
        if !(0..W).fold(true, |a, l| a & (!kept[l] | (x[l] > 0.0))) {
            for l in 0..W {
                if kept[l] {
                    self.add_ratio(counts, x[l]);
                }
            }
            return;
        }
        // The kept lanes' ratios, 0.0 elsewhere (0 adds nothing to the sums, and its count
        // increment below is 0).
        let xs: [f64; W] = std::array::from_fn(|l| if kept[l] { x[l] } else { 0.0 });
        // SAFETY: xs[l] ≥ 0, not NaN (kept lanes checked above, the others 0.0).
        let (sum, sumsq) = unsafe { crate::stats::fixed_nonneg_lanes(&xs) };
        // Kept ratios are > 0 and not NaN, so the others' +∞ (min) and 0.0 (max) never win
        // (n ≥ 1): `lo` and `hi` are the kept lanes' minimum and maximum.
        let lo = (0..W)
            .map(|l| if kept[l] { xs[l] } else { f64::INFINITY })
            .fold(f64::INFINITY, |a, b| if b < a { b } else { a });
        let hi = xs.iter().fold(0.0f64, |a, &b| if b > a { b } else { a });
        for l in 0..W {
            // SAFETY: xs[l] ≥ 0, not NaN.
            unsafe { *counts.get_unchecked_mut(pos_index(xs[l])) += u64::from(kept[l]) };
        }
        self.ratio.n += n;
        self.ratio.sum.0 += sum;
        self.ratio.sumsq.0 += sumsq;
        self.add_min_max(lo);
        self.add_min_max(hi);
    }

    /// [`DealMonthCell::add_ratio`] of any x, by `Moments::add` and `stats::slot`.
    #[cold]
    #[inline(never)]
    fn add_ratio_general(&mut self, counts: &mut RatioCounts, x: f64) {
        self.ratio.add(x);
        if !x.is_nan() {
            self.add_min_max(x);
        }
        match slot(x, 0.0, COLLATERAL_HIST_MAX, COLLATERAL_BINS) {
            Slot::Underflow => self.ratio_underflow += 1,
            Slot::AtLo => self.ratio_at_lo += 1,
            Slot::Bin(i) => counts[i] += 1,
            Slot::Overflow => counts[OVERFLOW] += 1,
        }
    }

    /// `Histogram::add`'s running min/max of a non-NaN x (`m <= x` keeps m, a tie included),
    /// NaN standing for `None`: a NaN minimum (no observation yet) fails `m <= x`, giving x,
    /// as `None` gives x.
    #[inline(always)]
    fn add_min_max(&mut self, x: f64) {
        self.ratio_min = if self.ratio_min <= x {
            self.ratio_min
        } else {
            x
        };
        self.ratio_max = if self.ratio_max >= x {
            self.ratio_max
        } else {
            x
        };
    }

    /// The running minimum as `Histogram::min` holds it.
    fn min(&self) -> Option<f64> {
        Some(self.ratio_min).filter(|m| !m.is_nan())
    }

    /// The running maximum as `Histogram::max` holds it.
    fn max(&self) -> Option<f64> {
        Some(self.ratio_max).filter(|m| !m.is_nan())
    }
}

/// Per-worker flat accumulators of every per-(deal, month) statistic of [`PathStats`]: cash
/// flow and principal sums, collateral-ratio moments and histograms. Month-major: the cells of
/// month k (index k − 1) are `cells[(k−1)·n_deals..k·n_deals]`, in deal order. Empty between
/// flushes.
#[derive(Debug, Clone)]
pub(crate) struct DealMonthAcc {
    n_deals: usize,
    cells: Vec<DealMonthCell>,
    /// Collateral-ratio bin counts, indexed as `cells`.
    counts: Vec<RatioCounts>,
}

impl DealMonthAcc {
    /// Empty accumulators for `n_deals` deals over `months` months.
    pub(crate) fn new(n_deals: usize, months: usize) -> Self {
        Self {
            n_deals,
            cells: vec![DealMonthCell::EMPTY; n_deals * months],
            counts: vec![[0; COLLATERAL_BINS + 1]; n_deals * months],
        }
    }

    /// Month index `ki`'s cells and bin counts, `n_deals` of each, in deal order.
    #[inline(always)]
    pub(crate) fn month_mut(&mut self, ki: usize) -> (&mut [DealMonthCell], &mut [RatioCounts]) {
        let r = ki * self.n_deals..(ki + 1) * self.n_deals;
        (&mut self.cells[r.clone()], &mut self.counts[r])
    }

    /// Records month index `ki`'s collateral ratios: `values[j]` of deal `deals[j]`, by
    /// [`DealMonthCell::add_ratio`].
    #[inline(always)]
    pub(crate) fn add_ratios(&mut self, ki: usize, deals: &[usize], values: &[f64]) {
        let (cells, counts) = self.month_mut(ki);
        for (&d, &x) in deals.iter().zip(values) {
            cells[d].add_ratio(&mut counts[d], x);
        }
    }

    /// Merges everything recorded since the last flush into `stats` (shaped for the same
    /// plan) and empties the accumulators.
    ///
    /// Exact: sums and counts are integers, and the histogram's min/max merge by
    /// [`Histogram::merge`]'s rule; a cell without a collateral ratio (n = 0) has an empty
    /// histogram too (every ratio goes into both) and is skipped. Flushed into a fresh
    /// `PathStats`, every field is what recording the same paths directly into it gave,
    /// the running min/max included (they are updated in the same order).
    pub(crate) fn flush_into(&mut self, stats: &mut PathStats) {
        let nd = self.n_deals;
        if nd == 0 {
            return;
        }
        let (deals, cr, crh) = (
            &mut stats.deals[..nd],
            &mut stats.collateral_ratio[..nd],
            &mut stats.collateral_ratio_hist[..nd],
        );
        for (ki, (cells, counts)) in self
            .cells
            .chunks_exact_mut(nd)
            .zip(self.counts.chunks_exact_mut(nd))
            .enumerate()
        {
            for (d, (c, h)) in cells.iter_mut().zip(counts.iter_mut()).enumerate() {
                let s = &mut deals[d];
                s.cash_flow[ki].merge(&c.cash_flow);
                s.principal[ki].merge(&c.principal);
                if c.ratio.n > 0 {
                    cr[d][ki].merge(&c.ratio);
                    crh[d][ki].merge_parts(
                        &h[..COLLATERAL_BINS],
                        c.ratio_at_lo,
                        c.ratio_underflow,
                        h[OVERFLOW],
                        c.min(),
                        c.max(),
                    );
                    *h = [0; COLLATERAL_BINS + 1];
                }
                *c = DealMonthCell::EMPTY;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::Histogram;

    /// Ratios on edges, signed zeros, NaN, infinities, powers of two and random values.
    fn ratio_test_values() -> Vec<f64> {
        let up = |v: f64| f64::from_bits(v.to_bits() + 1);
        let mut vals = vec![
            0.0,
            -0.0,
            5e-324,
            -5e-324,
            COLLATERAL_HIST_MAX,
            up(COLLATERAL_HIST_MAX),
            f64::from_bits(COLLATERAL_HIST_MAX.to_bits() - 1),
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            -1.0,
            1e3,
            0.05,
            0.1,
            4.95,
        ];
        for i in 0..=2_000u32 {
            let x = f64::from(i) * 0.0025;
            vals.extend([x, up(x)]);
        }
        // The sizes where `Moments::add` and the fixed-point conversion change path (x or x²
        // at 8, 2^14, 2^17, the clamp at MAX_VALUE), MAX_COLLATERAL_RATIO, and beyond.
        let down = |v: f64| f64::from_bits(v.to_bits() - 1);
        for e in -40..=20 {
            let p = 2f64.powi(e);
            vals.extend([
                p,
                up(p),
                down(p),
                p.sqrt(),
                up(p.sqrt()),
                down(p.sqrt()),
                1.3 * p,
            ]);
        }
        for v in [
            crate::stats::MAX_VALUE,
            crate::stats::MAX_COLLATERAL_RATIO,
            1e6,
            1e300,
        ] {
            vals.extend([v, up(v), down(v), v.sqrt(), up(v.sqrt()), down(v.sqrt())]);
        }
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..5_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            vals.push((x >> 11) as f64 / (1u64 << 53) as f64 * 7.0 - 1.0);
            // Log-uniform on [1e-3, 1e3): the ratios' range, clamp included.
            vals.push(10f64.powf((x >> 11) as f64 / (1u64 << 53) as f64 * 6.0 - 3.0));
        }
        vals
    }

    /// `add_ratio` records what `Moments::add` and the collateral histogram's
    /// `Histogram::add` record, bit for bit, on edges, signed zeros, NaN and infinities, and
    /// the merge rule gives what merging the histograms gives.
    #[test]
    fn add_ratio_equals_moments_and_histogram_add() {
        let vals = ratio_test_values();
        // Two "chunks": the flat cell flushed into a fresh histogram per chunk, then the
        // chunks merged, against the histograms recorded directly and merged.
        let (a, b) = vals.split_at(vals.len() / 3);
        let mut want_m = Moments::default();
        let mut want_h = Histogram::new(0.0, COLLATERAL_HIST_MAX, COLLATERAL_BINS);
        let mut got_m = Moments::default();
        let mut got_h = Histogram::new(0.0, COLLATERAL_HIST_MAX, COLLATERAL_BINS);
        for part in [a, b, &[][..]] {
            let mut m = Moments::default();
            let mut h = Histogram::new(0.0, COLLATERAL_HIST_MAX, COLLATERAL_BINS);
            let mut c = DealMonthCell::EMPTY;
            let mut counts = [0; COLLATERAL_BINS + 1];
            for &v in part {
                m.add(v);
                h.add(v);
                c.add_ratio(&mut counts, v);
            }
            want_m.merge(&m);
            want_h.merge(&h);
            assert_eq!(c.ratio, m);
            let mut fresh = Histogram::new(0.0, COLLATERAL_HIST_MAX, COLLATERAL_BINS);
            fresh.merge_parts(
                &counts[..COLLATERAL_BINS],
                c.ratio_at_lo,
                c.ratio_underflow,
                counts[OVERFLOW],
                c.min(),
                c.max(),
            );
            assert_eq!(fresh.counts, h.counts);
            assert_eq!(
                (fresh.at_lo, fresh.underflow, fresh.overflow),
                (h.at_lo, h.underflow, h.overflow)
            );
            assert_eq!(fresh.min.map(f64::to_bits), h.min.map(f64::to_bits));
            assert_eq!(fresh.max.map(f64::to_bits), h.max.map(f64::to_bits));
            got_m.merge(&c.ratio);
            got_h.merge(&fresh);
        }
        assert_eq!(got_m, want_m);
        assert_eq!(got_h, want_h);
        assert_eq!(got_h.min.map(f64::to_bits), want_h.min.map(f64::to_bits));
    }

    /// A cell's fields as comparable bits.
    fn cell_bits(c: &DealMonthCell, counts: &RatioCounts) -> impl PartialEq + std::fmt::Debug {
        (
            c.cash_flow,
            c.principal,
            c.ratio,
            c.ratio_min.to_bits(),
            c.ratio_max.to_bits(),
            c.ratio_at_lo,
            c.ratio_underflow,
            counts.to_vec(),
        )
    }

    /// Groups of `W` lanes recorded at once (`add_ratio_lanes`, `ExactSum::add_lanes`) give
    /// what recording the kept lanes one by one gives, bit for bit: the values of
    /// `ratio_test_values` in groups (positive groups, and groups with a zero, a negative or
    /// a NaN ratio that take the lane-by-lane path), with random masks, as cash flows too
    /// (NaN, ±∞ and values ≥ 8 included).
    fn lanes_equal_lane_by_lane<const W: usize>() {
        let vals = ratio_test_values();
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let (mut a, mut b) = (DealMonthCell::EMPTY, DealMonthCell::EMPTY);
        let (mut ca, mut cb) = ([0; COLLATERAL_BINS + 1], [0; COLLATERAL_BINS + 1]);
        // Twice over the values: the second time shifted, so groups mix differently.
        for shift in [0, W / 2 + 1] {
            for g in vals[shift..].chunks_exact(W) {
                let g: [f64; W] = g.try_into().unwrap();
                let r = next();
                // Every lane kept a third of the time, else a random mask.
                let kept: [bool; W] =
                    std::array::from_fn(|l| r % 3 == 0 || (r >> (8 + l)) & 1 == 1);
                a.add_ratio_lanes(&mut ca, &g, &kept);
                for l in 0..W {
                    if kept[l] {
                        b.add_ratio(&mut cb, g[l]);
                    }
                }
                let cash: [f64; W] = std::array::from_fn(|l| if kept[l] { g[l] } else { 0.0 });
                a.cash_flow.add_lanes(&cash);
                for l in 0..W {
                    if kept[l] {
                        b.cash_flow.add(g[l]);
                    }
                }
                assert_eq!(cell_bits(&a, &ca), cell_bits(&b, &cb), "{g:?} {kept:?}");
            }
        }
        assert!(a.ratio.n > 1000);
    }

    #[test]
    fn lanes_of_four_equal_lane_by_lane() {
        lanes_equal_lane_by_lane::<4>();
    }

    #[test]
    fn lanes_of_eight_equal_lane_by_lane() {
        lanes_equal_lane_by_lane::<8>();
    }
}
