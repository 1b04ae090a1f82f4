//! Month-by-month traces of one path: the same draws and the same engine calls as a run
//! ([`crate::Worker::trace_path`]), kept month by month instead of only summed.
//!
//! Two users: `gaib explain` (the run layer replays one path of a run directory and prints
//! why an instrument lost), and the GPU parity tests (gaib-gpu-kernels flattens a trace into
//! the kernel's layout to name the first month and field where the kernel diverges).

use crate::model::Worker;
use crate::plan::SimPlan;
use crate::rows::PathRows;
use crate::stats::PathStats;
use gaib_engine::{MonthOutput, PoolCollections, VaultMonth};
use rayon::prelude::*;
use std::ops::Range;

/// One month of a traced path: the market the engine saw and everything it paid.
#[derive(Debug, Clone)]
pub struct MonthTrace {
    /// Per GPU class (portfolio order): price P_c(t_k), USD per GPU-hour.
    pub price: Vec<f64>,
    /// Per GPU class: P_c(t_k) / trend price P̄_c(t_k) (1 = on trend).
    pub price_over_trend: Vec<f64>,
    /// Per fleet (portfolio order): utilization u_f(t_k), fraction 0..1.
    pub utilization: Vec<f64>,
    /// Per operator (portfolio order): whether its copula credit default falls in this month.
    pub credit_default: Vec<bool>,
    /// The engine's month: fleets' revenue/opex/NOI, deals' flows and defaults, recoveries,
    /// losses, pool collections and waterfall, tranche flows (all USD).
    pub output: MonthOutput<f64>,
    /// Per deal: DSRA balance at month end, USD.
    pub dsra: Vec<f64>,
    /// The vault's month (NAV, buffer, shares, queue), when the portfolio has a vault.
    pub vault: Option<VaultMonth<f64>>,
}

/// One path, traced: its months and the per-path row a run records for it.
#[derive(Debug, Clone)]
pub struct PathTrace {
    /// The run's seed.
    pub seed: u64,
    /// The path index.
    pub path: u32,
    /// Per operator: credit-default month from the copula (0 = none within the horizon).
    pub operator_default_month: Vec<u32>,
    /// Per tranche (pools in order, tranches in order, flattened): month of its first default
    /// event (write-down beyond float noise, or the senior tranche's interest default; 0 = none).
    pub tranche_default_month: Vec<u32>,
    /// Months 1..=K at index k−1.
    pub months: Vec<MonthTrace>,
    /// The path's row, exactly as `gaib run --paths-out` writes it (one row).
    pub row: PathRows,
}

/// Traces path `path` of `plan` under `seed` (see [`Worker::trace_path`]).
pub fn trace_path(plan: &SimPlan, seed: u64, path: u32) -> PathTrace {
    Worker::new(plan).trace_path(seed, path)
}

/// Paths per unit of parallel work in [`worst_path`].
const SCAN_CHUNK: u32 = 1_024;

/// The path of `paths` with the largest loss fraction of tranche `tranche` (index into the
/// flattened tranche list, as [`PathTrace::tranche_default_month`]), and that loss fraction
/// (of the tranche's original balance); ties go to the lowest path index. None for an empty
/// range or an unknown tranche index. Runs every path of the range (on all cores).
pub fn worst_path(
    plan: &SimPlan,
    seed: u64,
    paths: Range<u32>,
    tranche: usize,
) -> Option<(u32, f64)> {
    let n_tranches: usize = plan.tranche_ids.iter().map(Vec::len).sum();
    if tranche >= n_tranches || paths.is_empty() {
        return None;
    }
    let starts: Vec<u32> = paths.clone().step_by(SCAN_CHUNK as usize).collect();
    starts
        .par_iter()
        .map(|&s| {
            let end = s.saturating_add(SCAN_CHUNK).min(paths.end);
            let mut w = Worker::new(plan);
            let mut stats = PathStats::new(plan);
            let mut rows = PathRows::with_capacity(plan, (end - s) as usize);
            let mut batch = w.batch(&mut stats);
            for p in s..end {
                batch.run_path_with_row(seed, p, &mut rows);
            }
            best(&rows.path, &rows.tranche_loss_frac[tranche])
        })
        .collect::<Vec<_>>()
        .into_iter()
        .flatten()
        .fold(None, |acc, c| match acc {
            Some(a) if !is_worse(c, a) => Some(a),
            _ => Some(c),
        })
}

