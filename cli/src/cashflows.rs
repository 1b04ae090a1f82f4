//! `gaib cashflows FILE [--deal ID | --pool ID] [--format table|csv|json]`: the deterministic
//! base case (engine, Decimal).

use crate::CliError;
use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, CellAlignment, Table};
use gaib_engine::{base_case, BaseCase, Decimal, DefaultKind, Portfolio};
use std::path::PathBuf;

/// Output format of tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum OutputFormat {
    /// A table for people.
    Table,
    /// CSV with a header row.
    Csv,
    /// A JSON array of objects.
    Json,
}

/// Arguments of `gaib cashflows`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Portfolio file (TOML or JSON).
    file: PathBuf,
    /// Monthly schedule of one deal.
    #[arg(long, conflicts_with = "pool")]
    deal: Option<String>,
    /// Monthly waterfall of one pool.
    #[arg(long)]
    pool: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: OutputFormat,
}

/// A rectangular result: a header and rows of cells (numbers already formatted).
pub(crate) struct Grid {
    /// Title printed above a table.
    pub(crate) title: String,
    /// Column names.
    pub(crate) headers: Vec<String>,
    /// Rows.
    pub(crate) rows: Vec<Vec<String>>,
}

impl Grid {
    fn new(title: impl Into<String>, headers: &[&str]) -> Self {
        Grid {
            title: title.into(),
            headers: headers.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    /// Renders in the requested format.
    pub(crate) fn render(&self, format: OutputFormat) -> String {
        match format {
            OutputFormat::Table => {
                let mut t = Table::new();
                t.load_style(UTF8_FULL_CONDENSED).set_header(&self.headers);
                for r in &self.rows {
                    t.add_row(r.iter().enumerate().map(|(i, c)| {
                        let cell = Cell::new(c);
                        if i > 0 && looks_numeric(c) {
                            cell.set_alignment(CellAlignment::Right)
                        } else {
                            cell
                        }
                    }));
                }
                format!("{}\n{t}\n", self.title)
            }
            OutputFormat::Csv => {
                let mut w = csv_line(&self.headers);
                for r in &self.rows {
                    w.push_str(&csv_line(r));
                }
                w
            }
            OutputFormat::Json => {
                let rows: Vec<OrderedRow<'_>> = self
                    .rows
                    .iter()
                    .map(|r| OrderedRow {
                        headers: &self.headers,
                        cells: r,
                    })
                    .collect();
                let mut s = serde_json::to_string_pretty(&rows).unwrap_or_default();
                s.push('\n');
                s
            }
        }
    }
}

/// One row serialised as a JSON object with keys in column order.
struct OrderedRow<'a> {
    headers: &'a [String],
    cells: &'a [String],
}

impl serde::Serialize for OrderedRow<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.headers.len()))?;
        for (h, c) in self.headers.iter().zip(self.cells) {
            m.serialize_entry(h, &json_cell(c))?;
        }
        m.end()
    }
}

/// A cell as JSON: integer, number, boolean or string.
fn json_cell(c: &str) -> serde_json::Value {
    if let Ok(i) = c.parse::<i64>() {
        return serde_json::Value::from(i);
    }
    if let Some(n) = c
        .parse::<f64>()
        .ok()
        .filter(|x| x.is_finite())
        .and_then(serde_json::Number::from_f64)
    {
        return serde_json::Value::Number(n);
    }
    match c {
        "true" => serde_json::Value::Bool(true),
        "false" => serde_json::Value::Bool(false),
        _ => serde_json::Value::String(c.to_string()),
    }
}

fn looks_numeric(s: &str) -> bool {
    s.parse::<f64>().is_ok()
}

