//! Terminal tables of a run: the simulation summary, the pricing metrics and the
//! sensitivities; and the base case's cash-flow tables as a table, CSV or JSON (presentation
//! only; the numbers, columns and cells come from `gaib-runs`).

use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, CellAlignment, Table};
use gaib_pricing::{ImpliedSpread, McEstimate, Sensitivity, Valuation};
use gaib_runs::report::{headline, num, opt, signed};
use gaib_runs::tables::{CashflowTable, Cell as CfCell};
use gaib_simulator::PathStats;

fn pm(e: &McEstimate, d: usize) -> String {
    format!("{} ± {}", num(e.value, d), num(e.std_error, d))
}

fn right(s: String) -> Cell {
    Cell::new(s).set_alignment(CellAlignment::Right)
}

fn table(header: Vec<&str>) -> Table {
    let mut t = Table::new();
    t.load_style(UTF8_FULL_CONDENSED);
    t.set_header(header);
    t
}

/// The pricing tables for the terminal: per instrument (price, yield, WAL, duration, LGD),
/// the portfolio's VaR/ES, and the vault's haircut and LTV.
pub(crate) fn pricing_tables(v: &Valuation) -> Vec<Table> {
    let mut out = Vec::new();
    let mut t = table(vec![
        "instrument",
        "E[PV] USD",
        "price % (± se)",
        "yield %",
        "WAL y",
        "mod dur y",
        "PD %",
        "PD 1y %",
        "EL 1y %",
        "LGD %",
    ]);
    for i in v.tranches.iter().chain(&v.deals) {
        t.add_row(vec![
            Cell::new(&i.id),
            right(num(i.pv_usd.value, 0)),
            right(pm(&i.price_pct, 3)),
            right(opt(i.yield_pct, 3)),
            right(opt(i.wal_years, 2)),
            right(opt(i.modified_duration_years, 2)),
            right(num(i.pd_pct.value, 2)),
            right(num(i.pd_1y_pct.value, 2)),
            right(num(i.expected_loss_1y_pct.value, 3)),
            right(opt(i.lgd_pct.map(|l| l.value), 1)),
        ]);
    }
    out.push(t);
    let mut t = table(vec![
        "portfolio loss",
        "VaR %",
        "VaR 95% CI",
        "VaR USD",
        "ES %",
        "ES USD",
    ]);
    for r in &v.portfolio.tail {
        t.add_row(vec![
            Cell::new(format!("{} %", 100.0 * r.confidence)),
            right(num(r.var_pct, 3)),
            right(format!(
                "[{}, {}]",
                num(r.var_ci95_pct[0], 3),
                num(r.var_ci95_pct[1], 3)
            )),
            right(num(r.var_usd, 0)),
            right(num(r.es_pct, 3)),
            right(num(r.es_usd, 0)),
        ]);
    }
    t.add_row(vec![
        Cell::new("expected loss"),
        right(pm(&v.portfolio.expected_loss_pct, 3)),
        right(String::new()),
        right(num(v.portfolio.expected_loss_usd.value, 0)),
        right(String::new()),
        right(String::new()),
    ]);
    out.push(t);
    if let Some(vr) = &v.vault {
        let mut t = table(vec![
            "vault",
            "haircut %",
            "haircut 95% CI",
            "incentive %",
            "recommended LTV %",
            "P[queue > 1/2/3 cycles] %",
        ]);
        t.add_row(vec![
            Cell::new(format!(
                "{} ({:.0} % over {} days, lending horizon)",
                vr.id,
                100.0 * vr.confidence,
                vr.lending_horizon.days
            )),
            right(num(vr.haircut_pct, 3)),
            right(format!(
                "[{}, {}]",
                num(vr.haircut_ci95_pct[0], 3),
                num(vr.haircut_ci95_pct[1], 3)
            )),
            right(num(vr.liquidation_incentive_pct, 2)),
            right(num(vr.recommended_ltv_pct, 2)),
            right(
                vr.p_queue_not_cleared_pct
                    .iter()
                    .map(|e| num(e.value, 2))
                    .collect::<Vec<_>>()
                    .join(" / "),
            ),
        ]);
        out.push(t);
    }
    out
}

