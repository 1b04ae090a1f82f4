//! Validation of a parsed portfolio. Collects every problem, never panics.

use crate::error::{EngineError, FieldError, Result};
use crate::portfolio::{Deal, DealTerms, Derivative, DerivativeKind, Fixing, LoanTerms, Portfolio};
use crate::stream::stream_id;
use rust_decimal::Decimal;
use std::collections::{HashMap, HashSet};
use std::fmt::Display;

/// Largest amount accepted for any single balance, USD (1e12: far above any real deal, far
/// below where 28-digit decimal arithmetic could overflow).
pub const MAX_AMOUNT_USD: i64 = 1_000_000_000_000;
/// Longest accepted term or horizon, months (50 years).
pub const MAX_MONTHS: u32 = 600;

/// Collects [`FieldError`]s for one file (used by validation and by scenario overrides).
pub(crate) struct Checker<'a> {
    pub(crate) file: &'a str,
    pub(crate) errors: Vec<FieldError>,
}

impl<'a> Checker<'a> {
    /// An empty collector for `file`.
    pub(crate) fn new(file: &'a str) -> Self {
        Checker {
            file,
            errors: Vec::new(),
        }
    }

    pub(crate) fn push(&mut self, path: impl Display, value: impl Display, reason: impl Display) {
        self.errors.push(FieldError {
            file: self.file.to_string(),
            path: path.to_string(),
            value: value.to_string(),
            reason: reason.to_string(),
        });
    }

    fn push_in(
        &mut self,
        file: &str,
        path: impl Display,
        value: impl Display,
        reason: impl Display,
    ) {
        self.errors.push(FieldError {
            file: file.to_string(),
            path: path.to_string(),
            value: value.to_string(),
            reason: reason.to_string(),
        });
    }

    /// A finite f64 in [lo, hi].
    fn f64_in(&mut self, path: impl Display, v: f64, lo: f64, hi: f64) {
        if !v.is_finite() || v < lo || v > hi {
            self.push(path, v, format!("must be a finite number in [{lo}, {hi}]"));
        }
    }

    /// A finite f64 in the open interval (lo, hi).
    fn f64_open(&mut self, path: impl Display, v: f64, lo: f64, hi: f64) {
        if !v.is_finite() || v <= lo || v >= hi {
            self.push(path, v, format!("must be strictly between {lo} and {hi}"));
        }
    }

    fn dec_in(&mut self, path: impl Display, v: Decimal, lo: Decimal, hi: Decimal) {
        if v < lo || v > hi {
            self.push(path, v, format!("must be in [{lo}, {hi}]"));
        }
    }

    fn positive_amount(&mut self, path: impl Display, v: Decimal) {
        if v <= Decimal::ZERO {
            self.push(path, v, "must be > 0 USD");
        } else if v > Decimal::from(MAX_AMOUNT_USD) {
            self.push(path, v, format!("must be at most {MAX_AMOUNT_USD} USD"));
        }
    }

    fn non_negative_amount(&mut self, path: impl Display, v: Decimal) {
        if v < Decimal::ZERO {
            self.push(path, v, "must be >= 0 USD");
        } else if v > Decimal::from(MAX_AMOUNT_USD) {
            self.push(path, v, format!("must be at most {MAX_AMOUNT_USD} USD"));
        }
    }

    fn id(&mut self, path: impl Display, id: &str) {
        if id.trim().is_empty() {
            self.push(path, format!("{id:?}"), "id must not be empty");
        }
    }
}

fn unique_ids<'a>(
    c: &mut Checker<'_>,
    what: &str,
    ids: impl Iterator<Item = &'a str>,
) -> HashSet<&'a str> {
    let mut seen = HashSet::new();
    for (i, id) in ids.enumerate() {
        c.id(format!("{what}[{i}].id"), id);
        if !seen.insert(id) {
            c.push(
                format!("{what}[{i}].id"),
                format!("{id:?}"),
                format!("duplicate {what} id"),
            );
        }
    }
    seen
}

/// Cholesky test of positive definiteness (plain f64; the matrix is tiny).
pub(crate) fn is_positive_definite(m: &[Vec<f64>]) -> bool {
    let n = m.len();
    let mut l = vec![vec![0.0_f64; n]; n];
    for i in 0..n {
        for j in 0..=i {
            let s: f64 = (0..j).map(|k| l[i][k] * l[j][k]).sum();
            if i == j {
                let d = m[i][i] - s;
                if d.is_nan() || d <= 1e-12 {
                    return false;
                }
                l[i][j] = d.sqrt();
            } else {
                l[i][j] = (m[i][j] - s) / l[j][j];
            }
        }
    }
    true
}

