//! Streaming aggregation of simulated paths: [`PathStats`].
//!
//! Memory does not grow with the number of paths: every field is a sum, a count or a
//! fixed-bin histogram. Merging two `PathStats` is **exact and associative** (and commutative):
//! each per-path value is truncated once to a fixed-point grid of 2^-60 ([`ExactSum`], an `i128`),
//! and counts are `u64`, so integer addition makes the result independent of thread count,
//! chunking and merge order — `run(0..N) == merge(run(0..k), run(k..N))` bit for bit. The
//! truncation error of one path's value is below 2^-60 ≈ 8.7e-19 (in the value's units), far
//! below the f64 precision of the value itself for values of order 1. All moment inputs are
//! normalised (fractions of an instrument's notional, NAV ratios), so they are of order 1;
//! values are clamped to ±[`MAX_VALUE`] so that sums of squares over 1e10 paths cannot overflow.
//!
//! Quantiles come from fixed-bin histograms of `u64` counts (resolution stated per histogram:
//! `(hi − lo) / bins`; values outside [lo, hi) go to the underflow/overflow counters).

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Fractional bits of [`ExactSum`]: values are stored as trunc(v · 2^60).
pub const FRAC_BITS: u32 = 60;
/// Largest |value| a moment accepts (larger values are clamped; normalised values are O(1)).
pub const MAX_VALUE: f64 = 1.0e5;
const SCALE: f64 = (1u64 << FRAC_BITS) as f64;

/// An exact sum of f64 values truncated to multiples of 2^-60, stored as an `i128`.
///
/// Capacity: |sum| < 2^67 ≈ 1.5e20 (e.g. 1e10 paths of values up to 1e10).
/// Serialised as a decimal string of the `i128` (JSON numbers cannot hold it exactly).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct ExactSum(pub i128);

impl ExactSum {
    /// Adds `v` (truncated to the 2^-60 grid; clamped to ±[`MAX_VALUE`]; NaN adds 0).
    #[inline(always)]
    pub fn add(&mut self, v: f64) {
        self.0 += to_fixed(v);
    }

    /// Adds every value of `v` (each as [`ExactSum::add`] would: truncated to the 2^-60 grid,
    /// clamped to ±[`MAX_VALUE`], NaN adds 0), for the `W` lanes of a group of paths; a lane
    /// that records nothing passes 0.0 (which adds 0).
    ///
    /// Exact: the sum is an integer sum, so adding the `W` values' sum once gives what adding
    /// them one by one gave, in any order. Below 8 in magnitude (almost always every lane)
    /// each value is one truncating conversion to an i64 (|v·2^60| < 2^63), summed in i128
    /// (no overflow: `W` terms below 2^63); otherwise each lane takes [`ExactSum::add`]'s path.
    #[inline(always)]
    pub(crate) fn add_lanes<const W: usize>(&mut self, v: &[f64; W]) {
        if v.iter().fold(true, |a, x| a & (x.abs() < 8.0)) {
            // SAFETY: |x| < 8, checked for every lane above: |x·2^60| < 2^63, an i64.
            let f: [i64; W] =
                std::array::from_fn(|l| unsafe { (v[l] * SCALE).to_int_unchecked::<i64>() });
            self.0 += sum_i64(&f);
        } else {
            for &x in v {
                self.add(x);
            }
        }
    }

    /// The sum as f64.
    #[inline]
    pub fn value(&self) -> f64 {
        self.0 as f64 / SCALE
    }

    /// Adds another sum (exact).
    #[inline]
    pub fn merge(&mut self, o: &ExactSum) {
        self.0 += o.0;
    }
}

#[inline(always)]
fn to_fixed(v: f64) -> i128 {
    // Below 8 in magnitude (almost every value) the clamp is the identity and v is not NaN:
    // the fast path directly. NaN stays NaN through the clamp and converts to 0 below.
    if v.abs() < 8.0 {
        // SAFETY: |v| < 8, checked.
        return unsafe { to_fixed_small(v) };
    }
    to_fixed_clamped(v.clamp(-MAX_VALUE, MAX_VALUE))
}

/// trunc(v·2^60) for |v| < 8: the first branch of [`to_fixed_clamped`], one `cvttsd2si`.
///
/// # Safety
/// |v| < 8 (so v is not NaN).
#[inline(always)]
unsafe fn to_fixed_small(v: f64) -> i128 {
    debug_assert!(v.abs() < 8.0);
    // SAFETY: |v| < 8 (the caller's contract), so v·2^60 is finite and |v·2^60| < 2^63: its
    // truncation is an i64.
    i128::from(unsafe { (v * SCALE).to_int_unchecked::<i64>() })
}

/// [`to_fixed`] of a value already clamped to ±[`MAX_VALUE`] (or NaN, which gives 0).
///
/// Truncation toward zero onto the 2^-60 grid (error < 2^-60): any fixed deterministic
/// rounding keeps sums exact. v·2^60 is exact in f64 (a power-of-two scaling), and every
/// branch below converts an f64 that is an exact scaling of v with one truncating
/// f64 → i64 conversion (a single `cvttsd2si`):
/// - |v| < 8 (normalised prices, losses and NAV ratios: almost every value): |v·2^60| < 2^63,
///   so `(v·2^60) as i64` is trunc(v·2^60).
/// - 8 ≤ |v| < 2^14: v's last mantissa bit is worth at least 2^(3−52), so v·2^49 is an integer
///   (no truncation) below 2^63 in magnitude, and v·2^60 = (v·2^49)·2^11 exactly.
/// - 2^14 ≤ |v| < 2^17 (which holds up to [`MAX_VALUE`] = 1e5): v·2^46 is an integer (v's
///   last bit is worth at least 2^(14−52)) below 2^63, and v·2^60 = (v·2^46)·2^14 exactly.
///
/// The three conversions are in range by their branch's bound and their argument is never NaN
/// (NaN fails every comparison), so they use [`f64::to_int_unchecked`] instead of `as`, whose
/// saturation (NaN → 0, clamping) costs five instructions per value. NaN and any value the
/// caller failed to clamp take the general path: trunc(v)·2^60 + trunc(frac(v)·2^60) with
/// saturating conversions (NaN → 0). None of the paths calls `f64::trunc`, which on baseline
/// x86-64 (no SSE4.1 `roundsd`) is a library call. All equal `to_fixed_reference`, the
/// definition in the tests, bit for bit.
#[inline(always)]
fn to_fixed_clamped(v: f64) -> i128 {
    let a = v.abs();
    if a < 8.0 {
        // SAFETY: |v| < 8, checked.
        return unsafe { to_fixed_small(v) };
    }
    if a < TWO_POW_14 {
        // SAFETY: |v| < 2^14, so v·2^49 is finite and |v·2^49| < 2^63: an i64.
        return i128::from(unsafe { (v * TWO_POW_49).to_int_unchecked::<i64>() }) << 11;
    }
    if a < TWO_POW_17 {
        // SAFETY: |v| < 2^17, so v·2^46 is finite and |v·2^46| < 2^63: an i64.
        return i128::from(unsafe { (v * TWO_POW_46).to_int_unchecked::<i64>() }) << 14;
    }
    let whole = v as i64;
    let frac = ((v - whole as f64) * SCALE) as i64;
    (i128::from(whole) << FRAC_BITS) + i128::from(frac)
}

