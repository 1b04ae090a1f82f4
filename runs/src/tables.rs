//! The base case's cash-flow tables (`gaib cashflows`, Python's `gaib.cashflows`): one set of
//! columns and typed cells built here from the engine's deterministic [`BaseCase`], so the
//! fronts only print them (the CLI: comfy-table, CSV, JSON) or convert them (Python: Arrow).
//!
//! Amounts are USD, rounded to cents ([`Cell::Usd`]); column names carry their unit (`_usd`,
//! `_years`). The tables:
//!
//! - [`tranche_summary`]: per tranche of a pool, receipts, write-downs, WAL and final balance,
//!   then the senior fees and the pool's collections;
//! - [`deal_summary`]: per deal, funded amount, receipts, loss, default and minimum DSCR;
//! - [`deal_schedule`] / [`deal_schedules`]: a deal's (every deal's) monthly schedule;
//! - [`pool_waterfall`]: a pool's monthly waterfall, four columns per tranche (interest,
//!   principal, write-down, balance).
//!
//! And a Monte Carlo run's derivative tables (MODEL.md §10), from its typed results, in the
//! same columns-and-cells form: [`derivative_table`] (E\[PV\] ± se, closed form, delta, vega),
//! [`hedge_table`] (with and without the hedges) and [`stress_derivative_table`].

use crate::derivatives::{HedgeComparison, WithWithout};
use crate::results::{Results, StressResults};
use gaib_engine::{Amount, BaseCase, Decimal, DefaultKind, Portfolio};

/// One cell of a cash-flow table, typed.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Nothing (a summary row's column that does not apply; no default event).
    Empty,
    /// An integer (a month, 1-based).
    Int(i64),
    /// An amount in USD, rounded to cents (half to even).
    Usd(Decimal),
    /// A number shown with `decimals` decimals (a WAL in years, a DSCR).
    Number {
        /// The value.
        value: f64,
        /// Decimals shown.
        decimals: usize,
    },
    /// Text (an id, a kind, a default event).
    Text(String),
    /// A flag (the OC test breached).
    Bool(bool),
}

impl Cell {
    /// An amount in USD, rounded to cents.
    fn usd(x: Decimal) -> Self {
        Cell::Usd(x.round_dp(2))
    }

    /// The cell as printed in tables and CSV: cents for USD, `decimals` for a number, `true` /
    /// `false`, and an empty string for [`Cell::Empty`].
    pub fn text(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Int(i) => i.to_string(),
            Cell::Usd(x) => format!("{x:.2}"),
            Cell::Number { value, decimals } => format!("{value:.decimals$}"),
            Cell::Text(s) => s.clone(),
            Cell::Bool(b) => b.to_string(),
        }
    }

    /// The cell as a float, for a number or amount: a USD amount's cents as `f64`, a number as
    /// shown (rounded to its decimals); None for text, flags and empty cells.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Cell::Int(i) => Some(*i as f64),
            Cell::Usd(x) => Some(Amount::to_f64(*x)),
            Cell::Number { .. } => self.text().parse().ok(),
            Cell::Empty | Cell::Text(_) | Cell::Bool(_) => None,
        }
    }
}

/// A cash-flow table: named columns and rows of typed cells.
#[derive(Debug, Clone, PartialEq)]
pub struct CashflowTable {
    /// Section name (`deals`, `tranches-<POOL>`, `deal-<ID>`, `deals-monthly`, `pool-<ID>`):
    /// a key in JSON output and a file name.
    pub name: String,
    /// A title for people.
    pub title: String,
    /// Column names (units in the names).
    pub columns: Vec<String>,
    /// Rows, each with one cell per column.
    pub rows: Vec<Vec<Cell>>,
}

impl CashflowTable {
    fn new(name: String, title: String, columns: &[&str]) -> Self {
        CashflowTable {
            name,
            title,
            columns: columns.iter().map(|c| c.to_string()).collect(),
            rows: Vec::new(),
        }
    }
}

/// A default event's name: `payment`, `refinancing` or `credit`.
pub fn default_name(k: DefaultKind) -> &'static str {
    match k {
        DefaultKind::Payment => "payment",
        DefaultKind::Refinancing => "refinancing",
        DefaultKind::Credit => "credit",
    }
}

