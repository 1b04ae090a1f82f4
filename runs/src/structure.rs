//! `structure`: how thick can each tranche of a pool be and still meet its target PD or EL?
//!
//! A pool's monthly collections (interest and principal proceeds, performing balance, base
//! rate) do not depend on how the pool is tranched, so the run's paths are simulated once
//! ([`gaib_simulator::pool_collections`]) and every trial tranching re-runs only the pool's
//! waterfall ([`gaib_engine::WaterfallState::step`]) on those stored collections: common
//! random numbers across trials, milliseconds per trial.
//!
//! From the senior down, a tranche with a target gets the largest balance (the thinnest
//! subordination below it) whose PD or EL over the run's paths is at most the target, found by
//! bisection to 1 USD with everything below it in the equity; a tranche without a target keeps
//! its balance; the equity takes the rest of the pool's total balance. The 95 % interval of an
//! attachment is where the estimate ± 1.96 standard errors meets the target. The final
//! structure is re-evaluated as a whole (junior coupons can move a senior's OC cure a little),
//! and each tranche says whether it meets its target there.

use crate::error::{Result, RunError};
use crate::explain::tranche_index;
use crate::run::RunSpec;
use crate::rundir::RunDir;
use gaib_engine::{PoolCollections, TrancheFlow, WaterfallParams, WaterfallState};
use gaib_simulator::{lower, pool_collections, SimPlan, LOSS_EPS};
use serde::{Deserialize, Serialize};

/// z of a two-sided 95 % interval.
const Z95: f64 = 1.959_963_984_540_054;
/// Bisection tolerance on a tranche balance, USD.
const TOLERANCE_USD: f64 = 1.0;

/// What a target bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetMetric {
    /// Probability of a default event (write-down, or the senior's interest default), %.
    Pd,
    /// Expected loss, % of the tranche's balance.
    El,
}

/// A tranche's target: `metric` at most `max_pct` percent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrancheTarget {
    /// `POOL/TRANCHE` (or a tranche id unique over pools).
    pub tranche: String,
    /// PD or EL.
    pub metric: TargetMetric,
    /// The bound, percent (0 < max_pct < 100).
    pub max_pct: f64,
}

impl std::str::FromStr for TrancheTarget {
    type Err = RunError;

    /// `POOL/TRANCHE:pd=0.5` or `POOL/TRANCHE:el=0.1` (percent).
    fn from_str(s: &str) -> Result<Self> {
        let bad = |why: &str| RunError::argument("target", s, why.to_string());
        let (tranche, rest) = s
            .rsplit_once(':')
            .ok_or_else(|| bad("expected TRANCHE:pd=PCT or TRANCHE:el=PCT"))?;
        let (metric, value) = rest
            .split_once('=')
            .ok_or_else(|| bad("expected TRANCHE:pd=PCT or TRANCHE:el=PCT"))?;
        let metric = match metric.trim() {
            "pd" => TargetMetric::Pd,
            "el" => TargetMetric::El,
            _ => return Err(bad("the metric must be pd or el")),
        };
        let max_pct: f64 = value
            .trim()
            .parse()
            .map_err(|_| bad("the bound must be a number (percent)"))?;
        if !(max_pct > 0.0 && max_pct < 100.0) {
            return Err(bad(
                "the bound must be a percent strictly between 0 and 100",
            ));
        }
        Ok(TrancheTarget {
            tranche: tranche.trim().to_string(),
            metric,
            max_pct,
        })
    }
}

/// A tranche of the sized structure, with its figures over the run's paths.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SizedTranche {
    /// `POOL/TRANCHE`.
    pub tranche: String,
    /// Balance in the portfolio, USD.
    pub original_balance_usd: f64,
    /// Balance in the sized structure, USD.
    pub balance_usd: f64,
    /// Attachment: balance of everything junior to it / the pool's total, %.
    pub attachment_pct: f64,
    /// Detachment: attachment + its own balance / total, %.
    pub detachment_pct: f64,
    /// Its target, if one was given.
    pub target: Option<TrancheTarget>,
    /// Whether the final structure meets the target (None without one).
    pub meets_target: Option<bool>,
    /// 95 % interval of the attachment (targeted tranches): where the estimate ± 1.96 se
    /// meets the target, %.
    pub attachment_ci95_pct: Option<[f64; 2]>,
    /// PD over the run's paths, %.
    pub pd_pct: f64,
    /// Standard error of the PD, %.
    pub pd_se_pct: f64,
    /// Expected loss, % of its balance.
    pub el_pct: f64,
    /// Standard error of the EL, %.
    pub el_se_pct: f64,
    /// Price: E[PV of its cash flows] at its discount spread / balance, % of par.
    pub price_pct: f64,
    /// Standard error of the price, %.
    pub price_se_pct: f64,
    /// Yield: the continuously compounded IRR of its expected cash flows at that price, %
    /// per year (None when it has no positive cash flow).
    pub yield_pct: Option<f64>,
}

