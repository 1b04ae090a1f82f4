//! One Monte Carlo path of MODEL.md §1–5 and §7, recorded into [`PathStats`].
//!
//! Per path: copula default months (§5) from M and e_o; then month by month: class shocks
//! eps (independent) → Z = L·eps → exact OU X, compound-Poisson jumps J, scheduled shocks S →
//! prices (§1); fleet utilization from eps of the fleet's class and its own xi (§2); the
//! engine's [`gaib_engine::CashflowPlan::step`] for fleets, deals, recoveries and waterfalls
//! (§3, §4, §6); then the vault (§7). Draws follow the table in [`crate::rng`].
//!
//! Degenerate inputs take the formulas' limits: kappa = 0 is Brownian (see
//! [`crate::plan`]), rho = 1 gives sqrt(1 − rho) = 0, hazard = 0 never defaults; utilization is
//! kept inside (0, 1) by clamping logistic(Y) to [1e-15, 1 − 1e-15].

use crate::accum::DealMonthAcc;
use crate::market::PathMarket;
use crate::math;
use crate::plan::SimPlan;
use crate::rng::PathRng;
use crate::rows::PathRows;
use crate::stats::{
    clean_loss_fraction, Histogram, InstrumentStats, Moments, PathStats, PortfolioStats,
    VaultStats, COLLATERAL_BINS, COLLATERAL_HIST_MAX, MAX_COLLATERAL_RATIO, NAV_BINS, NAV_FAN_BINS,
    PORTFOLIO_LOSS_BINS,
};
use crate::trace::{MonthTrace, PathTrace};
use gaib_engine::{CashflowState, MonthOutput, VaultMonth, VaultMonthInput, VaultState};

/// Smallest/largest utilization (logistic(Y) is clamped into [U_EPS, 1 − U_EPS]).
pub const U_EPS: f64 = 1e-15;
/// Float noise of a loss fraction: a per-path loss fraction within this of 0 (or of 1) is
/// recorded as exactly 0 (or 1), in the statistics and the per-path rows alike; a loss counts
/// as a loss when it exceeds it.
pub const LOSS_EPS: f64 = 1e-12;

impl PathStats {
    /// Empty statistics shaped for `plan`.
    pub fn new(plan: &SimPlan) -> Self {
        let k = plan.months as usize;
        let deals = (0..plan.n_deals())
            .map(|d| {
                InstrumentStats::new(
                    plan.deal_ids[d].clone(),
                    plan.deal_notional[d],
                    plan.deal_spread_bps[d],
                    k,
                )
            })
            .collect();
        let tranches = plan
            .tranche_ids
            .iter()
            .enumerate()
            .map(|(q, ids)| {
                ids.iter()
                    .enumerate()
                    .map(|(t, id)| {
                        InstrumentStats::new(
                            id.clone(),
                            plan.tranche_notional[q][t],
                            plan.tranche_spread_bps[q][t],
                            k,
                        )
                    })
                    .collect()
            })
            .collect();
        let vault = plan.vault.as_ref().map(|v| VaultStats {
            id: v.id.clone(),
            nav0_per_share_usd: if v.shares0 > 0.0 {
                plan.vault_nav0 / v.shares0
            } else {
                0.0
            },
            horizon_month: v.horizon_month,
            nav_staking: Moments::default(),
            nav_unstaking: Moments::default(),
            nav_staking_hist: Histogram::new(0.0, 2.0, NAV_BINS),
            nav_unstaking_hist: Histogram::new(0.0, 2.0, NAV_BINS),
            monthly_staking: vec![Moments::default(); k],
            monthly_unstaking: vec![Moments::default(); k],
            monthly_unstaking_hist: vec![Histogram::new(0.0, 2.0, NAV_FAN_BINS); k],
            queue_not_cleared: [0; 3],
            max_queue_fraction: Moments::default(),
            max_cycles_waited: Moments::default(),
            cycles: v.cycle_end_month.len() as u32,
            cycle_end_month: v.cycle_end_month.clone(),
            cycles_waited_paths: vec![0; v.cycle_end_month.len() + 2],
        });
        PathStats {
            model_version: crate::MODEL_VERSION.to_string(),
            paths: 0,
            months: plan.months,
            deals,
            tranches,
            portfolio: PortfolioStats {
                funded_usd: plan.funded_total,
                loss: Moments::default(),
                loss_hist: Histogram::new(0.0, 1.0, PORTFOLIO_LOSS_BINS),
                defaults: Moments::default(),
            },
            vault,
            collateral_ratio: vec![vec![Moments::default(); k]; plan.n_deals()],
            collateral_ratio_hist: vec![
                vec![
                    Histogram::new(
                        0.0,
                        COLLATERAL_HIST_MAX,
                        COLLATERAL_BINS
                    );
                    k
                ];
                plan.n_deals()
            ],
            derivatives: (0..plan.n_derivatives())
                .map(|i| {
                    let d = &plan.derivatives;
                    crate::DerivativeStats::new(
                        d.ids[i].clone(),
                        d.reference_usd[i],
                        d.signed_premium_usd[i],
                        d.spread_bps[i],
                        d.hedges[i].clone(),
                        k,
                    )
                })
                .collect(),
        }
    }
}

/// Months of the 1-year PD and EL (IFRS 9 stage 1, CECL's first year): months 1–12.
pub const ONE_YEAR_MONTHS: u32 = 12;

/// The default figures of one path: a default event (`defaulted`) counts for the PD and its
/// loss fraction `lf` for the LGD; a first default event in months 1–12 (`default_month`)
/// counts for the 1-year PD, and `lf` for the 1-year EL (0 otherwise).
#[inline]
fn record_default(s: &mut InstrumentStats, defaulted: bool, default_month: u32, lf: f64) {
    if defaulted {
        s.default_paths += 1;
        s.loss_on_default.add(lf);
    }
    if defaulted && (1..=ONE_YEAR_MONTHS).contains(&default_month) {
        s.default_paths_1y += 1;
        s.loss_1y.add(lf);
    } else {
        s.loss_1y.add(0.0);
    }
}