/// trunc(v·2^60) for 0 ≤ v ≤ [`MAX_VALUE`], without a branch: [`to_fixed_clamped`]'s general
/// path, trunc(v)·2^60 + trunc(frac(v)·2^60), taken for every size, so that a value whose size
/// is unpredictable (collateral ratios: below 8 two times in three, their squares below 8 about
/// half the time) costs no mispredicted branch.
///
/// Exact for every such v: `w = trunc(v)` (one `cvttsd2si`; |v| ≤ 1e5 < 2^63) converts back to
/// f64 exactly, `v − w` is exact (its significant bits are a subset of v's), in [0, 1), and
/// its scaling by 2^60 is exact; so the sum of the parts is trunc(v·2^60), as
/// [`to_fixed_reference`] defines it (tested on both sides of every power of two).
///
/// # Safety
/// 0 ≤ v ≤ [`MAX_VALUE`] (so v is not NaN).
#[inline(always)]
unsafe fn to_fixed_nonneg(v: f64) -> i128 {
    debug_assert!((0.0..=MAX_VALUE).contains(&v));
    // Signed conversions (one `cvttsd2si` / `cvtsi2sd` each; baseline x86-64 has no unsigned
    // ones) of values known to be non-negative.
    // SAFETY: 0 ≤ v ≤ 1e5 (the caller's contract): trunc(v) is an i64 in [0, 2^17).
    let whole = unsafe { v.to_int_unchecked::<i64>() };
    // SAFETY: 0 ≤ v − trunc(v) < 1, so its exact scaling by 2^60 is in [0, 2^60): an i64.
    let frac = unsafe { ((v - whole as f64) * SCALE).to_int_unchecked::<i64>() };
    let (whole, frac) = (whole as u64, frac as u64);
    // whole·2^60 + frac with frac < 2^60: the low word is whole's low 4 bits above frac, the
    // high word whole's other bits (both non-negative: no sign extension).
    let lo = (whole << FRAC_BITS) | frac;
    let hi = whole >> (64 - FRAC_BITS);
    ((i128::from(hi)) << 64) | i128::from(lo)
}

/// What [`Moments::add`] adds to `sum` and `sumsq` for an observation 0 ≤ x < ∞ (x = +∞
/// allowed), without a branch: trunc(min(x, MAX_VALUE)·2^60) and trunc(min(x², MAX_VALUE)·2^60)
/// with x clamped first (see [`Moments::add_nonneg`], which this serves, with the lanes' sums).
///
/// # Safety
/// 0 ≤ x, not NaN.
#[inline(always)]
pub(crate) unsafe fn fixed_nonneg(x: f64) -> (i128, i128) {
    debug_assert!(x >= 0.0);
    // `if a < b { a } else { b }` compiles to one `minsd` (no NaN here).
    let x = if x < MAX_VALUE { x } else { MAX_VALUE };
    let sq = x * x;
    let sq = if sq < MAX_VALUE { sq } else { MAX_VALUE };
    // SAFETY: 0 ≤ x ≤ MAX_VALUE and 0 ≤ x² clamped ≤ MAX_VALUE.
    unsafe { (to_fixed_nonneg(x), to_fixed_nonneg(sq)) }
}

/// Σ v exactly, as i128, for `W` ≤ 2^31 terms, in a form that vectorises: each i64 is
/// hi·2^32 + lo with hi = v >> 32 (arithmetic: |hi| ≤ 2^31) and lo = v & (2^32 − 1)
/// (0 ≤ lo < 2^32), an identity of two's complement; the `W` his and the `W` los are summed
/// in i64 apart (no overflow: below 2^63 for W ≤ 2^31) and joined in i128.
#[inline(always)]
fn sum_i64<const W: usize>(v: &[i64; W]) -> i128 {
    const { assert!(W <= 1 << 31) };
    let hi: i64 = v.iter().map(|&x| x >> 32).sum();
    let lo: i64 = v.iter().map(|&x| x & 0xFFFF_FFFF).sum();
    (i128::from(hi) << 32) + i128::from(lo)
}

/// Σ over the lanes of what [`fixed_nonneg`] gives each `x[l]` (≥ 0, not NaN): the pair of
/// sums to add to a [`Moments`]' `sum` and `sumsq`, computed in a form that vectorises.
///
/// Exact: [`to_fixed_nonneg`] of a clamped y is whole(y)·2^60 + frac(y) with 0 ≤ whole < 2^17
/// and 0 ≤ frac < 2^60; so the lanes' sum is (Σ whole)·2^60 + Σ frac, with Σ whole < 2^21
/// and Σ frac < `W`·2^60 ≤ 2^63 for `W` ≤ 8 (both sums in i64/u64 without overflow).
///
/// # Safety
/// Every `x[l]` ≥ 0, not NaN.
#[inline(always)]
pub(crate) unsafe fn fixed_nonneg_lanes<const W: usize>(x: &[f64; W]) -> (i128, i128) {
    const { assert!(W <= 8) };
    debug_assert!(x.iter().all(|&v| v >= 0.0));
    // The clamps of `fixed_nonneg`, the same operations.
    let xc: [f64; W] = std::array::from_fn(|l| if x[l] < MAX_VALUE { x[l] } else { MAX_VALUE });
    let sq: [f64; W] = std::array::from_fn(|l| {
        let s = xc[l] * xc[l];
        if s < MAX_VALUE {
            s
        } else {
            MAX_VALUE
        }
    });
    // SAFETY: 0 ≤ xc, sq ≤ MAX_VALUE.
    unsafe { (sum_fixed_nonneg(&xc), sum_fixed_nonneg(&sq)) }
}

/// Σ [`to_fixed_nonneg`] of `W` ≤ 8 values (see [`fixed_nonneg_lanes`]).
///
/// # Safety
/// 0 ≤ `y[l]` ≤ [`MAX_VALUE`].
#[inline(always)]
unsafe fn sum_fixed_nonneg<const W: usize>(y: &[f64; W]) -> i128 {
    // SAFETY: 0 ≤ y ≤ 1e5: trunc(y) is an i64 in [0, 2^17).
    let whole: [i64; W] = std::array::from_fn(|l| unsafe { y[l].to_int_unchecked::<i64>() });
    // SAFETY: 0 ≤ y − trunc(y) < 1 (exact), its exact scaling by 2^60 is in [0, 2^60).
    let frac: [i64; W] = std::array::from_fn(|l| unsafe {
        ((y[l] - whole[l] as f64) * SCALE).to_int_unchecked::<i64>()
    });
    let w: i64 = whole.iter().sum();
    let f: u64 = frac.iter().map(|&f| f as u64).sum();
    (i128::from(w) << FRAC_BITS) + i128::from(f)
}

const TWO_POW_14: f64 = (1u64 << 14) as f64;
const TWO_POW_17: f64 = (1u64 << 17) as f64;
const TWO_POW_46: f64 = (1u64 << 46) as f64;
const TWO_POW_49: f64 = (1u64 << 49) as f64;