/// A pool's tranches sized to their targets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Structure {
    /// Portfolio id.
    pub portfolio_id: String,
    /// Pool id.
    pub pool: String,
    /// The run's seed.
    pub seed: u64,
    /// First path.
    pub path_start: u64,
    /// Number of paths.
    pub paths: u64,
    /// Σ tranche balances (kept), USD.
    pub total_balance_usd: f64,
    /// Tranches in seniority order, equity last.
    pub tranches: Vec<SizedTranche>,
}

/// Per tranche over all paths: PD, EL and price with standard errors (fractions).
#[derive(Debug, Clone, Copy, Default)]
struct Figures {
    pd: f64,
    pd_se: f64,
    el: f64,
    el_se: f64,
    price: f64,
    price_se: f64,
}

impl Figures {
    fn metric(&self, m: TargetMetric) -> (f64, f64) {
        match m {
            TargetMetric::Pd => (self.pd, self.pd_se),
            TargetMetric::El => (self.el, self.el_se),
        }
    }
}

/// Running sums of one tranche.
#[derive(Debug, Clone, Copy, Default)]
struct Sums {
    defaults: f64,
    loss: f64,
    loss2: f64,
    pv: f64,
    pv2: f64,
}

impl Sums {
    fn figures(&self, n: f64) -> Figures {
        let var = |s: f64, s2: f64| ((s2 / n - (s / n).powi(2)).max(0.0) / n).sqrt();
        let pd = self.defaults / n;
        Figures {
            pd,
            pd_se: (pd * (1.0 - pd) / n).sqrt(),
            el: self.loss / n,
            el_se: var(self.loss, self.loss2),
            price: self.pv / n,
            price_se: var(self.pv, self.pv2),
        }
    }
}

/// One path of a tranche: loss fraction, PV fraction, whether it defaulted.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct TranchePath {
    pub(crate) loss_frac: f64,
    pub(crate) pv_frac: f64,
    pub(crate) defaulted: bool,
}

/// A pool's stored collections and the means to re-run its waterfall.
pub(crate) struct Replay<'p> {
    plan: &'p SimPlan,
    pool: usize,
    paths: usize,
    collections: Vec<PoolCollections<f64>>,
}

/// A loss fraction within float noise of 0 or 1 is exactly 0 or 1 (as the simulator records).
fn clean(x: f64) -> f64 {
    if x.abs() < LOSS_EPS {
        0.0
    } else if (x - 1.0).abs() < LOSS_EPS {
        1.0
    } else {
        x
    }
}

impl<'p> Replay<'p> {
    /// Simulates the spec's paths once, keeping pool `pool`'s collections.
    pub(crate) fn new(plan: &'p SimPlan, spec: &RunSpec, pool: usize) -> Self {
        let r = spec.path_range();
        let collections = pool_collections(plan, spec.seed, r.start as u32..r.end as u32, pool);
        Replay {
            plan,
            pool,
            paths: spec.paths as usize,
            collections,
        }
    }

    /// The pool's waterfall terms with `balances`.
    fn params(&self, balances: &[f64]) -> WaterfallParams<f64> {
        let mut p = self.plan.flow.pools[self.pool].waterfall.clone();
        p.balances = balances.to_vec();
        p
    }