/// One thread's scratch space: everything a path needs, allocated once.
#[derive(Debug)]
pub struct Worker<'p> {
    pub(crate) plan: &'p SimPlan,
    state: CashflowState<f64>,
    out: MonthOutput<f64>,
    /// The path's market (prices, utilizations, credit defaults), drawn in blocks of months.
    pub(crate) market: PathMarket,
    pub(crate) default_month: Vec<u32>,
    /// Per operator: the copula value above which its default falls after the horizon (see
    /// [`no_default_above`]), so that such a path skips `default_time`.
    no_default_above: Vec<f64>,
    /// The path's own sums and events so far (PVs, losses, default months).
    pub(crate) acc: PathAcc,
    pub(crate) vault: Option<VaultState<f64>>,
    /// NAV per share (staking, unstaking) at the vault's horizon month, USD (NaN until then).
    pub(crate) horizon_nav_per_share: (f64, f64),
    /// The per-(deal, month) statistics of the paths run since the last flush, in a flat
    /// layout that the month's deal loop walks contiguously; merged into the caller's
    /// `PathStats` when its [`PathBatch`] ends (empty outside a batch).
    pub(crate) deal_months: DealMonthAcc,
}

impl<'p> Worker<'p> {
    /// Scratch space for one lane of a group of paths (`crate::lanes`): as [`Worker::new`]
    /// without the flat per-(deal, month) accumulators, which the group shares.
    pub(crate) fn for_lane(plan: &'p SimPlan) -> Self {
        let mut w = Self::new_with(plan, 0);
        w.deal_months = DealMonthAcc::new(0, 0);
        w
    }

    /// Scratch space for `plan`.
    pub fn new(plan: &'p SimPlan) -> Self {
        Self::new_with(plan, plan.months as usize)
    }

    /// [`Worker::new`] with per-(deal, month) accumulators for `months` months.
    fn new_with(plan: &'p SimPlan, months: usize) -> Self {
        let no = plan.operators.stream.len();
        let nd = plan.n_deals();
        Worker {
            plan,
            state: plan.flow.initial_state(),
            out: plan.flow.new_output(),
            market: PathMarket::new(plan),
            default_month: vec![0; no],
            no_default_above: (0..no).map(|o| no_default_above(plan, o)).collect(),
            acc: PathAcc::new(plan),
            vault: plan.vault.as_ref().map(|v| VaultState::new(v, &plan.flow)),
            horizon_nav_per_share: (f64::NAN, f64::NAN),
            deal_months: DealMonthAcc::new(nd, months),
        }
    }