/// A portfolio that passed [`validate`]: every id it refers to (classes, operators, fleets,
/// deals of a pool) exists and every number is in range. Lowering ([`crate::CashflowPlan::new`])
/// takes only this type, so an unknown id can never be mapped silently to some other entity.
#[derive(Debug, Clone, Copy)]
pub struct Validated<'a>(&'a Portfolio);

impl<'a> Validated<'a> {
    /// Validates `p` (see [`validate`] for `deal_sources`) and vouches for it.
    pub fn new(p: &'a Portfolio, deal_sources: &[String]) -> Result<Self> {
        validate(p, deal_sources)?;
        Ok(Self(p))
    }

    /// The validated portfolio.
    pub fn portfolio(&self) -> &'a Portfolio {
        self.0
    }
}

impl std::ops::Deref for Validated<'_> {
    type Target = Portfolio;

    fn deref(&self) -> &Portfolio {
        self.0
    }
}

/// Validates a portfolio. `deal_sources[i]` names the file deal `i` came from (portfolio file
/// or loan tape); its first entry or the portfolio file is used for everything else.
pub fn validate(p: &Portfolio, deal_sources: &[String]) -> Result<()> {
    let file = deal_sources
        .first()
        .map(String::as_str)
        .unwrap_or("portfolio");
    let mut c = Checker::new(file);
    let horizon = p.horizon_months();

    check_header(&mut c, p);
    check_market(&mut c, p);
    let classes = check_gpu_classes(&mut c, p, horizon);
    let operators = check_operators(&mut c, p);
    let fleets = check_fleets(&mut c, p, horizon, &operators, &classes);
    let deal_ids = check_deals(&mut c, p, deal_sources, &fleets);
    check_pools(&mut c, p, &deal_ids);
    if let Some(v) = &p.vault {
        check_vault(&mut c, p, v, &deal_ids);
    }
    check_derivatives(&mut c, p, horizon, &classes, &fleets);
    check_stream_ids(&mut c, p);

    if c.errors.is_empty() {
        Ok(())
    } else {
        Err(EngineError::Invalid { errors: c.errors })
    }
}

/// The portfolio's own fields: horizon (months, at least every deal's term) and id.
fn check_header(c: &mut Checker<'_>, p: &Portfolio) {
    if let Some(h) = p.portfolio.horizon_months {
        if h == 0 || h > MAX_MONTHS {
            c.push(
                "portfolio.horizon_months",
                h,
                format!("must be in [1, {MAX_MONTHS}]"),
            );
        }
        if let Some(d) = p.deals.iter().find(|d| d.term_months() > h) {
            c.push(
                "portfolio.horizon_months",
                h,
                format!(
                    "is shorter than deal '{}' term_months = {}",
                    d.id,
                    d.term_months()
                ),
            );
        }
    }
    c.id("portfolio.id", &p.portfolio.id);
}

/// The market: discount curve (tenors in years, rates), rate shock (bps), asset correlation.
fn check_market(c: &mut Checker<'_>, p: &Portfolio) {
    if p.market.discount_curve.is_empty() {
        c.push("market.discount_curve", "[]", "needs at least one point");
    }
    let mut last_tenor = 0.0;
    for (i, pt) in p.market.discount_curve.iter().enumerate() {
        if !pt.tenor_years.is_finite() || pt.tenor_years <= last_tenor {
            c.push(
                format!("market.discount_curve[{i}].tenor_years"),
                pt.tenor_years,
                "tenors must be finite, > 0 and strictly increasing",
            );
        }
        last_tenor = pt.tenor_years;
        c.f64_in(
            format!("market.discount_curve[{i}].rate"),
            pt.rate,
            -0.10,
            1.0,
        );
    }
    c.f64_in(
        "market.rate_shock_bps",
        p.market.rate_shock_bps,
        -2000.0,
        5000.0,
    );
    c.f64_in(
        "market.asset_correlation",
        p.market.asset_correlation,
        0.0,
        1.0,
    );
}