/// Base-case summary per tranche of pool `q` (an index into `p.pools`): receipts, write-downs,
/// WAL (years, weighted by principal received) and final balance (0 for equity), then the
/// senior fees and the pool's collections.
pub fn tranche_summary(p: &Portfolio, bc: &BaseCase, q: usize) -> CashflowTable {
    let pool = &p.pools[q];
    let rows = &bc.pools[q];
    let mut t = CashflowTable::new(
        format!("tranches-{}", pool.id),
        format!(
            "Pool {} — base case (no credit defaults, stochastic terms at central values), {} months",
            pool.id,
            rows.len()
        ),
        &[
            "tranche",
            "original_usd",
            "interest_usd",
            "principal_usd",
            "writedown_usd",
            "total_received_usd",
            "wal_years",
            "final_balance_usd",
        ],
    );
    for (j, tranche) in pool.tranches.iter().enumerate() {
        let mut interest = Decimal::ZERO;
        let mut principal = Decimal::ZERO;
        let mut writedown = Decimal::ZERO;
        let mut weighted = 0.0;
        for r in rows {
            let f = &r.tranches[j];
            interest += f.interest;
            principal += f.principal;
            writedown += f.writedown;
            weighted += Amount::to_f64(f.principal) * f64::from(r.month) / 12.0;
        }
        let principal_f = Amount::to_f64(principal);
        let wal = if principal_f > 0.0 {
            weighted / principal_f
        } else {
            0.0
        };
        let last = rows
            .last()
            .map(|r| r.tranches[j].balance_end)
            .unwrap_or(tranche.balance);
        let equity = if tranche.equity { " (equity)" } else { "" };
        t.rows.push(vec![
            Cell::Text(format!("{}{equity}", tranche.id)),
            Cell::usd(tranche.balance),
            Cell::usd(interest),
            Cell::usd(principal),
            Cell::usd(writedown),
            Cell::usd(interest + principal),
            Cell::Number {
                value: wal,
                decimals: 3,
            },
            Cell::usd(if tranche.equity { Decimal::ZERO } else { last }),
        ]);
    }
    let fees: Decimal = rows.iter().map(|r| r.result.fees_paid).sum();
    let collected: Decimal = rows
        .iter()
        .map(|r| r.collections.interest_proceeds + r.collections.principal_proceeds)
        .sum();
    t.rows.push(total_row("senior fees", Some(fees), fees));
    t.rows.push(total_row("collections", None, collected));
    t
}

/// A summary row of the tranche table: a label, the interest column, the total received.
fn total_row(label: &str, interest: Option<Decimal>, total: Decimal) -> Vec<Cell> {
    let mut row = vec![Cell::Empty; 8];
    row[0] = Cell::Text(label.to_string());
    row[2] = interest.map_or(Cell::Empty, Cell::usd);
    row[5] = Cell::usd(total);
    row
}

/// Base-case summary per deal. `min_dscr_fleet` is the lowest ratio of the fleet's NOI to the
/// deal's scheduled debt service before the final (balloon) month (`-` when there is none);
/// `default` is `KIND @ mMONTH` or `-`.
pub fn deal_summary(p: &Portfolio, bc: &BaseCase) -> CashflowTable {
    let mut t = CashflowTable::new(
        "deals".into(),
        "Deals — base case".into(),
        &[
            "deal",
            "kind",
            "fleet",
            "funded_usd",
            "interest_income_usd",
            "principal_usd",
            "loss_usd",
            "default",
            "min_dscr_fleet",
        ],
    );
    for (i, d) in p.deals.iter().enumerate() {
        let rows = &bc.deals[i];
        let income: Decimal = rows.iter().map(|r| r.flows.interest_proceeds()).sum();
        let principal: Decimal = rows.iter().map(|r| r.flows.principal_proceeds()).sum();
        let loss: Decimal = rows.iter().map(|r| r.loss).sum();
        let min_dscr = rows
            .iter()
            .filter(|r| {
                r.month < d.term_months()
                    && r.flows.interest + r.flows.scheduled_principal > Decimal::ZERO
                    && r.flows.default_kind.is_none()
            })
            .map(|r| {
                Amount::to_f64(r.fleet.noi)
                    / Amount::to_f64(r.flows.interest + r.flows.scheduled_principal)
            })
            .fold(f64::INFINITY, f64::min);
        t.rows.push(vec![
            Cell::Text(d.id.clone()),
            Cell::Text(d.kind_name().into()),
            Cell::Text(d.fleet_id.clone()),
            Cell::usd(d.funded_amount()),
            Cell::usd(income),
            Cell::usd(principal),
            Cell::usd(loss),
            Cell::Text(
                bc.defaults[i]
                    .map(|(k, kind)| format!("{} @ m{k}", default_name(kind)))
                    .unwrap_or_else(|| "-".into()),
            ),
            if min_dscr.is_finite() {
                Cell::Number {
                    value: min_dscr,
                    decimals: 2,
                }
            } else {
                Cell::Text("-".into())
            },
        ]);
    }
    t
}

