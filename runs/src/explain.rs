//! `explain`: why an instrument lost on one path. Replays one path of a run directory — the
//! stored inputs, the run's seed, the same draws and the same engine calls as the run
//! ([`gaib_simulator::trace_path`]) — and returns it month by month as typed rows: the market
//! (prices, utilization, copula default months), each fleet's revenue/opex/NOI, each deal's
//! interest, principal, DSRA moves, kicker, default kind, EAD, recovery and loss, and each
//! pool's waterfall (fees, collections, OC test, each tranche's coupon, principal and
//! write-down). Its [`PathTotals`] are that path's `--paths-out` row, bit for bit.
//!
//! The replay is of the run's base portfolio (a stress run's scenarios are not replayed).

use crate::error::{Result, RunError};
use crate::run::RunSpec;
use crate::rundir::RunDir;
use gaib_engine::{DefaultKind, Portfolio};
use gaib_simulator::{lower, trace_path, worst_path, MonthTrace, PathTrace, SimPlan};
use serde::Serialize;

/// Which part of the portfolio to explain.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Focus {
    /// Everything.
    #[default]
    All,
    /// One deal (by id): its rows, its fleet's, its operator's and its GPU class's.
    Deal(String),
    /// One pool (by id): its waterfall and tranches, and the rows of its deals, their fleets,
    /// operators and classes.
    Pool(String),
}

/// One GPU class in one month.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MarketRow {
    /// Month k (1-based).
    pub month: u32,
    /// GPU class id.
    pub class: String,
    /// Price P_c(t_k), USD per GPU-hour.
    pub price_usd_per_gpu_hour: f64,
    /// Price over its trend P_c/P̄_c (1 = on trend).
    pub price_over_trend: f64,
}

/// One operator's copula draw.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OperatorRow {
    /// Operator id.
    pub operator: String,
    /// Default hazard, per year.
    pub hazard_per_year: f64,
    /// Month of its credit default on this path (None: none within the horizon).
    pub credit_default_month: Option<u32>,
}

/// One fleet in one month.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FleetRow {
    /// Month k.
    pub month: u32,
    /// Fleet id.
    pub fleet: String,
    /// Utilization of the uncontracted capacity, fraction 0..1.
    pub utilization: f64,
    /// Revenue, USD.
    pub revenue_usd: f64,
    /// Operating expenses, USD.
    pub opex_usd: f64,
    /// Net operating income, USD (may be negative).
    pub noi_usd: f64,
    /// Hardware value of the whole fleet, USD.
    pub hardware_value_usd: f64,
    /// Whether the fleet's operator defaults (copula) this month.
    pub operator_default: bool,
}

/// One deal in one month.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DealRow {
    /// Month k.
    pub month: u32,
    /// Deal id.
    pub deal: String,
    /// Interest paid, USD.
    pub interest_usd: f64,
    /// Scheduled principal paid, USD.
    pub scheduled_principal_usd: f64,
    /// Prepayment (cash sweep), USD.
    pub prepayment_usd: f64,
    /// Balloon refinanced by a new lender, USD.
    pub refinanced_usd: f64,
    /// Revenue-share receipts counted as capital, USD.
    pub rev_share_capital_usd: f64,
    /// Revenue-share receipts counted as income, USD.
    pub rev_share_income_usd: f64,
    /// Hybrid kicker paid, USD.
    pub kicker_usd: f64,
    /// DSRA drawn, USD.
    pub dsra_draw_usd: f64,
    /// DSRA refilled, USD.
    pub dsra_refill_usd: f64,
    /// DSRA released to the operator, USD.
    pub dsra_release_usd: f64,
    /// DSRA balance at month end, USD.
    pub dsra_balance_usd: f64,
    /// Default this month: `payment`, `refinancing` or `credit` (None: no default).
    pub default_kind: Option<&'static str>,
    /// Exposure at default, USD (0 without a default).
    pub default_ead_usd: f64,
    /// Recovery received, USD.
    pub recovery_usd: f64,
    /// Loss booked, USD.
    pub loss_usd: f64,
    /// Debt service not paid, USD.
    pub shortfall_usd: f64,
    /// Cash left to the operator after the deal, USD.
    pub cash_left_usd: f64,
    /// Outstanding balance (or unreturned advance) at month end, USD.
    pub balance_end_usd: f64,
}