    /// Re-runs the waterfall with `balances` on every path, handing each path's tranches
    /// (in order; a tranche of balance 0 is skipped) to `f`, in path order. The paths are
    /// replayed on all cores; the results do not depend on the number of threads.
    pub(crate) fn each_path(&self, balances: &[f64], mut f: impl FnMut(usize, TranchePath)) {
        let n = balances.len();
        let threads = std::thread::available_parallelism().map_or(1, usize::from);
        let per = self.paths.div_ceil(threads.max(1)).max(1);
        let results: Vec<Vec<TranchePath>> = std::thread::scope(|sc| {
            let handles: Vec<_> = (0..self.paths)
                .step_by(per)
                .map(|a| sc.spawn(move || self.replay(balances, a..(a + per).min(self.paths))))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("a replay thread panicked"))
                .collect()
        });
        for (i, tp) in results.iter().flatten().enumerate() {
            if balances[i % n] > 0.0 {
                f(i % n, *tp);
            }
        }
    }

    /// The waterfall with `balances` on paths `range` (indices into the stored paths): per
    /// path, every tranche's [`TranchePath`] (zeros for a tranche of balance 0).
    fn replay(&self, balances: &[f64], range: std::ops::Range<usize>) -> Vec<TranchePath> {
        let params = self.params(balances);
        let n = balances.len();
        let k_max = self.plan.months as usize;
        let horizon = self.plan.flow.horizon_months;
        let dfs = &self.plan.tranche_df[self.pool];
        let mut state = WaterfallState::new(&params);
        let mut flows = vec![TrancheFlow::zero(); n];
        let (mut wd, mut rec, mut pv) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
        let mut out = Vec::with_capacity(range.len() * n);
        for path in range {
            state.reset(&params);
            wd.fill(0.0);
            rec.fill(0.0);
            pv.fill(0.0);
            let mut sid = false;
            for ki in 0..k_max {
                let c = &self.collections[path * k_max + ki];
                let k = (ki + 1) as u32;
                sid |= state
                    .step(&params, c, k >= horizon, &mut flows)
                    .senior_interest_default;
                for (t, fl) in flows.iter().enumerate() {
                    let cf = fl.received();
                    wd[t] += fl.writedown;
                    if cf != 0.0 {
                        pv[t] += cf * dfs[t][ki];
                        rec[t] += cf;
                    }
                }
            }
            for t in 0..n {
                let b = balances[t];
                let mut loss = wd[t];
                if t == n - 1 {
                    loss += (b - rec[t]).max(0.0);
                }
                out.push(if b > 0.0 {
                    TranchePath {
                        loss_frac: clean(loss / b),
                        pv_frac: pv[t] / b,
                        defaulted: wd[t] > LOSS_EPS * b || (t == 0 && sid),
                    }
                } else {
                    TranchePath {
                        loss_frac: 0.0,
                        pv_frac: 0.0,
                        defaulted: false,
                    }
                });
            }
        }
        out
    }

    /// Every tranche's expected cash flow per month under `balances`, fraction of its
    /// balance (index k − 1; zeros for a tranche of balance 0).
    fn mean_cash_flows(&self, balances: &[f64]) -> Vec<Vec<f64>> {
        let params = self.params(balances);
        let k_max = self.plan.months as usize;
        let horizon = self.plan.flow.horizon_months;
        let mut state = WaterfallState::new(&params);
        let mut flows = vec![TrancheFlow::zero(); balances.len()];
        let mut sum = vec![vec![0.0; k_max]; balances.len()];
        for path in 0..self.paths {
            state.reset(&params);
            for (ki, c) in self.collections[path * k_max..(path + 1) * k_max]
                .iter()
                .enumerate()
            {
                state.step(&params, c, ki + 1 >= horizon as usize, &mut flows);
                for (t, fl) in flows.iter().enumerate() {
                    sum[t][ki] += fl.received();
                }
            }
        }
        let n = self.paths as f64;
        sum.iter()
            .zip(balances)
            .map(|(m, &b)| {
                let scale = if b > 0.0 { 1.0 / (n * b) } else { 0.0 };
                m.iter().map(|x| x * scale).collect()
            })
            .collect()
    }

    /// Every tranche's expected loss under `balances`, fraction of its balance.
    pub(crate) fn expected_losses(&self, balances: &[f64]) -> Vec<f64> {
        self.figures(balances).iter().map(|f| f.el).collect()
    }

    /// Every tranche's figures under `balances`.
    fn figures(&self, balances: &[f64]) -> Vec<Figures> {
        let mut sums = vec![Sums::default(); balances.len()];
        self.each_path(balances, |t, p| {
            let s = &mut sums[t];
            s.defaults += f64::from(u8::from(p.defaulted));
            s.loss += p.loss_frac;
            s.loss2 += p.loss_frac * p.loss_frac;
            s.pv += p.pv_frac;
            s.pv2 += p.pv_frac * p.pv_frac;
        });
        let n = self.paths as f64;
        sums.iter().map(|s| s.figures(n)).collect()
    }

    /// The structure while sizing tranche `above.len()`: `above` (the tranches senior to it),
    /// `s` for it, the debt tranches `below` it, and the rest of `total` in the equity.
    fn trial(above: &[f64], s: f64, below: &[f64], total: f64) -> Vec<f64> {
        let mut b = above.to_vec();
        b.push(s);
        b.extend_from_slice(below);
        let used: f64 = b.iter().sum();
        b.push((total - used).max(0.0));
        b
    }

    /// The largest balance of tranche `above.len()`, with the debt tranches `below` it and the
    /// equity taking the rest, whose metric + `z`·se is at most `max` (fractions), to
    /// [`TOLERANCE_USD`]; None when not even 1 USD meets it.
    fn largest(&self, above: &[f64], below: &[f64], total: f64, goal: Goal, z: f64) -> Option<f64> {
        let i = above.len();
        let cap = total - above.iter().sum::<f64>() - below.iter().sum::<f64>();
        let meets = |s: f64| {
            let (v, se) = self.figures(&Self::trial(above, s, below, total))[i].metric(goal.0);
            v + z * se <= goal.1
        };
        let mut lo = TOLERANCE_USD.min(cap);
        if lo <= 0.0 || !meets(lo) {
            return None;
        }
        if meets(cap) {
            return Some(cap);
        }
        let mut hi = cap;
        while hi - lo > TOLERANCE_USD {
            let mid = 0.5 * (lo + hi);
            if meets(mid) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        Some(lo.floor().max(TOLERANCE_USD.min(cap)))
    }
}

