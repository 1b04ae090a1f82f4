//! [`FlatPlan`]: everything one Monte Carlo path needs, lowered from a [`SimPlan`] (its
//! stochastic arrays and the engine's `CashflowPlan<f64>` and `VaultParams<f64>`) into two
//! plain buffers — `f64s` and `i32s` — that a kernel reads without knowing any Rust type.
//!
//! Layout: `i32s[0..HI_COUNT]` is a header of counts and of offsets (into `i32s` for integer
//! arrays, into `f64s` for real arrays, into the accumulator for statistics), `f64s[0..FS_COUNT]`
//! holds the real scalars; the arrays follow. The slot numbers are the enums `HeaderI` and
//! `ScalarF` of `kernels/gaib_mc.cu`, read by the build script, so kernel and lowering share
//! one table; so are the codes written into the buffers (deal kind `KIND_*`, amortisation
//! `AM_*`, default kind `DK_*`, lien `LIEN_*`, the kernel's `#define`s).
//!
//! [`FlatPlan::new`] lowers section by section (header, market, fleets, deals, pools, vault, derivatives,
//! statistics, scratch); each deal is first one `DealRow` (its terms and codes), and the rows
//! are flattened into the kernel's per-deal arrays in one place. The accumulator ([`AccLayout`]) holds the exact sums, counts and histograms of
//! [`PathStats`] as u64 words (see [`crate::acc`]).

use crate::error::{GpuError, Result};
use gaib_engine::{
    Amortization, DealParams, DealParamsKind, DerivativeKind, Fixing, FleetParams, Lien, Underlying,
};
use gaib_simulator::{PathStats, SimPlan, MAX_JUMPS_PER_MONTH};

#[allow(dead_code)]
mod slots {
    include!(concat!(env!("OUT_DIR"), "/slots.rs"));
}
pub(crate) use slots::*;

/// The kernel's code `#define`s (`KIND_*`, `AM_*`, `DK_*`, `LIEN_*`), read by the build script.
#[allow(dead_code)]
mod codes {
    include!(concat!(env!("OUT_DIR"), "/codes.rs"));
}
pub(crate) use codes::*;

/// Header magic (format version 3 of the flat layout: derivatives); `GAIB_FLAT_MAGIC` in the
/// kernel.
pub const FLAT_MAGIC: i32 = 0x6A1B_0003;

/// Trace fields per deal and month (in this order): balance at month end, interest, scheduled
/// principal, prepayment, refinanced principal, revenue-share capital, revenue-share income,
/// kicker, recovery received, default kind (the kernel's `DK_*` code: 0 none, 1 payment,
/// 2 refinancing, 3 credit), exposure at default, loss booked, cash left, DSRA; all USD except
/// the kind.
pub const TRACE_DEAL_FIELDS: [&str; 14] = [
    "balance_end",
    "interest",
    "scheduled_principal",
    "prepayment",
    "refinanced",
    "rev_share_capital",
    "rev_share_income",
    "kicker",
    "recovery",
    "default_kind",
    "default_ead",
    "loss",
    "cash_left",
    "dsra",
];
/// Trace fields per fleet and month: revenue, NOI, hardware value, hedge settlements (USD).
pub const TRACE_FLEET_FIELDS: [&str; 4] = ["revenue", "noi", "hardware_value", "hedge"];
/// Trace fields per derivative and month: its settlement to the holder (USD).
pub const TRACE_DERIVATIVE_FIELDS: [&str; 1] = ["settlement"];
/// Words of a derivative block in the accumulator before its per-month settlement sums: PV
/// moments and the count of paths with a positive settlement.
pub const DERIVATIVE_HEAD_WORDS: usize = 6;
/// Trace fields per tranche and month: interest, principal, write-down, balance at month end
/// (USD).
pub const TRACE_TRANCHE_FIELDS: [&str; 4] = ["interest", "principal", "writedown", "balance_end"];
/// Trace fields of the vault per month: buffer (USD), shares, NAV per share at the staking and
/// at the unstaking price (USD).
pub const TRACE_VAULT_FIELDS: [&str; 4] =
    ["buffer", "shares", "nav_ps_staking", "nav_ps_unstaking"];

/// Words of a `Moments` in the accumulator: n, Σx (2 words), Σx² (2 words).
pub const MOMENT_WORDS: usize = 5;
/// Words of an instrument block before its per-month sums (pv, loss, 3 counts, loss on
/// default, 1-year loss).
pub const INSTRUMENT_HEAD_WORDS: usize = 23;

/// Where each statistic of [`PathStats`] lives in the accumulator (u64 word offsets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccLayout {
    /// Months K.
    pub months: usize,
    /// First deal block.
    pub deals: usize,
    /// First tranche block (tranches of all pools in order).
    pub tranches: usize,
    /// Words per instrument block.
    pub inst_size: usize,
    /// Bins of an instrument loss histogram.
    pub inst_bins: usize,
    /// The portfolio block: loss moments, loss histogram, defaults moments.
    pub portfolio: usize,
    /// Bins of the portfolio loss histogram.
    pub port_bins: usize,
    /// The vault block (meaningful only with a vault).
    pub vault: usize,
    /// Bins of the horizon NAV histograms.
    pub nav_bins: usize,
    /// Bins of the monthly NAV histograms.
    pub fan_bins: usize,
    /// Length of `cycles_waited_paths`.
    pub cw_len: usize,
    /// Collateral-ratio moments, deal-major then month.
    pub collateral: usize,
    /// Collateral-ratio histograms, deal-major then month.
    pub collateral_hist: usize,
    /// First derivative block: PV moments, paid-path count, K settlement sums each.
    pub derivatives: usize,
    /// Words per derivative block.
    pub dv_size: usize,
    /// Bins of a collateral-ratio histogram.
    pub coll_bins: usize,
    /// Path count.
    pub paths: usize,
    /// Error bits set by the kernel (0 = none).
    pub err: usize,
    /// Total words.
    pub size: usize,
}