/// GPU classes (price processes, useful life, shocks within the horizon of `horizon` months)
/// and their correlation matrix; returns the class ids.
fn check_gpu_classes<'p>(c: &mut Checker<'_>, p: &'p Portfolio, horizon: u32) -> HashSet<&'p str> {
    let classes = unique_ids(
        c,
        "gpu_classes",
        p.gpu_classes.iter().map(|g| g.id.as_str()),
    );
    for g in &p.gpu_classes {
        let at = format!("gpu_classes[\"{}\"]", g.id);
        c.f64_open(
            format!("{at}.price0_per_gpu_hour"),
            g.price0_per_gpu_hour,
            0.0,
            1e4,
        );
        c.f64_in(format!("{at}.drift"), g.drift, -5.0, 5.0);
        c.f64_in(format!("{at}.kappa"), g.kappa, 0.0, 100.0);
        c.f64_in(format!("{at}.sigma"), g.sigma, 0.0, 5.0);
        c.f64_in(format!("{at}.jump_intensity"), g.jump_intensity, 0.0, 100.0);
        c.f64_in(format!("{at}.jump_mean"), g.jump_mean, -5.0, 5.0);
        c.f64_in(format!("{at}.jump_std"), g.jump_std, 0.0, 5.0);
        c.f64_open(
            format!("{at}.useful_life_years"),
            g.useful_life_years,
            0.0,
            50.0,
        );
        c.f64_in(format!("{at}.residual_floor"), g.residual_floor, 0.0, 1.0);
        for (j, s) in g.shocks.iter().enumerate() {
            if s.month == 0 || s.month > horizon {
                c.push(
                    format!("{at}.shocks[{j}].month"),
                    s.month,
                    format!("must be in [1, {horizon}] (the horizon in months)"),
                );
            }
            c.f64_in(format!("{at}.shocks[{j}].log_size"), s.log_size, -5.0, 5.0);
        }
    }
    match &p.market.correlation {
        None => {}
        Some(m) => check_correlation(c, m, p.gpu_classes.len()),
    }
    classes
}

/// Operators (annual default hazard); returns their ids.
fn check_operators<'p>(c: &mut Checker<'_>, p: &'p Portfolio) -> HashSet<&'p str> {
    let operators = unique_ids(c, "operators", p.operators.iter().map(|o| o.id.as_str()));
    for o in &p.operators {
        c.f64_in(
            format!("operators[\"{}\"].hazard", o.id),
            o.hazard,
            0.0,
            10.0,
        );
    }
    operators
}

/// Fleets: known operator and class, utilization process, contract (USD per GPU-hour, end
/// month within `horizon`), opex, purchase price and liquidation terms (USD); returns their ids.
fn check_fleets<'p>(
    c: &mut Checker<'_>,
    p: &'p Portfolio,
    horizon: u32,
    operators: &HashSet<&str>,
    classes: &HashSet<&str>,
) -> HashSet<&'p str> {
    let fleets = unique_ids(c, "fleets", p.fleets.iter().map(|f| f.id.as_str()));
    for f in &p.fleets {
        let at = format!("fleets[\"{}\"]", f.id);
        if !operators.contains(f.operator_id.as_str()) {
            c.push(
                format!("{at}.operator_id"),
                format!("{:?}", f.operator_id),
                "unknown operator id",
            );
        }
        if !classes.contains(f.class_id.as_str()) {
            c.push(
                format!("{at}.class_id"),
                format!("{:?}", f.class_id),
                "unknown gpu class id",
            );
        }
        if f.gpus == 0 || f.gpus > 10_000_000 {
            c.push(format!("{at}.gpus"), f.gpus, "must be in [1, 10000000]");
        }
        c.f64_open(format!("{at}.utilization0"), f.utilization0, 0.0, 1.0);
        c.f64_open(
            format!("{at}.utilization_mean"),
            f.utilization_mean,
            0.0,
            1.0,
        );
        c.f64_in(
            format!("{at}.utilization_kappa"),
            f.utilization_kappa,
            0.0,
            100.0,
        );
        c.f64_in(
            format!("{at}.utilization_sigma"),
            f.utilization_sigma,
            0.0,
            10.0,
        );
        c.f64_in(
            format!("{at}.utilization_price_loading"),
            f.utilization_price_loading,
            0.0,
            1.0,
        );
        c.dec_in(
            format!("{at}.contracted_share"),
            f.contracted_share,
            Decimal::ZERO,
            Decimal::ONE,
        );
        c.dec_in(
            format!("{at}.contract_rate_per_gpu_hour"),
            f.contract_rate_per_gpu_hour,
            Decimal::ZERO,
            Decimal::from(10_000),
        );
        if f.contracted_share > Decimal::ZERO && f.contract_end_month == 0 {
            c.push(
                format!("{at}.contract_end_month"),
                0,
                "must be >= 1 when contracted_share > 0",
            );
        }
        if f.contract_end_month > horizon {
            c.push(
                format!("{at}.contract_end_month"),
                f.contract_end_month,
                format!("is beyond the horizon of {horizon} months"),
            );
        }
        for (name, v) in [
            ("opex_fixed_per_gpu_hour", f.opex_fixed_per_gpu_hour),
            ("opex_variable_per_gpu_hour", f.opex_variable_per_gpu_hour),
        ] {
            c.dec_in(
                format!("{at}.{name}"),
                v,
                Decimal::ZERO,
                Decimal::from(10_000),
            );
        }
        c.positive_amount(
            format!("{at}.purchase_price_per_gpu"),
            f.purchase_price_per_gpu,
        );
        if f.age0_months > MAX_MONTHS {
            c.push(
                format!("{at}.age0_months"),
                f.age0_months,
                format!("must be at most {MAX_MONTHS}"),
            );
        }
        c.dec_in(
            format!("{at}.liquidation_haircut"),
            f.liquidation_haircut,
            Decimal::ZERO,
            Decimal::ONE,
        );
        c.non_negative_amount(format!("{at}.liquidation_cost"), f.liquidation_cost);
    }
    fleets
}