/// The columns of a deal's monthly schedule.
const DEAL_COLUMNS: [&str; 18] = [
    "month",
    "revenue_usd",
    "noi_usd",
    "interest_usd",
    "scheduled_principal_usd",
    "prepayment_usd",
    "refinanced_usd",
    "rev_share_capital_usd",
    "rev_share_income_usd",
    "kicker_usd",
    "recovery_usd",
    "dsra_draw_usd",
    "dsra_refill_usd",
    "dsra_release_usd",
    "dsra_end_usd",
    "balance_end_usd",
    "loss_usd",
    "event",
];

/// The monthly rows of deal `d`: one per month, the cells of [`DEAL_COLUMNS`].
fn deal_rows(bc: &BaseCase, d: usize) -> impl Iterator<Item = Vec<Cell>> + '_ {
    bc.deals[d].iter().map(|r| {
        let f = &r.flows;
        vec![
            Cell::Int(i64::from(r.month)),
            Cell::usd(r.fleet.revenue),
            Cell::usd(r.fleet.noi),
            Cell::usd(f.interest),
            Cell::usd(f.scheduled_principal),
            Cell::usd(f.prepayment),
            Cell::usd(f.refinanced),
            Cell::usd(f.rev_share_capital),
            Cell::usd(f.rev_share_income),
            Cell::usd(f.kicker),
            Cell::usd(f.recovery),
            Cell::usd(f.dsra_draw),
            Cell::usd(f.dsra_refill),
            Cell::usd(f.dsra_release),
            Cell::usd(r.dsra_end),
            Cell::usd(f.balance_end),
            Cell::usd(r.loss),
            f.default_kind
                .map_or(Cell::Empty, |k| Cell::Text(default_name(k).into())),
        ]
    })
}

/// The base-case monthly schedule of deal `d` (an index into `p.deals`); `event` is the
/// default event of the month, if any.
pub fn deal_schedule(p: &Portfolio, bc: &BaseCase, d: usize) -> CashflowTable {
    let deal = &p.deals[d];
    let mut t = CashflowTable::new(
        format!("deal-{}", deal.id),
        format!(
            "Deal {} ({}) — base-case monthly schedule",
            deal.id,
            deal.kind_name()
        ),
        &DEAL_COLUMNS,
    );
    t.rows.extend(deal_rows(bc, d));
    t
}

/// Every deal's monthly schedule in one table, deal by deal in portfolio order, with the deal
/// id as the first column `deal`.
pub fn deal_schedules(p: &Portfolio, bc: &BaseCase) -> CashflowTable {
    let mut columns = vec!["deal"];
    columns.extend(DEAL_COLUMNS);
    let mut t = CashflowTable::new(
        "deals-monthly".into(),
        "Deals — base-case monthly schedules".into(),
        &columns,
    );
    for (d, deal) in p.deals.iter().enumerate() {
        t.rows.extend(deal_rows(bc, d).map(|mut row| {
            row.insert(0, Cell::Text(deal.id.clone()));
            row
        }));
    }
    t
}