impl AccLayout {
    /// Words of a histogram of `bins` bins: counts, at_lo, underflow, overflow, min, max.
    pub fn hist_words(bins: usize) -> usize {
        bins + 5
    }

    /// Offset of the histogram of an instrument block, relative to the block.
    pub fn inst_hist(&self) -> usize {
        INSTRUMENT_HEAD_WORDS + 4 * self.months
    }

    /// Offsets in the vault block: nav_staking, nav_unstaking, their histograms, monthly
    /// staking, monthly unstaking, monthly histograms, queue_not_cleared, max queue fraction,
    /// max cycles waited (cycles_waited_paths follows: [`AccLayout::vault_cw`]).
    pub fn vault_offsets(&self) -> [usize; 10] {
        let nav_s = 0;
        let nav_u = 5;
        let hs = 10;
        let hu = hs + Self::hist_words(self.nav_bins);
        let ms = hu + Self::hist_words(self.nav_bins);
        let mu = ms + MOMENT_WORDS * self.months;
        let mh = mu + MOMENT_WORDS * self.months;
        let qnc = mh + self.months * Self::hist_words(self.fan_bins);
        let mqf = qnc + 3;
        let mcw = mqf + MOMENT_WORDS;
        [nav_s, nav_u, hs, hu, ms, mu, mh, qnc, mqf, mcw]
    }

    /// Offset of `cycles_waited_paths` in the vault block.
    pub fn vault_cw(&self) -> usize {
        self.vault_offsets()[9] + MOMENT_WORDS
    }

    /// Words of the vault block.
    pub fn vault_words(&self) -> usize {
        self.vault_cw() + self.cw_len
    }
}

/// A [`SimPlan`] as plain buffers for a kernel (see the module docs).
#[derive(Debug, Clone)]
pub struct FlatPlan {
    /// Real scalars and arrays (USD, rates, factors: the units of the `SimPlan` fields).
    pub f64s: Vec<f64>,
    /// Header, counts, indices and integer terms.
    pub i32s: Vec<i32>,
    /// Accumulator layout.
    pub layout: AccLayout,
    /// Initial accumulator: zeros, with every histogram minimum at its "empty" key.
    pub acc_init: Vec<u64>,
    /// Empty statistics shaped for the plan (ids, notionals, histogram edges), which
    /// [`crate::acc::to_path_stats`] fills from an accumulator.
    pub template: PathStats,
    /// Per-thread scratch: f64 words.
    pub scratch_f64: usize,
    /// Per-thread scratch: i32 words.
    pub scratch_i32: usize,
    /// Doubles per path of the optional per-path rows.
    pub row_stride: usize,
    /// Doubles per month of the optional trace.
    pub trace_stride: usize,
}

/// Builder of the two buffers: arrays are appended and their offsets stored in the header.
struct Builder {
    f: Vec<f64>,
    i: Vec<i32>,
}

impl Builder {
    fn fa(&mut self, slot: usize, v: impl IntoIterator<Item = f64>) -> Result<()> {
        self.i[slot] = to_i32("f64 offset", self.f.len())?;
        self.f.extend(v);
        Ok(())
    }
    fn ia(&mut self, slot: usize, v: impl IntoIterator<Item = i32>) -> Result<()> {
        self.i[slot] = to_i32("i32 offset", self.i.len())?;
        self.i.extend(v);
        Ok(())
    }
}

fn to_i32(what: &str, x: impl TryInto<i32> + Copy + std::fmt::Debug) -> Result<i32> {
    x.try_into().map_err(|_| GpuError::Unsupported {
        what: format!("{what} {x:?} does not fit the kernel's 32-bit indices"),
    })
}

fn count(v: usize, what: &str) -> Result<i32> {
    to_i32(what, v)
}

/// The plan's dimensions, as the header stores them.
struct Dims {
    /// GPU classes.
    nc: usize,
    /// Fleets.
    nf: usize,
    /// Operators.
    no: usize,
    /// Deals.
    nd: usize,
    /// Pools.
    np: usize,
    /// Tranches over all pools.
    nt: usize,
    /// Horizon K, months.
    k: usize,
    /// Withdrawal cycles of the vault (0 without a vault).
    ncy: usize,
    /// Derivatives.
    ndv: usize,
}

/// One deal's terms as the kernel reads them: one entry of each `HI_DEAL_*` / `HF_DEAL_*`
/// array (the per-month discount factors, notional and haircut come from the `SimPlan`'s own
/// arrays). Terms a kind does not have are 0. [`put_deals`] flattens the rows.
struct DealRow {
    /// Index of the deal's fleet.
    fleet: i32,
    /// `LIEN_*` code.
    lien: i32,
    /// `KIND_*` code.
    kind: i32,
    /// Term, months.
    term: i32,
    /// Recovery lag, months.
    lag: i32,
    /// 1 when secured by the fleet's hardware.
    secured: i32,
    /// `AM_*` code (loans; `AM_ANNUITY` for revenue shares).
    amort: i32,
    /// Interest-only grace, months (loans).
    grace: i32,
    /// Debt-service reserve, months of debt service (loans).
    dsra_months: i32,
    /// 1 when the loan has a fixed rate.
    has_fixed: i32,
    /// Funded amount, USD.
    funded: f64,
    /// Fixed annual rate (0 when floating or not a loan).
    fixed_rate: f64,
    /// Annual spread over the base rate (loans).
    float_spread: f64,
    /// Share of excess cash swept to principal (loans).
    sweep: f64,
    /// Refinancing ratio at maturity (loans).
    refi: f64,
    /// Kicker: share of revenue after repayment (loans).
    kicker: f64,
    /// Share of revenue paid (revenue shares).
    rs_share: f64,
    /// Cap as a multiple of the funded amount (revenue shares).
    rs_cap: f64,
    /// Recovery rate of an unsecured claim.
    unsec_rec: f64,
}