/// Deals: unique ids and each deal's terms, errors attributed to the file the deal came from
/// (`deal_sources[i]`, else the checker's file); returns the deals by id.
fn check_deals<'p>(
    c: &mut Checker<'_>,
    p: &'p Portfolio,
    deal_sources: &[String],
    fleets: &HashSet<&str>,
) -> HashMap<&'p str, &'p Deal> {
    let file = c.file;
    let mut deal_ids: HashMap<&str, &Deal> = HashMap::new();
    for (i, d) in p.deals.iter().enumerate() {
        let src = deal_sources.get(i).map(String::as_str).unwrap_or(file);
        let at = format!("deals[\"{}\"]", d.id);
        if d.id.trim().is_empty() {
            c.push_in(
                src,
                format!("deals[{i}].id"),
                "\"\"",
                "id must not be empty",
            );
        }
        if deal_ids.insert(d.id.as_str(), d).is_some() {
            c.push_in(
                src,
                format!("deals[{i}].id"),
                format!("{:?}", d.id),
                "duplicate deal id",
            );
        }
        let before = c.errors.len();
        check_deal(c, d, &at, fleets);
        for e in &mut c.errors[before..] {
            e.file = src.to_string();
        }
    }
    deal_ids
}

/// Pools: unique ids, known deals each in one pool only, fees (bps), OC trigger, tranches
/// (balances in USD, coupons, spreads in bps, equity last) and, when required, a capital
/// structure equal to the pool's collateral (USD).
fn check_pools(c: &mut Checker<'_>, p: &Portfolio, deal_ids: &HashMap<&str, &Deal>) {
    unique_ids(c, "pools", p.pools.iter().map(|q| q.id.as_str()));
    let mut owner: HashMap<&str, &str> = HashMap::new();
    for q in &p.pools {
        let at = format!("pools[\"{}\"]", q.id);
        if q.deal_ids.is_empty() {
            c.push(
                format!("{at}.deal_ids"),
                "[]",
                "a pool needs at least one deal",
            );
        }
        let mut collateral = Decimal::ZERO;
        for (j, id) in q.deal_ids.iter().enumerate() {
            match deal_ids.get(id.as_str()) {
                None => c.push(
                    format!("{at}.deal_ids[{j}]"),
                    format!("{id:?}"),
                    "unknown deal id",
                ),
                Some(d) => collateral += d.funded_amount(),
            }
            if let Some(other) = owner.insert(id.as_str(), q.id.as_str()) {
                c.push(
                    format!("{at}.deal_ids[{j}]"),
                    format!("{id:?}"),
                    format!("deal is already in pool '{other}'"),
                );
            }
        }
        c.dec_in(
            format!("{at}.senior_fee_bps"),
            q.senior_fee_bps,
            Decimal::ZERO,
            Decimal::from(1000),
        );
        c.dec_in(
            format!("{at}.oc_trigger"),
            q.oc_trigger,
            Decimal::ZERO,
            Decimal::from(10),
        );
        if q.tranches.is_empty() {
            c.push(
                format!("{at}.tranches"),
                "[]",
                "a pool needs at least one tranche (the equity)",
            );
        }
        unique_ids(
            c,
            &format!("{at}.tranches"),
            q.tranches.iter().map(|t| t.id.as_str()),
        );
        let mut total = Decimal::ZERO;
        for (j, t) in q.tranches.iter().enumerate() {
            let tat = format!("{at}.tranches[{j}]");
            c.positive_amount(format!("{tat}.balance"), t.balance);
            total += t.balance;
            let last = j + 1 == q.tranches.len();
            if t.equity != last {
                c.push(
                    format!("{tat}.equity"),
                    t.equity,
                    "the last tranche, and only the last, must be the equity tranche",
                );
            }
            if t.equity {
                if t.coupon.is_some() || t.floating_spread_bps.is_some() {
                    c.push(
                        format!("{tat}.coupon"),
                        "set",
                        "the equity tranche has no coupon",
                    );
                }
            } else {
                match (t.coupon, t.floating_spread_bps) {
                    (Some(cpn), None) => {
                        c.dec_in(format!("{tat}.coupon"), cpn, Decimal::ZERO, Decimal::ONE)
                    }
                    (None, Some(s)) => c.dec_in(
                        format!("{tat}.floating_spread_bps"),
                        s,
                        Decimal::ZERO,
                        Decimal::from(5000),
                    ),
                    _ => c.push(
                        format!("{tat}.coupon"),
                        "missing or both",
                        "a debt tranche needs exactly one of coupon or floating_spread_bps",
                    ),
                }
            }
            c.f64_in(
                format!("{tat}.discount_spread_bps"),
                t.discount_spread_bps,
                -500.0,
                10_000.0,
            );
        }
        if q.require_full_capital_structure && !q.tranches.is_empty() && total != collateral {
            c.push(
                format!("{at}.tranches[*].balance"),
                total,
                format!("tranche balances must sum to the pool's collateral (Σ deal principal/advance = {collateral})"),
            );
        }
    }
}