/// The base-case monthly waterfall of pool `q` (an index into `p.pools`): collections, fees,
/// the OC test, then per tranche `{ID}_interest_usd`, `{ID}_principal_usd`,
/// `{ID}_writedown_usd` and `{ID}_balance_usd` (0 for equity).
pub fn pool_waterfall(p: &Portfolio, bc: &BaseCase, q: usize) -> CashflowTable {
    let pool = &p.pools[q];
    let mut t = CashflowTable::new(
        format!("pool-{}", pool.id),
        format!("Pool {} — base-case waterfall", pool.id),
        &[
            "month",
            "interest_proceeds_usd",
            "principal_proceeds_usd",
            "performing_balance_usd",
            "fees_usd",
            "oc_breached",
        ],
    );
    for tr in &pool.tranches {
        for what in ["interest", "principal", "writedown", "balance"] {
            t.columns.push(format!("{}_{what}_usd", tr.id));
        }
    }
    for r in &bc.pools[q] {
        let mut row = vec![
            Cell::Int(i64::from(r.month)),
            Cell::usd(r.collections.interest_proceeds),
            Cell::usd(r.collections.principal_proceeds),
            Cell::usd(r.collections.performing_balance),
            Cell::usd(r.result.fees_paid),
            Cell::Bool(r.result.oc_breached),
        ];
        for (j, f) in r.tranches.iter().enumerate() {
            let equity = pool.tranches[j].equity;
            row.push(Cell::usd(f.interest));
            row.push(Cell::usd(f.principal));
            row.push(Cell::usd(f.writedown));
            row.push(Cell::usd(if equity {
                Decimal::ZERO
            } else {
                f.balance_end
            }));
        }
        t.rows.push(row);
    }
    t
}

/// A number with `decimals` decimals, or an empty cell when absent or not finite.
fn number(x: Option<f64>, decimals: usize) -> Cell {
    x.filter(|v| v.is_finite())
        .map_or(Cell::Empty, |value| Cell::Number { value, decimals })
}

/// The derivatives of a run (`results.json`'s `derivatives`), one row each: kind, position,
/// underlying, the fleet it hedges, its strip, E\[PV\] ± se (USD), the closed form and the
/// z-score against it (or why there is none), the fair fixed rate, the probability the
/// holder receives, and delta and vega (USD per +1 %; with sensitivities). None without
/// derivatives.
pub fn derivative_table(r: &Results) -> Option<CashflowTable> {
    if r.derivatives.is_empty() {
        return None;
    }
    let mut t = CashflowTable::new(
        "derivatives".into(),
        format!(
            "Derivatives — E[PV] to the holder over {} paths (seed {}), closed form where one exists",
            r.paths, r.seed
        ),
        &[
            "derivative",
            "kind",
            "position",
            "underlying",
            "hedges",
            "months",
            "pv_usd",
            "pv_se_usd",
            "closed_form_usd",
            "z",
            "fair_strike_per_gpu_hour",
            "p_receives_pct",
            "delta_usd_per_index_pct",
            "vega_usd_per_sigma_pct",
        ],
    );
    for d in &r.derivatives {
        let text = |s: &str| Cell::Text(s.to_string());
        t.rows.push(vec![
            text(&d.id),
            text(d.kind.name()),
            text(match d.position {
                gaib_engine::Position::Long => "long",
                gaib_engine::Position::Short => "short",
            }),
            text(&d.underlying),
            d.hedges.as_deref().map_or(Cell::Empty, text),
            text(&format!("{}-{}", d.start_month, d.end_month)),
            number(Some(d.pv_usd.value), 2),
            number(Some(d.pv_usd.std_error), 2),
            match (&d.closed_form_pv_usd, &d.closed_form_note) {
                (Some(v), _) => number(Some(*v), 2),
                (None, Some(why)) => Cell::Text(format!("none ({why})")),
                (None, None) => Cell::Empty,
            },
            number(d.closed_form_z, 2),
            number(d.fair_strike_per_gpu_hour, 4),
            number(Some(d.p_receives_pct), 2),
            number(d.delta_usd_per_index_pct, 2),
            number(d.vega_usd_per_sigma_pct, 2),
        ]);
    }
    Some(t)
}