/// A target as (metric, bound as a fraction).
#[derive(Debug, Clone, Copy)]
struct Goal(TargetMetric, f64);

impl Goal {
    fn of(t: &TrancheTarget) -> Self {
        Goal(t.metric, t.max_pct / 100.0)
    }
}

/// Sizes the tranches of one pool of the run in `run` to `targets` (see the module docs).
pub fn structure(run: &RunDir, targets: &[TrancheTarget]) -> Result<Structure> {
    structure_spec(&run.spec, targets)
}

/// The pool and tranche index (within the pool) of every target; all in one pool.
pub(crate) fn locate(
    plan: &SimPlan,
    targets: &[TrancheTarget],
) -> Result<(usize, Vec<Option<usize>>)> {
    let first = targets
        .first()
        .ok_or_else(|| RunError::argument("target", "", "give at least one tranche target"))?;
    let flat_of = |t: &TrancheTarget| tranche_index(plan, &t.tranche);
    let pool_of = |flat: usize| {
        let mut acc = 0;
        for (q, ids) in plan.tranche_ids.iter().enumerate() {
            if flat < acc + ids.len() {
                return (q, flat - acc);
            }
            acc += ids.len();
        }
        unreachable!("tranche_index returns an index into the flattened tranches")
    };
    let (pool, _) = pool_of(flat_of(first)?);
    let mut by_tranche = vec![None; plan.tranche_ids[pool].len()];
    for (k, t) in targets.iter().enumerate() {
        let (q, i) = pool_of(flat_of(t)?);
        if q != pool {
            return Err(RunError::argument(
                "target",
                &t.tranche,
                format!(
                    "all targets must be in one pool ({})",
                    plan.tranche_ids[pool][0]
                ),
            ));
        }
        if i + 1 == by_tranche.len() {
            return Err(RunError::argument(
                "target",
                &t.tranche,
                "the equity tranche takes the residual and cannot be sized to a target",
            ));
        }
        if by_tranche[i].is_some() {
            return Err(RunError::argument(
                "target",
                &t.tranche,
                "given more than once",
            ));
        }
        by_tranche[i] = Some(k);
    }
    Ok((pool, by_tranche))
}