/// The definition [`to_fixed`] implements: trunc(clamp(v)·2^60) (NaN → 0), through `f64::trunc`.
#[cfg(test)]
fn to_fixed_reference(v: f64) -> i128 {
    let v = if v.is_nan() {
        0.0
    } else {
        v.clamp(-MAX_VALUE, MAX_VALUE)
    };
    let whole = v.trunc();
    let frac = ((v - whole) * SCALE).trunc() as i64;
    (i128::from(whole as i64) << FRAC_BITS) + i128::from(frac)
}

impl Serialize for ExactSum {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.to_string())
    }
}

impl<'de> Deserialize<'de> for ExactSum {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse::<i128>()
            .map(ExactSum)
            .map_err(serde::de::Error::custom)
    }
}

/// Count, sum and sum of squares of one per-path quantity (units: those of the quantity).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Moments {
    /// Number of observations (paths, or paths where the quantity is defined).
    pub n: u64,
    /// Σ x.
    pub sum: ExactSum,
    /// Σ x².
    pub sumsq: ExactSum,
}

impl Moments {
    /// Records one observation.
    #[inline(always)]
    pub fn add(&mut self, x: f64) {
        self.n += 1;
        if x.abs() < 8.0 {
            // Not NaN, inside the clamp, and x² < 64: no NaN test and no clamps.
            // SAFETY: |x| < 8, checked.
            self.sum.0 += unsafe { to_fixed_small(x) };
            self.sumsq.0 += to_fixed_clamped(x * x);
            return;
        }
        let x = if x.is_nan() {
            0.0
        } else {
            x.clamp(-MAX_VALUE, MAX_VALUE)
        };
        // x is clamped already; x² (≤ 1e10) still needs its clamp.
        self.sum.0 += to_fixed_clamped(x);
        self.sumsq.0 += to_fixed(x * x);
    }

    /// Records one observation x with 0 ≤ x < ∞ exactly as [`Moments::add`] does, without a
    /// branch on its size (see [`to_fixed_nonneg`]): for a quantity whose size is
    /// unpredictable, `add`'s branches (|x| < 8, x² < 8, ...) are mispredicted often, each
    /// time after the whole computation of x.
    ///
    /// Identical to `add`: x is not NaN, so `add` adds trunc(clamp(x)·2^60) and
    /// trunc(clamp(x²)·2^60) (x² ≤ 64 needs no clamp below 8; above, x is clamped first), and
    /// for x ≥ 0 the clamps are `min(·, MAX_VALUE)`.
    ///
    /// # Safety
    /// 0 ≤ x (x = +∞ allowed; not NaN).
    #[inline(always)]
    pub(crate) unsafe fn add_nonneg(&mut self, x: f64) {
        debug_assert!(x >= 0.0);
        self.n += 1;
        // SAFETY: 0 ≤ x, not NaN (the caller's contract).
        let (s, sq) = unsafe { fixed_nonneg(x) };
        self.sum.0 += s;
        self.sumsq.0 += sq;
    }

    /// Exact merge.
    #[inline]
    pub fn merge(&mut self, o: &Moments) {
        self.n += o.n;
        self.sum.merge(&o.sum);
        self.sumsq.merge(&o.sumsq);
    }

    /// Sample mean (0 when n = 0).
    pub fn mean(&self) -> f64 {
        if self.n == 0 {
            0.0
        } else {
            self.sum.value() / self.n as f64
        }
    }

    /// Unbiased sample variance (0 when n < 2).
    pub fn variance(&self) -> f64 {
        if self.n < 2 {
            return 0.0;
        }
        let n = self.n as f64;
        let m = self.sum.value() / n;
        ((self.sumsq.value() - n * m * m) / (n - 1.0)).max(0.0)
    }

    /// Sample standard deviation.
    pub fn std_dev(&self) -> f64 {
        self.variance().sqrt()
    }

    /// Standard error of the mean: sd / sqrt(n) (0 when n < 2).
    pub fn std_error(&self) -> f64 {
        if self.n < 2 {
            0.0
        } else {
            (self.variance() / self.n as f64).sqrt()
        }
    }
}

/// Where an observation falls in a histogram on [lo, hi) of `bins` equal bins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Slot {
    /// Below `lo`.
    Underflow,
    /// Exactly `lo`.
    AtLo,
    /// Bin i, [lo + i·w, lo + (i+1)·w) with w = (hi − lo)/bins.
    Bin(usize),
    /// At or above `hi`, and NaN.
    Overflow,
}

/// The bin rule of [`Histogram::add`] (shared with the simulator's flat per-(deal, month)
/// accumulators, `crate::accum`, so both bin an observation alike).
#[inline(always)]
pub(crate) fn slot(x: f64, lo: f64, hi: f64, bins: usize) -> Slot {
    if x < lo {
        return Slot::Underflow;
    }
    if x == lo {
        return Slot::AtLo;
    }
    // x > lo here (or NaN), so x − lo > 0 and floor(b) = trunc(b) for b ≥ 0: no
    // `f64::floor` (a library call on baseline x86-64). NaN fails the test.
    let b = (x - lo) / (hi - lo) * bins as f64;
    if b < bins as f64 {
        // b < 0 only if hi < lo (no histogram of this crate); a saturating `b as usize`
        // makes it bin 0, and so does the clamp at 0 here.
        let b = if b > 0.0 { b } else { 0.0 };
        // SAFETY: 0 ≤ b < bins ≤ isize::MAX < 2^63 and b is not NaN, so its truncation is an
        // i64 (one `cvttsd2si`, where the saturating `as usize` of an f64 costs a dozen
        // instructions), and a non-negative one: the `as usize` is exact.
        Slot::Bin(unsafe { b.to_int_unchecked::<i64>() } as usize)
    } else {
        Slot::Overflow
    }
}

/// Fixed-bin histogram on [lo, hi): `bins` equal bins of width (hi − lo)/bins (the
/// resolution of its quantiles), with underflow/overflow counters and a separate count of the
/// observations exactly at `lo`, so that an atom there (no loss) has exact quantiles.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Histogram {
    /// Lower edge (inclusive), in the quantity's units.
    pub lo: f64,
    /// Upper edge (exclusive), in the quantity's units.
    pub hi: f64,
    /// Count per bin, without the observations exactly at `lo`. Serialised sparsely as
    /// `{ "len": bins, "nonzero": [[bin, count], ...] }`.
    #[serde(with = "sparse_counts")]
    pub counts: Vec<u64>,
    /// Observations exactly equal to `lo` (e.g. paths without a loss); not in `counts`.
    #[serde(default)]
    pub at_lo: u64,
    /// Observations below `lo`.
    pub underflow: u64,
    /// Observations at or above `hi` (and NaN).
    pub overflow: u64,
    /// Smallest observation (None when empty); quantiles are clamped to [min, max], so a
    /// point mass (e.g. no loss on any path) gives exact quantiles. Left out of the JSON
    /// when empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    /// Largest observation (None when empty; left out of the JSON then).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
}

impl Histogram {
    /// An empty histogram of `bins` bins on [lo, hi).
    pub fn new(lo: f64, hi: f64, bins: usize) -> Self {
        Self {
            lo,
            hi,
            counts: vec![0; bins.max(1)],
            at_lo: 0,
            underflow: 0,
            overflow: 0,
            min: None,
            max: None,
        }
    }

    /// Bin width, the resolution of [`Histogram::quantile`].
    pub fn resolution(&self) -> f64 {
        (self.hi - self.lo) / self.counts.len() as f64
    }