/// One pool's waterfall in one month (its tranches are [`TrancheRow`]s).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PoolRow {
    /// Month k.
    pub month: u32,
    /// Pool id.
    pub pool: String,
    /// Interest proceeds collected (interest, rev-share income, kickers), USD.
    pub interest_proceeds_usd: f64,
    /// Principal proceeds collected (principal, rev-share capital, recoveries), USD.
    pub principal_proceeds_usd: f64,
    /// Performing balance of the pool's deals at the start of the month, USD.
    pub performing_balance_usd: f64,
    /// Senior fees paid, USD.
    pub senior_fees_usd: f64,
    /// Whether the OC test failed (interest proceeds then cure by paying senior principal).
    pub oc_breached: bool,
    /// The OC cure: interest proceeds the failed OC test diverted to debt principal, USD
    /// (0 when it passed; already part of the tranches' principal).
    pub oc_cure_usd: f64,
    /// Whether senior interest arrears remain after the month's waterfall (an event of default).
    pub senior_interest_default: bool,
}

/// One tranche in one month of its pool's waterfall.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrancheRow {
    /// Month k.
    pub month: u32,
    /// Pool id.
    pub pool: String,
    /// Tranche id (within the pool).
    pub tranche: String,
    /// Coupon paid (equity: residual interest proceeds), USD.
    pub interest_usd: f64,
    /// Coupon not paid this month (capitalised or in arrears), USD.
    pub interest_shortfall_usd: f64,
    /// Principal paid (OC cure included; equity: residual principal proceeds), USD.
    pub principal_usd: f64,
    /// Written down, USD.
    pub writedown_usd: f64,
    /// Balance at month end, USD.
    pub balance_end_usd: f64,
}

/// The vault in one month.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VaultRow {
    /// Month k.
    pub month: u32,
    /// Liquidity buffer, USD.
    pub buffer_usd: f64,
    /// Shares outstanding.
    pub shares: f64,
    /// Shares waiting in the redemption queue.
    pub queued_shares: f64,
    /// Cash paid to redeemers, USD.
    pub redeemed_usd: f64,
    /// Fees paid, USD.
    pub fees_usd: f64,
    /// Staking NAV per share, USD.
    pub nav_per_share_staking_usd: f64,
    /// Unstaking NAV per share, USD.
    pub nav_per_share_unstaking_usd: f64,
}

/// A deal's totals on the path (the first three are its `--paths-out` columns).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DealTotal {
    /// Deal id.
    pub deal: String,
    /// Loss / funded amount.
    pub loss_frac: f64,
    /// PV of the cash received / funded amount.
    pub pv_frac: f64,
    /// Month of its first default (None: none).
    pub default_month: Option<u32>,
    /// Σ monthly losses, USD.
    pub loss_usd: f64,
}

/// A tranche's totals on the path (the first two are its `--paths-out` columns).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrancheTotal {
    /// `POOL/TRANCHE`.
    pub tranche: String,
    /// Loss / original balance (equity: also the shortfall of cash received).
    pub loss_frac: f64,
    /// PV of the cash received / original balance.
    pub pv_frac: f64,
    /// Month of its first default event (None: none).
    pub default_month: Option<u32>,
    /// Σ interest received, USD.
    pub interest_usd: f64,
    /// Σ principal received, USD.
    pub principal_usd: f64,
    /// Σ write-downs, USD.
    pub writedown_usd: f64,
}

/// The path's totals: its `--paths-out` row, plus USD sums of the monthly rows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PathTotals {
    /// Σ deal losses / Σ funded.
    pub portfolio_loss_frac: f64,
    /// Number of deals that defaulted.
    pub defaults: u32,
    /// Per deal (file order).
    pub deals: Vec<DealTotal>,
    /// Per tranche (pools in order).
    pub tranches: Vec<TrancheTotal>,
}

/// One path, explained.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Explanation {
    /// Portfolio id.
    pub portfolio_id: String,
    /// The run's seed.
    pub seed: u64,
    /// The path index.
    pub path: u64,
    /// Horizon, months.
    pub months: u32,
    /// The copula draw of each operator.
    pub operators: Vec<OperatorRow>,
    /// Prices, month by month.
    pub market: Vec<MarketRow>,
    /// Fleets, month by month.
    pub fleets: Vec<FleetRow>,
    /// Deals, month by month.
    pub deals: Vec<DealRow>,
    /// Pool waterfalls, month by month.
    pub pools: Vec<PoolRow>,
    /// Tranches, month by month.
    pub tranches: Vec<TrancheRow>,
    /// The vault, month by month (empty without a vault, or with a focus).
    pub vault: Vec<VaultRow>,
    /// The path's totals.
    pub totals: PathTotals,
}