fn check_correlation(c: &mut Checker<'_>, m: &[Vec<f64>], n: usize) {
    if m.len() != n || m.iter().any(|r| r.len() != n) {
        c.push(
            "market.correlation",
            format!("{}x{}", m.len(), m.first().map_or(0, Vec::len)),
            format!("must be {n}x{n} (one row and column per gpu class)"),
        );
        return;
    }
    let mut ok = true;
    for i in 0..n {
        for j in 0..n {
            let v = m[i][j];
            if !v.is_finite() || !(-1.0..=1.0).contains(&v) {
                c.push(
                    format!("market.correlation[{i}][{j}]"),
                    v,
                    "must be in [-1, 1]",
                );
                ok = false;
            } else if i == j && v != 1.0 {
                c.push(
                    format!("market.correlation[{i}][{j}]"),
                    v,
                    "diagonal must be 1",
                );
                ok = false;
            } else if (v - m[j][i]).abs() > 1e-12 {
                c.push(
                    format!("market.correlation[{i}][{j}]"),
                    v,
                    format!("matrix is not symmetric: [{j}][{i}] = {}", m[j][i]),
                );
                ok = false;
            }
        }
    }
    if ok && !is_positive_definite(m) {
        c.push(
            "market.correlation",
            "matrix",
            "is not positive definite (Cholesky fails)",
        );
    }
}

fn check_loan(c: &mut Checker<'_>, l: &LoanTerms, at: &str) {
    c.positive_amount(format!("{at}.principal"), l.principal);
    if let Some(r) = l.rate {
        c.dec_in(format!("{at}.rate"), r, Decimal::ZERO, Decimal::ONE);
    }
    if let Some(f) = l.floating {
        c.dec_in(
            format!("{at}.floating.spread_bps"),
            f.spread_bps,
            Decimal::from(-500),
            Decimal::from(5000),
        );
    }
    if l.term_months == 0 || l.term_months > MAX_MONTHS {
        c.push(
            format!("{at}.term_months"),
            l.term_months,
            format!("must be in [1, {MAX_MONTHS}]"),
        );
    }
    if l.grace_months >= l.term_months && l.term_months > 0 {
        c.push(
            format!("{at}.grace_months"),
            l.grace_months,
            format!("must be shorter than term_months = {}", l.term_months),
        );
    }
    if l.dsra_months > 36 {
        c.push(
            format!("{at}.dsra_months"),
            l.dsra_months,
            "must be at most 36",
        );
    }
    c.dec_in(
        format!("{at}.cash_sweep"),
        l.cash_sweep,
        Decimal::ZERO,
        Decimal::ONE,
    );
    if l.refinance_min_collateral_ratio <= Decimal::ZERO
        || l.refinance_min_collateral_ratio > Decimal::from(10)
    {
        c.push(
            format!("{at}.refinance_min_collateral_ratio"),
            l.refinance_min_collateral_ratio,
            "must be in (0, 10]",
        );
    }
}

