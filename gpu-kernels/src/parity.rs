//! Path-by-path comparison of a kernel run with the CPU backend (MODEL.md §9), shared by the
//! host-parity tests and the device check (`gaib-gpu-check`).

use crate::host::PathRow;
use crate::trace::reference_path;
use crate::FlatPlan;
use gaib_simulator::{Moments, PathRows, PathStats, SimPlan};

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

/// Fields of two merged statistics that differ: sums beyond `rel`, counts and histograms
/// exactly.
pub fn stats_differences(a: &PathStats, b: &PathStats, rel: f64) -> Vec<String> {
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
        if x.loss_hist != y.loss_hist {
            d.push(format!("{id} loss histogram"));
        }
    }
    if !moments_close(&a.portfolio.loss, &b.portfolio.loss, rel)
        || a.portfolio.loss_hist != b.portfolio.loss_hist
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
    if a.collateral_ratio_hist != b.collateral_ratio_hist {
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
            if x.nav_staking_hist != y.nav_staking_hist
                || x.nav_unstaking_hist != y.nav_unstaking_hist
                || x.monthly_unstaking_hist != y.monthly_unstaking_hist
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
    d
}