impl DealRow {
    /// The row of deal `d` on fleet index `fleet` with lien `lien`; refuses what the kernel
    /// does not implement.
    fn new(d: &DealParams<f64>, fleet: i32, lien: Lien) -> Result<Self> {
        let term = to_i32("term_months", d.term_months)?;
        let lag = to_i32("recovery_lag_months", d.recovery_lag_months)?;
        let mut row = DealRow {
            fleet,
            lien: match lien {
                Lien::Senior => LIEN_SENIOR,
                Lien::PariPassu => LIEN_PARI_PASSU,
                Lien::Junior => LIEN_JUNIOR,
            },
            kind: KIND_LOAN,
            term,
            lag,
            secured: i32::from(d.secured),
            amort: AM_ANNUITY,
            grace: 0,
            dsra_months: 0,
            has_fixed: 0,
            funded: d.funded(),
            fixed_rate: 0.0,
            float_spread: 0.0,
            sweep: 0.0,
            refi: 0.0,
            kicker: 0.0,
            rs_share: 0.0,
            rs_cap: 0.0,
            unsec_rec: d.unsecured_recovery,
        };
        match d.kind {
            DealParamsKind::Loan {
                fixed_rate,
                floating_spread,
                amortization,
                grace_months,
                dsra_months,
                cash_sweep,
                refinance_ratio,
                kicker_share,
                ..
            } => {
                if grace_months >= d.term_months && matches!(amortization, Amortization::Linear) {
                    return Err(GpuError::Unsupported {
                        what: "a linear loan with grace_months ≥ term_months".into(),
                    });
                }
                row.amort = match amortization {
                    Amortization::Annuity => AM_ANNUITY,
                    Amortization::Linear => AM_LINEAR,
                    Amortization::Bullet => AM_BULLET,
                };
                row.grace = to_i32("grace_months", grace_months)?;
                row.dsra_months = to_i32("dsra_months", dsra_months)?;
                row.has_fixed = i32::from(fixed_rate.is_some());
                row.fixed_rate = fixed_rate.unwrap_or(0.0);
                row.float_spread = floating_spread;
                row.sweep = cash_sweep;
                row.refi = refinance_ratio;
                row.kicker = kicker_share;
            }
            DealParamsKind::RevenueShare {
                share,
                cap_multiple,
                ..
            } => {
                row.kind = KIND_REV_SHARE;
                row.rs_share = share;
                row.rs_cap = cap_multiple;
            }
        }
        Ok(row)
    }
}

/// Integer indices (`usize`) as the kernel's i32s.
fn indices(v: impl IntoIterator<Item = usize>, what: &str) -> Result<Vec<i32>> {
    v.into_iter().map(|x| count(x, what)).collect()
}

/// Refuses plans the kernel does not implement before anything is lowered: a horizon of 0
/// months, a pool whose equity tranche is not the last.
fn check_shape(plan: &SimPlan) -> Result<()> {
    if plan.months == 0 {
        return Err(GpuError::Unsupported {
            what: "a horizon of 0 months".into(),
        });
    }
    for (q, pool) in plan.flow.pools.iter().enumerate() {
        let w = &pool.waterfall;
        if w.is_empty() || w.equity != w.len() - 1 {
            return Err(GpuError::Unsupported {
                what: format!("pool {q}: the equity tranche must be the last of ≥ 1"),
            });
        }
    }
    Ok(())
}

impl Builder {
    /// The header's counts and flags.
    fn put_header(&mut self, plan: &SimPlan, n: &Dims) -> Result<()> {
        self.i[HI_MAGIC] = FLAT_MAGIC;
        self.i[HI_NC] = count(n.nc, "classes")?;
        self.i[HI_NF] = count(n.nf, "fleets")?;
        self.i[HI_NO] = count(n.no, "operators")?;
        self.i[HI_ND] = count(n.nd, "deals")?;
        self.i[HI_NP] = count(n.np, "pools")?;
        self.i[HI_NT] = count(n.nt, "tranches")?;
        self.i[HI_K] = count(n.k, "months")?;
        self.i[HI_HAS_VAULT] = i32::from(plan.vault.is_some());
        self.i[HI_CHOL_IDENTITY] = i32::from(plan.chol_identity);
        self.i[HI_MAX_JUMPS] = to_i32("max jumps", MAX_JUMPS_PER_MONTH)?;
        self.i[HI_SYS_STREAM] = plan.systematic_stream as i32;
        self.i[HI_NCYCLES] = count(n.ncy, "withdrawal cycles")?;
        self.i[HI_NDV] = count(n.ndv, "derivatives")?;
        Ok(())
    }

    /// GPU classes and the market: price processes, Cholesky factor, trend shocks.
    fn put_market(&mut self, plan: &SimPlan) -> Result<()> {
        let c = &plan.classes;
        self.ia(HI_CLASS_STREAM, c.stream.iter().map(|&s| s as i32))?;
        self.fa(HF_CLASS_OU_DECAY, c.ou_decay.iter().copied())?;
        self.fa(HF_CLASS_OU_SCALE, c.ou_scale.iter().copied())?;
        self.fa(HF_CLASS_JUMP_RATE, c.jump_rate_per_step.iter().copied())?;
        self.fa(HF_CLASS_JUMP_MEAN, c.jump_mean.iter().copied())?;
        self.fa(HF_CLASS_JUMP_STD, c.jump_std.iter().copied())?;
        self.fa(HF_CHOL, plan.chol.iter().copied())?;
        self.fa(HF_LOG_TREND_SHOCK, plan.log_trend_shock.iter().copied())?;
        self.fa(HF_INV_TREND, plan.inv_trend.iter().copied())?;
        Ok(())
    }

