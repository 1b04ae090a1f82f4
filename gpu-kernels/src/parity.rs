//! Path-by-path comparison of a kernel run with the CPU backend (MODEL.md §9), shared by the
//! host-parity tests and the device check (`gaib-gpu-check`).

use crate::host::PathRow;
use crate::trace::reference_path;
use crate::FlatPlan;
use gaib_simulator::{Histogram, Moments, PathRows, PathStats, SimPlan};

/// Whether `a` and `b` agree within `rel` relative (NaN equals NaN).
pub fn close(a: f64, b: f64, rel: f64) -> bool {
    a == b || (a.is_nan() && b.is_nan()) || (a - b).abs() <= rel * a.abs().max(b.abs()).max(1e-300)
}

/// The paths (index in the run) on which a kernel's rows (`rows`, from [`crate::host::run`] or
/// [`crate::CudaBackend::run_flat`]) disagree with the CPU backend's rows beyond `rel`, and
/// in what (deal and tranche PV and loss, deal default month, portfolio loss, vault NAV).
pub fn path_mismatches(
    plan: &SimPlan,
    flat: &FlatPlan,
    cpu: &PathRows,
    rows: &[f64],
    rel: f64,
) -> Vec<(usize, String)> {
    let nd = plan.n_deals();
    let nt = flat.n_tranches();
    let mut out = Vec::new();
    for i in 0..cpu.len() {
        let r = PathRow::of(flat, rows, i);
        let mut why = Vec::new();
        for d in 0..nd {
            let (pv, lf, dm) = r.deal(d);
            if !close(pv, cpu.deal_pv_frac[d][i], rel) {
                why.push(format!("deal {} pv", plan.deal_ids[d]));
            }
            if !close(lf, cpu.deal_loss_frac[d][i], rel) {
                why.push(format!("deal {} loss", plan.deal_ids[d]));
            }
            if dm != cpu.deal_default_month[d][i] {
                why.push(format!("deal {} default month", plan.deal_ids[d]));
            }
        }
        let ids: Vec<&String> = plan.tranche_ids.iter().flatten().collect();
        for t in 0..nt {
            let (pv, lf, _) = r.tranche(t);
            if !close(pv, cpu.tranche_pv_frac[t][i], rel) {
                why.push(format!("tranche {} pv", ids[t]));
            }
            if !close(lf, cpu.tranche_loss_frac[t][i], rel) {
                why.push(format!("tranche {} loss", ids[t]));
            }
        }
        if !close(r.portfolio_loss(), cpu.portfolio_loss_frac[i], rel) {
            why.push("portfolio loss".into());
        }
        if let (Some((s, u, q, _)), Some(v)) = (r.vault(), cpu.vault.as_ref()) {
            if !close(s, v.nav_per_share_staking_usd[i], rel)
                || !close(u, v.nav_per_share_unstaking_usd[i], rel)
                || !close(q, v.max_queue_fraction[i], rel)
            {
                why.push("vault nav".into());
            }
        }
        for (j, id) in plan.derivatives.ids.iter().enumerate() {
            if !close(r.derivative(j), cpu.derivative_pv_frac[j][i], rel) {
                why.push(format!("derivative {id} pv"));
            }
        }
        if !why.is_empty() {
            out.push((i, why.join(", ")));
        }
    }
    out
}

/// The paths whose tranche default months in a kernel's rows (paths `0..n` under `seed`)
/// differ from the engine's own month-by-month run ([`reference_path`]).
pub fn tranche_default_mismatches(
    plan: &SimPlan,
    flat: &FlatPlan,
    rows: &[f64],
    n: usize,
    seed: u64,
) -> Vec<usize> {
    (0..n)
        .filter(|&i| {
            let r = PathRow::of(flat, rows, i);
            let want = reference_path(plan, seed, i as u32).tranche_default_month;
            (0..flat.n_tranches()).any(|t| r.tranche(t).2 != want[t])
        })
        .collect()
}