/// As [`structure`], for the run of `spec`.
pub fn structure_spec(spec: &RunSpec, targets: &[TrancheTarget]) -> Result<Structure> {
    let plan = lower(spec.portfolio.portfolio())?;
    let (pool, by_tranche) = locate(&plan, targets)?;
    let replay = Replay::new(&plan, spec, pool);
    let original = plan.tranche_notional[pool].clone();
    let n = original.len();
    let total: f64 = original.iter().sum();
    let sizes = first_pass(&replay, &plan, pool, &by_tranche, targets, &original)?;
    let (sizes, intervals) = refine(&replay, &by_tranche, targets, sizes);
    let figures = replay.figures(&sizes);
    let cash_flows = replay.mean_cash_flows(&sizes);
    let mut below = total;
    let tranches = (0..n)
        .map(|i| {
            below -= sizes[i];
            let target = by_tranche[i].map(|k| targets[k].clone());
            let f = figures[i];
            SizedTranche {
                tranche: plan.tranche_ids[pool][i].clone(),
                original_balance_usd: original[i],
                balance_usd: sizes[i],
                attachment_pct: 100.0 * below / total,
                detachment_pct: 100.0 * (below + sizes[i]) / total,
                meets_target: target
                    .as_ref()
                    .map(|t| f.metric(t.metric).0 <= t.max_pct / 100.0),
                target,
                attachment_ci95_pct: intervals[i],
                pd_pct: 100.0 * f.pd,
                pd_se_pct: 100.0 * f.pd_se,
                el_pct: 100.0 * f.el,
                el_se_pct: 100.0 * f.el_se,
                price_pct: 100.0 * f.price,
                price_se_pct: 100.0 * f.price_se,
                yield_pct: gaib_pricing::yield_cc(&cash_flows[i], f.price).map(|y| 100.0 * y),
            }
        })
        .collect();
    Ok(Structure {
        portfolio_id: plan.portfolio_id.clone(),
        pool: pool_id(&plan, pool),
        seed: spec.seed,
        path_start: spec.path_start,
        paths: spec.paths,
        total_balance_usd: total,
        tranches,
    })
}

/// From the senior down: a targeted tranche at its largest balance with everything below it
/// in the equity; an untargeted one at its balance (at most what is left); the equity the rest.
fn first_pass(
    replay: &Replay<'_>,
    plan: &SimPlan,
    pool: usize,
    by_tranche: &[Option<usize>],
    targets: &[TrancheTarget],
    original: &[f64],
) -> Result<Vec<f64>> {
    let n = original.len();
    let total: f64 = original.iter().sum();
    let mut sizes: Vec<f64> = Vec::with_capacity(n);
    for i in 0..n - 1 {
        let cap = total - sizes.iter().sum::<f64>();
        let s = match by_tranche[i] {
            None => original[i].min(cap),
            Some(k) => {
                let below = vec![0.0; n - i - 2];
                replay
                    .largest(&sizes, &below, total, Goal::of(&targets[k]), 0.0)
                    .ok_or_else(|| infeasible(&targets[k], &plan.tranche_ids[pool], i))?
            }
        };
        sizes.push(s);
    }
    sizes.push((total - sizes.iter().sum::<f64>()).max(0.0));
    Ok(sizes)
}

/// Re-sizes each targeted tranche with the debt below it as it now stands (junior coupons are
/// paid before the OC cure) and the equity absorbing the difference; also each attachment's
/// 95 % interval, %. Junior first: a senior re-sized later only shrinks, which leaves more
/// below every junior, so each junior still meets its target.
fn refine(
    replay: &Replay<'_>,
    by_tranche: &[Option<usize>],
    targets: &[TrancheTarget],
    mut sizes: Vec<f64>,
) -> (Vec<f64>, Vec<Option<[f64; 2]>>) {
    let n = sizes.len();
    let total: f64 = sizes.iter().sum();
    let mut intervals = vec![None; n];
    for i in (0..n - 1).rev() {
        let Some(k) = by_tranche[i] else { continue };
        let goal = Goal::of(&targets[k]);
        let (above, below) = (&sizes[..i], &sizes[i + 1..n - 1]);
        let cap = total - above.iter().sum::<f64>();
        let Some(s) = replay.largest(above, below, total, goal, 0.0) else {
            continue;
        };
        let lo = replay
            .largest(above, below, total, goal, Z95)
            .unwrap_or(0.0);
        let hi = replay.largest(above, below, total, goal, -Z95).unwrap_or(s);
        intervals[i] = Some([100.0 * (cap - hi) / total, 100.0 * (cap - lo) / total]);
        sizes[i] = s;
        sizes[n - 1] = (total - sizes[..n - 1].iter().sum::<f64>()).max(0.0);
    }
    (sizes, intervals)
}

