//! `gaib cashflows FILE [--deal ID | --pool ID | --section NAME] [--format table|csv|json]
//! [--out DIR]`: the deterministic base case (engine, Decimal).
//!
//! Without `--deal`/`--pool` the output has several sections — `tranches-<POOL>` per pool and
//! `deals`. Each invocation prints one valid document: a table per section; one JSON object
//! whose keys are the section names; or, for CSV (one header per file), the section chosen
//! with `--section` (an error naming the sections otherwise). `--out DIR` writes one file per
//! section (`DIR/<section>.csv` or `.json`) instead of printing.

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
    /// One section of the summary: `deals` or `tranches-<POOL>` (needed for CSV on stdout).
    #[arg(long, conflicts_with_all = ["deal", "pool"])]
    section: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: OutputFormat,
    /// Write one file per section into this directory (`<section>.csv` / `.json`; with table
    /// format, `.txt`) instead of printing.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

/// A rectangular result: a header and rows of cells (numbers already formatted).
pub(crate) struct Grid {
    /// Section name (`deals`, `tranches-<POOL>`, `deal-<ID>`, `pool-<ID>`): the key in JSON and
    /// the file name with `--out`.
    pub(crate) name: String,
    /// Title printed above a table.
    pub(crate) title: String,
    /// Column names.
    pub(crate) headers: Vec<String>,
    /// Rows.
    pub(crate) rows: Vec<Vec<String>>,
}

impl Grid {
    fn new(name: String, title: impl Into<String>, headers: &[&str]) -> Self {
        Grid {
            name,
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
                let mut s = serde_json::to_string_pretty(&self.json_rows()).unwrap_or_default();
                s.push('\n');
                s
            }
        }
    }

    fn json_rows(&self) -> Vec<OrderedRow<'_>> {
        self.rows
            .iter()
            .map(|r| OrderedRow {
                headers: &self.headers,
                cells: r,
            })
            .collect()
    }
}

/// Several sections as one JSON object, keys in section order.
struct Sections<'a>(&'a [Grid]);

impl serde::Serialize for Sections<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for g in self.0 {
            m.serialize_entry(&g.name, &g.json_rows())?;
        }
        m.end()
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
        match &a.section {
            None => g,
            Some(name) => {
                let names: Vec<String> = g.iter().map(|x| x.name.clone()).collect();
                let one = g.into_iter().find(|x| &x.name == name).ok_or_else(|| {
                    CliError::invalid(format!(
                        "--section: unknown section '{name}' (sections: {})",
                        names.join(", ")
                    ))
                })?;
                vec![one]
            }
        }
    };
    if let Some(dir) = &a.out {
        return write_sections(dir, &grids, a.format);
    }
    print!("{}", render_document(&grids, a.format)?);
    Ok(())
}

/// One document for stdout: tables one after the other; one JSON array (one section) or
/// object (several); CSV of exactly one section.
fn render_document(grids: &[Grid], format: OutputFormat) -> anyhow::Result<String> {
    match (format, grids) {
        (_, [one]) => Ok(one.render(format)),
        (OutputFormat::Table, _) => Ok(grids.iter().map(|g| g.render(format) + "\n").collect()),
        (OutputFormat::Json, _) => {
            let mut s = serde_json::to_string_pretty(&Sections(grids))?;
            s.push('\n');
            Ok(s)
        }
        (OutputFormat::Csv, _) => Err(CliError::invalid(format!(
            "--format csv prints one table: choose one with --section ({}), or write every \
             section with --out DIR",
            grids
                .iter()
                .map(|g| g.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// Writes `DIR/<section>.<ext>` per section (DIR is created if missing).
fn write_sections(
    dir: &std::path::Path,
    grids: &[Grid],
    format: OutputFormat,
) -> anyhow::Result<()> {
    let ext = match format {
        OutputFormat::Table => "txt",
        OutputFormat::Csv => "csv",
        OutputFormat::Json => "json",
    };
    std::fs::create_dir_all(dir)
        .map_err(|e| CliError::invalid(format!("--out {}: cannot create: {e}", dir.display())))?;
    for g in grids {
        let path = dir.join(format!("{}.{ext}", g.name));
        gaib_runs::write_atomic(&path, g.render(format).as_bytes())?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

/// Base-case summary per tranche of pool `q`: receipts, write-downs and WAL.
pub(crate) fn tranche_summary(p: &Portfolio, bc: &BaseCase, q: usize) -> Grid {
    let pool = &p.pools[q];
    let rows = &bc.pools[q];
    let mut g = Grid::new(
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
        "deals".into(),
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
        format!("deal-{}", deal.id),
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
        name: format!("pool-{}", pool.id),
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