/// Moments agree: the same count, sums within `rel`.
pub fn moments_close(a: &Moments, b: &Moments, rel: f64) -> bool {
    a.n == b.n
        && close(a.sum.value(), b.sum.value(), rel)
        && close(a.sumsq.value(), b.sumsq.value(), rel)
}

/// Paths a histogram would have to move between cells to turn `a` into `b`: the sum of the
/// positive differences of the counts per cell (bins, exactly-at-lo, underflow, overflow);
/// `u64::MAX` when the two have different edges or bin counts (not comparable).
///
/// Up to model version 4 a device's transcendental functions differed from glibc's in the last
/// bits, so a path whose value lay within that difference of a bin edge could land in the
/// neighbouring bin: the merged sums agreed within MODEL.md §9's 1e-9, but a histogram moved a
/// few paths. Version 5's own functions (MODEL.md §9.1) should make a device bit-identical;
/// until a device run confirms it, the device check keeps this tolerance.
pub fn hist_moved(a: &Histogram, b: &Histogram) -> u64 {
    if a.lo.to_bits() != b.lo.to_bits()
        || a.hi.to_bits() != b.hi.to_bits()
        || a.counts.len() != b.counts.len()
    {
        return u64::MAX;
    }
    let moved =
        |x: &[u64], y: &[u64]| -> u64 { x.iter().zip(y).map(|(p, q)| p.saturating_sub(*q)).sum() };
    let edges = |h: &Histogram| [h.at_lo, h.underflow, h.overflow];
    moved(&a.counts, &b.counts) + moved(&edges(a), &edges(b))
}