fn check_deal(c: &mut Checker<'_>, d: &Deal, at: &str, fleets: &HashSet<&str>) {
    if !fleets.contains(d.fleet_id.as_str()) {
        c.push(
            format!("{at}.fleet_id"),
            format!("{:?}", d.fleet_id),
            "unknown fleet id",
        );
    }
    if d.recovery_lag_months > 120 {
        c.push(
            format!("{at}.recovery_lag_months"),
            d.recovery_lag_months,
            "must be at most 120",
        );
    }
    c.dec_in(
        format!("{at}.unsecured_recovery"),
        d.unsecured_recovery,
        Decimal::ZERO,
        Decimal::ONE,
    );
    c.f64_in(
        format!("{at}.discount_spread_bps"),
        d.discount_spread_bps,
        -500.0,
        10_000.0,
    );
    match &d.terms {
        DealTerms::Loan(l) => check_loan(c, l, at),
        DealTerms::Hybrid { loan, kicker_share } => {
            check_loan(c, loan, at);
            c.dec_in(
                format!("{at}.kicker_share"),
                *kicker_share,
                Decimal::ZERO,
                Decimal::ONE,
            );
        }
        DealTerms::RevenueShare(r) => {
            c.positive_amount(format!("{at}.advance"), r.advance);
            if r.share <= Decimal::ZERO || r.share > Decimal::ONE {
                c.push(format!("{at}.share"), r.share, "must be in (0, 1]");
            }
            if r.cap_multiple <= Decimal::ZERO || r.cap_multiple > Decimal::from(100) {
                c.push(
                    format!("{at}.cap_multiple"),
                    r.cap_multiple,
                    "must be in (0, 100]",
                );
            }
            if r.term_months == 0 || r.term_months > MAX_MONTHS {
                c.push(
                    format!("{at}.term_months"),
                    r.term_months,
                    format!("must be in [1, {MAX_MONTHS}]"),
                );
            }
        }
    }
}

fn check_vault(
    c: &mut Checker<'_>,
    p: &Portfolio,
    v: &crate::portfolio::Vault,
    deals: &HashMap<&str, &Deal>,
) {
    c.id("vault.id", &v.id);
    if v.shares <= Decimal::ZERO || v.shares > Decimal::from(MAX_AMOUNT_USD) {
        c.push(
            "vault.shares",
            v.shares,
            format!("sAID supply must be in (0, {MAX_AMOUNT_USD}]"),
        );
    }
    c.non_negative_amount("vault.liquidity_buffer", v.liquidity_buffer);
    c.dec_in(
        "vault.tbill_rate",
        v.tbill_rate,
        Decimal::ZERO,
        Decimal::ONE,
    );
    for (j, id) in v.deal_ids.iter().enumerate() {
        if !deals.contains_key(id.as_str()) {
            c.push(
                format!("vault.deal_ids[{j}]"),
                format!("{id:?}"),
                "unknown deal id",
            );
        }
        if p.pools.iter().any(|q| q.deal_ids.contains(id)) {
            c.push(
                format!("vault.deal_ids[{j}]"),
                format!("{id:?}"),
                "deal is owned by a pool; hold the pool's tranches instead",
            );
        }
    }
    for (j, h) in v.holdings.iter().enumerate() {
        match p.pools.iter().find(|q| q.id == h.pool_id) {
            None => c.push(
                format!("vault.holdings[{j}].pool_id"),
                format!("{:?}", h.pool_id),
                "unknown pool id",
            ),
            Some(q) => {
                if !q.tranches.iter().any(|t| t.id == h.tranche_id) {
                    c.push(
                        format!("vault.holdings[{j}].tranche_id"),
                        format!("{:?}", h.tranche_id),
                        format!("unknown tranche id in pool '{}'", q.id),
                    );
                }
            }
        }
        if h.fraction <= Decimal::ZERO || h.fraction > Decimal::ONE {
            c.push(
                format!("vault.holdings[{j}].fraction"),
                h.fraction,
                "must be in (0, 1]",
            );
        }
    }
    c.dec_in(
        "vault.management_fee_bps",
        v.management_fee_bps,
        Decimal::ZERO,
        Decimal::from(1000),
    );
    c.dec_in(
        "vault.performance_fee",
        v.performance_fee,
        Decimal::ZERO,
        Decimal::ONE,
    );
    if v.withdrawal_cycle_days == 0 || v.withdrawal_cycle_days > 365 {
        c.push(
            "vault.withdrawal_cycle_days",
            v.withdrawal_cycle_days,
            "must be in [1, 365]",
        );
    }
    if v.request_window_days == 0 || v.request_window_days > v.withdrawal_cycle_days {
        c.push(
            "vault.request_window_days",
            v.request_window_days,
            format!(
                "must be in [1, withdrawal_cycle_days = {}]",
                v.withdrawal_cycle_days
            ),
        );
    }
    c.dec_in(
        "vault.redemption_requests",
        v.redemption_requests,
        Decimal::ZERO,
        Decimal::ONE,
    );
    let mut cycles_seen = std::collections::HashSet::new();
    for (j, r) in v.redemption_schedule.iter().enumerate() {
        if r.cycle == 0 || r.cycle > MAX_MONTHS * 31 {
            c.push(
                format!("vault.redemption_schedule[{j}].cycle"),
                r.cycle,
                "must be in [1, 18600]",
            );
        }
        if !cycles_seen.insert(r.cycle) {
            c.push(
                format!("vault.redemption_schedule[{j}].cycle"),
                r.cycle,
                "cycle listed twice",
            );
        }
        c.dec_in(
            format!("vault.redemption_schedule[{j}].fraction"),
            r.fraction,
            Decimal::ZERO,
            Decimal::ONE,
        );
    }
    if let Some(h) = v.horizon_days {
        if h == 0 || h > MAX_MONTHS * 31 {
            c.push("vault.horizon_days", h, "must be in [1, 18600]");
        }
    }
    c.f64_open("vault.confidence", v.confidence, 0.5, 1.0);
    if v.liquidation_incentive < Decimal::ZERO || v.liquidation_incentive >= Decimal::ONE {
        c.push(
            "vault.liquidation_incentive",
            v.liquidation_incentive,
            "must be in [0, 1)",
        );
    }
}