/// The sensitivity table: headline metrics × bumps, each cell the change (bumped − base).
pub(crate) fn sensitivity_table(base: &Valuation, s: &[Sensitivity]) -> Table {
    let mut header = vec!["metric".to_string(), "base".to_string()];
    header.extend(s.iter().map(|b| b.description.clone()));
    let mut t = Table::new();
    t.load_style(UTF8_FULL_CONDENSED);
    t.set_header(header);
    for m in gaib_pricing::metrics(base) {
        if !headline(&m.key) {
            continue;
        }
        let mut row = vec![
            Cell::new(format!("{} ({})", m.key, m.unit)),
            right(num(m.value, 3)),
        ];
        for b in s {
            let c = b.changes.iter().find(|c| c.key == m.key);
            row.push(right(c.map_or_else(|| "–".into(), |c| signed(c.change, 3))));
        }
        t.add_row(row);
    }
    t
}

/// Market prices against the model: the implied spread of each next to the model's.
pub(crate) fn implied_spread_table(spreads: &[ImpliedSpread]) -> Table {
    let mut t = Table::new();
    t.load_style(UTF8_FULL_CONDENSED);
    t.set_header([
        "instrument",
        "market price (% par)",
        "implied spread (bps)",
        "model price (% par)",
        "model spread (bps)",
    ]);
    for s in spreads {
        t.add_row(vec![
            Cell::new(&s.id),
            right(num(s.market_price_pct, 3)),
            right(num(s.implied_spread_bps, 1)),
            right(num(s.model_price_pct, 3)),
            right(num(s.model_spread_bps, 1)),
        ]);
    }
    t
}

fn pct(x: f64) -> String {
    format!("{:.3}", 100.0 * x)
}

fn pct_pm(x: f64, se: f64) -> String {
    format!("{} ± {}", pct(x), pct(se))
}

/// The summary tables: tranches, deals and the vault.
pub(crate) fn summary_tables(stats: &PathStats) -> Vec<Table> {
    let mut tables = Vec::new();
    let mut t = Table::new();
    t.load_style(UTF8_FULL_CONDENSED);
    t.set_header(vec![
        "instrument",
        "price % par",
        "EL % (± se)",
        "PD %",
        "PD 1y %",
        "P[loss>0] %",
        "loss q99 %",
    ]);
    let rows = stats.tranches.iter().flatten().chain(stats.deals.iter());
    for s in rows {
        t.add_row(vec![
            Cell::new(&s.id),
            Cell::new(pct_pm(s.pv.mean(), s.pv.std_error())).set_alignment(CellAlignment::Right),
            Cell::new(pct_pm(s.loss.mean(), s.loss.std_error()))
                .set_alignment(CellAlignment::Right),
            Cell::new(pct(s.pd())).set_alignment(CellAlignment::Right),
            Cell::new(pct(s.pd_1y())).set_alignment(CellAlignment::Right),
            Cell::new(pct(s.loss_probability())).set_alignment(CellAlignment::Right),
            Cell::new(pct(s.loss_hist.quantile(0.99))).set_alignment(CellAlignment::Right),
        ]);
    }
    tables.push(t);
    if let Some(v) = &stats.vault {
        let mut t = Table::new();
        t.load_style(UTF8_FULL_CONDENSED);
        t.set_header(vec![
            format!("vault {} (month {})", v.id, v.horizon_month),
            "mean (± se)".into(),
            "q1%".into(),
            "q5%".into(),
            "q50%".into(),
        ]);
        let nav0 = v.nav0_per_share_usd;
        for (name, m, h) in [
            ("staking NAV/share USD", &v.nav_staking, &v.nav_staking_hist),
            (
                "unstaking NAV/share USD",
                &v.nav_unstaking,
                &v.nav_unstaking_hist,
            ),
        ] {
            t.add_row(vec![
                Cell::new(name),
                Cell::new(format!(
                    "{:.6} ± {:.6}",
                    m.mean() * nav0,
                    m.std_error() * nav0
                ))
                .set_alignment(CellAlignment::Right),
                Cell::new(format!("{:.6}", h.quantile(0.01) * nav0))
                    .set_alignment(CellAlignment::Right),
                Cell::new(format!("{:.6}", h.quantile(0.05) * nav0))
                    .set_alignment(CellAlignment::Right),
                Cell::new(format!("{:.6}", h.quantile(0.50) * nav0))
                    .set_alignment(CellAlignment::Right),
            ]);
        }
        t.add_row(vec![
            Cell::new("P[queue not cleared in 1/2/3 cycles] %"),
            Cell::new(format!(
                "{} / {} / {}",
                pct(v.p_queue_not_cleared(1)),
                pct(v.p_queue_not_cleared(2)),
                pct(v.p_queue_not_cleared(3))
            ))
            .set_alignment(CellAlignment::Right),
            Cell::new(""),
            Cell::new(""),
            Cell::new(""),
        ]);
        tables.push(t);
    }
    tables
}