/// Fields of two merged statistics that differ: sums beyond `rel`, counts exactly, and
/// histograms that move more than `hist_paths` paths between cells (see [`hist_moved`]: 0 for
/// the host-compiled kernel, which must be bit-identical; MODEL.md §9's 0.01 % of the paths
/// on a device).
pub fn stats_differences(a: &PathStats, b: &PathStats, rel: f64, hist_paths: u64) -> Vec<String> {
    let hist_differs = |x: &Histogram, y: &Histogram| hist_moved(x, y) > hist_paths;
    let hists_differ = |x: &[Histogram], y: &[Histogram]| {
        x.len() != y.len() || x.iter().zip(y).any(|(p, q)| hist_differs(p, q))
    };
    let mut d = Vec::new();
    if a.paths != b.paths {
        d.push(format!("paths {} vs {}", a.paths, b.paths));
    }
    for (x, y) in a
        .deals
        .iter()
        .chain(a.tranches.iter().flatten())
        .zip(b.deals.iter().chain(b.tranches.iter().flatten()))
    {
        let id = &x.id;
        for (name, m, n) in [
            ("pv", &x.pv, &y.pv),
            ("loss", &x.loss, &y.loss),
            ("loss_on_default", &x.loss_on_default, &y.loss_on_default),
            ("loss_1y", &x.loss_1y, &y.loss_1y),
        ] {
            if !moments_close(m, n, rel) {
                d.push(format!("{id} {name}: {m:?} vs {n:?}"));
            }
        }
        if (x.loss_paths, x.default_paths, x.default_paths_1y)
            != (y.loss_paths, y.default_paths, y.default_paths_1y)
        {
            d.push(format!("{id} counts"));
        }
        for (k, (p, q)) in x
            .cash_flow
            .iter()
            .zip(&y.cash_flow)
            .chain(x.principal.iter().zip(&y.principal))
            .enumerate()
        {
            if !close(p.value(), q.value(), rel) {
                d.push(format!(
                    "{id} monthly sum #{k}: {} vs {}",
                    p.value(),
                    q.value()
                ));
            }
        }
        if hist_differs(&x.loss_hist, &y.loss_hist) {
            d.push(format!(
                "{id} loss histogram ({} paths moved)",
                hist_moved(&x.loss_hist, &y.loss_hist)
            ));
        }
    }
    if !moments_close(&a.portfolio.loss, &b.portfolio.loss, rel)
        || hist_differs(&a.portfolio.loss_hist, &b.portfolio.loss_hist)
        || !moments_close(&a.portfolio.defaults, &b.portfolio.defaults, rel)
    {
        d.push("portfolio".into());
    }
    for (i, (x, y)) in a
        .collateral_ratio
        .iter()
        .flatten()
        .zip(b.collateral_ratio.iter().flatten())
        .enumerate()
    {
        if !moments_close(x, y, rel) {
            d.push(format!("collateral ratio #{i}"));
        }
    }
    if a.collateral_ratio_hist.len() != b.collateral_ratio_hist.len()
        || a.collateral_ratio_hist
            .iter()
            .zip(&b.collateral_ratio_hist)
            .any(|(x, y)| hists_differ(x, y))
    {
        d.push("collateral ratio histograms".into());
    }
    match (&a.vault, &b.vault) {
        (Some(x), Some(y)) => {
            let ms = [
                ("nav_staking", &x.nav_staking, &y.nav_staking),
                ("nav_unstaking", &x.nav_unstaking, &y.nav_unstaking),
                (
                    "max_queue_fraction",
                    &x.max_queue_fraction,
                    &y.max_queue_fraction,
                ),
                (
                    "max_cycles_waited",
                    &x.max_cycles_waited,
                    &y.max_cycles_waited,
                ),
            ];
            for (name, m, n) in ms {
                if !moments_close(m, n, rel) {
                    d.push(format!("vault {name}"));
                }
            }
            for (k, (m, n)) in x
                .monthly_staking
                .iter()
                .zip(&y.monthly_staking)
                .chain(x.monthly_unstaking.iter().zip(&y.monthly_unstaking))
                .enumerate()
            {
                if !moments_close(m, n, rel) {
                    d.push(format!("vault monthly #{k}"));
                }
            }
            if hist_differs(&x.nav_staking_hist, &y.nav_staking_hist)
                || hist_differs(&x.nav_unstaking_hist, &y.nav_unstaking_hist)
                || hists_differ(&x.monthly_unstaking_hist, &y.monthly_unstaking_hist)
            {
                d.push("vault histograms".into());
            }
            if x.queue_not_cleared != y.queue_not_cleared
                || x.cycles_waited_paths != y.cycles_waited_paths
            {
                d.push("vault queue counts".into());
            }
        }
        (None, None) => {}
        _ => d.push("vault presence".into()),
    }
    if a.derivatives.len() != b.derivatives.len() {
        d.push("derivative count".into());
    }
    for (x, y) in a.derivatives.iter().zip(&b.derivatives) {
        // A paid path turns on a settlement rounding to at least a cent: like a histogram
        // cell, a last-bit difference may flip it on up to `hist_paths` paths.
        if !moments_close(&x.pv, &y.pv, rel) || x.paid_paths.abs_diff(y.paid_paths) > hist_paths {
            d.push(format!("derivative {} pv or paid paths", x.id));
        }
        for (k, (p, q)) in x.settlement.iter().zip(&y.settlement).enumerate() {
            if !close(p.value(), q.value(), rel) {
                d.push(format!("derivative {} settlement month {}", x.id, k + 1));
            }
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::hist_moved;
    use gaib_simulator::Histogram;

    #[test]
    fn hist_moved_counts_paths_that_changed_cell() {
        let mut a = Histogram::new(0.0, 1.0, 10);
        let mut b = Histogram::new(0.0, 1.0, 10);
        for x in [0.0, 0.05, 0.3, 0.3, 2.0] {
            a.add(x);
            b.add(x);
        }
        assert_eq!(hist_moved(&a, &b), 0);
        // One path just below a bin edge on one side, just above it on the other.
        a.add(0.2 - 1e-15);
        b.add(0.2 + 1e-15);
        assert_eq!(hist_moved(&a, &b), 1);
        assert_eq!(hist_moved(&b, &a), 1);
        // A path that lands exactly at lo on one side only.
        a.add(0.0);
        b.add(1e-300);
        assert_eq!(hist_moved(&a, &b), 2);
        assert_eq!(hist_moved(&a, &Histogram::new(0.0, 2.0, 10)), u64::MAX);
        assert_eq!(hist_moved(&a, &Histogram::new(0.0, 1.0, 11)), u64::MAX);
    }
}