    /// Records one observation.
    #[inline(always)]
    pub fn add(&mut self, x: f64) {
        if !x.is_nan() {
            // The running minimum and maximum, as `m.min(x)` and `m.max(x)` compute them on
            // x86-64 (`minsd`/`maxsd` and a NaN fix-up) for a non-NaN x: an m that is NaN
            // gives x, a tie (including −0 against +0) keeps m. Written out, without the
            // fix-up's four instructions per call.
            self.min = Some(match self.min {
                Some(m) if m <= x => m,
                _ => x,
            });
            self.max = Some(match self.max {
                Some(m) if m >= x => m,
                _ => x,
            });
        }
        match slot(x, self.lo, self.hi, self.counts.len()) {
            Slot::Underflow => self.underflow += 1,
            Slot::AtLo => self.at_lo += 1,
            Slot::Bin(i) => self.counts[i] += 1,
            Slot::Overflow => self.overflow += 1,
        }
    }

    /// Total observations.
    pub fn total(&self) -> u64 {
        self.underflow + self.at_lo + self.overflow + self.counts.iter().sum::<u64>()
    }

    /// Exact merge (same bins required; a histogram with other bins is a programming error).
    pub fn merge(&mut self, o: &Histogram) {
        self.merge_parts(&o.counts, o.at_lo, o.underflow, o.overflow, o.min, o.max);
    }

    /// [`Histogram::merge`] of a histogram given by its parts (same bins): the one merge rule,
    /// shared with the flat per-worker accumulators (`crate::accum`) that keep a histogram's
    /// fields apart.
    #[inline]
    pub(crate) fn merge_parts(
        &mut self,
        counts: &[u64],
        at_lo: u64,
        underflow: u64,
        overflow: u64,
        min: Option<f64>,
        max: Option<f64>,
    ) {
        debug_assert_eq!(self.counts.len(), counts.len());
        for (a, b) in self.counts.iter_mut().zip(counts) {
            *a += b;
        }
        self.at_lo += at_lo;
        self.underflow += underflow;
        self.overflow += overflow;
        self.min = match (self.min, min) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.max = match (self.max, max) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
    }

    /// The q-quantile (q ∈ [0, 1]): the smallest x with P[X ≤ x] ≥ q, linear within a bin,
    /// clamped to the observed [min, max]; `lo`/`hi` (then clamped) if it falls in the
    /// underflow/overflow; NaN for an empty histogram. Error ≤ one bin width inside [lo, hi).
    /// At an atom it is exact: with more than a fraction q of the observations exactly at `lo`
    /// (no loss) it is `lo`; with more than 1 − q of them at or above `hi` (a total loss of a
    /// loss fraction on [0, 1)) it is `hi`, or the largest observation if that is smaller.
    pub fn quantile(&self, q: f64) -> f64 {
        let x = self.raw_quantile(q);
        match (self.min, self.max) {
            (Some(a), Some(b)) => x.clamp(a, b),
            _ => x,
        }
    }

    fn raw_quantile(&self, q: f64) -> f64 {
        let n = self.total();
        if n == 0 {
            return f64::NAN;
        }
        let target = q.clamp(0.0, 1.0) * n as f64;
        let mut cum = (self.underflow + self.at_lo) as f64;
        if target <= cum && cum > 0.0 {
            return self.lo;
        }
        let w = self.resolution();
        for (i, &c) in self.counts.iter().enumerate() {
            let next = cum + c as f64;
            if c > 0 && target <= next {
                let frac = ((target - cum) / c as f64).clamp(0.0, 1.0);
                return self.lo + w * (i as f64 + frac);
            }
            cum = next;
        }
        self.hi
    }

    /// Mean of the observations above the q-quantile (expected shortfall of a loss), using
    /// bin midpoints (overflow at `hi`); NaN when empty.
    pub fn tail_mean(&self, q: f64) -> f64 {
        let n = self.total();
        if n == 0 {
            return f64::NAN;
        }
        let mut need = (1.0 - q.clamp(0.0, 1.0)) * n as f64;
        if need <= 0.0 {
            return self.hi;
        }
        let total_need = need;
        let mut acc = 0.0;
        let take = |c: u64, x: f64, need: &mut f64, acc: &mut f64| {
            let t = (c as f64).min(*need);
            *acc += t * x;
            *need -= t;
        };
        take(self.overflow, self.hi, &mut need, &mut acc);
        let w = self.resolution();
        for (i, &c) in self.counts.iter().enumerate().rev() {
            if need <= 0.0 {
                break;
            }
            take(c, self.lo + w * (i as f64 + 0.5), &mut need, &mut acc);
        }
        if need > 0.0 {
            take(self.at_lo, self.lo, &mut need, &mut acc);
            take(self.underflow, self.lo, &mut need, &mut acc);
        }
        acc / total_need
    }
}

/// Sparse (de)serialisation of histogram counts: most bins of a fine histogram are empty.
mod sparse_counts {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize, Deserialize)]
    struct Sparse {
        len: usize,
        nonzero: Vec<(usize, u64)>,
    }

    pub(super) fn serialize<S: Serializer>(counts: &[u64], s: S) -> Result<S::Ok, S::Error> {
        Sparse {
            len: counts.len(),
            nonzero: counts
                .iter()
                .enumerate()
                .filter(|(_, &c)| c > 0)
                .map(|(i, &c)| (i, c))
                .collect(),
        }
        .serialize(s)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u64>, D::Error> {
        let sp = Sparse::deserialize(d)?;
        if sp.len > 10_000_000 {
            return Err(serde::de::Error::custom("histogram too large"));
        }
        let mut counts = vec![0; sp.len];
        for (i, c) in sp.nonzero {
            *counts
                .get_mut(i)
                .ok_or_else(|| serde::de::Error::custom("histogram bin out of range"))? = c;
        }
        Ok(counts)
    }
}

/// Bins of every loss histogram (loss fraction on [0, 1), resolution 1e-3).
pub const LOSS_BINS: usize = 1000;
/// Bins of the portfolio loss histogram (loss fraction on [0, 1), resolution 1e-4).
pub const PORTFOLIO_LOSS_BINS: usize = 10_000;
/// Bins of the horizon NAV-ratio histograms (NAV_h/NAV_0 on [0, 2), resolution 1e-4).
pub const NAV_BINS: usize = 20_000;
/// Bins of the per-month NAV-ratio histograms (on [0, 2), resolution 1e-3): the fan chart, and
/// the haircut when the lending horizon is not the vault's `horizon_days` (MODEL.md §8).
pub const NAV_FAN_BINS: usize = 2_000;
/// Largest collateral ratio recorded (larger ratios, e.g. near full repayment, are clamped).
pub const MAX_COLLATERAL_RATIO: f64 = 1.0e3;
/// Upper edge of the per-month collateral-ratio histograms (ratios on [0, 5); larger ones count
/// as overflow: their quantiles read as "at least 5").
pub const COLLATERAL_HIST_MAX: f64 = 5.0;
/// Bins of the per-month collateral-ratio histograms (resolution 0.05): the report's 5–95 %
/// bands.
pub const COLLATERAL_BINS: usize = 100;