    /// A batch of paths recorded into `stats`: run them with [`PathBatch::run_path`] (or its
    /// `_with_row` / `_with` variants). The per-(deal, month) statistics (cash flows,
    /// principal, collateral ratios and their histograms) go into this worker's flat
    /// accumulators and are merged into `stats` once, when the batch is dropped; `stats` is
    /// exactly what running the same paths one by one with [`Worker::run_path`] gives, and
    /// cheaper for more than a few paths.
    pub fn batch<'w>(&'w mut self, stats: &'w mut PathStats) -> PathBatch<'w, 'p> {
        PathBatch {
            worker: self,
            stats,
        }
    }

    /// Credit-default month of every operator on this path (0 = none within the horizon):
    /// A_o = sqrt(rho)·M + sqrt(1−rho)·e_o, tau_o = −ln(1 − Phi(A_o))/h_o, month ⌈12·tau⌉.
    pub(crate) fn draw_default_months(&mut self, rng: &PathRng) {
        let p = self.plan;
        let m = rng.normal0(p.systematic_stream, 0, 0);
        for o in 0..p.operators.stream.len() {
            let e = rng.normal0(p.operators.stream[o], 0, 0);
            let h = p.operators.hazard[o];
            self.default_month[o] = 0;
            if h <= 0.0 {
                continue;
            }
            let a = p.copula_load_systematic * m + p.copula_load_own * e;
            if a > self.no_default_above[o] {
                continue;
            }
            self.default_month[o] = default_month(a, h, p.months);
        }
    }

    /// As [`Worker::run_path`], and also appends the path's row to `rows` (shaped for the same
    /// plan). `stats` receives exactly what `run_path` records; the row is read from the
    /// per-path accumulators that `run_path` leaves behind, so the default path is untouched.
    /// A batch of paths is cheaper through [`Worker::batch`].
    pub fn run_path_with_row(
        &mut self,
        seed: u64,
        path: u32,
        stats: &mut PathStats,
        rows: &mut PathRows,
    ) {
        self.batch(stats).run_path_with_row(seed, path, rows);
    }

    /// Simulates path `path` under `seed` and records it into `stats`. A batch of paths is
    /// cheaper through [`Worker::batch`] (this merges the per-(deal, month) accumulators into
    /// `stats` after every path).
    pub fn run_path(&mut self, seed: u64, path: u32, stats: &mut PathStats) {
        self.batch(stats).run_path(seed, path);
    }

    /// As [`Worker::run_path_with_row`], and also records every month of the path (market,
    /// engine output, reserves, vault) into a [`PathTrace`]: the replay behind `gaib explain`
    /// and the GPU parity traces. The statistics and the row are those of an untraced run.
    pub fn trace_path(&mut self, seed: u64, path: u32) -> PathTrace {
        let mut stats = PathStats::new(self.plan);
        let mut row = PathRows::with_capacity(self.plan, 1);
        let mut months = Vec::with_capacity(self.plan.months as usize);
        self.run_path_observed(seed, path, &mut stats, true, |w, vault| {
            months.push(w.month_trace(vault));
        });
        // Leaves the accumulators empty (the statistics themselves are not returned).
        self.deal_months.flush_into(&mut stats);
        self.record_row(path, &mut row);
        PathTrace {
            seed,
            path,
            operator_default_month: self.default_month.clone(),
            tranche_default_month: self
                .acc
                .tr_default_month
                .iter()
                .flatten()
                .copied()
                .collect(),
            months,
            row,
        }
    }

    /// As [`Worker::run_path`], handing each month's engine output (after the month's cash
    /// flows and waterfalls) to `observe`: e.g. a pool's collections, to re-run its waterfall
    /// under another tranching (`gaib structure`). A batch of paths is cheaper through
    /// [`Worker::batch`].
    pub fn run_path_with(
        &mut self,
        seed: u64,
        path: u32,
        stats: &mut PathStats,
        observe: impl FnMut(&MonthOutput<f64>),
    ) {
        self.batch(stats).run_path_with(seed, path, observe);
    }

    /// The month just stepped, as a [`MonthTrace`].
    fn month_trace(&self, vault: Option<VaultMonth<f64>>) -> MonthTrace {
        let market = self.market.current();
        MonthTrace {
            price: market.price.to_vec(),
            price_over_trend: market.price_over_trend.to_vec(),
            utilization: market.utilization.to_vec(),
            credit_default: market.credit_default.to_vec(),
            output: self.out.clone(),
            dsra: self.state.deals.iter().map(|d| d.dsra).collect(),
            vault,
        }
    }

    /// [`Worker::run_path`] with `observe(self, vault month)` called after each month's
    /// cash flows and vault step (a no-op closure compiles away). The per-(deal, month)
    /// statistics go into `self.deal_months`, which the caller must flush into `stats`.
    /// `whole_market`: whether `observe` may read the market or the engine's output beyond
    /// what the statistics read (a fleet's utilization, revenue, opex, hedge and NOI after its
    /// last used month, and the cash its finished deals pass through), so that every month of
    /// every fleet must be drawn (see [`PathMarket::draw_whole_horizon`]).
    fn run_path_observed(
        &mut self,
        seed: u64,
        path: u32,
        stats: &mut PathStats,
        whole_market: bool,
        mut observe: impl FnMut(&Self, Option<VaultMonth<f64>>),
    ) {
        let p = self.plan;
        let rng = PathRng::new(seed, path);
        let k_max = p.months;
        p.flow.reset_state(&mut self.state);
        self.draw_default_months(&rng);
        self.market.draw_whole_horizon(p, whole_market);
        self.market.reset(p);
        self.acc.reset();
        self.reset_vault();

        for k in 1..=k_max {
            let market = self.market.month(p, &rng, &self.default_month, k);
            p.flow.step(k, &market, &mut self.state, &mut self.out);
            let nd = p.n_deals();
            let view = PathMonth::new(&self.out, &self.state, nd);
            record_month(p, &mut self.acc, &mut self.deal_months, &view, k, stats);
            let vault = self.vault_month(k, stats);
            observe(self, vault);
        }
        self.record_path(stats);
    }

    /// The market of path `path` alone (no cash flows): per month k (index k−1) the prices,
    /// prices over trend and utilizations, and each operator's default month (0 = none).
    /// For tests, diagnostics and per-path output; the same draws as [`Worker::run_path`].
    pub fn market_path(&mut self, seed: u64, path: u32) -> MarketPath {
        let rng = PathRng::new(seed, path);
        self.draw_default_months(&rng);
        self.market.draw_whole_horizon(self.plan, true);
        self.market.reset(self.plan);
        let mut out = MarketPath {
            price: Vec::new(),
            price_over_trend: Vec::new(),
            utilization: Vec::new(),
            default_month: self.default_month.clone(),
        };
        for k in 1..=self.plan.months {
            let month = self.market.month(self.plan, &rng, &self.default_month, k);
            out.price.push(month.price.to_vec());
            out.price_over_trend.push(month.price_over_trend.to_vec());
            out.utilization.push(month.utilization.to_vec());
        }
        out
    }

    /// Each operator's credit-default month on path `path` (0 = none within the horizon).
    pub fn default_months(&mut self, seed: u64, path: u32) -> &[u32] {
        let rng = PathRng::new(seed, path);
        self.draw_default_months(&rng);
        &self.default_month
    }

    /// Steps the vault through month `k` and records it; its month, if there is a vault.
    fn vault_month(&mut self, k: u32, stats: &mut PathStats) -> Option<VaultMonth<f64>> {
        let inp = (&self.state, &self.out);
        record_vault(
            self.plan,
            &mut self.vault,
            &mut self.horizon_nav_per_share,
            k,
            stats,
            &inp,
        )
    }

    /// A new path's vault (at its NAV per share at close) and horizon NAV (NaN until then).
    pub(crate) fn reset_vault(&mut self) {
        let p = self.plan;
        self.horizon_nav_per_share = (f64::NAN, f64::NAN);
        if let (Some(v), Some(vs)) = (p.vault.as_ref(), self.vault.as_mut()) {
            let ps0 = if v.shares0 > 0.0 {
                p.vault_nav0 / v.shares0
            } else {
                0.0
            };
            vs.reset(v, ps0);
        }
    }

    pub(crate) fn record_path(&mut self, stats: &mut PathStats) {
        let p = self.plan;
        stats.paths += 1;
        let mut total_loss = 0.0;
        let mut n_defaults = 0.0;
        for d in 0..p.n_deals() {
            let s = &mut stats.deals[d];
            let inv = 1.0 / p.deal_notional[d];
            s.pv.add(self.acc.deal_pv[d] * inv);
            let lf = clean_loss_fraction(self.acc.deal_loss[d] * inv);
            s.loss.add(lf);
            s.loss_hist.add(lf);
            if lf > LOSS_EPS {
                s.loss_paths += 1;
            }
            let defaulted = self.acc.deal_default_month[d] != 0;
            if defaulted {
                n_defaults += 1.0;
            }
            record_default(s, defaulted, self.acc.deal_default_month[d], lf);
            total_loss += self.acc.deal_loss[d];
        }
        for (q, pool) in stats.tranches.iter_mut().enumerate() {
            let eq = pool.len() - 1;
            for (t, s) in pool.iter_mut().enumerate() {
                let notional = p.tranche_notional[q][t];
                let mut loss = self.acc.tr_writedown[q][t];
                if t == eq {
                    loss += (notional - self.acc.tr_received[q][t]).max(0.0);
                }
                let lf = clean_loss_fraction(loss / notional);
                s.pv.add(self.acc.tr_pv[q][t] / notional);
                s.loss.add(lf);
                s.loss_hist.add(lf);
                if lf > LOSS_EPS {
                    s.loss_paths += 1;
                }
                let defaulted = self.acc.tr_writedown[q][t] > LOSS_EPS * notional
                    || (t == 0 && self.acc.senior_interest_default[q]);
                record_default(s, defaulted, self.acc.tr_default_month[q][t], lf);
            }
        }
        let pl = if p.funded_total > 0.0 {
            clean_loss_fraction(total_loss / p.funded_total)
        } else {
            0.0
        };
        stats.portfolio.loss.add(pl);
        stats.portfolio.loss_hist.add(pl);
        stats.portfolio.defaults.add(n_defaults);
        for (i, s) in stats.derivatives.iter_mut().enumerate() {
            s.pv.add(self.acc.der_pv[i] / self.plan.derivatives.reference_usd[i]);
            s.paid_paths += u64::from(self.acc.der_paid[i]);
        }
        if let (Some(vs), Some(s)) = (self.vault.as_ref(), stats.vault.as_mut()) {
            let worst = vs.worst_wait_at_end();
            for n in 1..=3u32 {
                if worst > n {
                    s.queue_not_cleared[(n - 1) as usize] += 1;
                }
            }
            s.max_queue_fraction.add(vs.max_queue_fraction);
            s.max_cycles_waited.add(f64::from(worst));
            s.record_cycles_waited(worst);
        }
    }

    /// Derivative `i`'s PV to its holder on the path just simulated, as a fraction of its
    /// reference amount: (Σ_k C_k·DF(t_k) − s·premium) / reference (MODEL.md §10.5) — the
    /// per-path row. The statistics keep the deterministic premium out:
    /// `DerivativeStats::pv` records Σ_k C_k·DF(t_k) / reference.
    #[inline]
    fn derivative_pv_frac(&self, i: usize) -> f64 {
        let d = &self.plan.derivatives;
        (self.acc.der_pv[i] - d.signed_premium_usd[i]) / d.reference_usd[i]
    }

    /// Appends the row of the path just simulated (by [`Worker::run_path`]) to `rows`: the
    /// same per-path values, computed by the same arithmetic in the same order, that
    /// `record_path` fed to the statistics.
    pub(crate) fn record_row(&self, path: u32, rows: &mut PathRows) {
        let p = self.plan;
        rows.path.push(u64::from(path));
        let mut total_loss = 0.0;
        let mut n_defaults = 0u32;
        for d in 0..p.n_deals() {
            let inv = 1.0 / p.deal_notional[d];
            rows.deal_pv_frac[d].push(self.acc.deal_pv[d] * inv);
            rows.deal_loss_frac[d].push(clean_loss_fraction(self.acc.deal_loss[d] * inv));
            rows.deal_default_month[d].push(self.acc.deal_default_month[d]);
            if self.acc.deal_default_month[d] != 0 {
                n_defaults += 1;
            }
            total_loss += self.acc.deal_loss[d];
        }
        let mut flat = 0;
        for (q, notionals) in p.tranche_notional.iter().enumerate() {
            let eq = notionals.len() - 1;
            for (t, &notional) in notionals.iter().enumerate() {
                let mut loss = self.acc.tr_writedown[q][t];
                if t == eq {
                    loss += (notional - self.acc.tr_received[q][t]).max(0.0);
                }
                rows.tranche_loss_frac[flat].push(clean_loss_fraction(loss / notional));
                rows.tranche_pv_frac[flat].push(self.acc.tr_pv[q][t] / notional);
                flat += 1;
            }
        }
        rows.portfolio_loss_frac.push(if p.funded_total > 0.0 {
            clean_loss_fraction(total_loss / p.funded_total)
        } else {
            0.0
        });
        rows.defaults.push(n_defaults);
        for (i, col) in rows.derivative_pv_frac.iter_mut().enumerate() {
            col.push(self.derivative_pv_frac(i));
        }
        if let (Some(vs), Some(v)) = (self.vault.as_ref(), rows.vault.as_mut()) {
            v.nav_per_share_staking_usd
                .push(self.horizon_nav_per_share.0);
            v.nav_per_share_unstaking_usd
                .push(self.horizon_nav_per_share.1);
            v.max_queue_fraction.push(vs.max_queue_fraction);
        }
    }
}