/// The hedge comparison of a run (`results.json`'s `hedges`) in long form: per hedged deal
/// its PD, EL and price, per tranche the same, the portfolio EL, and the vault's haircut and
/// recommended LTV — each with and without the hedges (same paths), the change, and the
/// standard errors (empty for the vault's quantile figures); on a deal's rows
/// `hedge_premium_usd`, the net premium of its hedges to their holders at t = 0 (USD, + paid),
/// which the hedged leg does not pay from the fleet (MODEL.md §10.4). None without hedges.
pub fn hedge_table(r: &Results) -> Option<CashflowTable> {
    let h: &HedgeComparison = r.hedges.as_ref()?;
    let mut t = CashflowTable::new(
        "hedges".into(),
        format!(
            "With and without hedges — the same {} paths (seed {}); change = hedged − unhedged; \
             hedge premiums are paid outside the fleet's cash, not in the hedged figures",
            r.paths, r.seed
        ),
        &[
            "instrument",
            "hedged_by",
            "metric",
            "hedged",
            "hedged_se",
            "unhedged",
            "unhedged_se",
            "change",
            "hedge_premium_usd",
        ],
    );
    let mut push = |id: &str, by: &str, premium: Option<f64>, metric: &str, w: &WithWithout| {
        t.rows.push(vec![
            Cell::Text(id.into()),
            if by.is_empty() {
                Cell::Empty
            } else {
                Cell::Text(by.into())
            },
            Cell::Text(metric.into()),
            number(Some(w.hedged.value), 4),
            number(Some(w.hedged.std_error), 4),
            number(Some(w.unhedged.value), 4),
            number(Some(w.unhedged.std_error), 4),
            number(Some(w.hedged.value - w.unhedged.value), 4),
            number(premium, 2),
        ]);
    };
    for d in &h.deals {
        let by = d.hedged_by.join(" ");
        let premium = Some(d.hedge_premium_usd.iter().sum::<f64>());
        push(&d.id, &by, premium, "pd_pct", &d.pd_pct);
        push(
            &d.id,
            &by,
            premium,
            "expected_loss_pct",
            &d.expected_loss_pct,
        );
        push(&d.id, &by, premium, "price_pct", &d.price_pct);
    }
    for tr in &h.tranches {
        push(&tr.id, "", None, "pd_pct", &tr.pd_pct);
        push(&tr.id, "", None, "expected_loss_pct", &tr.expected_loss_pct);
        push(&tr.id, "", None, "price_pct", &tr.price_pct);
    }
    push(
        "portfolio",
        "",
        None,
        "expected_loss_pct",
        &h.portfolio_expected_loss_pct,
    );
    if let Some(v) = &h.vault {
        for (metric, a, b) in [
            ("haircut_pct", v.haircut_pct, v.haircut_unhedged_pct),
            (
                "recommended_ltv_pct",
                v.recommended_ltv_pct,
                v.recommended_ltv_unhedged_pct,
            ),
        ] {
            t.rows.push(vec![
                Cell::Text(v.id.clone()),
                Cell::Empty,
                Cell::Text(metric.into()),
                number(Some(a), 4),
                Cell::Empty,
                number(Some(b), 4),
                Cell::Empty,
                number(Some(a - b), 4),
                Cell::Empty,
            ]);
        }
    }
    Some(t)
}