/// What one instrument (a deal, or a tranche of a pool) did over all paths.
///
/// Money is normalised by the instrument's `notional_usd` (original balance or funded amount),
/// so `pv.mean()` is the price as a fraction of par.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstrumentStats {
    /// Deal id, or `<pool>/<tranche>`.
    pub id: String,
    /// Original balance (tranche) or funded amount (deal), USD.
    pub notional_usd: f64,
    /// Discount spread used for `pv`, bps over the discount curve.
    pub discount_spread_bps: f64,
    /// PV of the cash received / notional: Σ_k CF_k·exp(−(z(t_k) + spread)·t_k), t_k = k/12.
    pub pv: Moments,
    /// Loss / notional. Tranche: writedowns (incl. capitalised interest), and for the equity
    /// tranche max(0, notional − undiscounted receipts). Deal: losses booked (EAD − recovery,
    /// or a revenue-share shortfall at term).
    pub loss: Moments,
    /// Paths with loss > 0.
    pub loss_paths: u64,
    /// Paths on which the instrument defaulted (deals: any default kind; tranches: a write-down
    /// or a senior interest default).
    pub default_paths: u64,
    /// Paths whose first default event falls in months 1–12 (the 1-year PD's numerator).
    pub default_paths_1y: u64,
    /// Loss / notional recorded on the paths with a default event only (`n` = `default_paths`);
    /// with `loss` it gives LGD = EL / PD and its delta-method standard error.
    pub loss_on_default: Moments,
    /// Loss / notional on the paths whose first default event falls in months 1–12, 0 on every
    /// other path (its mean is the 1-year EL).
    pub loss_1y: Moments,
    /// Per month k (index k−1): Σ over paths of the cash received in month k / notional.
    pub cash_flow: Vec<ExactSum>,
    /// Per month k (index k−1): Σ over paths of the principal received in month k / notional.
    pub principal: Vec<ExactSum>,
    /// Histogram of loss / notional on [0, 1), resolution 1e-3.
    pub loss_hist: Histogram,
}

impl InstrumentStats {
    /// Empty statistics of an instrument over `months` months.
    pub fn new(id: String, notional_usd: f64, discount_spread_bps: f64, months: usize) -> Self {
        Self {
            id,
            notional_usd,
            discount_spread_bps,
            pv: Moments::default(),
            loss: Moments::default(),
            loss_paths: 0,
            default_paths: 0,
            default_paths_1y: 0,
            loss_on_default: Moments::default(),
            loss_1y: Moments::default(),
            cash_flow: vec![ExactSum::default(); months],
            principal: vec![ExactSum::default(); months],
            loss_hist: Histogram::new(0.0, 1.0, LOSS_BINS),
        }
    }

    /// Exact merge.
    pub fn merge(&mut self, o: &InstrumentStats) {
        self.pv.merge(&o.pv);
        self.loss.merge(&o.loss);
        self.loss_paths += o.loss_paths;
        self.default_paths += o.default_paths;
        self.default_paths_1y += o.default_paths_1y;
        self.loss_on_default.merge(&o.loss_on_default);
        self.loss_1y.merge(&o.loss_1y);
        for (a, b) in self.cash_flow.iter_mut().zip(&o.cash_flow) {
            a.merge(b);
        }
        for (a, b) in self.principal.iter_mut().zip(&o.principal) {
            a.merge(b);
        }
        self.loss_hist.merge(&o.loss_hist);
    }

    /// Expected cash flow per month / notional (index k−1), dividing by `paths`.
    pub fn expected_cash_flow(&self, paths: u64) -> Vec<f64> {
        mean_of(&self.cash_flow, paths)
    }

    /// Expected principal per month / notional (index k−1).
    pub fn expected_principal(&self, paths: u64) -> Vec<f64> {
        mean_of(&self.principal, paths)
    }

    /// PD, the probability of a default event by the horizon: default_paths / n.
    pub fn pd(&self) -> f64 {
        ratio(self.default_paths, self.loss.n)
    }

    /// 1-year PD, a first default event in months 1–12: default_paths_1y / n.
    pub fn pd_1y(&self) -> f64 {
        ratio(self.default_paths_1y, self.loss.n)
    }

    /// Probability of a loss: loss_paths / n.
    pub fn loss_probability(&self) -> f64 {
        ratio(self.loss_paths, self.loss.n)
    }
}

fn mean_of(v: &[ExactSum], paths: u64) -> Vec<f64> {
    v.iter()
        .map(|s| {
            if paths == 0 {
                0.0
            } else {
                s.value() / paths as f64
            }
        })
        .collect()
}

fn ratio(a: u64, n: u64) -> f64 {
    if n == 0 {
        0.0
    } else {
        a as f64 / n as f64
    }
}

/// A per-path loss as a fraction of its notional, with float noise removed: within
/// [`crate::LOSS_EPS`] of 0 it is exactly 0 (no loss), within it of 1 exactly 1 (total loss),
/// so the atoms of a loss distribution are exact in the statistics and the per-path rows alike
/// (counting fractions > 0 gives the loss probability).
#[inline]
pub(crate) fn clean_loss_fraction(x: f64) -> f64 {
    if x.abs() < crate::LOSS_EPS {
        0.0
    } else if (x - 1.0).abs() < crate::LOSS_EPS {
        1.0
    } else {
        x
    }
}

/// Portfolio-wide loss: Σ deal losses / Σ funded amounts of all deals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PortfolioStats {
    /// Σ funded, USD.
    pub funded_usd: f64,
    /// Loss fraction moments.
    pub loss: Moments,
    /// Loss fraction histogram on [0, 1), resolution 1e-4 (for VaR / expected shortfall).
    pub loss_hist: Histogram,
    /// Number of deals defaulted per path: moments.
    pub defaults: Moments,
}

impl PortfolioStats {
    fn merge(&mut self, o: &PortfolioStats) {
        self.loss.merge(&o.loss);
        self.loss_hist.merge(&o.loss_hist);
        self.defaults.merge(&o.defaults);
    }
}

/// The vault (MODEL.md §7). NAV per share is reported as the ratio to its value at t = 0
/// (`nav0_per_share_usd`); multiply by it for USD.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VaultStats {
    /// Vault id.
    pub id: String,
    /// NAV per share at t = 0, USD (staking and unstaking NAV agree at t = 0).
    pub nav0_per_share_usd: f64,
    /// Month of the NAV horizon: ceil(horizon_days / (365/12)), at least 1, at most K.
    pub horizon_month: u32,
    /// Staking NAV per share at the horizon / NAV0 per share.
    pub nav_staking: Moments,
    /// Unstaking NAV per share at the horizon / NAV0 per share.
    pub nav_unstaking: Moments,
    /// Histogram of the staking ratio on [0, 2), resolution 1e-4.
    pub nav_staking_hist: Histogram,
    /// Histogram of the unstaking ratio on [0, 2), resolution 1e-4.
    pub nav_unstaking_hist: Histogram,
    /// Per month k (index k−1): staking NAV per share ratio moments.
    pub monthly_staking: Vec<Moments>,
    /// Per month k (index k−1): unstaking NAV per share ratio moments.
    pub monthly_unstaking: Vec<Moments>,
    /// Per month: histogram of the unstaking ratio on [0, 2), resolution 1e-3 (fan chart, and
    /// the haircut at a lending horizon other than `horizon_month`).
    pub monthly_unstaking_hist: Vec<Histogram>,
    /// Paths on which some redemption request was not fully paid within N cycles of being
    /// made, N = 1, 2, 3 (a request paid at the end of its own cycle waited 1 cycle; one still
    /// unpaid at the horizon counts if the cycles elapsed exceed N).
    pub queue_not_cleared: [u64; 3],
    /// Largest queued shares over the path / initial shares: moments.
    pub max_queue_fraction: Moments,
    /// Most cycles any request waited on the path (unpaid at horizon: cycles elapsed): moments.
    pub max_cycles_waited: Moments,
    /// Number of withdrawal cycles that end within the horizon K.
    pub cycles: u32,
    /// Month in which withdrawal cycle n ends (index n − 1), for cycles ending within K.
    pub cycle_end_month: Vec<u32>,
    /// Paths by the most cycles any redemption request waited on the path (index = cycles
    /// waited, as in `max_cycles_waited`; a request unpaid at the end counts as waiting one
    /// cycle more than elapsed): the distribution of the time the queue takes to clear.
    pub cycles_waited_paths: Vec<u64>,
}