    /// Fleets and operators: streams, indices, utilization processes, revenue and hardware
    /// terms.
    fn put_fleets(&mut self, plan: &SimPlan) -> Result<()> {
        let flow = &plan.flow;
        self.ia(
            HI_FLEET_STREAM,
            plan.fleets.stream.iter().map(|&s| s as i32),
        )?;
        self.ia(
            HI_FLEET_CLASS,
            indices(flow.fleets.iter().map(|f| f.class), "class index")?,
        )?;
        self.ia(
            HI_FLEET_OPERATOR,
            indices(flow.fleets.iter().map(|f| f.operator), "operator index")?,
        )?;
        let ends = flow
            .fleets
            .iter()
            .map(|f| to_i32("contract_end_month", f.contract_end_month))
            .collect::<Result<Vec<_>>>()?;
        self.ia(HI_FLEET_CONTRACT_END, ends)?;
        self.ia(
            HI_OP_STREAM,
            plan.operators.stream.iter().map(|&s| s as i32),
        )?;
        self.fa(HF_FLEET_Y0, plan.fleets.y0.iter().copied())?;
        self.fa(HF_FLEET_DECAY, plan.fleets.decay.iter().copied())?;
        self.fa(HF_FLEET_PULL, plan.fleets.pull.iter().copied())?;
        self.fa(HF_FLEET_SCALE, plan.fleets.scale.iter().copied())?;
        self.fa(HF_FLEET_LOAD_PRICE, plan.fleets.load_price.iter().copied())?;
        self.fa(HF_FLEET_LOAD_OWN, plan.fleets.load_own.iter().copied())?;
        self.fa(HF_OP_HAZARD, plan.operators.hazard.iter().copied())?;
        let ff = |g: fn(&FleetParams<f64>) -> f64| flow.fleets.iter().map(g);
        self.fa(HF_FLEET_GPU_HOURS, ff(|f| f.gpu_hours))?;
        self.fa(HF_FLEET_GPUS, ff(|f| f.gpus))?;
        self.fa(HF_FLEET_PHI, ff(|f| f.contracted_share))?;
        self.fa(HF_FLEET_RATE, ff(|f| f.contract_rate))?;
        self.fa(HF_FLEET_OPEX_FIXED, ff(|f| f.opex_fixed))?;
        self.fa(HF_FLEET_OPEX_VAR, ff(|f| f.opex_variable))?;
        self.fa(HF_FLEET_PURCHASE, ff(|f| f.purchase_price))?;
        self.fa(HF_FLEET_AGE0, ff(|f| f.age0_years))?;
        self.fa(HF_FLEET_LIFE, ff(|f| f.useful_life_years))?;
        self.fa(HF_FLEET_FLOOR, ff(|f| f.residual_floor))?;
        self.fa(HF_FLEET_HAIRCUT, ff(|f| f.liquidation_haircut))?;
        self.fa(HF_FLEET_LIQ_COST, ff(|f| f.liquidation_cost))?;

        // Fleet → deals in payment order (offset table of nf + 1 entries).
        let mut starts = vec![0i32];
        let mut list = Vec::with_capacity(flow.deals.len());
        for ds in &flow.fleet_deals {
            for &d in ds {
                list.push(count(d, "deal index")?);
            }
            starts.push(count(list.len(), "fleet deals")?);
        }
        self.ia(HI_FLEET_DEALS_START, starts)?;
        self.ia(HI_FLEET_DEALS, list)?;
        Ok(())
    }

    /// Deals: one [`DealRow`] each, flattened into the `HI_DEAL_*` / `HF_DEAL_*` arrays, then
    /// the plan's notionals, discount factors and haircuts, and the base rates.
    fn put_deals(&mut self, plan: &SimPlan, k: usize) -> Result<()> {
        let flow = &plan.flow;
        let deal_fleet = indices(flow.deal_fleet.iter().copied(), "fleet index")?;
        let rows = flow
            .deals
            .iter()
            .zip(&deal_fleet)
            .zip(&flow.deal_lien)
            .map(|((p, &fleet), &lien)| DealRow::new(p, fleet, lien))
            .collect::<Result<Vec<_>>>()?;
        let int = |g: fn(&DealRow) -> i32| rows.iter().map(g).collect::<Vec<_>>();
        let real = |g: fn(&DealRow) -> f64| rows.iter().map(g).collect::<Vec<_>>();
        self.ia(HI_DEAL_FLEET, int(|r| r.fleet))?;
        self.ia(HI_DEAL_LIEN, int(|r| r.lien))?;
        self.ia(HI_DEAL_KIND, int(|r| r.kind))?;
        self.ia(HI_DEAL_TERM, int(|r| r.term))?;
        self.ia(HI_DEAL_LAG, int(|r| r.lag))?;
        self.ia(HI_DEAL_SECURED, int(|r| r.secured))?;
        self.ia(HI_DEAL_AMORT, int(|r| r.amort))?;
        self.ia(HI_DEAL_GRACE, int(|r| r.grace))?;
        self.ia(HI_DEAL_DSRA_MONTHS, int(|r| r.dsra_months))?;
        self.ia(HI_DEAL_HAS_FIXED, int(|r| r.has_fixed))?;
        self.fa(HF_DEAL_FUNDED, real(|r| r.funded))?;
        self.fa(HF_DEAL_FIXED_RATE, real(|r| r.fixed_rate))?;
        self.fa(HF_DEAL_FLOAT_SPREAD, real(|r| r.float_spread))?;
        self.fa(HF_DEAL_SWEEP, real(|r| r.sweep))?;
        self.fa(HF_DEAL_REFI, real(|r| r.refi))?;
        self.fa(HF_DEAL_KICKER, real(|r| r.kicker))?;
        self.fa(HF_DEAL_RS_SHARE, real(|r| r.rs_share))?;
        self.fa(HF_DEAL_RS_CAP, real(|r| r.rs_cap))?;
        self.fa(HF_DEAL_UNSEC_REC, real(|r| r.unsec_rec))?;
        self.fa(HF_DEAL_NOTIONAL, plan.deal_notional.iter().copied())?;
        self.fa(HF_DEAL_DF, plan.deal_df.iter().copied())?;
        self.fa(HF_DEAL_HAIRCUT, plan.deal_haircut.iter().copied())?;
        if flow.base_rates.len() != k {
            return Err(GpuError::Unsupported {
                what: format!("{} base rates for {k} months", flow.base_rates.len()),
            });
        }
        self.fa(HF_BASE_RATES, flow.base_rates.iter().copied())?;
        Ok(())
    }

