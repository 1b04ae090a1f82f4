//! Optional per-path output: [`PathRows`] (one chunk of paths, column by column) and the
//! [`PathSink`] that receives them in path order.
//!
//! A default run ([`crate::Backend::run`]) records nothing per path and allocates nothing per
//! path. [`crate::Backend::simulate`] with a sink additionally fills one [`PathRows`] per chunk
//! (the unit of parallel work), hands the chunks to the sink in path order as each batch of
//! chunks completes, and drops them: memory is bounded by the chunks in flight, never by the
//! number of paths. The values are exactly those recorded into [`crate::PathStats`] (before its
//! fixed-point truncation), and the statistics of a run are bit-identical with or without a sink.

use crate::plan::SimPlan;

/// Per-path values of a contiguous range of paths, as columns (index `i` is path
/// `path[i]`). All fractions are of the instrument's notional (funded amount for deals,
/// original balance for tranches), the same per-path values that feed [`crate::PathStats`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PathRows {
    /// Path index (the Philox counter word of the path).
    pub path: Vec<u64>,
    /// Σ deal losses / Σ funded amounts (0 when nothing is funded).
    pub portfolio_loss_frac: Vec<f64>,
    /// Number of deals that defaulted (payment or credit default) within the horizon.
    pub defaults: Vec<u32>,
    /// Per tranche (pools in file order, tranches in pool order, as
    /// [`SimPlan::tranche_ids`] flattened), per path: loss as a fraction of the original
    /// balance (write-downs; for the equity tranche also the shortfall of cash received).
    pub tranche_loss_frac: Vec<Vec<f64>>,
    /// Per tranche, per path: PV of the cash received (discounted at the tranche's spread) as a
    /// fraction of the original balance.
    pub tranche_pv_frac: Vec<Vec<f64>>,
    /// Per deal (file order), per path: loss as a fraction of the funded amount.
    pub deal_loss_frac: Vec<Vec<f64>>,
    /// Per deal, per path: PV of the cash received as a fraction of the funded amount.
    pub deal_pv_frac: Vec<Vec<f64>>,
    /// Per deal, per path: month (1-based) of the deal's first default, 0 when none.
    pub deal_default_month: Vec<Vec<u32>>,
    /// Per derivative (file order), per path: PV to its holder as a fraction of its reference
    /// amount (MODEL.md §10.5).
    pub derivative_pv_frac: Vec<Vec<f64>>,
    /// The vault's columns (None when the portfolio has no vault).
    pub vault: Option<VaultRows>,
}

/// Per-path vault values of a [`PathRows`] chunk.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct VaultRows {
    /// NAV per share of staking holders at the vault's horizon month, USD per share.
    pub nav_per_share_staking_usd: Vec<f64>,
    /// NAV per share of holders in the unstaking queue at the horizon, USD per share.
    pub nav_per_share_unstaking_usd: Vec<f64>,
    /// Largest queued (unstaking) shares over the path / initial shares (the value in
    /// [`crate::VaultStats::max_queue_fraction`]).
    pub max_queue_fraction: Vec<f64>,
}

impl PathRows {
    /// Empty columns shaped for `plan`, with room for `capacity` paths.
    pub fn with_capacity(plan: &SimPlan, capacity: usize) -> Self {
        fn col<T>(capacity: usize) -> Vec<T> {
            Vec::with_capacity(capacity)
        }
        let n_tr: usize = plan.tranche_ids.iter().map(Vec::len).sum();
        let nd = plan.n_deals();
        PathRows {
            path: col(capacity),
            portfolio_loss_frac: col(capacity),
            defaults: col(capacity),
            tranche_loss_frac: (0..n_tr).map(|_| col(capacity)).collect(),
            tranche_pv_frac: (0..n_tr).map(|_| col(capacity)).collect(),
            deal_loss_frac: (0..nd).map(|_| col(capacity)).collect(),
            deal_pv_frac: (0..nd).map(|_| col(capacity)).collect(),
            deal_default_month: (0..nd).map(|_| col(capacity)).collect(),
            derivative_pv_frac: (0..plan.n_derivatives()).map(|_| col(capacity)).collect(),
            vault: plan.vault.as_ref().map(|_| VaultRows {
                nav_per_share_staking_usd: col(capacity),
                nav_per_share_unstaking_usd: col(capacity),
                max_queue_fraction: col(capacity),
            }),
        }
    }