/// Steps a path's vault (if the plan has one) through month `k`, reading the month through
/// `inp`, and records it into `stats` (and the horizon NAV per share); the vault's month.
#[inline(always)]
pub(crate) fn record_vault<I: VaultMonthInput<f64>>(
    p: &SimPlan,
    vault: &mut Option<VaultState<f64>>,
    horizon_nav_per_share: &mut (f64, f64),
    k: u32,
    stats: &mut PathStats,
    inp: &I,
) -> Option<VaultMonth<f64>> {
    let (Some(v), Some(vs), Some(st)) = (p.vault.as_ref(), vault.as_mut(), stats.vault.as_mut())
    else {
        return None;
    };
    let m = vs.step_with(v, k, inp);
    record_vault_month(v, &m, horizon_nav_per_share, k, st);
    Some(m)
}

/// Records a path's vault month `m` (month `k` of the vault `v`) into the vault's statistics
/// `st` (and the horizon NAV per share), as [`record_vault`] does after stepping it.
#[inline(always)]
pub(crate) fn record_vault_month(
    v: &gaib_engine::VaultParams<f64>,
    m: &VaultMonth<f64>,
    horizon_nav_per_share: &mut (f64, f64),
    k: u32,
    st: &mut VaultStats,
) {
    let ki = (k - 1) as usize;
    let nav0_ps = st.nav0_per_share_usd;
    let (rs, ru) = if nav0_ps > 0.0 {
        (
            m.nav_per_share_staking / nav0_ps,
            m.nav_per_share_unstaking / nav0_ps,
        )
    } else {
        (0.0, 0.0)
    };
    st.monthly_staking[ki].add(rs);
    st.monthly_unstaking[ki].add(ru);
    st.monthly_unstaking_hist[ki].add(ru);
    if k == v.horizon_month {
        *horizon_nav_per_share = (m.nav_per_share_staking, m.nav_per_share_unstaking);
        st.nav_staking.add(rs);
        st.nav_unstaking.add(ru);
        st.nav_staking_hist.add(rs);
        st.nav_unstaking_hist.add(ru);
    }
}