    /// Pools and their tranches: deal lists, tranche offsets, waterfall terms, discount
    /// factors.
    fn put_pools(&mut self, plan: &SimPlan, n: &Dims) -> Result<()> {
        let flow = &plan.flow;
        let mut pd_start = vec![0i32];
        let mut pd = Vec::new();
        let mut tr_start = vec![0i32];
        let mut tr_n = 0usize;
        for pool in &flow.pools {
            for &d in &pool.deals {
                pd.push(count(d, "deal index")?);
            }
            pd_start.push(count(pd.len(), "pool deals")?);
            tr_n += pool.waterfall.len();
            tr_start.push(count(tr_n, "tranches")?);
        }
        self.ia(HI_POOL_DEALS_START, pd_start)?;
        self.ia(HI_POOL_DEALS, pd)?;
        self.ia(HI_POOL_TR_START, tr_start)?;
        let wf = || flow.pools.iter().map(|q| &q.waterfall);
        self.ia(
            HI_TR_HAS_FIXED,
            wf().flat_map(|w| w.fixed_coupons.iter().map(|c| i32::from(c.is_some()))),
        )?;
        self.fa(HF_POOL_FEE_RATE, wf().map(|w| w.senior_fee_rate))?;
        self.fa(HF_POOL_OC, wf().map(|w| w.oc_trigger))?;
        self.fa(HF_TR_BALANCE, wf().flat_map(|w| w.balances.iter().copied()))?;
        self.fa(
            HF_TR_FIXED_COUPON,
            wf().flat_map(|w| w.fixed_coupons.iter().map(|c| c.unwrap_or(0.0))),
        )?;
        self.fa(
            HF_TR_FLOAT_SPREAD,
            wf().flat_map(|w| w.floating_spreads.iter().copied()),
        )?;
        self.fa(
            HF_TR_NOTIONAL,
            plan.tranche_notional.iter().flatten().copied(),
        )?;
        let mut tr_df = Vec::with_capacity(n.nt * n.k);
        for v in plan.tranche_df.iter().flatten() {
            if v.len() != n.k {
                return Err(GpuError::Unsupported {
                    what: "tranche discount factors of another length than K".into(),
                });
            }
            tr_df.extend_from_slice(v);
        }
        self.fa(HF_TR_DF, tr_df)?;
        Ok(())
    }

    /// The vault (empty arrays without one), then the copula loadings and the funded total.
    fn put_vault(&mut self, plan: &SimPlan, n: &Dims) -> Result<()> {
        match &plan.vault {
            Some(v) => {
                self.i[HI_V_NDEALS] = count(v.deals.len(), "vault deals")?;
                self.i[HI_V_NHOLD] = count(v.holdings.len(), "vault holdings")?;
                self.i[HI_V_HORIZON] = to_i32("vault horizon month", v.horizon_month)?;
                self.ia(HI_V_DEALS, indices(v.deals.iter().copied(), "deal index")?)?;
                self.ia(
                    HI_V_HOLD_POOL,
                    indices(v.holdings.iter().map(|h| h.0), "pool index")?,
                )?;
                self.ia(
                    HI_V_HOLD_TR,
                    indices(v.holdings.iter().map(|h| h.1), "tranche index")?,
                )?;
                let ce = v
                    .cycle_end_month
                    .iter()
                    .map(|&m| to_i32("cycle end month", m))
                    .collect::<Result<Vec<_>>>()?;
                self.ia(HI_V_CYCLE_END, ce)?;
                self.fa(HF_V_HOLD_FRAC, v.holdings.iter().map(|h| h.2))?;
                if v.redemption_by_cycle.len() != n.ncy {
                    return Err(GpuError::Unsupported {
                        what: "a redemption schedule of another length than the cycles".into(),
                    });
                }
                self.fa(HF_V_RED_BY_CYCLE, v.redemption_by_cycle.iter().copied())?;
                self.f[FS_V_SHARES0] = v.shares0;
                self.f[FS_V_BUFFER0] = v.buffer0;
                self.f[FS_V_TBILL] = v.tbill_monthly;
                self.f[FS_V_MGMT] = v.mgmt_fee_monthly;
                self.f[FS_V_PERF] = v.performance_fee;
                self.f[FS_V_RED_FRACTION] = v.redemption_fraction;
                self.f[FS_V_NAV0] = plan.vault_nav0;
            }
            None => {
                for s in [HI_V_DEALS, HI_V_HOLD_POOL, HI_V_HOLD_TR, HI_V_CYCLE_END] {
                    self.ia(s, [])?;
                }
                for s in [HF_V_HOLD_FRAC, HF_V_RED_BY_CYCLE] {
                    self.fa(s, [])?;
                }
            }
        }
        self.f[FS_COPULA_SYS] = plan.copula_load_systematic;
        self.f[FS_COPULA_OWN] = plan.copula_load_own;
        self.f[FS_FUNDED_TOTAL] = plan.funded_total;
        Ok(())
    }