    /// Empty columns shaped for `plan`.
    pub fn new(plan: &SimPlan) -> Self {
        Self::with_capacity(plan, 0)
    }

    /// Number of paths (rows).
    pub fn len(&self) -> usize {
        self.path.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.path.is_empty()
    }

    /// Removes all rows, keeping the columns' capacity.
    pub fn clear(&mut self) {
        self.path.clear();
        self.portfolio_loss_frac.clear();
        self.defaults.clear();
        for c in self
            .tranche_loss_frac
            .iter_mut()
            .chain(&mut self.tranche_pv_frac)
            .chain(&mut self.deal_loss_frac)
            .chain(&mut self.deal_pv_frac)
            .chain(&mut self.derivative_pv_frac)
        {
            c.clear();
        }
        for c in &mut self.deal_default_month {
            c.clear();
        }
        if let Some(v) = &mut self.vault {
            v.nav_per_share_staking_usd.clear();
            v.nav_per_share_unstaking_usd.clear();
            v.max_queue_fraction.clear();
        }
    }

    /// Appends the rows of `o` (same plan) after these.
    pub fn append(&mut self, o: &PathRows) {
        fn ext<T: Copy>(a: &mut [Vec<T>], b: &[Vec<T>]) {
            debug_assert_eq!(a.len(), b.len());
            for (a, b) in a.iter_mut().zip(b) {
                a.extend_from_slice(b);
            }
        }
        self.path.extend_from_slice(&o.path);
        self.portfolio_loss_frac
            .extend_from_slice(&o.portfolio_loss_frac);
        self.defaults.extend_from_slice(&o.defaults);
        ext(&mut self.tranche_loss_frac, &o.tranche_loss_frac);
        ext(&mut self.tranche_pv_frac, &o.tranche_pv_frac);
        ext(&mut self.deal_loss_frac, &o.deal_loss_frac);
        ext(&mut self.deal_pv_frac, &o.deal_pv_frac);
        ext(&mut self.deal_default_month, &o.deal_default_month);
        ext(&mut self.derivative_pv_frac, &o.derivative_pv_frac);
        if let (Some(a), Some(b)) = (&mut self.vault, &o.vault) {
            a.nav_per_share_staking_usd
                .extend_from_slice(&b.nav_per_share_staking_usd);
            a.nav_per_share_unstaking_usd
                .extend_from_slice(&b.nav_per_share_unstaking_usd);
            a.max_queue_fraction
                .extend_from_slice(&b.max_queue_fraction);
        }
    }
}

/// The kind of one per-path column (how a columnar writer stores it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    /// Unsigned 64-bit integer, never null.
    U64,
    /// Unsigned 32-bit integer, never null.
    U32,
    /// A month (unsigned 32-bit) or null: 0 in memory means "none" and is written as null.
    MonthOrNull,
    /// 64-bit float, never null.
    F64,
}

