//! The host harness: `kernels/gaib_mc.cu` compiled as host C++ (`harness/shim.h`, built by
//! `build.rs` with the `cc` crate), one host thread playing one CUDA thread. It is what the
//! host-parity tests hold against the Rust CPU backend path by path, without a GPU: the same
//! source file the device compiles, not a copy.

use crate::acc::to_path_stats;
use crate::error::{GpuError, Result};
use crate::flat::FlatPlan;
use gaib_simulator::{check_paths, PathRows, PathStats, SimPlan};
use std::ops::Range;

#[allow(unsafe_code)]
mod ffi {
    extern "C" {
        pub(super) fn gaib_simulate(
            f: *const f64,
            i: *const i32,
            acc: *mut u64,
            scratch_f: *mut f64,
            scratch_i: *mut i32,
            rows: *mut f64,
            trace: *mut f64,
            seed_lo: u32,
            seed_hi: u32,
            path0: u32,
            n_paths: u32,
            trace_path: u32,
            replicas: u32,
        );
        pub(super) fn gaib_host_header_counts(n_i: *mut i32, n_f: *mut i32) -> i32;
        pub(super) fn gaib_host_philox(ctr: *const u32, key: *const u32, out: *mut u32);
        pub(super) fn gaib_host_erfc(x: f64) -> f64;
        pub(super) fn gaib_host_default_time(a: f64, h: f64) -> f64;
        pub(super) fn gaib_host_cents(x: f64) -> f64;
        pub(super) fn gaib_host_exp(x: f64) -> f64;
        pub(super) fn gaib_host_ln(x: f64) -> f64;
        pub(super) fn gaib_host_ln_1p(x: f64) -> f64;
        pub(super) fn gaib_host_sin_cos_tau(u: f64, s: *mut f64, c: *mut f64);
    }
}

/// (magic, header slots, real scalar slots) as the compiled kernel sees them.
pub fn header_counts() -> (i32, usize, usize) {
    let (mut ni, mut nf) = (0, 0);
    // SAFETY: writes two ints.
    let magic = unsafe { ffi::gaib_host_header_counts(&mut ni, &mut nf) };
    (magic, ni as usize, nf as usize)
}

/// The kernel's Philox4x32-10 of `counter` under `key`.
pub fn philox(counter: [u32; 4], key: [u32; 2]) -> [u32; 4] {
    let mut out = [0u32; 4];
    // SAFETY: reads 4 + 2 words, writes 4.
    unsafe { ffi::gaib_host_philox(counter.as_ptr(), key.as_ptr(), out.as_mut_ptr()) };
    out
}

/// The kernel's e^x (`g_exp`, a transcription of `gaib_simulator::math::exp`).
pub fn exp(x: f64) -> f64 {
    // SAFETY: pure function.
    unsafe { ffi::gaib_host_exp(x) }
}

/// The kernel's ln x (`g_ln`, a transcription of `gaib_simulator::math::ln`).
pub fn ln(x: f64) -> f64 {
    // SAFETY: pure function.
    unsafe { ffi::gaib_host_ln(x) }
}

/// The kernel's ln(1 + x) (`g_ln_1p`, a transcription of `gaib_simulator::math::ln_1p`).
pub fn ln_1p(x: f64) -> f64 {
    // SAFETY: pure function.
    unsafe { ffi::gaib_host_ln_1p(x) }
}

/// The kernel's (sin 2πu, cos 2πu) (`g_sin_cos_tau`, a transcription of
/// `gaib_simulator::math::sin_cos_tau`).
pub fn sin_cos_tau(u: f64) -> (f64, f64) {
    let (mut s, mut c) = (0.0, 0.0);
    // SAFETY: pure function; writes two doubles.
    unsafe { ffi::gaib_host_sin_cos_tau(u, &mut s, &mut c) };
    (s, c)
}

/// The kernel's erfc (a transcription of `gaib_simulator::math::erfc`, statrs' erfc on
/// `math::exp`).
pub fn erfc(x: f64) -> f64 {
    // SAFETY: pure function.
    unsafe { ffi::gaib_host_erfc(x) }
}