fn pool_id(plan: &SimPlan, pool: usize) -> String {
    let id = &plan.tranche_ids[pool][0];
    id.rsplit_once('/')
        .map_or(id.clone(), |(p, _)| p.to_string())
}

fn infeasible(t: &TrancheTarget, ids: &[String], i: usize) -> RunError {
    let m = match t.metric {
        TargetMetric::Pd => "PD",
        TargetMetric::El => "EL",
    };
    RunError::argument(
        "target",
        format!("{}:{}={}", t.tranche, m.to_lowercase(), t.max_pct),
        format!(
            "infeasible: even a 1 USD tranche {} directly below {} has a {m} above {} % on \
             this run's paths",
            ids[i],
            if i == 0 {
                "nothing (the top)".to_string()
            } else {
                ids[i - 1].clone()
            },
            t.max_pct
        ),
    )
}

/// A self-contained HTML page (no scripts) of a structure and/or break-evens: the sized
/// tranches, the chart of each tranche's attachment (subordination, % of the pool) sized to
/// its target against the original, the achieved-vs-target chart, and the break-even table
/// (the same tables and charts as `report.html`'s structure section).
pub fn structure_report_html(s: Option<&Structure>, b: Option<&crate::BreakEvens>) -> String {
    use crate::report::charts::esc;
    let title = s.map_or_else(
        || b.map_or_else(String::new, |b| b.pool.clone()),
        |s| format!("{} / {}", s.portfolio_id, s.pool),
    );
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>gaib structure \
         — {t}</title><style>{css}</style></head><body><h1>gaib structure — {t}</h1>\
         <p class=\"note\">Common random numbers; each trial re-runs only the pool waterfall \
         on the stored collections.</p>{body}<p class=\"note\">Generated by gaib. \
         Self-contained: no scripts, no network.</p></body></html>\n",
        t = esc(&title),
        css = crate::report::CSS,
        body = crate::report::structure_body(s, b)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PortfolioInput;
    use gaib_simulator::{PathRows, PathStats, Worker};

    fn spec(paths: u64) -> RunSpec {
        let p = std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../data/portfolios/sample.toml"
        ));
        let mut s = RunSpec::new(PortfolioInput::from_file(p).unwrap(), paths, 9);
        s.path_start = 50;
        s
    }

    #[test]
    fn the_replayed_waterfall_reproduces_the_runs_tranche_rows_exactly() {
        let spec = spec(300);
        let plan = lower(spec.portfolio.portfolio()).unwrap();
        let replay = Replay::new(&plan, &spec, 0);
        let mut w = Worker::new(&plan);
        let mut stats = PathStats::new(&plan);
        let mut rows = PathRows::new(&plan);
        for p in 50..350 {
            w.run_path_with_row(9, p, &mut stats, &mut rows);
        }
        let mut i = vec![0usize; plan.tranche_notional[0].len()];
        replay.each_path(&plan.tranche_notional[0], |t, p| {
            assert_eq!(
                p.loss_frac, rows.tranche_loss_frac[t][i[t]],
                "tranche {t} row {}",
                i[t]
            );
            assert_eq!(
                p.pv_frac, rows.tranche_pv_frac[t][i[t]],
                "tranche {t} row {}",
                i[t]
            );
            i[t] += 1;
        });
        assert!(i.iter().all(|&n| n == 300));
    }

    #[test]
    fn targets_parse_and_bad_ones_name_the_field() {
        let t: TrancheTarget = "GPU-ABS-1/A:pd=0.5".parse().unwrap();
        assert_eq!(
            (t.tranche.as_str(), t.metric, t.max_pct),
            ("GPU-ABS-1/A", TargetMetric::Pd, 0.5)
        );
        for bad in ["A", "A:pd", "A:xx=1", "A:el=0", "A:el=100", "A:pd=abc"] {
            let e = bad.parse::<TrancheTarget>().unwrap_err().to_string();
            assert!(e.contains("target") && e.contains(bad), "{bad}: {e}");
        }
    }

    #[test]
    fn the_sized_tranche_meets_its_target_and_a_thicker_one_does_not() {
        let spec = spec(2_000);
        let target: TrancheTarget = "GPU-ABS-1/A:el=0.05".parse().unwrap();
        let s = structure_spec(&spec, std::slice::from_ref(&target)).unwrap();
        let a = &s.tranches[0];
        assert_eq!(a.meets_target, Some(true));
        assert!(a.el_pct <= 0.05, "{a:?}");
        // The yield is the IRR of A's expected cash flows at its price: above the discount
        // curve's short rates, positive, finite.
        let y = a.yield_pct.unwrap();
        assert!(y.is_finite() && y > 1.0 && y < 20.0, "{y}");
        let html = structure_report_html(Some(&s), None);
        assert!(html.contains("fig-subordination") && html.contains("GPU-ABS-1/A sized"));
        assert!(!html.contains("NaN") && !html.contains("<script"));
        let total: f64 = s.tranches.iter().map(|t| t.balance_usd).sum();
        assert!((total - s.total_balance_usd).abs() < 1e-6);
        let [lo, hi] = a.attachment_ci95_pct.unwrap();
        assert!(
            lo <= a.attachment_pct && a.attachment_pct <= hi,
            "{lo} {} {hi}",
            a.attachment_pct
        );
        // 2 USD thicker (1 USD beyond the bisection's tolerance) misses the target, unless the
        // tranche already takes the whole pool.
        if a.balance_usd + 2.0 < s.total_balance_usd {
            let plan = lower(spec.portfolio.portfolio()).unwrap();
            let replay = Replay::new(&plan, &spec, 0);
            let n = s.tranches.len();
            let below = vec![s.tranches[1].balance_usd; n - 2];
            let thicker = Replay::trial(&[], a.balance_usd + 2.0, &below, s.total_balance_usd);
            let f = replay.figures(&thicker)[0];
            assert!(f.el > 0.0005, "{}", f.el);
        }
    }

    /// The sample with every operator's hazard at 3 per year: pool losses beyond the junior
    /// subordination on most paths.
    fn distressed(paths: u64) -> RunSpec {
        let base = spec(paths);
        let mut v = serde_json::to_value(base.portfolio.portfolio()).unwrap();
        for o in v["operators"].as_array_mut().unwrap() {
            o["hazard"] = 3.0.into();
        }
        // A thick senior over thin B and E: a 1 USD B right below it is hit on most paths.
        let tr = v["pools"][0]["tranches"].as_array_mut().unwrap();
        let usd = |x: &serde_json::Value| {
            x.as_str()
                .map_or_else(|| x.as_f64().unwrap(), |s| s.parse().unwrap())
        };
        let total: f64 = tr.iter().map(|t| usd(&t["balance"])).sum();
        let as_json = |x: f64| serde_json::Value::String(format!("{x:.0}"));
        tr[0]["balance"] = as_json(total - 2e6);
        tr[1]["balance"] = as_json(1e6);
        tr[2]["balance"] = as_json(1e6);
        let mut s = RunSpec::new(PortfolioInput::from_json_value(&v).unwrap(), paths, 9);
        s.path_start = 50;
        s
    }

    #[test]
    fn an_infeasible_target_is_an_error_naming_it() {
        let spec = distressed(500);
        let t: TrancheTarget = "GPU-ABS-1/B:pd=0.0001".parse().unwrap();
        let e = structure_spec(&spec, &[t]).unwrap_err().to_string();
        assert!(e.contains("infeasible") && e.contains("GPU-ABS-1/B"), "{e}");
        let e = structure_spec(&spec, &["GPU-ABS-1/E:pd=1".parse().unwrap()]).unwrap_err();
        assert!(e.to_string().contains("equity"), "{e}");
    }
}