impl PathRows {
    /// Column names and kinds for `plan`, in order (the README's `--paths-out` columns):
    /// `path`, `portfolio_loss_frac`, `defaults`, then `tranche/<pool>/<tranche>/{loss_frac,
    /// pv_frac}`, `deal/<id>/{loss_frac, pv_frac, default_month}` and, with a vault,
    /// `vault/{nav_per_share_staking_usd, nav_per_share_unstaking_usd, max_queue_fraction}`,
    /// then `derivative/<id>/pv_frac` per derivative.
    pub fn columns(plan: &SimPlan) -> Vec<(String, ColumnKind)> {
        let mut c = vec![
            ("path".to_string(), ColumnKind::U64),
            ("portfolio_loss_frac".to_string(), ColumnKind::F64),
            ("defaults".to_string(), ColumnKind::U32),
        ];
        for id in plan.tranche_ids.iter().flatten() {
            c.push((format!("tranche/{id}/loss_frac"), ColumnKind::F64));
            c.push((format!("tranche/{id}/pv_frac"), ColumnKind::F64));
        }
        for id in &plan.deal_ids {
            c.push((format!("deal/{id}/loss_frac"), ColumnKind::F64));
            c.push((format!("deal/{id}/pv_frac"), ColumnKind::F64));
            c.push((format!("deal/{id}/default_month"), ColumnKind::MonthOrNull));
        }
        if plan.vault.is_some() {
            for n in [
                "nav_per_share_staking_usd",
                "nav_per_share_unstaking_usd",
                "max_queue_fraction",
            ] {
                c.push((format!("vault/{n}"), ColumnKind::F64));
            }
        }
        for id in &plan.derivatives.ids {
            c.push((format!("derivative/{id}/pv_frac"), ColumnKind::F64));
        }
        c
    }

    /// The columns' data, in the order of [`PathRows::columns`].
    pub fn column_data(&self) -> Vec<ColumnData<'_>> {
        let r = self;
        let mut d = vec![
            ColumnData::U64(&r.path),
            ColumnData::F64(&r.portfolio_loss_frac),
            ColumnData::U32(&r.defaults),
        ];
        for (l, p) in r.tranche_loss_frac.iter().zip(&r.tranche_pv_frac) {
            d.push(ColumnData::F64(l));
            d.push(ColumnData::F64(p));
        }
        for i in 0..r.deal_loss_frac.len() {
            d.push(ColumnData::F64(&r.deal_loss_frac[i]));
            d.push(ColumnData::F64(&r.deal_pv_frac[i]));
            d.push(ColumnData::MonthOrNull(&r.deal_default_month[i]));
        }
        if let Some(v) = &r.vault {
            d.push(ColumnData::F64(&v.nav_per_share_staking_usd));
            d.push(ColumnData::F64(&v.nav_per_share_unstaking_usd));
            d.push(ColumnData::F64(&v.max_queue_fraction));
        }
        for col in &r.derivative_pv_frac {
            d.push(ColumnData::F64(col));
        }
        d
    }
}

/// One column's data in a [`PathRows`] (see [`PathRows::column_data`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ColumnData<'a> {
    /// A [`ColumnKind::U64`] column.
    U64(&'a [u64]),
    /// A [`ColumnKind::U32`] column.
    U32(&'a [u32]),
    /// A [`ColumnKind::MonthOrNull`] column (0 = null).
    MonthOrNull(&'a [u32]),
    /// A [`ColumnKind::F64`] column.
    F64(&'a [f64]),
}

/// The error a [`PathSink`] returns (any error; the backend wraps it in
/// [`crate::SimError::Sink`]).
pub type SinkError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Receives per-path rows from [`crate::Backend::simulate`] (its [`crate::Simulation::sink`]).
///
/// Calls come from the thread that called `simulate`, in path order: each call's rows
/// start at the path after the previous call's last one, and together they cover the run's
/// path range exactly (unless the run stops early on cancellation or an error). The sink must
/// copy what it keeps; the rows are dropped after the call.
pub trait PathSink {
    /// Takes the next rows. An error stops the run (`SimError::Sink`).
    fn accept(&mut self, rows: &PathRows) -> Result<(), SinkError>;
}

/// Collects every row in memory (tests and small runs only: memory grows with paths).
impl PathSink for PathRows {
    fn accept(&mut self, rows: &PathRows) -> Result<(), SinkError> {
        if self.tranche_loss_frac.len() != rows.tranche_loss_frac.len()
            || self.deal_loss_frac.len() != rows.deal_loss_frac.len()
            || self.derivative_pv_frac.len() != rows.derivative_pv_frac.len()
            || self.vault.is_some() != rows.vault.is_some()
        {
            return Err("PathRows sink shaped for another plan".into());
        }
        self.append(rows);
        Ok(())
    }
}