/// A path's own sums and events (PVs, losses, first default months), accumulated month by
/// month by [`record_month`] and read at the path's end by `record_path` and `record_row`.
#[derive(Debug, Clone)]
pub(crate) struct PathAcc {
    pub(crate) deal_pv: Vec<f64>,
    pub(crate) deal_loss: Vec<f64>,
    /// Per deal: month of its first default on this path, 0 = none.
    pub(crate) deal_default_month: Vec<u32>,
    pub(crate) tr_pv: Vec<Vec<f64>>,
    pub(crate) tr_received: Vec<Vec<f64>>,
    pub(crate) tr_writedown: Vec<Vec<f64>>,
    /// Per tranche: month of its first default event (write-down, or the senior tranche's
    /// interest default) on this path, 0 = none.
    pub(crate) tr_default_month: Vec<Vec<u32>>,
    pub(crate) senior_interest_default: Vec<bool>,
    /// Per derivative: Σ_k C_k·DF(t_k) on this path so far, USD (MODEL.md §10.5).
    pub(crate) der_pv: Vec<f64>,
    /// Per derivative: whether some settlement to the holder was positive on this path.
    pub(crate) der_paid: Vec<bool>,
    /// Per deal: 1 / notional, the factor [`record_month`] normalises its cash flows by (the
    /// same division, done once instead of once per deal-month: the same bits). Constant.
    pub(crate) deal_inv_notional: Vec<f64>,
    /// Per deal: 1 − haircut, the collateral ratio's factor on the fleet's hardware value (the
    /// same subtraction, done once: the same bits). Constant.
    pub(crate) deal_keep: Vec<f64>,
    /// The month's collateral ratios between [`record_month`]'s two passes: the first `n`
    /// entries (n ≤ n_deals) are the deals with a ratio, in deal order, and their ratios.
    ratio_deals: Vec<usize>,
    /// See `ratio_deals`.
    ratio_values: Vec<f64>,
}

impl PathAcc {
    /// Empty accumulators shaped for `plan`.
    pub(crate) fn new(plan: &SimPlan) -> Self {
        let nd = plan.n_deals();
        let tr = |v: f64| -> Vec<Vec<f64>> {
            plan.tranche_notional
                .iter()
                .map(|q| vec![v; q.len()])
                .collect()
        };
        PathAcc {
            deal_pv: vec![0.0; nd],
            deal_loss: vec![0.0; nd],
            deal_default_month: vec![0; nd],
            tr_pv: tr(0.0),
            tr_received: tr(0.0),
            tr_writedown: tr(0.0),
            tr_default_month: plan
                .tranche_notional
                .iter()
                .map(|q| vec![0; q.len()])
                .collect(),
            senior_interest_default: vec![false; plan.tranche_notional.len()],
            der_pv: vec![0.0; plan.n_derivatives()],
            der_paid: vec![false; plan.n_derivatives()],
            deal_inv_notional: plan.deal_notional.iter().map(|n| 1.0 / n).collect(),
            deal_keep: plan.deal_haircut.iter().map(|h| 1.0 - h).collect(),
            ratio_deals: vec![0; nd],
            ratio_values: vec![0.0; nd],
        }
    }

    /// Back to a fresh path.
    pub(crate) fn reset(&mut self) {
        self.deal_pv.fill(0.0);
        self.deal_loss.fill(0.0);
        self.deal_default_month.fill(0);
        self.der_pv.fill(0.0);
        self.der_paid.fill(false);
        for v in self
            .tr_pv
            .iter_mut()
            .chain(self.tr_received.iter_mut())
            .chain(self.tr_writedown.iter_mut())
        {
            v.fill(0.0);
        }
        for v in &mut self.tr_default_month {
            v.fill(0);
        }
        self.senior_interest_default.fill(false);
    }
}