    /// Derivatives (MODEL.md §10): kind and fixing codes, underlying (class or fleet index),
    /// strip, terms, reference amounts, premiums and discount factors; per fleet, the revenue
    /// floors on its revenue and the derivatives hedging it (offset tables of nf + 1 entries);
    /// the classes' t = 0 prices.
    fn put_derivatives(&mut self, plan: &SimPlan, n: &Dims) -> Result<()> {
        let flow = &plan.flow;
        let mut kind = Vec::with_capacity(n.ndv);
        let mut under = Vec::with_capacity(n.ndv);
        let mut fixing = Vec::with_capacity(n.ndv);
        for d in &flow.derivatives {
            kind.push(match d.kind {
                DerivativeKind::Forward | DerivativeKind::Future => DV_FORWARD,
                DerivativeKind::Swap => DV_SWAP,
                DerivativeKind::Cap => DV_CAP,
                DerivativeKind::Floor => DV_FLOOR,
                DerivativeKind::RevenueFloor => DV_REV_FLOOR,
            });
            let (u, fx) = match d.underlying {
                Underlying::Index { class, fixing } => (
                    class,
                    match fixing {
                        Fixing::Average => FX_AVERAGE,
                        Fixing::MonthEnd => FX_MONTH_END,
                    },
                ),
                Underlying::FleetRevenue { fleet } => (fleet, FX_MONTH_END),
            };
            under.push(count(u, "derivative underlying")?);
            fixing.push(fx);
        }
        self.ia(HI_DV_KIND, kind)?;
        self.ia(HI_DV_UNDER, under)?;
        self.ia(HI_DV_FIXING, fixing)?;
        let months = |m: u32| to_i32("derivative month", m);
        self.ia(
            HI_DV_START,
            flow.derivatives
                .iter()
                .map(|d| months(d.start_month))
                .collect::<Result<Vec<_>>>()?,
        )?;
        self.ia(
            HI_DV_END,
            flow.derivatives
                .iter()
                .map(|d| months(d.end_month))
                .collect::<Result<Vec<_>>>()?,
        )?;
        for (start, list, lists) in [
            (HI_FLEET_HEDGES_START, HI_FLEET_HEDGES, &flow.fleet_hedges),
            (HI_FLEET_RF_START, HI_FLEET_RF, &flow.fleet_revenue_floors),
        ] {
            let mut starts = vec![0i32];
            let mut all = Vec::new();
            for l in lists {
                all.extend(indices(l.iter().copied(), "derivative index")?);
                starts.push(count(all.len(), "fleet derivatives")?);
            }
            self.ia(start, starts)?;
            self.ia(list, all)?;
        }
        let dv = &flow.derivatives;
        self.fa(HF_CLASS_PRICE0, flow.price0.iter().copied())?;
        self.fa(HF_DV_SIGN, dv.iter().map(|d| d.sign))?;
        self.fa(HF_DV_NOTIONAL, dv.iter().map(|d| d.notional))?;
        self.fa(HF_DV_STRIKE, dv.iter().map(|d| d.strike))?;
        self.fa(HF_DV_STRIKE_M, dv.iter().map(|d| d.strike_times_months))?;
        self.fa(HF_DV_FLOOR, dv.iter().map(|d| d.floor))?;
        self.fa(HF_DV_BASIS, dv.iter().map(|d| d.basis))?;
        let a = &plan.derivatives;
        self.fa(HF_DV_REF, a.reference_usd.iter().copied())?;
        self.fa(HF_DV_PREM, a.signed_premium_usd.iter().copied())?;
        if a.df.len() != n.ndv * n.k {
            return Err(GpuError::Unsupported {
                what: "derivative discount factors of another length than K".into(),
            });
        }
        self.fa(HF_DV_DF, a.df.iter().copied())?;
        Ok(())
    }