/// Pool `pool`'s collections (interest and principal proceeds, performing balance, base rate)
/// in every month of every path of `paths`: index (path − start)·K + (k − 1). They do not
/// depend on the pool's tranching, so one simulation serves any number of re-runs of its
/// waterfall ([`gaib_engine::WaterfallState::step`]). Runs the paths on all cores.
pub fn pool_collections(
    plan: &SimPlan,
    seed: u64,
    paths: Range<u32>,
    pool: usize,
) -> Vec<PoolCollections<f64>> {
    let starts: Vec<u32> = paths.clone().step_by(SCAN_CHUNK as usize).collect();
    let chunks: Vec<Vec<PoolCollections<f64>>> = starts
        .par_iter()
        .map(|&s| {
            let end = s.saturating_add(SCAN_CHUNK).min(paths.end);
            let mut w = Worker::new(plan);
            let mut stats = PathStats::new(plan);
            let mut out = Vec::with_capacity((end - s) as usize * plan.months as usize);
            let mut batch = w.batch(&mut stats);
            for p in s..end {
                batch.run_path_with(seed, p, |m| out.push(m.pool_collections[pool]));
            }
            out
        })
        .collect();
    chunks.concat()
}

/// Whether (path, loss) `c` beats `a`: a larger loss, or the same loss on a lower path.
fn is_worse(c: (u32, f64), a: (u32, f64)) -> bool {
    c.1 > a.1 || (c.1 == a.1 && c.0 < a.0)
}

/// The worst (path, loss) of one chunk's rows.
fn best(paths: &[u64], losses: &[f64]) -> Option<(u32, f64)> {
    paths
        .iter()
        .zip(losses)
        .map(|(&p, &l)| (p as u32, l))
        .fold(None, |acc, c| match acc {
            Some(a) if !is_worse(c, a) => Some(a),
            _ => Some(c),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> SimPlan {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/fixtures/valid/small.toml"
        );
        let text = std::fs::read_to_string(path).unwrap();
        let p = gaib_engine::load_portfolio(&text, path, |_| Err("no tape".into()))
            .unwrap()
            .portfolio;
        crate::lower(&p).unwrap()
    }

    #[test]
    fn trace_row_equals_the_runs_row_and_its_months_sum_to_it() {
        let plan = plan();
        let mut w = Worker::new(&plan);
        let mut stats = PathStats::new(&plan);
        let mut rows = PathRows::new(&plan);
        for path in 0..64 {
            w.run_path_with_row(7, path, &mut stats, &mut rows);
        }
        for path in [0u32, 5, 63] {
            let t = trace_path(&plan, 7, path);
            assert_eq!(t.months.len(), plan.months as usize);
            let i = path as usize;
            for d in 0..plan.n_deals() {
                assert_eq!(t.row.deal_loss_frac[d][0], rows.deal_loss_frac[d][i]);
                assert_eq!(t.row.deal_pv_frac[d][0], rows.deal_pv_frac[d][i]);
                let loss: f64 = t.months.iter().map(|m| m.output.losses[d]).sum();
                let frac = loss / plan.deal_notional[d];
                assert!((frac - rows.deal_loss_frac[d][i]).abs() < 1e-9, "{frac}");
            }
            assert_eq!(t.row.portfolio_loss_frac[0], rows.portfolio_loss_frac[i]);
        }
    }

    #[test]
    fn worst_path_is_the_maximum_of_the_rows() {
        let plan = plan();
        let last = plan.tranche_ids.iter().map(Vec::len).sum::<usize>() - 1;
        let (p, loss) = worst_path(&plan, 3, 0..2_500, last).unwrap();
        let mut w = Worker::new(&plan);
        let mut stats = PathStats::new(&plan);
        let mut rows = PathRows::new(&plan);
        for path in 0..2_500 {
            w.run_path_with_row(3, path, &mut stats, &mut rows);
        }
        let col = &rows.tranche_loss_frac[last];
        let max = col.iter().copied().fold(f64::MIN, f64::max);
        assert_eq!(loss, max);
        assert_eq!(col[p as usize], max);
        assert!(col[..p as usize].iter().all(|&l| l < max));
        assert_eq!(worst_path(&plan, 3, 0..10, last + 1), None);
    }
}