/// Largest accepted derivative notional, GPU-hours per month (1e9: about 1.4 million GPUs).
pub const MAX_NOTIONAL_GPU_HOURS_PER_MONTH: i64 = 1_000_000_000;

/// Derivatives (MODEL.md §10.1): unique ids; per kind, the fields it needs present and the
/// others absent; known class and fleet ids; the strip within 1..=`horizon` months; notional
/// (GPU-hours per month), strike (USD per GPU-hour), floor and premium (USD) in range; a finite
/// positive basis factor only with `hedges` and only on an index kind; a revenue floor hedging
/// only its own fleet; no `hedges` on a forward or future (it settles once, at `end_month`:
/// a fleet is hedged with a monthly swap strip). A refused field is shown with its value.
fn check_derivatives(
    c: &mut Checker<'_>,
    p: &Portfolio,
    horizon: u32,
    classes: &HashSet<&str>,
    fleets: &HashSet<&str>,
) {
    let mut seen = HashSet::new();
    for (i, d) in p.derivatives.iter().enumerate() {
        let at = format!("derivatives[{i}]");
        c.id(format!("{at}.id"), &d.id);
        if !seen.insert(d.id.as_str()) {
            c.push(
                format!("{at}.id"),
                format!("{:?}", d.id),
                "duplicate derivative id",
            );
        }
        check_derivative(c, d, &at, horizon, classes, fleets);
    }
}