/// One deal's month as [`record_month`] reads it: its proceeds (USD), default, loss and
/// end-of-month state.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DealMonthView {
    /// Interest proceeds (`DealFlows::interest_proceeds`), USD.
    pub(crate) interest_proceeds: f64,
    /// Principal proceeds (`DealFlows::principal_proceeds`), USD.
    pub(crate) principal_proceeds: f64,
    /// Whether it defaulted this month.
    pub(crate) defaulted: bool,
    /// Loss booked this month, USD.
    pub(crate) loss: f64,
    /// Whether it has ended (after the month).
    pub(crate) done: bool,
    /// Outstanding balance after the month, USD.
    pub(crate) balance: f64,
    /// DSRA held after the month, USD.
    pub(crate) dsra: f64,
}

/// What [`record_month`] reads of a month just stepped: one path's engine output and state
/// ([`PathMonth`]), or one lane of a group of paths stepped in lanes (`crate::lanes`). Each
/// value is the engine's, computed by the same operations, so both record the same bits.
pub(crate) trait MonthView {
    /// Whether deal `d` was idle before the month (no flows, no loss, state unchanged: see
    /// [`MonthOutput::zero_flows`]).
    fn idle(&self, d: usize) -> bool;
    /// Deal `d`'s month (read only for a deal that was not idle).
    fn deal(&self, d: usize) -> DealMonthView;
    /// Fleet `f`'s hardware value, USD.
    fn hardware_value(&self, f: usize) -> f64;
    /// Derivative `i`'s settlement to the holder, USD.
    fn derivative(&self, i: usize) -> f64;
    /// Whether pool `q`'s senior tranche ends the month with unpaid interest.
    fn senior_interest_default(&self, q: usize) -> bool;
    /// Tranche `t` of pool `q`: (received, written down, principal), USD.
    fn tranche(&self, q: usize, t: usize) -> (f64, f64, f64);
}

/// One path's month: the scalar engine's output and state after [`CashflowPlan::step`].
pub(crate) struct PathMonth<'a> {
    zero_flows: &'a [bool],
    flows: &'a [gaib_engine::DealFlows<f64>],
    losses: &'a [f64],
    states: &'a [gaib_engine::DealState<f64>],
    out: &'a MonthOutput<f64>,
}

impl<'a> PathMonth<'a> {
    /// The month in `out` and `state`, of a plan with `nd` deals (every per-deal array sliced
    /// to `nd` once, so the deal loop indexes without bounds checks).
    #[inline(always)]
    pub(crate) fn new(out: &'a MonthOutput<f64>, state: &'a CashflowState<f64>, nd: usize) -> Self {
        PathMonth {
            zero_flows: &out.zero_flows()[..nd],
            flows: &out.deals[..nd],
            losses: &out.losses[..nd],
            states: &state.deals[..nd],
            out,
        }
    }
}

impl MonthView for PathMonth<'_> {
    #[inline(always)]
    fn idle(&self, d: usize) -> bool {
        self.zero_flows[d]
    }
    #[inline(always)]
    fn deal(&self, d: usize) -> DealMonthView {
        let (f, st) = (&self.flows[d], &self.states[d]);
        DealMonthView {
            interest_proceeds: f.interest_proceeds(),
            principal_proceeds: f.principal_proceeds(),
            defaulted: f.default_kind.is_some(),
            loss: self.losses[d],
            done: st.done,
            balance: st.balance,
            dsra: st.dsra,
        }
    }
    #[inline(always)]
    fn hardware_value(&self, f: usize) -> f64 {
        self.out.fleets[f].hardware_value
    }
    #[inline(always)]
    fn derivative(&self, i: usize) -> f64 {
        self.out.derivatives[i]
    }
    #[inline(always)]
    fn senior_interest_default(&self, q: usize) -> bool {
        self.out.pool_months[q].senior_interest_default
    }
    #[inline(always)]
    fn tranche(&self, q: usize, t: usize) -> (f64, f64, f64) {
        let fl = &self.out.tranches[q][t];
        (fl.received(), fl.writedown, fl.principal)
    }
}