fn csv_line(cells: &[String]) -> String {
    let mut s = cells
        .iter()
        .map(|c| {
            if c.contains([',', '"', '\n']) {
                format!("\"{}\"", c.replace('"', "\"\""))
            } else {
                c.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(",");
    s.push('\n');
    s
}

fn usd(x: Decimal) -> String {
    format!("{:.2}", x.round_dp(2))
}

fn years(x: f64) -> String {
    format!("{x:.3}")
}

fn default_name(k: DefaultKind) -> &'static str {
    match k {
        DefaultKind::Payment => "payment",
        DefaultKind::Refinancing => "refinancing",
        DefaultKind::Credit => "credit",
    }
}

/// Runs the command.
pub(crate) fn run(a: Args) -> anyhow::Result<()> {
    let loaded = crate::input::load(&a.file)?;
    let p = &loaded.portfolio;
    let bc = base_case(p)?;
    let grids = if let Some(id) = &a.deal {
        let d = p.deal_index(id).ok_or_else(|| {
            CliError::invalid(format!(
                "--deal: unknown deal id '{id}' in {}",
                a.file.display()
            ))
        })?;
        vec![deal_grid(p, &bc, d)]
    } else if let Some(id) = &a.pool {
        let q = p.pool_index(id).ok_or_else(|| {
            CliError::invalid(format!(
                "--pool: unknown pool id '{id}' in {}",
                a.file.display()
            ))
        })?;
        vec![pool_grid(p, &bc, q)]
    } else {
        let mut g: Vec<Grid> = (0..p.pools.len())
            .map(|q| tranche_summary(p, &bc, q))
            .collect();
        g.push(deal_summary(p, &bc));
        g
    };
    let mut out = String::new();
    for g in &grids {
        out.push_str(&g.render(a.format));
        if a.format == OutputFormat::Table {
            out.push('\n');
        }
    }
    print!("{out}");
    Ok(())
}

/// Base-case summary per tranche of pool `q`: receipts, write-downs and WAL.
pub(crate) fn tranche_summary(p: &Portfolio, bc: &BaseCase, q: usize) -> Grid {
    let pool = &p.pools[q];
    let rows = &bc.pools[q];
    let mut g = Grid::new(
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
    for (j, t) in pool.tranches.iter().enumerate() {
        let mut interest = Decimal::ZERO;
        let mut principal = Decimal::ZERO;
        let mut writedown = Decimal::ZERO;
        let mut weighted = 0.0;
        for r in rows {
            let f = &r.tranches[j];
            interest += f.interest;
            principal += f.principal;
            writedown += f.writedown;
            weighted += gaib_engine::Amount::to_f64(f.principal) * f64::from(r.month) / 12.0;
        }
        let principal_f = gaib_engine::Amount::to_f64(principal);
        let wal = if principal_f > 0.0 {
            weighted / principal_f
        } else {
            0.0
        };
        let last = rows
            .last()
            .map(|r| r.tranches[j].balance_end)
            .unwrap_or(t.balance);
        g.rows.push(vec![
            format!("{}{}", t.id, if t.equity { " (equity)" } else { "" }),
            usd(t.balance),
            usd(interest),
            usd(principal),
            usd(writedown),
            usd(interest + principal),
            years(wal),
            usd(if t.equity { Decimal::ZERO } else { last }),
        ]);
    }
    let fees: Decimal = rows.iter().map(|r| r.result.fees_paid).sum();
    let collected: Decimal = rows
        .iter()
        .map(|r| r.collections.interest_proceeds + r.collections.principal_proceeds)
        .sum();
    g.rows.push(vec![
        "senior fees".into(),
        String::new(),
        usd(fees),
        String::new(),
        String::new(),
        usd(fees),
        String::new(),
        String::new(),
    ]);
    g.rows.push(vec![
        "collections".into(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        usd(collected),
        String::new(),
        String::new(),
    ]);
    g
}

/// Base-case summary per deal. `min_dscr_fleet` is the lowest ratio of the fleet's NOI to the
/// deal's scheduled debt service before the final (balloon) month.
pub(crate) fn deal_summary(p: &Portfolio, bc: &BaseCase) -> Grid {
    let mut g = Grid::new(
        "Deals — base case",
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
                gaib_engine::Amount::to_f64(r.fleet.noi)
                    / gaib_engine::Amount::to_f64(r.flows.interest + r.flows.scheduled_principal)
            })
            .fold(f64::INFINITY, f64::min);
        g.rows.push(vec![
            d.id.clone(),
            d.kind_name().into(),
            d.fleet_id.clone(),
            usd(d.funded_amount()),
            usd(income),
            usd(principal),
            usd(loss),
            bc.defaults[i]
                .map(|(k, kind)| format!("{} @ m{k}", default_name(kind)))
                .unwrap_or_else(|| "-".into()),
            if min_dscr.is_finite() {
                format!("{min_dscr:.2}")
            } else {
                "-".into()
            },
        ]);
    }
    g
}

fn deal_grid(p: &Portfolio, bc: &BaseCase, d: usize) -> Grid {
    let deal = &p.deals[d];
    let mut g = Grid::new(
        format!(
            "Deal {} ({}) — base-case monthly schedule",
            deal.id,
            deal.kind_name()
        ),
        &[
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
        ],
    );
    for r in &bc.deals[d] {
        let f = &r.flows;
        g.rows.push(vec![
            r.month.to_string(),
            usd(r.fleet.revenue),
            usd(r.fleet.noi),
            usd(f.interest),
            usd(f.scheduled_principal),
            usd(f.prepayment),
            usd(f.refinanced),
            usd(f.rev_share_capital),
            usd(f.rev_share_income),
            usd(f.kicker),
            usd(f.recovery),
            usd(f.dsra_draw),
            usd(f.dsra_refill),
            usd(f.dsra_release),
            usd(r.dsra_end),
            usd(f.balance_end),
            usd(r.loss),
            f.default_kind.map(default_name).unwrap_or("").to_string(),
        ]);
    }
    g
}

fn pool_grid(p: &Portfolio, bc: &BaseCase, q: usize) -> Grid {
    let pool = &p.pools[q];
    let mut headers = vec![
        "month".to_string(),
        "interest_proceeds_usd".into(),
        "principal_proceeds_usd".into(),
        "performing_balance_usd".into(),
        "fees_usd".into(),
        "oc_breached".into(),
    ];
    for t in &pool.tranches {
        headers.push(format!("{}_interest_usd", t.id));
        headers.push(format!("{}_principal_usd", t.id));
        headers.push(format!("{}_balance_usd", t.id));
    }
    let mut g = Grid {
        title: format!("Pool {} — base-case waterfall", pool.id),
        headers,
        rows: Vec::new(),
    };
    for r in &bc.pools[q] {
        let mut row = vec![
            r.month.to_string(),
            usd(r.collections.interest_proceeds),
            usd(r.collections.principal_proceeds),
            usd(r.collections.performing_balance),
            usd(r.result.fees_paid),
            r.result.oc_breached.to_string(),
        ];
        for (j, t) in r.tranches.iter().enumerate() {
            row.push(usd(t.interest));
            row.push(usd(t.principal));
            row.push(usd(if pool.tranches[j].equity {
                Decimal::ZERO
            } else {
                t.balance_end
            }));
        }
        g.rows.push(row);
    }
    g
}
