//! The accumulator: [`PathStats`] as u64 words that kernels add to atomically, and its
//! conversion back (exact: the same integers the CPU backend's `ExactSum`s and counters hold).
//!
//! Word formats: an `ExactSum` is its `i128` as two's-complement (low word, high word); a
//! `Moments` is n, Σx, Σx² ([`MOMENT_WORDS`] words); a histogram is its bin counts, then
//! at_lo, underflow, overflow, and the minimum and maximum as order-preserving keys of the f64
//! bits ([`f64_key`]; `u64::MAX` / 0 mean "no observation").

use crate::error::{GpuError, Result};
use crate::flat::{
    AccLayout, FlatPlan, DERIVATIVE_HEAD_WORDS, INSTRUMENT_HEAD_WORDS, MOMENT_WORDS,
};
use gaib_simulator::{ExactSum, Histogram, InstrumentStats, Moments, PathStats};

/// Order-preserving u64 key of a non-NaN f64 (the kernel's `g_key`).
pub fn f64_key(x: f64) -> u64 {
    let b = x.to_bits();
    if b >> 63 == 1 {
        !b
    } else {
        b | (1 << 63)
    }
}

/// Inverse of [`f64_key`].
pub fn key_f64(k: u64) -> f64 {
    if k >> 63 == 1 {
        f64::from_bits(k & !(1 << 63))
    } else {
        f64::from_bits(!k)
    }
}

/// The initial accumulator of a layout: zeros, every histogram minimum at `u64::MAX`.
pub(crate) fn initial(l: &AccLayout, vault: bool, nd: usize, nt: usize) -> Vec<u64> {
    let mut a = vec![0u64; l.size];
    let mut empty_hist = |off: usize, bins: usize| a[off + bins + 3] = u64::MAX;
    for i in 0..nd + nt {
        empty_hist(l.deals + i * l.inst_size + l.inst_hist(), l.inst_bins);
    }
    empty_hist(l.portfolio + MOMENT_WORDS, l.port_bins);
    for i in 0..nd * l.months {
        empty_hist(
            l.collateral_hist + i * AccLayout::hist_words(l.coll_bins),
            l.coll_bins,
        );
    }
    if vault {
        let v = l.vault_offsets();
        empty_hist(l.vault + v[2], l.nav_bins);
        empty_hist(l.vault + v[3], l.nav_bins);
        for k in 0..l.months {
            empty_hist(
                l.vault + v[6] + k * AccLayout::hist_words(l.fan_bins),
                l.fan_bins,
            );
        }
    }
    a
}

fn sum(a: &[u64], off: usize) -> ExactSum {
    ExactSum(((u128::from(a[off + 1]) << 64) | u128::from(a[off])) as i128)
}

fn moments(a: &[u64], off: usize) -> Moments {
    Moments {
        n: a[off],
        sum: sum(a, off + 1),
        sumsq: sum(a, off + 3),
    }
}

fn hist(a: &[u64], off: usize, into: &mut Histogram) -> Result<()> {
    let bins = into.counts.len();
    into.counts.copy_from_slice(&a[off..off + bins]);
    into.at_lo = a[off + bins];
    into.underflow = a[off + bins + 1];
    into.overflow = a[off + bins + 2];
    let (kmin, kmax) = (a[off + bins + 3], a[off + bins + 4]);
    into.min = (kmin != u64::MAX).then(|| key_f64(kmin));
    into.max = (kmax != 0).then(|| key_f64(kmax));
    if into.min.is_some() != into.max.is_some() {
        return Err(GpuError::Kernel(format!(
            "histogram at word {off}: minimum and maximum disagree on emptiness"
        )));
    }
    Ok(())
}

fn instrument(a: &[u64], off: usize, l: &AccLayout, s: &mut InstrumentStats) -> Result<()> {
    s.pv = moments(a, off);
    s.loss = moments(a, off + 5);
    s.loss_paths = a[off + 10];
    s.default_paths = a[off + 11];
    s.default_paths_1y = a[off + 12];
    s.loss_on_default = moments(a, off + 13);
    s.loss_1y = moments(a, off + 18);
    let k = l.months;
    for m in 0..k {
        s.cash_flow[m] = sum(a, off + INSTRUMENT_HEAD_WORDS + 2 * m);
        s.principal[m] = sum(a, off + INSTRUMENT_HEAD_WORDS + 2 * k + 2 * m);
    }
    hist(a, off + l.inst_hist(), &mut s.loss_hist)
}