impl VaultStats {
    fn merge(&mut self, o: &VaultStats) {
        self.nav_staking.merge(&o.nav_staking);
        self.nav_unstaking.merge(&o.nav_unstaking);
        self.nav_staking_hist.merge(&o.nav_staking_hist);
        self.nav_unstaking_hist.merge(&o.nav_unstaking_hist);
        for (a, b) in self.monthly_staking.iter_mut().zip(&o.monthly_staking) {
            a.merge(b);
        }
        for (a, b) in self.monthly_unstaking.iter_mut().zip(&o.monthly_unstaking) {
            a.merge(b);
        }
        for (a, b) in self
            .monthly_unstaking_hist
            .iter_mut()
            .zip(&o.monthly_unstaking_hist)
        {
            a.merge(b);
        }
        for i in 0..3 {
            self.queue_not_cleared[i] += o.queue_not_cleared[i];
        }
        self.max_queue_fraction.merge(&o.max_queue_fraction);
        self.max_cycles_waited.merge(&o.max_cycles_waited);
        if self.cycles_waited_paths.len() < o.cycles_waited_paths.len() {
            self.cycles_waited_paths
                .resize(o.cycles_waited_paths.len(), 0);
        }
        for (a, b) in self
            .cycles_waited_paths
            .iter_mut()
            .zip(&o.cycles_waited_paths)
        {
            *a += b;
        }
    }

    /// Records that the worst redemption wait on one path was `cycles` cycles.
    pub fn record_cycles_waited(&mut self, cycles: u32) {
        let i = cycles as usize;
        if self.cycles_waited_paths.len() <= i {
            self.cycles_waited_paths.resize(i + 1, 0);
        }
        self.cycles_waited_paths[i] += 1;
    }

    /// The alpha-quantile of the worst redemption wait over paths, in cycles (exact: the
    /// smallest w with P\[wait ≤ w\] ≥ alpha); 0 without paths.
    pub fn cycles_waited_quantile(&self, alpha: f64) -> u32 {
        let n: u64 = self.cycles_waited_paths.iter().sum();
        if n == 0 {
            return 0;
        }
        let need = (alpha * n as f64).ceil().max(1.0) as u64;
        let mut acc = 0u64;
        for (w, &c) in self.cycles_waited_paths.iter().enumerate() {
            acc += c;
            if acc >= need {
                return w as u32;
            }
        }
        (self.cycles_waited_paths.len() - 1) as u32
    }

    /// Probability the queue is not cleared within `n` cycles (n = 1, 2, 3), else NaN.
    pub fn p_queue_not_cleared(&self, n: usize) -> f64 {
        if !(1..=3).contains(&n) {
            return f64::NAN;
        }
        ratio(self.queue_not_cleared[n - 1], self.nav_staking.n)
    }
}

/// Everything a run of paths produced, mergeable exactly (see the module docs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PathStats {
    /// Model version ("2": MODEL.md version 2).
    pub model_version: String,
    /// Number of paths aggregated.
    pub paths: u64,
    /// Horizon K in months.
    pub months: u32,
    /// Per deal, in portfolio file order.
    pub deals: Vec<InstrumentStats>,
    /// Per pool (file order), per tranche in seniority order.
    pub tranches: Vec<Vec<InstrumentStats>>,
    /// Portfolio loss.
    pub portfolio: PortfolioStats,
    /// The vault, if the portfolio has one.
    pub vault: Option<VaultStats>,
    /// Per deal, per month k (index k−1): collateral ratio (MODEL.md §8)
    /// (G·V_f(t_k)·(1 − haircut) + DSRA) / outstanding, over the paths where the deal is
    /// performing with outstanding > 0 at month end (n counts them); clamped to 1e3.
    pub collateral_ratio: Vec<Vec<Moments>>,
    /// The same ratios' distribution per deal and month, on [0, [`COLLATERAL_HIST_MAX`]) in
    /// [`COLLATERAL_BINS`] bins: quantile bands that, unlike mean ± sd, never leave [0, ∞).
    #[serde(default)]
    pub collateral_ratio_hist: Vec<Vec<Histogram>>,
    /// Per derivative (MODEL.md §10), in portfolio file order (absent without derivatives).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub derivatives: Vec<crate::DerivativeStats>,
}

impl PathStats {
    /// Exact merge of `o` into `self` (both from the same plan).
    pub fn merge(&mut self, o: &PathStats) {
        self.paths += o.paths;
        for (a, b) in self.deals.iter_mut().zip(&o.deals) {
            a.merge(b);
        }
        for (pa, pb) in self.tranches.iter_mut().zip(&o.tranches) {
            for (a, b) in pa.iter_mut().zip(pb) {
                a.merge(b);
            }
        }
        self.portfolio.merge(&o.portfolio);
        if let (Some(a), Some(b)) = (self.vault.as_mut(), o.vault.as_ref()) {
            a.merge(b);
        }
        for (da, db) in self.collateral_ratio.iter_mut().zip(&o.collateral_ratio) {
            for (a, b) in da.iter_mut().zip(db) {
                a.merge(b);
            }
        }
        for (da, db) in self
            .collateral_ratio_hist
            .iter_mut()
            .zip(&o.collateral_ratio_hist)
        {
            for (a, b) in da.iter_mut().zip(db) {
                a.merge(b);
            }
        }
        for (a, b) in self.derivatives.iter_mut().zip(&o.derivatives) {
            a.merge(b);
        }
    }

    /// Mean of a moment (convenience for pricing).
    pub fn mean(m: &Moments) -> f64 {
        m.mean()
    }

    /// Standard error of a moment's mean.
    pub fn std_error(m: &Moments) -> f64 {
        m.std_error()
    }

    /// q-quantile of a histogram.
    pub fn quantile(h: &Histogram, q: f64) -> f64 {
        h.quantile(q)
    }

    /// The statistics of tranche `tranche_id` of pool `pool_id` (id `<pool>/<tranche>`).
    pub fn tranche(&self, pool_id: &str, tranche_id: &str) -> Option<&InstrumentStats> {
        let id = format!("{pool_id}/{tranche_id}");
        self.tranches.iter().flatten().find(|t| t.id == id)
    }