/// The kernel's default time tau = −ln(1 − Phi(a))/h, years.
pub fn default_time(a: f64, h: f64) -> f64 {
    // SAFETY: pure function.
    unsafe { ffi::gaib_host_default_time(a, h) }
}

/// The kernel's cents rounding (half to even), USD.
pub fn cents(x: f64) -> f64 {
    // SAFETY: pure function.
    unsafe { ffi::gaib_host_cents(x) }
}

/// What one host-kernel run returns.
#[derive(Debug, Clone)]
pub struct KernelRun {
    /// Merged statistics.
    pub stats: PathStats,
    /// Per-path rows (`flat.row_stride` doubles per path, see [`PathRow`]) when asked for.
    pub rows: Vec<f64>,
}

/// One path's row of a kernel run (views into [`KernelRun::rows`]).
#[derive(Debug, Clone, Copy)]
pub struct PathRow<'a> {
    raw: &'a [f64],
    nd: usize,
    nt: usize,
    vault: bool,
}

impl<'a> PathRow<'a> {
    /// Row `i` of `rows`.
    pub fn of(flat: &FlatPlan, rows: &'a [f64], i: usize) -> Self {
        let s = flat.row_stride;
        PathRow {
            raw: &rows[i * s..(i + 1) * s],
            nd: flat.n_deals(),
            nt: flat.n_tranches(),
            vault: flat.has_vault(),
        }
    }
    /// Deal `d`: (PV / notional, loss / notional, default month or 0).
    pub fn deal(&self, d: usize) -> (f64, f64, u32) {
        let r = &self.raw[3 * d..3 * d + 3];
        (r[0], r[1], r[2] as u32)
    }
    /// Tranche `t` (over all pools in order): (PV / notional, loss / notional, default month).
    pub fn tranche(&self, t: usize) -> (f64, f64, u32) {
        let r = &self.raw[3 * self.nd + 3 * t..3 * self.nd + 3 * t + 3];
        (r[0], r[1], r[2] as u32)
    }
    /// Portfolio loss fraction.
    pub fn portfolio_loss(&self) -> f64 {
        self.raw[3 * (self.nd + self.nt)]
    }
    /// Vault: (staking NAV per share at the horizon, unstaking, max queue fraction, worst
    /// wait in cycles), USD per share for the first two; None without a vault.
    pub fn vault(&self) -> Option<(f64, f64, f64, u32)> {
        let o = 3 * (self.nd + self.nt) + 1;
        self.vault.then(|| {
            let r = &self.raw[o..o + 4];
            (r[0], r[1], r[2], r[3] as u32)
        })
    }
    /// Derivative `i`: PV to its holder / reference amount (MODEL.md §10.5).
    pub fn derivative(&self, i: usize) -> f64 {
        let o = 3 * (self.nd + self.nt) + 1 + if self.vault { 4 } else { 0 };
        self.raw[o + i]
    }
}

fn paths_u32(paths: &Range<u64>) -> Result<(u32, u32)> {
    check_paths(paths)?;
    let n = paths.end - paths.start;
    let start = u32::try_from(paths.start).map_err(|_| GpuError::Unsupported {
        what: "a path index ≥ 2^32".into(),
    })?;
    let n = u32::try_from(n).map_err(|_| GpuError::Unsupported {
        what: "more than 2^32 − 1 paths in one call".into(),
    })?;
    Ok((start, n))
}

/// Runs `paths` under `seed` through the host-compiled kernel; with `rows`, also returns
/// every path's row.
pub fn run(flat: &FlatPlan, paths: Range<u64>, seed: u64, rows: bool) -> Result<KernelRun> {
    let (acc, rows) = accumulate(flat, paths, seed, rows)?;
    Ok(KernelRun {
        stats: to_path_stats(flat, &acc)?,
        rows,
    })
}