/// Ids of the portfolio's entities, in plan order, and which are kept by a [`Focus`].
struct Names<'a> {
    p: &'a Portfolio,
    keep_class: Vec<bool>,
    keep_operator: Vec<bool>,
    keep_fleet: Vec<bool>,
    keep_deal: Vec<bool>,
    keep_pool: Vec<bool>,
    all: bool,
}

impl<'a> Names<'a> {
    fn new(p: &'a Portfolio, focus: &Focus) -> Result<Self> {
        let keep_deal: Vec<bool> = match focus {
            Focus::All => vec![true; p.deals.len()],
            Focus::Deal(id) => {
                find(p.deals.iter().map(|d| &d.id), id, "deal")?;
                p.deals.iter().map(|d| &d.id == id).collect()
            }
            Focus::Pool(id) => {
                let q = find(p.pools.iter().map(|q| &q.id), id, "pool")?;
                p.deals
                    .iter()
                    .map(|d| p.pools[q].deal_ids.contains(&d.id))
                    .collect()
            }
        };
        let keep_pool = p
            .pools
            .iter()
            .map(|q| match focus {
                Focus::All => true,
                Focus::Pool(id) => &q.id == id,
                Focus::Deal(_) => false,
            })
            .collect();
        let fleet_of = |f: &gaib_engine::Fleet| {
            p.deals
                .iter()
                .zip(&keep_deal)
                .any(|(d, &k)| k && d.fleet_id == f.id)
        };
        let all = *focus == Focus::All;
        let keep_fleet: Vec<bool> = p.fleets.iter().map(|f| all || fleet_of(f)).collect();
        let kept_fleets = || p.fleets.iter().zip(&keep_fleet).filter(|(_, &k)| k);
        let keep_operator = p
            .operators
            .iter()
            .map(|o| all || kept_fleets().any(|(f, _)| f.operator_id == o.id))
            .collect();
        let keep_class = p
            .gpu_classes
            .iter()
            .map(|c| all || kept_fleets().any(|(f, _)| f.class_id == c.id))
            .collect();
        Ok(Names {
            p,
            keep_class,
            keep_operator,
            keep_fleet,
            keep_deal,
            keep_pool,
            all,
        })
    }
}

/// Index of `id` among `ids`, or an argument error naming `field` and the known ids.
fn find<'s>(
    ids: impl Iterator<Item = &'s String> + Clone,
    id: &str,
    field: &'static str,
) -> Result<usize> {
    ids.clone().position(|x| x == id).ok_or_else(|| {
        let known: Vec<&str> = ids.map(String::as_str).collect();
        RunError::argument(
            field,
            id,
            format!("no {field} {id:?} (known: {})", known.join(", ")),
        )
    })
}

/// Refuses a run made under another model version: its paths cannot be replayed.
fn check_model(run: &RunDir) -> Result<()> {
    if run.manifest.model_version != gaib_simulator::MODEL_VERSION {
        return Err(RunError::invalid_run(
            &run.dir,
            format!(
                "the run was made under model version {}, this build is {}: its paths cannot be \
                 replayed",
                run.manifest.model_version,
                gaib_simulator::MODEL_VERSION
            ),
        ));
    }
    Ok(())
}

/// Checks that `path` is one of the run's paths.
fn check_path(spec: &RunSpec, path: u64) -> Result<u32> {
    let r = spec.path_range();
    if !r.contains(&path) {
        return Err(RunError::argument(
            "path",
            path,
            format!(
                "not a path of this run (its paths are {}..{})",
                r.start, r.end
            ),
        ));
    }
    Ok(path as u32)
}

/// Replays path `path` of the run in `run` and explains it, keeping the rows `focus` asks for.
/// Errors: a path outside the run's range, an unknown deal or pool id (argument errors), a
/// run made under another model version (invalid run).
pub fn explain(run: &RunDir, path: u64, focus: &Focus) -> Result<Explanation> {
    check_model(run)?;
    explain_spec(&run.spec, path, focus)
}