    /// The statistics of deal `id`.
    pub fn deal(&self, id: &str) -> Option<&InstrumentStats> {
        self.deals.iter().find(|d| d.id == id)
    }

    /// Canonical JSON bytes (fixed field order, no maps): the input of the results hash.
    pub fn canonical_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_sum_is_associative_where_f64_is_not() {
        let xs = [0.1, 0.2, 0.3, 1e-3, 7.77, 1.0 / 3.0];
        let mut a = ExactSum::default();
        for x in xs {
            a.add(x);
        }
        let mut b1 = ExactSum::default();
        let mut b2 = ExactSum::default();
        for x in &xs[..2] {
            b1.add(*x);
        }
        for x in xs[2..].iter().rev() {
            b2.add(*x);
        }
        b2.merge(&b1);
        assert_eq!(a, b2);
        assert!((a.value() - xs.iter().sum::<f64>()).abs() < 1e-14);
    }

    #[test]
    fn fixed_point_conversion_is_truncation_of_v_times_2_pow_60() {
        for v in [
            0.0,
            1.5,
            -1.5,
            7.999,
            8.0,
            1234.5678,
            -99_999.25,
            1e-19,
            -3e-18,
            1.0 / 3.0,
        ] {
            assert_eq!(to_fixed(v), (v * SCALE).trunc() as i128, "{v}");
        }
        assert_eq!(to_fixed(1e300), (MAX_VALUE * SCALE) as i128);
        assert_eq!(to_fixed(f64::NAN), 0);
    }

    /// The one-conversion fast path (|v| < 8) and the two-conversion path equal the
    /// `f64::trunc` definition on both sides of every power of two from 2^-70 to 2^17, at the
    /// fast path's edge, on ±0, subnormals, infinities and NaN, and on a spread of odd values.
    #[test]
    fn fast_fixed_point_conversion_equals_the_trunc_definition() {
        // Neighbours of a positive finite float (f64::next_up is newer than the MSRV).
        let up = |v: f64| f64::from_bits(v.to_bits() + 1);
        let down = |v: f64| f64::from_bits(v.to_bits() - 1);
        let mut vals = vec![
            0.0,
            -0.0,
            8.0,
            -8.0,
            5e-324,
            -5e-324,
            f64::INFINITY,
            f64::NAN,
        ];
        vals.extend([down(8.0), -down(8.0), MAX_VALUE, -MAX_VALUE]);
        for e in -70..=17 {
            let p = 2f64.powi(e);
            vals.extend([p, up(p), down(p), -up(p), -down(p), 1.7 * p, -p, -1.3 * p]);
        }
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..20_000 {
            // xorshift64: deterministic spread of mantissas and magnitudes in ±[1e-6, 1e6].
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let m = (x >> 11) as f64 / (1u64 << 53) as f64;
            let v = (m - 0.5) * 10f64.powi((x % 13) as i32 - 6);
            vals.push(v);
        }
        for v in vals {
            assert_eq!(to_fixed(v), to_fixed_reference(v), "{v:e}");
            let c = if v.is_nan() {
                0.0
            } else {
                v.clamp(-MAX_VALUE, MAX_VALUE)
            };
            assert_eq!(to_fixed_clamped(c), to_fixed_reference(v), "{v:e}");
            // ExactSum::add and Moments::add (fast path below 8 without the NaN test and
            // clamps) add the definition's values.
            let mut e = ExactSum::default();
            e.add(v);
            assert_eq!(e.0, to_fixed_reference(v), "{v:e}");
            let mut m = Moments::default();
            m.add(v);
            assert_eq!(m.n, 1);
            assert_eq!(m.sum.0, to_fixed_reference(c), "{v:e}");
            assert_eq!(m.sumsq.0, to_fixed_reference(c * c), "{v:e}");
        }
    }