/// As [`run`], returning the raw accumulator words (one replica, `flat.layout.size` words)
/// and the rows.
pub fn accumulate(
    flat: &FlatPlan,
    paths: Range<u64>,
    seed: u64,
    rows: bool,
) -> Result<(Vec<u64>, Vec<f64>)> {
    let (start, n) = paths_u32(&paths)?;
    let mut acc = flat.acc_init.clone();
    let mut sf = vec![0.0f64; flat.scratch_f64];
    let mut si = vec![0i32; flat.scratch_i32];
    let mut row_buf = if rows {
        vec![0.0f64; flat.row_stride * n as usize]
    } else {
        Vec::new()
    };
    let row_ptr = if rows {
        row_buf.as_mut_ptr()
    } else {
        std::ptr::null_mut()
    };
    // SAFETY: every buffer has the size the header in `flat` declares (the kernel checks the
    // scratch sizes against its own layout and sets an error bit instead of writing on).
    unsafe {
        ffi::gaib_simulate(
            flat.f64s.as_ptr(),
            flat.i32s.as_ptr(),
            acc.as_mut_ptr(),
            sf.as_mut_ptr(),
            si.as_mut_ptr(),
            row_ptr,
            std::ptr::null_mut(),
            seed as u32,
            (seed >> 32) as u32,
            start,
            n,
            0,
            1,
        );
    }
    Ok((acc, row_buf))
}

/// The per-month trace of path `path` under `seed` from the host-compiled kernel:
/// `flat.months()` × `flat.trace_stride` doubles (fields: [`crate::TRACE_DEAL_FIELDS`] per
/// deal, then fleets, tranches and the vault).
pub fn trace(flat: &FlatPlan, path: u32, seed: u64) -> Result<Vec<f64>> {
    let mut acc = flat.acc_init.clone();
    let mut sf = vec![0.0f64; flat.scratch_f64];
    let mut si = vec![0i32; flat.scratch_i32];
    let mut tr = vec![0.0f64; flat.trace_stride * flat.months()];
    // SAFETY: as in `run`; the trace buffer holds K months of `trace_stride` doubles.
    unsafe {
        ffi::gaib_simulate(
            flat.f64s.as_ptr(),
            flat.i32s.as_ptr(),
            acc.as_mut_ptr(),
            sf.as_mut_ptr(),
            si.as_mut_ptr(),
            std::ptr::null_mut(),
            tr.as_mut_ptr(),
            seed as u32,
            (seed >> 32) as u32,
            path,
            1,
            path,
            1,
        );
    }
    to_path_stats(flat, &acc)?;
    Ok(tr)
}

/// A kernel's rows of paths `path0..` as the simulator's [`PathRows`] (the per-path output
/// every backend hands to a `PathSink`): deal and tranche PV and loss fractions, deal default
/// months, the portfolio loss, the number of deals defaulted, and the vault's horizon NAV per
/// share and largest queue fraction, and each derivative's PV fraction.
pub fn to_path_rows(plan: &SimPlan, flat: &FlatPlan, rows: &[f64], path0: u64) -> PathRows {
    let n = rows.len() / flat.row_stride.max(1);
    let mut out = PathRows::with_capacity(plan, n);
    for i in 0..n {
        let r = PathRow::of(flat, rows, i);
        out.path.push(path0 + i as u64);
        let mut defaults = 0u32;
        for d in 0..flat.n_deals() {
            let (pv, lf, dm) = r.deal(d);
            out.deal_pv_frac[d].push(pv);
            out.deal_loss_frac[d].push(lf);
            out.deal_default_month[d].push(dm);
            if dm != 0 {
                defaults += 1;
            }
        }
        for t in 0..flat.n_tranches() {
            let (pv, lf, _) = r.tranche(t);
            out.tranche_pv_frac[t].push(pv);
            out.tranche_loss_frac[t].push(lf);
        }
        out.portfolio_loss_frac.push(r.portfolio_loss());
        out.defaults.push(defaults);
        if let (Some(v), Some((s, u, q, _))) = (out.vault.as_mut(), r.vault()) {
            v.nav_per_share_staking_usd.push(s);
            v.nav_per_share_unstaking_usd.push(u);
            v.max_queue_fraction.push(q);
        }
        for (d, col) in out.derivative_pv_frac.iter_mut().enumerate() {
            col.push(r.derivative(d));
        }
    }
    out
}