/// As [`explain`], for the run of `spec` (its base portfolio, seed and path range) made by this
/// build: what the Python bindings use for a run held in memory.
pub fn explain_spec(spec: &RunSpec, path: u64, focus: &Focus) -> Result<Explanation> {
    let p = spec.portfolio.portfolio();
    let plan = lower(p)?;
    let names = Names::new(p, focus)?;
    let t = trace_path(&plan, spec.seed, check_path(spec, path)?);
    let mut e = Explanation {
        portfolio_id: plan.portfolio_id.clone(),
        seed: spec.seed,
        path,
        months: plan.months,
        operators: operator_rows(&names, &t),
        market: Vec::new(),
        fleets: Vec::new(),
        deals: Vec::new(),
        pools: Vec::new(),
        tranches: Vec::new(),
        vault: Vec::new(),
        totals: totals(&names, &plan, &t),
    };
    for (i, m) in t.months.iter().enumerate() {
        month_rows(&names, (i + 1) as u32, m, &mut e);
    }
    Ok(e)
}

/// The path of the run with the largest loss of `tranche` (`POOL/TRANCHE`, or a tranche id
/// unique over the pools) and that loss (fraction of its original balance); ties go to the
/// lowest path. Simulates every path of the run's range on all cores.
pub fn worst_path_for_tranche(run: &RunDir, tranche: &str) -> Result<(u64, f64)> {
    check_model(run)?;
    worst_path_spec(&run.spec, tranche)
}

/// As [`worst_path_for_tranche`], for the run of `spec`.
pub fn worst_path_spec(spec: &RunSpec, tranche: &str) -> Result<(u64, f64)> {
    let plan = lower(spec.portfolio.portfolio())?;
    let idx = tranche_index(&plan, tranche)?;
    let r = spec.path_range();
    let (path, loss) = worst_path(&plan, spec.seed, r.start as u32..r.end as u32, idx)
        .ok_or_else(|| RunError::argument("paths", spec.paths, "the run has no paths"))?;
    Ok((u64::from(path), loss))
}