/// A stress run's derivatives: per derivative its base E\[PV\] and, per scenario, the E\[PV\]
/// under it and the change (USD, same paths). None without derivatives.
pub fn stress_derivative_table(s: &StressResults) -> Option<CashflowTable> {
    let first = s.scenarios.first()?;
    if first.derivatives.is_empty() {
        return None;
    }
    let mut columns = vec!["derivative".to_string(), "base_pv_usd".to_string()];
    for c in &s.scenarios {
        columns.push(format!("{}_pv_usd", c.id));
        columns.push(format!("{}_change_usd", c.id));
    }
    let mut t = CashflowTable {
        name: "derivatives".into(),
        title: format!(
            "Derivatives under each scenario — E[PV] to the holder, USD, the same {} paths",
            s.paths
        ),
        columns,
        rows: Vec::new(),
    };
    for (i, d) in first.derivatives.iter().enumerate() {
        let mut row = vec![Cell::Text(d.id.clone()), number(Some(d.base_usd), 2)];
        for c in &s.scenarios {
            let x = c.derivatives.get(i);
            row.push(number(x.map(|x| x.value_usd), 2));
            row.push(number(x.map(|x| x.change_usd), 2));
        }
        t.rows.push(row);
    }
    Some(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> (Portfolio, BaseCase) {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../data/portfolios/sample.toml"
        );
        let p = crate::PortfolioInput::from_file(std::path::Path::new(path))
            .unwrap()
            .portfolio()
            .clone();
        let bc = gaib_engine::base_case(&p).unwrap();
        (p, bc)
    }

    #[test]
    fn cells_print_and_convert() {
        let usd = Cell::usd("1234.565".parse().unwrap());
        assert_eq!(usd.text(), "1234.56"); // half to even
        assert_eq!(usd.as_f64(), Some(1234.56));
        assert_eq!(Cell::usd(Decimal::from(7)).text(), "7.00");
        let wal = Cell::Number {
            value: 2.34567,
            decimals: 3,
        };
        assert_eq!((wal.text(), wal.as_f64()), ("2.346".into(), Some(2.346)));
        assert_eq!(Cell::Int(12).text(), "12");
        assert_eq!(Cell::Bool(false).text(), "false");
        assert_eq!(
            (Cell::Empty.text(), Cell::Empty.as_f64()),
            (String::new(), None)
        );
        assert_eq!(Cell::Text("L-01".into()).as_f64(), None);
    }

    #[test]
    fn every_row_has_a_cell_per_column() {
        let (p, bc) = sample();
        let mut tables = vec![deal_summary(&p, &bc), deal_schedules(&p, &bc)];
        for q in 0..p.pools.len() {
            tables.push(tranche_summary(&p, &bc, q));
            tables.push(pool_waterfall(&p, &bc, q));
        }
        tables.push(deal_schedule(&p, &bc, 0));
        for t in &tables {
            assert!(!t.rows.is_empty(), "{}", t.name);
            for r in &t.rows {
                assert_eq!(r.len(), t.columns.len(), "{}", t.name);
            }
        }
        let months: usize = bc.deals.iter().map(Vec::len).sum();
        assert_eq!(tables[1].rows.len(), months);
        assert_eq!(tables[1].columns[..2], ["deal", "month"]);
    }

    /// The pool waterfall's write-downs per tranche add up to the tranche summary's.
    #[test]
    fn pool_writedowns_match_the_tranche_summary() {
        let (p, bc) = sample();
        let pool = &p.pools[0];
        let waterfall = pool_waterfall(&p, &bc, 0);
        let summary = tranche_summary(&p, &bc, 0);
        for (j, tr) in pool.tranches.iter().enumerate() {
            let name = format!("{}_writedown_usd", tr.id);
            let col = waterfall.columns.iter().position(|c| *c == name).unwrap();
            let total: Decimal = waterfall
                .rows
                .iter()
                .map(|r| match &r[col] {
                    Cell::Usd(x) => *x,
                    other => panic!("{name}: {other:?}"),
                })
                .sum();
            let Cell::Usd(want) = &summary.rows[j][4] else {
                panic!("writedown_usd of {}", tr.id)
            };
            assert_eq!(total, *want, "{}", tr.id);
        }
    }

    fn run_of(rel: &str, paths: u64) -> crate::RunOutput {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join(rel);
        crate::RunSpec::new(crate::PortfolioInput::from_file(&path).unwrap(), paths, 3)
            .prepare()
            .unwrap()
            .execute(&crate::RunControl::default(), None)
            .unwrap()
    }

    /// The derivative and hedge tables hold the results' numbers, rounded as shown, and are
    /// absent for a portfolio without derivatives.
    #[test]
    fn derivative_and_hedge_tables_follow_the_results() {
        let out = run_of("tests/fixtures/derivatives/small_hedged.toml", 100);
        let r = &out.results;
        let t = derivative_table(r).unwrap();
        assert_eq!(t.rows.len(), 4);
        assert!(t.rows.iter().all(|row| row.len() == t.columns.len()));
        let pv = t.columns.iter().position(|c| c == "pv_usd").unwrap();
        let want = (r.derivatives[0].pv_usd.value * 100.0).round() / 100.0;
        assert_eq!(t.rows[0][pv].as_f64(), Some(want));
        let cf = t
            .columns
            .iter()
            .position(|c| c == "closed_form_usd")
            .unwrap();
        assert_eq!(t.rows[1][cf].text(), "none (revenue floor)");
        let h = hedge_table(r).unwrap();
        // 3 hedged deals and 3 tranches × (PD, EL, price), the portfolio EL, haircut and LTV.
        assert_eq!(h.rows.len(), 3 * 3 + 3 * 3 + 1 + 2);
        for row in &h.rows {
            let (a, b, c) = (row[3].as_f64(), row[5].as_f64(), row[7].as_f64());
            assert!(
                (a.unwrap() - b.unwrap() - c.unwrap()).abs() < 2e-4,
                "{row:?}"
            );
        }
        let plain = run_of("tests/fixtures/valid/small.toml", 20);
        assert!(derivative_table(&plain.results).is_none());
        assert!(hedge_table(&plain.results).is_none());
    }
}