/// Records month `k` of one path (read through `v`) into its accumulators `acc`, the flat
/// per-(deal, month) accumulators `deal_months` and `stats`.
#[inline(always)]
pub(crate) fn record_month<V: MonthView>(
    p: &SimPlan,
    acc: &mut PathAcc,
    deal_months: &mut DealMonthAcc,
    v: &V,
    k: u32,
    stats: &mut PathStats,
) {
    let ki = (k - 1) as usize;
    let k_max = p.months as usize;
    // Every per-deal array has n_deals entries (deal_df: n_deals × months), so each is
    // re-sliced to that length once and the loop indexes without bounds checks; the
    // arithmetic and its order are those of plain indexing (bit-identical).
    let nd = p.n_deals();
    let (inv_notional, keep, deal_fleet) = (
        &acc.deal_inv_notional[..nd],
        &acc.deal_keep[..nd],
        &p.flow.deal_fleet[..nd],
    );
    let (pv, loss, dm) = (
        &mut acc.deal_pv[..nd],
        &mut acc.deal_loss[..nd],
        &mut acc.deal_default_month[..nd],
    );
    // The month's flat per-deal accumulators (see `crate::accum`), in deal order.
    let cells = &mut deal_months.month_mut(ki).0[..nd];
    // The month's discount factors, deal d's at `d·k_max` (`deal_df` is deal-major, k_max
    // months a deal). Indexed only for a deal with cash, after the idle test: a plain
    // index loop walks fewer pointers than `chunks_exact` (≈2 instructions a deal-step).
    // (Empty without deals.)
    debug_assert!(ki < k_max);
    let df = p.deal_df.get(ki..).unwrap_or_default();
    // The month's collateral ratios are computed in this loop and recorded after it
    // (`DealMonthAcc::add_ratios`): a ratio is two dependent loads, a multiply-add and a
    // division, and recording it another division, a conversion and a histogram increment
    // at the address that gives; in one loop that chain held up retiring each deal's work
    // (≈2 % of the sample's CPU time). A (deal, month) cell's statistics are independent
    // of one another, so recording its ratio after its cash flows changes no bit.
    let (ratio_deals, ratio_values) = (&mut acc.ratio_deals[..nd], &mut acc.ratio_values[..nd]);
    let mut n_ratios = 0;
    for d in 0..nd {
        // A deal idle before this month (ended, no recovery to come: from a few months
        // to most of the horizon after its term) changes nothing below, so it is skipped
        // (≈40% of the sample's deal-steps). Its flows are `DealFlows::zero`: cf = +0.0
        // adds nothing; its loss this month is +0.0, and `loss[d]`, a sum of losses from
        // +0.0 (never −0.0: a round-to-nearest sum is −0.0 only if both terms are), is
        // unchanged by adding it; no default this month; and its state is unchanged and
        // done, so no collateral ratio.
        if v.idle(d) {
            continue;
        }
        let f = v.deal(d);
        // `total_received()`, with its principal proceeds kept for the principal
        // statistic (the same operations in the same order: bit-identical).
        let principal = f.principal_proceeds;
        let cf = f.interest_proceeds + principal;
        let inv = inv_notional[d];
        if cf != 0.0 {
            pv[d] += cf * df[d * k_max];
            let cell = &mut cells[d];
            cell.cash_flow.add(cf * inv);
            cell.principal.add(principal * inv);
        }
        loss[d] += f.loss;
        if f.defaulted && dm[d] == 0 {
            dm[d] = k;
        }
        // The collateral ratio of a deal that is not done and owes more than 1e-9; written
        // for every deal and kept (counted) only then, without a branch: which deals
        // qualify changes from path to path and was often mispredicted. (A ratio not
        // kept may be ∞ or NaN: it is overwritten or never read.)
        let coll = v.hardware_value(deal_fleet[d]) * keep[d] + f.dsra;
        // n_ratios ≤ d < nd: in bounds.
        ratio_values[n_ratios] = (coll / f.balance).min(MAX_COLLATERAL_RATIO);
        ratio_deals[n_ratios] = d;
        n_ratios += usize::from(!f.done & (f.balance > 1e-9));
    }
    deal_months.add_ratios(ki, &ratio_deals[..n_ratios], &ratio_values[..n_ratios]);
    for i in 0..p.n_derivatives() {
        let c = v.derivative(i);
        if c != 0.0 {
            let dv = &p.derivatives;
            acc.der_pv[i] += c * dv.df[i * k_max + ki];
            acc.der_paid[i] |= c > 0.0;
            stats.derivatives[i].settlement[ki].add(c / dv.reference_usd[i]);
        }
    }
    for (q, notionals) in p.tranche_notional.iter().enumerate() {
        if v.senior_interest_default(q) {
            acc.senior_interest_default[q] = true;
        }
        for t in 0..notionals.len() {
            let (cf, writedown, principal) = v.tranche(q, t);
            acc.tr_writedown[q][t] += writedown;
            if acc.tr_default_month[q][t] == 0
                && (acc.tr_writedown[q][t] > LOSS_EPS * p.tranche_notional[q][t]
                    || (t == 0 && acc.senior_interest_default[q]))
            {
                acc.tr_default_month[q][t] = k;
            }
            if cf != 0.0 {
                let inv = 1.0 / p.tranche_notional[q][t];
                acc.tr_pv[q][t] += cf * p.tranche_df[q][t][ki];
                acc.tr_received[q][t] += cf;
                let s = &mut stats.tranches[q][t];
                s.cash_flow[ki].add(cf * inv);
                s.principal[ki].add(principal * inv);
            }
        }
    }
}

/// Paths recorded into one [`PathStats`] by one [`Worker`] ([`Worker::batch`]); the worker's
/// flat per-(deal, month) accumulators are merged into the statistics when it is dropped.
#[derive(Debug)]
pub struct PathBatch<'w, 'p> {
    worker: &'w mut Worker<'p>,
    stats: &'w mut PathStats,
}

impl PathBatch<'_, '_> {
    /// Simulates `paths` under `seed` in order and records them (as [`PathBatch::run_path`]
    /// each, and [`PathBatch::run_path_with_row`] into `rows` if given): in groups of lanes
    /// where `groups` is given (the same statistics and rows bit for bit), the rest one by one.
    pub(crate) fn run_range(
        &mut self,
        seed: u64,
        paths: std::ops::Range<u64>,
        mut rows: Option<&mut PathRows>,
        groups: Option<&mut crate::lanes::Groups<'_>>,
    ) {
        // Path indices lie in 0..2^32 (`backend::check_paths`), so each fits a u32.
        let mut i = paths.start;
        if let Some(g) = groups {
            let w = u64::from(g.width());
            while paths.end.saturating_sub(i) >= w {
                g.run(
                    seed,
                    i as u32,
                    &mut self.worker.deal_months,
                    self.stats,
                    rows.as_deref_mut(),
                );
                i += w;
            }
        }
        for j in i..paths.end {
            match rows.as_deref_mut() {
                Some(r) => self.run_path_with_row(seed, j as u32, r),
                None => self.run_path(seed, j as u32),
            }
        }
    }

    /// Simulates path `path` under `seed` and records it (as [`Worker::run_path`]).
    pub fn run_path(&mut self, seed: u64, path: u32) {
        self.worker
            .run_path_observed(seed, path, self.stats, false, |_, _| {});
    }

    /// As [`PathBatch::run_path`], and also appends the path's row to `rows` (as
    /// [`Worker::run_path_with_row`]).
    pub fn run_path_with_row(&mut self, seed: u64, path: u32, rows: &mut PathRows) {
        self.run_path(seed, path);
        self.worker.record_row(path, rows);
    }