/// Error bits the kernel sets in the accumulator's error word.
const ERR_NAMES: [(u64, &str); 3] = [
    (1, "the FlatPlan header magic does not match the kernel"),
    (
        2,
        "the per-thread scratch sizes of the FlatPlan and the kernel disagree",
    ),
    (4, "a redemption wait beyond the cycles_waited_paths table"),
];

/// The statistics an accumulator holds, shaped as `flat.template`.
pub fn to_path_stats(flat: &FlatPlan, a: &[u64]) -> Result<PathStats> {
    let l = &flat.layout;
    if a.len() != l.size {
        return Err(GpuError::Kernel(format!(
            "accumulator of {} words, layout needs {}",
            a.len(),
            l.size
        )));
    }
    let err = a[l.err];
    if err != 0 {
        let why: Vec<&str> = ERR_NAMES
            .iter()
            .filter(|(b, _)| err & b != 0)
            .map(|(_, n)| *n)
            .collect();
        return Err(GpuError::Kernel(format!(
            "kernel error bits {err:#x}: {}",
            why.join("; ")
        )));
    }
    let mut st = flat.template.clone();
    st.paths = a[l.paths];
    for (d, s) in st.deals.iter_mut().enumerate() {
        instrument(a, l.deals + d * l.inst_size, l, s)?;
    }
    for (t, s) in st.tranches.iter_mut().flatten().enumerate() {
        instrument(a, l.tranches + t * l.inst_size, l, s)?;
    }
    let p = l.portfolio;
    st.portfolio.loss = moments(a, p);
    hist(a, p + MOMENT_WORDS, &mut st.portfolio.loss_hist)?;
    st.portfolio.defaults = moments(a, p + MOMENT_WORDS + AccLayout::hist_words(l.port_bins));
    if let Some(v) = st.vault.as_mut() {
        let o = l.vault_offsets().map(|x| x + l.vault);
        v.nav_staking = moments(a, o[0]);
        v.nav_unstaking = moments(a, o[1]);
        hist(a, o[2], &mut v.nav_staking_hist)?;
        hist(a, o[3], &mut v.nav_unstaking_hist)?;
        for k in 0..l.months {
            v.monthly_staking[k] = moments(a, o[4] + MOMENT_WORDS * k);
            v.monthly_unstaking[k] = moments(a, o[5] + MOMENT_WORDS * k);
            hist(
                a,
                o[6] + k * AccLayout::hist_words(l.fan_bins),
                &mut v.monthly_unstaking_hist[k],
            )?;
        }
        for n in 0..3 {
            v.queue_not_cleared[n] = a[o[7] + n];
        }
        v.max_queue_fraction = moments(a, o[8]);
        v.max_cycles_waited = moments(a, o[9]);
        let cw = l.vault + l.vault_cw();
        v.cycles_waited_paths.copy_from_slice(&a[cw..cw + l.cw_len]);
    }
    for (d, months) in st.collateral_ratio.iter_mut().enumerate() {
        for (k, m) in months.iter_mut().enumerate() {
            *m = moments(a, l.collateral + (d * l.months + k) * MOMENT_WORDS);
        }
    }
    for (d, months) in st.collateral_ratio_hist.iter_mut().enumerate() {
        for (k, h) in months.iter_mut().enumerate() {
            let off = l.collateral_hist + (d * l.months + k) * AccLayout::hist_words(l.coll_bins);
            hist(a, off, h)?;
        }
    }
    for (i, s) in st.derivatives.iter_mut().enumerate() {
        let off = l.derivatives + i * l.dv_size;
        s.pv = moments(a, off);
        s.paid_paths = a[off + MOMENT_WORDS];
        for (k, m) in s.settlement.iter_mut().enumerate() {
            *m = sum(a, off + DERIVATIVE_HEAD_WORDS + 2 * k);
        }
    }
    Ok(st)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_preserve_order_and_invert() {
        let xs = [
            f64::NEG_INFINITY,
            -1e300,
            -1.0,
            -1e-300,
            -0.0,
            0.0,
            1e-300,
            0.5,
            1.0,
            f64::INFINITY,
        ];
        for w in xs.windows(2) {
            assert!(f64_key(w[0]) < f64_key(w[1]), "{} {}", w[0], w[1]);
        }
        for x in xs {
            assert_eq!(key_f64(f64_key(x)).to_bits(), x.to_bits());
            assert!(f64_key(x) != 0 && f64_key(x) != u64::MAX);
        }
    }

    #[test]
    fn exact_sum_words_are_twos_complement() {
        for v in [0i128, 1, -1, 1 << 70, -(1 << 70) - 12345, i128::MAX / 3] {
            let u = v as u128;
            let a = [u as u64, (u >> 64) as u64];
            assert_eq!(sum(&a, 0), ExactSum(v));
        }
    }
}