fn check_derivative(
    c: &mut Checker<'_>,
    d: &Derivative,
    at: &str,
    horizon: u32,
    classes: &HashSet<&str>,
    fleets: &HashSet<&str>,
) {
    let kind = d.kind.name();
    // `given`: the field's value as written (None when absent), shown when it is refused.
    let need = |c: &mut Checker<'_>, given: Option<String>, field: &str, needed: bool| match given {
        None if needed => c.push(
            format!("{at}.{field}"),
            "(missing)",
            format!("is required for kind = \"{kind}\""),
        ),
        Some(v) if !needed => c.push(
            format!("{at}.{field}"),
            v,
            format!("does not apply to kind = \"{kind}\""),
        ),
        _ => {}
    };
    let index = d.kind.is_index();
    let quoted = |s: &Option<String>| s.as_ref().map(|s| format!("{s:?}"));
    need(c, quoted(&d.class_id), "class_id", index);
    need(
        c,
        d.fixing.map(|f| {
            match f {
                Fixing::Average => "\"average\"",
                Fixing::MonthEnd => "\"month_end\"",
            }
            .to_string()
        }),
        "fixing",
        index,
    );
    need(
        c,
        d.notional_gpu_hours_per_month.map(|n| n.to_string()),
        "notional_gpu_hours_per_month",
        index,
    );
    need(
        c,
        d.strike_per_gpu_hour.map(|k| k.to_string()),
        "strike_per_gpu_hour",
        index,
    );
    need(c, quoted(&d.fleet_id), "fleet_id", !index);
    need(
        c,
        d.floor_usd_per_month.map(|r| r.to_string()),
        "floor_usd_per_month",
        !index,
    );
    // A basis factor scales an index fixing; a revenue floor has none.
    if !index {
        need(
            c,
            d.basis_factor.map(|b| b.to_string()),
            "basis_factor",
            false,
        );
    }

    if let Some(class) = &d.class_id {
        if !classes.contains(class.as_str()) {
            c.push(
                format!("{at}.class_id"),
                format!("{class:?}"),
                "unknown GPU class id",
            );
        }
    }
    if let Some(fleet) = &d.fleet_id {
        if !fleets.contains(fleet.as_str()) {
            c.push(
                format!("{at}.fleet_id"),
                format!("{fleet:?}"),
                "unknown fleet id",
            );
        }
    }
    if let Some(n) = d.notional_gpu_hours_per_month {
        if n <= Decimal::ZERO || n > Decimal::from(MAX_NOTIONAL_GPU_HOURS_PER_MONTH) {
            c.push(
                format!("{at}.notional_gpu_hours_per_month"),
                n,
                format!(
                    "must be > 0 and at most {MAX_NOTIONAL_GPU_HOURS_PER_MONTH} GPU-hours per month"
                ),
            );
        }
    }
    if let Some(k) = d.strike_per_gpu_hour {
        c.dec_in(
            format!("{at}.strike_per_gpu_hour"),
            k,
            Decimal::ZERO,
            Decimal::from(10_000),
        );
    }
    if let Some(r) = d.floor_usd_per_month {
        c.positive_amount(format!("{at}.floor_usd_per_month"), r);
    }
    c.non_negative_amount(format!("{at}.premium_usd"), d.premium_usd);
    c.f64_in(
        format!("{at}.discount_spread_bps"),
        d.discount_spread_bps,
        -1000.0,
        10_000.0,
    );
    if d.start_month == 0 || d.start_month > horizon {
        c.push(
            format!("{at}.start_month"),
            d.start_month,
            format!("must be in [1, {horizon}] (the horizon in months)"),
        );
    }
    if d.end_month < d.start_month {
        c.push(
            format!("{at}.end_month"),
            d.end_month,
            format!("must be >= start_month = {}", d.start_month),
        );
    } else if d.end_month > horizon {
        c.push(
            format!("{at}.end_month"),
            d.end_month,
            format!(
                "is past the horizon of {horizon} months (a derivative does not extend it: \
                 set portfolio.horizon_months)"
            ),
        );
    }
    if let Some(h) = &d.hedges {
        if matches!(d.kind, DerivativeKind::Forward | DerivativeKind::Future) {
            c.push(
                format!("{at}.hedges"),
                format!("{h:?}"),
                format!(
                    "a {kind} settles once, at end_month, and cannot hedge a fleet's monthly \
                     NOI: hedge with a swap strip (kind = \"swap\", settled monthly)"
                ),
            );
        }
        if !fleets.contains(h.as_str()) {
            c.push(format!("{at}.hedges"), format!("{h:?}"), "unknown fleet id");
        }
        if !index && d.fleet_id.as_deref().is_some_and(|f| f != h) {
            c.push(
                format!("{at}.hedges"),
                format!("{h:?}"),
                "a revenue floor may hedge only its own fleet_id",
            );
        }
    }
    if let Some(b) = d.basis_factor.filter(|_| index) {
        if d.hedges.is_none() {
            c.push(
                format!("{at}.basis_factor"),
                b,
                "applies only to a hedge (give `hedges`)",
            );
        }
        c.f64_open(format!("{at}.basis_factor"), b, 0.0, 10.0);
    }
}

/// Random-number stream ids are hashes of entity ids; two entities of the stochastic model
/// whose ids hash alike would share draws, so such a portfolio is rejected with both names.
fn check_stream_ids(c: &mut Checker<'_>, p: &Portfolio) {
    let mut seen: HashMap<u32, String> = HashMap::new();
    let entities = p
        .gpu_classes
        .iter()
        .map(|g| format!("class:{}", g.id))
        .chain(p.fleets.iter().map(|f| format!("fleet:{}", f.id)))
        .chain(p.operators.iter().map(|o| format!("operator:{}", o.id)))
        .chain(std::iter::once(
            crate::stream::SYSTEMATIC_FACTOR.to_string(),
        ));
    for name in entities {
        let h = stream_id(&name);
        if let Some(other) = seen.insert(h, name.clone()) {
            if other != name {
                c.push(
                    "ids",
                    format!("{other:?} and {name:?}"),
                    format!("random stream ids collide (FNV-1a 0x{h:08x}); rename one"),
                );
            }
        }
    }
}