    /// The branch-free conversion and `Moments::add_nonneg` equal the definition and
    /// `Moments::add` on both sides of every power of two and of its square root from 2^-70
    /// to 2^17 (and up to ∞ for `add_nonneg`, whose clamp it takes), on +0, −0, subnormals and
    /// a log-uniform spread.
    #[test]
    fn branch_free_nonnegative_conversion_equals_the_definition() {
        let up = |v: f64| f64::from_bits(v.to_bits() + 1);
        let down = |v: f64| f64::from_bits(v.to_bits() - 1);
        let mut vals = vec![0.0, -0.0, 5e-324, 1e-300, MAX_VALUE, down(MAX_VALUE)];
        for e in -70..=17 {
            let p = 2f64.powi(e);
            let r = p.sqrt();
            vals.extend([p, up(p), down(p), 1.7 * p, r, up(r), down(r)]);
        }
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let m = (x >> 11) as f64 / (1u64 << 53) as f64;
            vals.push(10f64.powf(m * 11.0 - 6.0)); // [1e-6, 1e5)
        }
        for &v in vals.iter().filter(|&&v| v <= MAX_VALUE) {
            // SAFETY: 0 ≤ v ≤ MAX_VALUE.
            assert_eq!(
                unsafe { to_fixed_nonneg(v) },
                to_fixed_reference(v),
                "{v:e}"
            );
        }
        vals.extend([up(MAX_VALUE), 1e6, 1e300, f64::INFINITY]);
        for v in vals {
            let (mut a, mut b) = (Moments::default(), Moments::default());
            a.add(v);
            // SAFETY: v ≥ 0.
            unsafe { b.add_nonneg(v) };
            assert_eq!(a, b, "{v:e}");
        }
    }

    /// Outside its contract (an unclamped value of 2^17 or more) the conversion still
    /// truncates exactly, through its general path, instead of misusing a fast one.
    #[test]
    fn fixed_point_conversion_of_unclamped_values_is_still_truncation() {
        for v in [131_072.0f64, -131_072.5, 1e6 + 0.25, -3e7, 1e15, 5e17] {
            let whole = v.trunc();
            let want = (i128::from(whole as i64) << FRAC_BITS)
                + i128::from(((v - whole) * SCALE).trunc() as i64);
            assert_eq!(to_fixed_clamped(v), want, "{v:e}");
        }
        assert_eq!(to_fixed_clamped(f64::NAN), 0);
    }

    /// The running minimum and maximum are `m.min(x)` and `m.max(x)` wherever those are
    /// specified (m ≠ x, or m NaN: x), and a tie keeps the recorded value (−0 against +0
    /// too), as x86-64's `minsd`/`maxsd` do.
    #[test]
    fn histogram_min_and_max_are_f64_min_and_max() {
        let vals = [
            f64::NEG_INFINITY,
            -1e300,
            -2.5,
            -0.0,
            0.0,
            5e-324,
            0.75,
            4.99,
            1e300,
            f64::INFINITY,
        ];
        for m in vals.iter().copied().chain([f64::NAN]) {
            for x in vals {
                let mut h = Histogram::new(0.0, 5.0, 100);
                h.min = Some(m);
                h.max = Some(m);
                h.add(x);
                let (lo, hi) = (h.min.unwrap(), h.max.unwrap());
                if m == x {
                    assert_eq!((lo.to_bits(), hi.to_bits()), (m.to_bits(), m.to_bits()));
                } else {
                    assert_eq!(lo.to_bits(), m.min(x).to_bits(), "min({m}, {x})");
                    assert_eq!(hi.to_bits(), m.max(x).to_bits(), "max({m}, {x})");
                }
            }
        }
        let mut h = Histogram::new(0.0, 5.0, 100);
        h.add(f64::NAN);
        assert_eq!((h.min, h.max), (None, None));
        h.add(2.0);
        assert_eq!((h.min, h.max), (Some(2.0), Some(2.0)));
    }

    /// A histogram with hi < lo (none in this crate) still puts every x > lo into bin 0 (its
    /// bin index is negative), as the saturating `as usize` did; NaN is overflow.
    #[test]
    fn reversed_histogram_counts_in_bin_zero() {
        let mut h = Histogram::new(1.0, 0.0, 10);
        for x in [1.5, 2.0, 1e300, f64::INFINITY] {
            h.add(x);
        }
        h.add(f64::NAN);
        assert_eq!(h.counts[0], 4);
        assert_eq!(h.overflow, 1);
    }

    /// The histogram's bin without `f64::floor` is floor((x − lo)/(hi − lo)·bins), at bin
    /// edges too, and NaN, +∞ and values at or above `hi` are overflow.
    #[test]
    fn histogram_bin_is_the_floor_definition() {
        let mut h = Histogram::new(0.0, 5.0, 100);
        let mut want = vec![0u64; 100];
        let mut over = 0;
        for i in 0..=10_050u32 {
            let x0 = f64::from(i) * 5e-4;
            for x in [x0, f64::from_bits(x0.to_bits() + 1)] {
                if x == 0.0 {
                    continue;
                }
                h.add(x);
                let b = ((x - 0.0) / 5.0 * 100.0).floor();
                if b < 100.0 {
                    want[b as usize] += 1;
                } else {
                    over += 1;
                }
            }
        }
        h.add(f64::NAN);
        h.add(f64::INFINITY);
        assert_eq!(h.counts, want);
        assert_eq!(h.overflow, over + 2);
    }

    #[test]
    fn exact_sum_serialises_as_string() {
        let s = ExactSum(-(1i128 << 100));
        let j = serde_json::to_string(&s).unwrap();
        assert_eq!(serde_json::from_str::<ExactSum>(&j).unwrap(), s);
    }

    #[test]
    fn histogram_serialises_sparsely_and_round_trips() {
        let mut h = Histogram::new(0.0, 1.0, 1000);
        h.add(0.25);
        h.add(0.25);
        h.add(0.9);
        let j = serde_json::to_string(&h).unwrap();
        assert!(
            j.contains(r#""counts":{"len":1000,"nonzero":[[250,2],[900,1]]}"#),
            "{j}"
        );
        assert_eq!(serde_json::from_str::<Histogram>(&j).unwrap(), h);
    }

    #[test]
    fn moments_mean_variance_and_clamp() {
        let mut m = Moments::default();
        for x in [1.0, 2.0, 3.0, 4.0] {
            m.add(x);
        }
        assert!((m.mean() - 2.5).abs() < 1e-15);
        assert!((m.variance() - 5.0 / 3.0).abs() < 1e-12);
        m.add(f64::NAN);
        m.add(1e300);
        assert_eq!(m.n, 6);
        assert!(m.mean().is_finite());
    }

    #[test]
    fn histogram_quantiles_within_one_bin() {
        let mut h = Histogram::new(0.0, 1.0, 100);
        for i in 0..10_000 {
            h.add((f64::from(i) + 0.5) / 10_000.0);
        }
        for q in [0.01, 0.5, 0.99] {
            assert!((h.quantile(q) - q).abs() <= h.resolution(), "{q}");
        }
        assert!((h.tail_mean(0.9) - 0.95).abs() < 0.01);
        h.add(-1.0);
        h.add(5.0);
        assert_eq!(h.total(), 10_002);
        assert_eq!(h.quantile(0.0), 0.0);
        assert_eq!(h.quantile(1.0), 1.0);
        // A point mass is exact.
        let mut z = Histogram::new(0.0, 1.0, 10);
        z.add(0.0);
        z.add(0.0);
        assert_eq!(z.quantile(0.99), 0.0);
    }

    /// MODEL.md §8: a quantile that falls on an atom (no loss, total loss) is the atom.
    #[test]
    fn quantiles_at_an_atom_are_the_atom() {
        // 9,988 paths without a loss, 12 with losses of 5 %..60 % (PD 0.12 %): q99 is 0.
        let mut h = Histogram::new(0.0, 1.0, LOSS_BINS);
        for _ in 0..9_988 {
            h.add(0.0);
        }
        for i in 0..12 {
            h.add(0.05 + 0.05 * f64::from(i));
        }
        assert_eq!(h.quantile(0.5), 0.0);
        assert_eq!(h.quantile(0.99), 0.0);
        assert_eq!(h.quantile(0.9988), 0.0);
        assert!(h.quantile(0.9995) > 0.05);
        // A tranche without loss on 99.7 % of the paths has median 0.
        let mut t = Histogram::new(0.0, 1.0, LOSS_BINS);
        for i in 0..1000 {
            t.add(if i < 997 { 0.0 } else { 0.0004 });
        }
        assert_eq!(t.quantile(0.5), 0.0);
        assert_eq!(t.quantile(0.997), 0.0);
        // Total losses on 30 % of the paths, none on 70 %.
        let mut w = Histogram::new(0.0, 1.0, LOSS_BINS);
        for i in 0..1000 {
            w.add(if i < 700 { 0.0 } else { 1.0 });
        }
        assert_eq!(w.quantile(0.5), 0.0);
        assert_eq!(w.quantile(0.7), 0.0);
        assert_eq!(w.quantile(0.75), 1.0);
        assert_eq!(w.quantile(0.99), 1.0);
        assert!((w.tail_mean(0.5) - 0.6).abs() < 1e-12);
        // Split and merged, the atom is kept.
        let mut a = Histogram::new(0.0, 1.0, LOSS_BINS);
        let mut b = Histogram::new(0.0, 1.0, LOSS_BINS);
        for i in 0..1000 {
            let x = if i < 995 { 0.0 } else { 0.3 };
            if i % 2 == 0 {
                a.add(x)
            } else {
                b.add(x)
            }
        }
        a.merge(&b);
        assert_eq!(a.total(), 1000);
        assert_eq!(a.quantile(0.99), 0.0);
    }

    #[test]
    fn loss_fractions_within_noise_of_an_atom_are_the_atom() {
        assert_eq!(clean_loss_fraction(3e-13), 0.0);
        assert_eq!(clean_loss_fraction(-3e-13), 0.0);
        assert_eq!(clean_loss_fraction(1.0 - 2e-16), 1.0);
        assert_eq!(clean_loss_fraction(1e-9), 1e-9);
        assert_eq!(clean_loss_fraction(0.999), 0.999);
        assert_eq!(clean_loss_fraction(1.2), 1.2);
    }

    #[test]
    fn histogram_without_at_lo_deserialises_as_before() {
        let h = Histogram::new(0.0, 1.0, 4);
        let mut v = serde_json::to_value(&h).unwrap();
        v.as_object_mut().unwrap().remove("at_lo");
        let back: Histogram = serde_json::from_value(v).unwrap();
        assert_eq!(back, h);
    }
}