/// The flattened index of a tranche given as `POOL/TRANCHE` or as an id unique over pools.
pub(crate) fn tranche_index(plan: &SimPlan, tranche: &str) -> Result<usize> {
    let flat: Vec<&String> = plan.tranche_ids.iter().flatten().collect();
    if let Some(i) = flat.iter().position(|t| t.as_str() == tranche) {
        return Ok(i);
    }
    let bare: Vec<usize> = (0..flat.len())
        .filter(|&i| flat[i].rsplit('/').next() == Some(tranche))
        .collect();
    match bare.as_slice() {
        [i] => Ok(*i),
        _ => Err(RunError::argument(
            "tranche",
            tranche,
            format!(
                "no single tranche {tranche:?} (known, as POOL/TRANCHE: {})",
                flat.iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}

fn operator_rows(n: &Names<'_>, t: &PathTrace) -> Vec<OperatorRow> {
    n.p.operators
        .iter()
        .zip(&t.operator_default_month)
        .zip(&n.keep_operator)
        .filter(|(_, &k)| k)
        .map(|((o, &m), _)| OperatorRow {
            operator: o.id.clone(),
            hazard_per_year: o.hazard,
            credit_default_month: (m != 0).then_some(m),
        })
        .collect()
}

fn month_rows(n: &Names<'_>, month: u32, m: &MonthTrace, e: &mut Explanation) {
    let p = n.p;
    for (c, class) in p.gpu_classes.iter().enumerate() {
        if n.keep_class[c] {
            e.market.push(MarketRow {
                month,
                class: class.id.clone(),
                price_usd_per_gpu_hour: m.price[c],
                price_over_trend: m.price_over_trend[c],
            });
        }
    }
    fleet_rows(n, month, m, e);
    for (d, deal) in p.deals.iter().enumerate() {
        if n.keep_deal[d] {
            e.deals.push(deal_row(month, &deal.id, m, d));
        }
    }
    pool_rows(n, month, m, e);
    if let (true, Some(v)) = (n.all, &m.vault) {
        e.vault.push(VaultRow {
            month,
            buffer_usd: v.buffer,
            shares: v.shares,
            queued_shares: v.queued_shares,
            redeemed_usd: v.redeemed_usd,
            fees_usd: v.fees,
            nav_per_share_staking_usd: v.nav_per_share_staking,
            nav_per_share_unstaking_usd: v.nav_per_share_unstaking,
        });
    }
}

fn fleet_rows(n: &Names<'_>, month: u32, m: &MonthTrace, e: &mut Explanation) {
    let p = n.p;
    for (f, fleet) in p.fleets.iter().enumerate() {
        if !n.keep_fleet[f] {
            continue;
        }
        let o = p.operators.iter().position(|o| o.id == fleet.operator_id);
        let fm = &m.output.fleets[f];
        e.fleets.push(FleetRow {
            month,
            fleet: fleet.id.clone(),
            utilization: m.utilization[f],
            revenue_usd: fm.revenue,
            opex_usd: fm.opex,
            noi_usd: fm.noi,
            hardware_value_usd: fm.hardware_value,
            operator_default: o.is_some_and(|o| m.credit_default[o]),
        });
    }
}

fn kind_name(k: DefaultKind) -> &'static str {
    match k {
        DefaultKind::Payment => "payment",
        DefaultKind::Refinancing => "refinancing",
        DefaultKind::Credit => "credit",
    }
}

fn deal_row(month: u32, id: &str, m: &MonthTrace, d: usize) -> DealRow {
    let f = &m.output.deals[d];
    DealRow {
        month,
        deal: id.to_string(),
        interest_usd: f.interest,
        scheduled_principal_usd: f.scheduled_principal,
        prepayment_usd: f.prepayment,
        refinanced_usd: f.refinanced,
        rev_share_capital_usd: f.rev_share_capital,
        rev_share_income_usd: f.rev_share_income,
        kicker_usd: f.kicker,
        dsra_draw_usd: f.dsra_draw,
        dsra_refill_usd: f.dsra_refill,
        dsra_release_usd: f.dsra_release,
        dsra_balance_usd: m.dsra[d],
        default_kind: f.default_kind.map(kind_name),
        default_ead_usd: f.default_ead,
        recovery_usd: f.recovery,
        loss_usd: m.output.losses[d],
        shortfall_usd: f.shortfall,
        cash_left_usd: f.cash_left,
        balance_end_usd: f.balance_end,
    }
}

fn pool_rows(n: &Names<'_>, month: u32, m: &MonthTrace, e: &mut Explanation) {
    for (q, pool) in n.p.pools.iter().enumerate() {
        if !n.keep_pool[q] {
            continue;
        }
        let c = &m.output.pool_collections[q];
        let w = &m.output.pool_months[q];
        e.pools.push(PoolRow {
            month,
            pool: pool.id.clone(),
            interest_proceeds_usd: c.interest_proceeds,
            principal_proceeds_usd: c.principal_proceeds,
            performing_balance_usd: c.performing_balance,
            senior_fees_usd: w.fees_paid,
            oc_breached: w.oc_breached,
            oc_cure_usd: w.oc_cure,
            senior_interest_default: w.senior_interest_default,
        });
        for (t, fl) in m.output.tranches[q].iter().enumerate() {
            e.tranches.push(TrancheRow {
                month,
                pool: pool.id.clone(),
                tranche: pool.tranches[t].id.clone(),
                interest_usd: fl.interest,
                interest_shortfall_usd: fl.interest_shortfall,
                principal_usd: fl.principal,
                writedown_usd: fl.writedown,
                balance_end_usd: fl.balance_end,
            });
        }
    }
}

fn totals(n: &Names<'_>, plan: &SimPlan, t: &PathTrace) -> PathTotals {
    let row = &t.row;
    let deals = (0..plan.n_deals())
        .filter(|&d| n.keep_deal[d])
        .map(|d| DealTotal {
            deal: plan.deal_ids[d].clone(),
            loss_frac: row.deal_loss_frac[d][0],
            pv_frac: row.deal_pv_frac[d][0],
            default_month: Some(row.deal_default_month[d][0]).filter(|&m| m != 0),
            loss_usd: t.months.iter().map(|m| m.output.losses[d]).sum(),
        })
        .collect();
    let mut tranches = Vec::new();
    let mut flat = 0;
    for (q, ids) in plan.tranche_ids.iter().enumerate() {
        for (i, id) in ids.iter().enumerate() {
            if n.keep_pool[q] {
                let sum = |f: fn(&gaib_engine::TrancheFlow<f64>) -> f64| -> f64 {
                    t.months.iter().map(|m| f(&m.output.tranches[q][i])).sum()
                };
                tranches.push(TrancheTotal {
                    tranche: id.clone(),
                    loss_frac: row.tranche_loss_frac[flat][0],
                    pv_frac: row.tranche_pv_frac[flat][0],
                    default_month: Some(t.tranche_default_month[flat]).filter(|&m| m != 0),
                    interest_usd: sum(|f| f.interest),
                    principal_usd: sum(|f| f.principal),
                    writedown_usd: sum(|f| f.writedown),
                });
            }
            flat += 1;
        }
    }
    PathTotals {
        portfolio_loss_frac: row.portfolio_loss_frac[0],
        defaults: row.defaults[0],
        deals,
        tranches,
    }
}