/// Output format of a command that prints a table or the JSON of what it computed
/// (`gaib structure`: the structure; `gaib stress` has its own, with CSV).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum TableOrJson {
    /// A table for people.
    Table,
    /// JSON.
    Json,
}

/// Output format of the cash-flow tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum OutputFormat {
    /// A table for people.
    Table,
    /// CSV with a header row.
    Csv,
    /// A JSON array of objects.
    Json,
}

/// A cash-flow table in `format`: its title and a table (numbers right-aligned), CSV with a
/// header row, or a pretty JSON array of objects with keys in column order.
pub(crate) fn render_cashflows(t: &CashflowTable, format: OutputFormat) -> String {
    match format {
        OutputFormat::Table => {
            let mut out = table(t.columns.iter().map(String::as_str).collect());
            for r in &t.rows {
                out.add_row(r.iter().enumerate().map(|(i, c)| {
                    let numeric =
                        matches!(c, CfCell::Int(_) | CfCell::Usd(_) | CfCell::Number { .. });
                    if i > 0 && numeric {
                        right(c.text())
                    } else {
                        Cell::new(c.text())
                    }
                }));
            }
            format!("{}\n{out}\n", t.title)
        }
        OutputFormat::Csv => {
            let mut w = csv_line(t.columns.iter().cloned());
            for r in &t.rows {
                w.push_str(&csv_line(r.iter().map(CfCell::text)));
            }
            w
        }
        OutputFormat::Json => {
            let mut s = serde_json::to_string_pretty(&json_rows(t)).unwrap_or_default();
            s.push('\n');
            s
        }
    }
}

/// Several cash-flow tables as one pretty JSON object, keys the section names in order.
pub(crate) fn render_sections(tables: &[CashflowTable]) -> String {
    let mut s = serde_json::to_string_pretty(&Sections(tables)).unwrap_or_default();
    s.push('\n');
    s
}

/// Several sections as one JSON object, keys in section order (a `serde_json::Map` would
/// sort them).
struct Sections<'a>(&'a [CashflowTable]);

impl serde::Serialize for Sections<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for t in self.0 {
            m.serialize_entry(&t.name, &json_rows(t))?;
        }
        m.end()
    }
}

/// The rows as JSON objects with keys in column order.
fn json_rows(t: &CashflowTable) -> Vec<OrderedRow<'_>> {
    t.rows
        .iter()
        .map(|r| OrderedRow {
            columns: &t.columns,
            cells: r,
        })
        .collect()
}

/// One row serialised as a JSON object with keys in column order.
struct OrderedRow<'a> {
    columns: &'a [String],
    cells: &'a [CfCell],
}

impl serde::Serialize for OrderedRow<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.columns.len()))?;
        for (c, cell) in self.columns.iter().zip(self.cells) {
            m.serialize_entry(c, &json_cell(cell))?;
        }
        m.end()
    }
}

/// A cell as JSON: an integer, a number (amounts in USD to the cent), a boolean or a string
/// (an empty cell is `""`, as in CSV).
fn json_cell(c: &CfCell) -> serde_json::Value {
    match c {
        CfCell::Int(i) => (*i).into(),
        CfCell::Bool(b) => (*b).into(),
        CfCell::Usd(_) | CfCell::Number { .. } => c
            .as_f64()
            .and_then(serde_json::Number::from_f64)
            .map_or_else(|| c.text().into(), serde_json::Value::Number),
        CfCell::Text(_) | CfCell::Empty => c.text().into(),
    }
}

/// One CSV line (RFC 4180 quoting), with its newline.
fn csv_line(cells: impl Iterator<Item = String>) -> String {
    let mut s = cells
        .map(|c| {
            if c.contains([',', '"', '\n']) {
                format!("\"{}\"", c.replace('"', "\"\""))
            } else {
                c
            }
        })
        .collect::<Vec<_>>()
        .join(",");
    s.push('\n');
    s
}