    /// As [`PathBatch::run_path`], handing each month's engine output to `observe` (as
    /// [`Worker::run_path_with`]).
    pub fn run_path_with(
        &mut self,
        seed: u64,
        path: u32,
        mut observe: impl FnMut(&MonthOutput<f64>),
    ) {
        self.worker
            .run_path_observed(seed, path, self.stats, true, |w, _| observe(&w.out));
    }
}

impl Drop for PathBatch<'_, '_> {
    /// Merges the batch's per-(deal, month) statistics into its `PathStats`.
    fn drop(&mut self) {
        self.worker.deal_months.flush_into(self.stats);
    }
}

/// One path's market, from [`Worker::market_path`].
#[derive(Debug, Clone, PartialEq)]
pub struct MarketPath {
    /// `price[k-1][c]`: P_c(t_k), USD per GPU-hour.
    pub price: Vec<Vec<f64>>,
    /// `price_over_trend[k-1][c]`: P_c(t_k)/P̄_c(t_k) = e^{X+J+S}.
    pub price_over_trend: Vec<Vec<f64>>,
    /// `utilization[k-1][f]`: u_f(t_k).
    pub utilization: Vec<Vec<f64>>,
    /// Per operator: credit-default month (0 = none within the horizon).
    pub default_month: Vec<u32>,
}

/// logistic(y) clamped into [U_EPS, 1 − U_EPS].
#[inline(always)]
pub fn logistic_clamped(y: f64) -> f64 {
    (1.0 / (1.0 + math::exp(-y))).clamp(U_EPS, 1.0 - U_EPS)
}

/// The default month ⌈12·tau⌉ (at least 1) of copula value `a` under hazard `h` > 0 (per
/// year), or 0 if it falls after the horizon of `months` months.
fn default_month(a: f64, h: f64, months: u32) -> u32 {
    let month = (default_time(a, h) * 12.0).ceil();
    if month <= f64::from(months) {
        (month as u32).max(1)
    } else {
        0
    }
}

/// A copula value above which operator `o` of `plan` never defaults within the horizon
/// (`default_month` is 0), so that a path can skip `default_time` (erfc and a logarithm) for
/// it: +∞ if there is none. Exact by construction: the default time grows with `a`, so the
/// default months within the horizon are the a ≤ a*; a* is bracketed by bisection on
/// `default_month` itself, and the returned bound lies 1e-6 (in a, a standard normal) above
/// the bracket, orders of magnitude beyond the few ulps by which the computed default time can
/// stray from monotone. At a ≥ 37.5, 1 − Phi(a) underflows and the time is +∞ (no default),
/// which the bound, at most 40, leaves to `default_month`.
fn no_default_above(plan: &SimPlan, o: usize) -> f64 {
    let (h, k) = (plan.operators.hazard[o], plan.months);
    let defaults = |a: f64| default_month(a, h, k) != 0;
    let (mut lo, mut hi) = (-40.0, 30.0);
    if h <= 0.0 || !defaults(lo) || defaults(hi) {
        return f64::INFINITY;
    }
    // defaults(lo) and !defaults(hi) throughout.
    for _ in 0..100 {
        let mid = 0.5 * (lo + hi);
        if defaults(mid) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    hi + 1e-6
}

/// Default time tau = −ln(1 − Phi(a))/h, years (h > 0), computed without cancellation:
/// −ln1p(−Phi(a)) when Phi(a) < 1/2, else −ln(Phi(−a)). +∞ when 1 − Phi(a) underflows.
pub fn default_time(a: f64, h: f64) -> f64 {
    let sqrt2 = std::f64::consts::SQRT_2;
    let cdf = 0.5 * math::erfc(-a / sqrt2);
    let minus_log_survival = if cdf < 0.5 {
        -math::ln_1p(-cdf)
    } else {
        -math::ln(0.5 * math::erfc(a / sqrt2))
    };
    minus_log_survival / h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_time_limits_are_finite_or_infinite_never_nan() {
        assert!(default_time(40.0, 0.1).is_infinite());
        let t = default_time(-40.0, 0.1);
        assert!((0.0..1e-100).contains(&t), "{t}");
        // Median: Phi(0) = 1/2 → tau = ln 2 / h.
        assert!((default_time(0.0, 0.5) - 2f64.ln() / 0.5).abs() < 1e-14);
    }

    /// The sample's plan with operator 0's hazard set to each of `hazards` (per year) and
    /// the horizon to each of `months`: above `no_default_above`, `default_month` is 0 at
    /// every a tried (a dense grid around the bound and a coarse one over the whole line),
    /// and just below it there is a default (the bound is tight, so the shortcut pays).
    #[test]
    fn no_default_above_the_bound() {
        let mut plan = crate::plan::tests::sample_plan();
        let mut tight = 0;
        for months in [1, 12, 48, 480] {
            for h in [0.0, 1e-9, 1e-3, 0.05, 0.5, 5.0, 50.0, 1e3] {
                plan.months = months;
                plan.operators.hazard[0] = h;
                let t = no_default_above(&plan, 0);
                let grid = (-4000..=4000)
                    .map(|i| t + f64::from(i) * 1e-9)
                    .chain((-4000..=4000).map(|i| f64::from(i) * 0.01));
                for a in grid.filter(|&a| a > t) {
                    assert_eq!(default_month(a, h, months), 0, "a {a}, h {h}, K {months}");
                }
                if t.is_finite() {
                    assert!(default_month(t - 1e-5, h, months) > 0, "h {h}, K {months}");
                    tight += 1;
                }
            }
        }
        assert!(tight >= 20, "{tight}");
    }

    #[test]
    fn logistic_stays_inside_unit_interval() {
        for y in [-1e3, -40.0, 0.0, 40.0, 1e3] {
            let u = logistic_clamped(y);
            assert!(u > 0.0 && u < 1.0, "{y} → {u}");
        }
    }
}