    /// Statistics: the histogram edges from `template` (one kind per histogram family) and the
    /// accumulator layout, stored in the header.
    fn put_stats(&mut self, template: &PathStats, has_vault: bool, n: &Dims) -> Result<AccLayout> {
        let inst_hist = template
            .deals
            .iter()
            .chain(template.tranches.iter().flatten())
            .map(|s| &s.loss_hist)
            .next()
            .cloned()
            .unwrap_or_else(|| template.portfolio.loss_hist.clone());
        for s in template
            .deals
            .iter()
            .chain(template.tranches.iter().flatten())
        {
            if s.loss_hist.counts.len() != inst_hist.counts.len()
                || s.loss_hist.lo != inst_hist.lo
                || s.loss_hist.hi != inst_hist.hi
            {
                return Err(GpuError::Unsupported {
                    what: format!("instrument {}: a loss histogram of other bins", s.id),
                });
            }
        }
        self.f[FS_INST_LO] = inst_hist.lo;
        self.f[FS_INST_HI] = inst_hist.hi;
        self.f[FS_PORT_LO] = template.portfolio.loss_hist.lo;
        self.f[FS_PORT_HI] = template.portfolio.loss_hist.hi;
        let (nav_bins, fan_bins, cw_len) = match &template.vault {
            Some(v) => {
                self.f[FS_V_NAV0_PS] = v.nav0_per_share_usd;
                self.f[FS_NAV_LO] = v.nav_staking_hist.lo;
                self.f[FS_NAV_HI] = v.nav_staking_hist.hi;
                if v.nav_unstaking_hist.counts.len() != v.nav_staking_hist.counts.len()
                    || v.nav_unstaking_hist.lo != v.nav_staking_hist.lo
                    || v.nav_unstaking_hist.hi != v.nav_staking_hist.hi
                {
                    return Err(GpuError::Unsupported {
                        what: "staking and unstaking NAV histograms of other bins".into(),
                    });
                }
                let fan = v
                    .monthly_unstaking_hist
                    .first()
                    .map_or(1, |h| h.counts.len());
                if let Some(h) = v.monthly_unstaking_hist.first() {
                    self.f[FS_FAN_LO] = h.lo;
                    self.f[FS_FAN_HI] = h.hi;
                }
                (
                    v.nav_staking_hist.counts.len(),
                    fan,
                    v.cycles_waited_paths.len(),
                )
            }
            None => (0, 0, 0),
        };
        let coll_hist = template
            .collateral_ratio_hist
            .iter()
            .flatten()
            .next()
            .cloned()
            .unwrap_or_else(|| gaib_simulator::Histogram::new(0.0, 1.0, 1));
        if template.collateral_ratio_hist.iter().flatten().any(|h| {
            h.counts.len() != coll_hist.counts.len() || h.lo != coll_hist.lo || h.hi != coll_hist.hi
        }) {
            return Err(GpuError::Unsupported {
                what: "collateral-ratio histograms of different bins".into(),
            });
        }
        let coll_bins = coll_hist.counts.len();
        self.f[FS_CHIST_LO] = coll_hist.lo;
        self.f[FS_CHIST_HI] = coll_hist.hi;
        let (nd, nt, k) = (n.nd, n.nt, n.k);
        let inst_bins = inst_hist.counts.len();
        let port_bins = template.portfolio.loss_hist.counts.len();
        let inst_size = INSTRUMENT_HEAD_WORDS + 4 * k + AccLayout::hist_words(inst_bins);
        let mut layout = AccLayout {
            months: k,
            deals: 0,
            tranches: nd * inst_size,
            inst_size,
            inst_bins,
            portfolio: (nd + nt) * inst_size,
            port_bins,
            vault: 0,
            nav_bins,
            fan_bins,
            cw_len,
            collateral: 0,
            collateral_hist: 0,
            derivatives: 0,
            dv_size: DERIVATIVE_HEAD_WORDS + 2 * k,
            coll_bins,
            paths: 0,
            err: 0,
            size: 0,
        };
        layout.vault = layout.portfolio + 2 * MOMENT_WORDS + AccLayout::hist_words(port_bins);
        let vault_words = if has_vault { layout.vault_words() } else { 0 };
        layout.collateral = layout.vault + vault_words;
        layout.collateral_hist = layout.collateral + nd * k * MOMENT_WORDS;
        layout.derivatives = layout.collateral_hist + nd * k * AccLayout::hist_words(coll_bins);
        layout.paths = layout.derivatives + n.ndv * layout.dv_size;
        layout.err = layout.paths + 1;
        layout.size = layout.err + 1;
        for (slot, v) in [
            (HA_DEALS, layout.deals),
            (HA_TRANCHES, layout.tranches),
            (HA_INST_SIZE, layout.inst_size),
            (HA_INST_BINS, inst_bins),
            (HA_PORT, layout.portfolio),
            (HA_PORT_BINS, port_bins),
            (HA_VAULT, layout.vault),
            (HA_NAV_BINS, nav_bins),
            (HA_FAN_BINS, fan_bins),
            (HA_CW_LEN, cw_len),
            (HA_COLL, layout.collateral),
            (HA_CHIST, layout.collateral_hist),
            (HA_CHIST_BINS, coll_bins),
            (HA_DV, layout.derivatives),
            (HA_DV_SIZE, layout.dv_size),
            (HA_PATHS, layout.paths),
            (HA_ERR, layout.err),
            (HA_SIZE, layout.size),
        ] {
            self.i[slot] = count(v, "accumulator offset")?;
        }
        Ok(layout)
    }
}

/// Per-thread scratch words and strides, stored in the header.
struct Scratch {
    /// f64 words of scratch per thread.
    f64_words: usize,
    /// i32 words of scratch per thread.
    i32_words: usize,
    /// Doubles per month of the optional trace.
    trace_stride: usize,
    /// Doubles per path of the optional per-path rows.
    row_stride: usize,
}

impl Scratch {
    /// The scratch of a plan of dimensions `n` (mirror of `ctx_layout` in the kernel, which
    /// checks it).
    fn new(n: &Dims, has_vault: bool) -> Self {
        let Dims {
            nc,
            nf,
            no,
            nd,
            np,
            nt,
            ncy,
            ndv,
            ..
        } = *n;
        let vault_fields = if has_vault {
            TRACE_VAULT_FIELDS.len()
        } else {
            0
        };
        Scratch {
            f64_words: 7 * nc + 7 * nf + 20 * nd + 9 * nt + 3 * np + 8 + ncy + 1 + 3 * ndv,
            i32_words: 2 * no + 7 * nd + nt + 2 * np + 4 + ncy + 1 + ndv,
            trace_stride: TRACE_DEAL_FIELDS.len() * nd
                + TRACE_FLEET_FIELDS.len() * nf
                + TRACE_TRANCHE_FIELDS.len() * nt
                + TRACE_DERIVATIVE_FIELDS.len() * ndv
                + vault_fields,
            row_stride: 3 * nd + 3 * nt + 1 + if has_vault { 4 } else { 0 } + ndv,
        }
    }
}

impl FlatPlan {
    /// Lowers `plan`. Fails with [`GpuError::Unsupported`] on anything the kernel does not
    /// implement (rather than computing something else).
    pub fn new(plan: &SimPlan) -> Result<Self> {
        check_shape(plan)?;
        let flow = &plan.flow;
        let n = Dims {
            nc: plan.n_classes(),
            nf: flow.fleets.len(),
            no: plan.operators.stream.len(),
            nd: plan.n_deals(),
            np: flow.pools.len(),
            nt: flow.pools.iter().map(|q| q.waterfall.len()).sum(),
            k: plan.months as usize,
            ncy: plan.vault.as_ref().map_or(0, |v| v.cycle_end_month.len()),
            ndv: plan.n_derivatives(),
        };
        let has_vault = plan.vault.is_some();
        let template = PathStats::new(plan);

        let mut b = Builder {
            f: vec![0.0; FS_COUNT],
            i: vec![0; HI_COUNT],
        };
        b.put_header(plan, &n)?;
        b.put_market(plan)?;
        b.put_fleets(plan)?;
        b.put_deals(plan, n.k)?;
        b.put_pools(plan, &n)?;
        b.put_vault(plan, &n)?;
        b.put_derivatives(plan, &n)?;
        let layout = b.put_stats(&template, has_vault, &n)?;
        let acc_init = crate::acc::initial(&layout, has_vault, n.nd, n.nt);

        let scratch = Scratch::new(&n, has_vault);
        b.i[HS_F] = count(scratch.f64_words, "scratch")?;
        b.i[HS_I] = count(scratch.i32_words, "scratch")?;
        b.i[HS_TRACE_STRIDE] = count(scratch.trace_stride, "trace stride")?;
        b.i[HS_ROW_STRIDE] = count(scratch.row_stride, "row stride")?;

        Ok(FlatPlan {
            f64s: b.f,
            i32s: b.i,
            layout,
            acc_init,
            template,
            scratch_f64: scratch.f64_words,
            scratch_i32: scratch.i32_words,
            row_stride: scratch.row_stride,
            trace_stride: scratch.trace_stride,
        })
    }

    /// Number of deals.
    pub fn n_deals(&self) -> usize {
        self.i32s[HI_ND] as usize
    }

    /// Number of tranches over all pools.
    pub fn n_tranches(&self) -> usize {
        self.i32s[HI_NT] as usize
    }

    /// Number of fleets.
    pub fn n_fleets(&self) -> usize {
        self.i32s[HI_NF] as usize
    }

    /// Horizon K, months.
    pub fn months(&self) -> usize {
        self.i32s[HI_K] as usize
    }

    /// Number of derivatives.
    pub fn n_derivatives(&self) -> usize {
        self.i32s[HI_NDV] as usize
    }

    /// Whether the plan has a vault.
    pub fn has_vault(&self) -> bool {
        self.i32s[HI_HAS_VAULT] != 0
    }

    /// The i32 array stored at header slot `slot` with `len` entries (for tests and tools).
    pub fn int_array(&self, slot: HeaderSlot, len: usize) -> &[i32] {
        let o = self.i32s[slot.0] as usize;
        &self.i32s[o..o + len]
    }

    /// The f64 array stored at header slot `slot` with `len` entries (for tests and tools).
    pub fn real_array(&self, slot: HeaderSlot, len: usize) -> &[f64] {
        let o = self.i32s[slot.0] as usize;
        &self.f64s[o..o + len]
    }

    /// Bytes uploaded to a device: both buffers.
    pub fn bytes(&self) -> usize {
        self.f64s.len() * 8 + self.i32s.len() * 4
    }
}

/// A named header slot of a [`FlatPlan`] (see [`HeaderSlot::by_name`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeaderSlot(usize);

impl HeaderSlot {
    /// The slot of the kernel's `HeaderI` enum with this name (e.g. `"HF_DEAL_DF"`).
    pub fn by_name(name: &str) -> Option<Self> {
        let table: &[(&str, usize)] = &[
            ("HI_CLASS_STREAM", HI_CLASS_STREAM),
            ("HI_FLEET_DEALS_START", HI_FLEET_DEALS_START),
            ("HI_FLEET_DEALS", HI_FLEET_DEALS),
            ("HI_DEAL_KIND", HI_DEAL_KIND),
            ("HI_DEAL_TERM", HI_DEAL_TERM),
            ("HI_POOL_DEALS_START", HI_POOL_DEALS_START),
            ("HI_POOL_DEALS", HI_POOL_DEALS),
            ("HI_POOL_TR_START", HI_POOL_TR_START),
            ("HI_V_DEALS", HI_V_DEALS),
            ("HI_V_CYCLE_END", HI_V_CYCLE_END),
            ("HF_DEAL_FUNDED", HF_DEAL_FUNDED),
            ("HF_DEAL_FIXED_RATE", HF_DEAL_FIXED_RATE),
            ("HF_DEAL_DF", HF_DEAL_DF),
            ("HF_TR_BALANCE", HF_TR_BALANCE),
            ("HF_TR_DF", HF_TR_DF),
            ("HF_FLEET_GPU_HOURS", HF_FLEET_GPU_HOURS),
            ("HF_LOG_TREND_SHOCK", HF_LOG_TREND_SHOCK),
            ("HF_BASE_RATES", HF_BASE_RATES),
            ("HF_V_HOLD_FRAC", HF_V_HOLD_FRAC),
            ("HF_DV_STRIKE", HF_DV_STRIKE),
            ("HF_DV_STRIKE_M", HF_DV_STRIKE_M),
        ];
        table
            .iter()
            .find(|(n, _)| *n == name)
            .map(|&(_, s)| HeaderSlot(s))
    }
}
